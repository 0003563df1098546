/*
 * queue.c — the bounded task queue (see queue.h for the design and contracts).
 *
 * Two binary heaps share one set of QUEUED slots: `ready` (max by priority, then min by
 * deadline, then min by seq) and `dl` (min by deadline, then seq). Each heap stores slot
 * indices and each slot stores its positions, so any slot can be removed from the middle of
 * both heaps in O(log n). The id index is open addressing with linear probing over a power of
 * two table at least twice the slot count; deletion shifts later entries of the probe run
 * back, so there are no tombstones and probe runs stay short.
 */
#include "intel/queue.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <string.h>

#define NIL UINT32_MAX

/* ---- ordering ---- */

/* True when slot a must be dispatched before slot b. */
static bool ready_before(const struct octo_queue_slot *a, const struct octo_queue_slot *b)
{
    if (a->task.priority != b->task.priority)
        return a->task.priority > b->task.priority;
    if (a->task.deadline != b->task.deadline)
        return a->task.deadline < b->task.deadline;
    return a->seq < b->seq;
}

/* True when slot a expires before slot b. */
static bool dl_before(const struct octo_queue_slot *a, const struct octo_queue_slot *b)
{
    if (a->task.deadline != b->task.deadline)
        return a->task.deadline < b->task.deadline;
    return a->seq < b->seq;
}

/* ---- heaps ---- */

/* The two heaps differ only in their order and in which slot field holds the position. */
enum heap_kind { HEAP_READY, HEAP_DL };

static uint32_t *heap_array(struct octo_queue *q, enum heap_kind k)
{
    return k == HEAP_READY ? q->ready : q->dl;
}

static bool heap_before(const struct octo_queue *q, enum heap_kind k, uint32_t a, uint32_t b)
{
    return k == HEAP_READY ? ready_before(&q->slots[a], &q->slots[b])
                           : dl_before(&q->slots[a], &q->slots[b]);
}

static void heap_place(struct octo_queue *q, enum heap_kind k, uint32_t pos, uint32_t slot)
{
    heap_array(q, k)[pos] = slot;
    if (k == HEAP_READY)
        q->slots[slot].ready_pos = pos;
    else
        q->slots[slot].dl_pos = pos;
}

/* Moves the entry at pos up until its parent comes first; returns its final position. */
static uint32_t heap_up(struct octo_queue *q, enum heap_kind k, uint32_t pos)
{
    uint32_t *h = heap_array(q, k);
    uint32_t slot = h[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!heap_before(q, k, slot, h[parent]))
            break;
        heap_place(q, k, pos, h[parent]);
        pos = parent;
    }
    heap_place(q, k, pos, slot);
    return pos;
}

static void heap_down(struct octo_queue *q, enum heap_kind k, uint32_t pos, uint32_t len)
{
    uint32_t *h = heap_array(q, k);
    uint32_t slot = h[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= len)
            break;
        if (child + 1 < len && heap_before(q, k, h[child + 1], h[child]))
            child++;
        if (!heap_before(q, k, h[child], slot))
            break;
        heap_place(q, k, pos, h[child]);
        pos = child;
    }
    heap_place(q, k, pos, slot);
}

/* Removes the entry at pos from a heap that holds len entries (len - 1 afterwards). */
static void heap_remove_at(struct octo_queue *q, enum heap_kind k, uint32_t pos, uint32_t len)
{
    OCTO_ASSERT(pos < len);
    uint32_t *h = heap_array(q, k);
    uint32_t last = len - 1;
    if (pos == last)
        return;
    heap_place(q, k, pos, h[last]);
    if (heap_up(q, k, pos) == pos)
        heap_down(q, k, pos, last);
}

/* Inserts a QUEUED slot into both heaps. */
static void heaps_insert(struct octo_queue *q, uint32_t slot)
{
    uint32_t pos = q->heap_len++;
    heap_place(q, HEAP_READY, pos, slot);
    heap_up(q, HEAP_READY, pos);
    heap_place(q, HEAP_DL, pos, slot);
    heap_up(q, HEAP_DL, pos);
}

/* Removes a QUEUED slot from both heaps. */
static void heaps_remove(struct octo_queue *q, uint32_t slot)
{
    const struct octo_queue_slot *s = &q->slots[slot];
    OCTO_ASSERT(s->state == OCTO_QUEUE_QUEUED);
    OCTO_ASSERT(q->heap_len > 0);
    heap_remove_at(q, HEAP_READY, s->ready_pos, q->heap_len);
    heap_remove_at(q, HEAP_DL, s->dl_pos, q->heap_len);
    q->heap_len--;
}

