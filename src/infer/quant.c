/*
 * quant.c — fp16/bf16 conversion, ggml Q8_0/Q4_0 block quantization, and the matrix-vector
 * kernels (scalar, AVX2+FMA+F16C, AVX-512 F/BW/VL) in FAST and DETERMINISTIC modes.
 *
 * Design: everything is a pure function of its inputs; no allocation, no global mutable state.
 * SIMD functions carry __attribute__((target(...))) and are only called after
 * __builtin_cpu_supports has confirmed the features, so the build needs no -march flags; on
 * non-x86 targets only the scalar path is compiled.
 *
 * Determinism (see quant.h for the structure): every path computes the same integer block
 * partials (exact), the same float products d_w*d_x, the same per-lane fused multiply-adds in
 * the same order, and hands the 16 lanes to one shared reduction (reduce16). Tails that do not
 * fill a vector are finished with scalar fmaf on the stored lanes, which rounds exactly as the
 * vector FMA does. The file is compiled as ISO C (-std=c17), so GCC does not contract a*b+c
 * into FMAs behind our back (-ffp-contract=off is the ISO default).
 *
 * The integer dots use the maddubs sign trick with the *weight* as the unsigned operand
 * (|w| <= 128) and the activation as the signed one (|x| <= 127 by construction of
 * octo_quant_act_q8_0), so no int16 pair sum can saturate, whatever the weight bytes are.
 */
#include "infer/quant.h"

#include "base/assert.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define OCTO_QUANT_X86 1
#include <cpuid.h>
#include <immintrin.h>
#define TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#else
#define OCTO_QUANT_X86 0
#endif

#define LANES 16
#define QK OCTO_QUANT_BLOCK

/* ---------------------------------------------------------------------------------------- */
/* Scalar conversions                                                                        */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

float octo_fp16_to_fp32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f && mant == 0)
        return bits_f32(sign | 0x7f800000u);
    if (exp == 0x1f) /* NaN: quieted, payload moved to the top of the mantissa (as F16C does) */
        return bits_f32(sign | 0x7fc00000u | (mant << 13));
    if (exp != 0)
        return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0)
        return bits_f32(sign);
    /* subnormal: value = mant * 2^-24; normalise so the leading 1 lands on bit 10 */
    uint32_t e = 113; /* biased float exponent of 2^-14 */
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        e--;
    }
    return bits_f32(sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

uint16_t octo_fp32_to_fp16(float f)
{
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) /* NaN: quiet it, keep the top payload bits */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) /* >= 65520 rounds to infinity (65504 is the largest finite) */
        return (uint16_t)(sign | 0x7c00u);
    if (a >= 0x38800000u) { /* normal half: rebias, round to nearest even on bit 13 */
        uint32_t odd = (a >> 13) & 1u;
        a = a - 0x38000000u + 0x0fffu + odd;
        return (uint16_t)(sign | (a >> 13));
    }
    uint32_t e = a >> 23;
    if (e < 102) /* below 2^-25: rounds to zero */
        return (uint16_t)sign;
    /* subnormal half: value / 2^-24 = m >> (126 - e), rounded to nearest even */
    uint32_t m = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e; /* 14..24 */
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u)))
        q++;
    return (uint16_t)(sign | q); /* q == 0x400 is the smallest normal, encoded correctly */
}

float octo_bf16_to_fp32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}

/* ---------------------------------------------------------------------------------------- */
/* Sizes and quantization                                                                    */

int octo_quant_row_size(enum octo_quant_type type, size_t cols, size_t *out)
{
    OCTO_ASSERT(out != NULL);
    size_t size;
    if (cols > OCTO_QUANT_COLS_MAX)
        return OCTO_ETOOBIG;
    switch (type) {
    case OCTO_QUANT_F32:
        size = cols * 4;
        break;
    case OCTO_QUANT_F16:
    case OCTO_QUANT_BF16:
        size = cols * 2;
        break;
    case OCTO_QUANT_Q8_0:
        size = cols / QK * sizeof(struct octo_q8_0_block);
        break;
    case OCTO_QUANT_Q4_0:
        size = cols / QK * sizeof(struct octo_q4_0_block);
        break;
    default:
        return OCTO_EUNSUPPORTED;
    }
    if (cols == 0)
        return OCTO_EINVAL;
    if ((type == OCTO_QUANT_Q8_0 || type == OCTO_QUANT_Q4_0) && cols % QK != 0)
        return OCTO_EINVAL;
    *out = size;
    return 0;
}

