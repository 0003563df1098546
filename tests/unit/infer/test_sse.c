/*
 * test_sse.c — the incremental Server-Sent-Events parser (infer/sse.h): the spec's field rules
 * (data joining, event/id/retry, comments, BOM, CR/LF/CRLF), the same stream fed whole, byte by
 * byte and in every two-piece split, a CRLF split between reads, the line and event limits,
 * sticky errors, a callback stop, an id with NUL, pending state.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "infer/sse.h"
#include "test.h"

#include <string.h>

struct events {
    struct octo_buf log; /* "type|data|id|retry\n" per event */
    int count;
    int stop_at; /* return OCTO_ECLOSED at this event (1-based), 0 never */
};

static int log_event(void *ctx, const struct octo_sse_event *ev)
{
    struct events *e = ctx;
    e->count++;
    if (octo_buf_appendf(&e->log, "%s|%.*s|%s|%lld\n", ev->type, (int)ev->data_len, ev->data,
                         ev->id, (long long)ev->retry_ms) != 0)
        return OCTO_ENOMEM;
    return e->count == e->stop_at ? OCTO_ECLOSED : 0;
}

static void events_init(struct events *e)
{
    memset(e, 0, sizeof(*e));
    octo_buf_init(&e->log, 1u << 20);
}

static const char *events_str(struct events *e)
{
    if (octo_buf_append_byte(&e->log, 0) != 0)
        return "(oom)";
    e->log.len--;
    return (const char *)e->log.data;
}

static int feed_all(const char *s, size_t len, bool bytewise, struct events *e, bool *pending)
{
    struct octo_sse p;
    octo_sse_init(&p);
    int rc = 0;
    if (bytewise) {
        for (size_t i = 0; i < len && rc == 0; i++)
            rc = octo_sse_feed(&p, (const uint8_t *)s + i, 1, log_event, e);
    } else {
        rc = octo_sse_feed(&p, (const uint8_t *)s, len, log_event, e);
    }
    if (pending != NULL)
        *pending = octo_sse_pending(&p);
    octo_sse_deinit(&p);
    return rc;
}

static const char SSE_STREAM[] = "\xEF\xBB\xBF"
                                 ": comment\r\n"
                                 "data: one\r\n\r\n"
                                 "event: ping\r"
                                 "data:two\r"
                                 "data:  three\r\r"
                                 "id: 42\n"
                                 "retry: 1500\n"
                                 "data\n"
                                 "\n"
                                 "event: lonely\n\n"
                                 "unknown: x\n"
                                 "retry: 12x\n"
                                 "data: caf\xC3\xA9\n\n"
                                 "data: tail";

static const char SSE_WANT[] = "message|one||-1\n"
                               "ping|two\n three||-1\n"
                               "message||42|1500\n"
                               "message|caf\xC3\xA9|42|1500\n";

static void test_sse_fields(void)
{
    struct events e;
    events_init(&e);
    bool pending = false;
    CHECK_OK(feed_all(SSE_STREAM, sizeof(SSE_STREAM) - 1, false, &e, &pending));
    CHECK(pending); /* "data: tail" has no line end */
    CHECK_STR(events_str(&e), SSE_WANT);
    CHECK_EQ_INT(e.count, 4);
    octo_buf_deinit(&e.log);
}

static void test_sse_split_invariance(void)
{
    struct events e;
    events_init(&e);
    CHECK_OK(feed_all(SSE_STREAM, sizeof(SSE_STREAM) - 1, true, &e, NULL));
    CHECK_STR(events_str(&e), SSE_WANT);
    octo_buf_deinit(&e.log);
    /* every two-piece split of the stream */
    for (size_t cut = 0; cut <= sizeof(SSE_STREAM) - 1; cut++) {
        events_init(&e);
        struct octo_sse p;
        octo_sse_init(&p);
        CHECK_OK(octo_sse_feed(&p, (const uint8_t *)SSE_STREAM, cut, log_event, &e));
        CHECK_OK(octo_sse_feed(&p, (const uint8_t *)SSE_STREAM + cut, sizeof(SSE_STREAM) - 1 - cut,
                               log_event, &e));
        octo_sse_deinit(&p);
        CHECK_STR(events_str(&e), SSE_WANT);
        octo_buf_deinit(&e.log);
    }
}

