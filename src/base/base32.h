/*
 * base32.h — RFC 4648 base32, lowercase, without padding: the multibase 'b' encoding used by
 * CIDv1 peer ids ("bafz..."). Decoding accepts lowercase only (multibase 'b' is lowercase;
 * 'B' is the uppercase variant, accepted by octo_multibase_decode), rejects padding and
 * rejects non-zero trailing bits (canonical form).
 */
#ifndef OCTO_BASE_BASE32_H
#define OCTO_BASE_BASE32_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_BASE32_MAX_BYTES 4096

/* Length of the unpadded encoding of len bytes (len <= SIZE_MAX / 2). */
size_t octo_base32_encoded_len(size_t len);

/* Encodes in[0..len) into out with a NUL. Returns the text length, OCTO_ETOOBIG when len >
 * OCTO_BASE32_MAX_BYTES, OCTO_ENOSPACE when out_size < octo_base32_encoded_len(len) + 1. */
int octo_base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Decodes text[0..text_len) (lowercase, unpadded). Returns the byte length, OCTO_EMALFORMED
 * (bad character, impossible length, or non-zero trailing bits), OCTO_ETOOBIG (text longer
 * than the encoding of OCTO_BASE32_MAX_BYTES), OCTO_ENOSPACE (out_size < text_len * 5 / 8).
 * The empty text decodes to zero bytes. */
int octo_base32_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size);

/* Multibase: a one-character prefix naming the encoding. Supported: 'z' (base58btc),
 * 'b' (base32 lower), 'B' (base32 upper), 'f' (hex lower). Decode returns the byte length
 * or an error (OCTO_EUNSUPPORTED for another prefix, OCTO_EMALFORMED for empty text or a bad
 * body, including uppercase hex after 'f'; the body's own errors otherwise). Encode writes the
 * prefix + text + NUL and returns its length; 'f' is limited to OCTO_BASE32_MAX_BYTES too. */
int octo_multibase_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size);
int octo_multibase_encode(char prefix, const uint8_t *in, size_t len, char *out, size_t out_size);

#endif
