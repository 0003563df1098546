/*
 * test_msg.c — the consensus wire-message codec (chain/msg.h): a round trip of every type
 * (proposals with an empty and an OCTO_CONS_PAYLOAD_MAX payload, certificates with 1, some and
 * 64 signers), fixed vectors computed independently with Python's struct and hashlib (a vote,
 * a proposal and a certificate encoding, a block id and both signing byte strings), every
 * decoder rejection rule in its own test, encode's OCTO_EINVAL and OCTO_ENOSPACE cases, the
 * signing bytes' domain separation and octo_cons_cert_count.
 *
 * With OCTO_CONS_MSG_SEED_DIR set, write_seeds() also writes the seed corpus of
 * fuzz/fuzz_cons_msg.c (valid encodings of every type and a few near misses):
 *   OCTO_CONS_MSG_SEED_DIR=fuzz/seeds/cons_msg build/<dir>/tests/unit/chain/test_chain_msg
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "chain/msg.h"
#include "crypto/hash.h"
#include "test.h"

#include <stdlib.h>

/* ---- fixed vectors (Python struct + hashlib, computed once) ---------------------------- */

/* version 1, VOTE, NOTARIZE, view 0x0102030405060708, block 20..3f, signer 42, sig 80..bf */
static const char VOTE_HEX[] =
    "0102010102030405060708202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f002a"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabac"
    "adaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
/* version 1, PROPOSAL, view 7, height 3, parent_view 5, parent 11*32, payload "octo",
 * signer 3, sig 55*64 */
static const char PROPOSAL_HEX[] =
    "010100000000000000070000000000000003000000000000000511111111111111111111111111111111111111"
    "11111111111111111111111111000000046f63746f000355555555555555555555555555555555555555555555"
    "555555555555555555555555555555555555555555555555555555555555555555555555555555555555";
/* version 1, CERT, SKIP, view 9, zero block, signers bits 0, 2, 63, sigs a0*64 a2*64 bf*64 */
static const char CERT_HEX[] =
    "010303000000000000000900000000000000000000000000000000000000000000000000000000000000008000"
    "000000000005a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
    "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"
    "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2bf"
    "bfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbf"
    "bfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbf";
/* SHA-256("octo") */
static const char PAYLOAD_HASH_HEX[] =
    "e5cd9f39c603e01d4b322fdd96c2fc0e385bf4eaebee85e5682879c6ae4f3a57";
/* chain id 00..1f; the proposal above's block */
static const char BLOCK_ID_HEX[] =
    "aa8771f9a4991d29ece316eec4c8a5ba9ca2d5511e04905633c67393dd0e3f3c";
/* chain id 00..1f; the vote above */
static const char VOTE_SIGNED_HEX[] =
    "4f43544f2d434f4e532d564f54452d7631000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
    "1c1d1e1f010102030405060708202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
/* chain id 00..1f; BLOCK_ID_HEX */
static const char PROPOSAL_SIGNED_HEX[] =
    "4f43544f2d434f4e532d50524f504f53414c2d7631000102030405060708090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1faa8771f9a4991d29ece316eec4c8a5ba9ca2d5511e04905633c67393dd0e3f3c";

/* ---- helpers --------------------------------------------------------------------------- */

static uint8_t g_out[OCTO_CONS_MSG_MAX + 16];
static uint8_t g_out2[OCTO_CONS_MSG_MAX + 16];
static uint8_t g_payload[OCTO_CONS_PAYLOAD_MAX];

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static void chain_id(uint8_t id[OCTO_CONS_ID_LEN])
{
    for (unsigned i = 0; i < OCTO_CONS_ID_LEN; i++)
        id[i] = (uint8_t)i;
}

static struct octo_cons_msg make_vote(uint8_t kind, uint64_t view, uint16_t signer)
{
    struct octo_cons_msg m;
    memset(&m, 0, sizeof(m));
    m.type = OCTO_CONS_MSG_VOTE;
    m.u.vote.kind = kind;
    m.u.vote.view = view;
    if (kind != OCTO_CONS_SKIP)
        fill(m.u.vote.block, OCTO_CONS_ID_LEN, 0x20);
    m.u.vote.signer = signer;
    fill(m.u.vote.sig, OCTO_CONS_SIG_LEN, 0x80);
    return m;
}

static struct octo_cons_msg make_proposal(const uint8_t *payload, uint32_t len)
{
    struct octo_cons_msg m;
    memset(&m, 0, sizeof(m));
    m.type = OCTO_CONS_MSG_PROPOSAL;
    m.u.proposal.block.view = 7;
    m.u.proposal.block.height = 3;
    m.u.proposal.block.parent_view = 5;
    memset(m.u.proposal.block.parent, 0x11, OCTO_CONS_ID_LEN);
    m.u.proposal.payload = payload;
    m.u.proposal.payload_len = len;
    m.u.proposal.signer = 3;
    memset(m.u.proposal.sig, 0x55, OCTO_CONS_SIG_LEN);
    return m;
}

static struct octo_cons_msg make_cert(uint8_t kind, uint64_t signers)
{
    struct octo_cons_msg m;
    memset(&m, 0, sizeof(m));
    m.type = OCTO_CONS_MSG_CERT;
    m.u.cert.kind = kind;
    m.u.cert.view = 9;
    if (kind != OCTO_CONS_SKIP)
        fill(m.u.cert.block, OCTO_CONS_ID_LEN, 0x40);
    m.u.cert.signers = signers;
    for (unsigned i = 0; i < OCTO_CONS_VALIDATORS_MAX; i++)
        memset(m.u.cert.sigs[i], (int)(0xa0 + i), OCTO_CONS_SIG_LEN);
    return m;
}

