/*
 * tasks.c — task records over the generic store interface.
 *
 * Table (migrate.c, node schema v4): tasks(id PK, owner, model, priority, state, reason,
 * deadline_ms, created_ms, updated_ms, attempts, provider, charged_amount, charged, request,
 * result) with partial indexes tasks_unfinished(created_ms, id) WHERE state IN (0, 1) and
 * tasks_finished(updated_ms) WHERE state >= 2.
 *
 * Each guarantee is one conditional statement whose change count decides, so it holds even
 * when several connections or processes work on one database:
 *   - idempotent insert: INSERT ... ON CONFLICT (id) DO NOTHING; 0 changes = the id exists;
 *   - no transition out of a final state: UPDATE ... WHERE id = $1 AND state IN (0, 1);
 *   - charged once: UPDATE ... WHERE id = $1 AND charged = 0.
 * A follow-up read in the same write transaction only tells which error to report.
 *
 * Every input is checked against the limits in tasks.h before SQL runs; every row read back
 * is checked again and a row breaking the limits is OCTO_ESTORE.
 */
#include "store/tasks.h"

#include "base/assert.h"

#include <limits.h>
#include <string.h>

/* The columns every read selects, in this order (request and result are added by get). */
#define TASK_COLUMNS                                                                               \
    "id, owner, model, priority, state, reason, deadline_ms, created_ms, updated_ms, attempts,"    \
    " provider, charged_amount, charged"
#define TASK_NCOLS 13u

void octo_taskstore_init(struct octo_taskstore *ts, struct octo_store *s)
{
    OCTO_ASSERT(ts != NULL);
    OCTO_ASSERT(s != NULL);
    ts->store = s;
}

bool octo_taskstore_state_final(enum octo_taskstore_state st)
{
    return st == OCTO_TASKSTORE_SUCCEEDED || st == OCTO_TASKSTORE_FAILED ||
           st == OCTO_TASKSTORE_EXPIRED || st == OCTO_TASKSTORE_CANCELLED;
}

const char *octo_taskstore_state_name(enum octo_taskstore_state st)
{
    switch (st) {
    case OCTO_TASKSTORE_QUEUED:
        return "queued";
    case OCTO_TASKSTORE_RUNNING:
        return "running";
    case OCTO_TASKSTORE_SUCCEEDED:
        return "succeeded";
    case OCTO_TASKSTORE_FAILED:
        return "failed";
    case OCTO_TASKSTORE_EXPIRED:
        return "expired";
    case OCTO_TASKSTORE_CANCELLED:
        return "cancelled";
    default:
        return "invalid";
    }
}

/* ---- checks ---- */

static bool state_valid(int64_t st)
{
    return st >= OCTO_TASKSTORE_QUEUED && st <= OCTO_TASKSTORE_STATE_LAST;
}

/* A NUL-terminated UTF-8 string of min..max bytes inside a buffer of max + 1 bytes. */
static int check_fixed_text(const char *s, size_t min, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n > max)
        return OCTO_ETOOBIG;
    if (n < min || !octo__store_utf8_valid(s, n))
        return OCTO_EINVAL;
    return 0;
}

/* Bytes with a length: NULL only when empty. */
static int check_bytes(const void *p, size_t len, size_t max)
{
    if (len > max)
        return OCTO_ETOOBIG;
    if (len > 0 && p == NULL)
        return OCTO_EINVAL;
    return 0;
}

static int check_record(const struct octo_taskstore_record *rec)
{
    if (rec->owner_len == 0)
        return OCTO_EINVAL;
    if (rec->owner_len > OCTO_TASKSTORE_OWNER_MAX ||
        rec->provider_len > OCTO_TASKSTORE_PROVIDER_MAX)
        return OCTO_ETOOBIG;
    int rc = check_fixed_text(rec->model, 1, OCTO_TASKSTORE_MODEL_MAX);
    if (rc < 0)
        return rc;
    rc = check_fixed_text(rec->reason, 0, OCTO_TASKSTORE_REASON_MAX);
    if (rc < 0)
        return rc;
    if (rec->priority > OCTO_TASKSTORE_PRIORITY_MAX || !state_valid((int64_t)rec->state))
        return OCTO_EINVAL;
    if (rec->charged || rec->charged_amount != 0 || rec->result_len != 0)
        return OCTO_EINVAL;
    rc = check_bytes(rec->request, rec->request_len, OCTO_TASKSTORE_REQUEST_MAX);
    if (rc < 0)
        return rc;
    if (rec->deadline_ms > OCTO_TASKSTORE_U64_MAX || rec->created_ms > OCTO_TASKSTORE_U64_MAX ||
        rec->updated_ms > OCTO_TASKSTORE_U64_MAX)
        return OCTO_ERANGE;
    return 0;
}

