/*
 * retry.c - retry back-off, policy limits and flexible windows; see retry.h.
 */
#include "scheduler/retry.h"

int64_t sched_retry_delay_ms(int retry, uint64_t rnd)
{
    int64_t d = SCHED_RETRY_BASE_MS;

    if (retry < 1)
        retry = 1;
    for (int k = 1; k < retry && d < SCHED_RETRY_CAP_MS; k++)
        d *= 2;
    if (d > SCHED_RETRY_CAP_MS)
        d = SCHED_RETRY_CAP_MS;
    /* uniform in [d/2, d]: the top 32 bits of rnd scale the upper half */
    int64_t half = d / 2;
    return half + (int64_t)(((rnd >> 32) * (uint64_t)(d - half + 1)) >> 32);
}

bool sched_event_fresh(int64_t scheduled_ms, int64_t now_ms, int max_age_s)
{
    return now_ms - scheduled_ms <= (int64_t)max_age_s * 1000;
}

bool sched_retry_allowed(int retry, int64_t at_ms, int64_t scheduled_ms, int max_retries,
                         int max_age_s)
{
    return retry >= 1 && retry <= max_retries &&
           sched_event_fresh(scheduled_ms, at_ms, max_age_s);
}

int64_t sched_flex_offset_ms(int window_min, uint64_t rnd)
{
    if (window_min <= 0)
        return 0;
    uint64_t span = (uint64_t)window_min * 60000u;
    return (int64_t)(((rnd >> 32) * span) >> 32);
}
