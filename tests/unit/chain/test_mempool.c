/*
 * test_mempool.c — the transaction pool (chain/mempool.h) against a real ledger: every
 * admission reason; nonce order and gaps; fee priority across accounts; replacement by a fee
 * 10 % higher; eviction of the cheapest last transaction when full (count and bytes); in-flight
 * marks across proposals and their release when another block is finalized at that height;
 * removal once finalized and the replay refused after; the verified-signature shortcut for
 * block checks; and a seeded soak in which every block the pool fills runs on the ledger with
 * no nonce or fee failure.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "chain/mempool.h"
#include "test.h"

#include <string.h>

#define U OCTO_UNIT
#define NKEYS 13
#define FEE (U / 1000)

static struct octo_identity g_key[NKEYS];
static uint8_t g_chain[32];
static struct octo_ledger_alloc g_alloc[NKEYS];
static struct octo_ledger_genesis_validator g_gv;
static struct octo_ledger_genesis g_gen;
static const uint8_t g_hk[16] = {9};
static struct octo_block_scratch *g_s;
static uint8_t *g_payload;

/* A block the pool filled: its payload and transactions. */
struct blk {
    uint8_t *payload;
    struct octo_block_tx txs[512];
    uint32_t n;
};

static struct blk g_b[3];

static const uint8_t *pk(int k)
{
    return g_key[k].pub.bytes;
}

/* Keys 0..7 funded with 1,000 OCTO each, key 8 with 1 OCTO; 9 and 10 are treasury and
 * governance, 11 the validator; 12 has no account. */
static void setup(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    for (int k = 0; k < NKEYS; k++) {
        uint8_t seed[32];
        memset(seed, 0x60 + k, sizeof(seed));
        OCTO_ASSERT(octo_identity_from_seed(&g_key[k], seed) == 0);
    }
    memset(g_chain, 0x3c, 32);
    memcpy(g_gen.chain_id, g_chain, 32);
    g_gen.time_ms = 1000;
    octo_ledger_params_default(&g_gen.params);
    memcpy(g_gen.params.treasury, pk(9), 32);
    memcpy(g_gen.params.governance, pk(10), 32);
    for (int k = 0; k < 9; k++) {
        memcpy(g_alloc[k].addr, pk(k), 32);
        g_alloc[k].amount[OCTO_TOKEN_OCTO] = k == 8 ? 1 * U : 1000 * U;
    }
    g_gen.allocs = g_alloc;
    g_gen.n_allocs = 9;
    memcpy(g_gv.pk, pk(11), 32);
    g_gv.stake = 10000 * U;
    g_gen.validators = &g_gv;
    g_gen.n_validators = 1;
    g_s = octo_malloc(sizeof(*g_s));
    g_payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
    OCTO_ASSERT(g_s != NULL && g_payload != NULL);
    for (int i = 0; i < 3; i++) {
        g_b[i].payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
        OCTO_ASSERT(g_b[i].payload != NULL);
    }
}

static uint8_t g_tx[OCTO_TX_MAX];
static size_t g_len;

static void make_transfer(int from, uint64_t nonce, uint64_t fee, int to, uint64_t amount)
{
    struct octo_tx t;
    memset(&t, 0, sizeof(t));
    t.type = OCTO_TX_TRANSFER;
    memcpy(t.from, pk(from), 32);
    t.nonce = nonce;
    t.fee = fee;
    memcpy(t.u.transfer.to, pk(to), 32);
    t.u.transfer.token = OCTO_TOKEN_OCTO;
    t.u.transfer.amount = amount;
    int n = octo_tx_encode(&t, g_tx, sizeof(g_tx));
    OCTO_ASSERT(n > 0);
    octo_tx_sign(g_chain, g_tx, (size_t)n, &g_key[from]);
    g_len = (size_t)n;
}

