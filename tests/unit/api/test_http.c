/*
 * test_http.c — the HTTP shell on a real loop, with libcurl as the client (in a thread):
 * an answer given at once, one given later from a timer (the connection waits suspended),
 * a streamed answer written piece by piece (chunked, every piece arrives, in order), a
 * request body echoed, a body over the limit refused with 413 before the handler, a
 * streaming client that goes away (the handler is told, its stream stops), and the counts.
 */
#define _GNU_SOURCE
#include "api/http.h"
#include "base/assert.h"
#include "test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static uv_loop_t g_loop;
static struct octo_http_server *g_srv;
static uv_async_t g_done;
static uv_timer_t g_later, g_tick;
static struct octo_http_req *g_pending, *g_stream;
static int g_stream_n, g_gone, g_handled;
static bool g_endless;

static void on_later(uv_timer_t *t)
{
    (void)t;
    static const struct octo_http_header h = {"x-test", "later"};
    OCTO_ASSERT(octo_http_reply(g_pending, 201, "text/plain", "later", 5, &h, 1) == 0);
    g_pending = NULL;
}

static void on_tick(uv_timer_t *t)
{
    if (g_stream == NULL) {
        uv_timer_stop(t);
        return;
    }
    char line[32];
    int n = snprintf(line, sizeof(line), "data: %d\n\n", g_stream_n++);
    OCTO_ASSERT(octo_http_stream_write(g_stream, line, (size_t)n) == 0);
    if (!g_endless && g_stream_n == 5) {
        octo_http_stream_end(g_stream);
        g_stream = NULL;
        uv_timer_stop(t);
    }
}

static void on_gone(void *ctx, struct octo_http_req *r)
{
    (void)ctx;
    if (r == g_stream)
        g_stream = NULL;
    if (r == g_pending)
        g_pending = NULL;
    g_gone++;
}

static void handler(void *ctx, struct octo_http_req *r)
{
    (void)ctx;
    g_handled++;
    const char *path = octo_http_path(r);
    if (strcmp(path, "/sync") == 0) {
        const char *q = octo_http_query(r, "name");
        char body[64];
        int n = snprintf(body, sizeof(body), "hello %s %s", q ? q : "-",
                         octo_http_header(r, "X-Hello") ? octo_http_header(r, "x-hello") : "-");
        OCTO_ASSERT(octo_http_reply(r, 200, "text/plain", body, (size_t)n, NULL, 0) == 0);
        OCTO_ASSERT(octo_http_reply(r, 200, "text/plain", "x", 1, NULL, 0) == OCTO_ESTATE);
    } else if (strcmp(path, "/async") == 0) {
        g_pending = r;
        octo_http_on_gone(r, on_gone, NULL);
        uv_timer_start(&g_later, on_later, 50, 0);
    } else if (strcmp(path, "/forgot") == 0) {
        /* neither answers nor keeps it: the server answers 500 for it */
    } else if (strcmp(path, "/stream") == 0 || strcmp(path, "/endless") == 0) {
        g_endless = path[1] == 'e';
        g_stream = r;
        g_stream_n = 0;
        octo_http_on_gone(r, on_gone, NULL);
        OCTO_ASSERT(octo_http_stream_start(r, 200, "text/event-stream", NULL, 0) == 0);
        uv_timer_start(&g_tick, on_tick, 10, 10);
    } else if (strcmp(path, "/echo") == 0) {
        size_t len;
        const uint8_t *b = octo_http_body(r, &len);
        char out[64];
        int n = snprintf(out, sizeof(out), "%s %zu %d", octo_http_method(r), len,
                         len > 0 ? b[len - 1] : -1);
        OCTO_ASSERT(octo_http_reply(r, 200, "text/plain", out, (size_t)n, NULL, 0) == 0);
    } else {
        OCTO_ASSERT(octo_http_reply(r, 404, "text/plain", "no", 2, NULL, 0) == 0);
    }
}

/* ---- the client thread ---- */

struct got {
    long status;
    char body[4096];
    size_t len;
    char header[128];
    int chunks;
    size_t stop_after; /* abort once this many bytes came (0: never) */
};

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct got *g = ctx;
    size_t k = sz * n;
    g->chunks++;
    if (g->len + k < sizeof(g->body)) {
        memcpy(g->body + g->len, p, k);
        g->len += k;
        g->body[g->len] = '\0';
    }
    if (g->stop_after != 0 && g->len >= g->stop_after)
        return 0; /* the client goes away */
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct got *g = ctx;
    size_t k = sz * n;
    if (k > 8 && strncasecmp(p, "x-test: ", 8) == 0 && k - 8 < sizeof(g->header))
        snprintf(g->header, sizeof(g->header), "%.*s", (int)(k - 10), p + 8);
    return k;
}

static struct got g_sync, g_async, g_stream_got, g_echo, g_big, g_endless_got, g_missing, g_forgot;
static uint16_t g_port;

static void get(const char *path, struct got *g, const char *post, size_t post_len)
{
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", g_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, g);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    struct curl_slist *h = curl_slist_append(NULL, "X-Hello: there");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (post != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)post_len);
    }
    (void)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void *client(void *arg)
{
    (void)arg;
    get("/sync?name=x%20y", &g_sync, NULL, 0);
    get("/async", &g_async, NULL, 0);
    get("/stream", &g_stream_got, NULL, 0);
    static char post[3000];
    memset(post, 'p', sizeof(post));
    post[sizeof(post) - 1] = 'z';
    get("/echo", &g_echo, post, sizeof(post));
    static char big[5000];
    memset(big, 'b', sizeof(big));
    get("/echo", &g_big, big, sizeof(big));
    g_endless_got.stop_after = 20;
    get("/endless", &g_endless_got, NULL, 0);
    get("/nothing", &g_missing, NULL, 0);
    get("/forgot", &g_forgot, NULL, 0);
    uv_async_send(&g_done);
    return NULL;
}

