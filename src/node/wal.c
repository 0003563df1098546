/*
 * wal.c — the append-only record log (wal.h).
 *
 * Replay reads the file front to back through one buffer, record by record; the first record
 * that is short or fails its check ends the valid prefix, and the file is truncated there
 * (ftruncate + fsync) so later appends never follow garbage. Appends are plain write()s on an
 * O_APPEND descriptor; sync is fdatasync. Compaction streams the kept records into
 * "<path>.tmp", fsyncs it, renames it over the log and fsyncs the directory.
 */
#include "node/wal.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "base/log.h"
#include "crypto/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HDR 8

static void check_of(const uint8_t *data, size_t len, uint8_t out[4])
{
    uint8_t h[OCTO_SHA256_LEN];
    octo_sha256(data, len, h);
    memcpy(out, h, 4);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return OCTO_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return OCTO_EIO;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (int)(got == len);
}

static int put_record(int fd, const uint8_t *data, size_t len)
{
    uint8_t hdr[HDR];
    octo_store_be32(hdr, (uint32_t)len);
    check_of(data, len, hdr + 4);
    int rc = write_all(fd, hdr, HDR);
    return rc == 0 ? write_all(fd, data, len) : rc;
}

/* Walks the records of fd from its start: fn (may be NULL) for each; *valid receives the
 * length of the intact prefix. */
static int walk(int fd, octo_wal_record_fn fn, void *ctx, octo_wal_keep_fn keep, int out_fd,
                uint64_t *valid, uint64_t *count)
{
    if (lseek(fd, 0, SEEK_SET) < 0)
        return OCTO_EIO;
    uint8_t *buf = octo_malloc(OCTO_WAL_RECORD_MAX);
    if (buf == NULL)
        return OCTO_ENOMEM;
    int rc = 0;
    *valid = 0;
    *count = 0;
    for (;;) {
        uint8_t hdr[HDR], check[4];
        int got = read_all(fd, hdr, HDR);
        if (got <= 0) {
            rc = got;
            break;
        }
        uint32_t len = octo_load_be32(hdr);
        if (len > OCTO_WAL_RECORD_MAX)
            break;
        got = read_all(fd, buf, len);
        if (got <= 0) {
            rc = got;
            break;
        }
        check_of(buf, len, check);
        if (memcmp(check, hdr + 4, 4) != 0)
            break;
        if (fn != NULL && (rc = fn(ctx, buf, len)) != 0)
            break;
        if (keep != NULL && keep(ctx, buf, len) && (rc = put_record(out_fd, buf, len)) != 0)
            break;
        *valid += HDR + len;
        (*count)++;
    }
    octo_free(buf);
    return rc; /* > 0: fn stopped the walk early */
}

static int sync_dir(const char *path)
{
    char dir[OCTO_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return OCTO_EIO;
    int rc = fsync(fd) == 0 ? 0 : OCTO_EIO;
    close(fd);
    return rc;
}

int octo_wal_open(struct octo_wal *w, const char *path, octo_wal_record_fn fn, void *ctx)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    if (strlen(path) >= sizeof(w->path))
        return OCTO_EINVAL;
    snprintf(w->path, sizeof(w->path), "%s", path);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        OCTO_ERROR("wal: open %s: %s", path, strerror(errno));
        return OCTO_EIO;
    }
    uint64_t valid, count;
    int rc = walk(fd, fn, ctx, NULL, -1, &valid, &count);
    bool early = rc > 0; /* the caller stopped the replay: nothing after it is cut */
    if (early)
        rc = 0;
    off_t end = lseek(fd, 0, SEEK_END);
    if (rc == 0 && !early && end >= 0 && (uint64_t)end > valid) {
        OCTO_WARN("wal: %s: dropping %llu bytes after the last intact record", path,
                  (unsigned long long)((uint64_t)end - valid));
        if (ftruncate(fd, (off_t)valid) != 0 || fsync(fd) != 0)
            rc = OCTO_EIO;
    }
    if (rc == 0)
        rc = sync_dir(path); /* a new log's name is as durable as what it will hold */
    if (rc != 0) {
        close(fd);
        return rc;
    }
    w->fd = fd;
    w->size = valid;
    w->records = count;
    return 0;
}

int octo_wal_append(struct octo_wal *w, const uint8_t *data, size_t len)
{
    OCTO_ASSERT(w->fd >= 0);
    if (len > OCTO_WAL_RECORD_MAX)
        return OCTO_ETOOBIG;
    int rc = put_record(w->fd, data, len);
    if (rc != 0) {
        OCTO_ERROR("wal: append to %s: %s", w->path, strerror(errno));
        return rc;
    }
    w->size += HDR + len;
    w->records++;
    w->dirty = true;
    return 0;
}

int octo_wal_sync(struct octo_wal *w)
{
    if (!w->dirty)
        return 0;
    if (fdatasync(w->fd) != 0) {
        OCTO_ERROR("wal: fdatasync %s: %s", w->path, strerror(errno));
        return OCTO_EIO;
    }
    w->dirty = false;
    w->syncs++;
    return 0;
}

int octo_wal_compact(struct octo_wal *w, octo_wal_keep_fn keep, void *ctx)
{
    int rc = octo_wal_sync(w);
    if (rc != 0)
        return rc;
    char tmp[OCTO_PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return OCTO_EIO;
    uint64_t valid, count;
    rc = walk(w->fd, NULL, ctx, keep, fd, &valid, &count);
    if (rc > 0)
        rc = 0;
    off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (rc == 0 && (size < 0 || fsync(fd) != 0 || rename(tmp, w->path) != 0))
        rc = OCTO_EIO;
    if (rc != 0) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    close(w->fd);
    w->fd = fd;
    w->size = (uint64_t)size;
    return sync_dir(w->path);
}

void octo_wal_close(struct octo_wal *w)
{
    if (w->fd >= 0) {
        OCTO_IGNORE(octo_wal_sync(w));
        close(w->fd);
    }
    w->fd = -1;
}
