/*
 * test_chainstore.c — the blockstore (store/chainstore.h).
 *
 * Against SQLite and, with OCTO_TEST_PG set, PostgreSQL (testdb.h): genesis written once (the
 * same genesis again is EEXIST, another is ECONFIG); blocks only at the next height; objects
 * replaced by index; the state loaded back in index order with its meta record; blocks by
 * height and by id; transactions found with their block, position and result.
 *
 * Crash safety with the real ledger (SQLite): a forked child runs a chain of deterministic
 * blocks through chain/ledger and commits each to the store, acknowledging the height on a
 * pipe after the commit returns. The parent SIGKILLs it at a random moment, then reopens the
 * store: the stored height is the last acknowledged one or the one in flight; the state loads
 * (its root checked against the meta record) and equals a reference ledger that replayed the
 * same blocks from scratch; every block row is there with the payload it should have. The
 * next child resumes from the stored state, so each round also proves a restart that neither
 * skips nor repeats a block.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "chain/ledger.h"
#include "store/chainstore.h"
#include "test.h"
#include "testdb.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- backend tests on raw bytes ------------------------------------------------------------ */

static const uint8_t G1[32] = {1}, G2[32] = {2};

static void fill_id(uint8_t *id, uint8_t tag, uint64_t n)
{
    memset(id, tag, 32);
    memcpy(id, &n, sizeof(n));
}

/* Block h of a test chain; even heights end a validator set and carry a proof. */
static int commit_raw(struct octo_store *s, uint64_t h)
{
    uint8_t proof[40];
    memset(proof, (int)(0x70 + h), sizeof(proof));
    uint8_t payload[100], results[3] = {0, 2, 17}, ids[3][32], meta[16];
    memset(payload, (int)h, sizeof(payload));
    for (int i = 0; i < 3; i++)
        fill_id(ids[i], (uint8_t)(0x40 + i), h);
    struct octo_chainstore_block b = {
        .height = h,
        .view = h + 3,
        .parent_view = h + 2,
        .signer = 2,
        .payload = payload,
        .payload_len = sizeof(payload),
        .results = results,
        .n_results = 3,
        .tx_ids = (const uint8_t(*)[32])ids,
        .proof = h % 2 == 0 ? proof : NULL,
        .proof_len = h % 2 == 0 ? sizeof(proof) - h : 0,
    };
    fill_id(b.id, 0xb1, h);
    fill_id(b.parent, 0xb1, h - 1);
    memset(b.sig, 0x51, sizeof(b.sig));
    uint8_t e1[4] = {1, 1, 1, (uint8_t)h}, e2[5] = {2, 2, 2, 2, (uint8_t)h};
    struct octo_chainstore_object objs[] = {{1, e1, sizeof(e1)},
                                            {(uint32_t)(2 + h), e2, sizeof(e2)}};
    memset(meta, (int)h, sizeof(meta));
    return octo_chainstore_commit(s, &b, objs, 2, meta, sizeof(meta));
}

struct loaded {
    uint32_t n;
    uint32_t idx[64];
    uint8_t first[64];
    size_t meta_len;
    uint8_t meta0;
};

static int on_obj(void *ctx, uint32_t idx, const uint8_t *enc, size_t len)
{
    struct loaded *l = ctx;
    if (l->n == 64 || len == 0)
        return -1;
    l->idx[l->n] = idx;
    l->first[l->n++] = enc[len - 1];
    return 0;
}

static int on_meta(void *ctx, const uint8_t *meta, size_t len)
{
    struct loaded *l = ctx;
    l->meta_len = len;
    l->meta0 = meta[0];
    return 0;
}

static int got_block(void *ctx, const struct octo_chainstore_block *b)
{
    struct octo_chainstore_block *out = ctx;
    *out = *b;
    out->payload = NULL;
    out->results = NULL;
    return (b->payload_len == 100 && b->payload[0] == (uint8_t)b->height && b->n_results == 3 &&
            b->results[2] == 17)
               ? 0
               : OCTO_EINVAL;
}

