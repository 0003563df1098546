/*
 * pg.c — the PostgreSQL backend of the storage interface (libpq; PostgreSQL 10 or newer,
 * tested with 15 as shipped by Debian 12).
 *
 * Wire formats: every parameter is sent in BINARY format with an explicit type — int64 as
 * int8 (8 bytes big-endian), text as text (its binary form is the raw UTF-8 bytes, so a text
 * that is not NUL-terminated needs no copy and an embedded NUL is refused by the server
 * instead of silently truncating the value), blob as bytea (raw bytes; an empty blob is a
 * zero-length non-NULL value), NULL as a NULL value of unspecified type (the server infers
 * it from context). Results are requested in BINARY format too: bytea and text arrive as raw
 * bytes (no hex decoding, no 2x expansion), integers as big-endian two's complement.
 *
 * Column types (PQftype) map onto the interface's types: int8/int4/int2/bool/oid -> INT64;
 * text/varchar/bpchar/name/"char"/unknown -> TEXT; bytea -> BLOB; anything else -> OTHER
 * (numeric, floats, dates, ...). A NULL value is NULL whatever the column's type. As in
 * SQLite, the accessors convert: int64 of a text/blob parses its leading integer, int64 of a
 * numeric truncates toward zero (saturating), int64 of another OTHER is 0; text/blob of an
 * integer column is its decimal form; text/blob of an OTHER column other than numeric is
 * NULL (its binary form is not text).
 *
 * Statements: each exec is one PQsendQueryParams received in single-row mode (see Limits).
 * The SQL is scanned first (quotes, comments,
 * dollar quotes) so that the interface's rules hold exactly as with SQLite: one statement
 * only, and the parameters passed are exactly the placeholders referenced (PostgreSQL itself
 * accepts typed parameters that are never referenced).
 *
 * Transactions:
 *   - Write: BEGIN ISOLATION LEVEL READ COMMITTED, then pg_advisory_xact_lock on one fixed key:
 *     write transactions on a database are serialised like SQLite's BEGIN IMMEDIATE (one
 *     writer at a time, the lock held from begin to commit), so a read-then-write
 *     transaction (migrations, upserts with a count limit) never fails half-way with a
 *     serialization error and each statement sees everything committed before it. Waiting is
 *     bounded by lock_timeout (the busy timeout): OCTO_EBUSY.
 *   - Read: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY — a consistent snapshot; a write
 *     inside it fails with OCTO_EPERM.
 *   - Statements outside a transaction run in the server's implicit transaction and do not
 *     take the writer lock (they only wait for row locks, up to lock_timeout).
 *   - SQLite keeps a transaction open when one statement in it fails (statement-level
 *     rollback); PostgreSQL aborts the whole transaction. To keep SQLite's behaviour, every
 *     statement inside a transaction runs under SAVEPOINT octo_stmt (released lazily by the
 *     next statement's "RELEASE; SAVEPOINT" or by COMMIT) and a failing statement is undone
 *     with ROLLBACK TO SAVEPOINT. Cost: one extra round trip per statement in a transaction.
 *
 * SQLSTATE -> OCTO_E*: 40001 serialization, 40P01 deadlock, 55P03 lock not available ->
 * EBUSY; 23505 unique violation -> EEXIST; 53200 -> ENOMEM; class 54 (limits) -> ETOOBIG;
 * 25006 read-only transaction, 42501 privilege -> EPERM; class 08 and a lost connection ->
 * EIO; anything else -> ESTORE. The server's primary message is kept for octo_store_errmsg.
 *
 * Session settings applied at open: client_encoding UTF8, standard_conforming_strings on
 * (the scanner relies on it), synchronous_commit on (a commit is durable when it returns,
 * like SQLite's synchronous=FULL), lock_timeout (busy timeout), client_min_messages warning,
 * default_transaction_isolation read committed. Server notices go to the debug log.
 *
 * Limits: store.c checks what is sent; every column value read back is checked against
 * OCTO_STORE_VALUE_MAX before the callback sees the row. Results are received in libpq's
 * single-row mode (PQsetSingleRowMode): each row is its own PGresult, handed to the callback
 * and freed before the next is read, so memory stays at one row however many rows a query
 * returns (a whole-result PQexecParams would hold every row at once). A failure mid-result
 * (e.g. a division by zero in row 50 000) arrives after the rows before it were delivered.
 * When the callback stops early the remaining rows are still read and discarded, one at a
 * time, to keep the connection usable: repositories bound their queries with LIMIT from a
 * named constant and page with keysets. Scripts (exec_script) use PQexec and must not return
 * rows.
 *
 * Failed COMMIT: PostgreSQL ends a transaction whose COMMIT fails (a deferred constraint, a
 * serialization failure, a deferred trigger that times out on a lock, a deadlock): the
 * transaction is rolled back and cannot be retried by committing again. store.h's contract
 * says the same for both backends: after a failed commit no transaction is open, and
 * OCTO_EBUSY tells the caller that re-running the whole transaction may succeed.
 *
 * Memory: one octo_calloc'd struct per connection; libpq's allocations (PGconn, PGresult)
 * are its own and released by PQfinish / PQclear before every return.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "store/store.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs (fixed in PostgreSQL's catalog; the server headers are not needed for them). */
