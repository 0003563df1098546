/*
 * failover.c — per-task attempt tracking (rules in failover.h).
 *
 * Storage: a pool of `cap` records, free ones chained through `next_free`, and an index of
 * `slots` (a power of two >= 2 * cap, so the load stays at or below 1/2) holding record
 * numbers. The index is probed linearly from the key's home slot, SipHash-2-4 of the key
 * under the configured hash key; each record keeps its home slot so deletion can shift the
 * following cluster back without rehashing (no tombstones, so lookups never degrade).
 * Iteration (expire) walks the pool by record number: deterministic, independent of hashing.
 *
 * Forgotten tasks stay as tombstones (FLAG_FORGOTTEN: a full record, still indexed, so the key
 * stays reserved) until expire sees their deadline pass; only then is the record freed. These
 * are record tombstones of the idempotency rule, unrelated to the index, which has none.
 */
#include "intel/failover.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <sodium.h>
#include <string.h>

#define EMPTY UINT32_MAX

_Static_assert(OCTO_FAILOVER_HASH_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key size");
_Static_assert(OCTO_FAILOVER_ATTEMPTS_MAX <= UINT8_MAX, "attempt counts are uint8_t");
_Static_assert(OCTO_FAILOVER_TASKS_MAX <= (UINT32_MAX >> 2), "slot numbers fit in uint32_t");

enum {
    FLAG_USED = 1u << 0,
    FLAG_CHARGE_PENDING = 1u << 1,
    FLAG_CHARGED = 1u << 2,
    FLAG_FORGOTTEN = 1u << 3, /* tombstone: key reserved until the deadline */
};

struct octo_failover_task {
    uint8_t key[OCTO_FAILOVER_KEY_LEN];
    octo_tick deadline;
    uint32_t tried[OCTO_FAILOVER_ATTEMPTS_MAX]; /* tried[k - 1]: provider of attempt k */
    uint32_t home;                              /* home slot in the index */
    uint32_t next_free;                         /* free chain (valid when not FLAG_USED) */
    uint8_t state;                              /* enum octo_failover_state */
    uint8_t reason;                             /* enum octo_failover_reason */
    uint8_t attempts;                           /* attempts started (== tried entries) */
    uint8_t max_attempts;
    uint8_t flags;
};

int octo_failover_init(struct octo_failover *f, const struct octo_failover_config *cfg)
{
    OCTO_ASSERT(f != NULL && cfg != NULL);
    memset(f, 0, sizeof(*f));
    size_t cap = cfg->max_tasks ? cfg->max_tasks : OCTO_FAILOVER_TASKS_DEFAULT;
    if (cap > OCTO_FAILOVER_TASKS_MAX)
        return OCTO_ETOOBIG;
    uint32_t slots = 2;
    while (slots < 2 * cap)
        slots <<= 1;
    f->tasks = octo_calloc(cap, sizeof(*f->tasks));
    f->index = octo_malloc((size_t)slots * sizeof(*f->index));
    if (f->tasks == NULL || f->index == NULL) {
        octo_failover_deinit(f);
        return OCTO_ENOMEM;
    }
    for (uint32_t i = 0; i < slots; i++)
        f->index[i] = EMPTY;
    f->cap = (uint32_t)cap;
    for (uint32_t i = 0; i < f->cap; i++)
        f->tasks[i].next_free = i + 1 < f->cap ? i + 1 : EMPTY;
    f->free_head = 0;
    f->slots = slots;
    memcpy(f->hash_key, cfg->hash_key, sizeof(f->hash_key));
    return 0;
}

void octo_failover_deinit(struct octo_failover *f)
{
    OCTO_ASSERT(f != NULL);
    octo_free(f->tasks);
    octo_free(f->index);
    memset(f, 0, sizeof(*f));
}

/* ---- the index ---- */

static uint32_t home_slot(const struct octo_failover *f, const uint8_t *key)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, OCTO_FAILOVER_KEY_LEN, f->hash_key);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(h); i++)
        v |= (uint64_t)h[i] << (8 * i);
    return (uint32_t)(v & (f->slots - 1));
}

/* Index slot holding `key`, or EMPTY. *free_slot (may be NULL) receives the first empty slot
 * of the probe sequence, where the key would be inserted. */
static uint32_t find_slot(const struct octo_failover *f, const uint8_t *key, uint32_t *free_slot)
{
    uint32_t mask = f->slots - 1;
    uint32_t i = home_slot(f, key);
    for (;;) { /* terminates: the load is at most 1/2, so an empty slot exists */
        uint32_t r = f->index[i];
        if (r == EMPTY)
            break;
        if (memcmp(f->tasks[r].key, key, OCTO_FAILOVER_KEY_LEN) == 0)
            return i;
        i = (i + 1) & mask;
    }
    if (free_slot != NULL)
        *free_slot = i;
    return EMPTY;
}

