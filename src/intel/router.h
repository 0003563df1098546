/*
 * router.h — the Task Router's decision core: which provider runs a task.
 *
 * Input: a request policy (OpenRouter's `provider` object, extended with CipherOcto's data
 * class, minimum isolation, region, minimum reputation and verification), a strategy (cost,
 * speed, quality, privacy, geo), and the candidate providers for the task's model as
 * struct octo_route_candidate views (filled by the caller from the registry and the health
 * checker). Output: the chosen provider, the ranked fallbacks, and — when nothing matches — how
 * many candidates each filter removed, so the answer can say why. Routing fails closed: a
 * candidate whose isolation does not satisfy the task's data class is never eligible, whatever
 * else the policy says.
 *
 * Pure and deterministic: integer arithmetic only; randomness (the load balancer's draw)
 * comes from the caller's struct octo_rng; ties are broken by candidate index, so the same
 * inputs and seed give the same answer on every machine.
 *
 * Data classes (ARCHITECTURE.md §5): PUBLIC and SHARED run anywhere; CONFIDENTIAL needs a TEE
 * (isolation OCTO_ISOLATION_TEE; its ACL is the client's check); PRIVATE needs a TEE or the
 * owner's own node, which the caller marks (candidate `owner`).
 */
#ifndef OCTO_INTEL_ROUTER_H
#define OCTO_INTEL_ROUTER_H

#include "base/err.h"
#include "base/rng.h"
#include "crypto/peerid.h"
#include "intel/advert.h" /* enum octo_isolation */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_ROUTE_CANDIDATES_MAX 100000u /* one decision considers at most this many */
#define OCTO_ROUTE_LIST_MAX 32            /* order / only / ignore / quantizations entries */
#define OCTO_ROUTE_FALLBACKS_MAX 8        /* ranked alternatives returned */
#define OCTO_ROUTE_TOP_K 8                /* best candidates the load balancer spreads over */
#define OCTO_ROUTE_QUANT_LEN_MAX 32

enum octo_data_class {
    OCTO_DATA_PUBLIC = 0,
    OCTO_DATA_SHARED = 1,
    OCTO_DATA_CONFIDENTIAL = 2,
    OCTO_DATA_PRIVATE = 3,
};

enum octo_route_strategy {
    OCTO_ROUTE_COST = 0,    /* lowest price, load spread with 1/price^2 weights */
    OCTO_ROUTE_SPEED = 1,   /* lowest observed latency, then highest throughput */
    OCTO_ROUTE_QUALITY = 2, /* highest reputation */
    OCTO_ROUTE_PRIVACY = 3, /* TEE only, then cost */
    OCTO_ROUTE_GEO = 4,     /* region required (policy.country/continent), then cost */
};

/* OpenRouter `sort`: overrides the strategy's ordering when set. */
enum octo_route_sort {
    OCTO_SORT_NONE = 0,
    OCTO_SORT_PRICE = 1,
    OCTO_SORT_THROUGHPUT = 2,
    OCTO_SORT_LATENCY = 3,
};

struct octo_route_policy {
    /* OpenRouter provider object */
    struct octo_peerid order[OCTO_ROUTE_LIST_MAX]; /* try these first, in this order */
    size_t order_count;
    struct octo_peerid only[OCTO_ROUTE_LIST_MAX]; /* if any: nobody else */
    size_t only_count;
    struct octo_peerid ignore[OCTO_ROUTE_LIST_MAX];
    size_t ignore_count;
    bool allow_fallbacks; /* default true: others after `order` */
    enum octo_route_sort sort;
    uint64_t max_price_in;  /* per 1M input tokens, base units; 0 = no limit */
    uint64_t max_price_out; /* per 1M output tokens; 0 = no limit */
    char quantizations[OCTO_ROUTE_LIST_MAX][OCTO_ROUTE_QUANT_LEN_MAX + 1]; /* allowed */
    size_t quantizations_count;
    bool deny_data_collection; /* data_collection: "deny" */
    bool zdr;                  /* zero data retention required */
    bool require_parameters;   /* the provider must support every request parameter */
    /* CipherOcto extensions */
    enum octo_data_class privacy;
    enum octo_isolation isolation_min;
    char country[3];            /* ISO 3166-1 alpha-2, "" = any */
    char continent[3];          /* AF AN AS EU NA OC SA, "" = any */
    uint16_t min_reputation_bp; /* 0..10000 */
    uint8_t verify;             /* verification level asked for (recorded; the verifier acts) */
};

