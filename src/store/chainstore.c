/*
 * chainstore.c — the blockstore (chainstore.h) on the storage interface.
 *
 * Each commit is one write transaction: check the stored height, insert the block, upsert the
 * changed objects, insert the transaction index in one statement (the ids travel as one blob
 * the database splits: a recursive CTE on SQLite, generate_series on PostgreSQL), insert the
 * finality proof of a block that ends a validator set, update the info row. The database's own
 * atomicity (WAL + synchronous=FULL on SQLite) does the rest: after a crash either all of a block
 * is there or none of it.
 */
#include "store/chainstore.h"

#include "base/assert.h"

#include <stdio.h>
#include <string.h>

#define ID OCTO_CHAINSTORE_ID_LEN

static int64_t i64(uint64_t v)
{
    OCTO_ASSERT(v <= (uint64_t)INT64_MAX);
    return (int64_t)v;
}

static int stored_height(struct octo_store *s, int64_t *h)
{
    return octo_store_query_int64(s, "SELECT height FROM chain_info WHERE k = 0", NULL, 0, h);
}

static int put_objects(struct octo_store *s, const struct octo_chainstore_object *objs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (objs[i].len == 0 || objs[i].len > OCTO_CHAINSTORE_OBJECT_MAX) {
            octo__store_seterr(s, "chainstore: object %u of %zu bytes", objs[i].idx, objs[i].len);
            return OCTO_EINVAL;
        }
        struct octo_store_value p[] = {octo_store_int64(objs[i].idx),
                                       octo_store_blob(objs[i].enc, objs[i].len)};
        int rc = octo_store_exec(s,
                                 "INSERT INTO chain_objects (idx, enc) VALUES ($1, $2)"
                                 " ON CONFLICT (idx) DO UPDATE SET enc = excluded.enc",
                                 p, 2, NULL, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool meta_ok(struct octo_store *s, const uint8_t *meta, size_t len)
{
    if (meta != NULL && len > 0 && len <= OCTO_CHAINSTORE_META_MAX)
        return true;
    octo__store_seterr(s, "chainstore: meta record of %zu bytes", len);
    return false;
}

struct genesis_row {
    uint8_t genesis[ID];
    int64_t height;
    bool found;
};

static int info_row(const struct octo_store_row *row, void *vctx)
{
    struct genesis_row *g = vctx;
    size_t len;
    const void *p = octo_store_row_blob(row, 0, &len);
    if (len != ID)
        return OCTO_ESTORE;
    memcpy(g->genesis, p, ID);
    g->height = octo_store_row_int64(row, 1);
    g->found = true;
    return 1;
}

static int read_info(struct octo_store *s, struct genesis_row *g)
{
    g->found = false;
    return octo_store_exec(s, "SELECT genesis, height FROM chain_info WHERE k = 0", NULL, 0,
                           info_row, g);
}

int octo_chainstore_init(struct octo_store *s, const uint8_t genesis[ID],
                         const struct octo_chainstore_object *objs, size_t n_objs,
                         const uint8_t *meta, size_t meta_len)
{
    if (!meta_ok(s, meta, meta_len))
        return OCTO_EINVAL;
    bool owned;
    int rc = octo_store_tx_enter(s, true, &owned);
    if (rc < 0)
        return rc;
    struct genesis_row g;
    rc = read_info(s, &g);
    if (rc == 0 && g.found) {
        rc = memcmp(g.genesis, genesis, ID) == 0 ? OCTO_EEXIST : OCTO_ECONFIG;
        if (rc == OCTO_ECONFIG)
            octo__store_seterr(s, "chainstore: the store holds another chain");
    }
    if (rc == 0)
        rc = put_objects(s, objs, n_objs);
    if (rc == 0) {
        struct octo_store_value p[] = {octo_store_blob(genesis, ID),
                                       octo_store_blob(meta, meta_len)};
        rc = octo_store_exec(s,
                             "INSERT INTO chain_info (k, genesis, height, meta)"
                             " VALUES (0, $1, 0, $2)",
                             p, 2, NULL, NULL);
    }
    if (rc == OCTO_EEXIST) { /* nothing to write: end the transaction cleanly */
        int end = octo_store_tx_leave(s, owned, 0);
        return end < 0 ? end : OCTO_EEXIST;
    }
    return octo_store_tx_leave(s, owned, rc);
}

static int put_tx_index(struct octo_store *s, const struct octo_chainstore_block *b)
{
    if (b->n_results == 0)
        return 0;
    size_t bytes = b->n_results * ID;
    if (bytes > OCTO_STORE_VALUE_MAX) {
        octo__store_seterr(s, "chainstore: %zu transactions in one block", b->n_results);
        return OCTO_ETOOBIG;
    }
    struct octo_store_value p[] = {octo_store_blob(b->tx_ids, bytes),
                                   octo_store_int64(i64(b->height)),
                                   octo_store_int64((int64_t)b->n_results)};
    const char *sqlite = "INSERT INTO chain_txs (id, height, pos)"
                         " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL"
                         "  SELECT i + 1 FROM n WHERE i + 1 < $3)"
                         " SELECT substr($1, i * 32 + 1, 32), $2, i FROM n WHERE true"
                         " ON CONFLICT (id) DO NOTHING";
    const char *pg = "INSERT INTO chain_txs (id, height, pos)"
                     " SELECT substring($1 from (i * 32 + 1)::int for 32), $2, i"
                     " FROM generate_series(0, $3 - 1) AS i"
                     " ON CONFLICT (id) DO NOTHING";
    return octo_store_exec(s, s->backend == OCTO_STORE_POSTGRES ? pg : sqlite, p, 3, NULL, NULL);
}

int octo_chainstore_commit(struct octo_store *s, const struct octo_chainstore_block *b,
                           const struct octo_chainstore_object *objs, size_t n_objs,
                           const uint8_t *meta, size_t meta_len)
{
    if (!meta_ok(s, meta, meta_len))
        return OCTO_EINVAL;
    if (b->height == 0 || b->height > (uint64_t)INT64_MAX || b->view > (uint64_t)INT64_MAX ||
        b->parent_view > (uint64_t)INT64_MAX || b->payload_len > OCTO_STORE_VALUE_MAX ||
        (b->n_results > 0 && (b->results == NULL || b->tx_ids == NULL)) ||
        (b->proof != NULL && (b->proof_len == 0 || b->proof_len > OCTO_CHAINSTORE_PROOF_MAX))) {
        octo__store_seterr(s, "chainstore: invalid block");
        return OCTO_EINVAL;
    }
    bool owned;
    int rc = octo_store_tx_enter(s, true, &owned);
    if (rc < 0)
        return rc;
    int64_t h = -1;
    rc = stored_height(s, &h);
    if (rc == 0 && (uint64_t)h + 1 != b->height) {
        octo__store_seterr(s, "chainstore: block %llu after stored height %lld",
                           (unsigned long long)b->height, (long long)h);
        rc = OCTO_ESTATE;
    }
    if (rc == 0) {
        struct octo_store_value p[] = {
            octo_store_int64(i64(b->height)),
            octo_store_int64(i64(b->view)),
            octo_store_blob(b->id, ID),
            octo_store_int64(i64(b->parent_view)),
            octo_store_blob(b->parent, ID),
            octo_store_int64(b->signer),
            octo_store_blob(b->sig, sizeof(b->sig)),
            octo_store_blob(b->payload, b->payload_len),
            octo_store_blob(b->results, b->n_results),
        };
        rc = octo_store_exec(s,
                             "INSERT INTO chain_blocks (height, view, id, parent_view, parent,"
                             " signer, sig, payload, results)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                             p, 9, NULL, NULL);
    }
    if (rc == 0)
        rc = put_objects(s, objs, n_objs);
    if (rc == 0)
        rc = put_tx_index(s, b);
    if (rc == 0 && b->proof != NULL) {
        struct octo_store_value p[] = {octo_store_int64(i64(b->height)),
                                       octo_store_blob(b->proof, b->proof_len)};
        rc = octo_store_exec(s, "INSERT INTO chain_proofs (height, proof) VALUES ($1, $2)", p, 2,
                             NULL, NULL);
    }
    if (rc == 0) {
        struct octo_store_value p[] = {octo_store_int64(i64(b->height)),
                                       octo_store_blob(meta, meta_len)};
        rc = octo_store_exec(s, "UPDATE chain_info SET height = $1, meta = $2 WHERE k = 0", p, 2,
                             NULL, NULL);
    }
    return octo_store_tx_leave(s, owned, rc);
}

int octo_chainstore_head(struct octo_store *s, uint64_t *height, uint8_t genesis[ID])
{
    struct genesis_row g;
    int rc = read_info(s, &g);
    if (rc < 0)
        return rc;
    if (!g.found) {
        octo__store_seterr(s, "chainstore: no chain stored");
        return OCTO_ENOTFOUND;
    }
    *height = (uint64_t)g.height;
    if (genesis != NULL)
        memcpy(genesis, g.genesis, ID);
    return 0;
}

struct load_ctx {
    octo_chainstore_object_fn on_object;
    octo_chainstore_meta_fn on_meta;
    void *ctx;
    int64_t next;
};

static int object_row(const struct octo_store_row *row, void *vctx)
{
    struct load_ctx *l = vctx;
    int64_t idx = octo_store_row_int64(row, 0);
    size_t len;
    const uint8_t *p = octo_store_row_blob(row, 1, &len);
    if (idx != l->next || idx > UINT32_MAX) /* indexes are dense from 0 */
        return OCTO_ESTORE;
    l->next++;
    int rc = l->on_object(l->ctx, (uint32_t)idx, p, len);
    return rc != 0 ? (rc < 0 ? rc : OCTO_ESTORE) : 0;
}

static int meta_row(const struct octo_store_row *row, void *vctx)
{
    struct load_ctx *l = vctx;
    size_t len;
    const uint8_t *p = octo_store_row_blob(row, 0, &len);
    int rc = l->on_meta(l->ctx, p, len);
    return rc != 0 ? (rc < 0 ? rc : OCTO_ESTORE) : 1;
}

int octo_chainstore_load(struct octo_store *s, octo_chainstore_object_fn on_object,
                         octo_chainstore_meta_fn on_meta, void *ctx)
{
    bool owned;
    int rc = octo_store_tx_enter(s, false, &owned);
    if (rc < 0)
        return rc;
    struct load_ctx l = {on_object, on_meta, ctx, 0};
    rc = octo_store_exec(s, "SELECT idx, enc FROM chain_objects ORDER BY idx", NULL, 0, object_row,
                         &l);
    if (rc == 0)
        rc = octo_store_exec(s, "SELECT meta FROM chain_info WHERE k = 0", NULL, 0, meta_row, &l);
    return octo_store_tx_leave(s, owned, rc);
}

struct block_ctx {
    octo_chainstore_block_fn fn;
    void *ctx;
    bool found;
};

static void copy_id(const struct octo_store_row *row, unsigned col, uint8_t *out, size_t n,
                    bool *ok)
{
    size_t len;
    const void *p = octo_store_row_blob(row, col, &len);
    if (len != n)
        *ok = false;
    else
        memcpy(out, p, n);
}

static int block_row(const struct octo_store_row *row, void *vctx)
{
    struct block_ctx *c = vctx;
    struct octo_chainstore_block b;
    memset(&b, 0, sizeof(b));
    bool ok = true;
    b.height = (uint64_t)octo_store_row_int64(row, 0);
    b.view = (uint64_t)octo_store_row_int64(row, 1);
    copy_id(row, 2, b.id, ID, &ok);
    b.parent_view = (uint64_t)octo_store_row_int64(row, 3);
    copy_id(row, 4, b.parent, ID, &ok);
    b.signer = (uint16_t)octo_store_row_int64(row, 5);
    copy_id(row, 6, b.sig, sizeof(b.sig), &ok);
    b.payload = octo_store_row_blob(row, 7, &b.payload_len);
    b.results = octo_store_row_blob(row, 8, &b.n_results);
    if (!ok)
        return OCTO_ESTORE;
    c->found = true;
    int rc = c->fn(c->ctx, &b);
    return rc < 0 ? rc : 1;
}

int octo_chainstore_block(struct octo_store *s, uint64_t height, const uint8_t *id,
                          octo_chainstore_block_fn fn, void *ctx)
{
    struct block_ctx c = {fn, ctx, false};
    const char *cols = "SELECT height, view, id, parent_view, parent, signer, sig, payload, results"
                       " FROM chain_blocks";
    char sql[256];
    int rc;
    if (id != NULL) {
        snprintf(sql, sizeof(sql), "%s WHERE id = $1", cols);
        struct octo_store_value p[] = {octo_store_blob(id, ID)};
        rc = octo_store_exec(s, sql, p, 1, block_row, &c);
    } else {
        if (height > (uint64_t)INT64_MAX)
            return OCTO_ENOTFOUND;
        snprintf(sql, sizeof(sql), "%s WHERE height = $1", cols);
        struct octo_store_value p[] = {octo_store_int64((int64_t)height)};
        rc = octo_store_exec(s, sql, p, 1, block_row, &c);
    }
    if (rc < 0)
        return rc;
    if (!c.found) {
        octo__store_seterr(s, "chainstore: no such block");
        return OCTO_ENOTFOUND;
    }
    return 0;
}

struct proof_ctx {
    uint64_t *height;
    uint8_t *out;
    size_t cap, len;
    bool found;
};

static int proof_row(const struct octo_store_row *row, void *vctx)
{
    struct proof_ctx *c = vctx;
    size_t n;
    const uint8_t *p = octo_store_row_blob(row, 1, &n);
    int64_t h = octo_store_row_int64(row, 0);
    if (h < 1 || n == 0 || n > c->cap)
        return OCTO_ESTORE;
    *c->height = (uint64_t)h;
    memcpy(c->out, p, n);
    c->len = n;
    c->found = true;
    return 1;
}

int octo_chainstore_proof_after(struct octo_store *s, uint64_t after, uint64_t *height,
                                uint8_t *out, size_t cap)
{
    OCTO_ASSERT(cap >= OCTO_CHAINSTORE_PROOF_MAX);
    if (after >= (uint64_t)INT64_MAX)
        return OCTO_ENOTFOUND;
    struct proof_ctx c = {height, out, cap, 0, false};
    struct octo_store_value p[] = {octo_store_int64((int64_t)after)};
    int rc = octo_store_exec(s,
                             "SELECT height, proof FROM chain_proofs WHERE height > $1"
                             " ORDER BY height LIMIT 1",
                             p, 1, proof_row, &c);
    if (rc < 0)
        return rc;
    if (!c.found) {
        octo__store_seterr(s, "chainstore: no proof after height %llu", (unsigned long long)after);
        return OCTO_ENOTFOUND;
    }
    return (int)c.len;
}

struct tx_ctx {
    struct octo_chainstore_txloc *out;
    bool found;
};

static int tx_row(const struct octo_store_row *row, void *vctx)
{
    struct tx_ctx *c = vctx;
    c->out->height = (uint64_t)octo_store_row_int64(row, 0);
    int64_t pos = octo_store_row_int64(row, 1);
    size_t n;
    const uint8_t *res = octo_store_row_blob(row, 2, &n);
    if (pos < 0 || (uint64_t)pos >= n)
        return OCTO_ESTORE;
    c->out->pos = (uint32_t)pos;
    c->out->result = res[pos];
    c->found = true;
    return 1;
}

int octo_chainstore_tx(struct octo_store *s, const uint8_t id[ID],
                       struct octo_chainstore_txloc *out)
{
    struct tx_ctx c = {out, false};
    struct octo_store_value p[] = {octo_store_blob(id, ID)};
    int rc = octo_store_exec(s,
                             "SELECT t.height, t.pos, b.results FROM chain_txs t"
                             " JOIN chain_blocks b ON b.height = t.height WHERE t.id = $1",
                             p, 1, tx_row, &c);
    if (rc < 0)
        return rc;
    if (!c.found) {
        octo__store_seterr(s, "chainstore: no such transaction");
        return OCTO_ENOTFOUND;
    }
    return 0;
}
