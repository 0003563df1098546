/*
 * oci.c — container isolation through crun (oci.h): bundle, cgroups, supervision.
 *
 * Moved here from the CLI (src/cli/cmd_exec.c) so that every isolation level lives in the exec
 * module behind exec/isolation.h. config.json is written by hand (this module does not link a
 * JSON library): every string goes through json_str, which escapes quotes, backslashes and
 * control characters, so the spec's argv/envp cannot break out of their JSON strings.
 *
 * Supervision: `crun run` gets our stdout/stderr pipes; we poll them against the deadline,
 * count bytes against the cap, and on either `crun kill <id> KILL`; `crun delete -f` always
 * runs afterwards. crun reports the container's death by signal N as exit status 128+N.
 */
#include "exec/oci.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "exec/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUNDLE_PATH_MAX 256
#define CG_DIR_MAX (BUNDLE_PATH_MAX * 2)
#define CG_CTRLS 3 /* memory, pids, cpu (v1) */
#define READ_CHUNK 16384
#define SIGNAL_BASE 128
#define CPU_PERIOD_US 100000u

static atomic_uint g_oci_seq;

int octo_oci_find_runtime(char *path, size_t size)
{
    static const char *const candidates[] = OCTO_OCI_RUNTIMES;
    for (size_t i = 0; i < OCTO_ARRAY_LEN(candidates); i++) {
        if (access(candidates[i], X_OK) != 0)
            continue;
        if (strlen(candidates[i]) >= size)
            return OCTO_ETOOBIG;
        memcpy(path, candidates[i], strlen(candidates[i]) + 1);
        return 0;
    }
    return OCTO_ENOTFOUND;
}

/* ---- config.json --------------------------------------------------------------------------- */

static int json_str(struct octo_buf *b, const char *s)
{
    int rc = octo_buf_append_byte(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            rc = octo_buf_appendf(b, "\\%c", *p);
        else if (*p < 0x20)
            rc = octo_buf_appendf(b, "\\u%04x", *p);
        else
            rc = octo_buf_append_byte(b, *p);
    }
    return rc == 0 ? octo_buf_append_byte(b, '"') : rc;
}

/* ["a","b",...] of the first n strings of v (or up to its NULL). */
static int json_strings(struct octo_buf *b, const char *const *v, size_t n)
{
    int rc = octo_buf_append_byte(b, '[');
    for (size_t i = 0; rc == 0 && i < n && v[i] != NULL; i++) {
        if (i > 0)
            rc = octo_buf_append_byte(b, ',');
        if (rc == 0)
            rc = json_str(b, v[i]);
    }
    return rc == 0 ? octo_buf_append_byte(b, ']') : rc;
}

static int json_mount(struct octo_buf *b, const char *dst, const char *type, const char *src,
                      const char *const *opts, size_t n)
{
    int rc = octo_buf_append_str(b, ",{\"destination\":");
    if (rc == 0)
        rc = json_str(b, dst);
    if (rc == 0)
        rc = octo_buf_appendf(b, ",\"type\":\"%s\",\"source\":", type);
    if (rc == 0)
        rc = json_str(b, src);
    if (rc == 0)
        rc = octo_buf_append_str(b, ",\"options\":");
    if (rc == 0)
        rc = json_strings(b, opts, n);
    return rc == 0 ? octo_buf_append_byte(b, '}') : rc;
}

static int config_process(const struct octo_sandbox_spec *spec,
                          const struct octo_sandbox_limits *eff, struct octo_buf *b)
{
    static const char *const default_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp",
                                              "LANG=C.UTF-8", NULL};
    const char *const *env = spec->envp != NULL ? spec->envp : default_env;
    int rc = octo_buf_append_str(b, "\"process\":{\"terminal\":false,"
                                    "\"user\":{\"uid\":65534,\"gid\":65534},\"args\":");
    if (rc == 0)
        rc = json_strings(b, spec->argv, OCTO_SANDBOX_ARGS_MAX);
    if (rc == 0)
        rc = octo_buf_append_str(b, ",\"env\":");
    if (rc == 0)
        rc = json_strings(b, env, OCTO_SANDBOX_ENV_MAX);
    if (rc == 0)
        rc = octo_buf_append_str(b, ",\"cwd\":");
    if (rc == 0)
        rc = json_str(b, spec->cwd != NULL ? spec->cwd : "/tmp");
    if (rc == 0)
        rc = octo_buf_appendf(
            b,
            ",\"noNewPrivileges\":true,\"capabilities\":{\"bounding\":[],\"effective\":[],"
            "\"inheritable\":[],\"permitted\":[],\"ambient\":[]},\"rlimits\":["
            "{\"type\":\"RLIMIT_NOFILE\",\"hard\":%" PRIu32 ",\"soft\":%" PRIu32 "},"
            "{\"type\":\"RLIMIT_FSIZE\",\"hard\":%" PRIu64 ",\"soft\":%" PRIu64 "},"
            "{\"type\":\"RLIMIT_CORE\",\"hard\":0,\"soft\":0}]},",
            eff->nofile, eff->nofile, eff->fsize_bytes, eff->fsize_bytes);
    return rc;
}

