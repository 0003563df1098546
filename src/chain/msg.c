/*
 * msg.c — the consensus wire messages' one canonical encoding (layouts and rules: msg.h).
 *
 * Decoding checks the whole-input maximum, then the version and type, then the exact length
 * its type's fixed fields (and, for a proposal, payload_len; for a certificate, the signer
 * set's popcount) imply, all before copying a field out; the field rules come after. Every
 * rule the decoder enforces is one predicate shared with the encoder (vote_fields_ok,
 * proposal_fields_ok), so encode refuses exactly what decode would reject and every encoding
 * decodes back to the same bytes. Integers are written and read byte by byte (big-endian),
 * never through a cast of the buffer. Encode ignores a proposal's block.payload_hash (it is
 * derived from the payload; decode fills it in).
 */
#include "chain/msg.h"

#include "base/endian.h"
#include "crypto/hash.h"

#include <stdbool.h>
#include <string.h>

static const char block_tag[] = "OCTO-CONS-BLOCK-v1";
static const char proposal_tag[] = "OCTO-CONS-PROPOSAL-v1";
static const char vote_tag[] = "OCTO-CONS-VOTE-v1";

/* Offsets inside an encoding (after version and type). */
#define MSG_HDR 2
#define PROPOSAL_PAYLOAD_OFF (MSG_HDR + 8 + 8 + 8 + OCTO_CONS_ID_LEN + 4) /* 62 */

_Static_assert(OCTO_CONS_VOTE_LEN == MSG_HDR + 1 + 8 + OCTO_CONS_ID_LEN + 2 + OCTO_CONS_SIG_LEN,
               "vote layout");
_Static_assert(OCTO_CONS_BLOCK_REQ_LEN == MSG_HDR + OCTO_CONS_ID_LEN, "block request layout");
_Static_assert(OCTO_CONS_PROPOSAL_FIXED == PROPOSAL_PAYLOAD_OFF + 2 + OCTO_CONS_SIG_LEN,
               "proposal layout");
_Static_assert(OCTO_CONS_CERT_FIXED == MSG_HDR + 1 + 8 + OCTO_CONS_ID_LEN + 8, "cert layout");
_Static_assert(sizeof(vote_tag) - 1 + OCTO_CONS_ID_LEN + 1 + 8 + OCTO_CONS_ID_LEN <=
                   OCTO_CONS_VOTE_SIGNED_MAX,
               "vote signing bytes");
_Static_assert(sizeof(proposal_tag) - 1 + 2 * OCTO_CONS_ID_LEN <= OCTO_CONS_VOTE_SIGNED_MAX,
               "proposal signing bytes");
_Static_assert(OCTO_CONS_MSG_MAX <= 0x7fffffff, "lengths fit an int");
_Static_assert(OCTO_CONS_CERT_MAX <= OCTO_CONS_MSG_MAX, "the proposal is the largest message");
_Static_assert(OCTO_CONS_VALIDATORS_MAX <= 64, "signer set is one u64");

static unsigned cons_popcount(uint64_t v)
{
    return (unsigned)__builtin_popcountll(v);
}

/* The rules shared by votes and certificates. */
static bool vote_fields_ok(uint8_t kind, uint64_t view, const uint8_t block[OCTO_CONS_ID_LEN])
{
    if (kind != OCTO_CONS_NOTARIZE && kind != OCTO_CONS_FINALIZE && kind != OCTO_CONS_SKIP)
        return false;
    if (view == 0)
        return false;
    return kind != OCTO_CONS_SKIP || octo_all_zero(block, OCTO_CONS_ID_LEN);
}

/* A proposal's rules other than the payload's size. */
static bool proposal_fields_ok(const struct octo_cons_block *b, uint16_t signer)
{
    return b->view >= 1 && b->height >= 1 && b->parent_view < b->view &&
           signer < OCTO_CONS_VALIDATORS_MAX;
}

/* ---- encode ---------------------------------------------------------------------------- */

static int encode_proposal(const struct octo_cons_proposal *p, uint8_t *out, size_t cap)
{
    if (!proposal_fields_ok(&p->block, p->signer) || p->payload_len > OCTO_CONS_PAYLOAD_MAX ||
        (p->payload == NULL && p->payload_len > 0))
        return OCTO_EINVAL;
    size_t need = (size_t)OCTO_CONS_PROPOSAL_FIXED + p->payload_len;
    if (cap < need)
        return OCTO_ENOSPACE;
    uint8_t *w = out + MSG_HDR;
    octo_store_be64(w, p->block.view);
    octo_store_be64(w + 8, p->block.height);
    octo_store_be64(w + 16, p->block.parent_view);
    memcpy(w + 24, p->block.parent, OCTO_CONS_ID_LEN);
    octo_store_be32(w + 24 + OCTO_CONS_ID_LEN, p->payload_len);
    w = out + PROPOSAL_PAYLOAD_OFF;
    if (p->payload_len > 0)
        memmove(w, p->payload, p->payload_len); /* may be out itself, re-encoded in place */
    w += p->payload_len;
    octo_store_be16(w, p->signer);
    memcpy(w + 2, p->sig, OCTO_CONS_SIG_LEN);
    return (int)need;
}

