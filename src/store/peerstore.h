/*
 * peerstore.h — the node's persistent peer table on the storage interface.
 *
 * Per peer (key: the binary peer id, 1..OCTO_PEER_ID_MAX bytes): its binary multiaddrs, the
 * protocol ids it speaks, its public key (the libp2p PublicKey protobuf, optional), its agent
 * version (optional) and when it was last seen (unix ms, supplied by the caller: nothing here
 * reads a clock). Addresses and protocols live in child tables with foreign keys to the peer
 * row and ON DELETE CASCADE.
 *
 * Capacity policy: the table holds at most ps->peers_max peers (<= OCTO_PEERSTORE_PEERS_MAX).
 * Putting a NEW peer into a full table evicts the peer with the oldest last_seen_ms (ties: the
 * smallest id) — a peer table is a cache of the network, and the peer seen longest ago is the
 * least likely to still be reachable. If the new peer is older than every stored one it would
 * be the first evicted, so it is refused with OCTO_ETOOBIG instead. Updating a stored peer
 * never evicts.
 *
 * Every call works alone (in its own transaction) or inside a transaction the caller opened
 * on the store (a write transaction for put/delete), e.g. to batch many puts in one commit.
 */
#ifndef OCTO_STORE_PEERSTORE_H
#define OCTO_STORE_PEERSTORE_H

#include "base/buf.h"
#include "base/multiaddr.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_PEER_ID_MAX 64                         /* bytes of a binary peer id */
#define OCTO_PEER_ADDRS_MAX 16                      /* addresses per peer */
#define OCTO_PEER_ADDR_MAX OCTO_MULTIADDR_MAX_BYTES /* bytes of one binary multiaddr */
#define OCTO_PEER_PROTOCOLS_MAX 32                  /* protocol ids per peer */
#define OCTO_PEER_PROTOCOL_MAX 256                  /* bytes of one protocol id */
#define OCTO_PEER_PUBKEY_MAX 2048                   /* bytes of the PublicKey protobuf */
#define OCTO_PEER_AGENT_MAX 256                     /* bytes of the agent version */
#define OCTO_PEERSTORE_PEERS_MAX 100000u            /* ceiling of any peers_max */
#define OCTO_PEERSTORE_PEERS_DEFAULT 10000u         /* peers_max when 0 is given */
#define OCTO_PEERSTORE_LIST_MAX 1000u               /* most peers one list call returns */

/* One address: borrowed bytes. */
struct octo_peer_addr {
    const uint8_t *data;
    size_t len;
};

/*
 * A peer record. For put, every pointer is borrowed for the call. From get, everything points
 * into the caller's arena. Addresses come back in bytewise order, protocols in bytewise order.
 */
struct octo_peerstore_entry {
    const uint8_t *id;
    size_t id_len;                      /* 1..OCTO_PEER_ID_MAX */
    const uint8_t *pubkey;              /* NULL = unknown */
    size_t pubkey_len;                  /* 1..OCTO_PEER_PUBKEY_MAX when present */
    const char *agent;                  /* NUL-terminated UTF-8; NULL = unknown */
    const struct octo_peer_addr *addrs; /* addr_count entries, each 1..OCTO_PEER_ADDR_MAX */
    size_t addr_count;                  /* <= OCTO_PEER_ADDRS_MAX */
    const char *const *protocols;       /* protocol_count NUL-terminated strings */
    size_t protocol_count;              /* <= OCTO_PEER_PROTOCOLS_MAX */
    int64_t last_seen_ms;               /* unix ms, >= 0 */
};

/* A peerstore: the store it lives in and its capacity. Caller-allocated; holds no resources. */
struct octo_peerstore {
    struct octo_store *store;
    uint32_t peers_max;
};

/* Binds a peerstore to a migrated store (octo_store_migrate_node). peers_max 0 means
 * OCTO_PEERSTORE_PEERS_DEFAULT; more than OCTO_PEERSTORE_PEERS_MAX is a programmer error. */
void octo_peerstore_init(struct octo_peerstore *ps, struct octo_store *s, uint32_t peers_max);

/*
 * Inserts or replaces a peer: afterwards the stored record is exactly rec (addresses and
 * protocols replaced; duplicates within rec are stored once).
 * Errors: OCTO_EINVAL (empty id, NULL pointers with counts, empty address/protocol, negative
 * time, agent or protocol not NUL-terminated within its limit), OCTO_ETOOBIG (a limit above,
 * or a full table and a peer older than all stored ones), OCTO_EBUSY, OCTO_ESTATE (inside a
 * read transaction), store errors.
 */
OCTO_MUST_USE int octo_peerstore_put(struct octo_peerstore *ps,
                                     const struct octo_peerstore_entry *rec);

/*
 * Reads a peer. out's pointers point into arena (which must have room: a full record is
 * bounded by the limits above, about 26 KiB); the arena is not reset on failure.
 * Errors: OCTO_ENOTFOUND, OCTO_EINVAL (bad id), OCTO_ETOOBIG (the arena is full, or a stored
 * value exceeds a limit), store errors.
 */
OCTO_MUST_USE int octo_peerstore_get(struct octo_peerstore *ps, const uint8_t *id, size_t id_len,
                                     struct octo_arena *arena, struct octo_peerstore_entry *out);

/* Deletes a peer with its addresses and protocols. Errors: OCTO_ENOTFOUND, OCTO_EINVAL, store
 * errors. */
OCTO_MUST_USE int octo_peerstore_delete(struct octo_peerstore *ps, const uint8_t *id,
                                        size_t id_len);

/* Number of stored peers. Errors: store errors. */
OCTO_MUST_USE int octo_peerstore_count(struct octo_peerstore *ps, uint64_t *out);

/* Called by list for each peer: its id and last-seen time, valid during the call. A negative
 * return stops the listing and is returned by list. */
typedef int (*octo_peerstore_list_fn)(const uint8_t *id, size_t id_len, int64_t last_seen_ms,
                                      void *ctx);

/*
 * Lists up to `limit` peers (1..OCTO_PEERSTORE_LIST_MAX), most recently seen first (ties: the
 * smallest id first). Returns the number listed, or: OCTO_EINVAL (limit out of range), the
 * callback's error, store errors. The callback must not call into the store.
 */
OCTO_MUST_USE int octo_peerstore_list(struct octo_peerstore *ps, size_t limit,
                                      octo_peerstore_list_fn fn, void *ctx);

#endif