static bool all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return false;
    }
    return true;
}

/* A rounded value in int8 range, else 0: only reached when d underflowed so far that 1/d is
 * infinite (then the stored fp16 d is 0 and the block decodes to zeros anyway); 0 is what
 * ggml's cast produces on x86, and it keeps the conversion free of undefined behaviour. */
static int8_t to_i8(float v, float lo, float hi)
{
    if (!(v >= lo && v <= hi))
        return 0;
    return (int8_t)v;
}

static void quantize_block_q8_0(const float *x, struct octo_q8_0_block *y)
{
    float amax = 0.0f;
    for (int j = 0; j < QK; j++) {
        float v = fabsf(x[j]);
        amax = v > amax ? v : amax;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y->d = octo_fp32_to_fp16(d);
    for (int j = 0; j < QK; j++)
        y->qs[j] = to_i8(roundf(x[j] * id), -127.0f, 127.0f);
}

static void quantize_block_q4_0(const float *x, struct octo_q4_0_block *y)
{
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y->d = octo_fp32_to_fp16(d);
    for (int j = 0; j < QK / 2; j++) {
        int8_t q0 = to_i8(x[j] * id + 8.5f, -128.0f, 127.0f);
        int8_t q1 = to_i8(x[j + QK / 2] * id + 8.5f, -128.0f, 127.0f);
        /* ggml: MIN(15, (int8_t)v) stored in a uint8_t nibble */
        uint8_t n0 = (uint8_t)(q0 < 15 ? q0 : 15) & 0x0fu;
        uint8_t n1 = (uint8_t)(q1 < 15 ? q1 : 15) & 0x0fu;
        y->qs[j] = (uint8_t)(n0 | (n1 << 4));
    }
}

int octo_quant_act_q8_0(const float *x, size_t n, struct octo_q8_0_block *out, size_t out_blocks)
{
    OCTO_ASSERT(x != NULL);
    OCTO_ASSERT(out != NULL || out_blocks == 0);
    size_t size;
    int rc = octo_quant_row_size(OCTO_QUANT_Q8_0, n, &size);
    if (rc < 0)
        return rc;
    if (out_blocks < n / QK)
        return OCTO_ENOSPACE;
    if (!all_finite(x, n))
        return OCTO_ERANGE;
    for (size_t b = 0; b < n / QK; b++)
        quantize_block_q8_0(x + b * QK, &out[b]);
    return 0;
}

int octo_quant_quantize_row(enum octo_quant_type type, const float *x, size_t n, void *out,
                            size_t out_len)
{
    OCTO_ASSERT(x != NULL);
    OCTO_ASSERT(out != NULL || out_len == 0);
    size_t size;
    if (type == OCTO_QUANT_BF16)
        return OCTO_EUNSUPPORTED;
    int rc = octo_quant_row_size(type, n, &size);
    if (rc < 0)
        return rc;
    if (out_len < size)
        return OCTO_ENOSPACE;
    if (size > (size_t)INT32_MAX)
        return OCTO_ETOOBIG; /* the byte count must fit the int return */
    uint8_t *o = out;
    switch (type) {
    case OCTO_QUANT_F32:
        memcpy(o, x, size);
        break;
    case OCTO_QUANT_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = octo_fp32_to_fp16(x[i]);
            memcpy(o + 2 * i, &h, 2);
        }
        break;
    case OCTO_QUANT_Q8_0:
    case OCTO_QUANT_Q4_0:
        if (!all_finite(x, n))
            return OCTO_ERANGE;
        for (size_t b = 0; b < n / QK; b++) {
            if (type == OCTO_QUANT_Q8_0) {
                struct octo_q8_0_block blk;
                quantize_block_q8_0(x + b * QK, &blk);
                memcpy(o + b * sizeof(blk), &blk, sizeof(blk));
            } else {
                struct octo_q4_0_block blk;
                quantize_block_q4_0(x + b * QK, &blk);
                memcpy(o + b * sizeof(blk), &blk, sizeof(blk));
            }
        }
        break;
    default:
        OCTO_UNREACHABLE();
    }
    return (int)size;
}

