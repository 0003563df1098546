/*
 * rng.h — a seeded deterministic generator for the pure cores and the simulator
 * (xoshiro256**, seeded through splitmix64). Not for keys or nonces: those come from
 * libsodium's randombytes in crypto/. Same seed, same sequence, on every machine.
 */
#ifndef OCTO_BASE_RNG_H
#define OCTO_BASE_RNG_H

#include <stddef.h>
#include <stdint.h>

struct octo_rng {
    uint64_t s[4];
};

void octo_rng_init(struct octo_rng *r, uint64_t seed);
uint64_t octo_rng_next(struct octo_rng *r);
/* Uniform in [0, bound), bound > 0, without modulo bias. */
uint64_t octo_rng_below(struct octo_rng *r, uint64_t bound);
void octo_rng_fill(struct octo_rng *r, void *out, size_t len);

#endif
