/*
 * test_buf.c — bounded buffers (ceiling, growth, appendf, consume, reset, secret buffers,
 * OOM) and arenas (alignment, chunking, byte cap, reset, memdup/strdup).
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "test.h"

static void test_append_and_ceiling(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 10);
    CHECK_EQ_INT(b.len, 0);
    CHECK_OK(octo_buf_append(&b, "hello", 5));
    CHECK_OK(octo_buf_append_byte(&b, ' '));
    CHECK_OK(octo_buf_append_str(&b, "abc"));
    CHECK_EQ_INT(b.len, 9);
    CHECK_MEM(b.data, "hello abc", 9);
    CHECK_EQ_INT(b.data[9], 0); /* kept NUL-terminated */
    CHECK_OK(octo_buf_append_byte(&b, '!'));
    CHECK_EQ_INT(b.len, 10);
    /* at the ceiling: one more byte is refused and nothing changes */
    CHECK_ERR(octo_buf_append_byte(&b, '?'), OCTO_ETOOBIG);
    CHECK_ERR(octo_buf_append(&b, "xy", 2), OCTO_ETOOBIG);
    CHECK_ERR(octo_buf_reserve(&b, 1), OCTO_ETOOBIG);
    CHECK_EQ_INT(b.len, 10);
    CHECK_MEM(b.data, "hello abc!", 10);
    CHECK_OK(octo_buf_append(&b, NULL, 0));
    CHECK(b.cap <= b.max + 1);
    octo_buf_deinit(&b);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.len, 0);
    octo_buf_deinit(&b); /* idempotent */
}

static void test_oversized_append_refused_up_front(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 100);
    uint8_t big[101];
    memset(big, 'x', sizeof(big));
    CHECK_ERR(octo_buf_append(&b, big, sizeof(big)), OCTO_ETOOBIG);
    CHECK(b.data == NULL); /* nothing was allocated */
    CHECK_OK(octo_buf_append(&b, big, 100));
    CHECK_EQ_INT(b.len, 100);
    octo_buf_deinit(&b);
}

static void test_growth(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        CHECK_OK(octo_buf_append_byte(&b, (uint8_t)i));
    CHECK_EQ_INT(b.len, 10000);
    for (int i = 0; i < 10000; i++)
        CHECK_EQ_INT(b.data[i], (uint8_t)i);
    CHECK(b.cap >= 10001);
    octo_buf_deinit(&b);
}

static void test_appendf(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 32);
    CHECK_OK(octo_buf_appendf(&b, "%d-%s", 42, "x"));
    CHECK_OK(octo_buf_appendf(&b, "/%05u", 7u));
    CHECK_EQ_INT(b.len, 10);
    CHECK_STR((const char *)b.data, "42-x/00007");
    /* 10 + 23 > 32: refused, and the buffer is unchanged */
    CHECK_ERR(octo_buf_appendf(&b, "%s", "01234567890123456789012"), OCTO_ETOOBIG);
    CHECK_STR((const char *)b.data, "42-x/00007");
    CHECK_OK(octo_buf_appendf(&b, "%s", "0123456789012345678901"));
    CHECK_EQ_INT(b.len, 32);
    CHECK_OK(octo_buf_appendf(&b, "%s", "")); /* empty appends always fit */
    CHECK_EQ_INT(b.len, 32);
    octo_buf_deinit(&b);
}

static void test_consume_and_reset(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 64);
    CHECK_OK(octo_buf_append_str(&b, "abcdefgh"));
    octo_buf_consume(&b, 0);
    CHECK_EQ_INT(b.len, 8);
    octo_buf_consume(&b, 3);
    CHECK_EQ_INT(b.len, 5);
    CHECK_MEM(b.data, "defgh", 5);
    octo_buf_consume(&b, 5);
    CHECK_EQ_INT(b.len, 0);
    CHECK_OK(octo_buf_append_str(&b, "xyz"));
    size_t cap = b.cap;
    octo_buf_reset(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.cap, cap); /* storage kept */
    CHECK(b.data != NULL);
    octo_buf_deinit(&b);
}

static void test_secret_buffer(void)
{
    struct octo_buf b;
    octo_buf_init_secret(&b, 4096);
    CHECK(b.secret);
    CHECK_OK(octo_buf_append(&b, "secret-key-material", 19));
    /* growing copies into a new block (the old one is wiped before it is freed) */
    uint8_t more[200];
    memset(more, 0x77, sizeof(more));
    CHECK_OK(octo_buf_append(&b, more, sizeof(more)));
    CHECK_EQ_INT(b.len, 219);
    CHECK_MEM(b.data, "secret-key-material", 19);
    CHECK_EQ_INT(b.data[218], 0x77);
    /* consume wipes the bytes that moved out of the live region */
    octo_buf_consume(&b, 19);
    CHECK_EQ_INT(b.len, 200);
    for (size_t i = 200; i < 219; i++)
        CHECK_EQ_INT(b.data[i], 0);
    /* reset wipes the whole storage */
    size_t cap = b.cap;
    octo_buf_reset(&b);
    for (size_t i = 0; i < cap; i++)
        CHECK_EQ_INT(b.data[i], 0);
    octo_buf_deinit(&b);
}

