/*
 * test_detmath.c — the machine-independent exp, log, sin and cos (infer/detmath.h):
 *  - accuracy against the C library over sweeps of the ranges the engine uses (a few ulp), sin
 *    and cos up to 1.6e6 (RoPE angles reach the context length);
 *  - special values (NaN, infinities, overflow and underflow edges, exact points);
 *  - identities (exp(log x) = x, sin^2 + cos^2 = 1, quadrant symmetry);
 *  - a golden checksum of the bits of 40,000 results, fixed when the code was written: a
 *    machine, compiler or C library that changed a single bit would fail here, which is the
 *    property the deterministic mode relies on; and one over the edges of exp's range.
 */
#include "infer/detmath.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define GOLDEN 0x011c49b5b263a419u
#define GOLDEN_EXP_EDGES 0x845d9457c6fffceau

static double rel_err(double got, double want)
{
    if (got == want)
        return 0.0;
    return fabs(got - want) / fmax(fabs(want), 1e-300);
}

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static void test_exp(void)
{
    double worst = 0.0;
    for (int i = -200000; i <= 200000; i++) {
        double x = (double)i * 7.0e-4 + 1e-7 * (double)(i % 7); /* -140 .. 140 */
        worst = fmax(worst, rel_err(octo_detmath_exp(x), exp(x)));
    }
    printf("  exp: worst relative error vs libm %.2e\n", worst);
    CHECK(worst < 1e-15);
    CHECK(octo_detmath_exp(0.0) == 1.0);
    CHECK(octo_detmath_exp(1.0) == exp(1.0) || rel_err(octo_detmath_exp(1.0), exp(1.0)) < 3e-16);
    CHECK(isnan(octo_detmath_exp(NAN)));
    CHECK(octo_detmath_exp(HUGE_VAL) == HUGE_VAL);
    CHECK(octo_detmath_exp(-HUGE_VAL) == 0.0);
    CHECK(octo_detmath_exp(709.7) < HUGE_VAL && octo_detmath_exp(709.79) == HUGE_VAL);
    CHECK(rel_err(octo_detmath_exp(709.7), exp(709.7)) < 1e-14);
    CHECK(octo_detmath_exp(-745.2) == 0.0);
    CHECK(octo_detmath_exp(-708.0) > 0.0 && rel_err(octo_detmath_exp(-708.0), exp(-708.0)) < 1e-14);
    CHECK(octo_detmath_exp(-740.0) > 0.0); /* subnormal, still there */
}

static void test_log(void)
{
    double worst = 0.0, round_trip = 0.0;
    for (int i = 1; i <= 200000; i++) {
        double x = (double)i * 0.37 / 1000.0 + 1e-9; /* 3.7e-4 .. 74 */
        worst = fmax(worst, fabs(octo_detmath_log(x) - log(x)) / fmax(fabs(log(x)), 1.0));
        round_trip = fmax(round_trip, rel_err(octo_detmath_exp(octo_detmath_log(x)), x));
    }
    printf("  log: worst error vs libm %.2e, exp(log x) vs x %.2e\n", worst, round_trip);
    CHECK(worst < 1e-15);
    CHECK(round_trip < 1e-13);
    CHECK(octo_detmath_log(1.0) == 0.0);
    CHECK(rel_err(octo_detmath_log(10000.0), log(10000.0)) < 1e-15); /* the RoPE base */
    CHECK(rel_err(octo_detmath_log(1e6), log(1e6)) < 1e-15);
    CHECK(octo_detmath_log(0.0) == -HUGE_VAL);
    CHECK(isnan(octo_detmath_log(-1.0)));
    CHECK(isnan(octo_detmath_log(NAN)));
    CHECK(octo_detmath_log(HUGE_VAL) == HUGE_VAL);
    CHECK(rel_err(octo_detmath_log(4.9e-324), log(4.9e-324)) < 1e-15); /* subnormal */
}

