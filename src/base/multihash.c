/*
 * multihash.c — multihash framing (see multihash.h for the contracts).
 *
 * A multihash is uvarint(code) || uvarint(digest length) || digest. The decoder reads both
 * varints strictly (minimal, at most 9 bytes), bounds the digest length by
 * OCTO_MULTIHASH_DIGEST_MAX before looking at the digest, and checks the digest length of
 * the codes whose size is fixed. Decoded digests are borrowed pointers into the input. Pure
 * functions, thread-safe.
 */
#include "base/multihash.h"

#include "base/assert.h"
#include "base/varint.h"

#include <string.h>

/* The digest length a known code requires, or 0 for codes of any length (identity and codes
 * the project does not know). */
static size_t fixed_digest_len(uint64_t code)
{
    switch (code) {
    case OCTO_MH_SHA2_256:
    case OCTO_MH_BLAKE2B_256:
        return 32;
    default:
        return 0;
    }
}

/* Reads one varint field of a multihash, mapping a truncated or overlong varint to
 * OCTO_EMALFORMED (the multihash is broken either way) and keeping OCTO_ENONCANON. */
static int read_field(const uint8_t *in, size_t len, uint64_t *value)
{
    int n = octo_varint_decode(in, len, value);
    if (n == OCTO_ENONCANON)
        return n;
    return n < 0 ? OCTO_EMALFORMED : n;
}

int octo_multihash_decode_prefix(const uint8_t *in, size_t len, struct octo_multihash *out)
{
    uint64_t code, digest_len;
    int n1 = read_field(in, len, &code);
    if (n1 < 0)
        return n1;
    size_t pos = (size_t)n1;
    int n2 = read_field(in + pos, len - pos, &digest_len);
    if (n2 < 0)
        return n2;
    pos += (size_t)n2;
    if (digest_len > OCTO_MULTIHASH_DIGEST_MAX)
        return OCTO_ETOOBIG;
    if (digest_len > len - pos)
        return OCTO_EMALFORMED; /* truncated digest */
    size_t fixed = fixed_digest_len(code);
    if (fixed != 0 && digest_len != fixed)
        return OCTO_EMALFORMED;
    out->code = code;
    out->digest = in + pos;
    out->digest_len = (size_t)digest_len;
    return (int)(pos + (size_t)digest_len);
}

int octo_multihash_decode(const uint8_t *in, size_t len, struct octo_multihash *out)
{
    struct octo_multihash mh;
    int n = octo_multihash_decode_prefix(in, len, &mh);
    if (n < 0)
        return n;
    if ((size_t)n != len)
        return OCTO_EMALFORMED; /* trailing bytes */
    *out = mh;
    return 0;
}

int octo_multihash_encode(uint64_t code, const uint8_t *digest, size_t digest_len, uint8_t *out,
                          size_t out_size)
{
    if (code > OCTO_VARINT_MAX_VALUE)
        return OCTO_EINVAL;
    if (digest_len > OCTO_MULTIHASH_DIGEST_MAX)
        return OCTO_ETOOBIG;
    size_t fixed = fixed_digest_len(code);
    if (fixed != 0 && digest_len != fixed)
        return OCTO_EINVAL;
    size_t total = octo_varint_size(code) + octo_varint_size(digest_len) + digest_len;
    if (out_size < total)
        return OCTO_ENOSPACE;
    size_t pos = octo_varint_encode(code, out);
    pos += octo_varint_encode(digest_len, out + pos);
    if (digest_len > 0)
        memcpy(out + pos, digest, digest_len);
    OCTO_ASSERT(pos + digest_len == total);
    return (int)total;
}
