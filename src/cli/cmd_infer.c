/*
 * cmd_infer.c — `octo infer`: run a GGUF model with the built-in engine (exec/inference.h).
 *
 *   octo infer --model FILE.gguf --tokens ID,ID,... [--max-tokens N] [--threads N] [--seed S]
 *              [--temperature T] [--top-k K] [--top-p P] [--repeat-penalty R]
 *              [--deterministic] [--ids]
 *
 * Streams the generated tokens to stdout as they come (their text from the model's
 * vocabulary, or with --ids one id per line), then prints usage and speed to stderr:
 * "prompt 3 tokens (1234.5 tok/s), completion 16 tokens (456.7 tok/s), first token 1.2 ms".
 * Text prompts wait for the tokenizers; until then the prompt is given as token ids.
 */
#include "base/alloc.h"
#include "cli/cli.h"
#include "exec/inference.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct octo_flag infer_flags[] = {
    {"model", 'm', true, false, "FILE", "the GGUF model"},
    {"tokens", 0, true, false, "IDS", "the prompt as comma-separated token ids"},
    {"max-tokens", 'n', true, false, "N", "tokens to generate (default 16)"},
    {"threads", 't', true, false, "N", "threads (default 1)"},
    {"seed", 0, true, false, "S", "sampling seed (default 0)"},
    {"temperature", 0, true, false, "T", "0 = greedy (default)"},
    {"top-k", 0, true, false, "K", "keep the K best tokens (0 = all)"},
    {"top-p", 0, true, false, "P", "nucleus mass (1 = off)"},
    {"repeat-penalty", 0, true, false, "R", "penalty on recent tokens (1 = off)"},
    {"deterministic", 0, false, false, NULL,
     "bit-identical logits on any machine and thread count"},
    {"ids", 0, false, false, NULL, "print token ids, one per line"},
    {NULL, 0, false, false, NULL, NULL},
};

#define PROMPT_MAX 4096u

static int parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

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
    const struct octo_infer_model *m;
    bool ids;
    struct octo_buf text;
};

static int on_token(void *ctx, uint32_t token)
{
    struct printer *p = ctx;
    if (p->ids) {
        fprintf(p->cli->out, "%u\n", token);
    } else {
        octo_buf_reset(&p->text);
        if (octo_infer_token_text(p->m, token, &p->text) == 0)
            fwrite(p->text.data, 1, p->text.len, p->cli->out);
    }
    fflush(p->cli->out);
    return 0;
}

/* The sampling flags into sp; 0 or a usage failure already reported. */
static int parse_sampling(struct octo_cli *cli, struct octo_sample_params *sp)
{
    const struct octo_args *a = &cli->args;
    octo_sample_params_default(sp);
    unsigned long long v = 0;
    if (octo_args_has(a, "seed")) {
        if (parse_ulong(octo_args_get(a, "seed"), UINT64_MAX, &v) != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --seed: expected a number");
        sp->seed = v;
    }
    if (octo_args_has(a, "top-k")) {
        if (parse_ulong(octo_args_get(a, "top-k"), 1u << 20, &v) != 0)
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
    /* The KV cache holds what this run needs, not the model's whole context. */
    uint64_t need = (uint64_t)n + max_tokens;
    uint32_t n_ctx = need < m->llama.cfg.n_ctx ? (uint32_t)need : m->llama.cfg.n_ctx;
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
    struct printer p = {.cli = cli, .m = m, .ids = octo_args_has(a, "ids")};
    octo_buf_init(&p.text, 4096);
    struct octo_infer_stats st;
    rc = octo_infer_generate(&s, prompt, n, max_tokens, on_token, &p, &st);
    octo_buf_deinit(&p.text);
    octo_infer_session_deinit(&s);
    if (rc != 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: %s", octo_strerror(rc));
    if (!p.ids)
        fputc('\n', cli->out);
    fprintf(cli->err,
            "prompt %u tokens (%.1f tok/s), completion %u tokens (%.1f tok/s), first token "
            "%.1f ms, %u thread%s, %s%s\n",
            st.prompt_tokens, st.prompt_tps, st.completion_tokens, st.generate_tps,
            (double)st.ttft_ns / 1e6, threads, threads == 1 ? "" : "s",
            mode == OCTO_QUANT_DETERMINISTIC ? "deterministic" : "fast",
            st.stopped_eos ? ", stopped at end of sequence" : "");
    return OCTO_EXIT_OK;
}

static int run_infer(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    const char *path = octo_args_get(a, "model");
    if (path == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --model FILE is required");
    if (a->positional_count > 0 || !octo_args_has(a, "tokens"))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "infer: give the prompt as --tokens ID,ID,... (text prompts need "
                             "the tokenizers, which are not built yet)");
    uint32_t *prompt = octo_calloc(PROMPT_MAX, sizeof(*prompt));
    if (prompt == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: out of memory");
    size_t n = 0;
    unsigned long long max_tokens = 16, threads = 1;
    struct octo_sample_params sp;
    int status = OCTO_EXIT_OK;
    if (parse_tokens(octo_args_get(a, "tokens"), prompt, &n) != 0)
        status = octo_cli_fail(cli, OCTO_EXIT_USAGE,
                               "infer: --tokens: expected 1..%u comma-separated ids", PROMPT_MAX);
    else if (octo_args_has(a, "max-tokens") &&
             parse_ulong(octo_args_get(a, "max-tokens"), 1u << 20, &max_tokens) != 0)
        status = octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --max-tokens: expected 0..1048576");
    else if (octo_args_has(a, "threads") &&
             (parse_ulong(octo_args_get(a, "threads"), OCTO_INFER_THREADS_MAX, &threads) != 0 ||
              threads == 0))
        status = octo_cli_fail(cli, OCTO_EXIT_USAGE, "infer: --threads: expected 1..%d",
                               OCTO_INFER_THREADS_MAX);
    else
        status = parse_sampling(cli, &sp);
    if (status == OCTO_EXIT_OK) {
        struct octo_infer_model m;
        int rc = octo_infer_open(&m, path);
        if (rc != 0)
            status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "infer: %s", m.reason);
        else
            status = run_session(cli, &m, (uint32_t)threads, &sp, prompt, n, (uint32_t)max_tokens);
        octo_infer_close(&m);
    }
    octo_free(prompt);
    return status;
}

const struct octo_cli_cmd octo_cmd_infer = {
    .name = "infer",
    .run = run_infer,
    .flags = infer_flags,
    .needs_config = false,
    .usage = "infer --model FILE.gguf --tokens ID,ID,... [--max-tokens N] [--threads N] "
             "[--seed S] [--temperature T] [--top-k K] [--top-p P] [--deterministic] [--ids]",
    .summary = "run a GGUF model with the built-in engine, streaming the tokens",
};
