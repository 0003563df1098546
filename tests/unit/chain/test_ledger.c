/*
 * test_ledger.c — the protocol state machine (chain/ledger.h): genesis and its refusals;
 * transfers, fees to the proposer, nonces and every sender-check result; registration by
 * role with the design's stakes, partial and full unstaking, release after exactly seven days
 * of block time, the unbond limit; escrow, settlement with the 70/10/10/5/5 split computed
 * here by hand (the burn takes the rounding), refund of the rest, a task paid at most once, a
 * batch with one bad receipt changing nothing; refunds after expiry; slashing for a failed
 * verification and for a double vote proven by two real signed votes, jailing, evidence used
 * once; the validator set changing at an epoch boundary; persistence (the objects a store
 * would keep, reloaded, give the same root; a wrong root is refused); and seeded random
 * blocks on two ledgers with different index keys, audited after every block, checked against
 * an independent model of balances and nonces, and reloaded from their objects along the way.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "chain/ledger.h"
#include "crypto/hash.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define U OCTO_UNIT
#define DAY (UINT64_C(24) * 3600 * 1000)
#define T0 UINT64_C(1800000000000)
#define NKEYS 24

enum { V0 = 0, V1, V2, V3, USER = 4, ORCH = 8, PROV = 9, PROV2 = 10, TREASURY = 11, GOV = 12 };

static struct octo_identity g_key[NKEYS];
static uint8_t g_chain[32];
static const uint8_t g_hk1[16] = {1}, g_hk2[16] = {2, 3, 4};
static struct octo_ledger_alloc g_alloc[NKEYS];
static struct octo_ledger_genesis_validator g_gv[4];
static struct octo_ledger_genesis g_gen;

static const uint8_t *pk(int k)
{
    return g_key[k].pub.bytes;
}

static void setup(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    for (int k = 0; k < NKEYS; k++) {
        uint8_t seed[32];
        memset(seed, 0x10 + k, sizeof(seed));
        OCTO_ASSERT(octo_identity_from_seed(&g_key[k], seed) == 0);
    }
    memset(g_chain, 0xc4, sizeof(g_chain));
}

/* Validators V0..V3 (10,000 OCTO staked each), users with 100,000 OCTO and 1,000 of every
 * role token, ORCH/PROV/PROV2 funded alike; epochs of 10 blocks. */
static const struct octo_ledger_genesis *genesis(void)
{
    memset(&g_gen, 0, sizeof(g_gen));
    memcpy(g_gen.chain_id, g_chain, 32);
    g_gen.time_ms = T0;
    octo_ledger_params_default(&g_gen.params);
    g_gen.params.epoch_blocks = 10;
    memcpy(g_gen.params.treasury, pk(TREASURY), 32);
    memcpy(g_gen.params.governance, pk(GOV), 32);
    int n = 0;
    for (int k = USER; k <= PROV2; k++, n++) {
        memcpy(g_alloc[n].addr, pk(k), 32);
        g_alloc[n].amount[OCTO_TOKEN_OCTO] = 100000 * U;
        for (int t = 1; t < OCTO_TOKENS; t++)
            g_alloc[n].amount[t] = 1000 * U;
    }
    for (int k = 13; k < 16; k++, n++) { /* spare funded keys for the epoch test */
        memcpy(g_alloc[n].addr, pk(k), 32);
        g_alloc[n].amount[OCTO_TOKEN_OCTO] = 50000 * U;
    }
    g_gen.allocs = g_alloc;
    g_gen.n_allocs = (uint32_t)n;
    for (int v = 0; v < 4; v++) {
        memcpy(g_gv[v].pk, pk(V0 + v), 32);
        g_gv[v].stake = 10000 * U;
    }
    g_gen.validators = g_gv;
    g_gen.n_validators = 4;
    return &g_gen;
}

/* ---- building transactions --------------------------------------------------------------- */

static uint8_t g_pool[64][OCTO_TX_MAX];
static struct octo_block_tx g_txs[64];
static uint32_t g_ntx;

static void add_tx(struct octo_tx *t, int signer)
{
    OCTO_ASSERT(g_ntx < 64);
    memcpy(t->from, pk(signer), 32);
    int n = octo_tx_encode(t, g_pool[g_ntx], OCTO_TX_MAX);
    OCTO_ASSERT(n > 0);
    octo_tx_sign(g_chain, g_pool[g_ntx], (size_t)n, &g_key[signer]);
    g_txs[g_ntx].p = g_pool[g_ntx];
    g_txs[g_ntx].len = (uint32_t)n;
    g_ntx++;
}

static struct octo_tx tx0(uint8_t type, uint64_t nonce)
{
    struct octo_tx t;
    memset(&t, 0, sizeof(t));
    t.type = type;
    t.nonce = nonce;
    t.fee = OCTO_UNIT / 1000;
    return t;
}

static void transfer(int from, uint64_t nonce, int to, uint8_t token, uint64_t amount, uint64_t fee)
{
    struct octo_tx t = tx0(OCTO_TX_TRANSFER, nonce);
    t.fee = fee;
    memcpy(t.u.transfer.to, pk(to), 32);
    t.u.transfer.token = token;
    t.u.transfer.amount = amount;
    add_tx(&t, from);
}

static void simple(int from, uint8_t type, uint64_t nonce, uint64_t arg)
{
    struct octo_tx t = tx0(type, nonce);
    if (type == OCTO_TX_REGISTER)
        t.u.role = (uint8_t)arg;
    else
        t.u.amount = arg;
    add_tx(&t, from);
}

static void escrow(int from, uint64_t nonce, uint8_t task, int orch, uint64_t amount,
                   uint64_t expires)
{
    struct octo_tx t = tx0(OCTO_TX_ESCROW, nonce);
    memset(t.u.escrow.task, task, 32);
    memcpy(t.u.escrow.orchestrator, pk(orch), 32);
    t.u.escrow.amount = amount;
    t.u.escrow.expires_ms = expires;
    add_tx(&t, from);
}

static void receipt(uint8_t out[OCTO_RECEIPT_LEN], uint8_t task, int requester, int orch, int prov,
                    uint64_t price)
{
    struct octo_receipt r;
    memset(&r, 0, sizeof(r));
    memset(r.task, task, 32);
    memcpy(r.requester, pk(requester), 32);
    memcpy(r.orchestrator, pk(orch), 32);
    memcpy(r.provider, pk(prov), 32);
    r.tokens = 100;
    r.start_ms = 1;
    r.end_ms = 2;
    r.price = price;
    octo_receipt_encode(&r, out);
    octo_receipt_sign(g_chain, out, &g_key[prov]);
}

