/*
 * test_consensus.c — the consensus core (chain/consensus.h) driven directly:
 *  - configuration checks; the leader schedule (deterministic, shares by stake);
 *  - four validators on a lossless in-memory network finalize a chain, every node the same
 *    blocks in height order, votes persisted before they are sent;
 *  - bad input: malformed bytes, an unknown signer, a bad signature, a proposal from a
 *    non-leader, stale and far-future views, an underweight certificate — each refused with
 *    its reason and counted, nothing else changes;
 *  - evidence for two NOTARIZE votes of one validator in one view;
 *  - a restart from the persisted votes does not vote again in a view already voted in.
 * The deterministic simulator (tests/sim/sim_cons.c) covers faults, crashes and Twins.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "chain/consensus.h"
#include "crypto/hash.h"
#include "test.h"

#include <string.h>

#define N 4

struct net {
    struct octo_identity keys[N];
    struct octo_cons_validator val[N];
    struct octo_cons_config cfg;
    struct octo_cons nodes[N];
    struct octo_cons_out *out;
    /* a FIFO of messages in flight */
    struct msg {
        int from, to;
        size_t len;
        uint8_t *data;
    } q[4096];
    size_t head, tail;
    /* what each node finalized, and persisted */
    uint8_t fin[N][64][32];
    size_t n_fin[N];
    uint8_t *wal[N][1024];
    size_t wal_len[N][1024], n_wal[N];
    uint64_t need_view[N];
    bool sent_before_persist;
};

static struct octo_cons_anchor genesis(void)
{
    struct octo_cons_anchor a = {0};
    octo_sha256("genesis", 7, a.id);
    return a;
}

static void net_init(struct net *n, const uint64_t *weights)
{
    memset(n, 0, sizeof(*n));
    for (int i = 0; i < N; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)};
        OCTO_ASSERT(octo_identity_from_seed(&n->keys[i], seed) == 0);
        memcpy(n->val[i].pk, n->keys[i].pub.bytes, 32);
        n->val[i].weight = weights != NULL ? weights[i] : 1;
    }
    octo_sha256("chain", 5, n->cfg.chain_id);
    octo_sha256("seed", 4, n->cfg.seed);
    n->cfg.validators = n->val;
    n->cfg.n_validators = N;
    n->cfg.delta_ms = 100;
    n->out = octo_calloc(1, sizeof(*n->out));
    OCTO_ASSERT(n->out != NULL);
}

static void net_deinit(struct net *n)
{
    for (int i = 0; i < N; i++) {
        octo_cons_deinit(&n->nodes[i]);
        octo_identity_deinit(&n->keys[i]);
        for (size_t w = 0; w < n->n_wal[i]; w++)
            octo_free(n->wal[i][w]);
    }
    while (n->head < n->tail)
        octo_free(n->q[n->head++ % 4096].data);
    octo_free(n->out);
}

/* Carries out node i's actions: persist, queue sends, note leadership and finalizations. */
static void run(struct net *n, int i)
{
    for (size_t k = 0; k < n->out->n; k++) {
        const struct octo_cons_action *a = &n->out->acts[k];
        if (a->kind == OCTO_CONS_ACT_PERSIST) {
            OCTO_ASSERT(n->n_wal[i] < 1024);
            uint8_t *copy = octo_malloc(a->len);
            memcpy(copy, a->data, a->len);
            n->wal[i][n->n_wal[i]] = copy;
            n->wal_len[i][n->n_wal[i]++] = a->len;
            continue;
        }
        if (a->kind == OCTO_CONS_ACT_SEND) {
            /* an own vote (109 bytes, type 2, signer i) is sent only once it is in the log */
            if (a->len == OCTO_CONS_VOTE_LEN && a->data[1] == OCTO_CONS_MSG_VOTE &&
                ((a->data[107 - 64] << 8) | a->data[108 - 64]) == i) {
                bool logged = false;
                for (size_t w = 0; w < n->n_wal[i] && !logged; w++)
                    logged =
                        n->wal_len[i][w] == a->len && memcmp(n->wal[i][w], a->data, a->len) == 0;
                n->sent_before_persist = n->sent_before_persist || !logged;
            }
            for (int j = 0; j < N; j++) {
                if (j == i || (a->to != OCTO_CONS_TO_ALL && a->to != (uint32_t)j))
                    continue;
                OCTO_ASSERT(n->tail - n->head < 4096);
                struct msg *m = &n->q[n->tail++ % 4096];
                m->from = i;
                m->to = j;
                m->len = a->len;
                m->data = octo_malloc(a->len);
                memcpy(m->data, a->data, a->len);
            }
        } else if (a->kind == OCTO_CONS_ACT_NEED_PAYLOAD) {
            n->need_view[i] = a->view;
        } else if (a->kind == OCTO_CONS_ACT_FINALIZED && n->n_fin[i] < 64) {
            memcpy(n->fin[i][n->n_fin[i]++], a->id, 32);
        }
    }
}