static int input_error(struct octo_taskstore *ts, const char *what, int rc)
{
    octo__store_seterr(ts->store, "taskstore %s: invalid input: %s", what, octo_strerror(rc));
    return rc;
}

/* ---- reading rows ---- */

/* Copies a text column of at most max bytes into dst (max + 1 bytes), NUL-terminated. */
static int copy_text(const struct octo_store_row *row, unsigned col, size_t min, size_t max,
                     char *dst)
{
    size_t len = 0;
    const char *p = octo_store_row_text(row, col, &len);
    if (p == NULL || len < min || len > max)
        return OCTO_ESTORE;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return 0;
}

/* Copies a blob column of min..max bytes into dst. */
static int copy_blob(const struct octo_store_row *row, unsigned col, size_t min, size_t max,
                     uint8_t *dst, size_t *len_out)
{
    size_t len = 0;
    const void *p = octo_store_row_blob(row, col, &len);
    if (len < min || len > max)
        return OCTO_ESTORE;
    if (len > 0)
        memcpy(dst, p, len);
    *len_out = len;
    return 0;
}

/* Decodes the TASK_COLUMNS of a row into out (request and result left empty). */
static int decode_row(const struct octo_store_row *row, struct octo_taskstore_record *out)
{
    memset(out, 0, sizeof(*out));
    if (octo_store_row_count(row) < TASK_NCOLS)
        return OCTO_ESTORE;
    size_t id_len = 0;
    int rc = copy_blob(row, 0, OCTO_TASKSTORE_ID_LEN, OCTO_TASKSTORE_ID_LEN, out->id, &id_len);
    if (rc == 0)
        rc = copy_blob(row, 1, 1, OCTO_TASKSTORE_OWNER_MAX, out->owner, &out->owner_len);
    if (rc == 0)
        rc = copy_text(row, 2, 1, OCTO_TASKSTORE_MODEL_MAX, out->model);
    if (rc == 0)
        rc = copy_text(row, 5, 0, OCTO_TASKSTORE_REASON_MAX, out->reason);
    if (rc == 0)
        rc = copy_blob(row, 10, 0, OCTO_TASKSTORE_PROVIDER_MAX, out->provider, &out->provider_len);
    if (rc < 0)
        return rc;
    int64_t prio = octo_store_row_int64(row, 3);
    int64_t state = octo_store_row_int64(row, 4);
    int64_t deadline = octo_store_row_int64(row, 6);
    int64_t created = octo_store_row_int64(row, 7);
    int64_t updated = octo_store_row_int64(row, 8);
    int64_t attempts = octo_store_row_int64(row, 9);
    int64_t amount = octo_store_row_int64(row, 11);
    int64_t charged = octo_store_row_int64(row, 12);
    if (prio < 0 || prio > OCTO_TASKSTORE_PRIORITY_MAX || !state_valid(state) || deadline < 0 ||
        created < 0 || updated < 0 || attempts < 0 || attempts > (int64_t)UINT32_MAX ||
        amount < 0 || (charged != 0 && charged != 1))
        return OCTO_ESTORE;
    out->priority = (uint8_t)prio;
    out->state = (enum octo_taskstore_state)state;
    out->deadline_ms = (uint64_t)deadline;
    out->created_ms = (uint64_t)created;
    out->updated_ms = (uint64_t)updated;
    out->attempts = (uint32_t)attempts;
    out->charged_amount = (uint64_t)amount;
    out->charged = charged == 1;
    return 0;
}

/* A payload column (request or result): its bytes, checked against the limit. */
static int payload(const struct octo_store_row *row, unsigned col, const uint8_t **p, size_t *len)
{
    *p = octo_store_row_blob(row, col, len);
    if (*len > OCTO_TASKSTORE_REQUEST_MAX)
        return OCTO_ESTORE;
    return 0;
}