static int config_mounts(const struct octo_sandbox_spec *spec,
                         const struct octo_sandbox_limits *eff, struct octo_buf *b)
{
    static const char *const proc_opts[] = {"nosuid", "noexec", "nodev"};
    static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
    static const char *const usr_opts[] = {"rbind", "ro", "nosuid", "nodev"};
    static const char *const bind_ro[] = {"rbind", "ro", "nosuid", "nodev"};
    static const char *const bind_rw[] = {"rbind", "rw", "nosuid", "nodev"};
    char tmp_size[48];
    snprintf(tmp_size, sizeof(tmp_size), "size=%" PRIu64, eff->tmp_bytes);
    const char *const tmp_opts[] = {"nosuid", "nodev", "mode=1777", tmp_size};
    int rc = octo_buf_append_str(b, "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
                                    "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\","
                                    "\"source\":\"proc\",\"options\":");
    if (rc == 0)
        rc = json_strings(b, proc_opts, OCTO_ARRAY_LEN(proc_opts));
    if (rc == 0)
        rc = octo_buf_append_byte(b, '}');
    if (rc == 0)
        rc = json_mount(b, "/dev", "tmpfs", "tmpfs", dev_opts, OCTO_ARRAY_LEN(dev_opts));
    if (rc == 0)
        rc = json_mount(b, "/tmp", "tmpfs", "tmpfs", tmp_opts, OCTO_ARRAY_LEN(tmp_opts));
    if (rc == 0)
        rc = json_mount(b, "/usr", "bind", "/usr", usr_opts, OCTO_ARRAY_LEN(usr_opts));
    for (size_t i = 0; rc == 0 && i < spec->binds_count; i++) {
        const struct octo_sandbox_bind *m = &spec->binds[i];
        rc = json_mount(b, m->dst, "bind", m->src, m->writable ? bind_rw : bind_ro, 4);
    }
    return rc == 0 ? octo_buf_append_str(b, "],") : rc;
}

static int config_linux(const struct octo_sandbox_limits *eff, const char *cgroups_path, bool v2,
                        struct octo_buf *b)
{
    static const char *const masked[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
                                         "/proc/sched_debug", "/sys/firmware"};
    static const char *const ro_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                           "/proc/sysrq-trigger"};
    size_t kill_count = 0;
    const char *const *kill_list = octo_sandbox_kill_list(&kill_count);
    int rc = octo_buf_append_str(
        b, "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},"
           "{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],");
    if (rc == 0 && v2) {
        rc = octo_buf_append_str(b, "\"cgroupsPath\":");
        if (rc == 0)
            rc = json_str(b, cgroups_path);
        if (rc == 0)
            rc = octo_buf_appendf(b,
                                  ",\"resources\":{\"memory\":{\"limit\":%" PRIu64
                                  ",\"swap\":%" PRIu64 "},\"pids\":{\"limit\":%" PRIu32 "}",
                                  eff->mem_bytes, eff->mem_bytes, eff->pids);
        if (rc == 0 && eff->cpu_pct > 0)
            rc = octo_buf_appendf(b, ",\"cpu\":{\"quota\":%" PRIu64 ",\"period\":%u}",
                                  (uint64_t)eff->cpu_pct * 1000u, CPU_PERIOD_US);
        if (rc == 0)
            rc = octo_buf_append_str(b, "},");
    }
    if (rc == 0)
        rc = octo_buf_append_str(b, "\"maskedPaths\":");
    if (rc == 0)
        rc = json_strings(b, masked, OCTO_ARRAY_LEN(masked));
    if (rc == 0)
        rc = octo_buf_append_str(b, ",\"readonlyPaths\":");
    if (rc == 0)
        rc = json_strings(b, ro_paths, OCTO_ARRAY_LEN(ro_paths));
    /* The process sandbox's policy: deny by default (EPERM), its allowlist, clone without
     * CLONE_NEW* bits, clone3 -> ENOSYS, AF_UNIX sockets only, kill for the never-list;
     * native architecture only (x32 / i386 calls get the default). */
    size_t allow_count = 0;
    const char *const *allow_list = octo_sandbox_allow_list(&allow_count);
    if (rc == 0)
        rc = octo_buf_append_str(b, ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                                    "\"defaultErrnoRet\":1,"
                                    "\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                                    "\"syscalls\":[{\"names\":");
    if (rc == 0)
        rc = json_strings(b, allow_list, allow_count);
    if (rc == 0)
        rc = octo_buf_appendf(
            b,
            ",\"action\":\"SCMP_ACT_ALLOW\"},"
            "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ALLOW\"},"
            "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
            "\"value\":%" PRIu64 ",\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
            "{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},"
            "{\"names\":[\"socket\",\"socketpair\"],\"action\":\"SCMP_ACT_ALLOW\","
            "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]},"
            "{\"names\":",
            octo_sandbox_clone_ns_mask());
    if (rc == 0)
        rc = json_strings(b, kill_list, kill_count);
    if (rc == 0)
        rc = octo_buf_append_str(b, ",\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}}");
    return rc;
}

