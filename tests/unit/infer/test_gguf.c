/*
 * test_gguf.c — GGUF v3 reader and writer: round trips of every value type, nested and string
 * arrays (10^5 strings), tensors of each supported type, and one hand-built byte vector per
 * rejection rule (with its error code and a reason naming the offender), truncation at every
 * byte of a small valid file, allocation failures, and the writer's own errors.
 *
 * With OCTO_GGUF_SEED_DIR set, write_seeds() also writes the seed corpus of fuzz/fuzz_gguf.c:
 *   OCTO_GGUF_SEED_DIR=fuzz/seeds/gguf build/<dir>/tests/unit/infer/test_infer_gguf
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "infer/gguf.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX (64u << 20)

/* ---- helpers ---- */

static int sink_write(void *ctx, const void *p, size_t n)
{
    return octo_buf_append(ctx, p, n);
}

static uint8_t pattern(size_t tensor, uint64_t j)
{
    return (uint8_t)(tensor * 31u + j * 7u + 1u);
}

/* Supplies tensor i's bytes (the pattern) in pieces of at most 100 bytes. */
struct data_src {
    const struct octo_gguf_writer *w;
    int64_t delta; /* bytes more (or fewer) than the size, for the EPROTO test */
};

static int data_pattern(void *ctx, size_t i, octo_gguf_write_fn write, void *wctx)
{
    const struct data_src *src = ctx;
    uint64_t size = (uint64_t)((int64_t)src->w->tensors[i].size + src->delta);
    uint8_t piece[100];
    for (uint64_t j = 0; j < size;) {
        size_t k = size - j < sizeof(piece) ? (size_t)(size - j) : sizeof(piece);
        for (size_t m = 0; m < k; m++)
            piece[m] = pattern(i, j + m);
        int rc = write(wctx, piece, k);
        if (rc < 0)
            return rc;
        j += k;
    }
    return 0;
}

static int emit(struct octo_gguf_writer *w, struct octo_buf *out)
{
    struct data_src src = {.w = w, .delta = 0};
    octo_buf_init(out, FILE_MAX);
    return octo_gguf_writer_emit(w, sink_write, out, data_pattern, &src);
}

static bool has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* A small valid file: a few KVs and three tensors, the last one 32 bytes (no trailing
 * padding, so every proper prefix is invalid). */
static int build_small(struct octo_buf *out)
{
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    const uint64_t ne_q[2] = {32, 2};
    const uint64_t ne_f[1] = {8};
    const char *toks[3] = {"<s>", "</s>", "hi"};
    int rc = octo_gguf_writer_add_str(&w, "general.architecture", "llama", 5);
    if (rc == 0)
        rc = octo_gguf_writer_add_u32(&w, "llama.block_count", 1);
    if (rc == 0)
        rc = octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.tokens", toks, NULL, 3);
    if (rc == 0)
        rc = octo_gguf_writer_add_tensor(&w, "blk.0.attn_q.weight", OCTO_GGML_Q8_0, 2, ne_q);
    if (rc >= 0)
        rc = octo_gguf_writer_add_tensor(&w, "blk.0.attn_k.weight", OCTO_GGML_Q4_0, 2, ne_q);
    if (rc >= 0)
        rc = octo_gguf_writer_add_tensor(&w, "output_norm.weight", OCTO_GGML_F32, 1, ne_f);
    if (rc >= 0)
        rc = emit(&w, out);
    octo_gguf_writer_deinit(&w);
    return rc;
}

/* Hand builder of raw bytes. */
static void hb_u32(struct octo_buf *b, uint32_t v)
{
    uint8_t t[4];
    for (int i = 0; i < 4; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    OCTO_ASSERT(octo_buf_append(b, t, 4) == 0);
}

static void hb_u64(struct octo_buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    OCTO_ASSERT(octo_buf_append(b, t, 8) == 0);
}

static void hb_str(struct octo_buf *b, const char *s)
{
    hb_u64(b, strlen(s));
    OCTO_ASSERT(octo_buf_append(b, s, strlen(s)) == 0);
}

static void hb_head(struct octo_buf *b, uint32_t version, uint64_t nt, uint64_t nkv)
{
    octo_buf_init(b, FILE_MAX);
    hb_u32(b, OCTO_GGUF_MAGIC);
    hb_u32(b, version);
    hb_u64(b, nt);
    hb_u64(b, nkv);
}

static void hb_kv_u32(struct octo_buf *b, const char *key, uint32_t v)
{
    hb_str(b, key);
    hb_u32(b, OCTO_GGUF_U32);
    hb_u32(b, v);
}

static void hb_tensor(struct octo_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne,
                      uint32_t type, uint64_t offset)
{
    hb_str(b, name);
    hb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++)
        hb_u64(b, ne[d]);
    hb_u32(b, type);
    hb_u64(b, offset);
}

/* Pads to `align` and appends `size` data bytes. */
static void hb_data(struct octo_buf *b, size_t align, size_t size)
{
    while (b->len % align != 0)
        OCTO_ASSERT(octo_buf_append_byte(b, 0) == 0);
    for (size_t i = 0; i < size; i++)
        OCTO_ASSERT(octo_buf_append_byte(b, (uint8_t)i) == 0);
}

/* Parses b; checks the error and that the reason contains `needle`. Frees b. */
static int parse_expect(struct octo_buf *b, int want, const char *needle)
{
    struct octo_gguf g;
    octo_gguf_init(&g);
    int rc = octo_gguf_parse(&g, b->data, b->len);
    int ok = rc == want && has(g.reason, needle);
    if (!ok)
        fprintf(stderr, "  got %d want %d, reason \"%s\" (want \"%s\")\n", rc, want, g.reason,
                needle);
    octo_gguf_deinit(&g);
    octo_buf_deinit(b);
    return ok;
}

/* A file with one tensor (name, dims, type, offset) and data_len bytes of data: parse must
 * fail as parse_expect checks. */
static int one_tensor(struct octo_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne,
                      uint32_t type, uint64_t offset, size_t data_len, int want, const char *needle)
{
    hb_head(b, 3, 1, 0);
    hb_tensor(b, name, n_dims, ne, type, offset);
    hb_data(b, 32, data_len);
    return parse_expect(b, want, needle);
}

/* ---- round trips ---- */

