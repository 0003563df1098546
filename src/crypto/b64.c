/*
 * b64.c — base64 through libsodium (b64.h).
 */
#include "crypto/b64.h"

#include "base/alloc.h"

#include <sodium.h>
#include <string.h>

char *octo_b64_encode(const uint8_t *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *out = octo_malloc(cap);
    if (out != NULL)
        sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

long octo_b64_decode(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (sodium_base642bin(out, cap, text, strlen(text), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return OCTO_EMALFORMED;
    return (long)n;
}
