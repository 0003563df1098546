/*
 * validator_rpc.c — the client calls of the chain service (/octo/chain-rpc/1.0.0, methods in
 * validator.h): one JSON request in, one JSON response out.
 *
 * Every answer is an object; a failure is {"error": {"code": "...", "message": "..."}} with a
 * stable code (the mempool's and the ledger's reason names, or "bad-request", "not-found").
 * Amounts are decimal strings (JSON numbers cannot hold 64 bits), keys and hashes lowercase
 * hex. Blocks and proofs are read from the blockstore, so they survive restarts. "tx" answers
 * with the transaction's bytes and its inclusion proof under the block's transaction root,
 * and with "receipts": true also the task receipts it carries, each with its proof under the
 * receipt root (`octo tx proof` checks both).
 */
#include "base/alloc.h"
#include "base/hex.h"
#include "node/validator_int.h"
#include "store/chainstore.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define LIST_TXS_MAX 1000 /* transactions listed in a block answer */

static const char *const mempool_codes[OCTO_MEMPOOL_REASONS_N] = {
    "accepted",     "malformed",     "bad-signature", "fee-too-low", "no-account",
    "nonce-used",   "nonce-too-far", "duplicate",     "nonce-taken", "cannot-pay-fee",
    "insufficient", "pool-full",     "too-big",
};

static void add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
    char small[2 * 64 + 1];
    char *hex = n <= 64 ? small : octo_malloc(2 * n + 1); /* raw transactions: up to 74 KB */
    if (hex != NULL && octo_hex_encode(p, n, hex, 2 * n + 1) >= 0)
        cJSON_AddStringToObject(o, key, hex);
    if (hex != small)
        octo_free(hex);
}

static void add_u64(cJSON *o, const char *key, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
    cJSON_AddStringToObject(o, key, s);
}

static char *finish(cJSON *o)
{
    char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

static char *error(const char *code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    return finish(o);
}

/* A hex field of exactly n bytes. */
static bool get_hex(const cJSON *req, const char *key, uint8_t *out, size_t n)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(req, key);
    if (!cJSON_IsString(f) || strlen(f->valuestring) != 2 * n)
        return false;
    return octo_hex_decode(f->valuestring, 2 * n, out, n) == (int)n;
}

static char *rpc_submit(struct octo_validator *v, const cJSON *req)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(req, "tx");
    if (!cJSON_IsString(f))
        return error("bad-request", "\"tx\": expected the transaction in hex");
    size_t hl = strlen(f->valuestring);
    if (hl % 2 != 0 || hl / 2 > OCTO_TX_MAX)
        return error("too-big", "\"tx\": not a transaction's hex (odd length or over the limit)");
    uint8_t *tx = octo_malloc(hl / 2 + 1);
    if (tx == NULL)
        return NULL;
    int n = octo_hex_decode(f->valuestring, hl, tx, hl / 2 + 1);
    char *resp;
    if (n < 0) {
        resp = error("bad-request", "\"tx\": not hex");
    } else {
        uint8_t id[32];
        memset(id, 0, sizeof(id));
        int r = val_submit(v, tx, (size_t)n, id, true);
        if (r == OCTO_MPR_OK) {
            cJSON *o = cJSON_CreateObject();
            add_hex(o, "id", id, 32);
            cJSON_AddStringToObject(o, "status", "accepted");
            resp = finish(o);
        } else if (r >= 0 && r < OCTO_MEMPOOL_REASONS_N) {
            resp = error(mempool_codes[r], octo_mempool_reason_str(r));
        } else {
            resp = error("internal", octo_strerror(r));
        }
    }
    octo_free(tx);
    return resp;
}

static cJSON *token_map(const uint64_t amounts[OCTO_TOKENS])
{
    cJSON *m = cJSON_CreateObject();
    for (uint8_t t = 0; t < OCTO_TOKENS; t++)
        add_u64(m, octo_token_name(t), amounts[t]);
    return m;
}

static char *rpc_account(struct octo_validator *v, const cJSON *req)
{
    uint8_t addr[32];
    if (!get_hex(req, "address", addr, 32))
        return error("bad-request", "\"address\": expected 64 hex digits");
    struct octo_account a;
    if (octo_ledger_account(&v->ledger, addr, &a) != 0)
        return error("not-found", "no account at this address");
    cJSON *o = cJSON_CreateObject();
    add_hex(o, "address", a.addr, 32);
    add_u64(o, "height", octo_ledger_height(&v->ledger));
    add_u64(o, "nonce", a.nonce);
    cJSON_AddStringToObject(o, "role", octo_stake_role_name(a.role));
    cJSON_AddBoolToObject(o, "jailed", a.jailed != 0);
    cJSON_AddItemToObject(o, "balance", token_map(a.balance));
    cJSON_AddItemToObject(o, "staked", token_map(a.staked));
    cJSON *u = cJSON_AddArrayToObject(o, "unbonding");
    for (unsigned k = 0; k < a.n_unbond; k++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "token", octo_token_name(a.unbond[k].token));
        add_u64(e, "amount", a.unbond[k].amount);
        add_u64(e, "release_ms", a.unbond[k].release_ms);
        cJSON_AddItemToArray(u, e);
    }
    return finish(o);
}

