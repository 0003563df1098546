/*
 * yamux.h — one yamux session (/yamux/1.0.0, hashicorp spec + libp2p notes) over a reliable,
 * ordered byte stream, both roles, sans-I/O.
 *
 * Wire: every frame starts with a 12-byte big-endian header
 *   version(8)=0 | type(8) | flags(16) | stream id(32) | length(32)
 * types Data 0, WindowUpdate 1, Ping 2, GoAway 3; flags SYN 1, ACK 2, FIN 4, RST 8. Only Data
 * frames carry a payload (`length` bytes); for WindowUpdate `length` is a window delta, for
 * Ping an opaque value echoed back, for GoAway a code. Stream id 0 is the session (Ping,
 * GoAway only). The header is parsed incrementally: input may be split or coalesced anywhere,
 * and Data payloads are copied straight into the stream's receive buffer as they arrive (a
 * frame is never buffered whole).
 *
 * Roles: the dialer of the underlying connection is the client and opens odd ids, the
 * listener even ids. A SYN from the peer with our parity, with id 0, or with an id not above
 * the highest inbound id seen so far (reused id) is a protocol error. js, rust and go open ids
 * in increasing order; a peer that sends SYNs out of order is treated as reusing ids.
 *
 * Streams. open() sends WindowUpdate|SYN with delta 0 (as js) and data may follow before the
 * ACK. An inbound stream is reported by a STREAM_OPENED event and is ACKed by the first frame
 * we send on it, or explicitly by octo_yamux_accept() (WindowUpdate|ACK). FIN half-closes one
 * direction; RST aborts both. A stream ends when it was reset (either side), or when FIN was
 * sent and received and the application has read every buffered byte; a STREAM_CLOSED event
 * then reports it and the stream's memory is released when that event is polled. Until then
 * it still counts against the stream limits (so an application that never polls cannot be
 * made to hold unbounded memory). Limits: OCTO_YAMUX_STREAMS_DEFAULT inbound and outbound
 * streams (js maxInboundStreams/maxOutboundStreams), OCTO_YAMUX_UNACKED_DEFAULT streams we
 * have not ACKed (spec ACK backlog: later SYNs are answered with RST) and streams the peer has
 * not ACKed (open() fails with OCTO_EBUSY).
 *
 * Flow control: each stream's receive window starts at OCTO_YAMUX_WINDOW_INITIAL (256 KiB, set
 * by the protocol). A Data frame longer than the credit we granted is a protocol error (as js
 * ReceiveWindowExceededError), and we never send more than the peer granted. Window update
 * policy: updates are generated when the application READS (not when data arrives), once at
 * least half of the window has been consumed, so a sender always keeps at least half a
 * window of credit and a reader never floods the wire with tiny updates (js sends one after
 * every data frame; ours are fewer and larger, which js accepts). Auto-tuning (js): when the
 * half window was consumed within 4 x RTT of the previous update, the window doubles, up to
 * config.window_max (16 MiB). RTT comes from our yamux pings; until one completed,
 * config.rtt_default_ns is used (0 = no tuning before the first RTT, as js).
 * Data frames we send carry at most OCTO_YAMUX_FRAME_DATA_MAX bytes (js maxMessageSize). js
 * does not cap received Data frames except by the window, so neither do we: a received frame
 * may be as long as the credit granted.
 *
 * Ping: Ping|SYN is answered with Ping|ACK echoing the opaque value. octo_yamux_ping() sends
 * Ping|SYN (one outstanding at a time, as js) and a PING_RTT event reports the round trip. An
 * unsolicited or mismatched Ping|ACK is IGNORED and counted (js treats it as a protocol error;
 * a stale ACK does no harm and killing a connection over it helps nobody). Keepalive: every
 * config.keepalive_interval_ns (30 s) a ping is sent (the first as soon as the timer runs, to
 * learn the RTT, as js); a ping unanswered after config.keepalive_timeout_ns (15 s) is a dead
 * session (SESSION_ERROR with OCTO_YAMUX_ERR_KEEPALIVE_TIMEOUT).
 *
 * GoAway: octo_yamux_goaway() sends a code (0 normal, 1 protocol error, 2 internal error);
 * afterwards inbound SYNs are refused with RST and open() fails. After receiving GoAway,
 * open() fails; existing streams continue either way. Any protocol error sends GoAway(1),
 * reports SESSION_ERROR and makes recv return OCTO_EMALFORMED (fatal for the connection).
 *
 * Memory: the struct is caller-allocated. init allocates the stream table (one pointer per
 * allowed stream); each stream is one octo_malloc'd object whose receive buffer is allocated
 * lazily, grows by doubling, never exceeds the stream's window, and is freed with the stream.
 * Output goes to one bounded octo_buf: Data is accepted up to config.out_max (2 MiB) of
 * pending output (that is write()'s backpressure), and a further OCTO_YAMUX_OUT_HEADROOM is
 * reserved for control frames. recv stops consuming input (returns a short count) while that
 * headroom is nearly used, so a peer flooding pings cannot grow the output past the limit.
 * Events are not queued: each stream keeps a bitmask of pending events and sits on an
 * intrusive FIFO, so the event backlog is bounded by the streams themselves.
 */
