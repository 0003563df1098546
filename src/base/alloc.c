/*
 * alloc.c — counted allocator wrapper.
 *
 * Each block carries a 16-byte header holding its size, so that octo_free can keep the live
 * byte count exact and octo_free_secret can wipe the whole block. 16 bytes keeps the user
 * pointer aligned for any type (max_align_t on x86-64 and aarch64). Large blocks
 * (octo_malloc_large) carry no header: the caller gives their size back when freeing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* posix_memalign, madvise */
#endif
#include "base/alloc.h"

#include "base/assert.h"
#include "base/mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HEADER_SIZE 16u
_Static_assert(HEADER_SIZE >= sizeof(size_t), "header holds the size");
_Static_assert(HEADER_SIZE % _Alignof(max_align_t) == 0, "header keeps alignment");

static _Atomic uint64_t bytes_live;
static _Atomic uint64_t allocs_live;
static _Atomic uint64_t allocs_total;
static _Atomic uint64_t failures_injected;
static _Atomic uint64_t fail_countdown; /* 0 = off */
static _Atomic int fail_sticky;

static int should_fail(void)
{
    uint64_t n = atomic_load(&fail_countdown);
    if (n == 0)
        return 0;
    if (n == 1) {
        if (!atomic_load(&fail_sticky))
            atomic_store(&fail_countdown, 0);
        atomic_fetch_add(&failures_injected, 1);
        return 1;
    }
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}

static void *account(unsigned char *block, size_t size)
{
    memcpy(block, &size, sizeof(size));
    atomic_fetch_add(&bytes_live, size);
    atomic_fetch_add(&allocs_live, 1);
    atomic_fetch_add(&allocs_total, 1);
    return block + HEADER_SIZE;
}

static size_t block_size(const void *ptr)
{
    size_t size;
    memcpy(&size, (const unsigned char *)ptr - HEADER_SIZE, sizeof(size));
    return size;
}

void *octo_malloc(size_t size)
{
    if (size > SIZE_MAX - HEADER_SIZE || should_fail())
        return NULL;
    /* octo-lint: allow BANNEDFUNC 1 */
    unsigned char *block = malloc(size + HEADER_SIZE);
    if (block == NULL)
        return NULL;
    return account(block, size);
}

void *octo_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = octo_malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void *octo_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return octo_malloc(size);
    if (size > SIZE_MAX - HEADER_SIZE || should_fail())
        return NULL;
    size_t old = block_size(ptr);
    unsigned char *block = (unsigned char *)ptr - HEADER_SIZE;
    /* octo-lint: allow BANNEDFUNC 1 */
    unsigned char *grown = realloc(block, size + HEADER_SIZE);
    if (grown == NULL)
        return NULL;
    memcpy(grown, &size, sizeof(size));
    atomic_fetch_sub(&bytes_live, old);
    atomic_fetch_add(&bytes_live, size);
    return grown + HEADER_SIZE;
}

static void release(void *ptr, int wipe)
{
    if (ptr == NULL)
        return;
    size_t size = block_size(ptr);
    OCTO_ASSERT(atomic_load(&allocs_live) > 0);
    atomic_fetch_sub(&bytes_live, size);
    atomic_fetch_sub(&allocs_live, 1);
    if (wipe)
        octo_wipe(ptr, size);
    /* octo-lint: allow BANNEDFUNC 1 */
    free((unsigned char *)ptr - HEADER_SIZE);
}

void octo_free(void *ptr)
{
    release(ptr, 0);
}

void octo_free_secret(void *ptr)
{
    release(ptr, 1);
}

void *octo_malloc_large(size_t size)
{
    if (size == 0 || size > SIZE_MAX - OCTO_ALLOC_LARGE_ALIGN || should_fail())
        return NULL;
    size_t rounded = (size + OCTO_ALLOC_LARGE_ALIGN - 1) & ~(OCTO_ALLOC_LARGE_ALIGN - 1);
    void *p = NULL;
    /* octo-lint: allow BANNEDFUNC 1 */
    if (posix_memalign(&p, OCTO_ALLOC_LARGE_ALIGN, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: failure leaves small pages */
#endif
    atomic_fetch_add(&bytes_live, size);
    atomic_fetch_add(&allocs_live, 1);
    atomic_fetch_add(&allocs_total, 1);
    return p;
}

void octo_free_large(void *ptr, size_t size)
{
    if (ptr == NULL)
        return;
    OCTO_ASSERT(atomic_load(&allocs_live) > 0);
    OCTO_ASSERT(atomic_load(&bytes_live) >= size); /* the size given back is the one asked for */
    atomic_fetch_sub(&bytes_live, size);
    atomic_fetch_sub(&allocs_live, 1);
    /* octo-lint: allow BANNEDFUNC 1 */
    free(ptr);
}

char *octo_strndup(const char *s, size_t n)
{
    size_t len = 0;
    while (len < n && s[len] != '\0')
        len++;
    char *copy = octo_malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *octo_strdup(const char *s)
{
    return octo_strndup(s, SIZE_MAX - 1);
}

void octo_alloc_stats(struct octo_alloc_stats *out)
{
    out->bytes_live = atomic_load(&bytes_live);
    out->allocs_live = atomic_load(&allocs_live);
    out->allocs_total = atomic_load(&allocs_total);
    out->failures_injected = atomic_load(&failures_injected);
}

void octo_alloc_fail_after(uint64_t n, int sticky)
{
    atomic_store(&fail_sticky, sticky);
    atomic_store(&fail_countdown, n);
}
