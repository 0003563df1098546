/*
 * sandbox.c — the process sandbox runner (sandbox.h): EXECUTION.md §4 step by step.
 *
 * Parent (supervisor), per run:
 *   1. (nothing process-wide: the child closes every descriptor but its own first thing after
 *      clone, so the host process's other descriptors keep their flags);
 *   2. prepares everything the child will need into one heap "plan": the resolved program
 *      path, argv/envp pointer arrays, mount options, the seccomp program (seccomp.c, cached),
 *      and detached mount trees for /usr, the merged-/usr entries that are directories, the
 *      device nodes and every bind of the spec: open_tree(OPEN_TREE_CLONE) + mount_setattr
 *      (read-only, nosuid, nodev — writable binds only nosuid, nodev) done here, as real root,
 *      so host path permissions never matter to the child and the child cannot forget a flag;
 *   3. creates the cgroup under our own (cgroup.c) with the memory, pids and CPU limits;
 *   4. clone3(NEWUSER|NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS|PIDFD [|INTO_CGROUP on v2]),
 *      falling back to clone when clone3 is missing; the child blocks on a sync pipe and,
 *      once released (inside its cgroups), unshares NEWCGROUP so its cgroup root is its own;
 *   5. writes uid_map/gid_map — namespace root -> HOST_ROOT_ID (an unused host id), workload
 *      uid OCTO_SANDBOX_UID -> 65534 — (v1: writes the pid into each cgroup.procs), releases
 *      the child;
 *   6. supervises: poll() over stdout, stderr, the error pipe, the pidfd and stdin against the
 *      wall deadline, counting bytes; SIGKILLs the namespace's init and the cgroup at the
 *      output cap or the deadline; reaps; reads the cgroup counters; classifies; kills
 *      leftovers and removes the cgroup.
 *
 * Child, before execve, raw system calls only (no allocation, no locks, no glibc setxid
 * broadcast — set*id go through syscall(); forks are raw clone()):
 *   the namespace's init (pid 1): PDEATHSIG, become namespace root, drop supplementary
 *   groups, private mounts, tmpfs root (on /tmp of the private mount namespace), the prepared
 *   trees moved in with move_mount, merged-/usr symlinks, /dev/{null,zero,urandom}, /tmp tmpfs
 *   of limits.tmp_bytes, fresh /proc (nosuid,nodev,noexec; /proc/sys bound read-only), the
 *   spec's binds, hostname, pivot_root + detach, / read-only, loopback up (NET_LOOPBACK
 *   only); then it forks the command and only reaps: the kernel drops default-action signals
 *   a namespace init sends itself (SIGXFSZ, SIGXCPU), so the command must not be pid 1. When
 *   the command ends, init reports its wait status on the report pipe and exits, and the
 *   kernel kills whatever the command left behind in the namespace.
 *   the command (pid 2): stdin/stdout/stderr, error pipe on fd 3 (CLOEXEC), close_range(4..),
 *   cwd, rlimits (CORE 0, NOFILE, FSIZE, CPU = wall + slack), bounding set dropped,
 *   setresgid/setresuid(OCTO_SANDBOX_UID), capabilities and ambient set cleared,
 *   NO_NEW_PRIVS, PDEATHSIG, seccomp, execve.
 * Any failing step writes {step, arg, errno} to the report pipe and exits 127; the parent
 * turns that into OCTO_SANDBOX_SETUP_ERROR naming the step.
 *
 * Supplementary groups: setgroups is left "allow" because the parent (root) writes gid_map
 * with CAP_SETGID, which lets the child call setgroups(0, NULL) — with "deny" the child would
 * keep host root's supplementary group 0, which still counts for permission checks on
 * bind-mounted host files. Unprivileged operation (single-id maps, setgroups deny) is not
 * supported: a non-root caller gets SETUP_ERROR.
 *
 * A bad program (argv[0] not found or not executable) is a SETUP_ERROR whose setup_error
 * names execve and the errno: nothing of the command ran.
 *
 * Warm sandboxes (pool.h): the same plan split in two — plan_env (everything but the task) is
 * prepared and the child runs the whole init path up to /proc, pivot_root and loopback, closes
 * every descriptor that is not its own (child_close_foreign), reports READY and blocks on the
 * sync pipe; the task (struct task_hdr + strings: program, cwd, argv, envp, rlimits) arrives
 * there later, and from the fork of the command on, a warm run is a cold run: the same
 * workload_main, init_main, supervise_run and classify. The task's cgroup limits are written
 * into the prepared group before the task is sent.
 *
 * Memory: the plan (~130 KiB) is one octo_calloc per run, freed before returning (a warm
 * plan adds an OCTO__SANDBOX_TASK_MAX task buffer, freed once the child is ready).
 */
#include "exec/sandbox.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "exec/cgroup.h"
#include "exec/oci.h"
#include "exec/pool.h"
#include "exec/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* Host id that namespace root maps to: above every range Debian hands out in /etc/subuid
 * (100000 + 65536 * n for ordinary users) and never host root. */
#define HOST_ROOT_ID 2000000000u
#define HOST_NOBODY_ID 65534u
#define ROOT_MNT "/tmp" /* where the new root tmpfs is mounted (private ns) */
#define ROOT_TMPFS_OPTS "mode=0755,size=1m,nr_inodes=4k"
#define HOSTNAME "octo-sandbox"
#define CPU_SLACK_S 2u              /* RLIMIT_CPU backstop = wall + slack */
#define KILL_GRACE_NS 2000000000ull /* after a kill, how long we wait for pipes to close */
#define READ_CHUNK 65536
#define MOUNTS_MAX (OCTO_SANDBOX_BINDS_MAX + 12)
#define LINKS_MAX 12
#define ROOT_ENTRY_TARGET_MAX 64

static const char *const default_env[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", NULL};
static const char *const root_entries[] = {"bin", "sbin", "lib", "lib64", "lib32", "libx32"};
static const char *const dev_nodes[] = {"null", "zero", "urandom"};

/* Child setup steps, reported through the error pipe. */
enum step {
    STEP_SYNC,
    STEP_SETRESGID_ROOT,
    STEP_SETRESUID_ROOT,
    STEP_SETGROUPS,
    STEP_MOUNT_PRIVATE,
    STEP_ROOT_TMPFS,
    STEP_CHDIR_ROOT,
    STEP_SYMLINK,
    STEP_MKDIR,
    STEP_MOVE_MOUNT,
    STEP_TMP_TMPFS,
    STEP_PROC,
    STEP_PROC_SYS_RO,
    STEP_HOSTNAME,
    STEP_PIVOT_ROOT,
    STEP_UMOUNT_OLD,
    STEP_REMOUNT_RO,
    STEP_LOOPBACK,
    STEP_STDIO,
    STEP_CLOSE_RANGE,
    STEP_CWD,
    STEP_RLIMIT,
    STEP_CAPBSET,
    STEP_SETRESGID,
    STEP_SETRESUID,
    STEP_CAPSET,
    STEP_AMBIENT,
    STEP_NO_NEW_PRIVS,
    STEP_PDEATHSIG,
    STEP_SECCOMP,
    STEP_EXECVE,
    STEP_FORK,
    STEP_CGROUP_NS,
    STEP_TASK,
    STEP_COUNT,
    STEP_STATUS = 1000, /* not a failure: init reports the command's wait status */
    STEP_READY = 1001,  /* not a failure: a prepared (warm) sandbox waits for its task */
};

static const char *const step_names[STEP_COUNT] = {
    "sync",
    "setresgid(0)",
    "setresuid(0)",
    "setgroups(0)",
    "mount private",
    "root tmpfs",
    "chdir root",
    "symlink",
    "mkdir",
    "move_mount",
    "/tmp tmpfs",
    "mount /proc",
    "/proc/sys ro",
    "sethostname",
    "pivot_root",
    "umount old root",
    "remount / ro",
    "loopback up",
    "stdio",
    "close_range",
    "chdir cwd",
    "setrlimit",
    "capbset drop",
    "setresgid",
    "setresuid",
    "capset",
    "ambient clear",
    "no_new_privs",
    "pdeathsig",
    "seccomp",
    "execve",
    "fork workload",
    "unshare cgroup ns",
    "read task",
};

struct err_record {
    int32_t step, arg, err;
};

/* A warm sandbox's task, sent on the sync pipe: this header, then `len` bytes of
 * NUL-terminated strings — program path, cwd, argc arguments, envc environment entries. */
#define TASK_MAGIC 0x6f63746fu
struct task_hdr {
    uint32_t magic, len, argc, envc, stdin_pipe, pad;
    uint64_t nofile, fsize, cpu_cur, cpu_max;
};

struct plan_mount {
    int fd;                          /* detached tree (open_tree), owned by the plan */
    bool dir;                        /* create a directory (else an empty file) as mount point */
    char dst[OCTO_SANDBOX_PATH_MAX]; /* relative to the new root */
};

struct plan_link {
    char name[16];
    char target[ROOT_ENTRY_TARGET_MAX];
};

struct plan {
    int sync_fd, err_fd, in_fd, out_fd, errout_fd;
    bool loopback;
    char tmp_opts[96];
    size_t nmounts, first_bind; /* mounts[first_bind..] go after /tmp and /proc */
    struct plan_mount mounts[MOUNTS_MAX];
    size_t nlinks;
    struct plan_link links[LINKS_MAX];
    struct rlimit rl_nofile, rl_fsize, rl_cpu;
    char exec_path[OCTO_SANDBOX_PATH_MAX];
    char cwd[OCTO_SANDBOX_PATH_MAX];
    char *argv[OCTO_SANDBOX_ARGS_MAX + 1];
    char *envp[OCTO_SANDBOX_ENV_MAX + 1];
    const struct sock_fprog *prog;
    const struct sock_fprog *guard; /* stacked ioctl guard (seccomp.h) */
    int cap_last;
    char *task_buf; /* warm only: OCTO__SANDBOX_TASK_MAX bytes the child reads its task into */
};

/* Per-run effective limits (defaults applied). */
struct limits {
    uint64_t mem, wall_ms, output, fsize, tmp;
    uint32_t pids, cpu_pct, nofile;
};

static atomic_uint g_seq;

/* ---- helpers (parent) -------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void setup_error(struct octo_sandbox_result *out, const char *what, int err)
{
    out->outcome = OCTO_SANDBOX_SETUP_ERROR;
    if (err != 0)
        snprintf(out->setup_error, sizeof(out->setup_error), "%s: %s", what, strerror(err));
    else
        snprintf(out->setup_error, sizeof(out->setup_error), "%s", what);
}

static uint64_t or_default(uint64_t v, uint64_t d)
{
    return v != 0 ? v : d;
}

static bool path_ok(const char *p)
{
    if (p == NULL || p[0] != '/')
        return false;
    size_t len = strnlen(p, OCTO_SANDBOX_PATH_MAX);
    if (len >= OCTO_SANDBOX_PATH_MAX)
        return false;
    /* No ".." component: binds and cwd must stay where they say. */
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
        bool start = s[-1] == '/';
        bool end = s[2] == '/' || s[2] == '\0';
        if (start && end)
            return false;
    }
    return true;
}