static int add(struct octo_mempool *m, const struct octo_ledger *l, int from, uint64_t nonce,
               uint64_t fee)
{
    make_transfer(from, nonce, fee, (from + 1) % 8, 1 * U);
    uint8_t id[32];
    return octo_mempool_add(m, l, g_tx, g_len, id);
}

static void pool(struct octo_mempool *m, uint32_t max_txs, uint64_t max_bytes)
{
    struct octo_mempool_config c;
    memset(&c, 0, sizeof(c));
    memcpy(c.chain_id, g_chain, 32);
    memcpy(c.hash_key, g_hk, 16);
    c.max_txs = max_txs;
    c.max_bytes = max_bytes;
    OCTO_ASSERT(octo_mempool_init(m, &c) == 0);
}

static void fill(struct octo_mempool *m, const struct octo_ledger *l, const struct blk *parent,
                 uint32_t max, struct blk *out)
{
    struct octo_block_builder b;
    octo_block_build_init(&b, out->payload, OCTO_CONS_PAYLOAD_MAX);
    uint32_t n =
        octo_mempool_select(m, l, parent ? parent->txs : NULL, parent ? parent->n : 0, &b, max);
    uint8_t root[32] = {0};
    int len = octo_block_build_finish(&b, 0, 0, root, g_s);
    OCTO_ASSERT(len > 0 && n <= 512);
    struct octo_block_hdr h;
    OCTO_ASSERT(octo_block_parse(out->payload, (size_t)len, &h, g_s->txs) == 0 && h.n_tx == n);
    memcpy(out->txs, g_s->txs, n * sizeof(out->txs[0]));
    out->n = n;
}

/* Fills g_b[0] from the ledger's state; returns its count (transactions in g_s->txs too). */
static uint32_t select_block(struct octo_mempool *m, const struct octo_ledger *l, uint32_t max)
{
    fill(m, l, NULL, max, &g_b[0]);
    memcpy(g_s->txs, g_b[0].txs, g_b[0].n * sizeof(g_b[0].txs[0]));
    return g_b[0].n;
}

static uint64_t nonce_of(const struct octo_block_tx *t)
{
    return octo_load_be64(t->p + 34);
}

static int sender_of(const struct octo_block_tx *t)
{
    for (int k = 0; k < NKEYS; k++)
        if (memcmp(t->p + 2, pk(k), 32) == 0)
            return k;
    return -1;
}

/* Runs a block on the ledger and tells the pool. */
static void finalize_blk(struct octo_mempool *m, struct octo_ledger *l, const struct blk *b,
                         uint8_t *res)
{
    struct octo_ledger_block_ctx ctx = {.height = octo_ledger_height(l) + 1,
                                        .time_ms = octo_ledger_time(l) + 100};
    memcpy(ctx.proposer, pk(11), 32);
    OCTO_ASSERT(octo_ledger_apply(l, &ctx, b->txs, b->n, res) == 0);
    octo_mempool_finalized(m, l, b->txs, b->n);
}

/* Runs the block select_block filled. */
static void finalize(struct octo_mempool *m, struct octo_ledger *l, uint32_t n, uint8_t *res)
{
    OCTO_ASSERT(n == g_b[0].n);
    finalize_blk(m, l, &g_b[0], res);
}

