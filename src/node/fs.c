/*
 * fs.c — file helpers for the node home (config, key files, data directory).
 *
 * Durability: octo_fs_write_atomic_stream (whose content comes from a callback, in pieces) and
 * octo_fs_write_atomic (a thin wrapper over it) never leave a half-written file under the final
 * name; after they return 0 the new content survives a crash or power loss (file and directory
 * are fsynced). Key files are created with their final mode from the start, so a secret is
 * never readable by others even for an instant; the batching buffer is wiped after use.
 */
#include "node/fs.h"

#include "base/assert.h"
#include "base/err.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(struct octo_fs_error *err, const char *path, int errnum, int code)
{
    if (err != NULL)
        snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(errnum));
    return code;
}

static int fail_errno(struct octo_fs_error *err, const char *path)
{
    int e = errno;
    return fail(err, path, e, octo_err_from_errno(e));
}

/* Reads everything from fd into out, bounded by out->max. */
static int read_fd(int fd, const char *path, const struct stat *st, struct octo_buf *out,
                   struct octo_fs_error *err)
{
    if ((uint64_t)st->st_size > out->max - out->len) {
        if (err != NULL)
            snprintf(err->msg, sizeof(err->msg), "%s: file too large (%lld bytes, limit %zu)", path,
                     (long long)st->st_size, out->max);
        return OCTO_ETOOBIG;
    }
    for (;;) {
        uint8_t chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(err, path);
        if (n == 0)
            return 0;
        int rc = octo_buf_append(out, chunk, (size_t)n);
        octo_wipe(chunk, sizeof(chunk));
        if (rc < 0) {
            if (err != NULL)
                snprintf(err->msg, sizeof(err->msg), "%s: %s", path, octo_strerror(rc));
            return rc;
        }
    }
}

static int not_regular(struct octo_fs_error *err, const char *path)
{
    if (err != NULL)
        snprintf(err->msg, sizeof(err->msg), "%s: not a regular file", path);
    return OCTO_EINVAL;
}

/* Opens path for reading without blocking on FIFOs or devices; the type is checked on the
 * descriptor itself, so what is checked is what is read. */
static int open_regular(const char *path, int extra_flags, struct stat *st,
                        struct octo_fs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | extra_flags);
    if (fd < 0) {
        if (errno == ELOOP)
            return fail(err, path, errno, OCTO_EPERM);
        return fail_errno(err, path);
    }
    if (fstat(fd, st) != 0) {
        int rc = fail_errno(err, path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return not_regular(err, path);
    }
    return fd;
}

int octo_fs_read(const char *path, struct octo_buf *out, struct octo_fs_error *err)
{
    struct stat st;
    int fd = open_regular(path, 0, &st, err);
    if (fd < 0)
        return fd;
    int rc = read_fd(fd, path, &st, out, err);
    close(fd);
    return rc;
}

