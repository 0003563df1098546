/*
 * merkle.h — RFC 6962 §2.1 Merkle hash trees over SHA-256, with inclusion (audit path) and
 * consistency proofs; verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.
 *
 *   leaf hash      SHA-256(0x00 || leaf)
 *   interior node  SHA-256(0x01 || left || right)
 *   MTH({})        SHA-256("")
 *   MTH(D[n])      split at k, the largest power of two smaller than n
 *
 * The functions work over an array of leaf hashes owned by the caller (struct
 * octo_merkle_hash, so const arrays convert cleanly). Nothing allocates and nothing
 * recurses: subtree roots are computed with a fixed stack of at most 64 pending subtrees,
 * and proofs are produced by walking down the split points. Generation costs O(n) hashes.
 */
#ifndef OCTO_CRYPTO_MERKLE_H
#define OCTO_CRYPTO_MERKLE_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_MERKLE_HASH_LEN 32
#define OCTO_MERKLE_LEAVES_MAX (UINT64_C(1) << 48)
#define OCTO_MERKLE_PROOF_MAX 64 /* hashes in any proof accepted or produced */

struct octo_merkle_hash {
    uint8_t bytes[OCTO_MERKLE_HASH_LEN];
};

/* SHA-256(0x00 || leaf[0..len)). */
void octo_merkle_leaf_hash(const uint8_t *leaf, size_t len, struct octo_merkle_hash *out);

/* SHA-256(0x01 || left || right). */
void octo_merkle_node_hash(const struct octo_merkle_hash *left,
                           const struct octo_merkle_hash *right, struct octo_merkle_hash *out);

/* MTH over the n leaf hashes leaves[0..n) (n = 0 gives SHA-256("")).
 * Errors: OCTO_ETOOBIG (n > OCTO_MERKLE_LEAVES_MAX). */
OCTO_MUST_USE int octo_merkle_root(const struct octo_merkle_hash *leaves, uint64_t n,
                                   struct octo_merkle_hash *out);

/* Audit path PATH(index, D[n]) into proof[0..proof_max), leaf side first; *proof_len (OUT)
 * receives its length. Errors: OCTO_EINVAL (index >= n), OCTO_ETOOBIG (n over the limit),
 * OCTO_ENOSPACE (proof_max too small; OCTO_MERKLE_PROOF_MAX always suffices). */
OCTO_MUST_USE int octo_merkle_inclusion_proof(const struct octo_merkle_hash *leaves, uint64_t n,
                                              uint64_t index, struct octo_merkle_hash *proof,
                                              size_t proof_max, size_t *proof_len);

/* Checks that leaf_hash is leaf `index` of the tree of size n with the given root.
 * Returns 0, OCTO_EINVAL (index >= n or n over the limit), OCTO_ETOOBIG (proof_len over
 * OCTO_MERKLE_PROOF_MAX), OCTO_EBADSIG (the proof does not verify). */
OCTO_MUST_USE int octo_merkle_inclusion_verify(const struct octo_merkle_hash *leaf_hash,
                                               uint64_t index, uint64_t n,
                                               const struct octo_merkle_hash *proof,
                                               size_t proof_len,
                                               const struct octo_merkle_hash *root);

/* Consistency proof PROOF(m, D[n]) for 0 <= m <= n (empty when m == 0 or m == n).
 * Errors: OCTO_EINVAL (m > n), OCTO_ETOOBIG, OCTO_ENOSPACE as for the inclusion proof. */
OCTO_MUST_USE int octo_merkle_consistency_proof(const struct octo_merkle_hash *leaves, uint64_t n,
                                                uint64_t m, struct octo_merkle_hash *proof,
                                                size_t proof_max, size_t *proof_len);

/* Checks that the tree of size m with root_m is a prefix of the tree of size n with root_n.
 * m == n: the proof must be empty and the roots equal; m == 0: the proof must be empty and
 * root_m the empty-tree root. Returns 0, OCTO_EINVAL (m > n, n over the limit),
 * OCTO_ETOOBIG (proof too long), OCTO_EBADSIG. */
OCTO_MUST_USE int octo_merkle_consistency_verify(uint64_t m, uint64_t n,
                                                 const struct octo_merkle_hash *root_m,
                                                 const struct octo_merkle_hash *root_n,
                                                 const struct octo_merkle_hash *proof,
                                                 size_t proof_len);

#endif
