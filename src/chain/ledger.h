/*
 * ledger.h — the protocol state and its deterministic state machine: accounts holding OCTO and
 * the role tokens, stakes by node type with unbonding in block time, task escrows, settlement
 * of signed task receipts, slashing by evidence, and the validator set of each epoch
 * (ARCHITECTURE.md §5, CONSENSUS.md). Pure and integer-only: the same finalized blocks give
 * the same state, byte for byte, on every validator.
 *
 * State is a list of objects in creation order (accounts, escrows, evidence marks), each with
 * one canonical encoding, plus a small meta record (height, block time, epoch, supply, burned,
 * validator set). The state root is
 *     SHA-256("OCTO-STATE-v1" | meta | MTH(objects))
 * with MTH the RFC 6962 tree over the objects' encodings in creation order, kept up to date
 * incrementally: a block rehashes its changed objects and their ancestors only.
 *
 * A block's transactions run in order. One whose sender is unknown, whose nonce is not the
 * account's next, whose fee is under the minimum or cannot be paid has no effect at all
 * (result BAD_NONCE etc.). Any other pays its fee to the block's proposer and uses its nonce;
 * then it either takes full effect (OK) or none beyond the fee (the result says why).
 * Settlement splits a receipt's price 70 % provider, 10 % orchestrator, 10 % treasury, 5 %
 * governance, 5 % burned (the burn takes the rounding), refunds the rest of the escrow, and
 * closes the escrow, so a task is paid at most once. Unbonding stake returns to the balance
 * at the first block whose time is at or past its release. Supply is conserved per token:
 * balances + stakes + unbonding + open escrows + burned.
 *
 * Bounded: OCTO_LEDGER_OBJECTS_MAX objects (a transaction that would create more fails with
 * FULL), OCTO_LEDGER_UNBOND_MAX pending unbonds per account, supply below 2^62 per token so
 * no sum can overflow.
 */
#ifndef OCTO_CHAIN_LEDGER_H
#define OCTO_CHAIN_LEDGER_H

#include "chain/block.h"
#include "chain/consensus.h"
#include "chain/tx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_LEDGER_OBJECTS_MAX (1u << 24)
#define OCTO_LEDGER_UNBOND_MAX 8
#define OCTO_LEDGER_OBJECT_MAX_LEN (1 + 32 + 12 * 8 + 8 + 3 + OCTO_LEDGER_UNBOND_MAX * 17)
#define OCTO_LEDGER_META_MAX (4 * 8 + 12 * 8 + 1 + OCTO_CONS_VALIDATORS_MAX * 40 + 32)
#define OCTO_LEDGER_SUPPLY_MAX (UINT64_C(1) << 62)
#define OCTO_LEDGER_ROOTS_KEPT 256 /* recent state roots, by height, for block checks */
#define OCTO_LEDGER_HASH_KEY_LEN 16

struct octo_ledger_params {
    uint64_t min_fee;                      /* OCTO base units per transaction */
    uint64_t unbond_ms;                    /* 7 days */
    uint64_t epoch_blocks;                 /* validator set changes after heights divisible by it */
    uint64_t stake_octo[OCTO_STAKE_ROLES]; /* OCTO a registered role keeps staked */
    uint64_t stake_token[OCTO_STAKE_ROLES]; /* and of its role token */
    uint32_t slash_double_bps;              /* of stake (staked + unbonding), double vote */
    uint32_t slash_failed_bps;              /* of a provider's stake, failed verification */
    uint32_t max_validators;                /* 1..OCTO_CONS_VALIDATORS_MAX */
    uint8_t treasury[OCTO_ADDR_LEN], governance[OCTO_ADDR_LEN];
};

/* The design's numbers: validator 10,000 OCTO; providers 10,000 OCTO + 500 of their token;
 * orchestrator 5,000 OCTO + 500 OCTO-O; 7-day unbonding; min fee 0.001 OCTO; epochs of 1,000
 * blocks; 5 % (double vote) and 10 % (failed verification) slashes. Treasury and governance
 * addresses are left zero: the genesis sets them. */
void octo_ledger_params_default(struct octo_ledger_params *p);

/* The token a role stakes besides OCTO (OCTO_TOKENS for none). */
unsigned octo_stake_role_token(uint8_t role);

struct octo_ledger_alloc {
    uint8_t addr[OCTO_ADDR_LEN];
    uint64_t amount[OCTO_TOKENS];
};

struct octo_ledger_genesis_validator {
    uint8_t pk[OCTO_ADDR_LEN];
    uint64_t stake; /* OCTO staked at genesis (>= the validator minimum) */
};

