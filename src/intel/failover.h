/*
 * failover.h — per-task attempt tracking for the Task Router: which provider a task tries
 * next, when to wait for a cooldown, when to give up, and that a task completes (and is
 * charged) exactly once however many answers arrive.
 *
 * Sans-I/O and allocation-free per operation: octo_failover_init allocates a fixed table of
 * `max_tasks` records (a named limit, OCTO_FAILOVER_TASKS_MAX) plus an open-addressed index
 * (linear probing, backward-shift deletion, SipHash-2-4 under the caller's random key so
 * submitters cannot aim collisions); every other call only touches that memory. Time is the
 * caller's `now` (octo_tick, ns). Deterministic: no floats, no pointer-dependent order.
 *
 * A task is keyed by its 16-byte idempotency key (the task id). Life cycle:
 *
 *   begin ──> PENDING ──next──> RUNNING(attempt k, provider P) ──result──> SUCCEEDED
 *                ^                        │ provider failure, attempts left
 *                └────────────────────────┘
 *   PENDING/RUNNING ──> FAILED  (reason NO_CANDIDATE, ATTEMPTS, REJECTED, CANCELLED)
 *   PENDING/RUNNING ──> EXPIRED (reason DEADLINE)
 *
 * Rules.
 *   - begin is idempotent: beginning an existing key returns OCTO_EEXIST and the current
 *     record, so a retried submission never runs twice.
 *   - next picks the first candidate, in the router's ranked order, that this task has not
 *     tried yet and that is available (available_at <= now). If none is available but some
 *     untried candidates are cooling down, it returns OCTO_EAGAIN with the earliest cooldown
 *     end when that is before the deadline (the caller waits and calls next again); when it is
 *     not, the task EXPIRES (OCTO_ETIMEDOUT). With no untried candidate at all the task FAILS
 *     (OCTO_ENOTFOUND, "no candidate left"); at or past the deadline it EXPIRES (ETIMEDOUT).
 *   - result applies only to the current attempt (same attempt number and provider, task
 *     RUNNING). Anything else — a late answer from a provider we gave up on, a duplicate, an
 *     answer for a forgotten task — is ignored and counted in stats.late_results.
 *     A success counts even after the deadline as long as the task was not expired yet (the
 *     work was done). Outcomes use the health checker's classification (health.h):
 *       SUCCESS                              -> SUCCEEDED, charge pending
 *       PROVIDER_ERROR, PROVIDER_TIMEOUT     -> PENDING again; FAILED(ATTEMPTS) when the
 *                                               attempt was the last one allowed, else
 *                                               EXPIRED(DEADLINE) when now >= deadline
 *       CALLER_ERROR                         -> FAILED(REJECTED): the request itself is bad,
 *                                               another provider would refuse it too
 *       CALLER_TIMEOUT                       -> EXPIRED(DEADLINE)
 *       CANCELLED                            -> FAILED(CANCELLED)
 *   - take_charge returns true exactly once per task, and only for a SUCCEEDED one.
 *   - forget marks a finished (terminal) record whose result was delivered and whose charge
 *     was taken as a TOMBSTONE: its state stays (get reports it, with `forgotten` set) and its
 *     key stays reserved, so a submission retried within the deadline still gets OCTO_EEXIST
 *     and the task never runs (or is charged) twice. The record is freed by expire once its
 *     deadline has passed — after that the submitter's deadline is over, so a retry could not
 *     have run anyway, and begin() of the key starts afresh.
 *   - expire sweeps the table: it moves every PENDING/RUNNING task whose deadline has passed
 *     to EXPIRED, and frees every tombstone whose deadline has passed. A table filled with
 *     tombstones refuses new tasks (OCTO_ELIMIT) until expire frees them: call it regularly.
 *
 * Providers are 32-bit indexes chosen by the caller (e.g. registry slots); a task remembers
 * up to OCTO_FAILOVER_ATTEMPTS_MAX of them, which is also the cap on max_attempts, so the
 * tried list can never overflow.
 */
#ifndef OCTO_INTEL_FAILOVER_H
#define OCTO_INTEL_FAILOVER_H

#include "base/clock.h"
#include "base/err.h"
#include "intel/health.h" /* enum octo_health_outcome */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_FAILOVER_KEY_LEN 16
#define OCTO_FAILOVER_HASH_KEY_LEN 16
#define OCTO_FAILOVER_TASKS_MAX 1048576u       /* largest table octo_failover_init accepts */
#define OCTO_FAILOVER_TASKS_DEFAULT 65536u     /* max_tasks 0 selects this */
#define OCTO_FAILOVER_ATTEMPTS_MAX 8u          /* providers remembered per task */
#define OCTO_FAILOVER_ATTEMPTS_DEFAULT 3u      /* max_attempts 0 selects this */
#define OCTO_FAILOVER_CANDIDATES_MAX 100000u   /* one next() considers at most this many */
#define OCTO_FAILOVER_PROVIDER_NONE UINT32_MAX /* "no provider" in a view */

