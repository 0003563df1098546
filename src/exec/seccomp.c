/*
 * seccomp.c — builds the sandbox's seccomp programs with libseccomp (see seccomp.h).
 *
 * libseccomp compiles the rules; seccomp_export_bpf writes the program to a memfd, which is
 * read back into static storage (BPF_MAXINSNS instructions at most per policy). Names the
 * running libseccomp does not know are skipped (a newer syscall simply stays denied).
 */
#include "exec/seccomp.h"

#include "base/assert.h"
#include "exec/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The allowlist: what coreutils, sh and python3 need, and nothing that changes the system. */
static const char *const allowed[] = {
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "close_range",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "lseek",
    "access",
    "faccessat",
    "faccessat2",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "readlink",
    "readlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "umask",
    "truncate",
    "ftruncate",
    "fallocate",
    "fsync",
    "fdatasync",
    "sync_file_range",
    "fadvise64",
    "readahead",
    "flock",
    "fcntl",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "sendfile",
    "splice",
    "tee",
    "copy_file_range",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "memfd_create",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "msync",
    "mincore",
    "madvise",
    "brk",
    "mlock",
    "munlock",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigsuspend",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "kill",
    "tkill",
    "tgkill",
    "pause",
    "alarm",
    "nanosleep",
    "clock_nanosleep",
    "getitimer",
    "setitimer",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "times",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd",
    "signalfd4",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "getpid",
    "getppid",
    "gettid",
    "getpgrp",
    "getpgid",
    "setpgid",
    "getsid",
    "setsid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "capget",
    "uname",
    "sysinfo",
    "getrlimit",
    "setrlimit",
    "prlimit64",
    "getrusage",
    "getpriority",
    "setpriority",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getattr",
    "getcpu",
    "prctl",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "futex",
    "futex_waitv",
    "rseq",
    "membarrier",
    "restart_syscall",
    "getrandom",
    "pidfd_open",
    "pidfd_send_signal",
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "getsockname",
    "getpeername",
    "setsockopt",
    "getsockopt",
};

/* Killed outright: the calls the escape catalogue (EXECUTION.md §5) expects to see die. */
static const char *const killed[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_by_handle_at",
    "name_to_handle_at",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
};

const char *const *octo_sandbox_allow_list(size_t *count)
{
    *count = OCTO_ARRAY_LEN(allowed);
    return allowed;
}

const char *const *octo_sandbox_kill_list(size_t *count)
{
    *count = OCTO_ARRAY_LEN(killed);
    return killed;
}

#define OCTO_STATIC_ASSERT_TIOC()                                                                  \
    _Static_assert(TIOCSTI < TIOCLINUX && TIOCLINUX - TIOCSTI < 16, "ioctl request layout")

static const uint64_t clone_new_bits[] = {
    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, CLONE_NEWTIME,
};

uint64_t octo_sandbox_clone_ns_mask(void)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < OCTO_ARRAY_LEN(clone_new_bits); i++)
        mask |= clone_new_bits[i];
    return mask;
}

struct compiled {
    bool ready;
    struct sock_filter insns[BPF_MAXINSNS];
    struct sock_fprog prog;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct compiled g_progs[3]; /* [0] no inet, [1] inet, [2] the ioctl guard */

static int add_rules(scmp_filter_ctx ctx, bool allow_inet)
{
    for (size_t i = 0; i < OCTO_ARRAY_LEN(allowed); i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
            return OCTO_ECONFIG;
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(killed); i++) {
        int nr = seccomp_syscall_resolve_name(killed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0) != 0)
            return OCTO_ECONFIG;
    }
    uint64_t mask = 0;
    for (size_t i = 0; i < OCTO_ARRAY_LEN(clone_new_bits); i++)
        mask |= clone_new_bits[i];
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 0));
    for (size_t i = 0; rc == 0 && i < OCTO_ARRAY_LEN(clone_new_bits); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, clone_new_bits[i], clone_new_bits[i]));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* ioctl is allowed here; TIOCSTI / TIOCLINUX are refused by the guard filter below,
     * stacked on this one. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);
    const int domains[] = {AF_UNIX, AF_INET, AF_INET6};
    size_t ndomains = allow_inet ? 3 : 1;
    for (size_t i = 0; rc == 0 && i < ndomains; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)domains[i]));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
                              SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)AF_UNIX));
    return rc == 0 ? 0 : OCTO_ECONFIG;
}