static struct octo_cons_msg make_block_req(void)
{
    struct octo_cons_msg m;
    memset(&m, 0, sizeof(m));
    m.type = OCTO_CONS_MSG_BLOCK_REQ;
    fill(m.u.block_req, OCTO_CONS_ID_LEN, 0x99);
    return m;
}

/* Whether a and b (one decoded from the other's encoding) say the same thing. */
static bool same_msg(const struct octo_cons_msg *a, const struct octo_cons_msg *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case OCTO_CONS_MSG_PROPOSAL: {
        const struct octo_cons_proposal *p = &a->u.proposal, *q = &b->u.proposal;
        return p->block.view == q->block.view && p->block.height == q->block.height &&
               p->block.parent_view == q->block.parent_view &&
               memcmp(p->block.parent, q->block.parent, OCTO_CONS_ID_LEN) == 0 &&
               p->payload_len == q->payload_len &&
               (p->payload_len == 0 || memcmp(p->payload, q->payload, p->payload_len) == 0) &&
               p->signer == q->signer && memcmp(p->sig, q->sig, OCTO_CONS_SIG_LEN) == 0;
    }
    case OCTO_CONS_MSG_VOTE:
        return memcmp(&a->u.vote, &b->u.vote, sizeof(a->u.vote)) == 0;
    case OCTO_CONS_MSG_CERT: {
        const struct octo_cons_cert *c = &a->u.cert, *d = &b->u.cert;
        unsigned n = octo_cons_cert_count(c);
        return c->kind == d->kind && c->view == d->view &&
               memcmp(c->block, d->block, OCTO_CONS_ID_LEN) == 0 && c->signers == d->signers &&
               memcmp(c->sigs, d->sigs, (size_t)n * OCTO_CONS_SIG_LEN) == 0;
    }
    case OCTO_CONS_MSG_BLOCK_REQ:
        return memcmp(a->u.block_req, b->u.block_req, OCTO_CONS_ID_LEN) == 0;
    default:
        return false;
    }
}

/* Encodes m, decodes it, checks the fields, re-encodes and checks the bytes; returns the
 * encoded length (g_out holds the encoding) or -1 after reporting the failure. */
static int round_trip_at(const struct octo_cons_msg *m, int want_len, const char *file, int line)
{
    int n = octo_cons_msg_encode(m, g_out, sizeof(g_out));
    if (n != want_len) {
        octo_test_fail_at(file, line, "encode: %d (%s), want %d", n, octo_test_err_name(n),
                          want_len);
        return -1;
    }
    /* exactly enough room is enough */
    if (octo_cons_msg_encode(m, g_out2, (size_t)n) != n) {
        octo_test_fail_at(file, line, "encode with cap == length failed");
        return -1;
    }
    struct octo_cons_msg d;
    int rc = octo_cons_msg_decode(g_out, (size_t)n, &d);
    if (rc != 0) {
        octo_test_fail_at(file, line, "decode: %d (%s)", rc, octo_test_err_name(rc));
        return -1;
    }
    if (!same_msg(m, &d)) {
        octo_test_fail_at(file, line, "decoded fields differ");
        return -1;
    }
    if (d.type == OCTO_CONS_MSG_PROPOSAL) {
        uint8_t h[OCTO_SHA256_LEN];
        octo_sha256(d.u.proposal.payload, d.u.proposal.payload_len, h);
        if (d.u.proposal.payload != g_out + 62 ||
            memcmp(h, d.u.proposal.block.payload_hash, sizeof(h)) != 0) {
            octo_test_fail_at(file, line, "payload pointer or hash wrong");
            return -1;
        }
    }
    int n2 = octo_cons_msg_encode(&d, g_out2, sizeof(g_out2));
    if (n2 != n || memcmp(g_out, g_out2, (size_t)n) != 0) {
        octo_test_fail_at(file, line, "re-encoding differs");
        return -1;
    }
    return n;
}

#define ROUND_TRIP(m, want)                                                                        \
    do {                                                                                           \
        if (round_trip_at((m), (want), __FILE__, __LINE__) < 0)                                    \
            return;                                                                                \
    } while (0)