/* The state of a stored task: OCTO_ENOTFOUND when absent. */
static int read_state(struct octo_store *s, const uint8_t *id, enum octo_taskstore_state *out)
{
    struct octo_store_value idv = octo_store_blob(id, OCTO_TASKSTORE_ID_LEN);
    int64_t st = 0;
    int rc = octo_store_query_int64(s, "SELECT state FROM tasks WHERE id = $1", &idv, 1, &st);
    if (rc == OCTO_ENOTFOUND) {
        octo__store_seterr(s, "taskstore: no such task");
        return rc;
    }
    if (rc < 0)
        return rc;
    if (!state_valid(st)) {
        octo__store_seterr(s, "taskstore: corrupt state %lld", (long long)st);
        return OCTO_ESTORE;
    }
    *out = (enum octo_taskstore_state)st;
    return 0;
}

/* ---- insert ---- */

static int insert_in_tx(struct octo_store *s, const struct octo_taskstore_record *rec,
                        enum octo_taskstore_state *existing_state)
{
    struct octo_store_value p[] = {
        octo_store_blob(rec->id, OCTO_TASKSTORE_ID_LEN),
        octo_store_blob(rec->owner, rec->owner_len),
        octo_store_textn(rec->model, strlen(rec->model)),
        octo_store_int64(rec->priority),
        octo_store_int64(rec->state),
        octo_store_textn(rec->reason, strlen(rec->reason)),
        octo_store_int64((int64_t)rec->deadline_ms),
        octo_store_int64((int64_t)rec->created_ms),
        octo_store_int64((int64_t)rec->updated_ms),
        octo_store_int64(rec->attempts),
        octo_store_blob(rec->provider, rec->provider_len),
        octo_store_blob(rec->request, rec->request_len),
        octo_store_blob(NULL, 0), /* the empty result: a blob in both dialects */
    };
    int rc = octo_store_exec(s,
                             "INSERT INTO tasks (id, owner, model, priority, state, reason,"
                             " deadline_ms, created_ms, updated_ms, attempts, provider,"
                             " charged_amount, charged, request, result) VALUES ($1, $2, $3,"
                             " $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, $12, $13)"
                             " ON CONFLICT (id) DO NOTHING",
                             p, OCTO_ARRAY_LEN(p), NULL, NULL);
    if (rc < 0)
        return rc;
    if (octo_store_changes(s) > 0)
        return 0;
    enum octo_taskstore_state st = OCTO_TASKSTORE_QUEUED;
    rc = read_state(s, rec->id, &st);
    if (rc < 0)
        return rc;
    if (existing_state != NULL)
        *existing_state = st;
    octo__store_seterr(s, "taskstore insert: the task exists (state %s)",
                       octo_taskstore_state_name(st));
    return OCTO_EEXIST;
}

int octo_taskstore_insert(struct octo_taskstore *ts, const struct octo_taskstore_record *rec,
                          enum octo_taskstore_state *existing_state)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL);
    OCTO_ASSERT(rec != NULL);
    int rc = check_record(rec);
    if (rc < 0)
        return input_error(ts, "insert", rc);
    bool owned = false;
    rc = octo_store_tx_enter(ts->store, true, &owned);
    if (rc < 0)
        return rc;
    rc = insert_in_tx(ts->store, rec, existing_state);
    /* EEXIST changed nothing: committing the (empty) transaction is right either way. */
    int lrc = octo_store_tx_leave(ts->store, owned, rc == OCTO_EEXIST ? 0 : rc);
    return lrc < 0 ? lrc : rc;
}

/* ---- get ---- */

struct get_ctx {
    struct octo_taskstore_record *out;
    struct octo_buf *request_buf;
    struct octo_buf *result_buf;
    unsigned request_col; /* column of each payload, when wanted */
    unsigned result_col;
    bool found;
};

/* Copies a payload column into buf (reset first) and points *p at it. */
static int copy_payload(const struct octo_store_row *row, unsigned col, struct octo_buf *buf,
                        const uint8_t **p, size_t *len)
{
    const uint8_t *src = NULL;
    size_t n = 0;
    int rc = payload(row, col, &src, &n);
    if (rc < 0)
        return rc;
    octo_buf_reset(buf);
    rc = octo_buf_append(buf, src, n);
    if (rc < 0)
        return rc;
    *p = buf->data;
    *len = n;
    return 0;
}

static int get_row(const struct octo_store_row *row, void *vctx)
{
    struct get_ctx *g = vctx;
    int rc = decode_row(row, g->out);
    if (rc < 0)
        return rc;
    if (g->request_buf != NULL) {
        rc = copy_payload(row, g->request_col, g->request_buf, &g->out->request,
                          &g->out->request_len);
        if (rc < 0)
            return rc;
    }
    if (g->result_buf != NULL) {
        rc = copy_payload(row, g->result_col, g->result_buf, &g->out->result, &g->out->result_len);
        if (rc < 0)
            return rc;
    }
    g->found = true;
    return 1;
}

