/*
 * consensus.c — stake-weighted Simplex, sans-I/O (see consensus.h for the protocol).
 *
 * State: a ring of OCTO_CONS_WINDOW view slots (view v at v % WINDOW, reused once the last
 * finalized view passes it), each with every validator's first vote of each kind (block and
 * signature, so a certificate can be rebuilt; a block's stake is summed over the validators
 * naming it), the blocks that reached a quorum, this node's own votes, and the leader's first
 * proposal.
 * Blocks live in a table of OCTO_CONS_BLOCKS_MAX entries (payload copies), found by id.
 *
 * Certificates are not broadcast when they form: votes go to everyone, so every node counts
 * the quorums itself. A node that missed votes recovers from later views' quorums, from the
 * certificates every node rebroadcasts when its view stalls (timeouts), and from the
 * certificates sent back to a peer whose votes show it is behind. A finalization names one
 * block; its ancestors back to the last finalized block are walked by parent id and fetched
 * (BLOCK_REQ) when missing — a block's id covers its parent's id and height, so the walk is
 * authenticated by the certificate alone.
 */
#include "chain/consensus.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "crypto/hash.h"

#include <string.h>

#define NV OCTO_CONS_VALIDATORS_MAX
#define SIG OCTO_CONS_SIG_LEN
#define IDL OCTO_CONS_ID_LEN
#define BIDX (4 * OCTO_CONS_BLOCKS_MAX)  /* a power of two */
#define OUT_RESERVE 128                  /* actions only own votes may use */
#define RESERVE_BYTES ((size_t)64 << 10) /* bytes only own votes and proposals may use */

/* One validator's votes in one view: the first of each kind (a second, different one is
 * evidence, never counted), so no validator can crowd out the others' blocks. */
struct vrec {
    uint8_t notar_id[IDL], final_id[IDL];
    uint8_t notar_sig[SIG], final_sig[SIG], skip_sig[SIG];
};

struct slot {
    uint64_t view;                           /* 0: unused */
    uint64_t notar_set, final_set, skip_set; /* who voted each kind */
    bool skipped;
    uint8_t notarized[OCTO_CONS_CANDIDATES][IDL]; /* blocks with a NOTARIZE quorum */
    /* and the certificate that showed it (rebroadcast as received: the votes held may lack
     * a signer whose conflicting vote came first) */
    struct octo_cons_cert notar_cert[OCTO_CONS_CANDIDATES];
    uint8_t final_q[OCTO_CONS_CANDIDATES][IDL]; /* blocks with a FINALIZE quorum */
    unsigned n_notarized, n_final_q;
    struct vrec v[NV];
    bool voted_notar, voted_skip, voted_final; /* this node's votes */
    bool proposed;                             /* prop is this node's own proposal */
    uint8_t my_notar[IDL];
    int prop; /* the leader's first proposal (block index), -1 none */
};

struct blk {
    bool used;
    int8_t valid; /* payload check: 0 not yet, 1 valid, -1 invalid */
    uint8_t id[IDL];
    struct octo_cons_block hdr;
    uint8_t *payload;
    uint32_t len;
    uint16_t signer;
    uint8_t sig[SIG];
    uint64_t stamp; /* insertion order, for eviction */
};

struct octo_cons_state {
    uint8_t chain_id[IDL], seed[IDL];
    struct octo_cons_validator val[NV];
    uint32_t n;
    uint64_t total, quorum, delta;
    octo_cons_validate_fn validate;
    void *validate_ctx;
    const struct octo_identity *key;
    uint32_t self; /* NV: no key */

    struct octo_cons_anchor fin;
    struct octo_cons_cert fin_cert; /* the last finalization seen (kind 0: none) */
    uint64_t cur, leader_deadline, notar_deadline, rebroadcast_at;
    uint64_t restored_max;
    bool have_target;
    uint8_t target[IDL];
    uint64_t target_view, request_at;
    uint8_t requested[IDL]; /* the block last asked for */
    uint64_t payload_again; /* a view whose proposal waits for its parent block */
    uint64_t vote_floor;    /* no votes at or below: a persisted vote there could not be kept */
    uint64_t served_at[NV]; /* when each peer's next block request is served */
    uint64_t behind_reply_view[NV]; /* the view a catch-up reply was last sent for, per peer */
    uint64_t stamp;
    struct octo_cons_stats stats;
    struct octo_cons_msg scratch;            /* the message being handled */
    struct blk *chain[OCTO_CONS_BLOCKS_MAX]; /* try_deliver's walk */
    /* catch-up over a gap longer than the block table: the ids of the chain from the target
     * down (sync_ids[i] is the id at height sync_top - i), collected walking parent links
     * back with each block dropped once its id is kept, then the blocks fetched again
     * forward, OCTO_CONS_SYNC_BATCH at a time, and delivered as they arrive */
    bool syncing;
    uint8_t (*sync_ids)[IDL];
    size_t sync_n, sync_cap;
    uint64_t sync_top;
    uint8_t sync_cursor[IDL]; /* the next block to walk back from */
    bool sync_back;           /* still walking back */
    size_t sync_switch;       /* gaps longer than this are caught up with ids */
    uint64_t sync_req_low, sync_req_high, sync_req_at; /* heights the last request covers */
    struct slot slots[OCTO_CONS_WINDOW];
    struct blk blocks[OCTO_CONS_BLOCKS_MAX];
    int16_t bidx[BIDX]; /* block index by id (blk_find), -1 empty */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static bool id_eq(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, IDL) == 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static struct slot *slot_get(struct octo_cons_state *st, uint64_t v)
{
    if (v <= st->fin.view || v > st->fin.view + OCTO_CONS_WINDOW)
        return NULL;
    struct slot *s = &st->slots[v % OCTO_CONS_WINDOW];
    if (s->view != v) { /* its old view is at or before the last finalized one */
        OCTO_ASSERT(s->view <= st->fin.view);
        memset(s, 0, sizeof(*s));
        s->view = v;
        s->prop = -1;
    }
    return s;
}

/* Blocks are found through an open-addressing index on their id's first bytes (ids are
 * SHA-256: uniform), linear probing, at most a quarter full. */
static size_t bidx_home(const uint8_t *id)
{
    uint64_t h;
    memcpy(&h, id, sizeof(h));
    return (size_t)h & (BIDX - 1);
}

static struct blk *blk_find(struct octo_cons_state *st, const uint8_t *id)
{
    for (size_t i = bidx_home(id);; i = (i + 1) & (BIDX - 1)) {
        int16_t k = st->bidx[i];
        if (k < 0)
            return NULL;
        if (id_eq(st->blocks[k].id, id))
            return &st->blocks[k];
    }
}

static void bidx_insert(struct octo_cons_state *st, const struct blk *b)
{
    size_t i = bidx_home(b->id);
    while (st->bidx[i] >= 0)
        i = (i + 1) & (BIDX - 1);
    st->bidx[i] = (int16_t)(b - st->blocks);
}

/* Removes b's entry and shifts later entries of its probe run back into the gap. */
static void bidx_remove(struct octo_cons_state *st, const struct blk *b)
{
    size_t i = bidx_home(b->id);
    while (st->bidx[i] != (int16_t)(b - st->blocks))
        i = (i + 1) & (BIDX - 1);
    st->bidx[i] = -1;
    for (size_t j = (i + 1) & (BIDX - 1); st->bidx[j] >= 0; j = (j + 1) & (BIDX - 1)) {
        size_t home = bidx_home(st->blocks[st->bidx[j]].id);
        /* move j's entry into the gap at i unless its home lies cyclically in (i, j] */
        bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            st->bidx[i] = st->bidx[j];
            st->bidx[j] = -1;
            i = j;
        }
    }
}

static void blk_free(struct octo_cons_state *st, struct blk *b)
{
    bidx_remove(st, b);
    octo_free(b->payload);
    memset(b, 0, sizeof(*b));
}

/* A free entry, or the oldest one at or before the last finalized view (never an unfinalized
 * block, nor the one the last finalization delivered). */