int octo_quant_dequantize_row(enum octo_quant_type type, const void *src, size_t src_len, size_t n,
                              float *y)
{
    OCTO_ASSERT(src != NULL || src_len == 0);
    OCTO_ASSERT(y != NULL);
    size_t size;
    int rc = octo_quant_row_size(type, n, &size);
    if (rc < 0)
        return rc;
    if (src_len < size)
        return OCTO_EMALFORMED;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        switch (type) {
        case OCTO_QUANT_F32:
            memcpy(&y[i], s + 4 * i, 4);
            break;
        case OCTO_QUANT_F16:
            memcpy(&h, s + 2 * i, 2);
            y[i] = octo_fp16_to_fp32(h);
            break;
        case OCTO_QUANT_BF16:
            memcpy(&h, s + 2 * i, 2);
            y[i] = octo_bf16_to_fp32(h);
            break;
        case OCTO_QUANT_Q8_0: {
            struct octo_q8_0_block blk;
            memcpy(&blk, s + (i / QK) * sizeof(blk), sizeof(blk));
            y[i] = (float)blk.qs[i % QK] * octo_fp16_to_fp32(blk.d);
            break;
        }
        case OCTO_QUANT_Q4_0: {
            struct octo_q4_0_block blk;
            memcpy(&blk, s + (i / QK) * sizeof(blk), sizeof(blk));
            size_t j = i % QK;
            int q = j < QK / 2 ? (blk.qs[j] & 0x0f) : (blk.qs[j - QK / 2] >> 4);
            y[i] = (float)(q - 8) * octo_fp16_to_fp32(blk.d);
            break;
        }
        default:
            OCTO_UNREACHABLE();
        }
    }
    return 0;
}

int octo_quant_matrix_init(struct octo_quant_matrix *m, enum octo_quant_type type, const void *data,
                           size_t data_len, size_t rows, size_t cols)
{
    OCTO_ASSERT(m != NULL);
    size_t row_size;
    memset(m, 0, sizeof(*m));
    if (type == OCTO_QUANT_BF16)
        return OCTO_EUNSUPPORTED;
    int rc = octo_quant_row_size(type, cols, &row_size);
    if (rc < 0)
        return rc;
    if (rows == 0 || data == NULL)
        return OCTO_EINVAL;
    uintptr_t align = type == OCTO_QUANT_F32 ? 4 : 2;
    if ((uintptr_t)data % align != 0)
        return OCTO_EINVAL;
    if (rows > SIZE_MAX / row_size)
        return OCTO_ETOOBIG;
    if (data_len < rows * row_size)
        return OCTO_EMALFORMED;
    m->type = type;
    m->data = data;
    m->rows = rows;
    m->cols = cols;
    m->row_size = row_size;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Scalar kernels                                                                            */

/* The fixed pairwise reduction shared by every path: 16 -> 8 -> 4 -> 2 -> 1. */
static float reduce16(float a[LANES])
{
    for (int w = LANES / 2; w >= 1; w /= 2) {
        for (int l = 0; l < w; l++)
            a[l] = a[l] + a[l + w];
    }
    return a[0];
}

/* Weight element j (0..31) of a Q4_0 block as a signed value in [-8, 7]. */
static int q4_elem(const struct octo_q4_0_block *b, int j)
{
    int q = j < QK / 2 ? (b->qs[j] & 0x0f) : (b->qs[j - QK / 2] >> 4);
    return q - 8;
}

/* The eight exact partials p[k] = sum of elements 4k..4k+3 of a block product. */
static void partials_q8(const struct octo_q8_0_block *w, const struct octo_q8_0_block *x,
                        int32_t p[8])
{
    for (int k = 0; k < 8; k++) {
        int32_t s = 0;
        for (int j = 4 * k; j < 4 * k + 4; j++)
            s += (int32_t)w->qs[j] * (int32_t)x->qs[j];
        p[k] = s;
    }
}

static void partials_q4(const struct octo_q4_0_block *w, const struct octo_q8_0_block *x,
                        int32_t p[8])
{
    for (int k = 0; k < 8; k++) {
        int32_t s = 0;
        for (int j = 4 * k; j < 4 * k + 4; j++)
            s += (int32_t)q4_elem(w, j) * (int32_t)x->qs[j];
        p[k] = s;
    }
}

static float load_f16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return octo_fp16_to_fp32(h);
}

