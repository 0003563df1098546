/*
 * fuzz_noise.c — libFuzzer harness for the libp2p Noise core (src/p2p/noise.c, noise_hs.c).
 *
 * Input: byte 0 selects the mode, byte 1 the delivery chunk size (0 = everything at once),
 * the rest is the data.
 *   mode 0: a responder receives the data as the initiator's byte stream;
 *   mode 1: an initiator receives the data as the responder's byte stream;
 *   mode 2: the data goes straight to the handshake payload decoder.
 * Keys and identities are fixed, so a captured real exchange (the seeds in
 * fuzz/seeds/noise/) gets past the AEAD checks and into the transport phase, where the
 * harness reads plaintext (in small steps, exercising backpressure) and writes replies.
 *
 * Invariants checked: recv never consumes more than offered; the buffers stay under their
 * limits; a failure is sticky and its ERROR event carries a code and a reason string.
 */
#include "base/assert.h"
#include "crypto/ident.h"
#include "p2p/noise.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct octo_identity id_ini, id_resp;

static void key_bytes(uint8_t base, uint8_t out[32])
{
    for (unsigned i = 0; i < 32; i++)
        out[i] = (uint8_t)(base + i * 3);
}

static void setup_once(void)
{
    static int done;
    if (done)
        return;
    OCTO_ASSERT(octo_crypto_init() == 0);
    uint8_t seed[32];
    for (unsigned i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    OCTO_ASSERT(octo_identity_from_seed(&id_ini, seed) == 0);
    memset(seed, 0x5a, sizeof(seed));
    OCTO_ASSERT(octo_identity_from_seed(&id_resp, seed) == 0);
    done = 1;
}

static void drain(struct octo_noise *n)
{
    const uint8_t *p;
    size_t len;
    octo_noise_out(n, &p, &len);
    OCTO_ASSERT(len <= OCTO_NOISE_OUT_MAX);
    octo_noise_out_consume(n, len);
    struct octo_noise_event ev;
    while (octo_noise_poll(n, &ev)) {
        OCTO_ASSERT(ev.type == OCTO_NOISE_EV_HANDSHAKE_DONE || ev.type == OCTO_NOISE_EV_ERROR);
        if (ev.type == OCTO_NOISE_EV_ERROR)
            OCTO_ASSERT(ev.err < 0 && ev.reason_str != NULL);
    }
}

static void fuzz_stream(bool initiator, size_t chunk, const uint8_t *data, size_t size)
{
    uint8_t s[32], e[32];
    key_bytes(initiator ? 1 : 3, s);
    key_bytes(initiator ? 2 : 4, e);
    static const char *const muxers[] = {"/yamux/1.0.0", "/mplex/6.7.0"};
    struct octo_noise_config cfg = {
        .initiator = initiator,
        .identity = initiator ? &id_ini : &id_resp,
        .static_secret = s,
        .ephemeral_secret = e,
        .muxers = muxers,
        .muxer_count = 2,
    };
    struct octo_noise n;
    OCTO_ASSERT(octo_noise_init(&n, &cfg) == 0);
    drain(&n);
    size_t off = 0;
    unsigned stalls = 0;
    while (off < size && stalls < 2) {
        size_t len = size - off;
        if (chunk > 0 && len > chunk)
            len = chunk;
        int rc = octo_noise_recv(&n, 0, data + off, len);
        if (rc < 0) {
            OCTO_ASSERT(n.state == OCTO_NOISE_ST_FAILED);
            OCTO_ASSERT(octo_noise_recv(&n, 0, data, size) == rc);
            break;
        }
        OCTO_ASSERT((size_t)rc <= len);
        off += (size_t)rc;
        stalls = rc == 0 ? stalls + 1 : 0;
        /* read some plaintext, answer with a little */
        const uint8_t *pt;
        size_t plen;
        octo_noise_read(&n, &pt, &plen);
        OCTO_ASSERT(plen <= OCTO_NOISE_PLAIN_MAX);
        if (plen > 0) {
            size_t take = plen > 4096 ? plen / 2 : plen;
            octo_noise_read_consume(&n, take);
            if (octo_noise_established(&n))
                OCTO_ASSERT(octo_noise_write(&n, pt, take > 64 ? 64 : take) >= 0);
        }
        drain(&n);
    }
    drain(&n);
    octo_noise_deinit(&n);
}

static void fuzz_payload(const uint8_t *data, size_t size)
{
    uint8_t rs[32];
    memset(rs, 0x11, sizeof(rs));
    struct octo_noise_muxers local;
    memset(&local, 0, sizeof(local));
    memcpy(local.name[0], "/yamux/1.0.0", sizeof("/yamux/1.0.0"));
    local.count = 1;
    struct octo_noise_remote r;
    int rc = octo_noise_payload_decode(data, size, rs, &local, size % 2 == 0, &r);
    if (rc == 0 && r.has_muxer)
        OCTO_ASSERT(strcmp(r.muxer, "/yamux/1.0.0") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size < 2)
        return 0;
    unsigned mode = data[0] % 3;
    size_t chunk = data[1];
    data += 2;
    size -= 2;
    if (mode == 2)
        fuzz_payload(data, size);
    else
        fuzz_stream(mode == 1, chunk, data, size);
    return 0;
}