static struct blk *blk_alloc(struct octo_cons_state *st)
{
    struct blk *victim = NULL;
    for (size_t i = 0; i < OCTO_CONS_BLOCKS_MAX; i++) {
        struct blk *b = &st->blocks[i];
        if (!b->used)
            return b;
        if (b->hdr.view < st->fin.view && (victim == NULL || b->stamp < victim->stamp))
            victim = b;
    }
    if (victim != NULL)
        blk_free(st, victim);
    return victim;
}

/* ---- output ------------------------------------------------------------------------------ */

static void out_reset(struct octo_cons_out *out)
{
    out->n = 0;
    out->used = 0;
    out->wake_ms = 0;
}

static struct octo_cons_action *emit(struct octo_cons_state *st, struct octo_cons_out *out,
                                     enum octo_cons_action_kind kind, uint32_t to)
{
    if (out->n >= OCTO_CONS_ACTIONS_MAX) {
        st->stats.dropped_full++;
        return NULL;
    }
    struct octo_cons_action *a = &out->acts[out->n++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->to = to;
    return a;
}

/* Encodes m into the out buffer; NULL (counted) when it is full. Only this node's own votes
 * and proposals (own) may use the last RESERVE_BYTES, so that no reply, rebroadcast or
 * evidence can leave a vote without the room to be persisted and sent. */
static const uint8_t *encode(struct octo_cons_state *st, struct octo_cons_out *out,
                             const struct octo_cons_msg *m, size_t *len, bool own)
{
    size_t keep = own ? 0 : RESERVE_BYTES;
    if (out->used + keep >= OCTO_CONS_OUT_BYTES) {
        st->stats.dropped_full++;
        return NULL;
    }
    int rc =
        octo_cons_msg_encode(m, out->bytes + out->used, OCTO_CONS_OUT_BYTES - keep - out->used);
    if (rc == OCTO_ENOSPACE) {
        st->stats.dropped_full++;
        return NULL;
    }
    OCTO_ASSERT(rc > 0); /* the core only builds valid messages */
    const uint8_t *p = out->bytes + out->used;
    out->used += (size_t)rc;
    *len = (size_t)rc;
    return p;
}

/* Room for `acts` more actions that are not own votes (which may use the reserve). */
static bool acts_room(const struct octo_cons_out *out, size_t acts)
{
    return out->n + acts + OUT_RESERVE <= OCTO_CONS_ACTIONS_MAX;
}

static void send_msg(struct octo_cons_state *st, struct octo_cons_out *out, uint32_t to,
                     const struct octo_cons_msg *m)
{
    size_t len;
    if (!acts_room(out, 1)) {
        st->stats.dropped_full++;
        return;
    }
    const uint8_t *p = encode(st, out, m, &len, false);
    if (p == NULL)
        return;
    struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_SEND, to);
    OCTO_ASSERT(a != NULL); /* room was checked above */
    a->data = p;
    a->len = len;
}

static void wake_at(struct octo_cons_out *out, uint64_t t)
{
    if (t != 0 && (out->wake_ms == 0 || t < out->wake_ms))
        out->wake_ms = t;
}

/* ---- leader schedule and signatures ------------------------------------------------------ */

uint32_t octo_cons_leader(const struct octo_cons *c, uint64_t v)
{
    const struct octo_cons_state *st = c->st;
    uint8_t in[IDL + 8], h[OCTO_SHA256_LEN];
    memcpy(in, st->seed, IDL);
    octo_store_be64(in + IDL, v);
    octo_sha256(in, sizeof(in), h);
    uint64_t r = octo_load_be64(h) % st->total;
    for (uint32_t i = 0; i < st->n; i++) {
        if (r < st->val[i].weight)
            return i;
        r -= st->val[i].weight;
    }
    OCTO_UNREACHABLE();
}

static bool vote_sig_ok(const struct octo_cons_state *st, uint8_t kind, uint64_t view,
                        const uint8_t *block, uint32_t signer, const uint8_t *sig)
{
    uint8_t msg[OCTO_CONS_VOTE_SIGNED_MAX];
    size_t len = octo_cons_vote_signed(st->chain_id, kind, view, block, msg);
    struct octo_pubkey pk;
    memcpy(pk.bytes, st->val[signer].pk, sizeof(pk.bytes));
    return octo_pubkey_verify(&pk, msg, len, sig) == 0;
}

/* Whether proposal p carries its signer's valid signature; its block id into id. */
static bool proposal_sig_ok(const struct octo_cons_state *st, const struct octo_cons_proposal *p,
                            uint8_t id[IDL])
{
    uint8_t msg[OCTO_CONS_VOTE_SIGNED_MAX];
    octo_cons_block_id(st->chain_id, &p->block, id);
    size_t len = octo_cons_proposal_signed(st->chain_id, id, msg);
    struct octo_pubkey pk;
    memcpy(pk.bytes, st->val[p->signer].pk, sizeof(pk.bytes));
    return octo_pubkey_verify(&pk, msg, len, p->sig) == 0;
}

static const uint8_t ZERO_ID[IDL];

/* ---- votes ------------------------------------------------------------------------------- */

static bool id_in(const uint8_t (*ids)[IDL], unsigned n, const uint8_t *id)
{
    for (unsigned i = 0; i < n; i++)
        if (id_eq(ids[i], id))
            return true;
    return false;
}

/* Whether slot s has a notarized block (id == NULL: any; else that one). */
static bool slot_notarized(const struct slot *s, const uint8_t *id)
{
    return id == NULL ? s->n_notarized > 0
                      : id_in((const uint8_t(*)[IDL])s->notarized, s->n_notarized, id);
}

/* The vote of validator i of `kind` in s: its block and signature. */
static const uint8_t *vote_id(const struct slot *s, uint8_t kind, uint32_t i)
{
    return kind == OCTO_CONS_NOTARIZE   ? s->v[i].notar_id
           : kind == OCTO_CONS_FINALIZE ? s->v[i].final_id
                                        : ZERO_ID;
}

static const uint8_t *vote_sig(const struct slot *s, uint8_t kind, uint32_t i)
{
    return kind == OCTO_CONS_NOTARIZE   ? s->v[i].notar_sig
           : kind == OCTO_CONS_FINALIZE ? s->v[i].final_sig
                                        : s->v[i].skip_sig;
}

/* The certificate of `kind` for block id in s from the votes held; false under the quorum. */
static bool kind_cert(const struct octo_cons_state *st, const struct slot *s, uint8_t kind,
                      const uint8_t *id, struct octo_cons_cert *c)
{
    uint64_t set = kind == OCTO_CONS_SKIP       ? s->skip_set
                   : kind == OCTO_CONS_NOTARIZE ? s->notar_set
                                                : s->final_set;
    uint64_t signers = 0, w = 0;
    for (uint32_t i = 0; i < st->n; i++) {
        if ((set >> i & 1) && id_eq(vote_id(s, kind, i), id)) {
            signers |= (uint64_t)1 << i;
            w += st->val[i].weight;
        }
    }
    if (w < st->quorum)
        return false;
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->view = s->view;
    memcpy(c->block, id, IDL);
    c->signers = signers;
    unsigned k = 0;
    for (uint32_t i = 0; i < st->n; i++)
        if (signers >> i & 1)
            memcpy(c->sigs[k++], vote_sig(s, kind, i), SIG);
    return true;
}

static void evidence(struct octo_cons_state *st, struct octo_cons_out *out, uint32_t who,
                     const struct octo_cons_msg *a, const struct octo_cons_msg *b)
{
    st->stats.evidence++;
    if (out == NULL || !acts_room(out, 1))
        return;
    size_t used0 = out->used, la, lb;
    if (out->used + 8 + RESERVE_BYTES > OCTO_CONS_OUT_BYTES)
        return;
    uint8_t *start = out->bytes + out->used;
    out->used += 4;
    const uint8_t *ea = encode(st, out, a, &la, false);
    if (ea != NULL && out->used + 4 + RESERVE_BYTES <= OCTO_CONS_OUT_BYTES) {
        out->used += 4;
        if (encode(st, out, b, &lb, false) != NULL) {
            octo_store_be32(start, (uint32_t)la);
            octo_store_be32(start + 4 + la, (uint32_t)lb);
            struct octo_cons_action *act = emit(st, out, OCTO_CONS_ACT_EVIDENCE, who);
            OCTO_ASSERT(act != NULL); /* room was checked above */
            act->data = start;
            act->len = 8 + la + lb;
            return;
        }
    }
    out->used = used0; /* no room: nothing half written stays */
}