/* Exports ctx's BPF into c through a memfd. */
static int export_prog(scmp_filter_ctx ctx, struct compiled *c)
{
    int fd = memfd_create("octo-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return OCTO_EIO;
    int rc = OCTO_EIO;
    struct stat st;
    if (seccomp_export_bpf(ctx, fd) != 0 || fstat(fd, &st) != 0)
        goto out;
    if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
        rc = OCTO_EIO;
        goto out;
    }
    if ((size_t)st.st_size > sizeof(c->insns)) {
        rc = OCTO_ETOOBIG;
        goto out;
    }
    size_t want = (size_t)st.st_size, got = 0;
    while (got < want) {
        ssize_t n = pread(fd, (uint8_t *)c->insns + got, want - got, (off_t)got);
        if (n <= 0)
            goto out;
        got += (size_t)n;
    }
    c->prog.len = (unsigned short)(want / sizeof(struct sock_filter));
    c->prog.filter = c->insns;
    rc = 0;
out:
    close(fd);
    return rc;
}

static int build(bool allow_inet, struct compiled *c)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (ctx == NULL)
        return OCTO_ECONFIG;
    /* The child sets no_new_privs itself; libseccomp must not, and must not load anything. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) == 0 ? 0 : OCTO_ECONFIG;
    if (rc == 0)
        rc = add_rules(ctx, allow_inet);
    if (rc == 0)
        rc = export_prog(ctx, c);
    seccomp_release(ctx);
    return rc;
}

/* The ioctl guard: a second filter, default allow, that refuses TIOCSTI and TIOCLINUX
 * compared on the low 32 bits only — the kernel truncates the request to unsigned int, so
 * 0x1_00005412 is TIOCSTI (CVE-2019-10063). It is a separate filter because libseccomp takes
 * one comparison per argument in a rule and its ordered 32-bit comparisons (SCMP_A1_32 LT/GT)
 * do not mask the high word in 2.5.4, while a masked equality works; stacked filters combine
 * with the most restrictive action winning, so the deny holds whatever the allowlist says. */
static int build_guard(struct compiled *c)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return OCTO_ECONFIG;
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) == 0 ? 0 : OCTO_ECONFIG;
    OCTO_STATIC_ASSERT_TIOC();
    const uint64_t denied[] = {(uint64_t)TIOCSTI, (uint64_t)TIOCLINUX};
    for (size_t i = 0; rc == 0 && i < OCTO_ARRAY_LEN(denied); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1_64(SCMP_CMP_MASKED_EQ, UINT64_C(0xffffffff), denied[i]));
    if (rc == 0)
        rc = export_prog(ctx, c);
    seccomp_release(ctx);
    return rc < 0 ? rc : 0;
}

int octo__seccomp_guard(const struct sock_fprog **prog)
{
    OCTO_ASSERT(prog != NULL);
    struct compiled *c = &g_progs[2];
    pthread_mutex_lock(&g_lock);
    int rc = 0;
    if (!c->ready) {
        rc = build_guard(c);
        c->ready = rc == 0;
    }
    pthread_mutex_unlock(&g_lock);
    if (rc == 0)
        *prog = &c->prog;
    return rc;
}

int octo__seccomp_program(bool allow_inet, const struct sock_fprog **prog)
{
    OCTO_ASSERT(prog != NULL);
    struct compiled *c = &g_progs[allow_inet ? 1 : 0];
    pthread_mutex_lock(&g_lock);
    int rc = 0;
    if (!c->ready) {
        rc = build(allow_inet, c);
        c->ready = rc == 0;
    }
    pthread_mutex_unlock(&g_lock);
    if (rc == 0)
        *prog = &c->prog;
    return rc;
}
