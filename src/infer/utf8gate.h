/*
 * utf8gate.h — lets streamed text out in whole UTF-8 characters.
 *
 * Generated tokens often stand for part of a character (byte tokens, byte-level BPE pieces),
 * and a client that renders each piece as it comes would show broken glyphs. The gate takes
 * pieces of any length and passes on everything up to the last complete character, holding at
 * most 3 bytes back; the next piece completes them, and the final flush lets out whatever is
 * left. Bytes that can never complete a character (a lead byte followed by a non-continuation
 * byte, stray continuation bytes, 0xC0/0xC1/0xF5..0xFF) pass as they are: the gate neither
 * validates nor repairs, it only never cuts a valid character in two.
 *
 * Pure: no allocation; the sink is a callback that may ask to stop.
 */
#ifndef OCTO_INFER_UTF8GATE_H
#define OCTO_INFER_UTF8GATE_H

#include <stdbool.h>
#include <stddef.h>

/* Called with each run of whole characters (not NUL-terminated, len > 0); non-zero stops. */
typedef int (*octo_utf8_sink)(void *ctx, const char *text, size_t len);

struct octo_utf8_gate {
    octo_utf8_sink sink; /* may be NULL: text is dropped */
    void *ctx;
    char held[4];
    size_t n_held;
    bool stopped; /* the sink asked to stop; later text is dropped */
};

void octo_utf8_gate_init(struct octo_utf8_gate *g, octo_utf8_sink sink, void *ctx);

/* Takes s[0..n) and passes on everything up to the last complete character. */
void octo_utf8_gate_put(struct octo_utf8_gate *g, const char *s, size_t n);

/* Lets out whatever is held (an incomplete character at the very end of the stream). */
void octo_utf8_gate_flush(struct octo_utf8_gate *g);

#endif
