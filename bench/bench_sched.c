/*
 * bench_sched.c — the whole Task Router service (octo_sched: queue, registry, health, router,
 * load balancer, failover) under load: 100,000 registered providers and 10,000 tasks in
 * flight; for the cost, speed and quality strategies in turn a task is submitted and polled
 * until it is dispatched, and one in-flight task is answered (result, DONE) so the in-flight
 * count stays at 10,000.
 *
 * Virtual time advances 1 ms per task, so a task is answered 10 s after dispatch; deadlines are
 * 30 s, which bounds the finished-task tombstones (records_max = 4 x tasks_max) the way a
 * production node must size them: submissions per second x deadline.
 *
 * Reference measured in the same run: the bare task queue (octo_queue enqueue -> dequeue with
 * 10,000 in flight), i.e. what ordering alone costs; the difference is routing (registry walk
 * in price order, filters, ranking, power of two choices) and the bookkeeping that makes a
 * task complete exactly once.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "base/rng.h"
#include "bench.h"
#include "intel/queue.h"
#include "intel/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROVIDERS 100000u
#define MODELS 500
#define IN_FLIGHT 10000u

static const char *const countries[] = {"DE", "FR", "US", "CA", "JP", "BR", "ZA", "AU"};
static const char *const continents[] = {"EU", "EU", "NA", "NA", "AS", "SA", "AF", "OC"};

static void populate(struct octo_sched *s, struct octo_rng *r, octo_tick now)
{
    struct octo_advert *a = octo_malloc(sizeof(*a));
    for (uint32_t i = 0; i < PROVIDERS; i++) {
        octo_advert_init(a);
        a->provider.len = 38;
        const uint8_t prefix[] = {0x00, 0x24, 0x08, 0x01, 0x12, 0x20};
        memcpy(a->provider.bytes, prefix, sizeof(prefix));
        octo_rng_fill(r, a->provider.bytes + 6, 32);
        a->seq = 1;
        a->price_in_per_mtok = 1000 + octo_rng_below(r, 100000);
        a->price_out_per_mtok = 2000 + octo_rng_below(r, 200000);
        a->expiry_ms = UINT64_C(1800000000000) + 86400000;
        a->max_concurrency = 64;
        a->hw_tier = 2;
        a->isolation = (uint8_t)(1 + octo_rng_below(r, 3));
        size_t reg = octo_rng_below(r, 8);
        memcpy(a->country, countries[reg], 3);
        memcpy(a->continent, continents[reg], 3);
        if (a->isolation == OCTO_ISOLATION_TEE) {
            a->attestation_len = 8;
            memset(a->attestation, 0x5a, 8);
        }
        a->models_count = 2;
        for (size_t m = 0; m < 2; m++) {
            snprintf(a->models[m].name, sizeof(a->models[m].name), "model-%llu",
                     (unsigned long long)(octo_rng_below(r, MODELS / 2) * 2 + m));
            snprintf(a->models[m].quant, sizeof(a->models[m].quant), "q4_k_m");
            memset(a->models[m].weights_hash, (int)m + 1, sizeof(a->models[m].weights_hash));
            a->models[m].context_len = 8192;
        }
        a->endpoints_count = 1;
        const uint8_t ep[] = {0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1};
        memcpy(a->endpoints[0].bytes, ep, sizeof(ep));
        a->endpoints[0].len = sizeof(ep);
        enum octo_advert_reason why;
        if (octo_sched_advert(s, a, UINT64_C(1800000000000), now, NULL, &why) < 0)
            abort();
    }
    octo_free(a);
}

struct running {
    uint8_t id[OCTO_SCHED_ID_LEN];
    uint32_t attempt;
    uint32_t provider;
    uint64_t dispatch;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void id_of(uint64_t n, uint8_t *id)
{
    memset(id, 0, OCTO_SCHED_ID_LEN);
    memcpy(id, &n, sizeof(n));
}

/* Submits task n and polls until its DISPATCH; false if it did not dispatch. */
static bool submit_dispatch(struct octo_sched *s, struct octo_rng *r,
                            const struct octo_route_policy *p, enum octo_route_strategy strategy,
                            uint64_t n, octo_tick now, struct running *out)
{
    char model[32];
    snprintf(model, sizeof(model), "model-%llu", (unsigned long long)octo_rng_below(r, MODELS));
    struct octo_sched_request req = {.model = model,
                                     .policy = p,
                                     .strategy = strategy,
                                     .priority = (uint8_t)octo_rng_below(r, 8),
                                     .deadline = now + 30 * OCTO_NS_PER_S};
    id_of(n, req.id);
    if (octo_sched_submit(s, &req, now, NULL) != 0)
        abort();
    struct octo_sched_action a;
    while (octo_sched_poll(s, now, &a) == 1) {
        if (a.kind == OCTO_SCHED_DISPATCH) {
            memcpy(out->id, a.task, OCTO_SCHED_ID_LEN);
            out->attempt = a.attempt;
            out->provider = a.provider;
            out->dispatch = a.dispatch;
            return true;
        }
        if (a.kind == OCTO_SCHED_PROBE)
            octo_sched_probe_result(s, a.provider, a.incarnation, true, 1000, now);
    }
    return false;
}

