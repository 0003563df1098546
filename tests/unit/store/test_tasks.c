/*
 * test_tasks.c — task records: insert/get round trip (with and without payloads), the
 * idempotent insert (OCTO_EEXIST with the stored state), allowed and forbidden transitions,
 * the charge taken exactly once (also by a second connection), the recovery listing in
 * (created_ms, id) order with a cursor, an owner's tasks newest first, purge, every input limit and
 * the schema's own checks — against SQLite and, with OCTO_TEST_PG set, PostgreSQL (testdb.h).
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/log.h"
#include "store/tasks.h"
#include "test.h"
#include "testdb.h"

/* Task n: id = 16 bytes ending in n, created at `created`. */
static void mk(struct octo_taskstore_record *r, uint32_t n, uint64_t created)
{
    memset(r, 0, sizeof(*r));
    memset(r->id, 0x7a, sizeof(r->id));
    r->id[12] = (uint8_t)(n >> 24);
    r->id[13] = (uint8_t)(n >> 16);
    r->id[14] = (uint8_t)(n >> 8);
    r->id[15] = (uint8_t)n;
    memcpy(r->owner, "owner-1", 7);
    r->owner_len = 7;
    snprintf(r->model, sizeof(r->model), "llama-3-8b");
    r->priority = 3;
    r->state = OCTO_TASKSTORE_QUEUED;
    r->deadline_ms = created + 60000;
    r->created_ms = created;
    r->updated_ms = created;
    static const uint8_t req[] = "{\"prompt\":\"hi\"}";
    r->request = req;
    r->request_len = sizeof(req) - 1;
}

