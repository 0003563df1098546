/*
 * sim_cons.c — deterministic simulation of the consensus core (chain/consensus.h).
 *
 * N validators (4-16, random stakes) run the real core in one process, in virtual time, driven
 * by a discrete-event loop (a heap of (time, seq) events, so ties break the same way every
 * run). Everything random comes from one seed, split into streams per component. Each seed
 * draws and prints its fault profile:
 *   - network: delay range, loss 0-30 %, duplication 0-30 % (late copies reorder messages),
 *     partitions that come and go (two-way splits and isolated nodes);
 *   - crashes: a node stops at a random point, possibly in the middle of what one call asked
 *     (after a PERSIST and before the SEND that follows it, or before the PERSIST), stays
 *     down a while (one in four for 8-20 s: thousands of blocks to catch up) and restarts
 *     from its durable state: the persisted votes (octo_cons_restore)
 *     and its finalized blocks (the anchor);
 *   - clocks: in half the seeds each node's clock is offset by up to 3 s and runs up to 2 %
 *     fast or slow (its timeouts and block times follow its own clock);
 *   - Twins: validator 0 runs as two instances with one key (when its stake is below a third),
 *     each in its own partition at first: equivocating proposals and votes, unmodified code;
 *     half their proposals break the application's rule (validate), which no honest node may
 *     vote for.
 * Every node runs the real ledger (chain/ledger.h) on what it finalizes: leaders build real
 * payloads (transfers, overspends, stale nonces, low fees, stakes and unstakes) on their state
 * and the unfinalized ancestors, every validator checks payloads before voting, and a
 * restarted node rebuilds its ledger from its finalized blocks.
 * After every event the oracle checks: no two honest nodes finalize different blocks at a
 * height; every node's supply adds up after every block (balances, stakes, unbonding, escrow,
 * burned); all nodes reach the same state root at each height, and every block's claimed
 * state root is the one its validators computed; finalized heights never go back (across restarts
 * too); no honest node ever sent two NOTARIZE in a view, SKIP and FINALIZE in a view, or FINALIZE
 * for a block it had not seen notarized... (the last is the core's own assertion); evidence only
 * ever names the twin; no block breaking the application's rule is finalized; every own vote and
 * proposal sent was persisted first. Then the liveness phase: faults stop, partitions heal, crashed
 * nodes restart, and every honest node must finalize LIVENESS_BLOCKS more blocks within LIVENESS_MS
 * of virtual time.
 *
 * Usage: sim_cons [--seeds FIRST COUNT] [--seconds S] [--seed S] [--verbose]
 *   default: the regression seeds in seeds.txt beside this file (passed as argv[1]) plus
 *   random seeds from the clock until S seconds of wall time have gone; prints
 *   "N passed, N failed" and, per failure, the command that replays it.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "base/rng.h"
#include "chain/block.h"
#include "chain/consensus.h"
#include "chain/ledger.h"
#include "crypto/hash.h"
#include "crypto/ident.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NODES_MAX 17 /* instances: up to 16 validators + a twin */
#define DELTA_MS 100
#define FAULT_MS 30000
#define LIVENESS_MS 60000
#define LIVENESS_BLOCKS 5
#define WAL_MAX 4096
#define FIN_MAX 32768 /* finalized blocks kept per node (a fast seed makes ~10,000) */
#define EVENTS_MAX 200000
#define INVALID_PAYLOAD 0xff /* a payload starting with it breaks the "ledger" rule */
#define SUB_DEPTH 2          /* nested core calls (a proposal made while handling an output) */
#define ACCOUNTS 12          /* the ledger's funded accounts: addresses a0, a1, ... */
#define T0 UINT64_C(1700000000000) /* block time of the genesis */

enum ev_kind { EV_MSG, EV_TICK, EV_CRASH, EV_RESTART, EV_PARTITION };

struct event {
    uint64_t t, seq;
    enum ev_kind kind;
    int node;     /* target instance */
    int from;     /* validator index of the sender */
    uint64_t gen; /* EV_TICK: the node's tick generation it belongs to */
    uint8_t *data;
    size_t len;
};

struct node {
    int val; /* validator index */
    bool up, twin;
    struct octo_identity key;
    struct octo_cons core;
    uint64_t tick_gen;
    uint8_t *wal[WAL_MAX];
    size_t wal_len[WAL_MAX], n_wal;
    uint64_t wal_view[WAL_MAX];
    uint8_t fin[FIN_MAX][OCTO_CONS_ID_LEN]; /* durable: finalized ids by height - 1 */
    uint64_t fin_view[FIN_MAX];
    uint8_t *fin_enc[FIN_MAX]; /* durable: each finalized block's signed proposal */
    size_t fin_enc_len[FIN_MAX];
    size_t n_fin;
    int part;               /* partition group */
    struct octo_ledger led; /* the application: the state the finalized blocks lead to */
    bool led_on;
    uint64_t syncs;     /* long catch-ups of its cores (summed over restarts) */
    uint64_t clock_off; /* its clock: off + now * (1000 + drift) / 1000 of the sim's */
    int drift;          /* per mille, -20..20 */
};

