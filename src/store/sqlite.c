/*
 * sqlite.c — the SQLite backend of the storage interface (SQLite 3.40 as shipped by Debian 12).
 *
 * Configuration, applied and verified at open:
 *   - SQLITE_OPEN_NOMUTEX: the connection is not serialised by SQLite; the store's contract
 *     (one thread at a time per connection) makes the mutex pointless.
 *   - journal_mode=WAL (verified: the pragma answers with the mode in force), so readers do
 *     not block the writer; synchronous=FULL (verified), so a commit is on disk (WAL fsynced)
 *     before it returns — an acknowledged write survives a crash or power loss;
 *     foreign_keys=ON (verified: it is per connection and silently ignored if unsupported);
 *     busy_timeout (default 5000 ms) so a locked database is waited for, then OCTO_EBUSY.
 *   - Write transactions are BEGIN IMMEDIATE (the write lock is taken at begin, so a
 *     read-then-write transaction cannot fail with SQLITE_BUSY_SNAPSHOT half-way); read
 *     transactions are BEGIN DEFERRED.
 *   - sqlite3_limit caps string/blob length, SQL length and the number of parameters, so
 *     SQLite itself refuses what store.c's checks would refuse.
 *   - File modes: the database file is created by us with mode 0600 (and tightened to 0600 if
 *     it exists); SQLite creates -wal and -shm with the database file's mode, and we tighten
 *     them after setting WAL in case they were left behind with another mode.
 *
 * No statement cache: every exec prepares and finalizes its statement, so no statement is ever
 * pending between calls (COMMIT and ROLLBACK never meet an active statement). Prepare cost is
 * small next to an fsync per commit; a cache can be added behind exec without API changes.
 *
 * Memory: one octo_calloc'd struct per connection; SQLite's own allocations stay inside the
 * library and are released by sqlite3_close.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Mode of the database, -wal and -shm files. */
#define SQLITE_FILE_MODE 0600
/* SQLite's own cap on any string, blob or row it builds (a few values per row). */
#define SQLITE_LENGTH_LIMIT (4 * OCTO_STORE_VALUE_MAX)

struct sqlite_store {
    struct octo_store base; /* first: the store pointer is the backend pointer */
    sqlite3 *db;
    int64_t changes; /* rows changed by the last exec; 0 after a read-only statement */
};

static struct sqlite_store *to_sqlite(struct octo_store *s)
{
    OCTO_ASSERT(s->backend == OCTO_STORE_SQLITE);
    return (struct sqlite_store *)s;
}

/*
 * SQLite result code (extended) -> OCTO_E*:
 *   BUSY, LOCKED -> EBUSY            NOMEM -> ENOMEM         TOOBIG, RANGE -> ETOOBIG
 *   READONLY, PERM, AUTH -> EPERM    CANTOPEN -> EIO
 *   CONSTRAINT_PRIMARYKEY, CONSTRAINT_UNIQUE -> EEXIST        anything else -> ESTORE
 */
static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return OCTO_EBUSY;
    case SQLITE_NOMEM:
        return OCTO_ENOMEM;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return OCTO_ETOOBIG;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return OCTO_EPERM;
    case SQLITE_CANTOPEN:
        return OCTO_EIO;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
            return OCTO_EEXIST;
        return OCTO_ESTORE;
    default:
        return OCTO_ESTORE;
    }
}

/* Brings s->tx back in line when SQLite ended a transaction on its own (some errors roll
 * back automatically: SQLITE_FULL, IOERR, NOMEM, BUSY in some cases). */
static void sync_tx(struct sqlite_store *ss)
{
    if (ss->base.tx != OCTO_STORE_TX_NONE && sqlite3_get_autocommit(ss->db))
        ss->base.tx = OCTO_STORE_TX_NONE;
}

/* Records a failure: the message names the operation, SQLite's message and code name. */
static int fail(struct sqlite_store *ss, const char *what, int rc)
{
    octo__store_seterr(&ss->base, "sqlite %s: %s (%s)", what, sqlite3_errmsg(ss->db),
                       sqlite3_errstr(rc));
    sync_tx(ss);
    return map_rc(rc);
}

