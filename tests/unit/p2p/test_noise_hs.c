/*
 * test_noise_hs.c — Noise_XX_25519_ChaChaPoly_SHA256 (src/p2p/noise_hs.c): the published
 * noise-c vector replayed byte for byte, CipherState limits, state-machine misuse, tampering
 * of every handshake byte, low-order keys and prologue mismatch.
 *
 * Vector source: rweather/noise-c, tests/vector/noise-c-basic.txt, entry
 * "Noise_XX_25519_ChaChaPoly_SHA256" (cacophony format). Messages alternate between the
 * parties: 1 initiator, 2 responder, 3 initiator (handshake), then transport 4 responder,
 * 5 initiator, 6 responder.
 */
#include "crypto/ident.h"
#include "p2p/noise_hs.h"
#include "test.h"

#include <sodium.h>
#include <string.h>

#define V_PROLOGUE "50726f6c6f677565313233"
#define V_INIT_STATIC "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1"
#define V_INIT_EPHEMERAL "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a"
#define V_RESP_STATIC "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893"
#define V_RESP_EPHEMERAL "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b"
#define V_HANDSHAKE_HASH "852a28d2146785c54bd8334f4e460c80d7fe4fd0cc5bc0abef2a24a3c4d44d5f"

struct vmsg {
    const char *payload;
    const char *ciphertext;
};

static const struct vmsg vmsgs[6] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d6973"
     "6573"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b6"
     "5285e08d6b68aaa3629a5a8639392490e5b94a6d8798832d5372f220f161d9c2df035528f8982ffe09be9b5c412f"
     "8a0db5d21351f20af1370d0bf8ef1a8c59a30e"},
    {"462e20412e20486179656b",
     "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a8589981dfbd651e6ff4724a781cc2"
     "aa6158c9fea0d4ec82a286427484c5b8c8123a7a6002b1de9f9775fc97"},
    {"4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df"},
    {"4a65616e2d426170746973746520536179",
     "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f"},
};

/* Decodes hex into dst (max bytes); returns the length. */
static size_t unhex(const char *hex, uint8_t *dst, size_t max)
{
    size_t len = 0;
    const uint8_t *p = octo_test_hex(hex, &len);
    if (len > max)
        return 0;
    memcpy(dst, p, len);
    return len;
}

static int vector_init(struct octo_noise_hs *ini, struct octo_noise_hs *resp)
{
    uint8_t prologue[32], is[32], ie[32], rs[32], re[32];
    size_t plen = unhex(V_PROLOGUE, prologue, sizeof(prologue));
    unhex(V_INIT_STATIC, is, 32);
    unhex(V_INIT_EPHEMERAL, ie, 32);
    unhex(V_RESP_STATIC, rs, 32);
    unhex(V_RESP_EPHEMERAL, re, 32);
    int rc = octo_noise_hs_init(ini, true, prologue, plen, is, ie);
    if (rc < 0)
        return rc;
    return octo_noise_hs_init(resp, false, prologue, plen, rs, re);
}