static uint8_t g_rc[8][OCTO_RECEIPT_LEN];

static void settle(int from, uint64_t nonce, uint16_t count)
{
    struct octo_tx t = tx0(OCTO_TX_SETTLE, nonce);
    t.u.settle.receipts = &g_rc[0][0];
    t.u.settle.count = count;
    add_tx(&t, from);
}

/* Applies the pending transactions as the next block at time `at`, proposed by V0. */
static uint8_t g_res[64];
static void block_at(struct octo_ledger *l, uint64_t at)
{
    struct octo_ledger_block_ctx ctx = {.height = octo_ledger_height(l) + 1, .time_ms = at};
    memcpy(ctx.proposer, pk(V0), 32);
    OCTO_ASSERT(octo_ledger_apply(l, &ctx, g_txs, g_ntx, g_res) == 0);
    OCTO_ASSERT(octo_ledger_audit(l) == 0);
    g_ntx = 0;
}

static void block(struct octo_ledger *l)
{
    block_at(l, octo_ledger_time(l) + 1000);
}

static struct octo_account acct(const struct octo_ledger *l, int k)
{
    struct octo_account a;
    OCTO_ASSERT(octo_ledger_account(l, pk(k), &a) == 0);
    return a;
}

static uint64_t bal(const struct octo_ledger *l, int k)
{
    return acct(l, k).balance[OCTO_TOKEN_OCTO];
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_genesis(void)
{
    struct octo_ledger a, b;
    CHECK_OK(octo_ledger_init(&a, genesis(), g_hk1));
    CHECK_OK(octo_ledger_init(&b, genesis(), g_hk2));
    uint8_t ra[32], rb[32];
    octo_ledger_root(&a, ra);
    octo_ledger_root(&b, rb);
    CHECK(memcmp(ra, rb, 32) == 0); /* the index key never reaches the state */
    CHECK_OK(octo_ledger_audit(&a));
    uint64_t supply[OCTO_TOKENS], burned[OCTO_TOKENS];
    octo_ledger_supply(&a, supply, burned);
    CHECK_EQ_U64(supply[OCTO_TOKEN_OCTO], 7 * 100000 * U + 3 * 50000 * U + 4 * 10000 * U);
    CHECK_EQ_U64(supply[OCTO_TOKEN_A], 7 * 1000 * U);
    CHECK_EQ_U64(burned[OCTO_TOKEN_OCTO], 0);
    struct octo_cons_validator v[OCTO_CONS_VALIDATORS_MAX];
    CHECK_EQ_INT(octo_ledger_validators(&a, v, 64), 4);
    CHECK_EQ_U64(v[0].weight, 10000 * U);
    struct octo_account acc = acct(&a, V2);
    CHECK_EQ_INT(acc.role, OCTO_STAKE_VALIDATOR);
    CHECK_EQ_U64(acc.staked[OCTO_TOKEN_OCTO], 10000 * U);
    CHECK_EQ_U64(octo_ledger_height(&a), 0);
    const uint32_t *idx;
    CHECK_EQ_U64(octo_ledger_changed(&a, &idx), octo_ledger_objects(&a));
    octo_ledger_deinit(&a);
    octo_ledger_deinit(&b);

    /* refusals */
    struct octo_ledger c;
    genesis();
    memset(g_gen.params.treasury, 0, 32);
    CHECK_EQ_INT(octo_ledger_init(&c, &g_gen, g_hk1), OCTO_EINVAL);
    genesis();
    g_gv[1].stake = 10000 * U - 1; /* under the validator minimum */
    CHECK_EQ_INT(octo_ledger_init(&c, &g_gen, g_hk1), OCTO_EINVAL);
    genesis();
    memcpy(g_alloc[1].addr, g_alloc[0].addr, 32); /* listed twice */
    CHECK_EQ_INT(octo_ledger_init(&c, &g_gen, g_hk1), OCTO_EINVAL);
    genesis();
    g_alloc[0].amount[OCTO_TOKEN_B] = OCTO_LEDGER_SUPPLY_MAX; /* supply limit */
    CHECK_EQ_INT(octo_ledger_init(&c, &g_gen, g_hk1), OCTO_EINVAL);
    genesis();
    memcpy(g_gv[1].pk, g_gv[0].pk, 32);
    CHECK_EQ_INT(octo_ledger_init(&c, &g_gen, g_hk1), OCTO_EINVAL);
    genesis();
    g_gen.params.max_validators = 65;
    CHECK_EQ_INT(octo_ledger_init(&c, &g_gen, g_hk1), OCTO_EINVAL);
}

static void test_transfers_and_fees(void)
{
    struct octo_ledger l;
    CHECK_OK(octo_ledger_init(&l, genesis(), g_hk1));
    const uint64_t fee = U / 1000;
    uint64_t v0 = bal(&l, V0);
    transfer(USER, 0, USER + 1, OCTO_TOKEN_OCTO, 5 * U, fee);             /* ok */
    transfer(USER, 0, USER + 1, OCTO_TOKEN_OCTO, 5 * U, fee);             /* nonce used */
    transfer(USER, 1, USER + 1, OCTO_TOKEN_OCTO, 5 * U, fee - 1);         /* fee too low */
    transfer(USER, 1, USER + 1, OCTO_TOKEN_OCTO, 200000 * U, fee);        /* insufficient */
    transfer(USER, 2, 20, OCTO_TOKEN_A, 7 * U, fee);                      /* new account */
    transfer(21, 0, USER, OCTO_TOKEN_OCTO, 1, fee);                       /* no account */
    transfer(20, 0, USER, OCTO_TOKEN_A, 1 * U, fee);                      /* cannot pay fee */
    transfer(USER + 1, 0, USER, OCTO_TOKEN_OCTO, 105 * U - 2 * fee, fee); /* all but the fee */
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_BAD_NONCE);
    CHECK_EQ_INT(g_res[2], OCTO_TXR_FEE_TOO_LOW);
    CHECK_EQ_INT(g_res[3], OCTO_TXR_INSUFFICIENT);
    CHECK_EQ_INT(g_res[4], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[5], OCTO_TXR_NO_ACCOUNT);
    CHECK_EQ_INT(g_res[6], OCTO_TXR_CANNOT_PAY_FEE);
    CHECK_EQ_INT(g_res[7], OCTO_TXR_OK);
    CHECK_EQ_U64(bal(&l, USER), 100000 * U - 5 * U - 3 * fee + 105 * U - 2 * fee);
    CHECK_EQ_U64(bal(&l, USER + 1), 100000 * U + 5 * U - (105 * U - 2 * fee) - fee);
    CHECK_EQ_U64(acct(&l, USER).nonce, 3);
    CHECK_EQ_U64(acct(&l, 20).balance[OCTO_TOKEN_A], 7 * U);
    CHECK_EQ_U64(acct(&l, 20).nonce, 0);
    CHECK_EQ_U64(bal(&l, V0), v0 + 4 * fee); /* the proposer got the fees */
    struct octo_account none;
    CHECK_EQ_INT(octo_ledger_account(&l, pk(21), &none), OCTO_ENOTFOUND);
    const struct octo_ledger_stats *st = octo_ledger_stats(&l);
    CHECK_EQ_U64(st->txs_ok, 3);
    CHECK_EQ_U64(st->txs_failed, 1);
    CHECK_EQ_U64(st->txs_skipped, 4);
    /* the next block must be the next height, and time may not go back */
    struct octo_ledger_block_ctx ctx = {.height = 3, .time_ms = T0 + 5000};
    CHECK_EQ_INT(octo_ledger_apply(&l, &ctx, g_txs, 0, g_res), OCTO_ESTATE);
    ctx.height = 2;
    ctx.time_ms = T0;
    CHECK_EQ_INT(octo_ledger_apply(&l, &ctx, g_txs, 0, g_res), OCTO_ESTATE);
    /* garbage in a block is MALFORMED, not a crash */
    static const uint8_t junk[3] = {1, 1, 1};
    struct octo_block_tx bad = {junk, 3};
    ctx.time_ms = T0 + 2000;
    CHECK_OK(octo_ledger_apply(&l, &ctx, &bad, 1, g_res));
    CHECK_EQ_INT(g_res[0], OCTO_TXR_MALFORMED);
    CHECK(strcmp(octo_tx_result_str(OCTO_TXR_BAD_NONCE), "wrong nonce") == 0);
    CHECK(strcmp(octo_tx_result_str(200), "unknown") == 0);
    octo_ledger_deinit(&l);
}

