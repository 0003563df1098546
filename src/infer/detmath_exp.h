/*
 * detmath_exp.h — the constants of octo_detmath_exp (detmath.c), shared with the eight-lane
 * version in vec.c so that the two cannot drift apart: the split ln 2, the Taylor
 * coefficients in Horner order, and the range in which 2^k is built from its bits.
 * Internal to src/infer.
 */
#ifndef OCTO_INFER_DETMATH_EXP_H
#define OCTO_INFER_DETMATH_EXP_H

#define OCTO_DETMATH_LN2_HI 6.93147180369123816490e-01 /* 0x3fe62e42fee00000 */
#define OCTO_DETMATH_LN2_LO 1.90821492927058770002e-10
#define OCTO_DETMATH_INV_LN2 1.44269504088896338700e+00

/* e^r for |r| <= ln2/2: p = 1/13!, then p = p * r + c for each c here in order (the compiler
 * rounds each quotient correctly: the same bits on every build). */
static const double OCTO_DETMATH_EXP_COEF[] = {1.0 / 479001600.0,
                                               1.0 / 39916800.0,
                                               1.0 / 3628800.0,
                                               1.0 / 362880.0,
                                               1.0 / 40320.0,
                                               1.0 / 5040.0,
                                               1.0 / 720.0,
                                               1.0 / 120.0,
                                               1.0 / 24.0,
                                               1.0 / 6.0,
                                               0.5,
                                               1.0,
                                               1.0};
#define OCTO_DETMATH_EXP_C13 (1.0 / 6227020800.0) /* 1/13!, the first p */
#define OCTO_DETMATH_EXP_NCOEF (sizeof(OCTO_DETMATH_EXP_COEF) / sizeof(OCTO_DETMATH_EXP_COEF[0]))

/* 2^k is a normal double built from its bits, and p * 2^k (p in [0.70, 1.42]) is normal and
 * exact, for k in [OCTO_DETMATH_K_MIN, OCTO_DETMATH_K_MAX]; x in [OCTO_DETMATH_FAST_LO,
 * OCTO_DETMATH_FAST_HI] always rounds to such a k (x / ln 2 lies in [-1021.4, 1022.9]). */
#define OCTO_DETMATH_K_MIN (-1021)
#define OCTO_DETMATH_K_MAX 1023
#define OCTO_DETMATH_FAST_LO (-708.0)
#define OCTO_DETMATH_FAST_HI 709.0

#endif
