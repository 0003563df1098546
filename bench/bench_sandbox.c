/*
 * bench_sandbox.c — what a sandboxed task start costs (EXECUTION.md §3), all measured in the
 * same run so that machine load affects every row alike:
 *   true      plain fork + execve of /bin/true (the floor);
 *   bwrap     `bwrap --unshare-all --ro-bind / / true` (Debian's bubblewrap, the reference);
 *   cold      octo_sandbox_run of /bin/true (7 namespaces, pivot_root, cgroups, seccomp);
 *   warm      octo_sandbox_pool_run of /bin/true on a pool of POOL_SIZE prepared sandboxes (the
 *             same work as cold minus what the pool prepares ahead: clone, maps, cgroup,
 *             mounts, pivot_root); before each timed start the pool is refilled, untimed — a
 *             pool that keeps up with its load, which is what it is sized for;
 *   started   octo_sandbox_pool_run on a started pool (octo_sandbox_pool_init_started): the
 *             command, /bin/cat, already runs in each prepared sandbox, blocked on its stdin;
 *             a start is its task: 16 bytes in, echoed, EOF, exit, status, cgroup counters. This
 *             is the pool for a fixed engine (the Privacy Containers' worker, a model server);
 *   cat       plain fork + execve of /bin/cat with the same 16 bytes through a pipe (the floor
 *             of the started row's work without any sandbox);
 *   crun      `crun run` of a prepared OCI bundle (/usr bound read-only, same namespaces, memory
 *             and pids limits in a cgroup nested under ours).
 * Figures: median (p50) and p90 wall time per start in ms, and the ratios cold/bwrap and
 * warm/bwrap and started/bwrap (targets: cold <= 1, warm <= 0.1; a warm start that still has
 * to fork and exec its command cannot beat the `true` row, the started row does not exec). Rows
 * whose tool is missing print "n/a". These 2-vCPU machines are noisy: read medians, repeat runs.
 * --quick: 15 samples per row.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "bench.h"
#include "exec/pool.h"
#include "exec/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SAMPLES_FULL 60
#define SAMPLES_QUICK 15
#define WARMUP 2
#define POOL_SIZE 4
#define POOL_REFILL_MS 20000

struct row {
    const char *name;
    bool available;
    const char *why; /* when not available */
    double p50_ms, p90_ms;
};

static char g_bundle[64];
static struct octo_sandbox_pool g_pool;
static struct octo_sandbox_pool g_started;
static const char *const g_cat[] = {"/bin/cat", NULL};
static const uint8_t g_input[16] = "sixteen bytes..\n";
static unsigned g_crun_seq;

/* fork + execve of argv with stdio on /dev/null; returns the exit status or -1. */
static int spawn_wait(const char *const *argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        char *const *args;
        memcpy(&args, &argv, sizeof(args)); /* execv does not write argv */
        execv(argv[0], args);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_true(void)
{
    const char *argv[] = {"/bin/true", NULL};
    return spawn_wait(argv);
}

static int run_bwrap(void)
{
    const char *argv[] = {"/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/", "/", "true", NULL};
    return spawn_wait(argv);
}

static int run_cold(void)
{
    const char *argv[] = {"/bin/true", NULL};
    struct octo_sandbox_spec spec = {.argv = argv};
    struct octo_sandbox_result r;
    if (octo_sandbox_run(&spec, &r) != 0 || r.outcome != OCTO_SANDBOX_EXITED)
        return -1;
    return r.exit_code;
}

static int run_warm(void)
{
    const char *argv[] = {"/bin/true", NULL};
    struct octo_sandbox_spec spec = {.argv = argv};
    struct octo_sandbox_result r;
    if (octo_sandbox_pool_run(&g_pool, &spec, &r) != 0 || r.outcome != OCTO_SANDBOX_EXITED)
        return -1;
    return r.exit_code;
}

/* Time to the started command's first output byte (its input read and answered), per start:
 * how soon a task begins, as opposed to the whole run up to its exit status. */
#define FIRST_BYTE_MAX 256
static uint64_t g_first_byte[FIRST_BYTE_MAX];
static size_t g_first_byte_n;
static uint64_t g_run_t0, g_run_first;

static void on_started_output(void *ctx, int stream, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)stream;
    (void)data;
    if (len > 0 && g_run_first == 0)
        g_run_first = octo_bench_now_ns();
}