static void test_type_sizes(void)
{
    uint64_t be, bb;
    CHECK(octo_ggml_type_size(OCTO_GGML_F32, &be, &bb) && be == 1 && bb == 4);
    CHECK(octo_ggml_type_size(OCTO_GGML_F16, &be, &bb) && be == 1 && bb == 2);
    CHECK(octo_ggml_type_size(OCTO_GGML_Q4_0, &be, &bb) && be == 32 && bb == 18);
    CHECK(octo_ggml_type_size(OCTO_GGML_Q8_0, &be, &bb) && be == 32 && bb == 34);
    CHECK(octo_ggml_type_size(OCTO_GGML_BF16, &be, &bb) && be == 1 && bb == 2);
    CHECK(octo_ggml_type_size(OCTO_GGML_Q6_K, &be, &bb) && be == 256 && bb == 210);
    CHECK(!octo_ggml_type_size(4, &be, &bb));
    CHECK(!octo_ggml_type_size(99, &be, &bb));
    CHECK_STR(octo_ggml_type_name(OCTO_GGML_Q8_0), "Q8_0");
    CHECK_STR(octo_ggml_type_name(5), "?");
}

static void test_roundtrip_scalars(void)
{
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    CHECK_OK(octo_gguf_writer_add_u8(&w, "a.u8", 200));
    CHECK_OK(octo_gguf_writer_add_i8(&w, "a.i8", -100));
    CHECK_OK(octo_gguf_writer_add_u16(&w, "a.u16", 60000));
    CHECK_OK(octo_gguf_writer_add_i16(&w, "a.i16", -30000));
    CHECK_OK(octo_gguf_writer_add_u32(&w, "a.u32", 4000000000u));
    CHECK_OK(octo_gguf_writer_add_i32(&w, "a.i32", -2000000000));
    CHECK_OK(octo_gguf_writer_add_f32(&w, "a.f32", 1.5f));
    CHECK_OK(octo_gguf_writer_add_bool(&w, "a.bool", true));
    CHECK_OK(octo_gguf_writer_add_str(&w, "a.str", "h\0llo", 5));
    CHECK_OK(octo_gguf_writer_add_u64(&w, "a.u64", UINT64_MAX));
    CHECK_OK(octo_gguf_writer_add_i64(&w, "a.i64", INT64_MIN));
    CHECK_OK(octo_gguf_writer_add_f64(&w, "a.f64", -2.25));
    CHECK_OK(octo_gguf_writer_add_str(&w, "a.empty", "", 0));
    struct octo_buf out;
    CHECK_OK(emit(&w, &out));
    octo_gguf_writer_deinit(&w);
    /* Header bytes: magic, version 3, 0 tensors, 13 KVs. */
    CHECK_HEX(out.data, 24,
              "4747554603000000"
              "0000000000000000"
              "0d00000000000000");

    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, out.data, out.len));
    CHECK_EQ_U64(g.n_kv, 13);
    CHECK_EQ_U64(g.n_tensors, 0);
    CHECK_EQ_INT(g.version, 3);
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    float f;
    bool b;
    const char *s;
    size_t n;
    CHECK_OK(octo_gguf_get_u32(&g, "a.u8", &u32));
    CHECK_EQ_INT(u32, 200);
    CHECK_OK(octo_gguf_get_i32(&g, "a.i8", &i32));
    CHECK_EQ_INT(i32, -100);
    CHECK_ERR(octo_gguf_get_u32(&g, "a.i8", &u32), OCTO_ERANGE);
    CHECK_OK(octo_gguf_get_u32(&g, "a.u16", &u32));
    CHECK_EQ_INT(u32, 60000);
    CHECK_OK(octo_gguf_get_i32(&g, "a.i16", &i32));
    CHECK_EQ_INT(i32, -30000);
    CHECK_OK(octo_gguf_get_u32(&g, "a.u32", &u32));
    CHECK_EQ_U64(u32, 4000000000u);
    CHECK_ERR(octo_gguf_get_i32(&g, "a.u32", &i32), OCTO_ERANGE);
    CHECK_OK(octo_gguf_get_i32(&g, "a.i32", &i32));
    CHECK_EQ_INT(i32, -2000000000);
    CHECK_OK(octo_gguf_get_f32(&g, "a.f32", &f));
    CHECK(f == 1.5f);
    CHECK_ERR(octo_gguf_get_f32(&g, "a.f64", &f), OCTO_EINVAL);
    CHECK_OK(octo_gguf_get_bool(&g, "a.bool", &b));
    CHECK(b);
    CHECK_ERR(octo_gguf_get_bool(&g, "a.u8", &b), OCTO_EINVAL);
    CHECK_OK(octo_gguf_get_str(&g, "a.str", &s, &n));
    CHECK_EQ_U64(n, 5);
    CHECK_MEM(s, "h\0llo", 5);
    CHECK_OK(octo_gguf_get_str(&g, "a.empty", &s, &n));
    CHECK_EQ_U64(n, 0);
    CHECK_ERR(octo_gguf_get_str(&g, "a.u8", &s, &n), OCTO_EINVAL);
    CHECK_OK(octo_gguf_get_u64(&g, "a.u64", &u64));
    CHECK_EQ_U64(u64, UINT64_MAX);
    CHECK_ERR(octo_gguf_get_u32(&g, "a.u64", &u32), OCTO_ERANGE);
    const struct octo_gguf_kv *kv = octo_gguf_find(&g, "a.i64");
    CHECK(kv != NULL);
    int64_t i64;
    CHECK_OK(octo_gguf_value_i64(&kv->value, &i64));
    CHECK(i64 == INT64_MIN);
    CHECK_ERR(octo_gguf_value_u64(&kv->value, &u64), OCTO_ERANGE);
    CHECK_ERR(octo_gguf_get_i32(&g, "a.i64", &i32), OCTO_ERANGE);
    kv = octo_gguf_find(&g, "a.u64");
    CHECK_ERR(octo_gguf_value_i64(&kv->value, &i64), OCTO_ERANGE);
    double d;
    kv = octo_gguf_find(&g, "a.f64");
    CHECK_OK(octo_gguf_value_f64(&kv->value, &d));
    CHECK(d == -2.25);
    kv = octo_gguf_find(&g, "a.f32");
    CHECK_OK(octo_gguf_value_f64(&kv->value, &d));
    CHECK(d == 1.5);
    CHECK_ERR(octo_gguf_value_u64(&kv->value, &u64), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_get_u32(&g, "missing", &u32), OCTO_ENOTFOUND);
    CHECK_ERR(octo_gguf_get_u64(&g, "a.u6", &u64), OCTO_ENOTFOUND);
    CHECK_ERR(octo_gguf_get_u64(&g, "a.u640", &u64), OCTO_ENOTFOUND);
    CHECK(octo_gguf_find_tensor(&g, "x") == NULL);
    const struct octo_gguf_value *arr;
    CHECK_ERR(octo_gguf_get_array(&g, "a.u8", &arr), OCTO_EINVAL);
    struct octo_gguf_value el;
    CHECK_ERR(octo_gguf_array_get(&kv->value, 0, &el), OCTO_EINVAL);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&out);
}

