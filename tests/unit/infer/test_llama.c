/*
 * test_llama.c — the built-in forward pass (infer/llama.h) against the independent float64
 * NumPy reference (tests/infer/ref_llama.py, its own GGUF parser and dequantization), on the
 * generated tiny model (infer/gentest.h):
 *   - logits at each of 72 positions agree within |c - ref| <= 1e-4 * (1 + max |ref|) per row;
 *   - 64 greedy tokens from a 3-token prompt are the reference's tokens;
 *   - F16, Q8_0 and Q4_0 models within 1e-3 of the reference run with ggml's activation
 *     quantization (OCTO_REF_ACT_Q8=1), over 40 positions;
 *   - deterministic mode: logits are bit-identical whether the rows of every product run in
 *     one range or in many uneven ranges (what threads do), and across two runs;
 *   - load refuses, with the documented code and a reason naming the problem, a model with a
 *     missing tensor, a wrong tensor shape, an unsupported architecture, RoPE scaling or
 *     partial rotary dimensions, a dimension over its maximum, inconsistent heads, or a norm
 *     that is not F32 (patched copies of the generated file);
 *   - batched prompt processing (octo_llama_forward_batch): batches of 1, 3, 17, 9 mixed with
 *     single steps give logits and KV caches bit-identical to token-by-token feeding, on the
 *     llama and qwen2 shapes, F32/F16/Q8_0/Q4_0, both modes, with and without a row split;
 *     its errors (empty, over the batch, outside the vocabulary, context full, the budget).
 * The reference runs through /usr/bin/python3; without NumPy those checks are skipped (the
 * setup script installs python3-numpy, so CI runs them).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "infer/gentest.h"
#include "infer/gguf.h"
#include "infer/llama.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OCTO_REF_LLAMA
#error "OCTO_REF_LLAMA: path of tests/infer/ref_llama.py"
#endif

#define N_POS 72
#define N_GREEDY 64

static struct octo_buf g_file;
static struct octo_gguf g_gguf;
static struct octo_llama_model g_model;
static char g_dir[256];

static int sink(void *ctx, const void *p, size_t n)
{
    return octo_buf_append(ctx, p, n);
}

static bool have_numpy(void)
{
    return system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

static void setup(void)
{
    octo_buf_init(&g_file, 64u << 20);
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find("tiny"), .weight_type = OCTO_GGML_F32, .seed = 3};
    CHECK_OK(octo_gentest_write(&p, sink, &g_file, NULL, 0));
    octo_gguf_init(&g_gguf);
    CHECK_OK(octo_gguf_parse(&g_gguf, g_file.data, g_file.len));
    char why[OCTO_LLAMA_REASON_MAX];
    int rc = octo_llama_load(&g_model, &g_gguf, why, sizeof(why));
    if (rc != 0)
        printf("  load: %s\n", why);
    CHECK_OK(rc);
    CHECK_EQ_U64(g_model.cfg.n_vocab, 512);
    CHECK(!g_model.cfg.tied && !g_model.cfg.neox && g_model.cfg.head_dim == 16);
    snprintf(g_dir, sizeof(g_dir), "%s", octo_test_tmpdir("llama"));
    char path[512];
    snprintf(path, sizeof(path), "%s/tiny.gguf", g_dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(g_file.data, 1, g_file.len, f) == g_file.len);
    fclose(f);
}

static uint32_t seq_token(int i)
{
    return i == 0 ? 1u : (uint32_t)((i * 37 + 5) % 512);
}

/* max |c - ref| / (1 + max |ref|) over a row of n logits. */
static double row_rel_err(const float *c, const double *ref, size_t n)
{
    double max = 0.0, err = 0.0;
    for (size_t j = 0; j < n; j++) {
        max = fabs(ref[j]) > max ? fabs(ref[j]) : max;
        double e = fabs((double)c[j] - ref[j]);
        err = e > err ? e : err;
    }
    return err / (1.0 + max);
}

/* Reads n float64 values from path into out. */
static bool read_f64(const char *path, double *out, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t got = fread(out, sizeof(double), n, f);
    fclose(f);
    return got == n;
}

