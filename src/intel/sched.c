/*
 * sched.c — the task scheduler (see sched.h for the contract and the life of a task).
 *
 * Task records live in a fixed pool (tasks_max). A record is in exactly one place:
 *   T_QUEUED   in the task queue (priority order), waiting for its first routing;
 *   T_READY    on the ready FIFO: to be routed at the next poll (a retry, a woken task);
 *   T_RUNNING  dispatched; in the wake heap at min(deadline, dispatch + attempt_timeout) —
 *              the first is the task's timeout (no penalty), the second the provider's;
 *   T_WAITING  every candidate is cooling down; in the wake heap at the earliest end;
 *   T_PARKED   some eligible provider is full (and the others, if any, cool down): on its
 *              model's parked FIFO and in the wake heap at its deadline (or the earliest
 *              cooldown end); a freed slot, an ok probe or an advert with room moves the
 *              oldest tasks parked on that provider's models back to ready;
 *   T_DONE     finished; on the done FIFO until poll reports it, then freed.
 * Apart from T_QUEUED a record is "in flight" in the task queue (dequeued, not done), so the
 * queue's id index finds every record, and the queue's counts are the scheduler's.
 *
 * Routing a task: the model's candidates come from the price-ordered view (rview.h), or from a
 * rank-key heap for latency/reputation rankings, each with its health (availability, latency,
 * throughput, uptime as reputation) and load; the router filters and ranks them (policy,
 * strategy, load balancer) and stops after the best few; the failover manager picks the first
 * ranked provider this task has not tried. Providers are known to the failover manager by
 * their registry incarnation, so a new provider in a tried provider's slot is a new
 * candidate. When nothing is eligible only because providers are cooling down, the task is
 * routed again with cooldowns ignored and waits for the earliest cooldown end (or expires when
 * that is past its deadline); when a full provider is among the reasons, it parks instead.
 *
 * Answers are matched by (task id, attempt, dispatch number), so a late answer for an older
 * use of a task id never completes a newer one. A poll call takes a bounded number of steps.
 *
 * Policies are interned: a task holds a reference to a canonical copy (unused list entries and
 * padding zeroed) in a refcounted table with a SipHash index, so 65k tasks do not carry 65k
 * copies of a 7 KiB policy.
 *
 * Data retention: adverts do not yet carry a retention claim, so only TEE providers (attested
 * image) count as zero-retention for `zdr` / `data_collection: deny`; everything else is assumed
 * retaining (unknown policy = retaining: fail closed).
 */
#include "intel/sched.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "intel/rview.h"

#include <sodium.h>
#include <string.h>

#define NIL UINT32_MAX

_Static_assert(sizeof(((struct octo_sched_config *)0)->hash_key) == crypto_shorthash_KEYBYTES,
               "SipHash key size");
_Static_assert(OCTO_SCHED_ID_LEN == OCTO_QUEUE_ID_LEN && OCTO_SCHED_ID_LEN == OCTO_FAILOVER_KEY_LEN,
               "one task id everywhere");

enum task_state { T_FREE = 0, T_QUEUED, T_READY, T_RUNNING, T_WAITING, T_PARKED, T_DONE };

struct octo_sched_task {
    uint8_t id[OCTO_SCHED_ID_LEN];
    char model[OCTO_ADVERT_NAME_MAX + 1];
    struct octo_peerid owner;
    octo_tick deadline;
    uint64_t price_in, price_out; /* of the provider running the current attempt */
    uint64_t amount;
    struct octo_route_explain explain;
    uint64_t dispatch;       /* sequence number of the running attempt's dispatch */
    octo_tick attempt_until; /* when the running attempt times out */
    uint32_t policy;
    uint32_t provider, incarnation, attempt;
    uint32_t tried_slot[OCTO_FAILOVER_ATTEMPTS_MAX]; /* registry index of attempt k + 1 */
    uint32_t park_model;                             /* model id whose parked list holds it */
    uint32_t next, prev;                             /* FIFO links (free, ready, done, parked) */
    uint8_t strategy, priority, state, has_owner;
    uint8_t done_state, done_reason;
    bool charge;
};

struct octo_sched_policy {
    struct octo_route_policy p;
    uint64_t hash;
    uint32_t refs; /* 0 = free slot; next_free then links the free list */
    uint32_t next_free;
};

struct octo_sched_provider {
    struct octo_health health;
    uint32_t incarnation; /* registry entry this state belongs to; 0 = none yet */
    uint32_t in_flight;
};

/* ---- indexed min-heap keyed by time, ties by id ---- */

static int heap_init(struct octo_sched_heap *h, uint32_t cap)
{
    h->ids = octo_calloc(cap, sizeof(*h->ids));
    h->pos = octo_calloc(cap, sizeof(*h->pos));
    h->keys = octo_calloc(cap, sizeof(*h->keys));
    h->len = 0;
    h->cap = cap;
    return h->ids && h->pos && h->keys ? 0 : OCTO_ENOMEM;
}

static void heap_deinit(struct octo_sched_heap *h)
{
    octo_free(h->ids);
    octo_free(h->pos);
    octo_free(h->keys);
    memset(h, 0, sizeof(*h));
}

static bool heap_less(const struct octo_sched_heap *h, uint32_t a, uint32_t b)
{
    return h->keys[a] < h->keys[b] || (h->keys[a] == h->keys[b] && a < b);
}

static void heap_set(struct octo_sched_heap *h, uint32_t i, uint32_t id)
{
    h->ids[i] = id;
    h->pos[id] = i + 1;
}

static void heap_up(struct octo_sched_heap *h, uint32_t i)
{
    uint32_t id = h->ids[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heap_less(h, id, h->ids[parent]))
            break;
        heap_set(h, i, h->ids[parent]);
        i = parent;
    }
    heap_set(h, i, id);
}

static void heap_down(struct octo_sched_heap *h, uint32_t i)
{
    uint32_t id = h->ids[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && heap_less(h, h->ids[c + 1], h->ids[c]))
            c++;
        if (!heap_less(h, h->ids[c], id))
            break;
        heap_set(h, i, h->ids[c]);
        i = c;
    }
    heap_set(h, i, id);
}

static void heap_remove(struct octo_sched_heap *h, uint32_t id)
{
    if (h->pos[id] == 0)
        return;
    uint32_t i = h->pos[id] - 1;
    h->pos[id] = 0;
    h->len--;
    if (i == h->len)
        return;
    heap_set(h, i, h->ids[h->len]);
    heap_up(h, i);
    heap_down(h, h->pos[h->ids[i]] - 1 == i ? i : h->pos[h->ids[i]] - 1);
}

/* Inserts id or moves it to its new key. */
static void heap_put(struct octo_sched_heap *h, uint32_t id, uint64_t key)
{
    OCTO_ASSERT(id < h->cap);
    heap_remove(h, id);
    OCTO_ASSERT(h->len < h->cap);
    h->keys[id] = key;
    heap_set(h, h->len, id);
    h->len++;
    heap_up(h, h->len - 1);
}

static uint64_t heap_top_key(const struct octo_sched_heap *h)
{
    return h->len > 0 ? h->keys[h->ids[0]] : UINT64_MAX;
}

/* ---- FIFOs of task records ---- */

static void fifo_push(struct octo_sched *s, uint32_t *head, uint32_t *tail, uint32_t t)
{
    s->tasks[t].next = NIL;
    s->tasks[t].prev = *tail;
    if (*tail != NIL)
        s->tasks[*tail].next = t;
    else
        *head = t;
    *tail = t;
}

