/*
 * registry.c — the provider registry (design and contracts in registry.h).
 *
 * Postings: a posting is (slot << 5) | model index within the entry, so a candidate leads
 * straight to its entry and model; OCTO_REGISTRY_PROVIDERS_LIMIT keeps it below the dead
 * marker. Removing a pair marks its posting dead; a list is compacted (stably, fixing the
 * moved pairs' posting_pos) once at least half of it and at least COMPACT_MIN postings are
 * dead, so removal is O(1) amortised and queries only skip a bounded share of dead postings.
 * A model whose list holds no live posting is released: its name freed, its id reused.
 *
 * Upsert is all-or-nothing: everything that can fail (validation, limits, interning new
 * names, reserving posting and slot capacity, the entry's block) happens before the first
 * change; names interned for a failed upsert are released again. models_max counts the
 * names in use after the upsert: when a replacement brings in a new name while the limit is
 * reached and its old advert was the only user of some names it drops, the new name is
 * "deferred": its copy and posting list are allocated in the prepare step, and the commit
 * gives it the id of a released name once the old postings are gone.
 *
 * Change stamps: model_touch renews a model's stamp from reg->stamp_last (creation, posting
 * added or removed, a listing entry replaced). Compaction moves postings but changes neither
 * the set nor any entry, so it keeps the stamp.
 *
 * Hash tables: linear probing over power-of-two tables at least twice the maximum entry
 * count (so probing always ends at an empty bucket), deletion by backward shift (no
 * tombstones). Hashes are SipHash-2-4 (libsodium crypto_shorthash) under the config key.
 */
#include "intel/registry.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <sodium.h>
#include <string.h>

#define NONE UINT32_MAX
#define POSTING_REF_BITS 5
#define POSTING_REF_MASK ((UINT32_C(1) << POSTING_REF_BITS) - 1)
#define POSTING_DEAD UINT32_MAX
#define COMPACT_MIN 16
#define SLOTS_INITIAL 64
#define MODELS_INITIAL 16
#define POSTINGS_INITIAL 4

#define KEY_ISOLATION_MASK UINT32_C(0x000000ff)
#define KEY_CONTINENT_MASK UINT32_C(0x0000ff00)
#define KEY_COUNTRY_MASK UINT32_C(0xffff0000)

_Static_assert(OCTO_ADVERT_MODELS_MAX <= (1u << POSTING_REF_BITS), "model index fits a posting");
_Static_assert(((uint64_t)OCTO_REGISTRY_PROVIDERS_LIMIT << POSTING_REF_BITS) < POSTING_DEAD,
               "postings stay below the dead marker");
_Static_assert(OCTO_REGISTRY_HASH_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key size");
_Static_assert(OCTO_REGISTRY_MODELS_LIMIT <= UINT32_MAX / 4, "model table size fits");
_Static_assert(OCTO_ADVERT_ENDPOINT_MAX <= UINT16_MAX, "endpoint length fits 2 bytes");

struct octo_registry_modelrec {
    char *name;         /* NULL while the id is free */
    uint32_t *postings; /* in posting order; POSTING_DEAD marks removed pairs */
    uint32_t len;
    uint32_t cap;
    uint32_t dead;
    uint32_t next_free; /* free-list link while the id is free */
    uint64_t stamp;     /* change stamp, 0 while the id is free */
};

/* A model name created late in a replacement (see the design comment). */
struct deferred {
    char *name;
    uint32_t *postings;
    uint32_t cap;
};

/* What upsert_prepare reserved for the commit. */
struct upsert_plan {
    uint32_t ids[OCTO_ADVERT_MODELS_MAX];
    bool created[OCTO_ADVERT_MODELS_MAX];
    int8_t deferred_of[OCTO_ADVERT_MODELS_MAX]; /* index into deferred, -1 if none */
    struct deferred deferred[OCTO_ADVERT_MODELS_MAX];
    size_t deferred_count;
    struct octo_registry_model *block;
};

/* ---- hashing and tables ---- */

static uint64_t hash_bytes(const struct octo_registry *reg, const void *p, size_t len)
{
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, p, len, reg->cfg.hash_key);
    uint64_t h = 0;
    for (size_t i = 0; i < 8; i++)
        h |= (uint64_t)out[i] << (8 * i);
    return h;
}

static uint32_t peer_home(const struct octo_registry *reg, const struct octo_peerid *id)
{
    return (uint32_t)hash_bytes(reg, id->bytes, id->len) & reg->pmask;
}

static uint32_t model_home(const struct octo_registry *reg, const char *name)
{
    return (uint32_t)hash_bytes(reg, name, strlen(name)) & reg->mmask;
}

/* Slot of a provider or NONE; *bucket receives its bucket or the empty one ending the probe. */
static uint32_t peer_find(const struct octo_registry *reg, const struct octo_peerid *id,
                          uint32_t *bucket)
{
    uint32_t i = peer_home(reg, id);
    for (;;) {
        uint32_t v = reg->ptable[i];
        if (v == 0 || octo_peerid_equal(&reg->entries[v - 1].provider, id)) {
            *bucket = i;
            return v == 0 ? NONE : v - 1;
        }
        i = (i + 1) & reg->pmask;
    }
}