static void test_chainstore_basics(void)
{
    struct octo_store *s = NULL;
    CHECK_OK(tdb_open_fresh(&s, "chainstore"));
    CHECK_OK(octo_store_migrate_node(s));
    uint64_t h;
    uint8_t g[32];
    CHECK_EQ_INT(octo_chainstore_head(s, &h, g), OCTO_ENOTFOUND);
    uint8_t e0[3] = {9, 9, 0}, meta[8] = {0};
    struct octo_chainstore_object objs[] = {{0, e0, 3}, {1, e0, 3}, {2, e0, 3}};
    CHECK_OK(octo_chainstore_init(s, G1, objs, 3, meta, sizeof(meta)));
    CHECK_EQ_INT(octo_chainstore_init(s, G1, objs, 3, meta, sizeof(meta)), OCTO_EEXIST);
    CHECK_EQ_INT(octo_chainstore_init(s, G2, objs, 3, meta, sizeof(meta)), OCTO_ECONFIG);
    CHECK_OK(octo_chainstore_head(s, &h, g));
    CHECK_EQ_U64(h, 0);
    CHECK(memcmp(g, G1, 32) == 0);
    CHECK_EQ_INT(commit_raw(s, 2), OCTO_ESTATE); /* not the next height */
    for (uint64_t k = 1; k <= 4; k++) {
        int rc = commit_raw(s, k);
        if (rc != 0)
            fprintf(stderr, "commit: %s\n", octo_store_errmsg(s));
        CHECK_OK(rc);
    }
    CHECK_EQ_INT(commit_raw(s, 4), OCTO_ESTATE); /* never twice */
    CHECK_OK(octo_chainstore_head(s, &h, NULL));
    CHECK_EQ_U64(h, 4);
    struct loaded l;
    memset(&l, 0, sizeof(l));
    CHECK_OK(octo_chainstore_load(s, on_obj, on_meta, &l));
    CHECK_EQ_U64(l.n, 7); /* 0..2 from genesis, then 3..6 */
    for (uint32_t i = 0; i < l.n; i++)
        CHECK_EQ_U64(l.idx[i], i);
    CHECK_EQ_INT(l.first[1], 4); /* object 1 as block 4 left it */
    CHECK_EQ_INT(l.first[0], 0);
    CHECK_EQ_U64(l.meta_len, 16);
    CHECK_EQ_INT(l.meta0, 4);
    struct octo_chainstore_block b;
    CHECK_OK(octo_chainstore_block(s, 3, NULL, got_block, &b));
    CHECK_EQ_U64(b.view, 6);
    CHECK_EQ_U64(b.parent_view, 5);
    CHECK_EQ_INT(b.signer, 2);
    CHECK_EQ_INT(b.sig[63], 0x51);
    uint8_t id[32];
    fill_id(id, 0xb1, 2);
    CHECK_OK(octo_chainstore_block(s, 0, id, got_block, &b));
    CHECK_EQ_U64(b.height, 2);
    CHECK_EQ_INT(octo_chainstore_block(s, 9, NULL, got_block, &b), OCTO_ENOTFOUND);
    fill_id(id, 0xb1, 9);
    CHECK_EQ_INT(octo_chainstore_block(s, 0, id, got_block, &b), OCTO_ENOTFOUND);
    struct octo_chainstore_txloc loc;
    fill_id(id, 0x42, 3);
    CHECK_OK(octo_chainstore_tx(s, id, &loc));
    CHECK_EQ_U64(loc.height, 3);
    CHECK_EQ_U64(loc.pos, 2);
    CHECK_EQ_INT(loc.result, 17);
    fill_id(id, 0x43, 3);
    CHECK_EQ_INT(octo_chainstore_tx(s, id, &loc), OCTO_ENOTFOUND);
    /* finality proofs: the first one above a height */
    static uint8_t proof[OCTO_CHAINSTORE_PROOF_MAX];
    CHECK_EQ_INT(octo_chainstore_proof_after(s, 0, &h, proof, sizeof(proof)), 38);
    CHECK_EQ_U64(h, 2);
    CHECK_EQ_INT(proof[37], 0x72);
    CHECK_EQ_INT(octo_chainstore_proof_after(s, 2, &h, proof, sizeof(proof)), 36);
    CHECK_EQ_U64(h, 4);
    CHECK_EQ_INT(proof[0], 0x74);
    CHECK_EQ_INT(octo_chainstore_proof_after(s, 4, &h, proof, sizeof(proof)), OCTO_ENOTFOUND);
    /* a bad meta record or proof is refused before anything is written */
    CHECK_EQ_INT(octo_chainstore_commit(s, &b, NULL, 0, meta, 0), OCTO_EINVAL);
    b.height = 5;
    b.payload = proof;
    b.proof = proof;
    b.proof_len = OCTO_CHAINSTORE_PROOF_MAX + 1;
    CHECK_EQ_INT(octo_chainstore_commit(s, &b, NULL, 0, meta, sizeof(meta)), OCTO_EINVAL);
    CHECK_OK(octo_chainstore_head(s, &h, NULL));
    CHECK_EQ_U64(h, 4);
    octo_store_close(s);
}