int octo_taskstore_get(struct octo_taskstore *ts, const uint8_t id[OCTO_TASKSTORE_ID_LEN],
                       struct octo_buf *request_buf, struct octo_buf *result_buf,
                       struct octo_taskstore_record *out)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL);
    OCTO_ASSERT(id != NULL && out != NULL);
    /* Payload columns are selected only when wanted (up to 2 MiB per row otherwise). */
    struct get_ctx g = {out, request_buf, result_buf, TASK_NCOLS, TASK_NCOLS, false};
    const char *sql;
    if (request_buf != NULL && result_buf != NULL) {
        sql = "SELECT " TASK_COLUMNS ", request, result FROM tasks WHERE id = $1";
        g.result_col = TASK_NCOLS + 1;
    } else if (request_buf != NULL) {
        sql = "SELECT " TASK_COLUMNS ", request FROM tasks WHERE id = $1";
    } else if (result_buf != NULL) {
        sql = "SELECT " TASK_COLUMNS ", result FROM tasks WHERE id = $1";
    } else {
        sql = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = $1";
    }
    struct octo_store_value idv = octo_store_blob(id, OCTO_TASKSTORE_ID_LEN);
    int rc = octo_store_exec(ts->store, sql, &idv, 1, get_row, &g);
    if (rc < 0)
        return rc;
    if (!g.found) {
        octo__store_seterr(ts->store, "taskstore get: no such task");
        return OCTO_ENOTFOUND;
    }
    return 0;
}

/* ---- update ---- */

static int update_in_tx(struct octo_store *s, const uint8_t *id,
                        const struct octo_taskstore_update *u)
{
    const char *reason = u->reason != NULL ? u->reason : "";
    struct octo_store_value p[] = {
        octo_store_blob(id, OCTO_TASKSTORE_ID_LEN),
        octo_store_int64(u->state),
        octo_store_int64(u->attempts),
        octo_store_blob(u->provider, u->provider_len),
        octo_store_textn(reason, strlen(reason)),
        octo_store_int64((int64_t)u->now_ms),
    };
    int rc = octo_store_exec(s,
                             "UPDATE tasks SET state = $2, attempts = $3, provider = $4,"
                             " reason = $5, updated_ms = $6 WHERE id = $1 AND state IN (0, 1)",
                             p, OCTO_ARRAY_LEN(p), NULL, NULL);
    if (rc < 0)
        return rc;
    if (octo_store_changes(s) > 0)
        return 0;
    enum octo_taskstore_state st = OCTO_TASKSTORE_QUEUED;
    rc = read_state(s, id, &st);
    if (rc < 0)
        return rc;
    octo__store_seterr(s, "taskstore update: the task is %s, a final state",
                       octo_taskstore_state_name(st));
    return OCTO_ESTATE;
}

int octo_taskstore_update(struct octo_taskstore *ts, const uint8_t id[OCTO_TASKSTORE_ID_LEN],
                          const struct octo_taskstore_update *u)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL);
    OCTO_ASSERT(id != NULL && u != NULL);
    int rc = 0;
    if (!state_valid((int64_t)u->state))
        rc = OCTO_EINVAL;
    else if (u->now_ms > OCTO_TASKSTORE_U64_MAX)
        rc = OCTO_ERANGE;
    if (rc == 0)
        rc = check_bytes(u->provider, u->provider_len, OCTO_TASKSTORE_PROVIDER_MAX);
    if (rc == 0 && u->reason != NULL)
        rc = check_fixed_text(u->reason, 0, OCTO_TASKSTORE_REASON_MAX);
    if (rc < 0)
        return input_error(ts, "update", rc);
    bool owned = false;
    rc = octo_store_tx_enter(ts->store, true, &owned);
    if (rc < 0)
        return rc;
    rc = update_in_tx(ts->store, id, u);
    return octo_store_tx_leave(ts->store, owned, rc);
}

/* ---- charge ---- */

