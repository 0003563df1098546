/*
 * test_providers.c — provider registry records: put/get round trip, replacement by seq only
 * (stale and equal puts change nothing), delete, count, the row cap (OCTO_ELIMIT, replacement
 * still allowed), every input limit, expiry, iteration over more rows than a page in id order
 * with early stop and callback errors, batching inside a caller's transaction, and corrupt
 * rows — against SQLite and, with OCTO_TEST_PG set, PostgreSQL (testdb.h).
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/log.h"
#include "store/providers.h"
#include "test.h"
#include "testdb.h"

/* A record for provider number n: id = "prov" + n big-endian, advert = fill bytes. */
struct prov {
    uint8_t id[8];
    uint8_t advert[64];
    struct octo_provstore_record rec;
};

static const struct octo_provstore_record *mk(struct prov *p, uint32_t n, uint64_t seq,
                                              uint64_t expiry, uint8_t fill)
{
    memcpy(p->id, "prov", 4);
    p->id[4] = (uint8_t)(n >> 24);
    p->id[5] = (uint8_t)(n >> 16);
    p->id[6] = (uint8_t)(n >> 8);
    p->id[7] = (uint8_t)n;
    memset(p->advert, fill, sizeof(p->advert));
    p->rec = (struct octo_provstore_record){
        .id = p->id,
        .id_len = sizeof(p->id),
        .seq = seq,
        .expiry_ms = expiry,
        .received_ms = 1000 + n,
        .advert = p->advert,
        .advert_len = sizeof(p->advert),
    };
    return &p->rec;
}

static void test_put_get_stale(void)
{
    struct octo_store *s = tdb_open_migrated("prov-rt");
    CHECK(s != NULL);
    struct octo_provstore ps;
    octo_provstore_init(&ps, s, 0);
    CHECK_EQ_INT(ps.rows_max, OCTO_PROVSTORE_ROWS_DEFAULT);
    struct octo_buf b;
    octo_buf_init(&b, OCTO_PROVSTORE_ADVERT_MAX);
    struct prov p;
    struct octo_provstore_record out;

    CHECK_ERR(octo_provstore_get(&ps, (const uint8_t *)"nope", 4, &b, &out), OCTO_ENOTFOUND);
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 1, 5, 9000, 0xa1)), 1);
    CHECK_OK(octo_provstore_get(&ps, p.id, sizeof(p.id), &b, &out));
    CHECK_EQ_U64(out.id_len, sizeof(p.id));
    CHECK_MEM(out.id, p.id, sizeof(p.id));
    CHECK_EQ_U64(out.seq, 5);
    CHECK_EQ_U64(out.expiry_ms, 9000);
    CHECK_EQ_U64(out.received_ms, 1001);
    CHECK_EQ_U64(out.advert_len, sizeof(p.advert));
    CHECK_MEM(out.advert, p.advert, sizeof(p.advert));

    /* Stale (smaller seq) and replayed (equal seq) puts change nothing. */
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 1, 4, 1, 0xb2)), 0);
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 1, 5, 1, 0xb2)), 0);
    CHECK_OK(octo_provstore_get(&ps, p.id, sizeof(p.id), &b, &out));
    CHECK_EQ_U64(out.seq, 5);
    CHECK_EQ_U64(out.expiry_ms, 9000);
    CHECK_EQ_INT(out.advert[0], 0xa1);
    /* A greater seq replaces everything. */
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 1, 6, 12000, 0xc3)), 1);
    CHECK_OK(octo_provstore_get(&ps, p.id, sizeof(p.id), &b, &out));
    CHECK_EQ_U64(out.seq, 6);
    CHECK_EQ_U64(out.expiry_ms, 12000);
    CHECK_EQ_INT(out.advert[63], 0xc3);
    /* The largest storable values round-trip. */
    CHECK_EQ_INT(
        octo_provstore_put(&ps, mk(&p, 1, OCTO_PROVSTORE_U64_MAX, OCTO_PROVSTORE_U64_MAX, 0xd4)),
        1);
    CHECK_OK(octo_provstore_get(&ps, p.id, sizeof(p.id), &b, &out));
    CHECK_EQ_U64(out.seq, OCTO_PROVSTORE_U64_MAX);
    CHECK_EQ_U64(out.expiry_ms, OCTO_PROVSTORE_U64_MAX);

    uint64_t n = 0;
    CHECK_OK(octo_provstore_count(&ps, &n));
    CHECK_EQ_U64(n, 1);
    CHECK_OK(octo_provstore_delete(&ps, p.id, sizeof(p.id)));
    CHECK_ERR(octo_provstore_delete(&ps, p.id, sizeof(p.id)), OCTO_ENOTFOUND);
    CHECK(strstr(octo_store_errmsg(s), "no such provider") != NULL);
    CHECK_OK(octo_provstore_count(&ps, &n));
    CHECK_EQ_U64(n, 0);

    /* A buffer too small for the advert. */
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 2, 1, 1, 0x11)), 1);
    struct octo_buf small;
    octo_buf_init(&small, 10);
    CHECK_ERR(octo_provstore_get(&ps, p.id, sizeof(p.id), &small, &out), OCTO_ETOOBIG);
    octo_buf_deinit(&small);
    octo_buf_deinit(&b);
    octo_store_close(s);
}

