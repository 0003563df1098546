/*
 * test_queue.c — the bounded task queue: init limits and OOM, dispatch order (priority, then
 * deadline, then FIFO), backpressure on both capacities, duplicate ids in every state, cancel
 * and done of queued / in-flight / expired tasks, expiry timing and next_deadline, 10,000 and
 * 65,536 tasks in flight, no allocation after init, and a brute-force reference model driven by
 * many seeded random operation sequences with the internal invariants checked after every step.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "intel/queue.h"
#include "test.h"

/* A task id derived from an integer (distinct integers give distinct ids). */
static void make_id(uint8_t id[OCTO_QUEUE_ID_LEN], uint32_t k)
{
    memset(id, 0, OCTO_QUEUE_ID_LEN);
    id[0] = (uint8_t)k;
    id[5] = (uint8_t)(k >> 8);
    id[11] = (uint8_t)(k >> 16);
    id[15] = (uint8_t)(k >> 24);
}

static struct octo_queue_task task(uint32_t k, uint8_t priority, octo_tick deadline)
{
    struct octo_queue_task t;
    memset(&t, 0, sizeof(t));
    make_id(t.id, k);
    t.priority = priority;
    t.deadline = deadline;
    t.value = 1000 + k;
    return t;
}

static int enq(struct octo_queue *q, uint32_t k, uint8_t priority, octo_tick deadline,
               octo_tick now)
{
    struct octo_queue_task t = task(k, priority, deadline);
    return octo_queue_enqueue(q, &t, now);
}

static int cancel_k(struct octo_queue *q, uint32_t k)
{
    uint8_t id[OCTO_QUEUE_ID_LEN];
    make_id(id, k);
    return octo_queue_cancel(q, id, NULL);
}

static int done_k(struct octo_queue *q, uint32_t k)
{
    uint8_t id[OCTO_QUEUE_ID_LEN];
    make_id(id, k);
    return octo_queue_done(q, id, NULL);
}

static int lookup_k(struct octo_queue *q, uint32_t k)
{
    uint8_t id[OCTO_QUEUE_ID_LEN];
    make_id(id, k);
    return octo_queue_lookup(q, id, NULL);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(splitmix(s) % n);
}

static void test_init_limits(void)
{
    struct octo_queue q;
    struct octo_queue_config cfg = {.queued_max = OCTO_QUEUE_TASKS_MAX + 1, .in_flight_max = 1};
    CHECK_ERR(octo_queue_init(&q, &cfg), OCTO_ETOOBIG);
    cfg.queued_max = 1;
    cfg.in_flight_max = OCTO_QUEUE_TASKS_MAX + 1;
    CHECK_ERR(octo_queue_init(&q, &cfg), OCTO_ETOOBIG);
    octo_queue_deinit(&q);

    CHECK_OK(octo_queue_init(&q, NULL));
    CHECK_EQ_U64(q.queued_max, OCTO_QUEUE_QUEUED_DEFAULT);
    CHECK_EQ_U64(q.in_flight_max, OCTO_QUEUE_IN_FLIGHT_DEFAULT);
    CHECK_EQ_U64(octo_queue_next_deadline(&q), OCTO_QUEUE_NEVER);
    CHECK(octo_queue_invariants_ok(&q));
    octo_queue_deinit(&q);
    octo_queue_deinit(&q); /* idempotent */

    for (uint64_t n = 1; n <= 4; n++) {
        octo_alloc_fail_after(n, 1);
        int rc = octo_queue_init(&q, NULL);
        octo_alloc_fail_after(0, 0);
        CHECK_ERR(rc, OCTO_ENOMEM);
        octo_queue_deinit(&q);
    }
}

