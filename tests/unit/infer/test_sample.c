/*
 * test_sample.c — the token sampler (infer/sample.h): greedy and its tie rule, NaN and infinite
 * logits, the repetition penalty (sign rule, each token once, the ring of the last N), top-k
 * (= greedy at k = 1; draws stay inside the k best, checked against a full sort), top-p, the
 * drawn distribution, seeded determinism, and the parameter checks.
 */
#include "base/rng.h"
#include "infer/sample.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct octo_sample_params params(float temp, uint32_t k, float p, uint64_t seed)
{
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    sp.temperature = temp;
    sp.top_k = k;
    sp.top_p = p;
    sp.seed = seed;
    return sp;
}

static void test_greedy(void)
{
    struct octo_sampler s;
    struct octo_sample_params p = params(0.0f, 0, 1.0f, 1);
    CHECK_OK(octo_sampler_init(&s, &p, 5));
    float l1[5] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
    CHECK_EQ_INT(octo_sampler_sample(&s, l1), 1); /* tie between 1 and 3: the lower id */
    float l2[5] = {NAN, NAN, 3.0f, NAN, -2.0f};
    CHECK_EQ_INT(octo_sampler_sample(&s, l2), 2);
    float l3[5] = {NAN, NAN, NAN, NAN, NAN};
    CHECK_ERR(octo_sampler_sample(&s, l3), OCTO_EINVAL);
    octo_sampler_deinit(&s);
}

/* Infinite logits: a +inf one is drawn at any temperature (it used to give NaN probabilities
 * and the last candidate); a row of -inf ones still yields a valid id, as greedy does. */
static void test_infinite(void)
{
    for (uint64_t seed = 0; seed < 8; seed++) {
        struct octo_sampler s;
        struct octo_sample_params p = params(1.0f, 0, 1.0f, seed);
        CHECK_OK(octo_sampler_init(&s, &p, 3));
        for (int i = 0; i < 16; i++) {
            float l[3] = {INFINITY, 1.0f, 2.0f};
            CHECK_EQ_INT(octo_sampler_sample(&s, l), 0);
            float m[3] = {1.0f, 2.0f, INFINITY};
            CHECK_EQ_INT(octo_sampler_sample(&s, m), 2);
        }
        octo_sampler_deinit(&s);
        p = params(1.0f, 2, 0.9f, seed); /* the same through top-k and top-p */
        CHECK_OK(octo_sampler_init(&s, &p, 3));
        float l[3] = {INFINITY, 1.0f, 2.0f};
        CHECK_EQ_INT(octo_sampler_sample(&s, l), 0);
        octo_sampler_deinit(&s);
    }
    struct octo_sampler s;
    struct octo_sample_params p = params(0.0f, 0, 1.0f, 1);
    CHECK_OK(octo_sampler_init(&s, &p, 3));
    float g[3] = {-INFINITY, -INFINITY, -INFINITY};
    CHECK_EQ_INT(octo_sampler_sample(&s, g), 0); /* greedy: all tie, the lowest id */
    octo_sampler_deinit(&s);
    int seen[3] = {0};
    for (uint64_t seed = 0; seed < 4; seed++) {
        p = params(seed % 2 == 0 ? 1.0f : 0.5f, seed < 2 ? 0 : 2, seed < 2 ? 1.0f : 0.5f, seed);
        CHECK_OK(octo_sampler_init(&s, &p, 3));
        for (int i = 0; i < 64; i++) {
            float l[3] = {-INFINITY, -INFINITY, -INFINITY};
            long t = octo_sampler_sample(&s, l);
            CHECK(t >= 0 && t < 3);
            seen[t]++;
        }
        octo_sampler_deinit(&s);
    }
    CHECK(seen[0] > 0 && seen[1] > 0); /* equal logits: more than one id is drawn */
}