static void test_roundtrip_arrays(void)
{
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    const uint8_t u8s[3] = {1, 2, 255};
    const int16_t i16s[2] = {-1, 7};
    const float f32s[3] = {0.5f, -1.0f, 3.0f};
    const uint8_t bools[2] = {1, 0};
    const int64_t i64s[2] = {INT64_MAX, -5};
    const double f64s[1] = {6.5};
    CHECK_OK(octo_gguf_writer_add_array(&w, "arr.u8", OCTO_GGUF_U8, u8s, 3));
    CHECK_OK(octo_gguf_writer_add_array(&w, "arr.i16", OCTO_GGUF_I16, i16s, 2));
    CHECK_OK(octo_gguf_writer_add_array(&w, "arr.f32", OCTO_GGUF_F32, f32s, 3));
    CHECK_OK(octo_gguf_writer_add_array(&w, "arr.bool", OCTO_GGUF_BOOL, bools, 2));
    CHECK_OK(octo_gguf_writer_add_array(&w, "arr.i64", OCTO_GGUF_I64, i64s, 2));
    CHECK_OK(octo_gguf_writer_add_array(&w, "arr.f64", OCTO_GGUF_F64, f64s, 1));
    CHECK_OK(octo_gguf_writer_add_array(&w, "arr.empty", OCTO_GGUF_U32, NULL, 0));
    const char *strs[3] = {"a", "", "xyz"};
    const size_t lens[3] = {1, 0, 3};
    CHECK_OK(octo_gguf_writer_add_str_array(&w, "arr.str", strs, lens, 3));
    /* Nested: [[1u32, 2u32], ["p", "q"], []] plus a bare u16 and a string value. */
    struct octo_buf e;
    octo_buf_init(&e, 4096);
    uint32_t one = 1, two = 2;
    CHECK_OK(octo_gguf_encode_array_head(&e, OCTO_GGUF_ARRAY, 3));
    CHECK_OK(octo_gguf_encode_array_head(&e, OCTO_GGUF_U32, 2));
    CHECK_OK(octo_gguf_encode_scalar(&e, OCTO_GGUF_U32, &one));
    CHECK_OK(octo_gguf_encode_scalar(&e, OCTO_GGUF_U32, &two));
    CHECK_OK(octo_gguf_encode_array_head(&e, OCTO_GGUF_STRING, 2));
    CHECK_OK(octo_gguf_encode_str(&e, "p", 1));
    CHECK_OK(octo_gguf_encode_str(&e, "q", 1));
    CHECK_OK(octo_gguf_encode_array_head(&e, OCTO_GGUF_I8, 0));
    CHECK_OK(octo_gguf_writer_add_value(&w, "arr.nested", OCTO_GGUF_ARRAY, e.data, e.len));
    octo_buf_reset(&e);
    uint16_t u16 = 9;
    CHECK_OK(octo_gguf_encode_scalar(&e, OCTO_GGUF_U16, &u16));
    CHECK_OK(octo_gguf_writer_add_value(&w, "raw.u16", OCTO_GGUF_U16, e.data, e.len));
    octo_buf_deinit(&e);
    struct octo_buf out;
    CHECK_OK(emit(&w, &out));
    octo_gguf_writer_deinit(&w);

    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, out.data, out.len));
    const struct octo_gguf_value *arr;
    struct octo_gguf_value el, el2;
    uint64_t u64;
    int64_t i64;
    float f;
    double d;
    bool b;
    const char *s;
    size_t n;
    CHECK_OK(octo_gguf_get_array(&g, "arr.u8", &arr));
    CHECK_EQ_INT(arr->elem_type, OCTO_GGUF_U8);
    CHECK_EQ_U64(arr->count, 3);
    CHECK_OK(octo_gguf_array_get(arr, 2, &el));
    CHECK_OK(octo_gguf_value_u64(&el, &u64));
    CHECK_EQ_U64(u64, 255);
    CHECK_ERR(octo_gguf_array_get(arr, 3, &el), OCTO_ERANGE);
    CHECK_OK(octo_gguf_get_array(&g, "arr.i16", &arr));
    CHECK_OK(octo_gguf_array_get(arr, 0, &el));
    CHECK_OK(octo_gguf_value_i64(&el, &i64));
    CHECK_EQ_INT(i64, -1);
    CHECK_OK(octo_gguf_get_array(&g, "arr.f32", &arr));
    CHECK_OK(octo_gguf_array_get(arr, 1, &el));
    CHECK_OK(octo_gguf_value_f32(&el, &f));
    CHECK(f == -1.0f);
    CHECK_OK(octo_gguf_get_array(&g, "arr.bool", &arr));
    CHECK_OK(octo_gguf_array_get(arr, 1, &el));
    CHECK_OK(octo_gguf_value_bool(&el, &b));
    CHECK(!b);
    CHECK_OK(octo_gguf_get_array(&g, "arr.i64", &arr));
    CHECK_OK(octo_gguf_array_get(arr, 0, &el));
    CHECK_OK(octo_gguf_value_i64(&el, &i64));
    CHECK(i64 == INT64_MAX);
    CHECK_OK(octo_gguf_get_array(&g, "arr.f64", &arr));
    CHECK_OK(octo_gguf_array_get(arr, 0, &el));
    CHECK_OK(octo_gguf_value_f64(&el, &d));
    CHECK(d == 6.5);
    CHECK_OK(octo_gguf_get_array(&g, "arr.empty", &arr));
    CHECK_EQ_U64(arr->count, 0);
    CHECK_ERR(octo_gguf_array_get(arr, 0, &el), OCTO_ERANGE);
    CHECK_OK(octo_gguf_get_array(&g, "arr.str", &arr));
    CHECK_EQ_INT(arr->elem_type, OCTO_GGUF_STRING);
    CHECK_OK(octo_gguf_array_get(arr, 2, &el));
    CHECK_OK(octo_gguf_value_str(&el, &s, &n));
    CHECK_EQ_U64(n, 3);
    CHECK_MEM(s, "xyz", 3);
    CHECK_OK(octo_gguf_array_get(arr, 1, &el));
    CHECK_OK(octo_gguf_value_str(&el, &s, &n));
    CHECK_EQ_U64(n, 0);
    CHECK_OK(octo_gguf_get_array(&g, "arr.nested", &arr));
    CHECK_EQ_INT(arr->elem_type, OCTO_GGUF_ARRAY);
    CHECK_EQ_U64(arr->count, 3);
    CHECK_OK(octo_gguf_array_get(arr, 0, &el));
    CHECK_EQ_INT(el.elem_type, OCTO_GGUF_U32);
    CHECK_OK(octo_gguf_array_get(&el, 1, &el2));
    CHECK_OK(octo_gguf_value_u64(&el2, &u64));
    CHECK_EQ_U64(u64, 2);
    CHECK_OK(octo_gguf_array_get(arr, 1, &el));
    CHECK_OK(octo_gguf_array_get(&el, 1, &el2));
    CHECK_OK(octo_gguf_value_str(&el2, &s, &n));
    CHECK(n == 1 && s[0] == 'q');
    CHECK_OK(octo_gguf_array_get(arr, 2, &el));
    CHECK_EQ_INT(el.elem_type, OCTO_GGUF_I8);
    CHECK_EQ_U64(el.count, 0);
    uint32_t u32;
    CHECK_OK(octo_gguf_get_u32(&g, "raw.u16", &u32));
    CHECK_EQ_INT(u32, 9);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&out);
}

