/*
 * test_varint.c — multiformats unsigned varint: the published vectors (300 -> ac 02,
 * 16384 -> 80 80 01), the 63-bit ceiling, minimality and truncation rules.
 */
#include "base/varint.h"
#include "test.h"

struct varint_case {
    uint64_t value;
    const char *hex;
};

static const struct varint_case cases[] = {
    {0, "00"},
    {1, "01"},
    {127, "7f"},
    {128, "8001"},
    {255, "ff01"},
    {300, "ac02"},
    {16383, "ff7f"},
    {16384, "808001"},
    {0x01a5, "a503"}, /* p2p */
    {0x01de, "de03"}, /* wss */
    {UINT64_C(0xffffffff), "ffffffff0f"},
    {(UINT64_C(1) << 56) - 1, "ffffffffffffff7f"},
    {UINT64_C(1) << 56, "808080808080808001"},
    {OCTO_VARINT_MAX_VALUE, "ffffffffffffffff7f"},
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t want_len;
        const uint8_t *want = octo_test_hex(cases[i].hex, &want_len);
        uint8_t out[OCTO_VARINT_MAX_LEN];
        CHECK_EQ_INT(octo_varint_size(cases[i].value), want_len);
        CHECK_EQ_INT(octo_varint_encode(cases[i].value, out), want_len);
        CHECK_MEM(out, want, want_len);
        uint64_t v = 0;
        CHECK_EQ_INT(octo_varint_decode(want, want_len, &v), (int)want_len);
        CHECK_EQ_U64(v, cases[i].value);
    }
}

static void test_max_value(void)
{
    uint8_t out[OCTO_VARINT_MAX_LEN];
    CHECK_EQ_INT(octo_varint_encode(OCTO_VARINT_MAX_VALUE, out), 9);
    CHECK_EQ_INT(octo_varint_size(OCTO_VARINT_MAX_VALUE), OCTO_VARINT_MAX_LEN);
    CHECK_EQ_U64(OCTO_VARINT_MAX_VALUE, UINT64_C(0x7fffffffffffffff));
}

static void test_decode_stops_at_end_of_varint(void)
{
    size_t len;
    const uint8_t *in = octo_test_hex("ac02 ff ff", &len);
    uint64_t v;
    CHECK_EQ_INT(octo_varint_decode(in, len, &v), 2);
    CHECK_EQ_U64(v, 300);
}

static void test_non_minimal(void)
{
    /* the last has nine bytes, ending in a zero group */
    static const char *const bad[] = {"8000", "818000", "ff00", "808080808080808000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len;
        const uint8_t *in = octo_test_hex(bad[i], &len);
        uint64_t v = 99;
        CHECK_ERR(octo_varint_decode(in, len, &v), OCTO_ENONCANON);
        CHECK_EQ_U64(v, 99); /* untouched on error */
    }
}

static void test_too_long(void)
{
    size_t len;
    uint64_t v;
    /* ten bytes: 2^63 needs a tenth byte */
    const uint8_t *in = octo_test_hex("80808080808080808001", &len);
    CHECK_ERR(octo_varint_decode(in, len, &v), OCTO_ETOOBIG);
    in = octo_test_hex("ffffffffffffffffff01", &len);
    CHECK_ERR(octo_varint_decode(in, len, &v), OCTO_ETOOBIG);
    /* nine continuation bytes are already too long, however many follow */
    in = octo_test_hex("ffffffffffffffffff", &len);
    CHECK_ERR(octo_varint_decode(in, len, &v), OCTO_ETOOBIG);
}

static void test_truncated(void)
{
    size_t len;
    uint64_t v;
    const uint8_t *in = octo_test_hex("80", &len);
    CHECK_ERR(octo_varint_decode(in, len, &v), OCTO_EAGAIN);
    in = octo_test_hex("ac", &len);
    CHECK_ERR(octo_varint_decode(in, len, &v), OCTO_EAGAIN);
    in = octo_test_hex("ffffffffffffffff", &len); /* eight continuation bytes */
    CHECK_ERR(octo_varint_decode(in, len, &v), OCTO_EAGAIN);
    CHECK_ERR(octo_varint_decode(in, 0, &v), OCTO_EAGAIN);
    /* with more input the same prefix decodes */
    in = octo_test_hex("ac02", &len);
    CHECK_ERR(octo_varint_decode(in, 1, &v), OCTO_EAGAIN);
    CHECK_EQ_INT(octo_varint_decode(in, 2, &v), 2);
}

static void test_round_trip_sweep(void)
{
    /* every bit length, and both neighbours of each power of two */
    for (int bits = 0; bits < 63; bits++) {
        uint64_t base = UINT64_C(1) << bits;
        const uint64_t vals[] = {base - 1, base, base + 1};
        for (int k = 0; k < 3; k++) {
            uint8_t out[OCTO_VARINT_MAX_LEN];
            size_t n = octo_varint_encode(vals[k], out);
            CHECK_EQ_INT(n, octo_varint_size(vals[k]));
            CHECK_EQ_INT(n, vals[k] == 0 ? 1 : (64 - __builtin_clzll(vals[k]) + 6) / 7);
            uint64_t v;
            CHECK_EQ_INT(octo_varint_decode(out, n, &v), (int)n);
            CHECK_EQ_U64(v, vals[k]);
            if (n > 1)
                CHECK_ERR(octo_varint_decode(out, n - 1, &v), OCTO_EAGAIN);
        }
    }
}

int main(void)
{
    OCTO_RUN(test_vectors);
    OCTO_RUN(test_max_value);
    OCTO_RUN(test_decode_stops_at_end_of_varint);
    OCTO_RUN(test_non_minimal);
    OCTO_RUN(test_too_long);
    OCTO_RUN(test_truncated);
    OCTO_RUN(test_round_trip_sweep);
    return octo_test_finish();
}
