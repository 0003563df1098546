/*
 * base32.c — RFC 4648 base32 without padding, and the multibase prefixes the node uses (see
 * base32.h for the contracts).
 *
 * Bits flow through a small accumulator: eight in per byte, five out per character. An
 * unpadded text length is valid only when it is 0, 2, 4, 5 or 7 modulo 8 (the lengths a
 * partial 5-byte group can produce), and the bits left over after the last whole byte must be
 * zero; with both rules every byte string has exactly one accepted text, so decoding and
 * re-encoding give back the input. Pure functions, thread-safe.
 */
#include "base/base32.h"

#include "base/assert.h"
#include "base/base58.h"
#include "base/hex.h"

#include <stdbool.h>

static const char alphabet_lower[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char alphabet_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Characters produced by a trailing group of 0..4 bytes. */
static const uint8_t tail_chars[5] = {0, 2, 4, 5, 7};

size_t octo_base32_encoded_len(size_t len)
{
    return len / 5 * 8 + tail_chars[len % 5];
}

static int encode_with(const char *alphabet, const uint8_t *in, size_t len, char *out,
                       size_t out_size)
{
    if (len > OCTO_BASE32_MAX_BYTES)
        return OCTO_ETOOBIG;
    size_t n = octo_base32_encoded_len(len);
    if (out_size < n + 1)
        return OCTO_ENOSPACE;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alphabet[(acc >> bits) & 31u];
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (5 - bits)) & 31u];
    OCTO_ASSERT(o == n);
    out[o] = '\0';
    return (int)n;
}

int octo_base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    return encode_with(alphabet_lower, in, len, out, out_size);
}

/* Value of a base32 character in the given case, or -1. */
static int char_value(unsigned char c, bool upper)
{
    unsigned char first = upper ? 'A' : 'a';
    if (c >= first && c < first + 26)
        return c - first;
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

static int decode_with(const char *text, size_t text_len, bool upper, uint8_t *out, size_t out_size)
{
    if (text_len > octo_base32_encoded_len(OCTO_BASE32_MAX_BYTES))
        return OCTO_ETOOBIG;
    size_t rem = text_len % 8;
    if (rem == 1 || rem == 3 || rem == 6)
        return OCTO_EMALFORMED;
    size_t n = text_len * 5 / 8;
    if (out_size < n)
        return OCTO_ENOSPACE;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < text_len; i++) {
        int v = char_value((unsigned char)text[i], upper);
        if (v < 0)
            return OCTO_EMALFORMED;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    OCTO_ASSERT(o == n && bits < 5);
    if ((acc & ((1u << bits) - 1u)) != 0)
        return OCTO_EMALFORMED; /* non-zero padding bits: not the canonical text */
    return (int)n;
}

int octo_base32_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size)
{
    return decode_with(text, text_len, false, out, out_size);
}

/* Multibase 'f' is lowercase hex; octo_hex_decode accepts both cases, so refuse uppercase
 * here to keep one text per byte string. */
static int decode_hex_lower(const char *text, size_t text_len, uint8_t *out, size_t out_size)
{
    if (text_len > 2 * (size_t)OCTO_BASE32_MAX_BYTES)
        return OCTO_ETOOBIG; /* the same limit as the encoder's */
    for (size_t i = 0; i < text_len; i++) {
        if (text[i] >= 'A' && text[i] <= 'F')
            return OCTO_EMALFORMED;
    }
    return octo_hex_decode(text, text_len, out, out_size);
}

int octo_multibase_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size)
{
    if (text_len == 0)
        return OCTO_EMALFORMED;
    const char *body = text + 1;
    size_t body_len = text_len - 1;
    switch (text[0]) {
    case 'z':
        return octo_base58_decode(body, body_len, out, out_size);
    case 'b':
        return decode_with(body, body_len, false, out, out_size);
    case 'B':
        return decode_with(body, body_len, true, out, out_size);
    case 'f':
        return decode_hex_lower(body, body_len, out, out_size);
    default:
        return OCTO_EUNSUPPORTED;
    }
}

int octo_multibase_encode(char prefix, const uint8_t *in, size_t len, char *out, size_t out_size)
{
    if (prefix != 'z' && prefix != 'b' && prefix != 'B' && prefix != 'f')
        return OCTO_EUNSUPPORTED;
    if (out_size < 2)
        return OCTO_ENOSPACE;
    char *body = out + 1;
    size_t body_size = out_size - 1;
    int rc;
    if (prefix == 'z') {
        rc = octo_base58_encode(in, len, body, body_size);
    } else if (prefix == 'f') {
        rc = len > OCTO_BASE32_MAX_BYTES ? OCTO_ETOOBIG : octo_hex_encode(in, len, body, body_size);
    } else {
        rc = encode_with(prefix == 'b' ? alphabet_lower : alphabet_upper, in, len, body, body_size);
    }
    if (rc < 0)
        return rc;
    out[0] = prefix;
    return rc + 1;
}
