/*
 * test_tx.c — transactions, receipts, evidence (chain/tx.h) and block payloads
 * (chain/block.h): fixed vectors computed independently with Python's struct and hashlib (a
 * TRANSFER, a receipt, a one-transaction payload with its RFC 6962 roots), a round trip of
 * every transaction type, every decoder rejection rule, signatures checked against libsodium
 * called directly on the documented signing bytes, tampering, the evidence conflict rules,
 * building blocks to the size limit and inclusion proofs for every transaction and receipt.
 *
 * With OCTO_TX_SEED_DIR set, write_seeds() also writes the seed corpus of fuzz/fuzz_tx.c:
 *   OCTO_TX_SEED_DIR=fuzz/seeds/tx build/<dir>/tests/unit/chain/test_chain_tx
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "chain/block.h"
#include "chain/tx.h"
#include "crypto/hash.h"
#include "test.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* version 1, TRANSFER, from 11*32, nonce 7, fee 1000, to 22*32, token OCTO, amount 5000000,
 * sig 33*64 */
static const char TRANSFER_HEX[] =
    "010111111111111111111111111111111111111111111111111111111111111111110000000000000007000000"
    "00000003e822222222222222222222222222222222222222222222222222222222222222220000000000004c4b"
    "403333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"
    "3333333333333333333333333333333333333333";
static const char TRANSFER_ID_HEX[] =
    "35d06d3a8fcbcb09df80755615b3c6e42cbf703c81cf397c167834f44ef38670";
/* time 1700000000000, state height 4, state root 44*32, the transfer above as its one tx */
static const char PAYLOAD_HEX[] =
    "010000018bcfe56800000000000000000444444444444444444444444444444444444444444444444444444444"
    "44444444b2f74fecc477cc076b0a551eb73b6cb37cfef3105ba0069b61c1d032807028d2e3b0c44298fc1c149a"
    "fbf4c8996fb92427ae41e4649b934ca495991b7852b855000000010000009b0101111111111111111111111111"
    "1111111111111111111111111111111111111111000000000000000700000000000003e8222222222222222222"
    "22222222222222222222222222222222222222222222220000000000004c4b4033333333333333333333333333"
    "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"
    "333333333333";
/* task 01*32, requester 02*32, orchestrator 03*32, provider 04*32, input 05*32, output 06*32,
 * tokens 100, start 1000, end 2000, price 12345, sig 77*64 */
static const char RECEIPT_HEX[] =
    "010101010101010101010101010101010101010101010101010101010101010101020202020202020202020202"
    "020202020202020202020202020202020202020203030303030303030303030303030303030303030303030303"
    "030303030303030404040404040404040404040404040404040404040404040404040404040404050505050505"
    "050505050505050505050505050505050505050505050505050506060606060606060606060606060606060606"
    "06060606060606060606060606000000000000006400000000000003e800000000000007d00000000000003039"
    "777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777"
    "77777777777777777777777777777777777777";

static uint8_t g_chain[32];
static struct octo_identity g_keys[4];
static uint8_t g_buf[OCTO_TX_MAX + 16];

static void setup(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    for (int i = 0; i < 32; i++)
        g_chain[i] = (uint8_t)i;
    for (int k = 0; k < 4; k++) {
        uint8_t seed[32];
        memset(seed, 0xa0 + k, sizeof(seed));
        OCTO_ASSERT(octo_identity_from_seed(&g_keys[k], seed) == 0);
    }
}

/* A signed receipt from provider key p for task byte `task`. */
static void make_receipt(uint8_t out[OCTO_RECEIPT_LEN], uint8_t task, int p, uint64_t price)
{
    struct octo_receipt r;
    memset(&r, 0, sizeof(r));
    memset(r.task, task, 32);
    memcpy(r.requester, g_keys[0].pub.bytes, 32);
    memcpy(r.orchestrator, g_keys[1].pub.bytes, 32);
    memcpy(r.provider, g_keys[p].pub.bytes, 32);
    memset(r.input, 0x55, 32);
    memset(r.output, 0x66, 32);
    r.tokens = 42;
    r.start_ms = 10;
    r.end_ms = 20;
    r.price = price;
    octo_receipt_encode(&r, out);
    octo_receipt_sign(g_chain, out, &g_keys[p]);
}

