/*
 * quant.c — fp16/bf16 conversion, ggml Q8_0/Q4_0 block quantization, and the matrix-vector
 * kernels (scalar, AVX2+FMA+F16C, AVX-VNNI, AVX-512 F/BW/VL, AVX-512 VNNI) in FAST and
 * DETERMINISTIC modes.
 *
 * Design: everything is a pure function of its inputs; no allocation; the only global state is
 * the cached answer to "which ISA paths does this CPU have" (isa_mask).
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
 * octo_quant_matmul (several vectors) runs, on the AVX-512 VNNI path, tiles of four rows by
 * four vectors that load and prepare each weight pair once for the tile; on every other path it
 * runs the matvec kernel per vector over cache-sized chunks of rows. Either way each output has
 * the bits of the matvec on that vector (same partials, scale products and per-lane FMA order).
 *
 * The integer dots use the maddubs sign trick with the *weight* as the unsigned operand
 * (|w| <= 128) and the activation as the signed one (|x| <= 127 by construction of
 * octo_quant_act_q8_0), so no int16 pair sum can saturate, whatever the weight bytes are.
 */
#include "infer/quant.h"

#include "base/assert.h"

#include <math.h>
#include <stdint.h>
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

bool octo_quant_type_is_block(enum octo_quant_type type)
{
    return type == OCTO_QUANT_Q8_0 || type == OCTO_QUANT_Q4_0;
}

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
    if (octo_quant_type_is_block(type) && cols % QK != 0)
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

#if OCTO_QUANT_X86
TARGET_AVX512 static void act_q8_0_avx512(const float *x, size_t nb, struct octo_q8_0_block *y);
#endif

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
#if OCTO_QUANT_X86
    if (octo_quant_isa_available(OCTO_QUANT_ISA_AVX512)) {
        act_q8_0_avx512(x, n / QK, out);
        return 0;
    }
#endif
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

/* Weight element j (0..31) of a Q4_0 block as a signed value in [-8, 7]. */
static int q4_elem(const struct octo_q4_0_block *b, int j)
{
    int q = j < QK / 2 ? (b->qs[j] & 0x0f) : (b->qs[j - QK / 2] >> 4);
    return q - 8;
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
    if (octo_quant_type_is_block(type)) { /* block by block: the scale converted once */
        for (size_t b = 0; b < n / QK; b++) {
            float *yb = y + b * QK;
            if (type == OCTO_QUANT_Q8_0) {
                struct octo_q8_0_block blk;
                memcpy(&blk, s + b * sizeof(blk), sizeof(blk));
                float d = octo_fp16_to_fp32(blk.d);
                for (int j = 0; j < QK; j++)
                    yb[j] = (float)blk.qs[j] * d;
            } else {
                struct octo_q4_0_block blk;
                memcpy(&blk, s + b * sizeof(blk), sizeof(blk));
                float d = octo_fp16_to_fp32(blk.d);
                for (int j = 0; j < QK; j++)
                    yb[j] = (float)q4_elem(&blk, j) * d;
            }
        }
        return 0;
    }
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

/* F32 or F16 weights (f16) against float activations: lane i % 16 accumulates element i
 * (deterministic mode with fmaf), then the shared reduction. */
static float dot_fx_scalar(const uint8_t *w, const void *xv, size_t n, bool det, bool f16)
{
    const float *x = xv;
    float acc[LANES] = {0};
    for (size_t i = 0; i < n; i++) {
        float wi;
        if (f16)
            wi = load_f16(w + 2 * i);
        else
            memcpy(&wi, w + 4 * i, 4);
        if (det)
            acc[i % LANES] = fmaf(wi, x[i], acc[i % LANES]);
        else
            acc[i % LANES] += wi * x[i];
    }
    return reduce16(acc);
}

static float dot_f32_scalar(const uint8_t *w, const void *xv, size_t n, bool det)
{
    return dot_fx_scalar(w, xv, n, det, false);
}

static float dot_f16_scalar(const uint8_t *w, const void *xv, size_t n, bool det)
{
    return dot_fx_scalar(w, xv, n, det, true);
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

/* ---------------------------------------------------------------------------------------- */
/* Multi-row Q8_0/Q4_0 kernels: AVX2, AVX-VNNI (256-bit) and AVX-512 VNNI                    */
/*                                                                                          */
/* These run NR rows per step so that every activation block is loaded (and, for Q4_0,      */
/* prepared) once for NR rows. Each row's arithmetic is the same whichever step it falls in */
/* (a group of NR or a single leftover row), so any split of the rows gives the same bits   */
/* in both modes. FAST mode uses the deterministic structure: it costs nothing extra here.  */
/*                                                                                          */
/* Q4_0 partials use the unsigned nibble q (0..15) as the u8 operand and the activation as  */
/* the s8 one: sum (q-8)*x = sum q*x - 8*sum x, where the correction -8*sum x of each group */
/* of four depends on the activation only and is computed once per block for all rows.      */
/* Q8_0 partials on AVX-512 VNNI likewise use w+128 (w ^ 0x80) as the u8 operand and the    */
/* activation as the s8 one: sum (w+128)*x - 128*sum x, the correction again per activation */
/* block, so one xor and one vpdpbusd per row (exact: |sum| <= 4*255*127).                  */

#define NR 4 /* rows per step */
/* Software prefetch distance in bytes ahead of each row (AVX-512 VNNI tiles): with four row
 * streams the hardware prefetcher alone left 15-20 % of the memory bandwidth unused. */
#define PREFETCH 512
/* The AVX-512 VNNI matvec kernel: rows per step (8 was slower: more row streams than the
 * prefetchers and fill buffers keep up with) and the prefetch hint (into L2: T1 was a few per
 * cent faster on cold matrices than T0, within the noise; NTA halved the speed). */
#define NR512 4
#define PF_HINT _MM_HINT_T1
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#define TARGET_AVXVNNI __attribute__((target("avxvnni,avx2,fma,f16c")))
#define TARGET_VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

#define Q4_BS sizeof(struct octo_q4_0_block)
#define Q8_BS sizeof(struct octo_q8_0_block)

static uint16_t load_u16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

/* ---- 256-bit: one block per vector, canonical lanes (even blocks a0, odd blocks a1) ---- */

/* Q4_0 weight nibbles of one block as 32 u8 values 0..15 in element order. */
TARGET_AVX2 static inline __m256i q4_u8_avx2(const uint8_t *qs)
{
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)qs));
    v = _mm256_srlv_epi64(v, _mm256_set_epi64x(4, 4, 0, 0));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/* -8 * (sum of each group of four activations), the Q4_0 correction. */
