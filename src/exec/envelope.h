/*
 * envelope.h — the Privacy Containers' task and result envelopes, and the frames that carry
 * them between a client, a provider node and the sandbox worker (ARCHITECTURE.md §5).
 *
 * Every payload travels in an envelope that names its data class. PUBLIC and SHARED bodies are
 * plaintext (SHARED relies on the Noise channel in transit and the blob store's encryption at
 * rest). PRIVATE and CONFIDENTIAL bodies are sealed end to end to the X25519 key of the one
 * sandbox worker that executes the task; the worker made that key inside the sandbox, so only
 * it can open the body. CONFIDENTIAL adds an ACL: the Ed25519 keys of the agents and providers
 * allowed to see the data. The sender signs the whole envelope.
 *
 * Layout (integers big-endian; the encoding is canonical: one byte string per envelope):
 *   off  len  field
 *     0    4  magic "OENV"
 *     4    1  version (1)
 *     5    1  kind: 1 task (client -> worker), 2 result (worker -> client)
 *     6    1  class: 0 public, 1 shared, 2 confidential, 3 private (enum octo_data_class)
 *     7    1  reserved, 0
 *     8   16  task id
 *    24   32  sender: Ed25519 key that signs the envelope (the client; the node for results)
 *    56   32  reply_to, sealed classes only (else 0): in a task, the client's X25519 key the
 *             result is sealed to; in a result, the worker's X25519 key that authenticated it
 *    88   32  recipient: sealed class: the X25519 key the body is sealed to; else 0
 *   120    2  n, ACL entries: CONFIDENTIAL 1..OCTO_ENV_ACL_MAX, other classes 0
 *   122  32n  ACL: Ed25519 keys, strictly ascending (no duplicates)
 *          4  body length (<= OCTO_ENV_BODY_MAX)
 *             body: PUBLIC/SHARED: the payload (<= OCTO_ENV_PAYLOAD_MAX); sealed classes, the
 *             inner plaintext SHA-256(header || bind) || payload, with header = bytes
 *             [0, 122 + 32n) and bind a 32-byte value both ends know (the digest of the command
 *             the client agreed to; zero when none), as
 *               task:   crypto_box_seal to recipient (anonymous sender: the client);
 *               result: 24-byte nonce || crypto_box from reply_to (the worker's secret key) to
 *                       recipient — only the attested worker can have made it;
 *         64  Ed25519 signature by sender over "octo-envelope-v1" || SHA-256(all bytes
 *             before it)
 * The hash inside the sealed body ties it to its header and to the command: a relay that
 * re-wraps a sealed body under another class, task, ACL or reply key (signing with its own
 * key), or hands it to another command, produces an envelope the worker refuses.
 *
 * Frames carry envelopes and the handshake over a byte stream: type (1) || length (4, big-
 * endian, <= OCTO_FRAME_BODY_MAX) || body. See exec/privacy.h for the exchange.
 *
 * Pure code: no I/O, no clock; decoders check every length before using it and never
 * allocate from an attacker-chosen size. Fuzzed by fuzz/fuzz_envelope.c.
 */
#ifndef OCTO_EXEC_ENVELOPE_H
#define OCTO_EXEC_ENVELOPE_H

#include "base/buf.h"
#include "base/err.h"
#include "crypto/ident.h"
#include "crypto/seal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_ENV_VERSION 1
#define OCTO_ENV_TASK_ID_LEN 16
#define OCTO_ENV_ACL_MAX 64
#define OCTO_ENV_FIXED_LEN 122 /* header bytes before the ACL */
#define OCTO_ENV_HEADER_MAX (OCTO_ENV_FIXED_LEN + 32 * OCTO_ENV_ACL_MAX)
#define OCTO_ENV_PAYLOAD_MAX (OCTO_SEAL_PLAINTEXT_MAX - 32) /* 16 MiB less the header hash */
#define OCTO_ENV_BODY_MAX OCTO_SEAL_ENVELOPE_MAX
#define OCTO_ENV_SIG_LEN 64
#define OCTO_ENV_BIND_LEN 32
#define OCTO_ENV_BOX_NONCE_LEN 24 /* crypto_box nonce of a sealed result */
#define OCTO_ENV_BOX_MAC_LEN 16
#define OCTO_ENV_MAX (OCTO_ENV_HEADER_MAX + 4 + OCTO_ENV_BODY_MAX + OCTO_ENV_SIG_LEN)

