/*
 * test_failover.c — the failover manager in virtual time: idempotent begin, retry order
 * following the router's ranking while skipping tried and cooling providers, attempts
 * exhausted, deadlines, waiting for the shortest cooldown versus expiring when it ends too
 * late, late results ignored, charge exactly once, expiry, forget (tombstones that keep the key
 * reserved until the deadline) and the index under churn,
 * and a scenario of 1,000 tasks over 50 simulated providers (real health checkers, 10 % of
 * attempts failing, seeded octo_rng) checking the end-to-end invariants.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/rng.h"
#include "intel/failover.h"
#include "intel/health.h"
#include "test.h"

#define S OCTO_NS_PER_S
#define MS OCTO_NS_PER_MS
#define T0 (UINT64_C(1000) * S)

typedef struct octo_failover_candidate cand_t;

static void make_key(uint8_t key[OCTO_FAILOVER_KEY_LEN], uint32_t n)
{
    memset(key, 0xA5, OCTO_FAILOVER_KEY_LEN);
    for (int i = 0; i < 4; i++)
        key[i] = (uint8_t)(n >> (8 * i));
}

static int open_table(struct octo_failover *f, size_t max_tasks)
{
    struct octo_failover_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_tasks = max_tasks;
    for (size_t i = 0; i < sizeof(cfg.hash_key); i++)
        cfg.hash_key[i] = (uint8_t)(i * 7 + 1);
    return octo_failover_init(f, &cfg);
}

static void test_init_limits(void)
{
    struct octo_failover f;
    struct octo_failover_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_tasks = OCTO_FAILOVER_TASKS_MAX + 1;
    CHECK_ERR(octo_failover_init(&f, &cfg), OCTO_ETOOBIG);
    octo_failover_deinit(&f); /* harmless after a failed init */

    octo_alloc_fail_after(2, 0); /* the index allocation fails */
    CHECK_ERR(open_table(&f, 16), OCTO_ENOMEM);
    octo_alloc_fail_after(0, 0);

    CHECK_OK(open_table(&f, 0));
    CHECK_EQ_INT(f.cap, OCTO_FAILOVER_TASKS_DEFAULT);
    CHECK(f.slots >= 2 * f.cap && (f.slots & (f.slots - 1)) == 0);
    octo_failover_deinit(&f);
    octo_failover_deinit(&f); /* twice is fine */

    CHECK_OK(open_table(&f, 1));
    CHECK_EQ_INT(f.slots, 2);
    octo_failover_deinit(&f);
}

static void test_begin_idempotent(void)
{
    struct octo_failover f;
    struct octo_failover_view v;
    uint8_t k1[16], k2[16], k3[16], k4[16], k5[16];
    make_key(k1, 1), make_key(k2, 2), make_key(k3, 3), make_key(k4, 4), make_key(k5, 5);
    CHECK_OK(open_table(&f, 4));

    CHECK_OK(octo_failover_begin(&f, k1, T0 + 30 * S, 0, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_PENDING);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_NONE);
    CHECK_EQ_INT(v.max_attempts, OCTO_FAILOVER_ATTEMPTS_DEFAULT);
    CHECK_EQ_INT(v.attempts, 0);
    CHECK_EQ_INT(v.provider, OCTO_FAILOVER_PROVIDER_NONE);
    CHECK_EQ_U64(v.deadline, T0 + 30 * S);

    /* start attempt 1, then the submission is retried: the existing record comes back */
    cand_t c[] = {{7, 0}};
    struct octo_failover_choice ch;
    CHECK_OK(octo_failover_next(&f, k1, T0, c, 1, &ch));
    CHECK_ERR(octo_failover_begin(&f, k1, T0 + 99 * S, 5, &v), OCTO_EEXIST);
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_RUNNING);
    CHECK_EQ_INT(v.attempts, 1);
    CHECK_EQ_INT(v.provider, 7);
    CHECK_EQ_U64(v.deadline, T0 + 30 * S); /* unchanged */
    CHECK_EQ_INT(v.max_attempts, 3);
    CHECK_ERR(octo_failover_begin(&f, k1, T0, 99, NULL), OCTO_EEXIST); /* even bad args */

    CHECK_ERR(octo_failover_begin(&f, k2, T0, OCTO_FAILOVER_ATTEMPTS_MAX + 1, &v), OCTO_EINVAL);
    CHECK_ERR(octo_failover_get(&f, k2, &v), OCTO_ENOTFOUND);
    CHECK_OK(octo_failover_begin(&f, k2, T0, OCTO_FAILOVER_ATTEMPTS_MAX, NULL));
    CHECK_OK(octo_failover_get(&f, k2, &v));
    CHECK_EQ_INT(v.max_attempts, OCTO_FAILOVER_ATTEMPTS_MAX);
    CHECK_OK(octo_failover_begin(&f, k3, T0, 1, NULL));
    CHECK_OK(octo_failover_begin(&f, k4, T0, 1, NULL));
    CHECK_ERR(octo_failover_begin(&f, k5, T0, 1, NULL), OCTO_ELIMIT); /* full */
    CHECK_ERR(octo_failover_begin(&f, k4, T0, 1, NULL), OCTO_EEXIST); /* still found when full */

    /* a finished, forgotten task keeps its record (a tombstone) until its deadline */
    CHECK_OK(octo_failover_result(&f, k1, 1, 7, OCTO_HEALTH_SUCCESS, T0 + S));
    CHECK_ERR(octo_failover_forget(&f, k1), OCTO_ESTATE); /* its charge is still pending */
    CHECK(octo_failover_take_charge(&f, k1));
    CHECK_OK(octo_failover_forget(&f, k1));
    CHECK_ERR(octo_failover_begin(&f, k5, T0, 1, NULL), OCTO_ELIMIT); /* still full */
    CHECK_ERR(octo_failover_begin(&f, k1, T0, 1, &v), OCTO_EEXIST);   /* retry: no rerun */
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_SUCCEEDED);
    CHECK(v.forgotten && v.charged);
    /* the deadline passes: expire frees the tombstone (and expires k2..k4, due at T0) */
    CHECK_EQ_INT(octo_failover_expire(&f, T0 + 30 * S - 1), 3);
    CHECK_OK(octo_failover_get(&f, k1, &v));
    CHECK_EQ_INT(octo_failover_expire(&f, T0 + 30 * S), 0);
    CHECK_ERR(octo_failover_get(&f, k1, &v), OCTO_ENOTFOUND);
    CHECK_OK(octo_failover_begin(&f, k5, T0, 1, NULL));

    struct octo_failover_stats st;
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.tasks, 4);
    CHECK_EQ_U64(st.tombstones, 0);
    CHECK_EQ_U64(st.dropped, 1);
    CHECK_EQ_U64(st.begun, 5);
    CHECK_EQ_U64(st.duplicates, 4);
    CHECK_EQ_U64(st.attempts, 1);
    CHECK_EQ_U64(st.succeeded, 1);
    octo_failover_deinit(&f);
}

