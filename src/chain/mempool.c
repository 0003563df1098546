/*
 * mempool.c — waiting transactions (rules: mempool.h).
 *
 * Entries and accounts live in two growable arrays addressed by index, each with a free list
 * and a chained hash index (SipHash of the id or the address under the node's key; chains
 * through the entries, so removal is unlinking). An account keeps its entries' indexes sorted
 * by nonce in a small array (at most OCTO_MEMPOOL_PER_ACCOUNT_MAX), which is all the nonce
 * ordering needs. Selection puts each account's first selectable entry in a max-heap by fee
 * (ties: the earlier arrival), pops the best, and pushes that account's next entry when its
 * nonce follows; the nonce an account starts from is the ledger's, moved past what the
 * block's unfinalized ancestors (given by the caller) already use. Eviction scans the accounts'
 * last entries for the cheapest: it only runs when the pool is full.
 */
#include "chain/mempool.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"

#include <sodium.h>
#include <string.h>

#define NONE UINT32_MAX

struct ent {
    uint8_t id[OCTO_TX_ID_LEN];
    uint64_t nonce, fee, seq;
    uint8_t *bytes;
    uint32_t len;
    uint32_t acct;
    uint32_t chain; /* next in its id bucket, or next free */
    bool used;
};

struct acc {
    uint8_t addr[OCTO_ADDR_LEN];
    uint32_t chain; /* next in its address bucket, or next free */
    uint32_t n;
    uint32_t vn;   /* eviction planning scratch: n after the planned evictions */
    uint64_t next; /* selection scratch: the nonce the block being filled needs next */
    uint32_t tx[OCTO_MEMPOOL_PER_ACCOUNT_MAX]; /* entries by nonce */
    bool used;
};

struct heap_item {
    uint64_t fee, seq;
    uint32_t acct, pos; /* the entry at acc.tx[pos] */
};

struct octo_mempool_state {
    struct octo_mempool_config cfg;
    struct ent *ents;
    uint32_t n_ents, cap_ents, free_ent;
    struct acc *accs;
    uint32_t n_accs, cap_accs, free_acc;
    uint32_t *id_bucket, *acc_bucket;
    uint32_t mask;
    size_t count;
    uint64_t bytes, seq;
    struct heap_item *heap;
    uint32_t *plan; /* accounts whose last entry goes, in order (make room) */
    struct octo_mempool_stats stats;
};

_Static_assert(sizeof(((struct octo_mempool_config *)0)->hash_key) == crypto_shorthash_KEYBYTES,
               "SipHash key size");

const char *octo_mempool_reason_str(int reason)
{
    switch (reason) {
#define OCTO_MPR_STR(name, value, msg)                                                             \
    case value:                                                                                    \
        return msg;
        OCTO_MEMPOOL_REASONS(OCTO_MPR_STR)
#undef OCTO_MPR_STR
    default:
        return "unknown";
    }
}

static uint32_t bucket(const struct octo_mempool_state *s, const uint8_t key[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, 32, s->cfg.hash_key);
    return (uint32_t)octo_load_be64(h) & s->mask;
}

int octo_mempool_init(struct octo_mempool *m, const struct octo_mempool_config *cfg)
{
    m->st = NULL;
    if (cfg == NULL || cfg->max_txs == 0 || cfg->max_txs > OCTO_MEMPOOL_TXS_MAX ||
        cfg->max_bytes < OCTO_TX_MAX)
        return OCTO_EINVAL;
    struct octo_mempool_state *s = octo_calloc(1, sizeof(*s));
    if (s == NULL)
        return OCTO_ENOMEM;
    s->cfg = *cfg;
    uint32_t nb = 1024;
    while (nb < cfg->max_txs)
        nb *= 2;
    s->mask = nb - 1;
    s->id_bucket = octo_malloc((size_t)nb * sizeof(uint32_t));
    s->acc_bucket = octo_malloc((size_t)nb * sizeof(uint32_t));
    s->heap = octo_malloc((size_t)cfg->max_txs * sizeof(*s->heap));
    s->plan = octo_malloc((size_t)cfg->max_txs * sizeof(*s->plan));
    s->free_ent = s->free_acc = NONE;
    m->st = s;
    if (s->id_bucket == NULL || s->acc_bucket == NULL || s->heap == NULL || s->plan == NULL) {
        octo_mempool_deinit(m);
        return OCTO_ENOMEM;
    }
    memset(s->id_bucket, 0xff, (size_t)nb * sizeof(uint32_t));
    memset(s->acc_bucket, 0xff, (size_t)nb * sizeof(uint32_t));
    return 0;
}

