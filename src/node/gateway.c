/*
 * gateway.c — the orchestrator role (gateway.h): adverts in, the scheduler driven from the
 * loop, the task streams to providers, and the OpenAI routes.
 *
 * A request is a struct gw_task found by its 16-byte id in an open-addressing table (ids are
 * random, so their first bytes index it directly). The scheduler is driven after every event
 * (drive: poll until it has nothing due, then arm one timer for its next wake-up); its actions
 * become streams (DISPATCH), answers (DONE) and pings (PROBE). The task is freed when both
 * its DONE has come and its HTTP request has let go (answered or gone).
 *
 * A sealed task (PRIVATE or CONFIDENTIAL data) takes two requests, because the client seals its
 * payload to the worker that will run it and so needs that worker's key first:
 *
 *   POST /api/v1/sealed     {model, privacy, hello, max_tokens, max_input_bytes, owner, provider}
 *                           -> routed like any task (the policy's data class is the sealed one,
 *                           "owner" names the client's own node); the attempt's ASSIGN carries
 *                           "sealed" and is followed by the client's HELLO; the worker's KEY
 *                           is the answer: {task, provider, key}. No failover after this point:
 *                           the client's payload will be sealed to that worker.
 *   POST /api/v1/sealed/ID  {task}  -> the client's sealed TASK goes to the same stream; the
 *                           answer is the worker's sealed RESULT with the metered usage.
 *
 * The gateway relays the exchange's frames (exec/privacy.h) and checks only their framing,
 * sizes and the receipt over their hashes; it never holds a key that opens them. The record
 * keeps the task's metadata and the sealed result, nothing else; a sealed task cannot resume
 * after a restart (the worker that held its key is gone): it is ended and its escrow refunded.
 */
#include "node/gateway.h"

#include "api/openai.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/uuid.h"
#include "crypto/b64.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "exec/envelope.h"
#include "exec/privacy.h"
#include "exec/taskrun.h"
#include "intel/agent.h"
#include "intel/policy.h"
#include "intel/sched.h"
#include "intel/taskwire.h"
#include "node/provider.h"
#include "node/providers.h"
#include "node/settle.h"
#include "store/agents.h"
#include "store/apikeys.h"
#include "store/tasks.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_TABLE_SLOTS (2u * OCTO_GATEWAY_TASKS_MAX) /* power of two */
#define GW_HOLD_SLOTS GW_TABLE_SLOTS                 /* a key per task at most */

/* What the tasks in flight of one API key may still cost: held against its budget from
 * acceptance until the task is gone (its charge, taken meanwhile, is then in `spent`). */
struct gw_hold {
    char key[OCTO_APIKEY_ID_HEX + 1]; /* "" for a free slot */
    uint64_t amount;
    uint32_t tasks;
};

struct octo_gateway;

struct gw_task {
    struct octo_gateway *g;
    uint8_t id[OCTO_SCHED_ID_LEN];
    struct octo_http_req *req; /* NULL once answered or gone */
    /* what the request says, kept (the parsed tree is freed at acceptance) */
    enum octo_oai_kind kind;
    char model[OCTO_TASKWIRE_MODEL_MAX + 1]; /* registered names are no longer */
    bool stream, include_usage;
    uint32_t max_tokens; /* as asked, or OCTO_TASKRUN_MAX_TOKENS_DEFAULT */
    uint64_t prompt_cap; /* most prompt tokens a provider may report for this body */
    struct octo_apikey key;
    enum octo_route_strategy strategy;
    char oai_id[OCTO_OAI_ID_MAX];
    int64_t created_s;
    bool done;      /* the scheduler's DONE came */
    bool streaming; /* SSE headers sent */
    bool answered;  /* the HTTP answer is complete */
    bool diverged;  /* a retry's text differed from what the client has */
    uint8_t *body;  /* the request, canonical JSON (cJSON's print of the parse), forwarded */
    size_t body_len;
    /* the current attempt */
    struct gw_attempt *cur;
    uint32_t attempt;      /* the scheduler's attempt number */
    uint32_t attempt_base; /* attempts made before a restart (recovered tasks) */
    uint64_t dispatch;
    uint32_t provider;
    struct octo_peerid provider_id;
    octo_tick deadline;
    uint64_t assign_ns;   /* when ASSIGN was sent */
    uint64_t provider_ns; /* ASSIGN to RESULT of the attempt that answered */
    size_t attempt_bytes; /* text bytes of this attempt */
    bool reported;        /* this attempt's outcome went to the scheduler */
    struct octo_taskwire_result result;
    bool have_result;
    /* the ledger: this task's escrow, and the receipt of the attempt that answered */
    bool recorded;       /* the task record exists (written at the first dispatch) */
    bool charge_pending; /* succeeded: its answer, state and charge wait for the next commit */
    uint64_t charge_amount;
    struct gw_task *charge_next;
    bool store_failed; /* it could not be written: the task ends with a 500 */
    uint64_t deadline_ms;
    bool escrowed;
    uint64_t escrow_expires_ms, escrow_amount;
    uint64_t price_in, price_out; /* the attempt's provider's prices when it was dispatched */
    bool have_receipt;
    uint8_t receipt[OCTO_RECEIPT_LEN];
    bool dispatch_pending; /* its first dispatch waits for the group commit of its record */
    struct gw_task *dispatch_next;
    uint64_t held; /* held against its key's budget (gw_hold) */
    bool holding;
    bool have_commitment; /* checked and countersigned */
    bool commit_bad;      /* its signature failed when the record was written: unpaid */
    uint8_t commitment[OCTO_COMMIT_LEN];
    uint8_t isolation_min; /* the policy's, which the commitment must meet */
    /* the answer */
    struct octo_buf text; /* every byte sent (or to send) to the client */
    char err_code[OCTO_TASKWIRE_CODE_MAX];
    char err_msg[OCTO_TASKWIRE_MESSAGE_MAX];
    /* a sealed task: the exchange's frames relayed (text holds the worker's RESULT frame) */
    uint8_t sealed; /* enum octo_taskwire_sealed */
    uint8_t phase;  /* enum gw_seal_phase */
    bool seal_lost; /* the stream to the worker that holds the client's key broke */
    uint8_t hello[OCTO_FRAME_HEAD_LEN + OCTO_PRIVACY_HELLO_LEN];
    uint32_t max_input; /* most bytes of the TASK frame */
    size_t task_len;
    uint8_t task_hash[32];
    /* verify "reexec" (see its section): the answer is held until a re-run agrees */
    bool reexec;
    struct octo_policy *rx_pol; /* the policy the re-runs are routed by (owned; no `order`) */
    bool rx_pending;            /* succeeded: answer and charge wait for the verdict */
    uint64_t rx_charge;         /* what the scheduler charged, taken once verified */
    uint64_t rx_deadline_ms, rx_run_deadline_ms;
    uint8_t rx_task[OCTO_SCHED_ID_LEN]; /* the re-runs' task id: fresh, so they look like any */
    char rx_quant[OCTO_ADVERT_QUANT_MAX + 1]; /* the answer's quantization: re-runs use it too */
    uint8_t rx_weights[32];    /* ... and the weights it advertised (and committed to) */
    struct gw_attempt *rx_cur; /* the re-run in flight */
    bool rx_dialing, rx_disagreed;
    uint64_t rx_seq; /* re-runs started: matches a dial's callback to its run */
    uint32_t rx_provider;
    struct octo_peerid rx_id;
    struct octo_peerid rx_tried[OCTO_GATEWAY_REEXEC_TRIES + 1]; /* the attempt's, then re-runs */
    size_t rx_tried_n;
    uint8_t rx_answer[32], rx_other[32]; /* SHA-256 of the held text, of a disagreeing run's */
    uint32_t rx_other_prompt, rx_other_completion;
    uint8_t rx_runs, rx_agree, rx_verdict; /* enum gw_verdict */
};

enum gw_verdict {
    GW_UNVERIFIED = 0,
    GW_VERIFIED = 1,     /* a re-run produced the same bits */
    GW_REFUTED = 2,      /* two other providers agree on other bits: its provider is slashed */
    GW_INCONCLUSIVE = 3, /* no agreement, or nobody left to ask */
};

enum gw_seal_phase {
    SEAL_WAIT_KEY = 0,    /* HELLO sent with each attempt's ASSIGN: failover as usual */
    SEAL_WAIT_TASK = 1,   /* the worker's KEY went to the client */
    SEAL_WAIT_RESULT = 2, /* the client's TASK went to the worker */
};

/* One attempt's stream. Detached (t NULL) when a newer attempt replaced it or the task
 * ended; it then only waits for its on_close to be freed. */
struct gw_attempt {
    struct gw_task *t;
    struct octo_net_stream *s;
    struct octo_taskwire_reader rd;
    struct octo_buf assign; /* the ASSIGN frame until it is all written (and a sealed task's
                               HELLO, then its TASK) */
    size_t assign_off;
    bool half_close; /* close the sending side once assign is written */
    bool reexec;     /* a verification re-run (t->rx_cur), not the task's attempt */
    bool rx_done;
    struct octo_sha256 rx_hash; /* of its text */
};

struct gw_in { /* an inbound advert stream */
    struct octo_gateway *g;
    struct gw_in *next;
    struct octo_net_stream *s;
    struct octo_taskwire_reader rd;
    uint64_t opened_ms; /* reset when no advert came within OCTO_GATEWAY_ADVERT_WAIT_MS */
};

struct gw_probe {
    struct octo_gateway *g;
    uint32_t provider, incarnation;
    struct octo_peerid id;
    bool dialled; /* not connected at first: dialled once before the ping */
};

struct octo_gateway {
    struct octo_gateway_config cfg;
    struct octo_sched sched;
    bool sched_ok;
    struct octo_provstore ps;
    struct octo_taskstore ts;
    struct gw_task **table; /* GW_TABLE_SLOTS */
    struct gw_hold *holds;  /* GW_HOLD_SLOTS, open addressing by key id */
    uv_timer_t timer;
    uv_timer_t tick; /* every second: advert expiry, silent advert streams, recovery left */
    bool timer_open, tick_open, stopped;
    bool recover_pending; /* unfinished records did not all fit: try again later */
    uint64_t ticks;
    uint32_t adverts_open;
    struct gw_in *adverts;                  /* open advert streams */
    struct gw_task *charges, *charges_tail; /* succeeded tasks waiting for their commit */
    uv_timer_t charge_timer;                /* 0 ms: after the answers went out */
    bool charge_timer_open;
    struct gw_task *dispatches, *dispatches_tail; /* first dispatches waiting for their record */
    uv_check_t dispatch_check; /* after this loop turn's I/O: its requests' first dispatches */
    uv_timer_t dispatch_timer; /* 0 ms: the same, when they came from outside the I/O phase */
    bool dispatch_check_open;
    int64_t started_s; /* the models' "created" */
    struct octo_gateway_stats stats;
};

static uint64_t now_ms(const struct octo_gateway *g)
{
    return (uint64_t)(octo_clock_wall(g->cfg.clock) / (int64_t)OCTO_NS_PER_MS);
}

static octo_tick now_tick(const struct octo_gateway *g)
{
    return octo_clock_mono(g->cfg.clock);
}

/* ---- the task table -------------------------------------------------------------------- */

static uint32_t slot_of(const uint8_t id[OCTO_SCHED_ID_LEN])
{
    return (uint32_t)octo_load_be64(id) & (GW_TABLE_SLOTS - 1);
}

static struct gw_task *task_find(struct octo_gateway *g, const uint8_t id[OCTO_SCHED_ID_LEN])
{
    for (uint32_t i = slot_of(id);; i = (i + 1) & (GW_TABLE_SLOTS - 1)) {
        struct gw_task *t = g->table[i];
        if (t == NULL)
            return NULL;
        if (memcmp(t->id, id, OCTO_SCHED_ID_LEN) == 0)
            return t;
    }
}

static void task_insert(struct octo_gateway *g, struct gw_task *t)
{
    uint32_t i = slot_of(t->id);
    while (g->table[i] != NULL)
        i = (i + 1) & (GW_TABLE_SLOTS - 1);
    g->table[i] = t;
    g->stats.in_flight++;
}

/* Removes t, shifting later entries of its probe run back (no tombstones). */
static void task_remove(struct octo_gateway *g, struct gw_task *t)
{
    uint32_t i = slot_of(t->id);
    while (g->table[i] != t)
        i = (i + 1) & (GW_TABLE_SLOTS - 1);
    g->table[i] = NULL;
    for (uint32_t j = (i + 1) & (GW_TABLE_SLOTS - 1); g->table[j] != NULL;
         j = (j + 1) & (GW_TABLE_SLOTS - 1)) {
        struct gw_task *e = g->table[j];
        uint32_t home = slot_of(e->id);
        /* e may move to i when i lies cyclically in [home, j) */
        if (((j - home) & (GW_TABLE_SLOTS - 1)) >= ((j - i) & (GW_TABLE_SLOTS - 1))) {
            g->table[i] = e;
            g->table[j] = NULL;
            i = j;
        }
    }
    g->stats.in_flight--;
}

static void reexec_detach(struct gw_task *t);

/* ---- holds against API keys' budgets ---------------------------------------------------- */

static uint32_t hold_home(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a: key ids are random, any spread will do */
    for (const char *p = key; *p != '\0'; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h & (GW_HOLD_SLOTS - 1);
}

/* The key's slot, or the free slot where it would go. */
static struct gw_hold *hold_slot(struct octo_gateway *g, const char *key)
{
    for (uint32_t i = hold_home(key);; i = (i + 1) & (GW_HOLD_SLOTS - 1))
        if (g->holds[i].key[0] == '\0' || strcmp(g->holds[i].key, key) == 0)
            return &g->holds[i];
}

static uint64_t held_by(struct octo_gateway *g, const char *key)
{
    struct gw_hold *h = hold_slot(g, key);
    return h->key[0] != '\0' ? h->amount : 0;
}

static void hold_add(struct gw_task *t, uint64_t amount)
{
    struct gw_hold *h = hold_slot(t->g, t->key.id);
    if (h->key[0] == '\0') { /* a free slot: its counters start from nothing */
        memset(h, 0, sizeof(*h));
        memcpy(h->key, t->key.id, sizeof(h->key));
    }
    h->amount += amount;
    h->tasks++;
    t->held = amount;
    t->holding = true;
}

/* Releases t's hold; a key with no task left leaves the table (backward-shift deletion). */
static void hold_release(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    if (!t->holding)
        return;
    struct gw_hold *h = hold_slot(g, t->key.id);
    OCTO_ASSERT(h->key[0] != '\0' && h->amount >= t->held && h->tasks > 0);
    h->amount -= t->held;
    t->holding = false;
    if (--h->tasks > 0)
        return;
    uint32_t i = (uint32_t)(h - g->holds);
    memset(&g->holds[i], 0, sizeof(g->holds[i]));
    for (uint32_t j = (i + 1) & (GW_HOLD_SLOTS - 1); g->holds[j].key[0] != '\0';
         j = (j + 1) & (GW_HOLD_SLOTS - 1)) {
        uint32_t home = hold_home(g->holds[j].key);
        if (((j - home) & (GW_HOLD_SLOTS - 1)) >= ((j - i) & (GW_HOLD_SLOTS - 1))) {
            g->holds[i] = g->holds[j];
            memset(&g->holds[j], 0, sizeof(g->holds[j])); /* vacated: nothing left behind */
            i = j;
        }
    }
}

static void detach(struct gw_task *t)
{
    if (t->cur == NULL)
        return;
    t->cur->t = NULL;
    octo_net_stream_reset(t->cur->s);
    t->cur = NULL;
}

static void task_free(struct gw_task *t)
{
    task_remove(t->g, t);
    hold_release(t);
    detach(t);
    reexec_detach(t);
    if (t->rx_pending)
        t->g->stats.verifying--;
    octo_free(t->body);
    octo_free(t->rx_pol);
    octo_buf_deinit(&t->text);
    octo_wipe(&t->key, sizeof(t->key));
    octo_free(t);
}

/* Frees t when nothing refers to it any more. */
static void task_maybe_free(struct gw_task *t)
{
    if (t->done && t->req == NULL && !t->charge_pending && !t->rx_pending && !t->dispatch_pending)
        task_free(t);
}

/* ---- driving the scheduler ----------------------------------------------------------- */

static void drive(struct octo_gateway *g);

static void on_timer(uv_timer_t *h)
{
    drive(h->data);
}

static void report(struct gw_task *t, enum octo_health_outcome outcome)
{
    if (t->reported || t->done)
        return;
    t->reported = true;
    struct octo_gateway *g = t->g;
    uint64_t lat = (uv_hrtime() - t->assign_ns) / 1000u;
    struct octo_sched_report r = {.attempt = t->attempt,
                                  .dispatch = t->dispatch,
                                  .outcome = outcome,
                                  .latency_us = lat,
                                  .tokens_in = t->result.prompt_tokens,
                                  .tokens_out = t->result.completion_tokens};
    memcpy(r.task, t->id, sizeof(r.task));
    if (t->sealed != OCTO_TASKWIRE_OPEN && t->phase != SEAL_WAIT_KEY &&
        outcome != OCTO_HEALTH_SUCCESS && outcome != OCTO_HEALTH_CALLER_ERROR)
        t->seal_lost = true; /* after the KEY no other worker can take over (the client's own
                                fault ends the task as rejected) */
    if (outcome == OCTO_HEALTH_CALLER_ERROR)
        g->stats.attempts_refused++; /* the request's fault: not counted against the provider */
    else if (outcome != OCTO_HEALTH_SUCCESS)
        g->stats.attempts_failed++;
    OCTO_IGNORE(octo_sched_result(&g->sched, &r, now_tick(g)));
    if (t->seal_lost)
        OCTO_IGNORE(octo_sched_cancel(&g->sched, t->id, now_tick(g)));
}

/* ---- the task records ------------------------------------------------------------------ */

/* A task's stored request: its kind (1 byte: 0 chat, 1 completion, 2 sealed), then the client's
 * body (a sealed task's: its metadata only, {"sealed":CLASS,"kind":..,"max_tokens":N}).
 * The owner is the API key's id, which pays for it (also after a restart). */
/* Writes the task record, as it is at its first dispatch (RUNNING, attempt 1, the provider):
 * one commit for acceptance and dispatch together. Nothing has been acknowledged to the client
 * before it (a streamed answer's headers, with the task id, come with the first text). */
static int record_insert(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    uint8_t *req = octo_malloc(t->body_len + 1);
    if (req == NULL)
        return OCTO_ENOMEM;
    req[0] = t->sealed != OCTO_TASKWIRE_OPEN ? 2 : t->kind == OCTO_OAI_COMPLETION ? 1 : 0;
    memcpy(req + 1, t->body, t->body_len);
    struct octo_taskstore_record rec = {.owner_len = strlen(t->key.id),
                                        .state = OCTO_TASKSTORE_RUNNING,
                                        .attempts = t->attempt_base + t->attempt,
                                        .provider_len = t->provider_id.len,
                                        .deadline_ms = t->deadline_ms,
                                        .created_ms = now_ms(g),
                                        .updated_ms = now_ms(g),
                                        .request = req,
                                        .request_len = t->body_len + 1};
    memcpy(rec.id, t->id, sizeof(rec.id));
    memcpy(rec.owner, t->key.id, rec.owner_len);
    memcpy(rec.provider, t->provider_id.bytes, t->provider_id.len);
    snprintf(rec.model, sizeof(rec.model), "%s", t->model);
    int rc = octo_taskstore_insert(&g->ts, &rec, NULL);
    octo_free(req);
    t->recorded = rc == 0;
    return rc;
}

static void record_update(struct gw_task *t, enum octo_taskstore_state st, const char *reason)
{
    struct octo_gateway *g = t->g;
    if (!t->recorded)
        return; /* never dispatched: nothing was promised, nothing is kept */
    struct octo_taskstore_update u = {.state = st,
                                      .attempts = t->attempt_base + t->attempt,
                                      .provider = t->attempt > 0 ? t->provider_id.bytes : NULL,
                                      .provider_len = t->attempt > 0 ? t->provider_id.len : 0,
                                      .reason = reason,
                                      .now_ms = now_ms(g)};
    int rc = octo_taskstore_update(&g->ts, t->id, &u);
    if (rc != 0 && rc != OCTO_ESTATE)
        OCTO_WARN("gateway: cannot record a task's state: %s", octo_strerror(rc));
}

/* ---- the ledger -------------------------------------------------------------------------- */

/* The ledger's 32-byte task id: the 16-byte id, zero-padded. */
static void task32(const uint8_t id[OCTO_SCHED_ID_LEN], uint8_t out[32])
{
    memset(out, 0, 32);
    memcpy(out, id, OCTO_SCHED_ID_LEN);
}

/* The most a task can cost: its prompt cap and max_tokens at the highest prices among the
 * providers of its model (the ledger refuses a receipt above its escrow). */
static uint64_t escrow_amount(struct octo_gateway *g, const struct gw_task *t)
{
    const struct octo_registry *reg = octo_sched_registry(&g->sched);
    uint32_t mid;
    struct octo_registry_iter it;
    struct octo_registry_candidate c;
    uint64_t pin = 0, pout = 0;
    if (octo_registry_model_lookup(reg, t->model, &mid) == 0 &&
        octo_registry_iter_model(&it, reg, mid) == 0) {
        while (octo_registry_iter_next(&it, &c)) {
            pin = c.entry->price_in_per_mtok > pin ? c.entry->price_in_per_mtok : pin;
            pout = c.entry->price_out_per_mtok > pout ? c.entry->price_out_per_mtok : pout;
        }
    }
    uint32_t pcap = t->prompt_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)t->prompt_cap;
    return octo_sched_charge_amount(pin, pcap, pout, t->max_tokens);
}

