/*
 * bench_chain.c — the chain: its cores in one process, then 4 and 16 validators as real
 * `octo node` processes on loopback, all measured in one run.
 *
 * In process (one core):
 *   ed25519_verify_vote     one vote's signature check (what a validator does ~2n times
 *                           per block), the same vote again and again
 *   ed25519_verify_tx       one transfer's signature check, every one different (48 keys):
 *                           what a validator pays per transaction, the reference the network
 *                           figures stand beside
 *   ledger_transfers        signed transfers applied by the ledger (blocks of 4,000; the
 *                           signatures were checked before, as for finalized blocks)
 *   block_check_transfers   a block's transactions decoded, signatures verified, roots
 *                           recomputed (what a validator does before voting, cold cache)
 *   settle_receipts         batched settlement: SETTLE transactions of 256 signed task
 *                           receipts checked (every provider signature) and applied
 * Network (`octo testnet` + N `octo node` processes, Δ = 100 ms):
 *   finality_idle p50/p99   proposal to finalization at the proposer, empty blocks
 *   transfers_per_s         finalized signed transfers per second while accounts stream
 *                           transfers into the validators (two waves of 32 per account in
 *                           flight, within the pool's 64-nonce window)
 *   finality_load p50/p99   proposal to finalization during that load
 *     reference: transfers_verify_limit  cores / (n x ed25519_verify_tx): what the machine
 *                           allows when every validator checks every transaction once and
 *                           does nothing else; the transfers are signed before the window
 * Published reference: CometBFT's QA (v1.0.0-alpha.2) saturates at about 400 tx/s with 175
 * validators and ~1 s blocks (CONSENSUS.md §5). Figures only: nothing here fails on a slow
 * machine; on a machine with fewer cores than validators every process shares them.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/endian.h"
#include "bench.h"
#include "chain/block.h"
#include "chain/ledger.h"
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "net/net.h"
#include "node/genesis.h"
#include "node/home.h"
#include "node/sysclock.h"
#include "node/validator.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OCTO_BENCH_OCTO
#define OCTO_BENCH_OCTO "octo"
#endif

#define U OCTO_UNIT

static const uint8_t g_chain[32] = {0xbe, 0x4c};
static double g_verify_ns;    /* one Ed25519 verification, measured first */
static double g_verify_tx_ns; /* one transfer's signature check, distinct transfers */

/* ---- in-process: keys, a ledger, blocks ------------------------------------------------------ */

#define KEYS 64
static struct octo_identity g_keys[KEYS];

static void make_keys(void)
{
    for (int k = 0; k < KEYS; k++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)k;
        seed[1] = 0xb7;
        if (octo_identity_from_seed(&g_keys[k], seed) != 0)
            abort();
    }
}

/* Keys 0..47 funded users, 48..55 providers, 56..59 orchestrators, 63 the validator. */
static void ledger_open(struct octo_ledger *l)
{
    static struct octo_ledger_alloc al[KEYS];
    struct octo_ledger_genesis g;
    memset(&g, 0, sizeof(g));
    memcpy(g.chain_id, g_chain, 32);
    g.time_ms = 1000;
    octo_ledger_params_default(&g.params);
    memset(g.params.treasury, 0x71, 32);
    memset(g.params.governance, 0x72, 32);
    for (int k = 0; k < 60; k++) {
        memcpy(al[k].addr, g_keys[k].pub.bytes, 32);
        for (int t = 0; t < OCTO_TOKENS; t++)
            al[k].amount[t] = 100000000 * U;
    }
    g.allocs = al;
    g.n_allocs = 60;
    struct octo_ledger_genesis_validator v;
    memcpy(v.pk, g_keys[63].pub.bytes, 32);
    v.stake = 10000 * U;
    g.validators = &v;
    g.n_validators = 1;
    uint8_t hk[16] = {1};
    if (octo_ledger_init(l, &g, hk) != 0)
        abort();
}

static uint64_t g_nonce[KEYS];

static int signed_tx(struct octo_tx *t, int from, uint8_t *out)
{
    memcpy(t->from, g_keys[from].pub.bytes, 32);
    t->nonce = g_nonce[from]++;
    t->fee = U / 1000;
    int n = octo_tx_encode(t, out, OCTO_TX_MAX);
    if (n <= 0)
        abort();
    octo_tx_sign(g_chain, out, (size_t)n, &g_keys[from]);
    return n;
}