static void test_roundtrip(void)
{
    struct octo_store *s = tdb_open_migrated("task-rt");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    struct octo_buf req;
    struct octo_buf res;
    octo_buf_init(&req, OCTO_TASKSTORE_REQUEST_MAX);
    octo_buf_init(&res, OCTO_TASKSTORE_REQUEST_MAX);
    struct octo_taskstore_record r;
    struct octo_taskstore_record out;
    mk(&r, 1, 1700000000000);
    snprintf(r.reason, sizeof(r.reason), "submitted: é");
    r.priority = 7;
    r.attempts = UINT32_MAX;
    memcpy(r.provider, "prov-9", 6);
    r.provider_len = 6;
    CHECK_ERR(octo_taskstore_get(&ts, r.id, &req, &res, &out), OCTO_ENOTFOUND);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    CHECK_OK(octo_taskstore_get(&ts, r.id, &req, &res, &out));
    CHECK_MEM(out.id, r.id, 16);
    CHECK_EQ_U64(out.owner_len, 7);
    CHECK_MEM(out.owner, "owner-1", 7);
    CHECK_STR(out.model, "llama-3-8b");
    CHECK_STR(out.reason, "submitted: é");
    CHECK_EQ_INT(out.priority, 7);
    CHECK_EQ_INT(out.state, OCTO_TASKSTORE_QUEUED);
    CHECK_EQ_U64(out.deadline_ms, 1700000060000);
    CHECK_EQ_U64(out.created_ms, 1700000000000);
    CHECK_EQ_U64(out.updated_ms, 1700000000000);
    CHECK_EQ_U64(out.attempts, UINT32_MAX);
    CHECK_EQ_U64(out.provider_len, 6);
    CHECK_MEM(out.provider, "prov-9", 6);
    CHECK(!out.charged);
    CHECK_EQ_U64(out.charged_amount, 0);
    CHECK_EQ_U64(out.request_len, r.request_len);
    CHECK_MEM(out.request, r.request, r.request_len);
    CHECK_EQ_U64(out.result_len, 0);

    /* Without payloads, and with only the result. */
    CHECK_OK(octo_taskstore_get(&ts, r.id, NULL, NULL, &out));
    CHECK(out.request == NULL && out.request_len == 0);
    CHECK_STR(out.model, "llama-3-8b");
    CHECK_OK(octo_taskstore_charge(&ts, r.id, "answer", 6, 1234, 1700000001000));
    CHECK_OK(octo_taskstore_get(&ts, r.id, NULL, &res, &out));
    CHECK(out.request == NULL);
    CHECK_EQ_U64(out.result_len, 6);
    CHECK_MEM(out.result, "answer", 6);
    CHECK(out.charged);
    CHECK_EQ_U64(out.charged_amount, 1234);
    CHECK_EQ_U64(out.updated_ms, 1700000001000);
    CHECK_OK(octo_taskstore_get(&ts, r.id, &req, NULL, &out));
    CHECK_EQ_U64(out.request_len, r.request_len);
    CHECK(out.result == NULL);

    /* The largest request and result, an empty request, the largest numbers. */
    uint8_t *big = octo_malloc(OCTO_TASKSTORE_REQUEST_MAX);
    CHECK(big != NULL);
    for (size_t i = 0; i < OCTO_TASKSTORE_REQUEST_MAX; i++)
        big[i] = (uint8_t)(i * 31u);
    mk(&r, 2, OCTO_TASKSTORE_U64_MAX);
    r.deadline_ms = OCTO_TASKSTORE_U64_MAX;
    r.request = big;
    r.request_len = OCTO_TASKSTORE_REQUEST_MAX;
    int rc = octo_taskstore_insert(&ts, &r, NULL);
    if (rc == 0)
        rc = octo_taskstore_charge(&ts, r.id, big, OCTO_TASKSTORE_REQUEST_MAX,
                                   OCTO_TASKSTORE_U64_MAX, OCTO_TASKSTORE_U64_MAX);
    if (rc == 0)
        rc = octo_taskstore_get(&ts, r.id, &req, &res, &out);
    bool same = rc == 0 && out.request_len == OCTO_TASKSTORE_REQUEST_MAX &&
                out.result_len == OCTO_TASKSTORE_REQUEST_MAX &&
                memcmp(out.request, big, OCTO_TASKSTORE_REQUEST_MAX) == 0 &&
                memcmp(out.result, big, OCTO_TASKSTORE_REQUEST_MAX) == 0;
    octo_free(big);
    CHECK_OK(rc);
    CHECK(same);
    CHECK_EQ_U64(out.charged_amount, OCTO_TASKSTORE_U64_MAX);
    CHECK_EQ_U64(out.created_ms, OCTO_TASKSTORE_U64_MAX);
    mk(&r, 3, 5);
    r.request = NULL;
    r.request_len = 0;
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    CHECK_OK(octo_taskstore_get(&ts, r.id, &req, &res, &out));
    CHECK_EQ_U64(out.request_len, 0);
    /* A buffer too small. */
    struct octo_buf small;
    octo_buf_init(&small, 4);
    mk(&r, 1, 0);
    CHECK_ERR(octo_taskstore_get(&ts, r.id, &small, NULL, &out), OCTO_ETOOBIG);
    octo_buf_deinit(&small);

    uint64_t n = 0;
    CHECK_OK(octo_taskstore_count(&ts, &n));
    CHECK_EQ_U64(n, 3);
    octo_buf_deinit(&req);
    octo_buf_deinit(&res);
    octo_store_close(s);
}

static void test_idempotent_insert(void)
{
    struct octo_store *s = tdb_open_migrated("task-idem");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    struct octo_taskstore_record r;
    mk(&r, 1, 100);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    struct octo_taskstore_update u = {
        .state = OCTO_TASKSTORE_RUNNING, .attempts = 1, .now_ms = 200};
    CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
    /* The same id again, even with other content: nothing changes, the state is reported. */
    struct octo_taskstore_record again;
    mk(&again, 1, 999);
    snprintf(again.model, sizeof(again.model), "other-model");
    enum octo_taskstore_state st = OCTO_TASKSTORE_CANCELLED;
    CHECK_ERR(octo_taskstore_insert(&ts, &again, &st), OCTO_EEXIST);
    CHECK_EQ_INT(st, OCTO_TASKSTORE_RUNNING);
    CHECK(strstr(octo_store_errmsg(s), "running") != NULL);
    CHECK_ERR(octo_taskstore_insert(&ts, &again, NULL), OCTO_EEXIST);
    struct octo_taskstore_record out;
    CHECK_OK(octo_taskstore_get(&ts, r.id, NULL, NULL, &out));
    CHECK_STR(out.model, "llama-3-8b");
    CHECK_EQ_U64(out.created_ms, 100);
    uint64_t n = 0;
    CHECK_OK(octo_taskstore_count(&ts, &n));
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_INT(octo_store_tx_state(s), OCTO_STORE_TX_NONE);

    /* Inside a caller's transaction the refusal leaves the transaction usable. */
    CHECK_OK(octo_store_begin(s, true));
    CHECK_ERR(octo_taskstore_insert(&ts, &again, &st), OCTO_EEXIST);
    mk(&r, 2, 100);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    CHECK_OK(octo_store_commit(s));
    CHECK_OK(octo_taskstore_count(&ts, &n));
    CHECK_EQ_U64(n, 2);
    octo_store_close(s);
}