/* Delivers messages (and proposals) until the network is quiet or `limit` were delivered. */
static void pump(struct net *n, uint64_t now, size_t limit)
{
    for (size_t d = 0; d < limit; d++) {
        for (int i = 0; i < N; i++) {
            if (n->need_view[i] != 0) {
                uint64_t v = n->need_view[i];
                n->need_view[i] = 0;
                uint8_t payload[8] = {(uint8_t)v, (uint8_t)i};
                if (octo_cons_propose(&n->nodes[i], now, v, payload, sizeof(payload), n->out) == 0)
                    run(n, i);
            }
        }
        if (n->head == n->tail)
            return;
        struct msg m = n->q[n->head++ % 4096];
        (void)octo_cons_receive(&n->nodes[m.to], now, (uint32_t)m.from, m.data, m.len, n->out);
        run(n, m.to);
        octo_free(m.data);
    }
}

static void start_all(struct net *n)
{
    struct octo_cons_anchor g = genesis();
    for (int i = 0; i < N; i++) {
        OCTO_ASSERT(octo_cons_init(&n->nodes[i], &n->cfg, &n->keys[i], &g) == 0);
        octo_cons_start(&n->nodes[i], 0, n->out);
        run(n, i);
    }
}

static void test_config(void)
{
    static struct net n;
    net_init(&n, NULL);
    struct octo_cons c;
    struct octo_cons_anchor g = genesis();
    struct octo_cons_config bad = n.cfg;
    bad.n_validators = 0;
    CHECK_EQ_INT(octo_cons_init(&c, &bad, NULL, &g), OCTO_EINVAL);
    bad = n.cfg;
    bad.delta_ms = 0;
    CHECK_EQ_INT(octo_cons_init(&c, &bad, NULL, &g), OCTO_EINVAL);
    struct octo_cons_validator zero[N];
    memcpy(zero, n.val, sizeof(zero));
    zero[2].weight = 0;
    bad = n.cfg;
    bad.validators = zero;
    CHECK_EQ_INT(octo_cons_init(&c, &bad, NULL, &g), OCTO_EINVAL);
    struct octo_identity stranger;
    uint8_t seed[32] = {99};
    CHECK(octo_identity_from_seed(&stranger, seed) == 0);
    CHECK_EQ_INT(octo_cons_init(&c, &n.cfg, &stranger, &g), OCTO_EINVAL);
    octo_identity_deinit(&stranger);
    CHECK_EQ_INT(octo_cons_init(&c, &n.cfg, NULL, &g), 0); /* a follower */
    octo_cons_deinit(&c);
    net_deinit(&n);
}

static void test_leader_schedule(void)
{
    static struct net n;
    static const uint64_t w[N] = {10, 20, 30, 40};
    net_init(&n, w);
    struct octo_cons_anchor g = genesis();
    struct octo_cons a, b;
    CHECK(octo_cons_init(&a, &n.cfg, NULL, &g) == 0);
    CHECK(octo_cons_init(&b, &n.cfg, NULL, &g) == 0);
    unsigned count[N] = {0};
    bool same = true;
    for (uint64_t v = 1; v <= 20000; v++) {
        uint32_t l = octo_cons_leader(&a, v);
        same = same && l == octo_cons_leader(&b, v);
        CHECK(l < N);
        count[l]++;
    }
    octo_cons_deinit(&a);
    octo_cons_deinit(&b);
    net_deinit(&n);
    CHECK(same);
    for (int i = 0; i < N; i++) { /* 20000 * w/100 = 2000..8000, within 10 % */
        CHECK(count[i] > 200 * w[i] * 9 / 10);
        CHECK(count[i] < 200 * w[i] * 11 / 10);
    }
}

static void test_finalizes(void)
{
    static struct net n;
    net_init(&n, NULL);
    start_all(&n);
    pump(&n, 1, 1500); /* about 50 views */
    for (int i = 0; i < N; i++) {
        CHECK(n.n_fin[i] >= 20 && n.n_fin[i] < 64);
        size_t m = n.n_fin[i] < n.n_fin[0] ? n.n_fin[i] : n.n_fin[0];
        CHECK(memcmp(n.fin[i], n.fin[0], m * 32) == 0); /* the same blocks at every height */
        CHECK_EQ_INT(octo_cons_finalized(&n.nodes[i]).height, n.n_fin[i]);
        CHECK(octo_cons_stats(&n.nodes[i])->evidence == 0);
    }
    CHECK(!n.sent_before_persist);
    net_deinit(&n);
}