static void fifo_unlink(struct octo_sched *s, uint32_t *head, uint32_t *tail, uint32_t t)
{
    struct octo_sched_task *x = &s->tasks[t];
    if (x->prev != NIL)
        s->tasks[x->prev].next = x->next;
    else
        *head = x->next;
    if (x->next != NIL)
        s->tasks[x->next].prev = x->prev;
    else
        *tail = x->prev;
    x->next = x->prev = NIL;
}

/* ---- policy table ---- */

static void policy_canon(struct octo_route_policy *d, const struct octo_route_policy *p)
{
    memset(d, 0, sizeof(*d));
    d->order_count = p->order_count;
    d->only_count = p->only_count;
    d->ignore_count = p->ignore_count;
    d->quantizations_count = p->quantizations_count;
    for (size_t i = 0; i < p->order_count; i++) {
        d->order[i].len = p->order[i].len;
        memcpy(d->order[i].bytes, p->order[i].bytes, p->order[i].len);
    }
    for (size_t i = 0; i < p->only_count; i++) {
        d->only[i].len = p->only[i].len;
        memcpy(d->only[i].bytes, p->only[i].bytes, p->only[i].len);
    }
    for (size_t i = 0; i < p->ignore_count; i++) {
        d->ignore[i].len = p->ignore[i].len;
        memcpy(d->ignore[i].bytes, p->ignore[i].bytes, p->ignore[i].len);
    }
    for (size_t i = 0; i < p->quantizations_count; i++) {
        size_t n = strlen(p->quantizations[i]);
        memcpy(d->quantizations[i], p->quantizations[i], n);
    }
    d->allow_fallbacks = p->allow_fallbacks;
    d->sort = p->sort;
    d->max_price_in = p->max_price_in;
    d->max_price_out = p->max_price_out;
    d->deny_data_collection = p->deny_data_collection;
    d->zdr = p->zdr;
    d->require_parameters = p->require_parameters;
    d->privacy = p->privacy;
    d->isolation_min = p->isolation_min;
    memcpy(d->country, p->country, strlen(p->country));
    memcpy(d->continent, p->continent, strlen(p->continent));
    d->min_reputation_bp = p->min_reputation_bp;
    d->verify = p->verify;
}

/* Appends n bytes to a packing buffer (policy_hash sizes it for the largest policy). */
static void pack(uint8_t *buf, size_t *len, const void *p, size_t n)
{
    memcpy(buf + *len, p, n);
    *len += n;
}

/* SipHash of the policy's used fields only (a typical policy packs to a few dozen bytes, not
 * the struct's 7 KiB); equal canonical policies pack equally. */
static uint64_t policy_hash(const struct octo_sched *s, const struct octo_route_policy *p)
{
    uint8_t buf[sizeof(struct octo_route_policy) + 128]; /* scalars pack wider */
    size_t len = 0;
    const size_t counts[4] = {p->order_count, p->only_count, p->ignore_count,
                              p->quantizations_count};
    pack(buf, &len, counts, sizeof(counts));
    const struct octo_peerid *lists[3] = {p->order, p->only, p->ignore};
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            pack(buf, &len, &lists[l][i].len, sizeof(lists[l][i].len));
            pack(buf, &len, lists[l][i].bytes, lists[l][i].len);
        }
    }
    for (size_t i = 0; i < p->quantizations_count; i++)
        pack(buf, &len, p->quantizations[i], strlen(p->quantizations[i]) + 1);
    const uint64_t scalars[] = {p->allow_fallbacks,
                                (uint64_t)p->sort,
                                p->max_price_in,
                                p->max_price_out,
                                p->deny_data_collection,
                                p->zdr,
                                p->require_parameters,
                                (uint64_t)p->privacy,
                                (uint64_t)p->isolation_min,
                                p->min_reputation_bp,
                                p->verify};
    pack(buf, &len, scalars, sizeof(scalars));
    pack(buf, &len, p->country, sizeof(p->country));
    pack(buf, &len, p->continent, sizeof(p->continent));
    OCTO_ASSERT(len <= sizeof(buf));
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, buf, len, s->cfg.hash_key);
    uint64_t h = 0;
    memcpy(&h, out, sizeof(h));
    return h;
}

/* Finds or adds the canonical policy; returns its id or NIL when the table is full. */
static uint32_t policy_ref(struct octo_sched *s, const struct octo_route_policy *p)
{
    struct octo_route_policy c;
    policy_canon(&c, p);
    uint64_t h = policy_hash(s, &c);
    uint32_t i = (uint32_t)h & s->pmask;
    for (; s->ptable[i] != 0; i = (i + 1) & s->pmask) {
        struct octo_sched_policy *e = &s->policies[s->ptable[i] - 1];
        if (e->hash == h && memcmp(&e->p, &c, sizeof(c)) == 0) {
            e->refs++;
            return s->ptable[i] - 1;
        }
    }
    if (s->policy_free == NIL)
        return NIL;
    uint32_t id = s->policy_free;
    struct octo_sched_policy *e = &s->policies[id];
    s->policy_free = e->next_free;
    e->p = c;
    e->hash = h;
    e->refs = 1;
    s->ptable[i] = id + 1;
    return id;
}

/* Drops a reference; the last one frees the slot (backward-shift deletion in the index). */
static void policy_unref(struct octo_sched *s, uint32_t id)
{
    struct octo_sched_policy *e = &s->policies[id];
    OCTO_ASSERT(e->refs > 0);
    if (--e->refs > 0)
        return;
    uint32_t i = (uint32_t)e->hash & s->pmask;
    while (s->ptable[i] != id + 1)
        i = (i + 1) & s->pmask;
    uint32_t hole = i;
    for (uint32_t j = (hole + 1) & s->pmask; s->ptable[j] != 0; j = (j + 1) & s->pmask) {
        uint32_t home = (uint32_t)s->policies[s->ptable[j] - 1].hash & s->pmask;
        /* move j into the hole unless its home lies cyclically in (hole, j] */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            s->ptable[hole] = s->ptable[j];
            hole = j;
        }
    }
    s->ptable[hole] = 0;
    e->next_free = s->policy_free;
    s->policy_free = id;
}

/* ---- providers ---- */

static void hot_update(struct octo_sched *s, uint32_t i);
static void wake_parked(struct octo_sched *s, uint32_t slot, uint32_t n);
static uint32_t free_slots(const struct octo_sched *s, uint32_t i);

/* The scheduler state of the provider at registry index i (fresh when the slot changed
 * hands), or NULL when the slot is free. */
static struct octo_sched_provider *prov_get(struct octo_sched *s, uint32_t i, octo_tick now)
{
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, i);
    if (e == NULL)
        return NULL;
    struct octo_sched_provider *p = &s->provs[i];
    if (p->incarnation != e->incarnation) {
        OCTO_IGNORE(octo_health_init(&p->health, now, s->cfg.probe_interval_ms));
        p->incarnation = e->incarnation;
        p->in_flight = 0;
        hot_update(s, i);
    }
    return p;
}

static uint16_t prov_reputation(const struct octo_sched_provider *p)
{
    uint32_t bps = 0;
    if (octo_health_uptime_bps(&p->health, &bps) < 0)
        return 5000; /* no history yet: neutral */
    return (uint16_t)(bps > 10000 ? 10000 : bps);
}

/* Refreshes the compact copy of what ranking reads (latency, throughput, reputation are
 * functions of the health state alone), after every change of provider i's health: ranking
 * then reads 12 bytes per provider instead of the health record's cache lines. */
static void hot_update(struct octo_sched *s, uint32_t i)
{
    const struct octo_sched_provider *p = &s->provs[i];
    uint64_t tps = octo_health_speed_tps(&p->health);
    s->hot[i] = (struct octo_sched_hot){
        .latency_us = octo_health_latency_ewma_us(&p->health),
        .throughput_tps = (uint32_t)(tps > UINT32_MAX ? UINT32_MAX : tps),
        .reputation_bp = prov_reputation(p),
    };
}

