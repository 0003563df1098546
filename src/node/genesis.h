/*
 * genesis.h — the chain's genesis file: allocations, validators (with where to reach them)
 * and parameters, as JSON; its chain id; the ledger it starts.
 *
 *   {
 *     "chain": "octo-testnet",                      name, 1..64 bytes [A-Za-z0-9._-]
 *     "time_ms": 1764460000000,                     genesis block time (unix ms)
 *     "delta_ms": 20,                               consensus network delay bound
 *     "params": {                                   every key optional (the defaults of
 *       "min_fee": "1000",                          octo_ledger_params_default), amounts in
 *       "unbond_ms": "604800000",                   base units as decimal strings (JSON
 *       "epoch_blocks": "1000",                     numbers cannot hold 64 bits)
 *       "max_validators": 16,
 *       "slash_double_bps": 500, "slash_failed_bps": 1000,
 *       "stake": { "validator": ["10000000000", "0"], "compute": [OCTO, OCTO-A], ... },
 *       "treasury": "<64 hex>", "governance": "<64 hex>"
 *     },
 *     "allocations": [ { "address": "<64 hex>", "OCTO": "1000", "OCTO-A": "5", ... } ],
 *     "validators": [ { "address": "<64 hex>", "stake": "10000000000",
 *                       "addrs": ["/ip4/127.0.0.1/tcp/7001"] } ]
 *   }
 *
 * An address is an Ed25519 public key in hex (the node identity's key: a validator's address
 * is its libp2p peer id's key, so "addrs" plus the address give a dialable /p2p multiaddr).
 * Parsing is strict: unknown keys, duplicates, bad hex, amounts that are not canonical
 * decimal u64, and anything octo_ledger_init would refuse are OCTO_ECONFIG with a message
 * naming the field.
 *
 * The chain id (which every signature on the chain is bound to, and the leader schedule's
 * seed) is SHA-256("OCTO-CHAIN-v1" | name | genesis state root | params | delta_ms u64), where
 * params is min_fee, unbond_ms, epoch_blocks (u64 each), stake_octo[r] | stake_token[r] (u64
 * each, for r = 0..OCTO_STAKE_ROLES-1), slash_double_bps, slash_failed_bps, max_validators
 * (u32 each), treasury, governance, all big-endian. The state root alone covers the
 * allocations, validators, stakes and time but not the parameters (the ledger's meta record
 * does not carry them), hence their encoding. So the chain id changes with any allocation,
 * validator stake, parameter, the time, delta_ms and the name; not with the validators'
 * "addrs" (where to reach them is not part of the chain) nor with the text's layout.
 * Numbers in the file (time_ms, delta_ms 1..60000, max_validators, *_bps) are JSON integers
 * of at most 2^53 - 1; "chain", "time_ms", "delta_ms" and "validators" are required,
 * "params" (and each of its keys) and "allocations" optional, "addrs" optional.
 */
#ifndef OCTO_NODE_GENESIS_H
#define OCTO_NODE_GENESIS_H

#include "base/multiaddr.h"
#include "chain/ledger.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_GENESIS_FILE "genesis.json"
#define OCTO_GENESIS_MAX_BYTES (4u * 1024u * 1024u)
#define OCTO_GENESIS_ALLOCS_MAX 100000u
#define OCTO_GENESIS_NAME_MAX 64
#define OCTO_GENESIS_ADDRS_MAX 4 /* multiaddrs per validator */
#define OCTO_GENESIS_ERR_MAX 256

struct octo_genesis_validator {
    uint8_t address[OCTO_ADDR_LEN];
    uint64_t stake;
    struct octo_multiaddr addrs[OCTO_GENESIS_ADDRS_MAX];
    size_t n_addrs;
};

struct octo_genesis {
    char name[OCTO_GENESIS_NAME_MAX + 1];
    uint64_t time_ms;
    uint64_t delta_ms;
    struct octo_ledger_params params;
    struct octo_ledger_alloc *allocs; /* owned (octo_malloc) */
    uint32_t n_allocs;
    struct octo_genesis_validator validators[OCTO_CONS_VALIDATORS_MAX];
    uint32_t n_validators;
    uint8_t chain_id[32]; /* computed by parse */
};

/* Parses JSON text (len bytes). On error *err holds one line naming the field. Errors:
 * OCTO_ECONFIG, OCTO_ETOOBIG (over OCTO_GENESIS_MAX_BYTES or the allocation limit),
 * OCTO_ENOMEM. */
OCTO_MUST_USE int octo_genesis_parse(struct octo_genesis *g, const char *text, size_t len,
                                     char err[OCTO_GENESIS_ERR_MAX]);
/* Reads and parses a file (errors as parse, OCTO_EIO when unreadable or absent); *err starts
 * with the path. g is deinit-safe after an error of parse or load. */
OCTO_MUST_USE int octo_genesis_load(struct octo_genesis *g, const char *path,
                                    char err[OCTO_GENESIS_ERR_MAX]);
void octo_genesis_deinit(struct octo_genesis *g);

/* Writes g as JSON (the format above, keys in that order, amounts as strings, zero
 * allocation amounts left out) into a NUL-terminated octo_malloc'd string;
 * parse(format(g)) == g. NULL on ENOMEM or when the text would exceed
 * OCTO_GENESIS_MAX_BYTES (it could not be read back). */
char *octo_genesis_format(const struct octo_genesis *g);

/* The ledger genesis view of g (pointers into g; valid while g lives). */
void octo_genesis_ledger(const struct octo_genesis *g, struct octo_ledger_genesis *out,
                         struct octo_ledger_genesis_validator vals[OCTO_CONS_VALIDATORS_MAX]);

/* The consensus validator set is the ledger's (octo_ledger_validators after init), whose
 * order (largest stake first, ties by key) the signer indexes of votes refer to. */

#endif