static uint8_t g_receipts[3][OCTO_RECEIPT_LEN];

/* A valid transaction of each type (signed by key 1, the orchestrator, or key 0). */
static int make_tx(uint8_t type, uint8_t *out, size_t cap)
{
    struct octo_tx t;
    memset(&t, 0, sizeof(t));
    t.type = type;
    int signer = type == OCTO_TX_SETTLE || type == OCTO_TX_SLASH_FAILED ? 1 : 0;
    memcpy(t.from, g_keys[signer].pub.bytes, 32);
    t.nonce = 3;
    t.fee = 1000;
    switch (type) {
    case OCTO_TX_TRANSFER:
        memcpy(t.u.transfer.to, g_keys[2].pub.bytes, 32);
        t.u.transfer.token = OCTO_TOKEN_S;
        t.u.transfer.amount = 77;
        break;
    case OCTO_TX_REGISTER:
        t.u.role = OCTO_STAKE_ORCHESTRATOR;
        break;
    case OCTO_TX_STAKE:
    case OCTO_TX_UNSTAKE:
        t.u.amount = 5;
        break;
    case OCTO_TX_ESCROW:
        memset(t.u.escrow.task, 9, 32);
        memcpy(t.u.escrow.orchestrator, g_keys[1].pub.bytes, 32);
        t.u.escrow.amount = 1000000;
        t.u.escrow.expires_ms = 99999;
        break;
    case OCTO_TX_REFUND:
        memset(t.u.task, 9, 32);
        break;
    case OCTO_TX_SETTLE:
        for (int i = 0; i < 3; i++)
            make_receipt(g_receipts[i], (uint8_t)(i + 1), 2 + (i & 1), 1000 + (uint64_t)i);
        t.u.settle.receipts = &g_receipts[0][0];
        t.u.settle.count = 3;
        break;
    case OCTO_TX_SLASH_DOUBLE:
        memcpy(t.u.slash.offender, g_keys[3].pub.bytes, 32);
        t.u.slash.ev[0].tag = OCTO_EVIDENCE_VOTE;
        t.u.slash.ev[0].kind = OCTO_CONS_NOTARIZE;
        t.u.slash.ev[0].view = 5;
        t.u.slash.ev[0].signer = 2;
        memset(t.u.slash.ev[0].block, 1, 32);
        t.u.slash.ev[1].tag = OCTO_EVIDENCE_HEADER;
        t.u.slash.ev[1].view = 5;
        t.u.slash.ev[1].signer = 2;
        t.u.slash.ev[1].header.view = 5;
        t.u.slash.ev[1].header.height = 2;
        t.u.slash.ev[1].header.parent_view = 4;
        memset(t.u.slash.ev[1].header.payload_hash, 7, 32);
        break;
    case OCTO_TX_SLASH_FAILED:
        make_receipt(g_receipts[0], 1, 2, 500);
        OCTO_ASSERT(octo_receipt_decode(g_receipts[0], OCTO_RECEIPT_LEN, &t.u.receipt) == 0);
        break;
    }
    int n = octo_tx_encode(&t, out, cap);
    OCTO_ASSERT(n > 0);
    octo_tx_sign(g_chain, out, (size_t)n, &g_keys[signer]);
    return n;
}

static void test_transfer_vector(void)
{
    size_t len;
    const uint8_t *v = octo_test_hex(TRANSFER_HEX, &len);
    CHECK_EQ_U64(len, OCTO_TX_TRANSFER_LEN);
    struct octo_tx t;
    CHECK_OK(octo_tx_decode(v, len, &t));
    CHECK_EQ_INT(t.type, OCTO_TX_TRANSFER);
    CHECK_EQ_U64(t.nonce, 7);
    CHECK_EQ_U64(t.fee, 1000);
    CHECK_EQ_U64(t.u.transfer.amount, 5000000);
    CHECK(t.from[0] == 0x11 && t.u.transfer.to[31] == 0x22 && t.sig[63] == 0x33);
    uint8_t out[256];
    CHECK_EQ_INT(octo_tx_encode(&t, out, sizeof(out)), (int)len);
    CHECK(memcmp(out, v, len) == 0);
    uint8_t id[32];
    octo_tx_id(v, len, id);
    size_t idl;
    CHECK(memcmp(id, octo_test_hex(TRANSFER_ID_HEX, &idl), 32) == 0);
    CHECK_EQ_INT(octo_tx_encode(&t, out, len - 1), OCTO_ENOSPACE);
}

