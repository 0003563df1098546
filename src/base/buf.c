/*
 * buf.c — bounded buffers and bump arenas (see buf.h for the contracts).
 *
 * Growth doubles the capacity, clamped to `max`, so appends are amortised O(1) and a buffer
 * never holds more than its ceiling. Secret buffers grow by allocate-copy-wipe-free rather
 * than realloc, so no copy of the secret is left behind in freed memory.
 */
#include "base/buf.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void buf_init(struct octo_buf *b, size_t max, bool secret)
{
    /* A ceiling is a real limit; this bound keeps every size computation below overflow. */
    OCTO_ASSERT(max <= SIZE_MAX / 4);
    memset(b, 0, sizeof(*b));
    b->max = max;
    b->secret = secret;
}

void octo_buf_init(struct octo_buf *b, size_t max)
{
    buf_init(b, max, false);
}

void octo_buf_init_secret(struct octo_buf *b, size_t max)
{
    buf_init(b, max, true);
}

void octo_buf_deinit(struct octo_buf *b)
{
    if (b->data != NULL) {
        if (b->secret)
            octo_free_secret(b->data);
        else
            octo_free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void octo_buf_reset(struct octo_buf *b)
{
    if (b->secret && b->data != NULL)
        octo_wipe(b->data, b->cap);
    b->len = 0;
}

int octo_buf_reserve(struct octo_buf *b, size_t extra)
{
    OCTO_ASSERT(b->len <= b->cap);
    if (extra > b->max - b->len)
        return OCTO_ETOOBIG;
    size_t need = b->len + extra + 1; /* room for a trailing NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap != 0 ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    uint8_t *grown;
    if (b->secret) {
        grown = octo_malloc(cap);
        if (grown == NULL)
            return OCTO_ENOMEM;
        if (b->data != NULL) {
            memcpy(grown, b->data, b->len);
            octo_free_secret(b->data);
        }
    } else {
        grown = octo_realloc(b->data, cap);
        if (grown == NULL)
            return OCTO_ENOMEM;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

int octo_buf_append(struct octo_buf *b, const void *data, size_t len)
{
    int rc = octo_buf_reserve(b, len);
    if (rc < 0)
        return rc;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

int octo_buf_append_byte(struct octo_buf *b, uint8_t byte)
{
    return octo_buf_append(b, &byte, 1);
}

int octo_buf_append_str(struct octo_buf *b, const char *s)
{
    return octo_buf_append(b, s, strlen(s));
}

int octo_buf_appendf(struct octo_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return OCTO_EINVAL;
    int rc = octo_buf_reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void octo_buf_consume(struct octo_buf *b, size_t n)
{
    OCTO_ASSERT(n <= b->len);
    if (n == 0)
        return;
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    if (b->secret)
        octo_wipe(b->data + b->len, n);
}

/* ---- arena ---- */

struct octo_arena_chunk {
    struct octo_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char data[];
};

void octo_arena_init(struct octo_arena *a, size_t chunk_min, size_t max)
{
    OCTO_ASSERT(max <= SIZE_MAX / 4);
    memset(a, 0, sizeof(*a));
    a->chunk_min = chunk_min != 0 ? chunk_min : 4096;
    a->max = max;
}

void octo_arena_reset(struct octo_arena *a)
{
    struct octo_arena_chunk *c = a->head;
    while (c != NULL) {
        struct octo_arena_chunk *next = c->next;
        octo_free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
    a->reserved = 0;
}

void octo_arena_deinit(struct octo_arena *a)
{
    octo_arena_reset(a);
}

void *octo_arena_alloc(struct octo_arena *a, size_t size, size_t align)
{
    OCTO_ASSERT(align != 0 && (align & (align - 1)) == 0 && align <= 16);
    struct octo_arena_chunk *c = a->head;
    if (c != NULL) {
        size_t off = (c->used + align - 1) & ~(align - 1);
        if (off <= c->size && size <= c->size - off) {
            a->used += off + size - c->used;
            c->used = off + size;
            return c->data + off;
        }
    }
    size_t want = size > a->chunk_min ? size : a->chunk_min;
    if (want > a->max || a->reserved > a->max - want)
        return NULL;
    c = octo_malloc(sizeof(*c) + want);
    if (c == NULL)
        return NULL;
    c->next = a->head;
    c->size = want;
    c->used = size;
    a->head = c;
    a->reserved += want;
    a->used += size;
    return c->data;
}

void *octo_arena_memdup(struct octo_arena *a, const void *p, size_t size)
{
    void *copy = octo_arena_alloc(a, size != 0 ? size : 1, 1);
    if (copy != NULL && size != 0)
        memcpy(copy, p, size);
    return copy;
}

char *octo_arena_strdup(struct octo_arena *a, const char *s)
{
    return octo_arena_memdup(a, s, strlen(s) + 1);
}
