/*
 * taskrun.c — an inference task in the process sandbox (exec/taskrun.h) against the built-in
 * backend called in this process (exec/backend.h) on the same generated model.
 *
 *   exec_taskrun OCTO_RUNNER_PATH
 *
 *  - a chat and a completion request at temperature 0 (threads 1 fast; threads 2
 *    deterministic), and a sampled one (temperature, top_p, seed, max_tokens absent = 16):
 *    the pieces put together are byte for byte the text the backend streams here, with the
 *    same prompt and completion token counts and finish reason, and the model digest is the
 *    SHA-256 of the file;
 *  - a stop string: the text ends just before its first occurrence, finish "stop";
 *  - cancel: on_piece returning non-zero, and spec.cancel set, both end a long generation
 *    early with finish "cancelled";
 *  - failures: a malformed request (the runner's "invalid_request"), a missing model file
 *    (no sandbox), a file that is not a model (the runner's "model_unavailable"), a 1 ms wall
 *    deadline ("timeout");
 *  - the protocol, with scripted stand-ins for the runner: escapes decoded exactly (\u0000,
 *    a surrogate pair), a garbage line, no final line, an oversize line, a non-zero exit
 *    without an error line (its stderr in the message); bad specs.
 * Needs root (the sandbox), as the sandbox suite does.
 */
#include "exec/taskrun.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "crypto/hash.h"
#include "exec/backend.h"
#include "infer/gentest.h"
#include "test.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *g_runner;
static char g_model[600];
static uint8_t g_model_sha[OCTO_SHA256_LEN];
static const char *g_dir;

/* ---- helpers ---- */

static int file_sink(void *ctx, const void *p, size_t n)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : OCTO_EIO;
}

static int write_model(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return OCTO_EIO;
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find("tiny"), .weight_type = OCTO_GGML_F32, .seed = 11};
    int rc = octo_gentest_write(&p, file_sink, f, NULL, 0);
    if (fclose(f) != 0 && rc == 0)
        rc = OCTO_EIO;
    return rc;
}

struct collect {
    struct octo_buf text;
    size_t pieces;
    size_t stop_after; /* return non-zero at this piece (0: never) */
    atomic_bool *flag; /* ... or set this flag instead */
};

static void collect_init(struct collect *c)
{
    memset(c, 0, sizeof(*c));
    octo_buf_init(&c->text, 1u << 20);
}

static int collect_fn(void *ctx, const char *text, size_t len)
{
    struct collect *c = ctx;
    c->pieces++;
    OCTO_IGNORE(octo_buf_append(&c->text, text, len));
    if (c->stop_after != 0 && c->pieces == c->stop_after) {
        if (c->flag == NULL)
            return 1;
        atomic_store(c->flag, true);
    }
    return 0;
}

static struct octo_taskrun_spec task(enum octo_taskrun_kind kind, const char *json,
                                     struct collect *c)
{
    struct octo_taskrun_spec s = {
        .runner_exe = g_runner,
        .model_path = g_model,
        .kind = kind,
        .request = (const uint8_t *)json,
        .request_len = strlen(json),
        .threads = 1,
        .on_piece = collect_fn,
        .ctx = c,
    };
    return s;
}

/* The backend in this process: the text it streams and its result. */
static int direct(const struct octo_backend_request *req, uint32_t threads, bool det,
                  struct octo_buf *text, struct octo_backend_result *res)
{
    struct octo_backend *b = octo_calloc(1, sizeof(*b));
    OCTO_ASSERT(b != NULL);
    struct octo_backend_config cfg = {.kind = OCTO_BACKEND_BUILTIN,
                                      .model = g_model,
                                      .threads = threads,
                                      .mode = det ? OCTO_QUANT_DETERMINISTIC : OCTO_QUANT_FAST};
    struct collect c;
    collect_init(&c);
    int rc = octo_backend_open(b, &cfg);
    if (rc == 0)
        rc = octo_backend_generate(b, req, collect_fn, &c, res);
    if (rc != 0)
        fprintf(stderr, "direct: %s\n", b->reason);
    octo_backend_close(b);
    octo_free(b);
    if (rc == 0)
        rc = octo_buf_append(text, c.text.data, c.text.len);
    octo_buf_deinit(&c.text);
    return rc;
}

