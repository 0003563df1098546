/*
 * test_net.c — the network shell in one process: two nets on one libuv loop over loopback.
 * Covers dialing with and without the expected peer id, streams and echo, the connection
 * limit, the per-IP inbound rate limit, the handshake timeout for a silent socket, the idle
 * close, and a graceful shutdown that leaves nothing allocated (the harness's leak check).
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "net/net.h"
#include "node/sysclock.h"
#include "store/peerstore.h"
#include "store/store.h"
#include "test.h"

#include <string.h>

struct world {
    uv_loop_t loop;
    struct octo_net *server, *client;
    struct octo_identity sid, cid;
    struct octo_multiaddr addr; /* server's bound address */
    int dial_status;
    bool dialed;
    struct octo_peerid peer;
};

static struct octo_multiaddr any_port(void)
{
    struct octo_multiaddr ma;
    OCTO_ASSERT(octo_multiaddr_from_text("/ip4/127.0.0.1/tcp/0", &ma) == 0);
    return ma;
}

static int world_init2(struct world *w, const struct octo_net_config *server_extra,
                       const struct octo_net_config *client_extra);

static int world_init(struct world *w, const struct octo_net_config *server_extra)
{
    struct octo_net_config none = {0};
    return world_init2(w, server_extra, &none);
}

static int world_init2(struct world *w, const struct octo_net_config *server_extra,
                       const struct octo_net_config *client_extra)
{
    memset(w, 0, sizeof(*w));
    uv_loop_init(&w->loop);
    if (octo_identity_generate(&w->sid) < 0 || octo_identity_generate(&w->cid) < 0)
        return -1;
    struct octo_multiaddr listen = any_port();
    struct octo_net_config s = *server_extra;
    s.identity = &w->sid;
    s.clock = octo_sysclock();
    s.listen = &listen;
    s.listen_count = 1;
    s.test_protocols = true;
    struct octo_net_config c = *client_extra;
    c.identity = &w->cid;
    c.clock = octo_sysclock();
    if (octo_net_create(&w->server, &w->loop, &s) < 0 || octo_net_start(w->server) < 0 ||
        octo_net_create(&w->client, &w->loop, &c) < 0 || octo_net_start(w->client) < 0)
        return -1;
    return octo_net_listen_addrs(w->server, &w->addr, 1) == 1 ? 0 : -1;
}

static void world_deinit(struct world *w)
{
    octo_net_shutdown(w->server, NULL, NULL);
    octo_net_shutdown(w->client, NULL, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    octo_net_destroy(w->server);
    octo_net_destroy(w->client);
    OCTO_ASSERT(uv_loop_close(&w->loop) == 0);
    octo_identity_deinit(&w->sid);
    octo_identity_deinit(&w->cid);
}

static void on_dial(struct octo_net *n, int status, const struct octo_peerid *peer, void *ctx)
{
    (void)n;
    struct world *w = ctx;
    w->dialed = true;
    w->dial_status = status;
    if (peer != NULL)
        w->peer = *peer;
}

/* Runs the loop until cond holds or ms pass. */
static bool run_until(struct world *w, bool (*cond)(struct world *), unsigned ms)
{
    uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
    while (!cond(w) && uv_hrtime() < end)
        uv_run(&w->loop, UV_RUN_ONCE);
    return cond(w);
}

static bool is_dialed(struct world *w)
{
    return w->dialed;
}

/* Dials the server and waits: the dial status, or OCTO_ETIMEDOUT. */
static int world_connect(struct world *w)
{
    w->dialed = false;
    int rc = octo_net_dial(w->client, &w->addr, on_dial, w);
    if (rc < 0)
        return rc;
    return run_until(w, is_dialed, 5000) ? w->dial_status : OCTO_ETIMEDOUT;
}

static void test_dial_and_expected_peer(void)
{
    struct world w;
    struct octo_net_config extra = {0};
    CHECK_OK(world_init(&w, &extra));
    CHECK_OK(world_connect(&w));
    CHECK(octo_peerid_equal(&w.peer, octo_net_local_peer(w.server)));
    CHECK_EQ_U64(octo_net_stats(w.client)->muxer_inlined, 1);
    /* with /p2p of someone else the handshake must fail */
    struct octo_multiaddr wrong = w.addr;
    const struct octo_peerid *me = octo_net_local_peer(w.client);
    CHECK_OK(octo_multiaddr_push(&wrong, OCTO_MA_P2P, me->bytes, me->len));
    CHECK_ERR(octo_net_dial(w.client, &wrong, on_dial, &w), OCTO_EINVAL); /* that is us */
    struct octo_identity other;
    CHECK_OK(octo_identity_generate(&other));
    struct octo_peerid op;
    octo_peerid_from_pubkey(&other.pub, &op);
    octo_identity_deinit(&other);
    wrong = w.addr;
    CHECK_OK(octo_multiaddr_push(&wrong, OCTO_MA_P2P, op.bytes, op.len));
    w.dialed = false;
    CHECK_OK(octo_net_dial(w.client, &wrong, on_dial, &w));
    CHECK(run_until(&w, is_dialed, 5000));
    CHECK(w.dial_status < 0);
    CHECK(octo_net_stats(w.server)->handshakes_failed +
              octo_net_stats(w.client)->handshakes_failed >
          0);
    world_deinit(&w);
}

/* ---- echo stream ---- */

struct echo_client {
    struct world *w;
    uint8_t sent[300000];
    size_t off;
    uint8_t got[300000];
    size_t got_len;
    bool ended;
    int closed_status;
    bool closed;
};

static void ec_send(struct octo_net_stream *s, struct echo_client *e)
{
    while (e->off < sizeof(e->sent)) {
        int n = octo_net_stream_write(s, e->sent + e->off, sizeof(e->sent) - e->off);
        if (n <= 0)
            return;
        e->off += (size_t)n;
    }
    OCTO_IGNORE(octo_net_stream_close(s));
}

static void ec_open(struct octo_net_stream *s, int status, void *ctx)
{
    if (status == 0)
        ec_send(s, ctx);
}

static void ec_writable(struct octo_net_stream *s, void *ctx)
{
    ec_send(s, ctx);
}

static void ec_data(struct octo_net_stream *s, const uint8_t *d, size_t len, void *ctx)
{
    (void)s;
    struct echo_client *e = ctx;
    if (e->got_len + len <= sizeof(e->got))
        memcpy(e->got + e->got_len, d, len);
    e->got_len += len;
}

static void ec_end(struct octo_net_stream *s, void *ctx)
{
    (void)s;
    ((struct echo_client *)ctx)->ended = true;
}

static void ec_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    struct echo_client *e = ctx;
    e->closed = true;
    e->closed_status = status;
}

