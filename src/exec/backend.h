/*
 * backend.h — the Local Inference Engine's one interface over its three backends:
 *
 *   builtin  octo's own engine (exec/inference.h): GGUF llama/qwen2 at F32/F16/Q8_0/Q4_0, with
 *            the deterministic mode whose logits are bit-identical on every machine;
 *   llama    llama.cpp through its C API (exec/backend_llama.h), when the build has it;
 *   http     any OpenAI-compatible server (exec/backend_http.h): vLLM, llama-server, Ollama.
 *
 * A request is a chat (messages) or a raw completion prompt, plus the number of tokens and the
 * sampling parameters; the answer streams as text pieces (whole UTF-8 characters: a character
 * split over several byte tokens is held back until complete) and ends with usage and timing
 * (struct octo_infer_stats) and a finish reason ("stop", "length", "cancelled").
 *
 * Local backends render chats with the model's chat template (infer/chat.h; the family is read
 * from the GGUF's tokenizer.chat_template, or forced), tokenize with special tokens parsed, and
 * stop at the tokenizer's end-of-generation tokens and the template's end-of-turn token.
 * Control-token texts are parsed in the whole rendering, contents included, as llama.cpp's
 * server does: a user who writes "<|im_end|>" ends their own turn, which shapes only their own
 * request (no secret prompt or other user's data shares the context). The http backend sends
 * the messages as they are and lets the server apply its template; a raw prompt goes to it as
 * one user message.
 *
 * One backend is used by one thread at a time; octo_backend_cancel may be called from any. An
 * open backend must not be moved or copied (its parts keep pointers to it).
 */
#ifndef OCTO_EXEC_BACKEND_H
#define OCTO_EXEC_BACKEND_H

#include "base/buf.h"
#include "base/err.h"
#include "exec/backend_http.h"
#include "exec/backend_llama.h"
#include "exec/inference.h"
#include "infer/chat.h"
#include "infer/sample.h"
#include "infer/tokenizer.h"
#include "infer/utf8gate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_BACKEND_REASON_MAX 512u
#define OCTO_BACKEND_PROMPT_MAX 65536u   /* prompt tokens of one request */
#define OCTO_BACKEND_TEXT_MAX (1u << 20) /* bytes of one rendered prompt */
#define OCTO_BACKEND_STOP_MAX 8u         /* stop tokens besides the tokenizer's own */

enum octo_backend_kind {
    OCTO_BACKEND_BUILTIN = 0,
    OCTO_BACKEND_LLAMA,
    OCTO_BACKEND_HTTP,
};

struct octo_backend_config {
    enum octo_backend_kind kind;
    const char *model;   /* builtin/llama: GGUF path; http: the model name (NULL = default) */
    const char *url;     /* http: base URL, e.g. http://127.0.0.1:8080/v1 */
    const char *api_key; /* http: bearer token or NULL */
    uint32_t threads;    /* builtin/llama: 1..OCTO_INFER_THREADS_MAX (0 = 1) */
    uint32_t n_ctx;      /* builtin/llama: positions (0 = min(model, OCTO_INFER_CTX_DEFAULT)) */
    enum octo_quant_mode mode; /* builtin */
    const char *chat_template; /* builtin/llama: a family name (infer/chat.h); NULL = model's */
    uint32_t timeout_ms;       /* http: whole request (0 = its default) */
    bool llama_kv_f32;         /* llama: F32 KV cache, no flash attention (for comparisons) */
};

struct octo_backend_request {
    const struct octo_chat_message *messages; /* a chat ... */
    size_t n_messages;
    const char *prompt; /* ... or a raw completion prompt (used when n_messages == 0) */
    size_t prompt_len;
    uint32_t max_tokens;                /* >= 1 */
    struct octo_sample_params sampling; /* http sends temperature and seed; top-k, top-p and
                                           the repetition penalty are local-only */
};

