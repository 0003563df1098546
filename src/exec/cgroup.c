/*
 * cgroup.c — per-sandbox cgroups, v1 and v2 (see cgroup.h for the contracts and layouts).
 *
 * Control files are written with one write() each (the kernel parses a whole write); a short
 * or failed write is an error. Reads go through a bounded stack buffer. Removal retries rmdir
 * while the killed processes drain (EBUSY), killing again between tries.
 */
#include "exec/cgroup.h"

#include "base/assert.h"
#include "base/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CG_FILE_MAX 4096 /* bytes read from one control file */
#define CG_DESTROY_TRIES 1000
#define CG_DESTROY_SLEEP_NS 1000000L
#define CG_CPU_PERIOD_US 100000u

static const char *const v1_names[OCTO__CG_SLOTS] = {"memory", "pids", "cpu", "cpuacct"};

static int path_join(char *out, size_t out_size, const char *a, const char *b)
{
    int n = snprintf(out, out_size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= out_size)
        return OCTO_ETOOBIG;
    return 0;
}

/* Reads a small file into buf (NUL-terminated). Returns 0 or -errno. */
static int read_text(const char *path, char *buf, size_t size)
{
    OCTO_ASSERT(size > 0);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    return 0;
}

/* Writes text to a control file in one write(). Returns 0 or -errno. */
static int write_text(const struct octo__cgroup_layout *l, const char *dir, const char *file,
                      const char *text)
{
    char path[OCTO__CG_PATH_MAX];
    if (path_join(path, sizeof(path), dir, file) != 0)
        return -ENAMETOOLONG;
    int flags = O_WRONLY | O_CLOEXEC | (l->fake ? O_CREAT | O_TRUNC : 0);
    int fd = open(path, flags, 0644);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int e = n < 0 ? errno : 0;
    close(fd);
    if (n < 0)
        return -e;
    if ((size_t)n != len)
        return -EIO;
    return 0;
}

static bool file_exists(const char *dir, const char *file)
{
    char path[OCTO__CG_PATH_MAX];
    if (path_join(path, sizeof(path), dir, file) != 0)
        return false;
    return access(path, F_OK) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Does the comma-separated list [s, e) contain name? */
static bool list_has(const char *s, const char *e, const char *name)
{
    size_t nl = strlen(name);
    while (s < e) {
        const char *c = memchr(s, ',', (size_t)(e - s));
        const char *end = c != NULL ? c : e;
        if ((size_t)(end - s) == nl && memcmp(s, name, nl) == 0)
            return true;
        s = end + 1;
    }
    return false;
}

/* Does a whitespace-separated word list contain word? */
static bool words_have(const char *text, const char *word)
{
    size_t wl = strlen(word);
    const char *p = text;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        const char *s = p;
        while (*p != '\0' && *p != ' ' && *p != '\n' && *p != '\t')
            p++;
        if ((size_t)(p - s) == wl && memcmp(s, word, wl) == 0)
            return true;
    }
    return false;
}

/* Joins root + "/" + sub + path (path "/" adds nothing). */
static int base_path(char *out, const char *root, const char *sub, const char *path, size_t plen)
{
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    int n;
    if (sub != NULL)
        n = snprintf(out, OCTO__CG_PATH_MAX, "%s/%s%.*s", root, sub, (int)plen, path);
    else
        n = snprintf(out, OCTO__CG_PATH_MAX, "%s%.*s", root, (int)plen, path);
    if (n < 0 || n >= OCTO__CG_PATH_MAX)
        return OCTO_ETOOBIG;
    return 0;
}

