/*
 * bench_infer.c — the built-in inference engine's speed on generated models with real shapes
 * (infer/gentest.h), next to the memory-bandwidth bound measured in the same run:
 *   - prompt tokens/s (32 tokens fed) and generation tokens/s (64 tokens, greedy) for each
 *     shape x weight type x threads (1, 2) x mode (fast, deterministic);
 *   - the bound: weight bytes read per token / the machine's read bandwidth with as many
 *     threads as the row (octo_bench_read_bandwidth(1) and (2), bench.h) = the best tokens/s
 *     any engine could reach on this machine when decoding is memory-bound.
 *   - the same runs on llama.cpp (exec/backend_llama.h: its prebuilt CPU library, the best
 *     variant for this CPU, default settings: F16 KV cache, weight repacking; in a child
 *     process of its own, so the engines do not share threads or memory) when the build
 *     has it, and the built-in engine's generation speed over llama.cpp's per mode
 *     ("builtin_over_llamacpp"; the targets: fast >= 0.8, deterministic >= 0.5).
 * Models are generated into $TMPDIR once per run (the big shapes take a while). --quick: the
 * 15m shape at Q8_0 and Q4_0 only.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "bench.h"
#include "exec/backend_llama.h"
#include "exec/inference.h"
#include "infer/gentest.h"
#include "node/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROMPT 32
#define GENERATE 64

static int gen_fill(void *ctx, octo_fs_write_fn write, void *wctx)
{
    return octo_gentest_write(ctx, write, wctx, NULL, 0);
}

/* Writes the model to path (node/fs's atomic stream: a temp name and a rename, so an interrupted
 * run never leaves a truncated file behind); a file already there from an earlier run is reused
 * only if it still opens as a model. */
static int gen_model(const char *path, const char *shape, uint32_t type)
{
    struct octo_infer_model probe;
    int ok = octo_infer_open(&probe, path);
    octo_infer_close(&probe);
    if (ok == 0)
        return 0;
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find(shape), .weight_type = type, .seed = 1};
    struct octo_fs_error err;
    int rc = octo_fs_write_atomic_stream(path, gen_fill, &p, 0644, false, &err);
    if (rc != 0 && err.msg[0] != '\0')
        fprintf(stderr, "bench_infer: %s\n", err.msg);
    return rc;
}

/* Read bandwidth in bytes/s with 1 and 2 threads (bw[0], bw[1]; bench.h), reported. */
static void read_bandwidth(const struct octo_bench *b, double bw[2])
{
    for (unsigned t = 1; t <= 2; t++) {
        bw[t - 1] = octo_bench_read_bandwidth(t);
        char params[32];
        snprintf(params, sizeof(params), "\"threads\":%u", t);
        octo_bench_report(b, "read_bandwidth", bw[t - 1] / 1e9, "GB/s", params);
    }
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

static void prompt_ids(uint32_t *prompt)
{
    for (uint32_t i = 0; i < PROMPT; i++)
        prompt[i] = 259 + (i * 37) % 200;
}

static void report_run(const struct octo_bench *b, const char *params,
                       const struct octo_infer_stats *st, double bound)
{
    octo_bench_report(b, "prompt_tps", st->prompt_tps, "tok/s", params);
    octo_bench_report(b, "generate_tps", st->generate_tps, "tok/s", params);
    if (bound > 0.0)
        octo_bench_report(b, "generate_over_bound", st->generate_tps / bound, "x", params);
}

/* llama.cpp on the same file; its generation tokens/s, or 0 without it. */
static double run_llama_here(const struct octo_bench *b, const char *path, const char *shape,
                             const char *type_name, uint32_t threads, double bound)
{
    struct octo_llamacpp l;
    struct octo_llamacpp_config cfg = {.model_path = path, .threads = threads, .n_ctx = 256};
    if (octo_llamacpp_open(&l, &cfg) != 0) {
        fprintf(stderr, "bench_infer: llama.cpp: %s\n", l.reason);
        return 0.0;
    }
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    uint32_t prompt[PROMPT];
    prompt_ids(prompt);
    struct octo_infer_stats st;
    /* Stop ids: none, so every run generates GENERATE tokens like the built-in's (which has no
     * end-of-sequence in the generated vocabulary's random walk either). */
    int rc = octo_llamacpp_generate(&l, prompt, PROMPT, GENERATE, &sp, NULL, 0, NULL, NULL, &st);
    octo_llamacpp_close(&l);
    if (rc != 0)
        return 0.0;
    char params[160];
    snprintf(params, sizeof(params),
             "\"shape\":\"%s\",\"type\":\"%s\",\"threads\":%u,\"engine\":\"llama.cpp\"", shape,
             type_name, threads);
    report_run(b, params, &st, bound);
    return st.generate_tps;
}

/* llama.cpp runs in a child process, so that neither engine's threads, mappings or allocator
 * state weigh on the other's rows; the child prints its rows and sends back its tokens/s. */
static double run_llama(const struct octo_bench *b, const char *path, const char *shape,
                        const char *type_name, uint32_t threads, double bound)
{
    if (!octo_llamacpp_available())
        return 0.0;
    int fds[2];
    if (pipe(fds) != 0)
        return 0.0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        double tps = run_llama_here(b, path, shape, type_name, threads, bound);
        fflush(stdout);
        ssize_t w = write(fds[1], &tps, sizeof(tps));
        _exit(w == (ssize_t)sizeof(tps) ? 0 : 1);
    }
    close(fds[1]);
    double tps = 0.0;
    if (pid < 0 || read(fds[0], &tps, sizeof(tps)) != (ssize_t)sizeof(tps))
        tps = 0.0;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return tps;
}

