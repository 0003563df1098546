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

enum intent_kind { INTENT_ESCROW = 1, INTENT_SETTLE = 2, INTENT_REFUND = 3 };

struct intent {
    uint8_t kind;
    uint8_t task[32];
    uint64_t amount, expires_ms;
    uint8_t *receipts; /* SETTLE: count * OCTO_RECEIPT_LEN bytes, owned */
    uint16_t count;
};

struct refund {
    uint8_t task[32];
    uint64_t due_ms;
};

struct lane {
    const struct octo_identity *id;
    uint8_t addr[OCTO_ADDR_LEN];
    struct intent *q; /* ring of OCTO_SETTLE_QUEUE_MAX */
    uint32_t head, len;
    uint64_t next_nonce;
};

struct octo_settler {
    struct octo_settler_config cfg;
    uint8_t chain_id[32];
    struct lane payer, orch;
    uint8_t batch[OCTO_TX_RECEIPTS_MAX * OCTO_RECEIPT_LEN];
    uint64_t batch_ms[OCTO_TX_RECEIPTS_MAX]; /* when each receipt came */
    uint16_t batch_n;
    uint64_t batch_since_ms;
    struct refund *refunds;
    uint32_t n_refunds;
    uv_timer_t timer;
    bool stopped;
    uint32_t ticks;
    struct octo_settler_stats stats;
};

static uint64_t wall_ms(const struct octo_settler *s)
{
    return (uint64_t)(octo_clock_wall(s->cfg.clock) / (int64_t)OCTO_NS_PER_MS);
}

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
    } else {
        t.type = OCTO_TX_REFUND;
        memcpy(t.u.task, in->task, 32);
    }
    int n = octo_tx_encode(&t, buf, cap);
    if (n > 0)
        octo_tx_sign(s->chain_id, buf, (size_t)n, l->id);
    return n;
}

static void pop(struct lane *l)
{
    struct intent *in = &l->q[l->head];
    octo_free(in->receipts);
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
    } else {
        s->stats.refunds_sent++;
    }
}

/* Submits a lane's intents from the head while the pool takes them. */
static void drain_lane(struct octo_settler *s, struct lane *l)
{
    static uint8_t buf[OCTO_TX_MAX];
    int resyncs = 0;
    while (l->len > 0 && !s->stopped) {
        struct intent *in = &l->q[l->head];
        int n = build(s, l, in, buf, sizeof(buf));
        if (n <= 0) {
            OCTO_WARN("settle: a transaction cannot be built (%d)", n);
            s->stats.txs_refused++;
            pop(l);
            continue;
        }
        uint8_t id[OCTO_TX_ID_LEN];
        int r = octo_validator_submit(s->cfg.chain, buf, (size_t)n, id);
        if (r == OCTO_MPR_OK) {
            l->next_nonce++;
            count_sent(s, in);
            pop(l);
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
            s->stats.txs_refused++;
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

/* The gathered receipts whose escrow this node's ledger shows open become one SETTLE intent
 * (a receipt without its open escrow would fail the whole transaction). A receipt whose escrow
 * is not there yet (its ESCROW is not finalized) waits for the next batch, up to
 * OCTO_SETTLE_WAIT_MS; one whose escrow is closed, or that waited longer, is dropped. */
static void flush_batch(struct octo_settler *s)
{
    if (s->batch_n == 0 || s->orch.len == OCTO_SETTLE_QUEUE_MAX)
        return;
    struct intent in = {.kind = INTENT_SETTLE};
    in.receipts = octo_malloc((size_t)s->batch_n * OCTO_RECEIPT_LEN);
    if (in.receipts == NULL)
        return; /* kept in the batch: the next tick tries again */
    uint64_t now = wall_ms(s);
    uint16_t keep = 0;
    for (uint16_t i = 0; i < s->batch_n; i++) {
        const uint8_t *rec = s->batch + (size_t)i * OCTO_RECEIPT_LEN;
        struct octo_escrow e;
        int rc = octo_ledger_escrow(ledger(s), rec + 1, &e); /* the task id follows the version */
        if (rc == 0 && e.state == OCTO_ESCROW_OPEN) {
            memcpy(in.receipts + (size_t)in.count * OCTO_RECEIPT_LEN, rec, OCTO_RECEIPT_LEN);
            in.count++;
        } else if (rc == OCTO_ENOTFOUND && now - s->batch_ms[i] < OCTO_SETTLE_WAIT_MS) {
            memmove(s->batch + (size_t)keep * OCTO_RECEIPT_LEN, rec, OCTO_RECEIPT_LEN);
            s->batch_ms[keep++] = s->batch_ms[i];
        } else {
            s->stats.receipts_dropped++;
        }
    }
    s->batch_n = keep;
    s->batch_since_ms = now;
    if (in.count == 0) {
        octo_free(in.receipts);
        return;
    }
    OCTO_ASSERT(push(&s->orch, &in) == 0);
}

static void sweep_refunds(struct octo_settler *s, uint64_t now)
{
    for (uint32_t i = 0; i < s->n_refunds;) {
        if (s->refunds[i].due_ms > now || s->payer.len == OCTO_SETTLE_QUEUE_MAX) {
            i++;
            continue;
        }
        struct intent in = {.kind = INTENT_REFUND};
        memcpy(in.task, s->refunds[i].task, 32);
        OCTO_ASSERT(push(&s->payer, &in) == 0);
        s->refunds[i] = s->refunds[--s->n_refunds];
    }
}

static void on_timer(uv_timer_t *h)
{
    struct octo_settler *s = h->data;
    uint64_t now = wall_ms(s);
    if (s->batch_n > 0 && now - s->batch_since_ms >= OCTO_SETTLE_BATCH_MS)
        flush_batch(s);
    if (++s->ticks % (1000u / OCTO_SETTLE_DRAIN_MS) == 0)
        sweep_refunds(s, now);
    drain(s);
}

static int lane_init(struct octo_settler *s, struct lane *l, const struct octo_identity *id)
{
    l->id = id;
    memcpy(l->addr, id->pub.bytes, OCTO_ADDR_LEN);
    l->q = octo_calloc(OCTO_SETTLE_QUEUE_MAX, sizeof(*l->q));
    struct octo_account a;
    if (octo_ledger_account(ledger(s), l->addr, &a) == 0)
        l->next_nonce = a.nonce;
    return l->q != NULL ? 0 : OCTO_ENOMEM;
}

static void lane_deinit(struct lane *l)
{
    while (l->len > 0)
        pop(l);
    octo_free(l->q);
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

int octo_settler_receipt(struct octo_settler *s, const uint8_t receipt[OCTO_RECEIPT_LEN])
{
    if (s->batch_n == OCTO_TX_RECEIPTS_MAX)
        flush_batch(s);
    if (s->batch_n == OCTO_TX_RECEIPTS_MAX)
        return OCTO_ELIMIT;
    if (s->batch_n == 0)
        s->batch_since_ms = wall_ms(s);
    memcpy(s->batch + (size_t)s->batch_n * OCTO_RECEIPT_LEN, receipt, OCTO_RECEIPT_LEN);
    s->batch_ms[s->batch_n] = wall_ms(s);
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
    if (s->n_refunds == OCTO_SETTLE_REFUNDS_MAX)
        return; /* its requester (this orchestrator) can still refund it by hand */
    memcpy(s->refunds[s->n_refunds].task, task, 32);
    s->refunds[s->n_refunds].due_ms = expires_ms + OCTO_SETTLE_REFUND_GRACE_MS;
    s->n_refunds++;
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