static void print_result(const char *what, const struct octo_taskrun_result *r)
{
    printf("  %s: ok=%d finish=%s error=%s (%s) tokens %u+%u, %" PRIu64 " pieces, wall %.1f ms, "
           "ttft %.2f ms, peak mem %.1f MiB\n",
           what, r->ok, r->finish, r->error, r->message, r->prompt_tokens, r->completion_tokens,
           r->pieces, (double)r->sandbox.wall_ns / 1e6, (double)r->ttft_ns / 1e6,
           (double)r->sandbox.mem_peak_bytes / (1 << 20));
}

/* Runs json through the sandbox and req here; both must agree exactly. */
static void compare(enum octo_taskrun_kind kind, const char *json,
                    const struct octo_backend_request *req, uint32_t threads, bool det,
                    const char *what)
{
    struct collect c;
    collect_init(&c);
    struct octo_taskrun_spec s = task(kind, json, &c);
    s.threads = threads;
    s.deterministic = det;
    struct octo_taskrun_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int run_rc = octo_taskrun_run(&s, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_result(what, &r);
    printf("    the whole call (sandbox set-up, runner, teardown): %.1f ms\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    CHECK_OK(run_rc);
    struct octo_buf want;
    octo_buf_init(&want, 1u << 20);
    struct octo_backend_result dr;
    int rc = direct(req, threads, det, &want, &dr);
    bool same = rc == 0 && c.text.len == want.len &&
                (want.len == 0 || memcmp(c.text.data, want.data, want.len) == 0);
    size_t got_len = c.text.len, want_len = want.len;
    octo_buf_deinit(&want);
    octo_buf_deinit(&c.text);
    CHECK_OK(rc);
    CHECK(r.ok);
    CHECK_EQ_INT(r.sandbox.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.sandbox.exit_code, 0);
    CHECK_EQ_U64(got_len, want_len);
    CHECK(same);
    CHECK(want_len > 0);
    CHECK_EQ_U64(r.text_bytes, want_len);
    CHECK_EQ_U64(r.prompt_tokens, dr.stats.prompt_tokens);
    CHECK_EQ_U64(r.completion_tokens, dr.stats.completion_tokens);
    CHECK_STR(r.finish, dr.finish_reason);
    CHECK_MEM(r.model_sha256, g_model_sha, OCTO_SHA256_LEN);
    CHECK(r.ttft_ns > 0);
}

/* ---- equal to the backend in process ---- */

static void test_chat_matches_direct(void)
{
    const char *json = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"system\",\"content\":"
                       "\"be brief\"},{\"role\":\"user\",\"content\":\"hello there \\u00e9\"}],"
                       "\"max_tokens\":40,\"temperature\":0}";
    const struct octo_chat_message msgs[] = {{"system", "be brief", 8},
                                             {"user", "hello there \xc3\xa9", 14}};
    struct octo_backend_request req = {.messages = msgs, .n_messages = 2, .max_tokens = 40};
    octo_sample_params_default(&req.sampling);
    compare(OCTO_TASKRUN_CHAT, json, &req, 1, false, "chat, temperature 0");
}

static void test_completion_matches_direct(void)
{
    const char *json = "{\"model\":\"tiny\",\"prompt\":\"The quick brown fox\","
                       "\"max_tokens\":64,\"temperature\":0,\"stream\":true}";
    struct octo_backend_request req = {
        .prompt = "The quick brown fox", .prompt_len = 19, .max_tokens = 64};
    octo_sample_params_default(&req.sampling);
    compare(OCTO_TASKRUN_COMPLETION, json, &req, 2, true,
            "completion, temperature 0, 2 threads, deterministic");
}

static void test_sampled_matches_direct(void)
{
    const char *json = "{\"model\":\"tiny\",\"prompt\":[\"once upon a time\"],"
                       "\"temperature\":0.9,\"top_p\":0.95,\"seed\":7}";
    struct octo_backend_request req = {
        .prompt = "once upon a time", .prompt_len = 16, .max_tokens = 16};
    octo_sample_params_default(&req.sampling);
    req.sampling.temperature = 0.9f;
    req.sampling.top_p = 0.95f;
    req.sampling.seed = 7;
    compare(OCTO_TASKRUN_COMPLETION, json, &req, 1, false, "completion, sampled, default length");
}

/* ---- stop strings and cancel ---- */

static void test_stop_string(void)
{
    struct octo_backend_request req = {
        .prompt = "The quick brown fox", .prompt_len = 19, .max_tokens = 64};
    octo_sample_params_default(&req.sampling);
    struct octo_buf want;
    octo_buf_init(&want, 1u << 20);
    struct octo_backend_result dr;
    CHECK_OK(direct(&req, 1, false, &want, &dr));
    /* a stop string from the middle of the text: " tN" at the first token text past byte 12 */
    char stop[8] = {0};
    const char *t = (const char *)want.data;
    for (size_t i = 12; i + 4 <= want.len && stop[0] == '\0'; i++) {
        if (t[i] == ' ' && t[i + 1] == 't')
            memcpy(stop, t + i, 4);
    }
    const char *at = stop[0] != '\0' ? memmem(t, want.len, stop, strlen(stop)) : NULL;
    size_t cut = at != NULL ? (size_t)(at - t) : 0;
    char json[256];
    snprintf(json, sizeof(json),
             "{\"model\":\"tiny\",\"prompt\":\"The quick brown fox\",\"max_tokens\":64,"
             "\"temperature\":0,\"stop\":[\"zzzz\",\"%s\"]}",
             stop);
    struct collect c;
    collect_init(&c);
    struct octo_taskrun_spec s = task(OCTO_TASKRUN_COMPLETION, json, &c);
    struct octo_taskrun_result r;
    int rc = octo_taskrun_run(&s, &r);
    print_result("stop string", &r);
    bool same = c.text.len == cut && memcmp(c.text.data, want.data, cut) == 0;
    octo_buf_deinit(&want);
    octo_buf_deinit(&c.text);
    CHECK(at != NULL);
    CHECK_OK(rc);
    CHECK(r.ok);
    CHECK(same);
    CHECK_STR(r.finish, "stop");
    CHECK(r.completion_tokens < 64);
}

static void cancel_case(bool by_flag)
{
    const char *json = "{\"model\":\"tiny\",\"prompt\":\"The quick brown fox\","
                       "\"max_tokens\":200,\"temperature\":0}";
    struct octo_backend_request req = {
        .prompt = "The quick brown fox", .prompt_len = 19, .max_tokens = 200};
    octo_sample_params_default(&req.sampling);
    struct octo_buf want;
    octo_buf_init(&want, 1u << 20);
    struct octo_backend_result dr;
    int rc = direct(&req, 1, false, &want, &dr);
    octo_buf_deinit(&want);
    CHECK_OK(rc);
    CHECK(dr.stats.completion_tokens > 150); /* long enough for a cancel to land */

    atomic_bool flag = false;
    struct collect c;
    collect_init(&c);
    c.stop_after = 1;
    c.flag = by_flag ? &flag : NULL;
    struct octo_taskrun_spec s = task(OCTO_TASKRUN_COMPLETION, json, &c);
    s.cancel = &flag;
    struct octo_taskrun_result r;
    rc = octo_taskrun_run(&s, &r);
    print_result(by_flag ? "cancel by flag" : "cancel by on_piece", &r);
    octo_buf_deinit(&c.text);
    CHECK_OK(rc);
    CHECK(r.ok);
    CHECK_STR(r.finish, "cancelled");
    CHECK(r.completion_tokens >= 1);
    CHECK(r.completion_tokens < dr.stats.completion_tokens);
}

static void test_cancel_on_piece(void)
{
    cancel_case(false);
}

static void test_cancel_flag(void)
{
    cancel_case(true);
}

/* ---- failures ---- */

static void test_malformed_request(void)
{
    struct collect c;
    collect_init(&c);
    struct octo_taskrun_spec s =
        task(OCTO_TASKRUN_CHAT, "{\"model\":\"tiny\",\"messages\":\"nope\"}", &c);
    struct octo_taskrun_result r;
    CHECK_OK(octo_taskrun_run(&s, &r));
    print_result("malformed request", &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "invalid_request");
    CHECK(strstr(r.message, "messages") != NULL);
    CHECK_EQ_INT(r.sandbox.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.sandbox.exit_code, 1);
    CHECK_EQ_U64(c.pieces, 0);

    /* a completion body sent as a chat: no messages */
    collect_init(&c);
    s = task(OCTO_TASKRUN_CHAT, "{\"model\":\"tiny\",\"prompt\":\"x\"}", &c);
    CHECK_OK(octo_taskrun_run(&s, &r));
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "invalid_request");
}

static void test_missing_model(void)
{
    struct collect c;
    collect_init(&c);
    struct octo_taskrun_spec s =
        task(OCTO_TASKRUN_COMPLETION, "{\"model\":\"tiny\",\"prompt\":\"x\"}", &c);
    s.model_path = "/nonexistent/octo-taskrun/model.gguf";
    struct octo_taskrun_result r;
    CHECK_OK(octo_taskrun_run(&s, &r));
    print_result("missing model", &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "model_unavailable");
    CHECK_EQ_INT(r.sandbox.outcome, OCTO_SANDBOX_SETUP_ERROR);
}

static void test_not_a_model(void)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/not-a-model.gguf", g_dir);
    octo_test_write_file(g_dir, "not-a-model.gguf", "GGUF but not really", 19);
    CHECK(chmod(path, 0644) == 0);
    struct collect c;
    collect_init(&c);
    struct octo_taskrun_spec s =
        task(OCTO_TASKRUN_COMPLETION, "{\"model\":\"tiny\",\"prompt\":\"x\"}", &c);
    s.model_path = path;
    struct octo_taskrun_result r;
    CHECK_OK(octo_taskrun_run(&s, &r));
    print_result("not a model", &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "model_unavailable");
    CHECK_EQ_INT(r.sandbox.exit_code, 1);
}

