/*
 * test_peerstore.c — the peer table: put/get round trips with and without optional fields,
 * replace semantics and de-duplication, delete with cascade, count, list order and limit,
 * every input limit, eviction at capacity, batching in the caller's transaction, the
 * caller's arena running out, and foreign keys on the child tables — against SQLite and,
 * with OCTO_TEST_PG set, PostgreSQL (testdb.h).
 */
#define _GNU_SOURCE
#include "base/assert.h"
#include "base/buf.h"
#include "base/log.h"
#include "store/peerstore.h"
#include "test.h"
#include "testdb.h"

static int64_t query_i64(struct octo_store *s, const char *sql)
{
    int64_t v = -12345;
    if (octo_store_query_int64(s, sql, NULL, 0, &v) < 0)
        return -12345;
    return v;
}

/* A small record with id byte `tag`. */
struct rec_storage {
    uint8_t id[4];
    struct octo_peerstore_entry rec;
};

static const struct octo_peerstore_entry *small_rec(struct rec_storage *st, uint8_t tag,
                                                    int64_t seen)
{
    memset(st, 0, sizeof(*st));
    st->id[0] = 0x00;
    st->id[1] = 0x24;
    st->id[2] = tag;
    st->id[3] = tag;
    st->rec.id = st->id;
    st->rec.id_len = sizeof(st->id);
    st->rec.last_seen_ms = seen;
    return &st->rec;
}

/* /ip4/127.0.0.1/tcp/4001 and /ip4/10.0.0.1/tcp/4001 in binary. */
static const uint8_t ma1[] = {0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1};
static const uint8_t ma2[] = {0x04, 10, 0, 0, 1, 0x06, 0x0f, 0xa1};

static void test_roundtrip(void)
{
    struct octo_store *s = tdb_open_migrated("ps-rt");
    CHECK(s != NULL);
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 0);
    CHECK_EQ_INT(ps.peers_max, OCTO_PEERSTORE_PEERS_DEFAULT);
    struct octo_arena arena;
    octo_arena_init(&arena, 4096, 64 * 1024);

    uint8_t id[38];
    for (size_t i = 0; i < sizeof(id); i++)
        id[i] = (uint8_t)(i + 1);
    static const uint8_t pubkey[] = {0x08, 0x01, 0x12, 0x20, 0xaa, 0xbb};
    struct octo_peer_addr addrs[] = {{ma1, sizeof(ma1)}, {ma2, sizeof(ma2)}, {ma1, sizeof(ma1)}};
    const char *protos[] = {"/ipfs/ping/1.0.0", "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"};
    struct octo_peerstore_entry rec = {
        .id = id,
        .id_len = sizeof(id),
        .pubkey = pubkey,
        .pubkey_len = sizeof(pubkey),
        .agent = "octo/0.1.0",
        .addrs = addrs,
        .addr_count = 3,
        .protocols = protos,
        .protocol_count = 3,
        .last_seen_ms = 1700000000000,
    };
    struct octo_peerstore_entry out;
    CHECK_ERR(octo_peerstore_get(&ps, id, sizeof(id), &arena, &out), OCTO_ENOTFOUND);
    CHECK_OK(octo_peerstore_put(&ps, &rec));
    CHECK_OK(octo_peerstore_get(&ps, id, sizeof(id), &arena, &out));
    CHECK_EQ_U64(out.id_len, sizeof(id));
    CHECK_MEM(out.id, id, sizeof(id));
    CHECK_EQ_U64(out.pubkey_len, sizeof(pubkey));
    CHECK_MEM(out.pubkey, pubkey, sizeof(pubkey));
    CHECK_STR(out.agent, "octo/0.1.0");
    CHECK_EQ_INT(out.last_seen_ms, 1700000000000);
    /* Duplicates stored once; bytewise order. */
    CHECK_EQ_U64(out.addr_count, 2);
    CHECK_EQ_U64(out.addrs[0].len, sizeof(ma2));
    CHECK_MEM(out.addrs[0].data, ma2, sizeof(ma2));
    CHECK_MEM(out.addrs[1].data, ma1, sizeof(ma1));
    CHECK_EQ_U64(out.protocol_count, 2);
    CHECK_STR(out.protocols[0], "/ipfs/id/1.0.0");
    CHECK_STR(out.protocols[1], "/ipfs/ping/1.0.0");

    /* Replace: optional fields cleared, children replaced. */
    const char *protos2[] = {"/octo/task/1"};
    struct octo_peerstore_entry rec2 = {
        .id = id,
        .id_len = sizeof(id),
        .addrs = &addrs[1],
        .addr_count = 1,
        .protocols = protos2,
        .protocol_count = 1,
        .last_seen_ms = 1700000000500,
    };
    CHECK_OK(octo_peerstore_put(&ps, &rec2));
    octo_arena_reset(&arena);
    CHECK_OK(octo_peerstore_get(&ps, id, sizeof(id), &arena, &out));
    CHECK(out.pubkey == NULL);
    CHECK_EQ_U64(out.pubkey_len, 0);
    CHECK(out.agent == NULL);
    CHECK_EQ_U64(out.addr_count, 1);
    CHECK_MEM(out.addrs[0].data, ma2, sizeof(ma2));
    CHECK_EQ_U64(out.protocol_count, 1);
    CHECK_STR(out.protocols[0], "/octo/task/1");
    CHECK_EQ_INT(out.last_seen_ms, 1700000000500);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM peer_addrs"), 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM peer_protocols"), 1);

    /* A record with nothing optional; an empty agent is kept as "". */
    struct rec_storage st;
    struct octo_peerstore_entry bare = *small_rec(&st, 7, 0);
    bare.agent = "";
    CHECK_OK(octo_peerstore_put(&ps, &bare));
    CHECK_OK(octo_peerstore_get(&ps, st.id, sizeof(st.id), &arena, &out));
    CHECK_EQ_U64(out.addr_count, 0);
    CHECK_EQ_U64(out.protocol_count, 0);
    CHECK_STR(out.agent, "");
    CHECK_EQ_INT(out.last_seen_ms, 0);

    uint64_t n = 0;
    CHECK_OK(octo_peerstore_count(&ps, &n));
    CHECK_EQ_U64(n, 2);

    /* Delete cascades to the child rows. */
    CHECK_OK(octo_peerstore_delete(&ps, id, sizeof(id)));
    CHECK_ERR(octo_peerstore_delete(&ps, id, sizeof(id)), OCTO_ENOTFOUND);
    CHECK(strstr(octo_store_errmsg(s), "no such peer") != NULL);
    CHECK_ERR(octo_peerstore_get(&ps, id, sizeof(id), &arena, &out), OCTO_ENOTFOUND);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM peer_addrs"), 0);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM peer_protocols"), 0);
    CHECK_OK(octo_peerstore_count(&ps, &n));
    CHECK_EQ_U64(n, 1);
    octo_arena_deinit(&arena);
    octo_store_close(s);
}