static void test_logits_match_reference(void)
{
    if (!have_numpy()) {
        printf("  skip: /usr/bin/python3 has no NumPy\n");
        return;
    }
    char cmd[2048], toks[N_POS * 5], out[512];
    size_t at = 0;
    for (int i = 0; i < N_POS; i++)
        at += (size_t)snprintf(toks + at, sizeof(toks) - at, "%s%u", i ? "," : "", seq_token(i));
    snprintf(out, sizeof(out), "%s/ref.logits", g_dir);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s/tiny.gguf logits %s %s", OCTO_REF_LLAMA,
             g_dir, toks, out);
    CHECK_EQ_INT(system(cmd), 0);
    double *ref = octo_calloc((size_t)N_POS * 512, sizeof(double));
    CHECK(ref != NULL && read_f64(out, ref, (size_t)N_POS * 512));
    struct octo_llama_state s;
    CHECK_OK(octo_llama_state_init(&s, &g_model, 0, OCTO_QUANT_FAST));
    double worst = 0.0;
    for (int i = 0; i < N_POS; i++) {
        CHECK_OK(octo_llama_forward(&s, seq_token(i)));
        double rel = row_rel_err(s.logits, ref + (size_t)i * 512, 512);
        worst = rel > worst ? rel : worst;
        CHECK(rel <= 1e-4);
    }
    printf("  72 positions: worst |c - ref| / (1 + max|ref|) = %.2e\n", worst);
    octo_llama_state_deinit(&s);
    octo_free(ref);
}

static void test_greedy_matches_reference(void)
{
    if (!have_numpy()) {
        printf("  skip: /usr/bin/python3 has no NumPy\n");
        return;
    }
    char cmd[2048], out[512], ids[512];
    snprintf(out, sizeof(out), "%s/greedy.logits", g_dir);
    snprintf(ids, sizeof(ids), "%s/greedy.ids", g_dir);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s/tiny.gguf greedy 1,300,301 %d %s > %s",
             OCTO_REF_LLAMA, g_dir, N_GREEDY, out, ids);
    CHECK_EQ_INT(system(cmd), 0);
    FILE *f = fopen(ids, "r");
    CHECK(f != NULL);
    uint32_t want[N_GREEDY];
    for (int i = 0; i < N_GREEDY; i++)
        CHECK(fscanf(f, "%u", &want[i]) == 1);
    fclose(f);
    struct octo_llama_state s;
    CHECK_OK(octo_llama_state_init(&s, &g_model, 0, OCTO_QUANT_FAST));
    CHECK_OK(octo_llama_forward(&s, 1));
    CHECK_OK(octo_llama_forward(&s, 300));
    uint32_t tok = 301;
    for (int i = 0; i < N_GREEDY; i++) {
        CHECK_OK(octo_llama_forward(&s, tok));
        uint32_t best = 0;
        for (uint32_t j = 1; j < 512; j++)
            best = s.logits[j] > s.logits[best] ? j : best;
        CHECK_EQ_U64(best, want[i]);
        tok = best;
    }
    octo_llama_state_deinit(&s);
}

/* A parallel hook that runs the rows in uneven ranges (7, 1, 13, 7, 1, 13, ...). */
static void uneven(void *ctx, size_t rows, octo_llama_range_fn fn, void *arg)
{
    (void)ctx;
    static const size_t steps[] = {7, 1, 13};
    size_t r = 0;
    for (size_t i = 0; r < rows; i++) {
        size_t n = steps[i % 3] < rows - r ? steps[i % 3] : rows - r;
        fn(arg, r, r + n);
        r += n;
    }
}

static void run_logits(enum octo_quant_mode mode, octo_llama_parallel_fn par, float *out)
{
    struct octo_llama_state s;
    CHECK_OK(octo_llama_state_init(&s, &g_model, 64, mode));
    s.parallel = par;
    for (int i = 0; i < 40; i++) {
        CHECK_OK(octo_llama_forward(&s, seq_token(i)));
        memcpy(out + (size_t)i * 512, s.logits, 512 * sizeof(float));
    }
    CHECK_ERR(octo_llama_forward(&s, 600), OCTO_EINVAL); /* outside the vocabulary */
    octo_llama_state_deinit(&s);
}