static void test_string_array_large(void)
{
    enum { N = 100000 };
    char(*bufs)[16] = octo_malloc(N * sizeof(*bufs));
    const char **strs = octo_malloc(N * sizeof(*strs));
    CHECK(bufs != NULL && strs != NULL);
    for (int i = 0; i < N; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "tok%d", i);
        strs[i] = bufs[i];
    }
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    CHECK_OK(octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.tokens", strs, NULL, N));
    struct octo_buf out;
    CHECK_OK(emit(&w, &out));
    octo_gguf_writer_deinit(&w);
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, out.data, out.len));
    const struct octo_gguf_value *arr;
    CHECK_OK(octo_gguf_get_array(&g, "tokenizer.ggml.tokens", &arr));
    CHECK_EQ_U64(arr->count, N);
    /* Random-order access: O(1) each, so 10^6 lookups are instant. */
    uint64_t x = 12345;
    for (int k = 0; k < 1000000; k++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        uint64_t i = (x >> 33) % N;
        struct octo_gguf_value el;
        const char *s;
        size_t n;
        CHECK_OK(octo_gguf_array_get(arr, i, &el));
        CHECK_OK(octo_gguf_value_str(&el, &s, &n));
        if (n != strlen(strs[i]) || memcmp(s, strs[i], n) != 0) {
            CHECK(0);
        }
    }
    octo_gguf_deinit(&g);
    octo_buf_deinit(&out);
    octo_free(bufs);
    octo_free(strs);
}

static void test_tensors_each_type(void)
{
    static const struct {
        uint32_t type;
        uint32_t n_dims;
        uint64_t ne[4];
        uint64_t size;
    } cases[] = {
        {OCTO_GGML_F32, 2, {3, 5}, 60},
        {OCTO_GGML_F16, 1, {7}, 14},
        {OCTO_GGML_Q4_0, 2, {64, 3}, 2 * 3 * 18},
        {OCTO_GGML_Q8_0, 3, {32, 2, 2}, 4 * 34},
        {OCTO_GGML_BF16, 4, {2, 2, 2, 2}, 32},
        {OCTO_GGML_Q4_K, 1, {256}, 144},
        {OCTO_GGML_I32, 1, {1}, 4},
    };
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    CHECK_OK(octo_gguf_writer_add_u32(&w, "general.alignment", 64));
    char name[32];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(cases); i++) {
        snprintf(name, sizeof(name), "t.%zu", i);
        CHECK_EQ_INT(
            octo_gguf_writer_add_tensor(&w, name, cases[i].type, cases[i].n_dims, cases[i].ne),
            (int)i);
        CHECK_EQ_U64(w.tensors[i].size, cases[i].size);
    }
    struct octo_buf out;
    CHECK_OK(emit(&w, &out));
    octo_gguf_writer_deinit(&w);
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, out.data, out.len));
    CHECK_EQ_U64(g.alignment, 64);
    CHECK_EQ_U64(g.data_offset % 64, 0);
    CHECK_EQ_U64(g.n_tensors, OCTO_ARRAY_LEN(cases));
    for (size_t i = 0; i < OCTO_ARRAY_LEN(cases); i++) {
        snprintf(name, sizeof(name), "t.%zu", i);
        const struct octo_gguf_tensor *t = octo_gguf_find_tensor(&g, name);
        CHECK(t != NULL);
        CHECK(t == &g.tensors[i]);
        CHECK_EQ_INT(t->type, cases[i].type);
        CHECK_EQ_INT(t->n_dims, cases[i].n_dims);
        uint64_t nel = 1;
        for (uint32_t d = 0; d < 4; d++) {
            uint64_t want = d < cases[i].n_dims ? cases[i].ne[d] : 1;
            CHECK_EQ_U64(t->ne[d], want);
            nel *= want;
        }
        CHECK_EQ_U64(t->n_elements, nel);
        CHECK_EQ_U64(t->size, cases[i].size);
        CHECK_EQ_U64(t->offset % 64, 0);
        CHECK_EQ_U64((size_t)(t->data - out.data), g.data_offset + t->offset);
        for (uint64_t j = 0; j < t->size; j++)
            CHECK_EQ_INT(t->data[j], pattern(i, j));
    }
    octo_gguf_deinit(&g);
    octo_buf_deinit(&out);
}

static void test_small_file_and_truncation(void)
{
    struct octo_buf out;
    CHECK_OK(build_small(&out));
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, out.data, out.len));
    const struct octo_gguf_tensor *t = octo_gguf_find_tensor(&g, "output_norm.weight");
    CHECK(t != NULL);
    CHECK_EQ_U64(t->size, 32);
    CHECK_EQ_U64(g.data_offset + t->offset + t->size, out.len);
    octo_gguf_deinit(&g);
    for (size_t len = 0; len < out.len; len++) {
        octo_gguf_init(&g);
        int rc = octo_gguf_parse(&g, out.data, len);
        if (rc != OCTO_EMALFORMED || g.reason[0] == '\0') {
            fprintf(stderr, "  prefix %zu: rc %d reason \"%s\"\n", len, rc, g.reason);
            octo_gguf_deinit(&g);
            octo_buf_deinit(&out);
            CHECK(0);
        }
        octo_gguf_deinit(&g);
    }
    octo_buf_deinit(&out);
}

