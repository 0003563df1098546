/*
 * cmd_exec.c — `octo exec [--isolation process|container] [--mem BYTES] [--pids N]
 * [--timeout S] [--net none|loopback] -- CMD ARGS...`: runs one command in the Secure
 * Execution Runtime's sandbox, passes its stdout/stderr through as they arrive, and reports the
 * classified outcome; and `octo exec --check [--json]`: the isolation features of this host.
 *
 * Isolation levels: `process` (default) is octo_sandbox_run (exec/sandbox.h). `container`
 * writes a throw-away OCI bundle (config.json with the same limits and namespaces, a read-only
 * rootfs with /usr bound in) and runs it with `crun run`, supervised here (deadline, output cap,
 * `crun kill` + `crun delete`; the container always gets a fresh network namespace, so --net
 * only selects the process sandbox's loopback state). `tee` and `zk` are refused with a usage error
 * on this host — never a silent downgrade to a weaker level.
 *
 * Exit status mirrors the outcome (documented in the help text):
 *   the command's own exit code when it exited; 128+N when killed by signal N (also SIGXFSZ and
 *   SIGXCPU, as shells report them); 120 setup error (nothing ran); 121 out of memory; 122 pids
 *   limit; 123 output cap; 124 timeout; 125 seccomp kill; 2 usage error (nothing ran).
 * Unless the command exited, one line "octo: exec: <outcome> (<detail>)" goes to stderr.
 *
 * Limits: at most OCTO_ARGS_POSITIONAL_MAX words of command (the CLI parser's limit), memory up
 * to EXEC_MEM_MAX, pids up to EXEC_PIDS_MAX, timeouts up to EXEC_TIMEOUT_S_MAX.
 */
#include "base/alloc.h"
#include "cli/cli.h"
#include "exec/sandbox.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXEC_MEM_MAX (UINT64_C(1) << 40)
#define EXEC_PIDS_MAX 65536u
#define EXEC_TIMEOUT_S_MAX 86400u
#define EXEC_CRUN "/usr/bin/crun"
#define EXEC_BUNDLE_PATH_MAX 256
#define EXEC_CONFIG_MAX (UINT64_C(1) << 20)

enum {
    EXEC_EXIT_SETUP = 120,
    EXEC_EXIT_OOM = 121,
    EXEC_EXIT_PIDS = 122,
    EXEC_EXIT_OUTPUT = 123,
    EXEC_EXIT_TIMEOUT = 124,
    EXEC_EXIT_SECCOMP = 125,
    EXEC_EXIT_SIGNAL_BASE = 128,
};

static const struct octo_flag exec_flags[] = {
    {"isolation", 0, true, false, "LEVEL", "process (default), container, tee or zk"},
    {"mem", 0, true, false, "BYTES", "memory limit, K/M/G suffixes (default 256M)"},
    {"pids", 0, true, false, "N", "process limit (default 64)"},
    {"timeout", 0, true, false, "S", "wall-clock limit in seconds (default 30)"},
    {"net", 0, true, false, "MODE", "none (default) or loopback"},
    {"check", 0, false, false, NULL, "print the isolation features of this host"},
    {"json", 0, false, false, NULL, "with --check: print one JSON object"},
    {NULL, 0, false, false, NULL, NULL},
};

struct exec_opts {
    const char *isolation;
    struct octo_sandbox_limits limits;
    enum octo_sandbox_net net;
    const char *argv[OCTO_ARGS_POSITIONAL_MAX + 1];
};

/* Parses a positive byte count with an optional K, M or G suffix (powers of 1024) not above
 * max. Returns 0 or -1. */