struct blockbuf {
    uint8_t *payload;
    int len;
    struct octo_block_hdr h;
};

static void block_finish(struct octo_block_builder *b, struct blockbuf *bb,
                         struct octo_block_scratch *s, uint64_t t)
{
    uint8_t root[32] = {0};
    bb->len = octo_block_build_finish(b, t, 0, root, s);
    if (bb->len <= 0 || octo_block_parse(bb->payload, (size_t)bb->len, &bb->h, s->txs) != 0)
        abort();
}

/* A block of n transfers among the users. */
static void transfer_block(struct blockbuf *bb, uint32_t n, struct octo_block_scratch *s,
                           uint64_t t)
{
    struct octo_block_builder b;
    octo_block_build_init(&b, bb->payload, OCTO_CONS_PAYLOAD_MAX);
    uint8_t tx[OCTO_TX_MAX];
    for (uint32_t i = 0; i < n; i++) {
        struct octo_tx x;
        memset(&x, 0, sizeof(x));
        x.type = OCTO_TX_TRANSFER;
        int from = (int)(i % 48);
        memcpy(x.u.transfer.to, g_keys[(from + 1) % 48].pub.bytes, 32);
        x.u.transfer.amount = 1 + i;
        int len = signed_tx(&x, from, tx);
        if (octo_block_build_add(&b, tx, (size_t)len) != 0)
            abort();
    }
    block_finish(&b, bb, s, t);
}

static void apply(struct octo_ledger *l, struct blockbuf *bb, struct octo_block_scratch *s)
{
    static uint8_t res[OCTO_BLOCK_TXS_MAX];
    if (octo_block_parse(bb->payload, (size_t)bb->len, &bb->h, s->txs) != 0)
        abort();
    struct octo_ledger_block_ctx ctx = {.height = octo_ledger_height(l) + 1,
                                        .time_ms = octo_ledger_time(l) + 1};
    memcpy(ctx.proposer, g_keys[63].pub.bytes, 32);
    if (octo_ledger_apply(l, &ctx, s->txs, bb->h.n_tx, res) != 0)
        abort();
}

struct vote_ctx {
    uint8_t msg[OCTO_CONS_VOTE_SIGNED_MAX];
    size_t len;
    uint8_t sig[64];
};

static void verify_votes(void *ctx, uint64_t iters)
{
    struct vote_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++)
        if (octo_pubkey_verify(&g_keys[63].pub, c->msg, c->len, c->sig) != 0)
            abort();
}

static double bench_verify(const struct octo_bench *b)
{
    struct vote_ctx c;
    uint8_t block[32] = {7};
    c.len = octo_cons_vote_signed(g_chain, OCTO_CONS_NOTARIZE, 42, block, c.msg);
    octo_identity_sign(&g_keys[63], c.msg, c.len, c.sig);
    double ns = octo_bench_measure(b, verify_votes, &c);
    octo_bench_report(b, "ed25519_verify_vote", ns / 1000.0, "us", NULL);
    return ns;
}

