/*
 * validator.c — the chain service (validator.h): the shell that drives the consensus core
 * with time, messages and payloads, persists what it asks, and turns finalized blocks into
 * ledger state and blockstore rows.
 *
 * drive() runs the actions of one core call: first every PERSIST is appended to the WAL and
 * the WAL synced once, then the rest in order, so nothing the batch sends leaves before all it
 * persists is durable (the "persist before send" rule, for the whole batch at once). FINALIZED
 * applies the block (ledger, then one blockstore transaction, then the pool). NEED_PAYLOAD and a
 * validator-set change are remembered and handled after the batch, because they call the core again
 * (the batch's data points into the core). Consensus frames and timers end in drive().
 *
 * Transactions: gossiped ones wait in a bounded admission queue drained 128 per loop turn (an
 * idle handle), so consensus messages never wait behind thousands of signature checks; a
 * proposal's transactions not admitted yet are admitted when it is validated (never proposing
 * from there: validate runs inside the core). A client's transaction is relayed to the
 * validators of the set; another validator's is not.
 *
 * Set ends: the block after which the validator set changes is committed with its
 * finalization certificate (chain_proofs); hello frames (on stream open, after a set change,
 * on a 2 s stall) let a node behind ask for it, and its core then fetches the blocks up to it.
 *
 * Peers: every other validator of the set is dialed at its genesis addresses (with its
 * /p2p id) and an outbound /octo/chain/1.0.0 stream is kept to it for what we send; what
 * it sends arrives on its own stream to us. Bytes a stream does not take are queued (at most
 * OCTO_CHAIN_PEER_QUEUE_MAX per peer, then dropped and counted: the core rebroadcasts on a
 * stall). A broken stream is reopened after a second.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "base/hex.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "node/fs.h"
#include "node/validator_int.h"
#include "store/chainstore.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDIAL_MS 1000
#define DIAL_TICK_MS 250
#define CLOCK_DRIFT_MS 2000 /* how far ahead of our clock a block's time may be */
#define STALL_MS 2000       /* no finalized block for this long: say hello to every peer */
#define HELLO_ANSWER_MS 500 /* one answer per peer at most this often */
#define CERT_ENC_MAX 8192   /* an encoded certificate (64 signatures: 4,147 bytes) fits */

uint64_t val_now_ms(const struct octo_validator *v)
{
    return octo_clock_mono(v->cfg.clock) / OCTO_NS_PER_MS;
}

uint64_t val_now_us(const struct octo_validator *v)
{
    return octo_clock_mono(v->cfg.clock) / 1000;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

uint32_t val_finality_us(const struct octo_validator *v, unsigned permille)
{
    size_t n = v->n_finality < VAL_FINALITY_KEPT ? (size_t)v->n_finality : VAL_FINALITY_KEPT;
    if (n == 0)
        return 0;
    static uint32_t sorted[VAL_FINALITY_KEPT];
    memcpy(sorted, v->finality_us, n * sizeof(sorted[0]));
    qsort(sorted, n, sizeof(sorted[0]), cmp_u32);
    size_t k = n * permille / 1000;
    return sorted[k < n ? k : n - 1];
}

uint64_t val_wall_ms(const struct octo_validator *v)
{
    int64_t w = octo_clock_wall(v->cfg.clock);
    return w > 0 ? (uint64_t)w / OCTO_NS_PER_MS : 0;
}

static void drive(struct octo_validator *v, struct octo_cons_out *out);
static void settle(struct octo_validator *v);

/* Something the node cannot continue after (a WAL or blockstore write failed, a finalized
 * block does not apply): stop here, a restart resumes from what is on disk. */
static _Noreturn void fatal(const char *what)
{
    OCTO_ERROR("chain: %s: stopping", what);
    octo_assert_fail(what, __FILE__, __LINE__, __func__);
}

/* ---- peers and frames ----------------------------------------------------------------------- */

static struct val_peer *peer_by_pk(struct octo_validator *v, const uint8_t pk[32])
{
    for (uint32_t i = 0; i < v->n_peers; i++)
        if (memcmp(v->peers[i].pk, pk, 32) == 0)
            return &v->peers[i];
    return NULL;
}

/* The index in the current set of the validator behind an inbound stream, or
 * OCTO_CONS_TO_ALL. The key was taken from the peer id once, when the stream came (decoding it
 * checks the point: as costly as a signature check, too much for every frame). */
static uint32_t index_of_in(const struct octo_validator *v, const struct val_in *in)
{
    if (!in->has_pk)
        return OCTO_CONS_TO_ALL;
    for (uint32_t i = 0; i < v->n_vals; i++)
        if (memcmp(v->vals[i].pk, in->pk, 32) == 0)
            return i;
    return OCTO_CONS_TO_ALL;
}

static void peer_flush(struct val_peer *p)
{
    while (p->q_len > 0 && p->open) {
        int n = octo_net_stream_write(p->out, p->q, p->q_len);
        if (n <= 0)
            return;
        memmove(p->q, p->q + n, p->q_len - (size_t)n);
        p->q_len -= (size_t)n;
    }
}

/* Queues one frame (kind | body) for a peer; drops it when the peer's queue is full. */
static void peer_send(struct val_peer *p, uint8_t kind, const uint8_t *body, size_t len)
{
    struct octo_validator *v = p->v;
    if (!p->open) {
        v->stats.frames_dropped++;
        return;
    }
    size_t need = p->q_len + 5 + len;
    if (need > OCTO_CHAIN_PEER_QUEUE_MAX) {
        v->stats.frames_dropped++;
        return;
    }
    if (need > p->q_cap) {
        size_t cap = p->q_cap ? p->q_cap : 64 * 1024;
        while (cap < need)
            cap *= 2;
        uint8_t *q = octo_realloc(p->q, cap);
        if (q == NULL) {
            v->stats.frames_dropped++;
            return;
        }
        p->q = q;
        p->q_cap = cap;
    }
    octo_store_be32(p->q + p->q_len, (uint32_t)(1 + len));
    p->q[p->q_len + 4] = kind;
    memcpy(p->q + p->q_len + 5, body, len);
    p->q_len = need;
    v->stats.frames_out++;
    peer_flush(p);
}

static void send_to_index(struct octo_validator *v, uint32_t to, uint8_t kind, const uint8_t *body,
                          size_t len)
{
    if (to == OCTO_CONS_TO_ALL) {
        for (uint32_t i = 0; i < v->n_peers; i++)
            peer_send(&v->peers[i], kind, body, len);
        return;
    }
    if (to >= v->n_vals || to == v->self)
        return;
    struct val_peer *p = peer_by_pk(v, v->vals[to].pk);
    if (p != NULL)
        peer_send(p, kind, body, len);
}

/* Tells a peer our finalized height; one that knows more answers with what takes us on (a
 * proof of the block that ended our validator set, or its last finalization). */
static void send_hello(struct val_peer *p)
{
    if (!p->open)
        return;
    uint8_t h[8];
    octo_store_be64(h, octo_ledger_height(&p->v->ledger));
    peer_send(p, OCTO_CHAIN_FRAME_HELLO, h, sizeof(h));
    p->v->stats.hellos_sent++;
}

static void hello_all(struct octo_validator *v)
{
    v->hello_ms = val_now_ms(v);
    for (uint32_t i = 0; i < v->n_peers; i++)
        send_hello(&v->peers[i]);
}

static void on_peer_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct val_peer *p = ctx;
    (void)s;
    if (status != 0) {
        p->retry_at_ms = val_now_ms(p->v) + REDIAL_MS;
        return;
    }
    p->open = true;
    send_hello(p);
    peer_flush(p);
}

static void on_peer_writable(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    peer_flush(ctx);
}

static void on_peer_close(struct octo_net_stream *s, int status, void *ctx)
{
    struct val_peer *p = ctx;
    (void)s;
    (void)status;
    p->out = NULL;
    p->open = false;
    p->q_len = 0;
    p->retry_at_ms = val_now_ms(p->v) + REDIAL_MS;
}

static const struct octo_net_stream_ops peer_ops = {
    .on_open = on_peer_open,
    .on_writable = on_peer_writable,
    .on_close = on_peer_close,
};