/* Copies a hex literal into a mutable buffer; returns its length. */
static size_t hex_copy(const char *hex, uint8_t *buf, size_t cap)
{
    size_t n;
    const uint8_t *p = octo_test_hex(hex, &n);
    OCTO_ASSERT(n <= cap);
    memcpy(buf, p, n);
    return n;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int decode(const uint8_t *in, size_t len)
{
    struct octo_cons_msg m;
    return octo_cons_msg_decode(in, len, &m);
}

/* Offsets in the encodings. */
#define V_KIND 2
#define V_VIEW 3
#define V_BLOCK 11
#define V_SIGNER 43
#define P_VIEW 2
#define P_HEIGHT 10
#define P_PARENT_VIEW 18
#define P_PAYLOAD_LEN 58
#define P_PAYLOAD 62
#define C_KIND 2
#define C_VIEW 3
#define C_BLOCK 11
#define C_SIGNERS 43

/* ---- round trips ----------------------------------------------------------------------- */

static void test_constants(void)
{
    CHECK_EQ_INT(OCTO_CONS_VOTE_LEN, 2 + 1 + 8 + 32 + 2 + 64);
    CHECK_EQ_INT(OCTO_CONS_BLOCK_REQ_LEN, 2 + 32);
    CHECK_EQ_INT(OCTO_CONS_PROPOSAL_FIXED, 2 + 8 + 8 + 8 + 32 + 4 + 2 + 64);
    CHECK_EQ_INT(OCTO_CONS_CERT_FIXED, 2 + 1 + 8 + 32 + 8);
    CHECK_EQ_INT(OCTO_CONS_CERT_MAX, 51 + 64 * 64);
    CHECK(OCTO_CONS_CERT_MAX < OCTO_CONS_MSG_MAX);
}

static void test_round_trip_vote(void)
{
    struct octo_cons_msg m = make_vote(OCTO_CONS_NOTARIZE, 1, 0);
    ROUND_TRIP(&m, OCTO_CONS_VOTE_LEN);
    m = make_vote(OCTO_CONS_FINALIZE, UINT64_MAX, OCTO_CONS_VALIDATORS_MAX - 1);
    ROUND_TRIP(&m, OCTO_CONS_VOTE_LEN);
    m = make_vote(OCTO_CONS_SKIP, 12345, 17);
    ROUND_TRIP(&m, OCTO_CONS_VOTE_LEN);
    /* a notarize vote may name an all-zero block: only SKIP requires it */
    m = make_vote(OCTO_CONS_NOTARIZE, 2, 1);
    memset(m.u.vote.block, 0, OCTO_CONS_ID_LEN);
    ROUND_TRIP(&m, OCTO_CONS_VOTE_LEN);
}

static void test_round_trip_proposal(void)
{
    struct octo_cons_msg m = make_proposal(NULL, 0);
    ROUND_TRIP(&m, OCTO_CONS_PROPOSAL_FIXED);
    struct octo_cons_msg d;
    CHECK_OK(octo_cons_msg_decode(g_out, OCTO_CONS_PROPOSAL_FIXED, &d));
    CHECK_HEX(d.u.proposal.block.payload_hash, OCTO_CONS_ID_LEN,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    m = make_proposal((const uint8_t *)"octo", 4);
    ROUND_TRIP(&m, OCTO_CONS_PROPOSAL_FIXED + 4);
    fill(g_payload, sizeof(g_payload), 3);
    m = make_proposal(g_payload, OCTO_CONS_PAYLOAD_MAX);
    ROUND_TRIP(&m, OCTO_CONS_MSG_MAX);
    /* genesis parent, and the extremes of view */
    m = make_proposal(g_payload, 100);
    m.u.proposal.block.view = 1;
    m.u.proposal.block.height = 1;
    m.u.proposal.block.parent_view = 0;
    memset(m.u.proposal.block.parent, 0, OCTO_CONS_ID_LEN);
    m.u.proposal.signer = 0;
    ROUND_TRIP(&m, OCTO_CONS_PROPOSAL_FIXED + 100);
    m.u.proposal.block.view = UINT64_MAX;
    m.u.proposal.block.parent_view = UINT64_MAX - 1;
    m.u.proposal.block.height = UINT64_MAX;
    m.u.proposal.signer = OCTO_CONS_VALIDATORS_MAX - 1;
    ROUND_TRIP(&m, OCTO_CONS_PROPOSAL_FIXED + 100);
}

static void test_round_trip_proposal_in_place(void)
{
    /* re-encoding a decoded proposal into the buffer it was decoded from */
    struct octo_cons_msg m = make_proposal((const uint8_t *)"in place", 8);
    int n = octo_cons_msg_encode(&m, g_out, sizeof(g_out));
    CHECK_EQ_INT(n, OCTO_CONS_PROPOSAL_FIXED + 8);
    memcpy(g_out2, g_out, (size_t)n);
    struct octo_cons_msg d;
    CHECK_OK(octo_cons_msg_decode(g_out, (size_t)n, &d));
    CHECK_EQ_INT(octo_cons_msg_encode(&d, g_out, sizeof(g_out)), n);
    CHECK_MEM(g_out, g_out2, (size_t)n);
}

static void test_round_trip_cert(void)
{
    struct octo_cons_msg m = make_cert(OCTO_CONS_NOTARIZE, 1);
    ROUND_TRIP(&m, OCTO_CONS_CERT_FIXED + OCTO_CONS_SIG_LEN);
    m = make_cert(OCTO_CONS_FINALIZE, (uint64_t)1 << 63);
    ROUND_TRIP(&m, OCTO_CONS_CERT_FIXED + OCTO_CONS_SIG_LEN);
    m = make_cert(OCTO_CONS_SKIP, UINT64_MAX);
    ROUND_TRIP(&m, OCTO_CONS_CERT_MAX);
    m = make_cert(OCTO_CONS_NOTARIZE, 0x8000000100010005ull);
    ROUND_TRIP(&m, OCTO_CONS_CERT_FIXED + 5 * OCTO_CONS_SIG_LEN);
    /* the signatures are packed in order: the third set bit's signature is entry 2 */
    CHECK_EQ_INT(g_out[OCTO_CONS_CERT_FIXED + 2 * OCTO_CONS_SIG_LEN], 0xa2);
}

static void test_round_trip_block_req(void)
{
    struct octo_cons_msg m = make_block_req();
    ROUND_TRIP(&m, OCTO_CONS_BLOCK_REQ_LEN);
    memset(m.u.block_req, 0, OCTO_CONS_ID_LEN);
    ROUND_TRIP(&m, OCTO_CONS_BLOCK_REQ_LEN);
}

/* ---- fixed vectors --------------------------------------------------------------------- */

static void test_vote_vector(void)
{
    struct octo_cons_msg m;
    memset(&m, 0, sizeof(m));
    m.type = OCTO_CONS_MSG_VOTE;
    m.u.vote.kind = OCTO_CONS_NOTARIZE;
    m.u.vote.view = 0x0102030405060708ull;
    for (unsigned i = 0; i < OCTO_CONS_ID_LEN; i++)
        m.u.vote.block[i] = (uint8_t)(0x20 + i);
    m.u.vote.signer = 42;
    for (unsigned i = 0; i < OCTO_CONS_SIG_LEN; i++)
        m.u.vote.sig[i] = (uint8_t)(0x80 + i);
    int n = octo_cons_msg_encode(&m, g_out, sizeof(g_out));
    CHECK_EQ_INT(n, OCTO_CONS_VOTE_LEN);
    CHECK_HEX(g_out, (size_t)n, VOTE_HEX);
    size_t len;
    const uint8_t *in = octo_test_hex(VOTE_HEX, &len);
    struct octo_cons_msg d;
    CHECK_OK(octo_cons_msg_decode(in, len, &d));
    CHECK_EQ_INT(d.type, OCTO_CONS_MSG_VOTE);
    CHECK(same_msg(&m, &d));

    uint8_t cid[OCTO_CONS_ID_LEN], sb[OCTO_CONS_VOTE_SIGNED_MAX];
    chain_id(cid);
    size_t sn = octo_cons_vote_signed(cid, d.u.vote.kind, d.u.vote.view, d.u.vote.block, sb);
    CHECK_HEX(sb, sn, VOTE_SIGNED_HEX);
}

static void test_proposal_vector(void)
{
    struct octo_cons_msg m = make_proposal((const uint8_t *)"octo", 4);
    int n = octo_cons_msg_encode(&m, g_out, sizeof(g_out));
    CHECK_EQ_INT(n, OCTO_CONS_PROPOSAL_FIXED + 4);
    CHECK_HEX(g_out, (size_t)n, PROPOSAL_HEX);
    struct octo_cons_msg d;
    CHECK_OK(octo_cons_msg_decode(g_out, (size_t)n, &d));
    CHECK_HEX(d.u.proposal.block.payload_hash, OCTO_CONS_ID_LEN, PAYLOAD_HASH_HEX);

    uint8_t cid[OCTO_CONS_ID_LEN], id[OCTO_CONS_ID_LEN], sb[OCTO_CONS_VOTE_SIGNED_MAX];
    chain_id(cid);
    octo_cons_block_id(cid, &d.u.proposal.block, id);
    CHECK_HEX(id, sizeof(id), BLOCK_ID_HEX);
    size_t sn = octo_cons_proposal_signed(cid, id, sb);
    CHECK_HEX(sb, sn, PROPOSAL_SIGNED_HEX);
}

static void test_cert_vector(void)
{
    struct octo_cons_msg m = make_cert(OCTO_CONS_SKIP, ((uint64_t)1 << 63) | 5);
    m.u.cert.view = 9;
    memset(m.u.cert.sigs[0], 0xa0, OCTO_CONS_SIG_LEN);
    memset(m.u.cert.sigs[1], 0xa2, OCTO_CONS_SIG_LEN);
    memset(m.u.cert.sigs[2], 0xbf, OCTO_CONS_SIG_LEN);
    int n = octo_cons_msg_encode(&m, g_out, sizeof(g_out));
    CHECK_EQ_INT(n, OCTO_CONS_CERT_FIXED + 3 * OCTO_CONS_SIG_LEN);
    CHECK_HEX(g_out, (size_t)n, CERT_HEX);
    struct octo_cons_msg d;
    CHECK_OK(octo_cons_msg_decode(g_out, (size_t)n, &d));
    CHECK_EQ_INT(octo_cons_cert_count(&d.u.cert), 3);
    CHECK_EQ_INT(d.u.cert.sigs[2][0], 0xbf);
}

/* ---- rejections ------------------------------------------------------------------------ */

static void test_reject_version(void)
{
    uint8_t b[OCTO_CONS_VOTE_LEN];
    size_t n = hex_copy(VOTE_HEX, b, sizeof(b));
    CHECK_OK(decode(b, n));
    const uint8_t bad[] = {0, 2, 0xff};
    for (size_t i = 0; i < sizeof(bad); i++) {
        b[0] = bad[i];
        CHECK_ERR(decode(b, n), OCTO_EMALFORMED);
    }
}

static void test_reject_type(void)
{
    uint8_t b[OCTO_CONS_VOTE_LEN];
    size_t n = hex_copy(VOTE_HEX, b, sizeof(b));
    const uint8_t bad[] = {0, 5, 0x82, 0xff};
    for (size_t i = 0; i < sizeof(bad); i++) {
        b[1] = bad[i];
        CHECK_ERR(decode(b, n), OCTO_EMALFORMED);
    }
    /* a block request's length with an unknown type */
    uint8_t r[OCTO_CONS_BLOCK_REQ_LEN] = {OCTO_CONS_MSG_VERSION, 0};
    CHECK_ERR(decode(r, sizeof(r)), OCTO_EMALFORMED);
}

static void test_reject_kind(void)
{
    uint8_t v[OCTO_CONS_VOTE_LEN], c[OCTO_CONS_CERT_MAX];
    size_t vn = hex_copy(VOTE_HEX, v, sizeof(v));
    size_t cn = hex_copy(CERT_HEX, c, sizeof(c));
    CHECK_OK(decode(c, cn));
    const uint8_t bad[] = {0, 4, 0xff};
    for (size_t i = 0; i < sizeof(bad); i++) {
        v[V_KIND] = bad[i];
        CHECK_ERR(decode(v, vn), OCTO_EMALFORMED);
        c[C_KIND] = bad[i];
        CHECK_ERR(decode(c, cn), OCTO_EMALFORMED);
    }
}

static void test_reject_view_zero(void)
{
    uint8_t v[OCTO_CONS_VOTE_LEN], c[OCTO_CONS_CERT_MAX], p[OCTO_CONS_PROPOSAL_FIXED + 4];
    size_t vn = hex_copy(VOTE_HEX, v, sizeof(v));
    size_t cn = hex_copy(CERT_HEX, c, sizeof(c));
    size_t pn = hex_copy(PROPOSAL_HEX, p, sizeof(p));
    put64(v + V_VIEW, 0);
    CHECK_ERR(decode(v, vn), OCTO_EMALFORMED);
    put64(c + C_VIEW, 0);
    CHECK_ERR(decode(c, cn), OCTO_EMALFORMED);
    /* a proposal at view 0 (parent_view 0 too, so only the view rule can refuse it) */
    put64(p + P_VIEW, 0);
    put64(p + P_PARENT_VIEW, 0);
    CHECK_ERR(decode(p, pn), OCTO_EMALFORMED);
    put64(p + P_VIEW, 1);
    CHECK_OK(decode(p, pn));
}

static void test_reject_skip_nonzero_block(void)
{
    uint8_t v[OCTO_CONS_VOTE_LEN], c[OCTO_CONS_CERT_MAX];
    size_t vn = hex_copy(VOTE_HEX, v, sizeof(v));
    /* the vector is NOTARIZE with a non-zero block: as SKIP it is refused... */
    v[V_KIND] = OCTO_CONS_SKIP;
    CHECK_ERR(decode(v, vn), OCTO_EMALFORMED);
    /* ...and so is any single non-zero byte, first or last */
    memset(v + V_BLOCK, 0, OCTO_CONS_ID_LEN);
    CHECK_OK(decode(v, vn));
    v[V_BLOCK] = 1;
    CHECK_ERR(decode(v, vn), OCTO_EMALFORMED);
    v[V_BLOCK] = 0;
    v[V_BLOCK + OCTO_CONS_ID_LEN - 1] = 0x80;
    CHECK_ERR(decode(v, vn), OCTO_EMALFORMED);

    size_t cn = hex_copy(CERT_HEX, c, sizeof(c)); /* a SKIP certificate */
    CHECK_OK(decode(c, cn));
    c[C_BLOCK + 5] = 0x01;
    CHECK_ERR(decode(c, cn), OCTO_EMALFORMED);
    c[C_KIND] = OCTO_CONS_FINALIZE;
    CHECK_OK(decode(c, cn));
}

static void test_reject_trailing_byte(void)
{
    const char *vecs[] = {VOTE_HEX, PROPOSAL_HEX, CERT_HEX};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(vecs); i++) {
        size_t n = hex_copy(vecs[i], g_out, sizeof(g_out));
        CHECK_OK(decode(g_out, n));
        g_out[n] = 0;
        CHECK_ERR(decode(g_out, n + 1), OCTO_EMALFORMED);
    }
    struct octo_cons_msg m = make_block_req();
    CHECK_EQ_INT(octo_cons_msg_encode(&m, g_out, sizeof(g_out)), OCTO_CONS_BLOCK_REQ_LEN);
    g_out[OCTO_CONS_BLOCK_REQ_LEN] = 0;
    CHECK_ERR(decode(g_out, OCTO_CONS_BLOCK_REQ_LEN + 1), OCTO_EMALFORMED);
}

static void test_reject_vote_truncated(void)
{
    size_t n;
    const uint8_t *full = octo_test_hex(VOTE_HEX, &n);
    CHECK_EQ_U64(n, OCTO_CONS_VOTE_LEN);
    for (size_t len = 0; len < n; len++) {
        /* an exact-size copy, so a read past the end is caught by ASan */
        uint8_t *b = octo_malloc(len != 0 ? len : 1);
        CHECK(b != NULL);
        memcpy(b, full, len);
        int rc = decode(b, len);
        octo_free(b);
        if (rc != OCTO_EMALFORMED) {
            octo_test_fail_at(__FILE__, __LINE__, "length %zu: %d (%s)", len, rc,
                              octo_test_err_name(rc));
            return;
        }
    }
}

static void test_reject_other_truncated(void)
{
    const char *vecs[] = {PROPOSAL_HEX, CERT_HEX};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(vecs); i++) {
        size_t n = hex_copy(vecs[i], g_out, sizeof(g_out));
        for (size_t len = 0; len < n; len++)
            CHECK_ERR(decode(g_out, len), OCTO_EMALFORMED);
    }
    struct octo_cons_msg m = make_block_req();
    CHECK_EQ_INT(octo_cons_msg_encode(&m, g_out, sizeof(g_out)), OCTO_CONS_BLOCK_REQ_LEN);
    for (size_t len = 0; len < OCTO_CONS_BLOCK_REQ_LEN; len++)
        CHECK_ERR(decode(g_out, len), OCTO_EMALFORMED);
}