static size_t count_list(const char *const *v, size_t max)
{
    size_t n = 0;
    while (v[n] != NULL && n <= max)
        n++;
    return n;
}

static int validate(const struct octo_sandbox_spec *spec, struct limits *lim)
{
    if (spec == NULL || spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] == '\0')
        return OCTO_EINVAL;
    if (count_list(spec->argv, OCTO_SANDBOX_ARGS_MAX) > OCTO_SANDBOX_ARGS_MAX)
        return OCTO_EINVAL;
    if (strnlen(spec->argv[0], OCTO_SANDBOX_PATH_MAX) >= OCTO_SANDBOX_PATH_MAX - 16)
        return OCTO_EINVAL;
    if (strchr(spec->argv[0], '/') != NULL && !path_ok(spec->argv[0]))
        return OCTO_EINVAL;
    if (spec->envp != NULL && count_list(spec->envp, OCTO_SANDBOX_ENV_MAX) > OCTO_SANDBOX_ENV_MAX)
        return OCTO_EINVAL;
    if (spec->cwd != NULL && !path_ok(spec->cwd))
        return OCTO_EINVAL;
    if (spec->stdin_len > 0 && spec->stdin_data == NULL)
        return OCTO_EINVAL;
    if (spec->stdin_len > OCTO_SANDBOX_STDIN_MAX)
        return OCTO_EINVAL;
    if (spec->stdin_feed != NULL && spec->stdin_data != NULL)
        return OCTO_EINVAL;
    if (spec->binds_count > OCTO_SANDBOX_BINDS_MAX)
        return OCTO_EINVAL;
    for (size_t i = 0; i < spec->binds_count; i++) {
        const struct octo_sandbox_bind *b = &spec->binds[i];
        if (!path_ok(b->src) || !path_ok(b->dst) || strcmp(b->dst, "/") == 0)
            return OCTO_EINVAL;
    }
    if (spec->net != OCTO_SANDBOX_NET_NONE && spec->net != OCTO_SANDBOX_NET_LOOPBACK)
        return OCTO_EINVAL;
    const struct octo_sandbox_limits *l = &spec->limits;
    lim->mem = or_default(l->mem_bytes, OCTO_SANDBOX_MEM_DEFAULT);
    lim->pids = (uint32_t)or_default(l->pids, OCTO_SANDBOX_PIDS_DEFAULT);
    lim->cpu_pct = l->cpu_pct;
    lim->wall_ms = or_default(l->wall_ms, OCTO_SANDBOX_WALL_MS_DEFAULT);
    lim->output = or_default(l->output_bytes, OCTO_SANDBOX_OUTPUT_DEFAULT);
    lim->fsize = or_default(l->fsize_bytes, OCTO_SANDBOX_FSIZE_DEFAULT);
    lim->tmp = or_default(l->tmp_bytes, OCTO_SANDBOX_TMP_DEFAULT);
    lim->nofile = (uint32_t)or_default(l->nofile, OCTO_SANDBOX_NOFILE_DEFAULT);
    if (lim->mem > OCTO_SANDBOX_MEM_MAX || lim->pids > OCTO_SANDBOX_PIDS_MAX ||
        lim->cpu_pct > OCTO_SANDBOX_CPU_PCT_MAX || lim->wall_ms > OCTO_SANDBOX_WALL_MS_MAX ||
        lim->output > OCTO_SANDBOX_OUTPUT_MAX || lim->fsize > OCTO_SANDBOX_FSIZE_MAX ||
        lim->tmp > OCTO_SANDBOX_TMP_MAX || lim->nofile > OCTO_SANDBOX_NOFILE_MAX)
        return OCTO_EINVAL;
    if (lim->nofile < 4)
        return OCTO_EINVAL;
    return 0;
}

/* Detaches a copy of the host mount tree at src with the given attributes into a new plan
 * entry. Returns 0 or -errno. */
