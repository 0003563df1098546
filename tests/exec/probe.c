/*
 * probe.c — the escape suite's probe program. It runs INSIDE the sandbox (started by the
 * driver, escape.c, through octo_sandbox_run) and performs exactly one escape or limit attempt,
 * named by its only argument, then prints one result line "<case>: <token>" on stdout and exits
 * 0 — unless the attempt gets it killed, which is what the driver then checks for.
 *
 * Tokens are errno names ("ENOENT"), "ok" for a call that succeeded, or a short verdict word
 * computed here ("caps=0", "fds=0,1,2"). Cases that expect a seccomp kill print "survived
 * <errno>" after the call, so a failure shows what happened instead.
 *
 * Built as a static executable with no project libraries (the sandbox root has only /usr and the
 * declared binds; a static binary needs no loader), without sanitizers. It allocates nothing
 * from the heap: buffers are static or mmap'd.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_LINE_MAX 512
#define PROBE_FILE_MAX 16384
#define PROBE_THREADS 2
#define PROBE_FORKS_MAX 4096

static const char *g_case = "?";

static const char *errname(int e)
{
    static const struct {
        int e;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},
        {ENOENT, "ENOENT"},
        {EACCES, "EACCES"},
        {EROFS, "EROFS"},
        {ENOSYS, "ENOSYS"},
        {EBADF, "EBADF"},
        {EFAULT, "EFAULT"},
        {EINVAL, "EINVAL"},
        {ENOSPC, "ENOSPC"},
        {EAGAIN, "EAGAIN"},
        {ENETUNREACH, "ENETUNREACH"},
        {EAFNOSUPPORT, "EAFNOSUPPORT"},
        {ENOTTY, "ENOTTY"},
        {EMFILE, "EMFILE"},
        {ETXTBSY, "ETXTBSY"},
        {EEXIST, "EEXIST"},
        {ENOTDIR, "ENOTDIR"},
        {ELOOP, "ELOOP"},
        {EISDIR, "EISDIR"},
        {ENOMEM, "ENOMEM"},
        {EFBIG, "EFBIG"},
        {ESRCH, "ESRCH"},
        {EOPNOTSUPP, "EOPNOTSUPP"},
        {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
        {ENODEV, "ENODEV"},
        {ENXIO, "ENXIO"},
        {E2BIG, "E2BIG"},
    };
    static char other[32];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].e == e)
            return names[i].name;
    }
    snprintf(other, sizeof(other), "errno%d", e);
    return other;
}

static int report(const char *token)
{
    printf("%s: %s\n", g_case, token);
    fflush(stdout);
    return 0;
}

/* Reports "ok" for rc >= 0, else the errno name. */
static int report_rc(long rc)
{
    return report(rc >= 0 ? "ok" : errname(errno));
}

/* For calls the filter must kill: reaching this line is the failure. */
static int report_survived(long rc)
{
    char line[64];
    snprintf(line, sizeof(line), "survived %s", rc >= 0 ? "ok" : errname(errno));
    return report(line);
}

