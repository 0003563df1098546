/*
 * quant.h — tensor element formats (fp16, bf16, ggml Q8_0 / Q4_0 blocks) and the row-range
 * matrix-vector kernels the forward pass runs on them.
 *
 * Formats are byte-exact with ggml (ggml-common.h, ggml-quants.c): a Q8_0 block is
 * { fp16 d; int8 qs[32] } (34 bytes), a Q4_0 block { fp16 d; uint8 qs[16] } (18 bytes) with the
 * low nibbles holding elements 0..15 and the high nibbles 16..31. Quantization follows ggml's
 * reference rules exactly (see octo_quant_quantize_row), so a row quantized here is
 * bit-identical to one quantized by ggml's *_ref functions.
 *
 * Matrices are row-major in GGUF layout: `cols` (ne[0]) elements per row, rows stored one after
 * another with a stride of octo_quant_row_size(type, cols) bytes. The kernels compute
 * y[r] = dot(W row r, x) for r in [r0, r1); the caller splits rows among threads (this module
 * is pure: no threads, clocks or I/O, and no allocation in the kernels).
 *
 * For Q8_0/Q4_0 weights the activation x is first quantized to Q8_0 (octo_quant_act_q8_0, once
 * per matvec, shared read-only by all threads) and each block's dot is computed exactly in
 * int32, as ggml does. Two modes:
 *   FAST           fastest summation order per ISA; |y - ref| <= OCTO_QUANT_FAST_RTOL *
 *                  sum_i |w_i * x_i| where ref is the float64 dot of the (dequantized) operands.
 *   DETERMINISTIC  bit-identical results on every ISA path (scalar, AVX2, AVX-VNNI,
 *                  AVX-512, AVX-512 VNNI) and every split of rows. Structure (emulated
 *                  exactly by the scalar path): F32/F16: 16 lanes, lane l accumulates
 *                  elements i = l (mod 16) with a fused multiply-add in element order;
 *                  Q8_0/Q4_0: per block b, eight exact int32 partials p_k (elements
 *                  4k..4k+3), lane (b mod 2)*8 + k accumulates fma((float)p_k, d_w*d_x, lane)
 *                  in block order. The 16 lanes are then
 *                  reduced pairwise: l += l+8, l += l+4, l += l+2, l += l+1 (lane 0 is y).
 *                  Determinism assumes activation blocks with qs in [-127, 127], which
 *                  octo_quant_act_q8_0 always produces.
 *
 * The Q8_0/Q4_0 kernels of the AVX2, AVX-VNNI and AVX-512 VNNI paths run four rows per step
 * (each activation block loaded once for four rows) and compute FAST with the deterministic
 * structure, so there the two modes give the same bits; every row's arithmetic is the same
 * whichever step it falls in, so any split of the rows gives the same bits in both modes.
 * The VNNI paths compute the partials p_k with one vpdpbusd (exact int32 sums of four u8 x s8
 * products; Q8_0 with the weight + 128 as the unsigned operand and the activation-only
 * correction -128 * sum x, Q4_0 with the unsigned nibble and -8 * sum x), and the AVX-512 VNNI
 * one prefetches the next group of rows while it computes the current one (for Q4_0 rows of up
 * to 8192 elements it also prepares the activation side once per call, on the stack, instead
 * of once per group of rows; quant.c). The plain AVX-512
 * path is the earlier one-row kernel, kept for AVX-512 CPUs without VNNI.
 *
 * Several vectors at once (octo_quant_matmul, prompt processing): every y[v][r] is
 * bit-identical to octo_quant_matvec on vector v, on the same ISA path and in both modes (so in
 * DETERMINISTIC mode identical on every path). The AVX-512 VNNI path runs tiles of four rows by
 * four vectors (each weight pair loaded and prepared once per tile); the other paths run the
 * matvec kernel per vector over cache-sized chunks of rows, so the matrix still comes from
 * memory once per call.
 *
 * ISA paths are chosen at run time (__builtin_cpu_supports, CPUID); no -march flags are
 * needed. Tests can force a path with octo_quant_matvec_isa.
 */
#ifndef OCTO_INFER_QUANT_H
#define OCTO_INFER_QUANT_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Element types; the values are ggml_type codes as stored in GGUF tensor infos. */
enum octo_quant_type {
    OCTO_QUANT_F32 = 0,
    OCTO_QUANT_F16 = 1,
    OCTO_QUANT_Q4_0 = 2,
    OCTO_QUANT_Q8_0 = 8,
    OCTO_QUANT_BF16 = 30,
};

#define OCTO_QUANT_BLOCK 32 /* elements per Q8_0 / Q4_0 block */

/* Whether `type` is a block format (Q8_0, Q4_0): rows are whole blocks, and the kernels take
 * the activation as Q8_0 blocks (octo_quant_act_q8_0) instead of floats. */