enum octo_env_kind {
    OCTO_ENV_TASK = 1,
    OCTO_ENV_RESULT = 2,
};

/* Data classes: the values of enum octo_data_class (intel/router.h). */
enum octo_env_class {
    OCTO_ENV_PUBLIC = 0,
    OCTO_ENV_SHARED = 1,
    OCTO_ENV_CONFIDENTIAL = 2,
    OCTO_ENV_PRIVATE = 3,
};

/* What an envelope is built from. acl is an array of acl_count keys in any order. */
struct octo_env_params {
    enum octo_env_kind kind;
    enum octo_env_class cls;
    uint8_t task_id[OCTO_ENV_TASK_ID_LEN];
    struct octo_pubkey sender;
    struct octo_x25519_pk reply_to;  /* sealed class: required (task: the client's reply
                                        key; result: from's public key); otherwise zero */
    struct octo_x25519_pk recipient; /* sealed class: required; otherwise zero */
    const struct octo_pubkey *acl;
    size_t acl_count;
    const struct octo_seal_keypair *from; /* sealed result: the worker's key pair (boxes it) */
    uint8_t bind[OCTO_ENV_BIND_LEN];      /* sealed classes: mixed into the inner hash */
};

/* A decoded envelope. Pointers borrow the input bytes. */
struct octo_envelope {
    enum octo_env_kind kind;
    enum octo_env_class cls;
    uint8_t task_id[OCTO_ENV_TASK_ID_LEN];
    struct octo_pubkey sender;
    struct octo_x25519_pk reply_to, recipient;
    const uint8_t *acl; /* acl_count * 32 bytes, ascending */
    size_t acl_count;
    const uint8_t *header; /* bytes [0, header_len): hashed into a sealed body */
    size_t header_len;
    const uint8_t *body;
    size_t body_len;
    bool is_signed; /* decoded with a verified signature */
};

/* Whether bodies of class cls are sealed end to end (PRIVATE, CONFIDENTIAL). */
bool octo_env_class_sealed(enum octo_env_class cls);

/* Name of a class ("public", "shared", "confidential", "private"; "?" otherwise). */
const char *octo_env_class_name(enum octo_env_class cls);

/* Parses a class name. Returns 0 or OCTO_EINVAL. */
OCTO_MUST_USE int octo_env_class_parse(const char *name, enum octo_env_class *out);

/* Encodes an unsigned envelope (everything but the signature) carrying payload[0..len),
 * appending it to out; a sealed class seals the body to p->recipient (a result: boxed from
 * p->from, whose public key must be p->reply_to). Errors: OCTO_EINVAL (kind/class out of range,
 * a key present where the class forbids it or missing where it needs one, a sealed result
 * without from or with from not matching reply_to, ACL empty for CONFIDENTIAL or present for
 * another class, duplicate ACL entries, acl_count > OCTO_ENV_ACL_MAX), OCTO_ETOOBIG (len >
 * OCTO_ENV_PAYLOAD_MAX or out's ceiling), OCTO_ENOMEM, OCTO_ECRYPTO (invalid recipient key).
 * out is unchanged on error. */
OCTO_MUST_USE int octo_env_encode(const struct octo_env_params *p, const uint8_t *payload,
                                  size_t len, struct octo_buf *out);

/* Signs the unsigned envelope that fills env (from octo_env_encode) with id, appending the
 * signature. Errors: OCTO_EMALFORMED (env is not one unsigned envelope), OCTO_EPERM (its sender
 * is not id), OCTO_ETOOBIG / OCTO_ENOMEM (env's ceiling). */
OCTO_MUST_USE int octo_env_sign(struct octo_buf *env, const struct octo_identity *id);

/* Decodes in[0..len): a signed envelope when want_signed (the signature is verified against
 * the sender), an unsigned one otherwise. Checks every rule of the layout. Errors:
 * OCTO_ETOOBIG (len > OCTO_ENV_MAX or a length field over its maximum), OCTO_EMALFORMED
 * (truncated, trailing bytes, bad magic/kind/class/reserved, keys or ACL against the class
 * rules, ACL not ascending), OCTO_EUNSUPPORTED (another version), OCTO_EBADSIG. */
OCTO_MUST_USE int octo_env_decode(const uint8_t *in, size_t len, bool want_signed,
                                  struct octo_envelope *out);

