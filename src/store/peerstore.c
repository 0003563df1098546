/*
 * peerstore.c — the peer table over the generic store interface (no backend calls here).
 *
 * Tables (migrate.c, node schema v2): peers(id, pubkey, agent, last_seen_ms),
 * peer_addrs(peer_id, addr), peer_protocols(peer_id, protocol); the child rows cascade on
 * delete. A put runs in one write transaction: make room (evict the oldest when the peer is
 * new and the table full), upsert the peer row, replace its child rows. A get runs in one read
 * transaction so the three reads see one snapshot.
 *
 * Every input is checked against the limits in peerstore.h before any SQL runs; every value
 * read back is checked again before it is copied into the caller's arena (a database written
 * by another program is input too).
 */
#include "store/peerstore.h"

#include "base/assert.h"

#include <string.h>

void octo_peerstore_init(struct octo_peerstore *ps, struct octo_store *s, uint32_t peers_max)
{
    OCTO_ASSERT(ps != NULL);
    OCTO_ASSERT(s != NULL);
    OCTO_ASSERT(peers_max <= OCTO_PEERSTORE_PEERS_MAX);
    ps->store = s;
    ps->peers_max = peers_max != 0 ? peers_max : OCTO_PEERSTORE_PEERS_DEFAULT;
}

/* ---- input checks ---- */

/* A NUL-terminated UTF-8 string of at most max bytes; empty allowed when allow_empty. */
static int check_string(const char *s, size_t max, bool allow_empty)
{
    if (s == NULL)
        return OCTO_EINVAL;
    size_t n = strnlen(s, max + 1);
    if (n > max)
        return OCTO_ETOOBIG;
    if (n == 0 && !allow_empty)
        return OCTO_EINVAL;
    if (!octo__store_utf8_valid(s, n))
        return OCTO_EINVAL;
    return 0;
}

static int check_id(const uint8_t *id, size_t id_len)
{
    if (id == NULL || id_len == 0)
        return OCTO_EINVAL;
    if (id_len > OCTO_PEER_ID_MAX)
        return OCTO_ETOOBIG;
    return 0;
}

static int check_addrs(const struct octo_peerstore_entry *rec)
{
    if (rec->addr_count > OCTO_PEER_ADDRS_MAX)
        return OCTO_ETOOBIG;
    if (rec->addr_count > 0 && rec->addrs == NULL)
        return OCTO_EINVAL;
    for (size_t i = 0; i < rec->addr_count; i++) {
        if (rec->addrs[i].data == NULL || rec->addrs[i].len == 0)
            return OCTO_EINVAL;
        if (rec->addrs[i].len > OCTO_PEER_ADDR_MAX)
            return OCTO_ETOOBIG;
    }
    return 0;
}

