/*
 * assert.h — assertion tiers (see docs/STYLE.md §Assertions).
 *
 *   OCTO_ASSERT(x)      always on, release too: prints the expression and location, aborts.
 *   OCTO_DASSERT(x)     expensive checks; compiled only when OCTO_DEBUG_ASSERTIONS is set
 *                       (Debug, sanitizer and fuzz builds). Must have no side effects.
 *   OCTO_ALWAYS(x) / OCTO_NEVER(x)
 *                       defensive checks for "believed impossible" cases: abort in debug
 *                       builds, evaluate to x in release so the caller takes a safe path.
 *   OCTO_UNREACHABLE()  aborts.
 */
#ifndef OCTO_BASE_ASSERT_H
#define OCTO_BASE_ASSERT_H

#include <stdbool.h>

_Noreturn void octo_assert_fail(const char *expr, const char *file, int line, const char *func);

#define OCTO_ASSERT(x)                                                                             \
    do {                                                                                           \
        if (__builtin_expect(!(x), 0))                                                             \
            octo_assert_fail(#x, __FILE__, __LINE__, __func__);                                    \
    } while (0)

#if defined(OCTO_DEBUG_ASSERTIONS)
#define OCTO_DASSERT(x) OCTO_ASSERT(x)
#define OCTO_ALWAYS(x) ((x) ? true : (octo_assert_fail(#x, __FILE__, __LINE__, __func__), false))
#define OCTO_NEVER(x) ((x) ? (octo_assert_fail(#x, __FILE__, __LINE__, __func__), true) : false)
#else
#define OCTO_DASSERT(x) ((void)sizeof(!(x)))
#define OCTO_ALWAYS(x) (!!(x))
#define OCTO_NEVER(x) (!!(x))
#endif

#define OCTO_UNREACHABLE() octo_assert_fail("unreachable", __FILE__, __LINE__, __func__)

#define OCTO_FALLTHROUGH __attribute__((fallthrough))

#define OCTO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