static float dot_f32_scalar(const uint8_t *w, const void *xv, size_t n, bool det)
{
    const float *x = xv;
    float acc[LANES] = {0};
    for (size_t i = 0; i < n; i++) {
        float wi;
        memcpy(&wi, w + 4 * i, 4);
        if (det)
            acc[i % LANES] = fmaf(wi, x[i], acc[i % LANES]);
        else
            acc[i % LANES] += wi * x[i];
    }
    return reduce16(acc);
}

static float dot_f16_scalar(const uint8_t *w, const void *xv, size_t n, bool det)
{
    const float *x = xv;
    float acc[LANES] = {0};
    for (size_t i = 0; i < n; i++) {
        float wi = load_f16(w + 2 * i);
        if (det)
            acc[i % LANES] = fmaf(wi, x[i], acc[i % LANES]);
        else
            acc[i % LANES] += wi * x[i];
    }
    return reduce16(acc);
}

/* Adds block b's eight exact partials scaled by s: deterministic mode into lanes
 * (b mod 2) * 8 + k with fmaf, fast mode into one running sum. */
static void add_block(float acc[LANES], float *sum, const int32_t p[8], float s, size_t b, bool det)
{
    if (det) {
        float *a = acc + (b % 2) * 8;
        for (int k = 0; k < 8; k++)
            a[k] = fmaf((float)p[k], s, a[k]);
        return;
    }
    int32_t t = 0;
    for (int k = 0; k < 8; k++)
        t += p[k];
    *sum += (float)t * s;
}

/* Q8_0 or Q4_0 weights (q4) against Q8_0 activations: exact per-block partials, combined by
 * add_block. */
static float dot_qx_scalar(const uint8_t *w, const void *xv, size_t n, bool det, bool q4)
{
    const struct octo_q8_0_block *x = xv;
    size_t stride = q4 ? sizeof(struct octo_q4_0_block) : sizeof(struct octo_q8_0_block);
    float acc[LANES] = {0};
    float sum = 0.0f;
    for (size_t b = 0; b < n / QK; b++) {
        int32_t p[8];
        uint16_t d;
        if (q4) {
            struct octo_q4_0_block wb;
            memcpy(&wb, w + b * stride, sizeof(wb));
            partials_q4(&wb, &x[b], p);
            d = wb.d;
        } else {
            struct octo_q8_0_block wb;
            memcpy(&wb, w + b * stride, sizeof(wb));
            partials_q8(&wb, &x[b], p);
            d = wb.d;
        }
        add_block(acc, &sum, p, octo_fp16_to_fp32(d) * octo_fp16_to_fp32(x[b].d), b, det);
    }
    return det ? reduce16(acc) : sum;
}

static float dot_q8_0_scalar(const uint8_t *w, const void *xv, size_t n, bool det)
{
    return dot_qx_scalar(w, xv, n, det, false);
}

static float dot_q4_0_scalar(const uint8_t *w, const void *xv, size_t n, bool det)
{
    return dot_qx_scalar(w, xv, n, det, true);
}

/* ---------------------------------------------------------------------------------------- */
/* AVX2 + FMA + F16C kernels                                                                 */

#if OCTO_QUANT_X86

TARGET_AVX2 static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Finishes a deterministic F32/F16 dot: lanes stored, tail elements i >= n16 folded into lane
 * i % 16 with fmaf (the same rounding as the vector FMA), then the shared reduction. */
TARGET_AVX2 static float det_tail_f32(float a[LANES], const uint8_t *w, const float *x, size_t n16,
                                      size_t n, bool f16)
{
    for (size_t i = n16; i < n; i++) {
        float wi;
        if (f16) {
            uint16_t h;
            memcpy(&h, w + 2 * i, 2);
            wi = _cvtsh_ss(h);
        } else {
            memcpy(&wi, w + 4 * i, 4);
        }
        a[i % LANES] = fmaf(wi, x[i], a[i % LANES]);
    }
    return reduce16(a);
}

TARGET_AVX2 static inline __m256 load8_w(const uint8_t *w, size_t i, bool f16)
{
    if (f16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(w + 2 * i)));
    return _mm256_loadu_ps((const float *)(const void *)(w + 4 * i));
}

