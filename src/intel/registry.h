/*
 * registry.h — the in-memory provider registry: validated adverts keyed by provider peer id,
 * indexed for the router's candidate search by model, isolation and region.
 *
 * Storage (general heap, every table bounded by the config's maxima):
 *   - one struct octo_registry_entry per provider in a slot array (grown by doubling up to
 *     providers_max); a slot index ("registry index") is stable while the provider stays;
 *   - each entry's models, endpoints and attestation in one compact heap block sized to the
 *     advert (models by interned id: names are stored once per distinct model);
 *   - a 4-byte filter key per slot (isolation, continent, country) in its own dense array;
 *   - open-addressed hash tables (linear probing, keyed SipHash) for peer id -> slot and
 *     model name -> model id, sized at init to twice their maxima;
 *   - per model id a posting list of (slot, model index) pairs: the candidates for a model
 *     are read from its list and checked against the filter keys, never by a full scan;
 *   - an indexed min-heap of slots by expiry, so octo_registry_expire touches only the
 *     adverts that expire.
 *
 * Change tracking (for views built on top, e.g. rview.h): every model id carries a change
 * stamp taken from a registry-wide counter that only grows; it is renewed whenever a posting
 * of the model is added or removed or an entry listing the model is replaced, and a model id
 * freed and reused starts with a fresh one. Each entry carries an incarnation number.
 *
 * Determinism: candidates come out in posting order, the order in which each (provider,
 * model, quantization) was first added; a replacement advert keeps the positions of the
 * pairs it still lists and appends new ones; removal keeps the order of the rest. Hash
 * tables are only looked up, never iterated, so the hash key does not affect any output.
 * The same sequence of calls gives the same results on every node.
 *
 * Pointers to entries and models returned by lookups and iterators stay valid only until
 * the next mutating call (upsert, remove, expire, deinit). Not thread-safe. Pure: time comes
 * in as unix ms.
 */
#ifndef OCTO_INTEL_REGISTRY_H
#define OCTO_INTEL_REGISTRY_H

#include "base/err.h"
#include "crypto/peerid.h"
#include "intel/advert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_REGISTRY_PROVIDERS_LIMIT (UINT32_C(1) << 26) /* ceiling for providers_max */
#define OCTO_REGISTRY_MODELS_LIMIT (UINT32_C(1) << 22)    /* ceiling for models_max */
#define OCTO_REGISTRY_HASH_KEY_LEN 16

struct octo_registry_config {
    uint32_t providers_max; /* 1..OCTO_REGISTRY_PROVIDERS_LIMIT */
    uint32_t models_max;    /* distinct model names, 1..OCTO_REGISTRY_MODELS_LIMIT */
    /* SipHash key of the hash tables: random per node (so peers cannot aim collisions at
     * them); it changes no result, only the layout. */
    uint8_t hash_key[OCTO_REGISTRY_HASH_KEY_LEN];
};

/* One model of a registered provider. */
struct octo_registry_model {
    uint32_t model_id;    /* interned name: octo_registry_model_name */
    uint32_t posting_pos; /* internal: position in the model's posting list */
    uint32_t context_len;
    uint8_t weights_hash[OCTO_ADVERT_HASH_LEN];
    char quant[OCTO_ADVERT_QUANT_MAX + 1];
};

/* A registered provider: the advert's scalar fields inline, the rest in `models`' block. */
struct octo_registry_entry {
    struct octo_peerid provider;
    uint64_t seq;
    uint64_t expiry_ms;
    uint64_t price_in_per_mtok;
    uint64_t price_out_per_mtok;
    uint32_t max_concurrency;
    uint32_t heap_pos;    /* internal: position in the expiry heap, or the free-slot link */
    uint32_t incarnation; /* set on insert from a registry-wide counter, never 0; kept by a
                           * replacement: (slot, incarnation) names one registration, so a
                           * slot reused by another provider is told apart */
    uint8_t hw_tier;
    uint8_t isolation;
    uint8_t models_count; /* 0 marks a free slot */
    uint8_t endpoints_count;
    char country[3];
    char continent[3];
    uint16_t attestation_len;
    /* models_count models, then per endpoint a 2-byte length (little-endian) and the bytes,
     * then the attestation reference; read through the accessors below */
    struct octo_registry_model *models;
};