/* ---- init ---- */

int octo_sched_init(struct octo_sched *s, const struct octo_sched_config *cfg, octo_tick now)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    struct octo_sched_config *c = &s->cfg;
    if (c->tasks_max == 0)
        c->tasks_max = OCTO_SCHED_TASKS_DEFAULT;
    if (c->policies_max == 0)
        c->policies_max = OCTO_SCHED_POLICIES_DEFAULT;
    if (c->records_max == 0)
        c->records_max =
            c->tasks_max > OCTO_FAILOVER_TASKS_MAX / 4 ? OCTO_FAILOVER_TASKS_MAX : 4 * c->tasks_max;
    if (c->attempt_timeout == 0)
        c->attempt_timeout = OCTO_SCHED_ATTEMPT_TIMEOUT_DEFAULT;
    if (c->attempt_timeout > OCTO_SCHED_ATTEMPT_TIMEOUT_MAX)
        return OCTO_EINVAL;
    if (c->tasks_max > OCTO_SCHED_TASKS_LIMIT || c->tasks_max > OCTO_QUEUE_TASKS_MAX ||
        c->policies_max > OCTO_SCHED_POLICIES_LIMIT || c->records_max < c->tasks_max ||
        c->records_max > OCTO_FAILOVER_TASKS_MAX || c->providers_max == 0 ||
        c->providers_max > OCTO_ROUTE_CANDIDATES_MAX ||
        (c->probe_interval_ms != 0 && (c->probe_interval_ms < OCTO_HEALTH_PROBE_INTERVAL_MIN_MS ||
                                       c->probe_interval_ms > OCTO_HEALTH_PROBE_INTERVAL_MAX_MS)))
        return OCTO_EINVAL;
    struct octo_registry_config rc = {.providers_max = c->providers_max,
                                      .models_max = c->models_max};
    memcpy(rc.hash_key, c->hash_key, sizeof(rc.hash_key));
    int rv = octo_registry_init(&s->reg, &rc);
    if (rv < 0)
        return rv;
    struct octo_failover_config fc = {.max_tasks = c->records_max};
    memcpy(fc.hash_key, c->hash_key, sizeof(fc.hash_key));
    if ((rv = octo_failover_init(&s->fo, &fc)) < 0)
        goto fail;
    uint64_t qkey = 0;
    memcpy(&qkey, c->hash_key, sizeof(qkey));
    struct octo_queue_config qc = {
        .queued_max = c->tasks_max, .in_flight_max = c->tasks_max, .hash_key = qkey};
    if ((rv = octo_queue_init(&s->q, &qc)) < 0)
        goto fail;
    octo_rng_init(&s->rng, c->seed);
    uint32_t pslots = 2;
    while (pslots < 2 * c->policies_max)
        pslots *= 2;
    s->tasks = octo_calloc(c->tasks_max, sizeof(*s->tasks));
    s->policies = octo_calloc(c->policies_max, sizeof(*s->policies));
    s->ptable = octo_calloc(pslots, sizeof(*s->ptable));
    s->provs = octo_calloc(c->providers_max, sizeof(*s->provs));
    /* a model has a posting per (provider, quantization): up to OCTO_ADVERT_MODELS_MAX per
     * provider, and the router takes at most OCTO_ROUTE_CANDIDATES_MAX */
    uint64_t cap = (uint64_t)c->providers_max * OCTO_ADVERT_MODELS_MAX;
    s->cand_cap = (uint32_t)(cap < OCTO_ROUTE_CANDIDATES_MAX ? cap : OCTO_ROUTE_CANDIDATES_MAX);
    s->cand_slots = octo_calloc(s->cand_cap, sizeof(*s->cand_slots));
    s->ranked = octo_calloc(s->cand_cap, sizeof(*s->ranked));
    s->parked_head = octo_calloc(c->models_max, sizeof(*s->parked_head));
    s->parked_tail = octo_calloc(c->models_max, sizeof(*s->parked_tail));
    s->hot = octo_calloc(c->providers_max, sizeof(*s->hot));
    rv = OCTO_ENOMEM;
    if (!s->tasks || !s->policies || !s->ptable || !s->provs || !s->cand_slots || !s->ranked ||
        !s->hot || !s->parked_head || !s->parked_tail ||
        octo_rview_init(&s->rv, c->models_max) < 0 || heap_init(&s->wake, c->tasks_max) < 0 ||
        heap_init(&s->probes, c->providers_max) < 0)
        goto fail;
    s->pmask = pslots - 1;
    for (uint32_t i = 0; i < c->tasks_max; i++)
        s->tasks[i].next = i + 1 < c->tasks_max ? i + 1 : NIL;
    s->task_free = 0;
    for (uint32_t i = 0; i < c->policies_max; i++)
        s->policies[i].next_free = i + 1 < c->policies_max ? i + 1 : NIL;
    s->policy_free = 0;
    s->ready_head = s->ready_tail = NIL;
    s->done_head = s->done_tail = NIL;
    for (uint32_t m = 0; m < c->models_max; m++)
        s->parked_head[m] = s->parked_tail[m] = NIL;
    s->gc_next = now + OCTO_SCHED_GC_INTERVAL;
    return 0;
fail:
    octo_sched_deinit(s);
    return rv;
}

void octo_sched_deinit(struct octo_sched *s)
{
    octo_registry_deinit(&s->reg);
    octo_failover_deinit(&s->fo);
    octo_queue_deinit(&s->q);
    octo_free(s->tasks);
    octo_free(s->policies);
    octo_free(s->ptable);
    octo_free(s->provs);
    octo_rview_deinit(&s->rv);
    octo_free(s->cand_slots);
    octo_free(s->ranked);
    octo_free(s->hot);
    octo_free(s->parked_head);
    octo_free(s->parked_tail);
    heap_deinit(&s->wake);
    heap_deinit(&s->probes);
    memset(s, 0, sizeof(*s));
}

/* ---- adverts ---- */

int octo_sched_advert(struct octo_sched *s, const struct octo_advert *a, uint64_t now_unix_ms,
                      octo_tick now, uint32_t *index, enum octo_advert_reason *reason)
{
    uint32_t i = 0;
    int rc = octo_registry_upsert(&s->reg, a, now_unix_ms, &i, reason);
    if (rc < 0)
        return rc;
    if (index != NULL)
        *index = i;
    struct octo_sched_provider *p = prov_get(s, i, now);
    OCTO_ASSERT(p != NULL);
    if (rc == OCTO_REGISTRY_INSERTED || s->probes.pos[i] == 0) /* a reused slot's old entry too */
        heap_put(&s->probes, i, octo_health_next_probe(&p->health, now));
    if (rc != OCTO_REGISTRY_STALE) { /* new capacity: parked tasks of its models may run */
        uint32_t room = free_slots(s, i);
        wake_parked(s, i, room < OCTO_SCHED_WAKE_PER_ADVERT ? room : OCTO_SCHED_WAKE_PER_ADVERT);
    }
    return rc;
}

uint32_t octo_sched_expire_adverts(struct octo_sched *s, uint64_t now_unix_ms)
{
    return octo_registry_expire(&s->reg, now_unix_ms); /* probe heap entries drop lazily */
}

/* ---- submit ---- */