static void test_vector_replay(void)
{
    struct octo_noise_hs ini, resp;
    CHECK_OK(vector_init(&ini, &resp));
    uint8_t msg[512], pt[512], payload[128];
    for (unsigned i = 0; i < 3; i++) {
        struct octo_noise_hs *w = (i % 2 == 0) ? &ini : &resp;
        struct octo_noise_hs *r = (i % 2 == 0) ? &resp : &ini;
        CHECK(octo_noise_hs_write_turn(w));
        CHECK(!octo_noise_hs_write_turn(r));
        size_t plen = unhex(vmsgs[i].payload, payload, sizeof(payload));
        int n = octo_noise_hs_write_message(w, payload, plen, msg, sizeof(msg));
        CHECK_OK(n);
        CHECK_EQ_U64((size_t)n, octo_noise_hs_overhead(r) + plen);
        CHECK_HEX(msg, (size_t)n, vmsgs[i].ciphertext);
        int m = octo_noise_hs_read_message(r, msg, (size_t)n, pt, sizeof(pt));
        CHECK_EQ_INT(m, (int)plen);
        CHECK_MEM(pt, payload, plen);
    }
    CHECK(octo_noise_hs_done(&ini));
    CHECK(octo_noise_hs_done(&resp));
    CHECK_MEM(octo_noise_hs_remote_static(&ini), octo_noise_hs_local_static(&resp), 32);
    CHECK_MEM(octo_noise_hs_remote_static(&resp), octo_noise_hs_local_static(&ini), 32);

    struct octo_noise_cipher i_send, i_recv, r_send, r_recv;
    uint8_t hi[32], hr[32];
    CHECK_OK(octo_noise_hs_split(&ini, &i_send, &i_recv, hi));
    CHECK_OK(octo_noise_hs_split(&resp, &r_send, &r_recv, hr));
    CHECK_HEX(hi, 32, V_HANDSHAKE_HASH);
    CHECK_HEX(hr, 32, V_HANDSHAKE_HASH);
    CHECK_ERR(octo_noise_hs_split(&ini, &i_send, &i_recv, NULL), OCTO_ESTATE);

    for (unsigned i = 3; i < 6; i++) {
        bool from_resp = (i % 2) == 1;
        struct octo_noise_cipher *enc = from_resp ? &r_send : &i_send;
        struct octo_noise_cipher *dec = from_resp ? &i_recv : &r_recv;
        size_t plen = unhex(vmsgs[i].payload, payload, sizeof(payload));
        int n = octo_noise_cipher_encrypt(enc, NULL, 0, payload, plen, msg, sizeof(msg));
        CHECK_EQ_INT(n, (int)(plen + 16));
        CHECK_HEX(msg, (size_t)n, vmsgs[i].ciphertext);
        int m = octo_noise_cipher_decrypt(dec, NULL, 0, msg, (size_t)n, pt, sizeof(pt));
        CHECK_EQ_INT(m, (int)plen);
        CHECK_MEM(pt, payload, plen);
    }
    octo_noise_hs_deinit(&ini);
    octo_noise_hs_deinit(&resp);
    octo_noise_cipher_wipe(&i_send);
    octo_noise_cipher_wipe(&i_recv);
    octo_noise_cipher_wipe(&r_send);
    octo_noise_cipher_wipe(&r_recv);
}

static void test_cipher_no_key(void)
{
    struct octo_noise_cipher c;
    memset(&c, 0, sizeof(c));
    uint8_t in[4] = {1, 2, 3, 4}, out[4];
    CHECK_EQ_INT(octo_noise_cipher_encrypt(&c, NULL, 0, in, 4, out, 4), 4);
    CHECK_MEM(in, out, 4);
    CHECK_EQ_INT(octo_noise_cipher_decrypt(&c, NULL, 0, in, 4, out, 4), 4);
    CHECK_ERR(octo_noise_cipher_encrypt(&c, NULL, 0, in, 4, out, 3), OCTO_ENOSPACE);
    CHECK_ERR(octo_noise_cipher_decrypt(&c, NULL, 0, in, 4, out, 3), OCTO_ENOSPACE);
    CHECK_EQ_U64(c.n, 0);
}

