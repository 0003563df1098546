/*
 * chain_api.c — /api/v1/{accounts,blocks,txs} over the chain service's in-process calls
 * (chain_api.h). Path segments are checked before they become a call: an address or a
 * transaction id is 64 hex digits, a height decimal digits.
 */
#include "node/chain_api.h"

#include "base/assert.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

struct chain_api {
    struct octo_api *api;
    struct octo_validator *chain;
};

static struct chain_api g_ctx; /* one chain service per process */

static bool all_of(const char *p, size_t n, const char *set, size_t min, size_t max)
{
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strchr(set, p[i]) == NULL)
            return false;
    return true;
}

/* Makes the call and answers with its result, or its error mapped to an HTTP status. */
static void answer(struct chain_api *c, struct octo_http_req *r, const char *call)
{
    char *resp = octo_validator_query(c->chain, call, strlen(call));
    if (resp == NULL) {
        OCTO_IGNORE(
            octo_api_error(c->api, r, 500, "server_error", "out_of_memory", NULL, "out of memory"));
        return;
    }
    cJSON *o = cJSON_Parse(resp);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (e != NULL) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        const char *cs = cJSON_IsString(code) ? code->valuestring : "error";
        unsigned status = strcmp(cs, "not-found") == 0     ? 404
                          : strcmp(cs, "bad-request") == 0 ? 400
                                                           : 500;
        OCTO_IGNORE(octo_api_error(c->api, r, status,
                                   status == 500 ? "server_error" : "invalid_request_error", cs,
                                   NULL, cJSON_IsString(msg) ? msg->valuestring : cs));
    } else {
        OCTO_IGNORE(
            octo_api_reply(c->api, r, 200, "application/json", resp, strlen(resp), NULL, 0));
    }
    cJSON_Delete(o);
    cJSON_free(resp);
}

static bool authorized(struct chain_api *c, struct octo_http_req *r)
{
    struct octo_apikey key;
    return octo_api_authorize(c->api, r, &key) == 0;
}

static void bad_arg(struct chain_api *c, struct octo_http_req *r, const char *what)
{
    OCTO_IGNORE(
        octo_api_error(c->api, r, 400, "invalid_request_error", "invalid_value", NULL, what));
}

static void route_account(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct chain_api *c = ctx;
    if (!authorized(c, r))
        return;
    if (!all_of(m->captures[0].p, m->captures[0].len, "0123456789abcdef", 64, 64)) {
        bad_arg(c, r, "an account address is 64 lowercase hex digits");
        return;
    }
    char call[128];
    snprintf(call, sizeof(call), "{\"method\":\"account\",\"address\":\"%.64s\"}",
             m->captures[0].p);
    answer(c, r, call);
}

static void route_latest(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    (void)m;
    struct chain_api *c = ctx;
    if (authorized(c, r))
        answer(c, r, "{\"method\":\"block\"}");
}

static void route_block(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct chain_api *c = ctx;
    if (!authorized(c, r))
        return;
    if (!all_of(m->captures[0].p, m->captures[0].len, "0123456789", 1, 19)) {
        bad_arg(c, r, "a block height is a decimal number");
        return;
    }
    char call[64];
    snprintf(call, sizeof(call), "{\"method\":\"block\",\"height\":%.*s}", (int)m->captures[0].len,
             m->captures[0].p);
    answer(c, r, call);
}

static void route_tx(void *ctx, struct octo_http_req *r, const struct octo_route_match *m)
{
    struct chain_api *c = ctx;
    if (!authorized(c, r))
        return;
    if (!all_of(m->captures[0].p, m->captures[0].len, "0123456789abcdef", 64, 64)) {
        bad_arg(c, r, "a transaction id is 64 lowercase hex digits");
        return;
    }
    char call[160];
    snprintf(call, sizeof(call), "{\"method\":\"tx\",\"id\":\"%.64s\",\"receipts\":true}",
             m->captures[0].p);
    answer(c, r, call);
}

int octo_chain_api_add(struct octo_api *api, struct octo_validator *chain)
{
    OCTO_ASSERT(g_ctx.api == NULL || g_ctx.api == api);
    g_ctx.api = api;
    g_ctx.chain = chain;
    int rc = octo_api_route(api, "GET", "/api/v1/accounts/{}", route_account, &g_ctx);
    if (rc == 0)
        rc = octo_api_route(api, "GET", "/api/v1/blocks", route_latest, &g_ctx);
    if (rc == 0)
        rc = octo_api_route(api, "GET", "/api/v1/blocks/{}", route_block, &g_ctx);
    if (rc == 0)
        rc = octo_api_route(api, "GET", "/api/v1/txs/{}", route_tx, &g_ctx);
    return rc;
}