struct octo_registry_stats {
    uint32_t providers;     /* registered now */
    uint32_t models;        /* distinct model names in use */
    uint64_t postings;      /* (provider, model) pairs indexed */
    uint64_t postings_dead; /* removed pairs awaiting compaction */
    uint64_t inserted;      /* upserts that added a provider */
    uint64_t replaced;      /* upserts that replaced an older advert */
    uint64_t stale;         /* upserts ignored: seq not newer */
    uint64_t rejected;      /* upserts refused: invalid advert or a limit */
    uint64_t removed;       /* octo_registry_remove */
    uint64_t expired;       /* removed by octo_registry_expire */
};

struct octo_registry_modelrec;

struct octo_registry {
    struct octo_registry_config cfg;
    struct octo_registry_entry *entries; /* slots_cap slots */
    uint32_t *keys;                      /* filter key per slot */
    uint32_t *heap;                      /* slots ordered by (expiry_ms, slot) */
    uint32_t slots_cap;
    uint32_t slots_used; /* high-water mark */
    uint32_t free_head;  /* first free slot below slots_used, UINT32_MAX if none */
    uint32_t count;      /* providers, also the heap size */
    uint32_t *ptable;    /* peer id hash table: slot + 1, 0 = empty */
    uint32_t pmask;
    struct octo_registry_modelrec *models; /* models_cap model records */
    uint32_t models_cap;
    uint32_t models_used; /* high-water mark */
    uint32_t models_free; /* first free model id, UINT32_MAX if none */
    uint32_t models_live;
    uint32_t *mtable; /* model name hash table: id + 1, 0 = empty */
    uint32_t mmask;
    uint64_t stamp_last;       /* last model change stamp handed out */
    uint32_t incarnation_last; /* last entry incarnation handed out */
    struct octo_registry_stats stats;
};

/* Outcomes of octo_registry_upsert (positive). */
enum octo_registry_upsert_result {
    OCTO_REGISTRY_INSERTED = 1,
    OCTO_REGISTRY_REPLACED = 2,
    OCTO_REGISTRY_STALE = 3, /* seq not newer than the registered advert: nothing changed */
};

/* A candidate search: model is required; the rest narrow it. */
struct octo_registry_query {
    const char *model;     /* model name, NUL-terminated */
    uint8_t isolation_min; /* enum octo_isolation; OCTO_ISOLATION_NONE = any */
    const char *country;   /* ISO 3166-1 alpha-2, or NULL = any */
    const char *continent; /* AF AN AS EU NA OC SA, or NULL = any */
};

struct octo_registry_candidate {
    uint32_t index; /* registry index (slot) of the provider */
    const struct octo_registry_entry *entry;
    const struct octo_registry_model *model; /* the entry's model that matched */
};

struct octo_registry_iter {
    const struct octo_registry *reg;
    uint32_t model_id; /* UINT32_MAX: nothing to yield */
    uint32_t pos;
    uint32_t key_mask; /* continent and country bytes that must equal key_want */
    uint32_t key_want;
    uint8_t isolation_min;
};

/* Sets up an empty registry. Allocates the two hash tables (4 bytes x 2 x max each, rounded
 * up to a power of two). Errors: OCTO_EINVAL (a maximum is 0 or above its limit),
 * OCTO_ENOMEM. On error reg is left deinit-safe. */
OCTO_MUST_USE int octo_registry_init(struct octo_registry *reg,
                                     const struct octo_registry_config *cfg);
/* Frees everything; tolerates a zeroed struct. */
void octo_registry_deinit(struct octo_registry *reg);

/* Adds or replaces the advert of a->provider. The advert is validated first
 * (octo_advert_validate at now_ms; *reason, which may be NULL, says why on failure). An
 * advert whose seq is not greater than the registered one changes nothing. *index (may be
 * NULL) receives the provider's registry index unless an error is returned.
 * Returns OCTO_REGISTRY_INSERTED, _REPLACED or _STALE; errors: octo_advert_validate's,
 * OCTO_ELIMIT (providers_max or models_max reached), OCTO_ENOMEM. On error the registry is
 * unchanged. models_max is applied to the state after the upsert: a replacement may bring
 * in new model names in place of names only its old advert used. */
OCTO_MUST_USE int octo_registry_upsert(struct octo_registry *reg, const struct octo_advert *a,
                                       uint64_t now_ms, uint32_t *index,
                                       enum octo_advert_reason *reason);

