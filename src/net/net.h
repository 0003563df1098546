/*
 * net.h — the network shell: the libuv side of the libp2p-compatible stack.
 *
 * One struct octo_net per node, driven by one libuv loop (single-threaded: every function
 * here and every callback runs on the loop thread). It owns the TCP listeners and
 * connections and drives the sans-I/O cores of src/p2p/ for each connection:
 *
 *   TCP -> multistream-select (/noise) -> Noise XX -> [multistream-select (/yamux/1.0.0)
 *   unless the muxer was inlined in the Noise handshake] -> yamux -> one stream per protocol,
 *   each opened with its own multistream-select round.
 *
 * Higher protocols use streams: register a handler for inbound streams of a protocol id
 * (octo_net_handle), or open an outbound stream to a connected peer
 * (octo_net_stream_open). Built in: identify and identify-push (peers learned are written to
 * the peerstore when a store is configured), ping, and, when enabled for tests and
 * benchmarks, /octo/echo/1.0.0 and /perf/1.0.0.
 *
 * Limits: conns_max connections in all; inbound connections per source IP are rate-limited;
 * a connection that has not finished its upgrade within handshake_timeout_ms is closed, as
 * is one without streams for idle_timeout_ms; every buffer between the socket and a stream is
 * bounded (backpressure reaches the sender through TCP and yamux windows). A connection or
 * stream that breaks the protocol is reset with a logged reason and a counted statistic; the
 * node keeps serving the others.
 */
#ifndef OCTO_NET_NET_H
#define OCTO_NET_NET_H

#include "base/clock.h"
#include "base/err.h"
#include "base/multiaddr.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define OCTO_NET_LISTEN_MAX 8
#define OCTO_NET_CONNS_DEFAULT 256u
#define OCTO_NET_CONNS_LIMIT 65536u
#define OCTO_NET_HANDLERS_MAX 32
#define OCTO_NET_PROTOCOL_MAX 256         /* bytes of a protocol id we register or open */
#define OCTO_NET_INBOUND_RATE_DEFAULT 20u /* new inbound connections per IP per second */
#define OCTO_NET_HANDSHAKE_TIMEOUT_MS_DEFAULT 10000u
#define OCTO_NET_DIAL_TIMEOUT_MS_DEFAULT 10000u
#define OCTO_NET_IDLE_TIMEOUT_MS_DEFAULT 120000u
#define OCTO_NET_ECHO_PROTOCOL "/octo/echo/1.0.0"
#define OCTO_NET_PERF_PROTOCOL "/perf/1.0.0"

struct octo_store;
struct octo_net;
struct octo_net_stream;

struct octo_net_config {
    const struct octo_identity *identity; /* borrowed; must outlive the net */
    const struct octo_clock *clock;       /* wall time for peer-record sequence numbers */
    const struct octo_multiaddr *listen;  /* /ip4|ip6/.../tcp/PORT; PORT 0 = any */
    size_t listen_count;
    const char *agent_version;     /* NULL = "octo/<version>" */
    uint32_t conns_max;            /* 0 = OCTO_NET_CONNS_DEFAULT */
    uint32_t inbound_per_ip_per_s; /* 0 = OCTO_NET_INBOUND_RATE_DEFAULT */
    uint32_t handshake_timeout_ms; /* 0 = default */
    uint32_t dial_timeout_ms;      /* 0 = default */
    uint32_t idle_timeout_ms;      /* 0 = default; UINT32_MAX = never */
    struct octo_store *store;      /* optional: identified peers go to its peerstore */
    bool test_protocols;           /* serve /octo/echo/1.0.0 and /perf/1.0.0 */
    bool no_inline_muxer;          /* advertise no muxer in Noise: forces the multistream
                                      muxer round (interop with older peers; tests) */
};

/* Statistics (counters only grow), exported as metrics by the node. */
struct octo_net_stats {
    uint64_t conns_inbound, conns_outbound, conns_open;
    uint64_t conns_rejected_limit, conns_rejected_rate;
    uint64_t handshakes_ok, handshakes_failed, handshake_timeouts;
    uint64_t muxer_inlined, muxer_via_multistream; /* how the muxer was agreed */
    uint64_t conns_protocol_error, conns_idle_closed;
    uint64_t streams_inbound, streams_outbound, streams_refused;
    uint64_t identify_ok, identify_failed;
    uint64_t bytes_in, bytes_out;
};

/* Creates a net on loop. Errors: OCTO_EINVAL (no identity, bad listen address),
 * OCTO_ECONFIG (a limit out of range), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_net_create(struct octo_net **out, uv_loop_t *loop,
                                  const struct octo_net_config *cfg);

/* Binds every listen address. Errors: OCTO_EIO/OCTO_EPERM/OCTO_EEXIST (address in use)...,
 * with the failing address logged. */
OCTO_MUST_USE int octo_net_start(struct octo_net *n);

/* The bound listen addresses (ports resolved), without /p2p. Returns the count. */
size_t octo_net_listen_addrs(const struct octo_net *n, struct octo_multiaddr *out, size_t max);

