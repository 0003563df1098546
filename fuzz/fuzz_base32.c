/*
 * fuzz_base32.c — libFuzzer harness for base32 and multibase. A text that decodes is the
 * canonical text of its bytes, so re-encoding must give the input back exactly; the same
 * holds for the multibase prefixes 'z', 'b', 'B' and 'f'. Bytes must survive encode/decode.
 */
#include "base/assert.h"
#include "base/base32.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded bytes and re-encoded text, sized for the largest accepted input. */
static uint8_t bytes[OCTO_BASE32_MAX_BYTES + 1];
static char text[2 * OCTO_BASE32_MAX_BYTES + 2];

static void base32_text_round_trip(const uint8_t *data, size_t size)
{
    int n = octo_base32_decode((const char *)data, size, bytes, sizeof(bytes));
    if (n < 0) {
        OCTO_ASSERT(n == OCTO_EMALFORMED || n == OCTO_ETOOBIG);
        return;
    }
    int t = octo_base32_encode(bytes, (size_t)n, text, sizeof(text));
    OCTO_ASSERT(t >= 0 && (size_t)t == size && memcmp(text, data, size) == 0);
}

static void multibase_text_round_trip(const uint8_t *data, size_t size)
{
    int n = octo_multibase_decode((const char *)data, size, bytes, sizeof(bytes));
    if (n < 0) {
        OCTO_ASSERT(n == OCTO_EMALFORMED || n == OCTO_ETOOBIG || n == OCTO_EUNSUPPORTED);
        return;
    }
    int t = octo_multibase_encode((char)data[0], bytes, (size_t)n, text, sizeof(text));
    OCTO_ASSERT(t >= 0 && (size_t)t == size && memcmp(text, data, size) == 0);
}

static void bytes_round_trip(const uint8_t *data, size_t size)
{
    int t = octo_base32_encode(data, size, text, sizeof(text));
    if (t < 0) {
        OCTO_ASSERT(t == OCTO_ETOOBIG && size > OCTO_BASE32_MAX_BYTES);
        return;
    }
    OCTO_ASSERT((size_t)t == octo_base32_encoded_len(size));
    int n = octo_base32_decode(text, (size_t)t, bytes, sizeof(bytes));
    OCTO_ASSERT(n >= 0 && (size_t)n == size && memcmp(bytes, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    base32_text_round_trip(data, size);
    multibase_text_round_trip(data, size);
    bytes_round_trip(data, size);
    return 0;
}