/* Reads a small file into a static buffer; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* Value of "Key:\t..." in a /proc status text, copied into out; 0 or -1 when absent. */
static int status_field(const char *text, const char *key, char *out, size_t out_size)
{
    size_t klen = strlen(key);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
            p += klen + 1;
            while (*p == '\t' || *p == ' ')
                p++;
            size_t n = strcspn(p, "\n");
            if (n >= out_size)
                n = out_size - 1;
            memcpy(out, p, n);
            out[n] = '\0';
            return 0;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

/* --- filesystem --- */

static int c_host_files(void)
{
    static const char *const paths[] = {"/etc/shadow", "/root", "/home", "/work", "/var/log"};
    char line[PROBE_LINE_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct stat st;
        int rc = stat(paths[i], &st);
        if (rc == 0 || errno != ENOENT) {
            int n = snprintf(line + used, sizeof(line) - used, "%s%s=%s", used ? " " : "", paths[i],
                             rc == 0 ? "ok" : errname(errno));
            if (n > 0 && (size_t)n < sizeof(line) - used)
                used += (size_t)n;
        }
    }
    return report(used == 0 ? "ENOENT" : line);
}

static int c_write_usr(void)
{
    return report_rc(open("/usr/bin/octo-escape", O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
}

static int c_mkdir_root(void)
{
    return report_rc(mkdir("/escape", 0755));
}

static int c_write_probe_dir(void)
{
    return report_rc(open("/probe/escape-written", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
}

static int c_proc_sys(void)
{
    return report_rc(open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC));
}

static int c_proc_sysrq(void)
{
    return report_rc(open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC));
}

/* CVE-2019-5736: overwrite the binary the host executes through /proc/self/exe. */
static int c_proc_exe(void)
{
    return report_rc(open("/proc/self/exe", O_WRONLY | O_CLOEXEC));
}

static int c_dev_minimal(void)
{
    static const char *const absent[] = {"/dev/mem", "/dev/kmem", "/dev/kmsg", "/dev/sda",
                                         "/dev/vda", "/dev/port", "/dev/tpm0"};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        int fd = open(absent[i], O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || (errno != ENOENT && errno != EACCES)) {
            char line[128];
            snprintf(line, sizeof(line), "%s=%s", absent[i], fd >= 0 ? "ok" : errname(errno));
            return report(line);
        }
    }
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return report("/dev/null missing");
    close(fd);
    return report("dev=minimal");
}

static int c_mknod(void)
{
    return report_rc(mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)));
}

static int c_tmp_full(void)
{
    static char chunk[65536];
    memset(chunk, 'x', sizeof(chunk));
    int fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return report(errname(errno));
    for (size_t total = 0; total < (size_t)64 << 20; total += sizeof(chunk)) {
        if (write(fd, chunk, sizeof(chunk)) < 0)
            return report(errname(errno));
    }
    return report("wrote 64 MiB");
}

static int c_fsize(void)
{
    static char chunk[65536];
    memset(chunk, 'x', sizeof(chunk));
    int fd = open("/tmp/big", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return report(errname(errno));
    for (size_t total = 0; total < (size_t)8 << 20; total += sizeof(chunk)) {
        if (write(fd, chunk, sizeof(chunk)) < 0)
            return report_survived(-1);
    }
    return report("survived wrote 8 MiB");
}

static int c_nofile(void)
{
    for (int i = 0; i < 100000; i++) {
        if (open("/dev/null", O_RDONLY) < 0) {
            char line[64];
            snprintf(line, sizeof(line), "%s after %d", errname(errno), i);
            if (errno == EMFILE && i <= 64)
                return report("EMFILE");
            return report(line);
        }
    }
    return report("no limit");
}

/* A writable bind (/data) holds host-made symlinks to /etc/shadow and /etc; neither may reach
 * the host's files. Also leaves a symlink of its own for the driver to check. */
static int c_symlink(void)
{
    char buf[64];
    int fd = open("/data/link", O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return report(read(fd, buf, sizeof(buf)) > 0 ? "LEAK read shadow" : "LEAK opened shadow");
    int read_err = errno;
    fd = open("/data/link", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        return report("LEAK wrote through link");
    fd = open("/data/dirlink/octo-escape-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        return report("LEAK created in linked dir");
    if (symlink("/etc/shadow", "/data/mylink") < 0)
        return report("cannot create own symlink");
    char line[64];
    snprintf(line, sizeof(line), "denied read=%s", errname(read_err));
    return report(line);
}

static int c_proc_root(void)
{
    char target[256];
    static const char *const paths[] = {"/proc/self/root/etc/shadow", "/proc/1/root/etc/shadow",
                                        "/proc/self/root/../../../etc/shadow",
                                        "/proc/self/cwd/../../../../etc/shadow"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            return report("LEAK opened shadow");
    }
    ssize_t n = readlink("/proc/self/root", target, sizeof(target) - 1);
    if (n < 0)
        return report(errname(errno));
    target[n] = '\0';
    return report(strcmp(target, "/") == 0 ? "denied root=/" : target);
}

/* CVE-2024-21626: the working directory and every descriptor must be inside the new root. */
static int c_fd_targets(void)
{
    char cwd[PROBE_LINE_MAX];
    long n = syscall(SYS_getcwd, cwd, sizeof(cwd)); /* raw: shows "(unreachable)" */
    if (n < 0)
        return report(errname(errno));
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return report(errname(errno));
    const char *bad = NULL;
    static char target[PROBE_LINE_MAX];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (int)strtol(e->d_name, NULL, 10) == dirfd(d))
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof(target) - 1);
        if (len < 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, "pipe:", 5) != 0 && strncmp(target, "socket:", 7) != 0 &&
            strncmp(target, "anon_inode:", 11) != 0 && strcmp(target, "/dev/null") != 0)
            bad = target;
    }
    closedir(d);
    char line[PROBE_LINE_MAX * 2 + 16];
    snprintf(line, sizeof(line), "cwd=%s fds=%s", cwd, bad == NULL ? "ok" : bad);
    return report(line);
}