#ifndef OCTO_P2P_YAMUX_H
#define OCTO_P2P_YAMUX_H

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_YAMUX_PROTOCOL_ID "/yamux/1.0.0"
#define OCTO_YAMUX_HEADER_LEN 12
#define OCTO_YAMUX_VERSION 0

#define OCTO_YAMUX_WINDOW_INITIAL (256u * 1024u)            /* protocol constant */
#define OCTO_YAMUX_WINDOW_MAX_DEFAULT (16u * 1024u * 1024u) /* js maxStreamWindowSize */
#define OCTO_YAMUX_WINDOW_MAX_LIMIT (1u << 30)              /* ceiling for config.window_max */
#define OCTO_YAMUX_FRAME_DATA_MAX (64u * 1024u)             /* js maxMessageSize */
#define OCTO_YAMUX_STREAMS_DEFAULT 1000u /* per direction, js maxIn/OutboundStreams */
#define OCTO_YAMUX_STREAMS_LIMIT 65536u  /* ceiling for the configured stream limits */
#define OCTO_YAMUX_UNACKED_DEFAULT 256u  /* spec ACK backlog */
#define OCTO_YAMUX_OUT_MAX_DEFAULT (2u * 1024u * 1024u)
#define OCTO_YAMUX_OUT_MAX_LIMIT (256u * 1024u * 1024u)
#define OCTO_YAMUX_OUT_HEADROOM (64u * 1024u) /* output reserved for control frames */
#define OCTO_YAMUX_KEEPALIVE_INTERVAL_DEFAULT (30 * OCTO_NS_PER_S)
#define OCTO_YAMUX_KEEPALIVE_TIMEOUT_DEFAULT (15 * OCTO_NS_PER_S)
#define OCTO_YAMUX_TICK_NEVER UINT64_MAX

enum octo_yamux_type {
    OCTO_YAMUX_TYPE_DATA = 0,
    OCTO_YAMUX_TYPE_WINDOW_UPDATE = 1,
    OCTO_YAMUX_TYPE_PING = 2,
    OCTO_YAMUX_TYPE_GOAWAY = 3,
};

enum octo_yamux_flag {
    OCTO_YAMUX_FLAG_SYN = 1,
    OCTO_YAMUX_FLAG_ACK = 2,
    OCTO_YAMUX_FLAG_FIN = 4,
    OCTO_YAMUX_FLAG_RST = 8,
};

enum octo_yamux_goaway_code {
    OCTO_YAMUX_GOAWAY_NORMAL = 0,
    OCTO_YAMUX_GOAWAY_PROTOCOL_ERROR = 1,
    OCTO_YAMUX_GOAWAY_INTERNAL_ERROR = 2,
};

/* Session error reasons (SESSION_ERROR events, stats.protocol_errors index). */
enum octo_yamux_reason {
    OCTO_YAMUX_ERR_NONE = 0,
    OCTO_YAMUX_ERR_BAD_VERSION = 1,        /* header version is not 0 */
    OCTO_YAMUX_ERR_BAD_TYPE = 2,           /* frame type above GoAway */
    OCTO_YAMUX_ERR_BAD_FLAGS = 3,          /* Ping that is neither SYN nor ACK */
    OCTO_YAMUX_ERR_BAD_STREAM_ID = 4,      /* Data/WindowUpdate on 0, Ping/GoAway on a stream */
    OCTO_YAMUX_ERR_PARITY = 5,             /* SYN with our parity (both sides are clients) */
    OCTO_YAMUX_ERR_REUSED_ID = 6,          /* SYN for a live or earlier stream id */
    OCTO_YAMUX_ERR_WINDOW_EXCEEDED = 7,    /* Data beyond the credit we granted */
    OCTO_YAMUX_ERR_WINDOW_OVERFLOW = 8,    /* WindowUpdate pushing the send window past 2^32-1 */
    OCTO_YAMUX_ERR_FRAME_TOO_BIG = 9,      /* Data for an unknown stream above window_max */
    OCTO_YAMUX_ERR_KEEPALIVE_TIMEOUT = 10, /* a ping went unanswered (not a protocol error) */
    OCTO_YAMUX_ERR_NO_MEMORY = 11,         /* allocation failed (GoAway internal error) */
    OCTO_YAMUX_ERR_COUNT = 12,
};