static uint32_t model_find(const struct octo_registry *reg, const char *name, uint32_t *bucket)
{
    uint32_t i = model_home(reg, name);
    for (;;) {
        uint32_t v = reg->mtable[i];
        if (v == 0 || strcmp(reg->models[v - 1].name, name) == 0) {
            *bucket = i;
            return v == 0 ? NONE : v - 1;
        }
        i = (i + 1) & reg->mmask;
    }
}

/* Empties bucket i of a linear-probing table and shifts later members of its cluster back
 * so that every member stays reachable from its home bucket. */
static void table_delete(const struct octo_registry *reg, uint32_t *table, uint32_t mask,
                         uint32_t i, bool peers)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t v = table[j];
        if (v == 0)
            break;
        uint32_t home = peers ? peer_home(reg, &reg->entries[v - 1].provider)
                              : model_home(reg, reg->models[v - 1].name);
        /* v stays if its home lies cyclically in (i, j] */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        table[i] = v;
        i = j;
    }
    table[i] = 0;
}

static uint32_t table_size_for(uint32_t max)
{
    uint32_t size = 16;
    while (size < 2 * max)
        size *= 2;
    return size;
}

/* ---- filter keys ---- */

static uint32_t key_country(const char *c)
{
    return ((uint32_t)(uint8_t)c[0] << 16) | ((uint32_t)(uint8_t)c[1] << 24);
}

static uint32_t key_of(const struct octo_advert *a)
{
    return (uint32_t)a->isolation | (octo_advert_continent_index(a->continent) << 8) |
           key_country(a->country);
}

/* ---- expiry heap ---- */

static bool heap_less(const struct octo_registry *reg, uint32_t a, uint32_t b)
{
    uint64_t ea = reg->entries[a].expiry_ms;
    uint64_t eb = reg->entries[b].expiry_ms;
    return ea < eb || (ea == eb && a < b);
}

static void heap_set(struct octo_registry *reg, uint32_t pos, uint32_t slot)
{
    reg->heap[pos] = slot;
    reg->entries[slot].heap_pos = pos;
}

static void heap_up(struct octo_registry *reg, uint32_t pos)
{
    uint32_t slot = reg->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!heap_less(reg, slot, reg->heap[parent]))
            break;
        heap_set(reg, pos, reg->heap[parent]);
        pos = parent;
    }
    heap_set(reg, pos, slot);
}

static void heap_down(struct octo_registry *reg, uint32_t pos)
{
    uint32_t slot = reg->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= reg->count)
            break;
        if (child + 1 < reg->count && heap_less(reg, reg->heap[child + 1], reg->heap[child]))
            child++;
        if (!heap_less(reg, reg->heap[child], slot))
            break;
        heap_set(reg, pos, reg->heap[child]);
        pos = child;
    }
    heap_set(reg, pos, slot);
}

/* Removes slot from the heap; reg->count must still include it and is decremented. */
static void heap_remove(struct octo_registry *reg, uint32_t slot)
{
    uint32_t pos = reg->entries[slot].heap_pos;
    OCTO_ASSERT(pos < reg->count);
    OCTO_ASSERT(reg->heap[pos] == slot);
    reg->count--;
    if (pos == reg->count)
        return;
    uint32_t moved = reg->heap[reg->count];
    heap_set(reg, pos, moved);
    heap_up(reg, pos);
    heap_down(reg, reg->entries[moved].heap_pos);
}

/* ---- init / deinit ---- */

int octo_registry_init(struct octo_registry *reg, const struct octo_registry_config *cfg)
{
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(cfg != NULL);
    memset(reg, 0, sizeof(*reg));
    reg->free_head = NONE;
    reg->models_free = NONE;
    if (cfg->providers_max == 0 || cfg->providers_max > OCTO_REGISTRY_PROVIDERS_LIMIT)
        return OCTO_EINVAL;
    if (cfg->models_max == 0 || cfg->models_max > OCTO_REGISTRY_MODELS_LIMIT)
        return OCTO_EINVAL;
    reg->cfg = *cfg;
    uint32_t psize = table_size_for(cfg->providers_max);
    uint32_t msize = table_size_for(cfg->models_max);
    reg->ptable = octo_calloc(psize, sizeof(uint32_t));
    reg->mtable = octo_calloc(msize, sizeof(uint32_t));
    if (reg->ptable == NULL || reg->mtable == NULL) {
        octo_registry_deinit(reg);
        return OCTO_ENOMEM;
    }
    reg->pmask = psize - 1;
    reg->mmask = msize - 1;
    return 0;
}

void octo_registry_deinit(struct octo_registry *reg)
{
    OCTO_ASSERT(reg != NULL);
    for (uint32_t s = 0; s < reg->slots_used; s++)
        octo_free(reg->entries[s].models);
    for (uint32_t m = 0; m < reg->models_used; m++) {
        octo_free(reg->models[m].name);
        octo_free(reg->models[m].postings);
    }
    octo_free(reg->entries);
    octo_free(reg->keys);
    octo_free(reg->heap);
    octo_free(reg->ptable);
    octo_free(reg->models);
    octo_free(reg->mtable);
    memset(reg, 0, sizeof(*reg));
    reg->free_head = NONE;
    reg->models_free = NONE;
}

