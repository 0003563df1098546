/*
 * tasks.h — persistent task records on the storage interface: what the node must remember
 * across a restart so that a submitted task is never lost, never run twice for one
 * submission and never charged twice.
 *
 * Key: the 16-byte task id, which is also the submission's idempotency key — inserting an id
 * that exists changes nothing and reports the existing record's state (OCTO_EEXIST).
 *
 * Life cycle (enum octo_taskstore_state): QUEUED and RUNNING are unfinished and may move to
 * any state (RUNNING -> QUEUED is a retry); SUCCEEDED, FAILED, EXPIRED and CANCELLED are
 * final: an update out of a final state is refused with OCTO_ESTATE and changes nothing.
 *
 * Charging: octo_taskstore_charge stores the result and the amount and sets `charged`, once.
 * The guarantee lives in the database, not in memory: the UPDATE is conditional on
 * charged = 0 and its change count decides, so two processes (or a retry after a crash)
 * racing to charge the same task cannot both succeed; the loser gets OCTO_EEXIST and the
 * record keeps the first charge. A charge is allowed in any state (work may be billed after a
 * task was cancelled mid-run); deciding whether to charge is the caller's business.
 *
 * Times (unix ms), amounts (base units) and the attempt count are unsigned in the API; times
 * and amounts are at most OCTO_TASKSTORE_U64_MAX (INT64_MAX: the databases store signed
 * 64-bit integers). Nothing here reads a clock: the caller passes now.
 *
 * Every call works alone or inside a transaction the caller opened (a write transaction for
 * the writing calls).
 */
#ifndef OCTO_STORE_TASKS_H
#define OCTO_STORE_TASKS_H

#include "base/buf.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_TASKSTORE_ID_LEN 16                     /* bytes of a task id */
#define OCTO_TASKSTORE_OWNER_MAX 64                  /* bytes of the submitter id */
#define OCTO_TASKSTORE_MODEL_MAX 128                 /* bytes of the model name (UTF-8) */
#define OCTO_TASKSTORE_REASON_MAX 64                 /* bytes of the reason text (UTF-8) */
#define OCTO_TASKSTORE_PROVIDER_MAX 64               /* bytes of a provider id */
#define OCTO_TASKSTORE_PRIORITY_MAX 7                /* priorities are 0..7 */
#define OCTO_TASKSTORE_REQUEST_MAX (1024u * 1024u)   /* bytes of a request or a result */
#define OCTO_TASKSTORE_LIST_MAX 1000u                /* most records one list call returns */
#define OCTO_TASKSTORE_U64_MAX ((uint64_t)INT64_MAX) /* largest time or amount stored */

/* Stored as these integers: never renumber. */
enum octo_taskstore_state {
    OCTO_TASKSTORE_QUEUED = 0,
    OCTO_TASKSTORE_RUNNING = 1,
    OCTO_TASKSTORE_SUCCEEDED = 2,
    OCTO_TASKSTORE_FAILED = 3,
    OCTO_TASKSTORE_EXPIRED = 4,
    OCTO_TASKSTORE_CANCELLED = 5,
};
#define OCTO_TASKSTORE_STATE_LAST OCTO_TASKSTORE_CANCELLED

/* True for SUCCEEDED, FAILED, EXPIRED and CANCELLED. */
bool octo_taskstore_state_final(enum octo_taskstore_state st);
/* "queued", "running", ...; "invalid" for anything else. */
const char *octo_taskstore_state_name(enum octo_taskstore_state st);

/*
 * A task record. The small fields are held in place; request and result point to bytes
 * owned elsewhere (borrowed for insert; into the caller's buffers for get; valid during the
 * callback for list).
 */
