/*
 * msg.h — the consensus wire messages (stake-weighted Simplex, chain/consensus.h) and their one
 * canonical encoding. Pure: no allocation, no I/O.
 *
 * Every message is: version (1 byte, OCTO_CONS_MSG_VERSION), type (1 byte), then the fixed
 * layout of its type; integers are big-endian, lengths exact (no trailing bytes):
 *
 *   PROPOSAL   view u64 | height u64 | parent_view u64 | parent [32] | payload_len u32 |
 *              payload [payload_len] | signer u16 | sig [64]
 *   VOTE       kind u8 | view u64 | block [32] | signer u16 | sig [64]          (109 bytes)
 *   CERT       kind u8 | view u64 | block [32] | signers u64 (bit i = validator i) |
 *              sig [64] per set bit, in ascending validator order
 *   BLOCK_REQ  block [32]                                                          (34 bytes)
 *
 * Decoders accept only that encoding: a known version, type and kind; view >= 1; a SKIP vote or
 * certificate has an all-zero block; a proposal has height >= 1, parent_view < view and
 * payload_len <= OCTO_CONS_PAYLOAD_MAX; signer < OCTO_CONS_VALIDATORS_MAX; a certificate names
 * at least one signer; the length is exactly what the fields say. Anything else is
 * OCTO_EMALFORMED (OCTO_ETOOBIG for a payload or message over its maximum), checked before any
 * use of the bytes. Whether a signer is in the validator set, the signatures and the quorum are
 * the consensus core's business.
 *
 * Block ids and signing bytes are domain-separated by a tag and the chain id:
 *   block id      = SHA-256("OCTO-CONS-BLOCK-v1" | chain_id | view | height | parent_view |
 *                           parent | payload_hash), payload_hash = SHA-256(payload)
 *   proposal sig  over "OCTO-CONS-PROPOSAL-v1" | chain_id | block id
 *   vote sig      over "OCTO-CONS-VOTE-v1" | chain_id | kind | view | block
 * (tags without their NUL; integers as above). A certificate carries the votes' own
 * signatures, so each verifies as a vote.
 */
#ifndef OCTO_CHAIN_MSG_H
#define OCTO_CHAIN_MSG_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_CONS_MSG_VERSION 1
#define OCTO_CONS_ID_LEN 32
#define OCTO_CONS_SIG_LEN 64
#define OCTO_CONS_VALIDATORS_MAX 64      /* a certificate's signer set is one u64 */
#define OCTO_CONS_PAYLOAD_MAX (1u << 20) /* bytes of one block's payload */
#define OCTO_CONS_VOTE_LEN 109           /* an encoded vote */
#define OCTO_CONS_BLOCK_REQ_LEN 34       /* an encoded block request */
#define OCTO_CONS_PROPOSAL_FIXED 128     /* an encoded proposal without its payload */
#define OCTO_CONS_CERT_FIXED 51          /* an encoded certificate without its signatures */
#define OCTO_CONS_CERT_MAX (OCTO_CONS_CERT_FIXED + OCTO_CONS_VALIDATORS_MAX * OCTO_CONS_SIG_LEN)
#define OCTO_CONS_MSG_MAX (OCTO_CONS_PROPOSAL_FIXED + OCTO_CONS_PAYLOAD_MAX) /* the largest */
#define OCTO_CONS_VOTE_SIGNED_MAX 128 /* bytes a vote's or a proposal's signature covers */

enum octo_cons_msg_type {
    OCTO_CONS_MSG_PROPOSAL = 1,
    OCTO_CONS_MSG_VOTE = 2,
    OCTO_CONS_MSG_CERT = 3,
    OCTO_CONS_MSG_BLOCK_REQ = 4,
};

/* What a vote or certificate says about its view. */
enum octo_cons_vote_kind {
    OCTO_CONS_NOTARIZE = 1, /* this block may extend the chain at this view */
    OCTO_CONS_FINALIZE = 2, /* this notarized block is final */
    OCTO_CONS_SKIP = 3,     /* nothing is notarized at this view (block all zero) */
};

/* A block's header: what its id covers. Genesis is height 0, view 0, and has no header. */
struct octo_cons_block {
    uint64_t view;
    uint64_t height;      /* parent's height + 1 */
    uint64_t parent_view; /* the view the parent was proposed in (0: genesis) */
    uint8_t parent[OCTO_CONS_ID_LEN];
    uint8_t payload_hash[OCTO_CONS_ID_LEN]; /* SHA-256 of the payload */
};

struct octo_cons_proposal {
    struct octo_cons_block block; /* decode fills payload_hash from the payload */
    const uint8_t *payload;       /* decode: points into the input */
    uint32_t payload_len;
    uint16_t signer; /* the view's leader */
    uint8_t sig[OCTO_CONS_SIG_LEN];
};

struct octo_cons_vote {
    uint8_t kind; /* enum octo_cons_vote_kind */
    uint64_t view;
    uint8_t block[OCTO_CONS_ID_LEN];
    uint16_t signer;
    uint8_t sig[OCTO_CONS_SIG_LEN];
};

struct octo_cons_cert {
    uint8_t kind;
    uint64_t view;
    uint8_t block[OCTO_CONS_ID_LEN];
    uint64_t signers;                                          /* bit i: validator i signed */
    uint8_t sigs[OCTO_CONS_VALIDATORS_MAX][OCTO_CONS_SIG_LEN]; /* first popcount entries used */
};

struct octo_cons_msg {
    uint8_t type; /* enum octo_cons_msg_type */
    union {
        struct octo_cons_proposal proposal;
        struct octo_cons_vote vote;
        struct octo_cons_cert cert;
        uint8_t block_req[OCTO_CONS_ID_LEN];
    } u;
};

/* Encodes m into out[0..cap); returns the length, OCTO_ENOSPACE if cap is too small,
 * OCTO_EINVAL if m breaks a rule the decoder enforces (so every encoding decodes). */
OCTO_MUST_USE int octo_cons_msg_encode(const struct octo_cons_msg *m, uint8_t *out, size_t cap);

/* Decodes in[0..len) into m (a proposal's payload points into in). Errors: OCTO_EMALFORMED,
 * OCTO_ETOOBIG (see the top). */
OCTO_MUST_USE int octo_cons_msg_decode(const uint8_t *in, size_t len, struct octo_cons_msg *m);

/* The id of block b on chain chain_id. */
void octo_cons_block_id(const uint8_t chain_id[OCTO_CONS_ID_LEN], const struct octo_cons_block *b,
                        uint8_t out[OCTO_CONS_ID_LEN]);

/* The bytes a vote's signature covers (returns their length, <= OCTO_CONS_VOTE_SIGNED_MAX). */
size_t octo_cons_vote_signed(const uint8_t chain_id[OCTO_CONS_ID_LEN], uint8_t kind, uint64_t view,
                             const uint8_t block[OCTO_CONS_ID_LEN],
                             uint8_t out[OCTO_CONS_VOTE_SIGNED_MAX]);

/* The bytes a proposal's signature covers, given its block id. */
size_t octo_cons_proposal_signed(const uint8_t chain_id[OCTO_CONS_ID_LEN],
                                 const uint8_t block_id[OCTO_CONS_ID_LEN],
                                 uint8_t out[OCTO_CONS_VOTE_SIGNED_MAX]);

/* Number of signers in a certificate. */
unsigned octo_cons_cert_count(const struct octo_cons_cert *c);

#endif