static void test_admission_reasons(void)
{
    struct octo_ledger l;
    struct octo_mempool m;
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
    pool(&m, 100, 1 << 20);
    uint8_t id[32];
    CHECK_EQ_INT(add(&m, &l, 0, 0, FEE), OCTO_MPR_OK);
    CHECK_EQ_INT(octo_mempool_add(&m, &l, g_tx, g_len, id), OCTO_MPR_DUPLICATE);
    CHECK(octo_mempool_has(&m, id));
    CHECK_EQ_INT(add(&m, &l, 0, 0, FEE + 1), OCTO_MPR_NONCE_TAKEN);
    CHECK_EQ_INT(add(&m, &l, 1, 0, FEE - 1), OCTO_MPR_FEE_TOO_LOW);
    CHECK_EQ_INT(add(&m, &l, 12, 0, FEE), OCTO_MPR_NO_ACCOUNT);
    CHECK_EQ_INT(add(&m, &l, 1, OCTO_MEMPOOL_PER_ACCOUNT_MAX, FEE), OCTO_MPR_NONCE_TOO_FAR);
    CHECK_EQ_INT(add(&m, &l, 8, 0, 2 * U), OCTO_MPR_CANNOT_PAY_FEE);
    CHECK_EQ_INT(add(&m, &l, 8, 0, FEE), OCTO_MPR_INSUFFICIENT); /* 1 OCTO + fee */
    make_transfer(2, 0, FEE, 3, 1 * U);
    g_tx[g_len - 1] ^= 1;
    CHECK_EQ_INT(octo_mempool_add(&m, &l, g_tx, g_len, id), OCTO_MPR_BAD_SIGNATURE);
    CHECK_EQ_INT(octo_mempool_add(&m, &l, g_tx, 10, id), OCTO_MPR_MALFORMED);
    CHECK_EQ_INT(octo_mempool_add(&m, &l, g_tx, OCTO_TX_MAX + 1, id), OCTO_MPR_TOO_BIG);
    const struct octo_mempool_stats *st = octo_mempool_stats(&m);
    CHECK_EQ_U64(st->accepted, 1);
    CHECK_EQ_U64(st->refused[OCTO_MPR_DUPLICATE], 1);
    CHECK_EQ_U64(st->refused[OCTO_MPR_BAD_SIGNATURE], 1);
    CHECK_EQ_U64(octo_mempool_count(&m), 1);
    CHECK_EQ_U64(octo_mempool_bytes(&m), OCTO_TX_TRANSFER_LEN);
    CHECK(strcmp(octo_mempool_reason_str(OCTO_MPR_NONCE_USED), "nonce already used") == 0);
    /* once finalized, the same transaction is a replay */
    uint32_t n = select_block(&m, &l, 100);
    CHECK_EQ_U64(n, 1);
    uint8_t res[8];
    finalize(&m, &l, n, res);
    CHECK_EQ_INT(res[0], OCTO_TXR_OK);
    CHECK_EQ_U64(octo_mempool_count(&m), 0);
    CHECK_EQ_INT(add(&m, &l, 0, 0, FEE), OCTO_MPR_NONCE_USED);
    octo_mempool_deinit(&m);
    octo_ledger_deinit(&l);
}

static void test_order_and_gaps(void)
{
    struct octo_ledger l;
    struct octo_mempool m;
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
    pool(&m, 100, 1 << 20);
    /* account 0: nonces 0..2 at fee 5 (nonce 2 at 50); account 1: fee 9; account 2: fee 7
     * with a gap after nonce 0; account 3: only nonce 1 (waits for 0) */
    CHECK_EQ_INT(add(&m, &l, 0, 2, 50 * FEE), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 0, 0, 5 * FEE), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 0, 1, 5 * FEE), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 1, 0, 9 * FEE), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 2, 0, 7 * FEE), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 2, 2, 70 * FEE), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 3, 1, 90 * FEE), OCTO_MPR_OK);
    uint32_t n = select_block(&m, &l, 100);
    CHECK_EQ_U64(n, 5);
    int want_from[5] = {1, 2, 0, 0, 0};
    uint64_t want_nonce[5] = {0, 0, 0, 1, 2};
    for (uint32_t i = 0; i < n; i++) {
        CHECK_EQ_INT(sender_of(&g_s->txs[i]), want_from[i]);
        CHECK_EQ_U64(nonce_of(&g_s->txs[i]), want_nonce[i]);
    }
    /* max_txs is honoured */
    octo_mempool_finalized(&m, &l, g_s->txs, 0); /* nothing finalized at height 1 yet */
    octo_mempool_deinit(&m);
    pool(&m, 100, 1 << 20);
    for (uint64_t k = 0; k < 4; k++)
        CHECK_EQ_INT(add(&m, &l, (int)k, 0, FEE), OCTO_MPR_OK);
    CHECK_EQ_U64(select_block(&m, &l, 3), 3);
    octo_mempool_deinit(&m);
    octo_ledger_deinit(&l);
}

