/*
 * test_backend_http.c — the SSE parser (infer/sse.h) and the OpenAI-compatible HTTP backend
 * (exec/backend_http.h).
 *
 * SSE: the spec's field rules (data joining, event/id/retry, comments, BOM, CR/LF/CRLF), the
 * same stream fed whole and byte by byte, the line and event limits, sticky errors, a
 * callback stop, pending state.
 *
 * HTTP: against tests/exec/mock_openai.py (python3 standard library), started once as a child
 * process on an ephemeral 127.0.0.1 port and killed at the end: /models, streaming chat whose
 * chunks are cut inside "data:", between CR and LF and inside UTF-8 sequences (the request
 * body is checked by the mock), the usage chunk and [DONE], the API key, a 500 with an error
 * body, a stalled server (timeout), a refused port, an oversize response, a malformed event,
 * a stream without [DONE], cancellation from the text callback and from another thread.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/buf.h"
#include "exec/backend_http.h"
#include "infer/sse.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- SSE ---- */

struct events {
    struct octo_buf log; /* "type|data|id|retry\n" per event */
    int count;
    int stop_at; /* return OCTO_ECLOSED at this event (1-based), 0 never */
};

static int log_event(void *ctx, const struct octo_sse_event *ev)
{
    struct events *e = ctx;
    e->count++;
    if (octo_buf_appendf(&e->log, "%s|%.*s|%s|%lld\n", ev->type, (int)ev->data_len, ev->data,
                         ev->id, (long long)ev->retry_ms) != 0)
        return OCTO_ENOMEM;
    return e->count == e->stop_at ? OCTO_ECLOSED : 0;
}

static void events_init(struct events *e)
{
    memset(e, 0, sizeof(*e));
    octo_buf_init(&e->log, 1u << 20);
}

static const char *events_str(struct events *e)
{
    if (octo_buf_append_byte(&e->log, 0) != 0)
        return "(oom)";
    e->log.len--;
    return (const char *)e->log.data;
}

static int feed_all(const char *s, size_t len, bool bytewise, struct events *e, bool *pending)
{
    struct octo_sse p;
    octo_sse_init(&p);
    int rc = 0;
    if (bytewise) {
        for (size_t i = 0; i < len && rc == 0; i++)
            rc = octo_sse_feed(&p, (const uint8_t *)s + i, 1, log_event, e);
    } else {
        rc = octo_sse_feed(&p, (const uint8_t *)s, len, log_event, e);
    }
    if (pending != NULL)
        *pending = octo_sse_pending(&p);
    octo_sse_deinit(&p);
    return rc;
}

static const char SSE_STREAM[] = "\xEF\xBB\xBF"
                                 ": comment\r\n"
                                 "data: one\r\n\r\n"
                                 "event: ping\r"
                                 "data:two\r"
                                 "data:  three\r\r"
                                 "id: 42\n"
                                 "retry: 1500\n"
                                 "data\n"
                                 "\n"
                                 "event: lonely\n\n"
                                 "unknown: x\n"
                                 "retry: 12x\n"
                                 "data: caf\xC3\xA9\n\n"
                                 "data: tail";

static const char SSE_WANT[] = "message|one||-1\n"
                               "ping|two\n three||-1\n"
                               "message||42|1500\n"
                               "message|caf\xC3\xA9|42|1500\n";

static void test_sse_fields(void)
{
    struct events e;
    events_init(&e);
    bool pending = false;
    CHECK_OK(feed_all(SSE_STREAM, sizeof(SSE_STREAM) - 1, false, &e, &pending));
    CHECK(pending); /* "data: tail" has no line end */
    CHECK_STR(events_str(&e), SSE_WANT);
    CHECK_EQ_INT(e.count, 4);
    octo_buf_deinit(&e.log);
}

static void test_sse_split_invariance(void)
{
    struct events e;
    events_init(&e);
    CHECK_OK(feed_all(SSE_STREAM, sizeof(SSE_STREAM) - 1, true, &e, NULL));
    CHECK_STR(events_str(&e), SSE_WANT);
    octo_buf_deinit(&e.log);
    /* every two-piece split of the stream */
    for (size_t cut = 0; cut <= sizeof(SSE_STREAM) - 1; cut++) {
        events_init(&e);
        struct octo_sse p;
        octo_sse_init(&p);
        CHECK_OK(octo_sse_feed(&p, (const uint8_t *)SSE_STREAM, cut, log_event, &e));
        CHECK_OK(octo_sse_feed(&p, (const uint8_t *)SSE_STREAM + cut, sizeof(SSE_STREAM) - 1 - cut,
                               log_event, &e));
        octo_sse_deinit(&p);
        CHECK_STR(events_str(&e), SSE_WANT);
        octo_buf_deinit(&e.log);
    }
}

