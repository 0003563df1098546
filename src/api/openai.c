/*
 * openai.c — OpenAI-compatible requests and answers (openai.h).
 *
 * The body is parsed by cJSON (with a length, so no NUL is needed after it) and checked field
 * by field; the first problem decides the error, as the API reports one parameter at a time.
 * Answers are built as cJSON trees and printed unformatted (one line: an SSE data field).
 */
#include "api/openai.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int refuse(struct octo_oai_error *e, const char *param, const char *code, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

static int refuse(struct octo_oai_error *e, const char *param, const char *code, const char *fmt,
                  ...)
{
    e->status = 400;
    e->type = "invalid_request_error";
    e->code = code;
    snprintf(e->param, sizeof(e->param), "%s", param);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return OCTO_EINVAL;
}

static const cJSON *field(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNull(f) ? NULL : f; /* null is "not given", as the API treats it */
}

/* A number that is an integer in [lo, hi]. */
static bool int_in(const cJSON *f, double lo, double hi, double *out)
{
    if (!cJSON_IsNumber(f))
        return false;
    double v = f->valuedouble;
    if (!(v >= lo && v <= hi) || floor(v) != v)
        return false;
    *out = v;
    return true;
}

static const char *const roles[] = {"system", "developer", "user", "assistant", "tool"};

static bool role_ok(const char *r)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(r, roles[i]) == 0)
            return true;
    return false;
}

/* Content as an array of text parts: joined into one owned string. */
static int join_parts(struct octo_oai_request *r, const cJSON *parts, size_t i,
                      struct octo_oai_error *e)
{
    char param[48];
    snprintf(param, sizeof(param), "messages[%zu].content", i);
    size_t total = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, parts)
    {
        const cJSON *type = field(p, "type"), *text = field(p, "text");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0)
            return refuse(e, param, "invalid_value",
                          "only text content parts are supported by this gateway");
        if (!cJSON_IsString(text))
            return refuse(e, param, "invalid_type", "a text part needs a string \"text\"");
        total += strlen(text->valuestring);
    }
    char *s = octo_malloc(total + 1);
    if (s == NULL)
        return OCTO_ENOMEM;
    size_t off = 0;
    cJSON_ArrayForEach(p, parts)
    {
        const cJSON *text = field(p, "text"); /* checked by the first pass */
        size_t n = text != NULL && cJSON_IsString(text) ? strlen(text->valuestring) : 0;
        memcpy(s + off, n > 0 ? text->valuestring : "", n);
        off += n;
    }
    s[off] = '\0';
    r->joined[r->n_joined++] = s;
    r->messages[i].content = s;
    r->messages[i].content_len = off;
    return 0;
}

static int parse_messages(struct octo_oai_request *r, const cJSON *root, struct octo_oai_error *e)
{
    const cJSON *msgs = field(root, "messages");
    if (msgs == NULL)
        return refuse(e, "messages", "missing_required_parameter",
                      "you must provide a messages parameter");
    if (!cJSON_IsArray(msgs))
        return refuse(e, "messages", "invalid_type", "messages must be an array");
    int n = cJSON_GetArraySize(msgs);
    if (n == 0)
        return refuse(e, "messages", "empty_array", "messages must not be empty");
    if (n > OCTO_OAI_MESSAGES_MAX)
        return refuse(e, "messages", "array_above_max_length", "at most %d messages in one request",
                      OCTO_OAI_MESSAGES_MAX);
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        char param[48];
        snprintf(param, sizeof(param), "messages[%zu]", i);
        const cJSON *role = field(m, "role"),
                    *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsObject(m) || !cJSON_IsString(role))
            return refuse(e, param, "invalid_type", "each message needs a string \"role\"");
        if (!role_ok(role->valuestring))
            return refuse(e, param, "invalid_value", "unknown role '%.32s'", role->valuestring);
        if (field(m, "tool_calls") != NULL)
            return refuse(e, param, "invalid_value", "tool calls are not supported");
        r->messages[i].role = role->valuestring;
        if (content == NULL || cJSON_IsNull(content)) {
            r->messages[i].content = "";
            r->messages[i].content_len = 0;
        } else if (cJSON_IsString(content)) {
            r->messages[i].content = content->valuestring;
            r->messages[i].content_len = strlen(content->valuestring);
        } else if (cJSON_IsArray(content)) {
            int rc = join_parts(r, content, i, e);
            if (rc != 0)
                return rc;
        } else {
            return refuse(e, param, "invalid_type",
                          "content must be a string or an array of text parts");
        }
        i++;
    }
    r->n_messages = i;
    return 0;
}

