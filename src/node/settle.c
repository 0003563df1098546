/*
 * settle.c — escrows, settlements and refunds of the orchestrator (settle.h).
 *
 * Two lanes, one per signing account: the payer's (ESCROW, REFUND) and the orchestrator's
 * (SETTLE), each with its own nonces. Each lane is a ring of OCTO_SETTLE_QUEUE_MAX
 * transactions to make, in order. drain() builds,
 * signs and submits them from the head while the pool takes them; a refusal that more time
 * mends (the account's pool share is full, the pool is full) leaves the head for the next
 * drain; a stale nonce resynchronises from the ledger; anything else drops the intent.
 * Receipts gather in `batch` until OCTO_TX_RECEIPTS_MAX or OCTO_SETTLE_BATCH_MS, then become
 * one SETTLE intent. Failed tasks' escrows wait in `refunds` (a min-heap would do better than
 * the linear sweep; the sweep runs once a second over at most OCTO_SETTLE_REFUNDS_MAX).
 */
#include "node/settle.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "chain/ledger.h"
#include "chain/mempool.h"

#include <string.h>

enum intent_kind { INTENT_ESCROW = 1, INTENT_SETTLE = 2, INTENT_REFUND = 3, INTENT_SLASH = 4 };

struct intent {
    uint8_t kind;
    uint8_t task[32];
    uint64_t amount, expires_ms;
    uint8_t *receipts;  /* SETTLE: count * OCTO_RECEIPT_LEN bytes (SLASH: one), owned */
    uint64_t *expiries; /* SETTLE: each receipt's escrow expiry, owned */
    uint16_t count;
    uint64_t nonce; /* once submitted */
};

struct refund {
    uint8_t task[32];
    uint64_t due_ms;
};

/* A provider's receipt for a result that failed verification, waiting for its escrow. */
struct slash {
    uint8_t receipt[OCTO_RECEIPT_LEN];
    uint64_t expires_ms;
    octo_tick at;
};

struct lane {
    const struct octo_identity *id;
    uint8_t addr[OCTO_ADDR_LEN];
    struct intent *q; /* ring of OCTO_SETTLE_QUEUE_MAX: waiting for the pool */
    uint32_t head, len;
    struct intent *sent; /* ring of OCTO_SETTLE_SENT_MAX: in the pool, not yet applied */
    uint32_t sent_head, sent_len;
    uint64_t next_nonce;
    uint64_t seen_nonce;     /* the ledger's nonce of the account when last looked at */
    octo_tick stalled_since; /* since when it has not moved with transactions outstanding */
};

struct octo_settler {
    struct octo_settler_config cfg;
    uint8_t chain_id[32];
    struct lane payer, orch;
    uint8_t batch[OCTO_TX_RECEIPTS_MAX * OCTO_RECEIPT_LEN];
    octo_tick batch_at[OCTO_TX_RECEIPTS_MAX];    /* when each receipt came (monotonic) */
    uint64_t batch_expiry[OCTO_TX_RECEIPTS_MAX]; /* each receipt's escrow expiry (unix ms) */
    uint16_t batch_n;
    octo_tick batch_since;
    struct refund *refunds;
    uint32_t n_refunds;
    struct slash slashes[OCTO_SETTLE_SLASHES_MAX];
    uint32_t n_slashes;
    uv_timer_t timer;
    bool stopped;
    uint32_t ticks;
    struct octo_settler_stats stats;
};

static const struct octo_ledger *ledger(const struct octo_settler *s)
{
    return octo_validator_ledger(s->cfg.chain);
}