static void test_replace_by_fee(void)
{
    struct octo_ledger l;
    struct octo_mempool m;
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
    pool(&m, 100, 1 << 20);
    CHECK_EQ_INT(add(&m, &l, 0, 0, 1000), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 0, 1, 1000), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 0, 0, 1099), OCTO_MPR_NONCE_TAKEN); /* needs 10 %: 1,100 */
    CHECK_EQ_INT(add(&m, &l, 0, 0, 1100), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 0, 1, 1101), OCTO_MPR_OK); /* 1,000 -> 1,101 */
    CHECK_EQ_U64(octo_mempool_count(&m), 2);
    CHECK_EQ_U64(octo_mempool_stats(&m)->replaced, 2);
    uint32_t n = select_block(&m, &l, 100);
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_U64(octo_load_be64(g_s->txs[0].p + 42), 1100); /* the fees */
    CHECK_EQ_U64(octo_load_be64(g_s->txs[1].p + 42), 1101);
    octo_mempool_deinit(&m);
    octo_ledger_deinit(&l);
}

static void test_full_pool(void)
{
    struct octo_ledger l;
    struct octo_mempool m;
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
    pool(&m, 4, 1 << 20);
    CHECK_EQ_INT(add(&m, &l, 0, 0, 2000), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 0, 1, 1500), OCTO_MPR_OK); /* account 0's last: cheapest */
    CHECK_EQ_INT(add(&m, &l, 1, 0, 3000), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 2, 0, 4000), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 3, 0, 1500), OCTO_MPR_FULL); /* not more than the cheapest */
    CHECK_EQ_INT(add(&m, &l, 3, 0, 1600), OCTO_MPR_OK);   /* evicts 0/1 */
    CHECK_EQ_U64(octo_mempool_stats(&m)->evicted, 1);
    CHECK_EQ_U64(octo_mempool_count(&m), 4);
    uint32_t n = select_block(&m, &l, 100);
    CHECK_EQ_U64(n, 4);
    for (uint32_t i = 0; i < n; i++)
        CHECK(!(sender_of(&g_s->txs[i]) == 0 && nonce_of(&g_s->txs[i]) == 1));
    /* the newcomer's own account is not evicted to make room for it: 3/0 (1,600) is the
     * cheapest, the next (0/0, 2,000) costs more than 1,700 */
    CHECK_EQ_INT(add(&m, &l, 3, 1, 1700), OCTO_MPR_FULL);
    /* a refusal changes nothing */
    CHECK_EQ_U64(octo_mempool_count(&m), 4);
    CHECK_EQ_U64(octo_mempool_stats(&m)->evicted, 1);
    /* paying more than another account's last evicts that one */
    CHECK_EQ_INT(add(&m, &l, 3, 1, 2100), OCTO_MPR_OK); /* evicts 0/0 */
    CHECK_EQ_U64(octo_mempool_stats(&m)->evicted, 2);
    CHECK_EQ_U64(select_block(&m, &l, 100), 4);
    for (uint32_t i = 0; i < 4; i++)
        CHECK(sender_of(&g_s->txs[i]) != 0);
    octo_mempool_deinit(&m);
    /* the byte limit */
    pool(&m, 1000, OCTO_TX_MAX);
    uint32_t fit = OCTO_TX_MAX / OCTO_TX_TRANSFER_LEN;
    for (uint32_t k = 0; k < fit; k++)
        CHECK_EQ_INT(add(&m, &l, (int)(k % 8), k / 8, 2000), OCTO_MPR_OK);
    CHECK_EQ_INT(add(&m, &l, 0, 60, 1000), OCTO_MPR_FULL);
    CHECK(octo_mempool_bytes(&m) <= OCTO_TX_MAX);
    octo_mempool_deinit(&m);
    octo_ledger_deinit(&l);
}