/* Runs fixed SQL (transaction control, pragmas without results). */
static int run_simple(struct sqlite_store *ss, const char *what, const char *sql)
{
    int rc = sqlite3_exec(ss->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(ss, what, rc);
    return 0;
}

/* ---- transactions ---- */

static int sq_begin(struct octo_store *s, bool write)
{
    struct sqlite_store *ss = to_sqlite(s);
    int rc = run_simple(ss, "begin", write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    if (rc < 0)
        return rc;
    s->tx = write ? OCTO_STORE_TX_WRITE : OCTO_STORE_TX_READ;
    return 0;
}

/* A failed COMMIT leaves SQLite's transaction open (e.g. a deferred foreign key), but
 * PostgreSQL's always ends: store.h promises the PostgreSQL behaviour for both, so the
 * transaction is rolled back here and the caller re-runs it from begin if it wants to. */
static int sq_commit(struct octo_store *s)
{
    struct sqlite_store *ss = to_sqlite(s);
    int rc = run_simple(ss, "commit", "COMMIT");
    if (rc < 0) {
        if (!sqlite3_get_autocommit(ss->db)) {
            char saved[OCTO_STORE_ERRMSG_MAX];
            memcpy(saved, s->errmsg, sizeof(saved));
            (void)run_simple(ss, "rollback", "ROLLBACK");
            memcpy(s->errmsg, saved, sizeof(saved));
        }
        s->tx = OCTO_STORE_TX_NONE;
        return rc;
    }
    OCTO_DASSERT(sqlite3_get_autocommit(ss->db));
    s->tx = OCTO_STORE_TX_NONE;
    return 0;
}

static int sq_rollback(struct octo_store *s)
{
    struct sqlite_store *ss = to_sqlite(s);
    int rc = run_simple(ss, "rollback", "ROLLBACK");
    /* No statement is ever left pending, so ROLLBACK cannot leave the transaction open. */
    OCTO_DASSERT(sqlite3_get_autocommit(ss->db));
    s->tx = OCTO_STORE_TX_NONE;
    return rc;
}

/* ---- rows ---- */

static sqlite3_stmt *row_stmt(const struct octo_store_row *row)
{
    return row->impl;
}

static enum octo_store_type sq_row_type(const struct octo_store_row *row, unsigned col)
{
    switch (sqlite3_column_type(row_stmt(row), (int)col)) {
    case SQLITE_NULL:
        return OCTO_STORE_NULL;
    case SQLITE_INTEGER:
        return OCTO_STORE_INT64;
    case SQLITE_TEXT:
        return OCTO_STORE_TEXT;
    case SQLITE_BLOB:
        return OCTO_STORE_BLOB;
    default:
        return OCTO_STORE_OTHER;
    }
}

static int64_t sq_row_int64(const struct octo_store_row *row, unsigned col)
{
    return sqlite3_column_int64(row_stmt(row), (int)col);
}

static const char *sq_row_text(const struct octo_store_row *row, unsigned col, size_t *len)
{
    const unsigned char *p = sqlite3_column_text(row_stmt(row), (int)col);
    int n = sqlite3_column_bytes(row_stmt(row), (int)col);
    *len = p != NULL && n > 0 ? (size_t)n : 0;
    return (const char *)p;
}

static const void *sq_row_blob(const struct octo_store_row *row, unsigned col, size_t *len)
{
    const void *p = sqlite3_column_blob(row_stmt(row), (int)col);
    int n = sqlite3_column_bytes(row_stmt(row), (int)col);
    *len = p != NULL && n > 0 ? (size_t)n : 0;
    return p;
}

static const struct octo_store_row_ops sqlite_row_ops = {
    .type = sq_row_type,
    .int64 = sq_row_int64,
    .text = sq_row_text,
    .blob = sq_row_blob,
};

/* ---- exec ---- */

static bool only_space(const char *p)
{
    for (; *p != '\0'; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';')
            return false;
    }
    return true;
}

static int bind_one(sqlite3_stmt *st, int idx, const struct octo_store_value *v)
{
    switch (v->type) {
    case OCTO_STORE_NULL:
        return sqlite3_bind_null(st, idx);
    case OCTO_STORE_INT64:
        return sqlite3_bind_int64(st, idx, v->i64);
    case OCTO_STORE_TEXT:
        return sqlite3_bind_text64(st, idx, v->len > 0 ? v->ptr : "", v->len, SQLITE_STATIC,
                                   SQLITE_UTF8);
    case OCTO_STORE_BLOB:
        /* A NULL pointer would bind SQL NULL; an empty blob must stay a blob. */
        if (v->len == 0)
            return sqlite3_bind_zeroblob(st, idx, 0);
        return sqlite3_bind_blob64(st, idx, v->ptr, v->len, SQLITE_STATIC);
    default:
        OCTO_UNREACHABLE(); /* store.c checked the types */
    }
}

/* Binds $1..$n by name; every placeholder must be one of them and each must be used. */
static int bind_params(struct sqlite_store *ss, sqlite3_stmt *st,
                       const struct octo_store_value *params, size_t nparams)
{
    int count = sqlite3_bind_parameter_count(st);
    if (count < 0 || (size_t)count != nparams) {
        octo__store_seterr(&ss->base, "exec: statement has %d placeholders, %zu parameters given",
                           count, nparams);
        return OCTO_EINVAL;
    }
    for (size_t i = 0; i < nparams; i++) {
        char name[24]; /* "$" and up to 20 digits */
        snprintf(name, sizeof(name), "$%zu", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0) {
            octo__store_seterr(&ss->base, "exec: placeholder %s is not in the statement", name);
            return OCTO_EINVAL;
        }
        int rc = bind_one(st, idx, &params[i]);
        if (rc != SQLITE_OK)
            return fail(ss, "bind", rc);
    }
    return 0;
}

/* Refuses a row holding a text or blob over OCTO_STORE_VALUE_MAX before anyone reads it. */
static int check_row(struct sqlite_store *ss, sqlite3_stmt *st, int ncols)
{
    for (int c = 0; c < ncols; c++) {
        int t = sqlite3_column_type(st, c);
        if (t != SQLITE_TEXT && t != SQLITE_BLOB)
            continue;
        int n = sqlite3_column_bytes(st, c);
        if (n < 0 || (size_t)n > OCTO_STORE_VALUE_MAX) {
            octo__store_seterr(&ss->base, "exec: column %d holds %d bytes, at most %u", c, n,
                               OCTO_STORE_VALUE_MAX);
            return OCTO_ETOOBIG;
        }
    }
    return 0;
}

/* Steps the statement to completion, handing rows to fn. */
static int step_rows(struct sqlite_store *ss, sqlite3_stmt *st, octo_store_row_fn fn, void *ctx)
{
    int ncols = sqlite3_column_count(st);
    OCTO_ASSERT(ncols >= 0);
    struct octo_store_row row = {
        .ops = &sqlite_row_ops,
        .impl = st,
        .ncols = (unsigned)ncols,
        .index = 0,
    };
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return fail(ss, "step", rc);
        if (fn == NULL)
            continue;
        int crc = check_row(ss, st, ncols);
        if (crc < 0)
            return crc;
        crc = fn(&row, ctx);
        if (crc < 0) {
            octo__store_seterr(&ss->base, "exec: row callback failed: %s", octo_strerror(crc));
            return crc;
        }
        if (crc > 0)
            return 0;
        row.index++;
    }
}

