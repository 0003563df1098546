/*
 * test_gentest.c — generated models (infer/gentest.h): the tiny model parses with the GGUF
 * reader, has the llama tensor set with the right shapes and metadata, a tokenizer whose
 * pieces name their ids, values in the documented ranges; the same seed gives the same bytes
 * and another seed other bytes; qwen2's shape has biases and a tied output; unsupported weight
 * types are refused with a reason.
 */
#include "test.h"

#include "base/buf.h"
#include "infer/gentest.h"
#include "infer/gguf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int sink(void *ctx, const void *p, size_t n)
{
    return octo_buf_append(ctx, p, n);
}

static int generate(const char *shape, uint64_t seed, struct octo_buf *out)
{
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find(shape), .weight_type = OCTO_GGML_F32, .seed = seed};
    char why[128];
    int rc = octo_gentest_write(&p, sink, out, why, sizeof(why));
    if (rc != 0)
        printf("  gentest: %s\n", why);
    return rc;
}

static void check_u32(const struct octo_gguf *g, const char *key, uint32_t want)
{
    uint32_t v = 0;
    CHECK_OK(octo_gguf_get_u32(g, key, &v));
    CHECK_EQ_U64(v, want);
}

static void test_tiny(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 64u << 20);
    CHECK_OK(generate("tiny", 1, &b));
    struct octo_gguf g;
    octo_gguf_init(&g);
    int rc = octo_gguf_parse(&g, b.data, b.len);
    if (rc != 0)
        printf("  parse: %s\n", g.reason);
    CHECK_OK(rc);
    CHECK_EQ_U64(g.n_tensors, 1 + 2 * 9 + 2);
    check_u32(&g, "llama.embedding_length", 64);
    check_u32(&g, "llama.block_count", 2);
    check_u32(&g, "llama.attention.head_count", 4);
    check_u32(&g, "llama.attention.head_count_kv", 2);
    check_u32(&g, "llama.feed_forward_length", 192);
    check_u32(&g, "tokenizer.ggml.bos_token_id", 1);
    const char *s = NULL;
    size_t n = 0;
    CHECK_OK(octo_gguf_get_str(&g, "general.architecture", &s, &n));
    CHECK(n == 5 && memcmp(s, "llama", 5) == 0);
    const struct octo_gguf_value *tokens = NULL;
    CHECK_OK(octo_gguf_get_array(&g, "tokenizer.ggml.tokens", &tokens));
    CHECK_EQ_U64(tokens->count, 512);
    struct octo_gguf_value tok;
    CHECK_OK(octo_gguf_array_get(tokens, 300, &tok));
    CHECK_OK(octo_gguf_value_str(&tok, &s, &n));
    CHECK(n == 7 && memcmp(s, "\xe2\x96\x81t300", 7) == 0);
    CHECK_OK(octo_gguf_array_get(tokens, 3 + 0x41, &tok));
    CHECK_OK(octo_gguf_value_str(&tok, &s, &n));
    CHECK(n == 6 && memcmp(s, "<0x41>", 6) == 0);

    const struct octo_gguf_tensor *t = octo_gguf_find_tensor(&g, "blk.1.attn_k.weight");
    CHECK(t != NULL);
    CHECK(t->type == OCTO_GGML_F32 && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 32);
    const float *w = (const float *)(const void *)t->data;
    float bound = sqrtf(3.0f / 64.0f);
    for (uint64_t i = 0; i < t->n_elements; i++)
        CHECK(fabsf(w[i]) <= bound);
    t = octo_gguf_find_tensor(&g, "output_norm.weight");
    CHECK(t != NULL && t->n_dims == 1 && t->ne[0] == 64);
    w = (const float *)(const void *)t->data;
    for (uint64_t i = 0; i < t->n_elements; i++)
        CHECK(w[i] >= 0.9f && w[i] <= 1.1f);
    CHECK(octo_gguf_find_tensor(&g, "output.weight") != NULL);
    CHECK(octo_gguf_find_tensor(&g, "blk.0.attn_q.bias") == NULL);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&b);
}

static void test_deterministic(void)
{
    struct octo_buf a, b, c;
    octo_buf_init(&a, 64u << 20);
    octo_buf_init(&b, 64u << 20);
    octo_buf_init(&c, 64u << 20);
    CHECK_OK(generate("tiny", 7, &a));
    CHECK_OK(generate("tiny", 7, &b));
    CHECK_OK(generate("tiny", 8, &c));
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    CHECK(a.len == c.len && memcmp(a.data, c.data, a.len) != 0);
    octo_buf_deinit(&a);
    octo_buf_deinit(&b);
    octo_buf_deinit(&c);
}

/* The shape table (the big shapes are GBs at F32: checked from the table, not generated here)
 * and the refusal paths. */
static void test_shapes_and_refusals(void)
{
    size_t count = 0;
    const struct octo_gentest_shape *all = octo_gentest_shapes(&count);
    CHECK_EQ_INT((int)count, 6);
    for (size_t i = 0; i < count; i++) {
        CHECK(all[i].dim % all[i].heads == 0);
        CHECK(all[i].heads % all[i].kv_heads == 0);
        CHECK(all[i].dim % 32 == 0 && all[i].hidden % 32 == 0); /* quantizable rows */
        CHECK(octo_gentest_shape_find(all[i].name) == &all[i]);
    }
    CHECK(octo_gentest_shape_find("huge") == NULL);
    CHECK(strcmp(octo_gentest_shape_find("qwen05b")->arch, "qwen2") == 0);
    CHECK(strcmp(octo_gentest_shape_find("tinyqwen")->arch, "qwen2") == 0);

    struct octo_buf b;
    octo_buf_init(&b, 1u << 20);
    struct octo_gentest_params p = {.shape = NULL, .weight_type = OCTO_GGML_F32, .seed = 1};
    CHECK_ERR(octo_gentest_write(&p, sink, &b, NULL, 0), OCTO_EINVAL);
    p.shape = octo_gentest_shape_find("tiny");
    p.weight_type = 99;
    char why[128];
    CHECK(octo_gentest_write(&p, sink, &b, why, sizeof(why)) < 0);
    CHECK(why[0] != '\0');
    /* A sink that fails stops the generation with its error. */
    p.weight_type = OCTO_GGML_F32;
    struct octo_buf small;
    octo_buf_init(&small, 1000);
    CHECK_ERR(octo_gentest_write(&p, sink, &small, why, sizeof(why)), OCTO_ETOOBIG);
    octo_buf_deinit(&small);
    octo_buf_deinit(&b);
}

int main(void)
{
    OCTO_RUN(test_tiny);
    OCTO_RUN(test_deterministic);
    OCTO_RUN(test_shapes_and_refusals);
    return octo_test_finish();
}
