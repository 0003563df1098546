/*
 * detmath.c — exp, log, sin and cos from IEEE double arithmetic alone (see detmath.h).
 *
 * exp: x = k ln2 + r with ln2 split in two (the high part has trailing zero bits, so k * hi is
 *      exact for |k| < 2^11), |r| <= ln2/2, e^r by its Taylor series to r^13 (truncation below
 *      1e-17 relative) in Horner form, then scaled by 2^k (exact): a multiply by 2^k built
 *      from its bits while the result is a normal double, else ldexp.
 * log: x = m 2^e with m in [sqrt(1/2), sqrt(2)) (frexp, exact), log m = 2 atanh(f) with
 *      f = (m - 1)/(m + 1), |f| <= 0.172, by the odd series to f^23.
 * sin, cos: x = k pi/2 + r with pi/2 split in three 33-bit parts (k * part exact for |k| < 2^20,
 *      i.e. |x| < 1.6e6; beyond that still deterministic, less accurate; NaN beyond 1e12),
 *      |r| <= pi/4, Taylor series to r^17 / r^18, and the quadrant k mod 4.
 * The constants are the usual split values of ln2 and pi/2; the series coefficients 1/n! are
 * folded by the compiler, which rounds them correctly (the same bits on every build).
 */
#include "infer/detmath.h"

#include "infer/detmath_exp.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define LN2_HI OCTO_DETMATH_LN2_HI
#define LN2_LO OCTO_DETMATH_LN2_LO
#define INV_LN2 OCTO_DETMATH_INV_LN2
#define EXP_MAX 709.782712893383973096
#define EXP_MIN (-745.133219101941108420)
#define SQRT_HALF 0.70710678118654752440

#define PIO2_1 1.57079632673412561417e+00 /* first 33 bits of pi/2 */
#define PIO2_2 6.07710050630396597660e-11 /* next 33 bits */
#define PIO2_3 2.02226624871116645580e-21 /* next 33 bits */
#define TWO_OVER_PI 6.36619772367581382433e-01
#define TRIG_MAX 1.0e12 /* |x| beyond this: NaN */

/* Rounds to the nearest integer, halves away from zero, without the current rounding mode. */
static double round_half_away(double t)
{
    return t < 0.0 ? -floor(-t + 0.5) : floor(t + 0.5);
}

/* 2^k for -1022 <= k <= 1023 (a normal double), from its bits. */
static double pow2(int k)
{
    uint64_t b = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

double octo_detmath_exp(double x)
{
    if (isnan(x))
        return x;
    if (x > EXP_MAX)
        return HUGE_VAL;
    if (x < EXP_MIN)
        return 0.0;
    /* round_half_away without a libm call: |t| + 0.5 (|t| < 1100) truncated by the int
     * conversion is floor(|t| + 0.5), the sign put back as round_half_away does */
    double t = x * INV_LN2;
    double f = (double)(int)(fabs(t) + 0.5);
    double k = t < 0.0 ? -f : f;
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double p = OCTO_DETMATH_EXP_C13;
    for (size_t i = 0; i < OCTO_DETMATH_EXP_NCOEF; i++)
        p = p * r + OCTO_DETMATH_EXP_COEF[i];
    /* p is within [0.70, 1.42], so for these k the product is a normal double and exact:
     * ldexp's value, without the call */
    int ki = (int)k;
    return ki >= OCTO_DETMATH_K_MIN && ki <= OCTO_DETMATH_K_MAX ? p * pow2(ki) : ldexp(p, ki);
}

double octo_detmath_log(double x)
{
    if (isnan(x) || x < 0.0)
        return (double)NAN;
    if (x == 0.0)
        return -HUGE_VAL;
    if (isinf(x))
        return x;
    int e = 0;
    double m = frexp(x, &e); /* [0.5, 1) */
    if (m < SQRT_HALF) {
        m *= 2.0;
        e--;
    }
    double f = (m - 1.0) / (m + 1.0);
    double f2 = f * f;
    double p = 1.0 / 23.0;
    p = p * f2 + 1.0 / 21.0;
    p = p * f2 + 1.0 / 19.0;
    p = p * f2 + 1.0 / 17.0;
    p = p * f2 + 1.0 / 15.0;
    p = p * f2 + 1.0 / 13.0;
    p = p * f2 + 1.0 / 11.0;
    p = p * f2 + 1.0 / 9.0;
    p = p * f2 + 1.0 / 7.0;
    p = p * f2 + 1.0 / 5.0;
    p = p * f2 + 1.0 / 3.0;
    p = p * f2 + 1.0;
    double lm = 2.0 * f * p;
    double de = (double)e;
    return de * LN2_HI + (de * LN2_LO + lm);
}

static double sin_kernel(double r)
{
    double r2 = r * r;
    double p = -1.0 / 355687428096000.0; /* -1/17! */
    p = p * r2 + 1.0 / 1307674368000.0;
    p = p * r2 - 1.0 / 6227020800.0;
    p = p * r2 + 1.0 / 39916800.0;
    p = p * r2 - 1.0 / 362880.0;
    p = p * r2 + 1.0 / 5040.0;
    p = p * r2 - 1.0 / 120.0;
    p = p * r2 + 1.0 / 6.0;
    return r - r * r2 * p;
}

static double cos_kernel(double r)
{
    double r2 = r * r;
    double p = 1.0 / 6402373705728000.0; /* 1/18! */
    p = p * r2 - 1.0 / 20922789888000.0;
    p = p * r2 + 1.0 / 87178291200.0;
    p = p * r2 - 1.0 / 479001600.0;
    p = p * r2 + 1.0 / 3628800.0;
    p = p * r2 - 1.0 / 40320.0;
    p = p * r2 + 1.0 / 720.0;
    p = p * r2 - 1.0 / 24.0;
    p = p * r2 + 0.5;
    return 1.0 - r2 * p;
}

void octo_detmath_sincos(double x, double *s, double *c)
{
    if (!(fabs(x) <= TRIG_MAX)) { /* also NaN and the infinities */
        *s = (double)NAN;
        *c = (double)NAN;
        return;
    }
    double k = round_half_away(x * TWO_OVER_PI);
    double r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    double sr = sin_kernel(r), cr = cos_kernel(r);
    long q = (long)fmod(k, 4.0); /* exact; -3..3 */
    if (q < 0)
        q += 4;
    switch (q) {
    case 0:
        *s = sr;
        *c = cr;
        break;
    case 1:
        *s = cr;
        *c = -sr;
        break;
    case 2:
        *s = -sr;
        *c = -cr;
        break;
    default:
        *s = -cr;
        *c = sr;
        break;
    }
}