static double run_one(const struct octo_bench *b, const char *shape, const char *type_name,
                      const struct octo_infer_model *m, uint32_t threads, enum octo_quant_mode mode,
                      double bound)
{
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    struct octo_infer_session s;
    if (octo_infer_session_init(&s, m, threads, 256, mode, &sp) != 0)
        return 0.0;
    uint32_t prompt[PROMPT];
    prompt_ids(prompt);
    struct octo_infer_stats st;
    int rc = octo_infer_generate(&s, prompt, PROMPT, GENERATE, NULL, NULL, &st);
    octo_infer_session_deinit(&s);
    if (rc != 0)
        return 0.0;
    char params[160];
    const char *mode_name = mode == OCTO_QUANT_DETERMINISTIC ? "deterministic" : "fast";
    snprintf(params, sizeof(params),
             "\"shape\":\"%s\",\"type\":\"%s\",\"threads\":%u,\"engine\":\"builtin\","
             "\"mode\":\"%s\"",
             shape, type_name, threads, mode_name);
    report_run(b, params, &st, bound);
    return st.generate_tps;
}

/* Reads every weight once (a short generation) so that the first measured row does not pay
 * for faulting the mapped file into memory. */
static void warm_up(const struct octo_infer_model *m)
{
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    struct octo_infer_session s;
    if (octo_infer_session_init(&s, m, 1, 16, OCTO_QUANT_FAST, &sp) != 0)
        return;
    uint32_t prompt[2] = {1, 300};
    struct octo_infer_stats st;
    OCTO_IGNORE(octo_infer_generate(&s, prompt, 2, 2, NULL, NULL, &st));
    octo_infer_session_deinit(&s);
}

static void report_ratio(const struct octo_bench *b, const char *shape, const char *type_name,
                         uint32_t threads, const char *mode, double ours, double theirs)
{
    if (theirs <= 0.0)
        return;
    char params[160];
    snprintf(params, sizeof(params),
             "\"shape\":\"%s\",\"type\":\"%s\",\"threads\":%u,\"mode\":\"%s\"", shape, type_name,
             threads, mode);
    octo_bench_report(b, "builtin_over_llamacpp", ours / theirs, "x", params);
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
    double bw[2];
    read_bandwidth(&b, bw);
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
            double bounds[2];
            for (uint32_t t = 1; t <= 2; t++) {
                bounds[t - 1] = per_token > 0.0 ? bw[t - 1] / per_token : 0.0;
                char params[128];
                snprintf(params, sizeof(params), "\"shape\":\"%s\",\"type\":\"%s\",\"threads\":%u",
                         shapes[si], types[ti].name, t);
                octo_bench_report(&b, "bandwidth_bound_tps", bounds[t - 1], "tok/s", params);
            }
            warm_up(&m);
            for (uint32_t threads = 1; threads <= 2; threads++) {
                const char *sh = shapes[si], *tn = types[ti].name;
                double bound = bounds[threads - 1];
                double fast = run_one(&b, sh, tn, &m, threads, OCTO_QUANT_FAST, bound);
                double det = run_one(&b, sh, tn, &m, threads, OCTO_QUANT_DETERMINISTIC, bound);
                double ref = run_llama(&b, path, sh, tn, threads, bound);
                report_ratio(&b, sh, tn, threads, "fast", fast, ref);
                report_ratio(&b, sh, tn, threads, "deterministic", det, ref);
            }
            octo_infer_close(&m);
        }
    }
    return 0;
}