static struct echo_client *g_echo;
static bool echo_done(struct world *w)
{
    (void)w;
    return g_echo->closed;
}

static void test_echo_stream(void)
{
    struct world w;
    struct octo_net_config extra = {0};
    CHECK_OK(world_init(&w, &extra));
    CHECK_OK(world_connect(&w));
    struct echo_client *e = octo_calloc(1, sizeof(*e));
    for (size_t i = 0; i < sizeof(e->sent); i++)
        e->sent[i] = (uint8_t)(i * 7 + 3);
    static const struct octo_net_stream_ops ops = {.on_open = ec_open,
                                                   .on_data = ec_data,
                                                   .on_end = ec_end,
                                                   .on_writable = ec_writable,
                                                   .on_close = ec_close};
    g_echo = e;
    CHECK_OK(octo_net_stream_open(w.client, &w.peer, OCTO_NET_ECHO_PROTOCOL, &ops, e, NULL));
    CHECK(run_until(&w, echo_done, 10000));
    CHECK(e->ended);
    CHECK_OK(e->closed_status);
    CHECK_EQ_U64(e->got_len, sizeof(e->sent));
    CHECK_MEM(e->got, e->sent, sizeof(e->sent));
    /* an unknown protocol is refused without harming the connection */
    e->closed = false;
    CHECK_OK(octo_net_stream_open(w.client, &w.peer, "/no/such/1.0.0", &ops, e, NULL));
    CHECK(run_until(&w, echo_done, 5000));
    CHECK(e->closed_status < 0);
    CHECK_ERR(octo_net_stream_open(w.client, octo_net_local_peer(w.client), "/x/1", &ops, e, NULL),
              OCTO_ENOTFOUND);
    octo_free(e);
    world_deinit(&w);
}

/* ---- limits ---- */

struct raw {
    uv_tcp_t tcp;
    uv_connect_t req;
    bool connected, eof;
};

static void raw_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    static char buf[4096];
    (void)s;
    *b = uv_buf_init(buf, sizeof(buf));
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n < 0)
        ((struct raw *)s->data)->eof = true;
}

static void raw_connected(uv_connect_t *req, int status)
{
    struct raw *r = req->data;
    r->connected = status == 0;
    if (status == 0)
        uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
    else
        r->eof = true;
}

static struct raw g_raw[4];
static bool raws_closed(struct world *w)
{
    (void)w;
    return g_raw[0].eof && g_raw[1].eof && g_raw[2].eof;
}

