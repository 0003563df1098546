/*
 * test_keystore.c — the key file: unencrypted and passphrase round trips (small KDF
 * parameters for speed, one run with the defaults), wrong passphrase, a corrupted byte at
 * every offset, hostile KDF parameters, malformed headers and size limits.
 */
#include "crypto/keystore.h"
#include "test.h"

#include <sodium.h>

static const struct octo_keystore_params fast = {.opslimit = 1, .memlimit_kib = 8 * 1024};

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_plain_round_trip(void)
{
    struct octo_identity id, back;
    CHECK_OK(octo_identity_generate(&id));
    struct octo_buf file;
    octo_buf_init_secret(&file, OCTO_KEYSTORE_FILE_MAX);
    CHECK_OK(octo_keystore_encode(&id, NULL, NULL, &file));
    CHECK_EQ_U64(file.len, 12 + OCTO_PRIVKEY_PB_LEN);
    CHECK_MEM(file.data, "OCTOKEY1\x00\x00\x00\x44", 12);
    CHECK_EQ_INT(octo_keystore_is_encrypted(file.data, file.len), 0);
    CHECK_OK(octo_keystore_decode(file.data, file.len, NULL, &back));
    CHECK_MEM(&back, &id, sizeof(id));
    /* a passphrase given for an unencrypted file is ignored */
    CHECK_OK(octo_keystore_decode(file.data, file.len, "unused", &back));
    /* every corrupted byte is rejected */
    for (size_t i = 0; i < file.len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            file.data[i] ^= (uint8_t)(1u << bit);
            int rc = octo_keystore_decode(file.data, file.len, NULL, &back);
            file.data[i] ^= (uint8_t)(1u << bit);
            CHECK(rc < 0);
        }
    }
    /* truncation and trailing bytes */
    for (size_t cut = 0; cut < file.len; cut++)
        CHECK(octo_keystore_decode(file.data, cut, NULL, &back) < 0);
    CHECK_OK(octo_buf_append_byte(&file, 0));
    CHECK_ERR(octo_keystore_decode(file.data, file.len, NULL, &back), OCTO_EMALFORMED);
    octo_buf_deinit(&file);
    octo_identity_deinit(&back);
    octo_identity_deinit(&id);
}

static void test_encrypted_round_trip(void)
{
    struct octo_identity id, back;
    CHECK_OK(octo_identity_generate(&id));
    struct octo_buf file;
    octo_buf_init(&file, OCTO_KEYSTORE_FILE_MAX);
    CHECK_OK(octo_keystore_encode(&id, "correct horse", &fast, &file));
    CHECK_EQ_U64(file.len, 60 + OCTO_PRIVKEY_PB_LEN + 16);
    CHECK_EQ_INT(octo_keystore_is_encrypted(file.data, file.len), 1);
    CHECK_OK(octo_keystore_decode(file.data, file.len, "correct horse", &back));
    CHECK_MEM(&back, &id, sizeof(id));
    octo_identity_deinit(&back);
    CHECK_ERR(octo_keystore_decode(file.data, file.len, "wrong horse", &back), OCTO_EDECRYPT);
    CHECK_ERR(octo_keystore_decode(file.data, file.len, "", &back), OCTO_EDECRYPT);
    CHECK_ERR(octo_keystore_decode(file.data, file.len, NULL, &back), OCTO_EPERM);
    /* the secret key does not appear in the file */
    for (size_t i = 0; i + 32 <= file.len; i++)
        CHECK(memcmp(file.data + i, id.sk, 32) != 0);
    /* two encodings differ (fresh salt and nonce) */
    struct octo_buf again;
    octo_buf_init(&again, OCTO_KEYSTORE_FILE_MAX);
    CHECK_OK(octo_keystore_encode(&id, "correct horse", &fast, &again));
    CHECK(memcmp(again.data + 20, file.data + 20, 40) != 0);
    octo_buf_deinit(&again);
    /* empty passphrase works as a passphrase */
    octo_buf_reset(&file);
    CHECK_OK(octo_keystore_encode(&id, "", &fast, &file));
    CHECK_OK(octo_keystore_decode(file.data, file.len, "", &back));
    CHECK_MEM(&back, &id, sizeof(id));
    octo_identity_deinit(&back);
    octo_buf_deinit(&file);
    octo_identity_deinit(&id);
}

