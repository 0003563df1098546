/*
 * privacy.h — Privacy Containers: the data-class matrix of ARCHITECTURE.md §5 and the end-to-end
 * exchange that keeps PRIVATE and CONFIDENTIAL payloads sealed everywhere except inside the
 * sandbox worker that executes them.
 *
 *   class         at rest              compute                           in transit
 *   PRIVATE       encrypted (blob.h)   TEE only, or the owner's own node  sealed to the worker
 *   CONFIDENTIAL  encrypted            TEE + ACL                          sealed to the worker
 *   SHARED        encrypted            any node (authenticated peer)      Noise
 *   PUBLIC        none                 no restriction                     none required
 *
 * The exchange (frames of envelope.h over any byte stream; the provider relays, never opens):
 *
 *   client                       provider node (supervisor)         sandbox: octo-worker
 *   HELLO nonce,task,class  ->   starts the sandbox with the worker
 *                                                               <-  KEY: X25519 key made in
 *                                                                   the sandbox, digest of the
 *                                                                   command it will run
 *                           <-   KEY: worker key, command digest, node key, node signature,
 *                                evidence with report_data = octo_att_binding(nonce, worker
 *                                key, task id, node key || command digest)
 *   admit (octo_privacy_admit):
 *   evidence, owner, ACL,
 *   the command (pinned or
 *   as announced)
 *   TASK: signed envelope,
 *   body sealed to worker,
 *   bound to the command    ->   checks class, task, recipient,   -> opens it (only here, only
 *                                ACL; feeds it to the worker          if the bind is its own
 *                                                                     command), runs the command
 *                                                                     with the payload on its
 *                                                                     stdin, boxes exit status,
 *                                                                     stdout and stderr from its
 *                                                              <-     key to the client: RESULT
 *   checks the box came     <-   RESULT: outcome, the result envelope signed by the node
 *   from the worker, opens
 *
 * For PUBLIC and SHARED tasks the same exchange runs with plaintext bodies. A refusal at any
 * step fails closed: the provider sends ERROR with a reason, the worker exits without running
 * the command, the client never sends a sealed payload to a node the matrix does not allow.
 *
 * What the provider sees of a sealed task: its class, task id, sizes (of the payload and of the
 * result), ACL, the command's digest, and the outcome of the worker's sandbox (its exit, OOM,
 * timeout, wall time, memory). Not the payload, the command's output or exit status. The
 * command runs with the worker's uid, so a command that means to can still signal through
 * what the provider sees (kill the worker, vary its time or output size): which command runs
 * is therefore part of what the client agrees to (pin it with octo_privacy_policy.command; an
 * attested TEE measures it with the node). tests/exec/canary.c proves the rest with a canary
 * secret: no other process, log, database or byte on the wire holds it in plaintext.
 *
 * The provider's side trusts its transport to have authenticated and rate-limited the client
 * (a Noise peer): a HELLO starts a sandbox.
 */
#ifndef OCTO_EXEC_PRIVACY_H
#define OCTO_EXEC_PRIVACY_H

#include "base/buf.h"
#include "base/err.h"
#include "crypto/ident.h"
#include "crypto/seal.h"
#include "exec/attest.h"
#include "exec/envelope.h"
#include "exec/sandbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_PRIVACY_NONCE_LEN 32
#define OCTO_PRIVACY_HELLO_LEN (OCTO_PRIVACY_NONCE_LEN + OCTO_ENV_TASK_ID_LEN + 1)
#define OCTO_PRIVACY_KEY_FIXED (32 + 32 + 32 + 64 + 1) /* worker, command, node, sig, type */
#define OCTO_PRIVACY_WORKER_KEY_LEN 64                 /* the worker's KEY: key, command */
#define OCTO_PRIVACY_KEY_MAX (OCTO_PRIVACY_KEY_FIXED + OCTO_ATT_EVIDENCE_MAX)
#define OCTO_PRIVACY_EV_NONE 0xff   /* KEY carries no evidence */
#define OCTO_PRIVACY_RESULT_FIXED 9 /* outcome, worker exit code, signal */
#define OCTO_PRIVACY_ERROR_MAX 256
#define OCTO_PRIVACY_OWNED_MAX 64 /* owner's nodes in one policy */
#define OCTO_PRIVACY_WORKER_PATH "/run/octo/octo-worker"
#define OCTO_PRIVACY_BINDS_MAX 4 /* extra binds for the command */
#define OCTO_PRIVACY_IO_TIMEOUT_MS_DEFAULT 30000u