static void test_reject_payload_past_end(void)
{
    uint8_t p[OCTO_CONS_PROPOSAL_FIXED + 4];
    size_t n = hex_copy(PROPOSAL_HEX, p, sizeof(p));
    put32(p + P_PAYLOAD_LEN, 5);
    CHECK_ERR(decode(p, n), OCTO_EMALFORMED);
    put32(p + P_PAYLOAD_LEN, 3); /* shorter than what follows: the rest is trailing */
    CHECK_ERR(decode(p, n), OCTO_EMALFORMED);
    put32(p + P_PAYLOAD_LEN, OCTO_CONS_PAYLOAD_MAX); /* at the maximum: malformed, not too big */
    CHECK_ERR(decode(p, n), OCTO_EMALFORMED);
}

static void test_reject_payload_too_big(void)
{
    uint8_t p[OCTO_CONS_PROPOSAL_FIXED + 4];
    size_t n = hex_copy(PROPOSAL_HEX, p, sizeof(p));
    put32(p + P_PAYLOAD_LEN, OCTO_CONS_PAYLOAD_MAX + 1);
    CHECK_ERR(decode(p, n), OCTO_ETOOBIG);
    put32(p + P_PAYLOAD_LEN, UINT32_MAX);
    CHECK_ERR(decode(p, n), OCTO_ETOOBIG);
    /* payload_len over the maximum, with exactly that many bytes present */
    struct octo_cons_msg m = make_proposal(g_payload, OCTO_CONS_PAYLOAD_MAX);
    CHECK_EQ_INT(octo_cons_msg_encode(&m, g_out, sizeof(g_out)), OCTO_CONS_MSG_MAX);
    put32(g_out + P_PAYLOAD_LEN, OCTO_CONS_PAYLOAD_MAX + 1);
    CHECK_ERR(decode(g_out, OCTO_CONS_MSG_MAX + 1), OCTO_ETOOBIG);
    /* any input over the largest message */
    CHECK_ERR(decode(g_out, OCTO_CONS_MSG_MAX + 16), OCTO_ETOOBIG);
}