static int parse_prompt(struct octo_oai_request *r, const cJSON *root, struct octo_oai_error *e)
{
    const cJSON *p = field(root, "prompt");
    if (p == NULL)
        return refuse(e, "prompt", "missing_required_parameter",
                      "you must provide a prompt parameter");
    if (cJSON_IsArray(p)) { /* one string in an array, as clients may send */
        if (cJSON_GetArraySize(p) != 1 || !cJSON_IsString(cJSON_GetArrayItem(p, 0)))
            return refuse(e, "prompt", "invalid_value",
                          "prompt must be a string (or an array of one string)");
        p = cJSON_GetArrayItem(p, 0);
    }
    if (!cJSON_IsString(p))
        return refuse(e, "prompt", "invalid_type", "prompt must be a string");
    r->prompt = p->valuestring;
    r->prompt_len = strlen(p->valuestring);
    if (cJSON_IsTrue(field(root, "echo")))
        return refuse(e, "echo", "invalid_value", "echo is not supported");
    if (field(root, "suffix") != NULL)
        return refuse(e, "suffix", "invalid_value", "suffix is not supported");
    return 0;
}

static int parse_stop(struct octo_oai_request *r, const cJSON *root, struct octo_oai_error *e)
{
    const cJSON *s = field(root, "stop");
    if (s == NULL)
        return 0;
    if (cJSON_IsString(s)) {
        if (s->valuestring[0] == '\0' || strlen(s->valuestring) > OCTO_OAI_STOP_LEN_MAX)
            return refuse(e, "stop", "invalid_value", "a stop string has 1 to %d bytes",
                          OCTO_OAI_STOP_LEN_MAX);
        r->stop[r->n_stop++] = s->valuestring;
        return 0;
    }
    if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) > OCTO_OAI_STOP_MAX)
        return refuse(e, "stop", "invalid_value", "stop must be a string or up to %d strings",
                      OCTO_OAI_STOP_MAX);
    const cJSON *x;
    cJSON_ArrayForEach(x, s)
    {
        if (!cJSON_IsString(x) || x->valuestring[0] == '\0' ||
            strlen(x->valuestring) > OCTO_OAI_STOP_LEN_MAX)
            return refuse(e, "stop", "invalid_value",
                          "each stop entry is a string of at most %d "
                          "bytes",
                          OCTO_OAI_STOP_LEN_MAX);
        r->stop[r->n_stop++] = x->valuestring;
    }
    return 0;
}

static int parse_sampling(struct octo_oai_request *r, const cJSON *root, struct octo_oai_error *e)
{
    double v;
    const cJSON *f = field(root, "max_completion_tokens");
    const char *name = "max_completion_tokens";
    if (f == NULL) {
        f = field(root, "max_tokens");
        name = "max_tokens";
    }
    if (f != NULL) {
        if (!int_in(f, 1, OCTO_OAI_MAX_TOKENS_MAX, &v))
            return refuse(e, name, cJSON_IsNumber(f) ? "invalid_value" : "invalid_type",
                          "%s must be an integer from 1 to %u", name, OCTO_OAI_MAX_TOKENS_MAX);
        r->max_tokens = (uint32_t)v;
    }
    if ((f = field(root, "temperature")) != NULL) {
        if (!cJSON_IsNumber(f) || !(f->valuedouble >= 0 && f->valuedouble <= 2))
            return refuse(e, "temperature", cJSON_IsNumber(f) ? "invalid_value" : "invalid_type",
                          "temperature must be a number from 0 to 2");
        r->has_temperature = true;
        r->temperature = (float)f->valuedouble;
    }
    if ((f = field(root, "top_p")) != NULL) {
        if (!cJSON_IsNumber(f) || !(f->valuedouble >= 0 && f->valuedouble <= 1))
            return refuse(e, "top_p", cJSON_IsNumber(f) ? "invalid_value" : "invalid_type",
                          "top_p must be a number from 0 to 1");
        r->has_top_p = true;
        r->top_p = (float)f->valuedouble;
    }
    if ((f = field(root, "seed")) != NULL) {
        if (!int_in(f, -9007199254740991.0, 9007199254740991.0, &v))
            return refuse(e, "seed", "invalid_value", "seed must be an integer");
        r->has_seed = true;
        r->seed = (uint64_t)(int64_t)v;
    }
    if ((f = field(root, "n")) != NULL && !(int_in(f, 1, 1, &v)))
        return refuse(e, "n", "invalid_value", "only n = 1 is supported");
    if ((f = field(root, "logprobs")) != NULL && !cJSON_IsFalse(f))
        return refuse(e, "logprobs", "invalid_value", "logprobs are not supported");
    if (field(root, "tools") != NULL || field(root, "functions") != NULL)
        return refuse(e, field(root, "tools") ? "tools" : "functions", "invalid_value",
                      "tools are not supported");
    return 0;
}

