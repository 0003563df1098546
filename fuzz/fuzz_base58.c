/*
 * fuzz_base58.c — libFuzzer harness for base58btc. base58 is a bijection between byte
 * strings and texts, so both directions must round-trip exactly: the input as text
 * (decode, encode, decode) and the input as bytes (encode, decode, encode).
 */
#include "base/assert.h"
#include "base/base58.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_round_trip(const uint8_t *data, size_t size)
{
    uint8_t bytes[OCTO_BASE58_MAX_BYTES];
    int n = octo_base58_decode((const char *)data, size, bytes, sizeof(bytes));
    if (n < 0) {
        OCTO_ASSERT(n == OCTO_EMALFORMED || n == OCTO_ETOOBIG);
        return;
    }
    char text[OCTO_BASE58_MAX_CHARS + 1];
    int t = octo_base58_encode(bytes, (size_t)n, text, sizeof(text));
    OCTO_ASSERT(t >= 0 && (size_t)t == size && memcmp(text, data, size) == 0);
    uint8_t again[OCTO_BASE58_MAX_BYTES];
    OCTO_ASSERT(octo_base58_decode(text, (size_t)t, again, sizeof(again)) == n);
    OCTO_ASSERT(memcmp(again, bytes, (size_t)n) == 0);
}

static void bytes_round_trip(const uint8_t *data, size_t size)
{
    char text[OCTO_BASE58_MAX_CHARS + 1];
    int t = octo_base58_encode(data, size, text, sizeof(text));
    if (t < 0) {
        OCTO_ASSERT(t == OCTO_ETOOBIG && size > OCTO_BASE58_MAX_BYTES);
        return;
    }
    if (size == 0) {
        OCTO_ASSERT(t == 0);
        return;
    }
    uint8_t bytes[OCTO_BASE58_MAX_BYTES];
    int n = octo_base58_decode(text, (size_t)t, bytes, sizeof(bytes));
    OCTO_ASSERT(n >= 0 && (size_t)n == size && memcmp(bytes, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    text_round_trip(data, size);
    bytes_round_trip(data, size);
    return 0;
}