void octo_mempool_deinit(struct octo_mempool *m)
{
    struct octo_mempool_state *s = m->st;
    if (s == NULL)
        return;
    for (uint32_t i = 0; i < s->n_ents; i++)
        if (s->ents[i].used)
            octo_free(s->ents[i].bytes);
    octo_free(s->ents);
    octo_free(s->accs);
    octo_free(s->id_bucket);
    octo_free(s->acc_bucket);
    octo_free(s->heap);
    octo_free(s->plan);
    octo_free(s);
    m->st = NULL;
}

/* ---- the indexes -------------------------------------------------------------------------- */

static uint32_t find_ent(const struct octo_mempool_state *s, const uint8_t id[32])
{
    for (uint32_t i = s->id_bucket[bucket(s, id)]; i != NONE; i = s->ents[i].chain)
        if (memcmp(s->ents[i].id, id, 32) == 0)
            return i;
    return NONE;
}

static uint32_t find_acc(const struct octo_mempool_state *s, const uint8_t addr[32])
{
    for (uint32_t i = s->acc_bucket[bucket(s, addr)]; i != NONE; i = s->accs[i].chain)
        if (memcmp(s->accs[i].addr, addr, 32) == 0)
            return i;
    return NONE;
}

/* Room for one more entry and one more account, so that inserting cannot fail. */
static int reserve_one(struct octo_mempool_state *s)
{
    if (s->free_ent == NONE && s->n_ents == s->cap_ents) {
        uint32_t cap = s->cap_ents ? s->cap_ents * 2 : 256;
        struct ent *e = octo_realloc(s->ents, (size_t)cap * sizeof(*e));
        if (e == NULL)
            return OCTO_ENOMEM;
        s->ents = e;
        s->cap_ents = cap;
    }
    if (s->free_acc == NONE && s->n_accs == s->cap_accs) {
        uint32_t cap = s->cap_accs ? s->cap_accs * 2 : 64;
        struct acc *a = octo_realloc(s->accs, (size_t)cap * sizeof(*a));
        if (a == NULL)
            return OCTO_ENOMEM;
        s->accs = a;
        s->cap_accs = cap;
    }
    return 0;
}

static uint32_t new_ent(struct octo_mempool_state *s)
{
    if (s->free_ent != NONE) {
        uint32_t i = s->free_ent;
        s->free_ent = s->ents[i].chain;
        return i;
    }
    OCTO_ASSERT(s->n_ents < s->cap_ents);
    return s->n_ents++;
}

static uint32_t new_acc(struct octo_mempool_state *s, const uint8_t addr[32])
{
    uint32_t i;
    if (s->free_acc != NONE) {
        i = s->free_acc;
        s->free_acc = s->accs[i].chain;
    } else {
        OCTO_ASSERT(s->n_accs < s->cap_accs);
        i = s->n_accs++;
    }
    struct acc *a = &s->accs[i];
    memcpy(a->addr, addr, 32);
    a->n = 0;
    a->used = true;
    uint32_t b = bucket(s, addr);
    a->chain = s->acc_bucket[b];
    s->acc_bucket[b] = i;
    return i;
}

static void drop_acc(struct octo_mempool_state *s, uint32_t i)
{
    struct acc *a = &s->accs[i];
    OCTO_ASSERT(a->used && a->n == 0);
    uint32_t *p = &s->acc_bucket[bucket(s, a->addr)];
    while (*p != i)
        p = &s->accs[*p].chain;
    *p = a->chain;
    a->used = false;
    a->chain = s->free_acc;
    s->free_acc = i;
}

/* Removes entry `pos` of account ai (and the account when it empties). */
static void remove_at(struct octo_mempool_state *s, uint32_t ai, uint32_t pos)
{
    struct acc *a = &s->accs[ai];
    uint32_t ei = a->tx[pos];
    struct ent *e = &s->ents[ei];
    uint32_t *p = &s->id_bucket[bucket(s, e->id)];
    while (*p != ei)
        p = &s->ents[*p].chain;
    *p = e->chain;
    octo_free(e->bytes);
    e->bytes = NULL;
    e->used = false;
    e->chain = s->free_ent;
    s->free_ent = ei;
    s->count--;
    s->bytes -= e->len;
    memmove(&a->tx[pos], &a->tx[pos + 1], (a->n - pos - 1) * sizeof(a->tx[0]));
    a->n--;
    if (a->n == 0)
        drop_acc(s, ai);
}

