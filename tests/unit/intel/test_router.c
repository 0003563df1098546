/*
 * test_router.c — the router's policy semantics and, over many seeds, the properties each
 * strategy promises: the chosen provider is eligible (the rules restated here independently of
 * router.c), it is optimal for the strategy among the eligible ones (within the documented
 * balancing tolerance), the data class is never violated, and the explain counts add up.
 * The streaming form: on price-sorted input with early stop it gives the same chosen provider
 * and fallbacks as octo_route_select under the same rng seed, for random populations and
 * policies (sort, order with repeats, only, ignore, no fallbacks), and its error paths.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "intel/router.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define POP_MAX 300

static struct octo_peerid ids[POP_MAX];
static struct octo_route_candidate pop[POP_MAX];
static const char *const quants[] = {"q4_k_m", "q8_0", "f16"};
static const char *const countries[] = {"DE", "US", "JP", "BR"};
static const char *const continents[] = {"EU", "NA", "AS", "SA"};

static void make_ids(void)
{
    for (size_t i = 0; i < POP_MAX; i++) {
        ids[i].len = 38;
        memset(ids[i].bytes, 0, sizeof(ids[i].bytes));
        ids[i].bytes[0] = 0x00;
        ids[i].bytes[1] = 0x24;
        ids[i].bytes[36] = (uint8_t)(i >> 8);
        ids[i].bytes[37] = (uint8_t)i;
    }
}

static void random_pop(struct octo_rng *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct octo_route_candidate *c = &pop[i];
        memset(c, 0, sizeof(*c));
        c->provider = &ids[i];
        c->price_in = 1 + octo_rng_below(r, 1000);
        c->price_out = 1 + octo_rng_below(r, 3000);
        c->isolation = (enum octo_isolation)(1 + octo_rng_below(r, 3));
        size_t reg = octo_rng_below(r, 4);
        memcpy(c->country, countries[reg], 3);
        memcpy(c->continent, continents[reg], 3);
        c->quantization = quants[octo_rng_below(r, 3)];
        c->retains_data = octo_rng_below(r, 4) == 0;
        c->collects_data = octo_rng_below(r, 5) == 0;
        c->owner = octo_rng_below(r, 50) == 0;
        c->supports_params = octo_rng_below(r, 3) != 0;
        c->reputation_bp = (uint16_t)octo_rng_below(r, 10001);
        c->latency_us = (uint32_t)octo_rng_below(r, 5000);
        c->throughput_tps = (uint32_t)octo_rng_below(r, 2000);
        c->capacity = (uint32_t)(1 + octo_rng_below(r, 8));
        c->in_flight = (uint32_t)octo_rng_below(r, c->capacity + 1);
        c->available = octo_rng_below(r, 10) != 0;
    }
}

static void random_policy(struct octo_rng *r, struct octo_route_policy *p)
{
    octo_route_policy_init(p);
    p->privacy = (enum octo_data_class)octo_rng_below(r, 4);
    p->isolation_min = (enum octo_isolation)octo_rng_below(r, 4);
    if (octo_rng_below(r, 3) == 0)
        memcpy(p->continent, continents[octo_rng_below(r, 4)], 3);
    if (octo_rng_below(r, 3) == 0)
        p->max_price_in = 1 + octo_rng_below(r, 1000);
    if (octo_rng_below(r, 4) == 0) {
        snprintf(p->quantizations[0], sizeof(p->quantizations[0]), "%s",
                 quants[octo_rng_below(r, 3)]);
        p->quantizations_count = 1;
    }
    p->zdr = octo_rng_below(r, 4) == 0;
    p->deny_data_collection = octo_rng_below(r, 4) == 0;
    p->require_parameters = octo_rng_below(r, 3) == 0;
    p->min_reputation_bp = (uint16_t)octo_rng_below(r, 6000);
}

/* The eligibility rules, restated from router.h and the issue. */
static bool eligible(const struct octo_route_policy *p, enum octo_route_strategy s,
                     const struct octo_route_candidate *c)
{
    bool tee_or_owner = c->isolation == OCTO_ISOLATION_TEE || c->owner;
    if (p->privacy == OCTO_DATA_PRIVATE && !tee_or_owner)
        return false;
    if (p->privacy == OCTO_DATA_CONFIDENTIAL && c->isolation != OCTO_ISOLATION_TEE)
        return false;
    if (c->isolation < p->isolation_min)
        return false;
    if (s == OCTO_ROUTE_PRIVACY && !tee_or_owner)
        return false;
    if (p->continent[0] && strcmp(p->continent, c->continent) != 0)
        return false;
    if (p->max_price_in && c->price_in > p->max_price_in)
        return false;
    if (p->quantizations_count && strcmp(p->quantizations[0], c->quantization) != 0)
        return false;
    if ((p->zdr && c->retains_data) || (p->deny_data_collection && c->collects_data))
        return false;
    if (p->require_parameters && !c->supports_params)
        return false;
    if (c->reputation_bp < p->min_reputation_bp || !c->available)
        return false;
    return c->in_flight < c->capacity;
}