static void open_stream(struct val_peer *p)
{
    int rc =
        octo_net_stream_open(p->v->cfg.net, &p->id, OCTO_CHAIN_PROTOCOL, &peer_ops, p, &p->out);
    if (rc != 0) {
        p->out = NULL;
        p->retry_at_ms = val_now_ms(p->v) + REDIAL_MS;
    }
}

static void on_dialed(struct octo_net *n, int status, const struct octo_peerid *peer, void *ctx)
{
    struct val_peer *p = ctx;
    (void)n;
    (void)peer;
    p->dialing = false;
    if (p->v->stopped)
        return;
    if (status != 0) {
        p->retry_at_ms = val_now_ms(p->v) + REDIAL_MS;
        return;
    }
    open_stream(p);
}

/* The address to dial: the genesis one with /p2p/<id> appended. */
static int dial_addr(const struct val_peer *p, struct octo_multiaddr *out)
{
    *out = p->addrs[p->next_addr % p->n_addrs];
    return octo_multiaddr_push(out, OCTO_MA_P2P, p->id.bytes, p->id.len);
}

/* Remembers where an identified peer listens (TCP addresses only, at most
 * OCTO_GENESIS_ADDRS_MAX), replacing the oldest entry when the book is full. */
static void on_identify(struct octo_net *n, const struct octo_net_peer_info *info, void *ctx)
{
    struct octo_validator *v = ctx;
    (void)n;
    struct octo_pubkey pk;
    if (info->peer == NULL || octo_peerid_pubkey(info->peer, &pk) != 0 ||
        info->listen_addrs_count == 0)
        return;
    struct val_book *e = NULL;
    for (size_t i = 0; i < v->n_book && e == NULL; i++)
        if (memcmp(v->book[i].pk, pk.bytes, 32) == 0)
            e = &v->book[i];
    if (e == NULL) {
        e = v->n_book < VAL_BOOK_MAX ? &v->book[v->n_book++]
                                     : &v->book[v->book_next++ % VAL_BOOK_MAX];
        memcpy(e->pk, pk.bytes, 32);
    }
    e->n_addrs = 0;
    for (size_t i = 0; i < info->listen_addrs_count && e->n_addrs < OCTO_GENESIS_ADDRS_MAX; i++) {
        struct sockaddr_storage ss;
        struct octo_peerid id;
        bool has;
        if (octo_net_multiaddr_to_sockaddr(&info->listen_addrs[i], &ss, &id, &has) == 0)
            e->addrs[e->n_addrs++] = info->listen_addrs[i];
    }
}

/* Addresses for a peer that has none yet (a validator not in the genesis): from the book. */
static void peer_lookup(struct octo_validator *v, struct val_peer *p)
{
    for (size_t i = 0; i < v->n_book; i++) {
        if (memcmp(v->book[i].pk, p->pk, 32) == 0) {
            memcpy(p->addrs, v->book[i].addrs, v->book[i].n_addrs * sizeof(p->addrs[0]));
            p->n_addrs = v->book[i].n_addrs;
            return;
        }
    }
}

static struct val_peer *peer_add(struct octo_validator *v, const uint8_t pk[32])
{
    if (v->n_peers == VAL_PEERS_MAX)
        return NULL;
    struct val_peer *p = &v->peers[v->n_peers++];
    memset(p, 0, sizeof(*p));
    p->v = v;
    memcpy(p->pk, pk, 32);
    struct octo_pubkey key;
    memcpy(key.bytes, pk, 32);
    octo_peerid_from_pubkey(&key, &p->id);
    return p;
}

/* Every validator of the current set has a peer (the genesis ones keep theirs): one that
 * joined later is dialed at the addresses identify told us. */
static void peers_for_set(struct octo_validator *v)
{
    for (uint32_t i = 0; i < v->n_peers; i++)
        v->peers[i].in_set = false;
    for (uint32_t i = 0; i < v->n_vals; i++) {
        if (i == v->self)
            continue;
        struct val_peer *p = peer_by_pk(v, v->vals[i].pk);
        if (p == NULL && (p = peer_add(v, v->vals[i].pk)) != NULL)
            peer_lookup(v, p);
        if (p != NULL)
            p->in_set = true;
    }
}

static void on_dial_timer(uv_timer_t *t)
{
    struct octo_validator *v = t->data;
    uint64_t now = val_now_ms(v);
    uint64_t height = octo_ledger_height(&v->ledger);
    if (height != v->progress_height) {
        v->progress_height = height;
        v->progress_ms = now;
    } else if (now - v->progress_ms >= STALL_MS && now - v->hello_ms >= STALL_MS) {
        hello_all(v); /* stuck: perhaps behind a validator set change we did not see */
    }
    for (uint32_t i = 0; i < v->n_peers; i++) {
        struct val_peer *p = &v->peers[i];
        if (p->n_addrs == 0)
            peer_lookup(v, p);
        if (p->out != NULL || p->dialing || now < p->retry_at_ms || p->n_addrs == 0)
            continue;
        struct octo_multiaddr ma;
        if (dial_addr(p, &ma) != 0)
            continue;
        p->next_addr++;
        p->dialing = true;
        if (octo_net_dial(v->cfg.net, &ma, on_dialed, p) != 0) {
            p->dialing = false;
            p->retry_at_ms = now + REDIAL_MS;
        }
    }
}

/* ---- transactions ------------------------------------------------------------------------- */

/* A leader waiting for transactions proposes once the gossip that arrived has been admitted
 * (or a block's worth is waiting): proposing at the first one would make blocks of a slice
 * each, and every block costs votes and synced writes on every validator. */
static void propose_when_ready(struct octo_validator *v)
{
    if (!v->idle_wait || v->driving || v->validating)
        return; /* never from inside the core (validate runs within octo_cons_receive) */
    if (v->admit_off < v->admit_len && octo_mempool_count(&v->pool) < v->cfg.block_txs_max)
        return;
    v->idle_wait = false; /* the timer runs on: a wait again in this view keeps its deadline */
    v->want_propose = true;
    v->propose_view = v->idle_view;
    settle(v);
}

int val_submit(struct octo_validator *v, const uint8_t *tx, size_t len, uint8_t id[32], bool relay)
{
    int r = octo_mempool_add(&v->pool, &v->ledger, tx, len, id);
    if (r == OCTO_MPR_OK) {
        if (relay) {
            for (uint32_t i = 0; i < v->n_peers; i++)
                if (v->peers[i].in_set)
                    peer_send(&v->peers[i], OCTO_CHAIN_FRAME_TX, tx, len);
            v->stats.tx_gossip_out++;
        }
        propose_when_ready(v);
    }
    return r;
}

/* Gossiped transactions wait in v->admit and are admitted OCTO_CHAIN_ADMIT_SLICE per loop
 * turn, so the consensus messages that arrive meanwhile are handled between slices instead of
 * behind thousands of signature checks (a leader's proposal stuck behind them made the others
 * time out and skip its view). */
static void on_admit_idle(uv_idle_t *h)
{
    struct octo_validator *v = h->data;
    for (unsigned k = 0; k < OCTO_CHAIN_ADMIT_SLICE && v->admit_off < v->admit_len; k++) {
        uint32_t n = octo_load_be32(v->admit + v->admit_off);
        const uint8_t *f = v->admit + v->admit_off + 4;
        uint8_t id[32];
        (void)val_submit(v, f + 1, n - 1, id, f[0] != 0);
        v->admit_off += 4 + (size_t)n;
    }
    if (v->admit_off == v->admit_len) {
        v->admit_off = v->admit_len = 0;
        uv_idle_stop(h);
        propose_when_ready(v);
    }
}

