/*
 * mempool.h — transactions waiting for a block: admitted against the ledger (signature,
 * nonce, fee, balance), held per account in nonce order, chosen for a block by fee, removed
 * once a finalized block has used their nonces. Pure: no clock, no I/O; the hash key comes
 * from the caller.
 *
 * Admission refuses with a reason the client gets (octo_mempool_reason_str): a malformed or
 * badly signed transaction, a fee under the minimum, an unknown sender, a nonce already used
 * (replays), one more than OCTO_MEMPOOL_PER_ACCOUNT_MAX ahead, a duplicate, a nonce already
 * waiting unless the new fee is at least 10 % higher (which replaces it), a balance that does
 * not cover the fee (or a transfer's amount), and a full pool. When the pool is full (count
 * or bytes), the cheapest transaction that nothing waits behind (an account's last) is evicted
 * for one paying more; otherwise the newcomer is refused.
 *
 * A block is filled best fee first across accounts, each account's transactions in nonce
 * order without gaps, starting after what the ledger and the block's unfinalized ancestors
 * (notarized blocks it extends, which the caller names) have used. Nothing is marked when a
 * block is proposed: a proposal that is never finalized loses nothing, and what it carried is
 * offered again to the next one. Transactions leave the pool when a finalized block uses
 * their nonces (or eviction, or replacement).
 */
#ifndef OCTO_CHAIN_MEMPOOL_H
#define OCTO_CHAIN_MEMPOOL_H

#include "chain/block.h"
#include "chain/ledger.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_MEMPOOL_PER_ACCOUNT_MAX 64 /* transactions one account may have waiting */
#define OCTO_MEMPOOL_TXS_MAX (1u << 22)

#define OCTO_MEMPOOL_REASONS(X)                                                                    \
    X(OK, 0, "accepted")                                                                           \
    X(MALFORMED, 1, "malformed transaction")                                                       \
    X(BAD_SIGNATURE, 2, "invalid signature")                                                       \
    X(FEE_TOO_LOW, 3, "fee under the minimum")                                                     \
    X(NO_ACCOUNT, 4, "sender has no account")                                                      \
    X(NONCE_USED, 5, "nonce already used")                                                         \
    X(NONCE_TOO_FAR, 6, "nonce too far ahead")                                                     \
    X(DUPLICATE, 7, "already in the pool")                                                         \
    X(NONCE_TAKEN, 8, "a transaction with this nonce waits (raise the fee by 10 % to replace)")    \
    X(CANNOT_PAY_FEE, 9, "balance does not cover the fee")                                         \
    X(INSUFFICIENT, 10, "insufficient balance")                                                    \
    X(FULL, 11, "pool full")                                                                       \
    X(TOO_BIG, 12, "transaction too big")

enum octo_mempool_reason {
#define OCTO_MPR_ENUM(name, value, msg) OCTO_MPR_##name = (value),
    OCTO_MEMPOOL_REASONS(OCTO_MPR_ENUM)
#undef OCTO_MPR_ENUM
};
#define OCTO_MEMPOOL_REASONS_N 13

const char *octo_mempool_reason_str(int reason);

struct octo_mempool_config {
    uint8_t chain_id[32];
    uint8_t hash_key[16]; /* SipHash key of the indexes: random per node */
    uint32_t max_txs;     /* 1..OCTO_MEMPOOL_TXS_MAX */
    uint64_t max_bytes;   /* of transaction bytes held */
};

struct octo_mempool_stats {
    uint64_t accepted, replaced, evicted, removed;
    uint64_t refused[OCTO_MEMPOOL_REASONS_N];
};

struct octo_mempool_state; /* mempool.c */

struct octo_mempool {
    struct octo_mempool_state *st;
};

/* Errors: OCTO_EINVAL (limits), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_mempool_init(struct octo_mempool *m, const struct octo_mempool_config *cfg);
void octo_mempool_deinit(struct octo_mempool *m);

/* Admits an encoded transaction against ledger state l; returns enum octo_mempool_reason
 * (OK = accepted) and the id in id (when it decoded). OCTO_ENOMEM when memory ran out (the
 * transaction was not kept). */
int octo_mempool_add(struct octo_mempool *m, const struct octo_ledger *l, const uint8_t *tx,
                     size_t len, uint8_t id[OCTO_TX_ID_LEN]);

/* Appends transactions to b for a block extending the ledger's state plus the unfinalized
 * ancestors whose transactions are pending[0..n_pending) (in chain order), best fee first
 * (see the top), until max_txs, the builder's room, or the pool runs out. Returns how many. */
uint32_t octo_mempool_select(struct octo_mempool *m, const struct octo_ledger *l,
                             const struct octo_block_tx *pending, uint32_t n_pending,
                             struct octo_block_builder *b, uint32_t max_txs);

/* After the ledger applied a finalized block (txs are its transactions): drops what its
 * senders' nonces have passed. */
void octo_mempool_finalized(struct octo_mempool *m, const struct octo_ledger *l,
                            const struct octo_block_tx *txs, uint32_t n);

/* Whether a transaction with this id is held (so its signature was verified): an
 * octo_block_verified_fn for octo_block_check, ctx the mempool. */
bool octo_mempool_has(void *m, const uint8_t id[OCTO_TX_ID_LEN]);

size_t octo_mempool_count(const struct octo_mempool *m);
uint64_t octo_mempool_bytes(const struct octo_mempool *m);
const struct octo_mempool_stats *octo_mempool_stats(const struct octo_mempool *m);

#endif