static void test_sincos(void)
{
    double worst = 0.0, unit = 0.0;
    for (int i = -100000; i <= 100000; i++) {
        double x = (double)i * 0.3179; /* RoPE angles reach the context length */
        double s, c;
        octo_detmath_sincos(x, &s, &c);
        worst = fmax(worst, fmax(fabs(s - sin(x)), fabs(c - cos(x))));
        unit = fmax(unit, fabs(s * s + c * c - 1.0));
    }
    printf("  sincos: worst absolute error vs libm %.2e, |sin^2+cos^2-1| %.2e\n", worst, unit);
    CHECK(worst < 1e-15); /* a few ulp of 1 */
    CHECK(unit < 1e-15);
    double s, c;
    octo_detmath_sincos(0.0, &s, &c);
    CHECK(s == 0.0 && c == 1.0);
    octo_detmath_sincos(-0.5, &s, &c);
    double s2, c2;
    octo_detmath_sincos(0.5, &s2, &c2);
    CHECK(s == -s2 && c == c2); /* odd and even */
    octo_detmath_sincos(NAN, &s, &c);
    CHECK(isnan(s) && isnan(c));
    octo_detmath_sincos(HUGE_VAL, &s, &c);
    CHECK(isnan(s) && isnan(c));
    octo_detmath_sincos(1e13, &s, &c);
    CHECK(isnan(s) && isnan(c));
}

/* The far end of the accurate range: RoPE angles reach the context length (OCTO_LLAMA_CTX_MAX,
 * 1.05e6) and detmath.h promises a few ulp up to 1.6e6, so sweep 3.2e4 .. 1.6e6 (past the
 * sweep above) with irregular steps that land on every part of the period. */
static void test_sincos_large(void)
{
    double worst = 0.0, unit = 0.0;
    for (int i = 0; i <= 200000; i++) {
        double x = 3.2e4 + (double)i * 7.84 + 1e-3 * (double)(i % 1009); /* .. 1.6e6 */
        double s, c;
        octo_detmath_sincos(x, &s, &c);
        worst = fmax(worst, fmax(fabs(s - sin(x)), fabs(c - cos(x))));
        unit = fmax(unit, fabs(s * s + c * c - 1.0));
        double sn, cn;
        octo_detmath_sincos(-x, &sn, &cn);
        if (sn != -s || cn != c) {
            worst = HUGE_VAL; /* odd and even out there too */
            break;
        }
    }
    printf("  sincos 3.2e4 .. 1.6e6: worst absolute error vs libm %.2e, |sin^2+cos^2-1| %.2e\n",
           worst, unit);
    CHECK(worst < 1e-15);
    CHECK(unit < 1e-15);
}

/* FNV-1a over the bits of many results: the same value on every machine and build. */
static void test_golden(void)
{
    uint64_t h = 1469598103934665603u;
    for (int i = 0; i < 10000; i++) {
        double x = (double)(i - 5000) * 0.0137;
        double s, c;
        octo_detmath_sincos(x * 97.0, &s, &c);
        double v[4] = {octo_detmath_exp(x), octo_detmath_log(fabs(x) + 1e-3), s, c};
        for (int k = 0; k < 4; k++) {
            h ^= bits(v[k]);
            h *= 1099511628211u;
        }
    }
    printf("  golden checksum %016llx\n", (unsigned long long)h);
    CHECK_EQ_U64(h, GOLDEN);
}

/* The same over the edges of exp's range ([-746, -700] and [700, 709.8]: subnormal results,
 * the underflow and overflow cut-offs, and both sides of the change from 2^k built from its
 * bits to ldexp); the value was taken from the ldexp-only code this replaced. */
static void test_golden_exp_edges(void)
{
    uint64_t h = 1469598103934665603u;
    for (int i = 0; i <= 20000; i++) {
        double lo = -746.0 + (double)i * 0.0023, hi = 700.0 + (double)i * 0.00049;
        double v[2] = {octo_detmath_exp(lo), octo_detmath_exp(hi)};
        for (int k = 0; k < 2; k++) {
            h ^= bits(v[k]);
            h *= 1099511628211u;
        }
    }
    CHECK_EQ_U64(h, GOLDEN_EXP_EDGES);
}

int main(void)
{
    OCTO_RUN(test_exp);
    OCTO_RUN(test_log);
    OCTO_RUN(test_sincos);
    OCTO_RUN(test_sincos_large);
    OCTO_RUN(test_golden);
    OCTO_RUN(test_golden_exp_edges);
    return octo_test_finish();
}
