/*
 * cmd_infer.c — `octo infer`: run a model on one of the Local Inference Engine's backends
 * (exec/backend.h) and stream the answer.
 *
 *   octo infer --model FILE.gguf [--backend builtin|llama] [--threads N] [--max-tokens N]
 *              [--seed S] [--temperature T] [--top-k K] [--top-p P] [--repeat-penalty R]
 *              [--deterministic] [--system TEXT] [--chat-template NAME] [--raw] "prompt"
 *   octo infer --backend http --url http://HOST:PORT/v1 [--model NAME] ... "prompt"
 *   octo infer --model FILE.gguf --tokens ID,ID,... [--ids] ...   (built-in, token ids)
 *
 * The prompt is one user message (after an optional system message) rendered with the model's
 * chat template; --raw sends it as a plain completion prompt instead. The http backend's API
 * key comes from $OCTO_API_KEY (never from the command line, where `ps` would show it).
 * Text streams to stdout as it is generated; usage and speed go to stderr at the end:
 * "prompt 12 tokens (1234.5 tok/s), completion 16 tokens (45.6 tok/s), first token 1.2 ms,
 * builtin, 1 thread, fast, finish stop". --tokens runs the built-in engine (exec/inference.h)
 * on the ids themselves, below the backend: only the model's end-of-sequence token stops it, a
 * tokenizer octo cannot read only means ids are printed, and the usage line is the same.
 */
#include "base/alloc.h"
#include "cli/cli.h"
#include "exec/backend.h"
#include "exec/inference.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct octo_flag infer_flags[] = {
    {"model", 'm', true, false, "FILE", "the GGUF model (http: the model name)"},
    {"backend", 'b', true, false, "NAME", "builtin (default), llama or http"},
    {"url", 0, true, false, "URL", "http: the server's base URL, e.g. http://127.0.0.1:8080/v1"},
    {"tokens", 0, true, false, "IDS", "the prompt as comma-separated token ids (builtin)"},
    {"max-tokens", 'n', true, false, "N", "tokens to generate (default 16)"},
    {"threads", 't', true, false, "N", "threads (default 1)"},
    {"seed", 0, true, false, "S", "sampling seed (default 0)"},
    {"temperature", 0, true, false, "T", "0 = greedy (default)"},
    {"top-k", 0, true, false, "K", "keep the K best tokens (0 = all)"},
    {"top-p", 0, true, false, "P", "nucleus mass (1 = off)"},
    {"repeat-penalty", 0, true, false, "R", "penalty on recent tokens (1 = off)"},
    {"deterministic", 0, false, false, NULL,
     "builtin: bit-identical logits on any machine and thread count"},
    {"system", 0, true, false, "TEXT", "a system message before the prompt"},
    {"chat-template", 0, true, false, "NAME",
     "chatml, llama2, llama3, zephyr, phi3 or raw (default: the model's)"},
    {"raw", 0, false, false, NULL, "the prompt as a plain completion, no chat template"},
    {"ids", 0, false, false, NULL, "with --tokens: print token ids, one per line"},
    {NULL, 0, false, false, NULL, NULL},
};

#define PROMPT_MAX 4096u

