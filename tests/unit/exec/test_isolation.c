/*
 * test_isolation.c — the isolation interface (exec/isolation.h) and the container path
 * (exec/oci.h), as root like CI: level names, availability with reasons, PROCESS cold and
 * through a pool, CONTAINER end to end with crun when installed (output, exit code, binds,
 * timeout, output cap, stdin refused), the generated config.json (escaping, v1/v2 cgroup
 * parts, limits), TEE and ZK refused with a reason and nothing run — no silent downgrade.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/buf.h"
#include "exec/isolation.h"
#include "exec/oci.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAP_OUT 8192

struct capture {
    char out[CAP_OUT];
    size_t out_len, calls;
};

static struct capture g_cap;

static void capture_fn(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct capture *c = ctx;
    c->calls++;
    if (stream != 1)
        return;
    size_t take = len < CAP_OUT - 1 - c->out_len ? len : CAP_OUT - 1 - c->out_len;
    memcpy(c->out + c->out_len, data, take);
    c->out_len += take;
    c->out[c->out_len] = '\0';
}

static void spec_init(struct octo_sandbox_spec *s, const char *const *argv)
{
    memset(s, 0, sizeof(*s));
    memset(&g_cap, 0, sizeof(g_cap));
    s->argv = argv;
    s->on_output = capture_fn;
    s->ctx = &g_cap;
    s->limits.wall_ms = 20000;
}

static bool have_crun(void)
{
    char path[256];
    return octo_oci_find_runtime(path, sizeof(path)) == 0;
}

static void test_names(void)
{
    static const char *const names[] = {"process", "container", "tee", "zk"};
    for (int i = 0; i < 4; i++) {
        enum octo_isolation_level l = OCTO_ISOLATION_ZK;
        CHECK_OK(octo_isolation_parse(names[i], &l));
        CHECK_EQ_INT((int)l, i);
        CHECK_STR(octo_isolation_name(l), names[i]);
    }
    enum octo_isolation_level l;
    CHECK_ERR(octo_isolation_parse("vm", &l), OCTO_EINVAL);
    CHECK_ERR(octo_isolation_parse("Process", &l), OCTO_EINVAL);
    CHECK_ERR(octo_isolation_parse("", &l), OCTO_EINVAL);
    CHECK_ERR(octo_isolation_parse(NULL, &l), OCTO_EINVAL);
    CHECK_STR(octo_isolation_name((enum octo_isolation_level)9), "unknown");
}

static void test_available(void)
{
    char why[OCTO_ISOLATION_REASON_MAX];
    CHECK_OK(octo_isolation_available(OCTO_ISOLATION_PROCESS, why, sizeof(why)));
    int rc = octo_isolation_available(OCTO_ISOLATION_CONTAINER, why, sizeof(why));
    CHECK_EQ_INT(rc, have_crun() ? 0 : OCTO_EUNSUPPORTED);
    why[0] = '\0';
    CHECK_ERR(octo_isolation_available(OCTO_ISOLATION_TEE, why, sizeof(why)), OCTO_EUNSUPPORTED);
    CHECK(strlen(why) > 10);
    if (access("/dev/sev-guest", F_OK) != 0 && access("/dev/tdx_guest", F_OK) != 0)
        CHECK(strstr(why, "confidential VM") != NULL);
    CHECK_ERR(octo_isolation_available(OCTO_ISOLATION_ZK, why, sizeof(why)), OCTO_EUNSUPPORTED);
    CHECK(strstr(why, "zk is declared unsupported") != NULL);
    CHECK_ERR(octo_isolation_available(OCTO_ISOLATION_ZK, NULL, 0), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_isolation_available((enum octo_isolation_level)7, NULL, 0), OCTO_EINVAL);
    char small[4];
    CHECK_ERR(octo_oci_find_runtime(small, sizeof(small)),
              have_crun() ? OCTO_ETOOBIG : OCTO_ENOTFOUND);
}

/* TEE and ZK: refused with a reason, nothing ran (no output, no file written). */
static void refused(enum octo_isolation_level level, const char *needle)
{
    const char *dir = octo_test_tmpdir("iso-refused");
    CHECK(chmod(dir, 0777) == 0);
    static const char *const argv[] = {"sh", "-c", "echo ran; touch /out/ran", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.binds[0] = (struct octo_sandbox_bind){dir, "/out", true};
    s.binds_count = 1;
    memset(&r, 0x5a, sizeof(r));
    CHECK_ERR(octo_isolation_run(level, &s, &r), OCTO_EUNSUPPORTED);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_SETUP_ERROR);
    CHECK(strstr(r.setup_error, needle) != NULL);
    CHECK_EQ_INT((int)g_cap.calls, 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/ran", dir);
    CHECK(access(path, F_OK) != 0);
    octo_test_rmtree(dir);
}

static void test_tee_refused(void)
{
    refused(OCTO_ISOLATION_TEE, "TEE");
}

static void test_zk_refused(void)
{
    refused(OCTO_ISOLATION_ZK, "zk is declared unsupported");
}

static void test_unknown_level(void)
{
    static const char *const argv[] = {"true", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_ERR(octo_isolation_run((enum octo_isolation_level)5, &s, &r), OCTO_EINVAL);
    CHECK_EQ_INT((int)g_cap.calls, 0);
}

static void test_process(void)
{
    static const char *const argv[] = {"sh", "-c", "echo process; exit 4", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_OK(octo_isolation_run(OCTO_ISOLATION_PROCESS, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 4);
    CHECK_STR(g_cap.out, "process\n");
    s.cwd = "relative";
    CHECK_ERR(octo_isolation_run(OCTO_ISOLATION_PROCESS, &s, &r), OCTO_EINVAL);
}

static void test_process_pooled(void)
{
    struct octo_sandbox_spec t;
    memset(&t, 0, sizeof(t));
    struct octo_sandbox_pool pool;
    CHECK_OK(octo_sandbox_pool_init(&pool, 1, &t));
    static const char *const argv[] = {"echo", "pooled", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    CHECK_OK(octo_isolation_run_pooled(OCTO_ISOLATION_PROCESS, &pool, &s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_STR(g_cap.out, "pooled\n");
    struct octo_sandbox_pool_stats st;
    octo_sandbox_pool_stats(&pool, &st);
    CHECK_EQ_U64(st.warm_runs, 1);
    /* other levels ignore the pool */
    CHECK_ERR(octo_isolation_run_pooled(OCTO_ISOLATION_ZK, &pool, &s, &r), OCTO_EUNSUPPORTED);
    octo_sandbox_pool_deinit(&pool);
}

static void test_oci_config(void)
{
    static const char *const argv[] = {"sh", "-c", "echo \"hi\"\n\\", NULL};
    static const char *const env[] = {"A=1", NULL};
    struct octo_sandbox_spec s;
    spec_init(&s, argv);
    s.envp = env;
    s.binds[0] = (struct octo_sandbox_bind){"/srv/in", "/job/in", false};
    s.binds[1] = (struct octo_sandbox_bind){"/srv/out", "/job/out", true};
    s.binds_count = 2;
    s.limits.cpu_pct = 50;
    struct octo_sandbox_limits eff;
    CHECK_OK(octo__sandbox_check(&s, &eff));
    CHECK_EQ_U64(eff.mem_bytes, OCTO_SANDBOX_MEM_DEFAULT);
    struct octo_buf b;
    octo_buf_init(&b, OCTO_OCI_CONFIG_MAX);
    CHECK_OK(octo_oci_config(&s, &eff, "id-1", "/parent/id-1", true, &b));
    CHECK_OK(octo_buf_append_byte(&b, 0));
    const char *j = (const char *)b.data;
    CHECK(strstr(j, "\"args\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\\u000a\\\\\"]") != NULL);
    CHECK(strstr(j, "\"env\":[\"A=1\"]") != NULL);
    CHECK(strstr(j, "\"cgroupsPath\":\"/parent/id-1\"") != NULL);
    CHECK(strstr(j, "\"memory\":{\"limit\":268435456,\"swap\":268435456}") != NULL);
    CHECK(strstr(j, "\"pids\":{\"limit\":64}") != NULL);
    CHECK(strstr(j, "\"cpu\":{\"quota\":50000,\"period\":100000}") != NULL);
    CHECK(strstr(j, "{\"destination\":\"/job/in\",\"type\":\"bind\",\"source\":\"/srv/in\","
                    "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]}") != NULL);
    CHECK(strstr(j, "\"source\":\"/srv/out\",\"options\":[\"rbind\",\"rw\"") != NULL);
    CHECK(strstr(j, "\"SCMP_ACT_KILL_PROCESS\"") != NULL);
    CHECK(strstr(j, "\"ptrace\"") != NULL);
    CHECK(strstr(j, "\"noNewPrivileges\":true") != NULL);
    CHECK(strstr(j, "\"RLIMIT_FSIZE\",\"hard\":67108864") != NULL);
    /* v1: resources are the caller's groups, not in the config */
    octo_buf_reset(&b);
    CHECK_OK(octo_oci_config(&s, &eff, "id-1", NULL, false, &b));
    CHECK_OK(octo_buf_append_byte(&b, 0));
    CHECK(strstr((const char *)b.data, "cgroupsPath") == NULL);
    CHECK(strstr((const char *)b.data, "resources") == NULL);
    octo_buf_deinit(&b);
    /* limits and bad input */
    octo_buf_init(&b, 100);
    CHECK_ERR(octo_oci_config(&s, &eff, "id-1", NULL, false, &b), OCTO_ETOOBIG);
    octo_buf_deinit(&b);
    octo_buf_init(&b, OCTO_OCI_CONFIG_MAX);
    CHECK_ERR(octo_oci_config(&s, &eff, "id-1", NULL, true, &b), OCTO_EINVAL);
    s.argv = NULL;
    CHECK_ERR(octo_oci_config(&s, &eff, "id-1", NULL, false, &b), OCTO_EINVAL);
    CHECK_ERR(octo__sandbox_check(&s, &eff), OCTO_EINVAL);
    octo_buf_deinit(&b);
}

static void test_container(void)
{
    if (!have_crun()) {
        printf("  skip: crun not installed\n");
        return;
    }
    const char *dir = octo_test_tmpdir("iso-container");
    char path[600];
    snprintf(path, sizeof(path), "%s/data.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("bound in\n", f);
    fclose(f);
    CHECK(chmod(path, 0644) == 0);
    CHECK(chmod(dir, 0755) == 0);
    static const char *const argv[] = {
        "sh", "-c", "id -u; cat /job/data.txt; test -e /etc/shadow || echo noshadow; exit 3", NULL};
    struct octo_sandbox_spec s;
    struct octo_sandbox_result r;
    spec_init(&s, argv);
    s.binds[0] = (struct octo_sandbox_bind){dir, "/job", false};
    s.binds_count = 1;
    CHECK_OK(octo_isolation_run(OCTO_ISOLATION_CONTAINER, &s, &r));
    if (r.outcome == OCTO_SANDBOX_SETUP_ERROR)
        printf("  container setup error: %s\n", r.setup_error);
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(r.exit_code, 3);
    CHECK_STR(g_cap.out, "65534\nbound in\nnoshadow\n");

    static const char *const spin[] = {"sh", "-c", "while :; do :; done", NULL};
    spec_init(&s, spin);
    s.limits.wall_ms = 500;
    CHECK_OK(octo_oci_run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_TIMEOUT);

    static const char *const yes[] = {"yes", NULL};
    spec_init(&s, yes);
    s.limits.output_bytes = 10000;
    CHECK_OK(octo_oci_run(&s, &r));
    CHECK_EQ_INT(r.outcome, OCTO_SANDBOX_OUTPUT);
    CHECK_EQ_U64(r.stdout_bytes, 10000);

    static const char *const cat[] = {"cat", NULL};
    spec_init(&s, cat);
    s.stdin_data = (const uint8_t *)"x";
    s.stdin_len = 1;
    CHECK_ERR(octo_oci_run(&s, &r), OCTO_EUNSUPPORTED);
    CHECK(strstr(r.setup_error, "stdin") != NULL);
    CHECK_EQ_INT((int)g_cap.calls, 0);
    s.stdin_data = NULL;
    s.stdin_len = 0;
    s.cwd = "../x";
    CHECK_ERR(octo_oci_run(&s, &r), OCTO_EINVAL);
    octo_test_rmtree(dir);
}

int main(void)
{
    OCTO_RUN(test_names);
    OCTO_RUN(test_oci_config);
    if (geteuid() != 0) {
        printf("skip: running sandboxes needs root (as in CI)\n");
        return octo_test_finish();
    }
    OCTO_RUN(test_available);
    OCTO_RUN(test_tee_refused);
    OCTO_RUN(test_zk_refused);
    OCTO_RUN(test_unknown_level);
    OCTO_RUN(test_process);
    OCTO_RUN(test_process_pooled);
    OCTO_RUN(test_container);
    return octo_test_finish();
}
