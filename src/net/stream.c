/*
 * stream.c — streams over a connection's yamux session: the per-stream multistream-select
 * round, dispatch to handlers, the callbacks of struct octo_net_stream_ops, backpressure.
 *
 * A stream lives from its yamux open (ours or the peer's) until yamux reports it ended
 * (STREAM_CLOSED) or the connection closes; on_close is then called once and the stream is
 * freed. The application's calls (write, close, reset, pause) only act on yamux and ask the
 * connection to pump; the stream is never freed inside them, so a callback may call them
 * freely. Reading: while a stream is paused nothing is read from yamux, so its receive
 * window is not reopened and the peer stops sending.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "net/net_int.h"
#include "p2p/noise.h"
#include "p2p/yamux.h"

#include <string.h>

enum stream_state {
    ST_NEGOTIATING = 0,
    ST_OPEN = 1,
};

struct octo_net_stream {
    struct net_conn *conn;
    struct octo_net_stream *prev, *next;
    uint32_t id;
    bool outbound;
    enum stream_state state;
    struct octo_mss mss;
    bool mss_live;
    char protocol[OCTO_NET_PROTOCOL_MAX + 1];
    const char *protocol_list[1];
    struct octo_net_stream_ops ops;
    void *ctx;
    bool paused;
    bool readable;
    bool remote_fin;
    bool end_delivered;
    bool want_writable;
    bool reset_local;
    bool fin_local;
    bool fin_pending; /* FIN/RST asked for, not yet accepted by yamux (output full) */
    bool rst_pending;
    uint64_t started_ms; /* negotiation deadline base */
};

static bool mss_pending(const struct octo_net_stream *s)
{
    const uint8_t *data;
    size_t len;
    octo_mss_out(&s->mss, &data, &len);
    return len > 0;
}

/* Sends a FIN or RST the application asked for once yamux has room for it. */
static void try_pending(struct octo_net_stream *s)
{
    struct octo_yamux *y = &s->conn->yamux;
    if (s->rst_pending) {
        int rc = octo_yamux_reset(y, s->id);
        if (rc != OCTO_EBUSY)
            s->rst_pending = s->fin_pending = false;
        return;
    }
    if (s->fin_pending && !(s->mss_live && mss_pending(s))) {
        int rc = octo_yamux_close(y, s->id);
        if (rc != OCTO_EBUSY)
            s->fin_pending = false;
    }
}

static void link_stream(struct net_conn *c, struct octo_net_stream *s)
{
    s->conn = c;
    s->next = c->streams;
    if (c->streams != NULL)
        c->streams->prev = s;
    c->streams = s;
    c->stream_count++;
}

static void finish(struct octo_net_stream *s, int status)
{
    struct net_conn *c = s->conn;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->streams = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    OCTO_ASSERT(c->stream_count > 0);
    c->stream_count--;
    if (s->mss_live)
        octo_mss_deinit(&s->mss);
    if (s->ops.on_close != NULL)
        s->ops.on_close(s, status, s->ctx);
    octo_free(s);
}

struct octo_net_stream *octo__stream_find(struct net_conn *c, uint32_t id)
{
    for (struct octo_net_stream *s = c->streams; s != NULL; s = s->next) {
        if (s->id == id)
            return s;
    }
    return NULL;
}

struct octo_net_stream *octo__stream_inbound(struct net_conn *c, uint32_t id)
{
    struct octo_net *n = c->net;
    if (n->handler_count == 0 || n->shutting_down) {
        n->stats.streams_refused++;
        OCTO_IGNORE(octo_yamux_reset(&c->yamux, id));
        return NULL;
    }
    struct octo_net_stream *s = octo_calloc(1, sizeof(*s));
    if (s == NULL) {
        OCTO_IGNORE(octo_yamux_reset(&c->yamux, id));
        return NULL;
    }
    s->id = id;
    struct octo_mss_config cfg = {
        .role = OCTO_MSS_LISTENER,
        .protocols = n->handler_protocols,
        .protocols_count = n->handler_count,
    };
    if (octo_mss_init(&s->mss, &cfg) < 0) {
        octo_free(s);
        OCTO_IGNORE(octo_yamux_reset(&c->yamux, id));
        return NULL;
    }
    s->mss_live = true;
    s->started_ms = octo__net_now_ms(n);
    OCTO_IGNORE(octo_yamux_accept(&c->yamux, id));
    link_stream(c, s);
    n->stats.streams_inbound++;
    return s;
}