#define PG_BOOLOID 16u
#define PG_BYTEAOID 17u
#define PG_CHAROID 18u
#define PG_NAMEOID 19u
#define PG_INT8OID 20u
#define PG_INT2OID 21u
#define PG_INT4OID 23u
#define PG_TEXTOID 25u
#define PG_OIDOID 26u
#define PG_UNKNOWNOID 705u
#define PG_BPCHAROID 1042u
#define PG_VARCHAROID 1043u
#define PG_NUMERICOID 1700u

/* The key of the advisory lock that serialises write transactions ("octo" in ASCII). */
#define PG_WRITER_LOCK_KEY "1868788847"
/* Oldest server accepted (ON CONFLICT, lock_timeout, binary formats as used here). */
#define PG_SERVER_VERSION_MIN 100000
/* Result format requested from the server: 1 = binary. */
#define PG_FORMAT_BINARY 1
/* Longest integer placeholder number scanned ("$" and digits). */
#define PG_PLACEHOLDER_DIGITS_MAX 6

struct pg_store {
    struct octo_store base; /* first: the store pointer is the backend pointer */
    PGconn *conn;
    int64_t changes; /* rows changed by the last exec; 0 after a query */
    bool savepoint;  /* SAVEPOINT octo_stmt is established in the open transaction */
};

static struct pg_store *to_pg(struct octo_store *s)
{
    OCTO_ASSERT(s->backend == OCTO_STORE_POSTGRES);
    return (struct pg_store *)s;
}

/* ---- errors ---- */

static int map_sqlstate(const char *st)
{
    if (st == NULL || strlen(st) != 5)
        return OCTO_ESTORE;
    if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0)
        return OCTO_EBUSY;
    if (strcmp(st, "23505") == 0)
        return OCTO_EEXIST;
    if (strcmp(st, "53200") == 0)
        return OCTO_ENOMEM;
    if (strncmp(st, "54", 2) == 0)
        return OCTO_ETOOBIG;
    if (strcmp(st, "25006") == 0 || strcmp(st, "42501") == 0)
        return OCTO_EPERM;
    if (strncmp(st, "08", 2) == 0)
        return OCTO_EIO;
    return OCTO_ESTORE;
}

/* Brings s->tx in line with the server (a failed COMMIT or a lost connection ends it). */
static void sync_tx(struct pg_store *ps)
{
    PGTransactionStatusType t = PQtransactionStatus(ps->conn);
    if (t == PQTRANS_IDLE || t == PQTRANS_UNKNOWN) {
        ps->base.tx = OCTO_STORE_TX_NONE;
        ps->savepoint = false;
    }
}

/* libpq's connection message without its trailing newline. */
static void conn_message(const PGconn *conn, char *buf, size_t size)
{
    snprintf(buf, size, "%s", conn != NULL ? PQerrorMessage(conn) : "out of memory");
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
}

/* Records a failed result (res may be NULL: out of memory or connection trouble). */
static int fail_res(struct pg_store *ps, const char *what, const PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    int rc;
    if (state != NULL && msg != NULL) {
        octo__store_seterr(&ps->base, "postgres %s: %s (SQLSTATE %s)", what, msg, state);
        rc = map_sqlstate(state);
    } else {
        char m[OCTO_STORE_ERRMSG_MAX];
        conn_message(ps->conn, m, sizeof(m));
        octo__store_seterr(&ps->base, "postgres %s: %s", what, m[0] != '\0' ? m : "failed");
        if (PQstatus(ps->conn) == CONNECTION_BAD)
            rc = OCTO_EIO;
        else
            rc = res == NULL ? OCTO_ENOMEM : OCTO_ESTORE;
    }
    sync_tx(ps);
    return rc;
}

/* Runs fixed SQL without parameters or rows (transaction control, settings). */
static int run_simple(struct pg_store *ps, const char *what, const char *sql)
{
    PGresult *res = PQexec(ps->conn, sql);
    ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = fail_res(ps, what, res);
    PQclear(res);
    return rc;
}

/* ---- statement savepoints ---- */

/* Inside a transaction: establishes a fresh SAVEPOINT octo_stmt before a statement. */
static int stmt_enter(struct pg_store *ps)
{
    if (ps->base.tx == OCTO_STORE_TX_NONE)
        return 0;
    const char *sql =
        ps->savepoint ? "RELEASE SAVEPOINT octo_stmt; SAVEPOINT octo_stmt" : "SAVEPOINT octo_stmt";
    int rc = run_simple(ps, "savepoint", sql);
    if (rc < 0)
        return rc;
    ps->savepoint = true;
    return 0;
}

