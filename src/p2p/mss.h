/*
 * mss.h — multistream-select 1.0 (multiformats/multistream-select), both roles, sans-I/O.
 *
 * Every message is uvarint(len(text) + 1) || text || '\n'. The header is
 * "/multistream/1.0.0"; "na" rejects a proposal; "ls" asks a listener for its protocols.
 *
 * Dialer: octo_mss_init queues the header and the first proposal as ONE output write (it never
 * waits for the listener's header: the js listener writes nothing before it has read). Replies
 * may arrive coalesced (header + echo, header + na). On "na" the next configured protocol is
 * proposed; after the last "na" a FAILED event (OCTO_MSS_NO_PROTOCOL) ends the negotiation.
 *
 * Listener: parses several messages from one read, answers the header once, echoes a supported
 * proposal (then SELECTED) or answers "na", answers "ls" with its protocol list. The first
 * message must be the header.
 *
 * Both roles: recv consumes exactly the bytes of the negotiation. Once SELECTED, recv stops at
 * the end of the selecting message and later calls consume nothing, so the caller hands the
 * rest of its input (e.g. a Noise message sent right after the proposal) to the next layer.
 * A message whose text holds several '\n'-separated lines is handled line by line (newer js
 * writes "header\nproto\n" as one message).
 *
 * Limits (js values): a message is at most OCTO_MSS_MESSAGE_MAX bytes including the '\n'
 * (so a protocol is at most OCTO_MSS_PROTOCOL_MAX bytes), its length prefix at most
 * OCTO_MSS_PREFIX_MAX varint bytes; a listener answers at most OCTO_MSS_PROPOSALS_MAX
 * proposals (ls included) and then gives up. Memory: one bounded octo_buf for output (grown
 * once), a fixed input buffer inside the struct; no allocation per message.
 */
#ifndef OCTO_P2P_MSS_H
#define OCTO_P2P_MSS_H

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_MSS_HEADER "/multistream/1.0.0"
#define OCTO_MSS_MESSAGE_MAX 1024 /* varint value: text + '\n' (js MAX_PROTOCOL_LENGTH) */
#define OCTO_MSS_PROTOCOL_MAX (OCTO_MSS_MESSAGE_MAX - 1)
#define OCTO_MSS_PREFIX_MAX 2     /* varint bytes of the length prefix */
#define OCTO_MSS_PROTOCOLS_MAX 32 /* configured protocols per instance */
#define OCTO_MSS_PROPOSALS_MAX 32 /* proposals a listener answers before giving up */
/* Output ceiling: the header plus an ls answer listing every configured protocol, twice. */
#define OCTO_MSS_OUT_MAX (2 * (OCTO_MSS_PROTOCOLS_MAX + 2) * (OCTO_MSS_MESSAGE_MAX + 4))

enum octo_mss_role {
    OCTO_MSS_DIALER = 1,
    OCTO_MSS_LISTENER = 2,
};

struct octo_mss_config {
    enum octo_mss_role role;
    /* Protocols in preference order (dialer) or the supported set (listener). Borrowed: the
     * strings must outlive the instance. 1..OCTO_MSS_PROTOCOLS_MAX entries, each 1..
     * OCTO_MSS_PROTOCOL_MAX bytes without '\n', none equal to "na", "ls" or the header. */
    const char *const *protocols;
    size_t protocols_count;
};

enum octo_mss_event_type {
    OCTO_MSS_EV_SELECTED = 1, /* protocol agreed; the negotiation is over */
    OCTO_MSS_EV_FAILED = 2,   /* no protocol agreed; the negotiation is over */
};