/* ---- id index ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint32_t id_hash(const struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN])
{
    uint64_t lo, hi;
    memcpy(&lo, id, 8);
    memcpy(&hi, id + 8, 8);
    uint64_t h = mix64(lo ^ q->hash_key);
    h = mix64(h ^ hi ^ (q->hash_key >> 7 | q->hash_key << 57));
    return (uint32_t)h & q->index_mask;
}

/* Index position holding id, or NIL. */
static uint32_t index_find(const struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN])
{
    uint32_t i = id_hash(q, id);
    for (;;) {
        uint32_t slot = q->index[i];
        if (slot == NIL)
            return NIL;
        if (memcmp(q->slots[slot].task.id, id, OCTO_QUEUE_ID_LEN) == 0)
            return i;
        i = (i + 1) & q->index_mask;
    }
}

static void index_insert(struct octo_queue *q, uint32_t slot)
{
    uint32_t i = id_hash(q, q->slots[slot].task.id);
    while (q->index[i] != NIL)
        i = (i + 1) & q->index_mask;
    q->index[i] = slot;
}

/* Empties index position i and shifts later members of the probe run back into the gap. */
static void index_delete_at(struct octo_queue *q, uint32_t i)
{
    uint32_t gap = i;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & q->index_mask;
        uint32_t slot = q->index[j];
        if (slot == NIL)
            break;
        uint32_t home = id_hash(q, q->slots[slot].task.id);
        /* The entry at j may move to the gap unless its home lies cyclically in (gap, j]. */
        uint32_t dist_home = (j - home) & q->index_mask;
        uint32_t dist_gap = (j - gap) & q->index_mask;
        if (dist_home >= dist_gap) {
            q->index[gap] = slot;
            gap = j;
        }
    }
    q->index[gap] = NIL;
}

/* ---- slot lists ---- */

static uint32_t slot_alloc(struct octo_queue *q)
{
    uint32_t slot = q->free_head;
    OCTO_ASSERT(slot != NIL);
    q->free_head = q->slots[slot].next;
    return slot;
}

/* Drops a slot from the index and returns it to the free list. */
static void slot_release(struct octo_queue *q, uint32_t index_pos, uint32_t slot)
{
    OCTO_ASSERT(q->index[index_pos] == slot);
    index_delete_at(q, index_pos);
    struct octo_queue_slot *s = &q->slots[slot];
    s->state = OCTO_QUEUE_FREE;
    s->prev = NIL;
    s->next = q->free_head;
    q->free_head = slot;
}

static void expired_append(struct octo_queue *q, uint32_t slot)
{
    struct octo_queue_slot *s = &q->slots[slot];
    s->state = OCTO_QUEUE_EXPIRED;
    s->next = NIL;
    s->prev = q->expired_tail;
    if (q->expired_tail == NIL)
        q->expired_head = slot;
    else
        q->slots[q->expired_tail].next = slot;
    q->expired_tail = slot;
}

static void expired_unlink(struct octo_queue *q, uint32_t slot)
{
    struct octo_queue_slot *s = &q->slots[slot];
    OCTO_ASSERT(s->state == OCTO_QUEUE_EXPIRED);
    if (s->prev == NIL)
        q->expired_head = s->next;
    else
        q->slots[s->prev].next = s->next;
    if (s->next == NIL)
        q->expired_tail = s->prev;
    else
        q->slots[s->next].prev = s->prev;
}

/* Moves every QUEUED task due at `now` onto the expired list, in (deadline, seq) order. */
static void sweep(struct octo_queue *q, octo_tick now)
{
    while (q->heap_len > 0) {
        uint32_t slot = q->dl[0];
        octo_tick deadline = q->slots[slot].task.deadline;
        if (deadline == OCTO_QUEUE_NEVER || deadline > now)
            break;
        heaps_remove(q, slot);
        expired_append(q, slot);
        q->counts.queued--;
        q->counts.expired++;
        q->counts.expired_total++;
    }
}

/* ---- public API ---- */