static struct octo_failover_task *lookup(const struct octo_failover *f, const uint8_t *key)
{
    OCTO_ASSERT(f != NULL && f->index != NULL && key != NULL);
    uint32_t s = find_slot(f, key, NULL);
    return s == EMPTY ? NULL : &f->tasks[f->index[s]];
}

/* Empties index slot `hole` and shifts the rest of its cluster back (no tombstones). An entry
 * at j may move to the hole when its home is not cyclically within (hole, j]. */
static void index_delete(struct octo_failover *f, uint32_t hole)
{
    uint32_t mask = f->slots - 1;
    f->index[hole] = EMPTY;
    for (uint32_t j = (hole + 1) & mask; f->index[j] != EMPTY; j = (j + 1) & mask) {
        uint32_t home = f->tasks[f->index[j]].home;
        uint32_t dist_home = (j - home) & mask; /* how far j is from its home */
        uint32_t dist_hole = (j - hole) & mask; /* how far j is from the hole */
        if (dist_home >= dist_hole) {
            f->index[hole] = f->index[j];
            f->index[j] = EMPTY;
            hole = j;
        }
    }
}

/* ---- records ---- */

static void fill_view(const struct octo_failover_task *t, struct octo_failover_view *out)
{
    memset(out, 0, sizeof(*out));
    out->state = (enum octo_failover_state)t->state;
    out->reason = (enum octo_failover_reason)t->reason;
    out->attempts = t->attempts;
    out->max_attempts = t->max_attempts;
    out->provider = t->attempts ? t->tried[t->attempts - 1] : OCTO_FAILOVER_PROVIDER_NONE;
    out->deadline = t->deadline;
    memcpy(out->tried, t->tried, (size_t)t->attempts * sizeof(t->tried[0]));
    out->tried_count = t->attempts;
    out->charge_pending = (t->flags & FLAG_CHARGE_PENDING) != 0;
    out->charged = (t->flags & FLAG_CHARGED) != 0;
    out->forgotten = (t->flags & FLAG_FORGOTTEN) != 0;
}

static void finish(struct octo_failover *f, struct octo_failover_task *t,
                   enum octo_failover_state state, enum octo_failover_reason reason)
{
    t->state = (uint8_t)state;
    t->reason = (uint8_t)reason;
    if (state == OCTO_FAILOVER_SUCCEEDED) {
        t->flags |= FLAG_CHARGE_PENDING;
        f->stats.succeeded++;
    } else if (state == OCTO_FAILOVER_EXPIRED) {
        f->stats.expired++;
    } else {
        OCTO_ASSERT(state == OCTO_FAILOVER_FAILED);
        f->stats.failed++;
    }
}

static bool is_terminal(uint8_t state)
{
    return state == OCTO_FAILOVER_SUCCEEDED || state == OCTO_FAILOVER_FAILED ||
           state == OCTO_FAILOVER_EXPIRED;
}

/* The error next() reports for a task that failed or expired with this reason. */
static int reason_error(uint8_t reason)
{
    switch (reason) {
    case OCTO_FAILOVER_REASON_NO_CANDIDATE:
        return OCTO_ENOTFOUND;
    case OCTO_FAILOVER_REASON_DEADLINE:
        return OCTO_ETIMEDOUT;
    case OCTO_FAILOVER_REASON_ATTEMPTS:
        return OCTO_ELIMIT;
    default:
        return OCTO_ESTATE; /* rejected, cancelled */
    }
}

int octo_failover_begin(struct octo_failover *f, const uint8_t *key, octo_tick deadline,
                        uint32_t max_attempts, struct octo_failover_view *out)
{
    OCTO_ASSERT(f != NULL && f->index != NULL && key != NULL);
    uint32_t free_slot = EMPTY;
    uint32_t s = find_slot(f, key, &free_slot);
    if (s != EMPTY) {
        f->stats.duplicates++;
        if (out != NULL)
            fill_view(&f->tasks[f->index[s]], out);
        return OCTO_EEXIST;
    }
    if (max_attempts > OCTO_FAILOVER_ATTEMPTS_MAX)
        return OCTO_EINVAL;
    if (f->free_head == EMPTY)
        return OCTO_ELIMIT;
    uint32_t r = f->free_head;
    struct octo_failover_task *t = &f->tasks[r];
    f->free_head = t->next_free;
    memset(t, 0, sizeof(*t));
    memcpy(t->key, key, OCTO_FAILOVER_KEY_LEN);
    t->deadline = deadline;
    t->home = home_slot(f, key);
    t->next_free = EMPTY;
    t->state = OCTO_FAILOVER_PENDING;
    t->max_attempts = (uint8_t)(max_attempts ? max_attempts : OCTO_FAILOVER_ATTEMPTS_DEFAULT);
    t->flags = FLAG_USED;
    f->index[free_slot] = r;
    f->stats.tasks++;
    f->stats.begun++;
    if (out != NULL)
        fill_view(t, out);
    return 0;
}

