/*
 * hex.c — lowercase hex encoding and case-insensitive decoding (see hex.h).
 *
 * Keys and other secrets pass through here, so neither direction indexes a table with data
 * or branches on a data byte: digits are computed with arithmetic and range masks, and a
 * decoding error is accumulated in a mask and acted on only after the whole input has been
 * read. Lengths are public and may be branched on. Pure functions, thread-safe.
 */
#include "base/hex.h"

#include "base/assert.h"
#include "base/mem.h"

#include <limits.h>

/* 0xff when lo <= x <= hi, else 0, for x, lo, hi in 0..255, without branches: both
 * differences stay below 256 exactly when x is in range; otherwise one of them wraps. */
static unsigned in_range_mask(unsigned x, unsigned lo, unsigned hi)
{
    unsigned outside = ((x - lo) | (hi - x)) >> 8; /* 0 when in range */
    return ((outside - 1u) >> 24) & 0xffu;
}

/* The lowercase hex digit for a nibble (0..15). */
static char hex_digit(unsigned nibble)
{
    /* 'a' - '0' - 10 = 0x27 is added when nibble > 9, i.e. when 9 - nibble wraps. */
    unsigned c = nibble + '0' + (((9u - nibble) >> 8) & 0x27u);
    return (char)c;
}

/* The value of a hex digit; sets bits in *bad when c is not one. */
static unsigned hex_value(unsigned char ch, unsigned *bad)
{
    unsigned c = ch;
    unsigned m_num = in_range_mask(c, '0', '9');
    unsigned m_low = in_range_mask(c, 'a', 'f');
    unsigned m_up = in_range_mask(c, 'A', 'F');
    *bad |= ~(m_num | m_low | m_up) & 0xffu;
    return ((c - '0') & m_num) | ((c - 'a' + 10u) & m_low) | ((c - 'A' + 10u) & m_up);
}

/* Encodes in[0..len) as 2*len lowercase digits plus a NUL. Returns 2*len, OCTO_ENOSPACE when
 * out_size < 2*len+1, OCTO_ETOOBIG when 2*len does not fit an int. */
int octo_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    if (len > (size_t)(INT_MAX - 1) / 2)
        return OCTO_ETOOBIG;
    if (out_size < 2 * len + 1)
        return OCTO_ENOSPACE;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digit(in[i] >> 4);
        out[2 * i + 1] = hex_digit(in[i] & 15u);
    }
    out[2 * len] = '\0';
    return (int)(2 * len);
}

/* Decodes hex[0..hex_len) (either case) into out. Returns hex_len/2, OCTO_EMALFORMED on an
 * odd length or a non-hex character (out is wiped then), OCTO_ENOSPACE when out_size <
 * hex_len/2, OCTO_ETOOBIG when the result does not fit an int. */
int octo_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size)
{
    if (hex_len % 2 != 0)
        return OCTO_EMALFORMED;
    size_t n = hex_len / 2;
    if (n > (size_t)INT_MAX)
        return OCTO_ETOOBIG;
    if (out_size < n)
        return OCTO_ENOSPACE;
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned hi = hex_value((unsigned char)hex[2 * i], &bad);
        unsigned lo = hex_value((unsigned char)hex[2 * i + 1], &bad);
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    if (bad != 0) {
        octo_wipe(out, n); /* leave no half-decoded secret behind */
        return OCTO_EMALFORMED;
    }
    return (int)n;
}
