/*
 * block.h — a block's payload (what consensus orders): a header and the transactions, in one
 * canonical encoding. Pure: no allocation, no I/O.
 *
 *   PAYLOAD  version u8 (1) | time_ms u64 | state_height u64 | state_root [32] |
 *            tx_root [32] | receipt_root [32] | n_tx u32 | (tx_len u32 | tx [tx_len]) * n_tx
 *
 * time_ms is the proposer's clock, later than the parent's (block time: unbonding and escrow
 * expiry count in it). state_height/state_root name the newest ledger state the proposer had
 * executed (finalized blocks run in order after finalization, so a block cannot carry its own
 * post-state); every validator compares them with its own root at that height. tx_root is the
 * RFC 6962 Merkle root over the transactions' bytes in order, receipt_root over the task
 * receipts they settle or report (SETTLE's receipts, then SLASH_FAILED's, in transaction
 * order); octo_block_proof gives inclusion proofs for clients.
 *
 * octo_block_parse checks the framing only; octo_block_check decodes every transaction,
 * verifies its signatures (unless told they were verified already) and both roots.
 */
#ifndef OCTO_CHAIN_BLOCK_H
#define OCTO_CHAIN_BLOCK_H

#include "chain/tx.h"
#include "crypto/merkle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_BLOCK_VERSION 1
#define OCTO_BLOCK_HDR_LEN 117 /* through n_tx */
#define OCTO_BLOCK_TXS_MAX 8192
#define OCTO_BLOCK_RECEIPTS_MAX (OCTO_CONS_PAYLOAD_MAX / OCTO_RECEIPT_LEN)

struct octo_block_hdr {
    uint64_t time_ms, state_height;
    uint8_t state_root[32], tx_root[32], receipt_root[32];
    uint32_t n_tx;
};

struct octo_block_tx {
    const uint8_t *p; /* into the payload */
    uint32_t len;
};

/* Scratch for checking and building (about 400 KiB: allocate it). */
struct octo_block_scratch {
    struct octo_merkle_hash tx_leaves[OCTO_BLOCK_TXS_MAX];
    struct octo_merkle_hash receipt_leaves[OCTO_BLOCK_RECEIPTS_MAX];
    struct octo_block_tx txs[OCTO_BLOCK_TXS_MAX];
};

/* Framing: header fields and tx boundaries into h and txs[0..h->n_tx). Errors:
 * OCTO_EMALFORMED (version, lengths, trailing bytes), OCTO_ETOOBIG (over the payload maximum,
 * more than OCTO_BLOCK_TXS_MAX transactions, a tx over OCTO_TX_MAX). */
OCTO_MUST_USE int octo_block_parse(const uint8_t *in, size_t len, struct octo_block_hdr *h,
                                   struct octo_block_tx *txs);

/* Asks whether a transaction's signatures were already verified (mempool cache), so
 * octo_block_check need not do it again; NULL: verify every one. */
typedef bool (*octo_block_verified_fn)(void *ctx, const uint8_t id[OCTO_TX_ID_LEN]);

/* A parsed payload's transactions decode and carry valid signatures, and its roots are the
 * roots of its content. On error *bad_tx is the index of the culprit (or n_tx for a root).
 * Errors: OCTO_EMALFORMED, OCTO_EBADSIG, OCTO_ETOOBIG (too many receipts). */
OCTO_MUST_USE int octo_block_check(const uint8_t chain_id[32], const struct octo_block_hdr *h,
                                   struct octo_block_scratch *s, octo_block_verified_fn verified,
                                   void *verified_ctx, uint32_t *bad_tx);

/* The roots of n transactions (already decodable) into tx_root and receipt_root. */
OCTO_MUST_USE int octo_block_roots(const struct octo_block_tx *txs, uint32_t n,
                                   struct octo_block_scratch *s, uint8_t tx_root[32],
                                   uint8_t receipt_root[32]);

/* Building: reserve the header, append transactions, then write the header with the roots.
 * The caller owns out (cap bytes, at most OCTO_CONS_PAYLOAD_MAX used). */
struct octo_block_builder {
    uint8_t *out;
    size_t cap, len;
    uint32_t n_tx;
};
void octo_block_build_init(struct octo_block_builder *b, uint8_t *out, size_t cap);
/* OCTO_ENOSPACE: the tx does not fit (the block is full), OCTO_ETOOBIG: too many txs. */
OCTO_MUST_USE int octo_block_build_add(struct octo_block_builder *b, const uint8_t *tx, size_t len);
/* Fills in the header (its roots computed here); returns the payload's length. */
OCTO_MUST_USE int octo_block_build_finish(struct octo_block_builder *b, uint64_t time_ms,
                                          uint64_t state_height, const uint8_t state_root[32],
                                          struct octo_block_scratch *s);

/* The task receipts a transaction carries (a SETTLE's batch, a SLASH_FAILED's one; none for
 * the others): their count, *first at the first of them (OCTO_RECEIPT_LEN bytes each, in the
 * order of the block's receipt tree). The tx need not decode: lengths are checked before a
 * receipt is pointed at (OCTO_EMALFORMED when they do not fit). */
OCTO_MUST_USE int octo_block_tx_receipts(const struct octo_block_tx *tx, const uint8_t **first);

/* Inclusion proof of transaction `index` (receipts: of receipt `index` when receipt is true)
 * in a parsed payload: *n_leaves, proof[0..*proof_len) (OCTO_MERKLE_PROOF_MAX suffice).
 * Afterwards s->tx_leaves and s->receipt_leaves hold the block's leaf hashes, so more proofs
 * of the same block can come from octo_merkle_inclusion_proof without hashing it again.
 * Errors: OCTO_EINVAL (index out of range). */
OCTO_MUST_USE int octo_block_proof(const struct octo_block_hdr *h, struct octo_block_scratch *s,
                                   bool receipt, uint32_t index, uint64_t *n_leaves,
                                   struct octo_merkle_hash *proof, size_t *proof_len);

#endif
