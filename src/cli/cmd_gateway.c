/*
 * cmd_gateway.c — the gateway's clients: `octo run`, `octo providers`, `octo tasks`.
 *
 *   octo run "prompt" [--model NAME] [--max-tokens N] [--strategy cost|speed|quality|privacy|geo]
 *                     [--privacy public|shared|confidential|private] [--owner PEER]
 *                     [--region CC|CONT] [--verify LEVEL] [--raw] [--json]
 *   octo providers [--json]
 *   octo agents [ls | create NAME --model M [--instructions T] [--max-tokens N] | show X | rm X]
 *   octo tasks [ID] [--limit N] [--json]
 *
 * Each talks to an orchestrator's HTTP API (node/gateway.h) with an API key: the gateway is
 * --gateway URL, else $OCTO_GATEWAY, else http://127.0.0.1:8080; the key is $OCTO_API_KEY,
 * else the file ./octo-devnet/api-key that a running `octo devnet` keeps (never a flag: `ps`
 * would show it). `run` streams the answer to stdout as it is generated (chat, or a raw
 * completion with --raw; the model defaults to the first the gateway lists), then prints the
 * task's record to stderr: its id, the provider that answered, attempts, tokens and the
 * charge. With --privacy private or confidential the prompt is sealed here to the worker that
 * runs it (the exchange of exec/privacy.h through POST /api/v1/sealed): the gateway and the
 * provider's node never see it or the answer, which is opened here and printed whole. Such
 * data may only go to an attested TEE or, for PRIVATE, to the client's own node: --owner names
 * it (its peer id, as `octo providers` lists it); without either the task is refused.
 * `providers` lists the registry; `tasks` the key's tasks (newest first) or one task.
 * Exit statuses: 0 done; 1 the gateway refused or failed (its error message is printed); 2
 * usage.
 */
#include "api/openai.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "crypto/b64.h"
#include "crypto/peerid.h"
#include "exec/envelope.h"
#include "exec/privacy.h"
#include "infer/sse.h"
#include "intel/taskwire.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GW_BODY_MAX (8u << 20) /* bytes of an answer we keep */
#define GW_KEY_FILE "octo-devnet/api-key"
#define GW_TIMEOUT_S 600L

static const struct octo_flag gw_common[] = {
    {"gateway", 0, true, false, "URL",
     "the orchestrator's HTTP API (default $OCTO_GATEWAY or "
     "http://127.0.0.1:8080)"},
    {"json", 0, false, false, NULL, "print JSON"},
};

struct gw_client {
    struct octo_cli *cli;
    char base[512];
    char auth[256];
    CURL *curl;
    struct curl_slist *headers;
    struct octo_buf body; /* the answer (not streamed) */
    long status;
    /* streaming */
    bool stream;
    struct octo_sse sse;
    int sse_err;
    char task[40];
    struct octo_buf text;
    cJSON *usage;
    char error[1400];
};

static const char *env_get(struct octo_cli *cli, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = cli->env; e != NULL && *e != NULL; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* The API key: $OCTO_API_KEY, else the running devnet's key file. */
static int load_key(struct gw_client *c, char *out, size_t cap)
{
    const char *k = env_get(c->cli, "OCTO_API_KEY");
    if (k != NULL) {
        snprintf(out, cap, "%s", k);
        return 0;
    }
    FILE *f = fopen(GW_KEY_FILE, "r");
    if (f == NULL)
        return -1;
    char line[256] = "";
    bool got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!got || line[0] == '\0')
        return -1;
    snprintf(out, cap, "%s", line);
    return 0;
}

static int on_event(void *ctx, const struct octo_sse_event *ev);

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct gw_client *c = ctx;
    size_t len = sz * n;
    if (c->stream && c->status == 200)
        return octo_sse_feed(&c->sse, (const uint8_t *)p, len, on_event, c) == 0 ? len : 0;
    return octo_buf_append(&c->body, p, len) == 0 ? len : 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct gw_client *c = ctx;
    size_t len = sz * n;
    if (len > 13 && strncasecmp(p, "x-octo-task: ", 13) == 0) {
        size_t k = strcspn(p + 13, "\r\n");
        snprintf(c->task, sizeof(c->task), "%.*s", (int)(k < 39 ? k : 39), p + 13);
    }
    if (len > 9 && strncmp(p, "HTTP/", 5) == 0)
        c->status = strtol(strchr(p, ' ') != NULL ? strchr(p, ' ') + 1 : "0", NULL, 10);
    return len;
}