/* ---- capacity ---- */

/* Grows an array of count elements of size bytes to new_count; *p is updated on success. */
static int grow(void **p, uint32_t new_count, size_t size)
{
    void *q = octo_realloc(*p, (size_t)new_count * size);
    if (q == NULL)
        return OCTO_ENOMEM;
    *p = q;
    return 0;
}

/* Makes sure a slot can be allocated (count < providers_max is checked by the caller). */
static int slots_reserve(struct octo_registry *reg)
{
    if (reg->free_head != NONE || reg->slots_used < reg->slots_cap)
        return 0;
    OCTO_ASSERT(reg->slots_cap < reg->cfg.providers_max);
    uint32_t cap = reg->slots_cap == 0 ? SLOTS_INITIAL : reg->slots_cap * 2;
    if (cap > reg->cfg.providers_max || cap < reg->slots_cap)
        cap = reg->cfg.providers_max;
    /* each array keeps its old contents if a later one fails; slots_cap moves last */
    if (grow((void **)&reg->entries, cap, sizeof(*reg->entries)) < 0 ||
        grow((void **)&reg->keys, cap, sizeof(*reg->keys)) < 0 ||
        grow((void **)&reg->heap, cap, sizeof(*reg->heap)) < 0)
        return OCTO_ENOMEM;
    reg->slots_cap = cap;
    return 0;
}

static uint32_t slot_alloc(struct octo_registry *reg)
{
    uint32_t s;
    if (reg->free_head != NONE) {
        s = reg->free_head;
        reg->free_head = reg->entries[s].heap_pos;
    } else {
        OCTO_ASSERT(reg->slots_used < reg->slots_cap);
        s = reg->slots_used++;
    }
    memset(&reg->entries[s], 0, sizeof(reg->entries[s]));
    return s;
}

static int postings_reserve(struct octo_registry_modelrec *rec, uint32_t extra)
{
    if (extra <= rec->cap - rec->len)
        return 0;
    uint64_t need = (uint64_t)rec->len + extra;
    uint64_t cap = rec->cap == 0 ? POSTINGS_INITIAL : (uint64_t)rec->cap * 2;
    if (cap < need)
        cap = need;
    if (cap > (uint64_t)OCTO_REGISTRY_PROVIDERS_LIMIT * OCTO_ADVERT_MODELS_MAX)
        return OCTO_ELIMIT; /* cannot happen within the provider limit */
    if (grow((void **)&rec->postings, (uint32_t)cap, sizeof(uint32_t)) < 0)
        return OCTO_ENOMEM;
    rec->cap = (uint32_t)cap;
    return 0;
}

/* ---- models ---- */

static void model_touch(struct octo_registry *reg, uint32_t m)
{
    reg->models[m].stamp = ++reg->stamp_last;
}

/* Finds or creates the id of a model name. *created tells whether this call made it. */
static int model_intern(struct octo_registry *reg, const char *name, uint32_t *id, bool *created)
{
    uint32_t bucket;
    uint32_t m = model_find(reg, name, &bucket);
    *created = false;
    if (m != NONE) {
        *id = m;
        return 0;
    }
    if (reg->models_live >= reg->cfg.models_max)
        return OCTO_ELIMIT;
    if (reg->models_free == NONE && reg->models_used == reg->models_cap) {
        uint32_t cap = reg->models_cap == 0 ? MODELS_INITIAL : reg->models_cap * 2;
        if (cap > reg->cfg.models_max)
            cap = reg->cfg.models_max;
        if (grow((void **)&reg->models, cap, sizeof(*reg->models)) < 0)
            return OCTO_ENOMEM;
        reg->models_cap = cap;
    }
    char *copy = octo_strdup(name);
    if (copy == NULL)
        return OCTO_ENOMEM;
    if (reg->models_free != NONE) {
        m = reg->models_free;
        reg->models_free = reg->models[m].next_free;
    } else {
        m = reg->models_used++;
    }
    struct octo_registry_modelrec *rec = &reg->models[m];
    memset(rec, 0, sizeof(*rec));
    rec->name = copy;
    reg->mtable[bucket] = m + 1;
    reg->models_live++;
    model_touch(reg, m);
    *id = m;
    *created = true;
    return 0;
}

static void model_release(struct octo_registry *reg, uint32_t m)
{
    struct octo_registry_modelrec *rec = &reg->models[m];
    OCTO_ASSERT(rec->name != NULL);
    OCTO_ASSERT(rec->len == rec->dead);
    uint32_t bucket;
    uint32_t found = model_find(reg, rec->name, &bucket);
    OCTO_ASSERT(found == m);
    table_delete(reg, reg->mtable, reg->mmask, bucket, false);
    reg->stats.postings_dead -= rec->dead;
    octo_free(rec->name);
    octo_free(rec->postings);
    memset(rec, 0, sizeof(*rec));
    rec->next_free = reg->models_free;
    reg->models_free = m;
    reg->models_live--;
}