bool octo_quant_type_is_block(enum octo_quant_type type);

/* Largest row length accepted (elements); bounds every size computation. */
#define OCTO_QUANT_COLS_MAX ((size_t)1 << 30)

/* Relative tolerance of FAST mode against a float64 reference (see the design comment). */
#define OCTO_QUANT_FAST_RTOL 1e-4

struct octo_q8_0_block {
    uint16_t d; /* fp16 scale */
    int8_t qs[OCTO_QUANT_BLOCK];
};

struct octo_q4_0_block {
    uint16_t d; /* fp16 scale */
    uint8_t qs[OCTO_QUANT_BLOCK / 2];
};

_Static_assert(sizeof(struct octo_q8_0_block) == 34, "Q8_0 block is 34 bytes as in ggml");
_Static_assert(sizeof(struct octo_q4_0_block) == 18, "Q4_0 block is 18 bytes as in ggml");

enum octo_quant_mode {
    OCTO_QUANT_FAST = 0,
    OCTO_QUANT_DETERMINISTIC = 1,
};

enum octo_quant_isa {
    OCTO_QUANT_ISA_SCALAR = 0,
    OCTO_QUANT_ISA_AVX2 = 1,        /* AVX2 + FMA + F16C */
    OCTO_QUANT_ISA_AVX512 = 2,      /* AVX-512 F/BW/VL + the AVX2 set */
    OCTO_QUANT_ISA_AVX512_VNNI = 3, /* the AVX-512 set + AVX512-VNNI */
    OCTO_QUANT_ISA_AVX_VNNI = 4,    /* the AVX2 set + AVX-VNNI (VEX-encoded vpdpbusd) */
};

#define OCTO_QUANT_ISA_COUNT 5

/* IEEE binary16 -> binary32 (exact; subnormals and infinities kept; a NaN comes out quiet with
 * its sign and payload, as the x86 F16C instruction does). */
float octo_fp16_to_fp32(uint16_t h);

/* binary32 -> binary16, round to nearest even; overflow gives infinity, NaN stays a quiet NaN
 * with the sign and the top payload bits (as the x86 F16C instruction does). */
uint16_t octo_fp32_to_fp16(float f);

/* bfloat16 -> binary32 (exact). */
float octo_bf16_to_fp32(uint16_t h);

/* Bytes taken by a row of `cols` elements of `type` into *out.
 * Errors: OCTO_EUNSUPPORTED unknown type; OCTO_EINVAL cols == 0 or, for Q8_0/Q4_0, not a
 * multiple of OCTO_QUANT_BLOCK; OCTO_ETOOBIG cols > OCTO_QUANT_COLS_MAX. */
OCTO_MUST_USE int octo_quant_row_size(enum octo_quant_type type, size_t cols, size_t *out);

/* Converts n floats to a row of `type` (F32, F16, BF16 unsupported here, Q8_0, Q4_0) in
 * out[0..out_len), with ggml's reference rules for Q8_0 (d = amax/127, id = d ? 1/d : 0,
 * q = roundf(x*id)) and Q4_0 (d = max/-8 where max is the signed value of largest magnitude,
 * q = min(15, (int8)(x*id + 8.5))); d is stored as fp16 after id is computed from the float d.
 * Returns the number of bytes written.
 * Errors: those of octo_quant_row_size (BF16 gives OCTO_EUNSUPPORTED); OCTO_ENOSPACE out_len
 * too small; OCTO_ERANGE (Q8_0/Q4_0 only) an input is infinite or NaN. F32 copies,
 * F16 rounds to nearest even. */
OCTO_MUST_USE int octo_quant_quantize_row(enum octo_quant_type type, const float *x, size_t n,
                                          void *out, size_t out_len);

/* Converts a row of n elements of `type` (all five types) from src[0..src_len) to floats y[n].
 * Errors: those of octo_quant_row_size; OCTO_EMALFORMED src_len < the row size. */
OCTO_MUST_USE int octo_quant_dequantize_row(enum octo_quant_type type, const void *src,
                                            size_t src_len, size_t n, float *y);

/* Activation helper: quantizes x[n] to n/32 Q8_0 blocks in out[0..out_blocks) (the Q8_0 rule
 * above; a pure function, identical on every machine). Quantize once per matvec and share the
 * blocks across row ranges and threads.
 * Errors: OCTO_EINVAL n == 0 or not a multiple of 32; OCTO_ETOOBIG n > OCTO_QUANT_COLS_MAX;
 * OCTO_ENOSPACE out_blocks < n/32; OCTO_ERANGE x holds an infinity or NaN. */
OCTO_MUST_USE int octo_quant_act_q8_0(const float *x, size_t n, struct octo_q8_0_block *out,
                                      size_t out_blocks);

/* A weight matrix borrowed from the caller (e.g. a GGUF tensor mapped in memory); data must
 * stay valid while the struct is used. Filled by octo_quant_matrix_init. */