/* Reserves an accepted task's escrow on the ledger (when the node settles there). */
static void escrow(struct gw_task *t, uint64_t deadline_ms)
{
    struct octo_gateway *g = t->g;
    if (g->cfg.settler == NULL)
        return;
    uint64_t amount = escrow_amount(g, t);
    uint8_t task[32];
    task32(t->id, task);
    t->escrow_expires_ms = deadline_ms + OCTO_GATEWAY_ESCROW_MARGIN_MS;
    t->escrow_amount = amount;
    t->escrowed =
        amount > 0 && octo_settler_escrow(g->cfg.settler, task, amount, t->escrow_expires_ms) == 0;
}

/* Checks the receipt an attempt's RESULT carries before the task may succeed on it: the
 * provider's signature for this chain, this task, the payer as requester and this node as
 * orchestrator, the provider the attempt ran on, SHA-256 of the text received, the tokens
 * reported, and the price at the provider's advertised prices. 0, or why not. */
static const char *receipt_check(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    const struct octo_taskwire_result *res = &t->result;
    struct octo_receipt r;
    struct octo_pubkey pk;
    uint8_t task[32], out[32];
    /* priced as the scheduler charged it: the provider's prices at dispatch */
    uint64_t price = octo_sched_charge_amount(t->price_in, res->prompt_tokens, t->price_out,
                                              res->completion_tokens);
    if (price > t->escrow_amount)
        return "the price exceeds the task's escrow";
    if (!res->has_receipt) /* a free task (no tokens, or a price of 0) settles nothing */
        return price == 0 ? NULL : "no receipt";
    if (octo_receipt_decode(res->receipt, sizeof(res->receipt), &r) != 0 ||
        octo_receipt_verify(octo_settler_chain_id(g->cfg.settler), res->receipt) != 0)
        return "receipt signature";
    task32(t->id, task);
    if (memcmp(r.task, task, 32) != 0 ||
        memcmp(r.requester, octo_settler_payer(g->cfg.settler), 32) != 0 ||
        memcmp(r.orchestrator, octo_settler_address(g->cfg.settler), 32) != 0)
        return "receipt names another task or orchestrator";
    if (octo_peerid_pubkey(&t->provider_id, &pk) != 0 || memcmp(r.provider, pk.bytes, 32) != 0)
        return "receipt names another provider";
    if (t->sealed != OCTO_TASKWIRE_OPEN) /* the sealed TASK frame, as relayed */
        memcpy(out, t->task_hash, 32);
    else
        octo_sha256(t->body, t->body_len, out);
    if (memcmp(r.input, out, 32) != 0)
        return "receipt input differs from the request";
    octo_sha256(t->text.data, t->text.len, out); /* the text, or the sealed RESULT frame */
    if (memcmp(r.output, out, 32) != 0)
        return "receipt output differs from the text received";
    if (r.tokens != (uint64_t)res->prompt_tokens + res->completion_tokens)
        return "receipt tokens differ from the result";
    if (r.price != price)
        return "receipt price differs from the advert";
    memcpy(t->receipt, res->receipt, sizeof(t->receipt));
    t->have_receipt = true;
    return NULL;
}

/* Checks the execution commitment an attempt's RESULT carries (intel/commit.h): made by the
 * provider the attempt ran on (its signature is checked when the record is written, off the
 * answer's path: the stream is that provider's already, authenticated by Noise), for this
 * task, over the input and output this
 * node saw and the counts the RESULT reports; the weights' hash and quantization the provider
 * advertised for the model; its advertised isolation, at least the policy's minimum; the
 * SHA-256 of its advert's attestation reference (none: zero; a TEE needs one); sealed and
 * deterministic as the task was sent. The record keeps it countersigned with this node's key.
 * 0, or why not. */
static const char *commitment_check(struct gw_task *t, uint32_t prompt, uint32_t completion)
{
    struct octo_gateway *g = t->g;
    const struct octo_taskwire_result *res = &t->result;
    struct octo_commitment c;
    struct octo_pubkey pk;
    uint8_t h[32];
    if (!res->has_commitment)
        return "no execution commitment";
    if (octo_commit_decode(res->commitment, sizeof(res->commitment), &c) != 0 || c.countersigned)
        return "malformed commitment";
    if (octo_peerid_pubkey(&t->provider_id, &pk) != 0 || memcmp(c.provider, pk.bytes, 32) != 0 ||
        memcmp(c.task, t->id, sizeof(c.task)) != 0)
        return "commitment names another provider or task";
    if (t->sealed != OCTO_TASKWIRE_OPEN)
        memcpy(h, t->task_hash, 32);
    else
        octo_sha256(t->body, t->body_len, h);
    if (memcmp(c.input, h, 32) != 0)
        return "commitment input differs from the request";
    octo_sha256(t->text.data, t->text.len, h);
    if (memcmp(c.output, h, 32) != 0)
        return "commitment output differs from what was received";
    if (c.prompt_tokens != prompt || c.completion_tokens != completion)
        return "commitment tokens differ from the result";
    uint8_t want_flags = (t->sealed != OCTO_TASKWIRE_OPEN ? OCTO_COMMIT_FLAG_SEALED : 0) |
                         (t->reexec ? OCTO_COMMIT_FLAG_DETERMINISTIC : 0);
    if (c.flags != want_flags)
        return "commitment flags differ from the assignment";
    const struct octo_registry *reg = octo_sched_registry(&g->sched);
    const struct octo_registry_entry *e = octo_registry_at(reg, t->provider);
    uint32_t mid;
    if (e == NULL || !octo_peerid_equal(&e->provider, &t->provider_id) ||
        octo_registry_model_lookup(reg, t->model, &mid) != 0)
        return "the provider's advert is gone";
    const struct octo_registry_model *m = NULL;
    for (uint8_t k = 0; k < e->models_count && m == NULL; k++)
        if (e->models[k].model_id == mid)
            m = &e->models[k];
    if (m == NULL || memcmp(m->weights_hash, c.model_sha256, 32) != 0 ||
        strcmp(m->quant, c.quant) != 0)
        return "commitment weights or quantization differ from the advert";
    if (c.isolation != e->isolation || c.isolation < t->isolation_min)
        return "commitment isolation differs from the advert or the policy";
    uint8_t att[32] = {0};
    if (e->attestation_len > 0)
        octo_sha256(octo_registry_attestation(e), e->attestation_len, att);
    if (memcmp(c.attestation, att, 32) != 0 ||
        (c.isolation == OCTO_ISOLATION_TEE && e->attestation_len == 0))
        return "commitment attestation differs from the advert";
    memcpy(t->commitment, res->commitment, sizeof(t->commitment));
    t->have_commitment = true; /* countersigned when the record is written (charge_stmts),
                                  after the answer is out */
    return NULL;
}

/* ---- answers -------------------------------------------------------------------------- */

/* A sealed task's answer, also kept in its record: the worker's RESULT frame (base64, opened
 * only by the client) and the metered usage. */
