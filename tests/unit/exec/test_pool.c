/*
 * test_pool.c — the warm pool (exec/pool.h), as root like CI: a warm run is classified exactly
 * like a cold one (true, false, output, stdin, env/cwd, timeout, OOM, pids, output cap, seccomp,
 * identity and filesystem), per-task cgroup limits are applied when a sandbox is taken, a spec
 * whose binds/net/tmp differ from the template runs cold (counted), binds of the template work
 * warm, refill keeps the pool full across 3x its size, an empty pool falls back to cold, bad
 * arguments are refused, and nothing (cgroups, processes) is left after deinit. Prints a warm
 * vs cold start figure (not asserted).
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "exec/cgroup.h"
#include "exec/pool.h"
#include "exec/sandbox.h"
#include "sbx_util.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILL_MS 20000

static struct capture g_warm, g_cold;
static struct octo_sandbox_pool g_pool;

static void spec_init(struct octo_sandbox_spec *s, const char *const *argv, struct capture *c)
{
    memset(s, 0, sizeof(*s));
    memset(c, 0, sizeof(*c));
    s->argv = argv;
    s->on_output = capture_fn;
    s->ctx = c;
    s->limits.wall_ms = 20000;
}

static bool no_children(void)
{
    return waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD;
}

static void pool_start(size_t size, const struct octo_sandbox_spec *tmpl)
{
    int rc = octo_sandbox_pool_init(&g_pool, size, tmpl);
    if (rc != 0)
        printf("  pool init: %s (%s)\n", octo_err_name(rc), g_pool.reason);
    CHECK_OK(rc);
}

static uint64_t warm_runs(void)
{
    struct octo_sandbox_pool_stats st;
    octo_sandbox_pool_stats(&g_pool, &st);
    return st.warm_runs;
}

/* Runs spec_w warm (waiting for a full pool first, asserting it was warm) and spec_c cold;
 * both must end alike. */
static void same_as_cold(struct octo_sandbox_spec *w, struct octo_sandbox_spec *c,
                         struct octo_sandbox_result *rw, struct octo_sandbox_result *rc)
{
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    uint64_t before = warm_runs();
    CHECK_OK(octo_sandbox_pool_run(&g_pool, w, rw));
    CHECK_EQ_U64(warm_runs(), before + 1);
    CHECK_OK(octo_sandbox_run(c, rc));
    if (rw->outcome == OCTO_SANDBOX_SETUP_ERROR)
        printf("  warm setup error: %s\n", rw->setup_error);
    CHECK_EQ_INT(rw->outcome, rc->outcome);
    CHECK_EQ_INT(rw->exit_code, rc->exit_code);
    CHECK_EQ_INT(rw->signal, rc->signal);
}

/* One case: argv with a tweak applied to both specs; returns the warm result. */
static void compare(const char *const *argv, void (*tweak)(struct octo_sandbox_spec *),
                    struct octo_sandbox_result *rw)
{
    struct octo_sandbox_spec w, c;
    struct octo_sandbox_result rc;
    spec_init(&w, argv, &g_warm);
    spec_init(&c, argv, &g_cold);
    if (tweak != NULL) {
        tweak(&w);
        tweak(&c);
    }
    same_as_cold(&w, &c, rw, &rc);
    CHECK_STR(g_warm.out, g_cold.out);
    CHECK_STR(g_warm.err, g_cold.err);
    CHECK_EQ_U64(rw->stdout_bytes, rc.stdout_bytes);
}

static void test_bad_args(void)
{
    struct octo_sandbox_spec t;
    memset(&t, 0, sizeof(t));
    CHECK_ERR(octo_sandbox_pool_init(&g_pool, 0, &t), OCTO_EINVAL);
    CHECK_ERR(octo_sandbox_pool_init(&g_pool, OCTO_SANDBOX_POOL_MAX + 1, &t), OCTO_EINVAL);
    t.binds[0] = (struct octo_sandbox_bind){"relative", "/x", false};
    t.binds_count = 1; /* any bind: a template has none */
    CHECK_ERR(octo_sandbox_pool_init(&g_pool, 1, &t), OCTO_EUNSUPPORTED);
    memset(&t, 0, sizeof(t));
    t.limits.mem_bytes = OCTO_SANDBOX_MEM_MAX + 1;
    CHECK_ERR(octo_sandbox_pool_init(&g_pool, 1, &t), OCTO_EINVAL);
    octo_sandbox_pool_deinit(&g_pool); /* safe after a failed init */
    CHECK(no_children());
}

