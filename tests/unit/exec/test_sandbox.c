/*
 * test_sandbox.c — the sandbox runner end to end (runs as root, like CI): exit codes, output
 * capture, stdin, environment scrubbing, each outcome class (OOM, PIDS, TIMEOUT, OUTPUT,
 * SECCOMP, FSIZE, SETUP_ERROR), binds, spec validation, no cgroup left behind, the probe, and
 * a cold-start timing figure (median of 20 runs of /bin/true, printed, not asserted).
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "exec/cgroup.h"
#include "exec/sandbox.h"
#include "sbx_util.h"
#include "test.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct capture g_cap;

static void spec_init(struct octo_sandbox_spec *s, const char *const *argv)
{
    memset(s, 0, sizeof(*s));
    memset(&g_cap, 0, sizeof(g_cap));
    s->argv = argv;
    s->on_output = capture_fn;
    s->ctx = &g_cap;
    s->limits.wall_ms = 20000;
}

static int run(const struct octo_sandbox_spec *s, struct octo_sandbox_result *r)
{
    int rc = octo_sandbox_run(s, r);
    if (rc == 0 && r->outcome == OCTO_SANDBOX_SETUP_ERROR)
        fprintf(stderr, "  setup error: %s\n", r->setup_error);
    if (rc == 0 && leftover_cgroups() != 0)
        return -1000;
    return rc;
}

static void test_true_false(void)
{
    static const char *const t[] = {"/bin/true", NULL};
    static const char *const f[] = {"false", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, t);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 0);
    CHECK(r.wall_ns > 0);
    spec_init(&s, f);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 1);
}

static void test_echo_output(void)
{
    static const char *const argv[] = {"sh", "-c", "echo hello sandbox; echo oops >&2; exit 3",
                                       NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 3);
    CHECK_STR(g_cap.out, "hello sandbox\n");
    CHECK_STR(g_cap.err, "oops\n");
    CHECK_EQ_U64(r.stdout_bytes, 14);
    CHECK_EQ_U64(r.stderr_bytes, 5);
}

static void test_stdin_fed(void)
{
    static const char *const argv[] = {"/usr/bin/tr", "a-z", "A-Z", NULL};
    static const char in[] = "feed me through stdin\n";
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.stdin_data = (const uint8_t *)in;
    s.stdin_len = sizeof(in) - 1;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 0);
    CHECK_STR(g_cap.out, "FEED ME THROUGH STDIN\n");
}

static void test_stdin_large(void)
{
    /* More than a pipe holds, so the supervisor feeds it while polling. */
    static const char *const argv[] = {"/usr/bin/wc", "-c", NULL};
    size_t n = 1u << 20;
    uint8_t *data = octo_malloc(n);
    CHECK(data != NULL);
    memset(data, 'x', n);
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.stdin_data = data;
    s.stdin_len = n;
    int rc = run(&s, &r);
    octo_free(data);
    CHECK_OK(rc);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "1048576\n");
}

static void test_stdin_unread(void)
{
    /* The command ignores its stdin: no SIGPIPE kills the supervisor. */
    static const char *const argv[] = {"/bin/true", NULL};
    size_t n = 1u << 20;
    uint8_t *data = octo_calloc(1, n);
    CHECK(data != NULL);
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.stdin_data = data;
    s.stdin_len = n;
    int rc = run(&s, &r);
    octo_free(data);
    CHECK_OK(rc);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 0);
}

/* Interactive stdin: the command's first output makes the caller queue the rest, as the
 * Privacy Containers' provider does with the worker's key and the client's task. */
struct dialogue {
    struct octo_sandbox_feed feed;
    int pushes;
};

static void dialogue_fn(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct dialogue *d = ctx;
    capture_fn(&g_cap, stream, data, len);
    if (stream == 1 && d->pushes == 0 && strstr(g_cap.out, "ping\n") != NULL) {
        d->pushes++;
        OCTO_ASSERT(octo_sandbox_feed_push(&d->feed, (const uint8_t *)"pong\n", 5) == 0);
        octo_sandbox_feed_close(&d->feed);
    }
}

