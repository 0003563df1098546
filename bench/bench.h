/*
 * bench.h — the benchmark harness shared by bench_<name>.c.
 *
 * A benchmark measures an operation and a reference measured in the same run (a direct
 * library call, a raw primitive, the hardware limit) and prints both side by side: a table
 * by default, one JSON object per line with --json ({"bench","metric","value","unit",...
 * parameters}). --quick shortens every measurement so the whole program finishes in well
 * under a minute. Benchmarks are never tests: they print figures and exit 0.
 */
#ifndef OCTO_BENCH_H
#define OCTO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct octo_bench {
    const char *name;
    bool json;
    bool quick;
    double min_seconds; /* per measurement: 1.0, or 0.1 with --quick */
};

/* Parses --json, --quick and --help; exits on --help or unknown flags. */
void octo_bench_init(struct octo_bench *b, const char *name, int argc, char **argv);

/* Runs fn(ctx, iters) with growing iteration counts until it takes min_seconds; returns
 * nanoseconds per iteration. */
double octo_bench_measure(const struct octo_bench *b, void (*fn)(void *ctx, uint64_t iters),
                          void *ctx);

/* Prints one result row. params is a string of extra JSON members ("\"size\":38") or NULL;
 * in table mode it is shown in brackets. */
void octo_bench_report(const struct octo_bench *b, const char *metric, double value,
                       const char *unit, const char *params);

/* Monotonic nanoseconds (benchmarks may read the clock). */
uint64_t octo_bench_now_ns(void);

/* An argv built from copies of const strings (posix_spawn and exec take char *const *). */
struct octo_bench_argv {
    char store[8192];
    size_t used;
    char *argv[24];
    int argc;
};

/* Appends a copy of s (aborts when the argv is full: a benchmark's own mistake). */
void octo_bench_arg(struct octo_bench_argv *a, const char *s);

/* Keeps the compiler from discarding a computed value. */
void octo_bench_sink(const void *p, size_t len);

/* The machine's streaming read bandwidth with `threads` threads (1..OCTO_BENCH_BW_THREADS_MAX),
 * in bytes/s: the best any memory-bound kernel can do. A 768 MiB buffer (more than the
 * last-level cache, so the data comes from memory as a model's weights do) is split among the
 * threads; each reads its share as eight independent streams with the widest loads
 * the CPU has (AVX-512, else AVX2, else 64-bit words) and software prefetch ahead of every
 * stream. Best of five runs. Returns 0 when the buffer or a thread cannot be had, or threads
 * is out of range. */
#define OCTO_BENCH_BW_THREADS_MAX 64u
double octo_bench_read_bandwidth(unsigned threads);

#endif