static void admit_later(struct octo_validator *v, const uint8_t *tx, size_t len, bool relay)
{
    if (len > OCTO_TX_MAX) { /* no transaction is that long: not worth a queue slot */
        v->stats.frames_bad++;
        return;
    }
    size_t need = 5 + len;
    if (v->stopped || v->admit_len - v->admit_off + need > OCTO_CHAIN_ADMIT_BYTES_MAX) {
        v->stats.tx_admit_dropped++;
        return;
    }
    if (v->admit_off > 0 && v->admit_len + need > v->admit_cap) { /* drop what was admitted */
        memmove(v->admit, v->admit + v->admit_off, v->admit_len - v->admit_off);
        v->admit_len -= v->admit_off;
        v->admit_off = 0;
    }
    if (v->admit_len + need > v->admit_cap) {
        size_t cap = v->admit_cap ? v->admit_cap : 256 * 1024;
        while (cap < v->admit_len + need)
            cap *= 2;
        uint8_t *b = octo_realloc(v->admit, cap);
        if (b == NULL) {
            v->stats.tx_admit_dropped++;
            return;
        }
        v->admit = b;
        v->admit_cap = cap;
    }
    octo_store_be32(v->admit + v->admit_len, (uint32_t)(1 + len));
    v->admit[v->admit_len + 4] = relay;
    memcpy(v->admit + v->admit_len + 5, tx, len);
    v->admit_len += need;
    if (!uv_is_active((uv_handle_t *)&v->admit_idle))
        uv_idle_start(&v->admit_idle, on_admit_idle);
}

/* ---- proposing ------------------------------------------------------------------------------ */

/* The unfinalized ancestors' transactions into v->pending; their newest block time into
 * *parent_time (the ledger's when there are none). Returns the count or an error. */
static int gather_pending(struct octo_validator *v, uint64_t view, uint64_t *parent_time)
{
    static struct octo_cons_pending anc[OCTO_CONS_WINDOW];
    int n = octo_cons_pending(&v->cons, view, anc, OCTO_CONS_WINDOW);
    *parent_time = octo_ledger_time(&v->ledger);
    if (n < 0)
        return n;
    size_t total = 0;
    for (int k = 0; k < n; k++) {
        struct octo_block_hdr h;
        if (octo_block_parse(anc[k].payload, anc[k].len, &h, v->scratch->txs) != 0)
            return OCTO_EMALFORMED;
        if (total + h.n_tx > v->pending_cap) {
            size_t cap = v->pending_cap ? v->pending_cap : 1024;
            while (cap < total + h.n_tx)
                cap *= 2;
            struct octo_block_tx *p = octo_realloc(v->pending, cap * sizeof(*p));
            if (p == NULL)
                return OCTO_ENOMEM;
            v->pending = p;
            v->pending_cap = cap;
        }
        if (h.n_tx > 0)
            memcpy(v->pending + total, v->scratch->txs, h.n_tx * sizeof(*v->pending));
        total += h.n_tx;
        if (h.time_ms > *parent_time)
            *parent_time = h.time_ms;
    }
    return (int)total;
}

static void remember_proposal(struct octo_validator *v, uint64_t view)
{
    struct val_proposed *p = &v->proposed[view % VAL_PROPOSED_KEPT];
    p->view = view;
    p->at_us = val_now_us(v);
}

static void wait_idle(struct octo_validator *v, uint64_t view);

/* Proposes for view; without `empty_ok`, a pool holding nothing this block may take (gaps in
 * nonces, or everything already in the unfinalized ancestors) waits like an empty one instead
 * of making empty blocks as fast as they finalize. */
static void propose(struct octo_validator *v, uint64_t view, bool empty_ok)
{
    uint64_t parent_time;
    int np = gather_pending(v, view, &parent_time);
    struct octo_block_builder b;
    octo_block_build_init(&b, v->payload, OCTO_CONS_PAYLOAD_MAX);
    if (np >= 0)
        octo_mempool_select(&v->pool, &v->ledger, v->pending, (uint32_t)np, &b,
                            v->cfg.block_txs_max);
    if (b.n_tx == 0 && !empty_ok && np >= 0) { /* np < 0: the core asks for the parent */
        wait_idle(v, view);
        return;
    }
    uint64_t t = val_wall_ms(v);
    if (t <= parent_time)
        t = parent_time + 1;
    uint8_t root[32];
    octo_ledger_root(&v->ledger, root);
    int len = octo_block_build_finish(&b, t, octo_ledger_height(&v->ledger), root, v->scratch);
    OCTO_ASSERT(len > 0);
    int rc = octo_cons_propose(&v->cons, val_now_ms(v), view, v->payload, (size_t)len, v->out2);
    if (rc != 0) {
        OCTO_DEBUG("chain: no proposal for view %llu: %s", (unsigned long long)view,
                   octo_strerror(rc));
        return;
    }
    v->stats.proposals++;
    remember_proposal(v, view);
    drive(v, v->out2);
}

/* The application's rule for a block before this validator votes for it. */
static int validate(void *ctx, const struct octo_cons_block *blk, const uint8_t *payload,
                    size_t len)
{
    struct octo_validator *v = ctx;
    struct octo_block_hdr h;
    int rc = octo_block_parse(payload, len, &h, v->scratch->txs);
    if (rc == 0) {
        /* transactions we have not admitted yet (their gossip may still wait in the queue):
         * admitted now, so each signature is checked once; those the pool refuses are
         * checked by the block check below */
        v->validating = true;
        for (uint32_t i = 0; i < h.n_tx; i++) {
            uint8_t id[32];
            const struct octo_block_tx *t = &v->scratch->txs[i];
            octo_tx_id(t->p, t->len, id);
            if (!octo_mempool_has(&v->pool, id) &&
                val_submit(v, t->p, t->len, id, false) == OCTO_MPR_OK)
                v->stats.tx_from_blocks++;
        }
        v->validating = false;
        uint32_t bad;
        rc = octo_block_check(octo_ledger_chain_id(&v->ledger), &h, v->scratch, octo_mempool_has,
                              &v->pool, &bad);
    }
    if (rc != 0)
        return rc;
    /* block time: after the parent's, not far ahead of ours, under 2^62 */
    uint64_t parent_time = 0;
    uint32_t plen;
    const uint8_t *pp = octo_cons_payload(&v->cons, blk->parent, &plen);
    struct octo_block_hdr ph;
    if (pp != NULL && octo_block_parse(pp, plen, &ph, v->scratch->txs) == 0)
        parent_time = ph.time_ms;
    else if (blk->height == octo_ledger_height(&v->ledger) + 1)
        parent_time = octo_ledger_time(&v->ledger);
    if (h.time_ms <= parent_time || h.time_ms > val_wall_ms(v) + CLOCK_DRIFT_MS ||
        h.time_ms >= OCTO_LEDGER_SUPPLY_MAX)
        return OCTO_ERANGE;
    /* the state it names: an earlier height, with the root we computed there */
    if (h.state_height >= blk->height)
        return OCTO_EMALFORMED;
    uint8_t root[32];
    if (octo_ledger_root_at(&v->ledger, h.state_height, root) == 0 &&
        memcmp(root, h.state_root, 32) != 0)
        return OCTO_ESTATE;
    return 0;
}

/* ---- finalized blocks --------------------------------------------------------------------- */

/* The finality proof of a block that ends a validator set: the certificate of the set that
 * finalized it, as a consensus message (what a node behind the change is sent). Returns its
 * length, 0 when the core holds none for the block. */
static size_t set_end_proof(struct octo_validator *v, const struct octo_cons_action *a,
                            uint8_t out[CERT_ENC_MAX])
{
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_CERT};
    if (octo_cons_final_cert(&v->cons, a->view, a->id, &m.u.cert) != 0) {
        v->stats.proofs_missing++;
        OCTO_WARN("chain: no finalization certificate of block %llu, which ends the validator "
                  "set: nodes behind it must get it from another validator",
                  (unsigned long long)a->height);
        return 0;
    }
    int n = octo_cons_msg_encode(&m, out, CERT_ENC_MAX);
    OCTO_ASSERT(n > 0);
    v->stats.proofs_stored++;
    return (size_t)n;
}