static uint64_t key(enum octo_route_strategy s, const struct octo_route_candidate *c)
{
    switch (s) {
    case OCTO_ROUTE_SPEED:
        return c->latency_us != 0 ? c->latency_us : UINT32_MAX;
    case OCTO_ROUTE_QUALITY:
        return 10000u - c->reputation_bp;
    default:
        return c->price_in + c->price_out;
    }
}

static void test_properties(void)
{
    static uint32_t scratch[POP_MAX];
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        struct octo_rng r;
        octo_rng_init(&r, seed);
        size_t n = 1 + octo_rng_below(&r, POP_MAX);
        random_pop(&r, n);
        struct octo_route_policy p;
        random_policy(&r, &p);
        enum octo_route_strategy s = (enum octo_route_strategy)(seed % 5);
        if (s == OCTO_ROUTE_GEO && p.continent[0] == '\0')
            memcpy(p.continent, "EU", 3);
        struct octo_route_result res;
        int rc = octo_route_select(&p, s, pop, n, &r, scratch, &res);
        size_t n_ok = 0;
        uint64_t best = UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
            if (eligible(&p, s, &pop[i])) {
                n_ok++;
                best = key(s, &pop[i]) < best ? key(s, &pop[i]) : best;
            }
        }
        const struct octo_route_explain *e = &res.explain;
        uint32_t removed = e->removed_only + e->removed_ignore + e->removed_data_class +
                           e->removed_isolation + e->removed_region + e->removed_price +
                           e->removed_quantization + e->removed_data_policy +
                           e->removed_parameters + e->removed_reputation + e->removed_unavailable +
                           e->removed_capacity + e->removed_not_in_order;
        CHECK_EQ_U64(e->considered, n);
        CHECK_EQ_U64(e->eligible, n_ok);
        CHECK_EQ_U64(removed + e->eligible, n);
        if (n_ok == 0) {
            CHECK_ERR(rc, OCTO_ENOTFOUND);
            continue;
        }
        CHECK_OK(rc);
        const struct octo_route_candidate *ch = &pop[res.chosen];
        CHECK(eligible(&p, s, ch));
        CHECK(octo_route_class_allowed(p.privacy, ch));
        uint64_t k = key(s, ch);
        if (s == OCTO_ROUTE_SPEED || s == OCTO_ROUTE_QUALITY)
            CHECK_EQ_U64(k, best); /* optimal, ties spread by load */
        else
            CHECK(k <= 2 * best); /* cost: within the balancing band */
        for (size_t f = 0; f < res.fallbacks_count; f++) {
            CHECK(res.fallbacks[f] != res.chosen);
            CHECK(eligible(&p, s, &pop[res.fallbacks[f]]));
        }
    }
}