/* Inside a transaction, after a failed statement: undoes it, keeping the transaction open.
 * The failure's message is kept unless the undo fails too. */
static void stmt_undo(struct pg_store *ps)
{
    if (ps->base.tx == OCTO_STORE_TX_NONE || !ps->savepoint)
        return;
    if (PQtransactionStatus(ps->conn) != PQTRANS_INERROR)
        return;
    char saved[OCTO_STORE_ERRMSG_MAX];
    memcpy(saved, ps->base.errmsg, sizeof(saved));
    if (run_simple(ps, "rollback to savepoint", "ROLLBACK TO SAVEPOINT octo_stmt") == 0)
        memcpy(ps->base.errmsg, saved, sizeof(saved));
}

/* ---- transactions ---- */

static int pg_begin(struct octo_store *s, bool write)
{
    struct pg_store *ps = to_pg(s);
    if (!write) {
        int rc = run_simple(ps, "begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (rc < 0)
            return rc;
        s->tx = OCTO_STORE_TX_READ;
        ps->savepoint = false;
        return 0;
    }
    int rc = run_simple(ps, "begin",
                        "BEGIN ISOLATION LEVEL READ COMMITTED;"
                        " SELECT pg_advisory_xact_lock(" PG_WRITER_LOCK_KEY ")");
    if (rc < 0) {
        int keep = rc;
        char saved[OCTO_STORE_ERRMSG_MAX];
        memcpy(saved, s->errmsg, sizeof(saved));
        if (PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
            (void)run_simple(ps, "rollback", "ROLLBACK");
        if (keep == OCTO_EBUSY)
            octo__store_seterr(s,
                               "postgres begin: write lock not obtained, database locked by"
                               " another writer (%s)",
                               saved);
        else
            memcpy(s->errmsg, saved, sizeof(saved));
        s->tx = OCTO_STORE_TX_NONE;
        return keep;
    }
    s->tx = OCTO_STORE_TX_WRITE;
    ps->savepoint = false;
    return 0;
}

static int pg_commit(struct octo_store *s)
{
    struct pg_store *ps = to_pg(s);
    if (PQtransactionStatus(ps->conn) == PQTRANS_INERROR) {
        (void)run_simple(ps, "rollback", "ROLLBACK");
        octo__store_seterr(s, "postgres commit: the transaction was aborted; rolled back");
        s->tx = OCTO_STORE_TX_NONE;
        ps->savepoint = false;
        return OCTO_ESTORE;
    }
    PGresult *res = PQexec(ps->conn, "COMMIT");
    int rc = 0;
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = fail_res(ps, "commit", res);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* The server answers ROLLBACK to COMMIT when the transaction had failed. */
        octo__store_seterr(s, "postgres commit: the server rolled the transaction back");
        rc = OCTO_ESTORE;
    }
    PQclear(res);
    sync_tx(ps);
    if (rc < 0 && s->tx != OCTO_STORE_TX_NONE) {
        /* The server always ends a transaction whose COMMIT failed; should it somehow still
         * be open (a protocol surprise), end it so the contract holds. */
        char saved[OCTO_STORE_ERRMSG_MAX];
        memcpy(saved, s->errmsg, sizeof(saved));
        (void)run_simple(ps, "rollback", "ROLLBACK");
        memcpy(s->errmsg, saved, sizeof(saved));
    }
    s->tx = rc < 0 ? OCTO_STORE_TX_NONE : s->tx;
    if (rc < 0)
        ps->savepoint = false;
    return rc;
}

static int pg_rollback(struct octo_store *s)
{
    struct pg_store *ps = to_pg(s);
    int rc = run_simple(ps, "rollback", "ROLLBACK");
    /* Whatever happened, the server has no transaction of ours any more (a lost connection
     * rolls back too). */
    s->tx = OCTO_STORE_TX_NONE;
    ps->savepoint = false;
    return rc;
}

/* ---- binary values ---- */

static uint64_t be_read(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | u[i];
    return v;
}

static void be_write64(char *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++)
        p[i] = (char)(unsigned char)(v >> (56 - 8 * i));
}

/* Sign-extends the low `bits` bits of v. */
static int64_t sign_extend(uint64_t v, unsigned bits)
{
    uint64_t m = UINT64_C(1) << (bits - 1);
    v &= (bits == 64) ? UINT64_MAX : ((UINT64_C(1) << bits) - 1);
    return (int64_t)((v ^ m) - m);
}

/* Magnitude `mag` with sign `neg`, saturated to int64's range. */
static int64_t saturate(uint64_t mag, bool neg)
{
    if (neg)
        return mag >= (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)mag;
    return mag > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)mag;
}

