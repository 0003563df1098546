/*
 * test_base32.c — RFC 4648 §10 vectors (lowercased, unpadded), canonical trailing bits,
 * impossible lengths, case rules, limits; multibase 'z', 'b', 'B', 'f' and the libp2p CIDv1
 * peer id of LIBP2P.md §2.
 */
#include "base/base32.h"
#include "base/rng.h"
#include "test.h"

struct b32_case {
    const char *plain;
    const char *text;
};

static const struct b32_case rfc4648[] = {
    {"", ""},
    {"f", "my"},
    {"fo", "mzxq"},
    {"foo", "mzxw6"},
    {"foob", "mzxw6yq"},
    {"fooba", "mzxw6ytb"},
    {"foobar", "mzxw6ytboi"},
};

static void test_rfc4648_vectors(void)
{
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const char *p = rfc4648[i].plain;
        size_t len = strlen(p);
        char text[32];
        CHECK_EQ_INT(octo_base32_encoded_len(len), strlen(rfc4648[i].text));
        CHECK_EQ_INT(octo_base32_encode((const uint8_t *)p, len, text, sizeof(text)),
                     (int)strlen(rfc4648[i].text));
        CHECK_STR(text, rfc4648[i].text);
        uint8_t back[32];
        CHECK_EQ_INT(
            octo_base32_decode(rfc4648[i].text, strlen(rfc4648[i].text), back, sizeof(back)),
            (int)len);
        CHECK_MEM(back, p, len);
    }
}

