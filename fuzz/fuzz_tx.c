/*
 * fuzz_tx.c — libFuzzer harness for the ledger's decoders and state machine: transactions,
 * receipts (chain/tx.h), block payloads (chain/block.h) and octo_ledger_apply.
 *
 * Input: any bytes, tried as each of them:
 *   - a transaction: when accepted, it re-encodes to the same bytes, its fields follow tx.h's
 *     rules, and no strict prefix decodes; refusals are OCTO_EMALFORMED or OCTO_ETOOBIG only;
 *   - a receipt: the same round trip;
 *   - a block payload: when it parses, the transactions lie inside the input, the builder
 *     given the same transactions, time and state reproduces the header except the roots,
 *     and octo_block_check agrees with the roots octo_block_roots computes;
 *   - the transactions of a block (the payload's, or the input as a single transaction) run on
 *     two ledgers with different index keys after a setup block in which the test keys of
 *     tests/unit/chain/test_tx.c registered (orchestrator, providers) and escrowed, so the
 *     seeds from there take effect: every result is a known one, both ledgers reach the same
 *     root and the supply audit holds. Signatures are not checked by apply (blocks are
 *     checked before consensus orders them), so the fuzzer reaches every operation.
 * Seeds (fuzz/seeds/tx/) come from write_seeds() in tests/unit/chain/test_tx.c (with
 * OCTO_TX_SEED_DIR set).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "chain/block.h"
#include "chain/ledger.h"
#include "crypto/ident.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t g_out[OCTO_CONS_PAYLOAD_MAX];
static struct octo_block_scratch g_s;
static uint8_t g_keys[5][32]; /* test_tx.c's keys 0..3 (seeds a0.., a1.., ...) and a treasury */
static uint8_t g_chain[32];   /* 00..1f, test_tx.c's chain */
static bool g_ready;

static void setup(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    for (int k = 0; k < 4; k++) {
        uint8_t seed[32];
        struct octo_identity id;
        memset(seed, 0xa0 + k, sizeof(seed));
        OCTO_ASSERT(octo_identity_from_seed(&id, seed) == 0);
        memcpy(g_keys[k], id.pub.bytes, 32);
        octo_identity_deinit(&id);
    }
    memset(g_keys[4], 0x7e, 32);
    for (int i = 0; i < 32; i++)
        g_chain[i] = (uint8_t)i;
    g_ready = true;
}

static void check_tx(const uint8_t *data, size_t size)
{
    struct octo_tx t;
    int rc = octo_tx_decode(data, size, &t);
    if (rc != 0) {
        OCTO_ASSERT(rc == OCTO_EMALFORMED || rc == OCTO_ETOOBIG);
        return;
    }
    OCTO_ASSERT(t.type >= OCTO_TX_TRANSFER && t.type <= OCTO_TX_SLASH_FAILED);
    OCTO_ASSERT(size <= OCTO_TX_MAX);
    if (t.type == OCTO_TX_TRANSFER)
        OCTO_ASSERT(t.u.transfer.token < OCTO_TOKENS && t.u.transfer.amount > 0 &&
                    memcmp(t.from, t.u.transfer.to, 32) != 0);
    if (t.type == OCTO_TX_SETTLE)
        OCTO_ASSERT(t.u.settle.count >= 1 && t.u.settle.receipts > data &&
                    t.u.settle.receipts + (size_t)t.u.settle.count * OCTO_RECEIPT_LEN <=
                        data + size);
    int n = octo_tx_encode(&t, g_out, sizeof(g_out));
    OCTO_ASSERT(n >= 0 && (size_t)n == size && memcmp(g_out, data, size) == 0);
    struct octo_tx d;
    OCTO_ASSERT(octo_tx_decode(data, size - 1, &d) != 0);
}

static void check_receipt(const uint8_t *data, size_t size)
{
    struct octo_receipt r;
    if (octo_receipt_decode(data, size, &r) != 0)
        return;
    OCTO_ASSERT(r.end_ms >= r.start_ms && r.price > 0);
    uint8_t out[OCTO_RECEIPT_LEN];
    octo_receipt_encode(&r, out);
    OCTO_ASSERT(size == OCTO_RECEIPT_LEN && memcmp(out, data, size) == 0);
}

