/*
 * varint.c — multiformats unsigned varint (see varint.h for the contracts).
 *
 * The decoder is strict in the way the multiformats spec asks: a value must use the fewest
 * bytes that can hold it (a final 0x00 group after other groups is non-canonical), and a
 * varint is at most 9 bytes, which holds exactly 63 bits, so a ninth byte can never carry a
 * value above OCTO_VARINT_MAX_VALUE. Pure functions, no allocation, thread-safe.
 */
#include "base/varint.h"

#include "base/assert.h"

_Static_assert(OCTO_VARINT_MAX_LEN * 7 == 63, "nine 7-bit groups hold exactly 63 bits");

size_t octo_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t octo_varint_encode(uint64_t v, uint8_t *out)
{
    OCTO_ASSERT(v <= OCTO_VARINT_MAX_VALUE);
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    OCTO_DASSERT(n <= OCTO_VARINT_MAX_LEN);
    return n;
}

int octo_varint_decode(const uint8_t *in, size_t len, uint64_t *value)
{
    uint64_t v = 0;
    size_t limit = len < OCTO_VARINT_MAX_LEN ? len : OCTO_VARINT_MAX_LEN;
    for (size_t i = 0; i < limit; i++) {
        uint8_t b = in[i];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            if (b == 0 && i > 0)
                return OCTO_ENONCANON; /* a trailing zero group adds nothing */
            OCTO_DASSERT(v <= OCTO_VARINT_MAX_VALUE);
            *value = v;
            return (int)(i + 1);
        }
    }
    /* Every byte read had its continuation bit set. */
    return len < OCTO_VARINT_MAX_LEN ? OCTO_EAGAIN : OCTO_ETOOBIG;
}