static void test_timeout(void)
{
    struct collect c;
    collect_init(&c);
    struct octo_taskrun_spec s = task(
        OCTO_TASKRUN_COMPLETION, "{\"model\":\"tiny\",\"prompt\":\"x\",\"max_tokens\":200}", &c);
    s.limits.wall_ms = 1;
    struct octo_taskrun_result r;
    CHECK_OK(octo_taskrun_run(&s, &r));
    print_result("1 ms deadline", &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "timeout");
    CHECK_EQ_INT(r.sandbox.outcome, OCTO_SANDBOX_TIMEOUT);
}

static void test_bad_specs(void)
{
    struct collect c;
    collect_init(&c);
    struct octo_taskrun_result r;
    struct octo_taskrun_spec s = task(OCTO_TASKRUN_COMPLETION, "{}", &c);
    s.runner_exe = "octo-runner";
    CHECK_ERR(octo_taskrun_run(&s, &r), OCTO_EINVAL);
    s = task(OCTO_TASKRUN_COMPLETION, "{}", &c);
    s.model_path = NULL;
    CHECK_ERR(octo_taskrun_run(&s, &r), OCTO_EINVAL);
    s = task(OCTO_TASKRUN_COMPLETION, "", &c);
    CHECK_ERR(octo_taskrun_run(&s, &r), OCTO_EINVAL);
    s = task((enum octo_taskrun_kind)7, "{}", &c);
    CHECK_ERR(octo_taskrun_run(&s, &r), OCTO_EINVAL);
    s = task(OCTO_TASKRUN_COMPLETION, "{}", &c);
    s.threads = 100000;
    CHECK_ERR(octo_taskrun_run(&s, &r), OCTO_EINVAL);
    s = task(OCTO_TASKRUN_COMPLETION, "{}", &c);
    s.request_len = OCTO_TASKRUN_REQUEST_MAX + 1;
    CHECK_ERR(octo_taskrun_run(&s, &r), OCTO_ETOOBIG);
    s = task(OCTO_TASKRUN_COMPLETION, "{}", &c);
    s.limits.wall_ms = OCTO_SANDBOX_WALL_MS_MAX + 1; /* refused by the sandbox */
    CHECK_ERR(octo_taskrun_run(&s, &r), OCTO_EINVAL);
    octo_buf_deinit(&c.text);
}