static void finish_one(struct octo_sched *s, struct running *run, octo_tick now)
{
    struct octo_sched_report rep = {.attempt = run->attempt,
                                    .dispatch = run->dispatch,
                                    .outcome = OCTO_HEALTH_SUCCESS,
                                    /* each provider its own speed, so speed ranks */
                                    .latency_us =
                                        50000 + (run->provider * UINT64_C(7919)) % 2000000,
                                    .tokens_in = 500,
                                    .tokens_out = 200};
    memcpy(rep.task, run->id, OCTO_SCHED_ID_LEN);
    if (octo_sched_result(s, &rep, now) != 0)
        abort();
    struct octo_sched_action a;
    while (octo_sched_poll(s, now, &a) == 1) {
        if (a.kind == OCTO_SCHED_PROBE)
            octo_sched_probe_result(s, a.provider, a.incarnation, true, 1000, now);
    }
}

static void report_pcts(const struct octo_bench *b, const char *metric, uint64_t *lat, size_t n,
                        const char *params)
{
    qsort(lat, n, sizeof(*lat), cmp_u64);
    char name[96];
    snprintf(name, sizeof(name), "%s_p50", metric);
    octo_bench_report(b, name, (double)lat[n / 2] / 1000, "us", params);
    snprintf(name, sizeof(name), "%s_p99", metric);
    octo_bench_report(b, name, (double)lat[n * 99 / 100] / 1000, "us", params);
}