static void test_receipt_vector(void)
{
    size_t len;
    const uint8_t *v = octo_test_hex(RECEIPT_HEX, &len);
    CHECK_EQ_U64(len, OCTO_RECEIPT_LEN);
    struct octo_receipt r;
    CHECK_OK(octo_receipt_decode(v, len, &r));
    CHECK(r.task[0] == 1 && r.provider[31] == 4 && r.output[0] == 6);
    CHECK_EQ_U64(r.tokens, 100);
    CHECK_EQ_U64(r.start_ms, 1000);
    CHECK_EQ_U64(r.end_ms, 2000);
    CHECK_EQ_U64(r.price, 12345);
    uint8_t out[OCTO_RECEIPT_LEN];
    octo_receipt_encode(&r, out);
    CHECK(memcmp(out, v, len) == 0);
    CHECK_EQ_INT(octo_receipt_decode(v, len - 1, &r), OCTO_EMALFORMED);
}

static void test_payload_vector(void)
{
    size_t len;
    const uint8_t *v = octo_test_hex(PAYLOAD_HEX, &len);
    struct octo_block_scratch *s = octo_malloc(sizeof(*s));
    struct octo_block_hdr h;
    CHECK_OK(octo_block_parse(v, len, &h, s->txs));
    CHECK_EQ_U64(h.time_ms, 1700000000000);
    CHECK_EQ_U64(h.state_height, 4);
    CHECK_EQ_U64(h.n_tx, 1);
    CHECK_EQ_U64(s->txs[0].len, OCTO_TX_TRANSFER_LEN);
    uint8_t tr[32], rr[32];
    CHECK_OK(octo_block_roots(s->txs, 1, s, tr, rr));
    CHECK(memcmp(tr, h.tx_root, 32) == 0 && memcmp(rr, h.receipt_root, 32) == 0);
    uint32_t bad = 99;
    /* the vector's signature is made up */
    CHECK_EQ_INT(octo_block_check(g_chain, &h, s, NULL, NULL, &bad), OCTO_EBADSIG);
    CHECK_EQ_U64(bad, 0);
    /* the builder writes the same bytes */
    uint8_t out[512];
    struct octo_block_builder b;
    octo_block_build_init(&b, out, sizeof(out));
    CHECK_OK(octo_block_build_add(&b, s->txs[0].p, s->txs[0].len));
    uint8_t sr[32];
    memset(sr, 0x44, 32);
    CHECK_EQ_INT(octo_block_build_finish(&b, 1700000000000, 4, sr, s), (int)len);
    CHECK(memcmp(out, v, len) == 0);
    /* framing errors */
    CHECK_EQ_INT(octo_block_parse(v, len - 1, &h, s->txs), OCTO_EMALFORMED);
    memcpy(out, v, len);
    out[len] = 0;
    CHECK_EQ_INT(octo_block_parse(out, len + 1, &h, s->txs), OCTO_EMALFORMED);
    out[0] = 2;
    CHECK_EQ_INT(octo_block_parse(out, len, &h, s->txs), OCTO_EMALFORMED);
    memcpy(out, v, len);
    out[113] = 0xff; /* n_tx */
    CHECK_EQ_INT(octo_block_parse(out, len, &h, s->txs), OCTO_ETOOBIG);
    octo_free(s);
}

