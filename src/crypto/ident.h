/*
 * ident.h — node identities: Ed25519 key pairs, their libp2p protobuf encodings, signatures.
 *
 * Encodings follow libp2p peer-ids.md (proto2, deterministic):
 *   PublicKey  { required KeyType Type = 1; required bytes Data = 2; }  Ed25519: Data = 32 B
 *   PrivateKey { required KeyType Type = 1; required bytes Data = 2; }  Ed25519: Data = 64 B
 *                                                                       (seed || public key)
 * Decoders accept only the canonical encoding (field order, minimal varints, no unknown
 * fields, exact sizes) and only Ed25519 (other key types give OCTO_EUNSUPPORTED). Inputs
 * longer than OCTO_KEY_PB_MAX are rejected before decoding.
 *
 * struct octo_identity holds a secret key: wipe it with octo_identity_deinit.
 */
#ifndef OCTO_CRYPTO_IDENT_H
#define OCTO_CRYPTO_IDENT_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_ED25519_PK_LEN 32
#define OCTO_ED25519_SK_LEN 64 /* seed || public key */
#define OCTO_ED25519_SEED_LEN 32
#define OCTO_ED25519_SIG_LEN 64
#define OCTO_PUBKEY_PB_LEN 36  /* 08 01 12 20 || pk */
#define OCTO_PRIVKEY_PB_LEN 68 /* 08 01 12 40 || sk */
#define OCTO_KEY_PB_MAX 1024   /* decode limit for any key protobuf (RSA keys are larger) */

enum octo_key_type {
    OCTO_KEY_RSA = 0,
    OCTO_KEY_ED25519 = 1,
    OCTO_KEY_SECP256K1 = 2,
    OCTO_KEY_ECDSA = 3,
};

struct octo_pubkey {
    uint8_t bytes[OCTO_ED25519_PK_LEN];
};

struct octo_identity {
    struct octo_pubkey pub;
    uint8_t sk[OCTO_ED25519_SK_LEN];
};

/* Must be called once before any other crypto function (initialises libsodium). Returns 0
 * or OCTO_ECRYPTO. Safe to call more than once. */
OCTO_MUST_USE int octo_crypto_init(void);

/* Fresh identity from the OS random source. */
OCTO_MUST_USE int octo_identity_generate(struct octo_identity *id);
/* Deterministic identity from a 32-byte seed (test vectors, devnet). */
OCTO_MUST_USE int octo_identity_from_seed(struct octo_identity *id,
                                          const uint8_t seed[OCTO_ED25519_SEED_LEN]);
void octo_identity_deinit(struct octo_identity *id);

/* Signs msg; sig receives OCTO_ED25519_SIG_LEN bytes. */
void octo_identity_sign(const struct octo_identity *id, const uint8_t *msg, size_t len,
                        uint8_t sig[OCTO_ED25519_SIG_LEN]);
/* Returns 0 when sig is a valid signature of msg by pub, OCTO_EBADSIG otherwise. */
OCTO_MUST_USE int octo_pubkey_verify(const struct octo_pubkey *pub, const uint8_t *msg, size_t len,
                                     const uint8_t sig[OCTO_ED25519_SIG_LEN]);

/* Writes the PublicKey protobuf (OCTO_PUBKEY_PB_LEN bytes). */
void octo_pubkey_encode(const struct octo_pubkey *pub, uint8_t out[OCTO_PUBKEY_PB_LEN]);
/* Parses a PublicKey protobuf. Errors: OCTO_ETOOBIG, OCTO_EMALFORMED, OCTO_ENONCANON,
 * OCTO_EUNSUPPORTED (not Ed25519), OCTO_EINVAL (Data is not a valid Ed25519 point). */
OCTO_MUST_USE int octo_pubkey_decode(const uint8_t *in, size_t len, struct octo_pubkey *out);

/* As octo_pubkey_decode without the point check (an Ed25519 prime-order-subgroup test that
 * costs about as much as a signature verification), for a key whose only use is to verify a
 * signature right away: octo_pubkey_verify rejects non-canonical, off-curve and small-order
 * keys itself (libsodium), so a key that passes it is as usable as a fully checked one. Used
 * by the Noise handshake, where it saves one scalar multiplication per connection. */
OCTO_MUST_USE int octo_pubkey_decode_for_verify(const uint8_t *in, size_t len,
                                                struct octo_pubkey *out);

/* Writes the PrivateKey protobuf (OCTO_PRIVKEY_PB_LEN bytes): a secret, wipe it after use. */
void octo_identity_encode_private(const struct octo_identity *id, uint8_t out[OCTO_PRIVKEY_PB_LEN]);
/* Parses a PrivateKey protobuf, checking that the embedded public key matches the seed.
 * Errors as octo_pubkey_decode, plus OCTO_EINVAL on a seed/public-key mismatch. */
OCTO_MUST_USE int octo_identity_decode_private(const uint8_t *in, size_t len,
                                               struct octo_identity *out);

#endif
