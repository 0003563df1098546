/*
 * router.c — filter, rank, balance (see router.h for the contract).
 *
 * 1. Filter: every candidate goes through the filters in a fixed order; the first one that
 *    rejects it is counted in the explain record, so a failed decision says which filter
 *    removed how many providers. The data-class rule comes before anything the policy can
 *    relax, and nothing after it can re-admit a candidate (fail closed).
 * 2. Rank: the eligible candidates are ranked by the strategy's key (or the policy's sort),
 *    ties broken by candidate index; only the best OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX
 *    are kept, with an insertion into a small sorted array (O(n) for the small constant).
 * 3. Balance: among the top K whose key is within the strategy's tolerance of the best, the
 *    load balancer (lb.h: power of two choices on in-flight / capacity, 1/price^2 weights for
 *    cost) picks one; the others become the ranked fallbacks. An explicit `order` disables
 *    balancing: the first eligible listed provider wins.
 */
#include "intel/router.h"

#include "base/assert.h"
#include "intel/lb.h"

#include <string.h>

#define KEEP_MAX (OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX)

static const char *const strategy_names[] = {"cost", "speed", "quality", "privacy", "geo"};

const char *octo_route_strategy_name(enum octo_route_strategy s)
{
    OCTO_ASSERT((unsigned)s < OCTO_ARRAY_LEN(strategy_names));
    return strategy_names[s];
}

int octo_route_strategy_parse(const char *s, enum octo_route_strategy *out)
{
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(strategy_names); i++) {
        if (strcmp(s, strategy_names[i]) == 0) {
            *out = (enum octo_route_strategy)i;
            return 0;
        }
    }
    return OCTO_EINVAL;
}

void octo_route_policy_init(struct octo_route_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->allow_fallbacks = true;
    p->privacy = OCTO_DATA_PUBLIC;
    p->isolation_min = OCTO_ISOLATION_NONE;
}

static bool region_code_ok(const char *code)
{
    if (code[0] == '\0')
        return true;
    return code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z' && code[2] == '\0';
}

int octo_route_policy_check(const struct octo_route_policy *p, const char **why)
{
    *why = NULL;
    if (p->order_count > OCTO_ROUTE_LIST_MAX || p->only_count > OCTO_ROUTE_LIST_MAX ||
        p->ignore_count > OCTO_ROUTE_LIST_MAX || p->quantizations_count > OCTO_ROUTE_LIST_MAX)
        *why = "too many entries in order, only, ignore or quantizations";
    else if ((unsigned)p->privacy > OCTO_DATA_PRIVATE)
        *why = "unknown data class";
    else if ((unsigned)p->isolation_min > OCTO_ISOLATION_TEE)
        *why = "unknown isolation level";
    else if (!region_code_ok(p->country) || !region_code_ok(p->continent))
        *why = "region codes are two uppercase letters";
    else if (p->min_reputation_bp > 10000)
        *why = "min_reputation is at most 100 (10000 basis points)";
    else if ((unsigned)p->sort > OCTO_SORT_LATENCY)
        *why = "unknown sort";
    return *why != NULL ? OCTO_EINVAL : 0;
}

bool octo_route_class_allowed(enum octo_data_class cls, const struct octo_route_candidate *c)
{
    switch (cls) {
    case OCTO_DATA_PUBLIC:
    case OCTO_DATA_SHARED:
        return true;
    case OCTO_DATA_CONFIDENTIAL:
    case OCTO_DATA_PRIVATE:
        return c->owner || c->isolation == OCTO_ISOLATION_TEE;
    }
    return false; /* an unknown class matches nothing: fail closed */
}

static bool listed(const struct octo_peerid *list, size_t count, const struct octo_peerid *id)
{
    for (size_t i = 0; i < count; i++) {
        if (octo_peerid_equal(&list[i], id))
            return true;
    }
    return false;
}

static bool quant_allowed(const struct octo_route_policy *p, const char *q)
{
    if (p->quantizations_count == 0)
        return true;
    for (size_t i = 0; q != NULL && i < p->quantizations_count; i++) {
        if (strcmp(p->quantizations[i], q) == 0)
            return true;
    }
    return false;
}

