/*
 * octo-worker — the Privacy Containers' sandbox worker: the only place a PRIVATE or
 * CONFIDENTIAL payload is ever in plaintext (exchange: exec/privacy.h).
 *
 *   octo-worker --task HEX --class NAME --node HEX --out-max N -- CMD [ARGS...]
 *
 * The provider node starts it as the command of a process sandbox. It makes an X25519 key pair
 * here, inside the sandbox, and writes its public half as a KEY frame on stdout; reads one TASK
 * frame from stdin; checks the signed envelope (kind, class and task id as given, sealed to its
 * own key, the node on the ACL); opens it; runs CMD with the payload on CMD's stdin; and writes
 * a RESULT frame: an unsigned result envelope, sealed to the client's reply key for a sealed
 * class, holding CMD's exit status, stdout and stderr (each capped at N bytes). The node signs
 * it. The worker's own stderr carries diagnostics only, never payload bytes.
 *
 * The payload opens only if the client bound it to the command this worker announced (the
 * digest in KEY), and the result is boxed with the worker's key, so the client knows it came
 * from the worker it admitted. Built as a small static program without the project's
 * sanitizers (it must run as a plain program on the sandbox's minimal root). The process is
 * not dumpable, so the command it runs (same uid) cannot ptrace it or read its memory (its key
 * included); plaintext buffers and the key are wiped before exit.
 * Exit codes: 0 a result was written; 2 usage; 3 refused task (no command ran); 4 I/O or
 * resource failure.
 */
#include "base/buf.h"
#include "base/hex.h"
#include "base/mem.h"
#include "crypto/seal.h"
#include "exec/envelope.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EXIT_USAGE = 2, EXIT_REFUSED = 3, EXIT_IO = 4 };

struct args {
    uint8_t task_id[OCTO_ENV_TASK_ID_LEN];
    enum octo_env_class cls;
    struct octo_pubkey node;
    uint64_t out_max;
    char **cmd;
};

static _Noreturn void fail(int code, const char *what)
{
    fprintf(stderr, "octo-worker: %s\n", what);
    exit(code);
}

static bool hex_arg(const char *s, uint8_t *out, size_t n)
{
    return s != NULL && strlen(s) == 2 * n && octo_hex_decode(s, 2 * n, out, n) == (int)n;
}