/* The policy's lists hold what their types promise (policy_canon copies by these lengths). */
static bool policy_bounded(const struct octo_route_policy *p)
{
    const struct octo_peerid *lists[3] = {p->order, p->only, p->ignore};
    const size_t counts[3] = {p->order_count, p->only_count, p->ignore_count};
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < counts[l] && i < OCTO_ROUTE_LIST_MAX; i++) {
            if (lists[l][i].len > OCTO_PEERID_MAX_BYTES)
                return false;
        }
    }
    for (size_t i = 0; i < p->quantizations_count && i < OCTO_ROUTE_LIST_MAX; i++) {
        if (memchr(p->quantizations[i], '\0', sizeof(p->quantizations[i])) == NULL)
            return false;
    }
    return memchr(p->country, '\0', sizeof(p->country)) != NULL &&
           memchr(p->continent, '\0', sizeof(p->continent)) != NULL;
}

static int request_check(const struct octo_sched *s, const struct octo_sched_request *r,
                         octo_tick now)
{
    const char *why;
    if (r->model == NULL || r->model[0] == '\0' || r->policy == NULL)
        return OCTO_EINVAL;
    size_t n = 0;
    while (n <= OCTO_ADVERT_NAME_MAX && r->model[n] != '\0')
        n++;
    if (n > OCTO_ADVERT_NAME_MAX || r->priority > OCTO_QUEUE_PRIORITY_MAX || r->deadline <= now ||
        r->max_attempts > OCTO_FAILOVER_ATTEMPTS_MAX || (unsigned)r->strategy > OCTO_ROUTE_GEO)
        return OCTO_EINVAL;
    if (octo_route_policy_check(r->policy, &why) < 0 || !policy_bounded(r->policy))
        return OCTO_EINVAL;
    if (r->strategy == OCTO_ROUTE_GEO && r->policy->country[0] == '\0' &&
        r->policy->continent[0] == '\0')
        return OCTO_EINVAL;
    (void)s;
    return 0;
}

static bool task_known(const struct octo_sched *s, const uint8_t *id,
                       struct octo_failover_view *view)
{
    return octo_failover_get(&s->fo, id, view) == 0;
}

int octo_sched_submit(struct octo_sched *s, const struct octo_sched_request *req, octo_tick now,
                      struct octo_failover_view *existing)
{
    struct octo_failover_view view;
    if (task_known(s, req->id, &view)) {
        s->stats.duplicates++;
        if (existing != NULL)
            *existing = view;
        return OCTO_EEXIST;
    }
    int rc = request_check(s, req, now);
    if (rc < 0) {
        s->stats.rejected_invalid++;
        return rc;
    }
    if (s->task_free == NIL) {
        s->stats.rejected_full++;
        return OCTO_EBUSY;
    }
    uint32_t pid = policy_ref(s, req->policy);
    if (pid == NIL) {
        s->stats.rejected_limit++;
        return OCTO_ELIMIT;
    }
    rc = octo_failover_begin(&s->fo, req->id, req->deadline, req->max_attempts, NULL);
    if (rc < 0) {
        policy_unref(s, pid);
        s->stats.rejected_limit++;
        return rc;
    }
    uint32_t t = s->task_free;
    struct octo_sched_task *x = &s->tasks[t];
    struct octo_queue_task qt = {.value = t, .deadline = req->deadline, .priority = req->priority};
    memcpy(qt.id, req->id, OCTO_SCHED_ID_LEN);
    rc = octo_queue_enqueue(&s->q, &qt, now);
    /* the failover table knew every live id, and a free record means queue room */
    OCTO_ASSERT(rc == 0);
    s->task_free = x->next;
    memset(x, 0, sizeof(*x));
    memcpy(x->id, req->id, OCTO_SCHED_ID_LEN);
    memcpy(x->model, req->model, strlen(req->model));
    if (req->owner != NULL) {
        x->owner = *req->owner;
        x->has_owner = 1;
    }
    x->deadline = req->deadline;
    x->policy = pid;
    x->provider = OCTO_FAILOVER_PROVIDER_NONE;
    x->strategy = (uint8_t)req->strategy;
    x->priority = req->priority;
    x->state = T_QUEUED;
    x->next = x->prev = NIL;
    s->stats.submitted++;
    return 0;
}

/* ---- finishing ---- */

uint64_t octo_sched_charge_amount(uint64_t price_in, uint32_t in, uint64_t price_out, uint32_t out)
{
    const uint64_t m = 1000000;
    uint64_t whole = (price_in / m) * in + (price_out / m) * out;
    uint64_t frac = ((price_in % m) * in + (price_out % m) * out) / m;
    return whole + frac;
}

/* Moves a task that left the wait/run structures to the done FIFO with its failover state. */
static void task_finish(struct octo_sched *s, uint32_t t)
{
    struct octo_sched_task *x = &s->tasks[t];
    struct octo_failover_view v;
    int rc = octo_failover_get(&s->fo, x->id, &v);
    OCTO_ASSERT(rc == 0);
    x->done_state = (uint8_t)v.state;
    x->done_reason = (uint8_t)v.reason;
    heap_remove(&s->wake, t);
    x->state = T_DONE;
    fifo_push(s, &s->done_head, &s->done_tail, t);
}

static void provider_release(struct octo_sched *s, struct octo_sched_task *x)
{
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, x->provider);
    struct octo_sched_provider *p = &s->provs[x->provider];
    if (e != NULL && p->incarnation == x->incarnation && e->incarnation == x->incarnation) {
        OCTO_ASSERT(p->in_flight > 0);
        p->in_flight--;
    }
}

/* Parks record t (every eligible provider of its model is full) on its model's list, to be
 * routed again when one of them frees a slot, or at wake_at at the latest. */
static void park(struct octo_sched *s, uint32_t t, octo_tick wake_at)
{
    struct octo_sched_task *x = &s->tasks[t];
    uint32_t mid = 0;
    int rc = octo_registry_model_lookup(&s->reg, x->model, &mid);
    OCTO_ASSERT(rc == 0); /* full providers of the model exist */
    x->park_model = mid;
    x->state = T_PARKED;
    fifo_push(s, &s->parked_head[mid], &s->parked_tail[mid], t);
    heap_put(&s->wake, t, wake_at);
    s->stats.parked++;
}

static void unpark(struct octo_sched *s, uint32_t t)
{
    uint32_t mid = s->tasks[t].park_model;
    fifo_unlink(s, &s->parked_head[mid], &s->parked_tail[mid], t);
    heap_remove(&s->wake, t);
}

/* Sends up to n of the oldest tasks parked on the models provider `slot` serves back to
 * routing (it has room now). */
static void wake_parked(struct octo_sched *s, uint32_t slot, uint32_t n)
{
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, slot);
    for (size_t k = 0; e != NULL && k < e->models_count && n > 0; k++) {
        uint32_t mid = e->models[k].model_id;
        while (n > 0 && s->parked_head[mid] != NIL) {
            uint32_t t = s->parked_head[mid];
            unpark(s, t);
            s->tasks[t].state = T_READY;
            fifo_push(s, &s->ready_head, &s->ready_tail, t);
            n--;
        }
    }
}

/* Free slots of the provider at registry index i (0 when it is gone). */
static uint32_t free_slots(const struct octo_sched *s, uint32_t i)
{
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, i);
    if (e == NULL || s->provs[i].incarnation != e->incarnation)
        return 0;
    return s->provs[i].in_flight < e->max_concurrency ? e->max_concurrency - s->provs[i].in_flight
                                                      : 0;
}