static int parse_bytes(const char *s, uint64_t max, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || v == 0)
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift != 0)
        end++;
    if (*end != '\0' || v > (max >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "64 MiB", "1 GiB", "1000 bytes". */
static void format_bytes(uint64_t v, char *out, size_t size)
{
    if (v != 0 && v % (UINT64_C(1) << 30) == 0)
        snprintf(out, size, "%llu GiB", (unsigned long long)(v >> 30));
    else if (v != 0 && v % (UINT64_C(1) << 20) == 0)
        snprintf(out, size, "%llu MiB", (unsigned long long)(v >> 20));
    else if (v != 0 && v % 1024 == 0)
        snprintf(out, size, "%llu KiB", (unsigned long long)(v >> 10));
    else
        snprintf(out, size, "%llu bytes", (unsigned long long)v);
}

static int parse_opts(struct octo_cli *cli, struct exec_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->isolation = octo_args_get(&cli->args, "isolation");
    if (o->isolation == NULL)
        o->isolation = "process";
    if (strcmp(o->isolation, "process") != 0 && strcmp(o->isolation, "container") != 0 &&
        strcmp(o->isolation, "tee") != 0 && strcmp(o->isolation, "zk") != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "flag --isolation: expected process, container, tee or zk");
    uint64_t v;
    const char *s = octo_args_get(&cli->args, "mem");
    if (s != NULL && parse_bytes(s, EXEC_MEM_MAX, &o->limits.mem_bytes) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "flag --mem: expected a byte count (K, M, G suffixes) up to 1T");
    s = octo_args_get(&cli->args, "pids");
    if (s != NULL) {
        if (parse_count(s, EXEC_PIDS_MAX, &v) < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --pids: expected 1..%u",
                                 EXEC_PIDS_MAX);
        o->limits.pids = (uint32_t)v;
    }
    s = octo_args_get(&cli->args, "timeout");
    if (s != NULL) {
        if (parse_count(s, EXEC_TIMEOUT_S_MAX, &v) < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --timeout: expected 1..%u seconds",
                                 EXEC_TIMEOUT_S_MAX);
        o->limits.wall_ms = v * 1000;
    }
    s = octo_args_get(&cli->args, "net");
    if (s != NULL && strcmp(s, "none") != 0 && strcmp(s, "loopback") != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --net: expected none or loopback");
    o->net =
        s != NULL && strcmp(s, "loopback") == 0 ? OCTO_SANDBOX_NET_LOOPBACK : OCTO_SANDBOX_NET_NONE;
    if (cli->args.positional_count == 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo exec [FLAGS] -- CMD [ARGS...]");
    for (size_t i = 0; i < cli->args.positional_count; i++)
        o->argv[i] = cli->args.positional[i];
    /* defaults, for the messages */
    if (o->limits.mem_bytes == 0)
        o->limits.mem_bytes = OCTO_SANDBOX_MEM_DEFAULT;
    if (o->limits.pids == 0)
        o->limits.pids = OCTO_SANDBOX_PIDS_DEFAULT;
    if (o->limits.wall_ms == 0)
        o->limits.wall_ms = OCTO_SANDBOX_WALL_MS_DEFAULT;
    o->limits.output_bytes = OCTO_SANDBOX_OUTPUT_DEFAULT;
    return OCTO_EXIT_OK;
}

/* --- reporting --- */

static void pass_output(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct octo_cli *cli = ctx;
    FILE *f = stream == 2 ? cli->err : cli->out;
    if (fwrite(data, 1, len, f) == len)
        fflush(f);
}

/* Prints the outcome line (unless the command exited) and returns the exit status. */
static int report(struct octo_cli *cli, const struct octo_sandbox_limits *lim,
                  const struct octo_sandbox_result *r)
{
    char size[32];
    const char *name = octo_sandbox_outcome_name(r->outcome);
    switch (r->outcome) {
    case OCTO_SANDBOX_EXITED:
        return r->exit_code;
    case OCTO_SANDBOX_SIGNALED:
        octo_cli_fail(cli, 0, "exec: %s (signal %d)", name, r->signal);
        return EXEC_EXIT_SIGNAL_BASE + (r->signal & 0x7f);
    case OCTO_SANDBOX_OOM:
        format_bytes(lim->mem_bytes, size, sizeof(size));
        octo_cli_fail(cli, 0, "exec: %s (memory limit %s)", name, size);
        return EXEC_EXIT_OOM;
    case OCTO_SANDBOX_PIDS:
        octo_cli_fail(cli, 0, "exec: %s (limit %u processes)", name, (unsigned)lim->pids);
        return EXEC_EXIT_PIDS;
    case OCTO_SANDBOX_TIMEOUT:
        octo_cli_fail(cli, 0, "exec: %s (deadline %llu s)", name,
                      (unsigned long long)(lim->wall_ms / 1000));
        return EXEC_EXIT_TIMEOUT;
    case OCTO_SANDBOX_OUTPUT:
        format_bytes(lim->output_bytes, size, sizeof(size));
        octo_cli_fail(cli, 0, "exec: %s (cap %s per stream)", name, size);
        return EXEC_EXIT_OUTPUT;
    case OCTO_SANDBOX_SECCOMP:
        octo_cli_fail(cli, 0, "exec: %s (forbidden system call, signal %d)", name, r->signal);
        return EXEC_EXIT_SECCOMP;
    case OCTO_SANDBOX_FSIZE:
        octo_cli_fail(cli, 0, "exec: %s (file size limit, signal %d)", name, SIGXFSZ);
        return EXEC_EXIT_SIGNAL_BASE + SIGXFSZ;
    case OCTO_SANDBOX_CPU:
        octo_cli_fail(cli, 0, "exec: %s (CPU time limit, signal %d)", name, SIGXCPU);
        return EXEC_EXIT_SIGNAL_BASE + SIGXCPU;
    case OCTO_SANDBOX_SETUP_ERROR:
        octo_cli_fail(cli, 0, "exec: %s (%.160s)", name, r->setup_error);
        return EXEC_EXIT_SETUP;
    }
    octo_cli_fail(cli, 0, "exec: unknown outcome %d", (int)r->outcome);
    return EXEC_EXIT_SETUP;
}

static int run_process(struct octo_cli *cli, struct exec_opts *o)
{
    struct octo_sandbox_spec spec = {
        .argv = o->argv,
        .net = o->net,
        .limits = o->limits,
        .on_output = pass_output,
        .ctx = cli,
    };
    struct octo_sandbox_result r;
    int rc = octo_sandbox_run(&spec, &r);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "exec: invalid command or limits: %s",
                             octo_strerror(rc));
    return report(cli, &o->limits, &r);
}

/* --- container isolation: an OCI bundle run by crun --- */

static bool add_strings(cJSON *obj, const char *key, const char *const *v, size_t n)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (size_t i = 0; a != NULL && i < n && v[i] != NULL; i++) {
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i])))
            return false;
    }
    return a != NULL;
}

