/*
 * fuzz_oai.c — libFuzzer harness for the gateway's OpenAI request parser (api/openai.h).
 *
 * The input is parsed as a chat request and as a completion request. A refusal must be
 * OCTO_EINVAL with status 400, a code, a non-empty message and nothing left to free. An
 * accepted request must hold a model of 1..OCTO_OAI_MODEL_MAX bytes, 1..OCTO_OAI_MESSAGES_MAX
 * messages with known roles (chat) or a prompt (completion), max_tokens within its range, at
 * most OCTO_OAI_STOP_MAX stop strings, and include_usage only with stream; and the answers
 * built for it (whole, chunk, usage) must parse back as JSON objects of one line.
 */
#include "api/openai.h"
#include "base/assert.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct octo_oai_request *r)
{
    size_t ml = strlen(r->model);
    OCTO_ASSERT(ml >= 1 && ml <= OCTO_OAI_MODEL_MAX);
    if (r->kind == OCTO_OAI_CHAT) {
        OCTO_ASSERT(r->n_messages >= 1 && r->n_messages <= OCTO_OAI_MESSAGES_MAX);
        for (size_t i = 0; i < r->n_messages; i++) {
            OCTO_ASSERT(r->messages[i].role != NULL && r->messages[i].content != NULL);
            OCTO_ASSERT(r->messages[i].content_len == strlen(r->messages[i].content));
        }
    } else {
        OCTO_ASSERT(r->prompt != NULL && r->prompt_len == strlen(r->prompt));
    }
    OCTO_ASSERT(r->max_tokens <= OCTO_OAI_MAX_TOKENS_MAX);
    OCTO_ASSERT(r->n_stop <= OCTO_OAI_STOP_MAX);
    OCTO_ASSERT(!r->include_usage || r->stream);
    OCTO_ASSERT(!r->has_temperature || (r->temperature >= 0 && r->temperature <= 2));
    struct octo_oai_meta m = {r->kind, "id-1", r->model, 1};
    struct octo_oai_usage u = {1, 2};
    const char *text = r->kind == OCTO_OAI_CHAT ? r->messages[0].content : r->prompt;
    size_t len = strlen(text);
    char *outs[3] = {octo_oai_answer(&m, text, len, "stop", &u),
                     octo_oai_chunk(&m, true, text, len, NULL), octo_oai_usage_chunk(&m, &u)};
    for (int i = 0; i < 3; i++) {
        OCTO_ASSERT(outs[i] != NULL && strchr(outs[i], '\n') == NULL);
        cJSON *o = cJSON_Parse(outs[i]);
        OCTO_ASSERT(cJSON_IsObject(o));
        cJSON_Delete(o);
        cJSON_free(outs[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int k = 0; k < 2; k++) {
        struct octo_oai_request r;
        struct octo_oai_error e;
        int rc = octo_oai_parse(k == 0 ? OCTO_OAI_CHAT : OCTO_OAI_COMPLETION, (const char *)data,
                                size, &r, &e);
        if (rc != 0) {
            OCTO_ASSERT(rc == OCTO_EINVAL || rc == OCTO_ENOMEM);
            OCTO_ASSERT(rc == OCTO_ENOMEM || (e.status == 400 && e.code != NULL &&
                                              e.message[0] != '\0' && r.root == NULL));
            continue;
        }
        check_accepted(&r);
        octo_oai_request_free(&r);
    }
    return 0;
}
