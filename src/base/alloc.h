/*
 * alloc.h — the general-heap tier: every heap allocation in the project goes through these
 * wrappers (raw malloc/free/realloc elsewhere is a lint error).
 *
 * The wrappers count live bytes and allocations (for the used-memory metric and for leak
 * checks in tests) and can be told to fail (fault injection for OOM paths). They return NULL
 * on failure; callers turn that into OCTO_ENOMEM. Thread-safe: the counters are atomic.
 */
#ifndef OCTO_BASE_ALLOC_H
#define OCTO_BASE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *octo_malloc(size_t size);
void *octo_calloc(size_t count, size_t size);
void *octo_realloc(void *ptr, size_t size);
void octo_free(void *ptr);
/* Wipes the block (as octo_wipe) before freeing it: for buffers that held secrets. */
void octo_free_secret(void *ptr);
/* Large buffers read as long streams (a model's KV cache): aligned to OCTO_ALLOC_LARGE_ALIGN
 * and marked for transparent huge pages where the kernel has them (MADV_HUGEPAGE is advice:
 * without it the pages are ordinary ones). Fewer TLB misses on every pass; under a VM's nested
 * paging a miss every 4 KiB is a large share of a stream's time. Memory is committed 2 MiB at
 * a time where huge pages are granted. Not zeroed; counted and fault-injected as octo_malloc;
 * size 0 gives NULL (unlike octo_malloc). Free with octo_free_large and the size asked for. */
#define OCTO_ALLOC_LARGE_ALIGN ((size_t)2 << 20)
void *octo_malloc_large(size_t size);
void octo_free_large(void *ptr, size_t size);
/* Copy of a NUL-terminated string, or NULL on OOM. */
char *octo_strdup(const char *s);
char *octo_strndup(const char *s, size_t n);

struct octo_alloc_stats {
    uint64_t bytes_live;
    uint64_t allocs_live;
    uint64_t allocs_total;
    uint64_t failures_injected;
};

void octo_alloc_stats(struct octo_alloc_stats *out);

/* Fault injection: the n-th allocation from now (1 = the next one) fails, and every one after
 * it fails too while `sticky` is set. n = 0 turns injection off. For tests only. */
void octo_alloc_fail_after(uint64_t n, int sticky);

#endif