int octo_oci_config(const struct octo_sandbox_spec *spec, const struct octo_sandbox_limits *eff,
                    const char *id, const char *cgroups_path, bool v2, struct octo_buf *out)
{
    OCTO_ASSERT(spec != NULL && eff != NULL && id != NULL && out != NULL);
    if (spec->argv == NULL || spec->argv[0] == NULL || (v2 && cgroups_path == NULL))
        return OCTO_EINVAL;
    int rc = octo_buf_append_str(out, "{\"ociVersion\":\"1.0.2\",\"hostname\":\"octo-exec\",");
    if (rc == 0)
        rc = config_process(spec, eff, out);
    if (rc == 0)
        rc = config_mounts(spec, eff, out);
    if (rc == 0)
        rc = config_linux(eff, cgroups_path, v2, out);
    if (rc == 0)
        rc = octo_buf_append_str(out, "}\n");
    return rc;
}

/* ---- bundle -------------------------------------------------------------------------------- */

static int write_text(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return octo_err_from_errno(errno);
    int rc = write(fd, data, len) == (ssize_t)len ? 0 : OCTO_EIO;
    if (close(fd) != 0)
        rc = OCTO_EIO;
    return rc;
}

/* Writes DIR/config.json and DIR/rootfs (usr, proc, dev, tmp and the merged-/usr links). */
static int write_bundle(const char *dir, const struct octo_buf *config)
{
    static const char *const dirs[] = {"usr", "proc", "dev", "tmp"};
    static const char *const links[][2] = {
        {"usr/bin", "bin"}, {"usr/lib", "lib"}, {"usr/lib64", "lib64"}, {"usr/sbin", "sbin"}};
    char path[BUNDLE_PATH_MAX + 32];
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
    snprintf(path, sizeof(path), "%s/config.json", dir);
    return write_text(path, config->data, config->len);
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

/* ---- cgroups (v1 / hybrid) ------------------------------------------------------------------ */

struct v1_group {
    char dir[CG_CTRLS][CG_DIR_MAX]; /* memory, pids, cpu; "" = not created */
};

static bool cgroup_v2_host(void)
{
    return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

/* Our path in hierarchy `ctrl` ("memory", or "" for the unified one) from /proc/self/cgroup;
 * "" when absent or the root. */
static void own_cgroup(const char *ctrl, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        const char *c = strchr(line, ':');
        const char *path = c != NULL ? strchr(c + 1, ':') : NULL;
        if (path == NULL)
            continue;
        bool match = false;
        if (ctrl[0] == '\0') {
            match = strncmp(line, "0::", 3) == 0;
        } else { /* "4:memory:/x" or co-mounted "3:cpu,cpuacct:/x" */
            for (const char *w = c + 1; w < path;) {
                size_t wl = strcspn(w, ",:");
                if (wl == strlen(ctrl) && strncmp(w, ctrl, wl) == 0)
                    match = true;
                w += wl + 1;
            }
        }
        if (match && strlen(path + 1) < size)
            snprintf(out, size, "%s", strcmp(path + 1, "/") == 0 ? "" : path + 1);
    }
    fclose(f);
}

static int write_cg(const char *dir, const char *name, const char *value)
{
    char path[CG_DIR_MAX + 32];
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
    char path[CG_DIR_MAX + 32], text[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t klen = strlen(key);
    for (const char *p = text; p != NULL && *p != '\0';
         p = strchr(p, '\n') != NULL ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
            return strtoull(p + klen + 1, NULL, 10);
    }
    return 0;
}

static void v1_group_destroy(struct v1_group *g)
{
    for (int i = 0; i < CG_CTRLS; i++) {
        if (g->dir[i][0] == '\0')
            continue;
        int attempt = 0;
        for (; attempt < 50 && rmdir(g->dir[i]) < 0; attempt++) {
            (void)octo__cgroup_kill_dir(g->dir[i]);
            usleep(20000);
        }
        if (attempt == 50)
            OCTO_WARN("container cgroup %s could not be removed (still busy)", g->dir[i]);
        g->dir[i][0] = '\0';
    }
}

/* Creates memory and pids groups (and cpu with a quota) named id under our own v1 paths. */
static int v1_group_create(struct v1_group *g, const struct octo_sandbox_limits *eff,
                           const char *id)
{
    static const char *const ctrls[CG_CTRLS] = {"memory", "pids", "cpu"};
    memset(g, 0, sizeof(*g));
    for (int i = 0; i < CG_CTRLS; i++) {
        if (i == 2 && eff->cpu_pct == 0)
            continue;
        char own[BUNDLE_PATH_MAX], mount_dir[64];
        own_cgroup(ctrls[i], own, sizeof(own));
        /* cpu is co-mounted as cpu,cpuacct on Debian; the "cpu" link points at it */
        snprintf(mount_dir, sizeof(mount_dir), "/sys/fs/cgroup/%s", ctrls[i]);
        snprintf(g->dir[i], sizeof(g->dir[i]), "%s%s/%s", mount_dir, own, id);
        if (mkdir(g->dir[i], 0755) < 0) {
            g->dir[i][0] = '\0';
            v1_group_destroy(g);
            return OCTO_EIO;
        }
    }
    char v[32];
    snprintf(v, sizeof(v), "%" PRIu64, eff->mem_bytes);
    int rc = write_cg(g->dir[0], "memory.limit_in_bytes", v);
    if (rc == 0 && access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
        rc = write_cg(g->dir[0], "memory.memsw.limit_in_bytes", v);
    snprintf(v, sizeof(v), "%" PRIu32, eff->pids);
    if (rc == 0)
        rc = write_cg(g->dir[1], "pids.max", v);
    if (rc == 0 && eff->cpu_pct > 0) {
        snprintf(v, sizeof(v), "%u", CPU_PERIOD_US);
        rc = write_cg(g->dir[2], "cpu.cfs_period_us", v);
        snprintf(v, sizeof(v), "%" PRIu64, (uint64_t)eff->cpu_pct * 1000u);
        if (rc == 0)
            rc = write_cg(g->dir[2], "cpu.cfs_quota_us", v);
    }
    if (rc < 0)
        v1_group_destroy(g);
    return rc;
}

/* ---- running crun ---------------------------------------------------------------------------- */

/* Runs crun with argv, stdin from /dev/null and stdout/stderr on the given descriptors (or
 * /dev/null when -1), first joining the groups of g (may be NULL). Returns the pid or -1. */
static pid_t spawn_crun(const char *crun, const char *const *argv, int out_fd, int err_fd,
                        const struct v1_group *g)
{
    /* Everything that formats or allocates is done before fork: the child (of a possibly
     * multi-threaded process) makes only async-signal-safe calls. */
    char procs[CG_CTRLS][CG_DIR_MAX + 32];
    for (int i = 0; i < CG_CTRLS; i++) {
        procs[i][0] = '\0';
        if (g != NULL && g->dir[i][0] != '\0')
            snprintf(procs[i], sizeof(procs[i]), "%s/cgroup.procs", g->dir[i]);
    }
    bool hide_unified = !cgroup_v2_host();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    for (int i = 0; i < CG_CTRLS; i++) {
        if (procs[i][0] == '\0')
            continue;
        int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1)
            _exit(127);
        close(fd);
    }
    if (hide_unified) { /* crun refuses hybrid hosts: hide the unified hierarchy */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            _exit(127);
        (void)umount2("/sys/fs/cgroup/unified", MNT_DETACH);
    }
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd >= 0 ? out_fd : null_fd, 1) < 0 ||
        dup2(err_fd >= 0 ? err_fd : null_fd, 2) < 0)
        _exit(127);
    (void)close_range(3, ~0U, 0);
    static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char *const envp[] = {path_env, NULL};
    char *const *args; /* execve's prototype predates const; it does not write */
    memcpy(&args, &argv, sizeof(args));
    execve(crun, args, envp);
    _exit(127);
}

