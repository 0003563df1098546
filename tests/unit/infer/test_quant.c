/*
 * test_quant.c — tensor formats and matvec kernels: fp16 exhaustively (and against the F16C
 * instructions when present), bf16, hand-computed Q8_0/Q4_0 blocks, round-trip error bounds,
 * fixed vectors from the NumPy reference (tests/infer/quant_ref.py, generated once and embedded
 * below), argument errors, and every ISA path (scalar, avx2, avx512, avx512vnni, avxvnni: those
 * this CPU has) on many lengths: DETERMINISTIC outputs memcmp-equal across paths and row splits,
 * FAST outputs within OCTO_QUANT_FAST_RTOL of a float64 reference and split-invariant too;
 * the extreme partials (weights -128, activations +-127) exact; octo_quant_matmul (several
 * vectors) bit-identical to the matvec per vector on every path, mode and row split, and its
 * argument errors. (Kernel speed is bench/bench_quant's business, not the unit tests'.)
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "infer/quant.h"
#include "test.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

/* ---- fixed vectors: output of `/usr/bin/python3 tests/infer/quant_ref.py` ---------------- */
static const char REF_W_Q8_0[] =
    "082881851e930fada69bf82d1ed934868649b646947e0e63d35984dd1195be25844bdd27812dd9b951c3b0f9f837c7"
    "0e833a4e0e3820d353964ddd84aaf89448b598a8b6dc278d2f5e62fc5570d577150cd87125d73a364e6c8aa07092f1"
    "997fe49d5a61ecd9f827f8c02d885e971c7f0e3c7de4c459473ec48ef162fd638c306e3d21e195ad3500ba27a1404e"
    "c6e7e45d8b3fdf1f60ed5edbd9848e7bd58e027c7b2693f47fb774091000283e3bf81c31e2352c39cfdb52fa4e90c1"
    "ebaa7f486bf0c2f57e4c10f7e51a9c87";
static const char REF_W_Q4_0[] =
    "003830c01af199e352e2076b9a164ba000ddcd37c0ab56d41dd46308377b14d9301c2d39cdb75f3512f2e813f19be0"
    "07a7eb21269ba4e8b7c9fc952f822ff650174460aafcd25484aab7fef403bcfa8a020f64fa9602d9127a7af0b794d4"
    "0936159ac595043b7a93a863effc";
static const char REF_X_Q8_0[] =
    "081c8189aae463b167d4c9d3ca7e9e3c840a6ed49bb1460b1950f5c3891bd8756817a41b810a91914cc1c774a8336b"
    "7a90bc2eaaca58bf3ecc7f3536b8155cecac9130bf";
static const double REF_DOT_F32[3] = {12.085316464281249, 5.9509915064573136, 2.1229908900758119};
static const double REF_DOT_F16[3] = {12.085292491319706, 5.9510017795873864, 2.1223186969946255};
static const double REF_DOT_Q8_0[3] = {12.09365677961614, 5.8918719375506043, 2.1483395090326667};
static const double REF_DOT_Q4_0[3] = {12.221242329105735, 5.5872136428952217, 2.3107684403657913};

/* ---- helpers -------------------------------------------------------------------------- */

static uint32_t rng_state;

static uint32_t xorshift32(void)
{
    uint32_t s = rng_state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    rng_state = s;
    return s;
}