int octo_net_stream_open(struct octo_net *n, const struct octo_peerid *peer, const char *protocol,
                         const struct octo_net_stream_ops *ops, void *ctx,
                         struct octo_net_stream **out)
{
    struct net_conn *c = octo__conn_find_peer(n, peer);
    if (c == NULL)
        return OCTO_ENOTFOUND;
    return octo__stream_open_on(c, protocol, ops, ctx, out);
}

int octo__stream_open_on(struct net_conn *c, const char *protocol,
                         const struct octo_net_stream_ops *ops, void *ctx,
                         struct octo_net_stream **out)
{
    struct octo_net *n = c->net;
    size_t len = strlen(protocol);
    if (len == 0 || len > OCTO_NET_PROTOCOL_MAX)
        return OCTO_EINVAL;
    if (c->closing || c->stage != STAGE_READY)
        return OCTO_ECLOSED;
    struct octo_net_stream *s = octo_calloc(1, sizeof(*s));
    if (s == NULL)
        return OCTO_ENOMEM;
    memcpy(s->protocol, protocol, len + 1);
    s->protocol_list[0] = s->protocol;
    s->outbound = true;
    if (ops != NULL)
        s->ops = *ops;
    s->ctx = ctx;
    struct octo_mss_config cfg = {
        .role = OCTO_MSS_DIALER, .protocols = s->protocol_list, .protocols_count = 1};
    int rc = octo_mss_init(&s->mss, &cfg);
    if (rc == 0)
        rc = octo_yamux_open(&c->yamux, octo__net_now(n), &s->id);
    if (rc < 0) {
        octo_mss_deinit(&s->mss);
        octo_free(s);
        return rc;
    }
    s->mss_live = true;
    s->started_ms = octo__net_now_ms(n);
    link_stream(c, s);
    n->stats.streams_outbound++;
    if (out != NULL)
        *out = s;
    octo__conn_schedule(c);
    return 0;
}

void octo_net_stream_set_ops(struct octo_net_stream *s, const struct octo_net_stream_ops *ops,
                             void *ctx)
{
    s->ops = *ops;
    s->ctx = ctx;
}

const struct octo_peerid *octo_net_stream_peer(const struct octo_net_stream *s)
{
    return &s->conn->peer;
}

struct net_conn *octo__stream_conn(const struct octo_net_stream *s)
{
    return s->conn;
}

const char *octo_net_stream_protocol(const struct octo_net_stream *s)
{
    return s->protocol;
}

/* Zero-copy path for bulk writes: while the yamux output is empty, each Data frame's
 * header goes to Noise as its own small frame and the payload is encrypted straight from
 * the caller's buffer (js-libp2p frames yamux headers the same way). Only whole frames are
 * handed over, so yamux and Noise stay in step; the socket is flushed as Noise fills. */
static size_t write_direct(struct octo_net_stream *s, const uint8_t *data, size_t len)
{
    struct net_conn *c = s->conn;
    const size_t overhead = 2 * (OCTO_NOISE_FRAME_HDR_LEN + OCTO_NOISE_TAG_LEN);
    size_t done = 0;
    while (done < len && !c->closing) {
        size_t want = len - done;
        if (want > OCTO_NOISE_PLAIN_FRAME_MAX)
            want = OCTO_NOISE_PLAIN_FRAME_MAX;
        if (octo_noise_out_room(&c->noise) < OCTO_YAMUX_HEADER_LEN + want + overhead) {
            octo__conn_flush_socket(c);
            if (octo_noise_out_room(&c->noise) < OCTO_YAMUX_HEADER_LEN + want + overhead)
                break;
        }
        uint8_t hdr[OCTO_YAMUX_HEADER_LEN];
        int n = octo_yamux_write_direct(&c->yamux, octo__net_now(c->net), s->id, want, hdr);
        if (n <= 0)
            break;
        int a = octo_noise_write(&c->noise, hdr, sizeof(hdr));
        int b = a == (int)sizeof(hdr) ? octo_noise_write(&c->noise, data + done, (size_t)n) : a;
        if (b != n) { /* cannot happen: the room was checked; the stream is now broken */
            octo__conn_close(c, b < 0 ? b : OCTO_EIO, "noise write failed");
            break;
        }
        done += (size_t)n;
    }
    return done;
}

