/*
 * fuzz_sse.c — libFuzzer harness for the SSE parser (infer/sse.h). The input is fed three
 * ways — in one piece, byte by byte, and in pieces whose sizes come from the input itself —
 * and each run's events (type, data, id, retry) and final result are recorded into a
 * transcript; the three transcripts must be identical (split invariance). Every event must
 * respect the parser's limits, and the result must be 0 or OCTO_ETOOBIG.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "infer/sse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRANSCRIPT_MAX (64u * 1024u * 1024u)

static int record(void *ctx, const struct octo_sse_event *ev)
{
    struct octo_buf *t = ctx;
    OCTO_ASSERT(ev->data_len <= OCTO_SSE_EVENT_MAX);
    OCTO_ASSERT(ev->data[ev->data_len] == '\0');
    OCTO_ASSERT(strlen(ev->type) >= 1 && strlen(ev->type) <= OCTO_SSE_TYPE_MAX);
    OCTO_ASSERT(strlen(ev->id) <= OCTO_SSE_ID_MAX);
    OCTO_ASSERT(ev->retry_ms >= -1 && ev->retry_ms <= (int64_t)OCTO_SSE_RETRY_MAX);
    uint64_t lens[3] = {strlen(ev->type), ev->data_len, strlen(ev->id)};
    OCTO_ASSERT(octo_buf_append(t, lens, sizeof(lens)) == 0);
    OCTO_ASSERT(octo_buf_append(t, ev->type, lens[0]) == 0);
    OCTO_ASSERT(octo_buf_append(t, ev->data, lens[1]) == 0);
    OCTO_ASSERT(octo_buf_append(t, ev->id, lens[2]) == 0);
    OCTO_ASSERT(octo_buf_append(t, &ev->retry_ms, sizeof(ev->retry_ms)) == 0);
    return 0;
}

/* Feeds data in pieces of at most step bytes (0: sizes taken from the data, 1..16). */
static void run(const uint8_t *data, size_t size, size_t step, struct octo_buf *t)
{
    struct octo_sse p;
    octo_sse_init(&p);
    int rc = 0;
    size_t i = 0, k = 0;
    while (i < size && rc == 0) {
        size_t n = step != 0 ? step : (size_t)(data[k++ % size] & 15u) + 1;
        if (n > size - i)
            n = size - i;
        rc = octo_sse_feed(&p, data + i, n, record, t);
        i += n;
    }
    if (size == 0)
        rc = octo_sse_feed(&p, data, 0, record, t);
    OCTO_ASSERT(rc == 0 || rc == OCTO_ETOOBIG);
    if (rc != 0)
        OCTO_ASSERT(octo_sse_feed(&p, data, size, record, t) == rc); /* sticky */
    int32_t tail[2] = {rc, octo_sse_pending(&p) ? 1 : 0};
    if (rc != 0)
        tail[1] = 0; /* what is buffered at an error depends on where the read ended */
    OCTO_ASSERT(octo_buf_append(t, tail, sizeof(tail)) == 0);
    octo_sse_deinit(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct octo_buf whole, bytes, mixed;
    octo_buf_init(&whole, TRANSCRIPT_MAX);
    octo_buf_init(&bytes, TRANSCRIPT_MAX);
    octo_buf_init(&mixed, TRANSCRIPT_MAX);
    run(data, size, size != 0 ? size : 1, &whole);
    run(data, size, 1, &bytes);
    run(data, size, 0, &mixed);
    OCTO_ASSERT(whole.len == bytes.len);
    OCTO_ASSERT(whole.len == mixed.len);
    OCTO_ASSERT(memcmp(whole.data, bytes.data, whole.len) == 0);
    OCTO_ASSERT(memcmp(whole.data, mixed.data, whole.len) == 0);
    octo_buf_deinit(&whole);
    octo_buf_deinit(&bytes);
    octo_buf_deinit(&mixed);
    return 0;
}