int octo_queue_init(struct octo_queue *q, const struct octo_queue_config *cfg)
{
    OCTO_ASSERT(q != NULL);
    memset(q, 0, sizeof(*q));
    uint32_t queued_max = OCTO_QUEUE_QUEUED_DEFAULT;
    uint32_t in_flight_max = OCTO_QUEUE_IN_FLIGHT_DEFAULT;
    if (cfg != NULL) {
        if (cfg->queued_max > OCTO_QUEUE_TASKS_MAX || cfg->in_flight_max > OCTO_QUEUE_TASKS_MAX)
            return OCTO_ETOOBIG;
        if (cfg->queued_max != 0)
            queued_max = cfg->queued_max;
        if (cfg->in_flight_max != 0)
            in_flight_max = cfg->in_flight_max;
        q->hash_key = cfg->hash_key;
    }
    uint32_t slots = queued_max + in_flight_max; /* <= 2^21 */
    uint32_t index_len = 1;
    while (index_len < 2 * slots)
        index_len *= 2;

    q->slots = octo_calloc(slots, sizeof(*q->slots));
    q->ready = octo_calloc(queued_max, sizeof(*q->ready));
    q->dl = octo_calloc(queued_max, sizeof(*q->dl));
    q->index = octo_malloc((size_t)index_len * sizeof(*q->index));
    if (q->slots == NULL || q->ready == NULL || q->dl == NULL || q->index == NULL) {
        octo_queue_deinit(q);
        return OCTO_ENOMEM;
    }
    memset(q->index, 0xff, (size_t)index_len * sizeof(*q->index)); /* all NIL */
    for (uint32_t i = 0; i < slots; i++) {
        q->slots[i].state = OCTO_QUEUE_FREE;
        q->slots[i].prev = NIL;
        q->slots[i].next = i + 1 < slots ? i + 1 : NIL;
    }
    q->slots_count = slots;
    q->index_mask = index_len - 1;
    q->queued_max = queued_max;
    q->in_flight_max = in_flight_max;
    q->free_head = 0;
    q->expired_head = NIL;
    q->expired_tail = NIL;
    return 0;
}

void octo_queue_deinit(struct octo_queue *q)
{
    octo_free(q->slots);
    octo_free(q->ready);
    octo_free(q->dl);
    octo_free(q->index);
    memset(q, 0, sizeof(*q));
}

int octo_queue_enqueue(struct octo_queue *q, const struct octo_queue_task *t, octo_tick now)
{
    OCTO_ASSERT(q->slots != NULL);
    OCTO_ASSERT(t != NULL);
    if (t->priority > OCTO_QUEUE_PRIORITY_MAX)
        return OCTO_EINVAL;
    if (index_find(q, t->id) != NIL)
        return OCTO_EEXIST;
    if (t->deadline != OCTO_QUEUE_NEVER && t->deadline <= now)
        return OCTO_ETIMEDOUT;
    if (q->counts.queued + q->counts.expired >= q->queued_max) {
        q->counts.rejected_full_total++;
        return OCTO_EBUSY;
    }
    uint32_t slot = slot_alloc(q);
    struct octo_queue_slot *s = &q->slots[slot];
    s->task = *t;
    s->task.enqueued = now;
    s->seq = q->seq_next++;
    s->state = OCTO_QUEUE_QUEUED;
    s->prev = NIL;
    s->next = NIL;
    index_insert(q, slot);
    heaps_insert(q, slot);
    q->counts.queued++;
    q->counts.enqueued_total++;
    return 0;
}

int octo_queue_dequeue(struct octo_queue *q, octo_tick now, struct octo_queue_task *out)
{
    OCTO_ASSERT(q->slots != NULL);
    OCTO_ASSERT(out != NULL);
    sweep(q, now);
    if (q->heap_len == 0)
        return OCTO_ENOTFOUND;
    if (q->counts.in_flight >= q->in_flight_max)
        return OCTO_EBUSY;
    uint32_t slot = q->ready[0];
    heaps_remove(q, slot);
    struct octo_queue_slot *s = &q->slots[slot];
    s->state = OCTO_QUEUE_IN_FLIGHT;
    *out = s->task;
    q->counts.queued--;
    q->counts.in_flight++;
    q->counts.dispatched_total++;
    return 0;
}

int octo_queue_expire(struct octo_queue *q, octo_tick now, struct octo_queue_task *out)
{
    OCTO_ASSERT(q->slots != NULL);
    OCTO_ASSERT(out != NULL);
    sweep(q, now);
    uint32_t slot = q->expired_head;
    if (slot == NIL)
        return OCTO_ENOTFOUND;
    expired_unlink(q, slot);
    *out = q->slots[slot].task;
    uint32_t pos = index_find(q, out->id);
    slot_release(q, pos, slot);
    q->counts.expired--;
    return 0;
}

int octo_queue_cancel(struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN],
                      struct octo_queue_task *out)
{
    OCTO_ASSERT(q->slots != NULL);
    uint32_t pos = index_find(q, id);
    if (pos == NIL)
        return OCTO_ENOTFOUND;
    uint32_t slot = q->index[pos];
    struct octo_queue_slot *s = &q->slots[slot];
    switch (s->state) {
    case OCTO_QUEUE_QUEUED:
        heaps_remove(q, slot);
        q->counts.queued--;
        break;
    case OCTO_QUEUE_EXPIRED:
        expired_unlink(q, slot);
        q->counts.expired--;
        break;
    case OCTO_QUEUE_IN_FLIGHT:
        return OCTO_ESTATE;
    default:
        OCTO_UNREACHABLE();
    }
    if (out != NULL)
        *out = s->task;
    q->counts.cancelled_total++;
    slot_release(q, pos, slot);
    return 0;
}

