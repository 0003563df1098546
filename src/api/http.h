/*
 * http.h — the node's HTTP server: libmicrohttpd in "external polling" mode, driven from the
 * node's libuv loop (MHD's epoll fd watched by a uv_poll, its timeout by a uv_timer; no MHD
 * thread, so handlers run on the loop like every other part of the node).
 *
 * A request reaches the handler once, with its whole body (at most body_max bytes: a larger
 * Content-Length, or a body that grows past it, is answered 413 before the handler sees it).
 * The handler answers with exactly one of octo_http_reply (a whole body) or
 * octo_http_stream_start (then octo_http_stream_write as data comes, octo_http_stream_end),
 * either before it returns or later from any loop callback: until it answers, the connection
 * is suspended. A streamed response is sent chunked as it is written (Server-Sent Events
 * need no more); when the client has taken everything written so far the connection is
 * suspended again until the next write, so nothing busy-waits.
 *
 * A request lives until its response is sent or its client goes away; a handler that keeps
 * the request for a later answer must register octo_http_on_gone (to learn when to let go)
 * before it returns: one that neither answers nor registers gets a 500 sent for it. A request
 * waiting longer than OCTO_HTTP_WAIT_MAX_S for its answer (or a stream for its next bytes) is
 * ended: the holder is told through its gone callback, the client gets a 504 or a cut stream.
 * A body that grows past the limit without a Content-Length (chunked) closes the connection.
 * Paths come percent-decoded and without the query, as libmicrohttpd gives them. Stopping
 * from inside a handler takes effect when the handler's MHD call returns.
 *
 * Limits: OCTO_HTTP_CONNECTIONS_MAX connections, OCTO_HTTP_IDLE_S idle seconds, header memory
 * per connection OCTO_HTTP_CONN_MEMORY, OCTO_HTTP_STREAM_BUF_MAX bytes written and not yet
 * taken by a streaming client (a write past it is OCTO_ETOOBIG: the caller slows down or ends).
 */
#ifndef OCTO_API_HTTP_H
#define OCTO_API_HTTP_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define OCTO_HTTP_BODY_MAX (1u << 20)       /* request body, default */
#define OCTO_HTTP_CONNECTIONS_MAX 1024u     /* open connections at once */
#define OCTO_HTTP_IDLE_S 60u                /* an idle connection is closed after this */
#define OCTO_HTTP_CONN_MEMORY (64u * 1024u) /* request line and headers of one connection */
#define OCTO_HTTP_STREAM_BUF_MAX (4u << 20) /* streamed bytes waiting for the client */
#define OCTO_HTTP_PER_IP_MAX 256u           /* connections from one address */
#define OCTO_HTTP_WAIT_MAX_S 600u           /* for an answer, or a stream's next bytes */

struct octo_http_server;
struct octo_http_req;

typedef void (*octo_http_handler_fn)(void *ctx, struct octo_http_req *req);
typedef void (*octo_http_gone_fn)(void *ctx, struct octo_http_req *req);

struct octo_http_config {
    uv_loop_t *loop;
    const char *host; /* numeric IPv4 or IPv6 address to listen on */
    uint16_t port;    /* 0: any free port (octo_http_port tells which) */
    size_t body_max;  /* 0: OCTO_HTTP_BODY_MAX */
    octo_http_handler_fn handler;
    void *ctx;
};

struct octo_http_header {
    const char *name, *value;
};

struct octo_http_stats {
    uint64_t requests, status_2xx, status_3xx, status_4xx, status_5xx, too_large, gone, streams,
        bytes_streamed, timeouts;
    uint64_t open; /* requests not finished */
};

/* Listens and serves. Errors: OCTO_EINVAL (bad address), OCTO_EIO (cannot listen),
 * OCTO_ENOMEM. */
OCTO_MUST_USE int octo_http_start(struct octo_http_server **out,
                                  const struct octo_http_config *cfg);
uint16_t octo_http_port(const struct octo_http_server *s);
const struct octo_http_stats *octo_http_stats(const struct octo_http_server *s);
/* Ends every request still open (streams end with an error), closes the listener and frees
 * the server once its libuv handles are closed (run the loop afterwards). */
void octo_http_stop(struct octo_http_server *s);

/* The request, valid until its response is sent or octo_http_on_gone's callback returns. */
const char *octo_http_method(const struct octo_http_req *r);
const char *octo_http_path(const struct octo_http_req *r); /* without the query string */
/* A header (case-insensitive name) or query argument; NULL when absent. */
const char *octo_http_header(const struct octo_http_req *r, const char *name);
const char *octo_http_query(const struct octo_http_req *r, const char *name);
const uint8_t *octo_http_body(const struct octo_http_req *r, size_t *len);
/* Monotonic nanoseconds when the request was complete (for latency and overhead headers). */
uint64_t octo_http_arrived_ns(const struct octo_http_req *r);
void octo_http_on_gone(struct octo_http_req *r, octo_http_gone_fn fn, void *ctx);
/* A small integer the caller keeps with the request (the API's route, for its counters), and
 * a text slot of OCTO_HTTP_NOTE_MAX bytes (the API keeps the request id there), "" at first. */
#define OCTO_HTTP_NOTE_MAX 72
void octo_http_set_tag(struct octo_http_req *r, int tag);
int octo_http_tag(const struct octo_http_req *r);
char *octo_http_note(struct octo_http_req *r);

/* The whole answer. Errors: OCTO_ESTATE (already answered), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_http_reply(struct octo_http_req *r, unsigned status,
                                  const char *content_type, const void *body, size_t len,
                                  const struct octo_http_header *headers, size_t n_headers);
/* A streamed answer: headers now, the body as it is written. */
OCTO_MUST_USE int octo_http_stream_start(struct octo_http_req *r, unsigned status,
                                         const char *content_type,
                                         const struct octo_http_header *headers, size_t n_headers);
/* Errors: OCTO_ESTATE (not streaming, or ended), OCTO_ETOOBIG (the client is too slow). */
OCTO_MUST_USE int octo_http_stream_write(struct octo_http_req *r, const void *data, size_t len);
void octo_http_stream_end(struct octo_http_req *r);

#endif