static void test_roundtrip_every_type(void)
{
    for (uint8_t type = OCTO_TX_TRANSFER; type <= OCTO_TX_SLASH_FAILED; type++) {
        int n = make_tx(type, g_buf, sizeof(g_buf));
        struct octo_tx t;
        CHECK_OK(octo_tx_decode(g_buf, (size_t)n, &t));
        CHECK_EQ_INT(t.type, type);
        CHECK_OK(octo_tx_verify(g_chain, g_buf, (size_t)n, &t));
        static uint8_t again[OCTO_TX_MAX];
        CHECK_EQ_INT(octo_tx_encode(&t, again, sizeof(again)), n);
        CHECK(memcmp(again, g_buf, (size_t)n) == 0);
        /* every truncation and one extra byte are refused */
        for (int cut = 0; cut < n; cut += (type == OCTO_TX_SETTLE ? 37 : 1))
            CHECK(octo_tx_decode(g_buf, (size_t)cut, &t) != 0);
        CHECK(octo_tx_decode(g_buf, (size_t)n + 1, &t) != 0);
        CHECK(octo_tx_type_name(type) != NULL);
    }
}

/* Flipping any bit of a signed tx makes it fail to decode or to verify. */
static void test_tamper(void)
{
    for (uint8_t type = OCTO_TX_TRANSFER; type <= OCTO_TX_SLASH_FAILED; type++) {
        int n = make_tx(type, g_buf, sizeof(g_buf));
        int step = n > 400 ? 7 : 1;
        for (int i = 0; i < n; i += step) {
            g_buf[i] ^= 0x04;
            struct octo_tx t;
            bool ok = octo_tx_decode(g_buf, (size_t)n, &t) == 0 &&
                      octo_tx_verify(g_chain, g_buf, (size_t)n, &t) == 0;
            if (ok)
                octo_test_fail_at(__FILE__, __LINE__, "type %d byte %d flipped still valid", type,
                                  i);
            g_buf[i] ^= 0x04;
        }
        /* another chain's signature is not this chain's */
        uint8_t other[32];
        memset(other, 0xee, 32);
        struct octo_tx t;
        CHECK_OK(octo_tx_decode(g_buf, (size_t)n, &t));
        CHECK_EQ_INT(octo_tx_verify(other, g_buf, (size_t)n, &t), OCTO_EBADSIG);
    }
}

/* The signature is plain Ed25519 over "OCTO-TX-v1" | chain_id | tx without sig. */
static void test_signing_bytes(void)
{
    int n = make_tx(OCTO_TX_TRANSFER, g_buf, sizeof(g_buf));
    uint8_t msg[512];
    memcpy(msg, "OCTO-TX-v1", 10);
    memcpy(msg + 10, g_chain, 32);
    memcpy(msg + 42, g_buf, (size_t)n - 64);
    CHECK(crypto_sign_verify_detached(g_buf + n - 64, msg, 42 + (size_t)n - 64,
                                      g_keys[0].pub.bytes) == 0);
    uint8_t rec[OCTO_RECEIPT_LEN];
    make_receipt(rec, 5, 3, 10);
    memcpy(msg, "OCTO-RCPT-v1", 12);
    memcpy(msg + 12, g_chain, 32);
    memcpy(msg + 44, rec, OCTO_RECEIPT_LEN - 64);
    CHECK(crypto_sign_verify_detached(rec + OCTO_RECEIPT_LEN - 64, msg, 44 + OCTO_RECEIPT_LEN - 64,
                                      g_keys[3].pub.bytes) == 0);
    CHECK_OK(octo_receipt_verify(g_chain, rec));
}

/* A SETTLE whose tx signature holds but one receipt's provider signature does not. */
static void test_settle_receipt_signature(void)
{
    int n = make_tx(OCTO_TX_SETTLE, g_buf, sizeof(g_buf));
    size_t sig2 = OCTO_TX_HDR_LEN + 2 + 2 * OCTO_RECEIPT_LEN - 1; /* receipt 1's last byte */
    g_buf[sig2] ^= 1;
    octo_tx_sign(g_chain, g_buf, (size_t)n, &g_keys[1]);
    struct octo_tx t;
    CHECK_OK(octo_tx_decode(g_buf, (size_t)n, &t));
    CHECK_EQ_INT(octo_tx_verify(g_chain, g_buf, (size_t)n, &t), OCTO_EBADSIG);
}