/* The intent as a signed transaction with the lane's next nonce, in buf. Returns its length. */
static int build(struct octo_settler *s, struct lane *l, const struct intent *in, uint8_t *buf,
                 size_t cap)
{
    struct octo_tx t;
    memset(&t, 0, sizeof(t));
    memcpy(t.from, l->addr, sizeof(t.from));
    t.nonce = l->next_nonce;
    t.fee = octo_ledger_params(ledger(s))->min_fee;
    if (in->kind == INTENT_ESCROW) {
        t.type = OCTO_TX_ESCROW;
        memcpy(t.u.escrow.task, in->task, 32);
        memcpy(t.u.escrow.orchestrator, s->orch.addr, 32);
        t.u.escrow.amount = in->amount;
        t.u.escrow.expires_ms = in->expires_ms;
    } else if (in->kind == INTENT_SETTLE) {
        t.type = OCTO_TX_SETTLE;
        t.u.settle.receipts = in->receipts;
        t.u.settle.count = in->count;
    } else if (in->kind == INTENT_SLASH) {
        t.type = OCTO_TX_SLASH_FAILED;
        if (octo_receipt_decode(in->receipts, OCTO_RECEIPT_LEN, &t.u.receipt) != 0)
            return OCTO_EMALFORMED;
    } else {
        t.type = OCTO_TX_REFUND;
        memcpy(t.u.task, in->task, 32);
    }
    int n = octo_tx_encode(&t, buf, cap);
    if (n > 0)
        octo_tx_sign(s->chain_id, buf, (size_t)n, l->id);
    return n;
}

static void intent_free(struct intent *in)
{
    octo_free(in->receipts);
    octo_free(in->expiries);
    memset(in, 0, sizeof(*in));
}

static void give_up(struct octo_settler *s, const uint8_t task[32], uint64_t expires_ms);

/* The head intent will never be sent (the pool refused it, or it cannot be built): the tasks
 * it would have settled or slashed have their escrows refunded instead. */
static void drop_head(struct octo_settler *s, struct lane *l)
{
    const struct intent *in = &l->q[l->head];
    if (in->kind == INTENT_SETTLE || in->kind == INTENT_SLASH)
        for (uint16_t i = 0; i < in->count; i++)
            give_up(s, in->receipts + (size_t)i * OCTO_RECEIPT_LEN + 1,
                    in->kind == INTENT_SETTLE ? in->expiries[i] : in->expires_ms);
    s->stats.txs_refused++;
}

static void pop(struct lane *l)
{
    intent_free(&l->q[l->head]);
    l->head = (l->head + 1) % OCTO_SETTLE_QUEUE_MAX;
    l->len--;
}

/* The head intent moves to the sent ring (it keeps its receipts) under nonce. */
static void move_to_sent(struct lane *l, uint64_t nonce)
{
    OCTO_ASSERT(l->sent_len < OCTO_SETTLE_SENT_MAX);
    struct intent *in = &l->q[l->head];
    in->nonce = nonce;
    l->sent[(l->sent_head + l->sent_len) % OCTO_SETTLE_SENT_MAX] = *in;
    l->sent_len++;
    memset(in, 0, sizeof(*in));
    l->head = (l->head + 1) % OCTO_SETTLE_QUEUE_MAX;
    l->len--;
}

static void count_sent(struct octo_settler *s, const struct intent *in)
{
    if (in->kind == INTENT_ESCROW) {
        s->stats.escrows_sent++;
        s->stats.escrowed_amount += in->amount;
    } else if (in->kind == INTENT_SETTLE) {
        s->stats.settles_sent++;
        s->stats.receipts_sent += in->count;
    } else if (in->kind == INTENT_SLASH) {
        s->stats.slashes_sent++;
    } else {
        s->stats.refunds_sent++;
    }
}

