/*
 * sched.h — the task scheduler: the Intelligence layer's sans-I/O service that ties the
 * provider registry, the health checker, the router with its load balancer, the failover
 * manager and the task queue into one machine. The gateway and the simulator drive the same
 * code: they feed it events (a submitted task, an attempt's outcome, a probe's answer, an
 * advert, a cancellation) with the current time and drain its actions (dispatch an attempt
 * to a provider, report a finished task, probe a provider).
 *
 *   submit ─► queue (priority, deadline) ─poll─► route ─► failover.next ─► DISPATCH
 *                                                  │            │ EAGAIN (every candidate
 *                                                  │            └─► cooling down): wait
 *                                                  └─ only full providers: park until a slot frees
 *   result ─► health + failover.result ─► success: charge once, DONE
 *                                    └─► provider failure: route again (next candidate)
 *   no answer within attempt_timeout ─► treated as a provider timeout
 *   deadline ─► EXPIRED (queued, waiting, parked or running)
 *
 * Every accepted task ends in exactly one DONE action (SUCCEEDED, FAILED or EXPIRED), and a
 * task id submitted again while its record is kept (until its deadline) is answered with
 * OCTO_EEXIST, never run twice. A SUCCEEDED task carries the charge exactly once.
 *
 * Time: `now` is the monotonic clock (octo_tick, ns); advert validity is wall-clock unix ms
 * (the adverts' expiry), passed separately. Randomness: the load balancer's draws come from an
 * xoshiro stream seeded by the config, so a seeded run replays exactly.
 *
 * Memory: everything is allocated by octo_sched_init from the config's maxima (task records,
 * policy table, per-provider health, heaps, candidate slots), except the price-ordered rows of
 * each model (rview.h), built on a model's first routing and rebuilt after its providers change;
 * if that allocation fails, routing walks the model's postings unsorted instead. Not
 * thread-safe: one owner drives it.
 *
 * Routing cost: candidates are offered to the router in the order the decision ranks by —
 * price order from the view, or latency / throughput / reputation order from a heap built
 * over the model's providers' health — and built only when offered, so every strategy stops
 * after the best few eligible providers.
 */
#ifndef OCTO_INTEL_SCHED_H
#define OCTO_INTEL_SCHED_H

#include "base/clock.h"
#include "base/err.h"
#include "base/rng.h"
#include "crypto/peerid.h"
#include "intel/failover.h"
#include "intel/health.h"
#include "intel/queue.h"
#include "intel/registry.h"
#include "intel/router.h"
#include "intel/rview.h"

#include <stdbool.h>
#include <stdint.h>

#define OCTO_SCHED_ID_LEN 16
#define OCTO_SCHED_TASKS_LIMIT (UINT32_C(1) << 20)    /* ceiling for tasks_max */
#define OCTO_SCHED_POLICIES_LIMIT (UINT32_C(1) << 16) /* ceiling for policies_max */
#define OCTO_SCHED_TASKS_DEFAULT UINT32_C(65536)
#define OCTO_SCHED_POLICIES_DEFAULT UINT32_C(4096)
#define OCTO_SCHED_ATTEMPT_TIMEOUT_DEFAULT (UINT64_C(60) * OCTO_NS_PER_S)
#define OCTO_SCHED_ATTEMPT_TIMEOUT_MAX (UINT64_C(86400) * OCTO_NS_PER_S)
#define OCTO_SCHED_WAKE_PER_COMPLETION 2     /* parked tasks retried when a slot frees */
#define OCTO_SCHED_WAKE_PER_ADVERT 64        /* parked tasks retried on new capacity */
#define OCTO_SCHED_STEPS_PER_POLL 64         /* wake-ups, expiries, routings per poll call */
#define OCTO_SCHED_GC_INTERVAL OCTO_NS_PER_S /* sweep of finished failover records */

struct octo_sched_config {
    uint32_t providers_max; /* registry size */
    uint32_t models_max;
    uint32_t tasks_max;         /* unfinished tasks held at once; 0 = default */
    uint32_t records_max;       /* failover records incl. finished ones kept until their
                                   deadline (idempotency); 0 = 4 x tasks_max */
    uint32_t policies_max;      /* distinct policies in use at once; 0 = default */
    uint32_t probe_interval_ms; /* active probes; 0 = the health checker's default */
    octo_tick attempt_timeout;  /* 0 = default; at most OCTO_SCHED_ATTEMPT_TIMEOUT_MAX */
    uint8_t hash_key[16];       /* SipHash key of every table (random per node) */
    uint64_t seed;              /* load balancer draws */
};

struct octo_sched_request {
    uint8_t id[OCTO_SCHED_ID_LEN];          /* the idempotency key */
    const char *model;                      /* NUL-terminated, <= OCTO_ADVERT_NAME_MAX bytes */
    const struct octo_route_policy *policy; /* copied (interned) */
    enum octo_route_strategy strategy;
    uint8_t priority;                /* 0..OCTO_QUEUE_PRIORITY_MAX, higher first */
    octo_tick deadline;              /* absolute; must be after now */
    uint32_t max_attempts;           /* 0 = OCTO_FAILOVER_ATTEMPTS_DEFAULT */
    const struct octo_peerid *owner; /* the submitter's node (PRIVATE data may go there), or NULL */
};

