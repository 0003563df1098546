/*
 * backend.c — one interface over the built-in, llama.cpp and HTTP backends (see backend.h).
 *
 * The local backends share the text side: render the chat (infer/chat.h), tokenize (the
 * built-in tokenizer, infer/tokenizer.h, or llama.cpp's own), generate token ids, and turn them
 * back into text through a small UTF-8 gate that only lets whole characters out.
 */
#include "exec/backend.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {
    [OCTO_BACKEND_BUILTIN] = "builtin",
    [OCTO_BACKEND_LLAMA] = "llama",
    [OCTO_BACKEND_HTTP] = "http",
};

int octo_backend_kind_parse(const char *name, enum octo_backend_kind *out)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum octo_backend_kind)i;
            return 0;
        }
    }
    return OCTO_ENOTFOUND;
}

const char *octo_backend_kind_name(enum octo_backend_kind kind)
{
    return (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "unknown";
}

static int fail(struct octo_backend *b, int rc, const char *what, const char *detail)
{
    snprintf(b->reason, sizeof(b->reason), "%s%s%s", what, detail != NULL ? ": " : "",
             detail != NULL ? detail : "");
    return rc;
}

/* ---- opening ---- */

/* The chat family: forced by the config, else told from the model's template. A model whose
 * template is none of the known families can still run raw prompts; chats are refused then
 * (render), rather than rendered in markup the model never saw. */
static int pick_template(struct octo_backend *b, const struct octo_backend_config *cfg,
                         const char *model_tmpl, size_t len)
{
    b->tmpl_ok = true;
    if (cfg->chat_template != NULL) {
        if (octo_chat_template_parse(cfg->chat_template, &b->tmpl) != 0)
            return fail(b, OCTO_ENOTFOUND, "unknown chat template", cfg->chat_template);
        return 0;
    }
    bool known = false;
    b->tmpl = octo_chat_detect(model_tmpl, len, &known);
    b->tmpl_ok = known || model_tmpl == NULL || len == 0; /* no template at all: chatml */
    return 0;
}

static bool builtin_is_stop(void *ctx, uint32_t tok)
{
    const struct octo_backend *b = ctx;
    if (octo_tok_is_eog(&b->tok, (int32_t)tok))
        return true;
    for (size_t i = 0; i < b->n_stop; i++) {
        if (b->stop[i] == tok)
            return true;
    }
    return false;
}

/* The template's end-of-turn token joins the stop tokens when the vocabulary has it. */
static void add_end_token(struct octo_backend *b)
{
    const char *end = octo_chat_end_text(b->tmpl);
    uint32_t id = 0;
    if (end == NULL || b->n_stop == OCTO_BACKEND_STOP_MAX)
        return;
    bool found = false;
    if (b->kind == OCTO_BACKEND_BUILTIN) {
        int32_t t = octo_tok_find(&b->tok, end);
        found = t >= 0;
        id = found ? (uint32_t)t : 0;
    } else {
        size_t n = 0;
        found = octo_llamacpp_tokenize(&b->llama, end, strlen(end), false, true, &id, 1, &n) == 0 &&
                n == 1;
    }
    if (found)
        b->stop[b->n_stop++] = id;
}

static int open_builtin(struct octo_backend *b, const struct octo_backend_config *cfg)
{
    int rc = octo_infer_open(&b->model, cfg->model);
    if (rc != 0)
        return fail(b, rc, b->model.reason, NULL);
    b->model_open = true;
    char why[OCTO_BACKEND_REASON_MAX];
    why[0] = '\0';
    rc = octo_tok_init(&b->tok, &b->model.gguf, why, sizeof(why));
    if (rc != 0)
        return fail(b, rc, "the model's tokenizer", why);
    b->tok_open = true;
    if (b->tok.n_vocab != b->model.llama.cfg.n_vocab) {
        snprintf(b->reason, sizeof(b->reason),
                 "the tokenizer has %u tokens but the model's embedding %u rows", b->tok.n_vocab,
                 b->model.llama.cfg.n_vocab);
        return OCTO_EMALFORMED;
    }
    const char *tmpl = NULL;
    size_t tlen = 0;
    if (octo_gguf_get_str(&b->model.gguf, "tokenizer.chat_template", &tmpl, &tlen) != 0) {
        tmpl = NULL;
        tlen = 0;
    }
    rc = pick_template(b, cfg, tmpl, tlen);
    if (rc != 0)
        return rc;
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    rc = octo_infer_session_init(&b->session, &b->model, cfg->threads != 0 ? cfg->threads : 1,
                                 octo_infer_ctx_for(cfg->n_ctx, b->model.llama.cfg.n_ctx),
                                 cfg->mode, &sp);
    if (rc != 0)
        return fail(b, rc, "cannot start a session", octo_strerror(rc));
    b->session_open = true;
    b->session.is_stop = builtin_is_stop;
    b->session.stop_ctx = b;
    add_end_token(b);
    return 0;
}

static int open_llama(struct octo_backend *b, const struct octo_backend_config *cfg)
{
    struct octo_llamacpp_config lc = {
        .model_path = cfg->model,
        .threads = cfg->threads != 0 ? cfg->threads : 1,
        .n_ctx = cfg->n_ctx, /* clipped there as for builtin (octo_infer_ctx_for) */
        .kv_f32 = cfg->llama_kv_f32,
    };
    int rc = octo_llamacpp_open(&b->llama, &lc);
    if (rc != 0)
        return fail(b, rc, b->llama.reason, NULL);
    b->llama_open = true;
    const char *tmpl = octo_llamacpp_chat_template(&b->llama);
    rc = pick_template(b, cfg, tmpl, tmpl != NULL ? strlen(tmpl) : 0);
    if (rc != 0)
        return rc;
    add_end_token(b);
    return 0;
}

static int open_http(struct octo_backend *b, const struct octo_backend_config *cfg)
{
    struct octo_http_config hc = {
        .base_url = cfg->url,
        .api_key = cfg->api_key,
        .model = cfg->model,
        .timeout_ms = cfg->timeout_ms,
    };
    int rc = octo_http_backend_init(&b->http, &hc);
    if (rc != 0)
        return fail(b, rc, "http backend",
                    rc == OCTO_EINVAL ? "an http:// or https:// URL is required"
                                      : octo_strerror(rc));
    b->http_open = true;
    return 0;
}

int octo_backend_open(struct octo_backend *b, const struct octo_backend_config *cfg)
{
    OCTO_ASSERT(b != NULL && cfg != NULL);
    memset(b, 0, sizeof(*b));
    b->kind = cfg->kind;
    int rc;
    if (cfg->kind != OCTO_BACKEND_HTTP && (cfg->model == NULL || cfg->model[0] == '\0'))
        rc = fail(b, OCTO_EINVAL, "a model file is required", NULL);
    else if (cfg->threads > OCTO_INFER_THREADS_MAX)
        rc = fail(b, OCTO_EINVAL, "too many threads", NULL);
    else if (cfg->kind == OCTO_BACKEND_BUILTIN)
        rc = open_builtin(b, cfg);
    else if (cfg->kind == OCTO_BACKEND_LLAMA)
        rc = open_llama(b, cfg);
    else if (cfg->kind == OCTO_BACKEND_HTTP)
        rc = open_http(b, cfg);
    else
        rc = fail(b, OCTO_EINVAL, "unknown backend", NULL);
    if (rc != 0) {
        char keep[OCTO_BACKEND_REASON_MAX];
        memcpy(keep, b->reason, sizeof(keep));
        octo_backend_close(b);
        memcpy(b->reason, keep, sizeof(keep));
    }
    return rc;
}

void octo_backend_close(struct octo_backend *b)
{
    if (b == NULL)
        return;
    if (b->session_open)
        octo_infer_session_deinit(&b->session);
    if (b->tok_open)
        octo_tok_deinit(&b->tok);
    if (b->model_open)
        octo_infer_close(&b->model);
    if (b->llama_open)
        octo_llamacpp_close(&b->llama);
    if (b->http_open)
        octo_http_backend_deinit(&b->http);
    memset(b, 0, sizeof(*b));
}

static void clear_cancel(struct octo_backend *b)
{
    if (b->session_open)
        atomic_store(&b->session.cancel, false);
    if (b->llama_open)
        atomic_store(&b->llama.cancel, false);
    if (b->http_open)
        atomic_store(&b->http.cancel, false);
}

void octo_backend_cancel(struct octo_backend *b)
{
    if (b->kind == OCTO_BACKEND_BUILTIN && b->session_open)
        octo_infer_cancel(&b->session);
    else if (b->kind == OCTO_BACKEND_LLAMA && b->llama_open)
        octo_llamacpp_cancel(&b->llama);
    else if (b->kind == OCTO_BACKEND_HTTP && b->http_open)
        octo_http_backend_cancel(&b->http);
}

/* ---- local generation ---- */

static int render(struct octo_backend *b, const struct octo_backend_request *req,
                  struct octo_buf *text)
{
    if (req->n_messages > 0) {
        if (!b->tmpl_ok)
            return fail(b, OCTO_EUNSUPPORTED,
                        "the model's chat template is not one octo renders (chatml, llama2, "
                        "llama3, zephyr, phi3)",
                        "name one with chat_template, or send a raw prompt");
        int rc = octo_chat_format(b->tmpl, req->messages, req->n_messages, true, text);
        return rc != 0 ? fail(b, rc, "chat messages", octo_strerror(rc)) : 0;
    }
    if (req->prompt == NULL || req->prompt_len == 0)
        return fail(b, OCTO_EINVAL, "no messages and no prompt", NULL);
    int rc = octo_buf_append(text, req->prompt, req->prompt_len);
    return rc != 0 ? fail(b, rc, "prompt", octo_strerror(rc)) : 0;
}

int octo_backend_prompt_tokens(struct octo_backend *b, const struct octo_backend_request *req,
                               uint32_t *ids, size_t cap, size_t *n)
{
    OCTO_ASSERT(b != NULL && req != NULL && n != NULL);
    *n = 0;
    if (b->kind == OCTO_BACKEND_HTTP)
        return fail(b, OCTO_EUNSUPPORTED, "the http backend tokenizes on the server", NULL);
    struct octo_buf text;
    octo_buf_init(&text, OCTO_BACKEND_TEXT_MAX);
    int rc = render(b, req, &text);
    if (rc == OCTO_ETOOBIG || rc == OCTO_ENOSPACE)
        rc = fail(b, OCTO_ETOOBIG, "the prompt is too long", NULL);
    if (rc == 0) {
        /* Template markers are control tokens, so special tokens are parsed, as llama.cpp's
         * server does for a rendered chat. */
        if (b->kind == OCTO_BACKEND_BUILTIN)
            rc = octo_tok_encode(&b->tok, (const char *)text.data, text.len, true, true,
                                 (int32_t *)ids, cap, n);
        else
            rc = octo_llamacpp_tokenize(&b->llama, (const char *)text.data, text.len, true, true,
                                        ids, cap, n);
        if (rc == OCTO_ENOSPACE)
            rc = fail(b, OCTO_ETOOBIG, "the prompt has too many tokens", NULL);
        else if (rc != 0)
            rc = fail(b, rc, "tokenizing the prompt", octo_strerror(rc));
    }
    octo_buf_deinit(&text);
    return rc;
}

struct local_run {
    struct octo_backend *b;
    struct octo_utf8_gate gate;
    struct octo_buf piece; /* builtin: room for OCTO_TOK_PIECE_MAX bytes from the start */
    int err;               /* a token's text failed */
};

static int on_local_token(void *ctx, uint32_t tok)
{
    struct local_run *r = ctx;
    octo_buf_reset(&r->piece);
    int rc;
    if (r->b->kind == OCTO_BACKEND_BUILTIN) {
        size_t n = 0;
        rc = octo_tok_piece(&r->b->tok, (int32_t)tok, false, (char *)r->piece.data, r->piece.cap,
                            &n);
        if (rc == 0)
            r->piece.len = n;
    } else {
        rc = octo_llamacpp_piece(&r->b->llama, tok, &r->piece);
    }
    if (rc != 0) {
        r->err = rc; /* a token whose text cannot be produced ends the request with an error */
        return 1;
    }
    octo_utf8_gate_put(&r->gate, (const char *)r->piece.data, r->piece.len);
    return r->gate.stopped ? 1 : 0;
}

const char *octo_backend_finish_reason(const struct octo_infer_stats *st, uint32_t max_tokens)
{
    if (st->cancelled)
        return "cancelled";
    if (!st->stopped_eos && (st->context_full || st->completion_tokens >= max_tokens))
        return "length";
    return "stop";
}

static int generate_local(struct octo_backend *b, const struct octo_backend_request *req,
                          octo_backend_text_fn on_text, void *ctx, struct octo_backend_result *res)
{
    uint32_t *ids = octo_calloc(OCTO_BACKEND_PROMPT_MAX, sizeof(*ids));
    if (ids == NULL)
        return fail(b, OCTO_ENOMEM, "out of memory", NULL);
    size_t n = 0;
    int rc = octo_backend_prompt_tokens(b, req, ids, OCTO_BACKEND_PROMPT_MAX, &n);
    uint32_t n_ctx = b->kind == OCTO_BACKEND_BUILTIN ? b->session.state.n_ctx : b->llama.n_ctx;
    if (rc == 0 && n >= n_ctx)
        rc = fail(b, OCTO_ETOOBIG, "the prompt does not fit the context", NULL);
    if (rc == 0) {
        struct local_run r = {.b = b};
        octo_utf8_gate_init(&r.gate, on_text, ctx);
        octo_buf_init(&r.piece, 1u << 16);
        if (b->kind == OCTO_BACKEND_BUILTIN) {
            /* every piece fits: octo_tok_piece is called once per token */
            rc = octo_buf_reserve(&r.piece, OCTO_TOK_PIECE_MAX);
            if (rc == 0)
                rc = octo_sampler_set_params(&b->session.sampler, &req->sampling);
            if (rc == 0)
                rc = octo_infer_generate(&b->session, ids, n, req->max_tokens, on_local_token, &r,
                                         &res->stats);
        } else {
            rc = octo_llamacpp_generate(&b->llama, ids, n, req->max_tokens, &req->sampling, b->stop,
                                        b->n_stop, on_local_token, &r, &res->stats);
        }
        octo_utf8_gate_flush(&r.gate);
        octo_buf_deinit(&r.piece);
        if (rc == 0 && r.err != 0)
            rc = r.err;
        if (rc != 0)
            rc = fail(b, rc, "generation failed",
                      b->kind == OCTO_BACKEND_LLAMA ? b->llama.reason : octo_strerror(rc));
    }
    octo_free(ids);
    return rc;
}

/* ---- http ---- */

static int on_http_text(void *ctx, const char *text, size_t len)
{
    struct octo_utf8_gate *g = ctx;
    octo_utf8_gate_put(g, text, len);
    return g->stopped ? 1 : 0;
}

static int generate_http(struct octo_backend *b, const struct octo_backend_request *req,
                         octo_backend_text_fn on_text, void *ctx, struct octo_backend_result *res)
{
    size_t n = req->n_messages > 0 ? req->n_messages : 1;
    if (n > OCTO_CHAT_MESSAGES_MAX)
        return fail(b, OCTO_ETOOBIG, "too many messages", NULL);
    size_t total = req->n_messages > 0 ? 0 : req->prompt_len;
    for (size_t i = 0; i < req->n_messages; i++) {
        if (req->messages[i].content_len > OCTO_BACKEND_TEXT_MAX - total)
            return fail(b, OCTO_ETOOBIG, "the messages are too long", NULL);
        total += req->messages[i].content_len;
    }
    if (total > OCTO_BACKEND_TEXT_MAX)
        return fail(b, OCTO_ETOOBIG, "the prompt is too long", NULL);
    if (req->n_messages == 0 && (req->prompt == NULL || req->prompt_len == 0))
        return fail(b, OCTO_EINVAL, "no messages and no prompt", NULL);
    struct octo_http_message *msgs = octo_calloc(n, sizeof(*msgs));
    int rc = msgs == NULL ? OCTO_ENOMEM : 0;
    /* The HTTP API takes NUL-terminated strings; contents are copied when they are not. */
    char **copies = rc == 0 ? octo_calloc(n, sizeof(char *)) : NULL;
    if (rc == 0 && copies == NULL)
        rc = OCTO_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *src = req->n_messages > 0 ? req->messages[i].content : req->prompt;
        size_t len = req->n_messages > 0 ? req->messages[i].content_len : req->prompt_len;
        if (src == NULL) {
            rc = OCTO_EINVAL;
            break;
        }
        copies[i] = octo_malloc(len + 1);
        if (copies[i] == NULL) {
            rc = OCTO_ENOMEM;
            break;
        }
        memcpy(copies[i], src, len);
        copies[i][len] = '\0';
        msgs[i].role = req->n_messages > 0 ? req->messages[i].role : "user";
        msgs[i].content = copies[i];
    }
    if (rc == 0) {
        struct octo_http_chat_params p = {
            .messages = msgs,
            .n_messages = n,
            .max_tokens = req->max_tokens,
            .temperature = (double)req->sampling.temperature,
            .has_seed = true,
            .seed = req->sampling.seed,
        };
        struct octo_utf8_gate gate;
        octo_utf8_gate_init(&gate, on_text, ctx);
        struct octo_http_chat_result hr;
        rc = octo_http_chat(&b->http, &p, on_http_text, &gate, &hr);
        bool asked = gate.stopped; /* the caller's callback stopped the stream */
        octo_utf8_gate_flush(&gate);
        if (rc == 0) {
            res->stats = hr.stats;
            const char *why = "stop";
            if (asked) /* not a cancel: the local backends report it so too */
                res->stats.cancelled = false;
            else if (hr.stats.cancelled)
                why = "cancelled";
            else if (strcmp(hr.finish_reason, "length") == 0)
                why = "length";
            snprintf(res->finish_reason, sizeof(res->finish_reason), "%s", why);
        } else {
            rc = fail(b, rc, b->http.reason, NULL);
        }
    } else {
        rc = fail(b, rc, rc == OCTO_EINVAL ? "a message without content" : "out of memory", NULL);
    }
    for (size_t i = 0; copies != NULL && i < n; i++)
        octo_free(copies[i]);
    octo_free(copies);
    octo_free(msgs);
    return rc;
}

int octo_backend_generate(struct octo_backend *b, const struct octo_backend_request *req,
                          octo_backend_text_fn on_text, void *ctx, struct octo_backend_result *res)
{
    OCTO_ASSERT(b != NULL && req != NULL && res != NULL);
    memset(res, 0, sizeof(*res));
    b->reason[0] = '\0';
    if (req->max_tokens == 0)
        return fail(b, OCTO_EINVAL, "max_tokens must be at least 1", NULL);
    if (!octo_sample_params_valid(&req->sampling))
        return fail(b, OCTO_EINVAL, "invalid sampling parameters", NULL);
    clear_cancel(b); /* a cancel meant for an earlier request is not this one's */
    int rc = b->kind == OCTO_BACKEND_HTTP ? generate_http(b, req, on_text, ctx, res)
                                          : generate_local(b, req, on_text, ctx, res);
    if (rc == 0 && b->kind != OCTO_BACKEND_HTTP)
        snprintf(res->finish_reason, sizeof(res->finish_reason), "%s",
                 octo_backend_finish_reason(&res->stats, req->max_tokens));
    clear_cancel(b);
    return rc;
}