/* A housekeeping command (kill, delete) that takes longer is killed. */
#define CRUN_QUIET_MS 10000

/* Runs a crun housekeeping command (kill, delete) with its output discarded — a kill racing
 * the container's start fails harmlessly and is repeated — and returns its exit status, or -1
 * (also when it hung for CRUN_QUIET_MS, as a container stuck in D state can make it). */
static int crun_quiet(const char *crun, const char *const *argv)
{
    pid_t pid = spawn_crun(crun, argv, -1, -1, NULL);
    int st = 0;
    if (pid < 0)
        return -1;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (waited >= CRUN_QUIET_MS) { /* stuck (a container in D state): do not hang */
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            return -1;
        }
        usleep(10000);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct crun_run {
    const char *crun, *id, *bundle;
    const struct octo_sandbox_spec *spec;
    const struct octo_sandbox_limits *eff;
    const struct v1_group *g; /* NULL on v2 */
};

static void classify(const struct crun_run *c, int st, enum octo_sandbox_outcome killed_for,
                     struct octo_sandbox_result *r)
{
    const struct v1_group *g = c->g;
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
    } else if (WEXITSTATUS(st) > SIGNAL_BASE) { /* crun reports 128+N */
        int sig = WEXITSTATUS(st) - SIGNAL_BASE;
        r->outcome = sig == SIGSYS    ? OCTO_SANDBOX_SECCOMP
                     : sig == SIGXFSZ ? OCTO_SANDBOX_FSIZE
                     : sig == SIGXCPU ? OCTO_SANDBOX_CPU
                                      : OCTO_SANDBOX_SIGNALED;
        r->signal = sig;
    } else {
        r->outcome = OCTO_SANDBOX_EXITED;
        r->exit_code = WEXITSTATUS(st);
    }
}

