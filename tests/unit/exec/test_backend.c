/*
 * test_backend.c — the one inference interface (exec/backend.h) over the built-in engine and
 * llama.cpp, on generated models.
 *
 *  - builtin, raw prompt: the text streamed equals the pieces of the ids the lower layer
 *    (exec/inference.h) generates for the same prompt ids, and arrives in whole UTF-8
 *    characters (the generated vocabulary has all 256 byte tokens, so a random model emits
 *    split and stray bytes); usage and the finish reason ("length", "stop" at EOS);
 *  - chat: the prompt tokens are the tokenization of the template's rendering, with the BOS;
 *    a forced template and an unknown one; a model with a chatml template in its metadata;
 *  - llama (when built): the same prompt tokens as the built-in tokenizer for text with
 *    Unicode, spaces and control-token texts, and the same greedy text on an F32 model;
 *  - cancel from the text callback, refusals (no model, no prompt, an oversize prompt, bad
 *    threads, a missing file), and the kind names.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "exec/backend.h"
#include "model_util.h"
#include "test.h"

#include <math.h>
#include <string.h>

struct sink {
    struct octo_buf all;
    size_t chunks;
    bool broken;    /* a UTF-8 character was split between two chunks */
    bool last_open; /* the latest chunk ended in a lead byte without all its continuation
                       bytes (fine when the next chunk does not continue it: a stray byte) */
    size_t stop_after;
    struct octo_backend *cancel;
};

/* Whether s[0..n) ends on a character boundary (or with bytes that start nothing). */
static int on_text(void *ctx, const char *text, size_t len)
{
    struct sink *s = ctx;
    s->chunks++;
    if (s->last_open && len > 0 && ((unsigned char)text[0] & 0xc0) == 0x80)
        s->broken = true; /* a character was split between two chunks */
    s->last_open = octo_test_utf8_ends_open(text, len);
    OCTO_IGNORE(octo_buf_append(&s->all, text, len));
    if (s->cancel != NULL && s->chunks == s->stop_after)
        octo_backend_cancel(s->cancel);
    return 0;
}

static void sink_init(struct sink *s)
{
    memset(s, 0, sizeof(*s));
    octo_buf_init(&s->all, 1u << 20);
}

static struct octo_backend_config local(enum octo_backend_kind kind, const char *path)
{
    struct octo_backend_config c = {.kind = kind, .model = path, .threads = 1};
    return c;
}

static struct octo_backend *open_or_fail(const struct octo_backend_config *cfg)
{
    struct octo_backend *b = octo_calloc(1, sizeof(*b));
    OCTO_ASSERT(b != NULL);
    int rc = octo_backend_open(b, cfg);
    if (rc != 0)
        octo_test_fail_at(__FILE__, __LINE__, "open: %s", b->reason);
    return b;
}

static void close_backend(struct octo_backend *b)
{
    octo_backend_close(b);
    octo_free(b);
}

static struct octo_backend_request raw_request(const char *prompt, uint32_t max_tokens)
{
    struct octo_backend_request req = {
        .prompt = prompt, .prompt_len = strlen(prompt), .max_tokens = max_tokens};
    octo_sample_params_default(&req.sampling);
    return req;
}