/* Applies an outcome to the running attempt of record t. */
static void attempt_end(struct octo_sched *s, uint32_t t, enum octo_health_outcome outcome,
                        uint64_t latency_us, uint32_t tokens_in, uint32_t tokens_out, octo_tick now)
{
    struct octo_sched_task *x = &s->tasks[t];
    OCTO_ASSERT(x->state == T_RUNNING);
    heap_remove(&s->wake, t);
    provider_release(s, x);
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, x->provider);
    if (e != NULL && e->incarnation == x->incarnation) {
        uint64_t tokens = (uint64_t)tokens_in + tokens_out;
        OCTO_IGNORE(octo_health_record(&s->provs[x->provider].health, now, outcome, latency_us,
                                       (uint32_t)(tokens > UINT32_MAX ? UINT32_MAX : tokens)));
        hot_update(s, x->provider);
    }
    /* 1: the periodic octo_failover_expire already expired it (deadline passed) */
    int rc = octo_failover_result(&s->fo, x->id, x->attempt, x->incarnation, outcome, now);
    OCTO_ASSERT(rc == 0 || rc == 1);
    struct octo_failover_view v;
    rc = octo_failover_get(&s->fo, x->id, &v);
    OCTO_ASSERT(rc == 0);
    if (v.state == OCTO_FAILOVER_SUCCEEDED) {
        x->charge = octo_failover_take_charge(&s->fo, x->id);
        OCTO_ASSERT(x->charge);
        x->amount = octo_sched_charge_amount(x->price_in, tokens_in, x->price_out, tokens_out);
        task_finish(s, t);
    } else if (v.state == OCTO_FAILOVER_PENDING) {
        s->stats.retries++;
        x->state = T_READY;
        fifo_push(s, &s->ready_head, &s->ready_tail, t);
    } else {
        task_finish(s, t);
    }
    wake_parked(s, x->provider, OCTO_SCHED_WAKE_PER_COMPLETION);
}

int octo_sched_result(struct octo_sched *s, const struct octo_sched_report *r, octo_tick now)
{
    if ((unsigned)r->outcome >= OCTO_HEALTH_OUTCOME_COUNT)
        return OCTO_EINVAL;
    struct octo_queue_task qt;
    if (octo_queue_lookup(&s->q, r->task, &qt) < 0) {
        s->stats.late_results++;
        return 1;
    }
    uint32_t t = (uint32_t)qt.value;
    struct octo_sched_task *x = &s->tasks[t];
    if (x->state != T_RUNNING || x->attempt != r->attempt || x->dispatch != r->dispatch) {
        s->stats.late_results++;
        return 1;
    }
    attempt_end(s, t, r->outcome, r->latency_us, r->tokens_in, r->tokens_out, now);
    return 0;
}

int octo_sched_cancel(struct octo_sched *s, const uint8_t id[OCTO_SCHED_ID_LEN], octo_tick now)
{
    struct octo_queue_task qt;
    if (octo_queue_lookup(&s->q, id, &qt) < 0)
        return OCTO_ENOTFOUND;
    uint32_t t = (uint32_t)qt.value;
    struct octo_sched_task *x = &s->tasks[t];
    switch (x->state) {
    case T_RUNNING:
        s->stats.cancelled++;
        attempt_end(s, t, OCTO_HEALTH_CANCELLED, 0, 0, 0, now);
        return 0;
    case T_QUEUED:
    case T_READY:
    case T_WAITING:
    case T_PARKED:
        if (x->state == T_READY)
            fifo_unlink(s, &s->ready_head, &s->ready_tail, t);
        if (x->state == T_PARKED)
            unpark(s, t);
        if (x->state == T_QUEUED) { /* the queue forgets it; the record is finished below */
            struct octo_queue_task out;
            int rc = octo_queue_cancel(&s->q, id, &out);
            OCTO_ASSERT(rc == 0);
        }
        /* ETIMEDOUT: the deadline passed, it expires instead; ESTATE: the periodic
         * octo_failover_expire expired it already */
        int rc = octo_failover_cancel(&s->fo, id, now);
        OCTO_ASSERT(rc == 0 || rc == OCTO_ETIMEDOUT || rc == OCTO_ESTATE);
        if (rc == 0)
            s->stats.cancelled++;
        task_finish(s, t);
        return 0;
    default:
        return OCTO_ENOTFOUND;
    }
}

void octo_sched_probe_result(struct octo_sched *s, uint32_t provider, uint32_t incarnation, bool ok,
                             uint64_t latency_us, octo_tick now)
{
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, provider);
    if (e == NULL || e->incarnation != incarnation)
        return;
    struct octo_sched_provider *p = prov_get(s, provider, now);
    OCTO_ASSERT(p != NULL);
    OCTO_IGNORE(octo_health_probe_result(&p->health, now, ok, latency_us));
    hot_update(s, provider);
    heap_put(&s->probes, provider, octo_health_next_probe(&p->health, now));
    if (ok && free_slots(s, provider) > 0)
        wake_parked(s, provider, OCTO_SCHED_WAKE_PER_COMPLETION);
}

/* ---- routing ---- */

static void candidate_fill(struct octo_sched *s, const struct octo_sched_task *x,
                           const struct octo_registry_candidate *rc, bool ignore_cooldown,
                           octo_tick now, struct octo_route_candidate *c)
{
    const struct octo_registry_entry *e = rc->entry;
    struct octo_sched_provider *p = prov_get(s, rc->index, now);
    OCTO_ASSERT(p != NULL);
    c->provider = &e->provider;
    c->price_in = e->price_in_per_mtok;
    c->price_out = e->price_out_per_mtok;
    c->isolation = (enum octo_isolation)e->isolation;
    memcpy(c->country, e->country, 3);
    memcpy(c->continent, e->continent, 3);
    c->quantization = rc->model->quant;
    c->retains_data = e->isolation != OCTO_ISOLATION_TEE;
    c->collects_data = e->isolation != OCTO_ISOLATION_TEE;
    c->owner = x != NULL && x->has_owner && octo_peerid_equal(&x->owner, &e->provider);
    c->supports_params = true;
    const struct octo_sched_hot *hot = &s->hot[rc->index];
    c->reputation_bp = hot->reputation_bp;
    c->latency_us = hot->latency_us;
    c->throughput_tps = hot->throughput_tps;
    c->in_flight = p->in_flight;
    c->capacity = e->max_concurrency;
    c->available = ignore_cooldown || octo_health_available(&p->health, now);
}

/* The registry indexes a task must not be offered again: those of its attempts whose
 * provider still holds the slot (the failover manager records providers by incarnation, so a
 * new provider that took a tried provider's slot is offered). */
struct tried {
    uint32_t slot[OCTO_FAILOVER_ATTEMPTS_MAX];
    uint32_t count;
};

static void tried_init(const struct octo_sched *s, const struct octo_sched_task *x,
                       struct tried *tr)
{
    struct octo_failover_view v;
    int rc = octo_failover_get(&s->fo, x->id, &v);
    OCTO_ASSERT(rc == 0 && v.tried_count <= OCTO_FAILOVER_ATTEMPTS_MAX);
    tr->count = 0;
    for (uint32_t k = 0; k < v.tried_count; k++) {
        const struct octo_registry_entry *e = octo_registry_at(&s->reg, x->tried_slot[k]);
        if (e != NULL && e->incarnation == v.tried[k])
            tr->slot[tr->count++] = x->tried_slot[k];
    }
}

static bool tried_before(const struct tried *tr, uint32_t slot)
{
    for (uint32_t k = 0; k < tr->count; k++) {
        if (tr->slot[k] == slot)
            return true;
    }
    return false;
}

/* Offers one posting to the stream (unless the task tried that provider); false to stop. */
static bool offer(struct octo_sched *s, struct octo_sched_task *x, struct octo_route_stream *st,
                  const struct tried *v, const struct octo_registry_candidate *rc,
                  bool ignore_cooldown, octo_tick now, size_t *n)
{
    if (tried_before(v, rc->index))
        return true;
    if (*n >= s->cand_cap)
        return false; /* the router's bound on candidates */
    struct octo_route_candidate c;
    candidate_fill(s, x, rc, ignore_cooldown, now, &c);
    s->cand_slots[*n] = rc->index;
    return octo_route_stream_offer(st, &c, (*n)++);
}

