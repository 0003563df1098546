/*
 * validator.h — the chain service of a node: the libuv shell around the consensus core, the
 * ledger, the mempool and the blockstore, talking to the other validators over libp2p
 * streams and answering clients.
 *
 * Protocols (registered on the node's net):
 *   /octo/chain/1.0.0      validators and followers: frames of len u32 (big-endian) | kind u8
 *                          | body; kind 1 a consensus message (chain/msg.h), kind 2 a
 *                          transaction (a client's is relayed to the validators of the set
 *                          by the one that admits it; validators do not relay each other's),
 *                          kind 3 hello: u64 finalized height, answered by a peer that is
 *                          further with the finality proof of the first validator-set end
 *                          after it, or else its last finalization certificate
 *   /octo/chain-rpc/1.0.0  clients: one request frame (len u32 | JSON object), one response
 *                          frame, then the stream closes. Methods:
 *     {"method":"submit","tx":HEX}            -> {"id":HEX,"status":"accepted"} or
 *                                                {"error":{"code":"nonce-used","message":..}}
 *     {"method":"account","address":HEX}     -> the account (balances by token name,
 *                                                stakes, nonce, role, unbonding) or an error
 *     {"method":"block"[,"height":N]}         -> the block (the newest finalized one by
 *                                                default): header, transactions with results
 *     {"method":"tx","id":HEX}                -> height, position, result, the bytes
 *       [,"receipts":true]                       ("raw") and the RFC 6962 inclusion proof
 *                                                against the block's tx root; with receipts,
 *                                                each task receipt it carries with its proof
 *                                                against the receipt root
 *     {"method":"status"}                     -> chain id, height, view, validators, peers,
 *                                                counters, finality latency percentiles
 *                                                ("reset_finality": true starts them afresh)
 *
 * What the core asks to persist is appended to the WAL and synced before the next message
 * leaves; a finalized block is applied to the ledger and committed to the blockstore (block,
 * changed state and transaction index in one transaction) before the next one. At start the
 * ledger is loaded from the blockstore, the core is anchored at the stored head and replays
 * the WAL, so a restart after kill -9 resumes without breaking a voting rule, losing a
 * finalized block or applying one twice. At an epoch boundary that changes the validator set
 * the core is rebuilt on the new set, anchored at that block.
 *
 * Single-threaded: everything runs on the node's libuv loop.
 */
#ifndef OCTO_NODE_VALIDATOR_H
#define OCTO_NODE_VALIDATOR_H

#include "base/clock.h"
#include "chain/ledger.h"
#include "chain/tx.h"
#include "net/net.h"
#include "node/genesis.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define OCTO_CHAIN_PROTOCOL "/octo/chain/1.0.0"
#define OCTO_CHAIN_RPC_PROTOCOL "/octo/chain-rpc/1.0.0"
#define OCTO_CHAIN_FRAME_MAX (1u + OCTO_CONS_MSG_MAX)
#define OCTO_CHAIN_RPC_MAX (256u * 1024u)     /* bytes of an RPC request */
#define OCTO_CHAIN_PEER_QUEUE_MAX (16u << 20) /* bytes queued for one peer */
#define OCTO_CHAIN_WAL_COMPACT (64u << 20)    /* WAL size that triggers compaction */
#define OCTO_CHAIN_MEMPOOL_TXS 200000u
#define OCTO_CHAIN_BLOCK_TXS_DEFAULT 4000u
#define OCTO_CHAIN_IN_STREAMS_MAX 256u         /* inbound chain and RPC streams at once */
#define OCTO_CHAIN_IN_BYTES_MAX (64u << 20)    /* their receive buffers, all together */
#define OCTO_CHAIN_ADMIT_BYTES_MAX (32u << 20) /* gossiped transactions waiting for admission */
#define OCTO_CHAIN_ADMIT_SLICE 128u /* admitted per loop turn (signature checks, ~5 ms) */

enum octo_chain_frame {
    OCTO_CHAIN_FRAME_CONS = 1,
    OCTO_CHAIN_FRAME_TX = 2,
    OCTO_CHAIN_FRAME_HELLO = 3, /* u64 finalized height: "send me what I need to go on" */
};

struct octo_validator_config {
    uv_loop_t *loop;
    struct octo_net *net; /* started; the service registers its protocols on it */
    struct octo_store *store;
    const struct octo_identity *identity;
    const struct octo_genesis *genesis;
    const struct octo_clock *clock;
    const char *wal_path;   /* copied: the WAL files are <wal_path>.<set hash> */
    uint32_t block_txs_max; /* 0: OCTO_CHAIN_BLOCK_TXS_DEFAULT */
};

/* Counters exported as metrics and by the status call. */
struct octo_validator_stats {
    uint64_t blocks_applied, txs_applied, proposals, frames_in, frames_out, frames_bad,
        frames_dropped, rpc_requests, rpc_errors, wal_syncs, root_mismatches, reconfigs,
        tx_gossip_in, tx_gossip_out, tx_admit_dropped, tx_from_blocks, proofs_stored,
        proofs_missing, proofs_sent, hellos_sent;
    uint64_t last_finality_ms; /* proposal to local finalization, for this node's blocks */
};

struct octo_validator;

/* Starts the service. Errors: OCTO_ECONFIG (the store holds another chain, the identity is
 * not a validator of a set it must vote in: it then follows only), OCTO_EIO (WAL), store
 * errors, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_validator_start(struct octo_validator **out,
                                       const struct octo_validator_config *cfg);
/* Stops timers and streams (before the net shuts down); frees on octo_validator_destroy. */
void octo_validator_stop(struct octo_validator *v);
void octo_validator_destroy(struct octo_validator *v);

const struct octo_validator_stats *octo_validator_stats(const struct octo_validator *v);
uint64_t octo_validator_height(const struct octo_validator *v);

/* A transaction of this node's own (the orchestrator's escrows and settlements): admitted to
 * the local pool as a client's would be and relayed to the validators. Returns the mempool's
 * reason (OCTO_MPR_OK when admitted); *id receives its id. */
int octo_validator_submit(struct octo_validator *v, const uint8_t *tx, size_t len,
                          uint8_t id[OCTO_TX_ID_LEN]);
/* One client call (the /octo/chain-rpc/1.0.0 methods above) answered in process: a JSON text
 * to free with cJSON_free, or NULL when out of memory. */
char *octo_validator_query(struct octo_validator *v, const char *json, size_t len);
/* The ledger as of the last block this node applied (read-only). */
const struct octo_ledger *octo_validator_ledger(const struct octo_validator *v);

#endif