#define CRUN_KILL_GRACE_MS 5000u /* after a kill, how long the container may take to go */

/* Supervises `crun run`: passes output on until both pipes close, kills the container at the
 * deadline or the output cap (and gives up on it CRUN_KILL_GRACE_MS later: crun is killed and
 * the caller's forced delete removes the rest). Fills *r and returns 0, or OCTO_EIO. */
static int supervise_crun(const struct crun_run *c, struct octo_sandbox_result *r)
{
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) < 0)
        return OCTO_EIO;
    if (pipe2(err_pipe, O_CLOEXEC) < 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return OCTO_EIO;
    }
    const char *run_v1[] = {
        "crun", "--cgroup-manager=disabled", "run", "--bundle", c->bundle, c->id, NULL};
    const char *run_v2[] = {"crun", "run", "--bundle", c->bundle, c->id, NULL};
    uint64_t t0 = now_ms();
    pid_t pid = spawn_crun(c->crun, c->g != NULL ? run_v1 : run_v2, out_pipe[1], err_pipe[1], c->g);
    close(out_pipe[1]);
    close(err_pipe[1]);
    struct pollfd pfd[2] = {{.fd = out_pipe[0], .events = POLLIN},
                            {.fd = err_pipe[0], .events = POLLIN}};
    uint64_t counts[2] = {0, 0}, deadline = t0 + c->eff->wall_ms, killed_at = 0, kill_sent = 0;
    enum octo_sandbox_outcome killed_for = OCTO_SANDBOX_EXITED;
    uint8_t buf[READ_CHUNK];
    while (pid > 0 && (pfd[0].fd >= 0 || pfd[1].fd >= 0)) {
        uint64_t now = now_ms();
        if (now >= deadline && killed_for == OCTO_SANDBOX_EXITED)
            killed_for = OCTO_SANDBOX_TIMEOUT;
        if (killed_for != OCTO_SANDBOX_EXITED && killed_at == 0)
            killed_at = now;
        if (killed_at != 0 && now - killed_at >= CRUN_KILL_GRACE_MS) {
            /* crun could not kill it (or something holds our pipes): stop waiting. Kill crun
             * itself; the caller's `crun delete -f` removes the container and its processes. */
            kill(pid, SIGKILL);
            break;
        }
        if (killed_for != OCTO_SANDBOX_EXITED && now - kill_sent >= 1000) {
            const char *kill_argv[] = {"crun", "kill", c->id, "KILL", NULL};
            OCTO_IGNORE(crun_quiet(c->crun, kill_argv)); /* again each second until it ends */
            kill_sent = now;
            deadline = UINT64_MAX;
        }
        int wait = deadline == UINT64_MAX ? 1000 : (int)(deadline - now);
        if (poll(pfd, 2, wait) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || pfd[i].revents == 0)
                continue;
            ssize_t n = read(pfd[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                continue;
            }
            size_t take = (size_t)n;
            if (counts[i] + take > c->eff->output_bytes) {
                take = (size_t)(c->eff->output_bytes - counts[i]);
                if (killed_for == OCTO_SANDBOX_EXITED)
                    killed_for = OCTO_SANDBOX_OUTPUT;
            }
            counts[i] += take;
            if (take > 0 && c->spec->on_output != NULL)
                c->spec->on_output(c->spec->ctx, i + 1, buf, take);
        }
    }
    for (int i = 0; i < 2; i++) {
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    }
    int st = 0;
    if (pid < 0)
        return OCTO_EIO;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return OCTO_EIO;
    }
    r->stdout_bytes = counts[0];
    r->stderr_bytes = counts[1];
    r->wall_ns = (now_ms() - t0) * 1000000u;
    classify(c, st, killed_for, r);
    return 0;
}