/* Same generator as quant_ref.py: (u >> 8) * 2^-23 - 1, times scale. */
static void rand_floats(uint32_t seed, float *out, size_t n, float scale)
{
    rng_state = seed;
    for (size_t i = 0; i < n; i++) {
        double v = (double)(xorshift32() >> 8) * 0x1p-23 - 1.0;
        out[i] = (float)(v * (double)scale);
    }
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bitsf(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* float64 dot of row r of m (dequantized) with x (F32/F16) or dequantized xq (Q types), and the
 * sum of |products| for the tolerance. */
static int ref_dot(const struct octo_quant_matrix *m, size_t r, const float *x,
                   const struct octo_q8_0_block *xq, double *dot, double *sum_abs)
{
    float *w = octo_malloc(m->cols * sizeof(float));
    float *xd = octo_malloc(m->cols * sizeof(float));
    OCTO_ASSERT(w != NULL && xd != NULL);
    int rc = octo_quant_dequantize_row(m->type, m->data + r * m->row_size, m->row_size, m->cols, w);
    if (rc == 0 && xq != NULL)
        rc = octo_quant_dequantize_row(OCTO_QUANT_Q8_0, xq, m->cols / 32 * 34, m->cols, xd);
    else if (rc == 0)
        memcpy(xd, x, m->cols * sizeof(float));
    double d = 0, s = 0;
    for (size_t i = 0; i < m->cols; i++) {
        d += (double)w[i] * (double)xd[i];
        s += fabs((double)w[i] * (double)xd[i]);
    }
    *dot = d;
    *sum_abs = s;
    octo_free(w);
    octo_free(xd);
    return rc;
}

/* ---- fp16 / bf16 ---------------------------------------------------------------------- */

static void test_fp16_exhaustive_roundtrip(void)
{
    for (uint32_t h = 0; h < 65536; h++) {
        float f = octo_fp16_to_fp32((uint16_t)h);
        uint16_t back = octo_fp32_to_fp16(f);
        bool is_nan = (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
        if (is_nan) {
            CHECK(isnan(f));
            CHECK_EQ_INT(back, h | 0x200u); /* quieted, payload and sign kept */
        } else {
            CHECK_EQ_INT(back, h);
            if ((h & 0x7fffu) != 0x7c00u) {
                CHECK(isfinite(f));
            }
        }
    }
}

#if HAVE_X86
__attribute__((target("f16c"))) static float hw_h2f(uint16_t h)
{
    return _cvtsh_ss(h);
}

__attribute__((target("f16c"))) static uint16_t hw_f2h(float f)
{
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}
#endif

/* Cross-check against the F16C instructions: all halves, and 4M random + structured floats. */
static void test_fp16_matches_f16c(void)
{
#if HAVE_X86
    /* the AVX2 path includes F16C (clang's __builtin_cpu_supports has no "f16c") */
    if (!octo_quant_isa_available(OCTO_QUANT_ISA_AVX2)) {
        printf("  (no AVX2/F16C on this CPU: skipped)\n");
        return;
    }
    for (uint32_t h = 0; h < 65536; h++)
        CHECK_EQ_INT(fbits(octo_fp16_to_fp32((uint16_t)h)), fbits(hw_h2f((uint16_t)h)));
    rng_state = 12345;
    for (uint32_t i = 0; i < (1u << 22); i++) {
        uint32_t u = xorshift32();
        if (i & 1) /* concentrate on the half range: exponents 100..145 */
            u = (u & 0x807fffffu) | ((100u + (u >> 23) % 46u) << 23);
        float f = bitsf(u);
        CHECK_EQ_INT(octo_fp32_to_fp16(f), hw_f2h(f));
    }
#endif
}

static void test_fp16_vectors(void)
{
    CHECK_EQ_INT(octo_fp32_to_fp16(1.0f), 0x3c00);
    CHECK_EQ_INT(octo_fp32_to_fp16(-2.0f), 0xc000);
    CHECK_EQ_INT(octo_fp32_to_fp16(65504.0f), 0x7bff);
    CHECK_EQ_INT(octo_fp32_to_fp16(65519.99f), 0x7bff);
    CHECK_EQ_INT(octo_fp32_to_fp16(65520.0f), 0x7c00);        /* tie to even -> infinity */
    CHECK_EQ_INT(octo_fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00); /* tie -> even */
    CHECK_EQ_INT(octo_fp32_to_fp16(1.0f + 0x3p-11f), 0x3c02); /* tie -> even (up) */
    CHECK_EQ_INT(octo_fp32_to_fp16(0x1p-24f), 0x0001);        /* smallest subnormal */
    CHECK_EQ_INT(octo_fp32_to_fp16(0x1p-25f), 0x0000);        /* tie -> 0 */
    CHECK_EQ_INT(octo_fp32_to_fp16(0x1.8p-25f), 0x0001);
    CHECK_EQ_INT(octo_fp32_to_fp16(0x1p-14f), 0x0400); /* smallest normal */
    CHECK_EQ_INT(octo_fp32_to_fp16(0x1.ffcp-15f),
                 0x0400); /* tie above the largest subnormal: up to even */
    CHECK_EQ_INT(octo_fp32_to_fp16(0x1.ff8p-15f), 0x03ff); /* the largest subnormal */
    CHECK_EQ_INT(octo_fp32_to_fp16(-0.0f), 0x8000);
    CHECK_EQ_INT(octo_fp32_to_fp16(INFINITY), 0x7c00);
    CHECK_EQ_INT(octo_fp32_to_fp16(-INFINITY), 0xfc00);
    CHECK_EQ_INT(octo_fp32_to_fp16(1e-30f), 0);
    CHECK_EQ_INT(octo_fp32_to_fp16(NAN) & 0x7e00, 0x7e00);
    CHECK(octo_fp16_to_fp32(0x0001) == 0x1p-24f);
    CHECK(octo_fp16_to_fp32(0x03ff) == 0x3ffp-24f);
    CHECK(octo_fp16_to_fp32(0x3555) == 0x1.554p-2f);
    CHECK(octo_fp16_to_fp32(0xfbff) == -65504.0f);
    CHECK_EQ_INT(fbits(octo_fp16_to_fp32(0x8000)), 0x80000000u);
    CHECK(isinf(octo_fp16_to_fp32(0x7c00)));
}

static void test_bf16(void)
{
    CHECK(octo_bf16_to_fp32(0x3f80) == 1.0f);
    CHECK(octo_bf16_to_fp32(0xc040) == -3.0f);
    CHECK(octo_bf16_to_fp32(0x0001) == 0x1p-133f);
    CHECK(isinf(octo_bf16_to_fp32(0x7f80)));
    CHECK(isnan(octo_bf16_to_fp32(0x7fc0)));
    uint16_t raw[2] = {0x3f80, 0x4049}; /* 1.0, 3.140625 */
    float y[2];
    CHECK_OK(octo_quant_dequantize_row(OCTO_QUANT_BF16, raw, sizeof(raw), 2, y));
    CHECK(y[0] == 1.0f);
    CHECK(y[1] == 3.140625f);
}

/* ---- sizes and blocks ----------------------------------------------------------------- */

static void test_row_size(void)
{
    size_t s = 0;
    CHECK_OK(octo_quant_row_size(OCTO_QUANT_F32, 7, &s));
    CHECK_EQ_INT(s, 28);
    CHECK_OK(octo_quant_row_size(OCTO_QUANT_F16, 7, &s));
    CHECK_EQ_INT(s, 14);
    CHECK_OK(octo_quant_row_size(OCTO_QUANT_BF16, 3, &s));
    CHECK_EQ_INT(s, 6);
    CHECK_OK(octo_quant_row_size(OCTO_QUANT_Q8_0, 4096, &s));
    CHECK_EQ_INT(s, 128 * 34);
    CHECK_OK(octo_quant_row_size(OCTO_QUANT_Q4_0, 4096, &s));
    CHECK_EQ_INT(s, 128 * 18);
    CHECK_ERR(octo_quant_row_size(OCTO_QUANT_Q4_0, 48, &s), OCTO_EINVAL);
    CHECK_ERR(octo_quant_row_size(OCTO_QUANT_Q8_0, 0, &s), OCTO_EINVAL);
    CHECK_ERR(octo_quant_row_size(OCTO_QUANT_F32, 0, &s), OCTO_EINVAL);
    CHECK_ERR(octo_quant_row_size((enum octo_quant_type)3, 32, &s), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_quant_row_size(OCTO_QUANT_F32, OCTO_QUANT_COLS_MAX + 1, &s), OCTO_ETOOBIG);
    CHECK_OK(octo_quant_row_size(OCTO_QUANT_F32, OCTO_QUANT_COLS_MAX, &s));
    CHECK(octo_quant_type_is_block(OCTO_QUANT_Q8_0) && octo_quant_type_is_block(OCTO_QUANT_Q4_0));
    CHECK(!octo_quant_type_is_block(OCTO_QUANT_F32) && !octo_quant_type_is_block(OCTO_QUANT_F16) &&
          !octo_quant_type_is_block(OCTO_QUANT_BF16));
}

static void test_q8_0_hand_block(void)
{
    float x[32];
    for (int j = 0; j < 32; j++)
        x[j] = (float)(j - 16);
    uint8_t out[34];
    /* amax 16, d = 16/127 -> fp16 0x3008; q = round((j-16) * 127/16), half away from zero */
    CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 32, out, sizeof(out)), 34);
    CHECK_HEX(out, 34, "083081899199a1a9b1b9c0c8d0d8e0e8f0f8000810182028303840474f575f676f77");
    struct octo_q8_0_block blk;
    CHECK_OK(octo_quant_act_q8_0(x, 32, &blk, 1));
    CHECK_MEM(&blk, out, 34);
    /* zeros: d = 0, id = 0 */
    memset(x, 0, sizeof(x));
    CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 32, out, sizeof(out)), 34);
    uint8_t zero[34] = {0};
    CHECK_MEM(out, zero, 34);
    /* exact ties round away from zero: x = 0.5 d and -0.5 d with amax 127 d, d = 1 */
    x[0] = 127.0f;
    x[1] = 0.5f;
    x[2] = -0.5f;
    x[3] = 2.5f;
    CHECK_OK(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 32, out, sizeof(out)));
    CHECK_EQ_INT(out[0], 0x00); /* fp16 1.0 = 0x3c00 little-endian */
    CHECK_EQ_INT(out[1], 0x3c);
    CHECK_EQ_INT((int8_t)out[2], 127);
    CHECK_EQ_INT((int8_t)out[3], 1);
    CHECK_EQ_INT((int8_t)out[4], -1);
    CHECK_EQ_INT((int8_t)out[5], 3);
    float y[32];
    CHECK_OK(octo_quant_dequantize_row(OCTO_QUANT_Q8_0, out, sizeof(out), 32, y));
    CHECK(y[0] == 127.0f && y[1] == 1.0f && y[2] == -1.0f && y[3] == 3.0f && y[31] == 0.0f);
}

static void test_q4_0_hand_block(void)
{
    float x[32];
    for (int j = 0; j < 32; j++)
        x[j] = (float)(j - 16);
    uint8_t out[18];
    /* max = -16 (first largest |x|), d = 2, id = 0.5, q = min(15, (int8)(x/2 + 8.5));
     * low nibbles hold elements 0..15, high nibbles 16..31 */
    CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 32, out, sizeof(out)), 18);
    CHECK_HEX(out, 18, "0040809191a2a2b3b3c4c4d5d5e6e6f7f7f8");
    float y[32];
    CHECK_OK(octo_quant_dequantize_row(OCTO_QUANT_Q4_0, out, sizeof(out), 32, y));
    CHECK(y[0] == -16.0f); /* (0 - 8) * 2 */
    CHECK(y[16] == 0.0f);  /* (8 - 8) * 2 */
    CHECK(y[31] == 14.0f); /* clamped at 15: (15 - 8) * 2 */
    CHECK(y[1] == -14.0f); /* -15 -> q = (int8)1.0 = 1 */
    /* sign of d follows the first value of largest magnitude */
    memset(x, 0, sizeof(x));
    x[5] = -3.0f;
    x[9] = 3.0f;
    CHECK_OK(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 32, out, sizeof(out)));
    CHECK_HEX(out, 18, "00368888888888808888888f888888888888");
    memset(x, 0, sizeof(x));
    CHECK_OK(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 32, out, sizeof(out)));
    /* all zeros: d = 0 / -8 = -0.0, stored as fp16 0x8000 exactly as ggml does */
    CHECK_HEX(out, 18, "008088888888888888888888888888888888");
}

