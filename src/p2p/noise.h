/*
 * noise.h — the libp2p Noise secure channel (/noise, libp2p specs noise/README.md), sans-I/O.
 *
 * One struct octo_noise per connection, driven by the shell like every p2p core:
 *   bytes from the socket  -> octo_noise_recv (returns bytes consumed; offer the rest later)
 *   bytes for the socket   <- octo_noise_out / octo_noise_out_consume
 *   events                 <- octo_noise_poll (HANDSHAKE_DONE, ERROR)
 *   application plaintext  -> octo_noise_write (returns bytes accepted)
 *                          <- octo_noise_read / octo_noise_read_consume
 *
 * Handshake: Noise_XX_25519_ChaChaPoly_SHA256 (noise_hs.h) with the caller's X25519 static
 * and ephemeral secrets (no randomness inside). Messages 2 (responder) and 3 (initiator)
 * carry a NoiseHandshakePayload (proto/noise.proto): the Ed25519 identity key, its signature
 * over "noise-libp2p-static-key:" || X25519 static public key, and the stream muxers we
 * advertise. The receiver verifies the signature and derives the remote peer id; only
 * Ed25519 identities are accepted. When dialing with an expected peer id, a different
 * remote is refused (OCTO_EPERM, reason WRONG_PEER).
 *
 * Inlined muxer negotiation: when both sides advertise a non-empty muxer list, the muxer is
 * the first entry of the initiator's list that the responder also lists, and HANDSHAKE_DONE
 * names it (the shell then skips the multistream muxer round). Otherwise the event says
 * "none" (has_muxer false) and the shell runs multistream-select for the muxer.
 *
 * Framing: every handshake and transport message is u16 big-endian length || message
 * (<= 65535). Input is an arbitrary byte stream (split anywhere, coalesced); one partial frame
 * is buffered internally (at most 2 + 65535 bytes). Transport frames carry at most
 * OCTO_NOISE_PLAIN_FRAME_MAX (65519) plaintext bytes. The decrypted data is a byte stream:
 * frame boundaries are not preserved.
 *
 * Backpressure: octo_noise_write accepts only what fits in the output buffer
 * (OCTO_NOISE_OUT_MAX pending bytes); octo_noise_recv stops consuming before a frame whose
 * plaintext would not fit in the plaintext buffer (OCTO_NOISE_PLAIN_MAX unread bytes) and
 * returns the count consumed so far — not an error. Offer the rest again after reading.
 *
 * Errors are fatal for the connection: the first one queues an ERROR event with a reason, is
 * returned by the call that hit it, and every later recv/write returns it again.
 *
 * Memory: the structs are caller-allocated; buffers grow on demand up to their named limits
 * (general heap, freed by deinit). No allocation per transport message once the buffers have
 * grown. Secrets (keys, plaintext) are wiped by deinit.
 */
#ifndef OCTO_P2P_NOISE_H
#define OCTO_P2P_NOISE_H

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "p2p/noise_hs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_NOISE_PROTOCOL_ID "/noise"
#define OCTO_NOISE_FRAME_MAX OCTO_NOISE_MSG_MAX /* message bytes after the u16 prefix */
#define OCTO_NOISE_FRAME_HDR_LEN 2
#define OCTO_NOISE_PLAIN_FRAME_MAX (OCTO_NOISE_FRAME_MAX - OCTO_NOISE_TAG_LEN) /* 65519 */
#define OCTO_NOISE_OUT_MAX (1024 * 1024)  /* pending output bytes (backpressure) */
#define OCTO_NOISE_PLAIN_MAX (128 * 1024) /* unread decrypted bytes (backpressure) */
#define OCTO_NOISE_MUXERS_MAX 8           /* muxers we advertise */
#define OCTO_NOISE_MUXER_NAME_MAX 128     /* bytes in one muxer protocol id */
#define OCTO_NOISE_PAYLOAD_MAX (OCTO_NOISE_MSG_MAX - OCTO_NOISE_MSG2_OVERHEAD)
#define OCTO_NOISE_SIG_PREFIX "noise-libp2p-static-key:"
#define OCTO_NOISE_EVENTS_MAX 4

_Static_assert(OCTO_NOISE_PLAIN_MAX >= OCTO_NOISE_PLAIN_FRAME_MAX,
               "the plaintext buffer must hold one full frame");
_Static_assert(OCTO_NOISE_OUT_MAX >= OCTO_NOISE_FRAME_HDR_LEN + OCTO_NOISE_FRAME_MAX,
               "the output buffer must hold one full frame");

/* A muxer list (ours, copied from the config). */
struct octo_noise_muxers {
    char name[OCTO_NOISE_MUXERS_MAX][OCTO_NOISE_MUXER_NAME_MAX + 1];
    size_t count;
};