static void test_reject_cert_no_signers(void)
{
    uint8_t c[OCTO_CONS_CERT_MAX];
    size_t n = hex_copy(CERT_HEX, c, sizeof(c));
    put64(c + C_SIGNERS, 0);
    CHECK_ERR(decode(c, OCTO_CONS_CERT_FIXED), OCTO_EMALFORMED);
    CHECK_ERR(decode(c, n), OCTO_EMALFORMED);
}

static void test_reject_cert_popcount(void)
{
    uint8_t c[OCTO_CONS_CERT_MAX + 64];
    size_t n = hex_copy(CERT_HEX, c, sizeof(c)); /* three signers */
    memset(c + n, 0xcc, sizeof(c) - n);
    CHECK_ERR(decode(c, n - OCTO_CONS_SIG_LEN), OCTO_EMALFORMED);
    CHECK_ERR(decode(c, n + OCTO_CONS_SIG_LEN), OCTO_EMALFORMED);
    put64(c + C_SIGNERS, 0x3);
    CHECK_ERR(decode(c, n), OCTO_EMALFORMED);
    CHECK_OK(decode(c, n - OCTO_CONS_SIG_LEN));
    put64(c + C_SIGNERS, 0xf0);
    CHECK_ERR(decode(c, n), OCTO_EMALFORMED);
    CHECK_OK(decode(c, n + OCTO_CONS_SIG_LEN));
    put64(c + C_SIGNERS, UINT64_MAX);
    CHECK_ERR(decode(c, n), OCTO_EMALFORMED);
    CHECK_ERR(decode(c, OCTO_CONS_CERT_MAX + 1), OCTO_EMALFORMED);
    CHECK_OK(decode(c, OCTO_CONS_CERT_MAX));
}