static void test_no_tensors_no_padding(void)
{
    struct octo_buf b;
    hb_head(&b, 3, 0, 1);
    hb_kv_u32(&b, "k", 7); /* ends at 24 + 9 + 4 + 4 = 41: no padding follows */
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, b.data, b.len));
    CHECK_EQ_U64(g.data_size, 0);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&b);
}

static void test_alloc_failures(void)
{
    struct octo_buf out;
    CHECK_OK(build_small(&out));
    for (uint64_t k = 1; k < 64; k++) {
        struct octo_gguf g;
        octo_gguf_init(&g);
        octo_alloc_fail_after(k, 1);
        int rc = octo_gguf_parse(&g, out.data, out.len);
        octo_alloc_fail_after(0, 0);
        octo_gguf_deinit(&g);
        if (rc == 0)
            break;
        CHECK_ERR(rc, OCTO_ENOMEM);
    }
    octo_buf_deinit(&out);
}

/* ---- rejections ---- */

static void test_bad_magic_and_version(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 64);
    CHECK_OK(octo_buf_append(&b, "GGUG\x03\0\0\0", 8));
    hb_u64(&b, 0);
    hb_u64(&b, 0);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "bad magic"));
    hb_head(&b, 2, 0, 0);
    CHECK(parse_expect(&b, OCTO_EUNSUPPORTED, "version 2"));
    hb_head(&b, 1, 0, 0);
    CHECK(parse_expect(&b, OCTO_EUNSUPPORTED, "version 1"));
    hb_head(&b, 4, 0, 0);
    CHECK(parse_expect(&b, OCTO_EUNSUPPORTED, "version 4"));
    hb_head(&b, 3, 0, 0);
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, b.data, b.len));
    octo_gguf_deinit(&g);
    octo_buf_deinit(&b);
}

static void test_counts_larger_than_file(void)
{
    struct octo_buf b;
    hb_head(&b, 3, 0, 2);
    hb_kv_u32(&b, "k", 1);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "metadata count 2 larger than the file"));
    hb_head(&b, 3, 3, 0);
    hb_data(&b, 1, 64);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "tensor count 3 larger than the file"));
    hb_head(&b, 3, OCTO_GGUF_TENSORS_MAX + 1u, 0);
    CHECK(parse_expect(&b, OCTO_ETOOBIG, "tensor count"));
    hb_head(&b, 3, 0, UINT64_MAX);
    CHECK(parse_expect(&b, OCTO_ETOOBIG, "metadata count"));
    /* An array count larger than the bytes present. */
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "big.array");
    hb_u32(&b, OCTO_GGUF_ARRAY);
    hb_u32(&b, OCTO_GGUF_U32);
    hb_u64(&b, 1000000);
    hb_u32(&b, 0);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'big.array': array count 1000000"));
    /* A string array whose count fits 8-byte elements only in part. */
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "big.strs");
    hb_u32(&b, OCTO_GGUF_ARRAY);
    hb_u32(&b, OCTO_GGUF_STRING);
    hb_u64(&b, 3);
    hb_u64(&b, 0);
    hb_u64(&b, 0);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'big.strs'"));
    /* A string length past the end, and over the limit. */
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "s.past");
    hb_u32(&b, OCTO_GGUF_STRING);
    hb_u64(&b, 100);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'s.past': string of 100 bytes past the end"));
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "s.huge");
    hb_u32(&b, OCTO_GGUF_STRING);
    hb_u64(&b, UINT64_MAX);
    CHECK(parse_expect(&b, OCTO_ETOOBIG, "'s.huge'"));
}

static void test_keys(void)
{
    struct octo_buf b;
    hb_head(&b, 3, 0, 1);
    hb_u64(&b, 65536);
    hb_data(&b, 1, 100);
    CHECK(parse_expect(&b, OCTO_ETOOBIG, "key of 65536 bytes over the limit"));
    hb_head(&b, 3, 0, 1);
    hb_u64(&b, 0);
    hb_u32(&b, OCTO_GGUF_U8);
    hb_data(&b, 1, 1);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "is empty"));
    hb_head(&b, 3, 0, 3);
    hb_kv_u32(&b, "general.x", 1);
    hb_kv_u32(&b, "general.dup", 2);
    hb_kv_u32(&b, "general.dup", 3);
    CHECK(parse_expect(&b, OCTO_EEXIST, "duplicate key 'general.dup'"));
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "bad.type");
    hb_u32(&b, 13);
    hb_u32(&b, 0);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'bad.type': unknown value type 13"));
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "bad.elem");
    hb_u32(&b, OCTO_GGUF_ARRAY);
    hb_u32(&b, 77);
    hb_u64(&b, 0);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'bad.elem': unknown array element type 77"));
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "bad.bool");
    hb_u32(&b, OCTO_GGUF_BOOL);
    CHECK_OK(octo_buf_append_byte(&b, 2));
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'bad.bool'"));
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "bad.bools");
    hb_u32(&b, OCTO_GGUF_ARRAY);
    hb_u32(&b, OCTO_GGUF_BOOL);
    hb_u64(&b, 2);
    CHECK_OK(octo_buf_append(&b, "\x01\x05", 2));
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'bad.bools': bool element 1"));
    /* Nesting: depth 4 is the limit; a fifth level is refused. */
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "deep");
    hb_u32(&b, OCTO_GGUF_ARRAY);
    for (int i = 0; i < 4; i++) {
        hb_u32(&b, OCTO_GGUF_ARRAY);
        hb_u64(&b, 1);
    }
    hb_u32(&b, OCTO_GGUF_U8);
    hb_u64(&b, 0);
    CHECK(parse_expect(&b, OCTO_ETOOBIG, "'deep': arrays nested deeper than 4"));
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "deep");
    hb_u32(&b, OCTO_GGUF_ARRAY);
    for (int i = 0; i < 3; i++) {
        hb_u32(&b, OCTO_GGUF_ARRAY);
        hb_u64(&b, 1);
    }
    hb_u32(&b, OCTO_GGUF_U8);
    hb_u64(&b, 0);
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, b.data, b.len));
    octo_gguf_deinit(&g);
    octo_buf_deinit(&b);
}

