/*
 * backend_http.c — the OpenAI-compatible HTTP backend (see backend_http.h for the contract).
 *
 * One request = one curl easy handle, performed synchronously. The write callback counts the
 * body against response_max, then either feeds the SSE parser (a 200 streaming answer) or
 * keeps the body (the /models answer, or an error body, of which the first
 * HTTP_ERROR_BODY_MAX bytes are kept for the message). Aborting from a callback (cancel, a
 * limit, a malformed event, the text callback's stop) makes curl fail with a write or
 * callback error; the request's own `err`/`cancelled` fields say why, and are checked before
 * curl's code. A progress callback also checks the cancel flag, so a cancel lands while the
 * server is silent.
 */
#include "exec/backend_http.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/mem.h"
#include "infer/sse.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define HTTP_ERROR_BODY_MAX (64u * 1024u)
#define HTTP_PATH_MAX 32u

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n > cap)
        return OCTO_ETOOBIG;
    memcpy(dst, src, n + 1);
    return 0;
}

int octo_http_backend_init(struct octo_http_backend *b, const struct octo_http_config *cfg)
{
    memset(b, 0, sizeof(*b));
    atomic_init(&b->cancel, false);
    if (cfg->base_url == NULL ||
        (strncmp(cfg->base_url, "http://", 7) != 0 && strncmp(cfg->base_url, "https://", 8) != 0))
        return OCTO_EINVAL;
    const char *model = cfg->model != NULL && cfg->model[0] != '\0' ? cfg->model : "default";
    int rc = copy_str(b->base_url, OCTO_HTTP_URL_MAX, cfg->base_url);
    if (rc == 0)
        rc = copy_str(b->model, OCTO_HTTP_MODEL_MAX, model);
    if (rc == 0 && cfg->api_key != NULL)
        rc = copy_str(b->api_key, OCTO_HTTP_KEY_MAX, cfg->api_key);
    if (rc != 0) {
        octo_wipe(b->api_key, sizeof(b->api_key));
        return rc;
    }
    size_t n = strlen(b->base_url);
    while (n > 0 && b->base_url[n - 1] == '/')
        b->base_url[--n] = '\0';
    b->connect_timeout_ms = cfg->connect_timeout_ms != 0 ? cfg->connect_timeout_ms
                                                         : OCTO_HTTP_CONNECT_TIMEOUT_MS_DEFAULT;
    b->timeout_ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : OCTO_HTTP_TIMEOUT_MS_DEFAULT;
    b->stall_s = cfg->stall_s != 0 ? cfg->stall_s : OCTO_HTTP_STALL_S_DEFAULT;
    b->response_max = cfg->response_max != 0 ? cfg->response_max : OCTO_HTTP_RESPONSE_MAX_DEFAULT;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        octo_wipe(b->api_key, sizeof(b->api_key));
        return OCTO_EIO;
    }
    return 0;
}

void octo_http_backend_deinit(struct octo_http_backend *b)
{
    octo_wipe(b->api_key, sizeof(b->api_key));
}

void octo_http_backend_cancel(struct octo_http_backend *b)
{
    atomic_store(&b->cancel, true);
}

void octo_http_model_list_deinit(struct octo_http_model_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        octo_free(l->ids[i]);
    octo_free(l->ids);
    l->ids = NULL;
    l->count = 0;
}

/* One request in flight. */
struct request {
    struct octo_http_backend *b;
    CURL *h;
    bool stream;          /* a 200 answer is an event stream */
    int status_known;     /* 0 not yet, 1 = 200, -1 = other */
    size_t received;      /* body bytes so far */
    struct octo_buf body; /* non-stream body or error body */
    struct octo_sse sse;
    int err;        /* why a callback aborted, 0 if none */
    bool cancelled; /* stopped by a cancel or the text callback */
    bool done;      /* [DONE] seen */
    /* chat only */
    octo_http_text_fn on_text;
    void *ctx;
    struct octo_http_chat_result *res;
    uint64_t t0, t_first, t_last;
};

/* Records the first failure of a request: code err, reason "what: detail". */
static int fail(struct request *r, int err, const char *what, const char *detail)
{
    if (r->err == 0) {
        r->err = err;
        snprintf(r->b->reason, sizeof(r->b->reason), "%s: %.200s", what, detail);
    }
    return err;
}

/* {"error":{"message":M}}, {"error":M} or {"message":M} → M, else NULL. Borrowed from j. */
static const char *error_message(const cJSON *j)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e))
        return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(e) ? e : j, "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static int emit_text(struct request *r, const char *text, size_t len)
{
    uint64_t t = octo_infer_now_ns();
    if (r->res->content_chunks == 0)
        r->t_first = t;
    r->t_last = t;
    r->res->content_chunks++;
    if (r->on_text(r->ctx, text, len) != 0) {
        r->cancelled = true;
        return OCTO_ECLOSED; /* any code: stops the parser; `cancelled` says why */
    }
    return 0;
}