int octo__cgroup_discover(const char *mount_root, const char *self_cgroup,
                          struct octo__cgroup_layout *l)
{
    OCTO_ASSERT(mount_root != NULL && self_cgroup != NULL && l != NULL);
    bool fake = l->fake;
    memset(l, 0, sizeof(*l));
    l->fake = fake;
    bool v2 = file_exists(mount_root, "cgroup.controllers");
    const char *line = self_cgroup;
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        const char *end = nl != NULL ? nl : line + strlen(line);
        const char *c1 = memchr(line, ':', (size_t)(end - line));
        const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        if (end > line && (c1 == NULL || c2 == NULL))
            return OCTO_EMALFORMED;
        if (c2 != NULL) {
            const char *path = c2 + 1;
            size_t plen = (size_t)(end - path);
            if (v2 && c2 == c1 + 1 && c1 - line == 1 && line[0] == '0') {
                /* Once v2_enable has moved us into our "octo-supervisor" leaf (the
                 * no-internal-process rule), sandboxes still belong beside it, under its
                 * parent: without this every run would nest one level deeper. */
                static const char leaf[] = "/" OCTO__CG_SUPERVISOR_LEAF;
                const size_t ll = sizeof(leaf) - 1;
                if (plen > ll && memcmp(path + plen - ll, leaf, ll) == 0)
                    plen -= ll;
                int rc = base_path(l->base[OCTO__CG_MEM], mount_root, NULL, path, plen);
                if (rc != 0)
                    return rc;
            }
            /* Controllers co-mounted in one hierarchy ("cpu,cpuacct") share one directory:
             * later ones take the first one's path, so create() makes it once. */
            int first = -1;
            for (size_t i = 0; !v2 && i < OCTO__CG_SLOTS; i++) {
                if (!list_has(c1 + 1, c2, v1_names[i]))
                    continue;
                if (first >= 0) {
                    memcpy(l->base[i], l->base[first], sizeof(l->base[i]));
                    continue;
                }
                int rc = base_path(l->base[i], mount_root, v1_names[i], path, plen);
                if (rc != 0)
                    return rc;
                if (!is_dir(l->base[i]))
                    l->base[i][0] = '\0';
                first = (int)i;
            }
        }
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    if (v2)
        l->version = l->base[OCTO__CG_MEM][0] != '\0' && is_dir(l->base[OCTO__CG_MEM]) ? 2 : 0;
    else
        l->version = l->base[OCTO__CG_MEM][0] != '\0' || l->base[OCTO__CG_PIDS][0] != '\0' ? 1 : 0;
    if (l->version == 0)
        memset(l->base, 0, sizeof(l->base));
    return 0;
}

int octo__cgroup_layout_load(struct octo__cgroup_layout *l)
{
    char self[OCTO__CG_SELF_MAX];
    if (read_text("/proc/self/cgroup", self, sizeof(self)) != 0)
        return OCTO_EIO;
    l->fake = false;
    return octo__cgroup_discover("/sys/fs/cgroup", self, l);
}

void octo__cgroup_usable(const struct octo__cgroup_layout *l, bool *memory, bool *pids, bool *cpu)
{
    bool have[3] = {false, false, false};
    if (l->version == 1) {
        for (size_t i = 0; i < 3; i++)
            have[i] = l->base[i][0] != '\0' && access(l->base[i], W_OK) == 0;
    } else if (l->version == 2) {
        char path[OCTO__CG_PATH_MAX], text[CG_FILE_MAX];
        if (path_join(path, sizeof(path), l->base[OCTO__CG_MEM], "cgroup.controllers") == 0 &&
            read_text(path, text, sizeof(text)) == 0) {
            have[0] = words_have(text, "memory");
            have[1] = words_have(text, "pids");
            have[2] = words_have(text, "cpu");
        }
    }
    if (memory != NULL)
        *memory = have[0];
    if (pids != NULL)
        *pids = have[1];
    if (cpu != NULL)
        *cpu = have[2];
}

int octo__cgroup_parse_key(const char *text, const char *key, uint64_t *out)
{
    size_t kl = strlen(key);
    const char *line = text;
    while (*line != '\0') {
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
            const char *v = line + kl + 1;
            if (*v < '0' || *v > '9')
                return OCTO_ERANGE;
            char *end = NULL;
            errno = 0;
            unsigned long long x = strtoull(v, &end, 10);
            if (errno != 0 || (*end != '\n' && *end != '\0'))
                return OCTO_ERANGE;
            *out = (uint64_t)x;
            return 0;
        }
        const char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return OCTO_ENOTFOUND;
}

