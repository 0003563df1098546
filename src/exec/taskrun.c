/*
 * taskrun.c — one inference task in the process sandbox (see taskrun.h).
 *
 * The spec becomes a sandbox spec: octo-runner and the model bound read-only under /run/octo,
 * no network, the request queued on an interactive stdin (struct octo_sandbox_feed) so that one
 * more byte can later ask the runner to stop, and limits sized for the model. The runner's
 * stdout arrives in chunks on the supervising thread (on_output); it is cut into lines in a
 * buffer bounded by OCTO_TASKRUN_LINE_MAX (a longer line is a protocol error: nothing is
 * buffered past it). Piece lines, which come once per token, are decoded here without building
 * a cJSON tree when they have the runner's exact shape ({"t":"..."}); any other line is parsed
 * by cJSON and must be the final line or an error line, once, last.
 *
 * The outcome: a protocol error wins (the runner's output cannot be trusted), then the
 * sandbox's outcome (setup error, timeout, memory, output cap, seccomp, another kill), then the
 * runner's own error line, a non-zero exit, or a missing final line. Only a final line followed
 * by exit status 0 is ok.
 */
#include "exec/taskrun.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/hex.h"
#include "exec/inference.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define JSON_INT_MAX 9007199254740992.0 /* 2^53: integers a JSON number carries exactly */

struct run {
    const struct octo_taskrun_spec *spec;
    struct octo_taskrun_result *out;
    struct octo_sandbox_feed feed;
    struct octo_buf line;                /* the stdout line being received, without its newline */
    struct octo_buf text;                /* a decoded piece */
    char tail[OCTO_TASKRUN_STDERR_TAIL]; /* the last bytes of the runner's stderr */
    size_t tail_len;
    bool done;    /* the final line came */
    bool errored; /* the runner's error line came */
    bool broken;  /* a protocol error: later output is ignored */
    bool stop_sent;
};

static void say(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}

/* Asks the runner to stop after the current token: one byte after the request. */
static void send_stop(struct run *r)
{
    if (r->stop_sent)
        return;
    r->stop_sent = true;
    int rc = octo_sandbox_feed_push(&r->feed, (const uint8_t *)"c", 1);
    OCTO_ASSERT(rc == 0); /* the feed was sized for the request and this byte */
    octo_sandbox_feed_close(&r->feed);
}

static void protocol_error(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void protocol_error(struct run *r, const char *fmt, ...)
{
    if (r->broken)
        return;
    r->broken = true;
    snprintf(r->out->error, sizeof(r->out->error), "protocol");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->out->message, sizeof(r->out->message), fmt, ap);
    va_end(ap);
    send_stop(r); /* nothing it says counts any more: spare the CPU */
}

/* ---- piece lines ---- */

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static int put_utf8(struct octo_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return octo_buf_append(b, u, n);
}

/* The \uXXXX escape at s[*i] (just after the u), with its low surrogate when it is a high
 * one. -1 when malformed. */
static int unescape_u(const char *s, size_t n, size_t *i, struct octo_buf *out)
{
    uint32_t cp, lo;
    if (*i + 4 > n || hex4(s + *i, &cp) != 0)
        return -1;
    *i += 4;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return -1;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (*i + 6 > n || s[*i] != '\\' || s[*i + 1] != 'u' || hex4(s + *i + 2, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return -1;
        *i += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return put_utf8(out, cp) == 0 ? 0 : -1;
}

/* Decodes the body of a JSON string s[0..n) (between its quotes) into out, every byte kept
 * (an escaped NUL too). -1 when s is not one string body. */
static int json_unescape(const char *s, size_t n, struct octo_buf *out)
{
    octo_buf_reset(out);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i++];
        if (c == '"' || c < 0x20)
            return -1;
        if (c != '\\') {
            if (octo_buf_append_byte(out, c) != 0)
                return -1;
            continue;
        }
        if (i == n)
            return -1;
        char e = s[i++], v;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            v = e;
            break;
        case 'b':
            v = '\b';
            break;
        case 'f':
            v = '\f';
            break;
        case 'n':
            v = '\n';
            break;
        case 'r':
            v = '\r';
            break;
        case 't':
            v = '\t';
            break;
        case 'u':
            if (unescape_u(s, n, &i, out) != 0)
                return -1;
            continue;
        default:
            return -1;
        }
        if (octo_buf_append_byte(out, (uint8_t)v) != 0)
            return -1;
    }
    return 0;
}

static void deliver(struct run *r, const char *text, size_t len)
{
    r->out->pieces++;
    r->out->text_bytes += len;
    if (r->spec->on_piece != NULL && len > 0 && r->spec->on_piece(r->spec->ctx, text, len) != 0)
        send_stop(r);
}

/* ---- final and error lines ---- */