/* Whether a node may compute data of class cls (the matrix above). att: the verified
 * attestation result of the node's evidence, or NULL; owner_node: the client owns the node;
 * node_in_acl: the node's key is on the task's ACL (CONFIDENTIAL). Returns 0 or OCTO_EPERM
 * with the reason in why (why_size bytes; may be NULL). */
OCTO_MUST_USE int octo_privacy_admit(enum octo_env_class cls, const struct octo_att_result *att,
                                     bool owner_node, bool node_in_acl, char *why, size_t why_size);

/* ---- client ---------------------------------------------------------------------------- */

/* What the client trusts. anchors[t] serves evidence of type t (NULL: that type is refused). */
struct octo_privacy_policy {
    const struct octo_trust_anchors *anchors[OCTO_EV_TYPES];
    const struct octo_pubkey *owned; /* the client's own nodes (PRIVATE without a TEE) */
    size_t owned_count;              /* <= OCTO_PRIVACY_OWNED_MAX */
    const struct octo_pubkey *acl;   /* CONFIDENTIAL: agents and providers allowed */
    size_t acl_count;                /* <= OCTO_ENV_ACL_MAX */
    const char *const *command;      /* the command the payload may go to (argv); NULL: the one
                                        the worker announces */
    int64_t now_s;                   /* for certificate validity */
};

struct octo_privacy_client {
    const struct octo_identity *id; /* borrowed: signs the task */
    enum octo_env_class cls;
    uint8_t task_id[OCTO_ENV_TASK_ID_LEN];
    uint8_t nonce[OCTO_PRIVACY_NONCE_LEN];
    struct octo_seal_keypair reply; /* fresh per task: results are sealed to it */
    /* Set by octo_privacy_client_on_key: */
    bool admitted;
    struct octo_x25519_pk worker;
    uint8_t command[OCTO_ENV_BIND_LEN]; /* digest of the command the worker runs */
    struct octo_pubkey node;
    struct octo_att_result att; /* the evidence's result; verified false when none or bad */
};

/* The decoded RESULT. */
struct octo_privacy_outcome {
    enum octo_sandbox_outcome sandbox; /* the provider's view of the worker's sandbox */
    int worker_exit;
    int worker_signal;
    bool have_result; /* a result envelope came back and opened */
    int how;          /* OCTO_ENV_HOW_* of the command */
    int code;         /* its exit code or signal */
};

/* Prepares a task of class cls signed by id; task_id NULL draws a random one. Returns 0,
 * OCTO_EINVAL or OCTO_ECRYPTO. Deinit wipes the reply key. */
OCTO_MUST_USE int octo_privacy_client_init(struct octo_privacy_client *c,
                                           const struct octo_identity *id, enum octo_env_class cls,
                                           const uint8_t task_id[OCTO_ENV_TASK_ID_LEN]);
void octo_privacy_client_deinit(struct octo_privacy_client *c);

/* Appends the HELLO frame. */
OCTO_MUST_USE int octo_privacy_client_hello(const struct octo_privacy_client *c,
                                            struct octo_buf *out);

/* Checks a KEY frame body: the node's signature, the evidence (verified against pol's anchor
 * for its type and bound to this task's nonce and the worker key) and the class matrix.
 * A policy that pins a command refuses a worker announcing another (OCTO_EPERM).
 * Returns 0 (admitted), OCTO_EPERM (the class may not run there; why says which rule),
 * OCTO_EBADSIG, OCTO_EMALFORMED (also for a worker key that is not a usable X25519 key),
 * OCTO_ETOOBIG, OCTO_EINVAL (pol's owned or acl count over its limit). */
OCTO_MUST_USE int octo_privacy_client_on_key(struct octo_privacy_client *c,
                                             const struct octo_privacy_policy *pol,
                                             const uint8_t *body, size_t len, char *why,
                                             size_t why_size);

/* Appends the TASK frame: payload in a signed envelope, sealed to the admitted worker for a
 * sealed class. OCTO_ESTATE before admission; octo_env_encode's errors. */
OCTO_MUST_USE int octo_privacy_client_task(const struct octo_privacy_client *c,
                                           const struct octo_privacy_policy *pol,
                                           const uint8_t *payload, size_t len,
                                           struct octo_buf *out);