static int c_cwd(void)
{
    char cwd[PROBE_LINE_MAX];
    if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0)
        return report(errname(errno));
    char line[PROBE_LINE_MAX + 8];
    snprintf(line, sizeof(line), "cwd=%s", cwd);
    return report(line);
}

static int c_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return report(errname(errno));
    char line[PROBE_LINE_MAX] = "fds=";
    size_t used = 4;
    int fds[64];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 64) {
        if (e->d_name[0] == '.')
            continue;
        int fd = (int)strtol(e->d_name, NULL, 10);
        if (fd != dirfd(d))
            fds[count++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < count; i++) { /* readdir order is ascending for /proc, but sort */
        for (size_t j = i + 1; j < count; j++) {
            if (fds[j] < fds[i]) {
                int t = fds[i];
                fds[i] = fds[j];
                fds[j] = t;
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(line + used, sizeof(line) - used, "%s%d", i ? "," : "", fds[i]);
        if (n > 0 && (size_t)n < sizeof(line) - used)
            used += (size_t)n;
    }
    return report(line);
}

static int c_mounts(void)
{
    static char text[PROBE_FILE_MAX];
    if (read_small("/proc/self/mounts", text, sizeof(text)) < 0)
        return report(errname(errno));
    const char *root = "?", *usr = "?", *proc = "?", *tmp = "?";
    static char opts_root[256], opts_usr[256], opts_proc[256], type_tmp[64];
    for (char *line = text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        char dev[256], dir[256], type[64], opts[256];
        if (sscanf(line, "%255s %255s %63s %255s", dev, dir, type, opts) == 4) {
            if (strcmp(dir, "/") == 0) {
                memcpy(opts_root, opts, sizeof(opts_root));
                root = strncmp(opts, "ro", 2) == 0 ? "ro" : opts_root;
            } else if (strcmp(dir, "/usr") == 0) {
                memcpy(opts_usr, opts, sizeof(opts_usr));
                usr = strncmp(opts, "ro", 2) == 0 ? "ro" : opts_usr;
            } else if (strcmp(dir, "/proc") == 0) {
                memcpy(opts_proc, opts, sizeof(opts_proc));
                proc = strstr(opts, "nosuid") && strstr(opts, "nodev") && strstr(opts, "noexec")
                           ? "nosuid,nodev,noexec"
                           : opts_proc;
            } else if (strcmp(dir, "/tmp") == 0) {
                memcpy(type_tmp, type, sizeof(type_tmp));
                tmp = type_tmp;
            }
        }
        line = next;
    }
    char out[PROBE_LINE_MAX * 2];
    snprintf(out, sizeof(out), "root=%s usr=%s proc=%s tmp=%s", root, usr, proc, tmp);
    return report(out);
}

/* --- identity, capabilities, filters --- */

static int c_setuid0(void)
{
    return report_rc(setuid(0));
}

static int c_setgid0(void)
{
    return report_rc(setgid(0));
}

static int c_uid(void)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    if (getresuid(&r, &e, &s) < 0 || getresgid(&gr, &ge, &gs) < 0)
        return report(errname(errno));
    char line[128];
    if (r == e && e == s && gr == ge && ge == gs)
        snprintf(line, sizeof(line), "uid=%u gid=%u", (unsigned)r, (unsigned)gr);
    else
        snprintf(line, sizeof(line), "mixed uid=%u/%u/%u", (unsigned)r, (unsigned)e, (unsigned)s);
    return report(line);
}

static int c_caps(void)
{
    static char text[PROBE_FILE_MAX];
    if (read_small("/proc/self/status", text, sizeof(text)) < 0)
        return report(errname(errno));
    static const char *const keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char v[64];
        if (status_field(text, keys[i], v, sizeof(v)) < 0)
            return report("no cap field");
        if (strspn(v, "0") != strlen(v)) {
            char line[128];
            snprintf(line, sizeof(line), "%s=%s", keys[i], v);
            return report(line);
        }
    }
    return report("caps=0");
}

