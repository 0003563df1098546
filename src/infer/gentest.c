/*
 * gentest.c — deterministic random GGUF models (gentest.h).
 *
 * Values: each tensor has its own generator, seeded with the model seed and the FNV-1a hash of
 * its name, so a tensor's bytes do not depend on the order tensors are written. A value is
 * u = k / 2^23 - 1 for a 24-bit k (exact in float), scaled per tensor: weights by
 * sqrt(3 / row length) (unit variance in, unit variance out), the two projections that write
 * into the residual stream further by 1/sqrt(2 * layers), norms 1 + u/10, biases u/10, the
 * embedding u.
 */
#include "infer/gentest.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/rng.h"
#include "infer/quant.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct octo_gentest_shape shapes[] = {
    {"tiny", "llama", 64, 192, 2, 4, 2, 512, 256},
    {"tinyqwen", "qwen2", 64, 192, 2, 4, 2, 512, 256},
    {"15m", "llama", 288, 768, 6, 6, 6, 32000, 256},
    {"110m", "llama", 768, 2048, 12, 12, 12, 32000, 1024},
    {"tinyllama", "llama", 2048, 5632, 22, 32, 4, 32000, 2048},
    {"qwen05b", "qwen2", 896, 4864, 24, 14, 2, 151936, 32768},
};

#define N_SHAPES (sizeof(shapes) / sizeof(shapes[0]))
#define ROW_MAX 8192u /* floats generated per write call */

const struct octo_gentest_shape *octo_gentest_shapes(size_t *count)
{
    *count = N_SHAPES;
    return shapes;
}

const struct octo_gentest_shape *octo_gentest_shape_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_SHAPES; i++) {
        if (strcmp(shapes[i].name, name) == 0)
            return &shapes[i];
    }
    return NULL;
}

enum kind { K_EMBD, K_WEIGHT, K_RESID, K_NORM, K_BIAS };