static void test_transitions(void)
{
    struct octo_store *s = tdb_open_migrated("task-tr");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    static const enum octo_taskstore_state finals[] = {
        OCTO_TASKSTORE_SUCCEEDED, OCTO_TASKSTORE_FAILED, OCTO_TASKSTORE_EXPIRED,
        OCTO_TASKSTORE_CANCELLED};
    for (uint32_t i = 0; i < 4; i++) {
        struct octo_taskstore_record r;
        mk(&r, i, 10);
        CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
        /* queued -> running -> queued (retry) -> running with a provider -> final */
        struct octo_taskstore_update u = {.state = OCTO_TASKSTORE_RUNNING,
                                          .attempts = 1,
                                          .provider = (const uint8_t *)"p1",
                                          .provider_len = 2,
                                          .now_ms = 11};
        CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
        u = (struct octo_taskstore_update){.state = OCTO_TASKSTORE_QUEUED,
                                           .attempts = 1,
                                           .reason = "provider timed out",
                                           .now_ms = 12};
        CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
        struct octo_taskstore_record out;
        CHECK_OK(octo_taskstore_get(&ts, r.id, NULL, NULL, &out));
        CHECK_EQ_INT(out.state, OCTO_TASKSTORE_QUEUED);
        CHECK_EQ_U64(out.provider_len, 0);
        CHECK_STR(out.reason, "provider timed out");
        u = (struct octo_taskstore_update){.state = OCTO_TASKSTORE_RUNNING,
                                           .attempts = 2,
                                           .provider = (const uint8_t *)"p2",
                                           .provider_len = 2,
                                           .now_ms = 13};
        CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
        u.state = finals[i];
        u.reason = octo_taskstore_state_name(finals[i]);
        u.now_ms = 14;
        CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
        CHECK(octo_taskstore_state_final(finals[i]));
        /* Out of a final state: refused, nothing changes (not even to the same state). */
        for (int to = 0; to <= OCTO_TASKSTORE_STATE_LAST; to++) {
            struct octo_taskstore_update v = {
                .state = (enum octo_taskstore_state)to, .attempts = 9, .now_ms = 99};
            CHECK_ERR(octo_taskstore_update(&ts, r.id, &v), OCTO_ESTATE);
        }
        CHECK(strstr(octo_store_errmsg(s), octo_taskstore_state_name(finals[i])) != NULL);
        CHECK_OK(octo_taskstore_get(&ts, r.id, NULL, NULL, &out));
        CHECK_EQ_INT(out.state, finals[i]);
        CHECK_EQ_U64(out.attempts, 2);
        CHECK_EQ_U64(out.updated_ms, 14);
        CHECK_EQ_U64(out.provider_len, 2);
        CHECK_MEM(out.provider, "p2", 2);
        CHECK_STR(out.reason, octo_taskstore_state_name(finals[i]));
    }
    CHECK(!octo_taskstore_state_final(OCTO_TASKSTORE_QUEUED));
    CHECK(!octo_taskstore_state_final(OCTO_TASKSTORE_RUNNING));
    CHECK_STR(octo_taskstore_state_name((enum octo_taskstore_state)77), "invalid");

    /* Unknown ids and bad updates. */
    uint8_t nosuch[16] = {0};
    struct octo_taskstore_update u = {.state = OCTO_TASKSTORE_RUNNING, .now_ms = 1};
    CHECK_ERR(octo_taskstore_update(&ts, nosuch, &u), OCTO_ENOTFOUND);
    struct octo_taskstore_record r;
    mk(&r, 50, 10);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    u.state = (enum octo_taskstore_state)6;
    CHECK_ERR(octo_taskstore_update(&ts, r.id, &u), OCTO_EINVAL);
    u.state = OCTO_TASKSTORE_RUNNING;
    u.provider_len = 3; /* NULL provider with a length */
    CHECK_ERR(octo_taskstore_update(&ts, r.id, &u), OCTO_EINVAL);
    uint8_t longp[OCTO_TASKSTORE_PROVIDER_MAX + 1] = {0};
    u.provider = longp;
    u.provider_len = sizeof(longp);
    CHECK_ERR(octo_taskstore_update(&ts, r.id, &u), OCTO_ETOOBIG);
    u.provider_len = OCTO_TASKSTORE_PROVIDER_MAX;
    CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
    char longr[OCTO_TASKSTORE_REASON_MAX + 2];
    memset(longr, 'r', sizeof(longr) - 1);
    longr[sizeof(longr) - 1] = '\0';
    u.reason = longr;
    CHECK_ERR(octo_taskstore_update(&ts, r.id, &u), OCTO_ETOOBIG);
    u.reason = "\xc3\x28"; /* invalid UTF-8 */
    CHECK_ERR(octo_taskstore_update(&ts, r.id, &u), OCTO_EINVAL);
    u.reason = NULL;
    u.now_ms = UINT64_MAX;
    CHECK_ERR(octo_taskstore_update(&ts, r.id, &u), OCTO_ERANGE);
    octo_store_close(s);
}