struct octo_taskstore_record {
    uint8_t id[OCTO_TASKSTORE_ID_LEN];
    uint8_t owner[OCTO_TASKSTORE_OWNER_MAX];
    size_t owner_len;                         /* 1..OCTO_TASKSTORE_OWNER_MAX */
    char model[OCTO_TASKSTORE_MODEL_MAX + 1]; /* NUL-terminated UTF-8, 1..MODEL_MAX bytes */
    uint8_t priority;                         /* 0..OCTO_TASKSTORE_PRIORITY_MAX */
    enum octo_taskstore_state state;
    char reason[OCTO_TASKSTORE_REASON_MAX + 1]; /* NUL-terminated UTF-8, may be "" */
    uint64_t deadline_ms;
    uint64_t created_ms;
    uint64_t updated_ms;
    uint32_t attempts;
    uint8_t provider[OCTO_TASKSTORE_PROVIDER_MAX]; /* the latest attempt's provider */
    size_t provider_len;                           /* 0 (none yet)..PROVIDER_MAX */
    uint64_t charged_amount;                       /* base units; meaningful when charged */
    bool charged;
    const uint8_t *request; /* opaque, 0..OCTO_TASKSTORE_REQUEST_MAX bytes */
    size_t request_len;
    const uint8_t *result; /* opaque, 0..OCTO_TASKSTORE_REQUEST_MAX bytes */
    size_t result_len;
};

/* Changes made by octo_taskstore_update. */
struct octo_taskstore_update {
    enum octo_taskstore_state state; /* the new state (may equal the current one) */
    uint32_t attempts;
    const uint8_t *provider; /* the latest attempt's provider; NULL/0 = none */
    size_t provider_len;     /* <= OCTO_TASKSTORE_PROVIDER_MAX */
    const char *reason;      /* NUL-terminated UTF-8 <= REASON_MAX bytes; NULL = "" */
    uint64_t now_ms;         /* stored as updated_ms */
};

/* A task store: the store it lives in. Caller-allocated, no resources. */
struct octo_taskstore {
    struct octo_store *store;
};

/* Binds to a migrated store (octo_store_migrate_node). */
void octo_taskstore_init(struct octo_taskstore *ts, struct octo_store *s);

/*
 * Records a new task. rec->charged must be false, charged_amount 0 and result empty (charging
 * is octo_taskstore_charge's job); every other field is stored as given.
 * Errors: OCTO_EEXIST (the id exists: nothing changed; *existing_state, if not NULL, is the
 * stored record's state — the idempotent answer to a repeated submission), OCTO_EINVAL
 * (empty owner or model, bad UTF-8, bad state or priority, charged fields set, NULL request
 * with a length), OCTO_ETOOBIG (a length over its limit), OCTO_ERANGE (a time over
 * OCTO_TASKSTORE_U64_MAX), OCTO_ESTATE (inside a read transaction), store errors.
 */
OCTO_MUST_USE int octo_taskstore_insert(struct octo_taskstore *ts,
                                        const struct octo_taskstore_record *rec,
                                        enum octo_taskstore_state *existing_state);

/*
 * Reads a task into *out. The request and result bytes are copied into request_buf and
 * result_buf (reset first; give them a max of at least OCTO_TASKSTORE_REQUEST_MAX); either may
 * be NULL, and then those bytes are not even read (out->request / result NULL, length 0).
 * Errors: OCTO_ENOTFOUND, OCTO_ETOOBIG (a buffer's max too small), OCTO_ESTORE (a corrupt
 * row), store errors.
 */
OCTO_MUST_USE int octo_taskstore_get(struct octo_taskstore *ts,
                                     const uint8_t id[OCTO_TASKSTORE_ID_LEN],
                                     struct octo_buf *request_buf, struct octo_buf *result_buf,
                                     struct octo_taskstore_record *out);

/*
 * Sets the state, attempt count, provider, reason and updated_ms of an unfinished task.
 * Errors: OCTO_ESTATE (the stored state is final: nothing changed), OCTO_ENOTFOUND,
 * OCTO_EINVAL (bad state, bad UTF-8, NULL provider with a length), OCTO_ETOOBIG (provider or
 * reason over its limit), OCTO_ERANGE (now_ms), store errors.
 */
OCTO_MUST_USE int octo_taskstore_update(struct octo_taskstore *ts,
                                        const uint8_t id[OCTO_TASKSTORE_ID_LEN],
                                        const struct octo_taskstore_update *u);