/* A block extending an unfinalized one continues after its nonces; a competing proposal
 * (from the finalized state) offers everything again; nothing is lost either way. */
static void test_pending_ancestors(void)
{
    struct octo_ledger l;
    struct octo_mempool m;
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
    pool(&m, 100, 1 << 20);
    for (uint64_t k = 0; k < 3; k++)
        CHECK_EQ_INT(add(&m, &l, 0, k, FEE), OCTO_MPR_OK);
    fill(&m, &l, NULL, 2, &g_b[0]); /* A: nonces 0, 1 */
    CHECK_EQ_U64(g_b[0].n, 2);
    CHECK_EQ_INT(add(&m, &l, 1, 0, FEE), OCTO_MPR_OK);
    fill(&m, &l, &g_b[0], 100, &g_b[1]); /* B extends A: nonce 2 and account 1 */
    CHECK_EQ_U64(g_b[1].n, 2);
    for (uint32_t i = 0; i < 2; i++)
        CHECK(sender_of(&g_b[1].txs[i]) == 1 || nonce_of(&g_b[1].txs[i]) == 2);
    fill(&m, &l, NULL, 100, &g_b[2]); /* a competitor of A: all four */
    CHECK_EQ_U64(g_b[2].n, 4);
    /* A then B are finalized: every transaction runs, the pool empties */
    uint8_t res[8];
    finalize_blk(&m, &l, &g_b[0], res);
    CHECK(res[0] == OCTO_TXR_OK && res[1] == OCTO_TXR_OK);
    CHECK_EQ_U64(octo_mempool_count(&m), 2);
    finalize_blk(&m, &l, &g_b[1], res);
    CHECK(res[0] == OCTO_TXR_OK && res[1] == OCTO_TXR_OK);
    CHECK_EQ_U64(octo_mempool_count(&m), 0);
    CHECK_EQ_U64(octo_mempool_stats(&m)->removed, 4);
    octo_mempool_deinit(&m);
    octo_ledger_deinit(&l);
}

/* Blocks applied without the pool being told (a restore, a sync): entries the ledger's nonce
 * passed are dropped when the account adds again, so its 64-entry window never overflows. */
static void test_stale_entries(void)
{
    struct octo_ledger l;
    struct octo_mempool m;
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
    pool(&m, 1000, 1 << 20);
    for (uint64_t k = 0; k < 10; k++)
        CHECK_EQ_INT(add(&m, &l, 0, k, FEE), OCTO_MPR_OK);
    CHECK_EQ_U64(select_block(&m, &l, 100), 10);
    struct octo_ledger_block_ctx ctx = {.height = 1, .time_ms = 2000};
    uint8_t res[16];
    CHECK_OK(octo_ledger_apply(&l, &ctx, g_b[0].txs, 10, res));
    for (uint64_t k = 10; k < 10 + OCTO_MEMPOOL_PER_ACCOUNT_MAX; k++)
        CHECK_EQ_INT(add(&m, &l, 0, k, FEE), OCTO_MPR_OK);
    CHECK_EQ_U64(octo_mempool_count(&m), OCTO_MEMPOOL_PER_ACCOUNT_MAX);
    CHECK_EQ_INT(add(&m, &l, 0, 10 + OCTO_MEMPOOL_PER_ACCOUNT_MAX, FEE), OCTO_MPR_NONCE_TOO_FAR);
    octo_mempool_deinit(&m);
    octo_ledger_deinit(&l);
}