/* The certificate of the last finalization, as the blockstore keeps it for a set's end: a
 * follower that knows only genesis accepts it and asks for the block it names. */
static void test_final_cert(void)
{
    static struct net n;
    net_init(&n, NULL);
    start_all(&n);
    pump(&n, 1, 600);
    struct octo_cons_anchor fin = octo_cons_finalized(&n.nodes[1]);
    CHECK(fin.height >= 5);
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_CERT};
    CHECK_OK(octo_cons_final_cert(&n.nodes[1], fin.view, fin.id, &m.u.cert));
    CHECK_EQ_INT(m.u.cert.kind, OCTO_CONS_FINALIZE);
    CHECK_EQ_U64(m.u.cert.view, fin.view);
    CHECK(memcmp(m.u.cert.block, fin.id, 32) == 0);
    struct octo_cons_cert other;
    uint8_t wrong[32] = {1};
    CHECK_EQ_INT(octo_cons_final_cert(&n.nodes[1], fin.view, wrong, &other), OCTO_ENOTFOUND);
    CHECK_EQ_INT(octo_cons_final_cert(&n.nodes[1], fin.view + 5, fin.id, &other), OCTO_ENOTFOUND);
    static uint8_t enc[8192];
    int len = octo_cons_msg_encode(&m, enc, sizeof(enc));
    CHECK(len > 0);
    struct octo_cons f;
    struct octo_cons_anchor g = genesis();
    CHECK_OK(octo_cons_init(&f, &n.cfg, NULL, &g));
    octo_cons_start(&f, 1, n.out);
    CHECK_OK(octo_cons_receive(&f, 2, OCTO_CONS_TO_ALL, enc, (size_t)len, n.out));
    bool asked = false;
    for (size_t k = 0; k < n.out->n; k++) {
        const struct octo_cons_action *a = &n.out->acts[k];
        asked = asked || (a->kind == OCTO_CONS_ACT_SEND && a->data[1] == OCTO_CONS_MSG_BLOCK_REQ &&
                          memcmp(a->data + 2, fin.id, 32) == 0);
    }
    CHECK(asked);
    /* one signature changed: refused, nothing asked */
    m.u.cert.sigs[0][5] ^= 1;
    len = octo_cons_msg_encode(&m, enc, sizeof(enc));
    struct octo_cons f2;
    CHECK_OK(octo_cons_init(&f2, &n.cfg, NULL, &g));
    octo_cons_start(&f2, 1, n.out);
    CHECK(octo_cons_receive(&f2, 2, OCTO_CONS_TO_ALL, enc, (size_t)len, n.out) != 0);
    CHECK_EQ_U64(octo_cons_stats(&f2)->bad_signature, 1);
    octo_cons_deinit(&f);
    octo_cons_deinit(&f2);
    net_deinit(&n);
}

/* A signed vote of validator `who` as bytes. */
static size_t vote_bytes(struct net *n, int who, uint8_t kind, uint64_t view, const uint8_t *block,
                         uint8_t *out)
{
    struct octo_cons_msg m = {.type = OCTO_CONS_MSG_VOTE};
    m.u.vote.kind = kind;
    m.u.vote.view = view;
    memcpy(m.u.vote.block, block, 32);
    m.u.vote.signer = (uint16_t)who;
    uint8_t msg[OCTO_CONS_VOTE_SIGNED_MAX];
    size_t len = octo_cons_vote_signed(n->cfg.chain_id, kind, view, block, msg);
    octo_identity_sign(&n->keys[who], msg, len, m.u.vote.sig);
    int rc = octo_cons_msg_encode(&m, out, OCTO_CONS_VOTE_LEN);
    OCTO_ASSERT(rc == OCTO_CONS_VOTE_LEN);
    return (size_t)rc;
}