static void test_f32_f16_rows(void)
{
    float x[5] = {1.0f, -2.5f, 65504.0f, 1e-8f, 0.1f};
    uint8_t out[20];
    CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_F32, x, 5, out, sizeof(out)), 20);
    CHECK_MEM(out, x, 20);
    CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_F16, x, 5, out, sizeof(out)), 10);
    CHECK_HEX(out, 10, "003c00c1ff7b0000662e"); /* 1e-8 < 2^-25 -> +0 */
    float y[5];
    CHECK_OK(octo_quant_dequantize_row(OCTO_QUANT_F16, out, 10, 5, y));
    CHECK(y[0] == 1.0f && y[1] == -2.5f && y[2] == 65504.0f);
    CHECK(y[4] == octo_fp16_to_fp32(0x2e66));
}

static void test_quantize_errors(void)
{
    float x[64] = {0};
    uint8_t out[64 * 4];
    struct octo_q8_0_block blk[2];
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 0, out, sizeof(out)), OCTO_EINVAL);
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 33, out, sizeof(out)), OCTO_EINVAL);
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 31, out, sizeof(out)), OCTO_EINVAL);
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_BF16, x, 32, out, sizeof(out)), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_quant_quantize_row((enum octo_quant_type)6, x, 32, out, sizeof(out)),
              OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 64, out, 67), OCTO_ENOSPACE);
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 64, out, 35), OCTO_ENOSPACE);
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_F32, x, 3, out, 11), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 64, out, 36), 36);
    x[40] = NAN;
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 64, out, sizeof(out)), OCTO_ERANGE);
    CHECK_ERR(octo_quant_act_q8_0(x, 64, blk, 2), OCTO_ERANGE);
    x[40] = -INFINITY;
    CHECK_ERR(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 64, out, sizeof(out)), OCTO_ERANGE);
    x[40] = 0.0f;
    CHECK_ERR(octo_quant_act_q8_0(x, 64, blk, 1), OCTO_ENOSPACE);
    CHECK_ERR(octo_quant_act_q8_0(x, 48, blk, 2), OCTO_EINVAL);
    CHECK_ERR(octo_quant_act_q8_0(x, 0, blk, 2), OCTO_EINVAL);
    CHECK_OK(octo_quant_act_q8_0(x, 64, blk, 2));
    float y[64];
    CHECK_ERR(octo_quant_dequantize_row(OCTO_QUANT_Q8_0, out, 67, 64, y), OCTO_EMALFORMED);
    CHECK_ERR(octo_quant_dequantize_row(OCTO_QUANT_Q4_0, out, 35, 64, y), OCTO_EMALFORMED);
    CHECK_ERR(octo_quant_dequantize_row(OCTO_QUANT_F16, out, 5, 3, y), OCTO_EMALFORMED);
    CHECK_ERR(octo_quant_dequantize_row(OCTO_QUANT_Q4_0, out, 36, 40, y), OCTO_EINVAL);
    CHECK_ERR(octo_quant_dequantize_row((enum octo_quant_type)7, out, 36, 32, y),
              OCTO_EUNSUPPORTED);
    /* tiny and huge (finite) inputs do not trip anything */
    for (int i = 0; i < 64; i++)
        x[i] = (i % 2 ? 1e-40f : -3e38f);
    CHECK_OK(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 64, out, sizeof(out)));
    CHECK_OK(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 64, out, sizeof(out)));
    for (int i = 0; i < 64; i++)
        x[i] = (i % 3 ? 1e-40f : 0.0f); /* d underflows, 1/d overflows */
    CHECK_OK(octo_quant_act_q8_0(x, 64, blk, 2));
    CHECK_EQ_INT(blk[0].d, 0);
    CHECK_OK(octo_quant_quantize_row(OCTO_QUANT_Q4_0, x, 64, out, sizeof(out)));
}

/* Round trip: Q8_0 |x - y| <= d/2 plus the fp16 rounding of d (127 |dh - d|); Q4_0 <= |d| (the
 * clamp at 15 costs up to one step on the side opposite the max) plus 8 |dh - d|. */
static void test_roundtrip_bounds(void)
{
    enum { N = 4096 };
    float *x = octo_malloc(N * sizeof(float));
    float *y = octo_malloc(N * sizeof(float));
    uint8_t *q = octo_malloc(N / 32 * 34);
    CHECK(x != NULL && y != NULL && q != NULL);
    static const float scales[] = {1e-3f, 0.25f, 1.0f, 37.0f, 3e4f};
    for (size_t si = 0; si < OCTO_ARRAY_LEN(scales); si++) {
        rand_floats((uint32_t)(77 + si), x, N, scales[si]);
        for (int t = 0; t < 2; t++) {
            enum octo_quant_type type = t ? OCTO_QUANT_Q4_0 : OCTO_QUANT_Q8_0;
            CHECK_OK(octo_quant_quantize_row(type, x, N, q, N / 32 * 34));
            CHECK_OK(octo_quant_dequantize_row(type, q, N / 32 * 34, N, y));
            for (size_t b = 0; b < N / 32; b++) {
                float amax = 0, max = 0;
                for (size_t j = 0; j < 32; j++) {
                    if (amax < fabsf(x[b * 32 + j])) {
                        amax = fabsf(x[b * 32 + j]);
                        max = x[b * 32 + j];
                    }
                }
                double d = t ? fabs((double)(max / -8.0f)) : (double)(amax / 127.0f);
                double dh = fabs((double)octo_fp16_to_fp32(octo_fp32_to_fp16((float)d)));
                double bound = t ? d * 1.0001 + 8 * fabs(dh - d) : d * 0.5001 + 127 * fabs(dh - d);
                for (size_t j = 0; j < 32; j++) {
                    double err = fabs((double)x[b * 32 + j] - (double)y[b * 32 + j]);
                    if (!(err <= bound + 1e-30)) {
                        printf("  type %d scale %g block %zu elem %zu err %g bound %g\n", t,
                               (double)scales[si], b, j, err, bound);
                        CHECK(err <= bound + 1e-30);
                    }
                }
            }
        }
    }
    octo_free(x);
    octo_free(y);
    octo_free(q);
}

/* ---- NumPy reference ------------------------------------------------------------------ */

static void test_numpy_reference(void)
{
    enum { ROWS = 3, COLS = 64 };
    float w[ROWS * COLS], x[COLS];
    rand_floats(1, w, ROWS * COLS, 4.0f);
    rand_floats(2, x, COLS, 0.5f);
    uint8_t wq8[ROWS * 68], wq4[ROWS * 36];
    uint16_t w16[ROWS * COLS];
    for (size_t r = 0; r < ROWS; r++) {
        CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q8_0, w + r * COLS, COLS, wq8 + r * 68, 68),
                     68);
        CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q4_0, w + r * COLS, COLS, wq4 + r * 36, 36),
                     36);
        CHECK_OK(
            octo_quant_quantize_row(OCTO_QUANT_F16, w + r * COLS, COLS, w16 + r * COLS, COLS * 2));
    }
    struct octo_q8_0_block xq[COLS / 32];
    CHECK_OK(octo_quant_act_q8_0(x, COLS, xq, COLS / 32));
    CHECK_HEX(wq8, sizeof(wq8), REF_W_Q8_0);
    CHECK_HEX(wq4, sizeof(wq4), REF_W_Q4_0);
    CHECK_HEX(xq, sizeof(xq), REF_X_Q8_0);

    struct {
        enum octo_quant_type type;
        const void *data;
        size_t len;
        const double *ref;
    } cases[] = {
        {OCTO_QUANT_F32, w, sizeof(w), REF_DOT_F32},
        {OCTO_QUANT_F16, w16, sizeof(w16), REF_DOT_F16},
        {OCTO_QUANT_Q8_0, wq8, sizeof(wq8), REF_DOT_Q8_0},
        {OCTO_QUANT_Q4_0, wq4, sizeof(wq4), REF_DOT_Q4_0},
    };
    for (size_t c = 0; c < OCTO_ARRAY_LEN(cases); c++) {
        struct octo_quant_matrix m;
        CHECK_OK(
            octo_quant_matrix_init(&m, cases[c].type, cases[c].data, cases[c].len, ROWS, COLS));
        for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
            if (!octo_quant_isa_available((enum octo_quant_isa)isa))
                continue;
            for (int mode = 0; mode < 2; mode++) {
                float y[ROWS];
                CHECK_OK(octo_quant_matvec_isa((enum octo_quant_isa)isa, &m, x, xq, 0, ROWS,
                                               (enum octo_quant_mode)mode, y));
                for (size_t r = 0; r < ROWS; r++) {
                    double err = fabs((double)y[r] - cases[c].ref[r]);
                    CHECK(err <= 1e-5 * (1.0 + fabs(cases[c].ref[r])));
                }
            }
        }
    }
}

