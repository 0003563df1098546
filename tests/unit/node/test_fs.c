/*
 * test_fs.c — node/fs.c: atomic writes with modes, exclusive creation, the streaming form
 * (content in pieces; a failing fill leaves no file and no temporary), bounded reads,
 * directory creation and the private-file check.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "node/fs.h"
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

static char path_buf[OCTO_PATH_MAX];

static const char *in(const char *dir, const char *name)
{
    snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
    return path_buf;
}

static void test_write_atomic_mode_and_content(void)
{
    const char *dir = octo_test_tmpdir("fs");
    char path[OCTO_PATH_MAX];
    snprintf(path, sizeof(path), "%s", in(dir, "secret"));
    struct octo_fs_error err;
    CHECK_OK(octo_fs_write_atomic(path, "hello", 5, 0600, false, &err));
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    struct octo_buf b;
    octo_buf_init(&b, 100);
    CHECK_OK(octo_fs_read(path, &b, &err));
    CHECK_EQ_INT(b.len, 5);
    CHECK_MEM(b.data, "hello", 5);
    octo_buf_deinit(&b);
    /* replace keeps the mode given, and leaves no temporary file behind */
    CHECK_OK(octo_fs_write_atomic(path, "bye", 3, 0644, false, &err));
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0644);
    CHECK_EQ_INT(st.st_size, 3);
    char tmp[OCTO_PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    CHECK_EQ_INT(octo_fs_exists(tmp), 0);
    octo_test_rmtree(dir);
}

static void test_write_exclusive(void)
{
    const char *dir = octo_test_tmpdir("fs");
    char path[OCTO_PATH_MAX];
    snprintf(path, sizeof(path), "%s", in(dir, "key"));
    struct octo_fs_error err;
    CHECK_OK(octo_fs_write_atomic(path, "one", 3, 0600, true, &err));
    CHECK_ERR(octo_fs_write_atomic(path, "two", 3, 0600, true, &err), OCTO_EEXIST);
    CHECK(strstr(err.msg, path) != NULL);
    struct octo_buf b;
    octo_buf_init(&b, 100);
    CHECK_OK(octo_fs_read(path, &b, &err));
    CHECK_MEM(b.data, "one", 3);
    octo_buf_deinit(&b);
    octo_test_rmtree(dir);
}

/* The content of the streaming tests: bytes (i * 7) & 0xff in pieces of 1, 2, ... 40000
 * bytes (small ones batched, large ones written straight through), then fail_rc if nonzero. */
struct pieces {
    size_t total;
    int fail_rc;
};

static int fill_pieces(void *ctx, octo_fs_write_fn write, void *wctx)
{
    const struct pieces *p = ctx;
    static uint8_t chunk[40000];
    size_t at = 0;
    for (size_t n = 1; at < p->total; n = n * 3 + 1) {
        size_t take = n < p->total - at ? n : p->total - at;
        take = take < sizeof(chunk) ? take : sizeof(chunk);
        for (size_t i = 0; i < take; i++)
            chunk[i] = (uint8_t)((at + i) * 7);
        int rc = write(wctx, chunk, take);
        if (rc != 0)
            return rc;
        at += take;
    }
    return p->fail_rc;
}

static void test_write_atomic_stream(void)
{
    const char *dir = octo_test_tmpdir("fs");
    char path[OCTO_PATH_MAX], tmp[OCTO_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s", in(dir, "model"));
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    struct octo_fs_error err;
    /* success: every byte in order, the mode given, no temporary left */
    struct pieces ok = {.total = 100000};
    CHECK_OK(octo_fs_write_atomic_stream(path, fill_pieces, &ok, 0640, false, &err));
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0640);
    struct octo_buf b;
    octo_buf_init(&b, 200000);
    CHECK_OK(octo_fs_read(path, &b, &err));
    CHECK_EQ_U64(b.len, ok.total);
    size_t bad = 0;
    for (size_t i = 0; i < b.len; i++)
        bad += b.data[i] != (uint8_t)(i * 7);
    CHECK_EQ_U64(bad, 0);
    octo_buf_deinit(&b);
    CHECK_EQ_INT(octo_fs_exists(tmp), 0);
    /* the fill fails after writing: its code, no message (the reason is the caller's), the old
     * file untouched and no temporary left; with a new name, no file at all */
    struct pieces fails = {.total = 50000, .fail_rc = OCTO_EPROTO};
    CHECK_ERR(octo_fs_write_atomic_stream(path, fill_pieces, &fails, 0600, false, &err),
              OCTO_EPROTO);
    CHECK_STR(err.msg, "");
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_size, 100000);
    CHECK_EQ_INT(st.st_mode & 0777, 0640);
    CHECK_EQ_INT(octo_fs_exists(tmp), 0);
    char fresh[OCTO_PATH_MAX];
    snprintf(fresh, sizeof(fresh), "%s", in(dir, "fresh"));
    CHECK_ERR(octo_fs_write_atomic_stream(fresh, fill_pieces, &fails, 0600, false, &err),
              OCTO_EPROTO);
    CHECK_EQ_INT(octo_fs_exists(fresh), 0);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", fresh, (long)getpid());
    CHECK_EQ_INT(octo_fs_exists(tmp), 0);
    /* a file-system failure names the file: a missing directory */
    CHECK_ERR(octo_fs_write_atomic_stream(in(dir, "no/such"), fill_pieces, &ok, 0600, false, &err),
              OCTO_ENOTFOUND);
    CHECK(strstr(err.msg, "no/such") != NULL);
    octo_test_rmtree(dir);
}