static void test_limits(void)
{
    struct octo_store *s = tdb_open_migrated("ps-lim");
    CHECK(s != NULL);
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 0);
    struct rec_storage st;
    struct octo_peerstore_entry r;

    /* ids */
    uint8_t id[OCTO_PEER_ID_MAX + 1];
    memset(id, 0x11, sizeof(id));
    r = *small_rec(&st, 1, 5);
    r.id = id;
    r.id_len = OCTO_PEER_ID_MAX;
    CHECK_OK(octo_peerstore_put(&ps, &r));
    r.id_len = OCTO_PEER_ID_MAX + 1;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_ETOOBIG);
    CHECK(strstr(octo_store_errmsg(s), "invalid input") != NULL);
    r.id_len = 0;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    r.id = NULL;
    r.id_len = 4;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    struct octo_arena arena;
    octo_arena_init(&arena, 4096, 64 * 1024);
    struct octo_peerstore_entry out;
    CHECK_ERR(octo_peerstore_get(&ps, id, 0, &arena, &out), OCTO_EINVAL);
    CHECK_ERR(octo_peerstore_get(&ps, id, OCTO_PEER_ID_MAX + 1, &arena, &out), OCTO_ETOOBIG);
    CHECK_ERR(octo_peerstore_delete(&ps, NULL, 3), OCTO_EINVAL);
    CHECK_ERR(octo_peerstore_delete(&ps, id, OCTO_PEER_ID_MAX + 1), OCTO_ETOOBIG);

    /* pubkey */
    static uint8_t key[OCTO_PEER_PUBKEY_MAX + 1];
    r = *small_rec(&st, 2, 5);
    r.pubkey = key;
    r.pubkey_len = OCTO_PEER_PUBKEY_MAX;
    CHECK_OK(octo_peerstore_put(&ps, &r));
    r.pubkey_len = OCTO_PEER_PUBKEY_MAX + 1;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_ETOOBIG);
    r.pubkey_len = 0;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    r.pubkey = NULL;
    r.pubkey_len = 3;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);

    /* agent */
    char agent[OCTO_PEER_AGENT_MAX + 2];
    memset(agent, 'a', sizeof(agent));
    agent[OCTO_PEER_AGENT_MAX] = '\0';
    r = *small_rec(&st, 3, 5);
    r.agent = agent;
    CHECK_OK(octo_peerstore_put(&ps, &r));
    agent[OCTO_PEER_AGENT_MAX] = 'a';
    agent[OCTO_PEER_AGENT_MAX + 1] = '\0';
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_ETOOBIG);
    static const char *const bad_utf8[] = {"\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82",
                                           "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad_utf8); i++) {
        r.agent = bad_utf8[i];
        CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    }
    r.agent = "ok \xe2\x82\xac \xf0\x9f\x90\x99";
    CHECK_OK(octo_peerstore_put(&ps, &r));

    /* time */
    r = *small_rec(&st, 4, -1);
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);

    /* addresses */
    static uint8_t addr_bytes[OCTO_PEER_ADDRS_MAX + 1][8];
    struct octo_peer_addr addrs[OCTO_PEER_ADDRS_MAX + 1];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(addrs); i++) {
        memcpy(addr_bytes[i], ma1, sizeof(ma1));
        addr_bytes[i][4] = (uint8_t)i;
        addrs[i].data = addr_bytes[i];
        addrs[i].len = sizeof(ma1);
    }
    r = *small_rec(&st, 5, 5);
    r.addrs = addrs;
    r.addr_count = OCTO_PEER_ADDRS_MAX;
    CHECK_OK(octo_peerstore_put(&ps, &r));
    CHECK_OK(octo_peerstore_get(&ps, st.id, sizeof(st.id), &arena, &out));
    CHECK_EQ_U64(out.addr_count, OCTO_PEER_ADDRS_MAX);
    r.addr_count = OCTO_PEER_ADDRS_MAX + 1;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_ETOOBIG);
    r.addr_count = 1;
    r.addrs = NULL;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    static uint8_t long_addr[OCTO_PEER_ADDR_MAX + 1];
    struct octo_peer_addr one = {long_addr, OCTO_PEER_ADDR_MAX + 1};
    r.addrs = &one;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_ETOOBIG);
    one.len = 0;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    one.len = OCTO_PEER_ADDR_MAX;
    CHECK_OK(octo_peerstore_put(&ps, &r));

    /* protocols */
    char names[OCTO_PEER_PROTOCOLS_MAX + 1][16];
    const char *protos[OCTO_PEER_PROTOCOLS_MAX + 1];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(protos); i++) {
        snprintf(names[i], sizeof(names[i]), "/p/%zu", i);
        protos[i] = names[i];
    }
    r = *small_rec(&st, 6, 5);
    r.protocols = protos;
    r.protocol_count = OCTO_PEER_PROTOCOLS_MAX;
    CHECK_OK(octo_peerstore_put(&ps, &r));
    octo_arena_reset(&arena);
    CHECK_OK(octo_peerstore_get(&ps, st.id, sizeof(st.id), &arena, &out));
    CHECK_EQ_U64(out.protocol_count, OCTO_PEER_PROTOCOLS_MAX);
    r.protocol_count = OCTO_PEER_PROTOCOLS_MAX + 1;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_ETOOBIG);
    r.protocol_count = 1;
    r.protocols = NULL;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    const char *empty[] = {""};
    r.protocols = empty;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    const char *nullp[] = {NULL};
    r.protocols = nullp;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_EINVAL);
    char longp[OCTO_PEER_PROTOCOL_MAX + 2];
    memset(longp, 'p', sizeof(longp));
    longp[OCTO_PEER_PROTOCOL_MAX + 1] = '\0';
    const char *lp[] = {longp};
    r.protocols = lp;
    CHECK_ERR(octo_peerstore_put(&ps, &r), OCTO_ETOOBIG);
    longp[OCTO_PEER_PROTOCOL_MAX] = '\0';
    CHECK_OK(octo_peerstore_put(&ps, &r));

    octo_arena_deinit(&arena);
    octo_store_close(s);
}