static cJSON *oci_mount(const char *dst, const char *type, const char *src, const char *const *opts,
                        size_t n)
{
    cJSON *m = cJSON_CreateObject();
    if (m == NULL || cJSON_AddStringToObject(m, "destination", dst) == NULL ||
        cJSON_AddStringToObject(m, "type", type) == NULL ||
        cJSON_AddStringToObject(m, "source", src) == NULL || !add_strings(m, "options", opts, n)) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* Our own cgroup path in the memory hierarchy (v1) or the unified one (v2): containers nest
 * under it, as the process sandbox does. Writes "" when unknown. */
static void own_cgroup(char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        const char *p = strchr(line, ':');
        if (p == NULL)
            continue;
        const char *path = strchr(p + 1, ':');
        if (path == NULL)
            continue;
        bool memory = strncmp(p + 1, "memory:", 7) == 0;
        bool unified = strncmp(line, "0::", 3) == 0;
        if ((memory || (unified && out[0] == '\0')) && strlen(path + 1) < size)
            snprintf(out, size, "%s", strcmp(path + 1, "/") == 0 ? "" : path + 1);
    }
    fclose(f);
}

static cJSON *oci_config(const struct exec_opts *o, const char *id, bool v2)
{
    static const char *const env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp",
                                      "LANG=C.UTF-8"};
    static const char *const proc_opts[] = {"nosuid", "noexec", "nodev"};
    static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
    static const char *const usr_opts[] = {"rbind", "ro", "nosuid", "nodev"};
    static const char *const masked[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
                                         "/proc/sched_debug", "/sys/firmware"};
    static const char *const ro_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                           "/proc/sysrq-trigger"};
    static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
    size_t kill_count = 0;
    const char *const *kill_list = octo_sandbox_kill_list(&kill_count);
    char tmp_size[48], cg[300], own[256];
    snprintf(tmp_size, sizeof(tmp_size), "size=%llu", (unsigned long long)OCTO_SANDBOX_TMP_DEFAULT);
    const char *tmp_opts[] = {"nosuid", "nodev", "mode=1777", tmp_size};
    own_cgroup(own, sizeof(own));
    snprintf(cg, sizeof(cg), "%s/%s", own, id);

    cJSON *c = cJSON_CreateObject();
    cJSON *proc = cJSON_AddObjectToObject(c, "process");
    cJSON *user = cJSON_AddObjectToObject(proc, "user");
    cJSON *caps = cJSON_AddObjectToObject(proc, "capabilities");
    cJSON *root = cJSON_AddObjectToObject(c, "root");
    cJSON *mounts = cJSON_AddArrayToObject(c, "mounts");
    cJSON *linux_ = cJSON_AddObjectToObject(c, "linux");
    cJSON *nss = cJSON_AddArrayToObject(linux_, "namespaces");
    cJSON *res = cJSON_AddObjectToObject(linux_, "resources");
    cJSON *mem = cJSON_AddObjectToObject(res, "memory");
    cJSON *pids = cJSON_AddObjectToObject(res, "pids");
    cJSON *sec = cJSON_AddObjectToObject(linux_, "seccomp");
    cJSON *rules = cJSON_AddArrayToObject(sec, "syscalls");
    cJSON *rlimits = cJSON_AddArrayToObject(proc, "rlimits");
    cJSON *rule = cJSON_CreateObject();
    if (!cJSON_AddItemToArray(rules, rule)) {
        cJSON_Delete(rule);
        rule = NULL;
    }
    cJSON *nofile = cJSON_CreateObject();
    if (!cJSON_AddItemToArray(rlimits, nofile)) {
        cJSON_Delete(nofile);
        nofile = NULL;
    }
    bool ok = c != NULL && proc != NULL && user != NULL && caps != NULL && root != NULL &&
              mounts != NULL && linux_ != NULL && nss != NULL && res != NULL && mem != NULL &&
              pids != NULL && sec != NULL && rules != NULL && rule != NULL && rlimits != NULL &&
              nofile != NULL;
    if (!ok) {
        cJSON_Delete(c);
        return NULL;
    }
    ok = cJSON_AddStringToObject(c, "ociVersion", "1.0.2") != NULL &&
         cJSON_AddStringToObject(c, "hostname", "octo-exec") != NULL &&
         cJSON_AddFalseToObject(proc, "terminal") != NULL &&
         cJSON_AddNumberToObject(user, "uid", 65534) != NULL &&
         cJSON_AddNumberToObject(user, "gid", 65534) != NULL &&
         add_strings(proc, "args", o->argv, OCTO_ARGS_POSITIONAL_MAX) &&
         add_strings(proc, "env", env, OCTO_ARRAY_LEN(env)) &&
         cJSON_AddStringToObject(proc, "cwd", "/tmp") != NULL &&
         cJSON_AddTrueToObject(proc, "noNewPrivileges") != NULL &&
         add_strings(caps, "bounding", NULL, 0) && add_strings(caps, "effective", NULL, 0) &&
         add_strings(caps, "inheritable", NULL, 0) && add_strings(caps, "permitted", NULL, 0) &&
         add_strings(caps, "ambient", NULL, 0) &&
         cJSON_AddStringToObject(nofile, "type", "RLIMIT_NOFILE") != NULL &&
         cJSON_AddNumberToObject(nofile, "hard", OCTO_SANDBOX_NOFILE_DEFAULT) != NULL &&
         cJSON_AddNumberToObject(nofile, "soft", OCTO_SANDBOX_NOFILE_DEFAULT) != NULL &&
         cJSON_AddStringToObject(root, "path", "rootfs") != NULL &&
         cJSON_AddTrueToObject(root, "readonly") != NULL &&
         cJSON_AddItemToArray(
             mounts, oci_mount("/proc", "proc", "proc", proc_opts, OCTO_ARRAY_LEN(proc_opts))) &&
         cJSON_AddItemToArray(
             mounts, oci_mount("/dev", "tmpfs", "tmpfs", dev_opts, OCTO_ARRAY_LEN(dev_opts))) &&
         cJSON_AddItemToArray(
             mounts, oci_mount("/tmp", "tmpfs", "tmpfs", tmp_opts, OCTO_ARRAY_LEN(tmp_opts))) &&
         cJSON_AddItemToArray(
             mounts, oci_mount("/usr", "bind", "/usr", usr_opts, OCTO_ARRAY_LEN(usr_opts))) &&
         (!v2 || (cJSON_AddNumberToObject(mem, "limit", (double)o->limits.mem_bytes) != NULL &&
                  cJSON_AddNumberToObject(pids, "limit", o->limits.pids) != NULL &&
                  cJSON_AddStringToObject(linux_, "cgroupsPath", cg) != NULL)) &&
         add_strings(linux_, "maskedPaths", masked, OCTO_ARRAY_LEN(masked)) &&
         add_strings(linux_, "readonlyPaths", ro_paths, OCTO_ARRAY_LEN(ro_paths)) &&
         cJSON_AddStringToObject(sec, "defaultAction", "SCMP_ACT_ALLOW") != NULL &&
         add_strings(rule, "names", kill_list, kill_count) &&
         cJSON_AddStringToObject(rule, "action", "SCMP_ACT_KILL_PROCESS") != NULL;
    for (size_t i = 0; ok && i < OCTO_ARRAY_LEN(ns); i++) {
        cJSON *n = cJSON_CreateObject();
        ok = n != NULL && cJSON_AddItemToArray(nss, n) &&
             cJSON_AddStringToObject(n, "type", ns[i]) != NULL;
    }
    if (!ok) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