/* ---- crash safety with the ledger ---------------------------------------------------------- */

#define NK 8
static struct octo_ledger_alloc g_alloc[NK];
static struct octo_ledger_genesis_validator g_val;
static struct octo_ledger_genesis g_gen;
static const uint8_t g_hk[16] = {7};

static void addr_of(int k, uint8_t out[32])
{
    memset(out, 0x20 + k, 32);
}

static void genesis(void)
{
    memset(&g_gen, 0, sizeof(g_gen));
    memset(g_gen.chain_id, 0xcc, 32);
    g_gen.time_ms = 1000;
    octo_ledger_params_default(&g_gen.params);
    memset(g_gen.params.treasury, 0x0e, 32);
    memset(g_gen.params.governance, 0x0f, 32);
    for (int k = 0; k < NK; k++) {
        addr_of(k, g_alloc[k].addr);
        g_alloc[k].amount[OCTO_TOKEN_OCTO] = 1000000 * OCTO_UNIT;
    }
    g_gen.allocs = g_alloc;
    g_gen.n_allocs = NK;
    memset(g_val.pk, 0x77, 32);
    g_val.stake = 10000 * OCTO_UNIT;
    g_gen.validators = &g_val;
    g_gen.n_validators = 1;
}

/* Block h of the test chain (depends on h only; the nonces follow from the blocks before):
 * up to 40 transfers among NK accounts, some to new addresses. Unsigned: apply does not check
 * signatures, and this tests the store. */
static uint64_t g_nonce[NK];
static int build_block(uint64_t h, uint8_t *out, size_t cap, struct octo_block_scratch *s)
{
    uint64_t r = h * 0x9e3779b97f4a7c15u + 12345;
    struct octo_block_builder b;
    octo_block_build_init(&b, out, cap);
    uint32_t n = (uint32_t)(h % 41);
    for (uint32_t i = 0; i < n; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int from = (int)(r % NK);
        struct octo_tx t;
        memset(&t, 0, sizeof(t));
        t.type = OCTO_TX_TRANSFER;
        addr_of(from, t.from);
        t.nonce = g_nonce[from]++;
        t.fee = OCTO_UNIT / 1000;
        memset(t.u.transfer.to, (int)(0x80 + (r >> 8) % 64), 32);
        t.u.transfer.amount = 1 + (r >> 20) % 1000;
        uint8_t buf[256];
        int len = octo_tx_encode(&t, buf, sizeof(buf));
        OCTO_ASSERT(len > 0 && octo_block_build_add(&b, buf, (size_t)len) == 0);
    }
    uint8_t root[32] = {0};
    return octo_block_build_finish(&b, 1000 + h * 1000, h - 1, root, s);
}

struct chain {
    struct octo_ledger l;
    struct octo_block_scratch *s;
    uint8_t *payload;
};

static void chain_open(struct chain *c)
{
    genesis();
    memset(g_nonce, 0, sizeof(g_nonce));
    OCTO_ASSERT(octo_ledger_init(&c->l, &g_gen, g_hk) == 0);
    c->s = octo_malloc(sizeof(*c->s));
    c->payload = octo_malloc(OCTO_CONS_PAYLOAD_MAX);
    OCTO_ASSERT(c->s != NULL && c->payload != NULL);
}

static void chain_close(struct chain *c)
{
    octo_ledger_deinit(&c->l);
    octo_free(c->s);
    octo_free(c->payload);
}

