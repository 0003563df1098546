/*
 * llama.c — the llama-family forward pass (llama.h).
 *
 * One token per call (decoding), or a batch of prompt tokens per call: the batch runs each
 * weight matrix once over all its tokens (octo_quant_matmul, bit-identical to the matvec per
 * token), then the causal attention token by token in position order, and the output matrix
 * for the last token only. Every token's arithmetic is that of a single step, so the logits and
 * the KV cache are those of feeding the tokens one by one. The per-token buffers are
 * [batch][width] arrays sized at state init; a single step uses row 0. Reductions outside the
 * matrix-vector kernels (RMSNorm, attention scores and sums, softmax) accumulate in double in a
 * fixed order, and RoPE angles are computed in double (the frequencies once per state):
 * accurate against the float64 NumPy reference and identical on every machine.
 *
 * Parallel work goes through the state's hook in as few dispatches as the data allows, since
 * each one is a barrier for the threads: q, k and v as one job over their rows end to end,
 * gate, up and SwiGLU as one job (each range applies SwiGLU to the rows it computed), the
 * attention heads as one job.
 */
#include "infer/llama.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "infer/detmath.h"
#include "infer/vec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int get_u32(const struct octo_gguf *g, const char *arch, const char *suffix, uint32_t *out,
                   bool required, char *reason, size_t rsize)
{
    char key[96];
    snprintf(key, sizeof(key), "%s.%s", arch, suffix);
    int rc = octo_gguf_get_u32(g, key, out);
    if (rc == OCTO_ENOTFOUND && !required)
        return 0;
    if (rc != 0)
        return octo_err_reason(reason, rsize, rc, "%s: missing or not an unsigned integer", key);
    return 0;
}

static int get_f32(const struct octo_gguf *g, const char *arch, const char *suffix, float *out)
{
    char key[96];
    snprintf(key, sizeof(key), "%s.%s", arch, suffix);
    int rc = octo_gguf_get_f32(g, key, out);
    return rc == OCTO_ENOTFOUND ? 0 : rc;
}

/* RoPE variants this engine does not implement (scaling, per-frequency factors, partial
 * rotary dimensions) would load fine and give wrong logits: refuse them. */
static int refuse_rope_variants(const struct octo_gguf *g, const struct octo_llama_config *c,
                                char *reason, size_t rsize)
{
    char key[96];
    const char *v = NULL;
    size_t len = 0;
    snprintf(key, sizeof(key), "%s.rope.scaling.type", c->arch);
    bool scaled =
        octo_gguf_get_str(g, key, &v, &len) == 0 && !(len == 4 && memcmp(v, "none", 4) == 0);
    if (scaled || octo_gguf_find_tensor(g, "rope_freqs.weight") != NULL)
        return octo_err_reason(reason, rsize, OCTO_EUNSUPPORTED,
                               "%s: RoPE scaling is not supported", c->arch);
    uint32_t dims = 0;
    snprintf(key, sizeof(key), "%s.rope.dimension_count", c->arch);
    if (octo_gguf_get_u32(g, key, &dims) == 0 && dims != c->n_embd / c->n_head)
        return octo_err_reason(reason, rsize, OCTO_EUNSUPPORTED,
                               "%s: partial rotary dimensions are not supported", c->arch);
    return 0;
}

