/*
 * noise_hs.h — the Noise protocol framework (spec revision 34) restricted to the one protocol
 * libp2p uses: Noise_XX_25519_ChaChaPoly_SHA256.
 *
 *   XX:  -> e
 *        <- e, ee, s, es
 *        -> s, se
 *
 * Three layers, as in the spec: a CipherState (key k, nonce n), a SymmetricState (CipherState,
 * chaining key ck, handshake hash h) and a HandshakeState (keys s, e, rs, re and the message
 * pattern). Everything is sans-I/O and deterministic: the caller supplies both X25519 private
 * keys (static and ephemeral), so the handshake contains no randomness and can be replayed
 * against published test vectors. Messages are written into and read from caller buffers;
 * the libp2p framing (u16 length prefixes) lives one layer up, in noise.c.
 *
 * Mechanics (LIBP2P.md §5): the protocol name is exactly HASHLEN (32) bytes, so h = name
 * without hashing and ck = h; MixHash(prologue) always runs, even for an empty prologue.
 * HKDF is HMAC-SHA256 based; the AEAD nonce is 4 zero bytes || LE64(n); handshake messages
 * use h as associated data, transport messages none.
 *
 * Limits and failure rules:
 *   - A Noise message is at most OCTO_NOISE_MSG_MAX (65535) bytes, payload included.
 *   - Every DH result is checked: an all-zero shared secret (a low-order remote public key)
 *     aborts the handshake with OCTO_ECRYPTO.
 *   - Nonce exhaustion: n = 2^64-1 is reserved (spec §5.1). A CipherState whose n reached
 *     2^64-1 refuses to encrypt or decrypt (OCTO_ERANGE); the connection must be closed.
 *     (js-libp2p stops at 2^32-1; neither bound is reachable in practice.)
 *   - Any error during the handshake is final: the HandshakeState wipes its keys and every
 *     later call returns OCTO_ESTATE.
 *
 * Memory: every struct here is caller-allocated, holds secrets and no heap memory; wipe with
 * the matching _deinit / octo_noise_cipher_wipe.
 */
#ifndef OCTO_P2P_NOISE_HS_H
#define OCTO_P2P_NOISE_HS_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_NOISE_PROTOCOL_NAME "Noise_XX_25519_ChaChaPoly_SHA256"
#define OCTO_NOISE_DH_LEN 32   /* X25519 public keys, private keys and shared secrets */
#define OCTO_NOISE_HASH_LEN 32 /* SHA-256 */
#define OCTO_NOISE_KEY_LEN 32  /* ChaCha20-Poly1305 key */
#define OCTO_NOISE_TAG_LEN 16  /* Poly1305 tag */
#define OCTO_NOISE_MSG_MAX 65535
/* Reserved nonce value: a CipherState never uses it (spec §5.1). */
#define OCTO_NOISE_NONCE_MAX UINT64_MAX

/* Bytes each XX message adds around its payload (payload tag included where a key exists). */
#define OCTO_NOISE_MSG1_OVERHEAD OCTO_NOISE_DH_LEN /* e; no key yet: payload in clear */
#define OCTO_NOISE_MSG2_OVERHEAD                                                                   \
    (OCTO_NOISE_DH_LEN + OCTO_NOISE_DH_LEN + 2 * OCTO_NOISE_TAG_LEN) /* e, enc s, payload tag */
#define OCTO_NOISE_MSG3_OVERHEAD (OCTO_NOISE_DH_LEN + 2 * OCTO_NOISE_TAG_LEN) /* enc s, tag */

/* CipherState. has_key false means k is "empty": encryption is the identity (spec §5.1). */
struct octo_noise_cipher {
    uint8_t k[OCTO_NOISE_KEY_LEN];
    uint64_t n;
    bool has_key;
};

/* SymmetricState. */
struct octo_noise_symmetric {
    struct octo_noise_cipher cs;
    uint8_t ck[OCTO_NOISE_HASH_LEN];
    uint8_t h[OCTO_NOISE_HASH_LEN];
};

/* HandshakeState for XX. `step` counts the messages processed (0..3); 3 means done. */
struct octo_noise_hs {
    struct octo_noise_symmetric ss;
    uint8_t s_priv[OCTO_NOISE_DH_LEN];
    uint8_t s_pub[OCTO_NOISE_DH_LEN];
    uint8_t e_priv[OCTO_NOISE_DH_LEN];
    uint8_t e_pub[OCTO_NOISE_DH_LEN];
    uint8_t rs[OCTO_NOISE_DH_LEN];
    uint8_t re[OCTO_NOISE_DH_LEN];
    bool initiator;
    bool failed;
    unsigned step;
};

/* ---- CipherState ---- */

/* InitializeKey(key): sets k (32 bytes) and n = 0. */
void octo_noise_cipher_init(struct octo_noise_cipher *c, const uint8_t key[OCTO_NOISE_KEY_LEN]);
/* SetNonce(n): for tests and for resuming a known position; any value is accepted (the
 * reserved value makes every later operation fail with OCTO_ERANGE). */
void octo_noise_cipher_set_nonce(struct octo_noise_cipher *c, uint64_t n);
/* Wipes the key and resets the state to "no key". */
void octo_noise_cipher_wipe(struct octo_noise_cipher *c);

/* EncryptWithAd(ad, plaintext): writes ciphertext (pt_len + 16 bytes, or pt_len when there is
 * no key) to out and increments n. out may equal pt (in place) but must not otherwise overlap.
 * Returns the number of bytes written, or OCTO_ERANGE (nonce exhausted), OCTO_ETOOBIG
 * (pt_len + 16 > OCTO_NOISE_MSG_MAX), OCTO_ENOSPACE (out_size too small). */