TARGET_AVX2 static inline __m256i q4_corr_avx2(__m256i x)
{
    __m256i s =
        _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(8), x), _mm256_set1_epi16(1));
    return _mm256_sub_epi32(_mm256_setzero_si256(), s);
}

TARGET_AVX2 static inline __m256i p8_avx2(__m256i w, __m256i x)
{
    return partials_avx2(w, x);
}

TARGET_AVX2 static inline __m256i p4_avx2(__m256i q, __m256i x, __m256i c)
{
    __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), _mm256_set1_epi16(1));
    return _mm256_add_epi32(p, c);
}

TARGET_AVXVNNI static inline __m256i p8_avxvnni(__m256i w, __m256i x)
{
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w),
                                   _mm256_sign_epi8(x, w));
}

TARGET_AVXVNNI static inline __m256i p4_avxvnni(__m256i q, __m256i x, __m256i c)
{
    return _mm256_dpbusd_avx_epi32(c, q, x);
}

/* The 256-bit row-group body, stamped out per ISA with its partial functions P8 and P4
 * (which need that ISA's target attribute, hence a macro rather than a function). */
#define DEFINE_ROWS256(NAME, TARGET, P8, P4)                                                       \
    /* block b of nr rows into acc[r] */                                                           \
    TARGET static ALWAYS_INLINE void NAME##_block(const uint8_t *w, size_t rs,                     \
                                                  const struct octo_q8_0_block *x, size_t b,       \
                                                  size_t nr, bool q4, __m256 acc[NR])              \
    {                                                                                              \
        const size_t bs = q4 ? Q4_BS : Q8_BS;                                                      \
        __m256i xv = block_x_avx2(x, b);                                                           \
        __m256i c = q4 ? q4_corr_avx2(xv) : _mm256_setzero_si256();                                \
        float dx = _cvtsh_ss(x[b].d);                                                              \
        _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)                                    \
        {                                                                                          \
            const uint8_t *pw = w + r * rs + b * bs;                                               \
            __m256i p = q4 ? P4(q4_u8_avx2(pw + 2), xv, c)                                         \
                           : P8(_mm256_loadu_si256((const __m256i *)(const void *)(pw + 2)), xv);  \
            __m256 s = _mm256_set1_ps(_cvtsh_ss(load_u16(pw)) * dx);                               \
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), s, acc[r]);                            \
        }                                                                                          \
    }                                                                                              \
    TARGET static ALWAYS_INLINE void NAME##_step(const uint8_t *w, size_t rs,                      \
                                                 const struct octo_q8_0_block *x, size_t nb,       \
                                                 size_t nr, bool q4, float *y)                     \
    {                                                                                              \
        __m256 a0[NR], a1[NR];                                                                     \
        _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)                                    \
        {                                                                                          \
            a0[r] = _mm256_setzero_ps();                                                           \
            a1[r] = _mm256_setzero_ps();                                                           \
        }                                                                                          \
        size_t b = 0;                                                                              \
        for (; b + 2 <= nb; b += 2) {                                                              \
            NAME##_block(w, rs, x, b, nr, q4, a0);                                                 \
            NAME##_block(w, rs, x, b + 1, nr, q4, a1);                                             \
        }                                                                                          \
        if (b < nb)                                                                                \
            NAME##_block(w, rs, x, b, nr, q4, a0);                                                 \
        _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)                                    \
        {                                                                                          \
            float a[LANES];                                                                        \
            _mm256_storeu_ps(a, a0[r]);                                                            \
            _mm256_storeu_ps(a + 8, a1[r]);                                                        \
            y[r] = reduce16(a);                                                                    \
        }                                                                                          \
    }                                                                                              \
    TARGET static void NAME##_q8(const uint8_t *w, size_t rs, const void *x, size_t n,             \
                                 size_t rows, float *y)                                            \
    {                                                                                              \
        size_t r = 0;                                                                              \
        for (; r + NR <= rows; r += NR)                                                            \
            NAME##_step(w + r * rs, rs, x, n / QK, NR, false, y + r);                              \
        for (; r < rows; r++)                                                                      \
            NAME##_step(w + r * rs, rs, x, n / QK, 1, false, y + r);                               \
    }                                                                                              \
    TARGET static void NAME##_q4(const uint8_t *w, size_t rs, const void *x, size_t n,             \
                                 size_t rows, float *y)                                            \
    {                                                                                              \
        size_t r = 0;                                                                              \
        for (; r + NR <= rows; r += NR)                                                            \
            NAME##_step(w + r * rs, rs, x, n / QK, NR, true, y + r);                               \
        for (; r < rows; r++)                                                                      \
            NAME##_step(w + r * rs, rs, x, n / QK, 1, true, y + r);                                \
    }

DEFINE_ROWS256(rows_avx2, TARGET_AVX2, p8_avx2, p4_avx2)
DEFINE_ROWS256(rows_avxvnni, TARGET_AVXVNNI, p8_avxvnni, p4_avxvnni)

/* ---- AVX-512: activation quantization ------------------------------------------------- */
/*
 * quantize_block_q8_0 sixteen floats at a time, with its bits: the largest magnitude (a max, in
 * any order the same), d and 1/d as scalars, x * id as one float multiply per element, and
 * roundf as trunc plus one step away from zero where the dropped fraction (exact: x minus its
 * integer part) is at least one half; to_i8's range check maps the rest (inf, NaN) to 0.
 */
