/*
 * conn.c — one connection's upgrade pipeline and byte plumbing.
 *
 *   socket bytes -> rx -> [mss /noise] -> noise -> plaintext -> [mss /yamux/1.0.0] -> yamux
 *   yamux out / muxer mss out -> noise_write -> noise out -> socket   (mss /noise out -> socket)
 *
 * octo__conn_pump() moves bytes between the cores until nothing moves; every step is bounded
 * (rx by CONN_RX_MAX, the cores by their own limits, the socket by CONN_WRITE_HIGH), so a
 * fast peer or a slow reader stalls the pipeline instead of growing memory: when rx is full
 * the socket stops being read; when libuv holds CONN_WRITE_HIGH bytes, no more output is
 * taken from Noise, whose write then accepts less, and yamux writes come back short.
 *
 * The pump may be re-entered from callbacks it triggers (a stream handler writing); the
 * in_pump flag turns a nested call into one more round of the outer loop.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "base/mem.h"
#include "crypto/random.h"
#include "net/net_int.h"

#include <string.h>

static const char *const proto_noise[] = {OCTO_NOISE_PROTOCOL_ID};

static void conn_read_start(struct net_conn *c);
static const char *const proto_yamux[] = {OCTO_YAMUX_PROTOCOL_ID};

struct write_req {
    uv_write_t req;
    struct net_conn *conn;
    size_t len;
    uint8_t data[];
};

static void conn_log(const struct net_conn *c, enum octo_log_level level, const char *what,
                     const char *detail)
{
    char addr[OCTO_MULTIADDR_MAX_TEXT] = "?";
    char peer[OCTO_PEERID_TEXT_MAX] = "-";
    if (c->remote_addr.len > 0 && octo_multiaddr_to_text(&c->remote_addr, addr, sizeof(addr)) < 0)
        addr[0] = '\0';
    if (c->peer_known && octo_peerid_to_base58(&c->peer, peer, sizeof(peer)) < 0)
        peer[0] = '\0';
    const char *kv[] = {"remote", addr,
                        "peer",   peer,
                        "dir",    c->outbound ? "out" : "in",
                        "reason", detail != NULL ? detail : "",
                        NULL};
    if (level >= octo_log_level_get())
        octo_log_write(level, "net", what, kv);
}

struct net_conn *octo__conn_new(struct octo_net *n, bool outbound)
{
    struct net_conn *c = octo_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->net = n;
    c->outbound = outbound;
    c->stage = STAGE_TCP;
    octo_buf_init(&c->rx, CONN_RX_MAX);
    uv_tcp_init(n->loop, &c->tcp);
    c->tcp.data = c;
    c->started_ms = octo__net_now_ms(n);
    c->next = n->conns;
    if (n->conns != NULL)
        n->conns->prev = c;
    n->conns = c;
    n->conn_count++;
    n->handles_open++;
    return c;
}

struct net_conn *octo__conn_find_peer(struct octo_net *n, const struct octo_peerid *peer)
{
    struct net_conn *best = NULL;
    for (struct net_conn *c = n->conns; c != NULL; c = c->next) {
        if (c->stage != STAGE_READY || c->closing || !c->peer_known ||
            !octo_peerid_equal(&c->peer, peer))
            continue;
        if (best == NULL || c->started_ms < best->started_ms)
            best = c; /* the oldest connection: both sides pick the same one */
    }
    return best;
}

/* ---- socket input: the bytes not consumed yet ----
 * While the receive buffer is empty, a read is processed straight from libuv's buffer (no
 * copy); only what the cores do not take is copied into rx. rx_off marks the consumed
 * prefix of rx, so consuming is O(1); rx is compacted only before appending. */

static const uint8_t *input(const struct net_conn *c, size_t *len)
{
    if (c->ext != NULL) {
        *len = c->ext_len;
        return c->ext;
    }
    *len = c->rx.len - c->rx_off;
    return c->rx.data + c->rx_off;
}

static void input_consume(struct net_conn *c, size_t n)
{
    if (c->ext != NULL) {
        OCTO_ASSERT(n <= c->ext_len);
        c->ext += n;
        c->ext_len -= n;
        return;
    }
    OCTO_ASSERT(n <= c->rx.len - c->rx_off);
    c->rx_off += n;
    if (c->rx_off == c->rx.len) {
        c->rx.len = 0;
        c->rx_off = 0;
    }
}