static void test_reject_parent_view(void)
{
    uint8_t p[OCTO_CONS_PROPOSAL_FIXED + 4];
    size_t n = hex_copy(PROPOSAL_HEX, p, sizeof(p)); /* view 7 */
    put64(p + P_PARENT_VIEW, 7);
    CHECK_ERR(decode(p, n), OCTO_EMALFORMED);
    put64(p + P_PARENT_VIEW, 8);
    CHECK_ERR(decode(p, n), OCTO_EMALFORMED);
    put64(p + P_PARENT_VIEW, UINT64_MAX);
    CHECK_ERR(decode(p, n), OCTO_EMALFORMED);
    put64(p + P_PARENT_VIEW, 6);
    CHECK_OK(decode(p, n));
}

static void test_reject_height_zero(void)
{
    uint8_t p[OCTO_CONS_PROPOSAL_FIXED + 4];
    size_t n = hex_copy(PROPOSAL_HEX, p, sizeof(p));
    put64(p + P_HEIGHT, 0);
    CHECK_ERR(decode(p, n), OCTO_EMALFORMED);
}

static void test_reject_signer(void)
{
    uint8_t v[OCTO_CONS_VOTE_LEN], p[OCTO_CONS_PROPOSAL_FIXED + 4];
    size_t vn = hex_copy(VOTE_HEX, v, sizeof(v));
    size_t pn = hex_copy(PROPOSAL_HEX, p, sizeof(p));
    const uint16_t bad[] = {OCTO_CONS_VALIDATORS_MAX, 0x100, 0xffff};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        v[V_SIGNER] = (uint8_t)(bad[i] >> 8);
        v[V_SIGNER + 1] = (uint8_t)bad[i];
        CHECK_ERR(decode(v, vn), OCTO_EMALFORMED);
        p[P_PAYLOAD + 4] = (uint8_t)(bad[i] >> 8);
        p[P_PAYLOAD + 5] = (uint8_t)bad[i];
        CHECK_ERR(decode(p, pn), OCTO_EMALFORMED);
    }
    v[V_SIGNER] = 0;
    v[V_SIGNER + 1] = OCTO_CONS_VALIDATORS_MAX - 1;
    CHECK_OK(decode(v, vn));
}

/* ---- encode errors --------------------------------------------------------------------- */

static void test_encode_einval(void)
{
    uint8_t *o = g_out;
    size_t cap = sizeof(g_out);
    struct octo_cons_msg m = make_vote(OCTO_CONS_SKIP, 5, 1);
    m.u.vote.block[31] = 1; /* skip with a block */
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_vote(OCTO_CONS_NOTARIZE, 0, 1);
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_vote(OCTO_CONS_NOTARIZE, 1, OCTO_CONS_VALIDATORS_MAX);
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_vote(0, 1, 1);
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_vote(4, 1, 1);
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);

    m = make_cert(OCTO_CONS_NOTARIZE, 0);
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_cert(OCTO_CONS_SKIP, 1);
    m.u.cert.block[0] = 1;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_cert(OCTO_CONS_FINALIZE, 1);
    m.u.cert.view = 0;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_cert(9, 1);
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);

    m = make_proposal(g_payload, OCTO_CONS_PAYLOAD_MAX + 1); /* only the length is looked at */
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_proposal(NULL, 1);
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_proposal(NULL, 0);
    m.u.proposal.block.parent_view = m.u.proposal.block.view;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_proposal(NULL, 0);
    m.u.proposal.block.height = 0;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_proposal(NULL, 0);
    m.u.proposal.block.view = 0;
    m.u.proposal.block.parent_view = 0;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m = make_proposal(NULL, 0);
    m.u.proposal.signer = OCTO_CONS_VALIDATORS_MAX;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);

    m = make_block_req();
    m.type = 0;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    m.type = 5;
    CHECK_ERR(octo_cons_msg_encode(&m, o, cap), OCTO_EINVAL);
    /* an invalid message is EINVAL even when the room is short too */
    m = make_vote(OCTO_CONS_NOTARIZE, 0, 1);
    CHECK_ERR(octo_cons_msg_encode(&m, o, 1), OCTO_EINVAL);
}