/* The leading integer of text (SQLite's text->integer rule: optional spaces and sign, digits;
 * anything else ends it; saturating). */
static int64_t parse_leading_int(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    bool neg = false;
    if (i < len && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    uint64_t mag = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');
        if (mag > (UINT64_MAX - d) / 10) {
            mag = UINT64_MAX;
            break;
        }
        mag = mag * 10 + d;
    }
    return saturate(mag, neg);
}

/* The integer part of a binary numeric (int16 ndigits, weight, sign, dscale, then ndigits
 * base-10000 digits), truncated toward zero and saturated; 0 for NaN/infinity/malformed. */
static int64_t numeric_to_int64(const char *p, size_t len)
{
    if (len < 8)
        return 0;
    size_t ndigits = (size_t)be_read(p, 2);
    int64_t weight = sign_extend(be_read(p + 2, 2), 16);
    uint64_t sign = be_read(p + 4, 2);
    if (len != 8 + 2 * ndigits || (sign != 0x0000 && sign != 0x4000))
        return 0;
    uint64_t mag = 0;
    bool over = false;
    for (int64_t w = weight, i = 0; w >= 0 && !over; w--, i++) {
        uint64_t d = (size_t)i < ndigits ? be_read(p + 8 + 2 * (size_t)i, 2) : 0;
        if (mag > (UINT64_MAX - d) / 10000)
            over = true;
        else
            mag = mag * 10000 + d;
    }
    return saturate(over ? UINT64_MAX : mag, sign == 0x4000);
}

static enum octo_store_type oid_type(Oid oid)
{
    switch (oid) {
    case PG_INT8OID:
    case PG_INT4OID:
    case PG_INT2OID:
    case PG_BOOLOID:
    case PG_OIDOID:
        return OCTO_STORE_INT64;
    case PG_TEXTOID:
    case PG_VARCHAROID:
    case PG_BPCHAROID:
    case PG_NAMEOID:
    case PG_CHAROID:
    case PG_UNKNOWNOID:
        return OCTO_STORE_TEXT;
    case PG_BYTEAOID:
        return OCTO_STORE_BLOB;
    default:
        return OCTO_STORE_OTHER;
    }
}

/* ---- rows ---- */

/* The row implementation: the result, the current row, a buffer for integer-as-text. */
struct pg_row {
    const PGresult *res;
    int row;
    char num[24];
};

static struct pg_row *row_impl(const struct octo_store_row *row)
{
    return row->impl;
}

static enum octo_store_type pg_row_type(const struct octo_store_row *row, unsigned col)
{
    const struct pg_row *r = row_impl(row);
    if (PQgetisnull(r->res, r->row, (int)col))
        return OCTO_STORE_NULL;
    return oid_type(PQftype(r->res, (int)col));
}

static int64_t pg_row_int64(const struct octo_store_row *row, unsigned col)
{
    const struct pg_row *r = row_impl(row);
    if (PQgetisnull(r->res, r->row, (int)col))
        return 0;
    const char *p = PQgetvalue(r->res, r->row, (int)col);
    size_t n = (size_t)PQgetlength(r->res, r->row, (int)col);
    Oid oid = PQftype(r->res, (int)col);
    switch (oid) {
    case PG_INT8OID:
        return n == 8 ? sign_extend(be_read(p, 8), 64) : 0;
    case PG_INT4OID:
        return n == 4 ? sign_extend(be_read(p, 4), 32) : 0;
    case PG_INT2OID:
        return n == 2 ? sign_extend(be_read(p, 2), 16) : 0;
    case PG_OIDOID:
        return n == 4 ? (int64_t)be_read(p, 4) : 0;
    case PG_BOOLOID:
        return n == 1 && p[0] != 0 ? 1 : 0;
    case PG_NUMERICOID:
        return numeric_to_int64(p, n);
    default:
        break;
    }
    enum octo_store_type t = oid_type(oid);
    if (t == OCTO_STORE_TEXT || t == OCTO_STORE_BLOB)
        return parse_leading_int(p, n);
    return 0;
}

/* The column's bytes as the interface's text/blob view (integers as decimal text). */
static const char *pg_row_bytes(const struct octo_store_row *row, unsigned col, size_t *len)
{
    struct pg_row *r = row_impl(row);
    *len = 0;
    if (PQgetisnull(r->res, r->row, (int)col))
        return NULL;
    Oid oid = PQftype(r->res, (int)col);
    enum octo_store_type t = oid_type(oid);
    if (t == OCTO_STORE_INT64 || oid == PG_NUMERICOID) {
        int n = snprintf(r->num, sizeof(r->num), "%lld", (long long)pg_row_int64(row, col));
        OCTO_ASSERT(n > 0 && (size_t)n < sizeof(r->num));
        *len = (size_t)n;
        return r->num;
    }
    if (t == OCTO_STORE_OTHER)
        return NULL;
    *len = (size_t)PQgetlength(r->res, r->row, (int)col);
    return PQgetvalue(r->res, r->row, (int)col); /* libpq NUL-terminates every value */
}

