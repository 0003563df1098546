/*
 * seal.h — sealed envelopes for end-to-end task payloads: anonymous-sender public-key
 * encryption to an X25519 key (libsodium crypto_box_seal: ephemeral X25519 + XSalsa20-
 * Poly1305). A payload can be sealed to a node's Ed25519 identity through the standard
 * Ed25519 -> X25519 conversion.
 *
 * Envelope layout (libsodium's): ephemeral public key (32) || MAC (16) || ciphertext, so an
 * envelope is OCTO_SEAL_OVERHEAD bytes longer than its plaintext. struct octo_seal_keypair
 * holds a secret key: wipe it with octo_seal_keypair_deinit.
 */
#ifndef OCTO_CRYPTO_SEAL_H
#define OCTO_CRYPTO_SEAL_H

#include "base/buf.h"
#include "base/err.h"
#include "crypto/ident.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_X25519_PK_LEN 32
#define OCTO_X25519_SK_LEN 32
#define OCTO_SEAL_OVERHEAD 48               /* ephemeral pk + MAC */
#define OCTO_SEAL_PLAINTEXT_MAX (16u << 20) /* 16 MiB per envelope */
#define OCTO_SEAL_ENVELOPE_MAX (OCTO_SEAL_PLAINTEXT_MAX + OCTO_SEAL_OVERHEAD)

struct octo_x25519_pk {
    uint8_t bytes[OCTO_X25519_PK_LEN];
};

struct octo_seal_keypair {
    struct octo_x25519_pk pub;
    uint8_t sk[OCTO_X25519_SK_LEN];
};

/* Fresh X25519 key pair from the OS random source. Returns 0 or OCTO_ECRYPTO. */
OCTO_MUST_USE int octo_seal_keypair_generate(struct octo_seal_keypair *kp);

/* The X25519 key pair of an Ed25519 identity (so that envelopes sealed with
 * octo_seal_pk_from_ed25519(&id->pub) open with it). Returns 0 or OCTO_ECRYPTO. */
OCTO_MUST_USE int octo_seal_keypair_from_identity(const struct octo_identity *id,
                                                  struct octo_seal_keypair *out);

/* Wipes the key pair. Tolerates a zeroed struct. */
void octo_seal_keypair_deinit(struct octo_seal_keypair *kp);

/* Converts an Ed25519 public key to X25519. OCTO_EINVAL when the key is not a valid point
 * (small order or not on the curve). */
OCTO_MUST_USE int octo_seal_pk_from_ed25519(const struct octo_pubkey *pub,
                                            struct octo_x25519_pk *out);

/* Seals msg[0..len) to `to`, appending the envelope (len + OCTO_SEAL_OVERHEAD bytes) to out.
 * Errors: OCTO_ETOOBIG (len > OCTO_SEAL_PLAINTEXT_MAX, or out's ceiling), OCTO_ENOMEM,
 * OCTO_ECRYPTO (invalid recipient key). out is unchanged on error. */
OCTO_MUST_USE int octo_seal(const struct octo_x25519_pk *to, const uint8_t *msg, size_t len,
                            struct octo_buf *out);

/* Opens an envelope sealed to kp, appending the plaintext to out (use a secret buffer when
 * the payload is sensitive). Errors: OCTO_EMALFORMED (shorter than OCTO_SEAL_OVERHEAD),
 * OCTO_ETOOBIG (len > OCTO_SEAL_ENVELOPE_MAX, or out's ceiling), OCTO_ENOMEM, OCTO_EDECRYPT
 * (wrong key or tampered envelope). out is unchanged on error. */
OCTO_MUST_USE int octo_seal_open(const struct octo_seal_keypair *kp, const uint8_t *in, size_t len,
                                 struct octo_buf *out);

#endif