struct octo_quant_matrix {
    enum octo_quant_type type;
    const uint8_t *data;
    size_t rows;
    size_t cols;     /* elements per row, GGUF ne[0] */
    size_t row_size; /* bytes per row */
};

/* Describes the rows x cols matrix of `type` (F32, F16, Q8_0 or Q4_0) at data[0..data_len).
 * data must be aligned to 4 bytes for F32 and 2 bytes otherwise.
 * Errors: those of octo_quant_row_size; OCTO_EUNSUPPORTED BF16; OCTO_EINVAL rows == 0 or data
 * misaligned; OCTO_ETOOBIG rows * row_size overflows; OCTO_EMALFORMED data_len is smaller than
 * rows * row_size. */
OCTO_MUST_USE int octo_quant_matrix_init(struct octo_quant_matrix *m, enum octo_quant_type type,
                                         const void *data, size_t data_len, size_t rows,
                                         size_t cols);

/* Best ISA path on this CPU: AVX-512 VNNI, AVX-512, AVX-VNNI, AVX2, scalar, the first this CPU
 * has. */
enum octo_quant_isa octo_quant_isa_best(void);

/* Whether `isa` can run on this CPU (scalar always can). */
bool octo_quant_isa_available(enum octo_quant_isa isa);

/* Name of an ISA path ("scalar", "avx2", "avx512", "avx512vnni", "avxvnni"; "unknown" for any
 * other value). */
const char *octo_quant_isa_name(enum octo_quant_isa isa);

/* y[r] = dot(row r of m, x) for r in [r0, r1), with the best ISA path. For F32/F16 weights x
 * holds m->cols floats (xq unused, may be NULL); for Q8_0/Q4_0 xq holds m->cols/32 blocks from
 * octo_quant_act_q8_0 (x unused, may be NULL). y has at least r1 entries; only y[r0..r1) is
 * written. Threads may run disjoint row ranges of the same call concurrently.
 * Errors: OCTO_EINVAL r0 > r1, r1 > m->rows, or the operand the type needs is NULL. */
OCTO_MUST_USE int octo_quant_matvec(const struct octo_quant_matrix *m, const float *x,
                                    const struct octo_q8_0_block *xq, size_t r0, size_t r1,
                                    enum octo_quant_mode mode, float *y);

/* As octo_quant_matvec with a forced ISA path (for tests and benchmarks).
 * Errors: as octo_quant_matvec; OCTO_EUNSUPPORTED the CPU lacks `isa`. */
OCTO_MUST_USE int octo_quant_matvec_isa(enum octo_quant_isa isa, const struct octo_quant_matrix *m,
                                        const float *x, const struct octo_q8_0_block *xq, size_t r0,
                                        size_t r1, enum octo_quant_mode mode, float *y);

/* Most vectors one octo_quant_matmul call takes (bounds n_vec * cols). */
#define OCTO_QUANT_MATMUL_VEC_MAX 4096u

/* y[v * y_stride + r] = dot(row r of m, vector v) for v < n_vec and r in [r0, r1), with the best
 * ISA path. The vectors lie one after another: for F32/F16 weights x holds n_vec * m->cols
 * floats (xq unused, may be NULL); for Q8_0/Q4_0 xq holds n_vec * (m->cols/32) blocks, each
 * vector's from octo_quant_act_q8_0 (x unused, may be NULL). Only y[v * y_stride + r0 ..
 * v * y_stride + r1) is written for each v. Every value is bit-identical to octo_quant_matvec
 * on vector v (quant.h). Threads may run disjoint row ranges of the same call concurrently.
 * Once the arguments are checked, n_vec == 0 or an empty range writes nothing.
 * Errors: OCTO_EINVAL r0 > r1, r1 > m->rows, y_stride < r1 with n_vec > 1 (rows of different
 * vectors would overlap), or the operand the type needs is NULL; OCTO_ETOOBIG
 * n_vec > OCTO_QUANT_MATMUL_VEC_MAX or n_vec * y_stride floats beyond the address space. */
OCTO_MUST_USE int octo_quant_matmul(const struct octo_quant_matrix *m, const float *x,
                                    const struct octo_q8_0_block *xq, size_t n_vec, size_t r0,
                                    size_t r1, enum octo_quant_mode mode, float *y,
                                    size_t y_stride);

/* As octo_quant_matmul with a forced ISA path (for tests and benchmarks).
 * Errors: as octo_quant_matmul; OCTO_EUNSUPPORTED the CPU lacks `isa`. */
OCTO_MUST_USE int octo_quant_matmul_isa(enum octo_quant_isa isa, const struct octo_quant_matrix *m,
                                        const float *x, const struct octo_q8_0_block *xq,
                                        size_t n_vec, size_t r0, size_t r1,
                                        enum octo_quant_mode mode, float *y, size_t y_stride);

#endif