int octo_fs_read_private(const char *path, struct octo_buf *out, struct octo_fs_error *err)
{
    struct stat st;
    int fd = open_regular(path, O_NOFOLLOW, &st, err);
    if (fd < 0)
        return fd;
    int rc = 0;
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        if (err != NULL)
            snprintf(err->msg, sizeof(err->msg),
                     "%s: permissions %04o are too open (want 0600, owned by uid %u)", path,
                     (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
        rc = OCTO_EPERM;
    } else {
        rc = read_fd(fd, path, &st, out, err);
    }
    close(fd);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char copy[OCTO_PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* The batching writer of octo_fs_write_atomic_stream. */
#define STREAM_BUF 16384

struct stream {
    int fd;
    int errnum; /* errno of the first failed write, else 0 */
    size_t len;
    uint8_t buf[STREAM_BUF];
};

static int stream_flush(struct stream *s)
{
    if (s->errnum == 0 && write_all(s->fd, s->buf, s->len) != 0)
        s->errnum = errno;
    s->len = 0;
    return s->errnum == 0 ? 0 : octo_err_from_errno(s->errnum);
}

static int stream_write(void *ctx, const void *data, size_t len)
{
    struct stream *s = ctx;
    if (s->errnum != 0)
        return octo_err_from_errno(s->errnum);
    if (len > sizeof(s->buf) - s->len) {
        int rc = stream_flush(s);
        if (rc != 0)
            return rc;
        if (len >= sizeof(s->buf)) { /* a large piece goes straight to the file */
            if (write_all(s->fd, data, len) != 0) {
                s->errnum = errno;
                return octo_err_from_errno(s->errnum);
            }
            return 0;
        }
    }
    if (len > 0)
        memcpy(s->buf + s->len, data, len);
    s->len += len;
    return 0;
}

int octo_fs_write_atomic_stream(const char *path, octo_fs_fill_fn fill, void *ctx, mode_t mode,
                                bool exclusive, struct octo_fs_error *err)
{
    if (err != NULL)
        err->msg[0] = '\0';
    char tmp[OCTO_PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
        return fail(err, path, ENAMETOOLONG, OCTO_ETOOBIG);
    unlink(tmp); /* a leftover from a crashed earlier attempt of this pid */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return fail_errno(err, tmp);
    struct stream s = {.fd = fd};
    int rc = 0;
    if (fchmod(fd, mode) != 0)
        s.errnum = errno;
    else
        rc = fill(ctx, stream_write, &s);
    if (rc >= 0)
        rc = stream_flush(&s);
    octo_wipe(s.buf, sizeof(s.buf)); /* the content may be a secret */
    if (s.errnum == 0 && rc == 0 && fsync(fd) != 0)
        s.errnum = errno;
    if (s.errnum != 0 || rc != 0) {
        if (s.errnum != 0)
            rc = fail(err, tmp, s.errnum, octo_err_from_errno(s.errnum));
        close(fd);
        goto out_unlink;
    }
    if (close(fd) != 0) {
        rc = fail_errno(err, tmp);
        goto out_unlink;
    }
    if (exclusive) {
        /* link() fails with EEXIST instead of replacing: no check-then-act race. */
        if (link(tmp, path) != 0) {
            rc = fail_errno(err, path);
            goto out_unlink;
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = fail_errno(err, path);
        goto out_unlink;
    }
    if (fsync_dir_of(path) != 0)
        return fail_errno(err, path);
    return 0;
out_unlink:
    unlink(tmp);
    return rc;
}

struct bytes {
    const void *data;
    size_t len;
};

static int fill_bytes(void *ctx, octo_fs_write_fn write, void *wctx)
{
    const struct bytes *b = ctx;
    return write(wctx, b->data, b->len);
}

int octo_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         bool exclusive, struct octo_fs_error *err)
{
    struct bytes b = {data, len};
    return octo_fs_write_atomic_stream(path, fill_bytes, &b, mode, exclusive, err);
}

int octo_fs_mkdir_p(const char *path, mode_t mode, struct octo_fs_error *err)
{
    char copy[OCTO_PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(copy))
        return fail(err, path, ENAMETOOLONG, OCTO_ETOOBIG);
    memcpy(copy, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (copy[i] != '/' && copy[i] != '\0')
            continue;
        char saved = copy[i];
        copy[i] = '\0';
        if (mkdir(copy, mode) == 0) {
            /* the new entry must survive a power loss: fsync the directory holding it */
            if (fsync_dir_of(copy) != 0)
                return fail_errno(err, copy);
        } else if (errno != EEXIST) {
            return fail_errno(err, copy);
        }
        copy[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return fail_errno(err, path);
    if (!S_ISDIR(st.st_mode))
        return fail(err, path, ENOTDIR, OCTO_EINVAL);
    return 0;
}

int octo_fs_exists(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : octo_err_from_errno(errno);
}

int octo_fs_secure_dir(const char *path, bool tighten, struct octo_fs_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return fail_errno(err, path);
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        if (err != NULL)
            snprintf(err->msg, sizeof(err->msg), "%s: not a directory owned by uid %u", path,
                     (unsigned)geteuid());
        return OCTO_EPERM;
    }
    if (tighten) {
        if ((st.st_mode & 077) != 0 && chmod(path, st.st_mode & 0700) != 0)
            return fail_errno(err, path);
    } else if ((st.st_mode & 022) != 0) {
        if (err != NULL)
            snprintf(err->msg, sizeof(err->msg), "%s: directory is writable by others (mode %04o)",
                     path, (unsigned)(st.st_mode & 07777));
        return OCTO_EPERM;
    }
    return 0;
}

int octo_fs_join(char *out, size_t out_size, const char *dir, const char *name)
{
    OCTO_ASSERT(out_size > 0);
    int n;
    if (name[0] == '/')
        n = snprintf(out, out_size, "%s", name);
    else
        n = snprintf(out, out_size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= out_size)
        return OCTO_ETOOBIG;
    return 0;
}