/* ---- admission ------------------------------------------------------------------------------ */

/* What the sender must hold in OCTO (fee included) and in another token for t. */
static int covers(const struct octo_account *a, const struct octo_tx *t)
{
    uint64_t octo = t->fee, other = 0;
    unsigned tok = OCTO_TOKENS;
    if (t->type == OCTO_TX_TRANSFER) {
        if (t->u.transfer.token == OCTO_TOKEN_OCTO) {
            octo += t->u.transfer.amount;
        } else {
            tok = t->u.transfer.token;
            other = t->u.transfer.amount;
        }
    } else if (t->type == OCTO_TX_STAKE) {
        octo += t->u.amount;
    } else if (t->type == OCTO_TX_ESCROW) {
        octo += t->u.escrow.amount;
    }
    if (a->balance[OCTO_TOKEN_OCTO] < t->fee)
        return OCTO_MPR_CANNOT_PAY_FEE;
    if (octo < t->fee || a->balance[OCTO_TOKEN_OCTO] < octo) /* octo < fee: overflowed */
        return OCTO_MPR_INSUFFICIENT;
    if (tok < OCTO_TOKENS && a->balance[tok] < other)
        return OCTO_MPR_INSUFFICIENT;
    return OCTO_MPR_OK;
}

static int refuse(struct octo_mempool_state *s, int reason)
{
    s->stats.refused[reason]++;
    return reason;
}

/* Plans the evictions that make room for `count` entries of `bytes` in all, each evicting the
 * cheapest last entry (lower fee, then later arrival) of an account other than keep, cheaper
 * than fee. Returns how many (in s->plan, by account), or -1 when room cannot be made:
 * nothing is changed either way. */
static int64_t plan_room(struct octo_mempool_state *s, uint64_t count, uint64_t bytes, uint64_t fee,
                         uint32_t keep)
{
    for (uint32_t i = 0; i < s->n_accs; i++)
        s->accs[i].vn = s->accs[i].used ? s->accs[i].n : 0;
    uint32_t k = 0;
    while (count > s->cfg.max_txs || bytes > s->cfg.max_bytes) {
        uint32_t best = NONE, best_acc = NONE;
        for (uint32_t i = 0; i < s->n_accs; i++) {
            const struct acc *a = &s->accs[i];
            if (a->vn == 0 || i == keep)
                continue;
            const struct ent *e = &s->ents[a->tx[a->vn - 1]];
            if (best == NONE || e->fee < s->ents[best].fee ||
                (e->fee == s->ents[best].fee && e->seq > s->ents[best].seq)) {
                best = a->tx[a->vn - 1];
                best_acc = i;
            }
        }
        if (best == NONE || s->ents[best].fee >= fee)
            return -1;
        OCTO_ASSERT(k < s->cfg.max_txs);
        s->plan[k++] = best_acc;
        s->accs[best_acc].vn--;
        count--;
        bytes -= s->ents[best].len;
    }
    return k;
}

/* Drops entries of account ai whose nonces the ledger has passed (a block may have been
 * applied without octo_mempool_finalized, after a restore or a sync). */
static void drop_stale(struct octo_mempool_state *s, uint32_t ai, uint64_t nonce)
{
    while (s->accs[ai].used && s->accs[ai].n > 0 && s->ents[s->accs[ai].tx[0]].nonce < nonce) {
        remove_at(s, ai, 0);
        s->stats.removed++;
    }
}