static void test_cipher_limits(void)
{
    uint8_t key[32];
    memset(key, 7, sizeof(key));
    struct octo_noise_cipher e, d;
    octo_noise_cipher_init(&e, key);
    octo_noise_cipher_init(&d, key);
    static uint8_t big[OCTO_NOISE_MSG_MAX + 1];
    static uint8_t out[OCTO_NOISE_MSG_MAX + 1];
    /* plaintext 65519 is the largest that fits one message; 65520 is too big */
    CHECK_EQ_INT(octo_noise_cipher_encrypt(&e, NULL, 0, big, 65519, out, sizeof(out)), 65535);
    CHECK_EQ_INT(octo_noise_cipher_decrypt(&d, NULL, 0, out, 65535, big, sizeof(big)), 65519);
    CHECK_ERR(octo_noise_cipher_encrypt(&e, NULL, 0, big, 65520, out, sizeof(out)), OCTO_ETOOBIG);
    CHECK_ERR(octo_noise_cipher_decrypt(&d, NULL, 0, out, 65536, big, sizeof(big)), OCTO_ETOOBIG);
    /* shorter than the tag */
    CHECK_ERR(octo_noise_cipher_decrypt(&d, NULL, 0, out, 15, big, sizeof(big)), OCTO_EMALFORMED);
    CHECK_ERR(octo_noise_cipher_decrypt(&d, NULL, 0, out, 0, big, sizeof(big)), OCTO_EMALFORMED);
    /* output too small */
    CHECK_ERR(octo_noise_cipher_encrypt(&e, NULL, 0, big, 10, out, 25), OCTO_ENOSPACE);
    CHECK_EQ_U64(e.n, 1);
    /* in place, empty plaintext, AD */
    uint8_t buf[32] = "hello";
    CHECK_EQ_INT(octo_noise_cipher_encrypt(&e, (const uint8_t *)"ad", 2, buf, 5, buf, 32), 21);
    CHECK_EQ_INT(octo_noise_cipher_decrypt(&d, (const uint8_t *)"ad", 2, buf, 21, buf, 32), 5);
    CHECK_MEM(buf, "hello", 5);
    CHECK_EQ_INT(octo_noise_cipher_encrypt(&e, NULL, 0, NULL, 0, out, 16), 16);
    /* a decryption failure leaves n unchanged, then the right AD works */
    uint64_t n_before = d.n;
    CHECK_ERR(octo_noise_cipher_decrypt(&d, (const uint8_t *)"x", 1, out, 16, big, 16),
              OCTO_EDECRYPT);
    CHECK_EQ_U64(d.n, n_before);
    CHECK_EQ_INT(octo_noise_cipher_decrypt(&d, NULL, 0, out, 16, big, 16), 0);
    octo_noise_cipher_wipe(&e);
    octo_noise_cipher_wipe(&d);
    CHECK(!e.has_key);
}

static void test_cipher_nonce_exhaustion(void)
{
    uint8_t key[32];
    memset(key, 9, sizeof(key));
    struct octo_noise_cipher e, d;
    octo_noise_cipher_init(&e, key);
    octo_noise_cipher_init(&d, key);
    octo_noise_cipher_set_nonce(&e, OCTO_NOISE_NONCE_MAX - 1);
    octo_noise_cipher_set_nonce(&d, OCTO_NOISE_NONCE_MAX - 1);
    uint8_t ct[32], pt[32];
    CHECK_EQ_INT(octo_noise_cipher_encrypt(&e, NULL, 0, (const uint8_t *)"abc", 3, ct, 32), 19);
    CHECK_EQ_INT(octo_noise_cipher_decrypt(&d, NULL, 0, ct, 19, pt, 32), 3);
    CHECK_EQ_U64(e.n, OCTO_NOISE_NONCE_MAX);
    CHECK_ERR(octo_noise_cipher_encrypt(&e, NULL, 0, (const uint8_t *)"abc", 3, ct, 32),
              OCTO_ERANGE);
    CHECK_ERR(octo_noise_cipher_decrypt(&d, NULL, 0, ct, 19, pt, 32), OCTO_ERANGE);
    octo_noise_cipher_wipe(&e);
    octo_noise_cipher_wipe(&d);
}

/* Keys for generated handshakes. */
static void gen_keys(uint8_t is[32], uint8_t ie[32], uint8_t rs[32], uint8_t re[32])
{
    for (unsigned i = 0; i < 32; i++) {
        is[i] = (uint8_t)(i + 1);
        ie[i] = (uint8_t)(i + 65);
        rs[i] = (uint8_t)(i + 129);
        re[i] = (uint8_t)(i + 193);
    }
}

