/*
 * taskrun.h — a provider runs one inference task inside the process sandbox: octo-runner
 * (exec/runner/main.c, the built-in engine) on the model file, the client's OpenAI-style
 * request on its stdin, the text streamed back as it is generated.
 *
 * Why a separate program: the request and the generated text are the client's data and the
 * model file is large, untrusted input for the GGUF reader; both are handled in a sandbox with
 * no network (a fresh net namespace), a read-only root, a size-capped /tmp, uid 1000, the
 * seccomp allowlist and cgroup limits, so a bug in the reader, tokenizer or engine is contained
 * there. The node keeps only the supervision.
 *
 * Inside the sandbox: the runner at OCTO_TASKRUN_RUNNER_PATH and the model at
 * OCTO_TASKRUN_MODEL_PATH, both bound read-only. The protocol (all lines on the runner's
 * stdout, newline-terminated JSON, at most OCTO_TASKRUN_LINE_MAX bytes each):
 *
 *   stdin   the request body (OCTO_TASKRUN_REQUEST_MAX bytes at most), exactly
 *           --request-bytes N of them; any byte after them asks the runner to stop (cancel)
 *   stdout  {"t":"<piece>"}   one per piece of text, in order (a piece holds whole UTF-8
 *                              characters, at most OCTO_TASKRUN_PIECE_MAX bytes)
 *           then exactly one of
 *           {"done":true,"finish":"stop|length|cancelled","prompt_tokens":N,
 *            "completion_tokens":M,"ttft_ns":T,"generate_ns":G,"model_sha256":"<64 hex>"}
 *           {"error":"<code>","message":"..."}   (exit status 1; 2 for a usage error)
 *   stderr  diagnostics only (the last OCTO_TASKRUN_STDERR_TAIL bytes are kept for a message)
 *
 * Cancellation: the sandbox's supervisor has no way to be woken from another thread, so a stop
 * request is sent from the supervising thread (the caller's), when the runner's output arrives:
 * a non-zero return of on_piece, or spec.cancel found set when the next output comes. The
 * runner then ends the generation after the current token (finish "cancelled"). A cancel set
 * while the model loads or the prompt is read is therefore seen at the first piece; the wall
 * deadline (limits.wall_ms) bounds everything.
 *
 * Threading: octo_taskrun_run blocks the calling thread until the runner is gone (it calls
 * octo_sandbox_run, which forks); on_piece runs on that thread. Not pure: it makes system
 * calls and may block for as long as the task's wall deadline. Does not use libuv.
 */
#ifndef OCTO_EXEC_TASKRUN_H
#define OCTO_EXEC_TASKRUN_H

#include "base/err.h"
#include "exec/sandbox.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_TASKRUN_RUNNER_PATH "/run/octo/octo-runner"
#define OCTO_TASKRUN_MODEL_PATH "/run/octo/model.gguf"

#define OCTO_TASKRUN_REQUEST_MAX (1u << 20) /* bytes of one request body */
#define OCTO_TASKRUN_LINE_MAX (64u << 10)   /* bytes of one stdout line, newline included */
#define OCTO_TASKRUN_PIECE_MAX 4096u        /* text bytes of one piece line (escaped: <= 6x) */
#define OCTO_TASKRUN_STDERR_TAIL 512u       /* bytes of the runner's stderr kept */
#define OCTO_TASKRUN_MAX_TOKENS_DEFAULT 16u /* a request without max_tokens */

/* Defaults applied to 0 fields of spec.limits (the others are the sandbox's own). */
#define OCTO_TASKRUN_MEM_HEADROOM (UINT64_C(256) << 20) /* memory: model file size + this */
#define OCTO_TASKRUN_WALL_MS_DEFAULT 120000u
#define OCTO_TASKRUN_OUTPUT_DEFAULT (UINT64_C(16) << 20) /* per stream */
#define OCTO_TASKRUN_PIDS_SPARE 16u                      /* pids: threads + this, at least 64 */

