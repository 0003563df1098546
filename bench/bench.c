/*
 * bench.c — timing loop and output for the benchmarks (see bench.h). Timing uses
 * CLOCK_MONOTONIC; the iteration count doubles until one run lasts min_seconds, and the
 * best of three such runs is reported to dampen noise from the other core.
 *
 * octo_bench_read_bandwidth is the memory bound the compute benchmarks compare against. A
 * single stream of dependent adds underestimates it (too few misses in flight), so every
 * thread reads several independent streams with wide loads and prefetches ahead of each.
 */
#define _GNU_SOURCE
#include "bench.h"

#include "base/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BW_X86 1
#else
#define BW_X86 0
#endif

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

/* ---------------------------------------------------------------------------------------- */
/* Read bandwidth                                                                            */

#define BW_BYTES ((size_t)768 << 20) /* more than the last-level cache */
#define BW_RUNS 5
#define BW_STREAMS 8
#define BW_STEP 256      /* bytes per stream per loop iteration */
#define BW_PREFETCH 1024 /* bytes ahead of each stream */

/* One thread's share: BW_STREAMS streams s[k] of len bytes each (len a multiple of BW_STEP). */
struct bw_share {
    const uint8_t *base;
    size_t len;
    uint64_t sum;
};

#if BW_X86
__attribute__((target("avx512f"))) static uint64_t bw_read_avx512(const uint8_t *p, size_t len)
{
    __m512i acc[BW_STREAMS];
    for (int k = 0; k < BW_STREAMS; k++)
        acc[k] = _mm512_setzero_si512();
    for (size_t i = 0; i < len; i += BW_STEP) {
        for (int k = 0; k < BW_STREAMS; k++) {
            const uint8_t *s = p + (size_t)k * len + i;
            _mm_prefetch((const char *)s + BW_PREFETCH, _MM_HINT_T0);
            _mm_prefetch((const char *)s + BW_PREFETCH + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)s + BW_PREFETCH + 128, _MM_HINT_T0);
            _mm_prefetch((const char *)s + BW_PREFETCH + 192, _MM_HINT_T0);
            __m512i a = _mm512_load_si512((const void *)s);
            __m512i b = _mm512_load_si512((const void *)(s + 64));
            __m512i c = _mm512_load_si512((const void *)(s + 128));
            __m512i d = _mm512_load_si512((const void *)(s + 192));
            acc[k] = _mm512_add_epi64(
                acc[k], _mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d)));
        }
    }
    __m512i t = _mm512_setzero_si512();
    for (int k = 0; k < BW_STREAMS; k++)
        t = _mm512_add_epi64(t, acc[k]);
    return (uint64_t)_mm512_reduce_add_epi64(t);
}

__attribute__((target("avx2"))) static uint64_t bw_read_avx2(const uint8_t *p, size_t len)
{
    __m256i acc[BW_STREAMS];
    for (int k = 0; k < BW_STREAMS; k++)
        acc[k] = _mm256_setzero_si256();
    for (size_t i = 0; i < len; i += BW_STEP) {
        for (int k = 0; k < BW_STREAMS; k++) {
            const uint8_t *s = p + (size_t)k * len + i;
            __m256i v = _mm256_setzero_si256();
            for (size_t o = 0; o < BW_STEP; o += 64) {
                _mm_prefetch((const char *)s + BW_PREFETCH + o, _MM_HINT_T0);
                __m256i a = _mm256_load_si256((const __m256i *)(const void *)(s + o));
                __m256i b = _mm256_load_si256((const __m256i *)(const void *)(s + o + 32));
                v = _mm256_add_epi64(v, _mm256_add_epi64(a, b));
            }
            acc[k] = _mm256_add_epi64(acc[k], v);
        }
    }
    uint64_t out[4] = {0};
    for (int k = 0; k < BW_STREAMS; k++) {
        uint64_t t[4];
        _mm256_storeu_si256((__m256i *)(void *)t, acc[k]);
        for (int j = 0; j < 4; j++)
            out[j] += t[j];
    }
    return out[0] + out[1] + out[2] + out[3];
}
#endif

