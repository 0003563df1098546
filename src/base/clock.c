/*
 * clock.c — the manual clock and RFC 3339 formatting. Civil dates come from day counts with
 * the well-known era-based conversion (400-year eras of 146,097 days), so no gmtime() is
 * needed and the result does not depend on the process's time zone.
 */
#include "base/clock.h"

#include "base/assert.h"

#include <stdio.h>

static octo_tick manual_mono(void *ctx)
{
    return ((struct octo_clock_manual *)ctx)->mono;
}

static int64_t manual_wall(void *ctx)
{
    return ((struct octo_clock_manual *)ctx)->wall;
}

void octo_clock_manual_init(struct octo_clock_manual *m, octo_tick mono, int64_t wall)
{
    m->clock.mono_ns = manual_mono;
    m->clock.wall_ns = manual_wall;
    m->clock.ctx = m;
    m->mono = mono;
    m->wall = wall;
}

void octo_clock_manual_advance(struct octo_clock_manual *m, uint64_t ns)
{
    OCTO_ASSERT(m->mono <= UINT64_MAX - ns);
    OCTO_ASSERT(ns <= (uint64_t)INT64_MAX && m->wall <= INT64_MAX - (int64_t)ns);
    m->mono += ns;
    m->wall += (int64_t)ns;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int octo_time_format_rfc3339(int64_t wall_ns, char *out, unsigned out_size)
{
    OCTO_ASSERT(out_size >= OCTO_RFC3339_LEN);
    int64_t ms = wall_ns / 1000000;
    if (wall_ns < 0 && wall_ns % 1000000 != 0)
        ms -= 1;
    int64_t secs = ms / 1000;
    int64_t msec = ms % 1000;
    if (msec < 0) {
        msec += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    int n = snprintf(out, out_size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)year, month,
                     day, (int)(sod / 3600), (int)(sod % 3600 / 60), (int)(sod % 60), (int)msec);
    OCTO_ASSERT(n > 0 && (unsigned)n < out_size);
    return n;
}
