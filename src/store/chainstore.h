/*
 * chainstore.h — the blockstore on the storage interface: finalized blocks, the ledger state
 * they lead to, and an index of their transactions, written so that a crash at any point
 * loses no committed block and never applies one twice.
 *
 * The store works in bytes and knows nothing of the ledger's rules: a block is its signed
 * header fields, payload and per-transaction results; the state is the ledger's objects by
 * index and its meta record (chain/ledger.h's persistence calls produce and consume both).
 *
 * One write transaction per block holds the block row, the objects the block changed, the new
 * meta record and height, and the block's transaction ids: on restart the stored height and
 * the stored state always belong together, so the node resumes after exactly the last
 * committed block. octo_chainstore_commit refuses a block that is not the next height
 * (OCTO_ESTATE), so a retry after an unclear failure cannot apply one twice.
 *
 * A block that ends a validator set may carry a proof of its finality (the consensus
 * certificate of the set that finalized it), committed with it: a node that was away across
 * the change is sent the proof and catches up to that block under the set it knows.
 *
 * Tables (migrations 5 and 6 of the node schema): chain_info (one row: genesis hash, height,
 * meta), chain_blocks (by height, id unique), chain_objects (by index), chain_txs (by id),
 * chain_proofs (by height).
 */
#ifndef OCTO_STORE_CHAINSTORE_H
#define OCTO_STORE_CHAINSTORE_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_CHAINSTORE_ID_LEN 32
#define OCTO_CHAINSTORE_SIG_LEN 64
#define OCTO_CHAINSTORE_OBJECT_MAX 1024 /* bytes of one object's encoding */
#define OCTO_CHAINSTORE_META_MAX 4096   /* bytes of the meta record */
#define OCTO_CHAINSTORE_PROOF_MAX 65536 /* bytes of one finality proof */

struct octo_chainstore_block {
    uint64_t height, view, parent_view;
    uint8_t id[OCTO_CHAINSTORE_ID_LEN], parent[OCTO_CHAINSTORE_ID_LEN];
    uint16_t signer;
    uint8_t sig[OCTO_CHAINSTORE_SIG_LEN];
    const uint8_t *payload; /* at most OCTO_STORE_VALUE_MAX bytes */
    size_t payload_len;
    const uint8_t *results; /* one result code per transaction */
    size_t n_results;
    const uint8_t (*tx_ids)[OCTO_CHAINSTORE_ID_LEN]; /* n_results ids, indexed */
    const uint8_t *proof; /* commit only: the block's finality proof, or NULL */
    size_t proof_len;     /* at most OCTO_CHAINSTORE_PROOF_MAX */
};

struct octo_chainstore_object {
    uint32_t idx;
    const uint8_t *enc;
    size_t len;
};

/* Where a transaction landed. */
struct octo_chainstore_txloc {
    uint64_t height;
    uint32_t pos;
    uint8_t result;
};

/* Writes the genesis state (height 0) unless the store holds a chain already: then its
 * genesis hash must be this one (OCTO_EEXIST: same chain, nothing written; OCTO_ECONFIG:
 * another chain's store). */
OCTO_MUST_USE int octo_chainstore_init(struct octo_store *s,
                                       const uint8_t genesis[OCTO_CHAINSTORE_ID_LEN],
                                       const struct octo_chainstore_object *objs, size_t n_objs,
                                       const uint8_t *meta, size_t meta_len);

/* Commits block b (height = stored height + 1, else OCTO_ESTATE) with the state it led to:
 * the changed objects and the new meta record, in one write transaction. */
OCTO_MUST_USE int octo_chainstore_commit(struct octo_store *s,
                                         const struct octo_chainstore_block *b,
                                         const struct octo_chainstore_object *objs, size_t n_objs,
                                         const uint8_t *meta, size_t meta_len);

/* The stored height and genesis hash (OCTO_ENOTFOUND: no chain stored). */
OCTO_MUST_USE int octo_chainstore_head(struct octo_store *s, uint64_t *height,
                                       uint8_t genesis[OCTO_CHAINSTORE_ID_LEN]);

/* The stored state, in one read transaction: every object in index order, then the meta
 * record. A callback returning nonzero stops with that value. */
typedef int (*octo_chainstore_object_fn)(void *ctx, uint32_t idx, const uint8_t *enc, size_t len);
typedef int (*octo_chainstore_meta_fn)(void *ctx, const uint8_t *meta, size_t len);
OCTO_MUST_USE int octo_chainstore_load(struct octo_store *s, octo_chainstore_object_fn on_object,
                                       octo_chainstore_meta_fn on_meta, void *ctx);

/* One block by height, or by id (id non-NULL), handed to fn (pointers valid during the call).
 * OCTO_ENOTFOUND when absent. */
typedef int (*octo_chainstore_block_fn)(void *ctx, const struct octo_chainstore_block *b);
OCTO_MUST_USE int octo_chainstore_block(struct octo_store *s, uint64_t height, const uint8_t *id,
                                        octo_chainstore_block_fn fn, void *ctx);

/* The first finality proof stored for a height above `after`: its height into *height and its
 * bytes into out[0..cap) (cap >= OCTO_CHAINSTORE_PROOF_MAX), their length returned.
 * OCTO_ENOTFOUND when there is none. */
OCTO_MUST_USE int octo_chainstore_proof_after(struct octo_store *s, uint64_t after,
                                              uint64_t *height, uint8_t *out, size_t cap);

/* Where transaction id landed (OCTO_ENOTFOUND: not in a stored block). */
OCTO_MUST_USE int octo_chainstore_tx(struct octo_store *s, const uint8_t id[OCTO_CHAINSTORE_ID_LEN],
                                     struct octo_chainstore_txloc *out);

#endif
