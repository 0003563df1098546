/*
 * http.c — libmicrohttpd on the node's libuv loop (http.h).
 *
 * MHD runs with MHD_USE_EPOLL and no thread of its own: its epoll fd is watched by a uv_poll
 * and MHD_run is called when it is readable, when MHD's own timeout (MHD_get_timeout) is due,
 * and right after the node answers or writes to a suspended request ("kick": a 0 ms timer,
 * so MHD_run never runs inside one of its own callbacks).
 *
 * The access handler collects the body into the request, calls the handler once, and queues
 * the answer if there is one; otherwise it suspends the connection until octo_http_reply
 * resumes it. A streamed answer's reader hands out what was written and suspends the
 * connection when it has nothing more. Requests are kept on a list so that stop can resume
 * every suspended one (MHD must not stop with suspended connections) and end it.
 */
#include "api/http.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct octo_http_req {
    struct octo_http_server *srv;
    struct MHD_Connection *conn;
    struct octo_http_req *prev, *next; /* the server's list of open requests */
    const char *method;                /* MHD's, valid for the connection's request */
    char *path;
    struct octo_buf body;
    bool too_large, handled, suspended, answered, streaming, ended, queued, aborted;
    unsigned status;
    struct MHD_Response *resp; /* made by the answer, queued by the access handler */
    struct octo_buf out;       /* streamed bytes not yet taken */
    uint64_t arrived_ns, suspended_ns;
    octo_http_gone_fn gone;
    void *gone_ctx;
    int tag;
    char note[OCTO_HTTP_NOTE_MAX];
};

struct octo_http_server {
    struct octo_http_config cfg;
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer, sweep;
    bool stopping, in_run, stop_later;
    int closing; /* handles left to close */
    uint16_t port;
    struct octo_http_req *reqs;
    struct octo_http_stats stats;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- driving MHD from the loop -------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);
static void stop_now(struct octo_http_server *s);

/* MHD_run, then the timer set to MHD's next timeout (if any). A stop asked for from inside
 * MHD's callbacks happens here, after MHD_run has returned. */
static void run(struct octo_http_server *s)
{
    if (s->d == NULL)
        return;
    s->in_run = true;
    (void)MHD_run(s->d);
    s->in_run = false;
    if (s->stop_later) {
        stop_now(s);
        return;
    }
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(s->d, &ms) == MHD_YES)
        uv_timer_start(&s->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&s->timer);
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run(p->data);
}

/* MHD_run at the next loop turn (never from inside MHD's callbacks). */
static void kick(struct octo_http_server *s)
{
    if (s->d != NULL)
        uv_timer_start(&s->timer, on_timer, 0, 0);
}

/* ---- requests ---------------------------------------------------------------------------- */

static void count_status(struct octo_http_server *s, unsigned status)
{
    if (status < 300)
        s->stats.status_2xx++;
    else if (status < 400)
        s->stats.status_3xx++;
    else if (status < 500)
        s->stats.status_4xx++;
    else
        s->stats.status_5xx++;
}

static void resume(struct octo_http_req *r)
{
    if (r->suspended) {
        r->suspended = false;
        MHD_resume_connection(r->conn);
        kick(r->srv);
    }
}

static struct octo_http_req *req_new(struct octo_http_server *s, struct MHD_Connection *c,
                                     const char *url, const char *method)
{
    struct octo_http_req *r = octo_calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    size_t n = strcspn(url, "?");
    r->path = octo_malloc(n + 1);
    if (r->path == NULL) {
        octo_free(r);
        return NULL;
    }
    memcpy(r->path, url, n);
    r->path[n] = '\0';
    r->srv = s;
    r->conn = c;
    r->method = method;
    octo_buf_init(&r->body, s->cfg.body_max);
    octo_buf_init(&r->out, OCTO_HTTP_STREAM_BUF_MAX);
    r->next = s->reqs;
    if (s->reqs != NULL)
        s->reqs->prev = r;
    s->reqs = r;
    s->stats.requests++;
    s->stats.open++;
    return r;
}

static void req_free(struct octo_http_req *r)
{
    struct octo_http_server *s = r->srv;
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        s->reqs = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    if (r->resp != NULL)
        MHD_destroy_response(r->resp);
    octo_buf_deinit(&r->body);
    octo_buf_deinit(&r->out);
    octo_free(r->path);
    octo_free(r);
    s->stats.open--;
}

