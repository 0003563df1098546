/*
 * seal.c — anonymous sealed envelopes over crypto_box_seal (see seal.h).
 *
 * Output goes straight into the caller's octo_buf: space is reserved first, libsodium
 * writes past buf->len, and len only advances on success, so a failed call leaves the
 * visible contents unchanged (a failed open wipes the scratch area it wrote into).
 */
#include "crypto/seal.h"

#include "base/assert.h"

#include <sodium.h>
#include <string.h>

_Static_assert(OCTO_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(OCTO_X25519_PK_LEN == crypto_box_PUBLICKEYBYTES, "x25519 pk");
_Static_assert(OCTO_X25519_SK_LEN == crypto_box_SECRETKEYBYTES, "x25519 sk");

int octo_seal_keypair_generate(struct octo_seal_keypair *kp)
{
    OCTO_ASSERT(kp != NULL);
    if (crypto_box_keypair(kp->pub.bytes, kp->sk) != 0)
        return OCTO_ECRYPTO;
    return 0;
}

int octo_seal_keypair_from_identity(const struct octo_identity *id, struct octo_seal_keypair *out)
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(out != NULL);
    if (crypto_sign_ed25519_sk_to_curve25519(out->sk, id->sk) != 0)
        return OCTO_ECRYPTO;
    if (crypto_sign_ed25519_pk_to_curve25519(out->pub.bytes, id->pub.bytes) != 0) {
        octo_seal_keypair_deinit(out);
        return OCTO_ECRYPTO;
    }
    return 0;
}

void octo_seal_keypair_deinit(struct octo_seal_keypair *kp)
{
    if (kp != NULL)
        sodium_memzero(kp, sizeof(*kp));
}

int octo_seal_pk_from_ed25519(const struct octo_pubkey *pub, struct octo_x25519_pk *out)
{
    OCTO_ASSERT(pub != NULL);
    OCTO_ASSERT(out != NULL);
    if (crypto_sign_ed25519_pk_to_curve25519(out->bytes, pub->bytes) != 0)
        return OCTO_EINVAL;
    return 0;
}

int octo_seal(const struct octo_x25519_pk *to, const uint8_t *msg, size_t len, struct octo_buf *out)
{
    static const uint8_t empty[1];
    OCTO_ASSERT(to != NULL);
    OCTO_ASSERT(msg != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (len > OCTO_SEAL_PLAINTEXT_MAX)
        return OCTO_ETOOBIG;
    int rc = octo_buf_reserve(out, len + OCTO_SEAL_OVERHEAD);
    if (rc < 0)
        return rc;
    if (crypto_box_seal(out->data + out->len, len > 0 ? msg : empty, len, to->bytes) != 0)
        return OCTO_ECRYPTO;
    out->len += len + OCTO_SEAL_OVERHEAD;
    return 0;
}

int octo_seal_open(const struct octo_seal_keypair *kp, const uint8_t *in, size_t len,
                   struct octo_buf *out)
{
    OCTO_ASSERT(kp != NULL);
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (len > OCTO_SEAL_ENVELOPE_MAX)
        return OCTO_ETOOBIG;
    if (len < OCTO_SEAL_OVERHEAD)
        return OCTO_EMALFORMED;
    size_t plain_len = len - OCTO_SEAL_OVERHEAD;
    /* reserve always leaves data non-NULL (it keeps room for a NUL), even for 0 bytes */
    int rc = octo_buf_reserve(out, plain_len);
    if (rc < 0)
        return rc;
    uint8_t *dst = out->data + out->len;
    if (crypto_box_seal_open(dst, in, len, kp->pub.bytes, kp->sk) != 0) {
        sodium_memzero(dst, plain_len);
        return OCTO_EDECRYPT;
    }
    out->len += plain_len;
    return 0;
}