static void genesis(struct octo_ledger_genesis *g, struct octo_ledger_alloc *al,
                    struct octo_ledger_genesis_validator *v)
{
    memset(g, 0, sizeof(*g));
    memcpy(g->chain_id, g_chain, 32);
    g->time_ms = 1000;
    octo_ledger_params_default(&g->params);
    g->params.epoch_blocks = 2; /* the fuzzed block ends an epoch */
    memcpy(g->params.treasury, g_keys[4], 32);
    memset(g->params.governance, 0x6f, 32);
    for (int k = 0; k < 4; k++) {
        memcpy(al[k].addr, g_keys[k], 32);
        for (int t = 0; t < OCTO_TOKENS; t++)
            al[k].amount[t] = 100000 * OCTO_UNIT;
    }
    g->allocs = al;
    g->n_allocs = 4;
    memset(v->pk, 0x5a, 32);
    v->stake = 10000 * OCTO_UNIT;
    g->validators = v;
    g->n_validators = 1;
}

/* Appends an unsigned tx (apply does not check signatures) to the builder. */
static void setup_tx(struct octo_block_builder *b, struct octo_tx *t, int from, uint64_t nonce)
{
    uint8_t buf[512];
    memcpy(t->from, g_keys[from], 32);
    t->nonce = nonce;
    t->fee = OCTO_UNIT;
    int n = octo_tx_encode(t, buf, sizeof(buf));
    OCTO_ASSERT(n > 0);
    OCTO_ASSERT(octo_block_build_add(b, buf, (size_t)n) == 0);
}

/* Key 1 an orchestrator, keys 2 and 3 compute providers, key 0 escrows tasks 1..3 with key 1:
 * afterwards keys 0 and 1 are at nonce 3, as the seeds expect. */
static int setup_block(uint8_t *buf, size_t cap)
{
    struct octo_block_builder b;
    octo_block_build_init(&b, buf, cap);
    struct octo_tx t;
    memset(&t, 0, sizeof(t));
    t.type = OCTO_TX_REGISTER;
    t.u.role = OCTO_STAKE_ORCHESTRATOR;
    setup_tx(&b, &t, 1, 0);
    t.u.role = OCTO_STAKE_COMPUTE;
    setup_tx(&b, &t, 2, 0);
    setup_tx(&b, &t, 3, 0);
    memset(&t, 0, sizeof(t));
    t.type = OCTO_TX_TRANSFER;
    t.u.transfer.token = OCTO_TOKEN_OCTO;
    t.u.transfer.amount = 1;
    memcpy(t.u.transfer.to, g_keys[2], 32);
    setup_tx(&b, &t, 1, 1);
    setup_tx(&b, &t, 1, 2);
    for (uint8_t task = 1; task <= 3; task++) {
        memset(&t, 0, sizeof(t));
        t.type = OCTO_TX_ESCROW;
        memset(t.u.escrow.task, task, 32);
        memcpy(t.u.escrow.orchestrator, g_keys[1], 32);
        t.u.escrow.amount = 5000;
        t.u.escrow.expires_ms = 1u << 30;
        setup_tx(&b, &t, 0, (uint64_t)task - 1);
    }
    uint8_t root[32] = {0};
    int n = octo_block_build_finish(&b, 2000, 0, root, &g_s);
    OCTO_ASSERT(n > 0);
    return n;
}

static bool known_result(uint8_t r)
{
    return strcmp(octo_tx_result_str(r), "unknown") != 0;
}

