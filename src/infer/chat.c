/*
 * chat.c — chat templates (see chat.h). Every family is a short loop over the messages that
 * appends fixed markers and the contents; nothing is interpreted inside a content.
 */
#define _GNU_SOURCE /* memmem */
#include "infer/chat.h"

#include "base/assert.h"

#include <string.h>

static const char *const template_names[] = {
    [OCTO_CHAT_CHATML] = "chatml", [OCTO_CHAT_LLAMA2] = "llama2", [OCTO_CHAT_LLAMA3] = "llama3",
    [OCTO_CHAT_ZEPHYR] = "zephyr", [OCTO_CHAT_PHI3] = "phi3",     [OCTO_CHAT_RAW] = "raw",
};

static bool contains(const char *hay, size_t len, const char *needle)
{
    return memmem(hay, len, needle, strlen(needle)) != NULL;
}

enum octo_chat_template octo_chat_detect(const char *tmpl, size_t len, bool *known)
{
    enum octo_chat_template t = OCTO_CHAT_CHATML;
    bool found = true;
    if (tmpl == NULL || len == 0)
        found = false;
    else if (contains(tmpl, len, "<|im_start|>"))
        t = OCTO_CHAT_CHATML;
    else if (contains(tmpl, len, "<|start_header_id|>") && contains(tmpl, len, "<|end_header_id|>"))
        t = OCTO_CHAT_LLAMA3;
    else if (contains(tmpl, len, "[INST]") && !contains(tmpl, len, "[SYSTEM_PROMPT]") &&
             !contains(tmpl, len, "[AVAILABLE_TOOLS]") && !contains(tmpl, len, "mistral"))
        t = OCTO_CHAT_LLAMA2; /* Mistral's [INST] templates differ: not known */
    else if (contains(tmpl, len, "<|user|>") && contains(tmpl, len, "<|end|>"))
        t = OCTO_CHAT_PHI3;
    else if (contains(tmpl, len, "<|user|>") && contains(tmpl, len, "<|assistant|>"))
        t = OCTO_CHAT_ZEPHYR;
    else
        found = false;
    if (known != NULL)
        *known = found;
    return t;
}

int octo_chat_template_parse(const char *name, enum octo_chat_template *out)
{
    OCTO_ASSERT(name != NULL && out != NULL);
    for (size_t i = 0; i < OCTO_ARRAY_LEN(template_names); i++) {
        if (strcmp(name, template_names[i]) == 0) {
            *out = (enum octo_chat_template)i;
            return 0;
        }
    }
    return OCTO_ENOTFOUND;
}

const char *octo_chat_template_name(enum octo_chat_template t)
{
    return (size_t)t < OCTO_ARRAY_LEN(template_names) ? template_names[t] : "unknown";
}

const char *octo_chat_end_text(enum octo_chat_template t)
{
    switch (t) {
    case OCTO_CHAT_CHATML:
        return "<|im_end|>";
    case OCTO_CHAT_LLAMA3:
        return "<|eot_id|>";
    case OCTO_CHAT_ZEPHYR:
        return "</s>";
    case OCTO_CHAT_PHI3:
        return "<|end|>";
    case OCTO_CHAT_LLAMA2:
    case OCTO_CHAT_RAW:
        break;
    }
    return NULL;
}

static bool role_ok(const char *role)
{
    return strcmp(role, "system") == 0 || strcmp(role, "user") == 0 ||
           strcmp(role, "assistant") == 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The content without leading and trailing whitespace (Llama 2's and 3's templates trim). */
static int append_trimmed(struct octo_buf *out, const char *s, size_t len)
{
    while (len > 0 && is_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1]))
        len--;
    return octo_buf_append(out, s, len);
}

/* "<|im_start|>role\n" content "<|im_end|>\n" and the like: open + role + mid, content, close. */
static int append_turn(struct octo_buf *out, const char *open, const char *role, const char *mid,
                       const struct octo_chat_message *m, bool trim, const char *close)
{
    int rc = octo_buf_append_str(out, open);
    if (rc == 0)
        rc = octo_buf_append_str(out, role);
    if (rc == 0)
        rc = octo_buf_append_str(out, mid);
    if (rc == 0)
        rc = trim ? append_trimmed(out, m->content, m->content_len)
                  : octo_buf_append(out, m->content, m->content_len);
    if (rc == 0)
        rc = octo_buf_append_str(out, close);
    return rc;
}

static int format_llama2(const struct octo_chat_message *msgs, size_t n, struct octo_buf *out)
{
    bool in_turn = true;
    int rc = octo_buf_append_str(out, "[INST] ");
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct octo_chat_message *m = &msgs[i];
        if (!in_turn) {
            in_turn = true;
            rc = octo_buf_append_str(out, "[INST] ");
        }
        if (rc != 0)
            break;
        if (strcmp(m->role, "system") == 0)
            rc = i == 0 ? append_turn(out, "<<SYS>>\n", "", "", m, true, "\n<</SYS>>\n\n")
                        : OCTO_EINVAL;
        else if (strcmp(m->role, "user") == 0)
            rc = append_turn(out, "", "", "", m, true, " [/INST]");
        else {
            rc = append_turn(out, "", "", "", m, true, "</s>");
            in_turn = false;
        }
    }
    return rc;
}

static int format_raw(const struct octo_chat_message *msgs, size_t n, struct octo_buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = octo_buf_append(out, msgs[i].content, msgs[i].content_len);
    return rc;
}

static int check_messages(const struct octo_chat_message *msgs, size_t n)
{
    if (n == 0 || msgs == NULL)
        return OCTO_EINVAL;
    if (n > OCTO_CHAT_MESSAGES_MAX)
        return OCTO_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].role == NULL || msgs[i].content == NULL || !role_ok(msgs[i].role))
            return OCTO_EINVAL;
        if (msgs[i].content_len > OCTO_CHAT_CONTENT_MAX)
            return OCTO_ETOOBIG;
    }
    return 0;
}

int octo_chat_format(enum octo_chat_template t, const struct octo_chat_message *msgs, size_t n,
                     bool add_assistant, struct octo_buf *out)
{
    OCTO_ASSERT(out != NULL);
    int rc = check_messages(msgs, n);
    if (rc != 0)
        return rc;
    if (t == OCTO_CHAT_LLAMA2)
        return format_llama2(msgs, n, out);
    if (t == OCTO_CHAT_RAW)
        return format_raw(msgs, n, out);
    const char *open = "<|im_start|>", *mid = "\n", *close = "<|im_end|>\n";
    bool trim = false;
    if (t == OCTO_CHAT_LLAMA3) {
        open = "<|start_header_id|>";
        mid = "<|end_header_id|>\n\n";
        close = "<|eot_id|>";
        trim = true;
    } else if (t == OCTO_CHAT_ZEPHYR || t == OCTO_CHAT_PHI3) {
        open = "<|";
        mid = "|>\n";
        close = t == OCTO_CHAT_ZEPHYR ? "</s>\n" : "<|end|>\n";
    } else if (t != OCTO_CHAT_CHATML) {
        return OCTO_EINVAL;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = append_turn(out, open, msgs[i].role, mid, &msgs[i], trim, close);
    if (rc == 0 && add_assistant)
        rc = append_turn(out, open, "assistant", mid, &(struct octo_chat_message){"", "", 0}, false,
                         "");
    return rc;
}
