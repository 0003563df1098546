/*
 * test_sched.c — the task scheduler: each path of a task's life in virtual time (dispatch by
 * strategy, success and charge, provider failure and retry, late answers, attempt timeout,
 * cooldown wait, parking on full providers, no candidate with the reason, deadline expiry,
 * cancellation in every state, idempotent resubmission, backpressure, probes), then the
 * simulation the issue asks for: 1,000 providers, 1 % of them failing at random (errors,
 * hangs, dying mid-task) plus 1 % of all requests failing, duplicate and late answers, thousands of
 * tasks, invariants checked after every step; fewer than 1 % of tasks may fail, none may be lost,
 * none charged twice.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/rng.h"
#include "intel/sched.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS UINT64_C(1800000000000)
#define S(x) ((octo_tick)(x)*OCTO_NS_PER_S)
#define MS(x) ((octo_tick)(x)*OCTO_NS_PER_MS)
#define T0 S(1000)

static void peer_of(uint32_t i, struct octo_peerid *out)
{
    struct octo_pubkey pub;
    memset(&pub, 0, sizeof(pub));
    for (int k = 0; k < 4; k++)
        pub.bytes[k] = (uint8_t)(i >> (8 * k));
    pub.bytes[31] = 0x42;
    octo_peerid_from_pubkey(&pub, out);
}

struct prov {
    uint64_t price;
    uint8_t isolation;
    uint32_t capacity;
    const char *model;
    const char *model2;
};

static void advert_of(uint32_t i, const struct prov *p, struct octo_advert *a)
{
    octo_advert_init(a);
    peer_of(i, &a->provider);
    a->seq = 1;
    a->price_in_per_mtok = p->price;
    a->price_out_per_mtok = 2 * p->price;
    a->expiry_ms = NOW_MS + 3600000;
    a->max_concurrency = p->capacity;
    a->hw_tier = 2;
    a->isolation = p->isolation;
    memcpy(a->country, "DE", 3);
    memcpy(a->continent, "EU", 3);
    if (p->isolation == OCTO_ISOLATION_TEE) {
        a->attestation_len = 4;
        memset(a->attestation, 0x11, 4);
    }
    a->models_count = p->model2 != NULL ? 2 : 1;
    for (size_t m = 0; m < a->models_count; m++) {
        snprintf(a->models[m].name, sizeof(a->models[m].name), "%s", m ? p->model2 : p->model);
        snprintf(a->models[m].quant, sizeof(a->models[m].quant), m ? "q8_0" : "q4_k_m");
        memset(a->models[m].weights_hash, 7, sizeof(a->models[m].weights_hash));
        a->models[m].context_len = 8192;
    }
    a->endpoints_count = 1;
    const uint8_t ep[] = {0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1};
    memcpy(a->endpoints[0].bytes, ep, sizeof(ep));
    a->endpoints[0].len = sizeof(ep);
}

static void add_provider(struct octo_sched *s, uint32_t i, const struct prov *p, octo_tick now)
{
    struct octo_advert *a = octo_malloc(sizeof(*a));
    CHECK(a != NULL);
    advert_of(i, p, a);
    uint32_t index = 0;
    enum octo_advert_reason why;
    CHECK_EQ_INT(octo_sched_advert(s, a, NOW_MS, now, &index, &why), OCTO_REGISTRY_INSERTED);
    CHECK_EQ_INT(index, i); /* slots fill in order in these tests */
    octo_free(a);
}

/* Answers the first probe of every provider (due at registration) so that timelines are exact. */
static void drain_probes(struct octo_sched *s, octo_tick now)
{
    struct octo_sched_action a;
    while (octo_sched_poll(s, now, &a) == 1) {
        CHECK_EQ_INT(a.kind, OCTO_SCHED_PROBE);
        octo_sched_probe_result(s, a.provider, a.incarnation, true, 1000, now);
    }
}

/* Registers provider `peer` (advert seq, expiring at expiry_ms) at wall time now_ms; returns
 * the registry's answer and its index. */
static int add_provider_at(struct octo_sched *s, uint32_t peer, const struct prov *p, uint64_t seq,
                           uint64_t expiry_ms, uint64_t now_ms, octo_tick now, uint32_t *index)
{
    struct octo_advert *a = octo_malloc(sizeof(*a));
    OCTO_ASSERT(a != NULL);
    advert_of(peer, p, a);
    a->seq = seq;
    a->expiry_ms = expiry_ms;
    enum octo_advert_reason why;
    int rc = octo_sched_advert(s, a, now_ms, now, index, &why);
    octo_free(a);
    return rc;
}

static void sched_new(struct octo_sched *s, uint32_t providers, uint32_t tasks, octo_tick now)
{
    struct octo_sched_config c = {.providers_max = providers,
                                  .models_max = 64,
                                  .tasks_max = tasks,
                                  .attempt_timeout = S(10),
                                  .probe_interval_ms = 3600000,
                                  .seed = 7};
    memset(c.hash_key, 0x33, sizeof(c.hash_key));
    CHECK_OK(octo_sched_init(s, &c, now));
}

static void task_id(uint32_t n, uint8_t id[OCTO_SCHED_ID_LEN])
{
    memset(id, 0, OCTO_SCHED_ID_LEN);
    memcpy(id, &n, sizeof(n));
    id[15] = 0xa5;
}

static struct octo_route_policy default_policy;

static int submit(struct octo_sched *s, uint32_t n, const char *model, octo_tick now,
                  octo_tick deadline)
{
    struct octo_sched_request r = {.model = model,
                                   .policy = &default_policy,
                                   .strategy = OCTO_ROUTE_COST,
                                   .deadline = deadline};
    task_id(n, r.id);
    return octo_sched_submit(s, &r, now, NULL);
}

/* Polls one action (skipping probes) and checks the invariants. */
static int poll1(struct octo_sched *s, octo_tick now, struct octo_sched_action *a)
{
    int rc;
    do {
        rc = octo_sched_poll(s, now, a);
        if (!octo_sched_invariants_ok(s))
            octo_test_fail_at(__FILE__, __LINE__, "invariants broken after poll");
    } while (rc == 1 && a->kind == OCTO_SCHED_PROBE);
    return rc;
}

static void report(struct octo_sched *s, const struct octo_sched_action *a,
                   enum octo_health_outcome o, octo_tick now, int want)
{
    struct octo_sched_report r = {.attempt = a->attempt,
                                  .dispatch = a->dispatch,
                                  .outcome = o,
                                  .latency_us = 200000,
                                  .tokens_in = 1000,
                                  .tokens_out = 500};
    memcpy(r.task, a->task, OCTO_SCHED_ID_LEN);
    CHECK_EQ_INT(octo_sched_result(s, &r, now), want);
    CHECK(octo_sched_invariants_ok(s));
}

