/*
 * consensus.h — stake-weighted Simplex (../shared/design/CONSENSUS.md §3-4), sans-I/O.
 *
 * Views v = 1, 2, ... each have one leader, drawn by stake from the chain's seed and v
 * (octo_cons_leader). In view v a validator:
 *   - as leader, asks the application for a payload (NEED_PAYLOAD) and proposes a block whose
 *     parent is the newest notarized block such that every view in between is skipped;
 *   - votes NOTARIZE for the leader's first valid proposal when its parent is notarized (or is
 *     the last finalized block) and every view between parent and v has a skip certificate;
 *   - votes SKIP when no proposal got its vote within 2 delta of entering v, or v is not
 *     notarized within 3 delta (timeouts grow while no block finalizes);
 *   - on a notarization (votes of more than 2/3 of the stake for one block) votes FINALIZE for
 *     it unless it voted SKIP in v, and enters v + 1; a skip certificate also moves it on.
 * A FINALIZE quorum finalizes the block and its ancestors, which are handed to the application
 * in height order (FINALIZED), fetched from peers (BLOCK_REQ) when missing. A gap longer than
 * OCTO_CONS_SYNC_SWITCH blocks is walked back keeping only the ids (so it need not fit the
 * block table), then fetched forward and delivered a batch at a time.
 *
 * The three voting rules are assertions that stay on: never NOTARIZE two blocks in a view;
 * never both SKIP and FINALIZE in a view; FINALIZE only a notarized block, NOTARIZE only on a
 * notarized parent with skipped gaps. Every own vote and proposal is emitted as PERSIST (to be
 * written and synced) right before the SEND that carries it, or not at all; certificates of
 * settled views are persisted too, and so is another leader's block before this validator
 * votes NOTARIZE for it (so no notarized block is lost when all who voted for it restart). After a
 * restart the shell replays the records (octo_cons_restore) before anything else, so no rule is
 * broken across a crash. Conflicting signed messages from one validator (two proposals or two
 * NOTARIZE in a view, SKIP and FINALIZE in a view) are reported as EVIDENCE.
 *
 * Pure: no clock (now_ms comes with each call), no I/O, no randomness; the state is allocated
 * in init, block payloads as blocks arrive (OCTO_CONS_BLOCKS_MAX of them at most). Bounded
 * everywhere: OCTO_CONS_WINDOW views ahead of the last finalized one are tracked, with each
 * validator's first vote of each kind per view (a conflicting second one is evidence, never
 * counted), OCTO_CONS_BLOCKS_MAX blocks held; anything beyond is dropped and counted. Messages are
 * verified (encoding, view range, validator, Ed25519 signature, leader) before they change any
 * state.
 */
#ifndef OCTO_CHAIN_CONSENSUS_H
#define OCTO_CHAIN_CONSENSUS_H

#include "chain/msg.h"
#include "crypto/ident.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_CONS_WINDOW 64 /* views tracked past the last finalized one */
#define OCTO_CONS_CANDIDATES                                                                       \
    2                             /* notarized (or finalized) blocks kept per view: more than      \
                                     one only if a third of the stake lies */
#define OCTO_CONS_BLOCKS_MAX 1024 /* blocks held (unfinalized, and recent finalized ones) */
#define OCTO_CONS_ACTIONS_MAX 512 /* actions one call may emit */
#define OCTO_CONS_SYNC_BATCH 16   /* blocks sent back for one block request */
#define OCTO_CONS_SYNC_SWITCH 256 /* a catch-up longer than this keeps ids, not blocks */
#define OCTO_CONS_SYNC_IDS_MAX (1u << 22) /* heights one catch-up may span (128 MiB of ids) */
#define OCTO_CONS_OUT_BYTES ((size_t)OCTO_CONS_MSG_MAX + ((size_t)1 << 20)) /* their bytes */

struct octo_cons_validator {
    uint8_t pk[OCTO_ED25519_PK_LEN];
    uint64_t weight; /* stake; > 0 */
};

/* Checks a block's payload before this validator votes for it (the ledger's rules); 0 if
 * valid. NULL: every payload is valid. */