enum octo_failover_state {
    OCTO_FAILOVER_PENDING = 0, /* waiting for its next attempt */
    OCTO_FAILOVER_RUNNING,     /* attempt `attempts` is running on `provider` */
    OCTO_FAILOVER_SUCCEEDED,
    OCTO_FAILOVER_FAILED,
    OCTO_FAILOVER_EXPIRED,
};

enum octo_failover_reason {
    OCTO_FAILOVER_REASON_NONE = 0,
    OCTO_FAILOVER_REASON_NO_CANDIDATE, /* every candidate was tried or none was offered */
    OCTO_FAILOVER_REASON_DEADLINE,     /* the deadline passed or no provider frees up before */
    OCTO_FAILOVER_REASON_ATTEMPTS,     /* max_attempts provider failures */
    OCTO_FAILOVER_REASON_REJECTED,     /* a caller error: the request itself is bad */
    OCTO_FAILOVER_REASON_CANCELLED,
};

struct octo_failover_config {
    size_t max_tasks; /* table capacity; 0 = OCTO_FAILOVER_TASKS_DEFAULT */
    uint8_t hash_key[OCTO_FAILOVER_HASH_KEY_LEN]; /* random per node (SipHash key) */
};

/* One candidate as the router ranked it: the provider index and when it is available
 * (octo_health_cooldown_until(); <= now, e.g. 0, means available now). */
struct octo_failover_candidate {
    uint32_t provider;
    octo_tick available_at;
};

/* What next() decided. */
struct octo_failover_choice {
    uint32_t provider;    /* the provider to run the attempt on */
    size_t candidate;     /* its index in the candidate array */
    uint32_t attempt;     /* 1-based attempt number: pass it back to result() */
    octo_tick wait_until; /* OCTO_EAGAIN only: call next() again at this time */
};

/* A copy of one task record. */
struct octo_failover_view {
    enum octo_failover_state state;
    enum octo_failover_reason reason;
    uint32_t attempts; /* attempts started so far */
    uint32_t max_attempts;
    uint32_t provider; /* provider of the latest attempt, OCTO_FAILOVER_PROVIDER_NONE */
    octo_tick deadline;
    uint32_t tried[OCTO_FAILOVER_ATTEMPTS_MAX]; /* providers tried, in order */
    uint32_t tried_count;
    bool charge_pending; /* SUCCEEDED and take_charge not called yet */
    bool charged;        /* take_charge returned true */
    bool forgotten;      /* a tombstone: forget() was called, expire() frees it */
};

struct octo_failover_stats {
    uint64_t tasks;      /* records in the table now (tombstones included) */
    uint64_t tombstones; /* of those, forgotten ones kept until their deadline */
    uint64_t dropped;    /* tombstones freed by expire() */
    uint64_t begun;      /* new tasks ever begun */
    uint64_t duplicates; /* begin() of an existing key */
    uint64_t attempts;   /* attempts started */
    uint64_t succeeded, failed, expired;
    uint64_t late_results; /* results ignored: not for the current attempt */
    uint64_t charges;      /* take_charge() calls that returned true */
};

struct octo_failover_task; /* private record (failover.c) */

/* Treat as opaque. */
struct octo_failover {
    struct octo_failover_task *tasks; /* pool of `cap` records */
    uint32_t *index;                  /* `slots` entries: record number or UINT32_MAX */
    uint32_t cap;
    uint32_t slots; /* power of two >= 2 * cap */
    uint32_t free_head;
    uint8_t hash_key[OCTO_FAILOVER_HASH_KEY_LEN];
    struct octo_failover_stats stats;
};

/* Allocates a table for cfg->max_tasks tasks (0 = default). Returns 0, OCTO_ETOOBIG when
 * max_tasks > OCTO_FAILOVER_TASKS_MAX, OCTO_ENOMEM. On error f needs no deinit. */
OCTO_MUST_USE int octo_failover_init(struct octo_failover *f,
                                     const struct octo_failover_config *cfg);

/* Frees the table (f may be zeroed or already deinitialised). */
void octo_failover_deinit(struct octo_failover *f);

