/*
 * keystore.h — the node key file format (bytes in, bytes out; node/ does the file I/O with
 * mode 0600).
 *
 * Layout (all integers big-endian):
 *   magic "OCTOKEY1" (8) | kdf u8 (0 = none, 1 = argon2id) | reserved u8 (0) | u16 body length
 *   kdf none:     body = PrivateKey protobuf
 *   kdf argon2id: opslimit u32 | memlimit_kib u32 | salt (16) | nonce (24) |
 *                 XChaCha20-Poly1305(key = Argon2id(passphrase, salt), PrivateKey protobuf)
 *                 with the whole header (everything before the ciphertext) as associated data.
 *
 * A wrong passphrase and a corrupted file both give OCTO_EDECRYPT. KDF parameters read
 * from a file are bounded (OCTO_KEYSTORE_*_MAX) so that a hostile file cannot make the node
 * spend unbounded memory or time.
 */
#ifndef OCTO_CRYPTO_KEYSTORE_H
#define OCTO_CRYPTO_KEYSTORE_H

#include "base/buf.h"
#include "crypto/ident.h"

#define OCTO_KEYSTORE_FILE_MAX 4096
#define OCTO_KEYSTORE_OPSLIMIT_MAX 16u
#define OCTO_KEYSTORE_MEMLIMIT_KIB_MAX (1024u * 1024u) /* 1 GiB */

struct octo_keystore_params {
    uint32_t opslimit;     /* default: crypto_pwhash_OPSLIMIT_MODERATE */
    uint32_t memlimit_kib; /* default: crypto_pwhash_MEMLIMIT_MODERATE / 1024 */
};

/* Defaults for interactive use (`octo init --passphrase-file`). */
void octo_keystore_params_default(struct octo_keystore_params *p);

/* Serialises id into out (a buffer initialised by the caller; use a secret buffer when
 * passphrase is NULL). passphrase NULL = unencrypted. params NULL = defaults. */
OCTO_MUST_USE int octo_keystore_encode(const struct octo_identity *id, const char *passphrase,
                                       const struct octo_keystore_params *params,
                                       struct octo_buf *out);

/* Parses a key file. passphrase may be NULL for an unencrypted file; an encrypted file
 * without passphrase gives OCTO_EPERM. Errors: OCTO_EMALFORMED, OCTO_ETOOBIG,
 * OCTO_EUNSUPPORTED (unknown kdf), OCTO_EDECRYPT, OCTO_EPERM, and the decode errors of
 * octo_identity_decode_private. */
OCTO_MUST_USE int octo_keystore_decode(const uint8_t *in, size_t len, const char *passphrase,
                                       struct octo_identity *out);

/* 1 when the file bytes say the key is passphrase-protected, 0 when not, <0 malformed. */
int octo_keystore_is_encrypted(const uint8_t *in, size_t len);

#endif