/* ---- ordering by something other than price (speed, quality, sort by latency/throughput) ----
 * The model's rows get their rank key from the providers' health alone (one compact read per
 * provider, no registry entry touched), go into a binary min-heap built in O(n), and are
 * popped in (key, row) order, so the router's ranked stream can stop after the best few: the
 * O(n) part is cheap, the expensive candidate views are built only for the few offered. */

/* The rank key of the provider at registry index `slot` as candidate_fill would give it. */
static uint64_t slot_rank_key(const struct octo_sched *s, const struct octo_sched_task *x,
                              uint32_t slot, struct octo_route_candidate *c)
{
    const struct octo_sched_hot *hot = &s->hot[slot];
    c->reputation_bp = hot->reputation_bp;
    c->latency_us = hot->latency_us;
    c->throughput_tps = hot->throughput_tps;
    return octo_route_rank_key(&s->policies[x->policy].p, (enum octo_route_strategy)x->strategy, c);
}

/* Offers the rows in rank-key order until the stream has enough. */
static void offer_ranked(struct octo_sched *s, struct octo_sched_task *x,
                         struct octo_route_stream *st, const struct tried *v,
                         const struct octo_rview_row *rows, size_t nrows, bool ignore_cooldown,
                         octo_tick now, size_t *n)
{
    struct octo_rview_ranked *h = s->ranked;
    size_t len = 0;
    struct octo_route_candidate key_view; /* only the fields a non-price rank key reads */
    memset(&key_view, 0, sizeof(key_view));
    for (size_t i = 0; i < nrows && len < s->cand_cap; i++) {
        if (tried_before(v, rows[i].slot))
            continue;
        h[len++] = (struct octo_rview_ranked){.key = slot_rank_key(s, x, rows[i].slot, &key_view),
                                              .row = (uint32_t)i};
    }
    octo_rview_rank_heapify(h, len);
    struct octo_rview_ranked top;
    while (octo_rview_rank_pop(h, &len, &top)) {
        const struct octo_rview_row *r = &rows[top.row];
        const struct octo_registry_entry *e = octo_registry_at(&s->reg, r->slot);
        OCTO_ASSERT(e != NULL && r->model_idx < e->models_count);
        struct octo_registry_candidate c = {
            .index = r->slot, .entry = e, .model = &e->models[r->model_idx]};
        if (!offer(s, x, st, v, &c, ignore_cooldown, now, n))
            break;
    }
}

/* Runs the router for x over the model's providers this task has not tried yet, in the order
 * the decision ranks by: price order from the view, or rank-key order from a heap, so the
 * router stops after the best few; in posting order (every provider offered) when the view
 * cannot be built (out of memory). Offer index k is registry index s->cand_slots[k]. */
static int route(struct octo_sched *s, struct octo_sched_task *x, bool ignore_cooldown,
                 octo_tick now, struct octo_route_result *res)
{
    struct tried v;
    tried_init(s, x, &v);
    int rc;
    const struct octo_route_policy *pol = &s->policies[x->policy].p;
    enum octo_route_strategy strategy = (enum octo_route_strategy)x->strategy;
    uint32_t mid;
    const struct octo_rview_row *rows = NULL;
    size_t nrows = 0;
    bool known = octo_registry_model_lookup(&s->reg, x->model, &mid) == 0;
    bool sorted = known && octo_rview_rows(&s->rv, &s->reg, mid, &rows, &nrows) == 0;
    bool by_price = octo_route_ranks_by_price(pol, strategy);
    struct octo_route_stream st;
    if (sorted && !by_price)
        rc = octo_route_stream_begin_ranked(&st, pol, strategy);
    else
        rc = octo_route_stream_begin(&st, pol, strategy, sorted);
    size_t n = 0;
    if (rc == 0 && sorted && !by_price) {
        offer_ranked(s, x, &st, &v, rows, nrows, ignore_cooldown, now, &n);
    } else if (rc == 0 && sorted) {
        for (size_t i = 0; i < nrows; i++) {
            const struct octo_registry_entry *e = octo_registry_at(&s->reg, rows[i].slot);
            OCTO_ASSERT(e != NULL && rows[i].model_idx < e->models_count);
            struct octo_registry_candidate c = {
                .index = rows[i].slot, .entry = e, .model = &e->models[rows[i].model_idx]};
            if (!offer(s, x, &st, &v, &c, ignore_cooldown, now, &n))
                break;
        }
    } else if (rc == 0 && known) {
        struct octo_registry_iter it;
        struct octo_registry_candidate c;
        if (octo_registry_iter_model(&it, &s->reg, mid) == 0) {
            while (octo_registry_iter_next(&it, &c) &&
                   offer(s, x, &st, &v, &c, ignore_cooldown, now, &n)) {
            }
        }
    }
    return octo_route_stream_finish(&st, &s->rng, res);
}

int octo_sched_pick(struct octo_sched *s, const char *model, const struct octo_route_policy *pol,
                    enum octo_route_strategy strategy, const struct octo_peerid *exclude,
                    size_t n_exclude, const char *quant, const uint8_t *weights, octo_tick now,
                    uint32_t *slot, struct octo_peerid *id)
{
    uint32_t mid;
    struct octo_registry_iter it;
    struct octo_registry_candidate rc;
    struct octo_route_stream st;
    if (octo_registry_model_lookup(&s->reg, model, &mid) != 0 ||
        octo_registry_iter_model(&it, &s->reg, mid) != 0)
        return OCTO_ENOTFOUND;
    int err = octo_route_stream_begin(&st, pol, strategy, false);
    if (err != 0)
        return err;
    size_t n = 0;
    while (n < s->cand_cap && octo_registry_iter_next(&it, &rc)) {
        bool skip = strcmp(rc.model->quant, quant) != 0 ||
                    (weights != NULL && memcmp(rc.model->weights_hash, weights, 32) != 0);
        for (size_t k = 0; k < n_exclude && !skip; k++)
            skip = octo_peerid_equal(&exclude[k], &rc.entry->provider);
        if (skip)
            continue;
        struct octo_route_candidate c;
        candidate_fill(s, NULL, &rc, false, now, &c);
        s->cand_slots[n] = rc.index;
        if (!octo_route_stream_offer(&st, &c, n++))
            break;
    }
    struct octo_route_result res;
    err = octo_route_stream_finish(&st, &s->rng, &res);
    if (err != 0)
        return err;
    *slot = s->cand_slots[res.chosen];
    *id = octo_registry_at(&s->reg, *slot)->provider;
    return 0;
}

static void dispatch(struct octo_sched *s, uint32_t t, uint32_t slot,
                     const struct octo_failover_choice *ch, octo_tick now,
                     struct octo_sched_action *out)
{
    struct octo_sched_task *x = &s->tasks[t];
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, slot);
    struct octo_sched_provider *p = prov_get(s, slot, now);
    OCTO_ASSERT(e != NULL && p != NULL && ch->provider == e->incarnation);
    OCTO_ASSERT(p->in_flight < e->max_concurrency); /* the router checked capacity */
    OCTO_ASSERT(ch->attempt >= 1 && ch->attempt <= OCTO_FAILOVER_ATTEMPTS_MAX);
    p->in_flight++;
    x->provider = slot;
    x->incarnation = e->incarnation;
    x->attempt = ch->attempt;
    x->tried_slot[ch->attempt - 1] = slot;
    x->dispatch = ++s->dispatch_next;
    x->price_in = e->price_in_per_mtok;
    x->price_out = e->price_out_per_mtok;
    x->state = T_RUNNING;
    x->attempt_until =
        UINT64_MAX - now < s->cfg.attempt_timeout ? UINT64_MAX : now + s->cfg.attempt_timeout;
    heap_put(&s->wake, t, x->attempt_until < x->deadline ? x->attempt_until : x->deadline);
    memset(out, 0, sizeof(*out));
    out->kind = OCTO_SCHED_DISPATCH;
    memcpy(out->task, x->id, OCTO_SCHED_ID_LEN);
    out->attempt = ch->attempt;
    out->dispatch = x->dispatch;
    out->provider = slot;
    out->incarnation = e->incarnation;
    out->provider_id = e->provider;
    out->deadline = x->deadline;
    s->stats.dispatched++;
}

