/*
 * openai.h — the OpenAI-compatible wire format of the gateway, as pure functions: requests of
 * /v1/chat/completions and /v1/completions parsed and checked into a struct the node can act
 * on, and the answers built (a whole completion, stream chunks with the role first and the
 * usage last, the model list, Server-Sent Events framing).
 *
 * Parsing follows what the official clients send and what the API accepts: "messages" of
 * {role, content} with content a string or an array of {"type":"text","text":...} parts (other
 * part types are refused: this gateway serves text models), max_tokens or
 * max_completion_tokens, temperature, top_p, seed, stop (a string or up to 4), n (1 only),
 * stream with stream_options.include_usage, and the routing policy object under "provider"
 * (intel/policy.h parses it). Fields the gateway does not act on are ignored, as the API
 * ignores unknown ones; a field it cannot honour (n > 1, logprobs, echo, tools) is a 400
 * naming the parameter, never a silent difference. Every refusal fills struct octo_oai_error
 * with the HTTP status, the parameter and a message for the OpenAI error shape.
 *
 * Limits (checked before anything is kept): OCTO_OAI_MESSAGES_MAX messages,
 * OCTO_OAI_MODEL_MAX bytes of model name, OCTO_OAI_MAX_TOKENS_MAX tokens, OCTO_OAI_STOP_MAX
 * stop strings of OCTO_OAI_STOP_LEN_MAX bytes; the body itself is bounded by the HTTP layer.
 */
#ifndef OCTO_API_OPENAI_H
#define OCTO_API_OPENAI_H

#include "base/buf.h"
#include "base/err.h"
#include "infer/chat.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_OAI_MESSAGES_MAX 256
#define OCTO_OAI_MODEL_MAX 256
#define OCTO_OAI_MAX_TOKENS_MAX 32768u
#define OCTO_OAI_STOP_MAX 4
#define OCTO_OAI_STOP_LEN_MAX 256
#define OCTO_OAI_ID_MAX 64

enum octo_oai_kind {
    OCTO_OAI_CHAT,       /* /v1/chat/completions */
    OCTO_OAI_COMPLETION, /* /v1/completions */
};

struct octo_oai_request {
    enum octo_oai_kind kind;
    cJSON *root; /* the parsed body: the strings below point into it */
    const char *model;
    struct octo_chat_message messages[OCTO_OAI_MESSAGES_MAX]; /* chat */
    size_t n_messages;
    const char *prompt; /* completion */
    size_t prompt_len;
    uint32_t max_tokens; /* 0: not given (the node's default applies) */
    bool has_temperature, has_top_p, has_seed;
    float temperature, top_p; /* sampling only: nothing validators agree on */
    uint64_t seed;
    bool stream, include_usage;
    const char *stop[OCTO_OAI_STOP_MAX];
    size_t n_stop;
    const char *user;
    const cJSON *policy;                 /* the "provider" routing object, or NULL */
    char *joined[OCTO_OAI_MESSAGES_MAX]; /* contents made of several parts, owned */
    size_t n_joined;
};

struct octo_oai_error {
    unsigned status;  /* 400 */
    const char *type; /* "invalid_request_error" */
    const char *code; /* "invalid_value", "missing_required_parameter", ... */
    char param[64];   /* the offending parameter, "" for the body */
    char message[256];
};

/* Parses body[0..len). Errors: OCTO_EINVAL (err says why; nothing to free), OCTO_ENOMEM. On
 * success free with octo_oai_request_free. */
OCTO_MUST_USE int octo_oai_parse(enum octo_oai_kind kind, const char *body, size_t len,
                                 struct octo_oai_request *out, struct octo_oai_error *err);
void octo_oai_request_free(struct octo_oai_request *r);

/* The error body {"error":{"message","type","param","code"}}, NUL-terminated, cJSON_free it. */
char *octo_oai_error_json(const struct octo_oai_error *e);

/* What an answer needs to say about itself. */
struct octo_oai_meta {
    enum octo_oai_kind kind;
    const char *id;    /* "chatcmpl-..." / "cmpl-..." */
    const char *model; /* as served */
    int64_t created;   /* Unix seconds */
};

struct octo_oai_usage {
    uint32_t prompt_tokens, completion_tokens;
};

/* A whole answer (not streamed). finish: "stop", "length", ... All builders return a
 * NUL-terminated JSON text to cJSON_free, or NULL when out of memory. */
char *octo_oai_answer(const struct octo_oai_meta *m, const char *text, size_t len,
                      const char *finish, const struct octo_oai_usage *u);
/* A JSON string of the text's len bytes. JSON text must be valid Unicode and cJSON strings end
 * at NUL, so every byte that does not start a valid UTF-8 character, and every NUL, becomes
 * U+FFFD (what a decoder shows for them anyway). NULL when out of memory. */
cJSON *octo_oai_text_item(const char *text, size_t len);
/* One stream chunk: the first carries the role (chat), the last the finish reason (text may
 * be empty then); usage chunks have no choices. */
char *octo_oai_chunk(const struct octo_oai_meta *m, bool first, const char *text, size_t len,
                     const char *finish);
char *octo_oai_usage_chunk(const struct octo_oai_meta *m, const struct octo_oai_usage *u);
/* {"object":"list","data":[{"id","object":"model","created","owned_by"}...]} */
char *octo_oai_models(const char *const *names, size_t n, int64_t created, const char *owner);

/* Appends one Server-Sent Event "data: <data>\n\n" (data must hold no newline; JSON from
 * the builders never does), or the closing "data: [DONE]\n\n" when data is NULL. */
OCTO_MUST_USE int octo_oai_sse(struct octo_buf *b, const char *data);

#endif