static const char *pg_row_text(const struct octo_store_row *row, unsigned col, size_t *len)
{
    return pg_row_bytes(row, col, len);
}

static const void *pg_row_blob(const struct octo_store_row *row, unsigned col, size_t *len)
{
    const char *p = pg_row_bytes(row, col, len);
    return *len > 0 ? p : NULL; /* as SQLite: NULL for an empty blob */
}

static const struct octo_store_row_ops pg_row_ops = {
    .type = pg_row_type,
    .int64 = pg_row_int64,
    .text = pg_row_text,
    .blob = pg_row_blob,
};

/* Refuses a row holding a value over OCTO_STORE_VALUE_MAX before anyone reads it. */
static int check_row(struct pg_store *ps, const PGresult *res, int r, int ncols)
{
    for (int c = 0; c < ncols; c++) {
        if (PQgetisnull(res, r, c))
            continue;
        int n = PQgetlength(res, r, c);
        if (n < 0 || (size_t)n > OCTO_STORE_VALUE_MAX) {
            octo__store_seterr(&ps->base, "exec: column %d holds %d bytes, at most %u", c, n,
                               OCTO_STORE_VALUE_MAX);
            return OCTO_ETOOBIG;
        }
    }
    return 0;
}

/* Delivers the rows of one result (a single row in single-row mode) to fn, numbering them
 * from *index on. Returns 0 to go on, 1 when fn asked to stop, or a negative code. */
static int deliver_rows(struct pg_store *ps, const PGresult *res, octo_store_row_fn fn, void *ctx,
                        unsigned *index)
{
    int nrows = PQntuples(res);
    int ncols = PQnfields(res);
    OCTO_ASSERT(nrows >= 0 && ncols >= 0);
    struct pg_row impl = {.res = res, .row = 0, .num = {0}};
    struct octo_store_row row = {
        .ops = &pg_row_ops,
        .impl = &impl,
        .ncols = (unsigned)ncols,
        .index = 0,
    };
    for (int r = 0; r < nrows; r++) {
        int rc = check_row(ps, res, r, ncols);
        if (rc < 0)
            return rc;
        impl.row = r;
        row.index = (*index)++;
        rc = fn(&row, ctx);
        if (rc < 0) {
            octo__store_seterr(&ps->base, "exec: row callback failed: %s", octo_strerror(rc));
            return rc;
        }
        if (rc > 0)
            return 1;
    }
    return 0;
}

