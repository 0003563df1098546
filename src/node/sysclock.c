/*
 * sysclock.c — struct octo_clock over clock_gettime. CLOCK_MONOTONIC cannot fail on Linux
 * with a valid timespec, so a failure is a programmer error and asserts.
 */
#include "node/sysclock.h"

#include "base/assert.h"

#include <time.h>

static octo_tick mono_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    OCTO_ASSERT(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    return (octo_tick)ts.tv_sec * OCTO_NS_PER_S + (octo_tick)ts.tv_nsec;
}

static int64_t wall_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    OCTO_ASSERT(clock_gettime(CLOCK_REALTIME, &ts) == 0);
    return (int64_t)ts.tv_sec * (int64_t)OCTO_NS_PER_S + (int64_t)ts.tv_nsec;
}

static const struct octo_clock system_clock = {.mono_ns = mono_ns, .wall_ns = wall_ns, .ctx = 0};

const struct octo_clock *octo_sysclock(void)
{
    return &system_clock;
}