static void test_encrypted_corruption(void)
{
    struct octo_identity id, back;
    CHECK_OK(octo_identity_generate(&id));
    struct octo_buf file;
    octo_buf_init(&file, OCTO_KEYSTORE_FILE_MAX);
    CHECK_OK(octo_keystore_encode(&id, "pw", &fast, &file));
    /* one flipped bit per byte (the KDF runs for each: keep it to one bit) */
    for (size_t i = 0; i < file.len; i++) {
        /* keep opslimit/memlimit within range but changed: flip the lowest bit */
        file.data[i] ^= 0x01;
        int rc = octo_keystore_decode(file.data, file.len, "pw", &back);
        file.data[i] ^= 0x01;
        CHECK(rc < 0);
        if (i >= 12)
            CHECK(rc == OCTO_EDECRYPT || rc == OCTO_EMALFORMED || rc == OCTO_ETOOBIG);
    }
    CHECK_OK(octo_keystore_decode(file.data, file.len, "pw", &back));
    octo_identity_deinit(&back);
    octo_buf_deinit(&file);
    octo_identity_deinit(&id);
}

static void test_hostile_params(void)
{
    struct octo_identity id, back;
    CHECK_OK(octo_identity_generate(&id));
    struct octo_buf file;
    octo_buf_init(&file, OCTO_KEYSTORE_FILE_MAX);
    CHECK_OK(octo_keystore_encode(&id, "pw", &fast, &file));
    uint8_t copy[256];
    CHECK(file.len <= sizeof(copy));
    struct {
        uint32_t ops, mem_kib;
        int want;
    } cases[] = {
        {0, 8 * 1024, OCTO_EMALFORMED},
        {1, 0, OCTO_EMALFORMED},
        {1, 7, OCTO_EMALFORMED},
        {OCTO_KEYSTORE_OPSLIMIT_MAX + 1, 8 * 1024, OCTO_ETOOBIG},
        {0xffffffffu, 8 * 1024, OCTO_ETOOBIG},
        {1, OCTO_KEYSTORE_MEMLIMIT_KIB_MAX + 1, OCTO_ETOOBIG},
        {1, 0xffffffffu, OCTO_ETOOBIG},
        {2, 8 * 1024, OCTO_EDECRYPT}, /* in range, but authenticated as header */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(copy, file.data, file.len);
        put_u32(copy + 12, cases[i].ops);
        put_u32(copy + 16, cases[i].mem_kib);
        CHECK_ERR(octo_keystore_decode(copy, file.len, "pw", &back), cases[i].want);
    }
    /* encode refuses out-of-range parameters */
    struct octo_keystore_params p = {.opslimit = 0, .memlimit_kib = 8 * 1024};
    CHECK_ERR(octo_keystore_encode(&id, "pw", &p, &file), OCTO_EINVAL);
    p.opslimit = OCTO_KEYSTORE_OPSLIMIT_MAX + 1;
    CHECK_ERR(octo_keystore_encode(&id, "pw", &p, &file), OCTO_EINVAL);
    p.opslimit = 1;
    p.memlimit_kib = OCTO_KEYSTORE_MEMLIMIT_KIB_MAX + 1;
    CHECK_ERR(octo_keystore_encode(&id, "pw", &p, &file), OCTO_EINVAL);
    octo_buf_deinit(&file);
    octo_identity_deinit(&id);
}

