/*
 * retry.h - the arithmetic of Scheduler invocations: when a retry is due,
 * whether the retry policy still allows one, and where a flexible time
 * window puts an invocation.  Pure functions of their arguments (the
 * randomness comes in as a number), so the unit tests pin them down.
 *
 * Retry policy (Target.RetryPolicy): MaximumRetryAttempts 0-185 (default
 * 185) retries after the first attempt, none later than
 * MaximumEventAgeInSeconds 60-86400 (default 86400) after the scheduled
 * time.  Retries back off exponentially with jitter: retry k (1-based) waits
 * a uniform time in [d/2, d] where d = min(SCHED_RETRY_BASE_MS * 2^(k-1),
 * SCHED_RETRY_CAP_MS).
 */
#ifndef SLUICE_SCHEDULER_RETRY_H
#define SLUICE_SCHEDULER_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_RETRY_DEFAULT_ATTEMPTS 185
#define SCHED_RETRY_DEFAULT_AGE_S 86400
#define SCHED_RETRY_BASE_MS 1000
#define SCHED_RETRY_CAP_MS (5 * 60 * 1000)

/* The wait before retry number `retry` (1-based); rnd is any random 64-bit
 * number (0 gives the shortest wait, UINT64_MAX the longest). */
int64_t sched_retry_delay_ms(int retry, uint64_t rnd);

/* Whether retry number `retry` (1-based) may run at at_ms for an invocation
 * scheduled at scheduled_ms under the policy. */
bool sched_retry_allowed(int retry, int64_t at_ms, int64_t scheduled_ms, int max_retries,
                         int max_age_s);

/* Whether an invocation scheduled at scheduled_ms may still be attempted at
 * now_ms (it is not older than max_age_s). */
bool sched_event_fresh(int64_t scheduled_ms, int64_t now_ms, int max_age_s);

/* The offset of an invocation inside a flexible window of window_min
 * minutes: uniform over [0, window_min * 60000) ms; 0 if window_min <= 0. */
int64_t sched_flex_offset_ms(int window_min, uint64_t rnd);

#endif