enum octo_yamux_event_type {
    OCTO_YAMUX_EV_STREAM_OPENED = 1,   /* inbound stream `stream_id` (accept or use it) */
    OCTO_YAMUX_EV_READABLE = 2,        /* data buffered on `stream_id`: call octo_yamux_read */
    OCTO_YAMUX_EV_REMOTE_FIN = 3,      /* the peer half-closed `stream_id` (read until 0) */
    OCTO_YAMUX_EV_WRITABLE = 4,        /* a stream whose write was short can send again */
    OCTO_YAMUX_EV_STREAM_RESET = 5,    /* the peer reset `stream_id` (buffered data dropped) */
    OCTO_YAMUX_EV_STREAM_CLOSED = 6,   /* `stream_id` ended; its id is invalid from now on */
    OCTO_YAMUX_EV_GOAWAY_RECEIVED = 7, /* `code` = the peer's GoAway code */
    OCTO_YAMUX_EV_PING_RTT = 8,        /* `rtt_ns` of our last ping */
    OCTO_YAMUX_EV_SESSION_ERROR = 9,   /* `code` = enum octo_yamux_reason; session is dead */
};

struct octo_yamux_event {
    enum octo_yamux_event_type type;
    uint32_t stream_id; /* stream events; 0 for session events */
    uint32_t code;      /* GOAWAY_RECEIVED: goaway code; SESSION_ERROR: reason */
    uint64_t rtt_ns;    /* PING_RTT */
    const char *detail; /* short static text (never NULL) */
};

/* Zero fields select the defaults. */
struct octo_yamux_config {
    bool client;                   /* dialer of the underlying connection: odd stream ids */
    uint32_t max_inbound_streams;  /* default OCTO_YAMUX_STREAMS_DEFAULT */
    uint32_t max_outbound_streams; /* default OCTO_YAMUX_STREAMS_DEFAULT */
    uint32_t max_unacked_inbound;  /* default OCTO_YAMUX_UNACKED_DEFAULT */
    uint32_t max_unacked_outbound; /* default OCTO_YAMUX_UNACKED_DEFAULT */
    uint32_t window_max;           /* auto-tuning ceiling; default 16 MiB, >= 256 KiB */
    size_t out_max;                /* pending output accepted for Data; default 2 MiB */
    bool keepalive_off;            /* no automatic pings */
    uint64_t keepalive_interval_ns;
    uint64_t keepalive_timeout_ns; /* applies to every ping we send */
    uint64_t rtt_default_ns;       /* RTT assumed for tuning until measured; 0 = none */
};

struct octo_yamux_stats {
    uint64_t frames_in, frames_out;
    uint64_t bytes_in, bytes_out;           /* wire bytes, headers included */
    uint64_t data_bytes_in, data_bytes_out; /* Data payload bytes */
    uint64_t window_updates_out;
    uint64_t streams_opened_in, streams_opened_out;
    uint64_t streams_refused; /* inbound SYNs answered with RST (limits, our GoAway) */
    uint64_t resets_in, resets_out;
    uint64_t pings_sent, pings_answered;
    uint64_t ping_acks_ignored; /* unsolicited or mismatched Ping|ACK */
    uint64_t frames_unknown_stream;
    uint64_t data_after_fin; /* Data after the peer's FIN: dropped */
    uint64_t protocol_errors[OCTO_YAMUX_ERR_COUNT];
};

struct octo_yamux_stream_info {
    bool outbound;
    bool acked;      /* outbound: ACK received; inbound: ACK sent */
    bool local_fin;  /* we sent FIN */
    bool remote_fin; /* the peer sent FIN */
    bool reset;
    bool ended;           /* STREAM_CLOSED is pending */
    uint32_t recv_window; /* current full receive window */
    uint32_t recv_credit; /* bytes the peer may still send */
    uint64_t send_window; /* bytes we may still send */
    size_t buffered;      /* received bytes not read yet */
    uint32_t inflight;    /* bytes of a Data frame being received, not arrived yet */
};

struct octo_yamux_stream;

