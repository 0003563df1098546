/*
 * test_settings.c — settings get/set/delete/list: round trips, upsert, empty and largest
 * values, key rules, the caller's buffer ceiling, the key-count limit, transactions — against
 * SQLite and, with OCTO_TEST_PG set, PostgreSQL (testdb.h).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/log.h"
#include "store/settings.h"
#include "test.h"
#include "testdb.h"

static void test_roundtrip(void)
{
    struct octo_store *s = tdb_open_migrated("set-rt");
    CHECK(s != NULL);
    struct octo_buf b;
    octo_buf_init(&b, OCTO_SETTINGS_VALUE_MAX);
    CHECK_ERR(octo_settings_get(s, "node.name", &b), OCTO_ENOTFOUND);
    CHECK(strstr(octo_store_errmsg(s), "node.name") != NULL);
    CHECK_OK(octo_settings_set(s, "node.name", "alpha", 5));
    CHECK_OK(octo_settings_get(s, "node.name", &b));
    CHECK_EQ_U64(b.len, 5);
    CHECK_MEM(b.data, "alpha", 5);
    /* Upsert replaces. */
    CHECK_OK(octo_settings_set(s, "node.name", "\x00\x01\x02", 3));
    CHECK_OK(octo_settings_get(s, "node.name", &b));
    CHECK_HEX(b.data, b.len, "000102");
    /* Empty value (NULL pointer allowed with 0 length) is a value, not absence. */
    CHECK_OK(octo_settings_set(s, "empty", NULL, 0));
    CHECK_OK(octo_settings_get(s, "empty", &b));
    CHECK_EQ_U64(b.len, 0);
    /* The largest value. */
    uint8_t *big = octo_malloc(OCTO_SETTINGS_VALUE_MAX + 1);
    CHECK(big != NULL);
    for (size_t i = 0; i <= OCTO_SETTINGS_VALUE_MAX; i++)
        big[i] = (uint8_t)(i * 7);
    int rc1 = octo_settings_set(s, "big", big, OCTO_SETTINGS_VALUE_MAX);
    int rc2 = octo_settings_get(s, "big", &b);
    int same = b.len == OCTO_SETTINGS_VALUE_MAX && memcmp(b.data, big, b.len) == 0;
    int rc3 = octo_settings_set(s, "big2", big, OCTO_SETTINGS_VALUE_MAX + 1);
    octo_free(big);
    CHECK_OK(rc1);
    CHECK_OK(rc2);
    CHECK(same);
    CHECK_ERR(rc3, OCTO_ETOOBIG);
    /* A caller buffer too small for the value. */
    struct octo_buf small;
    octo_buf_init(&small, 4);
    CHECK_ERR(octo_settings_get(s, "big", &small), OCTO_ETOOBIG);
    CHECK_EQ_U64(small.len, 0);
    CHECK_OK(octo_settings_set(s, "four", "abcd", 4));
    CHECK_OK(octo_settings_get(s, "four", &small));
    CHECK_EQ_U64(small.len, 4);
    octo_buf_deinit(&small);

    CHECK_OK(octo_settings_delete(s, "node.name"));
    CHECK(b.len > 0);
    CHECK_ERR(octo_settings_get(s, "node.name", &b), OCTO_ENOTFOUND);
    CHECK_EQ_U64(b.len, 0); /* emptied on error */
    CHECK_ERR(octo_settings_delete(s, "node.name"), OCTO_ENOTFOUND);
    octo_buf_deinit(&b);
    octo_store_close(s);

    /* Values survive reopening. */
    struct octo_store *s2 = NULL;
    CHECK_OK(tdb_open_again(&s2, 0));
    octo_buf_init(&b, 16);
    CHECK_OK(octo_settings_get(s2, "four", &b));
    CHECK_MEM(b.data, "abcd", 4);
    octo_buf_deinit(&b);
    octo_store_close(s2);
}

static void test_keys(void)
{
    struct octo_store *s = tdb_open_migrated("set-keys");
    CHECK(s != NULL);
    struct octo_buf b;
    octo_buf_init(&b, 64);
    char key[OCTO_SETTINGS_KEY_MAX + 2];
    memset(key, 'k', sizeof(key));
    key[OCTO_SETTINGS_KEY_MAX] = '\0';
    CHECK_OK(octo_settings_set(s, key, "v", 1));
    CHECK_OK(octo_settings_get(s, key, &b));
    key[OCTO_SETTINGS_KEY_MAX] = 'k';
    key[OCTO_SETTINGS_KEY_MAX + 1] = '\0';
    CHECK_ERR(octo_settings_set(s, key, "v", 1), OCTO_ETOOBIG);
    CHECK_ERR(octo_settings_get(s, key, &b), OCTO_ETOOBIG);
    CHECK_ERR(octo_settings_delete(s, key), OCTO_ETOOBIG);
    CHECK(strstr(octo_store_errmsg(s), "invalid key") != NULL);
    static const char *const bad[] = {"", "with space", "tab\there", "caf\xc3\xa9", "nl\n"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        CHECK_ERR(octo_settings_set(s, bad[i], "v", 1), OCTO_EINVAL);
        CHECK_ERR(octo_settings_get(s, bad[i], &b), OCTO_EINVAL);
        CHECK_ERR(octo_settings_delete(s, bad[i]), OCTO_EINVAL);
    }
    CHECK_ERR(octo_settings_set(s, NULL, "v", 1), OCTO_EINVAL);
    CHECK_ERR(octo_settings_set(s, "k", NULL, 1), OCTO_EINVAL);
    CHECK_OK(octo_settings_set(s, "!~all-printable.ASCII_0-9", "v", 1));
    octo_buf_deinit(&b);
    octo_store_close(s);
}

