/*
 * base58.c — base58btc (see base58.h for the contracts).
 *
 * The conversion is the schoolbook change of radix: every input digit multiplies the
 * accumulated number by the input radix and adds itself. The accumulator is an array of
 * output-radix digits, least significant first, that grows only as far as the value
 * reaches, so encoding a 38-byte peer id touches about a thousand digit cells. Leading zero
 * bytes and leading '1' characters map to each other one for one, which makes the encoding
 * a bijection between byte strings and base58 strings: decode-then-encode and
 * encode-then-decode both give back the input.
 *
 * The work buffers live on the stack and are bounded by OCTO_BASE58_MAX_CHARS. base58 text
 * is public (peer ids), so the decoder uses a lookup table. Pure functions, thread-safe.
 */
#include "base/base58.h"

#include "base/assert.h"

#include <string.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Digit value of each ASCII character, -1 outside the alphabet. */
static const int8_t digit_of[128] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x00 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x10 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x20 */
    -1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  -1, -1, -1, -1, -1, -1, /* 0x30 */
    -1, 9,  10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1, /* 0x40 */
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -1, -1, -1, -1, -1, /* 0x50 */
    -1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44, 45, 46, /* 0x60 */
    47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1, /* 0x70 */
};

_Static_assert(sizeof(alphabet) == 59, "58 characters and a NUL");
/* 256 bytes of 0xff need ceil(256 * 8 / log2(58)) = 350 digits. */
_Static_assert(OCTO_BASE58_MAX_CHARS >= 350, "room for the longest encoding");
/* Every base58 character carries less than one byte, so the byte accumulator of the decoder
 * never needs more cells than there are characters. */
_Static_assert(OCTO_BASE58_MAX_CHARS >= OCTO_BASE58_MAX_BYTES, "decoder scratch is large enough");

int octo_base58_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    if (len > OCTO_BASE58_MAX_BYTES)
        return OCTO_ETOOBIG;
    size_t zeros = 0;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    uint8_t digits[OCTO_BASE58_MAX_CHARS]; /* base58 digits, least significant first */
    size_t ndigits = 0;
    for (size_t i = zeros; i < len; i++) {
        uint32_t carry = in[i];
        for (size_t j = 0; j < ndigits; j++) {
            carry += (uint32_t)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry != 0) {
            OCTO_ASSERT(ndigits < sizeof(digits));
            digits[ndigits++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    size_t total = zeros + ndigits;
    if (out_size < total + 1)
        return OCTO_ENOSPACE;
    memset(out, '1', zeros);
    for (size_t j = 0; j < ndigits; j++)
        out[zeros + j] = alphabet[digits[ndigits - 1 - j]];
    out[total] = '\0';
    return (int)total;
}

int octo_base58_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size)
{
    if (text_len == 0)
        return OCTO_EMALFORMED;
    if (text_len > OCTO_BASE58_MAX_CHARS)
        return OCTO_ETOOBIG;
    size_t ones = 0;
    while (ones < text_len && text[ones] == '1')
        ones++;
    uint8_t bytes[OCTO_BASE58_MAX_CHARS]; /* the value, least significant byte first */
    size_t nbytes = 0;
    for (size_t i = ones; i < text_len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 128 || digit_of[c] < 0)
            return OCTO_EMALFORMED;
        uint32_t carry = (uint32_t)digit_of[c];
        for (size_t j = 0; j < nbytes; j++) {
            carry += (uint32_t)bytes[j] * 58;
            bytes[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry != 0) {
            OCTO_ASSERT(nbytes < sizeof(bytes));
            bytes[nbytes++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    size_t total = ones + nbytes;
    if (total > OCTO_BASE58_MAX_BYTES)
        return OCTO_ETOOBIG; /* keeps every decoded value re-encodable */
    if (out_size < total)
        return OCTO_ENOSPACE;
    memset(out, 0, ones);
    for (size_t j = 0; j < nbytes; j++)
        out[ones + j] = bytes[nbytes - 1 - j];
    return (int)total;
}
