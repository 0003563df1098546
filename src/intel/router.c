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
 *    With `order`, the eligible listed candidates are also kept by (first position in order,
 *    index), at most 1 + OCTO_ROUTE_FALLBACKS_MAX of them: the decision walks order and, per
 *    entry, the matching candidates in index order, so it only ever uses those.
 * 3. Balance: among the top K whose key is within the strategy's tolerance of the best, the
 *    load balancer (lb.h: power of two choices on in-flight / capacity, 1/price^2 weights for
 *    cost) picks one; the others become the ranked fallbacks. An explicit `order` disables
 *    balancing: the first eligible listed provider wins.
 *
 * Everything is done per candidate in octo_route_stream_offer (filter, keep) and once in
 * octo_route_stream_finish (balance), so the stream needs no per-candidate storage; the
 * early stop of a price-ordered stream is the point where the kept array is full and every
 * later candidate would rank after all of it (key not smaller, index greater).
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
    case OCTO_DATA_CONFIDENTIAL: /* TEE + ACL: the owner's node is no exception */
        return c->isolation == OCTO_ISOLATION_TEE;
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

/* Keeps the best KEEP_MAX candidates sorted by (key, index). */
static void keep_offer(struct octo_route_stream *st, const struct octo_route_kept *x)
{
    struct octo_route_kept *k = st->kept;
    size_t pos = st->kept_count;
    while (pos > 0 &&
           (k[pos - 1].key > x->key || (k[pos - 1].key == x->key && k[pos - 1].index > x->index)))
        pos--;
    if (pos >= KEEP_MAX)
        return;
    size_t last = st->kept_count < KEEP_MAX ? st->kept_count : KEEP_MAX - 1;
    for (size_t i = last; i > pos; i--)
        k[i] = k[i - 1];
    k[pos] = *x;
    if (st->kept_count < KEEP_MAX)
        st->kept_count++;
}

/* Keeps the first 1 + OCTO_ROUTE_FALLBACKS_MAX eligible listed candidates by (first order
 * position, index): exactly the ones an `order` decision uses, in its order. */
static void listed_offer(struct octo_route_stream *st, size_t order_pos, size_t index)
{
    struct octo_route_listed *l = st->listed;
    const size_t max = OCTO_ROUTE_FALLBACKS_MAX + 1;
    size_t pos = st->listed_count;
    while (pos > 0 && (l[pos - 1].order_pos > order_pos ||
                       (l[pos - 1].order_pos == order_pos && l[pos - 1].index > index)))
        pos--;
    if (pos >= max)
        return;
    size_t last = st->listed_count < max ? st->listed_count : max - 1;
    for (size_t i = last; i > pos; i--)
        l[i] = l[i - 1];
    l[pos] = (struct octo_route_listed){.order_pos = order_pos, .index = index};
    if (st->listed_count < max)
        st->listed_count++;
}

/* First position of id in p->order, or p->order_count. */
static size_t order_pos(const struct octo_route_policy *p, const struct octo_peerid *id)
{
    size_t o = 0;
    while (o < p->order_count && !octo_peerid_equal(&p->order[o], id))
        o++;
    return o;
}

static bool cost_balanced(enum octo_route_strategy s, enum octo_route_sort sort)
{
    return sort == OCTO_SORT_NONE &&
           (s == OCTO_ROUTE_COST || s == OCTO_ROUTE_PRIVACY || s == OCTO_ROUTE_GEO);
}

/* Candidates within the strategy's tolerance of the best share the load: cost keeps those
 * at most twice the best price (the 1/price^2 weights then favour the cheap ones), the
 * other strategies keep exact ties. */
static size_t balanced_count(const struct octo_route_stream *st)
{
    bool cost = cost_balanced(st->strategy, st->policy->sort);
    const struct octo_route_kept *k = st->kept;
    size_t n = 1;
    while (n < st->kept_count && n < OCTO_ROUTE_TOP_K) {
        bool within =
            cost ? k[n].key <= 2 * k[0].key || k[n].key == k[0].key : k[n].key == k[0].key;
        if (!within)
            break;
        n++;
    }
    return n;
}

int octo_route_stream_begin(struct octo_route_stream *st, const struct octo_route_policy *p,
                            enum octo_route_strategy s, bool price_ordered)
{
    OCTO_ASSERT(st != NULL);
    OCTO_ASSERT(p != NULL);
    memset(st, 0, sizeof(*st));
    st->policy = p;
    st->strategy = s;
    st->price_ordered = price_ordered;
    const char *why;
    if (octo_route_policy_check(p, &why) < 0 || (unsigned)s > OCTO_ROUTE_GEO)
        st->status = OCTO_EINVAL;
    else if (s == OCTO_ROUTE_GEO && p->country[0] == '\0' && p->continent[0] == '\0')
        st->status = OCTO_EINVAL; /* geo routing needs the region it routes to */
    if (st->status < 0) {
        st->stopped = true;
        return st->status;
    }
    st->early_stop = price_ordered && octo_route_ranks_by_price(p, s) && p->order_count == 0;
    return 0;
}

int octo_route_stream_begin_ranked(struct octo_route_stream *st, const struct octo_route_policy *p,
                                   enum octo_route_strategy s)
{
    int rc = octo_route_stream_begin(st, p, s, false);
    if (rc < 0)
        return rc;
    st->rank_ordered = true;
    st->early_stop = p->order_count == 0;
    return 0;
}