static void test_limits(void)
{
    struct octo_store *s = tdb_open_migrated("prov-lim");
    CHECK(s != NULL);
    struct octo_provstore ps;
    octo_provstore_init(&ps, s, 3);
    struct prov p;
    struct octo_provstore_record r = *mk(&p, 1, 1, 1, 1);

    /* Ids. */
    r.id_len = 0;
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_EINVAL);
    CHECK(strstr(octo_store_errmsg(s), "invalid input") != NULL);
    r.id = NULL;
    r.id_len = 4;
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_EINVAL);
    uint8_t big[OCTO_PROVSTORE_ADVERT_MAX + 1];
    memset(big, 0x5a, sizeof(big));
    r = *mk(&p, 1, 1, 1, 1);
    r.id = big;
    r.id_len = OCTO_PROVSTORE_ID_MAX + 1;
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_ETOOBIG);
    r.id_len = OCTO_PROVSTORE_ID_MAX; /* the largest id is fine */
    CHECK_EQ_INT(octo_provstore_put(&ps, &r), 1);
    /* Adverts. */
    r = *mk(&p, 2, 1, 1, 1);
    r.advert_len = 0;
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_EINVAL);
    r.advert = NULL;
    r.advert_len = 5;
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_EINVAL);
    r.advert = big;
    r.advert_len = OCTO_PROVSTORE_ADVERT_MAX + 1;
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_ETOOBIG);
    r.advert_len = OCTO_PROVSTORE_ADVERT_MAX;
    CHECK_EQ_INT(octo_provstore_put(&ps, &r), 1);
    struct octo_buf b;
    octo_buf_init(&b, OCTO_PROVSTORE_ADVERT_MAX);
    struct octo_provstore_record out;
    CHECK_OK(octo_provstore_get(&ps, p.id, sizeof(p.id), &b, &out));
    CHECK_EQ_U64(out.advert_len, OCTO_PROVSTORE_ADVERT_MAX);
    CHECK_MEM(out.advert, big, OCTO_PROVSTORE_ADVERT_MAX);
    octo_buf_deinit(&b);
    /* Numbers over INT64_MAX. */
    r = *mk(&p, 3, OCTO_PROVSTORE_U64_MAX + 1, 1, 1);
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_ERANGE);
    r = *mk(&p, 3, 1, UINT64_MAX, 1);
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_ERANGE);
    r = *mk(&p, 3, 1, 1, 1);
    r.received_ms = UINT64_MAX;
    CHECK_ERR(octo_provstore_put(&ps, &r), OCTO_ERANGE);
    CHECK_ERR(octo_provstore_delete_expired(&ps, UINT64_MAX), OCTO_ERANGE);
    /* Bad ids elsewhere. */
    CHECK_ERR(octo_provstore_get(&ps, NULL, 0, &b, &out), OCTO_EINVAL);
    CHECK_ERR(octo_provstore_get(&ps, big, OCTO_PROVSTORE_ID_MAX + 1, &b, &out), OCTO_ETOOBIG);
    CHECK_ERR(octo_provstore_delete(&ps, big, 0), OCTO_EINVAL);
    CHECK_ERR(octo_provstore_delete(&ps, big, OCTO_PROVSTORE_ID_MAX + 1), OCTO_ETOOBIG);

    /* The row cap: 3 rows; a fourth provider is refused, replacing one is not. */
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 3, 1, 1, 1)), 1);
    CHECK_ERR(octo_provstore_put(&ps, mk(&p, 4, 1, 1, 1)), OCTO_ELIMIT);
    CHECK(strstr(octo_store_errmsg(s), "full") != NULL);
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 3, 2, 1, 1)), 1);
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 3, 2, 1, 1)), 0); /* stale beats full */
    uint64_t n = 0;
    CHECK_OK(octo_provstore_count(&ps, &n));
    CHECK_EQ_U64(n, 3);
    CHECK_OK(octo_provstore_delete(&ps, p.id, sizeof(p.id)));
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 4, 1, 1, 1)), 1);

    /* The schema refuses what the API refuses (another writer cannot bypass the limits). */
    struct octo_store_value bad[] = {octo_store_blob(big, OCTO_PROVSTORE_ID_MAX + 1),
                                     octo_store_blob(big, 1)};
    CHECK_ERR(octo_store_exec(s,
                              "INSERT INTO providers (id, seq, expiry_ms, received_ms, advert)"
                              " VALUES ($1, 1, 1, 1, $2)",
                              bad, 2, NULL, NULL),
              OCTO_ESTORE);
    bad[0] = octo_store_blob(big, 4);
    bad[1] = octo_store_blob(big, OCTO_PROVSTORE_ADVERT_MAX + 1);
    CHECK_ERR(octo_store_exec(s,
                              "INSERT INTO providers (id, seq, expiry_ms, received_ms, advert)"
                              " VALUES ($1, 1, 1, 1, $2)",
                              bad, 2, NULL, NULL),
              OCTO_ESTORE);
    octo_store_close(s);
}