/* Submits a lane's intents from the head while the pool takes them. */
static void drain_lane(struct octo_settler *s, struct lane *l)
{
    static uint8_t buf[OCTO_TX_MAX];
    int resyncs = 0;
    while (l->len > 0 && !s->stopped && l->sent_len < OCTO_SETTLE_SENT_MAX) {
        struct intent *in = &l->q[l->head];
        int n = build(s, l, in, buf, sizeof(buf));
        if (n <= 0) {
            OCTO_WARN("settle: a transaction cannot be built (%d)", n);
            drop_head(s, l);
            pop(l);
            continue;
        }
        uint8_t id[OCTO_TX_ID_LEN];
        int r = octo_validator_submit(s->cfg.chain, buf, (size_t)n, id);
        if (r == OCTO_MPR_OK) {
            count_sent(s, in);
            move_to_sent(l, l->next_nonce);
            l->next_nonce++;
        } else if (r == OCTO_MPR_NONCE_TOO_FAR || r == OCTO_MPR_FULL) {
            break; /* later, as blocks take our waiting transactions */
        } else if ((r == OCTO_MPR_NONCE_USED || r == OCTO_MPR_NONCE_TAKEN) && resyncs++ < 70) {
            struct octo_account a;
            if (r == OCTO_MPR_NONCE_USED && octo_ledger_account(ledger(s), l->addr, &a) == 0 &&
                a.nonce > l->next_nonce)
                l->next_nonce = a.nonce;
            else
                l->next_nonce++;
            s->stats.nonce_resyncs++;
        } else {
            OCTO_WARN("settle: a transaction was refused by the pool (reason %d)", r);
            drop_head(s, l);
            pop(l);
        }
    }
}

static void drain(struct octo_settler *s)
{
    drain_lane(s, &s->payer);
    drain_lane(s, &s->orch);
    s->stats.waiting = s->payer.len + s->orch.len;
}

static int push(struct lane *l, const struct intent *in)
{
    if (l->len == OCTO_SETTLE_QUEUE_MAX)
        return OCTO_ELIMIT;
    l->q[(l->head + l->len) % OCTO_SETTLE_QUEUE_MAX] = *in;
    l->len++;
    return 0;
}

static bool provider_role(uint8_t role)
{
    return role == OCTO_STAKE_COMPUTE || role == OCTO_STAKE_STORAGE || role == OCTO_STAKE_BANDWIDTH;
}

/* Whether the ledger would settle this receipt now: its escrow open, escrowed by the payer
 * for this orchestrator, at least the price; its provider registered as one. A SETTLE fails
 * as a whole on one bad receipt, so each is checked before it joins one. *e receives the
 * escrow when it exists. 1 ready, 0 not yet (no escrow: its ESCROW is not applied yet), -1
 * never. */
static int receipt_ready(struct octo_settler *s, const uint8_t *rec, struct octo_escrow *e)
{
    struct octo_receipt r;
    if (octo_receipt_decode(rec, OCTO_RECEIPT_LEN, &r) != 0)
        return -1;
    int rc = octo_ledger_escrow(ledger(s), r.task, e);
    if (rc == OCTO_ENOTFOUND)
        return 0;
    struct octo_account p;
    if (rc != 0 || e->state != OCTO_ESCROW_OPEN || memcmp(e->requester, s->payer.addr, 32) != 0 ||
        memcmp(e->orchestrator, s->orch.addr, 32) != 0 || r.price > e->amount ||
        octo_ledger_account(ledger(s), r.provider, &p) != 0 || !provider_role(p.role))
        return -1;
    return 1;
}

/* A task that will not be settled: its escrow (if the payer made it) is refunded after it
 * expires. */
static void give_up(struct octo_settler *s, const uint8_t task[32], uint64_t expires_ms)
{
    octo_settler_failed(s, task, expires_ms);
}

/* The gathered receipts the ledger would settle now become one SETTLE intent. A receipt whose
 * escrow is not there yet (its ESCROW not applied) waits for the next batch, up to
 * OCTO_SETTLE_WAIT_MS; one that can never settle, or waited longer, is dropped and its escrow
 * refunded once expired. */