static void model_compact(struct octo_registry *reg, uint32_t m)
{
    struct octo_registry_modelrec *rec = &reg->models[m];
    uint32_t w = 0;
    for (uint32_t r = 0; r < rec->len; r++) {
        uint32_t p = rec->postings[r];
        if (p == POSTING_DEAD)
            continue;
        struct octo_registry_entry *e = &reg->entries[p >> POSTING_REF_BITS];
        OCTO_DASSERT((p & POSTING_REF_MASK) < e->models_count);
        e->models[p & POSTING_REF_MASK].posting_pos = w;
        rec->postings[w++] = p;
    }
    OCTO_ASSERT(rec->len - w == rec->dead);
    reg->stats.postings_dead -= rec->dead;
    rec->len = w;
    rec->dead = 0;
    if (rec->cap > 64 && rec->len < rec->cap / 4) {
        uint32_t cap = rec->len * 2;
        if (grow((void **)&rec->postings, cap, sizeof(uint32_t)) == 0) /* shrinking may fail */
            rec->cap = cap;
    }
}

/* After postings of m died: releases the model when none lives, compacts when half is dead. */
static void model_tidy(struct octo_registry *reg, uint32_t m)
{
    struct octo_registry_modelrec *rec = &reg->models[m];
    if (rec->name == NULL)
        return; /* already released by an earlier tidy of the same id */
    if (rec->dead == rec->len)
        model_release(reg, m);
    else if (rec->dead >= COMPACT_MIN && rec->dead >= rec->len / 2)
        model_compact(reg, m);
}

static uint32_t posting_append(struct octo_registry *reg, uint32_t m, uint32_t posting)
{
    struct octo_registry_modelrec *rec = &reg->models[m];
    OCTO_ASSERT(rec->len < rec->cap); /* reserved before the commit */
    rec->postings[rec->len] = posting;
    reg->stats.postings++;
    model_touch(reg, m);
    return rec->len++;
}

static void posting_kill(struct octo_registry *reg, uint32_t m, uint32_t pos)
{
    struct octo_registry_modelrec *rec = &reg->models[m];
    OCTO_ASSERT(pos < rec->len);
    OCTO_ASSERT(rec->postings[pos] != POSTING_DEAD);
    rec->postings[pos] = POSTING_DEAD;
    rec->dead++;
    reg->stats.postings--;
    reg->stats.postings_dead++;
    model_touch(reg, m);
}

/* Gives a deferred name the first free id (one was released by the commit). */
static uint32_t model_adopt(struct octo_registry *reg, const struct deferred *d)
{
    OCTO_ASSERT(reg->models_free != NONE);
    OCTO_ASSERT(reg->models_live < reg->cfg.models_max);
    uint32_t m = reg->models_free;
    reg->models_free = reg->models[m].next_free;
    struct octo_registry_modelrec *rec = &reg->models[m];
    memset(rec, 0, sizeof(*rec));
    rec->name = d->name;
    rec->postings = d->postings;
    rec->cap = d->cap;
    uint32_t bucket;
    uint32_t found = model_find(reg, d->name, &bucket);
    OCTO_ASSERT(found == NONE);
    reg->mtable[bucket] = m + 1;
    reg->models_live++;
    model_touch(reg, m);
    return m;
}

/* ---- entry blocks ---- */

static const uint8_t *entry_tail(const struct octo_registry_entry *e)
{
    return (const uint8_t *)(e->models + e->models_count);
}

static size_t block_size(const struct octo_advert *a)
{
    size_t size = a->models_count * sizeof(struct octo_registry_model);
    for (size_t i = 0; i < a->endpoints_count; i++)
        size += 2 + a->endpoints[i].len;
    return size + a->attestation_len;
}

/* Allocates the entry block and fills everything but the model ids and posting positions. */
static struct octo_registry_model *block_build(const struct octo_advert *a)
{
    struct octo_registry_model *models = octo_malloc(block_size(a));
    if (models == NULL)
        return NULL;
    for (size_t i = 0; i < a->models_count; i++) {
        struct octo_registry_model *dst = &models[i];
        memset(dst, 0, sizeof(*dst));
        dst->context_len = a->models[i].context_len;
        memcpy(dst->weights_hash, a->models[i].weights_hash, OCTO_ADVERT_HASH_LEN);
        memcpy(dst->quant, a->models[i].quant, sizeof(dst->quant));
    }
    uint8_t *tail = (uint8_t *)(models + a->models_count);
    for (size_t i = 0; i < a->endpoints_count; i++) {
        uint16_t len = a->endpoints[i].len;
        tail[0] = (uint8_t)(len & 0xff);
        tail[1] = (uint8_t)(len >> 8);
        memcpy(tail + 2, a->endpoints[i].bytes, len);
        tail += 2 + len;
    }
    if (a->attestation_len > 0)
        memcpy(tail, a->attestation, a->attestation_len);
    return models;
}

const uint8_t *octo_registry_endpoint(const struct octo_registry_entry *e, size_t i, size_t *len)
{
    OCTO_ASSERT(e != NULL);
    OCTO_ASSERT(len != NULL);
    OCTO_ASSERT(i < e->endpoints_count);
    const uint8_t *p = entry_tail(e);
    for (size_t k = 0;; k++) {
        size_t n = (size_t)p[0] | ((size_t)p[1] << 8);
        if (k == i) {
            *len = n;
            return p + 2;
        }
        p += 2 + n;
    }
}

