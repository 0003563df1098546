/*
 * fuzz_varint.c — libFuzzer harness for octo_varint_decode. A varint that decodes must be
 * the canonical encoding of its value: re-encoding gives the same bytes, decoding them again
 * gives the same value, and every shorter prefix is reported as incomplete.
 */
#include "base/assert.h"
#include "base/varint.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t v;
    int n = octo_varint_decode(data, size, &v);
    if (n < 0) {
        OCTO_ASSERT(n == OCTO_EAGAIN || n == OCTO_ENONCANON || n == OCTO_ETOOBIG);
        return 0;
    }
    OCTO_ASSERT(n >= 1 && n <= OCTO_VARINT_MAX_LEN && (size_t)n <= size);
    OCTO_ASSERT(v <= OCTO_VARINT_MAX_VALUE);
    uint8_t out[OCTO_VARINT_MAX_LEN];
    size_t m = octo_varint_encode(v, out);
    OCTO_ASSERT(m == (size_t)n && octo_varint_size(v) == m);
    OCTO_ASSERT(memcmp(out, data, m) == 0);
    uint64_t v2;
    OCTO_ASSERT(octo_varint_decode(out, m, &v2) == n && v2 == v);
    for (size_t k = 0; k < m; k++)
        OCTO_ASSERT(octo_varint_decode(out, k, &v2) == OCTO_EAGAIN);
    return 0;
}