static void err_note(char *err, size_t err_size, const char *step, const char *path, int e)
{
    if (err != NULL && err_size > 0)
        snprintf(err, err_size, "cgroup %s %s: %s", step, path, strerror(e));
}

/* v2: make sure memory, pids (and cpu) are enabled for our children. */
static int v2_enable(const struct octo__cgroup_layout *l, bool want_cpu, char *err, size_t err_size)
{
    const char *base = l->base[OCTO__CG_MEM];
    char path[OCTO__CG_PATH_MAX], text[CG_FILE_MAX];
    if (path_join(path, sizeof(path), base, "cgroup.subtree_control") != 0)
        return OCTO_ETOOBIG;
    int rc = read_text(path, text, sizeof(text));
    if (rc == 0 && words_have(text, "memory") && words_have(text, "pids") &&
        (!want_cpu || words_have(text, "cpu")))
        return 0;
    const char *want = want_cpu ? "+memory +pids +cpu" : "+memory +pids";
    rc = write_text(l, base, "cgroup.subtree_control", want);
    if (rc == -EBUSY) {
        /* No-internal-process rule: move ourselves into a leaf, then enable. */
        char leaf[OCTO__CG_PATH_MAX];
        if (path_join(leaf, sizeof(leaf), base, OCTO__CG_SUPERVISOR_LEAF) != 0)
            return OCTO_ETOOBIG;
        if (mkdir(leaf, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            err_note(err, err_size, "mkdir", leaf, e);
            return octo_err_from_errno(e);
        }
        rc = write_text(l, leaf, "cgroup.procs", "0");
        if (rc == 0)
            rc = write_text(l, base, "cgroup.subtree_control", want);
    }
    if (rc != 0) {
        err_note(err, err_size, "enable controllers in", path, -rc);
        return octo_err_from_errno(-rc);
    }
    return 0;
}

static int set_limits_v1(struct octo__cgroup *cg, const struct octo__cgroup_limits *lim, char *err,
                         size_t err_size)
{
    const struct octo__cgroup_layout *l = cg->layout;
    char num[32];
    int rc;
    snprintf(num, sizeof(num), "%" PRIu64, lim->mem_bytes);
    rc = write_text(l, cg->dir[OCTO__CG_MEM], "memory.limit_in_bytes", num);
    if (rc == 0 && (l->fake || file_exists(cg->dir[OCTO__CG_MEM], "memory.memsw.limit_in_bytes")))
        rc = write_text(l, cg->dir[OCTO__CG_MEM], "memory.memsw.limit_in_bytes", num);
    if (rc != 0) {
        err_note(err, err_size, "memory limit", cg->dir[OCTO__CG_MEM], -rc);
        return octo_err_from_errno(-rc);
    }
    snprintf(num, sizeof(num), "%" PRIu32, lim->pids);
    rc = write_text(l, cg->dir[OCTO__CG_PIDS], "pids.max", num);
    if (rc != 0) {
        err_note(err, err_size, "pids.max", cg->dir[OCTO__CG_PIDS], -rc);
        return octo_err_from_errno(-rc);
    }
    if (lim->cpu_pct > 0) {
        snprintf(num, sizeof(num), "%u", CG_CPU_PERIOD_US);
        rc = write_text(l, cg->dir[OCTO__CG_CPU], "cpu.cfs_period_us", num);
        if (rc == 0) {
            snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)lim->cpu_pct * 1000u);
            rc = write_text(l, cg->dir[OCTO__CG_CPU], "cpu.cfs_quota_us", num);
        }
        if (rc != 0) {
            err_note(err, err_size, "cpu quota", cg->dir[OCTO__CG_CPU], -rc);
            return octo_err_from_errno(-rc);
        }
    }
    return 0;
}