const uint8_t *octo_registry_attestation(const struct octo_registry_entry *e)
{
    OCTO_ASSERT(e != NULL);
    if (e->attestation_len == 0)
        return NULL;
    const uint8_t *p = entry_tail(e);
    for (size_t k = 0; k < e->endpoints_count; k++)
        p += 2 + ((size_t)p[0] | ((size_t)p[1] << 8));
    return p;
}

/* ---- upsert ---- */

/* Releases the models a failed upsert created (they hold no posting yet) and the memory of
 * its deferred names. */
static void plan_undo(struct octo_registry *reg, struct upsert_plan *pl, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (pl->created[i])
            model_release(reg, pl->ids[i]);
    }
    for (size_t d = 0; d < pl->deferred_count; d++) {
        octo_free(pl->deferred[d].name);
        octo_free(pl->deferred[d].postings);
    }
    pl->deferred_count = 0;
}

/* How many model ids replacing slot s by a releases: ids whose every live posting belongs
 * to the old advert and whose name the new advert does not list. */
static uint32_t releasable_models(const struct octo_registry *reg, uint32_t s,
                                  const struct octo_advert *a)
{
    const struct octo_registry_entry *e = &reg->entries[s];
    uint32_t n = 0;
    for (size_t j = 0; j < e->models_count; j++) {
        uint32_t m = e->models[j].model_id;
        bool first = true;
        uint32_t mine = 0;
        for (size_t k = 0; k < e->models_count; k++) {
            if (e->models[k].model_id == m) {
                mine++;
                first = first && k >= j;
            }
        }
        const struct octo_registry_modelrec *rec = &reg->models[m];
        if (!first || rec->len - rec->dead != mine)
            continue;
        bool named = false;
        for (size_t k = 0; k < a->models_count && !named; k++)
            named = strcmp(rec->name, a->models[k].name) == 0;
        n += !named;
    }
    return n;
}

/* Reserves a deferred name's copy and posting list (at most `postings` postings). */
static int defer_model(struct upsert_plan *pl, const char *name, size_t postings)
{
    struct deferred *d = &pl->deferred[pl->deferred_count];
    d->cap = postings > POSTINGS_INITIAL ? (uint32_t)postings : POSTINGS_INITIAL;
    d->name = octo_strdup(name);
    d->postings = octo_malloc(d->cap * sizeof(uint32_t));
    if (d->name == NULL || d->postings == NULL) {
        octo_free(d->name);
        octo_free(d->postings);
        return OCTO_ENOMEM;
    }
    pl->deferred_count++;
    return 0;
}

/* Finds, creates or defers the id of advert model n (s: the replaced slot or NONE). */
static int plan_model(struct octo_registry *reg, const struct octo_advert *a, size_t n, uint32_t s,
                      struct upsert_plan *pl, uint32_t *releasable)
{
    const char *name = a->models[n].name;
    pl->deferred_of[n] = -1;
    for (size_t d = 0; d < pl->deferred_count; d++) {
        if (strcmp(pl->deferred[d].name, name) == 0) {
            pl->deferred_of[n] = (int8_t)d;
            return 0;
        }
    }
    int rc = model_intern(reg, name, &pl->ids[n], &pl->created[n]);
    if (rc != OCTO_ELIMIT || s == NONE)
        return rc;
    if (*releasable == NONE)
        *releasable = releasable_models(reg, s, a);
    if (pl->deferred_count >= *releasable)
        return OCTO_ELIMIT;
    pl->deferred_of[n] = (int8_t)pl->deferred_count;
    return defer_model(pl, name, a->models_count);
}

/* Everything that can fail, before the first change. */
static int upsert_prepare(struct octo_registry *reg, const struct octo_advert *a, uint32_t s,
                          struct upsert_plan *pl)
{
    size_t n = 0;
    int rc = 0;
    uint32_t releasable = NONE;
    pl->deferred_count = 0;
    for (; n < a->models_count; n++) {
        rc = plan_model(reg, a, n, s, pl, &releasable);
        if (rc < 0)
            break;
    }
    for (size_t i = 0; rc == 0 && i < a->models_count; i++) {
        if (pl->deferred_of[i] < 0)
            rc = postings_reserve(&reg->models[pl->ids[i]], (uint32_t)a->models_count);
    }
    if (rc == 0 && s == NONE)
        rc = slots_reserve(reg);
    if (rc == 0) {
        pl->block = block_build(a);
        if (pl->block == NULL)
            rc = OCTO_ENOMEM;
    }
    if (rc < 0)
        plan_undo(reg, pl, n);
    return rc;
}