static int parse_stream(struct octo_oai_request *r, const cJSON *root, struct octo_oai_error *e)
{
    const cJSON *f = field(root, "stream");
    if (f != NULL && !cJSON_IsBool(f))
        return refuse(e, "stream", "invalid_type", "stream must be a boolean");
    r->stream = cJSON_IsTrue(f);
    const cJSON *so = field(root, "stream_options");
    if (so != NULL) {
        if (!r->stream)
            return refuse(e, "stream_options", "invalid_value",
                          "stream_options is only allowed when stream is true");
        if (!cJSON_IsObject(so))
            return refuse(e, "stream_options", "invalid_type", "stream_options must be an object");
        const cJSON *iu = field(so, "include_usage");
        if (iu != NULL && !cJSON_IsBool(iu))
            return refuse(e, "stream_options.include_usage", "invalid_type",
                          "include_usage must be a boolean");
        r->include_usage = cJSON_IsTrue(iu);
    }
    return 0;
}

static int parse_body(struct octo_oai_request *r, struct octo_oai_error *e)
{
    const cJSON *root = r->root;
    const cJSON *model = field(root, "model");
    if (model == NULL)
        return refuse(e, "model", "missing_required_parameter",
                      "you must provide a model parameter");
    if (!cJSON_IsString(model) || model->valuestring[0] == '\0' ||
        strlen(model->valuestring) > OCTO_OAI_MODEL_MAX)
        return refuse(e, "model", "invalid_value", "model must be a name of 1 to %d bytes",
                      OCTO_OAI_MODEL_MAX);
    r->model = model->valuestring;
    int rc = r->kind == OCTO_OAI_CHAT ? parse_messages(r, root, e) : parse_prompt(r, root, e);
    if (rc == 0)
        rc = parse_sampling(r, root, e);
    if (rc == 0)
        rc = parse_stop(r, root, e);
    if (rc == 0)
        rc = parse_stream(r, root, e);
    if (rc != 0)
        return rc;
    const cJSON *user = field(root, "user"), *policy = field(root, "provider");
    if (user != NULL && !cJSON_IsString(user))
        return refuse(e, "user", "invalid_type", "user must be a string");
    r->user = user != NULL ? user->valuestring : NULL;
    if (policy != NULL && !cJSON_IsObject(policy))
        return refuse(e, "provider", "invalid_type", "provider must be an object");
    r->policy = policy;
    return 0;
}

int octo_oai_parse(enum octo_oai_kind kind, const char *body, size_t len,
                   struct octo_oai_request *out, struct octo_oai_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    out->kind = kind;
    const char *end = NULL;
    out->root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    bool trailing = false; /* only whitespace may follow the object */
    for (const char *p = end; out->root != NULL && p != NULL && p < body + len && !trailing; p++)
        trailing = !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\0');
    if (out->root == NULL || !cJSON_IsObject(out->root) || trailing) {
        cJSON_Delete(out->root);
        out->root = NULL;
        return refuse(err, "", "invalid_json",
                      "we could not parse the JSON body of your request: expected an object");
    }
    int rc = parse_body(out, err);
    if (rc != 0)
        octo_oai_request_free(out);
    return rc;
}

void octo_oai_request_free(struct octo_oai_request *r)
{
    for (size_t i = 0; i < r->n_joined; i++)
        octo_free(r->joined[i]);
    cJSON_Delete(r->root);
    memset(r, 0, sizeof(*r));
}

/* ---- answers ------------------------------------------------------------------------------ */

static char *finish_json(cJSON *o)
{
    if (o == NULL)
        return NULL;
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

char *octo_oai_error_json(const struct octo_oai_error *e)
{
    cJSON *o = cJSON_CreateObject(), *x = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(x, "message", e->message);
    cJSON_AddStringToObject(x, "type", e->type != NULL ? e->type : "invalid_request_error");
    if (e->param[0] != '\0')
        cJSON_AddStringToObject(x, "param", e->param);
    else
        cJSON_AddNullToObject(x, "param");
    cJSON_AddStringToObject(x, "code", e->code != NULL ? e->code : "invalid_request");
    return finish_json(o);
}

/* Length of the valid UTF-8 character at p[0..n) (RFC 3629: no overlong forms, no
 * surrogates, at most U+10FFFF), or 0 when the bytes there are not one. */
static size_t utf8_char_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t k = c >= 0xC2 && c <= 0xDF   ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    if (k == 0 || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return k;
}

cJSON *octo_oai_text_item(const char *text, size_t len)
{
    char *s = octo_malloc(3 * len + 1);
    if (s == NULL)
        return NULL;
    const uint8_t *p = (const uint8_t *)text;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t k = p[i] != 0 ? utf8_char_len(p + i, len - i) : 0;
        if (k == 0) {
            memcpy(s + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(s + o, p + i, k);
        o += k;
        i += k;
    }
    s[o] = '\0';
    cJSON *item = cJSON_CreateString(s);
    octo_free(s);
    return item;
}

static cJSON *head(const struct octo_oai_meta *m, const char *object)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)m->created);
    cJSON_AddStringToObject(o, "model", m->model);
    return o;
}

