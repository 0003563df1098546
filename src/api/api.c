/*
 * api.c — the node's HTTP API (api.h): routing, request ids, errors, /health, /metrics.
 *
 * Each request is routed (route.h) and dispatched on the route's id; the API counts
 * answers by route and status class for its own metric family. Handlers that answer later
 * (the gateway's, streaming) will keep the request and register octo_http_on_gone.
 */
#include "api/api.h"

#include "api/ratelimit.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/hex.h"
#include "octo/octo.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum auth_result { A_OK, A_MISSING, A_INVALID, A_QUOTA, A_RATE, A_STORE, AUTH_RESULTS };
static const char *const auth_names[AUTH_RESULTS] = {"ok",    "missing",      "invalid",
                                                     "quota", "rate_limited", "store_error"};

struct api_route {
    octo_api_handler_fn fn;
    void *ctx;
};

struct octo_api {
    struct octo_api_config cfg;
    char node[128];
    struct octo_http_server *http;
    int64_t started_ns;
    struct {
        octo_api_collect_fn fn;
        void *ctx;
    } collectors[OCTO_API_COLLECTORS_MAX];
    size_t n_collectors;
    struct octo_route table[OCTO_API_ROUTES_MAX];
    struct api_route handlers[OCTO_API_ROUTES_MAX];
    size_t n_routes;
    uint64_t answers[OCTO_API_ROUTES_MAX + 1][5]; /* by route (last: none) and 1xx..5xx */
    uint64_t scrapes;
    struct octo_ratelimit rate;
    uint64_t auth[AUTH_RESULTS];
};

#define NO_ROUTE OCTO_API_ROUTES_MAX

/* ---- answers ------------------------------------------------------------------------------ */

static bool request_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    if (n == 0 || n > OCTO_API_REQUEST_ID_MAX)
        return false;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

const char *octo_api_request_id(struct octo_api *a, struct octo_http_req *r)
{
    (void)a;
    char *note = octo_http_note(r);
    if (note[0] != '\0')
        return note;
    const char *id = octo_http_header(r, "x-request-id");
    if (request_id_ok(id)) {
        snprintf(note, OCTO_HTTP_NOTE_MAX, "%s", id);
    } else {
        uint8_t raw[16];
        randombytes_buf(raw, sizeof(raw));
        OCTO_ASSERT(octo_hex_encode(raw, sizeof(raw), note, OCTO_HTTP_NOTE_MAX) == 32);
    }
    return note;
}

static void count(struct octo_api *a, struct octo_http_req *r, unsigned status)
{
    int k = octo_http_tag(r);
    unsigned c = status / 100;
    if (k >= 0 && k <= NO_ROUTE && c >= 1 && c <= 5)
        a->answers[k][c - 1]++;
}

#define HEADERS_MAX 8

/* headers plus the request id (at most HEADERS_MAX - 1 given) */
static size_t with_id(struct octo_api *a, struct octo_http_req *r, const struct octo_http_header *h,
                      size_t n, struct octo_http_header *out)
{
    OCTO_ASSERT(n < HEADERS_MAX);
    out[0] = (struct octo_http_header){"x-request-id", octo_api_request_id(a, r)};
    for (size_t i = 0; i < n; i++)
        out[i + 1] = h[i];
    return n + 1;
}

int octo_api_reply(struct octo_api *a, struct octo_http_req *r, unsigned status,
                   const char *content_type, const void *body, size_t len,
                   const struct octo_http_header *headers, size_t n_headers)
{
    struct octo_http_header h[HEADERS_MAX];
    size_t n = with_id(a, r, headers, n_headers, h);
    int rc = octo_http_reply(r, status, content_type, body, len, h, n);
    if (rc == 0)
        count(a, r, status);
    return rc;
}

int octo_api_stream_start(struct octo_api *a, struct octo_http_req *r, unsigned status,
                          const char *content_type, const struct octo_http_header *headers,
                          size_t n_headers)
{
    struct octo_http_header h[HEADERS_MAX];
    size_t n = with_id(a, r, headers, n_headers, h);
    int rc = octo_http_stream_start(r, status, content_type, h, n);
    if (rc == 0)
        count(a, r, status);
    return rc;
}

