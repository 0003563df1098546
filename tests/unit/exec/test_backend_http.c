/*
 * test_backend_http.c — the OpenAI-compatible HTTP backend (exec/backend_http.h; its SSE parser
 * is tested on its own in tests/unit/infer/test_sse.c).
 *
 * Against tests/exec/mock_openai.py (python3 standard library), started once as a child
 * process on an ephemeral 127.0.0.1 port and killed at the end: /models, streaming chat whose
 * chunks are cut inside "data:", between CR and LF and inside UTF-8 sequences (the request
 * body is checked by the mock), the usage chunk and [DONE], the API key, a 500 with an error
 * body, a 502 with a short HTML body (quoted, not read past its end), a stalled server
 * (timeout), a refused port, an oversize response, a malformed event, a stream without
 * [DONE], cancellation from the text callback and from another thread; through exec/backend.h,
 * a stop asked by the text callback is "stop", not a cancel, as on the local backends.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "exec/backend.h"
#include "exec/backend_http.h"
#include "model_util.h"
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

    /* A short body that is not JSON is quoted as it is, and no further (it has no NUL). */
    CHECK_ERR(chat("html502", NULL, 10000, 0, &t, &res, reason, &status), OCTO_EPROTO);
    CHECK_EQ_INT(status, 502);
    CHECK_STR(reason, "HTTP 502: <html>Bad Gateway</html>");
    struct octo_http_backend b;
    CHECK_OK(backend(&b, "html502", NULL, 10000, 0));
    struct octo_http_model_list l;
    CHECK_ERR(octo_http_list_models(&b, &l), OCTO_EPROTO);
    CHECK_STR(b.reason, "HTTP 502: <html>Bad Gateway</html>");
    octo_http_backend_deinit(&b);

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
    int fd = -1;
    char url[64];
    model_util_refused_url(&fd, url, sizeof(url));
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

static int stop_at_third(void *ctx, const char *text, size_t len)
{
    (void)text, (void)len;
    int *calls = ctx;
    return ++*calls >= 3 ? 1 : 0;
}

/* Through exec/backend.h: the text callback's stop reads as the local backends report it. */
static void test_backend_callback_stop(void)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/many/v1", mock_port);
    struct octo_backend_config cfg = {.kind = OCTO_BACKEND_HTTP, .url = url, .timeout_ms = 20000};
    struct octo_backend *b = octo_calloc(1, sizeof(*b));
    CHECK(b != NULL);
    if (b == NULL)
        return;
    CHECK_OK(octo_backend_open(b, &cfg));
    struct octo_backend_request req = {.prompt = "hi", .prompt_len = 2, .max_tokens = 100};
    octo_sample_params_default(&req.sampling);
    int calls = 0;
    struct octo_backend_result res;
    CHECK_OK(octo_backend_generate(b, &req, stop_at_third, &calls, &res));
    CHECK_EQ_INT(calls, 3);
    CHECK_STR(res.finish_reason, "stop");
    CHECK(!res.stats.cancelled);
    CHECK_EQ_U64(res.stats.completion_tokens, 3);
    octo_backend_close(b);
    octo_free(b);
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
    OCTO_RUN(test_backend_callback_stop);
    mock_stop();
    return octo_test_finish();
}
