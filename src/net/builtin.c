/*
 * builtin.c — the protocols every node speaks: identify (/ipfs/id/1.0.0) both ways,
 * identify-push (/ipfs/id/push/1.0.0) inbound, ping (/ipfs/ping/1.0.0) both ways, and, when
 * cfg.test_protocols is set, /octo/echo/1.0.0 (echo everything, then close) and
 * /perf/1.0.0 (the libp2p perf shape: u64 BE byte count, upload, close; then that many bytes
 * back). Each stream's state is one octo_malloc'd object freed in its on_close.
 *
 * Identify: on every new connection we ask the peer; what it says is checked (its public key
 * must be the connection's peer), logged, written to the peerstore when the node has a store,
 * and reported to the net's identify callback. We answer with our key, listen addresses,
 * protocols, the address we see the peer at, and a signed peer record.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "crypto/random.h"
#include "net/net_int.h"
#include "p2p/identify.h"
#include "p2p/ping.h"
#include "store/peerstore.h"

#include <string.h>

#define IDENTIFY_OUT_MAX (OCTO_IDENTIFY_MESSAGE_MAX + 16)
#define ECHO_PENDING_MAX (1024u * 1024u)

/* ---- identify ---- */

struct identify_in {
    struct octo_net *net;
    bool is_request; /* our request on a new connection (not a push) */
    struct octo_identify_reader reader;
    bool failed;
    bool got_one;
};

static void record_peer(struct octo_net *n, const struct octo_peerid *peer,
                        const struct octo_identify_info *info)
{
    struct octo_multiaddr addrs[OCTO_IDENTIFY_ADDRS_MAX];
    size_t count = 0;
    for (size_t i = 0; i < info->listen_addrs_count && count < OCTO_IDENTIFY_ADDRS_MAX; i++) {
        if (octo_multiaddr_from_bytes(info->listen_addrs[i].data, info->listen_addrs[i].len,
                                      &addrs[count]) == 0)
            count++;
    }
    struct octo_net_peer_info pi = {
        .peer = peer,
        .agent_version = info->agent_version != NULL ? info->agent_version : "",
        .protocol_version = info->protocol_version != NULL ? info->protocol_version : "",
        .protocols = info->protocols,
        .protocols_count = info->protocols_count,
        .listen_addrs = addrs,
        .listen_addrs_count = count,
        .has_observed_addr = false,
    };
    if (info->has_observed_addr &&
        octo_multiaddr_from_bytes(info->observed_addr.data, info->observed_addr.len,
                                  &pi.observed_addr) == 0)
        pi.has_observed_addr = true;
    char id[OCTO_PEERID_TEXT_MAX];
    if (octo_peerid_to_base58(peer, id, sizeof(id)) < 0)
        id[0] = '\0';
    OCTO_INFO("identified peer %s agent=\"%s\" protocols=%zu addrs=%zu", id, pi.agent_version,
              pi.protocols_count, count);
    if (n->cfg.store != NULL) {
        struct octo_peer_addr paddrs[OCTO_PEER_ADDRS_MAX];
        size_t pc = 0;
        for (size_t i = 0; i < count && pc < OCTO_PEER_ADDRS_MAX; i++)
            paddrs[pc++] = (struct octo_peer_addr){addrs[i].bytes, addrs[i].len};
        const char *protos[OCTO_PEER_PROTOCOLS_MAX];
        size_t prc = 0;
        for (size_t i = 0; i < info->protocols_count && prc < OCTO_PEER_PROTOCOLS_MAX; i++) {
            if (strlen(info->protocols[i]) <= OCTO_PEER_PROTOCOL_MAX)
                protos[prc++] = info->protocols[i];
        }
        struct octo_peerstore_entry e = {
            .id = peer->bytes,
            .id_len = peer->len,
            .pubkey = info->has_public_key ? info->public_key.data : NULL,
            .pubkey_len = info->has_public_key ? info->public_key.len : 0,
            .agent =
                info->agent_version != NULL && strlen(info->agent_version) <= OCTO_PEER_AGENT_MAX
                    ? info->agent_version
                    : NULL,
            .addrs = paddrs,
            .addr_count = pc,
            .protocols = protos,
            .protocol_count = prc,
            .last_seen_ms = octo_clock_wall(n->cfg.clock) / (int64_t)OCTO_NS_PER_MS,
        };
        struct octo_peerstore ps;
        octo_peerstore_init(&ps, n->cfg.store, 0);
        int rc = octo_peerstore_put(&ps, &e);
        if (rc < 0)
            OCTO_WARN("peerstore: cannot record %s: %s", id, octo_strerror(rc));
    }
    if (n->identify_cb != NULL)
        n->identify_cb(n, &pi, n->identify_ctx);
}