static size_t input_len(const struct net_conn *c)
{
    size_t len;
    (void)input(c, &len);
    return len;
}

/* ---- socket output ---- */

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct net_conn *c = w->conn;
    OCTO_ASSERT(c->write_queued >= w->len);
    c->write_queued -= w->len;
    octo_free(w);
    if (c->closing)
        return;
    if (status < 0) {
        octo__conn_close(c, octo_err_from_errno(-status), "write failed");
        return;
    }
    octo__conn_pump(c);
}

/* Hands bytes to the socket; returns how many were taken (0 when over CONN_WRITE_HIGH).
 * With nothing queued, the bytes are first written directly (no copy); only what the kernel
 * does not take at once is copied into a queued write request. */
static size_t socket_write(struct net_conn *c, const uint8_t *data, size_t len)
{
    if (len == 0 || c->socket_closed || c->write_queued >= CONN_WRITE_HIGH)
        return 0;
    size_t direct = 0;
    if (c->write_queued == 0) {
        uv_buf_t b = uv_buf_init((char *)(uintptr_t)data, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n > 0) {
            direct = (size_t)n;
            c->net->stats.bytes_out += direct;
            if (direct == len)
                return len;
            data += direct;
            len -= direct;
        } else if (n < 0 && n != UV_EAGAIN) {
            octo__conn_close(c, octo_err_from_errno(-n), "write failed");
            return 0;
        }
    }
    struct write_req *w = octo_malloc(sizeof(*w) + len);
    if (w == NULL)
        return direct;
    memcpy(w->data, data, len);
    w->conn = c;
    w->len = len;
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
    if (rc < 0) {
        octo_free(w);
        octo__conn_close(c, octo_err_from_errno(-rc), "write failed");
        return direct;
    }
    c->write_queued += len;
    c->net->stats.bytes_out += len;
    return direct + len;
}

/* Noise ciphertext (and the clear-text security negotiation) to the socket. */
static bool flush_socket(struct net_conn *c)
{
    bool moved = false;
    const uint8_t *data;
    size_t len;
    if (c->mss_live && c->stage <= STAGE_MSS_SECURITY) {
        octo_mss_out(&c->mss, &data, &len);
        size_t n = socket_write(c, data, len);
        octo_mss_out_consume(&c->mss, n);
        moved = moved || n > 0;
    }
    if (c->noise_live) {
        octo_noise_out(&c->noise, &data, &len);
        size_t n = socket_write(c, data, len);
        octo_noise_out_consume(&c->noise, n);
        moved = moved || n > 0;
    }
    return moved;
}

void octo__conn_flush_socket(struct net_conn *c)
{
    if (!c->closing)
        flush_socket(c);
}

/* Plaintext producers (muxer negotiation, yamux) into Noise. */
static bool flush_plaintext(struct net_conn *c)
{
    bool moved = false;
    const uint8_t *data;
    size_t len;
    if (!c->noise_live || !octo_noise_established(&c->noise))
        return false;
    if (c->mss_live && c->stage == STAGE_MSS_MUXER) {
        octo_mss_out(&c->mss, &data, &len);
        int n = len > 0 ? octo_noise_write(&c->noise, data, len) : 0;
        if (n < 0) {
            octo__conn_close(c, n, "noise write failed");
            return false;
        }
        octo_mss_out_consume(&c->mss, (size_t)n);
        moved = moved || n > 0;
    }
    if (c->yamux_live) {
        octo_yamux_out(&c->yamux, &data, &len);
        int n = len > 0 ? octo_noise_write(&c->noise, data, len) : 0;
        if (n < 0) {
            octo__conn_close(c, n, "noise write failed");
            return false;
        }
        octo_yamux_out_consume(&c->yamux, (size_t)n);
        moved = moved || n > 0;
    }
    return moved;
}

/* ---- stage transitions ---- */