static int charge_in_tx(struct octo_store *s, const uint8_t *id, const void *result,
                        size_t result_len, uint64_t amount, uint64_t now_ms)
{
    struct octo_store_value p[] = {
        octo_store_blob(id, OCTO_TASKSTORE_ID_LEN),
        octo_store_blob(result, result_len),
        octo_store_int64((int64_t)amount),
        octo_store_int64((int64_t)now_ms),
    };
    int rc = octo_store_exec(s,
                             "UPDATE tasks SET result = $2, charged_amount = $3, charged = 1,"
                             " updated_ms = $4 WHERE id = $1 AND charged = 0",
                             p, OCTO_ARRAY_LEN(p), NULL, NULL);
    if (rc < 0)
        return rc;
    if (octo_store_changes(s) > 0)
        return 0;
    enum octo_taskstore_state st = OCTO_TASKSTORE_QUEUED;
    rc = read_state(s, id, &st);
    if (rc < 0)
        return rc;
    octo__store_seterr(s, "taskstore charge: the task was charged already");
    return OCTO_EEXIST;
}

int octo_taskstore_charge(struct octo_taskstore *ts, const uint8_t id[OCTO_TASKSTORE_ID_LEN],
                          const void *result, size_t result_len, uint64_t amount, uint64_t now_ms)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL);
    OCTO_ASSERT(id != NULL);
    int rc = check_bytes(result, result_len, OCTO_TASKSTORE_REQUEST_MAX);
    if (rc == 0 && (amount > OCTO_TASKSTORE_U64_MAX || now_ms > OCTO_TASKSTORE_U64_MAX))
        rc = OCTO_ERANGE;
    if (rc < 0)
        return input_error(ts, "charge", rc);
    bool owned = false;
    rc = octo_store_tx_enter(ts->store, true, &owned);
    if (rc < 0)
        return rc;
    rc = charge_in_tx(ts->store, id, result, result_len, amount, now_ms);
    /* A refused second charge changed nothing; commit the empty transaction. */
    int lrc = octo_store_tx_leave(ts->store, owned, rc == OCTO_EEXIST ? 0 : rc);
    return lrc < 0 ? lrc : rc;
}

/* ---- list, purge, count ---- */

struct list_ctx {
    octo_taskstore_list_fn fn;
    void *ctx;
    struct octo_taskstore_cursor *cursor;
    size_t limit;
    int listed;
    bool unfinished; /* the recovery listing: request bytes, unfinished states only */
    bool finished;   /* the reconciliation listing: result bytes, final states only, the
                        cursor on (updated_ms, id) */
};

static int list_row(const struct octo_store_row *row, void *vctx)
{
    struct list_ctx *l = vctx;
    if ((size_t)l->listed >= l->limit)
        return OCTO_ETOOBIG; /* more rows than the LIMIT asked for */
    struct octo_taskstore_record rec;
    int rc = decode_row(row, &rec);
    if (rc == 0 && l->unfinished)
        rc = payload(row, TASK_NCOLS, &rec.request, &rec.request_len);
    if (rc == 0 && l->unfinished && rec.state != OCTO_TASKSTORE_QUEUED &&
        rec.state != OCTO_TASKSTORE_RUNNING)
        rc = OCTO_ESTORE;
    if (rc == 0 && l->finished)
        rc = payload(row, TASK_NCOLS, &rec.result, &rec.result_len);
    if (rc == 0 && l->finished && !octo_taskstore_state_final(rec.state))
        rc = OCTO_ESTORE;
    if (rc < 0)
        return rc;
    rc = l->fn(&rec, l->ctx);
    if (rc < 0)
        return rc;
    l->listed++;
    if (l->cursor != NULL) {
        l->cursor->started = true;
        l->cursor->created_ms = l->finished ? rec.updated_ms : rec.created_ms;
        memcpy(l->cursor->id, rec.id, OCTO_TASKSTORE_ID_LEN);
    }
    return rc > 0 ? 1 : 0;
}

int octo_taskstore_list_unfinished(struct octo_taskstore *ts, struct octo_taskstore_cursor *cursor,
                                   size_t limit, octo_taskstore_list_fn fn, void *ctx)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL);
    OCTO_ASSERT(fn != NULL);
    if (limit == 0 || limit > OCTO_TASKSTORE_LIST_MAX)
        return input_error(ts, "list", OCTO_EINVAL);
    if (cursor != NULL && cursor->started && cursor->created_ms > OCTO_TASKSTORE_U64_MAX)
        return input_error(ts, "list", OCTO_ERANGE);
    bool from_start = cursor == NULL || !cursor->started;
    /* From the start: after (-1, empty), which sorts before every stored key. */
    struct octo_store_value p[] = {
        octo_store_int64(from_start ? -1 : (int64_t)cursor->created_ms),
        from_start ? octo_store_blob(NULL, 0) : octo_store_blob(cursor->id, OCTO_TASKSTORE_ID_LEN),
        octo_store_int64((int64_t)limit),
    };
    struct list_ctx l = {fn, ctx, cursor, limit, 0, true, false};
    int rc = octo_store_exec(ts->store,
                             "SELECT " TASK_COLUMNS ", request FROM tasks"
                             " WHERE state IN (0, 1) AND (created_ms, id) > ($1, $2)"
                             " ORDER BY created_ms, id LIMIT $3",
                             p, OCTO_ARRAY_LEN(p), list_row, &l);
    if (rc < 0)
        return rc;
    return l.listed;
}