static void identify_message(struct octo_net_stream *s, struct identify_in *st, const uint8_t *msg,
                             size_t len)
{
    struct octo_arena arena;
    octo_arena_init(&arena, OCTO_IDENTIFY_ARENA_MIN, OCTO_IDENTIFY_ARENA_MIN);
    struct octo_identify_info info;
    int rc = octo_identify_decode(msg, len, &info, &arena);
    if (rc == 0)
        rc = octo_identify_check_peer(&info, octo_net_stream_peer(s));
    if (rc < 0) {
        st->failed = true;
        st->net->stats.identify_failed++;
        OCTO_WARN("identify from peer rejected: %s", octo_strerror(rc));
    } else {
        st->got_one = true;
        st->net->stats.identify_ok++;
        octo__stream_conn(s)->identified = true;
        record_peer(st->net, octo_net_stream_peer(s), &info);
    }
    octo_arena_deinit(&arena);
}

static void identify_in_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct identify_in *st = ctx;
    while (len > 0 && !st->failed) {
        int n = octo_identify_reader_recv(&st->reader, data, len);
        if (n < 0) {
            st->failed = true;
            st->net->stats.identify_failed++;
            octo_net_stream_reset(s);
            return;
        }
        data += n;
        len -= (size_t)n;
        const uint8_t *msg;
        size_t mlen;
        while (octo_identify_reader_next(&st->reader, &msg, &mlen))
            identify_message(s, st, msg, mlen);
        if (n == 0 && len > 0)
            break;
    }
}

static void identify_in_end(struct octo_net_stream *s, void *ctx)
{
    struct identify_in *st = ctx;
    if (octo_identify_reader_finish(&st->reader) < 0 && !st->failed)
        st->net->stats.identify_failed++;
    OCTO_IGNORE(octo_net_stream_close(s));
}

static void identify_in_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)status;
    struct identify_in *st = ctx;
    if (st->is_request)
        octo__conn_dial_done(octo__stream_conn(s));
    octo_free(st);
}

static const struct octo_net_stream_ops identify_in_ops = {
    .on_data = identify_in_data,
    .on_end = identify_in_end,
    .on_close = identify_in_close,
};

static struct identify_in *identify_in_new(struct octo_net *n)
{
    struct identify_in *st = octo_calloc(1, sizeof(*st));
    if (st != NULL) {
        st->net = n;
        octo_identify_reader_init(&st->reader);
    }
    return st;
}