static void test_charge_once(void)
{
    struct octo_store *s = tdb_open_migrated("task-charge");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    struct octo_taskstore_record r;
    mk(&r, 1, 10);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    uint8_t nosuch[16] = {0};
    CHECK_ERR(octo_taskstore_charge(&ts, nosuch, "x", 1, 1, 1), OCTO_ENOTFOUND);
    CHECK_OK(octo_taskstore_charge(&ts, r.id, "first", 5, 500, 20));
    /* A second charge — same or different — is refused and changes nothing. */
    CHECK_ERR(octo_taskstore_charge(&ts, r.id, "first", 5, 500, 21), OCTO_EEXIST);
    CHECK(strstr(octo_store_errmsg(s), "charged already") != NULL);
    CHECK_ERR(octo_taskstore_charge(&ts, r.id, "second", 6, 900, 22), OCTO_EEXIST);
    /* Also from another connection (another process, a retry after a crash). */
    struct octo_store *s2 = NULL;
    CHECK_OK(tdb_open_again(&s2, 0));
    struct octo_taskstore ts2;
    octo_taskstore_init(&ts2, s2);
    CHECK_ERR(octo_taskstore_charge(&ts2, r.id, "third", 5, 1, 23), OCTO_EEXIST);
    /* And inside a caller's transaction, which stays usable. */
    CHECK_OK(octo_store_begin(s2, true));
    CHECK_ERR(octo_taskstore_charge(&ts2, r.id, "fourth", 6, 2, 24), OCTO_EEXIST);
    CHECK_EQ_INT(octo_store_tx_state(s2), OCTO_STORE_TX_WRITE);
    CHECK_OK(octo_store_commit(s2));
    octo_store_close(s2);
    struct octo_buf res;
    octo_buf_init(&res, OCTO_TASKSTORE_REQUEST_MAX);
    struct octo_taskstore_record out;
    CHECK_OK(octo_taskstore_get(&ts, r.id, NULL, &res, &out));
    CHECK(out.charged);
    CHECK_EQ_U64(out.charged_amount, 500);
    CHECK_EQ_U64(out.result_len, 5);
    CHECK_MEM(out.result, "first", 5);
    CHECK_EQ_U64(out.updated_ms, 20);
    octo_buf_deinit(&res);

    /* A final task can be charged once (billing after the outcome), an empty result too. */
    mk(&r, 2, 10);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    struct octo_taskstore_update u = {.state = OCTO_TASKSTORE_CANCELLED, .now_ms = 30};
    CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
    CHECK_OK(octo_taskstore_charge(&ts, r.id, NULL, 0, 0, 31));
    CHECK_ERR(octo_taskstore_charge(&ts, r.id, NULL, 0, 0, 32), OCTO_EEXIST);

    /* Bad arguments. */
    mk(&r, 3, 10);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    CHECK_ERR(octo_taskstore_charge(&ts, r.id, NULL, 3, 1, 1), OCTO_EINVAL);
    CHECK_ERR(octo_taskstore_charge(&ts, r.id, "x", OCTO_TASKSTORE_REQUEST_MAX + 1, 1, 1),
              OCTO_ETOOBIG);
    CHECK_ERR(octo_taskstore_charge(&ts, r.id, "x", 1, OCTO_TASKSTORE_U64_MAX + 1, 1), OCTO_ERANGE);
    CHECK_ERR(octo_taskstore_charge(&ts, r.id, "x", 1, 1, UINT64_MAX), OCTO_ERANGE);
    CHECK_OK(octo_taskstore_get(&ts, r.id, NULL, NULL, &out));
    CHECK(!out.charged);
    /* The database refuses a charged flag other than 0/1 and a negative amount. */
    struct octo_store_value idv = octo_store_blob(r.id, 16);
    CHECK_ERR(octo_store_exec(s, "UPDATE tasks SET charged = 2 WHERE id = $1", &idv, 1, NULL, NULL),
              OCTO_ESTORE);
    CHECK_ERR(octo_store_exec(s, "UPDATE tasks SET charged_amount = -1 WHERE id = $1", &idv, 1,
                              NULL, NULL),
              OCTO_ESTORE);
    CHECK_ERR(octo_store_exec(s, "UPDATE tasks SET state = 6 WHERE id = $1", &idv, 1, NULL, NULL),
              OCTO_ESTORE);
    octo_store_close(s);
}