static pthread_barrier_t g_barrier;

static void *thread_wait(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_barrier); /* started */
    pthread_barrier_wait(&g_barrier); /* checked */
    return NULL;
}

/* NoNewPrivs 1 and Seccomp 2 on every thread (Firecracker's per-thread check). */
static int c_threads_filtered(void)
{
    pthread_t t[PROBE_THREADS];
    pthread_barrier_init(&g_barrier, NULL, PROBE_THREADS + 1);
    for (int i = 0; i < PROBE_THREADS; i++) {
        if (pthread_create(&t[i], NULL, thread_wait, NULL) != 0)
            return report("pthread_create failed");
    }
    pthread_barrier_wait(&g_barrier);
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return report(errname(errno));
    int threads = 0, good = 0;
    static char text[PROBE_FILE_MAX];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], nnp[16] = "", sec[16] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
        threads++;
        if (read_small(path, text, sizeof(text)) < 0)
            continue;
        if (status_field(text, "NoNewPrivs", nnp, sizeof(nnp)) == 0 &&
            status_field(text, "Seccomp", sec, sizeof(sec)) == 0 && strcmp(nnp, "1") == 0 &&
            strcmp(sec, "2") == 0)
            good++;
    }
    closedir(d);
    pthread_barrier_wait(&g_barrier);
    for (int i = 0; i < PROBE_THREADS; i++)
        pthread_join(t[i], NULL);
    char line[96];
    snprintf(line, sizeof(line), "threads=%d nnp1_seccomp2=%d", threads, good);
    return report(line);
}

static int c_sethostname(void)
{
    return report_rc(sethostname("escape", 6));
}

static int c_rlimit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return report(errname(errno));
    if (rl.rlim_max == RLIM_INFINITY)
        return report("unlimited");
    rl.rlim_max += 1;
    rl.rlim_cur = rl.rlim_max;
    return report_rc(setrlimit(RLIMIT_NOFILE, &rl));
}

static int c_env(void)
{
    for (char **e = environ; *e != NULL; e++) {
        if (strncmp(*e, "OCTO_ESCAPE_CANARY=", 19) == 0)
            return report("env=leaked");
    }
    return report("env=clean");
}

/* --- namespaces, cgroups, network --- */

static int c_ns(void)
{
    static const char *const names[] = {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[64], target[128];
        snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
            snprintf(target, sizeof(target), "%s", errname(errno));
        else
            target[n] = '\0';
        printf("ns %s %s\n", names[i], target);
    }
    return report("ns listed");
}

static int c_cgroup_ns(void)
{
    static char text[PROBE_FILE_MAX];
    if (read_small("/proc/self/cgroup", text, sizeof(text)) < 0)
        return report(errname(errno));
    for (char *line = text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        const char *path = strrchr(line, ':');
        if (path != NULL && strcmp(path, ":/") != 0)
            return report(line);
        line = next;
    }
    return report("cgroup=/");
}

static int c_procs(void)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return report(errname(errno));
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
            count++;
    }
    closedir(d);
    char line[64];
    snprintf(line, sizeof(line), count <= 3 ? "procs=few" : "procs=%d", count);
    return report(line);
}