/* Writes DIR/config.json and DIR/rootfs (usr, proc, dev, tmp and the merged-/usr links). */
static int write_bundle(const char *dir, const struct exec_opts *o, const char *id, bool v2)
{
    static const char *const dirs[] = {"usr", "proc", "dev", "tmp"};
    static const char *const links[][2] = {
        {"usr/bin", "bin"}, {"usr/lib", "lib"}, {"usr/lib64", "lib64"}, {"usr/sbin", "sbin"}};
    char path[EXEC_BUNDLE_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/rootfs", dir);
    if (mkdir(path, 0755) < 0)
        return OCTO_EIO;
    for (size_t i = 0; i < OCTO_ARRAY_LEN(dirs); i++) {
        snprintf(path, sizeof(path), "%s/rootfs/%s", dir, dirs[i]);
        if (mkdir(path, 0755) < 0)
            return OCTO_EIO;
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(links); i++) {
        snprintf(path, sizeof(path), "%s/rootfs/%s", dir, links[i][1]);
        if (symlink(links[i][0], path) < 0)
            return OCTO_EIO;
    }
    cJSON *c = oci_config(o, id, v2);
    if (c == NULL)
        return OCTO_ENOMEM;
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    if (text == NULL)
        return OCTO_ENOMEM;
    snprintf(path, sizeof(path), "%s/config.json", dir);
    FILE *f = fopen(path, "we");
    int rc = f != NULL && fputs(text, f) >= 0 ? 0 : OCTO_EIO;
    if (f != NULL && fclose(f) != 0)
        rc = OCTO_EIO;
    octo_free(text);
    return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Removes the bundle tree (crun may have created mount points inside rootfs). */
static void remove_bundle(const char *dir)
{
    OCTO_IGNORE(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS));
}

/* crun 1.8 refuses hybrid hosts ("cgroups in hybrid mode not supported, drop all controllers
 * from cgroupv2"; this build machine has hugetlb on the unified hierarchy), so on v1 and hybrid
 * hosts every crun process runs in a private mount namespace with /sys/fs/cgroup/unified
 * detached, with --cgroup-manager=disabled, inside groups made here: one per controller
 * (memory, pids) under our own path, joined by the crun process before it execs; they also
 * tell OOM and pids-limit kills apart. On pure v2 hosts crun manages the group itself
 * (cgroupsPath under ours, linux.resources). */
struct exec_v1_group {
    char dir[2][EXEC_BUNDLE_PATH_MAX * 2]; /* memory, pids; "" = not created */
};

static bool cgroup_v2_host(void)
{
    return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

/* Our path in the v1 hierarchy of controller ctrl, from /proc/self/cgroup; "" if absent. */
static void own_v1_path(const char *ctrl, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return;
    char line[512], want[32];
    snprintf(want, sizeof(want), ":%s:", ctrl);
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        const char *p = strstr(line, want);
        if (p != NULL && strlen(p + strlen(want)) < size)
            snprintf(out, size, "%s", p + strlen(want));
    }
    fclose(f);
}

static int write_file(const char *dir, const char *name, const char *value)
{
    char path[EXEC_BUNDLE_PATH_MAX * 2 + 32];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return OCTO_EIO;
    size_t len = strlen(value);
    int rc = write(fd, value, len) == (ssize_t)len ? 0 : OCTO_EIO;
    close(fd);
    return rc;
}

/* Value of `key` in a "key value" control file, 0 when unreadable or absent. */
static uint64_t read_key(const char *dir, const char *name, const char *key)
{
    char path[EXEC_BUNDLE_PATH_MAX * 2 + 32], text[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t klen = strlen(key);
    for (const char *p = text; p != NULL && *p != '\0';
         p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
            return strtoull(p + klen + 1, NULL, 10);
    }
    return 0;
}

static void v1_group_destroy(struct exec_v1_group *g)
{
    for (int i = 0; i < 2; i++) {
        if (g->dir[i][0] == '\0')
            continue;
        for (int attempt = 0; attempt < 50 && rmdir(g->dir[i]) < 0; attempt++) {
            char path[EXEC_BUNDLE_PATH_MAX * 2 + 32];
            snprintf(path, sizeof(path), "%s/cgroup.procs", g->dir[i]);
            FILE *f = fopen(path, "re");
            long pid;
            while (f != NULL && fscanf(f, "%ld", &pid) == 1)
                kill((pid_t)pid, SIGKILL);
            if (f != NULL)
                fclose(f);
            usleep(20000);
        }
        g->dir[i][0] = '\0';
    }
}

/* Creates memory and pids groups named id under our own v1 paths with the limits. */
static int v1_group_create(struct exec_v1_group *g, const struct exec_opts *o, const char *id)
{
    static const char *const ctrls[2] = {"memory", "pids"};
    memset(g, 0, sizeof(*g));
    for (int i = 0; i < 2; i++) {
        char own[EXEC_BUNDLE_PATH_MAX];
        own_v1_path(ctrls[i], own, sizeof(own));
        snprintf(g->dir[i], sizeof(g->dir[i]), "/sys/fs/cgroup/%s%s/%s", ctrls[i],
                 strcmp(own, "/") == 0 ? "" : own, id);
        if (mkdir(g->dir[i], 0755) < 0) {
            g->dir[i][0] = '\0';
            v1_group_destroy(g);
            return OCTO_EIO;
        }
    }
    char v[32];
    snprintf(v, sizeof(v), "%llu", (unsigned long long)o->limits.mem_bytes);
    int rc = write_file(g->dir[0], "memory.limit_in_bytes", v);
    if (rc == 0 && access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
        rc = write_file(g->dir[0], "memory.memsw.limit_in_bytes", v);
    snprintf(v, sizeof(v), "%u", (unsigned)o->limits.pids);
    if (rc == 0)
        rc = write_file(g->dir[1], "pids.max", v);
    if (rc < 0)
        v1_group_destroy(g);
    return rc;
}

/* Runs crun with argv, stdin from /dev/null and stdout/stderr on the given descriptors (or
 * inherited when -1), first joining the groups of g (may be NULL). Returns the pid or -1. */
static pid_t spawn_crun(const char *const *argv, int out_fd, int err_fd,
                        const struct exec_v1_group *g)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    for (int i = 0; g != NULL && i < 2; i++) {
        if (g->dir[i][0] != '\0' && write_file(g->dir[i], "cgroup.procs", "0") < 0)
            _exit(127);
    }
    if (!cgroup_v2_host()) { /* crun refuses hybrid hosts: hide the unified hierarchy */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            _exit(127);
        OCTO_IGNORE(umount2("/sys/fs/cgroup/unified", MNT_DETACH));
    }
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || (out_fd >= 0 && dup2(out_fd, 1) < 0) ||
        (err_fd >= 0 && dup2(err_fd, 2) < 0))
        _exit(127);
    static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char *const envp[] = {path_env, NULL};
    char *const *args; /* execve's prototype predates const; it does not write */
    memcpy(&args, &argv, sizeof(args));
    execve(EXEC_CRUN, args, envp);
    _exit(127);
}

/* Runs a crun housekeeping command (kill, delete) with its output discarded — a kill racing
 * the container's start fails harmlessly and is repeated — and returns its exit status. */
static int wait_quiet(const char *const *argv)
{
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_t pid = spawn_crun(argv, null_fd, null_fd, NULL);
    if (null_fd >= 0)
        close(null_fd);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Supervises `crun run`: passes output through until both pipes close, kills the container
 * at the deadline or the output cap. Fills *r and returns 0, or OCTO_EIO. */
static int supervise_crun(struct octo_cli *cli, const struct exec_opts *o, const char *id,
                          const char *bundle, const struct exec_v1_group *g,
                          struct octo_sandbox_result *r)
{
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) < 0)
        return OCTO_EIO;
    if (pipe2(err_pipe, O_CLOEXEC) < 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return OCTO_EIO;
    }
    const char *run_v1[] = {"crun", "--cgroup-manager=disabled", "run", "--bundle", bundle, id,
                            NULL};
    const char *run_v2[] = {"crun", "run", "--bundle", bundle, id, NULL};
    pid_t pid = spawn_crun(g != NULL ? run_v1 : run_v2, out_pipe[1], err_pipe[1], g);
    close(out_pipe[1]);
    close(err_pipe[1]);
    struct pollfd pfd[2] = {{.fd = out_pipe[0], .events = POLLIN},
                            {.fd = err_pipe[0], .events = POLLIN}};
    uint64_t counts[2] = {0, 0}, deadline = now_ms() + o->limits.wall_ms;
    enum octo_sandbox_outcome killed_for = OCTO_SANDBOX_EXITED;
    uint8_t buf[16384];
    while (pid > 0 && (pfd[0].fd >= 0 || pfd[1].fd >= 0)) {
        uint64_t now = now_ms();
        if (now >= deadline && killed_for == OCTO_SANDBOX_EXITED)
            killed_for = OCTO_SANDBOX_TIMEOUT;
        if (killed_for != OCTO_SANDBOX_EXITED) {
            const char *kill_argv[] = {"crun", "kill", id, "KILL", NULL};
            OCTO_IGNORE(wait_quiet(kill_argv));
            deadline = UINT64_MAX;
        }
        int wait = deadline == UINT64_MAX ? 1000 : (int)(deadline - now);
        if (poll(pfd, 2, wait) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || pfd[i].revents == 0)
                continue;
            ssize_t n = read(pfd[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                continue;
            }
            size_t take = (size_t)n;
            if (counts[i] + take > o->limits.output_bytes) {
                take = (size_t)(o->limits.output_bytes - counts[i]);
                if (killed_for == OCTO_SANDBOX_EXITED)
                    killed_for = OCTO_SANDBOX_OUTPUT;
            }
            counts[i] += take;
            pass_output(cli, i + 1, buf, take);
        }
    }
    for (int i = 0; i < 2; i++) {
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return OCTO_EIO;
    memset(r, 0, sizeof(*r));
    r->stdout_bytes = counts[0];
    r->stderr_bytes = counts[1];
    if (g != NULL && read_key(g->dir[0], "memory.oom_control", "oom_kill") > 0) {
        r->outcome = OCTO_SANDBOX_OOM;
        r->signal = SIGKILL;
    } else if (g != NULL && read_key(g->dir[1], "pids.events", "max") > 0) {
        r->outcome = OCTO_SANDBOX_PIDS;
    } else if (killed_for != OCTO_SANDBOX_EXITED) {
        r->outcome = killed_for;
        r->signal = SIGKILL;
    } else if (WIFSIGNALED(st)) {
        r->outcome = OCTO_SANDBOX_SIGNALED;
        r->signal = WTERMSIG(st);
    } else if (WEXITSTATUS(st) > EXEC_EXIT_SIGNAL_BASE) { /* crun reports 128+N */
        r->outcome = WEXITSTATUS(st) - EXEC_EXIT_SIGNAL_BASE == SIGSYS ? OCTO_SANDBOX_SECCOMP
                                                                       : OCTO_SANDBOX_SIGNALED;
        r->signal = WEXITSTATUS(st) - EXEC_EXIT_SIGNAL_BASE;
    } else {
        r->exit_code = WEXITSTATUS(st);
    }
    return 0;
}

static int run_container(struct octo_cli *cli, struct exec_opts *o)
{
    if (access(EXEC_CRUN, X_OK) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "exec: isolation 'container' is unsupported on this host (no %s)",
                             EXEC_CRUN);
    char bundle[EXEC_BUNDLE_PATH_MAX] = "/tmp/octo-exec-XXXXXX";
    if (mkdtemp(bundle) == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "exec: cannot create a bundle directory: %s",
                             strerror(errno));
    char id[64];
    snprintf(id, sizeof(id), "octo-exec-%ld-%llu", (long)getpid(), (unsigned long long)now_ms());
    bool v2 = cgroup_v2_host();
    int rc = write_bundle(bundle, o, id, v2);
    struct exec_v1_group g = {0};
    if (rc == 0 && !v2)
        rc = v1_group_create(&g, o, id);
    struct octo_sandbox_result r;
    if (rc == 0)
        rc = supervise_crun(cli, o, id, bundle, v2 ? NULL : &g, &r);
    const char *delete_argv[] = {"crun", "delete", "-f", id, NULL};
    OCTO_IGNORE(wait_quiet(delete_argv));
    v1_group_destroy(&g);
    remove_bundle(bundle);
    if (rc < 0)
        return octo_cli_fail(cli, EXEC_EXIT_SETUP, "exec: setup-error (container: %s)",
                             octo_strerror(rc));
    return report(cli, &o->limits, &r);
}

/* --- --check --- */

static bool process_ready(const struct octo_sandbox_features *f)
{
    return f->user_ns && f->mount_ns && f->pid_ns && f->net_ns && f->ipc_ns && f->uts_ns &&
           f->seccomp && f->cgroup_memory && f->cgroup_pids;
}

static bool tee_device(void)
{
    return access("/dev/sev-guest", F_OK) == 0 || access("/dev/tdx_guest", F_OK) == 0 ||
           access("/dev/nsm", F_OK) == 0;
}

static int check_json(struct octo_cli *cli, const struct octo_sandbox_features *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *ns = cJSON_AddObjectToObject(o, "namespaces");
    cJSON *cg = cJSON_AddObjectToObject(o, "cgroup");
    cJSON *iso = cJSON_AddObjectToObject(o, "isolation");
    if (o == NULL || ns == NULL || cg == NULL || iso == NULL) {
        cJSON_Delete(o);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    bool ok = cJSON_AddBoolToObject(ns, "user", f->user_ns) &&
              cJSON_AddBoolToObject(ns, "mount", f->mount_ns) &&
              cJSON_AddBoolToObject(ns, "pid", f->pid_ns) &&
              cJSON_AddBoolToObject(ns, "net", f->net_ns) &&
              cJSON_AddBoolToObject(ns, "ipc", f->ipc_ns) &&
              cJSON_AddBoolToObject(ns, "uts", f->uts_ns) &&
              cJSON_AddBoolToObject(ns, "cgroup", f->cgroup_ns) &&
              cJSON_AddNumberToObject(cg, "version", f->cgroup_version) &&
              cJSON_AddBoolToObject(cg, "memory", f->cgroup_memory) &&
              cJSON_AddBoolToObject(cg, "pids", f->cgroup_pids) &&
              cJSON_AddBoolToObject(cg, "cpu", f->cgroup_cpu) &&
              cJSON_AddStringToObject(cg, "base", f->cgroup_base) &&
              cJSON_AddBoolToObject(cg, "clone_into_cgroup", f->clone_into_cgroup) &&
              cJSON_AddBoolToObject(o, "seccomp", f->seccomp) &&
              cJSON_AddNumberToObject(o, "landlock_abi", f->landlock_abi) &&
              cJSON_AddStringToObject(o, "oci_runtime", f->oci_runtime) &&
              cJSON_AddBoolToObject(o, "tpm", f->tpm) &&
              cJSON_AddBoolToObject(iso, "process", process_ready(f)) &&
              cJSON_AddBoolToObject(iso, "container", access(EXEC_CRUN, X_OK) == 0) &&
              cJSON_AddBoolToObject(iso, "tee", false) && cJSON_AddBoolToObject(iso, "zk", false);
    if (!ok) {
        cJSON_Delete(o);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    return octo_cli_print_json(cli, o);
}

static const char *yn(bool b)
{
    return b ? "yes" : "no";
}

static int run_check(struct octo_cli *cli)
{
    struct octo_sandbox_features f;
    int rc = octo_sandbox_probe(&f);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "exec: cannot probe the host: %s",
                             octo_strerror(rc));
    if (octo_args_has(&cli->args, "json"))
        return check_json(cli, &f);
    FILE *out = cli->out;
    fprintf(out, "namespaces     user %s, mount %s, pid %s, net %s, ipc %s, uts %s, cgroup %s\n",
            yn(f.user_ns), yn(f.mount_ns), yn(f.pid_ns), yn(f.net_ns), yn(f.ipc_ns), yn(f.uts_ns),
            yn(f.cgroup_ns));
    if (f.cgroup_version == 0)
        fprintf(out, "cgroup         none usable\n");
    else
        fprintf(out, "cgroup         v%d: memory %s, pids %s, cpu %s (under %s)\n",
                f.cgroup_version, yn(f.cgroup_memory), yn(f.cgroup_pids), yn(f.cgroup_cpu),
                f.cgroup_base[0] != '\0' ? f.cgroup_base : "?");
    fprintf(out, "clone3 cgroup  %s\n", yn(f.clone_into_cgroup));
    fprintf(out, "seccomp        %s\n", yn(f.seccomp));
    if (f.landlock_abi > 0)
        fprintf(out, "landlock       ABI %d\n", f.landlock_abi);
    else
        fprintf(out, "landlock       no\n");
    fprintf(out, "oci runtime    %s\n", f.oci_runtime[0] != '\0' ? f.oci_runtime : "none");
    fprintf(out, "tpm            %s\n", yn(f.tpm));
    fprintf(out, "isolation      process %s, container %s, tee no, zk no\n", yn(process_ready(&f)),
            yn(access(EXEC_CRUN, X_OK) == 0));
    return OCTO_EXIT_OK;
}

static int run_exec(struct octo_cli *cli)
{
    if (octo_args_has(&cli->args, "check")) {
        if (cli->args.positional_count != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "exec: --check takes no command");
        return run_check(cli);
    }
    if (octo_args_has(&cli->args, "json"))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "exec: --json goes with --check");
    struct exec_opts o;
    int status = parse_opts(cli, &o);
    if (status != OCTO_EXIT_OK)
        return status;
    if (strcmp(o.isolation, "tee") == 0)
        return octo_cli_fail(
            cli, OCTO_EXIT_USAGE, "exec: isolation 'tee' is unsupported on this host (%s)",
            tee_device() ? "attested execution is not available in this build" : "no TEE device");
    if (strcmp(o.isolation, "zk") == 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "exec: isolation 'zk' is unsupported on this host (no zero-knowledge "
                             "execution back end)");
    if (strcmp(o.isolation, "container") == 0)
        return run_container(cli, &o);
    return run_process(cli, &o);
}

const struct octo_cli_cmd octo_cmd_exec = {
    .name = "exec",
    .run = run_exec,
    .flags = exec_flags,
    .needs_config = false,
    .usage =
        "exec [--isolation process|container] [--mem BYTES] [--pids N] [--timeout S]\n"
        "                 [--net none|loopback] -- CMD [ARGS...]   |   exec --check [--json]\n\n"
        "exit status: the command's own; 128+N if killed by signal N; 120 sandbox setup\n"
        "error; 121 out of memory; 122 pids limit; 123 output cap; 124 timeout; 125 seccomp\n"
        "kill; 2 usage error",
    .summary = "run a command in the sandbox (or --check the host's isolation features)",
};