/* Ledger apply and block check of transfer blocks. */
static void bench_transfers(const struct octo_bench *b)
{
    struct octo_block_scratch *s = octo_malloc(sizeof(*s));
    int blocks = b->quick ? 3 : 10;
    struct blockbuf *bb = octo_calloc((size_t)blocks, sizeof(*bb));
    struct octo_ledger l;
    ledger_open(&l);
    memset(g_nonce, 0, sizeof(g_nonce));
    for (int k = 0; k < blocks; k++) {
        bb[k].payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
        transfer_block(&bb[k], 4000, s, 2000 + (uint64_t)k);
    }
    uint64_t t0 = octo_bench_now_ns();
    uint32_t bad;
    for (int k = 0; k < blocks; k++) {
        if (octo_block_parse(bb[k].payload, (size_t)bb[k].len, &bb[k].h, s->txs) != 0 ||
            octo_block_check(g_chain, &bb[k].h, s, NULL, NULL, &bad) != 0)
            abort();
    }
    uint64_t t1 = octo_bench_now_ns();
    for (int k = 0; k < blocks; k++)
        apply(&l, &bb[k], s);
    uint64_t t2 = octo_bench_now_ns();
    double n = 4000.0 * blocks;
    /* decode and signature check alone, each transfer once (48 keys, every signature different) */
    uint64_t t3 = octo_bench_now_ns();
    for (int k = 0; k < blocks; k++) {
        if (octo_block_parse(bb[k].payload, (size_t)bb[k].len, &bb[k].h, s->txs) != 0)
            abort();
        for (uint32_t i = 0; i < bb[k].h.n_tx; i++) {
            struct octo_tx t;
            if (octo_tx_decode(s->txs[i].p, s->txs[i].len, &t) != 0 ||
                octo_tx_verify(g_chain, s->txs[i].p, s->txs[i].len, &t) != 0)
                abort();
        }
    }
    g_verify_tx_ns = (double)(octo_bench_now_ns() - t3) / n;
    octo_bench_report(b, "ed25519_verify_tx", g_verify_tx_ns / 1000.0, "us", NULL);
    octo_bench_report(b, "block_check_transfers", n / ((double)(t1 - t0) / 1e9), "tx/s",
                      "\"block_txs\":4000");
    octo_bench_report(b, "ledger_transfers", n / ((double)(t2 - t1) / 1e9), "tx/s",
                      "\"block_txs\":4000");
    if (octo_ledger_audit(&l) != 0)
        abort();
    for (int k = 0; k < blocks; k++)
        octo_free(bb[k].payload);
    octo_free(bb);
    octo_ledger_deinit(&l);
    octo_free(s);
}

/* Settlement: escrows for every task first, then SETTLE blocks of 256-receipt batches. */
static void bench_settle(const struct octo_bench *b)
{
    struct octo_block_scratch *s = octo_malloc(sizeof(*s));
    struct octo_ledger l;
    ledger_open(&l);
    memset(g_nonce, 0, sizeof(g_nonce));
    struct blockbuf bb = {.payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX)};
    struct octo_block_builder bl;
    /* roles: providers 48..55 (compute), orchestrators 56..59 */
    octo_block_build_init(&bl, bb.payload, OCTO_CONS_PAYLOAD_MAX);
    uint8_t tx[OCTO_TX_MAX];
    for (int k = 48; k < 60; k++) {
        struct octo_tx x;
        memset(&x, 0, sizeof(x));
        x.type = OCTO_TX_REGISTER;
        x.u.role = k < 56 ? OCTO_STAKE_COMPUTE : OCTO_STAKE_ORCHESTRATOR;
        int len = signed_tx(&x, k, tx);
        if (octo_block_build_add(&bl, tx, (size_t)len) != 0)
            abort();
    }
    block_finish(&bl, &bb, s, 2000);
    apply(&l, &bb, s);
    int batches = b->quick ? 16 : 64; /* of 256 receipts */
    uint32_t tasks = (uint32_t)batches * 256, made = 0;
    while (made < tasks) { /* escrow blocks: users pay for tasks, 3,000 per block */
        octo_block_build_init(&bl, bb.payload, OCTO_CONS_PAYLOAD_MAX);
        for (uint32_t i = 0; i < 3000 && made < tasks; i++, made++) {
            struct octo_tx x;
            memset(&x, 0, sizeof(x));
            x.type = OCTO_TX_ESCROW;
            octo_store_be32(x.u.escrow.task, made);
            memcpy(x.u.escrow.orchestrator, g_keys[56 + made / 256 % 4].pub.bytes, 32);
            x.u.escrow.amount = 10 * U;
            x.u.escrow.expires_ms = 1u << 30;
            int len = signed_tx(&x, (int)(made % 48), tx);
            if (octo_block_build_add(&bl, tx, (size_t)len) != 0)
                abort();
        }
        block_finish(&bl, &bb, s, octo_ledger_time(&l) + 1);
        apply(&l, &bb, s);
    }
    /* settlement blocks: 3 SETTLE txs (768 receipts) each, receipts signed by providers */
    static uint8_t rc[256][OCTO_RECEIPT_LEN];
    int n_blocks = (batches + 2) / 3;
    struct blockbuf *sb = octo_calloc((size_t)n_blocks, sizeof(*sb));
    int batch = 0;
    for (int k = 0; k < n_blocks; k++) {
        sb[k].payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
        octo_block_build_init(&bl, sb[k].payload, OCTO_CONS_PAYLOAD_MAX);
        for (int j = 0; j < 3 && batch < batches; j++, batch++) {
            int orch = 56 + batch % 4;
            for (int i = 0; i < 256; i++) {
                uint32_t task = (uint32_t)batch * 256 + (uint32_t)i;
                struct octo_receipt r;
                memset(&r, 0, sizeof(r));
                octo_store_be32(r.task, task);
                memcpy(r.requester, g_keys[task % 48].pub.bytes, 32);
                memcpy(r.orchestrator, g_keys[orch].pub.bytes, 32);
                int prov = 48 + (int)(task % 8);
                memcpy(r.provider, g_keys[prov].pub.bytes, 32);
                r.tokens = 100;
                r.end_ms = 1;
                r.price = 3 * U + task;
                octo_receipt_encode(&r, rc[i]);
                octo_receipt_sign(g_chain, rc[i], &g_keys[prov]);
            }
            struct octo_tx x;
            memset(&x, 0, sizeof(x));
            x.type = OCTO_TX_SETTLE;
            x.u.settle.receipts = &rc[0][0];
            x.u.settle.count = 256;
            int len = signed_tx(&x, orch, tx);
            if (octo_block_build_add(&bl, tx, (size_t)len) != 0)
                abort();
        }
        block_finish(&bl, &sb[k], s, octo_ledger_time(&l) + 1 + (uint64_t)k);
    }
    uint64_t t0 = octo_bench_now_ns();
    uint32_t bad;
    for (int k = 0; k < n_blocks; k++) {
        if (octo_block_parse(sb[k].payload, (size_t)sb[k].len, &sb[k].h, s->txs) != 0 ||
            octo_block_check(g_chain, &sb[k].h, s, NULL, NULL, &bad) != 0)
            abort();
        apply(&l, &sb[k], s);
    }
    uint64_t t1 = octo_bench_now_ns();
    if (octo_ledger_stats(&l)->receipts_settled != tasks || octo_ledger_audit(&l) != 0)
        abort();
    octo_bench_report(b, "settle_receipts", tasks / ((double)(t1 - t0) / 1e9), "receipts/s",
                      "\"batch\":256,\"checked\":true");
    for (int k = 0; k < n_blocks; k++)
        octo_free(sb[k].payload);
    octo_free(sb);
    octo_free(bb.payload);
    octo_ledger_deinit(&l);
    octo_free(s);
}

