/*
 * ledger.c — the protocol state machine (rules and encodings: ledger.h).
 *
 * Objects live in one array in creation order; an open-addressing table (SipHash of type and
 * key, linear probing, at most half full) finds them. The table is never iterated, so its
 * order cannot leak into the state. The Merkle tree is kept as levels: level 0 holds the
 * objects' leaf hashes, node i of level L + 1 is the hash of nodes 2i and 2i + 1 of level L,
 * or node 2i itself when it has no right sibling. That is exactly RFC 6962's MTH (the split
 * at the largest power of two below n puts every promoted node on the right edge), and a
 * block only rehashes what changed: its changed leaves, then their parents level by level,
 * each once.
 *
 * A transaction first passes the sender checks (account, nonce, fee), pays and advances the
 * nonce, then its operation checks everything it needs before it changes anything, so "no
 * effect beyond the fee" needs no undo log. Objects a transaction creates are made only after
 * its checks passed; running out of room is one of those checks.
 *
 * Pending unbonds are also queued in memory by release time (time only grows and the delay is
 * a constant, so appending keeps the queue sorted); a block first releases what is due. After
 * a restore the queue is rebuilt from the accounts.
 */
#include "chain/ledger.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "crypto/hash.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum { OBJ_ACCOUNT = 1, OBJ_ESCROW = 2, OBJ_MARK = 3 };

static const char state_tag[] = "OCTO-STATE-v1";
static const char mark_tag[] = "OCTO-EVIDENCE-v1";

#define LEVELS 33 /* 2^24 objects need 25; room to spare */
#define BPS 10000