struct sim {
    uint64_t seed;
    struct octo_rng net_rng, fault_rng, app_rng;
    int n_val, n_nodes;
    bool twins;
    struct octo_cons_validator val[NODES_MAX];
    uint8_t chain_id[32], genesis[32], cseed[32];
    struct node nodes[NODES_MAX];
    struct event *heap;
    size_t n_ev;
    uint64_t seq, now;
    /* profile */
    uint64_t dmin, dmax;
    unsigned loss, dup;         /* percent */
    unsigned crash_pm, part_pm; /* per mille per second */
    bool skew;                  /* node clocks offset by up to 3 s and 2 % fast or slow */
    bool faults;
    /* oracle */
    uint8_t canon[FIN_MAX][32];
    size_t n_canon;
    uint8_t roots[FIN_MAX][32]; /* the state root after each height, as first computed */
    size_t n_roots;
    struct octo_ledger_genesis gen;
    struct octo_ledger_alloc allocs[ACCOUNTS];
    struct octo_ledger_genesis_validator gval;
    struct octo_block_scratch *scratch;
    uint8_t *payload;
    /* per validator, per view: what honest instances sent */
    struct sent {
        uint64_t view;
        bool notar, skip, final;
        uint8_t notar_id[32];
    } sent[NODES_MAX][1024];
    const char *fail;
    char why[256];
    struct octo_cons_out *out, *sub[SUB_DEPTH];
    bool verbose;
};

/* ---- event heap ---------------------------------------------------------------------------- */