static void test_encode_enospace(void)
{
    struct octo_cons_msg ms[5];
    ms[0] = make_vote(OCTO_CONS_NOTARIZE, 1, 1);
    ms[1] = make_proposal(NULL, 0);
    ms[2] = make_proposal(g_payload, 1000);
    ms[3] = make_cert(OCTO_CONS_FINALIZE, 0x8001);
    ms[4] = make_block_req();
    for (size_t i = 0; i < OCTO_ARRAY_LEN(ms); i++) {
        int n = octo_cons_msg_encode(&ms[i], g_out, sizeof(g_out));
        CHECK(n > 0);
        memset(g_out2, 0xee, (size_t)n);
        CHECK_ERR(octo_cons_msg_encode(&ms[i], g_out2, (size_t)n - 1), OCTO_ENOSPACE);
        CHECK_ERR(octo_cons_msg_encode(&ms[i], g_out2, 2), OCTO_ENOSPACE);
        CHECK_ERR(octo_cons_msg_encode(&ms[i], NULL, 0), OCTO_ENOSPACE);
        CHECK_EQ_INT(g_out2[0], 0xee); /* nothing written */
    }
}

/* ---- signing bytes and counts ---------------------------------------------------------- */

static void test_signed_bytes(void)
{
    uint8_t cid[OCTO_CONS_ID_LEN], cid2[OCTO_CONS_ID_LEN], blk[OCTO_CONS_ID_LEN];
    uint8_t blk2[OCTO_CONS_ID_LEN];
    chain_id(cid);
    memcpy(cid2, cid, sizeof(cid));
    cid2[31] ^= 1;
    fill(blk, sizeof(blk), 0x20);
    memcpy(blk2, blk, sizeof(blk));
    blk2[0] ^= 0x80;
    uint8_t a[OCTO_CONS_VOTE_SIGNED_MAX], b[OCTO_CONS_VOTE_SIGNED_MAX];
    size_t n = octo_cons_vote_signed(cid, OCTO_CONS_NOTARIZE, 5, blk, a);
    CHECK_EQ_U64(n, 17 + 32 + 1 + 8 + 32);
    CHECK(n <= OCTO_CONS_VOTE_SIGNED_MAX);
    CHECK_EQ_U64(octo_cons_vote_signed(cid, OCTO_CONS_NOTARIZE, 5, blk, b), n);
    CHECK_MEM(a, b, n);
    CHECK_EQ_U64(octo_cons_vote_signed(cid2, OCTO_CONS_NOTARIZE, 5, blk, b), n);
    CHECK(memcmp(a, b, n) != 0);
    CHECK_EQ_U64(octo_cons_vote_signed(cid, OCTO_CONS_FINALIZE, 5, blk, b), n);
    CHECK(memcmp(a, b, n) != 0);
    CHECK_EQ_U64(octo_cons_vote_signed(cid, OCTO_CONS_NOTARIZE, 6, blk, b), n);
    CHECK(memcmp(a, b, n) != 0);
    CHECK_EQ_U64(octo_cons_vote_signed(cid, OCTO_CONS_NOTARIZE, 5 | (1ull << 56), blk, b), n);
    CHECK(memcmp(a, b, n) != 0);
    CHECK_EQ_U64(octo_cons_vote_signed(cid, OCTO_CONS_NOTARIZE, 5, blk2, b), n);
    CHECK(memcmp(a, b, n) != 0);

    size_t pn = octo_cons_proposal_signed(cid, blk, a);
    CHECK_EQ_U64(pn, 21 + 32 + 32);
    CHECK(pn <= OCTO_CONS_VOTE_SIGNED_MAX);
    CHECK_EQ_U64(octo_cons_proposal_signed(cid2, blk, b), pn);
    CHECK(memcmp(a, b, pn) != 0);
    CHECK_EQ_U64(octo_cons_proposal_signed(cid, blk2, b), pn);
    CHECK(memcmp(a, b, pn) != 0);
    /* a proposal's and a vote's signing bytes never coincide (different tags) */
    CHECK_EQ_U64(octo_cons_vote_signed(cid, OCTO_CONS_NOTARIZE, 5, blk, b), n);
    CHECK(memcmp(a, b, pn) != 0);
}

static void test_block_id_fields(void)
{
    uint8_t cid[OCTO_CONS_ID_LEN], cid2[OCTO_CONS_ID_LEN], id[OCTO_CONS_ID_LEN];
    uint8_t id2[OCTO_CONS_ID_LEN];
    chain_id(cid);
    memcpy(cid2, cid, sizeof(cid));
    cid2[0] ^= 1;
    struct octo_cons_msg m = make_proposal(NULL, 0);
    struct octo_cons_block b = m.u.proposal.block;
    octo_cons_block_id(cid, &b, id);
    octo_cons_block_id(cid2, &b, id2);
    CHECK(memcmp(id, id2, sizeof(id)) != 0);
    struct octo_cons_block c = b;
    c.view++;
    octo_cons_block_id(cid, &c, id2);
    CHECK(memcmp(id, id2, sizeof(id)) != 0);
    c = b;
    c.height++;
    octo_cons_block_id(cid, &c, id2);
    CHECK(memcmp(id, id2, sizeof(id)) != 0);
    c = b;
    c.parent_view++;
    octo_cons_block_id(cid, &c, id2);
    CHECK(memcmp(id, id2, sizeof(id)) != 0);
    c = b;
    c.parent[31] ^= 1;
    octo_cons_block_id(cid, &c, id2);
    CHECK(memcmp(id, id2, sizeof(id)) != 0);
    c = b;
    c.payload_hash[0] ^= 1;
    octo_cons_block_id(cid, &c, id2);
    CHECK(memcmp(id, id2, sizeof(id)) != 0);
    octo_cons_block_id(cid, &b, id2);
    CHECK_MEM(id, id2, sizeof(id));
}