TARGET_AVX512 static __m512i q8_round_512(__m512 v)
{
    __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(v, t);
    t = _mm512_mask_add_ps(t, _mm512_cmp_ps_mask(f, _mm512_set1_ps(0.5f), _CMP_GE_OQ), t,
                           _mm512_set1_ps(1.0f));
    t = _mm512_mask_sub_ps(t, _mm512_cmp_ps_mask(f, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), t,
                           _mm512_set1_ps(1.0f));
    __mmask16 in = _mm512_cmp_ps_mask(t, _mm512_set1_ps(-127.0f), _CMP_GE_OQ) &
                   _mm512_cmp_ps_mask(t, _mm512_set1_ps(127.0f), _CMP_LE_OQ);
    return _mm512_maskz_cvttps_epi32(in, t);
}

TARGET_AVX512 static void act_q8_0_avx512(const float *x, size_t nb, struct octo_q8_0_block *y)
{
    for (size_t b = 0; b < nb; b++) {
        __m512 v0 = _mm512_loadu_ps(x + b * QK), v1 = _mm512_loadu_ps(x + b * QK + 16);
        __m512 m = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1));
        float amax = _mm512_reduce_max_ps(m);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = octo_fp32_to_fp16(d);
        __m512 vid = _mm512_set1_ps(id);
        _mm_storeu_si128((__m128i *)(void *)y[b].qs,
                         _mm512_cvtepi32_epi8(q8_round_512(_mm512_mul_ps(v0, vid))));
        _mm_storeu_si128((__m128i *)(void *)(y[b].qs + 16),
                         _mm512_cvtepi32_epi8(q8_round_512(_mm512_mul_ps(v1, vid))));
    }
}

/* ---- AVX-512 VNNI: two blocks per vector ---------------------------------------------- */
/*
 * Q8_0 lanes are canonical (block b in lanes 0-7, b+1 in 8-15). Q4_0 keeps the nibbles where
 * they fall: a vector holds [lo(b), lo(b+1), hi(b), hi(b+1)] in 128-bit quarters, i.e. lanes
 * 4-7 carry canonical lanes 8-11 and lanes 8-11 canonical 4-7; the activation is permuted the
 * same way once per pair, and the accumulator's two middle quarters are swapped back at the
 * end. Either way every canonical lane receives the same FMAs in the same order.
 *
 * Scales: for eight blocks at a time, the eight fp16 d of a row are picked out of the row's
 * bytes with word permutes (no gathers), converted and multiplied by the activation's eight
 * scales; each pair then broadcasts its two scales with one permute. Q4_0's high-nibble lanes
 * hold 16 times the partial (q4_w_512) and take the scale divided by 16 from lanes 8-15 of the
 * same vector: fma(16p, s/16, acc) == fma(p, s, acc) bit for bit.
 *
 * Memory: the rows of a group lie one after another, so while a group is computed each row
 * prefetches the same bytes of the row NR512 further on (the next group); every byte of the
 * matrix is asked for once, about a group's compute time before it is needed.
 */

/* reduce16 of the 16 lanes of v, in vector registers: the same adds in the same pairs
 * (lane l += lane l + w for w = 8, 4, 2, 1), so the same bits, without a trip through memory. */
TARGET_VNNI512 static inline float reduce16_512(__m512 v)
{
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(v),
                              _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    return _mm_cvtss_f32(_mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1)));
}

/* The eight fp16 scales of eight consecutive blocks of `stride` (18 or 34) bytes at p, as
 * floats. Reads only bytes inside the eight blocks. */
TARGET_VNNI512 static inline __m256 scales8_512(const uint8_t *p, bool q4)
{
    if (q4) { /* d_j at word 9j, j < 8: words 0..63 */
        const __m512i idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 63, 54, 45, 36, 27, 18, 9, 0);
        __m512i d =
            _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 64));
        return _mm256_cvtph_ps(_mm512_castsi512_si128(d));
    }
    /* d_j at word 17j: j = 0, 1 in words 0..31 of p, j = 2, 3 in words 0..31 of p + 68 (word
     * 34), and the same again from p + 136 */
    const __m512i idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 0, 49, 32, 17, 0);
    __m512i a = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 68));
    __m512i b =
        _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 136), idx, _mm512_loadu_si512(p + 204));
    __m128i d = _mm_unpacklo_epi64(_mm512_castsi512_si128(a), _mm512_castsi512_si128(b));
    return _mm256_cvtph_ps(d);
}

/* An activation pair prepared for all rows: the signed activation (Q4_0: permuted to the
 * nibble order) as the s8 operand and the correction c = -m * (sum of each four x), where the
 * u8 multipliers m match the weight operand: 128 for Q8_0 (whose weight operand is
 * w ^ 0x80 = w + 128); for Q4_0 in the matvec kernels (act_m_512) 8 in the low-nibble lanes
 * and 128 = 16 * 8 in the high-nibble lanes (whose operand is 16 * q, see q4_w_512), in the
 * tiles 8 in every lane (whose operand is q itself, see tile_w_512). A lone last block
 * (two == false) leaves the upper block 0. */
struct act512 {
    __m512i x;
    __m512i c;
};

TARGET_VNNI512 static inline __m512i act_m_512(bool q4)
{
    return q4 ? _mm512_inserti64x4(_mm512_set1_epi8(8), _mm256_set1_epi8((char)0x80), 1)
              : _mm512_set1_epi8((char)0x80);
}

TARGET_VNNI512 static inline struct act512 act_pair_512(const struct octo_q8_0_block *x, size_t b,
                                                        bool two, bool q4, __m512i m)
{
    __m256i hi = two ? block_x_avx2(x, b + 1) : _mm256_setzero_si256();
    __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(block_x_avx2(x, b)), hi, 1);
    if (q4)
        v = _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(3, 1, 2, 0));
    struct act512 a;
    a.x = v;
    a.c =
        _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), m, v));
    return a;
}

/* The Q4_0 weight pair at pw (blocks b, b+1; only b if !two) as the u8 operand
 * [lo(b), lo(b+1), 16 * hi(b), 16 * hi(b+1)] (128-bit quarters): both blocks' bytes are
 * broadcast by the loads and the high nibbles are kept in place (byte & 0xf0), so no shift is
 * needed. The high-nibble lanes' partials come out exactly 16 times too large; their scales
 * are divided by 16 instead (exact: a power of two, and d_w * d_x is far from the float
 * subnormals), so fma(16p, s/16, acc) rounds exactly as fma(p, s, acc). */
