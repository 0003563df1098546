/*
 * test_taskwire.c — the orchestrator-provider wire format: frames split at every byte
 * boundary come out whole and in order, the reader refuses an announced length over its
 * maximum before buffering the body (and a zero length), bodies round-trip (ASSIGN with its
 * request object, RESULT, ERROR), and every decoder refuses wrong types, out-of-range numbers,
 * bad hex, over-long strings and non-objects.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/endian.h"
#include "intel/taskwire.h"
#include "test.h"

#include <string.h>

static void test_frames_split_anywhere(void)
{
    struct octo_buf w;
    octo_buf_init(&w, 1 << 16);
    CHECK_OK(octo_taskwire_frame(&w, OCTO_TASKWIRE_TOKEN, "hello", 5));
    CHECK_OK(octo_taskwire_frame(&w, OCTO_TASKWIRE_TOKEN, "", 0));
    CHECK_OK(octo_taskwire_frame(&w, OCTO_TASKWIRE_ACK, "{}", 2));
    for (size_t cut = 0; cut <= w.len; cut++) {
        struct octo_taskwire_reader r;
        octo_taskwire_reader_init(&r, 1024);
        uint8_t kind;
        const uint8_t *body;
        size_t len;
        int seen = 0;
        const char *want[] = {"hello", "", "{}"};
        const uint8_t kinds[] = {OCTO_TASKWIRE_TOKEN, OCTO_TASKWIRE_TOKEN, OCTO_TASKWIRE_ACK};
        CHECK_OK(octo_taskwire_feed(&r, w.data, cut));
        while (octo_taskwire_next(&r, &kind, &body, &len) == 1) {
            CHECK_EQ_INT(kind, kinds[seen]);
            CHECK(len == strlen(want[seen]) && memcmp(body, want[seen], len) == 0);
            seen++;
        }
        CHECK_OK(octo_taskwire_feed(&r, w.data + cut, w.len - cut));
        while (octo_taskwire_next(&r, &kind, &body, &len) == 1) {
            CHECK_EQ_INT(kind, kinds[seen]);
            CHECK(len == strlen(want[seen]) && memcmp(body, want[seen], len) == 0);
            seen++;
        }
        CHECK_EQ_INT(seen, 3);
        octo_taskwire_reader_deinit(&r);
    }
    octo_buf_deinit(&w);
}

static void test_reader_limits(void)
{
    struct octo_taskwire_reader r;
    octo_taskwire_reader_init(&r, 100);
    uint8_t h[5];
    octo_store_be32(h, 101); /* announces more than max: refused at once */
    h[4] = OCTO_TASKWIRE_TOKEN;
    CHECK_EQ_INT(octo_taskwire_feed(&r, h, sizeof(h)), OCTO_ETOOBIG);
    octo_taskwire_reader_deinit(&r);
    octo_taskwire_reader_init(&r, 100);
    octo_store_be32(h, 0);
    CHECK_EQ_INT(octo_taskwire_feed(&r, h, 4), OCTO_EMALFORMED);
    octo_taskwire_reader_deinit(&r);
    octo_taskwire_reader_init(&r, 100);
    static uint8_t big[OCTO_TASKWIRE_FEED_MAX + 1];
    CHECK_EQ_INT(octo_taskwire_feed(&r, big, sizeof(big)), OCTO_ETOOBIG);
    octo_taskwire_reader_deinit(&r);
    /* a frame of exactly max is fine */
    octo_taskwire_reader_init(&r, 100);
    struct octo_buf w;
    octo_buf_init(&w, 1024);
    uint8_t body[99];
    memset(body, 'x', sizeof(body));
    CHECK_OK(octo_taskwire_frame(&w, OCTO_TASKWIRE_TOKEN, body, sizeof(body)));
    CHECK_OK(octo_taskwire_feed(&r, w.data, w.len));
    uint8_t kind;
    const uint8_t *b;
    size_t len;
    CHECK_EQ_INT(octo_taskwire_next(&r, &kind, &b, &len), 1);
    CHECK_EQ_INT(len, 99);
    CHECK_EQ_INT(octo_taskwire_next(&r, &kind, &b, &len), 0);
    octo_buf_deinit(&w);
    octo_taskwire_reader_deinit(&r);
}

/* The body of the single frame in w. */
static const uint8_t *only_body(const struct octo_buf *w, uint8_t kind, size_t *len)
{
    OCTO_ASSERT(w->len >= OCTO_TASKWIRE_HEADER);
    OCTO_ASSERT(octo_load_be32(w->data) == w->len - 4);
    OCTO_ASSERT(w->data[4] == kind);
    *len = w->len - OCTO_TASKWIRE_HEADER;
    return w->data + OCTO_TASKWIRE_HEADER;
}

