/*
 * cmd_model.c — `octo model`: model files for the Local Inference Engine.
 *
 *   octo model gen-test --out FILE.gguf [--shape tiny|tinyqwen|15m|110m|tinyllama|qwen05b]
 *                       [--type f32|f16|q8_0|q4_0] [--seed N]
 *
 * gen-test writes a deterministic random model (infer/gentest.h) with the exact tensor set,
 * shapes and metadata of its family — the devnet's embedded default and the tests' and
 * benchmarks' models, since no trained model can be downloaded here. The file is written to a
 * temp name beside FILE, fsynced and renamed, so FILE is either absent or complete.
 */
#include "base/alloc.h"
#include "cli/cli.h"
#include "infer/gentest.h"
#include "infer/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct octo_flag model_flags[] = {
    {"out", 'o', true, false, "FILE", "gen-test: the GGUF file to write"},
    {"shape", 0, true, false, "SHAPE",
     "gen-test: tiny (default), tinyqwen, 15m, 110m, tinyllama, qwen05b"},
    {"type", 0, true, false, "TYPE", "gen-test: weight type, f32 (default), f16, q8_0, q4_0"},
    {"seed", 0, true, false, "N", "gen-test: generator seed (default 1)"},
    {NULL, 0, false, false, NULL, NULL},
};

#define OUT_CHUNK (1u << 20)

struct file_sink {
    int fd;
    uint8_t *buf; /* OUT_CHUNK bytes: batches the writer's small pieces */
    size_t len;
    int err; /* errno of a failed write */
};

static int sink_flush(struct file_sink *f)
{
    size_t at = 0;
    while (at < f->len) {
        ssize_t n = write(f->fd, f->buf + at, f->len - at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            f->err = n < 0 ? errno : EIO;
            return OCTO_EIO;
        }
        at += (size_t)n;
    }
    f->len = 0;
    return 0;
}

static int sink_write(void *ctx, const void *p, size_t n)
{
    struct file_sink *f = ctx;
    const uint8_t *src = p;
    while (n > 0) {
        size_t take = OUT_CHUNK - f->len < n ? OUT_CHUNK - f->len : n;
        memcpy(f->buf + f->len, src, take);
        f->len += take;
        src += take;
        n -= take;
        if (f->len == OUT_CHUNK && sink_flush(f) != 0)
            return OCTO_EIO;
    }
    return 0;
}

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

/* Writes the model to tmp, then renames it over path (fsync of file and directory). */
static int write_model(struct octo_cli *cli, const char *path, const struct octo_gentest_params *p)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "model gen-test: --out: path too long");
    struct file_sink f = {.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
    if (f.fd < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", tmp, strerror(errno));
    f.buf = octo_malloc(OUT_CHUNK);
    char why[OCTO_GGUF_REASON_MAX] = "out of memory";
    int rc = f.buf == NULL ? OCTO_ENOMEM : octo_gentest_write(p, sink_write, &f, why, sizeof(why));
    if (rc == 0)
        rc = sink_flush(&f);
    if (rc == 0 && fsync(f.fd) != 0) {
        f.err = errno;
        rc = OCTO_EIO;
    }
    octo_free(f.buf);
    close(f.fd);
    if (rc == 0 && rename(tmp, path) != 0) {
        f.err = errno;
        rc = OCTO_EIO;
    }
    if (rc != 0) {
        (void)unlink(tmp);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "model gen-test: %s: %s", path,
                             f.err != 0 ? strerror(f.err) : why);
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int dfd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
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
