/*
 * backend_llama.c — the llama.cpp backend (see backend_llama.h). Compiled in every build: the
 * calls into llama.cpp are behind OCTO_HAVE_LLAMA, which the build defines when it found the
 * library; otherwise the functions report OCTO_EUNSUPPORTED.
 *
 * The prompt goes to llama_decode as batches of at most the context's n_batch tokens; each
 * generated token is decoded alone. Cancellation reaches inside llama_decode through the
 * context's abort callback.
 */
#include "exec/backend_llama.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#undef OCTO_MODULE
#define OCTO_MODULE "llama"
#include "base/log.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#ifdef OCTO_HAVE_LLAMA
#include <ggml-backend.h>
#include <llama.h>
#include <pthread.h>
#include <stdlib.h>
#endif

static void set_reason(struct octo_llamacpp *b, const char *what)
{
    snprintf(b->reason, sizeof(b->reason), "%s", what);
}

#ifndef OCTO_HAVE_LLAMA

bool octo_llamacpp_available(void)
{
    return false;
}

int octo_llamacpp_open(struct octo_llamacpp *b, const struct octo_llamacpp_config *cfg)
{
    (void)cfg;
    memset(b, 0, sizeof(*b));
    set_reason(b, "this octo was built without llama.cpp (run scripts/setup, then rebuild)");
    return OCTO_EUNSUPPORTED;
}

void octo_llamacpp_close(struct octo_llamacpp *b)
{
    (void)b;
}

int octo_llamacpp_tokenize(struct octo_llamacpp *b, const char *text, size_t len, bool add_special,
                           bool parse_special, uint32_t *ids, size_t cap, size_t *n)
{
    (void)b, (void)text, (void)len, (void)add_special, (void)parse_special, (void)ids, (void)cap;
    *n = 0;
    return OCTO_EUNSUPPORTED;
}

int octo_llamacpp_piece(struct octo_llamacpp *b, uint32_t id, struct octo_buf *out)
{
    (void)b, (void)id, (void)out;
    return OCTO_EUNSUPPORTED;
}

bool octo_llamacpp_is_eog(const struct octo_llamacpp *b, uint32_t id)
{
    (void)b, (void)id;
    return false;
}

const char *octo_llamacpp_chat_template(const struct octo_llamacpp *b)
{
    (void)b;
    return NULL;
}

int octo_llamacpp_logits(struct octo_llamacpp *b, const uint32_t *tokens, size_t n, float *out)
{
    (void)b, (void)tokens, (void)n, (void)out;
    return OCTO_EUNSUPPORTED;
}

int octo_llamacpp_generate(struct octo_llamacpp *b, const uint32_t *prompt, size_t n,
                           uint32_t max_tokens, const struct octo_sample_params *sp,
                           const uint32_t *stop, size_t n_stop, octo_infer_token_fn on_token,
                           void *ctx, struct octo_infer_stats *st)
{
    (void)b, (void)prompt, (void)n, (void)max_tokens, (void)sp, (void)stop, (void)n_stop;
    (void)on_token, (void)ctx;
    memset(st, 0, sizeof(*st));
    return OCTO_EUNSUPPORTED;
}

void octo_llamacpp_cancel(struct octo_llamacpp *b)
{
    (void)b;
}

#else /* OCTO_HAVE_LLAMA */

#define BATCH_MAX 512u /* prompt tokens per llama_decode */

/* llama.cpp's log lines (which end in '\n' and may come in pieces) at WARN and above. */
static void on_log(enum ggml_log_level level, const char *text, void *ud)
{
    (void)ud;
    if (level != GGML_LOG_LEVEL_WARN && level != GGML_LOG_LEVEL_ERROR)
        return;
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > 0)
        OCTO_LOG(level == GGML_LOG_LEVEL_ERROR ? OCTO_LOG_ERROR : OCTO_LOG_WARN, "%.*s", (int)len,
                 text);
}

static pthread_once_t backends_once = PTHREAD_ONCE_INIT;