static int start_noise(struct net_conn *c)
{
    uint8_t eph_sk[32];
    octo_random_bytes(eph_sk, sizeof(eph_sk));
    struct octo_noise_config cfg = {
        .initiator = c->outbound,
        .identity = &c->net->identity,
        .static_secret = c->net->noise_static_sk,
        .static_public = c->net->noise_static_pk,
        .static_sig = c->net->noise_static_sig,
        .ephemeral_secret = eph_sk,
        .expected_peer = c->outbound && c->dial.has_peer ? &c->dial.expected : NULL,
        .muxers = proto_yamux,
        .muxer_count = c->net->cfg.no_inline_muxer ? 0 : 1,
    };
    int rc = octo_noise_init(&c->noise, &cfg);
    octo_wipe(eph_sk, sizeof(eph_sk));
    if (rc < 0)
        return rc;
    c->noise_live = true;
    c->stage = STAGE_NOISE;
    return 0;
}

static int start_mss(struct net_conn *c, const char *const *protocols)
{
    struct octo_mss_config cfg = {
        .role = c->outbound ? OCTO_MSS_DIALER : OCTO_MSS_LISTENER,
        .protocols = protocols,
        .protocols_count = 1,
    };
    int rc = octo_mss_init(&c->mss, &cfg);
    c->mss_live = rc == 0;
    return rc;
}

static void stop_mss(struct net_conn *c)
{
    if (c->mss_live)
        octo_mss_deinit(&c->mss);
    c->mss_live = false;
}

static void conn_ready(struct net_conn *c)
{
    /* a small yamux output keeps it draining into Noise whole, so it is never compacted */
    struct octo_yamux_config ycfg = {.client = c->outbound, .out_max = CONN_YAMUX_OUT_MAX};
    int rc = octo_yamux_init(&c->yamux, &ycfg);
    if (rc < 0) {
        octo__conn_close(c, rc, "yamux init failed");
        return;
    }
    c->yamux_live = true;
    c->stage = STAGE_READY;
    c->idle_since_ms = octo__net_now_ms(c->net);
    c->net->stats.handshakes_ok++;
    c->net->stats.conns_open++;
    conn_log(c, OCTO_LOG_DEBUG, "connection upgraded", NULL);
    /* The dialer is told once identify has run (octo__conn_dial_done): the peer has then
     * finished setting up its side, and js-libp2p resets streams opened before that beyond
     * its small "early streams" allowance. */
    octo__builtin_conn_ready(c);
}

void octo__conn_dial_done(struct net_conn *c)
{
    if (c->dial.cb != NULL && !c->closing) {
        octo_net_dial_cb cb = c->dial.cb;
        c->dial.cb = NULL;
        cb(c->net, 0, &c->peer, c->dial.ctx);
    }
}

/* The clear-text negotiation of /noise. */
static bool step_mss_security(struct net_conn *c)
{
    size_t avail;
    const uint8_t *in = input(c, &avail);
    int n = octo_mss_recv(&c->mss, octo__net_now(c->net), in, avail);
    if (n > 0)
        input_consume(c, (size_t)n);
    struct octo_mss_event ev;
    while (octo_mss_poll(&c->mss, &ev)) {
        if (ev.type == OCTO_MSS_EV_FAILED) {
            octo__conn_close(c, OCTO_EPROTO, ev.detail);
            return false;
        }
        flush_socket(c); /* the echo goes out before the first Noise message */
        if (c->closing)
            return false;
        stop_mss(c);
        int rc = start_noise(c);
        if (rc < 0) {
            octo__conn_close(c, rc, "noise init failed");
            return false;
        }
        return true;
    }
    if (n < 0) {
        octo__conn_close(c, OCTO_EPROTO, "multistream negotiation failed");
        return false;
    }
    return n > 0;
}

static void on_handshake_done(struct net_conn *c, const struct octo_noise_event *ev)
{
    c->peer = ev->remote_peer;
    c->peer_known = true;
    if (ev->has_muxer) {
        if (strcmp(ev->muxer, OCTO_YAMUX_PROTOCOL_ID) != 0) {
            octo__conn_close(c, OCTO_EPROTO, "unsupported muxer");
            return;
        }
        c->net->stats.muxer_inlined++;
        conn_ready(c);
        return;
    }
    /* the peer did not inline the muxer: one more multistream round inside Noise */
    c->net->stats.muxer_via_multistream++;
    int rc = start_mss(c, proto_yamux);
    if (rc < 0) {
        octo__conn_close(c, rc, "mss init failed");
        return;
    }
    c->stage = STAGE_MSS_MUXER;
}