/* Removes a provider. Returns 0 or OCTO_ENOTFOUND. */
OCTO_MUST_USE int octo_registry_remove(struct octo_registry *reg, const struct octo_peerid *id);

/* Removes every provider whose advert expired (expiry_ms <= now_ms); returns how many. */
uint32_t octo_registry_expire(struct octo_registry *reg, uint64_t now_ms);

/* Earliest expiry_ms of the registered adverts, or UINT64_MAX when the registry is empty:
 * when the shell should call octo_registry_expire next. */
uint64_t octo_registry_next_expiry(const struct octo_registry *reg);

/* The entry of a provider, or NULL; *index (may be NULL) receives its registry index. */
const struct octo_registry_entry *octo_registry_find(const struct octo_registry *reg,
                                                     const struct octo_peerid *id, uint32_t *index);

/* The entry at a registry index, or NULL if that slot is free or out of range. */
const struct octo_registry_entry *octo_registry_at(const struct octo_registry *reg, uint32_t index);

/* Name of an interned model id in use by some entry (NUL-terminated); asserts the id. */
const char *octo_registry_model_name(const struct octo_registry *reg, uint32_t model_id);

/* Endpoint i (< e->endpoints_count) of an entry: its binary multiaddr bytes and length. */
const uint8_t *octo_registry_endpoint(const struct octo_registry_entry *e, size_t i, size_t *len);

/* The entry's attestation reference (e->attestation_len bytes; NULL when empty). */
const uint8_t *octo_registry_attestation(const struct octo_registry_entry *e);

/* Rebuilds the full advert of the entry at index into out. Returns 0 or OCTO_ENOTFOUND. */
OCTO_MUST_USE int octo_registry_advert(const struct octo_registry *reg, uint32_t index,
                                       struct octo_advert *out);

/* Starts a candidate search. Returns 0, or OCTO_EINVAL for a malformed query (no model or a
 * name above OCTO_ADVERT_NAME_MAX, isolation_min above OCTO_ISOLATION_MAX, a country that is
 * not two upper-case letters, an unknown continent). An unknown model yields nothing. */
OCTO_MUST_USE int octo_registry_iter_init(struct octo_registry_iter *it,
                                          const struct octo_registry *reg,
                                          const struct octo_registry_query *q);
/* Next candidate in posting order: fills out and returns true, or false at the end. The
 * registry must not be mutated while an iterator is in use. */
bool octo_registry_iter_next(struct octo_registry_iter *it, struct octo_registry_candidate *out);

/* Callback form: calls fn for each candidate in posting order until fn returns non-zero.
 * Returns the number of candidates passed to fn (>= 0) or OCTO_EINVAL as iter_init. */
typedef int (*octo_registry_candidate_fn)(void *ctx, const struct octo_registry_candidate *c);
OCTO_MUST_USE int octo_registry_query(const struct octo_registry *reg,
                                      const struct octo_registry_query *q,
                                      octo_registry_candidate_fn fn, void *ctx);

/* Looks a model name up: *model_id receives its interned id. Returns 0, OCTO_ENOTFOUND (no
 * registered provider lists it) or OCTO_EINVAL (name NULL, empty or above
 * OCTO_ADVERT_NAME_MAX bytes). */
OCTO_MUST_USE int octo_registry_model_lookup(const struct octo_registry *reg, const char *name,
                                             uint32_t *model_id);

/* Change stamp of a model id: non-zero while the id is in use, and different (greater) after
 * any change to the set of its postings or a replacement of an entry listing it, also when
 * the id was freed and reused. 0 for an id not in use (any id is accepted). */
uint64_t octo_registry_model_stamp(const struct octo_registry *reg, uint32_t model_id);

/* Number of live postings ((provider, quantization) pairs) of a model id; 0 for an id not in
 * use. At most providers_max * OCTO_ADVERT_MODELS_MAX. */
uint32_t octo_registry_model_size(const struct octo_registry *reg, uint32_t model_id);

/* Starts an unfiltered walk over the postings of a model id in posting order (read with
 * octo_registry_iter_next). Returns 0, or OCTO_ENOTFOUND when the id is not in use (the
 * iterator then yields nothing). */
OCTO_MUST_USE int octo_registry_iter_model(struct octo_registry_iter *it,
                                           const struct octo_registry *reg, uint32_t model_id);

/* Copies the counters. */
void octo_registry_stats(const struct octo_registry *reg, struct octo_registry_stats *out);

#endif
