/*
 * escape.c — the sandbox escape and limits suite (EXECUTION.md §5): `escape CASE PROBE` runs
 * the probe program (probe.c) inside octo_sandbox_run with the case's limits and binds, and
 * checks that the attempt was contained and classified as expected — the exit status, the
 * errno the probe saw, the signal, the outcome the supervisor reported. ctest registers one test
 * per case (tests/exec/CMakeLists.txt reads the `.name = "..."` entries of the table below), so
 * each attempt is a separate test.
 *
 * Expectation kinds:
 *   TOKEN    the probe exited 0 and printed "<probe>: <token>", token one of want ("A|B");
 *   BLOCKED  the call was refused: the filter killed the probe (SIGSYS) or it saw one of want
 *            (default "EPERM|EACCES|ENOSYS") — the try-syscall idea: an allowed call with a bad
 *            fd or pointer would fail harmlessly with EBADF/EFAULT instead;
 *   KILLED   the seccomp filter killed the probe (outcome seccomp, SIGSYS);
 *   OUTCOME  the supervisor classified the run as `outcome` (and exit code / signal `code`).
 * A case may add a check function (namespace ids differ from ours, the wall time of a timeout,
 * host files untouched after a symlink attack, a host process alive after `kill -9 -1`).
 *
 * The probe's directory is bound read-only at /probe. Fixtures (a writable directory for the
 * symlink cases) live under /tmp, world-traversable, because the sandbox's mapped root must be
 * able to reach the bind source.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "exec/sandbox.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ESCAPE_OUT_MAX 65536
#define ESCAPE_FLOOD_CAP 100000u
#define ESCAPE_BLOCKED_ERRNOS "EPERM|EACCES|ENOSYS"

enum expect { TOKEN, BLOCKED, KILLED, OUTCOME };

struct run {
    char out[ESCAPE_OUT_MAX]; /* stdout as delivered (truncated to ESCAPE_OUT_MAX - 1) */
    size_t out_len;
    uint64_t out_total, err_total; /* bytes delivered through on_output */
    int rc;
    struct octo_sandbox_result res;
};

struct fixture {
    char dir[64];       /* writable bind source, or "" */
    int host_fd;        /* a descriptor left open without CLOEXEC, or -1 */
    pid_t host_child;   /* a host process that must survive, or 0 */
    char cwd[64];       /* spec.cwd, or "" */
    struct stat shadow; /* /etc/shadow before the run */
    bool shadow_present;
};

struct escape_case {
    const char *name;
    const char *probe; /* probe case; NULL = name */
    enum expect kind;
    const char *want;                  /* TOKEN / BLOCKED: accepted tokens */
    enum octo_sandbox_outcome outcome; /* OUTCOME */
    int code;                          /* OUTCOME: exit code (EXITED) or signal */
    void (*setup)(struct octo_sandbox_spec *spec, struct fixture *fx);
    void (*check)(const struct run *r, const struct fixture *fx);
};

static char g_probe_dir[OCTO_SANDBOX_PATH_MAX];
static const char *g_probe_path = "/probe/escape_probe";
static const struct escape_case *g_case;
static struct run g_run;

/* --- setups --- */

static void setup_mem(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.mem_bytes = UINT64_C(64) << 20;
}

static void setup_pids(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.pids = 16;
}

static void setup_wall_1s(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.wall_ms = 1000;
}

static void setup_cpu_half(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.cpu_pct = 50;
}

static void setup_flood(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.output_bytes = ESCAPE_FLOOD_CAP;
}

static void setup_fsize(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.fsize_bytes = UINT64_C(4) << 20;
}

static void setup_tmp(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.tmp_bytes = UINT64_C(8) << 20;
}

static void setup_nofile(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->limits.nofile = 32;
}

static void setup_loopback(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    s->net = OCTO_SANDBOX_NET_LOOPBACK;
}

static void setup_stdin(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)fx;
    static const char data[] = "octo-stdin-canary";
    s->stdin_data = (const uint8_t *)data;
    s->stdin_len = sizeof(data) - 1;
}

