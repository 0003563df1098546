/*
 * assert.c — the failure path of OCTO_ASSERT: one line to stderr, then abort() so that a core
 * dump or the sanitizer runtime can show the stack.
 */
#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

void octo_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "octo: assertion failed: %s (%s:%d in %s)\n", expr, file, line, func);
    fflush(stderr);
    abort();
}
