/*
 * block.c — block payloads: framing, checks, roots, building and proofs (layout: block.h).
 *
 * Parsing walks the length-prefixed transactions once, checking each length against what is
 * left before it moves on, and refuses trailing bytes. The receipt tree's leaves are found
 * from a decodable transaction's type and count without decoding it again: a SETTLE's
 * receipts follow its count, a SLASH_FAILED's receipt is its whole body.
 */
#include "chain/block.h"

#include "base/assert.h"
#include "base/endian.h"

#include <string.h>

_Static_assert(OCTO_BLOCK_HDR_LEN == 1 + 8 + 8 + 3 * 32 + 4, "payload header layout");

int octo_block_parse(const uint8_t *in, size_t len, struct octo_block_hdr *h,
                     struct octo_block_tx *txs)
{
    if (in == NULL || h == NULL || txs == NULL)
        return OCTO_EINVAL;
    if (len > OCTO_CONS_PAYLOAD_MAX)
        return OCTO_ETOOBIG;
    if (len < OCTO_BLOCK_HDR_LEN || in[0] != OCTO_BLOCK_VERSION)
        return OCTO_EMALFORMED;
    h->time_ms = octo_load_be64(in + 1);
    h->state_height = octo_load_be64(in + 9);
    memcpy(h->state_root, in + 17, 32);
    memcpy(h->tx_root, in + 49, 32);
    memcpy(h->receipt_root, in + 81, 32);
    h->n_tx = octo_load_be32(in + 113);
    if (h->n_tx > OCTO_BLOCK_TXS_MAX)
        return OCTO_ETOOBIG;
    size_t off = OCTO_BLOCK_HDR_LEN;
    for (uint32_t i = 0; i < h->n_tx; i++) {
        if (len - off < 4)
            return OCTO_EMALFORMED;
        uint32_t n = octo_load_be32(in + off);
        off += 4;
        if (n > OCTO_TX_MAX)
            return OCTO_ETOOBIG;
        if (n > len - off)
            return OCTO_EMALFORMED;
        txs[i].p = in + off;
        txs[i].len = n;
        off += n;
    }
    return off == len ? 0 : OCTO_EMALFORMED;
}

int octo_block_tx_receipts(const struct octo_block_tx *tx, const uint8_t **first)
{
    *first = NULL;
    if (tx->len < 2)
        return 0;
    const uint8_t *body = tx->p + OCTO_TX_HDR_LEN;
    size_t avail = tx->len > OCTO_TX_HDR_LEN ? tx->len - OCTO_TX_HDR_LEN : 0;
    uint32_t count;
    if (tx->p[1] == OCTO_TX_SETTLE) {
        if (avail < 2)
            return OCTO_EMALFORMED;
        count = octo_load_be16(body);
        body += 2;
        avail -= 2;
    } else if (tx->p[1] == OCTO_TX_SLASH_FAILED) {
        count = 1;
    } else {
        return 0;
    }
    if ((size_t)count * OCTO_RECEIPT_LEN > avail)
        return OCTO_EMALFORMED;
    *first = body;
    return (int)count;
}

/* Appends the receipt leaves of one tx to s->receipt_leaves[*nr..]. */
static int receipt_leaves(const struct octo_block_tx *tx, struct octo_block_scratch *s,
                          uint32_t *nr)
{
    const uint8_t *body;
    int count = octo_block_tx_receipts(tx, &body);
    if (count <= 0)
        return count;
    if ((uint32_t)count > OCTO_BLOCK_RECEIPTS_MAX - *nr)
        return OCTO_ETOOBIG;
    for (int k = 0; k < count; k++)
        octo_merkle_leaf_hash(body + (size_t)k * OCTO_RECEIPT_LEN, OCTO_RECEIPT_LEN,
                              &s->receipt_leaves[(*nr)++]);
    return 0;
}

/* Leaf hashes of both trees into s; *nr receives the receipt count. */
static int leaves(const struct octo_block_tx *txs, uint32_t n, struct octo_block_scratch *s,
                  uint32_t *nr, uint32_t *bad)
{
    OCTO_ASSERT(n <= OCTO_BLOCK_TXS_MAX);
    *nr = 0;
    for (uint32_t i = 0; i < n; i++) {
        octo_merkle_leaf_hash(txs[i].p, txs[i].len, &s->tx_leaves[i]);
        int rc = receipt_leaves(&txs[i], s, nr);
        if (rc != 0) {
            *bad = i;
            return rc;
        }
    }
    return 0;
}

