/*
 * bench_router.c — the Task Router's decision cost with 1k, 10k and 100k registered
 * providers, next to the bare registry query it builds on (the reference: the same candidate
 * walk without filtering, ranking or balancing), plus decisions per second and memory per
 * registered provider (registry alone, and with the price-ordered rows of rview.h for every
 * model).
 *
 * Population (seeded, same every run): MODELS model names, 2 models per provider, random
 * prices, isolation, regions and observed latencies. The policy filters by data class, price
 * and reputation. Decision paths:
 *   - decision_latency (cost strategy, the router's path): look the model name up, take its
 *     price-ordered rows from the rview, offer them to octo_route_stream with price_ordered,
 *     building each candidate view only when it is offered; the stream stops after the first
 *     OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX eligible ones ("offered_avg").
 *   - decision_latency_full_scan (cost): the previous path: walk the whole posting list,
 *     build every candidate view, octo_route_select over all of them.
 *   - decision_latency_speed / _quality: these rank by latency or reputation, not price: each
 *     row gets its rank key from the per-provider latency / reputation arrays (the scheduler
 *     keeps such a compact copy of its health records), a heap built in O(n) pops them in key
 *     order into a ranked stream, which stops early too; only the offered rows get a view.
 *   - reference_query: the bare posting-list walk (no filter, rank or balance).
 * rview_rebuild: the cost of (re)building one model's rows, paid by the first decision after
 * the model changed; here measured on the first use of each model.
 * "candidates_avg" is the number of providers serving the model the decision asked for.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/rng.h"
#include "bench.h"
#include "intel/advert.h"
#include "intel/registry.h"
#include "intel/router.h"
#include "intel/rview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODELS 500
#define DECISIONS_MAX 20000

static const char *const countries[] = {"DE", "FR", "US", "CA", "JP", "BR", "ZA", "AU"};
static const char *const continents[] = {"EU", "EU", "NA", "NA", "AS", "SA", "AF", "OC"};

struct world {
    struct octo_registry reg;
    struct octo_rview view;
    struct octo_route_policy policy;
    struct octo_route_candidate *cands;
    struct octo_peerid *ids;
    uint32_t *scratch;
    uint16_t *reputation;
    uint32_t *latency;
    struct octo_rview_ranked *ranked; /* rank heap, one entry per provider */
    size_t n;
};

static void fill(struct world *w, size_t n, struct octo_rng *r)
{
    struct octo_registry_config cfg = {.providers_max = (uint32_t)n, .models_max = MODELS};
    if (octo_registry_init(&w->reg, &cfg) != 0)
        abort();
    struct octo_advert *a = octo_malloc(sizeof(*a));
    w->reputation = octo_calloc(n, sizeof(*w->reputation));
    w->latency = octo_calloc(n, sizeof(*w->latency));
    for (size_t i = 0; i < n; i++) {
        octo_advert_init(a);
        a->provider.len = 38;
        a->provider.bytes[0] = 0x00;
        a->provider.bytes[1] = 0x24;
        a->provider.bytes[2] = 0x08;
        a->provider.bytes[3] = 0x01;
        a->provider.bytes[4] = 0x12;
        a->provider.bytes[5] = 0x20;
        octo_rng_fill(r, a->provider.bytes + 6, 32);
        a->seq = 1;
        a->price_in_per_mtok = 1000 + octo_rng_below(r, 100000);
        a->price_out_per_mtok = 2000 + octo_rng_below(r, 200000);
        a->expiry_ms = 1000000 + 86400000;
        a->max_concurrency = (uint32_t)(1 + octo_rng_below(r, 16));
        a->hw_tier = 2;
        a->isolation = (uint8_t)(1 + octo_rng_below(r, 3));
        size_t reg = octo_rng_below(r, 8);
        memcpy(a->country, countries[reg], 3);
        memcpy(a->continent, continents[reg], 3);
        if (a->isolation == 3) {
            a->attestation_len = 8;
            memset(a->attestation, 0x5a, 8);
        }
        a->models_count = 2;
        for (size_t m = 0; m < 2; m++) {
            snprintf(a->models[m].name, sizeof(a->models[m].name), "model-%llu",
                     (unsigned long long)((octo_rng_below(r, MODELS / 2)) * 2 + m));
            snprintf(a->models[m].quant, sizeof(a->models[m].quant), "q4_k_m");
            memset(a->models[m].weights_hash, (int)m + 1, sizeof(a->models[m].weights_hash));
            a->models[m].context_len = 8192;
        }
        a->endpoints_count = 1;
        const uint8_t ep[] = {0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1};
        memcpy(a->endpoints[0].bytes, ep, sizeof(ep));
        a->endpoints[0].len = sizeof(ep);
        uint32_t index;
        enum octo_advert_reason why;
        if (octo_registry_upsert(&w->reg, a, 1000000, &index, &why) < 0) {
            fprintf(stderr, "upsert: %s\n", octo_advert_reason_str(why));
            abort();
        }
        w->reputation[index] = (uint16_t)octo_rng_below(r, 10001);
        w->latency[index] = (uint32_t)(50 + octo_rng_below(r, 5000));
    }
    octo_free(a);
    w->n = n;
    w->cands = octo_calloc(n, sizeof(*w->cands));
    w->scratch = octo_calloc(n, sizeof(*w->scratch));
    w->ids = octo_calloc(n, sizeof(*w->ids));
    w->ranked = octo_calloc(n, sizeof(*w->ranked));
}