TARGET_VNNI512 static inline __m512i q4_w_512(const uint8_t *pw, bool two)
{
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(pw + 2)));
    if (two)
        v = _mm512_mask_broadcast_i32x4(
            v, (__mmask16)0xf0f0u,
            _mm_loadu_si128((const __m128i *)(const void *)(pw + Q4_BS + 2)));
    else
        v = _mm512_maskz_mov_epi32((__mmask16)0x0f0fu, v);
    const __m512i keep =
        _mm512_inserti64x4(_mm512_set1_epi8(0x0f), _mm256_set1_epi8((char)0xf0), 1);
    return _mm512_and_si512(v, keep);
}

/* Exact int32 partials of the weight pair at pw (blocks b, b+1; only b if !two); Q4_0's
 * high-nibble lanes are 16 times the partial (see q4_w_512). */
TARGET_VNNI512 static inline __m512i partials_512(const uint8_t *pw, const struct act512 *a,
                                                  bool two, bool q4)
{
    if (q4)
        return _mm512_dpbusd_epi32(a->c, q4_w_512(pw, two), a->x);
    __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(pw + 2));
    __m256i w1 = two ? _mm256_loadu_si256((const __m256i *)(const void *)(pw + Q8_BS + 2))
                     : _mm256_setzero_si256();
    __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1);
    return _mm512_dpbusd_epi32(a->c, _mm512_xor_si512(wv, _mm512_set1_epi8((char)0x80)), a->x);
}

/* Lane multipliers of the scales: 1, and 1/16 for Q4_0's high-nibble lanes. */
TARGET_VNNI512 static inline __m512 scale_mul_512(bool q4)
{
    return q4 ? _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(1.0f)),
                                                    _mm256_castps_pd(_mm256_set1_ps(0.0625f)), 1))
              : _mm512_set1_ps(1.0f);
}

/* nr rows at w (stride rs) against the nb activation blocks x into y[0..nr). pfd: how far
 * ahead (bytes) each row's bytes are prefetched, normally the next group of rows at the same
 * place, so that every byte of the matrix is asked for once, a group's time ahead. */
TARGET_VNNI512 static ALWAYS_INLINE void rows_vnni512_step(const uint8_t *w, size_t rs,
                                                           const struct octo_q8_0_block *x,
                                                           size_t nb, size_t nr, bool q4, float *y,
                                                           size_t pfd)
{
    const size_t bs = q4 ? Q4_BS : Q8_BS;
    /* lanes of block b (the rest are block b+1) */
    const __mmask16 lo_lanes = q4 ? (__mmask16)0x0f0fu : (__mmask16)0x00ffu;
    /* scale index of each lane for the pair (b, b+1) at j = 0; Q4_0's high-nibble lanes take
     * the scales divided by 16 from lanes 8-15 */
    const __m512i base = q4 ? _mm512_set_epi32(9, 9, 9, 9, 8, 8, 8, 8, 1, 1, 1, 1, 0, 0, 0, 0)
                            : _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512 smul = scale_mul_512(q4);
    const __m512i am = act_m_512(q4);
    const uint8_t *xb = (const uint8_t *)x;
    __m512 acc[NR512];
    _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++) acc[r] = _mm512_setzero_ps();
    size_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256 dx = scales8_512(xb + b * Q8_BS, false);
        /* the last chunk of eight also asks for the rest of the row (the tail blocks) */
        size_t pfl = b + 16 > nb ? rs - b * bs : 8 * bs;
        _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
        { /* a prefetch past the end of the data never faults */
            const char *pf = (const char *)(w + r * rs + b * bs) + pfd;
            for (size_t o = 0; o < pfl; o += 64)
                _mm_prefetch(pf + o, PF_HINT);
        }
        __m512 s[NR512];
        _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
        {
            __m256 s8 = _mm256_mul_ps(scales8_512(w + r * rs + b * bs, q4), dx);
            __m512 v = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(s8)));
            s[r] = q4 ? _mm512_mul_ps(v, smul) : v;
        }
        for (size_t j = 0; j < 8; j += 2) {
            __m512i idx = _mm512_add_epi32(base, _mm512_set1_epi32((int)j));
            struct act512 a = act_pair_512(x, b + j, true, q4, am);
            _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
            {
                __m512i p = partials_512(w + r * rs + (b + j) * bs, &a, true, q4);
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_permutexvar_ps(idx, s[r]),
                                         acc[r]);
            }
        }
    }
    for (; b < nb; b += 2) { /* fewer than eight blocks left: scales one by one */
        bool two = b + 1 < nb;
        struct act512 a = act_pair_512(x, b, two, q4, am);
        float dx0 = _cvtsh_ss(x[b].d);
        float dx1 = two ? _cvtsh_ss(x[b + 1].d) : 0.0f;
        _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
        {
            const uint8_t *pw = w + r * rs + b * bs;
            __m512 p = _mm512_cvtepi32_ps(partials_512(pw, &a, two, q4));
            __m512 s0 = _mm512_set1_ps(_cvtsh_ss(load_u16(pw)) * dx0);
            if (two) {
                __m512 s1 = _mm512_set1_ps(_cvtsh_ss(load_u16(pw + bs)) * dx1);
                __m512 sv = _mm512_mul_ps(_mm512_mask_blend_ps(lo_lanes, s1, s0), smul);
                acc[r] = _mm512_fmadd_ps(p, sv, acc[r]);
            } else {
                acc[r] = _mm512_mask3_fmadd_ps(p, _mm512_mul_ps(s0, smul), acc[r], lo_lanes);
            }
        }
    }
    _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
    {
        __m512 v = q4 ? _mm512_shuffle_f32x4(acc[r], acc[r], _MM_SHUFFLE(3, 1, 2, 0)) : acc[r];
        y[r] = reduce16_512(v);
    }
}

/* Rows in groups of NR512 (then one by one), each group prefetching the next. */
TARGET_VNNI512 static ALWAYS_INLINE void rows_vnni512(const uint8_t *w, size_t rs, const void *x,
                                                      size_t n, size_t rows, float *y, bool q4)
{
    size_t r = 0;
    size_t pfd = NR512 * rs; /* one group ahead (two or more were no faster) */
    for (; r + NR512 <= rows; r += NR512)
        rows_vnni512_step(w + r * rs, rs, x, n / QK, NR512, q4, y + r, pfd);
    for (; r < rows; r++)
        rows_vnni512_step(w + r * rs, rs, x, n / QK, 1, q4, y + r, rs);
}