static int run_started(void)
{
    struct octo_sandbox_spec spec = {
        .argv = g_cat, .stdin_data = g_input, .stdin_len = 16, .on_output = on_started_output};
    struct octo_sandbox_result r;
    g_run_first = 0;
    g_run_t0 = octo_bench_now_ns();
    if (octo_sandbox_pool_run(&g_started, &spec, &r) != 0 || r.outcome != OCTO_SANDBOX_EXITED ||
        r.stdout_bytes != 16)
        return -1;
    if (g_first_byte_n < FIRST_BYTE_MAX)
        g_first_byte[g_first_byte_n++] = g_run_first - g_run_t0;
    return r.exit_code;
}

static void refill_started(void)
{
    if (octo_sandbox_pool_wait_full(&g_started, POOL_REFILL_MS) != 0)
        fprintf(stderr, "bench_sandbox: the started pool did not refill in time\n");
}

/* fork + execve of /bin/cat, 16 bytes in through a pipe, its output read back. */
static int run_cat(void)
{
    int in[2], out[2];
    if (pipe(in) != 0)
        return -1;
    if (pipe(out) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
            _exit(127);
        close(in[1]);
        close(out[0]);
        char *const *args;
        memcpy(&args, &(const char *const *){g_cat}, sizeof(args));
        execv(g_cat[0], args);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    ssize_t w = write(in[1], g_input, sizeof(g_input));
    close(in[1]);
    uint8_t buf[64];
    ssize_t got = 0, n;
    while ((n = read(out[0], buf, sizeof(buf))) > 0)
        got += n;
    close(out[0]);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || w != 16 || got != 16)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Untimed, before each warm start: the pool is full again. */
static void refill_warm(void)
{
    if (octo_sandbox_pool_wait_full(&g_pool, POOL_REFILL_MS) != 0)
        fprintf(stderr, "bench_sandbox: the pool did not refill in time\n");
}

static int run_crun(void)
{
    char id[64];
    snprintf(id, sizeof(id), "octo-bench-%ld-%u", (long)getpid(), g_crun_seq++);
    const char *argv[] = {"/usr/bin/crun", "run", "--bundle", g_bundle, id, NULL};
    return spawn_wait(argv);
}

/* Our own memory cgroup (v1) or unified path, so the containers nest under it. */
static void own_cgroup(char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *path = strrchr(line, ':');
        bool memory = strstr(line, ":memory:") != NULL;
        if (path != NULL && (memory || (strncmp(line, "0::", 3) == 0 && out[0] == '\0')) &&
            strlen(path + 1) < size)
            snprintf(out, size, "%s", strcmp(path + 1, "/") == 0 ? "" : path + 1);
    }
    fclose(f);
}

/* A bundle running /usr/bin/true: read-only rootfs with /usr bound in, fresh /proc, pid, net,
 * ipc, uts, mount and cgroup namespaces, memory and pids limits, no capabilities. */