int octo_taskstore_list_owner(struct octo_taskstore *ts, const uint8_t *owner, size_t owner_len,
                              uint64_t before_ms, size_t limit, octo_taskstore_list_fn fn,
                              void *ctx)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL);
    OCTO_ASSERT(fn != NULL);
    if (limit == 0 || limit > OCTO_TASKSTORE_LIST_MAX || owner == NULL || owner_len == 0)
        return input_error(ts, "list", OCTO_EINVAL);
    if (owner_len > OCTO_TASKSTORE_OWNER_MAX)
        return input_error(ts, "list", OCTO_ETOOBIG);
    if (before_ms > OCTO_TASKSTORE_U64_MAX)
        return input_error(ts, "list", OCTO_ERANGE);
    struct octo_store_value p[] = {
        octo_store_blob(owner, owner_len),
        octo_store_int64((int64_t)before_ms),
        octo_store_int64((int64_t)limit),
    };
    struct list_ctx l = {fn, ctx, NULL, limit, 0, false, false};
    int rc =
        octo_store_exec(ts->store,
                        "SELECT " TASK_COLUMNS " FROM tasks WHERE owner = $1 AND created_ms < $2"
                        " ORDER BY created_ms DESC, id DESC LIMIT $3",
                        p, OCTO_ARRAY_LEN(p), list_row, &l);
    if (rc < 0)
        return rc;
    return l.listed;
}

int octo_taskstore_list_finished(struct octo_taskstore *ts, struct octo_taskstore_cursor *cursor,
                                 uint64_t since_ms, size_t limit, octo_taskstore_list_fn fn,
                                 void *ctx)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL && cursor != NULL);
    OCTO_ASSERT(fn != NULL);
    if (limit == 0 || limit > OCTO_TASKSTORE_LIST_MAX)
        return input_error(ts, "list", OCTO_EINVAL);
    if (since_ms > OCTO_TASKSTORE_U64_MAX ||
        (cursor->started && cursor->created_ms > OCTO_TASKSTORE_U64_MAX))
        return input_error(ts, "list", OCTO_ERANGE);
    /* from the start: from (since_ms, empty), which sorts before every id of that time */
    struct octo_store_value p[] = {
        octo_store_int64((int64_t)(cursor->started ? cursor->created_ms : since_ms)),
        cursor->started ? octo_store_blob(cursor->id, OCTO_TASKSTORE_ID_LEN)
                        : octo_store_blob(NULL, 0),
        octo_store_int64((int64_t)limit),
    };
    struct list_ctx l = {fn, ctx, cursor, limit, 0, false, true};
    int rc = octo_store_exec(ts->store,
                             "SELECT " TASK_COLUMNS ", result FROM tasks"
                             " WHERE state >= 2 AND (updated_ms, id) > ($1, $2)"
                             " ORDER BY updated_ms, id LIMIT $3",
                             p, OCTO_ARRAY_LEN(p), list_row, &l);
    if (rc < 0)
        return rc;
    return l.listed;
}

int octo_taskstore_purge_finished(struct octo_taskstore *ts, uint64_t before_ms)
{
    OCTO_ASSERT(ts != NULL && ts->store != NULL);
    if (before_ms > OCTO_TASKSTORE_U64_MAX)
        return input_error(ts, "purge", OCTO_ERANGE);
    struct octo_store_value p[] = {octo_store_int64((int64_t)before_ms)};
    int rc = octo_store_exec(ts->store, "DELETE FROM tasks WHERE state >= 2 AND updated_ms < $1", p,
                             1, NULL, NULL);
    if (rc < 0)
        return rc;
    int64_t n = octo_store_changes(ts->store);
    return n > INT_MAX ? INT_MAX : (int)n;
}

int octo_taskstore_count(struct octo_taskstore *ts, uint64_t *out)
{
    OCTO_ASSERT(ts != NULL);
    return octo__store_count(ts->store, "SELECT count(*) FROM tasks", out);
}
