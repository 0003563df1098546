/*
 * test_utf8gate.c — whole characters out of split pieces (infer/utf8gate.h): every split of a
 * text mixing 1- to 4-byte characters, fed byte by byte and in random cuts, comes out equal
 * and never with a character cut between two outputs; pieces far over the 256-byte window
 * (a character straddling the window edge); stray and invalid bytes pass through without being
 * held forever; the flush; a sink that stops.
 */
#include "base/buf.h"
#include "base/rng.h"
#include "infer/utf8gate.h"
#include "test.h"

#include <string.h>

struct out {
    struct octo_buf all;
    bool split; /* a chunk began with a continuation byte of a character the last one started */
    bool last_open;
    size_t chunks, stop_after;
};

static int sink(void *ctx, const char *text, size_t len)
{
    struct out *o = ctx;
    if (len == 0)
        octo_test_fail_at(__FILE__, __LINE__, "an empty chunk");
    if (o->last_open && ((unsigned char)text[0] & 0xc0) == 0x80)
        o->split = true;
    o->last_open = octo_test_utf8_ends_open(text, len);
    OCTO_IGNORE(octo_buf_append(&o->all, text, len));
    o->chunks++;
    return o->stop_after != 0 && o->chunks >= o->stop_after;
}

static void run(const char *text, size_t n, const size_t *cuts, size_t n_cuts, struct out *o)
{
    memset(o, 0, sizeof(*o));
    octo_buf_init(&o->all, 1u << 20);
    struct octo_utf8_gate g;
    octo_utf8_gate_init(&g, sink, o);
    size_t at = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t to = i < n_cuts ? cuts[i] : n;
        octo_utf8_gate_put(&g, text + at, to - at);
        at = to;
    }
    octo_utf8_gate_flush(&g);
}

static const char mixed[] = "a\xc3\xa9z\xe4\xb8\x96\xf0\x9f\x99\x82 \xd0\xb6\xe2\x82\xac!";

static void test_every_split(void)
{
    size_t n = sizeof(mixed) - 1;
    for (size_t c1 = 0; c1 <= n; c1++) {
        for (size_t c2 = c1; c2 <= n; c2++) {
            size_t cuts[2] = {c1, c2};
            struct out o;
            run(mixed, n, cuts, 2, &o);
            CHECK(o.all.len == n && memcmp(o.all.data, mixed, n) == 0);
            CHECK(!o.split && !o.last_open);
            octo_buf_deinit(&o.all);
        }
    }
    /* Byte by byte. */
    size_t cuts[64];
    for (size_t i = 0; i < n; i++)
        cuts[i] = i;
    struct out o;
    run(mixed, n, cuts, n, &o);
    CHECK(o.all.len == n && !o.split);
    octo_buf_deinit(&o.all);
}

static void test_long_pieces(void)
{
    /* 255 ASCII then 2-byte characters: one straddles the 256-byte window. */
    char text[1200];
    size_t n = 0;
    for (; n < 255; n++)
        text[n] = 'a';
    while (n + 4 < sizeof(text)) {
        text[n++] = '\xc3';
        text[n++] = '\xa9';
        text[n++] = '\xf0';
        text[n++] = '\x9f';
        text[n++] = '\x98';
        text[n++] = '\x80';
    }
    struct out o;
    run(text, n, NULL, 0, &o);
    CHECK(o.all.len == n && memcmp(o.all.data, text, n) == 0);
    CHECK(!o.split);
    CHECK(o.chunks >= 4);
    octo_buf_deinit(&o.all);
    /* Random cuts. */
    struct octo_rng rng;
    octo_rng_init(&rng, 7);
    for (int round = 0; round < 200; round++) {
        size_t cuts[8];
        for (size_t i = 0; i < 8; i++)
            cuts[i] = (size_t)(octo_rng_next(&rng) % (n + 1));
        for (size_t i = 1; i < 8; i++) /* sort */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        run(text, n, cuts, 8, &o);
        CHECK(o.all.len == n && memcmp(o.all.data, text, n) == 0 && !o.split);
        octo_buf_deinit(&o.all);
    }
}

static void test_invalid_bytes(void)
{
    /* A lead byte followed by another lead: the first can never complete, so it goes out; a
     * stray continuation byte and 0xff pass; an incomplete character at the end is flushed. */
    struct octo_utf8_gate g;
    struct out o;
    memset(&o, 0, sizeof(o));
    octo_buf_init(&o.all, 1024);
    octo_utf8_gate_init(&g, sink, &o);
    octo_utf8_gate_put(&g, "\xf2", 1);
    CHECK_EQ_U64(o.chunks, 0); /* held */
    octo_utf8_gate_put(&g, "\xd0", 1);
    CHECK_EQ_U64(o.all.len, 1); /* the 0xf2 is out, 0xd0 held */
    octo_utf8_gate_put(&g, "k\x80\xff", 3);
    CHECK_EQ_U64(o.all.len, 5);
    octo_utf8_gate_put(&g, "\xe2\x82", 2);
    CHECK_EQ_U64(o.all.len, 5);
    octo_utf8_gate_flush(&g);
    CHECK_EQ_U64(o.all.len, 7);
    CHECK(memcmp(o.all.data, "\xf2\xd0k\x80\xff\xe2\x82", 7) == 0);
    octo_utf8_gate_flush(&g); /* nothing left */
    CHECK_EQ_U64(o.all.len, 7);
    octo_buf_deinit(&o.all);
}

static void test_stop_and_null_sink(void)
{
    struct out o;
    memset(&o, 0, sizeof(o));
    octo_buf_init(&o.all, 1024);
    o.stop_after = 1;
    struct octo_utf8_gate g;
    octo_utf8_gate_init(&g, sink, &o);
    octo_utf8_gate_put(&g, "one", 3);
    CHECK(g.stopped);
    octo_utf8_gate_put(&g, "two", 3);
    octo_utf8_gate_flush(&g);
    CHECK_EQ_U64(o.chunks, 1);
    octo_buf_deinit(&o.all);
    octo_utf8_gate_init(&g, NULL, NULL);
    octo_utf8_gate_put(&g, "dropped\xc3", 8);
    octo_utf8_gate_flush(&g);
    CHECK(!g.stopped && g.n_held == 0);
}

int main(void)
{
    OCTO_RUN(test_every_split);
    OCTO_RUN(test_long_pieces);
    OCTO_RUN(test_invalid_bytes);
    OCTO_RUN(test_stop_and_null_sink);
    return octo_test_finish();
}