static void test_stake_and_unbonding(void)
{
    struct octo_ledger l;
    CHECK_OK(octo_ledger_init(&l, genesis(), g_hk1));
    simple(PROV, OCTO_TX_REGISTER, 0, OCTO_STAKE_COMPUTE);
    simple(PROV, OCTO_TX_REGISTER, 1, OCTO_STAKE_STORAGE); /* already */
    simple(USER, OCTO_TX_STAKE, 0, 5 * U);                 /* not registered */
    simple(PROV, OCTO_TX_STAKE, 2, 2000 * U);
    simple(PROV, OCTO_TX_UNSTAKE, 3, 3000 * U);                    /* would leave 9,000 */
    simple(PROV, OCTO_TX_UNSTAKE, 4, 2000 * U);                    /* back to 10,000 */
    simple(20 % NKEYS, OCTO_TX_REGISTER, 0, OCTO_STAKE_VALIDATOR); /* no account */
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_ALREADY_REGISTERED);
    CHECK_EQ_INT(g_res[2], OCTO_TXR_NOT_REGISTERED);
    CHECK_EQ_INT(g_res[3], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[4], OCTO_TXR_STAKE_TOO_LOW);
    CHECK_EQ_INT(g_res[5], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[6], OCTO_TXR_NO_ACCOUNT);
    struct octo_account p = acct(&l, PROV);
    CHECK_EQ_INT(p.role, OCTO_STAKE_COMPUTE);
    CHECK_EQ_U64(p.staked[OCTO_TOKEN_OCTO], 10000 * U);
    CHECK_EQ_U64(p.staked[OCTO_TOKEN_A], 500 * U);
    CHECK_EQ_U64(p.balance[OCTO_TOKEN_A], 500 * U);
    CHECK_EQ_INT(p.n_unbond, 1);
    uint64_t released_at = p.unbond[0].release_ms;
    CHECK_EQ_U64(released_at, octo_ledger_time(&l) + 7 * DAY);
    uint64_t before = p.balance[OCTO_TOKEN_OCTO];

    /* full exit: the role token unbonds too; the role is gone */
    simple(PROV, OCTO_TX_UNSTAKE, 5, 10000 * U);
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    p = acct(&l, PROV);
    CHECK_EQ_INT(p.role, OCTO_STAKE_NONE);
    CHECK_EQ_INT(p.n_unbond, 3);
    CHECK_EQ_U64(p.staked[OCTO_TOKEN_A], 0);
    CHECK_EQ_INT(p.unbond[2].token, OCTO_TOKEN_A);

    /* one millisecond early: nothing comes back; on time: the first unbond does */
    block_at(&l, released_at - 1);
    CHECK_EQ_U64(acct(&l, PROV).balance[OCTO_TOKEN_OCTO], before - U / 1000);
    block_at(&l, released_at);
    p = acct(&l, PROV);
    CHECK_EQ_U64(p.balance[OCTO_TOKEN_OCTO], before - U / 1000 + 2000 * U);
    CHECK_EQ_INT(p.n_unbond, 2);
    block_at(&l, released_at + 8 * DAY);
    p = acct(&l, PROV);
    CHECK_EQ_INT(p.n_unbond, 0);
    CHECK_EQ_U64(p.balance[OCTO_TOKEN_OCTO], before - U / 1000 + 12000 * U);
    CHECK_EQ_U64(p.balance[OCTO_TOKEN_A], 1000 * U);
    CHECK_EQ_U64(octo_ledger_stats(&l)->unbonds_released, 3);

    /* at most OCTO_LEDGER_UNBOND_MAX pending */
    simple(PROV2, OCTO_TX_REGISTER, 0, OCTO_STAKE_BANDWIDTH);
    simple(PROV2, OCTO_TX_STAKE, 1, 100 * U);
    for (uint64_t i = 0; i < OCTO_LEDGER_UNBOND_MAX + 1; i++)
        simple(PROV2, OCTO_TX_UNSTAKE, 2 + i, 1 * U);
    block(&l);
    for (int i = 2; i < 2 + OCTO_LEDGER_UNBOND_MAX; i++)
        CHECK_EQ_INT(g_res[i], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[2 + OCTO_LEDGER_UNBOND_MAX], OCTO_TXR_UNBOND_FULL);
    octo_ledger_deinit(&l);
}