static bool was_tried(const struct octo_failover_task *t, uint32_t provider)
{
    for (uint32_t k = 0; k < t->attempts; k++)
        if (t->tried[k] == provider)
            return true;
    return false;
}

int octo_failover_next(struct octo_failover *f, const uint8_t *key, octo_tick now,
                       const struct octo_failover_candidate *c, size_t n,
                       struct octo_failover_choice *choice)
{
    OCTO_ASSERT(choice != NULL && (c != NULL || n == 0));
    if (n > OCTO_FAILOVER_CANDIDATES_MAX)
        return OCTO_ETOOBIG;
    struct octo_failover_task *t = lookup(f, key);
    if (t == NULL)
        return OCTO_ENOTFOUND;
    if (t->state == OCTO_FAILOVER_RUNNING)
        return OCTO_EBUSY;
    if (t->state == OCTO_FAILOVER_SUCCEEDED)
        return OCTO_ESTATE;
    if (t->state != OCTO_FAILOVER_PENDING)
        return reason_error(t->reason);
    if (now >= t->deadline) {
        finish(f, t, OCTO_FAILOVER_EXPIRED, OCTO_FAILOVER_REASON_DEADLINE);
        return OCTO_ETIMEDOUT;
    }
    if (OCTO_NEVER(t->attempts >= t->max_attempts)) { /* result() finishes such a task */
        finish(f, t, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_ATTEMPTS);
        return OCTO_ELIMIT;
    }
    bool cooling = false;
    octo_tick earliest = 0;
    for (size_t i = 0; i < n; i++) {
        if (was_tried(t, c[i].provider))
            continue;
        if (c[i].available_at <= now) {
            t->tried[t->attempts++] = c[i].provider;
            t->state = OCTO_FAILOVER_RUNNING;
            f->stats.attempts++;
            choice->provider = c[i].provider;
            choice->candidate = i;
            choice->attempt = t->attempts;
            choice->wait_until = now;
            return 0;
        }
        if (!cooling || c[i].available_at < earliest)
            earliest = c[i].available_at;
        cooling = true;
    }
    if (!cooling) {
        finish(f, t, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_NO_CANDIDATE);
        return OCTO_ENOTFOUND;
    }
    if (earliest >= t->deadline) {
        finish(f, t, OCTO_FAILOVER_EXPIRED, OCTO_FAILOVER_REASON_DEADLINE);
        return OCTO_ETIMEDOUT;
    }
    choice->wait_until = earliest;
    return OCTO_EAGAIN;
}

int octo_failover_result(struct octo_failover *f, const uint8_t *key, uint32_t attempt,
                         uint32_t provider, enum octo_health_outcome outcome, octo_tick now)
{
    if ((unsigned)outcome >= OCTO_HEALTH_OUTCOME_COUNT)
        return OCTO_EINVAL;
    struct octo_failover_task *t = lookup(f, key);
    if (t == NULL || t->state != OCTO_FAILOVER_RUNNING || attempt == 0 || attempt != t->attempts ||
        provider != t->tried[attempt - 1]) {
        f->stats.late_results++;
        return 1;
    }
    switch (outcome) {
    case OCTO_HEALTH_SUCCESS:
        finish(f, t, OCTO_FAILOVER_SUCCEEDED, OCTO_FAILOVER_REASON_NONE);
        break;
    case OCTO_HEALTH_PROVIDER_ERROR:
    case OCTO_HEALTH_PROVIDER_TIMEOUT:
        if (t->attempts >= t->max_attempts)
            finish(f, t, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_ATTEMPTS);
        else if (now >= t->deadline)
            finish(f, t, OCTO_FAILOVER_EXPIRED, OCTO_FAILOVER_REASON_DEADLINE);
        else
            t->state = OCTO_FAILOVER_PENDING;
        break;
    case OCTO_HEALTH_CALLER_ERROR:
        finish(f, t, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_REJECTED);
        break;
    case OCTO_HEALTH_CALLER_TIMEOUT:
        finish(f, t, OCTO_FAILOVER_EXPIRED, OCTO_FAILOVER_REASON_DEADLINE);
        break;
    case OCTO_HEALTH_CANCELLED:
        finish(f, t, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_CANCELLED);
        break;
    default:
        OCTO_UNREACHABLE();
    }
    return 0;
}

