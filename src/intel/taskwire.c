/*
 * taskwire.c — frames and frame bodies of the orchestrator-provider protocols (taskwire.h).
 *
 * The reader keeps unconsumed bytes in one buffer and checks each frame's announced length
 * against its maximum before waiting for (and buffering) the body, so a peer cannot make it
 * hold more than max + a header. JSON bodies are read with cJSON (through octo_malloc) and
 * checked field by field: wrong types, out-of-range integers and over-long strings are
 * OCTO_EMALFORMED, never truncated.
 */
#include "intel/taskwire.h"

#include "base/assert.h"
#include "base/endian.h"
#include "base/hex.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define JSON_INT_MAX 9007199254740991.0 /* 2^53 - 1: exact in a double */

void octo_taskwire_reader_init(struct octo_taskwire_reader *r, size_t max)
{
    OCTO_ASSERT(max >= OCTO_TASKWIRE_HEADER && max <= OCTO_TASKWIRE_FRAME_MAX);
    octo_buf_init(&r->buf, max + OCTO_TASKWIRE_HEADER + OCTO_TASKWIRE_FEED_MAX);
    r->max = max;
    r->skip = 0;
}

void octo_taskwire_reader_deinit(struct octo_taskwire_reader *r)
{
    octo_buf_deinit(&r->buf);
}

/* The length of the first frame's kind+body, after checking it; 0 while the header is short. */
static int head_len(const struct octo_taskwire_reader *r, size_t *flen)
{
    *flen = 0;
    if (r->buf.len < 4)
        return 0;
    uint32_t n = octo_load_be32(r->buf.data);
    if (n == 0)
        return OCTO_EMALFORMED;
    if (n > r->max)
        return OCTO_ETOOBIG;
    *flen = n;
    return 0;
}

/* Drops the frame handed out last. */
static void drop_handed(struct octo_taskwire_reader *r)
{
    octo_buf_consume(&r->buf, r->skip);
    r->skip = 0;
}

int octo_taskwire_feed(struct octo_taskwire_reader *r, const uint8_t *data, size_t len)
{
    drop_handed(r);
    if (len > OCTO_TASKWIRE_FEED_MAX)
        return OCTO_ETOOBIG;
    size_t flen;
    int rc = head_len(r, &flen);
    if (rc != 0)
        return rc;
    rc = octo_buf_append(&r->buf, data, len);
    if (rc != 0)
        return rc;
    return head_len(r, &flen);
}

int octo_taskwire_next(struct octo_taskwire_reader *r, uint8_t *kind, const uint8_t **body,
                       size_t *len)
{
    drop_handed(r);
    size_t flen;
    if (head_len(r, &flen) != 0 || flen == 0 || r->buf.len < 4 + flen)
        return 0;
    *kind = r->buf.data[4];
    *body = r->buf.data + OCTO_TASKWIRE_HEADER;
    *len = flen - 1;
    r->skip = 4 + flen;
    return 1;
}

int octo_taskwire_frame(struct octo_buf *out, enum octo_taskwire_kind kind, const void *body,
                        size_t len)
{
    if (len + 1 > OCTO_TASKWIRE_FRAME_MAX)
        return OCTO_ETOOBIG;
    uint8_t h[OCTO_TASKWIRE_HEADER];
    octo_store_be32(h, (uint32_t)(len + 1));
    h[4] = (uint8_t)kind;
    int rc = octo_buf_reserve(out, sizeof(h) + len);
    if (rc == 0)
        rc = octo_buf_append(out, h, sizeof(h));
    if (rc == 0 && len > 0)
        rc = octo_buf_append(out, body, len);
    return rc;
}

const char *octo_taskwire_task_kind_name(enum octo_taskwire_task_kind k)
{
    return k == OCTO_TASKWIRE_COMPLETION ? "completion" : "chat";
}

/* A JSON string's text appended with its quotes and escapes. */
static int append_json_string(struct octo_buf *b, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (t == NULL)
        return OCTO_ENOMEM;
    int rc = octo_buf_append_str(b, t);
    cJSON_free(t);
    return rc;
}