static bool ev_less(const struct event *a, const struct event *b)
{
    return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void push(struct sim *s, struct event e)
{
    if (s->n_ev >= EVENTS_MAX) { /* the network is full: drop, as a clogged path would */
        octo_free(e.data);
        return;
    }
    e.seq = s->seq++;
    size_t i = s->n_ev++;
    s->heap[i] = e;
    while (i > 0 && ev_less(&s->heap[i], &s->heap[(i - 1) / 2])) {
        struct event t = s->heap[i];
        s->heap[i] = s->heap[(i - 1) / 2];
        s->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct event pop(struct sim *s)
{
    struct event top = s->heap[0];
    s->heap[0] = s->heap[--s->n_ev];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n_ev && ev_less(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->n_ev && ev_less(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        struct event t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
    return top;
}

static uint64_t rnd(struct octo_rng *r, uint64_t lo, uint64_t hi) /* [lo, hi] */
{
    return lo + octo_rng_below(r, hi - lo + 1);
}

static void fail(struct sim *s, const char *what)
{
    if (s->fail == NULL) {
        s->fail = what;
        snprintf(s->why, sizeof(s->why), "%s at t=%" PRIu64 " ms", what, s->now);
    }
}

/* ---- network ------------------------------------------------------------------------------- */

static void deliver(struct sim *s, int from_node, int to_node, const uint8_t *data, size_t len)
{
    const struct node *a = &s->nodes[from_node], *b = &s->nodes[to_node];
    if (s->faults && a->part != b->part)
        return;
    if (s->faults && octo_rng_below(&s->net_rng, 100) < s->loss)
        return;
    int copies = s->faults && octo_rng_below(&s->net_rng, 100) < s->dup ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        uint8_t *copy = octo_malloc(len);
        OCTO_ASSERT(copy != NULL);
        memcpy(copy, data, len);
        uint64_t d = rnd(&s->net_rng, s->dmin, s->dmax) * (uint64_t)(c + 1);
        push(s, (struct event){.t = s->now + d,
                               .kind = EV_MSG,
                               .node = to_node,
                               .from = a->val,
                               .data = copy,
                               .len = len});
    }
}

static void send_to(struct sim *s, int from_node, uint32_t to, const uint8_t *data, size_t len)
{
    for (int i = 0; i < s->n_nodes; i++) {
        if (i == from_node)
            continue;
        if (to == OCTO_CONS_TO_ALL || (uint32_t)s->nodes[i].val == to)
            deliver(s, from_node, i, data, len);
    }
}

/* ---- the oracle ---------------------------------------------------------------------------- */

static void check_vote_rules(struct sim *s, int node, const uint8_t *data, size_t len)
{
    struct node *nd = &s->nodes[node];
    if (nd->twin || (nd->val == 0 && s->twins))
        return; /* Byzantine: may break any rule */
    static struct octo_cons_msg m;
    if (octo_cons_msg_decode(data, len, &m) != 0 || m.type != OCTO_CONS_MSG_VOTE)
        return;
    const struct octo_cons_vote *v = &m.u.vote;
    struct sent *e = &s->sent[nd->val][v->view % 1024];
    if (e->view != v->view)
        *e = (struct sent){.view = v->view};
    if (v->kind == OCTO_CONS_NOTARIZE) {
        if (e->notar && memcmp(e->notar_id, v->block, 32) != 0)
            fail(s, "an honest validator sent NOTARIZE for two blocks in one view");
        e->notar = true;
        memcpy(e->notar_id, v->block, 32);
    } else if (v->kind == OCTO_CONS_SKIP) {
        if (e->final)
            fail(s, "an honest validator sent FINALIZE and SKIP in one view");
        e->skip = true;
    } else {
        if (e->skip)
            fail(s, "an honest validator sent SKIP and FINALIZE in one view");
        e->final = true;
    }
}

/* An own vote or proposal goes out only once it is in the node's log (a rebroadcast of one
 * from before a restart included). */
static void check_persisted(struct sim *s, int node, const uint8_t *data, size_t len)
{
    struct node *nd = &s->nodes[node];
    if (s->twins && nd->val == 0)
        return; /* a twin relays its sibling's signed messages, which are not in its own log */
    bool own_vote = len == OCTO_CONS_VOTE_LEN && data[1] == OCTO_CONS_MSG_VOTE &&
                    ((int)data[43] << 8 | data[44]) == nd->val;
    bool own_prop = len >= OCTO_CONS_PROPOSAL_FIXED && data[1] == OCTO_CONS_MSG_PROPOSAL &&
                    ((int)data[len - 66] << 8 | data[len - 65]) == nd->val;
    if (!own_vote && !own_prop)
        return;
    for (size_t w = nd->n_wal; w-- > 0;)
        if (nd->wal_len[w] == len && memcmp(nd->wal[w], data, len) == 0)
            return;
    /* records at or before the finalized view are compacted away: those may be resent */
    uint64_t view = 0;
    for (int i = 0; i < 8; i++)
        view = view << 8 | data[(own_vote ? 3 : 2) + i];
    if (nd->n_fin > 0 && view <= nd->fin_view[nd->n_fin - 1])
        return;
    fail(s, "a vote or proposal was sent before it was persisted");
}

/* A node's clock: offset and running fast or slow (clock skew); the core only ever sees it. */
static uint64_t node_now(const struct sim *s, const struct node *nd)
{
    return nd->clock_off + s->now + (uint64_t)((int64_t)s->now * nd->drift / 1000);
}

/* ---- the application: the ledger ---------------------------------------------------------------
 */

static void account_addr(int a, uint8_t out[32])
{
    memset(out, 0xa0 + a, 32);
}

/* ACCOUNTS funded accounts; the ledger's own validator set is a stand-in (the simulated
 * consensus set is the sim's), and its epochs never end. */
static void ledger_genesis(struct sim *s)
{
    struct octo_ledger_genesis *g = &s->gen;
    memset(g, 0, sizeof(*g));
    memcpy(g->chain_id, s->chain_id, 32);
    g->time_ms = T0;
    octo_ledger_params_default(&g->params);
    g->params.epoch_blocks = UINT64_C(1) << 40;
    g->params.unbond_ms = 20000; /* unbonds come due inside a run */
    memset(g->params.treasury, 0x7e, 32);
    memset(g->params.governance, 0x7f, 32);
    for (int a = 0; a < ACCOUNTS; a++) {
        account_addr(a, s->allocs[a].addr);
        s->allocs[a].amount[OCTO_TOKEN_OCTO] = 1000000 * OCTO_UNIT;
        s->allocs[a].amount[OCTO_TOKEN_A] = 1000 * OCTO_UNIT;
    }
    g->allocs = s->allocs;
    g->n_allocs = ACCOUNTS;
    memset(s->gval.pk, 0x5a, 32);
    s->gval.stake = 10000 * OCTO_UNIT;
    g->validators = &s->gval;
    g->n_validators = 1;
}

static bool all_verified(void *ctx, const uint8_t id[32])
{
    (void)ctx;
    (void)id;
    return true; /* the sim signs nothing: apply never checks signatures */
}

/* The application's rule, checked by every validator before it votes for a block: the payload
 * parses, its transactions decode and its roots are theirs; the twins' junk does not. */
static int validate_payload(void *ctx, const struct octo_cons_block *b, const uint8_t *payload,
                            size_t len)
{
    struct sim *s = ctx;
    (void)b;
    if (len > 0 && payload[0] == INVALID_PAYLOAD)
        return OCTO_EINVAL;
    struct octo_block_hdr h;
    uint32_t bad;
    int rc = octo_block_parse(payload, len, &h, s->scratch->txs);
    if (rc == 0)
        rc = octo_block_check(s->chain_id, &h, s->scratch, all_verified, NULL, &bad);
    return rc;
}

/* Applies finalized payload p at height h to a node's ledger; false (and the sim fails) when
 * the payload does not apply or the supply stops adding up. */
static bool ledger_apply(struct sim *s, struct node *nd, uint64_t h, uint16_t signer,
                         const uint8_t *p, size_t len)
{
    struct octo_block_hdr hdr;
    if (octo_block_parse(p, len, &hdr, s->scratch->txs) != 0) {
        fail(s, "a finalized payload does not parse");
        return false;
    }
    uint8_t claimed[32];
    if (octo_ledger_root_at(&nd->led, hdr.state_height, claimed) == 0 &&
        memcmp(claimed, hdr.state_root, 32) != 0) {
        fail(s, "a block names a state root its validators did not compute");
        return false;
    }
    struct octo_ledger_block_ctx ctx = {.height = h, .time_ms = hdr.time_ms};
    if (ctx.time_ms < octo_ledger_time(&nd->led))
        ctx.time_ms = octo_ledger_time(&nd->led);
    account_addr(signer % ACCOUNTS, ctx.proposer);
    static uint8_t res[OCTO_BLOCK_TXS_MAX];
    if (octo_ledger_apply(&nd->led, &ctx, s->scratch->txs, hdr.n_tx, res) != 0) {
        fail(s, "a finalized block does not apply to the ledger");
        return false;
    }
    if (octo_ledger_audit(&nd->led) != 0) {
        fail(s, "supply is not conserved across balances, escrow, stake and burn");
        return false;
    }
    return true;
}

/* A node's ledger from its durable state: the genesis, then every finalized block again. */
static void ledger_restart(struct sim *s, struct node *nd)
{
    if (nd->led_on)
        octo_ledger_deinit(&nd->led);
    uint8_t key[16] = {(uint8_t)nd->val, (uint8_t)nd->twin};
    int rc = octo_ledger_init(&nd->led, &s->gen, key);
    OCTO_ASSERT(rc == 0);
    nd->led_on = true;
    for (size_t h = 0; h < nd->n_fin && h < FIN_MAX && s->fail == NULL; h++) {
        struct octo_cons_msg m;
        rc = octo_cons_msg_decode(nd->fin_enc[h], nd->fin_enc_len[h], &m);
        OCTO_ASSERT(rc == 0 && m.type == OCTO_CONS_MSG_PROPOSAL);
        ledger_apply(s, nd, h + 1, m.u.proposal.signer, m.u.proposal.payload,
                     m.u.proposal.payload_len);
    }
}

/* An honest leader's payload for `view`: a few transactions (transfers, some overspending,
 * some with a stale nonce or a low fee; stakes and unstakes) on the state its own ledger and
 * the unfinalized ancestors reach. Returns the length. */
static size_t build_payload(struct sim *s, struct node *nd, uint64_t view)
{
    static struct octo_cons_pending anc[OCTO_CONS_WINDOW];
    int n = octo_cons_pending(&nd->core, view, anc, OCTO_CONS_WINDOW);
    uint64_t nonce[ACCOUNTS], parent_time = octo_ledger_time(&nd->led);
    for (int a = 0; a < ACCOUNTS; a++) {
        uint8_t addr[32];
        struct octo_account acc;
        account_addr(a, addr);
        nonce[a] = octo_ledger_account(&nd->led, addr, &acc) == 0 ? acc.nonce : 0;
    }
    for (int k = 0; k < n; k++) { /* nonces the ancestors use */
        struct octo_block_hdr h;
        if (octo_block_parse(anc[k].payload, anc[k].len, &h, s->scratch->txs) != 0)
            continue;
        if (h.time_ms > parent_time)
            parent_time = h.time_ms;
        for (uint32_t i = 0; i < h.n_tx; i++) {
            int a = s->scratch->txs[i].p[2] - 0xa0;
            if (a >= 0 && a < ACCOUNTS && octo_load_be64(s->scratch->txs[i].p + 34) == nonce[a])
                nonce[a]++;
        }
    }
    struct octo_block_builder b;
    octo_block_build_init(&b, s->payload, OCTO_CONS_PAYLOAD_MAX);
    int k = (int)rnd(&s->app_rng, 0, 6);
    for (int i = 0; i < k; i++) {
        struct octo_tx t;
        memset(&t, 0, sizeof(t));
        int from = (int)rnd(&s->app_rng, 0, ACCOUNTS - 1);
        account_addr(from, t.from);
        unsigned kind = (unsigned)rnd(&s->app_rng, 0, 19);
        t.nonce = nonce[from] + (kind == 19 ? 1 : 0); /* 1 in 20 out of order */
        t.fee = OCTO_UNIT / 1000 - (kind == 18 ? 1 : 0);
        if (kind < 14) {
            t.type = OCTO_TX_TRANSFER;
            account_addr((from + 1 + (int)rnd(&s->app_rng, 0, ACCOUNTS - 2)) % ACCOUNTS,
                         t.u.transfer.to);
            t.u.transfer.token = kind == 13 ? OCTO_TOKEN_A : OCTO_TOKEN_OCTO;
            t.u.transfer.amount = kind == 12 ? 2000000 * OCTO_UNIT /* overspends */
                                             : rnd(&s->app_rng, 1, 5000 * OCTO_UNIT);
        } else if (kind < 15) {
            t.type = OCTO_TX_REGISTER;
            t.u.role = OCTO_STAKE_VALIDATOR;
        } else if (kind < 16) {
            t.type = OCTO_TX_STAKE;
            t.u.amount = rnd(&s->app_rng, 1, 1000 * OCTO_UNIT);
        } else {
            t.type = OCTO_TX_UNSTAKE;
            t.u.amount = rnd(&s->app_rng, 1, 20000 * OCTO_UNIT);
        }
        uint8_t enc[256];
        int len = octo_tx_encode(&t, enc, sizeof(enc));
        OCTO_ASSERT(len > 0);
        if (octo_block_build_add(&b, enc, (size_t)len) != 0)
            break;
        if (t.nonce == nonce[from] && t.fee >= OCTO_UNIT / 1000)
            nonce[from]++;
    }
    uint64_t t = T0 + node_now(s, nd);
    if (t <= parent_time)
        t = parent_time + 1;
    uint8_t root[32];
    octo_ledger_root(&nd->led, root);
    int len = octo_block_build_finish(&b, t, octo_ledger_height(&nd->led), root, s->scratch);
    OCTO_ASSERT(len > 0);
    return (size_t)len;
}

static void on_finalized(struct sim *s, int node, const struct octo_cons_action *a)
{
    if (a->len > 0 && a->data[0] == INVALID_PAYLOAD)
        fail(s, "a block breaking the application's rule was finalized");
    struct node *nd = &s->nodes[node];
    if (a->height != nd->n_fin + 1) {
        if (getenv("SIM_TRACE"))
            printf("node %d (val %d%s) finalized height %" PRIu64 " after %zu\n", node, nd->val,
                   nd->twin ? ", twin" : "", a->height, nd->n_fin);
        fail(s, "finalized heights are not consecutive");
        return;
    }
    if (nd->n_fin >= FIN_MAX)
        return;
    memcpy(nd->fin[nd->n_fin], a->id, 32);
    nd->fin_view[nd->n_fin] = a->view;
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_PROPOSAL};
    m.u.proposal = a->proposal;
    uint8_t *enc = octo_malloc(OCTO_CONS_PROPOSAL_FIXED + a->proposal.payload_len);
    OCTO_ASSERT(enc != NULL);
    int rc = octo_cons_msg_encode(&m, enc, OCTO_CONS_PROPOSAL_FIXED + a->proposal.payload_len);
    OCTO_ASSERT(rc > 0);
    nd->fin_enc[nd->n_fin] = enc;
    nd->fin_enc_len[nd->n_fin] = (size_t)rc;
    nd->n_fin++;
    if (!ledger_apply(s, nd, a->height, a->proposal.signer, a->data, a->len))
        return;
    uint8_t root[32];
    octo_ledger_root(&nd->led, root);
    if (a->height <= s->n_roots) {
        if (memcmp(s->roots[a->height - 1], root, 32) != 0)
            fail(s, "two validators reached different state roots at one height");
    } else if (a->height == s->n_roots + 1) {
        memcpy(s->roots[s->n_roots++], root, 32);
    }
    /* the log keeps only what a restart still needs: records after the finalized view */
    size_t keep = 0;
    for (size_t w = 0; w < nd->n_wal; w++) {
        if (nd->wal_view[w] <= a->view) {
            octo_free(nd->wal[w]);
            continue;
        }
        nd->wal[keep] = nd->wal[w];
        nd->wal_len[keep] = nd->wal_len[w];
        nd->wal_view[keep++] = nd->wal_view[w];
    }
    nd->n_wal = keep;
    bool honest = !(s->twins && nd->val == 0);
    if (!honest)
        return;
    if (a->height <= s->n_canon) {
        if (memcmp(s->canon[a->height - 1], a->id, 32) != 0)
            fail(s, "two honest validators finalized different blocks at one height");
    } else if (a->height == s->n_canon + 1) {
        memcpy(s->canon[s->n_canon++], a->id, 32);
    } else {
        fail(s, "a finalized height skipped ahead of the canonical chain");
    }
}

/* ---- nodes --------------------------------------------------------------------------------- */

/* The sim time at which a node's clock shows t (rounded up), never before now. */
static uint64_t sim_time_of(const struct sim *s, const struct node *nd, uint64_t t)
{
    if (t <= nd->clock_off)
        return s->now;
    uint64_t x =
        ((t - nd->clock_off) * 1000 + (uint64_t)(999 + nd->drift)) / (uint64_t)(1000 + nd->drift);
    return x > s->now ? x : s->now;
}

static void schedule_tick(struct sim *s, int node, uint64_t at)
{
    struct node *nd = &s->nodes[node];
    nd->tick_gen++;
    if (at == 0)
        return;
    push(s, (struct event){
                .t = sim_time_of(s, nd, at), .kind = EV_TICK, .node = node, .gen = nd->tick_gen});
}

static void crash(struct sim *s, int node);

/* The chain a proposal builds on (octo_cons_pending): consecutive heights from the last
 * finalized block, each naming the one before as its parent, payloads matching their
 * hashes. */
static void check_pending(struct sim *s, struct node *nd, uint64_t view)
{
    struct octo_cons_pending pend[OCTO_CONS_WINDOW];
    int n = octo_cons_pending(&nd->core, view, pend, OCTO_CONS_WINDOW);
    if (n < 0)
        return; /* an ancestor not held yet: propose fails the same way */
    struct octo_cons_anchor fin = octo_cons_finalized(&nd->core);
    const uint8_t *parent = fin.id;
    for (int k = 0; k < n; k++) {
        uint8_t h[32];
        octo_sha256(pend[k].payload, pend[k].len, h);
        if (pend[k].hdr->height != fin.height + 1 + (uint64_t)k ||
            memcmp(pend[k].hdr->parent, parent, 32) != 0 ||
            memcmp(h, pend[k].hdr->payload_hash, 32) != 0 || pend[k].hdr->view >= view)
            fail(s, "the pending chain a proposal builds on is not a chain from the last final");
        parent = pend[k].id;
    }
}

/* Carries out what one core call asked, in order; a crash may stop it half way. */
static void run_out(struct sim *s, int node, struct octo_cons_out *out, int depth)
{
    struct node *nd = &s->nodes[node];
    uint64_t lead[4];
    size_t n_lead = 0;
    size_t stop = out->n;
    if (s->faults && s->crash_pm > 0 && out->n > 0 &&
        octo_rng_below(&s->fault_rng, 1000) < s->crash_pm / 20)
        stop = (size_t)octo_rng_below(&s->fault_rng, out->n + 1);
    for (size_t i = 0; i < stop; i++) {
        const struct octo_cons_action *a = &out->acts[i];
        switch (a->kind) {
        case OCTO_CONS_ACT_PERSIST:
            if (getenv("SIM_TRACE"))
                printf("t=%" PRIu64 " node %d persist view %" PRIu64 " kind %u fin %" PRIu64 "\n",
                       s->now, node, a->view, a->data[2], octo_cons_finalized(&nd->core).height);
            OCTO_ASSERT(nd->n_wal < WAL_MAX);
            nd->wal[nd->n_wal] = octo_malloc(a->len);
            OCTO_ASSERT(nd->wal[nd->n_wal] != NULL);
            memcpy(nd->wal[nd->n_wal], a->data, a->len);
            nd->wal_view[nd->n_wal] = a->view;
            nd->wal_len[nd->n_wal++] = a->len;
            break;
        case OCTO_CONS_ACT_SEND:
            check_persisted(s, node, a->data, a->len);
            check_vote_rules(s, node, a->data, a->len);
            send_to(s, node, a->to, a->data, a->len);
            break;
        case OCTO_CONS_ACT_NEED_PAYLOAD:
            if (n_lead < 4)
                lead[n_lead++] = a->view;
            break;
        case OCTO_CONS_ACT_FETCH: /* the blockstore answers what the core no longer holds */
            for (size_t h = 0; h < nd->n_fin; h++) {
                if (memcmp(nd->fin[h], a->id, 32) != 0)
                    continue;
                for (size_t k = 0; k < OCTO_CONS_SYNC_BATCH && k <= h; k++)
                    send_to(s, node, a->to, nd->fin_enc[h - k], nd->fin_enc_len[h - k]);
                break;
            }
            break;
        case OCTO_CONS_ACT_FINALIZED:
            on_finalized(s, node, a);
            break;
        case OCTO_CONS_ACT_EVIDENCE:
            if (!(s->twins && a->to == 0)) {
                if (getenv("SIM_TRACE")) {
                    struct octo_cons_msg m1, m2;
                    size_t l1 = (size_t)a->data[0] << 24 | (size_t)a->data[1] << 16 |
                                (size_t)a->data[2] << 8 | a->data[3];
                    if (octo_cons_msg_decode(a->data + 4, l1, &m1) == 0 &&
                        octo_cons_msg_decode(a->data + 8 + l1, a->len - 8 - l1, &m2) == 0)
                        printf("evidence at node %d against %u: type %u kind %u view %" PRIu64
                               " / type %u kind %u view %" PRIu64 "\n",
                               node, a->to, m1.type, m1.u.vote.kind, m1.u.vote.view, m2.type,
                               m2.u.vote.kind, m2.u.vote.view);
                }
                fail(s, "evidence against an honest validator");
            }
            break;
        }
    }
    if (stop < out->n) {
        crash(s, node);
        return;
    }
    if (out->wake_ms != 0)
        schedule_tick(s, node, out->wake_ms);
    /* the application's payload for each view this node leads, after the rest */
    for (size_t i = 0; i < n_lead && depth < SUB_DEPTH && nd->up; i++) {
        /* honest payloads are valid; the twins propose junk half the time */
        const uint8_t *payload = s->payload;
        size_t plen;
        if (s->twins && nd->val == 0 && octo_rng_below(&s->app_rng, 2) == 0) {
            plen = 8 + (size_t)octo_rng_below(&s->app_rng, 56);
            octo_rng_fill(&s->app_rng, s->payload, plen);
            s->payload[0] = INVALID_PAYLOAD;
        } else {
            plen = build_payload(s, nd, lead[i]);
        }
        check_pending(s, nd, lead[i]);
        int prc =
            octo_cons_propose(&nd->core, node_now(s, nd), lead[i], payload, plen, s->sub[depth]);
        if (prc == 0)
            run_out(s, node, s->sub[depth], depth + 1);
        else if (getenv("SIM_TRACE"))
            printf("t=%" PRIu64 " node %d cannot propose view %" PRIu64 ": %s\n", s->now, node,
                   lead[i], octo_err_name(prc));
    }
}

static void node_start(struct sim *s, int node)
{
    struct node *nd = &s->nodes[node];
    struct octo_cons_config cfg = {.validators = s->val,
                                   .n_validators = (uint32_t)s->n_val,
                                   .delta_ms = DELTA_MS,
                                   .validate = validate_payload,
                                   .validate_ctx = s,
                                   .catch_up_switch = 24}; /* long catch-ups are common */
    memcpy(cfg.chain_id, s->chain_id, 32);
    memcpy(cfg.seed, s->cseed, 32);
    struct octo_cons_anchor anchor = {0};
    memcpy(anchor.id, s->genesis, 32);
    if (nd->n_fin > 0) {
        anchor.height = nd->n_fin;
        anchor.view = nd->fin_view[nd->n_fin - 1];
        memcpy(anchor.id, nd->fin[nd->n_fin - 1], 32);
    }
    ledger_restart(s, nd);
    int rc = octo_cons_init(&nd->core, &cfg, &nd->key, &anchor);
    OCTO_ASSERT(rc == 0);
    for (size_t i = 0; i < nd->n_wal; i++) {
        rc = octo_cons_restore(&nd->core, nd->wal[i], nd->wal_len[i]);
        if (rc != 0 && rc != OCTO_ERANGE)
            fail(s, "a persisted vote was refused on restart");
    }
    nd->up = true;
    octo_cons_start(&nd->core, node_now(s, nd), s->out);
    run_out(s, node, s->out, 0);
}

static void crash(struct sim *s, int node)
{
    struct node *nd = &s->nodes[node];
    if (!nd->up)
        return;
    nd->up = false;
    nd->tick_gen++;
    nd->syncs += octo_cons_stats(&nd->core)->syncs;
    octo_cons_deinit(&nd->core);
    /* one crash in four is a long outage: the node comes back hundreds or thousands of
     * blocks behind and must catch up through block requests */
    uint64_t down = octo_rng_below(&s->fault_rng, 4) == 0 ? rnd(&s->fault_rng, 8000, 20000)
                                                          : rnd(&s->fault_rng, 200, 5000);
    push(s, (struct event){.t = s->now + down, .kind = EV_RESTART, .node = node});
}

/* ---- one seed ------------------------------------------------------------------------------ */

static void profile(struct sim *s)
{
    struct octo_rng r;
    octo_rng_init(&r, s->seed ^ 0x70726f66696c65u);
    s->n_val = (int)(octo_rng_below(&r, 10) < 7 ? rnd(&r, 4, 7) : rnd(&r, 8, 16));
    uint64_t total = 0;
    bool equal = octo_rng_below(&r, 2) == 0;
    for (int i = 0; i < s->n_val; i++) {
        s->val[i].weight = equal ? 10 : rnd(&r, 1, 100);
        total += s->val[i].weight;
    }
    /* twins only while validator 0's stake is below a third */
    s->twins = octo_rng_below(&r, 3) == 0 && s->val[0].weight * 3 < total;
    s->dmin = rnd(&r, 1, 10);
    s->dmax = s->dmin + rnd(&r, 0, 90);
    s->loss = (unsigned)rnd(&r, 0, 30);
    s->dup = (unsigned)rnd(&r, 0, 30);
    s->crash_pm = octo_rng_below(&r, 2) ? (unsigned)rnd(&r, 1, 60) : 0;
    s->part_pm = octo_rng_below(&r, 2) ? (unsigned)rnd(&r, 1, 100) : 0;
    s->skew = octo_rng_below(&r, 2) == 0;
    for (int i = 0; i < NODES_MAX; i++) { /* clock skew: offsets and rates per node */
        s->nodes[i].clock_off = s->skew ? rnd(&r, 0, 3000) : 0;
        s->nodes[i].drift = s->skew ? (int)rnd(&r, 0, 40) - 20 : 0;
    }
    octo_rng_init(&s->net_rng, s->seed * 3 + 1);
    octo_rng_init(&s->fault_rng, s->seed * 5 + 2);
    octo_rng_init(&s->app_rng, s->seed * 7 + 3);
}

static void set_partitions(struct sim *s, bool heal)
{
    for (int i = 0; i < s->n_nodes; i++)
        s->nodes[i].part = 0;
    if (heal)
        return;
    unsigned kind = (unsigned)octo_rng_below(&s->fault_rng, 3);
    if (kind == 0) { /* isolate one */
        s->nodes[octo_rng_below(&s->fault_rng, (uint64_t)s->n_nodes)].part = 1;
    } else if (kind == 1) { /* split in two */
        for (int i = 0; i < s->n_nodes; i++)
            s->nodes[i].part = (int)octo_rng_below(&s->fault_rng, 2);
    }
    if (s->twins) { /* the twins never share a side while split */
        s->nodes[0].part = 0;
        s->nodes[s->n_nodes - 1].part = 1;
    }
}

static void handle(struct sim *s, struct event *e)
{
    struct node *nd = e->kind == EV_PARTITION ? NULL : &s->nodes[e->node];
    switch (e->kind) {
    case EV_MSG:
        if (nd->up) {
            (void)octo_cons_receive(&nd->core, node_now(s, nd), (uint32_t)e->from, e->data, e->len,
                                    s->out);
            run_out(s, e->node, s->out, 0);
        }
        octo_free(e->data);
        break;
    case EV_TICK:
        if (nd->up && e->gen == nd->tick_gen) {
            octo_cons_tick(&nd->core, node_now(s, nd), s->out);
            run_out(s, e->node, s->out, 0);
        }
        break;
    case EV_CRASH:
        if (s->faults && getenv("SIM_TRACE"))
            printf("t=%" PRIu64 " crash node %d\n", s->now, e->node);
        if (s->faults)
            crash(s, e->node);
        break;
    case EV_RESTART:
        if (!nd->up)
            node_start(s, e->node);
        break;
    case EV_PARTITION:
        if (s->faults)
            set_partitions(s, octo_rng_below(&s->fault_rng, 3) == 0);
        break;
    }
}

static void schedule_faults(struct sim *s)
{
    for (uint64_t t = 1000; t < FAULT_MS; t += 1000) {
        if (s->part_pm > 0 && octo_rng_below(&s->fault_rng, 1000) < s->part_pm * 10)
            push(s, (struct event){.t = t, .kind = EV_PARTITION});
        for (int i = 0; i < s->n_nodes; i++)
            if (s->crash_pm > 0 && octo_rng_below(&s->fault_rng, 1000) < s->crash_pm)
                push(s, (struct event){
                            .t = t + rnd(&s->fault_rng, 0, 999), .kind = EV_CRASH, .node = i});
    }
}

static size_t min_honest_fin(const struct sim *s)
{
    size_t m = SIZE_MAX;
    for (int i = 0; i < s->n_nodes; i++)
        if (!(s->twins && s->nodes[i].val == 0) && s->nodes[i].n_fin < m)
            m = s->nodes[i].n_fin;
    return m;
}

static bool run_seed(uint64_t seed, bool verbose, struct octo_cons_out *out)
{
    struct sim *s = octo_calloc(1, sizeof(*s));
    OCTO_ASSERT(s != NULL);
    s->seed = seed;
    s->out = out;
    for (int i = 0; i < SUB_DEPTH; i++) {
        s->sub[i] = octo_calloc(1, sizeof(*s->sub[i]));
        OCTO_ASSERT(s->sub[i] != NULL);
    }
    s->verbose = verbose;
    s->heap = octo_calloc(EVENTS_MAX, sizeof(*s->heap));
    s->scratch = octo_malloc(sizeof(*s->scratch));
    s->payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
    OCTO_ASSERT(s->heap != NULL && s->scratch != NULL && s->payload != NULL);
    profile(s);
    s->n_nodes = s->n_val + (s->twins ? 1 : 0);
    octo_sha256("octo-sim-chain", 14, s->chain_id);
    octo_sha256("octo-sim-genesis", 16, s->genesis);
    octo_sha256(&seed, sizeof(seed), s->cseed);
    ledger_genesis(s);
    for (int i = 0; i < s->n_val; i++) {
        uint8_t kseed[OCTO_ED25519_SEED_LEN] = {0};
        memcpy(kseed, &seed, sizeof(seed));
        kseed[31] = (uint8_t)i;
        int rc = octo_identity_from_seed(&s->nodes[i].key, kseed);
        OCTO_ASSERT(rc == 0);
        memcpy(s->val[i].pk, s->nodes[i].key.pub.bytes, 32);
        s->nodes[i].val = i;
    }
    if (s->twins) { /* the last instance is validator 0's twin */
        struct node *t = &s->nodes[s->n_nodes - 1];
        uint8_t kseed[OCTO_ED25519_SEED_LEN] = {0};
        memcpy(kseed, &seed, sizeof(seed));
        int rc = octo_identity_from_seed(&t->key, kseed);
        OCTO_ASSERT(rc == 0);
        t->val = 0;
        t->twin = true;
    }
    if (verbose)
        printf("seed %" PRIu64 ": %d validators%s, delay %" PRIu64 "-%" PRIu64
               " ms, loss %u%%, dup %u%%, crash %u/1000 s, partition %u/100 s%s\n",
               seed, s->n_val, s->twins ? " + twin of 0" : "", s->dmin, s->dmax, s->loss, s->dup,
               s->crash_pm, s->part_pm, s->skew ? ", clocks skewed" : "");
    s->faults = true;
    if (s->twins)
        set_partitions(s, false);
    schedule_faults(s);
    for (int i = 0; i < s->n_nodes; i++)
        node_start(s, i);
    /* safety phase, then liveness */
    size_t base = 0;
    bool healed = false;
    while (s->n_ev > 0 && s->fail == NULL) {
        struct event e = pop(s);
        s->now = e.t;
        if (!healed && s->now >= FAULT_MS) {
            healed = true;
            s->faults = false;
            set_partitions(s, true);
            for (int i = 0; i < s->n_nodes; i++)
                if (!s->nodes[i].up)
                    node_start(s, i);
            base = s->n_canon;
        }
        handle(s, &e);
        if (healed && min_honest_fin(s) >= base + LIVENESS_BLOCKS)
            break;
        if (s->now > FAULT_MS + LIVENESS_MS) {
            fail(s, "liveness: honest validators did not finalize enough blocks after healing");
            break;
        }
    }
    if (s->fail == NULL && !(healed && min_honest_fin(s) >= base + LIVENESS_BLOCKS))
        fail(s, "liveness: the simulation ran out of events");
    bool ok = s->fail == NULL;
    for (int i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].up)
            s->nodes[i].syncs += octo_cons_stats(&s->nodes[i].core)->syncs;
    if (!ok || verbose) {
        const struct octo_ledger_stats *ls = octo_ledger_stats(&s->nodes[s->n_val - 1].led);
        uint64_t syncs = 0;
        for (int i = 0; i < s->n_nodes; i++)
            syncs += s->nodes[i].syncs;
        printf("seed %" PRIu64 ": %s (%zu blocks finalized, %d validators%s; ledger: %" PRIu64
               " transactions ok, %" PRIu64 " failed, %" PRIu64 " skipped; %" PRIu64
               " long catch-ups)\n",
               seed, ok ? "ok" : s->why, s->n_canon, s->n_val, s->twins ? " + twin" : "",
               ls->txs_ok, ls->txs_failed, ls->txs_skipped, syncs);
    }
    while (s->n_ev > 0) {
        struct event e = pop(s);
        octo_free(e.data);
    }
    for (int i = 0; i < s->n_nodes; i++) {
        if (s->nodes[i].up)
            octo_cons_deinit(&s->nodes[i].core);
        for (size_t w = 0; w < s->nodes[i].n_wal; w++)
            octo_free(s->nodes[i].wal[w]);
        for (size_t h = 0; h < s->nodes[i].n_fin && h < FIN_MAX; h++)
            octo_free(s->nodes[i].fin_enc[h]);
        if (s->nodes[i].led_on)
            octo_ledger_deinit(&s->nodes[i].led);
        octo_identity_deinit(&s->nodes[i].key);
    }
    for (int i = 0; i < SUB_DEPTH; i++)
        octo_free(s->sub[i]);
    octo_free(s->heap);
    octo_free(s->scratch);
    octo_free(s->payload);
    octo_free(s);
    return ok;
}

int main(int argc, char **argv)
{
    uint64_t first = 1, count = 0;
    double seconds = 0;
    bool verbose = false, have_seed = false;
    const char *seed_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0 && i + 2 < argc) {
            first = strtoull(argv[++i], NULL, 10);
            count = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            first = strtoull(argv[++i], NULL, 10);
            count = 1;
            have_seed = true;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = strtod(argv[++i], NULL);
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            seed_file = argv[++i];
        } else {
            fprintf(stderr, "usage: sim_cons [--file SEEDS] [--seeds FIRST COUNT] [--seed S] "
                            "[--seconds S] [--verbose]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct octo_cons_out *out = octo_calloc(1, sizeof(*out));
    OCTO_ASSERT(out != NULL);
    unsigned passed = 0, failed = 0;
    if (seed_file != NULL && !have_seed) {
        FILE *f = fopen(seed_file, "r");
        char line[64];
        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            if (line[0] < '0' || line[0] > '9')
                continue;
            uint64_t sd = strtoull(line, NULL, 10);
            if (run_seed(sd, verbose, out))
                passed++;
            else {
                failed++;
                printf("replay: sim_cons --seed %" PRIu64 " --verbose\n", sd);
            }
        }
        if (f != NULL)
            fclose(f);
    }
    for (uint64_t i = 0; i < count; i++) {
        if (run_seed(first + i, verbose, out))
            passed++;
        else {
            failed++;
            printf("replay: sim_cons --seed %" PRIu64 " --verbose\n", first + i);
        }
    }
    if (seconds > 0) { /* a random sweep under a wall-clock cap */
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct octo_rng r;
        octo_rng_init(&r, (uint64_t)t0.tv_nsec ^ ((uint64_t)t0.tv_sec << 20));
        for (;;) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 >= seconds)
                break;
            uint64_t sd = octo_rng_next(&r) >> 16;
            if (run_seed(sd, verbose, out))
                passed++;
            else {
                failed++;
                printf("replay: sim_cons --seed %" PRIu64 " --verbose\n", sd);
            }
        }
    }
    octo_free(out);
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