static int c_kill_all(void)
{
    pid_t child = fork();
    if (child < 0)
        return report(errname(errno));
    if (child == 0) {
        for (;;)
            pause();
    }
    if (kill(-1, SIGKILL) < 0)
        return report(errname(errno));
    int st;
    if (waitpid(child, &st, 0) < 0)
        return report(errname(errno));
    return report(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "child-killed self-alive"
                                                             : "child-survived");
}

static int c_netdev(void)
{
    static char text[PROBE_FILE_MAX];
    if (read_small("/proc/net/dev", text, sizeof(text)) < 0)
        return report(errname(errno));
    char line[PROBE_LINE_MAX] = "netdevs=";
    size_t used = 8;
    int n = 0;
    for (char *p = text; p != NULL && *p != '\0';) {
        char *next = strchr(p, '\n');
        if (next != NULL)
            *next++ = '\0';
        char *colon = strchr(p, ':');
        if (colon != NULL && strchr(p, '|') == NULL) {
            *colon = '\0';
            while (*p == ' ')
                p++;
            int w = snprintf(line + used, sizeof(line) - used, "%s%s", n++ ? "," : "", p);
            if (w > 0 && (size_t)w < sizeof(line) - used)
                used += (size_t)w;
        }
        p = next;
    }
    return report(line);
}

static int c_lo_state(void)
{
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return report(errname(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return report(errname(errno));
    return report((ifr.ifr_flags & IFF_UP) ? "lo=up" : "lo=down");
}

static int try_socket(int family)
{
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return report(errname(errno));
    if (family == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
        a.sin_addr.s_addr = htonl(0x01010101);
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
            char line[64];
            snprintf(line, sizeof(line), "socket-ok connect=%s", errname(errno));
            return report(line);
        }
        return report("LEAK connected");
    }
    return report("ok");
}

static int c_inet_socket(void)
{
    return try_socket(AF_INET);
}

static int c_inet6_socket(void)
{
    return try_socket(AF_INET6);
}

static int c_netlink_socket(void)
{
    return report_rc(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
}

static int c_unix_socketpair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return report(errname(errno));
    char c = 0;
    if (write(sv[0], "x", 1) != 1 || read(sv[1], &c, 1) != 1 || c != 'x')
        return report("socketpair broken");
    return report("ok");
}

/* --- calls the filter must kill (SIGSYS) --- */

static int c_ptrace(void)
{
    return report_survived(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int c_mount(void)
{
    return report_survived(mount("none", "/tmp", "tmpfs", 0, NULL));
}

static int c_umount(void)
{
    return report_survived(umount2("/proc", MNT_DETACH));
}

static int c_unshare(void)
{
    return report_survived(unshare(CLONE_NEWUSER));
}

static int c_setns(void)
{
    return report_survived(setns(-1, 0));
}

static int c_bpf(void)
{
    return report_survived(syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0));
}

static int c_io_uring(void)
{
    return report_survived(syscall(SYS_io_uring_setup, 0, NULL));
}

static int c_keyctl(void)
{
    return report_survived(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
}

static int c_add_key(void)
{
    return report_survived(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0));
}

static int c_request_key(void)
{
    return report_survived(syscall(SYS_request_key, NULL, NULL, NULL, 0));
}

static int c_perf_event_open(void)
{
    return report_survived(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
}

static int c_userfaultfd(void)
{
    return report_survived(syscall(SYS_userfaultfd, 0));
}

static int c_process_vm_readv(void)
{
    return report_survived(syscall(SYS_process_vm_readv, 1, NULL, 0, NULL, 0, 0));
}

static int c_kexec_load(void)
{
    return report_survived(syscall(SYS_kexec_load, 0, 0, NULL, 0));
}

static int c_finit_module(void)
{
    return report_survived(syscall(SYS_finit_module, -1, "", 0));
}

static int c_chroot(void)
{
    return report_survived(chroot("/tmp"));
}

static int c_pivot_root(void)
{
    return report_survived(syscall(SYS_pivot_root, "/tmp", "/tmp"));
}

static int c_open_by_handle_at(void)
{
    return report_survived(syscall(SYS_open_by_handle_at, -1, NULL, 0));
}

/* --- try-syscall probes: blocked -> the filter's errno (or a kill), allowed -> EBADF --- */

static int c_try_read_badfd(void)
{
    char c;
    return report_rc(read(-1, &c, 1));
}

static int c_try_fstat_badfd(void)
{
    struct stat st;
    return report_rc(fstat(-1, &st));
}

static int c_try_fsconfig(void)
{
    return report_rc(syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
}

static int c_try_move_mount(void)
{
    return report_rc(syscall(SYS_move_mount, -1, "", -1, "", 0));
}

static int c_try_quotactl_fd(void)
{
    return report_rc(syscall(SYS_quotactl_fd, -1, 0, 0, NULL));
}

static int c_try_fanotify_mark(void)
{
    return report_rc(syscall(SYS_fanotify_mark, -1, 1 /* FAN_MARK_ADD */, 1, -1, "/"));
}

static int c_clone3(void)
{
    return report_rc(syscall(SYS_clone3, NULL, 0));
}

static int c_clone_newuser(void)
{
    long rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0);
    if (rc == 0)
        _exit(0);
    return report_rc(rc);
}

static int c_tiocsti(void)
{
    char c = 'x';
    return report_rc(ioctl(0, TIOCSTI, &c));
}

/* CVE-2019-10063: the kernel truncates the command to 32 bits; the filter must too. */
static int c_tiocsti64(void)
{
    char c = 'x';
    return report_rc(syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | (UINT64_C(1) << 32), &c));
}

static int c_x32_abi(void)
{
    return report_rc(syscall(0x40000000L | SYS_getpid));
}

static int c_i386_abi(void)
{
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L /* i386 getpid */) : "memory");
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return report(errname(errno));
    }
    return report("ok");
