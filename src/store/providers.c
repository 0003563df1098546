/*
 * providers.c — provider registry records over the generic store interface.
 *
 * Table (migrate.c, node schema v3): providers(id PK, seq, expiry_ms, received_ms, advert),
 * index providers_expiry(expiry_ms). A put runs in one write transaction: read the stored seq
 * (stale -> nothing to do), check the capacity for a new row, then upsert. The write lock the
 * transaction holds (SQLite BEGIN IMMEDIATE, the PostgreSQL writer lock) makes the read and
 * the write one atomic step, so two nodes' processes sharing the database cannot both pass
 * the capacity check or both "win" with the same seq.
 *
 * Iteration pages by keyset on the primary key (WHERE id > $last ORDER BY id LIMIT batch):
 * each page is an index range scan, never an OFFSET that rescans the skipped rows, and the
 * page's row count is checked against the batch size it asked for.
 *
 * Every input is checked against the limits in providers.h before SQL runs; every row read
 * back is checked again (a database is input too) and a row breaking them is OCTO_ESTORE.
 */
#include "store/providers.h"

#include "base/assert.h"

#include <string.h>

void octo_provstore_init(struct octo_provstore *ps, struct octo_store *s, uint32_t rows_max)
{
    OCTO_ASSERT(ps != NULL);
    OCTO_ASSERT(s != NULL);
    OCTO_ASSERT(rows_max <= OCTO_PROVSTORE_ROWS_CEILING);
    ps->store = s;
    ps->rows_max = rows_max != 0 ? rows_max : OCTO_PROVSTORE_ROWS_DEFAULT;
}

/* ---- checks ---- */

static int check_id(const uint8_t *id, size_t id_len)
{
    if (id == NULL || id_len == 0)
        return OCTO_EINVAL;
    if (id_len > OCTO_PROVSTORE_ID_MAX)
        return OCTO_ETOOBIG;
    return 0;
}

static int check_record(const struct octo_provstore_record *rec)
{
    int rc = check_id(rec->id, rec->id_len);
    if (rc < 0)
        return rc;
    if (rec->advert == NULL || rec->advert_len == 0)
        return OCTO_EINVAL;
    if (rec->advert_len > OCTO_PROVSTORE_ADVERT_MAX)
        return OCTO_ETOOBIG;
    if (rec->seq > OCTO_PROVSTORE_U64_MAX || rec->expiry_ms > OCTO_PROVSTORE_U64_MAX ||
        rec->received_ms > OCTO_PROVSTORE_U64_MAX)
        return OCTO_ERANGE;
    return 0;
}

/* Sets a message for an input error found before any SQL ran. */
static int input_error(struct octo_provstore *ps, const char *what, int rc)
{
    octo__store_seterr(ps->store, "provstore %s: invalid input: %s", what, octo_strerror(rc));
    return rc;
}

/* ---- put ---- */

struct seq_ctx {
    int64_t seq;
    bool found;
};

static int seq_row(const struct octo_store_row *row, void *vctx)
{
    struct seq_ctx *c = vctx;
    c->seq = octo_store_row_int64(row, 0);
    c->found = true;
    return 1;
}