static struct octo_cons_msg vote_msg(uint8_t kind, uint64_t view, const uint8_t *block,
                                     uint32_t signer, const uint8_t *sig)
{
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_VOTE};
    m.u.vote.kind = kind;
    m.u.vote.view = view;
    memcpy(m.u.vote.block, block, IDL);
    m.u.vote.signer = (uint16_t)signer;
    memcpy(m.u.vote.sig, sig, SIG);
    return m;
}

/* An own vote or proposal: PERSIST then SEND to all, both or neither (never sent unless
 * persisted first). False when there is no room: the caller then changes nothing. */
/* A PERSIST of encoded bytes already in the out buffer (the caller checked the room). */
static void emit_persist(struct octo_cons_state *st, struct octo_cons_out *out, const uint8_t *p,
                         size_t len, uint64_t view)
{
    struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_PERSIST, 0);
    OCTO_ASSERT(a != NULL);
    a->data = p;
    a->len = len;
    a->view = view;
}

static bool persist_and_send(struct octo_cons_state *st, struct octo_cons_out *out,
                             const struct octo_cons_msg *m, uint64_t view)
{
    size_t len;
    if (out->n + 2 > OCTO_CONS_ACTIONS_MAX) {
        st->stats.dropped_full++;
        return false;
    }
    const uint8_t *p = encode(st, out, m, &len, true);
    if (p == NULL)
        return false;
    emit_persist(st, out, p, len, view);
    struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_SEND, OCTO_CONS_TO_ALL);
    OCTO_ASSERT(a != NULL); /* room was checked above */
    a->data = p;
    a->len = len;
    return true;
}

static void on_thresholds(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                          struct slot *s, const struct octo_cons_cert *cert);

/* Records a verified vote, the signer's first of its kind in the view; a conflicting one
 * (another block, or SKIP and FINALIZE) is reported as evidence. Returns false when nothing
 * new was recorded. */
static bool record_vote(struct octo_cons_state *st, struct octo_cons_out *out, struct slot *s,
                        const struct octo_cons_vote *v)
{
    uint64_t bit = (uint64_t)1 << v->signer;
    struct vrec *r = &s->v[v->signer];
    struct octo_cons_msg mine = vote_msg(v->kind, v->view, v->block, v->signer, v->sig);
    if (v->kind == OCTO_CONS_SKIP) {
        if (s->skip_set & bit)
            return false;
        if (s->final_set & bit) {
            struct octo_cons_msg other =
                vote_msg(OCTO_CONS_FINALIZE, v->view, r->final_id, v->signer, r->final_sig);
            evidence(st, out, v->signer, &other, &mine);
        }
        s->skip_set |= bit;
        memcpy(r->skip_sig, v->sig, SIG);
        return true;
    }
    bool notar = v->kind == OCTO_CONS_NOTARIZE;
    uint64_t *set = notar ? &s->notar_set : &s->final_set;
    uint8_t *id = notar ? r->notar_id : r->final_id;
    uint8_t *sig = notar ? r->notar_sig : r->final_sig;
    if (*set & bit) {
        if (!id_eq(id, v->block)) { /* two blocks in one view */
            struct octo_cons_msg other = vote_msg(v->kind, v->view, id, v->signer, sig);
            evidence(st, out, v->signer, &other, &mine);
        }
        return false;
    }
    if (!notar && (s->skip_set & bit)) {
        struct octo_cons_msg other =
            vote_msg(OCTO_CONS_SKIP, v->view, ZERO_ID, v->signer, r->skip_sig);
        evidence(st, out, v->signer, &other, &mine);
    }
    *set |= bit;
    memcpy(id, v->block, IDL);
    memcpy(sig, v->sig, SIG);
    return true;
}

/* Casts this node's vote, checking the three voting rules; persisted, then sent. */
/* This node's signed vote. */
static struct octo_cons_msg own_vote(const struct octo_cons_state *st, uint8_t kind, uint64_t view,
                                     const uint8_t *block)
{
    uint8_t msg[OCTO_CONS_VOTE_SIGNED_MAX], sig[SIG];
    size_t len = octo_cons_vote_signed(st->chain_id, kind, view, block, msg);
    octo_identity_sign(st->key, msg, len, sig);
    return vote_msg(kind, view, block, st->self, sig);
}

static bool cast(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                 struct slot *s, uint8_t kind, const uint8_t *block)
{
    OCTO_ASSERT(st->self < NV);
    if (kind == OCTO_CONS_NOTARIZE)
        OCTO_ASSERT(!s->voted_notar); /* rule 1: one NOTARIZE per view */
    else if (kind == OCTO_CONS_SKIP)
        OCTO_ASSERT(!s->voted_final && !s->voted_skip); /* rule 2 */
    else /* rule 2, and rule 3: FINALIZE only a notarized block */
        OCTO_ASSERT(!s->voted_skip && !s->voted_final && slot_notarized(s, block));
    if (s->view <= st->vote_floor)
        return false; /* persisted votes of this view may not all have been replayed */
    struct octo_cons_msg m = own_vote(st, kind, s->view, block);
    if (!persist_and_send(st, out, &m, s->view))
        return false; /* nothing changed: the vote was neither persisted nor sent */
    if (kind == OCTO_CONS_NOTARIZE) {
        s->voted_notar = true;
        memcpy(s->my_notar, block, IDL);
    } else if (kind == OCTO_CONS_SKIP) {
        s->voted_skip = true;
    } else {
        s->voted_final = true;
    }
    st->stats.votes_sent++;
    if (record_vote(st, out, s, &m.u.vote))
        on_thresholds(st, now, out, s, NULL);
    return true;
}

static void try_deliver(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out);
static void request_block(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                          const uint8_t *id);

/* ---- proposals and the notarize rule ----------------------------------------------------- */

/* Whether block b may be voted for: its parent is the last finalized block, or a held and
 * notarized block one height below, and every view in between is skipped. */
static bool parent_ok(struct octo_cons_state *st, const struct octo_cons_block *b)
{
    if (b->parent_view < st->fin.view || b->parent_view >= b->view)
        return false;
    if (b->parent_view == st->fin.view) {
        if (!id_eq(b->parent, st->fin.id) || b->height != st->fin.height + 1)
            return false;
    } else {
        struct slot *p = slot_get(st, b->parent_view);
        const struct blk *pb = blk_find(st, b->parent);
        if (p == NULL || !slot_notarized(p, b->parent) || pb == NULL ||
            pb->hdr.view != b->parent_view || b->height != pb->hdr.height + 1)
            return false;
    }
    for (uint64_t u = b->parent_view + 1; u < b->view; u++) {
        struct slot *g = slot_get(st, u);
        if (g == NULL || !g->skipped)
            return false;
    }
    return true;
}

static struct octo_cons_msg proposal_msg(const struct blk *b);

/* Before voting NOTARIZE for another validator's block, the block itself is persisted: after
 * a crash this validator still holds (and can serve) every block it helped notarize, so a
 * notarized block cannot vanish with the restarts of those who voted for it. The block goes
 * out as a PERSIST only; it keeps the reserve for the vote that follows. */
static bool keep_durable(struct octo_cons_state *st, struct octo_cons_out *out, const struct blk *b)
{
    if (b->signer == st->self)
        return true; /* persisted as this validator's own proposal */
    if (!acts_room(out, 1))
        return false;
    struct octo_cons_msg m = proposal_msg(b);
    size_t len;
    const uint8_t *p = encode(st, out, &m, &len, false);
    if (p == NULL)
        return false;
    emit_persist(st, out, p, len, b->hdr.view);
    return true;
}