static void test_stdin_feed(void)
{
    static const char *const argv[] = {"/bin/cat", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    struct dialogue d = {.pushes = 0};
    octo_sandbox_feed_init(&d.feed, 1024, true);
    CHECK_OK(octo_sandbox_feed_push(&d.feed, (const uint8_t *)"ping\n", 5));
    s.stdin_feed = &d.feed;
    s.on_output = dialogue_fn;
    s.ctx = &d;
    memset(&g_cap, 0, sizeof(g_cap));
    CHECK_OK(octo_sandbox_run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED); /* cat saw EOF once the feed closed */
    CHECK_EQ_INT(r.exit_code, 0);
    CHECK_STR(g_cap.out, "ping\npong\n");
    CHECK_EQ_INT(d.pushes, 1);
    CHECK_ERR(octo_sandbox_feed_push(&d.feed, (const uint8_t *)"x", 1), OCTO_ESTATE);
    CHECK(d.feed.buf.len == 0); /* written and wiped */
    octo_sandbox_feed_deinit(&d.feed);

    /* A feed that never closes: the deadline ends the run (no hang). */
    struct octo_sandbox_feed open_feed;
    octo_sandbox_feed_init(&open_feed, 16, false);
    spec_init(&s, argv);
    s.stdin_feed = &open_feed;
    s.limits.wall_ms = 300;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_TIMEOUT);
    octo_sandbox_feed_deinit(&open_feed);

    /* stdin_data and stdin_feed together are a bad spec. */
    octo_sandbox_feed_init(&open_feed, 16, false);
    spec_init(&s, argv);
    s.stdin_feed = &open_feed;
    s.stdin_data = (const uint8_t *)"x";
    s.stdin_len = 1;
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    octo_sandbox_feed_deinit(&open_feed);
}

static void test_env_scrubbed(void)
{
    static const char *const argv[] = {"/usr/bin/env", NULL};
    setenv("OCTO_CANARY_ENV", "must-not-leak", 1);
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "PATH=/usr/bin:/bin\nHOME=/tmp\nLANG=C.UTF-8\n");
    static const char *const env[] = {"ONLY=this", NULL};
    spec_init(&s, argv);
    s.envp = env;
    CHECK_OK(run(&s, &r));
    CHECK_STR(g_cap.out, "ONLY=this\n");
}

static void test_identity_and_fs(void)
{
    /* uid/gid, no groups, hostname, cwd, a read-only root, no host files, only 0-2 open. */
    static const char *const argv[] = {
        "sh", "-c",
        "id -u; id -g; id -G; hostname; pwd; "
        "touch /x 2>/dev/null || echo rootro; "
        "touch /usr/x 2>/dev/null || echo usrro; "
        "test -e /etc/shadow || echo noshadow; "
        "test -e /home || echo nohome; "
        "ls /proc/self/fd | tr '\\n' ' '; echo; "
        "grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' /proc/self/status | tr -s '\\t' ' '",
        NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "1000\n1000\n1000\nocto-sandbox\n/tmp\nrootro\nusrro\nnoshadow\n"
                         "nohome\n0 1 2 3 \nCapEff: 0000000000000000\n"
                         "CapBnd: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2\n");
}

static void test_oom(void)
{
    static const char *const argv[] = {"/usr/bin/python3", "-c",
                                       "b = bytearray(256 << 20); print(len(b))", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.limits.mem_bytes = 64u << 20;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_OOM);
    CHECK(r.mem_peak_bytes > 0);
    CHECK(r.mem_peak_bytes <= (64u << 20) + (1u << 20));
}

static void test_pids(void)
{
    static const char *const argv[] = {
        "sh", "-c", "for i in $(seq 1 40); do sleep 1 & done 2>/dev/null; wait", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.limits.pids = 16;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_PIDS);
}