/* ---- the protocol, with scripted runners ---- */

/* Runs the shell script body as the runner. */
static void scripted(const char *name, const char *body, struct collect *c,
                     struct octo_taskrun_result *r)
{
    char path[700], text[4096];
    snprintf(path, sizeof(path), "%s/%s", g_dir, name);
    int n = snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
    OCTO_ASSERT(n > 0 && (size_t)n < sizeof(text));
    octo_test_write_file(g_dir, name, text, (size_t)n);
    OCTO_ASSERT(chmod(path, 0755) == 0);
    collect_init(c);
    struct octo_taskrun_spec s =
        task(OCTO_TASKRUN_COMPLETION, "{\"model\":\"tiny\",\"prompt\":\"x\"}", c);
    s.runner_exe = path;
    memset(r, 0, sizeof(*r));
    int rc = octo_taskrun_run(&s, r);
    OCTO_ASSERT(rc == 0);
    print_result(name, r);
}

#define FINAL                                                                                      \
    "{\"done\":true,\"finish\":\"length\",\"prompt_tokens\":3,\"completion_tokens\":2,"            \
    "\"ttft_ns\":5,\"generate_ns\":6,\"model_sha256\":"                                            \
    "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}"

static void test_protocol_escapes(void)
{
    struct collect c;
    struct octo_taskrun_result r;
    scripted("escapes.sh",
             "printf '%s\\n' '{\"t\":\"a\\u0000b\\n\\ud83d\\ude00\\\"\\\\/\"}'\n"
             "printf '%s\\n' '{ \"t\" : \"x\\ty\" }'\n"
             "printf '%s\\n' '" FINAL "'",
             &c, &r);
    static const char want[] = "a\0b\n\xf0\x9f\x98\x80\"\\/x\ty";
    bool same = c.text.len == sizeof(want) - 1 && memcmp(c.text.data, want, c.text.len) == 0;
    octo_buf_deinit(&c.text);
    CHECK(r.ok);
    CHECK(same);
    CHECK_EQ_U64(r.pieces, 2);
    CHECK_STR(r.finish, "length");
    CHECK_EQ_U64(r.prompt_tokens, 3);
    CHECK_EQ_U64(r.completion_tokens, 2);
    CHECK_EQ_U64(r.ttft_ns, 5);
    CHECK_EQ_U64(r.generate_ns, 6);
    CHECK_EQ_INT(r.model_sha256[1], 0x11);
}