/* Our answer, written whole (it is far below the initial yamux window) and followed by FIN. */
static void identify_serve(struct octo_net_stream *s, void *ctx)
{
    struct octo_net *n = ctx;
    struct net_conn *c = octo__stream_conn(s);
    uint8_t pubkey[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&n->identity.pub, pubkey);
    struct octo_identify_info info = {
        .has_public_key = true,
        .public_key = {pubkey, sizeof(pubkey)},
        .protocols_count = n->handler_count,
        .has_observed_addr = c->remote_addr.len > 0,
        .observed_addr = {c->remote_addr.bytes, c->remote_addr.len},
        .protocol_version = "ipfs/0.1.0",
        .agent_version = n->agent,
    };
    for (size_t i = 0; i < n->handler_count; i++)
        info.protocols[i] = n->handler_protocols[i];
    struct octo_multiaddr addrs[OCTO_NET_LISTEN_MAX];
    size_t count = octo_net_listen_addrs(n, addrs, OCTO_NET_LISTEN_MAX);
    for (size_t i = 0; i < count; i++)
        info.listen_addrs[i] = (struct octo_identify_bytes){addrs[i].bytes, addrs[i].len};
    info.listen_addrs_count = count;
    struct octo_buf record, out;
    octo_buf_init(&record, OCTO_IDENTIFY_RECORD_MAX);
    octo_buf_init(&out, IDENTIFY_OUT_MAX);
    uint64_t seq = (uint64_t)(octo_clock_wall(n->cfg.clock) / (int64_t)OCTO_NS_PER_MS);
    if (octo_peer_record_seal(&n->identity, seq, addrs, count, &record) == 0) {
        info.has_signed_peer_record = true;
        info.signed_peer_record = (struct octo_identify_bytes){record.data, record.len};
    }
    int rc = octo_identify_encode(&info, &out);
    if (rc == 0 && octo_net_stream_write(s, out.data, out.len) == (int)out.len)
        OCTO_IGNORE(octo_net_stream_close(s));
    else
        octo_net_stream_reset(s);
    octo_buf_deinit(&record);
    octo_buf_deinit(&out);
}

static void identify_serve_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    (void)status;
    (void)ctx;
}

static const struct octo_net_stream_ops identify_serve_ops = {.on_close = identify_serve_close};

static void identify_handler(struct octo_net_stream *s, void *ctx)
{
    octo_net_stream_set_ops(s, &identify_serve_ops, NULL);
    identify_serve(s, ctx);
}

static void identify_push_handler(struct octo_net_stream *s, void *ctx)
{
    struct identify_in *st = identify_in_new(ctx);
    if (st == NULL)
        return; /* no ops: the stream is reset */
    octo_net_stream_set_ops(s, &identify_in_ops, st);
}

static void identify_request_open(struct octo_net_stream *s, int status, void *ctx)
{
    (void)ctx;
    if (status == 0)
        OCTO_IGNORE(octo_net_stream_close(s)); /* we send nothing; the answer follows */
}

void octo__builtin_conn_ready(struct net_conn *c)
{
    struct identify_in *st = identify_in_new(c->net);
    if (st == NULL) {
        octo__conn_dial_done(c);
        return;
    }
    static const struct octo_net_stream_ops request_ops = {
        .on_open = identify_request_open,
        .on_data = identify_in_data,
        .on_end = identify_in_end,
        .on_close = identify_in_close,
    };
    st->is_request = true;
    /* on this connection, not whichever one find_peer would pick */
    if (octo__stream_open_on(c, OCTO_IDENTIFY_PROTOCOL, &request_ops, st, NULL) < 0) {
        octo_free(st);
        octo__conn_dial_done(c);
    }
}

/* ---- ping ---- */

struct ping_state {
    struct octo_net *net;
    struct octo_ping ping;
    unsigned remaining;
    octo_net_ping_cb cb;
    void *ctx;
    bool reported;
};

static void ping_flush(struct octo_net_stream *s, struct ping_state *st)
{
    const uint8_t *data;
    size_t len;
    octo_ping_out(&st->ping, &data, &len);
    if (len == 0)
        return;
    int n = octo_net_stream_write(s, data, len);
    if (n > 0)
        octo_ping_out_consume(&st->ping, (size_t)n);
}

static void ping_send_next(struct octo_net_stream *s, struct ping_state *st)
{
    uint8_t payload[OCTO_PING_LEN];
    octo_random_bytes(payload, sizeof(payload));
    if (octo_ping_send(&st->ping, octo__net_now(st->net), payload) < 0) {
        octo_net_stream_reset(s);
        return;
    }
    ping_flush(s, st);
}

static void ping_finish(struct ping_state *st, int status)
{
    if (st->reported || st->cb == NULL)
        return;
    st->reported = true;
    st->cb(st->net, status, 0, true, st->ctx);
}

