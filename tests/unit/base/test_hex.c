/*
 * test_hex.c — hex encoding/decoding: every byte value both ways, mixed case on input,
 * odd lengths, bad characters (including the neighbours of each accepted range), sizes.
 */
#include "base/hex.h"
#include "test.h"

static void test_all_bytes(void)
{
    uint8_t in[256];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    char text[513];
    CHECK_EQ_INT(octo_hex_encode(in, sizeof(in), text, sizeof(text)), 512);
    CHECK_EQ_INT(text[512], '\0');
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 256; i++) {
        CHECK_EQ_INT(text[2 * i], digits[i >> 4]);
        CHECK_EQ_INT(text[2 * i + 1], digits[i & 15]);
    }
    uint8_t back[256];
    CHECK_EQ_INT(octo_hex_decode(text, 512, back, sizeof(back)), 256);
    CHECK_MEM(back, in, 256);
}

static void test_vectors(void)
{
    char text[16];
    CHECK_EQ_INT(octo_hex_encode((const uint8_t *)"\x00\x9f\xff\x0a", 4, text, sizeof(text)), 8);
    CHECK_STR(text, "009fff0a");
    CHECK_EQ_INT(octo_hex_encode(NULL, 0, text, 1), 0);
    CHECK_STR(text, "");
    uint8_t out[8];
    CHECK_EQ_INT(octo_hex_decode("DeadBEEF", 8, out, sizeof(out)), 4);
    CHECK_HEX(out, 4, "deadbeef");
    CHECK_EQ_INT(octo_hex_decode("", 0, out, 0), 0);
}

static void test_bad_input(void)
{
    uint8_t out[8];
    CHECK_ERR(octo_hex_decode("abc", 3, out, sizeof(out)), OCTO_EMALFORMED);
    /* the neighbours of '0'-'9', 'a'-'f' and 'A'-'F', and a few others */
    static const char bad[] = "/:`gG@ \n\xff\x80";
    for (size_t i = 0; i < sizeof(bad) - 1; i++) {
        char t[4] = {'a', 'b', bad[i], '0'};
        memset(out, 0x55, sizeof(out));
        CHECK_ERR(octo_hex_decode(t, 4, out, sizeof(out)), OCTO_EMALFORMED);
        CHECK_EQ_INT(out[0], 0); /* wiped on error */
        char u[2] = {bad[i], '0'};
        CHECK_ERR(octo_hex_decode(u, 2, out, sizeof(out)), OCTO_EMALFORMED);
    }
    CHECK_ERR(octo_hex_decode("00\0"
                              "0",
                              4, out, sizeof(out)),
              OCTO_EMALFORMED);
}

static void test_sizes(void)
{
    char text[9];
    uint8_t in[4] = {1, 2, 3, 4};
    CHECK_ERR(octo_hex_encode(in, 4, text, 8), OCTO_ENOSPACE); /* no room for the NUL */
    CHECK_EQ_INT(octo_hex_encode(in, 4, text, 9), 8);
    uint8_t out[4];
    CHECK_ERR(octo_hex_decode("0102030405", 10, out, 4), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_hex_decode("01020304", 8, out, 4), 4);
    CHECK_ERR(octo_hex_encode(in, SIZE_MAX / 2, text, sizeof(text)), OCTO_ETOOBIG);
}

int main(void)
{
    OCTO_RUN(test_all_bytes);
    OCTO_RUN(test_vectors);
    OCTO_RUN(test_bad_input);
    OCTO_RUN(test_sizes);
    return octo_test_finish();
}
