/*
 * nextfire.h - when a parsed schedule expression fires next, in UTC.
 *
 * cron() and at() are read as wall-clock times in the schedule's zone and
 * resolved with EventBridge Scheduler's daylight-saving rules (tz.h): a
 * wall time skipped by a spring-forward change does not fire, a wall time
 * repeated by a fall-back change fires once, at its first occurrence.
 * rate() counts elapsed time from its first invocation, so a "day" is
 * always 86400 seconds and its wall-clock time drifts across a change.
 *
 * StartDate/EndDate bound cron() and rate() schedules (fires on or after
 * the start, on or before the end); at() ignores both, as AWS does.
 *
 * The search skips by field (year, month, day, hour, minute), never by
 * scanning minutes, so one answer costs a few microseconds even for
 * expressions that fire rarely or never.  All functions are pure and
 * thread-safe; zones are only read.
 */
#ifndef SLUICE_SCHEDULER_NEXTFIRE_H
#define SLUICE_SCHEDULER_NEXTFIRE_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/expr.h"
#include "scheduler/tz.h"

/* "No such time" in sched_bounds. */
#define SCHED_NO_TIME INT64_MIN

typedef struct sched_bounds {
    int64_t start_s;  /* StartDate, or SCHED_NO_TIME */
    int64_t end_s;    /* EndDate, or SCHED_NO_TIME */
    int64_t anchor_s; /* rate() without StartDate: its first invocation
                         (the creation time for Scheduler), or
                         SCHED_NO_TIME to start at `from_s` */
} sched_bounds;

/* Sets every bound of *b to SCHED_NO_TIME. */
void sched_bounds_init(sched_bounds *b);

/*
 * Finds the first fire time of `e` at or after instant from_s (seconds
 * since the epoch, UTC).  tz is the schedule's zone (NULL for UTC); b may
 * be NULL for no bounds.  rate() fires at base + k * period for k >= 0,
 * where base is b->start_s, else b->anchor_s, else from_s.  Returns 1 and
 * stores the instant in *out_s, or 0 if the schedule never fires again
 * (past its EndDate, its last cron year, or its at() time).
 */
int sched_next_fire(const sched_expr *e, const sched_tz *tz,
                    const sched_bounds *b, int64_t from_s, int64_t *out_s);

/*
 * Stores up to n successive fire times, the first at or after from_s, in
 * out[0..n).  Returns how many were stored (fewer than n when the schedule
 * ends).
 */
size_t sched_next_fires(const sched_expr *e, const sched_tz *tz,
                        const sched_bounds *b, int64_t from_s, int64_t *out,
                        size_t n);

#endif