/* Sets byte `at` of a valid tx of `type` to v, re-signs, expects decode to fail. */
static void expect_reject(uint8_t type, size_t at, uint8_t v)
{
    int n = make_tx(type, g_buf, sizeof(g_buf));
    g_buf[at] = v;
    struct octo_tx t;
    if (octo_tx_decode(g_buf, (size_t)n, &t) != OCTO_EMALFORMED)
        octo_test_fail_at(__FILE__, __LINE__, "type %d byte %zu = %u accepted", type, at, v);
}

static void test_decode_rules(void)
{
    const size_t B = OCTO_TX_HDR_LEN;                     /* the body's first byte */
    expect_reject(OCTO_TX_TRANSFER, 0, 2);                /* version */
    expect_reject(OCTO_TX_TRANSFER, 1, 0);                /* type 0 */
    expect_reject(OCTO_TX_TRANSFER, 1, 10);               /* unknown type */
    expect_reject(OCTO_TX_TRANSFER, B + 32, OCTO_TOKENS); /* token */
    expect_reject(OCTO_TX_REGISTER, B, OCTO_STAKE_NONE);  /* role */
    expect_reject(OCTO_TX_REGISTER, B, OCTO_STAKE_ROLES); /* role */
    expect_reject(OCTO_TX_SETTLE, B + 1, 2);              /* count disagrees with length */
    expect_reject(OCTO_TX_SETTLE, B + 2, 2);              /* receipt version */
    expect_reject(OCTO_TX_SLASH_DOUBLE, B + 32, 3);       /* evidence tag */
    expect_reject(OCTO_TX_SLASH_DOUBLE, B + 33, 2);       /* the vote's own version */
    expect_reject(OCTO_TX_SLASH_DOUBLE, B + 35, 9);       /* vote kind */
    expect_reject(OCTO_TX_SLASH_FAILED, B, 0);            /* receipt version */

    struct octo_tx t;
    int n = make_tx(OCTO_TX_TRANSFER, g_buf, sizeof(g_buf));
    CHECK_OK(octo_tx_decode(g_buf, (size_t)n, &t));
    /* zero amount, self transfer */
    t.u.transfer.amount = 0;
    CHECK_EQ_INT(octo_tx_encode(&t, g_buf, sizeof(g_buf)), OCTO_EINVAL);
    memset(g_buf + B + 33, 0, 8);
    CHECK_EQ_INT(octo_tx_decode(g_buf, (size_t)n, &t), OCTO_EMALFORMED);
    n = make_tx(OCTO_TX_TRANSFER, g_buf, sizeof(g_buf));
    memcpy(g_buf + B, g_buf + 2, 32);
    CHECK_EQ_INT(octo_tx_decode(g_buf, (size_t)n, &t), OCTO_EMALFORMED);
    /* a receipt ending before it starts, a receipt with no price */
    n = make_tx(OCTO_TX_SLASH_FAILED, g_buf, sizeof(g_buf));
    size_t start = B + 1 + 6 * 32 + 8;
    g_buf[start] = 0xff;
    CHECK_EQ_INT(octo_tx_decode(g_buf, (size_t)n, &t), OCTO_EMALFORMED);
    n = make_tx(OCTO_TX_SLASH_FAILED, g_buf, sizeof(g_buf));
    memset(g_buf + start + 16, 0, 8);
    CHECK_EQ_INT(octo_tx_decode(g_buf, (size_t)n, &t), OCTO_EMALFORMED);
    /* a skip vote naming a block; a header whose parent view is not older */
    n = make_tx(OCTO_TX_SLASH_DOUBLE, g_buf, sizeof(g_buf));
    g_buf[B + 35] = OCTO_CONS_SKIP;
    CHECK_EQ_INT(octo_tx_decode(g_buf, (size_t)n, &t), OCTO_EMALFORMED);
    n = make_tx(OCTO_TX_SLASH_DOUBLE, g_buf, sizeof(g_buf));
    g_buf[B + 33 + OCTO_CONS_VOTE_LEN + 1 + 8 + 8 + 7] = 9; /* parent_view 9 >= view 5 */
    CHECK_EQ_INT(octo_tx_decode(g_buf, (size_t)n, &t), OCTO_EMALFORMED);
    /* size limits */
    CHECK_EQ_INT(octo_tx_decode(g_buf, OCTO_TX_MAX + 1, &t), OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_tx_decode(g_buf, 10, &t), OCTO_EMALFORMED);
    n = make_tx(OCTO_TX_SETTLE, g_buf, sizeof(g_buf));
    CHECK_OK(octo_tx_decode(g_buf, (size_t)n, &t));
    t.u.settle.count = 0;
    CHECK_EQ_INT(octo_tx_encode(&t, g_buf, sizeof(g_buf)), OCTO_EINVAL);
    t.u.settle.count = OCTO_TX_RECEIPTS_MAX + 1;
    CHECK_EQ_INT(octo_tx_encode(&t, g_buf, sizeof(g_buf)), OCTO_EINVAL);
    /* a SETTLE whose receipt would not decode is not encoded either */
    static uint8_t bad_receipt[OCTO_RECEIPT_LEN];
    memcpy(bad_receipt, g_receipts[0], OCTO_RECEIPT_LEN);
    bad_receipt[0] = 2;
    t.u.settle.receipts = bad_receipt;
    t.u.settle.count = 1;
    CHECK_EQ_INT(octo_tx_encode(&t, g_buf, sizeof(g_buf)), OCTO_EINVAL);
}