static bool step_noise(struct net_conn *c)
{
    size_t avail;
    const uint8_t *in = input(c, &avail);
    int n = octo_noise_recv(&c->noise, octo__net_now(c->net), in, avail);
    if (n > 0)
        input_consume(c, (size_t)n);
    struct octo_noise_event ev;
    while (octo_noise_poll(&c->noise, &ev)) {
        if (ev.type == OCTO_NOISE_EV_ERROR) {
            c->net->stats.handshakes_failed += c->stage < STAGE_READY;
            octo__conn_close(c, ev.err, ev.reason_str);
            return false;
        }
        on_handshake_done(c, &ev);
        if (c->closing)
            return false;
    }
    if (n < 0) {
        octo__conn_close(c, n, "noise failed");
        return false;
    }
    return n > 0;
}

/* Decrypted bytes to the muxer negotiation or to yamux. */
static bool step_plaintext(struct net_conn *c)
{
    const uint8_t *data;
    size_t len;
    octo_noise_read(&c->noise, &data, &len);
    if (len == 0)
        return false;
    int n;
    if (c->stage == STAGE_MSS_MUXER) {
        n = octo_mss_recv(&c->mss, octo__net_now(c->net), data, len);
        if (n > 0)
            octo_noise_read_consume(&c->noise, (size_t)n);
        struct octo_mss_event ev;
        while (octo_mss_poll(&c->mss, &ev)) {
            if (ev.type == OCTO_MSS_EV_FAILED) {
                octo__conn_close(c, OCTO_EPROTO, ev.detail);
                return false;
            }
            flush_plaintext(c);
            flush_socket(c);
            if (c->closing)
                return false;
            stop_mss(c);
            conn_ready(c);
            return !c->closing;
        }
    } else if (c->stage == STAGE_READY) {
        n = octo_yamux_recv(&c->yamux, octo__net_now(c->net), data, len);
        if (n > 0)
            octo_noise_read_consume(&c->noise, (size_t)n);
    } else {
        return false;
    }
    if (n < 0) {
        c->net->stats.conns_protocol_error++;
        if (c->yamux_live) { /* the GoAway yamux queued tells the peer why */
            flush_plaintext(c);
            flush_socket(c);
        }
        octo__conn_close(c, OCTO_EPROTO, "protocol error");
        return false;
    }
    return n > 0;
}

static bool step_yamux_events(struct net_conn *c)
{
    bool any = false;
    struct octo_yamux_event ev;
    while (!c->closing && octo_yamux_poll(&c->yamux, &ev)) {
        any = true;
        switch (ev.type) {
        case OCTO_YAMUX_EV_SESSION_ERROR:
            c->net->stats.conns_protocol_error += ev.code != OCTO_YAMUX_ERR_KEEPALIVE_TIMEOUT;
            flush_plaintext(c);
            flush_socket(c);
            octo__conn_close(c, OCTO_EPROTO, ev.detail);
            return false;
        case OCTO_YAMUX_EV_GOAWAY_RECEIVED:
            conn_log(c, OCTO_LOG_DEBUG, "goaway received", ev.detail);
            break;
        case OCTO_YAMUX_EV_PING_RTT:
            break;
        case OCTO_YAMUX_EV_STREAM_OPENED:
        case OCTO_YAMUX_EV_READABLE:
        case OCTO_YAMUX_EV_REMOTE_FIN:
        case OCTO_YAMUX_EV_WRITABLE:
        case OCTO_YAMUX_EV_STREAM_RESET:
        case OCTO_YAMUX_EV_STREAM_CLOSED:
            octo__stream_event(c, &ev);
            break;
        }
    }
    return any;
}

static bool pump_once(struct net_conn *c)
{
    bool moved = false;
    if (c->stage == STAGE_MSS_SECURITY && input_len(c) > 0)
        moved = step_mss_security(c) || moved;
    if (c->closing)
        return false;
    if (c->noise_live && input_len(c) > 0 && c->stage >= STAGE_NOISE)
        moved = step_noise(c) || moved;
    if (c->closing)
        return false;
    if (c->noise_live && c->stage >= STAGE_MSS_MUXER)
        moved = step_plaintext(c) || moved;
    if (c->closing)
        return false;
    if (c->yamux_live) {
        moved = step_yamux_events(c) || moved;
        if (c->closing)
            return false;
        octo__stream_service(c);
    }
    if (c->closing)
        return false;
    moved = flush_plaintext(c) || moved;
    if (c->closing)
        return false;
    moved = flush_socket(c) || moved;
    return moved;
}