static int gw_init(struct gw_client *c, struct octo_cli *cli)
{
    memset(c, 0, sizeof(*c));
    c->cli = cli;
    const char *base = octo_args_get(&cli->args, "gateway");
    if (base == NULL)
        base = env_get(cli, "OCTO_GATEWAY");
    if (base == NULL)
        base = "http://127.0.0.1:8080";
    snprintf(c->base, sizeof(c->base), "%s", base);
    size_t bl = strlen(c->base);
    while (bl > 0 && c->base[bl - 1] == '/')
        c->base[--bl] = '\0';
    char key[192];
    if (load_key(c, key, sizeof(key)) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "no API key: set OCTO_API_KEY (octo apikey create), or run this "
                             "beside a running `octo devnet`");
    snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", key);
    c->curl = curl_easy_init();
    if (c->curl == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot start libcurl");
    c->headers = curl_slist_append(NULL, c->auth);
    c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
    octo_buf_init(&c->body, GW_BODY_MAX);
    octo_buf_init(&c->text, GW_BODY_MAX);
    octo_sse_init(&c->sse);
    return OCTO_EXIT_OK;
}

static void gw_deinit(struct gw_client *c)
{
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    octo_buf_deinit(&c->body);
    octo_buf_deinit(&c->text);
    octo_sse_deinit(&c->sse);
    cJSON_Delete(c->usage);
}

/* The gateway's error message from an error body, or a description of the status. */
static void error_text(struct gw_client *c, const uint8_t *body, size_t len)
{
    cJSON *o = cJSON_ParseWithLength((const char *)body, len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "code");
    if (cJSON_IsString(m))
        snprintf(c->error, sizeof(c->error), "%s (%s, HTTP %ld)", m->valuestring,
                 cJSON_IsString(k) ? k->valuestring : "error", c->status);
    else
        snprintf(c->error, sizeof(c->error), "HTTP %ld", c->status);
    cJSON_Delete(o);
}

/* One request: GET when body is NULL. Returns 0 when the gateway answered 200. */
static int gw_call(struct gw_client *c, const char *path, const char *body)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    octo_buf_reset(&c->body);
    c->status = 0;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, GW_TIMEOUT_S);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    if (body != NULL)
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    else
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    CURLcode rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK && c->error[0] == '\0') {
        snprintf(c->error, sizeof(c->error), "%s: %s", url, curl_easy_strerror(rc));
        return -1;
    }
    if (c->status != 200 && c->status != 201) {
        error_text(c, c->body.data, c->body.len);
        return -1;
    }
    return c->error[0] == '\0' ? 0 : -1;
}

static cJSON *gw_json(struct gw_client *c)
{
    cJSON *o = cJSON_ParseWithLength((const char *)c->body.data, c->body.len);
    if (o == NULL)
        snprintf(c->error, sizeof(c->error), "the gateway's answer is not JSON");
    return o;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* ---- octo run ---------------------------------------------------------------------------- */

static int on_event(void *ctx, const struct octo_sse_event *ev)
{
    struct gw_client *c = ctx;
    if (strcmp(ev->data, "[DONE]") == 0)
        return 0;
    cJSON *o = cJSON_ParseWithLength(ev->data, ev->data_len);
    if (o == NULL)
        return OCTO_EMALFORMED;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (err != NULL) {
        snprintf(c->error, sizeof(c->error), "%s (%s)", jstr(err, "message"), jstr(err, "code"));
        cJSON_Delete(o);
        return 0;
    }
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "choices"), 0);
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(ch, "delta");
    const char *t = delta != NULL ? jstr(delta, "content") : jstr(ch, "text");
    if (t[0] != '\0') {
        if (!octo_args_has(&c->cli->args, "json")) {
            fputs(t, c->cli->out);
            fflush(c->cli->out);
        }
        OCTO_IGNORE(octo_buf_append_str(&c->text, t));
    }
    cJSON *u = cJSON_DetachItemFromObjectCaseSensitive(o, "usage");
    if (cJSON_IsObject(u)) {
        cJSON_Delete(c->usage);
        c->usage = u;
    } else {
        cJSON_Delete(u);
    }
    cJSON_Delete(o);
    return 0;
}

static const struct octo_flag run_flags[] = {
    gw_common[0],
    gw_common[1],
    {"model", 'm', true, false, "NAME", "the model (default: the first the gateway lists)"},
    {"max-tokens", 'n', true, false, "N", "tokens to generate (default 64)"},
    {"strategy", 0, true, false, "NAME", "cost, speed, quality, privacy or geo"},
    {"privacy", 0, true, false, "CLASS", "public, shared, confidential or private"},
    {"owner", 0, true, false, "PEER", "private data: the provider node you own"},
    {"verify", 0, true, false, "LEVEL", "reexec: re-run on another provider and compare"},
    {"agent", 'a', true, false, "NAME", "send the task to one of your agents (octo agents)"},
    {"region", 0, true, false, "CC|CONT", "a country (DE) or continent (EU) to run in"},
    {"raw", 0, false, false, NULL, "a raw completion instead of a chat"},
    {NULL, 0, false, false, NULL, NULL},
};