static int read_count(const cJSON *usage, const char *name, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(usage, name);
    if (v == NULL)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0 ||
        v->valuedouble != (double)(uint32_t)v->valuedouble)
        return OCTO_EMALFORMED;
    *out = (uint32_t)v->valuedouble;
    return 0;
}

static int handle_choice(struct request *r, const cJSON *choice)
{
    if (!cJSON_IsObject(choice))
        return fail(r, OCTO_EMALFORMED, "malformed chunk", "choice is not an object");
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    if (cJSON_IsString(fin))
        snprintf(r->res->finish_reason, sizeof(r->res->finish_reason), "%s", fin->valuestring);
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
    if (delta == NULL || cJSON_IsNull(delta))
        return 0;
    if (!cJSON_IsObject(delta))
        return fail(r, OCTO_EMALFORMED, "malformed chunk", "delta is not an object");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
    if (content == NULL || cJSON_IsNull(content))
        return 0;
    if (!cJSON_IsString(content))
        return fail(r, OCTO_EMALFORMED, "malformed chunk", "content is not a string");
    return emit_text(r, content->valuestring, strlen(content->valuestring));
}

static int handle_chunk(struct request *r, const cJSON *j)
{
    if (!cJSON_IsObject(j))
        return fail(r, OCTO_EMALFORMED, "malformed chunk", "not a JSON object");
    if (cJSON_GetObjectItemCaseSensitive(j, "error") != NULL) {
        const char *m = error_message(j);
        return fail(r, OCTO_EPROTO, "server error in stream", m != NULL ? m : "(no message)");
    }
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (usage != NULL && !cJSON_IsNull(usage)) {
        if (!cJSON_IsObject(usage) ||
            read_count(usage, "prompt_tokens", &r->res->stats.prompt_tokens) != 0 ||
            read_count(usage, "completion_tokens", &r->res->stats.completion_tokens) != 0)
            return fail(r, OCTO_EMALFORMED, "malformed chunk", "bad usage");
        r->res->usage_present = true;
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    if (choices == NULL)
        return 0;
    if (!cJSON_IsArray(choices))
        return fail(r, OCTO_EMALFORMED, "malformed chunk", "choices is not an array");
    const cJSON *first = cJSON_GetArrayItem(choices, 0);
    return first != NULL ? handle_choice(r, first) : 0;
}

static int on_event(void *ctx, const struct octo_sse_event *ev)
{
    struct request *r = ctx;
    if (r->done)
        return 0; /* nothing counts after [DONE] */
    if (strcmp(ev->type, "error") == 0)
        return fail(r, OCTO_EPROTO, "server error event", ev->data);
    if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) {
        r->done = true;
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(ev->data, ev->data_len);
    if (j == NULL)
        return fail(r, OCTO_EMALFORMED, "malformed event, not JSON", ev->data);
    int rc = handle_chunk(r, j);
    cJSON_Delete(j);
    return rc;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct request *r = userdata;
    size_t n = size * nmemb;
    if (atomic_load(&r->b->cancel)) {
        r->cancelled = true;
        return 0;
    }
    if (n > r->b->response_max - r->received) {
        fail(r, OCTO_ETOOBIG, "response too large", "over response_max");
        return 0;
    }
    r->received += n;
    if (r->status_known == 0) {
        long code = 0;
        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &code);
        r->status_known = code == 200 ? 1 : -1;
    }
    if (r->status_known < 0 || !r->stream) {
        size_t room = r->body.max - r->body.len;
        if (r->status_known < 0 && n > room)
            n = room; /* an error body: its start is enough */
        if (octo_buf_append(&r->body, ptr, n) != 0) {
            fail(r, OCTO_ENOMEM, "out of memory", "buffering the response");
            return 0;
        }
        return size * nmemb;
    }
    int rc = octo_sse_feed(&r->sse, (const uint8_t *)ptr, n, on_event, r);
    if (rc != 0) {
        if (!r->cancelled)
            fail(r, rc == OCTO_ENOMEM ? OCTO_ENOMEM : OCTO_EMALFORMED, "malformed event stream",
                 octo_strerror(rc));
        return 0;
    }
    return n;
}

static int progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct request *r = userdata;
    if (atomic_load(&r->b->cancel)) {
        r->cancelled = true;
        return 1;
    }
    return 0;
}

