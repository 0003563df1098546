/*
 * bench_infer.c — the built-in inference engine's speed on generated models with real shapes
 * (infer/gentest.h), next to the memory-bandwidth bound measured in the same run:
 *   - prompt tokens/s (32 tokens fed) and generation tokens/s (64 tokens, greedy) for each
 *     shape x weight type x threads (1, 2) x mode (fast, deterministic);
 *   - the bound: weight bytes read per token / the machine's read bandwidth (a 256 MiB buffer
 *     summed with 8 threads' worth of independent streams, best of 3) = the best tokens/s any
 *     engine could reach on this machine when decoding is memory-bound.
 * Models are generated into $TMPDIR once per run (the big shapes take a while). --quick: the
 * 15m shape at Q8_0 and Q4_0 only. llama.cpp's figures (the comparison) come when its
 * backend exists.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "bench.h"
#include "exec/inference.h"
#include "infer/gentest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROMPT 32
#define GENERATE 64
#define BW_BYTES (256u << 20)

struct file_sink {
    FILE *f;
};

static int sink(void *ctx, const void *p, size_t n)
{
    struct file_sink *s = ctx;
    return fwrite(p, 1, n, s->f) == n ? 0 : -1;
}

/* Writes the model to path (through a temp name and a rename, so an interrupted run never
 * leaves a truncated file behind); a file already there from an earlier run is reused only
 * if it still opens as a model. */
static int gen_model(const char *path, const char *shape, uint32_t type)
{
    struct octo_infer_model probe;
    int ok = octo_infer_open(&probe, path);
    octo_infer_close(&probe);
    if (ok == 0)
        return 0;
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
    struct file_sink s = {fopen(tmp, "wb")};
    if (s.f == NULL)
        return -1;
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find(shape), .weight_type = type, .seed = 1};
    int rc = octo_gentest_write(&p, sink, &s, NULL, 0);
    if (fclose(s.f) != 0 || rc != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Read bandwidth in bytes/s: sum a buffer with 8 independent accumulators, best of 3. */
static double read_bandwidth(void)
{
    uint64_t *buf = octo_malloc(BW_BYTES);
    if (buf == NULL)
        return 0.0;
    memset(buf, 1, BW_BYTES);
    double best = 0.0;
    for (int r = 0; r < 3; r++) {
        uint64_t acc[8] = {0};
        uint64_t t0 = octo_bench_now_ns();
        for (size_t i = 0; i < BW_BYTES / 8; i += 8) {
            for (int k = 0; k < 8; k++)
                acc[k] += buf[i + (size_t)k];
        }
        uint64_t ns = octo_bench_now_ns() - t0;
        octo_bench_sink(acc, sizeof(acc));
        double bw = (double)BW_BYTES * 1e9 / (double)ns;
        best = bw > best ? bw : best;
    }
    octo_free(buf);
    return best;
}

/* Bytes of weights one decoding step reads: every 2-D tensor except the embedding (one row of
 * it is read), plus the output matrix (which is the embedding when tied). */
static double bytes_per_token(const struct octo_infer_model *m)
{
    double total = 0.0;
    const struct octo_gguf *g = &m->gguf;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const struct octo_gguf_tensor *t = &g->tensors[i];
        bool embd = t->name_len == 17 && memcmp(t->name, "token_embd.weight", 17) == 0;
        if (!embd)
            total += (double)t->size;
    }
    if (m->llama.cfg.tied)
        total += (double)m->llama.tok_embd.row_size * (double)m->llama.tok_embd.rows;
    return total;
}

static void run_one(const struct octo_bench *b, const char *shape, const char *type_name,
                    const struct octo_infer_model *m, uint32_t threads, enum octo_quant_mode mode,
                    double bound)
{
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    struct octo_infer_session s;
    if (octo_infer_session_init(&s, m, threads, 256, mode, &sp) != 0)
        return;
    uint32_t prompt[PROMPT];
    for (uint32_t i = 0; i < PROMPT; i++)
        prompt[i] = 259 + (i * 37) % 200;
    struct octo_infer_stats st;
    int rc = octo_infer_generate(&s, prompt, PROMPT, GENERATE, NULL, NULL, &st);
    octo_infer_session_deinit(&s);
    if (rc != 0)
        return;
    char params[160], metric[64];
    const char *mode_name = mode == OCTO_QUANT_DETERMINISTIC ? "deterministic" : "fast";
    snprintf(params, sizeof(params),
             "\"shape\":\"%s\",\"type\":\"%s\",\"threads\":%u,\"mode\":\"%s\"", shape, type_name,
             threads, mode_name);
    snprintf(metric, sizeof(metric), "prompt_tps");
    octo_bench_report(b, metric, st.prompt_tps, "tok/s", params);
    snprintf(metric, sizeof(metric), "generate_tps");
    octo_bench_report(b, metric, st.generate_tps, "tok/s", params);
    if (bound > 0.0)
        octo_bench_report(b, "generate_over_bound", st.generate_tps / bound, "x", params);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "infer", argc, argv);
    static const char *const quick_shapes[] = {"15m"};
    static const char *const full_shapes[] = {"15m", "110m", "qwen05b", "tinyllama"};
    const char *const *shapes = b.quick ? quick_shapes : full_shapes;
    size_t n_shapes = b.quick ? 1 : 4;
    static const struct {
        const char *name;
        uint32_t type;
    } types[] = {{"q8_0", OCTO_GGML_Q8_0}, {"q4_0", OCTO_GGML_Q4_0}};
    double bw = read_bandwidth();
    octo_bench_report(&b, "read_bandwidth", bw / 1e9, "GB/s", NULL);
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    for (size_t si = 0; si < n_shapes; si++) {
        for (size_t ti = 0; ti < 2; ti++) {
            char path[512];
            snprintf(path, sizeof(path), "%s/octo-bench-%s-%s.gguf", tmp, shapes[si],
                     types[ti].name);
            if (gen_model(path, shapes[si], types[ti].type) != 0) {
                fprintf(stderr, "bench_infer: cannot write %s\n", path);
                continue;
            }
            struct octo_infer_model m;
            if (octo_infer_open(&m, path) != 0) {
                fprintf(stderr, "bench_infer: %s\n", m.reason);
                octo_infer_close(&m);
                continue;
            }
            double per_token = bytes_per_token(&m);
            double bound = per_token > 0.0 ? bw / per_token : 0.0;
            char params[128];
            snprintf(params, sizeof(params), "\"shape\":\"%s\",\"type\":\"%s\"", shapes[si],
                     types[ti].name);
            octo_bench_report(&b, "bandwidth_bound_tps", bound, "tok/s", params);
            for (uint32_t threads = 1; threads <= 2; threads++) {
                run_one(&b, shapes[si], types[ti].name, &m, threads, OCTO_QUANT_FAST, bound);
                run_one(&b, shapes[si], types[ti].name, &m, threads, OCTO_QUANT_DETERMINISTIC,
                        bound);
            }
            octo_infer_close(&m);
        }
    }
    return 0;
}