/* ---- processes ---------------------------------------------------------------------------- */

static int run_wait(char *const argv[])
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Starts `octo node --home home` and waits for "Node is ready". */
static pid_t start_node(const char *home)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    static struct octo_bench_argv av;
    av.used = 0;
    av.argc = 0;
    const char *const args[] = {OCTO_BENCH_OCTO, "node", "--home", home, "--log-level", "warn"};
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
        octo_bench_arg(&av, args[i]);
    char **argv = av.argv;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    bool ready = false;
    while (!ready && fgets(line, sizeof(line), f) != NULL)
        ready = strstr(line, "Node is ready") != NULL;
    fclose(f);
    if (!ready) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

/* ---- the network client: tx streams and status calls ------------------------------------- */

struct netb;

/* One status call. Its stream's on_close is its last callback, which may come after the
 * caller has its answer: whoever comes last (the caller or on_close) frees it. */
struct rpcq {
    struct octo_net_stream *s;
    uint8_t buf[65536];
    size_t len;
    cJSON *answer;
    bool done, closed, abandoned, reset;
};

struct vnode {
    struct octo_peerid id;
    struct octo_multiaddr addr;
    bool connected;
    struct octo_net_stream *s; /* chain stream: transactions */
    bool open;
    uint8_t *q;
    size_t q_len, q_cap;
};

struct netb {
    uv_loop_t loop;
    struct octo_net *net;
    struct vnode nodes[16];
    int n;
    int pending; /* dials or calls outstanding */
    uv_timer_t timer;
};

static void flush_node(struct vnode *v)
{
    while (v->open && v->q_len > 0) {
        int n = octo_net_stream_write(v->s, v->q, v->q_len);
        if (n <= 0)
            return;
        memmove(v->q, v->q + n, v->q_len - (size_t)n);
        v->q_len -= (size_t)n;
    }
}

