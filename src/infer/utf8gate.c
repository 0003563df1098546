/*
 * utf8gate.c — whole UTF-8 characters out of a stream of pieces (see utf8gate.h). Pieces are
 * passed through in windows of up to 256 bytes plus the held tail, so nothing is allocated.
 */
#include "infer/utf8gate.h"

#include "base/assert.h"

#include <string.h>

#define WINDOW 256u

void octo_utf8_gate_init(struct octo_utf8_gate *g, octo_utf8_sink sink, void *ctx)
{
    OCTO_ASSERT(g != NULL);
    memset(g, 0, sizeof(*g));
    g->sink = sink;
    g->ctx = ctx;
}

/* Length of the sequence a lead byte starts (1 for ASCII and for bytes that start nothing). */
static size_t seq_len(unsigned char c)
{
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    return 1;
}

/* How many bytes at the end of s[0..n) begin a character that is not complete yet (0..3). */
static size_t incomplete_tail(const char *s, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = (unsigned char)s[n - back];
        if ((c & 0xc0) != 0x80) /* a lead byte or ASCII */
            return seq_len(c) > back ? back : 0;
    }
    return 0;
}

static void emit(struct octo_utf8_gate *g, const char *s, size_t n)
{
    if (g->stopped || n == 0 || g->sink == NULL)
        return;
    if (g->sink(g->ctx, s, n) != 0)
        g->stopped = true;
}

void octo_utf8_gate_put(struct octo_utf8_gate *g, const char *s, size_t n)
{
    OCTO_ASSERT(g != NULL && (s != NULL || n == 0));
    char buf[WINDOW + sizeof(g->held)];
    while (n > 0) {
        size_t take = n < WINDOW ? n : WINDOW;
        memcpy(buf, g->held, g->n_held);
        memcpy(buf + g->n_held, s, take);
        size_t len = g->n_held + take;
        s += take;
        n -= take;
        size_t tail = incomplete_tail(buf, len);
        emit(g, buf, len - tail);
        memcpy(g->held, buf + len - tail, tail);
        g->n_held = tail;
    }
}

void octo_utf8_gate_flush(struct octo_utf8_gate *g)
{
    OCTO_ASSERT(g != NULL);
    emit(g, g->held, g->n_held);
    g->n_held = 0;
}