static void parse_args(int argc, char **argv, struct args *a)
{
    int i = 1;
    bool task = false, cls = false, node = false, out = false;
    for (; i + 1 < argc && strcmp(argv[i], "--") != 0; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--task") == 0)
            task = hex_arg(v, a->task_id, OCTO_ENV_TASK_ID_LEN);
        else if (strcmp(argv[i], "--class") == 0)
            cls = octo_env_class_parse(v, &a->cls) == 0;
        else if (strcmp(argv[i], "--node") == 0)
            node = hex_arg(v, a->node.bytes, OCTO_ED25519_PK_LEN);
        else if (strcmp(argv[i], "--out-max") == 0) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            out = errno == 0 && end != v && *end == '\0' && n > 0 && n <= (1ull << 30);
            a->out_max = n;
        } else
            fail(EXIT_USAGE, "unknown option");
    }
    if (!task || !cls || !node || !out || i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc)
        fail(EXIT_USAGE,
             "usage: octo-worker --task HEX --class NAME --node HEX --out-max N -- CMD ...");
    a->cmd = argv + i + 1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void send_frame(enum octo_frame_type type, const uint8_t *body, size_t len)
{
    struct octo_buf f;
    octo_buf_init(&f, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    if (octo_frame_append(&f, type, body, len) != 0 || write_all(1, f.data, f.len) != 0)
        fail(EXIT_IO, "cannot write to the node");
    octo_buf_deinit(&f);
}

/* Reads the TASK frame (its body is the signed envelope) into buf. */
static void read_task(struct octo_buf *buf)
{
    uint8_t head[OCTO_FRAME_HEAD_LEN];
    if (read_all(0, head, sizeof(head)) != 0)
        fail(EXIT_REFUSED, "no task (the node refused it or closed the channel)");
    uint32_t n =
        (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
    if (head[0] != OCTO_FRAME_TASK || n > OCTO_ENV_MAX)
        fail(EXIT_REFUSED, "expected one TASK frame within the size limit");
    /* Grown as bytes arrive, not reserved from the length field. */
    while (buf->len < n) {
        size_t step = n - buf->len < 65536 ? n - buf->len : 65536;
        if (octo_buf_reserve(buf, step) != 0 || read_all(0, buf->data + buf->len, step) != 0)
            fail(EXIT_IO, "cannot read the task");
        buf->len += step;
    }
}

/* Checks the task against what the node started us for; NULL when it is acceptable. */
static const char *check_task(const struct octo_envelope *e, const struct args *a,
                              const struct octo_seal_keypair *kp)
{
    if (e->kind != OCTO_ENV_TASK || e->cls != a->cls)
        return "the envelope is not a task of the expected class";
    if (memcmp(e->task_id, a->task_id, OCTO_ENV_TASK_ID_LEN) != 0)
        return "the envelope is for another task";
    if (octo_env_class_sealed(e->cls) && memcmp(e->recipient.bytes, kp->pub.bytes, 32) != 0)
        return "the envelope is not sealed to this worker";
    if (!octo_env_acl_allows(e, &a->node))
        return "the node is not on the task's ACL";
    return NULL;
}

struct child_io {
    int in, out, err;
    const uint8_t *input;
    size_t input_len, input_off;
    struct octo_buf *dst[2];
    uint64_t cap;
};

static void io_read(struct child_io *io, int *fd, struct octo_buf *dst)
{
    uint8_t chunk[16384];
    ssize_t n = read(*fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
    } else {
        size_t room = dst->len < io->cap ? (size_t)(io->cap - dst->len) : 0;
        size_t take = (size_t)n < room ? (size_t)n : room; /* the rest is dropped */
        if (take > 0 && octo_buf_append(dst, chunk, take) != 0)
            fail(EXIT_IO, "out of memory for the command's output");
    }
    sodium_memzero(chunk, sizeof(chunk));
}

static void io_write(struct child_io *io)
{
    ssize_t n = write(io->in, io->input + io->input_off, io->input_len - io->input_off);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        io->input_off = io->input_len; /* the command stopped reading */
    } else {
        io->input_off += (size_t)n;
    }
    if (io->input_off == io->input_len) {
        close(io->in);
        io->in = -1;
    }
}

static void pump(struct child_io *io)
{
    while (io->in >= 0 || io->out >= 0 || io->err >= 0) {
        struct pollfd pf[3];
        int *fds[3];
        nfds_t n = 0;
        if (io->in >= 0) {
            pf[n] = (struct pollfd){io->in, POLLOUT, 0};
            fds[n++] = &io->in;
        }
        if (io->out >= 0) {
            pf[n] = (struct pollfd){io->out, POLLIN, 0};
            fds[n++] = &io->out;
        }
        if (io->err >= 0) {
            pf[n] = (struct pollfd){io->err, POLLIN, 0};
            fds[n++] = &io->err;
        }
        if (poll(pf, n, -1) < 0 && errno != EINTR)
            fail(EXIT_IO, "poll");
        for (nfds_t i = 0; i < n; i++) {
            if (pf[i].revents == 0)
                continue;
            if (fds[i] == &io->in)
                io_write(io);
            else if (fds[i] == &io->out)
                io_read(io, &io->out, io->dst[0]);
            else
                io_read(io, &io->err, io->dst[1]);
        }
    }
}

/* Runs the command with payload on its stdin; fills out/err; returns the wait status, or -1
 * when it could not start. */
static int run_command(char **cmd, const uint8_t *payload, size_t len, uint64_t cap,
                       struct octo_buf *out, struct octo_buf *err)
{
    int in[2], o[2], e[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0)
        fail(EXIT_IO, "pipe");
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        if (dup2(in[0], 0) < 0 || dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0)
            _exit(127);
        execvp(cmd[0], cmd);
        _exit(127);
    }
    close(in[0]);
    close(o[1]);
    close(e[1]);
    struct child_io io = {.in = in[1],
                          .out = o[0],
                          .err = e[0],
                          .input = payload,
                          .input_len = len,
                          .dst = {out, err},
                          .cap = cap};
    (void)fcntl(io.in, F_SETFL, O_NONBLOCK);
    if (len == 0) {
        close(io.in);
        io.in = -1;
    }
    pump(&io);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return st;
}