static void setup_failed(struct octo_sandbox_result *out, const char *what, int rc)
{
    out->outcome = OCTO_SANDBOX_SETUP_ERROR;
    snprintf(out->setup_error, sizeof(out->setup_error), "container: %s: %s", what,
             octo_strerror(rc));
}

int octo_oci_run(const struct octo_sandbox_spec *spec, struct octo_sandbox_result *out)
{
    OCTO_ASSERT(out != NULL);
    struct octo_sandbox_limits eff;
    int rc = octo__sandbox_check(spec, &eff);
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    char crun[BUNDLE_PATH_MAX];
    if (octo_oci_find_runtime(crun, sizeof(crun)) != 0) {
        out->outcome = OCTO_SANDBOX_SETUP_ERROR;
        snprintf(out->setup_error, sizeof(out->setup_error), "no OCI runtime (crun) installed");
        return OCTO_EUNSUPPORTED;
    }
    if (spec->stdin_data != NULL || spec->stdin_feed != NULL) {
        out->outcome = OCTO_SANDBOX_SETUP_ERROR;
        snprintf(out->setup_error, sizeof(out->setup_error),
                 "stdin is not supported by container isolation");
        return OCTO_EUNSUPPORTED;
    }
    char bundle[BUNDLE_PATH_MAX] = "/tmp/octo-exec-XXXXXX";
    if (mkdtemp(bundle) == NULL) {
        setup_failed(out, "bundle directory", octo_err_from_errno(errno));
        return 0;
    }
    char id[OCTO_OCI_ID_MAX], own[BUNDLE_PATH_MAX], cg[BUNDLE_PATH_MAX + OCTO_OCI_ID_MAX];
    snprintf(id, sizeof(id), "octo-exec-%ld-%u", (long)getpid(), atomic_fetch_add(&g_oci_seq, 1));
    bool v2 = cgroup_v2_host();
    own_cgroup(v2 ? "" : "memory", own, sizeof(own));
    snprintf(cg, sizeof(cg), "%s/%s", own, id);
    struct octo_buf config;
    octo_buf_init(&config, OCTO_OCI_CONFIG_MAX);
    rc = octo_oci_config(spec, &eff, id, cg, v2, &config);
    const char *what = "config.json";
    if (rc == 0) {
        what = "bundle";
        rc = write_bundle(bundle, &config);
    }
    octo_buf_deinit(&config);
    struct v1_group g;
    memset(&g, 0, sizeof(g));
    if (rc == 0 && !v2) {
        what = "v1 cgroups";
        rc = v1_group_create(&g, &eff, id);
    }
    if (rc == 0) {
        what = "crun run";
        const struct crun_run c = {crun, id, bundle, spec, &eff, v2 ? NULL : &g};
        rc = supervise_crun(&c, out);
    }
    const char *delete_argv[] = {"crun", "delete", "-f", id, NULL};
    OCTO_IGNORE(crun_quiet(crun, delete_argv));
    v1_group_destroy(&g);
    remove_bundle(bundle);
    if (rc != 0)
        setup_failed(out, what, rc);
    return 0;
}