struct octo_yamux {
    struct octo_yamux_config cfg; /* defaults resolved */
    struct octo_buf out;
    size_t out_off; /* bytes of out already consumed */
    /* frame parser */
    uint8_t hdr[OCTO_YAMUX_HEADER_LEN];
    uint8_t hdr_len;
    uint32_t payload_left; /* Data payload bytes still to come */
    uint32_t payload_id;   /* its stream (looked up per chunk; 0 = discard) */
    uint16_t payload_flags;
    /* streams, sorted by id */
    struct octo_yamux_stream **streams;
    uint32_t stream_count, stream_cap;
    uint32_t inbound_count, outbound_count;
    uint32_t inbound_unacked, outbound_unacked;
    uint32_t next_id;         /* our next outbound id; 0 when exhausted */
    uint32_t last_inbound_id; /* highest id the peer opened */
    uint32_t updates_pending; /* streams owing a window update that found no room */
    bool out_blocked;         /* a write was cut short by the output limit */
    struct octo_yamux_stream *dirty_head, *dirty_tail;
    /* session events */
    uint8_t sess_pending;
    uint32_t ev_goaway_code;
    uint64_t ev_rtt_ns;
    enum octo_yamux_reason error_reason;
    int error; /* 0, or the fatal error recv keeps returning */
    bool local_goaway, remote_goaway;
    /* ping / keepalive */
    bool ping_outstanding;
    uint32_t ping_opaque, ping_next;
    octo_tick ping_sent_at;
    octo_tick keepalive_next; /* 0 = as soon as the timer runs */
    bool rtt_known;
    uint64_t rtt_ns;
    octo_tick now_last; /* latest `now` seen, for updates sent from out_consume */
    struct octo_yamux_stats stats;
};

/* Validates cfg and initialises y (allocates the stream table). Errors: OCTO_ECONFIG (a limit
 * above its ceiling, window_max below the initial window), OCTO_ENOMEM. y is deinit-safe on
 * error. */
OCTO_MUST_USE int octo_yamux_init(struct octo_yamux *y, const struct octo_yamux_config *cfg);

/* Frees every stream, buffer and the table. Tolerates a zeroed struct. */
void octo_yamux_deinit(struct octo_yamux *y);

/* Feeds bytes read from the connection. Returns the number consumed: all of them, unless the
 * control headroom of the output is nearly used (drain the output, then offer the rest again).
 * Errors (fatal for the connection; a SESSION_ERROR event is pending and a GoAway is queued in
 * the output, flush it before closing): OCTO_EMALFORMED (protocol error), OCTO_ENOMEM,
 * OCTO_EIO (keepalive already timed out); recv keeps returning the same error. */
OCTO_MUST_USE int octo_yamux_recv(struct octo_yamux *y, octo_tick now, const uint8_t *data,
                                  size_t len);

/* Borrowed view of pending output; valid until the next call on y. */
void octo_yamux_out(const struct octo_yamux *y, const uint8_t **data, size_t *len);

/* Drops n (<= pending) output bytes the shell has written. May queue WRITABLE events and
 * window updates that were waiting for room. */
void octo_yamux_out_consume(struct octo_yamux *y, size_t n);

/* Pops the next event into ev; false when none is pending. Polling STREAM_CLOSED frees the
 * stream. Session events come before stream events. */
bool octo_yamux_poll(struct octo_yamux *y, struct octo_yamux_event *ev);

/* Opens an outbound stream: sends WindowUpdate|SYN, stores the id in *id. Errors: OCTO_ESTATE
 * (session failed, GoAway sent or received), OCTO_EBUSY (outbound stream limit, too many
 * streams not yet ACKed, or no output room: retry later), OCTO_ERANGE (ids exhausted). */
OCTO_MUST_USE int octo_yamux_open(struct octo_yamux *y, octo_tick now, uint32_t *id);

/* ACKs inbound stream id now (WindowUpdate|ACK) instead of on its first frame; 0 if already
 * ACKed or outbound. Errors: OCTO_ENOTFOUND, OCTO_ESTATE (ended/session failed), OCTO_EBUSY. */
OCTO_MUST_USE int octo_yamux_accept(struct octo_yamux *y, uint32_t id);

/* Queues up to len bytes on stream id as Data frames of at most OCTO_YAMUX_FRAME_DATA_MAX.
 * Returns the bytes accepted (0..len), limited by the peer's window and the output room; a
 * short count arms a WRITABLE event for when the stream can send again. Errors:
 * OCTO_ENOTFOUND, OCTO_ESTATE (after our FIN, reset, session failed). */
OCTO_MUST_USE int octo_yamux_write(struct octo_yamux *y, octo_tick now, uint32_t id,
                                   const uint8_t *data, size_t len);