struct octo_noise_config {
    bool initiator; /* true for the dialer */
    /* Borrowed for the duration of octo_noise_init only (the signature is made there). */
    const struct octo_identity *identity;
    const uint8_t *static_secret;    /* X25519 static private key, 32 bytes (copied) */
    const uint8_t *ephemeral_secret; /* X25519 ephemeral private key, 32 bytes (copied) */
    /* Optional, for a static key reused across connections: its public key (32 bytes) and
     * octo_noise_static_sig() over it (64 bytes), computed once; both or neither. */
    const uint8_t *static_public;
    const uint8_t *static_sig;
    const uint8_t *prologue; /* empty on TCP; may be NULL when prologue_len is 0 */
    size_t prologue_len;
    /* When not NULL, the remote's peer id must equal it (checked when its payload arrives;
     * meant for the dialer, enforced on either side). Copied. */
    const struct octo_peerid *expected_peer;
    /* Stream muxers to advertise in preference order (copied); may be empty. */
    const char *const *muxers;
    size_t muxer_count;
};

enum octo_noise_event_type {
    OCTO_NOISE_EV_HANDSHAKE_DONE = 1,
    OCTO_NOISE_EV_ERROR = 2,
};

enum octo_noise_reason {
    OCTO_NOISE_R_NONE = 0,
    OCTO_NOISE_R_BAD_SIGNATURE,   /* identity_sig does not verify */
    OCTO_NOISE_R_WRONG_PEER,      /* remote peer id differs from the expected one */
    OCTO_NOISE_R_DECRYPT,         /* AEAD tag mismatch (handshake or transport) */
    OCTO_NOISE_R_OVERSIZE,        /* message over its limit */
    OCTO_NOISE_R_SHORT_FRAME,     /* frame shorter than its fixed part / the tag */
    OCTO_NOISE_R_NONCE_EXHAUSTED, /* a CipherState reached 2^64-1 */
    OCTO_NOISE_R_BAD_PAYLOAD,     /* handshake payload undecodable or incomplete */
    OCTO_NOISE_R_UNSUPPORTED_KEY, /* identity key not Ed25519 */
    OCTO_NOISE_R_WEAK_KEY,        /* a DH result was all zero */
    OCTO_NOISE_R_INTERNAL,        /* out of memory or a library failure */
    OCTO_NOISE_R_COUNT
};

struct octo_noise_event {
    enum octo_noise_event_type type;
    /* HANDSHAKE_DONE */
    struct octo_peerid remote_peer;
    struct octo_pubkey remote_key;
    bool has_muxer; /* false: "none", negotiate the muxer with multistream-select */
    char muxer[OCTO_NOISE_MUXER_NAME_MAX + 1];
    /* ERROR */
    enum octo_noise_reason reason;
    int err;                /* the OCTO_E* code returned to the caller */
    const char *reason_str; /* static string */
};

/* Counters by reason (index: enum octo_noise_reason) for the shell's metrics. */
struct octo_noise_stats {
    uint64_t errors[OCTO_NOISE_R_COUNT];
    uint64_t frames_in;
    uint64_t frames_out;
};

enum octo_noise_state {
    OCTO_NOISE_ST_HANDSHAKE = 1,
    OCTO_NOISE_ST_TRANSPORT,
    OCTO_NOISE_ST_FAILED,
};

struct octo_noise {
    enum octo_noise_state state;
    int err; /* sticky error once FAILED */
    struct octo_noise_hs hs;
    struct octo_noise_cipher send; /* transport, after Split */
    struct octo_noise_cipher recv;
    uint8_t handshake_hash[OCTO_NOISE_HASH_LEN];
    struct octo_noise_muxers muxers;
    bool has_expected;
    struct octo_peerid expected;
    struct octo_buf payload; /* our handshake payload, until sent */
    struct octo_buf in;      /* one partial frame: header + body */
    struct octo_buf plain;   /* decrypted bytes; unread part starts at plain_off */
    size_t plain_off;
    struct octo_buf out; /* wire bytes; undrained part starts at out_off */
    size_t out_off;
    struct octo_noise_event events[OCTO_NOISE_EVENTS_MAX];
    size_t ev_head;
    size_t ev_count;
    struct octo_noise_stats stats;
};

/* Per-remote facts from a verified handshake payload. */
struct octo_noise_remote {
    struct octo_pubkey key;
    struct octo_peerid peer;
    size_t muxer_count; /* entries the remote advertised */
    bool has_muxer;     /* inlined negotiation succeeded */
    char muxer[OCTO_NOISE_MUXER_NAME_MAX + 1];
};

/* Initialises a connection. The initiator's first message (e) is queued in the output at
 * once. Errors: OCTO_EINVAL (missing identity or keys), OCTO_ETOOBIG (more than
 * OCTO_NOISE_MUXERS_MAX muxers or a name longer than OCTO_NOISE_MUXER_NAME_MAX), OCTO_ECONFIG
 * (empty muxer name), OCTO_ECRYPTO, OCTO_ENOMEM. On error the struct is left deinitialised. */
OCTO_MUST_USE int octo_noise_init(struct octo_noise *n, const struct octo_noise_config *cfg);
/* Frees buffers and wipes keys and plaintext; tolerates a zeroed struct. */
void octo_noise_deinit(struct octo_noise *n);