struct listed {
    int n;
    uint8_t tags[16];
    int64_t seen[16];
    int fail_at;
};

static int list_cb(const uint8_t *id, size_t id_len, int64_t last_seen_ms, void *ctx)
{
    struct listed *l = ctx;
    if (l->fail_at != 0 && l->n == l->fail_at)
        return OCTO_EIO;
    if (id_len != 4 || l->n >= 16)
        return OCTO_EINVAL;
    l->tags[l->n] = id[2];
    l->seen[l->n] = last_seen_ms;
    l->n++;
    return 0;
}

static void test_list(void)
{
    struct octo_store *s = tdb_open_migrated("ps-list");
    CHECK(s != NULL);
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 0);
    struct listed l = {0};
    CHECK_EQ_INT(octo_peerstore_list(&ps, 10, list_cb, &l), 0);
    struct rec_storage st;
    static const int64_t seen[] = {300, 100, 500, 300, 200};
    for (uint8_t i = 0; i < 5; i++)
        CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, (uint8_t)(i + 1), seen[i])));
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(octo_peerstore_list(&ps, 10, list_cb, &l), 5);
    /* Most recent first; ties by smaller id. */
    static const uint8_t want[] = {3, 1, 4, 5, 2};
    CHECK_MEM(l.tags, want, 5);
    CHECK_EQ_INT(l.seen[0], 500);
    CHECK_EQ_INT(l.seen[4], 100);
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(octo_peerstore_list(&ps, 2, list_cb, &l), 2);
    CHECK_MEM(l.tags, want, 2);
    CHECK_ERR(octo_peerstore_list(&ps, 0, list_cb, &l), OCTO_EINVAL);
    memset(&l, 0, sizeof(l));
    l.fail_at = 1;
    CHECK_ERR(octo_peerstore_list(&ps, 10, list_cb, &l), OCTO_EIO);
    CHECK_ERR(octo_peerstore_list(&ps, OCTO_PEERSTORE_LIST_MAX + 1, list_cb, &l), OCTO_EINVAL);
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(octo_peerstore_list(&ps, OCTO_PEERSTORE_LIST_MAX, list_cb, &l), 5);
    octo_store_close(s);
}