static void commit_block(struct octo_validator *v, const struct octo_cons_action *a,
                         const struct octo_block_hdr *h, const uint8_t *proof, size_t proof_len)
{
    const uint32_t *idx;
    size_t n = octo_ledger_changed(&v->ledger, &idx);
    struct octo_chainstore_object *objs = octo_malloc((n ? n : 1) * sizeof(*objs));
    uint8_t *enc = octo_malloc((n ? n : 1) * OCTO_LEDGER_OBJECT_MAX_LEN);
    if (objs == NULL || enc == NULL)
        fatal("out of memory");
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = enc + i * OCTO_LEDGER_OBJECT_MAX_LEN;
        int len = octo_ledger_object(&v->ledger, idx[i], p, OCTO_LEDGER_OBJECT_MAX_LEN);
        OCTO_ASSERT(len > 0);
        objs[i] = (struct octo_chainstore_object){idx[i], p, (size_t)len};
    }
    for (uint32_t i = 0; i < h->n_tx; i++)
        octo_tx_id(v->scratch->txs[i].p, v->scratch->txs[i].len, v->ids[i]);
    const struct octo_cons_proposal *pr = &a->proposal;
    struct octo_chainstore_block b = {
        .height = a->height,
        .view = a->view,
        .parent_view = pr->block.parent_view,
        .signer = pr->signer,
        .payload = a->data,
        .payload_len = a->len,
        .results = v->results,
        .n_results = h->n_tx,
        .tx_ids = (const uint8_t(*)[32])v->ids,
        .proof = proof_len > 0 ? proof : NULL,
        .proof_len = proof_len,
    };
    memcpy(b.id, a->id, 32);
    memcpy(b.parent, pr->block.parent, 32);
    memcpy(b.sig, pr->sig, 64);
    uint8_t meta[OCTO_LEDGER_META_MAX];
    size_t mlen = octo_ledger_meta(&v->ledger, meta);
    int rc = octo_chainstore_commit(v->cfg.store, &b, objs, n, meta, mlen);
    octo_free(objs);
    octo_free(enc);
    if (rc != 0) {
        /* the ledger moved on in memory but not on disk: stop, a restart resumes from disk */
        OCTO_ERROR("chain: cannot store block %llu: %s (%s)", (unsigned long long)a->height,
                   octo_strerror(rc), octo_store_errmsg(v->cfg.store));
        fatal("blockstore commit failed");
    }
}

static void on_finalized(struct octo_validator *v, const struct octo_cons_action *a)
{
    if (v->reconfig)
        return; /* past an epoch boundary: the new set finalizes what follows */
    if (a->height != octo_ledger_height(&v->ledger) + 1) {
        OCTO_ERROR("chain: finalized height %llu after %llu", (unsigned long long)a->height,
                   (unsigned long long)octo_ledger_height(&v->ledger));
        return;
    }
    struct octo_block_hdr h;
    if (octo_block_parse(a->data, a->len, &h, v->scratch->txs) != 0) {
        OCTO_ERROR("chain: finalized block %llu does not parse", (unsigned long long)a->height);
        fatal("a finalized block does not parse");
    }
    struct octo_ledger_block_ctx ctx = {.height = a->height, .time_ms = h.time_ms};
    if (ctx.time_ms < octo_ledger_time(&v->ledger))
        ctx.time_ms = octo_ledger_time(&v->ledger);
    uint16_t signer = a->proposal.signer;
    if (signer < v->n_vals)
        memcpy(ctx.proposer, v->vals[signer].pk, 32);
    uint8_t claimed[32];
    bool check = octo_ledger_root_at(&v->ledger, h.state_height, claimed) == 0;
    if (check && memcmp(claimed, h.state_root, 32) != 0) {
        v->stats.root_mismatches++;
        OCTO_ERROR("chain: block %llu names state %llu with a root we did not compute",
                   (unsigned long long)a->height, (unsigned long long)h.state_height);
    }
    int rc = octo_ledger_apply(&v->ledger, &ctx, v->scratch->txs, h.n_tx, v->results);
    if (rc != 0) {
        OCTO_ERROR("chain: cannot apply block %llu: %s", (unsigned long long)a->height,
                   octo_strerror(rc));
        fatal("a finalized block cannot be applied");
    }
    bool set_ends = octo_ledger_validators_changed(&v->ledger);
    uint8_t proof[CERT_ENC_MAX];
    commit_block(v, a, &h, proof, set_ends ? set_end_proof(v, a, proof) : 0);
    octo_mempool_finalized(&v->pool, &v->ledger, v->scratch->txs, h.n_tx);
    v->stats.blocks_applied++;
    v->stats.txs_applied += h.n_tx;
    const struct val_proposed *p = &v->proposed[a->view % VAL_PROPOSED_KEPT];
    if (p->view == a->view && p->at_us != 0) {
        uint64_t us = val_now_us(v) - p->at_us;
        v->stats.last_finality_ms = us / 1000;
        v->finality_us[v->n_finality++ % VAL_FINALITY_KEPT] =
            us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
    if (set_ends)
        v->reconfig = true;
}

/* Serves a block the core no longer holds, with up to OCTO_CONS_SYNC_BATCH - 1 ancestors. */
struct fetch_ctx {
    struct octo_validator *v;
    uint32_t to;
    struct val_peer *peer; /* a follower asking: sent to it instead of a validator index */
    uint64_t height;
};

static int fetch_one(void *ctx, const struct octo_chainstore_block *b)
{
    struct fetch_ctx *f = ctx;
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_PROPOSAL};
    struct octo_cons_proposal *p = &m.u.proposal;
    p->block.view = b->view;
    p->block.height = b->height;
    p->block.parent_view = b->parent_view;
    memcpy(p->block.parent, b->parent, 32);
    p->payload = b->payload;
    p->payload_len = (uint32_t)b->payload_len;
    p->signer = b->signer;
    memcpy(p->sig, b->sig, 64);
    static uint8_t enc[OCTO_CONS_MSG_MAX];
    int n = octo_cons_msg_encode(&m, enc, sizeof(enc));
    if (n > 0 && f->peer != NULL)
        peer_send(f->peer, OCTO_CHAIN_FRAME_CONS, enc, (size_t)n);
    else if (n > 0)
        send_to_index(f->v, f->to, OCTO_CHAIN_FRAME_CONS, enc, (size_t)n);
    f->height = b->height;
    return 0;
}

/* Sends block id and up to OCTO_CONS_SYNC_BATCH - 1 ancestors from the blockstore. */
static void serve_from_store(struct fetch_ctx *f, const uint8_t id[32])
{
    if (octo_chainstore_block(f->v->cfg.store, 0, id, fetch_one, f) != 0)
        return;
    for (unsigned k = 1; k < OCTO_CONS_SYNC_BATCH && f->height > 1; k++)
        if (octo_chainstore_block(f->v->cfg.store, f->height - 1, NULL, fetch_one, f) != 0)
            break;
}

static void on_fetch(struct octo_validator *v, const struct octo_cons_action *a)
{
    if (a->to == OCTO_CONS_TO_ALL)
        return;
    struct fetch_ctx f = {v, a->to, NULL, 0};
    serve_from_store(&f, a->id);
}

/* Conflicting messages of validator a->to: a SLASH_DOUBLE transaction from this node. */
static bool evidence_item(const uint8_t *enc, size_t len, struct octo_evidence *e)
{
    struct octo_cons_msg m;
    if (octo_cons_msg_decode(enc, len, &m) != 0)
        return false;
    memset(e, 0, sizeof(*e));
    if (m.type == OCTO_CONS_MSG_VOTE) {
        e->tag = OCTO_EVIDENCE_VOTE;
        e->kind = m.u.vote.kind;
        e->view = m.u.vote.view;
        e->signer = m.u.vote.signer;
        memcpy(e->block, m.u.vote.block, 32);
        memcpy(e->sig, m.u.vote.sig, 64);
        return true;
    }
    if (m.type == OCTO_CONS_MSG_PROPOSAL) {
        e->tag = OCTO_EVIDENCE_HEADER;
        e->header = m.u.proposal.block;
        e->view = m.u.proposal.block.view;
        e->signer = m.u.proposal.signer;
        memcpy(e->sig, m.u.proposal.sig, 64);
        return true;
    }
    return false;
}

