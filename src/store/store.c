/*
 * store.c — the backend-independent half of the storage interface: argument and limit checks,
 * the transaction state machine, dispatch through the ops table, the row accessors and small
 * helpers shared by the repositories.
 *
 * Invariants: s->tx mirrors the backend's real transaction state (backends resynchronise it
 * after errors that end a transaction implicitly); every limit in store.h is checked here,
 * before the backend sees the input, so each backend only needs to check what it reads back.
 * Threading: none of its own; a store is used by one thread at a time.
 */
#include "store/store.h"

#include "base/assert.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void octo__store_seterr(struct octo_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    if (n < 0)
        s->errmsg[0] = '\0';
}

void octo_store_close(struct octo_store *s)
{
    if (s == NULL)
        return;
    OCTO_ASSERT(s->ops != NULL);
    s->ops->close(s);
}

const char *octo_store_errmsg(const struct octo_store *s)
{
    OCTO_ASSERT(s != NULL);
    return s->errmsg;
}

const char *octo_store_backend_name(const struct octo_store *s)
{
    OCTO_ASSERT(s != NULL);
    return s->ops->name;
}

enum octo_store_tx octo_store_tx_state(const struct octo_store *s)
{
    OCTO_ASSERT(s != NULL);
    return s->tx;
}

int octo_store_begin(struct octo_store *s, bool write)
{
    OCTO_ASSERT(s != NULL);
    if (s->tx != OCTO_STORE_TX_NONE) {
        octo__store_seterr(s, "begin: a transaction is already open (no nesting)");
        return OCTO_ESTATE;
    }
    int rc = s->ops->begin(s, write);
    if (rc == 0)
        OCTO_ASSERT(s->tx == (write ? OCTO_STORE_TX_WRITE : OCTO_STORE_TX_READ));
    return rc;
}

int octo_store_commit(struct octo_store *s)
{
    OCTO_ASSERT(s != NULL);
    if (s->tx == OCTO_STORE_TX_NONE) {
        octo__store_seterr(s, "commit: no transaction is open");
        return OCTO_ESTATE;
    }
    int rc = s->ops->commit(s);
    OCTO_ASSERT(s->tx == OCTO_STORE_TX_NONE); /* also after a failure: see store.h */
    return rc;
}

int octo_store_rollback(struct octo_store *s)
{
    OCTO_ASSERT(s != NULL);
    if (s->tx == OCTO_STORE_TX_NONE) {
        octo__store_seterr(s, "rollback: no transaction is open");
        return OCTO_ESTATE;
    }
    int rc = s->ops->rollback(s);
    OCTO_ASSERT(s->tx == OCTO_STORE_TX_NONE);
    return rc;
}

/* Checks the SQL text: present and within OCTO_STORE_SQL_MAX. */
static int check_sql(struct octo_store *s, const char *sql)
{
    if (sql == NULL) {
        octo__store_seterr(s, "exec: no SQL");
        return OCTO_EINVAL;
    }
    if (strnlen(sql, OCTO_STORE_SQL_MAX + 1) > OCTO_STORE_SQL_MAX) {
        octo__store_seterr(s, "exec: SQL longer than %u bytes", OCTO_STORE_SQL_MAX);
        return OCTO_ETOOBIG;
    }
    return 0;
}

static int check_params(struct octo_store *s, const struct octo_store_value *params, size_t nparams)
{
    if (nparams > OCTO_STORE_PARAMS_MAX) {
        octo__store_seterr(s, "exec: %zu parameters, at most %u", nparams, OCTO_STORE_PARAMS_MAX);
        return OCTO_ETOOBIG;
    }
    if (nparams > 0 && params == NULL) {
        octo__store_seterr(s, "exec: parameters missing");
        return OCTO_EINVAL;
    }
    for (size_t i = 0; i < nparams; i++) {
        const struct octo_store_value *v = &params[i];
        switch (v->type) {
        case OCTO_STORE_NULL:
        case OCTO_STORE_INT64:
            break;
        case OCTO_STORE_TEXT:
        case OCTO_STORE_BLOB:
            if (v->len > OCTO_STORE_VALUE_MAX) {
                octo__store_seterr(s, "exec: parameter $%zu is %zu bytes, at most %u", i + 1,
                                   v->len, OCTO_STORE_VALUE_MAX);
                return OCTO_ETOOBIG;
            }
            if (v->len > 0 && v->ptr == NULL) {
                octo__store_seterr(s, "exec: parameter $%zu has a length but no data", i + 1);
                return OCTO_EINVAL;
            }
            break;
        default:
            octo__store_seterr(s, "exec: parameter $%zu has an invalid type", i + 1);
            return OCTO_EINVAL;
        }
    }
    return 0;
}

int octo_store_exec(struct octo_store *s, const char *sql, const struct octo_store_value *params,
                    size_t nparams, octo_store_row_fn fn, void *ctx)
{
    OCTO_ASSERT(s != NULL);
    int rc = check_sql(s, sql);
    if (rc < 0)
        return rc;
    rc = check_params(s, params, nparams);
    if (rc < 0)
        return rc;
    return s->ops->exec(s, sql, params, nparams, fn, ctx);
}