/* Loads a generated model of `shape`, weight type and seed into *file / *g / *m. */
static void load_generated(const char *shape, uint32_t type, uint64_t seed, struct octo_buf *file,
                           struct octo_gguf *g, struct octo_llama_model *m)
{
    octo_buf_init(file, 16u << 20);
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find(shape), .weight_type = type, .seed = seed};
    CHECK_OK(octo_gentest_write(&p, sink, file, NULL, 0));
    octo_gguf_init(g);
    CHECK_OK(octo_gguf_parse(g, file->data, file->len));
    CHECK_OK(octo_llama_load(m, g, NULL, 0));
}

/* Q8_0 and Q4_0 models against the reference run with ggml's activation quantization
 * (OCTO_REF_ACT_Q8=1): logits within 1e-3 relative per row over 40 positions, and 32 greedy
 * tokens equal. */
static void quantized_case(uint32_t type, const char *name)
{
    struct octo_buf file;
    struct octo_gguf g;
    struct octo_llama_model m;
    load_generated("tiny", type, 9, &file, &g, &m);
    char path[512], out[512], cmd[2048], toks[40 * 5];
    snprintf(path, sizeof(path), "%s/%s.gguf", g_dir, name);
    snprintf(out, sizeof(out), "%s/%s.logits", g_dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(file.data, 1, file.len, f) == file.len);
    fclose(f);
    size_t at = 0;
    for (int i = 0; i < 40; i++)
        at += (size_t)snprintf(toks + at, sizeof(toks) - at, "%s%u", i ? "," : "", seq_token(i));
    snprintf(cmd, sizeof(cmd), "OCTO_REF_ACT_Q8=1 /usr/bin/python3 %s %s logits %s %s",
             OCTO_REF_LLAMA, path, toks, out);
    CHECK_EQ_INT(system(cmd), 0);
    double *ref = octo_calloc(40 * 512, sizeof(double));
    CHECK(ref != NULL && read_f64(out, ref, 40 * 512));
    struct octo_llama_state s;
    CHECK_OK(octo_llama_state_init(&s, &m, 64, OCTO_QUANT_DETERMINISTIC));
    double worst = 0.0;
    for (int i = 0; i < 40; i++) {
        CHECK_OK(octo_llama_forward(&s, seq_token(i)));
        double rel = row_rel_err(s.logits, ref + (size_t)i * 512, 512);
        worst = rel > worst ? rel : worst;
    }
    printf("  %s: 40 positions, worst |c - ref| / (1 + max|ref|) = %.2e\n", name, worst);
    CHECK(worst <= 1e-3);
    octo_llama_state_deinit(&s);
    octo_llama_unload(&m);
    octo_gguf_deinit(&g);
    octo_free(ref);
    octo_buf_deinit(&file);
}

static void test_quantized_match_reference(void)
{
    if (!have_numpy()) {
        printf("  skip: /usr/bin/python3 has no NumPy\n");
        return;
    }
    quantized_case(OCTO_GGML_Q8_0, "q8_0");
    quantized_case(OCTO_GGML_Q4_0, "q4_0");
    quantized_case(OCTO_GGML_F16, "f16");
}

static void test_deterministic_splits(void)
{
    float *a = octo_calloc(40 * 512, sizeof(float));
    float *b = octo_calloc(40 * 512, sizeof(float));
    float *c = octo_calloc(40 * 512, sizeof(float));
    CHECK(a != NULL && b != NULL && c != NULL);
    run_logits(OCTO_QUANT_DETERMINISTIC, NULL, a);
    run_logits(OCTO_QUANT_DETERMINISTIC, uneven, b);
    run_logits(OCTO_QUANT_DETERMINISTIC, NULL, c);
    CHECK(memcmp(a, b, 40 * 512 * sizeof(float)) == 0);
    CHECK(memcmp(a, c, 40 * 512 * sizeof(float)) == 0);
    octo_free(a);
    octo_free(b);
    octo_free(c);
}