static int map_curl(struct octo_http_backend *b, CURLcode cc, const char *errbuf)
{
    const char *what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
    snprintf(b->reason, sizeof(b->reason), "%.200s: %.280s", b->base_url, what);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return OCTO_ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return OCTO_ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return OCTO_ENOTFOUND;
    case CURLE_OUT_OF_MEMORY:
        return OCTO_ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return OCTO_ECONFIG;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return OCTO_ECLOSED;
    default:
        return OCTO_EIO;
    }
}

/* The server's error text for a non-200 answer, into b->reason. */
static void status_reason(struct request *r, long status)
{
    const char *msg = NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    if (j != NULL)
        msg = error_message(j);
    if (msg != NULL)
        snprintf(r->b->reason, sizeof(r->b->reason), "HTTP %ld: %s", status, msg);
    else if (r->body.len == 0)
        snprintf(r->b->reason, sizeof(r->b->reason), "HTTP %ld: (empty body)", status);
    else /* the body's start; it is not NUL-terminated */
        snprintf(r->b->reason, sizeof(r->b->reason), "HTTP %ld: %.*s", status,
                 (int)(r->body.len < 200 ? r->body.len : 200), (const char *)r->body.data);
    cJSON_Delete(j);
}

/* Sets up r->h for {base}{path}; body NULL = GET. Returns the header list to free. */
static int setup(struct request *r, const char *path, const char *body, struct curl_slist **hdrs,
                 char *errbuf)
{
    struct octo_http_backend *b = r->b;
    char url[OCTO_HTTP_URL_MAX + HTTP_PATH_MAX];
    snprintf(url, sizeof(url), "%s%s", b->base_url, path);
    CURL *h = r->h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)b->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)b->timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)b->stall_s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "octo");
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *t = l != NULL ? curl_slist_append(l, r->stream ? "Accept: text/event-stream"
                                                                      : "Accept: application/json")
                                     : NULL;
    if (t != NULL && b->api_key[0] != '\0') {
        char auth[OCTO_HTTP_KEY_MAX + 32];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", b->api_key);
        t = curl_slist_append(l, auth);
        octo_wipe(auth, sizeof(auth));
    }
    *hdrs = l;
    if (t == NULL)
        return OCTO_ENOMEM;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    return 0;
}

/* Performs the request; the result code per the contract of octo_http_chat. */
static int perform(struct request *r, const char *path, const char *body)
{
    struct octo_http_backend *b = r->b;
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    b->reason[0] = '\0';
    b->status = 0;
    r->h = curl_easy_init();
    if (r->h == NULL) {
        snprintf(b->reason, sizeof(b->reason), "curl_easy_init failed");
        return OCTO_ENOMEM;
    }
    struct curl_slist *hdrs = NULL;
    int rc = setup(r, path, body, &hdrs, errbuf);
    CURLcode cc = rc == 0 ? curl_easy_perform(r->h) : CURLE_OK;
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &b->status);
    if (rc != 0)
        snprintf(b->reason, sizeof(b->reason), "out of memory setting up the request");
    else if (r->cancelled)
        snprintf(b->reason, sizeof(b->reason), "cancelled");
    else if (r->err != 0)
        rc = r->err;
    else if (cc != CURLE_OK)
        rc = map_curl(b, cc, errbuf);
    else if (b->status != 200) {
        status_reason(r, b->status);
        rc = OCTO_EPROTO;
    } else if (r->stream && !r->done) {
        snprintf(b->reason, sizeof(b->reason), "stream ended before [DONE]");
        rc = OCTO_ECLOSED;
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(r->h);
    r->h = NULL;
    return rc;
}

static void request_init(struct request *r, struct octo_http_backend *b, bool stream)
{
    memset(r, 0, sizeof(*r));
    r->b = b;
    r->stream = stream;
    octo_buf_init(&r->body, stream ? HTTP_ERROR_BODY_MAX : b->response_max);
    octo_sse_init(&r->sse);
    atomic_store(&b->cancel, false);
}

static void request_deinit(struct request *r)
{
    octo_buf_deinit(&r->body);
    octo_sse_deinit(&r->sse);
}