/* Runs messages 1..3 with payloads, writing each message into msgs[i]/lens[i]. */
static int run_handshake(struct octo_noise_hs *ini, struct octo_noise_hs *resp,
                         uint8_t msgs[3][256], size_t lens[3])
{
    uint8_t pt[256];
    for (unsigned i = 0; i < 3; i++) {
        struct octo_noise_hs *w = (i % 2 == 0) ? ini : resp;
        struct octo_noise_hs *r = (i % 2 == 0) ? resp : ini;
        int n = octo_noise_hs_write_message(w, (const uint8_t *)"payload", 7, msgs[i], 256);
        if (n < 0)
            return n;
        lens[i] = (size_t)n;
        int m = octo_noise_hs_read_message(r, msgs[i], lens[i], pt, sizeof(pt));
        if (m < 0)
            return m;
    }
    return 0;
}

static void test_hs_state_errors(void)
{
    uint8_t is[32], ie[32], rs[32], re[32];
    gen_keys(is, ie, rs, re);
    struct octo_noise_hs ini, resp;
    CHECK_OK(octo_noise_hs_init(&ini, true, NULL, 0, is, ie));
    CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
    uint8_t msg[256], pt[256];
    struct octo_noise_cipher c1, c2;
    CHECK(octo_noise_hs_remote_static(&ini) == NULL);
    CHECK_ERR(octo_noise_hs_write_message(&resp, NULL, 0, msg, sizeof(msg)), OCTO_ESTATE);
    CHECK_ERR(octo_noise_hs_read_message(&ini, msg, 32, pt, sizeof(pt)), OCTO_ESTATE);
    CHECK_ERR(octo_noise_hs_split(&ini, &c1, &c2, NULL), OCTO_ESTATE);
    /* too small output: state unchanged, retry works */
    CHECK_ERR(octo_noise_hs_write_message(&ini, NULL, 0, msg, 31), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_noise_hs_write_message(&ini, NULL, 0, msg, sizeof(msg)), 32);
    /* payload buffer too small for message 1's clear payload: state unchanged */
    uint8_t m1[40];
    memcpy(m1, msg, 32);
    memset(m1 + 32, 0xaa, 8);
    CHECK_ERR(octo_noise_hs_read_message(&resp, m1, 40, pt, 7), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_noise_hs_read_message(&resp, msg, 32, pt, 0), 0);
    /* message 2 with a payload that would exceed 65535 */
    CHECK_ERR(octo_noise_hs_write_message(&resp, pt, OCTO_NOISE_MSG_MAX - 95, msg, sizeof(msg)),
              OCTO_ETOOBIG); /* not fatal */
    int n = octo_noise_hs_write_message(&resp, NULL, 0, msg, sizeof(msg));
    CHECK_EQ_INT(n, OCTO_NOISE_MSG2_OVERHEAD);
    /* message 2 too short for its fixed part: fatal */
    CHECK_ERR(octo_noise_hs_read_message(&ini, msg, (size_t)n - 1, pt, sizeof(pt)),
              OCTO_EMALFORMED);
    CHECK(!octo_noise_hs_write_turn(&ini));
    CHECK_ERR(octo_noise_hs_read_message(&ini, msg, (size_t)n, pt, sizeof(pt)), OCTO_ESTATE);
    CHECK_ERR(octo_noise_hs_write_message(&ini, NULL, 0, msg, sizeof(msg)), OCTO_ESTATE);
    CHECK(octo_noise_hs_remote_static(&ini) == NULL);
    CHECK_EQ_U64(octo_noise_hs_overhead(&ini), 0);
    CHECK(!octo_noise_hs_done(&ini));
    octo_noise_hs_deinit(&ini);
    octo_noise_hs_deinit(&resp);

    /* oversize message on read */
    static uint8_t huge[OCTO_NOISE_MSG_MAX + 1];
    CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
    CHECK_ERR(octo_noise_hs_read_message(&resp, huge, sizeof(huge), huge, sizeof(huge)),
              OCTO_ETOOBIG);
    octo_noise_hs_deinit(&resp);
    /* the largest message 1 (65535 bytes) is fine */
    CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
    CHECK_EQ_INT(
        octo_noise_hs_read_message(&resp, huge, OCTO_NOISE_MSG_MAX, huge + 1, sizeof(huge) - 1),
        OCTO_NOISE_MSG_MAX - 32);
    octo_noise_hs_deinit(&resp);
}