/* A stored block, copied out of the store's callback. */
struct got_block {
    struct octo_chainstore_block b;
    uint8_t *payload, *results;
};

static int copy_block(void *ctx, const struct octo_chainstore_block *b)
{
    struct got_block *g = ctx;
    g->b = *b;
    g->payload = octo_malloc(b->payload_len ? b->payload_len : 1);
    g->results = octo_malloc(b->n_results ? b->n_results : 1);
    if (g->payload == NULL || g->results == NULL)
        return OCTO_ENOMEM;
    if (b->payload_len > 0)
        memcpy(g->payload, b->payload, b->payload_len);
    if (b->n_results > 0)
        memcpy(g->results, b->results, b->n_results);
    return 0;
}

static void free_block(struct got_block *g)
{
    octo_free(g->payload);
    octo_free(g->results);
}

static cJSON *tx_json(const struct octo_block_tx *t, uint8_t result)
{
    cJSON *o = cJSON_CreateObject();
    uint8_t id[32];
    octo_tx_id(t->p, t->len, id);
    add_hex(o, "id", id, 32);
    struct octo_tx d;
    if (octo_tx_decode(t->p, t->len, &d) == 0) {
        cJSON_AddStringToObject(o, "type", octo_tx_type_name(d.type));
        add_hex(o, "from", d.from, 32);
        add_u64(o, "nonce", d.nonce);
        add_u64(o, "fee", d.fee);
        if (d.type == OCTO_TX_TRANSFER) {
            add_hex(o, "to", d.u.transfer.to, 32);
            cJSON_AddStringToObject(o, "token", octo_token_name(d.u.transfer.token));
            add_u64(o, "amount", d.u.transfer.amount);
        }
    }
    cJSON_AddNumberToObject(o, "result", result);
    cJSON_AddStringToObject(o, "result_text", octo_tx_result_str(result));
    return o;
}

static char *rpc_block(struct octo_validator *v, const cJSON *req)
{
    uint64_t height = octo_ledger_height(&v->ledger);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(req, "height");
    if (f != NULL) {
        if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble > 9007199254740991.0)
            return error("bad-request", "\"height\": expected a block height");
        height = (uint64_t)f->valuedouble;
    }
    if (height == 0)
        return error("not-found", "height 0 is the genesis state, not a block");
    struct got_block g = {0};
    int rc = octo_chainstore_block(v->cfg.store, height, NULL, copy_block, &g);
    if (rc != 0) {
        free_block(&g);
        return rc == OCTO_ENOTFOUND ? error("not-found", "no finalized block at this height")
                                    : error("internal", octo_strerror(rc));
    }
    struct octo_block_hdr h;
    rc = octo_block_parse(g.payload, g.b.payload_len, &h, v->scratch->txs);
    if (rc != 0 || h.n_tx != g.b.n_results) {
        free_block(&g);
        return error("internal", "stored block does not parse");
    }
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "height", g.b.height);
    add_u64(o, "view", g.b.view);
    add_hex(o, "id", g.b.id, 32);
    add_hex(o, "parent", g.b.parent, 32);
    add_u64(o, "time_ms", h.time_ms);
    if (g.b.signer < v->n_vals)
        add_hex(o, "proposer", v->vals[g.b.signer].pk, 32);
    add_u64(o, "state_height", h.state_height);
    add_hex(o, "state_root", h.state_root, 32);
    add_hex(o, "tx_root", h.tx_root, 32);
    add_hex(o, "receipt_root", h.receipt_root, 32);
    cJSON_AddNumberToObject(o, "n_tx", h.n_tx);
    cJSON *txs = cJSON_AddArrayToObject(o, "txs");
    for (uint32_t i = 0; i < h.n_tx && i < LIST_TXS_MAX; i++)
        cJSON_AddItemToArray(txs, tx_json(&v->scratch->txs[i], g.results[i]));
    free_block(&g);
    return finish(o);
}

static void add_proof(cJSON *o, const struct octo_merkle_hash *proof, size_t plen)
{
    cJSON *p = cJSON_AddArrayToObject(o, "proof");
    for (size_t i = 0; i < plen; i++) {
        char hex[65];
        if (octo_hex_encode(proof[i].bytes, 32, hex, sizeof(hex)) >= 0)
            cJSON_AddItemToArray(p, cJSON_CreateString(hex));
    }
}