static void test_assign_round_trip(void)
{
    const char *req =
        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi \\\"x\\\"\"}],"
        "\"max_tokens\":8}";
    struct octo_taskwire_assign a = {.attempt = 3,
                                     .kind = OCTO_TASKWIRE_COMPLETION,
                                     .deadline_ms = 1796000000123ull,
                                     .request = req,
                                     .request_len = strlen(req)};
    for (int i = 0; i < OCTO_TASKWIRE_ID_LEN; i++)
        a.task[i] = (uint8_t)(i * 17);
    snprintf(a.model, sizeof(a.model), "tiny \"quoted\"");
    a.has_requester = true;
    memset(a.requester, 0xc3, sizeof(a.requester));
    struct octo_buf w;
    octo_buf_init(&w, OCTO_TASKWIRE_FRAME_MAX + 16);
    CHECK_OK(octo_taskwire_assign_encode(&w, &a));
    size_t len;
    const uint8_t *body = only_body(&w, OCTO_TASKWIRE_ASSIGN, &len);
    struct octo_taskwire_assign b;
    CHECK_OK(octo_taskwire_assign_decode(body, len, &b));
    CHECK(memcmp(a.task, b.task, sizeof(a.task)) == 0);
    CHECK_EQ_INT(b.attempt, 3);
    CHECK_EQ_INT(b.kind, OCTO_TASKWIRE_COMPLETION);
    CHECK_STR(b.model, "tiny \"quoted\"");
    CHECK(b.deadline_ms == 1796000000123ull);
    CHECK(b.has_requester && memcmp(b.requester, a.requester, 32) == 0);
    CHECK(strstr(b.request, "\"max_tokens\":8") != NULL);
    CHECK(strstr(b.request, "hi \\\"x\\\"") != NULL);
    octo_taskwire_assign_free(&b);
    /* what encode refuses */
    a.request = "[1]";
    a.request_len = 3;
    CHECK_EQ_INT(octo_taskwire_assign_encode(&w, &a), OCTO_EINVAL);
    a.request = req;
    a.request_len = strlen(req);
    a.model[0] = '\0';
    CHECK_EQ_INT(octo_taskwire_assign_encode(&w, &a), OCTO_EINVAL);
    octo_buf_deinit(&w);
}

/* A sealed task's ASSIGN: its class and max_tokens travel, the request is {}; the meter. */
static void test_assign_sealed(void)
{
    struct octo_taskwire_assign a = {.attempt = 1,
                                     .kind = OCTO_TASKWIRE_CHAT,
                                     .deadline_ms = 5,
                                     .request = "{}",
                                     .request_len = 2,
                                     .sealed = OCTO_TASKWIRE_SEALED_PRIVATE,
                                     .max_tokens = 64,
                                     .deterministic = true};
    snprintf(a.model, sizeof(a.model), "tiny");
    struct octo_buf w;
    octo_buf_init(&w, 4096);
    CHECK_OK(octo_taskwire_assign_encode(&w, &a));
    size_t len;
    const uint8_t *body = only_body(&w, OCTO_TASKWIRE_ASSIGN, &len);
    struct octo_taskwire_assign b;
    CHECK_OK(octo_taskwire_assign_decode(body, len, &b));
    CHECK_EQ_INT(b.sealed, OCTO_TASKWIRE_SEALED_PRIVATE);
    CHECK_EQ_INT(b.max_tokens, 64);
    CHECK(b.deterministic);
    CHECK_STR(b.request, "{}");
    octo_taskwire_assign_free(&b);
    /* an open task carries neither */
    a.sealed = OCTO_TASKWIRE_OPEN;
    octo_buf_reset(&w);
    CHECK_OK(octo_taskwire_assign_encode(&w, &a));
    body = only_body(&w, OCTO_TASKWIRE_ASSIGN, &len);
    CHECK_OK(octo_taskwire_assign_decode(body, len, &b));
    CHECK_EQ_INT(b.sealed, OCTO_TASKWIRE_OPEN);
    CHECK(b.deterministic);
    octo_taskwire_assign_free(&b);
    /* encode refuses a class that is not sealed, and max_tokens out of range */
    a.sealed = (enum octo_taskwire_sealed)1;
    CHECK_EQ_INT(octo_taskwire_assign_encode(&w, &a), OCTO_EINVAL);
    a.sealed = OCTO_TASKWIRE_SEALED_CONFIDENTIAL;
    a.max_tokens = OCTO_TASKWIRE_SEALED_TOKENS_MAX + 1;
    CHECK_EQ_INT(octo_taskwire_assign_encode(&w, &a), OCTO_EINVAL);
    a.max_tokens = 0;
    CHECK_EQ_INT(octo_taskwire_assign_encode(&w, &a), OCTO_EINVAL);
    octo_buf_deinit(&w);
    const char *bad[] = {
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"sealed\":\"public\",\"max_tokens\":4,\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"sealed\":\"private\",\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"sealed\":\"private\",\"max_tokens\":0,"
        "\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"sealed\":\"private\",\"max_tokens\":4097,"
        "\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"sealed\":3,\"max_tokens\":4,\"request\":{}}",
    };
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++)
        CHECK_EQ_INT(octo_taskwire_assign_decode((const uint8_t *)bad[i], strlen(bad[i]), &b),
                     OCTO_EMALFORMED);
    CHECK_EQ_INT(octo_taskwire_sealed_prompt_tokens(0), 0);
    CHECK_EQ_INT(octo_taskwire_sealed_prompt_tokens(1), 1);
    CHECK_EQ_INT(octo_taskwire_sealed_prompt_tokens(4), 1);
    CHECK_EQ_INT(octo_taskwire_sealed_prompt_tokens(5), 2);
    CHECK_EQ_INT(octo_taskwire_sealed_prompt_tokens(OCTO_TASKWIRE_SEALED_MAX),
                 OCTO_TASKWIRE_SEALED_MAX / 4);
}