enum octo_mss_reason {
    OCTO_MSS_OK = 0,
    OCTO_MSS_NO_PROTOCOL = 1,        /* dialer: every proposal was refused */
    OCTO_MSS_BAD_HEADER = 2,         /* first message is not the multistream header */
    OCTO_MSS_MALFORMED = 3,          /* bad varint, empty message, missing '\n' */
    OCTO_MSS_TOO_LONG = 4,           /* message or length prefix over the limit */
    OCTO_MSS_TOO_MANY_PROPOSALS = 5, /* listener: OCTO_MSS_PROPOSALS_MAX answered */
    OCTO_MSS_UNEXPECTED = 6,         /* dialer: reply is neither the echo nor "na" */
    OCTO_MSS_OUTPUT_FULL = 7,        /* remote kept asking while the output was not drained */
};

struct octo_mss_event {
    enum octo_mss_event_type type;
    enum octo_mss_reason reason; /* OCTO_MSS_OK for SELECTED */
    const char *detail;          /* short static text */
    const char *protocol;        /* SELECTED: the configured string (borrowed) */
    size_t index;                /* SELECTED: index into config.protocols */
};

struct octo_mss_stats {
    uint32_t malformed;
    uint32_t too_long;
    uint32_t bad_header;
    uint32_t too_many_proposals;
    uint32_t unexpected;
    uint32_t na_sent;
    uint32_t na_received;
    uint32_t ls_answered;
};

struct octo_mss {
    struct octo_mss_config cfg;
    struct octo_buf out;
    uint8_t in[OCTO_MSS_PREFIX_MAX + OCTO_MSS_MESSAGE_MAX]; /* partial message */
    size_t in_len;
    size_t msg_len;  /* varint value of the message in `in`; 0 while the prefix is partial */
    size_t msg_off;  /* offset of its text in `in` */
    bool got_header; /* the remote's header was read */
    bool done;       /* SELECTED or FAILED reached */
    bool event_pending;
    struct octo_mss_event event;
    size_t proposal; /* dialer: index of the outstanding proposal */
    size_t proposals_seen;
    struct octo_mss_stats stats;
};

/* Validates cfg and initialises m. A dialer queues header + first proposal in the output.
 * Errors: OCTO_EINVAL (bad role, no protocols or more than OCTO_MSS_PROTOCOLS_MAX, a protocol
 * empty, too long, containing '\n', or reserved), OCTO_ENOMEM. m is deinit-safe on error. */
OCTO_MUST_USE int octo_mss_init(struct octo_mss *m, const struct octo_mss_config *cfg);

/* Frees the output buffer. Tolerates a zeroed struct. */
void octo_mss_deinit(struct octo_mss *m);

/* Feeds bytes from the remote. Returns the number consumed (everything up to the end of the
 * selecting message, or all of data while negotiating; 0 once the negotiation is over).
 * Errors (fatal for the connection/stream; a FAILED event with the reason is queued):
 * OCTO_EMALFORMED (bad varint, empty message, missing '\n'), OCTO_EPROTO (bad header, a
 * dialer's reply that is neither the echo nor "na"),
 * OCTO_ETOOBIG (message or prefix over the limit, too many proposals, output full),
 * OCTO_ENOMEM. `now` is unused (no timers: the shell applies the negotiation timeout). */
OCTO_MUST_USE int octo_mss_recv(struct octo_mss *m, octo_tick now, const uint8_t *data, size_t len);

/* Borrowed view of pending output bytes; valid until the next call on m. */
void octo_mss_out(const struct octo_mss *m, const uint8_t **data, size_t *len);

/* Drops n (<= pending) output bytes after the shell wrote them. */
void octo_mss_out_consume(struct octo_mss *m, size_t n);

/* Pops the next event into ev; false when none is pending. */
bool octo_mss_poll(struct octo_mss *m, struct octo_mss_event *ev);

/* True once SELECTED or FAILED was reached. */
bool octo_mss_done(const struct octo_mss *m);

/* Appends one multistream message for text (len bytes, no '\n') to out: the framing helper
 * the tests and other cores use. Errors: OCTO_EINVAL (len 0 or over OCTO_MSS_PROTOCOL_MAX),
 * OCTO_ETOOBIG / OCTO_ENOMEM from the buffer. */
OCTO_MUST_USE int octo_mss_write_message(struct octo_buf *out, const char *text, size_t len);

#endif