static void test_order(void)
{
    struct octo_queue q;
    struct octo_queue_config cfg = {.queued_max = 16, .in_flight_max = 16, .hash_key = 7};
    CHECK_OK(octo_queue_init(&q, &cfg));
    /* k: priority, deadline. Expected dispatch: 5 (p7), 3 (p5, dl 50), 1 (p5, dl 100, first),
     * 4 (p5, dl 100, second), 6 (p5, never), 2 (p0, dl 10), 7 (p0, never). */
    CHECK_OK(enq(&q, 1, 5, 100, 0));
    CHECK_OK(enq(&q, 2, 0, 10, 0));
    CHECK_OK(enq(&q, 3, 5, 50, 0));
    CHECK_OK(enq(&q, 4, 5, 100, 1));
    CHECK_OK(enq(&q, 5, 7, OCTO_QUEUE_NEVER, 2));
    CHECK_OK(enq(&q, 6, 5, OCTO_QUEUE_NEVER, 2));
    CHECK_OK(enq(&q, 7, 0, OCTO_QUEUE_NEVER, 3));
    CHECK_EQ_U64(octo_queue_next_deadline(&q), 10);
    const uint32_t want[] = {5, 3, 1, 4, 6, 2, 7};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(want); i++) {
        struct octo_queue_task t;
        CHECK_OK(octo_queue_dequeue(&q, 5, &t));
        uint8_t id[OCTO_QUEUE_ID_LEN];
        make_id(id, want[i]);
        CHECK_MEM(t.id, id, OCTO_QUEUE_ID_LEN);
        CHECK_EQ_U64(t.value, 1000 + want[i]);
        CHECK(octo_queue_invariants_ok(&q));
    }
    struct octo_queue_task t;
    CHECK_ERR(octo_queue_dequeue(&q, 5, &t), OCTO_ENOTFOUND);
    CHECK_EQ_U64(octo_queue_next_deadline(&q), OCTO_QUEUE_NEVER);
    CHECK_EQ_INT(lookup_k(&q, 4), OCTO_QUEUE_IN_FLIGHT);
    octo_queue_deinit(&q);
}

static void test_enqueue_errors_and_backpressure(void)
{
    struct octo_queue q;
    struct octo_queue_config cfg = {.queued_max = 3, .in_flight_max = 2};
    CHECK_OK(octo_queue_init(&q, &cfg));
    CHECK_ERR(enq(&q, 1, OCTO_QUEUE_PRIORITY_MAX + 1, 100, 0), OCTO_EINVAL);
    CHECK_ERR(enq(&q, 1, 1, 50, 50), OCTO_ETIMEDOUT);
    CHECK_ERR(enq(&q, 1, 1, 49, 50), OCTO_ETIMEDOUT);
    CHECK_OK(enq(&q, 1, 1, 51, 50));
    CHECK_OK(enq(&q, 2, 1, 100, 50));
    CHECK_OK(enq(&q, 3, 1, 100, 50));
    CHECK_ERR(enq(&q, 4, 1, 100, 50), OCTO_EBUSY);
    CHECK_ERR(enq(&q, 1, 1, 100, 50), OCTO_EEXIST); /* duplicate wins over full */
    struct octo_queue_counts c;
    octo_queue_counts(&q, &c);
    CHECK_EQ_U64(c.rejected_full_total, 1);
    CHECK_EQ_U64(c.queued, 3);

    /* Dequeue frees queued capacity; the in-flight limit is separate. */
    struct octo_queue_task t;
    CHECK_OK(octo_queue_dequeue(&q, 50, &t));
    CHECK_OK(enq(&q, 4, 1, 100, 50));
    CHECK_OK(octo_queue_dequeue(&q, 50, &t));
    CHECK_ERR(octo_queue_dequeue(&q, 50, &t), OCTO_EBUSY);
    CHECK_OK(enq(&q, 5, 1, 100, 50));
    CHECK_ERR(enq(&q, 6, 1, 100, 50), OCTO_EBUSY);
    /* Duplicates of an in-flight task are refused too. */
    CHECK_ERR(enq(&q, 1, 1, 100, 50), OCTO_EEXIST);
    CHECK_OK(done_k(&q, 1));
    CHECK_OK(octo_queue_dequeue(&q, 50, &t));
    octo_queue_counts(&q, &c);
    CHECK_EQ_U64(c.queued, 2);
    CHECK_EQ_U64(c.in_flight, 2);
    CHECK(octo_queue_invariants_ok(&q));
    /* A finished id can be reused. */
    CHECK_OK(enq(&q, 1, 1, 100, 50));
    octo_queue_deinit(&q);
}

