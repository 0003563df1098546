/*
 * sse.h — an incremental Server-Sent-Events parser (the WHATWG "text/event-stream" format),
 * sans I/O: bytes go in as they arrive, complete events come out through a callback.
 *
 * A read may end anywhere — inside a field name, between the CR and LF of a CRLF, inside a
 * UTF-8 sequence — and the events are the same as if the whole stream had arrived at once.
 * Lines end with LF, CRLF or a lone CR. Per event: `data:` lines are joined with LF, `event:`
 * sets the type (default "message"), `id:` sets the last event id (kept across events, ignored
 * when the value contains NUL), `retry:` (ASCII digits only) sets the reconnection time; lines
 * starting with ':' are comments; unknown fields are ignored; one space after the colon is
 * dropped; a leading UTF-8 BOM is skipped. An event is dispatched at a blank line, only if it
 * had at least one `data:` line; an unterminated event at the end of the stream is discarded
 * (octo_sse_pending says whether one is buffered).
 *
 * Memory: two bounded buffers (general heap, tier 3) — the current line, at most
 * OCTO_SSE_LINE_MAX bytes, and the current event's data, at most OCTO_SSE_EVENT_MAX bytes.
 * Input beyond a limit is refused with OCTO_ETOOBIG, never buffered. Errors are sticky: after
 * one, every feed returns it again.
 */
#ifndef OCTO_INFER_SSE_H
#define OCTO_INFER_SSE_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_SSE_LINE_MAX (256u * 1024u)   /* one line, without its terminator */
#define OCTO_SSE_EVENT_MAX (1024u * 1024u) /* one event's joined data */
#define OCTO_SSE_TYPE_MAX 64u              /* the `event:` value */
#define OCTO_SSE_ID_MAX 256u               /* the `id:` value */
#define OCTO_SSE_RETRY_MAX 86400000u       /* larger `retry:` values are ignored (ms, a day) */

/* One dispatched event; every pointer is borrowed and valid only during the callback. */
struct octo_sse_event {
    const char *type; /* NUL-terminated; "message" when the event had no `event:` line */
    const char *data; /* NUL-terminated (data may also contain NUL bytes; use data_len) */
    size_t data_len;
    const char *id;   /* the last event id so far, NUL-terminated ("" if none) */
    int64_t retry_ms; /* the last valid `retry:` value so far, or -1 */
};

/* Called for each event. Return 0 to go on, or a negative OCTO_E* code to stop: the feed
 * returns that code, and it sticks. */
typedef int (*octo_sse_event_fn)(void *ctx, const struct octo_sse_event *ev);

struct octo_sse {
    struct octo_buf line; /* the current line so far */
    struct octo_buf data; /* the current event's data, each line followed by LF */
    bool has_data;        /* the current event had a `data:` line */
    bool cr_pending;      /* the last byte was CR: a following LF belongs to it */
    bool first_line;      /* no line finished yet (BOM check) */
    char type[OCTO_SSE_TYPE_MAX + 1];
    char id[OCTO_SSE_ID_MAX + 1];
    int64_t retry_ms;
    int err; /* sticky error, 0 if none */
};

void octo_sse_init(struct octo_sse *p);
/* Frees the buffers; tolerates a zeroed struct. */
void octo_sse_deinit(struct octo_sse *p);

/* Parses data[0..len), calling on_event(ctx, ev) for every event completed by it. Returns 0,
 * OCTO_ETOOBIG (a line, an event's data, an `event:` or `id:` value over its limit),
 * OCTO_ENOMEM, or the callback's negative code. After an error the parser is unusable and
 * every later call returns the same code. */
OCTO_MUST_USE int octo_sse_feed(struct octo_sse *p, const uint8_t *data, size_t len,
                                octo_sse_event_fn on_event, void *ctx);

/* True when a partial line or an undispatched event is buffered (a stream ending now would
 * lose it). */
bool octo_sse_pending(const struct octo_sse *p);

#endif