static int parse_models(struct octo_http_backend *b, const struct octo_buf *body,
                        struct octo_http_model_list *out)
{
    cJSON *j = cJSON_ParseWithLength((const char *)body->data, body->len);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    int rc = 0;
    if (!cJSON_IsArray(data)) {
        rc = OCTO_EMALFORMED;
        snprintf(b->reason, sizeof(b->reason), "malformed /models answer: no data array");
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(data);
    if (n > OCTO_HTTP_MODELS_MAX)
        n = OCTO_HTTP_MODELS_MAX;
    out->ids = octo_calloc(n != 0 ? n : 1, sizeof(char *));
    if (out->ids == NULL) {
        rc = OCTO_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(data, (int)i), "id");
        if (!cJSON_IsString(id)) {
            rc = OCTO_EMALFORMED;
            snprintf(b->reason, sizeof(b->reason), "malformed /models answer: entry without id");
            break;
        }
        out->ids[i] = octo_strdup(id->valuestring);
        if (out->ids[i] == NULL)
            rc = OCTO_ENOMEM;
        else
            out->count++;
    }
    if (rc != 0)
        octo_http_model_list_deinit(out);
out:
    cJSON_Delete(j);
    return rc;
}

int octo_http_list_models(struct octo_http_backend *b, struct octo_http_model_list *out)
{
    memset(out, 0, sizeof(*out));
    struct request r;
    request_init(&r, b, false);
    int rc = perform(&r, "/models", NULL);
    if (rc == 0 && r.cancelled) {
        rc = OCTO_ECLOSED;
    }
    if (rc == 0)
        rc = parse_models(b, &r.body, out);
    request_deinit(&r);
    return rc;
}

/* The request body; NULL on OOM. Free with cJSON_free. */
static char *chat_body(const struct octo_http_backend *b, const struct octo_http_chat_params *p)
{
    char *out = NULL;
    cJSON *j = cJSON_CreateObject();
    cJSON *msgs = cJSON_AddArrayToObject(j, "messages");
    cJSON *so = cJSON_AddObjectToObject(j, "stream_options");
    if (cJSON_AddStringToObject(j, "model", b->model) == NULL || msgs == NULL || so == NULL ||
        cJSON_AddBoolToObject(j, "stream", 1) == NULL ||
        cJSON_AddBoolToObject(so, "include_usage", 1) == NULL)
        goto out;
    for (size_t i = 0; i < p->n_messages; i++) {
        cJSON *m = cJSON_CreateObject();
        if (m == NULL || !cJSON_AddItemToArray(msgs, m) ||
            cJSON_AddStringToObject(m, "role", p->messages[i].role) == NULL ||
            cJSON_AddStringToObject(m, "content", p->messages[i].content) == NULL)
            goto out;
    }
    if (p->max_tokens != 0 &&
        cJSON_AddNumberToObject(j, "max_tokens", (double)p->max_tokens) == NULL)
        goto out;
    if (p->temperature >= 0 && cJSON_AddNumberToObject(j, "temperature", p->temperature) == NULL)
        goto out;
    if (p->has_seed) {
        char seed[24]; /* raw digits: a double would round seeds above 2^53 */
        snprintf(seed, sizeof(seed), "%llu", (unsigned long long)p->seed);
        if (cJSON_AddRawToObject(j, "seed", seed) == NULL)
            goto out;
    }
    out = cJSON_PrintUnformatted(j);
out:
    cJSON_Delete(j);
    return out;
}

static void finish_stats(struct request *r)
{
    struct octo_infer_stats *st = &r->res->stats;
    bool any = r->res->content_chunks != 0;
    if (!r->res->usage_present)
        st->completion_tokens = r->res->content_chunks;
    if (any) /* the server's prompt time is not visible apart from the first token's */
        st->prompt_ns = r->t_first - r->t0;
    octo_infer_stats_finish(st, r->t0, any ? r->t_first : 0, r->t_last);
    st->cancelled = r->cancelled;
    st->stopped_eos = strcmp(r->res->finish_reason, "stop") == 0;
}

int octo_http_chat(struct octo_http_backend *b, const struct octo_http_chat_params *params,
                   octo_http_text_fn on_text, void *ctx, struct octo_http_chat_result *res)
{
    OCTO_ASSERT(on_text != NULL);
    memset(res, 0, sizeof(*res));
    b->reason[0] = '\0';
    if (params->n_messages == 0 || params->messages == NULL) {
        snprintf(b->reason, sizeof(b->reason), "no messages");
        return OCTO_EINVAL;
    }
    for (size_t i = 0; i < params->n_messages; i++) {
        if (params->messages[i].role == NULL || params->messages[i].content == NULL) {
            snprintf(b->reason, sizeof(b->reason), "message without role or content");
            return OCTO_EINVAL;
        }
    }
    char *body = chat_body(b, params);
    if (body == NULL)
        return OCTO_ENOMEM;
    struct request r;
    request_init(&r, b, true);
    r.on_text = on_text;
    r.ctx = ctx;
    r.res = res;
    r.t0 = octo_infer_now_ns();
    int rc = perform(&r, "/chat/completions", body);
    if (rc == 0)
        finish_stats(&r);
    request_deinit(&r);
    cJSON_free(body);
    return rc;
}