static void test_cancel_done_states(void)
{
    struct octo_queue q;
    struct octo_queue_config cfg = {.queued_max = 8, .in_flight_max = 8};
    CHECK_OK(octo_queue_init(&q, &cfg));
    CHECK_OK(enq(&q, 1, 3, 100, 0)); /* will be in flight */
    CHECK_OK(enq(&q, 2, 2, 100, 0)); /* stays queued */
    CHECK_OK(enq(&q, 3, 1, 10, 0));  /* will expire */
    struct octo_queue_task t;
    CHECK_OK(octo_queue_dequeue(&q, 0, &t));
    CHECK_EQ_INT(t.id[0], 1);
    CHECK_ERR(octo_queue_expire(&q, 9, &t), OCTO_ENOTFOUND);
    CHECK_EQ_U64(octo_queue_next_deadline(&q), 10);
    CHECK_OK(octo_queue_dequeue(&q, 10, &t)); /* sweeps 3 into EXPIRED */
    CHECK_EQ_INT(t.id[0], 2);
    CHECK_OK(done_k(&q, 2));
    CHECK_OK(enq(&q, 2, 2, 100, 10));
    CHECK_EQ_INT(lookup_k(&q, 1), OCTO_QUEUE_IN_FLIGHT);
    CHECK_EQ_INT(lookup_k(&q, 2), OCTO_QUEUE_QUEUED);
    CHECK_EQ_INT(lookup_k(&q, 3), OCTO_QUEUE_EXPIRED);
    CHECK_ERR(lookup_k(&q, 4), OCTO_ENOTFOUND);
    CHECK_EQ_U64(octo_queue_next_deadline(&q), 0); /* an expired task waits */

    CHECK_ERR(enq(&q, 3, 1, 100, 10), OCTO_EEXIST);
    CHECK_ERR(cancel_k(&q, 1), OCTO_ESTATE);
    CHECK_EQ_INT(lookup_k(&q, 1), OCTO_QUEUE_IN_FLIGHT);
    CHECK_ERR(done_k(&q, 2), OCTO_ESTATE);
    CHECK_ERR(done_k(&q, 3), OCTO_ESTATE);
    CHECK_ERR(done_k(&q, 4), OCTO_ENOTFOUND);
    CHECK_ERR(cancel_k(&q, 4), OCTO_ENOTFOUND);

    uint8_t id[OCTO_QUEUE_ID_LEN];
    make_id(id, 2);
    CHECK_OK(octo_queue_cancel(&q, id, &t));
    CHECK_EQ_U64(t.value, 1002);
    CHECK_EQ_U64(t.enqueued, 10);
    CHECK_OK(cancel_k(&q, 3)); /* an expired, uncollected task */
    CHECK_ERR(octo_queue_expire(&q, 10, &t), OCTO_ENOTFOUND);
    make_id(id, 1);
    CHECK_OK(octo_queue_done(&q, id, &t));
    CHECK_EQ_U64(t.value, 1001);
    CHECK_ERR(done_k(&q, 1), OCTO_ENOTFOUND);
    struct octo_queue_counts c;
    octo_queue_counts(&q, &c);
    CHECK_EQ_U64(c.queued + c.in_flight + c.expired, 0);
    CHECK_EQ_U64(c.cancelled_total, 2);
    CHECK_EQ_U64(c.done_total, 2);
    CHECK_EQ_U64(c.expired_total, 1);
    CHECK_EQ_U64(c.dispatched_total, 2);
    CHECK_EQ_U64(c.enqueued_total, 4);
    CHECK(octo_queue_invariants_ok(&q));
    octo_queue_deinit(&q);
}