static char *sealed_answer(const struct gw_task *t)
{
    char tid[2 * OCTO_SCHED_ID_LEN + 1];
    OCTO_IGNORE(octo_hex_encode(t->id, sizeof(t->id), tid, sizeof(tid)));
    char *res = octo_b64_encode(t->text.data, t->text.len);
    cJSON *o = cJSON_CreateObject();
    cJSON *u = cJSON_CreateObject();
    char *out = NULL;
    if (res != NULL && o != NULL && u != NULL) {
        cJSON_AddStringToObject(o, "object", "sealed.result");
        cJSON_AddStringToObject(o, "task", tid);
        cJSON_AddStringToObject(o, "model", t->model);
        cJSON_AddStringToObject(o, "result", res);
        cJSON_AddNumberToObject(u, "prompt_tokens", t->result.prompt_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens", t->result.completion_tokens);
        cJSON_AddNumberToObject(u, "total_tokens",
                                (double)t->result.prompt_tokens + t->result.completion_tokens);
        cJSON_AddItemToObject(o, "usage", u);
        u = NULL;
        out = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(u);
    cJSON_Delete(o);
    octo_free(res);
    return out;
}

static void route_header(struct gw_task *t, char *out, size_t cap)
{
    char pid[OCTO_PEERID_TEXT_MAX] = "none";
    if (t->attempt > 0)
        OCTO_IGNORE(octo_peerid_to_base58(&t->provider_id, pid, sizeof(pid)));
    int n = snprintf(out, cap, "provider=%s; attempts=%u; strategy=%s", pid,
                     t->attempt_base + t->attempt, octo_route_strategy_name(t->strategy));
    if (t->reexec && t->rx_verdict == GW_VERIFIED && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "; reexec=verified; reruns=%u", t->rx_runs);
}

static void fill_meta(const struct gw_task *t, struct octo_oai_meta *m)
{
    m->kind = t->kind;
    m->id = t->oai_id;
    m->model = t->model;
    m->created = t->created_s;
}

/* The answer is complete (or cut): the request is no longer ours. The caller frees t when
 * that is due (task_maybe_free). */
static void release_req(struct gw_task *t)
{
    if (t->req != NULL)
        octo_http_on_gone(t->req, NULL, NULL);
    t->req = NULL;
    t->answered = true;
}

/* Sends the SSE headers (first text, or the end of a streamed answer). */
static int stream_begin(struct gw_task *t)
{
    if (t->streaming)
        return 0;
    char route[160], tid[2 * OCTO_SCHED_ID_LEN + 1];
    route_header(t, route, sizeof(route));
    OCTO_IGNORE(octo_hex_encode(t->id, sizeof(t->id), tid, sizeof(tid)));
    const struct octo_http_header h[] = {
        {"cache-control", "no-cache"}, {"x-octo-task", tid}, {"x-octo-route", route}};
    int rc = octo_api_stream_start(t->g->cfg.api, t->req, 200, "text/event-stream", h, 3);
    t->streaming = rc == 0;
    return rc;
}

static int sse_send(struct gw_task *t, char *json)
{
    if (json == NULL)
        return OCTO_ENOMEM;
    struct octo_buf b;
    octo_buf_init(&b, OCTO_HTTP_STREAM_BUF_MAX);
    int rc = octo_oai_sse(&b, json);
    cJSON_free(json);
    if (rc == 0)
        rc = octo_http_stream_write(t->req, b.data, b.len);
    octo_buf_deinit(&b);
    return rc;
}

/* Streams new text to the client (the role comes with the first chunk). */
static void stream_text(struct gw_task *t, const char *text, size_t len)
{
    if (t->req == NULL || !t->stream || t->reexec) /* a reexec answer waits for its verdict */
        return;
    bool first = !t->streaming;
    struct octo_oai_meta m;
    fill_meta(t, &m);
    if (stream_begin(t) != 0 || sse_send(t, octo_oai_chunk(&m, first, text, len, NULL)) != 0) {
        octo_http_stream_end(t->req);
        release_req(t);
    }
}

static void answer_error(struct gw_task *t, unsigned status, const char *type, const char *code,
                         const char *message)
{
    if (t->req == NULL)
        return;
    if (t->streaming) { /* mid-stream: an error event, then the end */
        cJSON *o = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "message", message);
        cJSON_AddStringToObject(e, "type", type);
        cJSON_AddStringToObject(e, "code", code);
        OCTO_IGNORE(sse_send(t, cJSON_PrintUnformatted(o)));
        cJSON_Delete(o);
        octo_http_stream_end(t->req);
    } else {
        OCTO_IGNORE(octo_api_error(t->g->cfg.api, t->req, status, type, code, NULL, message));
    }
    release_req(t);
}

static void answer_success(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    struct octo_oai_meta m;
    fill_meta(t, &m);
    struct octo_oai_usage u = {t->result.prompt_tokens, t->result.completion_tokens};
    const char *finish = t->result.finish;
    if (t->stream && t->sealed == OCTO_TASKWIRE_OPEN) {
        int rc = stream_begin(t);
        if (rc == 0 && t->reexec && t->text.len > 0) /* held until verified: all of it now */
            rc = sse_send(t,
                          octo_oai_chunk(&m, true, (const char *)t->text.data, t->text.len, NULL));
        if (rc == 0)
            rc = sse_send(t, octo_oai_chunk(&m, false, "", 0, finish));
        if (rc == 0 && t->include_usage)
            rc = sse_send(t, octo_oai_usage_chunk(&m, &u));
        if (rc == 0) {
            struct octo_buf b;
            octo_buf_init(&b, 64);
            if (octo_oai_sse(&b, NULL) == 0)
                OCTO_IGNORE(octo_http_stream_write(t->req, b.data, b.len));
            octo_buf_deinit(&b);
        }
        octo_http_stream_end(t->req);
        release_req(t);
        return;
    }
    char *body = t->sealed != OCTO_TASKWIRE_OPEN
                     ? sealed_answer(t)
                     : octo_oai_answer(&m, (const char *)t->text.data, t->text.len, finish, &u);
    if (body == NULL) {
        answer_error(t, 500, "server_error", "out_of_memory", "out of memory");
        return;
    }
    char route[160], tid[2 * OCTO_SCHED_ID_LEN + 1], over[32];
    route_header(t, route, sizeof(route));
    OCTO_IGNORE(octo_hex_encode(t->id, sizeof(t->id), tid, sizeof(tid)));
    uint64_t total = uv_hrtime() - octo_http_arrived_ns(t->req);
    uint64_t own = total > t->provider_ns ? total - t->provider_ns : 0;
    snprintf(over, sizeof(over), "%llu", (unsigned long long)(own / 1000u));
    char prov[32];
    snprintf(prov, sizeof(prov), "%llu", (unsigned long long)(t->provider_ns / 1000u));
    const struct octo_http_header h[] = {{"x-octo-task", tid},
                                         {"x-octo-route", route},
                                         {"x-octo-gateway-overhead-us", over},
                                         {"x-octo-provider-us", prov}};
    OCTO_IGNORE(
        octo_api_reply(g->cfg.api, t->req, 200, "application/json", body, strlen(body), h, 4));
    cJSON_free(body);
    release_req(t);
}

/* The statements that record a SUCCEEDED task, inside the caller's write transaction: its
 * answer (with the ledger receipt beside it) and the charge under the record's charge-once
 * condition, its final state, and its key's spending (what the budget has left of the amount:
 * the work is done; a key revoked or removed meanwhile pays nothing, the record still says
 * what the task cost). Returns 0, OCTO_EEXIST (charged before: nothing changed) or a store
 * error; *take receives what the key paid. */
static int charge_stmts(struct gw_task *t, uint64_t *take)
{
    struct octo_gateway *g = t->g;
    if (t->have_commitment && octo_commit_verify(t->commitment) != 0) {
        /* the stream is the provider's (Noise), so its signature is checked here, off the
         * answer's path: one that does not hold is not kept, the key is not charged and the
         * provider is not paid (after_record refunds the escrow) */
        g->stats.commitments_bad++;
        OCTO_WARN("gateway: a provider's commitment signature does not hold: not paid");
        t->have_commitment = false;
        t->commit_bad = true;
    }
    uint64_t amount = t->commit_bad ? 0 : t->charge_amount;
    if (t->holding && amount > t->held)
        amount = t->held; /* never more than was held at acceptance (a pricier failover) */
    *take = 0;
    struct octo_oai_meta m;
    fill_meta(t, &m);
    struct octo_oai_usage u = {t->result.prompt_tokens, t->result.completion_tokens};
    char *answer =
        t->sealed != OCTO_TASKWIRE_OPEN
            ? sealed_answer(t)
            : octo_oai_answer(&m, (const char *)t->text.data, t->text.len, t->result.finish, &u);
    if (answer == NULL)
        return OCTO_ENOMEM;
    if (t->have_receipt || t->have_commitment) { /* kept beside the answer: the ledger receipt
                                                    and the countersigned commitment */
        cJSON *o = cJSON_Parse(answer);
        char hex[2 * OCTO_COMMIT_LEN + 1];
        bool added = o != NULL;
        if (added && t->have_receipt) {
            OCTO_IGNORE(octo_hex_encode(t->receipt, OCTO_RECEIPT_LEN, hex, sizeof(hex)));
            added = cJSON_AddStringToObject(o, "receipt", hex) != NULL;
        }
        if (added && t->have_commitment) {
            struct octo_commitment c;
            if (g->cfg.identity != NULL &&
                octo_commit_decode(t->commitment, OCTO_COMMIT_LEN, &c) == 0 && !c.countersigned)
                octo_commit_countersign(t->commitment, g->cfg.identity);
            OCTO_IGNORE(octo_hex_encode(t->commitment, OCTO_COMMIT_LEN, hex, sizeof(hex)));
            added = cJSON_AddStringToObject(o, "commitment", hex) != NULL;
        }
        char *with = added ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (with != NULL) {
            cJSON_free(answer);
            answer = with;
        }
    }
    struct octo_apikey now;
    struct octo_taskstore_update up = {.state = OCTO_TASKSTORE_SUCCEEDED,
                                       .attempts = t->attempt_base + t->attempt,
                                       .provider = t->provider_id.bytes,
                                       .provider_len = t->provider_id.len,
                                       .now_ms = now_ms(g)};
    int rc = octo_taskstore_charge(&g->ts, t->id, answer, strlen(answer), amount, now_ms(g));
    cJSON_free(answer);
    if (rc == 0)
        rc = octo_taskstore_update(&g->ts, t->id, &up);
    if (rc == 0 && octo_apikey_get(g->cfg.store, t->key.id, &now) == 0 && !now.revoked) {
        uint64_t left = now.budget > now.spent ? now.budget - now.spent : 0;
        *take = amount < left ? amount : left;
        int sr = *take > 0 ? octo_apikey_spend(g->cfg.store, t->key.id, *take) : 0;
        if (sr == OCTO_ERANGE || sr == OCTO_ENOTFOUND || sr == OCTO_ESTATE)
            *take = 0; /* changed (spent, removed, revoked) meanwhile: nothing taken */
        else
            rc = sr;
    }
    return rc;
}

static void on_charge_timer(uv_timer_t *h);

/* One task's statements in a transaction of its own. True when the record says SUCCEEDED. */
static bool charge_one(struct gw_task *t, uint64_t *took)
{
    struct octo_gateway *g = t->g;
    uint64_t take = 0;
    int rc = octo_store_begin(g->cfg.store, true);
    if (rc == 0)
        rc = charge_stmts(t, &take);
    if (rc == 0)
        rc = octo_store_commit(g->cfg.store);
    else
        octo_store_rollback(g->cfg.store);
    if (rc == 0)
        *took += take;
    else if (rc != OCTO_EEXIST)
        OCTO_WARN("gateway: cannot charge a task: %s", octo_strerror(rc));
    return rc == 0 || rc == OCTO_EEXIST;
}

/* After its record says SUCCEEDED, a task's receipt goes to the settlement; a task whose
 * record could not be written has its escrow refunded instead (it runs again after a restart
 * and is escrowed, settled or refunded then). */
static void after_record(struct gw_task *t, bool recorded)
{
    struct octo_gateway *g = t->g;
    if (!t->escrowed)
        return;
    uint8_t task[32];
    task32(t->id, task);
    if (recorded && t->have_receipt && !t->commit_bad) {
        if (octo_settler_receipt(g->cfg.settler, t->receipt, t->escrow_expires_ms) != 0)
            OCTO_WARN("gateway: the settlement batch is full: a receipt is dropped");
    } else {
        octo_settler_failed(g->cfg.settler, task, t->escrow_expires_ms);
    }
}

/* Commits the succeeded tasks waiting for it, all in one transaction (group commit: one fsync
 * for every task that finished in this loop turn); if any of them fails there, each gets a
 * transaction of its own instead. Runs from a 0 ms timer started after the answers were handed
 * to the HTTP server, so clients do not wait for the disk: a crash before the commit leaves
 * the task RUNNING in its record, and it runs again after the restart (charged once, then). */
static void charge_flush(struct octo_gateway *g)
{
    struct gw_task *list = g->charges;
    g->charges = g->charges_tail = NULL;
    if (list == NULL)
        return;
    uint64_t took = 0;
    int rc = list->charge_next == NULL ? -1 : octo_store_begin(g->cfg.store, true);
    if (rc == OCTO_EBUSY) { /* another writer holds the database: later, not task by task */
        struct gw_task *last = list;
        while (last->charge_next != NULL)
            last = last->charge_next;
        last->charge_next = g->charges;
        if (g->charges == NULL)
            g->charges_tail = last;
        g->charges = list;
        uv_timer_start(&g->charge_timer, on_charge_timer, OCTO_GATEWAY_CHARGE_RETRY_MS, 0);
        return;
    }
    for (struct gw_task *t = list; rc == 0 && t != NULL; t = t->charge_next) {
        uint64_t take = 0;
        int r = charge_stmts(t, &take);
        if (r != 0 && r != OCTO_EEXIST) /* EEXIST: charged before a restart, nothing changed */
            rc = r;
        took += take;
    }
    if (rc == 0)
        rc = octo_store_commit(g->cfg.store);
    else if (list->charge_next != NULL && octo_store_tx_state(g->cfg.store) != OCTO_STORE_TX_NONE)
        octo_store_rollback(g->cfg.store);
    bool batch_ok = rc == 0;
    if (!batch_ok)
        took = 0;
    for (struct gw_task *t = list, *n; t != NULL; t = n) {
        n = t->charge_next;
        after_record(t, batch_ok || charge_one(t, &took)); /* one at a time after a failure */
        t->charge_next = NULL;
        t->charge_pending = false;
        task_maybe_free(t);
    }
    g->stats.charged += took;
}

static void on_charge_timer(uv_timer_t *h)
{
    charge_flush(h->data);
}

/* Queues a succeeded task's commit for after the answer is out. */
static void charge(struct gw_task *t, uint64_t amount)
{
    struct octo_gateway *g = t->g;
    t->charge_amount = amount;
    t->charge_pending = true;
    t->charge_next = NULL;
    if (g->charges_tail != NULL)
        g->charges_tail->charge_next = t;
    else
        g->charges = t;
    g->charges_tail = t;
    OCTO_ASSERT(g->charge_timer_open); /* on_done runs from drive(), never after stop */
    uv_timer_start(&g->charge_timer, on_charge_timer, 0, 0);
}

/* A task whose answer stands: it goes out, and the task's commit is queued. */
static void succeed(struct gw_task *t, uint64_t amount)
{
    struct octo_gateway *g = t->g;
    g->stats.succeeded++;
    g->stats.tokens_in += t->result.prompt_tokens;
    g->stats.tokens_out += t->result.completion_tokens;
    if (t->req != NULL)
        answer_success(t);
    charge(t, amount); /* then its receipt: after_record */
}

static void reexec_begin(struct gw_task *t, uint64_t amount);

static void on_done(struct octo_gateway *g, const struct octo_sched_action *a)
{
    struct gw_task *t = task_find(g, a->task);
    if (t == NULL)
        return;
    t->done = true;
    if (t->escrowed && !(a->state == OCTO_FAILOVER_SUCCEEDED && !t->diverged)) {
        /* nothing to settle: the escrow goes back to the payer once it expires */
        uint8_t task[32];
        task32(t->id, task);
        octo_settler_failed(g->cfg.settler, task, t->escrow_expires_ms);
    }
    detach(t); /* a late attempt still open: stop it */
    if (a->state == OCTO_FAILOVER_SUCCEEDED && !t->diverged && t->reexec) {
        /* held: answered and charged once another provider's run agrees (reexec_end) */
        reexec_begin(t, a->charge ? a->amount : 0);
        return;
    }
    if (a->state == OCTO_FAILOVER_SUCCEEDED && !t->diverged) {
        succeed(t, a->charge ? a->amount : 0);
    } else if (t->seal_lost) {
        g->stats.failed++;
        record_update(t, OCTO_TASKSTORE_FAILED, "sealed_lost");
        answer_error(t, 502, "server_error", "sealed_session_lost",
                     t->err_msg[0] ? t->err_msg
                                   : "the worker holding this task's key is gone; start again");
    } else if (t->diverged) {
        g->stats.diverged++;
        record_update(t, OCTO_TASKSTORE_FAILED, "diverged");
        answer_error(t, 502, "server_error", "provider_diverged",
                     "a retried attempt produced text that differs from what was sent");
    } else if (a->state == OCTO_FAILOVER_EXPIRED) {
        g->stats.expired++;
        record_update(t, OCTO_TASKSTORE_EXPIRED, "deadline");
        answer_error(t, 504, "server_error", "timeout", "no provider answered before the deadline");
    } else if (t->store_failed) {
        g->stats.failed++;
        answer_error(t, 500, "server_error", "store_error", "the task could not be recorded");
    } else if (a->reason == OCTO_FAILOVER_REASON_CANCELLED) {
        g->stats.cancelled++;
        record_update(t, OCTO_TASKSTORE_CANCELLED, "the client went away");
    } else if (a->reason == OCTO_FAILOVER_REASON_REJECTED) {
        g->stats.failed++;
        record_update(t, OCTO_TASKSTORE_FAILED, t->err_code[0] ? t->err_code : "rejected");
        answer_error(t, 400, "invalid_request_error", t->err_code[0] ? t->err_code : "invalid",
                     t->err_msg[0] ? t->err_msg : "the provider refused the request");
    } else {
        g->stats.failed++;
        char msg[OCTO_POLICY_EXPLAIN_MAX + 96];
        if (a->reason == OCTO_FAILOVER_REASON_NO_CANDIDATE && t->attempt == 0) {
            char ex[OCTO_POLICY_EXPLAIN_MAX];
            OCTO_IGNORE(octo_policy_explain_json(&a->explain, ex, sizeof(ex)));
            snprintf(msg, sizeof(msg), "no provider can run this task under its policy: %s", ex);
        } else {
            snprintf(msg, sizeof(msg), "every provider tried failed (%u attempts)%s%s", t->attempt,
                     t->err_msg[0] ? ": " : "", t->err_msg);
        }
        record_update(t, OCTO_TASKSTORE_FAILED, "no_provider");
        answer_error(t, 503, "server_error", "no_provider", msg);
    }
    task_maybe_free(t);
}

/* ---- task streams --------------------------------------------------------------------- */

static void reexec_frame(struct gw_attempt *at, uint8_t kind, const uint8_t *body, size_t len);
static void reexec_next(struct gw_task *t);

/* Text of the current attempt: the part the client already has must match; the rest is new. */
static void attempt_text(struct gw_task *t, const uint8_t *p, size_t n)
{
    size_t have = t->text.len, at = t->attempt_bytes;
    t->attempt_bytes += n;
    if (at < have) {
        size_t same = have - at < n ? have - at : n;
        if (memcmp(t->text.data + at, p, same) != 0) {
            t->diverged = true; /* the task ends: no retry can mend what was sent */
            report(t, OCTO_HEALTH_PROVIDER_ERROR);
            detach(t);
            OCTO_IGNORE(octo_sched_cancel(&t->g->sched, t->id, now_tick(t->g)));
            return;
        }
        p += same;
        n -= same;
    }
    if (n == 0)
        return;
    if (octo_buf_append(&t->text, p, n) != 0) {
        snprintf(t->err_msg, sizeof(t->err_msg), "the answer is longer than the gateway keeps");
        report(t, OCTO_HEALTH_CALLER_ERROR);
        detach(t);
        return;
    }
    stream_text(t, (const char *)p, n);
}

/* The worker's KEY: the answer to POST /api/v1/sealed. From here on the task stays with this
 * worker (the client seals its payload to it). */
static void sealed_key(struct gw_task *t, const uint8_t *f, size_t len)
{
    struct octo_gateway *g = t->g;
    t->phase = SEAL_WAIT_TASK;
    if (t->req == NULL)
        return;
    char tid[2 * OCTO_SCHED_ID_LEN + 1], pid[OCTO_PEERID_TEXT_MAX] = "", route[160];
    OCTO_IGNORE(octo_hex_encode(t->id, sizeof(t->id), tid, sizeof(tid)));
    OCTO_IGNORE(octo_peerid_to_base58(&t->provider_id, pid, sizeof(pid)));
    route_header(t, route, sizeof(route));
    char *key = octo_b64_encode(f, len);
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;
    if (key != NULL && o != NULL) {
        cJSON_AddStringToObject(o, "object", "sealed.key");
        cJSON_AddStringToObject(o, "task", tid);
        cJSON_AddStringToObject(o, "provider", pid);
        cJSON_AddStringToObject(o, "key", key);
        cJSON_AddNumberToObject(o, "max_tokens", t->max_tokens);
        cJSON_AddNumberToObject(o, "max_input_bytes", t->max_input);
        cJSON_AddNumberToObject(o, "task_within_ms", OCTO_PROVIDER_SEALED_IO_MS);
        body = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(o);
    octo_free(key);
    if (body == NULL) {
        answer_error(t, 500, "server_error", "out_of_memory", "out of memory");
        return; /* the worker's wait for the TASK ends the attempt */
    }
    const struct octo_http_header h[] = {{"x-octo-task", tid}, {"x-octo-route", route}};
    OCTO_IGNORE(
        octo_api_reply(g->cfg.api, t->req, 200, "application/json", body, strlen(body), h, 2));
    cJSON_free(body);
    octo_http_on_gone(t->req, NULL, NULL);
    t->req = NULL; /* not answered: POST /api/v1/sealed/ID brings the next request */
}

/* A SEALED frame from the provider: one whole frame of the privacy exchange. */
static void sealed_frame(struct gw_task *t, const uint8_t *f, size_t len)
{
    struct octo_gateway *g = t->g;
    enum octo_frame_type type;
    const uint8_t *b;
    size_t bl;
    long got = octo_frame_parse(f, len, OCTO_TASKWIRE_SEALED_MAX, &type, &b, &bl);
    bool whole = got > 0 && (size_t)got == len;
    if (whole && type == OCTO_FRAME_KEY && t->phase == SEAL_WAIT_KEY) {
        sealed_key(t, f, len);
        return;
    }
    if (whole && type == OCTO_FRAME_RESULT && t->phase == SEAL_WAIT_RESULT && t->text.len == 0 &&
        octo_buf_append(&t->text, f, len) == 0)
        return;
    if (whole && type == OCTO_FRAME_ERROR) { /* a refusal: its reason, printable part only */
        char why[160];
        size_t n = 0;
        for (size_t i = 0; i < bl && n + 1 < sizeof(why); i++)
            why[n++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?';
        why[n] = '\0';
        snprintf(t->err_msg, sizeof(t->err_msg), "the provider's sealed exchange: %s", why);
        if (t->phase != SEAL_WAIT_KEY)
            return; /* the provider's ERROR follows and says whose fault it was */
    } else {
        g->stats.frames_bad++;
    }
    report(t, OCTO_HEALTH_PROVIDER_ERROR);
    detach(t);
}

static void attempt_frame(struct gw_task *t, uint8_t kind, const uint8_t *body, size_t len)
{
    struct octo_gateway *g = t->g;
    bool sealed = t->sealed != OCTO_TASKWIRE_OPEN;
    if (sealed && kind == OCTO_TASKWIRE_SEALED && !t->have_result) {
        sealed_frame(t, body, len);
    } else if (sealed && kind == OCTO_TASKWIRE_RESULT && !t->have_result &&
               (t->phase != SEAL_WAIT_RESULT || t->text.len == 0 ||
                octo_taskwire_result_decode(body, len, &t->result) != 0 ||
                t->result.prompt_tokens != octo_taskwire_sealed_prompt_tokens(t->task_len) ||
                t->result.completion_tokens != t->max_tokens)) {
        /* a sealed task's counts are metered, not reported: both sides compute them */
        g->stats.frames_bad++;
        snprintf(t->err_msg, sizeof(t->err_msg), "the provider's sealed result is not metered");
        memset(&t->result, 0, sizeof(t->result));
        report(t, OCTO_HEALTH_PROVIDER_ERROR);
        detach(t);
    } else if (kind == OCTO_TASKWIRE_TOKEN && !t->have_result && !sealed) {
        attempt_text(t, body, len);
    } else if (kind == OCTO_TASKWIRE_RESULT && !t->have_result &&
               (sealed || octo_taskwire_result_decode(body, len, &t->result) == 0)) {
        t->have_result = true;
        t->provider_ns = uv_hrtime() - t->assign_ns;
        uint32_t said_prompt = t->result.prompt_tokens,
                 said_completion = t->result.completion_tokens;
        /* a provider's counts are charged: never more than the request allows */
        if (t->result.completion_tokens > t->max_tokens ||
            t->result.prompt_tokens > t->prompt_cap) {
            g->stats.usage_clamped++;
            if (t->result.completion_tokens > t->max_tokens)
                t->result.completion_tokens = t->max_tokens;
            if (t->result.prompt_tokens > t->prompt_cap)
                t->result.prompt_tokens = (uint32_t)t->prompt_cap;
        }
        if (t->stream && t->attempt_bytes < t->text.len) {
            /* a retry that ended before repeating all the client has: not the same answer */
            t->diverged = true;
            report(t, OCTO_HEALTH_PROVIDER_ERROR);
            detach(t);
            OCTO_IGNORE(octo_sched_cancel(&g->sched, t->id, now_tick(g)));
            return;
        }
        const char *why = commitment_check(t, said_prompt, said_completion);
        if (why != NULL) { /* a run nobody will vouch for is not an answer */
            g->stats.commitments_bad++;
            OCTO_WARN("gateway: a provider's execution commitment is refused: %s", why);
            snprintf(t->err_msg, sizeof(t->err_msg), "the provider's commitment: %s", why);
            t->have_result = false;
            report(t, OCTO_HEALTH_PROVIDER_ERROR);
            detach(t);
            return;
        }
        const char *bad = t->escrowed ? receipt_check(t) : NULL;
        if (bad != NULL) { /* an answer that cannot be settled is not an answer */
            g->stats.receipts_bad++;
            OCTO_WARN("gateway: a provider's receipt is refused: %s", bad);
            snprintf(t->err_msg, sizeof(t->err_msg), "the provider's receipt: %s", bad);
            t->have_result = false;
            report(t, OCTO_HEALTH_PROVIDER_ERROR);
            detach(t);
            return;
        }
        report(t, OCTO_HEALTH_SUCCESS);
    } else if (kind == OCTO_TASKWIRE_ERROR && !t->have_result) {
        struct octo_taskwire_error e;
        if (octo_taskwire_error_decode(body, len, &e) != 0) {
            g->stats.frames_bad++;
            report(t, OCTO_HEALTH_PROVIDER_ERROR);
        } else {
            snprintf(t->err_code, sizeof(t->err_code), "%s", e.code);
            snprintf(t->err_msg, sizeof(t->err_msg), "%s", e.message);
            report(t, e.retry ? OCTO_HEALTH_PROVIDER_ERROR : OCTO_HEALTH_CALLER_ERROR);
        }
    } else {
        g->stats.frames_bad++;
        report(t, OCTO_HEALTH_PROVIDER_ERROR);
        detach(t);
    }
}

static void task_on_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct gw_attempt *at = ctx;
    struct gw_task *t = at->t;
    if (t == NULL)
        return;
    struct octo_gateway *g = t->g;
    if (at->reexec) {
        uint8_t k;
        const uint8_t *b;
        size_t bl;
        if (octo_taskwire_feed(&at->rd, data, len) != 0)
            reexec_frame(at, 0, NULL, 0); /* a broken stream: the next provider */
        while (at->t != NULL && octo_taskwire_next(&at->rd, &k, &b, &bl) == 1)
            reexec_frame(at, k, b, bl);
        (void)s;
        drive(g);
        return;
    }
    if (octo_taskwire_feed(&at->rd, data, len) != 0) {
        g->stats.frames_bad++;
        report(t, OCTO_HEALTH_PROVIDER_ERROR);
        detach(t);
        drive(g);
        return;
    }
    (void)s;
    uint8_t kind;
    const uint8_t *body;
    size_t blen;
    while (at->t != NULL && octo_taskwire_next(&at->rd, &kind, &body, &blen) == 1) {
        if (t->reported && !t->have_result) { /* an ERROR ended this attempt: ignore the rest */
            detach(t);
            break;
        }
        attempt_frame(t, kind, body, blen);
    }
    drive(g);
}

/* Writes what is left of the ASSIGN frame; once all of it is out, half-closes (one request
 * per stream). A short write waits for on_writable. */
static void assign_flush(struct gw_attempt *at)
{
    while (at->assign_off < at->assign.len) {
        int n = octo_net_stream_write(at->s, at->assign.data + at->assign_off,
                                      at->assign.len - at->assign_off);
        if (n < 0) {
            octo_net_stream_reset(at->s);
            return;
        }
        if (n == 0)
            return;
        at->assign_off += (size_t)n;
    }
    if (at->assign.len > 0) {
        octo_buf_deinit(&at->assign);
        /* a sealed task's stream stays open for the client's TASK */
        octo_buf_init(&at->assign, at->half_close ? 0 : OCTO_TASKWIRE_SEALED_MAX + 64);
        at->assign_off = 0;
        if (at->half_close)
            OCTO_IGNORE(octo_net_stream_close(at->s));
    }
}

static void task_on_open(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    struct gw_attempt *at = ctx;
    struct gw_task *t = at->t;
    if (status != 0 || t == NULL)
        return; /* on_close reports it */
    octo_tick now = now_tick(t->g);
    struct octo_taskwire_assign a = {
        .attempt = at->reexec ? 1 : t->attempt,
        .deterministic = t->reexec,
        .kind = t->kind == OCTO_OAI_COMPLETION ? OCTO_TASKWIRE_COMPLETION : OCTO_TASKWIRE_CHAT,
        .deadline_ms =
            now_ms(t->g) + (t->deadline > now ? (t->deadline - now) / OCTO_NS_PER_MS : 0),
        .request = (const char *)t->body,
        .request_len = t->body_len};
    memcpy(a.task, at->reexec ? t->rx_task : t->id, sizeof(a.task));
    snprintf(a.model, sizeof(a.model), "%s", t->model);
    if (t->sealed != OCTO_TASKWIRE_OPEN) { /* the request is the client's HELLO, after this */
        a.sealed = (enum octo_taskwire_sealed)t->sealed;
        a.max_tokens = t->max_tokens;
        a.request = "{}";
        a.request_len = 2;
    }
    at->half_close = t->sealed == OCTO_TASKWIRE_OPEN;
    if (t->escrowed) { /* a re-run carries one too, so it looks like any task (its receipt,
                          for a task id nobody escrowed, pays nothing) */
        a.has_requester = true;
        memcpy(a.requester, octo_settler_payer(t->g->cfg.settler), 32);
    }
    if (!at->reexec)
        t->assign_ns = uv_hrtime();
    octo_buf_init(&at->assign, OCTO_TASKWIRE_FRAME_MAX + OCTO_TASKWIRE_HEADER);
    if (octo_taskwire_assign_encode(&at->assign, &a) != 0 ||
        (t->sealed != OCTO_TASKWIRE_OPEN &&
         octo_taskwire_frame(&at->assign, OCTO_TASKWIRE_SEALED, t->hello, sizeof(t->hello)) != 0)) {
        if (at->reexec) {
            reexec_frame(at, 0, NULL, 0);
            drive(t->g);
            return;
        }
        /* this node's fault, not the provider's: the task fails as a bad request */
        snprintf(t->err_msg, sizeof(t->err_msg), "the request cannot be forwarded");
        report(t, OCTO_HEALTH_CALLER_ERROR);
        detach(t);
        return;
    }
    at->assign_off = 0;
    assign_flush(at);
}

static void task_on_writable(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    assign_flush(ctx);
}

static void task_on_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    (void)status;
    struct gw_attempt *at = ctx;
    struct gw_task *t = at->t;
    bool rerun = at->reexec;
    octo_taskwire_reader_deinit(&at->rd);
    octo_buf_deinit(&at->assign);
    octo_free(at);
    if (t == NULL)
        return;
    if (rerun) { /* closed before its RESULT: the next provider is asked */
        t->rx_cur = NULL;
        if (t->g->stopped)
            return;
        t->g->stats.reexec_failed_runs++;
        reexec_next(t);
        drive(t->g);
        return;
    }
    t->cur = NULL;
    if (!t->have_result) /* a sealed task whose client never sent its TASK: not the provider's */
        report(t, t->sealed != OCTO_TASKWIRE_OPEN && t->phase == SEAL_WAIT_TASK
                      ? OCTO_HEALTH_CALLER_ERROR
                      : OCTO_HEALTH_PROVIDER_ERROR);
    struct octo_gateway *g = t->g;
    if (!g->stopped)
        drive(g);
}

static const struct octo_net_stream_ops task_ops = {
    .on_open = task_on_open,
    .on_data = task_on_data,
    .on_writable = task_on_writable,
    .on_close = task_on_close,
};

struct gw_dial {
    struct octo_gateway *g;
    uint8_t id[OCTO_SCHED_ID_LEN];
    uint64_t dispatch;
};

static void open_attempt(struct gw_task *t);

static void on_provider_dialed(struct octo_net *n, int status, const struct octo_peerid *peer,
                               void *ctx)
{
    (void)n;
    (void)peer;
    struct gw_dial *d = ctx;
    struct gw_task *t = d->g->stopped ? NULL : task_find(d->g, d->id);
    if (t != NULL && t->dispatch == d->dispatch && !t->done && t->cur == NULL && !t->reported) {
        if (status == 0) {
            open_attempt(t);
        } else {
            report(t, OCTO_HEALTH_PROVIDER_ERROR);
        }
        drive(t->g);
    }
    octo_free(d);
}

/* The first endpoint of a registered provider's advert, with /p2p/ID. */
static int endpoint_of(struct octo_gateway *g, uint32_t provider, const struct octo_peerid *id,
                       struct octo_multiaddr *ma)
{
    const struct octo_registry_entry *e =
        octo_registry_at(octo_sched_registry(&g->sched), provider);
    if (e == NULL || e->endpoints_count == 0 || !octo_peerid_equal(&e->provider, id))
        return OCTO_ENOTFOUND;
    size_t len;
    const uint8_t *b = octo_registry_endpoint(e, 0, &len);
    if (octo_multiaddr_from_bytes(b, len, ma) != 0 ||
        octo_multiaddr_push(ma, OCTO_MA_P2P, id->bytes, id->len) != 0)
        return OCTO_EINVAL;
    return 0;
}

/* Dials the provider through its advert's first endpoint. */
static int dial_provider(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    struct octo_multiaddr ma;
    int rc = endpoint_of(g, t->provider, &t->provider_id, &ma);
    if (rc != 0)
        return rc;
    struct gw_dial *d = octo_calloc(1, sizeof(*d));
    if (d == NULL)
        return OCTO_ENOMEM;
    d->g = g;
    memcpy(d->id, t->id, sizeof(d->id));
    d->dispatch = t->dispatch;
    rc = octo_net_dial(g->cfg.net, &ma, on_provider_dialed, d);
    if (rc != 0)
        octo_free(d);
    return rc;
}

static void open_attempt(struct gw_task *t)
{
    struct gw_attempt *at = octo_calloc(1, sizeof(*at));
    if (at == NULL) {
        report(t, OCTO_HEALTH_PROVIDER_ERROR);
        return;
    }
    at->t = t;
    octo_buf_init(&at->assign, 0);
    octo_taskwire_reader_init(&at->rd, (t->sealed != OCTO_TASKWIRE_OPEN ? OCTO_TASKWIRE_SEALED_MAX
                                                                        : OCTO_TASKWIRE_TOKEN_MAX) +
                                           1024);
    int rc = octo_net_stream_open(t->g->cfg.net, &t->provider_id, OCTO_TASK_PROTOCOL, &task_ops, at,
                                  &at->s);
    if (rc == 0) {
        t->cur = at;
        return;
    }
    octo_taskwire_reader_deinit(&at->rd);
    octo_buf_deinit(&at->assign);
    octo_free(at);
    if (rc != OCTO_ENOTFOUND || dial_provider(t) != 0)
        report(t, OCTO_HEALTH_PROVIDER_ERROR);
}

/* ---- verify "reexec" ------------------------------------------------------------------- */

/* A task whose policy asks verify "reexec" runs with the engine's deterministic mode. When the
 * scheduler says it succeeded (its RESULT, receipt and commitment hold), the answer and the
 * charge are held (rx_pending) and the same request runs again on another provider of the
 * model at the same quantization, routed by the task's policy (its `order` aside) among those
 * not tried, under a fresh task id so that it looks like any task. The same text (SHA-256) and
 * token counts: verified, the held answer goes out and is charged. Another: a third provider
 * breaks the tie. It agrees with the answer: verified. It agrees with the re-run: refuted; the
 * task fails and its provider's receipt goes to the ledger as SLASH_FAILED (the escrow is
 * refunded, the provider slashed). Three answers, or nobody left to ask, or no verdict by
 * OCTO_GATEWAY_REEXEC_MS: inconclusive, the task fails, its escrow is refunded, nobody is
 * slashed (two runs cannot show which one lied). A re-run that fails, or does not answer
 * within OCTO_GATEWAY_REEXEC_RUN_MS, is replaced by the next provider, up to
 * OCTO_GATEWAY_REEXEC_TRIES re-runs. Re-runs are not paid. */

/* Stops the re-run in flight; a dial on its way is disowned (rx_seq moves on). */
static void reexec_detach(struct gw_task *t)
{
    t->rx_seq++;
    t->rx_dialing = false;
    if (t->rx_cur == NULL)
        return;
    t->rx_cur->t = NULL;
    octo_net_stream_reset(t->rx_cur->s);
    t->rx_cur = NULL;
}

/* The verdict: the held answer goes out, or the task fails (nothing charged). */
static void reexec_end(struct gw_task *t, enum gw_verdict v)
{
    struct octo_gateway *g = t->g;
    reexec_detach(t);
    t->rx_verdict = (uint8_t)v;
    t->rx_pending = false;
    g->stats.verifying--;
    if (v == GW_VERIFIED) {
        g->stats.reexec_verified++;
        succeed(t, t->rx_charge);
        return;
    }
    bool refuted = v == GW_REFUTED;
    g->stats.failed++;
    if (refuted)
        g->stats.reexec_refuted++;
    else
        g->stats.reexec_inconclusive++;
    record_update(t, OCTO_TASKSTORE_FAILED, refuted ? "reexec_refuted" : "reexec_inconclusive");
    if (t->escrowed && refuted && t->have_receipt) {
        char pid[OCTO_PEERID_TEXT_MAX] = "";
        OCTO_IGNORE(octo_peerid_to_base58(&t->provider_id, pid, sizeof(pid)));
        OCTO_WARN("gateway: %s's answer failed re-execution: its receipt goes to the ledger as "
                  "SLASH_FAILED",
                  pid);
        /* its escrow is refunded by the slash, or (a full list) refunded instead */
        OCTO_IGNORE(octo_settler_slash(g->cfg.settler, t->receipt, t->escrow_expires_ms));
    } else if (t->escrowed) {
        uint8_t task[32];
        task32(t->id, task);
        octo_settler_failed(g->cfg.settler, task, t->escrow_expires_ms);
    }
    answer_error(t, 502, "server_error",
                 refuted ? "verification_failed" : "verification_inconclusive",
                 refuted ? "the answer failed re-execution: two other providers produced other "
                           "bits; its provider is reported for slashing and nothing is charged"
                         : "the answer could not be verified by re-execution (no agreement, or "
                           "no other provider to run it); nothing is charged");
    task_maybe_free(t);
}

/* One re-run's answer against the held one. */
static void reexec_vote(struct gw_task *t, const uint8_t hash[32],
                        const struct octo_taskwire_result *res)
{
    bool same = memcmp(hash, t->rx_answer, 32) == 0 &&
                res->prompt_tokens == t->result.prompt_tokens &&
                res->completion_tokens == t->result.completion_tokens;
    t->rx_runs++;
    if (same) {
        t->rx_agree++;
        reexec_end(t, GW_VERIFIED);
        return;
    }
    if (!t->rx_disagreed) { /* the first disagreement: a third provider breaks the tie */
        t->rx_disagreed = true;
        memcpy(t->rx_other, hash, 32);
        t->rx_other_prompt = res->prompt_tokens;
        t->rx_other_completion = res->completion_tokens;
        reexec_next(t);
        return;
    }
    bool with_other = memcmp(hash, t->rx_other, 32) == 0 &&
                      res->prompt_tokens == t->rx_other_prompt &&
                      res->completion_tokens == t->rx_other_completion;
    reexec_end(t, with_other ? GW_REFUTED : GW_INCONCLUSIVE);
}

static void reexec_frame(struct gw_attempt *at, uint8_t kind, const uint8_t *body, size_t len)
{
    struct gw_task *t = at->t;
    if (kind == OCTO_TASKWIRE_TOKEN && !at->rx_done) {
        octo_sha256_update(&at->rx_hash, body, len);
        return;
    }
    struct octo_taskwire_result res;
    struct octo_commitment c;
    if (kind == OCTO_TASKWIRE_RESULT && !at->rx_done &&
        octo_taskwire_result_decode(body, len, &res) == 0 && res.has_commitment &&
        octo_commit_decode(res.commitment, sizeof(res.commitment), &c) == 0 &&
        memcmp(c.model_sha256, t->rx_weights, 32) == 0) { /* it ran the same weights, it says */
        at->rx_done = true;
        uint8_t hash[32];
        octo_sha256_final(&at->rx_hash, hash);
        t->rx_cur = NULL;
        at->t = NULL; /* its stream closes by itself */
        reexec_vote(t, hash, &res);
        return;
    }
    /* ERROR or a broken stream: this provider cannot vote; the next one is asked */
    t->g->stats.reexec_failed_runs++;
    reexec_detach(t);
    reexec_next(t);
}

static void reexec_open(struct gw_task *t);

static void on_reexec_dialed(struct octo_net *n, int status, const struct octo_peerid *peer,
                             void *ctx)
{
    (void)n;
    (void)peer;
    struct gw_dial *d = ctx;
    struct gw_task *t = d->g->stopped ? NULL : task_find(d->g, d->id);
    if (t != NULL && t->rx_pending && t->rx_dialing && t->rx_seq == d->dispatch) {
        t->rx_dialing = false;
        if (status == 0) {
            reexec_open(t);
        } else {
            t->g->stats.reexec_failed_runs++;
            reexec_next(t);
        }
        drive(t->g);
    }
    octo_free(d);
}

/* Opens the re-run's stream to the provider picked (rx_provider, rx_id), dialling it first
 * when not connected. */
static void reexec_open(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    struct gw_attempt *at = octo_calloc(1, sizeof(*at));
    if (at == NULL) {
        reexec_end(t, GW_INCONCLUSIVE);
        return;
    }
    at->t = t;
    at->reexec = true;
    octo_sha256_init(&at->rx_hash);
    octo_buf_init(&at->assign, 0);
    octo_taskwire_reader_init(&at->rd, OCTO_TASKWIRE_TOKEN_MAX + 1024);
    int rc = octo_net_stream_open(g->cfg.net, &t->rx_id, OCTO_TASK_PROTOCOL, &task_ops, at, &at->s);
    if (rc == 0) {
        t->rx_cur = at;
        return;
    }
    octo_taskwire_reader_deinit(&at->rd);
    octo_buf_deinit(&at->assign);
    octo_free(at);
    struct octo_multiaddr ma;
    struct gw_dial *d = NULL;
    if (rc == OCTO_ENOTFOUND && endpoint_of(g, t->rx_provider, &t->rx_id, &ma) == 0 &&
        (d = octo_calloc(1, sizeof(*d))) != NULL) {
        d->g = g;
        memcpy(d->id, t->id, sizeof(d->id));
        d->dispatch = t->rx_seq;
        t->rx_dialing = true;
        if (octo_net_dial(g->cfg.net, &ma, on_reexec_dialed, d) == 0)
            return;
        t->rx_dialing = false;
        octo_free(d);
    }
    g->stats.reexec_failed_runs++;
    reexec_next(t);
}

/* Asks the next provider, or ends: nobody left to ask. */
static void reexec_next(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    if (t->rx_tried_n == OCTO_GATEWAY_REEXEC_TRIES + 1 || g->stopped ||
        octo_sched_pick(&g->sched, t->model, &t->rx_pol->route, OCTO_ROUTE_COST, t->rx_tried,
                        t->rx_tried_n, t->rx_quant, t->rx_weights, now_tick(g), &t->rx_provider,
                        &t->rx_id) != 0) {
        reexec_end(t, GW_INCONCLUSIVE);
        return;
    }
    t->rx_tried[t->rx_tried_n++] = t->rx_id;
    t->rx_seq++;
    uint64_t now = now_ms(g);
    t->rx_run_deadline_ms = now + OCTO_GATEWAY_REEXEC_RUN_MS < t->rx_deadline_ms
                                ? now + OCTO_GATEWAY_REEXEC_RUN_MS
                                : t->rx_deadline_ms;
    reexec_open(t);
}

/* The task succeeded: hold its answer and start the first re-run. */
static void reexec_begin(struct gw_task *t, uint64_t amount)
{
    struct octo_gateway *g = t->g;
    const struct octo_registry *reg = octo_sched_registry(&g->sched);
    const struct octo_registry_entry *e = octo_registry_at(reg, t->provider);
    uint32_t mid;
    t->rx_quant[0] = '\0';
    if (e != NULL && octo_registry_model_lookup(reg, t->model, &mid) == 0)
        for (uint8_t k = 0; k < e->models_count; k++)
            if (e->models[k].model_id == mid) {
                snprintf(t->rx_quant, sizeof(t->rx_quant), "%s", e->models[k].quant);
                memcpy(t->rx_weights, e->models[k].weights_hash, 32);
            }
    octo_sha256(t->text.data, t->text.len, t->rx_answer);
    octo_random_bytes(t->rx_task, sizeof(t->rx_task));
    t->rx_charge = amount;
    t->rx_pending = true;
    g->stats.verifying++;
    t->rx_tried_n = 0;
    t->rx_tried[t->rx_tried_n++] = t->provider_id;
    t->rx_runs = t->rx_agree = 0;
    t->rx_disagreed = false;
    t->rx_verdict = GW_UNVERIFIED;
    t->rx_deadline_ms = now_ms(g) + OCTO_GATEWAY_REEXEC_MS;
    reexec_next(t);
}

/* Re-runs past their time are replaced; verdicts past theirs are inconclusive. */
static void reexec_tick(struct octo_gateway *g, uint64_t now)
{
    for (uint32_t i = 0; i < GW_TABLE_SLOTS; i++) {
        struct gw_task *t = g->table[i];
        if (t == NULL || !t->rx_pending || now < t->rx_run_deadline_ms)
            continue;
        if (now >= t->rx_deadline_ms) {
            reexec_end(t, GW_INCONCLUSIVE); /* may free t: its slot holds another task now */
            i--;
            continue;
        }
        g->stats.reexec_failed_runs++;
        reexec_detach(t);
        reexec_next(t);
    }
    drive(g);
}

static void on_dispatch_check(uv_check_t *h);
static void on_dispatch_timer(uv_timer_t *h);

static void on_dispatch(struct octo_gateway *g, const struct octo_sched_action *a)
{
    struct gw_task *t = task_find(g, a->task);
    if (t == NULL)
        return;
    if (t->sealed != OCTO_TASKWIRE_OPEN && t->phase != SEAL_WAIT_KEY) {
        /* the attempt timed out after the worker's KEY went out: no other worker can take it */
        t->seal_lost = true;
        detach(t);
        OCTO_IGNORE(octo_sched_cancel(&g->sched, t->id, now_tick(g)));
        return;
    }
    detach(t); /* an older attempt still open (timed out): let it go */
    g->stats.dispatched++;
    if (!t->stream || !t->streaming)
        octo_buf_reset(&t->text); /* the client has none of it yet: the new attempt's text */
    t->attempt = a->attempt;
    t->dispatch = a->dispatch;
    t->provider = a->provider;
    t->provider_id = a->provider_id;
    t->deadline = a->deadline;
    t->attempt_bytes = 0;
    t->reported = false;
    t->have_result = false;
    t->have_receipt = false;
    t->have_commitment = false;
    memset(&t->result, 0, sizeof(t->result));
    const struct octo_registry_entry *e =
        octo_registry_at(octo_sched_registry(&g->sched), a->provider);
    t->price_in = e != NULL ? e->price_in_per_mtok : 0;
    t->price_out = e != NULL ? e->price_out_per_mtok : 0;
    t->assign_ns = uv_hrtime();
    if (t->recorded) {
        record_update(t, OCTO_TASKSTORE_RUNNING, "");
        open_attempt(t);
        return;
    }
    /* the first dispatch: its record is written with this turn's others in one commit, then
     * its attempt opens (dispatch_flush) */
    if (t->dispatch_pending)
        return; /* queued already: it opens with the fields just set */
    t->dispatch_pending = true;
    t->dispatch_next = NULL;
    if (g->dispatches_tail != NULL)
        g->dispatches_tail->dispatch_next = t;
    else
        g->dispatches = t;
    g->dispatches_tail = t;
    OCTO_ASSERT(g->dispatch_check_open); /* on_dispatch runs from drive(), never after stop */
    uv_check_start(&g->dispatch_check, on_dispatch_check);
    uv_timer_start(&g->dispatch_timer, on_dispatch_timer, 0, 0); /* the check may come late:
                                                                   poll could block first */
}

/* A task that cannot be made durable does not run; a commit whose outcome is unknown may have
 * written it all the same: it is marked failed, as far as the store lets. */
static void record_failed(struct gw_task *t)
{
    struct octo_gateway *g = t->g;
    struct octo_taskstore_update u = {
        .state = OCTO_TASKSTORE_FAILED, .reason = "store_error", .now_ms = now_ms(g)};
    OCTO_IGNORE(octo_taskstore_update(&g->ts, t->id, &u));
    t->store_failed = true;
    OCTO_IGNORE(octo_sched_cancel(&g->sched, t->id, now_tick(g)));
}

/* Writes the records of the first dispatches queued in this loop turn in one transaction (one
 * fsync for all of them: group commit), then opens their attempts; if the batch fails, each
 * is written on its own. Runs from a check handle, right after the turn's I/O callbacks.
 * Nothing was acknowledged before: a task's ASSIGN goes out only after its record is
 * durable, as before. */
static void dispatch_flush(struct octo_gateway *g)
{
    struct gw_task *list = g->dispatches;
    g->dispatches = g->dispatches_tail = NULL;
    if (list == NULL)
        return;
    int rc = list->dispatch_next != NULL ? octo_store_begin(g->cfg.store, true) : -1;
    for (struct gw_task *t = list; rc == 0 && t != NULL; t = t->dispatch_next)
        if (!t->done)
            rc = record_insert(t);
    if (rc == 0)
        rc = octo_store_commit(g->cfg.store);
    else if (list->dispatch_next != NULL && octo_store_tx_state(g->cfg.store) != OCTO_STORE_TX_NONE)
        octo_store_rollback(g->cfg.store);
    bool batch_ok = rc == 0;
    for (struct gw_task *t = list, *n; t != NULL; t = n) {
        n = t->dispatch_next;
        t->dispatch_next = NULL;
        t->dispatch_pending = false;
        if (t->done) { /* cancelled meanwhile (its client left): nothing was recorded for it */
            task_maybe_free(t);
            continue;
        }
        if (!batch_ok) {
            t->recorded = false;
            if (record_insert(t) != 0) {
                record_failed(t);
                continue;
            }
        }
        open_attempt(t);
    }
    drive(g);
}

static void on_dispatch_check(uv_check_t *h)
{
    struct octo_gateway *g = h->data;
    uv_check_stop(h);
    uv_timer_stop(&g->dispatch_timer);
    dispatch_flush(g);
}

static void on_dispatch_timer(uv_timer_t *h)
{
    struct octo_gateway *g = h->data;
    uv_check_stop(&g->dispatch_check);
    dispatch_flush(g);
}

/* A probe's ping: one answer per probe (the round-trip sample, or the failure). */
static void on_ping(struct octo_net *n, int status, uint64_t rtt_ns, bool done, void *ctx)
{
    (void)n;
    struct gw_probe *p = ctx;
    if (!done || status != 0) {
        if (!p->g->stopped)
            octo_sched_probe_result(&p->g->sched, p->provider, p->incarnation, status == 0,
                                    rtt_ns / 1000u, now_tick(p->g));
        p->provider = UINT32_MAX; /* answered */
    }
    if (done || status != 0)
        octo_free(p);
}

static int probe_dial(struct gw_probe *p);

static void probe_ping(struct gw_probe *p)
{
    struct octo_gateway *g = p->g;
    int rc = octo_net_ping(g->cfg.net, &p->id, 1, on_ping, p);
    if (rc == OCTO_ENOTFOUND && !p->dialled && probe_dial(p) == 0)
        return; /* not connected (idle connections close): dial, then ping */
    if (rc != 0) {
        octo_sched_probe_result(&g->sched, p->provider, p->incarnation, false, 0, now_tick(g));
        octo_free(p);
    }
}

static void on_probe_dialed(struct octo_net *n, int status, const struct octo_peerid *peer,
                            void *ctx)
{
    (void)n;
    (void)peer;
    struct gw_probe *p = ctx;
    if (p->g->stopped) {
        octo_free(p);
        return;
    }
    if (status != 0) {
        octo_sched_probe_result(&p->g->sched, p->provider, p->incarnation, false, 0,
                                now_tick(p->g));
        octo_free(p);
        return;
    }
    probe_ping(p);
}

/* Dials the provider through the first endpoint of its advert. */
static int probe_dial(struct gw_probe *p)
{
    struct octo_multiaddr ma;
    if (endpoint_of(p->g, p->provider, &p->id, &ma) != 0)
        return OCTO_ENOTFOUND;
    p->dialled = true;
    return octo_net_dial(p->g->cfg.net, &ma, on_probe_dialed, p);
}

static void on_probe(struct octo_gateway *g, const struct octo_sched_action *a)
{
    struct gw_probe *p = octo_calloc(1, sizeof(*p));
    if (p == NULL)
        return;
    p->g = g;
    p->provider = a->provider;
    p->incarnation = a->incarnation;
    p->id = a->provider_id;
    probe_ping(p);
}

static void drive(struct octo_gateway *g)
{
    if (g->stopped)
        return;
    struct octo_sched_action a;
    for (int round = 0; round < 64; round++) {
        octo_tick now = now_tick(g);
        int got = 0;
        while (octo_sched_poll(&g->sched, now, &a) == 1) {
            got = 1;
            if (a.kind == OCTO_SCHED_DISPATCH)
                on_dispatch(g, &a);
            else if (a.kind == OCTO_SCHED_DONE)
                on_done(g, &a);
            else if (a.kind == OCTO_SCHED_PROBE)
                on_probe(g, &a);
        }
        if (!got && octo_sched_next_wakeup(&g->sched) > now)
            break;
    }
    octo_tick next = octo_sched_next_wakeup(&g->sched), now = now_tick(g);
    if (next == UINT64_MAX) {
        uv_timer_stop(&g->timer);
        return;
    }
    uint64_t ms = next > now ? (next - now + OCTO_NS_PER_MS - 1) / OCTO_NS_PER_MS : 0;
    uv_timer_start(&g->timer, on_timer, ms, 0);
}

/* ---- adverts in ------------------------------------------------------------------------ */

static void advert_frame(struct gw_in *in, struct octo_net_stream *s, uint8_t kind,
                         const uint8_t *body, size_t len)
{
    struct octo_gateway *g = in->g;
    struct octo_buf f;
    octo_buf_init(&f, 1024);
    enum octo_advert_reason why = OCTO_ADVERT_OK;
    int rc = kind == OCTO_TASKWIRE_ADVERT
                 ? octo_providers_accept(&g->ps, &g->sched, body, len, now_ms(g), now_tick(g), &why)
                 : OCTO_EMALFORMED;
    if (rc > 0) {
        g->stats.adverts_accepted++;
        const char *st = rc == OCTO_REGISTRY_INSERTED   ? "inserted"
                         : rc == OCTO_REGISTRY_REPLACED ? "replaced"
                                                        : "stale";
        char ack[40];
        int n = snprintf(ack, sizeof(ack), "{\"status\":\"%s\"}", st);
        OCTO_IGNORE(octo_taskwire_frame(&f, OCTO_TASKWIRE_ACK, ack, (size_t)n));
    } else {
        g->stats.adverts_refused++;
        struct octo_taskwire_error e = {.retry = false};
        snprintf(e.code, sizeof(e.code), "%s", octo_err_name(rc));
        snprintf(e.message, sizeof(e.message), "%s",
                 why != OCTO_ADVERT_OK ? octo_advert_reason_str(why) : octo_strerror(rc));
        OCTO_IGNORE(octo_taskwire_error_encode(&f, &e));
    }
    if (octo_net_stream_write(s, f.data, f.len) != (int)f.len)
        octo_net_stream_reset(s);
    else
        OCTO_IGNORE(octo_net_stream_close(s));
    octo_buf_deinit(&f);
    drive(g);
}

static void advert_on_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct gw_in *in = ctx;
    if (octo_taskwire_feed(&in->rd, data, len) != 0) {
        in->g->stats.frames_bad++;
        octo_net_stream_reset(s);
        return;
    }
    uint8_t kind;
    const uint8_t *body;
    size_t blen;
    if (octo_taskwire_next(&in->rd, &kind, &body, &blen) == 1)
        advert_frame(in, s, kind, body, blen);
}