static void try_notarize(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out)
{
    if (st->self >= NV)
        return;
    struct slot *s = slot_get(st, st->cur);
    if (s == NULL || s->voted_notar || s->voted_skip || s->prop < 0)
        return;
    struct blk *b = &st->blocks[s->prop];
    if (!b->used || b->hdr.view != st->cur)
        return;
    if (b->hdr.parent_view > st->fin.view && blk_find(st, b->hdr.parent) == NULL)
        request_block(st, now, out, b->hdr.parent);
    if (!parent_ok(st, &b->hdr))
        return;
    if (b->valid == 0) {
        int rc =
            st->validate != NULL ? st->validate(st->validate_ctx, &b->hdr, b->payload, b->len) : 0;
        b->valid = rc == 0 ? 1 : -1;
        if (rc != 0)
            st->stats.invalid_payload++;
    }
    if (b->valid > 0 && keep_durable(st, out, b))
        cast(st, now, out, s, OCTO_CONS_NOTARIZE, b->id);
}

/* Keeps a verified proposal; returns its block (NULL if it could not be kept). */
static struct blk *keep_block(struct octo_cons_state *st, const uint8_t *id,
                              const struct octo_cons_proposal *p)
{
    struct blk *b = blk_find(st, id);
    if (b != NULL)
        return b;
    b = blk_alloc(st);
    uint8_t *copy = p->payload_len > 0 ? octo_malloc(p->payload_len) : NULL;
    if (b == NULL || (p->payload_len > 0 && copy == NULL)) {
        octo_free(copy);
        st->stats.dropped_full++;
        return NULL;
    }
    if (p->payload_len > 0)
        memcpy(copy, p->payload, p->payload_len);
    b->used = true;
    memcpy(b->id, id, IDL);
    b->hdr = p->block;
    b->payload = copy;
    b->len = p->payload_len;
    b->signer = p->signer;
    memcpy(b->sig, p->sig, SIG);
    b->stamp = ++st->stamp;
    bidx_insert(st, b);
    return b;
}

static struct octo_cons_msg proposal_msg(const struct blk *b)
{
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_PROPOSAL};
    m.u.proposal.block = b->hdr;
    m.u.proposal.payload = b->payload;
    m.u.proposal.payload_len = b->len;
    m.u.proposal.signer = b->signer;
    memcpy(m.u.proposal.sig, b->sig, SIG);
    return m;
}

static void tick(struct octo_cons_state *st, uint64_t now_ms, struct octo_cons_out *out);

/* ---- certificates, thresholds, views ----------------------------------------------------- */

static void send_cert(struct octo_cons_state *st, struct octo_cons_out *out, uint32_t to,
                      const struct octo_cons_cert *c)
{
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_CERT};
    m.u.cert = *c;
    send_msg(st, out, to, &m);
}

/* Settled views are logged too (no sync needed): certificates are what lets a later
 * proposal's gaps and parent be checked, and after everyone restarted nobody else may have
 * them. Replayed by octo_cons_restore; dropped (counted) when the output is full. */
static void persist_cert(struct octo_cons_state *st, struct octo_cons_out *out,
                         const struct octo_cons_cert *c)
{
    if (out == NULL || !acts_room(out, 1))
        return;
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_CERT};
    m.u.cert = *c;
    size_t len;
    const uint8_t *p = encode(st, out, &m, &len, false);
    if (p == NULL)
        return;
    struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_PERSIST, 0);
    OCTO_ASSERT(a != NULL); /* room was checked above */
    a->data = p;
    a->len = len;
    a->view = c->view;
}

static void enter(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out, uint64_t v);

/* A block of slot s newly notarized (by the votes held, or by the checked certificate c). */
static void on_notarized(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                         struct slot *s, const struct octo_cons_cert *c)
{
    if (s->n_notarized >= OCTO_CONS_CANDIDATES) { /* only with a third of the stake lying */
        st->stats.conflicts++;
        return;
    }
    s->notar_cert[s->n_notarized] = *c;
    memcpy(s->notarized[s->n_notarized++], c->block, IDL);
    persist_cert(st, out, c);
    if (blk_find(st, c->block) == NULL) /* a later proposal may need it as its parent */
        request_block(st, now, out, c->block);
    if (st->self < NV && !s->voted_skip && !s->voted_final)
        (void)cast(st, now, out, s, OCTO_CONS_FINALIZE, c->block);
}

/* A block of slot s newly finalized: the target of delivery if it is the newest. */
static void on_final_quorum(struct octo_cons_state *st, struct slot *s,
                            const struct octo_cons_cert *c)
{
    if (s->n_final_q >= OCTO_CONS_CANDIDATES) {
        st->stats.conflicts++;
        return;
    }
    memcpy(s->final_q[s->n_final_q++], c->block, IDL);
    st->fin_cert = *c;
    if (!st->have_target || s->view > st->target_view) {
        st->have_target = true;
        memcpy(st->target, c->block, IDL);
        st->target_view = s->view;
    }
}

/* Acts on quorums newly reached in slot s; cert: a checked certificate just received, whose
 * block counts as reached even if this node holds a conflicting vote of one of its signers. */
static void on_thresholds(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                          struct slot *s, const struct octo_cons_cert *cert)
{
    uint64_t v = s->view;
    bool advance = false;
    struct octo_cons_cert c;
    bool skip_cert = cert != NULL && cert->kind == OCTO_CONS_SKIP;
    if (!s->skipped && (skip_cert || kind_cert(st, s, OCTO_CONS_SKIP, ZERO_ID, &c))) {
        s->skipped = true;
        st->stats.skipped_views++;
        advance = true;
        persist_cert(st, out, skip_cert ? cert : &c);
    }
    for (uint32_t i = 0; i < st->n; i++) { /* each block some validator voted for */
        if ((s->notar_set >> i & 1) && !slot_notarized(s, s->v[i].notar_id) &&
            kind_cert(st, s, OCTO_CONS_NOTARIZE, s->v[i].notar_id, &c)) {
            advance = true;
            on_notarized(st, now, out, s, &c);
        }
        if ((s->final_set >> i & 1) &&
            !id_in((const uint8_t(*)[IDL])s->final_q, s->n_final_q, s->v[i].final_id) &&
            kind_cert(st, s, OCTO_CONS_FINALIZE, s->v[i].final_id, &c)) {
            advance = true;
            on_final_quorum(st, s, &c);
        }
    }
    if (cert != NULL && cert->kind == OCTO_CONS_NOTARIZE && !slot_notarized(s, cert->block)) {
        advance = true;
        on_notarized(st, now, out, s, cert);
    }
    if (cert != NULL && cert->kind == OCTO_CONS_FINALIZE &&
        !id_in((const uint8_t(*)[IDL])s->final_q, s->n_final_q, cert->block)) {
        advance = true;
        on_final_quorum(st, s, cert);
    }
    if (st->have_target)
        try_deliver(st, now, out);
    if (advance && v >= st->cur)
        enter(st, now, out, v + 1);
    else
        try_notarize(st, now, out); /* a parent or a gap may have just been settled */
}

/* Timeouts grow with the views since the last finalization (bounded). */
static uint64_t timeout_mult(const struct octo_cons_state *st)
{
    uint64_t since = st->cur > st->fin.view + 1 ? st->cur - st->fin.view - 1 : 0;
    return 1 + min_u64(since / 2, 8);
}

static void enter(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out, uint64_t v)
{
    while (v > st->cur) {
        st->cur = v;
        uint64_t m = timeout_mult(st);
        st->leader_deadline = now + 2 * st->delta * m;
        st->notar_deadline = now + 3 * st->delta * m;
        st->rebroadcast_at = 0;
        struct slot *s = slot_get(st, v);
        if (s == NULL)
            return; /* beyond the window: wait for the finalization to catch up */
        if (st->self < NV && octo_cons_leader(&(struct octo_cons){st}, v) == st->self &&
            s->prop < 0) {
            struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_NEED_PAYLOAD, st->self);
            if (a != NULL)
                a->view = v;
        }
        if (s->skipped || slot_notarized(s, NULL)) /* its quorum arrived ahead of us */
            v++;
        else
            try_notarize(st, now, out);
    }
}

/* ---- delivery of finalized blocks -------------------------------------------------------- */

/* Asks everyone for block id (and, by the reply's convention, its ancestors): at once for an
 * id not asked for yet, else again every 2 delta. */