static int error_answer(struct octo_api *a, struct octo_http_req *r, unsigned status,
                        const char *type, const char *code, const char *param, const char *message,
                        const char *allow)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type);
    if (param != NULL)
        cJSON_AddStringToObject(e, "param", param);
    else
        cJSON_AddNullToObject(e, "param");
    cJSON_AddStringToObject(e, "code", code);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return OCTO_ENOMEM;
    struct octo_http_header h = {"Allow", allow};
    int rc = octo_api_reply(a, r, status, "application/json", text, strlen(text), &h,
                            allow != NULL ? 1 : 0);
    cJSON_free(text);
    return rc;
}

int octo_api_error(struct octo_api *a, struct octo_http_req *r, unsigned status, const char *type,
                   const char *code, const char *param, const char *message)
{
    return error_answer(a, r, status, type, code, param, message, NULL);
}

/* ---- API keys ------------------------------------------------------------------------------ */

static int refuse_auth(struct octo_api *a, struct octo_http_req *r, enum auth_result why,
                       const char *message)
{
    a->auth[why]++;
    return error_answer(a, r, 401, "invalid_request_error", "invalid_api_key", NULL, message,
                        NULL) == 0
               ? OCTO_EPERM
               : OCTO_ENOMEM;
}

int octo_api_authorize(struct octo_api *a, struct octo_http_req *r, struct octo_apikey *key)
{
    const char *h = octo_http_header(r, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return refuse_auth(a, r, A_MISSING,
                           "You didn't provide an API key. Send it as Authorization: Bearer KEY.");
    char id[OCTO_APIKEY_ID_HEX + 1];
    uint8_t hash[32];
    if (octo_apikey_parse(h + 7, id, hash) != 0)
        return refuse_auth(a, r, A_INVALID, "Incorrect API key provided.");
    int rc =
        a->cfg.key_lookup != NULL ? a->cfg.key_lookup(a->cfg.key_ctx, id, key) : OCTO_ENOTFOUND;
    if (rc == OCTO_ENOTFOUND || (rc == 0 && !octo_apikey_check(key, hash)))
        return refuse_auth(a, r, A_INVALID, "Incorrect API key provided.");
    if (rc != 0) {
        a->auth[A_STORE]++;
        OCTO_IGNORE(octo_api_error(a, r, 500, "server_error", "key_store", NULL,
                                   "the key store could not be read"));
        return rc;
    }
    if (key->spent >= key->budget) {
        a->auth[A_QUOTA]++;
        OCTO_IGNORE(octo_api_error(a, r, 429, "insufficient_quota", "insufficient_quota", NULL,
                                   "You exceeded your current quota: this key's budget is spent."));
        return OCTO_ERANGE;
    }
    uint64_t wait_ms;
    uint64_t now_ms = (uint64_t)octo_clock_mono(a->cfg.clock) / OCTO_NS_PER_MS;
    if (!octo_ratelimit_take(&a->rate, key->id, key->rate_per_min, now_ms, &wait_ms)) {
        a->auth[A_RATE]++;
        char secs[24], ms[24], msg[128];
        snprintf(secs, sizeof(secs), "%llu", (unsigned long long)((wait_ms + 999) / 1000));
        snprintf(ms, sizeof(ms), "%llu", (unsigned long long)wait_ms);
        snprintf(msg, sizeof(msg), "Rate limit reached: %u requests per minute for this key.",
                 key->rate_per_min);
        struct octo_http_header hd[2] = {{"retry-after", secs}, {"retry-after-ms", ms}};
        cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddStringToObject(e, "type", "requests");
        cJSON_AddNullToObject(e, "param");
        cJSON_AddStringToObject(e, "code", "rate_limit_exceeded");
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (text != NULL)
            OCTO_IGNORE(octo_api_reply(a, r, 429, "application/json", text, strlen(text), hd, 2));
        cJSON_free(text);
        return OCTO_EAGAIN;
    }
    a->auth[A_OK]++;
    return 0;
}

static void status(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct octo_api *a = ctx;
    (void)m;
    struct octo_apikey key;
    if (octo_api_authorize(a, r, &key) != 0)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", a->node);
    cJSON_AddStringToObject(o, "version", OCTO_VERSION_STRING);
    cJSON_AddNumberToObject(
        o, "uptime_s",
        (double)((octo_clock_mono(a->cfg.clock) - a->started_ns) / (int64_t)OCTO_NS_PER_S));
    cJSON *k = cJSON_AddObjectToObject(o, "key");
    char acct[65], n[24];
    OCTO_ASSERT(octo_hex_encode(key.account, 32, acct, sizeof(acct)) == 64);
    cJSON_AddStringToObject(k, "id", key.id);
    cJSON_AddStringToObject(k, "account", acct);
    snprintf(n, sizeof(n), "%llu", (unsigned long long)key.budget);
    cJSON_AddStringToObject(k, "budget", n);
    snprintf(n, sizeof(n), "%llu", (unsigned long long)key.spent);
    cJSON_AddStringToObject(k, "spent", n);
    cJSON_AddNumberToObject(k, "rate_per_min", key.rate_per_min);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL) {
        OCTO_IGNORE(octo_api_error(a, r, 500, "server_error", "internal", NULL, "out of memory"));
        return;
    }
    OCTO_IGNORE(octo_api_reply(a, r, 200, "application/json", text, strlen(text), NULL, 0));
    cJSON_free(text);
}

