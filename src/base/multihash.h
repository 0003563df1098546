/*
 * multihash.h — self-describing hashes: uvarint(code) || uvarint(digest length) || digest.
 * Only parsing and framing live here (no hashing: base has no crypto). Codes used by the
 * project: identity (0x00) for Ed25519 peer ids, sha2-256 (0x12), blake2b-256 (0xb220).
 */
#ifndef OCTO_BASE_MULTIHASH_H
#define OCTO_BASE_MULTIHASH_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_MH_IDENTITY 0x00
#define OCTO_MH_SHA2_256 0x12
#define OCTO_MH_BLAKE2B_256 0xb220
#define OCTO_MULTIHASH_DIGEST_MAX 128

struct octo_multihash {
    uint64_t code;
    const uint8_t *digest; /* borrowed: points into the decoded input */
    size_t digest_len;
};

/* Parses a multihash that must span exactly in[0..len); returns 0. Errors: OCTO_EMALFORMED
 * (length mismatch, truncated, a varint longer than 9 bytes), OCTO_ENONCANON (non-minimal
 * varint), OCTO_ETOOBIG (digest longer than OCTO_MULTIHASH_DIGEST_MAX), OCTO_EMALFORMED when
 * a known code has the wrong digest length (sha2-256 and blake2b-256 must be 32 bytes). */
int octo_multihash_decode(const uint8_t *in, size_t len, struct octo_multihash *out);

/* Parses a multihash prefix of in[0..len); returns the bytes it spans, or an error. */
int octo_multihash_decode_prefix(const uint8_t *in, size_t len, struct octo_multihash *out);

/* Writes code/len/digest into out; returns bytes written, OCTO_ENOSPACE, OCTO_ETOOBIG
 * (digest_len > OCTO_MULTIHASH_DIGEST_MAX), or OCTO_EINVAL (code above 63 bits, or a known
 * fixed-size code with another digest length): whatever it writes decodes. */
int octo_multihash_encode(uint64_t code, const uint8_t *digest, size_t digest_len, uint8_t *out,
                          size_t out_size);

#endif