static void set_stdin(struct octo_sandbox_spec *s)
{
    static const char in[] = "feed me\n";
    s->stdin_data = (const uint8_t *)in;
    s->stdin_len = sizeof(in) - 1;
}

static void set_env_cwd(struct octo_sandbox_spec *s)
{
    static const char *const env[] = {"FOO=bar", "PATH=/usr/bin:/bin", NULL};
    s->envp = env;
    s->cwd = "/usr";
}

static void set_timeout(struct octo_sandbox_spec *s)
{
    s->limits.wall_ms = 300;
}

static void set_mem64(struct octo_sandbox_spec *s)
{
    s->limits.mem_bytes = 64u << 20;
}

static void set_pids16(struct octo_sandbox_spec *s)
{
    s->limits.pids = 16;
}

static void set_output_cap(struct octo_sandbox_spec *s)
{
    s->limits.output_bytes = 100000;
}

static void test_warm_like_cold(void)
{
    struct octo_sandbox_spec t;
    memset(&t, 0, sizeof(t));
    pool_start(2, &t);
    struct octo_sandbox_result r;
    static const char *const t_true[] = {"/bin/true", NULL};
    compare(t_true, NULL, &r);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 0);
    static const char *const t_false[] = {"false", NULL};
    compare(t_false, NULL, &r);
    CHECK_EQ_INT(r.exit_code, 1);
    static const char *const t_out[] = {"sh", "-c", "echo hello pool; echo oops >&2; exit 3", NULL};
    compare(t_out, NULL, &r);
    CHECK_EQ_INT(r.exit_code, 3);
    CHECK_STR(g_warm.out, "hello pool\n");
    CHECK_STR(g_warm.err, "oops\n");
    static const char *const t_cat[] = {"/usr/bin/tr", "a-z", "A-Z", NULL};
    compare(t_cat, set_stdin, &r);
    CHECK_STR(g_warm.out, "FEED ME\n");
    static const char *const t_nostdin[] = {"cat", NULL};
    compare(t_nostdin, NULL, &r); /* /dev/null: EOF at once, as cold */
    CHECK_EQ_INT(r.exit_code, 0);
    static const char *const t_env[] = {"sh", "-c", "echo $FOO; pwd; echo $HOME", NULL};
    compare(t_env, set_env_cwd, &r);
    CHECK_STR(g_warm.out, "bar\n/usr\n\n");
    static const char *const t_sleep[] = {"sleep", "10", NULL};
    compare(t_sleep, set_timeout, &r);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_TIMEOUT);
    CHECK(r.wall_ns < 3000000000ull);
    static const char *const t_oom[] = {"/usr/bin/python3", "-c",
                                        "b = bytearray(256 << 20); print(len(b))", NULL};
    compare(t_oom, set_mem64, &r);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_OOM);
    static const char *const t_pids[] = {
        "sh", "-c", "for i in $(seq 1 40); do sleep 1 & done 2>/dev/null; wait", NULL};
    compare(t_pids, set_pids16, &r);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_PIDS);
    static const char *const t_yes[] = {"yes", NULL};
    compare(t_yes, set_output_cap, &r);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_OUTPUT);
    CHECK_EQ_U64(r.stdout_bytes, 100000);
    static const char *const t_sec[] = {"/usr/bin/unshare", "-U", "true", NULL};
    compare(t_sec, NULL, &r);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SECCOMP);
    static const char *const t_id[] = {
        "sh", "-c",
        "id -u; hostname; pwd; touch /x 2>/dev/null || echo rootro; "
        "test -e /etc/shadow || echo noshadow; ls /proc/self/fd | tr '\\n' ' '; echo; "
        "grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/self/status | tr -s '\\t' ' '",
        NULL};
    compare(t_id, NULL, &r);
    CHECK_STR(g_warm.out, "1000\nocto-sandbox\n/tmp\nrootro\nnoshadow\n0 1 2 3 \n"
                          "CapEff: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2\n");
    static const char *const t_missing[] = {"/usr/bin/no-such-program", NULL};
    compare(t_missing, NULL, &r);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SETUP_ERROR);
    octo_sandbox_pool_deinit(&g_pool);
    CHECK_EQ_INT(leftover_cgroups(), 0);
    CHECK(no_children());
}