/* ---- /health, /metrics ------------------------------------------------------------------- */

static void health(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct octo_api *a = ctx;
    (void)m;
    int64_t up = (octo_clock_mono(a->cfg.clock) - a->started_ns) / (int64_t)OCTO_NS_PER_S;
    char body[512];
    int n = snprintf(body, sizeof(body),
                     "{\"status\":\"ok\",\"node\":\"%s\",\"version\":\"%s\",\"uptime_s\":%lld}",
                     a->node, OCTO_VERSION_STRING, (long long)up);
    OCTO_ASSERT(n > 0 && (size_t)n < sizeof(body));
    OCTO_IGNORE(octo_api_reply(a, r, 200, "application/json", body, (size_t)n, NULL, 0));
}

static void own_metrics(struct octo_api *a, struct octo_metrics *m)
{
    static const char *const classes[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    octo_metrics_family(m, "octo_api_http_responses", OCTO_METRIC_COUNTER,
                        "HTTP answers of the node's API by route and status class");
    for (size_t k = 0; k <= NO_ROUTE; k++)
        for (int c = 0; c < 5; c++) {
            if (a->answers[k][c] == 0)
                continue;
            struct octo_metric_label l[2] = {
                {"route", k < a->n_routes ? a->table[k].pattern : "other"}, {"code", classes[c]}};
            octo_metrics_value(m, l, 2, a->answers[k][c]);
        }
    const struct octo_http_stats *s = octo_http_stats(a->http);
    octo_metrics_single(m, "octo_api_http_requests", OCTO_METRIC_COUNTER,
                        "HTTP requests the node's API received", s->requests);
    octo_metrics_single(m, "octo_api_http_too_large", OCTO_METRIC_COUNTER,
                        "requests refused before any handler for a body over the limit",
                        s->too_large);
    octo_metrics_single(m, "octo_api_http_gone", OCTO_METRIC_COUNTER,
                        "requests whose client went away before the answer ended", s->gone);
    octo_metrics_single(m, "octo_api_http_open", OCTO_METRIC_GAUGE,
                        "requests received and not finished", s->open);
    octo_metrics_single(m, "octo_api_http_streamed_bytes", OCTO_METRIC_COUNTER,
                        "bytes of streamed answers handed to clients", s->bytes_streamed);
    octo_metrics_family(m, "octo_api_auth", OCTO_METRIC_COUNTER,
                        "API key checks on protected routes, by result");
    for (int i = 0; i < AUTH_RESULTS; i++) {
        struct octo_metric_label l = {"result", auth_names[i]};
        octo_metrics_value(m, &l, 1, a->auth[i]);
    }
    octo_metrics_single(m, "octo_api_scrapes", OCTO_METRIC_COUNTER, "answers to /metrics",
                        a->scrapes);
    int64_t up = (octo_clock_mono(a->cfg.clock) - a->started_ns) / (int64_t)OCTO_NS_PER_S;
    octo_metrics_family(m, "octo_node_uptime_seconds", OCTO_METRIC_GAUGE,
                        "seconds since the node's API started");
    octo_metrics_gauge_i64(m, NULL, 0, up);
}

static void metrics(void *ctx, struct octo_http_req *r, const struct octo_route_match *rm)
{
    struct octo_api *a = ctx;
    (void)rm;
    a->scrapes++;
    struct octo_buf b;
    octo_buf_init(&b, OCTO_API_METRICS_MAX);
    struct octo_metrics m;
    octo_metrics_init(&m, &b);
    own_metrics(a, &m);
    for (size_t i = 0; i < a->n_collectors; i++)
        a->collectors[i].fn(a->collectors[i].ctx, &m);
    int rc = octo_metrics_finish(&m);
    if (rc != 0)
        OCTO_IGNORE(octo_api_error(a, r, 500, "server_error", "metrics", NULL, octo_strerror(rc)));
    else
        OCTO_IGNORE(octo_api_reply(a, r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data,
                                   b.len, NULL, 0));
    octo_buf_deinit(&b);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static void on_request(void *ctx, struct octo_http_req *r)
{
    struct octo_api *a = ctx;
    struct octo_route_match m;
    octo_http_set_tag(r, NO_ROUTE);
    enum octo_route_lookup res =
        octo_route_find(a->table, a->n_routes, octo_http_method(r), octo_http_path(r), &m);
    if (res == OCTO_ROUTE_NOT_FOUND) {
        OCTO_IGNORE(error_answer(a, r, 404, "invalid_request_error", "not_found", NULL,
                                 "no such endpoint", NULL));
        return;
    }
    if (res == OCTO_ROUTE_BAD_METHOD) {
        OCTO_IGNORE(error_answer(a, r, 405, "invalid_request_error", "method_not_allowed", NULL,
                                 "this endpoint does not take that method", m.allow));
        return;
    }
    OCTO_ASSERT(m.id >= 0 && (size_t)m.id < a->n_routes);
    octo_http_set_tag(r, m.id);
    a->handlers[m.id].fn(a->handlers[m.id].ctx, r, &m);
}

int octo_api_route(struct octo_api *a, const char *method, const char *pattern,
                   octo_api_handler_fn fn, void *ctx)
{
    if (a->n_routes == OCTO_API_ROUTES_MAX)
        return OCTO_ENOSPACE;
    size_t k = a->n_routes++;
    a->table[k] = (struct octo_route){method, pattern, (int)k};
    a->handlers[k] = (struct api_route){fn, ctx};
    return 0;
}

int octo_api_start(struct octo_api **out, const struct octo_api_config *cfg)
{
    *out = NULL;
    struct octo_api *a = octo_calloc(1, sizeof(*a));
    if (a == NULL)
        return OCTO_ENOMEM;
    a->cfg = *cfg;
    snprintf(a->node, sizeof(a->node), "%s", cfg->node != NULL ? cfg->node : "");
    a->started_ns = octo_clock_mono(cfg->clock);
    struct octo_http_config hc = {
        .loop = cfg->loop, .host = cfg->host, .port = cfg->port, .handler = on_request, .ctx = a};
    int rc = octo_api_route(a, "GET", "/health", health, a);
    if (rc == 0)
        rc = octo_api_route(a, "GET", "/metrics", metrics, a);
    if (rc == 0)
        rc = octo_api_route(a, "GET", "/api/v1/status", status, a);
    octo_ratelimit_init(&a->rate);
    if (rc == 0)
        rc = octo_http_start(&a->http, &hc);
    if (rc != 0) {
        octo_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

uint16_t octo_api_port(const struct octo_api *a)
{
    return octo_http_port(a->http);
}

int octo_api_add_collector(struct octo_api *a, octo_api_collect_fn fn, void *ctx)
{
    if (a->n_collectors == OCTO_API_COLLECTORS_MAX)
        return OCTO_ENOSPACE;
    a->collectors[a->n_collectors].fn = fn;
    a->collectors[a->n_collectors++].ctx = ctx;
    return 0;
}

void octo_api_stop(struct octo_api *a)
{
    if (a == NULL)
        return;
    octo_http_stop(a->http);
    octo_free(a);
}
