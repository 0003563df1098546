/*
 * test_migrate.c — versioned migrations: a fresh database, a re-run (no-op), applied_at, a
 * database newer than the program (refused), a failing migration (version unchanged, changes
 * rolled back), misuse inside a transaction, independent schemas, and the asserts on a badly
 * ordered schema (checked in a forked child that must abort). All but the last run against
 * SQLite and, with OCTO_TEST_PG set, PostgreSQL (testdb.h).
 */
#define _GNU_SOURCE
#include "base/assert.h"
#include "base/log.h"
#include "store/store.h"
#include "test.h"
#include "testdb.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_path[600];

static const char *fresh_path(const char *tag)
{
    snprintf(g_path, sizeof(g_path), "%s/db.sqlite", octo_test_tmpdir(tag));
    return g_path;
}

static int64_t query_i64(struct octo_store *s, const char *sql)
{
    int64_t v = -12345;
    if (octo_store_query_int64(s, sql, NULL, 0, &v) < 0)
        return -12345;
    return v;
}

static int64_t table_count(struct octo_store *s, const char *name)
{
    struct octo_store_value p[] = {octo_store_textn(name, strlen(name))};
    int64_t v = -1;
    const char *sql = tdb_sql("SELECT count(*) FROM sqlite_master WHERE name = $1",
                              "SELECT count(*) FROM pg_class WHERE relname = $1"
                              " AND relnamespace = 'public'::regnamespace");
    if (octo_store_query_int64(s, sql, p, 1, &v) < 0)
        return -1;
    return v;
}

static void test_fresh_and_rerun(void)
{
    struct octo_store *s = NULL;
    CHECK_OK(tdb_open_fresh(&s, "mig-fresh"));
    int64_t v = -1;
    CHECK_OK(octo_store_schema_version(s, &octo_store_node_schema, &v));
    CHECK_EQ_INT(v, 0); /* no version table yet */
    CHECK_EQ_INT(table_count(s, "schema_migrations"), 0);

    CHECK_OK(octo_store_migrate_node_at(s, 1700000000123));
    CHECK_OK(octo_store_schema_version(s, &octo_store_node_schema, &v));
    CHECK_EQ_INT(v, 9);
    CHECK_EQ_INT(table_count(s, "settings"), 1);
    CHECK_EQ_INT(table_count(s, "providers"), 1);
    CHECK_EQ_INT(table_count(s, "tasks"), 1);
    CHECK_EQ_INT(table_count(s, "peers"), 1);
    CHECK_EQ_INT(table_count(s, "peer_addrs"), 1);
    CHECK_EQ_INT(table_count(s, "peer_protocols"), 1);
    CHECK_EQ_INT(table_count(s, "peers_last_seen"), 1);
    CHECK_EQ_INT(table_count(s, "chain_blocks"), 1);
    CHECK_EQ_INT(table_count(s, "chain_txs"), 1);
    CHECK_EQ_INT(table_count(s, "chain_proofs"), 1);
    CHECK_EQ_INT(table_count(s, "api_keys"), 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations"), 9);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 1 AND"
                              " name = 'settings' AND applied_at = 1700000000123"),
                 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 2 AND"
                              " name = 'peerstore'"),
                 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 3 AND"
                              " name = 'providers'"),
                 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 4 AND"
                              " name = 'tasks'"),
                 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 5 AND"
                              " name = 'chain'"),
                 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 6 AND"
                              " name = 'chain_proofs'"),
                 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 7 AND"
                              " name = 'api_keys'"),
                 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 8 AND"
                              " name = 'tasks_by_owner'"),
                 1);
    CHECK_EQ_INT(table_count(s, "agents"), 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE version = 9 AND"
                              " name = 'agents'"),
                 1);

    /* Re-running is a no-op: nothing re-applied, the rows untouched. */
    CHECK_OK(octo_store_migrate_node_at(s, 1800000000000));
    CHECK_OK(octo_store_migrate_node(s));
    CHECK_EQ_INT(table_count(s, "chain_blocks"), 1);
    CHECK_EQ_INT(table_count(s, "chain_txs"), 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations"), 9);
    CHECK_EQ_INT(query_i64(s, "SELECT max(applied_at) FROM schema_migrations"), 1700000000123);
    octo_store_close(s);

    /* And after reopening. */
    CHECK_OK(tdb_open_again(&s, 0));
    CHECK_OK(octo_store_migrate_node(s));
    CHECK_EQ_INT(table_count(s, "chain_blocks"), 1);
    CHECK_EQ_INT(table_count(s, "chain_txs"), 1);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations"), 9);
    octo_store_close(s);

    /* migrate_node records an unknown time as NULL. */
    CHECK_OK(tdb_open_fresh(&s, "mig-null"));
    CHECK_OK(octo_store_migrate_node(s));
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM schema_migrations WHERE applied_at IS NULL"),
                 9);
    octo_store_close(s);
}