static int sq_exec(struct octo_store *s, const char *sql, const struct octo_store_value *params,
                   size_t nparams, octo_store_row_fn fn, void *ctx)
{
    struct sqlite_store *ss = to_sqlite(s);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    ss->changes = 0;
    int rc = sqlite3_prepare_v2(ss->db, sql, -1, &st, &tail);
    if (rc != SQLITE_OK)
        return fail(ss, "prepare", rc);
    if (st == NULL) {
        octo__store_seterr(s, "exec: no statement in the SQL");
        return OCTO_EINVAL;
    }
    if (tail != NULL && !only_space(tail)) {
        octo__store_seterr(s, "exec: more than one statement (use exec_script)");
        rc = OCTO_EINVAL;
        goto out_finalize;
    }
    rc = bind_params(ss, st, params, nparams);
    if (rc < 0)
        goto out_finalize;
    rc = step_rows(ss, st, fn, ctx);
    if (rc == 0 && !sqlite3_stmt_readonly(st))
        ss->changes = sqlite3_changes64(ss->db);
out_finalize:
    sqlite3_finalize(st);
    sync_tx(ss);
    return rc;
}

static int sq_exec_script(struct octo_store *s, const char *sql)
{
    struct sqlite_store *ss = to_sqlite(s);
    ss->changes = 0;
    int rc = run_simple(ss, "script", sql);
    /* A script must not open or close transactions behind the store's back. */
    OCTO_DASSERT((s->tx == OCTO_STORE_TX_NONE) == (sqlite3_get_autocommit(ss->db) != 0));
    return rc;
}