int octo_queue_done(struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN],
                    struct octo_queue_task *out)
{
    OCTO_ASSERT(q->slots != NULL);
    uint32_t pos = index_find(q, id);
    if (pos == NIL)
        return OCTO_ENOTFOUND;
    uint32_t slot = q->index[pos];
    if (q->slots[slot].state != OCTO_QUEUE_IN_FLIGHT)
        return OCTO_ESTATE;
    if (out != NULL)
        *out = q->slots[slot].task;
    OCTO_ASSERT(q->counts.in_flight > 0);
    q->counts.in_flight--;
    q->counts.done_total++;
    slot_release(q, pos, slot);
    return 0;
}

int octo_queue_lookup(const struct octo_queue *q, const uint8_t id[OCTO_QUEUE_ID_LEN],
                      struct octo_queue_task *out)
{
    OCTO_ASSERT(q->slots != NULL);
    uint32_t pos = index_find(q, id);
    if (pos == NIL)
        return OCTO_ENOTFOUND;
    const struct octo_queue_slot *s = &q->slots[q->index[pos]];
    OCTO_ASSERT(s->state != OCTO_QUEUE_FREE);
    if (out != NULL)
        *out = s->task;
    return s->state;
}

octo_tick octo_queue_next_deadline(const struct octo_queue *q)
{
    if (q->expired_head != NIL)
        return 0;
    if (q->heap_len == 0)
        return OCTO_QUEUE_NEVER;
    return q->slots[q->dl[0]].task.deadline;
}

void octo_queue_counts(const struct octo_queue *q, struct octo_queue_counts *out)
{
    *out = q->counts;
}

/* ---- invariant check ---- */

static bool heap_ok(const struct octo_queue *q, enum heap_kind k)
{
    const uint32_t *h = k == HEAP_READY ? q->ready : q->dl;
    for (uint32_t i = 0; i < q->heap_len; i++) {
        uint32_t slot = h[i];
        if (slot >= q->slots_count || q->slots[slot].state != OCTO_QUEUE_QUEUED)
            return false;
        uint32_t pos = k == HEAP_READY ? q->slots[slot].ready_pos : q->slots[slot].dl_pos;
        if (pos != i)
            return false;
        if (i > 0 && heap_before(q, k, slot, h[(i - 1) / 2]))
            return false;
    }
    return true;
}

bool octo_queue_invariants_ok(const struct octo_queue *q)
{
    if (!heap_ok(q, HEAP_READY) || !heap_ok(q, HEAP_DL))
        return false;
    uint32_t by_state[4] = {0};
    for (uint32_t i = 0; i < q->slots_count; i++) {
        const struct octo_queue_slot *s = &q->slots[i];
        if (s->state > OCTO_QUEUE_EXPIRED)
            return false;
        by_state[s->state]++;
        if (s->state != OCTO_QUEUE_FREE) {
            uint32_t pos = index_find(q, s->task.id);
            if (pos == NIL || q->index[pos] != i)
                return false;
        }
    }
    uint32_t indexed = 0;
    for (uint32_t i = 0; i <= q->index_mask; i++)
        indexed += q->index[i] != NIL;
    uint32_t held =
        by_state[OCTO_QUEUE_QUEUED] + by_state[OCTO_QUEUE_IN_FLIGHT] + by_state[OCTO_QUEUE_EXPIRED];
    if (indexed != held)
        return false;
    if (by_state[OCTO_QUEUE_QUEUED] != q->counts.queued || q->counts.queued != q->heap_len)
        return false;
    if (by_state[OCTO_QUEUE_IN_FLIGHT] != q->counts.in_flight ||
        q->counts.in_flight > q->in_flight_max)
        return false;
    if (by_state[OCTO_QUEUE_EXPIRED] != q->counts.expired ||
        q->counts.queued + q->counts.expired > q->queued_max)
        return false;
    /* Expired list: forward walk with consistent back links, in (deadline, seq) order. */
    uint32_t n = 0, prev = NIL;
    for (uint32_t s = q->expired_head; s != NIL; s = q->slots[s].next) {
        if (n++ > q->slots_count || q->slots[s].state != OCTO_QUEUE_EXPIRED ||
            q->slots[s].prev != prev)
            return false;
        prev = s;
    }
    if (n != q->counts.expired || prev != q->expired_tail)
        return false;
    uint32_t free_n = 0;
    for (uint32_t s = q->free_head; s != NIL; s = q->slots[s].next) {
        if (free_n++ > q->slots_count || q->slots[s].state != OCTO_QUEUE_FREE)
            return false;
    }
    return free_n == by_state[OCTO_QUEUE_FREE];
}
