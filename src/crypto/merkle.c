/*
 * merkle.c — RFC 6962 Merkle trees without recursion (see merkle.h).
 *
 * Subtree root of D[lo:hi): the leaves are folded left to right into a stack of perfect
 * subtrees whose sizes are strictly decreasing powers of two (a binary counter: pushing a
 * leaf merges equal-sized tops). At the end the stack holds the subtrees of the binary
 * decomposition of hi - lo, largest first, and folding it from the right gives exactly
 * RFC 6962's MTH, because MTH splits off the largest power of two on the left each time.
 * The stack depth is at most 64 (one entry per bit of the count).
 *
 * Proofs walk the RFC definitions from the root down, remembering the sibling subtree at
 * each split, then reverse that list (the RFC lists the leaf side first).
 */
#include "crypto/merkle.h"

#include "base/assert.h"
#include "crypto/hash.h"

#include <stdbool.h>
#include <string.h>

#define STACK_MAX 64

_Static_assert(OCTO_MERKLE_HASH_LEN == OCTO_SHA256_LEN, "merkle uses sha256");

void octo_merkle_leaf_hash(const uint8_t *leaf, size_t len, struct octo_merkle_hash *out)
{
    static const uint8_t prefix = 0x00;
    OCTO_ASSERT(leaf != NULL || len == 0);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, &prefix, 1);
    octo_sha256_update(&h, leaf, len);
    octo_sha256_final(&h, out->bytes);
}

void octo_merkle_node_hash(const struct octo_merkle_hash *left,
                           const struct octo_merkle_hash *right, struct octo_merkle_hash *out)
{
    static const uint8_t prefix = 0x01;
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, &prefix, 1);
    octo_sha256_update(&h, left->bytes, OCTO_MERKLE_HASH_LEN);
    octo_sha256_update(&h, right->bytes, OCTO_MERKLE_HASH_LEN);
    octo_sha256_final(&h, out->bytes);
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    OCTO_ASSERT(n >= 2);
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    OCTO_DASSERT(k < n && 2 * k >= n);
    return k;
}

/* MTH(D[lo:hi)) for hi > lo, iteratively (see the design comment). */
static void subtree_root(const struct octo_merkle_hash *leaves, uint64_t lo, uint64_t hi,
                         struct octo_merkle_hash *out)
{
    OCTO_ASSERT(hi > lo);
    struct octo_merkle_hash stack[STACK_MAX];
    uint64_t sizes[STACK_MAX];
    size_t depth = 0;
    for (uint64_t i = lo; i < hi; i++) {
        OCTO_ASSERT(depth < STACK_MAX);
        stack[depth] = leaves[i];
        sizes[depth] = 1;
        depth++;
        while (depth >= 2 && sizes[depth - 2] == sizes[depth - 1]) {
            octo_merkle_node_hash(&stack[depth - 2], &stack[depth - 1], &stack[depth - 2]);
            sizes[depth - 2] *= 2;
            depth--;
        }
    }
    while (depth >= 2) {
        octo_merkle_node_hash(&stack[depth - 2], &stack[depth - 1], &stack[depth - 2]);
        depth--;
    }
    *out = stack[0];
}

int octo_merkle_root(const struct octo_merkle_hash *leaves, uint64_t n,
                     struct octo_merkle_hash *out)
{
    OCTO_ASSERT(leaves != NULL || n == 0);
    OCTO_ASSERT(out != NULL);
    if (n > OCTO_MERKLE_LEAVES_MAX)
        return OCTO_ETOOBIG;
    if (n == 0) {
        octo_sha256("", 0, out->bytes);
        return 0;
    }
    subtree_root(leaves, 0, n, out);
    return 0;
}

static void reverse(struct octo_merkle_hash *proof, size_t len)
{
    for (size_t i = 0; i < len / 2; i++) {
        struct octo_merkle_hash t = proof[i];
        proof[i] = proof[len - 1 - i];
        proof[len - 1 - i] = t;
    }
}

/* Appends MTH(D[lo:hi)) to the proof, checking the room. */
static int proof_push(const struct octo_merkle_hash *leaves, uint64_t lo, uint64_t hi,
                      struct octo_merkle_hash *proof, size_t proof_max, size_t *len)
{
    if (*len >= proof_max)
        return OCTO_ENOSPACE;
    subtree_root(leaves, lo, hi, &proof[*len]);
    (*len)++;
    return 0;
}

int octo_merkle_inclusion_proof(const struct octo_merkle_hash *leaves, uint64_t n, uint64_t index,
                                struct octo_merkle_hash *proof, size_t proof_max, size_t *proof_len)
{
    OCTO_ASSERT(leaves != NULL || n == 0);
    OCTO_ASSERT(proof != NULL || proof_max == 0);
    OCTO_ASSERT(proof_len != NULL);
    *proof_len = 0;
    if (n > OCTO_MERKLE_LEAVES_MAX)
        return OCTO_ETOOBIG;
    if (index >= n)
        return OCTO_EINVAL;
    uint64_t lo = 0, hi = n;
    size_t len = 0;
    /* PATH(m, D[lo:hi)): m < k -> PATH(m, left) : MTH(right); else PATH(m-k, right) :
     * MTH(left). Here index stays absolute. */
    while (hi - lo > 1) {
        uint64_t mid = lo + split_point(hi - lo);
        int rc = index < mid ? proof_push(leaves, mid, hi, proof, proof_max, &len)
                             : proof_push(leaves, lo, mid, proof, proof_max, &len);
        if (rc < 0)
            return rc;
        if (index < mid)
            hi = mid;
        else
            lo = mid;
    }
    reverse(proof, len);
    *proof_len = len;
    return 0;
}

