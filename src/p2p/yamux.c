/*
 * yamux.c — the yamux session core (see yamux.h for the protocol, policies and limits).
 *
 * Layout: a parser that takes the 12-byte header byte by byte into y->hdr and then either
 * handles a control frame at once or streams a Data payload into the target stream's ring
 * buffer chunk by chunk (payload_left/payload_id; the stream is looked up per chunk because
 * the application may reset or free it between two recv calls). Streams live in a table
 * sorted by id (binary search; ids grow monotonically so inserts land at the end). Events are
 * bits on the stream plus an intrusive FIFO of streams with pending bits; the session's own
 * events are bits on the session. Memory tiers: general heap for the table (init), each
 * stream object and its receive ring (grown by doubling, bounded by the stream's window).
 */
#include "p2p/yamux.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <limits.h>
#include <string.h>

/* Output kept free for the control frames one received frame can cause (a reply and a GoAway);
 * recv stops reading headers below it, application-driven control frames must leave it. */
#define RECV_RESERVE (2u * OCTO_YAMUX_HEADER_LEN)
#define RING_MIN 4096u

enum {
    SEV_GOAWAY = 1,
    SEV_RTT = 2,
    SEV_ERROR = 4,
};

/* Stream event bits, delivered lowest first (so CLOSED is always last). */
enum {
    EV_OPENED = 1,
    EV_READABLE = 2,
    EV_REMOTE_FIN = 4,
    EV_WRITABLE = 8,
    EV_RESET = 16,
    EV_CLOSED = 32,
};

struct ring {
    uint8_t *data;
    uint32_t cap, head, len;
};

struct octo_yamux_stream {
    uint32_t id;
    uint8_t pending; /* EV_* bits */
    bool in_dirty;
    bool outbound;
    bool acked;
    bool local_fin, remote_fin;
    bool reset;
    bool ended; /* STREAM_CLOSED pending; frames for it are ignored */
    bool blocked;
    bool update_pending;
    uint32_t recv_window;
    uint32_t recv_credit;
    uint64_t send_window;
    octo_tick epoch_start; /* last window update (auto-tuning) */
    struct ring rx;
    struct octo_yamux_stream *dirty_next;
};

static const char *const reason_names[OCTO_YAMUX_ERR_COUNT] = {
    [OCTO_YAMUX_ERR_NONE] = "no error",
    [OCTO_YAMUX_ERR_BAD_VERSION] = "bad version",
    [OCTO_YAMUX_ERR_BAD_TYPE] = "unknown frame type",
    [OCTO_YAMUX_ERR_BAD_FLAGS] = "bad flags",
    [OCTO_YAMUX_ERR_BAD_STREAM_ID] = "frame type not valid for this stream id",
    [OCTO_YAMUX_ERR_PARITY] = "stream id parity (both sides clients)",
    [OCTO_YAMUX_ERR_REUSED_ID] = "stream id reused",
    [OCTO_YAMUX_ERR_WINDOW_EXCEEDED] = "receive window exceeded",
    [OCTO_YAMUX_ERR_WINDOW_OVERFLOW] = "send window overflow",
    [OCTO_YAMUX_ERR_FRAME_TOO_BIG] = "data frame too big",
    [OCTO_YAMUX_ERR_KEEPALIVE_TIMEOUT] = "keepalive timeout",
    [OCTO_YAMUX_ERR_NO_MEMORY] = "out of memory",
};