/* A continent code (AF AN AS EU NA OC SA): --region takes either; the codes that are also
 * countries (AF, AS, NA, SA) mean the continent. */
static bool is_continent(const char *r)
{
    static const char *const codes[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(r, codes[i]) == 0)
            return true;
    return false;
}

/* The request body of `octo run`. */
static char *run_body(struct octo_cli *cli, const char *model, uint64_t max_tokens)
{
    const struct octo_args *a = &cli->args;
    bool raw = octo_args_has(a, "raw");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    if (raw) {
        cJSON_AddStringToObject(o, "prompt", a->positional[0]);
    } else {
        cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "content", a->positional[0]);
        cJSON_AddItemToArray(msgs, m);
    }
    if (octo_args_get(a, "agent") == NULL || octo_args_get(a, "max-tokens") != NULL)
        cJSON_AddNumberToObject(o, "max_tokens", (double)max_tokens); /* else: the agent's */
    cJSON_AddBoolToObject(o, "stream", true);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(o, "stream_options"), "include_usage", true);
    const char *strategy = octo_args_get(a, "strategy"), *privacy = octo_args_get(a, "privacy"),
               *region = octo_args_get(a, "region"), *verify = octo_args_get(a, "verify");
    if (strategy != NULL || privacy != NULL || region != NULL || verify != NULL) {
        cJSON *p = cJSON_AddObjectToObject(o, "provider");
        if (verify != NULL)
            cJSON_AddStringToObject(p, "verify", verify);
        if (strategy != NULL)
            cJSON_AddStringToObject(p, "strategy", strategy);
        if (privacy != NULL)
            cJSON_AddStringToObject(p, "privacy", privacy);
        if (region != NULL)
            cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "region"),
                                    is_continent(region) ? "continent" : "country", region);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The first model the gateway lists. */
static int first_model(struct gw_client *c, char *out, size_t cap)
{
    if (gw_call(c, "/v1/models", NULL) != 0)
        return -1;
    cJSON *o = gw_json(c);
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "data"), 0);
    int rc = -1;
    if (m != NULL) {
        snprintf(out, cap, "%s", jstr(m, "id"));
        rc = 0;
    } else if (o != NULL) {
        snprintf(c->error, sizeof(c->error), "the gateway lists no model (no provider yet?)");
    }
    cJSON_Delete(o);
    return rc;
}

/* ---- sealed tasks: octo run --privacy private|confidential ------------------------------ */

/* The sealed exchange of exec/privacy.h through the gateway's two requests (node/gateway.c):
 * HELLO out, the worker's KEY back (checked here: the node must be one this client owns, or an
 * attested TEE; CONFIDENTIAL also needs it on the ACL), the request sealed to that worker, its
 * sealed RESULT back and opened here. The prompt and the text exist in plaintext only in this
 * process and in the worker's sandbox. */
struct sealed_run {
    struct octo_identity id; /* a fresh key per task: signs the envelope */
    bool have_id;
    struct octo_privacy_client pc;
    bool have_pc;
    struct octo_pubkey owned;
    bool have_owner;
    struct octo_privacy_policy pol;
    struct octo_buf payload, out, err; /* secret: the request, the worker's stdout and stderr */
    struct octo_buf frame;
    char task[40];
};

/* A base64 member of o decoded into f (reset first). */
static int b64_member(const cJSON *o, const char *k, struct octo_buf *f)
{
    const char *s = jstr(o, k);
    size_t n = strlen(s);
    octo_buf_reset(f);
    long got = n > 0 && octo_buf_reserve(f, n) == 0 ? octo_b64_decode(s, f->data, n) : -1;
    if (got < 0)
        return -1;
    f->len = (size_t)got;
    return 0;
}

/* The body of a whole exchange frame of the given type in f. */
static int frame_body(const struct octo_buf *f, enum octo_frame_type want, const uint8_t **body,
                      size_t *len)
{
    enum octo_frame_type type;
    long got = octo_frame_parse(f->data, f->len, OCTO_FRAME_BODY_MAX, &type, body, len);
    return got > 0 && (size_t)got == f->len && type == want ? 0 : -1;
}

/* The OpenAI request the worker's runner reads (never seen by the gateway). */
static int sealed_payload(struct octo_cli *cli, const char *model, uint64_t max_tokens,
                          struct octo_buf *out)
{
    const struct octo_args *a = &cli->args;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    if (octo_args_has(a, "raw")) {
        cJSON_AddStringToObject(o, "prompt", a->positional[0]);
    } else {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "content", a->positional[0]);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "messages"), m);
    }
    cJSON_AddNumberToObject(o, "max_tokens", (double)max_tokens);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = s != NULL ? octo_buf_append_str(out, s) : OCTO_ENOMEM;
    if (s != NULL) {
        octo_wipe(s, strlen(s));
        cJSON_free(s);
    }
    return rc;
}

