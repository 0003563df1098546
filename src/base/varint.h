/*
 * varint.h — multiformats unsigned varint (LEB128, least-significant group first, MSB set
 * on every byte but the last). Decoding enforces the spec: minimal encoding only (no
 * trailing 0x00 groups), at most 9 bytes (63 bits).
 */
#ifndef OCTO_BASE_VARINT_H
#define OCTO_BASE_VARINT_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_VARINT_MAX_LEN 9
#define OCTO_VARINT_MAX_VALUE ((UINT64_C(1) << 63) - 1)

/* Number of bytes octo_varint_encode writes for v (v <= OCTO_VARINT_MAX_VALUE). */
size_t octo_varint_size(uint64_t v);

/* Writes v to out (room for at least octo_varint_size(v) bytes); returns the length.
 * Asserts v <= OCTO_VARINT_MAX_VALUE. */
size_t octo_varint_encode(uint64_t v, uint8_t *out);

/* Decodes one varint from in[0..len). On success returns the bytes consumed (1..9) and
 * stores the value. Errors: OCTO_EAGAIN (input ends inside the varint, len < 9),
 * OCTO_ENONCANON (not minimal), OCTO_ETOOBIG (more than 9 bytes or above 63 bits). */
int octo_varint_decode(const uint8_t *in, size_t len, uint64_t *value);

#endif