static void test_expiry(void)
{
    struct octo_store *s = tdb_open_migrated("prov-exp");
    CHECK(s != NULL);
    struct octo_provstore ps;
    octo_provstore_init(&ps, s, 0);
    struct prov p;
    for (uint32_t i = 0; i < 10; i++)
        CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, i, 1, 100 * (uint64_t)i, 7)), 1);
    CHECK_EQ_INT(octo_provstore_delete_expired(&ps, 0), 1);   /* expiry 0 <= 0 */
    CHECK_EQ_INT(octo_provstore_delete_expired(&ps, 99), 0);  /* none in (0, 99] */
    CHECK_EQ_INT(octo_provstore_delete_expired(&ps, 450), 4); /* 100..400 */
    uint64_t n = 0;
    CHECK_OK(octo_provstore_count(&ps, &n));
    CHECK_EQ_U64(n, 5);
    struct octo_buf b;
    octo_buf_init(&b, OCTO_PROVSTORE_ADVERT_MAX);
    struct octo_provstore_record out;
    mk(&p, 4, 1, 1, 1);
    CHECK_ERR(octo_provstore_get(&ps, p.id, sizeof(p.id), &b, &out), OCTO_ENOTFOUND);
    mk(&p, 5, 1, 1, 1);
    CHECK_OK(octo_provstore_get(&ps, p.id, sizeof(p.id), &b, &out));
    octo_buf_deinit(&b);
    /* A renewed advert (greater seq, later expiry) survives the next sweep. */
    CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, 5, 2, 10000, 7)), 1);
    CHECK_EQ_INT(octo_provstore_delete_expired(&ps, 5000), 4);
    CHECK_OK(octo_provstore_count(&ps, &n));
    CHECK_EQ_U64(n, 1);
    octo_store_close(s);
}