/* ORCH registered as orchestrator, PROV and PROV2 as compute providers. */
static void roles(struct octo_ledger *l)
{
    simple(ORCH, OCTO_TX_REGISTER, 0, OCTO_STAKE_ORCHESTRATOR);
    simple(PROV, OCTO_TX_REGISTER, 0, OCTO_STAKE_COMPUTE);
    simple(PROV2, OCTO_TX_REGISTER, 0, OCTO_STAKE_COMPUTE);
    block(l);
    for (int i = 0; i < 3; i++)
        OCTO_ASSERT(g_res[i] == OCTO_TXR_OK);
}

static void test_escrow_and_settlement(void)
{
    struct octo_ledger l;
    CHECK_OK(octo_ledger_init(&l, genesis(), g_hk1));
    roles(&l);
    const uint64_t fee = U / 1000, far = T0 + 30 * DAY;
    escrow(USER, 0, 1, ORCH, 100 * U, far);
    escrow(USER, 1, 2, ORCH, 50 * U, far);
    escrow(USER, 2, 1, ORCH, 1 * U, far);           /* the task has an escrow */
    escrow(USER, 3, 3, PROV, 1 * U, far);           /* not an orchestrator */
    escrow(USER, 4, 4, ORCH, 1 * U, T0);            /* expiry in the past */
    escrow(USER + 1, 0, 5, ORCH, 1000000 * U, far); /* insufficient */
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[2], OCTO_TXR_ESCROW_EXISTS);
    CHECK_EQ_INT(g_res[3], OCTO_TXR_NOT_ORCHESTRATOR);
    CHECK_EQ_INT(g_res[4], OCTO_TXR_EXPIRY_PASSED);
    CHECK_EQ_INT(g_res[5], OCTO_TXR_INSUFFICIENT);
    uint64_t user = bal(&l, USER), prov = bal(&l, PROV), prov2 = bal(&l, PROV2),
             orch = bal(&l, ORCH), treas = bal(&l, TREASURY), gov = bal(&l, GOV);
    uint64_t supply[OCTO_TOKENS], burned0[OCTO_TOKENS], burned[OCTO_TOKENS];
    octo_ledger_supply(&l, supply, burned0);

    /* a batch with a duplicate task changes nothing but the fee */
    receipt(g_rc[0], 1, USER, ORCH, PROV, 33333333);
    receipt(g_rc[1], 1, USER, ORCH, PROV, 5);
    settle(ORCH, 1, 2);
    /* a price over the escrow */
    receipt(g_rc[0], 2, USER, ORCH, PROV, 50 * U + 1);
    settle(ORCH, 2, 1);
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_DUPLICATE_TASK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_OVER_ESCROW);
    CHECK_EQ_U64(bal(&l, PROV), prov);
    CHECK_EQ_U64(bal(&l, ORCH), orch - 2 * fee);
    orch -= 2 * fee;

    /* two receipts: 33.333333 OCTO on task 1 (PROV), 50 OCTO on task 2 (PROV2) */
    receipt(g_rc[0], 1, USER, ORCH, PROV, 33333333);
    receipt(g_rc[1], 2, USER, ORCH, PROV2, 50 * U);
    settle(ORCH, 3, 2);
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    /* 33333333 * 70 / 100 = 23333333.1 -> 23333333; 10 % -> 3333333; 5 % -> 1666666;
     * burn = 33333333 - 23333333 - 2 * 3333333 - 1666666 = 1666668 */
    CHECK_EQ_U64(bal(&l, PROV), prov + 23333333);
    CHECK_EQ_U64(bal(&l, PROV2), prov2 + 35 * U);
    CHECK_EQ_U64(bal(&l, ORCH), orch - fee + 3333333 + 5 * U);
    CHECK_EQ_U64(bal(&l, TREASURY), treas + 3333333 + 5 * U);
    CHECK_EQ_U64(bal(&l, GOV), gov + 1666666 + 2500000);
    octo_ledger_supply(&l, supply, burned);
    CHECK_EQ_U64(burned[OCTO_TOKEN_OCTO] - burned0[OCTO_TOKEN_OCTO], 1666668 + 2500000);
    CHECK_EQ_U64(bal(&l, USER), user + (100 * U - 33333333)); /* the rest refunded */
    struct octo_escrow e;
    CHECK_OK(octo_ledger_escrow(&l, g_rc[0] + 1, &e));
    CHECK_EQ_INT(e.state, OCTO_ESCROW_SETTLED);
    CHECK_EQ_U64(octo_ledger_stats(&l)->receipts_settled, 2);

    /* paid at most once; a receipt for another orchestrator; no escrow at all */
    settle(ORCH, 4, 1);
    receipt(g_rc[0], 7, USER, ORCH, PROV, 5);
    settle(ORCH, 5, 1);
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_ESCROW_CLOSED);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_NO_ESCROW);
    escrow(USER, 5, 8, ORCH, 10 * U, far);
    receipt(g_rc[0], 8, USER, ORCH, USER + 1, 5); /* not a provider */
    settle(ORCH, 6, 1);
    receipt(g_rc[0], 8, USER + 1, ORCH, PROV, 5); /* another requester */
    settle(ORCH, 7, 1);
    receipt(g_rc[0], 8, USER, ORCH, PROV, 5);
    settle(USER + 2, 0, 1); /* not an orchestrator */
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_NOT_PROVIDER);
    CHECK_EQ_INT(g_res[2], OCTO_TXR_RECEIPT_MISMATCH);
    CHECK_EQ_INT(g_res[3], OCTO_TXR_NOT_ORCHESTRATOR);
    octo_ledger_deinit(&l);
}

static void test_refund(void)
{
    struct octo_ledger l;
    CHECK_OK(octo_ledger_init(&l, genesis(), g_hk1));
    roles(&l);
    uint64_t exp = octo_ledger_time(&l) + 5000;
    escrow(USER, 0, 1, ORCH, 10 * U, exp);
    block(&l);
    uint64_t user = bal(&l, USER);
    struct octo_tx t = tx0(OCTO_TX_REFUND, 1);
    memset(t.u.task, 1, 32);
    add_tx(&t, USER); /* too early */
    t.nonce = 0;
    add_tx(&t, USER + 1); /* not the requester */
    memset(t.u.task, 2, 32);
    add_tx(&t, USER + 2); /* no escrow */
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_NOT_EXPIRED);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_NOT_REQUESTER);
    CHECK_EQ_INT(g_res[2], OCTO_TXR_NO_ESCROW);
    t = tx0(OCTO_TX_REFUND, 2);
    memset(t.u.task, 1, 32);
    add_tx(&t, USER);
    t.nonce = 3;
    add_tx(&t, USER); /* twice */
    block_at(&l, exp);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_ESCROW_CLOSED);
    CHECK_EQ_U64(bal(&l, USER), user + 10 * U - 3 * (U / 1000));
    /* a refunded task cannot be settled */
    receipt(g_rc[0], 1, USER, ORCH, PROV, 5);
    settle(ORCH, 1, 1);
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_ESCROW_CLOSED);
    octo_ledger_deinit(&l);
}