static int peer_present(struct octo_peerstore *ps, uint8_t tag)
{
    struct rec_storage st;
    small_rec(&st, tag, 0);
    struct octo_arena arena;
    octo_arena_init(&arena, 1024, 64 * 1024);
    struct octo_peerstore_entry out;
    int rc = octo_peerstore_get(ps, st.id, sizeof(st.id), &arena, &out);
    octo_arena_deinit(&arena);
    return rc == 0;
}

static void test_eviction(void)
{
    struct octo_store *s = tdb_open_migrated("ps-evict");
    CHECK(s != NULL);
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 3);
    struct rec_storage st;
    CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, 1, 20)));
    CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, 2, 10)));
    CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, 3, 30)));
    /* A fourth, newer peer evicts the oldest (2). */
    struct octo_peer_addr a = {ma1, sizeof(ma1)};
    struct octo_peerstore_entry r = *small_rec(&st, 4, 40);
    r.addrs = &a;
    r.addr_count = 1;
    CHECK_OK(octo_peerstore_put(&ps, &r));
    CHECK(!peer_present(&ps, 2));
    CHECK(peer_present(&ps, 1));
    CHECK(peer_present(&ps, 4));
    uint64_t n = 0;
    CHECK_OK(octo_peerstore_count(&ps, &n));
    CHECK_EQ_U64(n, 3);
    /* A new peer older than all is refused, nothing evicted. */
    CHECK_ERR(octo_peerstore_put(&ps, small_rec(&st, 5, 19)), OCTO_ETOOBIG);
    CHECK(strstr(octo_store_errmsg(s), "full") != NULL);
    CHECK(peer_present(&ps, 1));
    CHECK(!peer_present(&ps, 5));
    /* Equal to the oldest: evicts it. */
    CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, 5, 20)));
    CHECK(!peer_present(&ps, 1));
    CHECK(peer_present(&ps, 5));
    /* Updating a stored peer never evicts, even with an old time. */
    CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, 3, 1)));
    CHECK_OK(octo_peerstore_count(&ps, &n));
    CHECK_EQ_U64(n, 3);
    CHECK(peer_present(&ps, 3) && peer_present(&ps, 4) && peer_present(&ps, 5));

    /* A smaller capacity than the table holds evicts enough at the next new peer. */
    octo_peerstore_init(&ps, s, 1);
    CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, 6, 100)));
    CHECK_OK(octo_peerstore_count(&ps, &n));
    CHECK_EQ_U64(n, 1);
    CHECK(peer_present(&ps, 6));
    /* Evicted peers' addresses went with them. */
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM peer_addrs"), 0);
    octo_store_close(s);
}

