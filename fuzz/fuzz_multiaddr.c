/*
 * fuzz_multiaddr.c — libFuzzer harness for multiaddr parsing and printing.
 *
 * The input is tried both as binary and as text. Binary that validates must print, and the
 * printed text must parse back to the same bytes (binary -> text -> binary). Text that parses
 * must print to a canonical text that parses to the same bytes and prints to itself (text ->
 * binary -> text reaches a fixed point in one step; it is the identity on canonical input).
 * Re-pushing the iterated components must rebuild the same bytes.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/multiaddr.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool expected_error(int rc)
{
    return rc == OCTO_EMALFORMED || rc == OCTO_ETOOBIG || rc == OCTO_ENONCANON;
}

/* Rebuilds ma component by component through the iterator and push. */
static void check_rebuild(const struct octo_multiaddr *ma)
{
    struct octo_multiaddr copy = {.len = 0};
    size_t offset = 0;
    struct octo_ma_component c;
    while (octo_multiaddr_next(ma, &offset, &c)) {
        OCTO_ASSERT(octo_ma_proto_name(c.code) != NULL);
        OCTO_ASSERT(octo_multiaddr_push(&copy, c.code, c.value, c.value_len) == 0);
    }
    OCTO_ASSERT(octo_multiaddr_equal(ma, &copy));
}

/* Prints ma, parses the text, and checks both agree; returns the text length. */
static int check_print_parse(const struct octo_multiaddr *ma, char *text)
{
    int t = octo_multiaddr_to_text(ma, text, OCTO_MULTIADDR_MAX_TEXT + 1);
    OCTO_ASSERT(t > 0);
    struct octo_multiaddr back;
    OCTO_ASSERT(octo_multiaddr_from_text(text, &back) == 0);
    OCTO_ASSERT(octo_multiaddr_equal(ma, &back));
    return t;
}

static void binary_round_trip(const uint8_t *data, size_t size)
{
    static struct octo_multiaddr ma;
    int rc = octo_multiaddr_from_bytes(data, size, &ma);
    if (rc < 0) {
        OCTO_ASSERT(expected_error(rc));
        return;
    }
    OCTO_ASSERT(ma.len == size && memcmp(ma.bytes, data, size) == 0);
    static char text[OCTO_MULTIADDR_MAX_TEXT + 1];
    check_print_parse(&ma, text);
    check_rebuild(&ma);
}

static void text_round_trip(const uint8_t *data, size_t size)
{
    /* a bounded NUL-terminated copy; a little past the limit so ETOOBIG is reachable */
    size_t n = size < OCTO_MULTIADDR_MAX_TEXT + 16 ? size : OCTO_MULTIADDR_MAX_TEXT + 16;
    char *input = octo_malloc(n + 1);
    OCTO_ASSERT(input != NULL);
    memcpy(input, data, n);
    input[n] = '\0';
    static struct octo_multiaddr ma, again;
    int rc = octo_multiaddr_from_text(input, &ma);
    if (rc < 0) {
        OCTO_ASSERT(expected_error(rc) && rc != OCTO_ENONCANON);
        octo_free(input);
        return;
    }
    static char text[OCTO_MULTIADDR_MAX_TEXT + 1], text2[OCTO_MULTIADDR_MAX_TEXT + 1];
    int t = check_print_parse(&ma, text);
    OCTO_ASSERT(octo_multiaddr_from_text(text, &again) == 0);
    OCTO_ASSERT(octo_multiaddr_to_text(&again, text2, sizeof(text2)) == t);
    OCTO_ASSERT(memcmp(text, text2, (size_t)t + 1) == 0);
    OCTO_ASSERT(octo_multiaddr_from_bytes(ma.bytes, ma.len, &again) == 0);
    check_rebuild(&ma);
    octo_free(input);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    binary_round_trip(data, size);
    text_round_trip(data, size);
    return 0;
}