struct listing {
    uint32_t n[64];
    uint32_t count;
    uint32_t stop_after; /* 0 = never */
    int fail;
    bool request_ok;
};

static int list_fn(const struct octo_taskstore_record *rec, void *ctx)
{
    struct listing *l = ctx;
    if (l->fail != 0)
        return l->fail;
    if (l->count < 64)
        l->n[l->count] = (uint32_t)rec->id[14] << 8 | rec->id[15];
    if (rec->request_len != 15 || memcmp(rec->request, "{\"prompt\":\"hi\"}", 15) != 0)
        l->request_ok = false;
    l->count++;
    return l->stop_after != 0 && l->count == l->stop_after ? 1 : 0;
}

static void test_recovery_listing(void)
{
    struct octo_store *s = tdb_open_migrated("task-list");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    /* Tasks 0..19: created at 1000 + (n % 5) (ties broken by id); every 4th finished. */
    CHECK_OK(octo_store_begin(s, true));
    for (uint32_t n = 0; n < 20; n++) {
        struct octo_taskstore_record r;
        mk(&r, 19 - n, 1000 + (19 - n) % 5);
        if ((19 - n) % 4 == 1)
            r.state = OCTO_TASKSTORE_RUNNING;
        CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
        if ((19 - n) % 4 == 3) {
            struct octo_taskstore_update u = {.state = OCTO_TASKSTORE_SUCCEEDED, .now_ms = 5000};
            CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
        }
    }
    CHECK_OK(octo_store_commit(s));
    /* Expected: unfinished n (n % 4 != 3) sorted by (1000 + n % 5, n). */
    uint32_t want[20];
    uint32_t nwant = 0;
    for (uint32_t mod = 0; mod < 5; mod++)
        for (uint32_t n = 0; n < 20; n++)
            if (n % 5 == mod && n % 4 != 3)
                want[nwant++] = n;
    CHECK_EQ_U64(nwant, 15);

    struct listing l = {.request_ok = true};
    CHECK_EQ_INT(octo_taskstore_list_unfinished(&ts, NULL, OCTO_TASKSTORE_LIST_MAX, list_fn, &l),
                 15);
    CHECK(l.request_ok);
    for (uint32_t i = 0; i < nwant; i++)
        CHECK_EQ_U64(l.n[i], want[i]);

    /* Paging with the cursor, 4 at a time. */
    struct octo_taskstore_cursor cur = {.started = false};
    l = (struct listing){.request_ok = true};
    int got;
    int pages = 0;
    do {
        got = octo_taskstore_list_unfinished(&ts, &cur, 4, list_fn, &l);
        CHECK_OK(got);
        pages++;
    } while (got == 4);
    CHECK_EQ_INT(pages, 4);
    CHECK_EQ_U64(l.count, 15);
    for (uint32_t i = 0; i < nwant; i++)
        CHECK_EQ_U64(l.n[i], want[i]);
    CHECK(cur.started);
    /* The end: nothing after the last. */
    CHECK_EQ_INT(octo_taskstore_list_unfinished(&ts, &cur, 4, list_fn, &l), 0);

    /* Early stop moves the cursor to the last record seen; callback errors pass through. */
    cur = (struct octo_taskstore_cursor){.started = false};
    l = (struct listing){.request_ok = true, .stop_after = 2};
    CHECK_EQ_INT(octo_taskstore_list_unfinished(&ts, &cur, 10, list_fn, &l), 2);
    l.stop_after = 0;
    CHECK_EQ_INT(octo_taskstore_list_unfinished(&ts, &cur, 1, list_fn, &l), 1);
    CHECK_EQ_U64(l.n[2], want[2]);
    l = (struct listing){.fail = OCTO_EIO};
    CHECK_ERR(octo_taskstore_list_unfinished(&ts, NULL, 10, list_fn, &l), OCTO_EIO);
    CHECK_ERR(octo_taskstore_list_unfinished(&ts, NULL, 0, list_fn, &l), OCTO_EINVAL);
    CHECK_ERR(octo_taskstore_list_unfinished(&ts, NULL, OCTO_TASKSTORE_LIST_MAX + 1, list_fn, &l),
              OCTO_EINVAL);
    cur.created_ms = UINT64_MAX;
    CHECK_ERR(octo_taskstore_list_unfinished(&ts, &cur, 10, list_fn, &l), OCTO_ERANGE);

    /* Purge: finished and older than the bound only. */
    CHECK_EQ_INT(octo_taskstore_purge_finished(&ts, 5000), 0);
    CHECK_EQ_INT(octo_taskstore_purge_finished(&ts, 5001), 5);
    CHECK_EQ_INT(octo_taskstore_purge_finished(&ts, 999999), 0);
    CHECK_ERR(octo_taskstore_purge_finished(&ts, UINT64_MAX), OCTO_ERANGE);
    uint64_t n = 0;
    CHECK_OK(octo_taskstore_count(&ts, &n));
    CHECK_EQ_U64(n, 15);
    octo_store_close(s);
}