static void test_dispatch_success_charge_once(void)
{
    struct octo_sched s;
    sched_new(&s, 8, 16, T0);
    add_provider(&s, 0, &(struct prov){3000000, OCTO_ISOLATION_CONTAINER, 4, "m", NULL}, T0);
    add_provider(&s, 1, &(struct prov){1000000, OCTO_ISOLATION_CONTAINER, 4, "m", NULL}, T0);
    add_provider(&s, 2, &(struct prov){500000, OCTO_ISOLATION_CONTAINER, 4, "other", NULL}, T0);
    CHECK_OK(submit(&s, 1, "m", T0, T0 + S(30)));
    struct octo_sched_action a;
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(a.attempt, 1);
    CHECK_EQ_INT(a.provider, 1); /* cheapest serving "m" (the 3x dearer one is outside 2x) */
    CHECK_EQ_INT(octo_sched_in_flight(&s, 1), 1);
    struct octo_sched_action none;
    CHECK_EQ_INT(poll1(&s, T0, &none), 0);
    report(&s, &a, OCTO_HEALTH_SUCCESS, T0 + MS(300), 0);
    report(&s, &a, OCTO_HEALTH_SUCCESS, T0 + MS(301), 1); /* duplicate answer: ignored */
    CHECK_EQ_INT(poll1(&s, T0 + MS(300), &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(a.state, OCTO_FAILOVER_SUCCEEDED);
    CHECK(a.charge);
    /* 1000 tokens at 1 OCTO-unit-million per M in + 500 at 2,000,000 per M out */
    CHECK_EQ_U64(a.amount, UINT64_C(1000) + UINT64_C(1000));
    CHECK_EQ_INT(octo_sched_in_flight(&s, 1), 0);
    CHECK_EQ_INT(poll1(&s, T0 + MS(300), &a), 0);
    /* the same id again within its deadline: not run again */
    struct octo_failover_view v;
    struct octo_sched_request r = {.model = "m", .policy = &default_policy, .deadline = T0 + S(30)};
    task_id(1, r.id);
    CHECK_ERR(octo_sched_submit(&s, &r, T0 + S(1), &v), OCTO_EEXIST);
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_SUCCEEDED);
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &a), 0);
    struct octo_sched_stats st;
    octo_sched_stats(&s, &st);
    CHECK_EQ_U64(st.succeeded, 1);
    CHECK_EQ_U64(st.charged_amount, 2000);
    CHECK_EQ_U64(st.duplicates, 1);
    CHECK_EQ_U64(st.late_results, 1);
    octo_sched_deinit(&s);
}

