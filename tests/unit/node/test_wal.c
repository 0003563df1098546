/*
 * test_wal.c — the record log (node/wal.h): records come back in order after a reopen; a
 * torn tail (a short record, a flipped byte, trailing garbage) ends the replay at the last
 * intact record and is cut from the file, so later appends follow it cleanly; a failing
 * callback stops the open; compaction keeps exactly what the filter keeps and the log stays
 * appendable; oversized records are refused.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "node/wal.h"
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct seen {
    int n;
    uint8_t first[64];
    size_t len[64];
};

static int collect(void *ctx, const uint8_t *data, size_t len)
{
    struct seen *s = ctx;
    if (s->n < 64) {
        s->first[s->n] = len > 0 ? data[0] : 0xff;
        s->len[s->n] = len;
    }
    s->n++;
    return 0;
}

static void record(uint8_t *buf, int i, size_t len)
{
    memset(buf, i, len);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_replay_and_torn_tail(void)
{
    const char *dir = octo_test_tmpdir("wal");
    char path[512];
    snprintf(path, sizeof(path), "%s/log", dir);
    struct octo_wal w;
    struct seen s = {0};
    CHECK_OK(octo_wal_open(&w, path, collect, &s));
    CHECK_EQ_INT(s.n, 0);
    uint8_t buf[1000];
    for (int i = 0; i < 10; i++) {
        record(buf, i, 10 + (size_t)i * 50);
        CHECK_OK(octo_wal_append(&w, buf, 10 + (size_t)i * 50));
    }
    CHECK_OK(octo_wal_sync(&w));
    CHECK_EQ_U64(w.syncs, 1);
    CHECK_OK(octo_wal_sync(&w)); /* nothing new: no second fdatasync */
    CHECK_EQ_U64(w.syncs, 1);
    off_t full = file_size(path);
    octo_wal_close(&w);

    memset(&s, 0, sizeof(s));
    CHECK_OK(octo_wal_open(&w, path, collect, &s));
    CHECK_EQ_INT(s.n, 10);
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_INT(s.first[i], i);
        CHECK_EQ_U64(s.len[i], 10 + (uint64_t)i * 50);
    }
    octo_wal_close(&w);

    /* a torn last record: cut 3 bytes from its end */
    CHECK(truncate(path, full - 3) == 0);
    memset(&s, 0, sizeof(s));
    CHECK_OK(octo_wal_open(&w, path, collect, &s));
    CHECK_EQ_INT(s.n, 9);
    off_t nine = file_size(path);
    CHECK(nine == full - (8 + 460));
    /* appending after the cut gives a clean log again */
    record(buf, 42, 7);
    CHECK_OK(octo_wal_append(&w, buf, 7));
    octo_wal_close(&w);
    memset(&s, 0, sizeof(s));
    CHECK_OK(octo_wal_open(&w, path, collect, &s));
    CHECK_EQ_INT(s.n, 10);
    CHECK_EQ_INT(s.first[9], 42);
    octo_wal_close(&w);

    /* a flipped byte inside record 4 ends the replay there, and the rest is cut */
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    off_t at = 0;
    for (int i = 0; i < 4; i++)
        at += 8 + 10 + i * 50;
    uint8_t b = 0;
    CHECK(pread(fd, &b, 1, at + 8 + 3) == 1);
    b ^= 0x10;
    CHECK(pwrite(fd, &b, 1, at + 8 + 3) == 1);
    close(fd);
    memset(&s, 0, sizeof(s));
    CHECK_OK(octo_wal_open(&w, path, collect, &s));
    CHECK_EQ_INT(s.n, 4);
    CHECK_EQ_U64((uint64_t)file_size(path), (uint64_t)at);
    octo_wal_close(&w);

    /* trailing garbage: a length beyond the limit */
    fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    uint8_t junk[8] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4};
    CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
    close(fd);
    memset(&s, 0, sizeof(s));
    CHECK_OK(octo_wal_open(&w, path, collect, &s));
    CHECK_EQ_INT(s.n, 4);
    CHECK_EQ_INT(octo_wal_append(&w, buf, OCTO_WAL_RECORD_MAX + 1), OCTO_ETOOBIG);
    octo_wal_close(&w);
    octo_test_rmtree(dir);
}

static int stop_at_3(void *ctx, const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
    return ++*(int *)ctx == 3 ? OCTO_EMALFORMED : 0;
}

static bool keep_even(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    return len > 0 && data[0] % 2 == 0;
}

static void test_compact_and_callback_error(void)
{
    const char *dir = octo_test_tmpdir("wal-compact");
    char path[512];
    snprintf(path, sizeof(path), "%s/log", dir);
    struct octo_wal w;
    CHECK_OK(octo_wal_open(&w, path, NULL, NULL));
    uint8_t buf[100];
    for (int i = 0; i < 20; i++) {
        record(buf, i, 100);
        CHECK_OK(octo_wal_append(&w, buf, 100));
    }
    CHECK_OK(octo_wal_compact(&w, keep_even, NULL));
    CHECK_EQ_U64(w.size, 10 * 108);
    record(buf, 100, 5);
    CHECK_OK(octo_wal_append(&w, buf, 5)); /* still appendable, at the new end */
    octo_wal_close(&w);
    struct seen s = {0};
    CHECK_OK(octo_wal_open(&w, path, collect, &s));
    CHECK_EQ_INT(s.n, 11);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(s.first[i], 2 * i);
    CHECK_EQ_INT(s.first[10], 100);
    octo_wal_close(&w);
    int count = 0;
    CHECK_EQ_INT(octo_wal_open(&w, path, stop_at_3, &count), OCTO_EMALFORMED);
    CHECK_EQ_INT(count, 3);
    octo_test_rmtree(dir);
}

int main(void)
{
    OCTO_RUN(test_replay_and_torn_tail);
    OCTO_RUN(test_compact_and_callback_error);
    return octo_test_finish();
}