int octo_failover_cancel(struct octo_failover *f, const uint8_t *key, octo_tick now)
{
    struct octo_failover_task *t = lookup(f, key);
    if (t == NULL)
        return OCTO_ENOTFOUND;
    if (t->state == OCTO_FAILOVER_RUNNING)
        return OCTO_EBUSY;
    if (t->state != OCTO_FAILOVER_PENDING)
        return OCTO_ESTATE;
    if (now >= t->deadline) {
        finish(f, t, OCTO_FAILOVER_EXPIRED, OCTO_FAILOVER_REASON_DEADLINE);
        return OCTO_ETIMEDOUT;
    }
    finish(f, t, OCTO_FAILOVER_FAILED, OCTO_FAILOVER_REASON_CANCELLED);
    return 0;
}

bool octo_failover_take_charge(struct octo_failover *f, const uint8_t *key)
{
    struct octo_failover_task *t = lookup(f, key);
    if (t == NULL || !(t->flags & FLAG_CHARGE_PENDING))
        return false;
    OCTO_ASSERT(t->state == OCTO_FAILOVER_SUCCEEDED && !(t->flags & FLAG_CHARGED));
    t->flags = (uint8_t)((t->flags & ~FLAG_CHARGE_PENDING) | FLAG_CHARGED);
    f->stats.charges++;
    return true;
}

int octo_failover_get(const struct octo_failover *f, const uint8_t *key,
                      struct octo_failover_view *out)
{
    OCTO_ASSERT(out != NULL);
    const struct octo_failover_task *t = lookup(f, key);
    if (t == NULL)
        return OCTO_ENOTFOUND;
    fill_view(t, out);
    return 0;
}

int octo_failover_forget(struct octo_failover *f, const uint8_t *key)
{
    struct octo_failover_task *t = lookup(f, key);
    if (t == NULL)
        return OCTO_ENOTFOUND;
    /* a pending charge must be taken first: the tombstone is not charged any more */
    if (!is_terminal(t->state) || (t->flags & FLAG_CHARGE_PENDING) != 0)
        return OCTO_ESTATE;
    if (!(t->flags & FLAG_FORGOTTEN)) {
        t->flags |= FLAG_FORGOTTEN;
        f->stats.tombstones++;
    }
    return 0;
}

/* Frees record r, a tombstone: out of the index, back on the free chain. */
static void drop_record(struct octo_failover *f, uint32_t r)
{
    struct octo_failover_task *t = &f->tasks[r];
    OCTO_ASSERT((t->flags & FLAG_FORGOTTEN) != 0 && is_terminal(t->state));
    uint32_t s = find_slot(f, t->key, NULL);
    OCTO_ASSERT(s != EMPTY && f->index[s] == r);
    index_delete(f, s);
    memset(t, 0, sizeof(*t));
    t->next_free = f->free_head;
    f->free_head = r;
    f->stats.tasks--;
    f->stats.tombstones--;
    f->stats.dropped++;
}

size_t octo_failover_expire(struct octo_failover *f, octo_tick now)
{
    OCTO_ASSERT(f != NULL);
    size_t expired = 0;
    for (uint32_t r = 0; r < f->cap; r++) {
        struct octo_failover_task *t = &f->tasks[r];
        if (!(t->flags & FLAG_USED) || t->deadline > now)
            continue;
        if (t->flags & FLAG_FORGOTTEN) {
            drop_record(f, r);
        } else if (!is_terminal(t->state)) {
            finish(f, t, OCTO_FAILOVER_EXPIRED, OCTO_FAILOVER_REASON_DEADLINE);
            expired++;
        }
    }
    return expired;
}

void octo_failover_stats(const struct octo_failover *f, struct octo_failover_stats *out)
{
    OCTO_ASSERT(f != NULL && out != NULL);
    *out = f->stats;
}

const char *octo_failover_state_name(enum octo_failover_state s)
{
    switch (s) {
    case OCTO_FAILOVER_PENDING:
        return "pending";
    case OCTO_FAILOVER_RUNNING:
        return "running";
    case OCTO_FAILOVER_SUCCEEDED:
        return "succeeded";
    case OCTO_FAILOVER_FAILED:
        return "failed";
    case OCTO_FAILOVER_EXPIRED:
        return "expired";
    }
    return "unknown";
}

const char *octo_failover_reason_name(enum octo_failover_reason r)
{
    switch (r) {
    case OCTO_FAILOVER_REASON_NONE:
        return "none";
    case OCTO_FAILOVER_REASON_NO_CANDIDATE:
        return "no candidate left";
    case OCTO_FAILOVER_REASON_DEADLINE:
        return "deadline";
    case OCTO_FAILOVER_REASON_ATTEMPTS:
        return "attempts exhausted";
    case OCTO_FAILOVER_REASON_REJECTED:
        return "rejected";
    case OCTO_FAILOVER_REASON_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}