static int put_in_tx(struct octo_provstore *ps, const struct octo_provstore_record *rec)
{
    struct octo_store *s = ps->store;
    struct octo_store_value id = octo_store_blob(rec->id, rec->id_len);
    struct seq_ctx cur = {0, false};
    int rc = octo_store_exec(s, "SELECT seq FROM providers WHERE id = $1", &id, 1, seq_row, &cur);
    if (rc < 0)
        return rc;
    if (cur.found && cur.seq >= (int64_t)rec->seq)
        return 0; /* stale or the same advert again */
    if (!cur.found) {
        int64_t count = 0;
        rc = octo_store_query_int64(s, "SELECT count(*) FROM providers", NULL, 0, &count);
        if (rc < 0)
            return rc;
        if (count >= (int64_t)ps->rows_max) {
            octo__store_seterr(s, "provstore put: the registry is full (%u providers)",
                               ps->rows_max);
            return OCTO_ELIMIT;
        }
    }
    struct octo_store_value p[] = {
        id,
        octo_store_int64((int64_t)rec->seq),
        octo_store_int64((int64_t)rec->expiry_ms),
        octo_store_int64((int64_t)rec->received_ms),
        octo_store_blob(rec->advert, rec->advert_len),
    };
    rc = octo_store_exec(s,
                         "INSERT INTO providers (id, seq, expiry_ms, received_ms, advert)"
                         " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET"
                         " seq = excluded.seq, expiry_ms = excluded.expiry_ms,"
                         " received_ms = excluded.received_ms, advert = excluded.advert"
                         " WHERE providers.seq < excluded.seq",
                         p, OCTO_ARRAY_LEN(p), NULL, NULL);
    if (rc < 0)
        return rc;
    return octo_store_changes(s) > 0 ? 1 : 0;
}

int octo_provstore_put(struct octo_provstore *ps, const struct octo_provstore_record *rec)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    OCTO_ASSERT(rec != NULL);
    int rc = check_record(rec);
    if (rc < 0)
        return input_error(ps, "put", rc);
    bool owned = false;
    rc = octo_store_tx_enter(ps->store, true, &owned);
    if (rc < 0)
        return rc;
    rc = put_in_tx(ps, rec);
    return octo_store_tx_leave(ps->store, owned, rc);
}

/* ---- reading rows ---- */

/* Decodes and checks a row of (id, seq, expiry_ms, received_ms, advert). */
static int decode_row(const struct octo_store_row *row, struct octo_provstore_record *out)
{
    size_t id_len = 0;
    size_t advert_len = 0;
    const void *id = octo_store_row_blob(row, 0, &id_len);
    const void *advert = octo_store_row_blob(row, 4, &advert_len);
    int64_t seq = octo_store_row_int64(row, 1);
    int64_t expiry = octo_store_row_int64(row, 2);
    int64_t received = octo_store_row_int64(row, 3);
    if (id_len == 0 || id_len > OCTO_PROVSTORE_ID_MAX || advert_len == 0 ||
        advert_len > OCTO_PROVSTORE_ADVERT_MAX || seq < 0 || expiry < 0 || received < 0)
        return OCTO_ESTORE;
    out->id = id;
    out->id_len = id_len;
    out->seq = (uint64_t)seq;
    out->expiry_ms = (uint64_t)expiry;
    out->received_ms = (uint64_t)received;
    out->advert = advert;
    out->advert_len = advert_len;
    return 0;
}

struct get_ctx {
    struct octo_buf *buf;
    struct octo_provstore_record *out;
    bool found;
};

static int get_row(const struct octo_store_row *row, void *vctx)
{
    struct get_ctx *g = vctx;
    struct octo_provstore_record rec;
    int rc = decode_row(row, &rec);
    if (rc < 0)
        return rc;
    octo_buf_reset(g->buf);
    rc = octo_buf_append(g->buf, rec.advert, rec.advert_len);
    if (rc < 0)
        return rc;
    *g->out = rec;
    g->out->advert = g->buf->data;
    g->found = true;
    return 1;
}

int octo_provstore_get(struct octo_provstore *ps, const uint8_t *id, size_t id_len,
                       struct octo_buf *advert_buf, struct octo_provstore_record *out)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    OCTO_ASSERT(advert_buf != NULL && out != NULL);
    int rc = check_id(id, id_len);
    if (rc < 0)
        return input_error(ps, "get", rc);
    struct get_ctx g = {advert_buf, out, false};
    struct octo_store_value idv = octo_store_blob(id, id_len);
    rc = octo_store_exec(ps->store,
                         "SELECT id, seq, expiry_ms, received_ms, advert FROM providers"
                         " WHERE id = $1",
                         &idv, 1, get_row, &g);
    if (rc < 0)
        return rc;
    if (!g.found) {
        octo__store_seterr(ps->store, "provstore get: no such provider");
        return OCTO_ENOTFOUND;
    }
    out->id = id; /* the row's copy died with the statement */
    return 0;
}