static void on_evidence(struct octo_validator *v, const struct octo_cons_action *a)
{
    OCTO_WARN("chain: validator %u signed conflicting messages", a->to);
    if (a->to >= v->n_vals || a->len < 8)
        return;
    size_t l1 = octo_load_be32(a->data);
    if (l1 > a->len - 8 || octo_load_be32(a->data + 4 + l1) != a->len - 8 - l1)
        return;
    struct octo_tx t;
    memset(&t, 0, sizeof(t));
    t.type = OCTO_TX_SLASH_DOUBLE;
    if (!evidence_item(a->data + 4, l1, &t.u.slash.ev[0]) ||
        !evidence_item(a->data + 8 + l1, a->len - 8 - l1, &t.u.slash.ev[1]))
        return;
    memcpy(t.u.slash.offender, v->vals[a->to].pk, 32);
    memcpy(t.from, v->cfg.identity->pub.bytes, 32);
    struct octo_account me;
    if (octo_ledger_account(&v->ledger, t.from, &me) != 0)
        return;
    t.nonce = me.nonce; /* best effort: a pending transaction of ours may hold this nonce */
    t.fee = octo_ledger_params(&v->ledger)->min_fee;
    uint8_t buf[1024], id[32];
    int n = octo_tx_encode(&t, buf, sizeof(buf));
    if (n <= 0)
        return;
    octo_tx_sign(octo_ledger_chain_id(&v->ledger), buf, (size_t)n, v->cfg.identity);
    int r = val_submit(v, buf, (size_t)n, id, true);
    OCTO_INFO("chain: slashing evidence against validator %u submitted: %s", a->to,
              octo_mempool_reason_str(r));
}

/* ---- driving the core ----------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

static void arm_timer(struct octo_validator *v, uint64_t wake_ms)
{
    if (wake_ms == 0 || v->stopped)
        return;
    uint64_t now = val_now_ms(v);
    uint64_t in = wake_ms > now ? wake_ms - now : 0;
    uv_timer_start(&v->timer, on_timer, in, 0);
}

/* Runs a batch's actions in order. Nothing may call the core until the batch is done (its
 * data points into the core): driving is set so that a submit from an action (evidence)
 * only flags a proposal, which settle() makes afterwards. */
static void run_actions(struct octo_validator *v, struct octo_cons_out *out)
{
    bool outer = v->driving;
    v->driving = true;
    /* every record the batch persists first, with one sync: no message of the batch leaves
     * before all of them are durable (stronger than each before its own send) */
    for (size_t i = 0; i < out->n; i++) {
        const struct octo_cons_action *a = &out->acts[i];
        if (a->kind == OCTO_CONS_ACT_PERSIST && octo_wal_append(&v->wal, a->data, a->len) != 0)
            fatal("consensus WAL append failed");
    }
    if (octo_wal_sync(&v->wal) != 0)
        fatal("consensus WAL sync failed");
    for (size_t i = 0; i < out->n; i++) {
        const struct octo_cons_action *a = &out->acts[i];
        switch (a->kind) {
        case OCTO_CONS_ACT_PERSIST:
            break;
        case OCTO_CONS_ACT_SEND:
            send_to_index(v, a->to, OCTO_CHAIN_FRAME_CONS, a->data, a->len);
            break;
        case OCTO_CONS_ACT_NEED_PAYLOAD:
            v->want_propose = true;
            v->propose_view = a->view;
            break;
        case OCTO_CONS_ACT_FINALIZED:
            on_finalized(v, a);
            break;
        case OCTO_CONS_ACT_EVIDENCE:
            on_evidence(v, a);
            break;
        case OCTO_CONS_ACT_FETCH:
            on_fetch(v, a);
            break;
        }
    }
    v->stats.wal_syncs = v->wal.syncs;
    arm_timer(v, out->wake_ms);
    v->driving = outer;
}

static int setup_consensus(struct octo_validator *v);

static void on_idle_timer(uv_timer_t *t)
{
    struct octo_validator *v = t->data;
    if (!v->idle_wait || v->stopped || v->driving)
        return;
    v->idle_wait = false;
    v->driving = true;
    propose(v, v->idle_view, true); /* whatever the pool holds, empty or not */
    v->driving = false;
    settle(v);
}

/* One deadline per view, which only comes closer: waiting again in the same view (gossip
 * drained with nothing includable) keeps it, so a stream of transactions that never fit
 * cannot hold a leader back. */
static void wait_for(struct octo_validator *v, uint64_t view, uint64_t ms)
{
    v->idle_wait = true;
    v->idle_view = view;
    uint64_t at = val_now_ms(v) + ms;
    if (uv_is_active((uv_handle_t *)&v->idle_timer) && v->idle_timer_view == view &&
        v->idle_deadline_ms <= at)
        return; /* a deadline in this view only ever comes closer */
    v->idle_timer_view = view;
    v->idle_deadline_ms = at;
    uv_timer_start(&v->idle_timer, on_idle_timer, ms, 0);
}

static void wait_idle(struct octo_validator *v, uint64_t view)
{
    wait_for(v, view, v->cfg.genesis->delta_ms / 2);
}

/* Proposes now (half a block's worth waits), after Δ/10 (a smaller batch: every block costs
 * votes and synced writes on every validator, so a busy chain makes fewer, fuller blocks), or
 * (nothing to propose, or gossip still being admitted) after Δ/2 unless the transactions come
 * first: an idle chain makes a few empty blocks a second instead of hundreds, well inside the
 * 2Δ the others wait for a leader. */
static void propose_or_wait(struct octo_validator *v, uint64_t view)
{
    size_t pool = octo_mempool_count(&v->pool);
    bool arriving = v->admit_off < v->admit_len && pool < v->cfg.block_txs_max;
    if (v->cfg.genesis->delta_ms < 2)
        propose(v, view, true);
    else if (pool == 0 || arriving)
        wait_idle(v, view);
    else if (pool < v->cfg.block_txs_max / 2) /* a small batch: Δ/10 for more to come */
        wait_for(v, view, v->cfg.genesis->delta_ms / 10 + 1);
    else
        propose(v, view, false);
}

/* What the last batch left to do: a reconfiguration, then a proposal. */
static void settle(struct octo_validator *v)
{
    if (v->driving)
        return; /* the outer drive handles what follows */
    v->driving = true;
    for (;;) {
        if (v->reconfig) {
            v->reconfig = false;
            v->want_propose = v->idle_wait = false;
            v->stats.reconfigs++;
            octo_cons_deinit(&v->cons);
            v->cons_ok = false;
            octo_wal_close(&v->wal);
            if (setup_consensus(v) != 0)
                fatal("cannot restart consensus on the new validator set");
            peers_for_set(v);
            octo_cons_start(&v->cons, val_now_ms(v), v->out2);
            run_actions(v, v->out2);
            hello_all(v); /* behind on the new set: the others say how to go on */
            continue;
        }
        if (v->want_propose) {
            v->want_propose = false;
            propose_or_wait(v, v->propose_view);
            continue;
        }
        break;
    }
    v->driving = false;
}

static void drive(struct octo_validator *v, struct octo_cons_out *out)
{
    run_actions(v, out);
    settle(v);
}

/* WAL compaction keeps the records of views after the last finalized one. */
static bool wal_keep(void *ctx, const uint8_t *data, size_t len)
{
    const struct octo_cons_anchor *fin = ctx;
    struct octo_cons_msg m;
    if (octo_cons_msg_decode(data, len, &m) != 0)
        return false;
    uint64_t view = m.type == OCTO_CONS_MSG_PROPOSAL ? m.u.proposal.block.view
                    : m.type == OCTO_CONS_MSG_VOTE   ? m.u.vote.view
                    : m.type == OCTO_CONS_MSG_CERT   ? m.u.cert.view
                                                     : 0;
    return view > fin->view;
}

static void on_timer(uv_timer_t *t)
{
    struct octo_validator *v = t->data;
    if (v->stopped || !v->cons_ok)
        return;
    octo_cons_tick(&v->cons, val_now_ms(v), v->out);
    drive(v, v->out);
    if (v->wal.size > OCTO_CHAIN_WAL_COMPACT && v->wal.size > 2 * v->wal_kept) {
        /* keep what a restart still needs: records of views after the last finalized one */
        struct octo_cons_anchor fin = octo_cons_finalized(&v->cons);
        if (octo_wal_compact(&v->wal, wal_keep, &fin) != 0)
            OCTO_WARN("chain: WAL compaction failed");
        v->wal_kept = v->wal.size; /* next time only when it has doubled since */
    }
}