static void test_retry_order(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    uint8_t k[16];
    make_key(k, 42);
    CHECK_OK(open_table(&f, 8));
    CHECK_OK(octo_failover_begin(&f, k, T0 + 60 * S, 5, NULL));

    cand_t c[] = {{10, 0}, {20, 0}, {30, 0}, {40, 0}};
    CHECK_OK(octo_failover_next(&f, k, T0, c, 4, &ch));
    CHECK_EQ_INT(ch.provider, 10);
    CHECK_EQ_INT(ch.candidate, 0);
    CHECK_EQ_INT(ch.attempt, 1);
    CHECK_ERR(octo_failover_next(&f, k, T0, c, 4, &ch), OCTO_EBUSY); /* attempt in flight */
    CHECK_OK(octo_failover_result(&f, k, 1, 10, OCTO_HEALTH_PROVIDER_ERROR, T0 + S));

    CHECK_OK(octo_failover_next(&f, k, T0 + S, c, 4, &ch));
    CHECK_EQ_INT(ch.provider, 20); /* 10 was tried */
    CHECK_EQ_INT(ch.candidate, 1);
    CHECK_EQ_INT(ch.attempt, 2);
    CHECK_OK(octo_failover_result(&f, k, 2, 20, OCTO_HEALTH_PROVIDER_TIMEOUT, T0 + 2 * S));

    /* the router re-ranked: tried providers are skipped wherever they rank now, and a
     * cooling provider is passed over for the next available one */
    cand_t c2[] = {{20, 0}, {10, 0}, {30, T0 + 10 * S}, {40, T0 + 2 * S}, {50, 0}};
    CHECK_OK(octo_failover_next(&f, k, T0 + 2 * S, c2, 5, &ch));
    CHECK_EQ_INT(ch.provider, 40); /* available_at == now counts as available */
    CHECK_EQ_INT(ch.candidate, 3);
    CHECK_EQ_INT(ch.attempt, 3);
    CHECK_OK(octo_failover_result(&f, k, 3, 40, OCTO_HEALTH_PROVIDER_ERROR, T0 + 3 * S));
    CHECK_OK(octo_failover_next(&f, k, T0 + 3 * S, c2, 5, &ch));
    CHECK_EQ_INT(ch.provider, 50);
    CHECK_OK(octo_failover_result(&f, k, 4, 50, OCTO_HEALTH_SUCCESS, T0 + 4 * S));

    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_SUCCEEDED);
    CHECK_EQ_INT(v.tried_count, 4);
    CHECK_EQ_INT(v.tried[0], 10);
    CHECK_EQ_INT(v.tried[1], 20);
    CHECK_EQ_INT(v.tried[2], 40);
    CHECK_EQ_INT(v.tried[3], 50);
    CHECK_EQ_INT(v.provider, 50);
    /* nothing runs after success */
    CHECK_ERR(octo_failover_next(&f, k, T0 + 4 * S, c2, 5, &ch), OCTO_ESTATE);

    /* bad arguments */
    uint8_t other[16];
    make_key(other, 43);
    CHECK_ERR(octo_failover_next(&f, other, T0, c, 4, &ch), OCTO_ENOTFOUND);
    CHECK_ERR(octo_failover_next(&f, k, T0, c, OCTO_FAILOVER_CANDIDATES_MAX + 1, &ch),
              OCTO_ETOOBIG);
    octo_failover_deinit(&f);
}

static void test_attempts_exhausted(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    uint8_t k[16];
    make_key(k, 1);
    CHECK_OK(open_table(&f, 8));
    CHECK_OK(octo_failover_begin(&f, k, T0 + 60 * S, 2, NULL));
    cand_t c[] = {{1, 0}, {2, 0}, {3, 0}};
    CHECK_OK(octo_failover_next(&f, k, T0, c, 3, &ch));
    CHECK_OK(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_PROVIDER_ERROR, T0));
    CHECK_OK(octo_failover_next(&f, k, T0, c, 3, &ch));
    CHECK_OK(octo_failover_result(&f, k, 2, 2, OCTO_HEALTH_PROVIDER_ERROR, T0));
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_FAILED);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_ATTEMPTS);
    CHECK_STR(octo_failover_reason_name(v.reason), "attempts exhausted");
    CHECK_ERR(octo_failover_next(&f, k, T0, c, 3, &ch), OCTO_ELIMIT);
    CHECK_ERR(octo_failover_next(&f, k, T0, c, 3, &ch), OCTO_ELIMIT); /* stays failed */
    CHECK(!octo_failover_take_charge(&f, k));

    /* max_attempts 0 means the default of 3 */
    uint8_t k2[16];
    make_key(k2, 2);
    CHECK_OK(octo_failover_begin(&f, k2, T0 + 60 * S, 0, NULL));
    for (uint32_t a = 1; a <= 3; a++) {
        CHECK_OK(octo_failover_next(&f, k2, T0, c, 3, &ch));
        CHECK_EQ_INT(ch.attempt, a);
        CHECK_EQ_INT(ch.provider, a);
        CHECK_OK(octo_failover_result(&f, k2, a, a, OCTO_HEALTH_PROVIDER_TIMEOUT, T0));
    }
    CHECK_ERR(octo_failover_next(&f, k2, T0, c, 3, &ch), OCTO_ELIMIT);
    struct octo_failover_stats st;
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.failed, 2);
    CHECK_EQ_U64(st.attempts, 5);
    octo_failover_deinit(&f);
}