int octo_merkle_consistency_proof(const struct octo_merkle_hash *leaves, uint64_t n, uint64_t m,
                                  struct octo_merkle_hash *proof, size_t proof_max,
                                  size_t *proof_len)
{
    OCTO_ASSERT(leaves != NULL || n == 0);
    OCTO_ASSERT(proof != NULL || proof_max == 0);
    OCTO_ASSERT(proof_len != NULL);
    *proof_len = 0;
    if (n > OCTO_MERKLE_LEAVES_MAX)
        return OCTO_ETOOBIG;
    if (m > n)
        return OCTO_EINVAL;
    if (m == 0 || m == n)
        return 0;
    /* SUBPROOF(m, D[lo:hi), b), m relative to lo. */
    uint64_t lo = 0, hi = n;
    bool b = true;
    size_t len = 0;
    int rc = 0;
    for (;;) {
        uint64_t size = hi - lo;
        if (m == size) {
            if (!b)
                rc = proof_push(leaves, lo, hi, proof, proof_max, &len);
            break;
        }
        uint64_t k = split_point(size);
        if (m <= k) {
            rc = proof_push(leaves, lo + k, hi, proof, proof_max, &len);
            hi = lo + k;
        } else {
            rc = proof_push(leaves, lo, lo + k, proof, proof_max, &len);
            lo += k;
            m -= k;
            b = false;
        }
        if (rc < 0)
            break;
    }
    if (rc < 0)
        return rc;
    reverse(proof, len);
    *proof_len = len;
    return 0;
}

static bool hash_equal(const struct octo_merkle_hash *a, const struct octo_merkle_hash *b)
{
    return memcmp(a->bytes, b->bytes, OCTO_MERKLE_HASH_LEN) == 0;
}

int octo_merkle_inclusion_verify(const struct octo_merkle_hash *leaf_hash, uint64_t index,
                                 uint64_t n, const struct octo_merkle_hash *proof, size_t proof_len,
                                 const struct octo_merkle_hash *root)
{
    OCTO_ASSERT(leaf_hash != NULL);
    OCTO_ASSERT(proof != NULL || proof_len == 0);
    OCTO_ASSERT(root != NULL);
    if (n > OCTO_MERKLE_LEAVES_MAX || index >= n)
        return OCTO_EINVAL;
    if (proof_len > OCTO_MERKLE_PROOF_MAX)
        return OCTO_ETOOBIG;
    /* RFC 9162 §2.1.3.2 */
    uint64_t fn = index, sn = n - 1;
    struct octo_merkle_hash r = *leaf_hash;
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0)
            return OCTO_EBADSIG;
        if ((fn & 1) != 0 || fn == sn) {
            octo_merkle_node_hash(&proof[i], &r, &r);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            octo_merkle_node_hash(&r, &proof[i], &r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !hash_equal(&r, root))
        return OCTO_EBADSIG;
    return 0;
}

static bool is_pow2(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* RFC 9162 §2.1.4.2 for 0 < m < n. path = [root_m if m is a power of 2] ++ proof. */
static int consistency_verify_proper(uint64_t m, uint64_t n, const struct octo_merkle_hash *root_m,
                                     const struct octo_merkle_hash *root_n,
                                     const struct octo_merkle_hash *proof, size_t proof_len)
{
    if (proof_len == 0)
        return OCTO_EBADSIG;
    bool prepend = is_pow2(m);
    size_t path_len = proof_len + (prepend ? 1 : 0);
    uint64_t fn = m - 1, sn = n - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    const struct octo_merkle_hash *first = prepend ? root_m : &proof[0];
    struct octo_merkle_hash fr = *first, sr = *first;
    for (size_t i = 1; i < path_len; i++) {
        const struct octo_merkle_hash *c = &proof[prepend ? i - 1 : i];
        if (sn == 0)
            return OCTO_EBADSIG;
        if ((fn & 1) != 0 || fn == sn) {
            octo_merkle_node_hash(c, &fr, &fr);
            octo_merkle_node_hash(c, &sr, &sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            octo_merkle_node_hash(&sr, c, &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !hash_equal(&fr, root_m) || !hash_equal(&sr, root_n))
        return OCTO_EBADSIG;
    return 0;
}

int octo_merkle_consistency_verify(uint64_t m, uint64_t n, const struct octo_merkle_hash *root_m,
                                   const struct octo_merkle_hash *root_n,
                                   const struct octo_merkle_hash *proof, size_t proof_len)
{
    OCTO_ASSERT(root_m != NULL);
    OCTO_ASSERT(root_n != NULL);
    OCTO_ASSERT(proof != NULL || proof_len == 0);
    if (n > OCTO_MERKLE_LEAVES_MAX || m > n)
        return OCTO_EINVAL;
    if (proof_len > OCTO_MERKLE_PROOF_MAX)
        return OCTO_ETOOBIG;
    if (m == 0) {
        struct octo_merkle_hash empty;
        octo_sha256("", 0, empty.bytes);
        return proof_len == 0 && hash_equal(root_m, &empty) ? 0 : OCTO_EBADSIG;
    }
    if (m == n)
        return proof_len == 0 && hash_equal(root_m, root_n) ? 0 : OCTO_EBADSIG;
    return consistency_verify_proper(m, n, root_m, root_n, proof, proof_len);
}