TARGET_VNNI512 static void rows_vnni512_q8(const uint8_t *w, size_t rs, const void *x, size_t n,
                                           size_t rows, float *y)
{
    rows_vnni512(w, rs, x, n, rows, y, false);
}

/*
 * The Q4_0 matvec kernel (rows_vnni512_q4) trims the per-pair work of rows_vnni512_step:
 *   - the activation side (permuted x, correction c, and the scales d_x of each eight blocks)
 *     is prepared once per call into q4_act on the stack instead of once per row group;
 *   - the high-nibble lanes (partials 16 times too large) keep the full scale and accumulate
 *     16 times the canonical value: fma(16p, s, 16a) == 16 * fma(p, s, a) bit for bit (a power
 *     of two; every value is a multiple of 2^-48, far from the float subnormals, and far
 *     below overflow), and one multiply by 1/16 (exact) at the end gives the canonical lanes.
 *     So a pair's scale vector is [s_b x4, s_b+1 x4] in both 256-bit halves;
 *   - each row's eight scales are spread to [s_j x4] (two permutes per eight blocks) and kept
 *     in a small table, from which every pair takes its scales with one broadcast load.
 * Every canonical lane receives the same FMAs in the same order as in rows_vnni512_step.
 */
#define Q4_ACT_PAIRS 128 /* block pairs held in q4_act: rows up to 8192 elements */

struct q4_act {
    __m512i x[Q4_ACT_PAIRS];     /* act_pair_512's x of pair k (blocks 2k, 2k+1) */
    __m512i c[Q4_ACT_PAIRS];     /* and its correction */
    __m256 dx[Q4_ACT_PAIRS / 4]; /* the activation scales of blocks 8i..8i+7 */
};

TARGET_VNNI512 static void q4_act_prepare(const struct octo_q8_0_block *x, size_t nb,
                                          struct q4_act *a)
{
    for (size_t b = 0; b < nb; b += 2) {
        struct act512 p = act_pair_512(x, b, b + 1 < nb, true, act_m_512(true));
        a->x[b / 2] = p.x;
        a->c[b / 2] = p.c;
    }
    for (size_t b = 0; b + 8 <= nb; b += 8)
        a->dx[b / 8] = scales8_512((const uint8_t *)(x + b), false);
}

/* nr rows at w (stride rs) against the prepared activation a (nb blocks of x) into y[0..nr);
 * pfd as in rows_vnni512_step. */
TARGET_VNNI512 static ALWAYS_INLINE void q4_step_512(const uint8_t *w, size_t rs,
                                                     const struct octo_q8_0_block *x,
                                                     const struct q4_act *a, size_t nb, size_t nr,
                                                     float *y, size_t pfd)
{
    const __mmask16 lo_lanes = (__mmask16)0x0f0fu; /* lanes of block b, the rest b+1 */
    const __m512i spread0 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const __m512i spread1 = _mm512_add_epi32(spread0, _mm512_set1_epi32(4));
    __m512 acc[NR512];
    _Alignas(64) float st[NR512][32]; /* row r: s_j repeated four times, j < 8 */
    _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++) acc[r] = _mm512_setzero_ps();
    size_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        size_t pfl = b + 16 > nb ? rs - b * Q4_BS : 8 * Q4_BS;
        _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
        {
            const char *pf = (const char *)(w + r * rs + b * Q4_BS) + pfd;
            for (size_t o = 0; o < pfl; o += 64)
                _mm_prefetch(pf + o, PF_HINT);
            __m256 s8 = _mm256_mul_ps(scales8_512(w + r * rs + b * Q4_BS, true), a->dx[b / 8]);
            __m512 z = _mm512_castps256_ps512(s8);
            _mm512_store_ps(st[r], _mm512_permutexvar_ps(spread0, z));
            _mm512_store_ps(st[r] + 16, _mm512_permutexvar_ps(spread1, z));
        }
        /* keep the table in memory: gcc would otherwise forward the stores into a shuffle per
         * pair, the very port-5 work the table avoids (broadcast loads use only load ports) */
        __asm__ volatile("" : "+m"(st));
        _Pragma("GCC unroll 4") for (size_t j = 0; j < 8; j += 2)
        {
            __m512i ax = a->x[(b + j) / 2];
            __m512i ac = a->c[(b + j) / 2];
            _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
            {
                __m512i p =
                    _mm512_dpbusd_epi32(ac, q4_w_512(w + r * rs + (b + j) * Q4_BS, true), ax);
                __m512 sv = _mm512_castpd_ps(
                    _mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_load_ps(st[r] + 4 * j))));
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sv, acc[r]);
            }
        }
    }
    for (; b < nb; b += 2) { /* fewer than eight blocks left: scales one by one */
        bool two = b + 1 < nb;
        __m512i ax = a->x[b / 2];
        __m512i ac = a->c[b / 2];
        float dx0 = _cvtsh_ss(x[b].d);
        float dx1 = two ? _cvtsh_ss(x[b + 1].d) : 0.0f;
        _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
        {
            const uint8_t *pw = w + r * rs + b * Q4_BS;
            __m512 p = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(ac, q4_w_512(pw, two), ax));
            __m512 s0 = _mm512_set1_ps(_cvtsh_ss(load_u16(pw)) * dx0);
            if (two) {
                __m512 s1 = _mm512_set1_ps(_cvtsh_ss(load_u16(pw + Q4_BS)) * dx1);
                acc[r] = _mm512_fmadd_ps(p, _mm512_mask_blend_ps(lo_lanes, s1, s0), acc[r]);
            } else {
                acc[r] = _mm512_mask3_fmadd_ps(p, s0, acc[r], lo_lanes);
            }
        }
    }
    const __m512 unscale = _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castps_pd(_mm512_set1_ps(1.0f)), _mm256_castps_pd(_mm256_set1_ps(0.0625f)), 1));
    _Pragma("GCC unroll 8") for (size_t r = 0; r < nr; r++)
    {
        __m512 v = _mm512_mul_ps(acc[r], unscale);
        y[r] = reduce16_512(_mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 1, 2, 0)));
    }
}

