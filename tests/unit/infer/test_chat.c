/*
 * test_chat.c — chat templates (infer/chat.h): the exact rendering of every family for a
 * system + user + assistant + user conversation (the strings llama.cpp's renderer gives for
 * the same family: chatml, llama2-sys-strip, llama3, zephyr with TinyLlama's </s>, phi3), detection
 * from real templates' markers, names, end tokens, and the refusals (unknown role, late llama2
 * system message, limits).
 */
#include "infer/chat.h"
#include "test.h"

#include <string.h>

#define MSG(r, c)                                                                                  \
    {                                                                                              \
        r, c, sizeof(c) - 1                                                                        \
    }

static const struct octo_chat_message convo[] = {
    MSG("system", "Be brief."),
    MSG("user", "Hi"),
    MSG("assistant", "Hello."),
    MSG("user", " 2+2? "),
};

static void check_render(enum octo_chat_template t, bool add, const char *want)
{
    struct octo_buf b;
    octo_buf_init(&b, 1u << 20);
    CHECK_OK(octo_chat_format(t, convo, 4, add, &b));
    CHECK_EQ_INT(b.len, strlen(want));
    CHECK(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
    octo_buf_deinit(&b);
}

static void test_render(void)
{
    check_render(OCTO_CHAT_CHATML, true,
                 "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                 "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n 2+2? <|im_end|>\n"
                 "<|im_start|>assistant\n");
    check_render(OCTO_CHAT_CHATML, false,
                 "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                 "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n 2+2? <|im_end|>\n");
    check_render(OCTO_CHAT_LLAMA2, true,
                 "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]Hello.</s>[INST] 2+2? [/INST]");
    check_render(OCTO_CHAT_LLAMA3, true,
                 "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n");
    check_render(OCTO_CHAT_ZEPHYR, true,
                 "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello.</s>\n"
                 "<|user|>\n 2+2? </s>\n<|assistant|>\n");
    check_render(OCTO_CHAT_PHI3, true,
                 "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n"
                 "<|user|>\n 2+2? <|end|>\n<|assistant|>\n");
    check_render(OCTO_CHAT_RAW, true, "Be brief.HiHello. 2+2? ");
}

static void test_detect(void)
{
    bool known = false;
    const char *qwen = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' "
                       "+ message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";
    CHECK_EQ_INT(octo_chat_detect(qwen, strlen(qwen), &known), OCTO_CHAT_CHATML);
    CHECK(known);
    const char *tiny = "{% for message in messages %}{% if message['role'] == 'user' %}{{ "
                       "'<|user|>\\n' + message['content'] + eos_token }}{% elif "
                       "message['role'] == 'assistant' %}{{ '<|assistant|>\\n' }}{% endif %}";
    CHECK_EQ_INT(octo_chat_detect(tiny, strlen(tiny), &known), OCTO_CHAT_ZEPHYR);
    const char *l2 = "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}";
    CHECK_EQ_INT(octo_chat_detect(l2, strlen(l2), &known), OCTO_CHAT_LLAMA2);
    const char *l3 = "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}";
    CHECK_EQ_INT(octo_chat_detect(l3, strlen(l3), &known), OCTO_CHAT_LLAMA3);
    const char *phi = "{{'<|user|>' + '\\n' + message['content'] + '<|end|>'}}";
    CHECK_EQ_INT(octo_chat_detect(phi, strlen(phi), &known), OCTO_CHAT_PHI3);
    CHECK_EQ_INT(octo_chat_detect("{{ content }}", 13, &known), OCTO_CHAT_CHATML);
    CHECK(!known);
    CHECK_EQ_INT(octo_chat_detect(NULL, 0, &known), OCTO_CHAT_CHATML);
    CHECK(!known);
    octo_chat_detect("<|im_start|>", 11, &known); /* a cut marker is no marker */
    CHECK(!known);
    const char *mistral = "{{ '[INST] ' + message['content'] + '[/INST]' }}[SYSTEM_PROMPT]";
    octo_chat_detect(mistral, strlen(mistral), &known);
    CHECK(!known);
}

static void test_names(void)
{
    enum octo_chat_template t;
    const char *names[] = {"chatml", "llama2", "llama3", "zephyr", "phi3", "raw"};
    for (size_t i = 0; i < 6; i++) {
        CHECK_OK(octo_chat_template_parse(names[i], &t));
        CHECK_EQ_INT(t, (int)i);
        CHECK(strcmp(octo_chat_template_name(t), names[i]) == 0);
    }
    CHECK_ERR(octo_chat_template_parse("jinja", &t), OCTO_ENOTFOUND);
    CHECK(strcmp(octo_chat_template_name((enum octo_chat_template)99), "unknown") == 0);
    CHECK(strcmp(octo_chat_end_text(OCTO_CHAT_CHATML), "<|im_end|>") == 0);
    CHECK(strcmp(octo_chat_end_text(OCTO_CHAT_LLAMA3), "<|eot_id|>") == 0);
    CHECK(octo_chat_end_text(OCTO_CHAT_RAW) == NULL);
    CHECK(octo_chat_end_text(OCTO_CHAT_LLAMA2) == NULL);
}

static void test_refusals(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 1u << 20);
    const struct octo_chat_message tool[] = {MSG("tool", "x")};
    CHECK_ERR(octo_chat_format(OCTO_CHAT_CHATML, tool, 1, true, &b), OCTO_EINVAL);
    CHECK_ERR(octo_chat_format(OCTO_CHAT_CHATML, convo, 0, true, &b), OCTO_EINVAL);
    const struct octo_chat_message null_content[] = {{"user", NULL, 0}};
    CHECK_ERR(octo_chat_format(OCTO_CHAT_CHATML, null_content, 1, true, &b), OCTO_EINVAL);
    const struct octo_chat_message late_sys[] = {MSG("user", "a"), MSG("system", "b")};
    CHECK_ERR(octo_chat_format(OCTO_CHAT_LLAMA2, late_sys, 2, true, &b), OCTO_EINVAL);
    const struct octo_chat_message huge[] = {{"user", "x", OCTO_CHAT_CONTENT_MAX + 1u}};
    CHECK_ERR(octo_chat_format(OCTO_CHAT_CHATML, huge, 1, true, &b), OCTO_ETOOBIG);
    CHECK_ERR(octo_chat_format(OCTO_CHAT_CHATML, convo, OCTO_CHAT_MESSAGES_MAX + 1, true, &b),
              OCTO_ETOOBIG);
    octo_buf_deinit(&b);
    /* The output buffer's limit is an error, not a truncation. */
    octo_buf_init(&b, 16);
    CHECK(octo_chat_format(OCTO_CHAT_CHATML, convo, 4, true, &b) < 0);
    octo_buf_deinit(&b);
}

int main(void)
{
    OCTO_RUN(test_render);
    OCTO_RUN(test_detect);
    OCTO_RUN(test_names);
    OCTO_RUN(test_refusals);
    return octo_test_finish();
}