static void test_no_candidate(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    uint8_t k[16], k2[16];
    make_key(k, 1), make_key(k2, 2);
    CHECK_OK(open_table(&f, 8));
    CHECK_OK(octo_failover_begin(&f, k, T0 + 60 * S, 3, NULL));
    cand_t c[] = {{5, 0}, {5, 0}}; /* a duplicate entry is the same provider */
    CHECK_OK(octo_failover_next(&f, k, T0, c, 2, &ch));
    CHECK_OK(octo_failover_result(&f, k, 1, 5, OCTO_HEALTH_PROVIDER_ERROR, T0));
    CHECK_ERR(octo_failover_next(&f, k, T0, c, 2, &ch), OCTO_ENOTFOUND);
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_FAILED);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_NO_CANDIDATE);
    CHECK_STR(octo_failover_reason_name(v.reason), "no candidate left");
    CHECK_ERR(octo_failover_next(&f, k, T0, c, 2, &ch), OCTO_ENOTFOUND);

    CHECK_OK(octo_failover_begin(&f, k2, T0 + 60 * S, 3, NULL));
    CHECK_ERR(octo_failover_next(&f, k2, T0, NULL, 0, &ch), OCTO_ENOTFOUND);
    CHECK_OK(octo_failover_get(&f, k2, &v));
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_NO_CANDIDATE);
    octo_failover_deinit(&f);
}

static void test_deadline(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    uint8_t k[16], k2[16];
    make_key(k, 1), make_key(k2, 2);
    CHECK_OK(open_table(&f, 8));
    cand_t c[] = {{1, 0}, {2, 0}};

    /* next at the deadline expires the task */
    CHECK_OK(octo_failover_begin(&f, k, T0 + 10 * S, 3, NULL));
    CHECK_OK(octo_failover_next(&f, k, T0 + 10 * S - 1, c, 2, &ch)); /* just before: runs */
    CHECK_OK(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_SUCCESS, T0 + 11 * S));
    CHECK_OK(octo_failover_get(&f, k, &v)); /* a success after the deadline still counts */
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_SUCCEEDED);

    CHECK_OK(octo_failover_begin(&f, k2, T0 + 10 * S, 3, NULL));
    CHECK_ERR(octo_failover_next(&f, k2, T0 + 10 * S, c, 2, &ch), OCTO_ETIMEDOUT);
    CHECK_OK(octo_failover_get(&f, k2, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_EXPIRED);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_DEADLINE);
    CHECK_EQ_INT(v.attempts, 0);
    CHECK_ERR(octo_failover_next(&f, k2, T0, c, 2, &ch), OCTO_ETIMEDOUT); /* terminal */

    /* a provider failure at or after the deadline expires the task at once */
    uint8_t k3[16];
    make_key(k3, 3);
    CHECK_OK(octo_failover_begin(&f, k3, T0 + 10 * S, 3, NULL));
    CHECK_OK(octo_failover_next(&f, k3, T0, c, 2, &ch));
    CHECK_OK(octo_failover_result(&f, k3, 1, 1, OCTO_HEALTH_PROVIDER_TIMEOUT, T0 + 10 * S));
    CHECK_OK(octo_failover_get(&f, k3, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_EXPIRED);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_DEADLINE);
    CHECK_ERR(octo_failover_next(&f, k3, T0, c, 2, &ch), OCTO_ETIMEDOUT);
    octo_failover_deinit(&f);
}