struct gen {
    const struct octo_gentest_params *p;
    struct octo_gguf_writer w;
    enum kind kinds[OCTO_GGUF_TENSORS_MAX];
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int add_tensor(struct gen *g, const char *name, enum kind k, uint64_t ne0, uint64_t ne1)
{
    uint64_t ne[2] = {ne0, ne1};
    uint32_t type = k == K_NORM || k == K_BIAS ? OCTO_GGML_F32 : g->p->weight_type;
    int i = octo_gguf_writer_add_tensor(&g->w, name, type, ne1 > 0 ? 2 : 1, ne);
    if (i >= 0)
        g->kinds[i] = k;
    return i < 0 ? i : 0;
}

static int add_tensors(struct gen *g)
{
    const struct octo_gentest_shape *s = g->p->shape;
    uint32_t kv = s->dim / s->heads * s->kv_heads;
    bool qwen = strcmp(s->arch, "qwen2") == 0;
    int rc = add_tensor(g, "token_embd.weight", K_EMBD, s->dim, s->vocab);
    for (uint32_t l = 0; rc == 0 && l < s->layers; l++) {
        char n[OCTO_GGUF_NAME_MAX + 1];
#define T(suffix, kind, a, b)                                                                      \
    do {                                                                                           \
        snprintf(n, sizeof(n), "blk.%u." suffix, l);                                               \
        if (rc == 0)                                                                               \
            rc = add_tensor(g, n, kind, a, b);                                                     \
    } while (0)
        T("attn_norm.weight", K_NORM, s->dim, 0);
        T("attn_q.weight", K_WEIGHT, s->dim, s->dim);
        T("attn_k.weight", K_WEIGHT, s->dim, kv);
        T("attn_v.weight", K_WEIGHT, s->dim, kv);
        if (qwen) {
            T("attn_q.bias", K_BIAS, s->dim, 0);
            T("attn_k.bias", K_BIAS, kv, 0);
            T("attn_v.bias", K_BIAS, kv, 0);
        }
        T("attn_output.weight", K_RESID, s->dim, s->dim);
        T("ffn_norm.weight", K_NORM, s->dim, 0);
        T("ffn_gate.weight", K_WEIGHT, s->dim, s->hidden);
        T("ffn_up.weight", K_WEIGHT, s->dim, s->hidden);
        T("ffn_down.weight", K_RESID, s->hidden, s->dim);
#undef T
    }
    if (rc == 0)
        rc = add_tensor(g, "output_norm.weight", K_NORM, s->dim, 0);
    if (rc == 0 && !qwen) /* qwen2 ties the output to the embedding */
        rc = add_tensor(g, "output.weight", K_WEIGHT, s->dim, s->vocab);
    return rc;
}

/* The llama-spm-style vocabulary: <unk>, <s>, </s>, <0x00>..<0xFF>, then "▁t<id>". */
static int add_tokenizer(struct gen *g)
{
    const struct octo_gentest_shape *s = g->p->shape;
    struct octo_buf text;
    octo_buf_init(&text, (size_t)s->vocab * 16);
    size_t *lens = NULL, *offs = NULL;
    const char **strs = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    int rc = octo_buf_reserve(&text, (size_t)s->vocab * 16);
    lens = rc == 0 ? octo_calloc(s->vocab, sizeof(*lens)) : NULL;
    offs = lens != NULL ? octo_calloc(s->vocab, sizeof(*offs)) : NULL;
    strs = offs != NULL ? octo_calloc(s->vocab, sizeof(*strs)) : NULL;
    scores = strs != NULL ? octo_calloc(s->vocab, sizeof(*scores)) : NULL;
    types = scores != NULL ? octo_calloc(s->vocab, sizeof(*types)) : NULL;
    if (types == NULL)
        rc = OCTO_ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < s->vocab; i++) {
        offs[i] = text.len;
        if (i < 3) {
            static const char *const special[] = {"<unk>", "<s>", "</s>"};
            rc = octo_buf_append_str(&text, special[i]);
            types[i] = i == 0 ? 2 : 3; /* unknown, control */
        } else if (i < 259) {
            rc = octo_buf_appendf(&text, "<0x%02X>", i - 3);
            types[i] = 6; /* byte */
        } else {
            rc = octo_buf_appendf(&text, "\xe2\x96\x81t%u", i); /* U+2581 then t<id> */
            types[i] = 1;                                       /* normal */
            scores[i] = -(float)(i - 259);
        }
        lens[i] = text.len - offs[i];
    }
    for (uint32_t i = 0; rc == 0 && i < s->vocab; i++)
        strs[i] = (const char *)text.data + offs[i];
    if (rc == 0)
        rc = octo_gguf_writer_add_str(&g->w, "tokenizer.ggml.model", "llama", 5);
    if (rc == 0)
        rc = octo_gguf_writer_add_str_array(&g->w, "tokenizer.ggml.tokens", strs, lens, s->vocab);
    if (rc == 0)
        rc = octo_gguf_writer_add_array(&g->w, "tokenizer.ggml.scores", OCTO_GGUF_F32, scores,
                                        s->vocab);
    if (rc == 0)
        rc = octo_gguf_writer_add_array(&g->w, "tokenizer.ggml.token_type", OCTO_GGUF_I32, types,
                                        s->vocab);
    if (rc == 0)
        rc = octo_gguf_writer_add_u32(&g->w, "tokenizer.ggml.bos_token_id", 1);
    if (rc == 0)
        rc = octo_gguf_writer_add_u32(&g->w, "tokenizer.ggml.eos_token_id", 2);
    if (rc == 0)
        rc = octo_gguf_writer_add_u32(&g->w, "tokenizer.ggml.unknown_token_id", 0);
    if (rc == 0)
        rc = octo_gguf_writer_add_bool(&g->w, "tokenizer.ggml.add_bos_token", true);
    if (rc == 0 && g->p->chat_template != NULL)
        rc = octo_gguf_writer_add_str(&g->w, "tokenizer.chat_template", g->p->chat_template,
                                      strlen(g->p->chat_template));
    octo_free(types);
    octo_free(scores);
    octo_free(strs);
    octo_free(offs);
    octo_free(lens);
    octo_buf_deinit(&text);
    return rc;
}

static int add_metadata(struct gen *g)
{
    const struct octo_gentest_shape *s = g->p->shape;
    bool qwen = strcmp(s->arch, "qwen2") == 0;
    char key[96], name[64];
    snprintf(name, sizeof(name), "octo gen-test %s", s->name);
    int rc = octo_gguf_writer_add_str(&g->w, "general.architecture", s->arch, strlen(s->arch));
    if (rc == 0)
        rc = octo_gguf_writer_add_str(&g->w, "general.name", name, strlen(name));
    if (rc == 0 && g->p->weight_type != OCTO_GGML_F32 && g->p->weight_type != OCTO_GGML_F16)
        rc = octo_gguf_writer_add_u32(&g->w, "general.quantization_version", 2);
    const struct {
        const char *suffix;
        uint32_t v;
    } u32s[] = {{"context_length", s->ctx},
                {"embedding_length", s->dim},
                {"block_count", s->layers},
                {"feed_forward_length", s->hidden},
                {"attention.head_count", s->heads},
                {"attention.head_count_kv", s->kv_heads},
                {"rope.dimension_count", s->dim / s->heads}};
    for (size_t i = 0; rc == 0 && i < sizeof(u32s) / sizeof(u32s[0]); i++) {
        snprintf(key, sizeof(key), "%s.%s", s->arch, u32s[i].suffix);
        rc = octo_gguf_writer_add_u32(&g->w, key, u32s[i].v);
    }
    snprintf(key, sizeof(key), "%s.attention.layer_norm_rms_epsilon", s->arch);
    if (rc == 0)
        rc = octo_gguf_writer_add_f32(&g->w, key, qwen ? 1e-6f : 1e-5f);
    snprintf(key, sizeof(key), "%s.rope.freq_base", s->arch);
    if (rc == 0)
        rc = octo_gguf_writer_add_f32(&g->w, key, qwen ? 1000000.0f : 10000.0f);
    return rc;
}