static void test_sse_crlf_split(void)
{
    /* CR at the end of one read, LF at the start of the next: one line end, not two */
    struct events e;
    events_init(&e);
    struct octo_sse p;
    octo_sse_init(&p);
    CHECK_OK(octo_sse_feed(&p, (const uint8_t *)"data: a\r", 8, log_event, &e));
    CHECK_OK(octo_sse_feed(&p, (const uint8_t *)"\ndata: b\r", 9, log_event, &e));
    CHECK_EQ_INT(e.count, 0);
    CHECK_OK(octo_sse_feed(&p, (const uint8_t *)"\n\r\n", 3, log_event, &e));
    CHECK_STR(events_str(&e), "message|a\nb||-1\n");
    CHECK(!octo_sse_pending(&p));
    octo_sse_deinit(&p);
    octo_buf_deinit(&e.log);
}

static void test_sse_limits(void)
{
    size_t n = OCTO_SSE_LINE_MAX + 16;
    char *big = octo_malloc(n);
    CHECK(big != NULL);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', n - 6);
    struct events e;
    events_init(&e);
    struct octo_sse p;
    octo_sse_init(&p);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += 1000)
        rc =
            octo_sse_feed(&p, (const uint8_t *)big + i, n - i < 1000 ? n - i : 1000, log_event, &e);
    octo_free(big);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    /* sticky */
    CHECK_ERR(octo_sse_feed(&p, (const uint8_t *)"\n\n", 2, log_event, &e), OCTO_ETOOBIG);
    CHECK_EQ_INT(e.count, 0);
    octo_sse_deinit(&p);

    /* many data lines, each short, over the event limit */
    octo_sse_init(&p);
    char line[1030];
    memcpy(line, "data: ", 6);
    memset(line + 6, 'y', 1023);
    line[1029] = '\n';
    rc = 0;
    for (size_t i = 0; i < OCTO_SSE_EVENT_MAX / 1024 + 2 && rc == 0; i++)
        rc = octo_sse_feed(&p, (const uint8_t *)line, sizeof(line), log_event, &e);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    octo_sse_deinit(&p);

    /* event: and id: values over their limits */
    char ev[OCTO_SSE_ID_MAX + 16];
    memcpy(ev, "event:", 6);
    memset(ev + 6, 'e', OCTO_SSE_TYPE_MAX + 1);
    ev[6 + OCTO_SSE_TYPE_MAX + 1] = '\n';
    CHECK_ERR(feed_all(ev, 6 + OCTO_SSE_TYPE_MAX + 2, false, &e, NULL), OCTO_ETOOBIG);
    memcpy(ev, "id:", 3);
    memset(ev + 3, 'i', OCTO_SSE_ID_MAX + 1);
    ev[3 + OCTO_SSE_ID_MAX + 1] = '\n';
    CHECK_ERR(feed_all(ev, 3 + OCTO_SSE_ID_MAX + 2, true, &e, NULL), OCTO_ETOOBIG);
    octo_buf_deinit(&e.log);
}

static void test_sse_callback_stop_and_id_nul(void)
{
    struct events e;
    events_init(&e);
    e.stop_at = 1;
    static const char s[] = "id: 1\ndata: a\n\ndata: b\n\n";
    CHECK_ERR(feed_all(s, sizeof(s) - 1, false, &e, NULL), OCTO_ECLOSED);
    CHECK_EQ_INT(e.count, 1);
    octo_buf_deinit(&e.log);

    events_init(&e);
    static const char z[] = "id: 7\nid: a\0b\ndata: x\n\nid\ndata: y\n\n";
    CHECK_OK(feed_all(z, sizeof(z) - 1, true, &e, NULL));
    CHECK_STR(events_str(&e), "message|x|7|-1\nmessage|y||-1\n");
    octo_buf_deinit(&e.log);
}

/* ---- the mock server ---- */

static pid_t mock_pid = -1;
static int mock_port;

