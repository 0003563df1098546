/*
 * bench_quant.c — the Q8_0 / Q4_0 matrix-vector kernels (infer/quant.h) on the matrix shapes of
 * TinyLlama-1.1B and Qwen2.5-0.5B, one thread, every ISA path this CPU has, both modes.
 *
 * Each kernel figure is GB/s of weight bytes (rows x row_size / time per matvec; the shape's
 * rows x cols gives the time) and carries, measured in the same run:
 *   - bound:  this core's streaming read bandwidth (octo_bench_read_bandwidth(1): wide loads,
 *                 several prefetched streams, best of 5) — the best any kernel can do on
 *                 matrices that come from memory, as they do when a model is decoded;
 *   - before: the previous kernel (the one-row-at-a-time AVX-512 path, still selectable
 *                 as "avx512") on the same matrices and mode.
 * matmul: octo_quant_matmul with MATMUL_VEC vectors (prompt processing) on the best path, cold,
 * as effective GB/s (weight bytes x vectors / time) with "per_vector_speedup" over as many
 * matvecs on the same path.
 * "cold" rotates through a 768 MiB pool of distinct matrices (more than the last-level cache,
 * so every matvec reads memory, as decoding does); "hot" repeats one matrix (cache-resident:
 * the kernel's compute speed). --quick: two shapes, fewer measurements.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/rng.h"
#include "bench.h"
#include "infer/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_BYTES ((size_t)768 << 20)
#define MATMUL_VEC 32

struct shape {
    const char *name;
    size_t rows;
    size_t cols;
};

static const struct shape SHAPES[] = {
    {"tinyllama.attn_q", 2048, 2048},   {"tinyllama.ffn_up", 5632, 2048},
    {"tinyllama.ffn_down", 2048, 5632}, {"qwen05b.attn_q", 896, 896},
    {"qwen05b.ffn_up", 4864, 896},      {"qwen05b.ffn_down", 896, 4864},
};

static const size_t QUICK_SHAPES[] = {1, 5};

struct run {
    enum octo_quant_isa isa;
    enum octo_quant_mode mode;
    struct octo_quant_matrix *mats; /* n_mats matrices over distinct memory */
    size_t n_mats;
    size_t next;
    const struct octo_q8_0_block *xq;
    float *y;
    size_t n_vec; /* vectors per call, one after another in xq and y */
};

/* n_vec matvecs (matmul == false) or one matmul over n_vec vectors, per iteration. */
static void run_vectors(struct run *r, uint64_t iters, bool matmul)
{
    for (uint64_t i = 0; i < iters; i++) {
        const struct octo_quant_matrix *m = &r->mats[r->next];
        r->next = (r->next + 1) % r->n_mats;
        size_t nb = m->cols / 32;
        if (matmul) {
            if (octo_quant_matmul_isa(r->isa, m, NULL, r->xq, r->n_vec, 0, m->rows, r->mode, r->y,
                                      m->rows) != 0)
                abort();
        } else {
            for (size_t v = 0; v < r->n_vec; v++) {
                if (octo_quant_matvec_isa(r->isa, m, NULL, r->xq + v * nb, 0, m->rows, r->mode,
                                          r->y + v * m->rows) != 0)
                    abort();
            }
        }
        octo_bench_sink(r->y, m->rows * r->n_vec * sizeof(float));
    }
}

static void run_matmul(void *ctx, uint64_t iters)
{
    run_vectors(ctx, iters, true);
}

static void run_matvecs(void *ctx, uint64_t iters)
{
    run_vectors(ctx, iters, false);
}