static int load_config(struct octo_llama_config *c, const struct octo_gguf *g, char *reason,
                       size_t rsize)
{
    const char *arch = NULL;
    size_t len = 0;
    if (octo_gguf_get_str(g, "general.architecture", &arch, &len) != 0)
        return octo_err_reason(reason, rsize, OCTO_ENOTFOUND, "general.architecture: missing");
    if (!((len == 5 && memcmp(arch, "llama", 5) == 0) ||
          (len == 5 && memcmp(arch, "qwen2", 5) == 0)))
        return octo_err_reason(reason, rsize, OCTO_EUNSUPPORTED,
                               "architecture '%.*s' is not supported (llama, qwen2)",
                               (int)(len < 32 ? len : 32), arch);
    memcpy(c->arch, arch, len);
    c->arch[len] = '\0';
    c->neox = strcmp(c->arch, "qwen2") == 0;
    c->eps = 1e-5f;
    c->rope_base = 10000.0f;
    int rc = get_u32(g, c->arch, "embedding_length", &c->n_embd, true, reason, rsize);
    if (rc == 0)
        rc = get_u32(g, c->arch, "block_count", &c->n_layer, true, reason, rsize);
    if (rc == 0)
        rc = get_u32(g, c->arch, "attention.head_count", &c->n_head, true, reason, rsize);
    c->n_head_kv = c->n_head;
    if (rc == 0)
        rc = get_u32(g, c->arch, "attention.head_count_kv", &c->n_head_kv, false, reason, rsize);
    if (rc == 0)
        rc = get_u32(g, c->arch, "feed_forward_length", &c->n_ff, true, reason, rsize);
    if (rc == 0)
        rc = get_u32(g, c->arch, "context_length", &c->n_ctx, true, reason, rsize);
    if (rc != 0)
        return rc;
    if (get_f32(g, c->arch, "attention.layer_norm_rms_epsilon", &c->eps) != 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "%s.attention.layer_norm_rms_epsilon: not an f32", c->arch);
    if (get_f32(g, c->arch, "rope.freq_base", &c->rope_base) != 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED, "%s.rope.freq_base: not an f32",
                               c->arch);
    if (c->n_embd == 0 || c->n_embd > OCTO_LLAMA_DIM_MAX || c->n_ff == 0 ||
        c->n_ff > 4 * OCTO_LLAMA_DIM_MAX || c->n_layer == 0 || c->n_layer > OCTO_LLAMA_LAYERS_MAX ||
        c->n_ctx == 0 || c->n_ctx > OCTO_LLAMA_CTX_MAX)
        return octo_err_reason(reason, rsize, OCTO_ETOOBIG,
                               "%s: a dimension is zero or over its maximum", c->arch);
    if (c->n_head == 0 || c->n_head_kv == 0 || c->n_embd % c->n_head != 0 ||
        c->n_head % c->n_head_kv != 0 || (c->n_embd / c->n_head) % 2 != 0 || !(c->eps > 0.0f) ||
        !(c->rope_base > 0.0f))
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "%s: inconsistent heads, epsilon or rope base", c->arch);
    c->head_dim = c->n_embd / c->n_head;
    return refuse_rope_variants(g, c, reason, rsize);
}

static int find(const struct octo_gguf *g, const char *name, const struct octo_gguf_tensor **t,
                char *reason, size_t rsize)
{
    *t = octo_gguf_find_tensor(g, name);
    if (*t == NULL)
        return octo_err_reason(reason, rsize, OCTO_ENOTFOUND, "tensor '%s' is missing", name);
    return 0;
}

static int load_matrix(const struct octo_gguf *g, const char *name, uint64_t rows, uint64_t cols,
                       struct octo_quant_matrix *out, char *reason, size_t rsize)
{
    const struct octo_gguf_tensor *t = NULL;
    int rc = find(g, name, &t, reason, rsize);
    if (rc != 0)
        return rc;
    if (t->n_dims != 2 || t->ne[0] != cols || (rows != 0 && t->ne[1] != rows))
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "tensor '%s': shape does not match the configuration", name);
    rc = octo_quant_matrix_init(out, (enum octo_quant_type)t->type, t->data, t->size,
                                (size_t)t->ne[1], (size_t)t->ne[0]);
    if (rc != 0)
        return octo_err_reason(reason, rsize, rc,
                               "tensor '%s': type or layout not supported by the engine", name);
    return 0;
}

static int load_vector(const struct octo_gguf *g, const char *name, uint64_t n, bool optional,
                       const float **out, char *reason, size_t rsize)
{
    *out = NULL;
    const struct octo_gguf_tensor *t = octo_gguf_find_tensor(g, name);
    if (t == NULL && optional)
        return 0;
    int rc = find(g, name, &t, reason, rsize);
    if (rc != 0)
        return rc;
    if (t->type != OCTO_GGML_F32 || t->n_dims != 1 || t->ne[0] != n ||
        ((uintptr_t)t->data & 3u) != 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "tensor '%s': expected an aligned F32 vector of the model's width",
                               name);
    *out = (const float *)(const void *)t->data;
    return 0;
}

/* Writes the tensor name "blk.<layer>.<suffix>" into buf (n bytes) and returns buf. */
static const char *blk_name(char *buf, size_t n, uint32_t layer, const char *suffix)
{
    snprintf(buf, n, "blk.%u.%s", layer, suffix);
    return buf;
}