/* MHD: the request is over (answered, or the client went away). */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    struct octo_http_server *s = cls;
    struct octo_http_req *r = *con_cls;
    (void)c;
    if (r == NULL)
        return;
    *con_cls = NULL;
    /* the holder is told only while it may still hold r: before its answer (or its stream's
     * end) was given; after that it has let go */
    bool held = !r->answered || (r->streaming && !r->ended);
    if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK && held) {
        s->stats.gone++;
        if (r->gone != NULL)
            r->gone(r->gone_ctx, r);
    }
    req_free(r);
}

static enum MHD_Result queue_answer(struct octo_http_req *r)
{
    enum MHD_Result ok = MHD_queue_response(r->conn, r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->queued = true;
    return ok;
}

/* MHD's buffer calls take void * even for data they only read (PERSISTENT, MUST_COPY). */
static void *mhd_buf(const void *p)
{
    union {
        const void *c;
        void *v;
    } u = {.c = p};
    return u.v;
}

static enum MHD_Result reply_now(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), mhd_buf(text), MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static const char internal_json[] =
    "{\"error\":{\"message\":\"the server could not answer\",\"type\":\"server_error\","
    "\"param\":null,\"code\":\"internal\"}}";
static const char timeout_json[] =
    "{\"error\":{\"message\":\"no answer in time\",\"type\":\"server_error\","
    "\"param\":null,\"code\":\"timeout\"}}";

static const char too_large_json[] = "{\"error\":{\"message\":\"request body too large\","
                                     "\"type\":\"invalid_request_error\",\"code\":\"too_large\"}}";

static bool declared_too_large(struct MHD_Connection *c, size_t max)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL)
        return false;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return end == cl || *end != '\0' || n > max;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *data_size, void **con_cls)
{
    struct octo_http_server *s = cls;
    (void)version;
    struct octo_http_req *r = *con_cls;
    if (r == NULL) { /* headers are in: the request starts */
        r = req_new(s, c, url, method);
        if (r == NULL)
            return MHD_NO;
        *con_cls = r;
        r->too_large = declared_too_large(c, s->cfg.body_max);
        if (!r->too_large)
            return MHD_YES;
        /* refused before the body is read: MHD closes the connection after the answer */
    } else if (*data_size > 0) { /* a piece of the body */
        if (r->body.len + *data_size > s->cfg.body_max) {
            s->stats.too_large++; /* grew past the limit (chunked): no answer can be queued */
            return MHD_NO;        /* mid-upload, so the connection is closed */
        }
        if (octo_buf_append(&r->body, data, *data_size) != 0)
            return MHD_NO;
        *data_size = 0;
        return MHD_YES;
    }
    if (r->queued)
        return MHD_YES;
    if (r->aborted || (s->stopping && !r->handled))
        return MHD_NO; /* ended by the sweep, or stopping: no handler runs any more */
    if (r->too_large) {
        s->stats.too_large++;
        count_status(s, 413);
        r->queued = true;
        r->answered = true;
        return reply_now(c, 413, too_large_json);
    }
    if (!r->handled) {
        r->handled = true;
        r->arrived_ns = mono_ns();
        s->cfg.handler(s->cfg.ctx, r);
        if (!r->answered && r->gone == NULL) {
            /* a handler that answers later must say so (octo_http_on_gone): it keeps r */
            OCTO_WARN("http: %s %s: no answer and none promised", r->method, r->path);
            OCTO_IGNORE(octo_http_reply(r, 500, "application/json", internal_json,
                                        sizeof(internal_json) - 1, NULL, 0));
        }
    }
    if (r->resp != NULL)
        return queue_answer(r);
    if (s->stopping)
        return MHD_NO;
    r->suspended = true; /* answered later: octo_http_reply resumes it */
    r->suspended_ns = mono_ns();
    MHD_suspend_connection(c);
    return MHD_YES;
}

/* ---- answers ----------------------------------------------------------------------------- */

static int add_headers(struct MHD_Response *resp, const char *content_type,
                       const struct octo_http_header *h, size_t n)
{
    if (content_type != NULL &&
        MHD_add_response_header(resp, "Content-Type", content_type) != MHD_YES)
        return OCTO_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (MHD_add_response_header(resp, h[i].name, h[i].value) != MHD_YES)
            return OCTO_EINVAL;
    return 0;
}