static int plan_tree(struct plan *p, const char *src, const char *dst, uint64_t attrs)
{
    OCTO_ASSERT(p->nmounts < MOUNTS_MAX);
    struct plan_mount *m = &p->mounts[p->nmounts];
    while (*dst == '/')
        dst++;
    int n = snprintf(m->dst, sizeof(m->dst), "%s", dst);
    if (n < 0 || (size_t)n >= sizeof(m->dst))
        return -ENAMETOOLONG;
    /* The source is resolved without following any symlink (or /proc magic link): a workload
     * that planted `out/data -> /etc` in a writable bind must not get host /etc bound into a
     * later sandbox that binds out/data. */
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    int src_fd = (int)syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof(how));
    if (src_fd < 0)
        return -errno;
    struct stat st;
    if (fstat(src_fd, &st) != 0) {
        int e = errno;
        close(src_fd);
        return -e;
    }
    m->dir = S_ISDIR(st.st_mode);
    m->fd =
        open_tree(src_fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    int open_errno = errno;
    close(src_fd);
    if (m->fd < 0)
        return -open_errno;
    struct mount_attr attr = {.attr_set = attrs};
    if (mount_setattr(m->fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
        int e = errno;
        close_fd(&m->fd);
        return -e;
    }
    p->nmounts++;
    return 0;
}

static void plan_free(struct plan *p)
{
    for (size_t i = 0; i < p->nmounts; i++)
        close_fd(&p->mounts[i].fd);
    octo_free(p->task_buf);
    octo_free(p);
}

static int read_cap_last(void)
{
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 63;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 63;
    buf[n] = '\0';
    char *end = NULL;
    long v = strtol(buf, &end, 10);
    return v >= 0 && v < 64 ? (int)v : 63;
}

static void resolve_program(const char *name, char *out, size_t size)
{
    if (strchr(name, '/') != NULL) {
        snprintf(out, size, "%s", name);
        return;
    }
    static const char *const dirs[] = {"/usr/bin", "/bin"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(dirs); i++) {
        snprintf(out, size, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0)
            return;
    }
    snprintf(out, size, "/usr/bin/%s", name);
}

/* The per-task rlimits of the command (NOFILE, FSIZE, CPU). RLIMIT_CPU counts the CPU time of
 * all the process's threads, so the backstop is (wall + slack) times the cores the task may
 * use: its quota in cores (rounded up), or every online CPU without a quota — a multi-threaded
 * task must not be killed as CPU before its wall deadline. */
static void task_rlimits(const struct limits *lim, struct rlimit *nofile, struct rlimit *fsize,
                         struct rlimit *cpu)
{
    nofile->rlim_cur = nofile->rlim_max = lim->nofile;
    fsize->rlim_cur = fsize->rlim_max = lim->fsize;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t cores =
        lim->cpu_pct > 0 ? (lim->cpu_pct + 99) / 100 : (online > 0 ? (uint64_t)online : 1);
    cpu->rlim_cur = (rlim_t)(((lim->wall_ms + 999) / 1000 + CPU_SLACK_S) * cores);
    cpu->rlim_max = cpu->rlim_cur + 1;
}

/* The task half of the plan: program, arguments, environment, cwd, rlimits. */
static void plan_task(struct plan *p, const struct octo_sandbox_spec *spec,
                      const struct limits *lim)
{
    resolve_program(spec->argv[0], p->exec_path, sizeof(p->exec_path));
    snprintf(p->cwd, sizeof(p->cwd), "%s", spec->cwd != NULL ? spec->cwd : "/tmp");
    size_t argc = count_list(spec->argv, OCTO_SANDBOX_ARGS_MAX);
    memcpy(p->argv, spec->argv, argc * sizeof(char *));
    p->argv[argc] = NULL;
    const char *const *env = spec->envp != NULL ? spec->envp : default_env;
    size_t envc = count_list(env, OCTO_SANDBOX_ENV_MAX);
    memcpy(p->envp, env, envc * sizeof(char *));
    p->envp[envc] = NULL;
    task_rlimits(lim, &p->rl_nofile, &p->rl_fsize, &p->rl_cpu);
}

/* The environment half of the plan (what a warm sandbox prepares ahead of the task): net
 * mode, /tmp size, seccomp programs, the detached trees of /usr, the root entries, the device
 * nodes and the binds. On failure writes the reason into out and returns nonzero. */
static int plan_env(struct plan *p, const struct octo_sandbox_spec *spec, const struct limits *lim,
                    struct octo_sandbox_result *out)
{
    p->sync_fd = p->err_fd = p->in_fd = p->out_fd = p->errout_fd = -1;
    p->loopback = spec->net == OCTO_SANDBOX_NET_LOOPBACK;
    snprintf(p->tmp_opts, sizeof(p->tmp_opts), "mode=1777,size=%" PRIu64, lim->tmp);
    p->cap_last = read_cap_last();

    int rc = octo__seccomp_program(p->loopback, &p->prog);
    if (rc == 0)
        rc = octo__seccomp_guard(&p->guard);
    if (rc != 0) {
        setup_error(out, "seccomp compile failed", 0);
        return rc;
    }
    const uint64_t ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    rc = plan_tree(p, "/usr", "usr", ro);
    if (rc != 0) {
        setup_error(out, "open_tree /usr", -rc);
        return rc;
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(root_entries); i++) {
        char host[32], target[ROOT_ENTRY_TARGET_MAX];
        snprintf(host, sizeof(host), "/%s", root_entries[i]);
        struct stat st;
        if (lstat(host, &st) != 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(host, target, sizeof(target) - 1);
            if (n <= 0 || (size_t)n >= sizeof(target) - 1 || p->nlinks >= LINKS_MAX)
                continue;
            target[n] = '\0';
            struct plan_link *l = &p->links[p->nlinks++];
            snprintf(l->name, sizeof(l->name), "%s", root_entries[i]);
            memcpy(l->target, target, (size_t)n + 1);
        } else if (S_ISDIR(st.st_mode)) {
            rc = plan_tree(p, host, root_entries[i], ro);
            if (rc != 0) {
                setup_error(out, "open_tree root entry", -rc);
                return rc;
            }
        }
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(dev_nodes); i++) {
        char host[32], dst[32];
        snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
        snprintf(dst, sizeof(dst), "dev/%s", dev_nodes[i]);
        rc = plan_tree(p, host, dst, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        if (rc != 0) {
            setup_error(out, "open_tree /dev node", -rc);
            return rc;
        }
    }
    p->first_bind = p->nmounts;
    for (size_t i = 0; i < spec->binds_count; i++) {
        const struct octo_sandbox_bind *b = &spec->binds[i];
        uint64_t attrs = b->writable ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : ro;
        rc = plan_tree(p, b->src, b->dst, attrs);
        if (rc != 0) {
            char what[96];
            snprintf(what, sizeof(what), "bind %zu (open_tree %.32s)", i, b->src);
            setup_error(out, what, -rc);
            return rc;
        }
    }
    return 0;
}

/* Fills the plan; on failure writes the reason into out and returns nonzero. */
static int plan_prepare(struct plan *p, const struct octo_sandbox_spec *spec,
                        const struct limits *lim, struct octo_sandbox_result *out)
{
    plan_task(p, spec, lim);
    return plan_env(p, spec, lim, out);
}

/* ---- child ------------------------------------------------------------------------------- */

static _Noreturn void child_fail(const struct plan *p, enum step step, int arg)
{
    struct err_record rec = {(int32_t)step, arg, errno};
    ssize_t n = write(p->err_fd, &rec, sizeof(rec));
    (void)n;
    _exit(127);
}

/* mkdir -p of every parent of rel (relative to the cwd). */
static int mkdir_parents(const char *rel)
{
    char buf[OCTO_SANDBOX_PATH_MAX];
    size_t len = strlen(rel);
    OCTO_ASSERT(len < sizeof(buf));
    memcpy(buf, rel, len + 1);
    for (size_t i = 1; i < len; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        buf[i] = '/';
    }
    return 0;
}

static void child_mount_tree(const struct plan *p, size_t i)
{
    const struct plan_mount *m = &p->mounts[i];
    if (mkdir_parents(m->dst) != 0)
        child_fail(p, STEP_MKDIR, (int)i);
    if (m->dir) {
        if (mkdir(m->dst, 0755) != 0 && errno != EEXIST)
            child_fail(p, STEP_MKDIR, (int)i);
    } else {
        int fd = open(m->dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            child_fail(p, STEP_MKDIR, (int)i);
        close(fd);
    }
    if (move_mount(m->fd, "", AT_FDCWD, m->dst, MOVE_MOUNT_F_EMPTY_PATH) != 0)
        child_fail(p, STEP_MOVE_MOUNT, (int)i);
}

static void child_filesystem(const struct plan *p)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        child_fail(p, STEP_MOUNT_PRIVATE, 0);
    if (mount("tmpfs", ROOT_MNT, "tmpfs", MS_NOSUID | MS_NODEV, ROOT_TMPFS_OPTS) != 0)
        child_fail(p, STEP_ROOT_TMPFS, 0);
    if (chdir(ROOT_MNT) != 0)
        child_fail(p, STEP_CHDIR_ROOT, 0);
    for (size_t i = 0; i < p->nlinks; i++) {
        if (symlink(p->links[i].target, p->links[i].name) != 0)
            child_fail(p, STEP_SYMLINK, (int)i);
    }
    for (size_t i = 0; i < p->first_bind; i++)
        child_mount_tree(p, i);
    static const char *const dev_links[][2] = {{"/proc/self/fd", "dev/fd"},
                                               {"/proc/self/fd/0", "dev/stdin"},
                                               {"/proc/self/fd/1", "dev/stdout"},
                                               {"/proc/self/fd/2", "dev/stderr"}};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(dev_links); i++) {
        if (symlink(dev_links[i][0], dev_links[i][1]) != 0)
            child_fail(p, STEP_SYMLINK, 100 + (int)i);
    }
    if (mkdir("tmp", 0755) != 0)
        child_fail(p, STEP_MKDIR, -1);
    if (mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, p->tmp_opts) != 0)
        child_fail(p, STEP_TMP_TMPFS, 0);
    if (mkdir("proc", 0755) != 0)
        child_fail(p, STEP_MKDIR, -2);
    if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        child_fail(p, STEP_PROC, 0);
    if (mount("proc/sys", "proc/sys", NULL, MS_BIND | MS_REC, NULL) != 0 ||
        mount(NULL, "proc/sys", NULL,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        child_fail(p, STEP_PROC_SYS_RO, 0);
    for (size_t i = p->first_bind; i < p->nmounts; i++)
        child_mount_tree(p, i);
    if (sethostname(HOSTNAME, sizeof(HOSTNAME) - 1) != 0)
        child_fail(p, STEP_HOSTNAME, 0);
    if (syscall(SYS_pivot_root, ".", ".") != 0)
        child_fail(p, STEP_PIVOT_ROOT, 0);
    if (umount2(".", MNT_DETACH) != 0)
        child_fail(p, STEP_UMOUNT_OLD, 0);
    if (chdir("/") != 0)
        child_fail(p, STEP_CHDIR_ROOT, 1);
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        child_fail(p, STEP_REMOUNT_RO, 0);
}

static void child_loopback(const struct plan *p)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        child_fail(p, STEP_LOOPBACK, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        child_fail(p, STEP_LOOPBACK, 1);
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        child_fail(p, STEP_LOOPBACK, 2);
    close(s);
}

/* Moves the pipes to 0, 1, 2 and the error pipe to 3, closes everything else. */
static void child_stdio(struct plan *p)
{
    int in = p->in_fd;
    if (in < 0) {
        in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in < 0)
            child_fail(p, STEP_STDIO, 0);
    }
    /* First lift everything above the target range so dup2 cannot clobber a source. */
    int hin = fcntl(in, F_DUPFD_CLOEXEC, 10);
    int hout = fcntl(p->out_fd, F_DUPFD_CLOEXEC, 10);
    int herr = fcntl(p->errout_fd, F_DUPFD_CLOEXEC, 10);
    int hrep = fcntl(p->err_fd, F_DUPFD_CLOEXEC, 10);
    if (hin < 0 || hout < 0 || herr < 0 || hrep < 0)
        child_fail(p, STEP_STDIO, 1);
    p->err_fd = hrep;
    if (dup2(hin, 0) != 0 || dup2(hout, 1) != 1 || dup2(herr, 2) != 2)
        child_fail(p, STEP_STDIO, 2);
    if (dup3(hrep, 3, O_CLOEXEC) != 3)
        child_fail(p, STEP_STDIO, 3);
    p->err_fd = 3;
    if (close_range(4, ~0U, 0) != 0)
        child_fail(p, STEP_CLOSE_RANGE, 0);
}

static void child_privileges(const struct plan *p)
{
    for (int c = 0; c <= p->cap_last; c++) {
        if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) != 0 && errno != EINVAL)
            child_fail(p, STEP_CAPBSET, c);
    }
    if (syscall(SYS_setresgid, OCTO_SANDBOX_UID, OCTO_SANDBOX_UID, OCTO_SANDBOX_UID) != 0)
        child_fail(p, STEP_SETRESGID, 0);
    if (syscall(SYS_setresuid, OCTO_SANDBOX_UID, OCTO_SANDBOX_UID, OCTO_SANDBOX_UID) != 0)
        child_fail(p, STEP_SETRESUID, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) != 0)
        child_fail(p, STEP_CAPSET, 0);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        child_fail(p, STEP_AMBIENT, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(p, STEP_NO_NEW_PRIVS, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        child_fail(p, STEP_PDEATHSIG, 0);
}

/* The command itself (pid 2 of the namespace): descriptors, limits, privileges, seccomp,
 * execve. */
/* The command starts with every signal at its default action and none blocked, whatever the
 * supervisor's process had set (the CLI ignores SIGPIPE, for one; a CI runner may have left
 * signals 32/33 ignored). Raw rt_sigaction/rt_sigprocmask: glibc's wrappers refuse to touch
 * the real-time signals it reserves for itself. Async-signal-safe. */
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static void child_signals_default(void)
{
    struct kernel_sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.handler = SIG_DFL;
    for (int sig = 1; sig <= 64; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
    }
    uint64_t none = 0;
    (void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
}

static _Noreturn void workload_main(struct plan *p)
{
    child_signals_default();
    child_stdio(p);
    if (chdir(p->cwd) != 0)
        child_fail(p, STEP_CWD, 0);
    const struct rlimit core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &core) != 0 || setrlimit(RLIMIT_NOFILE, &p->rl_nofile) != 0 ||
        setrlimit(RLIMIT_FSIZE, &p->rl_fsize) != 0 || setrlimit(RLIMIT_CPU, &p->rl_cpu) != 0)
        child_fail(p, STEP_RLIMIT, 0);
    child_privileges(p);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p->guard) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p->prog) != 0)
        child_fail(p, STEP_SECCOMP, 0);
    execve(p->exec_path, p->argv, p->envp);
    child_fail(p, STEP_EXECVE, 0);
}

/* The namespace's init (pid 1): the kernel drops signals with default action that a pid
 * namespace's init sends itself (SIGXFSZ, SIGXCPU), so the command runs as its child. Init
 * keeps only the report pipe, reaps every orphan, and when the command ends reports its wait
 * status and exits — which makes the kernel kill whatever the command left running. */
static _Noreturn void init_main(struct plan *p, pid_t workload)
{
    int rep = p->err_fd;
    if (rep > 0)
        (void)close_range(0, (unsigned)rep - 1, 0);
    (void)close_range((unsigned)rep + 1, ~0U, 0);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(-1, &st, __WALL);
        if (r == workload) {
            struct err_record rec = {STEP_STATUS, 0, st};
            ssize_t n = write(rep, &rec, sizeof(rec));
            (void)n;
            _exit(0);
        }
        if (r < 0 && errno != EINTR)
            _exit(1);
    }
}

/* First thing after clone: closes every descriptor the supervisor happened to hold
 * at clone time except the plan's own, so a prepared sandbox waiting in the pool never keeps
 * another run's pipes open (its EOF would hang). */