enum octo_sched_action_kind {
    OCTO_SCHED_NONE = 0,
    OCTO_SCHED_DISPATCH = 1, /* run attempt `attempt` of `task` on `provider` */
    OCTO_SCHED_DONE = 2,     /* `task` finished: `state`, `reason`, `charge` */
    OCTO_SCHED_PROBE = 3,    /* probe `provider`; answer with octo_sched_probe_result */
};

struct octo_sched_action {
    enum octo_sched_action_kind kind;
    uint8_t task[OCTO_SCHED_ID_LEN];
    uint32_t attempt;     /* DISPATCH; DONE: attempts made */
    uint32_t provider;    /* registry index (DISPATCH, PROBE; DONE: last provider or NONE) */
    uint32_t incarnation; /* of that registry entry (PROBE: pass it back) */
    struct octo_peerid provider_id;
    octo_tick deadline; /* DISPATCH: the task's deadline */
    uint64_t dispatch;  /* DISPATCH: this attempt's number, unique per scheduler: report it */
    enum octo_failover_state state;   /* DONE */
    enum octo_failover_reason reason; /* DONE */
    bool charge;     /* DONE: SUCCEEDED, charge `amount` now (exactly once per task) */
    uint64_t amount; /* DONE: base units (the provider's prices at dispatch) */
    struct octo_route_explain explain; /* DONE with reason NO_CANDIDATE: why */
};

/* An attempt's outcome, reported by the shell. */
struct octo_sched_report {
    uint8_t task[OCTO_SCHED_ID_LEN];
    uint32_t attempt;  /* from the DISPATCH action */
    uint64_t dispatch; /* from the DISPATCH action: an answer to an older dispatch of a reused
                          id never completes a newer one */
    enum octo_health_outcome outcome;
    uint64_t latency_us;
    uint32_t tokens_in, tokens_out;
};

struct octo_sched_stats {
    uint64_t submitted, duplicates, rejected_full, rejected_invalid, rejected_limit;
    uint64_t dispatched, retries, waits, parked;
    uint64_t succeeded, failed, expired, cancelled;
    uint64_t late_results, probes;
    uint64_t charged_amount;
};

struct octo_sched_task;
struct octo_sched_policy;
struct octo_sched_provider;

/* What ranking reads of a provider's health, kept compact per registry index (internal). */
struct octo_sched_hot {
    uint32_t latency_us;
    uint32_t throughput_tps;
    uint16_t reputation_bp;
};

/* An indexed binary min-heap of ids keyed by time (internal). */
struct octo_sched_heap {
    uint32_t *ids;  /* heap order */
    uint32_t *pos;  /* per id: position + 1, 0 = absent */
    uint64_t *keys; /* per id */
    uint32_t len, cap;
};

struct octo_sched {
    struct octo_sched_config cfg;
    struct octo_registry reg;
    struct octo_failover fo;
    struct octo_queue q;
    struct octo_rng rng;
    struct octo_sched_task *tasks;       /* tasks_max records */
    uint32_t task_free;                  /* free list head */
    uint32_t ready_head, ready_tail;     /* routed next (retries, woken tasks) */
    uint32_t done_head, done_tail;       /* DONE actions not yet polled */
    uint32_t *parked_head, *parked_tail; /* per model id: tasks waiting for a provider slot */
    struct octo_sched_heap wake;         /* tasks: attempt timeout, cooldown end, deadline */
    struct octo_sched_heap probes;       /* providers: next probe */
    struct octo_sched_policy *policies;
    uint32_t *ptable; /* policy hash index: id + 1, 0 = empty */
    uint32_t pmask;
    uint32_t policy_free;
    struct octo_sched_provider *provs; /* per registry index */
    struct octo_rview rv;              /* price-ordered candidates per model */
    uint32_t *cand_slots;              /* registry index of each candidate offered to the router */
    struct octo_rview_ranked *ranked;  /* rank-key heap for orderings other than price */
    struct octo_sched_hot *hot;        /* per registry index */
    octo_tick gc_next;
    uint64_t dispatch_next;
    uint32_t cand_cap; /* offers per decision (candidate arrays' size) */
    struct octo_sched_stats stats;
};

/* Sets up everything from cfg. Errors: OCTO_EINVAL (a maximum out of range), OCTO_ENOMEM.
 * On error s is left deinit-safe. */
OCTO_MUST_USE int octo_sched_init(struct octo_sched *s, const struct octo_sched_config *cfg,
                                  octo_tick now);
void octo_sched_deinit(struct octo_sched *s);

/* Adds or replaces a provider's (already signature-checked) advert; see octo_registry_upsert
 * for the results and errors. A newly inserted provider gets fresh health and is probed. */
