/* clock.h: the monotonic clock and sleeping, for the runtime's real-time paths (the scheduler, the
 * script runner, the exec adapter, the fault proxy, the simulator at a time scale). */
#ifndef DRP_CLOCK_H
#define DRP_CLOCK_H

#include <stdint.h>

/* Nanoseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t clock_mono_ns(void);
/* The same in milliseconds. */
int64_t clock_mono_ms(void);
/* Sleeps ns nanoseconds (nothing if ns <= 0), going on after a signal interrupts it. */
void clock_sleep_ns(int64_t ns);

#endif
