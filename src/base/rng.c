/*
 * rng.c — xoshiro256** (Blackman and Vigna), state filled from the seed by splitmix64 so that
 * nearby seeds give unrelated streams and the all-zero state cannot occur. Bounded draws use
 * rejection on the low end of the 64-bit range to remove modulo bias.
 */
#include "base/rng.h"

#include "base/assert.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void octo_rng_init(struct octo_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t octo_rng_next(struct octo_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t octo_rng_below(struct octo_rng *r, uint64_t bound)
{
    OCTO_ASSERT(bound > 0);
    uint64_t threshold = (0 - bound) % bound; /* 2^64 mod bound */
    for (;;) {
        uint64_t v = octo_rng_next(r);
        if (v >= threshold)
            return v % bound;
    }
}

void octo_rng_fill(struct octo_rng *r, void *out, size_t len)
{
    unsigned char *p = out;
    while (len > 0) {
        uint64_t v = octo_rng_next(r);
        size_t n = len < 8 ? len : 8;
        for (size_t i = 0; i < n; i++)
            p[i] = (unsigned char)(v >> (8 * i)); /* little-endian on every host */
        p += n;
        len -= n;
    }
}