static void test_alignment_values(void)
{
    static const uint32_t bad[] = {0, 12, 4, 131072};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        struct octo_buf b;
        hb_head(&b, 3, 0, 1);
        hb_kv_u32(&b, "general.alignment", bad[i]);
        CHECK(parse_expect(&b, OCTO_EMALFORMED, "'general.alignment'"));
    }
    struct octo_buf b;
    hb_head(&b, 3, 0, 1);
    hb_str(&b, "general.alignment");
    hb_u32(&b, OCTO_GGUF_U64);
    hb_u64(&b, 32);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "'general.alignment': type 10"));
    /* 8 is accepted and used for offsets. */
    const uint64_t ne[1] = {2};
    hb_head(&b, 3, 2, 1);
    hb_kv_u32(&b, "general.alignment", 8);
    hb_tensor(&b, "a", 1, ne, OCTO_GGML_F32, 0);
    hb_tensor(&b, "b", 1, ne, OCTO_GGML_F32, 8);
    hb_data(&b, 8, 16);
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, b.data, b.len));
    CHECK_EQ_U64(g.alignment, 8);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&b);
}

static void test_tensor_rejections(void)
{
    struct octo_buf b;
    const uint64_t ne4[1] = {4};
    const uint64_t ne5[5] = {1, 1, 1, 1, 1};
    const uint64_t big[2] = {UINT64_C(1) << 40, UINT64_C(1) << 40};
    const uint64_t neg[1] = {UINT64_C(1) << 63};
    const uint64_t ne33[2] = {33, 1};

    hb_head(&b, 3, 2, 0);
    hb_tensor(&b, "blk.0.dup", 1, ne4, OCTO_GGML_F32, 0);
    hb_tensor(&b, "blk.0.dup", 1, ne4, OCTO_GGML_F32, 32);
    hb_data(&b, 32, 48);
    CHECK(parse_expect(&b, OCTO_EEXIST, "duplicate tensor name 'blk.0.dup'"));

    CHECK(one_tensor(&b, "zero.dims", 0, ne4, OCTO_GGML_F32, 0, 64, OCTO_EMALFORMED,
                     "tensor 'zero.dims': n_dims 0 outside 1..4"));

    CHECK(one_tensor(&b, "five.dims", 5, ne5, OCTO_GGML_F32, 0, 64, OCTO_EMALFORMED,
                     "tensor 'five.dims': n_dims 5 outside 1..4"));

    CHECK(one_tensor(&b, "huge", 2, big, OCTO_GGML_F32, 0, 64, OCTO_ERANGE,
                     "tensor 'huge': element count overflows"));

    CHECK(one_tensor(&b, "neg", 1, neg, OCTO_GGML_F32, 0, 64, OCTO_ERANGE, "tensor 'neg'"));

    CHECK(one_tensor(&b, "mis", 1, ne4, OCTO_GGML_F32, 16, 64, OCTO_EMALFORMED,
                     "tensor 'mis': offset 16 not aligned to 32"));

    CHECK(one_tensor(&b, "past", 1, ne4, OCTO_GGML_F32, 32, 40, OCTO_EMALFORMED,
                     "tensor 'past': offset 32 + size 16 past"));

    CHECK(one_tensor(&b, "past.end", 1, ne4, OCTO_GGML_F32, 0, 15, OCTO_EMALFORMED,
                     "tensor 'past.end'"));

    CHECK(one_tensor(&b, "far", 1, ne4, OCTO_GGML_F32, UINT64_MAX - 31, 16, OCTO_EMALFORMED,
                     "tensor 'far'"));

    const uint64_t ne16[1] = {16};
    hb_head(&b, 3, 3, 0);
    hb_tensor(&b, "first", 1, ne4, OCTO_GGML_F32, 0);
    hb_tensor(&b, "second", 1, ne16, OCTO_GGML_F32, 32); /* 64 bytes: 32..96 */
    hb_tensor(&b, "third", 1, ne4, OCTO_GGML_F32, 64);
    hb_data(&b, 32, 128);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "tensor 'third' overlaps tensor 'second'"));

    /* An empty tensor between two that overlap does not hide the overlap (found by fuzz_gguf):
     * sorted by offset they are wide, empty, late, after, and late lies inside wide. */
    const uint64_t ne0[1] = {0}, ne32[1] = {32};
    hb_head(&b, 3, 4, 0);
    hb_tensor(&b, "wide", 1, ne32, OCTO_GGML_F32, 0); /* 0..128 */
    hb_tensor(&b, "empty", 1, ne0, OCTO_GGML_F32, 32);
    hb_tensor(&b, "late", 1, ne4, OCTO_GGML_F32, 64); /* 64..80 */
    hb_tensor(&b, "after", 1, ne4, OCTO_GGML_F32, 128);
    hb_data(&b, 32, 160);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "tensor 'late' overlaps tensor 'wide'"));

    CHECK(one_tensor(&b, "odd.type", 1, ne4, 4, 0, 64, OCTO_EUNSUPPORTED,
                     "tensor 'odd.type': unknown ggml type 4"));

    CHECK(one_tensor(&b, "q.rows", 2, ne33, OCTO_GGML_Q8_0, 0, 128, OCTO_EMALFORMED,
                     "tensor 'q.rows': row length 33 not a multiple"));

    hb_head(&b, 3, 1, 0);
    hb_u64(&b, 64);
    hb_data(&b, 1, 100);
    CHECK(parse_expect(&b, OCTO_ETOOBIG, "name of 64 bytes over the limit"));

    CHECK(one_tensor(&b, "", 1, ne4, OCTO_GGML_F32, 0, 64, OCTO_EMALFORMED, "is empty"));

    /* Infos end, data section (the padding) missing. */
    hb_head(&b, 3, 1, 0);
    hb_tensor(&b, "nodata", 1, ne4, OCTO_GGML_F32, 0);
    CHECK(parse_expect(&b, OCTO_EMALFORMED, "data section"));
}

static void test_zero_size_tensor(void)
{
    struct octo_buf b;
    const uint64_t ne0[2] = {0, 3};
    const uint64_t ne4[1] = {4};
    hb_head(&b, 3, 2, 0);
    hb_tensor(&b, "empty", 2, ne0, OCTO_GGML_F32, 0);
    hb_tensor(&b, "full", 1, ne4, OCTO_GGML_F32, 0);
    hb_data(&b, 32, 16);
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, b.data, b.len));
    CHECK_EQ_U64(octo_gguf_find_tensor(&g, "empty")->size, 0);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&b);
}

/* ---- writer errors ---- */

