/*
 * bench.c — timing loop and output for the benchmarks (see bench.h). Timing uses
 * CLOCK_MONOTONIC; the iteration count doubles until one run lasts min_seconds, and the
 * best of three such runs is reported to dampen noise from the other core.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t octo_bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void octo_bench_sink(const void *p, size_t len)
{
    __asm__ __volatile__("" : : "r"(p), "r"(len) : "memory");
}

void octo_bench_init(struct octo_bench *b, const char *name, int argc, char **argv)
{
    memset(b, 0, sizeof(*b));
    b->name = name;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            b->json = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            b->quick = true;
        } else {
            fprintf(stderr, "usage: bench_%s [--quick] [--json]\n", name);
            exit(strcmp(argv[i], "--help") == 0 ? 0 : 2);
        }
    }
    b->min_seconds = b->quick ? 0.1 : 1.0;
    if (!b->json)
        printf("%-44s %14s  %s\n", name, "value", "unit");
}

double octo_bench_measure(const struct octo_bench *b, void (*fn)(void *ctx, uint64_t iters),
                          void *ctx)
{
    double best = 0;
    for (int run = 0; run < 3; run++) {
        uint64_t iters = 1;
        for (;;) {
            uint64_t t0 = octo_bench_now_ns();
            fn(ctx, iters);
            uint64_t dt = octo_bench_now_ns() - t0;
            if ((double)dt >= b->min_seconds * 1e9 / 3 || iters >= (UINT64_C(1) << 40)) {
                double per = (double)dt / (double)iters;
                if (run == 0 || per < best)
                    best = per;
                break;
            }
            iters *= 2;
        }
    }
    return best;
}

void octo_bench_report(const struct octo_bench *b, const char *metric, double value,
                       const char *unit, const char *params)
{
    if (b->json) {
        printf("{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"%s%s}\n", b->name,
               metric, value, unit, params != NULL ? "," : "", params != NULL ? params : "");
    } else {
        char label[128];
        snprintf(label, sizeof(label), "  %s%s%s%s", metric, params != NULL ? " [" : "",
                 params != NULL ? params : "", params != NULL ? "]" : "");
        printf("%-44s %14.4g  %s\n", label, value, unit);
    }
    fflush(stdout);
}