/* Writes a frame whose body is built in b (after the reserved header). */
static int close_frame(struct octo_buf *out, size_t start, enum octo_taskwire_kind kind)
{
    size_t n = out->len - start - OCTO_TASKWIRE_HEADER;
    if (n + 1 > OCTO_TASKWIRE_FRAME_MAX) {
        out->len = start;
        return OCTO_ETOOBIG;
    }
    octo_store_be32(out->data + start, (uint32_t)(n + 1));
    out->data[start + 4] = (uint8_t)kind;
    return 0;
}

static int open_frame(struct octo_buf *out, size_t *start)
{
    *start = out->len;
    static const uint8_t zero[OCTO_TASKWIRE_HEADER];
    return octo_buf_append(out, zero, sizeof(zero));
}

int octo_taskwire_assign_encode(struct octo_buf *out, const struct octo_taskwire_assign *a)
{
    if (a->request == NULL || a->request_len < 2 || a->request_len > OCTO_TASKWIRE_REQUEST_MAX ||
        a->request[0] != '{' || a->model[0] == '\0' || a->deadline_ms > (uint64_t)JSON_INT_MAX)
        return OCTO_EINVAL;
    if (a->sealed != OCTO_TASKWIRE_OPEN &&
        ((a->sealed != OCTO_TASKWIRE_SEALED_PRIVATE &&
          a->sealed != OCTO_TASKWIRE_SEALED_CONFIDENTIAL) ||
         a->max_tokens == 0 || a->max_tokens > OCTO_TASKWIRE_SEALED_TOKENS_MAX))
        return OCTO_EINVAL;
    char hex[2 * OCTO_TASKWIRE_ID_LEN + 1];
    OCTO_ASSERT(octo_hex_encode(a->task, sizeof(a->task), hex, sizeof(hex)) > 0);
    size_t start;
    int rc = open_frame(out, &start);
    if (rc == 0)
        rc =
            octo_buf_appendf(out, "{\"task\":\"%s\",\"attempt\":%u,\"kind\":\"%s\",\"model\":", hex,
                             a->attempt, octo_taskwire_task_kind_name(a->kind));
    if (rc == 0)
        rc = append_json_string(out, a->model);
    if (rc == 0)
        rc = octo_buf_appendf(out, ",\"deadline_ms\":%llu", (unsigned long long)a->deadline_ms);
    if (rc == 0 && a->sealed != OCTO_TASKWIRE_OPEN)
        rc = octo_buf_appendf(
            out, ",\"sealed\":\"%s\",\"max_tokens\":%u",
            a->sealed == OCTO_TASKWIRE_SEALED_PRIVATE ? "private" : "confidential", a->max_tokens);
    if (rc == 0 && a->deterministic)
        rc = octo_buf_append_str(out, ",\"deterministic\":true");
    if (rc == 0 && a->has_requester) {
        char rq[65];
        OCTO_ASSERT(octo_hex_encode(a->requester, 32, rq, sizeof(rq)) > 0);
        rc = octo_buf_appendf(out, ",\"requester\":\"%s\"", rq);
    }
    if (rc == 0)
        rc = octo_buf_append_str(out, ",\"request\":");
    if (rc == 0)
        rc = octo_buf_append(out, a->request, a->request_len);
    if (rc == 0)
        rc = octo_buf_append_byte(out, '}');
    if (rc == 0)
        return close_frame(out, start, OCTO_TASKWIRE_ASSIGN);
    out->len = start;
    return rc;
}

/* An integer member 0..max, or OCTO_EMALFORMED. */
static int get_uint(const cJSON *o, const char *name, double max, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > max ||
        (double)(uint64_t)v->valuedouble != v->valuedouble) /* range first: the cast is defined */
        return OCTO_EMALFORMED;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

/* A string member of 1..cap-1 bytes copied into out, or OCTO_EMALFORMED. */
static int get_str(const cJSON *o, const char *name, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return OCTO_EMALFORMED;
    size_t n = strlen(v->valuestring);
    if (n == 0 || n >= cap)
        return OCTO_EMALFORMED;
    memcpy(out, v->valuestring, n + 1);
    return 0;
}

static int get_hex(const cJSON *o, const char *name, uint8_t *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v) || v->valuestring == NULL || strlen(v->valuestring) != 2 * n ||
        octo_hex_decode(v->valuestring, 2 * n, out, n) != (int)n)
        return OCTO_EMALFORMED;
    return 0;
}