#define OCTO_BACKEND_FINISH_MAX (OCTO_HTTP_FINISH_MAX + 1u)

struct octo_backend_result {
    struct octo_infer_stats stats;
    char finish_reason[OCTO_BACKEND_FINISH_MAX]; /* "stop", "length" or "cancelled" (http:
                                                    any other server reason reads "stop") */
};

/* Called with each piece of generated text (whole UTF-8 characters, not NUL-terminated);
 * non-zero stops the request. */
typedef octo_utf8_sink octo_backend_text_fn;

struct octo_backend {
    enum octo_backend_kind kind;
    /* builtin */
    struct octo_infer_model model;
    struct octo_infer_session session;
    struct octo_tok tok;
    bool model_open, session_open, tok_open;
    /* llama */
    struct octo_llamacpp llama;
    bool llama_open;
    /* http */
    struct octo_http_backend http;
    bool http_open;
    /* shared */
    enum octo_chat_template tmpl;
    bool tmpl_ok; /* chats can be rendered (known or absent model template, or forced) */
    uint32_t stop[OCTO_BACKEND_STOP_MAX];
    size_t n_stop;
    char reason[OCTO_BACKEND_REASON_MAX];
};

/* The kind called name ("builtin", "llama", "http"). OCTO_ENOTFOUND otherwise. */
OCTO_MUST_USE int octo_backend_kind_parse(const char *name, enum octo_backend_kind *out);
const char *octo_backend_kind_name(enum octo_backend_kind kind);

/* Opens the backend cfg describes: reads the model into memory, checks it and reads its
 * tokenizer (builtin; exec/inference.h), loads it in llama.cpp (llama), or checks the URL (http;
 * no request is made).
 * Errors (b->reason says why): OCTO_EINVAL / OCTO_ENOTFOUND (bad config, unknown template
 * name), OCTO_EUNSUPPORTED (llama without llama.cpp in the build, a tokenizer kind the engine
 * lacks), the file, loader and tokenizer errors. */
OCTO_MUST_USE int octo_backend_open(struct octo_backend *b, const struct octo_backend_config *cfg);
/* Releases everything; tolerates a zeroed or failed-open struct. */
void octo_backend_close(struct octo_backend *b);

/* Runs one request, streaming text to on_text. Returns 0 with *res filled (also when stopped by
 * the callback or a cancel), or: OCTO_EINVAL (no messages and no prompt, a bad message,
 * max_tokens 0, invalid sampling parameters), OCTO_ETOOBIG (the prompt does not fit the
 * context, OCTO_BACKEND_PROMPT_MAX tokens or OCTO_BACKEND_TEXT_MAX bytes), OCTO_EUNSUPPORTED (a
 * chat for a model whose template octo does not render), the backends' own errors (a token
 * whose text cannot be produced is an error, not a silent gap). b->reason describes every
 * failure. */
OCTO_MUST_USE int octo_backend_generate(struct octo_backend *b,
                                        const struct octo_backend_request *req,
                                        octo_backend_text_fn on_text, void *ctx,
                                        struct octo_backend_result *res);

/* The prompt tokens a local backend would feed for req (for tests and tools).
 * Errors: OCTO_EUNSUPPORTED for http; as octo_backend_generate. */
OCTO_MUST_USE int octo_backend_prompt_tokens(struct octo_backend *b,
                                             const struct octo_backend_request *req, uint32_t *ids,
                                             size_t cap, size_t *n);

/* The finish reason of a local generation that ended with st after asking max_tokens:
 * "cancelled", "length" (max_tokens or a full context, short of a stop token) or "stop" (a stop
 * token, or the text callback asked). */
const char *octo_backend_finish_reason(const struct octo_infer_stats *st, uint32_t max_tokens);

/* Asks the running request to stop; any thread. A cancel that arrives while no request runs
 * is dropped: it never stops the next request, which may be another client's. */
void octo_backend_cancel(struct octo_backend *b);

#endif