static void request_block(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                          const uint8_t *id)
{
    if (id_eq(id, st->requested) && now < st->request_at)
        return;
    memcpy(st->requested, id, IDL);
    st->request_at = now + 2 * st->delta;
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_BLOCK_REQ};
    memcpy(m.u.block_req, id, IDL);
    send_msg(st, out, OCTO_CONS_TO_ALL, &m);
    st->stats.requests_sent++;
}

/* A block request from validator `to`: the block and up to OCTO_CONS_SYNC_BATCH - 1 of its
 * ancestors from the table, newest first; the first one the table lacks goes to the
 * blockstore (FETCH, answered with the same convention). */
static void serve_blocks(struct octo_cons_state *st, struct octo_cons_out *out, uint32_t to,
                         const uint8_t *id)
{
    for (int k = 0; k < OCTO_CONS_SYNC_BATCH; k++) {
        struct blk *b = blk_find(st, id);
        if (b == NULL) {
            struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_FETCH, to);
            if (a != NULL)
                memcpy(a->id, id, IDL);
            return;
        }
        struct octo_cons_msg pm = proposal_msg(b);
        send_msg(st, out, to, &pm);
        if (b->hdr.height <= 1)
            return;
        id = b->hdr.parent;
    }
}

/* Hands block b to the shell as final and moves the anchor to it. */
static void deliver(struct octo_cons_state *st, struct octo_cons_out *out, const struct blk *b)
{
    struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_FINALIZED, 0);
    OCTO_ASSERT(a != NULL); /* callers keep OUT_RESERVE free */
    a->data = b->payload;
    a->len = b->len;
    a->proposal = proposal_msg(b).u.proposal;
    a->view = b->hdr.view;
    a->height = b->hdr.height;
    memcpy(a->id, b->id, IDL);
    st->fin.view = b->hdr.view;
    st->fin.height = b->hdr.height;
    memcpy(st->fin.id, b->id, IDL);
    st->stats.finalized++;
}

/* During a long catch-up only the blocks its walk needs next are kept: below the walk's
 * cursor going back, the next batch going forward (every other block a peer sends, new
 * proposals included, would fill the table with blocks that cannot be evicted). */
static bool sync_wants(const struct octo_cons_state *st, uint64_t height)
{
    if (!st->syncing)
        return true;
    if (height <= st->fin.height)
        return false;
    if (st->sync_back)
        return height <= st->sync_top - st->sync_n;
    return height <= st->fin.height + OCTO_CONS_SYNC_BATCH;
}

static void sync_stop(struct octo_cons_state *st)
{
    st->syncing = false;
    st->sync_n = 0;
    st->have_target = false;
}

/* Keeps one more id of the walk back; false when the walk cannot go on (no memory, or more
 * than OCTO_CONS_SYNC_IDS_MAX heights). */
static bool sync_push(struct octo_cons_state *st, const uint8_t *id)
{
    if (st->sync_n == st->sync_cap) {
        size_t cap = st->sync_cap ? st->sync_cap * 2 : 4096;
        if (cap > OCTO_CONS_SYNC_IDS_MAX)
            return false;
        uint8_t(*ids)[IDL] = octo_realloc(st->sync_ids, cap * IDL);
        if (ids == NULL)
            return false;
        st->sync_ids = ids;
        st->sync_cap = cap;
    }
    memcpy(st->sync_ids[st->sync_n++], id, IDL);
    return true;
}

/* Asks for the block `id` at `height` (and so its batch of ancestors) unless the last request
 * covers that height and is younger than 2 delta: its batch is still arriving. */
static void sync_request(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                         const uint8_t *id, uint64_t height, uint64_t wanted)
{
    if (wanted >= st->sync_req_low && wanted <= st->sync_req_high &&
        now < st->sync_req_at + 2 * st->delta)
        return;
    st->sync_req_high = height;
    st->sync_req_low = height >= OCTO_CONS_SYNC_BATCH ? height - (OCTO_CONS_SYNC_BATCH - 1) : 1;
    st->sync_req_at = now;
    memset(st->requested, 0, IDL); /* a new request, sent now */
    request_block(st, now, out, id);
}

/* The long catch-up: walk back to the last finalized block keeping only ids, then fetch and
 * deliver forward. */
static void sync_step(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out)
{
    while (st->sync_back) {                      /* phase 1: back */
        uint64_t ch = st->sync_top - st->sync_n; /* the cursor's height */
        if (ch <= st->fin.height) {
            /* the walk is down to what this node holds final (which may have moved on
             * meanwhile): the chain it walked must pass through our last final block */
            bool ours = ch == st->fin.height
                            ? id_eq(st->sync_cursor, st->fin.id)
                            : id_eq(st->sync_ids[st->sync_top - st->fin.height], st->fin.id);
            if (!ours) {
                st->stats.conflicts++;
                sync_stop(st);
                return;
            }
            st->sync_back = false;
            break;
        }
        struct blk *b = blk_find(st, st->sync_cursor);
        if (b == NULL) {
            sync_request(st, now, out, st->sync_cursor, ch, ch);
            wake_at(out, now + 2 * st->delta);
            return;
        }
        if (b->hdr.height != ch || !sync_push(st, b->id)) {
            st->stats.conflicts++; /* not the chain it claims to be, or too long */
            sync_stop(st);
            return;
        }
        memcpy(st->sync_cursor, b->hdr.parent, IDL);
        if (slot_get(st, b->hdr.view) == NULL)
            blk_free(st, b); /* its id is kept; it comes again when its turn comes */
    }
    while (st->fin.height < st->sync_top) { /* phase 2: forward */
        const uint8_t *want = st->sync_ids[st->sync_top - (st->fin.height + 1)];
        const struct blk *b = blk_find(st, want);
        if (b == NULL) {
            /* the batch that ends with the block wanted: its newest member and its ancestors */
            uint64_t ask = st->fin.height + OCTO_CONS_SYNC_BATCH;
            if (ask > st->sync_top)
                ask = st->sync_top;
            sync_request(st, now, out, st->sync_ids[st->sync_top - ask], ask, st->fin.height + 1);
            wake_at(out, now + 2 * st->delta);
            return;
        }
        if (out->n + OUT_RESERVE >= OCTO_CONS_ACTIONS_MAX) {
            wake_at(out, now);
            return;
        }
        deliver(st, out, b);
    }
    sync_stop(st);
    if (st->cur <= st->fin.view)
        enter(st, now, out, st->fin.view + 1);
}

static void try_deliver(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out)
{
    if (!st->have_target || st->target_view <= st->fin.view) {
        sync_stop(st);
        return;
    }
    if (st->syncing) {
        sync_step(st, now, out);
        return;
    }
    struct blk **chain = st->chain;
    size_t k = 0;
    const uint8_t *id = st->target;
    while (!id_eq(id, st->fin.id)) {
        struct blk *b = blk_find(st, id);
        if (b == NULL) {
            request_block(st, now, out, id);
            return;
        }
        if (b->hdr.height <= st->fin.height) {
            /* not a descendant of the last finalized block: more than a third of the stake
             * signed a conflicting finalization */
            st->stats.conflicts++;
            st->have_target = false;
            return;
        }
        if (k == st->sync_switch) { /* a long gap: go on with ids only */
            st->syncing = true;
            st->sync_n = 0;
            st->sync_top = chain[0]->hdr.height;
            bool ok = true;
            for (size_t i = 0; i < k && ok; i++)
                ok = sync_push(st, chain[i]->id);
            if (!ok) {
                st->stats.conflicts++;
                sync_stop(st);
                return;
            }
            memcpy(st->sync_cursor, id, IDL);
            st->sync_back = true;
            st->sync_req_low = st->sync_req_high = st->sync_req_at = 0;
            st->stats.syncs++;
            sync_step(st, now, out);
            return;
        }
        chain[k++] = b;
        id = b->hdr.parent;
    }
    /* oldest first; as many as this call's actions can carry (the rest on the next tick):
     * a block is final for this node only once the shell has been told */
    while (k > 0 && out->n + OUT_RESERVE < OCTO_CONS_ACTIONS_MAX)
        deliver(st, out, chain[--k]);
    if (k > 0) {
        wake_at(out, now);
        return;
    }
    st->have_target = false;
    if (st->cur <= st->fin.view)
        enter(st, now, out, st->fin.view + 1);
}

/* ---- receiving --------------------------------------------------------------------------- */

