/*
 * random.c — thin wrappers over libsodium's randombytes (see random.h). libsodium reads
 * getrandom(2) (or /dev/urandom) and aborts rather than return weak bytes, so there is no
 * error path here.
 */
#include "crypto/random.h"

#include "base/assert.h"

#include <sodium.h>
#include <string.h>

void octo_random_bytes(void *out, size_t len)
{
    OCTO_ASSERT(out != NULL || len == 0);
    if (len > 0)
        randombytes_buf(out, len);
}

uint64_t octo_random_u64(void)
{
    uint8_t raw[sizeof(uint64_t)];
    uint64_t v;
    randombytes_buf(raw, sizeof(raw));
    memcpy(&v, raw, sizeof(v));
    return v;
}
