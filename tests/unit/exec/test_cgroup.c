/*
 * test_cgroup.c — the runner's cgroup logic against fake cgroupfs trees (plain directories and
 * files), so the v2 paths are exercised on this v1 machine: layout discovery (v1, co-mounted
 * v1, v2, none, malformed, over-long), limit files written for v1 and v2, subtree_control
 * enabling, attach, counters parsed for classification, removal, and a missing controller.
 */
#include "base/alloc.h"
#include "exec/cgroup.h"
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_root[512];

static void make_dir(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", g_root, rel);
    char *p = path + strlen(g_root) + 1;
    for (; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    mkdir(path, 0755);
}

static void put(const char *dir, const char *file, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

/* Contents of dir/file (static buffer; "" when absent). */
static const char *get(const char *dir, const char *file)
{
    static char buf[256];
    char path[1024];
    buf[0] = '\0';
    int len = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (len < 0 || (size_t)len >= sizeof(path))
        return buf;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return buf;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void fresh_root(const char *tag)
{
    snprintf(g_root, sizeof(g_root), "%s", octo_test_tmpdir(tag));
}

static const char v1_self[] = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n"
                              "2:cpuacct:/\n1:cpu:/\n0::/\n";

static void setup_v1(struct octo__cgroup_layout *l)
{
    fresh_root("cg-v1");
    make_dir("memory/process_api/abc");
    make_dir("pids");
    make_dir("cpu");
    make_dir("cpuacct");
    memset(l, 0, sizeof(*l));
    l->fake = true;
}

static void test_discover_v1(void)
{
    struct octo__cgroup_layout l;
    setup_v1(&l);
    CHECK_OK(octo__cgroup_discover(g_root, v1_self, &l));
    CHECK_EQ_INT(l.version, 1);
    CHECK(l.fake);
    char want[1024];
    snprintf(want, sizeof(want), "%s/memory/process_api/abc", g_root);
    CHECK_STR(l.base[OCTO__CG_MEM], want);
    snprintf(want, sizeof(want), "%s/pids", g_root);
    CHECK_STR(l.base[OCTO__CG_PIDS], want);
    snprintf(want, sizeof(want), "%s/cpu", g_root);
    CHECK_STR(l.base[OCTO__CG_CPU], want);
    snprintf(want, sizeof(want), "%s/cpuacct", g_root);
    CHECK_STR(l.base[OCTO__CG_CPUACCT], want);
    bool m, p, c;
    octo__cgroup_usable(&l, &m, &p, &c);
    CHECK(m && p && c);
    octo_test_rmtree(g_root);
}

static void test_discover_v1_comounted(void)
{
    fresh_root("cg-v1co");
    make_dir("cpu");
    make_dir("memory");
    struct octo__cgroup_layout l;
    memset(&l, 0, sizeof(l));
    CHECK_OK(octo__cgroup_discover(g_root, "3:cpu,cpuacct:/x\n4:memory:/\n", &l));
    CHECK_EQ_INT(l.version, 1);
    CHECK_STR(l.base[OCTO__CG_CPU], l.base[OCTO__CG_CPUACCT]);
    CHECK_EQ_INT(l.base[OCTO__CG_CPU][0], 0); /* <root>/cpu/x does not exist */
    CHECK_EQ_INT(l.base[OCTO__CG_PIDS][0], 0);
    octo_test_rmtree(g_root);
}

static void test_discover_v2_and_none(void)
{
    fresh_root("cg-v2d");
    put(g_root, "cgroup.controllers", "cpuset cpu io memory pids\n");
    make_dir("system.slice/octo.service");
    struct octo__cgroup_layout l;
    memset(&l, 0, sizeof(l));
    CHECK_OK(octo__cgroup_discover(g_root, "0::/system.slice/octo.service\n", &l));
    CHECK_EQ_INT(l.version, 2);
    char want[1024];
    snprintf(want, sizeof(want), "%s/system.slice/octo.service", g_root);
    CHECK_STR(l.base[OCTO__CG_MEM], want);
    /* Our own group lists no controllers yet: not usable. */
    bool m = true, p = true, c = true;
    octo__cgroup_usable(&l, &m, &p, &c);
    CHECK(!m && !p && !c);
    /* After the supervisor moved itself into its leaf, the base stays its parent (no nesting
     * one level deeper on every run). */
    make_dir("system.slice/octo.service/octo-supervisor");
    CHECK_OK(octo__cgroup_discover(g_root, "0::/system.slice/octo.service/octo-supervisor\n", &l));
    CHECK_EQ_INT(l.version, 2);
    CHECK_STR(l.base[OCTO__CG_MEM], want);
    /* Root cgroup. */
    CHECK_OK(octo__cgroup_discover(g_root, "0::/\n", &l));
    CHECK_EQ_INT(l.version, 2);
    CHECK_STR(l.base[OCTO__CG_MEM], g_root);
    octo__cgroup_usable(&l, &m, &p, &c);
    CHECK(m && p && c);
    /* A v2 mount but our group is gone: nothing usable. */
    CHECK_OK(octo__cgroup_discover(g_root, "0::/missing\n", &l));
    CHECK_EQ_INT(l.version, 0);
    octo_test_rmtree(g_root);

    fresh_root("cg-none");
    CHECK_OK(octo__cgroup_discover(g_root, "4:memory:/\n", &l));
    CHECK_EQ_INT(l.version, 0);
    CHECK_ERR(octo__cgroup_discover(g_root, "garbage line\n", &l), OCTO_EMALFORMED);
    CHECK_ERR(octo__cgroup_discover(g_root, "1:memory\n", &l), OCTO_EMALFORMED);
    char *self = octo_malloc(2 * OCTO__CG_PATH_MAX);
    CHECK(self != NULL);
    memcpy(self, "4:memory:/", 10);
    memset(self + 10, 'a', 2 * OCTO__CG_PATH_MAX - 11);
    self[2 * OCTO__CG_PATH_MAX - 1] = '\0';
    int rc = octo__cgroup_discover(g_root, self, &l);
    octo_free(self);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    octo_test_rmtree(g_root);
}

static void test_parse_key(void)
{
    uint64_t v = 0;
    const char *events = "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n";
    CHECK_OK(octo__cgroup_parse_key(events, "oom_kill", &v));
    CHECK_EQ_U64(v, 1);
    CHECK_OK(octo__cgroup_parse_key(events, "max", &v));
    CHECK_EQ_U64(v, 7);
    CHECK_OK(octo__cgroup_parse_key("usage_usec 18446744073709551615", "usage_usec", &v));
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK_ERR(octo__cgroup_parse_key(events, "oom_killer", &v), OCTO_ENOTFOUND);
    CHECK_ERR(octo__cgroup_parse_key("", "max", &v), OCTO_ENOTFOUND);
    CHECK_ERR(octo__cgroup_parse_key("max -1\n", "max", &v), OCTO_ERANGE);
    CHECK_ERR(octo__cgroup_parse_key("max 12x\n", "max", &v), OCTO_ERANGE);
    CHECK_ERR(octo__cgroup_parse_key("max 99999999999999999999\n", "max", &v), OCTO_ERANGE);
}

static void test_v2_create_stats_destroy(void)
{
    fresh_root("cg-v2");
    put(g_root, "cgroup.controllers", "cpu memory pids\n");
    make_dir("node");
    char base[600];
    snprintf(base, sizeof(base), "%s/node", g_root);
    put(base, "cgroup.controllers", "cpu memory pids\n");
    put(base, "cgroup.subtree_control", "");
    struct octo__cgroup_layout l;
    memset(&l, 0, sizeof(l));
    l.fake = true;
    CHECK_OK(octo__cgroup_discover(g_root, "0::/node\n", &l));
    CHECK_EQ_INT(l.version, 2);
    struct octo__cgroup cg;
    const struct octo__cgroup_limits lim = {64u << 20, 16, 50};
    char err[160];
    CHECK_OK(octo__cgroup_create(&cg, &l, "sbx1", &lim, err, sizeof(err)));
    CHECK_STR(get(base, "cgroup.subtree_control"), "+memory +pids +cpu");
    char dir[1100];
    snprintf(dir, sizeof(dir), "%s/sbx1", base);
    CHECK_STR(cg.dir[OCTO__CG_MEM], dir);
    CHECK(cg.v2_fd >= 0);
    CHECK_STR(get(dir, "memory.max"), "67108864");
    CHECK_STR(get(dir, "memory.swap.max"), "0");
    CHECK_STR(get(dir, "memory.oom.group"), "1");
    CHECK_STR(get(dir, "pids.max"), "16");
    CHECK_STR(get(dir, "cpu.max"), "50000 100000");
    CHECK_OK(octo__cgroup_attach(&cg, 4242));
    CHECK_STR(get(dir, "cgroup.procs"), "4242");
    put(dir, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    put(dir, "pids.events", "max 2\n");
    put(dir, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    put(dir, "memory.peak", "12345\n");
    struct octo__cgroup_stats st;
    octo__cgroup_read_stats(&cg, &st);
    CHECK_EQ_U64(st.oom_kills, 1);
    CHECK_EQ_U64(st.pids_max, 2);
    CHECK_EQ_U64(st.cpu_ns, 1500000);
    CHECK_EQ_U64(st.mem_peak, 12345);
    CHECK_OK(octo__cgroup_destroy(&cg));
    CHECK(!exists(dir));
    CHECK_EQ_INT(cg.v2_fd, -1);
    CHECK_OK(octo__cgroup_destroy(&cg)); /* idempotent */
    /* Controllers already enabled: subtree_control is left alone; no cpu quota -> no cpu.max */
    put(base, "cgroup.subtree_control", "memory pids\n");
    const struct octo__cgroup_limits lim2 = {1u << 20, 4, 0};
    CHECK_OK(octo__cgroup_create(&cg, &l, "sbx2", &lim2, NULL, 0));
    snprintf(dir, sizeof(dir), "%s/sbx2/cpu.max", base);
    CHECK_STR(get(base, "cgroup.subtree_control"), "memory pids\n");
    CHECK(!exists(dir));
    CHECK_OK(octo__cgroup_destroy(&cg));
    octo_test_rmtree(g_root);
}

static void test_v1_create_stats_destroy(void)
{
    struct octo__cgroup_layout l;
    setup_v1(&l);
    CHECK_OK(octo__cgroup_discover(g_root, v1_self, &l));
    struct octo__cgroup cg;
    const struct octo__cgroup_limits lim = {32u << 20, 8, 250};
    char err[160];
    CHECK_OK(octo__cgroup_create(&cg, &l, "sbx", &lim, err, sizeof(err)));
    CHECK_EQ_INT(cg.v2_fd, -1);
    char mem[1024], pids[1024], cpu[1024], acct[1024];
    snprintf(mem, sizeof(mem), "%s/memory/process_api/abc/sbx", g_root);
    snprintf(pids, sizeof(pids), "%s/pids/sbx", g_root);
    snprintf(cpu, sizeof(cpu), "%s/cpu/sbx", g_root);
    snprintf(acct, sizeof(acct), "%s/cpuacct/sbx", g_root);
    CHECK_STR(get(mem, "memory.limit_in_bytes"), "33554432");
    CHECK_STR(get(mem, "memory.memsw.limit_in_bytes"), "33554432");
    CHECK_STR(get(pids, "pids.max"), "8");
    CHECK_STR(get(cpu, "cpu.cfs_period_us"), "100000");
    CHECK_STR(get(cpu, "cpu.cfs_quota_us"), "250000");
    CHECK(exists(acct));
    CHECK_OK(octo__cgroup_attach(&cg, 77));
    CHECK_STR(get(mem, "cgroup.procs"), "77");
    CHECK_STR(get(pids, "cgroup.procs"), "77");
    CHECK_STR(get(cpu, "cgroup.procs"), "77");
    CHECK_STR(get(acct, "cgroup.procs"), "77");
    put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    put(pids, "pids.events", "max 0\n");
    put(acct, "cpuacct.usage", "987654321\n");
    put(mem, "memory.max_usage_in_bytes", "4096\n");
    struct octo__cgroup_stats st;
    octo__cgroup_read_stats(&cg, &st);
    CHECK_EQ_U64(st.oom_kills, 2);
    CHECK_EQ_U64(st.pids_max, 0);
    CHECK_EQ_U64(st.cpu_ns, 987654321);
    CHECK_EQ_U64(st.mem_peak, 4096);
    CHECK_OK(octo__cgroup_destroy(&cg));
    CHECK(!exists(mem) && !exists(pids) && !exists(cpu) && !exists(acct));
    /* Without a CPU quota no cpu directory is made. */
    const struct octo__cgroup_limits lim2 = {32u << 20, 8, 0};
    CHECK_OK(octo__cgroup_create(&cg, &l, "sbx", &lim2, err, sizeof(err)));
    CHECK(!exists(cpu));
    CHECK_OK(octo__cgroup_destroy(&cg));
    octo_test_rmtree(g_root);
}

static void test_missing_controller(void)
{
    fresh_root("cg-miss");
    make_dir("memory");
    struct octo__cgroup_layout l;
    memset(&l, 0, sizeof(l));
    l.fake = true;
    CHECK_OK(octo__cgroup_discover(g_root, "4:memory:/\n", &l));
    CHECK_EQ_INT(l.version, 1);
    struct octo__cgroup cg;
    const struct octo__cgroup_limits lim = {1u << 20, 4, 0};
    char err[160];
    CHECK_ERR(octo__cgroup_create(&cg, &l, "sbx", &lim, err, sizeof(err)), OCTO_EUNSUPPORTED);
    CHECK(strstr(err, "pids") != NULL);
    char mem[1024];
    snprintf(mem, sizeof(mem), "%s/memory/sbx", g_root);
    CHECK(!exists(mem)); /* nothing left behind */
    struct octo__cgroup_layout none;
    memset(&none, 0, sizeof(none));
    CHECK_ERR(octo__cgroup_create(&cg, &none, "sbx", &lim, err, sizeof(err)), OCTO_EUNSUPPORTED);
    /* An existing directory of the same name is an error, not adopted. */
    make_dir("pids");
    CHECK_OK(octo__cgroup_discover(g_root, "4:memory:/\n8:pids:/\n", &l));
    make_dir("pids/sbx");
    CHECK_ERR(octo__cgroup_create(&cg, &l, "sbx", &lim, err, sizeof(err)), OCTO_EEXIST);
    CHECK(!exists(mem));
    octo_test_rmtree(g_root);
}

static void test_real_layout(void)
{
    struct octo__cgroup_layout l;
    CHECK_OK(octo__cgroup_layout_load(&l));
    CHECK(!l.fake);
    CHECK(l.version == 1 || l.version == 2);
    CHECK(l.base[OCTO__CG_MEM][0] == '/');
}

int main(void)
{
    OCTO_RUN(test_discover_v1);
    OCTO_RUN(test_discover_v1_comounted);
    OCTO_RUN(test_discover_v2_and_none);
    OCTO_RUN(test_parse_key);
    OCTO_RUN(test_v2_create_stats_destroy);
    OCTO_RUN(test_v1_create_stats_destroy);
    OCTO_RUN(test_missing_controller);
    OCTO_RUN(test_real_layout);
    return octo_test_finish();
}