static void test_evidence_conflicts(void)
{
    struct octo_evidence a, b;
    memset(&a, 0, sizeof(a));
    a.tag = OCTO_EVIDENCE_VOTE;
    a.kind = OCTO_CONS_NOTARIZE;
    a.view = 4;
    a.signer = 1;
    memset(a.block, 1, 32);
    b = a;
    CHECK(!octo_evidence_conflict(g_chain, &a, &b)); /* the same vote twice */
    b.block[0] = 2;
    CHECK(octo_evidence_conflict(g_chain, &a, &b)); /* two blocks notarized */
    b.view = 5;
    CHECK(!octo_evidence_conflict(g_chain, &a, &b)); /* other views */
    b.view = 4;
    b.signer = 2; /* indexes are not the proof: the offender's key is */
    CHECK(octo_evidence_conflict(g_chain, &a, &b));
    b.signer = 1;
    a.kind = b.kind = OCTO_CONS_FINALIZE;
    CHECK(octo_evidence_conflict(g_chain, &a, &b)); /* two blocks finalized */
    b.kind = OCTO_CONS_SKIP;
    memset(b.block, 0, 32);
    CHECK(octo_evidence_conflict(g_chain, &a, &b)); /* skip and finalize */
    CHECK(octo_evidence_conflict(g_chain, &b, &a));
    a.kind = OCTO_CONS_NOTARIZE;
    CHECK(!octo_evidence_conflict(g_chain, &a, &b)); /* notarize then skip is allowed */
    a.kind = OCTO_CONS_SKIP;
    memset(a.block, 0, 32);
    CHECK(!octo_evidence_conflict(g_chain, &a, &b)); /* two skips */
    struct octo_evidence h1, h2;
    memset(&h1, 0, sizeof(h1));
    h1.tag = OCTO_EVIDENCE_HEADER;
    h1.view = h1.header.view = 6;
    h1.header.height = 3;
    h2 = h1;
    CHECK(!octo_evidence_conflict(g_chain, &h1, &h2));
    h2.header.payload_hash[5] = 1;
    CHECK(octo_evidence_conflict(g_chain, &h1, &h2)); /* two proposals in a view */
    /* a proposal and a NOTARIZE vote: a conflict unless the vote is for the proposal */
    struct octo_evidence v = a;
    v.kind = OCTO_CONS_NOTARIZE;
    v.view = 6;
    octo_cons_block_id(g_chain, &h1.header, v.block);
    CHECK(!octo_evidence_conflict(g_chain, &h1, &v));
    v.block[0] ^= 1;
    CHECK(octo_evidence_conflict(g_chain, &v, &h1));
    v.kind = OCTO_CONS_FINALIZE;
    CHECK(!octo_evidence_conflict(g_chain, &v, &h1));
}