/* Builds and sends the unsigned result envelope for task e: a sealed class is boxed from the
 * worker's key (so the client knows the attested worker made it) to the client's reply key. */
static void send_result(const struct octo_envelope *e, const struct args *a,
                        const struct octo_seal_keypair *kp, const uint8_t bind[OCTO_ENV_BIND_LEN],
                        const struct octo_buf *payload)
{
    struct octo_pubkey acl[OCTO_ENV_ACL_MAX];
    for (size_t i = 0; i < e->acl_count; i++)
        memcpy(acl[i].bytes, e->acl + 32 * i, 32);
    struct octo_env_params p;
    memset(&p, 0, sizeof(p));
    p.kind = OCTO_ENV_RESULT;
    p.cls = e->cls;
    memcpy(p.task_id, e->task_id, OCTO_ENV_TASK_ID_LEN);
    p.sender = a->node;
    if (octo_env_class_sealed(e->cls)) {
        p.recipient = e->reply_to;
        p.reply_to = kp->pub;
        p.from = kp;
    }
    memcpy(p.bind, bind, OCTO_ENV_BIND_LEN);
    p.acl = acl;
    p.acl_count = e->acl_count;
    struct octo_buf env;
    octo_buf_init(&env, OCTO_ENV_MAX);
    if (octo_env_encode(&p, payload->data, payload->len, &env) != 0)
        fail(EXIT_IO, "cannot seal the result");
    send_frame(OCTO_FRAME_RESULT, env.data, env.len);
    octo_buf_deinit(&env);
}

int main(int argc, char **argv)
{
    struct args a;
    memset(&a, 0, sizeof(a));
    parse_args(argc, argv, &a);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        fail(EXIT_IO, "cannot make the worker non-dumpable");
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0)
        fail(EXIT_IO, "libsodium");

    struct octo_seal_keypair kp;
    if (octo_seal_keypair_generate(&kp) != 0)
        fail(EXIT_IO, "key generation");
    /* KEY: the public key and the digest of the command this worker will run. */
    uint8_t key_msg[32 + OCTO_ENV_BIND_LEN];
    memcpy(key_msg, kp.pub.bytes, 32);
    octo_env_command_digest((const char *const *)a.cmd, key_msg + 32);
    send_frame(OCTO_FRAME_KEY, key_msg, sizeof(key_msg));

    struct octo_buf task;
    octo_buf_init(&task, OCTO_ENV_MAX);
    read_task(&task);
    struct octo_envelope e;
    if (octo_env_decode(task.data, task.len, true, &e) != 0)
        fail(EXIT_REFUSED, "the task envelope is malformed or its signature does not verify");
    const char *bad = check_task(&e, &a, &kp);
    if (bad != NULL)
        fail(EXIT_REFUSED, bad);
    struct octo_buf payload;
    octo_buf_init_secret(&payload, OCTO_ENV_PAYLOAD_MAX);
    if (octo_env_open_bound(&e, &kp, key_msg + 32, &payload) != 0)
        fail(EXIT_REFUSED, "the task does not open with this worker's key and command");

    struct octo_buf out, err;
    octo_buf_init_secret(&out, (size_t)a.out_max);
    octo_buf_init_secret(&err, (size_t)a.out_max);
    int st = run_command(a.cmd, payload.data, payload.len, a.out_max, &out, &err);
    octo_buf_deinit(&payload);

    struct octo_buf result;
    octo_buf_init_secret(&result, OCTO_ENV_PAYLOAD_MAX);
    if (octo_env_result_encode(st, &out, &err, &result) != 0)
        fail(EXIT_IO, "the command's output does not fit a result");
    octo_buf_deinit(&out);
    octo_buf_deinit(&err);
    send_result(&e, &a, &kp, key_msg + 32, &result);
    octo_seal_keypair_deinit(&kp);
    octo_buf_deinit(&result);
    octo_buf_deinit(&task);
    return 0;
}