static void test_bad_input(void)
{
    static struct net n;
    net_init(&n, NULL);
    start_all(&n);
    struct octo_cons *c = &n.nodes[0];
    uint8_t v[OCTO_CONS_VOTE_LEN], blk[32] = {7};
    CHECK_EQ_INT(octo_cons_receive(c, 1, 1, (const uint8_t *)"junk", 4, n.out), OCTO_EMALFORMED);
    CHECK_EQ_INT(octo_cons_stats(c)->malformed, 1);
    /* signer 9: not in the set of 4 */
    vote_bytes(&n, 1, OCTO_CONS_NOTARIZE, 1, blk, v);
    v[107 - 64] = 0;
    v[108 - 64] = 9;
    CHECK_EQ_INT(octo_cons_receive(c, 1, 1, v, sizeof(v), n.out), OCTO_EPERM);
    CHECK_EQ_INT(octo_cons_stats(c)->not_validator, 1);
    /* a flipped signature bit */
    vote_bytes(&n, 1, OCTO_CONS_NOTARIZE, 1, blk, v);
    v[sizeof(v) - 1] ^= 1;
    CHECK_EQ_INT(octo_cons_receive(c, 1, 1, v, sizeof(v), n.out), OCTO_EBADSIG);
    CHECK_EQ_INT(octo_cons_stats(c)->bad_signature, 1);
    /* far beyond the window */
    vote_bytes(&n, 1, OCTO_CONS_SKIP, OCTO_CONS_WINDOW + 5, (const uint8_t[32]){0}, v);
    CHECK_EQ_INT(octo_cons_receive(c, 1, 1, v, sizeof(v), n.out), OCTO_ERANGE);
    CHECK_EQ_INT(octo_cons_stats(c)->too_far, 1);
    /* a proposal signed by a validator that does not lead its view */
    uint32_t leader = octo_cons_leader(c, 1), other = (leader + 1) % N;
    struct octo_cons_msg pm = {.type = OCTO_CONS_MSG_PROPOSAL};
    pm.u.proposal.block.view = 1;
    pm.u.proposal.block.height = 1;
    struct octo_cons_anchor g = genesis();
    memcpy(pm.u.proposal.block.parent, g.id, 32);
    pm.u.proposal.payload = (const uint8_t *)"x";
    pm.u.proposal.payload_len = 1;
    pm.u.proposal.signer = (uint16_t)other;
    uint8_t enc[256];
    int len = octo_cons_msg_encode(&pm, enc, sizeof(enc));
    CHECK(len > 0);
    CHECK_EQ_INT(octo_cons_receive(c, 1, other, enc, (size_t)len, n.out), OCTO_EPERM);
    CHECK_EQ_INT(octo_cons_stats(c)->not_leader, 1);
    /* a certificate with one signer of four: under the quorum */
    struct octo_cons_msg cm = {.type = OCTO_CONS_MSG_CERT};
    cm.u.cert.kind = OCTO_CONS_SKIP;
    cm.u.cert.view = 1;
    cm.u.cert.signers = 1u << 1;
    vote_bytes(&n, 1, OCTO_CONS_SKIP, 1, (const uint8_t[32]){0}, v);
    memcpy(cm.u.cert.sigs[0], v + OCTO_CONS_VOTE_LEN - 64, 64);
    static uint8_t cenc[OCTO_CONS_CERT_MAX];
    len = octo_cons_msg_encode(&cm, cenc, sizeof(cenc));
    CHECK(len > 0);
    CHECK_EQ_INT(octo_cons_receive(c, 1, 1, cenc, (size_t)len, n.out), OCTO_EMALFORMED);
    CHECK_EQ_INT(octo_cons_view(c), 1); /* nothing moved */
    /* everyone finalizes afterwards all the same */
    pump(&n, 2, 2500);
    CHECK(octo_cons_finalized(c).height >= 10);
    /* an old view is stale now */
    vote_bytes(&n, 1, OCTO_CONS_SKIP, 1, (const uint8_t[32]){0}, v);
    CHECK_EQ_INT(octo_cons_receive(c, 3, 1, v, sizeof(v), n.out), OCTO_ESTATE);
    net_deinit(&n);
}

static void test_evidence(void)
{
    static struct net n;
    net_init(&n, NULL);
    struct octo_cons_anchor g = genesis();
    struct octo_cons c;
    CHECK(octo_cons_init(&c, &n.cfg, NULL, &g) == 0);
    octo_cons_start(&c, 0, n.out);
    uint8_t v[OCTO_CONS_VOTE_LEN], a[32] = {1}, b[32] = {2};
    vote_bytes(&n, 2, OCTO_CONS_NOTARIZE, 1, a, v);
    CHECK_EQ_INT(octo_cons_receive(&c, 1, 2, v, sizeof(v), n.out), 0);
    vote_bytes(&n, 2, OCTO_CONS_NOTARIZE, 1, b, v);
    CHECK_EQ_INT(octo_cons_receive(&c, 1, 2, v, sizeof(v), n.out), 0);
    bool found = false;
    for (size_t k = 0; k < n.out->n; k++)
        if (n.out->acts[k].kind == OCTO_CONS_ACT_EVIDENCE && n.out->acts[k].to == 2)
            found = n.out->acts[k].len == 8 + 2 * OCTO_CONS_VOTE_LEN;
    CHECK(found);
    CHECK_EQ_INT(octo_cons_stats(&c)->evidence, 1);
    octo_cons_deinit(&c);
    net_deinit(&n);
}

