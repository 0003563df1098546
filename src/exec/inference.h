/*
 * inference.h — the Local Inference Engine's built-in backend as the node runs it: a GGUF
 * model file read into read-only memory of its own (huge pages where the kernel offers them;
 * inference.c), the llama-family forward pass (infer/llama.h) driven by
 * a pool of worker threads that split every matrix-vector product by rows, a seeded sampler
 * (infer/sample.h), streaming token callbacks, cancellation, and usage and timing figures.
 *
 * Threads: the pool has threads-1 workers plus the calling thread. Between products the
 * workers spin briefly on an atomic generation counter (a token's products come every few
 * microseconds) and then sleep on a condition variable, so an idle session costs no CPU.
 * Results do not depend on the thread count in deterministic mode (llama.h, quant.h).
 *
 * One session is used by one thread at a time (octo_infer_cancel excepted: any thread).
 */
#ifndef OCTO_EXEC_INFERENCE_H
#define OCTO_EXEC_INFERENCE_H

#include "base/err.h"
#include "infer/gguf.h"
#include "infer/llama.h"
#include "infer/sample.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_INFER_THREADS_MAX 256
#define OCTO_INFER_REASON_MAX 256
/* Positions a backend asks for when neither the caller nor the model says less
 * (octo_infer_ctx_for). */
#define OCTO_INFER_CTX_DEFAULT 4096u

/* The positions a backend gives a request: asked (0 = OCTO_INFER_CTX_DEFAULT), never more than
 * the model's model_ctx (0 = the model does not say). */
static inline uint32_t octo_infer_ctx_for(uint32_t asked, uint32_t model_ctx)
{
    uint32_t n = asked != 0 ? asked : OCTO_INFER_CTX_DEFAULT;
    return model_ctx != 0 && model_ctx < n ? model_ctx : n;
}

struct octo_infer_model {
    const uint8_t *map;
    size_t len;
    struct octo_gguf gguf;
    struct octo_llama_model llama;
    char reason[OCTO_INFER_REASON_MAX]; /* why open failed */
};

/* Reads and validates path (GGUF reader, then the llama loader); the file is not used again,
 * so it may change or go away while the model is open. Errors (reason says why):
 * OCTO_EIO / OCTO_ENOTFOUND / OCTO_EPERM from the file, OCTO_ENOMEM no memory for it, the
 * reader's and the loader's codes. */
OCTO_MUST_USE int octo_infer_open(struct octo_infer_model *m, const char *path);
void octo_infer_close(struct octo_infer_model *m);

struct octo_infer_pool;

struct octo_infer_stats {
    uint32_t prompt_tokens, completion_tokens;
    uint64_t prompt_ns;   /* feeding the prompt */
    uint64_t ttft_ns;     /* from the call to the first generated token */
    uint64_t generate_ns; /* from the first to the last generated token */
    double prompt_tps;    /* prompt tokens per second */
    double generate_tps;  /* generated tokens per second after the first */
    bool cancelled;
    bool context_full;
    bool stopped_eos;
};

/* Monotonic nanoseconds (CLOCK_MONOTONIC): the clock of every backend's timing figures. */
uint64_t octo_infer_now_ns(void);

/* Completes st's timing once its counts and prompt_ns are set: t0 is when the call began, first
 * and last when the first and the last generated token arrived (first 0: none did). Sets ttft_ns,
 * generate_ns (0 unless more than one token was generated), prompt_tps and generate_tps. */
void octo_infer_stats_finish(struct octo_infer_stats *st, uint64_t t0, uint64_t first,
                             uint64_t last);

struct octo_infer_session {
    const struct octo_infer_model *m;
    struct octo_llama_state state;
    struct octo_sampler sampler;
    struct octo_infer_pool *pool; /* NULL with one thread */
    uint32_t eos;                 /* end-of-sequence token, or UINT32_MAX */
    /* More tokens that end a generation (end-of-turn and the like), or NULL. */
    bool (*is_stop)(void *stop_ctx, uint32_t token);
    void *stop_ctx;
    atomic_bool cancel;
};

/* Called with each generated token; a non-zero return stops the generation. */
typedef int (*octo_infer_token_fn)(void *ctx, uint32_t token);

/* A local backend's side of the shared generation loop (octo_infer_drive). */
#define OCTO_INFER_STEP_CANCELLED 1 /* step: a cancel stopped the forward pass */
struct octo_infer_steps {
    /* The next token into *tok, already accepted by the sampler; an OCTO_E* code on failure. */
    int (*sample)(void *ctx, uint32_t *tok);
    /* Whether tok ends the generation (end of sequence or turn, a caller's stop token). */
    bool (*is_stop)(void *ctx, uint32_t tok);
    /* Runs tok at position pos: 0, OCTO_INFER_STEP_CANCELLED, or an OCTO_E* code. */
    int (*step)(void *ctx, uint32_t tok, uint32_t pos);
    void *ctx;
    atomic_bool *cancel; /* consumed when it stops the loop */
    uint32_t n_ctx;      /* positions in the context */
};

/* The generation loop of the local backends, entered once the n prompt tokens are fed (the call
 * began at t0): samples up to max_tokens, calling on_token (may be NULL) for each, and stops at a
 * stop token (stopped_eos, not passed on), a non-zero callback return, a cancel, max_tokens or a
 * full context. Fills *st (counts, prompt_ns, then octo_infer_stats_finish). Returns 0, or the
 * first error of sample or step. */
OCTO_MUST_USE int octo_infer_drive(const struct octo_infer_steps *d, size_t n, uint32_t max_tokens,
                                   uint64_t t0, octo_infer_token_fn on_token, void *ctx,
                                   struct octo_infer_stats *st);

/* A session on m with `threads` threads (1..OCTO_INFER_THREADS_MAX), room for n_ctx positions
 * (0 = the model's), the quant mode and sampling parameters. Errors: OCTO_EINVAL,
 * OCTO_ENOMEM, OCTO_EIO (a thread could not start). */
OCTO_MUST_USE int octo_infer_session_init(struct octo_infer_session *s,
                                          const struct octo_infer_model *m, uint32_t threads,
                                          uint32_t n_ctx, enum octo_quant_mode mode,
                                          const struct octo_sample_params *sp);
void octo_infer_session_deinit(struct octo_infer_session *s);

/* Feeds prompt[0..n) (from position 0), then generates up to max_tokens, calling on_token for
 * each; stops at the end-of-sequence token or one s->is_stop accepts, a full context, a
 * non-zero callback return or a cancel (also checked between prompt batches). The sampler starts
 * from its seed on every call, so the same call on a reused session gives the same tokens. Returns
 * 0 with *st filled, or OCTO_EINVAL (empty prompt, a token outside the vocabulary), the forward
 * pass's errors. */
OCTO_MUST_USE int octo_infer_generate(struct octo_infer_session *s, const uint32_t *prompt,
                                      size_t n, uint32_t max_tokens, octo_infer_token_fn on_token,
                                      void *ctx, struct octo_infer_stats *st);

/* Asks a running (or the next) generation to stop after the current token (any thread); the
 * generation that stops consumes the request. */
void octo_infer_cancel(struct octo_infer_session *s);

#endif
