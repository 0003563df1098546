/*
 * base58.h — base58btc (the Bitcoin alphabet), as used by libp2p peer ids and multibase 'z'.
 * Leading zero bytes map to leading '1' characters and back. Inputs are bounded by
 * OCTO_BASE58_MAX_BYTES because the conversion is quadratic.
 */
#ifndef OCTO_BASE_BASE58_H
#define OCTO_BASE_BASE58_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_BASE58_MAX_BYTES 256
#define OCTO_BASE58_MAX_CHARS 352 /* ceil(256 * log(256)/log(58)) = 350, rounded up */

/* Encodes len bytes into out with a NUL. Returns the text length, OCTO_ETOOBIG when len >
 * OCTO_BASE58_MAX_BYTES, OCTO_ENOSPACE when out is too small. */
int octo_base58_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Decodes text[0..text_len). Returns the byte length, OCTO_EMALFORMED on a character
 * outside the alphabet or empty input, OCTO_ETOOBIG when text_len > OCTO_BASE58_MAX_CHARS or
 * the result would exceed OCTO_BASE58_MAX_BYTES (so every decoded value can be re-encoded),
 * OCTO_ENOSPACE when out is too small. */
int octo_base58_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size);

#endif
