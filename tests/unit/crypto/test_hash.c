/*
 * test_hash.c — SHA-256 (FIPS 180-2 "abc" and the empty string) and BLAKE2b (RFC 7693
 * Appendix A: BLAKE2b-512("abc")), one-shot against incremental, keyed mode, and the
 * parameter limits; plus the OS random source.
 */
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "crypto/random.h"
#include "test.h"

static void test_sha256_vectors(void)
{
    uint8_t out[OCTO_SHA256_LEN];
    octo_sha256("abc", 3, out);
    CHECK_HEX(out, sizeof(out), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    octo_sha256(NULL, 0, out);
    CHECK_HEX(out, sizeof(out), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* incremental, split at every point */
    static const char msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (size_t cut = 0; cut <= sizeof(msg) - 1; cut++) {
        struct octo_sha256 h;
        octo_sha256_init(&h);
        octo_sha256_update(&h, msg, cut);
        octo_sha256_update(&h, msg + cut, sizeof(msg) - 1 - cut);
        octo_sha256_final(&h, out);
        CHECK_HEX(out, sizeof(out),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
}

static void test_blake2b_vectors(void)
{
    uint8_t out[OCTO_BLAKE2B_LEN_MAX];
    CHECK_OK(octo_blake2b(out, 64, "abc", 3, NULL, 0));
    CHECK_HEX(out, 64,
              "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252"
              "d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    struct octo_blake2b h;
    CHECK_OK(octo_blake2b_init(&h, 64, NULL, 0));
    octo_blake2b_update(&h, "a", 1);
    octo_blake2b_update(&h, "bc", 2);
    octo_blake2b_final(&h, out);
    CHECK_HEX(out, 64,
              "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252"
              "d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    /* BLAKE2b-256("abc"), a different parameter block, not a truncation */
    CHECK_OK(octo_blake2b(out, 32, "abc", 3, NULL, 0));
    CHECK_HEX(out, 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

static void test_blake2b_keyed_and_limits(void)
{
    uint8_t key[OCTO_BLAKE2B_KEY_MAX];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)i;
    uint8_t a[32], b[32], c[32];
    CHECK_OK(octo_blake2b(a, 32, "msg", 3, key, 32));
    struct octo_blake2b h;
    CHECK_OK(octo_blake2b_init(&h, 32, key, 32));
    octo_blake2b_update(&h, "m", 1);
    octo_blake2b_update(&h, "sg", 2);
    octo_blake2b_final(&h, b);
    CHECK_MEM(a, b, 32);
    CHECK_OK(octo_blake2b(c, 32, "msg", 3, NULL, 0));
    CHECK(memcmp(a, c, 32) != 0);
    CHECK_OK(octo_blake2b(c, 32, "msg", 3, key, 64));
    CHECK(memcmp(a, c, 32) != 0);
    CHECK_OK(octo_blake2b(c, 16, NULL, 0, NULL, 0));
    CHECK_ERR(octo_blake2b(c, 15, "x", 1, NULL, 0), OCTO_EINVAL);
    uint8_t big[65];
    CHECK_ERR(octo_blake2b(big, 65, "x", 1, NULL, 0), OCTO_EINVAL);
    CHECK_ERR(octo_blake2b(c, 32, "x", 1, key, 65), OCTO_EINVAL);
    CHECK_ERR(octo_blake2b(c, 32, "x", 1, NULL, 5), OCTO_EINVAL);
    CHECK_ERR(octo_blake2b_init(&h, 0, NULL, 0), OCTO_EINVAL);
    CHECK_ERR(octo_blake2b_init(&h, 32, key, 65), OCTO_EINVAL);
}

static void test_random(void)
{
    uint8_t a[32] = {0}, b[32] = {0};
    static const uint8_t zero[32];
    octo_random_bytes(a, sizeof(a));
    octo_random_bytes(b, sizeof(b));
    CHECK(memcmp(a, zero, 32) != 0);
    CHECK(memcmp(a, b, 32) != 0);
    octo_random_bytes(NULL, 0);
    uint64_t x = octo_random_u64(), y = octo_random_u64();
    CHECK(x != y); /* fails with probability 2^-64 */
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_sha256_vectors);
    OCTO_RUN(test_blake2b_vectors);
    OCTO_RUN(test_blake2b_keyed_and_limits);
    OCTO_RUN(test_random);
    return octo_test_finish();
}
