/*
 * test_openai.c — the OpenAI wire format: requests as the official clients send them (string
 * and part-array contents, max_completion_tokens, stream_options, stop lists, the routing
 * policy object), each refusal with its parameter and code, and the answers read back as
 * JSON (whole answers, chunks with the role first and the finish last, usage chunks, the
 * model list, SSE framing).
 */
#include "api/openai.h"
#include "test.h"

#include <string.h>

static int parse(enum octo_oai_kind k, const char *body, struct octo_oai_request *r,
                 struct octo_oai_error *e)
{
    return octo_oai_parse(k, body, strlen(body), r, e);
}

static void test_chat_request(void)
{
    struct octo_oai_request r;
    struct octo_oai_error e;
    const char *body =
        "{\"model\":\"tiny\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hello \"},"
        "{\"type\":\"text\",\"text\":\"there\"}]},{\"role\":\"assistant\",\"content\":null}],"
        "\"max_completion_tokens\":16,\"temperature\":0.5,\"top_p\":1,\"seed\":-3,"
        "\"stop\":[\"\\n\\n\",\"END\"],\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        "\"user\":\"u1\",\"provider\":{\"sort\":\"price\"},\"n\":1,\"logprobs\":false,"
        "\"unknown_field\":[1,2]}";
    CHECK_OK(parse(OCTO_OAI_CHAT, body, &r, &e));
    CHECK(strcmp(r.model, "tiny") == 0);
    CHECK_EQ_INT(r.n_messages, 3);
    CHECK(strcmp(r.messages[0].role, "system") == 0);
    CHECK(r.messages[1].content_len == 11 && memcmp(r.messages[1].content, "Hello there", 11) == 0);
    CHECK_EQ_INT(r.messages[2].content_len, 0);
    CHECK_EQ_INT(r.max_tokens, 16);
    CHECK(r.has_temperature && r.temperature == 0.5f);
    CHECK(r.has_top_p && r.top_p == 1.0f);
    CHECK(r.has_seed && r.seed == (uint64_t)-3);
    CHECK_EQ_INT(r.n_stop, 2);
    CHECK(strcmp(r.stop[1], "END") == 0);
    CHECK(r.stream && r.include_usage);
    CHECK(strcmp(r.user, "u1") == 0);
    CHECK(r.policy != NULL && cJSON_IsObject(r.policy));
    octo_oai_request_free(&r);

    CHECK_OK(parse(OCTO_OAI_CHAT,
                   "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                   "\"max_tokens\":5,\"stop\":\"x\",\"stream\":false}",
                   &r, &e));
    CHECK_EQ_INT(r.max_tokens, 5);
    CHECK(r.n_stop == 1 && !r.stream && !r.include_usage && !r.has_temperature);
    octo_oai_request_free(&r);
}

static void test_completion_request(void)
{
    struct octo_oai_request r;
    struct octo_oai_error e;
    CHECK_OK(parse(OCTO_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":[\"Once upon\"]}", &r, &e));
    CHECK(r.prompt_len == 9 && strcmp(r.prompt, "Once upon") == 0);
    octo_oai_request_free(&r);
    CHECK_OK(parse(OCTO_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":null} \n",
                   &r, &e));
    CHECK_EQ_INT(r.max_tokens, 0);
    octo_oai_request_free(&r);
}

struct bad {
    enum octo_oai_kind kind;
    const char *body, *param, *code;
};