static bool json_uint(const cJSON *o, const char *name, double max, uint64_t *v)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(f) || !(f->valuedouble >= 0 && f->valuedouble <= max) ||
        floor(f->valuedouble) != f->valuedouble)
        return false;
    *v = (uint64_t)f->valuedouble;
    return true;
}

static void on_final(struct run *r, const cJSON *o)
{
    struct octo_taskrun_result *out = r->out;
    const cJSON *finish = cJSON_GetObjectItemCaseSensitive(o, "finish");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(o, "model_sha256");
    uint64_t pt = 0, ct = 0, ttft = 0, gen = 0;
    bool finish_ok = cJSON_IsString(finish) && (strcmp(finish->valuestring, "stop") == 0 ||
                                                strcmp(finish->valuestring, "length") == 0 ||
                                                strcmp(finish->valuestring, "cancelled") == 0);
    if (!finish_ok || !json_uint(o, "prompt_tokens", UINT32_MAX, &pt) ||
        !json_uint(o, "completion_tokens", UINT32_MAX, &ct) ||
        !json_uint(o, "ttft_ns", JSON_INT_MAX, &ttft) ||
        !json_uint(o, "generate_ns", JSON_INT_MAX, &gen) || !cJSON_IsString(sha) ||
        strlen(sha->valuestring) != 2 * sizeof(out->model_sha256) ||
        octo_hex_decode(sha->valuestring, 2 * sizeof(out->model_sha256), out->model_sha256,
                        sizeof(out->model_sha256)) != (int)sizeof(out->model_sha256)) {
        protocol_error(r, "a malformed final line");
        return;
    }
    snprintf(out->finish, sizeof(out->finish), "%s", finish->valuestring);
    out->prompt_tokens = (uint32_t)pt;
    out->completion_tokens = (uint32_t)ct;
    out->ttft_ns = ttft;
    out->generate_ns = gen;
    r->done = true;
}

static void on_error_line(struct run *r, const cJSON *o)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
    if (!cJSON_IsString(code) || code->valuestring[0] == '\0') {
        protocol_error(r, "a malformed error line");
        return;
    }
    snprintf(r->out->error, sizeof(r->out->error), "%s", code->valuestring);
    snprintf(r->out->message, sizeof(r->out->message), "%s",
             cJSON_IsString(msg) ? msg->valuestring : "");
    r->errored = true;
}

static void on_line(struct run *r, const char *s, size_t n)
{
    static const char head[] = "{\"t\":\"", foot[] = "\"}";
    const size_t hl = sizeof(head) - 1, fl = sizeof(foot) - 1;
    if (r->done || r->errored) {
        protocol_error(r, "output after the final line");
        return;
    }
    if (n >= hl + fl && memcmp(s, head, hl) == 0 && memcmp(s + n - fl, foot, fl) == 0 &&
        json_unescape(s + hl, n - hl - fl, &r->text) == 0) {
        deliver(r, (const char *)r->text.data, r->text.len);
        return;
    }
    cJSON *o = cJSON_ParseWithLength(s, n);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
    if (!cJSON_IsObject(o))
        protocol_error(r, "a line that is not a JSON object");
    else if (cJSON_IsString(t))
        deliver(r, t->valuestring, strlen(t->valuestring));
    else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "done")))
        on_final(r, o);
    else if (cJSON_GetObjectItemCaseSensitive(o, "error") != NULL)
        on_error_line(r, o);
    else
        protocol_error(r, "a line of an unknown kind");
    cJSON_Delete(o);
}

/* ---- the supervisor's callback ---- */

static void keep_tail(struct run *r, const uint8_t *data, size_t len)
{
    const size_t cap = sizeof(r->tail);
    if (len >= cap) {
        memcpy(r->tail, data + len - cap, cap);
        r->tail_len = cap;
        return;
    }
    if (r->tail_len + len > cap) {
        size_t drop = r->tail_len + len - cap;
        memmove(r->tail, r->tail + drop, r->tail_len - drop);
        r->tail_len -= drop;
    }
    memcpy(r->tail + r->tail_len, data, len);
    r->tail_len += len;
}

static void on_output(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    if (r->spec->cancel != NULL && atomic_load(r->spec->cancel))
        send_stop(r);
    if (stream != 1) {
        keep_tail(r, data, len);
        return;
    }
    while (len > 0 && !r->broken) {
        const uint8_t *nl = memchr(data, '\n', len);
        size_t seg = nl != NULL ? (size_t)(nl - data) : len;
        if (octo_buf_append(&r->line, data, seg) != 0) {
            protocol_error(r, "a line longer than %u bytes", OCTO_TASKRUN_LINE_MAX);
            return;
        }
        if (nl == NULL)
            return;
        on_line(r, (const char *)r->line.data, r->line.len);
        octo_buf_reset(&r->line);
        data += seg + 1;
        len -= seg + 1;
    }
}