OCTO_MUST_USE int octo_noise_cipher_encrypt(struct octo_noise_cipher *c, const uint8_t *ad,
                                            size_t ad_len, const uint8_t *pt, size_t pt_len,
                                            uint8_t *out, size_t out_size);
/* DecryptWithAd(ad, ciphertext): writes the plaintext (ct_len - 16 bytes, or ct_len without a
 * key) to out and increments n; on failure n is unchanged and out holds no plaintext.
 * out may equal ct but must not otherwise overlap. Returns the plaintext length, or
 * OCTO_ERANGE (nonce exhausted), OCTO_ETOOBIG (ct_len > OCTO_NOISE_MSG_MAX), OCTO_EMALFORMED
 * (ct_len < 16 with a key), OCTO_ENOSPACE (out_size too small), OCTO_EDECRYPT (tag mismatch). */
OCTO_MUST_USE int octo_noise_cipher_decrypt(struct octo_noise_cipher *c, const uint8_t *ad,
                                            size_t ad_len, const uint8_t *ct, size_t ct_len,
                                            uint8_t *out, size_t out_size);

/* ---- HandshakeState ---- */

/* Initialize(XX, initiator, prologue, s, e): derives both public keys from the caller's X25519
 * private keys (any 32 bytes; X25519 clamps them), sets h = ck = protocol name and mixes the
 * prologue (may be NULL when prologue_len is 0).
 * Errors: OCTO_ECRYPTO (libsodium refused a key). */
OCTO_MUST_USE int octo_noise_hs_init(struct octo_noise_hs *hs, bool initiator,
                                     const uint8_t *prologue, size_t prologue_len,
                                     const uint8_t s_priv[OCTO_NOISE_DH_LEN],
                                     const uint8_t e_priv[OCTO_NOISE_DH_LEN]);

/* As octo_noise_hs_init with the static public key supplied (s_pub, 32 bytes, which must be
 * the public key of s_priv; NULL = computed): a node that keeps one static key for all its
 * connections saves one scalar multiplication per handshake. */
OCTO_MUST_USE int octo_noise_hs_init_static(struct octo_noise_hs *hs, bool initiator,
                                            const uint8_t *prologue, size_t prologue_len,
                                            const uint8_t s_priv[OCTO_NOISE_DH_LEN],
                                            const uint8_t *s_pub,
                                            const uint8_t e_priv[OCTO_NOISE_DH_LEN]);
/* Wipes every key; tolerates a zeroed struct. */
void octo_noise_hs_deinit(struct octo_noise_hs *hs);

/* True when the next handshake message is ours to write (false once done or failed). */
bool octo_noise_hs_write_turn(const struct octo_noise_hs *hs);
/* True after the third message was written or read. */
bool octo_noise_hs_done(const struct octo_noise_hs *hs);
/* Bytes the next message adds to its payload (OCTO_NOISE_MSG{1,2,3}_OVERHEAD); 0 when done. */
size_t octo_noise_hs_overhead(const struct octo_noise_hs *hs);

/* WriteMessage(payload): writes the next handshake message (tokens, then the encrypted
 * payload) to out. Returns the message length, or OCTO_ESTATE (not our turn, done or failed),
 * OCTO_ETOOBIG (message would exceed OCTO_NOISE_MSG_MAX) and OCTO_ENOSPACE (out_size too
 * small), both leaving the state unchanged, OCTO_ECRYPTO (all-zero DH result: aborts the
 * handshake). */
OCTO_MUST_USE int octo_noise_hs_write_message(struct octo_noise_hs *hs, const uint8_t *payload,
                                              size_t payload_len, uint8_t *out, size_t out_size);
/* ReadMessage(message): processes the peer's next handshake message and writes its decrypted
 * payload to payload_out (which may alias nothing in msg). Returns the payload length, or
 * OCTO_ESTATE (not our turn to read, done or failed), OCTO_ETOOBIG (msg_len > 65535),
 * OCTO_EMALFORMED (shorter than the message's fixed part), OCTO_ENOSPACE (payload_size too
 * small; the state is unchanged), OCTO_EDECRYPT (a tag did not verify), OCTO_ECRYPTO
 * (all-zero DH result). Other than OCTO_ENOSPACE and OCTO_ESTATE, errors abort the handshake. */
OCTO_MUST_USE int octo_noise_hs_read_message(struct octo_noise_hs *hs, const uint8_t *msg,
                                             size_t msg_len, uint8_t *payload_out,
                                             size_t payload_size);

/* Split(): once done, derives the two transport CipherStates, oriented for this side: `send`
 * encrypts what we send (c1 for the initiator, c2 for the responder), `recv` decrypts what we
 * receive. Also returns the handshake hash h in hash_out when not NULL. Wipes the symmetric
 * state and the private keys (the public keys and rs stay readable).
 * Errors: OCTO_ESTATE (handshake not done, failed or already split). */
OCTO_MUST_USE int octo_noise_hs_split(struct octo_noise_hs *hs, struct octo_noise_cipher *send,
                                      struct octo_noise_cipher *recv,
                                      uint8_t hash_out[OCTO_NOISE_HASH_LEN]);

/* Our static public key (valid from init). */
const uint8_t *octo_noise_hs_local_static(const struct octo_noise_hs *hs);
/* The peer's static public key: valid once the message carrying it was read (message 2 for
 * the initiator, 3 for the responder), otherwise NULL. */
const uint8_t *octo_noise_hs_remote_static(const struct octo_noise_hs *hs);

#endif
