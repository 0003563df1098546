/*
 * validator_int.h — what validator.c (the consensus shell, peers, blocks) and
 * validator_rpc.c (the client calls) share. Not a public interface.
 */
#ifndef OCTO_NODE_VALIDATOR_INT_H
#define OCTO_NODE_VALIDATOR_INT_H

#include "chain/block.h"
#include "chain/consensus.h"
#include "chain/ledger.h"
#include "chain/mempool.h"
#include "node/validator.h"
#include "node/wal.h"

#define VAL_PEERS_MAX (2 * OCTO_CONS_VALIDATORS_MAX) /* the genesis set and the current one */
#define VAL_BOOK_MAX 256                             /* validators' addresses learnt by identify */
#define VAL_PROPOSED_KEPT 64   /* own proposals remembered for the finality latency */
#define VAL_FINALITY_KEPT 4096 /* latency samples kept for the percentiles */

/* Another validator of the genesis or the current set: where to reach it and our stream to
 * it (we only send on our streams and only read on theirs). */
struct val_peer {
    struct octo_validator *v;
    uint8_t pk[OCTO_ADDR_LEN];
    struct octo_peerid id;
    struct octo_multiaddr addrs[OCTO_GENESIS_ADDRS_MAX];
    size_t n_addrs, next_addr;
    struct octo_net_stream *out;
    bool open;                /* negotiated */
    bool in_set;              /* a validator of the current set: transactions are relayed to it */
    uint64_t hello_served_ms; /* when we last answered its hello */
    bool dialing;
    uint64_t retry_at_ms;
    uint8_t *q; /* bytes the stream did not take yet */
    size_t q_len, q_cap;
};

/* An inbound stream: frames (chain) or one request (RPC) being read. */
struct val_in {
    struct octo_validator *v;
    struct octo_net_stream *s;
    bool rpc;
    bool has_pk; /* the peer's key (the stream came on a Noise connection) */
    uint8_t pk[OCTO_ADDR_LEN];
    uint8_t *buf;
    size_t len, cap;
    uint8_t *resp; /* RPC: the answer frame, written as the stream takes it */
    size_t resp_len, resp_off;
};

/* Where a peer said it listens (identify): how validators that joined after genesis are
 * found. */
struct val_book {
    uint8_t pk[OCTO_ADDR_LEN];
    struct octo_multiaddr addrs[OCTO_GENESIS_ADDRS_MAX];
    size_t n_addrs;
};

struct val_proposed {
    uint64_t view, at_us;
};

struct octo_validator {
    struct octo_validator_config cfg;
    struct octo_ledger ledger;
    struct octo_mempool pool;
    struct octo_cons cons;
    bool cons_ok;
    struct octo_cons_out *out, *out2;
    struct octo_wal wal;
    uint64_t wal_kept; /* size after the last compaction */
    char wal_file[OCTO_PATH_MAX];
    char wal_base[OCTO_PATH_MAX]; /* cfg.wal_path, copied (the caller's may not outlive start) */
    struct octo_cons_validator vals[OCTO_CONS_VALIDATORS_MAX];
    uint32_t n_vals, self; /* self: index in vals, or UINT32_MAX (following) */
    struct val_peer peers[VAL_PEERS_MAX];
    uint32_t n_peers;
    struct val_book book[VAL_BOOK_MAX];
    size_t n_book, book_next;
    uv_timer_t timer, dial_timer, idle_timer;
    uv_idle_t admit_idle; /* runs while gossiped transactions wait in admit */
    uint8_t *admit;       /* frames: u32 length | u8 relay | transaction */
    size_t admit_off, admit_len, admit_cap;
    bool timer_on;
    struct octo_block_scratch *scratch;
    uint8_t *payload;
    uint8_t (*ids)[OCTO_TX_ID_LEN];
    uint8_t *results;
    struct octo_block_tx *pending; /* the unfinalized ancestors' transactions */
    size_t pending_cap;
    bool want_propose, reconfig, stopped, driving;
    bool validating; /* inside validate (called by the core): no proposal from there */
    bool idle_wait;  /* a proposal waits (up to delta / 2) for a transaction */
    uint64_t propose_view, idle_view;
    uint64_t idle_timer_view, idle_deadline_ms; /* the view whose deadline the timer holds */
    struct val_proposed proposed[VAL_PROPOSED_KEPT];
    uint32_t finality_us[VAL_FINALITY_KEPT]; /* proposal to finalization, own blocks */
    uint64_t n_finality;
    uint64_t progress_height, progress_ms; /* the height, and since when it has not moved */
    uint64_t hello_ms;                     /* when we last said hello to every peer */
    size_t in_streams;                     /* inbound streams open */
    size_t in_bytes;                       /* their buffers, all together */
    struct octo_validator_stats stats;
};

/* validator.c */
uint64_t val_now_ms(const struct octo_validator *v);
uint64_t val_now_us(const struct octo_validator *v);
/* The q-th permille of the kept finality samples (microseconds), 0 when there are none. */
uint32_t val_finality_us(const struct octo_validator *v, unsigned permille);
uint64_t val_wall_ms(const struct octo_validator *v);
/* Admits a transaction to the pool and, when accepted and relay is set, sends it to the
 * validators of the current set; returns the mempool reason. Transactions that came from a
 * client are relayed; those another validator sent us are not (it sent them to every
 * validator it reaches; one it does not reach gets them in the block). */
int val_submit(struct octo_validator *v, const uint8_t *tx, size_t len, uint8_t id[32], bool relay);

/* validator_rpc.c: answers one request (JSON text) with a NUL-terminated octo_malloc'd JSON
 * response (NULL when out of memory). */
char *val_rpc(struct octo_validator *v, const char *req, size_t len);

#endif