/* The streamed text equals the pieces of the ids a separate lower-layer session generates. */
static void test_text_equals_pieces(void)
{
    char path[512];
    model_util_write("backend-text", "tiny", OCTO_GGML_F32, 5, path, sizeof(path));
    struct octo_backend_config cfg = local(OCTO_BACKEND_BUILTIN, path);
    struct octo_backend *b = open_or_fail(&cfg);
    struct octo_backend_request req = raw_request("hello", 200);
    struct sink s;
    sink_init(&s);
    struct octo_backend_result res;
    CHECK_OK(octo_backend_generate(b, &req, on_text, &s, &res));
    CHECK(!s.broken);
    CHECK(strcmp(res.finish_reason, res.stats.stopped_eos ? "stop" : "length") == 0);

    uint32_t ids[64];
    size_t n = 0;
    CHECK_OK(octo_backend_prompt_tokens(b, &req, ids, 64, &n));
    CHECK(n >= 2 && ids[0] == 1); /* BOS, as the vocabulary asks */
    CHECK_EQ_U64(res.stats.prompt_tokens, n);
    struct octo_infer_session sess;
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    CHECK_OK(octo_infer_session_init(&sess, &b->model, 1, 256, OCTO_QUANT_FAST, &sp));
    struct octo_infer_stats st;
    struct model_util_ids gen = {{0}, 0};
    CHECK_OK(octo_infer_generate(&sess, ids, n, 200, model_util_collect, &gen, &st));
    octo_infer_session_deinit(&sess);
    CHECK_EQ_U64(st.completion_tokens, res.stats.completion_tokens);
    struct octo_buf want;
    octo_buf_init(&want, 1u << 20);
    for (size_t i = 0; i < gen.n; i++) {
        char piece[OCTO_TOK_PIECE_MAX];
        size_t len = 0;
        CHECK_OK(octo_tok_piece(&b->tok, (int32_t)gen.v[i], false, piece, sizeof(piece), &len));
        CHECK_OK(octo_buf_append(&want, piece, len));
    }
    CHECK_EQ_U64(s.all.len, want.len);
    CHECK(s.all.len == want.len && memcmp(s.all.data, want.data, want.len) == 0);
    printf("  %zu tokens, %zu bytes of text in %zu whole-character chunks\n", gen.n, want.len,
           s.chunks);
    octo_buf_deinit(&want);
    octo_buf_deinit(&s.all);
    close_backend(b);
    unlink(path);
}

static void test_chat(void)
{
    char path[512];
    model_util_write("backend-chat", "tiny", OCTO_GGML_Q8_0, 3, path, sizeof(path));
    struct octo_backend_config cfg = local(OCTO_BACKEND_BUILTIN, path);
    struct octo_backend *b = open_or_fail(&cfg);
    CHECK_EQ_INT(b->tmpl, OCTO_CHAT_CHATML); /* no template in the file: chatml */
    const struct octo_chat_message msgs[] = {{"system", "be brief", 8}, {"user", "hi é", 5}};
    struct octo_backend_request req = {.messages = msgs, .n_messages = 2, .max_tokens = 8};
    octo_sample_params_default(&req.sampling);
    uint32_t ids[512];
    size_t n = 0;
    CHECK_OK(octo_backend_prompt_tokens(b, &req, ids, 512, &n));
    struct octo_buf text;
    octo_buf_init(&text, 4096);
    CHECK_OK(octo_chat_format(OCTO_CHAT_CHATML, msgs, 2, true, &text));
    int32_t want[512];
    size_t n_want = 0;
    CHECK_OK(octo_tok_encode(&b->tok, (const char *)text.data, text.len, true, true, want, 512,
                             &n_want));
    CHECK_EQ_U64(n, n_want);
    CHECK(n == n_want && memcmp(ids, want, n * sizeof(uint32_t)) == 0);
    struct sink s;
    sink_init(&s);
    struct octo_backend_result res;
    CHECK_OK(octo_backend_generate(b, &req, on_text, &s, &res));
    CHECK_EQ_U64(res.stats.prompt_tokens, n);
    octo_buf_deinit(&s.all);
    octo_buf_deinit(&text);
    close_backend(b);

    cfg.chat_template = "llama2";
    b = open_or_fail(&cfg);
    CHECK_EQ_INT(b->tmpl, OCTO_CHAT_LLAMA2);
    size_t n2 = 0;
    CHECK_OK(octo_backend_prompt_tokens(b, &req, ids, 512, &n2));
    CHECK(n2 != n);
    close_backend(b);
    cfg.chat_template = "jinja";
    b = octo_calloc(1, sizeof(*b));
    CHECK_ERR(octo_backend_open(b, &cfg), OCTO_ENOTFOUND);
    CHECK(strstr(b->reason, "jinja") != NULL);
    close_backend(b);
    unlink(path);
}