static void test_cooldown_wait(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    uint8_t k[16];
    make_key(k, 1);
    CHECK_OK(open_table(&f, 8));
    CHECK_OK(octo_failover_begin(&f, k, T0 + 30 * S, 3, NULL));

    /* 9 was tried; 1 and 2 are cooling down: wait for the earliest end (2's) */
    cand_t c[] = {{9, 0}, {1, T0 + 20 * S}, {2, T0 + 5 * S}, {3, T0 + 40 * S}};
    CHECK_OK(octo_failover_next(&f, k, T0, c, 1, &ch));
    CHECK_EQ_INT(ch.provider, 9);
    CHECK_OK(octo_failover_result(&f, k, 1, 9, OCTO_HEALTH_PROVIDER_ERROR, T0 + S));
    ch.wait_until = 0;
    CHECK_ERR(octo_failover_next(&f, k, T0 + S, c, 4, &ch), OCTO_EAGAIN);
    CHECK_EQ_U64(ch.wait_until, T0 + 5 * S);
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_PENDING); /* still waiting, nothing consumed */
    CHECK_EQ_INT(v.attempts, 1);
    CHECK_ERR(octo_failover_next(&f, k, T0 + 5 * S - 1, c, 4, &ch), OCTO_EAGAIN);
    CHECK_OK(octo_failover_next(&f, k, T0 + 5 * S, c, 4, &ch));
    CHECK_EQ_INT(ch.provider, 2);
    CHECK_EQ_INT(ch.candidate, 2);
    CHECK_EQ_INT(ch.attempt, 2);
    CHECK_OK(octo_failover_result(&f, k, 2, 2, OCTO_HEALTH_PROVIDER_ERROR, T0 + 6 * S));
    /* now only 1 (until T0+20) and 3 (until T0+40, after the deadline) are left: wait */
    CHECK_ERR(octo_failover_next(&f, k, T0 + 6 * S, c, 4, &ch), OCTO_EAGAIN);
    CHECK_EQ_U64(ch.wait_until, T0 + 20 * S);

    /* the cooldowns end after the deadline: the task expires instead of waiting */
    cand_t late[] = {{1, T0 + 31 * S}, {3, T0 + 40 * S}};
    CHECK_ERR(octo_failover_next(&f, k, T0 + 6 * S, late, 2, &ch), OCTO_ETIMEDOUT);
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_EXPIRED);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_DEADLINE);

    /* a cooldown ending exactly at the deadline is too late as well */
    uint8_t k2[16];
    make_key(k2, 2);
    CHECK_OK(octo_failover_begin(&f, k2, T0 + 30 * S, 3, NULL));
    cand_t edge[] = {{1, T0 + 30 * S}};
    CHECK_ERR(octo_failover_next(&f, k2, T0, edge, 1, &ch), OCTO_ETIMEDOUT);
    octo_failover_deinit(&f);
}

static void test_late_results(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    struct octo_failover_stats st;
    uint8_t k[16], unknown[16];
    make_key(k, 1), make_key(unknown, 2);
    CHECK_OK(open_table(&f, 8));
    CHECK_OK(octo_failover_begin(&f, k, T0 + 60 * S, 3, NULL));
    cand_t c[] = {{1, 0}, {2, 0}};
    CHECK_EQ_INT(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_SUCCESS, T0), 1); /* PENDING */
    CHECK_OK(octo_failover_next(&f, k, T0, c, 2, &ch));
    /* we give up on provider 1 (timeout) and move on to 2 */
    CHECK_OK(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_PROVIDER_TIMEOUT, T0 + S));
    CHECK_OK(octo_failover_next(&f, k, T0 + S, c, 2, &ch));
    CHECK_EQ_INT(ch.attempt, 2);
    /* provider 1 answers after all: ignored, attempt 2 keeps running */
    CHECK_EQ_INT(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_SUCCESS, T0 + 2 * S), 1);
    CHECK_EQ_INT(octo_failover_result(&f, k, 2, 1, OCTO_HEALTH_SUCCESS, T0 + 2 * S), 1);
    CHECK_EQ_INT(octo_failover_result(&f, k, 3, 2, OCTO_HEALTH_SUCCESS, T0 + 2 * S), 1);
    CHECK_EQ_INT(octo_failover_result(&f, k, 0, 2, OCTO_HEALTH_SUCCESS, T0 + 2 * S), 1);
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_RUNNING);
    CHECK(!octo_failover_take_charge(&f, k));
    CHECK_ERR(octo_failover_result(&f, k, 2, 2, OCTO_HEALTH_OUTCOME_COUNT, T0), OCTO_EINVAL);
    CHECK_EQ_INT(octo_failover_result(&f, k, 2, 2, OCTO_HEALTH_SUCCESS, T0 + 3 * S), 0);
    /* a duplicate of the winning answer and answers for unknown tasks are ignored too */
    CHECK_EQ_INT(octo_failover_result(&f, k, 2, 2, OCTO_HEALTH_SUCCESS, T0 + 3 * S), 1);
    CHECK_EQ_INT(octo_failover_result(&f, unknown, 1, 1, OCTO_HEALTH_SUCCESS, T0), 1);
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.late_results, 7);
    CHECK_EQ_U64(st.succeeded, 1);
    octo_failover_deinit(&f);
}

static void test_charge_once(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    uint8_t k[16];
    make_key(k, 1);
    CHECK_OK(open_table(&f, 8));
    CHECK(!octo_failover_take_charge(&f, k)); /* unknown */
    CHECK_OK(octo_failover_begin(&f, k, T0 + 60 * S, 3, NULL));
    cand_t c[] = {{1, 0}};
    CHECK(!octo_failover_take_charge(&f, k)); /* pending */
    CHECK_OK(octo_failover_next(&f, k, T0, c, 1, &ch));
    CHECK(!octo_failover_take_charge(&f, k)); /* running */
    CHECK_OK(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_SUCCESS, T0 + S));
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK(v.charge_pending && !v.charged);
    CHECK(octo_failover_take_charge(&f, k));
    CHECK(!octo_failover_take_charge(&f, k));
    CHECK(!octo_failover_take_charge(&f, k));
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK(!v.charge_pending && v.charged);
    /* a retried submission sees the charged success and runs nothing */
    CHECK_ERR(octo_failover_begin(&f, k, T0 + 60 * S, 3, &v), OCTO_EEXIST);
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_SUCCEEDED);
    CHECK(v.charged);
    CHECK_OK(octo_failover_forget(&f, k));
    CHECK(!octo_failover_take_charge(&f, k));
    /* retried again after forget, within the deadline: still no second run or charge */
    CHECK_ERR(octo_failover_begin(&f, k, T0 + 60 * S, 3, &v), OCTO_EEXIST);
    CHECK(v.charged && v.forgotten);
    CHECK(!octo_failover_take_charge(&f, k));
    struct octo_failover_stats st;
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.charges, 1);
    octo_failover_deinit(&f);
}