/* ---- matrices and matvec errors -------------------------------------------------------- */

static void test_matrix_init_errors(void)
{
    static float buf[256];
    const uint8_t *bytes = (const uint8_t *)buf;
    struct octo_quant_matrix m;
    CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_F32, buf, sizeof(buf), 4, 64));
    CHECK_EQ_INT(m.row_size, 256);
    CHECK_EQ_INT(m.rows, 4);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_F32, buf, sizeof(buf) - 1, 4, 64),
              OCTO_EMALFORMED);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_F32, bytes + 2, 512, 1, 4), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_Q8_0, bytes + 1, 512, 1, 32), OCTO_EINVAL);
    CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_Q8_0, bytes + 2, 34, 1, 32));
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_Q4_0, buf, sizeof(buf), 0, 32), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_Q4_0, buf, sizeof(buf), 1, 40), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_BF16, buf, sizeof(buf), 1, 32),
              OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_F16, NULL, 0, 1, 32), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_F32, buf, sizeof(buf), SIZE_MAX / 8, 64),
              OCTO_ETOOBIG);
    CHECK_ERR(octo_quant_matrix_init(&m, OCTO_QUANT_F32, buf, sizeof(buf), SIZE_MAX / 1024, 64),
              OCTO_EMALFORMED);
}

static void test_matvec_errors(void)
{
    static float w[4 * 32], x[32];
    struct octo_q8_0_block xq[1];
    float y[4];
    struct octo_quant_matrix m;
    CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_F32, w, sizeof(w), 4, 32));
    CHECK_ERR(octo_quant_matvec(&m, x, NULL, 3, 2, OCTO_QUANT_FAST, y), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matvec(&m, x, NULL, 0, 5, OCTO_QUANT_FAST, y), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matvec(&m, NULL, xq, 0, 4, OCTO_QUANT_FAST, y), OCTO_EINVAL);
    CHECK_OK(octo_quant_matvec(&m, x, NULL, 2, 2, OCTO_QUANT_FAST, y)); /* empty range */
    CHECK_ERR(octo_quant_matvec_isa((enum octo_quant_isa)9, &m, x, NULL, 0, 4, OCTO_QUANT_FAST, y),
              OCTO_EUNSUPPORTED);
    CHECK(!octo_quant_isa_available((enum octo_quant_isa)9));
    CHECK(octo_quant_isa_available(OCTO_QUANT_ISA_SCALAR));
    CHECK(octo_quant_isa_available(octo_quant_isa_best()));
    CHECK_STR(octo_quant_isa_name(OCTO_QUANT_ISA_SCALAR), "scalar");
    CHECK_STR(octo_quant_isa_name(OCTO_QUANT_ISA_AVX2), "avx2");
    CHECK_STR(octo_quant_isa_name(OCTO_QUANT_ISA_AVX512), "avx512");
    CHECK_STR(octo_quant_isa_name(OCTO_QUANT_ISA_AVX512_VNNI), "avx512vnni");
    CHECK_STR(octo_quant_isa_name(OCTO_QUANT_ISA_AVX_VNNI), "avxvnni");
    /* a path implies the ones it builds on */
    if (octo_quant_isa_available(OCTO_QUANT_ISA_AVX512_VNNI))
        CHECK(octo_quant_isa_available(OCTO_QUANT_ISA_AVX512));
    if (octo_quant_isa_available(OCTO_QUANT_ISA_AVX512) ||
        octo_quant_isa_available(OCTO_QUANT_ISA_AVX_VNNI))
        CHECK(octo_quant_isa_available(OCTO_QUANT_ISA_AVX2));
    CHECK_STR(octo_quant_isa_name((enum octo_quant_isa)9), "unknown");
    static uint8_t wq[4 * 34];
    CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_Q8_0, wq, sizeof(wq), 4, 32));
    CHECK_ERR(octo_quant_matvec(&m, x, NULL, 0, 4, OCTO_QUANT_DETERMINISTIC, y), OCTO_EINVAL);
    memset(xq, 0, sizeof(xq));
    CHECK_OK(octo_quant_matvec(&m, NULL, xq, 1, 3, OCTO_QUANT_DETERMINISTIC, y));
    CHECK(y[1] == 0.0f && y[2] == 0.0f);
}

/* ---- every ISA path, many lengths ------------------------------------------------------ */

/* Builds a rows x n matrix of `type`. raw: random weight bytes with finite random fp16 scales
 * (Q types only), which exercises weight values such as -128 that no quantizer produces. */
static uint8_t *make_matrix(enum octo_quant_type type, size_t rows, size_t n, uint32_t seed,
                            bool raw, struct octo_quant_matrix *m)
{
    size_t rs = 0;
    if (octo_quant_row_size(type, n, &rs) < 0)
        return NULL;
    uint8_t *data = octo_malloc(rows * rs);
    float *row = octo_malloc(n * sizeof(float));
    OCTO_ASSERT(data != NULL && row != NULL);
    for (size_t r = 0; r < rows; r++) {
        float scale = (float)(1u << (r % 5)) * 0.125f;
        rand_floats(seed + (uint32_t)r * 7919u, row, n, scale);
        if (raw) {
            rng_state = seed ^ (uint32_t)(r + 1) * 2654435761u;
            for (size_t i = 0; i < rs; i++)
                data[r * rs + i] = (uint8_t)(xorshift32() >> 24);
            size_t bs = type == OCTO_QUANT_Q8_0 ? 34 : 18;
            for (size_t b = 0; b < n / 32; b++) {
                uint16_t h = octo_fp32_to_fp16(row[b] * 0.01f);
                memcpy(data + r * rs + b * bs, &h, 2);
            }
        } else {
            OCTO_ASSERT(octo_quant_quantize_row(type, row, n, data + r * rs, rs) >= 0);
        }
    }
    octo_free(row);
    OCTO_ASSERT(octo_quant_matrix_init(m, type, data, rows * rs, rows, n) == 0);
    return data;
}