/* Routes record t (state READY or QUEUED-just-dequeued) and follows the failover manager.
 * Returns true with *out set when it produced a DISPATCH. When nothing is eligible because
 * providers are cooling down, the task waits for the earliest cooldown end (or expires if
 * that is past its deadline); when some eligible provider is only full, the task parks on
 * its model instead, so that a freed slot (which may come sooner) wakes it. */
static bool route_and_place(struct octo_sched *s, uint32_t t, octo_tick now,
                            struct octo_sched_action *out)
{
    struct octo_sched_task *x = &s->tasks[t];
    struct octo_route_result res;
    int rc = route(s, x, false, now, &res);
    x->explain = res.explain;
    bool full = res.explain.removed_capacity > 0;
    if (rc == OCTO_ENOTFOUND && res.explain.removed_unavailable > 0) {
        struct octo_route_result relaxed;
        int rc2 = route(s, x, true, now, &relaxed);
        full = full || relaxed.explain.removed_capacity > 0;
        if (rc2 == 0) {
            rc = 0;
            res = relaxed;
        }
    }
    struct octo_failover_candidate fc[1 + OCTO_ROUTE_FALLBACKS_MAX];
    uint32_t fc_slot[1 + OCTO_ROUTE_FALLBACKS_MAX];
    size_t nfc = 0;
    if (rc == 0) {
        size_t order[1 + OCTO_ROUTE_FALLBACKS_MAX];
        order[nfc++] = res.chosen;
        for (size_t i = 0; i < res.fallbacks_count; i++)
            order[nfc++] = res.fallbacks[i];
        octo_tick earliest = UINT64_MAX;
        for (size_t i = 0; i < nfc; i++) {
            uint32_t slot = s->cand_slots[order[i]];
            const struct octo_registry_entry *e = octo_registry_at(&s->reg, slot);
            OCTO_ASSERT(e != NULL);
            const struct octo_health *h = &s->provs[slot].health;
            octo_tick at = octo_health_available(h, now) ? 0 : octo_health_cooldown_until(h);
            fc[i] =
                (struct octo_failover_candidate){.provider = e->incarnation, .available_at = at};
            fc_slot[i] = slot;
            if (at < earliest)
                earliest = at;
        }
        if (earliest > now && full) { /* all cooling; a full one may free up sooner */
            park(s, t, earliest < x->deadline ? earliest : x->deadline);
            return false;
        }
    } else if (rc == OCTO_ENOTFOUND && full && now < x->deadline) {
        park(s, t, x->deadline);
        return false;
    } else {
        OCTO_ASSERT(rc == OCTO_ENOTFOUND || rc == OCTO_EINVAL);
    }
    struct octo_failover_choice ch;
    rc = octo_failover_next(&s->fo, x->id, now, fc, nfc, &ch);
    if (rc == 0) {
        OCTO_ASSERT(ch.candidate < nfc);
        dispatch(s, t, fc_slot[ch.candidate], &ch, now, out);
        return true;
    }
    if (rc == OCTO_EAGAIN) {
        x->state = T_WAITING;
        heap_put(&s->wake, t, ch.wait_until);
        s->stats.waits++;
        return false;
    }
    task_finish(s, t);
    return false;
}

/* ---- poll ---- */

static void emit_done(struct octo_sched *s, octo_tick now, struct octo_sched_action *out)
{
    uint32_t t = s->done_head;
    fifo_unlink(s, &s->done_head, &s->done_tail, t);
    struct octo_sched_task *x = &s->tasks[t];
    memset(out, 0, sizeof(*out));
    out->kind = OCTO_SCHED_DONE;
    memcpy(out->task, x->id, OCTO_SCHED_ID_LEN);
    out->attempt = x->attempt;
    out->provider = x->provider;
    out->incarnation = x->incarnation;
    const struct octo_registry_entry *e =
        x->provider != OCTO_FAILOVER_PROVIDER_NONE ? octo_registry_at(&s->reg, x->provider) : NULL;
    if (e != NULL && e->incarnation == x->incarnation)
        out->provider_id = e->provider;
    out->deadline = x->deadline;
    out->state = (enum octo_failover_state)x->done_state;
    out->reason = (enum octo_failover_reason)x->done_reason;
    out->charge = x->charge;
    out->amount = x->charge ? x->amount : 0;
    out->explain = x->explain;
    switch (out->state) {
    case OCTO_FAILOVER_SUCCEEDED:
        s->stats.succeeded++;
        s->stats.charged_amount += out->amount;
        break;
    case OCTO_FAILOVER_EXPIRED:
        s->stats.expired++;
        break;
    default:
        s->stats.failed++;
        break;
    }
    /* The failover record stays as the id's tombstone until its deadline (gc in poll). */
    int frc = octo_failover_forget(&s->fo, x->id);
    OCTO_ASSERT(frc == 0);
    struct octo_queue_task qt;
    int rc = octo_queue_lookup(&s->q, x->id, &qt);
    if (rc >= 0 && qt.value == t) /* QUEUED-cancelled and queue-expired ones are gone already */
        OCTO_IGNORE(octo_queue_done(&s->q, x->id, &qt));
    policy_unref(s, x->policy);
    x->state = T_FREE;
    x->next = s->task_free;
    s->task_free = t;
    (void)now;
}

/* A task the queue expired (never dispatched): the failover manager expires it too. */
static void queue_expired(struct octo_sched *s, const struct octo_queue_task *qt, octo_tick now)
{
    uint32_t t = (uint32_t)qt->value;
    struct octo_sched_task *x = &s->tasks[t];
    OCTO_ASSERT(x->state == T_QUEUED);
    struct octo_failover_choice ch;
    int rc = octo_failover_next(&s->fo, x->id, now, NULL, 0, &ch);
    OCTO_ASSERT(rc == OCTO_ETIMEDOUT);
    task_finish(s, t);
}

static bool wake_one(struct octo_sched *s, octo_tick now)
{
    if (heap_top_key(&s->wake) > now)
        return false;
    uint32_t t = s->wake.ids[0];
    struct octo_sched_task *x = &s->tasks[t];
    heap_remove(&s->wake, t);
    switch (x->state) {
    case T_RUNNING:
        if (now >= x->deadline && now < x->attempt_until) /* the task's time ran out, not the */
            attempt_end(s, t, OCTO_HEALTH_CALLER_TIMEOUT, 0, 0, 0, now); /* provider's */
        else /* no answer within attempt_timeout: the provider timed out */
            attempt_end(s, t, OCTO_HEALTH_PROVIDER_TIMEOUT, s->cfg.attempt_timeout / 1000, 0, 0,
                        now);
        break;
    case T_PARKED:
        unpark(s, t);
        OCTO_FALLTHROUGH;
    case T_WAITING:
        x->state = T_READY;
        fifo_push(s, &s->ready_head, &s->ready_tail, t);
        break;
    default:
        OCTO_ASSERT(x->state == T_RUNNING || x->state == T_PARKED || x->state == T_WAITING);
    }
    return true;
}