TARGET_VNNI512 static void rows_vnni512_q4(const uint8_t *w, size_t rs, const void *x, size_t n,
                                           size_t rows, float *y)
{
    size_t nb = n / QK;
    if (nb > 2 * Q4_ACT_PAIRS) { /* longer rows than q4_act holds */
        rows_vnni512(w, rs, x, n, rows, y, true);
        return;
    }
    struct q4_act a;
    q4_act_prepare(x, nb, &a);
    size_t r = 0;
    for (; r + NR512 <= rows; r += NR512)
        q4_step_512(w + r * rs, rs, x, &a, nb, NR512, y + r, NR512 * rs);
    for (; r < rows; r++)
        q4_step_512(w + r * rs, rs, x, &a, nb, 1, y + r, rs);
}

/* ---- AVX-512 VNNI tiles: NR rows x NV vectors (octo_quant_matmul) ---------------------- */
/*
 * A weight pair is prepared once as u8 for every vector of the tile (Q8_0: w ^ 0x80 = w + 128;
 * Q4_0: the nibbles 0..15 as in partials_512), and the activation side carries the correction
 * (Q8_0: -128 * the sum of each four x; Q4_0: -8 * that sum), so one p = dpbusd(c, wu, x) per
 * row and vector is the exact int32 partial of the matvec kernels (|w + 128| <= 255 and
 * |x| <= 127 keep every sum exact). Lanes, scale products (d_w * d_x, the same float product
 * whichever operand is permuted first) and the FMA order per lane are those of
 * rows_vnni512_step, so every y[v][r] has the matvec's bits.
 */

#define NV 4 /* vectors per tile */

/* The u8 weight operand of the pair at pw (blocks b, b+1; only b if !two). */
TARGET_VNNI512 static inline __m512i tile_w_512(const uint8_t *pw, bool two, bool q4)
{
    if (q4) {
        __m128i q0 = _mm_loadu_si128((const __m128i *)(const void *)(pw + 2));
        __m128i q1 = two ? _mm_loadu_si128((const __m128i *)(const void *)(pw + Q4_BS + 2))
                         : _mm_setzero_si128();
        __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
        __m512i wq = _mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1);
        return _mm512_and_si512(wq, _mm512_set1_epi8(0x0f));
    }
    __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(pw + 2));
    __m256i w1 = two ? _mm256_loadu_si256((const __m256i *)(const void *)(pw + Q8_BS + 2))
                     : _mm256_setzero_si256();
    __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1);
    return _mm512_xor_si512(wv, _mm512_set1_epi8((char)0x80));
}

/* nr rows at w (stride rs) times nv vectors at x (xs blocks apart) into y[v * ys + r]. */
TARGET_VNNI512 static ALWAYS_INLINE void tile_vnni512_step(const uint8_t *w, size_t rs,
                                                           const struct octo_q8_0_block *x,
                                                           size_t xs, size_t nb, size_t nr,
                                                           size_t nv, bool q4, float *y, size_t ys)
{
    const size_t bs = q4 ? Q4_BS : Q8_BS;
    const __mmask16 lo_lanes = q4 ? (__mmask16)0x0f0fu : (__mmask16)0x00ffu;
    const __m512i base = q4 ? _mm512_set_epi32(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0)
                            : _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i am = _mm512_set1_epi8(q4 ? 8 : (char)0x80); /* act_pair_512's m: 8 or 128 */
    __m512 acc[NR][NV];
    _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)
    {
        _Pragma("GCC unroll 4") for (size_t v = 0; v < nv; v++) acc[r][v] = _mm512_setzero_ps();
    }
    size_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m512 sw[NR], dx[NV];
        _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)
        {
            const char *pf = (const char *)(w + r * rs + b * bs) + PREFETCH;
            for (size_t o = 0; o < 8 * bs; o += 64)
                _mm_prefetch(pf + o, _MM_HINT_T0);
            sw[r] = _mm512_castps256_ps512(scales8_512(w + r * rs + b * bs, q4));
        }
        _Pragma("GCC unroll 4") for (size_t v = 0; v < nv; v++) dx[v] =
            _mm512_castps256_ps512(scales8_512((const uint8_t *)(x + v * xs + b), false));
        for (size_t j = 0; j < 8; j += 2) {
            __m512i idx = _mm512_add_epi32(base, _mm512_set1_epi32((int)j));
            __m512i wu[NR];
            __m512 ws[NR];
            _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)
            {
                wu[r] = tile_w_512(w + r * rs + (b + j) * bs, true, q4);
                ws[r] = _mm512_permutexvar_ps(idx, sw[r]);
            }
            _Pragma("GCC unroll 4") for (size_t v = 0; v < nv; v++)
            {
                struct act512 a = act_pair_512(x + v * xs, b + j, true, q4, am);
                __m512 xsc = _mm512_permutexvar_ps(idx, dx[v]);
                _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)
                {
                    __m512i p = _mm512_dpbusd_epi32(a.c, wu[r], a.x);
                    acc[r][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws[r], xsc),
                                                acc[r][v]);
                }
            }
        }
    }
    for (; b < nb; b += 2) { /* fewer than eight blocks left: scales one by one */
        bool two = b + 1 < nb;
        _Pragma("GCC unroll 4") for (size_t v = 0; v < nv; v++)
        {
            const struct octo_q8_0_block *xv = x + v * xs;
            struct act512 a = act_pair_512(xv, b, two, q4, am);
            float dx0 = _cvtsh_ss(xv[b].d);
            float dx1 = two ? _cvtsh_ss(xv[b + 1].d) : 0.0f;
            _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)
            {
                const uint8_t *pw = w + r * rs + b * bs;
                __m512 p =
                    _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(a.c, tile_w_512(pw, two, q4), a.x));
                __m512 s0 = _mm512_set1_ps(_cvtsh_ss(load_u16(pw)) * dx0);
                if (two) {
                    __m512 s1 = _mm512_set1_ps(_cvtsh_ss(load_u16(pw + bs)) * dx1);
                    acc[r][v] =
                        _mm512_fmadd_ps(p, _mm512_mask_blend_ps(lo_lanes, s1, s0), acc[r][v]);
                } else {
                    acc[r][v] = _mm512_mask3_fmadd_ps(p, s0, acc[r][v], lo_lanes);
                }
            }
        }
    }
    _Pragma("GCC unroll 4") for (size_t r = 0; r < nr; r++)
    {
        _Pragma("GCC unroll 4") for (size_t v = 0; v < nv; v++)
        {
            __m512 t = acc[r][v];
            if (q4)
                t = _mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(3, 1, 2, 0));
            y[v * ys + r] = reduce16_512(t);
        }
    }
}