enum octo_taskrun_kind {
    OCTO_TASKRUN_CHAT = 0,       /* a /v1/chat/completions body: messages */
    OCTO_TASKRUN_COMPLETION = 1, /* a /v1/completions body: a raw prompt */
};

/* Called with each piece of generated text (text[0..len), whole UTF-8 characters, not
 * NUL-terminated; a piece may contain any byte the model produced) on the calling thread. A
 * non-zero return asks the runner to stop: later pieces are still delivered until it does (at
 * most the rest of the current token's line), and the finish reads "cancelled". */
typedef int (*octo_taskrun_piece_fn)(void *ctx, const char *text, size_t len);

struct octo_taskrun_spec {
    const char *runner_exe;      /* host path of octo-runner (absolute) */
    const char *model_path;      /* host path of the GGUF model (absolute) */
    enum octo_taskrun_kind kind; /* how the request body is read */
    const uint8_t *request;      /* the JSON body, 1..OCTO_TASKRUN_REQUEST_MAX bytes */
    size_t request_len;
    uint32_t threads; /* inference threads, 0 = 1, at most OCTO_INFER_THREADS_MAX (256) */
    uint32_t n_ctx;   /* context positions, 0 = the engine's default for the model */
    bool deterministic;
    struct octo_sandbox_limits limits; /* 0 fields: the defaults above */
    octo_taskrun_piece_fn on_piece;    /* NULL: pieces are dropped (still counted) */
    void *ctx;
    const atomic_bool *cancel; /* optional: set (any thread) to stop; see Cancellation */
};

struct octo_taskrun_result {
    struct octo_sandbox_result sandbox; /* how the runner's sandbox ended */
    bool ok;                            /* the final line came and the runner exited 0 */
    char finish[16];                    /* ok: "stop", "length" or "cancelled" */
    uint32_t prompt_tokens, completion_tokens;
    uint64_t ttft_ns, generate_ns; /* the engine's figures, measured inside the sandbox */
    uint8_t model_sha256[32];      /* SHA-256 of the model file's bytes as the runner read them */
    uint64_t pieces, text_bytes;   /* pieces delivered and their total length */
    /* !ok: what went wrong. The runner's own codes ("invalid_request", "model_unavailable",
     * "context_length_exceeded", "unsupported", "generation_failed", "request_too_large",
     * "io", "usage", "out_of_memory") or the supervisor's: "model_unavailable" (the model
     * file cannot be read on the host), "sandbox" (it could not be set up), "timeout",
     * "oom", "output_limit", "seccomp", "killed" (another signal or limit), "runner" (it
     * exited without an error line), "protocol" (a malformed, oversize or unexpected line,
     * or no final line). */
    char error[64];
    char message[256];
};

/* Runs spec's request in a fresh sandbox and waits for it. Returns 0 when the task was
 * attempted, whatever its outcome (out->ok says whether it succeeded; a missing model file
 * gives ok=false without starting a sandbox), or OCTO_EINVAL for a bad spec (missing or
 * relative paths, no request, an unknown kind, too many threads, a limit above the sandbox's
 * maxima) and OCTO_ETOOBIG for a request above OCTO_TASKRUN_REQUEST_MAX; OCTO_ENOMEM. */
OCTO_MUST_USE int octo_taskrun_run(const struct octo_taskrun_spec *spec,
                                   struct octo_taskrun_result *out);

/* The sandbox limits a run of spec gets on a model of model_bytes: spec->limits with its 0
 * fields filled (memory: the model plus OCTO_TASKRUN_MEM_HEADROOM; pids: the threads plus
 * OCTO_TASKRUN_PIDS_SPARE; wall time and output: the defaults above). Also for a provider that
 * runs octo-runner another way (a sealed task, through the privacy worker). */
struct octo_sandbox_limits octo_taskrun_limits(const struct octo_taskrun_spec *s,
                                               uint64_t model_bytes);

#endif