static void test_hs_roundtrip_and_done(void)
{
    uint8_t is[32], ie[32], rs[32], re[32];
    gen_keys(is, ie, rs, re);
    struct octo_noise_hs ini, resp;
    CHECK_OK(octo_noise_hs_init(&ini, true, (const uint8_t *)"p", 1, is, ie));
    CHECK_OK(octo_noise_hs_init(&resp, false, (const uint8_t *)"p", 1, rs, re));
    uint8_t msgs[3][256];
    size_t lens[3];
    CHECK_OK(run_handshake(&ini, &resp, msgs, lens));
    CHECK_EQ_U64(lens[0], 32 + 7);
    CHECK_EQ_U64(lens[1], OCTO_NOISE_MSG2_OVERHEAD + 7);
    CHECK_EQ_U64(lens[2], OCTO_NOISE_MSG3_OVERHEAD + 7);
    CHECK(!octo_noise_hs_write_turn(&ini));
    CHECK_ERR(octo_noise_hs_write_message(&ini, NULL, 0, msgs[0], 256), OCTO_ESTATE);
    struct octo_noise_cipher a1, a2, b1, b2;
    uint8_t ha[32], hb[32];
    CHECK_OK(octo_noise_hs_split(&ini, &a1, &a2, ha));
    CHECK_OK(octo_noise_hs_split(&resp, &b1, &b2, hb));
    CHECK_MEM(ha, hb, 32);
    CHECK_MEM(a1.k, b2.k, 32);
    CHECK_MEM(a2.k, b1.k, 32);
    CHECK(memcmp(a1.k, a2.k, 32) != 0);
    CHECK(octo_noise_hs_done(&ini));
    octo_noise_hs_deinit(&ini);
    octo_noise_hs_deinit(&resp);
    octo_noise_cipher_wipe(&a1);
    octo_noise_cipher_wipe(&a2);
    octo_noise_cipher_wipe(&b1);
    octo_noise_cipher_wipe(&b2);
}

/* Flips one bit of every byte of every handshake message in turn: the handshake must fail
 * (message 1 is unauthenticated, so its tampering surfaces when message 2 is read). */
static void test_hs_tamper_every_byte(void)
{
    uint8_t is[32], ie[32], rs[32], re[32];
    gen_keys(is, ie, rs, re);
    uint8_t msgs[3][256];
    size_t lens[3];
    {
        struct octo_noise_hs ini, resp;
        CHECK_OK(octo_noise_hs_init(&ini, true, NULL, 0, is, ie));
        CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
        CHECK_OK(run_handshake(&ini, &resp, msgs, lens));
        octo_noise_hs_deinit(&ini);
        octo_noise_hs_deinit(&resp);
    }
    for (unsigned which = 0; which < 3; which++) {
        for (size_t pos = 0; pos < lens[which]; pos++) {
            struct octo_noise_hs ini, resp;
            CHECK_OK(octo_noise_hs_init(&ini, true, NULL, 0, is, ie));
            CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
            uint8_t buf[256], pt[256];
            int failed_at = -1;
            for (unsigned i = 0; i < 3 && failed_at < 0; i++) {
                struct octo_noise_hs *w = (i % 2 == 0) ? &ini : &resp;
                struct octo_noise_hs *r = (i % 2 == 0) ? &resp : &ini;
                int n =
                    octo_noise_hs_write_message(w, (const uint8_t *)"payload", 7, buf, sizeof(buf));
                if (n < 0) {
                    failed_at = (int)i;
                    break;
                }
                if (i == which)
                    buf[pos] ^= 0x01;
                int m = octo_noise_hs_read_message(r, buf, (size_t)n, pt, sizeof(pt));
                if (m < 0) {
                    CHECK(m == OCTO_EDECRYPT || m == OCTO_ECRYPTO);
                    failed_at = (int)i;
                }
            }
            if (which == 0)
                CHECK(failed_at == 1); /* detected by the initiator reading message 2 */
            else
                CHECK_EQ_INT(failed_at, (int)which);
            octo_noise_hs_deinit(&ini);
            octo_noise_hs_deinit(&resp);
        }
    }
}