static int on_vote(struct octo_cons_state *st, uint64_t now, uint32_t from,
                   struct octo_cons_out *out, const struct octo_cons_vote *v)
{
    if (v->signer >= st->n) {
        st->stats.not_validator++;
        return OCTO_EPERM;
    }
    struct slot *s = slot_get(st, v->view);
    if (s == NULL) {
        if (v->view <= st->fin.view) {
            st->stats.stale++;
            /* the sender is behind: send it the last finalization, once per view */
            if (from < st->n && from == v->signer && st->fin_cert.kind != 0 &&
                st->behind_reply_view[from] < st->fin.view) {
                st->behind_reply_view[from] = st->fin.view;
                send_cert(st, out, from, &st->fin_cert);
            }
            return OCTO_ESTATE;
        }
        st->stats.too_far++;
        return OCTO_ERANGE;
    }
    if (!vote_sig_ok(st, v->kind, v->view, v->block, v->signer, v->sig)) {
        st->stats.bad_signature++;
        return OCTO_EBADSIG;
    }
    if (!record_vote(st, out, s, v)) {
        st->stats.duplicate++;
        return 0;
    }
    on_thresholds(st, now, out, s, NULL);
    return 0;
}

/* A certificate's signers are validators with a quorum of stake, and every signature holds
 * (counted in stats when not). */
static int cert_check(struct octo_cons_state *st, const struct octo_cons_cert *c)
{
    if (st->n < NV && (c->signers >> st->n) != 0) {
        st->stats.not_validator++;
        return OCTO_EPERM;
    }
    uint64_t w = 0; /* weight first (cheap), then the signatures */
    for (uint32_t i = 0; i < st->n; i++)
        if (c->signers & ((uint64_t)1 << i))
            w += st->val[i].weight;
    if (w < st->quorum) {
        st->stats.malformed++;
        return OCTO_EMALFORMED;
    }
    unsigned k = 0;
    for (uint32_t i = 0; i < st->n; i++) {
        if (!(c->signers & ((uint64_t)1 << i)))
            continue;
        if (!vote_sig_ok(st, c->kind, c->view, c->block, i, c->sigs[k++])) {
            st->stats.bad_signature++;
            return OCTO_EBADSIG;
        }
    }
    return 0;
}

/* Records a checked certificate's votes in slot s, and its settlement. */
static void cert_record(struct octo_cons_state *st, struct octo_cons_out *out, struct slot *s,
                        const struct octo_cons_cert *c)
{
    unsigned k = 0;
    for (uint32_t i = 0; i < st->n; i++) {
        if (!(c->signers & ((uint64_t)1 << i)))
            continue;
        struct octo_cons_vote v = {.kind = c->kind, .view = c->view, .signer = (uint16_t)i};
        memcpy(v.block, c->block, IDL);
        memcpy(v.sig, c->sigs[k++], SIG);
        (void)record_vote(st, out, s, &v);
    }
}

static int on_cert(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                   const struct octo_cons_cert *c)
{
    if (c->view <= st->fin.view) {
        st->stats.stale++;
        return OCTO_ESTATE;
    }
    struct slot *s = slot_get(st, c->view);
    if (s == NULL && c->kind != OCTO_CONS_FINALIZE) {
        st->stats.too_far++;
        return OCTO_ERANGE;
    }
    int rc = cert_check(st, c);
    if (rc != 0)
        return rc;
    if (s == NULL) { /* a finalization beyond the window: catch up to it */
        if (!st->have_target || c->view > st->target_view) {
            st->have_target = true;
            memcpy(st->target, c->block, IDL);
            st->target_view = c->view;
            st->fin_cert = *c;
        }
        try_deliver(st, now, out);
        return 0;
    }
    cert_record(st, out, s, c);
    on_thresholds(st, now, out, s, c);
    return 0;
}

static int on_proposal(struct octo_cons_state *st, uint64_t now, struct octo_cons_out *out,
                       const struct octo_cons_proposal *p)
{
    const struct octo_cons_block *b = &p->block;
    bool wanted = st->have_target && b->view <= st->target_view && sync_wants(st, b->height);
    struct slot *s = slot_get(st, b->view);
    if (s == NULL && !(wanted && b->view > st->fin.view)) {
        if (b->view <= st->fin.view)
            st->stats.stale++;
        else
            st->stats.too_far++;
        return b->view <= st->fin.view ? OCTO_ESTATE : OCTO_ERANGE;
    }
    if (p->signer >= st->n) {
        st->stats.not_validator++;
        return OCTO_EPERM;
    }
    if (p->signer != octo_cons_leader(&(struct octo_cons){st}, b->view)) {
        st->stats.not_leader++;
        return OCTO_EPERM;
    }
    uint8_t id[IDL];
    if (!proposal_sig_ok(st, p, id)) {
        st->stats.bad_signature++;
        return OCTO_EBADSIG;
    }
    struct blk *kept = blk_find(st, id);
    if (kept != NULL) {
        st->stats.duplicate++;
    } else {
        /* one proposal per view is kept: a leader's second one is evidence, kept only when
         * it is the block a notarization or a finalization names (then it is needed) */
        bool needed = wanted || id_eq(id, st->requested) || (s != NULL && slot_notarized(s, id));
        if (s != NULL && s->prop >= 0 && !id_eq(st->blocks[s->prop].id, id)) {
            struct octo_cons_msg first = proposal_msg(&st->blocks[s->prop]);
            struct octo_cons_msg second = {.type = OCTO_CONS_MSG_PROPOSAL};
            second.u.proposal = *p;
            evidence(st, out, p->signer, &first, &second);
            if (!needed)
                return 0;
        }
        kept = keep_block(st, id, p);
        if (kept == NULL)
            return OCTO_ENOSPACE;
        st->stats.proposals++;
    }
    if (s != NULL && s->prop < 0)
        s->prop = (int)(kept - st->blocks);
    if (st->have_target)
        try_deliver(st, now, out);
    if (st->payload_again == st->cur && st->payload_again != 0) { /* the parent it lacked? */
        st->payload_again = 0;
        struct octo_cons_action *a = emit(st, out, OCTO_CONS_ACT_NEED_PAYLOAD, st->self);
        if (a != NULL)
            a->view = st->cur;
    }
    try_notarize(st, now, out);
    return 0;
}

int octo_cons_receive(struct octo_cons *c, uint64_t now_ms, uint32_t from, const uint8_t *msg,
                      size_t len, struct octo_cons_out *out)
{
    struct octo_cons_state *st = c->st;
    out_reset(out);
    st->stats.received++;
    struct octo_cons_msg *mp = &st->scratch;
    int rc = octo_cons_msg_decode(msg, len, mp);
    if (rc != 0) {
        st->stats.malformed++;
    } else {
        switch (mp->type) {
        case OCTO_CONS_MSG_VOTE:
            rc = on_vote(st, now_ms, from, out, &mp->u.vote);
            break;
        case OCTO_CONS_MSG_CERT:
            rc = on_cert(st, now_ms, out, &mp->u.cert);
            break;
        case OCTO_CONS_MSG_PROPOSAL:
            rc = on_proposal(st, now_ms, out, &mp->u.proposal);
            break;
        case OCTO_CONS_MSG_BLOCK_REQ: /* one request per peer per quarter delta */
            if (from < st->n && now_ms >= st->served_at[from]) {
                st->served_at[from] = now_ms + (st->delta + 3) / 4;
                serve_blocks(st, out, from, mp->u.block_req);
            }
            break;
        default:
            OCTO_UNREACHABLE();
        }
    }
    tick(st, now_ms, out);
    return rc;
}

/* ---- time -------------------------------------------------------------------------------- */

/* Standstill: this node's votes in the current view and the certificates that let a peer
 * catch up (the last finalization, and what settled the previous view). */
