/*
 * cmd_model.c — `octo model`: model files for the Local Inference Engine.
 *
 *   octo model gen-test --out FILE.gguf [--shape tiny|tinyqwen|15m|110m|tinyllama|qwen05b]
 *                       [--type f32|f16|q8_0|q4_0] [--seed N]
 *
 * gen-test writes a deterministic random model (infer/gentest.h) with the exact tensor set,
 * shapes and metadata of its family — the devnet's embedded default and the tests' and
 * benchmarks' models, since no trained model can be downloaded here. The file is written
 * through octo_fs_write_atomic_stream (node/fs.h: a temp name beside FILE, fsynced and renamed),
 * so FILE is either absent or complete.
 */
#include "cli/cli.h"
#include "infer/gentest.h"
#include "infer/gguf.h"
#include "node/fs.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct octo_flag model_flags[] = {
    {"out", 'o', true, false, "FILE", "gen-test: the GGUF file to write"},
    {"shape", 0, true, false, "SHAPE",
     "gen-test: tiny (default), tinyqwen, 15m, 110m, tinyllama, qwen05b"},
    {"type", 0, true, false, "TYPE", "gen-test: weight type, f32 (default), f16, q8_0, q4_0"},
    {"seed", 0, true, false, "N", "gen-test: generator seed (default 1)"},
    {NULL, 0, false, false, NULL, NULL},
};

static int parse_type(const char *s, uint32_t *out)
{
    static const struct {
        const char *name;
        uint32_t type;
    } types[] = {{"f32", OCTO_GGML_F32},
                 {"f16", OCTO_GGML_F16},
                 {"q8_0", OCTO_GGML_Q8_0},
                 {"q4_0", OCTO_GGML_Q4_0}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (s == NULL || strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return 0;
        }
    }
    return -1;
}

static int parse_seed(const char *s, uint64_t *out)
{
    if (s == NULL) {
        *out = 1;
        return 0;
    }
    return octo_cli_parse_u64(s, UINT64_MAX, out);
}

struct gen_fill {
    const struct octo_gentest_params *p;
    char why[OCTO_GGUF_REASON_MAX];
};

static int gen_fill(void *ctx, octo_fs_write_fn write, void *wctx)
{
    struct gen_fill *g = ctx;
    return octo_gentest_write(g->p, write, wctx, g->why, sizeof(g->why));
}

/* Writes the model through node/fs's atomic stream (a temp file beside path, fsynced and
 * renamed over it, the directory fsynced), mode 0644 whatever the umask. */
static int write_model(struct octo_cli *cli, const char *path, const struct octo_gentest_params *p)
{
    struct gen_fill g = {.p = p};
    struct octo_fs_error err;
    int rc = octo_fs_write_atomic_stream(path, gen_fill, &g, 0644, false, &err);
    if (rc != 0) {
        if (rc == OCTO_ETOOBIG && err.msg[0] != '\0') /* no room for the temp name */
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "model gen-test: --out: path too long");
        if (err.msg[0] != '\0') /* a file-system error, named by fs */
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "model gen-test: %s", err.msg);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "model gen-test: %s: %s", path,
                             g.why[0] != '\0' ? g.why : octo_strerror(rc));
    }
    return OCTO_EXIT_OK;
}

static int gen_test(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    const char *out = octo_args_get(a, "out");
    if (out == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "model gen-test: --out FILE is required");
    const char *shape_name = octo_args_get(a, "shape");
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find(shape_name != NULL ? shape_name : "tiny")};
    if (p.shape == NULL)
        return octo_cli_fail(
            cli, OCTO_EXIT_USAGE,
            "model gen-test: --shape: expected tiny, tinyqwen, 15m, 110m, tinyllama or "
            "qwen05b, got '%.32s'",
            shape_name);
    if (parse_type(octo_args_get(a, "type"), &p.weight_type) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "model gen-test: --type: expected f32, f16, q8_0 or q4_0, got '%.16s'",
                             octo_args_get(a, "type"));
    if (parse_seed(octo_args_get(a, "seed"), &p.seed) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "model gen-test: --seed: expected a number, got '%.32s'",
                             octo_args_get(a, "seed"));
    int status = write_model(cli, out, &p);
    if (status == OCTO_EXIT_OK) {
        struct stat st;
        long long size = stat(out, &st) == 0 ? (long long)st.st_size : -1;
        fprintf(cli->out, "%s: %s shape, %s, seed %llu, %lld bytes\n", out, p.shape->name,
                octo_ggml_type_name(p.weight_type), (unsigned long long)p.seed, size);
    }
    return status;
}

static int run_model(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    if (a->positional_count != 1 || strcmp(a->positional[0], "gen-test") != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "model: expected gen-test");
    return gen_test(cli);
}

const struct octo_cli_cmd octo_cmd_model = {
    .name = "model",
    .run = run_model,
    .flags = model_flags,
    .needs_config = false,
    .usage = "model gen-test --out FILE.gguf [--shape tiny|tinyqwen|15m|110m|tinyllama|qwen05b] "
             "[--type f32|f16|q8_0|q4_0] [--seed N]",
    .summary = "model files: generate a deterministic random test model",
};
