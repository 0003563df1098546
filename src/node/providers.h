/*
 * providers.h — the node's provider registry, durable: signed adverts received from the
 * network are verified, written to the store (store/providers.h) and only then indexed in the
 * scheduler's in-memory registry (intel/sched.h); at start the stored adverts are verified
 * again and re-indexed, so a restart (or kill -9) loses no accepted advert.
 *
 * Order of truth: the store is written first. An advert the store refused (full table, I/O
 * error) is not indexed either, so memory never holds what a restart would forget. Stale
 * adverts (seq not newer than the one held) change neither.
 *
 * Not thread-safe; runs on the node's loop thread. Time: unix ms for advert validity, the
 * monotonic `now` for the scheduler.
 */
#ifndef OCTO_NODE_PROVIDERS_H
#define OCTO_NODE_PROVIDERS_H

#include "base/clock.h"
#include "base/err.h"
#include "intel/advert.h"
#include "intel/sched.h"
#include "store/providers.h"

#include <stddef.h>
#include <stdint.h>

struct octo_providers_load_stats {
    uint32_t loaded;   /* verified and indexed */
    uint32_t expired;  /* past their expiry: skipped and deleted from the store */
    uint32_t rejected; /* failed verification (corrupt rows): skipped and kept for inspection */
    uint32_t refused;  /* verified but refused by the registry (a limit) */
};

/*
 * Accepts a signed advert from the network: octo_advert_open at now_ms (size, encoding,
 * signature, expiry, sane values), then the store, then the scheduler. Returns
 * OCTO_REGISTRY_INSERTED or _REPLACED when it was taken, OCTO_REGISTRY_STALE when the node
 * already holds this or a newer advert of the provider (nothing written); errors:
 * octo_advert_open's (with *reason, which may be NULL), OCTO_ELIMIT (the store's or the
 * registry's capacity), store errors, OCTO_ENOMEM.
 */
OCTO_MUST_USE int octo_providers_accept(struct octo_provstore *ps, struct octo_sched *s,
                                        const uint8_t *signed_advert, size_t len, uint64_t now_ms,
                                        octo_tick now, enum octo_advert_reason *reason);

/* Loads every stored advert into s (at start, s empty or not). Expired ones are deleted from
 * the store. Returns 0 with *st filled, or a store error / OCTO_ENOMEM. */
OCTO_MUST_USE int octo_providers_load(struct octo_provstore *ps, struct octo_sched *s,
                                      uint64_t now_ms, octo_tick now,
                                      struct octo_providers_load_stats *st);

/* Drops expired adverts from memory and from the store. Returns how many the store deleted,
 * or a store error. */
OCTO_MUST_USE int octo_providers_expire(struct octo_provstore *ps, struct octo_sched *s,
                                        uint64_t now_ms);

#endif