/* Graceful stop: GoAway on every connection, flush, close sockets and listeners, then
 * done(ctx) on the loop. Streams get on_close. After done, octo_net_destroy. */
void octo_net_shutdown(struct octo_net *n, void (*done)(void *ctx), void *ctx);
void octo_net_destroy(struct octo_net *n);

const struct octo_net_stats *octo_net_stats(const struct octo_net *n);
const struct octo_peerid *octo_net_local_peer(const struct octo_net *n);

/* Dials addr (/ip4|ip6/.../tcp/PORT[/p2p/ID]); with /p2p the remote must prove that id.
 * cb runs once: status 0 and the peer id when the connection is upgraded (or an existing
 * connection to that peer is reused), or a negative OCTO_E*. */
typedef void (*octo_net_dial_cb)(struct octo_net *n, int status, const struct octo_peerid *peer,
                                 void *ctx);
OCTO_MUST_USE int octo_net_dial(struct octo_net *n, const struct octo_multiaddr *addr,
                                octo_net_dial_cb cb, void *ctx);

/* on_data delivers at most this many bytes per call. */
#define OCTO_NET_DATA_CHUNK_MAX (64u * 1024u)

/* Stream callbacks. Every one is optional. on_close is the last call for a stream; the
 * stream is freed when it returns. */
struct octo_net_stream_ops {
    void (*on_open)(struct octo_net_stream *s, int status, void *ctx); /* outbound: negotiated */
    void (*on_data)(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx);
    void (*on_end)(struct octo_net_stream *s, void *ctx);      /* the peer closed its side */
    void (*on_writable)(struct octo_net_stream *s, void *ctx); /* after a short write */
    void (*on_close)(struct octo_net_stream *s, int status, void *ctx);
};

/* Inbound handler: called when a stream has selected `protocol`; it sets the stream's ops
 * with octo_net_stream_set_ops (a handler that does not is reset). */
typedef void (*octo_net_handler_fn)(struct octo_net_stream *s, void *ctx);
OCTO_MUST_USE int octo_net_handle(struct octo_net *n, const char *protocol, octo_net_handler_fn fn,
                                  void *ctx);

/* Opens a stream for protocol to a connected peer (OCTO_ENOTFOUND when not connected).
 * ops->on_open reports the negotiation. *out may be NULL. */
OCTO_MUST_USE int octo_net_stream_open(struct octo_net *n, const struct octo_peerid *peer,
                                       const char *protocol, const struct octo_net_stream_ops *ops,
                                       void *ctx, struct octo_net_stream **out);
void octo_net_stream_set_ops(struct octo_net_stream *s, const struct octo_net_stream_ops *ops,
                             void *ctx);
/* Queues data; returns the bytes accepted (less than len under backpressure: wait for
 * on_writable), or OCTO_ESTATE / OCTO_ECLOSED. */
OCTO_MUST_USE int octo_net_stream_write(struct octo_net_stream *s, const uint8_t *data, size_t len);
/* Half-closes our side (FIN) once queued data is sent. */
OCTO_MUST_USE int octo_net_stream_close(struct octo_net_stream *s);
/* Aborts the stream (RST); on_close follows with OCTO_ERESET. */
void octo_net_stream_reset(struct octo_net_stream *s);
/* Stops (or resumes) on_data: unread data stays in the yamux window, which stops the peer. */
void octo_net_stream_pause(struct octo_net_stream *s, bool paused);
const struct octo_peerid *octo_net_stream_peer(const struct octo_net_stream *s);
const char *octo_net_stream_protocol(const struct octo_net_stream *s);

/* Pings a connected peer `count` times on one /ipfs/ping/1.0.0 stream; cb runs per round
 * trip with status 0 and the RTT, and a final time with done = true (status < 0 on failure). */
typedef void (*octo_net_ping_cb)(struct octo_net *n, int status, uint64_t rtt_ns, bool done,
                                 void *ctx);
OCTO_MUST_USE int octo_net_ping(struct octo_net *n, const struct octo_peerid *peer, unsigned count,
                                octo_net_ping_cb cb, void *ctx);

/* Identify results are also reported to this callback (one per identified connection). */
struct octo_net_peer_info {
    const struct octo_peerid *peer;
    const char *agent_version;
    const char *protocol_version;
    const char *const *protocols;
    size_t protocols_count;
    const struct octo_multiaddr *listen_addrs;
    size_t listen_addrs_count;
    bool has_observed_addr;
    struct octo_multiaddr observed_addr;
};
typedef void (*octo_net_identify_cb)(struct octo_net *n, const struct octo_net_peer_info *info,
                                     void *ctx);
void octo_net_on_identify(struct octo_net *n, octo_net_identify_cb cb, void *ctx);

/* Converts between multiaddrs and socket addresses (ip4/ip6 + tcp). */
OCTO_MUST_USE int octo_net_multiaddr_to_sockaddr(const struct octo_multiaddr *ma,
                                                 struct sockaddr_storage *out,
                                                 struct octo_peerid *peer, bool *has_peer);
OCTO_MUST_USE int octo_net_sockaddr_to_multiaddr(const struct sockaddr *sa,
                                                 struct octo_multiaddr *out);

#endif