static void test_other_outcomes(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    CHECK_OK(open_table(&f, 8));
    cand_t c[] = {{1, 0}, {2, 0}};
    static const struct {
        enum octo_health_outcome outcome;
        enum octo_failover_state state;
        enum octo_failover_reason reason;
        int next_rc;
    } cases[] = {
        {OCTO_HEALTH_CALLER_ERROR, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_REJECTED,
         OCTO_ESTATE},
        {OCTO_HEALTH_CANCELLED, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_CANCELLED, OCTO_ESTATE},
        {OCTO_HEALTH_CALLER_TIMEOUT, OCTO_FAILOVER_EXPIRED, OCTO_FAILOVER_REASON_DEADLINE,
         OCTO_ETIMEDOUT},
    };
    for (uint32_t i = 0; i < OCTO_ARRAY_LEN(cases); i++) {
        uint8_t k[16];
        make_key(k, i);
        CHECK_OK(octo_failover_begin(&f, k, T0 + 60 * S, 3, NULL));
        CHECK_OK(octo_failover_next(&f, k, T0, c, 2, &ch));
        CHECK_OK(octo_failover_result(&f, k, 1, 1, cases[i].outcome, T0));
        CHECK_OK(octo_failover_get(&f, k, &v));
        CHECK_EQ_INT(v.state, cases[i].state);
        CHECK_EQ_INT(v.reason, cases[i].reason);
        CHECK_ERR(octo_failover_next(&f, k, T0, c, 2, &ch), cases[i].next_rc);
        CHECK(!octo_failover_take_charge(&f, k));
    }
    octo_failover_deinit(&f);
}

static void test_cancel_pending(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    CHECK_OK(open_table(&f, 8));
    cand_t c[] = {{1, 0}, {2, 0}};
    uint8_t k[16], u[16];
    make_key(k, 1);
    make_key(u, 99);
    CHECK_ERR(octo_failover_cancel(&f, u, T0), OCTO_ENOTFOUND);
    CHECK_OK(octo_failover_begin(&f, k, T0 + 60 * S, 3, NULL));
    CHECK_OK(octo_failover_next(&f, k, T0, c, 2, &ch));
    CHECK_ERR(octo_failover_cancel(&f, k, T0), OCTO_EBUSY); /* running: use result() */
    CHECK_OK(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_PROVIDER_ERROR, T0));
    CHECK_OK(octo_failover_cancel(&f, k, T0)); /* between attempts */
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_FAILED);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_CANCELLED);
    CHECK_ERR(octo_failover_cancel(&f, k, T0), OCTO_ESTATE);
    CHECK_ERR(octo_failover_next(&f, k, T0, c, 2, &ch), OCTO_ESTATE);
    CHECK(!octo_failover_take_charge(&f, k));
    make_key(k, 2); /* past its deadline it expires instead */
    CHECK_OK(octo_failover_begin(&f, k, T0 + S, 3, NULL));
    CHECK_ERR(octo_failover_cancel(&f, k, T0 + S), OCTO_ETIMEDOUT);
    CHECK_OK(octo_failover_get(&f, k, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_EXPIRED);
    octo_failover_deinit(&f);
}

