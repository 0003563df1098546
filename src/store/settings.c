/*
 * settings.c — key/value settings over the generic store interface (no backend calls here).
 *
 * Table (migrate.c, node schema v1): settings(key TEXT PRIMARY KEY, value BLOB NOT NULL).
 * Keys are checked before any SQL runs; values read back are checked against
 * OCTO_SETTINGS_VALUE_MAX before they are copied (the table's CHECK guards the other way).
 */
#include "store/settings.h"

#include "base/assert.h"

#include <string.h>

/* 1..OCTO_SETTINGS_KEY_MAX bytes of 0x21..0x7e. */
static int check_key(struct octo_store *s, const char *key)
{
    int rc = 0;
    size_t n = key != NULL ? strnlen(key, OCTO_SETTINGS_KEY_MAX + 1) : 0;
    if (key == NULL || n == 0)
        rc = OCTO_EINVAL;
    else if (n > OCTO_SETTINGS_KEY_MAX)
        rc = OCTO_ETOOBIG;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (key[i] < 0x21 || key[i] > 0x7e)
            rc = OCTO_EINVAL;
    }
    if (rc < 0)
        octo__store_seterr(s, "settings: invalid key: %s", octo_strerror(rc));
    return rc;
}

struct get_ctx {
    struct octo_buf *out;
    bool found;
};

static int get_row(const struct octo_store_row *row, void *vctx)
{
    struct get_ctx *g = vctx;
    g->found = true;
    size_t len = 0;
    const void *p = octo_store_row_blob(row, 0, &len);
    if (len > OCTO_SETTINGS_VALUE_MAX)
        return OCTO_ETOOBIG;
    octo_buf_reset(g->out);
    int rc = octo_buf_append(g->out, p, len);
    return rc < 0 ? rc : 1;
}

int octo_settings_get(struct octo_store *s, const char *key, struct octo_buf *out)
{
    OCTO_ASSERT(s != NULL);
    OCTO_ASSERT(out != NULL);
    int rc = check_key(s, key);
    if (rc < 0)
        return rc;
    struct get_ctx g = {out, false};
    struct octo_store_value p[] = {octo_store_textn(key, strlen(key))};
    rc = octo_store_exec(s, "SELECT value FROM settings WHERE key = $1", p, 1, get_row, &g);
    if (rc < 0) {
        octo_buf_reset(out);
        return rc;
    }
    if (!g.found) {
        octo_buf_reset(out);
        octo__store_seterr(s, "settings: no key \"%s\"", key);
        return OCTO_ENOTFOUND;
    }
    return 0;
}

static int set_in_tx(struct octo_store *s, const struct octo_store_value *p)
{
    int64_t exists = 0;
    int rc =
        octo_store_query_int64(s, "SELECT count(*) FROM settings WHERE key = $1", p, 1, &exists);
    if (rc < 0)
        return rc;
    if (exists == 0) {
        int64_t count = 0;
        rc = octo_store_query_int64(s, "SELECT count(*) FROM settings", NULL, 0, &count);
        if (rc < 0)
            return rc;
        if (count >= OCTO_SETTINGS_COUNT_MAX) {
            octo__store_seterr(s, "settings: already %d keys", OCTO_SETTINGS_COUNT_MAX);
            return OCTO_ETOOBIG;
        }
    }
    return octo_store_exec(s,
                           "INSERT INTO settings (key, value) VALUES ($1, $2)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           p, 2, NULL, NULL);
}

int octo_settings_set(struct octo_store *s, const char *key, const void *val, size_t len)
{
    OCTO_ASSERT(s != NULL);
    int rc = check_key(s, key);
    if (rc < 0)
        return rc;
    if (val == NULL && len > 0) {
        octo__store_seterr(s, "settings: value missing");
        return OCTO_EINVAL;
    }
    if (len > OCTO_SETTINGS_VALUE_MAX) {
        octo__store_seterr(s, "settings: value of %zu bytes, at most %u", len,
                           OCTO_SETTINGS_VALUE_MAX);
        return OCTO_ETOOBIG;
    }
    bool owned = false;
    rc = octo_store_tx_enter(s, true, &owned);
    if (rc < 0)
        return rc;
    struct octo_store_value p[] = {octo_store_textn(key, strlen(key)), octo_store_blob(val, len)};
    rc = set_in_tx(s, p);
    return octo_store_tx_leave(s, owned, rc);
}

int octo_settings_delete(struct octo_store *s, const char *key)
{
    OCTO_ASSERT(s != NULL);
    int rc = check_key(s, key);
    if (rc < 0)
        return rc;
    bool owned = false;
    rc = octo_store_tx_enter(s, true, &owned);
    if (rc < 0)
        return rc;
    struct octo_store_value p[] = {octo_store_textn(key, strlen(key))};
    rc = octo_store_exec(s, "DELETE FROM settings WHERE key = $1", p, 1, NULL, NULL);
    if (rc == 0 && octo_store_changes(s) == 0) {
        octo__store_seterr(s, "settings: no key \"%s\"", key);
        rc = OCTO_ENOTFOUND;
    }
    return octo_store_tx_leave(s, owned, rc);
}

struct list_ctx {
    octo_settings_list_fn fn;
    void *ctx;
    int listed;
};

static int list_row(const struct octo_store_row *row, void *vctx)
{
    struct list_ctx *l = vctx;
    size_t klen = 0;
    size_t vlen = 0;
    const char *key = octo_store_row_text(row, 0, &klen);
    const void *val = octo_store_row_blob(row, 1, &vlen);
    if (key == NULL || klen == 0 || klen > OCTO_SETTINGS_KEY_MAX || vlen > OCTO_SETTINGS_VALUE_MAX)
        return OCTO_ETOOBIG;
    int rc = l->fn(key, val, vlen, l->ctx);
    if (rc < 0)
        return rc;
    l->listed++;
    return 0;
}

int octo_settings_list(struct octo_store *s, octo_settings_list_fn fn, void *ctx)
{
    OCTO_ASSERT(s != NULL);
    OCTO_ASSERT(fn != NULL);
    struct list_ctx l = {fn, ctx, 0};
    struct octo_store_value p[] = {octo_store_int64(OCTO_SETTINGS_COUNT_MAX)};
    int rc = octo_store_exec(s, "SELECT key, value FROM settings ORDER BY key LIMIT $1", p, 1,
                             list_row, &l);
    if (rc < 0)
        return rc;
    return l.listed;
}