static int mock_start(void)
{
    const char *src = getenv("OCTO_SOURCE_DIR");
    char script[4096];
    snprintf(script, sizeof(script), "%s/tests/exec/mock_openai.py", src != NULL ? src : ".");
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    mock_pid = fork();
    if (mock_pid < 0)
        return -1;
    if (mock_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", "-u", script, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[32];
    size_t n = 0;
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    while (n < sizeof(line) - 1 && poll(&pfd, 1, 10000) == 1) {
        ssize_t k = read(fds[0], line + n, 1);
        if (k != 1 || line[n] == '\n')
            break;
        n++;
    }
    close(fds[0]);
    line[n] = '\0';
    char *end = NULL;
    unsigned long port = strtoul(line, &end, 10);
    if (n == 0 || end == line || *end != '\0' || port == 0 || port > 65535)
        return -1;
    mock_port = (int)port;
    return 0;
}

static void mock_stop(void)
{
    if (mock_pid > 0) {
        kill(mock_pid, SIGKILL);
        waitpid(mock_pid, NULL, 0);
        mock_pid = -1;
    }
}

static int backend(struct octo_http_backend *b, const char *scenario, const char *key,
                   uint32_t timeout_ms, size_t response_max)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s/v1/", mock_port, scenario);
    struct octo_http_config cfg = {
        .base_url = url,
        .api_key = key,
        .model = "mock-7b",
        .connect_timeout_ms = 2000,
        .timeout_ms = timeout_ms,
        .response_max = response_max,
    };
    return octo_http_backend_init(b, &cfg);
}

struct text {
    char buf[4096];
    size_t len;
    int calls;
    int stop_after;                   /* non-zero return after this many calls, 0 never */
    struct octo_http_backend *cancel; /* octo_http_backend_cancel after stop_after calls */
};

static int collect(void *ctx, const char *s, size_t len)
{
    struct text *t = ctx;
    if (len < sizeof(t->buf) - 1 - t->len) {
        memcpy(t->buf + t->len, s, len);
        t->len += len;
        t->buf[t->len] = '\0';
    }
    t->calls++;
    if (t->stop_after != 0 && t->calls >= t->stop_after) {
        if (t->cancel != NULL) {
            octo_http_backend_cancel(t->cancel);
            return 0;
        }
        return 1;
    }
    return 0;
}

static const struct octo_http_message MSGS[] = {
    {.role = "system", .content = "You are terse."},
    {.role = "user", .content = "Say hi"},
};

static const struct octo_http_chat_params PARAMS = {
    .messages = MSGS,
    .n_messages = 2,
    .max_tokens = 16,
    .temperature = 0.5,
    .has_seed = true,
    .seed = UINT64_MAX,
};

static int chat(const char *scenario, const char *key, uint32_t timeout_ms, size_t response_max,
                struct text *t, struct octo_http_chat_result *res, char *reason, long *status)
{
    struct octo_http_backend b;
    int rc = backend(&b, scenario, key, timeout_ms, response_max);
    if (rc != 0)
        return rc;
    if (t->cancel != NULL)
        t->cancel = &b;
    rc = octo_http_chat(&b, &PARAMS, collect, t, res);
    snprintf(reason, OCTO_HTTP_REASON_MAX, "%s", b.reason);
    *status = b.status;
    octo_http_backend_deinit(&b);
    return rc;
}