static int load_layer(const struct octo_gguf *g, const struct octo_llama_config *c, uint32_t l,
                      struct octo_llama_layer *L, char *reason, size_t rsize)
{
    char n[OCTO_GGUF_NAME_MAX + 1];
    uint32_t d = c->n_embd, kv = c->head_dim * c->n_head_kv, ff = c->n_ff;
    bool bias = c->neox; /* qwen2 has Q/K/V biases, llama none */
    const struct {
        const char *suffix;
        const float **field;
        uint32_t len;
        bool optional;
    } vecs[] = {
        {"attn_norm.weight", &L->attn_norm, d, false},
        {"ffn_norm.weight", &L->ffn_norm, d, false},
        {"attn_q.bias", &L->bq, d, !bias},
        {"attn_k.bias", &L->bk, kv, !bias},
        {"attn_v.bias", &L->bv, kv, !bias},
    };
    const struct {
        const char *suffix;
        struct octo_quant_matrix *field;
        uint32_t rows, cols;
    } mats[] = {
        {"attn_q.weight", &L->wq, d, d},      {"attn_k.weight", &L->wk, kv, d},
        {"attn_v.weight", &L->wv, kv, d},     {"attn_output.weight", &L->wo, d, d},
        {"ffn_gate.weight", &L->gate, ff, d}, {"ffn_up.weight", &L->up, ff, d},
        {"ffn_down.weight", &L->down, d, ff},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(vecs) / sizeof(vecs[0]); i++)
        rc = load_vector(g, blk_name(n, sizeof(n), l, vecs[i].suffix), vecs[i].len,
                         vecs[i].optional, vecs[i].field, reason, rsize);
    for (size_t i = 0; rc == 0 && i < sizeof(mats) / sizeof(mats[0]); i++)
        rc = load_matrix(g, blk_name(n, sizeof(n), l, mats[i].suffix), mats[i].rows, mats[i].cols,
                         mats[i].field, reason, rsize);
    return rc;
}

int octo_llama_load(struct octo_llama_model *m, const struct octo_gguf *g, char *reason,
                    size_t reason_size)
{
    OCTO_ASSERT(m != NULL && g != NULL);
    memset(m, 0, sizeof(*m));
    if (reason != NULL && reason_size > 0)
        reason[0] = '\0';
    int rc = load_config(&m->cfg, g, reason, reason_size);
    if (rc == 0)
        rc = load_matrix(g, "token_embd.weight", 0, m->cfg.n_embd, &m->tok_embd, reason,
                         reason_size);
    if (rc != 0)
        return rc;
    if (m->tok_embd.rows > OCTO_LLAMA_VOCAB_MAX)
        return octo_err_reason(reason, reason_size, OCTO_ETOOBIG,
                               "token_embd.weight: vocabulary over its maximum");
    m->cfg.n_vocab = (uint32_t)m->tok_embd.rows;
    m->cfg.tied = octo_gguf_find_tensor(g, "output.weight") == NULL;
    if (m->cfg.tied)
        m->output = m->tok_embd;
    else
        rc = load_matrix(g, "output.weight", m->cfg.n_vocab, m->cfg.n_embd, &m->output, reason,
                         reason_size);
    if (rc == 0)
        rc = load_vector(g, "output_norm.weight", m->cfg.n_embd, false, &m->output_norm, reason,
                         reason_size);
    if (rc == 0) {
        m->layers = octo_calloc(m->cfg.n_layer, sizeof(*m->layers));
        if (m->layers == NULL)
            rc = OCTO_ENOMEM;
    }
    for (uint32_t l = 0; rc == 0 && l < m->cfg.n_layer; l++)
        rc = load_layer(g, &m->cfg, l, &m->layers[l], reason, reason_size);
    if (rc != 0)
        octo_llama_unload(m);
    return rc;
}

void octo_llama_unload(struct octo_llama_model *m)
{
    if (m == NULL)
        return;
    octo_free(m->layers);
    memset(m, 0, sizeof(*m));
}

/* Bytes of the KV cache plus the per-state buffers for n_ctx positions and `batch` tokens
 * (64-bit: every factor is bounded by the model's checked maxima and OCTO_LLAMA_BATCH_MAX). */