typedef int (*octo_cons_validate_fn)(void *ctx, const struct octo_cons_block *b,
                                     const uint8_t *payload, size_t len);

struct octo_cons_config {
    uint8_t chain_id[OCTO_CONS_ID_LEN];
    uint8_t seed[OCTO_CONS_ID_LEN]; /* leader schedule */
    const struct octo_cons_validator *validators;
    uint32_t n_validators; /* 1..OCTO_CONS_VALIDATORS_MAX; total weight < 2^62 */
    uint64_t delta_ms;     /* the assumed network delay bound, >= 1 */
    octo_cons_validate_fn validate;
    void *validate_ctx;
    /* No vote or proposal at or below this view: views this validator may have voted in under
     * another validator set (whose votes this core cannot replay), 0 for none. */
    uint64_t vote_floor;
    /* Gaps longer than this many blocks are caught up keeping ids only (0: the default,
     * OCTO_CONS_SYNC_SWITCH; tests set it low to exercise that path). */
    uint32_t catch_up_switch;
};

/* The last finalized block, where a (re)started validator begins. Genesis: view 0, height 0,
 * the chain's genesis id. */
struct octo_cons_anchor {
    uint64_t view;
    uint64_t height;
    uint8_t id[OCTO_CONS_ID_LEN];
};

enum octo_cons_action_kind {
    OCTO_CONS_ACT_PERSIST = 1,  /* write data (an own vote) durably before the next action */
    OCTO_CONS_ACT_SEND,         /* send data to validator `to`, or to all others if to == ALL */
    OCTO_CONS_ACT_NEED_PAYLOAD, /* this node leads `view`: call octo_cons_propose */
    OCTO_CONS_ACT_FINALIZED,    /* block (view, height, id) with payload data is final;
                                   `proposal` is the signed block, for the blockstore */
    OCTO_CONS_ACT_EVIDENCE,     /* data: two conflicting messages of validator `to`, each as
                                   u32 length | encoding */
    OCTO_CONS_ACT_FETCH,        /* validator `to` asked for block `id`, which the core no
                                   longer holds: send it from the blockstore if it is there,
                                   with up to OCTO_CONS_SYNC_BATCH - 1 of its ancestors */
};

#define OCTO_CONS_TO_ALL UINT32_MAX

struct octo_cons_action {
    enum octo_cons_action_kind kind;
    uint32_t to;
    const uint8_t *data; /* in the out buffer, or the core's block (valid until the next call) */
    size_t len;
    uint64_t view, height;
    uint8_t id[OCTO_CONS_ID_LEN];
    struct octo_cons_proposal proposal; /* FINALIZED (its payload is data) */
};

/* What one call asks of the shell, in order. Caller-allocated (large: use the heap); reset by
 * every call. */
struct octo_cons_out {
    struct octo_cons_action acts[OCTO_CONS_ACTIONS_MAX];
    size_t n;
    uint64_t wake_ms; /* call octo_cons_tick at (or after) this time */
    size_t used;
    uint8_t bytes[OCTO_CONS_OUT_BYTES];
};

/* Counters of what arrived and what was done with it. */
struct octo_cons_stats {
    uint64_t received, malformed, bad_signature, not_validator, not_leader, stale, too_far,
        duplicate, dropped_full, invalid_payload, evidence, proposals, votes_sent, finalized,
        skipped_views, requests_sent, syncs,
        conflicts; /* a finalization not descending from the last one (or too far to walk) */
};

struct octo_cons_state; /* consensus.c */

struct octo_cons {
    struct octo_cons_state *st;
};

/* self: this validator's key (NULL: follow only, never vote), which must be in the set.
 * Errors: OCTO_EINVAL (bad config or a key not in the set), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_cons_init(struct octo_cons *c, const struct octo_cons_config *cfg,
                                 const struct octo_identity *self,
                                 const struct octo_cons_anchor *anchor);
void octo_cons_deinit(struct octo_cons *c);

/* Replays one persisted record (an own vote or proposal, a block voted for, or a certificate
 * of a settled view, from ACT_PERSIST), before octo_cons_start. Records at or before the anchor's
 * view are accepted and ignored (a log may drop them once that view is finalized); an own vote or
 * proposal past the tracked window makes this node vote no more up to its view. Errors:
 * OCTO_EMALFORMED (not this validator's vote, not a leader's proposal on this chain, or an
 * invalid certificate), OCTO_ENOSPACE. */
