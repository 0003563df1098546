/*
 * test_vec.c — attention and SwiGLU (infer/vec.h): every path gives the scalar path's bits.
 *  - attend over random queries and caches of several shapes (head sizes with and without a
 *    tail, grouped-query heads, head ranges, position counts with and without a tail), with
 *    scores spread so far that exp's edge branches (underflow, subnormal) are taken;
 *  - swiglu over values from tiny to beyond exp's range, NaN and the infinities;
 *  - the scalar attention against a plain double formula (within 1e-12), so the lane order
 *    is still a dot product and a softmax.
 * On a CPU without AVX-512 the comparison has only the scalar path and says so.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/rng.h"
#include "infer/detmath.h"
#include "infer/vec.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static float rnd(struct octo_rng *r, float span)
{
    return ((float)octo_rng_below(r, 2000001) / 1000000.0f - 1.0f) * span;
}

static bool same_bits(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

struct att_case {
    size_t hd, n_head, n_kv, n_pos, h0, h1;
    float span; /* query magnitude: large values push scores far apart */
};

/* Runs one case on `ops`, into out (n_head * hd floats) and sum (n_head doubles). */
static void run_att(const struct octo_vec_ops *ops, const struct att_case *c, const float *q,
                    const float *k, const float *v, float *out, double *sum)
{
    size_t kv = c->hd * c->n_kv;
    float *att = octo_calloc(c->n_head * c->n_pos, sizeof(float));
    double *acc = octo_calloc(c->n_head * c->hd, sizeof(double));
    OCTO_ASSERT(att != NULL && acc != NULL);
    struct octo_vec_att a = {.q = q,
                             .k = k,
                             .v = v,
                             .kv = kv,
                             .hd = c->hd,
                             .group = c->n_head / c->n_kv,
                             .h0 = c->h0,
                             .h1 = c->h1,
                             .n_pos = c->n_pos,
                             .scale = 1.0 / sqrt((double)c->hd),
                             .att = att,
                             .att_stride = c->n_pos,
                             .acc = acc,
                             .sum = sum,
                             .out = out};
    ops->attend(&a);
    octo_free(att);
    octo_free(acc);
}

static void test_attend_paths(void)
{
    static const struct att_case cases[] = {
        {64, 12, 12, 1, 0, 12, 1.0f}, {64, 12, 12, 97, 0, 12, 1.0f}, {64, 32, 4, 40, 5, 29, 1.0f},
        {72, 4, 2, 33, 0, 4, 2.0f},   {6, 3, 1, 9, 1, 3, 1.0f},      {128, 14, 2, 64, 0, 14, 0.5f},
        {64, 8, 8, 50, 0, 8, 400.0f}, /* scores hundreds apart: exp's underflow branches */
        {64, 8, 8, 50, 0, 8, 60.0f},  {20, 4, 2, 17, 1, 4, 1.0f}, /* a head size with a vector part
                                                                     and a tail */
    };
    const struct octo_vec_ops *scalar = octo_vec_ops_for(OCTO_QUANT_ISA_SCALAR);
    const struct octo_vec_ops *best = octo_vec_ops_for(octo_quant_isa_best());
    CHECK(scalar->isa == OCTO_QUANT_ISA_SCALAR);
    if (best == scalar)
        printf("  (no AVX-512 here: only the scalar path)\n");
    struct octo_rng r;
    octo_rng_init(&r, 7);
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        const struct att_case *c = &cases[ci];
        size_t kv = c->hd * c->n_kv, nq = c->hd * c->n_head;
        float *q = octo_calloc(nq, sizeof(float));
        float *k = octo_calloc(c->n_pos * kv, sizeof(float));
        float *v = octo_calloc(c->n_pos * kv, sizeof(float));
        float *o1 = octo_calloc(nq, sizeof(float)), *o2 = octo_calloc(nq, sizeof(float));
        double *s1 = octo_calloc(c->n_head, sizeof(double));
        double *s2 = octo_calloc(c->n_head, sizeof(double));
        OCTO_ASSERT(q && k && v && o1 && o2 && s1 && s2);
        for (size_t i = 0; i < nq; i++)
            q[i] = rnd(&r, c->span);
        for (size_t i = 0; i < c->n_pos * kv; i++) {
            k[i] = rnd(&r, 1.0f);
            v[i] = rnd(&r, 1.0f);
        }
        run_att(scalar, c, q, k, v, o1, s1);
        run_att(best, c, q, k, v, o2, s2);
        bool ok = same_bits(o1, o2, nq * sizeof(float)) &&
                  same_bits(s1 + c->h0, s2 + c->h0, (c->h1 - c->h0) * sizeof(double));
        /* the scalar order against the plain formula */
        double worst = 0.0;
        for (size_t h = c->h0; h < c->h1; h++) {
            const float *kh = k + (h / (c->n_head / c->n_kv)) * c->hd;
            double sc[128], max = -INFINITY, sum = 0.0;
            for (size_t t = 0; t < c->n_pos; t++) {
                double d = 0.0;
                for (size_t i = 0; i < c->hd; i++)
                    d += (double)q[h * c->hd + i] * (double)kh[t * kv + i];
                sc[t] = d / sqrt((double)c->hd);
                max = fmax(max, sc[t]);
            }
            for (size_t t = 0; t < c->n_pos; t++)
                sum += sc[t] = exp(sc[t] - max);
            for (size_t i = 0; i < c->hd; i++) {
                double y = 0.0;
                for (size_t t = 0; t < c->n_pos; t++)
                    y +=
                        sc[t] / sum * (double)(v + (h / (c->n_head / c->n_kv)) * c->hd)[t * kv + i];
                worst = fmax(worst, fabs(y - (double)o1[h * c->hd + i]));
            }
        }
        octo_free(q);
        octo_free(k);
        octo_free(v);
        octo_free(o1);
        octo_free(o2);
        octo_free(s1);
        octo_free(s2);
        if (!ok || worst > 1e-5)
            printf("  case %zu: paths %s, worst %.3g\n", ci, ok ? "equal" : "DIFFER", worst);
        CHECK(ok);
        CHECK(worst <= 1e-5); /* float scores and weights: about 1e-7 relative */
    }
}