/* Zero-copy send of one Data frame: when nothing is pending in the output, grants up to len
 * (at most OCTO_YAMUX_FRAME_DATA_MAX) bytes of stream id's send window, writes the frame
 * header to hdr and returns the payload length n. The caller MUST then transmit hdr followed
 * by exactly n bytes of its data before anything else this session outputs (the bytes never
 * enter the session's buffer). Returns 0 when output is pending (use octo_yamux_write) or
 * the window is closed (a WRITABLE event follows when it reopens). Errors as
 * octo_yamux_write. */
OCTO_MUST_USE int octo_yamux_write_direct(struct octo_yamux *y, octo_tick now, uint32_t id,
                                          size_t len, uint8_t hdr[OCTO_YAMUX_HEADER_LEN]);

/* Copies up to cap buffered bytes of stream id into buf and returns the count; 0 = end of
 * stream (the peer's FIN, everything read). Reading is what returns credit to the peer: a
 * window update (possibly enlarged by auto-tuning, hence `now`) is sent once half the window
 * has been consumed. Errors: OCTO_EAGAIN (nothing buffered yet), OCTO_ENOTFOUND,
 * OCTO_ESTATE (stream reset), OCTO_EINVAL (cap 0). */
OCTO_MUST_USE int octo_yamux_read(struct octo_yamux *y, octo_tick now, uint32_t id, uint8_t *buf,
                                  size_t cap);

/* Zero-copy read: points *data at the next contiguous run of buffered bytes of stream id and
 * returns its length (0 = end of stream). The bytes stay valid until the next call on y that
 * receives or consumes; hand them back with octo_yamux_consume. Errors as octo_yamux_read. */
OCTO_MUST_USE int octo_yamux_peek(struct octo_yamux *y, uint32_t id, const uint8_t **data);

/* Drops the first n (<= buffered) bytes of stream id after octo_yamux_peek: like a read of n
 * bytes, it may send a window update. Errors: OCTO_ENOTFOUND, OCTO_ESTATE, OCTO_EINVAL. */
OCTO_MUST_USE int octo_yamux_consume(struct octo_yamux *y, octo_tick now, uint32_t id, size_t n);

/* Half-closes our direction (FIN on a WindowUpdate frame). Idempotent. Errors:
 * OCTO_ENOTFOUND, OCTO_ESTATE (reset / session failed), OCTO_EBUSY (no output room). */
OCTO_MUST_USE int octo_yamux_close(struct octo_yamux *y, uint32_t id);

/* Aborts stream id (WindowUpdate|RST), drops its buffered data; a STREAM_CLOSED event follows.
 * Errors: OCTO_ENOTFOUND, OCTO_ESTATE (already ended), OCTO_EBUSY (no output room). */
OCTO_MUST_USE int octo_yamux_reset(struct octo_yamux *y, uint32_t id);

/* Sends GoAway with code (enum octo_yamux_goaway_code); later calls are no-ops. Errors:
 * OCTO_EINVAL (code > 2), OCTO_ESTATE (session failed), OCTO_EBUSY (no output room). */
OCTO_MUST_USE int octo_yamux_goaway(struct octo_yamux *y, uint32_t code);

/* Sends Ping|SYN unless one is outstanding (then 0 and its PING_RTT event will come). Errors:
 * OCTO_ESTATE (session failed), OCTO_EBUSY (no output room). */
OCTO_MUST_USE int octo_yamux_ping(struct octo_yamux *y, octo_tick now);

/* When on_timer should run next (the keepalive ping or the ping timeout), or
 * OCTO_YAMUX_TICK_NEVER. */
octo_tick octo_yamux_next_deadline(const struct octo_yamux *y);

/* Runs due timers: sends the keepalive ping, detects a ping timeout. Errors: OCTO_EIO (ping
 * timed out: the session is dead, a SESSION_ERROR event is pending). */
OCTO_MUST_USE int octo_yamux_on_timer(struct octo_yamux *y, octo_tick now);

/* Counters; valid for the life of y. */
const struct octo_yamux_stats *octo_yamux_stats(const struct octo_yamux *y);

/* State of stream id. Errors: OCTO_ENOTFOUND. */
OCTO_MUST_USE int octo_yamux_stream_info(const struct octo_yamux *y, uint32_t id,
                                         struct octo_yamux_stream_info *info);

/* Short static name of a reason ("window exceeded"). */
const char *octo_yamux_reason_str(enum octo_yamux_reason r);

/* Encodes a frame header into out (the helper the tests and fuzz seeds use). */
void octo_yamux_header_encode(uint8_t out[OCTO_YAMUX_HEADER_LEN], uint8_t type, uint16_t flags,
                              uint32_t stream_id, uint32_t length);

#endif