static void queue_tx(struct vnode *v, const uint8_t *tx, size_t len)
{
    if (v->q_len + 5 + len > v->q_cap) {
        size_t cap = v->q_cap ? v->q_cap * 2 : 1 << 20;
        while (cap < v->q_len + 5 + len)
            cap *= 2;
        v->q = octo_realloc(v->q, cap);
        if (v->q == NULL)
            abort();
        v->q_cap = cap;
    }
    octo_store_be32(v->q + v->q_len, (uint32_t)(1 + len));
    v->q[v->q_len + 4] = OCTO_CHAIN_FRAME_TX;
    memcpy(v->q + v->q_len + 5, tx, len);
    v->q_len += 5 + len;
}

static void tx_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct vnode *v = ctx;
    (void)s;
    v->open = status == 0;
    flush_node(v);
}

static void tx_writable(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    flush_node(ctx);
}

static void tx_close(struct octo_net_stream *s, int status, void *ctx)
{
    struct vnode *v = ctx;
    (void)s;
    (void)status;
    v->open = false;
    v->s = NULL;
}

static const struct octo_net_stream_ops tx_ops = {
    .on_open = tx_open, .on_writable = tx_writable, .on_close = tx_close};

static void dialed(struct octo_net *n, int status, const struct octo_peerid *peer, void *ctx)
{
    struct vnode *v = ctx;
    (void)peer;
    v->connected = status == 0;
    if (getenv("BENCH_CHAIN_DEBUG") != NULL)
        fprintf(stderr, "dial: %s\n", octo_strerror(status));
    if (v->connected &&
        octo_net_stream_open(n, &v->id, OCTO_CHAIN_PROTOCOL, &tx_ops, v, &v->s) != 0)
        v->s = NULL;
}

static void rpc_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct rpcq *q = ctx;
    if (status != 0) {
        q->done = true;
        return;
    }
    const char *req =
        q->reset ? "{\"method\":\"status\",\"reset_finality\":true}" : "{\"method\":\"status\"}";
    uint8_t hdr[4];
    size_t rl = strlen(req);
    octo_store_be32(hdr, (uint32_t)rl);
    if (octo_net_stream_write(s, hdr, 4) != 4 ||
        octo_net_stream_write(s, (const uint8_t *)req, rl) != (int)rl)
        q->done = true;
}

static void rpc_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct rpcq *q = ctx;
    (void)s;
    if (q->len + len > sizeof(q->buf))
        return;
    memcpy(q->buf + q->len, data, len);
    q->len += len;
    if (q->len >= 4 && q->len >= 4 + (size_t)octo_load_be32(q->buf) && !q->done) {
        q->answer = cJSON_ParseWithLength((const char *)q->buf + 4, octo_load_be32(q->buf));
        q->done = true;
    }
}

static void rpc_close(struct octo_net_stream *s, int status, void *ctx)
{
    struct rpcq *q = ctx;
    (void)s;
    (void)status;
    q->done = q->closed = true;
    if (q->abandoned) {
        cJSON_Delete(q->answer);
        octo_free(q);
    }
}

static const struct octo_net_stream_ops rpc_ops = {
    .on_open = rpc_open, .on_data = rpc_data, .on_close = rpc_close};

static void run_for(struct netb *nb, uint64_t ms);

/* The status answer of validator i (NULL when it did not answer); with reset, its finality
 * samples start afresh after answering. */
static cJSON *status_call(struct netb *nb, int i, bool reset)
{
    struct rpcq *q = octo_calloc(1, sizeof(*q));
    if (q != NULL)
        q->reset = reset;
    if (q == NULL || octo_net_stream_open(nb->net, &nb->nodes[i].id, OCTO_CHAIN_RPC_PROTOCOL,
                                          &rpc_ops, q, &q->s) != 0) {
        octo_free(q);
        return NULL;
    }
    for (int k = 0; k < 1500 && !q->done; k++)
        run_for(nb, 2);
    cJSON *a = q->answer;
    q->answer = NULL;
    if (q->closed) {
        octo_free(q);
    } else { /* on_close comes later and frees it */
        q->abandoned = true;
        octo_net_stream_reset(q->s);
    }
    return a;
}

static cJSON *status_of(struct netb *nb, int i)
{
    return status_call(nb, i, false);
}