struct octo_ledger_genesis {
    uint8_t chain_id[32];
    uint64_t time_ms;
    struct octo_ledger_params params;
    const struct octo_ledger_alloc *allocs;
    uint32_t n_allocs;
    const struct octo_ledger_genesis_validator *validators;
    uint32_t n_validators; /* 1..max_validators */
};

struct octo_unbond {
    uint8_t token;
    uint64_t amount, release_ms;
};

struct octo_account {
    uint8_t addr[OCTO_ADDR_LEN];
    uint64_t balance[OCTO_TOKENS], staked[OCTO_TOKENS];
    uint64_t nonce; /* the next transaction's */
    uint8_t role;   /* enum octo_stake_role */
    uint8_t jailed; /* slashed for a double vote: never a validator again */
    uint8_t n_unbond;
    struct octo_unbond unbond[OCTO_LEDGER_UNBOND_MAX]; /* by release time */
};

enum octo_escrow_state {
    OCTO_ESCROW_OPEN = 1,
    OCTO_ESCROW_SETTLED = 2,
    OCTO_ESCROW_REFUNDED = 3,
    OCTO_ESCROW_FAILED = 4, /* a failed verification: refunded, provider slashed */
};

struct octo_escrow {
    uint8_t task[32], requester[OCTO_ADDR_LEN], orchestrator[OCTO_ADDR_LEN];
    uint64_t amount, expires_ms;
    uint8_t state;
};

/* Per-transaction outcome (octo_tx_result_name gives its name). */
#define OCTO_TX_RESULTS(X)                                                                         \
    X(OK, 0, "ok")                                                                                 \
    X(NO_ACCOUNT, 1, "sender has no account")                                                      \
    X(BAD_NONCE, 2, "wrong nonce")                                                                 \
    X(FEE_TOO_LOW, 3, "fee under the minimum")                                                     \
    X(CANNOT_PAY_FEE, 4, "balance does not cover the fee")                                         \
    X(MALFORMED, 5, "malformed transaction")                                                       \
    X(INSUFFICIENT, 16, "insufficient balance")                                                    \
    X(ALREADY_REGISTERED, 17, "already registered")                                                \
    X(NOT_REGISTERED, 18, "not registered")                                                        \
    X(STAKE_TOO_LOW, 19, "stake would fall under the role's minimum")                              \
    X(UNBOND_FULL, 20, "too many pending unbonds")                                                 \
    X(JAILED, 21, "jailed validator")                                                              \
    X(ESCROW_EXISTS, 22, "escrow exists for this task")                                            \
    X(NO_ESCROW, 23, "no escrow for this task")                                                    \
    X(ESCROW_CLOSED, 24, "escrow already closed")                                                  \
    X(NOT_EXPIRED, 25, "escrow not expired")                                                       \
    X(EXPIRY_PASSED, 26, "expiry not in the future")                                               \
    X(NOT_ORCHESTRATOR, 27, "not the task's registered orchestrator")                              \
    X(NOT_REQUESTER, 28, "not the task's requester")                                               \
    X(NOT_PROVIDER, 29, "not a registered provider")                                               \
    X(RECEIPT_MISMATCH, 30, "receipt does not match the escrow")                                   \
    X(OVER_ESCROW, 31, "price over the escrowed amount")                                           \
    X(DUPLICATE_TASK, 32, "task twice in one settlement")                                          \
    X(BAD_EVIDENCE, 33, "evidence does not prove a double vote")                                   \
    X(EVIDENCE_SEEN, 34, "evidence already used")                                                  \
    X(NOT_VALIDATOR, 35, "offender has no stake to slash")                                         \
    X(FULL, 36, "ledger object limit reached")

enum octo_tx_result {
#define OCTO_TXR_ENUM(name, value, msg) OCTO_TXR_##name = (value),
    OCTO_TX_RESULTS(OCTO_TXR_ENUM)
#undef OCTO_TXR_ENUM
};

/* "ok", "wrong nonce", ... ; "unknown" for anything else. */
const char *octo_tx_result_str(int r);
/* Whether the transaction took its nonce and fee (every result from INSUFFICIENT on). */
static inline bool octo_tx_result_charged(int r)
{
    return r == OCTO_TXR_OK || r >= OCTO_TXR_INSUFFICIENT;
}

struct octo_ledger_block_ctx {
    uint64_t height;  /* the ledger's height + 1 */
    uint64_t time_ms; /* the payload's time, >= the last block's, < 2^62 */
    uint8_t proposer[OCTO_ADDR_LEN];
};