static void raw_connect(struct world *w, struct raw *r)
{
    struct sockaddr_storage ss;
    OCTO_ASSERT(octo_net_multiaddr_to_sockaddr(&w->addr, &ss, NULL, NULL) == 0);
    memset(r, 0, sizeof(*r));
    uv_tcp_init(&w->loop, &r->tcp);
    r->tcp.data = r;
    r->req.data = r;
    OCTO_ASSERT(uv_tcp_connect(&r->req, &r->tcp, (struct sockaddr *)&ss, raw_connected) == 0);
}

static void test_limits_and_timeouts(void)
{
    struct world w;
    /* 2 connections per IP per second; silent sockets dropped after 300 ms */
    struct octo_net_config extra = {.inbound_per_ip_per_s = 2, .handshake_timeout_ms = 300};
    CHECK_OK(world_init(&w, &extra));
    for (int i = 0; i < 3; i++)
        raw_connect(&w, &g_raw[i]);
    CHECK(run_until(&w, raws_closed, 3000));
    const struct octo_net_stats *st = octo_net_stats(w.server);
    CHECK_EQ_U64(st->conns_rejected_rate, 1);
    CHECK_EQ_U64(st->handshake_timeouts, 2);
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&g_raw[i].tcp, NULL);
    world_deinit(&w);
}

static bool idle_closed(struct world *w)
{
    return octo_net_stats(w->server)->conns_idle_closed > 0;
}

static void test_idle_close_and_conn_limit(void)
{
    struct world w;
    struct octo_net_config extra = {.idle_timeout_ms = 400, .conns_max = 1};
    CHECK_OK(world_init(&w, &extra));
    CHECK_OK(world_connect(&w));
    /* the only slot is taken: a second connection is refused at once */
    raw_connect(&w, &g_raw[0]);
    g_raw[1].eof = g_raw[2].eof = true;
    CHECK(run_until(&w, raws_closed, 3000));
    CHECK_EQ_U64(octo_net_stats(w.server)->conns_rejected_limit, 1);
    uv_close((uv_handle_t *)&g_raw[0].tcp, NULL);
    /* identify ended, no streams: the connection is closed as idle */
    CHECK(run_until(&w, idle_closed, 3000));
    world_deinit(&w);
}

/* A peer that does not inline the muxer in Noise: the connection falls back to a
 * multistream round for /yamux/1.0.0 and works as before; identify reaches the peerstore. */
static void test_muxer_fallback_and_peerstore(void)
{
    const char *dir = octo_test_tmpdir("net");
    char db[512];
    snprintf(db, sizeof(db), "%s/octo.db", dir);
    struct octo_store *store = NULL;
    CHECK_OK(octo_store_open_sqlite(&store, db, NULL));
    CHECK_OK(octo_store_migrate_node(store));
    struct world w;
    struct octo_net_config server = {.store = store};
    struct octo_net_config client = {.no_inline_muxer = true};
    CHECK_OK(world_init2(&w, &server, &client));
    CHECK_OK(world_connect(&w));
    struct echo_client *e = octo_calloc(1, sizeof(*e));
    static const struct octo_net_stream_ops ops = {.on_open = ec_open,
                                                   .on_data = ec_data,
                                                   .on_end = ec_end,
                                                   .on_writable = ec_writable,
                                                   .on_close = ec_close};
    g_echo = e;
    CHECK_OK(octo_net_stream_open(w.client, &w.peer, OCTO_NET_ECHO_PROTOCOL, &ops, e, NULL));
    CHECK(run_until(&w, echo_done, 10000));
    CHECK_EQ_U64(e->got_len, sizeof(e->sent));
    CHECK_EQ_U64(octo_net_stats(w.client)->muxer_via_multistream, 1);
    CHECK_EQ_U64(octo_net_stats(w.server)->muxer_via_multistream, 1);
    CHECK_EQ_U64(octo_net_stats(w.server)->muxer_inlined, 0);
    octo_free(e);
    world_deinit(&w);
    /* the server identified the client and recorded it */
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, store, 0);
    uint64_t count = 0;
    CHECK_OK(octo_peerstore_count(&ps, &count));
    CHECK_EQ_U64(count, 1);
    octo_store_close(store);
    octo_test_rmtree(dir);
}

int main(void)
{
    if (octo_crypto_init() < 0)
        return 1;
    OCTO_RUN(test_dial_and_expected_peer);
    OCTO_RUN(test_echo_stream);
    OCTO_RUN(test_limits_and_timeouts);
    OCTO_RUN(test_idle_close_and_conn_limit);
    OCTO_RUN(test_muxer_fallback_and_peerstore);
    return octo_test_finish();
}