/* Starts every validator's finality samples afresh (a measuring window begins). */
static void reset_finality(struct netb *nb)
{
    for (int i = 0; i < nb->n; i++)
        cJSON_Delete(status_call(nb, i, true));
}

static void on_tick(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void run_for(struct netb *nb, uint64_t ms)
{
    uv_timer_start(&nb->timer, on_tick, ms, 0);
    uv_run(&nb->loop, UV_RUN_DEFAULT);
}

static uint64_t stat_u64(const cJSON *a, const char *key)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(a, "stats");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(st != NULL ? st : a, key);
    return cJSON_IsString(f) ? strtoull(f->valuestring, NULL, 10) : 0;
}

/* The median of the validators' p50 finality and the largest p99 (ms). */
static void finality(struct netb *nb, double *p50, double *p99)
{
    double p50s[16];
    int n = 0;
    *p99 = 0;
    for (int i = 0; i < nb->n; i++) {
        cJSON *a = status_of(nb, i);
        if (a == NULL)
            continue;
        if (stat_u64(a, "finality_samples") > 0) {
            p50s[n++] = (double)stat_u64(a, "finality_p50_us") / 1000.0;
            double q = (double)stat_u64(a, "finality_p99_us") / 1000.0;
            if (q > *p99)
                *p99 = q;
        }
        cJSON_Delete(a);
    }
    for (int i = 1; i < n; i++) /* insertion sort */
        for (int j = i; j > 0 && p50s[j] < p50s[j - 1]; j--) {
            double t = p50s[j];
            p50s[j] = p50s[j - 1];
            p50s[j - 1] = t;
        }
    *p50 = n > 0 ? p50s[n / 2] : 0;
}

/* ---- one network --------------------------------------------------------------------------- */

#define WAVE 32

struct account {
    struct octo_identity id;
    uint64_t nonce;
};

/* Transfers every validator has applied: the slowest one's count (a wave sent before the
 * slowest has applied the one before it would fall outside its 64-nonce window and be
 * refused there). */
static uint64_t txs_applied(struct netb *nb)
{
    uint64_t least = UINT64_MAX;
    for (int i = 0; i < nb->n; i++) {
        cJSON *a = status_of(nb, i);
        if (a == NULL) /* no answer this time: the others decide */
            continue;
        uint64_t v = stat_u64(a, "txs_applied");
        cJSON_Delete(a);
        if (v < least)
            least = v;
    }
    return least == UINT64_MAX ? 0 : least;
}

/* Transfers signed before the measuring window (clients sign on their own machines; here they
 * would take the validators' cores): one byte of length, then the transaction. */
struct presigned {
    uint8_t *buf;
    size_t len, off;
};

static int sign_transfer(struct account *ac, const uint8_t chain[32], const uint8_t to[32],
                         uint8_t tx[256])
{
    struct octo_tx t;
    memset(&t, 0, sizeof(t));
    t.type = OCTO_TX_TRANSFER;
    memcpy(t.from, ac->id.pub.bytes, 32);
    t.nonce = ac->nonce++;
    t.fee = U / 1000;
    memcpy(t.u.transfer.to, to, 32);
    t.u.transfer.amount = 1;
    int len = octo_tx_encode(&t, tx, 256);
    if (len <= 0 || len > 255)
        abort();
    octo_tx_sign(chain, tx, (size_t)len, &ac->id);
    return len;
}

/* Signs `waves` waves ahead, in the order send_wave sends them. */
static void presign(struct presigned *ps, struct account *acc, int n_acc, const uint8_t chain[32],
                    const uint8_t to[32], uint64_t waves)
{
    ps->buf = octo_malloc((size_t)waves * WAVE * (size_t)n_acc * 256);
    if (ps->buf == NULL)
        abort();
    ps->len = ps->off = 0;
    for (uint64_t k = 0; k < waves * WAVE; k++)
        for (int a = 0; a < n_acc; a++) {
            int len = sign_transfer(&acc[a], chain, to, ps->buf + ps->len + 1);
            ps->buf[ps->len] = (uint8_t)len;
            ps->len += 1 + (size_t)len;
        }
}

/* One wave: WAVE transfers from every account, each to the validator account % n; presigned
 * ones first, signed here once those run out. */