static const struct bad bads[] = {
    {OCTO_OAI_CHAT, "not json", "", "invalid_json"},
    {OCTO_OAI_CHAT, "[1,2]", "", "invalid_json"},
    {OCTO_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}xyz", "",
     "invalid_json"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":\"\"}", "stop",
     "invalid_value"},
    {OCTO_OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model",
     "missing_required_parameter"},
    {OCTO_OAI_CHAT, "{\"model\":\"\",\"messages\":[]}", "model", "invalid_value"},
    {OCTO_OAI_CHAT, "{\"model\":7}", "model", "invalid_value"},
    {OCTO_OAI_CHAT, "{\"model\":\"m\"}", "messages", "missing_required_parameter"},
    {OCTO_OAI_CHAT, "{\"model\":\"m\",\"messages\":{}}", "messages", "invalid_type"},
    {OCTO_OAI_CHAT, "{\"model\":\"m\",\"messages\":[]}", "messages", "empty_array"},
    {OCTO_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", "messages[0]",
     "invalid_type"},
    {OCTO_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}",
     "messages[0]", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\","
     "\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}",
     "messages[1].content", "invalid_value"},
    {OCTO_OAI_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}",
     "messages[0]", "invalid_type"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}",
     "max_tokens", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1.5}",
     "max_tokens", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
     "\"max_completion_tokens\":99999}",
     "max_completion_tokens", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}",
     "temperature", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":"
     "\"hot\"}",
     "temperature", "invalid_type"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":\"9\"}",
     "max_tokens", "invalid_type"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}", "n",
     "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":true}",
     "logprobs", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[]}", "tools",
     "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
     "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
     "stop", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}",
     "stream", "invalid_type"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
     "\"stream_options\":{\"include_usage\":true}}",
     "stream_options", "invalid_value"},
    {OCTO_OAI_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"provider\":\"x\"}",
     "provider", "invalid_type"},
    {OCTO_OAI_COMPLETION, "{\"model\":\"m\"}", "prompt", "missing_required_parameter"},
    {OCTO_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":[1,2,3]}", "prompt", "invalid_value"},
    {OCTO_OAI_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"echo\":true}", "echo",
     "invalid_value"},
};

static void test_refusals(void)
{
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct octo_oai_request r;
        struct octo_oai_error e;
        int rc = parse(bads[i].kind, bads[i].body, &r, &e);
        CHECK_EQ_INT(rc, OCTO_EINVAL);
        CHECK_EQ_INT(e.status, 400);
        if (strcmp(e.param, bads[i].param) != 0 || e.code == NULL ||
            strcmp(e.code, bads[i].code) != 0)
            octo_test_fail_at(__FILE__, __LINE__, "case %zu: param '%s' code '%s' (%s)", i, e.param,
                              e.code ? e.code : "-", e.message);
        CHECK(e.message[0] != '\0');
        CHECK(r.root == NULL);
    }
    /* the error body in the shape the clients parse */
    struct octo_oai_request r;
    struct octo_oai_error e;
    CHECK_EQ_INT(parse(OCTO_OAI_CHAT, "{\"model\":\"m\",\"messages\":[],\"x\":1}", &r, &e),
                 OCTO_EINVAL);
    char *j = octo_oai_error_json(&e);
    cJSON *o = cJSON_Parse(j);
    cJSON *x = cJSON_GetObjectItem(o, "error");
    CHECK(strcmp(cJSON_GetObjectItem(x, "type")->valuestring, "invalid_request_error") == 0);
    CHECK(strcmp(cJSON_GetObjectItem(x, "param")->valuestring, "messages") == 0);
    CHECK(strcmp(cJSON_GetObjectItem(x, "code")->valuestring, "empty_array") == 0);
    cJSON_Delete(o);
    cJSON_free(j);
    /* too many messages */
    static char big[OCTO_OAI_MESSAGES_MAX * 40 + 200];
    size_t off = (size_t)snprintf(big, sizeof(big), "{\"model\":\"m\",\"messages\":[");
    for (int i = 0; i <= OCTO_OAI_MESSAGES_MAX; i++)
        off += (size_t)snprintf(big + off, sizeof(big) - off,
                                "%s{\"role\":\"user\",\"content\":\"x\"}", i ? "," : "");
    snprintf(big + off, sizeof(big) - off, "]}");
    CHECK_EQ_INT(parse(OCTO_OAI_CHAT, big, &r, &e), OCTO_EINVAL);
    CHECK(strcmp(e.code, "array_above_max_length") == 0);
}

