/*
 * test_alloc.c — the counting allocator: live byte/block counters, calloc overflow, realloc
 * keeping contents and counts, fault injection (one-shot and sticky), strdup helpers.
 */
#include "base/alloc.h"
#include "test.h"

static struct octo_alloc_stats stats(void)
{
    struct octo_alloc_stats st;
    octo_alloc_stats(&st);
    return st;
}

static void test_counters(void)
{
    struct octo_alloc_stats before = stats();
    char *p = octo_malloc(100);
    CHECK(p != NULL);
    struct octo_alloc_stats mid = stats();
    CHECK_EQ_U64(mid.bytes_live, before.bytes_live + 100);
    CHECK_EQ_U64(mid.allocs_live, before.allocs_live + 1);
    CHECK_EQ_U64(mid.allocs_total, before.allocs_total + 1);
    memset(p, 0xab, 100);
    octo_free(p);
    struct octo_alloc_stats after = stats();
    CHECK_EQ_U64(after.bytes_live, before.bytes_live);
    CHECK_EQ_U64(after.allocs_live, before.allocs_live);
    CHECK_EQ_U64(after.allocs_total, before.allocs_total + 1);
    octo_free(NULL); /* a no-op */
    CHECK_EQ_U64(stats().allocs_live, before.allocs_live);
}

static void test_alignment_and_zero_size(void)
{
    void *a = octo_malloc(1);
    void *b = octo_malloc(0);
    CHECK(a != NULL && b != NULL);
    CHECK_EQ_U64((uintptr_t)a % 16, 0);
    CHECK_EQ_U64((uintptr_t)b % 16, 0);
    octo_free(a);
    octo_free(b);
}

static void test_calloc(void)
{
    uint64_t live = stats().allocs_live;
    unsigned char *p = octo_calloc(10, 7);
    CHECK(p != NULL);
    for (size_t i = 0; i < 70; i++)
        CHECK_EQ_INT(p[i], 0);
    octo_free(p);
    CHECK(octo_calloc(SIZE_MAX / 2, 3) == NULL); /* count * size overflows */
    CHECK(octo_malloc(SIZE_MAX) == NULL);
    CHECK(octo_malloc(SIZE_MAX - 15) == NULL);
    CHECK_EQ_U64(stats().allocs_live, live);
}

static void test_realloc(void)
{
    struct octo_alloc_stats before = stats();
    unsigned char *p = octo_realloc(NULL, 10); /* acts as malloc */
    CHECK(p != NULL);
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)i;
    p = octo_realloc(p, 1000);
    CHECK(p != NULL);
    CHECK_EQ_U64(stats().bytes_live, before.bytes_live + 1000);
    CHECK_EQ_U64(stats().allocs_live, before.allocs_live + 1);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(p[i], i);
    p = octo_realloc(p, 4);
    CHECK(p != NULL);
    CHECK_EQ_U64(stats().bytes_live, before.bytes_live + 4);
    CHECK_EQ_INT(p[3], 3);
    CHECK(octo_realloc(p, SIZE_MAX) == NULL); /* the old block stays valid */
    CHECK_EQ_INT(p[2], 2);
    octo_free(p);
    CHECK_EQ_U64(stats().bytes_live, before.bytes_live);
}

static void test_fail_injection_one_shot(void)
{
    uint64_t injected = stats().failures_injected;
    octo_alloc_fail_after(2, 0);
    void *a = octo_malloc(8);
    void *b = octo_malloc(8); /* the second from now fails */
    void *c = octo_malloc(8); /* and injection is then off */
    CHECK(a != NULL);
    CHECK(b == NULL);
    CHECK(c != NULL);
    CHECK_EQ_U64(stats().failures_injected, injected + 1);
    octo_free(a);
    octo_free(c);
}

static void test_fail_injection_sticky(void)
{
    uint64_t injected = stats().failures_injected;
    octo_alloc_fail_after(1, 1);
    void *a = octo_malloc(8);
    void *b = octo_calloc(1, 8);
    void *r = octo_malloc(1);
    octo_alloc_fail_after(0, 0);
    CHECK(a == NULL && b == NULL && r == NULL);
    CHECK_EQ_U64(stats().failures_injected, injected + 3);
    void *ok = octo_malloc(8);
    CHECK(ok != NULL);
    octo_alloc_fail_after(1, 0);
    void *grown = octo_realloc(ok, 64); /* realloc failures are injected too */
    CHECK(grown == NULL);
    octo_free(ok);
}

static void test_free_secret(void)
{
    struct octo_alloc_stats before = stats();
    unsigned char *k = octo_malloc(32);
    CHECK(k != NULL);
    memset(k, 0x5a, 32);
    octo_free_secret(k); /* wipes, then frees: the counters are as for octo_free */
    CHECK_EQ_U64(stats().bytes_live, before.bytes_live);
    CHECK_EQ_U64(stats().allocs_live, before.allocs_live);
    octo_free_secret(NULL);
}

static void test_large(void)
{
    struct octo_alloc_stats before = stats();
    size_t n = 3 * OCTO_ALLOC_LARGE_ALIGN + 5;
    unsigned char *p = octo_malloc_large(n);
    CHECK(p != NULL);
    CHECK((uintptr_t)p % OCTO_ALLOC_LARGE_ALIGN == 0);
    p[0] = 1;
    p[n - 1] = 2; /* the whole size is usable */
    struct octo_alloc_stats mid = stats();
    CHECK_EQ_U64(mid.bytes_live, before.bytes_live + n);
    CHECK_EQ_U64(mid.allocs_live, before.allocs_live + 1);
    octo_free_large(p, n);
    octo_free_large(NULL, 0);
    struct octo_alloc_stats after = stats();
    CHECK_EQ_U64(after.bytes_live, before.bytes_live);
    CHECK_EQ_U64(after.allocs_live, before.allocs_live);
    CHECK(octo_malloc_large(0) == NULL);
    CHECK(octo_malloc_large(SIZE_MAX) == NULL);
    octo_alloc_fail_after(1, 0);
    CHECK(octo_malloc_large(64) == NULL);
    CHECK_EQ_U64(stats().failures_injected, after.failures_injected + 1);
}

static void test_strdup(void)
{
    char *a = octo_strdup("hello");
    CHECK(a != NULL);
    CHECK_STR(a, "hello");
    char *b = octo_strndup("hello", 3);
    CHECK(b != NULL);
    CHECK_STR(b, "hel");
    char *c = octo_strndup("hi", 10);
    CHECK(c != NULL);
    CHECK_STR(c, "hi");
    octo_free(a);
    octo_free(b);
    octo_free(c);
    octo_alloc_fail_after(1, 0);
    CHECK(octo_strdup("x") == NULL);
}

int main(void)
{
    OCTO_RUN(test_counters);
    OCTO_RUN(test_alignment_and_zero_size);
    OCTO_RUN(test_calloc);
    OCTO_RUN(test_realloc);
    OCTO_RUN(test_fail_injection_one_shot);
    OCTO_RUN(test_fail_injection_sticky);
    OCTO_RUN(test_free_secret);
    OCTO_RUN(test_large);
    OCTO_RUN(test_strdup);
    return octo_test_finish();
}
