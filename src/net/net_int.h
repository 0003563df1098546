/*
 * net_int.h — internal structures of the network shell, shared by net.c (listeners, dialing,
 * timers, limits), conn.c (the upgrade pipeline of one connection), stream.c (streams) and
 * builtin.c (identify, ping, echo, perf). Not for use outside src/net/.
 *
 * Ownership: the net owns its connections (a doubly linked list); a connection owns its
 * streams (a list). Memory is freed only from libuv close callbacks (connections) or after
 * the final on_close callback (streams), never while a callback further up the stack may
 * still use the object: a connection being torn down is marked `closing` and freed later.
 */
#ifndef OCTO_NET_NET_INT_H
#define OCTO_NET_NET_INT_H

#include "base/buf.h"
#include "net/net.h"
#include "p2p/mss.h"
#include "p2p/noise.h"
#include "p2p/yamux.h"

#define CONN_RX_MAX (256u * 1024u)           /* bytes read from the socket, not yet consumed */
#define CONN_WRITE_HIGH (4u * 1024u * 1024u) /* bytes queued in libuv before we stop adding */
#define STREAM_READ_CHUNK (64u * 1024u)
#define CONN_READ_CHUNK (128u * 1024u)    /* one socket read */
#define CONN_YAMUX_OUT_MAX (256u * 1024u) /* yamux output waiting for Noise */
#define RATE_TABLE_SIZE 256
#define TICK_MS 100
#define OCTO_NET_NEGOTIATION_TIMEOUT_MS 10000u /* per-stream multistream round */
#define CONN_EOF_LINGER_MS 5000u /* how long a half-closed peer's data may wait to drain */

enum conn_stage {
    STAGE_TCP = 0,      /* connecting */
    STAGE_MSS_SECURITY, /* negotiating /noise in the clear */
    STAGE_NOISE,        /* Noise handshake */
    STAGE_MSS_MUXER,    /* negotiating /yamux/1.0.0 inside Noise */
    STAGE_READY,        /* yamux running */
    STAGE_CLOSING,
};

struct net_dial {
    octo_net_dial_cb cb;
    void *ctx;
    bool has_peer;
    struct octo_peerid expected;
};

struct octo_net_stream;

struct net_conn {
    uv_tcp_t tcp; /* first: handle pointers convert to the conn */
    struct octo_net *net;
    struct net_conn *prev, *next;
    bool outbound;
    enum conn_stage stage;
    bool closing;       /* teardown started; freed in the close callback */
    bool socket_closed; /* uv_shutdown/uv_close issued: no more writes */
    bool read_stopped;  /* rx is full: resume when drained */
    bool in_pump;       /* re-entrancy guard */
    bool pump_again;
    int close_reason;
    struct octo_mss mss; /* security, then muxer negotiation */
    bool mss_live;
    struct octo_noise noise;
    bool noise_live;
    struct octo_yamux yamux;
    bool yamux_live;
    struct octo_peerid peer;
    bool peer_known;
    struct octo_multiaddr remote_addr;
    struct octo_buf rx;
    size_t rx_off;      /* consumed prefix of rx */
    const uint8_t *ext; /* while pumping a read in place: its unconsumed part */
    size_t ext_len;
    size_t write_queued;
    uint64_t started_ms;
    uint64_t idle_since_ms;
    struct net_dial dial; /* outbound: who waits for the upgrade */
    uv_connect_t connect_req;
    struct octo_net_stream *streams; /* list */
    size_t stream_count;
    bool identified;
    bool scheduled; /* on the net's pump list */
    struct net_conn *sched_next;
    bool eof; /* the peer closed its side: drain, then close */
    uint64_t eof_ms;
};

struct net_handler {
    char protocol[OCTO_NET_PROTOCOL_MAX + 1];
    octo_net_handler_fn fn;
    void *ctx;
};

struct net_listener {
    uv_tcp_t tcp;
    struct octo_net *net;
    struct octo_multiaddr addr; /* bound address */
};