struct data_ctx {
    struct gen *g;
    float chunk[ROW_MAX];
    uint8_t row[ROW_MAX * sizeof(float)]; /* one quantized row */
};

static float scale_of(const struct gen *g, enum kind k, uint64_t row)
{
    float base = sqrtf(3.0f / (float)row);
    switch (k) {
    case K_EMBD:
        return 1.0f;
    case K_WEIGHT:
        return base;
    case K_RESID:
        return base / sqrtf(2.0f * (float)g->p->shape->layers);
    case K_NORM:
    case K_BIAS:
        return 0.1f;
    }
    return 0.0f;
}

/* Writes tensor i's values row by row through write: F32 as generated; F16, Q8_0 and Q4_0
 * quantized from the same floats (infer/quant.h, ggml's rules). */
static int gen_data(void *ctx, size_t i, octo_gguf_write_fn write, void *wctx)
{
    struct data_ctx *d = ctx;
    const struct octo_gguf_wtensor *t = &d->g->w.tensors[i];
    enum kind k = d->g->kinds[i];
    struct octo_rng rng;
    octo_rng_init(&rng, d->g->p->seed ^ fnv1a(t->name));
    float scale = scale_of(d->g, k, t->ne[0]);
    float offset = k == K_NORM ? 1.0f : 0.0f;
    uint64_t cols = t->ne[0], rows = t->n_dims > 1 ? t->ne[1] : 1;
    if (cols > ROW_MAX)
        return OCTO_ETOOBIG;
    for (uint64_t r = 0; r < rows; r++) {
        for (uint64_t j = 0; j < cols; j++) {
            float u = (float)(octo_rng_next(&rng) >> 40) / 8388608.0f - 1.0f;
            d->chunk[j] = offset + scale * u;
        }
        int rc;
        if (t->type == OCTO_GGML_F32) {
            rc = write(wctx, d->chunk, (size_t)cols * sizeof(float));
        } else {
            rc = octo_quant_quantize_row((enum octo_quant_type)t->type, d->chunk, (size_t)cols,
                                         d->row, sizeof(d->row));
            if (rc >= 0)
                rc = write(wctx, d->row, (size_t)rc);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int octo_gentest_write(const struct octo_gentest_params *p, octo_gguf_write_fn write, void *wctx,
                       char *reason, size_t reason_size)
{
    OCTO_ASSERT(p != NULL && write != NULL);
    if (reason != NULL && reason_size > 0)
        reason[0] = '\0';
    if (p->shape == NULL)
        return OCTO_EINVAL;
    if (p->weight_type != OCTO_GGML_F32 && p->weight_type != OCTO_GGML_F16 &&
        p->weight_type != OCTO_GGML_Q8_0 && p->weight_type != OCTO_GGML_Q4_0) {
        if (reason != NULL)
            snprintf(reason, reason_size, "weight type %s is not generated (F32, F16, Q8_0, Q4_0)",
                     octo_ggml_type_name(p->weight_type));
        return OCTO_EUNSUPPORTED;
    }
    struct gen *g = octo_calloc(1, sizeof(*g)); /* kinds[] is large */
    struct data_ctx *d = octo_calloc(1, sizeof(*d));
    if (g == NULL || d == NULL) {
        octo_free(g);
        octo_free(d);
        return OCTO_ENOMEM;
    }
    g->p = p;
    d->g = g;
    octo_gguf_writer_init(&g->w);
    int rc = add_metadata(g);
    if (rc == 0)
        rc = add_tokenizer(g);
    if (rc == 0)
        rc = add_tensors(g);
    if (rc == 0)
        rc = octo_gguf_writer_emit(&g->w, write, wctx, gen_data, d);
    if (rc != 0 && reason != NULL && reason[0] == '\0')
        snprintf(reason, reason_size, "%s",
                 g->w.reason[0] != '\0' ? g->w.reason : octo_strerror(rc));
    octo_gguf_writer_deinit(&g->w);
    octo_free(d);
    octo_free(g);
    return rc;
}