static void test_rejects(void)
{
    uint8_t out[32];
    /* upper case (that is multibase 'B'), padding, characters outside the alphabet */
    static const char *const bad[] = {"MY", "my======", "mzxw6y=", "m1",
                                      "m8", "m0",       "my!",     "mzx w6"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_ERR(octo_base32_decode(bad[i], strlen(bad[i]), out, sizeof(out)), OCTO_EMALFORMED);
    /* lengths 1, 3, 6 (mod 8) cannot come from an encoder */
    CHECK_ERR(octo_base32_decode("m", 1, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_ERR(octo_base32_decode("mzx", 3, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_ERR(octo_base32_decode("mzxw6y", 6, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_ERR(octo_base32_decode("mzxw6ytbo", 9, out, sizeof(out)), OCTO_EMALFORMED);
    /* non-zero trailing bits: "mz" carries 2 spare bits, "mzxr" 4, "mzxw7" 1, "mzxw6yr" 3,
     * "mzxw6ytboj" 2 */
    static const char *const noncanon[] = {"mz", "mb", "mzxr", "mzxw7", "mzxw6yr", "mzxw6ytboj"};
    for (size_t i = 0; i < sizeof(noncanon) / sizeof(noncanon[0]); i++)
        CHECK_ERR(octo_base32_decode(noncanon[i], strlen(noncanon[i]), out, sizeof(out)),
                  OCTO_EMALFORMED);
}

static void test_sizes_and_limits(void)
{
    char text[16];
    CHECK_ERR(octo_base32_encode((const uint8_t *)"foo", 3, text, 5), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_base32_encode((const uint8_t *)"foo", 3, text, 6), 5);
    uint8_t out[8];
    CHECK_ERR(octo_base32_decode("mzxw6", 5, out, 2), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_base32_decode("mzxw6", 5, out, 3), 3);

    static uint8_t big[OCTO_BASE32_MAX_BYTES + 1];
    static char bigtext[2 * OCTO_BASE32_MAX_BYTES];
    static uint8_t bigout[OCTO_BASE32_MAX_BYTES + 8];
    CHECK_ERR(octo_base32_encode(big, sizeof(big), bigtext, sizeof(bigtext)), OCTO_ETOOBIG);
    int n = octo_base32_encode(big, OCTO_BASE32_MAX_BYTES, bigtext, sizeof(bigtext));
    CHECK_EQ_INT(n, octo_base32_encoded_len(OCTO_BASE32_MAX_BYTES));
    CHECK_EQ_INT(octo_base32_decode(bigtext, (size_t)n, bigout, sizeof(bigout)),
                 OCTO_BASE32_MAX_BYTES);
    memset(bigtext, 'a', sizeof(bigtext));
    CHECK_ERR(octo_base32_decode(bigtext, (size_t)n + 8, bigout, sizeof(bigout)), OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_base32_encoded_len(0), 0);
    CHECK_EQ_INT(octo_base32_encoded_len(5), 8);
    CHECK_EQ_INT(octo_base32_encoded_len(6), 10);
}

static void test_random_round_trips(void)
{
    struct octo_rng r;
    octo_rng_init(&r, 32);
    for (int iter = 0; iter < 2000; iter++) {
        uint8_t in[40];
        size_t len = (size_t)octo_rng_below(&r, sizeof(in) + 1);
        octo_rng_fill(&r, in, len);
        char text[80];
        int n = octo_base32_encode(in, len, text, sizeof(text));
        CHECK_EQ_INT(n, octo_base32_encoded_len(len));
        uint8_t back[40];
        CHECK_EQ_INT(octo_base32_decode(text, (size_t)n, back, sizeof(back)), (int)len);
        CHECK_MEM(back, in, len);
    }
}

#define PEER_MH "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define PEER_CID "bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny"

static void test_multibase_peer_id(void)
{
    size_t mh_len;
    const uint8_t *mh = octo_test_hex("0172" PEER_MH, &mh_len);
    char text[128];
    CHECK_EQ_INT(octo_multibase_encode('b', mh, mh_len, text, sizeof(text)), (int)strlen(PEER_CID));
    CHECK_STR(text, PEER_CID);
    uint8_t out[64];
    CHECK_EQ_INT(octo_multibase_decode(PEER_CID, strlen(PEER_CID), out, sizeof(out)), 40);
    CHECK_HEX(out, 40, "0172" PEER_MH);
    /* base58btc of the bare multihash, as multibase 'z' */
    const uint8_t *bare = octo_test_hex(PEER_MH, &mh_len);
    CHECK_EQ_INT(octo_multibase_encode('z', bare, mh_len, text, sizeof(text)), 53);
    CHECK_STR(text, "z12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
    CHECK_EQ_INT(octo_multibase_decode(text, 53, out, sizeof(out)), 38);
    CHECK_HEX(out, 38, PEER_MH);
}

static void test_multibase_prefixes(void)
{
    char text[32];
    uint8_t out[16];
    const uint8_t *foo = (const uint8_t *)"foobar";
    CHECK_EQ_INT(octo_multibase_encode('B', foo, 6, text, sizeof(text)), 11);
    CHECK_STR(text, "BMZXW6YTBOI");
    CHECK_EQ_INT(octo_multibase_decode("BMZXW6YTBOI", 11, out, sizeof(out)), 6);
    CHECK_MEM(out, "foobar", 6);
    CHECK_ERR(octo_multibase_decode("Bmzxw6ytboi", 11, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_ERR(octo_multibase_decode("bMZXW6YTBOI", 11, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_EQ_INT(octo_multibase_encode('f', foo, 3, text, sizeof(text)), 7);
    CHECK_STR(text, "f666f6f");
    CHECK_EQ_INT(octo_multibase_decode("f666f6f", 7, out, sizeof(out)), 3);
    CHECK_MEM(out, "foo", 3);
    CHECK_ERR(octo_multibase_decode("f666F6F", 7, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_ERR(octo_multibase_decode("f666f6", 6, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_EQ_INT(octo_multibase_encode('z', foo, 3, text, sizeof(text)), 5);
    CHECK_STR(text, "zbQbp");
    /* empty payloads: base32 and hex have an empty text, base58 does not */
    CHECK_EQ_INT(octo_multibase_decode("b", 1, out, sizeof(out)), 0);
    CHECK_EQ_INT(octo_multibase_decode("f", 1, out, sizeof(out)), 0);
    CHECK_ERR(octo_multibase_decode("z", 1, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_EQ_INT(octo_multibase_encode('b', foo, 0, text, sizeof(text)), 1);
    CHECK_STR(text, "b");
    /* other prefixes */
    CHECK_ERR(octo_multibase_decode("", 0, out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_ERR(octo_multibase_decode("mZm9v", 5, out, sizeof(out)), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_multibase_decode("F666F6F", 7, out, sizeof(out)), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_multibase_encode('m', foo, 3, text, sizeof(text)), OCTO_EUNSUPPORTED);
    /* sizes */
    CHECK_ERR(octo_multibase_encode('b', foo, 6, text, 11), OCTO_ENOSPACE);
    CHECK_ERR(octo_multibase_encode('b', foo, 6, text, 1), OCTO_ENOSPACE);
    CHECK_ERR(octo_multibase_encode('f', foo, 6, text, 13), OCTO_ENOSPACE);
    CHECK_ERR(octo_multibase_decode("f666f6f", 7, out, 2), OCTO_ENOSPACE);
}

int main(void)
{
    OCTO_RUN(test_rfc4648_vectors);
    OCTO_RUN(test_rejects);
    OCTO_RUN(test_sizes_and_limits);
    OCTO_RUN(test_random_round_trips);
    OCTO_RUN(test_multibase_peer_id);
    OCTO_RUN(test_multibase_prefixes);
    return octo_test_finish();
}
