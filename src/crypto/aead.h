/*
 * aead.h — streaming authenticated encryption for data at rest
 * (libsodium crypto_secretstream_xchacha20poly1305).
 *
 * A stream is a 24-byte header followed by chunks; each chunk is its plaintext plus
 * OCTO_AEAD_ABYTES and carries a tag. The last chunk carries the FINAL tag, and the decryptor
 * reports truncation: octo_aead_dec_finish fails unless FINAL was seen. Reordering, dropping,
 * duplicating or modifying a chunk makes octo_aead_dec_pull fail (each chunk's MAC covers
 * its position through the evolving state).
 *
 * Whole-buffer convenience format (octo_aead_seal / octo_aead_open): header || chunks of
 * exactly OCTO_AEAD_SEAL_CHUNK plaintext bytes, the last one (possibly shorter, possibly
 * empty) tagged FINAL. Both state structs hold key material: _deinit wipes them.
 */
#ifndef OCTO_CRYPTO_AEAD_H
#define OCTO_CRYPTO_AEAD_H

#include "base/buf.h"
#include "base/err.h"

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_AEAD_KEY_LEN 32
#define OCTO_AEAD_HEADER_LEN 24
#define OCTO_AEAD_ABYTES 17                /* per-chunk overhead: tag byte + MAC */
#define OCTO_AEAD_CHUNK_MAX (1u << 20)     /* plaintext bytes per chunk */
#define OCTO_AEAD_SEAL_CHUNK (64u * 1024u) /* chunk size of the whole-buffer format */
#define OCTO_AEAD_SEAL_MAX (1u << 30)      /* plaintext bytes for octo_aead_seal/open */

struct octo_aead_enc {
    crypto_secretstream_xchacha20poly1305_state st;
    bool ready; /* initialised and FINAL not yet pushed */
};

struct octo_aead_dec {
    crypto_secretstream_xchacha20poly1305_state st;
    bool ready;      /* initialised and FINAL not yet pulled */
    bool final_seen; /* the FINAL chunk authenticated */
};

/* A fresh random key. */
void octo_aead_keygen(uint8_t key[OCTO_AEAD_KEY_LEN]);

/* Starts a stream under key, writing the stream header to header (sent/stored before the
 * first chunk). Returns 0 or OCTO_ECRYPTO. */
OCTO_MUST_USE int octo_aead_enc_init(struct octo_aead_enc *e, const uint8_t key[OCTO_AEAD_KEY_LEN],
                                     uint8_t header[OCTO_AEAD_HEADER_LEN]);

/* Encrypts chunk[0..len) into out (len + OCTO_AEAD_ABYTES bytes), tagged FINAL when `final`.
 * Returns the bytes written, or OCTO_ETOOBIG (len > OCTO_AEAD_CHUNK_MAX), OCTO_ENOSPACE
 * (out_size too small), OCTO_ESTATE (not initialised, or FINAL already pushed). */
OCTO_MUST_USE int octo_aead_enc_push(struct octo_aead_enc *e, const uint8_t *chunk, size_t len,
                                     bool final, uint8_t *out, size_t out_size);

/* Wipes the state. Tolerates a zeroed struct. */
void octo_aead_enc_deinit(struct octo_aead_enc *e);

/* Starts decrypting a stream with the given header. Returns 0 or OCTO_EDECRYPT. */
OCTO_MUST_USE int octo_aead_dec_init(struct octo_aead_dec *d, const uint8_t key[OCTO_AEAD_KEY_LEN],
                                     const uint8_t header[OCTO_AEAD_HEADER_LEN]);

/* Decrypts one chunk in[0..len) into out (len - OCTO_AEAD_ABYTES bytes). *final (OUT) is set
 * when this was the FINAL chunk; later pulls fail with OCTO_ESTATE. Returns the plaintext
 * length, or OCTO_EMALFORMED (len < OCTO_AEAD_ABYTES), OCTO_ETOOBIG (chunk over the limit),
 * OCTO_ENOSPACE, OCTO_EDECRYPT (forged, modified, reordered chunk, wrong key, or a tag other
 * than MESSAGE/FINAL), OCTO_ESTATE. After OCTO_EDECRYPT the stream is unusable (ESTATE). */
OCTO_MUST_USE int octo_aead_dec_pull(struct octo_aead_dec *d, const uint8_t *in, size_t len,
                                     uint8_t *out, size_t out_size, bool *final);

/* End of input: 0 when the FINAL chunk was seen, OCTO_EDECRYPT (truncated stream) if not. */
OCTO_MUST_USE int octo_aead_dec_finish(const struct octo_aead_dec *d);

/* Wipes the state. Tolerates a zeroed struct. */
void octo_aead_dec_deinit(struct octo_aead_dec *d);

/* Encrypts in[0..len) in the whole-buffer format, appending to out. Errors: OCTO_ETOOBIG
 * (len > OCTO_AEAD_SEAL_MAX or out's ceiling), OCTO_ENOMEM, OCTO_ECRYPTO. On error out may
 * hold a partial stream: the caller discards it. */
OCTO_MUST_USE int octo_aead_seal(const uint8_t key[OCTO_AEAD_KEY_LEN], const uint8_t *in,
                                 size_t len, struct octo_buf *out);

/* Decrypts a whole-buffer stream, appending the plaintext to out (use a secret buffer for
 * sensitive data). Errors: OCTO_EMALFORMED (shorter than a header and one chunk, or data
 * after the FINAL chunk), OCTO_EDECRYPT (wrong key, modified, truncated), OCTO_ETOOBIG,
 * OCTO_ENOMEM. On error out may hold partial plaintext: the caller discards it (reset). */
OCTO_MUST_USE int octo_aead_open(const uint8_t key[OCTO_AEAD_KEY_LEN], const uint8_t *in,
                                 size_t len, struct octo_buf *out);

#endif