/* One routing decision for `model`; returns the number of candidates seen. */
static size_t decide(struct world *w, const char *model, struct octo_rng *r, bool route)
{
    struct octo_registry_query q = {.model = model};
    struct octo_registry_iter it;
    struct octo_registry_candidate rc;
    if (octo_registry_iter_init(&it, &w->reg, &q) != 0)
        abort();
    size_t n = 0;
    while (octo_registry_iter_next(&it, &rc)) {
        const struct octo_registry_entry *e = rc.entry;
        struct octo_route_candidate *c = &w->cands[n++];
        c->provider = &e->provider;
        c->price_in = e->price_in_per_mtok;
        c->price_out = e->price_out_per_mtok;
        c->isolation = (enum octo_isolation)e->isolation;
        memcpy(c->country, e->country, 3);
        memcpy(c->continent, e->continent, 3);
        c->quantization = rc.model->quant;
        c->reputation_bp = w->reputation[rc.index];
        c->latency_us = w->latency[rc.index];
        c->capacity = e->max_concurrency;
        c->in_flight = 0;
        c->available = true;
        c->supports_params = true;
    }
    if (!route || n == 0)
        return n;
    struct octo_route_result res;
    int rc2 = octo_route_select(&w->policy, OCTO_ROUTE_COST, w->cands, n, r, w->scratch, &res);
    if (rc2 != 0 && rc2 != OCTO_ENOTFOUND)
        abort();
    return n;
}

static void view_of(const struct world *w, const struct octo_rview_row *row,
                    struct octo_route_candidate *c)
{
    const struct octo_registry_entry *e = &w->reg.entries[row->slot];
    c->provider = &e->provider;
    c->price_in = e->price_in_per_mtok;
    c->price_out = e->price_out_per_mtok;
    c->isolation = (enum octo_isolation)e->isolation;
    memcpy(c->country, e->country, 3);
    memcpy(c->continent, e->continent, 3);
    c->quantization = e->models[row->model_idx].quant;
    c->reputation_bp = w->reputation[row->slot];
    c->latency_us = w->latency[row->slot];
    c->capacity = e->max_concurrency;
    c->in_flight = 0;
    c->available = true;
    c->supports_params = true;
}