/* A model's own template picks the family; one octo does not render refuses chats only. */
static void test_model_template(void)
{
    char path[512];
    model_util_write_tmpl("backend-l3", "tiny", OCTO_GGML_Q8_0, 3,
                          "{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>' }}", path,
                          sizeof(path));
    struct octo_backend_config cfg = local(OCTO_BACKEND_BUILTIN, path);
    struct octo_backend *b = open_or_fail(&cfg);
    CHECK_EQ_INT(b->tmpl, OCTO_CHAT_LLAMA3);
    close_backend(b);
    unlink(path);

    model_util_write_tmpl("backend-gemma", "tiny", OCTO_GGML_Q8_0, 3,
                          "{{ '<start_of_turn>' + role + '\n' + content }}", path, sizeof(path));
    cfg = local(OCTO_BACKEND_BUILTIN, path);
    b = open_or_fail(&cfg);
    const struct octo_chat_message msg = {"user", "hi", 2};
    struct octo_backend_request chat = {.messages = &msg, .n_messages = 1, .max_tokens = 2};
    octo_sample_params_default(&chat.sampling);
    struct octo_backend_result res;
    CHECK_ERR(octo_backend_generate(b, &chat, NULL, NULL, &res), OCTO_EUNSUPPORTED);
    CHECK(strstr(b->reason, "chat template") != NULL);
    struct octo_backend_request raw = raw_request("hi", 2);
    CHECK_OK(octo_backend_generate(b, &raw, NULL, NULL, &res));
    close_backend(b);
    cfg.chat_template = "chatml"; /* forced: renders */
    b = open_or_fail(&cfg);
    CHECK_OK(octo_backend_generate(b, &chat, NULL, NULL, &res));
    close_backend(b);
    unlink(path);
}