#else
    return report("ENOSYS");
#endif
}

/* --- limits --- */

static int c_fork_bomb(void)
{
    int n = 0;
    for (; n < PROBE_FORKS_MAX; n++) {
        pid_t p = fork();
        if (p == 0) {
            sleep(2);
            _exit(0);
        }
        if (p < 0)
            break;
    }
    char line[64];
    snprintf(line, sizeof(line), "forks=%d %s", n, n < PROBE_FORKS_MAX ? errname(errno) : "all");
    return report(line);
}

static int c_mem_bomb(void)
{
    size_t size = (size_t)200 << 20;
    unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return report(errname(errno));
    for (size_t i = 0; i < size; i += 4096)
        p[i] = (unsigned char)i;
    return report("survived 200 MB");
}

static int c_cpu_spin(void)
{
    volatile uint64_t x = 0;
    while (x != UINT64_MAX)
        x++;
    return report("survived spin");
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Burns 400 ms of CPU and prints the wall time it took (a quota stretches it). */
static int c_cpu_quota(void)
{
    uint64_t w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    volatile uint64_t x = 0;
    while (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 < 400000000u) {
        for (int i = 0; i < 10000; i++)
            x++;
    }
    char line[64];
    snprintf(line, sizeof(line), "wall_ms=%llu",
             (unsigned long long)((now_ns(CLOCK_MONOTONIC) - w0) / 1000000u));
    return report(line);
}

static int flood(int fd)
{
    static char chunk[65536];
    for (size_t i = 0; i < sizeof(chunk); i += 2) {
        chunk[i] = 'y';
        chunk[i + 1] = '\n';
    }
    for (;;) {
        if (write(fd, chunk, sizeof(chunk)) < 0)
            return report_survived(-1);
    }
}

static int c_output_flood(void)
{
    return flood(1);
}

static int c_stderr_flood(void)
{
    return flood(2);
}

/* --- plain outcomes --- */

static int c_exit42(void)
{
    return 42;
}

static int c_sigterm(void)
{
    raise(SIGTERM);
    return report("survived SIGTERM");
}

/* A forced fault signal (delivered even to a namespace's init). */
static int c_trap(void)
{
    __builtin_trap();
}

static int c_stdin(void)
{
    char buf[128];
    ssize_t n = read(0, buf, sizeof(buf) - 1);
    if (n < 0)
        return report(errname(errno));
    buf[n] = '\0';
    char line[160];
    snprintf(line, sizeof(line), "stdin=%s", buf);
    return report(line);
}

static const struct {
    const char *name;
    int (*fn)(void);
} cases[] = {
    {"host_files", c_host_files},
    {"write_usr", c_write_usr},
    {"mkdir_root", c_mkdir_root},
    {"write_probe_dir", c_write_probe_dir},
    {"proc_sys", c_proc_sys},
    {"proc_sysrq", c_proc_sysrq},
    {"proc_exe", c_proc_exe},
    {"dev_minimal", c_dev_minimal},
    {"mknod", c_mknod},
    {"tmp_full", c_tmp_full},
    {"fsize", c_fsize},
    {"nofile", c_nofile},
    {"symlink", c_symlink},
    {"proc_root", c_proc_root},
    {"fd_targets", c_fd_targets},
    {"cwd", c_cwd},
    {"fds", c_fds},
    {"mounts", c_mounts},
    {"setuid0", c_setuid0},
    {"setgid0", c_setgid0},
    {"uid", c_uid},
    {"caps", c_caps},
    {"threads_filtered", c_threads_filtered},
    {"sethostname", c_sethostname},
    {"rlimit_raise", c_rlimit_raise},
    {"env", c_env},
    {"ns", c_ns},
    {"cgroup_ns", c_cgroup_ns},
    {"procs", c_procs},
    {"kill_all", c_kill_all},
    {"netdev", c_netdev},
    {"lo_state", c_lo_state},
    {"inet_socket", c_inet_socket},
    {"inet6_socket", c_inet6_socket},
    {"netlink_socket", c_netlink_socket},
    {"unix_socketpair", c_unix_socketpair},
    {"ptrace", c_ptrace},
    {"mount", c_mount},
    {"umount", c_umount},
    {"unshare", c_unshare},
    {"setns", c_setns},
    {"bpf", c_bpf},
    {"io_uring", c_io_uring},
    {"keyctl", c_keyctl},
    {"add_key", c_add_key},
    {"request_key", c_request_key},
    {"perf_event_open", c_perf_event_open},
    {"userfaultfd", c_userfaultfd},
    {"process_vm_readv", c_process_vm_readv},
    {"kexec_load", c_kexec_load},
    {"finit_module", c_finit_module},
    {"chroot", c_chroot},
    {"pivot_root", c_pivot_root},
    {"open_by_handle_at", c_open_by_handle_at},
    {"try_read_badfd", c_try_read_badfd},
    {"try_fstat_badfd", c_try_fstat_badfd},
    {"try_fsconfig", c_try_fsconfig},
    {"try_move_mount", c_try_move_mount},
    {"try_quotactl_fd", c_try_quotactl_fd},
    {"try_fanotify_mark", c_try_fanotify_mark},
    {"clone3", c_clone3},
    {"clone_newuser", c_clone_newuser},
    {"tiocsti", c_tiocsti},
    {"tiocsti64", c_tiocsti64},
    {"x32_abi", c_x32_abi},
    {"i386_abi", c_i386_abi},
    {"fork_bomb", c_fork_bomb},
    {"mem_bomb", c_mem_bomb},
    {"cpu_spin", c_cpu_spin},
    {"cpu_quota", c_cpu_quota},
    {"output_flood", c_output_flood},
    {"stderr_flood", c_stderr_flood},
    {"exit42", c_exit42},
    {"sigterm", c_sigterm},
    {"trap", c_trap},
    {"stdin", c_stdin},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: escape_probe CASE\n");
        return 2;
    }
    g_case = argv[1];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(cases[i].name, argv[1]) == 0)
            return cases[i].fn();
    }
    fprintf(stderr, "escape_probe: unknown case '%s'\n", argv[1]);
    return 2;
}