/* Starts tracking the task `key` (OCTO_FAILOVER_KEY_LEN bytes) with the given deadline and
 * max_attempts (0 = OCTO_FAILOVER_ATTEMPTS_DEFAULT). Returns 0 for a new PENDING task;
 * OCTO_EEXIST when the key is already tracked (nothing changes, the existing record is
 * reported: the submission is a retry); OCTO_EINVAL for max_attempts above
 * OCTO_FAILOVER_ATTEMPTS_MAX; OCTO_ELIMIT when the table is full. out (may be NULL) receives
 * the record for 0 and OCTO_EEXIST. */
OCTO_MUST_USE int octo_failover_begin(struct octo_failover *f, const uint8_t *key,
                                      octo_tick deadline, uint32_t max_attempts,
                                      struct octo_failover_view *out);

/* Chooses the provider for the next attempt of a PENDING task (rules in the design comment)
 * from the n ranked candidates c. Returns 0 with *choice filled and the task RUNNING;
 * OCTO_EAGAIN with choice->wait_until (the task stays PENDING); OCTO_ENOTFOUND (no candidate
 * left), OCTO_ETIMEDOUT (deadline) or OCTO_ELIMIT (attempts exhausted) when the task has
 * failed — now or earlier; OCTO_ESTATE for a SUCCEEDED task (nothing runs after success) and
 * for a FAILED task with reason REJECTED or CANCELLED; OCTO_EBUSY while an attempt is
 * RUNNING; OCTO_ENOTFOUND for an unknown key (check with octo_failover_get);
 * OCTO_ETOOBIG for n > OCTO_FAILOVER_CANDIDATES_MAX (nothing changes). */
OCTO_MUST_USE int octo_failover_next(struct octo_failover *f, const uint8_t *key, octo_tick now,
                                     const struct octo_failover_candidate *c, size_t n,
                                     struct octo_failover_choice *choice);

/* Records the outcome of attempt `attempt` on `provider`, finished at `now`. Returns 0 when
 * applied (the new state is in octo_failover_get), 1 when ignored because it is not the
 * current attempt of a RUNNING task or the key is unknown (counted in stats.late_results),
 * OCTO_EINVAL for an unknown outcome. */
OCTO_MUST_USE int octo_failover_result(struct octo_failover *f, const uint8_t *key,
                                       uint32_t attempt, uint32_t provider,
                                       enum octo_health_outcome outcome, octo_tick now);

/* Cancels a PENDING task (not yet running, or between attempts): it becomes
 * FAILED(CANCELLED). A RUNNING attempt is cancelled through result() with
 * OCTO_HEALTH_CANCELLED instead. Returns 0; OCTO_ETIMEDOUT when the deadline has passed (the
 * task EXPIRES instead); OCTO_EBUSY while an attempt runs; OCTO_ESTATE for a finished task;
 * OCTO_ENOTFOUND for an unknown key. */
OCTO_MUST_USE int octo_failover_cancel(struct octo_failover *f, const uint8_t *key, octo_tick now);

/* True exactly once per task: the first call after it SUCCEEDED. False otherwise (unknown
 * key, not succeeded, already charged). */
bool octo_failover_take_charge(struct octo_failover *f, const uint8_t *key);

/* Copies the record of `key` into *out. Returns 0 or OCTO_ENOTFOUND. */
OCTO_MUST_USE int octo_failover_get(const struct octo_failover *f, const uint8_t *key,
                                    struct octo_failover_view *out);

/* Forgets a finished task (SUCCEEDED, FAILED or EXPIRED) after its result was delivered and
 * its charge taken: the record becomes a tombstone (state kept, key reserved: begin() still
 * returns OCTO_EEXIST) until octo_failover_expire runs at or after its deadline and frees it.
 * Returns 0 (also for a task already forgotten), OCTO_ENOTFOUND, or OCTO_ESTATE while the
 * task is PENDING or RUNNING or its charge is still pending. */
OCTO_MUST_USE int octo_failover_forget(struct octo_failover *f, const uint8_t *key);

/* Moves every PENDING or RUNNING task with deadline <= now to EXPIRED (a result arriving
 * for it later is ignored) and frees every tombstone (forgotten task) with deadline <= now,
 * after which its key may be begun afresh (counted in stats.dropped). Returns how many
 * tasks expired (tombstones freed are not counted). O(max_tasks). */
size_t octo_failover_expire(struct octo_failover *f, octo_tick now);

/* Counters since init. */
void octo_failover_stats(const struct octo_failover *f, struct octo_failover_stats *out);

/* "pending", "running", ... and "none", "no candidate left", "deadline", ...; never NULL. */
const char *octo_failover_state_name(enum octo_failover_state s);
const char *octo_failover_reason_name(enum octo_failover_reason r);

#endif