static void child_close_foreign(const struct plan *p)
{
    int keep[MOUNTS_MAX + 5];
    size_t n = 0;
    const int own[] = {p->sync_fd, p->err_fd, p->in_fd, p->out_fd, p->errout_fd};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(own); i++) {
        if (own[i] >= 0)
            keep[n++] = own[i];
    }
    for (size_t i = 0; i < p->nmounts; i++) {
        if (p->mounts[i].fd >= 0)
            keep[n++] = p->mounts[i].fd;
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort: n is small */
        int v = keep[i];
        size_t j = i;
        for (; j > 0 && keep[j - 1] > v; j--)
            keep[j] = keep[j - 1];
        keep[j] = v;
    }
    unsigned next = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned fd = (unsigned)keep[i];
        if (fd > next)
            (void)close_range(next, fd - 1, 0);
        if (fd >= next)
            next = fd + 1;
    }
    (void)close_range(next, ~0U, 0);
}

static int child_read_full(int fd, void *buf, size_t len)
{
    uint8_t *at = buf;
    while (len > 0) {
        ssize_t n = read(fd, at, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        at += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Next NUL-terminated string of the task at *at (the buffer ends with a NUL, checked). */
static char *task_next(char **at, const char *end)
{
    char *s = *at;
    if (s >= end)
        return NULL;
    *at = s + strlen(s) + 1;
    return s;
}

static void task_copy(const struct plan *p, char *dst, size_t size, const char *src)
{
    if (src == NULL || strlen(src) >= size) {
        errno = ENAMETOOLONG;
        child_fail(p, STEP_TASK, 3);
    }
    memcpy(dst, src, strlen(src) + 1);
}

/* Warm only, after the filesystem is built: reports READY, waits for the task on the sync
 * pipe (EOF = the pool discarded us: exit quietly) and fills the task half of the plan. */
static void child_await_task(struct plan *p)
{
    struct err_record ready = {STEP_READY, 0, 0};
    if (write(p->err_fd, &ready, sizeof(ready)) != (ssize_t)sizeof(ready))
        _exit(127);
    struct task_hdr h;
    if (child_read_full(p->sync_fd, &h, sizeof(h)) != 0)
        _exit(0);
    if (h.magic != TASK_MAGIC || h.len == 0 || h.len > OCTO__SANDBOX_TASK_MAX || h.argc == 0 ||
        h.argc > OCTO_SANDBOX_ARGS_MAX || h.envc > OCTO_SANDBOX_ENV_MAX) {
        errno = EPROTO;
        child_fail(p, STEP_TASK, 0);
    }
    if (child_read_full(p->sync_fd, p->task_buf, h.len) != 0) {
        errno = EPIPE;
        child_fail(p, STEP_TASK, 1);
    }
    close_fd(&p->sync_fd);
    if (p->task_buf[h.len - 1] != '\0') {
        errno = EPROTO;
        child_fail(p, STEP_TASK, 2);
    }
    char *at = p->task_buf;
    const char *end = p->task_buf + h.len;
    task_copy(p, p->exec_path, sizeof(p->exec_path), task_next(&at, end));
    task_copy(p, p->cwd, sizeof(p->cwd), task_next(&at, end));
    for (uint32_t i = 0; i < h.argc + h.envc; i++) {
        char *str = task_next(&at, end);
        if (str == NULL) {
            errno = EPROTO;
            child_fail(p, STEP_TASK, 4);
        }
        if (i < h.argc)
            p->argv[i] = str;
        else
            p->envp[i - h.argc] = str;
    }
    p->argv[h.argc] = NULL;
    p->envp[h.envc] = NULL;
    p->rl_nofile.rlim_cur = p->rl_nofile.rlim_max = (rlim_t)h.nofile;
    p->rl_fsize.rlim_cur = p->rl_fsize.rlim_max = (rlim_t)h.fsize;
    p->rl_cpu.rlim_cur = (rlim_t)h.cpu_cur;
    p->rl_cpu.rlim_max = (rlim_t)h.cpu_max;
    if (h.stdin_pipe == 0)
        close_fd(&p->in_fd); /* the command reads /dev/null, as in a cold run */
}

static _Noreturn void child_main(struct plan *p)
{
    /* Cold and warm: keep only the plan's descriptors. This closes the sync pipe's write end
     * too, so a supervisor that dies before releasing us gives EOF instead of a child blocked
     * forever (PDEATHSIG is set only after the release), and other runs' pipes are never held. */
    child_close_foreign(p);
    char b;
    if (read(p->sync_fd, &b, 1) != 1) {
        errno = EPIPE;
        child_fail(p, STEP_SYNC, 0);
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        child_fail(p, STEP_PDEATHSIG, 1);
    /* released: the parent has put us into the sandbox's cgroups (v1), or clone3 did (v2) */
    if (unshare(CLONE_NEWCGROUP) != 0)
        child_fail(p, STEP_CGROUP_NS, 0);
    if (syscall(SYS_setresgid, 0, 0, 0) != 0)
        child_fail(p, STEP_SETRESGID_ROOT, 0);
    if (syscall(SYS_setresuid, 0, 0, 0) != 0)
        child_fail(p, STEP_SETRESUID_ROOT, 0);
    if (syscall(SYS_setgroups, 0, NULL) != 0)
        child_fail(p, STEP_SETGROUPS, 0);
    child_filesystem(p);
    if (p->loopback)
        child_loopback(p);
    if (p->task_buf != NULL)
        child_await_task(p);
    /* A raw fork: glibc's fork() would run atfork handlers and take locks that another
     * thread of the supervisor may have held at clone time. */
    long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
    if (pid < 0)
        child_fail(p, STEP_FORK, 0);
    if (pid == 0)
        workload_main(p);
    init_main(p, (pid_t)pid);
}

/* ---- parent: spawn and supervise --------------------------------------------------------- */

struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

/* clone3 (with CLONE_INTO_CGROUP when cgroup_fd >= 0), or clone when clone3 is missing.
 * Returns the pid in the parent (sets *joined when the kernel put the child in the cgroup),
 * 0 in the child, -errno on failure. */
static pid_t spawn(int cgroup_fd, int *pidfd, bool *joined)
{
    /* no CLONE_NEWCGROUP here: the child unshares it once it sits in its own cgroups, so
     * the namespace's root is the sandbox's cgroup, not the supervisor's */
    const uint64_t ns =
        CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
    struct clone_args_v2 a;
    memset(&a, 0, sizeof(a));
    a.flags = ns | CLONE_PIDFD;
    a.pidfd = (uint64_t)(uintptr_t)pidfd;
    a.exit_signal = SIGCHLD;
    *joined = false;
    if (cgroup_fd >= 0) {
        a.flags |= CLONE_INTO_CGROUP;
        a.cgroup = (uint64_t)cgroup_fd;
        long r = syscall(SYS_clone3, &a, sizeof(a));
        if (r >= 0) {
            *joined = r > 0;
            return (pid_t)r;
        }
        a.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        a.cgroup = 0;
    }
    long r = syscall(SYS_clone3, &a, sizeof(a));
    if (r >= 0)
        return (pid_t)r;
    if (errno != ENOSYS)
        return -errno;
    r = syscall(SYS_clone, (unsigned long)(ns | CLONE_PIDFD | SIGCHLD), NULL, pidfd, NULL, 0);
    return r >= 0 ? (pid_t)r : -errno;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    return (size_t)n == len ? 0 : -EIO;
}

static int write_maps(pid_t pid)
{
    char path[64], map[96];
    snprintf(map, sizeof(map), "0 %u 1\n%u %u 1\n", HOST_ROOT_ID, OCTO_SANDBOX_UID, HOST_NOBODY_ID);
    snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
    int rc = write_file(path, map);
    if (rc != 0)
        return rc;
    snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
    return write_file(path, map);
}

struct supervise {
    const struct octo_sandbox_spec *spec;
    const struct limits *lim;
    pid_t pid;
    int pidfd, out_fd, err_fd, rep_fd, in_fd;
    int spec_cancel_fd; /* only its address is used: marks spec->cancel_fd in the poll set */
    size_t in_off;
    bool reaped;
    bool leave_init; /* warm: done once the command's status and output are in; init's exit
                        (namespace teardown) is left to the pool's discard, off the caller's path */
    int status;
    enum octo_sandbox_outcome killed_for; /* TIMEOUT / OUTPUT, or EXITED = not killed */
    uint64_t kill_at;
    struct err_record rec[2]; /* a setup failure and/or the command's wait status */
    size_t rec_len;           /* bytes of rec filled */
    uint64_t counts[2];
    const struct octo__cgroup *cg;
};

static void kill_all(struct supervise *s, enum octo_sandbox_outcome why)
{
    if (s->killed_for == OCTO_SANDBOX_EXITED) {
        s->killed_for = why;
        s->kill_at = now_ns();
    }
    if (!s->reaped)
        kill(s->pid, SIGKILL); /* the namespace's init: the kernel kills the rest */
    octo__cgroup_kill(s->cg);
}

static void on_output(struct supervise *s, int stream, int *fd)
{
    uint8_t buf[READ_CHUNK];
    ssize_t n = read(*fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close_fd(fd);
        return;
    }
    uint64_t *count = &s->counts[stream - 1];
    uint64_t room = s->lim->output - *count;
    size_t take = (uint64_t)n < room ? (size_t)n : (size_t)room;
    if (take > 0 && s->spec->on_output != NULL)
        s->spec->on_output(s->spec->ctx, stream, buf, take);
    *count += take;
    if ((size_t)n > take)
        kill_all(s, OCTO_SANDBOX_OUTPUT);
}

static bool has_stdin(const struct octo_sandbox_spec *spec)
{
    return spec->stdin_data != NULL || spec->stdin_feed != NULL;
}

static void on_stdin(struct supervise *s)
{
    const struct octo_sandbox_spec *spec = s->spec;
    struct octo_sandbox_feed *feed = spec->stdin_feed;
    const uint8_t *from = feed != NULL ? feed->buf.data + feed->off : spec->stdin_data + s->in_off;
    size_t len = feed != NULL ? feed->buf.len - feed->off : spec->stdin_len - s->in_off;
    ssize_t n = len > 0 ? write(s->in_fd, from, len) : 0;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0 || (n == 0 && len > 0)) {
        close_fd(&s->in_fd); /* EPIPE: the command stopped reading */
        return;
    }
    if (feed != NULL) {
        feed->off += (size_t)n;
        if (feed->off == feed->buf.len) {
            octo_buf_reset(&feed->buf); /* wiped when secret */
            feed->off = 0;
        }
        if (feed->buf.len == 0 && feed->closed)
            close_fd(&s->in_fd);
        return;
    }
    s->in_off += (size_t)n;
    if (s->in_off == spec->stdin_len)
        close_fd(&s->in_fd);
}

/* Whether stdin has bytes to write now; closes it when an interactive feed has ended. */
static bool stdin_wants_write(struct supervise *s)
{
    const struct octo_sandbox_feed *feed = s->spec->stdin_feed;
    if (s->in_fd < 0)
        return false;
    if (feed == NULL)
        return true;
    if (feed->buf.len == feed->off && feed->closed)
        close_fd(&s->in_fd);
    return feed->buf.len > feed->off;
}

static void on_report(struct supervise *s)
{
    uint8_t *at = (uint8_t *)s->rec + s->rec_len;
    size_t room = sizeof(s->rec) - s->rec_len;
    uint8_t discard[sizeof(struct err_record)];
    ssize_t n = read(s->rep_fd, room > 0 ? at : discard, room > 0 ? room : sizeof(discard));
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        close_fd(&s->rep_fd);
        return;
    }
    if (room > 0)
        s->rec_len += (size_t)n;
}

static void reap(struct supervise *s, bool block)
{
    if (s->reaped)
        return;
    int st = 0;
    pid_t r;
    do {
        r = waitpid(s->pid, &st, block ? __WALL : __WALL | WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == s->pid || (r < 0 && errno == ECHILD)) {
        s->reaped = true;
        s->status = st;
    }
}

static bool status_seen(const struct supervise *s)
{
    for (size_t i = 0; i < s->rec_len / sizeof(struct err_record); i++) {
        if (s->rec[i].step == STEP_STATUS)
            return true;
    }
    return false;
}

static void supervise_loop(struct supervise *s, uint64_t deadline)
{
    for (;;) {
        if (s->leave_init && s->out_fd < 0 && s->err_fd < 0 &&
            s->killed_for == OCTO_SANDBOX_EXITED && status_seen(s))
            return; /* the command ended and its output is complete */
        struct pollfd pf[6];
        int *fds[6];
        nfds_t n = 0;
        int *watch[] = {&s->out_fd, &s->err_fd, &s->rep_fd};
        for (size_t i = 0; i < 3; i++) {
            if (*watch[i] >= 0) {
                pf[n] = (struct pollfd){*watch[i], POLLIN, 0};
                fds[n++] = watch[i];
            }
        }
        bool pipes_open = n > 0;
        if (stdin_wants_write(s)) {
            pf[n] = (struct pollfd){s->in_fd, POLLOUT, 0};
            fds[n++] = &s->in_fd;
        }
        if (!s->reaped) {
            pf[n] = (struct pollfd){s->pidfd, POLLIN, 0};
            fds[n++] = &s->pidfd;
        }
        int cancel_fd = s->spec->cancel_fd;
        if (cancel_fd > 0 && s->killed_for == OCTO_SANDBOX_EXITED && !s->reaped) {
            pf[n] = (struct pollfd){cancel_fd, POLLIN, 0};
            fds[n++] = &s->spec_cancel_fd;
        }
        if (!pipes_open && s->reaped)
            break;
        uint64_t now = now_ns();
        if (s->killed_for == OCTO_SANDBOX_EXITED && now >= deadline)
            kill_all(s, OCTO_SANDBOX_TIMEOUT);
        uint64_t until =
            s->killed_for == OCTO_SANDBOX_EXITED ? deadline : s->kill_at + KILL_GRACE_NS;
        if (s->killed_for != OCTO_SANDBOX_EXITED && now >= until)
            break;
        uint64_t wait_ms = until > now ? (until - now + 999999) / 1000000 : 0;
        int r = poll(pf, n, wait_ms > INT32_MAX ? INT32_MAX : (int)wait_ms);
        if (r < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; r > 0 && i < n; i++) {
            if (pf[i].revents == 0)
                continue;
            if (fds[i] == &s->out_fd)
                on_output(s, 1, &s->out_fd);
            else if (fds[i] == &s->err_fd)
                on_output(s, 2, &s->err_fd);
            else if (fds[i] == &s->rep_fd)
                on_report(s);
            else if (fds[i] == &s->in_fd)
                on_stdin(s);
            else if (fds[i] == &s->spec_cancel_fd && !s->reaped)
                kill_all(s, OCTO_SANDBOX_CANCELLED); /* not a run that just ended */
            else
                reap(s, false);
        }
    }
    if (!s->reaped) {
        kill_all(s, s->killed_for == OCTO_SANDBOX_EXITED ? OCTO_SANDBOX_TIMEOUT : s->killed_for);
        reap(s, true);
    }
}

static void classify(const struct supervise *s, const struct octo__cgroup_stats *st,
                     struct octo_sandbox_result *out)
{
    size_t nrec = s->rec_len / sizeof(struct err_record);
    int status = s->status; /* init's, until the command's own status is known */
    for (size_t i = 0; i < nrec; i++) {
        const struct err_record *r = &s->rec[i];
        if (r->step == STEP_STATUS) {
            status = r->err;
            continue;
        }
        const char *name = r->step >= 0 && r->step < STEP_COUNT ? step_names[r->step] : "?";
        out->outcome = OCTO_SANDBOX_SETUP_ERROR;
        snprintf(out->setup_error, sizeof(out->setup_error), "child %s (%d): %s", name, (int)r->arg,
                 strerror(r->err));
        return;
    }
    if (WIFEXITED(status))
        out->exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        out->signal = WTERMSIG(status);
    if (s->killed_for != OCTO_SANDBOX_EXITED) {
        out->outcome = s->killed_for;
    } else if (st->oom_kills > 0) {
        out->outcome = OCTO_SANDBOX_OOM;
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGSYS)
            out->outcome = OCTO_SANDBOX_SECCOMP;
        else if (sig == SIGXFSZ)
            out->outcome = OCTO_SANDBOX_FSIZE;
        else if (sig == SIGXCPU)
            out->outcome = OCTO_SANDBOX_CPU;
        else if (st->pids_max > 0)
            out->outcome = OCTO_SANDBOX_PIDS;
        else
            out->outcome = OCTO_SANDBOX_SIGNALED;
    } else if (st->pids_max > 0) {
        out->outcome = OCTO_SANDBOX_PIDS;
    } else {
        out->outcome = OCTO_SANDBOX_EXITED;
    }
}

/* Blocks SIGPIPE for this thread while we write the command's stdin; restores it after,
 * swallowing a SIGPIPE we caused. */
struct sigpipe_guard {
    sigset_t old;
    bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static int make_pipe(int fds[2])
{
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
}

struct run_fds {
    int sync[2], rep[2], out[2], err[2], in[2], pidfd;
};

static void run_fds_close(struct run_fds *f)
{
    int *all[] = {&f->sync[0], &f->sync[1], &f->rep[0], &f->rep[1], &f->out[0], &f->out[1],
                  &f->err[0],  &f->err[1],  &f->in[0],  &f->in[1],  &f->pidfd};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(all); i++)
        close_fd(all[i]);
}

/* Opens the pipes of a run (the stdin pipe only when with_stdin) and hands the child's ends
 * to the plan. Shared by cold and warm runs. Returns 0, or a negative errno with every
 * descriptor of f closed. */
static int run_fds_open(struct run_fds *f, bool with_stdin, struct plan *p)
{
    memset(f, 0xff, sizeof(*f)); /* every fd -1 */
    int rc = make_pipe(f->sync);
    if (rc == 0)
        rc = make_pipe(f->rep);
    if (rc == 0)
        rc = make_pipe(f->out);
    if (rc == 0)
        rc = make_pipe(f->err);
    if (rc == 0 && with_stdin)
        rc = make_pipe(f->in);
    if (rc != 0) {
        run_fds_close(f);
        return rc;
    }
    p->sync_fd = f->sync[0];
    p->err_fd = f->rep[1];
    p->in_fd = f->in[0];
    p->out_fd = f->out[1];
    p->errout_fd = f->err[1];
    return 0;
}

/* Closes, in the parent, the pipe ends that belong to the child (after the clone). */
static void run_fds_close_child_ends(struct run_fds *f)
{
    close_fd(&f->sync[0]);
    close_fd(&f->rep[1]);
    close_fd(&f->in[0]);
    close_fd(&f->out[1]);
    close_fd(&f->err[1]);
}

/* Maps the new child's ids, attaches it to cg unless the kernel already put it there
 * (joined), then releases it with one byte on sync_fd (left open). Shared by cold and warm
 * runs. Returns 0, or a negative errno (-EIO when the cgroup attach fails) with *what naming
 * the step that failed. */
static int release_child(pid_t pid, struct octo__cgroup *cg, bool joined, int sync_fd,
                         const char **what)
{
    *what = "uid/gid map";
    int rc = write_maps(pid);
    if (rc == 0 && !joined) {
        *what = "cgroup attach";
        rc = octo__cgroup_attach(cg, pid) == 0 ? 0 : -EIO;
    }
    if (rc == 0) {
        *what = "release child";
        rc = write(sync_fd, "x", 1) == 1 ? 0 : -errno;
    }
    return rc;
}

/* Supervises a released sandbox from t0 (the descriptors in s are its parent ends; they are
 * closed here), then reads the cgroup counters and classifies the outcome into out. Shared by
 * cold and warm runs, so both are supervised and classified alike. */
static void supervise_run(struct supervise *s, uint64_t t0, struct octo_sandbox_result *out)
{
    if (s->in_fd >= 0)
        (void)fcntl(s->in_fd, F_SETFL, O_NONBLOCK);
    if (s->in_fd >= 0 && s->spec->stdin_feed == NULL && s->spec->stdin_len == 0)
        close_fd(&s->in_fd);
    struct sigpipe_guard guard;
    sigpipe_block(&guard);
    supervise_loop(s, t0 + s->lim->wall_ms * 1000000ull);
    sigpipe_restore(&guard);
    close_fd(&s->out_fd);
    close_fd(&s->err_fd);
    close_fd(&s->rep_fd);
    close_fd(&s->in_fd);
    struct octo__cgroup_stats st;
    octo__cgroup_read_stats(s->cg, &st);
    out->wall_ns = now_ns() - t0;
    out->cpu_ns = st.cpu_ns;
    out->mem_peak_bytes = st.mem_peak;
    out->stdout_bytes = s->counts[0];
    out->stderr_bytes = s->counts[1];
    classify(s, &st, out);
}

static void run_child(struct plan *p, struct octo__cgroup *cg, const struct octo_sandbox_spec *spec,
                      const struct limits *lim, struct octo_sandbox_result *out)
{
    struct run_fds f;
    int rc = run_fds_open(&f, has_stdin(spec), p);
    if (rc != 0) {
        setup_error(out, "pipe2", -rc);
        return;
    }

    uint64_t t0 = now_ns();
    bool joined = false;
    pid_t pid = spawn(cg->v2_fd, &f.pidfd, &joined);
    if (pid == 0)
        child_main(p);
    if (pid < 0) {
        setup_error(out, "clone3", -pid);
        run_fds_close(&f);
        return;
    }
    run_fds_close_child_ends(&f);
    const char *what = NULL;
    rc = release_child(pid, cg, joined, f.sync[1], &what);
    close_fd(&f.sync[1]);
    if (rc != 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
        }
        setup_error(out, what, -rc);
        run_fds_close(&f);
        return;
    }
    struct supervise s = {.spec = spec,
                          .lim = lim,
                          .pid = pid,
                          .pidfd = f.pidfd,
                          .out_fd = f.out[0],
                          .err_fd = f.err[0],
                          .rep_fd = f.rep[0],
                          .in_fd = f.in[1],
                          .killed_for = OCTO_SANDBOX_EXITED,
                          .cg = cg};
    f.out[0] = f.err[0] = f.rep[0] = f.in[1] = -1;
    supervise_run(&s, t0, out);
    run_fds_close(&f);
}

int octo_sandbox_run(const struct octo_sandbox_spec *spec, struct octo_sandbox_result *out)
{
    OCTO_ASSERT(out != NULL);
    struct limits lim;
    int rc = validate(spec, &lim);
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    if (geteuid() != 0) {
        setup_error(out, "the sandbox runner needs root (two-range uid map, cgroups)", 0);
        return 0;
    }
    struct plan *p = octo_calloc(1, sizeof(*p));
    if (p == NULL)
        return OCTO_ENOMEM;
    if (plan_prepare(p, spec, &lim, out) != 0) {
        plan_free(p);
        return 0;
    }
    struct octo__cgroup_layout layout;
    rc = octo__cgroup_layout_load(&layout);
    if (rc != 0 || layout.version == 0) {
        setup_error(out, "no usable cgroup hierarchy", 0);
        plan_free(p);
        return 0;
    }
    char name[64];
    snprintf(name, sizeof(name), "octo-sbx-%d-%u", (int)getpid(), atomic_fetch_add(&g_seq, 1));
    struct octo__cgroup cg;
    const struct octo__cgroup_limits cl = {lim.mem, lim.pids, lim.cpu_pct};
    rc = octo__cgroup_create(&cg, &layout, name, &cl, out->setup_error, sizeof(out->setup_error));
    if (rc != 0) {
        out->outcome = OCTO_SANDBOX_SETUP_ERROR;
        plan_free(p);
        return 0;
    }
    run_child(p, &cg, spec, &lim, out);
    plan_free(p);
    if (octo__cgroup_destroy(&cg) != 0)
        OCTO_WARN("sandbox cgroup %s could not be removed (still busy)", name);
    return 0;
}

/* ---- warm (prepared) sandboxes, for the pool (pool.h) ------------------------------------- */

#define WARM_READY_MS 10000        /* a preparation that takes longer has failed */
#define WARM_CPU_PERIOD_US 100000u /* the period cgroup.c writes with a CPU quota */
#define WARM_CG_FILE_MAX (OCTO__CG_PATH_MAX + 64)

struct octo__sandbox_warm {
    pid_t pid; /* the sandbox's init; -1 before clone */
    int pidfd, task_fd, rep_fd, out_fd, err_fd, in_fd;
    bool reaped;
    bool started; /* the template's command already runs, blocked on its stdin */
    uint64_t mem; /* cgroup limits currently written */
    uint32_t pids, cpu_pct;
    struct octo__cgroup_layout layout;
    struct octo__cgroup cg; /* cg.layout points at layout above */
};

static const char *const warm_dummy_argv[] = {"true", NULL};

/* The template as a runnable spec. Unless started, its argv, envp and cwd are ignored (argv may
 * be NULL); a started template keeps them: they are the command that runs ahead of its task. */
static void warm_template(const struct octo_sandbox_spec *tmpl, bool started,
                          struct octo_sandbox_spec *t)
{
    *t = *tmpl;
    if (!started) {
        t->argv = warm_dummy_argv;
        t->envp = NULL;
        t->cwd = NULL;
    }
    t->on_output = NULL;
    t->ctx = NULL;
    t->stdin_data = NULL;
    t->stdin_len = 0;
    t->stdin_feed = NULL;
}

static void warm_note(char *err, size_t err_size, const char *what)
{
    if (err != NULL && err_size > 0)
        snprintf(err, err_size, "%s", what);
}

void octo__sandbox_warm_discard(struct octo__sandbox_warm *w)
{
    if (w == NULL)
        return;
    if (w->pid > 0 && !w->reaped) {
        kill(w->pid, SIGKILL); /* the namespace's init: the kernel kills the rest */
        while (waitpid(w->pid, NULL, __WALL) < 0 && errno == EINTR) {
        }
    }
    int *fds[] = {&w->pidfd, &w->task_fd, &w->rep_fd, &w->out_fd, &w->err_fd, &w->in_fd};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(fds); i++)
        close_fd(fds[i]);
    if (octo__cgroup_destroy(&w->cg) != 0)
        OCTO_WARN("warm sandbox cgroup %s could not be removed (still busy)", w->cg.dir[0]);
    octo_free(w);
}

