/*
 * vec.c — attention over the KV cache and SwiGLU, scalar and AVX-512 (see vec.h).
 *
 * Attention walks the cache position by position across the heads of its range (one
 * contiguous stretch of a cache row per position) rather than head by head, which would read
 * a few lines every kv floats, a stride the hardware prefetchers do not follow; every sum
 * still runs in position order.
 *
 * The AVX-512 path holds eight doubles per vector. q.k: the eight lanes of a vector are the
 * eight dot lanes; the fold (4, 2, 1) is two half-vector adds and one scalar add. Softmax and
 * SwiGLU take exp eight at a time (exp8): octo_detmath_exp's reduction and polynomial, lane by
 * lane the same operations (the constants come from detmath_exp.h); lanes outside the range
 * where 2^k is built from its bits (and NaN, the infinities) are recomputed by the scalar
 * function. The value sums are elementwise.
 * All of it is plain multiplies and adds (no FMA: src/infer is built with -ffp-contract=off and
 * the intrinsics used are separate), so each lane rounds as the scalar code does.
 */
#include "infer/vec.h"

#include "infer/detmath.h"
#include "infer/detmath_exp.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#define OCTO_VEC_X86 1
#include <immintrin.h>
#define TARGET_AVX512 __attribute__((target("avx512f,avx2")))
#else
#define OCTO_VEC_X86 0
#endif

#define L OCTO_VEC_DOT_LANES

double octo_vec_dot(const float *q, const float *k, size_t n)
{
    double a[L] = {0};
    size_t i = 0;
    for (; i + L <= n; i += L)
        for (size_t l = 0; l < L; l++)
            a[l] += (double)q[i + l] * (double)k[i + l];
    for (; i < n; i++)
        a[i % L] += (double)q[i] * (double)k[i];
    for (size_t s = L / 2; s > 0; s /= 2)
        for (size_t l = 0; l < s; l++)
            a[l] += a[l + s];
    return a[0];
}

/* ---- scalar ---------------------------------------------------------------------------- */

typedef double (*dot_fn)(const float *q, const float *k, size_t n);

/* The scores of every head and position with `dot` (inlined into each path, so the call is
 * direct). */
static inline __attribute__((always_inline)) void scores_with(const struct octo_vec_att *a,
                                                              dot_fn dot)
{
    for (size_t t = 0; t < a->n_pos; t++) {
        const float *kt = a->k + t * a->kv;
        for (size_t h = a->h0; h < a->h1; h++)
            a->att[h * a->att_stride + t] =
                (float)(dot(a->q + h * a->hd, kt + (h / a->group) * a->hd, a->hd) * a->scale);
    }
}

/* The largest score of a head (NaN scores are passed over, as the comparison does). */
static double max_score(const float *att, size_t n)
{
    double max = -(double)INFINITY;
    for (size_t t = 0; t < n; t++)
        max = (double)att[t] > max ? (double)att[t] : max;
    return max;
}

static void softmax_scalar(const struct octo_vec_att *a)
{
    for (size_t h = a->h0; h < a->h1; h++) {
        float *att = a->att + h * a->att_stride;
        double max = max_score(att, a->n_pos), sum = 0.0;
        for (size_t t = 0; t < a->n_pos; t++) {
            double e = octo_detmath_exp((double)att[t] - max);
            att[t] = (float)e;
            sum += e;
        }
        a->sum[h] = sum;
    }
}

/* acc[i] += w * v[i] and out[i] = acc[i] / sum, i < n */
typedef void (*axpy_fn)(double *acc, double w, const float *v, size_t n);
typedef void (*div_fn)(float *out, const double *acc, double sum, size_t n);

static void axpy_scalar(double *acc, double w, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acc[i] += w * (double)v[i];
}

static void div_scalar(float *out, const double *acc, double sum, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(acc[i] / sum);
}

/* The weighted sums of the values, position by position, then each head's division by its
 * softmax sum (inlined into each path, as scores_with). */