/* ---- delete, expire, count ---- */

int octo_provstore_delete(struct octo_provstore *ps, const uint8_t *id, size_t id_len)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    int rc = check_id(id, id_len);
    if (rc < 0)
        return input_error(ps, "delete", rc);
    struct octo_store_value idv = octo_store_blob(id, id_len);
    rc = octo_store_exec(ps->store, "DELETE FROM providers WHERE id = $1", &idv, 1, NULL, NULL);
    if (rc < 0)
        return rc;
    if (octo_store_changes(ps->store) == 0) {
        octo__store_seterr(ps->store, "provstore delete: no such provider");
        return OCTO_ENOTFOUND;
    }
    return 0;
}

int octo_provstore_delete_expired(struct octo_provstore *ps, uint64_t now_ms)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    if (now_ms > OCTO_PROVSTORE_U64_MAX)
        return input_error(ps, "delete_expired", OCTO_ERANGE);
    struct octo_store_value p[] = {octo_store_int64((int64_t)now_ms)};
    int rc =
        octo_store_exec(ps->store, "DELETE FROM providers WHERE expiry_ms <= $1", p, 1, NULL, NULL);
    if (rc < 0)
        return rc;
    int64_t n = octo_store_changes(ps->store);
    OCTO_ASSERT(n >= 0 && n <= INT32_MAX); /* bounded by the row count ceiling */
    return (int)n;
}

int octo_provstore_count(struct octo_provstore *ps, uint64_t *out)
{
    OCTO_ASSERT(ps != NULL);
    return octo__store_count(ps->store, "SELECT count(*) FROM providers", out);
}

/* ---- iterate ---- */

struct iter_ctx {
    octo_provstore_iter_fn fn;
    void *ctx;
    uint8_t last[OCTO_PROVSTORE_ID_MAX]; /* the last id visited: the next page starts after */
    size_t last_len;
    unsigned in_page; /* rows of the current page */
    int visited;
    bool stopped;
};

static int iter_row(const struct octo_store_row *row, void *vctx)
{
    struct iter_ctx *it = vctx;
    if (it->in_page >= OCTO_PROVSTORE_BATCH)
        return OCTO_ETOOBIG; /* more rows than the LIMIT asked for */
    it->in_page++;
    struct octo_provstore_record rec;
    int rc = decode_row(row, &rec);
    if (rc < 0)
        return rc;
    memcpy(it->last, rec.id, rec.id_len);
    it->last_len = rec.id_len;
    rc = it->fn(&rec, it->ctx);
    if (rc < 0)
        return rc;
    it->visited++;
    if (rc > 0) {
        it->stopped = true;
        return 1;
    }
    return 0;
}

int octo_provstore_iterate(struct octo_provstore *ps, octo_provstore_iter_fn fn, void *ctx)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    OCTO_ASSERT(fn != NULL);
    struct iter_ctx it = {.fn = fn, .ctx = ctx};
    for (;;) {
        it.in_page = 0;
        /* The first page starts after the empty blob, which sorts before every id. */
        struct octo_store_value p[] = {
            octo_store_blob(it.last, it.last_len),
            octo_store_int64(OCTO_PROVSTORE_BATCH),
        };
        int rc = octo_store_exec(ps->store,
                                 "SELECT id, seq, expiry_ms, received_ms, advert FROM providers"
                                 " WHERE id > $1 ORDER BY id LIMIT $2",
                                 p, OCTO_ARRAY_LEN(p), iter_row, &it);
        if (rc < 0)
            return rc;
        if (it.stopped || it.in_page < OCTO_PROVSTORE_BATCH)
            return it.visited;
    }
}
