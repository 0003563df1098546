/*
 * queue.h — the bounded task queue behind routing and dispatch: tasks wait here, ordered by
 * priority, until the driver dispatches them; a dispatched task stays "in flight" until the
 * driver reports it done. Sans-I/O: time is a parameter (`now`, octo_tick ns).
 *
 * Task lifecycle (enum octo_queue_state):
 *
 *   enqueue ──► QUEUED ──dequeue──► IN_FLIGHT ──done──► (gone)
 *                 │  └──cancel──► (gone)
 *                 └──deadline <= now (swept)──► EXPIRED ──expire (pull) / cancel──► (gone)
 *
 * Dispatch order (deterministic, no hashing involved): highest priority first, then the
 * earliest deadline, then FIFO by enqueue order (a per-queue sequence number). A task is due
 * for expiry when `deadline <= now` (a task with deadline OCTO_QUEUE_NEVER never expires); it
 * is then never dispatched. Sweeps happen inside octo_queue_dequeue and octo_queue_expire, in
 * (deadline, enqueue order) order, and move due tasks onto a FIFO of expired tasks that the
 * driver pulls with octo_queue_expire. Expired tasks still occupy queued capacity until they
 * are pulled, so a driver that never collects them sees backpressure, not silent loss.
 *
 * Capacities: `queued_max` bounds QUEUED + EXPIRED tasks (enqueue past it is OCTO_EBUSY:
 * backpressure), `in_flight_max` bounds IN_FLIGHT tasks (dequeue past it is OCTO_EBUSY). Both
 * are checked against OCTO_QUEUE_TASKS_MAX before allocation. Memory tier 1: every array
 * (slots, two heaps, the id index) is allocated in octo_queue_init; no operation allocates.
 *
 * Data structures: a slot array (queued_max + in_flight_max entries) holding the tasks; a
 * binary max-heap of queued slots keyed by (priority, deadline, seq) for dispatch and a binary
 * min-heap keyed by (deadline, seq) for expiry, with each slot's position in both stored in the
 * slot so removal from the middle (cancel, expiry) is O(log n); an open-addressing index
 * (linear probing, backward-shift deletion, load <= 1/2) from the 16-byte task id to its slot.
 * The index hash is keyed by `hash_key` from the config: pass a random value when task ids can
 * be chosen by a peer. Free slots and expired slots live on intrusive index-linked lists.
 *
 * Complexity (n = tasks held): enqueue O(log n); dequeue O(log n) plus O(log n) per task it
 * sweeps into EXPIRED; cancel O(log n); done O(1); expire O(1) plus its sweep; lookup, counts
 * and next_deadline O(1). Not thread-safe: one owner drives it.
 */
#ifndef OCTO_INTEL_QUEUE_H
#define OCTO_INTEL_QUEUE_H

#include "base/clock.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

#define OCTO_QUEUE_ID_LEN 16
#define OCTO_QUEUE_PRIORITY_MAX 7
/* Named maximum for each of queued_max and in_flight_max. */
#define OCTO_QUEUE_TASKS_MAX (UINT32_C(1) << 20)
/* Used when a config field is 0. */
#define OCTO_QUEUE_QUEUED_DEFAULT UINT32_C(65536)
#define OCTO_QUEUE_IN_FLIGHT_DEFAULT UINT32_C(65536)
/* A deadline that never passes. */
#define OCTO_QUEUE_NEVER UINT64_MAX

enum octo_queue_state {
    OCTO_QUEUE_FREE = 0, /* internal: an unused slot */
    OCTO_QUEUE_QUEUED = 1,
    OCTO_QUEUE_IN_FLIGHT = 2,
    OCTO_QUEUE_EXPIRED = 3,
};

struct octo_queue_task {
    uint8_t id[OCTO_QUEUE_ID_LEN];
    uint64_t value;     /* opaque to the queue: the caller's handle */
    octo_tick deadline; /* expires when deadline <= now; OCTO_QUEUE_NEVER: never */
    octo_tick enqueued; /* set by octo_queue_enqueue from its `now`; ignored on input */
    uint8_t priority;   /* 0..OCTO_QUEUE_PRIORITY_MAX, higher first */
};

struct octo_queue_config {
    uint32_t queued_max;    /* 0: OCTO_QUEUE_QUEUED_DEFAULT */
    uint32_t in_flight_max; /* 0: OCTO_QUEUE_IN_FLIGHT_DEFAULT */
    uint64_t hash_key;      /* keys the id index; any value, random against hostile ids */
};

struct octo_queue_counts {
    uint32_t queued;    /* waiting (including any now due but not yet swept) */
    uint32_t in_flight; /* dequeued, not yet done */
    uint32_t expired;   /* swept, not yet pulled with octo_queue_expire */
    uint64_t enqueued_total;
    uint64_t dispatched_total;
    uint64_t done_total;
    uint64_t cancelled_total;
    uint64_t expired_total; /* swept into EXPIRED */
    uint64_t rejected_full_total;
};