static void test_penalty(void)
{
    struct octo_sampler s;
    struct octo_sample_params p = params(0.0f, 0, 1.0f, 1);
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 2;
    CHECK_OK(octo_sampler_init(&s, &p, 4));
    octo_sampler_accept(&s, 0);
    octo_sampler_accept(&s, 0); /* twice in the window: penalised once */
    float l[4] = {4.0f, 3.0f, -1.0f, 0.0f};
    CHECK_EQ_INT(octo_sampler_sample(&s, l), 1);
    CHECK(l[0] == 2.0f && l[1] == 3.0f);
    octo_sampler_accept(&s, 2); /* the window is now {0, 2} */
    octo_sampler_accept(&s, 1); /* ... and now {2, 1}: 0 left it */
    float m[4] = {4.0f, 3.0f, -1.0f, 0.0f};
    CHECK_EQ_INT(octo_sampler_sample(&s, m), 0);
    CHECK(m[0] == 4.0f && m[1] == 1.5f && m[2] == -2.0f && m[3] == 0.0f);
    octo_sampler_accept(&s, 99); /* out of the vocabulary: ignored */
    octo_sampler_deinit(&s);
}

static void fill_random(float *l, size_t n, uint64_t seed)
{
    struct octo_rng r;
    octo_rng_init(&r, seed);
    for (size_t i = 0; i < n; i++)
        l[i] = (float)((double)(octo_rng_next(&r) >> 11) / 9007199254740992.0 * 20.0 - 10.0);
}

static int desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void test_top_k(void)
{
    enum { N = 1000, K = 7 };
    static float logits[N], work[N], sorted[N];
    fill_random(logits, N, 42);
    memcpy(sorted, logits, sizeof(sorted));
    qsort(sorted, N, sizeof(float), desc);
    struct octo_sampler s;
    struct octo_sample_params p = params(100.0f, K, 1.0f, 7); /* nearly uniform over the k */
    CHECK_OK(octo_sampler_init(&s, &p, N));
    int hits[N] = {0};
    for (int i = 0; i < 5000; i++) {
        memcpy(work, logits, sizeof(work));
        long t = octo_sampler_sample(&s, work);
        CHECK(t >= 0 && t < N);
        CHECK(logits[t] >= sorted[K - 1]); /* always one of the k best */
        hits[t]++;
    }
    int distinct = 0;
    for (int i = 0; i < N; i++)
        distinct += hits[i] > 0;
    CHECK_EQ_INT(distinct, K); /* and each of them drawn */
    octo_sampler_deinit(&s);

    p = params(1.0f, 1, 1.0f, 7); /* k = 1 is greedy whatever the temperature */
    CHECK_OK(octo_sampler_init(&s, &p, N));
    memcpy(work, logits, sizeof(work));
    long t = octo_sampler_sample(&s, work);
    CHECK(logits[t] == sorted[0]);
    octo_sampler_deinit(&s);
}

static void test_top_p_and_distribution(void)
{
    struct octo_sampler s;
    struct octo_sample_params p = params(1.0f, 0, 0.01f, 3); /* the nucleus is the top token */
    CHECK_OK(octo_sampler_init(&s, &p, 3));
    for (int i = 0; i < 200; i++) {
        float l[3] = {0.1f, 0.3f, 0.2f};
        CHECK_EQ_INT(octo_sampler_sample(&s, l), 1);
    }
    octo_sampler_deinit(&s);

    /* p(1) = 3/4 for logits {0, ln 3} at temperature 1. */
    p = params(1.0f, 0, 1.0f, 11);
    CHECK_OK(octo_sampler_init(&s, &p, 2));
    int ones = 0;
    for (int i = 0; i < 20000; i++) {
        float l[2] = {0.0f, (float)log(3.0)};
        ones += octo_sampler_sample(&s, l) == 1;
    }
    CHECK(ones > 14700 && ones < 15300);
    octo_sampler_deinit(&s);

    /* top-p 0.8 over {3/4, 1/4}: 0.75 < 0.8, so both stay. */
    p = params(1.0f, 0, 0.8f, 11);
    CHECK_OK(octo_sampler_init(&s, &p, 2));
    int zeros = 0;
    for (int i = 0; i < 2000; i++) {
        float l[2] = {0.0f, (float)log(3.0)};
        zeros += octo_sampler_sample(&s, l) == 0;
    }
    CHECK(zeros > 300 && zeros < 700);
    octo_sampler_deinit(&s);
}

