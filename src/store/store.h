/*
 * store.h — the storage interface: one connection to a relational database behind an ops
 * table, so the SQLite backend (sqlite.c, the embedded default) and a later PostgreSQL backend
 * (pg.c, libpq) are interchangeable for every repository built on top (peerstore, settings, ...).
 *
 * Model:
 *   - A struct octo_store is ONE connection. It is used by one thread at a time (the SQLite
 *     backend opens with SQLITE_OPEN_NOMUTEX): open one connection per thread, or give all
 *     database work to one worker thread. Several connections, also from several processes,
 *     may share one database file; SQLite serialises writers (WAL: one writer, many readers).
 *   - SQL uses $1, $2, ... placeholders (PostgreSQL's native form; SQLite binds them by name,
 *     so the order of appearance does not matter). Every parameter passed must be referenced
 *     and every placeholder referenced must be passed (PostgreSQL insists on the former).
 *   - Values are typed: NULL, int64, text, blob. No floating point anywhere.
 *   - Transactions are explicit: octo_store_begin(write) / commit / rollback. A write
 *     transaction takes the write lock at once (SQLite BEGIN IMMEDIATE), so a transaction that
 *     reads and then writes never fails half-way with a busy snapshot. Nested begin is refused
 *     (OCTO_ESTATE). A statement outside a transaction runs in its own implicit transaction.
 *   - Rows are delivered to a callback; pointers handed to it are valid only until it returns.
 *     Callbacks MUST NOT call back into the same store (libpq cannot, SQLite should not).
 *   - Every text/blob bound or read is bounded by OCTO_STORE_VALUE_MAX, SQL text by
 *     OCTO_STORE_SQL_MAX, parameters by OCTO_STORE_PARAMS_MAX.
 *
 * Errors (all functions): OCTO_EINVAL (bad arguments; SQL that does not compile is ESTORE),
 * OCTO_ETOOBIG (a limit above), OCTO_EBUSY (the database is locked by another connection and
 * the busy timeout ran out: retry later), OCTO_EEXIST (a UNIQUE / PRIMARY KEY constraint),
 * OCTO_ESTATE (transaction misuse), OCTO_ENOMEM, OCTO_EPERM (read-only database or file),
 * OCTO_EIO (the file cannot be opened), OCTO_ESTORE (any other backend failure). After any
 * failure octo_store_errmsg() describes it for logs and CLI messages.
 *
 * Memory: the store handle is heap (octo_calloc) and owned by the caller until
 * octo_store_close. Values passed in are borrowed for the duration of the call.
 */
#ifndef OCTO_STORE_STORE_H
#define OCTO_STORE_STORE_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest text or blob value bound as a parameter or read from a column (bytes). */
#define OCTO_STORE_VALUE_MAX (1024u * 1024u)
/* Largest SQL text passed to exec / exec_script (bytes, excluding the NUL). */
#define OCTO_STORE_SQL_MAX (64u * 1024u)
/* Most parameters one statement may take. */
#define OCTO_STORE_PARAMS_MAX 32u
/* Size of the last-error message buffer (including the NUL). */
#define OCTO_STORE_ERRMSG_MAX 256u
/* Longest database path accepted (bytes, excluding the NUL). */
#define OCTO_STORE_PATH_MAX 4095u
/* Longest PostgreSQL connection string accepted (bytes, excluding the NUL). */
#define OCTO_STORE_CONNINFO_MAX 4095u
/* Default and largest busy timeout (milliseconds). */
#define OCTO_STORE_BUSY_TIMEOUT_MS 5000u
#define OCTO_STORE_BUSY_TIMEOUT_MAX_MS 60000u

/* ---- values ---- */

enum octo_store_type {
    OCTO_STORE_NULL = 0,
    OCTO_STORE_INT64 = 1,
    OCTO_STORE_TEXT = 2,
    OCTO_STORE_BLOB = 3,
    OCTO_STORE_OTHER = 4, /* a column of a type this interface does not model (REAL) */
};

