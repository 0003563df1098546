/*
 * apikeys.h — the gateway's API keys on the storage interface: each key is bound to a ledger
 * account and has a budget (base units) and a rate limit (requests per minute).
 *
 * A key is shown to its owner once, as text "octo-<id>-<secret>" (id: 12 lowercase hex
 * digits, public, the row's key; secret: 64 hex digits). Only SHA-256 of the secret is
 * stored, so the database alone cannot be used to call the gateway; the check compares the
 * hashes in constant time (octo_apikey_check).
 *
 * Spending: octo_apikey_spend adds to `spent` only if the result stays within the budget, in
 * one conditional UPDATE whose change count decides (two gateways racing on one key cannot
 * overspend it); a refusal is OCTO_ERANGE. A revoked key stays in the table (its spending is
 * history) and no longer passes the check. Nothing here reads a clock or draws randomness:
 * the caller passes now and the new key's bytes.
 */
#ifndef OCTO_STORE_APIKEYS_H
#define OCTO_STORE_APIKEYS_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_APIKEY_ID_HEX 12     /* hex digits of the public id */
#define OCTO_APIKEY_SECRET_LEN 32 /* bytes of the secret (64 hex digits in the text) */
#define OCTO_APIKEY_TEXT_LEN (5 + OCTO_APIKEY_ID_HEX + 1 + 2 * OCTO_APIKEY_SECRET_LEN)
#define OCTO_APIKEY_LIST_MAX 1000u
#define OCTO_APIKEY_RATE_MAX 1000000u /* requests per minute */
#define OCTO_APIKEY_U64_MAX ((uint64_t)INT64_MAX)

struct octo_apikey {
    char id[OCTO_APIKEY_ID_HEX + 1];
    uint8_t hash[32]; /* SHA-256 of the secret */
    uint8_t account[32];
    uint64_t budget, spent;
    uint32_t rate_per_min; /* 1..OCTO_APIKEY_RATE_MAX */
    uint64_t created_ms;
    bool revoked;
};

/* A new key from 6 + 32 random bytes the caller drew: rec filled (hash of the secret, the
 * given account, budget, rate and time), text the key as shown once (NUL-terminated). */
void octo_apikey_make(const uint8_t id_bytes[OCTO_APIKEY_ID_HEX / 2],
                      const uint8_t secret[OCTO_APIKEY_SECRET_LEN], const uint8_t account[32],
                      uint64_t budget, uint32_t rate_per_min, uint64_t now_ms,
                      struct octo_apikey *rec, char text[OCTO_APIKEY_TEXT_LEN + 1]);
/* Splits a key's text into its id and the SHA-256 of its secret. OCTO_EINVAL if it is not
 * a key's shape. */
OCTO_MUST_USE int octo_apikey_parse(const char *text, char id[OCTO_APIKEY_ID_HEX + 1],
                                    uint8_t hash[32]);
/* Does hash (from parse) match rec, and is rec not revoked? Constant time in the hash. */
bool octo_apikey_check(const struct octo_apikey *rec, const uint8_t hash[32]);

/* Errors: OCTO_EINVAL (out of range), OCTO_EEXIST (the id is taken), store errors. */
OCTO_MUST_USE int octo_apikey_insert(struct octo_store *s, const struct octo_apikey *rec);
/* OCTO_ENOTFOUND when there is no such id. */
OCTO_MUST_USE int octo_apikey_get(struct octo_store *s, const char *id, struct octo_apikey *out);
/* OCTO_ERANGE: over the budget (nothing changed); OCTO_ENOTFOUND; OCTO_ESTATE: revoked. */
OCTO_MUST_USE int octo_apikey_spend(struct octo_store *s, const char *id, uint64_t amount);
OCTO_MUST_USE int octo_apikey_revoke(struct octo_store *s, const char *id);
/* Every key in id order (at most OCTO_APIKEY_LIST_MAX); fn returning nonzero stops. */
typedef int (*octo_apikey_fn)(void *ctx, const struct octo_apikey *rec);
OCTO_MUST_USE int octo_apikey_list(struct octo_store *s, octo_apikey_fn fn, void *ctx);

#endif
