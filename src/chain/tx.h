/*
 * tx.h — the ledger's signed transactions, task receipts and double-vote evidence, in one
 * canonical encoding each. Pure: no allocation, no I/O.
 *
 * Integers are big-endian; lengths exact (no trailing bytes). An address is an Ed25519 public
 * key (32 bytes); amounts are integers in base units (OCTO_UNIT per whole token).
 *
 *   TX        version u8 (1) | type u8 | from [32] | nonce u64 | fee u64 | body | sig [64]
 *     TRANSFER      to [32] | token u8 | amount u64
 *     REGISTER      role u8
 *     STAKE         amount u64                   (more OCTO on a registered role)
 *     UNSTAKE       amount u64
 *     ESCROW        task [32] | orchestrator [32] | amount u64 | expires_ms u64
 *     REFUND        task [32]                    (the requester, once the escrow expired)
 *     SETTLE        count u16 | RECEIPT [count]  (1..OCTO_TX_RECEIPTS_MAX, sent by the
 *                                                 orchestrator all of them name)
 *     SLASH_DOUBLE  offender [32] | EVIDENCE | EVIDENCE   (two conflicting consensus messages
 *                                                 the offender's key signed)
 *     SLASH_FAILED  RECEIPT                      (the orchestrator reports a failed result)
 *   RECEIPT   version u8 (1) | task [32] | requester [32] | orchestrator [32] | provider [32] |
 *             input [32] | output [32] | tokens u64 | start_ms u64 | end_ms u64 | price u64 |
 *             sig [64] (the provider's)                                    (OCTO_RECEIPT_LEN)
 *   EVIDENCE  tag u8 (1: a VOTE message as chain/msg.h encodes it, OCTO_CONS_VOTE_LEN bytes;
 *             2: a signed block header: view u64 | height u64 | parent_view u64 | parent [32] |
 *             payload_hash [32] | signer u16 | sig [64])
 *
 * Signatures are domain-separated by a tag and the chain id (tags without their NUL):
 *   tx sig       over "OCTO-TX-v1" | chain_id | the tx without its sig
 *   receipt sig  over "OCTO-RCPT-v1" | chain_id | the receipt without its sig
 * A transaction's id is SHA-256 of its whole encoding (libsodium accepts one encoding of a
 * valid signature, so the id cannot be changed without the sender's key).
 *
 * Decoders accept only that encoding: known version, type, token and role; a nonzero amount
 * where one moves; from != to; a receipt's end_ms >= start_ms; evidence with known tags.
 * Anything else is OCTO_EMALFORMED (OCTO_ETOOBIG over OCTO_TX_MAX), checked before any field
 * is used. Whether the signatures hold is octo_tx_verify's business, whether the sender can
 * pay is the ledger's.
 */
#ifndef OCTO_CHAIN_TX_H
#define OCTO_CHAIN_TX_H

#include "base/err.h"
#include "chain/msg.h"
#include "crypto/ident.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_TX_VERSION 1
#define OCTO_ADDR_LEN 32
#define OCTO_TX_ID_LEN 32
#define OCTO_UNIT UINT64_C(1000000) /* base units per whole token */
#define OCTO_TX_RECEIPTS_MAX 256    /* receipts in one SETTLE */
#define OCTO_RECEIPT_LEN 289
#define OCTO_TX_HDR_LEN 50        /* version, type, from, nonce, fee */
#define OCTO_EVIDENCE_HDR_LEN 155 /* tag + a signed block header */
#define OCTO_TX_MAX (OCTO_TX_HDR_LEN + 2 + OCTO_TX_RECEIPTS_MAX * OCTO_RECEIPT_LEN + 64)
#define OCTO_TX_TRANSFER_LEN (OCTO_TX_HDR_LEN + 41 + 64) /* 155 */

enum octo_token {
    OCTO_TOKEN_OCTO = 0,
    OCTO_TOKEN_A = 1, /* OCTO-A, compute providers */
    OCTO_TOKEN_S = 2, /* OCTO-S, storage providers */
    OCTO_TOKEN_B = 3, /* OCTO-B, bandwidth providers */
    OCTO_TOKEN_O = 4, /* OCTO-O, orchestrators */
    OCTO_TOKEN_N = 5, /* OCTO-N, node operators */
};
#define OCTO_TOKENS 6

enum octo_stake_role {
    OCTO_STAKE_NONE = 0,
    OCTO_STAKE_VALIDATOR = 1,
    OCTO_STAKE_COMPUTE = 2,   /* provider staking OCTO-A */
    OCTO_STAKE_STORAGE = 3,   /* provider staking OCTO-S */
    OCTO_STAKE_BANDWIDTH = 4, /* provider staking OCTO-B */
    OCTO_STAKE_ORCHESTRATOR = 5,
};
#define OCTO_STAKE_ROLES 6

enum octo_tx_type {
    OCTO_TX_TRANSFER = 1,
    OCTO_TX_REGISTER = 2,
    OCTO_TX_STAKE = 3,
    OCTO_TX_UNSTAKE = 4,
    OCTO_TX_ESCROW = 5,
    OCTO_TX_REFUND = 6,
    OCTO_TX_SETTLE = 7,
    OCTO_TX_SLASH_DOUBLE = 8,
    OCTO_TX_SLASH_FAILED = 9,
};

