/*
 * test_seal.c — sealed envelopes: round trips (fresh X25519 key pair and a node's Ed25519
 * identity), tampering, truncation, wrong key, limits.
 */
#include "crypto/ident.h"
#include "crypto/seal.h"
#include "test.h"

static void test_round_trip(void)
{
    struct octo_seal_keypair kp;
    CHECK_OK(octo_seal_keypair_generate(&kp));
    static const uint8_t msg[] = "task payload: run model X on input Y";
    struct octo_buf env, plain;
    octo_buf_init(&env, 1024);
    octo_buf_init_secret(&plain, 1024);
    CHECK_OK(octo_seal(&kp.pub, msg, sizeof(msg), &env));
    CHECK_EQ_U64(env.len, sizeof(msg) + OCTO_SEAL_OVERHEAD);
    CHECK_OK(octo_seal_open(&kp, env.data, env.len, &plain));
    CHECK_EQ_U64(plain.len, sizeof(msg));
    CHECK_MEM(plain.data, msg, sizeof(msg));
    /* empty payload */
    octo_buf_reset(&env);
    octo_buf_reset(&plain);
    CHECK_OK(octo_seal(&kp.pub, NULL, 0, &env));
    CHECK_EQ_U64(env.len, OCTO_SEAL_OVERHEAD);
    CHECK_OK(octo_seal_open(&kp, env.data, env.len, &plain));
    CHECK_EQ_U64(plain.len, 0);
    octo_buf_deinit(&env);
    octo_buf_deinit(&plain);
    octo_seal_keypair_deinit(&kp);
    static const uint8_t zero[sizeof(kp)];
    CHECK_MEM(&kp, zero, sizeof(kp));
}

static void test_seal_to_identity(void)
{
    struct octo_identity id;
    CHECK_OK(octo_identity_generate(&id));
    struct octo_x25519_pk to;
    CHECK_OK(octo_seal_pk_from_ed25519(&id.pub, &to));
    static const uint8_t msg[] = "for the node only";
    struct octo_buf env, plain;
    octo_buf_init(&env, 1024);
    octo_buf_init_secret(&plain, 1024);
    CHECK_OK(octo_seal(&to, msg, sizeof(msg), &env));
    struct octo_seal_keypair kp;
    CHECK_OK(octo_seal_keypair_from_identity(&id, &kp));
    CHECK_MEM(kp.pub.bytes, to.bytes, OCTO_X25519_PK_LEN);
    CHECK_OK(octo_seal_open(&kp, env.data, env.len, &plain));
    CHECK_MEM(plain.data, msg, sizeof(msg));
    /* another identity cannot open it */
    struct octo_identity other;
    struct octo_seal_keypair other_kp;
    CHECK_OK(octo_identity_generate(&other));
    CHECK_OK(octo_seal_keypair_from_identity(&other, &other_kp));
    octo_buf_reset(&plain);
    CHECK_ERR(octo_seal_open(&other_kp, env.data, env.len, &plain), OCTO_EDECRYPT);
    CHECK_EQ_U64(plain.len, 0);
    octo_seal_keypair_deinit(&other_kp);
    octo_identity_deinit(&other);
    octo_seal_keypair_deinit(&kp);
    octo_identity_deinit(&id);
    octo_buf_deinit(&env);
    octo_buf_deinit(&plain);
}

static void test_tamper_and_limits(void)
{
    struct octo_seal_keypair kp;
    CHECK_OK(octo_seal_keypair_generate(&kp));
    static const uint8_t msg[] = "0123456789";
    struct octo_buf env, plain;
    octo_buf_init(&env, 1024);
    octo_buf_init(&plain, 1024);
    CHECK_OK(octo_seal(&kp.pub, msg, sizeof(msg), &env));
    for (size_t i = 0; i < env.len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            env.data[i] ^= (uint8_t)(1u << bit);
            int rc = octo_seal_open(&kp, env.data, env.len, &plain);
            env.data[i] ^= (uint8_t)(1u << bit);
            CHECK_ERR(rc, OCTO_EDECRYPT);
            CHECK_EQ_U64(plain.len, 0);
        }
    }
    for (size_t cut = 0; cut < env.len; cut++) {
        int rc = octo_seal_open(&kp, env.data, cut, &plain);
        CHECK(rc == (cut < OCTO_SEAL_OVERHEAD ? OCTO_EMALFORMED : OCTO_EDECRYPT));
    }
    CHECK_ERR(octo_seal_open(&kp, env.data, OCTO_SEAL_ENVELOPE_MAX + 1, &plain), OCTO_ETOOBIG);
    CHECK_ERR(octo_seal(&kp.pub, msg, OCTO_SEAL_PLAINTEXT_MAX + 1, &env), OCTO_ETOOBIG);
    /* output ceiling */
    struct octo_buf small;
    octo_buf_init(&small, 20);
    CHECK_ERR(octo_seal(&kp.pub, msg, sizeof(msg), &small), OCTO_ETOOBIG);
    CHECK_EQ_U64(small.len, 0);
    octo_buf_init(&small, 5);
    CHECK_ERR(octo_seal_open(&kp, env.data, env.len, &small), OCTO_ETOOBIG);
    octo_buf_deinit(&small);
    /* an Ed25519 key that is not a valid point does not convert */
    struct octo_pubkey bad;
    memset(&bad, 0, sizeof(bad));
    bad.bytes[0] = 2;
    struct octo_x25519_pk to;
    CHECK_ERR(octo_seal_pk_from_ed25519(&bad, &to), OCTO_EINVAL);
    octo_seal_keypair_deinit(&kp);
    octo_buf_deinit(&env);
    octo_buf_deinit(&plain);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_round_trip);
    OCTO_RUN(test_seal_to_identity);
    OCTO_RUN(test_tamper_and_limits);
    return octo_test_finish();
}