static void ping_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct ping_state *st = ctx;
    while (len > 0) {
        int n = octo_ping_recv(&st->ping, octo__net_now(st->net), data, len);
        if (n <= 0) {
            /* n == 0: a listener whose echoes are not drained (the peer does not read while
             * it keeps sending). Pings are 32 bytes at a time; such a peer is misbehaving. */
            octo_net_stream_reset(s);
            break;
        }
        data += n;
        len -= (size_t)n;
        struct octo_ping_event ev;
        while (octo_ping_poll(&st->ping, &ev)) {
            if (ev.type != OCTO_PING_EV_RTT) {
                ping_finish(st, OCTO_EPROTO);
                octo_net_stream_reset(s);
                return;
            }
            if (st->cb != NULL)
                st->cb(st->net, 0, ev.rtt_ns, false, st->ctx);
            if (--st->remaining > 0) {
                ping_send_next(s, st);
            } else {
                ping_finish(st, 0);
                OCTO_IGNORE(octo_net_stream_close(s));
            }
        }
        ping_flush(s, st); /* listener side: the echo */
    }
}

static void ping_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct ping_state *st = ctx;
    if (status < 0) {
        ping_finish(st, status);
        return;
    }
    ping_send_next(s, st);
}

static void ping_writable(struct octo_net_stream *s, void *ctx)
{
    ping_flush(s, ctx);
}

static void ping_end(struct octo_net_stream *s, void *ctx)
{
    (void)ctx;
    OCTO_IGNORE(octo_net_stream_close(s));
}

static void ping_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    struct ping_state *st = ctx;
    ping_finish(st, status < 0 ? status : OCTO_ECLOSED);
    octo_ping_deinit(&st->ping);
    octo_free(st);
}

static const struct octo_net_stream_ops ping_ops = {
    .on_open = ping_open,
    .on_data = ping_data,
    .on_end = ping_end,
    .on_writable = ping_writable,
    .on_close = ping_close,
};

static struct ping_state *ping_new(struct octo_net *n, enum octo_ping_role role)
{
    struct ping_state *st = octo_calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->net = n;
    struct octo_ping_config cfg = {.role = role};
    if (octo_ping_init(&st->ping, &cfg) < 0) {
        octo_free(st);
        return NULL;
    }
    return st;
}

static void ping_handler(struct octo_net_stream *s, void *ctx)
{
    struct ping_state *st = ping_new(ctx, OCTO_PING_LISTENER);
    if (st != NULL) {
        st->reported = true; /* nobody to report to */
        octo_net_stream_set_ops(s, &ping_ops, st);
    }
}

int octo_net_ping(struct octo_net *n, const struct octo_peerid *peer, unsigned count,
                  octo_net_ping_cb cb, void *ctx)
{
    if (count == 0)
        return OCTO_EINVAL;
    struct ping_state *st = ping_new(n, OCTO_PING_DIALER);
    if (st == NULL)
        return OCTO_ENOMEM;
    st->remaining = count;
    st->cb = cb;
    st->ctx = ctx;
    int rc = octo_net_stream_open(n, peer, OCTO_PING_PROTOCOL, &ping_ops, st, NULL);
    if (rc < 0) {
        octo_ping_deinit(&st->ping);
        octo_free(st);
    }
    return rc;
}

/* ---- echo (tests) ---- */

struct echo_state {
    struct octo_buf pending;
    bool ended;
};

static void echo_drain(struct octo_net_stream *s, struct echo_state *st)
{
    while (st->pending.len > 0) {
        int n = octo_net_stream_write(s, st->pending.data, st->pending.len);
        if (n <= 0)
            break;
        octo_buf_consume(&st->pending, (size_t)n);
    }
    octo_net_stream_pause(s, st->pending.len > ECHO_PENDING_MAX / 2);
    if (st->pending.len == 0 && st->ended)
        OCTO_IGNORE(octo_net_stream_close(s));
}