static void test_seeded(void)
{
    enum { N = 500 };
    static float logits[N], work[N];
    fill_random(logits, N, 5);
    long a[64], b[64], c[64];
    uint64_t seeds[3] = {99, 99, 100};
    long *out[3] = {a, b, c};
    for (int k = 0; k < 3; k++) {
        struct octo_sampler s;
        struct octo_sample_params p = params(0.8f, 40, 0.95f, seeds[k]);
        p.repeat_penalty = 1.1f;
        CHECK_OK(octo_sampler_init(&s, &p, N));
        for (int i = 0; i < 64; i++) {
            memcpy(work, logits, sizeof(work));
            out[k][i] = octo_sampler_sample(&s, work);
            CHECK(out[k][i] >= 0);
            octo_sampler_accept(&s, (uint32_t)out[k][i]);
        }
        octo_sampler_deinit(&s);
    }
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    CHECK(memcmp(a, c, sizeof(a)) != 0);
}

/* A sampler given new parameters draws what a fresh one with them draws. */
static void test_set_params(void)
{
    enum { N = 300 };
    static float logits[N], work[N];
    fill_random(logits, N, 9);
    struct octo_sample_params p1 = params(0.0f, 0, 1.0f, 1);
    struct octo_sample_params p2 = params(0.7f, 20, 0.9f, 42);
    p2.repeat_penalty = 1.2f;
    p2.repeat_last_n = 16;
    long want[32], got[32];
    long *out[2] = {want, got};
    for (int k = 0; k < 2; k++) {
        struct octo_sampler s;
        CHECK_OK(octo_sampler_init(&s, k == 0 ? &p2 : &p1, N));
        if (k == 1) {
            memcpy(work, logits, sizeof(work));
            CHECK(octo_sampler_sample(&s, work) >= 0); /* used with the old parameters */
            octo_sampler_accept(&s, 3);
            CHECK_OK(octo_sampler_set_params(&s, &p2));
        }
        for (int i = 0; i < 32; i++) {
            memcpy(work, logits, sizeof(work));
            out[k][i] = octo_sampler_sample(&s, work);
            octo_sampler_accept(&s, (uint32_t)out[k][i]);
        }
        struct octo_sample_params bad = p2;
        bad.top_p = 0.0f;
        CHECK(!octo_sample_params_valid(&bad) && octo_sample_params_valid(&p2));
        CHECK_ERR(octo_sampler_set_params(&s, &bad), OCTO_EINVAL);
        CHECK(s.params.top_p == p2.top_p);
        octo_sampler_deinit(&s);
    }
    CHECK(memcmp(want, got, sizeof(want)) == 0);
}

static void test_params(void)
{
    struct octo_sampler s;
    struct octo_sample_params p = params(0.0f, 0, 1.0f, 0);
    CHECK_ERR(octo_sampler_init(&s, &p, 0), OCTO_EINVAL);
    CHECK_ERR(octo_sampler_init(&s, &p, OCTO_SAMPLE_VOCAB_MAX + 1), OCTO_EINVAL);
    p.temperature = -1.0f;
    CHECK_ERR(octo_sampler_init(&s, &p, 4), OCTO_EINVAL);
    p = params(INFINITY, 0, 1.0f, 0);
    CHECK_ERR(octo_sampler_init(&s, &p, 4), OCTO_EINVAL);
    p = params(1.0f, 0, 0.0f, 0);
    CHECK_ERR(octo_sampler_init(&s, &p, 4), OCTO_EINVAL);
    p = params(1.0f, 0, NAN, 0);
    CHECK_ERR(octo_sampler_init(&s, &p, 4), OCTO_EINVAL);
    p = params(1.0f, 0, 1.0f, 0);
    p.repeat_penalty = 0.0f;
    CHECK_ERR(octo_sampler_init(&s, &p, 4), OCTO_EINVAL);
    p.repeat_penalty = 1.0f;
    p.repeat_last_n = OCTO_SAMPLE_REPEAT_MAX + 1;
    CHECK_ERR(octo_sampler_init(&s, &p, 4), OCTO_EINVAL);
    octo_sampler_deinit(&s); /* tolerated after a failed init */
}

int main(void)
{
    OCTO_RUN(test_greedy);
    OCTO_RUN(test_infinite);
    OCTO_RUN(test_penalty);
    OCTO_RUN(test_top_k);
    OCTO_RUN(test_top_p_and_distribution);
    OCTO_RUN(test_seeded);
    OCTO_RUN(test_set_params);
    OCTO_RUN(test_params);
    return octo_test_finish();
}