/* POST /api/v1/sealed: the metadata and the HELLO. */
static char *sealed_open_body(struct octo_cli *cli, struct sealed_run *sr, const char *model,
                              uint64_t max_tokens)
{
    const struct octo_args *a = &cli->args;
    char *hello = octo_b64_encode(sr->frame.data, sr->frame.len);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "privacy", octo_args_get(a, "privacy"));
    cJSON_AddStringToObject(o, "kind", octo_args_has(a, "raw") ? "completion" : "chat");
    cJSON_AddStringToObject(o, "hello", hello != NULL ? hello : "");
    cJSON_AddNumberToObject(o, "max_tokens", (double)max_tokens);
    /* the TASK frame: the request, the envelope's header and ACL, the seal, the signature */
    cJSON_AddNumberToObject(o, "max_input_bytes",
                            (double)(sr->payload.len + OCTO_ENV_HEADER_MAX + 256));
    if (octo_args_get(a, "owner") != NULL)
        cJSON_AddStringToObject(o, "owner", octo_args_get(a, "owner"));
    const char *strategy = octo_args_get(a, "strategy"), *region = octo_args_get(a, "region");
    if (strategy != NULL || region != NULL) {
        cJSON *p = cJSON_AddObjectToObject(o, "provider");
        if (strategy != NULL)
            cJSON_AddStringToObject(p, "strategy", strategy);
        if (region != NULL)
            cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "region"),
                                    is_continent(region) ? "continent" : "country", region);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    octo_free(hello);
    return s;
}

/* The worker's KEY, from the answer to POST /api/v1/sealed: admitted or refused here. */
static int sealed_admit_key(struct gw_client *c, struct sealed_run *sr)
{
    cJSON *o = gw_json(c);
    if (o == NULL)
        return -1;
    snprintf(sr->task, sizeof(sr->task), "%s", jstr(o, "task"));
    const uint8_t *body;
    size_t len;
    int rc = b64_member(o, "key", &sr->frame) == 0 &&
                     frame_body(&sr->frame, OCTO_FRAME_KEY, &body, &len) == 0 &&
                     strspn(sr->task, "0123456789abcdef") == 32 && sr->task[32] == '\0'
                 ? 0
                 : -1;
    cJSON_Delete(o);
    if (rc != 0) {
        snprintf(c->error, sizeof(c->error), "the gateway's KEY answer is malformed");
        return -1;
    }
    char why[256] = "";
    rc = octo_privacy_client_on_key(&sr->pc, &sr->pol, body, len, why, sizeof(why));
    if (rc != 0) { /* fail closed: the payload is never sealed to a worker we do not admit */
        snprintf(c->error, sizeof(c->error), "the worker is not admitted for %s data: %s",
                 octo_env_class_name(sr->pc.cls), why[0] != '\0' ? why : octo_strerror(rc));
        return -1;
    }
    return 0;
}

/* Prints the worker's output (the runner's NDJSON, exec/taskrun.h) and keeps the counts. */
static int sealed_print(struct gw_client *c, struct sealed_run *sr, cJSON **done)
{
    const char *p = (const char *)sr->out.data, *end = p + sr->out.len;
    bool json = octo_args_has(&c->cli->args, "json");
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *o = cJSON_ParseWithLength(p, n);
        p += n + 1;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
        if (cJSON_IsString(t)) {
            if (!json)
                fputs(t->valuestring, c->cli->out);
            OCTO_IGNORE(octo_buf_append_str(&c->text, t->valuestring));
        } else if (cJSON_GetObjectItemCaseSensitive(o, "done") != NULL && *done == NULL) {
            *done = o;
            continue;
        } else if (cJSON_GetObjectItemCaseSensitive(o, "error") != NULL) {
            snprintf(c->error, sizeof(c->error), "the run failed in the worker: %s: %s",
                     jstr(o, "error"), jstr(o, "message"));
        }
        cJSON_Delete(o);
    }
    if (*done == NULL && c->error[0] == '\0')
        snprintf(c->error, sizeof(c->error), "the worker's output has no final line");
    return c->error[0] == '\0' ? 0 : -1;
}