static int roots_of(const struct octo_block_tx *txs, uint32_t n, struct octo_block_scratch *s,
                    uint8_t tx_root[32], uint8_t receipt_root[32], uint32_t *bad)
{
    uint32_t nr;
    int rc = leaves(txs, n, s, &nr, bad);
    if (rc != 0)
        return rc;
    struct octo_merkle_hash a, b;
    rc = octo_merkle_root(s->tx_leaves, n, &a);
    OCTO_ASSERT(rc == 0);
    rc = octo_merkle_root(s->receipt_leaves, nr, &b);
    OCTO_ASSERT(rc == 0);
    memcpy(tx_root, a.bytes, 32);
    memcpy(receipt_root, b.bytes, 32);
    return 0;
}

int octo_block_roots(const struct octo_block_tx *txs, uint32_t n, struct octo_block_scratch *s,
                     uint8_t tx_root[32], uint8_t receipt_root[32])
{
    uint32_t bad;
    return roots_of(txs, n, s, tx_root, receipt_root, &bad);
}

int octo_block_check(const uint8_t chain_id[32], const struct octo_block_hdr *h,
                     struct octo_block_scratch *s, octo_block_verified_fn verified,
                     void *verified_ctx, uint32_t *bad_tx)
{
    for (uint32_t i = 0; i < h->n_tx; i++) {
        struct octo_tx t;
        *bad_tx = i;
        int rc = octo_tx_decode(s->txs[i].p, s->txs[i].len, &t);
        if (rc != 0)
            return rc == OCTO_ETOOBIG ? rc : OCTO_EMALFORMED;
        if (verified != NULL) {
            uint8_t id[OCTO_TX_ID_LEN];
            octo_tx_id(s->txs[i].p, s->txs[i].len, id);
            if (verified(verified_ctx, id))
                continue;
        }
        if (octo_tx_verify(chain_id, s->txs[i].p, s->txs[i].len, &t) != 0)
            return OCTO_EBADSIG;
    }
    uint8_t tr[32], rr[32];
    int rc = roots_of(s->txs, h->n_tx, s, tr, rr, bad_tx);
    if (rc != 0)
        return rc;
    *bad_tx = h->n_tx;
    if (memcmp(tr, h->tx_root, 32) != 0 || memcmp(rr, h->receipt_root, 32) != 0)
        return OCTO_EMALFORMED;
    return 0;
}

void octo_block_build_init(struct octo_block_builder *b, uint8_t *out, size_t cap)
{
    OCTO_ASSERT(cap >= OCTO_BLOCK_HDR_LEN);
    b->out = out;
    b->cap = cap < OCTO_CONS_PAYLOAD_MAX ? cap : OCTO_CONS_PAYLOAD_MAX;
    b->len = OCTO_BLOCK_HDR_LEN;
    b->n_tx = 0;
}

int octo_block_build_add(struct octo_block_builder *b, const uint8_t *tx, size_t len)
{
    if (len > OCTO_TX_MAX)
        return OCTO_ETOOBIG;
    if (b->n_tx == OCTO_BLOCK_TXS_MAX)
        return OCTO_ETOOBIG;
    if (b->cap - b->len < 4 + len)
        return OCTO_ENOSPACE;
    octo_store_be32(b->out + b->len, (uint32_t)len);
    memcpy(b->out + b->len + 4, tx, len);
    b->len += 4 + len;
    b->n_tx++;
    return 0;
}

int octo_block_build_finish(struct octo_block_builder *b, uint64_t time_ms, uint64_t state_height,
                            const uint8_t state_root[32], struct octo_block_scratch *s)
{
    uint8_t *o = b->out;
    o[0] = OCTO_BLOCK_VERSION;
    octo_store_be64(o + 1, time_ms);
    octo_store_be64(o + 9, state_height);
    memcpy(o + 17, state_root, 32);
    memset(o + 49, 0, 64);
    octo_store_be32(o + 113, b->n_tx);
    struct octo_block_hdr h;
    int rc = octo_block_parse(o, b->len, &h, s->txs);
    if (rc != 0)
        return rc;
    uint32_t bad;
    rc = roots_of(s->txs, h.n_tx, s, o + 49, o + 81, &bad);
    if (rc != 0)
        return rc;
    return (int)b->len;
}

int octo_block_proof(const struct octo_block_hdr *h, struct octo_block_scratch *s, bool receipt,
                     uint32_t index, uint64_t *n_leaves, struct octo_merkle_hash *proof,
                     size_t *proof_len)
{
    uint32_t nr, bad;
    int rc = leaves(s->txs, h->n_tx, s, &nr, &bad);
    if (rc != 0)
        return rc;
    uint64_t n = receipt ? nr : h->n_tx;
    if (index >= n)
        return OCTO_EINVAL;
    *n_leaves = n;
    return octo_merkle_inclusion_proof(receipt ? s->receipt_leaves : s->tx_leaves, n, index, proof,
                                       OCTO_MERKLE_PROOF_MAX, proof_len);
}