struct octo_receipt {
    uint8_t task[32], requester[OCTO_ADDR_LEN], orchestrator[OCTO_ADDR_LEN],
        provider[OCTO_ADDR_LEN];
    uint8_t input[32], output[32]; /* commitments: job spec + inputs, result */
    uint64_t tokens, start_ms, end_ms, price;
    uint8_t sig[64];
};

enum octo_evidence_tag {
    OCTO_EVIDENCE_VOTE = 1,
    OCTO_EVIDENCE_HEADER = 2,
};

/* One signed consensus message: a vote, or a proposal reduced to its header. */
struct octo_evidence {
    uint8_t tag;
    uint64_t view;
    uint16_t signer;
    uint8_t kind;                    /* VOTE: enum octo_cons_vote_kind */
    uint8_t block[OCTO_CONS_ID_LEN]; /* VOTE: the block voted for */
    struct octo_cons_block header;   /* HEADER */
    uint8_t sig[OCTO_CONS_SIG_LEN];
};

/* A decoded transaction. A SETTLE's receipts stay in the input (receipts points there). */
struct octo_tx {
    uint8_t type;
    uint8_t from[OCTO_ADDR_LEN];
    uint64_t nonce, fee;
    union {
        struct {
            uint8_t to[OCTO_ADDR_LEN];
            uint8_t token;
            uint64_t amount;
        } transfer;
        uint8_t role;    /* REGISTER */
        uint64_t amount; /* STAKE, UNSTAKE */
        struct {
            uint8_t task[32], orchestrator[OCTO_ADDR_LEN];
            uint64_t amount, expires_ms;
        } escrow;
        uint8_t task[32]; /* REFUND */
        struct {
            const uint8_t *receipts; /* count * OCTO_RECEIPT_LEN bytes */
            uint16_t count;
        } settle;
        struct {
            uint8_t offender[OCTO_ADDR_LEN];
            struct octo_evidence ev[2];
        } slash;                     /* SLASH_DOUBLE */
        struct octo_receipt receipt; /* SLASH_FAILED */
    } u;
    uint8_t sig[64];
};

/* Encodes t (with its sig as given) into out[0..cap); returns the length, OCTO_ENOSPACE,
 * or OCTO_EINVAL when t breaks a rule decode enforces. */
OCTO_MUST_USE int octo_tx_encode(const struct octo_tx *t, uint8_t *out, size_t cap);

/* Decodes in[0..len). Errors: OCTO_EMALFORMED, OCTO_ETOOBIG. */
OCTO_MUST_USE int octo_tx_decode(const uint8_t *in, size_t len, struct octo_tx *t);

/* Signs an encoded transaction in place (its last 64 bytes) as sender (the tx's from). */
void octo_tx_sign(const uint8_t chain_id[32], uint8_t *tx, size_t len,
                  const struct octo_identity *sender);

/* 0 when the encoded tx (already decoded as t) carries from's valid signature, else
 * OCTO_EBADSIG. The receipts of a SETTLE or SLASH_FAILED must carry their providers'
 * signatures too. */
OCTO_MUST_USE int octo_tx_verify(const uint8_t chain_id[32], const uint8_t *tx, size_t len,
                                 const struct octo_tx *t);

void octo_tx_id(const uint8_t *tx, size_t len, uint8_t id[OCTO_TX_ID_LEN]);

/* Receipts: encode writes exactly OCTO_RECEIPT_LEN bytes; decode checks the rules above. */
void octo_receipt_encode(const struct octo_receipt *r, uint8_t out[OCTO_RECEIPT_LEN]);
OCTO_MUST_USE int octo_receipt_decode(const uint8_t *in, size_t len, struct octo_receipt *r);
void octo_receipt_sign(const uint8_t chain_id[32], uint8_t rec[OCTO_RECEIPT_LEN],
                       const struct octo_identity *provider);
OCTO_MUST_USE int octo_receipt_verify(const uint8_t chain_id[32],
                                      const uint8_t rec[OCTO_RECEIPT_LEN]);

/* The bytes an evidence item's signature covers, as the consensus core signed them. */
size_t octo_evidence_signed(const uint8_t chain_id[32], const struct octo_evidence *e,
                            uint8_t out[OCTO_CONS_VOTE_SIGNED_MAX]);
/* Whether a and b are two messages one validator may never both sign: NOTARIZE (or proposal)
 * of two blocks in one view (a proposal counts as NOTARIZE of its block id on chain_id),
 * FINALIZE of two blocks in one view, SKIP and FINALIZE in one view. Signatures and signer
 * indexes are not checked here (a signer index is the set's of its time; the ledger checks
 * the offender's key). */
bool octo_evidence_conflict(const uint8_t chain_id[32], const struct octo_evidence *a,
                            const struct octo_evidence *b);

/* Names for the CLI and JSON: "transfer", "octo", "OCTO-A", "validator", ... (or NULL). */
const char *octo_tx_type_name(uint8_t type);
const char *octo_token_name(uint8_t token);
const char *octo_stake_role_name(uint8_t role);
int octo_token_parse(const char *s);      /* enum octo_token, or OCTO_EINVAL */
int octo_stake_role_parse(const char *s); /* enum octo_stake_role (not NONE), or OCTO_EINVAL */

#endif