static int set_limits_v2(struct octo__cgroup *cg, const struct octo__cgroup_limits *lim, char *err,
                         size_t err_size)
{
    const struct octo__cgroup_layout *l = cg->layout;
    const char *dir = cg->dir[OCTO__CG_MEM];
    char num[64];
    int rc;
    snprintf(num, sizeof(num), "%" PRIu64, lim->mem_bytes);
    rc = write_text(l, dir, "memory.max", num);
    if (rc == 0 && (l->fake || file_exists(dir, "memory.swap.max")))
        rc = write_text(l, dir, "memory.swap.max", "0");
    if (rc == 0 && (l->fake || file_exists(dir, "memory.oom.group")))
        rc = write_text(l, dir, "memory.oom.group", "1");
    if (rc != 0) {
        err_note(err, err_size, "memory limit", dir, -rc);
        return octo_err_from_errno(-rc);
    }
    snprintf(num, sizeof(num), "%" PRIu32, lim->pids);
    rc = write_text(l, dir, "pids.max", num);
    if (rc != 0) {
        err_note(err, err_size, "pids.max", dir, -rc);
        return octo_err_from_errno(-rc);
    }
    if (lim->cpu_pct > 0) {
        snprintf(num, sizeof(num), "%" PRIu64 " %u", (uint64_t)lim->cpu_pct * 1000u,
                 CG_CPU_PERIOD_US);
        rc = write_text(l, dir, "cpu.max", num);
        if (rc != 0) {
            err_note(err, err_size, "cpu.max", dir, -rc);
            return octo_err_from_errno(-rc);
        }
    }
    return 0;
}

int octo__cgroup_create(struct octo__cgroup *cg, const struct octo__cgroup_layout *l,
                        const char *name, const struct octo__cgroup_limits *lim, char *err,
                        size_t err_size)
{
    OCTO_ASSERT(cg != NULL && l != NULL && name != NULL && lim != NULL);
    OCTO_ASSERT(strchr(name, '/') == NULL && name[0] != '\0');
    memset(cg, 0, sizeof(*cg));
    cg->layout = l;
    cg->v2_fd = -1;
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    bool need[OCTO__CG_SLOTS] = {true, true, lim->cpu_pct > 0, false};
    if (l->version == 2) {
        need[OCTO__CG_PIDS] = need[OCTO__CG_CPU] = false;
        int rc = v2_enable(l, lim->cpu_pct > 0, err, err_size);
        if (rc != 0)
            return rc;
    } else if (l->version != 1) {
        err_note(err, err_size, "layout", "(none)", ENOENT);
        return OCTO_EUNSUPPORTED;
    }
    for (size_t i = 0; i < OCTO__CG_SLOTS; i++) {
        if (l->base[i][0] == '\0') {
            if (need[i]) {
                err_note(err, err_size, "controller missing:", v1_names[i], ENOENT);
                OCTO_IGNORE(octo__cgroup_destroy(cg));
                return OCTO_EUNSUPPORTED;
            }
            continue;
        }
        if (l->version == 1 && i == OCTO__CG_CPU && !need[i])
            continue;
        /* A co-mounted hierarchy (cpu,cpuacct) shows up twice: one directory serves both. */
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || (cg->dir[j][0] != '\0' && strcmp(l->base[j], l->base[i]) == 0);
        if (dup)
            continue;
        if (path_join(cg->dir[i], sizeof(cg->dir[i]), l->base[i], name) != 0) {
            cg->dir[i][0] = '\0';
            OCTO_IGNORE(octo__cgroup_destroy(cg));
            return OCTO_ETOOBIG;
        }
        if (mkdir(cg->dir[i], 0755) != 0) {
            int e = errno;
            err_note(err, err_size, "mkdir", cg->dir[i], e);
            cg->dir[i][0] = '\0';
            OCTO_IGNORE(octo__cgroup_destroy(cg));
            return octo_err_from_errno(e);
        }
    }
    int rc = l->version == 1 ? set_limits_v1(cg, lim, err, err_size)
                             : set_limits_v2(cg, lim, err, err_size);
    if (rc == 0 && l->version == 2) {
        cg->v2_fd = open(cg->dir[OCTO__CG_MEM], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg->v2_fd < 0) {
            int e = errno;
            err_note(err, err_size, "open", cg->dir[OCTO__CG_MEM], e);
            rc = octo_err_from_errno(e);
        }
    }
    if (rc != 0)
        OCTO_IGNORE(octo__cgroup_destroy(cg));
    return rc;
}