static void load_backends(void)
{
    llama_log_set(on_log, NULL);
    const char *dir = getenv("OCTO_LLAMA_BACKEND_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = OCTO_LLAMA_BACKEND_DIR;
    if (dir[0] != '\0')
        ggml_backend_load_all_from_path(dir);
    else
        ggml_backend_load_all();
    llama_backend_init();
}

bool octo_llamacpp_available(void)
{
    return true;
}

static bool abort_cb(void *data)
{
    struct octo_llamacpp *b = data;
    return atomic_load(&b->cancel);
}

int octo_llamacpp_open(struct octo_llamacpp *b, const struct octo_llamacpp_config *cfg)
{
    OCTO_ASSERT(b != NULL && cfg != NULL);
    memset(b, 0, sizeof(*b));
    if (cfg->model_path == NULL || cfg->threads == 0 || cfg->threads > OCTO_INFER_THREADS_MAX) {
        set_reason(b, "a model path and 1..256 threads are required");
        return OCTO_EINVAL;
    }
    pthread_once(&backends_once, load_backends);
    if (ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU) == NULL) {
        set_reason(b, "llama.cpp has no CPU backend (libggml-cpu-*.so not found; set "
                      "OCTO_LLAMA_BACKEND_DIR)");
        return OCTO_EUNSUPPORTED;
    }
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    b->model = llama_model_load_from_file(cfg->model_path, mp);
    if (b->model == NULL) {
        snprintf(b->reason, sizeof(b->reason), "llama.cpp could not load %s", cfg->model_path);
        return OCTO_EIO;
    }
    b->vocab = llama_model_get_vocab(b->model);
    int32_t nv = llama_vocab_n_tokens(b->vocab);
    int32_t train_ctx = llama_model_n_ctx_train(b->model);
    /* What the caller asks (or the default), never more than the model was trained for nor
     * OCTO_LLAMACPP_CTX_MAX: llama.cpp allocates the whole KV cache up front. */
    uint32_t n_ctx = octo_infer_ctx_for(cfg->n_ctx, train_ctx > 0 ? (uint32_t)train_ctx : 0);
    if (n_ctx > OCTO_LLAMACPP_CTX_MAX)
        n_ctx = OCTO_LLAMACPP_CTX_MAX;
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_batch = BATCH_MAX;
    cp.n_ubatch = BATCH_MAX;
    cp.n_seq_max = 1;
    cp.n_threads = (int32_t)cfg->threads;
    cp.n_threads_batch = (int32_t)cfg->threads;
    cp.abort_callback = abort_cb;
    cp.abort_callback_data = b;
    cp.no_perf = true;
    if (cfg->kv_f32) {
        cp.type_k = GGML_TYPE_F32;
        cp.type_v = GGML_TYPE_F32;
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; /* its CPU path rounds Q to F16 */
    }
    b->ctx = llama_init_from_model(b->model, cp);
    if (b->ctx == NULL || nv <= 0) {
        set_reason(b, "llama.cpp could not create a context for the model");
        octo_llamacpp_close(b);
        return OCTO_EIO;
    }
    b->n_vocab = (uint32_t)nv;
    b->n_ctx = llama_n_ctx(b->ctx);
    return 0;
}

void octo_llamacpp_close(struct octo_llamacpp *b)
{
    if (b == NULL)
        return;
    if (b->ctx != NULL)
        llama_free(b->ctx);
    if (b->model != NULL)
        llama_model_free(b->model);
    b->ctx = NULL;
    b->model = NULL;
    b->vocab = NULL;
}

int octo_llamacpp_tokenize(struct octo_llamacpp *b, const char *text, size_t len, bool add_special,
                           bool parse_special, uint32_t *ids, size_t cap, size_t *n)
{
    OCTO_ASSERT(b->vocab != NULL && n != NULL);
    *n = 0;
    b->reason[0] = '\0';
    if (len > INT32_MAX / 2) {
        set_reason(b, "text too long to tokenize");
        return OCTO_ETOOBIG;
    }
    int32_t room = cap > INT32_MAX ? INT32_MAX : (int32_t)cap;
    /* llama_token is int32_t; our ids are the same bits, non-negative. */
    int32_t got = llama_tokenize(b->vocab, text, (int32_t)len, (llama_token *)ids, room,
                                 add_special, parse_special);
    if (got < 0) {
        *n = (size_t) - (int64_t)got;
        set_reason(b, "too many tokens for the buffer");
        return OCTO_ENOSPACE;
    }
    *n = (size_t)got;
    return 0;
}