static void test_read_limits_and_errors(void)
{
    const char *dir = octo_test_tmpdir("fs");
    char path[OCTO_PATH_MAX];
    snprintf(path, sizeof(path), "%s", in(dir, "big"));
    struct octo_fs_error err;
    char data[300];
    memset(data, 'x', sizeof(data));
    CHECK_OK(octo_fs_write_atomic(path, data, sizeof(data), 0600, false, &err));
    struct octo_buf b;
    octo_buf_init(&b, 299);
    CHECK_ERR(octo_fs_read(path, &b, &err), OCTO_ETOOBIG);
    CHECK(strstr(err.msg, "too large") != NULL);
    CHECK_ERR(octo_fs_read(in(dir, "absent"), &b, &err), OCTO_ENOTFOUND);
    CHECK_ERR(octo_fs_read(dir, &b, &err), OCTO_EINVAL); /* a directory */
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    octo_buf_deinit(&b);
    octo_test_rmtree(dir);
}

static void test_mkdir_p_and_private(void)
{
    const char *dir = octo_test_tmpdir("fs");
    char deep[OCTO_PATH_MAX];
    snprintf(deep, sizeof(deep), "%s/a/b/c", dir);
    struct octo_fs_error err;
    CHECK_OK(octo_fs_mkdir_p(deep, 0700, &err));
    CHECK_OK(octo_fs_mkdir_p(deep, 0700, &err)); /* existing is fine */
    struct stat st;
    CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
    char file[OCTO_PATH_MAX + 8];
    snprintf(file, sizeof(file), "%s/f", deep);
    CHECK_OK(octo_fs_write_atomic(file, "k", 1, 0600, false, &err));
    struct octo_buf b;
    octo_buf_init_secret(&b, 16);
    CHECK_OK(octo_fs_read_private(file, &b, &err));
    CHECK_EQ_INT(b.len, 1);
    CHECK(chmod(file, 0640) == 0);
    CHECK_ERR(octo_fs_read_private(file, &b, &err), OCTO_EPERM);
    CHECK(strstr(err.msg, "0640") != NULL);
    CHECK(chmod(file, 0600) == 0);
    /* a symlink to a private file is refused: the file read must be the file named */
    char link_path[OCTO_PATH_MAX + 8];
    snprintf(link_path, sizeof(link_path), "%s/l", deep);
    CHECK(symlink(file, link_path) == 0);
    CHECK_ERR(octo_fs_read_private(link_path, &b, &err), OCTO_EPERM);
    /* a FIFO is refused at once instead of blocking the reader */
    char fifo[OCTO_PATH_MAX + 8];
    snprintf(fifo, sizeof(fifo), "%s/p", deep);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_ERR(octo_fs_read(fifo, &b, &err), OCTO_EINVAL);
    CHECK_ERR(octo_fs_read_private(fifo, &b, &err), OCTO_EINVAL);
    octo_buf_deinit(&b);
    /* directories: tightened when asked, refused when writable by others otherwise */
    CHECK(chmod(deep, 0777) == 0);
    CHECK_ERR(octo_fs_secure_dir(deep, false, &err), OCTO_EPERM);
    CHECK(strstr(err.msg, "writable by others") != NULL);
    CHECK_OK(octo_fs_secure_dir(deep, true, &err));
    struct stat ds;
    CHECK(stat(deep, &ds) == 0);
    CHECK_EQ_INT(ds.st_mode & 0777, 0700);
    CHECK_ERR(octo_fs_secure_dir(file, true, &err), OCTO_EPERM);
    CHECK_ERR(octo_fs_mkdir_p(file, 0700, &err), OCTO_EINVAL); /* a file is in the way */
    char joined[16];
    CHECK_ERR(octo_fs_join(joined, sizeof(joined), "/a/long/dir", "name.txt"), OCTO_ETOOBIG);
    CHECK_OK(octo_fs_join(joined, sizeof(joined), "/x", "/abs"));
    CHECK_STR(joined, "/abs");
    octo_test_rmtree(dir);
}

int main(void)
{
    OCTO_RUN(test_write_atomic_mode_and_content);
    OCTO_RUN(test_write_exclusive);
    OCTO_RUN(test_write_atomic_stream);
    OCTO_RUN(test_read_limits_and_errors);
    OCTO_RUN(test_mkdir_p_and_private);
    return octo_test_finish();
}