/* ---- the run ---- */

static bool abs_path(const char *p)
{
    return p != NULL && p[0] == '/' && strlen(p) < OCTO_SANDBOX_PATH_MAX;
}

static int check_spec(const struct octo_taskrun_spec *s)
{
    if (!abs_path(s->runner_exe) || !abs_path(s->model_path) || s->request == NULL ||
        s->request_len == 0 ||
        (s->kind != OCTO_TASKRUN_CHAT && s->kind != OCTO_TASKRUN_COMPLETION) ||
        s->threads > OCTO_INFER_THREADS_MAX)
        return OCTO_EINVAL;
    return s->request_len > OCTO_TASKRUN_REQUEST_MAX ? OCTO_ETOOBIG : 0;
}

struct octo_sandbox_limits octo_taskrun_limits(const struct octo_taskrun_spec *s, uint64_t model)
{
    struct octo_sandbox_limits l = s->limits;
    if (l.mem_bytes == 0) {
        l.mem_bytes = model + OCTO_TASKRUN_MEM_HEADROOM;
        if (l.mem_bytes > OCTO_SANDBOX_MEM_MAX)
            l.mem_bytes = OCTO_SANDBOX_MEM_MAX; /* it would not fit anyway: let it fail there */
    }
    if (l.pids == 0) {
        uint32_t want = (s->threads != 0 ? s->threads : 1) + OCTO_TASKRUN_PIDS_SPARE;
        l.pids = want > OCTO_SANDBOX_PIDS_DEFAULT ? want : OCTO_SANDBOX_PIDS_DEFAULT;
    }
    if (l.wall_ms == 0)
        l.wall_ms = OCTO_TASKRUN_WALL_MS_DEFAULT;
    if (l.output_bytes == 0)
        l.output_bytes = OCTO_TASKRUN_OUTPUT_DEFAULT;
    return l;
}

/* The runner's command line. */
struct runner_argv {
    const char *argv[16];
    char threads[16], ctx[16], bytes[24];
};

static void argv_build(struct runner_argv *a, const struct octo_taskrun_spec *s)
{
    size_t n = 0;
    snprintf(a->threads, sizeof(a->threads), "%u", s->threads != 0 ? s->threads : 1u);
    snprintf(a->ctx, sizeof(a->ctx), "%u", s->n_ctx);
    snprintf(a->bytes, sizeof(a->bytes), "%zu", s->request_len);
    a->argv[n++] = OCTO_TASKRUN_RUNNER_PATH;
    a->argv[n++] = "--model";
    a->argv[n++] = OCTO_TASKRUN_MODEL_PATH;
    a->argv[n++] = "--kind";
    a->argv[n++] = s->kind == OCTO_TASKRUN_CHAT ? "chat" : "completion";
    a->argv[n++] = "--threads";
    a->argv[n++] = a->threads;
    if (s->n_ctx != 0) {
        a->argv[n++] = "--ctx";
        a->argv[n++] = a->ctx;
    }
    if (s->deterministic)
        a->argv[n++] = "--deterministic";
    a->argv[n++] = "--request-bytes";
    a->argv[n++] = a->bytes;
    a->argv[n] = NULL;
    OCTO_ASSERT(n < OCTO_ARRAY_LEN(a->argv));
}

/* The last line of the runner's stderr, for a message. */
static void tail_line(const struct run *r, char *dst, size_t size)
{
    size_t end = r->tail_len;
    while (end > 0 && (r->tail[end - 1] == '\n' || r->tail[end - 1] == '\r'))
        end--;
    size_t start = end;
    while (start > 0 && r->tail[start - 1] != '\n')
        start--;
    snprintf(dst, size, "%.*s", (int)(end - start), r->tail + start);
}