static void test_out_of_memory(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 1024);
    octo_alloc_fail_after(1, 0);
    CHECK_ERR(octo_buf_append_str(&b, "x"), OCTO_ENOMEM);
    CHECK_EQ_INT(b.len, 0);
    CHECK_OK(octo_buf_append_str(&b, "x"));
    octo_buf_deinit(&b);

    struct octo_buf s;
    octo_buf_init_secret(&s, 1024);
    CHECK_OK(octo_buf_append_str(&s, "k"));
    octo_alloc_fail_after(1, 0);
    uint8_t big[100] = {0};
    CHECK_ERR(octo_buf_append(&s, big, sizeof(big)), OCTO_ENOMEM);
    CHECK_EQ_INT(s.len, 1); /* the old contents survive */
    CHECK_EQ_INT(s.data[0], 'k');
    octo_buf_deinit(&s);
}

static void test_arena_alignment(void)
{
    struct octo_arena a;
    octo_arena_init(&a, 256, 4096);
    for (size_t align = 1; align <= 16; align *= 2) {
        uint8_t *odd = octo_arena_alloc(&a, 1, 1);
        CHECK(odd != NULL);
        uint8_t *p = octo_arena_alloc(&a, 3, align);
        CHECK(p != NULL);
        CHECK_EQ_U64((uintptr_t)p % align, 0);
        CHECK(p > odd);
    }
    /* the first allocation of a chunk is 16-aligned */
    octo_arena_reset(&a);
    void *first = octo_arena_alloc(&a, 5, 16);
    CHECK(first != NULL);
    CHECK_EQ_U64((uintptr_t)first % 16, 0);
    octo_arena_deinit(&a);
}

static void test_arena_chunks_and_cap(void)
{
    struct octo_arena a;
    octo_arena_init(&a, 64, 200);
    uint8_t *x = octo_arena_alloc(&a, 40, 1);
    uint8_t *y = octo_arena_alloc(&a, 20, 1); /* same chunk */
    CHECK(x != NULL && y != NULL);
    CHECK(y == x + 40);
    CHECK_EQ_INT(a.reserved, 64);
    CHECK_EQ_INT(a.used, 60);
    uint8_t *z = octo_arena_alloc(&a, 10, 1); /* does not fit: a new chunk */
    CHECK(z != NULL);
    CHECK_EQ_INT(a.reserved, 128);
    uint8_t *big = octo_arena_alloc(&a, 100, 1); /* 128 + 100 > 200 */
    CHECK(big == NULL);
    CHECK(octo_arena_alloc(&a, 64, 1) != NULL); /* 192 <= 200 */
    CHECK(octo_arena_alloc(&a, 64, 1) == NULL); /* cap reached */
    memset(x, 1, 40);
    memset(z, 2, 10);
    octo_arena_reset(&a);
    CHECK_EQ_INT(a.used, 0);
    CHECK_EQ_INT(a.reserved, 0);
    CHECK(a.head == NULL);
    CHECK(octo_arena_alloc(&a, 150, 8) != NULL); /* oversized single block, under cap */
    CHECK(octo_arena_alloc(&a, 201, 1) == NULL);
    octo_arena_deinit(&a);
    CHECK(a.head == NULL);
}

static void test_arena_dup(void)
{
    struct octo_arena a;
    octo_arena_init(&a, 0, 1 << 16); /* 0 = default chunk size */
    CHECK_EQ_INT(a.chunk_min, 4096);
    char *s = octo_arena_strdup(&a, "peer");
    CHECK(s != NULL);
    CHECK_STR(s, "peer");
    uint8_t src[3] = {1, 2, 3};
    uint8_t *d = octo_arena_memdup(&a, src, 3);
    CHECK(d != NULL);
    CHECK_MEM(d, src, 3);
    CHECK(octo_arena_memdup(&a, src, 0) != NULL); /* empty copies are distinct pointers */
    octo_arena_deinit(&a);
}

static void test_arena_out_of_memory(void)
{
    struct octo_arena a;
    octo_arena_init(&a, 64, 1024);
    octo_alloc_fail_after(1, 0);
    CHECK(octo_arena_alloc(&a, 8, 8) == NULL);
    CHECK_EQ_INT(a.reserved, 0);
    CHECK(octo_arena_alloc(&a, 8, 8) != NULL);
    octo_arena_deinit(&a);
}

int main(void)
{
    OCTO_RUN(test_append_and_ceiling);
    OCTO_RUN(test_oversized_append_refused_up_front);
    OCTO_RUN(test_growth);
    OCTO_RUN(test_appendf);
    OCTO_RUN(test_consume_and_reset);
    OCTO_RUN(test_secret_buffer);
    OCTO_RUN(test_out_of_memory);
    OCTO_RUN(test_arena_alignment);
    OCTO_RUN(test_arena_chunks_and_cap);
    OCTO_RUN(test_arena_dup);
    OCTO_RUN(test_arena_out_of_memory);
    return octo_test_finish();
}