static uv_timer_t g_settle;
static struct octo_http_stats g_stats;

static void on_settled(uv_timer_t *t)
{
    g_stats = *octo_http_stats(g_srv);
    uv_close((uv_handle_t *)t, NULL);
    uv_close((uv_handle_t *)&g_later, NULL);
    uv_close((uv_handle_t *)&g_tick, NULL);
    octo_http_stop(g_srv);
}

static void on_done(uv_async_t *a)
{
    uv_close((uv_handle_t *)a, NULL);
    uv_timer_init(&g_loop, &g_settle); /* the endless stream's next write sees the client gone */
    uv_timer_start(&g_settle, on_settled, 200, 0);
}

static void test_http(void)
{
    CHECK_EQ_INT(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
    uv_loop_init(&g_loop);
    uv_timer_init(&g_loop, &g_later);
    uv_timer_init(&g_loop, &g_tick);
    uv_async_init(&g_loop, &g_done, on_done);
    struct octo_http_config bad = {.loop = &g_loop, .host = "localhost", .handler = handler};
    CHECK_EQ_INT(octo_http_start(&g_srv, &bad), OCTO_EINVAL); /* numeric addresses only */
    struct octo_http_config cfg = {
        .loop = &g_loop, .host = "127.0.0.1", .port = 0, .body_max = 4096, .handler = handler};
    CHECK_OK(octo_http_start(&g_srv, &cfg));
    g_port = octo_http_port(g_srv);
    CHECK(g_port != 0);
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, client, NULL), 0);
    uv_run(&g_loop, UV_RUN_DEFAULT); /* until the client is done and the server stopped */
    pthread_join(th, NULL);
    uv_loop_close(&g_loop);
    curl_global_cleanup();

    CHECK_EQ_INT(g_sync.status, 200);
    CHECK(strcmp(g_sync.body, "hello x y there") == 0);
    CHECK_EQ_INT(g_async.status, 201);
    CHECK(strcmp(g_async.body, "later") == 0);
    CHECK(strcmp(g_async.header, "later") == 0);
    CHECK_EQ_INT(g_stream_got.status, 200);
    CHECK(strcmp(g_stream_got.body, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n") ==
          0);
    CHECK(g_stream_got.chunks >= 2); /* it came as it was written, not in one piece */
    CHECK_EQ_INT(g_echo.status, 200);
    CHECK(strcmp(g_echo.body, "POST 3000 122") == 0);
    CHECK_EQ_INT(g_big.status, 413);
    CHECK(strstr(g_big.body, "too large") != NULL);
    CHECK_EQ_INT(g_endless_got.status, 200);
    CHECK_EQ_INT(g_missing.status, 404);
    CHECK_EQ_INT(g_forgot.status, 500);
    CHECK(strstr(g_forgot.body, "server_error") != NULL);
    CHECK_EQ_INT(g_gone, 1);    /* the endless stream's client went away */
    CHECK_EQ_INT(g_handled, 7); /* every request but the oversize one */
    CHECK_EQ_U64(g_stats.requests, 8);
    CHECK_EQ_U64(g_stats.too_large, 1);
    CHECK_EQ_U64(g_stats.gone, 1);
    CHECK_EQ_U64(g_stats.streams, 2);
    CHECK_EQ_U64(g_stats.status_4xx, 2);
    CHECK_EQ_U64(g_stats.status_5xx, 1);
    CHECK_EQ_U64(g_stats.status_2xx, 5);
    CHECK_EQ_U64(g_stats.open, 0);
}

/* ---- stopping with a request kept for a later answer ---- */

static int g_kept_gone;
static struct octo_http_req *g_kept;
static uv_timer_t g_stop_timer;
static struct got g_cut;

static void kept_gone(void *ctx, struct octo_http_req *r)
{
    (void)ctx;
    CHECK(r == g_kept);
    g_kept = NULL;
    g_kept_gone++;
}

static void keep(void *ctx, struct octo_http_req *r)
{
    (void)ctx;
    g_kept = r;
    octo_http_on_gone(r, kept_gone, NULL);
}

static void on_stop_timer(uv_timer_t *t)
{
    CHECK(g_kept != NULL); /* the request waits, suspended */
    uv_close((uv_handle_t *)t, NULL);
    octo_http_stop(g_srv);
}

static void *client_cut(void *arg)
{
    (void)arg;
    get("/kept", &g_cut, NULL, 0);
    return NULL;
}

static void test_stop_while_waiting(void)
{
    uv_loop_init(&g_loop);
    struct octo_http_config cfg = {.loop = &g_loop, .host = "127.0.0.1", .handler = keep};
    CHECK_OK(octo_http_start(&g_srv, &cfg));
    g_port = octo_http_port(g_srv);
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, client_cut, NULL), 0);
    uv_timer_init(&g_loop, &g_stop_timer);
    uv_timer_start(&g_stop_timer, on_stop_timer, 300, 0);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    uv_loop_close(&g_loop);
    CHECK_EQ_INT(g_kept_gone, 1); /* told before the request went away */
    CHECK(g_kept == NULL);
    CHECK(g_cut.status != 200);
}

int main(void)
{
    OCTO_RUN(test_http);
    OCTO_RUN(test_stop_while_waiting);
    return octo_test_finish();
}