OCTO_MUST_USE int octo_cons_restore(struct octo_cons *c, const uint8_t *rec, size_t len);

/* Enters the first view to work on (after the anchor, or the newest restored vote's view). */
void octo_cons_start(struct octo_cons *c, uint64_t now_ms, struct octo_cons_out *out);

/* A message from validator `from` (OCTO_CONS_TO_ALL if unknown). Bad input is counted (stats)
 * and dropped; returns 0 or why: OCTO_EMALFORMED (encoding, or a certificate under the
 * quorum), OCTO_ETOOBIG, OCTO_EBADSIG, OCTO_EPERM (not a validator, or a proposal from a
 * validator that does not lead its view), OCTO_ESTATE (a view already finalized),
 * OCTO_ERANGE (a view too far ahead to track), OCTO_ENOSPACE (no room to keep a block). */
int octo_cons_receive(struct octo_cons *c, uint64_t now_ms, uint32_t from, const uint8_t *msg,
                      size_t len, struct octo_cons_out *out);

/* Time passed: timeouts, rebroadcasts, block requests. */
void octo_cons_tick(struct octo_cons *c, uint64_t now_ms, struct octo_cons_out *out);

/* The payload for `view` after ACT_NEED_PAYLOAD. Errors: OCTO_ETOOBIG (over
 * OCTO_CONS_PAYLOAD_MAX), OCTO_EINVAL (this node does not lead the current view, or has
 * proposed or skipped in it), OCTO_ENOTFOUND (the parent block is not held yet: it is asked
 * for, and NEED_PAYLOAD comes again when it arrives). */
int octo_cons_propose(struct octo_cons *c, uint64_t now_ms, uint64_t view, const uint8_t *payload,
                      size_t len, struct octo_cons_out *out);

/* An unfinalized block a proposal builds on (pointers into the core: valid until the next
 * call that changes it). */
struct octo_cons_pending {
    const struct octo_cons_block *hdr;
    const uint8_t *id;
    const uint8_t *payload;
    uint32_t len;
};

/* The unfinalized ancestors a proposal for `view` would extend, oldest first (the parent
 * last; none when it extends the last finalized block), so the application can build its
 * payload on them. Returns their count, OCTO_ENOTFOUND (one is not held yet),
 * OCTO_EINVAL (view is not one a proposal can be made in), OCTO_ENOSPACE (more than max). */
int octo_cons_pending(struct octo_cons *c, uint64_t view, struct octo_cons_pending *out,
                      size_t max);

/* A long catch-up in progress: the height it goes to (0: none), the ids collected, whether it
 * is still walking back. */
void octo_cons_sync_state(const struct octo_cons *c, uint64_t *top, uint64_t *ids, bool *back);

/* The payload of a held block (NULL when not held), e.g. a parent's from the validate hook. */
const uint8_t *octo_cons_payload(const struct octo_cons *c, const uint8_t id[OCTO_CONS_ID_LEN],
                                 uint32_t *len);

/* The leader of view v (an index into the validator set). */
uint32_t octo_cons_leader(const struct octo_cons *c, uint64_t v);

/* A finalization certificate for block id of `view`, for the blockstore (a node that missed a
 * validator set change catches up to its last block with it): the last finalization this core
 * saw if it is that block's, else one built from the FINALIZE votes it holds for the block.
 * OCTO_ENOTFOUND when it has neither (the block was finalized as an ancestor of a later one). */
OCTO_MUST_USE int octo_cons_final_cert(const struct octo_cons *c, uint64_t view,
                                       const uint8_t id[OCTO_CONS_ID_LEN],
                                       struct octo_cons_cert *out);

/* The view being worked on, and the last finalized block. */
uint64_t octo_cons_view(const struct octo_cons *c);
struct octo_cons_anchor octo_cons_finalized(const struct octo_cons *c);
const struct octo_cons_stats *octo_cons_stats(const struct octo_cons *c);

#endif