static void test_timeout(void)
{
    static const char *const argv[] = {"sleep", "10", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.limits.wall_ms = 300;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_TIMEOUT);
    CHECK(r.wall_ns >= 300000000ull);
    CHECK(r.wall_ns < 3000000000ull);
}

/* Another thread stops a run through spec.cancel_fd: the sandbox is killed at once (CANCELLED),
 * not at its wall deadline; a descriptor readable before the start cancels at once too. */
static void *write_later(void *arg)
{
    int fd = *(int *)arg;
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    OCTO_ASSERT(write(fd, "x", 1) == 1);
    return NULL;
}

static void test_cancel_fd(void)
{
    static const char *const argv[] = {"sleep", "30", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    int p[2];
    CHECK(pipe(p) == 0);
    spec_init(&s, argv);
    s.limits.wall_ms = 20000;
    s.cancel_fd = p[0];
    pthread_t th;
    CHECK(pthread_create(&th, NULL, write_later, &p[1]) == 0);
    CHECK_OK(run(&s, &r));
    pthread_join(th, NULL);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_CANCELLED);
    CHECK(r.wall_ns >= 150000000ull);
    CHECK(r.wall_ns < 10000000000ull); /* well before the 20 s deadline */
    CHECK_STR(octo_sandbox_outcome_name(r.outcome), "cancelled");
    /* already readable: the command does not get to run on */
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_CANCELLED);
    close(p[0]);
    close(p[1]);
}

static void test_output_cap(void)
{
    static const char *const argv[] = {"yes", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.limits.output_bytes = 100000;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_OUTPUT);
    CHECK_EQ_U64(r.stdout_bytes, 100000);
    CHECK_EQ_U64(g_cap.out_len, CAP_OUT - 1);
    CHECK(memcmp(g_cap.out, "y\ny\ny\n", 6) == 0);
}

static void test_seccomp_kill(void)
{
    /* unshare(2) and ptrace(2) are on the never-list: the process dies of SIGSYS. */
    static const char *const a1[] = {"/usr/bin/unshare", "-U", "true", NULL};
    static const char *const a2[] = {
        "/usr/bin/python3", "-c",
        "import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0); print('alive')", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, a1);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SECCOMP);
    CHECK_EQ_INT(r.signal, 31);
    spec_init(&s, a2);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SECCOMP);
    CHECK_EQ_U64(r.stdout_bytes, 0);
}

static void test_seccomp_errno(void)
{
    /* Denied but not killed: inet sockets (EPERM) without loopback; AF_UNIX allowed. */
    static const char *const argv[] = {
        "/usr/bin/python3", "-c",
        "import socket\n"
        "try:\n socket.socket(socket.AF_INET, socket.SOCK_STREAM); print('inet')\n"
        "except PermissionError: print('eperm')\n"
        "a, b = socket.socketpair(); a.send(b'u'); print(b.recv(1).decode())\n",
        NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "eperm\nu\n");
}

static void test_loopback(void)
{
    static const char *const argv[] = {
        "/usr/bin/python3", "-c",
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "c = socket.create_connection(s.getsockname()); a, _ = s.accept()\n"
        "c.send(b'lo'); print(a.recv(2).decode())\n",
        NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.net = OCTO_SANDBOX_NET_LOOPBACK;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "lo\n");
}

static void test_fsize(void)
{
    static const char *const argv[] = {"/usr/bin/dd", "if=/dev/zero", "of=/tmp/big",
                                       "bs=1M",       "count=8",      NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.limits.fsize_bytes = 4u << 20;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_FSIZE);
    CHECK_EQ_INT(r.signal, 25);
}

static void test_tmp_size(void)
{
    static const char *const argv[] = {
        "sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1M count=16 2>/dev/null || echo enospc", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.limits.tmp_bytes = 8u << 20;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "enospc\n");
}

