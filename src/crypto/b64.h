/*
 * b64.h — standard base64 (RFC 4648 §4, padded) through libsodium, for binary frames carried
 * in JSON (the sealed exchange through the gateway's HTTP API).
 */
#ifndef OCTO_CRYPTO_B64_H
#define OCTO_CRYPTO_B64_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

/* The text of p[0..n), NUL-terminated (octo_free it), or NULL when out of memory. */
char *octo_b64_encode(const uint8_t *p, size_t n);

/* Decodes text (padded, no whitespace) into out[0..cap): the length, or OCTO_EMALFORMED (not
 * base64, or longer than cap). */
OCTO_MUST_USE long octo_b64_decode(const char *text, uint8_t *out, size_t cap);

#endif