static uint64_t state_bytes(const struct octo_llama_config *c, uint32_t n_ctx, uint32_t batch)
{
    uint64_t kv = (uint64_t)c->head_dim * c->n_head_kv;
    uint64_t wide = c->n_ff > c->n_embd ? c->n_ff : c->n_embd;
    uint64_t cache = 2 * (uint64_t)c->n_layer * n_ctx * kv * sizeof(float);
    uint64_t rows = (4 * (uint64_t)c->n_embd + 2 * (uint64_t)c->n_ff) * sizeof(float) +
                    wide / OCTO_QUANT_BLOCK * sizeof(struct octo_q8_0_block);
    return cache + batch * rows + ((uint64_t)n_ctx * c->n_head + c->n_vocab) * sizeof(float) +
           ((uint64_t)c->n_embd + c->n_head + c->head_dim / 2 + 1) * sizeof(double);
}

/* The RoPE frequency of pair i: rope_base^(-2i / head_dim). */
static double rope_freq_of(const struct octo_llama_config *c, uint32_t i)
{
    return octo_detmath_exp(-2.0 * (double)i / (double)c->head_dim *
                            octo_detmath_log((double)c->rope_base));
}

int octo_llama_state_init_batch(struct octo_llama_state *s, const struct octo_llama_model *m,
                                uint32_t n_ctx, uint32_t batch, enum octo_quant_mode mode)
{
    OCTO_ASSERT(s != NULL && m != NULL);
    memset(s, 0, sizeof(*s));
    const struct octo_llama_config *c = &m->cfg;
    if (n_ctx == 0)
        n_ctx = c->n_ctx;
    if (n_ctx > c->n_ctx || m->layers == NULL || batch == 0 || batch > OCTO_LLAMA_BATCH_MAX)
        return OCTO_EINVAL;
    if (state_bytes(c, n_ctx, batch) > OCTO_LLAMA_KV_BYTES_MAX)
        return OCTO_ETOOBIG;
    s->m = m;
    s->mode = mode;
    s->vec = octo_vec_ops_for(octo_quant_isa_best());
    s->n_ctx = n_ctx;
    s->batch = batch;
    size_t kv = (size_t)c->head_dim * c->n_head_kv;
    size_t wide = c->n_ff > c->n_embd ? c->n_ff : c->n_embd;
    size_t cache = (size_t)c->n_layer * n_ctx * kv;
    s->cache_bytes = cache * sizeof(float);
    float **vecs[] = {&s->x, &s->xb, &s->xb2, &s->q};
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
        *vecs[i] = octo_calloc((size_t)batch * c->n_embd, sizeof(float));
    s->hb = octo_calloc((size_t)batch * c->n_ff, sizeof(float));
    s->hb2 = octo_calloc((size_t)batch * c->n_ff, sizeof(float));
    s->att = octo_calloc((size_t)n_ctx * c->n_head, sizeof(float)); /* a row per head */
    s->att_acc = octo_calloc(c->n_embd, sizeof(double));            /* head_dim per head */
    s->att_sum = octo_calloc(c->n_head, sizeof(double));
    s->rope_freq = octo_calloc(c->head_dim / 2 + 1, sizeof(double));
    s->logits = octo_calloc(c->n_vocab, sizeof(float));
    /* Not zeroed: each position is written before it is read. Huge pages where offered, so
     * the first token already commits 2 MiB per layer in each (at most state_bytes). */
    s->k_cache = octo_malloc_large(cache * sizeof(float));
    s->v_cache = octo_malloc_large(cache * sizeof(float));
    s->xq = octo_calloc((size_t)batch * (wide / OCTO_QUANT_BLOCK), sizeof(*s->xq));
    bool ok = s->hb != NULL && s->hb2 != NULL && s->att != NULL && s->att_acc != NULL &&
              s->att_sum != NULL && s->rope_freq != NULL && s->logits != NULL &&
              s->k_cache != NULL && s->v_cache != NULL && s->xq != NULL;
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
        ok = ok && *vecs[i] != NULL;
    if (!ok) {
        octo_llama_state_deinit(s);
        return OCTO_ENOMEM;
    }
    for (uint32_t i = 0; i < c->head_dim / 2; i++)
        s->rope_freq[i] = rope_freq_of(c, i);
    return 0;
}

int octo_llama_state_init(struct octo_llama_state *s, const struct octo_llama_model *m,
                          uint32_t n_ctx, enum octo_quant_mode mode)
{
    return octo_llama_state_init_batch(s, m, n_ctx, 1, mode);
}