int octo__cgroup_attach(const struct octo__cgroup *cg, pid_t pid)
{
    OCTO_ASSERT(pid > 0);
    char num[32];
    snprintf(num, sizeof(num), "%d", (int)pid);
    for (size_t i = 0; i < OCTO__CG_SLOTS; i++) {
        if (cg->dir[i][0] == '\0')
            continue;
        int rc = write_text(cg->layout, cg->dir[i], "cgroup.procs", num);
        if (rc != 0)
            return octo_err_from_errno(-rc);
    }
    return 0;
}

#define PROCS_MAX (UINT64_C(1) << 20) /* bytes of a cgroup.procs listing (65536 pids fit) */

/* Reads the whole cgroup.procs at path (a listing longer than one buffer must not be cut in
 * the middle of a number). Returns 0 or a negative errno. */
static int read_procs(const char *path, struct octo_buf *out)
{
    octo_buf_reset(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    for (;;) {
        if (octo_buf_reserve(out, 4096) != 0) {
            rc = -ENOMEM;
            break;
        }
        ssize_t n = read(fd, out->data + out->len, 4096);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        out->len += (size_t)n;
    }
    close(fd);
    if (rc == 0)
        rc = octo_buf_append_byte(out, '\0') == 0 ? 0 : -ENOMEM;
    return rc;
}

/* The next pid of a listing: a number ended by a newline (anything else is not a pid). Returns
 * it and advances *p, or -1 at the end. */
static long procs_next(const char **p)
{
    while (**p != '\0') {
        char *end = NULL;
        errno = 0;
        long v = strtol(*p, &end, 10);
        if (end == *p)
            return -1;
        bool whole = *end == '\n';
        *p = end;
        while (**p == '\n')
            (*p)++;
        if (errno == 0 && whole && v > 0)
            return v;
    }
    return -1;
}

static bool procs_list_has(const char *text, long pid)
{
    const char *p = text;
    long v;
    while ((v = procs_next(&p)) >= 0) {
        if (v == pid)
            return true;
    }
    return false;
}

/* Kills pid if it is a member of the group whose cgroup.procs is at path. A pid read from the
 * listing may exit and be reused by an unrelated process before the kill: a pidfd pins the
 * process first (its number cannot be reused while the pidfd is open), the listing is read
 * again to confirm membership, and the signal goes through the pidfd. Without a pidfd (a
 * kernel before 5.3, a seccomp profile refusing it, descriptor exhaustion) a plain kill:
 * leaving the group's processes alive would be worse. */
static void kill_member(const char *path, long pid, struct octo_buf *scratch)
{
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pfd < 0) {
        if (errno != ESRCH)
            kill((pid_t)pid, SIGKILL);
        return; /* ESRCH: already gone */
    }
    if (read_procs(path, scratch) == 0 && procs_list_has((const char *)scratch->data, pid))
        (void)syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
    close(pfd);
}

size_t octo__cgroup_kill_dir(const char *dir)
{
    char path[OCTO__CG_PATH_MAX];
    if (path_join(path, sizeof(path), dir, "cgroup.procs") != 0)
        return 0;
    struct octo_buf list, scratch;
    octo_buf_init(&list, PROCS_MAX);
    octo_buf_init(&scratch, PROCS_MAX);
    size_t count = 0;
    if (read_procs(path, &list) == 0) {
        const char *p = (const char *)list.data;
        long v;
        while ((v = procs_next(&p)) >= 0) {
            if (v > 1) {
                kill_member(path, v, &scratch);
                count++;
            }
        }
    }
    octo_buf_deinit(&list);
    octo_buf_deinit(&scratch);
    return count;
}