/* Waits for the prepared child's READY record (or its failure report). */
static int warm_wait_ready(struct octo__sandbox_warm *w, char *err, size_t err_size)
{
    struct err_record rec;
    size_t got = 0;
    uint64_t deadline = now_ns() + (uint64_t)WARM_READY_MS * 1000000u;
    while (got < sizeof(rec)) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            warm_note(err, err_size, "warm sandbox: not ready in time");
            return OCTO_EIO;
        }
        struct pollfd pf = {w->rep_fd, POLLIN, 0};
        int r = poll(&pf, 1, (int)((deadline - now) / 1000000u) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        ssize_t n = r > 0 ? read(w->rep_fd, (uint8_t *)&rec + got, sizeof(rec) - got) : -1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            warm_note(err, err_size, "warm sandbox: the child exited during setup");
            return OCTO_EIO;
        }
        got += (size_t)n;
    }
    if (rec.step == STEP_READY)
        return 0;
    if (err != NULL && err_size > 0) {
        const char *name = rec.step >= 0 && rec.step < STEP_COUNT ? step_names[rec.step] : "?";
        snprintf(err, err_size, "child %s (%d): %s", name, (int)rec.arg, strerror(rec.err));
    }
    return OCTO_EIO;
}

/* Clones the prepared child with the plan, maps its ids, releases it and waits until it is
 * ready. The parent ends of its pipes go into w. */