static void test_failover_and_late_answer(void)
{
    struct octo_sched s;
    sched_new(&s, 8, 16, T0);
    for (uint32_t i = 0; i < 3; i++)
        add_provider(
            &s, i, &(struct prov){1000000 + 100000 * i, OCTO_ISOLATION_PROCESS, 2, "m", NULL}, T0);
    CHECK_OK(submit(&s, 9, "m", T0, T0 + S(60)));
    struct octo_sched_action first, second, done;
    CHECK_EQ_INT(poll1(&s, T0, &first), 1);
    CHECK_EQ_INT(first.kind, OCTO_SCHED_DISPATCH);
    report(&s, &first, OCTO_HEALTH_PROVIDER_ERROR, T0 + S(1), 0);
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &second), 1);
    CHECK_EQ_INT(second.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(second.attempt, 2);
    CHECK(second.provider != first.provider);
    /* the first provider answers after all: too late, ignored, nothing charged */
    report(&s, &first, OCTO_HEALTH_SUCCESS, T0 + S(2), 1);
    report(&s, &second, OCTO_HEALTH_SUCCESS, T0 + S(3), 0);
    CHECK_EQ_INT(poll1(&s, T0 + S(3), &done), 1);
    CHECK_EQ_INT(done.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(done.state, OCTO_FAILOVER_SUCCEEDED);
    CHECK_EQ_INT(done.attempt, 2);
    CHECK_EQ_INT(done.provider, second.provider);
    CHECK(done.charge);
    /* the provider error was recorded against the first provider only */
    CHECK_EQ_INT(octo_health_consecutive_failures(octo_sched_health(&s, first.provider)), 1);
    CHECK_EQ_INT(octo_health_consecutive_failures(octo_sched_health(&s, second.provider)), 0);
    octo_sched_deinit(&s);
}

static void test_attempt_timeout_then_attempts_exhausted(void)
{
    struct octo_sched s;
    sched_new(&s, 8, 16, T0);
    for (uint32_t i = 0; i < 4; i++)
        add_provider(&s, i, &(struct prov){1000000, OCTO_ISOLATION_PROCESS, 2, "m", NULL}, T0);
    drain_probes(&s, T0);
    CHECK_OK(submit(&s, 3, "m", T0, T0 + S(300)));
    struct octo_sched_action a;
    octo_tick now = T0;
    for (uint32_t k = 1; k <= OCTO_FAILOVER_ATTEMPTS_DEFAULT; k++) {
        CHECK_EQ_INT(poll1(&s, now, &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
        CHECK_EQ_INT(a.attempt, k);
        CHECK_EQ_U64(octo_sched_next_wakeup(&s), now + S(10));
        CHECK_EQ_INT(poll1(&s, now + S(10) - 1, &a), 0); /* not yet */
        now += S(10);                                    /* no answer: the attempt times out */
    }
    CHECK_EQ_INT(poll1(&s, now, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(a.state, OCTO_FAILOVER_FAILED);
    CHECK_EQ_INT(a.reason, OCTO_FAILOVER_REASON_ATTEMPTS);
    CHECK(!a.charge);
    octo_sched_deinit(&s);
}

/* Speed and quality read the providers' observed latency and uptime (their rank-key heap
 * offers the best first): the fastest and the most reliable provider win. */
static void test_speed_and_quality_strategies(void)
{
    struct octo_sched s;
    sched_new(&s, 8, 16, T0);
    for (uint32_t i = 0; i < 4; i++) /* provider 0 is the cheapest */
        add_provider(&s, i, &(struct prov){1000 + 2000 * i, OCTO_ISOLATION_PROCESS, 8, "m", NULL},
                     T0);
    struct octo_sched_action a;
    /* probes: provider 3 fails one, the others pass; each answers with its own latency */
    while (octo_sched_poll(&s, T0, &a) == 1) {
        CHECK_EQ_INT(a.kind, OCTO_SCHED_PROBE);
        octo_sched_probe_result(&s, a.provider, a.incarnation, a.provider != 3, 1000, T0);
    }
    static const uint64_t latency_us[] = {900000, 300000, 100000, 50000};
    for (uint32_t i = 0; i < 4; i++) {
        struct octo_route_policy only;
        octo_route_policy_init(&only);
        only.only_count = 1;
        peer_of(i, &only.only[0]);
        struct octo_sched_request r = {.model = "m", .policy = &only, .deadline = T0 + S(10)};
        task_id(50 + i, r.id);
        CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
        CHECK_EQ_INT(poll1(&s, T0, &a), 1);
        CHECK_EQ_INT(a.provider, i);
        struct octo_sched_report rep = {.attempt = a.attempt,
                                        .dispatch = a.dispatch,
                                        .outcome = OCTO_HEALTH_SUCCESS,
                                        .latency_us = latency_us[i]};
        memcpy(rep.task, a.task, OCTO_SCHED_ID_LEN);
        CHECK_OK(octo_sched_result(&s, &rep, T0));
        CHECK_EQ_INT(poll1(&s, T0, &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    }
    struct octo_sched_request r = {.model = "m",
                                   .policy = &default_policy,
                                   .strategy = OCTO_ROUTE_SPEED,
                                   .deadline = T0 + S(10)};
    task_id(60, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.provider, 3); /* lowest latency */
    r.strategy = OCTO_ROUTE_QUALITY;
    task_id(61, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK(a.provider != 3); /* the one whose probe failed has the lowest uptime */
    r.strategy = OCTO_ROUTE_COST;
    task_id(62, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.provider, 0); /* cheapest: the others are at least twice its price */
    octo_sched_deinit(&s);
}

static void test_cooldown_wait(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    add_provider(&s, 0, &(struct prov){1000000, OCTO_ISOLATION_PROCESS, 8, "m", NULL}, T0);
    struct octo_sched_action a;
    octo_tick now = T0;
    drain_probes(&s, T0);
    /* three provider failures in a row: cooldown */
    for (uint32_t n = 0; n < 3; n++) {
        CHECK_OK(submit(&s, 100 + n, "m", now, now + S(100)));
        CHECK_EQ_INT(poll1(&s, now, &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
        report(&s, &a, OCTO_HEALTH_PROVIDER_ERROR, now, 0);
        CHECK_EQ_INT(poll1(&s, now, &a), 1); /* its only candidate was tried: it fails */
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
        CHECK_EQ_INT(a.reason, OCTO_FAILOVER_REASON_NO_CANDIDATE);
        now += MS(10);
    }
    const struct octo_health *h = octo_sched_health(&s, 0);
    CHECK(!octo_health_available(h, now));
    octo_tick until = octo_health_cooldown_until(h);
    /* a cooldown that outlasts the deadline: the task expires at once, with the reason */
    CHECK_OK(submit(&s, 199, "m", now, until - 1));
    CHECK_EQ_INT(poll1(&s, now, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(a.state, OCTO_FAILOVER_EXPIRED);
    CHECK_EQ_INT(a.reason, OCTO_FAILOVER_REASON_DEADLINE);
    CHECK_OK(submit(&s, 200, "m", now, now + S(100)));
    CHECK_EQ_INT(poll1(&s, now, &a), 0); /* waits for the cooldown */
    /* (the finished tasks' records are swept once a second: earlier wake-ups do nothing) */
    CHECK(octo_sched_next_wakeup(&s) <= until);
    CHECK_EQ_INT(poll1(&s, until - 1, &a), 0);
    CHECK_EQ_U64(octo_sched_next_wakeup(&s), until);
    CHECK_EQ_INT(poll1(&s, until, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    report(&s, &a, OCTO_HEALTH_SUCCESS, until + S(1), 0);
    CHECK_EQ_INT(poll1(&s, until + S(1), &a), 1);
    CHECK_EQ_INT(a.state, OCTO_FAILOVER_SUCCEEDED);
    octo_sched_deinit(&s);
}

static void test_parked_until_capacity(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    add_provider(&s, 0, &(struct prov){1000000, OCTO_ISOLATION_PROCESS, 1, "m", NULL}, T0);
    CHECK_OK(submit(&s, 1, "m", T0, T0 + S(100)));
    struct octo_sched_action a, b;
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_OK(submit(&s, 2, "m", T0, T0 + S(5)));
    CHECK_OK(submit(&s, 3, "m", T0, T0 + S(100)));
    CHECK_EQ_INT(poll1(&s, T0, &b), 0); /* the others park: the provider is full */
    CHECK_EQ_U64(octo_sched_next_wakeup(&s), T0 + S(5));
    CHECK_EQ_INT(poll1(&s, T0 + S(5), &b), 1); /* task 2's deadline while parked */
    CHECK_EQ_INT(b.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(b.state, OCTO_FAILOVER_EXPIRED);
    report(&s, &a, OCTO_HEALTH_SUCCESS, T0 + S(6), 0);
    CHECK_EQ_INT(poll1(&s, T0 + S(6), &b), 1);
    CHECK_EQ_INT(b.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(poll1(&s, T0 + S(6), &b), 1); /* task 3 takes the freed slot */
    CHECK_EQ_INT(b.kind, OCTO_SCHED_DISPATCH);
    uint8_t id3[OCTO_SCHED_ID_LEN];
    task_id(3, id3);
    CHECK_MEM(b.task, id3, OCTO_SCHED_ID_LEN);
    octo_sched_deinit(&s);
}

static void test_no_candidate_explained_fail_closed(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_CONTAINER, 4, "m", NULL}, T0);
    add_provider(&s, 1, &(struct prov){2000, OCTO_ISOLATION_PROCESS, 4, "m", NULL}, T0);
    struct octo_route_policy p;
    octo_route_policy_init(&p);
    p.privacy = OCTO_DATA_PRIVATE;
    struct octo_sched_request r = {
        .model = "m", .policy = &p, .strategy = OCTO_ROUTE_COST, .deadline = T0 + S(10)};
    task_id(5, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    struct octo_sched_action a;
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE); /* never dispatched to a non-TEE provider */
    CHECK_EQ_INT(a.state, OCTO_FAILOVER_FAILED);
    CHECK_EQ_INT(a.reason, OCTO_FAILOVER_REASON_NO_CANDIDATE);
    CHECK_EQ_INT(a.explain.considered, 2);
    CHECK_EQ_INT(a.explain.removed_data_class, 2);
    /* the owner's own node may take PRIVATE data */
    struct octo_peerid owner;
    peer_of(1, &owner);
    r.owner = &owner;
    task_id(6, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(a.provider, 1);
    /* unknown model */
    CHECK_OK(submit(&s, 7, "nope", T0, T0 + S(10)));
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.reason, OCTO_FAILOVER_REASON_NO_CANDIDATE);
    CHECK_EQ_INT(a.explain.considered, 0);
    octo_sched_deinit(&s);
}

static void test_queue_priority_deadline_backpressure(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 3, T0);
    struct octo_sched_action a;
    /* no providers yet: tasks wait in the queue only until routed; with none they fail, so
     * register a full-capacity provider after queueing */
    struct octo_sched_request r = {
        .model = "m", .policy = &default_policy, .deadline = T0 + S(10), .priority = 1};
    task_id(1, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    r.priority = 5;
    task_id(2, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    r.priority = 0;
    r.deadline = T0 + S(1);
    task_id(3, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    task_id(4, r.id);
    CHECK_ERR(octo_sched_submit(&s, &r, T0, NULL), OCTO_EBUSY); /* backpressure */
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 8, "m", NULL}, T0);
    /* at T0+2 s task 3 is past its deadline: it expires without running */
    octo_tick now = T0 + S(2);
    CHECK_EQ_INT(poll1(&s, now, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(a.task[0], 3);
    CHECK_EQ_INT(a.state, OCTO_FAILOVER_EXPIRED);
    CHECK_EQ_INT(poll1(&s, now, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(a.task[0], 2); /* higher priority first */
    CHECK_EQ_INT(poll1(&s, now, &a), 1);
    CHECK_EQ_INT(a.task[0], 1);
    /* invalid requests */
    r.deadline = now;
    task_id(10, r.id);
    CHECK_ERR(octo_sched_submit(&s, &r, now, NULL), OCTO_EINVAL);
    r.deadline = now + S(1);
    r.priority = OCTO_QUEUE_PRIORITY_MAX + 1;
    CHECK_ERR(octo_sched_submit(&s, &r, now, NULL), OCTO_EINVAL);
    r.priority = 0;
    r.strategy = OCTO_ROUTE_GEO; /* without a region */
    CHECK_ERR(octo_sched_submit(&s, &r, now, NULL), OCTO_EINVAL);
    r.strategy = OCTO_ROUTE_COST;
    r.model = "";
    CHECK_ERR(octo_sched_submit(&s, &r, now, NULL), OCTO_EINVAL);
    octo_sched_deinit(&s);
}

static void test_cancel_every_state(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 1, "m", NULL}, T0);
    struct octo_sched_action a, run;
    uint8_t id[OCTO_SCHED_ID_LEN];
    CHECK_OK(submit(&s, 1, "m", T0, T0 + S(100))); /* will run */
    CHECK_OK(submit(&s, 2, "m", T0, T0 + S(100))); /* will park */
    CHECK_EQ_INT(poll1(&s, T0, &run), 1);
    CHECK_EQ_INT(poll1(&s, T0, &a), 0);
    CHECK_OK(submit(&s, 3, "m", T0, T0 + S(100))); /* still queued */
    task_id(3, id);
    CHECK_OK(octo_sched_cancel(&s, id, T0));
    task_id(2, id);
    CHECK_OK(octo_sched_cancel(&s, id, T0));
    task_id(1, id);
    CHECK_OK(octo_sched_cancel(&s, id, T0));
    CHECK_ERR(octo_sched_cancel(&s, id, T0), OCTO_ENOTFOUND);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(poll1(&s, T0, &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
        CHECK_EQ_INT(a.state, OCTO_FAILOVER_FAILED);
        CHECK_EQ_INT(a.reason, OCTO_FAILOVER_REASON_CANCELLED);
    }
    CHECK_EQ_INT(poll1(&s, T0, &a), 0);
    CHECK_EQ_INT(octo_sched_in_flight(&s, 0), 0);
    report(&s, &run, OCTO_HEALTH_SUCCESS, T0 + S(1), 1); /* the cancelled run answers: ignored */
    CHECK_EQ_INT(octo_health_consecutive_failures(octo_sched_health(&s, 0)), 0);
    octo_sched_deinit(&s);
}

static void test_probes(void)
{
    struct octo_sched s;
    struct octo_sched_config c = {
        .providers_max = 4, .models_max = 8, .tasks_max = 4, .probe_interval_ms = 1000, .seed = 1};
    CHECK_OK(octo_sched_init(&s, &c, T0));
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 1, "m", NULL}, T0);
    struct octo_sched_action a;
    octo_tick next = octo_sched_next_wakeup(&s);
    CHECK_EQ_U64(next, T0); /* a new provider is probed at once */
    CHECK_EQ_INT(octo_sched_poll(&s, next, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_PROBE);
    CHECK_EQ_INT(a.provider, 0);
    CHECK_EQ_INT(octo_sched_poll(&s, next, &a), 0);
    /* three failed probes put the provider in cooldown */
    octo_tick now = next;
    for (int k = 0; k < 3; k++) {
        octo_sched_probe_result(&s, a.provider, a.incarnation, false, 0, now);
        now += MS(10);
    }
    CHECK(!octo_health_available(octo_sched_health(&s, 0), now));
    octo_sched_probe_result(&s, a.provider, a.incarnation + 1, true, 10, now); /* stale: ignored */
    CHECK(!octo_health_available(octo_sched_health(&s, 0), now));
    CHECK(octo_sched_invariants_ok(&s));
    octo_sched_deinit(&s);
}

static void test_policy_table(void)
{
    struct octo_sched s;
    struct octo_sched_config c = {.providers_max = 4,
                                  .models_max = 8,
                                  .tasks_max = 8,
                                  .policies_max = 2,
                                  .probe_interval_ms = 3600000};
    CHECK_OK(octo_sched_init(&s, &c, T0));
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 8, "m", NULL}, T0);
    drain_probes(&s, T0);
    /* the largest policy there is: every list full */
    static struct octo_route_policy big[3];
    for (int k = 0; k < 3; k++) {
        octo_route_policy_init(&big[k]);
        big[k].max_price_in = 1000000 + (uint64_t)k;
        big[k].ignore_count = OCTO_ROUTE_LIST_MAX;
        big[k].only_count = OCTO_ROUTE_LIST_MAX;
        big[k].order_count = OCTO_ROUTE_LIST_MAX;
        big[k].quantizations_count = OCTO_ROUTE_LIST_MAX;
        for (uint32_t i = 0; i < OCTO_ROUTE_LIST_MAX; i++) {
            peer_of(1000 + i, &big[k].ignore[i]);
            peer_of(i == 0 ? 0 : 2000 + i, &big[k].only[i]); /* provider 0 is allowed */
            peer_of(i == 0 ? 0 : 3000 + i, &big[k].order[i]);
            snprintf(big[k].quantizations[i], sizeof(big[k].quantizations[i]),
                     i == 0 ? "q4_k_m" : "quantization-%02u", i);
        }
    }
    struct octo_sched_request r = {.model = "m", .deadline = T0 + S(10)};
    for (uint32_t n = 0; n < 4; n++) { /* two tasks per policy share one entry */
        r.policy = &big[n / 2];
        task_id(n, r.id);
        CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    }
    r.policy = &big[2];
    task_id(9, r.id);
    CHECK_ERR(octo_sched_submit(&s, &r, T0, NULL), OCTO_ELIMIT); /* a third distinct one */
    struct octo_sched_action a;
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(poll1(&s, T0, &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
        CHECK_EQ_INT(a.provider, 0);
        report(&s, &a, OCTO_HEALTH_SUCCESS, T0, 0);
        CHECK_EQ_INT(poll1(&s, T0, &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    }
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL)); /* the entries were released */
    octo_sched_deinit(&s);
}

/* ---- regressions found in review ---- */

/* A cancel after the periodic sweep expired the task's record ends it, no crash. */
static void test_cancel_after_sweep(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    CHECK_OK(submit(&s, 1, "m", T0, T0 + S(5)));
    CHECK_OK(submit(&s, 2, "m", T0, T0 + S(5)));
    uint8_t id[OCTO_SCHED_ID_LEN];
    struct octo_sched_action a;
    task_id(1, id);
    CHECK_OK(octo_sched_cancel(&s, id, T0 + S(6)));
    CHECK_EQ_INT(octo_sched_poll(&s, T0 + S(6), &a), 1); /* sweeps, then reports task 1 */
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    task_id(2, id);
    CHECK_OK(octo_sched_cancel(&s, id, T0 + S(6)));
    CHECK_EQ_INT(poll1(&s, T0 + S(6), &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(a.state, OCTO_FAILOVER_EXPIRED);
    CHECK_EQ_INT(poll1(&s, T0 + S(6), &a), 0);
    octo_sched_deinit(&s);
}

/* Three failed probes: the provider cools down for 5 s. */
static void cool_down(struct octo_sched *s, uint32_t provider, octo_tick now)
{
    const struct octo_registry_entry *e = octo_registry_at(octo_sched_registry(s), provider);
    for (int k = 0; k < 3; k++)
        octo_sched_probe_result(s, provider, e->incarnation, false, 0, now);
}

/* A provider both cooling down and full: the task parks (a slot or the cooldown end may come
 * first), it does not fail. */
static void test_cooling_and_full_parks(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 1, "m", NULL}, T0);
    drain_probes(&s, T0);
    struct octo_sched_action run, a;
    CHECK_OK(submit(&s, 1, "m", T0, T0 + S(60)));
    CHECK_EQ_INT(poll1(&s, T0, &run), 1);
    cool_down(&s, 0, T0);
    CHECK_OK(submit(&s, 2, "m", T0, T0 + S(60)));
    CHECK_EQ_INT(poll1(&s, T0, &a), 0); /* parked, not failed */
    report(&s, &run, OCTO_HEALTH_SUCCESS, T0 + S(1), 0);
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE); /* task 1; task 2 now waits for the cooldown */
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &a), 0);
    octo_tick until = octo_health_cooldown_until(octo_sched_health(&s, 0));
    CHECK_EQ_INT(poll1(&s, until, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(a.task[0], 2);
    octo_sched_deinit(&s);
}

/* A cooling provider that outranks a full one whose slot frees before the deadline: the
 * task parks and runs on the freed slot instead of expiring at once. */
static void test_cooling_outranks_full(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 4, "m", NULL}, T0);
    add_provider(&s, 1, &(struct prov){900000, OCTO_ISOLATION_PROCESS, 1, "m", NULL}, T0);
    drain_probes(&s, T0);
    struct octo_route_policy only1;
    octo_route_policy_init(&only1);
    only1.only_count = 1;
    peer_of(1, &only1.only[0]);
    struct octo_sched_request r = {.model = "m", .policy = &only1, .deadline = T0 + S(60)};
    task_id(1, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    struct octo_sched_action run, a;
    CHECK_EQ_INT(poll1(&s, T0, &run), 1);
    CHECK_EQ_INT(run.provider, 1); /* provider 1 is now full */
    cool_down(&s, 0, T0);          /* provider 0 cools for 5 s */
    CHECK_OK(submit(&s, 2, "m", T0, T0 + S(3)));
    CHECK_EQ_INT(poll1(&s, T0, &a), 0); /* parked: not expired although 5 s > 3 s */
    report(&s, &run, OCTO_HEALTH_SUCCESS, T0 + S(1), 0);
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(a.task[0], 2);
    CHECK_EQ_INT(a.provider, 1);
    octo_sched_deinit(&s);
}

/* A freed slot wakes tasks parked on that provider's model, not the oldest of another model;
 * an advert raising capacity wakes parked tasks too. */
static void test_parked_per_model(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 32, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 1, "x", NULL}, T0);
    add_provider(&s, 1, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 1, "y", NULL}, T0);
    drain_probes(&s, T0);
    struct octo_sched_action runx, runy, a;
    CHECK_OK(submit(&s, 1, "x", T0, T0 + S(60)));
    CHECK_EQ_INT(poll1(&s, T0, &runx), 1);
    CHECK_OK(submit(&s, 2, "y", T0, T0 + S(60)));
    CHECK_EQ_INT(poll1(&s, T0, &runy), 1);
    for (uint32_t n = 10; n < 14; n++) /* four x tasks park first */
        CHECK_OK(submit(&s, n, "x", T0, T0 + S(60)));
    CHECK_OK(submit(&s, 20, "y", T0, T0 + S(60)));
    CHECK_EQ_INT(poll1(&s, T0, &a), 0);
    report(&s, &runy, OCTO_HEALTH_SUCCESS, T0 + S(1), 0);
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
    CHECK_EQ_INT(poll1(&s, T0 + S(1), &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(a.task[0], 20); /* the y task took y's slot */
    /* x's provider advertises capacity 4: three more x tasks run at once */
    uint32_t idx = 0;
    CHECK_EQ_INT(add_provider_at(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 4, "x", NULL},
                                 2, NOW_MS + 3600000, NOW_MS, T0 + S(2), &idx),
                 OCTO_REGISTRY_REPLACED);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(poll1(&s, T0 + S(2), &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
        CHECK_EQ_INT(a.provider, 0);
    }
    CHECK_EQ_INT(poll1(&s, T0 + S(2), &a), 0);
    octo_sched_deinit(&s);
}

/* The task's own deadline ending a running attempt is not the provider's fault. */
static void test_deadline_is_not_provider_timeout(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 16, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 8, "m", NULL}, T0);
    drain_probes(&s, T0);
    struct octo_sched_action a;
    for (uint32_t n = 0; n < 4; n++) {
        octo_tick now = T0 + S(n);
        CHECK_OK(submit(&s, n, "m", now, now + MS(500)));
        CHECK_EQ_INT(poll1(&s, now, &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
        CHECK_EQ_INT(poll1(&s, now + MS(500), &a), 1);
        CHECK_EQ_INT(a.kind, OCTO_SCHED_DONE);
        CHECK_EQ_INT(a.state, OCTO_FAILOVER_EXPIRED);
        CHECK_EQ_INT(a.reason, OCTO_FAILOVER_REASON_DEADLINE);
    }
    const struct octo_health *h = octo_sched_health(&s, 0);
    CHECK_EQ_INT(octo_health_consecutive_failures(h), 0);
    CHECK(octo_health_available(h, T0 + S(4)));
    octo_sched_deinit(&s);
}

/* A new provider that took the slot of a provider this task tried is offered to it; its first
 * probe is due at registration. */
static void test_reused_slot(void)
{
    struct octo_sched s;
    sched_new(&s, 1, 16, T0);
    uint32_t idx = 9;
    CHECK_EQ_INT(add_provider_at(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 4, "m", NULL},
                                 1, NOW_MS + 1000, NOW_MS, T0, &idx),
                 OCTO_REGISTRY_INSERTED);
    drain_probes(&s, T0);
    struct octo_sched_action a, b;
    CHECK_OK(submit(&s, 1, "m", T0, T0 + S(60)));
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(octo_sched_expire_adverts(&s, NOW_MS + 2000), 1);
    CHECK_EQ_INT(add_provider_at(&s, 7, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 4, "m", NULL},
                                 1, NOW_MS + 3600000, NOW_MS + 2000, T0 + S(2), &idx),
                 OCTO_REGISTRY_INSERTED);
    CHECK_EQ_INT(idx, 0); /* the same slot */
    CHECK_EQ_INT(octo_sched_poll(&s, T0 + S(2), &b), 1);
    CHECK_EQ_INT(b.kind, OCTO_SCHED_PROBE); /* probed at registration */
    CHECK(b.incarnation != a.incarnation);
    octo_sched_probe_result(&s, b.provider, b.incarnation, true, 1000, T0 + S(2));
    report(&s, &a, OCTO_HEALTH_PROVIDER_ERROR, T0 + S(3), 0); /* the old provider's attempt */
    CHECK_EQ_INT(poll1(&s, T0 + S(3), &b), 1);
    CHECK_EQ_INT(b.kind, OCTO_SCHED_DISPATCH); /* the new provider in the same slot */
    CHECK_EQ_INT(b.provider, 0);
    CHECK_EQ_INT(b.attempt, 2);
    octo_sched_deinit(&s);
}

/* More postings than providers (two quantizations each) are all offered. */
static void test_postings_beyond_providers(void)
{
    struct octo_sched s;
    sched_new(&s, 2, 16, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 4, "m", "m"}, T0);
    add_provider(&s, 1, &(struct prov){900000, OCTO_ISOLATION_PROCESS, 4, "m", NULL}, T0);
    drain_probes(&s, T0);
    struct octo_route_policy p;
    octo_route_policy_init(&p);
    p.ignore_count = 1;
    peer_of(0, &p.ignore[0]);
    struct octo_sched_request r = {.model = "m", .policy = &p, .deadline = T0 + S(60)};
    task_id(1, r.id);
    CHECK_OK(octo_sched_submit(&s, &r, T0, NULL));
    struct octo_sched_action a;
    CHECK_EQ_INT(poll1(&s, T0, &a), 1);
    CHECK_EQ_INT(a.kind, OCTO_SCHED_DISPATCH);
    CHECK_EQ_INT(a.provider, 1);
    octo_sched_deinit(&s);
}

/* One poll call does a bounded amount of work; the backlog is worked off over calls. */
static void test_poll_budget(void)
{
    struct octo_sched s;
    sched_new(&s, 4, 512, T0);
    add_provider(&s, 0, &(struct prov){1000, OCTO_ISOLATION_PROCESS, 1, "m", NULL}, T0);
    drain_probes(&s, T0);
    for (uint32_t n = 0; n < 300; n++)
        CHECK_OK(submit(&s, n, "m", T0, T0 + S(60)));
    struct octo_sched_action a;
    CHECK_EQ_INT(octo_sched_poll(&s, T0, &a), 1); /* the first one runs */
    unsigned calls = 0;
    while (octo_sched_next_wakeup(&s) <= T0 && calls < 100) {
        CHECK_EQ_INT(octo_sched_poll(&s, T0, &a), 0); /* the rest park, a budget per call */
        calls++;
    }
    CHECK(calls >= 299 / OCTO_SCHED_STEPS_PER_POLL);
    CHECK(calls < 100);
    struct octo_sched_stats st;
    octo_sched_stats(&s, &st);
    CHECK_EQ_U64(st.parked, 299);
    CHECK(octo_sched_invariants_ok(&s));
    octo_sched_deinit(&s);
}

static void test_init_limits(void)
{
    struct octo_sched s;
    struct octo_sched_config c = {.providers_max = 0, .models_max = 8};
    CHECK_ERR(octo_sched_init(&s, &c, T0), OCTO_EINVAL);
    c.providers_max = 4;
    c.tasks_max = OCTO_SCHED_TASKS_LIMIT + 1;
    CHECK_ERR(octo_sched_init(&s, &c, T0), OCTO_EINVAL);
    c.tasks_max = 4;
    c.probe_interval_ms = 1;
    CHECK_ERR(octo_sched_init(&s, &c, T0), OCTO_EINVAL);
    c.probe_interval_ms = 0;
    c.attempt_timeout = OCTO_SCHED_ATTEMPT_TIMEOUT_MAX + 1;
    CHECK_ERR(octo_sched_init(&s, &c, T0), OCTO_EINVAL);
    c.attempt_timeout = 0;
    for (uint64_t n = 1; n < 64; n++) { /* every allocation failure is clean */
        octo_alloc_fail_after(n, 1);
        int rc = octo_sched_init(&s, &c, T0);
        octo_alloc_fail_after(0, 0);
        if (rc == 0) {
            CHECK(n > 5);
            octo_sched_deinit(&s);
            break;
        }
        CHECK_ERR(rc, OCTO_ENOMEM);
    }
}

/* ---- simulation ---- */

#define SIM_PROVIDERS 1000
#define SIM_MODELS 10
#define SIM_EVENTS_MAX 65536

struct sim_event {
    octo_tick at;
    uint8_t task[OCTO_SCHED_ID_LEN];
    uint32_t attempt;
    uint32_t provider;
    uint64_t dispatch;
    uint8_t outcome;
};

struct sim_task {
    octo_tick deadline;
    uint32_t done;       /* DONE actions seen */
    uint32_t dispatches; /* DISPATCH actions seen */
    uint32_t after_done; /* DISPATCH after DONE */
    bool charged;
    uint8_t state;
    uint8_t reason;
};

struct sim {
    struct octo_sched s;
    struct octo_rng r;
    struct sim_event *ev; /* unordered; the next one is found by a scan of the few pending */
    uint32_t ev_n;
    struct sim_task *tasks;
    uint32_t tasks_n;
    octo_tick down_until[SIM_PROVIDERS];
    uint8_t down_mode[SIM_PROVIDERS]; /* 0 error, 1 hang */
    uint32_t latency_ms[SIM_PROVIDERS];
    uint64_t dup_answers;
    uint64_t busy;
    uint64_t hung;
    uint64_t resubmitted;
};

static void sim_push(struct sim *m, octo_tick at, const struct octo_sched_action *a,
                     enum octo_health_outcome o)
{
    CHECK(m->ev_n < SIM_EVENTS_MAX);
    if (m->ev_n >= SIM_EVENTS_MAX)
        return;
    struct sim_event *e = &m->ev[m->ev_n++];
    e->at = at;
    memcpy(e->task, a->task, OCTO_SCHED_ID_LEN);
    e->attempt = a->attempt;
    e->provider = a->provider;
    e->dispatch = a->dispatch;
    e->outcome = (uint8_t)o;
}

static uint32_t sim_task_no(const uint8_t *id)
{
    uint32_t n;
    memcpy(&n, id, sizeof(n));
    return n;
}

static void sim_action(struct sim *m, const struct octo_sched_action *a, octo_tick now)
{
    if (a->kind == OCTO_SCHED_PROBE) {
        bool down = now < m->down_until[a->provider];
        octo_sched_probe_result(&m->s, a->provider, a->incarnation, !down,
                                down ? 0 : 1000 * (uint64_t)m->latency_ms[a->provider] / 10, now);
        return;
    }
    uint32_t n = sim_task_no(a->task);
    CHECK(n < m->tasks_n);
    struct sim_task *t = &m->tasks[n];
    if (a->kind == OCTO_SCHED_DONE) {
        t->done++;
        t->state = (uint8_t)a->state;
        t->reason = (uint8_t)a->reason;
        if (a->charge) {
            CHECK(!t->charged); /* charged once */
            t->charged = true;
        }
        CHECK_EQ_INT(a->charge, a->state == OCTO_FAILOVER_SUCCEEDED);
        if (now < t->deadline) { /* the client retries: the id is still taken */
            struct octo_sched_request r = {.model = "m0",
                                           .policy = &default_policy,
                                           .strategy = OCTO_ROUTE_COST,
                                           .deadline = now + S(60)};
            memcpy(r.id, a->task, OCTO_SCHED_ID_LEN);
            struct octo_failover_view v;
            CHECK_ERR(octo_sched_submit(&m->s, &r, now, &v), OCTO_EEXIST);
            CHECK_EQ_INT(v.state, a->state);
            m->resubmitted++;
        }
        return;
    }
    CHECK_EQ_INT(a->kind, OCTO_SCHED_DISPATCH);
    t->dispatches++;
    if (t->done > 0)
        t->after_done++;
    uint32_t p = a->provider;
    CHECK(p < SIM_PROVIDERS);
    if (now < m->down_until[p]) {
        if (m->down_mode[p] == 0)
            sim_push(m, now + MS(20), a, OCTO_HEALTH_PROVIDER_ERROR);
        return; /* hangs: the attempt timeout catches it */
    }
    octo_tick lat = MS(m->latency_ms[p] + octo_rng_below(&m->r, m->latency_ms[p] + 1));
    if (octo_rng_below(&m->r, 100) == 0) { /* and 1 % of requests fail at random anyway */
        sim_push(m, now + lat / 2, a, OCTO_HEALTH_PROVIDER_ERROR);
        return;
    }
    sim_push(m, now + lat, a, OCTO_HEALTH_SUCCESS);
    if (octo_rng_below(&m->r, 100) == 0) { /* 1 %: the answer arrives twice */
        sim_push(m, now + lat + MS(5), a, OCTO_HEALTH_SUCCESS);
        m->dup_answers++;
    }
}

/* Providers that go down mid-task: pending answers from them turn into errors or never come. */
static void sim_fail_provider(struct sim *m, uint32_t p, octo_tick now)
{
    m->down_until[p] = now + S(5 + octo_rng_below(&m->r, 40));
    m->down_mode[p] = (uint8_t)octo_rng_below(&m->r, 2);
    for (uint32_t i = 0; i < m->ev_n;) {
        struct sim_event *e = &m->ev[i];
        if (e->provider != p || e->outcome != OCTO_HEALTH_SUCCESS) {
            i++;
        } else if (m->down_mode[p] == 0) { /* the running task errors out */
            e->outcome = OCTO_HEALTH_PROVIDER_ERROR;
            e->at = now + MS(20);
            i++;
        } else { /* its answer never comes */
            *e = m->ev[--m->ev_n];
            m->hung++;
        }
    }
}

static uint64_t sim_retries;

static void sim_run(uint64_t seed, uint32_t ntasks, uint32_t per_second, uint32_t cap_max)
{
    struct sim *m = octo_calloc(1, sizeof(*m));
    CHECK(m != NULL);
    octo_rng_init(&m->r, seed);
    m->ev = octo_calloc(SIM_EVENTS_MAX, sizeof(*m->ev));
    m->tasks = octo_calloc(ntasks, sizeof(*m->tasks));
    m->tasks_n = ntasks;
    struct octo_sched_config c = {.providers_max = SIM_PROVIDERS,
                                  .models_max = 64,
                                  .tasks_max = 4096,
                                  .attempt_timeout = S(5),
                                  .probe_interval_ms = 30000,
                                  .seed = seed};
    octo_rng_fill(&m->r, c.hash_key, sizeof(c.hash_key));
    octo_tick now = T0;
    CHECK_OK(octo_sched_init(&m->s, &c, now));
    static const char *const models[SIM_MODELS] = {"m0", "m1", "m2", "m3", "m4",
                                                   "m5", "m6", "m7", "m8", "m9"};
    for (uint32_t i = 0; i < SIM_PROVIDERS; i++) {
        struct prov p = {.price = 1000 + octo_rng_below(&m->r, 1000000),
                         .isolation = (uint8_t)(1 + octo_rng_below(&m->r, 3)),
                         .capacity = (uint32_t)(1 + octo_rng_below(&m->r, cap_max)),
                         .model = models[i % SIM_MODELS],
                         .model2 = models[(i * 7 + 3) % SIM_MODELS]};
        if (p.model2 == p.model)
            p.model2 = NULL;
        add_provider(&m->s, i, &p, now);
        m->latency_ms[i] = (uint32_t)(50 + octo_rng_below(&m->r, 1500));
    }
    struct octo_route_policy pol[3];
    for (int k = 0; k < 3; k++)
        octo_route_policy_init(&pol[k]);
    pol[1].min_reputation_bp = 1000;
    pol[2].isolation_min = OCTO_ISOLATION_CONTAINER;
    static const enum octo_route_strategy strategies[] = {OCTO_ROUTE_COST, OCTO_ROUTE_SPEED,
                                                          OCTO_ROUTE_QUALITY};
    for (uint32_t k = 0; k < SIM_PROVIDERS / 100; k++) /* 1 % down from the start */
        sim_fail_provider(m, (uint32_t)octo_rng_below(&m->r, SIM_PROVIDERS), now);
    uint32_t submitted = 0;
    octo_tick next_submit = now, next_failure = now;
    octo_tick interval = OCTO_NS_PER_S / per_second;
    uint64_t steps = 0;
    for (;;) {
        /* the next event: a submission, an answer, a provider failure, or the scheduler */
        octo_tick t = UINT64_MAX;
        uint32_t ev = UINT32_MAX;
        for (uint32_t i = 0; i < m->ev_n; i++) {
            if (m->ev[i].at < t) {
                t = m->ev[i].at;
                ev = i;
            }
        }
        octo_tick w = octo_sched_next_wakeup(&m->s);
        bool work_left = submitted < ntasks || m->ev_n > 0;
        for (uint32_t i = 0; !work_left && i < submitted; i++)
            work_left = m->tasks[i].done == 0;
        if (!work_left)
            break;
        octo_tick cand = submitted < ntasks ? next_submit : UINT64_MAX;
        octo_tick at = t;
        if (cand < at)
            at = cand;
        if (w < at)
            at = w;
        if (next_failure < at)
            at = next_failure;
        CHECK(at != UINT64_MAX);
        if (at == UINT64_MAX)
            break;
        if (at > now)
            now = at;
        if (now >= next_failure) {
            /* keep ~1 % of providers failing: each second, each provider fails with
             * probability 1/2500 for ~25 s on average */
            for (uint32_t i = 0; i < SIM_PROVIDERS; i++) {
                if (now >= m->down_until[i] && octo_rng_below(&m->r, 2500) == 0) {
                    /* half the time it is a provider with tasks running: they die mid-task */
                    uint32_t v = i;
                    for (uint32_t k = 0; k < 64 && octo_rng_below(&m->r, 2) == 0; k++) {
                        uint32_t pick = (uint32_t)octo_rng_below(&m->r, SIM_PROVIDERS);
                        if (octo_sched_in_flight(&m->s, pick) > 0 && now >= m->down_until[pick]) {
                            v = pick;
                            break;
                        }
                    }
                    sim_fail_provider(m, v, now);
                }
            }
            next_failure = now + S(1);
        }
        if (ev != UINT32_MAX && m->ev[ev].at <= now) {
            struct sim_event e = m->ev[ev];
            m->ev[ev] = m->ev[--m->ev_n];
            struct octo_sched_report rep = {.attempt = e.attempt,
                                            .dispatch = e.dispatch,
                                            .outcome = (enum octo_health_outcome)e.outcome,
                                            .latency_us = 1000,
                                            .tokens_in = 100,
                                            .tokens_out = 50};
            memcpy(rep.task, e.task, OCTO_SCHED_ID_LEN);
            int rc = octo_sched_result(&m->s, &rep, now);
            CHECK(rc == 0 || rc == 1);
        }
        if (submitted < ntasks && now >= next_submit) {
            struct octo_sched_request r = {.model = models[octo_rng_below(&m->r, SIM_MODELS)],
                                           .policy = &pol[submitted % 3],
                                           .strategy = strategies[submitted % 3],
                                           .priority = (uint8_t)octo_rng_below(&m->r, 8),
                                           .deadline = now + S(60)};
            task_id(submitted, r.id);
            m->tasks[submitted].deadline = r.deadline;
            int rc = octo_sched_submit(&m->s, &r, now, NULL);
            if (rc == OCTO_EBUSY) { /* backpressure: the client retries a little later */
                m->busy++;
                next_submit = now + MS(10);
            } else {
                CHECK_EQ_INT(rc, 0);
                submitted++;
                next_submit = now + interval;
            }
        }
        struct octo_sched_action a;
        while (octo_sched_poll(&m->s, now, &a) == 1)
            sim_action(m, &a, now);
        steps++;
        if (!octo_sched_invariants_ok(&m->s)) {
            CHECK(!"invariants");
            break;
        }
        if (octo_test_failed)
            break;
    }
    uint32_t failed = 0, succeeded = 0, lost = 0, twice = 0, after = 0, charged = 0;
    for (uint32_t i = 0; i < ntasks; i++) {
        const struct sim_task *t = &m->tasks[i];
        if (t->done == 0)
            lost++;
        if (t->done > 1)
            twice++;
        after += t->after_done;
        if (t->state == OCTO_FAILOVER_SUCCEEDED && t->done == 1) {
            succeeded++;
        } else {
            failed++;
            printf("    task %u failed: %s (%u dispatches)\n", i,
                   octo_failover_reason_name((enum octo_failover_reason)t->reason), t->dispatches);
        }
        charged += t->charged;
    }
    struct octo_sched_stats st;
    octo_sched_stats(&m->s, &st);
    printf("    seed %llu: %u tasks, %u succeeded, %u failed (%.3f %%), %llu retries, %llu "
           "waits, %llu parked, %llu late answers, %llu duplicated, %llu busy, %llu hung, %llu "
           "resubmitted, %llu steps\n",
           (unsigned long long)seed, ntasks, succeeded, failed, 100.0 * failed / ntasks,
           (unsigned long long)st.retries, (unsigned long long)st.waits,
           (unsigned long long)st.parked, (unsigned long long)st.late_results,
           (unsigned long long)m->dup_answers, (unsigned long long)m->busy,
           (unsigned long long)m->hung, (unsigned long long)m->resubmitted,
           (unsigned long long)steps);
    CHECK_EQ_INT(lost, 0);
    CHECK_EQ_INT(twice, 0);
    CHECK_EQ_INT(after, 0);
    CHECK_EQ_INT(charged, succeeded);
    CHECK_EQ_U64(st.succeeded, succeeded);
    CHECK(failed * 100 < ntasks); /* fewer than 1 % of tasks fail */
    sim_retries += st.retries;
    octo_sched_deinit(&m->s);
    octo_free(m->ev);
    octo_free(m->tasks);
    octo_free(m);
}

static void test_sim_1000_providers_1pct_failing(void)
{
    const char *env = getenv("OCTO_SIM_SEEDS");
    unsigned seeds = env != NULL ? (unsigned)strtoul(env, NULL, 10) : 6;
    for (unsigned k = 0; k < seeds && !octo_test_failed; k++)
        sim_run(1000 + k, 3000, 100, 9);
    CHECK(sim_retries > 0); /* failures did happen and were survived */
}

static void test_sim_overload(void)
{
    /* more load than capacity for a while: tasks park and queue, none is lost */
    sim_run(77, 6000, 20000, 2);
}

int main(void)
{
    octo_route_policy_init(&default_policy);
    OCTO_RUN(test_dispatch_success_charge_once);
    OCTO_RUN(test_failover_and_late_answer);
    OCTO_RUN(test_attempt_timeout_then_attempts_exhausted);
    OCTO_RUN(test_speed_and_quality_strategies);
    OCTO_RUN(test_cooldown_wait);
    OCTO_RUN(test_parked_until_capacity);
    OCTO_RUN(test_no_candidate_explained_fail_closed);
    OCTO_RUN(test_queue_priority_deadline_backpressure);
    OCTO_RUN(test_cancel_every_state);
    OCTO_RUN(test_probes);
    OCTO_RUN(test_policy_table);
    OCTO_RUN(test_cancel_after_sweep);
    OCTO_RUN(test_cooling_and_full_parks);
    OCTO_RUN(test_cooling_outranks_full);
    OCTO_RUN(test_parked_per_model);
    OCTO_RUN(test_deadline_is_not_provider_timeout);
    OCTO_RUN(test_reused_slot);
    OCTO_RUN(test_postings_beyond_providers);
    OCTO_RUN(test_poll_budget);
    OCTO_RUN(test_init_limits);
    OCTO_RUN(test_sim_1000_providers_1pct_failing);
    OCTO_RUN(test_sim_overload);
    return octo_test_finish();
}