/* Decodes a RESULT frame body; when it carries a result envelope (signed by the admitted node,
 * for this task, a sealed one boxed by the admitted worker's key), opens it and appends the
 * command's stdout and stderr to out_stdout and out_stderr (secret buffers for sealed classes).
 * Returns 0, OCTO_EMALFORMED, OCTO_EBADSIG, OCTO_EPERM (another signer or task), OCTO_EDECRYPT,
 * OCTO_ETOOBIG, OCTO_EUNSUPPORTED (another envelope version). */
OCTO_MUST_USE int octo_privacy_client_on_result(struct octo_privacy_client *c, const uint8_t *body,
                                                size_t len, struct octo_privacy_outcome *out,
                                                struct octo_buf *out_stdout,
                                                struct octo_buf *out_stderr);

/* ---- provider -------------------------------------------------------------------------- */

struct octo_privacy_provider {
    const struct octo_identity *node;     /* signs KEY and results; what ACLs name */
    const struct octo_attester *attester; /* evidence for each worker key; NULL: none */
    const char *worker_exe;               /* host path of octo-worker */
    /* More read-only binds the command needs (its program, a model file), at most
     * OCTO_PRIVACY_BINDS_MAX; the worker itself is bound at OCTO_PRIVACY_WORKER_PATH. */
    struct octo_sandbox_bind binds[OCTO_PRIVACY_BINDS_MAX];
    size_t binds_count;
    struct octo_sandbox_limits limits; /* for the worker's sandbox (0 = defaults) */
    enum octo_sandbox_net net;
    uint32_t io_timeout_ms; /* waiting for the client's frames (0 = default) */
    int cancel_fd;          /* readable: the worker's sandbox is killed (sandbox.h); 0: none */
    /* Called with an accepted task before the worker gets it (the node persists the envelope,
     * which is ciphertext for a sealed class); non-zero refuses the task. May be NULL. */
    int (*on_accept)(void *ctx, const struct octo_envelope *task, const uint8_t *env, size_t len);
    void *ctx;
};

/* What one served task came to (no payload data: the provider never has it). */
struct octo_privacy_report {
    bool accepted;           /* a TASK was fed to the worker */
    enum octo_env_class cls; /* from HELLO */
    uint8_t task_id[OCTO_ENV_TASK_ID_LEN];
    bool result_sent; /* a signed result went back */
    struct octo_sandbox_result sandbox;
    char reason[OCTO_PRIVACY_ERROR_MAX]; /* a refusal, as sent to the client in ERROR */
};

/* Serves one task read from in_fd, answering on out_fd (blocking descriptors: a pipe, a
 * socket), running argv in the worker's sandbox. Returns 0 when the exchange ran to its end
 * (report->accepted / result_sent say how far the task got), OCTO_EPERM after a refusal (sent
 * as ERROR), OCTO_EPROTO / OCTO_EMALFORMED / OCTO_ETIMEDOUT / OCTO_ECLOSED for a client that
 * broke the exchange, OCTO_EINVAL for a bad configuration. */
OCTO_MUST_USE int octo_privacy_serve(const struct octo_privacy_provider *p, int in_fd, int out_fd,
                                     const char *const *argv, struct octo_privacy_report *report);

/* Frame I/O on a descriptor (a socket or a pipe; shared by provider, client tools and tests),
 * bounded in time: writes all of data within timeout_ms (never raising SIGPIPE for a socket;
 * octo_privacy_serve blocks SIGPIPE for pipes) and returns 0, OCTO_ETIMEDOUT, OCTO_ECLOSED
 * (the peer is gone) or OCTO_EIO; reads one frame of at most max body bytes into buf (reset
 * first; grown as bytes arrive, not from the length field) and returns the frame type,
 * OCTO_ETIMEDOUT, OCTO_ECLOSED, OCTO_EIO, or octo_frame_parse's errors. */
OCTO_MUST_USE int octo_privacy_write_all(int fd, const uint8_t *data, size_t len,
                                         uint32_t timeout_ms);
OCTO_MUST_USE int octo_privacy_read_frame(int fd, size_t max, uint32_t timeout_ms,
                                          struct octo_buf *buf, const uint8_t **body,
                                          size_t *body_len);

#endif