static int check_paths(enum octo_quant_type type, size_t n, bool raw)
{
    enum { ROWS = 5 };
    struct octo_quant_matrix m;
    uint8_t *data = make_matrix(type, ROWS, n, (uint32_t)(n * 31 + (size_t)type + 1), raw, &m);
    float *x = octo_malloc(n * sizeof(float));
    struct octo_q8_0_block *xq = octo_malloc((n / 32 + 1) * sizeof(*xq));
    OCTO_ASSERT(data != NULL && x != NULL && xq != NULL);
    rand_floats((uint32_t)n + 99u, x, n, 2.0f);
    bool q = octo_quant_type_is_block(type);
    if (q)
        OCTO_ASSERT(octo_quant_act_q8_0(x, n, xq, n / 32) == 0);
    int fails = 0;
    float ydet[OCTO_QUANT_ISA_COUNT][ROWS];
    for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
        if (!octo_quant_isa_available((enum octo_quant_isa)isa))
            continue;
        float yf[ROWS], ysplit[ROWS];
        OCTO_ASSERT(octo_quant_matvec_isa((enum octo_quant_isa)isa, &m, x, xq, 0, ROWS,
                                          OCTO_QUANT_DETERMINISTIC, ydet[isa]) == 0);
        OCTO_ASSERT(octo_quant_matvec_isa((enum octo_quant_isa)isa, &m, x, xq, 0, ROWS,
                                          OCTO_QUANT_FAST, yf) == 0);
        /* a split of the rows in two ranges gives the same bits */
        OCTO_ASSERT(octo_quant_matvec_isa((enum octo_quant_isa)isa, &m, x, xq, 0, 2,
                                          OCTO_QUANT_DETERMINISTIC, ysplit) == 0);
        OCTO_ASSERT(octo_quant_matvec_isa((enum octo_quant_isa)isa, &m, x, xq, 2, ROWS,
                                          OCTO_QUANT_DETERMINISTIC, ysplit) == 0);
        if (memcmp(ysplit, ydet[isa], sizeof(ysplit)) != 0) {
            printf("  split differs: type %d n %zu isa %d\n", (int)type, n, isa);
            fails++;
        }
        if (memcmp(ydet[isa], ydet[0], sizeof(ydet[0])) != 0) {
            printf("  DETERMINISTIC differs from scalar: type %d n %zu isa %d raw %d\n", (int)type,
                   n, isa, (int)raw);
            fails++;
        }
        for (size_t r = 0; r < ROWS; r++) {
            double ref, sum_abs;
            OCTO_ASSERT(ref_dot(&m, r, x, q ? xq : NULL, &ref, &sum_abs) == 0);
            double tol = OCTO_QUANT_FAST_RTOL * sum_abs + 1e-30;
            if (!(fabs((double)yf[r] - ref) <= tol) || !(fabs((double)ydet[isa][r] - ref) <= tol)) {
                printf("  tolerance: type %d n %zu isa %d row %zu fast %.9g det %.9g ref %.9g\n",
                       (int)type, n, isa, r, (double)yf[r], (double)ydet[isa][r], ref);
                fails++;
            }
        }
    }
    octo_free(data);
    octo_free(x);
    octo_free(xq);
    return fails;
}

static void test_isa_paths_float(void)
{
    static const size_t lens[] = {1,   2,    3,    7,    8,    15,   16,   17,   31,    32,
                                  33,  47,   63,   64,   65,   100,  127,  128,  129,   255,
                                  256, 1000, 1023, 2048, 2049, 4096, 4103, 5120, 11008, 11008 + 13};
    int fails = 0;
    printf("  best ISA: %s\n", octo_quant_isa_name(octo_quant_isa_best()));
    for (size_t i = 0; i < OCTO_ARRAY_LEN(lens); i++) {
        fails += check_paths(OCTO_QUANT_F32, lens[i], false);
        fails += check_paths(OCTO_QUANT_F16, lens[i], false);
    }
    CHECK_EQ_INT(fails, 0);
}

static void test_isa_paths_quantized(void)
{
    int fails = 0;
    for (size_t n = 32; n <= 11008; n = n < 512 ? n + 32 : n * 2 + 32) {
        for (int raw = 0; raw < 2; raw++) {
            fails += check_paths(OCTO_QUANT_Q8_0, n, raw);
            fails += check_paths(OCTO_QUANT_Q4_0, n, raw);
        }
    }
    static const size_t more[] = {2048, 4096, 5632, 11008};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(more); i++) {
        fails += check_paths(OCTO_QUANT_Q8_0, more[i], false);
        fails += check_paths(OCTO_QUANT_Q4_0, more[i], true);
    }
    /* the AVX-512 VNNI Q4_0 kernel's limit for preparing the activation once per call (8192
     * elements), and one or two blocks more, which take the per-group preparation instead */
    static const size_t edge[] = {8192, 8192 + 32, 8192 + 64};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(edge); i++) {
        for (int raw = 0; raw < 2; raw++)
            fails += check_paths(OCTO_QUANT_Q4_0, edge[i], raw);
    }
    CHECK_EQ_INT(fails, 0);
}

/* The multi-row kernels: every split of 11 rows into two ranges, and row by row, gives the
 * bits of the whole range in both modes, on every path, for lengths that end on a full
 * eight-block chunk, a pair, or a lone block. */
static void test_row_splits(void)
{
    enum { ROWS = 11 };
    static const size_t lens[] = {32, 64, 96, 256, 288, 608, 896, 2048};
    int fails = 0;
    for (int t = 0; t < 2; t++) {
        enum octo_quant_type type = t ? OCTO_QUANT_Q4_0 : OCTO_QUANT_Q8_0;
        for (size_t li = 0; li < OCTO_ARRAY_LEN(lens); li++) {
            size_t n = lens[li];
            struct octo_quant_matrix m;
            uint8_t *data = make_matrix(type, ROWS, n, (uint32_t)(n + 5), t == 1, &m);
            float *x = octo_malloc(n * sizeof(float));
            struct octo_q8_0_block *xq = octo_malloc(n / 32 * sizeof(*xq));
            OCTO_ASSERT(data != NULL && x != NULL && xq != NULL);
            rand_floats((uint32_t)n, x, n, 3.0f);
            OCTO_ASSERT(octo_quant_act_q8_0(x, n, xq, n / 32) == 0);
            float ref[ROWS];
            OCTO_ASSERT(octo_quant_matvec_isa(OCTO_QUANT_ISA_SCALAR, &m, NULL, xq, 0, ROWS,
                                              OCTO_QUANT_DETERMINISTIC, ref) == 0);
            for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
                enum octo_quant_isa ia = (enum octo_quant_isa)isa;
                if (!octo_quant_isa_available(ia))
                    continue;
                for (int mode = 0; mode < 2; mode++) {
                    enum octo_quant_mode md = (enum octo_quant_mode)mode;
                    float full[ROWS], part[ROWS];
                    OCTO_ASSERT(octo_quant_matvec_isa(ia, &m, NULL, xq, 0, ROWS, md, full) == 0);
                    if (md == OCTO_QUANT_DETERMINISTIC && memcmp(full, ref, sizeof(ref)) != 0) {
                        printf("  det != scalar: type %d n %zu isa %s\n", (int)type, n,
                               octo_quant_isa_name(ia));
                        fails++;
                    }
                    for (size_t k = 0; k <= ROWS; k++) {
                        memset(part, 0xff, sizeof(part));
                        OCTO_ASSERT(octo_quant_matvec_isa(ia, &m, NULL, xq, 0, k, md, part) == 0);
                        OCTO_ASSERT(octo_quant_matvec_isa(ia, &m, NULL, xq, k, ROWS, md, part) ==
                                    0);
                        if (memcmp(part, full, sizeof(full)) != 0) {
                            printf("  split at %zu differs: type %d n %zu isa %s mode %d\n", k,
                                   (int)type, n, octo_quant_isa_name(ia), mode);
                            fails++;
                        }
                    }
                    memset(part, 0xff, sizeof(part));
                    for (size_t r = 0; r < ROWS; r++)
                        OCTO_ASSERT(octo_quant_matvec_isa(ia, &m, NULL, xq, r, r + 1, md, part) ==
                                    0);
                    if (memcmp(part, full, sizeof(full)) != 0) {
                        printf("  row by row differs: type %d n %zu isa %s mode %d\n", (int)type, n,
                               octo_quant_isa_name(ia), mode);
                        fails++;
                    }
                }
            }
            octo_free(data);
            octo_free(x);
            octo_free(xq);
        }
    }
    CHECK_EQ_INT(fails, 0);
}

/* The largest partials the integer dots can meet: weights -128 (Q8_0, no quantizer makes
 * them) or nibble 0 (Q4_0, weight -8) against activations -127 and 127, exact on every path;
 * the writes stay inside [r0, r1). */