/* POST /api/v1/sealed/ID with the sealed TASK; opens the RESULT. */
static int sealed_exchange(struct gw_client *c, struct sealed_run *sr, cJSON **done)
{
    octo_buf_reset(&sr->frame);
    if (octo_privacy_client_task(&sr->pc, &sr->pol, sr->payload.data, sr->payload.len,
                                 &sr->frame) != 0) {
        snprintf(c->error, sizeof(c->error), "cannot seal the request");
        return -1;
    }
    char *task = octo_b64_encode(sr->frame.data, sr->frame.len);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "task", task != NULL ? task : "");
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    octo_free(task);
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/sealed/%s", sr->task);
    int rc = body != NULL ? gw_call(c, path, body) : -1;
    cJSON_free(body);
    if (rc != 0)
        return -1;
    o = gw_json(c);
    const uint8_t *rb;
    size_t rlen;
    struct octo_privacy_outcome out;
    rc = o != NULL && b64_member(o, "result", &sr->frame) == 0 &&
                 frame_body(&sr->frame, OCTO_FRAME_RESULT, &rb, &rlen) == 0
             ? octo_privacy_client_on_result(&sr->pc, rb, rlen, &out, &sr->out, &sr->err)
             : OCTO_EMALFORMED;
    cJSON_Delete(o);
    if (rc != 0 || !out.have_result) {
        snprintf(c->error, sizeof(c->error), "the sealed result does not open: %s",
                 rc != 0 ? octo_strerror(rc) : "the worker sent none");
        return -1;
    }
    return sealed_print(c, sr, done);
}

static void sealed_deinit(struct sealed_run *sr)
{
    if (sr->have_pc)
        octo_privacy_client_deinit(&sr->pc);
    if (sr->have_id)
        octo_identity_deinit(&sr->id);
    octo_buf_deinit(&sr->payload);
    octo_buf_deinit(&sr->out);
    octo_buf_deinit(&sr->err);
    octo_buf_deinit(&sr->frame);
}

/* The client's side of a sealed task; 0 or c->error says why not. */
static int sealed_run(struct octo_cli *cli, struct gw_client *c, struct sealed_run *sr,
                      const char *model, uint64_t max_tokens, cJSON **done)
{
    const char *privacy = octo_args_get(&cli->args, "privacy");
    enum octo_env_class cls =
        strcmp(privacy, "private") == 0 ? OCTO_ENV_PRIVATE : OCTO_ENV_CONFIDENTIAL;
    const char *owner = octo_args_get(&cli->args, "owner");
    struct octo_peerid op;
    if (owner != NULL &&
        (octo_peerid_from_text(owner, &op) != 0 || octo_peerid_pubkey(&op, &sr->owned) != 0)) {
        snprintf(c->error, sizeof(c->error), "--owner: not an Ed25519 peer id");
        return -1;
    }
    sr->have_owner = owner != NULL;
    sr->pol.owned = sr->have_owner ? &sr->owned : NULL; /* PRIVATE without a TEE: our node */
    sr->pol.owned_count = sr->have_owner ? 1 : 0;
    sr->pol.acl = sr->pol.owned; /* CONFIDENTIAL: that node is the task's ACL */
    sr->pol.acl_count = sr->pol.owned_count;
    sr->pol.now_s = (int64_t)time(NULL);
    if (octo_identity_generate(&sr->id) != 0)
        return -1;
    sr->have_id = true;
    if (octo_privacy_client_init(&sr->pc, &sr->id, cls, NULL) != 0)
        return -1;
    sr->have_pc = true;
    if (sealed_payload(cli, model, max_tokens, &sr->payload) != 0 ||
        octo_privacy_client_hello(&sr->pc, &sr->frame) != 0)
        return -1;
    char *body = sealed_open_body(cli, sr, model, max_tokens);
    int rc = body != NULL ? gw_call(c, "/api/v1/sealed", body) : -1;
    cJSON_free(body);
    if (rc != 0 || sealed_admit_key(c, sr) != 0)
        return -1;
    snprintf(c->task, sizeof(c->task), "%s", sr->task);
    return sealed_exchange(c, sr, done);
}

/* An agent's name or id as the gateway takes them (intel/agent.h): nothing a URL would read
 * otherwise. */
