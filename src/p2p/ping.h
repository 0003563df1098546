/*
 * ping.h — /ipfs/ping/1.0.0 (libp2p ping/ping.md), sans-I/O, both roles.
 *
 * Dialer: octo_ping_send queues OCTO_PING_LEN caller-provided random bytes and remembers
 * `now`; the identical echo yields an RTT event (now at receive - now at send). One ping is in
 * flight at a time (js opens at most one outbound ping stream per peer). A different echo, or
 * bytes while no ping is outstanding, is a fatal error. A ping unanswered for timeout_ns gives
 * a FAILED event from octo_ping_on_timer.
 *
 * Listener: echoes every complete OCTO_PING_LEN-byte block it receives. Output is bounded by
 * OCTO_PING_OUT_MAX: when the shell has not drained it, recv consumes only what can be
 * echoed (backpressure) and the caller offers the rest later.
 *
 * Memory: a bounded octo_buf for output, a fixed 32-byte block buffer; no allocation per ping.
 */
#ifndef OCTO_P2P_PING_H
#define OCTO_P2P_PING_H

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_PING_PROTOCOL "/ipfs/ping/1.0.0"
#define OCTO_PING_LEN 32
#define OCTO_PING_OUT_MAX (8 * OCTO_PING_LEN)             /* listener: unsent echoes held at most */
#define OCTO_PING_TIMEOUT_NS_DEFAULT (10 * OCTO_NS_PER_S) /* js TIMEOUT */
#define OCTO_PING_NO_DEADLINE UINT64_MAX

enum octo_ping_role {
    OCTO_PING_DIALER = 1,
    OCTO_PING_LISTENER = 2,
};

struct octo_ping_config {
    enum octo_ping_role role;
    uint64_t timeout_ns; /* dialer; 0 = OCTO_PING_TIMEOUT_NS_DEFAULT */
};

enum octo_ping_event_type {
    OCTO_PING_EV_RTT = 1,    /* dialer: echo matched */
    OCTO_PING_EV_FAILED = 2, /* fatal: see reason */
};

enum octo_ping_reason {
    OCTO_PING_OK = 0,
    OCTO_PING_MISMATCH = 1,    /* echo differs from the payload */
    OCTO_PING_UNSOLICITED = 2, /* dialer: bytes beyond the outstanding ping */
    OCTO_PING_TIMEOUT = 3,
};

struct octo_ping_event {
    enum octo_ping_event_type type;
    enum octo_ping_reason reason;
    const char *detail; /* short static text */
    uint64_t rtt_ns;    /* RTT events */
};

struct octo_ping_stats {
    uint32_t sent;
    uint32_t echoed; /* listener blocks echoed */
    uint32_t ok;
    uint32_t mismatch;
    uint32_t unsolicited;
    uint32_t timeout;
};

struct octo_ping {
    struct octo_ping_config cfg;
    struct octo_buf out;
    uint8_t payload[OCTO_PING_LEN]; /* dialer: the outstanding payload */
    uint8_t block[OCTO_PING_LEN];   /* bytes of the block being received */
    size_t block_len;
    bool outstanding;
    bool failed;
    octo_tick sent_at;
    bool event_pending;
    struct octo_ping_event event;
    struct octo_ping_stats stats;
};

/* Errors: OCTO_EINVAL (bad role). */
OCTO_MUST_USE int octo_ping_init(struct octo_ping *p, const struct octo_ping_config *cfg);

/* Frees the output buffer. Tolerates a zeroed struct. */
void octo_ping_deinit(struct octo_ping *p);

/* Dialer: queues payload (OCTO_PING_LEN random bytes from the caller) sent at `now`.
 * Errors: OCTO_ESTATE (listener, a ping outstanding, an undelivered event, or failed),
 * OCTO_ENOMEM. */
OCTO_MUST_USE int octo_ping_send(struct octo_ping *p, octo_tick now,
                                 const uint8_t payload[OCTO_PING_LEN]);

/* Feeds bytes from the remote; returns the number consumed. Dialer: at most the rest of the
 * outstanding ping (an RTT event when complete). Listener: as many as fit the output bound.
 * Errors (fatal, a FAILED event is queued): OCTO_EPROTO (mismatched echo, bytes with no ping
 * outstanding), OCTO_ESTATE (called after failure), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_ping_recv(struct octo_ping *p, octo_tick now, const uint8_t *data,
                                 size_t len);

void octo_ping_out(const struct octo_ping *p, const uint8_t **data, size_t *len);
void octo_ping_out_consume(struct octo_ping *p, size_t n);
bool octo_ping_poll(struct octo_ping *p, struct octo_ping_event *ev);

/* When the outstanding ping times out, or OCTO_PING_NO_DEADLINE. */
octo_tick octo_ping_next_deadline(const struct octo_ping *p);

/* Fails the outstanding ping (FAILED/OCTO_PING_TIMEOUT event, the instance is then dead) once
 * its deadline has passed. Returns 0; the timeout is reported as an event, not an error. */
int octo_ping_on_timer(struct octo_ping *p, octo_tick now);

#endif