static int warm_spawn(struct octo__sandbox_warm *w, struct plan *p, char *err, size_t err_size)
{
    struct run_fds f;
    int rc = run_fds_open(&f, true, p);
    if (rc != 0) {
        warm_note(err, err_size, "warm sandbox: pipe2 failed");
        return octo_err_from_errno(-rc);
    }
    bool joined = false;
    pid_t pid = spawn(w->cg.v2_fd, &w->pidfd, &joined);
    if (pid == 0)
        child_main(p);
    run_fds_close_child_ends(&f);
    w->task_fd = f.sync[1];
    w->rep_fd = f.rep[0];
    w->out_fd = f.out[0];
    w->err_fd = f.err[0];
    w->in_fd = f.in[1];
    if (pid < 0) {
        warm_note(err, err_size, "warm sandbox: clone3 failed");
        return octo_err_from_errno(-pid);
    }
    w->pid = pid;
    const char *what = NULL;
    rc = release_child(pid, &w->cg, joined, w->task_fd, &what);
    if (rc != 0) {
        warm_note(err, err_size, "warm sandbox: uid/gid map, cgroup attach or release failed");
        return OCTO_EIO;
    }
    return warm_wait_ready(w, err, err_size);
}

static int task_build(const struct octo_sandbox_spec *spec, const struct limits *lim,
                      bool stdin_pipe, uint8_t **msg, size_t *msg_len);
static int write_full(int fd, const uint8_t *data, size_t len);

/* Whether the sandbox's command (init's child) has exec'd: its executable is no longer ours.
 * 1 yes, 0 not yet, -1 cannot tell (no /proc children list, or it runs our own binary: then
 * its seccomp filter being loaded — the last step before execve — has to do). */