static int check_protocols(const struct octo_peerstore_entry *rec)
{
    if (rec->protocol_count > OCTO_PEER_PROTOCOLS_MAX)
        return OCTO_ETOOBIG;
    if (rec->protocol_count > 0 && rec->protocols == NULL)
        return OCTO_EINVAL;
    for (size_t i = 0; i < rec->protocol_count; i++) {
        int rc = check_string(rec->protocols[i], OCTO_PEER_PROTOCOL_MAX, false);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int check_record(const struct octo_peerstore_entry *rec)
{
    int rc = check_id(rec->id, rec->id_len);
    if (rc < 0)
        return rc;
    if (rec->pubkey != NULL && rec->pubkey_len == 0)
        return OCTO_EINVAL;
    if (rec->pubkey == NULL && rec->pubkey_len != 0)
        return OCTO_EINVAL;
    if (rec->pubkey_len > OCTO_PEER_PUBKEY_MAX)
        return OCTO_ETOOBIG;
    if (rec->agent != NULL) {
        rc = check_string(rec->agent, OCTO_PEER_AGENT_MAX, true);
        if (rc < 0)
            return rc;
    }
    if (rec->last_seen_ms < 0)
        return OCTO_EINVAL;
    rc = check_addrs(rec);
    if (rc < 0)
        return rc;
    return check_protocols(rec);
}

/* Sets a message for an input error found before any SQL ran. */
static int input_error(struct octo_peerstore *ps, const char *what, int rc)
{
    octo__store_seterr(ps->store, "peerstore %s: invalid input: %s", what, octo_strerror(rc));
    return rc;
}

/* ---- put ---- */

/* Evicts the oldest peers so one more fits, or refuses a peer older than all of them. */
static int make_room(struct octo_peerstore *ps, int64_t last_seen_ms)
{
    struct octo_store *s = ps->store;
    int64_t count = 0;
    int rc = octo_store_query_int64(s, "SELECT count(*) FROM peers", NULL, 0, &count);
    if (rc < 0)
        return rc;
    if (count < (int64_t)ps->peers_max)
        return 0;
    int64_t evict = count - (int64_t)ps->peers_max + 1;
    /* The youngest of the peers to evict must not be younger than the newcomer. */
    struct octo_store_value off[] = {octo_store_int64(evict - 1)};
    int64_t youngest = 0;
    rc = octo_store_query_int64(
        s, "SELECT last_seen_ms FROM peers ORDER BY last_seen_ms, id LIMIT 1 OFFSET $1", off, 1,
        &youngest);
    if (rc < 0)
        return rc;
    if (youngest > last_seen_ms) {
        octo__store_seterr(s, "peerstore full (%u peers) and the new peer is older than all",
                           ps->peers_max);
        return OCTO_ETOOBIG;
    }
    struct octo_store_value n[] = {octo_store_int64(evict)};
    return octo_store_exec(s,
                           "DELETE FROM peers WHERE id IN"
                           " (SELECT id FROM peers ORDER BY last_seen_ms, id LIMIT $1)",
                           n, 1, NULL, NULL);
}

static int put_children(struct octo_store *s, const struct octo_peerstore_entry *rec)
{
    struct octo_store_value id = octo_store_blob(rec->id, rec->id_len);
    int rc = octo_store_exec(s, "DELETE FROM peer_addrs WHERE peer_id = $1", &id, 1, NULL, NULL);
    if (rc < 0)
        return rc;
    rc = octo_store_exec(s, "DELETE FROM peer_protocols WHERE peer_id = $1", &id, 1, NULL, NULL);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < rec->addr_count; i++) {
        struct octo_store_value p[] = {id, octo_store_blob(rec->addrs[i].data, rec->addrs[i].len)};
        rc = octo_store_exec(s,
                             "INSERT INTO peer_addrs (peer_id, addr) VALUES ($1, $2)"
                             " ON CONFLICT DO NOTHING",
                             p, 2, NULL, NULL);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < rec->protocol_count; i++) {
        const char *proto = rec->protocols[i];
        struct octo_store_value p[] = {id, octo_store_textn(proto, strlen(proto))};
        rc = octo_store_exec(s,
                             "INSERT INTO peer_protocols (peer_id, protocol) VALUES ($1, $2)"
                             " ON CONFLICT DO NOTHING",
                             p, 2, NULL, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int put_in_tx(struct octo_peerstore *ps, const struct octo_peerstore_entry *rec)
{
    struct octo_store *s = ps->store;
    struct octo_store_value id = octo_store_blob(rec->id, rec->id_len);
    int64_t exists = 0;
    int rc = octo_store_query_int64(s, "SELECT count(*) FROM peers WHERE id = $1", &id, 1, &exists);
    if (rc < 0)
        return rc;
    if (exists == 0) {
        rc = make_room(ps, rec->last_seen_ms);
        if (rc < 0)
            return rc;
    }
    struct octo_store_value p[] = {
        id,
        rec->pubkey != NULL ? octo_store_blob(rec->pubkey, rec->pubkey_len) : octo_store_null(),
        rec->agent != NULL ? octo_store_textn(rec->agent, strlen(rec->agent)) : octo_store_null(),
        octo_store_int64(rec->last_seen_ms),
    };
    rc = octo_store_exec(s,
                         "INSERT INTO peers (id, pubkey, agent, last_seen_ms)"
                         " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET"
                         " pubkey = excluded.pubkey, agent = excluded.agent,"
                         " last_seen_ms = excluded.last_seen_ms",
                         p, OCTO_ARRAY_LEN(p), NULL, NULL);
    if (rc < 0)
        return rc;
    return put_children(s, rec);
}

int octo_peerstore_put(struct octo_peerstore *ps, const struct octo_peerstore_entry *rec)
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

/* ---- get ---- */

struct get_ctx {
    struct octo_arena *arena;
    struct octo_peerstore_entry *out;
    struct octo_peer_addr *addrs;
    const char **protocols;
    bool found;
};

/* Copies a text column into the arena, NUL-terminated; max bounds its length. */
static int copy_text(struct octo_arena *a, const struct octo_store_row *row, unsigned col,
                     size_t max, const char **out)
{
    size_t len = 0;
    const char *p = octo_store_row_text(row, col, &len);
    if (p == NULL) {
        *out = NULL;
        return 0;
    }
    if (len > max)
        return OCTO_ETOOBIG;
    char *copy = octo_arena_alloc(a, len + 1, 1);
    if (copy == NULL)
        return OCTO_ETOOBIG;
    memcpy(copy, p, len);
    copy[len] = '\0';
    *out = copy;
    return 0;
}

static int peer_row(const struct octo_store_row *row, void *vctx)
{
    struct get_ctx *g = vctx;
    g->found = true;
    g->out->pubkey = NULL;
    g->out->pubkey_len = 0;
    if (octo_store_row_type(row, 0) != OCTO_STORE_NULL) {
        size_t len = 0;
        const void *p = octo_store_row_blob(row, 0, &len);
        if (len > OCTO_PEER_PUBKEY_MAX)
            return OCTO_ETOOBIG;
        if (len > 0) {
            g->out->pubkey = octo_arena_memdup(g->arena, p, len);
            if (g->out->pubkey == NULL)
                return OCTO_ETOOBIG;
            g->out->pubkey_len = len;
        }
    }
    int rc = copy_text(g->arena, row, 1, OCTO_PEER_AGENT_MAX, &g->out->agent);
    if (rc < 0)
        return rc;
    g->out->last_seen_ms = octo_store_row_int64(row, 2);
    return 1;
}

static int addr_row(const struct octo_store_row *row, void *vctx)
{
    struct get_ctx *g = vctx;
    size_t n = g->out->addr_count;
    if (n >= OCTO_PEER_ADDRS_MAX)
        return OCTO_ETOOBIG;
    size_t len = 0;
    const void *p = octo_store_row_blob(row, 0, &len);
    if (len == 0 || len > OCTO_PEER_ADDR_MAX)
        return OCTO_ETOOBIG;
    uint8_t *copy = octo_arena_memdup(g->arena, p, len);
    if (copy == NULL)
        return OCTO_ETOOBIG;
    g->addrs[n].data = copy;
    g->addrs[n].len = len;
    g->out->addr_count = n + 1;
    return 0;
}

static int protocol_row(const struct octo_store_row *row, void *vctx)
{
    struct get_ctx *g = vctx;
    size_t n = g->out->protocol_count;
    if (n >= OCTO_PEER_PROTOCOLS_MAX)
        return OCTO_ETOOBIG;
    const char *copy = NULL;
    int rc = copy_text(g->arena, row, 0, OCTO_PEER_PROTOCOL_MAX, &copy);
    if (rc < 0)
        return rc;
    if (copy == NULL)
        return OCTO_ETOOBIG; /* NOT NULL column: corrupt */
    g->protocols[n] = copy;
    g->out->protocol_count = n + 1;
    return 0;
}

static int get_in_tx(struct octo_store *s, struct octo_store_value *id, struct get_ctx *g)
{
    int rc = octo_store_exec(s, "SELECT pubkey, agent, last_seen_ms FROM peers WHERE id = $1", id,
                             1, peer_row, g);
    if (rc < 0)
        return rc;
    if (!g->found) {
        octo__store_seterr(s, "peerstore get: no such peer");
        return OCTO_ENOTFOUND;
    }
    /* One row more than allowed is asked for, so an over-full peer is noticed. */
    rc = octo_store_exec(s, "SELECT addr FROM peer_addrs WHERE peer_id = $1 ORDER BY addr LIMIT 17",
                         id, 1, addr_row, g);
    if (rc < 0)
        return rc;
    return octo_store_exec(
        s, "SELECT protocol FROM peer_protocols WHERE peer_id = $1 ORDER BY protocol LIMIT 33", id,
        1, protocol_row, g);
}
_Static_assert(OCTO_PEER_ADDRS_MAX == 16 && OCTO_PEER_PROTOCOLS_MAX == 32,
               "update the LIMITs in get_in_tx");

int octo_peerstore_get(struct octo_peerstore *ps, const uint8_t *id, size_t id_len,
                       struct octo_arena *arena, struct octo_peerstore_entry *out)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    OCTO_ASSERT(arena != NULL && out != NULL);
    int rc = check_id(id, id_len);
    if (rc < 0)
        return input_error(ps, "get", rc);
    memset(out, 0, sizeof(*out));
    struct get_ctx g = {.arena = arena, .out = out};
    g.addrs = octo_arena_alloc(arena, sizeof(*g.addrs) * OCTO_PEER_ADDRS_MAX, 8);
    g.protocols = octo_arena_alloc(arena, sizeof(*g.protocols) * OCTO_PEER_PROTOCOLS_MAX, 8);
    uint8_t *id_copy = octo_arena_memdup(arena, id, id_len);
    if (g.addrs == NULL || g.protocols == NULL || id_copy == NULL) {
        octo__store_seterr(ps->store, "peerstore get: arena full");
        return OCTO_ETOOBIG;
    }
    bool owned = false;
    rc = octo_store_tx_enter(ps->store, false, &owned);
    if (rc < 0)
        return rc;
    struct octo_store_value idv = octo_store_blob(id, id_len);
    rc = get_in_tx(ps->store, &idv, &g);
    rc = octo_store_tx_leave(ps->store, owned, rc);
    if (rc < 0)
        return rc;
    out->id = id_copy;
    out->id_len = id_len;
    out->addrs = g.addrs;
    out->protocols = g.protocols;
    return 0;
}

/* ---- delete, count, list ---- */

int octo_peerstore_delete(struct octo_peerstore *ps, const uint8_t *id, size_t id_len)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    int rc = check_id(id, id_len);
    if (rc < 0)
        return input_error(ps, "delete", rc);
    bool owned = false;
    rc = octo_store_tx_enter(ps->store, true, &owned);
    if (rc < 0)
        return rc;
    struct octo_store_value idv = octo_store_blob(id, id_len);
    rc = octo_store_exec(ps->store, "DELETE FROM peers WHERE id = $1", &idv, 1, NULL, NULL);
    if (rc == 0 && octo_store_changes(ps->store) == 0) {
        octo__store_seterr(ps->store, "peerstore delete: no such peer");
        rc = OCTO_ENOTFOUND;
    }
    return octo_store_tx_leave(ps->store, owned, rc);
}

int octo_peerstore_count(struct octo_peerstore *ps, uint64_t *out)
{
    OCTO_ASSERT(ps != NULL);
    return octo__store_count(ps->store, "SELECT count(*) FROM peers", out);
}

struct list_ctx {
    octo_peerstore_list_fn fn;
    void *ctx;
    int listed;
};

static int list_row(const struct octo_store_row *row, void *vctx)
{
    struct list_ctx *l = vctx;
    size_t len = 0;
    const void *id = octo_store_row_blob(row, 0, &len);
    if (len == 0 || len > OCTO_PEER_ID_MAX)
        return OCTO_ETOOBIG;
    int rc = l->fn(id, len, octo_store_row_int64(row, 1), l->ctx);
    if (rc < 0)
        return rc;
    l->listed++;
    return 0;
}

int octo_peerstore_list(struct octo_peerstore *ps, size_t limit, octo_peerstore_list_fn fn,
                        void *ctx)
{
    OCTO_ASSERT(ps != NULL && ps->store != NULL);
    OCTO_ASSERT(fn != NULL);
    if (limit == 0 || limit > OCTO_PEERSTORE_LIST_MAX)
        return input_error(ps, "list", OCTO_EINVAL);
    struct list_ctx l = {fn, ctx, 0};
    struct octo_store_value p[] = {octo_store_int64((int64_t)limit)};
    int rc = octo_store_exec(ps->store,
                             "SELECT id, last_seen_ms FROM peers"
                             " ORDER BY last_seen_ms DESC, id LIMIT $1",
                             p, 1, list_row, &l);
    if (rc < 0)
        return rc;
    return l.listed;
}