static void echo_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct echo_state *st = ctx;
    if (octo_buf_append(&st->pending, data, len) < 0) {
        octo_net_stream_reset(s);
        return;
    }
    echo_drain(s, st);
}

static void echo_writable(struct octo_net_stream *s, void *ctx)
{
    echo_drain(s, ctx);
}

static void echo_end(struct octo_net_stream *s, void *ctx)
{
    struct echo_state *st = ctx;
    st->ended = true;
    echo_drain(s, st);
}

static void echo_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    (void)status;
    struct echo_state *st = ctx;
    octo_buf_deinit(&st->pending);
    octo_free(st);
}

static const struct octo_net_stream_ops echo_ops = {
    .on_data = echo_data,
    .on_end = echo_end,
    .on_writable = echo_writable,
    .on_close = echo_close,
};

static void echo_handler(struct octo_net_stream *s, void *ctx)
{
    (void)ctx;
    struct echo_state *st = octo_calloc(1, sizeof(*st));
    if (st == NULL)
        return;
    octo_buf_init(&st->pending, ECHO_PENDING_MAX + STREAM_READ_CHUNK);
    octo_net_stream_set_ops(s, &echo_ops, st);
}

/* ---- perf (tests, benchmarks) ---- */

struct perf_state {
    uint8_t header[8];
    size_t header_len;
    uint64_t to_send;
    uint64_t received;
    bool sending;
};

static const uint8_t perf_zeros[1024 * 1024]; /* large writes: whole Noise frames */

static void perf_send(struct octo_net_stream *s, struct perf_state *st)
{
    while (st->to_send > 0) {
        size_t chunk = st->to_send < sizeof(perf_zeros) ? (size_t)st->to_send : sizeof(perf_zeros);
        int n = octo_net_stream_write(s, perf_zeros, chunk);
        if (n <= 0)
            return;
        st->to_send -= (uint64_t)n;
    }
    OCTO_IGNORE(octo_net_stream_close(s));
}

static void perf_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    (void)s;
    struct perf_state *st = ctx;
    while (st->header_len < 8 && len > 0) {
        st->header[st->header_len++] = *data++;
        len--;
    }
    st->received += len;
}

static void perf_end(struct octo_net_stream *s, void *ctx)
{
    struct perf_state *st = ctx;
    if (st->header_len < 8) {
        octo_net_stream_reset(s);
        return;
    }
    for (int i = 0; i < 8; i++)
        st->to_send = st->to_send << 8 | st->header[i];
    st->sending = true;
    perf_send(s, st);
}

static void perf_writable(struct octo_net_stream *s, void *ctx)
{
    struct perf_state *st = ctx;
    if (st->sending)
        perf_send(s, st);
}

static void perf_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    (void)status;
    octo_free(ctx);
}

static const struct octo_net_stream_ops perf_ops = {
    .on_data = perf_data,
    .on_end = perf_end,
    .on_writable = perf_writable,
    .on_close = perf_close,
};

static void perf_handler(struct octo_net_stream *s, void *ctx)
{
    (void)ctx;
    struct perf_state *st = octo_calloc(1, sizeof(*st));
    if (st != NULL)
        octo_net_stream_set_ops(s, &perf_ops, st);
}

int octo__builtin_register(struct octo_net *n)
{
    int rc = octo_net_handle(n, OCTO_IDENTIFY_PROTOCOL, identify_handler, n);
    if (rc == 0)
        rc = octo_net_handle(n, OCTO_IDENTIFY_PUSH_PROTOCOL, identify_push_handler, n);
    if (rc == 0)
        rc = octo_net_handle(n, OCTO_PING_PROTOCOL, ping_handler, n);
    if (rc == 0 && n->cfg.test_protocols)
        rc = octo_net_handle(n, OCTO_NET_ECHO_PROTOCOL, echo_handler, n);
    if (rc == 0 && n->cfg.test_protocols)
        rc = octo_net_handle(n, OCTO_NET_PERF_PROTOCOL, perf_handler, n);
    return rc;
}
