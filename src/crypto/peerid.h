/*
 * peerid.h — libp2p peer ids.
 *
 * Binary: a multihash of the PublicKey protobuf: identity (00 24 || pb, 38 bytes) for keys
 * whose protobuf is at most 42 bytes (Ed25519), sha2-256 (12 20 || sha256(pb)) otherwise.
 * Text: base58btc of the multihash ("12D3KooW..." for Ed25519), or CIDv1 in multibase base32:
 * 'b' || base32(0x01 || 0x72 (libp2p-key) || multihash) ("bafz..."). Parsing accepts both.
 */
#ifndef OCTO_CRYPTO_PEERID_H
#define OCTO_CRYPTO_PEERID_H

#include "base/err.h"
#include "crypto/ident.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_PEERID_MAX_BYTES 64 /* sha2-256 multihash is 34; identity Ed25519 is 38 */
#define OCTO_PEERID_TEXT_MAX 128 /* fits either text form plus NUL */

struct octo_peerid {
    uint8_t bytes[OCTO_PEERID_MAX_BYTES];
    size_t len;
};

void octo_peerid_from_pubkey(const struct octo_pubkey *pub, struct octo_peerid *out);

/* Validates a binary peer id (a multihash: identity of a PublicKey protobuf, or sha2-256).
 * Errors: OCTO_EMALFORMED, OCTO_ETOOBIG, OCTO_ENONCANON, OCTO_EUNSUPPORTED. */
OCTO_MUST_USE int octo_peerid_from_bytes(const uint8_t *in, size_t len, struct octo_peerid *out);

/* Parses either text form. Same errors as octo_peerid_from_bytes. */
OCTO_MUST_USE int octo_peerid_from_text(const char *text, struct octo_peerid *out);

/* base58btc text; returns length or OCTO_ENOSPACE. */
int octo_peerid_to_base58(const struct octo_peerid *id, char *out, size_t out_size);
/* CIDv1 base32 text ("bafz..."); returns length or OCTO_ENOSPACE. */
int octo_peerid_to_cid(const struct octo_peerid *id, char *out, size_t out_size);

/* Extracts the public key of an identity-multihash peer id (Ed25519). OCTO_EUNSUPPORTED for
 * hashed ids, which do not embed the key. */
OCTO_MUST_USE int octo_peerid_pubkey(const struct octo_peerid *id, struct octo_pubkey *out);

bool octo_peerid_equal(const struct octo_peerid *a, const struct octo_peerid *b);

#endif