struct walk {
    uint32_t seen;
    uint32_t stop_at; /* 0 = never */
    int fail_with;
    uint8_t prev[OCTO_PROVSTORE_ID_MAX];
    size_t prev_len;
    bool order_ok;
    bool content_ok;
};

static int walk_fn(const struct octo_provstore_record *rec, void *ctx)
{
    struct walk *w = ctx;
    if (w->seen > 0) {
        size_t n = rec->id_len < w->prev_len ? rec->id_len : w->prev_len;
        int c = memcmp(w->prev, rec->id, n);
        if (c > 0 || (c == 0 && w->prev_len >= rec->id_len))
            w->order_ok = false;
    }
    memcpy(w->prev, rec->id, rec->id_len);
    w->prev_len = rec->id_len;
    /* Provider n has seq n + 1 and adverts filled with (n & 0xff). */
    uint32_t n = (uint32_t)rec->id[4] << 24 | (uint32_t)rec->id[5] << 16 |
                 (uint32_t)rec->id[6] << 8 | rec->id[7];
    if (rec->seq != n + 1u || rec->advert_len != 64 || rec->advert[10] != (uint8_t)n)
        w->content_ok = false;
    w->seen++;
    if (w->fail_with != 0 && w->seen == w->stop_at)
        return w->fail_with;
    if (w->stop_at != 0 && w->seen == w->stop_at)
        return 1;
    return 0;
}

static void test_iterate(void)
{
    struct octo_store *s = tdb_open_migrated("prov-iter");
    CHECK(s != NULL);
    struct octo_provstore ps;
    octo_provstore_init(&ps, s, 0);
    struct walk w = {.order_ok = true, .content_ok = true};
    CHECK_EQ_INT(octo_provstore_iterate(&ps, walk_fn, &w), 0);

    /* 2.5 pages plus one, inserted in a scrambled order in one transaction. */
    const uint32_t total = OCTO_PROVSTORE_BATCH * 2 + OCTO_PROVSTORE_BATCH / 2 + 1;
    CHECK_OK(octo_store_begin(s, true));
    for (uint32_t i = 0; i < total; i++) {
        uint32_t n = (i * 7919u) % total; /* 7919 is prime, total is not a multiple */
        struct prov p;
        CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, n, n + 1u, 1, (uint8_t)n)), 1);
    }
    CHECK_OK(octo_store_commit(s));
    uint64_t count = 0;
    CHECK_OK(octo_provstore_count(&ps, &count));
    CHECK_EQ_U64(count, total);

    w = (struct walk){.order_ok = true, .content_ok = true};
    CHECK_EQ_INT(octo_provstore_iterate(&ps, walk_fn, &w), (int)total);
    CHECK_EQ_U64(w.seen, total);
    CHECK(w.order_ok);
    CHECK(w.content_ok);

    /* An exact multiple of the page size ends cleanly too. */
    struct prov p;
    CHECK_OK(octo_store_begin(s, true));
    for (uint32_t n = total; n < OCTO_PROVSTORE_BATCH * 3; n++)
        CHECK_EQ_INT(octo_provstore_put(&ps, mk(&p, n, n + 1u, 1, (uint8_t)n)), 1);
    CHECK_OK(octo_store_commit(s));
    w = (struct walk){.order_ok = true, .content_ok = true};
    CHECK_EQ_INT(octo_provstore_iterate(&ps, walk_fn, &w), (int)OCTO_PROVSTORE_BATCH * 3);
    CHECK(w.order_ok);

    /* Early stop in the second page; a callback error. */
    w = (struct walk){.order_ok = true, .content_ok = true, .stop_at = OCTO_PROVSTORE_BATCH + 3};
    CHECK_EQ_INT(octo_provstore_iterate(&ps, walk_fn, &w), (int)OCTO_PROVSTORE_BATCH + 3);
    CHECK_EQ_U64(w.seen, OCTO_PROVSTORE_BATCH + 3);
    w = (struct walk){.order_ok = true, .content_ok = true, .stop_at = 5, .fail_with = OCTO_EIO};
    CHECK_ERR(octo_provstore_iterate(&ps, walk_fn, &w), OCTO_EIO);
    CHECK_EQ_U64(w.seen, 5);

    /* Inside a read transaction (one snapshot). */
    CHECK_OK(octo_store_begin(s, false));
    w = (struct walk){.order_ok = true, .content_ok = true};
    CHECK_EQ_INT(octo_provstore_iterate(&ps, walk_fn, &w), (int)OCTO_PROVSTORE_BATCH * 3);
    /* A write inside a read transaction is refused. */
    CHECK_ERR(octo_provstore_put(&ps, mk(&p, 1, 1000, 1, 1)), OCTO_ESTATE);
    CHECK_OK(octo_store_commit(s));

    /* Ids of different lengths sort bytewise, a prefix first. */
    CHECK_OK(octo_provstore_delete_expired(&ps, 1));
    uint8_t a1[] = {0x01};
    uint8_t a2[] = {0x01, 0x00};
    uint8_t a3[] = {0xff};
    uint8_t adv[] = {1};
    const uint8_t *ids[] = {a3, a2, a1};
    size_t lens[] = {1, 2, 1};
    for (size_t i = 0; i < 3; i++) {
        struct octo_provstore_record r = {ids[i], lens[i], 1, 5, 5, adv, 1};
        CHECK_EQ_INT(octo_provstore_put(&ps, &r), 1);
    }
    w = (struct walk){.order_ok = true, .content_ok = true};
    CHECK_EQ_INT(octo_provstore_iterate(&ps, walk_fn, &w), 3);
    CHECK(w.order_ok);
    CHECK_EQ_U64(w.prev_len, 1);
    CHECK_EQ_INT(w.prev[0], 0xff);
    octo_store_close(s);
}