static void rebroadcast(struct octo_cons_state *st, struct octo_cons_out *out)
{
    struct slot *s = slot_get(st, st->cur);
    if (s != NULL && st->self < NV) { /* signed again: Ed25519 gives the persisted bytes */
        if (s->voted_skip) {
            struct octo_cons_msg m = own_vote(st, OCTO_CONS_SKIP, s->view, ZERO_ID);
            send_msg(st, out, OCTO_CONS_TO_ALL, &m);
        }
        if (s->voted_notar) {
            struct octo_cons_msg m = own_vote(st, OCTO_CONS_NOTARIZE, s->view, s->my_notar);
            send_msg(st, out, OCTO_CONS_TO_ALL, &m);
        }
        if (s->proposed) {
            struct octo_cons_msg pm = proposal_msg(&st->blocks[s->prop]);
            send_msg(st, out, OCTO_CONS_TO_ALL, &pm);
        }
    }
    if (st->fin_cert.kind != 0)
        send_cert(st, out, OCTO_CONS_TO_ALL, &st->fin_cert);
    /* every view since the last finalization that this node saw settled: a peer that missed
     * one of them cannot accept any later parent */
    uint64_t end = min_u64(st->cur, st->fin.view + OCTO_CONS_WINDOW + 1);
    for (uint64_t u = st->fin.view + 1; u < end; u++) {
        const struct slot *p = slot_get(st, u);
        struct octo_cons_cert cert;
        if (p == NULL)
            continue;
        if (p->skipped && kind_cert(st, p, OCTO_CONS_SKIP, ZERO_ID, &cert))
            send_cert(st, out, OCTO_CONS_TO_ALL, &cert);
        for (unsigned i = 0; i < p->n_notarized; i++)
            send_cert(st, out, OCTO_CONS_TO_ALL, &p->notar_cert[i]);
    }
}

static void tick(struct octo_cons_state *st, uint64_t now_ms, struct octo_cons_out *out)
{
    struct slot *s = slot_get(st, st->cur);
    if (s != NULL && st->self < NV && !s->voted_skip && !s->voted_final) {
        bool leader_late = now_ms >= st->leader_deadline && !s->voted_notar;
        bool notar_late = now_ms >= st->notar_deadline && !slot_notarized(s, NULL);
        if ((leader_late || notar_late) && !cast(st, now_ms, out, s, OCTO_CONS_SKIP, ZERO_ID))
            wake_at(out, now_ms + 1); /* no room in this call's output: again at once */
    }
    s = slot_get(st, st->cur); /* the view may have moved */
    /* a stalled view (or one beyond the window): rebroadcast, then again every 2 delta */
    if (s == NULL || now_ms >= st->notar_deadline) {
        if (now_ms >= st->rebroadcast_at) {
            rebroadcast(st, out);
            st->rebroadcast_at = now_ms + 2 * st->delta * timeout_mult(st);
        }
        wake_at(out, st->rebroadcast_at);
    }
    if (st->have_target) {
        try_deliver(st, now_ms, out);
        if (st->have_target)
            wake_at(out, st->request_at > now_ms ? st->request_at : now_ms + st->delta);
    }
    s = slot_get(st, st->cur);
    if (s != NULL && st->self < NV && !s->voted_skip && !s->voted_final) {
        if (st->leader_deadline > now_ms && !s->voted_notar)
            wake_at(out, st->leader_deadline);
        else if (st->notar_deadline > now_ms)
            wake_at(out, st->notar_deadline);
    }
    if (st->notar_deadline > now_ms)
        wake_at(out, st->notar_deadline);
}

void octo_cons_tick(struct octo_cons *c, uint64_t now_ms, struct octo_cons_out *out)
{
    out_reset(out);
    tick(c->st, now_ms, out);
}

/* ---- proposing --------------------------------------------------------------------------- */

/* The parent a proposal for `view` extends: the newest notarized block with every later view
 * skipped, or the last finalized one; fills b's view, height, parent_view and parent.
 * OCTO_ENOTFOUND (*missing: the notarized block not held), OCTO_EINVAL (a view between is
 * neither notarized nor skipped). */
static int find_parent(struct octo_cons_state *st, uint64_t view, struct octo_cons_block *b,
                       const uint8_t **missing)
{
    b->view = view;
    b->parent_view = st->fin.view;
    b->height = st->fin.height + 1;
    memcpy(b->parent, st->fin.id, IDL);
    for (uint64_t u = view - 1; u > st->fin.view; u--) {
        struct slot *g = slot_get(st, u);
        if (g == NULL)
            return OCTO_EINVAL;
        if (g->n_notarized > 0) {
            const uint8_t *nid = g->notarized[0];
            const struct blk *pb = blk_find(st, nid);
            if (pb == NULL) {
                *missing = nid;
                return OCTO_ENOTFOUND;
            }
            b->parent_view = u;
            b->height = pb->hdr.height + 1;
            memcpy(b->parent, nid, IDL);
            return 0;
        }
        if (!g->skipped)
            return OCTO_EINVAL;
    }
    return 0;
}

int octo_cons_propose(struct octo_cons *c, uint64_t now_ms, uint64_t view, const uint8_t *payload,
                      size_t len, struct octo_cons_out *out)
{
    struct octo_cons_state *st = c->st;
    out_reset(out);
    if (len > OCTO_CONS_PAYLOAD_MAX)
        return OCTO_ETOOBIG;
    struct slot *s = slot_get(st, view);
    if (st->self >= NV || view != st->cur || s == NULL || s->prop >= 0 || s->voted_skip ||
        view <= st->vote_floor || octo_cons_leader(c, view) != st->self)
        return OCTO_EINVAL;
    struct octo_cons_proposal p = {.payload = payload, .payload_len = (uint32_t)len};
    const uint8_t *missing = NULL;
    int rc = find_parent(st, view, &p.block, &missing);
    if (rc == OCTO_ENOTFOUND) { /* notarized but not held: asked for; the payload again then */
        request_block(st, now_ms, out, missing);
        st->payload_again = view;
    }
    if (rc != 0)
        return rc;
    octo_sha256(payload, len, p.block.payload_hash);
    uint8_t id[IDL], msg[OCTO_CONS_VOTE_SIGNED_MAX];
    octo_cons_block_id(st->chain_id, &p.block, id);
    size_t mlen = octo_cons_proposal_signed(st->chain_id, id, msg);
    octo_identity_sign(st->key, msg, mlen, p.sig);
    p.signer = (uint16_t)st->self;
    struct blk *b = keep_block(st, id, &p);
    if (b == NULL)
        return OCTO_ENOMEM;
    s->prop = (int)(b - st->blocks);
    s->proposed = true;
    /* persisted before it is sent: a restarted leader must not propose again in this view */
    struct octo_cons_msg m = proposal_msg(b);
    persist_and_send(st, out, &m, view);
    try_notarize(st, now_ms, out);
    tick(st, now_ms, out);
    return 0;
}

/* ---- life cycle -------------------------------------------------------------------------- */

int octo_cons_init(struct octo_cons *c, const struct octo_cons_config *cfg,
                   const struct octo_identity *self, const struct octo_cons_anchor *anchor)
{
    OCTO_ASSERT(c != NULL && cfg != NULL && anchor != NULL);
    c->st = NULL;
    if (cfg->n_validators == 0 || cfg->n_validators > NV || cfg->validators == NULL ||
        cfg->delta_ms == 0)
        return OCTO_EINVAL;
    uint64_t total = 0;
    for (uint32_t i = 0; i < cfg->n_validators; i++) {
        uint64_t w = cfg->validators[i].weight;
        if (w == 0 || w > ((uint64_t)1 << 62) - total)
            return OCTO_EINVAL;
        total += w;
    }
    uint32_t me = NV;
    if (self != NULL) {
        for (uint32_t i = 0; i < cfg->n_validators; i++)
            if (memcmp(cfg->validators[i].pk, self->pub.bytes, OCTO_ED25519_PK_LEN) == 0)
                me = i;
        if (me == NV)
            return OCTO_EINVAL;
    }
    struct octo_cons_state *st = octo_calloc(1, sizeof(*st));
    if (st == NULL)
        return OCTO_ENOMEM;
    memcpy(st->chain_id, cfg->chain_id, IDL);
    memcpy(st->seed, cfg->seed, IDL);
    memcpy(st->val, cfg->validators, cfg->n_validators * sizeof(st->val[0]));
    st->n = cfg->n_validators;
    st->total = total;
    st->quorum = total * 2 / 3 + 1; /* floor(2W/3) + 1 */
    st->delta = cfg->delta_ms;
    st->validate = cfg->validate;
    st->validate_ctx = cfg->validate_ctx;
    st->vote_floor = cfg->vote_floor;
    st->sync_switch = cfg->catch_up_switch != 0 && cfg->catch_up_switch < OCTO_CONS_SYNC_SWITCH
                          ? cfg->catch_up_switch
                          : OCTO_CONS_SYNC_SWITCH;
    st->key = self;
    st->self = me;
    st->fin = *anchor;
    st->cur = anchor->view;
    for (size_t i = 0; i < OCTO_CONS_WINDOW; i++)
        st->slots[i].prop = -1;
    memset(st->bidx, 0xff, sizeof(st->bidx));
    c->st = st;
    return 0;
}

