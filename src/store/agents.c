/*
 * agents.c — the agents table (agents.h; schema: migrate.c, version 9). The record's text
 * fields are checked for their shape before they reach SQL; the manifest must be valid UTF-8
 * (a TEXT column in both backends).
 */
#include "store/agents.h"

#include "base/assert.h"

#include <stdio.h>
#include <string.h>

#define COLS "id, owner, name, manifest, manifest_hash, registrar, sig, created_ms"

static bool rec_ok(const struct octo_agent_rec *r)
{
    size_t ol = strlen(r->owner), nl = strlen(r->name);
    return octo_uuid_valid(r->id) && ol > 0 && ol <= OCTO_AGENT_STORE_OWNER_MAX && nl > 0 &&
           nl <= OCTO_AGENT_STORE_NAME_MAX && octo__store_utf8_valid(r->owner, ol) &&
           octo__store_utf8_valid(r->name, nl) && r->created_ms <= (uint64_t)INT64_MAX;
}

int octo_agent_insert(struct octo_store *s, const struct octo_agent_rec *rec, const char *manifest,
                      size_t len)
{
    if (!rec_ok(rec) || len == 0 || len > OCTO_AGENT_STORE_MANIFEST_MAX ||
        !octo__store_utf8_valid(manifest, len))
        return OCTO_EINVAL;
    bool owned;
    int rc = octo_store_tx_enter(s, true, &owned);
    if (rc < 0)
        return rc;
    struct octo_store_value q[] = {octo_store_textn(rec->owner, strlen(rec->owner))};
    int64_t n = 0;
    rc = octo_store_query_int64(s, "SELECT count(*) FROM agents WHERE owner = $1", q, 1, &n);
    if (rc == 0 && n >= (int64_t)OCTO_AGENTS_PER_OWNER_MAX)
        rc = OCTO_ELIMIT;
    if (rc == 0) {
        struct octo_store_value p[] = {octo_store_textn(rec->id, OCTO_UUID_TEXT_LEN),
                                       octo_store_textn(rec->owner, strlen(rec->owner)),
                                       octo_store_textn(rec->name, strlen(rec->name)),
                                       octo_store_textn(manifest, len),
                                       octo_store_blob(rec->manifest_hash, 32),
                                       octo_store_blob(rec->registrar, 32),
                                       octo_store_blob(rec->sig, 64),
                                       octo_store_int64((int64_t)rec->created_ms)};
        rc = octo_store_exec(s,
                             "INSERT INTO agents (" COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7,"
                             " $8)",
                             p, 8, NULL, NULL);
    }
    return octo_store_tx_leave(s, owned, rc);
}

struct row_ctx {
    struct octo_agent_rec *out;
    struct octo_buf *manifest;
    octo_agent_fn fn;
    void *ctx;
    bool found;
};

static int decode(const struct octo_store_row *row, struct octo_agent_rec *r, const char **man,
                  size_t *man_len)
{
    memset(r, 0, sizeof(*r));
    size_t il, ol, nl, hl, kl, sl;
    const char *id = octo_store_row_text(row, 0, &il), *owner = octo_store_row_text(row, 1, &ol),
               *name = octo_store_row_text(row, 2, &nl);
    *man = octo_store_row_text(row, 3, man_len);
    const uint8_t *h = octo_store_row_blob(row, 4, &hl), *k = octo_store_row_blob(row, 5, &kl),
                  *sig = octo_store_row_blob(row, 6, &sl);
    int64_t created = octo_store_row_int64(row, 7);
    if (id == NULL || owner == NULL || name == NULL || *man == NULL || il != OCTO_UUID_TEXT_LEN ||
        ol > OCTO_AGENT_STORE_OWNER_MAX || nl > OCTO_AGENT_STORE_NAME_MAX || hl != 32 || kl != 32 ||
        sl != 64 || created < 0)
        return OCTO_ESTORE;
    memcpy(r->id, id, il);
    memcpy(r->owner, owner, ol);
    memcpy(r->name, name, nl);
    memcpy(r->manifest_hash, h, 32);
    memcpy(r->registrar, k, 32);
    memcpy(r->sig, sig, 64);
    r->created_ms = (uint64_t)created;
    return rec_ok(r) ? 0 : OCTO_ESTORE;
}