static int encode_vote(const struct octo_cons_vote *v, uint8_t *out, size_t cap)
{
    if (!vote_fields_ok(v->kind, v->view, v->block) || v->signer >= OCTO_CONS_VALIDATORS_MAX)
        return OCTO_EINVAL;
    if (cap < OCTO_CONS_VOTE_LEN)
        return OCTO_ENOSPACE;
    uint8_t *w = out + MSG_HDR;
    w[0] = v->kind;
    octo_store_be64(w + 1, v->view);
    memcpy(w + 9, v->block, OCTO_CONS_ID_LEN);
    octo_store_be16(w + 9 + OCTO_CONS_ID_LEN, v->signer);
    memcpy(w + 11 + OCTO_CONS_ID_LEN, v->sig, OCTO_CONS_SIG_LEN);
    return OCTO_CONS_VOTE_LEN;
}

static int encode_cert(const struct octo_cons_cert *c, uint8_t *out, size_t cap)
{
    if (!vote_fields_ok(c->kind, c->view, c->block) || c->signers == 0)
        return OCTO_EINVAL;
    unsigned n = cons_popcount(c->signers);
    size_t need = (size_t)OCTO_CONS_CERT_FIXED + (size_t)n * OCTO_CONS_SIG_LEN;
    if (cap < need)
        return OCTO_ENOSPACE;
    uint8_t *w = out + MSG_HDR;
    w[0] = c->kind;
    octo_store_be64(w + 1, c->view);
    memcpy(w + 9, c->block, OCTO_CONS_ID_LEN);
    octo_store_be64(w + 9 + OCTO_CONS_ID_LEN, c->signers);
    memcpy(out + OCTO_CONS_CERT_FIXED, c->sigs, (size_t)n * OCTO_CONS_SIG_LEN);
    return (int)need;
}

int octo_cons_msg_encode(const struct octo_cons_msg *m, uint8_t *out, size_t cap)
{
    if (m == NULL || (out == NULL && cap > 0))
        return OCTO_EINVAL;
    int rc;
    switch (m->type) {
    case OCTO_CONS_MSG_PROPOSAL:
        rc = encode_proposal(&m->u.proposal, out, cap);
        break;
    case OCTO_CONS_MSG_VOTE:
        rc = encode_vote(&m->u.vote, out, cap);
        break;
    case OCTO_CONS_MSG_CERT:
        rc = encode_cert(&m->u.cert, out, cap);
        break;
    case OCTO_CONS_MSG_BLOCK_REQ:
        if (cap < OCTO_CONS_BLOCK_REQ_LEN)
            return OCTO_ENOSPACE;
        memcpy(out + MSG_HDR, m->u.block_req, OCTO_CONS_ID_LEN);
        rc = OCTO_CONS_BLOCK_REQ_LEN;
        break;
    default:
        return OCTO_EINVAL;
    }
    if (rc > 0) {
        out[0] = OCTO_CONS_MSG_VERSION;
        out[1] = m->type;
    }
    return rc;
}

/* ---- decode ---------------------------------------------------------------------------- */

static int decode_proposal(const uint8_t *in, size_t len, struct octo_cons_proposal *p)
{
    if (len < OCTO_CONS_PROPOSAL_FIXED)
        return OCTO_EMALFORMED;
    const uint8_t *r = in + MSG_HDR;
    uint32_t plen = octo_load_be32(r + 24 + OCTO_CONS_ID_LEN);
    if (plen > OCTO_CONS_PAYLOAD_MAX)
        return OCTO_ETOOBIG;
    if (len != (size_t)OCTO_CONS_PROPOSAL_FIXED + plen)
        return OCTO_EMALFORMED;
    p->block.view = octo_load_be64(r);
    p->block.height = octo_load_be64(r + 8);
    p->block.parent_view = octo_load_be64(r + 16);
    memcpy(p->block.parent, r + 24, OCTO_CONS_ID_LEN);
    p->payload_len = plen;
    p->payload = in + PROPOSAL_PAYLOAD_OFF;
    r = in + PROPOSAL_PAYLOAD_OFF + plen;
    p->signer = octo_load_be16(r);
    if (!proposal_fields_ok(&p->block, p->signer))
        return OCTO_EMALFORMED;
    memcpy(p->sig, r + 2, OCTO_CONS_SIG_LEN);
    octo_sha256(p->payload, plen, p->block.payload_hash);
    return 0;
}

static int decode_vote(const uint8_t *in, size_t len, struct octo_cons_vote *v)
{
    if (len != OCTO_CONS_VOTE_LEN)
        return OCTO_EMALFORMED;
    const uint8_t *r = in + MSG_HDR;
    v->kind = r[0];
    v->view = octo_load_be64(r + 1);
    memcpy(v->block, r + 9, OCTO_CONS_ID_LEN);
    v->signer = octo_load_be16(r + 9 + OCTO_CONS_ID_LEN);
    if (!vote_fields_ok(v->kind, v->view, v->block) || v->signer >= OCTO_CONS_VALIDATORS_MAX)
        return OCTO_EMALFORMED;
    memcpy(v->sig, r + 11 + OCTO_CONS_ID_LEN, OCTO_CONS_SIG_LEN);
    return 0;
}