static void test_slash_failed(void)
{
    struct octo_ledger l;
    CHECK_OK(octo_ledger_init(&l, genesis(), g_hk1));
    roles(&l);
    escrow(USER, 0, 1, ORCH, 10 * U, T0 + DAY);
    block(&l);
    uint64_t user = bal(&l, USER);
    struct octo_tx t = tx0(OCTO_TX_SLASH_FAILED, 1);
    receipt(g_rc[0], 1, USER, ORCH, PROV, 4 * U);
    CHECK_OK(octo_receipt_decode(g_rc[0], OCTO_RECEIPT_LEN, &t.u.receipt));
    add_tx(&t, ORCH);
    t.nonce = 2;
    add_tx(&t, ORCH); /* the escrow is closed now */
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_ESCROW_CLOSED);
    CHECK_EQ_U64(bal(&l, USER), user + 10 * U);
    CHECK_EQ_U64(acct(&l, PROV).staked[OCTO_TOKEN_OCTO], 9000 * U); /* 10 % */
    uint64_t supply[OCTO_TOKENS], burned[OCTO_TOKENS];
    octo_ledger_supply(&l, supply, burned);
    CHECK_EQ_U64(burned[OCTO_TOKEN_OCTO], 1000 * U);
    struct octo_escrow e;
    CHECK_OK(octo_ledger_escrow(&l, g_rc[0] + 1, &e));
    CHECK_EQ_INT(e.state, OCTO_ESCROW_FAILED);
    octo_ledger_deinit(&l);
}

/* A vote by validator set index `signer` (key k), signed as the consensus core signs it. */
static struct octo_evidence vote(int k, uint16_t signer, uint8_t kind, uint64_t view, uint8_t b)
{
    struct octo_evidence e;
    memset(&e, 0, sizeof(e));
    e.tag = OCTO_EVIDENCE_VOTE;
    e.kind = kind;
    e.view = view;
    e.signer = signer;
    if (kind != OCTO_CONS_SKIP)
        memset(e.block, b, 32);
    uint8_t msg[OCTO_CONS_VOTE_SIGNED_MAX];
    size_t n = octo_cons_vote_signed(g_chain, kind, view, e.block, msg);
    octo_identity_sign(&g_key[k], msg, n, e.sig);
    return e;
}

static int set_index(const struct octo_ledger *l, int k)
{
    struct octo_cons_validator v[OCTO_CONS_VALIDATORS_MAX];
    uint32_t n = octo_ledger_validators(l, v, 64);
    for (uint32_t i = 0; i < n; i++)
        if (memcmp(v[i].pk, pk(k), 32) == 0)
            return (int)i;
    return -1;
}

/* A proposal header by key k for view `view` (payload hash byte b), signed as the consensus
 * core signs proposals. */
static struct octo_evidence header(int k, uint64_t view, uint8_t b)
{
    struct octo_evidence e;
    memset(&e, 0, sizeof(e));
    e.tag = OCTO_EVIDENCE_HEADER;
    e.view = e.header.view = view;
    e.header.height = 3;
    e.header.parent_view = view - 1;
    memset(e.header.payload_hash, b, 32);
    uint8_t id[32], msg[OCTO_CONS_VOTE_SIGNED_MAX];
    octo_cons_block_id(g_chain, &e.header, id);
    size_t n = octo_cons_proposal_signed(g_chain, id, msg);
    octo_identity_sign(&g_key[k], msg, n, e.sig);
    return e;
}

static void slash_tx(uint64_t nonce, int offender, struct octo_evidence a, struct octo_evidence b)
{
    struct octo_tx t = tx0(OCTO_TX_SLASH_DOUBLE, nonce);
    memcpy(t.u.slash.offender, pk(offender), 32);
    t.u.slash.ev[0] = a;
    t.u.slash.ev[1] = b;
    add_tx(&t, USER);
}