int octo_net_stream_write(struct octo_net_stream *s, const uint8_t *data, size_t len)
{
    struct net_conn *c = s->conn;
    if (c->closing)
        return OCTO_ECLOSED;
    if (s->state != ST_OPEN || s->fin_local || s->reset_local)
        return OCTO_ESTATE;
    if (s->mss_live && mss_pending(s)) {
        s->want_writable = true; /* the negotiation reply goes first */
        return 0;
    }
    size_t direct = write_direct(s, data, len);
    if (direct > 0) {
        data += direct;
        len -= direct;
        if (len == 0) {
            octo__conn_schedule(c);
            return (int)direct;
        }
    }
    int n = octo_yamux_write(&c->yamux, octo__net_now(c->net), s->id, data, len);
    if (n < 0)
        return n;
    if ((size_t)n < len)
        s->want_writable = true;
    octo__conn_schedule(c);
    return (int)direct + n;
}

int octo_net_stream_close(struct octo_net_stream *s)
{
    struct net_conn *c = s->conn;
    if (c->closing)
        return OCTO_ECLOSED;
    if (s->fin_local || s->reset_local)
        return 0;
    s->fin_local = true;
    s->fin_pending = true;
    try_pending(s);
    octo__conn_schedule(c);
    return 0;
}

void octo_net_stream_reset(struct octo_net_stream *s)
{
    struct net_conn *c = s->conn;
    if (c->closing || s->reset_local)
        return;
    s->reset_local = true;
    s->rst_pending = true;
    try_pending(s);
    octo__conn_schedule(c);
}

void octo_net_stream_pause(struct octo_net_stream *s, bool paused)
{
    s->paused = paused;
    if (!paused && !s->conn->closing)
        octo__conn_schedule(s->conn);
}

/* ---- negotiation ---- */

static void negotiated(struct octo_net_stream *s, const struct octo_mss_event *ev)
{
    struct net_conn *c = s->conn;
    struct octo_net *n = c->net;
    if (ev->type == OCTO_MSS_EV_FAILED) {
        if (!s->outbound)
            n->stats.streams_refused++;
        s->reset_local = true;
        s->rst_pending = true;
        try_pending(s);
        if (s->outbound && s->ops.on_open != NULL)
            s->ops.on_open(s, OCTO_EUNSUPPORTED, s->ctx);
        return;
    }
    s->state = ST_OPEN;
    if (s->outbound) {
        if (s->ops.on_open != NULL)
            s->ops.on_open(s, 0, s->ctx);
        return;
    }
    const struct net_handler *h = &n->handlers[ev->index];
    snprintf(s->protocol, sizeof(s->protocol), "%s", h->protocol);
    h->fn(s, h->ctx);
    if (s->ops.on_data == NULL && s->ops.on_close == NULL) {
        s->reset_local = true; /* the handler did not take the stream */
        s->rst_pending = true;
        try_pending(s);
    }
}

/* Sends the stream's pending multistream output. */
static void flush_mss(struct octo_net_stream *s)
{
    struct net_conn *c = s->conn;
    const uint8_t *data;
    size_t len;
    octo_mss_out(&s->mss, &data, &len);
    if (len == 0 || s->reset_local)
        return;
    int n = octo_yamux_write(&c->yamux, octo__net_now(c->net), s->id, data, len);
    if (n > 0)
        octo_mss_out_consume(&s->mss, (size_t)n);
}

/* Feeds read bytes to the negotiation; returns how many it took (the rest is app data). */
static size_t feed_mss(struct octo_net_stream *s, const uint8_t *data, size_t len)
{
    int n = octo_mss_recv(&s->mss, octo__net_now(s->conn->net), data, len);
    size_t used = n > 0 ? (size_t)n : 0;
    flush_mss(s);
    struct octo_mss_event ev;
    while (octo_mss_poll(&s->mss, &ev))
        negotiated(s, &ev);
    if (n < 0 && !s->reset_local) {
        s->reset_local = true;
        s->rst_pending = true;
        try_pending(s);
    }
    return n < 0 ? len : used;
}