/* A typed parameter. Build with the helpers below; pointers are borrowed. */
struct octo_store_value {
    enum octo_store_type type;
    int64_t i64;     /* OCTO_STORE_INT64 */
    const void *ptr; /* OCTO_STORE_TEXT (UTF-8, need not be NUL-terminated) / BLOB */
    size_t len;      /* bytes at ptr */
};

static inline struct octo_store_value octo_store_null(void)
{
    struct octo_store_value v = {.type = OCTO_STORE_NULL};
    return v;
}

static inline struct octo_store_value octo_store_int64(int64_t i)
{
    struct octo_store_value v = {.type = OCTO_STORE_INT64, .i64 = i};
    return v;
}

/* Text of len bytes (UTF-8). */
static inline struct octo_store_value octo_store_textn(const char *s, size_t len)
{
    struct octo_store_value v = {.type = OCTO_STORE_TEXT, .ptr = s, .len = len};
    return v;
}

/* A blob; ptr may be NULL when len is 0 (an empty blob, not SQL NULL). */
static inline struct octo_store_value octo_store_blob(const void *ptr, size_t len)
{
    struct octo_store_value v = {.type = OCTO_STORE_BLOB, .ptr = ptr, .len = len};
    return v;
}

/* ---- rows ---- */

struct octo_store_row;

/* Backend hooks behind the row accessors. */
struct octo_store_row_ops {
    enum octo_store_type (*type)(const struct octo_store_row *row, unsigned col);
    int64_t (*int64)(const struct octo_store_row *row, unsigned col);
    const char *(*text)(const struct octo_store_row *row, unsigned col, size_t *len);
    const void *(*blob)(const struct octo_store_row *row, unsigned col, size_t *len);
};

/* One result row, valid only inside the row callback. */
struct octo_store_row {
    const struct octo_store_row_ops *ops;
    void *impl;     /* backend statement / result */
    unsigned ncols; /* column count */
    unsigned index; /* 0-based row number within this exec */
};

/*
 * Row callback. Return 0 to receive the next row, a positive value to stop early (exec then
 * returns 0), or a negative OCTO_E* code to stop and make exec return that code.
 */
typedef int (*octo_store_row_fn)(const struct octo_store_row *row, void *ctx);

/* Number of columns in the row. */
unsigned octo_store_row_count(const struct octo_store_row *row);
/* Type of column col (col < count, asserted). */
enum octo_store_type octo_store_row_type(const struct octo_store_row *row, unsigned col);
/* Column as int64; NULL reads as 0. Non-integer columns are converted by the backend. */
int64_t octo_store_row_int64(const struct octo_store_row *row, unsigned col);
/* Column as NUL-terminated text and its length in bytes (len may be NULL); NULL for SQL NULL.
 * Valid until the callback returns. At most OCTO_STORE_VALUE_MAX bytes (exec checks). */
const char *octo_store_row_text(const struct octo_store_row *row, unsigned col, size_t *len);
/* Column as bytes and their length (len is required); NULL with *len = 0 for SQL NULL and
 * for an empty blob (tell them apart with octo_store_row_type). Valid until the callback
 * returns. */
const void *octo_store_row_blob(const struct octo_store_row *row, unsigned col, size_t *len);

/* ---- the connection ---- */

enum octo_store_backend {
    OCTO_STORE_SQLITE = 1,
    OCTO_STORE_POSTGRES = 2,
};

enum octo_store_tx {
    OCTO_STORE_TX_NONE = 0,
    OCTO_STORE_TX_READ = 1,
    OCTO_STORE_TX_WRITE = 2,
};

struct octo_store;

/*
 * The backend ops table. store.c checks arguments and the transaction state, then calls these;
 * backends set s->tx and the error message (octo__store_seterr) themselves.
 */
