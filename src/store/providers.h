/*
 * providers.h — the provider registry's persistent records on the storage interface.
 *
 * One row per provider (key: its peer id, 1..OCTO_PROVSTORE_ID_MAX bytes): the advert's
 * sequence number and expiry, when this node received it, and the SIGNED advert bytes
 * exactly as received. The store does not parse adverts (it depends on nothing but base and
 * the database): at start the node iterates the rows, re-validates every advert (signature,
 * expiry, sane values) and re-indexes it in memory; the columns next to the bytes only serve
 * the store's own decisions (replace by sequence number, expire by time, page by id).
 *
 * Replacement: a put replaces a stored row only when its seq is GREATER than the stored one;
 * an equal or smaller seq (a replayed or reordered advert) changes nothing and is reported as
 * unchanged, not as an error. Times and sequence numbers are u64 in the API but at most
 * OCTO_PROVSTORE_U64_MAX (INT64_MAX: both databases store signed 64-bit integers).
 *
 * Capacity: at most ps->rows_max rows (<= OCTO_PROVSTORE_ROWS_CEILING). Inserting a NEW
 * provider into a full table is refused with OCTO_ELIMIT (unlike the peer cache nothing is
 * evicted: an advert is only dropped when it expires or is deleted). Replacing never is.
 *
 * Every call works alone (in its own transaction) or inside a transaction the caller opened
 * (a write transaction for put/delete/delete_expired), e.g. to batch many puts in one commit.
 */
#ifndef OCTO_STORE_PROVIDERS_H
#define OCTO_STORE_PROVIDERS_H

#include "base/buf.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_PROVSTORE_ID_MAX 64                     /* bytes of a provider peer id */
#define OCTO_PROVSTORE_ADVERT_MAX 16384              /* bytes of a signed advert */
#define OCTO_PROVSTORE_ROWS_DEFAULT 200000u          /* rows_max when 0 is given */
#define OCTO_PROVSTORE_ROWS_CEILING 1000000u         /* largest rows_max */
#define OCTO_PROVSTORE_BATCH 256u                    /* rows per page when iterating */
#define OCTO_PROVSTORE_U64_MAX ((uint64_t)INT64_MAX) /* largest seq / time stored */

/* A provider row. For put every pointer is borrowed for the call; from get and iterate see
 * those functions. */
struct octo_provstore_record {
    const uint8_t *id;
    size_t id_len;         /* 1..OCTO_PROVSTORE_ID_MAX */
    uint64_t seq;          /* the advert's sequence number */
    uint64_t expiry_ms;    /* unix ms after which the advert is void */
    uint64_t received_ms;  /* unix ms when this node received it */
    const uint8_t *advert; /* the signed advert bytes as received */
    size_t advert_len;     /* 1..OCTO_PROVSTORE_ADVERT_MAX */
};

/* A provider store: the store it lives in and its capacity. Caller-allocated, no resources. */
struct octo_provstore {
    struct octo_store *store;
    uint32_t rows_max;
};

/* Binds to a migrated store (octo_store_migrate_node). rows_max 0 means
 * OCTO_PROVSTORE_ROWS_DEFAULT; more than OCTO_PROVSTORE_ROWS_CEILING is a programmer error. */
void octo_provstore_init(struct octo_provstore *ps, struct octo_store *s, uint32_t rows_max);

/*
 * Inserts a provider, or replaces its row when rec->seq is greater than the stored seq.
 * Returns 1 when the row was inserted or replaced, 0 when it was left alone (the stored seq
 * is equal or greater: a stale advert), or:
 * OCTO_EINVAL (empty id or advert, NULL pointers), OCTO_ETOOBIG (id or advert over its
 * limit), OCTO_ERANGE (seq or a time over OCTO_PROVSTORE_U64_MAX), OCTO_ELIMIT (a new
 * provider and the table holds rows_max rows), OCTO_ESTATE (inside a read transaction),
 * OCTO_EBUSY, store errors.
 */
OCTO_MUST_USE int octo_provstore_put(struct octo_provstore *ps,
                                     const struct octo_provstore_record *rec);

/*
 * Reads one provider. out->id points to the caller's id; out->advert points into advert_buf,
 * which is reset and filled (give it a max of at least OCTO_PROVSTORE_ADVERT_MAX).
 * Errors: OCTO_ENOTFOUND, OCTO_EINVAL / OCTO_ETOOBIG (bad id), OCTO_ETOOBIG (advert_buf's max
 * too small), OCTO_ESTORE (a stored row breaks the limits: corrupt), store errors.
 */
OCTO_MUST_USE int octo_provstore_get(struct octo_provstore *ps, const uint8_t *id, size_t id_len,
                                     struct octo_buf *advert_buf,
                                     struct octo_provstore_record *out);

/* Deletes one provider. Errors: OCTO_ENOTFOUND, OCTO_EINVAL / OCTO_ETOOBIG (bad id), store
 * errors. */
OCTO_MUST_USE int octo_provstore_delete(struct octo_provstore *ps, const uint8_t *id,
                                        size_t id_len);

/* Deletes every provider whose expiry_ms <= now_ms. Returns how many (>= 0), or
 * OCTO_ERANGE (now_ms over OCTO_PROVSTORE_U64_MAX), store errors. */
OCTO_MUST_USE int octo_provstore_delete_expired(struct octo_provstore *ps, uint64_t now_ms);

/* Number of stored providers. Errors: store errors. */
OCTO_MUST_USE int octo_provstore_count(struct octo_provstore *ps, uint64_t *out);

/* Called by iterate for each row; rec and its bytes are valid during the call only. Return 0
 * for the next row, > 0 to stop (iterate returns the count so far), < 0 to fail with that
 * code. It must not call into the store (the page's statement is running). */
typedef int (*octo_provstore_iter_fn)(const struct octo_provstore_record *rec, void *ctx);

/*
 * Visits every provider in ascending id order (bytewise), reading pages of at most
 * OCTO_PROVSTORE_BATCH rows by keyset (id > the last id seen), so memory stays at one row
 * whatever the table size. Outside a transaction each page is its own statement: rows put or
 * deleted meanwhile may or may not be seen, but no row is visited twice; inside a read
 * transaction the whole walk sees one snapshot. Returns the number of rows visited, or the
 * callback's error, OCTO_ESTORE (a corrupt row), store errors.
 */
OCTO_MUST_USE int octo_provstore_iterate(struct octo_provstore *ps, octo_provstore_iter_fn fn,
                                         void *ctx);

#endif
