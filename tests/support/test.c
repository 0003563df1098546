/*
 * test.c — runner and helpers behind tests/support/test.h. At the end of a test binary,
 * octo_test_finish also checks that the counted allocator has no live blocks left, so every
 * unit test doubles as a leak test of the code it exercises.
 */
#define _GNU_SOURCE
#include "test.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/hex.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int octo_test_failed;
int octo_test_failures;
int octo_test_count;
static const char *current;

void octo_test_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s: %s:%d: ", current ? current : "?", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    octo_test_failed = 1;
}

void octo_test_run(const char *name, void (*fn)(void))
{
    current = name;
    octo_test_failed = 0;
    octo_test_count++;
    fn();
    if (octo_test_failed)
        octo_test_failures++;
    fprintf(stderr, "%s %s\n", octo_test_failed ? "not ok" : "ok", name);
    current = NULL;
}

int octo_test_finish(void)
{
    struct octo_alloc_stats st;
    octo_alloc_stats(&st);
    if (st.allocs_live != 0) {
        fprintf(stderr, "FAIL leak check: %" PRIu64 " blocks (%" PRIu64 " bytes) still live\n",
                st.allocs_live, st.bytes_live);
        octo_test_failures++;
    }
    fprintf(stderr, "%d tests, %d failed\n", octo_test_count, octo_test_failures);
    return octo_test_failures == 0 ? 0 : 1;
}

const char *octo_test_err_name(int rc)
{
    return rc < 0 ? octo_err_name(rc) : "ok";
}

void octo_test_dump_pair(const uint8_t *a, const uint8_t *b, size_t n)
{
    fprintf(stderr, "  got:  ");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%02x", a[i]);
    fprintf(stderr, "\n  want: ");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%02x", b[i]);
    fputc('\n', stderr);
}

const uint8_t *octo_test_hex(const char *hex, size_t *len)
{
    static uint8_t slots[8][4096];
    static unsigned next;
    uint8_t *out = slots[next++ % 8];
    char clean[8192 + 1];
    size_t n = 0;
    for (const char *p = hex; *p != '\0'; p++) {
        if (*p == ' ' || *p == '\n')
            continue;
        if (n + 1 >= sizeof(clean))
            abort();
        clean[n++] = *p;
    }
    clean[n] = '\0';
    int rc = octo_hex_decode(clean, n, out, 4096);
    if (rc < 0) {
        fprintf(stderr, "bad hex literal in test: %s\n", hex);
        abort();
    }
    *len = (size_t)rc;
    return out;
}

const char *octo_test_tmpdir(const char *tag)
{
    static char slots[8][512];
    static unsigned next;
    char *out = slots[next++ % 8];
    const char *base = getenv("OCTO_TEST_TMP");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(out, 512, "%s/%s-XXXXXX", base, tag);
    if (mkdtemp(out) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return out;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

void octo_test_rmtree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void octo_test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    OCTO_ASSERT(n > 0 && (size_t)n < sizeof(path));
    FILE *f = fopen(path, "wb");
    OCTO_ASSERT(f != NULL);
    OCTO_ASSERT(len == 0 || fwrite(data, 1, len, f) == len);
    OCTO_ASSERT(fclose(f) == 0);
}

int octo_test_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return got == 0 ? 0 : -1;
        got += (size_t)n;
    }
    return 1;
}

char *octo_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = octo_malloc(cap);
    for (;;) {
        if (n + 1024 + 1 > cap) {
            cap *= 2;
            data = octo_realloc(data, cap);
        }
        size_t got = fread(data + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    data[n] = '\0';
    if (len != NULL)
        *len = n;
    return data;
}

bool octo_test_utf8_ends_open(const char *s, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = (unsigned char)s[n - back];
        if ((c & 0xc0) != 0x80) {
            size_t need = c >= 0xf0 && c <= 0xf4   ? 4
                          : c >= 0xe0 && c <= 0xef ? 3
                          : c >= 0xc2 && c <= 0xdf ? 2
                                                   : 1;
            return need > back;
        }
    }
    return false;
}