/* Rows [0, rows) times nv vectors: row groups of NR (then single rows), and within each the
 * vectors in tiles of NV, then 2, then 1, so every call site has constant tile sizes. */
TARGET_VNNI512 static ALWAYS_INLINE void tile_vnni512(const uint8_t *w, size_t rs,
                                                      const struct octo_q8_0_block *x, size_t n,
                                                      size_t rows, size_t nv, float *y, size_t ys,
                                                      bool q4)
{
    size_t nb = n / QK;
    size_t r = 0;
    for (; r + NR <= rows; r += NR) {
        const uint8_t *wr = w + r * rs;
        size_t v = 0;
        for (; v + NV <= nv; v += NV)
            tile_vnni512_step(wr, rs, x + v * nb, nb, nb, NR, NV, q4, y + v * ys + r, ys);
        if (v + 2 <= nv) {
            tile_vnni512_step(wr, rs, x + v * nb, nb, nb, NR, 2, q4, y + v * ys + r, ys);
            v += 2;
        }
        if (v < nv)
            tile_vnni512_step(wr, rs, x + v * nb, nb, nb, NR, 1, q4, y + v * ys + r, ys);
    }
    for (; r < rows; r++) {
        const uint8_t *wr = w + r * rs;
        size_t v = 0;
        for (; v + NV <= nv; v += NV)
            tile_vnni512_step(wr, rs, x + v * nb, nb, nb, 1, NV, q4, y + v * ys + r, ys);
        for (; v < nv; v++)
            tile_vnni512_step(wr, rs, x + v * nb, nb, nb, 1, 1, q4, y + v * ys + r, ys);
    }
}

TARGET_VNNI512 static void tile_vnni512_q8(const uint8_t *w, size_t rs, const void *x, size_t n,
                                           size_t rows, size_t nv, float *y, size_t ys)
{
    tile_vnni512(w, rs, x, n, rows, nv, y, ys, false);
}

TARGET_VNNI512 static void tile_vnni512_q4(const uint8_t *w, size_t rs, const void *x, size_t n,
                                           size_t rows, size_t nv, float *y, size_t ys)
{
    tile_vnni512(w, rs, x, n, rows, nv, y, ys, true);
}

#endif /* OCTO_QUANT_X86 */

/* ---------------------------------------------------------------------------------------- */
/* Dispatch                                                                                  */

/* One row: the dot of n elements at w with x. */
typedef float (*dot_fn)(const uint8_t *w, const void *x, size_t n, bool det);

/* `rows` consecutive rows at w (stride rs) against the activation blocks x into y[0..rows).
 * The multi-row kernels compute FAST with the deterministic structure, so take no mode. */
typedef void (*rows_fn)(const uint8_t *w, size_t rs, const void *x, size_t n, size_t rows,
                        float *y);

#if OCTO_QUANT_X86
/* F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports has no "f16c". */
static bool has_f16c(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}

/* AVX512-VNNI (leaf 7.0 ECX bit 11) and AVX-VNNI (leaf 7.1 EAX bit 4), read from CPUID for the
 * same reason. The OS's saving of the vector state is checked by the avx512f / avx2 tests
 * they are always paired with. */
static bool has_cpuid7(unsigned sub, bool eax, unsigned bit)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, sub, &a, &b, &c, &d))
        return false;
    return ((eax ? a : c) & (1u << bit)) != 0;
}
#endif

/* Whether `isa` runs here, asking the CPU (CPUID traps to the hypervisor in a VM: several
 * microseconds each, so this is asked once and cached by isa_mask). */
static bool isa_probe(enum octo_quant_isa isa)
{
    switch (isa) {
    case OCTO_QUANT_ISA_SCALAR:
        return true;
#if OCTO_QUANT_X86
    case OCTO_QUANT_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case OCTO_QUANT_ISA_AVX512:
        return isa_probe(OCTO_QUANT_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    case OCTO_QUANT_ISA_AVX512_VNNI:
        return isa_probe(OCTO_QUANT_ISA_AVX512) && has_cpuid7(0, false, 11);
    case OCTO_QUANT_ISA_AVX_VNNI:
        return isa_probe(OCTO_QUANT_ISA_AVX2) && has_cpuid7(1, true, 4);
#endif
    default:
        return false;
    }
}

/* Bit i set: ISA i is available; bit 31 marks the mask as computed. The module's only state:
 * a pure function of the CPU, computed at most a few times when threads race on the first
 * call (each computes the same value; relaxed atomics keep the race defined). */
static uint32_t isa_cache;

static uint32_t isa_mask(void)
{
    uint32_t m = __atomic_load_n(&isa_cache, __ATOMIC_RELAXED);
    if (m != 0)
        return m;
    m = 1u << 31;
    for (int i = 0; i < OCTO_QUANT_ISA_COUNT; i++) {
        if (isa_probe((enum octo_quant_isa)i))
            m |= 1u << i;
    }
    __atomic_store_n(&isa_cache, m, __ATOMIC_RELAXED);
    return m;
}

bool octo_quant_isa_available(enum octo_quant_isa isa)
{
    if ((unsigned)isa >= OCTO_QUANT_ISA_COUNT)
        return false;
    return (isa_mask() & (1u << isa)) != 0;
}

enum octo_quant_isa octo_quant_isa_best(void)
{
    static const enum octo_quant_isa order[] = {OCTO_QUANT_ISA_AVX512_VNNI, OCTO_QUANT_ISA_AVX512,
                                                OCTO_QUANT_ISA_AVX_VNNI, OCTO_QUANT_ISA_AVX2};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (octo_quant_isa_available(order[i]))
            return order[i];
    }
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
    case OCTO_QUANT_ISA_AVX512_VNNI:
        return "avx512vnni";
    case OCTO_QUANT_ISA_AVX_VNNI:
        return "avxvnni";
    default:
        return "unknown";
    }
}