static inline __attribute__((always_inline)) void values_with(const struct octo_vec_att *a,
                                                              axpy_fn axpy, div_fn div)
{
    size_t hd = a->hd;
    memset(a->acc + a->h0 * hd, 0, (a->h1 - a->h0) * hd * sizeof(double));
    for (size_t t = 0; t < a->n_pos; t++) {
        const float *vt = a->v + t * a->kv;
        for (size_t h = a->h0; h < a->h1; h++)
            axpy(a->acc + h * hd, (double)a->att[h * a->att_stride + t], vt + (h / a->group) * hd,
                 hd);
    }
    for (size_t h = a->h0; h < a->h1; h++)
        div(a->out + h * hd, a->acc + h * hd, a->sum[h], hd);
}

static void attend_scalar(const struct octo_vec_att *a)
{
    scores_with(a, octo_vec_dot);
    softmax_scalar(a);
    values_with(a, axpy_scalar, div_scalar);
}

static void swiglu_scalar(float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double g = (double)gate[i];
        gate[i] = (float)(g / (1.0 + octo_detmath_exp(-g)) * (double)up[i]);
    }
}

/* ---- AVX-512 --------------------------------------------------------------------------- */

#if OCTO_VEC_X86

/* octo_detmath_exp of eight doubles, lane by lane the same operations (see the top). */
TARGET_AVX512 static __m512d exp8(__m512d x)
{
    __mmask8 ok = _mm512_cmp_pd_mask(x, _mm512_set1_pd(OCTO_DETMATH_FAST_LO), _CMP_GE_OQ) &
                  _mm512_cmp_pd_mask(x, _mm512_set1_pd(OCTO_DETMATH_FAST_HI), _CMP_LE_OQ);
    __m512d xs = _mm512_maskz_mov_pd(ok, x);
    __m512d t = _mm512_mul_pd(xs, _mm512_set1_pd(OCTO_DETMATH_INV_LN2));
    __m512d f = _mm512_roundscale_pd(_mm512_add_pd(_mm512_abs_pd(t), _mm512_set1_pd(0.5)),
                                     _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    /* k = -f where t < 0 (f's sign bit set: f >= 0), as round_half_away gives */
    __mmask8 neg = _mm512_cmp_pd_mask(t, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d k = _mm512_castsi512_pd(_mm512_mask_or_epi64(
        _mm512_castpd_si512(f), neg, _mm512_castpd_si512(f), _mm512_set1_epi64(INT64_MIN)));
    __m512d r =
        _mm512_sub_pd(_mm512_sub_pd(xs, _mm512_mul_pd(k, _mm512_set1_pd(OCTO_DETMATH_LN2_HI))),
                      _mm512_mul_pd(k, _mm512_set1_pd(OCTO_DETMATH_LN2_LO)));
    __m512d p = _mm512_set1_pd(OCTO_DETMATH_EXP_C13);
    for (size_t i = 0; i < OCTO_DETMATH_EXP_NCOEF; i++)
        p = _mm512_add_pd(_mm512_mul_pd(p, r), _mm512_set1_pd(OCTO_DETMATH_EXP_COEF[i]));
    /* 2^k from its bits: k is in [OCTO_DETMATH_K_MIN, OCTO_DETMATH_K_MAX] on the ok lanes */
    __m512i ki = _mm512_cvtepi32_epi64(_mm512_cvttpd_epi32(k));
    __m512i e = _mm512_slli_epi64(_mm512_add_epi64(ki, _mm512_set1_epi64(1023)), 52);
    __m512d y = _mm512_mul_pd(p, _mm512_castsi512_pd(e));
    if (ok != 0xff) {
        double xv[8], yv[8];
        _mm512_storeu_pd(xv, x);
        _mm512_storeu_pd(yv, y);
        for (int l = 0; l < 8; l++)
            if (!(ok & (1u << l)))
                yv[l] = octo_detmath_exp(xv[l]);
        y = _mm512_loadu_pd(yv);
    }
    return y;
}

/* lanes 0..7 folded as octo_vec_dot does: l += l + 4, l += l + 2, 0 += 1 */
TARGET_AVX512 static double fold8(__m512d a)
{
    __m256d a4 = _mm256_add_pd(_mm512_castpd512_pd256(a), _mm512_extractf64x4_pd(a, 1));
    __m128d a2 = _mm_add_pd(_mm256_castpd256_pd128(a4), _mm256_extractf128_pd(a4, 1));
    return _mm_cvtsd_f64(_mm_add_sd(a2, _mm_unpackhi_pd(a2, a2)));
}

TARGET_AVX512 static double dot_avx512(const float *q, const float *k, size_t n)
{
    __m512d acc = _mm512_setzero_pd();
    size_t i = 0;
    for (; i + L <= n; i += L)
        acc = _mm512_add_pd(acc, _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(q + i)),
                                               _mm512_cvtps_pd(_mm256_loadu_ps(k + i))));
    if (i < n) { /* the tail into lanes 0..n-i-1 */
        double a[L];
        _mm512_storeu_pd(a, acc);
        for (; i < n; i++)
            a[i % L] += (double)q[i] * (double)k[i];
        acc = _mm512_loadu_pd(a);
    }
    return fold8(acc);
}

