/*
 * test_inference.c — the built-in backend as the node runs it (exec/inference.h): a generated
 * model written to a file and read into memory; deterministic mode gives bit-identical logits
 * and the same tokens with 1, 2 and 3 pool threads; a reused session repeats a fresh one's
 * tokens (sampler reseeded); usage counts; cancel from the token callback and before a call;
 * open refuses a missing file and a non-model with a reason; the model is held in memory of its
 * own, so a file truncated after open no longer matters (a mapped file would fault the reader).
 */
#define _POSIX_C_SOURCE 200809L /* truncate */
#include "exec/inference.h"
#include "model_util.h"
#include "test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MODEL_SEED 4u

static char g_path[512];

static void setup(void)
{
    model_util_write("infer", "tiny", OCTO_GGML_Q8_0, MODEL_SEED, g_path, sizeof(g_path));
}

struct collect {
    uint32_t ids[64];
    size_t n;
    size_t stop_after; /* 0 = never */
    struct octo_infer_session *cancel_from;
};

static int collect_fn(void *ctx, uint32_t token)
{
    struct collect *c = ctx;
    if (c->n < 64)
        c->ids[c->n++] = token;
    if (c->cancel_from != NULL && c->n == c->stop_after)
        octo_infer_cancel(c->cancel_from);
    return 0;
}

static const uint32_t prompt[] = {1, 300, 301, 302, 310, 400};

/* Generates 24 tokens from the model at path with `threads` threads and temperature sampling;
 * copies the last logits. drop: truncate and unlink the file once it is open. */
static void run_file(const char *path, bool drop, uint32_t threads, struct collect *c,
                     float *logits, enum octo_quant_mode mode)
{
    struct octo_infer_model m;
    int rc = octo_infer_open(&m, path);
    if (rc != 0)
        printf("  open: %s\n", m.reason);
    CHECK_OK(rc);
    if (drop) {
        CHECK(truncate(path, 0) == 0);
        CHECK(unlink(path) == 0);
    }
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    sp.temperature = 0.9f;
    sp.top_k = 40;
    sp.seed = 77;
    struct octo_infer_session s;
    CHECK_OK(octo_infer_session_init(&s, &m, threads, 64, mode, &sp));
    struct octo_infer_stats st;
    memset(c, 0, sizeof(*c));
    CHECK_OK(octo_infer_generate(&s, prompt, 6, 24, collect_fn, c, &st));
    CHECK_EQ_U64(st.prompt_tokens, 6);
    CHECK(st.completion_tokens >= 1 && st.completion_tokens <= 24);
    memcpy(logits, s.state.logits, 512 * sizeof(float));
    /* The same call again on the reused session: the same tokens. */
    struct collect again;
    memset(&again, 0, sizeof(again));
    CHECK_OK(octo_infer_generate(&s, prompt, 6, 24, collect_fn, &again, &st));
    CHECK(again.n == c->n && memcmp(again.ids, c->ids, c->n * sizeof(uint32_t)) == 0);
    octo_infer_session_deinit(&s);
    octo_infer_close(&m);
}

static void run(uint32_t threads, struct collect *c, float *logits, enum octo_quant_mode mode)
{
    run_file(g_path, false, threads, c, logits, mode);
}

static void test_threads_identical(void)
{
    static float l1[512], l2[512], l3[512];
    struct collect c1, c2, c3;
    run(1, &c1, l1, OCTO_QUANT_DETERMINISTIC);
    run(2, &c2, l2, OCTO_QUANT_DETERMINISTIC);
    run(3, &c3, l3, OCTO_QUANT_DETERMINISTIC);
    CHECK(c1.n > 0 && c1.n == c2.n && c1.n == c3.n);
    CHECK(memcmp(c1.ids, c2.ids, c1.n * sizeof(uint32_t)) == 0);
    CHECK(memcmp(c1.ids, c3.ids, c1.n * sizeof(uint32_t)) == 0);
    CHECK(memcmp(l1, l2, sizeof(l1)) == 0);
    CHECK(memcmp(l1, l3, sizeof(l1)) == 0);
    /* Fast mode splits rows the same way: same results here too. */
    static float f1[512], f2[512];
    struct collect d1, d2;
    run(1, &d1, f1, OCTO_QUANT_FAST);
    run(2, &d2, f2, OCTO_QUANT_FAST);
    CHECK(memcmp(f1, f2, sizeof(f1)) == 0);
}

static void test_cancel(void)
{
    struct octo_infer_model m;
    CHECK_OK(octo_infer_open(&m, g_path));
    struct octo_sample_params sp;
    octo_sample_params_default(&sp);
    sp.temperature = 1.0f;
    sp.seed = 5;
    struct octo_infer_session s;
    CHECK_OK(octo_infer_session_init(&s, &m, 2, 128, OCTO_QUANT_FAST, &sp));
    struct collect c;
    memset(&c, 0, sizeof(c));
    c.stop_after = 3;
    c.cancel_from = &s;
    struct octo_infer_stats st;
    CHECK_OK(octo_infer_generate(&s, prompt, 6, 50, collect_fn, &c, &st));
    CHECK(st.cancelled || st.stopped_eos);
    CHECK(c.n <= 3);
    /* A cancel before the call stops it in the prompt; the next call runs normally. */
    octo_infer_cancel(&s);
    CHECK_OK(octo_infer_generate(&s, prompt, 6, 5, NULL, NULL, &st));
    CHECK(st.cancelled && st.completion_tokens == 0);
    CHECK_OK(octo_infer_generate(&s, prompt, 6, 5, NULL, NULL, &st));
    CHECK(!st.cancelled);
    uint32_t bad[] = {1, 9999};
    CHECK_ERR(octo_infer_generate(&s, bad, 2, 5, NULL, NULL, &st), OCTO_EINVAL);
    octo_infer_session_deinit(&s);
    octo_infer_close(&m);
}

static void test_open_refusals(void)
{
    struct octo_infer_model m;
    CHECK_ERR(octo_infer_open(&m, "/nonexistent/model.gguf"), OCTO_ENOTFOUND);
    CHECK(strstr(m.reason, "/nonexistent/model.gguf") != NULL);
    octo_infer_close(&m);
    CHECK(octo_infer_open(&m, "/proc/self/status") < 0); /* not a model */
    CHECK(m.reason[0] != '\0');
    octo_infer_close(&m);
}

/* Open a copy (the same model written again: the same bytes), truncate the copy to nothing and
 * remove it, then generate: the same tokens and logits as from the intact file. */
static void test_truncated_after_open(void)
{
    static float ref_logits[512];
    struct collect ref = {0};
    run(1, &ref, ref_logits, OCTO_QUANT_DETERMINISTIC);
    char copy[512];
    model_util_write("infer-copy", "tiny", OCTO_GGML_Q8_0, MODEL_SEED, copy, sizeof(copy));
    static float logits[512];
    struct collect c = {0};
    run_file(copy, true, 1, &c, logits, OCTO_QUANT_DETERMINISTIC);
    CHECK(c.n == ref.n && memcmp(c.ids, ref.ids, c.n * sizeof(uint32_t)) == 0);
    CHECK(memcmp(logits, ref_logits, sizeof(logits)) == 0);
}

static void teardown(void)
{
    CHECK(unlink(g_path) == 0);
}

int main(void)
{
    OCTO_RUN(setup);
    OCTO_RUN(test_threads_identical);
    OCTO_RUN(test_cancel);
    OCTO_RUN(test_open_refusals);
    OCTO_RUN(test_truncated_after_open);
    OCTO_RUN(teardown);
    return octo_test_finish();
}