/* One decision on the rview + stream path; returns the number of candidates offered. */
static size_t decide_stream(struct world *w, const char *model, struct octo_rng *r,
                            enum octo_route_strategy s)
{
    uint32_t id;
    if (octo_registry_model_lookup(&w->reg, model, &id) != 0)
        return 0;
    const struct octo_rview_row *rows;
    size_t n;
    if (octo_rview_rows(&w->view, &w->reg, id, &rows, &n) != 0)
        abort();
    struct octo_route_stream st;
    struct octo_route_candidate c;
    memset(&c, 0, sizeof(c));
    size_t offered = 0;
    if (octo_route_ranks_by_price(&w->policy, s)) { /* rows are in price order already */
        if (octo_route_stream_begin(&st, &w->policy, s, true) != 0)
            abort();
        while (offered < n) {
            view_of(w, &rows[offered], &c);
            offered++;
            if (!octo_route_stream_offer(&st, &c, offered - 1))
                break;
        }
    } else { /* rank keys from the per-provider health copy, popped from a heap */
        if (octo_route_stream_begin_ranked(&st, &w->policy, s) != 0)
            abort();
        for (size_t i = 0; i < n; i++) {
            c.latency_us = w->latency[rows[i].slot];
            c.reputation_bp = w->reputation[rows[i].slot];
            w->ranked[i] = (struct octo_rview_ranked){.key = octo_route_rank_key(&w->policy, s, &c),
                                                      .row = (uint32_t)i};
        }
        size_t len = n;
        octo_rview_rank_heapify(w->ranked, len);
        struct octo_rview_ranked top;
        while (octo_rview_rank_pop(w->ranked, &len, &top)) {
            view_of(w, &rows[top.row], &c);
            offered++;
            if (!octo_route_stream_offer(&st, &c, offered - 1))
                break;
        }
    }
    struct octo_route_result res;
    int rc = octo_route_stream_finish(&st, r, &res);
    if (rc != 0 && rc != OCTO_ENOTFOUND)
        abort();
    octo_bench_sink(&res.chosen, sizeof(res.chosen));
    return offered;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void model_of(struct octo_rng *r, char *out, size_t size)
{
    snprintf(out, size, "model-%llu", (unsigned long long)octo_rng_below(r, MODELS));
}

/* Path of a measurement pass. */
enum path { REFERENCE, FULL_SCAN, STREAM_COST, STREAM_SPEED, STREAM_QUALITY, PATHS };

/* Times `decisions` decisions on one path into out (sorted); returns the candidates (or the
 * offers, for the stream paths) summed over them. */
static size_t measure(struct world *w, enum path path, struct octo_rng *r, size_t decisions,
                      uint64_t *out)
{
    static const enum octo_route_strategy strategy[PATHS] = {[STREAM_COST] = OCTO_ROUTE_COST,
                                                             [STREAM_SPEED] = OCTO_ROUTE_SPEED,
                                                             [STREAM_QUALITY] = OCTO_ROUTE_QUALITY};
    size_t seen = 0;
    for (size_t i = 0; i < decisions; i++) {
        char model[32];
        model_of(r, model, sizeof(model));
        uint64_t t0 = octo_bench_now_ns();
        if (path == REFERENCE || path == FULL_SCAN)
            seen += decide(w, model, r, path == FULL_SCAN);
        else
            seen += decide_stream(w, model, r, strategy[path]);
        out[i] = octo_bench_now_ns() - t0;
    }
    qsort(out, decisions, sizeof(*out), cmp_u64);
    return seen;
}

static void report_latency(const struct octo_bench *b, const char *metric, const uint64_t *lat,
                           size_t decisions, const char *params)
{
    char name[96];
    snprintf(name, sizeof(name), "%s_p50", metric);
    octo_bench_report(b, name, (double)lat[decisions / 2] / 1000, "us", params);
    snprintf(name, sizeof(name), "%s_p99", metric);
    octo_bench_report(b, name, (double)lat[decisions * 99 / 100] / 1000, "us", params);
}

/* Builds every model's rows once (timing each build) and reports the memory they add. */
static void warm_view(const struct octo_bench *b, struct world *w, size_t n, double registry_per)
{
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    uint64_t builds[MODELS];
    size_t count = 0;
    for (unsigned m = 0; m < MODELS; m++) {
        char model[32];
        snprintf(model, sizeof(model), "model-%u", m);
        uint32_t id;
        if (octo_registry_model_lookup(&w->reg, model, &id) != 0)
            continue;
        const struct octo_rview_row *rows;
        size_t rn;
        uint64_t t0 = octo_bench_now_ns();
        if (octo_rview_rows(&w->view, &w->reg, id, &rows, &rn) != 0)
            abort();
        builds[count++] = octo_bench_now_ns() - t0;
    }
    octo_alloc_stats(&after);
    qsort(builds, count, sizeof(*builds), cmp_u64);
    char params[96];
    snprintf(params, sizeof(params), "\"providers\":%zu,\"models\":%zu", n, count);
    report_latency(b, "rview_rebuild", builds, count, params);
    double rows = (double)(after.bytes_live - before.bytes_live) / (double)n;
    octo_bench_report(b, "registry_plus_rview_bytes_per_provider", registry_per + rows, "B",
                      params);
}

static void run_size(const struct octo_bench *b, size_t n)
{
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    struct octo_rng r;
    octo_rng_init(&r, 42);
    struct world w;
    memset(&w, 0, sizeof(w));
    fill(&w, n, &r);
    octo_alloc_stats(&after);
    size_t aux = n * (sizeof(*w.cands) + sizeof(*w.scratch) + sizeof(*w.ids) +
                      sizeof(*w.reputation) + sizeof(*w.latency) + sizeof(*w.ranked));
    double per = (double)(after.bytes_live - before.bytes_live - aux) / (double)n;
    char params[96];
    snprintf(params, sizeof(params), "\"providers\":%zu,\"models\":%d", n, MODELS);
    octo_bench_report(b, "registry_bytes_per_provider", per, "B", params);
    octo_alloc_stats(&before);
    if (octo_rview_init(&w.view, MODELS) != 0)
        abort();
    octo_alloc_stats(&after);
    per += (double)(after.bytes_live - before.bytes_live) / (double)n;
    warm_view(b, &w, n, per);
    octo_route_policy_init(&w.policy);
    w.policy.privacy = OCTO_DATA_SHARED;
    w.policy.max_price_in = 90000;
    w.policy.min_reputation_bp = 2000;
    size_t decisions = b->quick ? 2000 : DECISIONS_MAX;
    uint64_t *lat[PATHS];
    size_t seen[PATHS];
    for (int p = 0; p < PATHS; p++) {
        lat[p] = octo_malloc(decisions * sizeof(*lat[p]));
        seen[p] = measure(&w, (enum path)p, &r, decisions, lat[p]);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < decisions; i++)
        total += lat[STREAM_COST][i];
    snprintf(params, sizeof(params), "\"providers\":%zu,\"candidates_avg\":%zu,\"offered_avg\":%zu",
             n, seen[REFERENCE] / decisions, seen[STREAM_COST] / decisions);
    report_latency(b, "decision_latency", lat[STREAM_COST], decisions, params);
    octo_bench_report(b, "decisions_per_second", 1e9 * (double)decisions / (double)total, "1/s",
                      params);
    snprintf(params, sizeof(params), "\"providers\":%zu,\"candidates_avg\":%zu", n,
             seen[FULL_SCAN] / decisions);
    report_latency(b, "decision_latency_full_scan", lat[FULL_SCAN], decisions, params);
    report_latency(b, "decision_latency_reference_query", lat[REFERENCE], decisions, params);
    snprintf(params, sizeof(params), "\"providers\":%zu,\"offered_avg\":%zu", n,
             seen[STREAM_SPEED] / decisions);
    report_latency(b, "decision_latency_speed", lat[STREAM_SPEED], decisions, params);
    snprintf(params, sizeof(params), "\"providers\":%zu,\"offered_avg\":%zu", n,
             seen[STREAM_QUALITY] / decisions);
    report_latency(b, "decision_latency_quality", lat[STREAM_QUALITY], decisions, params);
    for (int p = 0; p < PATHS; p++)
        octo_free(lat[p]);
    octo_free(w.cands);
    octo_free(w.scratch);
    octo_free(w.ids);
    octo_free(w.ranked);
    octo_free(w.reputation);
    octo_free(w.latency);
    octo_rview_deinit(&w.view);
    octo_registry_deinit(&w.reg);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "router", argc, argv);
    run_size(&b, 1000);
    run_size(&b, 10000);
    run_size(&b, 100000);
    return 0;
}