static int nop_fn(const struct octo_provstore_record *rec, void *ctx)
{
    (void)rec;
    (void)ctx;
    return 0;
}

static void test_corrupt_rows(void)
{
    struct octo_store *s = tdb_open_migrated("prov-corrupt");
    CHECK(s != NULL);
    /* Lift the schema's checks so another writer's bad row can exist. */
    CHECK_OK(octo_store_exec_script(
        s, tdb_sql("DROP TABLE providers; CREATE TABLE providers (id BLOB PRIMARY KEY,"
                   " seq INTEGER, expiry_ms INTEGER, received_ms INTEGER, advert BLOB)",
                   "DROP TABLE providers; CREATE TABLE providers (id BYTEA PRIMARY KEY,"
                   " seq BIGINT, expiry_ms BIGINT, received_ms BIGINT, advert BYTEA)")));
    CHECK_OK(octo_store_exec(s,
                             tdb_sql("INSERT INTO providers VALUES (x'01', -1, 1, 1, x'00')",
                                     "INSERT INTO providers VALUES ('\\x01', -1, 1, 1, '\\x00')"),
                             NULL, 0, NULL, NULL));
    struct octo_provstore ps;
    octo_provstore_init(&ps, s, 0);
    CHECK_ERR(octo_provstore_iterate(&ps, nop_fn, NULL), OCTO_ESTORE);
    struct octo_buf b;
    octo_buf_init(&b, OCTO_PROVSTORE_ADVERT_MAX);
    struct octo_provstore_record out;
    uint8_t id = 1;
    CHECK_ERR(octo_provstore_get(&ps, &id, 1, &b, &out), OCTO_ESTORE);
    octo_buf_deinit(&b);
    octo_store_close(s);
}

int main(void)
{
    struct octo_log_config lc = {.level = OCTO_LOG_OFF};
    octo_log_configure(&lc);
    if (tdb_init("providers") < 0)
        return 1;
    TDB_RUN(test_put_get_stale);
    TDB_RUN(test_limits);
    TDB_RUN(test_expiry);
    TDB_RUN(test_iterate);
    TDB_RUN(test_corrupt_rows);
    tdb_done();
    return octo_test_finish();
}