static void test_http_init(void)
{
    struct octo_http_backend b;
    struct octo_http_config cfg = {.base_url = "ftp://x/v1"};
    CHECK_ERR(octo_http_backend_init(&b, &cfg), OCTO_EINVAL);
    cfg.base_url = NULL;
    CHECK_ERR(octo_http_backend_init(&b, &cfg), OCTO_EINVAL);
    char long_key[OCTO_HTTP_KEY_MAX + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    cfg.base_url = "http://127.0.0.1:1/v1";
    cfg.api_key = long_key;
    CHECK_ERR(octo_http_backend_init(&b, &cfg), OCTO_ETOOBIG);
    cfg.api_key = "sk-secret";
    CHECK_OK(octo_http_backend_init(&b, &cfg));
    CHECK_STR(b.model, "default");
    CHECK_EQ_U64(b.response_max, OCTO_HTTP_RESPONSE_MAX_DEFAULT);
    CHECK_STR(b.api_key, "sk-secret");
    octo_http_backend_deinit(&b);
    for (size_t i = 0; i < sizeof(b.api_key); i++)
        CHECK_EQ_INT(b.api_key[i], 0);
    struct octo_http_chat_params none = {.messages = NULL, .n_messages = 0};
    struct octo_http_chat_result res;
    struct text t = {0};
    CHECK_OK(octo_http_backend_init(&b, &cfg));
    CHECK_ERR(octo_http_chat(&b, &none, collect, &t, &res), OCTO_EINVAL);
    struct octo_http_message bad = {.role = "user", .content = NULL};
    none.messages = &bad;
    none.n_messages = 1;
    CHECK_ERR(octo_http_chat(&b, &none, collect, &t, &res), OCTO_EINVAL);
    octo_http_backend_deinit(&b);
}

static void test_http_models(void)
{
    struct octo_http_backend b;
    CHECK_OK(backend(&b, "ok", NULL, 5000, 0));
    struct octo_http_model_list l;
    CHECK_OK(octo_http_list_models(&b, &l));
    CHECK_EQ_U64(l.count, 2);
    CHECK_STR(l.ids[0], "mock-7b");
    CHECK_STR(l.ids[1], "mock-0.5b");
    CHECK_EQ_INT(b.status, 200);
    octo_http_model_list_deinit(&l);
    CHECK_EQ_U64(l.count, 0);
    octo_http_backend_deinit(&b);

    CHECK_OK(backend(&b, "bad", NULL, 5000, 0));
    CHECK_ERR(octo_http_list_models(&b, &l), OCTO_EMALFORMED);
    CHECK(strstr(b.reason, "data") != NULL);
    octo_http_backend_deinit(&b);

    CHECK_OK(backend(&b, "auth", NULL, 5000, 0));
    CHECK_ERR(octo_http_list_models(&b, &l), OCTO_EPROTO);
    CHECK_EQ_INT(b.status, 401);
    CHECK_STR(b.reason, "HTTP 401: invalid api key");
    octo_http_backend_deinit(&b);

    CHECK_OK(backend(&b, "auth", "test-key", 5000, 0));
    CHECK_OK(octo_http_list_models(&b, &l));
    CHECK_EQ_U64(l.count, 2);
    octo_http_model_list_deinit(&l);
    octo_http_backend_deinit(&b);

    CHECK_OK(backend(&b, "ok", NULL, 5000, 16)); /* the list is larger than 16 bytes */
    CHECK_ERR(octo_http_list_models(&b, &l), OCTO_ETOOBIG);
    octo_http_backend_deinit(&b);
}

static void test_http_stream(void)
{
    struct text t = {0};
    struct octo_http_chat_result res;
    char reason[OCTO_HTTP_REASON_MAX];
    long status;
    int rc = chat("ok", NULL, 10000, 0, &t, &res, reason, &status);
    if (rc != 0)
        printf("reason: %s\n", reason);
    CHECK_OK(rc);
    CHECK_EQ_INT(status, 200);
    CHECK_STR(t.buf, "Hello, w\xC3\xB6rld \xF0\x9F\x98\x80!");
    CHECK_EQ_INT(t.calls, 3);
    CHECK_EQ_U64(res.content_chunks, 3);
    CHECK(res.usage_present);
    CHECK_EQ_U64(res.stats.prompt_tokens, 19);
    CHECK_EQ_U64(res.stats.completion_tokens, 4);
    CHECK_STR(res.finish_reason, "length");
    CHECK(!res.stats.cancelled);
    CHECK(!res.stats.stopped_eos);
    CHECK(res.stats.ttft_ns > 0);
    CHECK(res.stats.generate_ns > 0);
    CHECK(res.stats.generate_tps > 0);
    CHECK_STR(reason, "");
}

static void test_http_auth(void)
{
    struct text t = {0};
    struct octo_http_chat_result res;
    char reason[OCTO_HTTP_REASON_MAX];
    long status;
    CHECK_ERR(chat("auth", "wrong", 10000, 0, &t, &res, reason, &status), OCTO_EPROTO);
    CHECK_EQ_INT(status, 401);
    CHECK_OK(chat("auth", "test-key", 10000, 0, &t, &res, reason, &status));
    CHECK_EQ_U64(res.stats.completion_tokens, 4);
}

static void test_http_errors(void)
{
    struct text t = {0};
    struct octo_http_chat_result res;
    char reason[OCTO_HTTP_REASON_MAX];
    long status;

    CHECK_ERR(chat("err500", NULL, 10000, 0, &t, &res, reason, &status), OCTO_EPROTO);
    CHECK_EQ_INT(status, 500);
    CHECK_STR(reason, "HTTP 500: Failed to parse input");

    CHECK_ERR(chat("stall", NULL, 800, 0, &t, &res, reason, &status), OCTO_ETIMEDOUT);
    CHECK(strstr(reason, "imeout") != NULL || strstr(reason, "timed out") != NULL);

    memset(&t, 0, sizeof(t));
    CHECK_ERR(chat("big", NULL, 20000, 64 * 1024, &t, &res, reason, &status), OCTO_ETOOBIG);
    CHECK(strstr(reason, "response_max") != NULL);
    CHECK(t.calls > 0);

    memset(&t, 0, sizeof(t));
    CHECK_ERR(chat("bad", NULL, 10000, 0, &t, &res, reason, &status), OCTO_EMALFORMED);
    CHECK(strstr(reason, "not JSON") != NULL);
    CHECK_STR(t.buf, "a");

    memset(&t, 0, sizeof(t));
    CHECK_ERR(chat("trunc", NULL, 10000, 0, &t, &res, reason, &status), OCTO_ECLOSED);
    CHECK(strstr(reason, "[DONE]") != NULL);
}

static void test_http_refused(void)
{
    /* a bound socket that does not listen: connections to it are refused */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", (int)ntohs(a.sin_port));
    struct octo_http_config cfg = {.base_url = url, .connect_timeout_ms = 2000};
    struct octo_http_backend b;
    CHECK_OK(octo_http_backend_init(&b, &cfg));
    struct octo_http_chat_result res;
    struct text t = {0};
    int rc = octo_http_chat(&b, &PARAMS, collect, &t, &res);
    struct octo_http_model_list l;
    int rc2 = octo_http_list_models(&b, &l);
    close(fd);
    CHECK_ERR(rc, OCTO_ECONNREFUSED);
    CHECK_ERR(rc2, OCTO_ECONNREFUSED);
    CHECK(strstr(b.reason, url) != NULL);
    octo_http_backend_deinit(&b);
}

static void test_http_cancel(void)
{
    struct text t = {0};
    struct octo_http_chat_result res;
    char reason[OCTO_HTTP_REASON_MAX];
    long status;
    t.stop_after = 3; /* the text callback stops */
    CHECK_OK(chat("many", NULL, 20000, 0, &t, &res, reason, &status));
    CHECK(res.stats.cancelled);
    CHECK_EQ_INT(t.calls, 3);
    CHECK_STR(t.buf, "t0 t1 t2 ");
    CHECK_EQ_U64(res.stats.completion_tokens, 3);

    struct octo_http_backend dummy;
    memset(&t, 0, sizeof(t));
    t.stop_after = 5; /* octo_http_backend_cancel (the atomic flag) */
    t.cancel = &dummy;
    CHECK_OK(chat("many", NULL, 20000, 0, &t, &res, reason, &status));
    CHECK(res.stats.cancelled);
    CHECK_EQ_INT(t.calls, 5);
    CHECK_STR(reason, "cancelled");
}

struct canceller {
    struct octo_http_backend *b;
};

static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    usleep(300 * 1000);
    octo_http_backend_cancel(c->b);
    return NULL;
}