void octo__conn_schedule(struct net_conn *c)
{
    if (c->scheduled || c->closing)
        return;
    if (c->in_pump) {
        c->pump_again = true; /* the running pump takes another round */
        return;
    }
    c->scheduled = true;
    c->sched_next = c->net->scheduled;
    if (c->net->scheduled == NULL && c->net->idle.data == c->net)
        uv_idle_start(&c->net->idle, octo__net_on_idle);
    c->net->scheduled = c;
}

static void unschedule(struct net_conn *c)
{
    if (!c->scheduled)
        return;
    struct net_conn **p = &c->net->scheduled;
    while (*p != c)
        p = &(*p)->sched_next;
    *p = c->sched_next;
    c->scheduled = false;
}

/* The loop's check phase: pump every connection the application touched. */
void octo__net_run_scheduled(struct octo_net *n)
{
    while (n->scheduled != NULL) {
        struct net_conn *c = n->scheduled;
        n->scheduled = c->sched_next;
        c->scheduled = false;
        octo__conn_pump(c);
    }
}

void octo__conn_pump(struct net_conn *c)
{
    if (c->in_pump) {
        c->pump_again = true;
        return;
    }
    c->in_pump = true;
    for (int round = 0; round < 1024 && !c->closing; round++) {
        c->pump_again = false;
        if (!pump_once(c) && !c->pump_again)
            break;
    }
    c->in_pump = false;
    if (c->closing)
        return;
    if (c->eof) {
        const uint8_t *plain;
        size_t plain_len;
        octo_noise_read(&c->noise, &plain, &plain_len);
        if (input_len(c) == 0 && plain_len == 0) {
            octo__conn_close(c, OCTO_ECLOSED, "eof");
            return;
        }
    }
    if (c->read_stopped && !c->eof && c->rx.len - c->rx_off < CONN_RX_MAX / 2) {
        c->read_stopped = false;
        conn_read_start(c);
    }
}

/* ---- socket input ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct net_conn *c = h->data;
    (void)suggested;
    buf->base = (char *)c->net->read_buf;
    buf->len = sizeof(c->net->read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct net_conn *c = s->data;
    if (c->closing)
        return;
    if (nread == UV_EOF && c->stage == STAGE_READY) {
        /* the peer closed its side: deliver what is already buffered, then close */
        c->eof = true;
        c->eof_ms = octo__net_now_ms(c->net);
        uv_read_stop((uv_stream_t *)&c->tcp);
        octo__conn_pump(c);
        return;
    }
    if (nread < 0) {
        octo__conn_close(c, nread == UV_EOF ? OCTO_ECLOSED : octo_err_from_errno((int)-nread),
                         nread == UV_EOF ? "eof" : "read failed");
        return;
    }
    if (nread == 0)
        return;
    c->net->stats.bytes_in += (uint64_t)nread;
    /* reading stops while rx is within one read chunk of its limit, so this always fits */
    if (c->rx.len == 0) {
        /* nothing buffered: let the cores read libuv's buffer directly */
        c->ext = (const uint8_t *)buf->base;
        c->ext_len = (size_t)nread;
        octo__conn_pump(c);
        const uint8_t *rest = c->ext;
        size_t rest_len = c->ext_len;
        c->ext = NULL;
        c->ext_len = 0;
        if (c->closing || rest_len == 0)
            goto check_full;
        if (octo_buf_append(&c->rx, rest, rest_len) < 0) {
            octo__conn_close(c, OCTO_ENOMEM, "receive buffer");
            return;
        }
        goto check_full;
    }
    if (c->rx_off > 0) { /* compact before appending */
        octo_buf_consume(&c->rx, c->rx_off);
        c->rx_off = 0;
    }
    if (octo_buf_append(&c->rx, buf->base, (size_t)nread) < 0) {
        octo__conn_close(c, OCTO_ENOMEM, "receive buffer");
        return;
    }
    octo__conn_pump(c);
