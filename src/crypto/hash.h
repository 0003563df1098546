/*
 * hash.h — SHA-256 and BLAKE2b (libsodium), one-shot and incremental.
 *
 * BLAKE2b output length is selectable in [OCTO_BLAKE2B_LEN_MIN, OCTO_BLAKE2B_LEN_MAX] and an
 * optional key (MAC mode) up to OCTO_BLAKE2B_KEY_MAX bytes. The incremental states are plain
 * caller-allocated structs; struct octo_blake2b needs 64-byte alignment (libsodium's state
 * type carries it), so keep it on the stack or in static storage, not in octo_malloc memory.
 */
#ifndef OCTO_CRYPTO_HASH_H
#define OCTO_CRYPTO_HASH_H

#include "base/err.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_SHA256_LEN 32
#define OCTO_BLAKE2B_LEN_MIN 16
#define OCTO_BLAKE2B_LEN_MAX 64
#define OCTO_BLAKE2B_256_LEN 32
#define OCTO_BLAKE2B_KEY_MAX 64

struct octo_sha256 {
    crypto_hash_sha256_state st;
};

struct octo_blake2b {
    crypto_generichash_blake2b_state st;
    size_t out_len;
};

/* SHA-256 of in[0..len) into out. */
void octo_sha256(const void *in, size_t len, uint8_t out[OCTO_SHA256_LEN]);
void octo_sha256_init(struct octo_sha256 *h);
void octo_sha256_update(struct octo_sha256 *h, const void *in, size_t len);
/* Writes the digest and wipes the state. */
void octo_sha256_final(struct octo_sha256 *h, uint8_t out[OCTO_SHA256_LEN]);

/* BLAKE2b of in[0..len) with out_len output bytes, keyed when key_len > 0.
 * Errors: OCTO_EINVAL (out_len outside [16, 64] or key_len > 64). */
OCTO_MUST_USE int octo_blake2b(uint8_t *out, size_t out_len, const void *in, size_t len,
                               const uint8_t *key, size_t key_len);
/* Starts an incremental BLAKE2b; same parameter rules and errors as octo_blake2b. */
OCTO_MUST_USE int octo_blake2b_init(struct octo_blake2b *h, size_t out_len, const uint8_t *key,
                                    size_t key_len);
void octo_blake2b_update(struct octo_blake2b *h, const void *in, size_t len);
/* Writes h->out_len bytes (the length given to init) and wipes the state. */
void octo_blake2b_final(struct octo_blake2b *h, uint8_t *out);

#endif