static void advert_on_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    (void)status;
    struct gw_in *in = ctx;
    for (struct gw_in **pp = &in->g->adverts; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == in) {
            *pp = in->next;
            break;
        }
    }
    in->g->adverts_open--;
    octo_taskwire_reader_deinit(&in->rd);
    octo_free(in);
}

static const struct octo_net_stream_ops advert_ops = {
    .on_data = advert_on_data,
    .on_close = advert_on_close,
};

static void on_advert_stream(struct octo_net_stream *s, void *ctx)
{
    struct octo_gateway *g = ctx;
    if (g->stopped || g->adverts_open >= OCTO_GATEWAY_ADVERT_STREAMS_MAX)
        return;
    struct gw_in *in = octo_calloc(1, sizeof(*in));
    if (in == NULL)
        return;
    in->g = g;
    in->s = s;
    in->opened_ms = now_ms(g);
    in->next = g->adverts;
    g->adverts = in;
    octo_taskwire_reader_init(&in->rd, OCTO_ADVERT_SIGNED_MAX + 16);
    g->adverts_open++;
    octo_net_stream_set_ops(s, &advert_ops, in);
}

/* ---- HTTP routes ---------------------------------------------------------------------- */

static void on_gone(void *ctx, struct octo_http_req *r)
{
    (void)r;
    struct gw_task *t = ctx;
    t->req = NULL;
    if (!t->done) {
        OCTO_IGNORE(octo_sched_cancel(&t->g->sched, t->id, now_tick(t->g)));
        detach(t);
        drive(t->g);
        return;
    }
    task_maybe_free(t);
}