static struct octo_route_candidate base_candidate(size_t i, uint64_t price)
{
    struct octo_route_candidate c = {.provider = &ids[i],
                                     .price_in = price,
                                     .price_out = price,
                                     .isolation = OCTO_ISOLATION_CONTAINER,
                                     .quantization = "q4_k_m",
                                     .supports_params = true,
                                     .reputation_bp = 5000,
                                     .latency_us = 100,
                                     .throughput_tps = 50,
                                     .capacity = 4,
                                     .available = true};
    memcpy(c.country, "DE", 3);
    memcpy(c.continent, "EU", 3);
    return c;
}

static void test_policy_semantics(void)
{
    static uint32_t scratch[16];
    struct octo_route_candidate c[4];
    for (size_t i = 0; i < 4; i++)
        c[i] = base_candidate(i, 100 * (i + 1));
    struct octo_rng r;
    octo_rng_init(&r, 7);
    struct octo_route_policy p;
    struct octo_route_result res;
    /* order: the listed provider wins even when dearer; fallbacks follow */
    octo_route_policy_init(&p);
    p.order[0] = ids[3];
    p.order[1] = ids[2];
    p.order_count = 2;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 3);
    CHECK(res.fallbacks_count >= 1 && res.fallbacks[0] == 2);
    /* without fallbacks only the listed ones count */
    p.allow_fallbacks = false;
    c[3].available = false;
    c[2].available = false;
    CHECK_ERR(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res), OCTO_ENOTFOUND);
    CHECK_EQ_U64(res.explain.removed_not_in_order, 2);
    CHECK_EQ_U64(res.explain.removed_unavailable, 2);
    c[3].available = c[2].available = true;
    /* only / ignore */
    octo_route_policy_init(&p);
    p.only[0] = ids[1];
    p.only_count = 1;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 1);
    octo_route_policy_init(&p);
    p.ignore[0] = ids[0];
    p.ignore_count = 1;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_QUALITY, c, 4, &r, scratch, &res));
    CHECK(res.chosen != 0);
    /* fail closed: PRIVATE data never leaves for a non-TEE provider, and says why */
    octo_route_policy_init(&p);
    p.privacy = OCTO_DATA_PRIVATE;
    CHECK_ERR(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res), OCTO_ENOTFOUND);
    CHECK_EQ_U64(res.explain.removed_data_class, 4);
    c[2].isolation = OCTO_ISOLATION_TEE;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 2);
    c[0].owner = true; /* the owner's own node may take its PRIVATE data */
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res));
    CHECK(res.chosen == 0 || res.chosen == 2);
    c[0].owner = false;
    c[2].isolation = OCTO_ISOLATION_CONTAINER;
    /* price, quantization, data policy, parameters, reputation, region */
    octo_route_policy_init(&p);
    p.max_price_in = 150;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_QUALITY, c, 4, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 0);
    CHECK_EQ_U64(res.explain.removed_price, 3);
    octo_route_policy_init(&p);
    snprintf(p.quantizations[0], sizeof(p.quantizations[0]), "f16");
    p.quantizations_count = 1;
    CHECK_ERR(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res), OCTO_ENOTFOUND);
    CHECK_EQ_U64(res.explain.removed_quantization, 4);
    octo_route_policy_init(&p);
    p.zdr = true;
    c[0].retains_data = true;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res));
    CHECK(res.chosen != 0);
    c[0].retains_data = false;
    octo_route_policy_init(&p);
    p.min_reputation_bp = 6000;
    c[3].reputation_bp = 9000;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 3);
    CHECK_EQ_U64(res.explain.removed_reputation, 3);
    octo_route_policy_init(&p);
    memcpy(p.country, "JP", 3);
    CHECK_ERR(octo_route_select(&p, OCTO_ROUTE_GEO, c, 4, &r, scratch, &res), OCTO_ENOTFOUND);
    CHECK_EQ_U64(res.explain.removed_region, 4);
    /* geo without a region is refused; a provider repeated in `order` is used once */
    octo_route_policy_init(&p);
    CHECK_ERR(octo_route_select(&p, OCTO_ROUTE_GEO, c, 4, &r, scratch, &res), OCTO_EINVAL);
    p.order[0] = ids[1];
    p.order[1] = ids[1];
    p.order[2] = ids[2];
    p.order_count = 3;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_COST, c, 4, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 1);
    for (size_t f = 0; f < res.fallbacks_count; f++)
        CHECK(res.fallbacks[f] != 1);
    CHECK_EQ_U64(res.fallbacks[0], 2);
    /* a bad policy is refused with a reason */
    octo_route_policy_init(&p);
    memcpy(p.country, "de", 3);
    const char *why;
    CHECK_ERR(octo_route_policy_check(&p, &why), OCTO_EINVAL);
    CHECK(why != NULL);
    enum octo_route_strategy st;
    CHECK_OK(octo_route_strategy_parse("privacy", &st));
    CHECK_EQ_INT(st, OCTO_ROUTE_PRIVACY);
    CHECK_ERR(octo_route_strategy_parse("fastest", &st), OCTO_EINVAL);
}

