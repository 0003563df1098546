/*
 * llama.h — the built-in engine's llama-family forward pass (llama, qwen2) over a parsed GGUF
 * file: RMSNorm, RoPE (llama: adjacent pairs; qwen2: NeoX halves), grouped-query causal
 * attention with a KV cache, SwiGLU, optional Q/K/V biases, tied or separate output.
 * Weights stay where the GGUF buffer has them (F32, F16, Q8_0, Q4_0 through infer/quant.h).
 *
 * Prompts can be fed in batches (octo_llama_forward_batch): one pass over each weight matrix
 * for all the batch's tokens, with results bit-identical to feeding them one by one.
 *
 * Pure: no threads, clocks or I/O. Matrix-vector products are split into row ranges through
 * an optional `parallel` hook (the exec layer runs the ranges on its threads; without a hook
 * they run here, one range). Rows are independent, so the split never changes a result.
 *
 * Determinism: in OCTO_QUANT_DETERMINISTIC mode every matrix-vector product is bit-identical
 * on every ISA path and every split (quant.h), and everything else here is scalar code in a
 * fixed order (compiled with -ffp-contract=off) using IEEE sqrt and the machine-independent
 * exp, log, sin and cos of infer/detmath.h, never the C library's (glibc picks FMA variants at
 * run time and is not correctly rounded). So the logits are bit-identical across thread
 * counts, kernel ISA paths, machines and C library versions, given the same binary semantics
 * of IEEE double and float arithmetic, which C17 on x86-64 and aarch64 provides.
 */
#ifndef OCTO_INFER_LLAMA_H
#define OCTO_INFER_LLAMA_H

#include "base/err.h"
#include "infer/gguf.h"
#include "infer/quant.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_LLAMA_LAYERS_MAX 256
#define OCTO_LLAMA_DIM_MAX 65536u
#define OCTO_LLAMA_VOCAB_MAX (1u << 20)
#define OCTO_LLAMA_CTX_MAX (1u << 20)
#define OCTO_LLAMA_REASON_MAX 200
/* Bytes of one state: keys + values + the per-token buffers of its batch (and attention
 * scores, logits). */
#define OCTO_LLAMA_KV_BYTES_MAX (UINT64_C(16) << 30)
/* Most tokens one octo_llama_forward_batch call takes (the batch a state is sized for). */
#define OCTO_LLAMA_BATCH_MAX 64u

struct octo_llama_config {
    char arch[16]; /* "llama" or "qwen2" */
    uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx, head_dim;
    float eps;
    float rope_base;
    bool neox; /* RoPE on (i, i + head_dim/2) pairs instead of (2i, 2i+1) */
    bool tied; /* no output.weight: the embedding is the classifier */
};

struct octo_llama_layer {
    const float *attn_norm, *ffn_norm;
    const float *bq, *bk, *bv; /* qwen2 biases, else NULL */
    struct octo_quant_matrix wq, wk, wv, wo, gate, up, down;
};

struct octo_llama_model {
    struct octo_llama_config cfg;
    struct octo_quant_matrix tok_embd, output;
    const float *output_norm;
    struct octo_llama_layer *layers; /* cfg.n_layer */
};

/* Runs fn(arg, r0, r1) over [0, rows) split into ranges, and returns when all are done. */
typedef void (*octo_llama_range_fn)(void *arg, size_t r0, size_t r1);
typedef void (*octo_llama_parallel_fn)(void *ctx, size_t rows, octo_llama_range_fn fn, void *arg);

struct octo_vec_ops;