int octo_llamacpp_piece(struct octo_llamacpp *b, uint32_t id, struct octo_buf *out)
{
    if (id >= b->n_vocab)
        return OCTO_EINVAL;
    char small[256];
    int32_t got = llama_token_to_piece(b->vocab, (llama_token)id, small, sizeof(small), 0, false);
    if (got >= 0)
        return octo_buf_append(out, small, (size_t)got);
    int rc = octo_buf_reserve(out, (size_t) - (int64_t)got);
    if (rc != 0)
        return rc;
    got = llama_token_to_piece(b->vocab, (llama_token)id, (char *)out->data + out->len,
                               (int32_t)(out->cap - out->len), 0, false);
    if (got < 0)
        return OCTO_EIO;
    out->len += (size_t)got;
    return 0;
}

bool octo_llamacpp_is_eog(const struct octo_llamacpp *b, uint32_t id)
{
    return id < b->n_vocab && llama_vocab_is_eog(b->vocab, (llama_token)id);
}

const char *octo_llamacpp_chat_template(const struct octo_llamacpp *b)
{
    return llama_model_chat_template(b->model, NULL);
}

static int check_tokens(struct octo_llamacpp *b, const uint32_t *tokens, size_t n)
{
    if (n == 0 || n > b->n_ctx) {
        snprintf(b->reason, sizeof(b->reason), "%zu tokens for a context of %u", n, b->n_ctx);
        return OCTO_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (tokens[i] >= b->n_vocab) {
            snprintf(b->reason, sizeof(b->reason), "token %u outside the vocabulary (%u)",
                     tokens[i], b->n_vocab);
            return OCTO_EINVAL;
        }
    }
    return 0;
}

/* Decodes tokens[0..n) at positions pos.. in batches; all_logits asks for every position's
 * logits, else only the last token's. */
static int decode(struct octo_llamacpp *b, const uint32_t *tokens, size_t n, uint32_t pos,
                  bool all_logits, float *out)
{
    struct llama_batch batch = llama_batch_init((int32_t)BATCH_MAX, 0, 1);
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0; at += BATCH_MAX) {
        size_t k = n - at < BATCH_MAX ? n - at : BATCH_MAX;
        batch.n_tokens = (int32_t)k;
        for (size_t i = 0; i < k; i++) {
            batch.token[i] = (llama_token)tokens[at + i];
            batch.pos[i] = (llama_pos)(pos + at + i);
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = all_logits || at + i + 1 == n;
        }
        int32_t r = llama_decode(b->ctx, batch);
        if (r == 2) { /* aborted: our cancel */
            atomic_store(&b->cancel, false);
            rc = OCTO_ECLOSED;
            break;
        }
        if (r != 0) {
            rc = OCTO_EIO;
            snprintf(b->reason, sizeof(b->reason), "llama_decode failed (%d)", (int)r);
            break;
        }
        for (size_t i = 0; all_logits && out != NULL && i < k; i++) {
            const float *l = llama_get_logits_ith(b->ctx, (int32_t)i);
            memcpy(out + (at + i) * b->n_vocab, l, b->n_vocab * sizeof(float));
        }
    }
    llama_batch_free(batch);
    return rc;
}

int octo_llamacpp_logits(struct octo_llamacpp *b, const uint32_t *tokens, size_t n, float *out)
{
    OCTO_ASSERT(b->ctx != NULL && out != NULL);
    int rc = check_tokens(b, tokens, n);
    if (rc != 0)
        return rc;
    llama_memory_clear(llama_get_memory(b->ctx), true);
    return decode(b, tokens, n, 0, true, out);
}

/* llama.cpp's samplers take a 32-bit seed, and LLAMA_DEFAULT_SEED (all ones) means "random":
 * fold the 64 bits and move that one value aside, so every seed is reproducible. */
static uint32_t seed32(uint64_t seed)
{
    uint32_t s = (uint32_t)(seed ^ (seed >> 32));
    return s == LLAMA_DEFAULT_SEED ? s - 1u : s;
}