static int answer(struct octo_http_req *r, unsigned status, struct MHD_Response *resp)
{
    r->answered = true;
    r->status = status;
    r->resp = resp;
    count_status(r->srv, status);
    resume(r);
    return 0;
}

/* resp (made by the caller; NULL: out of memory) with its headers, as r's answer. */
static int answer_with(struct octo_http_req *r, unsigned status, struct MHD_Response *resp,
                       const char *content_type, const struct octo_http_header *headers,
                       size_t n_headers)
{
    if (resp == NULL)
        return OCTO_ENOMEM;
    int rc = add_headers(resp, content_type, headers, n_headers);
    if (rc != 0) {
        MHD_destroy_response(resp);
        return rc;
    }
    return answer(r, status, resp);
}

int octo_http_reply(struct octo_http_req *r, unsigned status, const char *content_type,
                    const void *body, size_t len, const struct octo_http_header *headers,
                    size_t n_headers)
{
    if (r->answered)
        return OCTO_ESTATE;
    return answer_with(r, status,
                       MHD_create_response_from_buffer(len, mhd_buf(body), MHD_RESPMEM_MUST_COPY),
                       content_type, headers, n_headers);
}

/* MHD asks for more of a streamed body. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct octo_http_req *r = cls;
    (void)pos;
    if (r->out.len > 0) {
        size_t n = r->out.len < max ? r->out.len : max;
        memcpy(buf, r->out.data, n);
        octo_buf_consume(&r->out, n);
        r->srv->stats.bytes_streamed += n;
        return (ssize_t)n;
    }
    if (r->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (r->srv->stopping || r->aborted)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    r->suspended = true; /* nothing to send: wait for the next write */
    r->suspended_ns = mono_ns();
    MHD_suspend_connection(r->conn);
    return 0;
}

int octo_http_stream_start(struct octo_http_req *r, unsigned status, const char *content_type,
                           const struct octo_http_header *headers, size_t n_headers)
{
    if (r->answered)
        return OCTO_ESTATE;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, r, NULL);
    int rc = answer_with(r, status, resp, content_type, headers, n_headers);
    if (rc == 0) {
        r->streaming = true;
        r->srv->stats.streams++;
    }
    return rc;
}

int octo_http_stream_write(struct octo_http_req *r, const void *data, size_t len)
{
    if (!r->streaming || r->ended)
        return OCTO_ESTATE;
    int rc = octo_buf_append(&r->out, data, len);
    if (rc != 0)
        return rc;
    resume(r);
    return 0;
}

void octo_http_stream_end(struct octo_http_req *r)
{
    if (!r->streaming || r->ended)
        return;
    r->ended = true;
    resume(r);
}

/* ---- accessors --------------------------------------------------------------------------- */

const char *octo_http_method(const struct octo_http_req *r)
{
    return r->method;
}

const char *octo_http_path(const struct octo_http_req *r)
{
    return r->path;
}