static void test_cancel_and_refusals(void)
{
    char path[512];
    model_util_write("backend-cancel", "tiny", OCTO_GGML_Q4_0, 4, path, sizeof(path));
    struct octo_backend_config cfg = local(OCTO_BACKEND_BUILTIN, path);
    struct octo_backend *b = open_or_fail(&cfg);
    struct octo_backend_request req = raw_request(" t300 t301", 200);
    req.sampling.temperature = 0.9f;
    req.sampling.seed = 9;
    struct sink c;
    sink_init(&c);
    c.stop_after = 2;
    c.cancel = b;
    struct octo_backend_result res;
    CHECK_OK(octo_backend_generate(b, &req, on_text, &c, &res));
    /* Cancelled after the second chunk, unless the model ended before it. */
    CHECK(strcmp(res.finish_reason, "cancelled") == 0 || (res.stats.stopped_eos && c.chunks < 2));
    CHECK(res.stats.completion_tokens < 200);
    /* A cancel between requests does not reach the next one. */
    octo_backend_cancel(b);
    struct sink d;
    sink_init(&d);
    CHECK_OK(octo_backend_generate(b, &req, on_text, &d, &res));
    CHECK(strcmp(res.finish_reason, "cancelled") != 0);
    octo_buf_deinit(&d.all);
    struct octo_backend_request zero = req;
    zero.max_tokens = 0;
    CHECK_ERR(octo_backend_generate(b, &zero, NULL, NULL, &res), OCTO_EINVAL);
    struct octo_backend_request nan_temp = req;
    nan_temp.sampling.temperature = NAN;
    CHECK_ERR(octo_backend_generate(b, &nan_temp, NULL, NULL, &res), OCTO_EINVAL);
    CHECK(strstr(b->reason, "sampling") != NULL);
    octo_buf_deinit(&c.all);

    struct octo_backend_request empty = raw_request("", 4);
    CHECK_ERR(octo_backend_generate(b, &empty, NULL, NULL, &res), OCTO_EINVAL);
    CHECK(strstr(b->reason, "prompt") != NULL);
    /* A prompt longer than the context (256 positions for this model). */
    char big[2048];
    for (size_t i = 0; i + 1 < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    big[sizeof(big) - 1] = '\0';
    struct octo_backend_request over = raw_request(big, 4);
    CHECK_ERR(octo_backend_generate(b, &over, NULL, NULL, &res), OCTO_ETOOBIG);
    struct octo_chat_message tool = {"tool", "x", 1};
    struct octo_backend_request bad_role = {.messages = &tool, .n_messages = 1, .max_tokens = 2};
    octo_sample_params_default(&bad_role.sampling);
    CHECK_ERR(octo_backend_generate(b, &bad_role, NULL, NULL, &res), OCTO_EINVAL);
    close_backend(b);

    b = octo_calloc(1, sizeof(*b));
    cfg.model = NULL;
    CHECK_ERR(octo_backend_open(b, &cfg), OCTO_EINVAL);
    cfg.model = "/nonexistent.gguf";
    CHECK(octo_backend_open(b, &cfg) < 0);
    CHECK(b->reason[0] != '\0');
    cfg.model = path;
    cfg.threads = OCTO_INFER_THREADS_MAX + 1;
    CHECK_ERR(octo_backend_open(b, &cfg), OCTO_EINVAL);
    struct octo_backend_config http = {.kind = OCTO_BACKEND_HTTP, .url = "ftp://x"};
    CHECK_ERR(octo_backend_open(b, &http), OCTO_EINVAL);
    int fd = -1;
    char url[64];
    model_util_refused_url(&fd, url, sizeof(url));
    http.url = url;
    CHECK_OK(octo_backend_open(b, &http));
    uint32_t ids[4];
    size_t n = 0;
    CHECK_ERR(octo_backend_prompt_tokens(b, &req, ids, 4, &n), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_backend_generate(b, &req, NULL, NULL, &res), OCTO_ECONNREFUSED);
    CHECK(b->reason[0] != '\0');
    close_backend(b);
    close(fd);

    enum octo_backend_kind k;
    CHECK_OK(octo_backend_kind_parse("llama", &k));
    CHECK_EQ_INT(k, OCTO_BACKEND_LLAMA);
    CHECK_ERR(octo_backend_kind_parse("vllm", &k), OCTO_ENOTFOUND);
    CHECK(strcmp(octo_backend_kind_name(OCTO_BACKEND_HTTP), "http") == 0);
    unlink(path);
}

/* llama.cpp and the built-in engine: same prompt tokens, same greedy text (F32). */
static void test_llama_parity(void)
{
    if (!octo_llamacpp_available()) {
        printf("  skipped: no llama.cpp in this build\n");
        return;
    }
    char path[512];
    model_util_write("backend-parity", "tiny", OCTO_GGML_F32, 6, path, sizeof(path));
    struct octo_backend_config cb = local(OCTO_BACKEND_BUILTIN, path);
    struct octo_backend_config cl = local(OCTO_BACKEND_LLAMA, path);
    cl.llama_kv_f32 = true; /* F32 everywhere: greedy choices cannot flip on a rounding */
    struct octo_backend *ours = open_or_fail(&cb);
    struct octo_backend *theirs = open_or_fail(&cl);
    static const char *const texts[] = {
        "hello world",          "  two  spaces ", "tabs\tand\nnewlines\n\n",
        "Grüße, 世界 🙂", " t300 t301",     "<s> literal control text </s>",
        "<|im_start|>user",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct octo_backend_request req = raw_request(texts[i], 24);
        uint32_t a[512], c[512];
        size_t na = 0, nc = 0;
        CHECK_OK(octo_backend_prompt_tokens(ours, &req, a, 512, &na));
        CHECK_OK(octo_backend_prompt_tokens(theirs, &req, c, 512, &nc));
        CHECK_EQ_U64(na, nc);
        CHECK(na == nc && memcmp(a, c, na * sizeof(uint32_t)) == 0);
        struct sink sa, sc;
        sink_init(&sa);
        sink_init(&sc);
        struct octo_backend_result ra, rc;
        CHECK_OK(octo_backend_generate(ours, &req, on_text, &sa, &ra));
        CHECK_OK(octo_backend_generate(theirs, &req, on_text, &sc, &rc));
        CHECK_EQ_U64(ra.stats.completion_tokens, rc.stats.completion_tokens);
        CHECK(sa.all.len == sc.all.len && memcmp(sa.all.data, sc.all.data, sa.all.len) == 0);
        CHECK(!sa.broken && !sc.broken);
        octo_buf_deinit(&sa.all);
        octo_buf_deinit(&sc.all);
    }
    close_backend(ours);
    close_backend(theirs);
    unlink(path);
}

int main(void)
{
    OCTO_RUN(test_text_equals_pieces);
    OCTO_RUN(test_chat);
    OCTO_RUN(test_model_template);
    OCTO_RUN(test_cancel_and_refusals);
    OCTO_RUN(test_llama_parity);
    return octo_test_finish();
}