static void test_template_mismatch_runs_cold(void)
{
    const char *dir = octo_test_tmpdir("pool-binds");
    char path[600];
    snprintf(path, sizeof(path), "%s/data.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("bound\n", f);
    fclose(f);
    CHECK(chmod(path, 0644) == 0);
    CHECK(chmod(dir, 0755) == 0);
    struct octo_sandbox_spec t;
    memset(&t, 0, sizeof(t));
    /* a template with binds is refused: a bind path may name another tenant's directory by
     * the time a prepared sandbox is used */
    struct octo_sandbox_pool bad;
    t.binds[0] = (struct octo_sandbox_bind){dir, "/job", false};
    t.binds_count = 1;
    CHECK_ERR(octo_sandbox_pool_init(&bad, 1, &t), OCTO_EUNSUPPORTED);
    t.binds_count = 0;
    t.net = OCTO_SANDBOX_NET_LOOPBACK;
    pool_start(1, &t);

    static const char *const argv[] = {
        "sh", "-c", "cat /job/data.txt 2>/dev/null; grep -c lo: /proc/net/dev", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    struct octo_sandbox_pool_stats st;
    /* matches the template: warm */
    spec_init(&s, argv, &g_warm);
    s.net = OCTO_SANDBOX_NET_LOOPBACK;
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_warm.out, "1\n");
    octo_sandbox_pool_stats(&g_pool, &st);
    CHECK_EQ_U64(st.warm_runs, 1);
    /* net differs: cold, with the spec's own (no) network */
    s.net = OCTO_SANDBOX_NET_NONE;
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    /* a spec with a bind: cold, and the bind is there (resolved now, not at preparation) */
    s.net = OCTO_SANDBOX_NET_LOOPBACK;
    s.binds[0] = (struct octo_sandbox_bind){dir, "/job", false};
    s.binds_count = 1;
    memset(&g_warm, 0, sizeof(g_warm));
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_STR(g_warm.out, "bound\n1\n");
    s.binds_count = 0;
    /* /tmp size differs: cold */
    s.limits.tmp_bytes = 1u << 20;
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    /* a CPU quota where the template has none: cold */
    s.limits.tmp_bytes = 0;
    s.limits.cpu_pct = 50;
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    octo_sandbox_pool_stats(&g_pool, &st);
    CHECK_EQ_U64(st.cold_mismatch, 4);
    CHECK_EQ_U64(st.warm_runs, 1);
    CHECK_EQ_INT((int)st.ready, 1); /* the mismatches did not use the prepared one */
    /* an invalid spec is refused, not run */
    s.limits.cpu_pct = 0;
    s.cwd = "relative";
    CHECK_ERR(octo_sandbox_pool_run(&g_pool, &s, &r), OCTO_EINVAL);
    octo_sandbox_pool_deinit(&g_pool);
    CHECK_EQ_INT(leftover_cgroups(), 0);
    CHECK(no_children());
    octo_test_rmtree(dir);
}

static void test_refill(void)
{
    struct octo_sandbox_spec t;
    memset(&t, 0, sizeof(t));
    pool_start(2, &t);
    static const char *const argv[] = {"sh", "-c", "echo $$", NULL};
    for (int i = 0; i < 6; i++) {
        struct octo_sandbox_spec s;
        struct octo_sandbox_result r;
        spec_init(&s, argv, &g_warm);
        CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
        CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
        CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
        CHECK_STR(g_warm.out, "2\n"); /* a fresh pid namespace each time: never reused */
    }
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    struct octo_sandbox_pool_stats st;
    octo_sandbox_pool_stats(&g_pool, &st);
    CHECK_EQ_U64(st.warm_runs, 6);
    CHECK_EQ_U64(st.prepared, 8);
    CHECK_EQ_U64(st.prepare_failures, 0);
    CHECK_EQ_INT((int)st.ready, 2);
    /* one group per ready sandbox (v1: memory, pids, cpuacct dirs; v2: one) */
    CHECK(leftover_cgroups() >= 2);
    octo_sandbox_pool_deinit(&g_pool);
    CHECK_EQ_INT(leftover_cgroups(), 0);
    CHECK(no_children());
    octo_sandbox_pool_deinit(&g_pool); /* idempotent */
}

static void test_empty_falls_back_cold(void)
{
    struct octo_sandbox_spec t;
    memset(&t, 0, sizeof(t));
    pool_start(1, &t);
    static const char *const argv[] = {"/bin/true", NULL};
    for (int i = 0; i < 4; i++) { /* back to back: some find the pool empty */
        struct octo_sandbox_spec s;
        struct octo_sandbox_result r;
        spec_init(&s, argv, &g_warm);
        CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
        CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    }
    struct octo_sandbox_pool_stats st;
    octo_sandbox_pool_stats(&g_pool, &st);
    CHECK(st.warm_runs >= 1);
    CHECK_EQ_U64(st.warm_runs + st.cold_empty, 4);
    printf("  back to back, pool of 1: %llu warm, %llu cold (empty)\n",
           (unsigned long long)st.warm_runs, (unsigned long long)st.cold_empty);
    octo_sandbox_pool_deinit(&g_pool);
    CHECK_EQ_INT(leftover_cgroups(), 0);
    CHECK(no_children());
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t elapsed(const struct timespec *a, const struct timespec *b)
{
    return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000u + (uint64_t)b->tv_nsec -
           (uint64_t)a->tv_nsec;
}

static void test_warm_start_timing(void)
{
    struct octo_sandbox_spec t;
    memset(&t, 0, sizeof(t));
    pool_start(2, &t);
    static const char *const argv[] = {"/bin/true", NULL};
    uint64_t warm[20], cold[20];
    for (size_t i = 0; i < 20; i++) {
        struct octo_sandbox_spec s;
        struct octo_sandbox_result r;
        spec_init(&s, argv, &g_warm);
        CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
        struct timespec a, b, c;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
        CHECK_OK(octo_sandbox_run(&s, &r));
        clock_gettime(CLOCK_MONOTONIC, &c);
        warm[i] = elapsed(&a, &b);
        cold[i] = elapsed(&b, &c);
    }
    qsort(warm, 20, sizeof(warm[0]), cmp_u64);
    qsort(cold, 20, sizeof(cold[0]), cmp_u64);
    printf("  /bin/true: warm median %.2f ms (min %.2f), cold median %.2f ms (min %.2f)\n",
           (double)(warm[9] + warm[10]) / 2e6, (double)warm[0] / 1e6,
           (double)(cold[9] + cold[10]) / 2e6, (double)cold[0] / 1e6);
    CHECK_EQ_U64(warm_runs(), 20);
    octo_sandbox_pool_deinit(&g_pool);
    CHECK_EQ_INT(leftover_cgroups(), 0);
}

static uint64_t stat_of(size_t which)
{
    struct octo_sandbox_pool_stats st;
    octo_sandbox_pool_stats(&g_pool, &st);
    const uint64_t v[] = {st.warm_runs, st.cold_mismatch, st.cold_unusable};
    return v[which];
}

/* Started mode: the template's command already runs; a task is its input. */
static void test_started(void)
{
    static const char *const cat[] = {"/bin/cat", NULL};
    struct octo_sandbox_spec t, s;
    struct octo_sandbox_result r;
    spec_init(&t, cat, &g_warm);
    t.on_output = NULL;
    CHECK_OK(octo_sandbox_pool_init_started(&g_pool, 2, &t));

    static const char in[] = "fed to a command that was already waiting\n";
    spec_init(&s, cat, &g_warm);
    s.stdin_data = (const uint8_t *)in;
    s.stdin_len = sizeof(in) - 1;
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 0);
    CHECK_STR(g_warm.out, in);
    CHECK_EQ_U64(stat_of(0), 1);

    /* No stdin: the command reads EOF. Per-task memory and deadline still apply. */
    spec_init(&s, cat, &g_warm);
    s.limits.mem_bytes = UINT64_C(64) << 20;
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT((int)g_warm.out_len, 0);
    CHECK_EQ_U64(stat_of(0), 2);

    /* An interactive feed that never closes: the task's deadline ends it. */
    struct octo_sandbox_feed feed;
    octo_sandbox_feed_init(&feed, 64, false);
    spec_init(&s, cat, &g_warm);
    s.stdin_feed = &feed;
    s.limits.wall_ms = 300;
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_TIMEOUT);
    octo_sandbox_feed_deinit(&feed);
    CHECK_EQ_U64(stat_of(0), 3);

    /* Another command, or the same one with other rlimits: cold, still correct. */
    static const char *const tr[] = {"/usr/bin/tr", "a-z", "A-Z", NULL};
    spec_init(&s, tr, &g_warm);
    s.stdin_data = (const uint8_t *)"abc";
    s.stdin_len = 3;
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_STR(g_warm.out, "ABC");
    spec_init(&s, cat, &g_warm);
    s.limits.nofile = 17;
    CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_U64(stat_of(1), 2);
    CHECK_EQ_U64(stat_of(0), 3);
    octo_sandbox_pool_deinit(&g_pool);
    CHECK_EQ_INT(leftover_cgroups(), 0);
    CHECK(no_children());

    /* A template command that ends while it waits is never handed a task: cold instead. */
    static const char *const brief[] = {"/bin/sh", "-c", "sleep 0.1; echo early", NULL};
    spec_init(&t, brief, &g_warm);
    CHECK_OK(octo_sandbox_pool_init_started(&g_pool, 1, &t));
    struct timespec pause = {0, 400 * 1000 * 1000};
    nanosleep(&pause, NULL);
    spec_init(&s, brief, &g_warm);
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_warm.out, "early\n");
    CHECK_EQ_U64(stat_of(2), 1);
    octo_sandbox_pool_deinit(&g_pool);

    /* A command that cannot start is never published: init fails and says why. */
    static const char *const missing[] = {"/usr/bin/octo-no-such-program", NULL};
    spec_init(&t, missing, &g_warm);
    int rc = octo_sandbox_pool_init_started(&g_pool, 1, &t);
    CHECK_ERR(rc, OCTO_EIO);
    CHECK(strstr(g_pool.reason, "execve") != NULL);

    /* A task asking for fewer pids than the command started with runs cold. */
    spec_init(&t, cat, &g_warm);
    t.limits.pids = 32;
    CHECK_OK(octo_sandbox_pool_init_started(&g_pool, 1, &t));
    spec_init(&s, cat, &g_warm);
    s.limits.pids = 8;
    CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_U64(stat_of(1), 1);
    octo_sandbox_pool_deinit(&g_pool);

    /* A started pool needs a command. */
    memset(&t, 0, sizeof(t));
    CHECK_ERR(octo_sandbox_pool_init_started(&g_pool, 1, &t), OCTO_EINVAL);
    CHECK_EQ_INT(leftover_cgroups(), 0);
    CHECK(no_children());
}