static void test_cert_count(void)
{
    struct octo_cons_cert c;
    memset(&c, 0, sizeof(c));
    CHECK_EQ_INT(octo_cons_cert_count(&c), 0);
    c.signers = 1;
    CHECK_EQ_INT(octo_cons_cert_count(&c), 1);
    c.signers = (uint64_t)1 << 63;
    CHECK_EQ_INT(octo_cons_cert_count(&c), 1);
    c.signers = 0x8000000100010005ull;
    CHECK_EQ_INT(octo_cons_cert_count(&c), 5);
    c.signers = UINT64_MAX;
    CHECK_EQ_INT(octo_cons_cert_count(&c), 64);
}

/* ---- fuzz seeds ------------------------------------------------------------------------ */

static void write_msg_seed(const char *dir, const char *name, const struct octo_cons_msg *m)
{
    int n = octo_cons_msg_encode(m, g_out, sizeof(g_out));
    OCTO_ASSERT(n > 0);
    octo_test_write_file(dir, name, g_out, (size_t)n);
}

static void write_seeds(void)
{
    const char *dir = getenv("OCTO_CONS_MSG_SEED_DIR");
    if (dir == NULL)
        return;
    struct octo_cons_msg m = make_vote(OCTO_CONS_NOTARIZE, 3, 2);
    write_msg_seed(dir, "vote-notarize", &m);
    m = make_vote(OCTO_CONS_FINALIZE, UINT64_MAX, 63);
    write_msg_seed(dir, "vote-finalize", &m);
    m = make_vote(OCTO_CONS_SKIP, 4, 0);
    write_msg_seed(dir, "vote-skip", &m);
    m = make_proposal(NULL, 0);
    write_msg_seed(dir, "proposal-empty", &m);
    m = make_proposal((const uint8_t *)"octo", 4);
    write_msg_seed(dir, "proposal-small", &m);
    fill(g_payload, 300, 1);
    m = make_proposal(g_payload, 300);
    m.u.proposal.block.parent_view = 0;
    m.u.proposal.block.height = 1;
    write_msg_seed(dir, "proposal-genesis-child", &m);
    m = make_cert(OCTO_CONS_NOTARIZE, 1);
    write_msg_seed(dir, "cert-one", &m);
    m = make_cert(OCTO_CONS_SKIP, 0x8000000100010005ull);
    write_msg_seed(dir, "cert-skip-five", &m);
    m = make_cert(OCTO_CONS_FINALIZE, UINT64_MAX);
    write_msg_seed(dir, "cert-full", &m);
    m = make_block_req();
    write_msg_seed(dir, "block-req", &m);

    /* near misses */
    uint8_t b[OCTO_CONS_CERT_MAX];
    size_t n = hex_copy(VOTE_HEX, b, sizeof(b));
    octo_test_write_file(dir, "miss-vote-truncated", b, n - 1);
    b[V_KIND] = OCTO_CONS_SKIP;
    octo_test_write_file(dir, "miss-vote-skip-block", b, n);
    n = hex_copy(PROPOSAL_HEX, b, sizeof(b));
    put32(b + P_PAYLOAD_LEN, OCTO_CONS_PAYLOAD_MAX + 1);
    octo_test_write_file(dir, "miss-proposal-too-big", b, n);
    n = hex_copy(PROPOSAL_HEX, b, sizeof(b));
    put64(b + P_PARENT_VIEW, 7);
    octo_test_write_file(dir, "miss-proposal-parent-view", b, n);
    n = hex_copy(CERT_HEX, b, sizeof(b));
    octo_test_write_file(dir, "miss-cert-short-sig", b, n - 1);
    put64(b + C_SIGNERS, 0);
    octo_test_write_file(dir, "miss-cert-no-signers", b, OCTO_CONS_CERT_FIXED);
    const uint8_t hdr[] = {OCTO_CONS_MSG_VERSION, 5};
    octo_test_write_file(dir, "miss-unknown-type", hdr, sizeof(hdr));
}

int main(void)
{
    OCTO_RUN(test_constants);
    OCTO_RUN(test_round_trip_vote);
    OCTO_RUN(test_round_trip_proposal);
    OCTO_RUN(test_round_trip_proposal_in_place);
    OCTO_RUN(test_round_trip_cert);
    OCTO_RUN(test_round_trip_block_req);
    OCTO_RUN(test_vote_vector);
    OCTO_RUN(test_proposal_vector);
    OCTO_RUN(test_cert_vector);
    OCTO_RUN(test_reject_version);
    OCTO_RUN(test_reject_type);
    OCTO_RUN(test_reject_kind);
    OCTO_RUN(test_reject_view_zero);
    OCTO_RUN(test_reject_skip_nonzero_block);
    OCTO_RUN(test_reject_trailing_byte);
    OCTO_RUN(test_reject_vote_truncated);
    OCTO_RUN(test_reject_other_truncated);
    OCTO_RUN(test_reject_payload_past_end);
    OCTO_RUN(test_reject_payload_too_big);
    OCTO_RUN(test_reject_cert_no_signers);
    OCTO_RUN(test_reject_cert_popcount);
    OCTO_RUN(test_reject_parent_view);
    OCTO_RUN(test_reject_height_zero);
    OCTO_RUN(test_reject_signer);
    OCTO_RUN(test_encode_einval);
    OCTO_RUN(test_encode_enospace);
    OCTO_RUN(test_signed_bytes);
    OCTO_RUN(test_block_id_fields);
    OCTO_RUN(test_cert_count);
    write_seeds();
    return octo_test_finish();
}