static bool prepare_bundle(void)
{
    snprintf(g_bundle, sizeof(g_bundle), "/tmp/octo-bench-XXXXXX");
    if (mkdtemp(g_bundle) == NULL)
        return false;
    static const char *const dirs[] = {"rootfs", "rootfs/usr", "rootfs/proc", "rootfs/tmp",
                                       "rootfs/dev"};
    char path[128];
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", g_bundle, dirs[i]);
        if (mkdir(path, 0755) < 0)
            return false;
    }
    snprintf(path, sizeof(path), "%s/rootfs/lib64", g_bundle);
    if (symlink("usr/lib64", path) < 0)
        return false;
    snprintf(path, sizeof(path), "%s/rootfs/lib", g_bundle);
    if (symlink("usr/lib", path) < 0)
        return false;
    char cg[256];
    own_cgroup(cg, sizeof(cg));
    snprintf(path, sizeof(path), "%s/config.json", g_bundle);
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return false;
    fprintf(f,
            "{\"ociVersion\":\"1.0.2\",\"hostname\":\"bench\","
            "\"process\":{\"terminal\":false,\"user\":{\"uid\":65534,\"gid\":65534},"
            "\"args\":[\"/usr/bin/true\"],\"env\":[\"PATH=/usr/bin\"],\"cwd\":\"/\","
            "\"noNewPrivileges\":true,\"capabilities\":{\"bounding\":[],\"effective\":[],"
            "\"permitted\":[],\"inheritable\":[],\"ambient\":[]}},"
            "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
            "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
            "{\"destination\":\"/usr\",\"type\":\"bind\",\"source\":\"/usr\","
            "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]}],"
            "\"linux\":{\"cgroupsPath\":\"%s/octo-bench-%ld\","
            "\"resources\":{\"memory\":{\"limit\":268435456},\"pids\":{\"limit\":64}},"
            "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
            "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}]}}\n",
            cg, (long)getpid());
    return fclose(f) == 0;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void remove_bundle(void)
{
    if (nftw(g_bundle, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bench_sandbox: cannot remove %s\n", g_bundle);
}

/* crun 1.8 refuses hybrid cgroup hosts like this build machine (hugetlb on the unified
 * hierarchy): before the crun row only, move this process into a private mount namespace
 * with /sys/fs/cgroup/unified detached (the rows before it are already measured). */
static bool hide_unified_hierarchy(void)
{
    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
        return true; /* pure v2: nothing to hide */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return false;
    if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return false;
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Times n starts of fn (after WARMUP untimed ones; prep, if any, runs untimed before each);
 * fills p50/p90, or marks the row unavailable when a start fails. */
static void measure(struct row *r, int (*fn)(void), void (*prep)(void), size_t n)
{
    for (int i = 0; i < WARMUP; i++) {
        if (prep != NULL)
            prep();
        if (fn() != 0) {
            r->available = false;
            r->why = "a start failed";
            return;
        }
    }
    uint64_t *t = octo_calloc(n, sizeof(*t));
    if (t == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (prep != NULL)
            prep();
        uint64_t t0 = octo_bench_now_ns();
        int rc = fn();
        t[i] = octo_bench_now_ns() - t0;
        if (rc != 0) {
            r->available = false;
            r->why = "a start failed";
            octo_free(t);
            return;
        }
    }
    qsort(t, n, sizeof(*t), cmp_u64);
    r->p50_ms = (double)t[n / 2] / 1e6;
    r->p90_ms = (double)t[n * 9 / 10] / 1e6;
    octo_free(t);
}

static void print_row(const struct octo_bench *b, const struct row *r, size_t n)
{
    char metric[64], params[64];
    snprintf(params, sizeof(params), "\"samples\":%zu", n);
    if (!r->available) {
        if (b->json)
            printf("{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":null,\"note\":\"%s\"}\n", b->name,
                   r->name, r->why);
        else
            printf("  %-42s %14s  (%s)\n", r->name, "n/a", r->why);
        return;
    }
    snprintf(metric, sizeof(metric), "%s_p50", r->name);
    octo_bench_report(b, metric, r->p50_ms, "ms", params);
    snprintf(metric, sizeof(metric), "%s_p90", r->name);
    octo_bench_report(b, metric, r->p90_ms, "ms", params);
}

static void print_ratio(const struct octo_bench *b, const char *metric, const struct row *ours,
                        const struct row *ref)
{
    if (ours->available && ref->available && ref->p50_ms > 0) {
        octo_bench_report(b, metric, ours->p50_ms / ref->p50_ms, "x", NULL);
    } else if (b->json) {
        printf("{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":null}\n", b->name, metric);
    } else {
        printf("  %-42s %14s\n", metric, "n/a");
    }
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "sandbox", argc, argv);
    size_t n = b.quick ? SAMPLES_QUICK : SAMPLES_FULL;
    struct row rows[] = {
        {"true_fork_exec", true, NULL, 0, 0},
        {"bwrap_unshare_all", access("/usr/bin/bwrap", X_OK) == 0, "bwrap not installed", 0, 0},
        {"octo_sandbox_cold", true, NULL, 0, 0},
        {"octo_sandbox_warm", true, NULL, 0, 0},
        {"octo_sandbox_started_cat_16B", true, NULL, 0, 0},
        {"cat_fork_exec_16B", true, NULL, 0, 0},
        {"crun_run", access("/usr/bin/crun", X_OK) == 0, "crun not installed", 0, 0},
    };
    int (*fns[])(void) = {run_true, run_bwrap, run_cold, run_warm, run_started, run_cat, run_crun};
    void (*preps[])(void) = {NULL, NULL, NULL, refill_warm, refill_started, NULL, NULL};
    struct octo_sandbox_spec pool_template = {.argv = NULL};
    int pool_rc = octo_sandbox_pool_init(&g_pool, POOL_SIZE, &pool_template);
    if (pool_rc != 0) {
        rows[3].available = false;
        rows[3].why = "the warm pool cannot start here";
        fprintf(stderr, "bench_sandbox: pool: %s (%s)\n", octo_strerror(pool_rc), g_pool.reason);
    }
    struct octo_sandbox_spec started_template = {.argv = g_cat};
    int started_rc = octo_sandbox_pool_init_started(&g_started, POOL_SIZE, &started_template);
    if (started_rc != 0) {
        rows[4].available = false;
        rows[4].why = "the started pool cannot start here";
    }
    if (rows[6].available && !prepare_bundle()) {
        rows[6].available = false;
        rows[6].why = "cannot write the bundle";
    }
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (fns[i] == run_crun && rows[i].available && !hide_unified_hierarchy()) {
            rows[i].available = false;
            rows[i].why = "cannot hide the hybrid cgroup2 hierarchy from crun";
        }
        if (rows[i].available && fns[i] != NULL)
            measure(&rows[i], fns[i], preps[i], n);
        print_row(&b, &rows[i], n);
        if (fns[i] == run_warm && pool_rc == 0) {
            struct octo_sandbox_pool_stats st;
            octo_sandbox_pool_stats(&g_pool, &st);
            if (st.warm_runs < n + WARMUP && rows[i].available) {
                rows[i].available = false; /* a start ran cold: the figure would be wrong */
                rows[i].why = "some starts ran cold";
            }
            octo_sandbox_pool_deinit(&g_pool); /* its refill thread must not disturb crun */
        }
        if (fns[i] == run_started && rows[i].available && g_first_byte_n >= n) {
            uint64_t *last = g_first_byte + g_first_byte_n - n; /* the timed starts */
            qsort(last, n, sizeof(*last), cmp_u64);
            char params[64];
            snprintf(params, sizeof(params), "\"samples\":%zu", n);
            octo_bench_report(&b, "octo_sandbox_started_first_byte_p50", (double)last[n / 2] / 1e6,
                              "ms", params);
        }
        if (fns[i] == run_started && started_rc == 0) {
            struct octo_sandbox_pool_stats st;
            octo_sandbox_pool_stats(&g_started, &st);
            if (st.warm_runs < n + WARMUP && rows[i].available) {
                rows[i].available = false;
                rows[i].why = "some starts ran cold";
            }
            octo_sandbox_pool_deinit(&g_started);
        }
    }
    print_ratio(&b, "ratio_cold_over_bwrap_p50", &rows[2], &rows[1]);
    print_ratio(&b, "ratio_warm_over_bwrap_p50", &rows[3], &rows[1]);
    print_ratio(&b, "ratio_started_over_bwrap_p50", &rows[4], &rows[1]);
    print_ratio(&b, "ratio_started_over_cat_p50", &rows[4], &rows[5]);
    print_ratio(&b, "ratio_crun_over_bwrap_p50", &rows[6], &rows[1]);
    if (g_bundle[0] != '\0')
        remove_bundle();
    return 0;
}