struct octo_store_ops {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(struct octo_store *s);
    int (*begin)(struct octo_store *s, bool write);
    int (*commit)(struct octo_store *s);
    int (*rollback)(struct octo_store *s);
    int (*exec)(struct octo_store *s, const char *sql, const struct octo_store_value *params,
                size_t nparams, octo_store_row_fn fn, void *ctx);
    int (*exec_script)(struct octo_store *s, const char *sql);
    int64_t (*changes)(struct octo_store *s);
};

/* The common head of every backend's connection struct (backends embed it first). */
struct octo_store {
    const struct octo_store_ops *ops;
    enum octo_store_backend backend;
    enum octo_store_tx tx;
    char errmsg[OCTO_STORE_ERRMSG_MAX];
};

/* Options of the SQLite backend; zero-initialised = defaults. */
struct octo_store_sqlite_options {
    /* How long a statement waits for a lock held by another connection before OCTO_EBUSY.
     * 0 = OCTO_STORE_BUSY_TIMEOUT_MS; at most OCTO_STORE_BUSY_TIMEOUT_MAX_MS. */
    uint32_t busy_timeout_ms;
    /* Fail with OCTO_ENOTFOUND instead of creating a missing database file. */
    bool must_exist;
};

/*
 * Opens (creating if needed, mode 0600) the SQLite database at path and configures it:
 * journal_mode=WAL (verified), synchronous=FULL, foreign_keys=ON (verified), the busy timeout.
 * The database file and its -wal/-shm files are made mode 0600.
 *   out   OUT: the new store; set only on success. Close with octo_store_close.
 *   path  file name, at most OCTO_STORE_PATH_MAX bytes; not ":memory:" (WAL needs a file)
 *         and not a "file:" URI (Debian's SQLite parses those; write "./file:x").
 *         SQLITE_OPEN_NOMUTEX: the store must be used by one thread at a time.
 *   opts  NULL for defaults.
 * Errors: OCTO_EINVAL (empty path, bad option), OCTO_ETOOBIG (path), OCTO_ENOTFOUND
 * (must_exist and absent), OCTO_EPERM / OCTO_EIO (the file cannot be created or opened),
 * OCTO_EBUSY (locked during set-up), OCTO_ESTORE (not a database, a pragma did not take),
 * OCTO_ENOMEM. No error message survives a failed open (there is no store); the reason
 * is logged at warn level.
 */
OCTO_MUST_USE int octo_store_open_sqlite(struct octo_store **out, const char *path,
                                         const struct octo_store_sqlite_options *opts);

/* Options of the PostgreSQL backend; zero-initialised = defaults. */
struct octo_store_pg_options {
    /* How long a statement waits for a lock (the writer lock taken by a write transaction, a
     * row lock) before OCTO_EBUSY: the session's lock_timeout.
     * 0 = OCTO_STORE_BUSY_TIMEOUT_MS; at most OCTO_STORE_BUSY_TIMEOUT_MAX_MS. */
    uint32_t busy_timeout_ms;
};

/*
 * Connects to a PostgreSQL database (10 or newer) with libpq and configures the session:
 * UTF-8, standard_conforming_strings, synchronous_commit=on, lock_timeout = the busy timeout.
 * Behaves like the SQLite backend through the whole interface (see pg.c for the details):
 * write transactions are serialised per database by an advisory lock taken at begin (as
 * BEGIN IMMEDIATE), read transactions are REPEATABLE READ READ ONLY snapshots (a write in one
 * fails with OCTO_EPERM), and a failing statement inside a transaction leaves it open.
 * Schemas written for it use BIGINT for 64-bit integers and BYTEA for blobs.
 *   out       OUT: the new store; set only on success. Close with octo_store_close.
 *   conninfo  a libpq connection string ("host=... port=... dbname=... user=...") or URI, at
 *             most OCTO_STORE_CONNINFO_MAX bytes; "" uses libpq's defaults and PG*
 *             environment variables. It may hold a password: it is never logged.
 *             The store must be used by one thread at a time.
 *   opts      NULL for defaults.
 * Errors: OCTO_EINVAL (NULL or unparsable conninfo, bad option), OCTO_ETOOBIG (conninfo),
 * OCTO_EIO (the server cannot be reached or refused the connection), OCTO_EPERM (a password
 * is needed), OCTO_EUNSUPPORTED (server too old), OCTO_ESTORE (a setting did not take),
 * OCTO_ENOMEM. No error message survives a failed open; the reason is logged at warn level.
 */
