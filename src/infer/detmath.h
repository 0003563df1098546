/*
 * detmath.h — exp, log, sin and cos with the same bits on every machine.
 *
 * The C library's transcendental functions are not correctly rounded, and glibc picks among
 * several implementations at run time (with and without FMA, per CPU), so exp(x) may differ in
 * the last bit between two machines running the same binary. The deterministic mode promises
 * bit-identical logits everywhere, so the forward pass (softmax, SiLU, RoPE angles) and the
 * sampler use these instead: argument reduction and polynomials written out in IEEE double
 * additions and multiplications only (src/infer is built with -ffp-contract=off, so no
 * compiler fuses them), and only the C library's exact operations (floor, fmod, frexp,
 * ldexp), no tables. Accuracy is within a few ulp of the true value over the ranges the engine
 * uses (|x| < 708 for exp, |x| < 1.6e6 for sin/cos); sin/cos stay deterministic up to 1e12,
 * less accurate, and are NaN beyond (RoPE angles never come near: they are at most the context
 * length).
 *
 * Pure: no state, no allocation.
 */
#ifndef OCTO_INFER_DETMATH_H
#define OCTO_INFER_DETMATH_H

/* e^x; +inf above ~709.78, +0 below ~-745.1, NaN for NaN. */
double octo_detmath_exp(double x);

/* Natural logarithm; -inf at 0, NaN below 0 or for NaN, +inf at +inf. */
double octo_detmath_log(double x);

/* sin(x) and cos(x) together (the RoPE rotation needs both); NaN for NaN, the infinities and
 * |x| > 1e12. */
void octo_detmath_sincos(double x, double *s, double *c);

#endif