/* Blocks built to the size limit: every tx and receipt has a proof that verifies. */
static void test_build_and_proofs(void)
{
    struct octo_block_scratch *s = octo_malloc(sizeof(*s));
    uint8_t *out = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
    struct octo_block_builder b;
    octo_block_build_init(&b, out, OCTO_CONS_PAYLOAD_MAX);
    int added = 0, rc;
    for (;;) {
        uint8_t type = (uint8_t)(OCTO_TX_TRANSFER + added % 9);
        int n = make_tx(type, g_buf, sizeof(g_buf));
        rc = octo_block_build_add(&b, g_buf, (size_t)n);
        if (rc != 0)
            break;
        added++;
    }
    CHECK_EQ_INT(rc, OCTO_ENOSPACE);
    CHECK(added > 1000);
    uint8_t sr[32] = {0};
    int len = octo_block_build_finish(&b, 5, 0, sr, s);
    CHECK(len > (int)(OCTO_CONS_PAYLOAD_MAX - OCTO_TX_MAX));
    struct octo_block_hdr h;
    CHECK_OK(octo_block_parse(out, (size_t)len, &h, s->txs));
    CHECK_EQ_U64(h.n_tx, (uint64_t)added);
    uint32_t bad;
    CHECK_OK(octo_block_check(g_chain, &h, s, NULL, NULL, &bad));
    for (int pass = 0; pass < 2; pass++) {
        bool receipt = pass == 1;
        for (uint32_t i = 0;; i += 13) {
            struct octo_merkle_hash proof[OCTO_MERKLE_PROOF_MAX];
            size_t plen;
            uint64_t n;
            rc = octo_block_proof(&h, s, receipt, i, &n, proof, &plen);
            if (rc == OCTO_EINVAL)
                break;
            CHECK_OK(rc);
            struct octo_merkle_hash leaf, root;
            if (receipt) {
                /* find receipt i's bytes by walking the txs */
                uint32_t k = 0;
                const uint8_t *rp = NULL;
                for (uint32_t t = 0; t < h.n_tx && rp == NULL; t++) {
                    const uint8_t *p = s->txs[t].p;
                    uint32_t c = p[1] == OCTO_TX_SETTLE         ? (uint32_t)(p[50] << 8 | p[51])
                                 : p[1] == OCTO_TX_SLASH_FAILED ? 1
                                                                : 0;
                    const uint8_t *first = p + OCTO_TX_HDR_LEN + (p[1] == OCTO_TX_SETTLE ? 2 : 0);
                    const uint8_t *got;
                    CHECK_EQ_INT(octo_block_tx_receipts(&s->txs[t], &got), (int)c);
                    CHECK(c == 0 ? got == NULL : got == first);
                    if (i < k + c)
                        rp = first + (size_t)(i - k) * OCTO_RECEIPT_LEN;
                    k += c;
                }
                CHECK(rp != NULL);
                octo_merkle_leaf_hash(rp, OCTO_RECEIPT_LEN, &leaf);
                memcpy(root.bytes, h.receipt_root, 32);
            } else {
                octo_merkle_leaf_hash(s->txs[i].p, s->txs[i].len, &leaf);
                memcpy(root.bytes, h.tx_root, 32);
            }
            CHECK_OK(octo_merkle_inclusion_verify(&leaf, i, n, proof, plen, &root));
        }
    }
    /* a changed transaction no longer matches the root */
    out[OCTO_BLOCK_HDR_LEN + 4 + 20] ^= 1;
    CHECK_OK(octo_block_parse(out, (size_t)len, &h, s->txs));
    CHECK(octo_block_check(g_chain, &h, s, NULL, NULL, &bad) != 0);
    CHECK_EQ_U64(bad, 0);
    octo_free(out);
    octo_free(s);
}

static bool all_verified(void *ctx, const uint8_t id[32])
{
    (void)id;
    (*(int *)ctx)++;
    return true;
}