const char *octo_http_header(const struct octo_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *octo_http_query(const struct octo_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const uint8_t *octo_http_body(const struct octo_http_req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data;
}

uint64_t octo_http_arrived_ns(const struct octo_http_req *r)
{
    return r->arrived_ns;
}

void octo_http_on_gone(struct octo_http_req *r, octo_http_gone_fn fn, void *ctx)
{
    r->gone = fn;
    r->gone_ctx = ctx;
}

void octo_http_set_tag(struct octo_http_req *r, int tag)
{
    r->tag = tag;
}

int octo_http_tag(const struct octo_http_req *r)
{
    return r->tag;
}

char *octo_http_note(struct octo_http_req *r)
{
    return r->note;
}

const struct octo_http_stats *octo_http_stats(const struct octo_http_server *s)
{
    return &s->stats;
}

uint16_t octo_http_port(const struct octo_http_server *s)
{
    return s->port;
}

/* Every second: a request suspended for longer than OCTO_HTTP_WAIT_MAX_S (no answer, or a
 * stream with nothing new) is ended. While suspended MHD neither times it out nor notices its
 * client leaving, so without this an answer that never comes would hold the connection. The
 * holder is told first (its gone callback), then the client gets a 504 or a cut stream. */
static void on_sweep(uv_timer_t *t)
{
    struct octo_http_server *s = t->data;
    uint64_t now = mono_ns();
    s->in_run = true; /* a gone callback that stops the server: after the loop */
    for (struct octo_http_req *r = s->reqs; r != NULL; r = r->next) {
        if (!r->suspended || now - r->suspended_ns < (uint64_t)OCTO_HTTP_WAIT_MAX_S * 1000000000u)
            continue;
        s->stats.timeouts++;
        octo_http_gone_fn gone = r->gone;
        r->gone = NULL;
        if (gone != NULL)
            gone(r->gone_ctx, r);
        if (r->answered || octo_http_reply(r, 504, "application/json", timeout_json,
                                           sizeof(timeout_json) - 1, NULL, 0) != 0) {
            r->aborted = true; /* cut (a stream, or a 504 that could not be made) */
            resume(r);
        }
    }
    s->in_run = false;
    if (s->stop_later)
        stop_now(s);
}

/* ---- start and stop ---------------------------------------------------------------------- */

static void mhd_log(void *ctx, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *ctx, const char *fmt, va_list ap)
{
    (void)ctx;
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    OCTO_DEBUG("http: %s", msg);
}

static int bind_addr(const struct octo_http_config *cfg, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, cfg->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(cfg->port);
        return 0;
    }
    if (inet_pton(AF_INET6, cfg->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(cfg->port);
        return 0;
    }
    return OCTO_EINVAL;
}

int octo_http_start(struct octo_http_server **out, const struct octo_http_config *cfg)
{
    *out = NULL;
    struct sockaddr_storage ss;
    if (cfg->loop == NULL || cfg->handler == NULL || cfg->host == NULL || bind_addr(cfg, &ss) != 0)
        return OCTO_EINVAL;
    struct octo_http_server *s = octo_calloc(1, sizeof(*s));
    if (s == NULL)
        return OCTO_ENOMEM;
    s->cfg = *cfg;
    if (s->cfg.body_max == 0)
        s->cfg.body_max = OCTO_HTTP_BODY_MAX;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)OCTO_HTTP_CONNECTIONS_MAX,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)OCTO_HTTP_PER_IP_MAX,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)OCTO_HTTP_IDLE_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)OCTO_HTTP_CONN_MEMORY,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
    if (s->d == NULL) {
        octo_free(s);
        return OCTO_EIO;
    }
    const union MHD_DaemonInfo *ep = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    if (ep == NULL || port == NULL || uv_poll_init(cfg->loop, &s->poll, ep->epoll_fd) != 0) {
        MHD_stop_daemon(s->d);
        octo_free(s);
        return OCTO_EIO;
    }
    s->port = port->port;
    uv_timer_init(cfg->loop, &s->timer);
    uv_timer_init(cfg->loop, &s->sweep);
    s->poll.data = s->timer.data = s->sweep.data = s;
    uv_poll_start(&s->poll, UV_READABLE, on_poll);
    uv_timer_start(&s->sweep, on_sweep, 1000, 1000);
    uv_unref((uv_handle_t *)&s->sweep);
    run(s);
    *out = s;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct octo_http_server *s = h->data;
    if (--s->closing == 0)
        octo_free(s);
}

static void stop_now(struct octo_http_server *s)
{
    s->stop_later = false;
    /* MHD must not stop with suspended connections: resume each, let it end */
    for (struct octo_http_req *r = s->reqs; r != NULL; r = r->next)
        if (r->suspended) {
            r->suspended = false;
            MHD_resume_connection(r->conn);
        }
    s->in_run = true;
    (void)MHD_run(s->d);
    s->in_run = false;
    uv_poll_stop(&s->poll);
    s->closing = 3;
    uv_close((uv_handle_t *)&s->poll, on_closed); /* before MHD closes the fd it watches */
    uv_close((uv_handle_t *)&s->timer, on_closed);
    uv_close((uv_handle_t *)&s->sweep, on_closed);
    MHD_stop_daemon(s->d); /* ends what is left; on_completed frees the requests */
    s->d = NULL;
    OCTO_ASSERT(s->reqs == NULL);
}

void octo_http_stop(struct octo_http_server *s)
{
    if (s == NULL || s->stopping)
        return;
    s->stopping = true;
    if (s->in_run) { /* called from one of MHD's callbacks: once MHD_run returns */
        s->stop_later = true;
        return;
    }
    stop_now(s);
}
