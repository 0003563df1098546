/*
 * testdb.c — the per-backend runner and database factory of testdb.h.
 */
#define _GNU_SOURCE
#include "testdb.h"

#include "base/log.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

/* Room for a connection string with the test database appended. */
#define TDB_CONNINFO_MAX 1024

static bool g_pg_enabled;
static bool g_pg_current;
static char g_dbname[64];
static char g_maint[TDB_CONNINFO_MAX];          /* OCTO_TEST_PG as given */
static char g_conninfo[TDB_CONNINFO_MAX + 128]; /* the test database */
static char g_sqlite_path[600];

static int maint_exec(const char *sql)
{
    struct octo_store *s = NULL;
    int rc = octo_store_open_pg(&s, g_maint, NULL);
    if (rc < 0) {
        fprintf(stderr, "testdb: cannot connect with OCTO_TEST_PG=\"%s\": %s\n", g_maint,
                octo_strerror(rc));
        return rc;
    }
    rc = octo_store_exec_script(s, sql);
    if (rc < 0)
        fprintf(stderr, "testdb: \"%s\" failed: %s\n", sql, octo_store_errmsg(s));
    octo_store_close(s);
    return rc;
}

int tdb_init(const char *prog)
{
    const char *env = getenv("OCTO_TEST_PG");
    if (env == NULL || env[0] == '\0')
        return 0;
    if (strlen(env) + 100 > sizeof(g_maint)) {
        fprintf(stderr, "testdb: OCTO_TEST_PG too long\n");
        return -1;
    }
    snprintf(g_maint, sizeof(g_maint), "%s", env);
    snprintf(g_dbname, sizeof(g_dbname), "octo_t_%s_%ld", prog, (long)getpid());
    snprintf(g_conninfo, sizeof(g_conninfo), "%s dbname=%s", g_maint, g_dbname);
    char sql[160];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s; ", g_dbname);
    if (maint_exec(sql) < 0)
        return -1;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", g_dbname);
    if (maint_exec(sql) < 0)
        return -1;
    g_pg_enabled = true;
    return 0;
}

void tdb_done(void)
{
    if (!g_pg_enabled)
        return;
    char sql[160];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", g_dbname);
    if (maint_exec(sql) < 0)
        octo_test_failures++;
    g_pg_enabled = false;
}

void tdb_run(const char *name, void (*fn)(void))
{
    static char names[2][128];
    g_pg_current = false;
    snprintf(names[0], sizeof(names[0]), "%s[sqlite]", name);
    octo_test_run(names[0], fn);
    if (!g_pg_enabled)
        return;
    g_pg_current = true;
    snprintf(names[1], sizeof(names[1]), "%s[postgres]", name);
    octo_test_run(names[1], fn);
    g_pg_current = false;
}

bool tdb_is_pg(void)
{
    return g_pg_current;
}

const char *tdb_sql(const char *sqlite_sql, const char *pg_sql)
{
    return g_pg_current ? pg_sql : sqlite_sql;
}

int tdb_open_fresh(struct octo_store **out, const char *tag)
{
    if (!g_pg_current) {
        snprintf(g_sqlite_path, sizeof(g_sqlite_path), "%s/db.sqlite", octo_test_tmpdir(tag));
        return octo_store_open_sqlite(out, g_sqlite_path, NULL);
    }
    struct octo_store *s = NULL;
    int rc = octo_store_open_pg(&s, g_conninfo, NULL);
    if (rc < 0)
        return rc;
    rc = octo_store_exec_script(s, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
    if (rc < 0) {
        fprintf(stderr, "testdb: resetting the schema failed: %s\n", octo_store_errmsg(s));
        octo_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int tdb_open_again(struct octo_store **out, uint32_t busy_ms)
{
    if (!g_pg_current) {
        struct octo_store_sqlite_options o = {.busy_timeout_ms = busy_ms};
        return octo_store_open_sqlite(out, g_sqlite_path, &o);
    }
    struct octo_store_pg_options o = {.busy_timeout_ms = busy_ms};
    return octo_store_open_pg(out, g_conninfo, &o);
}

struct octo_store *tdb_open_migrated(const char *tag)
{
    struct octo_store *s = NULL;
    if (tdb_open_fresh(&s, tag) < 0)
        return NULL;
    if (octo_store_migrate_node(s) < 0) {
        octo_store_close(s);
        return NULL;
    }
    return s;
}