OCTO_MUST_USE int octo_store_open_pg(struct octo_store **out, const char *conninfo,
                                     const struct octo_store_pg_options *opts);

/* Closes the connection, rolling back an open transaction. NULL is a no-op. */
void octo_store_close(struct octo_store *s);

/* The message of the most recent failure on this store ("" if none yet). Valid until the
 * next call on the store. */
const char *octo_store_errmsg(const struct octo_store *s);

/* The backend's name ("sqlite" or "postgres"). */
const char *octo_store_backend_name(const struct octo_store *s);

/* The current transaction state. */
enum octo_store_tx octo_store_tx_state(const struct octo_store *s);

/*
 * Starts a transaction: write = true takes the write lock now (BEGIN IMMEDIATE); false is a
 * read transaction (a consistent snapshot; BEGIN DEFERRED). Errors: OCTO_ESTATE (already in a
 * transaction), OCTO_EBUSY (write lock not obtained within the busy timeout), OCTO_ESTORE.
 */
OCTO_MUST_USE int octo_store_begin(struct octo_store *s, bool write);

/*
 * Commits. A failed commit ENDS the transaction in both backends: its writes are rolled back
 * and octo_store_tx_state is OCTO_STORE_TX_NONE afterwards (PostgreSQL ends a transaction
 * whose COMMIT fails and cannot commit it again; the SQLite backend rolls back to match).
 * Committing again is therefore never a retry: to retry, re-run the whole transaction from
 * octo_store_begin (re-reading what it read, since others may have written meanwhile).
 * Errors: OCTO_ESTATE (no transaction; nothing changes), OCTO_EBUSY (a lock or
 * serialization conflict at commit time — a deferred trigger or constraint that waited for a
 * lock past the busy timeout, a deadlock, a serialization failure: re-running the transaction
 * may succeed), OCTO_EEXIST (a deferred unique constraint), OCTO_EIO (the connection was lost
 * during the commit: its OUTCOME IS UNKNOWN, it may have taken effect — check before
 * re-running anything that is not idempotent), OCTO_ESTORE (anything else, e.g. a deferred
 * foreign key).
 */
OCTO_MUST_USE int octo_store_commit(struct octo_store *s);

/* Rolls back. Errors: OCTO_ESTATE (no transaction), OCTO_ESTORE. Afterwards no transaction
 * is open, whatever the result. */
int octo_store_rollback(struct octo_store *s);

/*
 * Runs one SQL statement with parameters $1..$nparams and delivers each result row to fn
 * (fn may be NULL when no rows are wanted). Rows are streamed: memory does not grow with the
 * number of rows (SQLite steps the statement; PostgreSQL uses single-row mode). When fn stops
 * early the rest of the result is still computed (SQLite: no; PostgreSQL: read and discarded),
 * so queries that may match many rows should say LIMIT. Rows delivered before an error are
 * not taken back: a failure mid-result returns the error after some rows were seen.
 * Errors: OCTO_EINVAL (more than one statement, a parameter/placeholder mismatch, NULL sql),
 * OCTO_ETOOBIG (sql, a parameter or a column value over its limit), the callback's negative
 * code, and the backend errors listed at the top.
 */
OCTO_MUST_USE int octo_store_exec(struct octo_store *s, const char *sql,
                                  const struct octo_store_value *params, size_t nparams,
                                  octo_store_row_fn fn, void *ctx);

/* Runs a script of ';'-separated statements without parameters or results (schema changes).
 * Errors as octo_store_exec. */
OCTO_MUST_USE int octo_store_exec_script(struct octo_store *s, const char *sql);

/* Rows inserted, updated or deleted by the most recent statement run by octo_store_exec. */
int64_t octo_store_changes(struct octo_store *s);