TARGET_AVX2 static float dot_fx_avx2(const uint8_t *w, const float *x, size_t n, bool det, bool f16)
{
    size_t n16 = n - n % LANES;
    if (det) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        for (size_t i = 0; i < n16; i += LANES) {
            a0 = _mm256_fmadd_ps(load8_w(w, i, f16), _mm256_loadu_ps(x + i), a0);
            a1 = _mm256_fmadd_ps(load8_w(w, i + 8, f16), _mm256_loadu_ps(x + i + 8), a1);
        }
        float a[LANES];
        _mm256_storeu_ps(a, a0);
        _mm256_storeu_ps(a + 8, a1);
        return det_tail_f32(a, w, x, n16, n, f16);
    }
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load8_w(w, i, f16), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(load8_w(w, i + 8, f16), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(load8_w(w, i + 16, f16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(load8_w(w, i + 24, f16), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(load8_w(w, i, f16), _mm256_loadu_ps(x + i), a0);
    float sum = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) {
        float wi;
        if (f16) {
            uint16_t h;
            memcpy(&h, w + 2 * i, 2);
            wi = _cvtsh_ss(h);
        } else {
            memcpy(&wi, w + 4 * i, 4);
        }
        sum = fmaf(wi, x[i], sum);
    }
    return sum;
}

TARGET_AVX2 static float dot_f32_avx2(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_fx_avx2(w, x, n, det, false);
}

TARGET_AVX2 static float dot_f16_avx2(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_fx_avx2(w, x, n, det, true);
}

/* Eight int32 partials (lane k = elements 4k..4k+3) of 32 signed weights times 32 activations;
 * exact for any weight byte and activations in [-127, 127]. */
TARGET_AVX2 static inline __m256i partials_avx2(__m256i w, __m256i x)
{
    __m256i aw = _mm256_sign_epi8(w, w);
    __m256i sx = _mm256_sign_epi8(x, w);
    __m256i p16 = _mm256_maddubs_epi16(aw, sx);
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

TARGET_AVX2 static inline __m256i load_q4_avx2(const uint8_t *qs)
{
    __m128i q = _mm_loadu_si128((const __m128i *)(const void *)qs);
    __m128i m = _mm_set1_epi8(0x0f);
    __m128i lo = _mm_and_si128(q, m);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
    return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

TARGET_AVX2 static inline __m256i block_w_avx2(const uint8_t *w, size_t b, bool q4)
{
    if (q4)
        return load_q4_avx2(w + b * sizeof(struct octo_q4_0_block) + 2);
    return _mm256_loadu_si256(
        (const __m256i *)(const void *)(w + b * sizeof(struct octo_q8_0_block) + 2));
}

TARGET_AVX2 static inline float block_scale(const uint8_t *w, size_t b, bool q4,
                                            const struct octo_q8_0_block *x)
{
    size_t bs = q4 ? sizeof(struct octo_q4_0_block) : sizeof(struct octo_q8_0_block);
    uint16_t hw;
    memcpy(&hw, w + b * bs, 2);
    return _cvtsh_ss(hw) * _cvtsh_ss(x[b].d);
}

TARGET_AVX2 static inline __m256i block_x_avx2(const struct octo_q8_0_block *x, size_t b)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)x[b].qs);
}

/* Q8_0/Q4_0 on AVX2: lanes 0-7 (even blocks) in a0, lanes 8-15 (odd blocks) in a1. FAST mode
 * uses the same structure (it is as fast as any other order) with a tree horizontal sum. */
TARGET_AVX2 static float dot_qx_avx2(const uint8_t *w, const struct octo_q8_0_block *x, size_t n,
                                     bool det, bool q4)
{
    size_t nb = n / QK;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m256i p0 = partials_avx2(block_w_avx2(w, b, q4), block_x_avx2(x, b));
        __m256i p1 = partials_avx2(block_w_avx2(w, b + 1, q4), block_x_avx2(x, b + 1));
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(block_scale(w, b, q4, x)), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(block_scale(w, b + 1, q4, x)),
                             a1);
    }
    if (b < nb) {
        __m256i p0 = partials_avx2(block_w_avx2(w, b, q4), block_x_avx2(x, b));
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(block_scale(w, b, q4, x)), a0);
    }
    if (!det)
        return hsum256(_mm256_add_ps(a0, a1));
    float a[LANES];
    _mm256_storeu_ps(a, a0);
    _mm256_storeu_ps(a + 8, a1);
    return reduce16(a);
}

TARGET_AVX2 static float dot_q8_0_avx2(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_qx_avx2(w, x, n, det, false);
}

TARGET_AVX2 static float dot_q4_0_avx2(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_qx_avx2(w, x, n, det, true);
}