static void test_malformed_headers(void)
{
    struct octo_identity id, back;
    CHECK_OK(octo_identity_generate(&id));
    struct octo_buf file;
    octo_buf_init_secret(&file, OCTO_KEYSTORE_FILE_MAX);
    CHECK_OK(octo_keystore_encode(&id, NULL, NULL, &file));
    uint8_t copy[128];
    memcpy(copy, file.data, file.len);
    copy[8] = 7; /* unknown kdf */
    CHECK_ERR(octo_keystore_decode(copy, file.len, NULL, &back), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_keystore_is_encrypted(copy, file.len), OCTO_EUNSUPPORTED);
    memcpy(copy, file.data, file.len);
    copy[9] = 1; /* reserved */
    CHECK_ERR(octo_keystore_decode(copy, file.len, NULL, &back), OCTO_EMALFORMED);
    memcpy(copy, file.data, file.len);
    copy[0] = 'X';
    CHECK_ERR(octo_keystore_decode(copy, file.len, NULL, &back), OCTO_EMALFORMED);
    CHECK_ERR(octo_keystore_is_encrypted(copy, file.len), OCTO_EMALFORMED);
    /* kdf argon2id with a plain-sized body */
    memcpy(copy, file.data, file.len);
    copy[8] = 1;
    CHECK_ERR(octo_keystore_decode(copy, file.len, "pw", &back), OCTO_EMALFORMED);
    CHECK_ERR(octo_keystore_decode(NULL, 0, NULL, &back), OCTO_EMALFORMED);
    CHECK_ERR(octo_keystore_is_encrypted(NULL, 0), OCTO_EMALFORMED);
    static uint8_t big[OCTO_KEYSTORE_FILE_MAX + 1];
    CHECK_ERR(octo_keystore_decode(big, sizeof(big), NULL, &back), OCTO_ETOOBIG);
    /* over-long passphrase */
    static char longpw[5000];
    memset(longpw, 'a', sizeof(longpw) - 1);
    struct octo_buf enc;
    octo_buf_init(&enc, OCTO_KEYSTORE_FILE_MAX);
    CHECK_ERR(octo_keystore_encode(&id, longpw, &fast, &enc), OCTO_ETOOBIG);
    CHECK_OK(octo_keystore_encode(&id, "pw", &fast, &enc));
    CHECK_ERR(octo_keystore_decode(enc.data, enc.len, longpw, &back), OCTO_ETOOBIG);
    /* output ceiling */
    struct octo_buf tiny;
    octo_buf_init(&tiny, 10);
    CHECK_ERR(octo_keystore_encode(&id, NULL, NULL, &tiny), OCTO_ETOOBIG);
    CHECK_ERR(octo_keystore_encode(&id, "pw", &fast, &tiny), OCTO_ETOOBIG);
    octo_buf_deinit(&tiny);
    octo_buf_deinit(&enc);
    octo_buf_deinit(&file);
    octo_identity_deinit(&id);
}

/* One run with the interactive defaults (Argon2id, 256 MiB, 3 passes: a few seconds). */
static void test_default_params(void)
{
    struct octo_keystore_params p;
    octo_keystore_params_default(&p);
    CHECK_EQ_U64(p.opslimit, crypto_pwhash_OPSLIMIT_MODERATE);
    CHECK_EQ_U64((uint64_t)p.memlimit_kib * 1024u, crypto_pwhash_MEMLIMIT_MODERATE);
    CHECK(p.opslimit <= OCTO_KEYSTORE_OPSLIMIT_MAX);
    CHECK(p.memlimit_kib <= OCTO_KEYSTORE_MEMLIMIT_KIB_MAX);
    struct octo_identity id, back;
    CHECK_OK(octo_identity_generate(&id));
    struct octo_buf file;
    octo_buf_init(&file, OCTO_KEYSTORE_FILE_MAX);
    CHECK_OK(octo_keystore_encode(&id, "default pw", NULL, &file));
    CHECK_OK(octo_keystore_decode(file.data, file.len, "default pw", &back));
    CHECK_MEM(&back, &id, sizeof(id));
    octo_identity_deinit(&back);
    octo_buf_deinit(&file);
    octo_identity_deinit(&id);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_plain_round_trip);
    OCTO_RUN(test_encrypted_round_trip);
    OCTO_RUN(test_encrypted_corruption);
    OCTO_RUN(test_hostile_params);
    OCTO_RUN(test_malformed_headers);
    OCTO_RUN(test_default_params);
    return octo_test_finish();
}
