/*
 * fuzz_ping.c — libFuzzer harness for the ping core: the input drives a listener (echo every
 * 32-byte block, bounded output) and a dialer (one outstanding ping; the input is the
 * remote's reply stream, so matching echoes, mismatches and extra bytes all occur). Checks
 * the recv contract: consumed <= offered, output within its bound, at most one terminal
 * failure, and no leak.
 */
#include "base/assert.h"
#include "p2p/ping.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drive(enum octo_ping_role role, const uint8_t *data, size_t size)
{
    struct octo_ping p;
    struct octo_ping_config cfg = {.role = role, .timeout_ns = 1000};
    OCTO_ASSERT(octo_ping_init(&p, &cfg) == 0);
    octo_tick now = 1;
    uint8_t payload[OCTO_PING_LEN];
    memset(payload, 0, sizeof(payload));
    size_t off = 0;
    bool dead = false;
    while (off < size && !dead) {
        size_t chunk = 1 + data[off] % 40;
        off++;
        if (chunk > size - off)
            chunk = size - off;
        if (role == OCTO_PING_DIALER && !p.outstanding && !p.event_pending && !p.failed) {
            /* the next ping's payload is the next input bytes: echoes can match */
            memcpy(payload, data + off, chunk < OCTO_PING_LEN ? chunk : OCTO_PING_LEN);
            OCTO_ASSERT(octo_ping_send(&p, now, payload) == 0);
        }
        int n = octo_ping_recv(&p, now, data + off, chunk);
        OCTO_ASSERT(n <= (int)chunk);
        if (n < 0)
            dead = true;
        else
            off += (size_t)n;
        const uint8_t *out;
        size_t out_len;
        octo_ping_out(&p, &out, &out_len);
        OCTO_ASSERT(out_len <= OCTO_PING_OUT_MAX + OCTO_PING_LEN);
        octo_ping_out_consume(&p, out_len);
        struct octo_ping_event ev;
        while (octo_ping_poll(&p, &ev))
            dead = dead || ev.type == OCTO_PING_EV_FAILED;
        now += 7;
        if (n == 0 && !dead)
            break;
    }
    if (!dead)
        OCTO_ASSERT(octo_ping_on_timer(&p, now + 100000) == 0);
    octo_ping_deinit(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drive(OCTO_PING_LISTENER, data, size);
    drive(OCTO_PING_DIALER, data, size);
    return 0;
}