static void test_transactions(void)
{
    struct octo_store *s = tdb_open_migrated("ps-tx");
    CHECK(s != NULL);
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 0);
    struct rec_storage st;
    /* Many puts in one caller transaction (one fsync). */
    CHECK_OK(octo_store_begin(s, true));
    for (int i = 0; i < 200; i++)
        CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, (uint8_t)i, i)));
    CHECK_EQ_INT(octo_store_tx_state(s), OCTO_STORE_TX_WRITE);
    CHECK_OK(octo_store_commit(s));
    uint64_t n = 0;
    CHECK_OK(octo_peerstore_count(&ps, &n));
    CHECK_EQ_U64(n, 200);
    /* Rolled back with the caller's transaction. */
    CHECK_OK(octo_store_begin(s, true));
    CHECK_OK(octo_peerstore_delete(&ps, st.id, sizeof(st.id)));
    CHECK_OK(octo_peerstore_put(&ps, small_rec(&st, 250, 1)));
    CHECK_OK(octo_store_rollback(s));
    CHECK_OK(octo_peerstore_count(&ps, &n));
    CHECK_EQ_U64(n, 200);
    CHECK(!peer_present(&ps, 250));
    /* Writes are refused inside a read transaction; reads work. */
    CHECK_OK(octo_store_begin(s, false));
    CHECK_ERR(octo_peerstore_put(&ps, small_rec(&st, 251, 1)), OCTO_ESTATE);
    CHECK_ERR(octo_peerstore_delete(&ps, st.id, sizeof(st.id)), OCTO_ESTATE);
    CHECK(peer_present(&ps, 7));
    CHECK_OK(octo_store_rollback(s));
    octo_store_close(s);
}

static void test_arena_and_fk(void)
{
    struct octo_store *s = tdb_open_migrated("ps-arena");
    CHECK(s != NULL);
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 0);
    struct rec_storage st;
    static uint8_t key[OCTO_PEER_PUBKEY_MAX];
    struct octo_peerstore_entry r = *small_rec(&st, 1, 1);
    r.pubkey = key;
    r.pubkey_len = sizeof(key);
    CHECK_OK(octo_peerstore_put(&ps, &r));
    /* An arena too small for the record: OCTO_ETOOBIG, and the store is left usable. */
    struct octo_arena arena;
    octo_arena_init(&arena, 256, 1024);
    struct octo_peerstore_entry out;
    CHECK_ERR(octo_peerstore_get(&ps, st.id, sizeof(st.id), &arena, &out), OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_store_tx_state(s), OCTO_STORE_TX_NONE);
    octo_arena_deinit(&arena);
    octo_arena_init(&arena, 256, 128);
    CHECK_ERR(octo_peerstore_get(&ps, st.id, sizeof(st.id), &arena, &out), OCTO_ETOOBIG);
    octo_arena_deinit(&arena);

    /* The child tables' foreign keys are enforced. */
    CHECK_ERR(octo_store_exec(s,
                              tdb_sql("INSERT INTO peer_addrs VALUES (x'99', x'01')",
                                      "INSERT INTO peer_addrs VALUES ('\\x99', '\\x01')"),
                              NULL, 0, NULL, NULL),
              OCTO_ESTORE);
    CHECK(strcasestr(octo_store_errmsg(s), "foreign key") != NULL);
    /* And the peers table's CHECK on the id length. */
    CHECK_ERR(octo_store_exec(s,
                              tdb_sql("INSERT INTO peers VALUES (x'', NULL, NULL, 0)",
                                      "INSERT INTO peers VALUES ('', NULL, NULL, 0)"),
                              NULL, 0, NULL, NULL),
              OCTO_ESTORE);
    octo_store_close(s);
}

int main(void)
{
    struct octo_log_config lc = {.level = OCTO_LOG_OFF};
    octo_log_configure(&lc);
    if (tdb_init("peerstore") < 0)
        return 1;
    TDB_RUN(test_roundtrip);
    TDB_RUN(test_limits);
    TDB_RUN(test_list);
    TDB_RUN(test_eviction);
    TDB_RUN(test_transactions);
    TDB_RUN(test_arena_and_fk);
    tdb_done();
    return octo_test_finish();
}