/* The task receipts transaction `pos` carries, each with its inclusion proof under the block's
 * receipt root (the receipts before it in the block come first in that tree). */
static int add_receipts(struct octo_validator *v, cJSON *o, const struct octo_block_hdr *h,
                        uint32_t pos)
{
    uint32_t leaf = 0;
    const uint8_t *first;
    for (uint32_t i = 0; i < pos; i++) {
        int c = octo_block_tx_receipts(&v->scratch->txs[i], &first);
        if (c < 0)
            return c;
        leaf += (uint32_t)c;
    }
    int count = octo_block_tx_receipts(&v->scratch->txs[pos], &first);
    if (count < 0)
        return count;
    add_hex(o, "receipt_root", h->receipt_root, 32);
    cJSON *arr = cJSON_AddArrayToObject(o, "receipts");
    uint64_t n = 0;
    for (int k = 0; k < count; k++) {
        struct octo_merkle_hash proof[OCTO_MERKLE_PROOF_MAX];
        size_t plen = 0;
        /* the leaves are hashed once, for the first; the others reuse them */
        int rc =
            k == 0 ? octo_block_proof(h, v->scratch, true, leaf, &n, proof, &plen)
                   : octo_merkle_inclusion_proof(v->scratch->receipt_leaves, n, leaf + (uint32_t)k,
                                                 proof, OCTO_MERKLE_PROOF_MAX, &plen);
        if (rc != 0)
            return rc;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "leaf", leaf + (uint32_t)k);
        add_u64(r, "receipt_count", n);
        add_hex(r, "raw", first + (size_t)k * OCTO_RECEIPT_LEN, OCTO_RECEIPT_LEN);
        add_proof(r, proof, plen);
        cJSON_AddItemToArray(arr, r);
    }
    return 0;
}

static char *rpc_tx(struct octo_validator *v, const cJSON *req)
{
    uint8_t id[32];
    if (!get_hex(req, "id", id, 32))
        return error("bad-request", "\"id\": expected 64 hex digits");
    struct octo_chainstore_txloc loc;
    int rc = octo_chainstore_tx(v->cfg.store, id, &loc);
    if (rc == OCTO_ENOTFOUND) {
        bool waiting = octo_mempool_has(&v->pool, id);
        return error(waiting ? "pending" : "not-found",
                     waiting ? "waiting in the pool" : "not in a finalized block");
    }
    if (rc != 0)
        return error("internal", octo_strerror(rc));
    struct got_block g = {0};
    rc = octo_chainstore_block(v->cfg.store, loc.height, NULL, copy_block, &g);
    struct octo_block_hdr h;
    if (rc == 0)
        rc = octo_block_parse(g.payload, g.b.payload_len, &h, v->scratch->txs);
    struct octo_merkle_hash proof[OCTO_MERKLE_PROOF_MAX];
    size_t plen = 0;
    uint64_t n = 0;
    if (rc == 0)
        rc = octo_block_proof(&h, v->scratch, false, loc.pos, &n, proof, &plen);
    if (rc != 0) {
        free_block(&g);
        return error("internal", octo_strerror(rc));
    }
    const struct octo_block_tx *t = &v->scratch->txs[loc.pos];
    cJSON *o = tx_json(t, loc.result);
    add_u64(o, "height", loc.height);
    cJSON_AddNumberToObject(o, "position", loc.pos);
    add_hex(o, "block", g.b.id, 32);
    add_hex(o, "tx_root", h.tx_root, 32);
    add_u64(o, "tx_count", n);
    add_hex(o, "raw", t->p, t->len);
    add_proof(o, proof, plen);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "receipts")))
        rc = add_receipts(v, o, &h, loc.pos);
    free_block(&g);
    if (rc != 0) {
        cJSON_Delete(o);
        return error("internal", octo_strerror(rc));
    }
    return finish(o);
}

