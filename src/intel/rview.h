/*
 * rview.h — price-ordered candidate rows per model, for routing decisions that stop early.
 *
 * The registry keeps each model's postings in arrival order, so a decision that ranks by
 * price must look at every provider of the model. A view keeps, per model id, the model's
 * live postings as rows sorted by (price_in + price_out saturating at UINT64_MAX, registry
 * slot, model index): walked from the front they feed octo_route_stream_offer with
 * price_ordered = true, and a cost/privacy/geo decision stops after the first
 * OCTO_ROUTE_TOP_K + OCTO_ROUTE_FALLBACKS_MAX eligible rows instead of walking the list.
 *
 * Maintenance is lazy: a model's rows remember the registry's change stamp of the model
 * (octo_registry_model_stamp) they were built at; octo_rview_rows rebuilds them when the
 * stamp moved — any posting of the model added or removed, an entry listing it replaced, or
 * the id reused for another name. Cost: a rebuild walks the model's L live postings and
 * sorts them, O(L log L) (about 20 us for L = 400 on one core), paid by the first call after
 * a change; an unchanged model costs one stamp comparison. A registry that replaces adverts
 * of a model more often than it routes to that model pays a rebuild per decision.
 *
 * Memory: 16 bytes per row; the rows of a model are allocated on its first use and kept
 * (grown on demand, shrunk when a rebuild needs less than a quarter) until deinit; plus 24
 * bytes per model id at init. One model's rows are its live postings — one per (provider,
 * quantization) pair, so at most providers_max * OCTO_ADVERT_MODELS_MAX and in practice about
 * one per provider serving it.
 *
 * A view serves one registry for its lifetime (asserted): stamps of different registries,
 * or of one registry deinitialised and initialised again, are not comparable. Not
 * thread-safe. Deterministic: rows depend only on the registry's contents.
 */
#ifndef OCTO_INTEL_RVIEW_H
#define OCTO_INTEL_RVIEW_H

#include "base/err.h"
#include "intel/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One candidate: the model's posting at registry slot `slot`, entry model `model_idx`. */
struct octo_rview_row {
    uint64_t price;     /* price_in_per_mtok + price_out_per_mtok, saturating */
    uint32_t slot;      /* registry index (octo_registry_at) */
    uint32_t model_idx; /* index into the entry's models array */
};

struct octo_rview_model;

struct octo_rview {
    struct octo_rview_model *models; /* models_max records */
    uint32_t models_max;
    const struct octo_registry *reg; /* the registry served, set by the first rows call */
    uint64_t rebuilds;               /* counter: rows rebuilt */
    uint64_t rows_held;              /* rows allocated over all models */
};

/* Sets up an empty view for model ids below models_max (the registry's models_max).
 * Allocates 24 bytes per model id. Errors: OCTO_EINVAL (models_max 0 or above
 * OCTO_REGISTRY_MODELS_LIMIT), OCTO_ENOMEM. On error v is deinit-safe. */
OCTO_MUST_USE int octo_rview_init(struct octo_rview *v, uint32_t models_max);

/* Frees everything; tolerates a zeroed struct. */
void octo_rview_deinit(struct octo_rview *v);

/* The rows of model_id in ascending (price, slot, model_idx) order: *rows and *n (*rows may be
 * NULL when *n is 0). Rebuilds them first when the model changed since the last call (see the
 * design comment). The rows stay valid until the next call on v or the next registry
 * mutation. Returns 0, or OCTO_EINVAL (model_id >= models_max), OCTO_ENOTFOUND (the id is not
 * in use: *n = 0), OCTO_ENOMEM (the rows are then dropped: *n = 0, a later call retries). */
OCTO_MUST_USE int octo_rview_rows(struct octo_rview *v, const struct octo_registry *reg,
                                  uint32_t model_id, const struct octo_rview_row **rows, size_t *n);

/* ---- ordering rows by something other than price ----
 * For decisions that rank by latency, throughput or reputation: the caller gives each row a
 * rank key (octo_route_rank_key of the provider's current health), arranges the pairs as a
 * heap in O(n) and pops them in (key, row) order into a ranked router stream
 * (octo_route_stream_begin_ranked), which stops after the best few. */
struct octo_rview_ranked {
    uint64_t key;
    uint32_t row; /* index into the model's rows */
};

/* Arranges h[0..n) as a binary min-heap by (key, row). O(n). */
void octo_rview_rank_heapify(struct octo_rview_ranked *h, size_t n);

/* Removes the smallest (key, row) of the heap h[0..*n) into *out and returns true, or
 * returns false when the heap is empty. O(log n). */
bool octo_rview_rank_pop(struct octo_rview_ranked *h, size_t *n, struct octo_rview_ranked *out);

#endif