static int fail_write(void *ctx, const void *p, size_t n)
{
    (void)p;
    size_t *budget = ctx;
    if (n > *budget)
        return OCTO_EIO;
    *budget -= n;
    return 0;
}

static void test_writer_errors(void)
{
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    CHECK_OK(octo_gguf_writer_add_u32(&w, "k", 1));
    CHECK_ERR(octo_gguf_writer_add_u8(&w, "k", 1), OCTO_EEXIST);
    CHECK(has(w.reason, "duplicate key 'k'"));
    CHECK_ERR(octo_gguf_writer_add_str(&w, "k", "x", 1), OCTO_EEXIST);
    CHECK_ERR(octo_gguf_writer_add_u8(&w, "", 1), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_u32(&w, "general.alignment", 12), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_u32(&w, "general.alignment", 0), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_u32(&w, "general.alignment", 24), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_u32(&w, "general.alignment", 4), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_u32(&w, "general.alignment", 131072), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_str(&w, "s", "x", (size_t)OCTO_GGUF_STRING_MAX + 1),
              OCTO_ETOOBIG);
    char *longkey = octo_malloc(OCTO_GGUF_KEY_MAX + 2);
    CHECK(longkey != NULL);
    memset(longkey, 'k', OCTO_GGUF_KEY_MAX + 1);
    longkey[OCTO_GGUF_KEY_MAX + 1] = '\0';
    int rc = octo_gguf_writer_add_u8(&w, longkey, 1);
    longkey[OCTO_GGUF_KEY_MAX] = '\0';
    int rc2 = octo_gguf_writer_add_u8(&w, longkey, 1);
    octo_free(longkey);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    CHECK_OK(rc2);
    const uint8_t bools[2] = {1, 2};
    CHECK_ERR(octo_gguf_writer_add_array(&w, "b", OCTO_GGUF_BOOL, bools, 2), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_array(&w, "b", OCTO_GGUF_STRING, bools, 2), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_array(&w, "b", OCTO_GGUF_U8, NULL, 2), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_str_array(&w, "b", NULL, NULL, 2), OCTO_EINVAL);
    struct octo_buf e;
    octo_buf_init(&e, 64);
    CHECK_ERR(octo_gguf_encode_array_head(&e, 13, 0), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_encode_scalar(&e, OCTO_GGUF_STRING, "x"), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_encode_str(&e, "x", (size_t)OCTO_GGUF_STRING_MAX + 1), OCTO_ETOOBIG);
    CHECK_OK(octo_gguf_encode_array_head(&e, OCTO_GGUF_U32, 2));
    uint32_t one = 1;
    CHECK_OK(octo_gguf_encode_scalar(&e, OCTO_GGUF_U32, &one));
    CHECK_ERR(octo_gguf_writer_add_value(&w, "v", OCTO_GGUF_ARRAY, e.data, e.len), OCTO_EMALFORMED);
    CHECK(has(w.reason, "'v'"));
    CHECK_OK(octo_gguf_encode_scalar(&e, OCTO_GGUF_U32, &one));
    CHECK_OK(octo_gguf_encode_scalar(&e, OCTO_GGUF_U32, &one));
    CHECK_ERR(octo_gguf_writer_add_value(&w, "v", OCTO_GGUF_ARRAY, e.data, e.len), OCTO_EMALFORMED);
    CHECK(has(w.reason, "bytes after the value"));
    CHECK_ERR(octo_gguf_writer_add_value(&w, "v", 13, e.data, e.len), OCTO_EMALFORMED);
    CHECK_ERR(octo_gguf_writer_add_value(&w, "general.alignment", OCTO_GGUF_U32, e.data, 3),
              OCTO_EMALFORMED);
    octo_buf_reset(&e);
    uint32_t a64 = 64;
    CHECK_OK(octo_gguf_encode_scalar(&e, OCTO_GGUF_U32, &a64));
    CHECK_OK(octo_gguf_writer_add_value(&w, "general.alignment", OCTO_GGUF_U32, e.data, e.len));
    CHECK_EQ_U64(w.alignment, 64);
    octo_buf_deinit(&e);

    const uint64_t ne[2] = {32, 2};
    const uint64_t ne33[1] = {33};
    const uint64_t big[2] = {UINT64_C(1) << 40, UINT64_C(1) << 40};
    CHECK_EQ_INT(octo_gguf_writer_add_tensor(&w, "t", OCTO_GGML_Q8_0, 2, ne), 0);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w, "t", OCTO_GGML_Q8_0, 2, ne), OCTO_EEXIST);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w, "", OCTO_GGML_Q8_0, 2, ne), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w, "u", OCTO_GGML_Q8_0, 0, ne), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w, "u", OCTO_GGML_Q8_0, 5, ne), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w, "u", OCTO_GGML_Q8_0, 1, ne33), OCTO_EINVAL);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w, "u", 5, 1, ne), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w, "u", OCTO_GGML_F32, 2, big), OCTO_ERANGE);
    CHECK_ERR(octo_gguf_writer_add_tensor(&w,
                                          "0123456789012345678901234567890123456789"
                                          "012345678901234567890123",
                                          OCTO_GGML_F32, 1, ne),
              OCTO_ETOOBIG);
    /* A data callback that writes one byte too many or too few. */
    struct octo_buf out;
    octo_buf_init(&out, FILE_MAX);
    struct data_src src = {.w = &w, .delta = 1};
    CHECK_ERR(octo_gguf_writer_emit(&w, sink_write, &out, data_pattern, &src), OCTO_EPROTO);
    octo_buf_reset(&out);
    src.delta = -1;
    CHECK_ERR(octo_gguf_writer_emit(&w, sink_write, &out, data_pattern, &src), OCTO_EPROTO);
    octo_buf_reset(&out);
    src.delta = 0;
    CHECK_OK(octo_gguf_writer_emit(&w, sink_write, &out, data_pattern, &src));
    size_t full = out.len;
    /* A failing sink at every budget: the error propagates. */
    for (size_t budget = 0; budget < full; budget += 7) {
        size_t left = budget;
        CHECK_ERR(octo_gguf_writer_emit(&w, fail_write, &left, data_pattern, &src), OCTO_EIO);
    }
    struct octo_gguf g;
    octo_gguf_init(&g);
    CHECK_OK(octo_gguf_parse(&g, out.data, out.len));
    CHECK_EQ_U64(g.alignment, 64);
    CHECK(octo_gguf_find(&g, "k") != NULL);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&out);
    octo_gguf_writer_deinit(&w);
}