/* Random weight bytes with small finite fp16 scales in every block. */
static void fill_random(uint8_t *p, size_t len, enum octo_quant_type type, uint64_t seed)
{
    struct octo_rng rng;
    octo_rng_init(&rng, seed);
    octo_rng_fill(&rng, p, len);
    size_t bs =
        type == OCTO_QUANT_Q8_0 ? sizeof(struct octo_q8_0_block) : sizeof(struct octo_q4_0_block);
    for (size_t off = 0; off + bs <= len; off += bs) {
        /* exponent 2^-10 .. 2^-7, random mantissa and sign */
        uint16_t h = (uint16_t)((octo_rng_next(&rng) & 0x83ffu) | ((uint32_t)(5 + off % 4) << 10));
        memcpy(p + off, &h, 2);
    }
}

/* One shape's matrices over the pool (n_cold distinct ones of `bytes` each), n_vec random
 * activation vectors in [-1, 1) as Q8_0 blocks, one after another, and room for their outputs. */
struct setup {
    struct octo_quant_matrix *mats;
    size_t n_cold;
    size_t bytes;
    struct octo_q8_0_block *xq;
    float *y;
};

/* false when the shape does not fit the type (nothing allocated); aborts when out of memory. */
static bool setup_init(struct setup *st, const struct shape *sh, enum octo_quant_type type,
                       uint8_t *pool, size_t n_vec, uint64_t seed)
{
    size_t rs = 0;
    if (octo_quant_row_size(type, sh->cols, &rs) != 0)
        return false;
    size_t nb = sh->cols / 32;
    st->bytes = sh->rows * rs;
    st->n_cold = POOL_BYTES / st->bytes;
    st->mats = octo_calloc(st->n_cold, sizeof(*st->mats));
    st->xq = octo_malloc(n_vec * nb * sizeof(*st->xq));
    st->y = octo_malloc(n_vec * sh->rows * sizeof(float));
    float *x = octo_malloc(sh->cols * sizeof(float));
    if (st->mats == NULL || st->xq == NULL || st->y == NULL || x == NULL)
        abort();
    struct octo_rng rng;
    octo_rng_init(&rng, seed);
    for (size_t v = 0; v < n_vec; v++) {
        for (size_t i = 0; i < sh->cols; i++)
            x[i] = (float)(octo_rng_next(&rng) >> 40) * 0x1p-23f - 1.0f;
        if (octo_quant_act_q8_0(x, sh->cols, st->xq + v * nb, nb) != 0)
            abort();
    }
    octo_free(x);
    for (size_t i = 0; i < st->n_cold; i++) {
        if (octo_quant_matrix_init(&st->mats[i], type, pool + i * st->bytes, st->bytes, sh->rows,
                                   sh->cols) != 0)
            abort();
    }
    return true;
}

static void setup_deinit(struct setup *st)
{
    octo_free(st->mats);
    octo_free(st->xq);
    octo_free(st->y);
}

static const char *type_name(enum octo_quant_type t)
{
    return t == OCTO_QUANT_Q8_0 ? "q8_0" : "q4_0";
}

/* Measures one (isa, mode) over the matrices; returns GB/s of weight bytes. */
static double measure(const struct octo_bench *b, struct run *r, enum octo_quant_isa isa,
                      enum octo_quant_mode mode)
{
    r->isa = isa;
    r->mode = mode;
    double ns = octo_bench_measure(b, run_matvecs, r);
    const struct octo_quant_matrix *m = &r->mats[0];
    return (double)(m->rows * m->row_size) / ns;
}