static void test_slash_double_and_epochs(void)
{
    struct octo_ledger l;
    CHECK_OK(octo_ledger_init(&l, genesis(), g_hk1));
    int i2 = set_index(&l, V2);
    CHECK(i2 >= 0);
    uint16_t s2 = (uint16_t)i2;
    slash_tx(0, V2, vote(V2, s2, OCTO_CONS_NOTARIZE, 7, 1), vote(V2, s2, OCTO_CONS_NOTARIZE, 7, 2));
    slash_tx(1, V2, vote(V2, s2, OCTO_CONS_NOTARIZE, 7, 1), vote(V2, s2, OCTO_CONS_NOTARIZE, 7, 2));
    /* no conflict: notarize then skip */
    slash_tx(2, V2, vote(V2, s2, OCTO_CONS_SKIP, 9, 0), vote(V2, s2, OCTO_CONS_NOTARIZE, 9, 2));
    /* a conflict, but one half signed by another key */
    slash_tx(3, V2, vote(V2, s2, OCTO_CONS_SKIP, 9, 0), vote(V3, s2, OCTO_CONS_FINALIZE, 9, 2));
    /* a conflict signed by a key with no stake */
    slash_tx(4, USER + 3, vote(USER + 3, 1, OCTO_CONS_FINALIZE, 9, 1),
             vote(USER + 3, 1, OCTO_CONS_FINALIZE, 9, 2));
    /* a proposal of one block and a notarize vote for another in the same view */
    slash_tx(5, V1, header(V1, 12, 5), vote(V1, 0, OCTO_CONS_NOTARIZE, 12, 6));
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_EVIDENCE_SEEN);
    CHECK_EQ_INT(g_res[2], OCTO_TXR_BAD_EVIDENCE);
    CHECK_EQ_INT(g_res[3], OCTO_TXR_BAD_EVIDENCE);
    CHECK_EQ_INT(g_res[4], OCTO_TXR_NOT_VALIDATOR);
    CHECK_EQ_INT(g_res[5], OCTO_TXR_OK);
    struct octo_account v = acct(&l, V2);
    CHECK_EQ_INT(v.jailed, 1);
    CHECK_EQ_U64(v.staked[OCTO_TOKEN_OCTO], 9500 * U); /* 5 % */
    CHECK_EQ_U64(acct(&l, V1).staked[OCTO_TOKEN_OCTO], 9500 * U);
    CHECK_EQ_U64(octo_ledger_stats(&l)->slashes, 2);

    /* a new validator registers; V3 leaves (fully unstaked); at the epoch boundary (height
     * 10) the jailed V1 and V2 and the unstaked V3 leave the set and the newcomer joins */
    simple(13, OCTO_TX_REGISTER, 0, OCTO_STAKE_VALIDATOR);
    simple(13, OCTO_TX_STAKE, 1, 5000 * U);
    transfer(USER, 6, V3, OCTO_TOKEN_OCTO, 1 * U, U / 1000); /* for the fee */
    simple(V3, OCTO_TX_UNSTAKE, 0, 10000 * U);
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[3], OCTO_TXR_OK);
    while (octo_ledger_height(&l) < 9) {
        block(&l);
        CHECK(!octo_ledger_validators_changed(&l));
    }
    CHECK(set_index(&l, V2) >= 0);
    block(&l);
    CHECK(octo_ledger_validators_changed(&l));
    CHECK(set_index(&l, V1) < 0 && set_index(&l, V2) < 0 && set_index(&l, V3) < 0);
    CHECK_EQ_INT(set_index(&l, 13), 0); /* the largest stake leads the list */
    struct octo_cons_validator vs[OCTO_CONS_VALIDATORS_MAX];
    CHECK_EQ_INT(octo_ledger_validators(&l, vs, 64), 2);
    CHECK_EQ_U64(vs[0].weight, 15000 * U);
    /* a jailed validator may not register again */
    transfer(USER, 7, V2, OCTO_TOKEN_OCTO, 1 * U, U / 1000); /* for the fees */
    simple(V2, OCTO_TX_UNSTAKE, 0, 9500 * U);
    simple(V2, OCTO_TX_REGISTER, 1, OCTO_STAKE_VALIDATOR);
    block(&l);
    CHECK_EQ_INT(g_res[1], OCTO_TXR_OK);
    CHECK_EQ_INT(g_res[2], OCTO_TXR_JAILED);
    /* V3 left the set, but its unbonding stake is still slashable (its old signer index) */
    slash_tx(8, V3, vote(V3, 3, OCTO_CONS_SKIP, 30, 0), vote(V3, 3, OCTO_CONS_FINALIZE, 30, 4));
    block(&l);
    CHECK_EQ_INT(g_res[0], OCTO_TXR_OK);
    struct octo_account a3 = acct(&l, V3);
    CHECK_EQ_INT(a3.n_unbond, 1);
    CHECK_EQ_U64(a3.unbond[0].amount, 9500 * U);
    /* block times stay below 2^62 */
    struct octo_ledger_block_ctx ctx = {.height = octo_ledger_height(&l) + 1,
                                        .time_ms = OCTO_LEDGER_SUPPLY_MAX};
    CHECK_EQ_INT(octo_ledger_apply(&l, &ctx, g_txs, 0, g_res), OCTO_ESTATE);
    octo_ledger_deinit(&l);
}

/* ---- persistence ------------------------------------------------------------------------- */

/* What a store keeps: every object's newest encoding by index, and the meta record. */
struct mirror {
    uint8_t (*obj)[OCTO_LEDGER_OBJECT_MAX_LEN];
    uint16_t *len;
    uint32_t n, cap;
    uint8_t meta[OCTO_LEDGER_META_MAX];
    size_t meta_len;
};

static void mirror_sync(struct mirror *m, const struct octo_ledger *l)
{
    uint32_t n = octo_ledger_objects(l);
    if (n > m->cap) {
        m->cap = n * 2;
        m->obj = octo_realloc(m->obj, (size_t)m->cap * sizeof(*m->obj));
        m->len = octo_realloc(m->len, (size_t)m->cap * sizeof(*m->len));
        OCTO_ASSERT(m->obj != NULL && m->len != NULL);
    }
    const uint32_t *idx;
    size_t k = octo_ledger_changed(l, &idx);
    for (size_t i = 0; i < k; i++) {
        OCTO_ASSERT(i == 0 || idx[i] > idx[i - 1]);
        int len = octo_ledger_object(l, idx[i], m->obj[idx[i]], OCTO_LEDGER_OBJECT_MAX_LEN);
        OCTO_ASSERT(len > 0);
        m->len[idx[i]] = (uint16_t)len;
    }
    m->n = n;
    m->meta_len = octo_ledger_meta(l, m->meta);
}

static int mirror_load(const struct mirror *m, struct octo_ledger *out, const uint8_t *hk)
{
    int rc = octo_ledger_init(out, &g_gen, hk);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < m->n && rc == 0; i++)
        rc = octo_ledger_load_object(out, i, m->obj[i], m->len[i]);
    if (rc == 0)
        rc = octo_ledger_load_meta(out, m->meta, m->meta_len);
    if (rc != 0)
        octo_ledger_deinit(out);
    return rc;
}

static void mirror_free(struct mirror *m)
{
    octo_free(m->obj);
    octo_free(m->len);
}

/* The root as ledger.h defines it, computed here from the objects with crypto/merkle's MTH
 * (which the ledger's level-by-level tree must equal). */
static void check_root_definition(const struct octo_ledger *l)
{
    uint32_t n = octo_ledger_objects(l);
    struct octo_merkle_hash *leaves = octo_malloc((size_t)(n ? n : 1) * sizeof(*leaves));
    OCTO_ASSERT(leaves != NULL);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t enc[OCTO_LEDGER_OBJECT_MAX_LEN];
        int len = octo_ledger_object(l, i, enc, sizeof(enc));
        OCTO_ASSERT(len > 0);
        octo_merkle_leaf_hash(enc, (size_t)len, &leaves[i]);
    }
    struct octo_merkle_hash mth;
    CHECK_OK(octo_merkle_root(leaves, n, &mth));
    octo_free(leaves);
    uint8_t meta[OCTO_LEDGER_META_MAX], want[32], got[32];
    size_t mlen = octo_ledger_meta(l, meta);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, "OCTO-STATE-v1", 13);
    octo_sha256_update(&h, meta, mlen - 32);
    octo_sha256_update(&h, mth.bytes, 32);
    octo_sha256_final(&h, want);
    octo_ledger_root(l, got);
    CHECK(memcmp(want, got, 32) == 0);
    CHECK(memcmp(meta + mlen - 32, got, 32) == 0);
}