static void oai_error(struct octo_gateway *g, struct octo_http_req *r,
                      const struct octo_oai_error *e)
{
    g->stats.rejected++;
    OCTO_IGNORE(octo_api_error(g->cfg.api, r, e->status, e->type, e->code,
                               e->param[0] ? e->param : NULL, e->message));
}

/* A routing policy ("provider" object) into *out; the defaults when obj is NULL. */
static int policy_from(const cJSON *obj, struct octo_policy *out, char *err, size_t cap)
{
    octo_policy_init(out);
    if (obj == NULL)
        return 0;
    char *text = cJSON_PrintUnformatted(obj);
    int rc = text != NULL ? octo_policy_parse(text, strlen(text), out, err, cap) : OCTO_ENOMEM;
    cJSON_free(text);
    return rc;
}

/* The request's routing policy, or the request is answered 400 (nonzero). */
static int parse_policy(struct octo_gateway *g, struct octo_http_req *r, const cJSON *obj,
                        struct octo_policy *out)
{
    char err[OCTO_POLICY_ERR_MAX];
    int rc = policy_from(obj, out, err, sizeof(err));
    if (rc != 0) {
        g->stats.rejected++;
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 400, "invalid_request_error", "invalid_value",
                                   "provider", rc == OCTO_ENOMEM ? "out of memory" : err));
    }
    return rc;
}

/* A task not (yet) in the table. */
static void task_discard(struct gw_task *t)
{
    octo_free(t->body);
    octo_free(t->rx_pol);
    octo_buf_deinit(&t->text);
    octo_wipe(&t->key, sizeof(t->key));
    octo_free(t);
}

static struct gw_task *task_new(struct octo_gateway *g)
{
    struct gw_task *t = octo_calloc(1, sizeof(*t));
    if (t != NULL) {
        t->g = g;
        octo_buf_init(&t->text, OCTO_GATEWAY_TEXT_MAX);
    }
    return t;
}

/* Hands an accepted task to the scheduler. The caller has filled id, oai, body, key; the
 * policy is parsed again from the body (a recovered task has only that). */
static int task_start(struct gw_task *t, const struct octo_policy *pol, uint64_t deadline_ms,
                      const struct octo_peerid *owner)
{
    struct octo_gateway *g = t->g;
    char hex[2 * OCTO_SCHED_ID_LEN + 1];
    OCTO_IGNORE(octo_hex_encode(t->id, 12, hex, sizeof(hex)));
    snprintf(t->oai_id, sizeof(t->oai_id), "%s-%s", t->kind == OCTO_OAI_CHAT ? "chatcmpl" : "cmpl",
             hex);
    t->created_s = (int64_t)(now_ms(g) / 1000u);
    t->strategy = pol->strategy;
    octo_tick now = now_tick(g);
    uint64_t left_ms = deadline_ms > now_ms(g) ? deadline_ms - now_ms(g) : 0;
    struct octo_sched_request sr = {.model = t->model,
                                    .policy = &pol->route,
                                    .strategy = pol->strategy,
                                    .owner = owner,
                                    .deadline = now + (octo_tick)left_ms * OCTO_NS_PER_MS};
    memcpy(sr.id, t->id, sizeof(sr.id));
    t->isolation_min = (uint8_t)pol->route.isolation_min;
    t->reexec = pol->route.verify == OCTO_POLICY_VERIFY_REEXEC && t->sealed == OCTO_TASKWIRE_OPEN;
    if (t->reexec) { /* re-runs go where the policy allows, in no preferred order */
        t->rx_pol = octo_malloc(sizeof(*t->rx_pol));
        if (t->rx_pol == NULL)
            return OCTO_ENOMEM;
        *t->rx_pol = *pol;
        t->rx_pol->route.order_count = 0;
        t->rx_pol->route.allow_fallbacks = true;
    }
    int rc = left_ms == 0 ? OCTO_ETIMEDOUT : octo_sched_submit(&g->sched, &sr, now, NULL);
    if (rc != 0)
        return rc;
    g->stats.submitted++;
    task_insert(g, t);
    return 0;
}

/* Takes what the task keeps from a parsed request (the tree itself is not kept), with the
 * request's canonical JSON as the body forwarded to providers. Returns 0, OCTO_ETOOBIG (the
 * canonical form is over what a task record or an ASSIGN carries) or OCTO_ENOMEM. */
