/*
 * settle.h — the orchestrator's side of the ledger: escrows reserved for accepted tasks, and
 * verified receipts batched into SETTLE transactions.
 *
 * Who pays: the payer, an account whose key this node holds (--payer-home), escrows every task
 * the gateway accepts (its API keys are prepaid credit: a key's budget is checked and charged
 * by the gateway; the ledger wants a requester other than the orchestrator). So a task's
 * ESCROW (task, orchestrator = this node, amount = the most the task can cost, expiry) and its
 * REFUND are the payer's transactions, made when the task is accepted and after a failed
 * task's escrow expired; the SETTLE, with up to OCTO_TX_RECEIPTS_MAX receipts of succeeded
 * tasks, and the SLASH_FAILED of a result that failed re-execution are the orchestrator's. The
 * ledger splits each receipt's price 70/10/10/5/5 (provider, orchestrator, treasury, governance,
 * burn) and refunds the rest of the escrow; an escrow of a task that never succeeds is refunded
 * with REFUND after its expiry. A task is paid at most once: the ledger closes an escrow when it
 * settles it.
 *
 * Transactions wait in a FIFO of intents per signing account and get their nonces in that
 * order when they are submitted to the node's chain service; a receipt goes into a SETTLE only
 * once this node's ledger shows its escrow open, so the ESCROW is always applied first. The
 * pool takes OCTO_MEMPOOL_PER_ACCOUNT_MAX of one account's transactions at a time: past that
 * the FIFO waits and is drained every OCTO_SETTLE_DRAIN_MS as blocks finalize. A nonce the
 * ledger has used already (another client of the key) is skipped over.
 *
 * What the pool took is kept until the ledger applies it (the account's nonce passes it): a
 * SETTLE whose escrows are still open then failed on chain, and its tasks' escrows are
 * refunded; a transaction evicted or lost on the way (the nonce stands still) is sent again.
 * Before a receipt joins a SETTLE it is checked against the ledger as the ledger will check it
 * (escrow open, the payer's, for this orchestrator, covering the price; the provider
 * registered), since one bad receipt fails the whole transaction.
 *
 * Limits: OCTO_SETTLE_QUEUE_MAX intents waiting (an escrow past it is not made: its task is
 * then not settled on chain, counted in escrows_dropped), receipts batched per SETTLE as the
 * ledger allows. Single-threaded (the loop).
 */
#ifndef OCTO_NODE_SETTLE_H
#define OCTO_NODE_SETTLE_H

#include "base/clock.h"
#include "chain/tx.h"
#include "crypto/ident.h"
#include "node/validator.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define OCTO_SETTLE_QUEUE_MAX 8192u
#define OCTO_SETTLE_BATCH_MS 1000u /* receipts wait at most this long for their SETTLE */
#define OCTO_SETTLE_DRAIN_MS 100u  /* how often a waiting FIFO is tried again */
#define OCTO_SETTLE_SENT_MAX 128u  /* per account: in the pool, not yet applied */
#define OCTO_SETTLE_STALL_MS                                                                       \
    10000u /* an account's nonce standing still this long with                                     \
              transactions outstanding: they are sent again */
#define OCTO_SETTLE_REFUNDS_MAX 65536u
#define OCTO_SETTLE_WAIT_MS 120000u  /* a receipt waits this long for its escrow to finalize */
#define OCTO_SETTLE_SLASHES_MAX 256u /* failed results waiting for their escrow */

struct octo_settler_config {
    uv_loop_t *loop;
    struct octo_validator *chain;         /* the node's chain service (it follows or votes) */
    const struct octo_identity *identity; /* the orchestrator's: signs SETTLE */
    const struct octo_identity *payer;    /* another account's: signs ESCROW and REFUND */
    const struct octo_clock *clock;
};

struct octo_settler_stats {
    uint64_t escrows_sent, escrows_dropped, escrows_unregistered, receipts_queued, receipts_sent,
        receipts_dropped, settles_sent, refunds_sent, refunds_dropped, txs_refused, nonce_resyncs,
        resubmits, slashes_sent, slashes_dropped;
    uint64_t escrowed_amount; /* base units */
    uint32_t waiting;         /* intents in the FIFO */
};

struct octo_settler;

/* Errors: OCTO_EINVAL (the payer is the orchestrator), OCTO_ENOMEM. The account may register as an
 * orchestrator later: until the ledger says it has, escrows are refused (OCTO_ESTATE) and its tasks
 * are not settled on chain. */
OCTO_MUST_USE int octo_settler_start(struct octo_settler **out,
                                     const struct octo_settler_config *cfg);
void octo_settler_stop(struct octo_settler *s);
void octo_settler_destroy(struct octo_settler *s);

/* The task's escrow: amount base units, refundable after expires_ms (unix ms). Returns 0 (sent
 * or queued), OCTO_ESTATE (the account is not a registered orchestrator) or OCTO_ELIMIT (the
 * FIFO is full). Without an escrow the task is not settled on chain. */
OCTO_MUST_USE int octo_settler_escrow(struct octo_settler *s, const uint8_t task[32],
                                      uint64_t amount, uint64_t expires_ms);
/* A verified receipt, settled in a coming SETTLE; expires_ms is its escrow's expiry (a receipt
 * that cannot be settled has its escrow refunded after it). Returns 0 or OCTO_ELIMIT (then the
 * escrow is refunded instead). */
OCTO_MUST_USE int octo_settler_receipt(struct octo_settler *s,
                                       const uint8_t receipt[OCTO_RECEIPT_LEN],
                                       uint64_t expires_ms);
/* A provider's verified receipt for a result that then failed verification (re-execution
 * disagreed): sent as the orchestrator's SLASH_FAILED once the ledger shows its escrow open,
 * which refunds the escrow to the payer and slashes the provider's stake. Returns 0, or
 * OCTO_ELIMIT (OCTO_SETTLE_SLASHES_MAX wait already: the escrow is refunded instead). Do not
 * also report the task failed: the slash refunds it (or, when it cannot apply, a refund). */
OCTO_MUST_USE int octo_settler_slash(struct octo_settler *s,
                                     const uint8_t receipt[OCTO_RECEIPT_LEN], uint64_t expires_ms);
/* The task failed: its escrow is refunded once the ledger's time passes its expiry. */
void octo_settler_failed(struct octo_settler *s, const uint8_t task[32], uint64_t expires_ms);
/* Whether the ledger holds an open escrow of task made by the payer for this orchestrator (a
 * task recovered after a restart): its expiry and amount. */
bool octo_settler_escrow_open(struct octo_settler *s, const uint8_t task[32], uint64_t *expires_ms,
                              uint64_t *amount);

/* The orchestrator's address (its public key): the receipts' orchestrator. */
const uint8_t *octo_settler_address(const struct octo_settler *s);
/* The payer's address: the escrows' and the receipts' requester. */
const uint8_t *octo_settler_payer(const struct octo_settler *s);
const uint8_t *octo_settler_chain_id(const struct octo_settler *s);
const struct octo_settler_stats *octo_settler_stats(const struct octo_settler *s);

#endif