struct listed {
    int n;
    char keys[8][32];
    size_t lens[8];
    int stop_after;
};

static int list_cb(const char *key, const uint8_t *val, size_t len, void *ctx)
{
    struct listed *l = ctx;
    (void)val;
    if (l->stop_after != 0 && l->n == l->stop_after)
        return OCTO_ERANGE;
    if (l->n < 8) {
        snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", key);
        l->lens[l->n] = len;
    }
    l->n++;
    return 0;
}

static void test_list(void)
{
    struct octo_store *s = tdb_open_migrated("set-list");
    CHECK(s != NULL);
    struct listed l = {0};
    CHECK_EQ_INT(octo_settings_list(s, list_cb, &l), 0);
    CHECK_OK(octo_settings_set(s, "b", "22", 2));
    CHECK_OK(octo_settings_set(s, "a", "1", 1));
    CHECK_OK(octo_settings_set(s, "C", "333", 3));
    CHECK_OK(octo_settings_set(s, "a.b", "", 0));
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(octo_settings_list(s, list_cb, &l), 4);
    /* Bytewise order. */
    CHECK_STR(l.keys[0], "C");
    CHECK_STR(l.keys[1], "a");
    CHECK_STR(l.keys[2], "a.b");
    CHECK_STR(l.keys[3], "b");
    CHECK_EQ_U64(l.lens[0], 3);
    CHECK_EQ_U64(l.lens[2], 0);
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    CHECK_ERR(octo_settings_list(s, list_cb, &l), OCTO_ERANGE);
    CHECK_EQ_INT(l.n, 2);
    octo_store_close(s);
}

static void test_count_limit_and_tx(void)
{
    struct octo_store *s = tdb_open_migrated("set-limit");
    CHECK(s != NULL);
    /* Fill to the limit in one transaction (one fsync). */
    CHECK_OK(octo_store_begin(s, true));
    for (int i = 0; i < OCTO_SETTINGS_COUNT_MAX; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%05d", i);
        CHECK_OK(octo_settings_set(s, key, &i, sizeof(i)));
    }
    CHECK_OK(octo_store_commit(s));
    CHECK_ERR(octo_settings_set(s, "one.more", "x", 1), OCTO_ETOOBIG);
    CHECK(strstr(octo_store_errmsg(s), "already") != NULL);
    CHECK_OK(octo_settings_set(s, "k00007", "updated", 7)); /* updates still work */
    CHECK_OK(octo_settings_delete(s, "k00000"));
    CHECK_OK(octo_settings_set(s, "one.more", "x", 1));

    /* Inside the caller's transaction: rollback discards set and delete. */
    CHECK_OK(octo_store_begin(s, true));
    CHECK_OK(octo_settings_delete(s, "one.more"));
    CHECK_OK(octo_settings_set(s, "k00001", "tx", 2));
    CHECK_OK(octo_store_rollback(s));
    struct octo_buf b;
    octo_buf_init(&b, 64);
    CHECK_OK(octo_settings_get(s, "one.more", &b));
    CHECK_OK(octo_settings_get(s, "k00001", &b));
    CHECK_EQ_U64(b.len, sizeof(int));
    /* A read transaction allows get but refuses set/delete. */
    CHECK_OK(octo_store_begin(s, false));
    CHECK_OK(octo_settings_get(s, "k00001", &b));
    CHECK_ERR(octo_settings_set(s, "k00001", "x", 1), OCTO_ESTATE);
    CHECK_ERR(octo_settings_delete(s, "k00001"), OCTO_ESTATE);
    CHECK_OK(octo_store_rollback(s));
    octo_buf_deinit(&b);
    octo_store_close(s);
}

static void test_unmigrated(void)
{
    struct octo_store *s = NULL;
    CHECK_OK(tdb_open_fresh(&s, "set-nomig"));
    struct octo_buf b;
    octo_buf_init(&b, 64);
    CHECK_ERR(octo_settings_get(s, "a", &b), OCTO_ESTORE);
    CHECK(strstr(octo_store_errmsg(s), tdb_sql("no such table", "does not exist")) != NULL);
    CHECK_ERR(octo_settings_set(s, "a", "b", 1), OCTO_ESTORE);
    CHECK_EQ_INT(octo_store_tx_state(s), OCTO_STORE_TX_NONE);
    octo_buf_deinit(&b);
    octo_store_close(s);
}

int main(void)
{
    struct octo_log_config lc = {.level = OCTO_LOG_OFF};
    octo_log_configure(&lc);
    if (tdb_init("settings") < 0)
        return 1;
    TDB_RUN(test_roundtrip);
    TDB_RUN(test_keys);
    TDB_RUN(test_list);
    TDB_RUN(test_count_limit_and_tx);
    TDB_RUN(test_unmigrated);
    tdb_done();
    return octo_test_finish();
}