static void classify(struct run *r, const struct octo_sandbox_limits *lim)
{
    struct octo_taskrun_result *out = r->out;
    const struct octo_sandbox_result *sb = &out->sandbox;
    char why[160];
    tail_line(r, why, sizeof(why));
    if (r->broken)
        return; /* protocol_error filled error and message */
    switch (sb->outcome) {
    case OCTO_SANDBOX_EXITED:
        break;
    case OCTO_SANDBOX_CANCELLED:
        snprintf(out->error, sizeof(out->error), "cancelled");
        say(out->message, sizeof(out->message), "the run was cancelled");
        return;
    case OCTO_SANDBOX_SETUP_ERROR:
        snprintf(out->error, sizeof(out->error), "sandbox");
        say(out->message, sizeof(out->message), "the sandbox could not be set up: %s",
            sb->setup_error);
        return;
    case OCTO_SANDBOX_TIMEOUT:
        snprintf(out->error, sizeof(out->error), "timeout");
        say(out->message, sizeof(out->message),
            "the task passed its wall deadline of %" PRIu64 " ms", lim->wall_ms);
        return;
    case OCTO_SANDBOX_OOM:
        snprintf(out->error, sizeof(out->error), "oom");
        say(out->message, sizeof(out->message),
            "the task passed its memory limit of %" PRIu64 " bytes", lim->mem_bytes);
        return;
    case OCTO_SANDBOX_OUTPUT:
        snprintf(out->error, sizeof(out->error), "output_limit");
        say(out->message, sizeof(out->message), "the runner wrote more than %" PRIu64 " bytes",
            lim->output_bytes);
        return;
    case OCTO_SANDBOX_SECCOMP:
        snprintf(out->error, sizeof(out->error), "seccomp");
        say(out->message, sizeof(out->message), "the runner made a forbidden system call");
        return;
    case OCTO_SANDBOX_SIGNALED:
    case OCTO_SANDBOX_PIDS:
    case OCTO_SANDBOX_FSIZE:
    case OCTO_SANDBOX_CPU:
        snprintf(out->error, sizeof(out->error), "killed");
        say(out->message, sizeof(out->message), "the runner was killed (%s, signal %d)%s%s",
            octo_sandbox_outcome_name(sb->outcome), sb->signal, why[0] != '\0' ? ": " : "", why);
        return;
    }
    if (r->errored)
        return; /* the runner's own error and message */
    if (sb->exit_code != 0) {
        snprintf(out->error, sizeof(out->error), "runner");
        say(out->message, sizeof(out->message), "the runner exited with status %d%s%s",
            sb->exit_code, why[0] != '\0' ? ": " : "", why);
        return;
    }
    if (!r->done) {
        snprintf(out->error, sizeof(out->error), "protocol");
        say(out->message, sizeof(out->message), "the runner ended without a final line%s",
            r->line.len > 0 ? " (its last line is unterminated)" : "");
        return;
    }
    out->ok = true;
}

int octo_taskrun_run(const struct octo_taskrun_spec *spec, struct octo_taskrun_result *out)
{
    OCTO_ASSERT(spec != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    int rc = check_spec(spec);
    if (rc != 0)
        return rc;
    struct stat st;
    const char *bad = NULL;
    if (stat(spec->model_path, &st) != 0)
        bad = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        bad = "not a regular file";
    if (bad != NULL) { /* nothing to run: reported as a sandbox that was not set up */
        out->sandbox.outcome = OCTO_SANDBOX_SETUP_ERROR;
        snprintf(out->sandbox.setup_error, sizeof(out->sandbox.setup_error), "model file: %s", bad);
        snprintf(out->error, sizeof(out->error), "model_unavailable");
        say(out->message, sizeof(out->message), "%s: %s", spec->model_path, bad);
        return 0;
    }
    struct octo_sandbox_limits lim = octo_taskrun_limits(spec, (uint64_t)st.st_size);

    struct run *r = octo_calloc(1, sizeof(*r));
    if (r == NULL)
        return OCTO_ENOMEM;
    r->spec = spec;
    r->out = out;
    /* the request, then room for the one stop byte; wiped once written (client data) */
    octo_sandbox_feed_init(&r->feed, spec->request_len + 1, true);
    octo_buf_init(&r->line, OCTO_TASKRUN_LINE_MAX - 1);
    octo_buf_init(&r->text, OCTO_TASKRUN_LINE_MAX);
    rc = octo_sandbox_feed_push(&r->feed, spec->request, spec->request_len);
    if (rc == 0 && (octo_buf_reserve(&r->line, 4096) != 0 || octo_buf_reserve(&r->text, 4096) != 0))
        rc = OCTO_ENOMEM;
    if (rc == 0) {
        struct runner_argv a;
        argv_build(&a, spec);
        struct octo_sandbox_spec sb;
        memset(&sb, 0, sizeof(sb));
        sb.argv = a.argv;
        sb.stdin_feed = &r->feed;
        sb.binds[0] = (struct octo_sandbox_bind){spec->runner_exe, OCTO_TASKRUN_RUNNER_PATH, false};
        sb.binds[1] = (struct octo_sandbox_bind){spec->model_path, OCTO_TASKRUN_MODEL_PATH, false};
        sb.binds_count = 2;
        sb.net = OCTO_SANDBOX_NET_NONE;
        sb.limits = lim;
        sb.on_output = on_output;
        sb.ctx = r;
        rc = octo_sandbox_run(&sb, &out->sandbox);
    }
    if (rc == 0)
        classify(r, &lim);
    octo_sandbox_feed_deinit(&r->feed);
    octo_buf_deinit(&r->line);
    octo_buf_deinit(&r->text);
    octo_free(r);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