/* The reference: the bare queue with IN_FLIGHT tasks in flight. */
static void queue_reference(const struct octo_bench *b, size_t rounds, const char *params)
{
    struct octo_queue q;
    struct octo_queue_config qc = {.queued_max = IN_FLIGHT * 2, .in_flight_max = IN_FLIGHT * 2};
    if (octo_queue_init(&q, &qc) != 0)
        abort();
    struct octo_rng r;
    octo_rng_init(&r, 3);
    struct octo_queue_task t, out;
    memset(&t, 0, sizeof(t));
    t.deadline = OCTO_QUEUE_NEVER;
    for (uint64_t n = 0; n < IN_FLIGHT; n++) {
        id_of(n, t.id);
        if (octo_queue_enqueue(&q, &t, 0) != 0 || octo_queue_dequeue(&q, 0, &out) != 0)
            abort();
    }
    uint64_t *lat = octo_malloc(rounds * sizeof(*lat));
    for (size_t i = 0; i < rounds; i++) {
        id_of(IN_FLIGHT + i, t.id);
        t.priority = (uint8_t)octo_rng_below(&r, 8);
        uint64_t t0 = octo_bench_now_ns();
        if (octo_queue_enqueue(&q, &t, 0) != 0 || octo_queue_dequeue(&q, 0, &out) != 0)
            abort();
        lat[i] = octo_bench_now_ns() - t0;
        uint8_t old[OCTO_QUEUE_ID_LEN];
        id_of(i, old);
        if (octo_queue_done(&q, old, &out) != 0)
            abort();
    }
    report_pcts(b, "reference_queue_enqueue_to_dispatch", lat, rounds, params);
    octo_free(lat);
    octo_queue_deinit(&q);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "sched", argc, argv);
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    struct octo_sched *s = octo_malloc(sizeof(*s));
    struct octo_sched_config cfg = {
        .providers_max = PROVIDERS, .models_max = 1024, .tasks_max = 2 * IN_FLIGHT, .seed = 9};
    octo_tick now = OCTO_NS_PER_S;
    if (octo_sched_init(s, &cfg, now) != 0)
        abort();
    struct octo_rng r;
    octo_rng_init(&r, 42);
    populate(s, &r, now);
    struct octo_route_policy p;
    octo_route_policy_init(&p);
    p.privacy = OCTO_DATA_SHARED;
    p.max_price_in = 90000;
    struct running *run = octo_calloc(IN_FLIGHT, sizeof(*run));
    for (uint64_t n = 0; n < IN_FLIGHT; n++) {
        if (!submit_dispatch(s, &r, &p, OCTO_ROUTE_COST, n, now, &run[n]))
            abort();
    }
    octo_alloc_stats(&after);
    char params[160];
    snprintf(params, sizeof(params), "\"providers\":%u,\"in_flight\":%u,\"models\":%d", PROVIDERS,
             IN_FLIGHT, MODELS);
    octo_bench_report(&b, "service_bytes_per_provider",
                      (double)(after.bytes_live - before.bytes_live) / PROVIDERS, "B", params);
    size_t rounds = b.quick ? 20000 : 100000;
    uint64_t *lat = octo_malloc(rounds * sizeof(*lat));
    uint64_t *cycle = octo_malloc(rounds * sizeof(*cycle));
    static const enum octo_route_strategy strategies[] = {OCTO_ROUTE_COST, OCTO_ROUTE_SPEED,
                                                          OCTO_ROUTE_QUALITY};
    uint64_t next_id = IN_FLIGHT;
    for (size_t k = 0; k < OCTO_ARRAY_LEN(strategies); k++) {
        snprintf(params, sizeof(params),
                 "\"providers\":%u,\"in_flight\":%u,\"models\":%d,\"strategy\":\"%s\"", PROVIDERS,
                 IN_FLIGHT, MODELS, octo_route_strategy_name(strategies[k]));
        uint64_t total0 = octo_bench_now_ns();
        for (size_t i = 0; i < rounds; i++) {
            now += OCTO_NS_PER_S / 1000;
            size_t slot = i % IN_FLIGHT;
            uint64_t t0 = octo_bench_now_ns();
            struct running fresh;
            if (!submit_dispatch(s, &r, &p, strategies[k], next_id++, now, &fresh))
                abort();
            uint64_t t1 = octo_bench_now_ns();
            finish_one(s, &run[slot], now);
            run[slot] = fresh;
            cycle[i] = octo_bench_now_ns() - t0;
            lat[i] = t1 - t0;
        }
        double secs = (double)(octo_bench_now_ns() - total0) / 1e9;
        report_pcts(&b, "submit_to_dispatch", lat, rounds, params);
        report_pcts(&b, "task_cycle", cycle, rounds, params);
        octo_bench_report(&b, "tasks_per_second", (double)rounds / secs, "1/s", params);
    }
    snprintf(params, sizeof(params), "\"in_flight\":%u", IN_FLIGHT);
    queue_reference(&b, rounds, params);
    octo_free(lat);
    octo_free(cycle);
    octo_free(run);
    octo_sched_deinit(s);
    octo_free(s);
    return 0;
}