/* A key's tasks, newest first, finished or not, paged by creation time; other owners' not. */
static void test_owner_listing(void)
{
    struct octo_store *s = tdb_open_migrated("task-owner");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    CHECK_OK(octo_store_begin(s, true));
    for (uint32_t n = 0; n < 12; n++) {
        struct octo_taskstore_record r;
        mk(&r, n, 2000 + n);
        if (n % 3 == 0) {
            memcpy(r.owner, "owner-2", 7);
        }
        CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
        if (n % 2 == 0) {
            struct octo_taskstore_update u = {.state = OCTO_TASKSTORE_FAILED, .now_ms = 9000};
            CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
        }
    }
    CHECK_OK(octo_store_commit(s));
    struct listing l = {0};
    /* owner-1: n = 11 10 8 7 5 4 2 1, newest first */
    CHECK_EQ_INT(octo_taskstore_list_owner(&ts, (const uint8_t *)"owner-1", 7, UINT64_C(1) << 62,
                                           OCTO_TASKSTORE_LIST_MAX, list_fn, &l),
                 8);
    const uint32_t want[] = {11, 10, 8, 7, 5, 4, 2, 1};
    for (uint32_t i = 0; i < 8; i++)
        CHECK_EQ_U64(l.n[i], want[i]);
    /* the next page: created before the oldest of a page of 3 (2000 + 8) */
    l = (struct listing){0};
    CHECK_EQ_INT(
        octo_taskstore_list_owner(&ts, (const uint8_t *)"owner-1", 7, 2008, 3, list_fn, &l), 3);
    CHECK_EQ_U64(l.n[0], 7);
    CHECK_EQ_U64(l.n[2], 4);
    l = (struct listing){0};
    CHECK_EQ_INT(octo_taskstore_list_owner(&ts, (const uint8_t *)"nobody", 6, UINT64_C(1) << 62, 10,
                                           list_fn, &l),
                 0);
    CHECK_ERR(octo_taskstore_list_owner(&ts, (const uint8_t *)"x", 0, 1, 10, list_fn, &l),
              OCTO_EINVAL);
    CHECK_ERR(octo_taskstore_list_owner(&ts, (const uint8_t *)"x", 1, 1, 0, list_fn, &l),
              OCTO_EINVAL);
    CHECK_ERR(octo_taskstore_list_owner(&ts, (const uint8_t *)"x", 1, UINT64_MAX, 1, list_fn, &l),
              OCTO_ERANGE);
    l = (struct listing){.fail = OCTO_EIO};
    CHECK_ERR(octo_taskstore_list_owner(&ts, (const uint8_t *)"owner-1", 7, UINT64_C(1) << 62, 10,
                                        list_fn, &l),
              OCTO_EIO);
    octo_store_close(s);
}