int octo_mempool_add(struct octo_mempool *m, const struct octo_ledger *l, const uint8_t *tx,
                     size_t len, uint8_t id[OCTO_TX_ID_LEN])
{
    struct octo_mempool_state *s = m->st;
    if (len > OCTO_TX_MAX)
        return refuse(s, OCTO_MPR_TOO_BIG);
    struct octo_tx t;
    if (octo_tx_decode(tx, len, &t) != 0)
        return refuse(s, OCTO_MPR_MALFORMED);
    octo_tx_id(tx, len, id);
    if (find_ent(s, id) != NONE)
        return refuse(s, OCTO_MPR_DUPLICATE);
    if (t.fee < octo_ledger_params(l)->min_fee)
        return refuse(s, OCTO_MPR_FEE_TOO_LOW);
    struct octo_account a;
    if (octo_ledger_account(l, t.from, &a) != 0)
        return refuse(s, OCTO_MPR_NO_ACCOUNT);
    if (t.nonce < a.nonce)
        return refuse(s, OCTO_MPR_NONCE_USED);
    if (t.nonce - a.nonce >= OCTO_MEMPOOL_PER_ACCOUNT_MAX)
        return refuse(s, OCTO_MPR_NONCE_TOO_FAR);
    int rc = covers(&a, &t);
    if (rc != OCTO_MPR_OK)
        return refuse(s, rc);
    /* the signature last: it is the expensive check */
    if (octo_tx_verify(s->cfg.chain_id, tx, len, &t) != 0)
        return refuse(s, OCTO_MPR_BAD_SIGNATURE);

    uint32_t ai = find_acc(s, t.from);
    if (ai != NONE) {
        drop_stale(s, ai, a.nonce);
        ai = find_acc(s, t.from);
    }
    uint32_t pos = 0, old = NONE;
    if (ai != NONE) {
        const struct acc *ac = &s->accs[ai];
        while (pos < ac->n && s->ents[ac->tx[pos]].nonce < t.nonce)
            pos++;
        if (pos < ac->n && s->ents[ac->tx[pos]].nonce == t.nonce) {
            old = ac->tx[pos];
            uint64_t f = s->ents[old].fee;          /* <= a balance, so < 2^62 */
            if (t.fee < f + f / 10 + (f % 10 != 0)) /* at least 10 % more */
                return refuse(s, OCTO_MPR_NONCE_TAKEN);
        }
    }
    /* everything that can fail comes before the first change */
    uint64_t count = s->count + 1 - (old != NONE), bytes = s->bytes + len;
    if (old != NONE)
        bytes -= s->ents[old].len;
    int64_t evict = plan_room(s, count, bytes, t.fee, ai);
    if (evict < 0)
        return refuse(s, OCTO_MPR_FULL);
    uint8_t *copy = octo_malloc(len);
    if (copy == NULL || reserve_one(s) != 0) {
        octo_free(copy);
        return OCTO_ENOMEM;
    }
    memcpy(copy, tx, len);
    if (old != NONE) {
        remove_at(s, ai, pos); /* replaced */
        s->stats.replaced++;
    }
    for (int64_t k = 0; k < evict; k++) {
        remove_at(s, s->plan[k], s->accs[s->plan[k]].n - 1);
        s->stats.evicted++;
    }
    ai = find_acc(s, t.from); /* the replaced entry may have been its only one */
    if (ai == NONE) {
        ai = new_acc(s, t.from);
        pos = 0;
    }
    uint32_t ei = new_ent(s);
    struct ent *e = &s->ents[ei];
    memcpy(e->id, id, 32);
    e->nonce = t.nonce;
    e->fee = t.fee;
    e->seq = s->seq++;
    e->bytes = copy;
    e->len = (uint32_t)len;
    e->acct = ai;
    e->used = true;
    uint32_t b = bucket(s, id);
    e->chain = s->id_bucket[b];
    s->id_bucket[b] = ei;
    struct acc *ac = &s->accs[ai];
    OCTO_ASSERT(ac->n < OCTO_MEMPOOL_PER_ACCOUNT_MAX); /* nonces in [a.nonce, a.nonce + 63] */
    OCTO_ASSERT(pos <= ac->n);
    memmove(&ac->tx[pos + 1], &ac->tx[pos], (ac->n - pos) * sizeof(ac->tx[0]));
    ac->tx[pos] = ei;
    ac->n++;
    s->count++;
    s->bytes += len;
    s->stats.accepted++;
    return OCTO_MPR_OK;
}

/* ---- selection ------------------------------------------------------------------------------ */

static bool heap_less(const struct heap_item *a, const struct heap_item *b)
{
    /* "a below b": lower fee, or equal fee and later arrival */
    return a->fee < b->fee || (a->fee == b->fee && a->seq > b->seq);
}

static void heap_push(struct heap_item *h, uint32_t *n, struct heap_item it)
{
    uint32_t i = (*n)++;
    while (i > 0 && heap_less(&h[(i - 1) / 2], &it)) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = it;
}