struct rate_entry {
    uint8_t ip[16];
    uint64_t window_start_ms;
    uint32_t count;
};

struct octo_net {
    uv_loop_t *loop;
    struct octo_net_config cfg;
    struct octo_identity identity; /* copy (wiped on destroy) */
    struct octo_peerid local_peer;
    /* One Noise static key for every connection (libp2p allows per-process keys): its
     * public half and identity signature are computed once, not per handshake. */
    uint8_t noise_static_sk[32];
    uint8_t noise_static_pk[32];
    uint8_t noise_static_sig[OCTO_ED25519_SIG_LEN];
    char agent[128];
    struct net_listener listeners[OCTO_NET_LISTEN_MAX];
    size_t listener_count;
    struct net_conn *conns;
    size_t conn_count;
    struct net_handler handlers[OCTO_NET_HANDLERS_MAX];
    size_t handler_count;
    const char *handler_protocols[OCTO_NET_HANDLERS_MAX]; /* for multistream listeners */
    uv_timer_t timer;
    uv_check_t check;           /* runs scheduled pumps after each loop iteration */
    uv_idle_t idle;             /* active while pumps wait: the loop's poll must not block
                                   (a write made from a timer would wait for the next event) */
    struct net_conn *scheduled; /* connections to pump */
    struct rate_entry rate[RATE_TABLE_SIZE];
    struct octo_net_stats stats;
    octo_net_identify_cb identify_cb;
    void *identify_ctx;
    uint8_t scratch[STREAM_READ_CHUNK]; /* stream reads */
    uint8_t read_buf[CONN_READ_CHUNK];  /* socket reads (not reentrant: one loop thread) */
    bool shutting_down;
    size_t handles_open; /* listeners + conns + timer still to close */
    void (*shutdown_done)(void *ctx);
    void *shutdown_ctx;
};

/* net.c */
uint64_t octo__net_now_ms(const struct octo_net *n);
octo_tick octo__net_now(const struct octo_net *n);
void octo__net_handle_closed(struct octo_net *n);
void octo__net_run_scheduled(struct octo_net *n);
void octo__net_on_idle(uv_idle_t *h); /* nothing: its being active keeps poll from blocking */

/* conn.c */
struct net_conn *octo__conn_new(struct octo_net *n, bool outbound);
int octo__conn_start(struct net_conn *c); /* after TCP is connected/accepted */
void octo__conn_pump(struct net_conn *c);
/* Pumps c soon (from the loop's check phase), not inside the caller: for calls made by the
 * application, which must never see a stream freed under it. */
void octo__conn_schedule(struct net_conn *c);
void octo__conn_close(struct net_conn *c, int reason, const char *why);
void octo__conn_tick(struct net_conn *c, uint64_t now_ms);
void octo__conn_dial_done(struct net_conn *c);
void octo__conn_flush_socket(struct net_conn *c);
/* Noise output to the socket, now */ /* identify finished: tell the dialer */
struct net_conn *octo__conn_find_peer(struct octo_net *n, const struct octo_peerid *peer);

/* stream.c */
struct octo_net_stream *octo__stream_inbound(struct net_conn *c, uint32_t id);
struct octo_net_stream *octo__stream_find(struct net_conn *c, uint32_t id);
void octo__stream_event(struct net_conn *c, const struct octo_yamux_event *ev);
void octo__stream_conn_closed(struct net_conn *c, int reason);
void octo__stream_service(struct net_conn *c);
struct net_conn *octo__stream_conn(const struct octo_net_stream *s);
void octo__stream_tick(struct net_conn *c, uint64_t now_ms);
int octo__stream_open_on(struct net_conn *c, const char *protocol,
                         const struct octo_net_stream_ops *ops, void *ctx,
                         struct octo_net_stream **out);

/* builtin.c */
int octo__builtin_register(struct octo_net *n);
void octo__builtin_conn_ready(struct net_conn *c);

#endif