static void test_persistence(void)
{
    struct octo_ledger l;
    struct mirror m = {0};
    CHECK_OK(octo_ledger_init(&l, genesis(), g_hk1));
    mirror_sync(&m, &l);
    roles(&l);
    mirror_sync(&m, &l);
    simple(PROV, OCTO_TX_UNSTAKE, 1, 10000 * U);
    escrow(USER, 0, 1, ORCH, 10 * U, T0 + DAY);
    transfer(USER, 1, 22, OCTO_TOKEN_N, 3 * U, U / 1000);
    block(&l);
    mirror_sync(&m, &l);

    struct octo_ledger r;
    CHECK_OK(mirror_load(&m, &r, g_hk2));
    check_root_definition(&l);
    uint8_t a[32], b[32];
    octo_ledger_root(&l, a);
    octo_ledger_root(&r, b);
    CHECK(memcmp(a, b, 32) == 0);
    CHECK_EQ_U64(octo_ledger_height(&r), octo_ledger_height(&l));
    CHECK_EQ_U64(acct(&r, 22).balance[OCTO_TOKEN_N], 3 * U);
    CHECK_OK(octo_ledger_audit(&r));
    /* both run on identically, unbonding release included (rebuilt queue) */
    uint64_t at = octo_ledger_time(&l) + 8 * DAY;
    transfer(USER, 2, 23, OCTO_TOKEN_OCTO, 1 * U, U / 1000);
    block_at(&l, at);
    transfer(USER, 2, 23, OCTO_TOKEN_OCTO, 1 * U, U / 1000);
    block_at(&r, at);
    octo_ledger_root(&l, a);
    octo_ledger_root(&r, b);
    CHECK(memcmp(a, b, 32) == 0);
    CHECK_EQ_INT(acct(&r, PROV).n_unbond, 0);
    octo_ledger_deinit(&r);

    /* a changed object, or a meta record naming another root, is refused */
    m.obj[5][40] ^= 1;
    CHECK_EQ_INT(mirror_load(&m, &r, g_hk1), OCTO_EMALFORMED);
    m.obj[5][40] ^= 1;
    m.meta[m.meta_len - 1] ^= 1;
    CHECK_EQ_INT(mirror_load(&m, &r, g_hk1), OCTO_EMALFORMED);
    m.meta[m.meta_len - 1] ^= 1;
    CHECK_OK(mirror_load(&m, &r, g_hk1));
    octo_ledger_deinit(&r);
    /* objects out of order */
    CHECK_OK(octo_ledger_init(&r, &g_gen, g_hk1));
    CHECK_EQ_INT(octo_ledger_load_object(&r, m.n + 5, m.obj[0], m.len[0]), OCTO_EMALFORMED);
    CHECK_EQ_INT(octo_ledger_load_object(&r, 0, m.obj[1], m.len[1]), OCTO_EMALFORMED);
    octo_ledger_deinit(&r);
    mirror_free(&m);
    octo_ledger_deinit(&l);
}

/* Recomputes the meta record's root over the mirrored objects (as ledger.h defines it), so a
 * tampered state arrives with a matching root and only the consistency checks stand. */
static void mirror_reroot(struct mirror *m)
{
    struct octo_merkle_hash *leaves = octo_malloc((size_t)m->n * sizeof(*leaves));
    OCTO_ASSERT(leaves != NULL);
    for (uint32_t i = 0; i < m->n; i++)
        octo_merkle_leaf_hash(m->obj[i], m->len[i], &leaves[i]);
    struct octo_merkle_hash mth;
    OCTO_ASSERT(octo_merkle_root(leaves, m->n, &mth) == 0);
    octo_free(leaves);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, "OCTO-STATE-v1", 13);
    octo_sha256_update(&h, m->meta, m->meta_len - 32);
    octo_sha256_update(&h, mth.bytes, 32);
    octo_sha256_final(&h, m->meta + m->meta_len - 32);
}

/* A large genesis reloaded (the loader's changed list stays within bounds), and stored states
 * whose root matches but whose content is inconsistent are refused. */
static void test_load_checks(void)
{
    static struct octo_ledger_alloc many[1000];
    genesis();
    for (int i = 0; i < 1000; i++) {
        memset(many[i].addr, 0xd0, 32);
        many[i].addr[0] = (uint8_t)(i >> 8);
        many[i].addr[1] = (uint8_t)i;
        many[i].amount[OCTO_TOKEN_OCTO] = 1 + (uint64_t)i;
    }
    memcpy(many, g_alloc, sizeof(g_alloc[0]) * g_gen.n_allocs);
    g_gen.allocs = many;
    g_gen.n_allocs = 1000;
    struct octo_ledger l, r;
    struct mirror m = {0};
    CHECK_OK(octo_ledger_init(&l, &g_gen, g_hk1));
    mirror_sync(&m, &l);
    simple(PROV, OCTO_TX_REGISTER, 0, OCTO_STAKE_COMPUTE);
    block(&l);
    simple(PROV, OCTO_TX_UNSTAKE, 1, 10000 * U);
    block(&l);
    mirror_sync(&m, &l);
    CHECK_OK(mirror_load(&m, &r, g_hk2));
    octo_ledger_deinit(&r);
    /* PROV's unbond moved a year ahead: consistent root, impossible release time */
    uint32_t prov = UINT32_MAX;
    for (uint32_t i = 0; i < m.n; i++)
        if (m.obj[i][0] == 1 && memcmp(m.obj[i] + 1, pk(PROV), 32) == 0)
            prov = i;
    CHECK(prov != UINT32_MAX);
    uint8_t saved[OCTO_LEDGER_OBJECT_MAX_LEN];
    memcpy(saved, m.obj[prov], sizeof(saved));
    size_t rel = m.len[prov] - 8; /* the last unbond's release_ms */
    uint64_t far = octo_load_be64(m.obj[prov] + rel) + 365 * DAY;
    octo_store_be64(m.obj[prov] + rel, far);
    mirror_reroot(&m);
    CHECK_EQ_INT(mirror_load(&m, &r, g_hk1), OCTO_EMALFORMED);
    /* a balance out of thin air: the supply no longer adds up */
    memcpy(m.obj[prov], saved, sizeof(saved));
    m.obj[prov][1 + 32 + 7] ^= 1; /* OCTO balance, lowest byte */
    mirror_reroot(&m);
    CHECK_EQ_INT(mirror_load(&m, &r, g_hk1), OCTO_EMALFORMED);
    memcpy(m.obj[prov], saved, sizeof(saved));
    mirror_reroot(&m);
    CHECK_OK(mirror_load(&m, &r, g_hk1));
    octo_ledger_deinit(&r);
    mirror_free(&m);
    octo_ledger_deinit(&l);
}

