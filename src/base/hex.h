/*
 * hex.h — lowercase hex encoding; decoding accepts either case. Constant time with respect
 * to the byte values (no table lookups indexed by secret data), so keys may pass through.
 */
#ifndef OCTO_BASE_HEX_H
#define OCTO_BASE_HEX_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len hex digits and a NUL to out (out_size >= 2*len+1). Returns 2*len,
 * OCTO_ENOSPACE, or OCTO_ETOOBIG when 2*len does not fit an int. */
int octo_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Decodes exactly hex_len digits (even) into out. Returns bytes written, OCTO_EMALFORMED on a
 * non-hex character or odd length (out is wiped then: no half-decoded secret is left),
 * OCTO_ENOSPACE if out is too small, OCTO_ETOOBIG when the result does not fit an int. */
int octo_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size);

#endif