_Static_assert(OCTO_LEDGER_HASH_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key size");
_Static_assert(OCTO_LEDGER_OBJECTS_MAX < UINT32_MAX / 2, "indexes fit the table");

struct obj {
    uint8_t type, changed;
    union {
        struct octo_account a;
        struct octo_escrow e;
        uint8_t key[32]; /* MARK */
    } u;
};

struct due {
    uint64_t release_ms;
    uint32_t idx;
};

struct octo_ledger_state {
    uint8_t chain_id[32];
    uint8_t hash_key[OCTO_LEDGER_HASH_KEY_LEN];
    struct octo_ledger_params p;
    uint64_t height, time_ms, epoch;
    uint64_t supply[OCTO_TOKENS], burned[OCTO_TOKENS];
    struct octo_cons_validator val[OCTO_CONS_VALIDATORS_MAX];
    uint32_t n_val;
    bool val_changed;
    bool loading; /* octo_ledger_load_object was called: the changed list is the loader's */
    uint8_t root[32];
    uint8_t roots[OCTO_LEDGER_ROOTS_KEPT][32]; /* roots[h % KEPT] after height h */
    uint64_t roots_from;                       /* the oldest height kept */
    /* objects */
    struct obj *objs;
    uint32_t n_objs, cap_objs;
    uint32_t *slots; /* index + 1, 0 empty */
    uint32_t slot_mask;
    /* the tree */
    struct octo_merkle_hash *level[LEVELS];
    uint32_t tree_n; /* leaves the levels describe */
    /* changed objects since the last apply */
    uint32_t *changed;
    uint32_t n_changed;
    uint32_t *scratch; /* parent lists while rehashing */
    /* pending unbonds */
    struct due *due;
    size_t due_head, due_n, due_cap;
    struct octo_ledger_stats stats;
};

/* ---- parameters --------------------------------------------------------------------------- */

void octo_ledger_params_default(struct octo_ledger_params *p)
{
    memset(p, 0, sizeof(*p));
    p->min_fee = OCTO_UNIT / 1000;
    p->unbond_ms = UINT64_C(7) * 24 * 3600 * 1000;
    p->epoch_blocks = 1000;
    p->stake_octo[OCTO_STAKE_VALIDATOR] = 10000 * OCTO_UNIT;
    p->stake_octo[OCTO_STAKE_COMPUTE] = 10000 * OCTO_UNIT;
    p->stake_octo[OCTO_STAKE_STORAGE] = 10000 * OCTO_UNIT;
    p->stake_octo[OCTO_STAKE_BANDWIDTH] = 10000 * OCTO_UNIT;
    p->stake_octo[OCTO_STAKE_ORCHESTRATOR] = 5000 * OCTO_UNIT;
    p->stake_token[OCTO_STAKE_COMPUTE] = 500 * OCTO_UNIT;
    p->stake_token[OCTO_STAKE_STORAGE] = 500 * OCTO_UNIT;
    p->stake_token[OCTO_STAKE_BANDWIDTH] = 500 * OCTO_UNIT;
    p->stake_token[OCTO_STAKE_ORCHESTRATOR] = 500 * OCTO_UNIT;
    p->slash_double_bps = 500;
    p->slash_failed_bps = 1000;
    p->max_validators = 16;
}

unsigned octo_stake_role_token(uint8_t role)
{
    switch (role) {
    case OCTO_STAKE_COMPUTE:
        return OCTO_TOKEN_A;
    case OCTO_STAKE_STORAGE:
        return OCTO_TOKEN_S;
    case OCTO_STAKE_BANDWIDTH:
        return OCTO_TOKEN_B;
    case OCTO_STAKE_ORCHESTRATOR:
        return OCTO_TOKEN_O;
    default:
        return OCTO_TOKENS;
    }
}

static bool is_provider(uint8_t role)
{
    return role == OCTO_STAKE_COMPUTE || role == OCTO_STAKE_STORAGE || role == OCTO_STAKE_BANDWIDTH;
}

static bool params_ok(const struct octo_ledger_params *p)
{
    if (p->epoch_blocks == 0 || p->max_validators == 0 ||
        p->max_validators > OCTO_CONS_VALIDATORS_MAX || p->slash_double_bps > BPS ||
        p->slash_failed_bps > BPS || p->stake_octo[OCTO_STAKE_VALIDATOR] == 0)
        return false;
    if (p->stake_octo[OCTO_STAKE_NONE] != 0 || p->stake_token[OCTO_STAKE_NONE] != 0 ||
        p->stake_token[OCTO_STAKE_VALIDATOR] != 0)
        return false;
    for (int r = 0; r < OCTO_STAKE_ROLES; r++)
        if (p->stake_octo[r] >= OCTO_LEDGER_SUPPLY_MAX ||
            p->stake_token[r] >= OCTO_LEDGER_SUPPLY_MAX)
            return false;
    return p->unbond_ms < OCTO_LEDGER_SUPPLY_MAX && !octo_all_zero(p->treasury, OCTO_ADDR_LEN) &&
           !octo_all_zero(p->governance, OCTO_ADDR_LEN) &&
           memcmp(p->treasury, p->governance, OCTO_ADDR_LEN) != 0;
}

/* floor(x * num / den) for num <= den, exactly and without overflow. */
static uint64_t mul_div(uint64_t x, uint64_t num, uint64_t den)
{
    OCTO_ASSERT(num <= den && den <= UINT32_MAX);
    return (x / den) * num + (x % den) * num / den;
}

/* ---- results ------------------------------------------------------------------------------ */

const char *octo_tx_result_str(int r)
{
    switch (r) {
#define OCTO_TXR_STR(name, value, msg)                                                             \
    case value:                                                                                    \
        return msg;
        OCTO_TX_RESULTS(OCTO_TXR_STR)
#undef OCTO_TXR_STR
    default:
        return "unknown";
    }
}

/* ---- objects and their index --------------------------------------------------------------- */

static uint32_t slot_of(const struct octo_ledger_state *s, uint8_t type, const uint8_t key[32])
{
    uint8_t buf[33], h[crypto_shorthash_BYTES];
    buf[0] = type;
    memcpy(buf + 1, key, 32);
    crypto_shorthash(h, buf, sizeof(buf), s->hash_key);
    return (uint32_t)octo_load_be64(h) & s->slot_mask;
}

static const uint8_t *obj_key(const struct obj *o)
{
    switch (o->type) {
    case OBJ_ACCOUNT:
        return o->u.a.addr;
    case OBJ_ESCROW:
        return o->u.e.task;
    default:
        return o->u.key;
    }
}

/* The index of the object (type, key), or UINT32_MAX. */
static uint32_t find(const struct octo_ledger_state *s, uint8_t type, const uint8_t key[32])
{
    for (uint32_t i = slot_of(s, type, key);; i = (i + 1) & s->slot_mask) {
        uint32_t v = s->slots[i];
        if (v == 0)
            return UINT32_MAX;
        const struct obj *o = &s->objs[v - 1];
        if (o->type == type && memcmp(obj_key(o), key, 32) == 0)
            return v - 1;
    }
}

static void index_put(struct octo_ledger_state *s, uint32_t idx)
{
    const struct obj *o = &s->objs[idx];
    uint32_t i = slot_of(s, o->type, obj_key(o));
    while (s->slots[i] != 0)
        i = (i + 1) & s->slot_mask;
    s->slots[i] = idx + 1;
}

/* Room for `want` objects in the array, the table, the tree and the changed list. */
static int reserve(struct octo_ledger_state *s, uint32_t want)
{
    if (want <= s->cap_objs)
        return 0;
    if (want > OCTO_LEDGER_OBJECTS_MAX)
        return OCTO_ENOSPACE;
    uint32_t cap = s->cap_objs ? s->cap_objs : 1024;
    while (cap < want)
        cap *= 2;
    if (cap > OCTO_LEDGER_OBJECTS_MAX)
        cap = OCTO_LEDGER_OBJECTS_MAX;
    struct obj *objs = octo_realloc(s->objs, (size_t)cap * sizeof(*objs));
    if (objs == NULL)
        return OCTO_ENOMEM;
    s->objs = objs;
    uint32_t *changed = octo_realloc(s->changed, (size_t)cap * sizeof(*changed));
    if (changed == NULL)
        return OCTO_ENOMEM;
    s->changed = changed;
    uint32_t *scratch = octo_realloc(s->scratch, (size_t)cap * sizeof(*scratch));
    if (scratch == NULL)
        return OCTO_ENOMEM;
    s->scratch = scratch;
    for (int l = 0; l < LEVELS; l++) {
        size_t n = ((size_t)cap >> l) + 1;
        struct octo_merkle_hash *lv = octo_realloc(s->level[l], n * sizeof(*lv));
        if (lv == NULL)
            return OCTO_ENOMEM;
        s->level[l] = lv;
    }
    uint32_t *slots = octo_calloc((size_t)cap * 2, sizeof(*slots));
    if (slots == NULL)
        return OCTO_ENOMEM;
    octo_free(s->slots);
    s->slots = slots;
    s->slot_mask = cap * 2 - 1;
    s->cap_objs = cap;
    for (uint32_t i = 0; i < s->n_objs; i++)
        index_put(s, i);
    return 0;
}

static void mark_changed(struct octo_ledger_state *s, uint32_t idx)
{
    if (s->objs[idx].changed)
        return;
    s->objs[idx].changed = 1;
    s->changed[s->n_changed++] = idx;
}

/* Appends a zeroed object (room was reserved). */
static uint32_t create(struct octo_ledger_state *s, uint8_t type, const uint8_t key[32])
{
    OCTO_ASSERT(s->n_objs < s->cap_objs);
    uint32_t idx = s->n_objs++;
    struct obj *o = &s->objs[idx];
    memset(o, 0, sizeof(*o));
    o->type = type;
    memcpy(type == OBJ_ACCOUNT  ? o->u.a.addr
           : type == OBJ_ESCROW ? o->u.e.task
                                : o->u.key,
           key, 32);
    index_put(s, idx);
    mark_changed(s, idx);
    return idx;
}

/* Room for k more objects: 0 or OCTO_ENOSPACE/OCTO_ENOMEM. */
static int room(struct octo_ledger_state *s, uint32_t k)
{
    return reserve(s, s->n_objs + k);
}

static struct octo_account *account(struct octo_ledger_state *s, const uint8_t addr[32])
{
    uint32_t i = find(s, OBJ_ACCOUNT, addr);
    return i == UINT32_MAX ? NULL : &s->objs[i].u.a;
}

static uint32_t account_idx(const struct octo_ledger_state *s, const struct octo_account *a)
{
    return (uint32_t)(((const struct obj *)((const uint8_t *)a - offsetof(struct obj, u))) -
                      s->objs);
}

static void touch(struct octo_ledger_state *s, const struct octo_account *a)
{
    mark_changed(s, account_idx(s, a));
}

/* The account at addr, created when missing (room must have been reserved). */
static struct octo_account *account_make(struct octo_ledger_state *s, const uint8_t addr[32])
{
    struct octo_account *a = account(s, addr);
    if (a != NULL)
        return a;
    return &s->objs[create(s, OBJ_ACCOUNT, addr)].u.a;
}

/* ---- encodings ------------------------------------------------------------------------------ */

static size_t encode_obj(const struct obj *o, uint8_t *out)
{
    uint8_t *w = out;
    *w++ = o->type;
    if (o->type == OBJ_ACCOUNT) {
        const struct octo_account *a = &o->u.a;
        memcpy(w, a->addr, 32);
        w += 32;
        for (int t = 0; t < OCTO_TOKENS; t++, w += 8)
            octo_store_be64(w, a->balance[t]);
        for (int t = 0; t < OCTO_TOKENS; t++, w += 8)
            octo_store_be64(w, a->staked[t]);
        octo_store_be64(w, a->nonce);
        w += 8;
        *w++ = a->role;
        *w++ = a->jailed;
        *w++ = a->n_unbond;
        for (unsigned k = 0; k < a->n_unbond; k++) {
            *w++ = a->unbond[k].token;
            octo_store_be64(w, a->unbond[k].amount);
            octo_store_be64(w + 8, a->unbond[k].release_ms);
            w += 16;
        }
    } else if (o->type == OBJ_ESCROW) {
        const struct octo_escrow *e = &o->u.e;
        memcpy(w, e->task, 32);
        memcpy(w + 32, e->requester, 32);
        memcpy(w + 64, e->orchestrator, 32);
        octo_store_be64(w + 96, e->amount);
        octo_store_be64(w + 104, e->expires_ms);
        w[112] = e->state;
        w += 113;
    } else {
        memcpy(w, o->u.key, 32);
        w += 32;
    }
    OCTO_ASSERT((size_t)(w - out) <= OCTO_LEDGER_OBJECT_MAX_LEN);
    return (size_t)(w - out);
}

static bool account_ok(const struct octo_account *a)
{
    if (a->role >= OCTO_STAKE_ROLES || a->jailed > 1 || a->n_unbond > OCTO_LEDGER_UNBOND_MAX)
        return false;
    for (unsigned k = 0; k < a->n_unbond; k++) {
        if (a->unbond[k].token >= OCTO_TOKENS || a->unbond[k].amount == 0)
            return false;
        if (k > 0 && a->unbond[k].release_ms < a->unbond[k - 1].release_ms)
            return false;
    }
    return true;
}

static int decode_obj(const uint8_t *in, size_t len, struct obj *o)
{
    memset(o, 0, sizeof(*o));
    if (len < 33)
        return OCTO_EMALFORMED;
    o->type = in[0];
    const uint8_t *r = in + 1;
    if (o->type == OBJ_ACCOUNT) {
        const size_t fixed = 1 + 32 + 12 * 8 + 8 + 3;
        if (len < fixed || len != fixed + (size_t)in[fixed - 1] * 17)
            return OCTO_EMALFORMED;
        struct octo_account *a = &o->u.a;
        memcpy(a->addr, r, 32);
        r += 32;
        for (int t = 0; t < OCTO_TOKENS; t++, r += 8)
            a->balance[t] = octo_load_be64(r);
        for (int t = 0; t < OCTO_TOKENS; t++, r += 8)
            a->staked[t] = octo_load_be64(r);
        a->nonce = octo_load_be64(r);
        r += 8;
        a->role = *r++;
        a->jailed = *r++;
        a->n_unbond = *r++;
        if (a->n_unbond > OCTO_LEDGER_UNBOND_MAX)
            return OCTO_EMALFORMED;
        for (unsigned k = 0; k < a->n_unbond; k++, r += 17) {
            a->unbond[k].token = r[0];
            a->unbond[k].amount = octo_load_be64(r + 1);
            a->unbond[k].release_ms = octo_load_be64(r + 9);
        }
        return account_ok(a) ? 0 : OCTO_EMALFORMED;
    }
    if (o->type == OBJ_ESCROW) {
        if (len != 1 + 113)
            return OCTO_EMALFORMED;
        struct octo_escrow *e = &o->u.e;
        memcpy(e->task, r, 32);
        memcpy(e->requester, r + 32, 32);
        memcpy(e->orchestrator, r + 64, 32);
        e->amount = octo_load_be64(r + 96);
        e->expires_ms = octo_load_be64(r + 104);
        e->state = r[112];
        return e->state >= OCTO_ESCROW_OPEN && e->state <= OCTO_ESCROW_FAILED ? 0 : OCTO_EMALFORMED;
    }
    if (o->type == OBJ_MARK && len == 33) {
        memcpy(o->u.key, r, 32);
        return 0;
    }
    return OCTO_EMALFORMED;
}

/* The meta record without its root; returns its length. */
static size_t encode_meta_body(const struct octo_ledger_state *s, uint8_t *out)
{
    uint8_t *w = out;
    octo_store_be64(w, s->height);
    octo_store_be64(w + 8, s->time_ms);
    octo_store_be64(w + 16, s->epoch);
    octo_store_be32(w + 24, s->n_objs);
    w += 28;
    for (int t = 0; t < OCTO_TOKENS; t++, w += 8)
        octo_store_be64(w, s->supply[t]);
    for (int t = 0; t < OCTO_TOKENS; t++, w += 8)
        octo_store_be64(w, s->burned[t]);
    *w++ = (uint8_t)s->n_val;
    for (uint32_t i = 0; i < s->n_val; i++, w += 40) {
        memcpy(w, s->val[i].pk, 32);
        octo_store_be64(w + 32, s->val[i].weight);
    }
    return (size_t)(w - out);
}

/* ---- the tree ------------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Rehashes the changed leaves and their ancestors, then the root; clears the changed flags
 * (the list stays, for the store). */
static void rehash(struct octo_ledger_state *s)
{
    qsort(s->changed, s->n_changed, sizeof(uint32_t), cmp_u32);
    uint8_t enc[OCTO_LEDGER_OBJECT_MAX_LEN];
    for (uint32_t k = 0; k < s->n_changed; k++) {
        uint32_t i = s->changed[k];
        s->objs[i].changed = 0;
        octo_merkle_leaf_hash(enc, encode_obj(&s->objs[i], enc), &s->level[0][i]);
    }
    s->tree_n = s->n_objs;
    const uint32_t *cur = s->changed;
    uint32_t n_cur = s->n_changed;
    uint64_t width = s->n_objs;
    for (int l = 0; width > 1; l++) {
        OCTO_ASSERT(l + 1 < LEVELS);
        uint64_t up = (width + 1) / 2;
        uint32_t n_up = 0;
        for (uint32_t k = 0; k < n_cur; k++) {
            uint32_t p = cur[k] >> 1;
            if (n_up > 0 && s->scratch[n_up - 1] == p)
                continue;
            s->scratch[n_up++] = p;
            if ((uint64_t)2 * p + 1 < width)
                octo_merkle_node_hash(&s->level[l][2 * p], &s->level[l][2 * p + 1],
                                      &s->level[l + 1][p]);
            else
                s->level[l + 1][p] = s->level[l][2 * p];
        }
        cur = s->scratch; /* parents are written in place over the list they came from */
        n_cur = n_up;
        width = up;
    }
    struct octo_merkle_hash top;
    if (s->n_objs == 0) {
        int rc = octo_merkle_root(NULL, 0, &top);
        OCTO_ASSERT(rc == 0);
    } else {
        int l = 0;
        for (uint64_t w = s->n_objs; w > 1; w = (w + 1) / 2)
            l++;
        top = s->level[l][0];
    }
    uint8_t meta[OCTO_LEDGER_META_MAX];
    size_t n = encode_meta_body(s, meta);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, state_tag, sizeof(state_tag) - 1);
    octo_sha256_update(&h, meta, n);
    octo_sha256_update(&h, top.bytes, 32);
    octo_sha256_final(&h, s->root);
    memcpy(s->roots[s->height % OCTO_LEDGER_ROOTS_KEPT], s->root, 32);
    if (s->height >= s->roots_from + OCTO_LEDGER_ROOTS_KEPT)
        s->roots_from = s->height - OCTO_LEDGER_ROOTS_KEPT + 1;
}