/* ---- inbound streams ------------------------------------------------------------------------ */

/* A peer at `height` said hello: if we are further, it gets the proof of the first validator
 * set end after its height (it can check that one), else our last finalization; its core
 * then fetches the blocks up to it. */
static void answer_hello(struct octo_validator *v, struct val_in *in, uint64_t height)
{
    struct val_peer *p = in->has_pk ? peer_by_pk(v, in->pk) : NULL;
    uint64_t now = val_now_ms(v);
    if (p == NULL || !p->open || height >= octo_ledger_height(&v->ledger) ||
        (p->hello_served_ms != 0 && now - p->hello_served_ms < HELLO_ANSWER_MS))
        return;
    p->hello_served_ms = now;
    static uint8_t proof[OCTO_CHAINSTORE_PROOF_MAX];
    uint64_t at;
    int n = octo_chainstore_proof_after(v->cfg.store, height, &at, proof, sizeof(proof));
    if (n > 0) {
        peer_send(p, OCTO_CHAIN_FRAME_CONS, proof, (size_t)n);
        v->stats.proofs_sent++;
        return;
    }
    if (!v->cons_ok)
        return;
    struct octo_cons_anchor fin = octo_cons_finalized(&v->cons);
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_CERT};
    if (fin.view == 0 || octo_cons_final_cert(&v->cons, fin.view, fin.id, &m.u.cert) != 0)
        return;
    n = octo_cons_msg_encode(&m, proof, sizeof(proof));
    if (n > 0)
        peer_send(p, OCTO_CHAIN_FRAME_CONS, proof, (size_t)n);
}

static void in_frame(struct val_in *in, const uint8_t *f, size_t len)
{
    struct octo_validator *v = in->v;
    v->stats.frames_in++;
    if (len < 1 || v->stopped)
        return;
    if (f[0] == OCTO_CHAIN_FRAME_CONS && v->cons_ok) {
        uint32_t from = index_of_in(v, in);
        if (from == OCTO_CONS_TO_ALL && len == 1 + OCTO_CONS_BLOCK_REQ_LEN &&
            f[2] == OCTO_CONS_MSG_BLOCK_REQ) { /* a follower catching up: from the store */
            struct val_peer *p = in->has_pk ? peer_by_pk(v, in->pk) : NULL;
            if (p != NULL) {
                struct fetch_ctx fc = {v, OCTO_CONS_TO_ALL, p, 0};
                serve_from_store(&fc, f + 3);
            }
            return;
        }
        octo_cons_receive(&v->cons, val_now_ms(v), from, f + 1, len - 1, v->out);
        drive(v, v->out);
    } else if (f[0] == OCTO_CHAIN_FRAME_HELLO && len == 9) {
        answer_hello(v, in, octo_load_be64(f + 1));
    } else if (f[0] == OCTO_CHAIN_FRAME_TX) {
        v->stats.tx_gossip_in++;
        /* relayed on when it came from outside the current set (a client or a follower) */
        admit_later(v, f + 1, len - 1, index_of_in(v, in) == OCTO_CONS_TO_ALL);
    } else {
        v->stats.frames_bad++;
    }
}

/* Room for `need` bytes in a stream's buffer, within the node's total for inbound streams
 * (a peer opening many streams with half-sent frames cannot pin unbounded memory). */
static bool in_reserve(struct val_in *in, size_t need)
{
    if (need <= in->cap)
        return true;
    size_t cap = in->cap ? in->cap : 64 * 1024;
    while (cap < need)
        cap *= 2;
    struct octo_validator *v = in->v;
    if (v->in_bytes - in->cap + cap > OCTO_CHAIN_IN_BYTES_MAX)
        return false;
    uint8_t *b = octo_realloc(in->buf, cap);
    if (b == NULL)
        return false;
    v->in_bytes = v->in_bytes - in->cap + cap;
    in->buf = b;
    in->cap = cap;
    return true;
}

static void rpc_flush(struct val_in *in)
{
    while (in->resp_off < in->resp_len) {
        int n = octo_net_stream_write(in->s, in->resp + in->resp_off, in->resp_len - in->resp_off);
        if (n < 0) {
            octo_net_stream_reset(in->s);
            return;
        }
        if (n == 0)
            return; /* on_writable brings the rest */
        in->resp_off += (size_t)n;
    }
    if (in->resp != NULL) {
        OCTO_IGNORE(octo_net_stream_close(in->s));
        octo_free(in->resp);
        in->resp = NULL;
    }
}

static void rpc_answer(struct val_in *in)
{
    struct octo_validator *v = in->v;
    uint32_t len = octo_load_be32(in->buf);
    v->stats.rpc_requests++;
    char *resp = val_rpc(v, (const char *)in->buf + 4, len);
    size_t n = resp != NULL ? strlen(resp) : 0;
    in->resp = resp != NULL ? octo_malloc(4 + n) : NULL;
    if (in->resp == NULL) {
        octo_free(resp);
        octo_net_stream_reset(in->s);
        return;
    }
    octo_store_be32(in->resp, (uint32_t)n);
    memcpy(in->resp + 4, resp, n);
    octo_free(resp);
    in->resp_len = 4 + n;
    in->resp_off = 0;
    in->len = 0;
    rpc_flush(in);
}

static void on_in_writable(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    rpc_flush(ctx);
}

static void on_in_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct val_in *in = ctx;
    if (!in_reserve(in, in->len + len)) {
        octo_net_stream_reset(s);
        return;
    }
    memcpy(in->buf + in->len, data, len);
    in->len += len;
    size_t off = 0;
    size_t max = in->rpc ? OCTO_CHAIN_RPC_MAX : OCTO_CHAIN_FRAME_MAX;
    while (in->len - off >= 4) {
        uint32_t n = octo_load_be32(in->buf + off);
        if (n > max) {
            in->v->stats.frames_bad++;
            octo_net_stream_reset(s);
            return;
        }
        if (in->len - off - 4 < n)
            break;
        if (in->rpc) {
            if (in->resp == NULL)
                rpc_answer(in); /* one request per stream: anything after it is ignored */
            return;
        }
        in_frame(in, in->buf + off + 4, n);
        off += 4 + (size_t)n;
    }
    memmove(in->buf, in->buf + off, in->len - off);
    in->len -= off;
}

static void on_in_close(struct octo_net_stream *s, int status, void *ctx)
{
    struct val_in *in = ctx;
    (void)s;
    (void)status;
    in->v->in_bytes -= in->cap;
    in->v->in_streams--;
    octo_free(in->buf);
    octo_free(in->resp);
    octo_free(in);
}

static const struct octo_net_stream_ops in_ops = {
    .on_data = on_in_data,
    .on_writable = on_in_writable,
    .on_close = on_in_close,
};

static void accept_stream(struct octo_net_stream *s, void *ctx, bool rpc)
{
    struct octo_validator *v = ctx;
    struct val_in *in = v->in_streams < OCTO_CHAIN_IN_STREAMS_MAX && !v->stopped
                            ? octo_calloc(1, sizeof(*in))
                            : NULL;
    if (in == NULL) {
        v->stats.frames_dropped++;
        octo_net_stream_reset(s);
        return;
    }
    v->in_streams++;
    in->v = ctx;
    in->s = s;
    in->rpc = rpc;
    const struct octo_peerid *id = octo_net_stream_peer(s);
    struct octo_pubkey pk;
    if (id != NULL && octo_peerid_pubkey(id, &pk) == 0) {
        memcpy(in->pk, pk.bytes, 32);
        in->has_pk = true;
    }
    octo_net_stream_set_ops(s, &in_ops, in);
}

/* A chain stream from a peer we do not send to yet (a follower, or a validator that joined
 * after genesis): it gets a stream from us too, on the connection it made, so it hears the
 * consensus traffic and can catch up (a new validator must reach its first epoch's start
 * under the set before it). */