static int warm_command_execd(const struct octo__sandbox_warm *w, const char *self_exe)
{
    char path[64], text[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)w->pid, (int)w->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    long child = strtol(text, NULL, 10);
    char exe[OCTO_SANDBOX_PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%ld/exe", child);
    ssize_t len = readlink(path, exe, sizeof(exe) - 1);
    if (len <= 0)
        return 0;
    exe[len] = '\0';
    if (strcmp(exe, self_exe) != 0)
        return 1;
    snprintf(path, sizeof(path), "/proc/%ld/status", child);
    FILE *f = fopen(path, "re");
    char line[128];
    bool filtered = false;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        filtered |= strcmp(line, "Seccomp:\t2\n") == 0;
    if (f != NULL)
        fclose(f);
    return filtered ? -1 : 0;
}

/* Started mode: waits (up to WARM_READY_MS) until the command has exec'd, so a sandbox whose
 * command cannot start or ends at once is never published, with the reason in err. */
static int warm_wait_exec(struct octo__sandbox_warm *w, char *err, size_t err_size)
{
    char self_exe[OCTO_SANDBOX_PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    self_exe[len > 0 ? len : 0] = '\0';
    uint64_t deadline = now_ns() + (uint64_t)WARM_READY_MS * 1000000u;
    int unsure_polls = 0;
    while (now_ns() < deadline) {
        struct pollfd pf = {w->rep_fd, POLLIN, 0};
        if (poll(&pf, 1, 1) > 0) {
            struct err_record rec = {0, 0, 0};
            ssize_t n = read(w->rep_fd, &rec, sizeof(rec));
            if (n == (ssize_t)sizeof(rec) && rec.step == STEP_STATUS)
                snprintf(err, err_size, "started command ended before its task (status %d)",
                         (int)rec.err);
            else if (n == (ssize_t)sizeof(rec) && rec.step >= 0 && rec.step < STEP_COUNT)
                snprintf(err, err_size, "started command: child %s (%d): %s", step_names[rec.step],
                         (int)rec.arg, strerror(rec.err));
            else
                warm_note(err, err_size, "started command: the sandbox ended");
            return OCTO_EIO;
        }
        int execd = warm_command_execd(w, self_exe);
        if (execd == 1 || (execd < 0 && ++unsure_polls >= 10))
            return 0;
    }
    warm_note(err, err_size, "started command: not running in time");
    return OCTO_EIO;
}

/* Started mode: sends the template's own command as the task, so it runs now and blocks on its
 * stdin (always a pipe) until a task's input arrives. */
static int warm_start_command(struct octo__sandbox_warm *w, const struct octo_sandbox_spec *t,
                              const struct limits *lim, char *err, size_t err_size)
{
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    int rc = task_build(t, lim, true, &msg, &msg_len);
    if (rc != 0) {
        warm_note(err, err_size, "warm sandbox: the template's command does not fit a task");
        return rc;
    }
    struct sigpipe_guard guard;
    sigpipe_block(&guard);
    bool sent = write_full(w->task_fd, msg, msg_len) == 0;
    sigpipe_restore(&guard);
    octo_free(msg);
    close_fd(&w->task_fd);
    if (!sent) {
        warm_note(err, err_size, "warm sandbox: the sandbox died before its command started");
        return OCTO_EIO;
    }
    w->started = true;
    return warm_wait_exec(w, err, err_size);
}

int octo__sandbox_warm_prepare(const struct octo_sandbox_spec *tmpl, bool started,
                               struct octo__sandbox_warm **out, char *err, size_t err_size)
{
    OCTO_ASSERT(tmpl != NULL && out != NULL);
    *out = NULL;
    struct octo_sandbox_spec t;
    warm_template(tmpl, started, &t);
    struct limits lim;
    int rc = validate(&t, &lim);
    if (rc != 0)
        return rc;
    if (geteuid() != 0) {
        warm_note(err, err_size, "the sandbox runner needs root (two-range uid map, cgroups)");
        return OCTO_EUNSUPPORTED;
    }
    struct octo__sandbox_warm *w = octo_calloc(1, sizeof(*w));
    struct plan *p = octo_calloc(1, sizeof(*p));
    char *task = octo_malloc(OCTO__SANDBOX_TASK_MAX);
    if (w == NULL || p == NULL || task == NULL) {
        octo_free(w);
        octo_free(p);
        octo_free(task);
        return OCTO_ENOMEM;
    }
    p->task_buf = task;
    w->pid = -1;
    w->pidfd = w->task_fd = w->rep_fd = w->out_fd = w->err_fd = w->in_fd = -1;
    w->cg.v2_fd = -1;
    struct octo_sandbox_result r;
    memset(&r, 0, sizeof(r));
    if (plan_env(p, &t, &lim, &r) != 0) {
        warm_note(err, err_size, r.setup_error);
        rc = OCTO_EIO;
    } else if (octo__cgroup_layout_load(&w->layout) != 0 || w->layout.version == 0) {
        warm_note(err, err_size, "no usable cgroup hierarchy");
        rc = OCTO_EUNSUPPORTED;
    } else {
        char name[64];
        snprintf(name, sizeof(name), "octo-sbx-%d-%u", (int)getpid(), atomic_fetch_add(&g_seq, 1));
        const struct octo__cgroup_limits cl = {lim.mem, lim.pids, lim.cpu_pct};
        rc = octo__cgroup_create(&w->cg, &w->layout, name, &cl, err, err_size);
        if (rc == 0)
            rc = warm_spawn(w, p, err, err_size);
        if (rc == 0 && started)
            rc = warm_start_command(w, &t, &lim, err, err_size);
    }
    plan_free(p); /* the child has its own copy; its mount trees are in place */
    if (rc != 0) {
        octo__sandbox_warm_discard(w);
        return rc;
    }
    w->mem = lim.mem;
    w->pids = lim.pids;
    w->cpu_pct = lim.cpu_pct;
    *out = w;
    return 0;
}

/* Bytes of the task's strings: resolved program path, cwd, argv, envp (each with its NUL). */
static size_t task_len(const struct octo_sandbox_spec *spec, const char *exec_path)
{
    size_t n = strlen(exec_path) + 1 + strlen(spec->cwd != NULL ? spec->cwd : "/tmp") + 1;
    for (size_t i = 0; spec->argv[i] != NULL; i++)
        n += strlen(spec->argv[i]) + 1;
    const char *const *env = spec->envp != NULL ? spec->envp : default_env;
    for (size_t i = 0; env[i] != NULL; i++)
        n += strlen(env[i]) + 1;
    return n;
}

static bool binds_equal(const struct octo_sandbox_spec *a, const struct octo_sandbox_spec *b)
{
    if (a->binds_count != b->binds_count)
        return false;
    for (size_t i = 0; i < a->binds_count; i++) {
        const struct octo_sandbox_bind *x = &a->binds[i], *y = &b->binds[i];
        if (strcmp(x->src, y->src) != 0 || strcmp(x->dst, y->dst) != 0 ||
            x->writable != y->writable)
            return false;
    }
    return true;
}

static bool lists_equal(const char *const *a, const char *const *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    size_t i = 0;
    for (; a[i] != NULL && b[i] != NULL; i++) {
        if (strcmp(a[i], b[i]) != 0)
            return false;
    }
    return a[i] == NULL && b[i] == NULL;
}

/* Started mode: the task must be the command already running, with the file-size and
 * descriptor rlimits it got; its RLIMIT_CPU backstop (set from the template's deadline) may be
 * looser than the task's own would be: the supervisor's wall deadline and the cgroup quota
 * still bound the task, the backstop only guards against a supervisor that is gone. */
static bool same_command(const struct octo_sandbox_spec *a, const struct limits *la,
                         const struct octo_sandbox_spec *b, const struct limits *lb)
{
    const char *cwd_a = a->cwd != NULL ? a->cwd : "/tmp";
    const char *cwd_b = b->cwd != NULL ? b->cwd : "/tmp";
    struct rlimit ra[3], rb[3];
    task_rlimits(la, &ra[0], &ra[1], &ra[2]);
    task_rlimits(lb, &rb[0], &rb[1], &rb[2]);
    for (int i = 0; i < 2; i++) {
        if (ra[i].rlim_cur != rb[i].rlim_cur || ra[i].rlim_max != rb[i].rlim_max)
            return false;
    }
    if (ra[2].rlim_cur > rb[2].rlim_cur)
        return false;
    return lists_equal(a->argv, b->argv) && lists_equal(a->envp, b->envp) &&
           strcmp(cwd_a, cwd_b) == 0;
}

int octo__sandbox_warm_accepts(const struct octo_sandbox_spec *tmpl, bool started,
                               const struct octo_sandbox_spec *spec)
{
    OCTO_ASSERT(tmpl != NULL);
    struct limits ls, lt;
    int rc = validate(spec, &ls);
    if (rc != 0)
        return rc;
    struct octo_sandbox_spec t;
    warm_template(tmpl, started, &t);
    if (validate(&t, &lt) != 0 || spec->net != t.net || spec->binds_count > 0 ||
        !binds_equal(spec, &t) || ls.tmp != lt.tmp || (ls.cpu_pct > 0) != (lt.cpu_pct > 0))
        return OCTO_EUNSUPPORTED;
    /* Started: the command already runs its processes; a lower pids limit than the one it
     * started under would not be enforced (pids.max does not kill what exists). */
    if (started && (!same_command(spec, &ls, &t, &lt) || ls.pids < lt.pids))
        return OCTO_EUNSUPPORTED;
    char exec_path[OCTO_SANDBOX_PATH_MAX];
    resolve_program(spec->argv[0], exec_path, sizeof(exec_path));
    if (task_len(spec, exec_path) > OCTO__SANDBOX_TASK_MAX)
        return OCTO_EUNSUPPORTED;
    return 0;
}

static int warm_write(const char *dir, const char *file, const char *text)
{
    char path[WARM_CG_FILE_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    return write_file(path, text);
}

/* Writes the task's cgroup limits where they differ from what the group has. v1 orders the
 * memory and memory+swap limits so that memsw >= mem holds at every step. */
static int warm_set_limits(struct octo__sandbox_warm *w, const struct limits *lim)
{
    const struct octo__cgroup *cg = &w->cg;
    char num[64];
    int rc = 0;
    bool v2 = w->layout.version == 2;
    const char *mem_dir = cg->dir[OCTO__CG_MEM];
    const char *pids_dir = v2 ? mem_dir : cg->dir[OCTO__CG_PIDS];
    const char *cpu_dir = v2 ? mem_dir : cg->dir[OCTO__CG_CPU];
    if (lim->mem != w->mem) {
        snprintf(num, sizeof(num), "%" PRIu64, lim->mem);
        if (v2) {
            rc = warm_write(mem_dir, "memory.max", num);
        } else {
            char memsw[WARM_CG_FILE_MAX];
            snprintf(memsw, sizeof(memsw), "%s/memory.memsw.limit_in_bytes", mem_dir);
            bool has_memsw = access(memsw, F_OK) == 0;
            if (has_memsw && lim->mem > w->mem)
                rc = warm_write(mem_dir, "memory.memsw.limit_in_bytes", num);
            if (rc == 0)
                rc = warm_write(mem_dir, "memory.limit_in_bytes", num);
            if (rc == 0 && has_memsw && lim->mem < w->mem)
                rc = warm_write(mem_dir, "memory.memsw.limit_in_bytes", num);
        }
        if (rc != 0)
            return rc;
        w->mem = lim->mem;
    }
    if (lim->pids != w->pids) {
        snprintf(num, sizeof(num), "%" PRIu32, lim->pids);
        rc = warm_write(pids_dir, "pids.max", num);
        if (rc != 0)
            return rc;
        w->pids = lim->pids;
    }
    if (lim->cpu_pct != w->cpu_pct && lim->cpu_pct > 0) {
        uint64_t quota = (uint64_t)lim->cpu_pct * 1000u;
        if (v2) {
            snprintf(num, sizeof(num), "%" PRIu64 " %u", quota, WARM_CPU_PERIOD_US);
            rc = warm_write(cpu_dir, "cpu.max", num);
        } else {
            snprintf(num, sizeof(num), "%" PRIu64, quota);
            rc = warm_write(cpu_dir, "cpu.cfs_quota_us", num);
        }
        if (rc != 0)
            return rc;
        w->cpu_pct = lim->cpu_pct;
    }
    return 0;
}

/* Serialises the task (struct task_hdr + strings) into a heap buffer. */
static int task_build(const struct octo_sandbox_spec *spec, const struct limits *lim,
                      bool stdin_pipe, uint8_t **msg, size_t *msg_len)
{
    char exec_path[OCTO_SANDBOX_PATH_MAX];
    resolve_program(spec->argv[0], exec_path, sizeof(exec_path));
    size_t len = task_len(spec, exec_path);
    if (len > OCTO__SANDBOX_TASK_MAX)
        return OCTO_ETOOBIG;
    uint8_t *buf = octo_malloc(sizeof(struct task_hdr) + len);
    if (buf == NULL)
        return OCTO_ENOMEM;
    const char *const *env = spec->envp != NULL ? spec->envp : default_env;
    struct task_hdr h;
    memset(&h, 0, sizeof(h));
    h.magic = TASK_MAGIC;
    h.len = (uint32_t)len;
    h.argc = (uint32_t)count_list(spec->argv, OCTO_SANDBOX_ARGS_MAX);
    h.envc = (uint32_t)count_list(env, OCTO_SANDBOX_ENV_MAX);
    h.stdin_pipe = stdin_pipe;
    struct rlimit nofile, fsize, cpu;
    task_rlimits(lim, &nofile, &fsize, &cpu);
    h.nofile = nofile.rlim_cur;
    h.fsize = fsize.rlim_cur;
    h.cpu_cur = cpu.rlim_cur;
    h.cpu_max = cpu.rlim_max;
    memcpy(buf, &h, sizeof(h));
    size_t at = sizeof(h);
    const char *fixed[] = {exec_path, spec->cwd != NULL ? spec->cwd : "/tmp"};
    for (size_t i = 0; i < 2 + h.argc + h.envc; i++) {
        const char *s = i < 2 ? fixed[i] : i < 2 + h.argc ? spec->argv[i - 2] : env[i - 2 - h.argc];
        size_t n = strlen(s) + 1;
        memcpy(buf + at, s, n);
        at += n;
    }
    OCTO_ASSERT(at == sizeof(h) + len);
    *msg = buf;
    *msg_len = at;
    return 0;
}

static int write_full(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Supervises w's released task from t0 (the task was sent, or the command already runs). */
static void warm_supervise(struct octo__sandbox_warm *w, const struct octo_sandbox_spec *spec,
                           const struct limits *lim, uint64_t t0, struct octo_sandbox_result *out)
{
    if (!has_stdin(spec))
        close_fd(&w->in_fd);
    struct supervise s = {.spec = spec,
                          .lim = lim,
                          .pid = w->pid,
                          .pidfd = w->pidfd,
                          .out_fd = w->out_fd,
                          .err_fd = w->err_fd,
                          .rep_fd = w->rep_fd,
                          .in_fd = w->in_fd,
                          .leave_init = true,
                          .killed_for = OCTO_SANDBOX_EXITED,
                          .cg = &w->cg};
    w->out_fd = w->err_fd = w->rep_fd = w->in_fd = -1;
    supervise_run(&s, t0, out);
    w->reaped = s.reaped;
}

/* Started mode: the command is running, blocked on its stdin; the task is its input. A command
 * that already ended (or wrote a status) while it waited is not used: OCTO_EAGAIN, run cold. */
static int warm_run_started(struct octo__sandbox_warm *w, const struct octo_sandbox_spec *spec,
                            const struct limits *lim, struct octo_sandbox_result *out)
{
    struct pollfd pf[2] = {{w->pidfd, POLLIN, 0}, {w->rep_fd, POLLIN, 0}};
    if (w->pid <= 0 || w->in_fd < 0 || poll(pf, 2, 0) != 0)
        return OCTO_EAGAIN;
    /* The group's counters include the command's start: one that already met its memory or
     * pids limit would make every task look OOM/PIDS, so it is not used; CPU time is counted
     * from the task's start. */
    struct octo__cgroup_stats before;
    octo__cgroup_read_stats(&w->cg, &before);
    if (before.oom_kills > 0 || before.pids_max > 0 || warm_set_limits(w, lim) != 0)
        return OCTO_EAGAIN;
    memset(out, 0, sizeof(*out));
    struct sigpipe_guard guard;
    sigpipe_block(&guard);
    warm_supervise(w, spec, lim, now_ns(), out);
    sigpipe_restore(&guard);
    out->cpu_ns = out->cpu_ns > before.cpu_ns ? out->cpu_ns - before.cpu_ns : 0;
    return 0;
}

int octo__sandbox_warm_run(struct octo__sandbox_warm *w, const struct octo_sandbox_spec *spec,
                           struct octo_sandbox_result *out)
{
    OCTO_ASSERT(w != NULL && out != NULL);
    struct limits lim;
    int rc = validate(spec, &lim);
    if (rc != 0)
        return rc;
    if (w->started)
        return warm_run_started(w, spec, &lim, out);
    if (w->pid <= 0 || w->task_fd < 0 || warm_set_limits(w, &lim) != 0)
        return OCTO_EAGAIN;
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    rc = task_build(spec, &lim, has_stdin(spec), &msg, &msg_len);
    if (rc != 0)
        return rc == OCTO_ENOMEM ? rc : OCTO_EAGAIN;
    memset(out, 0, sizeof(*out));
    struct sigpipe_guard guard;
    sigpipe_block(&guard);
    uint64_t t0 = now_ns();
    bool sent = write_full(w->task_fd, msg, msg_len) == 0;
    octo_free(msg);
    close_fd(&w->task_fd);
    if (!sent) {
        sigpipe_restore(&guard);
        return OCTO_EAGAIN; /* the sandbox is gone: nothing ran */
    }
    warm_supervise(w, spec, &lim, t0, out);
    sigpipe_restore(&guard);
    /* Leftovers died with the namespace's init; the group is removed (and anything still in
     * it killed) when the pool discards w, off the caller's path. */
    return 0;
}

/* ---- shared with the container path (oci.h) ------------------------------------------- */

int octo__sandbox_check(const struct octo_sandbox_spec *spec, struct octo_sandbox_limits *eff)
{
    OCTO_ASSERT(eff != NULL);
    struct limits lim;
    int rc = validate(spec, &lim);
    if (rc != 0)
        return rc;
    *eff = (struct octo_sandbox_limits){.mem_bytes = lim.mem,
                                        .pids = lim.pids,
                                        .cpu_pct = lim.cpu_pct,
                                        .wall_ms = lim.wall_ms,
                                        .output_bytes = lim.output,
                                        .fsize_bytes = lim.fsize,
                                        .tmp_bytes = lim.tmp,
                                        .nofile = lim.nofile};
    return 0;
}

/* ---- probe ------------------------------------------------------------------------------- */

static bool try_clone(unsigned long flags)
{
    long r = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (r == 0)
        _exit(0);
    if (r < 0)
        return false;
    int st = 0;
    while (waitpid((pid_t)r, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void probe_oci(struct octo_sandbox_features *f)
{
    static const char *const runtimes[] = {"crun", "runc"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(runtimes); i++) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        char *const argv[] = {(char *)(uintptr_t)runtimes[i], (char *)(uintptr_t) "--version",
                              NULL};
        char *const envp[] = {(char *)(uintptr_t) "PATH=/usr/local/bin:/usr/bin:/bin", NULL};
        pid_t pid = -1;
        int rc = posix_spawnp(&pid, runtimes[i], &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        char buf[256];
        size_t len = 0;
        if (rc == 0) {
            ssize_t n;
            while (len + 1 < sizeof(buf) &&
                   (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t)n;
            int st = 0;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                len = 0;
        }
        close(fds[0]);
        buf[len] = '\0';
        /* First line: "crun version 1.8.1" / "runc version 1.1.5". */
        const char *v = strstr(buf, "version ");
        if (len > 0 && v != NULL) {
            v += strlen("version ");
            size_t vl = strcspn(v, " \n");
            snprintf(f->oci_runtime, sizeof(f->oci_runtime), "%s %.*s", runtimes[i], (int)vl, v);
            return;
        }
    }
}

int octo_sandbox_probe(struct octo_sandbox_features *f)
{
    OCTO_ASSERT(f != NULL);
    memset(f, 0, sizeof(*f));
    unsigned long extra = geteuid() == 0 ? 0 : CLONE_NEWUSER;
    f->user_ns = try_clone(CLONE_NEWUSER);
    f->mount_ns = try_clone(extra | CLONE_NEWNS);
    f->pid_ns = try_clone(extra | CLONE_NEWPID);
    f->net_ns = try_clone(extra | CLONE_NEWNET);
    f->ipc_ns = try_clone(extra | CLONE_NEWIPC);
    f->uts_ns = try_clone(extra | CLONE_NEWUTS);
    f->cgroup_ns = try_clone(extra | CLONE_NEWCGROUP);

    struct octo__cgroup_layout l;
    if (octo__cgroup_layout_load(&l) != 0)
        return OCTO_EIO;
    f->cgroup_version = l.version;
    octo__cgroup_usable(&l, &f->cgroup_memory, &f->cgroup_pids, &f->cgroup_cpu);
    snprintf(f->cgroup_base, sizeof(f->cgroup_base), "%s", l.base[OCTO__CG_MEM]);
    if (l.version == 2) {
        /* clone3 exists when a NULL argument gives EFAULT/EINVAL rather than ENOSYS. */
        long r = syscall(SYS_clone3, NULL, 0);
        f->clone_into_cgroup = r < 0 && errno != ENOSYS;
    }
    f->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
                 access("/proc/sys/kernel/seccomp/actions_avail", R_OK) == 0;
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    f->landlock_abi = abi > 0 && abi < 1000 ? (int)abi : 0;
    probe_oci(f);
    f->tpm = access("/dev/tpm0", F_OK) == 0 || access("/dev/tpmrm0", F_OK) == 0;
    return 0;
}

void octo_sandbox_feed_init(struct octo_sandbox_feed *f, size_t max, bool secret)
{
    OCTO_ASSERT(f != NULL && max <= OCTO_SANDBOX_STDIN_MAX);
    if (secret)
        octo_buf_init_secret(&f->buf, max);
    else
        octo_buf_init(&f->buf, max);
    f->off = 0;
    f->closed = false;
}

void octo_sandbox_feed_deinit(struct octo_sandbox_feed *f)
{
    octo_buf_deinit(&f->buf);
    f->off = 0;
    f->closed = true;
}

int octo_sandbox_feed_push(struct octo_sandbox_feed *f, const uint8_t *data, size_t len)
{
    OCTO_ASSERT(f != NULL && (data != NULL || len == 0));
    if (f->closed)
        return OCTO_ESTATE;
    return octo_buf_append(&f->buf, data, len);
}

void octo_sandbox_feed_close(struct octo_sandbox_feed *f)
{
    f->closed = true;
}
