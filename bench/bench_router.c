/*
 * bench_router.c — the Task Router's decision cost with 1k, 10k and 100k registered
 * providers, next to the bare registry query it builds on (the reference: the same candidate
 * walk without filtering, ranking or balancing), plus decisions per second and memory per
 * registered provider.
 *
 * Population (seeded, same every run): OCTO_BENCH_MODELS model names, 2 models per provider,
 * random prices, isolation, regions and observed latencies. A decision = query the registry
 * for one model, build the router's candidate views, octo_route_select with the cost strategy
 * under a policy that filters by data class, price and reputation. The number of candidates a
 * decision sees (providers serving the model) is printed with each figure.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/rng.h"
#include "bench.h"
#include "intel/advert.h"
#include "intel/registry.h"
#include "intel/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODELS 500
#define DECISIONS_MAX 20000

static const char *const countries[] = {"DE", "FR", "US", "CA", "JP", "BR", "ZA", "AU"};
static const char *const continents[] = {"EU", "EU", "NA", "NA", "AS", "SA", "AF", "OC"};

struct world {
    struct octo_registry reg;
    struct octo_route_candidate *cands;
    struct octo_peerid *ids;
    uint32_t *scratch;
    uint16_t *reputation;
    uint32_t *latency;
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
    struct octo_route_policy p;
    octo_route_policy_init(&p);
    p.privacy = OCTO_DATA_SHARED;
    p.max_price_in = 90000;
    p.min_reputation_bp = 2000;
    struct octo_route_result res;
    int rc2 = octo_route_select(&p, OCTO_ROUTE_COST, w->cands, n, r, w->scratch, &res);
    if (rc2 != 0 && rc2 != OCTO_ENOTFOUND)
        abort();
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
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
                      sizeof(*w.reputation) + sizeof(*w.latency));
    double per = (double)(after.bytes_live - before.bytes_live - aux) / (double)n;
    char params[96];
    snprintf(params, sizeof(params), "\"providers\":%zu,\"models\":%d", n, MODELS);
    octo_bench_report(b, "registry_bytes_per_provider", per, "B", params);
    size_t decisions = b->quick ? 2000 : DECISIONS_MAX;
    uint64_t *lat = octo_malloc(decisions * sizeof(*lat));
    uint64_t *ref = octo_malloc(decisions * sizeof(*ref));
    size_t seen = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t *out = pass == 0 ? ref : lat;
        for (size_t i = 0; i < decisions; i++) {
            char model[32];
            snprintf(model, sizeof(model), "model-%llu",
                     (unsigned long long)octo_rng_below(&r, MODELS));
            uint64_t t0 = octo_bench_now_ns();
            size_t c = decide(&w, model, &r, pass == 1);
            out[i] = octo_bench_now_ns() - t0;
            if (pass == 1)
                seen += c;
        }
        qsort(out, decisions, sizeof(*out), cmp_u64);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < decisions; i++)
        total += lat[i];
    snprintf(params, sizeof(params), "\"providers\":%zu,\"candidates_avg\":%zu", n,
             seen / decisions);
    octo_bench_report(b, "decision_latency_p50", (double)lat[decisions / 2] / 1000, "us", params);
    octo_bench_report(b, "decision_latency_p99", (double)lat[decisions * 99 / 100] / 1000, "us",
                      params);
    octo_bench_report(b, "decision_latency_p50_reference_query", (double)ref[decisions / 2] / 1000,
                      "us", params);
    octo_bench_report(b, "decision_latency_p99_reference_query",
                      (double)ref[decisions * 99 / 100] / 1000, "us", params);
    octo_bench_report(b, "decisions_per_second", 1e9 * (double)decisions / (double)total, "1/s",
                      params);
    octo_free(lat);
    octo_free(ref);
    octo_free(w.cands);
    octo_free(w.scratch);
    octo_free(w.ids);
    octo_free(w.reputation);
    octo_free(w.latency);
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
