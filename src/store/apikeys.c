/*
 * apikeys.c — API keys over the generic store interface (apikeys.h).
 *
 * Table (migrate.c, node schema v7): api_keys(id PK, hash, account, budget, spent,
 * rate_per_min, created_ms, revoked). Spending is one conditional UPDATE (spent + amount <=
 * budget, not revoked); a follow-up read in the same write transaction only tells which error
 * to report. Rows read back are checked against the limits; one breaking them is OCTO_ESTORE.
 */
#include "store/apikeys.h"

#include "base/assert.h"
#include "base/hex.h"
#include "crypto/hash.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define COLS "id, hash, account, budget, spent, rate_per_min, created_ms, revoked"

static const char prefix[] = "octo-";

void octo_apikey_make(const uint8_t id_bytes[OCTO_APIKEY_ID_HEX / 2],
                      const uint8_t secret[OCTO_APIKEY_SECRET_LEN], const uint8_t account[32],
                      uint64_t budget, uint32_t rate_per_min, uint64_t now_ms,
                      struct octo_apikey *rec, char text[OCTO_APIKEY_TEXT_LEN + 1])
{
    memset(rec, 0, sizeof(*rec));
    OCTO_ASSERT(octo_hex_encode(id_bytes, OCTO_APIKEY_ID_HEX / 2, rec->id, sizeof(rec->id)) ==
                OCTO_APIKEY_ID_HEX);
    char sec[2 * OCTO_APIKEY_SECRET_LEN + 1];
    OCTO_ASSERT(octo_hex_encode(secret, OCTO_APIKEY_SECRET_LEN, sec, sizeof(sec)) ==
                2 * OCTO_APIKEY_SECRET_LEN);
    octo_sha256(secret, OCTO_APIKEY_SECRET_LEN, rec->hash);
    memcpy(rec->account, account, 32);
    rec->budget = budget;
    rec->rate_per_min = rate_per_min;
    rec->created_ms = now_ms;
    snprintf(text, OCTO_APIKEY_TEXT_LEN + 1, "%s%s-%s", prefix, rec->id, sec);
    sodium_memzero(sec, sizeof(sec));
}

static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int octo_apikey_parse(const char *text, char id[OCTO_APIKEY_ID_HEX + 1], uint8_t hash[32])
{
    const size_t pl = sizeof(prefix) - 1;
    if (text == NULL || strlen(text) != OCTO_APIKEY_TEXT_LEN || memcmp(text, prefix, pl) != 0 ||
        text[pl + OCTO_APIKEY_ID_HEX] != '-' || !lower_hex(text + pl, OCTO_APIKEY_ID_HEX) ||
        !lower_hex(text + pl + OCTO_APIKEY_ID_HEX + 1, 2 * OCTO_APIKEY_SECRET_LEN))
        return OCTO_EINVAL;
    memcpy(id, text + pl, OCTO_APIKEY_ID_HEX);
    id[OCTO_APIKEY_ID_HEX] = '\0';
    uint8_t secret[OCTO_APIKEY_SECRET_LEN];
    OCTO_ASSERT(octo_hex_decode(text + pl + OCTO_APIKEY_ID_HEX + 1, 2 * OCTO_APIKEY_SECRET_LEN,
                                secret, sizeof(secret)) == OCTO_APIKEY_SECRET_LEN);
    octo_sha256(secret, sizeof(secret), hash);
    sodium_memzero(secret, sizeof(secret));
    return 0;
}

bool octo_apikey_check(const struct octo_apikey *rec, const uint8_t hash[32])
{
    bool same = sodium_memcmp(rec->hash, hash, 32) == 0;
    return same && !rec->revoked;
}

static bool rec_ok(const struct octo_apikey *r)
{
    return strlen(r->id) == OCTO_APIKEY_ID_HEX && lower_hex(r->id, OCTO_APIKEY_ID_HEX) &&
           r->budget <= OCTO_APIKEY_U64_MAX && r->spent <= r->budget && r->rate_per_min >= 1 &&
           r->rate_per_min <= OCTO_APIKEY_RATE_MAX && r->created_ms <= OCTO_APIKEY_U64_MAX;
}

int octo_apikey_insert(struct octo_store *s, const struct octo_apikey *rec)
{
    if (!rec_ok(rec))
        return OCTO_EINVAL;
    struct octo_store_value p[] = {octo_store_textn(rec->id, OCTO_APIKEY_ID_HEX),
                                   octo_store_blob(rec->hash, 32),
                                   octo_store_blob(rec->account, 32),
                                   octo_store_int64((int64_t)rec->budget),
                                   octo_store_int64((int64_t)rec->spent),
                                   octo_store_int64(rec->rate_per_min),
                                   octo_store_int64((int64_t)rec->created_ms),
                                   octo_store_int64(rec->revoked ? 1 : 0)};
    int rc = octo_store_exec(s,
                             "INSERT INTO api_keys (" COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7,"
                             " $8) ON CONFLICT (id) DO NOTHING",
                             p, 8, NULL, NULL);
    if (rc == 0 && octo_store_changes(s) == 0)
        return OCTO_EEXIST;
    return rc;
}

