/*
 * gentest.h — deterministic random models in GGUF, for tests, benchmarks and the devnet's
 * embedded default (no trained model can be downloaded here; EXECUTION.md §10).
 *
 * A model has the exact tensor names, shapes and metadata of its family (llama: token_embd,
 * blk.N.{attn_norm,attn_q,attn_k,attn_v,attn_output,ffn_norm,ffn_gate,ffn_up,ffn_down},
 * output_norm, output; qwen2 adds attn_{q,k,v}.bias and ties the output to token_embd), random
 * weights from a seeded generator (same seed, same bytes, on every machine) scaled so that
 * activations stay O(1) through the layers, and a tokenizer whose pieces reveal their ids
 * (llama-spm vocabulary: <unk>, <s>, </s>, the 256 byte tokens <0xNN>, then "▁t<id>"), so
 * generated text shows the token ids a reference must reproduce.
 *
 * Shapes (the real models' dimensions; file sizes match at F32):
 *   tiny   llama  dim 64,   hidden 192,  2 layers,  4 heads / 2 kv, vocab 512,    ctx 256
 *   tinyqwen  qwen2, otherwise as tiny (Q/K/V biases, tied output, NeoX RoPE)
 *   15m    llama  dim 288,  hidden 768,  6 layers,  6 heads / 6 kv, vocab 32000,  ctx 256
 *   110m   llama  dim 768,  hidden 2048, 12 layers, 12 heads / 12,  vocab 32000,  ctx 1024
 *   tinyllama  llama  dim 2048, hidden 5632, 22 layers, 32 / 4, vocab 32000, ctx 2048
 *   qwen05b    qwen2  dim 896,  hidden 4864, 24 layers, 14 / 2, vocab 151936, ctx 32768
 *
 * Pure: tensors are produced one at a time into the GGUF writer's data callback, so a 4 GB
 * model never needs to be in memory.
 */
#ifndef OCTO_INFER_GENTEST_H
#define OCTO_INFER_GENTEST_H

#include "base/err.h"
#include "infer/gguf.h"

#include <stddef.h>
#include <stdint.h>

struct octo_gentest_shape {
    const char *name;
    const char *arch; /* "llama" or "qwen2" */
    uint32_t dim, hidden, layers, heads, kv_heads, vocab, ctx;
};

/* The shape called name, or NULL. */
const struct octo_gentest_shape *octo_gentest_shape_find(const char *name);

/* The shapes, in the order above; *count receives their number. */
const struct octo_gentest_shape *octo_gentest_shapes(size_t *count);

struct octo_gentest_params {
    const struct octo_gentest_shape *shape;
    uint32_t weight_type; /* enum octo_ggml_type for the 2-D weights: F32, F16, Q8_0 or Q4_0
                             (quantized from the same values); norms and biases stay F32 */
    uint64_t seed;
    const char *chat_template; /* NULL: none; else written as tokenizer.chat_template */
};

/* Streams the model as a GGUF file to write(wctx, ...). Errors: OCTO_EINVAL (no shape),
 * OCTO_EUNSUPPORTED (a weight type not offered), the writer's and the sink's errors; the
 * reason (reason_size bytes, may be NULL) says which. */
OCTO_MUST_USE int octo_gentest_write(const struct octo_gentest_params *p, octo_gguf_write_fn write,
                                     void *wctx, char *reason, size_t reason_size);

#endif