static const char *str_at(cJSON *o, const char *a, const char *b)
{
    cJSON *x = cJSON_GetObjectItem(o, a);
    if (b != NULL)
        x = cJSON_GetObjectItem(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* Text that is not valid UTF-8 (stray bytes, overlong forms, surrogates, a cut character) or
 * holds NUL comes out as valid JSON with U+FFFD in their place; valid characters are kept. */
static void test_answer_text_sanitized(void)
{
    struct octo_oai_meta m = {OCTO_OAI_CHAT, "chatcmpl-1", "tiny", 1700000000};
    struct octo_oai_usage u = {1, 1};
    const char in[] = "a\xf1"
                      "b\xc0\xaf"
                      "c\xed\xa0\x80"
                      "d\x00"
                      "e\xe2\x82\xac\xf0\x9f\x98";
    char *j = octo_oai_answer(&m, in, sizeof(in) - 1, "stop", &u);
    cJSON *o = cJSON_Parse(j);
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
    const char *want = "a\xef\xbf\xbd"
                       "b\xef\xbf\xbd\xef\xbf\xbd"
                       "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                       "d\xef\xbf\xbd"
                       "e\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd";
    CHECK(strcmp(str_at(c, "message", "content"), want) == 0);
    cJSON_Delete(o);
    cJSON_free(j);
}

static void test_answers(void)
{
    struct octo_oai_meta m = {OCTO_OAI_CHAT, "chatcmpl-1", "tiny", 1700000000};
    struct octo_oai_usage u = {12, 3};
    char *j = octo_oai_answer(&m, "Hi \"you\"\n", 9, "stop", &u);
    cJSON *o = cJSON_Parse(j);
    CHECK(strcmp(str_at(o, "object", NULL), "chat.completion") == 0);
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
    CHECK(strcmp(str_at(c, "message", "content"), "Hi \"you\"\n") == 0);
    CHECK(strcmp(str_at(c, "message", "role"), "assistant") == 0);
    CHECK(strcmp(str_at(c, "finish_reason", NULL), "stop") == 0);
    CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "usage"), "total_tokens")->valueint,
                 15);
    CHECK_EQ_INT(cJSON_GetObjectItem(o, "created")->valuedouble, 1700000000);
    cJSON_Delete(o);
    CHECK(strchr(j, '\n') == NULL); /* one line: fit for an SSE data field */
    cJSON_free(j);

    j = octo_oai_chunk(&m, true, "He", 2, NULL);
    o = cJSON_Parse(j);
    c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
    CHECK(strcmp(str_at(o, "object", NULL), "chat.completion.chunk") == 0);
    CHECK(strcmp(str_at(c, "delta", "role"), "assistant") == 0);
    CHECK(strcmp(str_at(c, "delta", "content"), "He") == 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "finish_reason")));
    cJSON_Delete(o);
    cJSON_free(j);
    j = octo_oai_chunk(&m, false, "", 0, "length");
    o = cJSON_Parse(j);
    c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "delta"), "role") == NULL);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "delta"), "content") == NULL);
    CHECK(strcmp(str_at(c, "finish_reason", NULL), "length") == 0);
    cJSON_Delete(o);
    cJSON_free(j);
    j = octo_oai_usage_chunk(&m, &u);
    o = cJSON_Parse(j);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(o, "choices")), 0);
    CHECK_EQ_INT(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "usage"), "completion_tokens")->valueint, 3);
    cJSON_Delete(o);
    cJSON_free(j);

    struct octo_oai_meta mc = {OCTO_OAI_COMPLETION, "cmpl-1", "tiny", 5};
    j = octo_oai_answer(&mc, "abc", 3, "length", &u);
    o = cJSON_Parse(j);
    CHECK(strcmp(str_at(o, "object", NULL), "text_completion") == 0);
    CHECK(strcmp(str_at(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0), "text", NULL),
                 "abc") == 0);
    cJSON_Delete(o);
    cJSON_free(j);

    const char *names[] = {"tiny", "qwen"};
    j = octo_oai_models(names, 2, 9, "octo");
    o = cJSON_Parse(j);
    CHECK(strcmp(str_at(o, "object", NULL), "list") == 0);
    CHECK(strcmp(str_at(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "data"), 1), "id", NULL),
                 "qwen") == 0);
    cJSON_Delete(o);
    cJSON_free(j);

    struct octo_buf b;
    octo_buf_init(&b, 1024);
    CHECK_OK(octo_oai_sse(&b, "{\"a\":1}"));
    CHECK_OK(octo_oai_sse(&b, NULL));
    CHECK(b.len == 29 && memcmp(b.data, "data: {\"a\":1}\n\ndata: [DONE]\n\n", 29) == 0);
    CHECK_EQ_INT(octo_oai_sse(&b, "two\nlines"), OCTO_EINVAL);
    octo_buf_deinit(&b);
}

int main(void)
{
    OCTO_RUN(test_chat_request);
    OCTO_RUN(test_completion_request);
    OCTO_RUN(test_refusals);
    OCTO_RUN(test_answers);
    OCTO_RUN(test_answer_text_sanitized);
    return octo_test_finish();
}
