/*
 * test_retry.c - retry back-off, the retry policy's limits and flexible
 * window offsets (src/scheduler/retry.h).
 */
#include <stdint.h>

#include "check.h"
#include "scheduler/retry.h"

TEST(backoff_doubles_within_jitter_bounds)
{
    int64_t d = SCHED_RETRY_BASE_MS;
    for (int k = 1; k <= 12; k++) {
        int64_t lo = sched_retry_delay_ms(k, 0);
        int64_t hi = sched_retry_delay_ms(k, UINT64_MAX);
        int64_t cap = d < SCHED_RETRY_CAP_MS ? d : SCHED_RETRY_CAP_MS;
        CHECK_INT(lo, cap / 2);
        CHECK_INT(hi, cap);
        CHECK(sched_retry_delay_ms(k, 0x8000000000000000ull) >= lo);
        CHECK(sched_retry_delay_ms(k, 0x8000000000000000ull) <= hi);
        d *= 2;
    }
    CHECK_INT(sched_retry_delay_ms(1, 0), 500);
    CHECK_INT(sched_retry_delay_ms(1, UINT64_MAX), 1000);
    CHECK_INT(sched_retry_delay_ms(3, UINT64_MAX), 4000);
    CHECK_INT(sched_retry_delay_ms(185, UINT64_MAX), SCHED_RETRY_CAP_MS);
    CHECK_INT(sched_retry_delay_ms(0, UINT64_MAX), 1000); /* clamped to retry 1 */
}

TEST(retry_count_limit)
{
    /* MaximumRetryAttempts = 2: retries 1 and 2, not 3; 0 allows none */
    CHECK(sched_retry_allowed(1, 1000, 0, 2, 86400));
    CHECK(sched_retry_allowed(2, 1000, 0, 2, 86400));
    CHECK(!sched_retry_allowed(3, 1000, 0, 2, 86400));
    CHECK(!sched_retry_allowed(1, 1000, 0, 0, 86400));
    CHECK(!sched_retry_allowed(0, 1000, 0, 2, 86400));
}

TEST(event_age_limit)
{
    int64_t t = 1700000000000LL;
    CHECK(sched_retry_allowed(1, t + 60000, t, 185, 60));   /* exactly 60 s: allowed */
    CHECK(!sched_retry_allowed(1, t + 60001, t, 185, 60));  /* older: not */
    CHECK(sched_event_fresh(t, t + 86400000LL, 86400));
    CHECK(!sched_event_fresh(t, t + 86400001LL, 86400));
    CHECK(sched_event_fresh(t, t - 5, 60)); /* early (flexible windows) is fresh */
}

TEST(flexible_window_is_uniform_over_the_window)
{
    CHECK_INT(sched_flex_offset_ms(0, UINT64_MAX), 0);
    CHECK_INT(sched_flex_offset_ms(-3, 12345), 0);
    CHECK_INT(sched_flex_offset_ms(15, 0), 0);
    CHECK(sched_flex_offset_ms(15, UINT64_MAX) < 15 * 60000);
    CHECK(sched_flex_offset_ms(15, UINT64_MAX) >= 15 * 60000 - 1);
    CHECK(sched_flex_offset_ms(1440, UINT64_MAX) < 1440LL * 60000);

    /* 10 buckets over a 10-minute window from a xorshift stream: each
     * bucket within 10 % of its share */
    enum { SAMPLES = 100000 };
    int buckets[10] = {0};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < SAMPLES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t off = sched_flex_offset_ms(10, x);
        CHECK(off >= 0 && off < 600000);
        buckets[off / 60000]++;
    }
    for (int b = 0; b < 10; b++)
        CHECK(buckets[b] > SAMPLES / 10 * 9 / 10 && buckets[b] < SAMPLES / 10 * 11 / 10);
}

int main(void)
{
    RUN(backoff_doubles_within_jitter_bounds);
    RUN(retry_count_limit);
    RUN(event_age_limit);
    RUN(flexible_window_is_uniform_over_the_window);
    return check_report();
}