static void add_usage(cJSON *o, const struct octo_oai_usage *u)
{
    cJSON *x = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(x, "prompt_tokens", u->prompt_tokens);
    cJSON_AddNumberToObject(x, "completion_tokens", u->completion_tokens);
    cJSON_AddNumberToObject(x, "total_tokens",
                            (double)u->prompt_tokens + (double)u->completion_tokens);
}

/* The answer object with its one choice (index 0, logprobs null) and the text as an item;
 * NULL (nothing to free) when out of memory. */
static cJSON *with_choice(const struct octo_oai_meta *m, const char *object, const char *text,
                          size_t len, cJSON **choice, cJSON **item)
{
    cJSON *o = head(m, object);
    cJSON *choices = cJSON_AddArrayToObject(o, "choices"), *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    cJSON_AddNullToObject(c, "logprobs");
    *item = octo_oai_text_item(text, len);
    if (*item == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    *choice = c;
    return o;
}

char *octo_oai_answer(const struct octo_oai_meta *m, const char *text, size_t len,
                      const char *finish, const struct octo_oai_usage *u)
{
    bool chat = m->kind == OCTO_OAI_CHAT;
    cJSON *c, *t;
    cJSON *o = with_choice(m, chat ? "chat.completion" : "text_completion", text, len, &c, &t);
    if (o == NULL)
        return NULL;
    if (chat) {
        cJSON *msg = cJSON_AddObjectToObject(c, "message");
        cJSON_AddStringToObject(msg, "role", "assistant");
        cJSON_AddItemToObject(msg, "content", t);
    } else {
        cJSON_AddItemToObject(c, "text", t);
    }
    cJSON_AddStringToObject(c, "finish_reason", finish);
    add_usage(o, u);
    return finish_json(o);
}

char *octo_oai_chunk(const struct octo_oai_meta *m, bool first, const char *text, size_t len,
                     const char *finish)
{
    bool chat = m->kind == OCTO_OAI_CHAT;
    cJSON *c, *t;
    cJSON *o =
        with_choice(m, chat ? "chat.completion.chunk" : "text_completion", text, len, &c, &t);
    if (o == NULL)
        return NULL;
    if (chat) {
        cJSON *d = cJSON_AddObjectToObject(c, "delta");
        if (first)
            cJSON_AddStringToObject(d, "role", "assistant");
        if (len > 0 || finish == NULL)
            cJSON_AddItemToObject(d, "content", t);
        else
            cJSON_Delete(t);
    } else {
        cJSON_AddItemToObject(c, "text", t);
    }
    if (finish != NULL)
        cJSON_AddStringToObject(c, "finish_reason", finish);
    else
        cJSON_AddNullToObject(c, "finish_reason");
    return finish_json(o);
}

char *octo_oai_usage_chunk(const struct octo_oai_meta *m, const struct octo_oai_usage *u)
{
    cJSON *o = head(m, m->kind == OCTO_OAI_CHAT ? "chat.completion.chunk" : "text_completion");
    cJSON_AddArrayToObject(o, "choices");
    add_usage(o, u);
    return finish_json(o);
}

char *octo_oai_models(const char *const *names, size_t n, int64_t created, const char *owner)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    for (size_t i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "id", names[i]);
        cJSON_AddStringToObject(x, "object", "model");
        cJSON_AddNumberToObject(x, "created", (double)created);
        cJSON_AddStringToObject(x, "owned_by", owner);
        cJSON_AddItemToArray(data, x);
    }
    return finish_json(o);
}

int octo_oai_sse(struct octo_buf *b, const char *data)
{
    if (data != NULL && strpbrk(data, "\r\n") != NULL)
        return OCTO_EINVAL;
    int rc = octo_buf_append_str(b, "data: ");
    if (rc == 0)
        rc = octo_buf_append_str(b, data != NULL ? data : "[DONE]");
    if (rc == 0)
        rc = octo_buf_append_str(b, "\n\n");
    return rc;
}