void octo_llama_state_deinit(struct octo_llama_state *s)
{
    if (s == NULL)
        return;
    float *bufs[] = {s->x, s->xb, s->xb2, s->q, s->hb, s->hb2, s->att, s->logits};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        octo_free(bufs[i]);
    octo_free_large(s->k_cache, s->cache_bytes);
    octo_free_large(s->v_cache, s->cache_bytes);
    octo_free(s->xq);
    octo_free(s->att_acc);
    octo_free(s->att_sum);
    octo_free(s->rope_freq);
    memset(s, 0, sizeof(*s));
}

void octo_llama_reset(struct octo_llama_state *s)
{
    s->pos = 0;
}

/* ---- the pieces of a step ---- */

/* One parallel dispatch over up to MM_PARTS matrices that read the same input: in CONCAT mode
 * the ranges cover the parts' rows one after another (q, k and v as one job); in SWIGLU mode
 * they cover the rows of gate and up together, and each range then applies SwiGLU to its own
 * elements (hb = silu(gate) * up), so the three steps need one dispatch instead of three.
 * Either way every output gets the same arithmetic as a matmul of its own. */
#define MM_PARTS 3

struct mm_part {
    const struct octo_quant_matrix *w;
    float *y;
    size_t y_stride;
};

struct mm_job {
    struct octo_llama_state *s;
    const float *x;
    size_t n; /* vectors */
    struct mm_part part[MM_PARTS];
    size_t n_part;
    bool swiglu; /* parts: gate then up, rows in step */
};

static void mm_part_range(struct mm_job *j, const struct mm_part *p, size_t r0, size_t r1)
{
    bool q = octo_quant_type_is_block(p->w->type);
    int rc = octo_quant_matmul(p->w, q ? NULL : j->x, q ? j->s->xq : NULL, j->n, r0, r1, j->s->mode,
                               p->y, p->y_stride);
    if (rc != 0) {
        int none = 0;
        atomic_compare_exchange_strong(&j->s->err, &none, rc);
    }
}

/* gate[i] = silu(gate[i]) * up[i] for the elements of rows [r0, r1) of every vector. */
static void swiglu_rows(const struct mm_job *j, size_t r0, size_t r1)
{
    float *gate = j->part[0].y;
    const float *up = j->part[1].y;
    size_t stride = j->part[0].y_stride;
    for (size_t t = 0; t < j->n; t++)
        j->s->vec->swiglu(gate + t * stride + r0, up + t * stride + r0, r1 - r0);
}

static void mm_range(void *arg, size_t r0, size_t r1)
{
    struct mm_job *j = arg;
    if (j->swiglu) {
        mm_part_range(j, &j->part[0], r0, r1);
        mm_part_range(j, &j->part[1], r0, r1);
        if (atomic_load(&j->s->err) == 0)
            swiglu_rows(j, r0, r1);
        return;
    }
    size_t base = 0;
    for (size_t k = 0; k < j->n_part && r0 < r1; k++) {
        size_t rows = j->part[k].w->rows;
        if (r0 < base + rows) {
            size_t end = r1 < base + rows ? r1 : base + rows;
            mm_part_range(j, &j->part[k], r0 - base, end - base);
            r0 = end;
        }
        base += rows;
    }
}

/* Runs fn over [0, rows) through the parallel hook (or here, as one range). */
static void run_rows(struct octo_llama_state *s, size_t rows, octo_llama_range_fn fn, void *arg)
{
    if (s->parallel != NULL)
        s->parallel(s->parallel_ctx, rows, fn, arg);
    else
        fn(arg, 0, rows);
}

/* Quantizes the n input vectors of width cols when a part has Q8_0/Q4_0 weights (a file may mix
 * types among q, k and v: each part then reads the operand its type needs), then runs the job. */
static int run_mm(struct octo_llama_state *s, struct mm_job *j)
{
    const struct octo_quant_matrix *w = j->part[0].w;
    bool blocks = false;
    for (size_t k = 0; k < j->n_part; k++)
        blocks = blocks || octo_quant_type_is_block(j->part[k].w->type);
    if (blocks) {
        size_t nb = w->cols / OCTO_QUANT_BLOCK;
        for (size_t t = 0; t < j->n; t++) {
            int rc = octo_quant_act_q8_0(j->x + t * w->cols, w->cols, s->xq + t * nb, nb);
            if (rc != 0)
                return rc;
        }
    }
    size_t rows = 0;
    for (size_t k = 0; k < j->n_part; k++) {
        OCTO_ASSERT(j->part[k].w->cols == w->cols); /* one input (the loader checks shapes) */
        rows += j->part[k].w->rows;
    }
    if (j->swiglu) {
        OCTO_ASSERT(j->n_part == 2 && j->part[1].w->rows == w->rows);
        rows = w->rows;
    }
    atomic_store(&s->err, 0);
    run_rows(s, rows, mm_range, j);
    return atomic_load(&s->err);
}

