/*
 * test.h — the project's unit-test harness: typed checks that print both operands, a runner
 * that counts failures, and helpers (hex vectors, temporary directories, leak check).
 *
 * A test file defines static void test_x(void) functions and a main() that calls
 * OCTO_RUN(test_x) for each, then returns octo_test_finish(). A failed check prints the
 * location and values, marks the current test failed and returns from it.
 */
#ifndef OCTO_TEST_H
#define OCTO_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int octo_test_failed;   /* the current test failed */
extern int octo_test_failures; /* failed tests so far */
extern int octo_test_count;

void octo_test_run(const char *name, void (*fn)(void));
int octo_test_finish(void);
void octo_test_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Decodes a hex literal into a static buffer (up to 4 KiB per call slot; 8 slots rotate). */
const uint8_t *octo_test_hex(const char *hex, size_t *len);
/* Creates a fresh empty directory under $OCTO_TEST_TMP (or /tmp); returns its path (static
 * storage, 8 rotating slots). Aborts on failure. */
const char *octo_test_tmpdir(const char *tag);
/* Removes a directory tree (for cleanup). */
void octo_test_rmtree(const char *path);
/* Writes data[0..len) as the file dir/name (for fuzz seeds); aborts on any failure. */
void octo_test_write_file(const char *dir, const char *name, const void *data, size_t len);
/* Reads exactly len bytes from a pipe or file, retrying on EINTR (for acknowledgements from
 * a forked child): 1 when all came, 0 at end of input before any byte, -1 otherwise. */
int octo_test_read_full(int fd, void *buf, size_t len);
/* Reads a whole file into a NUL-terminated heap buffer (free with octo_free); NULL if absent */
char *octo_test_read_file(const char *path, size_t *len);
/* Whether s[0..n) ends inside a UTF-8 character: a lead byte without all its continuation
 * bytes (for tests of streamed text). */
bool octo_test_utf8_ends_open(const char *s, size_t n);

#define OCTO_RUN(fn) octo_test_run(#fn, fn)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            octo_test_fail_at(__FILE__, __LINE__, "CHECK(%s)", #cond);                             \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            octo_test_fail_at(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, va_, vb_);     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);                                         \
        if (va_ != vb_) {                                                                          \
            octo_test_fail_at(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b,     \
                              va_, vb_);                                                           \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* rc must be >= 0 (success or a count). */
#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        long long rc_ = (long long)(expr);                                                         \
        if (rc_ < 0) {                                                                             \
            octo_test_fail_at(__FILE__, __LINE__, "%s failed: %lld (%s)", #expr, rc_,              \
                              octo_test_err_name((int)rc_));                                       \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_ERR(expr, code)                                                                      \
    do {                                                                                           \
        long long rc_ = (long long)(expr);                                                         \
        if (rc_ != (long long)(code)) {                                                            \
            octo_test_fail_at(__FILE__, __LINE__, "%s: got %lld (%s), want %s", #expr, rc_,        \
                              octo_test_err_name((int)rc_), #code);                                \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {                                 \
            octo_test_fail_at(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,            \
                              sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(a, b, n)                                                                         \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0) {                                                          \
            octo_test_fail_at(__FILE__, __LINE__, "memory %s != %s (%zu bytes)", #a, #b,           \
                              (size_t)(n));                                                        \
            octo_test_dump_pair((const uint8_t *)(a), (const uint8_t *)(b), (size_t)(n));          \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Compares bytes against a hex literal. */
#define CHECK_HEX(ptr, len, hexlit)                                                                \
    do {                                                                                           \
        size_t hl_;                                                                                \
        const uint8_t *hv_ = octo_test_hex((hexlit), &hl_);                                        \
        CHECK_EQ_U64((len), hl_);                                                                  \
        CHECK_MEM((ptr), hv_, hl_);                                                                \
    } while (0)

const char *octo_test_err_name(int rc);
void octo_test_dump_pair(const uint8_t *a, const uint8_t *b, size_t n);

#endif