static void test_sse_crlf_split(void)
{
    /* CR at the end of one read, LF at the start of the next: one line end, not two */
    struct events e;
    events_init(&e);
    struct octo_sse p;
    octo_sse_init(&p);
    CHECK_OK(octo_sse_feed(&p, (const uint8_t *)"data: a\r", 8, log_event, &e));
    CHECK_OK(octo_sse_feed(&p, (const uint8_t *)"\ndata: b\r", 9, log_event, &e));
    CHECK_EQ_INT(e.count, 0);
    CHECK_OK(octo_sse_feed(&p, (const uint8_t *)"\n\r\n", 3, log_event, &e));
    CHECK_STR(events_str(&e), "message|a\nb||-1\n");
    CHECK(!octo_sse_pending(&p));
    octo_sse_deinit(&p);
    octo_buf_deinit(&e.log);
}

static void test_sse_limits(void)
{
    size_t n = OCTO_SSE_LINE_MAX + 16;
    char *big = octo_malloc(n);
    CHECK(big != NULL);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', n - 6);
    struct events e;
    events_init(&e);
    struct octo_sse p;
    octo_sse_init(&p);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += 1000)
        rc =
            octo_sse_feed(&p, (const uint8_t *)big + i, n - i < 1000 ? n - i : 1000, log_event, &e);
    octo_free(big);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    /* sticky */
    CHECK_ERR(octo_sse_feed(&p, (const uint8_t *)"\n\n", 2, log_event, &e), OCTO_ETOOBIG);
    CHECK_EQ_INT(e.count, 0);
    octo_sse_deinit(&p);

    /* many data lines, each short, over the event limit */
    octo_sse_init(&p);
    char line[1030];
    memcpy(line, "data: ", 6);
    memset(line + 6, 'y', 1023);
    line[1029] = '\n';
    rc = 0;
    for (size_t i = 0; i < OCTO_SSE_EVENT_MAX / 1024 + 2 && rc == 0; i++)
        rc = octo_sse_feed(&p, (const uint8_t *)line, sizeof(line), log_event, &e);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    octo_sse_deinit(&p);

    /* event: and id: values over their limits */
    char ev[OCTO_SSE_ID_MAX + 16];
    memcpy(ev, "event:", 6);
    memset(ev + 6, 'e', OCTO_SSE_TYPE_MAX + 1);
    ev[6 + OCTO_SSE_TYPE_MAX + 1] = '\n';
    CHECK_ERR(feed_all(ev, 6 + OCTO_SSE_TYPE_MAX + 2, false, &e, NULL), OCTO_ETOOBIG);
    memcpy(ev, "id:", 3);
    memset(ev + 3, 'i', OCTO_SSE_ID_MAX + 1);
    ev[3 + OCTO_SSE_ID_MAX + 1] = '\n';
    CHECK_ERR(feed_all(ev, 3 + OCTO_SSE_ID_MAX + 2, true, &e, NULL), OCTO_ETOOBIG);
    octo_buf_deinit(&e.log);
}

static void test_sse_callback_stop_and_id_nul(void)
{
    struct events e;
    events_init(&e);
    e.stop_at = 1;
    static const char s[] = "id: 1\ndata: a\n\ndata: b\n\n";
    CHECK_ERR(feed_all(s, sizeof(s) - 1, false, &e, NULL), OCTO_ECLOSED);
    CHECK_EQ_INT(e.count, 1);
    octo_buf_deinit(&e.log);

    events_init(&e);
    static const char z[] = "id: 7\nid: a\0b\ndata: x\n\nid\ndata: y\n\n";
    CHECK_OK(feed_all(z, sizeof(z) - 1, true, &e, NULL));
    CHECK_STR(events_str(&e), "message|x|7|-1\nmessage|y||-1\n");
    octo_buf_deinit(&e.log);
}

int main(void)
{
    OCTO_RUN(test_sse_fields);
    OCTO_RUN(test_sse_split_invariance);
    OCTO_RUN(test_sse_crlf_split);
    OCTO_RUN(test_sse_limits);
    OCTO_RUN(test_sse_callback_stop_and_id_nul);
    return octo_test_finish();
}