static int task_take(struct gw_task *t, const struct octo_oai_request *oai)
{
    t->kind = oai->kind;
    size_t ml = strlen(oai->model);
    if (ml >= sizeof(t->model))
        return OCTO_ETOOBIG;
    memcpy(t->model, oai->model, ml + 1);
    t->stream = oai->stream;
    t->include_usage = oai->include_usage;
    t->max_tokens = oai->max_tokens != 0 ? oai->max_tokens : OCTO_TASKRUN_MAX_TOKENS_DEFAULT;
    char *canon = cJSON_PrintUnformatted(oai->root);
    if (canon == NULL)
        return OCTO_ENOMEM;
    size_t n = strlen(canon);
    /* a token stands for at least one byte of the rendered prompt, which is the body's text
     * plus the chat template's few tokens per message */
    t->prompt_cap = (uint64_t)n + 64u * (uint64_t)oai->n_messages + 256u;
    if (n + 1 > OCTO_TASKSTORE_REQUEST_MAX || n > OCTO_TASKWIRE_REQUEST_MAX) {
        cJSON_free(canon);
        return OCTO_ETOOBIG;
    }
    octo_free(t->body);
    t->body = octo_malloc(n);
    if (t->body != NULL)
        memcpy(t->body, canon, n);
    t->body_len = n;
    cJSON_free(canon);
    return t->body != NULL ? 0 : OCTO_ENOMEM;
}

/* ---- agents (intel/agent.h, store/agents.h) ------------------------------------------- */

static void reply_json(struct octo_gateway *g, struct octo_http_req *r, char *body);

_Static_assert(OCTO_AGENT_MANIFEST_MAX <= OCTO_AGENT_STORE_MANIFEST_MAX &&
                   OCTO_AGENT_NAME_MAX <= OCTO_AGENT_STORE_NAME_MAX &&
                   OCTO_APIKEY_ID_HEX <= OCTO_AGENT_STORE_OWNER_MAX,
               "agents fit their table");

/* An agent as the API shows it: its record, its manifest and whether the signature holds. */
static cJSON *agent_object(const struct octo_agent_rec *r, const char *manifest, size_t len)
{
    char hex[129];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "object", "agent");
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON *m = cJSON_ParseWithLength(manifest, len);
    cJSON_AddItemToObject(o, "manifest", m != NULL ? m : cJSON_CreateNull());
    OCTO_IGNORE(octo_hex_encode(r->manifest_hash, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "manifest_sha256", hex);
    OCTO_IGNORE(octo_hex_encode(r->registrar, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "registrar", hex);
    OCTO_IGNORE(octo_hex_encode(r->sig, 64, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "signature", hex);
    uint8_t h[32];
    octo_sha256(manifest, len, h);
    cJSON_AddBoolToObject(o, "verified",
                          memcmp(h, r->manifest_hash, 32) == 0 &&
                              octo_agent_verify(r->registrar, r->id, r->manifest_hash, r->sig) ==
                                  0);
    cJSON_AddNumberToObject(o, "created_ms", (double)r->created_ms);
    return o;
}

static void agent_error(struct octo_gateway *g, struct octo_http_req *r, int rc, const char *msg)
{
    unsigned status = rc == OCTO_ENOTFOUND                      ? 404
                      : rc == OCTO_EEXIST                       ? 409
                      : rc == OCTO_ELIMIT                       ? 409
                      : rc == OCTO_EINVAL || rc == OCTO_ETOOBIG ? 400
                                                                : 500;
    const char *code = rc == OCTO_ENOTFOUND ? "not_found"
                       : rc == OCTO_EEXIST  ? "agent_exists"
                       : rc == OCTO_ELIMIT  ? "too_many_agents"
                       : status == 400      ? "invalid_manifest"
                                            : "store_error";
    OCTO_IGNORE(octo_api_error(g->cfg.api, r, status,
                               status >= 500 ? "server_error" : "invalid_request_error", code, NULL,
                               msg));
}

/* POST /api/v1/agents: registers the manifest in the body for the caller's key. */
static void route_agent_create(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    struct octo_gateway *g = ctx;
    struct octo_apikey key;
    if (octo_api_authorize(g->cfg.api, r, &key) != 0)
        return;
    size_t blen;
    const uint8_t *body = octo_http_body(r, &blen);
    struct octo_agent_manifest man;
    char err[OCTO_AGENT_ERR_MAX];
    int rc = octo_agent_manifest_parse((const char *)body, blen, &man, err, sizeof(err));
    if (rc != 0) {
        agent_error(g, r, rc, rc == OCTO_ENOMEM ? "out of memory" : err);
        return;
    }
    struct octo_agent_rec rec;
    memset(&rec, 0, sizeof(rec));
    char *canon = octo_agent_manifest_canonical(&man, rec.manifest_hash);
    snprintf(rec.name, sizeof(rec.name), "%s", man.name);
    octo_agent_manifest_free(&man);
    if (canon == NULL || strlen(canon) > OCTO_AGENT_MANIFEST_MAX || g->cfg.identity == NULL) {
        agent_error(g, r, canon == NULL || g->cfg.identity == NULL ? OCTO_ENOMEM : OCTO_ETOOBIG,
                    canon == NULL             ? "out of memory"
                    : g->cfg.identity == NULL ? "this node has no key to register agents with"
                                              : "the manifest's canonical form is too large");
        cJSON_free(canon);
        return;
    }
    uint8_t rnd[16];
    octo_random_bytes(rnd, sizeof(rnd));
    octo_uuid_v4(rnd, rec.id);
    snprintf(rec.owner, sizeof(rec.owner), "%s", key.id);
    memcpy(rec.registrar, g->cfg.identity->pub.bytes, 32);
    octo_agent_sign(g->cfg.identity, rec.id, rec.manifest_hash, rec.sig);
    rec.created_ms = now_ms(g);
    rc = octo_agent_insert(g->cfg.store, &rec, canon, strlen(canon));
    if (rc != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 rc == OCTO_EEXIST   ? "this key has an agent named %s already"
                 : rc == OCTO_ELIMIT ? "this key holds as many agents as it may (%s not added)"
                                     : "the agent could not be stored (%s)",
                 rec.name);
        agent_error(g, r, rc, msg);
        cJSON_free(canon);
        return;
    }
    g->stats.agents_registered++;
    cJSON *o = agent_object(&rec, canon, strlen(canon));
    cJSON_free(canon);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (out == NULL) {
        agent_error(g, r, OCTO_ENOMEM, "out of memory");
        return;
    }
    OCTO_IGNORE(octo_api_reply(g->cfg.api, r, 201, "application/json", out, strlen(out), NULL, 0));
    cJSON_free(out);
}

/* Appends o (made by the caller, NULL when out of memory) to the array arr: 0 or OCTO_ENOMEM.
 * The listing callbacks' common step. */
static int json_append(void *arr, cJSON *o)
{
    if (o == NULL)
        return OCTO_ENOMEM;
    cJSON_AddItemToArray(arr, o);
    return 0;
}

static int list_agent(void *ctx, const struct octo_agent_rec *rec, const char *manifest, size_t len)
{
    return json_append(ctx, agent_object(rec, manifest, len));
}

/* GET /api/v1/agents: the caller's key's agents, by name. */
static void route_agents(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    struct octo_gateway *g = ctx;
    struct octo_apikey key;
    if (octo_api_authorize(g->cfg.api, r, &key) != 0)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "agents");
    int rc = octo_agent_list(g->cfg.store, key.id, list_agent, arr);
    if (rc != 0) {
        cJSON_Delete(o);
        agent_error(g, r, rc, "the agents could not be read");
        return;
    }
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply_json(g, r, body);
}

/* The route's {} capture as text (an agent's id or name). */
static bool capture_text(const struct octo_route_match *m, char *out, size_t cap)
{
    if (m->captures[0].len == 0 || m->captures[0].len >= cap)
        return false;
    memcpy(out, m->captures[0].p, m->captures[0].len);
    out[m->captures[0].len] = '\0';
    return true;
}

/* GET /api/v1/agents/{id or name} */
static void route_agent(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct octo_gateway *g = ctx;
    struct octo_apikey key;
    if (octo_api_authorize(g->cfg.api, r, &key) != 0)
        return;
    char which[OCTO_UUID_TEXT_LEN + OCTO_AGENT_NAME_MAX + 1];
    struct octo_agent_rec rec;
    struct octo_buf man;
    octo_buf_init(&man, OCTO_AGENT_STORE_MANIFEST_MAX);
    int rc = capture_text(m, which, sizeof(which))
                 ? octo_agent_get(g->cfg.store, key.id, which, &rec, &man)
                 : OCTO_ENOTFOUND;
    if (rc != 0) {
        octo_buf_deinit(&man);
        agent_error(g, r, rc,
                    rc == OCTO_ENOTFOUND ? "no such agent for this key"
                                         : "the agent could not be read");
        return;
    }
    cJSON *o = agent_object(&rec, (const char *)man.data, man.len);
    octo_buf_deinit(&man);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply_json(g, r, body);
}

/* DELETE /api/v1/agents/{id or name} */
static void route_agent_delete(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct octo_gateway *g = ctx;
    struct octo_apikey key;
    if (octo_api_authorize(g->cfg.api, r, &key) != 0)
        return;
    char which[OCTO_UUID_TEXT_LEN + OCTO_AGENT_NAME_MAX + 1];
    int rc = capture_text(m, which, sizeof(which)) ? octo_agent_delete(g->cfg.store, key.id, which)
                                                   : OCTO_ENOTFOUND;
    if (rc != 0) {
        agent_error(g, r, rc,
                    rc == OCTO_ENOTFOUND ? "no such agent for this key"
                                         : "the agent could not be removed");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deleted", which);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply_json(g, r, body);
}

/* A chat body whose model is "agent:NAME" (or agent:ID) becomes the agent's request (agent.h:
 * its model, instructions, defaults). 0 with *out the new body (cJSON_free) or NULL when the
 * body names no agent; nonzero when the request has been answered. */
static int agent_body(struct octo_gateway *g, struct octo_http_req *r, enum octo_oai_kind kind,
                      const struct octo_apikey *key, const uint8_t *body, size_t len, char **out)
{
    *out = NULL;
    if (len < 16 ||
        memmem(body, len, "\"" OCTO_AGENT_PREFIX, strlen(OCTO_AGENT_PREFIX) + 1) == NULL)
        return 0; /* cheap test first: most requests name a model */
    cJSON *o = cJSON_ParseWithLength((const char *)body, len);
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "model"));
    if (model == NULL || strncmp(model, OCTO_AGENT_PREFIX, strlen(OCTO_AGENT_PREFIX)) != 0) {
        cJSON_Delete(o);
        return 0;
    }
    /* the request as sent must be one the parser takes, as any other is */
    struct octo_oai_request check;
    struct octo_oai_error oe;
    if (octo_oai_parse(kind, (const char *)body, len, &check, &oe) != 0) {
        cJSON_Delete(o);
        oai_error(g, r, &oe);
        return -1;
    }
    octo_oai_request_free(&check);
    struct octo_agent_rec rec;
    struct octo_buf man;
    octo_buf_init(&man, OCTO_AGENT_STORE_MANIFEST_MAX);
    struct octo_agent_manifest am;
    char err[OCTO_AGENT_ERR_MAX];
    int rc = kind != OCTO_OAI_CHAT ? OCTO_EINVAL
                                   : octo_agent_get(g->cfg.store, key->id,
                                                    model + strlen(OCTO_AGENT_PREFIX), &rec, &man);
    if (rc == 0)
        rc = octo_agent_manifest_parse((const char *)man.data, man.len, &am, err, sizeof(err));
    octo_buf_deinit(&man);
    if (rc == 0) {
        rc = octo_agent_expand(&am, o);
        octo_agent_manifest_free(&am);
        *out = rc == 0 ? cJSON_PrintUnformatted(o) : NULL;
        if (rc == 0 && *out == NULL)
            rc = OCTO_ENOMEM;
    }
    cJSON_Delete(o);
    if (rc == 0) {
        g->stats.agent_tasks++;
        return 0;
    }
    g->stats.rejected++;
    char msg[160];
    snprintf(msg, sizeof(msg), "%s",
             kind != OCTO_OAI_CHAT  ? "agents take chat requests (/v1/chat/completions)"
             : rc == OCTO_ENOTFOUND ? "no such agent for this key"
             : rc == OCTO_EINVAL    ? "the request cannot be run by the agent (messages?)"
                                    : "the agent could not be read");
    OCTO_IGNORE(octo_api_error(
        g->cfg.api, r,
        rc == OCTO_ENOTFOUND ? 404
        : rc == OCTO_EINVAL  ? 400
                             : 500,
        rc == OCTO_ENOTFOUND || rc == OCTO_EINVAL ? "invalid_request_error" : "server_error",
        rc == OCTO_ENOTFOUND ? "model_not_found" : "invalid_value", "model", msg));
    return -1;
}

/* Checks a request and takes it into t: 0, or the request has been answered (nonzero). */
static int admit(struct octo_gateway *g, struct octo_http_req *r, enum octo_oai_kind kind,
                 struct gw_task *t, struct octo_policy *pol)
{
    size_t blen;
    const uint8_t *body = octo_http_body(r, &blen);
    struct octo_oai_error oe;
    struct octo_oai_request oai;
    uint32_t model_id;
    char *expanded = NULL; /* the request as the agent it names makes it */
    if (agent_body(g, r, kind, &t->key, body, blen, &expanded) != 0)
        return -1;
    if (expanded != NULL) {
        body = (const uint8_t *)expanded;
        blen = strlen(expanded);
    }
    int rc = octo_oai_parse(kind, (const char *)body, blen, &oai, &oe);
    cJSON_free(expanded); /* the parse holds copies */
    if (rc != 0) {
        oai_error(g, r, &oe);
        return rc;
    }
    if (parse_policy(g, r, oai.policy, pol) != 0) {
        rc = -1;
    } else if (pol->route.privacy >= OCTO_DATA_CONFIDENTIAL) {
        /* sealed classes travel sealed to the worker that runs them: this gateway must not
         * hold them in plaintext, so it neither records nor forwards such a request */
        g->stats.rejected++;
        OCTO_IGNORE(octo_api_error(
            g->cfg.api, r, 400, "invalid_request_error", "unsupported_value", "provider",
            "CONFIDENTIAL and PRIVATE data must be sealed by the client for the provider's "
            "sandbox; this gateway does not accept them in plaintext"));
        rc = -1;
    } else if (octo_registry_model_lookup(octo_sched_registry(&g->sched), oai.model, &model_id) !=
               0) {
        char msg[OCTO_OAI_MODEL_MAX + 64];
        snprintf(msg, sizeof(msg), "The model `%s` does not exist or no provider serves it.",
                 oai.model);
        g->stats.rejected++;
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 404, "invalid_request_error", "model_not_found",
                                   "model", msg));
        rc = -1;
    } else if (g->stats.in_flight >= OCTO_GATEWAY_TASKS_MAX) {
        g->stats.rejected++;
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 503, "server_error", "overloaded", NULL,
                                   "the gateway holds as many requests as it can; retry later"));
        rc = -1;
    } else if ((rc = task_take(t, &oai)) != 0) {
        g->stats.rejected++;
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, rc == OCTO_ETOOBIG ? 413 : 500,
                                   rc == OCTO_ETOOBIG ? "invalid_request_error" : "server_error",
                                   rc == OCTO_ETOOBIG ? "request_too_large" : "out_of_memory", NULL,
                                   rc == OCTO_ETOOBIG ? "the request is larger than a task carries"
                                                      : "out of memory"));
    }
    octo_oai_request_free(&oai);
    return rc;
}

static void accept_task(struct octo_gateway *g, struct octo_http_req *r, struct gw_task *t,
                        const struct octo_policy *pol, const struct octo_peerid *owner);

static void submit(struct octo_gateway *g, struct octo_http_req *r, enum octo_oai_kind kind)
{
    g->stats.requests++;
    struct gw_task *t = task_new(g);
    if (t == NULL) {
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 500, "server_error", "out_of_memory", NULL,
                                   "out of memory"));
        return;
    }
    struct octo_policy pol;
    if (octo_api_authorize(g->cfg.api, r, &t->key) != 0) {
        g->stats.rejected++;
        task_discard(t);
        return;
    }
    if (admit(g, r, kind, t, &pol) != 0) {
        task_discard(t);
        return;
    }
    accept_task(g, r, t, &pol, NULL);
}

/* Hands an admitted request to the scheduler, escrows it, and waits for its answer. */
static void accept_task(struct octo_gateway *g, struct octo_http_req *r, struct gw_task *t,
                        const struct octo_policy *pol, const struct octo_peerid *owner)
{
    /* the most the task can cost is held against what the key has left, so that a key cannot
     * start more than it can pay for (and lock the payer's escrows for them) */
    uint64_t need = escrow_amount(g, t);
    uint64_t left = t->key.budget > t->key.spent ? t->key.budget - t->key.spent : 0;
    uint64_t held = held_by(g, t->key.id);
    left = left > held ? left - held : 0;
    if (need > left) {
        g->stats.rejected++;
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "the most this request can cost (%llu base units) is more than the key has left "
                 "(%llu, its tasks in flight held); lower max_tokens or add budget",
                 (unsigned long long)need, (unsigned long long)left);
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 429, "insufficient_quota", "insufficient_quota",
                                   NULL, msg));
        task_discard(t);
        return;
    }
    octo_random_bytes(t->id, sizeof(t->id));
    uint64_t deadline_ms = now_ms(g) + OCTO_GATEWAY_DEADLINE_MS;
    t->deadline_ms = deadline_ms;
    int rc = task_start(t, pol, deadline_ms, owner);
    if (rc != 0) {
        g->stats.rejected++;
        bool bad = rc == OCTO_EINVAL;
        OCTO_IGNORE(octo_api_error(
            g->cfg.api, r, bad ? 400 : 503, bad ? "invalid_request_error" : "server_error",
            bad ? "invalid_value" : "overloaded", NULL,
            bad ? "the routing policy cannot be used" : "the scheduler is full; retry later"));
        task_discard(t);
        return;
    }
    hold_add(t, need);
    escrow(t, deadline_ms);
    t->req = r;
    octo_http_on_gone(r, on_gone, t);
    drive(g);
}

/* ---- sealed tasks (see the top of the file) --------------------------------------------- */

/* A bad sealed request: 400 (or status) naming the parameter. Returns -1. */
static int sealed_bad(struct octo_gateway *g, struct octo_http_req *r, unsigned status,
                      const char *param, const char *msg)
{
    g->stats.rejected++;
    OCTO_IGNORE(octo_api_error(g->cfg.api, r, status, "invalid_request_error",
                               status == 413 ? "request_too_large" : "invalid_value", param, msg));
    return -1;
}

/* An optional integer member in 1..max, default def; -1 when present and not one. */
static int64_t sealed_uint(const cJSON *o, const char *name, uint32_t def, uint32_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v == NULL)
        return def;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1) || v->valuedouble > max ||
        (double)(uint32_t)v->valuedouble != v->valuedouble)
        return -1;
    return (int64_t)v->valuedouble;
}