/* Speed: the fastest wins; a provider at capacity is never chosen while another is free. */
static void test_speed_and_capacity(void)
{
    static uint32_t scratch[16];
    struct octo_route_candidate c[3];
    for (size_t i = 0; i < 3; i++)
        c[i] = base_candidate(i, 100);
    c[0].latency_us = 50;
    c[1].latency_us = 80;
    c[2].latency_us = 0; /* unknown ranks last */
    struct octo_rng r;
    octo_rng_init(&r, 3);
    struct octo_route_policy p;
    octo_route_policy_init(&p);
    struct octo_route_result res;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_SPEED, c, 3, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 0);
    c[0].in_flight = c[0].capacity;
    CHECK_OK(octo_route_select(&p, OCTO_ROUTE_SPEED, c, 3, &r, scratch, &res));
    CHECK_EQ_U64(res.chosen, 1);
    CHECK_EQ_U64(res.explain.removed_capacity, 1);
}

/* price key as router.h defines it */
static uint64_t price_of(const struct octo_route_candidate *c)
{
    uint64_t sum = c->price_in + c->price_out;
    return sum < c->price_in ? UINT64_MAX : sum;
}

static int cmp_price(const void *a, const void *b)
{
    const struct octo_route_candidate *x = a, *y = b;
    uint64_t px = price_of(x), py = price_of(y);
    if (px != py)
        return px < py ? -1 : 1;
    return (x->provider > y->provider) - (x->provider < y->provider); /* stable by id slot */
}

/* Policy extras the stream must handle exactly: sort, order (with repeats), only, ignore,
 * allow_fallbacks false. */
static void random_lists(struct octo_rng *r, struct octo_route_policy *p, size_t n)
{
    if (octo_rng_below(r, 4) == 0)
        p->sort = (enum octo_route_sort)octo_rng_below(r, 4);
    if (octo_rng_below(r, 4) == 0) {
        p->order_count = 1 + octo_rng_below(r, 6);
        for (size_t i = 0; i < p->order_count; i++)
            p->order[i] = ids[octo_rng_below(r, n)];
        p->allow_fallbacks = octo_rng_below(r, 3) != 0;
    }
    if (octo_rng_below(r, 8) == 0) {
        p->only_count = 1 + octo_rng_below(r, 20);
        for (size_t i = 0; i < p->only_count; i++)
            p->only[i] = ids[octo_rng_below(r, n)];
    }
    if (octo_rng_below(r, 6) == 0) {
        p->ignore_count = 1 + octo_rng_below(r, 10);
        for (size_t i = 0; i < p->ignore_count; i++)
            p->ignore[i] = ids[octo_rng_below(r, n)];
    }
}

/* A random policy and strategy for the stream tests; `open` makes most candidates eligible
 * so that streams can stop early. */
static enum octo_route_strategy stream_policy(struct octo_rng *r, struct octo_route_policy *p,
                                              size_t n, bool open)
{
    random_policy(r, p);
    if (open) {
        p->privacy = OCTO_DATA_PUBLIC;
        p->min_reputation_bp = 0;
        p->isolation_min = OCTO_ISOLATION_NONE;
        p->quantizations_count = 0;
    }
    random_lists(r, p, n);
    enum octo_route_strategy s = (enum octo_route_strategy)octo_rng_below(r, 5);
    if (s == OCTO_ROUTE_GEO && p->continent[0] == '\0')
        memcpy(p->continent, "EU", 3);
    return s;
}