static void setup_env(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)s;
    (void)fx;
    OCTO_ASSERT(setenv("OCTO_ESCAPE_CANARY", "secret", 1) == 0);
}

/* A host descriptor left open without CLOEXEC: the runner must not pass it on. */
static void setup_leak_fd(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)s;
    fx->host_fd = open("/", O_RDONLY | O_DIRECTORY); /* no O_CLOEXEC on purpose */
    OCTO_ASSERT(fx->host_fd >= 0);
}

/* CVE-2024-21626: the working directory names a leaked host directory descriptor. */
static void setup_cwd_leak(struct octo_sandbox_spec *s, struct fixture *fx)
{
    setup_leak_fd(s, fx);
    snprintf(fx->cwd, sizeof(fx->cwd), "/proc/self/fd/%d", fx->host_fd);
    s->cwd = fx->cwd;
}

/* A world-writable host directory bound at /data holding symlinks to /etc/shadow and /etc. */
static void setup_symlinks(struct octo_sandbox_spec *s, struct fixture *fx)
{
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/octo-escape-XXXXXX");
    OCTO_ASSERT(mkdtemp(fx->dir) != NULL);
    OCTO_ASSERT(chmod(fx->dir, 0777) == 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/link", fx->dir);
    OCTO_ASSERT(symlink("/etc/shadow", path) == 0);
    snprintf(path, sizeof(path), "%s/dirlink", fx->dir);
    OCTO_ASSERT(symlink("/etc", path) == 0);
    fx->shadow_present = stat("/etc/shadow", &fx->shadow) == 0;
    s->binds[s->binds_count++] = (struct octo_sandbox_bind){fx->dir, "/data", true};
}

/* A host process the sandbox's `kill -9 -1` must not reach. */
static void setup_host_child(struct octo_sandbox_spec *s, struct fixture *fx)
{
    (void)s;
    fx->host_child = fork();
    OCTO_ASSERT(fx->host_child >= 0);
    if (fx->host_child == 0) {
        alarm(60);
        for (;;)
            pause();
    }
}

/* --- checks --- */

static void check_ns(const struct run *r, const struct fixture *fx)
{
    (void)fx;
    static const char *const names[] = {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(names); i++) {
        char path[64], ours[128], key[32];
        snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
        ssize_t n = readlink(path, ours, sizeof(ours) - 1);
        CHECK(n > 0);
        ours[n] = '\0';
        snprintf(key, sizeof(key), "ns %s ", names[i]);
        const char *line = strstr(r->out, key);
        if (line == NULL) {
            octo_test_fail_at(__FILE__, __LINE__, "no '%s' line in: %s", key, r->out);
            return;
        }
        line += strlen(key);
        size_t len = strcspn(line, "\n");
        CHECK(len > 0);
        if (len == strlen(ours) && strncmp(line, ours, len) == 0) {
            octo_test_fail_at(__FILE__, __LINE__, "namespace %s shared with the host: %s", names[i],
                              ours);
            return;
        }
        CHECK(line[0] != 'E'); /* an errno name: the link could not be read */
    }
}

static void check_timeout_wall(const struct run *r, const struct fixture *fx)
{
    (void)fx;
    CHECK(r->res.wall_ns >= UINT64_C(900000000));
    CHECK(r->res.wall_ns < UINT64_C(5000000000));
}

static void check_quota(const struct run *r, const struct fixture *fx)
{
    (void)fx;
    const char *p = strstr(r->out, "wall_ms=");
    CHECK(p != NULL);
    unsigned long ms = strtoul(p + 8, NULL, 10);
    if (ms < 700) { /* 400 ms of CPU at 50 % of a core takes >= 800 ms of wall time */
        octo_test_fail_at(__FILE__, __LINE__, "400 ms CPU in %lu ms wall: no quota", ms);
        return;
    }
}

static void check_flood(const struct run *r, const struct fixture *fx)
{
    (void)fx;
    CHECK(r->out_total + r->err_total <= ESCAPE_FLOOD_CAP);
    CHECK(r->res.stdout_bytes <= ESCAPE_FLOOD_CAP);
    CHECK(r->res.stderr_bytes <= ESCAPE_FLOOD_CAP);
    CHECK(r->out_total + r->err_total > 0);
}

static void check_host_child(const struct run *r, const struct fixture *fx)
{
    (void)r;
    CHECK(fx->host_child > 0);
    CHECK_EQ_INT(kill(fx->host_child, 0), 0);
    int st;
    CHECK_EQ_INT(waitpid(fx->host_child, &st, WNOHANG), 0); /* still running */
}

static void check_symlinks(const struct run *r, const struct fixture *fx)
{
    (void)r;
    struct stat st;
    CHECK(stat("/etc/octo-escape-file", &st) < 0);
    CHECK_EQ_INT(errno, ENOENT);
    if (fx->shadow_present) {
        CHECK_EQ_INT(stat("/etc/shadow", &st), 0);
        CHECK_EQ_U64(st.st_size, fx->shadow.st_size);
        CHECK_EQ_U64(st.st_mtim.tv_sec, fx->shadow.st_mtim.tv_sec);
        CHECK_EQ_U64(st.st_mtim.tv_nsec, fx->shadow.st_mtim.tv_nsec);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/mylink", fx->dir); /* the sandbox's own symlink */
    CHECK_EQ_INT(lstat(path, &st), 0);
    CHECK(S_ISLNK(st.st_mode));
}

/* The leaked-cwd attack is contained if the runner refuses the spec, fails closed at setup, or
 * runs the probe with a working directory inside the new root. */
static bool cwd_leak_contained(const struct run *r)
{
    if (r->rc == OCTO_EINVAL)
        return true;
    if (r->rc != 0)
        return false;
    if (r->res.outcome == OCTO_SANDBOX_SETUP_ERROR)
        return true;
    const char *p = strstr(r->out, "cwd: cwd=/");
    return r->res.outcome == OCTO_SANDBOX_EXITED && p != NULL &&
           strstr(r->out, "unreachable") == NULL && strstr(r->out, "/work") == NULL;
}

/* --- the catalogue --- */

static const struct escape_case cases[] = {
    /* filesystem */
    {.name = "host_files", .kind = TOKEN, .want = "ENOENT"},
    {.name = "write_usr", .kind = TOKEN, .want = "EROFS"},
    {.name = "mkdir_root", .kind = TOKEN, .want = "EROFS"},
    {.name = "write_probe_dir", .kind = TOKEN, .want = "EROFS"},
    {.name = "proc_sys", .kind = TOKEN, .want = "EROFS|EACCES"},
    {.name = "proc_sysrq", .kind = TOKEN, .want = "EROFS|EACCES|ENOENT"},
    {.name = "proc_exe", .kind = TOKEN, .want = "ETXTBSY|EROFS|EACCES"},
    {.name = "dev_minimal", .kind = TOKEN, .want = "dev=minimal"},
    {.name = "mknod", .kind = TOKEN, .want = "EPERM"},
    {.name = "tmp_full", .kind = TOKEN, .want = "ENOSPC", .setup = setup_tmp},
    {.name = "fsize",
     .kind = OUTCOME,
     .outcome = OCTO_SANDBOX_FSIZE,
     .code = SIGXFSZ,
     .setup = setup_fsize},
    {.name = "nofile", .kind = TOKEN, .want = "EMFILE", .setup = setup_nofile},
    {.name = "symlink",
     .kind = TOKEN,
     .want = "denied read=ENOENT",
     .setup = setup_symlinks,
     .check = check_symlinks},
    {.name = "proc_root", .kind = TOKEN, .want = "denied root=/"},
    {.name = "fd_targets", .kind = TOKEN, .want = "cwd=/tmp fds=ok", .setup = setup_leak_fd},
    {.name = "cwd_leak", .probe = "cwd", .kind = OUTCOME, .setup = setup_cwd_leak},
    {.name = "fds", .kind = TOKEN, .want = "fds=0,1,2", .setup = setup_leak_fd},
    {.name = "mounts", .kind = TOKEN, .want = "root=ro usr=ro proc=nosuid,nodev,noexec tmp=tmpfs"},
    /* identity, capabilities, filters */
    {.name = "setuid0", .kind = TOKEN, .want = "EPERM"},
    {.name = "setgid0", .kind = TOKEN, .want = "EPERM"},
    {.name = "uid", .kind = TOKEN, .want = "uid=1000 gid=1000"},
    {.name = "caps", .kind = TOKEN, .want = "caps=0"},
    {.name = "threads_filtered", .kind = TOKEN, .want = "threads=3 nnp1_seccomp2=3"},
    {.name = "sethostname", .kind = TOKEN, .want = "EPERM"},
    {.name = "rlimit_raise", .kind = TOKEN, .want = "EPERM"},
    {.name = "env", .kind = TOKEN, .want = "env=clean", .setup = setup_env},
    /* namespaces, cgroups, network */
    {.name = "ns", .kind = TOKEN, .want = "ns listed", .check = check_ns},
    {.name = "cgroup_ns", .kind = TOKEN, .want = "cgroup=/"},
    {.name = "procs", .kind = TOKEN, .want = "procs=few"},
    {.name = "kill_all",
     .kind = TOKEN,
     .want = "child-killed self-alive",
     .setup = setup_host_child,
     .check = check_host_child},
    {.name = "netdev", .kind = TOKEN, .want = "netdevs=lo"},
    {.name = "netdev_loopback",
     .probe = "netdev",
     .kind = TOKEN,
     .want = "netdevs=lo",
     .setup = setup_loopback},
    {.name = "lo_down", .probe = "lo_state", .kind = TOKEN, .want = "lo=down"},
    {.name = "lo_up_loopback",
     .probe = "lo_state",
     .kind = TOKEN,
     .want = "lo=up",
     .setup = setup_loopback},
    {.name = "inet_socket", .kind = BLOCKED, .want = "EPERM|EACCES|EAFNOSUPPORT"},
    {.name = "inet6_socket", .kind = BLOCKED, .want = "EPERM|EACCES|EAFNOSUPPORT"},
    {.name = "netlink_socket", .kind = BLOCKED, .want = "EPERM|EACCES|EAFNOSUPPORT"},
    {.name = "unix_socketpair", .kind = TOKEN, .want = "ok"},
    /* the never-list: killed by the filter */
    {.name = "ptrace", .kind = KILLED},
    {.name = "mount", .kind = KILLED},
    {.name = "umount", .kind = KILLED},
    {.name = "unshare", .kind = KILLED},
    {.name = "setns", .kind = KILLED},
    {.name = "bpf", .kind = KILLED},
    {.name = "io_uring", .kind = KILLED},
    {.name = "keyctl", .kind = KILLED},
    {.name = "add_key", .kind = KILLED},
    {.name = "request_key", .kind = KILLED},
    {.name = "perf_event_open", .kind = KILLED},
    {.name = "userfaultfd", .kind = KILLED},
    {.name = "process_vm_readv", .kind = KILLED},
    {.name = "kexec_load", .kind = KILLED},
    {.name = "finit_module", .kind = KILLED},
    {.name = "chroot", .kind = KILLED},
    {.name = "pivot_root", .kind = KILLED},
    {.name = "open_by_handle_at", .kind = KILLED},
    /* try-syscall: allowed calls fail harmlessly, unlisted ones get the filter's errno */
    {.name = "try_read_badfd", .kind = TOKEN, .want = "EBADF"},
    {.name = "try_fstat_badfd", .kind = TOKEN, .want = "EBADF"},
    {.name = "try_fsconfig", .kind = BLOCKED},
    {.name = "try_move_mount", .kind = BLOCKED},
    {.name = "try_quotactl_fd", .kind = BLOCKED},
    {.name = "try_fanotify_mark", .kind = BLOCKED},
    {.name = "clone3", .kind = TOKEN, .want = "ENOSYS"},
    {.name = "clone_newuser", .kind = BLOCKED},
    {.name = "tiocsti", .kind = BLOCKED, .want = "EPERM|EACCES"},
    {.name = "tiocsti64", .kind = BLOCKED, .want = "EPERM|EACCES"},
    {.name = "x32_abi", .kind = BLOCKED},
    {.name = "i386_abi", .kind = BLOCKED},
    /* limits */
    {.name = "fork_bomb", .kind = OUTCOME, .outcome = OCTO_SANDBOX_PIDS, .setup = setup_pids},
    {.name = "mem_bomb", .kind = OUTCOME, .outcome = OCTO_SANDBOX_OOM, .setup = setup_mem},
    {.name = "cpu_spin",
     .kind = OUTCOME,
     .outcome = OCTO_SANDBOX_TIMEOUT,
     .setup = setup_wall_1s,
     .check = check_timeout_wall},
    {.name = "cpu_quota",
     .kind = TOKEN,
     .want = NULL,
     .setup = setup_cpu_half,
     .check = check_quota},
    {.name = "output_flood",
     .kind = OUTCOME,
     .outcome = OCTO_SANDBOX_OUTPUT,
     .setup = setup_flood,
     .check = check_flood},
    {.name = "stderr_flood",
     .kind = OUTCOME,
     .outcome = OCTO_SANDBOX_OUTPUT,
     .setup = setup_flood,
     .check = check_flood},
    /* plain outcomes */
    {.name = "exit42", .kind = OUTCOME, .outcome = OCTO_SANDBOX_EXITED, .code = 42},
    {.name = "sigterm", .kind = OUTCOME, .outcome = OCTO_SANDBOX_SIGNALED, .code = SIGTERM},
    {.name = "trap", .kind = OUTCOME, .outcome = OCTO_SANDBOX_SIGNALED, .code = SIGILL},
    {.name = "stdin", .kind = TOKEN, .want = "stdin=octo-stdin-canary", .setup = setup_stdin},
};

/* --- running --- */

static void on_output(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct run *r = ctx;
    if (stream == 1) {
        r->out_total += len;
        size_t room = sizeof(r->out) - 1 - r->out_len;
        size_t n = len < room ? len : room;
        memcpy(r->out + r->out_len, data, n);
        r->out_len += n;
        r->out[r->out_len] = '\0';
    } else {
        r->err_total += len;
    }
}

/* True if the probe printed exactly "<probe>: <token>" for one of the '|'-separated tokens. */
static bool has_token(const char *out, const char *probe, const char *want)
{
    char line[512];
    for (const char *w = want; w != NULL && *w != '\0';) {
        size_t n = strcspn(w, "|");
        snprintf(line, sizeof(line), "%s: %.*s\n", probe, (int)n, w);
        for (const char *hit = strstr(out, line); hit != NULL; hit = strstr(hit + 1, line)) {
            if (hit == out || hit[-1] == '\n')
                return true;
        }
        w += n;
        if (*w == '|')
            w++;
    }
    return false;
}

static void describe(const struct run *r)
{
    fprintf(stderr,
            "  rc %d outcome %s exit %d signal %d wall %.3f s stdout %" PRIu64 " stderr %" PRIu64
            "\n",
            r->rc, octo_sandbox_outcome_name(r->res.outcome), r->res.exit_code, r->res.signal,
            (double)r->res.wall_ns / 1e9, r->out_total, r->err_total);
    if (r->res.outcome == OCTO_SANDBOX_SETUP_ERROR)
        fprintf(stderr, "  setup error: %s\n", r->res.setup_error);
    fprintf(stderr, "  stdout: %.400s\n", r->out);
}

static void check_expectation(const struct escape_case *c, const struct run *r)
{
    const char *probe = c->probe != NULL ? c->probe : c->name;
    CHECK_OK(r->rc);
    switch (c->kind) {
    case TOKEN:
        CHECK_STR(octo_sandbox_outcome_name(r->res.outcome), "exited");
        CHECK_EQ_INT(r->res.exit_code, 0);
        if (c->want != NULL && !has_token(r->out, probe, c->want)) {
            octo_test_fail_at(__FILE__, __LINE__, "want '%s: %s'", probe, c->want);
            return;
        }
        break;
    case BLOCKED:
        if (r->res.outcome == OCTO_SANDBOX_SECCOMP) {
            CHECK_EQ_INT(r->res.signal, SIGSYS);
            break;
        }
        CHECK_STR(octo_sandbox_outcome_name(r->res.outcome), "exited");
        if (!has_token(r->out, probe, c->want != NULL ? c->want : ESCAPE_BLOCKED_ERRNOS)) {
            octo_test_fail_at(__FILE__, __LINE__, "not blocked: want a seccomp kill or '%s: %s'",
                              probe, c->want != NULL ? c->want : ESCAPE_BLOCKED_ERRNOS);
            return;
        }
        break;
    case KILLED:
        CHECK_STR(octo_sandbox_outcome_name(r->res.outcome), "seccomp");
        CHECK_EQ_INT(r->res.signal, SIGSYS);
        break;
    case OUTCOME:
        CHECK_STR(octo_sandbox_outcome_name(r->res.outcome), octo_sandbox_outcome_name(c->outcome));
        if (c->outcome == OCTO_SANDBOX_EXITED)
            CHECK_EQ_INT(r->res.exit_code, c->code);
        else if (c->code != 0)
            CHECK_EQ_INT(r->res.signal, c->code);
        break;
    }
}

static void cleanup(struct fixture *fx)
{
    if (fx->host_fd >= 0)
        close(fx->host_fd);
    if (fx->host_child > 0) {
        kill(fx->host_child, SIGKILL);
        OCTO_IGNORE(waitpid(fx->host_child, NULL, 0));
    }
    if (fx->dir[0] != '\0')
        octo_test_rmtree(fx->dir);
    unlink("/etc/octo-escape-file"); /* only if an escape created it */
    unsetenv("OCTO_ESCAPE_CANARY");
}

static void run_case(void)
{
    const struct escape_case *c = g_case;
    struct fixture fx = {.host_fd = -1};
    const char *argv[] = {g_probe_path, c->probe != NULL ? c->probe : c->name, NULL};
    struct octo_sandbox_spec spec = {
        .argv = argv,
        .on_output = on_output,
        .ctx = &g_run,
    };
    spec.binds[spec.binds_count++] = (struct octo_sandbox_bind){g_probe_dir, "/probe", false};
    spec.limits.wall_ms = 20000;
    if (c->setup != NULL)
        c->setup(&spec, &fx);
    memset(&g_run, 0, sizeof(g_run));
    g_run.rc = octo_sandbox_run(&spec, &g_run.res);
    describe(&g_run);
    if (strcmp(c->name, "cwd_leak") == 0) {
        if (!cwd_leak_contained(&g_run))
            octo_test_fail_at(__FILE__, __LINE__, "leaked cwd not contained");
    } else {
        check_expectation(c, &g_run);
    }
    if (!octo_test_failed && c->check != NULL)
        c->check(&g_run, &fx);
    cleanup(&fx);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < OCTO_ARRAY_LEN(cases); i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: escape CASE PROBE-PATH | escape --list\n");
        return 2;
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(cases); i++) {
        if (strcmp(cases[i].name, argv[1]) == 0)
            g_case = &cases[i];
    }
    if (g_case == NULL) {
        fprintf(stderr, "escape: unknown case '%s'\n", argv[1]);
        return 2;
    }
    if (argv[2][0] != '/' || strlen(argv[2]) >= sizeof(g_probe_dir)) {
        fprintf(stderr, "escape: the probe path must be absolute\n");
        return 2;
    }
    memcpy(g_probe_dir, argv[2], strlen(argv[2]) + 1);
    char *slash = strrchr(g_probe_dir, '/');
    if (slash == g_probe_dir || strcmp(slash + 1, "escape_probe") != 0) {
        fprintf(stderr, "escape: the probe must be /DIR/escape_probe\n");
        return 2;
    }
    *slash = '\0';
    octo_test_run(g_case->name, run_case);
    return octo_test_finish();
}