/* octo_block_check skips the signature of what the pool holds, never the roots. */
static void test_verified_shortcut(void)
{
    struct octo_ledger l;
    struct octo_mempool m;
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
    pool(&m, 100, 1 << 20);
    CHECK_EQ_INT(add(&m, &l, 0, 0, FEE), OCTO_MPR_OK);
    uint32_t n = select_block(&m, &l, 100);
    struct octo_block_hdr h;
    struct octo_block_builder b;
    octo_block_build_init(&b, g_payload, OCTO_CONS_PAYLOAD_MAX);
    CHECK_OK(octo_block_build_add(&b, g_s->txs[0].p, g_s->txs[0].len));
    uint8_t root[32] = {0};
    int len = octo_block_build_finish(&b, 0, 0, root, g_s);
    CHECK_OK(octo_block_parse(g_payload, (size_t)len, &h, g_s->txs));
    uint32_t bad;
    CHECK_OK(octo_block_check(g_chain, &h, g_s, octo_mempool_has, &m, &bad));
    CHECK_EQ_U64(n, 1);
    octo_mempool_deinit(&m);
    octo_ledger_deinit(&l);
}

static uint64_t g_rng;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Random submissions (many refused), proposals that are sometimes lost, finalizations: every
 * finalized block the pool filled runs with no nonce or fee failure, and the pool's count
 * and bytes stay consistent with its limits. */
static void test_soak(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        g_rng = seed * 0x2545f4914f6cdd1du;
        struct octo_ledger l;
        struct octo_mempool m;
        CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk));
        pool(&m, 200, OCTO_TX_MAX);
        uint64_t next[8] = {0};
        uint64_t ok = 0;
        for (int round = 0; round < 150; round++) {
            for (int k = (int)(rnd() % 30); k > 0; k--) {
                int from = (int)(rnd() % 7);
                uint64_t nonce = next[from] + rnd() % 3;
                if (add(&m, &l, from, nonce, FEE + rnd() % 1000) == OCTO_MPR_OK &&
                    nonce == next[from])
                    next[from]++;
            }
            CHECK(octo_mempool_count(&m) <= 200);
            if (rnd() % 4 == 0) /* a proposal that is never finalized */
                fill(&m, &l, NULL, 1 + (uint32_t)(rnd() % 20), &g_b[2]);
            fill(&m, &l, NULL, 1 + (uint32_t)(rnd() % 40), &g_b[0]);
            int chain = rnd() % 3 == 0 ? 2 : 1; /* sometimes a child before the parent is final */
            if (chain == 2)
                fill(&m, &l, &g_b[0], 1 + (uint32_t)(rnd() % 40), &g_b[1]);
            for (int c = 0; c < chain; c++) {
                uint8_t res[512];
                finalize_blk(&m, &l, &g_b[c], res);
                for (uint32_t i = 0; i < g_b[c].n; i++) {
                    if (res[i] != OCTO_TXR_OK)
                        octo_test_fail_at(__FILE__, __LINE__, "seed %llu round %d tx %u: %s",
                                          (unsigned long long)seed, round, i,
                                          octo_tx_result_str(res[i]));
                    ok++;
                }
            }
            for (int k = 0; k < 7; k++) { /* what the ledger has is what comes next */
                struct octo_account a;
                CHECK_OK(octo_ledger_account(&l, pk(k), &a));
                if (a.nonce > next[k])
                    next[k] = a.nonce;
            }
        }
        CHECK(ok > 500);
        octo_mempool_deinit(&m);
        octo_ledger_deinit(&l);
    }
}

int main(void)
{
    setup();
    OCTO_RUN(test_admission_reasons);
    OCTO_RUN(test_order_and_gaps);
    OCTO_RUN(test_replace_by_fee);
    OCTO_RUN(test_full_pool);
    OCTO_RUN(test_pending_ancestors);
    OCTO_RUN(test_stale_entries);
    OCTO_RUN(test_verified_shortcut);
    OCTO_RUN(test_soak);
    octo_free(g_s);
    octo_free(g_payload);
    for (int i = 0; i < 3; i++)
        octo_free(g_b[i].payload);
    for (int k = 0; k < NKEYS; k++)
        octo_identity_deinit(&g_key[k]);
    return octo_test_finish();
}