static void test_extreme_blocks(void)
{
    enum { ROWS = 6, N = 32 * 19 };
    static uint8_t w8[ROWS * N / 32 * 34], w4[ROWS * N / 32 * 18];
    static struct octo_q8_0_block xq[N / 32];
    for (size_t b = 0; b < ROWS * N / 32; b++) {
        w8[b * 34] = 0x00; /* d = 1.0 */
        w8[b * 34 + 1] = 0x3c;
        memset(w8 + b * 34 + 2, 0x80, 32);
        w4[b * 18] = 0x00;
        w4[b * 18 + 1] = 0x3c;
        memset(w4 + b * 18 + 2, 0x00, 16);
    }
    for (size_t b = 0; b < N / 32; b++) {
        xq[b].d = 0x3c00;
        for (size_t j = 0; j < 32; j++)
            xq[b].qs[j] = (int8_t)(b % 2 ? 127 : -127);
    }
    /* blocks alternate -127 / 127: per block +-128*127*32 (Q8_0), +-8*127*32 (Q4_0); 19
     * blocks, ten of them positive: the sum is one positive block */
    struct octo_quant_matrix m8, m4;
    CHECK_OK(octo_quant_matrix_init(&m8, OCTO_QUANT_Q8_0, w8, sizeof(w8), ROWS, N));
    CHECK_OK(octo_quant_matrix_init(&m4, OCTO_QUANT_Q4_0, w4, sizeof(w4), ROWS, N));
    for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
        enum octo_quant_isa ia = (enum octo_quant_isa)isa;
        if (!octo_quant_isa_available(ia))
            continue;
        for (int mode = 0; mode < 2; mode++) {
            float y[ROWS + 2];
            for (size_t i = 0; i < ROWS + 2; i++)
                y[i] = -1.0f;
            CHECK_OK(octo_quant_matvec_isa(ia, &m8, NULL, xq, 1, ROWS - 1,
                                           (enum octo_quant_mode)mode, y));
            CHECK(y[0] == -1.0f && y[ROWS - 1] == -1.0f);
            for (size_t r = 1; r < ROWS - 1; r++)
                CHECK(y[r] == 128.0f * 127.0f * 32.0f);
            CHECK_OK(
                octo_quant_matvec_isa(ia, &m4, NULL, xq, 0, ROWS, (enum octo_quant_mode)mode, y));
            for (size_t r = 0; r < ROWS; r++)
                CHECK(y[r] == 8.0f * 127.0f * 32.0f);
        }
    }
}

/* ---- matmul: several vectors ---------------------------------------------------------- */

/* Scales at the fp16 extremes (smallest subnormal, largest finite, both signs) on weights and
 * activations, with Q4_0 nibbles 0 and 15 and Q8_0 bytes -128..127 against activations +-127:
 * the AVX-512 VNNI Q4_0 matvec kernel (rows of up to 8192 elements, as here) accumulates the
 * high-nibble lanes at 16 times their value, fma(16p, s, 16acc), scaled back by 1/16 at the
 * end (the matmul tiles use the plain nibbles), which must round exactly as fma(p, s, acc)
 * even for the smallest products; DETERMINISTIC equals the
 * scalar path on every path, and matmul equals matvec, for 9 rows (two groups and a single
 * row) and 27 blocks (chunks of eight, a pair and a lone block). */
/* With hostile = true the scales include infinities and NaNs with different payloads (a model
 * file may hold anything): results are then inf/NaN, compared by their bits only. */
static void scale_case(const uint16_t *scales, size_t n_scales, bool hostile, int *out_fails)
{
    enum { ROWS = 9, NB = 27, N = NB * 32, NV = 3 };
    static uint8_t w8[ROWS * NB * 34], w4[ROWS * NB * 18];
    static struct octo_q8_0_block xq[NV * NB];
    rng_state = 12345u;
    for (size_t b = 0; b < ROWS * NB; b++) {
        uint16_t d = scales[(b * 3) % n_scales];
        memcpy(w8 + b * 34, &d, 2);
        memcpy(w4 + b * 18, &d, 2);
        for (size_t j = 0; j < 32; j++)
            w8[b * 34 + 2 + j] = (uint8_t)(b % 3 == 0 ? 0x80 : xorshift32() >> 24);
        for (size_t j = 0; j < 16; j++)
            w4[b * 18 + 2 + j] = (uint8_t)(b % 3 == 0 ? (j % 2 ? 0xf0 : 0x0f) : xorshift32() >> 24);
    }
    for (size_t b = 0; b < NV * NB; b++) {
        xq[b].d = scales[(b * 5 + 1) % n_scales];
        for (size_t j = 0; j < 32; j++)
            xq[b].qs[j] =
                (int8_t)(b % 2 ? ((j % 3) ? 127 : -127) : (int)(xorshift32() % 255) - 127);
    }
    int fails = 0;
    for (int t = 0; t < 2; t++) {
        struct octo_quant_matrix m;
        if (t == 0)
            CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_Q8_0, w8, sizeof(w8), ROWS, N));
        else
            CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_Q4_0, w4, sizeof(w4), ROWS, N));
        float ref[NV][ROWS];
        for (size_t v = 0; v < NV; v++)
            CHECK_OK(octo_quant_matvec_isa(OCTO_QUANT_ISA_SCALAR, &m, NULL, xq + v * NB, 0, ROWS,
                                           OCTO_QUANT_DETERMINISTIC, ref[v]));
        for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
            enum octo_quant_isa ia = (enum octo_quant_isa)isa;
            if (!octo_quant_isa_available(ia))
                continue;
            for (int mode = 0; mode < 2; mode++) {
                enum octo_quant_mode md = (enum octo_quant_mode)mode;
                float y[NV][ROWS], ym[NV][ROWS];
                for (size_t v = 0; v < NV; v++)
                    CHECK_OK(octo_quant_matvec_isa(ia, &m, NULL, xq + v * NB, 0, ROWS, md, y[v]));
                CHECK_OK(octo_quant_matmul_isa(ia, &m, NULL, xq, NV, 0, ROWS, md, &ym[0][0], ROWS));
                if (memcmp(y, ym, sizeof(y)) != 0) {
                    printf("  matmul != matvec: type %d isa %s mode %d\n", t,
                           octo_quant_isa_name(ia), mode);
                    fails++;
                }
                if (md == OCTO_QUANT_DETERMINISTIC && memcmp(y, ref, sizeof(ref)) != 0) {
                    printf("  det != scalar: type %d isa %s\n", t, octo_quant_isa_name(ia));
                    fails++;
                }
                /* quant.h: these paths compute FAST with the deterministic structure. */
                bool same_structure = ia == OCTO_QUANT_ISA_AVX2 ||
                                      ia == OCTO_QUANT_ISA_AVX512_VNNI ||
                                      ia == OCTO_QUANT_ISA_AVX_VNNI;
                if (md == OCTO_QUANT_FAST && same_structure && memcmp(y, ref, sizeof(ref)) != 0) {
                    printf("  fast != det: type %d isa %s\n", t, octo_quant_isa_name(ia));
                    fails++;
                }
                for (size_t v = 0; !hostile && v < NV; v++) {
                    for (size_t r = 0; r < ROWS; r++) {
                        double want, sum_abs;
                        OCTO_ASSERT(ref_dot(&m, r, NULL, xq + v * NB, &want, &sum_abs) == 0);
                        if (!(fabs((double)y[v][r] - want) <= OCTO_QUANT_FAST_RTOL * sum_abs)) {
                            printf("  tolerance: type %d isa %s v %zu r %zu\n", t,
                                   octo_quant_isa_name(ia), v, r);
                            fails++;
                        }
                    }
                }
            }
        }
    }
    *out_fails = fails;
}