static void flush_batch(struct octo_settler *s)
{
    if (s->batch_n == 0 || s->orch.len == OCTO_SETTLE_QUEUE_MAX)
        return;
    struct intent in = {.kind = INTENT_SETTLE};
    in.receipts = octo_malloc((size_t)s->batch_n * OCTO_RECEIPT_LEN);
    in.expiries = octo_malloc((size_t)s->batch_n * sizeof(uint64_t));
    if (in.receipts == NULL || in.expiries == NULL) {
        intent_free(&in);
        return; /* kept in the batch: the next tick tries again */
    }
    octo_tick now = octo_clock_mono(s->cfg.clock);
    uint16_t keep = 0;
    for (uint16_t i = 0; i < s->batch_n; i++) {
        const uint8_t *rec = s->batch + (size_t)i * OCTO_RECEIPT_LEN;
        struct octo_escrow e;
        int ready = receipt_ready(s, rec, &e);
        for (uint16_t j = 0; ready == 1 && j < in.count; j++) /* a task once per SETTLE */
            if (memcmp(in.receipts + (size_t)j * OCTO_RECEIPT_LEN + 1, rec + 1, 32) == 0)
                ready = -1;
        if (ready == 1) {
            memcpy(in.receipts + (size_t)in.count * OCTO_RECEIPT_LEN, rec, OCTO_RECEIPT_LEN);
            in.expiries[in.count] = s->batch_expiry[i];
            in.count++;
        } else if (ready == 0 && now - s->batch_at[i] < OCTO_SETTLE_WAIT_MS * OCTO_NS_PER_MS) {
            memmove(s->batch + (size_t)keep * OCTO_RECEIPT_LEN, rec, OCTO_RECEIPT_LEN);
            s->batch_at[keep] = s->batch_at[i];
            s->batch_expiry[keep] = s->batch_expiry[i];
            keep++;
        } else {
            s->stats.receipts_dropped++;
            give_up(s, rec + 1, s->batch_expiry[i]);
        }
    }
    s->batch_n = keep;
    s->batch_since = now;
    if (in.count == 0) {
        intent_free(&in);
        return;
    }
    OCTO_ASSERT(push(&s->orch, &in) == 0);
}

/* Slashes whose escrow the ledger shows open become SLASH_FAILED transactions of the
 * orchestrator (the ledger refunds the escrow and slashes the provider); one that can never
 * apply, or whose escrow does not appear within OCTO_SETTLE_WAIT_MS, falls back to a refund. */
static void sweep_slashes(struct octo_settler *s)
{
    octo_tick now = octo_clock_mono(s->cfg.clock);
    for (uint32_t i = 0; i < s->n_slashes && s->orch.len < OCTO_SETTLE_QUEUE_MAX;) {
        struct slash *sl = &s->slashes[i];
        struct octo_escrow e;
        int ready = receipt_ready(s, sl->receipt, &e);
        if (ready == 0 && now - sl->at < (octo_tick)OCTO_SETTLE_WAIT_MS * OCTO_NS_PER_MS) {
            i++;
            continue;
        }
        struct intent in = {.kind = INTENT_SLASH, .expires_ms = sl->expires_ms, .count = 1};
        memcpy(in.task, sl->receipt + 1, 32);
        in.receipts = ready == 1 ? octo_malloc(OCTO_RECEIPT_LEN) : NULL;
        if (ready == 1 && in.receipts == NULL) {
            i++; /* the next tick tries again */
            continue;
        }
        if (ready == 1) {
            memcpy(in.receipts, sl->receipt, OCTO_RECEIPT_LEN);
            OCTO_ASSERT(push(&s->orch, &in) == 0);
        } else {
            s->stats.slashes_dropped++;
            give_up(s, sl->receipt + 1, sl->expires_ms);
        }
        *sl = s->slashes[--s->n_slashes];
    }
}

/* Refunds whose escrow the ledger's own time has let expire (a REFUND before that is refused
 * by the ledger, whose block time is the leader's clock, not ours). */