uint64_t octo_route_rank_key(const struct octo_route_policy *p, enum octo_route_strategy s,
                             const struct octo_route_candidate *c)
{
    return rank_key(s, p->sort, c);
}

bool octo_route_ranks_by_price(const struct octo_route_policy *p, enum octo_route_strategy s)
{
    return p->sort == OCTO_SORT_PRICE || cost_balanced(s, p->sort);
}

bool octo_route_stream_offer(struct octo_route_stream *st, const struct octo_route_candidate *c,
                             size_t index)
{
    OCTO_ASSERT(st != NULL);
    OCTO_ASSERT(c != NULL);
    if (st->stopped)
        return false;
    struct octo_route_explain *e = &st->explain;
    uint64_t price = price_key(c);
    uint64_t key = rank_key(st->strategy, st->policy->sort, c);
    if (e->considered > 0) {
        OCTO_ASSERT(index > st->last_index);
        OCTO_ASSERT(!st->price_ordered || price >= st->last_price);
        OCTO_ASSERT(!st->rank_ordered || key >= st->last_key);
    }
    if (e->considered >= OCTO_ROUTE_CANDIDATES_MAX) {
        st->status = OCTO_ETOOBIG;
        st->stopped = true;
        return false;
    }
    st->last_index = index;
    st->last_price = price;
    st->last_key = key;
    e->considered++;
    const struct octo_route_policy *p = st->policy;
    uint32_t *reject = first_rejection(p, st->strategy, c, e);
    if (reject != NULL) {
        (*reject)++;
        return true;
    }
    e->eligible++;
    bool listed_here = false;
    if (p->order_count > 0) {
        size_t o = order_pos(p, c->provider);
        listed_here = o < p->order_count;
        if (listed_here)
            listed_offer(st, o, index);
    }
    struct octo_route_kept k = {.key = key,
                                .price = price,
                                .index = index,
                                .in_flight = c->in_flight,
                                .capacity = c->capacity,
                                .listed = listed_here};
    keep_offer(st, &k);
    if (st->early_stop && st->kept_count == KEEP_MAX) {
        st->stopped = true;
        return false;
    }
    return true;
}

/* The ranking after the listed providers: every kept candidate not named in order. */
static void finish_from_order(const struct octo_route_stream *st, struct octo_route_result *out)
{
    out->chosen = st->listed[0].index;
    for (size_t i = 1; i < st->listed_count; i++)
        out->fallbacks[out->fallbacks_count++] = st->listed[i].index;
    for (size_t i = 0; i < st->kept_count && out->fallbacks_count < OCTO_ROUTE_FALLBACKS_MAX; i++) {
        if (!st->kept[i].listed)
            out->fallbacks[out->fallbacks_count++] = st->kept[i].index;
    }
}

int octo_route_stream_finish(struct octo_route_stream *st, struct octo_rng *rng,
                             struct octo_route_result *out)
{
    OCTO_ASSERT(st != NULL);
    OCTO_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    out->explain = st->explain;
    if (st->status < 0)
        return st->status;
    if (st->explain.eligible == 0)
        return OCTO_ENOTFOUND;
    if (st->listed_count > 0) { /* an explicit order disables balancing */
        finish_from_order(st, out);
        return 0;
    }
    size_t top = balanced_count(st);
    struct octo_lb_candidate lbc[OCTO_ROUTE_TOP_K];
    for (size_t i = 0; i < top; i++) {
        const struct octo_route_kept *x = &st->kept[i];
        lbc[i] = (struct octo_lb_candidate){.price = x->price,
                                            .index = (uint32_t)x->index,
                                            .in_flight = x->in_flight,
                                            .capacity = x->capacity};
    }
    enum octo_route_strategy s = st->strategy;
    bool cost =
        st->policy->sort == OCTO_SORT_NONE && s != OCTO_ROUTE_SPEED && s != OCTO_ROUTE_QUALITY;
    size_t pick = 0;
    int rc = octo_lb_pick(lbc, top, cost ? OCTO_LB_COST : OCTO_LB_LEAST_LOADED, rng, &pick);
    if (rc < 0)
        return rc;
    out->chosen = st->kept[pick].index;
    for (size_t i = 0; i < st->kept_count && out->fallbacks_count < OCTO_ROUTE_FALLBACKS_MAX; i++) {
        if (st->kept[i].index != out->chosen)
            out->fallbacks[out->fallbacks_count++] = st->kept[i].index;
    }
    return 0;
}

int octo_route_select(const struct octo_route_policy *p, enum octo_route_strategy strategy,
                      const struct octo_route_candidate *c, size_t n, struct octo_rng *rng,
                      uint32_t *scratch, struct octo_route_result *out)
{
    (void)scratch;
    memset(out, 0, sizeof(*out));
    struct octo_route_stream st;
    int rc = octo_route_stream_begin(&st, p, strategy, false);
    if (rc < 0)
        return rc;
    if (n > OCTO_ROUTE_CANDIDATES_MAX)
        return OCTO_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        (void)octo_route_stream_offer(&st, &c[i], i);
    return octo_route_stream_finish(&st, rng, out);
}