/* Applies block h; returns its payload length (the payload in c->payload). */
static int chain_step(struct chain *c, uint64_t h, uint8_t *results)
{
    int len = build_block(h, c->payload, OCTO_CONS_PAYLOAD_MAX, c->s);
    OCTO_ASSERT(len > 0);
    struct octo_block_hdr hdr;
    OCTO_ASSERT(octo_block_parse(c->payload, (size_t)len, &hdr, c->s->txs) == 0);
    struct octo_ledger_block_ctx ctx = {.height = h, .time_ms = hdr.time_ms};
    memset(ctx.proposer, 0x77, 32);
    OCTO_ASSERT(octo_ledger_apply(&c->l, &ctx, c->s->txs, hdr.n_tx, results) == 0);
    return len;
}

/* The objects the last apply (or init) changed, as the store wants them. */
static size_t changed_objects(const struct octo_ledger *l, struct octo_chainstore_object **objs,
                              uint8_t **bytes)
{
    const uint32_t *idx;
    size_t n = octo_ledger_changed(l, &idx);
    *objs = octo_malloc((n ? n : 1) * sizeof(**objs));
    *bytes = octo_malloc((n ? n : 1) * OCTO_LEDGER_OBJECT_MAX_LEN);
    OCTO_ASSERT(*objs != NULL && *bytes != NULL);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = *bytes + i * OCTO_LEDGER_OBJECT_MAX_LEN;
        int len = octo_ledger_object(l, idx[i], p, OCTO_LEDGER_OBJECT_MAX_LEN);
        OCTO_ASSERT(len > 0);
        (*objs)[i] = (struct octo_chainstore_object){idx[i], p, (size_t)len};
    }
    return n;
}

static int commit_step(struct octo_store *st, struct chain *c, uint64_t h, int len,
                       const uint8_t *results)
{
    struct octo_block_hdr hdr;
    OCTO_ASSERT(octo_block_parse(c->payload, (size_t)len, &hdr, c->s->txs) == 0);
    static uint8_t ids[OCTO_BLOCK_TXS_MAX][32];
    for (uint32_t i = 0; i < hdr.n_tx; i++)
        octo_tx_id(c->s->txs[i].p, c->s->txs[i].len, ids[i]);
    struct octo_chainstore_block b = {.height = h,
                                      .view = h,
                                      .parent_view = h - 1,
                                      .payload = c->payload,
                                      .payload_len = (size_t)len,
                                      .results = results,
                                      .n_results = hdr.n_tx,
                                      .tx_ids = (const uint8_t(*)[32])ids};
    fill_id(b.id, 0xb1, h);
    fill_id(b.parent, 0xb1, h - 1);
    struct octo_chainstore_object *objs;
    uint8_t *bytes, meta[OCTO_LEDGER_META_MAX];
    size_t n = changed_objects(&c->l, &objs, &bytes);
    size_t mlen = octo_ledger_meta(&c->l, meta);
    int rc = octo_chainstore_commit(st, &b, objs, n, meta, mlen);
    octo_free(objs);
    octo_free(bytes);
    return rc;
}

static int load_obj(void *ctx, uint32_t idx, const uint8_t *enc, size_t len)
{
    return octo_ledger_load_object(ctx, idx, enc, len);
}

static int load_meta(void *ctx, const uint8_t *meta, size_t len)
{
    return octo_ledger_load_meta(ctx, meta, len);
}

/* A ledger with the stored state (nonces recomputed by replaying the generator). */
static int chain_resume(struct octo_store *st, struct chain *c, uint64_t *height)
{
    chain_open(c);
    int rc = octo_chainstore_load(st, load_obj, load_meta, &c->l);
    if (rc != 0)
        return rc;
    *height = octo_ledger_height(&c->l);
    /* the generator's nonces for blocks after the stored height */
    struct octo_block_scratch *s = c->s;
    for (uint64_t h = 1; h <= *height; h++)
        OCTO_ASSERT(build_block(h, c->payload, OCTO_CONS_PAYLOAD_MAX, s) > 0);
    return 0;
}