/* A base64 member decoded into out[0..cap): its length, or -1. */
static long sealed_b64(const cJSON *o, const char *name, uint8_t *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    long n = cJSON_IsString(v) && v->valuestring != NULL ? octo_b64_decode(v->valuestring, out, cap)
                                                         : OCTO_EMALFORMED;
    return n < 0 ? -1 : n;
}

/* True when f[0..len) is exactly one frame of the privacy exchange, of the given type. */
static bool sealed_frame_is(const uint8_t *f, size_t len, enum octo_frame_type type)
{
    enum octo_frame_type ty;
    const uint8_t *b;
    size_t bl;
    long got = octo_frame_parse(f, len, OCTO_TASKWIRE_SEALED_MAX, &ty, &b, &bl);
    return got > 0 && (size_t)got == len && ty == type;
}

/* The metadata of POST /api/v1/sealed into t and pol (*has_owner and owner: the client's own
 * node). 0, or the request has been answered. */
static int sealed_admit(struct octo_gateway *g, struct octo_http_req *r, const cJSON *o,
                        struct gw_task *t, struct octo_policy *pol, struct octo_peerid *owner,
                        bool *has_owner)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    const cJSON *priv = cJSON_GetObjectItemCaseSensitive(o, "privacy");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(o, "owner");
    int64_t max_tokens = sealed_uint(o, "max_tokens", OCTO_TASKRUN_MAX_TOKENS_DEFAULT,
                                     OCTO_TASKWIRE_SEALED_TOKENS_MAX);
    int64_t max_input = sealed_uint(o, "max_input_bytes", OCTO_GATEWAY_SEALED_INPUT_DEFAULT,
                                    OCTO_GATEWAY_SEALED_INPUT_MAX);
    uint32_t model_id;
    if (!cJSON_IsString(model) || model->valuestring == NULL ||
        strlen(model->valuestring) >= sizeof(t->model))
        return sealed_bad(g, r, 400, "model", "model: a model name");
    if (!cJSON_IsString(priv) || (strcmp(priv->valuestring, "private") != 0 &&
                                  strcmp(priv->valuestring, "confidential") != 0))
        return sealed_bad(g, r, 400, "privacy",
                          "privacy: \"private\" or \"confidential\" (other data goes to "
                          "/v1/chat/completions)");
    if (kind != NULL && (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "chat") != 0 &&
                                                   strcmp(kind->valuestring, "completion") != 0)))
        return sealed_bad(g, r, 400, "kind", "kind: \"chat\" or \"completion\"");
    if (max_tokens < 0)
        return sealed_bad(g, r, 400, "max_tokens", "max_tokens: 1..1024");
    if (max_input < 0)
        return sealed_bad(g, r, 400, "max_input_bytes", "max_input_bytes: 1..782336");
    t->sealed = strcmp(priv->valuestring, "private") == 0 ? OCTO_TASKWIRE_SEALED_PRIVATE
                                                          : OCTO_TASKWIRE_SEALED_CONFIDENTIAL;
    if (sealed_b64(o, "hello", t->hello, sizeof(t->hello)) != (long)sizeof(t->hello) ||
        !sealed_frame_is(t->hello, sizeof(t->hello), OCTO_FRAME_HELLO) ||
        t->hello[sizeof(t->hello) - 1] != t->sealed)
        return sealed_bad(g, r, 400, "hello",
                          "hello: the base64 HELLO frame of the privacy exchange, for this class");
    *has_owner = own != NULL;
    if (own != NULL &&
        (!cJSON_IsString(own) || octo_peerid_from_text(own->valuestring, owner) != 0))
        return sealed_bad(g, r, 400, "owner", "owner: a peer id (the client's own node)");
    if (parse_policy(g, r, cJSON_GetObjectItemCaseSensitive(o, "provider"), pol) != 0)
        return -1;
    if (pol->route.verify == OCTO_POLICY_VERIFY_REEXEC)
        return sealed_bad(g, r, 400, "provider",
                          "verify \"reexec\" compares answers, which a sealed task hides from "
                          "this gateway");
    enum octo_data_class cls =
        t->sealed == OCTO_TASKWIRE_SEALED_PRIVATE ? OCTO_DATA_PRIVATE : OCTO_DATA_CONFIDENTIAL;
    if (pol->route.privacy < cls)
        pol->route.privacy = cls;
    if (octo_registry_model_lookup(octo_sched_registry(&g->sched), model->valuestring, &model_id) !=
        0)
        return sealed_bad(g, r, 404, "model", "no provider serves that model");
    if (g->stats.in_flight >= OCTO_GATEWAY_TASKS_MAX) {
        g->stats.rejected++;
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 503, "server_error", "overloaded", NULL,
                                   "the gateway holds as many requests as it can; retry later"));
        return -1;
    }
    snprintf(t->model, sizeof(t->model), "%s", model->valuestring);
    t->kind = kind != NULL && strcmp(kind->valuestring, "completion") == 0 ? OCTO_OAI_COMPLETION
                                                                           : OCTO_OAI_CHAT;
    t->max_tokens = (uint32_t)max_tokens;
    t->max_input = (uint32_t)max_input;
    t->prompt_cap = octo_taskwire_sealed_prompt_tokens(t->max_input);
    char meta[160];
    int n = snprintf(meta, sizeof(meta),
                     "{\"sealed\":\"%s\",\"kind\":\"%s\",\"max_tokens\":%u,"
                     "\"max_input_bytes\":%u}",
                     priv->valuestring, t->kind == OCTO_OAI_CHAT ? "chat" : "completion",
                     t->max_tokens, t->max_input);
    t->body = octo_malloc((size_t)n);
    if (t->body == NULL)
        return sealed_bad(g, r, 500, NULL, "out of memory");
    memcpy(t->body, meta, (size_t)n);
    t->body_len = (size_t)n;
    return 0;
}

/* POST /api/v1/sealed: a sealed task's metadata and the client's HELLO; answered with the KEY
 * of the worker that will run it (sealed_key). */
static void route_sealed(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    struct octo_gateway *g = ctx;
    g->stats.requests++;
    struct gw_task *t = task_new(g);
    if (t == NULL) {
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 500, "server_error", "out_of_memory", NULL,
                                   "out of memory"));
        return;
    }
    if (octo_api_authorize(g->cfg.api, r, &t->key) != 0) {
        g->stats.rejected++;
        task_discard(t);
        return;
    }
    size_t blen;
    const uint8_t *body = octo_http_body(r, &blen);
    cJSON *o = cJSON_ParseWithLength((const char *)body, blen);
    struct octo_policy pol;
    struct octo_peerid owner;
    bool has_owner = false;
    int rc = cJSON_IsObject(o) ? sealed_admit(g, r, o, t, &pol, &owner, &has_owner)
                               : sealed_bad(g, r, 400, NULL, "the body is not a JSON object");
    cJSON_Delete(o);
    if (rc != 0) {
        task_discard(t);
        return;
    }
    g->stats.sealed++;
    accept_task(g, r, t, &pol, has_owner ? &owner : NULL);
}

/* POST /api/v1/sealed/{id}: the client's sealed TASK for the worker whose KEY it was given;
 * answered with the worker's sealed RESULT (answer_success). */
static void route_sealed_task(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct octo_gateway *g = ctx;
    struct octo_apikey key;
    if (octo_api_authorize(g->cfg.api, r, &key) != 0)
        return;
    uint8_t id[OCTO_SCHED_ID_LEN];
    struct gw_task *t = m->captures[0].len == 2 * sizeof(id) &&
                                octo_hex_decode(m->captures[0].p, m->captures[0].len, id,
                                                sizeof(id)) == (int)sizeof(id)
                            ? task_find(g, id)
                            : NULL;
    if (t == NULL || t->sealed == OCTO_TASKWIRE_OPEN || strcmp(t->key.id, key.id) != 0) {
        octo_wipe(&key, sizeof(key));
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 404, "invalid_request_error", "not_found", NULL,
                                   "no such sealed task for this key"));
        return;
    }
    octo_wipe(&key, sizeof(key));
    if (t->phase != SEAL_WAIT_TASK || t->req != NULL || t->cur == NULL || t->done) {
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 409, "invalid_request_error", "conflict", NULL,
                                   "the task is not waiting for its sealed TASK"));
        return;
    }
    size_t blen;
    const uint8_t *body = octo_http_body(r, &blen);
    cJSON *o = cJSON_ParseWithLength((const char *)body, blen);
    uint8_t *f = octo_malloc(t->max_input);
    long n = f != NULL && cJSON_IsObject(o) ? sealed_b64(o, "task", f, t->max_input) : -1;
    cJSON_Delete(o);
    if (n < 0 || !sealed_frame_is(f, (size_t)n, OCTO_FRAME_TASK)) {
        octo_free(f);
        (void)sealed_bad(g, r, f == NULL ? 500 : 400, "task",
                         "task: the base64 TASK frame of the privacy exchange, of at most "
                         "max_input_bytes");
        return;
    }
    struct gw_attempt *at = t->cur;
    t->task_len = (size_t)n;
    octo_sha256(f, t->task_len, t->task_hash);
    at->half_close = true; /* the last frame this side sends */
    int rc = octo_taskwire_frame(&at->assign, OCTO_TASKWIRE_SEALED, f, t->task_len);
    octo_free(f);
    if (rc != 0) {
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 500, "server_error", "out_of_memory", NULL,
                                   "the task cannot be forwarded"));
        return;
    }
    t->phase = SEAL_WAIT_RESULT;
    t->req = r;
    octo_http_on_gone(r, on_gone, t);
    assign_flush(at);
    drive(g);
}

/* ---- recovery after a restart ---------------------------------------------------------- */

/* What recovery keeps of a stored record (the list callback may not call into the store). */
struct recover_item {
    uint8_t id[OCTO_TASKSTORE_ID_LEN];
    char key_id[OCTO_APIKEY_ID_HEX + 1];
    uint64_t deadline_ms;
    uint32_t attempts;
    bool charged;
    uint8_t *request;
    size_t request_len;
};

struct recover_page {
    struct recover_item items[OCTO_GATEWAY_RECOVER_PAGE];
    size_t n, bytes;
};

static int recover_collect(const struct octo_taskstore_record *rec, void *ctx)
{
    struct recover_page *pg = ctx;
    struct recover_item *it = &pg->items[pg->n];
    memset(it, 0, sizeof(*it));
    memcpy(it->id, rec->id, sizeof(it->id));
    if (rec->owner_len == OCTO_APIKEY_ID_HEX)
        memcpy(it->key_id, rec->owner, OCTO_APIKEY_ID_HEX);
    it->deadline_ms = rec->deadline_ms;
    it->attempts = rec->attempts;
    it->charged = rec->charged;
    if (rec->request_len > 0) {
        it->request = octo_malloc(rec->request_len);
        if (it->request == NULL)
            return OCTO_ENOMEM; /* not the record's fault: the start fails, nothing is lost */
        memcpy(it->request, rec->request, rec->request_len);
        it->request_len = rec->request_len;
    }
    pg->n++;
    pg->bytes += rec->request_len;
    return pg->bytes >= OCTO_GATEWAY_RECOVER_BYTES ? 1 : 0; /* a page is bounded in bytes too */
}

/* Ends a record that cannot run again. */
static void recover_end(struct octo_gateway *g, const struct recover_item *it,
                        enum octo_taskstore_state st, const char *why)
{
    struct octo_taskstore_update u = {
        .state = st, .attempts = it->attempts, .reason = why, .now_ms = now_ms(g)};
    OCTO_IGNORE(octo_taskstore_update(&g->ts, it->id, &u));
}

/* Starts again a task that was accepted before a restart: its client is gone (the answer is
 * kept in the record: GET /api/v1/tasks/ID), its key pays for it. A task charged before the
 * restart had its answer stored in the same transaction: it only needs its final state.
 * Returns 1 resumed, 0 ended, OCTO_EBUSY when the scheduler is full (the record stays as it
 * is, for later). */
static int recover_one(struct octo_gateway *g, struct recover_item *it)
{
    if (task_find(g, it->id) != NULL)
        return 2; /* resumed already (a later pass over the records) */
    if (it->charged) {
        recover_end(g, it, OCTO_TASKSTORE_SUCCEEDED, "");
        return 0;
    }
    struct gw_task *t = task_new(g);
    if (t == NULL)
        return OCTO_EBUSY;
    memcpy(t->id, it->id, sizeof(t->id));
    struct octo_oai_error oe;
    struct octo_oai_request oai;
    struct octo_policy pol;
    char err[OCTO_POLICY_ERR_MAX];
    const char *why = NULL;
    if (it->request_len < 2 || it->key_id[0] == '\0') {
        why = "unreadable record";
    } else if (it->request[0] == 2) {
        why = "sealed: its worker's key did not survive the restart";
    } else if (octo_apikey_get(g->cfg.store, it->key_id, &t->key) != 0) {
        why = "its API key is gone";
    } else {
        enum octo_oai_kind kind = it->request[0] == 1 ? OCTO_OAI_COMPLETION : OCTO_OAI_CHAT;
        if (octo_oai_parse(kind, (const char *)it->request + 1, it->request_len - 1, &oai, &oe) !=
            0) {
            why = "unreadable request";
        } else {
            if (policy_from(oai.policy, &pol, err, sizeof(err)) != 0)
                why = "unreadable policy";
            else if (task_take(t, &oai) != 0)
                why = "unreadable request";
            octo_oai_request_free(&oai);
        }
    }
    int rc = why == NULL ? task_start(t, &pol, it->deadline_ms, NULL) : 0;
    if (why == NULL && rc == 0) {
        hold_add(t, escrow_amount(g, t)); /* held as at acceptance (no refusal now) */
        t->attempt_base = it->attempts;
        t->recorded = true;
        t->deadline_ms = it->deadline_ms;
        uint8_t task[32];
        task32(t->id, task);
        t->escrowed = g->cfg.settler != NULL &&
                      octo_settler_escrow_open(g->cfg.settler, task, &t->escrow_expires_ms,
                                               &t->escrow_amount);
        return 1;
    }
    task_discard(t);
    if (rc == OCTO_EBUSY || rc == OCTO_ELIMIT || rc == OCTO_ENOMEM)
        return OCTO_EBUSY;
    recover_end(g, it, rc == OCTO_ETIMEDOUT ? OCTO_TASKSTORE_EXPIRED : OCTO_TASKSTORE_FAILED,
                why != NULL ? why : octo_err_name(rc));
    return 0;
}

/* Hands the unfinished records to the scheduler, a page at a time. When it is full, the rest
 * wait (recover_pending) and the tick tries again once tasks have finished. */
static int recover(struct octo_gateway *g)
{
    struct recover_page *pg = octo_malloc(sizeof(*pg));
    if (pg == NULL)
        return OCTO_ENOMEM;
    struct octo_taskstore_cursor cur = {0};
    uint32_t resumed = 0, ended = 0;
    bool full = false;
    int n;
    do {
        pg->n = 0;
        pg->bytes = 0;
        n = octo_taskstore_list_unfinished(&g->ts, &cur, OCTO_GATEWAY_RECOVER_PAGE, recover_collect,
                                           pg);
        for (size_t i = 0; i < pg->n; i++) {
            int r = n >= 0 && !full ? recover_one(g, &pg->items[i]) : 0;
            full = full || r == OCTO_EBUSY;
            resumed += r == 1 && !full;
            ended += r == 0 && n >= 0 && !full;
            octo_free(pg->items[i].request);
        }
    } while (n > 0 && !full &&
             (n == OCTO_GATEWAY_RECOVER_PAGE || pg->bytes >= OCTO_GATEWAY_RECOVER_BYTES));
    octo_free(pg);
    if (n < 0)
        return n;
    g->recover_pending = full;
    if (resumed + ended > 0 || full)
        OCTO_INFO("gateway: %u accepted tasks resumed after a restart, %u ended%s", resumed, ended,
                  full ? "; more wait for room" : "");
    g->stats.recovered += resumed;
    return 0;
}

static void route_chat(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    submit(ctx, r, OCTO_OAI_CHAT);
}

static void route_completions(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    submit(ctx, r, OCTO_OAI_COMPLETION);
}

static void reply_json(struct octo_gateway *g, struct octo_http_req *r, char *body)
{
    if (body == NULL) {
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 500, "server_error", "out_of_memory", NULL,
                                   "out of memory"));
        return;
    }
    OCTO_IGNORE(
        octo_api_reply(g->cfg.api, r, 200, "application/json", body, strlen(body), NULL, 0));
    cJSON_free(body);
}

/* The caller's API key passes (else the request has been answered). */
static bool authorized(struct octo_gateway *g, struct octo_http_req *r)
{
    struct octo_apikey key;
    return octo_api_authorize(g->cfg.api, r, &key) == 0;
}

static void route_models(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    struct octo_gateway *g = ctx;
    if (!authorized(g, r))
        return;
    const struct octo_registry *reg = octo_sched_registry(&g->sched);
    static const char *names[OCTO_GATEWAY_PROVIDERS_MAX];
    size_t n = 0;
    for (uint32_t i = 0; i < reg->slots_used; i++) {
        const struct octo_registry_entry *e = octo_registry_at(reg, i);
        for (uint32_t k = 0; e != NULL && k < e->models_count; k++) {
            const char *name = octo_registry_model_name(reg, e->models[k].model_id);
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = strcmp(names[j], name) == 0;
            if (!seen && n < OCTO_GATEWAY_PROVIDERS_MAX)
                names[n++] = name;
        }
    }
    reply_json(g, r, octo_oai_models(names, n, g->started_s, "cipherocto"));
}

