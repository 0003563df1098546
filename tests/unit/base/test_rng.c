/*
 * test_rng.c — the deterministic generator: xoshiro256** seeded by splitmix64.
 *
 * Expected outputs come from this independent Python reference (not from the C code):
 *
 *   M = 2**64 - 1
 *   def splitmix(x):
 *       x = (x + 0x9e3779b97f4a7c15) & M; z = x
 *       z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
 *       z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
 *       return x, z ^ (z >> 31)
 *   rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
 *   def init(seed):
 *       s, x = [], seed
 *       for _ in range(4): x, v = splitmix(x); s.append(v)
 *       return s
 *   def next(s):
 *       r = (rotl((s[1] * 5) & M, 7) * 9) & M; t = (s[1] << 17) & M
 *       s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
 *       s[3] = rotl(s[3], 45)
 *       return r
 *
 * (The first splitmix64 output for seed 0, 0xe220a8397b1dcdaf, is the widely published one.)
 */
#include "base/rng.h"
#include "test.h"

static void test_known_outputs(void)
{
    struct octo_rng r;
    octo_rng_init(&r, 0);
    CHECK_EQ_U64(r.s[0], UINT64_C(0xe220a8397b1dcdaf));
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0x99ec5f36cb75f2b4));
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0xbf6e1f784956452a));
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0x1a5f849d4933e6e0));
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0x6aa594f1262d2d2c));
    octo_rng_init(&r, 42);
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0x15780b2e0c2ec716));
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0x6104d9866d113a7e));
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0xae17533239e499a1));
    CHECK_EQ_U64(octo_rng_next(&r), UINT64_C(0xecb8ad4703b360a1));
}

static void test_same_seed_same_sequence(void)
{
    struct octo_rng a, b, c;
    octo_rng_init(&a, 12345);
    octo_rng_init(&b, 12345);
    octo_rng_init(&c, 12346);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = octo_rng_next(&a);
        CHECK_EQ_U64(x, octo_rng_next(&b));
        differ += x != octo_rng_next(&c);
    }
    CHECK(differ > 990); /* a nearby seed gives an unrelated stream */
}

static void test_below(void)
{
    struct octo_rng r;
    octo_rng_init(&r, 7);
    const uint64_t bounds[] = {
        1, 2, 3, 7, 10, 1000, UINT64_C(1) << 32, (UINT64_C(1) << 63) + 1, UINT64_MAX};
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        for (int i = 0; i < 2000; i++)
            CHECK(octo_rng_below(&r, bounds[b]) < bounds[b]);
    }
    CHECK_EQ_U64(octo_rng_below(&r, 1), 0);
    /* every value of a small range shows up */
    int seen[6] = {0};
    for (int i = 0; i < 600; i++)
        seen[octo_rng_below(&r, 6)]++;
    for (int i = 0; i < 6; i++)
        CHECK(seen[i] > 50);
}

static void test_fill_little_endian(void)
{
    struct octo_rng a, b;
    octo_rng_init(&a, 42);
    octo_rng_init(&b, 42);
    uint8_t out[13];
    octo_rng_fill(&a, out, sizeof(out));
    /* 0x15780b2e0c2ec716 little-endian, then the low 5 bytes of 0x6104d9866d113a7e */
    CHECK_HEX(out, sizeof(out), "16c72e0c2e0b7815 7e3a116d86");
    uint64_t v1 = octo_rng_next(&b);
    uint64_t v2 = octo_rng_next(&b);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(out[i], (uint8_t)(v1 >> (8 * i)));
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(out[8 + i], (uint8_t)(v2 >> (8 * i)));
    /* a partial word is not reused: the next draw starts a fresh word */
    CHECK_EQ_U64(octo_rng_next(&a), octo_rng_next(&b));
    octo_rng_fill(&a, out, 0);
    CHECK_EQ_U64(octo_rng_next(&a), octo_rng_next(&b));
}

int main(void)
{
    OCTO_RUN(test_known_outputs);
    OCTO_RUN(test_same_seed_same_sequence);
    OCTO_RUN(test_below);
    OCTO_RUN(test_fill_little_endian);
    return octo_test_finish();
}