static cJSON *parse_object(const uint8_t *body, size_t len)
{
    cJSON *o = cJSON_ParseWithLength((const char *)body, len);
    if (o != NULL && !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ASSIGN's "sealed" and "max_tokens". */
static int sealed_decode(const cJSON *o, struct octo_taskwire_assign *out)
{
    char cls[16];
    uint64_t max = 0;
    if (get_str(o, "sealed", cls, sizeof(cls)) != 0 ||
        get_uint(o, "max_tokens", OCTO_TASKWIRE_SEALED_TOKENS_MAX, &max) != 0 || max == 0)
        return OCTO_EMALFORMED;
    if (strcmp(cls, "private") == 0)
        out->sealed = OCTO_TASKWIRE_SEALED_PRIVATE;
    else if (strcmp(cls, "confidential") == 0)
        out->sealed = OCTO_TASKWIRE_SEALED_CONFIDENTIAL;
    else
        return OCTO_EMALFORMED;
    out->max_tokens = (uint32_t)max;
    return 0;
}

uint32_t octo_taskwire_sealed_prompt_tokens(size_t task_len)
{
    return (uint32_t)((task_len + 3u) / 4u); /* task_len <= OCTO_TASKWIRE_SEALED_MAX */
}

int octo_taskwire_assign_decode(const uint8_t *body, size_t len, struct octo_taskwire_assign *out)
{
    memset(out, 0, sizeof(*out));
    if (len > OCTO_TASKWIRE_FRAME_MAX)
        return OCTO_ETOOBIG;
    cJSON *o = parse_object(body, len);
    if (o == NULL)
        return OCTO_EMALFORMED;
    uint64_t attempt = 0;
    char kind[16];
    int rc = get_hex(o, "task", out->task, sizeof(out->task));
    if (rc == 0)
        rc = get_uint(o, "attempt", UINT32_MAX, &attempt);
    if (rc == 0)
        rc = get_str(o, "kind", kind, sizeof(kind));
    if (rc == 0 && strcmp(kind, "chat") != 0 && strcmp(kind, "completion") != 0)
        rc = OCTO_EMALFORMED;
    if (rc == 0)
        rc = get_str(o, "model", out->model, sizeof(out->model));
    if (rc == 0)
        rc = get_uint(o, "deadline_ms", JSON_INT_MAX, &out->deadline_ms);
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(o, "requester") != NULL) {
        rc = get_hex(o, "requester", out->requester, 32);
        out->has_requester = rc == 0;
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(o, "sealed") != NULL)
        rc = sealed_decode(o, out);
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(o, "deterministic");
    if (rc == 0 && det != NULL && !cJSON_IsBool(det))
        rc = OCTO_EMALFORMED;
    bool deterministic = cJSON_IsTrue(det);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(o, "request");
    if (rc == 0 && !cJSON_IsObject(req))
        rc = OCTO_EMALFORMED;
    char *text = rc == 0 ? cJSON_PrintUnformatted(req) : NULL;
    if (rc == 0 && text == NULL)
        rc = OCTO_ENOMEM;
    if (rc == 0 && strlen(text) > OCTO_TASKWIRE_REQUEST_MAX)
        rc = OCTO_ETOOBIG;
    cJSON_Delete(o);
    if (rc != 0) {
        cJSON_free(text);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    out->attempt = (uint32_t)attempt;
    out->deterministic = deterministic;
    out->kind = strcmp(kind, "chat") == 0 ? OCTO_TASKWIRE_CHAT : OCTO_TASKWIRE_COMPLETION;
    out->request = text;
    out->request_len = strlen(text);
    return 0;
}

void octo_taskwire_assign_free(struct octo_taskwire_assign *a)
{
    cJSON_free((void *)(uintptr_t)a->request);
    a->request = NULL;
    a->request_len = 0;
}

int octo_taskwire_result_encode(struct octo_buf *out, const struct octo_taskwire_result *res)
{
    char hex[65];
    OCTO_ASSERT(octo_hex_encode(res->model_sha256, 32, hex, sizeof(hex)) > 0);
    size_t start;
    int rc = open_frame(out, &start);
    if (rc == 0)
        rc = octo_buf_append_str(out, "{\"finish\":");
    if (rc == 0)
        rc = append_json_string(out, res->finish);
    if (rc == 0)
        rc = octo_buf_appendf(out,
                              ",\"prompt_tokens\":%u,\"completion_tokens\":%u,\"ttft_ns\":%llu,"
                              "\"run_ns\":%llu,\"model_sha256\":\"%s\"",
                              res->prompt_tokens, res->completion_tokens,
                              (unsigned long long)(res->ttft_ns & (uint64_t)JSON_INT_MAX),
                              (unsigned long long)(res->run_ns & (uint64_t)JSON_INT_MAX), hex);
    if (rc == 0 && res->has_receipt) {
        char rh[2 * OCTO_TASKWIRE_RECEIPT_LEN + 1];
        OCTO_ASSERT(octo_hex_encode(res->receipt, sizeof(res->receipt), rh, sizeof(rh)) > 0);
        rc = octo_buf_appendf(out, ",\"receipt\":\"%s\"", rh);
    }
    if (rc == 0 && res->has_commitment) {
        char ch[2 * OCTO_COMMIT_LEN + 1];
        OCTO_ASSERT(octo_hex_encode(res->commitment, sizeof(res->commitment), ch, sizeof(ch)) > 0);
        rc = octo_buf_appendf(out, ",\"commitment\":\"%s\"", ch);
    }
    if (rc == 0)
        rc = octo_buf_append_byte(out, '}');
    if (rc == 0)
        return close_frame(out, start, OCTO_TASKWIRE_RESULT);
    out->len = start;
    return rc;
}

int octo_taskwire_result_decode(const uint8_t *body, size_t len, struct octo_taskwire_result *out)
{
    memset(out, 0, sizeof(*out));
    cJSON *o = parse_object(body, len);
    if (o == NULL)
        return OCTO_EMALFORMED;
    uint64_t pt = 0, ct = 0;
    int rc = get_str(o, "finish", out->finish, sizeof(out->finish));
    if (rc == 0)
        rc = get_uint(o, "prompt_tokens", UINT32_MAX, &pt);
    if (rc == 0)
        rc = get_uint(o, "completion_tokens", UINT32_MAX, &ct);
    if (rc == 0)
        rc = get_uint(o, "ttft_ns", JSON_INT_MAX, &out->ttft_ns);
    if (rc == 0)
        rc = get_uint(o, "run_ns", JSON_INT_MAX, &out->run_ns);
    if (rc == 0)
        rc = get_hex(o, "model_sha256", out->model_sha256, 32);
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(o, "receipt") != NULL) {
        rc = get_hex(o, "receipt", out->receipt, sizeof(out->receipt));
        out->has_receipt = rc == 0;
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(o, "commitment") != NULL) {
        rc = get_hex(o, "commitment", out->commitment, sizeof(out->commitment));
        out->has_commitment = rc == 0;
    }
    cJSON_Delete(o);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    out->prompt_tokens = (uint32_t)pt;
    out->completion_tokens = (uint32_t)ct;
    return 0;
}

int octo_taskwire_error_encode(struct octo_buf *out, const struct octo_taskwire_error *e)
{
    size_t start;
    int rc = open_frame(out, &start);
    if (rc == 0)
        rc = octo_buf_append_str(out, "{\"code\":");
    if (rc == 0)
        rc = append_json_string(out, e->code);
    if (rc == 0)
        rc = octo_buf_append_str(out, ",\"message\":");
    if (rc == 0)
        rc = append_json_string(out, e->message);
    if (rc == 0)
        rc = octo_buf_appendf(out, ",\"retry\":%s}", e->retry ? "true" : "false");
    if (rc == 0)
        return close_frame(out, start, OCTO_TASKWIRE_ERROR);
    out->len = start;
    return rc;
}

int octo_taskwire_error_decode(const uint8_t *body, size_t len, struct octo_taskwire_error *out)
{
    memset(out, 0, sizeof(*out));
    cJSON *o = parse_object(body, len);
    if (o == NULL)
        return OCTO_EMALFORMED;
    int rc = get_str(o, "code", out->code, sizeof(out->code));
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "retry");
    if (rc == 0 && (!cJSON_IsString(m) || !cJSON_IsBool(r)))
        rc = OCTO_EMALFORMED;
    if (rc == 0) {
        snprintf(out->message, sizeof(out->message), "%s", m->valuestring);
        out->retry = cJSON_IsTrue(r);
    }
    cJSON_Delete(o);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