static bool probe_one(struct octo_sched *s, octo_tick now, struct octo_sched_action *out)
{
    while (heap_top_key(&s->probes) <= now) {
        uint32_t i = s->probes.ids[0];
        const struct octo_registry_entry *e = octo_registry_at(&s->reg, i);
        if (e == NULL) {
            heap_remove(&s->probes, i); /* expired or removed */
            continue;
        }
        struct octo_sched_provider *p = prov_get(s, i, now);
        OCTO_ASSERT(p != NULL);
        /* until the answer arrives, the next probe is a regular interval away */
        heap_put(&s->probes, i, now + (uint64_t)p->health.probe_interval_ms * OCTO_NS_PER_MS);
        memset(out, 0, sizeof(*out));
        out->kind = OCTO_SCHED_PROBE;
        out->provider = i;
        out->incarnation = e->incarnation;
        out->provider_id = e->provider;
        s->stats.probes++;
        return true;
    }
    return false;
}

int octo_sched_poll(struct octo_sched *s, octo_tick now, struct octo_sched_action *out)
{
    if (now >= s->gc_next) {
        (void)octo_failover_expire(&s->fo, now);
        s->gc_next = now + OCTO_SCHED_GC_INTERVAL;
    }
    /* a budget of steps (wake-ups, expiries, routing decisions) per call: a backlog is
     * worked off over several calls (next_wakeup then says now), never in one long call */
    for (unsigned steps = 0;; steps++) {
        if (s->done_head != NIL) {
            emit_done(s, now, out);
            return 1;
        }
        if (steps >= OCTO_SCHED_STEPS_PER_POLL)
            return 0;
        if (wake_one(s, now))
            continue;
        if (s->ready_head != NIL) {
            uint32_t t = s->ready_head;
            fifo_unlink(s, &s->ready_head, &s->ready_tail, t);
            if (route_and_place(s, t, now, out))
                return 1;
            continue;
        }
        struct octo_queue_task qt;
        if (octo_queue_expire(&s->q, now, &qt) == 0) {
            queue_expired(s, &qt, now);
            continue;
        }
        if (octo_queue_dequeue(&s->q, now, &qt) == 0) {
            uint32_t t = (uint32_t)qt.value;
            OCTO_ASSERT(s->tasks[t].state == T_QUEUED);
            s->tasks[t].state = T_READY;
            if (route_and_place(s, t, now, out))
                return 1;
            continue;
        }
        if (probe_one(s, now, out))
            return 1;
        return 0;
    }
}

octo_tick octo_sched_next_wakeup(const struct octo_sched *s)
{
    struct octo_queue_counts qc;
    octo_queue_counts(&s->q, &qc);
    if (s->done_head != NIL || s->ready_head != NIL || qc.queued > 0 || qc.expired > 0)
        return 0;
    octo_tick a = heap_top_key(&s->wake), b = heap_top_key(&s->probes);
    octo_tick w = a < b ? a : b;
    if (s->fo.stats.tombstones > 0 && s->gc_next < w) /* finished records to drop in time */
        w = s->gc_next;
    return w;
}

/* ---- accessors ---- */

const struct octo_registry *octo_sched_registry(const struct octo_sched *s)
{
    return &s->reg;
}

const struct octo_health *octo_sched_health(const struct octo_sched *s, uint32_t provider)
{
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, provider);
    if (e == NULL || s->provs[provider].incarnation != e->incarnation)
        return NULL;
    return &s->provs[provider].health;
}

uint32_t octo_sched_in_flight(const struct octo_sched *s, uint32_t provider)
{
    const struct octo_registry_entry *e = octo_registry_at(&s->reg, provider);
    if (e == NULL || s->provs[provider].incarnation != e->incarnation)
        return 0;
    return s->provs[provider].in_flight;
}

void octo_sched_stats(const struct octo_sched *s, struct octo_sched_stats *out)
{
    *out = s->stats;
}

/* ---- invariants ---- */

static bool heap_ok(const struct octo_sched_heap *h)
{
    for (uint32_t i = 0; i < h->len; i++) {
        uint32_t id = h->ids[i];
        if (h->pos[id] != i + 1)
            return false;
        if (i > 0 && heap_less(h, id, h->ids[(i - 1) / 2]))
            return false;
    }
    return true;
}

static uint32_t fifo_count(const struct octo_sched *s, uint32_t head, uint8_t state)
{
    uint32_t n = 0, prev = NIL;
    for (uint32_t t = head; t != NIL; t = s->tasks[t].next) {
        if (s->tasks[t].state != state || s->tasks[t].prev != prev || n > s->cfg.tasks_max)
            return UINT32_MAX;
        prev = t;
        n++;
    }
    return n;
}

static uint32_t parked_count(const struct octo_sched *s)
{
    uint32_t n = 0;
    for (uint32_t m = 0; m < s->cfg.models_max; m++) {
        uint32_t k = fifo_count(s, s->parked_head[m], T_PARKED);
        if (k == UINT32_MAX)
            return UINT32_MAX;
        for (uint32_t t = s->parked_head[m]; t != NIL; t = s->tasks[t].next) {
            if (s->tasks[t].park_model != m)
                return UINT32_MAX;
        }
        n += k;
    }
    return n;
}

bool octo_sched_invariants_ok(const struct octo_sched *s)
{
    if (!heap_ok(&s->wake) || !heap_ok(&s->probes) || !octo_queue_invariants_ok(&s->q))
        return false;
    uint32_t count[T_DONE + 1] = {0};
    for (uint32_t t = 0; t < s->cfg.tasks_max; t++) {
        const struct octo_sched_task *x = &s->tasks[t];
        if (x->state > T_DONE)
            return false;
        count[x->state]++;
        bool in_heap = s->wake.pos[t] != 0;
        bool want_heap = x->state == T_RUNNING || x->state == T_WAITING || x->state == T_PARKED;
        if (in_heap != want_heap)
            return false;
        if (x->state != T_FREE && x->state != T_DONE && x->state != T_QUEUED) {
            struct octo_queue_task qt;
            if (octo_queue_lookup(&s->q, x->id, &qt) < 0 || qt.value != t)
                return false;
        }
    }
    if (fifo_count(s, s->ready_head, T_READY) != count[T_READY] ||
        parked_count(s) != count[T_PARKED] || fifo_count(s, s->done_head, T_DONE) != count[T_DONE])
        return false;
    uint32_t free_n = 0;
    for (uint32_t t = s->task_free; t != NIL && free_n <= s->cfg.tasks_max; t = s->tasks[t].next)
        free_n++;
    if (free_n != count[T_FREE])
        return false;
    /* load: each live provider's in_flight equals its running attempts */
    uint32_t *running = octo_calloc(s->cfg.providers_max, sizeof(*running));
    OCTO_ASSERT(running != NULL);
    for (uint32_t t = 0; t < s->cfg.tasks_max; t++) {
        const struct octo_sched_task *x = &s->tasks[t];
        const struct octo_registry_entry *e =
            x->state == T_RUNNING ? octo_registry_at(&s->reg, x->provider) : NULL;
        if (e != NULL && e->incarnation == x->incarnation)
            running[x->provider]++;
    }
    bool ok = true;
    for (uint32_t i = 0; i < s->cfg.providers_max && ok; i++) {
        const struct octo_registry_entry *e = octo_registry_at(&s->reg, i);
        if (e != NULL && s->provs[i].incarnation == e->incarnation)
            ok = running[i] == s->provs[i].in_flight;
        else
            ok = running[i] == 0;
    }
    octo_free(running);
    return ok;
}
