/*
 * test_base58.c — base58btc: published vectors (draft-msporny-base58, the libp2p peer id of
 * LIBP2P.md §2), leading zeros, the length limits, bad characters, round trips.
 */
#include "base/base58.h"
#include "base/rng.h"
#include "test.h"

struct b58_case {
    const char *hex;
    const char *text;
};

static const struct b58_case cases[] = {
    {"00", "1"},
    {"0000", "11"},
    {"000001", "112"},
    {"39", "z"},
    {"48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U"}, /* "Hello World!" */
    {"54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f672e",
     "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"},
    {"0000287fb4cd", "11233QC4"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
     "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"}, /* the project peer id */
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        const uint8_t *bin = octo_test_hex(cases[i].hex, &len);
        char text[OCTO_BASE58_MAX_CHARS + 1];
        CHECK_EQ_INT(octo_base58_encode(bin, len, text, sizeof(text)), (int)strlen(cases[i].text));
        CHECK_STR(text, cases[i].text);
        uint8_t back[OCTO_BASE58_MAX_BYTES];
        CHECK_EQ_INT(octo_base58_decode(cases[i].text, strlen(cases[i].text), back, sizeof(back)),
                     (int)len);
        CHECK_MEM(back, bin, len);
    }
}

static void test_empty(void)
{
    char text[4] = "x";
    CHECK_EQ_INT(octo_base58_encode(NULL, 0, text, sizeof(text)), 0);
    CHECK_STR(text, "");
    uint8_t out[4];
    CHECK_ERR(octo_base58_decode("", 0, out, sizeof(out)), OCTO_EMALFORMED);
}

static void test_bad_characters(void)
{
    static const char *const bad[] = {"0", "O", "I", "l", "12D3+", " 1", "1 ", "abc\xff", "-"};
    uint8_t out[64];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_ERR(octo_base58_decode(bad[i], strlen(bad[i]), out, sizeof(out)), OCTO_EMALFORMED);
    CHECK_ERR(octo_base58_decode("1\0"
                                 "2",
                                 3, out, sizeof(out)),
              OCTO_EMALFORMED);
}

static void test_limits(void)
{
    static uint8_t in[OCTO_BASE58_MAX_BYTES + 1];
    static char text[OCTO_BASE58_MAX_CHARS + 2];
    static uint8_t out[OCTO_BASE58_MAX_CHARS + 1];
    memset(in, 0xff, sizeof(in));
    CHECK_ERR(octo_base58_encode(in, sizeof(in), text, sizeof(text)), OCTO_ETOOBIG);
    /* the largest input fits the documented bound and decodes back */
    int n = octo_base58_encode(in, OCTO_BASE58_MAX_BYTES, text, sizeof(text));
    CHECK_EQ_INT(n, 350);
    CHECK_EQ_INT(octo_base58_decode(text, (size_t)n, out, sizeof(out)), OCTO_BASE58_MAX_BYTES);
    CHECK_MEM(out, in, OCTO_BASE58_MAX_BYTES);
    /* all zeros: one '1' per byte */
    memset(in, 0, sizeof(in));
    CHECK_EQ_INT(octo_base58_encode(in, OCTO_BASE58_MAX_BYTES, text, sizeof(text)),
                 OCTO_BASE58_MAX_BYTES);
    /* text longer than the limit is refused before any work */
    memset(text, '2', sizeof(text));
    CHECK_ERR(octo_base58_decode(text, OCTO_BASE58_MAX_CHARS + 1, out, sizeof(out)), OCTO_ETOOBIG);
    /* text within the limit whose value would exceed OCTO_BASE58_MAX_BYTES bytes */
    memset(text, 'z', sizeof(text));
    CHECK_ERR(octo_base58_decode(text, OCTO_BASE58_MAX_CHARS, out, sizeof(out)), OCTO_ETOOBIG);
    memset(text, '1', sizeof(text));
    CHECK_ERR(octo_base58_decode(text, OCTO_BASE58_MAX_BYTES + 1, out, sizeof(out)), OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_base58_decode(text, OCTO_BASE58_MAX_BYTES, out, sizeof(out)),
                 OCTO_BASE58_MAX_BYTES);
}

static void test_no_space(void)
{
    const uint8_t in[3] = {0, 0, 1};
    char text[4];
    CHECK_ERR(octo_base58_encode(in, 3, text, 3), OCTO_ENOSPACE); /* "112" + NUL */
    CHECK_EQ_INT(octo_base58_encode(in, 3, text, 4), 3);
    uint8_t out[3];
    CHECK_ERR(octo_base58_decode("112", 3, out, 2), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_base58_decode("112", 3, out, 3), 3);
}

static void test_random_round_trips(void)
{
    struct octo_rng r;
    octo_rng_init(&r, 58);
    for (int iter = 0; iter < 2000; iter++) {
        uint8_t in[64];
        size_t len = (size_t)octo_rng_below(&r, sizeof(in) + 1);
        octo_rng_fill(&r, in, len);
        size_t zeros = (size_t)octo_rng_below(&r, 4); /* force some leading zeros */
        for (size_t i = 0; i < zeros && i < len; i++)
            in[i] = 0;
        char text[OCTO_BASE58_MAX_CHARS + 1];
        int n = octo_base58_encode(in, len, text, sizeof(text));
        CHECK(n >= 0);
        if (len == 0)
            continue;
        uint8_t back[64];
        CHECK_EQ_INT(octo_base58_decode(text, (size_t)n, back, sizeof(back)), (int)len);
        CHECK_MEM(back, in, len);
    }
}

int main(void)
{
    OCTO_RUN(test_vectors);
    OCTO_RUN(test_empty);
    OCTO_RUN(test_bad_characters);
    OCTO_RUN(test_limits);
    OCTO_RUN(test_no_space);
    OCTO_RUN(test_random_round_trips);
    return octo_test_finish();
}