static bool agent_ref_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int run_run(struct octo_cli *cli)
{
    if (cli->args.positional_count != 1)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo run \"prompt\" [flags]");
    const char *privacy = octo_args_get(&cli->args, "privacy");
    bool sealed = privacy != NULL &&
                  (strcmp(privacy, "private") == 0 || strcmp(privacy, "confidential") == 0);
    uint64_t max_tokens = 64;
    const char *v = octo_args_get(&cli->args, "max-tokens");
    uint64_t top = sealed ? OCTO_TASKWIRE_SEALED_TOKENS_MAX : 32768;
    if (v != NULL && (octo_cli_parse_u64(v, top, &max_tokens) != 0 || max_tokens == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "run: --max-tokens must be 1..%llu",
                             (unsigned long long)top);
    if (octo_args_get(&cli->args, "owner") != NULL && !sealed)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "run: --owner is for --privacy private or confidential");
    struct gw_client c;
    int st = gw_init(&c, cli);
    if (st != OCTO_EXIT_OK) {
        gw_deinit(&c);
        return st;
    }
    char model[256];
    const char *m = octo_args_get(&cli->args, "model");
    const char *agent = octo_args_get(&cli->args, "agent");
    if (agent != NULL && (m != NULL || sealed || octo_args_has(&cli->args, "raw"))) {
        gw_deinit(&c);
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "run: --agent takes a chat and its own model (no --model, --raw or "
                             "sealed --privacy)");
    }
    if (agent != NULL && !agent_ref_ok(agent)) {
        gw_deinit(&c);
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "run: --agent: an agent's name or id");
    }
    if (agent != NULL)
        snprintf(model, sizeof(model), "agent:%.200s", agent);
    else if (m != NULL)
        snprintf(model, sizeof(model), "%s", m);
    else if (first_model(&c, model, sizeof(model)) != 0) {
        st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "run: %s", c.error);
        gw_deinit(&c);
        return st;
    }
    int rc;
    if (sealed) {
        struct sealed_run sr;
        memset(&sr, 0, sizeof(sr));
        octo_buf_init_secret(&sr.payload, OCTO_TASKWIRE_SEALED_MAX);
        octo_buf_init_secret(&sr.out, GW_BODY_MAX);
        octo_buf_init_secret(&sr.err, GW_BODY_MAX);
        octo_buf_init(&sr.frame, GW_BODY_MAX);
        cJSON *done = NULL;
        rc = sealed_run(cli, &c, &sr, model, max_tokens, &done);
        if (done != NULL) /* the worker's own counts (what is charged is metered: the record) */
            c.usage = done;
        sealed_deinit(&sr);
    } else {
        char *body = run_body(cli, model, max_tokens);
        if (body == NULL) {
            gw_deinit(&c);
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "run: out of memory");
        }
        c.stream = true;
        const char *path =
            octo_args_has(&cli->args, "raw") ? "/v1/completions" : "/v1/chat/completions";
        rc = gw_call(&c, path, body);
        cJSON_free(body);
        c.stream = false;
    }
    if (!octo_args_has(&cli->args, "json"))
        fputc('\n', cli->out);
    if (rc != 0 || c.error[0] != '\0') {
        st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "run: %s", c.error);
        gw_deinit(&c);
        return st;
    }
    /* the task's record: who answered, what it cost */
    char tpath[96];
    snprintf(tpath, sizeof(tpath), "/api/v1/tasks/%s", c.task);
    cJSON *t = c.task[0] != '\0' && gw_call(&c, tpath, NULL) == 0 ? gw_json(&c) : NULL;
    if (octo_args_has(&cli->args, "json")) {
        cJSON *o = cJSON_CreateObject();
        /* valid UTF-8 in JSON (a sealed answer comes as the worker's raw bytes) */
        cJSON *text = octo_oai_text_item((const char *)c.text.data, c.text.len);
        cJSON_AddItemToObject(o, "text", text != NULL ? text : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "task", t != NULL ? t : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "usage", c.usage != NULL ? c.usage : cJSON_CreateNull());
        c.usage = NULL;
        octo_cli_print_json(cli, o);
    } else {
        uint64_t amount = strtoull(jstr(t, "charged_amount"), NULL, 10);
        char octo[48];
        octo_cli_format_amount(amount, octo, sizeof(octo));
        fprintf(cli->err,
                "task %s · %s · provider %s · attempts %.0f · tokens %.0f in, %.0f out · "
                "charged %s OCTO\n",
                c.task, jstr(t, "state"), jstr(t, "provider"), jnum(t, "attempts"),
                jnum(c.usage, "prompt_tokens"), jnum(c.usage, "completion_tokens"), octo);
        cJSON_Delete(t);
    }
    gw_deinit(&c);
    return OCTO_EXIT_OK;
}

/* ---- octo providers, octo tasks ------------------------------------------------------------ */

static int get_print(struct octo_cli *cli, const char *path,
                     void (*print)(struct octo_cli *, const cJSON *))
{
    struct gw_client c;
    int st = gw_init(&c, cli);
    if (st == OCTO_EXIT_OK && gw_call(&c, path, NULL) != 0)
        st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", c.error);
    cJSON *o = st == OCTO_EXIT_OK ? gw_json(&c) : NULL;
    if (st == OCTO_EXIT_OK && o == NULL)
        st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", c.error);
    if (o != NULL && octo_args_has(&cli->args, "json")) {
        octo_cli_print_json(cli, o);
        o = NULL;
    } else if (o != NULL) {
        print(cli, o);
    }
    cJSON_Delete(o);
    gw_deinit(&c);
    return st;
}

static void print_providers(struct octo_cli *cli, const cJSON *o)
{
    const cJSON *p;
    fprintf(cli->out, "%-52s %-10s %-6s %10s %10s %5s %s\n", "provider", "model", "quant",
            "in/Mtok", "out/Mtok", "load", "up");
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "providers"))
    {
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "models"), 0);
        char in[48], out[48];
        octo_cli_format_amount((uint64_t)jnum(p, "price_in_per_mtok"), in, sizeof(in));
        octo_cli_format_amount((uint64_t)jnum(p, "price_out_per_mtok"), out, sizeof(out));
        fprintf(cli->out, "%-52s %-10s %-6s %10s %10s %2.0f/%-2.0f %s\n", jstr(p, "id"),
                jstr(m, "name"), jstr(m, "quantization"), in, out, jnum(p, "in_flight"),
                jnum(p, "max_concurrency"),
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "available")) ? "yes" : "no");
    }
}