static void test_expiry_timing(void)
{
    struct octo_queue q;
    struct octo_queue_config cfg = {.queued_max = 8, .in_flight_max = 8};
    CHECK_OK(octo_queue_init(&q, &cfg));
    CHECK_OK(enq(&q, 1, 7, 300, 0));
    CHECK_OK(enq(&q, 2, 7, 100, 0));
    CHECK_OK(enq(&q, 3, 7, 100, 0));
    CHECK_OK(enq(&q, 4, 0, OCTO_QUEUE_NEVER, 0));
    CHECK_EQ_U64(octo_queue_next_deadline(&q), 100);
    struct octo_queue_task t;
    CHECK_ERR(octo_queue_expire(&q, 99, &t), OCTO_ENOTFOUND);
    CHECK_EQ_U64(octo_queue_next_deadline(&q), 100);
    /* Exactly at the deadline both are due, reported in enqueue order, never dispatched. */
    CHECK_OK(octo_queue_expire(&q, 100, &t));
    CHECK_EQ_INT(t.id[0], 2);
    CHECK_EQ_U64(octo_queue_next_deadline(&q), 0);
    CHECK_OK(octo_queue_dequeue(&q, 100, &t));
    CHECK_EQ_INT(t.id[0], 1);
    CHECK_OK(octo_queue_expire(&q, 100, &t));
    CHECK_EQ_INT(t.id[0], 3);
    CHECK_ERR(octo_queue_expire(&q, 100, &t), OCTO_ENOTFOUND);
    CHECK_EQ_U64(octo_queue_next_deadline(&q), OCTO_QUEUE_NEVER);
    /* A task without a deadline never expires; in-flight tasks never expire. */
    CHECK_ERR(octo_queue_expire(&q, UINT64_MAX, &t), OCTO_ENOTFOUND);
    CHECK_EQ_INT(lookup_k(&q, 1), OCTO_QUEUE_IN_FLIGHT);
    CHECK_OK(octo_queue_dequeue(&q, UINT64_MAX, &t));
    CHECK_EQ_INT(t.id[0], 4);
    /* Expired tasks hold queued capacity until pulled. */
    for (uint32_t k = 10; k < 18; k++)
        CHECK_OK(enq(&q, k, 1, 1000, 500));
    CHECK_ERR(enq(&q, 20, 1, 2000, 1000), OCTO_EBUSY);
    CHECK_ERR(octo_queue_dequeue(&q, 1000, &t), OCTO_ENOTFOUND); /* all swept */
    CHECK_ERR(enq(&q, 20, 1, 2000, 1000), OCTO_EBUSY);
    for (uint32_t k = 10; k < 18; k++) {
        CHECK_OK(octo_queue_expire(&q, 1000, &t));
        CHECK_EQ_INT(t.id[0], k);
        CHECK_EQ_U64(t.enqueued, 500);
    }
    CHECK_OK(enq(&q, 20, 1, 2000, 1000));
    CHECK(octo_queue_invariants_ok(&q));
    octo_queue_deinit(&q);
}

/* Fills a default queue with n tasks, dispatches all of them (n in flight), then finishes
 * them, checking that no allocation happens after init. */
static void in_flight_burst(uint32_t n)
{
    struct octo_queue q;
    CHECK_OK(octo_queue_init(&q, NULL));
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    for (uint32_t k = 0; k < n; k++)
        CHECK_OK(enq(&q, k, (uint8_t)(k % 8), 1000000 + k, 0));
    struct octo_queue_task t;
    uint8_t prio_prev = OCTO_QUEUE_PRIORITY_MAX;
    for (uint32_t k = 0; k < n; k++) {
        CHECK_OK(octo_queue_dequeue(&q, 1, &t));
        CHECK(t.priority <= prio_prev);
        prio_prev = t.priority;
    }
    struct octo_queue_counts c;
    octo_queue_counts(&q, &c);
    CHECK_EQ_U64(c.in_flight, n);
    CHECK_EQ_U64(c.queued, 0);
    CHECK(octo_queue_invariants_ok(&q));
    if (n == OCTO_QUEUE_IN_FLIGHT_DEFAULT) {
        CHECK_OK(enq(&q, n, 0, OCTO_QUEUE_NEVER, 1));
        CHECK_ERR(octo_queue_dequeue(&q, 1, &t), OCTO_EBUSY);
        CHECK_OK(cancel_k(&q, n));
    }
    for (uint32_t k = 0; k < n; k++)
        CHECK_OK(done_k(&q, k));
    octo_alloc_stats(&after);
    CHECK_EQ_U64(after.allocs_total, before.allocs_total);
    octo_queue_counts(&q, &c);
    CHECK_EQ_U64(c.in_flight, 0);
    CHECK(octo_queue_invariants_ok(&q));
    octo_queue_deinit(&q);
}

static void test_in_flight_10000(void)
{
    in_flight_burst(10000);
}

static void test_in_flight_65536(void)
{
    in_flight_burst(65536);
}

/* ---- brute-force reference model ---- */

#define MODEL_MAX 64

struct model_task {
    struct octo_queue_task t;
    uint64_t seq;
    int state; /* enum octo_queue_state; FREE = absent */
};

struct model {
    struct model_task tasks[MODEL_MAX]; /* indexed by id key k */
    uint32_t expired[MODEL_MAX];        /* FIFO of keys */
    uint32_t expired_len;
    uint32_t queued_max, in_flight_max;
    uint64_t seq_next;
};