static void test_bad_program(void)
{
    static const char *const a1[] = {"/usr/bin/no-such-program", NULL};
    static const char *const a2[] = {"no-such-program", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, a1);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SETUP_ERROR);
    CHECK(strstr(r.setup_error, "execve") != NULL);
    spec_init(&s, a2);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SETUP_ERROR);
    CHECK(strstr(r.setup_error, "execve") != NULL);
}

static void test_binds(void)
{
    const char *dir = octo_test_tmpdir("sbx-binds");
    char in[512], outd[512], path[600];
    snprintf(in, sizeof(in), "%s/in", dir);
    snprintf(outd, sizeof(outd), "%s/out", dir);
    CHECK(mkdir(in, 0700) == 0);
    CHECK(mkdir(outd, 0777) == 0);
    CHECK(chmod(outd, 0777) == 0);
    snprintf(path, sizeof(path), "%s/data.txt", in);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("input data\n", f);
    fclose(f);
    CHECK(chmod(path, 0644) == 0);
    CHECK(chmod(in, 0755) == 0);
    static const char *const argv[] = {
        "sh", "-c",
        "cat /job/in/data.txt; touch /job/in/x 2>/dev/null || echo inro; "
        "echo result > /job/out/r.txt && echo wrote",
        NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.binds[0] = (struct octo_sandbox_bind){in, "/job/in", false};
    s.binds[1] = (struct octo_sandbox_bind){outd, "/job/out", true};
    s.binds_count = 2;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "input data\ninro\nwrote\n");
    snprintf(path, sizeof(path), "%s/r.txt", outd);
    size_t len = 0;
    char *got = octo_test_read_file(path, &len);
    CHECK(got != NULL);
    int same = strcmp(got, "result\n") == 0;
    octo_free(got);
    CHECK(same);
    octo_test_rmtree(dir);
}

/* A symlink planted in a bind source (e.g. by an earlier job in its writable output) is never
 * followed on the host: the run fails closed instead of binding what it points at. */
static void test_bind_symlink_refused(void)
{
    const char *dir = octo_test_tmpdir("sbx-binds-link");
    char link[600], inner[600];
    snprintf(link, sizeof(link), "%s/data", dir);
    CHECK(symlink("/etc", link) == 0);
    snprintf(inner, sizeof(inner), "%s/data/hostname", dir);
    static const char *const argv[] = {"sh", "-c", "ls /in", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.binds[0] = (struct octo_sandbox_bind){link, "/in", false};
    s.binds_count = 1;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SETUP_ERROR);
    CHECK_EQ_INT(g_cap.out_len, 0);
    s.binds[0].src = inner; /* a symlink in a middle component too */
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SETUP_ERROR);
    octo_test_rmtree(dir);
}

/* The command starts with default signal actions and an empty mask, whatever the supervisor's
 * process ignores or blocks. */
static void test_signals_default(void)
{
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    sigset_t block, prev;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &prev);
    static const char *const argv[] = {"sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status",
                                       NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    sigprocmask(SIG_SETMASK, &prev, NULL);
    signal(SIGPIPE, old);
}

static void test_bad_specs(void)
{
    static const char *const argv[] = {"/bin/true", NULL};
    static const char *const rel[] = {"bin/true", NULL};
    static const char *const empty[] = {NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    CHECK_ERR(octo_sandbox_run(NULL, &r), OCTO_EINVAL);
    spec_init(&s, empty);
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, rel);
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.binds_count = OCTO_SANDBOX_BINDS_MAX + 1;
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.binds[0] = (struct octo_sandbox_bind){"relative", "/x", false};
    s.binds_count = 1;
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    s.binds[0] = (struct octo_sandbox_bind){"/usr", "/x/../etc", false};
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    s.binds[0] = (struct octo_sandbox_bind){"/usr", "/", false};
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.cwd = "tmp";
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.limits.mem_bytes = OCTO_SANDBOX_MEM_MAX + 1;
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.limits.pids = OCTO_SANDBOX_PIDS_MAX + 1;
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.limits.wall_ms = OCTO_SANDBOX_WALL_MS_MAX + 1;
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.stdin_len = 5; /* without data */
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    spec_init(&s, argv);
    s.net = (enum octo_sandbox_net)7;
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    const char *many[OCTO_SANDBOX_ARGS_MAX + 2];
    for (size_t i = 0; i <= OCTO_SANDBOX_ARGS_MAX; i++)
        many[i] = "/bin/true";
    many[OCTO_SANDBOX_ARGS_MAX + 1] = NULL;
    spec_init(&s, many);
    CHECK_ERR(octo_sandbox_run(&s, &r), OCTO_EINVAL);
    /* A missing bind source is a setup error, not a bad spec. */
    spec_init(&s, argv);
    s.binds[0] = (struct octo_sandbox_bind){"/nonexistent-octo-src", "/x", false};
    s.binds_count = 1;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SETUP_ERROR);
    CHECK(strstr(r.setup_error, "bind 0") != NULL);
}