/* y_t = W x_t for the n vectors x_t = x + t * w->cols, into y + t * y_stride; the rows split by
 * the parallel hook. */
static int matmul(struct octo_llama_state *s, const struct octo_quant_matrix *w, const float *x,
                  size_t n, float *y, size_t y_stride)
{
    struct mm_job j = {.s = s, .x = x, .n = n, .part = {{w, y, y_stride}}, .n_part = 1};
    return run_mm(s, &j);
}

static void rmsnorm(float *out, const float *x, const float *w, uint32_t n, float eps)
{
    double ss = 0.0;
    for (uint32_t i = 0; i < n; i++)
        ss += (double)x[i] * (double)x[i];
    double scale = 1.0 / sqrt(ss / n + (double)eps);
    for (uint32_t i = 0; i < n; i++)
        out[i] = (float)((double)x[i] * scale) * w[i];
}

/* freq: the head_dim / 2 frequencies of rope_freq_of, computed once per state. */
static void rope(const struct octo_llama_config *c, const double *freq, float *v, uint32_t heads,
                 uint32_t pos)
{
    uint32_t hd = c->head_dim, half = hd / 2;
    for (uint32_t i = 0; i < half; i++) {
        double co = 0.0, si = 0.0;
        octo_detmath_sincos((double)pos * freq[i], &si, &co);
        for (uint32_t h = 0; h < heads; h++) {
            float *p = v + (size_t)h * hd;
            uint32_t a = c->neox ? i : 2 * i, b = c->neox ? i + half : 2 * i + 1;
            double x0 = (double)p[a], x1 = (double)p[b];
            p[a] = (float)(x0 * co - x1 * si);
            p[b] = (float)(x0 * si + x1 * co);
        }
    }
}

static void add_bias(float *v, const float *b, size_t n)
{
    for (size_t i = 0; b != NULL && i < n; i++)
        v[i] += b[i];
}

struct att_job {
    struct octo_llama_state *s;
    uint32_t layer, pos;
    const float *qv;
    float *outv;
};

/* Attention arithmetic is in double and has a fixed order, so its bits are the same on every
 * machine (the products of two floats are exact in double, so no step depends on whether the
 * compiler fuses a multiply and an add); vec.h gives the order and runs it, with SIMD where the
 * CPU has it. Heads [h0, h1) of one query: each head works in its own row of s->att, its own
 * accumulators and sum, so heads run in parallel and a head's arithmetic never depends on which
 * thread ran it. */
static void att_heads(void *arg, size_t h0, size_t h1)
{
    const struct att_job *j = arg;
    struct octo_llama_state *s = j->s;
    const struct octo_llama_config *c = &s->m->cfg;
    size_t kv = (size_t)c->head_dim * c->n_head_kv, n_ctx = s->n_ctx;
    struct octo_vec_att a = {
        .q = j->qv,
        .k = s->k_cache + (size_t)j->layer * n_ctx * kv,
        .v = s->v_cache + (size_t)j->layer * n_ctx * kv,
        .kv = kv,
        .hd = c->head_dim,
        .group = c->n_head / c->n_head_kv,
        .h0 = h0,
        .h1 = h1,
        .n_pos = (size_t)j->pos + 1,
        .scale = 1.0 / sqrt((double)c->head_dim),
        .att = s->att,
        .att_stride = n_ctx,
        .acc = s->att_acc,
        .sum = s->att_sum,
        .out = j->outv,
    };
    s->vec->attend(&a);
}

/* Causal attention of every head of the query qv at position pos over the cached keys and
 * values, into outv (n_embd floats); heads split by the parallel hook. */
static void attention(struct octo_llama_state *s, uint32_t layer, uint32_t pos, const float *qv,
                      float *outv)
{
    struct att_job j = {s, layer, pos, qv, outv};
    run_rows(s, s->m->cfg.n_head, att_heads, &j);
}