/* Reads what yamux holds for s and delivers it; false when the connection went away. */
static bool service_read(struct octo_net_stream *s)
{
    struct net_conn *c = s->conn;
    /* Zero copy: the bytes are handed to the application where yamux buffered them. Nothing
     * receives on this connection during the callback (application calls only schedule a
     * pump), so they stay put until consumed. */
    while (s->readable && !s->paused && !s->reset_local) {
        const uint8_t *data;
        int n = octo_yamux_peek(&c->yamux, s->id, &data);
        if (n <= 0) {
            s->readable = false;
            break;
        }
        if (n > (int)OCTO_NET_DATA_CHUNK_MAX)
            n = (int)OCTO_NET_DATA_CHUNK_MAX; /* bounded chunks let handlers pause in time */
        size_t off = 0;
        if (s->state == ST_NEGOTIATING)
            off = feed_mss(s, data, (size_t)n);
        if (c->closing)
            return false;
        if (off < (size_t)n && s->state == ST_OPEN && s->ops.on_data != NULL)
            s->ops.on_data(s, data + off, (size_t)n - off, s->ctx);
        if (c->closing)
            return false;
        if (octo_yamux_consume(&c->yamux, octo__net_now(c->net), s->id, (size_t)n) < 0)
            break; /* reset meanwhile */
    }
    if (s->remote_fin && !s->readable && s->state == ST_NEGOTIATING && !s->reset_local) {
        /* the peer closed before a protocol was agreed */
        struct octo_mss_event ev = {.type = OCTO_MSS_EV_FAILED,
                                    .detail = "closed during negotiation"};
        negotiated(s, &ev);
        return !c->closing;
    }
    if (s->remote_fin && !s->readable && !s->end_delivered && !s->paused && s->state == ST_OPEN) {
        s->end_delivered = true;
        if (s->ops.on_end != NULL)
            s->ops.on_end(s, s->ctx);
    }
    return !c->closing;
}

void octo__stream_service(struct net_conn *c)
{
    for (struct octo_net_stream *s = c->streams; s != NULL; s = s->next) {
        if (s->mss_live && mss_pending(s)) {
            flush_mss(s);
            if (!mss_pending(s) && s->want_writable && s->state == ST_OPEN) {
                s->want_writable = false;
                if (s->ops.on_writable != NULL)
                    s->ops.on_writable(s, s->ctx);
                if (c->closing)
                    return;
            }
        }
        if (s->fin_pending || s->rst_pending)
            try_pending(s);
        if (!service_read(s))
            return;
    }
}

void octo__stream_tick(struct net_conn *c, uint64_t now_ms)
{
    for (struct octo_net_stream *s = c->streams; s != NULL; s = s->next) {
        if (s->state == ST_NEGOTIATING && !s->reset_local &&
            now_ms - s->started_ms > OCTO_NET_NEGOTIATION_TIMEOUT_MS) {
            struct octo_mss_event ev = {.type = OCTO_MSS_EV_FAILED, .detail = "timeout"};
            negotiated(s, &ev);
        }
    }
}

void octo__stream_event(struct net_conn *c, const struct octo_yamux_event *ev)
{
    struct octo_net_stream *s = octo__stream_find(c, ev->stream_id);
    switch (ev->type) {
    case OCTO_YAMUX_EV_STREAM_OPENED:
        if (s == NULL)
            s = octo__stream_inbound(c, ev->stream_id);
        return;
    case OCTO_YAMUX_EV_READABLE:
        if (s != NULL)
            s->readable = true;
        return;
    case OCTO_YAMUX_EV_REMOTE_FIN:
        if (s != NULL) {
            s->remote_fin = true;
            s->readable = true;
        }
        return;
    case OCTO_YAMUX_EV_WRITABLE:
        if (s != NULL && s->want_writable && s->state == ST_OPEN) {
            s->want_writable = false;
            if (s->ops.on_writable != NULL)
                s->ops.on_writable(s, s->ctx);
        }
        return;
    case OCTO_YAMUX_EV_STREAM_RESET:
        if (s != NULL)
            s->reset_local = true; /* no more writes; STREAM_CLOSED follows */
        return;
    case OCTO_YAMUX_EV_STREAM_CLOSED:
        if (s != NULL) {
            /* both FINs may arrive in the same batch as the peer's last data: deliver what
             * is left and on_end before on_close */
            if (!s->reset_local) {
                s->readable = true;
                s->paused = false;
                if (!service_read(s))
                    return;
            }
            bool clean = s->end_delivered || (s->remote_fin && s->fin_local);
            finish(s, s->reset_local && !clean ? OCTO_ERESET : 0);
        }
        return;
    default:
        return;
    }
}

void octo__stream_conn_closed(struct net_conn *c, int reason)
{
    while (c->streams != NULL)
        finish(c->streams, reason < 0 ? reason : OCTO_ECLOSED);
}