static _Noreturn void crash_child(const char *path, int wfd)
{
    struct octo_store *st = NULL;
    if (octo_store_open_sqlite(&st, path, NULL) < 0 || octo_store_migrate_node(st) < 0)
        _exit(2);
    struct chain c;
    uint64_t h = 0;
    uint64_t stored;
    if (octo_chainstore_head(st, &stored, NULL) == OCTO_ENOTFOUND) {
        chain_open(&c);
        struct octo_chainstore_object *objs;
        uint8_t *bytes, meta[OCTO_LEDGER_META_MAX];
        size_t n = changed_objects(&c.l, &objs, &bytes);
        size_t mlen = octo_ledger_meta(&c.l, meta);
        uint8_t gh[32];
        memset(gh, 0x99, 32);
        if (octo_chainstore_init(st, gh, objs, n, meta, mlen) < 0)
            _exit(3);
    } else if (chain_resume(st, &c, &h) != 0) {
        _exit(4);
    }
    static uint8_t results[OCTO_BLOCK_TXS_MAX];
    for (;;) {
        h++;
        int len = chain_step(&c, h, results);
        if (commit_step(st, &c, h, len, results) < 0)
            _exit(5);
        if (write(wfd, &h, sizeof(h)) != (ssize_t)sizeof(h))
            _exit(6);
    }
}

struct same_payload {
    const uint8_t *want;
    size_t len;
    bool same;
};

static int same_payload(void *ctx, const struct octo_chainstore_block *b)
{
    struct same_payload *sp = ctx;
    sp->same = b->payload_len == sp->len && memcmp(b->payload, sp->want, sp->len) == 0;
    return 0;
}

static void check_stored(const char *path, uint64_t acked, uint64_t *out_height)
{
    struct octo_store *st = NULL;
    CHECK_OK(octo_store_open_sqlite(&st, path, NULL));
    struct chain c;
    uint64_t h = 0;
    CHECK_OK(chain_resume(st, &c, &h)); /* the meta root matches the objects */
    CHECK(h >= acked && h <= acked + 1);
    struct chain ref;
    chain_open(&ref);
    static uint8_t results[OCTO_BLOCK_TXS_MAX];
    for (uint64_t k = 1; k <= h; k++) {
        int len = chain_step(&ref, k, results);
        struct same_payload sp = {ref.payload, (size_t)len, false};
        CHECK_OK(octo_chainstore_block(st, k, NULL, same_payload, &sp));
        CHECK(sp.same);
    }
    uint8_t a[32], r[32];
    octo_ledger_root(&c.l, a);
    octo_ledger_root(&ref.l, r);
    CHECK(memcmp(a, r, 32) == 0);
    struct same_payload none = {NULL, 0, false};
    CHECK_EQ_INT(octo_chainstore_block(st, h + 1, NULL, same_payload, &none), OCTO_ENOTFOUND);
    chain_close(&ref);
    chain_close(&c);
    octo_store_close(st);
    *out_height = h;
}

/* Five rounds of: run a child from the stored state, kill it after some acknowledgements,
 * check what the store holds. */
static void test_crash_resume(void)
{
    const char *dir = octo_test_tmpdir("chainstore-crash");
    char path[512];
    snprintf(path, sizeof(path), "%s/chain.db", dir);
    uint64_t acked = 0, height = 0;
    for (int round = 0; round < 5; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(path, fds[1]);
        }
        close(fds[1]);
        int wait_for = 5 + round * 7; /* acknowledgements before the kill */
        for (int i = 0; i < wait_for; i++) {
            uint64_t h;
            if (octo_test_read_full(fds[0], &h, sizeof(h)) != 1)
                break;
            CHECK_EQ_U64(h, acked + 1); /* resumed exactly after the stored height */
            acked = h;
        }
        usleep((useconds_t)(round * 1300));
        kill(pid, SIGKILL);
        uint64_t h;
        while (octo_test_read_full(fds[0], &h, sizeof(h)) == 1) {
            CHECK_EQ_U64(h, acked + 1);
            acked = h;
        }
        close(fds[0]);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        check_stored(path, acked, &height);
        acked = height; /* a commit in flight at the kill may have landed */
    }
    CHECK(height >= 5 + 12 + 19 + 26 + 33);
    octo_test_rmtree(dir);
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    if (tdb_init("chainstore") != 0)
        return 1;
    TDB_RUN(test_chainstore_basics);
    OCTO_RUN(test_crash_resume);
    tdb_done();
    return octo_test_finish();
}