/* ---------------------------------------------------------------------------------------- */
/* AVX-512 kernels                                                                           */

TARGET_AVX512 static inline __m512 load16_w(const uint8_t *w, size_t i, bool f16)
{
    if (f16)
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(w + 2 * i)));
    return _mm512_loadu_ps((const void *)(w + 4 * i));
}

TARGET_AVX512 static float dot_fx_avx512(const uint8_t *w, const float *x, size_t n, bool det,
                                         bool f16)
{
    size_t n16 = n - n % LANES;
    if (det) {
        __m512 acc = _mm512_setzero_ps();
        for (size_t i = 0; i < n16; i += LANES)
            acc = _mm512_fmadd_ps(load16_w(w, i, f16), _mm512_loadu_ps(x + i), acc);
        float a[LANES];
        _mm512_storeu_ps(a, acc);
        return det_tail_f32(a, w, x, n16, n, f16);
    }
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(load16_w(w, i, f16), _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(load16_w(w, i + 16, f16), _mm512_loadu_ps(x + i + 16), a1);
        a2 = _mm512_fmadd_ps(load16_w(w, i + 32, f16), _mm512_loadu_ps(x + i + 32), a2);
        a3 = _mm512_fmadd_ps(load16_w(w, i + 48, f16), _mm512_loadu_ps(x + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16)
        a0 = _mm512_fmadd_ps(load16_w(w, i, f16), _mm512_loadu_ps(x + i), a0);
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        __m512 wv;
        if (f16)
            wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, w + 2 * i));
        else
            wv = _mm512_maskz_loadu_ps(k, w + 4 * i);
        a1 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(k, x + i), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

TARGET_AVX512 static float dot_f32_avx512(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_fx_avx512(w, x, n, det, false);
}

TARGET_AVX512 static float dot_f16_avx512(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_fx_avx512(w, x, n, det, true);
}

/* Sixteen int32 partials of two blocks at once: lanes 0-7 block b, 8-15 block b+1. */
TARGET_AVX512 static inline __m512i partials_avx512(__m256i w0, __m256i w1, __m256i x0, __m256i x1)
{
    __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1);
    __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(x0), x1, 1);
    __m512i aw = _mm512_abs_epi8(w);
    __mmask64 neg = _mm512_movepi8_mask(w);
    __m512i sx = _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x);
    __m512i p16 = _mm512_maddubs_epi16(aw, sx);
    return _mm512_madd_epi16(p16, _mm512_set1_epi16(1));
}

TARGET_AVX512 static float dot_qx_avx512(const uint8_t *w, const struct octo_q8_0_block *x,
                                         size_t n, bool det, bool q4)
{
    size_t nb = n / QK;
    __m512 acc = _mm512_setzero_ps();
    size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m512i p = partials_avx512(block_w_avx2(w, b, q4), block_w_avx2(w, b + 1, q4),
                                    block_x_avx2(x, b), block_x_avx2(x, b + 1));
        __m512 s =
            _mm512_mask_blend_ps((__mmask16)0xff00u, _mm512_set1_ps(block_scale(w, b, q4, x)),
                                 _mm512_set1_ps(block_scale(w, b + 1, q4, x)));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), s, acc);
    }
    float a[LANES];
    _mm512_storeu_ps(a, acc);
    if (b < nb) { /* odd last block: lanes 0-7, same FMA rounding in scalar */
        int32_t p[8];
        _mm256_storeu_si256((__m256i *)(void *)p,
                            partials_avx2(block_w_avx2(w, b, q4), block_x_avx2(x, b)));
        float s = block_scale(w, b, q4, x);
        for (int k = 0; k < 8; k++)
            a[k] = fmaf((float)p[k], s, a[k]);
    }
    if (!det) {
        float sum = 0.0f;
        for (int l = 0; l < LANES; l++)
            sum += a[l];
        return sum;
    }
    return reduce16(a);
}

TARGET_AVX512 static float dot_q8_0_avx512(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_qx_avx512(w, x, n, det, false);
}

TARGET_AVX512 static float dot_q4_0_avx512(const uint8_t *w, const void *x, size_t n, bool det)
{
    return dot_qx_avx512(w, x, n, det, true);
}

#endif /* OCTO_QUANT_X86 */

/* ---------------------------------------------------------------------------------------- */
/* Dispatch                                                                                  */

typedef float (*dot_fn)(const uint8_t *w, const void *x, size_t n, bool det);

