/*
 * backend_llama.h — the llama.cpp backend: a GGUF model run by llama.cpp through its C API
 * (llama.h), for providers who want its speed and its wider set of architectures and formats.
 *
 * Built only when CMake finds llama.cpp (cmake/llama.cmake; scripts/setup provides it from the
 * npm packages node-llama-cpp and @node-llama-cpp/linux-x64: the source tree for the headers
 * and the prebuilt CPU libraries). Without it this header still compiles and
 * octo_llamacpp_available() is false; every other function then returns OCTO_EUNSUPPORTED.
 *
 * At first use the process loads ggml's CPU backend variants from the directory they were
 * found in at build time (or $OCTO_LLAMA_BACKEND_DIR): ggml picks the best one for this CPU
 * (AVX2, AVX-512, AMX ...). llama.cpp's own log goes to octo's log at WARN and above.
 *
 * One backend is used by one thread at a time; octo_llamacpp_cancel may be called from any
 * thread (llama_decode's abort callback and the token loop both honour it). The text side
 * (tokenize, pieces, end-of-generation tokens, the model's chat template) is llama.cpp's own,
 * so results can be compared with the built-in engine's independent implementation.
 */
#ifndef OCTO_EXEC_BACKEND_LLAMA_H
#define OCTO_EXEC_BACKEND_LLAMA_H

#include "base/err.h"
#include "exec/inference.h"
#include "infer/sample.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_LLAMACPP_REASON_MAX 256u
#define OCTO_LLAMACPP_CTX_MAX 131072u /* positions ever asked of llama.cpp */

struct llama_model;
struct llama_context;
struct llama_vocab;

struct octo_llamacpp_config {
    const char *model_path;
    uint32_t threads; /* 1..OCTO_INFER_THREADS_MAX */
    uint32_t n_ctx;   /* 0 = OCTO_INFER_CTX_DEFAULT; clipped to the model's training
                         context (octo_infer_ctx_for) and OCTO_LLAMACPP_CTX_MAX */
    bool kv_f32;      /* F32 KV cache (llama.cpp's default is F16); for logit comparisons */
};

struct octo_llamacpp {
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    uint32_t n_vocab, n_ctx;
    atomic_bool cancel;
    char reason[OCTO_LLAMACPP_REASON_MAX]; /* why the last call failed */
};

/* Whether this build has the llama.cpp backend. */
bool octo_llamacpp_available(void);

/* Loads the model (CPU only, memory-mapped) and creates a context. Errors (b->reason says why):
 * OCTO_EUNSUPPORTED built without llama.cpp or no CPU backend could be loaded; OCTO_EINVAL bad
 * config; OCTO_EIO llama.cpp could not load the file or make the context. */
OCTO_MUST_USE int octo_llamacpp_open(struct octo_llamacpp *b,
                                     const struct octo_llamacpp_config *cfg);
/* Frees everything; tolerates a zeroed or failed-open struct. */
void octo_llamacpp_close(struct octo_llamacpp *b);

/* Tokenizes text[0..len) with llama.cpp's tokenizer into ids[0..cap), *n = the count.
 * add_special: BOS/EOS as the model asks; parse_special: control-token texts become tokens.
 * Errors: OCTO_ENOSPACE cap too small (*n = the count needed); OCTO_ETOOBIG len over INT32_MAX. */
OCTO_MUST_USE int octo_llamacpp_tokenize(struct octo_llamacpp *b, const char *text, size_t len,
                                         bool add_special, bool parse_special, uint32_t *ids,
                                         size_t cap, size_t *n);

/* Appends the bytes token id stands for to out (control tokens render as nothing).
 * Errors: OCTO_EINVAL id out of range; out's errors. */
OCTO_MUST_USE int octo_llamacpp_piece(struct octo_llamacpp *b, uint32_t id, struct octo_buf *out);

/* Whether id ends a generation (EOS, EOT and the like, per llama.cpp). */
bool octo_llamacpp_is_eog(const struct octo_llamacpp *b, uint32_t id);

/* The model's default Jinja chat template, or NULL. */
const char *octo_llamacpp_chat_template(const struct octo_llamacpp *b);

/* Runs tokens[0..n) from position 0 (in batches) and writes the logits after every token to
 * out[i * n_vocab .. (i + 1) * n_vocab). Errors: OCTO_EINVAL n == 0, n > n_ctx, an id out of
 * range; OCTO_EIO llama_decode failed; OCTO_ECLOSED cancelled. */
OCTO_MUST_USE int octo_llamacpp_logits(struct octo_llamacpp *b, const uint32_t *tokens, size_t n,
                                       float *out);

/* As octo_infer_generate (exec/inference.h) on llama.cpp, through the same loop
 * (octo_infer_drive): feeds the prompt in batches, then samples up to max_tokens with
 * llama.cpp's samplers configured from sp (penalty over the last sp->repeat_last_n tokens, then
 * greedy at temperature 0, else top-k, top-p, temperature and a draw seeded with sp->seed
 * folded to 32 bits), stopping at an end-of-generation token, any of
 * stop[0..n_stop), a full context, a non-zero callback return or a cancel. Errors: OCTO_EINVAL
 * (bad tokens, invalid sampling parameters), OCTO_EIO (llama.cpp failed), OCTO_ENOMEM; b->reason
 * says why. The struct must not move while open (llama.cpp keeps a pointer to it for the
 * abort callback). */
OCTO_MUST_USE int octo_llamacpp_generate(struct octo_llamacpp *b, const uint32_t *prompt, size_t n,
                                         uint32_t max_tokens, const struct octo_sample_params *sp,
                                         const uint32_t *stop, size_t n_stop,
                                         octo_infer_token_fn on_token, void *ctx,
                                         struct octo_infer_stats *st);

/* Asks a running (or the next) call to stop (any thread). */
void octo_llamacpp_cancel(struct octo_llamacpp *b);

#endif