static void send_wave(struct netb *nb, struct presigned *ps, struct account *acc, int n_acc,
                      const uint8_t chain[32], const uint8_t to[32])
{
    uint8_t tx[256];
    for (int w = 0; w < WAVE; w++) {
        for (int a = 0; a < n_acc; a++) {
            if (ps->off < ps->len) {
                size_t len = ps->buf[ps->off];
                queue_tx(&nb->nodes[a % nb->n], ps->buf + ps->off + 1, len);
                ps->off += 1 + len;
                continue;
            }
            int len = sign_transfer(&acc[a], chain, to, tx);
            queue_tx(&nb->nodes[a % nb->n], tx, (size_t)len);
        }
    }
    for (int i = 0; i < nb->n; i++)
        flush_node(&nb->nodes[i]);
}

static void bench_network(const struct octo_bench *b, int n)
{
    char dir[] = "/tmp/octo-bench-chain-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return;
    int n_acc = b->quick ? 128 : 256;
    char vs[8], accs[8], port[8], out[600];
    snprintf(vs, sizeof(vs), "%d", n);
    snprintf(accs, sizeof(accs), "%d", n_acc);
    snprintf(port, sizeof(port), "%d", 27000 + (int)(getpid() % 1000) * 20);
    snprintf(out, sizeof(out), "%s/net", dir);
    static struct octo_bench_argv tn;
    tn.used = 0;
    tn.argc = 0;
    const char *const targs[] = {
        OCTO_BENCH_OCTO, "testnet", "--validators", vs,    "--accounts", accs,  "--out", out,
        "--base-port",   port,      "--delta-ms",   "100", "--seed",     "0bec"};
    for (size_t i = 0; i < sizeof(targs) / sizeof(targs[0]); i++)
        octo_bench_arg(&tn, targs[i]);
    char params[64];
    snprintf(params, sizeof(params), "\"validators\":%d", n);
    if (run_wait(tn.argv) != 0) {
        fprintf(stderr, "bench_chain: octo testnet failed\n");
        return;
    }
    char path[700], gerr[OCTO_GENESIS_ERR_MAX];
    struct octo_genesis g;
    snprintf(path, sizeof(path), "%s/genesis.json", out);
    if (octo_genesis_load(&g, path, gerr) != 0) {
        fprintf(stderr, "bench_chain: %s\n", gerr);
        return;
    }
    pid_t pids[16];
    int started = 0;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/v%d", out, i);
        pids[i] = start_node(path);
        started += pids[i] > 0;
    }
    struct account *acc = octo_calloc((size_t)n_acc, sizeof(*acc));
    for (int a = 0; a < n_acc; a++) {
        struct octo_config cfg;
        struct octo_config_error cerr;
        struct octo_home_error herr;
        snprintf(path, sizeof(path), "%s/accounts/a%d", out, a);
        if (octo_config_init(&cfg, path, environ, &cerr) != 0 ||
            octo_home_load_identity(&cfg, NULL, &acc[a].id, &herr) != 0)
            abort();
    }
    struct netb *nb = octo_calloc(1, sizeof(*nb));
    uv_loop_init(&nb->loop);
    uv_timer_init(&nb->loop, &nb->timer);
    struct octo_identity me;
    if (octo_identity_generate(&me) != 0)
        abort();
    struct octo_net_config nc = {.identity = &me, .clock = octo_sysclock()};
    if (started != n || octo_net_create(&nb->net, &nb->loop, &nc) != 0 ||
        octo_net_start(nb->net) != 0) {
        fprintf(stderr, "bench_chain: %d of %d validators started\n", started, n);
        goto done;
    }
    nb->n = n;
    for (int i = 0; i < n; i++) {
        struct vnode *v = &nb->nodes[i];
        struct octo_pubkey pk;
        memcpy(pk.bytes, g.validators[i].address, 32);
        octo_peerid_from_pubkey(&pk, &v->id);
        v->addr = g.validators[i].addrs[0];
        if (octo_net_dial(nb->net, &v->addr, dialed, v) != 0)
            abort();
    }
    run_for(nb, 2000); /* connections up, the first views settled */

    /* idle: empty blocks */
    reset_finality(nb);
    run_for(nb, b->quick ? 2000 : 5000);
    double p50, p99;
    finality(nb, &p50, &p99);
    octo_bench_report(b, "finality_idle_p50", p50, "ms", params);
    octo_bench_report(b, "finality_idle_p99", p99, "ms", params);

    /* load: waves of transfers, two in flight per account */
    uint8_t to[32];
    memset(to, 0x5c, 32);
    uint64_t base = txs_applied(nb);
    reset_finality(nb);
    uint64_t window_ns = (b->quick ? 5 : 15) * OCTO_NS_PER_S;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double limit = (double)(cores > 0 ? cores : 1) * 1e9 / ((double)n * g_verify_tx_ns);
    struct presigned ps;
    /* as many as the verification limit allows in the window, and two waves more (at most
     * 64 waves: 128 MiB; a faster machine signs the rest as it goes) */
    uint64_t waves_pre =
        2 + (uint64_t)(limit * (double)(window_ns / OCTO_NS_PER_S)) / (WAVE * (uint64_t)n_acc);
    presign(&ps, acc, n_acc, g.chain_id, to, waves_pre < 64 ? waves_pre : 64);
    send_wave(nb, &ps, acc, n_acc, g.chain_id, to);
    send_wave(nb, &ps, acc, n_acc, g.chain_id, to);
    uint64_t sent = 2 * WAVE * (uint64_t)n_acc, waves = 2;
    uint64_t t0 = octo_bench_now_ns(), t_end = t0 + window_ns, last = base;
    while (octo_bench_now_ns() < t_end) {
        run_for(nb, 20);
        uint64_t now_applied = txs_applied(nb);
        if (now_applied > last)
            last = now_applied;
        /* a wave is finalized: send the next one (the one before stays in flight) */
        if (last - base >= (waves - 1) * WAVE * (uint64_t)n_acc) {
            send_wave(nb, &ps, acc, n_acc, g.chain_id, to);
            sent += WAVE * (uint64_t)n_acc;
            waves++;
        }
    }
    uint64_t t1 = octo_bench_now_ns();
    double tps = (double)(last - base) / ((double)(t1 - t0) / 1e9);
    finality(nb, &p50, &p99);
    octo_bench_report(b, "transfers_per_s", tps, "tx/s", params);
    /* the machine's ceiling: every validator checks every transfer's signature once, sharing
     * the cores, and does nothing else */
    octo_bench_report(b, "transfers_verify_limit", limit, "tx/s", params);
    octo_free(ps.buf);
    octo_bench_report(b, "finality_load_p50", p50, "ms", params);
    octo_bench_report(b, "finality_load_p99", p99, "ms", params);
    (void)sent;
