/*
 * chat.h — chat templates: a list of {role, content} messages rendered into the one prompt
 * string a chat model was trained on, for the families the engine supports.
 *
 *   chatml  Qwen2 / Qwen2.5 and most recent models:
 *           "<|im_start|>ROLE\nCONTENT<|im_end|>\n" ... "<|im_start|>assistant\n"
 *   llama2  Llama 2 chat as Meta's template writes it (contents stripped):
 *           "[INST] <<SYS>>\nSYSTEM\n<</SYS>>\n\nUSER [/INST]ASSISTANT</s>[INST] ..." (the
 *           first BOS comes from the tokenizer; later turns' BOS tokens are not written, as in
 *           llama.cpp's "llama2-sys-strip" rendering)
 *   llama3  "<|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>" ... with the
 *           content trimmed of surrounding whitespace, as Llama 3's template does
 *   zephyr  TinyLlama chat / Zephyr: "<|ROLE|>\nCONTENT</s>\n" ... "<|assistant|>\n"
 *   phi3    "<|ROLE|>\nCONTENT<|end|>\n" ... "<|assistant|>\n"
 *   raw     the contents joined as they are (a completion prompt, no chat markup)
 *
 * The family is told from the model's own Jinja template (GGUF tokenizer.chat_template) by the
 * markers it contains, the way llama.cpp does; a model without one gets chatml, llama.cpp's
 * default; a template of another family (Mistral's [INST] variants, Gemma, ...) is reported as
 * unknown so the caller can refuse to render it. Each family also names the text of the token that
 * ends an assistant turn ("<|im_end|>", "<|eot_id|>", ...), which the engine adds to its stop
 * tokens.
 *
 * Pure: strings in, bytes out (base/buf.h), no I/O. Roles are "system", "user" and
 * "assistant"; anything else is refused rather than rendered in a form the model never saw.
 */
#ifndef OCTO_INFER_CHAT_H
#define OCTO_INFER_CHAT_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

#define OCTO_CHAT_MESSAGES_MAX 1024u
#define OCTO_CHAT_CONTENT_MAX (1u << 24) /* bytes of one message */

enum octo_chat_template {
    OCTO_CHAT_CHATML = 0,
    OCTO_CHAT_LLAMA2,
    OCTO_CHAT_LLAMA3,
    OCTO_CHAT_ZEPHYR,
    OCTO_CHAT_PHI3,
    OCTO_CHAT_RAW,
};

struct octo_chat_message {
    const char *role;
    const char *content;
    size_t content_len;
};

/* The family of a Jinja chat template (tmpl[0..len), NULL or empty: chatml). Unknown templates
 * also give chatml and *known = false (known may be NULL). */
enum octo_chat_template octo_chat_detect(const char *tmpl, size_t len, bool *known);

/* The family called `name` ("chatml", "llama2", "llama3", "zephyr", "phi3", "raw").
 * Errors: OCTO_ENOTFOUND unknown name. */
OCTO_MUST_USE int octo_chat_template_parse(const char *name, enum octo_chat_template *out);

/* The name of a family (never NULL). */
const char *octo_chat_template_name(enum octo_chat_template t);

/* The text of the token that ends an assistant turn in family t, or NULL (raw, and llama2
 * whose end is the tokenizer's EOS). */
const char *octo_chat_end_text(enum octo_chat_template t);

/* Appends the rendering of msgs[0..n) to out, followed by the opening of the assistant's turn
 * when add_assistant is set. Errors: OCTO_EINVAL n == 0, a NULL role or content, a role other
 * than system/user/assistant, or (llama2) a system message after the first; OCTO_ETOOBIG more
 * than OCTO_CHAT_MESSAGES_MAX messages or a content over OCTO_CHAT_CONTENT_MAX; out's errors.
 * On error out may hold part of the rendering. */
OCTO_MUST_USE int octo_chat_format(enum octo_chat_template t, const struct octo_chat_message *msgs,
                                   size_t n, bool add_assistant, struct octo_buf *out);

#endif