static void test_newer_refused(void)
{
    struct octo_store *s = NULL;
    CHECK_OK(tdb_open_fresh(&s, "mig-newer"));
    CHECK_OK(octo_store_migrate_node(s));
    CHECK_OK(octo_store_exec(s,
                             "INSERT INTO schema_migrations (version, name, applied_at)"
                             " VALUES (1000, 'from-the-future', 0)",
                             NULL, 0, NULL, NULL));
    CHECK_ERR(octo_store_migrate_node(s), OCTO_EUNSUPPORTED);
    CHECK(strstr(octo_store_errmsg(s), "version 1000") != NULL);
    CHECK(strstr(octo_store_errmsg(s), "newer") != NULL);
    int64_t v = 0;
    CHECK_OK(octo_store_schema_version(s, &octo_store_node_schema, &v));
    CHECK_EQ_INT(v, 1000);
    octo_store_close(s);
}

static const struct octo_store_migration failing[] = {
    {1, "one", "CREATE TABLE t1 (x); INSERT INTO t1 VALUES (1);",
     "CREATE TABLE t1 (x BIGINT); INSERT INTO t1 VALUES (1);"},
    {2, "two", "CREATE TABLE t2 (x); INSERT INTO t1 VALUES (2); INSERT INTO nosuch VALUES (1);",
     "CREATE TABLE t2 (x BIGINT); INSERT INTO t1 VALUES (2); INSERT INTO nosuch VALUES (1);"},
    {5, "five", "CREATE TABLE t5 (x);", "CREATE TABLE t5 (x BIGINT);"},
};

static const struct octo_store_schema failing_schema = {
    .name = "test",
    .table = "test_migrations",
    .migrations = failing,
    .count = OCTO_ARRAY_LEN(failing),
};

static const struct octo_store_schema fixed_schema = {
    .name = "test",
    .table = "test_migrations",
    .migrations =
        (const struct octo_store_migration[]){
            {1, "one", "CREATE TABLE t1 (x); INSERT INTO t1 VALUES (1);",
             "CREATE TABLE t1 (x BIGINT); INSERT INTO t1 VALUES (1);"},
            {2, "two", "CREATE TABLE t2 (x); INSERT INTO t1 VALUES (2);",
             "CREATE TABLE t2 (x BIGINT); INSERT INTO t1 VALUES (2);"},
            {5, "five", "CREATE TABLE t5 (x);", "CREATE TABLE t5 (x BIGINT);"},
        },
    .count = 3,
};

static void test_failing_migration(void)
{
    struct octo_store *s = NULL;
    CHECK_OK(tdb_open_fresh(&s, "mig-fail"));
    CHECK_ERR(octo_store_migrate(s, &failing_schema, 42), OCTO_ESTORE);
    CHECK(strstr(octo_store_errmsg(s), "migration 2 (two) failed") != NULL);
    CHECK(strstr(octo_store_errmsg(s), "nosuch") != NULL);
    CHECK_EQ_INT(octo_store_tx_state(s), OCTO_STORE_TX_NONE);
    int64_t v = 0;
    CHECK_OK(octo_store_schema_version(s, &failing_schema, &v));
    CHECK_EQ_INT(v, 1);
    /* Migration 2's changes are gone; migration 1's stay; 5 never ran. */
    CHECK_EQ_INT(table_count(s, "t1"), 1);
    CHECK_EQ_INT(table_count(s, "t2"), 0);
    CHECK_EQ_INT(table_count(s, "t5"), 0);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM t1"), 1);
    /* Running again fails the same way and changes nothing. */
    CHECK_ERR(octo_store_migrate(s, &failing_schema, 43), OCTO_ESTORE);
    CHECK_OK(octo_store_schema_version(s, &failing_schema, &v));
    CHECK_EQ_INT(v, 1);

    /* A fixed program continues from version 1; gaps in numbering are fine. */
    CHECK_OK(octo_store_migrate(s, &fixed_schema, 44));
    CHECK_OK(octo_store_schema_version(s, &fixed_schema, &v));
    CHECK_EQ_INT(v, 5);
    CHECK_EQ_INT(query_i64(s, "SELECT count(*) FROM t1"), 2);
    CHECK_EQ_INT(query_i64(s, "SELECT applied_at FROM test_migrations WHERE version = 1"), 42);
    CHECK_EQ_INT(query_i64(s, "SELECT applied_at FROM test_migrations WHERE version = 5"), 44);

    /* Independent schemas keep independent version tables. */
    CHECK_OK(octo_store_migrate_node(s));
    CHECK_OK(octo_store_schema_version(s, &octo_store_node_schema, &v));
    CHECK_EQ_INT(v, 9);
    CHECK_OK(octo_store_schema_version(s, &fixed_schema, &v));
    CHECK_EQ_INT(v, 5);
    octo_store_close(s);
}