/* Runs a single-row query and stores column 0 of the first row as int64 in *out.
 * Errors: OCTO_ENOTFOUND (no row or the value is NULL), as octo_store_exec. */
OCTO_MUST_USE int octo_store_query_int64(struct octo_store *s, const char *sql,
                                         const struct octo_store_value *params, size_t nparams,
                                         int64_t *out);

/*
 * Helpers for repositories whose operations work both alone and inside a caller's
 * transaction. tx_enter begins a transaction unless one of a sufficient kind is already open
 * (*owned tells whether it began one); tx_leave ends an owned one: commit when rc >= 0,
 * rollback otherwise, and returns rc or the commit error.
 * tx_enter errors: OCTO_ESTATE (write wanted inside a read transaction), begin's errors.
 */
OCTO_MUST_USE int octo_store_tx_enter(struct octo_store *s, bool write, bool *owned);
OCTO_MUST_USE int octo_store_tx_leave(struct octo_store *s, bool owned, int rc);

/* ---- for backends only ---- */

/* Formats the store's last-error message (printf-style, truncated to fit). */
void octo__store_seterr(struct octo_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Well-formed UTF-8 without NUL bytes (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF): what a TEXT column holds in both backends. For repositories checking input. */
bool octo__store_utf8_valid(const void *data, size_t len);

/* Runs a `SELECT count(*) ...` without parameters into *out. For repositories. */
OCTO_MUST_USE int octo__store_count(struct octo_store *s, const char *sql, uint64_t *out);

/* ---- migrations (migrate.c) ---- */

/* One schema change. sql_* are scripts for octo_store_exec_script; sql_pg may be NULL only
 * for a schema never used on PostgreSQL. */
struct octo_store_migration {
    int64_t version; /* > 0, strictly increasing within a schema */
    const char *name;
    const char *sql_sqlite;
    const char *sql_pg;
};

/* A versioned schema: its migrations and the table recording which ones ran. */
struct octo_store_schema {
    const char *name;  /* for messages */
    const char *table; /* e.g. "schema_migrations"; [a-z_] only */
    const struct octo_store_migration *migrations;
    size_t count;
};

/* Largest migration version. */
#define OCTO_STORE_MIGRATION_VERSION_MAX INT64_C(1000000000)

/*
 * Brings the database up to the schema's latest version: creates the version table
 * (version INTEGER PRIMARY KEY, name TEXT, applied_at INTEGER) if missing, then applies each
 * migration newer than the recorded version, each in its own write transaction together with
 * its version row. Running it again is a no-op. Must be called outside a transaction.
 *   applied_at_ms  recorded in the version rows (unix ms from the caller's clock); a negative
 *                  value records NULL (time unknown).
 * Programmer errors (asserted): versions not strictly increasing, out of range, bad table name.
 * Errors: OCTO_EUNSUPPORTED (the database is newer than this program: message says which
 * versions), OCTO_ESTATE (inside a transaction), a failing migration's error (its version is
 * not recorded and its changes are rolled back), exec errors.
 */
OCTO_MUST_USE int octo_store_migrate(struct octo_store *s, const struct octo_store_schema *schema,
                                     int64_t applied_at_ms);

/* The highest recorded version of the schema in *out (0 when none or no version table). */
OCTO_MUST_USE int octo_store_schema_version(struct octo_store *s,
                                            const struct octo_store_schema *schema, int64_t *out);

/* The node schema (settings, peerstore, provider registry, task records). */
extern const struct octo_store_schema octo_store_node_schema;

/* Applies the node schema with applied_at recorded as NULL (no clock here); equivalent to
 * octo_store_migrate(s, &octo_store_node_schema, -1). */
OCTO_MUST_USE int octo_store_migrate_node(struct octo_store *s);

/* As octo_store_migrate_node, recording now_ms as applied_at. */
OCTO_MUST_USE int octo_store_migrate_node_at(struct octo_store *s, int64_t now_ms);

#endif