static void test_scale_extremes(void)
{
    static const uint16_t scales[] = {0x0001, 0x8001, 0x7bff, 0xfbff, 0x3c00, 0x0400, 0x03ff};
    int fails = -1;
    scale_case(scales, OCTO_ARRAY_LEN(scales), false, &fails);
    CHECK_EQ_INT(fails, 0);
    /* +-inf, quiet NaNs with two payloads, a signalling NaN, among ordinary scales. */
    static const uint16_t hostile[] = {0x7c00, 0x3c00, 0xfc00, 0x7e01, 0x0400,
                                       0xfe55, 0x7c01, 0x3800, 0x7bff};
    fails = -1;
    scale_case(hostile, OCTO_ARRAY_LEN(hostile), true, &fails);
    CHECK_EQ_INT(fails, 0);
}

/* octo_quant_matmul against octo_quant_matvec per vector: memcmp-equal for n_vec 1..9, every
 * ISA path, both modes, every split of 11 rows into two ranges, odd lengths (a lone last
 * block, a chunk of eight plus a pair, float tails); a y_stride wider than the rows leaves the
 * gaps untouched; DETERMINISTIC equal to the scalar path. */
static int check_matmul(enum octo_quant_type type, size_t n, bool raw)
{
    enum { ROWS = 11, NV = 9, YS = ROWS + 3 };
    struct octo_quant_matrix m;
    uint8_t *data = make_matrix(type, ROWS, n, (uint32_t)(n * 13 + (size_t)type), raw, &m);
    float *x = octo_malloc(NV * n * sizeof(float));
    struct octo_q8_0_block *xq = octo_malloc((NV * (n / 32) + 1) * sizeof(*xq));
    OCTO_ASSERT(data != NULL && x != NULL && xq != NULL);
    bool q = octo_quant_type_is_block(type);
    for (size_t v = 0; v < NV; v++) {
        rand_floats((uint32_t)(n + 17 * v + 1), x + v * n, n, (float)(v + 1) * 0.75f);
        if (q)
            OCTO_ASSERT(octo_quant_act_q8_0(x + v * n, n, xq + v * (n / 32), n / 32) == 0);
    }
    int fails = 0;
    static float want[2][NV][ROWS], ydet_scalar[NV][ROWS];
    for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
        enum octo_quant_isa ia = (enum octo_quant_isa)isa;
        if (!octo_quant_isa_available(ia))
            continue;
        for (int mode = 0; mode < 2; mode++) {
            enum octo_quant_mode md = (enum octo_quant_mode)mode;
            for (size_t v = 0; v < NV; v++)
                OCTO_ASSERT(octo_quant_matvec_isa(ia, &m, x + v * n, xq + v * (n / 32), 0, ROWS, md,
                                                  want[mode][v]) == 0);
            if (ia == OCTO_QUANT_ISA_SCALAR && md == OCTO_QUANT_DETERMINISTIC)
                memcpy(ydet_scalar, want[mode], sizeof(ydet_scalar));
            if (md == OCTO_QUANT_DETERMINISTIC &&
                memcmp(want[mode], ydet_scalar, sizeof(ydet_scalar)) != 0) {
                printf("  matvec det != scalar: type %d n %zu isa %s\n", (int)type, n,
                       octo_quant_isa_name(ia));
                fails++;
            }
            for (size_t nv = 1; nv <= NV; nv++) {
                for (size_t k = 0; k <= ROWS; k += (nv == NV || nv == 4) ? 1 : 5) {
                    float y[NV * YS];
                    for (size_t i = 0; i < NV * YS; i++)
                        y[i] = -7.0f;
                    OCTO_ASSERT(octo_quant_matmul_isa(ia, &m, x, xq, nv, 0, k, md, y, YS) == 0);
                    OCTO_ASSERT(octo_quant_matmul_isa(ia, &m, x, xq, nv, k, ROWS, md, y, YS) == 0);
                    for (size_t v = 0; v < NV; v++) {
                        bool bad =
                            v < nv && memcmp(y + v * YS, want[mode][v], ROWS * sizeof(float)) != 0;
                        for (size_t i = v < nv ? ROWS : 0; i < YS; i++)
                            bad = bad || y[v * YS + i] != -7.0f;
                        if (bad) {
                            printf("  matmul differs: type %d n %zu raw %d isa %s mode %d nv %zu "
                                   "split %zu vec %zu\n",
                                   (int)type, n, (int)raw, octo_quant_isa_name(ia), mode, nv, k, v);
                            fails++;
                        }
                    }
                }
            }
        }
    }
    octo_free(data);
    octo_free(x);
    octo_free(xq);
    return fails;
}

static void test_matmul_identical(void)
{
    static const size_t qlens[] = {32, 64, 96, 256, 288, 608, 896, 2048};
    static const size_t flens[] = {1, 15, 16, 33, 100, 288, 1000};
    int fails = 0;
    for (size_t i = 0; i < OCTO_ARRAY_LEN(qlens); i++) {
        for (int raw = 0; raw < 2; raw++) {
            fails += check_matmul(OCTO_QUANT_Q8_0, qlens[i], raw);
            fails += check_matmul(OCTO_QUANT_Q4_0, qlens[i], raw);
        }
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(flens); i++) {
        fails += check_matmul(OCTO_QUANT_F32, flens[i], false);
        fails += check_matmul(OCTO_QUANT_F16, flens[i], false);
    }
    CHECK_EQ_INT(fails, 0);
}

/* Larger matrices than one fallback chunk (16 KiB of rows): the chunked loop and the tiles
 * give the matvec's bits on every row. */
static void test_matmul_chunks(void)
{
    enum { ROWS = 70, N = 1024, NV = 6 };
    int fails = 0;
    static const enum octo_quant_type types[] = {OCTO_QUANT_F32, OCTO_QUANT_Q4_0, OCTO_QUANT_Q8_0};
    for (size_t t = 0; t < OCTO_ARRAY_LEN(types); t++) {
        struct octo_quant_matrix m;
        uint8_t *data = make_matrix(types[t], ROWS, N, 77u + (uint32_t)t, false, &m);
        float *x = octo_malloc(NV * N * sizeof(float));
        struct octo_q8_0_block *xq = octo_malloc(NV * N / 32 * sizeof(*xq));
        float *y = octo_malloc(NV * ROWS * sizeof(float));
        float *want = octo_malloc(ROWS * sizeof(float));
        OCTO_ASSERT(data != NULL && x != NULL && xq != NULL && y != NULL && want != NULL);
        rand_floats(3, x, NV * N, 1.5f);
        for (size_t v = 0; v < NV; v++)
            OCTO_ASSERT(octo_quant_act_q8_0(x + v * N, N, xq + v * N / 32, N / 32) == 0);
        for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
            enum octo_quant_isa ia = (enum octo_quant_isa)isa;
            if (!octo_quant_isa_available(ia))
                continue;
            for (int mode = 0; mode < 2; mode++) {
                enum octo_quant_mode md = (enum octo_quant_mode)mode;
                OCTO_ASSERT(octo_quant_matmul_isa(ia, &m, x, xq, NV, 0, ROWS, md, y, ROWS) == 0);
                for (size_t v = 0; v < NV; v++) {
                    OCTO_ASSERT(octo_quant_matvec_isa(ia, &m, x + v * N, xq + v * N / 32, 0, ROWS,
                                                      md, want) == 0);
                    fails += memcmp(y + v * ROWS, want, ROWS * sizeof(float)) != 0;
                }
            }
        }
        octo_free(data);
        octo_free(x);
        octo_free(xq);
        octo_free(y);
        octo_free(want);
    }
    CHECK_EQ_INT(fails, 0);
    /* the default path is the best one */
    enum { R = 8 };
    static float w[R * 64], x[3 * 64], y1[3 * R], y2[3 * R];
    rand_floats(9, w, R * 64, 1.0f);
    rand_floats(10, x, 3 * 64, 1.0f);
    struct octo_quant_matrix m;
    CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_F32, w, sizeof(w), R, 64));
    CHECK_OK(octo_quant_matmul(&m, x, NULL, 3, 0, R, OCTO_QUANT_FAST, y1, R));
    CHECK_OK(
        octo_quant_matmul_isa(octo_quant_isa_best(), &m, x, NULL, 3, 0, R, OCTO_QUANT_FAST, y2, R));
    CHECK(memcmp(y1, y2, sizeof(y1)) == 0);
}