done:
    if (nb->net != NULL) {
        octo_net_shutdown(nb->net, NULL, NULL);
        run_for(nb, 200);
        octo_net_destroy(nb->net);
    }
    uv_close((uv_handle_t *)&nb->timer, NULL);
    uv_run(&nb->loop, UV_RUN_NOWAIT);
    uv_loop_close(&nb->loop);
    for (int i = 0; i < n; i++)
        octo_free(nb->nodes[i].q);
    octo_free(nb);
    octo_identity_deinit(&me);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    for (int a = 0; a < n_acc; a++)
        octo_identity_deinit(&acc[a].id);
    octo_free(acc);
    octo_genesis_deinit(&g);
    static struct octo_bench_argv rm;
    rm.used = 0;
    rm.argc = 0;
    octo_bench_arg(&rm, "/bin/rm");
    octo_bench_arg(&rm, "-rf");
    octo_bench_arg(&rm, dir);
    run_wait(rm.argv);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "chain", argc, argv);
    if (octo_crypto_init() != 0)
        return 1;
    make_keys();
    double verify_ns = bench_verify(&b);
    g_verify_ns = verify_ns;
    bench_transfers(&b);
    bench_settle(&b);
    const char *only = getenv("BENCH_CHAIN_VALIDATORS"); /* one network size only */
    for (int n = 4; n <= 16; n += 12) {
        if (only != NULL && strtol(only, NULL, 10) != n)
            continue;
        char params[64];
        snprintf(params, sizeof(params), "\"validators\":%d", n);
        /* the signature checks a validator does per block: about 2n votes */
        octo_bench_report(&b, "verify_per_block", 2.0 * n * verify_ns / 1e6, "ms", params);
        bench_network(&b, n);
    }
    for (int k = 0; k < KEYS; k++)
        octo_identity_deinit(&g_keys[k]);
    return 0;
}