check_full:
    if (!c->closing && c->rx.len > CONN_RX_MAX - CONN_READ_CHUNK && !c->read_stopped) {
        c->read_stopped = true;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

static void conn_read_start(struct net_conn *c)
{
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int octo__conn_start(struct net_conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = start_mss(c, proto_noise);
    if (rc < 0)
        return rc;
    c->stage = STAGE_MSS_SECURITY;
    rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0)
        return octo_err_from_errno(-rc);
    octo__conn_pump(c);
    return 0;
}

/* ---- teardown ---- */

static void on_closed(uv_handle_t *h)
{
    struct net_conn *c = h->data;
    struct octo_net *n = c->net;
    /* streams end here, at the top of the stack, never inside a callback of theirs */
    octo__stream_conn_closed(c, c->close_reason);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    n->conn_count--;
    stop_mss(c);
    if (c->noise_live)
        octo_noise_deinit(&c->noise);
    if (c->yamux_live)
        octo_yamux_deinit(&c->yamux);
    octo_buf_deinit(&c->rx);
    octo_free(c);
    octo__net_handle_closed(n);
}

void octo__conn_close(struct net_conn *c, int reason, const char *why)
{
    if (c->closing)
        return;
    /* set first: a write failing during the GoAway flush below re-enters and returns here */
    c->closing = true;
    c->close_reason = reason;
    bool graceful = reason == OCTO_ECLOSED;
    if (c->stage == STAGE_READY && c->yamux_live && graceful) {
        /* tell the peer, and let the GoAway reach the socket before closing */
        if (octo_yamux_goaway(&c->yamux, OCTO_YAMUX_GOAWAY_NORMAL) == 0) {
            flush_plaintext(c);
            flush_socket(c);
        }
    }
    if (c->stage == STAGE_READY)
        c->net->stats.conns_open--;
    c->stage = STAGE_CLOSING;
    conn_log(c, graceful ? OCTO_LOG_DEBUG : OCTO_LOG_INFO, "connection closed", why);
    if (c->dial.cb != NULL) {
        octo_net_dial_cb cb = c->dial.cb;
        c->dial.cb = NULL;
        cb(c->net, reason < 0 ? reason : OCTO_ECLOSED, NULL, c->dial.ctx);
    }
    /* Close at once: what the kernel took (the GoAway above, written directly when nothing
     * was queued) is delivered; queued writes are cancelled. No lingering, so a peer that
     * stops reading cannot keep a closed connection (or the node's shutdown) alive. */
    c->socket_closed = true;
    unschedule(c);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

void octo__conn_tick(struct net_conn *c, uint64_t now_ms)
{
    struct octo_net *n = c->net;
    if (c->closing)
        return;
    if (c->stage != STAGE_READY) {
        uint64_t limit = c->outbound ? n->cfg.dial_timeout_ms : n->cfg.handshake_timeout_ms;
        if (now_ms - c->started_ms > limit) {
            n->stats.handshake_timeouts++;
            octo__conn_close(c, OCTO_ETIMEDOUT, "handshake timeout");
        }
        return;
    }
    if (c->dial.cb != NULL && now_ms - c->started_ms > n->cfg.dial_timeout_ms) {
        n->stats.handshake_timeouts++;
        octo__conn_close(c, OCTO_ETIMEDOUT, "no identify answer");
        return;
    }
    if (c->eof && now_ms - c->eof_ms > CONN_EOF_LINGER_MS) {
        octo__conn_close(c, OCTO_ECLOSED, "eof");
        return;
    }
    octo__stream_tick(c, now_ms);
    if (c->closing)
        return;
    if (c->stream_count > 0)
        c->idle_since_ms = now_ms;
    else if (n->cfg.idle_timeout_ms != UINT32_MAX &&
             now_ms - c->idle_since_ms > n->cfg.idle_timeout_ms) {
        n->stats.conns_idle_closed++;
        octo__conn_close(c, OCTO_ECLOSED, "idle");
        return;
    }
    octo_tick now = octo__net_now(n);
    if (octo_yamux_next_deadline(&c->yamux) <= now) {
        if (octo_yamux_on_timer(&c->yamux, now) < 0) {
            octo__conn_close(c, OCTO_ETIMEDOUT, "keepalive timeout");
            return;
        }
    }
    octo__conn_pump(c);
}