static int get_row(const struct octo_store_row *row, void *vctx)
{
    struct row_ctx *c = vctx;
    const char *man;
    size_t len;
    int rc = decode(row, c->out, &man, &len);
    if (rc == 0 && c->manifest != NULL) {
        octo_buf_reset(c->manifest);
        rc = octo_buf_append(c->manifest, man, len);
    }
    if (rc != 0)
        return rc;
    c->found = true;
    return 1;
}

/* The WHERE clause for an id or a name. */
static const char *key_col(const char *id_or_name)
{
    return octo_uuid_valid(id_or_name) ? "id" : "name";
}

int octo_agent_get(struct octo_store *s, const char *owner, const char *id_or_name,
                   struct octo_agent_rec *out, struct octo_buf *manifest)
{
    size_t kl = strlen(id_or_name);
    if (kl == 0 || kl > OCTO_UUID_TEXT_LEN + OCTO_AGENT_STORE_NAME_MAX ||
        !octo__store_utf8_valid(id_or_name, kl) || !octo__store_utf8_valid(owner, strlen(owner)))
        return OCTO_ENOTFOUND; /* no TEXT column holds it */
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT " COLS " FROM agents WHERE owner = $1 AND %s = $2",
             key_col(id_or_name));
    struct row_ctx c = {.out = out, .manifest = manifest};
    struct octo_store_value p[] = {octo_store_textn(owner, strlen(owner)),
                                   octo_store_textn(id_or_name, kl)};
    int rc = octo_store_exec(s, sql, p, 2, get_row, &c);
    if (rc < 0)
        return rc;
    return c.found ? 0 : OCTO_ENOTFOUND;
}

static int list_row(const struct octo_store_row *row, void *vctx)
{
    struct row_ctx *c = vctx;
    struct octo_agent_rec r;
    const char *man;
    size_t len;
    int rc = decode(row, &r, &man, &len);
    if (rc != 0)
        return rc;
    return c->fn(c->ctx, &r, man, len) != 0 ? 1 : 0;
}

int octo_agent_list(struct octo_store *s, const char *owner, octo_agent_fn fn, void *ctx)
{
    struct row_ctx c = {.fn = fn, .ctx = ctx};
    struct octo_store_value p[] = {octo_store_textn(owner, strlen(owner)),
                                   octo_store_int64(OCTO_AGENTS_PER_OWNER_MAX)};
    int rc =
        octo_store_exec(s, "SELECT " COLS " FROM agents WHERE owner = $1 ORDER BY name LIMIT $2", p,
                        2, list_row, &c);
    return rc < 0 ? rc : 0;
}

int octo_agent_delete(struct octo_store *s, const char *owner, const char *id_or_name)
{
    size_t kl = strlen(id_or_name);
    if (kl == 0 || kl > OCTO_UUID_TEXT_LEN + OCTO_AGENT_STORE_NAME_MAX ||
        !octo__store_utf8_valid(id_or_name, kl) || !octo__store_utf8_valid(owner, strlen(owner)))
        return OCTO_ENOTFOUND;
    char sql[96];
    snprintf(sql, sizeof(sql), "DELETE FROM agents WHERE owner = $1 AND %s = $2",
             key_col(id_or_name));
    struct octo_store_value p[] = {octo_store_textn(owner, strlen(owner)),
                                   octo_store_textn(id_or_name, strlen(id_or_name))};
    int rc = octo_store_exec(s, sql, p, 2, NULL, NULL);
    if (rc == 0 && octo_store_changes(s) == 0)
        return OCTO_ENOTFOUND;
    return rc;
}