/* Feeds bytes from the wire. Returns the number consumed (less than len only under
 * backpressure: offer the rest again after octo_noise_read_consume), or a fatal error:
 * OCTO_EDECRYPT, OCTO_EBADSIG, OCTO_EPERM (wrong peer), OCTO_EMALFORMED (short frame, bad
 * payload), OCTO_EUNSUPPORTED (identity key type), OCTO_ECRYPTO (weak key), OCTO_ERANGE
 * (nonce exhausted), OCTO_ETOOBIG, OCTO_ENOMEM; or the sticky error of a failed connection.
 * `now` is unused (no timers; the shell enforces the handshake timeout). */
OCTO_MUST_USE int octo_noise_recv(struct octo_noise *n, octo_tick now, const uint8_t *data,
                                  size_t len);

/* Encrypts application bytes into frames of at most OCTO_NOISE_PLAIN_FRAME_MAX plaintext
 * bytes appended to the output. Returns the number of bytes accepted, bounded by the room
 * left under OCTO_NOISE_OUT_MAX (0 when full); len 0 queues one empty frame when it fits.
 * Errors: OCTO_ESTATE (handshake not finished), OCTO_ERANGE (nonce exhausted: fatal), the
 * sticky error of a failed connection, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_noise_write(struct octo_noise *n, const uint8_t *data, size_t len);

/* Undrained wire bytes (valid until the next call that modifies n). */
void octo_noise_out(const struct octo_noise *n, const uint8_t **data, size_t *len);

/* Output room left (OCTO_NOISE_OUT_MAX minus pending bytes): a write of k plaintext bytes
 * needing f frames is accepted whole when k + f * 18 fits. */
size_t octo_noise_out_room(const struct octo_noise *n);
/* Marks k drained bytes as sent (k <= the length octo_noise_out reported). */
void octo_noise_out_consume(struct octo_noise *n, size_t k);

/* Unread decrypted bytes (valid until the next call that modifies n). */
void octo_noise_read(const struct octo_noise *n, const uint8_t **data, size_t *len);
/* Marks k decrypted bytes as read (k <= the length octo_noise_read reported). */
void octo_noise_read_consume(struct octo_noise *n, size_t k);

/* Pops the next event; false when none is queued. */
bool octo_noise_poll(struct octo_noise *n, struct octo_noise_event *ev);

/* True once the handshake completed and the connection has not failed. */
bool octo_noise_established(const struct octo_noise *n);

/* Moves every pending output byte of `from` into `to` (octo_noise_recv), as an in-memory
 * connection does: for tests, fuzz seeds and benchmarks. Returns the bytes moved (bytes `to`
 * did not accept under backpressure stay in `from`), or the error `to` returned. */
OCTO_MUST_USE int octo_noise_pipe(struct octo_noise *from, struct octo_noise *to, octo_tick now);

/* Static string for a reason code. */
const char *octo_noise_reason_str(enum octo_noise_reason reason);

/* ---- handshake payload (exposed for tests and the fuzz harness) ---- */

/* identity_sig: Ed25519 over OCTO_NOISE_SIG_PREFIX || static_pub. */
void octo_noise_static_sig(const struct octo_identity *id,
                           const uint8_t static_pub[OCTO_NOISE_DH_LEN],
                           uint8_t sig[OCTO_ED25519_SIG_LEN]);

/* Encodes our NoiseHandshakePayload (identity key, signature, and the muxer list in
 * extensions when non-empty) into out (reset first). Errors: OCTO_ETOOBIG, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_noise_payload_encode(const struct octo_identity *id,
                                            const uint8_t static_pub[OCTO_NOISE_DH_LEN],
                                            const struct octo_noise_muxers *muxers,
                                            struct octo_buf *out);

/* As octo_noise_payload_encode with the static-key signature already made. */
OCTO_MUST_USE int octo_noise_payload_encode_signed(const struct octo_pubkey *identity_key,
                                                   const uint8_t sig[OCTO_ED25519_SIG_LEN],
                                                   const struct octo_noise_muxers *muxers,
                                                   struct octo_buf *out);

/* Decodes and verifies a remote NoiseHandshakePayload sent with X25519 static key
 * remote_static, and runs the inlined muxer selection against our list (`local`, in
 * preference order; local_initiator says whose list wins). Errors: OCTO_ETOOBIG (len over
 * OCTO_NOISE_PAYLOAD_MAX), OCTO_EMALFORMED (undecodable, key or signature missing, wrong
 * signature length), OCTO_EUNSUPPORTED (not Ed25519), OCTO_EINVAL / OCTO_ENONCANON (bad
 * PublicKey), OCTO_EBADSIG. */
OCTO_MUST_USE int octo_noise_payload_decode(const uint8_t *in, size_t len,
                                            const uint8_t remote_static[OCTO_NOISE_DH_LEN],
                                            const struct octo_noise_muxers *local,
                                            bool local_initiator, struct octo_noise_remote *out);

#endif