/* Rows changed according to the command tag (INSERT/UPDATE/DELETE/MERGE only). */
static int64_t tag_changes(PGresult *res)
{
    const char *tag = PQcmdStatus(res);
    if (strncmp(tag, "INSERT ", 7) != 0 && strncmp(tag, "UPDATE ", 7) != 0 &&
        strncmp(tag, "DELETE ", 7) != 0 && strncmp(tag, "MERGE ", 6) != 0)
        return 0;
    const char *num = PQcmdTuples(res);
    if (num[0] < '0' || num[0] > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(num, &end, 10);
    if (errno != 0 || end == num || *end != '\0' || v > (unsigned long long)INT64_MAX)
        return 0;
    return (int64_t)v;
}

/* ---- the SQL scanner ---- */

struct sql_scan {
    uint64_t used;  /* bit i-1 set: $i referenced (i <= OCTO_STORE_PARAMS_MAX) */
    bool bad;       /* a placeholder without a parameter was seen ... */
    unsigned bad_n; /* ... the first one's number (its first digits if very long) */
    bool content;   /* a statement was seen */
    bool multi;     /* something follows the first statement's ';' */
};

static bool ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* p just after an opening quote q; returns the position after the closing one (or the end).
 * A doubled quote is a literal quote; with backslash (E'...'), \x escapes x. */
static const char *skip_quoted(const char *p, char q, bool backslash)
{
    while (*p != '\0') {
        if (backslash && *p == '\\' && p[1] != '\0') {
            p += 2;
        } else if (*p == q) {
            if (p[1] != q)
                return p + 1;
            p += 2;
        } else {
            p++;
        }
    }
    return p;
}

/* p just after a block comment's opening; comments nest in PostgreSQL. */
static const char *skip_block_comment(const char *p)
{
    unsigned depth = 1;
    while (*p != '\0' && depth > 0) {
        if (p[0] == '/' && p[1] == '*') {
            depth++;
            p += 2;
        } else if (p[0] == '*' && p[1] == '/') {
            depth--;
            p += 2;
        } else {
            p++;
        }
    }
    return p;
}

/* p at '$'. A dollar-quote opener ($$ or $tag$): returns the position after its closer (or
 * the end). Otherwise NULL. */
static const char *skip_dollar_quote(const char *p)
{
    const char *q = p + 1;
    if (*q != '$') {
        if (!ident_start((unsigned char)*q))
            return NULL;
        while (*q != '$' && ident_char((unsigned char)*q))
            q++;
        if (*q != '$')
            return NULL;
    }
    q++; /* past the opener */
    size_t tag_len = (size_t)(q - p);
    const char *close = memmem(q, strlen(q), p, tag_len);
    return close != NULL ? close + tag_len : q + strlen(q);
}

/* p at '$' followed by a digit: records the placeholder; returns the position after it. */
static const char *scan_placeholder(const char *p, size_t nparams, struct sql_scan *sc)
{
    const char *q = p + 1;
    unsigned n = 0;
    size_t digits = 0;
    for (; is_digit((unsigned char)*q); q++, digits++) {
        if (digits < PG_PLACEHOLDER_DIGITS_MAX)
            n = n * 10 + (unsigned)(*q - '0');
    }
    if (digits > PG_PLACEHOLDER_DIGITS_MAX || n == 0 || n > nparams) {
        if (!sc->bad)
            sc->bad_n = n;
        sc->bad = true;
    } else {
        sc->used |= UINT64_C(1) << (n - 1);
    }
    return q;
}

/* Scans one token of content starting at p; returns the position after it. */
static const char *scan_token(const char *p, size_t nparams, struct sql_scan *sc)
{
    unsigned char c = (unsigned char)*p;
    if (ident_start(c)) {
        const char *q = p;
        while (ident_char((unsigned char)*q))
            q++;
        if (q - p == 1 && (c == 'E' || c == 'e') && *q == '\'')
            return skip_quoted(q + 1, '\'', true);
        return q;
    }
    if (is_digit(c)) {
        while (ident_char((unsigned char)*p) || *p == '.')
            p++;
        return p;
    }
    if (c == '\'' || c == '"')
        return skip_quoted(p + 1, (char)c, false);
    if (c == '$') {
        if (is_digit((unsigned char)p[1]))
            return scan_placeholder(p, nparams, sc);
        const char *q = skip_dollar_quote(p);
        return q != NULL ? q : p + 1;
    }
    return p + 1;
}

static void scan_sql(const char *sql, size_t nparams, struct sql_scan *sc)
{
    memset(sc, 0, sizeof(*sc));
    bool ended = false;
    const char *p = sql;
    while (*p != '\0') {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            p++;
        } else if (c == '-' && p[1] == '-') {
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (c == '/' && p[1] == '*') {
            p = skip_block_comment(p + 2);
        } else if (c == ';') {
            ended = sc->content;
            p++;
        } else if (ended) {
            sc->multi = true;
            return;
        } else {
            sc->content = true;
            p = scan_token(p, nparams, sc);
        }
    }
}

/* Applies the interface's statement rules; EINVAL with a message when broken. */
static int check_statement(struct pg_store *ps, const char *sql, size_t nparams)
{
    struct sql_scan sc;
    scan_sql(sql, nparams, &sc);
    if (!sc.content) {
        octo__store_seterr(&ps->base, "exec: no statement in the SQL");
        return OCTO_EINVAL;
    }
    if (sc.multi) {
        octo__store_seterr(&ps->base, "exec: more than one statement (use exec_script)");
        return OCTO_EINVAL;
    }
    for (size_t i = 0; i < nparams; i++) {
        if ((sc.used & (UINT64_C(1) << i)) == 0) {
            octo__store_seterr(&ps->base, "exec: placeholder $%zu is not in the statement", i + 1);
            return OCTO_EINVAL;
        }
    }
    if (sc.bad) {
        octo__store_seterr(&ps->base, "exec: placeholder $%u has no parameter (%zu given)",
                           sc.bad_n, nparams);
        return OCTO_EINVAL;
    }
    return 0;
}

/* ---- exec ---- */

/* The parameter arrays PQexecParams takes. */
struct pg_params {
    Oid types[OCTO_STORE_PARAMS_MAX];
    const char *values[OCTO_STORE_PARAMS_MAX];
    int lengths[OCTO_STORE_PARAMS_MAX];
    int formats[OCTO_STORE_PARAMS_MAX];
    char ints[OCTO_STORE_PARAMS_MAX][8];
};

static void build_params(struct pg_params *pp, const struct octo_store_value *params,
                         size_t nparams)
{
    OCTO_ASSERT(nparams <= OCTO_STORE_PARAMS_MAX);
    for (size_t i = 0; i < nparams; i++) {
        const struct octo_store_value *v = &params[i];
        pp->formats[i] = PG_FORMAT_BINARY;
        switch (v->type) {
        case OCTO_STORE_NULL:
            pp->types[i] = 0; /* inferred by the server */
            pp->values[i] = NULL;
            pp->lengths[i] = 0;
            break;
        case OCTO_STORE_INT64:
            be_write64(pp->ints[i], (uint64_t)v->i64);
            pp->types[i] = PG_INT8OID;
            pp->values[i] = pp->ints[i];
            pp->lengths[i] = 8;
            break;
        case OCTO_STORE_TEXT:
        case OCTO_STORE_BLOB:
            /* store.c checked len <= OCTO_STORE_VALUE_MAX; a non-NULL pointer even when
             * empty, or libpq would send SQL NULL. */
            pp->types[i] = v->type == OCTO_STORE_TEXT ? PG_TEXTOID : PG_BYTEAOID;
            pp->values[i] = v->len > 0 ? v->ptr : "";
            pp->lengths[i] = (int)v->len;
            break;
        default:
            OCTO_UNREACHABLE(); /* store.c checked the types */
        }
    }
}

/* What receiving one statement's results produced. */
struct pg_recv {
    int rc;          /* first error: the server's, a row's or the callback's */
    bool stop;       /* no more rows are delivered (callback stopped, or an error) */
    bool done;       /* a final result (not a single row) arrived */
    bool server_err; /* the server reported an error: the statement was undone */
    unsigned index;  /* rows delivered so far */
    int64_t changes; /* from the final result's command tag */
};

/* Handles one result of the statement being received. */
static void recv_one(struct pg_store *ps, PGresult *res, octo_store_row_fn fn, void *ctx,
                     struct pg_recv *r)
{
    ExecStatusType st = PQresultStatus(res);
    switch (st) {
    case PGRES_SINGLE_TUPLE:
    case PGRES_TUPLES_OK:
        if (st == PGRES_TUPLES_OK) {
            r->done = true;
            r->changes = tag_changes(res);
        }
        if (!r->stop && fn != NULL) {
            int d = deliver_rows(ps, res, fn, ctx, &r->index);
            if (d != 0)
                r->stop = true;
            if (d < 0)
                r->rc = d;
        }
        break;
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
        r->done = true;
        r->changes = tag_changes(res);
        break;
    default: {
        /* An error, possibly after rows were delivered (a failure mid-scan). The server's
         * error decides the code unless the callback failed first. */
        int frc = fail_res(ps, "exec", res);
        if (r->rc == 0)
            r->rc = frc;
        r->done = true;
        r->stop = true;
        r->server_err = true;
        break;
    }
    }
}

/*
 * Sends the statement and receives its results in single-row mode: libpq hands over one row
 * at a time, so one row (each value at most OCTO_STORE_VALUE_MAX, checked) sits in memory
 * whatever the size of the result. When the
 * callback stops early the rest of the result is still read from the socket and discarded
 * (the connection must be drained before the next statement); bound such queries with LIMIT.
 */
static int pg_exec(struct octo_store *s, const char *sql, const struct octo_store_value *params,
                   size_t nparams, octo_store_row_fn fn, void *ctx)
{
    struct pg_store *ps = to_pg(s);
    ps->changes = 0;
    int rc = check_statement(ps, sql, nparams);
    if (rc < 0)
        return rc;
    rc = stmt_enter(ps);
    if (rc < 0)
        return rc;
    struct pg_params pp;
    build_params(&pp, params, nparams);
    if (PQsendQueryParams(ps->conn, sql, (int)nparams, pp.types, pp.values, pp.lengths, pp.formats,
                          PG_FORMAT_BINARY) == 0) {
        rc = fail_res(ps, "exec", NULL);
        stmt_undo(ps);
        sync_tx(ps);
        return rc;
    }
    /* Refused only when not called right after a send: a programmer error here. If it ever
     * happened the rows would arrive in one result and still be handled below. */
    int single = PQsetSingleRowMode(ps->conn);
    OCTO_DASSERT(single == 1);
    (void)single;
    struct pg_recv r = {0};
    PGresult *res;
    while ((res = PQgetResult(ps->conn)) != NULL) {
        recv_one(ps, res, fn, ctx, &r);
        PQclear(res);
    }
    if (!r.done && r.rc == 0) /* the connection broke before any final result */
        r.rc = fail_res(ps, "exec", NULL);
    if (r.server_err)
        stmt_undo(ps);
    if (r.rc == 0)
        ps->changes = r.changes;
    sync_tx(ps);
    return r.rc;
}

static int pg_exec_script(struct octo_store *s, const char *sql)
{
    struct pg_store *ps = to_pg(s);
    ps->changes = 0;
    int rc = stmt_enter(ps);
    if (rc < 0)
        return rc;
    rc = run_simple(ps, "script", sql);
    if (rc < 0)
        stmt_undo(ps);
    sync_tx(ps);
    /* A script must not open or close transactions behind the store's back. */
    OCTO_DASSERT((s->tx == OCTO_STORE_TX_NONE) ==
                 (PQtransactionStatus(ps->conn) == PQTRANS_IDLE ||
                  PQtransactionStatus(ps->conn) == PQTRANS_UNKNOWN));
    return rc;
}

static int64_t pg_changes(struct octo_store *s)
{
    return to_pg(s)->changes;
}

static void pg_close(struct octo_store *s)
{
    struct pg_store *ps = to_pg(s);
    if (s->tx != OCTO_STORE_TX_NONE)
        (void)pg_rollback(s);
    PQfinish(ps->conn); /* the server rolls back anything still open */
    octo_free(ps);
}

static const struct octo_store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .changes = pg_changes,
};