static void run_ledger(const struct octo_block_tx *txs, uint32_t n)
{
    struct octo_ledger_genesis g;
    struct octo_ledger_alloc al[4];
    struct octo_ledger_genesis_validator v;
    genesis(&g, al, &v);
    static uint8_t setup_buf[8192];
    static struct octo_block_tx setup_txs[16];
    static uint8_t results[2][OCTO_BLOCK_TXS_MAX];
    int len = setup_block(setup_buf, sizeof(setup_buf));
    struct octo_block_hdr h;
    OCTO_ASSERT(octo_block_parse(setup_buf, (size_t)len, &h, setup_txs) == 0);
    struct octo_ledger l[2];
    static const uint8_t hk[2][16] = {{1}, {2}};
    uint8_t root[2][32];
    for (int i = 0; i < 2; i++) {
        OCTO_ASSERT(octo_ledger_init(&l[i], &g, hk[i]) == 0);
        struct octo_ledger_block_ctx c1 = {.height = 1, .time_ms = 2000};
        memset(c1.proposer, 0x5a, 32);
        OCTO_ASSERT(octo_ledger_apply(&l[i], &c1, setup_txs, h.n_tx, results[i]) == 0);
        for (uint32_t k = 0; k < h.n_tx; k++)
            OCTO_ASSERT(results[i][k] == OCTO_TXR_OK);
        struct octo_ledger_block_ctx c2 = {.height = 2, .time_ms = 3000};
        memcpy(c2.proposer, g_keys[3], 32);
        OCTO_ASSERT(octo_ledger_apply(&l[i], &c2, txs, n, results[i]) == 0);
        OCTO_ASSERT(octo_ledger_audit(&l[i]) == 0);
        octo_ledger_root(&l[i], root[i]);
    }
    for (uint32_t k = 0; k < n; k++)
        OCTO_ASSERT(results[0][k] == results[1][k] && known_result(results[0][k]));
    OCTO_ASSERT(memcmp(root[0], root[1], 32) == 0);
    octo_ledger_deinit(&l[0]);
    octo_ledger_deinit(&l[1]);
}

static void check_payload(const uint8_t *data, size_t size)
{
    struct octo_block_hdr h;
    int rc = octo_block_parse(data, size, &h, g_s.txs);
    if (rc != 0) {
        OCTO_ASSERT(rc == OCTO_EMALFORMED || rc == OCTO_ETOOBIG);
        return;
    }
    for (uint32_t i = 0; i < h.n_tx; i++)
        OCTO_ASSERT(g_s.txs[i].p >= data && g_s.txs[i].p + g_s.txs[i].len <= data + size);
    static struct octo_block_tx txs[OCTO_BLOCK_TXS_MAX];
    memcpy(txs, g_s.txs, h.n_tx * sizeof(txs[0]));
    /* the builder writes the same framing */
    struct octo_block_builder b;
    octo_block_build_init(&b, g_out, sizeof(g_out));
    for (uint32_t i = 0; i < h.n_tx; i++)
        OCTO_ASSERT(octo_block_build_add(&b, txs[i].p, txs[i].len) == 0);
    bool decodable = true;
    for (uint32_t i = 0; i < h.n_tx && decodable; i++) {
        struct octo_tx t;
        decodable = octo_tx_decode(txs[i].p, txs[i].len, &t) == 0;
    }
    if (decodable) {
        int n = octo_block_build_finish(&b, h.time_ms, h.state_height, h.state_root, &g_s);
        OCTO_ASSERT(n >= 0 && (size_t)n == size);
        OCTO_ASSERT(memcmp(g_out + 113, data + 113, size - 113) == 0);
        bool roots_match = memcmp(g_out + 49, data + 49, 64) == 0;
        memcpy(g_s.txs, txs, h.n_tx * sizeof(txs[0]));
        uint32_t bad;
        rc = octo_block_check(g_chain, &h, &g_s, NULL, NULL, &bad);
        OCTO_ASSERT(rc == 0 || rc == OCTO_EBADSIG || rc == OCTO_EMALFORMED);
        if (rc == 0)
            OCTO_ASSERT(roots_match);
        if (rc == OCTO_EMALFORMED)
            OCTO_ASSERT(!roots_match && bad == h.n_tx);
    }
    run_ledger(txs, h.n_tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_ready)
        setup();
    if (size > OCTO_CONS_PAYLOAD_MAX)
        return 0;
    check_tx(data, size);
    check_receipt(data, size);
    check_payload(data, size);
    struct octo_tx t;
    if (octo_tx_decode(data, size, &t) == 0) {
        struct octo_block_tx one = {data, (uint32_t)size};
        run_ledger(&one, 1);
    }
    return 0;
}