struct octo_ledger_stats {
    uint64_t blocks, txs_ok, txs_failed, txs_skipped, receipts_settled, slashes, unbonds_released;
};

struct octo_ledger_state; /* ledger.c */

struct octo_ledger {
    struct octo_ledger_state *st;
};

/* The state at genesis (height 0). hash_key keys the in-memory index (SipHash) against
 * crafted keys; it never touches the state. Errors: OCTO_EINVAL (bad parameters, duplicate
 * or zero addresses, supply over OCTO_LEDGER_SUPPLY_MAX, a validator under the minimum),
 * OCTO_ENOMEM. */
OCTO_MUST_USE int octo_ledger_init(struct octo_ledger *l, const struct octo_ledger_genesis *g,
                                   const uint8_t hash_key[OCTO_LEDGER_HASH_KEY_LEN]);
void octo_ledger_deinit(struct octo_ledger *l);

/* Runs one finalized block's (already checked) transactions; results[i] receives each one's
 * enum octo_tx_result. Errors before any change: OCTO_ESTATE (height is not the next, or time
 * goes backwards), OCTO_ENOMEM (nothing ran). A transaction that does not decode is MALFORMED,
 * never a crash. */
OCTO_MUST_USE int octo_ledger_apply(struct octo_ledger *l, const struct octo_ledger_block_ctx *ctx,
                                    const struct octo_block_tx *txs, uint32_t n, uint8_t *results);

uint64_t octo_ledger_height(const struct octo_ledger *l);
uint64_t octo_ledger_time(const struct octo_ledger *l);
const uint8_t *octo_ledger_chain_id(const struct octo_ledger *l);
const struct octo_ledger_params *octo_ledger_params(const struct octo_ledger *l);
void octo_ledger_root(const struct octo_ledger *l, uint8_t root[32]);
/* The root after block `height`, if it is among the last OCTO_LEDGER_ROOTS_KEPT (else
 * OCTO_ENOTFOUND). */
OCTO_MUST_USE int octo_ledger_root_at(const struct octo_ledger *l, uint64_t height,
                                      uint8_t root[32]);
const struct octo_ledger_stats *octo_ledger_stats(const struct octo_ledger *l);

OCTO_MUST_USE int octo_ledger_account(const struct octo_ledger *l,
                                      const uint8_t addr[OCTO_ADDR_LEN], struct octo_account *out);
OCTO_MUST_USE int octo_ledger_escrow(const struct octo_ledger *l, const uint8_t task[32],
                                     struct octo_escrow *out);

/* The validator set in force (for the consensus core), and whether the last block changed it
 * (an epoch boundary that moved stake). */
uint32_t octo_ledger_validators(const struct octo_ledger *l, struct octo_cons_validator *out,
                                uint32_t max);
bool octo_ledger_validators_changed(const struct octo_ledger *l);

/* Supply per token, and burned. */
void octo_ledger_supply(const struct octo_ledger *l, uint64_t supply[OCTO_TOKENS],
                        uint64_t burned[OCTO_TOKENS]);
/* Recounts every object: 0 when each token's balances, stakes, unbonding, open escrows and
 * burned add up to its supply and every account's entries are well formed, else OCTO_ESTATE. */
OCTO_MUST_USE int octo_ledger_audit(const struct octo_ledger *l);

/* Persistence. After init or apply, the objects changed (by index, ascending) and each one's
 * encoding; the meta record (which carries the root). A store keeps objects by index and the
 * meta record, written together with the block. */
size_t octo_ledger_changed(const struct octo_ledger *l, const uint32_t **idx);
uint32_t octo_ledger_objects(const struct octo_ledger *l);
OCTO_MUST_USE int octo_ledger_object(const struct octo_ledger *l, uint32_t idx, uint8_t *out,
                                     size_t cap);
size_t octo_ledger_meta(const struct octo_ledger *l, uint8_t out[OCTO_LEDGER_META_MAX]);

/* Restoring a stored state into a ledger fresh from octo_ledger_init (same genesis): every
 * stored object in index order (index <= the current count: replace or append), then the meta
 * record, which rebuilds the tree and checks the root it names and the state's consistency
 * (supply, escrow parties, unbond times, validator set). Errors: OCTO_EMALFORMED (an
 * encoding, an index out of order, a root that does not match, an inconsistent state),
 * OCTO_ENOMEM. After an error the ledger is unusable: deinit it. */
OCTO_MUST_USE int octo_ledger_load_object(struct octo_ledger *l, uint32_t idx, const uint8_t *in,
                                          size_t len);
OCTO_MUST_USE int octo_ledger_load_meta(struct octo_ledger *l, const uint8_t *in, size_t len);

#endif