/* ---- open ---- */

static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    OCTO_DEBUG("postgres notice: %s", message);
}

static int configure(struct pg_store *ps, uint32_t busy_timeout_ms)
{
    struct octo_store *s = &ps->base;
    PQsetNoticeProcessor(ps->conn, notice_to_log, NULL);
    if (PQsetClientEncoding(ps->conn, "UTF8") != 0) {
        char m[OCTO_STORE_ERRMSG_MAX];
        conn_message(ps->conn, m, sizeof(m));
        octo__store_seterr(s, "postgres client_encoding: %s", m[0] != '\0' ? m : "refused");
        return OCTO_ESTORE;
    }
    int version = PQserverVersion(ps->conn);
    if (version < PG_SERVER_VERSION_MIN) {
        octo__store_seterr(s, "postgres: server version %d is older than %d", version,
                           PG_SERVER_VERSION_MIN);
        return OCTO_EUNSUPPORTED;
    }
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SET standard_conforming_strings = on; SET synchronous_commit = on;"
             " SET client_min_messages = warning;"
             " SET default_transaction_isolation = 'read committed';"
             " SET lock_timeout = %u",
             (unsigned)busy_timeout_ms);
    int rc = run_simple(ps, "configure", sql);
    if (rc < 0)
        return rc;
    const char *scs = PQparameterStatus(ps->conn, "standard_conforming_strings");
    if (scs == NULL || strcmp(scs, "on") != 0) {
        octo__store_seterr(s, "postgres: standard_conforming_strings did not take");
        return OCTO_ESTORE;
    }
    return 0;
}