void octo__cgroup_kill(const struct octo__cgroup *cg)
{
    if (cg->layout == NULL || cg->layout->fake)
        return;
    if (cg->layout->version == 2 && cg->dir[OCTO__CG_MEM][0] != '\0' &&
        write_text(cg->layout, cg->dir[OCTO__CG_MEM], "cgroup.kill", "1") == 0)
        return;
    for (size_t i = 0; i < OCTO__CG_SLOTS; i++) {
        if (cg->dir[i][0] != '\0')
            (void)octo__cgroup_kill_dir(cg->dir[i]);
    }
}

static void read_key(const char *dir, const char *file, const char *key, uint64_t *out)
{
    char path[OCTO__CG_PATH_MAX], text[CG_FILE_MAX];
    if (dir[0] == '\0' || path_join(path, sizeof(path), dir, file) != 0 ||
        read_text(path, text, sizeof(text)) != 0)
        return;
    uint64_t v = 0;
    if (octo__cgroup_parse_key(text, key, &v) == 0)
        *out = v;
}

static void read_number(const char *dir, const char *file, uint64_t *out)
{
    char path[OCTO__CG_PATH_MAX], text[64];
    if (dir[0] == '\0' || path_join(path, sizeof(path), dir, file) != 0 ||
        read_text(path, text, sizeof(text)) != 0 || text[0] < '0' || text[0] > '9')
        return;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == 0 && (*end == '\n' || *end == '\0'))
        *out = (uint64_t)v;
}

void octo__cgroup_read_stats(const struct octo__cgroup *cg, struct octo__cgroup_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (cg->layout == NULL)
        return;
    if (cg->layout->version == 2) {
        const char *dir = cg->dir[OCTO__CG_MEM];
        read_key(dir, "memory.events", "oom_kill", &st->oom_kills);
        read_key(dir, "pids.events", "max", &st->pids_max);
        uint64_t usec = 0;
        read_key(dir, "cpu.stat", "usage_usec", &usec);
        st->cpu_ns = usec * 1000u;
        read_number(dir, "memory.peak", &st->mem_peak);
        return;
    }
    read_key(cg->dir[OCTO__CG_MEM], "memory.oom_control", "oom_kill", &st->oom_kills);
    read_key(cg->dir[OCTO__CG_PIDS], "pids.events", "max", &st->pids_max);
    const char *acct =
        cg->dir[OCTO__CG_CPUACCT][0] != '\0' ? cg->dir[OCTO__CG_CPUACCT] : cg->dir[OCTO__CG_CPU];
    read_number(acct, "cpuacct.usage", &st->cpu_ns);
    read_number(cg->dir[OCTO__CG_MEM], "memory.max_usage_in_bytes", &st->mem_peak);
}

/* Fake trees only: plain files must go before rmdir works. */
static void unlink_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_type == DT_REG)
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

int octo__cgroup_destroy(struct octo__cgroup *cg)
{
    if (cg->v2_fd >= 0) {
        close(cg->v2_fd);
        cg->v2_fd = -1;
    }
    if (cg->layout == NULL)
        return 0;
    int rc = 0;
    for (int tries = 0; tries < CG_DESTROY_TRIES; tries++) {
        bool left = false;
        for (size_t i = 0; i < OCTO__CG_SLOTS; i++) {
            if (cg->dir[i][0] == '\0')
                continue;
            if (cg->layout->fake)
                unlink_files(cg->dir[i]);
            if (rmdir(cg->dir[i]) == 0 || errno == ENOENT)
                cg->dir[i][0] = '\0';
            else
                left = true;
        }
        if (!left)
            return 0;
        octo__cgroup_kill(cg);
        struct timespec ts = {0, CG_DESTROY_SLEEP_NS};
        nanosleep(&ts, NULL);
        rc = OCTO_EBUSY;
    }
    return rc;
}
