/*
 * mem.c — secret hygiene. The wipe goes through a volatile function pointer to memset, and
 * an empty asm statement with a memory clobber, so dead-store elimination cannot remove it.
 * The comparison ORs byte differences and branches only on the final result.
 */
#include "base/mem.h"

#include <string.h>

static void *(*const volatile memset_v)(void *, int, size_t) = memset;

void octo_wipe(void *p, size_t len)
{
    if (p == NULL || len == 0)
        return;
    memset_v(p, 0, len);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

bool octo_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}