/* ---- unbonding ------------------------------------------------------------------------------ */

/* Room in the unbonding queue for `extra` more entries. */
static int due_reserve(struct octo_ledger_state *s, size_t extra)
{
    if (s->due_head > 0 && s->due_head + s->due_n + extra > s->due_cap) {
        memmove(s->due, s->due + s->due_head, s->due_n * sizeof(*s->due));
        s->due_head = 0;
    }
    if (s->due_n + extra <= s->due_cap)
        return 0;
    size_t cap = s->due_cap ? s->due_cap : 256;
    while (cap < s->due_n + extra)
        cap *= 2;
    struct due *d = octo_realloc(s->due, cap * sizeof(*d));
    if (d == NULL)
        return OCTO_ENOMEM;
    s->due = d;
    s->due_cap = cap;
    return 0;
}

/* Queues an unbond (room was reserved when the block began). */
static void due_push(struct octo_ledger_state *s, uint64_t release_ms, uint32_t idx)
{
    OCTO_ASSERT(s->due_head + s->due_n < s->due_cap);
    OCTO_ASSERT(s->due_n == 0 || s->due[s->due_head + s->due_n - 1].release_ms <= release_ms);
    s->due[s->due_head + s->due_n++] = (struct due){release_ms, idx};
}

/* Returns every unbond of account a due at `now` to its balance. */
static void release_account(struct octo_ledger_state *s, struct octo_account *a, uint64_t now)
{
    unsigned k = 0;
    while (k < a->n_unbond && a->unbond[k].release_ms <= now) {
        a->balance[a->unbond[k].token] += a->unbond[k].amount;
        s->stats.unbonds_released++;
        k++;
    }
    if (k == 0)
        return;
    memmove(a->unbond, a->unbond + k, (a->n_unbond - k) * sizeof(a->unbond[0]));
    a->n_unbond = (uint8_t)(a->n_unbond - k);
    touch(s, a);
}