/* Finished tasks since a time, in (updated_ms, id) order, with their results, paged. */
static void test_finished_listing(void)
{
    struct octo_store *s = tdb_open_migrated("task-fin");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    CHECK_OK(octo_store_begin(s, true));
    for (uint32_t n = 0; n < 10; n++) {
        struct octo_taskstore_record r;
        mk(&r, n, 1000);
        CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
        if (n % 2 == 0) { /* 0 2 4 6 8 finish at 3000 + n */
            CHECK_OK(octo_taskstore_charge(&ts, r.id, "res", 3, 5, 3000 + n));
            struct octo_taskstore_update u = {.state = OCTO_TASKSTORE_SUCCEEDED,
                                              .now_ms = 3000 + n};
            CHECK_OK(octo_taskstore_update(&ts, r.id, &u));
        }
    }
    CHECK_OK(octo_store_commit(s));
    struct listing l = {0};
    struct octo_taskstore_cursor cur = {.started = false};
    CHECK_EQ_INT(octo_taskstore_list_finished(&ts, &cur, 3004, 2, list_fn, &l), 2);
    CHECK_EQ_INT(octo_taskstore_list_finished(&ts, &cur, 3004, 2, list_fn, &l), 1);
    CHECK_EQ_U64(l.count, 3);
    CHECK_EQ_U64(l.n[0], 4);
    CHECK_EQ_U64(l.n[1], 6);
    CHECK_EQ_U64(l.n[2], 8);
    CHECK_ERR(octo_taskstore_list_finished(&ts, &cur, UINT64_MAX, 2, list_fn, &l), OCTO_ERANGE);
    octo_store_close(s);
}