static int64_t sq_changes(struct octo_store *s)
{
    return to_sqlite(s)->changes;
}

static void sq_close(struct octo_store *s)
{
    struct sqlite_store *ss = to_sqlite(s);
    if (s->tx != OCTO_STORE_TX_NONE)
        (void)sq_rollback(s);
    /* Every statement is finalized by the call that prepared it, so close cannot be busy. */
    int rc = sqlite3_close(ss->db);
    OCTO_ASSERT(rc == SQLITE_OK);
    octo_free(ss);
}

static const struct octo_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .changes = sq_changes,
};

/* ---- open ---- */

/* Creates the database file with mode 0600 (or opens an existing one) and tightens its mode. */
static int prepare_file(const char *path, bool must_exist)
{
    int flags = O_RDWR | O_CLOEXEC | (must_exist ? 0 : O_CREAT);
    int fd = open(path, flags, SQLITE_FILE_MODE);
    if (fd < 0)
        return octo_err_from_errno(errno);
    int rc = 0;
    if (fchmod(fd, SQLITE_FILE_MODE) != 0)
        rc = octo_err_from_errno(errno);
    close(fd);
    return rc;
}

/* Tightens the mode of path + suffix if that file exists. */
static int tighten_mode(const char *path, const char *suffix)
{
    char name[OCTO_STORE_PATH_MAX + 8];
    int n = snprintf(name, sizeof(name), "%s%s", path, suffix);
    OCTO_ASSERT(n > 0 && (size_t)n < sizeof(name));
    if (chmod(name, SQLITE_FILE_MODE) != 0 && errno != ENOENT)
        return octo_err_from_errno(errno);
    return 0;
}

struct text_result {
    char value[16];
};

static int text_row(const struct octo_store_row *row, void *ctx)
{
    struct text_result *r = ctx;
    size_t len = 0;
    const char *p = octo_store_row_text(row, 0, &len);
    if (p != NULL && len < sizeof(r->value)) {
        memcpy(r->value, p, len);
        r->value[len] = '\0';
    }
    return 1;
}

/* Sets a pragma and checks that the value read back is `want`. */
static int pragma_verify_int(struct octo_store *s, const char *set, const char *get, int64_t want)
{
    int rc = octo_store_exec(s, set, NULL, 0, NULL, NULL);
    if (rc < 0)
        return rc;
    int64_t got = -1;
    rc = octo_store_query_int64(s, get, NULL, 0, &got);
    if (rc < 0)
        return rc;
    if (got != want) {
        octo__store_seterr(s, "sqlite: \"%s\" did not take: %lld, want %lld", set, (long long)got,
                           (long long)want);
        return OCTO_ESTORE;
    }
    return 0;
}