static void test_expire_and_forget(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    uint8_t a[16], b[16], c3[16], d[16];
    make_key(a, 1), make_key(b, 2), make_key(c3, 3), make_key(d, 4);
    CHECK_OK(open_table(&f, 8));
    cand_t c[] = {{1, 0}};
    CHECK_OK(octo_failover_begin(&f, a, T0 + 5 * S, 3, NULL));  /* pending, due */
    CHECK_OK(octo_failover_begin(&f, b, T0 + 5 * S, 3, NULL));  /* running, due */
    CHECK_OK(octo_failover_begin(&f, c3, T0 + 5 * S, 3, NULL)); /* succeeded: untouched */
    CHECK_OK(octo_failover_begin(&f, d, T0 + 50 * S, 3, NULL)); /* not due */
    CHECK_OK(octo_failover_next(&f, b, T0, c, 1, &ch));
    CHECK_OK(octo_failover_next(&f, c3, T0, c, 1, &ch));
    CHECK_OK(octo_failover_result(&f, c3, 1, 1, OCTO_HEALTH_SUCCESS, T0));

    CHECK_ERR(octo_failover_forget(&f, a), OCTO_ESTATE); /* pending */
    CHECK_ERR(octo_failover_forget(&f, b), OCTO_ESTATE); /* running */
    CHECK_EQ_INT(octo_failover_expire(&f, T0 + 5 * S - 1), 0);
    CHECK_EQ_INT(octo_failover_expire(&f, T0 + 5 * S), 2);
    CHECK_EQ_INT(octo_failover_expire(&f, T0 + 5 * S), 0); /* only once */
    CHECK_OK(octo_failover_get(&f, a, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_EXPIRED);
    CHECK_OK(octo_failover_get(&f, b, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_EXPIRED);
    CHECK_EQ_INT(v.reason, OCTO_FAILOVER_REASON_DEADLINE);
    CHECK_OK(octo_failover_get(&f, c3, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_SUCCEEDED);
    CHECK_OK(octo_failover_get(&f, d, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_PENDING);
    /* the expired attempt's answer is late now */
    CHECK_EQ_INT(octo_failover_result(&f, b, 1, 1, OCTO_HEALTH_SUCCESS, T0 + 6 * S), 1);
    CHECK(!octo_failover_take_charge(&f, b));

    CHECK_OK(octo_failover_forget(&f, a));
    CHECK_OK(octo_failover_forget(&f, b));
    CHECK(octo_failover_take_charge(&f, c3)); /* succeeded: its charge goes first */
    CHECK_OK(octo_failover_forget(&f, c3));
    CHECK_OK(octo_failover_forget(&f, a)); /* again: already a tombstone */
    CHECK_OK(octo_failover_get(&f, a, &v));
    CHECK(v.forgotten);
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_EXPIRED);
    CHECK_ERR(octo_failover_begin(&f, a, T0 + 90 * S, 2, &v), OCTO_EEXIST);
    CHECK_ERR(octo_failover_next(&f, a, T0 + 6 * S, c, 1, &ch), OCTO_ETIMEDOUT);
    CHECK_ERR(octo_failover_next(&f, c3, T0 + 6 * S, c, 1, &ch), OCTO_ESTATE);
    struct octo_failover_stats st;
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.tombstones, 3);
    /* the tombstones' deadline (T0 + 5 s) has passed: the next sweep frees them, not d */
    CHECK_EQ_INT(octo_failover_expire(&f, T0 + 6 * S), 0);
    CHECK_ERR(octo_failover_forget(&f, a), OCTO_ENOTFOUND);
    CHECK_ERR(octo_failover_get(&f, a, &v), OCTO_ENOTFOUND);
    CHECK_ERR(octo_failover_get(&f, b, &v), OCTO_ENOTFOUND);
    CHECK_ERR(octo_failover_get(&f, c3, &v), OCTO_ENOTFOUND);
    CHECK_OK(octo_failover_get(&f, d, &v));
    CHECK(!v.forgotten);
    /* a dropped key starts afresh */
    CHECK_OK(octo_failover_begin(&f, a, T0 + 90 * S, 2, &v));
    CHECK_EQ_INT(v.state, OCTO_FAILOVER_PENDING);
    CHECK_EQ_INT(v.attempts, 0);
    CHECK(!v.forgotten);
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.tasks, 2);
    CHECK_EQ_U64(st.tombstones, 0);
    CHECK_EQ_U64(st.dropped, 3);
    CHECK_EQ_U64(st.expired, 2);
    octo_failover_deinit(&f);
}

/* Random begin/finish/forget/expire churn on a small table (many collisions, wrap-around)
 * against a reference model: a forgotten key stays reserved (EEXIST) until a sweep at or
 * after its deadline frees it, and backward-shift deletion keeps every live key findable. */
enum { CHURN_CAP = 64, CHURN_KEYS = 200 };
enum churn_state { C_FREE = 0, C_LIVE, C_TOMB };

static int churn_check_all(const struct octo_failover *f, const uint8_t *model)
{
    struct octo_failover_view v;
    for (uint32_t i = 0; i < CHURN_KEYS; i++) {
        uint8_t k[16];
        make_key(k, i);
        int rc = octo_failover_get(f, k, &v);
        if (rc != (model[i] == C_FREE ? OCTO_ENOTFOUND : 0))
            return -1;
        if (rc == 0 && v.forgotten != (model[i] == C_TOMB))
            return -1;
    }
    return 0;
}

static void test_index_churn(void)
{
    struct octo_failover f;
    struct octo_failover_choice ch;
    struct octo_rng rng;
    static uint8_t model[CHURN_KEYS];
    static octo_tick deadline[CHURN_KEYS];
    memset(model, 0, sizeof(model));
    octo_rng_init(&rng, 7);
    CHECK_OK(open_table(&f, CHURN_CAP));
    cand_t c[] = {{1, 0}};
    uint32_t count = 0, tombs = 0;
    uint64_t dropped = 0;
    octo_tick now = T0;
    for (int op = 0; op < 20000; op++) {
        now += MS;
        uint32_t n = (uint32_t)octo_rng_below(&rng, CHURN_KEYS);
        uint8_t k[16];
        make_key(k, n);
        if (model[n] == C_FREE) {
            octo_tick dl = now + (octo_tick)(1 + octo_rng_below(&rng, 200)) * MS;
            int rc = octo_failover_begin(&f, k, dl, 3, NULL);
            if (count == CHURN_CAP) {
                CHECK_ERR(rc, OCTO_ELIMIT);
                continue;
            }
            CHECK_OK(rc);
            CHECK_OK(octo_failover_next(&f, k, now, c, 1, &ch));
            CHECK_OK(octo_failover_result(&f, k, 1, 1, OCTO_HEALTH_SUCCESS, now));
            model[n] = C_LIVE;
            deadline[n] = dl;
            count++;
        } else if (model[n] == C_LIVE) {
            CHECK(octo_failover_take_charge(&f, k));
            CHECK_OK(octo_failover_forget(&f, k));
            model[n] = C_TOMB;
            tombs++;
        } else {
            CHECK_ERR(octo_failover_begin(&f, k, now + S, 3, NULL), OCTO_EEXIST);
        }
        if (op % 37 == 0) {
            CHECK_EQ_INT(octo_failover_expire(&f, now), 0); /* every live task succeeded */
            for (uint32_t i = 0; i < CHURN_KEYS; i++) {
                if (model[i] == C_TOMB && deadline[i] <= now) {
                    model[i] = C_FREE;
                    count--;
                    tombs--;
                    dropped++;
                }
            }
        }
        if (op % 997 == 0)
            CHECK_OK(churn_check_all(&f, model));
    }
    CHECK_OK(churn_check_all(&f, model));
    struct octo_failover_stats st;
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.tasks, count);
    CHECK_EQ_U64(st.tombstones, tombs);
    CHECK_EQ_U64(st.dropped, dropped);
    CHECK(dropped > 1000);
    octo_failover_deinit(&f);
}

