/*
 * sysclock.h — the system clock behind struct octo_clock: CLOCK_MONOTONIC and
 * CLOCK_REALTIME. The only place outside the I/O shell that reads the time; pure cores get
 * `now` from their driver instead.
 */
#ifndef OCTO_NODE_SYSCLOCK_H
#define OCTO_NODE_SYSCLOCK_H

#include "base/clock.h"

/* A process-wide clock reading the system clocks; never NULL. */
const struct octo_clock *octo_sysclock(void);

#endif