static void test_swiglu_paths(void)
{
    enum { N = 4099 };
    float *g1 = octo_calloc(N, sizeof(float)), *g2 = octo_calloc(N, sizeof(float));
    float *up = octo_calloc(N, sizeof(float));
    OCTO_ASSERT(g1 && g2 && up);
    struct octo_rng r;
    octo_rng_init(&r, 11);
    static const float special[] = {0.0f,      -0.0f,    1e-30f, -1e-30f, 707.9f, -707.9f,
                                    708.1f,    -708.1f,  709.5f, -709.5f, 745.2f, -745.2f,
                                    1000.0f,   -1000.0f, 3e38f,  -3e38f,  NAN,    INFINITY,
                                    -INFINITY, 20.0f,    -20.0f, 1e-45f};
    size_t ns = sizeof(special) / sizeof(special[0]);
    for (size_t i = 0; i < N; i++) {
        float span = i % 3 == 0 ? 1.0f : i % 3 == 1 ? 30.0f : 900.0f;
        g1[i] = i < ns ? special[i] : rnd(&r, span);
        up[i] = rnd(&r, 2.0f);
    }
    memcpy(g2, g1, N * sizeof(float));
    octo_vec_ops_for(OCTO_QUANT_ISA_SCALAR)->swiglu(g1, up, N);
    octo_vec_ops_for(octo_quant_isa_best())->swiglu(g2, up, N);
    bool ok = same_bits(g1, g2, N * sizeof(float));
    /* and the scalar path is the formula */
    float want = (float)(2.0 / (1.0 + octo_detmath_exp(-2.0)) * 3.0);
    float one[1] = {2.0f}, three[1] = {3.0f};
    octo_vec_ops_for(OCTO_QUANT_ISA_SCALAR)->swiglu(one, three, 1);
    octo_free(g1);
    octo_free(g2);
    octo_free(up);
    CHECK(ok);
    CHECK(one[0] == want);
}

static void test_dot_order(void)
{
    /* lanes, then the fold: with values whose sum depends on the order, the result is the
     * fold's, not the left-to-right sum's */
    float q[10], k[10];
    for (int i = 0; i < 10; i++) {
        q[i] = 1.0f;
        k[i] = i == 0 ? 1e16f : i == 4 ? -1e16f : 1.0f;
    }
    double lanes[8] = {0};
    for (int i = 0; i < 10; i++)
        lanes[i % 8] += (double)q[i] * (double)k[i];
    for (int s = 4; s > 0; s /= 2)
        for (int l = 0; l < s; l++)
            lanes[l] += lanes[l + s];
    CHECK(octo_vec_dot(q, k, 10) == lanes[0]);
}

int main(void)
{
    OCTO_RUN(test_attend_paths);
    OCTO_RUN(test_swiglu_paths);
    OCTO_RUN(test_dot_order);
    return octo_test_finish();
}