/* Returns a pointer to the counter of the first filter that rejects c, or NULL. */
static uint32_t *first_rejection(const struct octo_route_policy *p, enum octo_route_strategy s,
                                 const struct octo_route_candidate *c, struct octo_route_explain *e)
{
    if (p->only_count > 0 && !listed(p->only, p->only_count, c->provider))
        return &e->removed_only;
    if (listed(p->ignore, p->ignore_count, c->provider))
        return &e->removed_ignore;
    if (!octo_route_class_allowed(p->privacy, c))
        return &e->removed_data_class;
    if (c->isolation < p->isolation_min ||
        (s == OCTO_ROUTE_PRIVACY && c->isolation != OCTO_ISOLATION_TEE && !c->owner))
        return &e->removed_isolation;
    if ((p->country[0] != '\0' && strcmp(p->country, c->country) != 0) ||
        (p->continent[0] != '\0' && strcmp(p->continent, c->continent) != 0))
        return &e->removed_region;
    if ((p->max_price_in != 0 && c->price_in > p->max_price_in) ||
        (p->max_price_out != 0 && c->price_out > p->max_price_out))
        return &e->removed_price;
    if (!quant_allowed(p, c->quantization))
        return &e->removed_quantization;
    if ((p->zdr && c->retains_data) || (p->deny_data_collection && c->collects_data))
        return &e->removed_data_policy;
    if (p->require_parameters && !c->supports_params)
        return &e->removed_parameters;
    if (c->reputation_bp < p->min_reputation_bp)
        return &e->removed_reputation;
    if (!c->available)
        return &e->removed_unavailable;
    if (c->capacity == 0 || c->in_flight >= c->capacity)
        return &e->removed_capacity;
    if (!p->allow_fallbacks && p->order_count > 0 && !listed(p->order, p->order_count, c->provider))
        return &e->removed_not_in_order;
    return NULL;
}

static uint64_t price_key(const struct octo_route_candidate *c)
{
    uint64_t sum = c->price_in + c->price_out;
    return sum < c->price_in ? UINT64_MAX : sum; /* saturate on overflow */
}

/* Smaller is better. */
static uint64_t rank_key(enum octo_route_strategy s, enum octo_route_sort sort,
                         const struct octo_route_candidate *c)
{
    if (sort == OCTO_SORT_PRICE)
        return price_key(c);
    if (sort == OCTO_SORT_THROUGHPUT)
        return UINT32_MAX - (uint64_t)c->throughput_tps;
    if (sort == OCTO_SORT_LATENCY || s == OCTO_ROUTE_SPEED) {
        uint64_t lat = c->latency_us != 0 ? c->latency_us : UINT32_MAX;
        return lat << 32 | (UINT32_MAX - (uint64_t)c->throughput_tps);
    }
    if (s == OCTO_ROUTE_QUALITY)
        return 10000u - (uint64_t)(c->reputation_bp <= 10000 ? c->reputation_bp : 10000);
    return price_key(c); /* cost, privacy, geo */
}

/* Keeps the best KEEP_MAX (key, index) pairs sorted, ties by index. */
struct keep {
    uint64_t key[KEEP_MAX];
    size_t idx[KEEP_MAX];
    size_t count;
};

static void keep_offer(struct keep *k, uint64_t key, size_t idx)
{
    size_t pos = k->count;
    while (pos > 0 && (k->key[pos - 1] > key || (k->key[pos - 1] == key && k->idx[pos - 1] > idx)))
        pos--;
    if (pos >= KEEP_MAX)
        return;
    size_t last = k->count < KEEP_MAX ? k->count : KEEP_MAX - 1;
    for (size_t i = last; i > pos; i--) {
        k->key[i] = k->key[i - 1];
        k->idx[i] = k->idx[i - 1];
    }
    k->key[pos] = key;
    k->idx[pos] = idx;
    if (k->count < KEEP_MAX)
        k->count++;
}

/* Candidates within the strategy's tolerance of the best share the load: cost keeps those
 * at most twice the best price (the 1/price^2 weights then favour the cheap ones), the
 * other strategies keep exact ties. */
static size_t balanced_count(enum octo_route_strategy s, enum octo_route_sort sort,
                             const struct keep *k)
{
    bool cost = sort == OCTO_SORT_NONE &&
                (s == OCTO_ROUTE_COST || s == OCTO_ROUTE_PRIVACY || s == OCTO_ROUTE_GEO);
    size_t n = 1;
    while (n < k->count && n < OCTO_ROUTE_TOP_K) {
        bool within =
            cost ? k->key[n] <= 2 * k->key[0] || k->key[n] == k->key[0] : k->key[n] == k->key[0];
        if (!within)
            break;
        n++;
    }
    return n;
}