/* Layer l for the n tokens at positions pos..pos+n-1 (rows 0..n-1 of the buffers). */
static int layer_batch(struct octo_llama_state *s, uint32_t l, uint32_t pos, uint32_t n)
{
    const struct octo_llama_config *c = &s->m->cfg;
    const struct octo_llama_layer *L = &s->m->layers[l];
    size_t d = c->n_embd, ff = c->n_ff;
    size_t kv = (size_t)c->head_dim * c->n_head_kv;
    float *kpos = s->k_cache + ((size_t)l * s->n_ctx + pos) * kv;
    float *vpos = s->v_cache + ((size_t)l * s->n_ctx + pos) * kv;
    for (uint32_t t = 0; t < n; t++)
        rmsnorm(s->xb + t * d, s->x + t * d, L->attn_norm, c->n_embd, c->eps);
    struct mm_job qkv = {.s = s,
                         .x = s->xb,
                         .n = n,
                         .part = {{&L->wq, s->q, d}, {&L->wk, kpos, kv}, {&L->wv, vpos, kv}},
                         .n_part = 3};
    int rc = run_mm(s, &qkv);
    if (rc != 0)
        return rc;
    for (uint32_t t = 0; t < n; t++) {
        add_bias(s->q + t * d, L->bq, d);
        add_bias(kpos + t * kv, L->bk, kv);
        add_bias(vpos + t * kv, L->bv, kv);
        rope(c, s->rope_freq, s->q + t * d, c->n_head, pos + t);
        rope(c, s->rope_freq, kpos + t * kv, c->n_head_kv, pos + t);
    }
    /* in position order: token t sees the keys and values of positions <= pos + t only */
    for (uint32_t t = 0; t < n; t++)
        attention(s, l, pos + t, s->q + t * d, s->xb + t * d);
    rc = matmul(s, &L->wo, s->xb, n, s->xb2, d);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n * d; i++)
        s->x[i] += s->xb2[i];
    for (uint32_t t = 0; t < n; t++)
        rmsnorm(s->xb + t * d, s->x + t * d, L->ffn_norm, c->n_embd, c->eps);
    struct mm_job ffn = {.s = s,
                         .x = s->xb,
                         .n = n,
                         .part = {{&L->gate, s->hb, ff}, {&L->up, s->hb2, ff}},
                         .n_part = 2,
                         .swiglu = true};
    rc = run_mm(s, &ffn);
    if (rc != 0)
        return rc;
    rc = matmul(s, &L->down, s->hb, n, s->xb2, d);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n * d; i++)
        s->x[i] += s->xb2[i];
    return 0;
}

int octo_llama_forward_batch(struct octo_llama_state *s, const uint32_t *tokens, uint32_t n)
{
    OCTO_ASSERT(s != NULL && s->m != NULL && (tokens != NULL || n == 0));
    const struct octo_llama_model *m = s->m;
    const struct octo_llama_config *c = &m->cfg;
    if (n == 0)
        return OCTO_EINVAL;
    if (n > s->batch)
        return OCTO_ETOOBIG;
    for (uint32_t t = 0; t < n; t++) {
        if (tokens[t] >= c->n_vocab)
            return OCTO_EINVAL;
    }
    if (s->pos > s->n_ctx || n > s->n_ctx - s->pos)
        return OCTO_ENOSPACE;
    const struct octo_quant_matrix *e = &m->tok_embd;
    size_t d = c->n_embd;
    int rc = 0;
    for (uint32_t t = 0; rc == 0 && t < n; t++)
        rc = octo_quant_dequantize_row(e->type, e->data + (size_t)tokens[t] * e->row_size,
                                       e->row_size, c->n_embd, s->x + t * d);
    for (uint32_t l = 0; rc == 0 && l < c->n_layer; l++)
        rc = layer_batch(s, l, s->pos, n);
    if (rc != 0)
        return rc;
    /* A token whose state overflowed would have failed alone (its logits would not be finite);
     * it fails the batch too, though its logits are never computed here. */
    for (size_t i = 0; i < (size_t)(n - 1) * d; i++) {
        if (!isfinite(s->x[i]))
            return OCTO_ERANGE;
    }
    float *last = s->x + (size_t)(n - 1) * d;
    rmsnorm(last, last, m->output_norm, c->n_embd, c->eps);
    rc = matmul(s, &m->output, last, 1, s->logits, c->n_vocab);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < c->n_vocab; i++) {
        if (!isfinite(s->logits[i]))
            return OCTO_ERANGE;
    }
    s->pos += n;
    return 0;
}

int octo_llama_forward(struct octo_llama_state *s, uint32_t token)
{
    return octo_llama_forward_batch(s, &token, 1);
}