void octo_cons_deinit(struct octo_cons *c)
{
    if (c == NULL || c->st == NULL)
        return;
    for (size_t i = 0; i < OCTO_CONS_BLOCKS_MAX; i++)
        if (c->st->blocks[i].used)
            blk_free(c->st, &c->st->blocks[i]);
    octo_free(c->st->sync_ids);
    octo_free(c->st);
    c->st = NULL;
}

/* A persisted proposal: this validator's own (it must never propose again in that view), or
 * the leader's block it voted NOTARIZE for (held again, so it can be served). */
static int restore_proposal(struct octo_cons_state *st, const struct octo_cons_proposal *p)
{
    uint8_t id[IDL];
    bool own = p->signer == st->self;
    if (p->signer >= st->n || !proposal_sig_ok(st, p, id) ||
        (!own && octo_cons_leader(&(struct octo_cons){st}, p->block.view) != p->signer))
        return OCTO_EMALFORMED;
    struct slot *s = slot_get(st, p->block.view);
    if (s == NULL) { /* past the window: never vote (nor propose) again up to that view */
        if (own && p->block.view > st->vote_floor && p->block.view > st->fin.view)
            st->vote_floor = p->block.view;
        return 0;
    }
    struct blk *b = keep_block(st, id, p);
    if (b == NULL)
        return OCTO_ENOSPACE;
    if (s->prop < 0)
        s->prop = (int)(b - st->blocks);
    if (own) {
        s->proposed = true;
        if (p->block.view > st->restored_max)
            st->restored_max = p->block.view;
    }
    return 0;
}

int octo_cons_restore(struct octo_cons *c, const uint8_t *rec, size_t len)
{
    struct octo_cons_state *st = c->st;
    struct octo_cons_msg m;
    if (octo_cons_msg_decode(rec, len, &m) != 0 || st->self >= NV)
        return OCTO_EMALFORMED;
    if (m.type == OCTO_CONS_MSG_PROPOSAL)
        return restore_proposal(st, &m.u.proposal);
    if (m.type == OCTO_CONS_MSG_CERT && m.u.cert.kind != OCTO_CONS_FINALIZE) {
        struct slot *cs = slot_get(st, m.u.cert.view);
        if (cs == NULL)
            return 0; /* settled at or before the anchor, or too far ahead: not needed */
        if (cert_check(st, &m.u.cert) != 0)
            return OCTO_EMALFORMED;
        cert_record(st, NULL, cs, &m.u.cert);
        if (m.u.cert.kind == OCTO_CONS_SKIP)
            cs->skipped = true;
        else if (!slot_notarized(cs, m.u.cert.block) && cs->n_notarized < OCTO_CONS_CANDIDATES) {
            cs->notar_cert[cs->n_notarized] = m.u.cert;
            memcpy(cs->notarized[cs->n_notarized++], m.u.cert.block, IDL);
        }
        return 0;
    }
    if (m.type != OCTO_CONS_MSG_VOTE || m.u.vote.signer != st->self ||
        !vote_sig_ok(st, m.u.vote.kind, m.u.vote.view, m.u.vote.block, st->self, m.u.vote.sig))
        return OCTO_EMALFORMED;
    struct slot *s = slot_get(st, m.u.vote.view);
    if (s == NULL) { /* past the window: never vote again up to that view */
        if (m.u.vote.view > st->vote_floor && m.u.vote.view > st->fin.view)
            st->vote_floor = m.u.vote.view;
        return 0;
    }
    if (m.u.vote.kind == OCTO_CONS_NOTARIZE) {
        s->voted_notar = true;
        memcpy(s->my_notar, m.u.vote.block, IDL);
    } else if (m.u.vote.kind == OCTO_CONS_SKIP) {
        s->voted_skip = true;
    } else {
        s->voted_final = true;
    }
    (void)record_vote(st, NULL, s, &m.u.vote);
    if (m.u.vote.view > st->restored_max)
        st->restored_max = m.u.vote.view;
    return 0;
}

void octo_cons_start(struct octo_cons *c, uint64_t now_ms, struct octo_cons_out *out)
{
    struct octo_cons_state *st = c->st;
    out_reset(out);
    uint64_t v = st->fin.view + 1;
    if (st->restored_max >= v) { /* a FINALIZE there means its view was notarized */
        const struct slot *r = slot_get(st, st->restored_max);
        v = st->restored_max + (r != NULL && r->voted_final ? 1 : 0);
    }
    enter(st, now_ms, out, v);
    /* votes persisted before a crash may never have been sent */
    struct slot *s = slot_get(st, st->cur);
    if (s != NULL && (s->voted_notar || s->voted_skip))
        rebroadcast(st, out);
    tick(st, now_ms, out);
}

uint64_t octo_cons_view(const struct octo_cons *c)
{
    return c->st->cur;
}

int octo_cons_final_cert(const struct octo_cons *c, uint64_t view, const uint8_t id[IDL],
                         struct octo_cons_cert *out)
{
    struct octo_cons_state *st = c->st;
    if (st->fin_cert.kind == OCTO_CONS_FINALIZE && st->fin_cert.view == view &&
        id_eq(st->fin_cert.block, id)) {
        *out = st->fin_cert;
        return 0;
    }
    /* a finalized view's slot keeps its votes until a later view reuses it */
    const struct slot *s = &st->slots[view % OCTO_CONS_WINDOW];
    if (s->view == view && kind_cert(st, s, OCTO_CONS_FINALIZE, id, out))
        return 0;
    return OCTO_ENOTFOUND;
}

struct octo_cons_anchor octo_cons_finalized(const struct octo_cons *c)
{
    return c->st->fin;
}

const struct octo_cons_stats *octo_cons_stats(const struct octo_cons *c)
{
    return &c->st->stats;
}

int octo_cons_pending(struct octo_cons *c, uint64_t view, struct octo_cons_pending *out, size_t max)
{
    struct octo_cons_state *st = c->st;
    struct octo_cons_block b;
    const uint8_t *missing = NULL;
    if (view <= st->fin.view)
        return OCTO_EINVAL;
    int rc = find_parent(st, view, &b, &missing);
    if (rc != 0)
        return rc;
    size_t n = (size_t)(b.height - 1 - st->fin.height); /* unfinalized ancestors */
    if (n > max)
        return OCTO_ENOSPACE;
    const uint8_t *id = b.parent;
    for (size_t k = n; k > 0; k--) { /* parent first, stored oldest first */
        const struct blk *pb = blk_find(st, id);
        if (pb == NULL)
            return OCTO_ENOTFOUND;
        out[k - 1] = (struct octo_cons_pending){&pb->hdr, pb->id, pb->payload, pb->len};
        id = pb->hdr.parent;
    }
    return id_eq(id, st->fin.id) ? (int)n : OCTO_EINVAL; /* it descends from the last final */
}

void octo_cons_sync_state(const struct octo_cons *c, uint64_t *top, uint64_t *ids, bool *back)
{
    const struct octo_cons_state *st = c->st;
    *top = st->syncing ? st->sync_top : 0;
    *ids = st->syncing ? st->sync_n : 0;
    *back = st->syncing && st->sync_back;
}

const uint8_t *octo_cons_payload(const struct octo_cons *c, const uint8_t id[OCTO_CONS_ID_LEN],
                                 uint32_t *len)
{
    const struct blk *b = blk_find(c->st, id);
    if (b == NULL)
        return NULL;
    *len = b->len;
    return b->payload;
}