static uint64_t bw_read_scalar(const uint8_t *p, size_t len)
{
    uint64_t acc[BW_STREAMS][4] = {{0}};
    for (size_t i = 0; i < len; i += 32) {
        for (int k = 0; k < BW_STREAMS; k++) {
            for (int j = 0; j < 4; j++) {
                uint64_t v;
                memcpy(&v, p + (size_t)k * len + i + 8 * (size_t)j, 8);
                acc[k][j] += v;
            }
        }
    }
    uint64_t s = 0;
    for (int k = 0; k < BW_STREAMS; k++)
        s += acc[k][0] + acc[k][1] + acc[k][2] + acc[k][3];
    return s;
}

static void *bw_thread(void *arg)
{
    struct bw_share *sh = arg;
    size_t len = sh->len / BW_STREAMS;
#if BW_X86
    if (__builtin_cpu_supports("avx512f"))
        sh->sum = bw_read_avx512(sh->base, len);
    else if (__builtin_cpu_supports("avx2"))
        sh->sum = bw_read_avx2(sh->base, len);
    else
#endif
        sh->sum = bw_read_scalar(sh->base, len);
    return NULL;
}

/* One run: threads read their shares concurrently; returns the elapsed nanoseconds or 0 when
 * a thread cannot be started. */
static uint64_t bw_run(struct bw_share *shares, unsigned threads)
{
    pthread_t tid[OCTO_BENCH_BW_THREADS_MAX];
    uint64_t t0 = octo_bench_now_ns();
    unsigned started = 1;
    bool ok = true;
    for (unsigned t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, bw_thread, &shares[t]) != 0) {
            ok = false;
            break;
        }
        started++;
    }
    bw_thread(&shares[0]);
    for (unsigned t = 1; t < started; t++)
        pthread_join(tid[t], NULL);
    uint64_t ns = octo_bench_now_ns() - t0;
    for (unsigned t = 0; t < threads && ok; t++)
        octo_bench_sink(&shares[t].sum, sizeof(shares[t].sum));
    return ok ? ns : 0;
}

double octo_bench_read_bandwidth(unsigned threads)
{
    if (threads == 0 || threads > OCTO_BENCH_BW_THREADS_MAX)
        return 0.0;
    uint8_t *raw = octo_malloc(BW_BYTES + 64);
    if (raw == NULL)
        return 0.0;
    uint8_t *buf = raw + (64 - (uintptr_t)raw % 64) % 64;
    /* each share a whole number of stream steps */
    size_t share = BW_BYTES / threads / (BW_STREAMS * BW_STEP) * (BW_STREAMS * BW_STEP);
    struct bw_share shares[OCTO_BENCH_BW_THREADS_MAX];
    for (unsigned t = 0; t < threads; t++)
        shares[t] = (struct bw_share){.base = buf + (size_t)t * share, .len = share};
    double best = 0.0;
    memset(buf, 1, BW_BYTES); /* fault the pages in */
    for (int r = 0; r < BW_RUNS; r++) {
        uint64_t ns = bw_run(shares, threads);
        if (ns == 0)
            break;
        double bw = (double)(share * threads) * 1e9 / (double)ns;
        best = bw > best ? bw : best;
    }
    octo_free(raw);
    return best;
}

void octo_bench_arg(struct octo_bench_argv *a, const char *s)
{
    size_t len = strlen(s) + 1;
    if (a->argc >= (int)(sizeof(a->argv) / sizeof(a->argv[0])) - 1 ||
        len > sizeof(a->store) - a->used)
        abort();
    a->argv[a->argc++] = memcpy(a->store + a->used, s, len);
    a->argv[a->argc] = NULL;
    a->used += len;
}