static void entry_fill(struct octo_registry_entry *e, const struct octo_advert *a,
                       struct octo_registry_model *block)
{
    e->provider = a->provider;
    e->seq = a->seq;
    e->expiry_ms = a->expiry_ms;
    e->price_in_per_mtok = a->price_in_per_mtok;
    e->price_out_per_mtok = a->price_out_per_mtok;
    e->max_concurrency = a->max_concurrency;
    e->hw_tier = a->hw_tier;
    e->isolation = a->isolation;
    e->models_count = (uint8_t)a->models_count;
    e->endpoints_count = (uint8_t)a->endpoints_count;
    memcpy(e->country, a->country, sizeof(e->country));
    memcpy(e->continent, a->continent, sizeof(e->continent));
    e->attestation_len = a->attestation_len;
    e->models = block;
}

static void commit_new(struct octo_registry *reg, const struct octo_advert *a, uint32_t bucket,
                       const uint32_t *ids, struct octo_registry_model *block, uint32_t *slot)
{
    uint32_t s = slot_alloc(reg);
    struct octo_registry_entry *e = &reg->entries[s];
    entry_fill(e, a, block);
    if (++reg->incarnation_last == 0)
        reg->incarnation_last = 1;
    e->incarnation = reg->incarnation_last;
    for (size_t i = 0; i < a->models_count; i++) {
        block[i].model_id = ids[i];
        block[i].posting_pos = posting_append(reg, ids[i], (s << POSTING_REF_BITS) | (uint32_t)i);
    }
    reg->keys[s] = key_of(a);
    reg->ptable[bucket] = s + 1;
    reg->heap[reg->count] = s;
    e->heap_pos = reg->count;
    reg->count++;
    heap_up(reg, e->heap_pos);
    *slot = s;
}

static void commit_replace(struct octo_registry *reg, uint32_t s, const struct octo_advert *a,
                           const struct upsert_plan *pl)
{
    struct octo_registry_entry *e = &reg->entries[s];
    struct octo_registry_model *block = pl->block;
    struct octo_registry_model *old = e->models;
    size_t old_count = e->models_count;
    bool kept[OCTO_ADVERT_MODELS_MAX] = {false};
    for (size_t i = 0; i < a->models_count; i++) {
        if (pl->deferred_of[i] >= 0)
            continue; /* a new name: after the old postings are gone */
        uint32_t posting = (s << POSTING_REF_BITS) | (uint32_t)i;
        uint32_t id = pl->ids[i];
        block[i].model_id = id;
        size_t j = 0;
        while (j < old_count &&
               (kept[j] || old[j].model_id != id || strcmp(old[j].quant, block[i].quant) != 0))
            j++;
        if (j < old_count) {
            kept[j] = true;
            block[i].posting_pos = old[j].posting_pos;
            reg->models[id].postings[old[j].posting_pos] = posting;
            model_touch(reg, id); /* the entry behind the posting changed */
        } else {
            block[i].posting_pos = posting_append(reg, id, posting);
        }
    }
    uint32_t heap_pos = e->heap_pos;
    entry_fill(e, a, block);
    e->heap_pos = heap_pos;
    reg->keys[s] = key_of(a);
    heap_up(reg, heap_pos);
    heap_down(reg, e->heap_pos);
    for (size_t j = 0; j < old_count; j++) {
        if (!kept[j])
            posting_kill(reg, old[j].model_id, old[j].posting_pos);
    }
    for (size_t j = 0; j < old_count; j++) {
        if (!kept[j])
            model_tidy(reg, old[j].model_id);
    }
    octo_free(old);
    uint32_t adopted[OCTO_ADVERT_MODELS_MAX];
    for (size_t d = 0; d < pl->deferred_count; d++)
        adopted[d] = model_adopt(reg, &pl->deferred[d]);
    for (size_t i = 0; i < a->models_count; i++) {
        if (pl->deferred_of[i] < 0)
            continue;
        uint32_t id = adopted[pl->deferred_of[i]];
        block[i].model_id = id;
        block[i].posting_pos = posting_append(reg, id, (s << POSTING_REF_BITS) | (uint32_t)i);
    }
}

int octo_registry_upsert(struct octo_registry *reg, const struct octo_advert *a, uint64_t now_ms,
                         uint32_t *index, enum octo_advert_reason *reason)
{
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(reg->ptable != NULL);
    int rc = octo_advert_validate(a, now_ms, reason);
    if (rc < 0) {
        reg->stats.rejected++;
        return rc;
    }
    uint32_t bucket;
    uint32_t s = peer_find(reg, &a->provider, &bucket);
    if (s != NONE && a->seq <= reg->entries[s].seq) {
        reg->stats.stale++;
        if (index != NULL)
            *index = s;
        return OCTO_REGISTRY_STALE;
    }
    if (s == NONE && reg->count >= reg->cfg.providers_max) {
        reg->stats.rejected++;
        return OCTO_ELIMIT;
    }
    struct upsert_plan pl;
    memset(pl.created, 0, sizeof(pl.created));
    rc = upsert_prepare(reg, a, s, &pl);
    if (rc < 0) {
        reg->stats.rejected++;
        return rc;
    }
    if (s == NONE) {
        OCTO_ASSERT(pl.deferred_count == 0);
        commit_new(reg, a, bucket, pl.ids, pl.block, &s);
        reg->stats.inserted++;
        rc = OCTO_REGISTRY_INSERTED;
    } else {
        commit_replace(reg, s, a, &pl);
        reg->stats.replaced++;
        rc = OCTO_REGISTRY_REPLACED;
    }
    if (index != NULL)
        *index = s;
    return rc;
}