static void on_chain_stream(struct octo_net_stream *s, void *ctx)
{
    struct octo_validator *v = ctx;
    const struct octo_peerid *id = octo_net_stream_peer(s);
    struct octo_pubkey pk;
    if (!v->stopped && id != NULL && octo_peerid_pubkey(id, &pk) == 0 &&
        memcmp(pk.bytes, v->cfg.identity->pub.bytes, 32) != 0 && peer_by_pk(v, pk.bytes) == NULL) {
        struct val_peer *p = peer_add(v, pk.bytes);
        if (p != NULL) {
            peer_lookup(v, p);
            open_stream(p);
        }
    }
    accept_stream(s, ctx, false);
}

static void on_rpc_stream(struct octo_net_stream *s, void *ctx)
{
    accept_stream(s, ctx, true);
}

/* ---- start and stop ------------------------------------------------------------------------ */

struct restore_ctx {
    struct octo_validator *v;
    uint64_t restored, ignored;
};

static int restore_record(void *ctx, const uint8_t *data, size_t len)
{
    struct restore_ctx *r = ctx;
    int rc = octo_cons_restore(&r->v->cons, data, len);
    if (rc == 0)
        r->restored++;
    else
        r->ignored++; /* another set's record, after a reconfiguration */
    return rc == OCTO_ENOSPACE ? rc : 0;
}

static int anchor_row(void *ctx, const struct octo_chainstore_block *b)
{
    struct octo_cons_anchor *a = ctx;
    a->view = b->view;
    a->height = b->height;
    memcpy(a->id, b->id, 32);
    return 0;
}

/* The WAL file of a validator set: the path with the set's hash, so that records signed
 * under one set are never replayed into a core of another. */
static void wal_file_for(struct octo_validator *v)
{
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, v->vals, v->n_vals * sizeof(v->vals[0]));
    uint8_t d[32];
    octo_sha256_final(&h, d);
    char hex[17];
    OCTO_ASSERT(octo_hex_encode(d, 8, hex, sizeof(hex)) == 16);
    snprintf(v->wal_file, sizeof(v->wal_file), "%s.%s", v->cfg.wal_path, hex);
}

static int max_view(void *ctx, const uint8_t *data, size_t len)
{
    uint64_t *floor = ctx;
    struct octo_cons_msg m;
    if (octo_cons_msg_decode(data, len, &m) != 0)
        return 0;
    uint64_t view = m.type == OCTO_CONS_MSG_PROPOSAL ? m.u.proposal.block.view
                    : m.type == OCTO_CONS_MSG_VOTE   ? m.u.vote.view
                    : m.type == OCTO_CONS_MSG_CERT   ? m.u.cert.view
                                                     : 0;
    if (view > *floor)
        *floor = view;
    return 0;
}

/* The views this validator may have voted in under other validator sets: the floor file, and
 * every other set's WAL beside ours (read, then folded into the floor file and removed). A
 * vote under the old set at a view the new core also reaches would otherwise be a double
 * vote with the same signing bytes. */
static int vote_floor(struct octo_validator *v, uint64_t *floor)
{
    char fpath[OCTO_PATH_MAX + 8], dir[OCTO_PATH_MAX], base[OCTO_PATH_MAX];
    snprintf(fpath, sizeof(fpath), "%s.floor", v->cfg.wal_path);
    *floor = 0;
    struct octo_buf b;
    octo_buf_init(&b, 64);
    struct octo_fs_error ferr;
    if (octo_fs_exists(fpath) == 1 && octo_fs_read(fpath, &b, &ferr) == 0 && b.len == 8)
        *floor = octo_load_be64(b.data);
    octo_buf_deinit(&b);
    snprintf(dir, sizeof(dir), "%s", v->cfg.wal_path);
    char *slash = strrchr(dir, '/');
    if ((size_t)snprintf(base, sizeof(base), "%s.", slash != NULL ? slash + 1 : dir) >=
        sizeof(base))
        return OCTO_EINVAL;
    if (slash != NULL)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char old[16][OCTO_PATH_MAX];
    size_t n_old = 0;
    const char *mine =
        strrchr(v->wal_file, '/') != NULL ? strrchr(v->wal_file, '/') + 1 : v->wal_file;
    for (struct dirent *e; (e = readdir(d)) != NULL && n_old < 16;) {
        size_t bl = strlen(base), nl = strlen(e->d_name);
        if (strncmp(e->d_name, base, bl) != 0 || strcmp(e->d_name, mine) == 0 ||
            strcmp(e->d_name + bl, "floor") == 0 ||
            (nl > 4 && strcmp(e->d_name + nl - 4, ".tmp") == 0))
            continue;
        if ((size_t)snprintf(old[n_old], OCTO_PATH_MAX, "%s/%s", dir, e->d_name) < OCTO_PATH_MAX)
            n_old++;
    }
    closedir(d);
    if (n_old == 0)
        return 0;
    for (size_t i = 0; i < n_old; i++) {
        struct octo_wal w;
        if (octo_wal_open(&w, old[i], max_view, floor) != 0)
            return OCTO_EIO; /* unreadable: never guess a floor */
        octo_wal_close(&w);
    }
    uint8_t enc[8];
    octo_store_be64(enc, *floor);
    int rc = octo_fs_write_atomic(fpath, enc, sizeof(enc), 0600, false, &ferr);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n_old; i++)
        unlink(old[i]);
    OCTO_INFO("chain: no votes up to view %llu (voted under another validator set)",
              (unsigned long long)*floor);
    return 0;
}

static int setup_consensus(struct octo_validator *v)
{
    v->n_vals = octo_ledger_validators(&v->ledger, v->vals, OCTO_CONS_VALIDATORS_MAX);
    v->self = UINT32_MAX;
    for (uint32_t i = 0; i < v->n_vals; i++)
        if (memcmp(v->vals[i].pk, v->cfg.identity->pub.bytes, 32) == 0)
            v->self = i;
    struct octo_cons_anchor anchor = {0};
    uint64_t height = octo_ledger_height(&v->ledger);
    const uint8_t *chain_id = octo_ledger_chain_id(&v->ledger);
    if (height == 0) {
        memcpy(anchor.id, chain_id, 32); /* genesis: view 0, height 0, the chain id */
    } else {
        int rc = octo_chainstore_block(v->cfg.store, height, NULL, anchor_row, &anchor);
        if (rc != 0)
            return rc;
    }
    wal_file_for(v);
    uint64_t floor;
    int frc = vote_floor(v, &floor);
    if (frc != 0)
        return frc;
    struct octo_cons_config cc = {.validators = v->vals,
                                  .n_validators = v->n_vals,
                                  .delta_ms = v->cfg.genesis->delta_ms,
                                  .validate = validate,
                                  .validate_ctx = v,
                                  .vote_floor = floor};
    memcpy(cc.chain_id, chain_id, 32);
    memcpy(cc.seed, chain_id, 32);
    int rc = octo_cons_init(&v->cons, &cc, v->self != UINT32_MAX ? v->cfg.identity : NULL, &anchor);
    if (rc != 0)
        return rc;
    v->cons_ok = true;
    struct restore_ctx r = {v, 0, 0};
    rc = octo_wal_open(&v->wal, v->wal_file, restore_record, &r);
    if (rc != 0)
        return rc;
    OCTO_INFO("chain: %u validators (%s), anchored at height %llu view %llu, %llu WAL records",
              v->n_vals, v->self != UINT32_MAX ? "voting" : "following",
              (unsigned long long)anchor.height, (unsigned long long)anchor.view,
              (unsigned long long)r.restored);
    return 0;
}

static int load_object(void *ctx, uint32_t idx, const uint8_t *enc, size_t len)
{
    return octo_ledger_load_object(ctx, idx, enc, len);
}

static int load_meta(void *ctx, const uint8_t *meta, size_t len)
{
    return octo_ledger_load_meta(ctx, meta, len);
}

