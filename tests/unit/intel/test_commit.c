/*
 * test_commit.c — the execution commitment (intel/commit.h): a known-answer vector from fixed
 * keys (Ed25519 signatures are deterministic, so the bytes are too), round trips, every field
 * covered by the provider's signature and the countersignature, and the decoder's refusals.
 */
#include "base/assert.h"
#include "base/endian.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "intel/advert.h"
#include "intel/commit.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static struct octo_identity g_prov, g_orch;

static void keys(void)
{
    uint8_t seed[32];
    memset(seed, 0x11, sizeof(seed));
    CHECK_OK(octo_identity_from_seed(&g_prov, seed));
    memset(seed, 0x22, sizeof(seed));
    CHECK_OK(octo_identity_from_seed(&g_orch, seed));
}

static void sample(struct octo_commitment *c)
{
    memset(c, 0, sizeof(*c));
    c->flags = OCTO_COMMIT_FLAG_DETERMINISTIC;
    for (int i = 0; i < 16; i++)
        c->task[i] = (uint8_t)i;
    octo_sha256("request", 7, c->input);
    octo_sha256("output", 6, c->output);
    octo_sha256("weights", 7, c->model_sha256);
    memcpy(c->quant, "q8_0", 5);
    c->prompt_tokens = 59;
    c->completion_tokens = 8;
    c->isolation = OCTO_ISOLATION_PROCESS;
    c->start_ms = 1796000000000ull;
    c->end_ms = 1796000000250ull;
}

static void test_vector(void)
{
    struct octo_commitment c;
    sample(&c);
    uint8_t b[OCTO_COMMIT_LEN];
    CHECK_OK(octo_commit_sign(&c, &g_prov, b));
    CHECK(memcmp(c.provider, g_prov.pub.bytes, 32) == 0);
    /* fixed layout: version, flags, task, then the provider's key */
    CHECK_EQ_INT(b[0], 1);
    CHECK_EQ_INT(b[1], OCTO_COMMIT_FLAG_DETERMINISTIC);
    CHECK(memcmp(b + 2, c.task, 16) == 0 && memcmp(b + 18, g_prov.pub.bytes, 32) == 0);
    CHECK_EQ_INT(b[146], 4); /* quant_len */
    CHECK(memcmp(b + 147, "q8_0", 5) == 0 && octo_all_zero(b + 151, 28));
    CHECK_EQ_INT(octo_load_be32(b + 179), 59);
    CHECK_EQ_INT(octo_load_be32(b + 183), 8);
    CHECK_EQ_INT(b[187], OCTO_ISOLATION_PROCESS);
    CHECK(octo_load_be64(b + 220) == 1796000000000ull &&
          octo_load_be64(b + 228) == 1796000000250ull);
    /* the same keys and values always give the same bytes (deterministic signatures) */
    uint8_t again[OCTO_COMMIT_LEN];
    struct octo_commitment c2;
    sample(&c2);
    CHECK_OK(octo_commit_sign(&c2, &g_prov, again));
    CHECK(memcmp(b, again, sizeof(b)) == 0);
    CHECK(octo_all_zero(b + OCTO_COMMIT_SIGNED_LEN + 64, 96)); /* not countersigned yet */
    CHECK_OK(octo_commit_verify(b));
    octo_commit_countersign(b, &g_orch);
    CHECK_OK(octo_commit_verify(b));
    struct octo_commitment d;
    CHECK_OK(octo_commit_decode(b, sizeof(b), &d));
    CHECK(d.countersigned && memcmp(d.orchestrator, g_orch.pub.bytes, 32) == 0);
    CHECK_STR(d.quant, "q8_0");
    CHECK(d.prompt_tokens == 59 && d.completion_tokens == 8 && d.flags == c.flags);
    uint8_t re[OCTO_COMMIT_LEN];
    CHECK_OK(octo_commit_encode(&d, re));
    CHECK(memcmp(re, b, sizeof(b)) == 0);
    /* a SHA-256 of the whole, printed so a change of the encoding shows in the log */
    uint8_t h[32];
    char hex[65];
    octo_sha256(b, sizeof(b), h);
    OCTO_IGNORE(octo_hex_encode(h, 32, hex, sizeof(hex)));
    printf("    commitment vector sha256 %s\n", hex);
    CHECK_STR(hex, "ea956f569647f000592033b45bef6e14cf1d596c34bd4cd392fc9f5156a9eb16");
}