static void test_matmul_errors(void)
{
    static float w[4 * 32], x[3 * 32];
    static uint8_t wq[4 * 34];
    struct octo_q8_0_block xq[3];
    float y[3 * 4];
    struct octo_quant_matrix m, mq;
    CHECK_OK(octo_quant_matrix_init(&m, OCTO_QUANT_F32, w, sizeof(w), 4, 32));
    CHECK_OK(octo_quant_matrix_init(&mq, OCTO_QUANT_Q8_0, wq, sizeof(wq), 4, 32));
    CHECK_ERR(octo_quant_matmul(&m, x, NULL, 2, 3, 2, OCTO_QUANT_FAST, y, 4), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matmul(&m, x, NULL, 2, 0, 5, OCTO_QUANT_FAST, y, 5), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matmul(&m, x, NULL, 2, 0, 4, OCTO_QUANT_FAST, y, 3), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matmul(&m, NULL, xq, 2, 0, 4, OCTO_QUANT_FAST, y, 4), OCTO_EINVAL);
    CHECK_ERR(octo_quant_matmul(&mq, x, NULL, 2, 0, 4, OCTO_QUANT_DETERMINISTIC, y, 4),
              OCTO_EINVAL);
    CHECK_ERR(
        octo_quant_matmul(&m, x, NULL, OCTO_QUANT_MATMUL_VEC_MAX + 1, 0, 4, OCTO_QUANT_FAST, y, 4),
        OCTO_ETOOBIG);
    CHECK_ERR(
        octo_quant_matmul_isa((enum octo_quant_isa)9, &m, x, NULL, 2, 0, 4, OCTO_QUANT_FAST, y, 4),
        OCTO_EUNSUPPORTED);
    /* nothing to do: no vector, an empty range; one vector needs no stride */
    for (size_t i = 0; i < 12; i++)
        y[i] = -1.0f;
    CHECK_OK(octo_quant_matmul(&m, x, NULL, 0, 0, 4, OCTO_QUANT_FAST, y, 4));
    CHECK_OK(octo_quant_matmul(&m, x, NULL, 3, 2, 2, OCTO_QUANT_FAST, y, 4));
    CHECK(y[0] == -1.0f && y[11] == -1.0f);
    memset(xq, 0, sizeof(xq));
    CHECK_OK(octo_quant_matmul(&mq, NULL, xq, 1, 1, 3, OCTO_QUANT_DETERMINISTIC, y, 0));
    CHECK(y[0] == -1.0f && y[1] == 0.0f && y[2] == 0.0f && y[3] == -1.0f);
    CHECK_OK(octo_quant_matmul(&mq, NULL, xq, 3, 1, 3, OCTO_QUANT_FAST, y, 4));
    CHECK(y[4] == -1.0f && y[5] == 0.0f && y[10] == 0.0f && y[11] == -1.0f);
}

/* Says which ISA paths this CPU lets the suite test; with OCTO_QUANT_REQUIRE_ISA=all in the
 * environment (a runner known to have every extension) a missing one is a failure rather than
 * a silent skip. */
static void test_isa_coverage(void)
{
    const char *req = getenv("OCTO_QUANT_REQUIRE_ISA");
    bool all = req != NULL && strcmp(req, "all") == 0;
    printf("  ISA paths tested here:");
    for (int isa = 0; isa < OCTO_QUANT_ISA_COUNT; isa++) {
        enum octo_quant_isa ia = (enum octo_quant_isa)isa;
        bool have = octo_quant_isa_available(ia);
        printf(" %s%s", octo_quant_isa_name(ia), have ? "" : " (SKIPPED: not on this CPU)");
        if (all && !have)
            octo_test_fail_at(__FILE__, __LINE__, "path %s required", octo_quant_isa_name(ia));
    }
    printf("\n");
}

/* octo_quant_act_q8_0 (the SIMD quantizer where the CPU has one) gives octo_quant_quantize_row's
 * bytes: random blocks at magnitudes from 1e-42 (a subnormal d: 1/d is infinite) to 1e30, and
 * blocks of exact halves (the roundf ties). */
static void test_act_q8_0_matches_row(void)
{
    enum { NB = 64 };
    static float x[NB * 32];
    static uint8_t row[NB * 34];
    static struct octo_q8_0_block act[NB];
    uint64_t s = 12345;
    static const float scales[] = {1e-42f, 1e-38f, 1e-6f, 1.0f, 127.0f, 3e5f, 1e30f};
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < NB * 32; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            float u = (float)(int32_t)(s >> 33) / 1073741824.0f; /* [-2, 2) */
            float sc = scales[(i / 32 + round) % 7];
            x[i] = round % 4 == 3 ? (float)((int)(u * 64.0f)) * 0.5f : u * sc;
        }
        CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, NB * 32, row, sizeof(row)),
                     NB * 34);
        CHECK_OK(octo_quant_act_q8_0(x, NB * 32, act, NB));
        CHECK_MEM(act, row, sizeof(row));
    }
    /* exact ties and near-ties: amax 127 makes d = 1 and 1/d = 1, so x * id is x itself */
    static const float ties[] = {127.0f,     0.5f,        -0.5f,        2.5f,    -2.5f, 126.5f,
                                 -126.5f,    0.49999997f, -0.49999997f, 126.49f, -1.5f, 1.5f,
                                 3.4999998f, -3.5f,       0.0f,         -0.0f};
    memset(x, 0, 32 * sizeof(float));
    memcpy(x, ties, sizeof(ties));
    CHECK_EQ_INT(octo_quant_quantize_row(OCTO_QUANT_Q8_0, x, 32, row, 34), 34);
    CHECK_OK(octo_quant_act_q8_0(x, 32, act, 1));
    CHECK_MEM(act, row, 34);
    CHECK_EQ_INT(act[0].qs[1], 1);   /* 0.5 away from zero */
    CHECK_EQ_INT(act[0].qs[2], -1);  /* -0.5 */
    CHECK_EQ_INT(act[0].qs[5], 127); /* 126.5 */
    CHECK_EQ_INT(act[0].qs[7], 0);   /* just below one half */
    CHECK_EQ_INT(act[0].qs[9], 126); /* 126.49 */
}

int main(void)
{
    OCTO_RUN(test_isa_coverage);
    OCTO_RUN(test_fp16_exhaustive_roundtrip);
    OCTO_RUN(test_fp16_matches_f16c);
    OCTO_RUN(test_fp16_vectors);
    OCTO_RUN(test_bf16);
    OCTO_RUN(test_row_size);
    OCTO_RUN(test_q8_0_hand_block);
    OCTO_RUN(test_act_q8_0_matches_row);
    OCTO_RUN(test_q4_0_hand_block);
    OCTO_RUN(test_f32_f16_rows);
    OCTO_RUN(test_quantize_errors);
    OCTO_RUN(test_roundtrip_bounds);
    OCTO_RUN(test_numpy_reference);
    OCTO_RUN(test_matrix_init_errors);
    OCTO_RUN(test_matvec_errors);
    OCTO_RUN(test_isa_paths_float);
    OCTO_RUN(test_isa_paths_quantized);
    OCTO_RUN(test_row_splits);
    OCTO_RUN(test_extreme_blocks);
    OCTO_RUN(test_scale_extremes);
    OCTO_RUN(test_matmul_identical);
    OCTO_RUN(test_matmul_chunks);
    OCTO_RUN(test_matmul_errors);
    return octo_test_finish();
}