static void test_misuse(void)
{
    struct octo_store *s = NULL;
    CHECK_OK(tdb_open_fresh(&s, "mig-misuse"));
    CHECK_OK(octo_store_begin(s, true));
    CHECK_ERR(octo_store_migrate_node(s), OCTO_ESTATE);
    CHECK(strstr(octo_store_errmsg(s), "outside a transaction") != NULL);
    CHECK_OK(octo_store_rollback(s));

    /* An empty schema only creates its table. */
    static const struct octo_store_schema empty = {"empty", "empty_migrations", NULL, 0};
    CHECK_OK(octo_store_migrate(s, &empty, 0));
    int64_t v = -1;
    CHECK_OK(octo_store_schema_version(s, &empty, &v));
    CHECK_EQ_INT(v, 0);
    octo_store_close(s);
}

static void test_missing_backend_sql(void)
{
    /* sql_sqlite is mandatory (asserted), so only PostgreSQL can lack its script. */
    if (!tdb_is_pg())
        return;
    static const struct octo_store_migration sqlite_only[] = {
        {1, "one", "CREATE TABLE t1 (x);", NULL},
    };
    static const struct octo_store_schema sc = {"sqlite-only", "so_migrations", sqlite_only, 1};
    struct octo_store *s = NULL;
    CHECK_OK(tdb_open_fresh(&s, "mig-nosql"));
    CHECK_ERR(octo_store_migrate(s, &sc, 0), OCTO_EUNSUPPORTED);
    CHECK(strstr(octo_store_errmsg(s), "no SQL for the postgres backend") != NULL);
    int64_t v = -1;
    CHECK_OK(octo_store_schema_version(s, &sc, &v));
    CHECK_EQ_INT(v, 0);
    octo_store_close(s);
}

/* Two connections migrating the same database one after the other: the second finds the work
 * done; a write transaction open on one makes the other's migration wait, then EBUSY. */
static void test_two_connections(void)
{
    struct octo_store *a = NULL;
    struct octo_store *b = NULL;
    CHECK_OK(tdb_open_fresh(&a, "mig-two"));
    CHECK_OK(tdb_open_again(&b, 100));
    CHECK_OK(octo_store_migrate_node(a));
    CHECK_OK(octo_store_migrate_node(b));
    CHECK_EQ_INT(query_i64(b, "SELECT count(*) FROM schema_migrations"), 9);
    CHECK_OK(octo_store_begin(a, true));
    CHECK_ERR(octo_store_migrate(b, &fixed_schema, 1), OCTO_EBUSY);
    CHECK_OK(octo_store_rollback(a));
    CHECK_OK(octo_store_migrate(b, &fixed_schema, 1));
    CHECK_EQ_INT(query_i64(a, "SELECT count(*) FROM t1"), 2);
    octo_store_close(a);
    octo_store_close(b);
}

/* Runs fn in a child; returns 1 if it died of SIGABRT. */
static int aborts(void (*fn)(void))
{
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2); /* the assert message is expected */
        fn();
        _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 0;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void migrate_unordered(void)
{
    static const struct octo_store_migration bad[] = {
        {2, "two", "SELECT 1;", NULL},
        {2, "again", "SELECT 1;", NULL},
    };
    static const struct octo_store_schema sc = {"bad", "bad_migrations", bad, 2};
    struct octo_store *s = NULL;
    if (octo_store_open_sqlite(&s, fresh_path("mig-abort"), NULL) < 0)
        _exit(1);
    int rc = octo_store_migrate(s, &sc, 0);
    _exit(rc == 0 ? 0 : 1);
}

static void migrate_bad_table(void)
{
    static const struct octo_store_migration one[] = {{1, "one", "SELECT 1;", NULL}};
    static const struct octo_store_schema sc = {"bad", "x; DROP TABLE y", one, 1};
    struct octo_store *s = NULL;
    if (octo_store_open_sqlite(&s, fresh_path("mig-abort2"), NULL) < 0)
        _exit(1);
    int rc = octo_store_migrate(s, &sc, 0);
    _exit(rc == 0 ? 0 : 1);
}

static void test_schema_asserts(void)
{
    CHECK(aborts(migrate_unordered));
    CHECK(aborts(migrate_bad_table));
}

int main(void)
{
    struct octo_log_config lc = {.level = OCTO_LOG_OFF};
    octo_log_configure(&lc);
    if (tdb_init("migrate") < 0)
        return 1;
    TDB_RUN(test_fresh_and_rerun);
    TDB_RUN(test_newer_refused);
    TDB_RUN(test_failing_migration);
    TDB_RUN(test_misuse);
    TDB_RUN(test_missing_backend_sql);
    TDB_RUN(test_two_connections);
    OCTO_RUN(test_schema_asserts);
    tdb_done();
    return octo_test_finish();
}