/* Warm start with the command already running, against a warm start that execs and a cold one:
 * /bin/cat with 16 bytes in. */
static void test_started_timing(void)
{
    static const char *const cat[] = {"/bin/cat", NULL};
    struct octo_sandbox_spec t;
    spec_init(&t, cat, &g_warm);
    t.on_output = NULL;
    CHECK_OK(octo_sandbox_pool_init_started(&g_pool, 2, &t));
    uint64_t warm[20];
    for (size_t i = 0; i < 20; i++) {
        struct octo_sandbox_spec s;
        struct octo_sandbox_result r;
        spec_init(&s, cat, &g_warm);
        s.stdin_data = (const uint8_t *)"sixteen bytes..\n";
        s.stdin_len = 16;
        CHECK_OK(octo_sandbox_pool_wait_full(&g_pool, FILL_MS));
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK_OK(octo_sandbox_pool_run(&g_pool, &s, &r));
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
        CHECK_EQ_INT((int)g_warm.out_len, 16);
        warm[i] = elapsed(&a, &b);
    }
    qsort(warm, 20, sizeof(warm[0]), cmp_u64);
    printf("  /bin/cat started: warm median %.3f ms (min %.3f)\n",
           (double)(warm[9] + warm[10]) / 2e6, (double)warm[0] / 1e6);
    CHECK_EQ_U64(stat_of(0), 20);
    octo_sandbox_pool_deinit(&g_pool);
    CHECK_EQ_INT(leftover_cgroups(), 0);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skip: the pool needs root (as in CI)\n");
        return 0;
    }
    if (getenv("ONLY_STARTED") != NULL) {
        OCTO_RUN(test_started);
        return octo_test_finish();
    }
    OCTO_RUN(test_bad_args);
    OCTO_RUN(test_warm_like_cold);
    OCTO_RUN(test_template_mismatch_runs_cold);
    OCTO_RUN(test_refill);
    OCTO_RUN(test_empty_falls_back_cold);
    OCTO_RUN(test_warm_start_timing);
    OCTO_RUN(test_started);
    OCTO_RUN(test_started_timing);
    return octo_test_finish();
}