/*
 * Stores the result and the charged amount and marks the task charged — exactly once.
 * Errors: OCTO_EEXIST (already charged: nothing changed, the first charge stands),
 * OCTO_ENOTFOUND, OCTO_EINVAL (NULL result with a length), OCTO_ETOOBIG (result over
 * OCTO_TASKSTORE_REQUEST_MAX), OCTO_ERANGE (amount or now_ms), store errors.
 */
OCTO_MUST_USE int octo_taskstore_charge(struct octo_taskstore *ts,
                                        const uint8_t id[OCTO_TASKSTORE_ID_LEN], const void *result,
                                        size_t result_len, uint64_t amount, uint64_t now_ms);

/* Where a listing stopped: pass it back to continue after the last record listed. */
struct octo_taskstore_cursor {
    bool started; /* false: list from the beginning */
    uint64_t created_ms;
    uint8_t id[OCTO_TASKSTORE_ID_LEN];
};

/* Called for each record listed; rec and its bytes are valid during the call only. Return 0
 * for the next, > 0 to stop, < 0 to fail with that code. Must not call into the store. */
typedef int (*octo_taskstore_list_fn)(const struct octo_taskstore_record *rec, void *ctx);

/*
 * Lists up to `limit` (1..OCTO_TASKSTORE_LIST_MAX) unfinished (queued or running) tasks in
 * (created_ms, id) order, starting after *cursor when cursor->started, with their request
 * bytes (result bytes are not read: an unfinished task has none worth recovering). On
 * return *cursor (if not NULL) names the last record listed, so calling again continues —
 * the recovery loop after a restart. Returns the number listed (< limit: the end was
 * reached), or OCTO_EINVAL (limit), the callback's error, OCTO_ESTORE (a corrupt row), store
 * errors.
 */
OCTO_MUST_USE int octo_taskstore_list_unfinished(struct octo_taskstore *ts,
                                                 struct octo_taskstore_cursor *cursor, size_t limit,
                                                 octo_taskstore_list_fn fn, void *ctx);

/*
 * Lists up to `limit` (1..OCTO_TASKSTORE_LIST_MAX) tasks of one owner created before before_ms,
 * newest first (ties: greater id first), without their request and result bytes. To page on,
 * pass the oldest created_ms listed (tasks of that same millisecond not yet listed are then
 * skipped: a listing for people, not for recovery). Returns the number listed, or OCTO_EINVAL
 * (limit, empty owner), OCTO_ETOOBIG (owner), OCTO_ERANGE (before_ms), the callback's error,
 * OCTO_ESTORE, store errors.
 */
OCTO_MUST_USE int octo_taskstore_list_owner(struct octo_taskstore *ts, const uint8_t *owner,
                                            size_t owner_len, uint64_t before_ms, size_t limit,
                                            octo_taskstore_list_fn fn, void *ctx);

/*
 * Lists up to `limit` (1..OCTO_TASKSTORE_LIST_MAX) finished tasks (SUCCEEDED, FAILED,
 * EXPIRED, CANCELLED) updated at or after since_ms, in (updated_ms, id) order, with their
 * result bytes (not the request's): what the node reconciles with the ledger after a restart.
 * The cursor works as in octo_taskstore_list_unfinished, its created_ms field holding the last
 * updated_ms listed (since_ms is used while !cursor->started). Returns the number listed, or
 * OCTO_EINVAL, OCTO_ERANGE, the callback's error, OCTO_ESTORE, store errors.
 */
OCTO_MUST_USE int octo_taskstore_list_finished(struct octo_taskstore *ts,
                                               struct octo_taskstore_cursor *cursor,
                                               uint64_t since_ms, size_t limit,
                                               octo_taskstore_list_fn fn, void *ctx);

/* Deletes finished tasks whose updated_ms < before_ms. Returns how many, or OCTO_ERANGE,
 * store errors. */
OCTO_MUST_USE int octo_taskstore_purge_finished(struct octo_taskstore *ts, uint64_t before_ms);

/* Number of stored tasks. Errors: store errors. */
OCTO_MUST_USE int octo_taskstore_count(struct octo_taskstore *ts, uint64_t *out);

#endif