/* Runs the stream over c[0..n), stopping when offer says so; each offer goes through a
 * reused local copy that is scribbled over afterwards (the stream must not keep it). */
static int run_stream(const struct octo_route_policy *p, enum octo_route_strategy s,
                      const struct octo_route_candidate *c, size_t n, uint64_t seed,
                      struct octo_route_result *out, size_t *offered, bool ranked)
{
    struct octo_route_stream st;
    struct octo_rng r;
    octo_rng_init(&r, seed);
    int rc = ranked ? octo_route_stream_begin_ranked(&st, p, s)
                    : octo_route_stream_begin(&st, p, s, true);
    *offered = 0;
    struct octo_route_candidate tmp;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        tmp = c[i];
        (*offered)++;
        bool more = octo_route_stream_offer(&st, &tmp, i);
        memset(&tmp, 0xa5, sizeof(tmp));
        if (!more)
            break;
    }
    return octo_route_stream_finish(&st, &r, out);
}

static struct octo_route_candidate sorted[POP_MAX];

static void test_stream_equals_select(void)
{
    size_t stopped = 0, with_order = 0;
    for (uint64_t seed = 1; seed <= 4000; seed++) {
        struct octo_rng r;
        octo_rng_init(&r, seed * 7919);
        size_t n = 1 + octo_rng_below(&r, POP_MAX);
        random_pop(&r, n);
        if (seed % 3 == 0) { /* few distinct prices: many ties */
            for (size_t i = 0; i < n; i++) {
                pop[i].price_in = 1 + octo_rng_below(&r, 3);
                pop[i].price_out = octo_rng_below(&r, 2);
            }
        }
        if (seed % 5 == 0) { /* mostly eligible, so the stream can stop early */
            for (size_t i = 0; i < n; i++) {
                pop[i].available = true;
                pop[i].in_flight = 0;
            }
        }
        memcpy(sorted, pop, n * sizeof(pop[0]));
        qsort(sorted, n, sizeof(sorted[0]), cmp_price);
        struct octo_route_policy p;
        enum octo_route_strategy s = stream_policy(&r, &p, n, seed % 5 == 0);
        struct octo_route_result want, got;
        struct octo_rng r1;
        octo_rng_init(&r1, seed);
        int rc1 = octo_route_select(&p, s, sorted, n, &r1, NULL, &want);
        size_t offered;
        int rc2 = run_stream(&p, s, sorted, n, seed, &got, &offered, false);
        CHECK_EQ_INT(rc2, rc1);
        CHECK_EQ_U64(got.explain.considered, offered);
        if (rc1 == OCTO_ENOTFOUND) {
            CHECK_EQ_U64(offered, n); /* nothing matched: everything was seen */
            CHECK(memcmp(&got.explain, &want.explain, sizeof(want.explain)) == 0);
        }
        if (rc1 != 0)
            continue;
        CHECK_EQ_U64(got.chosen, want.chosen);
        CHECK_EQ_U64(got.fallbacks_count, want.fallbacks_count);
        for (size_t f = 0; f < want.fallbacks_count; f++)
            CHECK_EQ_U64(got.fallbacks[f], want.fallbacks[f]);
        bool by_price =
            p.sort == OCTO_SORT_PRICE ||
            (p.sort == OCTO_SORT_NONE && s != OCTO_ROUTE_SPEED && s != OCTO_ROUTE_QUALITY);
        if (!by_price || p.order_count > 0) {
            CHECK_EQ_U64(offered, n); /* no early stop */
            CHECK(memcmp(&got.explain, &want.explain, sizeof(want.explain)) == 0);
        } else if (offered < n) {
            CHECK_EQ_U64(got.explain.eligible, OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX);
        }
        stopped += offered < n;
        with_order += p.order_count > 0 && want.fallbacks_count > 0;
    }
    printf("  %zu of 4000 decisions stopped early, %zu order decisions with fallbacks\n", stopped,
           with_order);
    CHECK(stopped > 200);
    CHECK(with_order > 50);
}