/* What the router needs to know about one provider for one task. */
struct octo_route_candidate {
    const struct octo_peerid *provider;
    uint64_t price_in, price_out; /* per 1M tokens */
    enum octo_isolation isolation;
    char country[3], continent[3];
    const char *quantization;
    bool retains_data;  /* the provider may keep prompts */
    bool collects_data; /* the provider may use prompts */
    bool owner;         /* the task owner's own node (PRIVATE data may go there) */
    bool supports_params;
    uint16_t reputation_bp;
    uint32_t latency_us;     /* observed p50, 0 = unknown (ranked after known ones) */
    uint32_t throughput_tps; /* observed tokens/s, 0 = unknown */
    uint32_t in_flight, capacity;
    bool available; /* health: not cooling down */
};

/* Per-filter removal counts: why nothing (or little) matched. */
struct octo_route_explain {
    uint32_t considered;
    uint32_t removed_only, removed_ignore, removed_data_class, removed_isolation;
    uint32_t removed_region, removed_price, removed_quantization, removed_data_policy;
    uint32_t removed_parameters, removed_reputation, removed_unavailable, removed_capacity;
    uint32_t removed_not_in_order; /* allow_fallbacks false and not listed in order */
    uint32_t eligible;
};

struct octo_route_result {
    size_t chosen; /* index into the candidate array */
    size_t fallbacks[OCTO_ROUTE_FALLBACKS_MAX];
    size_t fallbacks_count;
    struct octo_route_explain explain;
};

/* Policy defaults: allow_fallbacks true, everything else open, data class PUBLIC. */
void octo_route_policy_init(struct octo_route_policy *p);

/* Checks a policy for contradictions and bad values. OCTO_EINVAL with *why set. */
OCTO_MUST_USE int octo_route_policy_check(const struct octo_route_policy *p, const char **why);

/* Decides. Returns 0 with out->chosen set, or OCTO_ENOTFOUND when no candidate is eligible
 * (out->explain says why), OCTO_ETOOBIG for more than OCTO_ROUTE_CANDIDATES_MAX candidates,
 * OCTO_EINVAL for a bad policy (or geo without a region). A loop over the stream below
 * (price_ordered false): a decision allocates nothing. scratch is no longer used (kept for
 * the callers; it may be NULL). */
OCTO_MUST_USE int octo_route_select(const struct octo_route_policy *p,
                                    enum octo_route_strategy strategy,
                                    const struct octo_route_candidate *c, size_t n,
                                    struct octo_rng *rng, uint32_t *scratch,
                                    struct octo_route_result *out);

/* ---- streaming form ----
 *
 * The same decision, with the candidates offered one at a time, so the caller builds each
 * candidate view only when it is needed:
 *
 *     octo_route_stream_begin(&st, policy, strategy, price_ordered);
 *     for each candidate i, in increasing i: if (!octo_route_stream_offer(&st, &view_i, i)) break;
 *     octo_route_stream_finish(&st, rng, &result);
 *
 * price_ordered = the caller promises the candidates arrive in ascending price key order
 * (price_in + price_out, saturating; asserted), ties in index order. Then, when the ranking
 * is by price (strategy cost, privacy or geo with sort none, or any strategy with sort price)
 * and the policy has no `order` list, the result depends only on the first
 * OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX eligible candidates, and offer returns false
 * once it has them: chosen and fallbacks are those of the full scan with the same rng state.
 * Otherwise every candidate is needed and offer returns true (until an error).
 * explain.considered counts the candidates offered; the removal counts cover those; when
 * nothing is eligible every candidate was offered, so the explain is complete.
 *
 * The stream copies what finish needs (ranking keys, load, the order positions of eligible
 * listed providers: at most 1 + OCTO_ROUTE_FALLBACKS_MAX of them), so the caller may reuse
 * its candidate struct between offers. It borrows the policy until finish. */

