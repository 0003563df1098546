/*
 * fuzz_taskwire.c — libFuzzer harness for the orchestrator-provider wire format
 * (intel/taskwire.h).
 *
 * The input is fed to a frame reader in two pieces (split at a point taken from its first
 * byte); every frame that comes out is decoded as ASSIGN, RESULT and ERROR. A frame must never
 * exceed the reader's maximum; an accepted ASSIGN must re-encode and decode to the same fields;
 * accepted RESULT and ERROR bodies must round-trip exactly.
 */
#include "base/assert.h"
#include "intel/taskwire.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_assign(const uint8_t *body, size_t len)
{
    struct octo_taskwire_assign a;
    if (octo_taskwire_assign_decode(body, len, &a) != 0) {
        OCTO_ASSERT(a.request == NULL);
        return;
    }
    OCTO_ASSERT(a.model[0] != '\0' && a.request != NULL && a.request[0] == '{');
    OCTO_ASSERT(a.sealed == OCTO_TASKWIRE_OPEN ||
                (a.max_tokens >= 1 && a.max_tokens <= OCTO_TASKWIRE_SEALED_TOKENS_MAX));
    struct octo_buf w;
    octo_buf_init(&w, OCTO_TASKWIRE_FRAME_MAX + OCTO_TASKWIRE_HEADER);
    if (octo_taskwire_assign_encode(&w, &a) == 0) {
        struct octo_taskwire_assign b;
        OCTO_ASSERT(octo_taskwire_assign_decode(w.data + OCTO_TASKWIRE_HEADER,
                                                w.len - OCTO_TASKWIRE_HEADER, &b) == 0);
        OCTO_ASSERT(
            memcmp(a.task, b.task, sizeof(a.task)) == 0 && a.attempt == b.attempt &&
            a.kind == b.kind && strcmp(a.model, b.model) == 0 && a.deadline_ms == b.deadline_ms &&
            strcmp(a.request, b.request) == 0 && a.has_requester == b.has_requester &&
            memcmp(a.requester, b.requester, sizeof(a.requester)) == 0 && a.sealed == b.sealed &&
            a.max_tokens == b.max_tokens && a.deterministic == b.deterministic);
        octo_taskwire_assign_free(&b);
    }
    octo_buf_deinit(&w);
    octo_taskwire_assign_free(&a);
}

static void check_result_error(const uint8_t *body, size_t len)
{
    struct octo_buf w;
    octo_buf_init(&w, 8192);
    struct octo_taskwire_result r, r2;
    if (octo_taskwire_result_decode(body, len, &r) == 0) {
        OCTO_ASSERT(octo_taskwire_result_encode(&w, &r) == 0);
        OCTO_ASSERT(octo_taskwire_result_decode(w.data + OCTO_TASKWIRE_HEADER,
                                                w.len - OCTO_TASKWIRE_HEADER, &r2) == 0);
        OCTO_ASSERT(memcmp(&r, &r2, sizeof(r)) == 0);
    }
    octo_buf_reset(&w);
    struct octo_taskwire_error e, e2;
    if (octo_taskwire_error_decode(body, len, &e) == 0) {
        OCTO_ASSERT(octo_taskwire_error_encode(&w, &e) == 0);
        OCTO_ASSERT(octo_taskwire_error_decode(w.data + OCTO_TASKWIRE_HEADER,
                                               w.len - OCTO_TASKWIRE_HEADER, &e2) == 0);
        OCTO_ASSERT(strcmp(e.code, e2.code) == 0 && e.retry == e2.retry);
    }
    octo_buf_deinit(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > OCTO_TASKWIRE_FEED_MAX)
        return 0;
    /* the body alone, as a decoder sees it */
    check_assign(data, size);
    check_result_error(data, size);
    /* as a stream */
    size_t cut = size > 0 ? data[0] % (size + 1) : 0;
    struct octo_taskwire_reader r;
    octo_taskwire_reader_init(&r, 4096);
    const uint8_t *parts[2] = {data, data + cut};
    size_t lens[2] = {cut, size - cut};
    for (int p = 0; p < 2; p++) {
        if (octo_taskwire_feed(&r, parts[p], lens[p]) != 0)
            break;
        uint8_t kind;
        const uint8_t *body;
        size_t len;
        while (octo_taskwire_next(&r, &kind, &body, &len) == 1) {
            OCTO_ASSERT(len + 1 <= r.max);
            if (kind == OCTO_TASKWIRE_ASSIGN)
                check_assign(body, len);
            else
                check_result_error(body, len);
        }
    }
    octo_taskwire_reader_deinit(&r);
    return 0;
}