/* For qsort: candidates in ascending rank key of (rank_policy, rank_strategy). */
static const struct octo_route_policy *rank_policy;
static enum octo_route_strategy rank_strategy;

static int cmp_rank(const void *a, const void *b)
{
    uint64_t x = octo_route_rank_key(rank_policy, rank_strategy, a);
    uint64_t y = octo_route_rank_key(rank_policy, rank_strategy, b);
    return x < y ? -1 : x > y;
}

/* Offers in rank-key order (as the scheduler's heap does for speed and quality): the stream
 * stops early under every strategy and still decides exactly as the full scan. */
static void test_ranked_stream_equals_select(void)
{
    size_t stopped = 0;
    for (uint64_t seed = 1; seed <= 3000; seed++) {
        struct octo_rng r;
        octo_rng_init(&r, seed * 104729);
        size_t n = 1 + octo_rng_below(&r, POP_MAX);
        random_pop(&r, n);
        for (size_t i = 0; i < n; i++) {
            if (seed % 2 == 0) { /* mostly eligible, so the stream can stop early */
                pop[i].available = true;
                pop[i].in_flight = 0;
            }
            if (seed % 3 == 0) /* few distinct latencies and reputations: many ties */
                pop[i].latency_us = (uint32_t)octo_rng_below(&r, 3) * 1000;
            if (seed % 3 == 1)
                pop[i].reputation_bp = (uint16_t)(octo_rng_below(&r, 3) * 5000);
        }
        struct octo_route_policy p;
        enum octo_route_strategy s = stream_policy(&r, &p, n, seed % 2 == 0);
        memcpy(sorted, pop, n * sizeof(pop[0]));
        rank_policy = &p;
        rank_strategy = s;
        qsort(sorted, n, sizeof(sorted[0]), cmp_rank);
        struct octo_route_result want, got;
        struct octo_rng r1;
        octo_rng_init(&r1, seed);
        int rc1 = octo_route_select(&p, s, sorted, n, &r1, NULL, &want);
        size_t offered;
        int rc2 = run_stream(&p, s, sorted, n, seed, &got, &offered, true);
        CHECK_EQ_INT(rc2, rc1);
        if (rc1 == OCTO_ENOTFOUND)
            CHECK_EQ_U64(offered, n);
        if (rc1 != 0)
            continue;
        CHECK_EQ_U64(got.chosen, want.chosen);
        CHECK_EQ_U64(got.fallbacks_count, want.fallbacks_count);
        for (size_t f = 0; f < want.fallbacks_count; f++)
            CHECK_EQ_U64(got.fallbacks[f], want.fallbacks[f]);
        if (p.order_count > 0)
            CHECK_EQ_U64(offered, n);
        stopped += offered < n;
    }
    printf("  %zu of 3000 ranked decisions stopped early\n", stopped);
    CHECK(stopped > 300);
}