static void sweep_refunds(struct octo_settler *s)
{
    uint64_t chain_now = octo_ledger_time(ledger(s));
    for (uint32_t i = 0; i < s->n_refunds;) {
        if (s->refunds[i].due_ms > chain_now || s->payer.len == OCTO_SETTLE_QUEUE_MAX) {
            i++;
            continue;
        }
        struct octo_escrow e;
        if (octo_ledger_escrow(ledger(s), s->refunds[i].task, &e) == 0 &&
            e.state == OCTO_ESCROW_OPEN && memcmp(e.requester, s->payer.addr, 32) == 0) {
            struct intent in = {.kind = INTENT_REFUND, .expires_ms = e.expires_ms};
            memcpy(in.task, s->refunds[i].task, 32);
            OCTO_ASSERT(push(&s->payer, &in) == 0);
        } /* else: settled, refunded already, or never escrowed: nothing to do */
        s->refunds[i] = s->refunds[--s->n_refunds];
    }
}

/* Transactions the ledger has applied (the account's nonce passed theirs) leave the sent ring;
 * a SETTLE whose escrows are still open failed on chain, and a REFUND whose escrow is still
 * open too: their tasks go (back) to the refunds. When the nonce has not moved for
 * OCTO_SETTLE_STALL_MS with transactions outstanding (one was evicted from a pool, or a relay
 * lost it), the outstanding ones are submitted again, same nonces and bytes. */
static void confirm_lane(struct octo_settler *s, struct lane *l)
{
    struct octo_account a;
    if (octo_ledger_account(ledger(s), l->addr, &a) != 0)
        return;
    while (l->sent_len > 0 && l->sent[l->sent_head].nonce < a.nonce) {
        struct intent *in = &l->sent[l->sent_head];
        struct octo_escrow e;
        if (in->kind == INTENT_SETTLE) {
            for (uint16_t i = 0; i < in->count; i++) {
                const uint8_t *task = in->receipts + (size_t)i * OCTO_RECEIPT_LEN + 1;
                if (octo_ledger_escrow(ledger(s), task, &e) == 0 && e.state == OCTO_ESCROW_OPEN) {
                    s->stats.receipts_dropped++;
                    give_up(s, task, in->expiries[i]);
                }
            }
        } else if ((in->kind == INTENT_REFUND || in->kind == INTENT_SLASH) &&
                   octo_ledger_escrow(ledger(s), in->task, &e) == 0 &&
                   e.state == OCTO_ESCROW_OPEN) {
            if (in->kind == INTENT_SLASH)
                s->stats.slashes_dropped++;
            give_up(s, in->task, e.expires_ms);
        }
        intent_free(in);
        l->sent_head = (l->sent_head + 1) % OCTO_SETTLE_SENT_MAX;
        l->sent_len--;
    }
    octo_tick now = octo_clock_mono(s->cfg.clock);
    if (l->sent_len == 0 || a.nonce != l->seen_nonce) {
        l->seen_nonce = a.nonce;
        l->stalled_since = now;
        return;
    }
    if (now - l->stalled_since < (octo_tick)OCTO_SETTLE_STALL_MS * OCTO_NS_PER_MS)
        return;
    static uint8_t buf[OCTO_TX_MAX];
    uint64_t keep = l->next_nonce;
    for (uint32_t i = 0; i < l->sent_len; i++) {
        struct intent *in = &l->sent[(l->sent_head + i) % OCTO_SETTLE_SENT_MAX];
        l->next_nonce = in->nonce;
        int n = build(s, l, in, buf, sizeof(buf));
        uint8_t id[OCTO_TX_ID_LEN];
        if (n > 0)
            OCTO_IGNORE(octo_validator_submit(s->cfg.chain, buf, (size_t)n, id));
    }
    l->next_nonce = keep;
    s->stats.resubmits++;
    l->stalled_since = now;
}

static void on_timer(uv_timer_t *h)
{
    struct octo_settler *s = h->data;
    octo_tick now = octo_clock_mono(s->cfg.clock);
    if (s->batch_n > 0 && now - s->batch_since >= (octo_tick)OCTO_SETTLE_BATCH_MS * OCTO_NS_PER_MS)
        flush_batch(s);
    if (++s->ticks % (1000u / OCTO_SETTLE_DRAIN_MS) == 0) {
        confirm_lane(s, &s->payer);
        confirm_lane(s, &s->orch);
        sweep_refunds(s);
    }
    if (s->n_slashes > 0)
        sweep_slashes(s);
    drain(s);
}