/* ---- removal ---- */

static void remove_slot(struct octo_registry *reg, uint32_t s)
{
    struct octo_registry_entry *e = &reg->entries[s];
    OCTO_ASSERT(e->models_count > 0);
    for (size_t i = 0; i < e->models_count; i++)
        posting_kill(reg, e->models[i].model_id, e->models[i].posting_pos);
    for (size_t i = 0; i < e->models_count; i++)
        model_tidy(reg, e->models[i].model_id);
    uint32_t bucket;
    uint32_t found = peer_find(reg, &e->provider, &bucket);
    OCTO_ASSERT(found == s);
    table_delete(reg, reg->ptable, reg->pmask, bucket, true);
    heap_remove(reg, s);
    octo_free(e->models);
    memset(e, 0, sizeof(*e));
    e->heap_pos = reg->free_head;
    reg->free_head = s;
    reg->keys[s] = 0;
}

int octo_registry_remove(struct octo_registry *reg, const struct octo_peerid *id)
{
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(id != NULL);
    if (reg->ptable == NULL || id->len > OCTO_PEERID_MAX_BYTES)
        return OCTO_ENOTFOUND;
    uint32_t bucket;
    uint32_t s = peer_find(reg, id, &bucket);
    if (s == NONE)
        return OCTO_ENOTFOUND;
    remove_slot(reg, s);
    reg->stats.removed++;
    return 0;
}

uint32_t octo_registry_expire(struct octo_registry *reg, uint64_t now_ms)
{
    OCTO_ASSERT(reg != NULL);
    uint32_t n = 0;
    while (reg->count > 0 && reg->entries[reg->heap[0]].expiry_ms <= now_ms) {
        remove_slot(reg, reg->heap[0]);
        n++;
    }
    reg->stats.expired += n;
    return n;
}

uint64_t octo_registry_next_expiry(const struct octo_registry *reg)
{
    OCTO_ASSERT(reg != NULL);
    return reg->count == 0 ? UINT64_MAX : reg->entries[reg->heap[0]].expiry_ms;
}

/* ---- lookups ---- */

const struct octo_registry_entry *octo_registry_find(const struct octo_registry *reg,
                                                     const struct octo_peerid *id, uint32_t *index)
{
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(id != NULL);
    if (reg->ptable == NULL || id->len > OCTO_PEERID_MAX_BYTES)
        return NULL;
    uint32_t bucket;
    uint32_t s = peer_find(reg, id, &bucket);
    if (s == NONE)
        return NULL;
    if (index != NULL)
        *index = s;
    return &reg->entries[s];
}

const struct octo_registry_entry *octo_registry_at(const struct octo_registry *reg, uint32_t index)
{
    OCTO_ASSERT(reg != NULL);
    if (index >= reg->slots_used || reg->entries[index].models_count == 0)
        return NULL;
    return &reg->entries[index];
}

const char *octo_registry_model_name(const struct octo_registry *reg, uint32_t model_id)
{
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(model_id < reg->models_used);
    OCTO_ASSERT(reg->models[model_id].name != NULL);
    return reg->models[model_id].name;
}

int octo_registry_advert(const struct octo_registry *reg, uint32_t index, struct octo_advert *out)
{
    OCTO_ASSERT(out != NULL);
    const struct octo_registry_entry *e = octo_registry_at(reg, index);
    if (e == NULL)
        return OCTO_ENOTFOUND;
    octo_advert_init(out);
    out->provider = e->provider;
    out->seq = e->seq;
    out->price_in_per_mtok = e->price_in_per_mtok;
    out->price_out_per_mtok = e->price_out_per_mtok;
    out->expiry_ms = e->expiry_ms;
    out->max_concurrency = e->max_concurrency;
    out->hw_tier = e->hw_tier;
    out->isolation = e->isolation;
    memcpy(out->country, e->country, sizeof(out->country));
    memcpy(out->continent, e->continent, sizeof(out->continent));
    out->models_count = e->models_count;
    for (size_t i = 0; i < e->models_count; i++) {
        const struct octo_registry_model *m = &e->models[i];
        struct octo_advert_model *dst = &out->models[i];
        const char *name = octo_registry_model_name(reg, m->model_id);
        size_t len = strlen(name);
        OCTO_ASSERT(len <= OCTO_ADVERT_NAME_MAX);
        memcpy(dst->name, name, len + 1);
        memcpy(dst->quant, m->quant, sizeof(dst->quant));
        memcpy(dst->weights_hash, m->weights_hash, OCTO_ADVERT_HASH_LEN);
        dst->context_len = m->context_len;
    }
    out->endpoints_count = e->endpoints_count;
    for (size_t i = 0; i < e->endpoints_count; i++) {
        size_t len;
        const uint8_t *p = octo_registry_endpoint(e, i, &len);
        OCTO_ASSERT(len <= OCTO_ADVERT_ENDPOINT_MAX);
        memcpy(out->endpoints[i].bytes, p, len);
        out->endpoints[i].len = (uint16_t)len;
    }
    out->attestation_len = e->attestation_len;
    if (e->attestation_len > 0)
        memcpy(out->attestation, octo_registry_attestation(e), e->attestation_len);
    return 0;
}