/* Flipping any bit of the signed part breaks a signature (or the decoding). */
static void test_every_byte_covered(void)
{
    struct octo_commitment c;
    sample(&c);
    uint8_t b[OCTO_COMMIT_LEN];
    CHECK_OK(octo_commit_sign(&c, &g_prov, b));
    octo_commit_countersign(b, &g_orch);
    for (size_t i = 0; i < OCTO_COMMIT_LEN; i++) {
        uint8_t t[OCTO_COMMIT_LEN];
        memcpy(t, b, sizeof(t));
        t[i] ^= 0x01;
        int rc = octo_commit_verify(t);
        CHECK(rc == OCTO_EBADSIG || rc == OCTO_EMALFORMED);
    }
}

static void test_refusals(void)
{
    struct octo_commitment c;
    uint8_t b[OCTO_COMMIT_LEN];
    sample(&c);
    c.quant[0] = '\0';
    CHECK_ERR(octo_commit_sign(&c, &g_prov, b), OCTO_EINVAL);
    sample(&c);
    c.isolation = 0;
    CHECK_ERR(octo_commit_sign(&c, &g_prov, b), OCTO_EINVAL);
    sample(&c);
    c.isolation = OCTO_ISOLATION_MAX + 1;
    CHECK_ERR(octo_commit_sign(&c, &g_prov, b), OCTO_EINVAL);
    sample(&c);
    c.end_ms = c.start_ms - 1;
    CHECK_ERR(octo_commit_sign(&c, &g_prov, b), OCTO_EINVAL);
    sample(&c);
    c.flags = 0x80;
    CHECK_ERR(octo_commit_sign(&c, &g_prov, b), OCTO_EINVAL);

    sample(&c);
    CHECK_OK(octo_commit_sign(&c, &g_prov, b));
    struct octo_commitment d;
    CHECK_ERR(octo_commit_decode(b, sizeof(b) - 1, &d), OCTO_EMALFORMED);
    uint8_t t[OCTO_COMMIT_LEN];
    memcpy(t, b, sizeof(t));
    t[0] = 2; /* version */
    CHECK_ERR(octo_commit_decode(t, sizeof(t), &d), OCTO_EMALFORMED);
    memcpy(t, b, sizeof(t));
    t[150 + 4] = 'x'; /* a byte in the quant's padding */
    CHECK_ERR(octo_commit_decode(t, sizeof(t), &d), OCTO_EMALFORMED);
    memcpy(t, b, sizeof(t));
    t[146] = 33; /* quant_len */
    CHECK_ERR(octo_commit_decode(t, sizeof(t), &d), OCTO_EMALFORMED);
    memcpy(t, b, sizeof(t));
    t[OCTO_COMMIT_SIGNED_LEN + 64] = 1; /* an orchestrator without its signature */
    CHECK_ERR(octo_commit_decode(t, sizeof(t), &d), OCTO_EMALFORMED);
    /* a commitment signed by another key than the one it names */
    memcpy(t, b, sizeof(t));
    memcpy(t + 18, g_orch.pub.bytes, 32);
    CHECK_ERR(octo_commit_verify(t), OCTO_EBADSIG);
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    keys();
    OCTO_RUN(test_vector);
    OCTO_RUN(test_every_byte_covered);
    OCTO_RUN(test_refusals);
    octo_identity_deinit(&g_prov);
    octo_identity_deinit(&g_orch);
    return octo_test_finish();
}