static const struct octo_flag list_flags[] = {
    gw_common[0],
    gw_common[1],
    {"limit", 0, true, false, "N", "tasks: how many (default 20)"},
    {NULL, 0, false, false, NULL, NULL},
};

static int run_providers(struct octo_cli *cli)
{
    if (cli->args.positional_count != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo providers [--json]");
    return get_print(cli, "/api/v1/providers", print_providers);
}

static void print_task_line(struct octo_cli *cli, const cJSON *t)
{
    char octo[48];
    octo_cli_format_amount(strtoull(jstr(t, "charged_amount"), NULL, 10), octo, sizeof(octo));
    fprintf(cli->out, "%s  %-9s %-10s %2.0f  %-14s %s\n", jstr(t, "id"), jstr(t, "state"),
            jstr(t, "model"), jnum(t, "attempts"), octo,
            jstr(t, "reason")[0] != '\0' ? jstr(t, "reason") : jstr(t, "provider"));
}

static void print_tasks(struct octo_cli *cli, const cJSON *o)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "tasks"), *t;
    if (arr == NULL) { /* one task */
        print_task_line(cli, o);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "result");
        const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "choices"), 0);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
        const char *text = msg != NULL ? jstr(msg, "content") : jstr(ch, "text");
        if (text[0] != '\0')
            fprintf(cli->out, "%s\n", text);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "commitment");
        if (cJSON_IsObject(c))
            fprintf(cli->out,
                    "commitment: %s · weights %.16s… %s · isolation %s · tokens %.0f in, %.0f "
                    "out · %.0f ms%s\n",
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "verified"))
                        ? "signed by the provider, countersigned by the orchestrator"
                        : "SIGNATURES DO NOT HOLD",
                    jstr(c, "model_sha256"), jstr(c, "quantization"), jstr(c, "isolation"),
                    jnum(c, "prompt_tokens"), jnum(c, "completion_tokens"),
                    jnum(c, "end_ms") - jnum(c, "start_ms"),
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "sealed")) ? " · sealed" : "");
        return;
    }
    fprintf(cli->out, "%-32s  %-9s %-10s %2s  %-14s %s\n", "task", "state", "model", "at",
            "charged (OCTO)", "provider / reason");
    cJSON_ArrayForEach(t, arr) print_task_line(cli, t);
}

static int run_tasks(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    char path[160];
    uint64_t limit = 20;
    const char *v = octo_args_get(a, "limit");
    if (a->positional_count > 1 ||
        (v != NULL && (octo_cli_parse_u64(v, 1000, &limit) != 0 || limit == 0)) ||
        (a->positional_count == 1 && strspn(a->positional[0], "0123456789abcdef") != 32))
        return octo_cli_fail(
            cli, OCTO_EXIT_USAGE,
            "usage: octo tasks [TASK_ID (32 hex digits)] [--limit 1..1000] [--json]");
    if (a->positional_count == 1)
        snprintf(path, sizeof(path), "/api/v1/tasks/%s", a->positional[0]);
    else
        snprintf(path, sizeof(path), "/api/v1/tasks?limit=%llu", (unsigned long long)limit);
    return get_print(cli, path, print_tasks);
}

const struct octo_cli_cmd octo_cmd_run = {
    .name = "run",
    .run = run_run,
    .flags = run_flags,
    .needs_config = false,
    .usage = "run \"prompt\" [--model NAME] [--max-tokens N] [--strategy NAME] [--privacy CLASS] "
             "[--owner PEER] [--region CC|CONT] [--verify LEVEL] [--raw] [--gateway URL] "
             "[--json]",
    .summary = "send a task through a gateway and stream the answer (key: $OCTO_API_KEY)",
};

const struct octo_cli_cmd octo_cmd_providers = {
    .name = "providers",
    .run = run_providers,
    .flags = list_flags,
    .needs_config = false,
    .usage = "providers [--gateway URL] [--json]",
    .summary = "the providers a gateway knows: models, prices, load",
};

const struct octo_cli_cmd octo_cmd_tasks = {
    .name = "tasks",
    .run = run_tasks,
    .flags = list_flags,
    .needs_config = false,
    .usage = "tasks [TASK_ID] [--limit N] [--gateway URL] [--json]",
    .summary = "your API key's tasks at a gateway, or one of them with its answer",
};

/* ---- octo agents ----------------------------------------------------------------------------- */