static struct heap_item heap_pop(struct heap_item *h, uint32_t *n)
{
    struct heap_item top = h[0], last = h[--*n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap_less(&h[c], &h[c + 1]))
            c++;
        if (!heap_less(&last, &h[c]))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = last;
    return top;
}

static struct heap_item item(const struct octo_mempool_state *s, uint32_t ai, uint32_t pos)
{
    const struct ent *e = &s->ents[s->accs[ai].tx[pos]];
    return (struct heap_item){e->fee, e->seq, ai, pos};
}

/* Each pooled account's next nonce for the block being filled: the ledger's, moved past what
 * the pending ancestors use. */
static void next_nonces(struct octo_mempool_state *s, const struct octo_ledger *l,
                        const struct octo_block_tx *pending, uint32_t n_pending)
{
    for (uint32_t ai = 0; ai < s->n_accs; ai++) {
        struct acc *a = &s->accs[ai];
        struct octo_account la;
        if (a->used)
            a->next = octo_ledger_account(l, a->addr, &la) == 0 ? la.nonce : UINT64_MAX;
    }
    for (uint32_t i = 0; i < n_pending; i++) {
        if (pending[i].len < OCTO_TX_HDR_LEN)
            continue;
        uint32_t ai = find_acc(s, pending[i].p + 2); /* from: after version and type */
        if (ai != NONE && octo_load_be64(pending[i].p + 34) == s->accs[ai].next)
            s->accs[ai].next++;
    }
}

uint32_t octo_mempool_select(struct octo_mempool *m, const struct octo_ledger *l,
                             const struct octo_block_tx *pending, uint32_t n_pending,
                             struct octo_block_builder *b, uint32_t max_txs)
{
    struct octo_mempool_state *s = m->st;
    next_nonces(s, l, pending, n_pending);
    uint32_t hn = 0;
    for (uint32_t ai = 0; ai < s->n_accs; ai++) {
        const struct acc *a = &s->accs[ai];
        if (!a->used)
            continue;
        for (uint32_t pos = 0; pos < a->n; pos++) {
            uint64_t nonce = s->ents[a->tx[pos]].nonce;
            if (nonce < a->next)
                continue; /* used already, or by an ancestor */
            if (nonce == a->next)
                heap_push(s->heap, &hn, item(s, ai, pos));
            break; /* the next one, or a gap */
        }
    }
    uint32_t taken = 0;
    while (hn > 0 && taken < max_txs) {
        struct heap_item it = heap_pop(s->heap, &hn);
        const struct acc *a = &s->accs[it.acct];
        const struct ent *e = &s->ents[a->tx[it.pos]];
        int rc = octo_block_build_add(b, e->bytes, e->len);
        if (rc == OCTO_ENOSPACE && e->len > OCTO_TX_TRANSFER_LEN)
            continue; /* a smaller one may still fit */
        if (rc != 0)
            break;
        taken++;
        uint32_t np = it.pos + 1;
        if (np < a->n && s->ents[a->tx[np]].nonce == e->nonce + 1)
            heap_push(s->heap, &hn, item(s, it.acct, np));
    }
    return taken;
}

void octo_mempool_finalized(struct octo_mempool *m, const struct octo_ledger *l,
                            const struct octo_block_tx *txs, uint32_t n)
{
    struct octo_mempool_state *s = m->st;
    for (uint32_t i = 0; i < n; i++) {
        if (txs[i].len < OCTO_TX_HDR_LEN)
            continue;
        const uint8_t *from = txs[i].p + 2;
        uint32_t ai = find_acc(s, from);
        if (ai == NONE)
            continue;
        struct octo_account la;
        uint64_t nonce = octo_ledger_account(l, from, &la) == 0 ? la.nonce : 0;
        drop_stale(s, ai, nonce);
    }
}

bool octo_mempool_has(void *m, const uint8_t id[OCTO_TX_ID_LEN])
{
    return find_ent(((struct octo_mempool *)m)->st, id) != NONE;
}

size_t octo_mempool_count(const struct octo_mempool *m)
{
    return m->st->count;
}

uint64_t octo_mempool_bytes(const struct octo_mempool *m)
{
    return m->st->bytes;
}

const struct octo_mempool_stats *octo_mempool_stats(const struct octo_mempool *m)
{
    return &m->st->stats;
}