/* ---- random blocks against a model --------------------------------------------------------- */

struct model {
    uint64_t octo[NKEYS];
    uint64_t nonce[NKEYS];
    bool exists[NKEYS];
};

static uint64_t g_rng;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Random OCTO transfers (wrong nonces, low fees, overspends, new accounts among them) on two
 * ledgers with different index keys; the model predicts every result and balance. */
static void run_random(uint64_t seed)
{
    g_rng = seed * 0x9e3779b97f4a7c15u + 1;
    struct octo_ledger a, b;
    OCTO_ASSERT(octo_ledger_init(&a, genesis(), g_hk1) == 0);
    OCTO_ASSERT(octo_ledger_init(&b, &g_gen, g_hk2) == 0);
    struct mirror m = {0};
    mirror_sync(&m, &a);
    struct model md;
    memset(&md, 0, sizeof(md));
    for (int k = 0; k < NKEYS; k++) {
        struct octo_account acc;
        md.exists[k] = octo_ledger_account(&a, pk(k), &acc) == 0;
        if (md.exists[k]) {
            md.octo[k] = acc.balance[OCTO_TOKEN_OCTO];
            md.nonce[k] = acc.nonce;
        }
    }
    const uint64_t min_fee = U / 1000;
    for (int blk = 0; blk < 60; blk++) {
        uint8_t expect[64];
        struct model before = md;
        uint32_t n = (uint32_t)(rnd() % 40);
        for (uint32_t i = 0; i < n; i++) {
            int from = (int)(rnd() % NKEYS), to = (int)(rnd() % NKEYS);
            if (to == from)
                to = (to + 1) % NKEYS;
            uint64_t nonce = md.nonce[from] + (rnd() % 8 == 0 ? 1 : 0);
            uint64_t fee = min_fee + rnd() % 3 - (rnd() % 10 == 0 ? 2 : 0);
            uint64_t amount = rnd() % 4 == 0 ? md.octo[from] + rnd() % 3 : 1 + rnd() % (500 * U);
            if (amount == 0)
                amount = 1;
            transfer(from, nonce, to, OCTO_TOKEN_OCTO, amount, fee);
            uint8_t r;
            if (!md.exists[from])
                r = OCTO_TXR_NO_ACCOUNT;
            else if (nonce != md.nonce[from])
                r = OCTO_TXR_BAD_NONCE;
            else if (fee < min_fee)
                r = OCTO_TXR_FEE_TOO_LOW;
            else if (md.octo[from] < fee)
                r = OCTO_TXR_CANNOT_PAY_FEE;
            else {
                md.octo[from] -= fee;
                md.octo[V0] += fee; /* V0 proposes (it exists) */
                md.nonce[from]++;
                if (md.octo[from] < amount) {
                    r = OCTO_TXR_INSUFFICIENT;
                } else {
                    md.octo[from] -= amount;
                    md.octo[to] += amount;
                    md.exists[to] = true;
                    r = OCTO_TXR_OK;
                }
            }
            expect[i] = r;
        }
        (void)before;
        uint64_t at = octo_ledger_time(&a) + 1 + rnd() % 5000;
        struct octo_ledger_block_ctx ctx = {.height = octo_ledger_height(&a) + 1, .time_ms = at};
        memcpy(ctx.proposer, pk(V0), 32);
        uint8_t ra[64], rb[64];
        CHECK_OK(octo_ledger_apply(&a, &ctx, g_txs, g_ntx, ra));
        CHECK_OK(octo_ledger_apply(&b, &ctx, g_txs, g_ntx, rb));
        g_ntx = 0;
        CHECK_OK(octo_ledger_audit(&a));
        for (uint32_t i = 0; i < n; i++) {
            if (ra[i] != expect[i] || rb[i] != expect[i]) {
                octo_test_fail_at(__FILE__, __LINE__, "seed %llu block %d tx %u: %d/%d, want %d",
                                  (unsigned long long)seed, blk, i, ra[i], rb[i], expect[i]);
                return;
            }
        }
        for (int k = 0; k < NKEYS; k++) {
            struct octo_account acc;
            bool ex = octo_ledger_account(&a, pk(k), &acc) == 0;
            CHECK(ex == md.exists[k]);
            if (ex) {
                CHECK_EQ_U64(acc.balance[OCTO_TOKEN_OCTO], md.octo[k]);
                CHECK_EQ_U64(acc.nonce, md.nonce[k]);
            }
        }
        uint8_t x[32], y[32];
        octo_ledger_root(&a, x);
        octo_ledger_root(&b, y);
        CHECK(memcmp(x, y, 32) == 0);
        uint8_t old[32];
        CHECK_OK(octo_ledger_root_at(&a, octo_ledger_height(&a), old));
        CHECK(memcmp(old, x, 32) == 0);
        mirror_sync(&m, &a);
        if (blk % 5 == 4)
            check_root_definition(&a);
        if (blk % 15 == 14) { /* the incremental tree equals one built from scratch */
            struct octo_ledger r;
            CHECK_OK(mirror_load(&m, &r, g_hk2));
            octo_ledger_root(&r, y);
            CHECK(memcmp(x, y, 32) == 0);
            octo_ledger_deinit(&r);
        }
    }
    uint8_t x[32];
    CHECK_EQ_INT(octo_ledger_root_at(&a, octo_ledger_height(&a) + 1, x), OCTO_ENOTFOUND);
    mirror_free(&m);
    octo_ledger_deinit(&a);
    octo_ledger_deinit(&b);
}

static void test_random_against_model(void)
{
    for (uint64_t seed = 1; seed <= 12; seed++)
        run_random(seed);
}

int main(void)
{
    setup();
    OCTO_RUN(test_genesis);
    OCTO_RUN(test_transfers_and_fees);
    OCTO_RUN(test_stake_and_unbonding);
    OCTO_RUN(test_escrow_and_settlement);
    OCTO_RUN(test_refund);
    OCTO_RUN(test_slash_failed);
    OCTO_RUN(test_slash_double_and_epochs);
    OCTO_RUN(test_persistence);
    OCTO_RUN(test_load_checks);
    OCTO_RUN(test_random_against_model);
    for (int k = 0; k < NKEYS; k++)
        octo_identity_deinit(&g_key[k]);
    return octo_test_finish();
}
