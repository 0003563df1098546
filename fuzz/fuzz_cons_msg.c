/*
 * fuzz_cons_msg.c — libFuzzer harness for the consensus wire-message codec (chain/msg.h).
 *
 * Input: one encoded message. The harness decodes it and, when it is accepted, checks the
 * decoded fields against every rule of msg.h (known type and kind, view >= 1, a SKIP's block
 * all zero, height >= 1 and parent_view < view, payload inside the input with its SHA-256 in
 * payload_hash, signer < OCTO_CONS_VALIDATORS_MAX, a non-empty signer set, the length the
 * fields imply), re-encodes it and requires the very same bytes (one canonical encoding),
 * requires every strict prefix it tries to be refused, and computes the block id and signing
 * bytes. A refused input gives only OCTO_EMALFORMED or OCTO_ETOOBIG.
 * Seeds (fuzz/seeds/cons_msg/) come from write_seeds() in tests/unit/chain/test_msg.c (with
 * OCTO_CONS_MSG_SEED_DIR set).
 */
#include "base/assert.h"
#include "chain/msg.h"
#include "crypto/hash.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t g_out[OCTO_CONS_MSG_MAX];
static volatile uint8_t g_sink;

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void check_kind(uint8_t kind, uint64_t view, const uint8_t *block)
{
    OCTO_ASSERT(kind == OCTO_CONS_NOTARIZE || kind == OCTO_CONS_FINALIZE || kind == OCTO_CONS_SKIP);
    OCTO_ASSERT(view >= 1);
    if (kind == OCTO_CONS_SKIP)
        OCTO_ASSERT(all_zero(block, OCTO_CONS_ID_LEN));
}

static void check_accepted(const struct octo_cons_msg *m, const uint8_t *data, size_t size)
{
    static const uint8_t chain_id[OCTO_CONS_ID_LEN] = {0x0c, 0x70};
    uint8_t sb[OCTO_CONS_VOTE_SIGNED_MAX], id[OCTO_CONS_ID_LEN];
    OCTO_ASSERT(size >= 2 && data[0] == OCTO_CONS_MSG_VERSION && data[1] == m->type);
    switch (m->type) {
    case OCTO_CONS_MSG_PROPOSAL: {
        const struct octo_cons_proposal *p = &m->u.proposal;
        OCTO_ASSERT(p->block.view >= 1 && p->block.height >= 1);
        OCTO_ASSERT(p->block.parent_view < p->block.view);
        OCTO_ASSERT(p->payload_len <= OCTO_CONS_PAYLOAD_MAX);
        OCTO_ASSERT(size == (size_t)OCTO_CONS_PROPOSAL_FIXED + p->payload_len);
        OCTO_ASSERT(p->payload >= data && p->payload + p->payload_len <= data + size);
        OCTO_ASSERT(p->signer < OCTO_CONS_VALIDATORS_MAX);
        uint8_t h[OCTO_SHA256_LEN];
        octo_sha256(p->payload, p->payload_len, h);
        OCTO_ASSERT(memcmp(h, p->block.payload_hash, sizeof(h)) == 0);
        octo_cons_block_id(chain_id, &p->block, id);
        OCTO_ASSERT(octo_cons_proposal_signed(chain_id, id, sb) <= OCTO_CONS_VOTE_SIGNED_MAX);
        break;
    }
    case OCTO_CONS_MSG_VOTE: {
        const struct octo_cons_vote *v = &m->u.vote;
        check_kind(v->kind, v->view, v->block);
        OCTO_ASSERT(v->signer < OCTO_CONS_VALIDATORS_MAX);
        OCTO_ASSERT(size == OCTO_CONS_VOTE_LEN);
        OCTO_ASSERT(octo_cons_vote_signed(chain_id, v->kind, v->view, v->block, sb) <=
                    OCTO_CONS_VOTE_SIGNED_MAX);
        break;
    }
    case OCTO_CONS_MSG_CERT: {
        const struct octo_cons_cert *c = &m->u.cert;
        check_kind(c->kind, c->view, c->block);
        unsigned n = octo_cons_cert_count(c);
        OCTO_ASSERT(c->signers != 0 && n >= 1 && n <= OCTO_CONS_VALIDATORS_MAX);
        OCTO_ASSERT(size == (size_t)OCTO_CONS_CERT_FIXED + (size_t)n * OCTO_CONS_SIG_LEN);
        OCTO_ASSERT(size <= OCTO_CONS_CERT_MAX);
        OCTO_ASSERT(octo_cons_vote_signed(chain_id, c->kind, c->view, c->block, sb) <=
                    OCTO_CONS_VOTE_SIGNED_MAX);
        break;
    }
    case OCTO_CONS_MSG_BLOCK_REQ:
        OCTO_ASSERT(size == OCTO_CONS_BLOCK_REQ_LEN);
        break;
    default:
        OCTO_UNREACHABLE();
    }
    g_sink ^= sb[0] ^ id[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct octo_cons_msg m;
    int rc = octo_cons_msg_decode(data, size, &m);
    if (rc != 0) {
        OCTO_ASSERT(rc == OCTO_EMALFORMED || rc == OCTO_ETOOBIG);
        return 0;
    }
    check_accepted(&m, data, size);
    /* canonical: the encoding of what was decoded is the input, byte for byte */
    int n = octo_cons_msg_encode(&m, g_out, sizeof(g_out));
    OCTO_ASSERT(n >= 0 && (size_t)n == size);
    OCTO_ASSERT(memcmp(g_out, data, size) == 0);
    OCTO_ASSERT(octo_cons_msg_encode(&m, g_out, size - 1) == OCTO_ENOSPACE);
    /* exact lengths: no strict prefix decodes (the last and the one that drops a signature) */
    struct octo_cons_msg d;
    OCTO_ASSERT(octo_cons_msg_decode(data, size - 1, &d) != 0);
    if (size > OCTO_CONS_SIG_LEN)
        OCTO_ASSERT(octo_cons_msg_decode(data, size - OCTO_CONS_SIG_LEN, &d) != 0);
    return 0;
}