static char *rpc_status(struct octo_validator *v, const cJSON *req)
{
    /* "reset_finality": true starts the latency samples afresh after this answer (a
     * benchmark's measuring window) */
    bool reset = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "reset_finality"));
    cJSON *o = cJSON_CreateObject();
    add_hex(o, "chain_id", octo_ledger_chain_id(&v->ledger), 32);
    cJSON_AddStringToObject(o, "chain", v->cfg.genesis->name);
    add_u64(o, "height", octo_ledger_height(&v->ledger));
    add_u64(o, "time_ms", octo_ledger_time(&v->ledger));
    uint8_t root[32];
    octo_ledger_root(&v->ledger, root);
    add_hex(o, "state_root", root, 32);
    if (v->cons_ok)
        add_u64(o, "view", octo_cons_view(&v->cons));
    cJSON_AddBoolToObject(o, "voting", v->self != UINT32_MAX);
    cJSON *vals = cJSON_AddArrayToObject(o, "validators");
    for (uint32_t i = 0; i < v->n_vals; i++) {
        cJSON *e = cJSON_CreateObject();
        add_hex(e, "address", v->vals[i].pk, 32);
        add_u64(e, "stake", v->vals[i].weight);
        cJSON_AddItemToArray(vals, e);
    }
    uint32_t open = 0;
    for (uint32_t i = 0; i < v->n_peers; i++)
        open += v->peers[i].open;
    cJSON_AddNumberToObject(o, "peers_connected", open);
    cJSON_AddNumberToObject(o, "mempool", (double)octo_mempool_count(&v->pool));
    const struct octo_validator_stats *s = &v->stats;
    cJSON *st = cJSON_AddObjectToObject(o, "stats");
    add_u64(st, "blocks_applied", s->blocks_applied);
    add_u64(st, "txs_applied", s->txs_applied);
    add_u64(st, "proposals", s->proposals);
    add_u64(st, "frames_in", s->frames_in);
    add_u64(st, "frames_out", s->frames_out);
    add_u64(st, "frames_dropped", s->frames_dropped);
    add_u64(st, "root_mismatches", s->root_mismatches);
    add_u64(st, "last_finality_ms", s->last_finality_ms);
    add_u64(st, "finality_samples", v->n_finality);
    add_u64(st, "finality_p50_us", val_finality_us(v, 500));
    add_u64(st, "finality_p99_us", val_finality_us(v, 990));
    add_u64(st, "mempool_accepted", octo_mempool_stats(&v->pool)->accepted);
    uint64_t refused = 0;
    for (int r = 0; r < OCTO_MEMPOOL_REASONS_N; r++)
        refused += octo_mempool_stats(&v->pool)->refused[r];
    add_u64(st, "mempool_refused", refused);
    add_u64(st, "tx_gossip_in", s->tx_gossip_in);
    add_u64(st, "tx_gossip_out", s->tx_gossip_out);
    add_u64(st, "tx_admit_bytes_waiting", v->admit_len - v->admit_off);
    add_u64(st, "tx_admit_dropped", s->tx_admit_dropped);
    add_u64(st, "tx_from_blocks", s->tx_from_blocks);
    add_u64(st, "proofs_stored", s->proofs_stored);
    add_u64(st, "proofs_missing", s->proofs_missing);
    add_u64(st, "proofs_sent", s->proofs_sent);
    add_u64(st, "hellos_sent", s->hellos_sent);
    if (v->cons_ok) {
        const struct octo_cons_stats *cs = octo_cons_stats(&v->cons);
        cJSON *c = cJSON_AddObjectToObject(o, "consensus");
        add_u64(c, "received", cs->received);
        add_u64(c, "finalized", cs->finalized);
        add_u64(c, "skipped_views", cs->skipped_views);
        add_u64(c, "requests_sent", cs->requests_sent);
        add_u64(c, "long_catch_ups", cs->syncs);
        add_u64(c, "conflicts", cs->conflicts);
        add_u64(c, "too_far", cs->too_far);
        add_u64(c, "stale", cs->stale);
        add_u64(c, "dropped_full", cs->dropped_full);
        add_u64(c, "invalid_payload", cs->invalid_payload);
        add_u64(c, "bad_signature", cs->bad_signature);
        add_u64(c, "evidence", cs->evidence);
        uint64_t top, ids;
        bool back;
        octo_cons_sync_state(&v->cons, &top, &ids, &back);
        add_u64(c, "catch_up_to", top);
        add_u64(c, "catch_up_ids", ids);
        cJSON_AddBoolToObject(c, "catch_up_walking_back", back);
    }
    if (reset)
        v->n_finality = 0;
    return finish(o);
}

char *val_rpc(struct octo_validator *v, const char *text, size_t len)
{
    cJSON *req = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        v->stats.rpc_errors++;
        return error("bad-request", "expected a JSON object");
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");
    const char *method = cJSON_IsString(m) ? m->valuestring : "";
    char *resp;
    if (strcmp(method, "submit") == 0)
        resp = rpc_submit(v, req);
    else if (strcmp(method, "account") == 0)
        resp = rpc_account(v, req);
    else if (strcmp(method, "block") == 0)
        resp = rpc_block(v, req);
    else if (strcmp(method, "tx") == 0)
        resp = rpc_tx(v, req);
    else if (strcmp(method, "status") == 0)
        resp = rpc_status(v, req);
    else
        resp = error("bad-request", "unknown method (submit, account, block, tx, status)");
    cJSON_Delete(req);
    if (resp != NULL && strncmp(resp, "{\"error\"", 8) == 0)
        v->stats.rpc_errors++;
    return resp;
}