int octo_store_exec_script(struct octo_store *s, const char *sql)
{
    OCTO_ASSERT(s != NULL);
    int rc = check_sql(s, sql);
    if (rc < 0)
        return rc;
    return s->ops->exec_script(s, sql);
}

int64_t octo_store_changes(struct octo_store *s)
{
    OCTO_ASSERT(s != NULL);
    return s->ops->changes(s);
}

struct query_int64 {
    int64_t value;
    bool found;
};

static int query_int64_row(const struct octo_store_row *row, void *ctx)
{
    struct query_int64 *q = ctx;
    if (octo_store_row_count(row) < 1 || octo_store_row_type(row, 0) == OCTO_STORE_NULL)
        return 1;
    q->value = octo_store_row_int64(row, 0);
    q->found = true;
    return 1; /* the first row is enough */
}

int octo_store_query_int64(struct octo_store *s, const char *sql,
                           const struct octo_store_value *params, size_t nparams, int64_t *out)
{
    struct query_int64 q = {0, false};
    int rc = octo_store_exec(s, sql, params, nparams, query_int64_row, &q);
    if (rc < 0)
        return rc;
    if (!q.found) {
        octo__store_seterr(s, "query: no value");
        return OCTO_ENOTFOUND;
    }
    *out = q.value;
    return 0;
}

int octo_store_tx_enter(struct octo_store *s, bool write, bool *owned)
{
    OCTO_ASSERT(s != NULL);
    *owned = false;
    if (s->tx == OCTO_STORE_TX_WRITE)
        return 0;
    if (s->tx == OCTO_STORE_TX_READ) {
        if (!write)
            return 0;
        octo__store_seterr(s, "a write needs a write transaction, but a read one is open");
        return OCTO_ESTATE;
    }
    int rc = octo_store_begin(s, write);
    if (rc < 0)
        return rc;
    *owned = true;
    return 0;
}

int octo_store_tx_leave(struct octo_store *s, bool owned, int rc)
{
    OCTO_ASSERT(s != NULL);
    if (!owned)
        return rc;
    if (rc < 0) {
        if (s->tx != OCTO_STORE_TX_NONE) {
            /* Keep the message of the failure that made us roll back. */
            char saved[OCTO_STORE_ERRMSG_MAX];
            memcpy(saved, s->errmsg, sizeof(saved));
            (void)octo_store_rollback(s);
            memcpy(s->errmsg, saved, sizeof(saved));
        }
        return rc;
    }
    int crc = octo_store_commit(s);
    if (crc < 0) {
        if (s->tx != OCTO_STORE_TX_NONE) {
            char saved[OCTO_STORE_ERRMSG_MAX];
            memcpy(saved, s->errmsg, sizeof(saved));
            (void)octo_store_rollback(s);
            memcpy(s->errmsg, saved, sizeof(saved));
        }
        return crc;
    }
    return rc;
}

/* ---- row accessors ---- */

unsigned octo_store_row_count(const struct octo_store_row *row)
{
    OCTO_ASSERT(row != NULL);
    return row->ncols;
}

enum octo_store_type octo_store_row_type(const struct octo_store_row *row, unsigned col)
{
    OCTO_ASSERT(col < row->ncols);
    return row->ops->type(row, col);
}

int64_t octo_store_row_int64(const struct octo_store_row *row, unsigned col)
{
    OCTO_ASSERT(col < row->ncols);
    return row->ops->int64(row, col);
}

const char *octo_store_row_text(const struct octo_store_row *row, unsigned col, size_t *len)
{
    OCTO_ASSERT(col < row->ncols);
    size_t n = 0;
    const char *p = row->ops->text(row, col, &n);
    OCTO_ASSERT(n <= OCTO_STORE_VALUE_MAX);
    if (len != NULL)
        *len = n;
    return p;
}

const void *octo_store_row_blob(const struct octo_store_row *row, unsigned col, size_t *len)
{
    OCTO_ASSERT(col < row->ncols);
    OCTO_ASSERT(len != NULL);
    size_t n = 0;
    const void *p = row->ops->blob(row, col, &n);
    OCTO_ASSERT(n <= OCTO_STORE_VALUE_MAX);
    *len = n;
    return p;
}

/* ---- helpers for repositories ---- */

int octo__store_count(struct octo_store *s, const char *sql, uint64_t *out)
{
    OCTO_ASSERT(s != NULL && out != NULL);
    int64_t n = 0;
    int rc = octo_store_query_int64(s, sql, NULL, 0, &n);
    if (rc < 0)
        return rc;
    OCTO_ASSERT(n >= 0);
    *out = (uint64_t)n;
    return 0;
}

bool octo__store_utf8_valid(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        size_t extra;
        uint32_t min;
        uint32_t cp;
        if (c == 0) {
            return false; /* PostgreSQL text cannot hold NUL */
        } else if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            min = 0x80;
            cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            min = 0x800;
            cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            min = 0x10000;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (extra > len - i - 1)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}