static void test_probe(void)
{
    struct octo_sandbox_features f;
    CHECK_OK(octo_sandbox_probe(&f));
    CHECK(f.user_ns && f.mount_ns && f.pid_ns && f.net_ns && f.ipc_ns && f.uts_ns && f.cgroup_ns);
    CHECK(f.cgroup_version == 1 || f.cgroup_version == 2);
    CHECK(f.cgroup_memory && f.cgroup_pids);
    CHECK(f.seccomp);
    CHECK(f.cgroup_base[0] == '/');
    printf("  probe: cgroup v%d base=%s cpu=%d landlock=%d oci='%s' tpm=%d clone_into=%d\n",
           f.cgroup_version, f.cgroup_base, f.cgroup_cpu, f.landlock_abi, f.oci_runtime, f.tpm,
           f.clone_into_cgroup);
}

static void test_cpu_quota(void)
{
    static const char *const argv[] = {"/bin/true", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.limits.cpu_pct = 50;
    CHECK_OK(run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_cold_start_timing(void)
{
    static const char *const argv[] = {"/bin/true", NULL};
    uint64_t t[20];
    for (size_t i = 0; i < 20; i++) {
        struct octo_sandbox_spec s;
        struct octo_sandbox_result r;
        spec_init(&s, argv);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK_OK(octo_sandbox_run(&s, &r));
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
        t[i] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
               (uint64_t)a.tv_nsec;
    }
    qsort(t, 20, sizeof(t[0]), cmp_u64);
    printf("  cold start /bin/true: median %.2f ms, min %.2f ms, max %.2f ms\n",
           (double)(t[9] + t[10]) / 2e6, (double)t[0] / 1e6, (double)t[19] / 1e6);
    CHECK_EQ_INT(leftover_cgroups(), 0);
}

int main(void)
{
    OCTO_RUN(test_bad_specs);
    OCTO_RUN(test_true_false);
    OCTO_RUN(test_echo_output);
    OCTO_RUN(test_stdin_fed);
    OCTO_RUN(test_stdin_large);
    OCTO_RUN(test_stdin_unread);
    OCTO_RUN(test_stdin_feed);
    OCTO_RUN(test_env_scrubbed);
    OCTO_RUN(test_identity_and_fs);
    OCTO_RUN(test_oom);
    OCTO_RUN(test_pids);
    OCTO_RUN(test_timeout);
    OCTO_RUN(test_cancel_fd);
    OCTO_RUN(test_output_cap);
    OCTO_RUN(test_seccomp_kill);
    OCTO_RUN(test_seccomp_errno);
    OCTO_RUN(test_loopback);
    OCTO_RUN(test_fsize);
    OCTO_RUN(test_tmp_size);
    OCTO_RUN(test_bad_program);
    OCTO_RUN(test_binds);
    OCTO_RUN(test_bind_symlink_refused);
    OCTO_RUN(test_signals_default);
    OCTO_RUN(test_cpu_quota);
    OCTO_RUN(test_probe);
    OCTO_RUN(test_cold_start_timing);
    return octo_test_finish();
}