static int check_open_args(const char *conninfo, const struct octo_store_pg_options *opts,
                           uint32_t *busy_timeout_ms)
{
    if (conninfo == NULL)
        return OCTO_EINVAL;
    if (strnlen(conninfo, OCTO_STORE_CONNINFO_MAX + 1) > OCTO_STORE_CONNINFO_MAX)
        return OCTO_ETOOBIG;
    *busy_timeout_ms = OCTO_STORE_BUSY_TIMEOUT_MS;
    if (opts != NULL && opts->busy_timeout_ms != 0) {
        if (opts->busy_timeout_ms > OCTO_STORE_BUSY_TIMEOUT_MAX_MS)
            return OCTO_EINVAL;
        *busy_timeout_ms = opts->busy_timeout_ms;
    }
    char *err = NULL;
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &err);
    if (parsed == NULL) {
        OCTO_WARN("postgres: bad connection string: %s", err != NULL ? err : "out of memory");
        int rc = err != NULL ? OCTO_EINVAL : OCTO_ENOMEM;
        PQfreemem(err);
        return rc;
    }
    PQconninfoFree(parsed);
    return 0;
}

int octo_store_open_pg(struct octo_store **out, const char *conninfo,
                       const struct octo_store_pg_options *opts)
{
    OCTO_ASSERT(out != NULL);
    uint32_t busy_timeout_ms = 0;
    int rc = check_open_args(conninfo, opts, &busy_timeout_ms);
    if (rc < 0)
        return rc;
    struct pg_store *ps = octo_calloc(1, sizeof(*ps));
    if (ps == NULL)
        return OCTO_ENOMEM;
    ps->base.ops = &pg_ops;
    ps->base.backend = OCTO_STORE_POSTGRES;
    ps->base.tx = OCTO_STORE_TX_NONE;
    ps->conn = PQconnectdb(conninfo);
    if (ps->conn == NULL) {
        rc = OCTO_ENOMEM;
        goto err_free;
    }
    if (PQstatus(ps->conn) != CONNECTION_OK) {
        char m[OCTO_STORE_ERRMSG_MAX];
        conn_message(ps->conn, m, sizeof(m));
        octo__store_seterr(&ps->base, "postgres connect: %s", m);
        rc = PQconnectionNeedsPassword(ps->conn) ? OCTO_EPERM : OCTO_EIO;
        goto err_free;
    }
    rc = configure(ps, busy_timeout_ms);
    if (rc < 0)
        goto err_free;
    *out = &ps->base;
    return 0;

err_free:
    OCTO_WARN("cannot open the PostgreSQL database: %s",
              ps->base.errmsg[0] != '\0' ? ps->base.errmsg : octo_strerror(rc));
    PQfinish(ps->conn); /* NULL is a no-op */
    octo_free(ps);
    return rc;
}