static void test_hs_low_order_keys(void)
{
    uint8_t is[32], ie[32], rs[32], re[32];
    gen_keys(is, ie, rs, re);
    uint8_t zero[32] = {0}, msg[256], pt[256];
    /* responder gets e = 0: its ee DH is all zero when it writes message 2 */
    struct octo_noise_hs resp;
    CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
    CHECK_EQ_INT(octo_noise_hs_read_message(&resp, zero, 32, pt, sizeof(pt)), 0);
    CHECK_ERR(octo_noise_hs_write_message(&resp, NULL, 0, msg, sizeof(msg)), OCTO_ECRYPTO);
    CHECK_ERR(octo_noise_hs_write_message(&resp, NULL, 0, msg, sizeof(msg)), OCTO_ESTATE);
    octo_noise_hs_deinit(&resp);
    /* initiator gets message 2 with e = 0: ee fails on read */
    struct octo_noise_hs ini;
    CHECK_OK(octo_noise_hs_init(&ini, true, NULL, 0, is, ie));
    CHECK_EQ_INT(octo_noise_hs_write_message(&ini, NULL, 0, msg, sizeof(msg)), 32);
    memset(msg, 0, OCTO_NOISE_MSG2_OVERHEAD);
    CHECK_ERR(octo_noise_hs_read_message(&ini, msg, OCTO_NOISE_MSG2_OVERHEAD, pt, sizeof(pt)),
              OCTO_ECRYPTO);
    octo_noise_hs_deinit(&ini);
    /* another small-order point: u = 1 */
    uint8_t one[32] = {1};
    CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
    CHECK_EQ_INT(octo_noise_hs_read_message(&resp, one, 32, pt, sizeof(pt)), 0);
    CHECK_ERR(octo_noise_hs_write_message(&resp, NULL, 0, msg, sizeof(msg)), OCTO_ECRYPTO);
    octo_noise_hs_deinit(&resp);
}

static void test_hs_prologue_mismatch(void)
{
    uint8_t is[32], ie[32], rs[32], re[32];
    gen_keys(is, ie, rs, re);
    struct octo_noise_hs ini, resp;
    CHECK_OK(octo_noise_hs_init(&ini, true, (const uint8_t *)"a", 1, is, ie));
    CHECK_OK(octo_noise_hs_init(&resp, false, NULL, 0, rs, re));
    uint8_t msgs[3][256];
    size_t lens[3];
    CHECK_ERR(run_handshake(&ini, &resp, msgs, lens), OCTO_EDECRYPT);
    octo_noise_hs_deinit(&ini);
    octo_noise_hs_deinit(&resp);
}

static void test_deinit_zeroed(void)
{
    struct octo_noise_hs hs;
    memset(&hs, 0, sizeof(hs));
    octo_noise_hs_deinit(&hs);
    CHECK(!octo_noise_hs_done(&hs));
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_vector_replay);
    OCTO_RUN(test_cipher_no_key);
    OCTO_RUN(test_cipher_limits);
    OCTO_RUN(test_cipher_nonce_exhaustion);
    OCTO_RUN(test_hs_state_errors);
    OCTO_RUN(test_hs_roundtrip_and_done);
    OCTO_RUN(test_hs_tamper_every_byte);
    OCTO_RUN(test_hs_low_order_keys);
    OCTO_RUN(test_hs_prologue_mismatch);
    OCTO_RUN(test_deinit_zeroed);
    return octo_test_finish();
}
