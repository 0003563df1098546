/*
 * vec.h — the forward pass's loops outside the matrix kernels: attention over the KV cache
 * (q.k, softmax, the weighted sum of the values) and SwiGLU, with a scalar path and an
 * AVX-512 path that give the same bits.
 *
 * The arithmetic is IEEE double with a fixed order (llama.c says why): q.k accumulates
 * element i in lane i % OCTO_VEC_DOT_LANES, then folds the lanes pairwise (lane l += lane
 * l + s for s = 4, 2, 1); the softmax sum and every value sum run in position order; exp is
 * octo_detmath_exp's. A vector path only runs those same operations side by side, so the
 * result never depends on the path; tests/unit/infer/test_vec.c compares them bit for bit.
 *
 * Pure: no allocation, no state apart from quant.c's cached CPU answer.
 */
#ifndef OCTO_INFER_VEC_H
#define OCTO_INFER_VEC_H

#include "infer/quant.h"

#include <stddef.h>

#define OCTO_VEC_DOT_LANES 8

/* One query's attention over positions 0..n_pos-1 for heads [h0, h1). */
struct octo_vec_att {
    const float *q;     /* the query: hd floats per head */
    const float *k, *v; /* the layer's cache: position t's row at t * kv */
    size_t kv;          /* floats per cache row (hd per kv head) */
    size_t hd;          /* floats per head */
    size_t group;       /* query heads per kv head */
    size_t h0, h1;      /* the heads to compute */
    size_t n_pos;       /* positions, >= 1 */
    double scale;       /* score = (float)(q.k * scale) */
    float *att;         /* head h's n_pos scores, then weights, at att + h * att_stride */
    size_t att_stride;  /* >= n_pos */
    double *acc;        /* head h's hd value sums at acc + h * hd */
    double *sum;        /* head h's softmax sum at sum[h] */
    float *out;         /* head h's output at out + h * hd: acc / sum */
};

struct octo_vec_ops {
    enum octo_quant_isa isa; /* the path these functions take */
    void (*attend)(const struct octo_vec_att *a);
    /* gate[i] = (float)(g / (1 + exp(-g)) * up[i]) with g = gate[i], in double, i < n */
    void (*swiglu)(float *gate, const float *up, size_t n);
};

/* The functions for `isa`: its own where this file has them (AVX-512 paths) and the CPU runs
 * them, else the scalar ones. */
const struct octo_vec_ops *octo_vec_ops_for(enum octo_quant_isa isa);

/* q . k over n elements in the lane order above. */
double octo_vec_dot(const float *q, const float *k, size_t n);

#endif