static void test_names(void)
{
    CHECK_STR(octo_failover_state_name(OCTO_FAILOVER_PENDING), "pending");
    CHECK_STR(octo_failover_state_name(OCTO_FAILOVER_RUNNING), "running");
    CHECK_STR(octo_failover_state_name(OCTO_FAILOVER_SUCCEEDED), "succeeded");
    CHECK_STR(octo_failover_state_name(OCTO_FAILOVER_FAILED), "failed");
    CHECK_STR(octo_failover_state_name(OCTO_FAILOVER_EXPIRED), "expired");
    CHECK_STR(octo_failover_state_name((enum octo_failover_state)99), "unknown");
    CHECK_STR(octo_failover_reason_name(OCTO_FAILOVER_REASON_NONE), "none");
    CHECK_STR(octo_failover_reason_name(OCTO_FAILOVER_REASON_DEADLINE), "deadline");
    CHECK_STR(octo_failover_reason_name(OCTO_FAILOVER_REASON_REJECTED), "rejected");
    CHECK_STR(octo_failover_reason_name(OCTO_FAILOVER_REASON_CANCELLED), "cancelled");
    CHECK_STR(octo_failover_reason_name((enum octo_failover_reason)99), "unknown");
}

/* ---- scenario: 1,000 tasks over 50 providers in virtual time ---- */

enum { SC_TASKS = 1000, SC_PROVIDERS = 50, SC_CANDS = 9, SC_EVENTS = 4096 };
enum { EV_START = 1, EV_RESULT, EV_LATE };

struct sc_event {
    octo_tick at;
    uint32_t task, attempt, provider;
    uint8_t kind; /* 0 = free slot */
    uint8_t outcome;
};

static struct sc_event sc_ev[SC_EVENTS];
static struct octo_health sc_health[SC_PROVIDERS];
static uint32_t sc_charges[SC_TASKS], sc_runs[SC_TASKS];
static bool sc_succeeded[SC_TASKS], sc_done[SC_TASKS];

static bool sc_push(octo_tick at, uint8_t kind, uint32_t task, uint32_t attempt, uint32_t provider,
                    uint8_t outcome)
{
    for (size_t i = 0; i < SC_EVENTS; i++) {
        if (sc_ev[i].kind == 0) {
            sc_ev[i] = (struct sc_event){at, task, attempt, provider, kind, outcome};
            return true;
        }
    }
    return false;
}

/* Earliest event (ties: lowest slot), or SIZE_MAX when none is left. */
static size_t sc_pop(void)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < SC_EVENTS; i++)
        if (sc_ev[i].kind != 0 && (best == SIZE_MAX || sc_ev[i].at < sc_ev[best].at))
            best = i;
    return best;
}

/* The router's ranking for one attempt: a task-specific rotation of the providers (as the
 * load balancer spreads tasks), chosen + OCTO_ROUTE_FALLBACKS_MAX-like fallbacks, each with
 * its health checker's cooldown end. */
static void sc_rank(uint32_t task, cand_t *c)
{
    uint32_t start = (task * 37u) % SC_PROVIDERS;
    for (uint32_t i = 0; i < SC_CANDS; i++) {
        uint32_t p = (start + i * 7u) % SC_PROVIDERS;
        c[i].provider = p;
        c[i].available_at = octo_health_cooldown_until(&sc_health[p]);
    }
}

