/*
 * fs.h — the file-system edge of the node: bounded reads, atomic durable writes with an
 * explicit mode, directory creation, permission checks. errno is mapped to OCTO_E* here and
 * never escapes; the failing path and the OS message are kept in a caller-supplied
 * struct octo_fs_error for one-line CLI errors.
 */
#ifndef OCTO_NODE_FS_H
#define OCTO_NODE_FS_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OCTO_PATH_MAX 4096

struct octo_fs_error {
    char msg[OCTO_PATH_MAX + 128]; /* "PATH: reason" */
};

/* Reads the whole regular file at path into out (appended). Files larger than out->max give
 * OCTO_ETOOBIG. OCTO_ENOTFOUND when absent, OCTO_EPERM when unreadable, OCTO_EINVAL when not
 * a regular file (FIFOs and devices are refused without blocking), OCTO_EIO otherwise. */
OCTO_MUST_USE int octo_fs_read(const char *path, struct octo_buf *out, struct octo_fs_error *err);

/* As octo_fs_read for a secret file: refuses symlinks, and files not owned by the effective
 * user or accessible to group or others (OCTO_EPERM, the message names the mode). The checks
 * are made on the open descriptor, so the file checked is the file read. */
OCTO_MUST_USE int octo_fs_read_private(const char *path, struct octo_buf *out,
                                       struct octo_fs_error *err);

/* Writes data to path atomically and durably: a temporary file in the same directory created
 * with `mode` (O_EXCL, O_NOFOLLOW), fsync, rename over path, fsync of the directory. With
 * `exclusive`, an existing path is OCTO_EEXIST (checked, then linked without replacing). */
OCTO_MUST_USE int octo_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                                       bool exclusive, struct octo_fs_error *err);

/* The writer octo_fs_write_atomic_stream hands to its fill callback: writes all len bytes or
 * returns a negative OCTO_E* code. */
typedef int (*octo_fs_write_fn)(void *wctx, const void *data, size_t len);

/* Produces a file's content through write(wctx, ...), in pieces of any size; returns 0 or a
 * negative OCTO_E* code (a write's, passed on, or its own). */
typedef int (*octo_fs_fill_fn)(void *ctx, octo_fs_write_fn write, void *wctx);

/* As octo_fs_write_atomic, with the content produced by fill(ctx, ...) (small pieces are
 * batched here), so a file of any size is written without being held in memory. When fill
 * fails, neither path nor the temporary file is left behind and fill's code is returned with
 * err->msg empty (the caller knows the reason), unless a write failed: then, as for every
 * other failure, err->msg names the file and the OS error. */
OCTO_MUST_USE int octo_fs_write_atomic_stream(const char *path, octo_fs_fill_fn fill, void *ctx,
                                              mode_t mode, bool exclusive,
                                              struct octo_fs_error *err);

/* Creates path and missing parents with `mode`, fsyncing the parent of each directory it
 * creates; an existing directory is fine. */
OCTO_MUST_USE int octo_fs_mkdir_p(const char *path, mode_t mode, struct octo_fs_error *err);

/* 1 if path exists (any type), 0 if not, negative on other errors. */
int octo_fs_exists(const char *path);

/* Makes sure path is a directory owned by the effective user that others cannot write to (so
 * they cannot swap the files in it). With `tighten`, group and other permissions are removed;
 * without, a group- or other-writable directory is refused. OCTO_EPERM otherwise. */
OCTO_MUST_USE int octo_fs_secure_dir(const char *path, bool tighten, struct octo_fs_error *err);

/* Joins dir and name into out ("dir/name"); OCTO_ETOOBIG if it does not fit. Absolute names
 * are returned unchanged. */
OCTO_MUST_USE int octo_fs_join(char *out, size_t out_size, const char *dir, const char *name);

#endif