struct octo_llama_state {
    const struct octo_llama_model *m;
    enum octo_quant_mode mode;
    const struct octo_vec_ops *vec;  /* attention and SwiGLU (vec.h) */
    octo_llama_parallel_fn parallel; /* NULL: one range, here */
    void *parallel_ctx;
    uint32_t n_ctx; /* positions the KV cache holds */
    uint32_t pos;   /* the next position */
    uint32_t batch; /* tokens per octo_llama_forward_batch call, 1..OCTO_LLAMA_BATCH_MAX */
    /* per-token buffers, [batch][n_embd] (x, xb, xb2, q) and [batch][n_ff] (hb, hb2) */
    float *x, *xb, *xb2, *q, *hb, *hb2, *att, *logits;
    double *att_acc, *att_sum;  /* attention: n_embd value sums, n_head softmax sums */
    double *rope_freq;          /* head_dim / 2 RoPE frequencies */
    float *k_cache, *v_cache;   /* [layer][n_ctx][kv_dim], octo_malloc_large */
    size_t cache_bytes;         /* of each */
    struct octo_q8_0_block *xq; /* the batch's activations as Q8_0 */
    _Atomic int err;            /* the first kernel error of a parallel product */
};

/* Reads the configuration and finds every tensor (names, shapes and types checked against the
 * configuration) in g, which must outlive the model. Errors (reason says which key or tensor):
 * OCTO_EUNSUPPORTED architecture, tensor type, RoPE scaling or partial rotary dimensions,
 * OCTO_ENOTFOUND missing key or tensor, OCTO_EMALFORMED inconsistent shapes or heads or a norm
 * or bias that is not an F32 vector, OCTO_ETOOBIG a dimension over its maximum, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_llama_load(struct octo_llama_model *m, const struct octo_gguf *g,
                                  char *reason, size_t reason_size);
void octo_llama_unload(struct octo_llama_model *m);

/* A decoding state with room for n_ctx positions (<= the model's context length; 0 = all of
 * it — size it to what a task needs: the cache takes 2 * layers * n_ctx * kv_dim floats) and
 * batches of up to `batch` tokens (1..OCTO_LLAMA_BATCH_MAX; the per-token buffers take
 * batch * (4 * n_embd + 2 * n_ff) floats plus the Q8_0 activations). No call allocates after
 * this. Errors: OCTO_EINVAL (n_ctx over the model's, batch out of range), OCTO_ETOOBIG (cache
 * and buffers over OCTO_LLAMA_KV_BYTES_MAX), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_llama_state_init_batch(struct octo_llama_state *s,
                                              const struct octo_llama_model *m, uint32_t n_ctx,
                                              uint32_t batch, enum octo_quant_mode mode);

/* octo_llama_state_init_batch with batch 1 (decoding only). */
OCTO_MUST_USE int octo_llama_state_init(struct octo_llama_state *s,
                                        const struct octo_llama_model *m, uint32_t n_ctx,
                                        enum octo_quant_mode mode);
void octo_llama_state_deinit(struct octo_llama_state *s);

/* Starts over at position 0 (the KV cache is reused). */
void octo_llama_reset(struct octo_llama_state *s);

/* Feeds `token` at the next position and computes the logits (s->logits, n_vocab floats,
 * valid until the next call). Errors: OCTO_EINVAL token >= n_vocab, OCTO_ENOSPACE the context
 * is full, OCTO_ERANGE a non-finite activation (a broken model). */
OCTO_MUST_USE int octo_llama_forward(struct octo_llama_state *s, uint32_t token);

/* Feeds tokens[0..n) at the next n positions (prompt processing) and computes the logits of the
 * last one (s->logits). Each weight matrix is run once over the n tokens (octo_quant_matmul),
 * the output matrix for the last token only. The logits and the KV cache are bit-identical to
 * n calls of octo_llama_forward, in both modes. Errors: OCTO_EINVAL n == 0 or a token >=
 * n_vocab, OCTO_ETOOBIG n > s->batch, OCTO_ENOSPACE fewer than n positions left, OCTO_ERANGE
 * a non-finite activation (a broken model: any token's final state, or the last token's
 * logits; an earlier token whose state is finite but whose logits alone would overflow is not
 * detected, as they are never computed); after an error s->pos is unchanged. */
OCTO_MUST_USE int octo_llama_forward_batch(struct octo_llama_state *s, const uint32_t *tokens,
                                           uint32_t n);

#endif