static void test_insert_limits(void)
{
    struct octo_store *s = tdb_open_migrated("task-lim");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    struct octo_taskstore_record r;
    uint32_t id = 0;
#define EXPECT_INSERT(mutation, code)                                                              \
    do {                                                                                           \
        mk(&r, ++id, 10);                                                                          \
        mutation;                                                                                  \
        CHECK_ERR(octo_taskstore_insert(&ts, &r, NULL), code);                                     \
    } while (0)
    EXPECT_INSERT(r.owner_len = 0, OCTO_EINVAL);
    EXPECT_INSERT(r.owner_len = OCTO_TASKSTORE_OWNER_MAX + 1, OCTO_ETOOBIG);
    EXPECT_INSERT(r.model[0] = '\0', OCTO_EINVAL);
    EXPECT_INSERT(memset(r.model, 'm', sizeof(r.model)), OCTO_ETOOBIG); /* no NUL in range */
    EXPECT_INSERT(memcpy(r.model, "\xff\xfe", 3), OCTO_EINVAL);
    EXPECT_INSERT(memcpy(r.model, "\xed\xa0\x80", 4), OCTO_EINVAL); /* a surrogate */
    EXPECT_INSERT(memset(r.reason, 'r', sizeof(r.reason)), OCTO_ETOOBIG);
    EXPECT_INSERT(r.priority = 8, OCTO_EINVAL);
    EXPECT_INSERT(r.state = (enum octo_taskstore_state)6, OCTO_EINVAL);
    EXPECT_INSERT(r.provider_len = OCTO_TASKSTORE_PROVIDER_MAX + 1, OCTO_ETOOBIG);
    EXPECT_INSERT(r.charged = true, OCTO_EINVAL);
    EXPECT_INSERT(r.charged_amount = 1, OCTO_EINVAL);
    EXPECT_INSERT(r.result_len = 1, OCTO_EINVAL);
    EXPECT_INSERT(r.request = NULL, OCTO_EINVAL);
    EXPECT_INSERT(r.request_len = OCTO_TASKSTORE_REQUEST_MAX + 1, OCTO_ETOOBIG);
    EXPECT_INSERT(r.deadline_ms = UINT64_MAX, OCTO_ERANGE);
    EXPECT_INSERT(r.created_ms = OCTO_TASKSTORE_U64_MAX + 1, OCTO_ERANGE);
    EXPECT_INSERT(r.updated_ms = UINT64_MAX, OCTO_ERANGE);
#undef EXPECT_INSERT
    CHECK(strstr(octo_store_errmsg(s), "invalid input") != NULL);
    uint64_t n = 0;
    CHECK_OK(octo_taskstore_count(&ts, &n));
    CHECK_EQ_U64(n, 0);
    /* The limits themselves are fine; a final state may be recorded at insert. */
    mk(&r, 100, 10);
    r.owner_len = OCTO_TASKSTORE_OWNER_MAX;
    memset(r.model, 'm', OCTO_TASKSTORE_MODEL_MAX);
    r.model[OCTO_TASKSTORE_MODEL_MAX] = '\0';
    memset(r.reason, 'r', OCTO_TASKSTORE_REASON_MAX);
    r.reason[OCTO_TASKSTORE_REASON_MAX] = '\0';
    r.provider_len = OCTO_TASKSTORE_PROVIDER_MAX;
    r.state = OCTO_TASKSTORE_FAILED;
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    /* The schema refuses bad rows written around the API. */
    struct octo_store_value bad[] = {octo_store_blob("short", 5)};
    CHECK_ERR(octo_store_exec(s,
                              "INSERT INTO tasks SELECT $1, owner, model, priority, state, reason,"
                              " deadline_ms, created_ms, updated_ms, attempts, provider,"
                              " charged_amount, charged, request, result FROM tasks",
                              bad, 1, NULL, NULL),
              OCTO_ESTORE);
    octo_store_close(s);
}

static int nop_fn(const struct octo_taskstore_record *rec, void *ctx)
{
    (void)rec;
    (void)ctx;
    return 0;
}

static void test_corrupt_rows(void)
{
    struct octo_store *s = tdb_open_migrated("task-corrupt");
    CHECK(s != NULL);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    struct octo_taskstore_record r;
    mk(&r, 1, 10);
    CHECK_OK(octo_taskstore_insert(&ts, &r, NULL));
    /* Drop the checks, then store a priority the API never writes. */
    CHECK_OK(octo_store_exec_script(
        s, tdb_sql("CREATE TABLE t2 AS SELECT * FROM tasks; DROP TABLE tasks;"
                   " ALTER TABLE t2 RENAME TO tasks; UPDATE tasks SET priority = 9",
                   "ALTER TABLE tasks DROP CONSTRAINT tasks_priority_check;"
                   " UPDATE tasks SET priority = 9")));
    struct octo_taskstore_record out;
    CHECK_ERR(octo_taskstore_get(&ts, r.id, NULL, NULL, &out), OCTO_ESTORE);
    CHECK_ERR(octo_taskstore_list_unfinished(&ts, NULL, 10, nop_fn, NULL), OCTO_ESTORE);
    octo_store_close(s);
}

int main(void)
{
    struct octo_log_config lc = {.level = OCTO_LOG_OFF};
    octo_log_configure(&lc);
    if (tdb_init("tasks") < 0)
        return 1;
    TDB_RUN(test_roundtrip);
    TDB_RUN(test_idempotent_insert);
    TDB_RUN(test_transitions);
    TDB_RUN(test_charge_once);
    TDB_RUN(test_recovery_listing);
    TDB_RUN(test_owner_listing);
    TDB_RUN(test_finished_listing);
    TDB_RUN(test_insert_limits);
    TDB_RUN(test_corrupt_rows);
    tdb_done();
    return octo_test_finish();
}