/* Internal: one of the best eligible candidates kept by a stream. */
struct octo_route_kept {
    uint64_t key;   /* rank key, smaller is better */
    uint64_t price; /* price key for the load balancer */
    size_t index;
    uint32_t in_flight, capacity;
    bool listed; /* named in policy->order */
};

/* Internal: an eligible candidate named in policy->order, at its first order position. */
struct octo_route_listed {
    size_t order_pos;
    size_t index;
};

struct octo_route_stream {
    /* internal: use the functions below */
    const struct octo_route_policy *policy;
    enum octo_route_strategy strategy;
    int status; /* 0, or the error finish returns */
    bool early_stop;
    bool price_ordered;
    bool rank_ordered;
    bool stopped;
    uint64_t last_price;
    uint64_t last_key;
    size_t last_index;
    struct octo_route_explain explain;
    struct octo_route_kept kept[OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX];
    size_t kept_count;
    struct octo_route_listed listed[1 + OCTO_ROUTE_FALLBACKS_MAX];
    size_t listed_count;
};

/* Starts a decision under policy p (borrowed until finish) and strategy s. Returns 0, or
 * OCTO_EINVAL for a bad policy, unknown strategy or geo without a region; the stream then
 * takes no candidates (offer returns false) and finish returns the same error. */
OCTO_MUST_USE int octo_route_stream_begin(struct octo_route_stream *st,
                                          const struct octo_route_policy *p,
                                          enum octo_route_strategy s, bool price_ordered);

/* Like octo_route_stream_begin, for candidates the caller offers in ascending
 * octo_route_rank_key order (ties in index order; asserted) — e.g. from a heap built over the
 * model's providers. Then the decision stops after the best OCTO_ROUTE_TOP_K +
 * OCTO_ROUTE_FALLBACKS_MAX eligible candidates whatever the strategy and sort, unless the
 * policy has an `order` list; the result is that of the full scan over the same offers. */
OCTO_MUST_USE int octo_route_stream_begin_ranked(struct octo_route_stream *st,
                                                 const struct octo_route_policy *p,
                                                 enum octo_route_strategy s);

/* The key a decision ranks candidates by under policy p and strategy s (smaller is better):
 * the price key, latency then throughput, throughput, or reputation. Reads only the
 * candidate's prices, latency_us, throughput_tps and reputation_bp. */
uint64_t octo_route_rank_key(const struct octo_route_policy *p, enum octo_route_strategy s,
                             const struct octo_route_candidate *c);

/* True when p and s rank by price (price_ordered offers can then stop early). */
bool octo_route_ranks_by_price(const struct octo_route_policy *p, enum octo_route_strategy s);

/* Offers candidate c at index `index` (strictly greater than the previous offer's; asserted).
 * Returns true while more candidates may change the result, false once they cannot (early
 * stop, see above), after an error (more than OCTO_ROUTE_CANDIDATES_MAX offers: finish then
 * returns OCTO_ETOOBIG) or when begin failed. c is not kept. */
bool octo_route_stream_offer(struct octo_route_stream *st, const struct octo_route_candidate *c,
                             size_t index);

/* Decides among the candidates offered; out->chosen and out->fallbacks are offer indices.
 * Returns 0, OCTO_ENOTFOUND (nothing eligible; out->explain says why), or the error begin
 * or offer recorded (OCTO_EINVAL, OCTO_ETOOBIG). out is always written. */
OCTO_MUST_USE int octo_route_stream_finish(struct octo_route_stream *st, struct octo_rng *rng,
                                           struct octo_route_result *out);

/* True when the candidate may receive data of this class (the fail-closed rule). */
bool octo_route_class_allowed(enum octo_data_class cls, const struct octo_route_candidate *c);

/* Name of a strategy ("cost", ...); parse returns OCTO_EINVAL for unknown names. */
const char *octo_route_strategy_name(enum octo_route_strategy s);
OCTO_MUST_USE int octo_route_strategy_parse(const char *s, enum octo_route_strategy *out);

#endif