/* A cache that says "verified" skips the signature check but never the roots. */
static void test_check_with_cache(void)
{
    struct octo_block_scratch *s = octo_malloc(sizeof(*s));
    size_t len;
    const uint8_t *v = octo_test_hex(PAYLOAD_HEX, &len);
    struct octo_block_hdr h;
    CHECK_OK(octo_block_parse(v, len, &h, s->txs));
    int calls = 0;
    uint32_t bad;
    CHECK_OK(octo_block_check(g_chain, &h, s, all_verified, &calls, &bad));
    CHECK_EQ_INT(calls, 1);
    h.receipt_root[0] ^= 1;
    CHECK_EQ_INT(octo_block_check(g_chain, &h, s, all_verified, &calls, &bad), OCTO_EMALFORMED);
    CHECK_EQ_U64(bad, 1);
    octo_free(s);
}

static void test_names(void)
{
    CHECK_EQ_INT(octo_token_parse("octo-a"), OCTO_TOKEN_A);
    CHECK_EQ_INT(octo_token_parse("OCTO"), OCTO_TOKEN_OCTO);
    CHECK_EQ_INT(octo_token_parse("OCTO-X"), OCTO_EINVAL);
    CHECK_EQ_INT(octo_stake_role_parse("validator"), OCTO_STAKE_VALIDATOR);
    CHECK_EQ_INT(octo_stake_role_parse("none"), OCTO_EINVAL);
    CHECK(strcmp(octo_token_name(OCTO_TOKEN_N), "OCTO-N") == 0);
    CHECK(octo_token_name(OCTO_TOKENS) == NULL);
    CHECK(strcmp(octo_stake_role_name(OCTO_STAKE_ORCHESTRATOR), "orchestrator") == 0);
}

static void write_seeds(void)
{
    const char *dir = getenv("OCTO_TX_SEED_DIR");
    if (dir == NULL)
        return;
    for (uint8_t type = OCTO_TX_TRANSFER; type <= OCTO_TX_SLASH_FAILED; type++) {
        int n = make_tx(type, g_buf, sizeof(g_buf));
        char name[32];
        snprintf(name, sizeof(name), "tx-%s", octo_tx_type_name(type));
        octo_test_write_file(dir, name, g_buf, (size_t)n);
    }
    size_t len;
    const uint8_t *v = octo_test_hex(PAYLOAD_HEX, &len);
    octo_test_write_file(dir, "payload-one-transfer", v, len);
    /* one block with every type, signed: fuzz_tx runs it on its ledger */
    struct octo_block_scratch *s = octo_malloc(sizeof(*s));
    uint8_t *out = octo_malloc(65536);
    OCTO_ASSERT(s != NULL && out != NULL);
    struct octo_block_builder b;
    octo_block_build_init(&b, out, 65536);
    for (uint8_t type = OCTO_TX_TRANSFER; type <= OCTO_TX_SLASH_FAILED; type++) {
        int n = make_tx(type, g_buf, sizeof(g_buf));
        OCTO_ASSERT(octo_block_build_add(&b, g_buf, (size_t)n) == 0);
    }
    uint8_t root[32] = {0};
    int n = octo_block_build_finish(&b, 2500, 1, root, s);
    OCTO_ASSERT(n > 0);
    octo_test_write_file(dir, "payload-every-type", out, (size_t)n);
    octo_free(out);
    octo_free(s);
    v = octo_test_hex(RECEIPT_HEX, &len);
    octo_test_write_file(dir, "receipt", v, len);
}

int main(void)
{
    setup();
    OCTO_RUN(test_transfer_vector);
    OCTO_RUN(test_receipt_vector);
    OCTO_RUN(test_payload_vector);
    OCTO_RUN(test_roundtrip_every_type);
    OCTO_RUN(test_tamper);
    OCTO_RUN(test_signing_bytes);
    OCTO_RUN(test_settle_receipt_signature);
    OCTO_RUN(test_decode_rules);
    OCTO_RUN(test_evidence_conflicts);
    OCTO_RUN(test_build_and_proofs);
    OCTO_RUN(test_check_with_cache);
    OCTO_RUN(test_names);
    write_seeds();
    for (int k = 0; k < 4; k++)
        octo_identity_deinit(&g_keys[k]);
    return octo_test_finish();
}