static void test_context_full(void)
{
    struct octo_llama_state s;
    CHECK_OK(octo_llama_state_init(&s, &g_model, 2, OCTO_QUANT_FAST));
    CHECK_OK(octo_llama_forward(&s, 1));
    CHECK_OK(octo_llama_forward(&s, 2));
    CHECK_ERR(octo_llama_forward(&s, 3), OCTO_ENOSPACE);
    octo_llama_reset(&s);
    CHECK_OK(octo_llama_forward(&s, 3));
    octo_llama_state_deinit(&s);
    CHECK_ERR(octo_llama_state_init(&s, &g_model, 100000, OCTO_QUANT_FAST), OCTO_EINVAL);
}

/* A copy of the tiny model's file, with room for inserted KVs. */
static void copy_model(struct octo_buf *b)
{
    octo_buf_init(b, g_file.len + 4096);
    OCTO_ASSERT(octo_buf_append(b, g_file.data, g_file.len) == 0);
}

/* The bytes right after a key's or a tensor's name in the file (the value's type, or the
 * tensor's n_dims): names are stored as a u64 length (little-endian) and the bytes, so the
 * length keeps "head_count" from matching inside "head_count_kv". NULL if absent. */
static uint8_t *after_name(struct octo_buf *b, const char *name)
{
    uint8_t pat[8 + OCTO_GGUF_NAME_MAX + 32];
    uint64_t n = strlen(name);
    OCTO_ASSERT(n <= sizeof(pat) - 8);
    memcpy(pat, &n, 8);
    memcpy(pat + 8, name, n);
    uint8_t *hit = memmem(b->data, b->len, pat, 8 + n);
    return hit == NULL ? NULL : hit + 8 + n;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Appends a string KV to kv. */
static void encode_str_kv(struct octo_buf *kv, const char *key, const char *value)
{
    uint32_t type = OCTO_GGUF_STRING;
    OCTO_ASSERT(octo_gguf_encode_str(kv, key, strlen(key)) == 0);
    OCTO_ASSERT(octo_gguf_encode_scalar(kv, OCTO_GGUF_U32, &type) == 0);
    OCTO_ASSERT(octo_gguf_encode_str(kv, value, strlen(value)) == 0);
}

/* *out = the tiny model with the string KV key = value inserted after the header, plus a KV
 * "test.pad" sized so that the inserted bytes are a whole number of alignment units: the data
 * section then moves by exactly that many bytes and every tensor offset stays valid. */
static void with_str_kv(struct octo_buf *out, const char *key, const char *value)
{
    enum { HEADER = 24 }; /* magic, version, tensor count, KV count (at 16) */
    struct octo_buf kv;
    octo_buf_init(&kv, 4096);
    encode_str_kv(&kv, key, value);
    size_t align = (size_t)g_gguf.alignment;
    size_t pad_fixed = 8 + 8 + 4 + 8; /* key length, "test.pad", type, value length */
    size_t pad = (align - (kv.len + pad_fixed) % align) % align;
    char filler[64];
    OCTO_ASSERT(pad < sizeof(filler));
    memset(filler, 'x', pad);
    filler[pad] = '\0';
    encode_str_kv(&kv, "test.pad", filler);
    OCTO_ASSERT(kv.len % align == 0);
    octo_buf_init(out, g_file.len + kv.len);
    OCTO_ASSERT(octo_buf_append(out, g_file.data, HEADER) == 0);
    OCTO_ASSERT(octo_buf_append(out, kv.data, kv.len) == 0);
    OCTO_ASSERT(octo_buf_append(out, g_file.data + HEADER, g_file.len - HEADER) == 0);
    uint64_t n_kv;
    memcpy(&n_kv, out->data + 16, 8);
    put_u64(out->data + 16, n_kv + 2);
    octo_buf_deinit(&kv);
}

/* Parses the patched file b and loads it: *rc gets the load's code and why its reason. */
static void load_patched(const struct octo_buf *b, int *rc, char *why, size_t why_size)
{
    struct octo_gguf g;
    octo_gguf_init(&g);
    int prc = octo_gguf_parse(&g, b->data, b->len);
    if (prc != 0)
        printf("  parse: %s\n", g.reason);
    *rc = prc;
    why[0] = '\0';
    if (prc == 0) {
        struct octo_llama_model m;
        *rc = octo_llama_load(&m, &g, why, why_size);
        if (*rc == 0)
            octo_llama_unload(&m);
    }
    octo_gguf_deinit(&g);
}

/* Loading b (then freed) fails with `want` and a reason holding both needles (NULL: none). */
static void expect_refusal(struct octo_buf *b, int want, const char *needle, const char *needle2)
{
    int rc;
    char why[OCTO_LLAMA_REASON_MAX];
    load_patched(b, &rc, why, sizeof(why));
    octo_buf_deinit(b);
    if (rc != want || strstr(why, needle) == NULL ||
        (needle2 != NULL && strstr(why, needle2) == NULL))
        printf("  got %d: %s\n", rc, why);
    CHECK_EQ_INT(rc, want);
    CHECK(strstr(why, needle) != NULL);
    CHECK(needle2 == NULL || strstr(why, needle2) != NULL);
}

static void test_load_refusals(void)
{
    struct octo_buf b;
    /* One tensor renamed: "blk.1.ffn_up.weight" -> "blk.1.ffn_up.weighX". */
    copy_model(&b);
    const char *name = "blk.1.ffn_up.weight";
    uint8_t *hit = memmem(b.data, b.len, name, strlen(name));
    CHECK(hit != NULL);
    hit[strlen(name) - 1] = 'X';
    expect_refusal(&b, OCTO_ENOTFOUND, "blk.1.ffn_up.weight", "missing");
    /* An architecture the engine does not run: the value "llama" -> "llamX". */
    copy_model(&b);
    uint8_t *arch = after_name(&b, "general.architecture");
    CHECK(arch != NULL && memcmp(arch + 4 + 8, "llama", 5) == 0); /* type, length, bytes */
    arch[4 + 8 + 4] = 'X';
    expect_refusal(&b, OCTO_EUNSUPPORTED, "'llamX'", "not supported");
    /* A wrong shape: blk.0.attn_k.weight with 16 rows instead of 32 (n_dims, ne[0], ne[1]). */
    copy_model(&b);
    uint8_t *k = after_name(&b, "blk.0.attn_k.weight");
    CHECK(k != NULL);
    put_u64(k + 4 + 8, 16);
    expect_refusal(&b, OCTO_EMALFORMED, "blk.0.attn_k.weight", "shape");
    /* A norm that is not F32: blk.0.attn_norm.weight typed F16 (n_dims, ne[0], type). */
    copy_model(&b);
    uint8_t *norm = after_name(&b, "blk.0.attn_norm.weight");
    CHECK(norm != NULL);
    put_u32(norm + 4 + 8, OCTO_GGML_F16);
    expect_refusal(&b, OCTO_EMALFORMED, "blk.0.attn_norm.weight", "F32");
    /* A dimension over its maximum: 1000 layers (at most OCTO_LLAMA_LAYERS_MAX). */
    copy_model(&b);
    uint8_t *layers = after_name(&b, "llama.block_count");
    CHECK(layers != NULL);
    put_u32(layers + 4, 1000);
    expect_refusal(&b, OCTO_ETOOBIG, "over its maximum", NULL);
    /* Inconsistent heads: 5 heads do not divide the width 64. */
    copy_model(&b);
    uint8_t *heads = after_name(&b, "llama.attention.head_count");
    CHECK(heads != NULL);
    put_u32(heads + 4, 5);
    expect_refusal(&b, OCTO_EMALFORMED, "inconsistent heads", NULL);
}

/* RoPE variants the engine does not implement are refused; their neutral settings load. */
static void test_load_rope_variants(void)
{
    struct octo_buf b;
    with_str_kv(&b, "llama.rope.scaling.type", "linear");
    expect_refusal(&b, OCTO_EUNSUPPORTED, "RoPE scaling", "not supported");
    with_str_kv(&b, "llama.rope.scaling.type", "none");
    int rc;
    char why[OCTO_LLAMA_REASON_MAX];
    load_patched(&b, &rc, why, sizeof(why));
    octo_buf_deinit(&b);
    CHECK_OK(rc);
    /* The generated file says rope.dimension_count = head_dim (16): make it 8. */
    copy_model(&b);
    uint8_t *dims = after_name(&b, "llama.rope.dimension_count");
    uint32_t type, n;
    CHECK(dims != NULL);
    memcpy(&type, dims, 4);
    memcpy(&n, dims + 4, 4);
    CHECK(type == OCTO_GGUF_U32 && n == 16);
    put_u32(dims + 4, 8);
    expect_refusal(&b, OCTO_EUNSUPPORTED, "partial rotary", NULL);
}

/* ---- batched prompt processing ---------------------------------------------------------- */

/* Whether positions [0, n) of both states' KV caches hold the same bits. */
static bool same_cache(const struct octo_llama_state *a, const struct octo_llama_state *b,
                       uint32_t n)
{
    const struct octo_llama_config *c = &a->m->cfg;
    size_t kv = (size_t)c->head_dim * c->n_head_kv;
    for (uint32_t l = 0; l < c->n_layer; l++) {
        size_t oa = (size_t)l * a->n_ctx * kv, ob = (size_t)l * b->n_ctx * kv;
        if (memcmp(a->k_cache + oa, b->k_cache + ob, n * kv * sizeof(float)) != 0 ||
            memcmp(a->v_cache + oa, b->v_cache + ob, n * kv * sizeof(float)) != 0)
            return false;
    }
    return true;
}

/* Batches of 1, 3, 17, then single steps, then 9 and 3 against token-by-token feeding: after
 * every batch the logits equal those of the batch's last single step and the caches agree;
 * `par` splits the batch's rows (NULL: one range). Adds the mismatches to *fails. */
static void batch_case(const struct octo_llama_model *m, enum octo_quant_mode mode,
                       octo_llama_parallel_fn par, int *fails)
{
    static const uint32_t sizes[] = {1, 3, 17, 1, 1, 9, 3};
    enum { TOTAL = 35 };
    uint32_t toks[TOTAL];
    for (int i = 0; i < TOTAL; i++)
        toks[i] = seq_token(i);
    struct octo_llama_state one, bat;
    CHECK_OK(octo_llama_state_init(&one, m, 64, mode));
    CHECK_OK(octo_llama_state_init_batch(&bat, m, 64, 17, mode));
    CHECK_EQ_U64(bat.batch, 17);
    bat.parallel = par;
    uint32_t at = 0;
    for (size_t k = 0; k < OCTO_ARRAY_LEN(sizes); k++) {
        for (uint32_t t = 0; t < sizes[k]; t++)
            CHECK_OK(octo_llama_forward(&one, toks[at + t]));
        CHECK_OK(octo_llama_forward_batch(&bat, toks + at, sizes[k]));
        at += sizes[k];
        CHECK_EQ_U64(bat.pos, at);
        if (memcmp(one.logits, bat.logits, m->cfg.n_vocab * sizeof(float)) != 0 ||
            !same_cache(&one, &bat, at)) {
            printf("  batch of %u at %u differs (%s, mode %d)\n", sizes[k], at - sizes[k],
                   m->cfg.arch, (int)mode);
            (*fails)++;
        }
    }
    CHECK_EQ_U64(at, TOTAL);
    /* decoding on from the batched state stays identical */
    for (uint32_t t = 0; t < 4; t++) {
        CHECK_OK(octo_llama_forward(&one, toks[t]));
        CHECK_OK(octo_llama_forward(&bat, toks[t]));
        *fails += memcmp(one.logits, bat.logits, m->cfg.n_vocab * sizeof(float)) != 0;
    }
    octo_llama_state_deinit(&one);
    octo_llama_state_deinit(&bat);
}

/* Every shape, type and mode, with and without an uneven row split; then 15m at Q4_0. */
static void test_batch_identical(void)
{
    static const char *const shapes[] = {"tiny", "tinyqwen"};
    static const uint32_t types[] = {OCTO_GGML_F32, OCTO_GGML_F16, OCTO_GGML_Q8_0, OCTO_GGML_Q4_0};
    int fails = 0;
    for (size_t si = 0; si < OCTO_ARRAY_LEN(shapes); si++) {
        for (size_t ti = 0; ti < OCTO_ARRAY_LEN(types); ti++) {
            struct octo_buf file;
            struct octo_gguf g;
            struct octo_llama_model m;
            load_generated(shapes[si], types[ti], 21, &file, &g, &m);
            CHECK(m.cfg.neox == (si == 1));
            for (int mode = 0; mode < 2; mode++)
                batch_case(&m, (enum octo_quant_mode)mode, NULL, &fails);
            batch_case(&m, OCTO_QUANT_DETERMINISTIC, uneven, &fails);
            batch_case(&m, OCTO_QUANT_FAST, uneven, &fails);
            octo_llama_unload(&m);
            octo_gguf_deinit(&g);
            octo_buf_deinit(&file);
        }
    }
    /* A real shape (rows of 288 and 768 columns: the kernels' 8-block loops), Q4_0. */
    struct octo_buf file;
    struct octo_gguf g;
    struct octo_llama_model m;
    load_generated("15m", OCTO_GGML_Q4_0, 21, &file, &g, &m);
    batch_case(&m, OCTO_QUANT_DETERMINISTIC, uneven, &fails);
    octo_llama_unload(&m);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&file);
    CHECK_EQ_INT(fails, 0);
}

