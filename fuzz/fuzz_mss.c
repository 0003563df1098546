/*
 * fuzz_mss.c — libFuzzer harness for multistream-select: the input (after a control byte) is
 * the remote's byte stream, fed to a listener and to a dialer in chunks whose size the
 * control byte picks, with the output drained now and then. Checks the recv contract: counts
 * never exceed the input, a finished negotiation consumes nothing more, exactly one terminal
 * event, and a SELECTED event names a configured protocol.
 */
#include "base/assert.h"
#include "p2p/mss.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const protocols[] = {"/noise", "/yamux/1.0.0", "/ipfs/id/1.0.0"};

static void drive(enum octo_mss_role role, size_t count, size_t chunk, bool drain,
                  const uint8_t *data, size_t size)
{
    struct octo_mss m;
    struct octo_mss_config cfg = {.role = role, .protocols = protocols, .protocols_count = count};
    OCTO_ASSERT(octo_mss_init(&m, &cfg) == 0);
    size_t off = 0;
    int events = 0;
    bool dead = false;
    while (off < size && !dead) {
        size_t c = size - off < chunk ? size - off : chunk;
        bool was_done = octo_mss_done(&m);
        int rc = octo_mss_recv(&m, 0, data + off, c);
        if (rc < 0) {
            OCTO_ASSERT(!was_done);
            OCTO_ASSERT(octo_mss_done(&m));
            dead = true;
        } else {
            OCTO_ASSERT((size_t)rc <= c);
            if (was_done)
                OCTO_ASSERT(rc == 0);
            if ((size_t)rc < c)
                OCTO_ASSERT(octo_mss_done(&m));
            off += (size_t)rc;
            if (rc == 0 && octo_mss_done(&m))
                dead = true;
        }
        struct octo_mss_event ev;
        while (octo_mss_poll(&m, &ev)) {
            events++;
            OCTO_ASSERT(ev.detail != NULL);
            if (ev.type == OCTO_MSS_EV_SELECTED) {
                OCTO_ASSERT(ev.index < count);
                OCTO_ASSERT(strcmp(ev.protocol, protocols[ev.index]) == 0);
            } else {
                OCTO_ASSERT(ev.type == OCTO_MSS_EV_FAILED);
                OCTO_ASSERT(ev.reason != OCTO_MSS_OK);
            }
        }
        const uint8_t *out;
        size_t out_len;
        octo_mss_out(&m, &out, &out_len);
        OCTO_ASSERT(out_len <= OCTO_MSS_OUT_MAX);
        if (drain && out_len > 0)
            octo_mss_out_consume(&m, out_len);
    }
    OCTO_ASSERT(events <= 1);
    OCTO_ASSERT(events == (octo_mss_done(&m) ? 1 : 0));
    octo_mss_deinit(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    static const size_t chunks[] = {1, 2, 3, 7, 16, 64, 1024, SIZE_MAX};
    size_t chunk = chunks[ctl & 7];
    size_t count = 1 + (size_t)((ctl >> 3) % 3);
    bool drain = (ctl & 0x20) != 0;
    drive(OCTO_MSS_LISTENER, count, chunk, drain, data + 1, size - 1);
    drive(OCTO_MSS_DIALER, count, chunk, drain, data + 1, size - 1);
    return 0;
}