TARGET_AVX512 static void softmax_avx512(const struct octo_vec_att *a)
{
    for (size_t h = a->h0; h < a->h1; h++) {
        float *att = a->att + h * a->att_stride;
        double max = max_score(att, a->n_pos), sum = 0.0;
        __m512d m = _mm512_set1_pd(max);
        size_t t = 0;
        for (; t + 8 <= a->n_pos; t += 8) {
            __m512d e = exp8(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(att + t)), m));
            _mm256_storeu_ps(att + t, _mm512_cvtpd_ps(e));
            double ev[8];
            _mm512_storeu_pd(ev, e);
            for (int l = 0; l < 8; l++)
                sum += ev[l];
        }
        for (; t < a->n_pos; t++) {
            double e = octo_detmath_exp((double)att[t] - max);
            att[t] = (float)e;
            sum += e;
        }
        a->sum[h] = sum;
    }
}

TARGET_AVX512 static void axpy_avx512(double *acc, double w, const float *v, size_t n)
{
    __m512d wv = _mm512_set1_pd(w);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm512_storeu_pd(acc + i,
                         _mm512_add_pd(_mm512_loadu_pd(acc + i),
                                       _mm512_mul_pd(wv, _mm512_cvtps_pd(_mm256_loadu_ps(v + i)))));
    axpy_scalar(acc + i, w, v + i, n - i);
}

TARGET_AVX512 static void div_avx512(float *out, const double *acc, double sum, size_t n)
{
    __m512d s = _mm512_set1_pd(sum);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm512_cvtpd_ps(_mm512_div_pd(_mm512_loadu_pd(acc + i), s)));
    div_scalar(out + i, acc + i, sum, n - i);
}

TARGET_AVX512 static void attend_avx512(const struct octo_vec_att *a)
{
    scores_with(a, dot_avx512);
    softmax_avx512(a);
    values_with(a, axpy_avx512, div_avx512);
}

TARGET_AVX512 static void swiglu_avx512(float *gate, const float *up, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d g = _mm512_cvtps_pd(_mm256_loadu_ps(gate + i));
        /* -g: the sign bit flipped, as the scalar negation does (0 - g would give +0 for +0) */
        __m512d e = exp8(_mm512_castsi512_pd(
            _mm512_xor_si512(_mm512_castpd_si512(g), _mm512_set1_epi64(INT64_MIN))));
        __m512d y = _mm512_mul_pd(_mm512_div_pd(g, _mm512_add_pd(_mm512_set1_pd(1.0), e)),
                                  _mm512_cvtps_pd(_mm256_loadu_ps(up + i)));
        _mm256_storeu_ps(gate + i, _mm512_cvtpd_ps(y));
    }
    swiglu_scalar(gate + i, up + i, n - i);
}

#endif /* OCTO_VEC_X86 */

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct octo_vec_ops OPS_SCALAR = {OCTO_QUANT_ISA_SCALAR, attend_scalar, swiglu_scalar};
#if OCTO_VEC_X86
static const struct octo_vec_ops OPS_AVX512 = {OCTO_QUANT_ISA_AVX512, attend_avx512, swiglu_avx512};
#endif

const struct octo_vec_ops *octo_vec_ops_for(enum octo_quant_isa isa)
{
#if OCTO_VEC_X86
    bool avx512 = isa == OCTO_QUANT_ISA_AVX512 || isa == OCTO_QUANT_ISA_AVX512_VNNI;
    if (avx512 && octo_quant_isa_available(OCTO_QUANT_ISA_AVX512))
        return &OPS_AVX512;
#else
    (void)isa;
#endif
    return &OPS_SCALAR;
}