/* Appends e's payload to out (use a secret buffer for sealed classes): the body of a PUBLIC or
 * SHARED envelope; a sealed body is opened with kp, which must be e's recipient (a result's box
 * is authenticated with e->reply_to: the caller checks that this is the worker it expects),
 * and its inner hash checked against the header and bind (NULL = zero). Errors: OCTO_EPERM (kp
 * is not the recipient), OCTO_EDECRYPT (wrong key, tampered body, a result not boxed by
 * reply_to), OCTO_EMALFORMED (header/bind hash mismatch or short plaintext), OCTO_ETOOBIG /
 * OCTO_ENOMEM (out). out is unchanged on error. kp may be NULL for an unsealed class. */
OCTO_MUST_USE int octo_env_open_bound(const struct octo_envelope *e,
                                      const struct octo_seal_keypair *kp,
                                      const uint8_t bind[OCTO_ENV_BIND_LEN], struct octo_buf *out);

/* octo_env_open_bound with a zero bind. */
OCTO_MUST_USE int octo_env_open(const struct octo_envelope *e, const struct octo_seal_keypair *kp,
                                struct octo_buf *out);

/* The digest that names a command (argv) in the bind of sealed envelopes and in the worker's
 * key announcement: SHA-256 over "octo-command-v1" and each argument with its NUL. argv holds
 * at least one argument. */
void octo_env_command_digest(const char *const *argv, uint8_t out[OCTO_ENV_BIND_LEN]);

/* Whether the envelope's ACL admits who: true for classes without an ACL. */
bool octo_env_acl_allows(const struct octo_envelope *e, const struct octo_pubkey *who);

/* ---- result payload -------------------------------------------------------------------- */

/* What a worker seals into a result envelope: version (1) || how (1) || code (4, big-endian)
 * || u32 length || stdout || u32 length || stderr. how: exited (code = exit status), signaled
 * (code = signal), not started (code = 0). */
#define OCTO_ENV_RESULT_VERSION 1
#define OCTO_ENV_HOW_EXITED 0
#define OCTO_ENV_HOW_SIGNALED 1
#define OCTO_ENV_HOW_NOT_STARTED 2

/* Appends the payload for wait status st (-1: the command could not start). OCTO_ETOOBIG /
 * OCTO_ENOMEM from dst. */
OCTO_MUST_USE int octo_env_result_encode(int st, const struct octo_buf *out,
                                         const struct octo_buf *err, struct octo_buf *dst);

/* Decodes a result payload, appending stdout and stderr to out and err (either may be NULL).
 * OCTO_EMALFORMED for a bad version, how, length or trailing bytes; out/err's errors. */
OCTO_MUST_USE int octo_env_result_decode(const uint8_t *p, size_t len, int *how, int *code,
                                         struct octo_buf *out, struct octo_buf *err);

/* ---- frames ---------------------------------------------------------------------------- */

#define OCTO_FRAME_HEAD_LEN 5
#define OCTO_FRAME_BODY_MAX (OCTO_ENV_MAX + 64)

enum octo_frame_type {
    OCTO_FRAME_HELLO = 1,  /* client -> provider: nonce, task id, class */
    OCTO_FRAME_KEY = 2,    /* worker -> provider -> client: the worker's key (+ evidence) */
    OCTO_FRAME_TASK = 3,   /* client -> provider -> worker: a signed task envelope */
    OCTO_FRAME_RESULT = 4, /* worker -> provider -> client: a result envelope (+ outcome) */
    OCTO_FRAME_ERROR = 5,  /* provider -> client: a refusal, UTF-8 text */
};
#define OCTO_FRAME_TYPE_LAST OCTO_FRAME_ERROR

/* Appends a frame. OCTO_ETOOBIG (len > OCTO_FRAME_BODY_MAX or out's ceiling), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_frame_append(struct octo_buf *out, enum octo_frame_type type,
                                    const uint8_t *body, size_t len);

/* Parses the frame at the start of in[0..len), accepting bodies up to max bytes (<=
 * OCTO_FRAME_BODY_MAX). Returns the frame's total length with type, body and body_len set,
 * OCTO_EAGAIN when more bytes are needed, OCTO_ETOOBIG (length over max) or OCTO_EMALFORMED
 * (unknown type). */
OCTO_MUST_USE long octo_frame_parse(const uint8_t *in, size_t len, size_t max,
                                    enum octo_frame_type *type, const uint8_t **body,
                                    size_t *body_len);

#endif