static struct llama_sampler *make_sampler(const struct octo_llamacpp *b,
                                          const struct octo_sample_params *sp)
{
    struct llama_sampler *chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
    if (chain == NULL)
        return NULL;
    if (sp->repeat_penalty != 1.0f && sp->repeat_last_n > 0)
        llama_sampler_chain_add(
            chain, llama_sampler_init_penalties((int32_t)b->n_vocab, (int32_t)sp->repeat_last_n,
                                                sp->repeat_penalty, 0.0f, 0.0f));
    if (sp->temperature < OCTO_SAMPLE_GREEDY_TEMP) {
        llama_sampler_chain_add(chain, llama_sampler_init_greedy());
        return chain;
    }
    if (sp->top_k > 0)
        llama_sampler_chain_add(chain, llama_sampler_init_top_k((int32_t)sp->top_k));
    if (sp->top_p < 1.0f)
        llama_sampler_chain_add(chain, llama_sampler_init_top_p(sp->top_p, 1));
    llama_sampler_chain_add(chain, llama_sampler_init_temp(sp->temperature));
    llama_sampler_chain_add(chain, llama_sampler_init_dist(seed32(sp->seed)));
    return chain;
}

/* One generation's state for octo_infer_drive's steps. */
struct run {
    struct octo_llamacpp *b;
    struct llama_sampler *smpl;
    const uint32_t *stop;
    size_t n_stop;
};

static int run_sample(void *ctx, uint32_t *tok)
{
    struct run *r = ctx;
    llama_token t = llama_sampler_sample(r->smpl, r->b->ctx, -1); /* also accepts it */
    if (t < 0 || (uint32_t)t >= r->b->n_vocab) {
        set_reason(r->b, "llama.cpp's sampler returned no token");
        return OCTO_EIO;
    }
    *tok = (uint32_t)t;
    return 0;
}

static bool run_is_stop(void *ctx, uint32_t tok)
{
    const struct run *r = ctx;
    if (octo_llamacpp_is_eog(r->b, tok))
        return true;
    for (size_t i = 0; i < r->n_stop; i++) {
        if (r->stop[i] == tok)
            return true;
    }
    return false;
}

static int run_step(void *ctx, uint32_t tok, uint32_t pos)
{
    (void)pos; /* llama.cpp places a lone token after the last */
    struct run *r = ctx;
    llama_token t = (llama_token)tok;
    int32_t rc = llama_decode(r->b->ctx, llama_batch_get_one(&t, 1));
    if (rc == 2) { /* aborted: our cancel */
        atomic_store(&r->b->cancel, false);
        return OCTO_INFER_STEP_CANCELLED;
    }
    if (rc != 0) {
        snprintf(r->b->reason, sizeof(r->b->reason), "llama_decode failed (%d)", (int)rc);
        return OCTO_EIO;
    }
    return 0;
}

int octo_llamacpp_generate(struct octo_llamacpp *b, const uint32_t *prompt, size_t n,
                           uint32_t max_tokens, const struct octo_sample_params *sp,
                           const uint32_t *stop, size_t n_stop, octo_infer_token_fn on_token,
                           void *ctx, struct octo_infer_stats *st)
{
    OCTO_ASSERT(b->ctx != NULL && sp != NULL && st != NULL);
    memset(st, 0, sizeof(*st));
    b->reason[0] = '\0';
    if (!octo_sample_params_valid(sp)) {
        set_reason(b, "invalid sampling parameters");
        return OCTO_EINVAL;
    }
    int rc = check_tokens(b, prompt, n);
    if (rc != 0)
        return rc;
    struct llama_sampler *smpl = make_sampler(b, sp);
    if (smpl == NULL) {
        set_reason(b, "out of memory for the sampler");
        return OCTO_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        llama_sampler_accept(smpl, (llama_token)prompt[i]);
    llama_memory_clear(llama_get_memory(b->ctx), true);
    uint64_t t0 = octo_infer_now_ns();
    rc = decode(b, prompt, n, 0, false, NULL);
    if (rc == OCTO_ECLOSED) {
        st->cancelled = true;
        rc = 0;
    } else if (rc == 0) {
        struct run r = {.b = b, .smpl = smpl, .stop = stop, .n_stop = n_stop};
        const struct octo_infer_steps steps = {
            .sample = run_sample,
            .is_stop = run_is_stop,
            .step = run_step,
            .ctx = &r,
            .cancel = &b->cancel,
            .n_ctx = b->n_ctx,
        };
        rc = octo_infer_drive(&steps, n, max_tokens, t0, on_token, ctx, st);
    }
    llama_sampler_free(smpl);
    return rc;
}

void octo_llamacpp_cancel(struct octo_llamacpp *b)
{
    atomic_store(&b->cancel, true);
}

#endif /* OCTO_HAVE_LLAMA */
