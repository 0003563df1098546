/*
 * bench_api.c — the node's HTTP API (api/api.h over libmicrohttpd on a libuv loop), measured
 * from a libcurl client on one keep-alive connection, beside a floor measured in the same run.
 *
 *   health_p50/p99          GET /health: the HTTP shell, routing, the request id, the answer
 *   status_auth_p50/p99     GET /api/v1/status with an API key: the above plus the key check
 *                           (parse, SHA-256, lookup, constant-time compare, rate limit)
 *   floor_p50/p99           the same client against a bare responder on the same loop (read
 *                           to the blank line, write a fixed 200): loopback TCP, curl and
 *                           libuv, no HTTP server
 *   overhead_p50            health_p50 - floor_p50: what the HTTP API itself adds per request
 *                           (the design's gateway overhead target is 0.5 ms at p50)
 *   health_rps              sequential requests per second on that one connection
 *
 * The server runs on its own thread's loop, as in a node. Figures only: nothing fails.
 */
#define _GNU_SOURCE
#include "api/api.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "bench.h"
#include "node/sysclock.h"
#include "store/apikeys.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uv_loop_t g_loop;
static uv_async_t g_quit;
static struct octo_api *g_api;
static uv_tcp_t g_floor;
static int g_floor_port;
static struct octo_apikey g_key;
static char g_key_text[OCTO_APIKEY_TEXT_LEN + 1];

/* ---- the bare responder ---- */

struct fconn {
    uv_tcp_t tcp;
    char buf[4096];
    size_t len;
    uv_write_t w;
};

static const char floor_reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static void f_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    struct fconn *c = h->data;
    (void)sz;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void f_closed(uv_handle_t *h)
{
    octo_free(h->data);
}

static void f_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct fconn *c = s->data;
    (void)b;
    if (n < 0 || c->len + (size_t)n >= sizeof(c->buf)) {
        uv_close((uv_handle_t *)s, f_closed);
        return;
    }
    c->len += (size_t)n;
    while (c->len >= 4) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end == NULL)
            break;
        size_t used = (size_t)(end + 4 - c->buf);
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        uv_buf_t out = uv_buf_init((char *)(uintptr_t)floor_reply, sizeof(floor_reply) - 1);
        (void)uv_try_write(s, &out, 1); /* 38 bytes: the socket always takes them */
    }
}

static void f_conn(uv_stream_t *srv, int status)
{
    if (status != 0)
        return;
    struct fconn *c = octo_calloc(1, sizeof(*c));
    OCTO_ASSERT(c != NULL);
    uv_tcp_init(&g_loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) == 0)
        uv_read_start((uv_stream_t *)&c->tcp, f_alloc, f_read);
    else
        uv_close((uv_handle_t *)&c->tcp, f_closed);
}

/* ---- the server thread ---- */

static int lookup(void *ctx, const char *id, struct octo_apikey *out)
{
    (void)ctx;
    if (strcmp(id, g_key.id) != 0)
        return OCTO_ENOTFOUND;
    *out = g_key;
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return; /* the API's own handles, closed by octo_api_stop */
    bool conn = h->type == UV_TCP && h != (uv_handle_t *)&g_floor;
    uv_close(h, conn ? f_closed : NULL);
}

static void on_quit(uv_async_t *a)
{
    (void)a;
    octo_api_stop(g_api);
    uv_walk(&g_loop, close_walk, NULL);
}

static void *server(void *arg)
{
    (void)arg;
    uv_run(&g_loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- the client ---- */

static size_t sink(char *p, size_t sz, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return sz * n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* n sequential GETs of url on one connection; p50/p99 (us) and requests/s. */
static void measure(CURL *c, const char *url, struct curl_slist *h, int n, double *p50, double *p99,
                    double *rps)
{
    uint64_t *lat = octo_malloc((size_t)n * sizeof(*lat));
    OCTO_ASSERT(lat != NULL);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    for (int i = 0; i < 50; i++) /* warm: the connection is made and kept */
        curl_easy_perform(c);
    uint64_t t0 = octo_bench_now_ns();
    for (int i = 0; i < n; i++) {
        uint64_t s = octo_bench_now_ns();
        CURLcode rc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc != CURLE_OK || code != 200) {
            fprintf(stderr, "bench_api: %s: %s %ld\n", url, curl_easy_strerror(rc), code);
            exit(1);
        }
        lat[i] = octo_bench_now_ns() - s;
    }
    double total = (double)(octo_bench_now_ns() - t0);
    qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
    *p50 = (double)lat[n / 2] / 1000.0;
    *p99 = (double)lat[n * 99 / 100] / 1000.0;
    *rps = n / (total / 1e9);
    octo_free(lat);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "api", argc, argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    uv_loop_init(&g_loop);
    uv_async_init(&g_loop, &g_quit, on_quit);
    uint8_t kid[OCTO_APIKEY_ID_HEX / 2] = {1, 2, 3, 4, 5, 6}, secret[OCTO_APIKEY_SECRET_LEN] = {7},
                                     acct[32] = {9};
    octo_apikey_make(kid, secret, acct, 1000000, OCTO_APIKEY_RATE_MAX, 0, &g_key, g_key_text);
    struct octo_api_config ac = {.loop = &g_loop,
                                 .host = "127.0.0.1",
                                 .node = "bench",
                                 .clock = octo_sysclock(),
                                 .key_lookup = lookup};
    if (octo_api_start(&g_api, &ac) != 0) {
        fprintf(stderr, "bench_api: cannot start the API\n");
        return 1;
    }
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(&g_loop, &g_floor);
    uv_tcp_bind(&g_floor, (const struct sockaddr *)&sa, 0);
    uv_listen((uv_stream_t *)&g_floor, 128, f_conn);
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    uv_tcp_getsockname(&g_floor, (struct sockaddr *)&ss, &sl);
    g_floor_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    pthread_t th;
    pthread_create(&th, NULL, server, NULL);

    int n = b.quick ? 2000 : 20000;
    char url[128];
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    double h50, h99, hr, s50, s99, sr, f50, f99, fr;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/health", octo_api_port(g_api));
    measure(c, url, NULL, n, &h50, &h99, &hr);
    char auth[OCTO_APIKEY_TEXT_LEN + 32];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", g_key_text);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/status", octo_api_port(g_api));
    measure(c, url, hl, n, &s50, &s99, &sr);
    curl_easy_cleanup(c);
    c = curl_easy_init(); /* a fresh connection for the floor */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/health", g_floor_port);
    measure(c, url, NULL, n, &f50, &f99, &fr);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);

    octo_bench_report(&b, "health_p50", h50, "us", NULL);
    octo_bench_report(&b, "health_p99", h99, "us", NULL);
    octo_bench_report(&b, "status_auth_p50", s50, "us", NULL);
    octo_bench_report(&b, "status_auth_p99", s99, "us", NULL);
    octo_bench_report(&b, "floor_p50", f50, "us", "\"reference\":\"bare responder\"");
    octo_bench_report(&b, "floor_p99", f99, "us", "\"reference\":\"bare responder\"");
    octo_bench_report(&b, "overhead_p50", h50 - f50, "us", NULL);
    octo_bench_report(&b, "health_rps", hr, "req/s", "\"connections\":1");
    octo_bench_report(&b, "floor_rps", fr, "req/s", "\"connections\":1");

    uv_async_send(&g_quit);
    pthread_join(th, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uv_loop_close(&g_loop);
    curl_global_cleanup();
    return 0;
}