struct row_ctx {
    struct octo_apikey *out;
    octo_apikey_fn fn;
    void *ctx;
    bool found;
};

static int decode(const struct octo_store_row *row, struct octo_apikey *k)
{
    memset(k, 0, sizeof(*k));
    const char *id = octo_store_row_text(row, 0, NULL);
    size_t hl, al;
    const uint8_t *h = octo_store_row_blob(row, 1, &hl), *a = octo_store_row_blob(row, 2, &al);
    int64_t budget = octo_store_row_int64(row, 3), spent = octo_store_row_int64(row, 4),
            rate = octo_store_row_int64(row, 5), created = octo_store_row_int64(row, 6);
    if (id == NULL || strlen(id) != OCTO_APIKEY_ID_HEX || hl != 32 || al != 32 || budget < 0 ||
        spent < 0 || rate < 1 || rate > OCTO_APIKEY_RATE_MAX || created < 0)
        return OCTO_ESTORE;
    memcpy(k->id, id, OCTO_APIKEY_ID_HEX + 1);
    memcpy(k->hash, h, 32);
    memcpy(k->account, a, 32);
    k->budget = (uint64_t)budget;
    k->spent = (uint64_t)spent;
    k->rate_per_min = (uint32_t)rate;
    k->created_ms = (uint64_t)created;
    k->revoked = octo_store_row_int64(row, 7) != 0;
    return rec_ok(k) ? 0 : OCTO_ESTORE;
}

static int get_row(const struct octo_store_row *row, void *vctx)
{
    struct row_ctx *c = vctx;
    int rc = decode(row, c->out);
    if (rc != 0)
        return rc;
    c->found = true;
    return 1;
}

int octo_apikey_get(struct octo_store *s, const char *id, struct octo_apikey *out)
{
    if (id == NULL || strlen(id) != OCTO_APIKEY_ID_HEX)
        return OCTO_ENOTFOUND;
    struct row_ctx c = {out, NULL, NULL, false};
    struct octo_store_value p[] = {octo_store_textn(id, strlen(id))};
    int rc = octo_store_exec(s, "SELECT " COLS " FROM api_keys WHERE id = $1", p, 1, get_row, &c);
    if (rc < 0)
        return rc;
    return c.found ? 0 : OCTO_ENOTFOUND;
}

int octo_apikey_spend(struct octo_store *s, const char *id, uint64_t amount)
{
    if (amount > OCTO_APIKEY_U64_MAX)
        return OCTO_ERANGE;
    bool owned;
    int rc = octo_store_tx_enter(s, true, &owned);
    if (rc < 0)
        return rc;
    struct octo_store_value p[] = {octo_store_textn(id, strlen(id)),
                                   octo_store_int64((int64_t)amount)};
    rc = octo_store_exec(s,
                         "UPDATE api_keys SET spent = spent + $2 WHERE id = $1 AND revoked = 0"
                         " AND spent <= budget - $2",
                         p, 2, NULL, NULL);
    if (rc == 0 && octo_store_changes(s) == 0) {
        struct octo_apikey k;
        rc = octo_apikey_get(s, id, &k);
        if (rc == 0)
            rc = k.revoked ? OCTO_ESTATE : OCTO_ERANGE;
    }
    return octo_store_tx_leave(s, owned, rc);
}

int octo_apikey_revoke(struct octo_store *s, const char *id)
{
    struct octo_store_value p[] = {octo_store_textn(id, strlen(id))};
    int rc = octo_store_exec(s, "UPDATE api_keys SET revoked = 1 WHERE id = $1", p, 1, NULL, NULL);
    if (rc == 0 && octo_store_changes(s) == 0)
        return OCTO_ENOTFOUND;
    return rc;
}

static int list_row(const struct octo_store_row *row, void *vctx)
{
    struct row_ctx *c = vctx;
    struct octo_apikey k;
    int rc = decode(row, &k);
    if (rc != 0)
        return rc;
    return c->fn(c->ctx, &k) != 0 ? 1 : 0;
}

int octo_apikey_list(struct octo_store *s, octo_apikey_fn fn, void *ctx)
{
    struct row_ctx c = {NULL, fn, ctx, false};
    struct octo_store_value p[] = {octo_store_int64(OCTO_APIKEY_LIST_MAX)};
    int rc = octo_store_exec(s, "SELECT " COLS " FROM api_keys ORDER BY id LIMIT $1", p, 1,
                             list_row, &c);
    return rc < 0 ? rc : 0;
}