static void test_protocol_errors(void)
{
    struct collect c;
    struct octo_taskrun_result r;

    scripted("garbage.sh", "printf '%s\\n' '{\"t\":\"x\"}' 'not json' '" FINAL "'", &c, &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "protocol");

    scripted("nofinal.sh", "printf '%s\\n' '{\"t\":\"x\"}'", &c, &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "protocol");
    CHECK(strstr(r.message, "final line") != NULL);

    scripted("twice.sh", "printf '%s\\n' '" FINAL "' '" FINAL "'", &c, &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "protocol");

    scripted("badfinal.sh", "printf '%s\\n' '{\"done\":true,\"finish\":\"maybe\"}'", &c, &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "protocol");

    scripted("long.sh", "head -c 70000 /dev/zero | tr '\\000' a; echo", &c, &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "protocol");
    CHECK(strstr(r.message, "longer") != NULL);

    scripted("exit3.sh", "echo 'runner trouble' >&2; exit 3", &c, &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "runner");
    CHECK(strstr(r.message, "status 3") != NULL);
    CHECK(strstr(r.message, "runner trouble") != NULL);

    scripted("final-exit1.sh", "printf '%s\\n' '" FINAL "'; exit 1", &c, &r);
    octo_buf_deinit(&c.text);
    CHECK(!r.ok);
    CHECK_STR(r.error, "runner");
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: exec_taskrun /ABSOLUTE/PATH/octo-runner\n");
        return 2;
    }
    g_runner = argv[1];
    cJSON_Hooks hooks = {.malloc_fn = octo_malloc, .free_fn = octo_free};
    cJSON_InitHooks(&hooks);
    g_dir = octo_test_tmpdir("taskrun");
    snprintf(g_model, sizeof(g_model), "%s/tiny.gguf", g_dir);
    if (write_model(g_model) != 0 || chmod(g_model, 0644) != 0) {
        fprintf(stderr, "exec_taskrun: cannot write %s\n", g_model);
        return 1;
    }
    size_t len = 0;
    char *bytes = octo_test_read_file(g_model, &len);
    OCTO_ASSERT(bytes != NULL);
    octo_sha256(bytes, len, g_model_sha);
    octo_free(bytes);

    OCTO_RUN(test_chat_matches_direct);
    OCTO_RUN(test_completion_matches_direct);
    OCTO_RUN(test_sampled_matches_direct);
    OCTO_RUN(test_stop_string);
    OCTO_RUN(test_cancel_on_piece);
    OCTO_RUN(test_cancel_flag);
    OCTO_RUN(test_malformed_request);
    OCTO_RUN(test_missing_model);
    OCTO_RUN(test_not_a_model);
    OCTO_RUN(test_timeout);
    OCTO_RUN(test_bad_specs);
    OCTO_RUN(test_protocol_escapes);
    OCTO_RUN(test_protocol_errors);
    octo_test_rmtree(g_dir);
    return octo_test_finish();
}