static bool already_used(const struct octo_route_result *out, size_t idx)
{
    if (out->chosen == idx)
        return true;
    for (size_t i = 0; i < out->fallbacks_count; i++) {
        if (out->fallbacks[i] == idx)
            return true;
    }
    return false;
}

static void fill_from_order(const struct octo_route_policy *p, const struct octo_route_candidate *c,
                            const uint32_t *eligible, size_t count, struct octo_route_result *out,
                            bool *found)
{
    *found = false;
    for (size_t o = 0; o < p->order_count; o++) {
        for (size_t i = 0; i < count; i++) {
            if (!octo_peerid_equal(c[eligible[i]].provider, &p->order[o]))
                continue;
            if (!*found) {
                out->chosen = eligible[i];
                *found = true;
            } else if (out->fallbacks_count < OCTO_ROUTE_FALLBACKS_MAX &&
                       !already_used(out, eligible[i])) {
                out->fallbacks[out->fallbacks_count++] = eligible[i]; /* `order` may repeat */
            }
        }
    }
}

int octo_route_select(const struct octo_route_policy *p, enum octo_route_strategy strategy,
                      const struct octo_route_candidate *c, size_t n, struct octo_rng *rng,
                      uint32_t *scratch, struct octo_route_result *out)
{
    memset(out, 0, sizeof(*out));
    const char *why;
    if (octo_route_policy_check(p, &why) < 0 || (unsigned)strategy > OCTO_ROUTE_GEO)
        return OCTO_EINVAL;
    if (strategy == OCTO_ROUTE_GEO && p->country[0] == '\0' && p->continent[0] == '\0')
        return OCTO_EINVAL; /* geo routing needs the region it routes to */
    if (n > OCTO_ROUTE_CANDIDATES_MAX)
        return OCTO_ETOOBIG;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t *reject = first_rejection(p, strategy, &c[i], &out->explain);
        if (reject != NULL)
            (*reject)++;
        else
            scratch[count++] = (uint32_t)i;
    }
    out->explain.considered = (uint32_t)n;
    out->explain.eligible = (uint32_t)count;
    if (count == 0)
        return OCTO_ENOTFOUND;
    bool from_order = false;
    if (p->order_count > 0)
        fill_from_order(p, c, scratch, count, out, &from_order);
    struct keep k = {.count = 0};
    for (size_t i = 0; i < count; i++)
        keep_offer(&k, rank_key(strategy, p->sort, &c[scratch[i]]), scratch[i]);
    if (from_order) { /* listed providers first; the rest of the ranking follows */
        for (size_t i = 0; i < k.count && out->fallbacks_count < OCTO_ROUTE_FALLBACKS_MAX; i++) {
            if (!listed(p->order, p->order_count, c[k.idx[i]].provider))
                out->fallbacks[out->fallbacks_count++] = k.idx[i];
        }
        return 0;
    }
    size_t top = balanced_count(strategy, p->sort, &k);
    struct octo_lb_candidate lbc[OCTO_ROUTE_TOP_K];
    for (size_t i = 0; i < top; i++) {
        const struct octo_route_candidate *x = &c[k.idx[i]];
        lbc[i] = (struct octo_lb_candidate){.price = price_key(x),
                                            .index = (uint32_t)k.idx[i],
                                            .in_flight = x->in_flight,
                                            .capacity = x->capacity};
    }
    bool cost =
        p->sort == OCTO_SORT_NONE && strategy != OCTO_ROUTE_SPEED && strategy != OCTO_ROUTE_QUALITY;
    size_t pick = 0;
    int rc = octo_lb_pick(lbc, top, cost ? OCTO_LB_COST : OCTO_LB_LEAST_LOADED, rng, &pick);
    if (rc < 0)
        return rc;
    out->chosen = lbc[pick].index;
    for (size_t i = 0; i < k.count && out->fallbacks_count < OCTO_ROUTE_FALLBACKS_MAX; i++) {
        if (k.idx[i] != out->chosen)
            out->fallbacks[out->fallbacks_count++] = k.idx[i];
    }
    return 0;
}