/* The ledger at the stored head, or the genesis written to a new store. */
static int setup_ledger(struct octo_validator *v)
{
    struct octo_ledger_genesis lg;
    struct octo_ledger_genesis_validator gv[OCTO_CONS_VALIDATORS_MAX];
    octo_genesis_ledger(v->cfg.genesis, &lg, gv);
    uint8_t key[OCTO_LEDGER_HASH_KEY_LEN];
    randombytes_buf(key, sizeof(key));
    int rc = octo_ledger_init(&v->ledger, &lg, key);
    if (rc != 0)
        return rc;
    uint64_t height;
    uint8_t genesis[32];
    rc = octo_chainstore_head(v->cfg.store, &height, genesis);
    if (rc == OCTO_ENOTFOUND) {
        const uint32_t *idx;
        size_t n = octo_ledger_changed(&v->ledger, &idx);
        struct octo_chainstore_object *objs = octo_malloc((n ? n : 1) * sizeof(*objs));
        uint8_t *enc = octo_malloc((n ? n : 1) * OCTO_LEDGER_OBJECT_MAX_LEN);
        if (objs == NULL || enc == NULL) {
            octo_free(objs);
            octo_free(enc);
            return OCTO_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t *p = enc + i * OCTO_LEDGER_OBJECT_MAX_LEN;
            int len = octo_ledger_object(&v->ledger, idx[i], p, OCTO_LEDGER_OBJECT_MAX_LEN);
            objs[i] = (struct octo_chainstore_object){idx[i], p, (size_t)len};
        }
        uint8_t meta[OCTO_LEDGER_META_MAX];
        size_t mlen = octo_ledger_meta(&v->ledger, meta);
        rc = octo_chainstore_init(v->cfg.store, lg.chain_id, objs, n, meta, mlen);
        octo_free(objs);
        octo_free(enc);
        return rc;
    }
    if (rc != 0)
        return rc;
    if (memcmp(genesis, lg.chain_id, 32) != 0) {
        OCTO_ERROR("chain: the store holds another chain than this genesis");
        return OCTO_ECONFIG;
    }
    if (height == 0)
        return 0;
    rc = octo_chainstore_load(v->cfg.store, load_object, load_meta, &v->ledger);
    if (rc != 0)
        OCTO_ERROR("chain: cannot load the stored state: %s", octo_strerror(rc));
    return rc;
}

static int setup_peers(struct octo_validator *v)
{
    const struct octo_genesis *g = v->cfg.genesis;
    for (uint32_t i = 0; i < g->n_validators; i++) {
        const struct octo_genesis_validator *gv = &g->validators[i];
        if (memcmp(gv->address, v->cfg.identity->pub.bytes, 32) == 0)
            continue;
        struct val_peer *p = peer_add(v, gv->address);
        OCTO_ASSERT(p != NULL); /* at most 64 genesis validators */
        p->n_addrs = gv->n_addrs;
        memcpy(p->addrs, gv->addrs, gv->n_addrs * sizeof(gv->addrs[0]));
    }
    peers_for_set(v);
    octo_net_on_identify(v->cfg.net, on_identify, v);
    int rc = octo_net_handle(v->cfg.net, OCTO_CHAIN_PROTOCOL, on_chain_stream, v);
    if (rc == 0)
        rc = octo_net_handle(v->cfg.net, OCTO_CHAIN_RPC_PROTOCOL, on_rpc_stream, v);
    return rc;
}

static int alloc_buffers(struct octo_validator *v)
{
    v->out = octo_malloc(sizeof(*v->out));
    v->out2 = octo_malloc(sizeof(*v->out2));
    v->scratch = octo_malloc(sizeof(*v->scratch));
    v->payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
    v->ids = octo_malloc(OCTO_BLOCK_TXS_MAX * sizeof(*v->ids));
    v->results = octo_malloc(OCTO_BLOCK_TXS_MAX);
    return v->out && v->out2 && v->scratch && v->payload && v->ids && v->results ? 0 : OCTO_ENOMEM;
}

int octo_validator_start(struct octo_validator **out, const struct octo_validator_config *cfg)
{
    *out = NULL;
    struct octo_validator *v = octo_calloc(1, sizeof(*v));
    if (v == NULL)
        return OCTO_ENOMEM;
    v->cfg = *cfg;
    if (cfg->wal_path == NULL || strlen(cfg->wal_path) >= sizeof(v->wal_base) - 32) {
        octo_free(v);
        return OCTO_EINVAL;
    }
    snprintf(v->wal_base, sizeof(v->wal_base), "%s", cfg->wal_path);
    v->cfg.wal_path = v->wal_base;
    if (v->cfg.block_txs_max == 0 || v->cfg.block_txs_max > OCTO_BLOCK_TXS_MAX)
        v->cfg.block_txs_max = OCTO_CHAIN_BLOCK_TXS_DEFAULT;
    v->wal.fd = -1;
    int rc = alloc_buffers(v);
    if (rc == 0)
        rc = setup_ledger(v);
    if (rc == 0) {
        struct octo_mempool_config mc = {.max_txs = OCTO_CHAIN_MEMPOOL_TXS,
                                         .max_bytes = (uint64_t)256 << 20};
        memcpy(mc.chain_id, octo_ledger_chain_id(&v->ledger), 32);
        randombytes_buf(mc.hash_key, sizeof(mc.hash_key));
        rc = octo_mempool_init(&v->pool, &mc);
    }
    if (rc == 0)
        rc = setup_consensus(v);
    if (rc == 0)
        rc = setup_peers(v);
    if (rc != 0) {
        octo_validator_destroy(v);
        return rc;
    }
    uv_timer_init(cfg->loop, &v->timer);
    uv_timer_init(cfg->loop, &v->dial_timer);
    uv_timer_init(cfg->loop, &v->idle_timer);
    uv_idle_init(cfg->loop, &v->admit_idle);
    v->timer.data = v->dial_timer.data = v->idle_timer.data = v->admit_idle.data = v;
    v->timer_on = true;
    uv_timer_start(&v->dial_timer, on_dial_timer, 0, DIAL_TICK_MS);
    octo_cons_start(&v->cons, val_now_ms(v), v->out);
    drive(v, v->out);
    *out = v;
    return 0;
}

void octo_validator_stop(struct octo_validator *v)
{
    if (v == NULL || v->stopped)
        return;
    v->stopped = true;
    octo_net_on_identify(v->cfg.net, NULL, NULL);
    if (v->timer_on) {
        uv_timer_stop(&v->timer);
        uv_timer_stop(&v->dial_timer);
        uv_timer_stop(&v->idle_timer);
        uv_idle_stop(&v->admit_idle);
        uv_close((uv_handle_t *)&v->admit_idle, NULL);
        uv_close((uv_handle_t *)&v->timer, NULL);
        uv_close((uv_handle_t *)&v->dial_timer, NULL);
        uv_close((uv_handle_t *)&v->idle_timer, NULL);
    }
    for (uint32_t i = 0; i < v->n_peers; i++)
        if (v->peers[i].out != NULL)
            octo_net_stream_reset(v->peers[i].out);
    octo_wal_close(&v->wal);
}

void octo_validator_destroy(struct octo_validator *v)
{
    if (v == NULL)
        return;
    octo_wal_close(&v->wal);
    if (v->cons_ok)
        octo_cons_deinit(&v->cons);
    if (v->pool.st != NULL)
        octo_mempool_deinit(&v->pool);
    if (v->ledger.st != NULL)
        octo_ledger_deinit(&v->ledger);
    for (uint32_t i = 0; i < v->n_peers; i++)
        octo_free(v->peers[i].q);
    octo_free(v->out);
    octo_free(v->out2);
    octo_free(v->scratch);
    octo_free(v->payload);
    octo_free(v->ids);
    octo_free(v->results);
    octo_free(v->pending);
    octo_free(v->admit);
    octo_free(v);
}

const struct octo_validator_stats *octo_validator_stats(const struct octo_validator *v)
{
    return &v->stats;
}

uint64_t octo_validator_height(const struct octo_validator *v)
{
    return octo_ledger_height(&v->ledger);
}

int octo_validator_submit(struct octo_validator *v, const uint8_t *tx, size_t len,
                          uint8_t id[OCTO_TX_ID_LEN])
{
    return val_submit(v, tx, len, id, true);
}

const struct octo_ledger *octo_validator_ledger(const struct octo_validator *v)
{
    return &v->ledger;
}

char *octo_validator_query(struct octo_validator *v, const char *json, size_t len)
{
    return val_rpc(v, json, len);
}
