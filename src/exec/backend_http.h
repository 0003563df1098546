/*
 * backend_http.h — the external inference backend: any OpenAI-compatible server (vLLM,
 * llama.cpp's llama-server, Ollama's /v1) over HTTP with libcurl's easy interface.
 *
 * Endpoints: GET {base}/models (model ids) and POST {base}/chat/completions with
 * "stream":true and "stream_options":{"include_usage":true}. The response is a
 * text/event-stream parsed incrementally (infer/sse.h) straight from curl's write callback;
 * every `delta.content` is handed to a text callback, the final chunk gives finish_reason, the
 * usage chunk (choices: []) gives prompt and completion tokens, and `data: [DONE]` ends the
 * stream. Usage and timing are reported in struct octo_infer_stats, as for the built-in
 * backend (exec/inference.h).
 *
 * Errors are told apart and explained in b->reason: connection refused, timeout (connect,
 * total, or a stall under the low-speed limit), an HTTP status other than 200 (with the
 * server's {"error":{"message"}} text when present — 4xx/5xx meanings differ between engines,
 * llama.cpp answers 500 to bad JSON, so the status is reported, not interpreted), malformed
 * SSE or JSON, a response over response_max bytes, and a stream that ends without [DONE].
 *
 * Memory: the configuration is copied into fixed fields; the API key is wiped on deinit.
 * Requests allocate from the general heap (curl, cJSON, the SSE buffers) and free everything
 * before returning. One backend is used by one thread at a time; octo_http_backend_cancel may
 * be called from any thread.
 */
#ifndef OCTO_EXEC_BACKEND_HTTP_H
#define OCTO_EXEC_BACKEND_HTTP_H

#include "base/err.h"
#include "exec/inference.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_HTTP_URL_MAX 1024u
#define OCTO_HTTP_MODEL_MAX 256u
#define OCTO_HTTP_KEY_MAX 512u
#define OCTO_HTTP_REASON_MAX 512u
#define OCTO_HTTP_FINISH_MAX 32u
#define OCTO_HTTP_MODELS_MAX 1024u /* ids kept from one /models answer */
#define OCTO_HTTP_RESPONSE_MAX_DEFAULT (16u * 1024u * 1024u)
#define OCTO_HTTP_CONNECT_TIMEOUT_MS_DEFAULT 10000u
#define OCTO_HTTP_TIMEOUT_MS_DEFAULT 600000u
#define OCTO_HTTP_STALL_S_DEFAULT 60u /* below 1 byte/s for this long is a timeout */

struct octo_http_config {
    const char *base_url;        /* e.g. "http://127.0.0.1:8080/v1" (http or https) */
    const char *api_key;         /* NULL or "": no Authorization header */
    const char *model;           /* the "model" of requests; NULL or "" = "default" */
    uint32_t connect_timeout_ms; /* 0 = default */
    uint32_t timeout_ms;         /* whole request; 0 = default */
    uint32_t stall_s;            /* low-speed limit window; 0 = default */
    size_t response_max;         /* bytes of response body; 0 = default */
};

struct octo_http_backend {
    char base_url[OCTO_HTTP_URL_MAX + 1]; /* without a trailing '/' */
    char model[OCTO_HTTP_MODEL_MAX + 1];
    char api_key[OCTO_HTTP_KEY_MAX + 1]; /* secret; "" if none */
    uint32_t connect_timeout_ms, timeout_ms, stall_s;
    size_t response_max;
    atomic_bool cancel;
    long status;                       /* HTTP status of the last request, 0 if none */
    char reason[OCTO_HTTP_REASON_MAX]; /* why the last request failed ("" on success) */
};

/* Copies cfg into b. OCTO_EINVAL (no base URL, not http:// or https://), OCTO_ETOOBIG (a
 * string over its limit), OCTO_EIO (libcurl could not be initialised). */
OCTO_MUST_USE int octo_http_backend_init(struct octo_http_backend *b,
                                         const struct octo_http_config *cfg);
/* Wipes the API key. Tolerates a zeroed struct. */
void octo_http_backend_deinit(struct octo_http_backend *b);

/* Asks a running request to stop (any thread); it returns soon with stats.cancelled set. */
void octo_http_backend_cancel(struct octo_http_backend *b);

struct octo_http_model_list {
    char **ids; /* count NUL-terminated strings */
    size_t count;
};

/* GET {base}/models; fills out with the "data"[].id strings (at most OCTO_HTTP_MODELS_MAX).
 * Free with octo_http_model_list_deinit (out is empty on error). Errors: the transport and
 * status errors of octo_http_chat, OCTO_ETOOBIG (body over response_max), OCTO_EMALFORMED
 * (the body is not {"data":[{"id":...}...]}), OCTO_ECLOSED (cancelled). */
OCTO_MUST_USE int octo_http_list_models(struct octo_http_backend *b,
                                        struct octo_http_model_list *out);
void octo_http_model_list_deinit(struct octo_http_model_list *l);

struct octo_http_message {
    const char *role; /* "system", "user", "assistant" */
    const char *content;
};

struct octo_http_chat_params {
    const struct octo_http_message *messages;
    size_t n_messages;   /* >= 1 */
    uint32_t max_tokens; /* 0 = the server's default (not sent) */
    double temperature;  /* < 0 = the server's default (not sent) */
    bool has_seed;
    uint64_t seed;
};

/* Called with each piece of generated text (a delta.content, not NUL-terminated, possibly
 * empty). A non-zero return stops the generation (stats.cancelled is then set). */
typedef int (*octo_http_text_fn)(void *ctx, const char *text, size_t len);

struct octo_http_chat_result {
    struct octo_infer_stats stats; /* tokens from the usage chunk; see usage_present */
    bool usage_present;            /* false: completion_tokens counts content chunks */
    uint32_t content_chunks;       /* delta.content pieces received */
    char finish_reason[OCTO_HTTP_FINISH_MAX + 1]; /* "stop", "length", ... or "" */
};

/* Streams a chat completion, calling on_text for each delta.content. Returns 0 with *res
 * filled (also when stopped by on_text or a cancel: res->stats.cancelled), or
 *   OCTO_EINVAL        no messages, a NULL role or content;
 *   OCTO_ECONNREFUSED  nothing listens at the address;
 *   OCTO_ENOTFOUND     the host name does not resolve;
 *   OCTO_ETIMEDOUT     connect, total or stall timeout;
 *   OCTO_EPROTO        HTTP status other than 200 (b->status; b->reason quotes the server's
 *                      error message), or an error object inside the stream;
 *   OCTO_EMALFORMED    an event that is not valid JSON of the expected shape, or SSE over the
 *                      parser's limits;
 *   OCTO_ETOOBIG       the response exceeded response_max;
 *   OCTO_ECLOSED       the stream ended before `data: [DONE]`;
 *   OCTO_ENOMEM, OCTO_EIO (other transport failures).
 * b->reason describes every failure. */
OCTO_MUST_USE int octo_http_chat(struct octo_http_backend *b,
                                 const struct octo_http_chat_params *params,
                                 octo_http_text_fn on_text, void *ctx,
                                 struct octo_http_chat_result *res);

#endif