static void test_scenario(void)
{
    struct octo_failover f;
    struct octo_rng rng;
    struct octo_failover_choice ch;
    struct octo_failover_view v;
    cand_t cands[SC_CANDS];
    octo_rng_init(&rng, 20261129);
    memset(sc_ev, 0, sizeof(sc_ev));
    memset(sc_charges, 0, sizeof(sc_charges));
    memset(sc_runs, 0, sizeof(sc_runs));
    memset(sc_succeeded, 0, sizeof(sc_succeeded));
    memset(sc_done, 0, sizeof(sc_done));
    for (uint32_t p = 0; p < SC_PROVIDERS; p++)
        CHECK_OK(octo_health_init(&sc_health[p], T0, 0));
    CHECK_OK(open_table(&f, 0)); /* the default 65,536 tasks */

    /* one task arrives every 20 ms; each has 30 s and at most 3 attempts */
    uint32_t waits = 0, dup_begins = 0, attempts_failed = 0, cooldowns = 0;
    for (uint32_t t = 0; t < SC_TASKS; t++) {
        uint8_t k[16];
        make_key(k, t);
        octo_tick at = T0 + (octo_tick)t * 20 * MS;
        CHECK_OK(octo_failover_begin(&f, k, at + 30 * S, 3, NULL));
        CHECK(sc_push(at, EV_START, t, 0, 0, 0));
    }
    octo_tick now = T0;
    for (size_t e = sc_pop(); e != SIZE_MAX; e = sc_pop()) {
        struct sc_event ev = sc_ev[e];
        sc_ev[e].kind = 0;
        CHECK(ev.at >= now);
        now = ev.at;
        uint8_t k[16];
        make_key(k, ev.task);
        if (ev.kind == EV_START) {
            if (octo_rng_below(&rng, 20) == 0) { /* 5 %: the client re-submits */
                CHECK_ERR(octo_failover_begin(&f, k, now + 30 * S, 3, &v), OCTO_EEXIST);
                CHECK(v.state == OCTO_FAILOVER_PENDING);
                dup_begins++;
            }
            sc_rank(ev.task, cands);
            int rc = octo_failover_next(&f, k, now, cands, SC_CANDS, &ch);
            if (rc == 0) {
                CHECK(!sc_succeeded[ev.task]); /* no attempt after success */
                sc_runs[ev.task]++;
                CHECK_EQ_INT(ch.attempt, sc_runs[ev.task]);
                octo_tick took = (50 + octo_rng_below(&rng, 451)) * MS;
                uint8_t out = octo_rng_below(&rng, 100) < 10 ? OCTO_HEALTH_PROVIDER_ERROR
                                                             : OCTO_HEALTH_SUCCESS;
                CHECK(sc_push(now + took, EV_RESULT, ev.task, ch.attempt, ch.provider, out));
            } else if (rc == OCTO_EAGAIN) {
                CHECK(ch.wait_until > now);
                waits++;
                CHECK(sc_push(ch.wait_until, EV_START, ev.task, 0, 0, 0));
            } else {
                CHECK(rc == OCTO_ENOTFOUND || rc == OCTO_ETIMEDOUT || rc == OCTO_ELIMIT);
                sc_done[ev.task] = true;
            }
        } else if (ev.kind == EV_RESULT) {
            int started = octo_health_record(&sc_health[ev.provider], now,
                                             (enum octo_health_outcome)ev.outcome, 100000, 100);
            CHECK_OK(started);
            cooldowns += (uint32_t)started;
            CHECK_EQ_INT(octo_failover_result(&f, k, ev.attempt, ev.provider,
                                              (enum octo_health_outcome)ev.outcome, now),
                         0);
            CHECK_OK(octo_failover_get(&f, k, &v));
            if (ev.outcome == OCTO_HEALTH_SUCCESS) {
                CHECK_EQ_INT(v.state, OCTO_FAILOVER_SUCCEEDED);
                sc_succeeded[ev.task] = sc_done[ev.task] = true;
                sc_charges[ev.task] += octo_failover_take_charge(&f, k);
                sc_charges[ev.task] += octo_failover_take_charge(&f, k); /* a double call */
                CHECK_ERR(octo_failover_next(&f, k, now, cands, 0, &ch), OCTO_ESTATE);
            } else {
                attempts_failed++;
                /* a third of the failed providers answer anyway, 2 s later */
                if (octo_rng_below(&rng, 3) == 0)
                    CHECK(sc_push(now + 2 * S, EV_LATE, ev.task, ev.attempt, ev.provider,
                                  OCTO_HEALTH_SUCCESS));
                if (v.state == OCTO_FAILOVER_PENDING)
                    CHECK(sc_push(now, EV_START, ev.task, 0, 0, 0));
                else
                    sc_done[ev.task] = true; /* attempts exhausted or deadline */
            }
        } else {
            CHECK_EQ_INT(
                octo_failover_result(&f, k, ev.attempt, ev.provider, OCTO_HEALTH_SUCCESS, now), 1);
            sc_charges[ev.task] += octo_failover_take_charge(&f, k);
        }
    }

    /* every task ended SUCCEEDED (charged once) or with a reason; nothing is left to expire */
    CHECK_EQ_INT(octo_failover_expire(&f, now + 3600 * S), 0);
    uint32_t ok = 0, failed = 0, attempts = 0;
    for (uint32_t t = 0; t < SC_TASKS; t++) {
        uint8_t k[16];
        make_key(k, t);
        CHECK_OK(octo_failover_get(&f, k, &v));
        CHECK(sc_done[t]);
        CHECK_EQ_INT(v.attempts, sc_runs[t]);
        CHECK(v.attempts <= 3);
        attempts += v.attempts;
        if (v.state == OCTO_FAILOVER_SUCCEEDED) {
            CHECK(sc_succeeded[t]);
            CHECK_EQ_INT(sc_charges[t], 1);
            CHECK(v.charged);
            ok++;
        } else {
            CHECK(v.state == OCTO_FAILOVER_FAILED || v.state == OCTO_FAILOVER_EXPIRED);
            CHECK(v.reason != OCTO_FAILOVER_REASON_NONE);
            CHECK_EQ_INT(sc_charges[t], 0);
            failed++;
        }
        CHECK_OK(octo_failover_forget(&f, k));
        /* a retried submission after delivery still runs nothing */
        CHECK_ERR(octo_failover_begin(&f, k, now + 3600 * S, 3, NULL), OCTO_EEXIST);
        dup_begins++;
    }
    CHECK_EQ_INT(octo_failover_expire(&f, now + 3600 * S), 0); /* frees every tombstone */
    struct octo_failover_stats st;
    octo_failover_stats(&f, &st);
    CHECK_EQ_U64(st.dropped, SC_TASKS);
    CHECK_EQ_U64(st.tombstones, 0);
    printf("    scenario: %u tasks, %u providers: %u succeeded, %u failed (%u.%u %%); "
           "%u attempts (%u failed), %u cooldown waits, %u health cooldowns, "
           "%" PRIu64 " late results ignored, %u duplicate submissions, %" PRIu64 " charges\n",
           SC_TASKS, SC_PROVIDERS, ok, failed, failed * 100 / SC_TASKS,
           failed * 1000 / SC_TASKS % 10, attempts, attempts_failed, waits, cooldowns,
           st.late_results, dup_begins, st.charges);
    CHECK_EQ_INT(ok + failed, SC_TASKS);
    CHECK(failed * 100 < SC_TASKS); /* below 1 % */
    CHECK_EQ_U64(st.charges, ok);
    CHECK_EQ_U64(st.attempts, attempts);
    CHECK_EQ_U64(st.duplicates, dup_begins);
    CHECK(st.late_results > 0);
    CHECK_EQ_U64(st.tasks, 0);
    octo_failover_deinit(&f);
}

int main(void)
{
    OCTO_RUN(test_init_limits);
    OCTO_RUN(test_begin_idempotent);
    OCTO_RUN(test_retry_order);
    OCTO_RUN(test_attempts_exhausted);
    OCTO_RUN(test_no_candidate);
    OCTO_RUN(test_deadline);
    OCTO_RUN(test_cooldown_wait);
    OCTO_RUN(test_late_results);
    OCTO_RUN(test_charge_once);
    OCTO_RUN(test_other_outcomes);
    OCTO_RUN(test_cancel_pending);
    OCTO_RUN(test_expire_and_forget);
    OCTO_RUN(test_index_churn);
    OCTO_RUN(test_names);
    OCTO_RUN(test_scenario);
    return octo_test_finish();
}