const char *octo_yamux_reason_str(enum octo_yamux_reason r)
{
    if ((unsigned)r >= OCTO_YAMUX_ERR_COUNT)
        return "unknown reason";
    return reason_names[r];
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void octo_yamux_header_encode(uint8_t out[OCTO_YAMUX_HEADER_LEN], uint8_t type, uint16_t flags,
                              uint32_t stream_id, uint32_t length)
{
    out[0] = OCTO_YAMUX_VERSION;
    out[1] = type;
    put_be16(out + 2, flags);
    put_be32(out + 4, stream_id);
    put_be32(out + 8, length);
}

/* ---- receive ring ---- */

/* Makes room for `total` buffered bytes (total <= limit). */
static int ring_reserve(struct ring *r, uint32_t total, uint32_t limit)
{
    OCTO_ASSERT(total <= limit);
    if (total <= r->cap)
        return 0;
    uint64_t cap = r->cap != 0 ? (uint64_t)r->cap * 2 : RING_MIN;
    if (cap < total)
        cap = total;
    if (cap > limit)
        cap = limit;
    uint8_t *grown = octo_malloc((size_t)cap);
    if (grown == NULL)
        return OCTO_ENOMEM;
    uint32_t first = r->len < r->cap - r->head ? r->len : r->cap - r->head;
    if (first > 0)
        memcpy(grown, r->data + r->head, first);
    if (r->len > first)
        memcpy(grown + first, r->data, r->len - first);
    octo_free(r->data);
    r->data = grown;
    r->cap = (uint32_t)cap;
    r->head = 0;
    return 0;
}

static void ring_push(struct ring *r, const uint8_t *p, uint32_t n)
{
    OCTO_ASSERT(n <= r->cap - r->len);
    uint32_t tail = (uint32_t)(((uint64_t)r->head + r->len) % r->cap);
    uint32_t first = n < r->cap - tail ? n : r->cap - tail;
    memcpy(r->data + tail, p, first);
    if (n > first)
        memcpy(r->data, p + first, n - first);
    r->len += n;
}

/* Drops the first n (<= len) buffered bytes. */
static void ring_skip(struct ring *r, uint32_t n)
{
    OCTO_ASSERT(n <= r->len);
    if (n == 0)
        return;
    r->head = (uint32_t)(((uint64_t)r->head + n) % r->cap);
    r->len -= n;
    if (r->len == 0)
        r->head = 0;
}

static void ring_pop(struct ring *r, uint8_t *out, uint32_t n)
{
    OCTO_ASSERT(n <= r->len);
    uint32_t first = n < r->cap - r->head ? n : r->cap - r->head;
    memcpy(out, r->data + r->head, first);
    if (n > first)
        memcpy(out + first, r->data, n - first);
    ring_skip(r, n);
}

static void ring_free(struct ring *r)
{
    octo_free(r->data);
    memset(r, 0, sizeof(*r));
}

/* ---- output ---- */

static size_t out_pending(const struct octo_yamux *y)
{
    return y->out.len - y->out_off;
}

static size_t out_room(const struct octo_yamux *y)
{
    return y->out.max - out_pending(y);
}

/* Room for one application-driven control frame, keeping the receive reserve. */
static bool control_room(const struct octo_yamux *y)
{
    return out_room(y) >= OCTO_YAMUX_HEADER_LEN + RECV_RESERVE;
}

/* Payload bytes a new Data frame could carry within out_max (0 if none). */
static size_t data_room(const struct octo_yamux *y)
{
    size_t pending = out_pending(y);
    if (pending + OCTO_YAMUX_HEADER_LEN >= y->cfg.out_max)
        return 0;
    return y->cfg.out_max - pending - OCTO_YAMUX_HEADER_LEN;
}

static int out_append(struct octo_yamux *y, const uint8_t *p, size_t n)
{
    if (y->out.max - y->out.len < n && y->out_off > 0) {
        size_t pending = out_pending(y);
        memmove(y->out.data, y->out.data + y->out_off, pending);
        y->out.len = pending;
        y->out_off = 0;
    }
    return octo_buf_append(&y->out, p, n);
}

static int emit_frame(struct octo_yamux *y, uint8_t type, uint16_t flags, uint32_t id,
                      uint32_t length)
{
    uint8_t h[OCTO_YAMUX_HEADER_LEN];
    octo_yamux_header_encode(h, type, flags, id, length);
    int rc = out_append(y, h, sizeof(h));
    if (rc < 0)
        return rc;
    y->stats.frames_out++;
    y->stats.bytes_out += sizeof(h);
    return 0;
}

/* ---- events ---- */

static void stream_mark(struct octo_yamux *y, struct octo_yamux_stream *s, uint8_t bit)
{
    s->pending |= bit;
    if (s->in_dirty)
        return;
    s->in_dirty = true;
    s->dirty_next = NULL;
    if (y->dirty_tail != NULL)
        y->dirty_tail->dirty_next = s;
    else
        y->dirty_head = s;
    y->dirty_tail = s;
}

static const char *stream_event_detail(uint8_t bit)
{
    switch (bit) {
    case EV_OPENED:
        return "stream opened";
    case EV_READABLE:
        return "readable";
    case EV_REMOTE_FIN:
        return "remote half-closed";
    case EV_WRITABLE:
        return "writable";
    case EV_RESET:
        return "reset by peer";
    default:
        return "stream closed";
    }
}

static enum octo_yamux_event_type stream_event_type(uint8_t bit)
{
    switch (bit) {
    case EV_OPENED:
        return OCTO_YAMUX_EV_STREAM_OPENED;
    case EV_READABLE:
        return OCTO_YAMUX_EV_READABLE;
    case EV_REMOTE_FIN:
        return OCTO_YAMUX_EV_REMOTE_FIN;
    case EV_WRITABLE:
        return OCTO_YAMUX_EV_WRITABLE;
    case EV_RESET:
        return OCTO_YAMUX_EV_STREAM_RESET;
    default:
        return OCTO_YAMUX_EV_STREAM_CLOSED;
    }
}

/* ---- stream table ---- */

/* Index of id in the table, or of where it would be inserted. */
static uint32_t table_pos(const struct octo_yamux *y, uint32_t id)
{
    uint32_t lo = 0, hi = y->stream_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (y->streams[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct octo_yamux_stream *stream_find(const struct octo_yamux *y, uint32_t id)
{
    if (y->streams == NULL)
        return NULL;
    uint32_t i = table_pos(y, id);
    if (i < y->stream_count && y->streams[i]->id == id)
        return y->streams[i];
    return NULL;
}

static struct octo_yamux_stream *stream_new(struct octo_yamux *y, uint32_t id, bool outbound,
                                            octo_tick now)
{
    OCTO_ASSERT(y->stream_count < y->stream_cap);
    struct octo_yamux_stream *s = octo_calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->id = id;
    s->outbound = outbound;
    s->recv_window = OCTO_YAMUX_WINDOW_INITIAL;
    s->recv_credit = OCTO_YAMUX_WINDOW_INITIAL;
    s->send_window = OCTO_YAMUX_WINDOW_INITIAL;
    s->epoch_start = now;
    uint32_t i = table_pos(y, id);
    OCTO_ASSERT(i == y->stream_count || y->streams[i]->id != id);
    memmove(&y->streams[i + 1], &y->streams[i], (y->stream_count - i) * sizeof(y->streams[0]));
    y->streams[i] = s;
    y->stream_count++;
    if (outbound) {
        y->outbound_count++;
        y->outbound_unacked++;
    } else {
        y->inbound_count++;
        y->inbound_unacked++;
    }
    return s;
}

static void stream_free(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    uint32_t i = table_pos(y, s->id);
    OCTO_ASSERT(i < y->stream_count && y->streams[i] == s);
    memmove(&y->streams[i], &y->streams[i + 1], (y->stream_count - i - 1) * sizeof(y->streams[0]));
    y->stream_count--;
    if (s->outbound)
        y->outbound_count--;
    else
        y->inbound_count--;
    ring_free(&s->rx);
    octo_free(s);
}

static void stream_set_acked(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    if (s->acked)
        return;
    s->acked = true;
    if (s->outbound)
        y->outbound_unacked--;
    else
        y->inbound_unacked--;
}

/* The stream is over: release its buffer and announce STREAM_CLOSED. */
static void stream_end(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    OCTO_ASSERT(!s->ended);
    s->ended = true;
    stream_set_acked(y, s); /* no longer counts as unacknowledged */
    if (s->update_pending) {
        s->update_pending = false;
        y->updates_pending--;
    }
    s->blocked = false;
    s->pending &= (uint8_t) ~(EV_READABLE | EV_WRITABLE);
    ring_free(&s->rx);
    stream_mark(y, s, EV_CLOSED);
}

static void stream_maybe_finish(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    if (!s->ended && s->local_fin && s->remote_fin && s->rx.len == 0)
        stream_end(y, s);
}

/* Flags for the next frame we send on s: ACK on the first frame of an inbound stream. */
static uint16_t send_flags(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    if (s->outbound || s->acked)
        return 0;
    stream_set_acked(y, s);
    return OCTO_YAMUX_FLAG_ACK;
}

/* ---- session failure ---- */

static int session_fail(struct octo_yamux *y, enum octo_yamux_reason reason, int err)
{
    OCTO_ASSERT(err < 0);
    if (y->error != 0)
        return y->error;
    y->error = err;
    y->error_reason = reason;
    y->stats.protocol_errors[reason]++;
    if (reason != OCTO_YAMUX_ERR_KEEPALIVE_TIMEOUT && !y->local_goaway) {
        uint32_t code = reason == OCTO_YAMUX_ERR_NO_MEMORY ? OCTO_YAMUX_GOAWAY_INTERNAL_ERROR
                                                           : OCTO_YAMUX_GOAWAY_PROTOCOL_ERROR;
        /* the receive reserve guarantees room; a failure leaves only the event */
        (void)emit_frame(y, OCTO_YAMUX_TYPE_GOAWAY, 0, 0, code);
        y->local_goaway = true;
    }
    y->sess_pending |= SEV_ERROR;
    return err;
}

static int protocol_error(struct octo_yamux *y, enum octo_yamux_reason reason)
{
    return session_fail(y, reason, OCTO_EMALFORMED);
}

/* ---- window updates ---- */

static void clear_update_pending(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    if (s->update_pending) {
        s->update_pending = false;
        y->updates_pending--;
    }
}

/* Window bytes not yet consumed by the application: buffered, still granted, or announced by
 * the Data header being received but not arrived yet. Their sum never exceeds the window. */
static uint32_t stream_used(const struct octo_yamux *y, const struct octo_yamux_stream *s)
{
    uint64_t inflight = y->payload_id == s->id ? y->payload_left : 0;
    uint64_t used = (uint64_t)s->rx.len + s->recv_credit + inflight;
    OCTO_ASSERT(used <= s->recv_window);
    return (uint32_t)used;
}

/* Returns credit for consumed bytes once at least half of the window is consumed, doubling
 * the window first when that took at most 4 RTT. */
static void stream_update_window(struct octo_yamux *y, struct octo_yamux_stream *s, octo_tick now)
{
    if (s->ended || s->remote_fin || y->error != 0) {
        clear_update_pending(y, s);
        return;
    }
    uint32_t used = stream_used(y, s);
    uint32_t consumed = s->recv_window - used;
    if (consumed < s->recv_window / 2)
        return;
    if (!control_room(y)) {
        if (!s->update_pending) {
            s->update_pending = true;
            y->updates_pending++;
        }
        return;
    }
    bool have_rtt = y->rtt_known || y->cfg.rtt_default_ns > 0;
    uint64_t rtt = y->rtt_known ? y->rtt_ns : y->cfg.rtt_default_ns;
    uint64_t elapsed = now >= s->epoch_start ? now - s->epoch_start : 0;
    if (have_rtt && rtt <= UINT64_MAX / 4 && elapsed <= 4 * rtt &&
        s->recv_window < y->cfg.window_max) {
        uint64_t grown = (uint64_t)s->recv_window * 2;
        s->recv_window = grown < y->cfg.window_max ? (uint32_t)grown : y->cfg.window_max;
    }
    uint32_t delta = s->recv_window - used;
    uint16_t flags = send_flags(y, s);
    int rc = emit_frame(y, OCTO_YAMUX_TYPE_WINDOW_UPDATE, flags, s->id, delta);
    OCTO_ASSERT(rc == 0); /* control_room() checked */
    s->recv_credit += delta;
    s->epoch_start = now;
    y->stats.window_updates_out++;
    clear_update_pending(y, s);
}

/* A blocked writer may continue when it has window and the output has room; with window but
 * no room, out_consume will look again. */
static void stream_check_writable(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    if (!s->blocked || s->send_window == 0)
        return;
    if (data_room(y) == 0) {
        y->out_blocked = true;
        return;
    }
    s->blocked = false;
    stream_mark(y, s, EV_WRITABLE);
}

/* ---- init / deinit ---- */

int octo_yamux_init(struct octo_yamux *y, const struct octo_yamux_config *cfg)
{
    OCTO_ASSERT(y != NULL);
    OCTO_ASSERT(cfg != NULL);
    memset(y, 0, sizeof(*y));
    struct octo_yamux_config c = *cfg;
    if (c.max_inbound_streams == 0)
        c.max_inbound_streams = OCTO_YAMUX_STREAMS_DEFAULT;
    if (c.max_outbound_streams == 0)
        c.max_outbound_streams = OCTO_YAMUX_STREAMS_DEFAULT;
    if (c.max_unacked_inbound == 0)
        c.max_unacked_inbound = OCTO_YAMUX_UNACKED_DEFAULT;
    if (c.max_unacked_outbound == 0)
        c.max_unacked_outbound = OCTO_YAMUX_UNACKED_DEFAULT;
    if (c.window_max == 0)
        c.window_max = OCTO_YAMUX_WINDOW_MAX_DEFAULT;
    if (c.out_max == 0)
        c.out_max = OCTO_YAMUX_OUT_MAX_DEFAULT;
    if (c.keepalive_interval_ns == 0)
        c.keepalive_interval_ns = OCTO_YAMUX_KEEPALIVE_INTERVAL_DEFAULT;
    if (c.keepalive_timeout_ns == 0)
        c.keepalive_timeout_ns = OCTO_YAMUX_KEEPALIVE_TIMEOUT_DEFAULT;
    if (c.max_inbound_streams > OCTO_YAMUX_STREAMS_LIMIT ||
        c.max_outbound_streams > OCTO_YAMUX_STREAMS_LIMIT ||
        c.max_unacked_inbound > OCTO_YAMUX_STREAMS_LIMIT ||
        c.max_unacked_outbound > OCTO_YAMUX_STREAMS_LIMIT ||
        c.window_max < OCTO_YAMUX_WINDOW_INITIAL || c.window_max > OCTO_YAMUX_WINDOW_MAX_LIMIT ||
        c.out_max < 2 * OCTO_YAMUX_HEADER_LEN || c.out_max > OCTO_YAMUX_OUT_MAX_LIMIT)
        return OCTO_ECONFIG;
    y->cfg = c;
    y->stream_cap = c.max_inbound_streams + c.max_outbound_streams;
    y->streams = octo_calloc(y->stream_cap, sizeof(y->streams[0]));
    if (y->streams == NULL) {
        y->stream_cap = 0;
        return OCTO_ENOMEM;
    }
    octo_buf_init(&y->out, c.out_max + OCTO_YAMUX_OUT_HEADROOM);
    y->next_id = c.client ? 1 : 2;
    y->ping_next = 1;
    return 0;
}

void octo_yamux_deinit(struct octo_yamux *y)
{
    if (y->streams != NULL) {
        for (uint32_t i = 0; i < y->stream_count; i++) {
            ring_free(&y->streams[i]->rx);
            octo_free(y->streams[i]);
        }
        octo_free(y->streams);
    }
    octo_buf_deinit(&y->out);
    memset(y, 0, sizeof(*y));
}

/* ---- receiving ---- */

/* Skips a Data payload of a frame we do not deliver. */
static int discard_payload(struct octo_yamux *y, uint32_t length)
{
    if (length > y->cfg.window_max)
        return protocol_error(y, OCTO_YAMUX_ERR_FRAME_TOO_BIG);
    y->payload_left = length;
    y->payload_id = 0;
    y->payload_flags = 0;
    return 0;
}

/* A SYN from the peer: validates the id and creates the stream, or refuses it with RST
 * (*out = NULL). */
static int incoming_syn(struct octo_yamux *y, octo_tick now, uint32_t id,
                        struct octo_yamux_stream **out)
{
    *out = NULL;
    uint32_t peer_parity = y->cfg.client ? 0 : 1;
    if ((id & 1u) != peer_parity)
        return protocol_error(y, OCTO_YAMUX_ERR_PARITY);
    if (id <= y->last_inbound_id)
        return protocol_error(y, OCTO_YAMUX_ERR_REUSED_ID);
    y->last_inbound_id = id;
    if (y->local_goaway || y->inbound_count >= y->cfg.max_inbound_streams ||
        y->inbound_unacked >= y->cfg.max_unacked_inbound) {
        y->stats.streams_refused++;
        return emit_frame(y, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_RST, id, 0);
    }
    struct octo_yamux_stream *s = stream_new(y, id, false, now);
    if (s == NULL)
        return session_fail(y, OCTO_YAMUX_ERR_NO_MEMORY, OCTO_ENOMEM);
    y->stats.streams_opened_in++;
    stream_mark(y, s, EV_OPENED);
    *out = s;
    return 0;
}

static void remote_fin(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    if (s->remote_fin)
        return;
    s->remote_fin = true;
    clear_update_pending(y, s);
    stream_mark(y, s, EV_REMOTE_FIN);
    stream_maybe_finish(y, s);
}

static void remote_reset(struct octo_yamux *y, struct octo_yamux_stream *s)
{
    s->reset = true;
    y->stats.resets_in++;
    s->pending &= (uint8_t) ~(EV_REMOTE_FIN);
    stream_mark(y, s, EV_RESET);
    stream_end(y, s);
}

static void handle_ping(struct octo_yamux *y, octo_tick now, uint16_t flags, uint32_t opaque,
                        int *rc)
{
    if (flags & OCTO_YAMUX_FLAG_SYN) {
        *rc = emit_frame(y, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_ACK, 0, opaque);
        y->stats.pings_answered++;
        return;
    }
    if (!(flags & OCTO_YAMUX_FLAG_ACK)) {
        *rc = protocol_error(y, OCTO_YAMUX_ERR_BAD_FLAGS);
        return;
    }
    if (!y->ping_outstanding || opaque != y->ping_opaque) {
        y->stats.ping_acks_ignored++;
        return;
    }
    y->ping_outstanding = false;
    y->rtt_ns = now >= y->ping_sent_at ? now - y->ping_sent_at : 0;
    y->rtt_known = true;
    y->ev_rtt_ns = y->rtt_ns;
    y->sess_pending |= SEV_RTT;
}

static int handle_data_header(struct octo_yamux *y, struct octo_yamux_stream *s, uint16_t flags,
                              uint32_t length)
{
    if (s->remote_fin) {
        y->stats.data_after_fin++;
        return discard_payload(y, length);
    }
    if (length > s->recv_credit)
        return protocol_error(y, OCTO_YAMUX_ERR_WINDOW_EXCEEDED);
    if (length > 0 && ring_reserve(&s->rx, s->rx.len + length, s->recv_window) < 0)
        return session_fail(y, OCTO_YAMUX_ERR_NO_MEMORY, OCTO_ENOMEM);
    s->recv_credit -= length;
    y->stats.data_bytes_in += length;
    y->payload_left = length;
    y->payload_id = s->id;
    y->payload_flags = flags;
    if (length == 0 && (flags & OCTO_YAMUX_FLAG_FIN))
        remote_fin(y, s);
    return 0;
}

static int handle_stream_frame(struct octo_yamux *y, octo_tick now, uint8_t type, uint16_t flags,
                               uint32_t id, uint32_t length)
{
    struct octo_yamux_stream *s;
    if (flags & OCTO_YAMUX_FLAG_SYN) {
        int rc = incoming_syn(y, now, id, &s);
        if (rc < 0)
            return rc;
        if (s == NULL)
            return type == OCTO_YAMUX_TYPE_DATA ? discard_payload(y, length) : 0;
    } else {
        s = stream_find(y, id);
    }
    if (s == NULL || s->ended) {
        y->stats.frames_unknown_stream++;
        return type == OCTO_YAMUX_TYPE_DATA ? discard_payload(y, length) : 0;
    }
    if ((flags & OCTO_YAMUX_FLAG_ACK) && s->outbound)
        stream_set_acked(y, s);
    if (flags & OCTO_YAMUX_FLAG_RST) {
        remote_reset(y, s);
        return type == OCTO_YAMUX_TYPE_DATA ? discard_payload(y, length) : 0;
    }
    if (type == OCTO_YAMUX_TYPE_DATA)
        return handle_data_header(y, s, flags, length);
    uint64_t window = s->send_window + length;
    if (window > UINT32_MAX)
        return protocol_error(y, OCTO_YAMUX_ERR_WINDOW_OVERFLOW);
    s->send_window = window;
    stream_check_writable(y, s);
    if (flags & OCTO_YAMUX_FLAG_FIN)
        remote_fin(y, s);
    return 0;
}

static int handle_header(struct octo_yamux *y, octo_tick now)
{
    const uint8_t *h = y->hdr;
    uint8_t type = h[1];
    uint16_t flags = (uint16_t)(h[2] << 8 | h[3]);
    uint32_t id = get_be32(h + 4);
    uint32_t length = get_be32(h + 8);
    if (h[0] != OCTO_YAMUX_VERSION)
        return protocol_error(y, OCTO_YAMUX_ERR_BAD_VERSION);
    if (type > OCTO_YAMUX_TYPE_GOAWAY)
        return protocol_error(y, OCTO_YAMUX_ERR_BAD_TYPE);
    if (type == OCTO_YAMUX_TYPE_PING || type == OCTO_YAMUX_TYPE_GOAWAY) {
        if (id != 0)
            return protocol_error(y, OCTO_YAMUX_ERR_BAD_STREAM_ID);
        if (type == OCTO_YAMUX_TYPE_GOAWAY) {
            y->remote_goaway = true;
            y->ev_goaway_code = length;
            y->sess_pending |= SEV_GOAWAY;
            return 0;
        }
        int rc = 0;
        handle_ping(y, now, flags, length, &rc);
        return rc;
    }
    if (id == 0)
        return protocol_error(y, OCTO_YAMUX_ERR_BAD_STREAM_ID);
    return handle_stream_frame(y, now, type, flags, id, length);
}

/* Delivers n payload bytes of the current Data frame. */
static void deliver_payload(struct octo_yamux *y, const uint8_t *p, uint32_t n)
{
    if (y->payload_id == 0)
        return;
    struct octo_yamux_stream *s = stream_find(y, y->payload_id);
    if (s == NULL || s->ended)
        return;
    ring_push(&s->rx, p, n);
    stream_mark(y, s, EV_READABLE);
}

static void finish_payload(struct octo_yamux *y)
{
    if (y->payload_id == 0 || !(y->payload_flags & OCTO_YAMUX_FLAG_FIN))
        return;
    struct octo_yamux_stream *s = stream_find(y, y->payload_id);
    if (s != NULL && !s->ended)
        remote_fin(y, s);
}

int octo_yamux_recv(struct octo_yamux *y, octo_tick now, const uint8_t *data, size_t len)
{
    OCTO_ASSERT(y->streams != NULL);
    OCTO_ASSERT(data != NULL || len == 0);
    y->now_last = now;
    if (y->error != 0)
        return y->error;
    size_t max = len > INT_MAX ? INT_MAX : len;
    size_t off = 0;
    while (off < max) {
        if (y->payload_left > 0) {
            size_t n = max - off < y->payload_left ? max - off : y->payload_left;
            deliver_payload(y, data + off, (uint32_t)n);
            off += n;
            y->payload_left -= (uint32_t)n;
            y->stats.bytes_in += n;
            if (y->payload_left == 0)
                finish_payload(y);
            continue;
        }
        if (y->hdr_len == 0 && out_room(y) < RECV_RESERVE)
            break; /* the shell must drain the output first */
        size_t want = OCTO_YAMUX_HEADER_LEN - y->hdr_len;
        size_t n = max - off < want ? max - off : want;
        memcpy(y->hdr + y->hdr_len, data + off, n);
        y->hdr_len = (uint8_t)(y->hdr_len + n);
        off += n;
        if (y->hdr_len < OCTO_YAMUX_HEADER_LEN)
            break;
        y->hdr_len = 0;
        y->stats.frames_in++;
        y->stats.bytes_in += OCTO_YAMUX_HEADER_LEN;
        int rc = handle_header(y, now);
        if (rc < 0)
            return rc;
    }
    return (int)off;
}

/* ---- output and events ---- */

void octo_yamux_out(const struct octo_yamux *y, const uint8_t **data, size_t *len)
{
    *len = out_pending(y);
    *data = *len != 0 ? y->out.data + y->out_off : NULL;
}

void octo_yamux_out_consume(struct octo_yamux *y, size_t n)
{
    OCTO_ASSERT(n <= out_pending(y));
    y->out_off += n;
    if (y->out_off == y->out.len) {
        y->out.len = 0;
        y->out_off = 0;
    }
    if (y->updates_pending > 0 && control_room(y)) {
        for (uint32_t i = 0; i < y->stream_count && y->updates_pending > 0; i++) {
            struct octo_yamux_stream *s = y->streams[i];
            if (s->update_pending)
                stream_update_window(y, s, y->now_last);
        }
    }
    if (y->out_blocked && out_pending(y) <= y->cfg.out_max / 2) {
        y->out_blocked = false;
        for (uint32_t i = 0; i < y->stream_count; i++)
            stream_check_writable(y, y->streams[i]);
    }
}

bool octo_yamux_poll(struct octo_yamux *y, struct octo_yamux_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (y->sess_pending & SEV_GOAWAY) {
        y->sess_pending &= (uint8_t)~SEV_GOAWAY;
        ev->type = OCTO_YAMUX_EV_GOAWAY_RECEIVED;
        ev->code = y->ev_goaway_code;
        ev->detail = "goaway received";
        return true;
    }
    if (y->sess_pending & SEV_RTT) {
        y->sess_pending &= (uint8_t)~SEV_RTT;
        ev->type = OCTO_YAMUX_EV_PING_RTT;
        ev->rtt_ns = y->ev_rtt_ns;
        ev->detail = "ping rtt";
        return true;
    }
    if (y->sess_pending & SEV_ERROR) {
        y->sess_pending &= (uint8_t)~SEV_ERROR;
        ev->type = OCTO_YAMUX_EV_SESSION_ERROR;
        ev->code = (uint32_t)y->error_reason;
        ev->detail = octo_yamux_reason_str(y->error_reason);
        return true;
    }
    while (y->dirty_head != NULL) {
        struct octo_yamux_stream *s = y->dirty_head;
        uint8_t bit = (uint8_t)(s->pending & (uint8_t)-s->pending);
        s->pending &= (uint8_t)~bit;
        if (s->pending == 0) {
            y->dirty_head = s->dirty_next;
            if (y->dirty_head == NULL)
                y->dirty_tail = NULL;
            s->in_dirty = false;
            s->dirty_next = NULL;
        }
        if (bit == 0)
            continue;
        ev->type = stream_event_type(bit);
        ev->stream_id = s->id;
        ev->detail = stream_event_detail(bit);
        if (bit == EV_CLOSED) {
            OCTO_ASSERT(s->ended);
            OCTO_ASSERT(!s->in_dirty);
            stream_free(y, s);
        }
        return true;
    }
    return false;
}

/* ---- application operations ---- */

/* Looks up a live stream for an application call. */
static int app_stream(struct octo_yamux *y, uint32_t id, struct octo_yamux_stream **out)
{
    OCTO_ASSERT(y->streams != NULL);
    *out = stream_find(y, id);
    if (*out == NULL)
        return OCTO_ENOTFOUND;
    return 0;
}

int octo_yamux_open(struct octo_yamux *y, octo_tick now, uint32_t *id)
{
    OCTO_ASSERT(y->streams != NULL);
    OCTO_ASSERT(id != NULL);
    if (y->error != 0 || y->local_goaway || y->remote_goaway)
        return OCTO_ESTATE;
    if (y->next_id == 0)
        return OCTO_ERANGE;
    if (y->outbound_count >= y->cfg.max_outbound_streams ||
        y->outbound_unacked >= y->cfg.max_unacked_outbound || !control_room(y))
        return OCTO_EBUSY;
    uint32_t sid = y->next_id;
    struct octo_yamux_stream *s = stream_new(y, sid, true, now);
    if (s == NULL)
        return OCTO_ENOMEM;
    int rc = emit_frame(y, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_SYN, sid, 0);
    OCTO_ASSERT(rc == 0); /* control_room() checked */
    y->next_id = sid <= UINT32_MAX - 2 ? sid + 2 : 0;
    y->stats.streams_opened_out++;
    *id = sid;
    return 0;
}

int octo_yamux_accept(struct octo_yamux *y, uint32_t id)
{
    struct octo_yamux_stream *s;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (s->ended || y->error != 0)
        return OCTO_ESTATE;
    if (s->outbound || s->acked)
        return 0;
    if (!control_room(y))
        return OCTO_EBUSY;
    rc = emit_frame(y, OCTO_YAMUX_TYPE_WINDOW_UPDATE, send_flags(y, s), id, 0);
    OCTO_ASSERT(rc == 0);
    return 0;
}

int octo_yamux_write(struct octo_yamux *y, octo_tick now, uint32_t id, const uint8_t *data,
                     size_t len)
{
    OCTO_ASSERT(data != NULL || len == 0);
    y->now_last = now;
    struct octo_yamux_stream *s;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (y->error != 0 || s->ended || s->local_fin)
        return OCTO_ESTATE;
    size_t max = len > INT_MAX ? INT_MAX : len;
    size_t done = 0;
    bool out_limited = false;
    while (done < max) {
        size_t n = max - done;
        if (n > OCTO_YAMUX_FRAME_DATA_MAX)
            n = OCTO_YAMUX_FRAME_DATA_MAX;
        if (n > s->send_window)
            n = (size_t)s->send_window;
        size_t room = data_room(y);
        if (n > room) {
            n = room;
            out_limited = true;
        }
        if (n == 0)
            break;
        uint16_t flags = send_flags(y, s);
        rc = emit_frame(y, OCTO_YAMUX_TYPE_DATA, flags, id, (uint32_t)n);
        OCTO_ASSERT(rc == 0); /* data_room() checked */
        rc = out_append(y, data + done, n);
        OCTO_ASSERT(rc == 0);
        y->stats.bytes_out += n;
        y->stats.data_bytes_out += n;
        s->send_window -= n;
        done += n;
    }
    if (done < len) {
        s->blocked = true;
        if (out_limited || data_room(y) == 0)
            y->out_blocked = true;
    }
    return (int)done;
}

int octo_yamux_write_direct(struct octo_yamux *y, octo_tick now, uint32_t id, size_t len,
                            uint8_t hdr[OCTO_YAMUX_HEADER_LEN])
{
    y->now_last = now;
    struct octo_yamux_stream *s;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (y->error != 0 || s->ended || s->local_fin)
        return OCTO_ESTATE;
    if (out_pending(y) > 0 || len == 0)
        return 0;
    size_t n = len < OCTO_YAMUX_FRAME_DATA_MAX ? len : OCTO_YAMUX_FRAME_DATA_MAX;
    if (n > s->send_window)
        n = (size_t)s->send_window;
    if (n == 0) {
        s->blocked = true;
        return 0;
    }
    octo_yamux_header_encode(hdr, OCTO_YAMUX_TYPE_DATA, send_flags(y, s), id, (uint32_t)n);
    y->stats.frames_out++;
    y->stats.bytes_out += OCTO_YAMUX_HEADER_LEN + n;
    y->stats.data_bytes_out += n;
    s->send_window -= n;
    return (int)n;
}

/* After the application took bytes of s: credit the peer (maybe), end the stream if done. */
static void stream_consumed(struct octo_yamux *y, struct octo_yamux_stream *s, octo_tick now)
{
    y->now_last = now;
    stream_update_window(y, s, now);
    stream_maybe_finish(y, s);
}

int octo_yamux_read(struct octo_yamux *y, octo_tick now, uint32_t id, uint8_t *buf, size_t cap)
{
    OCTO_ASSERT(buf != NULL || cap == 0);
    struct octo_yamux_stream *s;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (cap == 0)
        return OCTO_EINVAL;
    if (s->reset)
        return OCTO_ESTATE;
    if (s->rx.len == 0)
        return s->remote_fin || s->ended ? 0 : OCTO_EAGAIN;
    uint32_t n = cap < s->rx.len ? (uint32_t)cap : s->rx.len;
    ring_pop(&s->rx, buf, n);
    stream_consumed(y, s, now);
    return (int)n;
}

int octo_yamux_peek(struct octo_yamux *y, uint32_t id, const uint8_t **data)
{
    struct octo_yamux_stream *s;
    *data = NULL;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (s->reset)
        return OCTO_ESTATE;
    if (s->rx.len == 0)
        return s->remote_fin || s->ended ? 0 : OCTO_EAGAIN;
    uint32_t first = s->rx.len < s->rx.cap - s->rx.head ? s->rx.len : s->rx.cap - s->rx.head;
    *data = s->rx.data + s->rx.head;
    return (int)first;
}

int octo_yamux_consume(struct octo_yamux *y, octo_tick now, uint32_t id, size_t n)
{
    struct octo_yamux_stream *s;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (s->reset)
        return OCTO_ESTATE;
    if (n > s->rx.len)
        return OCTO_EINVAL;
    ring_skip(&s->rx, (uint32_t)n);
    stream_consumed(y, s, now);
    return 0;
}

int octo_yamux_close(struct octo_yamux *y, uint32_t id)
{
    struct octo_yamux_stream *s;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (s->reset || y->error != 0)
        return OCTO_ESTATE;
    if (s->local_fin || s->ended)
        return 0;
    if (!control_room(y))
        return OCTO_EBUSY;
    uint16_t flags = (uint16_t)(send_flags(y, s) | OCTO_YAMUX_FLAG_FIN);
    rc = emit_frame(y, OCTO_YAMUX_TYPE_WINDOW_UPDATE, flags, id, 0);
    OCTO_ASSERT(rc == 0);
    s->local_fin = true;
    s->blocked = false;
    stream_maybe_finish(y, s);
    return 0;
}

int octo_yamux_reset(struct octo_yamux *y, uint32_t id)
{
    struct octo_yamux_stream *s;
    int rc = app_stream(y, id, &s);
    if (rc < 0)
        return rc;
    if (s->ended)
        return OCTO_ESTATE;
    if (y->error == 0) {
        if (!control_room(y))
            return OCTO_EBUSY;
        rc = emit_frame(y, OCTO_YAMUX_TYPE_WINDOW_UPDATE, OCTO_YAMUX_FLAG_RST, id, 0);
        OCTO_ASSERT(rc == 0);
        y->stats.resets_out++;
    }
    s->reset = true;
    s->pending &= (uint8_t) ~(EV_REMOTE_FIN);
    stream_end(y, s);
    return 0;
}

int octo_yamux_goaway(struct octo_yamux *y, uint32_t code)
{
    OCTO_ASSERT(y->streams != NULL);
    if (code > OCTO_YAMUX_GOAWAY_INTERNAL_ERROR)
        return OCTO_EINVAL;
    if (y->error != 0)
        return OCTO_ESTATE;
    if (y->local_goaway)
        return 0;
    if (!control_room(y))
        return OCTO_EBUSY;
    int rc = emit_frame(y, OCTO_YAMUX_TYPE_GOAWAY, 0, 0, code);
    OCTO_ASSERT(rc == 0);
    y->local_goaway = true;
    return 0;
}

int octo_yamux_ping(struct octo_yamux *y, octo_tick now)
{
    OCTO_ASSERT(y->streams != NULL);
    if (y->error != 0)
        return OCTO_ESTATE;
    if (y->ping_outstanding)
        return 0;
    if (!control_room(y))
        return OCTO_EBUSY;
    uint32_t opaque = y->ping_next++;
    int rc = emit_frame(y, OCTO_YAMUX_TYPE_PING, OCTO_YAMUX_FLAG_SYN, 0, opaque);
    OCTO_ASSERT(rc == 0);
    y->ping_outstanding = true;
    y->ping_opaque = opaque;
    y->ping_sent_at = now;
    y->keepalive_next = now + y->cfg.keepalive_interval_ns;
    y->stats.pings_sent++;
    return 0;
}

octo_tick octo_yamux_next_deadline(const struct octo_yamux *y)
{
    if (y->error != 0)
        return OCTO_YAMUX_TICK_NEVER;
    if (y->ping_outstanding) {
        octo_tick t = y->ping_sent_at + y->cfg.keepalive_timeout_ns;
        return t >= y->ping_sent_at ? t : OCTO_YAMUX_TICK_NEVER;
    }
    if (y->cfg.keepalive_off)
        return OCTO_YAMUX_TICK_NEVER;
    return y->keepalive_next;
}

int octo_yamux_on_timer(struct octo_yamux *y, octo_tick now)
{
    OCTO_ASSERT(y->streams != NULL);
    y->now_last = now;
    if (y->error != 0)
        return y->error;
    if (y->ping_outstanding) {
        if (now >= y->ping_sent_at && now - y->ping_sent_at >= y->cfg.keepalive_timeout_ns)
            return session_fail(y, OCTO_YAMUX_ERR_KEEPALIVE_TIMEOUT, OCTO_EIO);
        return 0;
    }
    if (y->cfg.keepalive_off || now < y->keepalive_next)
        return 0;
    if (octo_yamux_ping(y, now) == OCTO_EBUSY)
        y->keepalive_next = now + OCTO_NS_PER_S; /* output full: try again shortly */
    return 0;
}

const struct octo_yamux_stats *octo_yamux_stats(const struct octo_yamux *y)
{
    return &y->stats;
}

int octo_yamux_stream_info(const struct octo_yamux *y, uint32_t id,
                           struct octo_yamux_stream_info *info)
{
    const struct octo_yamux_stream *s = stream_find(y, id);
    if (s == NULL)
        return OCTO_ENOTFOUND;
    memset(info, 0, sizeof(*info));
    info->outbound = s->outbound;
    info->acked = s->acked;
    info->local_fin = s->local_fin;
    info->remote_fin = s->remote_fin;
    info->reset = s->reset;
    info->ended = s->ended;
    info->recv_window = s->recv_window;
    info->recv_credit = s->recv_credit;
    info->send_window = s->send_window;
    info->buffered = s->rx.len;
    info->inflight = y->payload_id == s->id ? y->payload_left : 0;
    return 0;
}