static void route_providers(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    struct octo_gateway *g = ctx;
    if (!authorized(g, r))
        return;
    const struct octo_registry *reg = octo_sched_registry(&g->sched);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "providers");
    for (uint32_t i = 0; arr != NULL && i < reg->slots_used; i++) {
        const struct octo_registry_entry *e = octo_registry_at(reg, i);
        if (e == NULL)
            continue;
        cJSON *p = cJSON_CreateObject();
        char pid[OCTO_PEERID_TEXT_MAX];
        OCTO_IGNORE(octo_peerid_to_base58(&e->provider, pid, sizeof(pid)));
        cJSON_AddStringToObject(p, "id", pid);
        cJSON *ms = cJSON_AddArrayToObject(p, "models");
        for (uint32_t k = 0; k < e->models_count; k++) {
            cJSON *mo = cJSON_CreateObject();
            cJSON_AddStringToObject(mo, "name",
                                    octo_registry_model_name(reg, e->models[k].model_id));
            cJSON_AddStringToObject(mo, "quantization", e->models[k].quant);
            char wh[2 * OCTO_ADVERT_HASH_LEN + 1];
            OCTO_IGNORE(
                octo_hex_encode(e->models[k].weights_hash, OCTO_ADVERT_HASH_LEN, wh, sizeof(wh)));
            cJSON_AddStringToObject(mo, "weights_sha256", wh);
            cJSON_AddNumberToObject(mo, "context_length", e->models[k].context_len);
            cJSON_AddItemToArray(ms, mo);
        }
        cJSON_AddNumberToObject(p, "price_in_per_mtok", (double)e->price_in_per_mtok);
        cJSON_AddNumberToObject(p, "price_out_per_mtok", (double)e->price_out_per_mtok);
        cJSON_AddNumberToObject(p, "max_concurrency", e->max_concurrency);
        static const char *const iso[] = {"none", "process", "container", "tee"};
        cJSON_AddStringToObject(p, "isolation",
                                e->isolation <= OCTO_ISOLATION_MAX ? iso[e->isolation] : "unknown");
        cJSON_AddNumberToObject(p, "in_flight", octo_sched_in_flight(&g->sched, i));
        cJSON_AddNumberToObject(p, "expiry_ms", (double)e->expiry_ms);
        const struct octo_health *h = octo_sched_health(&g->sched, i);
        cJSON_AddBoolToObject(p, "available", h != NULL && octo_health_available(h, now_tick(g)));
        cJSON_AddItemToArray(arr, p);
    }
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply_json(g, r, body);
}

static cJSON *task_object(const struct octo_taskstore_record *rec);

/* The countersigned execution commitment a stored answer keeps, decoded and checked again. */
static cJSON *commitment_object(const cJSON *answer)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(answer, "commitment");
    uint8_t b[OCTO_COMMIT_LEN];
    struct octo_commitment c;
    if (!cJSON_IsString(h) || strlen(h->valuestring) != 2 * OCTO_COMMIT_LEN ||
        octo_hex_decode(h->valuestring, 2 * OCTO_COMMIT_LEN, b, sizeof(b)) != OCTO_COMMIT_LEN ||
        octo_commit_decode(b, sizeof(b), &c) != 0)
        return NULL;
    static const char *const iso[] = {"none", "process", "container", "tee"};
    char hex[65];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "verified", octo_commit_verify(b) == 0 && c.countersigned);
    OCTO_IGNORE(octo_hex_encode(c.provider, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "provider_key", hex);
    OCTO_IGNORE(octo_hex_encode(c.orchestrator, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "orchestrator_key", hex);
    OCTO_IGNORE(octo_hex_encode(c.model_sha256, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "model_sha256", hex);
    cJSON_AddStringToObject(o, "quantization", c.quant);
    cJSON_AddStringToObject(o, "isolation",
                            c.isolation <= OCTO_ISOLATION_MAX ? iso[c.isolation] : "unknown");
    OCTO_IGNORE(octo_hex_encode(c.attestation, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "attestation_sha256", hex);
    OCTO_IGNORE(octo_hex_encode(c.input, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "input_sha256", hex);
    OCTO_IGNORE(octo_hex_encode(c.output, 32, hex, sizeof(hex)));
    cJSON_AddStringToObject(o, "output_sha256", hex);
    cJSON_AddNumberToObject(o, "prompt_tokens", c.prompt_tokens);
    cJSON_AddNumberToObject(o, "completion_tokens", c.completion_tokens);
    cJSON_AddNumberToObject(o, "start_ms", (double)c.start_ms);
    cJSON_AddNumberToObject(o, "end_ms", (double)c.end_ms);
    cJSON_AddBoolToObject(o, "sealed", (c.flags & OCTO_COMMIT_FLAG_SEALED) != 0);
    cJSON_AddBoolToObject(o, "deterministic", (c.flags & OCTO_COMMIT_FLAG_DETERMINISTIC) != 0);
    cJSON_AddStringToObject(o, "hex", h->valuestring);
    return o;
}

/* GET /api/v1/tasks/{id}: a task of the caller's key (another key's is 404 too), with the
 * answer once it succeeded. */
static void route_task(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct octo_gateway *g = ctx;
    struct octo_apikey key;
    if (octo_api_authorize(g->cfg.api, r, &key) != 0)
        return;
    uint8_t id[OCTO_TASKSTORE_ID_LEN];
    struct octo_taskstore_record rec;
    struct octo_buf res;
    octo_buf_init(&res, OCTO_TASKSTORE_REQUEST_MAX);
    int rc = m->captures[0].len == 2 * sizeof(id) &&
                     octo_hex_decode(m->captures[0].p, m->captures[0].len, id, sizeof(id)) ==
                         (int)sizeof(id)
                 ? octo_taskstore_get(&g->ts, id, NULL, &res, &rec)
                 : OCTO_ENOTFOUND;
    if (rc == 0 && (rec.owner_len != strlen(key.id) || memcmp(rec.owner, key.id, rec.owner_len)))
        rc = OCTO_ENOTFOUND;
    if (rc != 0) {
        octo_buf_deinit(&res);
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, rc == OCTO_ENOTFOUND ? 404 : 500,
                                   rc == OCTO_ENOTFOUND ? "invalid_request_error" : "server_error",
                                   rc == OCTO_ENOTFOUND ? "not_found" : "store_error", NULL,
                                   rc == OCTO_ENOTFOUND ? "no such task for this key"
                                                        : "the task store failed"));
        return;
    }
    cJSON *o = task_object(&rec);
    cJSON *answer =
        rec.result_len > 0 ? cJSON_ParseWithLength((const char *)rec.result, rec.result_len) : NULL;
    cJSON *commit = answer != NULL ? commitment_object(answer) : NULL;
    if (answer != NULL)
        cJSON_AddItemToObject(o, "result", answer);
    else
        cJSON_AddNullToObject(o, "result");
    if (commit != NULL)
        cJSON_AddItemToObject(o, "commitment", commit);
    else
        cJSON_AddNullToObject(o, "commitment");
    octo_buf_deinit(&res);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply_json(g, r, body);
}

/* A task record as the API shows it (without the answer). */
static cJSON *task_object(const struct octo_taskstore_record *rec)
{
    cJSON *o = cJSON_CreateObject();
    char hex[2 * OCTO_TASKSTORE_ID_LEN + 1], pid[OCTO_PEERID_TEXT_MAX] = "", amount[24];
    OCTO_IGNORE(octo_hex_encode(rec->id, sizeof(rec->id), hex, sizeof(hex)));
    struct octo_peerid p;
    if (rec->provider_len > 0 && octo_peerid_from_bytes(rec->provider, rec->provider_len, &p) == 0)
        OCTO_IGNORE(octo_peerid_to_base58(&p, pid, sizeof(pid)));
    snprintf(amount, sizeof(amount), "%llu", (unsigned long long)rec->charged_amount);
    cJSON_AddStringToObject(o, "id", hex);
    cJSON_AddStringToObject(o, "state", octo_taskstore_state_name(rec->state));
    cJSON_AddStringToObject(o, "model", rec->model);
    cJSON_AddNumberToObject(o, "attempts", rec->attempts);
    cJSON_AddStringToObject(o, "provider", pid);
    cJSON_AddStringToObject(o, "reason", rec->reason);
    cJSON_AddNumberToObject(o, "created_ms", (double)rec->created_ms);
    cJSON_AddNumberToObject(o, "updated_ms", (double)rec->updated_ms);
    cJSON_AddBoolToObject(o, "charged", rec->charged);
    cJSON_AddStringToObject(o, "charged_amount", amount);
    return o;
}

static int list_task(const struct octo_taskstore_record *rec, void *ctx)
{
    return json_append(ctx, task_object(rec));
}

/* GET /api/v1/tasks[?limit=N&before=UNIX_MS]: the caller's key's tasks, newest first. */
static void route_tasks(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    struct octo_gateway *g = ctx;
    struct octo_apikey key;
    if (octo_api_authorize(g->cfg.api, r, &key) != 0)
        return;
    const char *lim = octo_http_query(r, "limit"), *bef = octo_http_query(r, "before");
    char *end = NULL;
    unsigned long long limit = lim != NULL ? strtoull(lim, &end, 10) : 20;
    if ((lim != NULL && (*lim == '\0' || *end != '\0')) || limit == 0 ||
        limit > OCTO_TASKSTORE_LIST_MAX) {
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 400, "invalid_request_error", "invalid_value",
                                   "limit", "limit must be an integer from 1 to 1000"));
        return;
    }
    unsigned long long before = bef != NULL ? strtoull(bef, &end, 10) : OCTO_TASKSTORE_U64_MAX;
    if ((bef != NULL && (*bef == '\0' || *end != '\0')) || before > OCTO_TASKSTORE_U64_MAX) {
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 400, "invalid_request_error", "invalid_value",
                                   "before", "before must be a time in unix milliseconds"));
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "tasks");
    int rc = arr != NULL
                 ? octo_taskstore_list_owner(&g->ts, (const uint8_t *)key.id, strlen(key.id),
                                             before, (size_t)limit, list_task, arr)
                 : OCTO_ENOMEM;
    if (rc < 0) {
        cJSON_Delete(o);
        OCTO_IGNORE(octo_api_error(g->cfg.api, r, 500, "server_error", "store_error", NULL,
                                   "the task store failed"));
        return;
    }
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply_json(g, r, body);
}

/* ---- reconciling with the ledger after a restart ------------------------------------------ */

/* A finished task whose escrow the ledger still holds open: a succeeded one's receipt (kept in
 * its record's answer) goes to the settlement, any other's escrow to the refunds. What the
 * settler holds lives in memory, so after a restart this is how nothing escrowed is left
 * open. The callback touches only memory and the ledger, never the store. */
static int reconcile_one(const struct octo_taskstore_record *rec, void *ctx)
{
    struct octo_gateway *g = ctx;
    uint8_t task[32], receipt[OCTO_RECEIPT_LEN];
    uint64_t expires = 0, amount = 0;
    task32(rec->id, task);
    if (!octo_settler_escrow_open(g->cfg.settler, task, &expires, &amount))
        return 0;
    bool have = false;
    if (rec->state == OCTO_TASKSTORE_SUCCEEDED && rec->result_len > 0) {
        cJSON *o = cJSON_ParseWithLength((const char *)rec->result, rec->result_len);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "receipt");
        have = cJSON_IsString(r) && strlen(r->valuestring) == 2 * OCTO_RECEIPT_LEN &&
               octo_hex_decode(r->valuestring, 2 * OCTO_RECEIPT_LEN, receipt, sizeof(receipt)) ==
                   (int)sizeof(receipt);
        cJSON_Delete(o);
    }
    if (have && octo_settler_receipt(g->cfg.settler, receipt, expires) == 0)
        g->stats.reconciled++;
    else if (!have)
        octo_settler_failed(g->cfg.settler, task, expires);
    return 0;
}

static int reconcile(struct octo_gateway *g)
{
    if (g->cfg.settler == NULL)
        return 0;
    uint64_t window = (uint64_t)OCTO_GATEWAY_DEADLINE_MS + OCTO_GATEWAY_ESCROW_MARGIN_MS;
    uint64_t since = now_ms(g) > window ? now_ms(g) - window : 0;
    struct octo_taskstore_cursor cur = {0};
    int n;
    do {
        n = octo_taskstore_list_finished(&g->ts, &cur, since, OCTO_GATEWAY_RECOVER_PAGE,
                                         reconcile_one, g);
    } while (n == (int)OCTO_GATEWAY_RECOVER_PAGE);
    return n < 0 ? n : 0;
}

/* ---- the tick --------------------------------------------------------------------------- */

/* Every second: advert streams that sent nothing in time are reset; every
 * OCTO_GATEWAY_EXPIRE_EVERY_S the adverts past their expiry leave the store and the registry;
 * and records that did not fit the scheduler at start are tried again once there is room. */
static void on_tick(uv_timer_t *h)
{
    struct octo_gateway *g = h->data;
    uint64_t now = now_ms(g);
    for (struct gw_in *in = g->adverts; in != NULL; in = in->next)
        if (now - in->opened_ms > OCTO_GATEWAY_ADVERT_WAIT_MS)
            octo_net_stream_reset(in->s); /* on_close unlinks it later */
    if (++g->ticks % OCTO_GATEWAY_EXPIRE_EVERY_S == 0) {
        int n = octo_providers_expire(&g->ps, &g->sched, now);
        if (n > 0)
            g->stats.adverts_expired += (uint64_t)n;
    }
    if (g->stats.verifying > 0)
        reexec_tick(g, now);
    if (g->recover_pending && g->stats.in_flight < OCTO_GATEWAY_TASKS_MAX / 2) {
        if (recover(g) != 0)
            g->recover_pending = true;
        drive(g);
    }
}

/* ---- life cycle ----------------------------------------------------------------------- */

int octo_gateway_start(struct octo_gateway **out, const struct octo_gateway_config *cfg)
{
    *out = NULL;
    struct octo_gateway *g = octo_calloc(1, sizeof(*g));
    if (g == NULL)
        return OCTO_ENOMEM;
    g->cfg = *cfg;
    g->started_s = (int64_t)(now_ms(g) / 1000u);
    g->table = octo_calloc(GW_TABLE_SLOTS, sizeof(*g->table));
    g->holds = octo_calloc(GW_HOLD_SLOTS, sizeof(*g->holds));
    struct octo_sched_config sc = {.providers_max = OCTO_GATEWAY_PROVIDERS_MAX,
                                   .models_max = 256,
                                   .tasks_max = OCTO_GATEWAY_TASKS_MAX,
                                   .seed = octo_random_u64()};
    octo_random_bytes(sc.hash_key, sizeof(sc.hash_key));
    int rc = g->table != NULL && g->holds != NULL ? octo_sched_init(&g->sched, &sc, now_tick(g))
                                                  : OCTO_ENOMEM;
    g->sched_ok = rc == 0;
    struct octo_providers_load_stats ls = {0};
    if (rc == 0) {
        octo_provstore_init(&g->ps, cfg->store, 0);
        rc = octo_providers_load(&g->ps, &g->sched, now_ms(g), now_tick(g), &ls);
    }
    octo_taskstore_init(&g->ts, cfg->store);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "POST", "/v1/chat/completions", route_chat, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "POST", "/v1/completions", route_completions, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "GET", "/v1/models", route_models, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "GET", "/api/v1/providers", route_providers, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "GET", "/api/v1/tasks/{}", route_task, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "GET", "/api/v1/tasks", route_tasks, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "POST", "/api/v1/agents", route_agent_create, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "GET", "/api/v1/agents", route_agents, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "GET", "/api/v1/agents/{}", route_agent, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "DELETE", "/api/v1/agents/{}", route_agent_delete, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "POST", "/api/v1/sealed", route_sealed, g);
    if (rc == 0)
        rc = octo_api_route(cfg->api, "POST", "/api/v1/sealed/{}", route_sealed_task, g);
    /* last: the routes and the handler are not taken back if a later step fails, and a start
     * that fails ends the node (which stops the API and the net first) */
    if (rc == 0)
        rc = octo_net_handle(cfg->net, OCTO_ADVERT_PROTOCOL, on_advert_stream, g);
    if (rc == 0)
        rc = recover(g);
    if (rc == 0)
        rc = reconcile(g);
    if (rc != 0) {
        for (uint32_t i = 0; i < GW_TABLE_SLOTS; i++)
            while (g->table != NULL && g->table[i] != NULL)
                task_free(g->table[i]);
        if (g->sched_ok)
            octo_sched_deinit(&g->sched);
        octo_free(g->table);
        octo_free(g->holds);
        octo_free(g);
        return rc;
    }
    uv_timer_init(cfg->loop, &g->timer);
    g->timer.data = g;
    g->timer_open = true;
    uv_timer_init(cfg->loop, &g->tick);
    g->tick.data = g;
    g->tick_open = true;
    uv_timer_init(cfg->loop, &g->charge_timer);
    g->charge_timer.data = g;
    g->charge_timer_open = true;
    uv_check_init(cfg->loop, &g->dispatch_check);
    g->dispatch_check.data = g;
    uv_timer_init(cfg->loop, &g->dispatch_timer);
    g->dispatch_timer.data = g;
    g->dispatch_check_open = true;
    uv_timer_start(&g->tick, on_tick, 1000, 1000);
    OCTO_INFO("gateway: %u stored provider adverts loaded (%u expired, %u rejected)", ls.loaded,
              ls.expired, ls.rejected);
    drive(g); /* recovered tasks */
    *out = g;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct octo_gateway *g = h->data;
    if (h == (uv_handle_t *)&g->timer)
        g->timer_open = false;
    else if (h == (uv_handle_t *)&g->tick)
        g->tick_open = false;
}

void octo_gateway_stop(struct octo_gateway *g)
{
    if (g == NULL || g->stopped)
        return;
    for (uint32_t i = 0; i < GW_TABLE_SLOTS; i++)
        if (g->table[i] != NULL && g->table[i]->rx_pending)
            reexec_detach(g->table[i]); /* not verified: its record stays RUNNING */
    for (uint32_t i = 0; i < GW_TABLE_SLOTS;) {
        struct gw_task *t = g->table[i];
        if (t != NULL && t->req != NULL) { /* may free t: look at slot i again */
            answer_error(t, 503, "server_error", "shutting_down", "the gateway is stopping");
            continue;
        }
        i++;
    }
    g->stopped = true;
    charge_flush(g); /* what succeeded is recorded before the node goes */
    g->charge_timer_open = false;
    for (struct gw_task *t = g->dispatches, *n; t != NULL; t = n) { /* never sent: not recorded */
        n = t->dispatch_next;
        t->dispatch_next = NULL;
        t->dispatch_pending = false;
    }
    g->dispatches = g->dispatches_tail = NULL;
    g->dispatch_check_open = false;
    uv_close((uv_handle_t *)&g->timer, on_timer_closed);
    uv_close((uv_handle_t *)&g->tick, on_timer_closed);
    uv_close((uv_handle_t *)&g->charge_timer, on_timer_closed);
    uv_close((uv_handle_t *)&g->dispatch_check, on_timer_closed);
    uv_close((uv_handle_t *)&g->dispatch_timer, on_timer_closed);
}

void octo_gateway_destroy(struct octo_gateway *g)
{
    if (g == NULL)
        return;
    for (uint32_t i = 0; i < GW_TABLE_SLOTS; i++) {
        while (g->table[i] != NULL)
            task_free(g->table[i]);
    }
    octo_sched_deinit(&g->sched);
    octo_free(g->table);
    octo_free(g->holds);
    octo_free(g);
}

const struct octo_gateway_stats *octo_gateway_stats(const struct octo_gateway *g)
{
    return &g->stats;
}

uint32_t octo_gateway_providers(const struct octo_gateway *g)
{
    return octo_sched_registry(&g->sched)->count;
}