/* The multi-row kernel for (isa, type), or NULL when that pair runs row by row. */
static rows_fn select_rows(enum octo_quant_isa isa, enum octo_quant_type type)
{
#if OCTO_QUANT_X86
    if (!octo_quant_type_is_block(type))
        return NULL;
    bool q4 = type == OCTO_QUANT_Q4_0;
    switch (isa) {
    case OCTO_QUANT_ISA_AVX512_VNNI:
        return q4 ? rows_vnni512_q4 : rows_vnni512_q8;
    case OCTO_QUANT_ISA_AVX_VNNI:
        return q4 ? rows_avxvnni_q4 : rows_avxvnni_q8;
    case OCTO_QUANT_ISA_AVX2:
        return q4 ? rows_avx2_q4 : rows_avx2_q8;
    default:
        return NULL;
    }
#else
    (void)isa;
    (void)type;
    return NULL;
#endif
}

static dot_fn select_dot(enum octo_quant_isa isa, enum octo_quant_type type)
{
#if OCTO_QUANT_X86
    bool wide = isa == OCTO_QUANT_ISA_AVX512 || isa == OCTO_QUANT_ISA_AVX512_VNNI;
    if (wide) {
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
    if (isa == OCTO_QUANT_ISA_AVX2 || isa == OCTO_QUANT_ISA_AVX_VNNI) {
        switch (type) {
        case OCTO_QUANT_F32:
            return dot_f32_avx2;
        case OCTO_QUANT_F16:
            return dot_f16_avx2;
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
    bool quantized = octo_quant_type_is_block(m->type);
    const void *operand = quantized ? (const void *)xq : (const void *)x;
    if (operand == NULL)
        return OCTO_EINVAL;
    rows_fn rows = select_rows(isa, m->type);
    if (rows != NULL) {
        if (r1 > r0)
            rows(m->data + r0 * m->row_size, m->row_size, operand, m->cols, r1 - r0, y + r0);
        return 0;
    }
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

/* ---------------------------------------------------------------------------------------- */
/* Matrix times several vectors                                                              */

/* `rows` rows at w (stride rs) times nv vectors at x (consecutive, n elements each) into
 * y[v * ys + r]; every value has the bits of the matching multi-row matvec kernel. */
typedef void (*tile_fn)(const uint8_t *w, size_t rs, const void *x, size_t n, size_t rows,
                        size_t nv, float *y, size_t ys);

/* Weight bytes per chunk of the fallback: the chunk's rows stay in the L1/L2 caches while
 * each vector runs over them, so the matrix is streamed from memory once per call. */
#define CHUNK_BYTES 16384

static tile_fn select_tile(enum octo_quant_isa isa, enum octo_quant_type type)
{
#if OCTO_QUANT_X86
    if (isa == OCTO_QUANT_ISA_AVX512_VNNI && type == OCTO_QUANT_Q8_0)
        return tile_vnni512_q8;
    if (isa == OCTO_QUANT_ISA_AVX512_VNNI && type == OCTO_QUANT_Q4_0)
        return tile_vnni512_q4;
#else
    (void)isa;
    (void)type;
#endif
    return NULL;
}

int octo_quant_matmul_isa(enum octo_quant_isa isa, const struct octo_quant_matrix *m,
                          const float *x, const struct octo_q8_0_block *xq, size_t n_vec, size_t r0,
                          size_t r1, enum octo_quant_mode mode, float *y, size_t y_stride)
{
    OCTO_ASSERT(m != NULL);
    OCTO_ASSERT(m->data != NULL);
    OCTO_ASSERT(y != NULL);
    if (!octo_quant_isa_available(isa))
        return OCTO_EUNSUPPORTED;
    if (r0 > r1 || r1 > m->rows || (n_vec > 1 && y_stride < r1))
        return OCTO_EINVAL;
    bool quantized = octo_quant_type_is_block(m->type);
    if ((quantized ? (const void *)xq : (const void *)x) == NULL)
        return OCTO_EINVAL;
    if (n_vec > OCTO_QUANT_MATMUL_VEC_MAX ||
        (n_vec > 1 && y_stride > SIZE_MAX / sizeof(float) / n_vec))
        return OCTO_ETOOBIG;
    if (n_vec == 0 || r0 == r1)
        return 0;
    if (n_vec == 1) /* the matvec kernels are the one-vector case */
        return octo_quant_matvec_isa(isa, m, x, xq, r0, r1, mode, y);
    size_t nb = m->cols / QK;
    tile_fn tile = select_tile(isa, m->type);
    if (tile != NULL) {
        tile(m->data + r0 * m->row_size, m->row_size, xq, m->cols, r1 - r0, n_vec, y + r0,
             y_stride);
        return 0;
    }
    /* Any other path: the matvec kernel per vector over chunks of rows (a split of the rows
     * never changes a result, quant.h). */
    size_t chunk = CHUNK_BYTES / m->row_size;
    chunk = chunk < 4 ? 4 : chunk - chunk % 4;
    for (size_t c0 = r0; c0 < r1; c0 += chunk) {
        size_t c1 = r1 - c0 < chunk ? r1 : c0 + chunk;
        for (size_t v = 0; v < n_vec; v++) {
            int rc = octo_quant_matvec_isa(isa, m, quantized ? NULL : x + v * m->cols,
                                           quantized ? xq + v * nb : NULL, c0, c1, mode,
                                           y + v * y_stride);
            OCTO_ASSERT(rc == 0); /* the arguments were checked above */
        }
    }
    return 0;
}

int octo_quant_matmul(const struct octo_quant_matrix *m, const float *x,
                      const struct octo_q8_0_block *xq, size_t n_vec, size_t r0, size_t r1,
                      enum octo_quant_mode mode, float *y, size_t y_stride)
{
    return octo_quant_matmul_isa(octo_quant_isa_best(), m, x, xq, n_vec, r0, r1, mode, y, y_stride);
}
