/*
 * hash.c — SHA-256 and BLAKE2b over libsodium (see hash.h). Parameters are checked at the
 * public boundary (OCTO_EINVAL); libsodium's own return codes are then asserted, since they
 * can only fail on the parameters already checked.
 */
#include "crypto/hash.h"

#include "base/assert.h"

/* libsodium may pass its input pointer to memcpy even for 0 bytes; never hand it NULL. */
static const uint8_t empty_input[1];

_Static_assert(OCTO_SHA256_LEN == crypto_hash_sha256_BYTES, "sha256 length");
_Static_assert(OCTO_BLAKE2B_LEN_MIN == crypto_generichash_blake2b_BYTES_MIN, "blake2b min");
_Static_assert(OCTO_BLAKE2B_LEN_MAX == crypto_generichash_blake2b_BYTES_MAX, "blake2b max");
_Static_assert(OCTO_BLAKE2B_KEY_MAX == crypto_generichash_blake2b_KEYBYTES_MAX, "blake2b key");

void octo_sha256(const void *in, size_t len, uint8_t out[OCTO_SHA256_LEN])
{
    OCTO_ASSERT(in != NULL || len == 0);
    int rc = crypto_hash_sha256(out, len > 0 ? in : empty_input, len);
    OCTO_ASSERT(rc == 0);
}

void octo_sha256_init(struct octo_sha256 *h)
{
    int rc = crypto_hash_sha256_init(&h->st);
    OCTO_ASSERT(rc == 0);
}

void octo_sha256_update(struct octo_sha256 *h, const void *in, size_t len)
{
    OCTO_ASSERT(in != NULL || len == 0);
    int rc = crypto_hash_sha256_update(&h->st, len > 0 ? in : empty_input, len);
    OCTO_ASSERT(rc == 0);
}

void octo_sha256_final(struct octo_sha256 *h, uint8_t out[OCTO_SHA256_LEN])
{
    int rc = crypto_hash_sha256_final(&h->st, out);
    OCTO_ASSERT(rc == 0);
    sodium_memzero(h, sizeof(*h));
}

static int blake2b_params_ok(size_t out_len, const uint8_t *key, size_t key_len)
{
    if (out_len < OCTO_BLAKE2B_LEN_MIN || out_len > OCTO_BLAKE2B_LEN_MAX)
        return 0;
    if (key_len > OCTO_BLAKE2B_KEY_MAX)
        return 0;
    return key != NULL || key_len == 0;
}

int octo_blake2b(uint8_t *out, size_t out_len, const void *in, size_t len, const uint8_t *key,
                 size_t key_len)
{
    OCTO_ASSERT(out != NULL);
    OCTO_ASSERT(in != NULL || len == 0);
    if (!blake2b_params_ok(out_len, key, key_len))
        return OCTO_EINVAL;
    int rc = crypto_generichash_blake2b(out, out_len, len > 0 ? in : empty_input, len,
                                        key_len > 0 ? key : NULL, key_len);
    OCTO_ASSERT(rc == 0);
    return 0;
}

int octo_blake2b_init(struct octo_blake2b *h, size_t out_len, const uint8_t *key, size_t key_len)
{
    OCTO_ASSERT(h != NULL);
    if (!blake2b_params_ok(out_len, key, key_len))
        return OCTO_EINVAL;
    int rc = crypto_generichash_blake2b_init(&h->st, key_len > 0 ? key : NULL, key_len, out_len);
    OCTO_ASSERT(rc == 0);
    h->out_len = out_len;
    return 0;
}

void octo_blake2b_update(struct octo_blake2b *h, const void *in, size_t len)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(h->out_len >= OCTO_BLAKE2B_LEN_MIN);
    int rc = crypto_generichash_blake2b_update(&h->st, len > 0 ? in : empty_input, len);
    OCTO_ASSERT(rc == 0);
}

void octo_blake2b_final(struct octo_blake2b *h, uint8_t *out)
{
    OCTO_ASSERT(out != NULL);
    OCTO_ASSERT(h->out_len >= OCTO_BLAKE2B_LEN_MIN);
    int rc = crypto_generichash_blake2b_final(&h->st, out, h->out_len);
    OCTO_ASSERT(rc == 0);
    sodium_memzero(h, sizeof(*h));
}