static void bench_shape(const struct octo_bench *b, const struct shape *sh,
                        enum octo_quant_type type, uint8_t *pool, double bw)
{
    struct setup st;
    if (!setup_init(&st, sh, type, pool, 1, 7))
        return;
    bool have_before = octo_quant_isa_available(OCTO_QUANT_ISA_AVX512);
    for (int cold = 1; cold >= 0; cold--) {
        struct run r = {
            .mats = st.mats, .n_mats = cold ? st.n_cold : 1, .xq = st.xq, .y = st.y, .n_vec = 1};
        for (int mode = 0; mode < 2; mode++) {
            enum octo_quant_mode md = (enum octo_quant_mode)mode;
            double before = have_before ? measure(b, &r, OCTO_QUANT_ISA_AVX512, md) : 0.0;
            for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
                enum octo_quant_isa ia = (enum octo_quant_isa)isa;
                if (ia == OCTO_QUANT_ISA_SCALAR || !octo_quant_isa_available(ia))
                    continue;
                double gbs = ia == OCTO_QUANT_ISA_AVX512 ? before : measure(b, &r, ia, md);
                char metric[64], params[200];
                snprintf(metric, sizeof(metric), "%s_%s", type_name(type), cold ? "cold" : "hot");
                snprintf(params, sizeof(params),
                         "\"shape\":\"%s\",\"isa\":\"%s\",\"mode\":\"%s\",\"before\":%.2f,"
                         "\"bound\":%.2f",
                         sh->name, octo_quant_isa_name(ia), md == OCTO_QUANT_FAST ? "fast" : "det",
                         before, bw / 1e9);
                octo_bench_report(b, metric, gbs, "GB/s", params);
            }
        }
    }
    setup_deinit(&st);
}

/* MATMUL_VEC vectors through one matrix on the best path, cold: matmul against as many matvecs. */
static void bench_matmul(const struct octo_bench *b, const struct shape *sh,
                         enum octo_quant_type type, uint8_t *pool)
{
    struct setup st;
    if (!setup_init(&st, sh, type, pool, MATMUL_VEC, 9))
        return;
    enum octo_quant_isa isa = octo_quant_isa_best();
    for (int mode = 0; mode < 2; mode++) {
        struct run r = {.isa = isa,
                        .mode = (enum octo_quant_mode)mode,
                        .mats = st.mats,
                        .n_mats = st.n_cold,
                        .xq = st.xq,
                        .y = st.y,
                        .n_vec = MATMUL_VEC};
        double ns_mm = octo_bench_measure(b, run_matmul, &r);
        double ns_mv = octo_bench_measure(b, run_matvecs, &r);
        char metric[64], params[200];
        snprintf(metric, sizeof(metric), "%s_matmul%d", type_name(type), MATMUL_VEC);
        snprintf(params, sizeof(params),
                 "\"shape\":\"%s\",\"isa\":\"%s\",\"mode\":\"%s\",\"per_vector_speedup\":%.2f",
                 sh->name, octo_quant_isa_name(isa), mode ? "det" : "fast", ns_mv / ns_mm);
        octo_bench_report(b, metric, (double)(st.bytes * MATMUL_VEC) / ns_mm, "GB/s", params);
    }
    setup_deinit(&st);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "quant", argc, argv);
    double bw = octo_bench_read_bandwidth(1);
    char params[96];
    snprintf(params, sizeof(params), "\"best_isa\":\"%s\"",
             octo_quant_isa_name(octo_quant_isa_best()));
    octo_bench_report(&b, "read_bandwidth", bw / 1e9, "GB/s", params);
    uint8_t *pool = octo_malloc(POOL_BYTES);
    if (pool == NULL) {
        fprintf(stderr, "bench_quant: cannot allocate the matrix pool\n");
        return 0;
    }
    static const enum octo_quant_type types[] = {OCTO_QUANT_Q8_0, OCTO_QUANT_Q4_0};
    for (size_t t = 0; t < 2; t++) {
        fill_random(pool, POOL_BYTES, types[t], 11u + t);
        size_t n = b.quick ? sizeof(QUICK_SHAPES) / sizeof(QUICK_SHAPES[0])
                           : sizeof(SHAPES) / sizeof(SHAPES[0]);
        for (size_t i = 0; i < n; i++)
            bench_shape(&b, &SHAPES[b.quick ? QUICK_SHAPES[i] : i], types[t], pool, bw);
        for (size_t i = 0; i < n; i++)
            bench_matmul(&b, &SHAPES[b.quick ? QUICK_SHAPES[i] : i], types[t], pool);
    }
    octo_free(pool);
    return 0;
}