OCTO_MUST_USE int octo_sched_advert(struct octo_sched *s, const struct octo_advert *a,
                                    uint64_t now_unix_ms, octo_tick now, uint32_t *index,
                                    enum octo_advert_reason *reason);

/* Removes providers whose adverts expired; returns how many. Tasks running there finish by
 * their answer or their attempt timeout. */
uint32_t octo_sched_expire_adverts(struct octo_sched *s, uint64_t now_unix_ms);

/* Accepts a task. Returns 0; OCTO_EEXIST when the id is known (running or finished within
 * its deadline: nothing runs again; *existing, may be NULL, receives its failover record);
 * OCTO_EBUSY when tasks_max tasks are held (backpressure: retry later); OCTO_EINVAL for a
 * bad request (no model, name too long, priority, deadline not after now, attempts, a
 * policy octo_route_policy_check refuses, geo without a region); OCTO_ELIMIT when the policy
 * table or the failover table is full. */
OCTO_MUST_USE int octo_sched_submit(struct octo_sched *s, const struct octo_sched_request *req,
                                    octo_tick now, struct octo_failover_view *existing);

/* Applies an attempt's outcome. Returns 0 when applied, 1 when ignored (not the current
 * attempt and dispatch of a running task: a late or duplicate answer, counted), OCTO_EINVAL
 * for an unknown outcome. An attempt that timed out (attempt_timeout) or was cancelled has
 * already freed its provider slot. */
OCTO_MUST_USE int octo_sched_result(struct octo_sched *s, const struct octo_sched_report *r,
                                    octo_tick now);

/* Picks a provider of model outside the task flow (a verification re-run): the candidates the
 * policy and strategy allow among the model's providers that serve it at quantization quant
 * (and with the weights whose SHA-256 is weights, unless NULL), not in exclude, available (not
 * cooling down) and with room; the router decides, with the
 * scheduler's random source. 0 with *slot (registry index) and *id, OCTO_ENOTFOUND when none
 * is eligible, OCTO_EINVAL for a bad policy. */
OCTO_MUST_USE int octo_sched_pick(struct octo_sched *s, const char *model,
                                  const struct octo_route_policy *pol,
                                  enum octo_route_strategy strategy,
                                  const struct octo_peerid *exclude, size_t n_exclude,
                                  const char *quant, const uint8_t *weights, octo_tick now,
                                  uint32_t *slot, struct octo_peerid *id);

/* Cancels a task that has not finished: it ends FAILED(CANCELLED) with a DONE action (or
 * EXPIRED(DEADLINE) when its deadline had passed already). A cancelled running attempt frees
 * its provider slot at once: the shell must tell the provider to stop. Returns 0, or
 * OCTO_ENOTFOUND (unknown or already finished). */
OCTO_MUST_USE int octo_sched_cancel(struct octo_sched *s, const uint8_t id[OCTO_SCHED_ID_LEN],
                                    octo_tick now);

/* Records the answer to a PROBE action (provider index and incarnation from the action;
 * ignored when the provider changed since). */
void octo_sched_probe_result(struct octo_sched *s, uint32_t provider, uint32_t incarnation, bool ok,
                             uint64_t latency_us, octo_tick now);

/* Produces the next action due at `now`. Returns 1 with *out filled, 0 when nothing is due
 * (call again after the next event or at octo_sched_next_wakeup). One call takes at most
 * OCTO_SCHED_STEPS_PER_POLL steps (routing decisions, wake-ups, expiries): when it returns 0
 * with work left,
 * octo_sched_next_wakeup says `now` (0), so the caller's loop stays bounded per turn. */
OCTO_MUST_USE int octo_sched_poll(struct octo_sched *s, octo_tick now,
                                  struct octo_sched_action *out);

/* The charge for a successful attempt: floor(price_in * in / 1e6 + price_out * out / 1e6), the
 * prices per 1M tokens; exact in 64 bits for prices <= OCTO_ADVERT_PRICE_MAX and 32-bit token
 * counts. Providers price their receipts with it too. */
uint64_t octo_sched_charge_amount(uint64_t price_in, uint32_t in, uint64_t price_out, uint32_t out);

/* When poll next has something to do without a new event: a time, or UINT64_MAX. */
octo_tick octo_sched_next_wakeup(const struct octo_sched *s);

/* The registry (read-only: mutate it only through the functions above). */
const struct octo_registry *octo_sched_registry(const struct octo_sched *s);

/* The health record of a registered provider, or NULL. */
const struct octo_health *octo_sched_health(const struct octo_sched *s, uint32_t provider);

/* Tasks in flight on a provider (dispatched, no answer yet). */
uint32_t octo_sched_in_flight(const struct octo_sched *s, uint32_t provider);

void octo_sched_stats(const struct octo_sched *s, struct octo_sched_stats *out);

/* Checks every internal invariant (lists, heaps, per-provider load against running tasks,
 * queue); O(tasks_max + providers_max). For tests and debug builds. */
bool octo_sched_invariants_ok(const struct octo_sched *s);

#endif
