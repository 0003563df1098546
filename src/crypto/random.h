/*
 * random.h — the OS random source (libsodium randombytes) for keys, salts and nonces.
 * Never for the pure cores or the simulator: they use the seeded base/rng.h. Requires
 * octo_crypto_init.
 */
#ifndef OCTO_CRYPTO_RANDOM_H
#define OCTO_CRYPTO_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fills out[0..len) with cryptographically secure random bytes. Cannot fail. */
void octo_random_bytes(void *out, size_t len);

/* A uniformly random 64-bit value. */
uint64_t octo_random_u64(void);

#endif