static void test_assign_refusals(void)
{
    const char *bad[] = {
        "",
        "[]",
        "{}",
        "{\"task\":\"00\",\"attempt\":1,\"kind\":\"chat\",\"model\":\"m\",\"deadline_ms\":1,"
        "\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":-1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1.5,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"image\","
        "\"model\":\"m\",\"deadline_ms\":1,\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"\",\"deadline_ms\":1,\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1e300,\"request\":{}}",
        "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"request\":\"{}\"}",
        "{\"task\":\"zz0102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":\"chat\","
        "\"model\":\"m\",\"deadline_ms\":1,\"request\":{}}",
    };
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        struct octo_taskwire_assign b;
        CHECK_EQ_INT(octo_taskwire_assign_decode((const uint8_t *)bad[i], strlen(bad[i]), &b),
                     OCTO_EMALFORMED);
        CHECK(b.request == NULL);
    }
    char model[OCTO_TASKWIRE_MODEL_MAX + 200];
    int n = snprintf(model, sizeof(model),
                     "{\"task\":\"000102030405060708090a0b0c0d0e0f\",\"attempt\":1,\"kind\":"
                     "\"chat\",\"model\":\"%0*d\",\"deadline_ms\":1,\"request\":{}}",
                     OCTO_TASKWIRE_MODEL_MAX + 1, 0);
    struct octo_taskwire_assign b;
    CHECK_EQ_INT(octo_taskwire_assign_decode((const uint8_t *)model, (size_t)n, &b),
                 OCTO_EMALFORMED);
}

static void test_result_and_error(void)
{
    struct octo_taskwire_result r = {
        .prompt_tokens = 59, .completion_tokens = 8, .ttft_ns = 1234567, .run_ns = 40000000};
    snprintf(r.finish, sizeof(r.finish), "length");
    memset(r.model_sha256, 0xab, 32);
    r.has_receipt = true;
    for (size_t i = 0; i < sizeof(r.receipt); i++)
        r.receipt[i] = (uint8_t)(i * 7);
    struct octo_buf w;
    octo_buf_init(&w, 4096);
    CHECK_OK(octo_taskwire_result_encode(&w, &r));
    size_t len;
    const uint8_t *body = only_body(&w, OCTO_TASKWIRE_RESULT, &len);
    struct octo_taskwire_result q;
    CHECK_OK(octo_taskwire_result_decode(body, len, &q));
    CHECK(memcmp(&q, &r, sizeof(r)) == 0);
    const char *badr = "{\"finish\":\"stop\",\"prompt_tokens\":4294967296,\"completion_tokens\":1,"
                       "\"ttft_ns\":1,\"run_ns\":1,\"model_sha256\":\"ab\"}";
    CHECK_EQ_INT(octo_taskwire_result_decode((const uint8_t *)badr, strlen(badr), &q),
                 OCTO_EMALFORMED);
    octo_buf_reset(&w);
    struct octo_taskwire_error e = {.retry = true};
    snprintf(e.code, sizeof(e.code), "busy");
    snprintf(e.message, sizeof(e.message), "every slot \"is\" taken\n");
    CHECK_OK(octo_taskwire_error_encode(&w, &e));
    body = only_body(&w, OCTO_TASKWIRE_ERROR, &len);
    struct octo_taskwire_error f;
    CHECK_OK(octo_taskwire_error_decode(body, len, &f));
    CHECK_STR(f.code, "busy");
    CHECK_STR(f.message, "every slot \"is\" taken\n");
    CHECK(f.retry);
    const char *bade = "{\"code\":\"x\",\"message\":\"m\",\"retry\":1}";
    CHECK_EQ_INT(octo_taskwire_error_decode((const uint8_t *)bade, strlen(bade), &f),
                 OCTO_EMALFORMED);
    octo_buf_deinit(&w);
}

int main(void)
{
    OCTO_RUN(test_frames_split_anywhere);
    OCTO_RUN(test_reader_limits);
    OCTO_RUN(test_assign_round_trip);
    OCTO_RUN(test_assign_refusals);
    OCTO_RUN(test_assign_sealed);
    OCTO_RUN(test_result_and_error);
    return octo_test_finish();
}