/* ---- fuzz seeds ---- */

static void seed_tensor(const char *dir, const char *name, uint32_t type, uint32_t n_dims,
                        const uint64_t *ne, uint32_t align)
{
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    OCTO_ASSERT(octo_gguf_writer_add_str(&w, "general.architecture", "llama", 5) == 0);
    if (align != 0)
        OCTO_ASSERT(octo_gguf_writer_add_u32(&w, "general.alignment", align) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_tensor(&w, "token_embd.weight", type, n_dims, ne) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_tensor(&w, "output.weight", OCTO_GGML_F32, 1, ne) == 1);
    struct octo_buf out;
    OCTO_ASSERT(emit(&w, &out) == 0);
    octo_test_write_file(dir, name, out.data, out.len);
    octo_buf_deinit(&out);
    octo_gguf_writer_deinit(&w);
}

static void write_seeds(void)
{
    const char *dir = getenv("OCTO_GGUF_SEED_DIR");
    if (dir == NULL)
        return;
    struct octo_buf out;
    OCTO_ASSERT(build_small(&out) == 0);
    octo_test_write_file(dir, "small", out.data, out.len);
    octo_buf_deinit(&out);
    struct octo_buf b;
    hb_head(&b, 3, 0, 0);
    octo_test_write_file(dir, "empty", b.data, b.len);
    octo_buf_deinit(&b);
    const uint64_t ne32[2] = {32, 1};
    const uint64_t ne256[1] = {256};
    const uint64_t ne4d[4] = {2, 1, 2, 1};
    seed_tensor(dir, "f32", OCTO_GGML_F32, 2, ne32, 0);
    seed_tensor(dir, "f16-align8", OCTO_GGML_F16, 2, ne32, 8);
    seed_tensor(dir, "q4_0", OCTO_GGML_Q4_0, 2, ne32, 0);
    seed_tensor(dir, "q8_0-align64", OCTO_GGML_Q8_0, 2, ne32, 64);
    seed_tensor(dir, "bf16-4d", OCTO_GGML_BF16, 4, ne4d, 0);
    seed_tensor(dir, "q6_k", OCTO_GGML_Q6_K, 1, ne256, 0);
    /* KVs of every type, arrays and nested arrays. */
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    const int32_t i32s[3] = {-1, 0, 1};
    const char *toks[4] = {"<unk>", "a", "", "\xe2\x96\x81the"};
    OCTO_ASSERT(octo_gguf_writer_add_u8(&w, "u8", 1) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_i8(&w, "i8", -1) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_u16(&w, "u16", 2) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_i16(&w, "i16", -2) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_u32(&w, "u32", 3) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_i32(&w, "i32", -3) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_f32(&w, "f32", 0.25f) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_bool(&w, "bool", true) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_str(&w, "str", "hello", 5) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_u64(&w, "u64", 4) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_i64(&w, "i64", -4) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_f64(&w, "f64", 0.5) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_array(&w, "arr", OCTO_GGUF_I32, i32s, 3) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.tokens", toks, NULL, 4) == 0);
    struct octo_buf e;
    octo_buf_init(&e, 256);
    OCTO_ASSERT(octo_gguf_encode_array_head(&e, OCTO_GGUF_ARRAY, 2) == 0);
    OCTO_ASSERT(octo_gguf_encode_array_head(&e, OCTO_GGUF_STRING, 1) == 0);
    OCTO_ASSERT(octo_gguf_encode_str(&e, "z", 1) == 0);
    OCTO_ASSERT(octo_gguf_encode_array_head(&e, OCTO_GGUF_ARRAY, 1) == 0);
    OCTO_ASSERT(octo_gguf_encode_array_head(&e, OCTO_GGUF_U8, 1) == 0);
    OCTO_ASSERT(octo_buf_append_byte(&e, 7) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_value(&w, "nested", OCTO_GGUF_ARRAY, e.data, e.len) == 0);
    octo_buf_deinit(&e);
    OCTO_ASSERT(emit(&w, &out) == 0);
    octo_test_write_file(dir, "kv-all", out.data, out.len);
    octo_buf_deinit(&out);
    const uint64_t ne8[1] = {8};
    OCTO_ASSERT(octo_gguf_writer_add_tensor(&w, "blk.0.ffn_up.weight", OCTO_GGML_F32, 1, ne8) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_tensor(&w, "blk.0.ffn_down.weight", OCTO_GGML_Q8_0, 1, ne32) ==
                1);
    OCTO_ASSERT(emit(&w, &out) == 0);
    octo_test_write_file(dir, "kv-all-tensors", out.data, out.len);
    octo_buf_deinit(&out);
    octo_gguf_writer_deinit(&w);
    /* Hand-built: zero-size tensor, alignment 8 with adjacent tensors. */
    const uint64_t ne0[2] = {0, 3};
    const uint64_t ne2[1] = {2};
    hb_head(&b, 3, 2, 0);
    hb_tensor(&b, "empty", 2, ne0, OCTO_GGML_F32, 0);
    hb_tensor(&b, "full", 1, ne2, OCTO_GGML_F32, 0);
    hb_data(&b, 32, 8);
    octo_test_write_file(dir, "zero-size", b.data, b.len);
    octo_buf_deinit(&b);
    hb_head(&b, 3, 2, 1);
    hb_kv_u32(&b, "general.alignment", 8);
    hb_tensor(&b, "a", 1, ne2, OCTO_GGML_F32, 0);
    hb_tensor(&b, "b", 1, ne2, OCTO_GGML_F32, 8);
    hb_data(&b, 8, 16);
    octo_test_write_file(dir, "align8", b.data, b.len);
    octo_buf_deinit(&b);
}

int main(void)
{
    OCTO_RUN(test_type_sizes);
    OCTO_RUN(test_roundtrip_scalars);
    OCTO_RUN(test_roundtrip_arrays);
    OCTO_RUN(test_string_array_large);
    OCTO_RUN(test_tensors_each_type);
    OCTO_RUN(test_small_file_and_truncation);
    OCTO_RUN(test_no_tensors_no_padding);
    OCTO_RUN(test_alloc_failures);
    OCTO_RUN(test_bad_magic_and_version);
    OCTO_RUN(test_counts_larger_than_file);
    OCTO_RUN(test_keys);
    OCTO_RUN(test_alignment_values);
    OCTO_RUN(test_tensor_rejections);
    OCTO_RUN(test_zero_size_tensor);
    OCTO_RUN(test_writer_errors);
    write_seeds();
    return octo_test_finish();
}