static int lane_init(struct octo_settler *s, struct lane *l, const struct octo_identity *id)
{
    l->id = id;
    memcpy(l->addr, id->pub.bytes, OCTO_ADDR_LEN);
    l->q = octo_calloc(OCTO_SETTLE_QUEUE_MAX, sizeof(*l->q));
    l->sent = octo_calloc(OCTO_SETTLE_SENT_MAX, sizeof(*l->sent));
    struct octo_account a;
    if (octo_ledger_account(ledger(s), l->addr, &a) == 0)
        l->next_nonce = l->seen_nonce = a.nonce;
    return l->q != NULL && l->sent != NULL ? 0 : OCTO_ENOMEM;
}

static void lane_deinit(struct lane *l)
{
    while (l->q != NULL && l->len > 0)
        pop(l);
    while (l->sent != NULL && l->sent_len > 0) {
        intent_free(&l->sent[l->sent_head]);
        l->sent_head = (l->sent_head + 1) % OCTO_SETTLE_SENT_MAX;
        l->sent_len--;
    }
    octo_free(l->q);
    octo_free(l->sent);
}

int octo_settler_start(struct octo_settler **out, const struct octo_settler_config *cfg)
{
    *out = NULL;
    if (memcmp(cfg->identity->pub.bytes, cfg->payer->pub.bytes, OCTO_ADDR_LEN) == 0)
        return OCTO_EINVAL; /* the ledger wants a requester other than the orchestrator */
    struct octo_settler *s = octo_calloc(1, sizeof(*s));
    if (s == NULL)
        return OCTO_ENOMEM;
    s->cfg = *cfg;
    memcpy(s->chain_id, octo_ledger_chain_id(ledger(s)), 32);
    s->refunds = octo_calloc(OCTO_SETTLE_REFUNDS_MAX, sizeof(*s->refunds));
    int rc = s->refunds != NULL ? 0 : OCTO_ENOMEM;
    if (rc == 0)
        rc = lane_init(s, &s->payer, cfg->payer);
    if (rc == 0)
        rc = lane_init(s, &s->orch, cfg->identity);
    if (rc != 0) {
        lane_deinit(&s->payer);
        lane_deinit(&s->orch);
        octo_free(s->refunds);
        octo_free(s);
        return rc;
    }
    uv_timer_init(cfg->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, on_timer, OCTO_SETTLE_DRAIN_MS, OCTO_SETTLE_DRAIN_MS);
    *out = s;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

void octo_settler_stop(struct octo_settler *s)
{
    if (s == NULL || s->stopped)
        return;
    flush_batch(s);
    drain(s); /* what the pool takes now; the rest is lost with the process (see settle.h) */
    s->stopped = true;
    uv_close((uv_handle_t *)&s->timer, on_closed);
}

void octo_settler_destroy(struct octo_settler *s)
{
    if (s == NULL)
        return;
    lane_deinit(&s->payer);
    lane_deinit(&s->orch);
    octo_free(s->refunds);
    octo_free(s);
}

/* Whether the ledger knows this node's account as an orchestrator now (it may register
 * later); the payer's nonce is brought up to the ledger's meanwhile (another client of that
 * key may have gone first). */
static bool registered(struct octo_settler *s)
{
    struct octo_account a;
    if (octo_ledger_account(ledger(s), s->orch.addr, &a) != 0 || a.role != OCTO_STAKE_ORCHESTRATOR)
        return false;
    if (s->orch.len == 0 && a.nonce > s->orch.next_nonce)
        s->orch.next_nonce = a.nonce;
    if (s->payer.len == 0 && octo_ledger_account(ledger(s), s->payer.addr, &a) == 0 &&
        a.nonce > s->payer.next_nonce)
        s->payer.next_nonce = a.nonce;
    return true;
}

int octo_settler_escrow(struct octo_settler *s, const uint8_t task[32], uint64_t amount,
                        uint64_t expires_ms)
{
    if (!registered(s)) {
        s->stats.escrows_unregistered++;
        return OCTO_ESTATE;
    }
    struct intent in = {.kind = INTENT_ESCROW, .amount = amount, .expires_ms = expires_ms};
    memcpy(in.task, task, 32);
    if (push(&s->payer, &in) != 0) {
        s->stats.escrows_dropped++;
        return OCTO_ELIMIT;
    }
    drain(s);
    return 0;
}

int octo_settler_receipt(struct octo_settler *s, const uint8_t receipt[OCTO_RECEIPT_LEN],
                         uint64_t expires_ms)
{
    if (s->batch_n == OCTO_TX_RECEIPTS_MAX)
        flush_batch(s);
    if (s->batch_n == OCTO_TX_RECEIPTS_MAX) {
        give_up(s, receipt + 1, expires_ms);
        return OCTO_ELIMIT;
    }
    octo_tick now = octo_clock_mono(s->cfg.clock);
    if (s->batch_n == 0)
        s->batch_since = now;
    memcpy(s->batch + (size_t)s->batch_n * OCTO_RECEIPT_LEN, receipt, OCTO_RECEIPT_LEN);
    s->batch_at[s->batch_n] = now;
    s->batch_expiry[s->batch_n] = expires_ms;
    s->batch_n++;
    s->stats.receipts_queued++;
    if (s->batch_n == OCTO_TX_RECEIPTS_MAX) {
        flush_batch(s);
        drain(s);
    }
    return 0;
}

void octo_settler_failed(struct octo_settler *s, const uint8_t task[32], uint64_t expires_ms)
{
    if (s->n_refunds == OCTO_SETTLE_REFUNDS_MAX) {
        s->stats.refunds_dropped++; /* the payer can still refund it with `octo tx refund` */
        return;
    }
    memcpy(s->refunds[s->n_refunds].task, task, 32);
    s->refunds[s->n_refunds].due_ms = expires_ms;
    s->n_refunds++;
}

int octo_settler_slash(struct octo_settler *s, const uint8_t receipt[OCTO_RECEIPT_LEN],
                       uint64_t expires_ms)
{
    if (s->n_slashes == OCTO_SETTLE_SLASHES_MAX) {
        s->stats.slashes_dropped++;
        give_up(s, receipt + 1, expires_ms);
        return OCTO_ELIMIT;
    }
    struct slash *sl = &s->slashes[s->n_slashes++];
    memcpy(sl->receipt, receipt, OCTO_RECEIPT_LEN);
    sl->expires_ms = expires_ms;
    sl->at = octo_clock_mono(s->cfg.clock);
    sweep_slashes(s);
    drain(s);
    return 0;
}

bool octo_settler_escrow_open(struct octo_settler *s, const uint8_t task[32], uint64_t *expires_ms,
                              uint64_t *amount)
{
    struct octo_escrow e;
    if (octo_ledger_escrow(ledger(s), task, &e) != 0 || e.state != OCTO_ESCROW_OPEN ||
        memcmp(e.requester, s->payer.addr, 32) != 0 ||
        memcmp(e.orchestrator, s->orch.addr, 32) != 0)
        return false;
    *expires_ms = e.expires_ms;
    *amount = e.amount;
    return true;
}

const uint8_t *octo_settler_address(const struct octo_settler *s)
{
    return s->orch.addr;
}

const uint8_t *octo_settler_payer(const struct octo_settler *s)
{
    return s->payer.addr;
}

const uint8_t *octo_settler_chain_id(const struct octo_settler *s)
{
    return s->chain_id;
}

const struct octo_settler_stats *octo_settler_stats(const struct octo_settler *s)
{
    return &s->stats;
}
