/*
 * test_lb.c — the power-of-two-choices load balancer: edge cases (0 and 1 candidates, all at
 * capacity, too many, bad strategy, price 0), exact load comparison and tie-breaks, the cost
 * weights (expected values from an independent Python transcription of the documented
 * formula), and seeded distribution checks with tolerances of about 4 standard deviations.
 */
#include "base/assert.h"
#include "intel/lb.h"
#include "test.h"

static struct octo_lb_candidate cand(uint32_t index, uint32_t in_flight, uint32_t capacity,
                                     uint64_t price)
{
    struct octo_lb_candidate c = {
        .price = price, .index = index, .in_flight = in_flight, .capacity = capacity};
    return c;
}

static int near(uint64_t got, uint64_t want, uint64_t tol)
{
    return got + tol >= want && got <= want + tol;
}

#define CHECK_NEAR(got, want, tol)                                                                 \
    do {                                                                                           \
        if (!near((got), (want), (tol))) {                                                         \
            octo_test_fail_at(__FILE__, __LINE__, "%s = %" PRIu64 ", want %" PRIu64 " ± %" PRIu64, \
                              #got, (uint64_t)(got), (uint64_t)(want), (uint64_t)(tol));           \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Runs n picks from one rng and counts how often each position wins. */
static int tally(const struct octo_lb_candidate *c, size_t count, enum octo_lb_strategy s,
                 uint64_t seed, unsigned n, uint64_t *hits)
{
    struct octo_rng rng;
    octo_rng_init(&rng, seed);
    memset(hits, 0, count * sizeof(*hits));
    for (unsigned i = 0; i < n; i++) {
        size_t pos = count;
        int rc = octo_lb_pick(c, count, s, &rng, &pos);
        if (rc != 0)
            return rc;
        if (pos >= count)
            return OCTO_ERANGE;
        hits[pos]++;
    }
    return 0;
}

static void test_errors(void)
{
    static struct octo_lb_candidate many[OCTO_LB_CANDIDATES_MAX + 1];
    struct octo_rng rng;
    octo_rng_init(&rng, 1);
    size_t pos = 99;
    CHECK_ERR(octo_lb_pick(NULL, 0, OCTO_LB_LEAST_LOADED, &rng, &pos), OCTO_ENOTFOUND);
    for (size_t i = 0; i < OCTO_ARRAY_LEN(many); i++)
        many[i] = cand((uint32_t)i, 0, 4, 1 + i);
    CHECK_ERR(octo_lb_pick(many, OCTO_LB_CANDIDATES_MAX + 1, OCTO_LB_LEAST_LOADED, &rng, &pos),
              OCTO_ETOOBIG);
    CHECK_ERR(octo_lb_pick(many, 2, (enum octo_lb_strategy)7, &rng, &pos), OCTO_EINVAL);
    CHECK_EQ_U64(pos, 99);
    /* the maximum itself is fine, for both strategies */
    CHECK_OK(octo_lb_pick(many, OCTO_LB_CANDIDATES_MAX, OCTO_LB_LEAST_LOADED, &rng, &pos));
    CHECK(pos < OCTO_LB_CANDIDATES_MAX);
    CHECK_OK(octo_lb_pick(many, OCTO_LB_CANDIDATES_MAX, OCTO_LB_COST, &rng, &pos));
    CHECK(pos < OCTO_LB_CANDIDATES_MAX);
}

static void test_all_at_capacity(void)
{
    struct octo_lb_candidate c[] = {cand(1, 4, 4, 1), cand(2, 9, 8, 1), cand(3, 0, 0, 1)};
    struct octo_rng rng, before;
    octo_rng_init(&rng, 2);
    before = rng;
    size_t pos = 99;
    CHECK_ERR(octo_lb_pick(c, 3, OCTO_LB_LEAST_LOADED, &rng, &pos), OCTO_EBUSY);
    CHECK_ERR(octo_lb_pick(c, 3, OCTO_LB_COST, &rng, &pos), OCTO_EBUSY);
    CHECK_ERR(octo_lb_pick(c, 1, OCTO_LB_COST, &rng, &pos), OCTO_EBUSY);
    CHECK_EQ_U64(pos, 99);
    CHECK_MEM(&rng, &before, sizeof(rng));
}

static void test_single_candidate(void)
{
    struct octo_rng rng, before;
    octo_rng_init(&rng, 3);
    before = rng;
    size_t pos = 99;
    struct octo_lb_candidate one = cand(42, 3, 4, 0);
    CHECK_OK(octo_lb_pick(&one, 1, OCTO_LB_LEAST_LOADED, &rng, &pos));
    CHECK_EQ_U64(pos, 0);
    /* one eligible among full ones: picked, with no randomness consumed */
    struct octo_lb_candidate c[] = {cand(1, 4, 4, 1), cand(2, 0, 0, 1), cand(3, 7, 8, 1000),
                                    cand(4, 5, 5, 1)};
    for (int s = 0; s < 2; s++) {
        pos = 99;
        CHECK_OK(octo_lb_pick(c, 4, (enum octo_lb_strategy)s, &rng, &pos));
        CHECK_EQ_U64(pos, 2);
        CHECK_EQ_INT(c[pos].index, 3);
    }
    CHECK_MEM(&rng, &before, sizeof(rng));
}

static void test_cost_weight(void)
{
    const uint64_t one = OCTO_LB_COST_WEIGHT_ONE;
    CHECK_EQ_U64(octo_lb_cost_weight(1, 1), one);
    CHECK_EQ_U64(octo_lb_cost_weight(2, 1), one / 4);
    CHECK_EQ_U64(octo_lb_cost_weight(4, 1), one / 16);
    CHECK_EQ_U64(octo_lb_cost_weight(10, 5), one / 4);
    CHECK_EQ_U64(octo_lb_cost_weight(0, 0), one); /* price 0 weighs like price 1 */
    CHECK_EQ_U64(octo_lb_cost_weight(1, 0), one);
    CHECK_EQ_U64(octo_lb_cost_weight(3, 1), UINT64_C(500399957664654));
    CHECK_EQ_U64(octo_lb_cost_weight(3, 2), UINT64_C(2001599833454819));
    CHECK_EQ_U64(octo_lb_cost_weight(1000000, 1), 4501);
    CHECK_EQ_U64(octo_lb_cost_weight(UINT64_C(1) << 40, UINT64_C(1) << 40), one);
    CHECK_EQ_U64(octo_lb_cost_weight(UINT64_C(1) << 41, UINT64_C(1) << 40), one / 4);
    CHECK_EQ_U64(octo_lb_cost_weight(UINT64_C(1000000000000), UINT64_C(1000000000)),
                 UINT64_C(4503596909));
    CHECK_EQ_U64(octo_lb_cost_weight(UINT64_MAX, 1), 1); /* floor of 1: still drawable */
    CHECK_EQ_U64(octo_lb_cost_weight(UINT64_MAX, UINT64_MAX), one);
}

static void test_two_candidates_lighter_wins(void)
{
    /* with two eligible both are always drawn, so the lighter one always wins */
    struct octo_lb_candidate c[] = {cand(1, 5, 10, 1), cand(2, 1, 10, 1)};
    uint64_t hits[2];
    CHECK_OK(tally(c, 2, OCTO_LB_LEAST_LOADED, 7, 1000, hits));
    CHECK_EQ_U64(hits[1], 1000);
    /* the cost weighting shapes the draw, the load still decides: the cheap one is busier */
    struct octo_lb_candidate d[] = {cand(1, 5, 10, 1), cand(2, 0, 10, 100)};
    CHECK_OK(tally(d, 2, OCTO_LB_COST, 8, 1000, hits));
    CHECK_EQ_U64(hits[1], 1000);
}

static void test_exact_load_comparison(void)
{
    uint64_t hits[2];
    /* 1/3 (0.333) against 2/7 (0.286): 1·7 = 7 > 2·3 = 6 */
    struct octo_lb_candidate a[] = {cand(1, 1, 3, 1), cand(2, 2, 7, 1)};
    CHECK_OK(tally(a, 2, OCTO_LB_LEAST_LOADED, 9, 200, hits));
    CHECK_EQ_U64(hits[1], 200);
    /* large values: (2^32 - 2)/(2^32 - 1) against (2^32 - 3)/(2^32 - 2): the second is lighter */
    struct octo_lb_candidate b[] = {cand(1, UINT32_MAX - 1, UINT32_MAX, 1),
                                    cand(2, UINT32_MAX - 2, UINT32_MAX - 1, 1)};
    CHECK_OK(tally(b, 2, OCTO_LB_LEAST_LOADED, 10, 200, hits));
    CHECK_EQ_U64(hits[1], 200);
    /* equal ratio 2/4 = 4/8: the one with more free slots */
    struct octo_lb_candidate c[] = {cand(1, 2, 4, 1), cand(2, 4, 8, 1)};
    CHECK_OK(tally(c, 2, OCTO_LB_LEAST_LOADED, 11, 200, hits));
    CHECK_EQ_U64(hits[1], 200);
    /* a full tie goes to the first drawn: about half each, deterministic per seed */
    struct octo_lb_candidate d[] = {cand(1, 2, 4, 1), cand(2, 2, 4, 1)};
    uint64_t again[2];
    CHECK_OK(tally(d, 2, OCTO_LB_LEAST_LOADED, 12, 10000, hits));
    CHECK_NEAR(hits[0], 5000, 200);
    CHECK_OK(tally(d, 2, OCTO_LB_LEAST_LOADED, 12, 10000, again));
    CHECK_EQ_U64(hits[0], again[0]);
}

static void test_power_of_two_distribution(void)
{
    /* loads 0, 1, 2 of 10: the pair {0,x} picks 0 (2 of 3 pairs), {1,2} picks 1, 2 never */
    struct octo_lb_candidate c[] = {cand(1, 0, 10, 1), cand(2, 1, 10, 1), cand(3, 2, 10, 1)};
    uint64_t hits[3];
    CHECK_OK(tally(c, 3, OCTO_LB_LEAST_LOADED, 13, 30000, hits));
    CHECK_NEAR(hits[0], 20000, 400); /* sd = sqrt(30000 · 2/9) = 82 */
    CHECK_NEAR(hits[1], 10000, 400);
    CHECK_EQ_U64(hits[2], 0);
}

static void test_uniform_when_equal(void)
{
    struct octo_lb_candidate c[4];
    for (uint32_t i = 0; i < 4; i++)
        c[i] = cand(i, 3, 8, 5);
    uint64_t hits[4];
    CHECK_OK(tally(c, 4, OCTO_LB_LEAST_LOADED, 14, 40000, hits));
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(hits[i], 10000, 400); /* sd = sqrt(40000 · 3/16) = 87 */
    /* equal prices under the cost strategy are uniform too */
    CHECK_OK(tally(c, 4, OCTO_LB_COST, 15, 40000, hits));
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(hits[i], 10000, 400);
}

static void test_cost_weighting_proportions(void)
{
    /* prices 1, 2, 4 at equal load: picks ∝ 1/p² = 16 : 4 : 1 */
    struct octo_lb_candidate c[] = {cand(1, 1, 4, 4), cand(2, 1, 4, 1), cand(3, 1, 4, 2)};
    uint64_t hits[3];
    CHECK_OK(tally(c, 3, OCTO_LB_COST, 16, 21000, hits));
    CHECK_NEAR(hits[1], 16000, 250); /* sd 62 */
    CHECK_NEAR(hits[2], 4000, 180);  /* sd 58 */
    CHECK_NEAR(hits[0], 1000, 125);  /* sd 31 */
    /* the same list without the cost strategy is uniform */
    CHECK_OK(tally(c, 3, OCTO_LB_LEAST_LOADED, 16, 21000, hits));
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(hits[i], 7000, 300);
    /* price 0 weighs like 1: 0 vs 1 is even, 0 vs 2 is 4 : 1 */
    struct octo_lb_candidate z[] = {cand(1, 0, 4, 0), cand(2, 0, 4, 1)};
    CHECK_OK(tally(z, 2, OCTO_LB_COST, 17, 10000, hits));
    CHECK_NEAR(hits[0], 5000, 200);
    z[1].price = 2;
    CHECK_OK(tally(z, 2, OCTO_LB_COST, 18, 10000, hits));
    CHECK_NEAR(hits[0], 8000, 200); /* sd 40 */
    /* a full cheap candidate does not distort the others' proportions */
    struct octo_lb_candidate f[] = {cand(1, 4, 4, 1), cand(2, 0, 4, 3), cand(3, 0, 4, 6)};
    CHECK_OK(tally(f, 3, OCTO_LB_COST, 19, 10000, hits));
    CHECK_EQ_U64(hits[0], 0);
    CHECK_NEAR(hits[1], 8000, 200); /* 1/9 : 1/36 = 4 : 1 */
}

/* Load ratio comparison a > b, for the property test. */
static int heavier(const struct octo_lb_candidate *a, const struct octo_lb_candidate *b)
{
    return (uint64_t)a->in_flight * b->capacity > (uint64_t)b->in_flight * a->capacity;
}

static void test_property_random_lists(void)
{
    struct octo_rng gen;
    octo_rng_init(&gen, 2026);
    struct octo_lb_candidate c[40];
    for (int round = 0; round < 3000; round++) {
        size_t count = 1 + (size_t)octo_rng_below(&gen, OCTO_ARRAY_LEN(c));
        size_t n_eligible = 0;
        for (size_t i = 0; i < count; i++) {
            uint32_t cap = (uint32_t)octo_rng_below(&gen, 9);
            uint32_t in_flight = (uint32_t)octo_rng_below(&gen, cap + 2);
            uint64_t price = octo_rng_below(&gen, 4) == 0 ? 0 : octo_rng_below(&gen, 1000000);
            c[i] = cand((uint32_t)i, in_flight, cap, price);
            n_eligible += in_flight < cap;
        }
        /* the strictly heaviest eligible candidate, if unique */
        size_t worst = count;
        for (size_t i = 0; i < count; i++) {
            if (c[i].in_flight >= c[i].capacity)
                continue;
            int unique = 1;
            for (size_t j = 0; j < count && unique; j++)
                if (j != i && c[j].in_flight < c[j].capacity && !heavier(&c[i], &c[j]))
                    unique = 0;
            if (unique)
                worst = i;
        }
        for (int s = 0; s < 2; s++) {
            struct octo_rng r1, r2;
            octo_rng_init(&r1, (uint64_t)round * 2 + (uint64_t)s);
            r2 = r1;
            size_t pos = count, pos2 = count;
            int rc = octo_lb_pick(c, count, (enum octo_lb_strategy)s, &r1, &pos);
            if (n_eligible == 0) {
                CHECK_ERR(rc, OCTO_EBUSY);
                continue;
            }
            CHECK_OK(rc);
            CHECK(pos < count);
            CHECK(c[pos].in_flight < c[pos].capacity); /* never a full one */
            if (n_eligible >= 2)
                CHECK(pos != worst); /* the heaviest loses whatever it is paired with */
            CHECK_OK(octo_lb_pick(c, count, (enum octo_lb_strategy)s, &r2, &pos2));
            CHECK_EQ_U64(pos, pos2); /* deterministic */
        }
    }
}

int main(void)
{
    OCTO_RUN(test_errors);
    OCTO_RUN(test_all_at_capacity);
    OCTO_RUN(test_single_candidate);
    OCTO_RUN(test_cost_weight);
    OCTO_RUN(test_two_candidates_lighter_wins);
    OCTO_RUN(test_exact_load_comparison);
    OCTO_RUN(test_power_of_two_distribution);
    OCTO_RUN(test_uniform_when_equal);
    OCTO_RUN(test_cost_weighting_proportions);
    OCTO_RUN(test_property_random_lists);
    return octo_test_finish();
}