static int parse_float(const char *s, float lo, float hi, float *out)
{
    if (s == NULL)
        return -1;
    char *end = NULL;
    errno = 0;
    float v = strtof(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_tokens(const char *s, uint32_t *out, size_t *n)
{
    *n = 0;
    while (s != NULL && *s != '\0') {
        char *end = NULL;
        if (*s < '0' || *s > '9') /* no sign, no space */
            return -1;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || v > UINT32_MAX || *n == PROMPT_MAX ||
            (*end != ',' && *end != '\0') || (*end == ',' && end[1] == '\0'))
            return -1;
        out[(*n)++] = (uint32_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return *n > 0 ? 0 : -1;
}

struct printer {
    struct octo_cli *cli;
    const struct octo_tok *tok; /* NULL: the model's tokenizer is not one we read (ids out) */
    bool ids;
    char *piece; /* OCTO_TOK_PIECE_MAX bytes: any token's text */
};

static int on_token(void *ctx, uint32_t token)
{
    struct printer *p = ctx;
    if (p->ids || p->tok == NULL) {
        fprintf(p->cli->out, "%u\n", token);
    } else {
        size_t n = 0;
        if (octo_tok_piece(p->tok, (int32_t)token, false, p->piece, OCTO_TOK_PIECE_MAX, &n) == 0)
            fwrite(p->piece, 1, n, p->cli->out);
    }
    fflush(p->cli->out);
    return 0;
}

static void print_usage_line(struct octo_cli *cli, const struct octo_backend_config *cfg,
                             const struct octo_backend_result *res)
{
    const struct octo_infer_stats *st = &res->stats;
    fprintf(cli->err,
            "prompt %u tokens (%.1f tok/s), completion %u tokens (%.1f tok/s), first token "
            "%.1f ms, %s",
            st->prompt_tokens, st->prompt_tps, st->completion_tokens, st->generate_tps,
            (double)st->ttft_ns / 1e6, octo_backend_kind_name(cfg->kind));
    if (cfg->kind != OCTO_BACKEND_HTTP)
        fprintf(cli->err, ", %u thread%s", cfg->threads, cfg->threads == 1 ? "" : "s");
    if (cfg->kind == OCTO_BACKEND_BUILTIN)
        fprintf(cli->err, ", %s", cfg->mode == OCTO_QUANT_DETERMINISTIC ? "deterministic" : "fast");
    fprintf(cli->err, ", finish %s\n", res->finish_reason);
}

/* The sampling flags into sp; 0 or a usage failure already reported. */
static int parse_sampling(struct octo_cli *cli, struct octo_sample_params *sp)
{
    const struct octo_args *a = &cli->args;
    octo_sample_params_default(sp);
    uint64_t v = 0;
    if (octo_args_has(a, "seed")) {
        if (octo_cli_parse_u64(octo_args_get(a, "seed"), UINT64_MAX, &v) != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --seed: expected a number");
        sp->seed = v;
    }
    if (octo_args_has(a, "top-k")) {
        if (octo_cli_parse_u64(octo_args_get(a, "top-k"), 1u << 20, &v) != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --top-k: expected 0..1048576");
        sp->top_k = (uint32_t)v;
    }
    if (octo_args_has(a, "temperature") &&
        parse_float(octo_args_get(a, "temperature"), 0.0f, 100.0f, &sp->temperature) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --temperature: expected 0..100");
    if (octo_args_has(a, "top-p") &&
        parse_float(octo_args_get(a, "top-p"), 1e-6f, 1.0f, &sp->top_p) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --top-p: expected (0, 1]");
    if (octo_args_has(a, "repeat-penalty") &&
        parse_float(octo_args_get(a, "repeat-penalty"), 1e-3f, 100.0f, &sp->repeat_penalty) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --repeat-penalty: expected 0.001..100");
    return OCTO_EXIT_OK;
}

static int run_session(struct octo_cli *cli, const struct octo_infer_model *m, uint32_t threads,
                       const struct octo_sample_params *sp, const uint32_t *prompt, size_t n,
                       uint32_t max_tokens)
{
    /* The KV cache holds what this run needs, not the model's whole context (n is at most
     * PROMPT_MAX and max_tokens 2^20: the sum fits). */
    uint32_t n_ctx = octo_infer_ctx_for((uint32_t)n + max_tokens, m->llama.cfg.n_ctx);
    if (n > n_ctx)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "infer: the prompt (%zu tokens) is longer than the model's "
                             "context (%u)",
                             n, m->llama.cfg.n_ctx);
    const struct octo_args *a = &cli->args;
    enum octo_quant_mode mode =
        octo_args_has(a, "deterministic") ? OCTO_QUANT_DETERMINISTIC : OCTO_QUANT_FAST;
    struct octo_infer_session s;
    int rc = octo_infer_session_init(&s, m, threads, n_ctx, mode, sp);
    if (rc != 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: cannot start a session: %s",
                             octo_strerror(rc));
    struct octo_tok tok;
    char why[OCTO_TOK_REASON_MAX] = "";
    bool have_tok = octo_tok_init(&tok, &m->gguf, why, sizeof(why)) == 0;
    if (!have_tok && !octo_args_has(a, "ids"))
        fprintf(cli->err, "infer: printing token ids: the model's tokenizer cannot be read (%s)\n",
                why);
    struct printer p = {.cli = cli, .tok = have_tok ? &tok : NULL, .ids = octo_args_has(a, "ids")};
    p.piece = have_tok && !p.ids ? octo_malloc(OCTO_TOK_PIECE_MAX) : NULL;
    struct octo_backend_result res = {0};
    if (have_tok && !p.ids && p.piece == NULL)
        rc = OCTO_ENOMEM;
    else
        rc = octo_infer_generate(&s, prompt, n, max_tokens, on_token, &p, &res.stats);
    octo_free(p.piece);
    if (have_tok)
        octo_tok_deinit(&tok);
    octo_infer_session_deinit(&s);
    if (rc != 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: %s", octo_strerror(rc));
    if (!p.ids)
        fputc('\n', cli->out);
    /* The same line as a text prompt's (the built-in engine, this mode and thread count). */
    const struct octo_backend_config cfg = {
        .kind = OCTO_BACKEND_BUILTIN, .threads = threads, .mode = mode};
    snprintf(res.finish_reason, sizeof(res.finish_reason), "%s",
             octo_backend_finish_reason(&res.stats, max_tokens));
    print_usage_line(cli, &cfg, &res);
    return OCTO_EXIT_OK;
}

/* The common numeric flags: max tokens, threads and sampling. */
static int parse_common(struct octo_cli *cli, uint64_t *max_tokens, uint64_t *threads,
                        struct octo_sample_params *sp)
{
    const struct octo_args *a = &cli->args;
    *max_tokens = 16;
    *threads = 1;
    if (octo_args_has(a, "max-tokens") &&
        (octo_cli_parse_u64(octo_args_get(a, "max-tokens"), 1u << 20, max_tokens) != 0 ||
         *max_tokens == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --max-tokens: expected 1..1048576");
    if (octo_args_has(a, "threads") &&
        (octo_cli_parse_u64(octo_args_get(a, "threads"), OCTO_INFER_THREADS_MAX, threads) != 0 ||
         *threads == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --threads: expected 1..%d",
                             OCTO_INFER_THREADS_MAX);
    return parse_sampling(cli, sp);
}

/* --tokens: the built-in engine on token ids, as before the tokenizers existed. */
static int run_tokens(struct octo_cli *cli, const char *path, uint64_t max_tokens, uint64_t threads,
                      const struct octo_sample_params *sp)
{
    const struct octo_args *a = &cli->args;
    if (a->positional_count > 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: give either --tokens or a prompt");
    uint32_t *prompt = octo_calloc(PROMPT_MAX, sizeof(*prompt));
    if (prompt == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: out of memory");
    size_t n = 0;
    int status = OCTO_EXIT_OK;
    if (parse_tokens(octo_args_get(a, "tokens"), prompt, &n) != 0) {
        status = octo_cli_fail(cli, OCTO_EXIT_USAGE,
                               "infer: --tokens: expected 1..%u comma-separated ids", PROMPT_MAX);
    } else {
        struct octo_infer_model m;
        int rc = octo_infer_open(&m, path);
        if (rc != 0)
            status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: %s", m.reason);
        else
            status = run_session(cli, &m, (uint32_t)threads, sp, prompt, n, (uint32_t)max_tokens);
        octo_infer_close(&m);
    }
    octo_free(prompt);
    return status;
}

static int print_text(void *ctx, const char *text, size_t len)
{
    struct octo_cli *cli = ctx;
    fwrite(text, 1, len, cli->out);
    fflush(cli->out);
    return 0;
}

static int backend_config(struct octo_cli *cli, struct octo_backend_config *cfg, uint64_t threads)
{
    const struct octo_args *a = &cli->args;
    memset(cfg, 0, sizeof(*cfg));
    const char *kind = octo_args_has(a, "backend") ? octo_args_get(a, "backend") : "builtin";
    if (octo_backend_kind_parse(kind, &cfg->kind) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "infer: --backend: expected builtin, llama or http");
    cfg->model = octo_args_get(a, "model");
    cfg->url = octo_args_get(a, "url");
    cfg->api_key = getenv("OCTO_API_KEY");
    cfg->threads = (uint32_t)threads;
    cfg->mode = octo_args_has(a, "deterministic") ? OCTO_QUANT_DETERMINISTIC : OCTO_QUANT_FAST;
    cfg->chat_template = octo_args_get(a, "chat-template");
    enum octo_chat_template t;
    if (cfg->chat_template != NULL && octo_chat_template_parse(cfg->chat_template, &t) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "infer: --chat-template: expected chatml, llama2, llama3, zephyr, "
                             "phi3 or raw");
    if (cfg->kind == OCTO_BACKEND_HTTP && cfg->url == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --backend http needs --url URL");
    if (cfg->kind != OCTO_BACKEND_HTTP && cfg->model == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --model FILE is required");
    if (cfg->kind != OCTO_BACKEND_BUILTIN && octo_args_has(a, "deterministic"))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "infer: --deterministic is a property of the builtin backend");
    if (cfg->kind == OCTO_BACKEND_HTTP && octo_args_has(a, "raw"))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "infer: --raw needs a local backend (http speaks chat only)");
    return OCTO_EXIT_OK;
}

/* A text prompt through exec/backend.h. */
static int run_text(struct octo_cli *cli, uint64_t max_tokens, uint64_t threads,
                    const struct octo_sample_params *sp)
{
    const struct octo_args *a = &cli->args;
    if (a->positional_count != 1)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "infer: give the prompt as one argument (quote it)");
    struct octo_backend_config cfg;
    int status = backend_config(cli, &cfg, threads);
    if (status != OCTO_EXIT_OK)
        return status;
    const char *prompt = a->positional[0];
    const char *system = octo_args_get(a, "system");
    struct octo_chat_message msgs[2];
    size_t n = 0;
    if (system != NULL)
        msgs[n++] = (struct octo_chat_message){"system", system, strlen(system)};
    msgs[n++] = (struct octo_chat_message){"user", prompt, strlen(prompt)};
    struct octo_backend_request req = {
        .messages = octo_args_has(a, "raw") ? NULL : msgs,
        .n_messages = octo_args_has(a, "raw") ? 0 : n,
        .prompt = prompt,
        .prompt_len = strlen(prompt),
        .max_tokens = (uint32_t)max_tokens,
        .sampling = *sp,
    };
    struct octo_backend *b = octo_calloc(1, sizeof(*b));
    if (b == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: out of memory");
    int rc = octo_backend_open(b, &cfg);
    if (rc != 0) {
        status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: %s", b->reason);
    } else {
        struct octo_backend_result res;
        rc = octo_backend_generate(b, &req, print_text, cli, &res);
        if (rc != 0) {
            status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: %s", b->reason);
        } else {
            fputc('\n', cli->out);
            print_usage_line(cli, &cfg, &res);
        }
    }
    octo_backend_close(b);
    octo_free(b);
    return status;
}

static int run_infer(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    uint64_t max_tokens = 16, threads = 1;
    struct octo_sample_params sp;
    int status = parse_common(cli, &max_tokens, &threads, &sp);
    if (status != OCTO_EXIT_OK)
        return status;
    if (octo_args_has(a, "tokens")) {
        const char *path = octo_args_get(a, "model");
        if (path == NULL)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --model FILE is required");
        if (octo_args_has(a, "backend") && strcmp(octo_args_get(a, "backend"), "builtin") != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                                 "infer: --tokens is for the builtin backend");
        return run_tokens(cli, path, max_tokens, threads, &sp);
    }
    if (octo_args_has(a, "ids"))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --ids goes with --tokens");
    return run_text(cli, max_tokens, threads, &sp);
}

const struct octo_cli_cmd octo_cmd_infer = {
    .name = "infer",
    .run = run_infer,
    .flags = infer_flags,
    .needs_config = false,
    .usage = "infer [--backend builtin|llama|http] --model FILE.gguf [--url URL] [--threads N] "
             "[--max-tokens N] [--seed S] [--temperature T] [--top-k K] [--top-p P] "
             "[--repeat-penalty R] [--deterministic] [--system TEXT] [--chat-template NAME] "
             "[--raw] \"prompt\" | "
             "--tokens ID,ID,... [--ids]",
    .summary = "run a model (built-in engine, llama.cpp or an OpenAI-compatible server), "
               "streaming the answer",
};