static void test_batch_errors(void)
{
    struct octo_llama_state s;
    CHECK_ERR(octo_llama_state_init_batch(&s, &g_model, 20, 0, OCTO_QUANT_FAST), OCTO_EINVAL);
    CHECK_ERR(
        octo_llama_state_init_batch(&s, &g_model, 20, OCTO_LLAMA_BATCH_MAX + 1, OCTO_QUANT_FAST),
        OCTO_EINVAL);
    CHECK_OK(octo_llama_state_init_batch(&s, &g_model, 20, 8, OCTO_QUANT_FAST));
    uint32_t toks[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK_ERR(octo_llama_forward_batch(&s, toks, 0), OCTO_EINVAL);
    CHECK_ERR(octo_llama_forward_batch(&s, toks, 9), OCTO_ETOOBIG);
    toks[2] = 512; /* outside the vocabulary */
    CHECK_ERR(octo_llama_forward_batch(&s, toks, 3), OCTO_EINVAL);
    toks[2] = 3;
    CHECK_EQ_U64(s.pos, 0);
    CHECK_OK(octo_llama_forward_batch(&s, toks, 8));
    CHECK_OK(octo_llama_forward_batch(&s, toks, 8));
    CHECK_ERR(octo_llama_forward_batch(&s, toks, 5), OCTO_ENOSPACE); /* 4 positions left */
    CHECK_EQ_U64(s.pos, 16);
    CHECK_OK(octo_llama_forward_batch(&s, toks, 4));
    CHECK_ERR(octo_llama_forward_batch(&s, toks, 1), OCTO_ENOSPACE);
    CHECK_ERR(octo_llama_forward(&s, 1), OCTO_ENOSPACE);
    octo_llama_reset(&s);
    CHECK_OK(octo_llama_forward_batch(&s, toks, 8));
    octo_llama_state_deinit(&s);
    /* the budget counts the batch's buffers: a model whose cache alone fits but not with 64
     * tokens of a very wide layer (checked before anything is allocated) */
    struct octo_llama_model big = g_model;
    big.cfg.n_layer = 1;
    big.cfg.n_head = 32;
    big.cfg.n_head_kv = 32;
    big.cfg.head_dim = 2048;
    big.cfg.n_embd = 65536;
    big.cfg.n_ff = 4 * 65536;
    big.cfg.n_ctx = 32500; /* cache: 2 * 32500 * 65536 * 4 bytes, 134 MiB under the budget */
    CHECK_ERR(octo_llama_state_init_batch(&s, &big, 0, OCTO_LLAMA_BATCH_MAX, OCTO_QUANT_FAST),
              OCTO_ETOOBIG);
    big.cfg.n_ctx = 40000; /* the cache alone over the budget */
    CHECK_ERR(octo_llama_state_init(&s, &big, 0, OCTO_QUANT_FAST), OCTO_ETOOBIG);
}

/* A file may mix weight types inside one fused job (q/k/v, gate/up): a Q8_0 model whose v and
 * up matrices are F32 runs (no assertion, finite logits through the uneven hook) and stays
 * close to the all-F32 model. */
static void test_mixed_types(void)
{
    struct octo_buf fq, ff;
    struct octo_gguf gq, gf;
    struct octo_llama_model mq, mf;
    load_generated("tiny", OCTO_GGML_Q8_0, 21, &fq, &gq, &mq);
    load_generated("tiny", OCTO_GGML_F32, 21, &ff, &gf, &mf);
    struct octo_llama_layer *layers = octo_calloc(mq.cfg.n_layer, sizeof(*layers));
    CHECK(layers != NULL);
    memcpy(layers, mq.layers, mq.cfg.n_layer * sizeof(*layers));
    for (uint32_t l = 0; l < mq.cfg.n_layer; l++) {
        layers[l].wv = mf.layers[l].wv;
        layers[l].up = mf.layers[l].up;
    }
    struct octo_llama_model mixed = mq;
    mixed.layers = layers;
    struct octo_llama_state a, b;
    CHECK_OK(octo_llama_state_init(&a, &mixed, 32, OCTO_QUANT_DETERMINISTIC));
    CHECK_OK(octo_llama_state_init(&b, &mf, 32, OCTO_QUANT_DETERMINISTIC));
    a.parallel = uneven;
    double worst = 0.0;
    for (int i = 0; i < 16; i++) {
        CHECK_OK(octo_llama_forward(&a, seq_token(i)));
        CHECK_OK(octo_llama_forward(&b, seq_token(i)));
        double amax = 0.0, diff = 0.0;
        for (uint32_t v = 0; v < mf.cfg.n_vocab; v++) {
            CHECK(isfinite(a.logits[v]));
            amax = fmax(amax, fabs((double)b.logits[v]));
            diff = fmax(diff, fabs((double)a.logits[v] - (double)b.logits[v]));
        }
        worst = fmax(worst, diff / amax);
    }
    printf("  mixed Q8_0/F32 vs F32: worst %.2e relative to max |logit|\n", worst);
    CHECK(worst < 5e-2);
    octo_llama_state_deinit(&a);
    octo_llama_state_deinit(&b);
    octo_free(layers);
    octo_llama_unload(&mq);
    octo_llama_unload(&mf);
    octo_gguf_deinit(&gq);
    octo_gguf_deinit(&gf);
    octo_buf_deinit(&fq);
    octo_buf_deinit(&ff);
}

static void teardown(void)
{
    octo_test_rmtree(g_dir);
    octo_llama_unload(&g_model);
    octo_gguf_deinit(&g_gguf);
    octo_buf_deinit(&g_file);
}

int main(void)
{
    OCTO_RUN(setup);
    OCTO_RUN(test_logits_match_reference);
    OCTO_RUN(test_greedy_matches_reference);
    OCTO_RUN(test_quantized_match_reference);
    OCTO_RUN(test_deterministic_splits);
    OCTO_RUN(test_context_full);
    OCTO_RUN(test_load_refusals);
    OCTO_RUN(test_load_rope_variants);
    OCTO_RUN(test_batch_identical);
    OCTO_RUN(test_batch_errors);
    OCTO_RUN(test_mixed_types);
    OCTO_RUN(teardown);
    return octo_test_finish();
}
