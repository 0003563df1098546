/*
 * api.h — the node's HTTP API on the HTTP shell (http.h): the route table, request ids,
 * errors in the OpenAI shape, and the node-wide endpoints:
 *
 *   GET /health    {"status":"ok","node":PEER_ID,"version":V,"uptime_s":N}
 *   GET /metrics   Prometheus text (version 0.0.4): the API's own families, then every
 *                  registered collector's (each module writes its counters; metrics.h)
 *   GET /api/v1/status   (API key) the node, and the caller's key: account, budget, spent,
 *                        rate
 *
 * Every answer carries x-request-id: the client's when it sent a usable one (1..64 of
 * [A-Za-z0-9._-]), else a fresh random one. Errors are
 * {"error":{"message":..,"type":..,"param":null,"code":..}} with the HTTP status, the shape
 * the official OpenAI clients parse; an unknown path is 404, a known path with another method
 * 405 with Allow, a body over the limit 413 (before any handler runs).
 */
#ifndef OCTO_API_API_H
#define OCTO_API_API_H

#include "api/http.h"
#include "api/metrics.h"
#include "api/route.h"
#include "base/clock.h"
#include "store/apikeys.h"

#define OCTO_API_COLLECTORS_MAX 16
#define OCTO_API_METRICS_MAX (4u << 20) /* bytes of one /metrics answer */
#define OCTO_API_REQUEST_ID_MAX 64

struct octo_api;

typedef void (*octo_api_collect_fn)(void *ctx, struct octo_metrics *m);

/* Finds an API key by id (the node reads its store). 0, OCTO_ENOTFOUND or an error. */
typedef int (*octo_api_key_lookup_fn)(void *ctx, const char *id, struct octo_apikey *out);

struct octo_api_config {
    uv_loop_t *loop;
    const char *host; /* numeric address */
    uint16_t port;    /* 0: any free port */
    const char *node; /* this node's peer id (text), for /health */
    const struct octo_clock *clock;
    octo_api_key_lookup_fn key_lookup; /* NULL: every protected route answers 401 */
    void *key_ctx;
};

/* A route's handler: m has the captured path segments. The handler answers through
 * octo_api_reply / octo_api_stream_start / octo_api_error (now or later). */
typedef void (*octo_api_handler_fn)(void *ctx, struct octo_http_req *r,
                                    const struct octo_route_match *m);

#define OCTO_API_ROUTES_MAX 32

/* Errors: those of octo_http_start. */
OCTO_MUST_USE int octo_api_start(struct octo_api **out, const struct octo_api_config *cfg);
uint16_t octo_api_port(const struct octo_api *a);
/* Errors: OCTO_ENOSPACE (OCTO_API_COLLECTORS_MAX already). */
OCTO_MUST_USE int octo_api_add_collector(struct octo_api *a, octo_api_collect_fn fn, void *ctx);
/* Adds a route (pattern as route.h; the strings must outlive the API). Errors: OCTO_ENOSPACE. */
OCTO_MUST_USE int octo_api_route(struct octo_api *a, const char *method, const char *pattern,
                                 octo_api_handler_fn fn, void *ctx);
/* Stops serving (requests in flight end); the API is freed once the loop has run. */
void octo_api_stop(struct octo_api *a);

/* Answers with the request's id header added and the answer counted under the request's
 * route (octo_http_reply / octo_http_stream_start otherwise). */
OCTO_MUST_USE int octo_api_reply(struct octo_api *a, struct octo_http_req *r, unsigned status,
                                 const char *content_type, const void *body, size_t len,
                                 const struct octo_http_header *headers, size_t n_headers);
OCTO_MUST_USE int octo_api_stream_start(struct octo_api *a, struct octo_http_req *r,
                                        unsigned status, const char *content_type,
                                        const struct octo_http_header *headers, size_t n_headers);
/* An error answer in the OpenAI shape (type e.g. "invalid_request_error", code e.g.
 * "not_found"; param NULL for none), with the request's id. */
OCTO_MUST_USE int octo_api_error(struct octo_api *a, struct octo_http_req *r, unsigned status,
                                 const char *type, const char *code, const char *param,
                                 const char *message);
/* The caller of a protected route: "Authorization: Bearer octo-<id>-<secret>" names a key
 * that exists, matches (constant-time hash compare), is not revoked, has budget left and is
 * within its rate. 0 with *key filled, or the request has been answered: 401
 * invalid_api_key, 429 insufficient_quota, 429 rate_limit_exceeded with retry-after (seconds)
 * and retry-after-ms, 500 when the key store fails; nonzero is returned then. */
OCTO_MUST_USE int octo_api_authorize(struct octo_api *a, struct octo_http_req *r,
                                     struct octo_apikey *key);

/* The request's id (the client's when usable, else one made for it; stable per request). */
const char *octo_api_request_id(struct octo_api *a, struct octo_http_req *r);

#endif