/* ---- candidate search ---- */

static bool query_name_ok(const char *name)
{
    size_t n = 0;
    while (n <= OCTO_ADVERT_NAME_MAX && name[n] != '\0')
        n++;
    return n > 0 && n <= OCTO_ADVERT_NAME_MAX;
}

int octo_registry_iter_init(struct octo_registry_iter *it, const struct octo_registry *reg,
                            const struct octo_registry_query *q)
{
    OCTO_ASSERT(it != NULL);
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(q != NULL);
    memset(it, 0, sizeof(*it));
    it->reg = reg;
    it->model_id = NONE;
    if (q->model == NULL || !query_name_ok(q->model))
        return OCTO_EINVAL;
    if (q->isolation_min > OCTO_ISOLATION_MAX)
        return OCTO_EINVAL;
    if (q->country != NULL) {
        const char *c = q->country;
        if (c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] != '\0')
            return OCTO_EINVAL;
        it->key_mask |= KEY_COUNTRY_MASK;
        it->key_want |= key_country(c);
    }
    if (q->continent != NULL) {
        unsigned idx = octo_advert_continent_index(q->continent);
        if (idx == 0)
            return OCTO_EINVAL;
        it->key_mask |= KEY_CONTINENT_MASK;
        it->key_want |= (uint32_t)idx << 8;
    }
    it->isolation_min = q->isolation_min;
    if (reg->mtable != NULL) {
        uint32_t bucket;
        it->model_id = model_find(reg, q->model, &bucket);
    }
    return 0;
}

bool octo_registry_iter_next(struct octo_registry_iter *it, struct octo_registry_candidate *out)
{
    OCTO_ASSERT(it != NULL);
    OCTO_ASSERT(out != NULL);
    if (it->model_id == NONE)
        return false;
    const struct octo_registry *reg = it->reg;
    const struct octo_registry_modelrec *rec = &reg->models[it->model_id];
    while (it->pos < rec->len) {
        uint32_t p = rec->postings[it->pos++];
        if (p == POSTING_DEAD)
            continue;
        uint32_t s = p >> POSTING_REF_BITS;
        uint32_t key = reg->keys[s];
        if ((key & KEY_ISOLATION_MASK) < it->isolation_min || (key & it->key_mask) != it->key_want)
            continue;
        const struct octo_registry_entry *e = &reg->entries[s];
        out->index = s;
        out->entry = e;
        out->model = &e->models[p & POSTING_REF_MASK];
        return true;
    }
    return false;
}

int octo_registry_query(const struct octo_registry *reg, const struct octo_registry_query *q,
                        octo_registry_candidate_fn fn, void *ctx)
{
    OCTO_ASSERT(fn != NULL);
    struct octo_registry_iter it;
    int rc = octo_registry_iter_init(&it, reg, q);
    if (rc < 0)
        return rc;
    int n = 0;
    struct octo_registry_candidate c;
    while (octo_registry_iter_next(&it, &c)) {
        n++;
        if (fn(ctx, &c) != 0 || n == INT32_MAX)
            break;
    }
    return n;
}

int octo_registry_model_lookup(const struct octo_registry *reg, const char *name,
                               uint32_t *model_id)
{
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(model_id != NULL);
    if (name == NULL || !query_name_ok(name))
        return OCTO_EINVAL;
    if (reg->mtable == NULL)
        return OCTO_ENOTFOUND;
    uint32_t bucket;
    uint32_t m = model_find(reg, name, &bucket);
    if (m == NONE)
        return OCTO_ENOTFOUND;
    *model_id = m;
    return 0;
}

static bool model_in_use(const struct octo_registry *reg, uint32_t model_id)
{
    return model_id < reg->models_used && reg->models[model_id].name != NULL;
}

uint64_t octo_registry_model_stamp(const struct octo_registry *reg, uint32_t model_id)
{
    OCTO_ASSERT(reg != NULL);
    return model_in_use(reg, model_id) ? reg->models[model_id].stamp : 0;
}

uint32_t octo_registry_model_size(const struct octo_registry *reg, uint32_t model_id)
{
    OCTO_ASSERT(reg != NULL);
    if (!model_in_use(reg, model_id))
        return 0;
    return reg->models[model_id].len - reg->models[model_id].dead;
}

int octo_registry_iter_model(struct octo_registry_iter *it, const struct octo_registry *reg,
                             uint32_t model_id)
{
    OCTO_ASSERT(it != NULL);
    OCTO_ASSERT(reg != NULL);
    memset(it, 0, sizeof(*it));
    it->reg = reg;
    it->model_id = NONE;
    if (!model_in_use(reg, model_id))
        return OCTO_ENOTFOUND;
    it->model_id = model_id;
    return 0;
}

void octo_registry_stats(const struct octo_registry *reg, struct octo_registry_stats *out)
{
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(out != NULL);
    *out = reg->stats;
    out->providers = reg->count;
    out->models = reg->models_live;
}