/* A validator that votes for made-up blocks first (NOTARIZE X, FINALIZE Y) takes no room from
 * the real block: the others still notarize and finalize it, and its real votes are evidence. */
static void test_vote_crowding(void)
{
    static struct net n;
    net_init(&n, NULL);
    start_all(&n);
    uint8_t v[OCTO_CONS_VOTE_LEN], x[32] = {0xa1}, y[32] = {0xb2};
    for (int i = 0; i < 3; i++) {
        vote_bytes(&n, 3, OCTO_CONS_NOTARIZE, 1, x, v);
        CHECK_EQ_INT(octo_cons_receive(&n.nodes[i], 1, 3, v, sizeof(v), n.out), 0);
        run(&n, i);
        vote_bytes(&n, 3, OCTO_CONS_FINALIZE, 1, y, v);
        CHECK_EQ_INT(octo_cons_receive(&n.nodes[i], 1, 3, v, sizeof(v), n.out), 0);
        run(&n, i);
    }
    pump(&n, 1, 1500);
    for (int i = 0; i < 3; i++) {
        CHECK(octo_cons_finalized(&n.nodes[i]).height >= 10);
        CHECK(octo_cons_stats(&n.nodes[i])->evidence >= 1);
    }
    net_deinit(&n);
}

static void test_restart_keeps_votes(void)
{
    static struct net n;
    net_init(&n, NULL);
    start_all(&n);
    pump(&n, 1, 20); /* some votes, a FINALIZE among them */
    int who = -1;
    for (int i = 0; i < N && who < 0; i++)
        for (size_t w = 0; w < n.n_wal[i]; w++)
            if (n.wal_len[i][w] == OCTO_CONS_VOTE_LEN && n.wal[i][w][2] == OCTO_CONS_FINALIZE)
                who = i;
    CHECK(who >= 0);
    /* restart `who` from its persisted records */
    octo_cons_deinit(&n.nodes[who]);
    struct octo_cons_anchor g = genesis();
    CHECK(octo_cons_init(&n.nodes[who], &n.cfg, &n.keys[who], &g) == 0);
    for (size_t w = 0; w < n.n_wal[who]; w++)
        CHECK_EQ_INT(octo_cons_restore(&n.nodes[who], n.wal[who][w], n.wal_len[who][w]), 0);
    size_t before = n.n_wal[who];
    octo_cons_start(&n.nodes[who], 2, n.out);
    run(&n, who);
    CHECK_EQ_INT(n.n_wal[who], before); /* nothing voted again */
    /* long past every deadline: it may skip, but never in a view it voted FINALIZE in (which
     * it would, had the records not been replayed) */
    octo_cons_tick(&n.nodes[who], 100000, n.out);
    run(&n, who);
    for (size_t w = before; w < n.n_wal[who]; w++) {
        if (n.wal_len[who][w] != OCTO_CONS_VOTE_LEN || n.wal[who][w][2] != OCTO_CONS_SKIP)
            continue;
        for (size_t o = 0; o < before; o++)
            CHECK(!(n.wal_len[who][o] == OCTO_CONS_VOTE_LEN &&
                    n.wal[who][o][2] == OCTO_CONS_FINALIZE &&
                    memcmp(n.wal[who][o] + 3, n.wal[who][w] + 3, 8) == 0));
    }
    /* another validator's vote is not an own record */
    uint8_t v[OCTO_CONS_VOTE_LEN], blk[32] = {3};
    vote_bytes(&n, (who + 1) % N, OCTO_CONS_NOTARIZE, 1, blk, v);
    CHECK_EQ_INT(octo_cons_restore(&n.nodes[who], v, sizeof(v)), OCTO_EMALFORMED);
    pump(&n, 3, 2500);
    CHECK(octo_cons_finalized(&n.nodes[who]).height >= 10);
    net_deinit(&n);
}

int main(void)
{
    OCTO_RUN(test_config);
    OCTO_RUN(test_leader_schedule);
    OCTO_RUN(test_finalizes);
    OCTO_RUN(test_final_cert);
    OCTO_RUN(test_bad_input);
    OCTO_RUN(test_evidence);
    OCTO_RUN(test_vote_crowding);
    OCTO_RUN(test_restart_keeps_votes);
    return octo_test_finish();
}