static void test_http_cancel_stalled(void)
{
    /* a cancel from another thread lands while the server is silent */
    struct octo_http_backend b;
    CHECK_OK(backend(&b, "stall", NULL, 20000, 0));
    struct canceller c = {.b = &b};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, cancel_later, &c) == 0);
    struct text t = {0};
    struct octo_http_chat_result res;
    int rc = octo_http_chat(&b, &PARAMS, collect, &t, &res);
    pthread_join(th, NULL);
    CHECK_OK(rc);
    CHECK(res.stats.cancelled);
    CHECK_EQ_INT(t.calls, 1);
    octo_http_backend_deinit(&b);
}

int main(void)
{
    OCTO_RUN(test_sse_fields);
    OCTO_RUN(test_sse_split_invariance);
    OCTO_RUN(test_sse_crlf_split);
    OCTO_RUN(test_sse_limits);
    OCTO_RUN(test_sse_callback_stop_and_id_nul);
    OCTO_RUN(test_http_init);
    OCTO_RUN(test_http_refused);
    if (mock_start() != 0) {
        fprintf(stderr, "could not start the mock server\n");
        mock_stop();
        return 1;
    }
    OCTO_RUN(test_http_models);
    OCTO_RUN(test_http_stream);
    OCTO_RUN(test_http_auth);
    OCTO_RUN(test_http_errors);
    OCTO_RUN(test_http_cancel);
    OCTO_RUN(test_http_cancel_stalled);
    mock_stop();
    return octo_test_finish();
}