static void release_due(struct octo_ledger_state *s, uint64_t now)
{
    while (s->due_n > 0 && s->due[s->due_head].release_ms <= now) {
        uint32_t idx = s->due[s->due_head].idx;
        s->due_head++;
        s->due_n--;
        release_account(s, &s->objs[idx].u.a, now);
    }
}

static int cmp_due(const void *a, const void *b)
{
    const struct due *x = a, *y = b;
    if (x->release_ms != y->release_ms)
        return x->release_ms < y->release_ms ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int rebuild_due(struct octo_ledger_state *s)
{
    s->due_head = s->due_n = 0;
    for (uint32_t i = 0; i < s->n_objs; i++) {
        const struct obj *o = &s->objs[i];
        if (o->type != OBJ_ACCOUNT)
            continue;
        int rc = due_reserve(s, o->u.a.n_unbond);
        if (rc != 0)
            return rc;
        for (unsigned k = 0; k < o->u.a.n_unbond; k++)
            s->due[s->due_n++] = (struct due){o->u.a.unbond[k].release_ms, i};
    }
    if (s->due_n > 1)
        qsort(s->due, s->due_n, sizeof(*s->due), cmp_due);
    return 0;
}

/* Adds an unbond of `amount` of token to a (a free entry was checked). */
static void unbond(struct octo_ledger_state *s, struct octo_account *a, uint8_t token,
                   uint64_t amount)
{
    OCTO_ASSERT(a->n_unbond < OCTO_LEDGER_UNBOND_MAX && amount > 0);
    uint64_t release = s->time_ms + s->p.unbond_ms;
    a->unbond[a->n_unbond++] = (struct octo_unbond){token, amount, release};
    due_push(s, release, account_idx(s, a));
}

/* Takes bps of a's OCTO stake (staked, then unbonding, oldest first) and burns it. */
static void slash(struct octo_ledger_state *s, struct octo_account *a, uint32_t bps)
{
    uint64_t total = a->staked[OCTO_TOKEN_OCTO];
    for (unsigned k = 0; k < a->n_unbond; k++)
        if (a->unbond[k].token == OCTO_TOKEN_OCTO)
            total += a->unbond[k].amount;
    uint64_t cut = mul_div(total, bps, BPS);
    uint64_t take = cut < a->staked[OCTO_TOKEN_OCTO] ? cut : a->staked[OCTO_TOKEN_OCTO];
    a->staked[OCTO_TOKEN_OCTO] -= take;
    uint64_t left = cut - take;
    unsigned w = 0;
    for (unsigned k = 0; k < a->n_unbond; k++) {
        struct octo_unbond u = a->unbond[k];
        if (u.token == OCTO_TOKEN_OCTO && left > 0) {
            uint64_t t = left < u.amount ? left : u.amount;
            u.amount -= t;
            left -= t;
        }
        if (u.amount > 0)
            a->unbond[w++] = u;
    }
    a->n_unbond = (uint8_t)w;
    OCTO_ASSERT(left == 0);
    s->burned[OCTO_TOKEN_OCTO] += cut;
    s->stats.slashes++;
    touch(s, a);
}

/* ---- the operations ---------------------------------------------------------------------------
 */

static int op_transfer(struct octo_ledger_state *s, struct octo_account *a, const struct octo_tx *t)
{
    uint8_t tok = t->u.transfer.token;
    uint64_t amt = t->u.transfer.amount;
    if (a->balance[tok] < amt)
        return OCTO_TXR_INSUFFICIENT;
    if (account(s, t->u.transfer.to) == NULL && room(s, 1) != 0)
        return OCTO_TXR_FULL;
    uint32_t ai = account_idx(s, a); /* creating may move the array */
    struct octo_account *b = account_make(s, t->u.transfer.to);
    a = &s->objs[ai].u.a;
    a->balance[tok] -= amt;
    b->balance[tok] += amt;
    touch(s, b);
    return OCTO_TXR_OK;
}

static int op_register(struct octo_ledger_state *s, struct octo_account *a, uint8_t role)
{
    if (a->role != OCTO_STAKE_NONE)
        return OCTO_TXR_ALREADY_REGISTERED;
    if (role == OCTO_STAKE_VALIDATOR && a->jailed)
        return OCTO_TXR_JAILED;
    uint64_t octo = s->p.stake_octo[role], tok_amt = s->p.stake_token[role];
    unsigned tok = octo_stake_role_token(role);
    if (a->balance[OCTO_TOKEN_OCTO] < octo || (tok < OCTO_TOKENS && a->balance[tok] < tok_amt))
        return OCTO_TXR_INSUFFICIENT;
    a->balance[OCTO_TOKEN_OCTO] -= octo;
    a->staked[OCTO_TOKEN_OCTO] += octo;
    if (tok < OCTO_TOKENS) {
        a->balance[tok] -= tok_amt;
        a->staked[tok] += tok_amt;
    }
    a->role = role;
    return OCTO_TXR_OK;
}

static int op_stake(struct octo_ledger_state *s, struct octo_account *a, uint64_t amt)
{
    (void)s;
    if (a->role == OCTO_STAKE_NONE)
        return OCTO_TXR_NOT_REGISTERED;
    if (a->balance[OCTO_TOKEN_OCTO] < amt)
        return OCTO_TXR_INSUFFICIENT;
    a->balance[OCTO_TOKEN_OCTO] -= amt;
    a->staked[OCTO_TOKEN_OCTO] += amt;
    return OCTO_TXR_OK;
}

static int op_unstake(struct octo_ledger_state *s, struct octo_account *a, uint64_t amt)
{
    if (a->role == OCTO_STAKE_NONE)
        return OCTO_TXR_NOT_REGISTERED;
    if (a->staked[OCTO_TOKEN_OCTO] < amt)
        return OCTO_TXR_INSUFFICIENT;
    uint64_t left = a->staked[OCTO_TOKEN_OCTO] - amt;
    bool exit = left == 0;
    if (!exit && left < s->p.stake_octo[a->role])
        return OCTO_TXR_STAKE_TOO_LOW;
    unsigned tok = octo_stake_role_token(a->role);
    bool tok_too = exit && tok < OCTO_TOKENS && a->staked[tok] > 0;
    if (a->n_unbond + 1u + (tok_too ? 1u : 0u) > OCTO_LEDGER_UNBOND_MAX)
        return OCTO_TXR_UNBOND_FULL;
    a->staked[OCTO_TOKEN_OCTO] = left;
    unbond(s, a, OCTO_TOKEN_OCTO, amt);
    if (tok_too) {
        uint64_t t = a->staked[tok];
        a->staked[tok] = 0;
        unbond(s, a, (uint8_t)tok, t);
    }
    if (exit)
        a->role = OCTO_STAKE_NONE;
    return OCTO_TXR_OK;
}

static struct octo_escrow *escrow(struct octo_ledger_state *s, const uint8_t task[32])
{
    uint32_t i = find(s, OBJ_ESCROW, task);
    return i == UINT32_MAX ? NULL : &s->objs[i].u.e;
}

static void touch_escrow(struct octo_ledger_state *s, const struct octo_escrow *e)
{
    mark_changed(
        s,
        (uint32_t)(((const struct obj *)((const uint8_t *)e - offsetof(struct obj, u))) - s->objs));
}

static int op_escrow(struct octo_ledger_state *s, struct octo_account *a, const struct octo_tx *t)
{
    if (escrow(s, t->u.escrow.task) != NULL)
        return OCTO_TXR_ESCROW_EXISTS;
    const struct octo_account *o = account(s, t->u.escrow.orchestrator);
    if (o == NULL || o->role != OCTO_STAKE_ORCHESTRATOR)
        return OCTO_TXR_NOT_ORCHESTRATOR;
    if (t->u.escrow.expires_ms <= s->time_ms)
        return OCTO_TXR_EXPIRY_PASSED;
    if (a->balance[OCTO_TOKEN_OCTO] < t->u.escrow.amount)
        return OCTO_TXR_INSUFFICIENT;
    if (room(s, 1) != 0)
        return OCTO_TXR_FULL;
    uint32_t ai = account_idx(s, a);
    struct octo_escrow *e = &s->objs[create(s, OBJ_ESCROW, t->u.escrow.task)].u.e;
    a = &s->objs[ai].u.a;
    memcpy(e->requester, t->from, 32);
    memcpy(e->orchestrator, t->u.escrow.orchestrator, 32);
    e->amount = t->u.escrow.amount;
    e->expires_ms = t->u.escrow.expires_ms;
    e->state = OCTO_ESCROW_OPEN;
    a->balance[OCTO_TOKEN_OCTO] -= e->amount;
    return OCTO_TXR_OK;
}

static int op_refund(struct octo_ledger_state *s, struct octo_account *a, const struct octo_tx *t)
{
    struct octo_escrow *e = escrow(s, t->u.task);
    if (e == NULL)
        return OCTO_TXR_NO_ESCROW;
    if (memcmp(e->requester, a->addr, 32) != 0)
        return OCTO_TXR_NOT_REQUESTER;
    if (e->state != OCTO_ESCROW_OPEN)
        return OCTO_TXR_ESCROW_CLOSED;
    if (s->time_ms < e->expires_ms)
        return OCTO_TXR_NOT_EXPIRED;
    a->balance[OCTO_TOKEN_OCTO] += e->amount;
    e->state = OCTO_ESCROW_REFUNDED;
    touch_escrow(s, e);
    return OCTO_TXR_OK;
}

/* What a receipt must match in its escrow: open, this orchestrator, this requester. */
static int receipt_escrow(struct octo_ledger_state *s, const struct octo_receipt *r,
                          const uint8_t from[32], struct octo_escrow **out)
{
    struct octo_escrow *e = escrow(s, r->task);
    if (e == NULL)
        return OCTO_TXR_NO_ESCROW;
    if (e->state != OCTO_ESCROW_OPEN)
        return OCTO_TXR_ESCROW_CLOSED;
    if (memcmp(e->orchestrator, from, 32) != 0 || memcmp(r->orchestrator, from, 32) != 0)
        return OCTO_TXR_NOT_ORCHESTRATOR;
    if (memcmp(e->requester, r->requester, 32) != 0)
        return OCTO_TXR_RECEIPT_MISMATCH;
    const struct octo_account *p = account(s, r->provider);
    if (p == NULL || !is_provider(p->role))
        return OCTO_TXR_NOT_PROVIDER;
    *out = e;
    return OCTO_TXR_OK;
}

static void credit(struct octo_ledger_state *s, const uint8_t addr[32], uint64_t amt)
{
    struct octo_account *a = account(s, addr);
    OCTO_ASSERT(a != NULL); /* providers, requesters, treasury, governance all exist */
    a->balance[OCTO_TOKEN_OCTO] += amt;
    touch(s, a);
}

static int op_settle(struct octo_ledger_state *s, struct octo_account *a, const struct octo_tx *t)
{
    if (a->role != OCTO_STAKE_ORCHESTRATOR)
        return OCTO_TXR_NOT_ORCHESTRATOR;
    uint16_t n = t->u.settle.count;
    const uint8_t *base = t->u.settle.receipts;
    for (uint16_t i = 0; i < n; i++) {
        struct octo_receipt r;
        if (octo_receipt_decode(base + (size_t)i * OCTO_RECEIPT_LEN, OCTO_RECEIPT_LEN, &r) != 0)
            return OCTO_TXR_MALFORMED;
        struct octo_escrow *e;
        int rc = receipt_escrow(s, &r, a->addr, &e);
        if (rc != OCTO_TXR_OK)
            return rc;
        if (r.price > e->amount)
            return OCTO_TXR_OVER_ESCROW;
        for (uint16_t j = 0; j < i; j++) /* the task id is the receipt's first field */
            if (memcmp(base + (size_t)j * OCTO_RECEIPT_LEN + 1, r.task, 32) == 0)
                return OCTO_TXR_DUPLICATE_TASK;
    }
    uint32_t ai = account_idx(s, a);
    for (uint16_t i = 0; i < n; i++) {
        struct octo_receipt r;
        int rc = octo_receipt_decode(base + (size_t)i * OCTO_RECEIPT_LEN, OCTO_RECEIPT_LEN, &r);
        OCTO_ASSERT(rc == 0);
        struct octo_escrow *e = escrow(s, r.task);
        OCTO_ASSERT(e != NULL); /* checked in the first pass */
        uint64_t price = r.price;
        uint64_t prov = mul_div(price, 70, 100);
        uint64_t orch = mul_div(price, 10, 100);
        uint64_t treas = orch;
        uint64_t gov = mul_div(price, 5, 100);
        uint64_t burn = price - prov - orch - treas - gov;
        credit(s, r.provider, prov);
        credit(s, s->objs[ai].u.a.addr, orch);
        credit(s, s->p.treasury, treas);
        credit(s, s->p.governance, gov);
        s->burned[OCTO_TOKEN_OCTO] += burn;
        if (e->amount > price)
            credit(s, e->requester, e->amount - price);
        e->state = OCTO_ESCROW_SETTLED;
        touch_escrow(s, e);
        s->stats.receipts_settled++;
    }
    return OCTO_TXR_OK;
}

static int op_slash_failed(struct octo_ledger_state *s, struct octo_account *a,
                           const struct octo_tx *t)
{
    if (a->role != OCTO_STAKE_ORCHESTRATOR)
        return OCTO_TXR_NOT_ORCHESTRATOR;
    struct octo_escrow *e;
    int rc = receipt_escrow(s, &t->u.receipt, a->addr, &e);
    if (rc != OCTO_TXR_OK)
        return rc;
    credit(s, e->requester, e->amount);
    e->state = OCTO_ESCROW_FAILED;
    touch_escrow(s, e);
    slash(s, account(s, t->u.receipt.provider), s->p.slash_failed_bps);
    return OCTO_TXR_OK;
}

static int op_slash_double(struct octo_ledger_state *s, const struct octo_tx *t)
{
    const struct octo_evidence *ev = t->u.slash.ev;
    const uint8_t *pk = t->u.slash.offender;
    if (!octo_evidence_conflict(s->chain_id, &ev[0], &ev[1]))
        return OCTO_TXR_BAD_EVIDENCE;
    struct octo_pubkey key;
    memcpy(key.bytes, pk, 32);
    for (int i = 0; i < 2; i++) {
        uint8_t msg[OCTO_CONS_VOTE_SIGNED_MAX];
        size_t n = octo_evidence_signed(s->chain_id, &ev[i], msg);
        if (octo_pubkey_verify(&key, msg, n, ev[i].sig) != 0)
            return OCTO_TXR_BAD_EVIDENCE;
    }
    /* a validator now, or one whose stake is still bonded or unbonding */
    const struct octo_account *v = account(s, pk);
    bool staked = v != NULL && v->staked[OCTO_TOKEN_OCTO] > 0;
    for (unsigned k = 0; v != NULL && k < v->n_unbond; k++)
        staked = staked || v->unbond[k].token == OCTO_TOKEN_OCTO;
    if (!staked)
        return OCTO_TXR_NOT_VALIDATOR;
    uint8_t mark[32], in[sizeof(mark_tag) - 1 + 32 + 8];
    memcpy(in, mark_tag, sizeof(mark_tag) - 1);
    memcpy(in + sizeof(mark_tag) - 1, pk, 32);
    octo_store_be64(in + sizeof(mark_tag) - 1 + 32, ev[0].view);
    octo_sha256(in, sizeof(in), mark);
    if (find(s, OBJ_MARK, mark) != UINT32_MAX)
        return OCTO_TXR_EVIDENCE_SEEN;
    if (room(s, 1) != 0)
        return OCTO_TXR_FULL;
    create(s, OBJ_MARK, mark);
    struct octo_account *a = account(s, pk);
    OCTO_ASSERT(a != NULL); /* it has stake: checked above */
    a->jailed = 1;
    slash(s, a, s->p.slash_double_bps);
    return OCTO_TXR_OK;
}

/* ---- one transaction ----------------------------------------------------------------------- */

static int run_op(struct octo_ledger_state *s, struct octo_account *a, const struct octo_tx *t)
{
    switch (t->type) {
    case OCTO_TX_TRANSFER:
        return op_transfer(s, a, t);
    case OCTO_TX_REGISTER:
        return op_register(s, a, t->u.role);
    case OCTO_TX_STAKE:
        return op_stake(s, a, t->u.amount);
    case OCTO_TX_UNSTAKE:
        return op_unstake(s, a, t->u.amount);
    case OCTO_TX_ESCROW:
        return op_escrow(s, a, t);
    case OCTO_TX_REFUND:
        return op_refund(s, a, t);
    case OCTO_TX_SETTLE:
        return op_settle(s, a, t);
    case OCTO_TX_SLASH_DOUBLE:
        return op_slash_double(s, t);
    case OCTO_TX_SLASH_FAILED:
        return op_slash_failed(s, a, t);
    default:
        return OCTO_TXR_MALFORMED;
    }
}

static int run_tx(struct octo_ledger_state *s, const struct octo_block_tx *bt,
                  const uint8_t proposer[32])
{
    struct octo_tx t;
    if (octo_tx_decode(bt->p, bt->len, &t) != 0)
        return OCTO_TXR_MALFORMED;
    struct octo_account *a = account(s, t.from);
    if (a == NULL)
        return OCTO_TXR_NO_ACCOUNT;
    if (t.nonce != a->nonce)
        return OCTO_TXR_BAD_NONCE;
    if (t.fee < s->p.min_fee)
        return OCTO_TXR_FEE_TOO_LOW;
    if (a->balance[OCTO_TOKEN_OCTO] < t.fee)
        return OCTO_TXR_CANNOT_PAY_FEE;
    a->balance[OCTO_TOKEN_OCTO] -= t.fee;
    a->nonce++;
    touch(s, a);
    struct octo_account *p = account(s, proposer);
    if (p != NULL) {
        p->balance[OCTO_TOKEN_OCTO] += t.fee;
        touch(s, p);
    } else {
        s->burned[OCTO_TOKEN_OCTO] += t.fee; /* a proposer without an account */
    }
    int r = run_op(s, a, &t);
    a = account(s, t.from); /* an operation may have grown the array */
    touch(s, a);
    return r;
}

/* ---- epochs ------------------------------------------------------------------------------ */

static int cmp_val(const void *x, const void *y)
{
    const struct octo_cons_validator *a = x, *b = y;
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    return memcmp(a->pk, b->pk, 32);
}

/* The next epoch's set: registered, unjailed validators at or over the minimum stake, the
 * max_validators largest, largest first (ties by key). Unchanged when none qualifies. */
static void next_validators(struct octo_ledger_state *s)
{
    struct octo_cons_validator top[OCTO_CONS_VALIDATORS_MAX];
    uint32_t n = 0, max = s->p.max_validators;
    for (uint32_t i = 0; i < s->n_objs; i++) {
        const struct obj *o = &s->objs[i];
        if (o->type != OBJ_ACCOUNT || o->u.a.role != OCTO_STAKE_VALIDATOR || o->u.a.jailed ||
            o->u.a.staked[OCTO_TOKEN_OCTO] < s->p.stake_octo[OCTO_STAKE_VALIDATOR])
            continue;
        struct octo_cons_validator c;
        memcpy(c.pk, o->u.a.addr, 32);
        c.weight = o->u.a.staked[OCTO_TOKEN_OCTO];
        if (n == max && cmp_val(&c, &top[n - 1]) >= 0)
            continue;                       /* not among the largest */
        uint32_t k = n < max ? n++ : n - 1; /* insertion into the sorted prefix */
        while (k > 0 && cmp_val(&c, &top[k - 1]) < 0) {
            top[k] = top[k - 1];
            k--;
        }
        top[k] = c;
    }
    if (n == 0)
        return;
    bool same = n == s->n_val;
    for (uint32_t i = 0; same && i < n; i++)
        same = memcmp(&top[i], &s->val[i], sizeof(top[i])) == 0;
    if (!same) {
        memcpy(s->val, top, n * sizeof(top[0]));
        s->n_val = n;
        s->val_changed = true;
    }
}

/* ---- the public calls ------------------------------------------------------------------------ */

int octo_ledger_apply(struct octo_ledger *l, const struct octo_ledger_block_ctx *ctx,
                      const struct octo_block_tx *txs, uint32_t n, uint8_t *results)
{
    struct octo_ledger_state *s = l->st;
    if (ctx->height != s->height + 1 || ctx->time_ms < s->time_ms ||
        ctx->time_ms >= OCTO_LEDGER_SUPPLY_MAX)
        return OCTO_ESTATE;
    /* Memory first, so a block either runs whole or not at all: a transaction creates at
     * most one object and queues at most two unbonds. Only the object limit, the same on
     * every validator, can then refuse a creation. */
    uint64_t want = (uint64_t)s->n_objs + n;
    int rc = reserve(s, want < OCTO_LEDGER_OBJECTS_MAX ? (uint32_t)want : OCTO_LEDGER_OBJECTS_MAX);
    if (rc == 0)
        rc = due_reserve(s, (size_t)n * 2);
    if (rc != 0)
        return rc;
    for (uint32_t k = 0; k < s->n_changed; k++)
        OCTO_ASSERT(!s->objs[s->changed[k]].changed);
    s->n_changed = 0;
    s->val_changed = false;
    s->height = ctx->height;
    s->time_ms = ctx->time_ms;
    release_due(s, s->time_ms);
    for (uint32_t i = 0; i < n; i++) {
        int r = run_tx(s, &txs[i], ctx->proposer);
        results[i] = (uint8_t)r;
        if (r == OCTO_TXR_OK)
            s->stats.txs_ok++;
        else if (octo_tx_result_charged(r))
            s->stats.txs_failed++;
        else
            s->stats.txs_skipped++;
    }
    if (s->height % s->p.epoch_blocks == 0) {
        s->epoch++;
        next_validators(s);
    }
    s->stats.blocks++;
    rehash(s);
    return 0;
}

static int genesis(struct octo_ledger_state *s, const struct octo_ledger_genesis *g)
{
    const struct octo_ledger_params *p = &g->params;
    if (!params_ok(p) || g->n_validators == 0 || g->n_validators > p->max_validators ||
        (g->n_allocs > 0 && g->allocs == NULL) || g->validators == NULL ||
        g->n_allocs > OCTO_LEDGER_OBJECTS_MAX / 2)
        return OCTO_EINVAL;
    int rc = reserve(s, g->n_allocs + g->n_validators + 2);
    if (rc != 0)
        return rc;
    struct octo_account *ta = account_make(s, p->treasury);
    (void)ta;
    account_make(s, p->governance);
    for (uint32_t i = 0; i < g->n_allocs; i++) {
        const struct octo_ledger_alloc *al = &g->allocs[i];
        if (octo_all_zero(al->addr, 32))
            return OCTO_EINVAL;
        struct octo_account *a = account(s, al->addr);
        bool special =
            memcmp(al->addr, p->treasury, 32) == 0 || memcmp(al->addr, p->governance, 32) == 0;
        if (a != NULL && !special)
            return OCTO_EINVAL; /* listed twice */
        a = account_make(s, al->addr);
        for (int t = 0; t < OCTO_TOKENS; t++) {
            if (al->amount[t] >= OCTO_LEDGER_SUPPLY_MAX - s->supply[t])
                return OCTO_EINVAL;
            a->balance[t] += al->amount[t];
            s->supply[t] += al->amount[t];
        }
    }
    for (uint32_t i = 0; i < g->n_validators; i++) {
        const struct octo_ledger_genesis_validator *v = &g->validators[i];
        if (octo_all_zero(v->pk, 32) || v->stake < p->stake_octo[OCTO_STAKE_VALIDATOR] ||
            v->stake >= OCTO_LEDGER_SUPPLY_MAX - s->supply[OCTO_TOKEN_OCTO])
            return OCTO_EINVAL;
        struct octo_account *a = account_make(s, v->pk);
        if (a->role != OCTO_STAKE_NONE)
            return OCTO_EINVAL;
        a->role = OCTO_STAKE_VALIDATOR;
        a->staked[OCTO_TOKEN_OCTO] = v->stake;
        s->supply[OCTO_TOKEN_OCTO] += v->stake;
        memcpy(s->val[i].pk, v->pk, 32);
        s->val[i].weight = v->stake;
    }
    s->n_val = g->n_validators;
    qsort(s->val, s->n_val, sizeof(s->val[0]), cmp_val);
    s->height = 0;
    s->time_ms = g->time_ms;
    rehash(s);
    return 0;
}

int octo_ledger_init(struct octo_ledger *l, const struct octo_ledger_genesis *g,
                     const uint8_t hash_key[OCTO_LEDGER_HASH_KEY_LEN])
{
    if (l == NULL || g == NULL || hash_key == NULL)
        return OCTO_EINVAL;
    l->st = NULL;
    struct octo_ledger_state *s = octo_calloc(1, sizeof(*s));
    if (s == NULL)
        return OCTO_ENOMEM;
    memcpy(s->chain_id, g->chain_id, 32);
    memcpy(s->hash_key, hash_key, sizeof(s->hash_key));
    s->p = g->params;
    l->st = s;
    int rc = genesis(s, g);
    if (rc != 0) {
        octo_ledger_deinit(l);
        return rc;
    }
    return 0;
}

void octo_ledger_deinit(struct octo_ledger *l)
{
    struct octo_ledger_state *s = l->st;
    if (s == NULL)
        return;
    octo_free(s->objs);
    octo_free(s->slots);
    octo_free(s->changed);
    octo_free(s->scratch);
    octo_free(s->due);
    for (int i = 0; i < LEVELS; i++)
        octo_free(s->level[i]);
    octo_free(s);
    l->st = NULL;
}

uint64_t octo_ledger_height(const struct octo_ledger *l)
{
    return l->st->height;
}

uint64_t octo_ledger_time(const struct octo_ledger *l)
{
    return l->st->time_ms;
}

const uint8_t *octo_ledger_chain_id(const struct octo_ledger *l)
{
    return l->st->chain_id;
}

const struct octo_ledger_params *octo_ledger_params(const struct octo_ledger *l)
{
    return &l->st->p;
}

void octo_ledger_root(const struct octo_ledger *l, uint8_t root[32])
{
    memcpy(root, l->st->root, 32);
}

int octo_ledger_root_at(const struct octo_ledger *l, uint64_t height, uint8_t root[32])
{
    const struct octo_ledger_state *s = l->st;
    if (height > s->height || height < s->roots_from)
        return OCTO_ENOTFOUND;
    memcpy(root, s->roots[height % OCTO_LEDGER_ROOTS_KEPT], 32);
    return 0;
}

const struct octo_ledger_stats *octo_ledger_stats(const struct octo_ledger *l)
{
    return &l->st->stats;
}

int octo_ledger_account(const struct octo_ledger *l, const uint8_t addr[OCTO_ADDR_LEN],
                        struct octo_account *out)
{
    const struct octo_account *a = account(l->st, addr);
    if (a == NULL)
        return OCTO_ENOTFOUND;
    *out = *a;
    return 0;
}

int octo_ledger_escrow(const struct octo_ledger *l, const uint8_t task[32], struct octo_escrow *out)
{
    const struct octo_escrow *e = escrow(l->st, task);
    if (e == NULL)
        return OCTO_ENOTFOUND;
    *out = *e;
    return 0;
}

uint32_t octo_ledger_validators(const struct octo_ledger *l, struct octo_cons_validator *out,
                                uint32_t max)
{
    uint32_t n = l->st->n_val < max ? l->st->n_val : max;
    memcpy(out, l->st->val, n * sizeof(*out));
    return l->st->n_val;
}

bool octo_ledger_validators_changed(const struct octo_ledger *l)
{
    return l->st->val_changed;
}

void octo_ledger_supply(const struct octo_ledger *l, uint64_t supply[OCTO_TOKENS],
                        uint64_t burned[OCTO_TOKENS])
{
    memcpy(supply, l->st->supply, sizeof(l->st->supply));
    memcpy(burned, l->st->burned, sizeof(l->st->burned));
}

/* sum += v, false on overflow (a state this far off is reported, not wrapped). */
static bool add_to(uint64_t *sum, uint64_t v)
{
    return !__builtin_add_overflow(*sum, v, sum);
}

int octo_ledger_audit(const struct octo_ledger *l)
{
    const struct octo_ledger_state *s = l->st;
    uint64_t sum[OCTO_TOKENS];
    memcpy(sum, s->burned, sizeof(sum));
    bool ok = true;
    for (uint32_t i = 0; ok && i < s->n_objs; i++) {
        const struct obj *o = &s->objs[i];
        if (o->type == OBJ_ACCOUNT) {
            ok = account_ok(&o->u.a);
            for (int t = 0; ok && t < OCTO_TOKENS; t++)
                ok = add_to(&sum[t], o->u.a.balance[t]) && add_to(&sum[t], o->u.a.staked[t]);
            for (unsigned k = 0; ok && k < o->u.a.n_unbond; k++)
                ok = add_to(&sum[o->u.a.unbond[k].token], o->u.a.unbond[k].amount);
        } else if (o->type == OBJ_ESCROW && o->u.e.state == OCTO_ESCROW_OPEN) {
            ok = add_to(&sum[OCTO_TOKEN_OCTO], o->u.e.amount);
        }
    }
    for (int t = 0; ok && t < OCTO_TOKENS; t++)
        ok = sum[t] == s->supply[t];
    return ok ? 0 : OCTO_ESTATE;
}

size_t octo_ledger_changed(const struct octo_ledger *l, const uint32_t **idx)
{
    *idx = l->st->changed;
    return l->st->n_changed;
}

uint32_t octo_ledger_objects(const struct octo_ledger *l)
{
    return l->st->n_objs;
}

int octo_ledger_object(const struct octo_ledger *l, uint32_t idx, uint8_t *out, size_t cap)
{
    if (idx >= l->st->n_objs)
        return OCTO_EINVAL;
    if (cap < OCTO_LEDGER_OBJECT_MAX_LEN)
        return OCTO_ENOSPACE;
    return (int)encode_obj(&l->st->objs[idx], out);
}

size_t octo_ledger_meta(const struct octo_ledger *l, uint8_t out[OCTO_LEDGER_META_MAX])
{
    size_t n = encode_meta_body(l->st, out);
    memcpy(out + n, l->st->root, 32);
    return n + 32;
}

int octo_ledger_load_object(struct octo_ledger *l, uint32_t idx, const uint8_t *in, size_t len)
{
    struct octo_ledger_state *s = l->st;
    if (idx > s->n_objs || len > OCTO_LEDGER_OBJECT_MAX_LEN)
        return OCTO_EMALFORMED;
    struct obj o;
    int rc = decode_obj(in, len, &o);
    if (rc != 0)
        return rc;
    if (!s->loading) { /* genesis's changed list is not the loader's: load_meta rehashes all */
        for (uint32_t k = 0; k < s->n_changed; k++)
            s->objs[s->changed[k]].changed = 0;
        s->n_changed = 0;
        s->loading = true;
    }
    if (idx < s->n_objs) { /* a newer version of an object: same type and key */
        struct obj *cur = &s->objs[idx];
        if (cur->type != o.type || memcmp(obj_key(cur), obj_key(&o), 32) != 0)
            return OCTO_EMALFORMED;
        *cur = o;
        return 0;
    }
    if (find(s, o.type, obj_key(&o)) != UINT32_MAX)
        return OCTO_EMALFORMED;
    rc = room(s, 1);
    if (rc != 0)
        return rc == OCTO_ENOSPACE ? OCTO_EMALFORMED : rc;
    uint32_t n = create(s, o.type, obj_key(&o));
    s->objs[n].u = o.u;
    return 0;
}

/* What a loaded state must satisfy beyond its root: the supply adds up, open escrows name
 * existing accounts, no unbond is due later than one unbonding period after the state's time,
 * and the validator set is ordered, unique and staked. */
static bool loaded_state_ok(const struct octo_ledger *l)
{
    const struct octo_ledger_state *s = l->st;
    if (octo_ledger_audit(l) != 0 || s->n_val > s->p.max_validators)
        return false;
    for (uint32_t i = 0; i < s->n_objs; i++) {
        const struct obj *o = &s->objs[i];
        if (o->type == OBJ_ESCROW && o->u.e.state == OCTO_ESCROW_OPEN &&
            (find(s, OBJ_ACCOUNT, o->u.e.requester) == UINT32_MAX ||
             find(s, OBJ_ACCOUNT, o->u.e.orchestrator) == UINT32_MAX))
            return false;
        if (o->type == OBJ_ACCOUNT)
            for (unsigned k = 0; k < o->u.a.n_unbond; k++)
                if (o->u.a.unbond[k].release_ms > s->time_ms + s->p.unbond_ms)
                    return false;
    }
    for (uint32_t i = 0; i < s->n_val; i++) {
        if (s->val[i].weight == 0 || find(s, OBJ_ACCOUNT, s->val[i].pk) == UINT32_MAX)
            return false;
        if (i > 0 && cmp_val(&s->val[i - 1], &s->val[i]) >= 0)
            return false;
    }
    return find(s, OBJ_ACCOUNT, s->p.treasury) != UINT32_MAX &&
           find(s, OBJ_ACCOUNT, s->p.governance) != UINT32_MAX;
}

int octo_ledger_load_meta(struct octo_ledger *l, const uint8_t *in, size_t len)
{
    struct octo_ledger_state *s = l->st;
    const size_t fixed = 28 + 12 * 8 + 1;
    if (len < fixed + 32)
        return OCTO_EMALFORMED;
    uint32_t n_val = in[fixed - 1];
    if (n_val == 0 || n_val > OCTO_CONS_VALIDATORS_MAX || len != fixed + n_val * 40u + 32)
        return OCTO_EMALFORMED;
    if (octo_load_be32(in + 24) != s->n_objs)
        return OCTO_EMALFORMED;
    uint64_t time_ms = octo_load_be64(in + 8);
    if (time_ms >= OCTO_LEDGER_SUPPLY_MAX)
        return OCTO_EMALFORMED;
    const uint8_t *r = in + 28;
    for (int t = 0; t < OCTO_TOKENS; t++, r += 8)
        if (octo_load_be64(r) != s->supply[t])
            return OCTO_EMALFORMED;
    /* from here on the ledger holds the loaded values: a failed load leaves it unusable */
    s->height = octo_load_be64(in);
    s->time_ms = time_ms;
    s->epoch = octo_load_be64(in + 16);
    for (int t = 0; t < OCTO_TOKENS; t++, r += 8)
        s->burned[t] = octo_load_be64(r);
    r++;
    s->n_val = n_val;
    for (uint32_t i = 0; i < n_val; i++, r += 40) {
        memcpy(s->val[i].pk, r, 32);
        s->val[i].weight = octo_load_be64(r + 32);
    }
    /* every leaf is rehashed: the tree is rebuilt from the objects as loaded */
    for (uint32_t k = 0; k < s->n_changed; k++)
        s->objs[s->changed[k]].changed = 0;
    s->n_changed = 0;
    for (uint32_t i = 0; i < s->n_objs; i++) {
        s->objs[i].changed = 1;
        s->changed[s->n_changed++] = i;
    }
    s->roots_from = s->height;
    rehash(s);
    s->n_changed = 0;
    s->loading = false;
    if (memcmp(s->root, r, 32) != 0 || !loaded_state_ok(l))
        return OCTO_EMALFORMED;
    return rebuild_due(s);
}