static int configure(struct sqlite_store *ss, const char *path, uint32_t busy_timeout_ms)
{
    struct octo_store *s = &ss->base;
    sqlite3_extended_result_codes(ss->db, 1);
    sqlite3_limit(ss->db, SQLITE_LIMIT_LENGTH, (int)SQLITE_LENGTH_LIMIT);
    sqlite3_limit(ss->db, SQLITE_LIMIT_SQL_LENGTH, (int)OCTO_STORE_SQL_MAX);
    sqlite3_limit(ss->db, SQLITE_LIMIT_VARIABLE_NUMBER, (int)OCTO_STORE_PARAMS_MAX);
    int rc = sqlite3_busy_timeout(ss->db, (int)busy_timeout_ms);
    if (rc != SQLITE_OK)
        return fail(ss, "busy_timeout", rc);

    struct text_result mode = {{0}};
    rc = octo_store_exec(s, "PRAGMA journal_mode=WAL", NULL, 0, text_row, &mode);
    if (rc < 0)
        return rc;
    if (strcasecmp(mode.value, "wal") != 0) {
        octo__store_seterr(s, "sqlite: journal_mode is \"%s\", not wal", mode.value);
        return OCTO_ESTORE;
    }
    rc = pragma_verify_int(s, "PRAGMA synchronous=FULL", "PRAGMA synchronous", 2);
    if (rc < 0)
        return rc;
    rc = pragma_verify_int(s, "PRAGMA foreign_keys=ON", "PRAGMA foreign_keys", 1);
    if (rc < 0)
        return rc;
    rc = tighten_mode(path, "-wal");
    if (rc == 0)
        rc = tighten_mode(path, "-shm");
    if (rc < 0)
        octo__store_seterr(s, "sqlite: cannot set mode 0600 on the -wal/-shm files");
    return rc;
}

static int check_open_args(const char *path, const struct octo_store_sqlite_options *opts,
                           uint32_t *busy_timeout_ms)
{
    /* Debian builds SQLite with SQLITE_USE_URI: a "file:" name would be parsed as a URI and
     * name another file than the one prepare_file created (write "./file:x" for that file). */
    if (path == NULL || path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
        strncmp(path, "file:", 5) == 0)
        return OCTO_EINVAL;
    if (strnlen(path, OCTO_STORE_PATH_MAX + 1) > OCTO_STORE_PATH_MAX)
        return OCTO_ETOOBIG;
    *busy_timeout_ms = OCTO_STORE_BUSY_TIMEOUT_MS;
    if (opts != NULL && opts->busy_timeout_ms != 0) {
        if (opts->busy_timeout_ms > OCTO_STORE_BUSY_TIMEOUT_MAX_MS)
            return OCTO_EINVAL;
        *busy_timeout_ms = opts->busy_timeout_ms;
    }
    return 0;
}

int octo_store_open_sqlite(struct octo_store **out, const char *path,
                           const struct octo_store_sqlite_options *opts)
{
    OCTO_ASSERT(out != NULL);
    uint32_t busy_timeout_ms = 0;
    int rc = check_open_args(path, opts, &busy_timeout_ms);
    if (rc < 0)
        return rc;
    rc = prepare_file(path, opts != NULL && opts->must_exist);
    if (rc < 0) {
        OCTO_WARN("cannot open database file %s: %s", path, octo_strerror(rc));
        return rc;
    }
    struct sqlite_store *ss = octo_calloc(1, sizeof(*ss));
    if (ss == NULL)
        return OCTO_ENOMEM;
    ss->base.ops = &sqlite_ops;
    ss->base.backend = OCTO_STORE_SQLITE;
    ss->base.tx = OCTO_STORE_TX_NONE;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    int src = sqlite3_open_v2(path, &ss->db, flags, NULL);
    if (src != SQLITE_OK) {
        rc = ss->db != NULL ? fail(ss, "open", src) : OCTO_ENOMEM;
        goto err_close;
    }
    rc = configure(ss, path, busy_timeout_ms);
    if (rc < 0)
        goto err_close;
    *out = &ss->base;
    return 0;

err_close:
    OCTO_WARN("cannot open database %s: %s", path,
              ss->base.errmsg[0] != '\0' ? ss->base.errmsg : octo_strerror(rc));
    sqlite3_close(ss->db);
    octo_free(ss);
    return rc;
}
