/*
 * buf.h — bounded growable byte buffers and arenas.
 *
 * struct octo_buf: a contiguous, growable byte buffer with a hard ceiling (`max`) set at init,
 * in the manner of curl's dynbuf: growing past the ceiling is OCTO_ETOOBIG, never a silent
 * truncation. Caller-allocated; octo_buf_deinit frees (and, for secret buffers, wipes).
 *
 * struct octo_arena: the per-lifetime tier (one per connection, request, job). Allocations
 * bump a pointer inside chunks; nothing is freed singly; reset/deinit release everything.
 * The arena has a byte cap; exceeding it returns NULL, which callers map to OCTO_ETOOBIG.
 */
#ifndef OCTO_BASE_BUF_H
#define OCTO_BASE_BUF_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct octo_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;  /* hard ceiling on len */
    bool secret; /* wipe on growth and deinit */
};

/* max must be at most SIZE_MAX / 4 (asserted). */
void octo_buf_init(struct octo_buf *b, size_t max);
void octo_buf_init_secret(struct octo_buf *b, size_t max);
void octo_buf_deinit(struct octo_buf *b);
/* Empties the buffer, keeping its storage (wiped first if secret). */
void octo_buf_reset(struct octo_buf *b);
/* Ensures room for `extra` more bytes. OCTO_ETOOBIG past max, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_buf_reserve(struct octo_buf *b, size_t extra);
OCTO_MUST_USE int octo_buf_append(struct octo_buf *b, const void *data, size_t len);
OCTO_MUST_USE int octo_buf_append_byte(struct octo_buf *b, uint8_t byte);
OCTO_MUST_USE int octo_buf_append_str(struct octo_buf *b, const char *s);
/* printf-style append; the result is NUL-terminated in storage but len excludes the NUL. */
OCTO_MUST_USE int octo_buf_appendf(struct octo_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void octo_buf_consume(struct octo_buf *b, size_t n);

struct octo_arena_chunk;

struct octo_arena {
    struct octo_arena_chunk *head;
    size_t used;      /* bytes handed out, including alignment padding */
    size_t max;       /* cap on total chunk bytes */
    size_t reserved;  /* total chunk bytes held */
    size_t chunk_min; /* default chunk size */
};

void octo_arena_init(struct octo_arena *a, size_t chunk_min, size_t max);
void octo_arena_deinit(struct octo_arena *a);
/* Releases every allocation, keeping no chunks. */
void octo_arena_reset(struct octo_arena *a);
/* Memory aligned to `align` (a power of two <= 16), or NULL when the cap or memory runs out. */
void *octo_arena_alloc(struct octo_arena *a, size_t size, size_t align);
void *octo_arena_memdup(struct octo_arena *a, const void *p, size_t size);
char *octo_arena_strdup(struct octo_arena *a, const char *s);

#endif