static uint32_t model_count(const struct model *m, int state)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < MODEL_MAX; k++)
        n += m->tasks[k].state == state;
    return n;
}

static void model_sweep(struct model *m, octo_tick now)
{
    for (;;) {
        int best = -1;
        for (uint32_t k = 0; k < MODEL_MAX; k++) {
            const struct model_task *x = &m->tasks[k];
            if (x->state != OCTO_QUEUE_QUEUED || x->t.deadline == OCTO_QUEUE_NEVER ||
                x->t.deadline > now)
                continue;
            const struct model_task *b = best < 0 ? NULL : &m->tasks[best];
            if (b == NULL || x->t.deadline < b->t.deadline ||
                (x->t.deadline == b->t.deadline && x->seq < b->seq))
                best = (int)k;
        }
        if (best < 0)
            return;
        m->tasks[best].state = OCTO_QUEUE_EXPIRED;
        m->expired[m->expired_len++] = (uint32_t)best;
    }
}

static int model_best(const struct model *m)
{
    int best = -1;
    for (uint32_t k = 0; k < MODEL_MAX; k++) {
        const struct model_task *x = &m->tasks[k];
        if (x->state != OCTO_QUEUE_QUEUED)
            continue;
        const struct model_task *b = best < 0 ? NULL : &m->tasks[best];
        if (b == NULL || x->t.priority > b->t.priority ||
            (x->t.priority == b->t.priority &&
             (x->t.deadline < b->t.deadline ||
              (x->t.deadline == b->t.deadline && x->seq < b->seq))))
            best = (int)k;
    }
    return best;
}

static void model_expired_remove(struct model *m, uint32_t k)
{
    for (uint32_t i = 0; i < m->expired_len; i++) {
        if (m->expired[i] == k) {
            memmove(&m->expired[i], &m->expired[i + 1],
                    (m->expired_len - i - 1) * sizeof(m->expired[0]));
            m->expired_len--;
            return;
        }
    }
    OCTO_UNREACHABLE();
}

static octo_tick model_next_deadline(const struct model *m)
{
    if (m->expired_len > 0)
        return 0;
    octo_tick d = OCTO_QUEUE_NEVER;
    for (uint32_t k = 0; k < MODEL_MAX; k++)
        if (m->tasks[k].state == OCTO_QUEUE_QUEUED && m->tasks[k].t.deadline < d)
            d = m->tasks[k].t.deadline;
    return d;
}