static int decode_cert(const uint8_t *in, size_t len, struct octo_cons_cert *c)
{
    if (len < OCTO_CONS_CERT_FIXED)
        return OCTO_EMALFORMED;
    const uint8_t *r = in + MSG_HDR;
    c->signers = octo_load_be64(r + 9 + OCTO_CONS_ID_LEN);
    if (c->signers == 0)
        return OCTO_EMALFORMED;
    size_t n = cons_popcount(c->signers);
    if (len != (size_t)OCTO_CONS_CERT_FIXED + n * OCTO_CONS_SIG_LEN)
        return OCTO_EMALFORMED;
    c->kind = r[0];
    c->view = octo_load_be64(r + 1);
    memcpy(c->block, r + 9, OCTO_CONS_ID_LEN);
    if (!vote_fields_ok(c->kind, c->view, c->block))
        return OCTO_EMALFORMED;
    memcpy(c->sigs, in + OCTO_CONS_CERT_FIXED, n * OCTO_CONS_SIG_LEN);
    return 0;
}

int octo_cons_msg_decode(const uint8_t *in, size_t len, struct octo_cons_msg *m)
{
    if (m == NULL || (in == NULL && len > 0))
        return OCTO_EINVAL;
    memset(m, 0, sizeof(*m));
    if (len > OCTO_CONS_MSG_MAX)
        return OCTO_ETOOBIG;
    if (len < MSG_HDR || in[0] != OCTO_CONS_MSG_VERSION)
        return OCTO_EMALFORMED;
    m->type = in[1];
    switch (in[1]) {
    case OCTO_CONS_MSG_PROPOSAL:
        return decode_proposal(in, len, &m->u.proposal);
    case OCTO_CONS_MSG_VOTE:
        return decode_vote(in, len, &m->u.vote);
    case OCTO_CONS_MSG_CERT:
        return decode_cert(in, len, &m->u.cert);
    case OCTO_CONS_MSG_BLOCK_REQ:
        if (len != OCTO_CONS_BLOCK_REQ_LEN)
            return OCTO_EMALFORMED;
        memcpy(m->u.block_req, in + MSG_HDR, OCTO_CONS_ID_LEN);
        return 0;
    default:
        return OCTO_EMALFORMED;
    }
}

/* ---- ids and signing bytes ------------------------------------------------------------- */

void octo_cons_block_id(const uint8_t chain_id[OCTO_CONS_ID_LEN], const struct octo_cons_block *b,
                        uint8_t out[OCTO_CONS_ID_LEN])
{
    uint8_t ints[24];
    octo_store_be64(ints, b->view);
    octo_store_be64(ints + 8, b->height);
    octo_store_be64(ints + 16, b->parent_view);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, block_tag, sizeof(block_tag) - 1);
    octo_sha256_update(&h, chain_id, OCTO_CONS_ID_LEN);
    octo_sha256_update(&h, ints, sizeof(ints));
    octo_sha256_update(&h, b->parent, OCTO_CONS_ID_LEN);
    octo_sha256_update(&h, b->payload_hash, OCTO_CONS_ID_LEN);
    octo_sha256_final(&h, out);
}

size_t octo_cons_vote_signed(const uint8_t chain_id[OCTO_CONS_ID_LEN], uint8_t kind, uint64_t view,
                             const uint8_t block[OCTO_CONS_ID_LEN],
                             uint8_t out[OCTO_CONS_VOTE_SIGNED_MAX])
{
    size_t n = sizeof(vote_tag) - 1;
    memcpy(out, vote_tag, n);
    memcpy(out + n, chain_id, OCTO_CONS_ID_LEN);
    n += OCTO_CONS_ID_LEN;
    out[n++] = kind;
    octo_store_be64(out + n, view);
    n += 8;
    memcpy(out + n, block, OCTO_CONS_ID_LEN);
    return n + OCTO_CONS_ID_LEN;
}

size_t octo_cons_proposal_signed(const uint8_t chain_id[OCTO_CONS_ID_LEN],
                                 const uint8_t block_id[OCTO_CONS_ID_LEN],
                                 uint8_t out[OCTO_CONS_VOTE_SIGNED_MAX])
{
    size_t n = sizeof(proposal_tag) - 1;
    memcpy(out, proposal_tag, n);
    memcpy(out + n, chain_id, OCTO_CONS_ID_LEN);
    memcpy(out + n + OCTO_CONS_ID_LEN, block_id, OCTO_CONS_ID_LEN);
    return n + 2 * OCTO_CONS_ID_LEN;
}

unsigned octo_cons_cert_count(const struct octo_cons_cert *c)
{
    return cons_popcount(c->signers);
}