static void test_stream_errors(void)
{
    struct octo_route_candidate c = base_candidate(0, 100);
    struct octo_route_policy p;
    struct octo_route_stream st;
    struct octo_route_result res;
    struct octo_rng r;
    octo_rng_init(&r, 1);
    /* a bad policy, an unknown strategy, geo without a region */
    octo_route_policy_init(&p);
    p.min_reputation_bp = 10001;
    CHECK_ERR(octo_route_stream_begin(&st, &p, OCTO_ROUTE_COST, false), OCTO_EINVAL);
    CHECK(!octo_route_stream_offer(&st, &c, 0));
    CHECK_ERR(octo_route_stream_finish(&st, &r, &res), OCTO_EINVAL);
    CHECK_EQ_U64(res.explain.considered, 0);
    octo_route_policy_init(&p);
    CHECK_ERR(octo_route_stream_begin(&st, &p, (enum octo_route_strategy)5, false), OCTO_EINVAL);
    CHECK_ERR(octo_route_stream_begin(&st, &p, OCTO_ROUTE_GEO, true), OCTO_EINVAL);
    CHECK_ERR(octo_route_select(&p, OCTO_ROUTE_GEO, &c, 1, &r, NULL, &res), OCTO_EINVAL);
    /* empty stream: nothing eligible, nothing considered */
    CHECK_OK(octo_route_stream_begin(&st, &p, OCTO_ROUTE_COST, false));
    CHECK_ERR(octo_route_stream_finish(&st, &r, &res), OCTO_ENOTFOUND);
    CHECK_EQ_U64(res.explain.considered, 0);
    /* too many candidates: the offer past the maximum fails and finish says so */
    c.available = false;
    CHECK_OK(octo_route_stream_begin(&st, &p, OCTO_ROUTE_COST, false));
    for (size_t i = 0; i < OCTO_ROUTE_CANDIDATES_MAX; i++)
        CHECK(octo_route_stream_offer(&st, &c, i));
    CHECK(!octo_route_stream_offer(&st, &c, OCTO_ROUTE_CANDIDATES_MAX));
    CHECK(!octo_route_stream_offer(&st, &c, OCTO_ROUTE_CANDIDATES_MAX + 1));
    CHECK_ERR(octo_route_stream_finish(&st, &r, &res), OCTO_ETOOBIG);
    CHECK_EQ_U64(res.explain.considered, OCTO_ROUTE_CANDIDATES_MAX);
    CHECK_ERR(
        octo_route_select(&p, OCTO_ROUTE_COST, &c, OCTO_ROUTE_CANDIDATES_MAX + 1, &r, NULL, &res),
        OCTO_ETOOBIG);
    c.available = true;
    /* early stop: after TOP_K + FALLBACKS_MAX eligible price-ordered offers, and only then */
    struct octo_route_candidate many[OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX + 1];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(many); i++)
        many[i] = base_candidate(i, 100 + i);
    many[3].available = false;
    CHECK_OK(octo_route_stream_begin(&st, &p, OCTO_ROUTE_COST, true));
    size_t i = 0;
    while (i < OCTO_ARRAY_LEN(many) && octo_route_stream_offer(&st, &many[i], i))
        i++;
    CHECK_EQ_U64(i, OCTO_ARRAY_LEN(many) - 1); /* the 16th eligible one was the last needed */
    CHECK(!octo_route_stream_offer(&st, &many[i], i + 1));
    CHECK_OK(octo_route_stream_finish(&st, &r, &res));
    CHECK_EQ_U64(res.explain.considered, OCTO_ARRAY_LEN(many));
    CHECK_EQ_U64(res.explain.removed_unavailable, 1);
    CHECK(res.chosen != 3);
    /* the same input without the price promise takes everything */
    CHECK_OK(octo_route_stream_begin(&st, &p, OCTO_ROUTE_COST, false));
    for (i = 0; i < OCTO_ARRAY_LEN(many); i++)
        CHECK(octo_route_stream_offer(&st, &many[i], i));
    CHECK_OK(octo_route_stream_finish(&st, &r, &res));
    /* speed ranks by latency: a price-ordered stream still needs every candidate */
    CHECK_OK(octo_route_stream_begin(&st, &p, OCTO_ROUTE_SPEED, true));
    for (i = 0; i < OCTO_ARRAY_LEN(many); i++)
        CHECK(octo_route_stream_offer(&st, &many[i], i));
    CHECK_OK(octo_route_stream_finish(&st, &r, &res));
}

int main(void)
{
    make_ids();
    OCTO_RUN(test_properties);
    OCTO_RUN(test_policy_semantics);
    OCTO_RUN(test_speed_and_capacity);
    OCTO_RUN(test_stream_equals_select);
    OCTO_RUN(test_ranked_stream_equals_select);
    OCTO_RUN(test_stream_errors);
    return octo_test_finish();
}