static int random_sequence(uint64_t seed, uint32_t queued_max, uint32_t in_flight_max,
                           uint32_t steps)
{
    static struct model m;
    memset(&m, 0, sizeof(m));
    m.queued_max = queued_max;
    m.in_flight_max = in_flight_max;
    struct octo_queue q;
    struct octo_queue_config cfg = {
        .queued_max = queued_max, .in_flight_max = in_flight_max, .hash_key = seed};
    if (octo_queue_init(&q, &cfg) != 0)
        return 0;
    uint64_t rs = seed;
    octo_tick now = 1000;
    int ok = 1;
    for (uint32_t step = 0; step < steps && ok; step++) {
        uint32_t op = below(&rs, 100);
        uint32_t k = below(&rs, MODEL_MAX);
        struct model_task *x = &m.tasks[k];
        struct octo_queue_task got;
        int rc, want;
        if (op < 35) { /* enqueue */
            struct octo_queue_task t = task(k, (uint8_t)below(&rs, 9), 0);
            uint32_t d = below(&rs, 10);
            t.deadline = d == 0 ? OCTO_QUEUE_NEVER : now - 2 + below(&rs, 4) * below(&rs, 40);
            t.value = splitmix(&rs);
            uint32_t held = model_count(&m, OCTO_QUEUE_QUEUED) + m.expired_len;
            if (t.priority > OCTO_QUEUE_PRIORITY_MAX)
                want = OCTO_EINVAL;
            else if (x->state != OCTO_QUEUE_FREE)
                want = OCTO_EEXIST;
            else if (t.deadline != OCTO_QUEUE_NEVER && t.deadline <= now)
                want = OCTO_ETIMEDOUT;
            else if (held >= queued_max)
                want = OCTO_EBUSY;
            else
                want = 0;
            rc = octo_queue_enqueue(&q, &t, now);
            ok = rc == want;
            if (ok && rc == 0) {
                x->t = t;
                x->t.enqueued = now;
                x->seq = m.seq_next++;
                x->state = OCTO_QUEUE_QUEUED;
            }
        } else if (op < 55) { /* dequeue */
            model_sweep(&m, now);
            int best = model_best(&m);
            want = best < 0                                                 ? OCTO_ENOTFOUND
                   : model_count(&m, OCTO_QUEUE_IN_FLIGHT) >= in_flight_max ? OCTO_EBUSY
                                                                            : 0;
            rc = octo_queue_dequeue(&q, now, &got);
            ok = rc == want;
            if (ok && rc == 0) {
                ok = memcmp(&got, &m.tasks[best].t, sizeof(got)) == 0;
                m.tasks[best].state = OCTO_QUEUE_IN_FLIGHT;
            }
        } else if (op < 65) { /* cancel */
            want = x->state == OCTO_QUEUE_FREE        ? OCTO_ENOTFOUND
                   : x->state == OCTO_QUEUE_IN_FLIGHT ? OCTO_ESTATE
                                                      : 0;
            uint8_t id[OCTO_QUEUE_ID_LEN];
            make_id(id, k);
            rc = octo_queue_cancel(&q, id, &got);
            ok = rc == want;
            if (ok && rc == 0) {
                ok = memcmp(&got, &x->t, sizeof(got)) == 0;
                if (x->state == OCTO_QUEUE_EXPIRED)
                    model_expired_remove(&m, k);
                x->state = OCTO_QUEUE_FREE;
            }
        } else if (op < 80) { /* done */
            want = x->state == OCTO_QUEUE_FREE        ? OCTO_ENOTFOUND
                   : x->state != OCTO_QUEUE_IN_FLIGHT ? OCTO_ESTATE
                                                      : 0;
            rc = done_k(&q, k);
            ok = rc == want;
            if (ok && rc == 0)
                x->state = OCTO_QUEUE_FREE;
        } else if (op < 90) { /* expire */
            model_sweep(&m, now);
            want = m.expired_len == 0 ? OCTO_ENOTFOUND : 0;
            rc = octo_queue_expire(&q, now, &got);
            ok = rc == want;
            if (ok && rc == 0) {
                uint32_t e = m.expired[0];
                ok = memcmp(&got, &m.tasks[e].t, sizeof(got)) == 0;
                model_expired_remove(&m, e);
                m.tasks[e].state = OCTO_QUEUE_FREE;
            }
        } else if (op < 98) { /* time passes */
            now += below(&rs, 25);
        } else { /* lookup */
            want = x->state == OCTO_QUEUE_FREE ? OCTO_ENOTFOUND : x->state;
            ok = lookup_k(&q, k) == want;
        }
        if (!ok) {
            fprintf(stderr, "seed %" PRIu64 " step %u op %u key %u: mismatch\n", seed, step, op, k);
            break;
        }
        struct octo_queue_counts c;
        octo_queue_counts(&q, &c);
        ok = octo_queue_invariants_ok(&q) && c.queued == model_count(&m, OCTO_QUEUE_QUEUED) &&
             c.in_flight == model_count(&m, OCTO_QUEUE_IN_FLIGHT) && c.expired == m.expired_len &&
             c.expired == model_count(&m, OCTO_QUEUE_EXPIRED) &&
             octo_queue_next_deadline(&q) == model_next_deadline(&m);
        if (!ok)
            fprintf(stderr, "seed %" PRIu64 " step %u: invariants or counts\n", seed, step);
    }
    octo_queue_deinit(&q);
    return ok;
}

static void test_random_against_model(void)
{
    static const uint32_t caps[][2] = {{1, 1}, {4, 2}, {16, 8}, {24, 40}, {64, 64}};
    for (uint64_t seed = 1; seed <= 300; seed++) {
        const uint32_t *cap = caps[seed % OCTO_ARRAY_LEN(caps)];
        CHECK(random_sequence(seed, cap[0], cap[1], 2000));
    }
}

int main(void)
{
    OCTO_RUN(test_init_limits);
    OCTO_RUN(test_order);
    OCTO_RUN(test_enqueue_errors_and_backpressure);
    OCTO_RUN(test_cancel_done_states);
    OCTO_RUN(test_expiry_timing);
    OCTO_RUN(test_in_flight_10000);
    OCTO_RUN(test_in_flight_65536);
    OCTO_RUN(test_random_against_model);
    return octo_test_finish();
}