static const struct octo_flag agent_flags[] = {
    gw_common[0],
    gw_common[1],
    {"model", 'm', true, false, "NAME", "create: the model its tasks run on"},
    {"instructions", 0, true, false, "TEXT", "create: its system message"},
    {"description", 0, true, false, "TEXT", "create: what it is for"},
    {"max-tokens", 'n', true, false, "N", "create: its tasks' default max_tokens"},
    {NULL, 0, false, false, NULL, NULL},
};

static void print_agent_line(struct octo_cli *cli, const cJSON *a)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "manifest");
    fprintf(cli->out, "%s  %-24s %-12s %s%s\n", jstr(a, "id"), jstr(a, "name"), jstr(m, "model"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "verified")) ? "signed"
                                                                          : "SIGNATURE BAD",
            jstr(m, "instructions")[0] != '\0' ? " · with instructions" : "");
}

static void print_agents(struct octo_cli *cli, const cJSON *o)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "agents"), *a;
    if (arr == NULL) {
        print_agent_line(cli, o);
        return;
    }
    fprintf(cli->out, "%-36s  %-24s %-12s %s\n", "agent", "name", "model", "registration");
    cJSON_ArrayForEach(a, arr) print_agent_line(cli, a);
}

/* The manifest `octo agents create` sends. */
static char *agent_manifest(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    uint64_t max_tokens = 0;
    const char *v = octo_args_get(a, "max-tokens");
    if (v != NULL && (octo_cli_parse_u64(v, 32768, &max_tokens) != 0 || max_tokens == 0))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", a->positional[1]);
    cJSON_AddStringToObject(o, "model", octo_args_get(a, "model"));
    if (octo_args_get(a, "instructions") != NULL)
        cJSON_AddStringToObject(o, "instructions", octo_args_get(a, "instructions"));
    if (octo_args_get(a, "description") != NULL)
        cJSON_AddStringToObject(o, "description", octo_args_get(a, "description"));
    if (max_tokens != 0)
        cJSON_AddNumberToObject(o, "max_tokens", (double)max_tokens);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int run_agents(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    const char *verb = a->positional_count > 0 ? a->positional[0] : "ls";
    bool ls = strcmp(verb, "ls") == 0 && a->positional_count <= 1;
    bool create = strcmp(verb, "create") == 0 && a->positional_count == 2 &&
                  octo_args_get(a, "model") != NULL;
    bool show = strcmp(verb, "show") == 0 && a->positional_count == 2;
    bool rm = strcmp(verb, "rm") == 0 && a->positional_count == 2;
    if ((create || show || rm) && !agent_ref_ok(a->positional[1]))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "agents: a name is 1..64 characters of A-Z a-z 0-9 . _ - (or an "
                             "agent's id)");
    if (!ls && !create && !show && !rm)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "usage: octo agents [ls] | create NAME --model M [--instructions "
                             "TEXT] [--description TEXT] [--max-tokens N] | show ID|NAME | rm "
                             "ID|NAME");
    if (ls)
        return get_print(cli, "/api/v1/agents", print_agents);
    char path[256];
    if (show) {
        snprintf(path, sizeof(path), "/api/v1/agents/%.100s", a->positional[1]);
        return get_print(cli, path, print_agents);
    }
    struct gw_client c;
    int st = gw_init(&c, cli);
    char *body = NULL;
    if (st == OCTO_EXIT_OK && create && (body = agent_manifest(cli)) == NULL) {
        gw_deinit(&c);
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "agents: --max-tokens must be 1..32768");
    }
    if (st == OCTO_EXIT_OK) {
        int rc;
        if (create) {
            rc = gw_call(&c, "/api/v1/agents", body);
        } else {
            snprintf(path, sizeof(path), "/api/v1/agents/%.100s", a->positional[1]);
            curl_easy_setopt(c.curl, CURLOPT_CUSTOMREQUEST, "DELETE");
            rc = gw_call(&c, path, NULL);
        }
        if (rc != 0)
            st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "agents: %s", c.error);
    }
    cJSON_free(body);
    cJSON *o = st == OCTO_EXIT_OK ? gw_json(&c) : NULL;
    if (o != NULL && octo_args_has(a, "json"))
        octo_cli_print_json(cli, o);
    else if (o != NULL && create)
        print_agent_line(cli, o);
    else if (o != NULL)
        fprintf(cli->out, "removed %s\n", jstr(o, "deleted"));
    if (o != NULL && octo_args_has(a, "json"))
        o = NULL;
    cJSON_Delete(o);
    gw_deinit(&c);
    return st;
}

const struct octo_cli_cmd octo_cmd_agents = {
    .name = "agents",
    .run = run_agents,
    .flags = agent_flags,
    .needs_config = false,
    .usage = "agents [ls | create NAME --model M [--instructions TEXT] [--description TEXT] "
             "[--max-tokens N] | show ID|NAME | rm ID|NAME] [--gateway URL] [--json]",
    .summary = "your API key's agents at a gateway: register, list, show, remove",
};
