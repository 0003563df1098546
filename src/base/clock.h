/*
 * clock.h — injected time. Pure cores never read a clock: they take `now` as an argument.
 * Code that needs to ask for the time (the log, the I/O shell) holds a struct octo_clock,
 * which production wires to the system clock (node/sysclock.c) and tests and the simulator
 * to a manual clock that only moves when told to.
 */
#ifndef OCTO_BASE_CLOCK_H
#define OCTO_BASE_CLOCK_H

#include <stdint.h>

/* Monotonic nanoseconds since an arbitrary origin. */
typedef uint64_t octo_tick;

#define OCTO_NS_PER_MS UINT64_C(1000000)
#define OCTO_NS_PER_S UINT64_C(1000000000)

struct octo_clock {
    octo_tick (*mono_ns)(void *ctx);
    /* Nanoseconds since the Unix epoch, UTC. */
    int64_t (*wall_ns)(void *ctx);
    void *ctx;
};

static inline octo_tick octo_clock_mono(const struct octo_clock *c)
{
    return c->mono_ns(c->ctx);
}

static inline int64_t octo_clock_wall(const struct octo_clock *c)
{
    return c->wall_ns(c->ctx);
}

/* A manual clock for tests and the simulator. */
struct octo_clock_manual {
    struct octo_clock clock; /* hand &m->clock to the code under test */
    octo_tick mono;
    int64_t wall;
};

void octo_clock_manual_init(struct octo_clock_manual *m, octo_tick mono, int64_t wall);
void octo_clock_manual_advance(struct octo_clock_manual *m, uint64_t ns);

/* Formats a wall time as RFC 3339 UTC with milliseconds ("2026-11-29T18:46:27.123Z") into
 * out (at least 25 bytes). Returns the length written. Proleptic Gregorian arithmetic; no
 * libc time functions. */
#define OCTO_RFC3339_LEN 25
int octo_time_format_rfc3339(int64_t wall_ns, char *out, unsigned out_size);

#endif