/* Internal: one task slot. */
struct octo_queue_slot {
    struct octo_queue_task task;
    uint64_t seq;       /* enqueue order */
    uint32_t ready_pos; /* position in the dispatch heap while QUEUED */
    uint32_t dl_pos;    /* position in the deadline heap while QUEUED */
    uint32_t prev;      /* EXPIRED list links; `next` also links the free list */
    uint32_t next;
    uint8_t state; /* enum octo_queue_state */
};

/* Caller-allocated; fields are private to queue.c. */
struct octo_queue {
    struct octo_queue_slot *slots;
    uint32_t *ready; /* dispatch heap of slot indices */
    uint32_t *dl;    /* deadline heap of slot indices */
    uint32_t *index; /* id -> slot, UINT32_MAX = empty */
    uint32_t slots_count;
    uint32_t index_mask;
    uint32_t queued_max;
    uint32_t in_flight_max;
    uint32_t heap_len; /* QUEUED tasks (both heaps hold the same set) */
    uint32_t free_head;
    uint32_t expired_head;
    uint32_t expired_tail;
    uint64_t hash_key;
    uint64_t seq_next;
    struct octo_queue_counts counts;
};

/* Initialises q with every array it will ever need. cfg may be NULL (all defaults).
 * Returns 0, or
 *   OCTO_ETOOBIG  queued_max or in_flight_max above OCTO_QUEUE_TASKS_MAX;
 *   OCTO_ENOMEM   allocation failed (q is left deinit-safe).
 */
OCTO_MUST_USE int octo_queue_init(struct octo_queue *q, const struct octo_queue_config *cfg);

/* Frees everything; tolerates a zeroed or already deinitialised q. */
void octo_queue_deinit(struct octo_queue *q);

/* Adds a task (id, priority, deadline, value from *t) as QUEUED at time `now`; does not sweep.
 * Returns 0, or
 *   OCTO_EINVAL     priority above OCTO_QUEUE_PRIORITY_MAX;
 *   OCTO_EEXIST     a task with this id is held (queued, in flight or expired) — nothing
 *                   changes, so a retried enqueue is idempotent;
 *   OCTO_ETIMEDOUT  deadline <= now: the task would expire at once and is not stored;
 *   OCTO_EBUSY      queued capacity is full (backpressure: retry after dispatch or expiry).
 */
OCTO_MUST_USE int octo_queue_enqueue(struct octo_queue *q, const struct octo_queue_task *t,
                                     octo_tick now);

/* Sweeps tasks due at `now` into EXPIRED, then moves the next task in dispatch order to
 * IN_FLIGHT and copies it to *out. Returns 0, or
 *   OCTO_ENOTFOUND  nothing is queued;
 *   OCTO_EBUSY      in-flight capacity is full (call octo_queue_done first).
 */
OCTO_MUST_USE int octo_queue_dequeue(struct octo_queue *q, octo_tick now,
                                     struct octo_queue_task *out);

/* Sweeps tasks due at `now` into EXPIRED, then removes the first expired task in sweep order
 * ((deadline, enqueue order) when `now` never goes backwards) and copies it to *out. Call until it
 * fails to collect them all. Returns 0, or OCTO_ENOTFOUND when no task is expired. */
OCTO_MUST_USE int octo_queue_expire(struct octo_queue *q, octo_tick now,
                                    struct octo_queue_task *out);

/* Removes a QUEUED or EXPIRED task by id; copies it to *out when out is not NULL.
 * Returns 0, or
 *   OCTO_ENOTFOUND  no such task;
 *   OCTO_ESTATE     the task is in flight: it stays in flight (stop the work, then call
 *                   octo_queue_done).
 */
OCTO_MUST_USE int octo_queue_cancel(struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN],
                                    struct octo_queue_task *out);

/* Ends an IN_FLIGHT task by id, freeing its in-flight capacity; copies it to *out when out is
 * not NULL. Returns 0, or
 *   OCTO_ENOTFOUND  no such task;
 *   OCTO_ESTATE     the task is queued or expired, not in flight (use octo_queue_cancel).
 */
OCTO_MUST_USE int octo_queue_done(struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN],
                                  struct octo_queue_task *out);

/* State of the task with this id (OCTO_QUEUE_QUEUED, _IN_FLIGHT or _EXPIRED), copying it to
 * *out when out is not NULL; or OCTO_ENOTFOUND. */
int octo_queue_lookup(const struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN],
                      struct octo_queue_task *out);

/* When the driver's timer should next fire: 0 if expired tasks wait to be pulled, else the
 * earliest deadline among queued tasks, or OCTO_QUEUE_NEVER if none can expire. */
octo_tick octo_queue_next_deadline(const struct octo_queue *q);

/* Copies the counts by state and the lifetime totals. */
void octo_queue_counts(const struct octo_queue *q, struct octo_queue_counts *out);

/* Checks every internal invariant (heap order, stored positions, index, lists, counts) in
 * O(capacity). For tests and debugging; returns true when all hold. */
bool octo_queue_invariants_ok(const struct octo_queue *q);

#endif