#if OCTO_QUANT_X86
/* F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports has no "f16c". */
static bool has_f16c(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}
#endif

bool octo_quant_isa_available(enum octo_quant_isa isa)
{
    switch (isa) {
    case OCTO_QUANT_ISA_SCALAR:
        return true;
#if OCTO_QUANT_X86
    case OCTO_QUANT_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case OCTO_QUANT_ISA_AVX512:
        return octo_quant_isa_available(OCTO_QUANT_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
    default:
        return false;
    }
}

enum octo_quant_isa octo_quant_isa_best(void)
{
    if (octo_quant_isa_available(OCTO_QUANT_ISA_AVX512))
        return OCTO_QUANT_ISA_AVX512;
    if (octo_quant_isa_available(OCTO_QUANT_ISA_AVX2))
        return OCTO_QUANT_ISA_AVX2;
    return OCTO_QUANT_ISA_SCALAR;
}

const char *octo_quant_isa_name(enum octo_quant_isa isa)
{
    switch (isa) {
    case OCTO_QUANT_ISA_SCALAR:
        return "scalar";
    case OCTO_QUANT_ISA_AVX2:
        return "avx2";
    case OCTO_QUANT_ISA_AVX512:
        return "avx512";
    default:
        return "unknown";
    }
}

static dot_fn select_dot(enum octo_quant_isa isa, enum octo_quant_type type)
{
#if OCTO_QUANT_X86
    if (isa == OCTO_QUANT_ISA_AVX512) {
        switch (type) {
        case OCTO_QUANT_F32:
            return dot_f32_avx512;
        case OCTO_QUANT_F16:
            return dot_f16_avx512;
        case OCTO_QUANT_Q8_0:
            return dot_q8_0_avx512;
        case OCTO_QUANT_Q4_0:
            return dot_q4_0_avx512;
        default:
            return NULL;
        }
    }
    if (isa == OCTO_QUANT_ISA_AVX2) {
        switch (type) {
        case OCTO_QUANT_F32:
            return dot_f32_avx2;
        case OCTO_QUANT_F16:
            return dot_f16_avx2;
        case OCTO_QUANT_Q8_0:
            return dot_q8_0_avx2;
        case OCTO_QUANT_Q4_0:
            return dot_q4_0_avx2;
        default:
            return NULL;
        }
    }
#endif
    OCTO_ASSERT(isa == OCTO_QUANT_ISA_SCALAR);
    switch (type) {
    case OCTO_QUANT_F32:
        return dot_f32_scalar;
    case OCTO_QUANT_F16:
        return dot_f16_scalar;
    case OCTO_QUANT_Q8_0:
        return dot_q8_0_scalar;
    case OCTO_QUANT_Q4_0:
        return dot_q4_0_scalar;
    default:
        return NULL;
    }
}

int octo_quant_matvec_isa(enum octo_quant_isa isa, const struct octo_quant_matrix *m,
                          const float *x, const struct octo_q8_0_block *xq, size_t r0, size_t r1,
                          enum octo_quant_mode mode, float *y)
{
    OCTO_ASSERT(m != NULL);
    OCTO_ASSERT(m->data != NULL);
    OCTO_ASSERT(y != NULL);
    if (!octo_quant_isa_available(isa))
        return OCTO_EUNSUPPORTED;
    if (r0 > r1 || r1 > m->rows)
        return OCTO_EINVAL;
    bool quantized = m->type == OCTO_QUANT_Q8_0 || m->type == OCTO_QUANT_Q4_0;
    const void *operand = quantized ? (const void *)xq : (const void *)x;
    if (operand == NULL)
        return OCTO_EINVAL;
    dot_fn dot = select_dot(isa, m->type);
    OCTO_ASSERT(dot != NULL); /* octo_quant_matrix_init admits only the four types */
    bool det = mode == OCTO_QUANT_DETERMINISTIC;
    for (size_t r = r0; r < r1; r++)
        y[r] = dot(m->data + r * m->row_size, operand, m->cols, det);
    return 0;
}

int octo_quant_matvec(const struct octo_quant_matrix *m, const float *x,
                      const struct octo_q8_0_block *xq, size_t r0, size_t r1,
                      enum octo_quant_mode mode, float *y)
{
    return octo_quant_matvec_isa(octo_quant_isa_best(), m, x, xq, r0, r1, mode, y);
}
