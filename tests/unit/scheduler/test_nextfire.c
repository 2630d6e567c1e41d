/*
 * test_nextfire.c - fire times of cron(), rate() and at() schedules.
 *
 * Every expected instant was worked out by hand: weekdays counted from
 * 2025-01-01 (a Wednesday), 2026-01-01 (Thursday), 2027-01-01 (Friday),
 * 2005-01-01 (Saturday); offsets from the zones' published rules (see
 * test_tz.c).  The 31W/2027 sequence also matches Quartz's output quoted in
 * a public bug report against an AWS cron library.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "scheduler/civil.h"
#include "scheduler/expr.h"
#include "scheduler/nextfire.h"
#include "scheduler/tz.h"

static int64_t T(const char *iso)
{
    int64_t s = 0;

    if (civil_parse_iso8601(iso, &s, NULL) != 0) {
        fprintf(stderr, "  bad time in test: %s\n", iso);
        abort();
    }
    return s;
}

static sched_bounds no_bounds(void)
{
    sched_bounds b;

    sched_bounds_init(&b);
    return b;
}

/*
 * Checks that `expr` in `zone` (NULL: UTC) with bounds b fires at exactly
 * want[0..] (NULL-terminated) from `from` on; if `ends`, that nothing
 * follows.
 */
static void expect(const char *expr, const char *zone, sched_bounds b,
                   const char *from, int ends, const char *const *want)
{
    sched_expr e;
    const sched_tz *tz = sched_tz_get(zone, NULL);
    int64_t got[64];
    size_t n = 0, m;
    char buf[32];

    while (want[n])
        n++;
    if (sched_expr_parse(expr, strlen(expr), SCHED_DIALECT_SCHEDULER, &e) !=
            SCHED_EXPR_OK ||
        !tz) {
        fprintf(stderr, "  cannot set up %s in %s\n", expr,
                zone ? zone : "UTC");
        CHECK(0);
        return;
    }
    m = sched_next_fires(&e, tz, &b, T(from), got, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (i >= m) {
            fprintf(stderr, "  %s from %s: stopped after %zu fires\n", expr,
                    from, m);
            CHECK(0);
            return;
        }
        if (got[i] != T(want[i])) {
            civil_format_utc(got[i], buf, sizeof buf);
            fprintf(stderr, "  %s from %s: fire %zu is %s, want %s\n", expr,
                    from, i, buf, want[i]);
            CHECK(0);
        }
    }
    if (ends && m != n) {
        civil_format_utc(got[n], buf, sizeof buf);
        fprintf(stderr, "  %s from %s: unexpected fire %s\n", expr, from,
                buf);
        CHECK(0);
    }
    if (!ends && m != n + 1) {
        fprintf(stderr, "  %s from %s: ended early\n", expr, from);
        CHECK(0);
    }
}

#define FIRES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOTHING ((const char *const[]){NULL})

TEST(leap_years)
{
    expect("cron(0 12 29 2 ? *)", NULL, no_bounds(), "2025-01-01T00:00:00Z",
           0, FIRES("2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z",
                    "2036-02-29T12:00:00Z"));
    /* 2100 is not a leap year. */
    expect("cron(0 0 29 2 ? 2097-2104)", NULL, no_bounds(),
           "2090-01-01T00:00:00Z", 1, FIRES("2104-02-29T00:00:00Z"));
    expect("cron(0 0 L 2 ? *)", NULL, no_bounds(), "2099-01-01T00:00:00Z", 0,
           FIRES("2099-02-28T00:00:00Z", "2100-02-28T00:00:00Z",
                 "2101-02-28T00:00:00Z"));
}

TEST(last_day_forms)
{
    expect("cron(0 0 L * ? *)", NULL, no_bounds(), "2024-01-15T00:00:00Z", 0,
           FIRES("2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z",
                 "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z"));
    expect("cron(30 23 L-2 * ? *)", NULL, no_bounds(), "2025-02-01T00:00:00Z",
           0, FIRES("2025-02-26T23:30:00Z", "2025-03-29T23:30:00Z",
                    "2025-04-28T23:30:00Z"));
    /* L-30 exists only in 31-day months. */
    expect("cron(0 0 L-30 * ? *)", NULL, no_bounds(), "2025-01-01T00:00:01Z",
           0, FIRES("2025-03-01T00:00:00Z", "2025-05-01T00:00:00Z"));
    /* Last weekday: May 31 2025 is a Saturday, Aug 31 a Sunday. */
    expect("cron(0 0 LW * ? *)", NULL, no_bounds(), "2025-05-01T00:00:00Z", 0,
           FIRES("2025-05-30T00:00:00Z", "2025-06-30T00:00:00Z",
                 "2025-07-31T00:00:00Z", "2025-08-29T00:00:00Z"));
}

TEST(nearest_weekday)
{
    /* 1W: Feb 1 and Mar 1 2025 are Saturdays -> Monday the 3rd (not the
     * Friday before, which is in the previous month); Jun 1 a Sunday. */
    expect("cron(0 0 1W * ? *)", NULL, no_bounds(), "2025-01-01T00:00:01Z", 0,
           FIRES("2025-02-03T00:00:00Z", "2025-03-03T00:00:00Z",
                 "2025-04-01T00:00:00Z", "2025-05-01T00:00:00Z",
                 "2025-06-02T00:00:00Z"));
    /* 31W: only months with a 31st; a Sunday 31st goes back to Friday. */
    expect("cron(0 0 31W * ? 2025)", NULL, no_bounds(),
           "2025-01-01T00:00:00Z", 1,
           FIRES("2025-01-31T00:00:00Z", "2025-03-31T00:00:00Z",
                 "2025-05-30T00:00:00Z", "2025-07-31T00:00:00Z",
                 "2025-08-29T00:00:00Z", "2025-10-31T00:00:00Z",
                 "2025-12-31T00:00:00Z"));
    expect("cron(5 10 31W * ? 2027)", NULL, no_bounds(),
           "2027-01-01T00:00:00Z", 1,
           FIRES("2027-01-29T10:05:00Z", "2027-03-31T10:05:00Z",
                 "2027-05-31T10:05:00Z", "2027-07-30T10:05:00Z",
                 "2027-08-31T10:05:00Z", "2027-10-29T10:05:00Z",
                 "2027-12-31T10:05:00Z"));
    expect("cron(0 0 15W * ? *)", NULL, no_bounds(), "2025-02-01T00:00:00Z",
           0, FIRES("2025-02-14T00:00:00Z", "2025-03-14T00:00:00Z",
                    "2025-04-15T00:00:00Z", "2025-05-15T00:00:00Z",
                    "2025-06-16T00:00:00Z"));
    expect("cron(0 0 30W 2 ? *)", NULL, no_bounds(), "2025-01-01T00:00:00Z", 1,
           NOTHING);
}

TEST(nth_weekday)
{
    /* Fifth Friday: missing in most months. */
    expect("cron(0 0 ? * 6#5 *)", NULL, no_bounds(), "2025-01-01T00:00:00Z", 0,
           FIRES("2025-01-31T00:00:00Z", "2025-05-30T00:00:00Z",
                 "2025-08-29T00:00:00Z", "2025-10-31T00:00:00Z",
                 "2026-01-30T00:00:00Z"));
    expect("cron(0 2 ? * SAT#3 *)", NULL, no_bounds(), "2025-01-01T00:00:00Z",
           0, FIRES("2025-01-18T02:00:00Z", "2025-02-15T02:00:00Z",
                    "2025-03-15T02:00:00Z"));
    expect("cron(0 0 ? * 2#1 *)", NULL, no_bounds(), "2025-01-01T00:00:00Z", 0,
           FIRES("2025-01-06T00:00:00Z", "2025-02-03T00:00:00Z",
                 "2025-03-03T00:00:00Z"));
}

TEST(last_weekday_of_month_and_lists)
{
    expect("cron(15 10 ? * 6L 2002-2005)", NULL, no_bounds(),
           "2005-11-01T00:00:00Z", 1,
           FIRES("2005-11-25T10:15:00Z", "2005-12-30T10:15:00Z"));
    expect("cron(0 0 ? * 1L *)", NULL, no_bounds(), "2025-03-01T00:00:00Z", 0,
           FIRES("2025-03-30T00:00:00Z", "2025-04-27T00:00:00Z"));
    expect("cron(0 0 ? * L *)", NULL, no_bounds(), "2025-01-01T00:00:00Z", 0,
           FIRES("2025-01-04T00:00:00Z", "2025-01-11T00:00:00Z",
                 "2025-01-18T00:00:00Z"));
    expect("cron(0 9 ? * MON-FRI *)", NULL, no_bounds(),
           "2025-01-03T09:00:01Z", 0,
           FIRES("2025-01-06T09:00:00Z", "2025-01-07T09:00:00Z"));
    expect("cron(0 0 ? * FRI-MON *)", NULL, no_bounds(),
           "2025-01-01T00:00:00Z", 0,
           FIRES("2025-01-03T00:00:00Z", "2025-01-04T00:00:00Z",
                 "2025-01-05T00:00:00Z", "2025-01-06T00:00:00Z",
                 "2025-01-10T00:00:00Z"));
}

TEST(years_field)
{
    expect("cron(0 0 1 1 ? 2199)", NULL, no_bounds(), "2150-01-01T00:00:01Z",
           1, FIRES("2199-01-01T00:00:00Z"));
    expect("cron(59 23 31 12 ? 2199)", NULL, no_bounds(),
           "2199-12-31T23:59:00Z", 1, FIRES("2199-12-31T23:59:00Z"));
    expect("cron(0 0 1 1 ? 1970)", NULL, no_bounds(), "2025-01-01T00:00:00Z",
           1, NOTHING);
    expect("cron(0 0 1 1 ? */50)", NULL, no_bounds(), "2021-01-01T00:00:00Z",
           1, FIRES("2070-01-01T00:00:00Z", "2120-01-01T00:00:00Z",
                    "2170-01-01T00:00:00Z"));
    /* 2022-01-01 is a Saturday, outside SUN-THU (1-5). */
    expect("cron(0/5 5 ? JAN 1-5 2022)", NULL, no_bounds(),
           "2022-01-01T00:00:00Z", 0,
           FIRES("2022-01-02T05:00:00Z", "2022-01-02T05:05:00Z"));
    expect("cron(0/5 5 ? JAN 1-5 2022)", NULL, no_bounds(),
           "2022-01-02T05:50:00Z", 0,
           FIRES("2022-01-02T05:50:00Z", "2022-01-02T05:55:00Z",
                 "2022-01-03T05:00:00Z"));
    /* The last one: Monday 2022-01-31 05:55. */
    expect("cron(0/5 5 ? JAN 1-5 2022)", NULL, no_bounds(),
           "2022-01-31T05:50:01Z", 1, FIRES("2022-01-31T05:55:00Z"));
}

TEST(steps_ranges_and_bounds_of_from)
{
    expect("cron(5/15 * * * ? *)", NULL, no_bounds(), "2025-01-01T00:00:00Z",
           0, FIRES("2025-01-01T00:05:00Z", "2025-01-01T00:20:00Z",
                    "2025-01-01T00:35:00Z", "2025-01-01T00:50:00Z",
                    "2025-01-01T01:05:00Z"));
    /* from is inclusive; a fraction of a minute past moves on. */
    expect("cron(5/15 * * * ? *)", NULL, no_bounds(), "2025-01-01T00:05:00Z",
           0, FIRES("2025-01-01T00:05:00Z"));
    expect("cron(5/15 * * * ? *)", NULL, no_bounds(), "2025-01-01T00:05:01Z",
           0, FIRES("2025-01-01T00:20:00Z"));
    expect("cron(0 22-2 * * ? *)", NULL, no_bounds(), "2025-01-01T21:00:00Z",
           0, FIRES("2025-01-01T22:00:00Z", "2025-01-01T23:00:00Z",
                    "2025-01-02T00:00:00Z", "2025-01-02T01:00:00Z",
                    "2025-01-02T02:00:00Z", "2025-01-02T22:00:00Z"));
    expect("cron(59 23 31 12 ? *)", NULL, no_bounds(), "2025-06-01T00:00:00Z",
           0, FIRES("2025-12-31T23:59:00Z", "2026-12-31T23:59:00Z"));
}

TEST(never_fires)
{
    sched_expr e;
    int64_t t;

    expect("cron(0 0 30 2 ? *)", NULL, no_bounds(), "2025-01-01T00:00:00Z", 1,
           NOTHING);
    expect("cron(0 0 31 4,6,9,11 ? *)", NULL, no_bounds(),
           "1970-01-01T00:00:00Z", 1, NOTHING);
    CHECK_INT(sched_expr_parse("cron(0 0 * * ? *)", 17,
                               SCHED_DIALECT_SCHEDULER, &e),
              SCHED_EXPR_OK);
    CHECK_INT(sched_next_fire(&e, NULL, NULL, T("2200-01-01T00:00:00Z"), &t),
              0);
    CHECK_INT(sched_next_fire(&e, NULL, NULL, INT64_MAX, &t), 0);
    CHECK_INT(sched_next_fire(&e, sched_tz_get("Australia/Lord_Howe", NULL),
                              NULL, INT64_MIN, &t),
              1);
    /* Local midnight 1970-01-01 at Lord Howe's then +10:00. */
    CHECK_INT(t, T("1969-12-31T14:00:00Z"));
    CHECK_INT(sched_expr_parse("rate(1 day)", 11, SCHED_DIALECT_SCHEDULER,
                               &e),
              SCHED_EXPR_OK);
    CHECK_INT(sched_next_fire(&e, NULL, NULL, INT64_MAX, &t), 1);
    CHECK_INT(t, INT64_MAX); /* from itself: rate counts from from_s */
    {
        sched_bounds b = no_bounds();
        b.start_s = INT64_MIN + 1;
        CHECK_INT(sched_next_fire(&e, NULL, &b, INT64_MAX, &t), 0);
    }
    CHECK_INT(sched_expr_parse("cron(0 0 * * ? *)", 17,
                               SCHED_DIALECT_SCHEDULER, &e),
              SCHED_EXPR_OK);
    /* Before 1970 the search starts at 1970. */
    CHECK_INT(sched_next_fire(&e, NULL, NULL, T("1960-05-05T05:05:05Z"), &t),
              1);
    CHECK_INT(t, 0);
}

TEST(rates)
{
    sched_bounds b = no_bounds();

    b.start_s = T("2025-03-08T00:00:00Z");
    expect("rate(5 minutes)", NULL, b, "2025-03-08T00:07:00Z", 0,
           FIRES("2025-03-08T00:10:00Z", "2025-03-08T00:15:00Z"));
    /* The first invocation is at StartDate itself. */
    expect("rate(5 minutes)", NULL, b, "2025-03-01T00:00:00Z", 0,
           FIRES("2025-03-08T00:00:00Z", "2025-03-08T00:05:00Z"));
    expect("rate(5 minutes)", NULL, b, "2025-03-08T00:10:00Z", 0,
           FIRES("2025-03-08T00:10:00Z"));

    /* A day is 24 hours of elapsed time: 07:00 EST, then 08:00 EDT. */
    b.start_s = T("2025-03-08T12:00:00Z");
    expect("rate(1 day)", "America/New_York", b, "2025-03-08T00:00:00Z", 0,
           FIRES("2025-03-08T12:00:00Z", "2025-03-09T12:00:00Z",
                 "2025-03-10T12:00:00Z"));

    b.start_s = T("2025-01-06T09:00:00Z");
    expect("rate(7 days)", NULL, b, "2025-02-01T00:00:00Z", 0,
           FIRES("2025-02-03T09:00:00Z", "2025-02-10T09:00:00Z"));

    /* Without StartDate: counted from the creation time (anchor). */
    b = no_bounds();
    b.anchor_s = T("2025-01-01T00:00:30Z");
    expect("rate(1 hour)", NULL, b, "2025-01-01T05:00:00Z", 0,
           FIRES("2025-01-01T05:00:30Z", "2025-01-01T06:00:30Z"));
    /* Without either: from the first from_s. */
    expect("rate(10 minutes)", NULL, no_bounds(), "2025-01-01T00:00:07Z", 0,
           FIRES("2025-01-01T00:00:07Z", "2025-01-01T00:10:07Z",
                 "2025-01-01T00:20:07Z"));

    /* EndDate is inclusive. */
    b = no_bounds();
    b.start_s = T("2025-01-01T00:00:00Z");
    b.end_s = T("2025-01-01T02:00:00Z");
    expect("rate(1 hour)", NULL, b, "2024-12-31T00:00:00Z", 1,
           FIRES("2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z",
                 "2025-01-01T02:00:00Z"));
    b.end_s = T("2024-12-31T00:00:00Z");
    expect("rate(1 hour)", NULL, b, "2024-12-30T00:00:00Z", 1, NOTHING);
}

TEST(at_times)
{
    sched_bounds b = no_bounds();

    expect("at(2025-06-01T09:00:00)", "America/New_York", b,
           "2025-01-01T00:00:00Z", 1, FIRES("2025-06-01T13:00:00Z"));
    expect("at(2025-12-25T00:00:00)", "Australia/Lord_Howe", b,
           "2025-01-01T00:00:00Z", 1, FIRES("2025-12-24T13:00:00Z"));
    expect("at(2025-12-25T00:00:00)", NULL, b, "2025-12-25T00:00:00Z", 1,
           FIRES("2025-12-25T00:00:00Z"));
    /* Skipped wall time: never; repeated wall time: first occurrence. */
    expect("at(2025-03-09T02:30:00)", "America/New_York", b,
           "2025-01-01T00:00:00Z", 1, NOTHING);
    expect("at(2025-11-02T01:30:00)", "America/New_York", b,
           "2025-01-01T00:00:00Z", 1, FIRES("2025-11-02T05:30:00Z"));
    /* Already past. */
    expect("at(2025-06-01T09:00:00)", "America/New_York", b,
           "2025-06-01T13:00:01Z", 1, NOTHING);
    /* StartDate and EndDate do not apply to one-time schedules. */
    b.start_s = T("2026-01-01T00:00:00Z");
    b.end_s = T("2025-01-01T00:00:00Z");
    expect("at(2025-06-01T09:00:00)", "America/New_York", b,
           "2025-01-01T00:00:00Z", 1, FIRES("2025-06-01T13:00:00Z"));
}

TEST(dst_new_york)
{
    const char *ny = "America/New_York";

    /* 02:30 does not exist on 2025-03-09: skipped. */
    expect("cron(30 2 * * ? *)", ny, no_bounds(), "2025-03-07T00:00:00Z", 0,
           FIRES("2025-03-07T07:30:00Z", "2025-03-08T07:30:00Z",
                 "2025-03-10T06:30:00Z", "2025-03-11T06:30:00Z"));
    expect("cron(0 2 * * ? *)", ny, no_bounds(), "2025-03-08T12:00:00Z", 0,
           FIRES("2025-03-10T06:00:00Z"));
    expect("cron(59 1 * * ? *)", ny, no_bounds(), "2025-03-08T12:00:00Z", 0,
           FIRES("2025-03-09T06:59:00Z", "2025-03-10T05:59:00Z"));
    expect("cron(0 3 * * ? *)", ny, no_bounds(), "2025-03-08T12:00:00Z", 0,
           FIRES("2025-03-09T07:00:00Z", "2025-03-10T07:00:00Z"));
    expect("cron(0 * * * ? *)", ny, no_bounds(), "2025-03-09T04:30:00Z", 0,
           FIRES("2025-03-09T05:00:00Z", "2025-03-09T06:00:00Z",
                 "2025-03-09T07:00:00Z", "2025-03-09T08:00:00Z"));
    /* Starting a few seconds before the jump. */
    expect("cron(* * * * ? *)", ny, no_bounds(), "2025-03-09T06:59:30Z", 0,
           FIRES("2025-03-09T07:00:00Z", "2025-03-09T07:01:00Z"));

    /* Fall back on 2025-11-02: 01:30 runs once (EDT); 02:30 is EST. */
    expect("cron(30 1 * * ? *)", ny, no_bounds(), "2025-10-31T12:00:00Z", 0,
           FIRES("2025-11-01T05:30:00Z", "2025-11-02T05:30:00Z",
                 "2025-11-03T06:30:00Z"));
    expect("cron(30 2 * * ? *)", ny, no_bounds(), "2025-11-01T00:00:00Z", 0,
           FIRES("2025-11-01T06:30:00Z", "2025-11-02T07:30:00Z",
                 "2025-11-03T07:30:00Z"));
    expect("cron(0 * * * ? *)", ny, no_bounds(), "2025-11-02T03:30:00Z", 0,
           FIRES("2025-11-02T04:00:00Z", "2025-11-02T05:00:00Z",
                 "2025-11-02T07:00:00Z", "2025-11-02T08:00:00Z"));
    /* Starting inside the repeated hour, first and second pass. */
    expect("cron(*/15 * * * ? *)", ny, no_bounds(), "2025-11-02T05:10:00Z", 0,
           FIRES("2025-11-02T05:15:00Z", "2025-11-02T05:30:00Z",
                 "2025-11-02T05:45:00Z", "2025-11-02T07:00:00Z"));
    expect("cron(*/15 * * * ? *)", ny, no_bounds(), "2025-11-02T06:10:00Z", 0,
           FIRES("2025-11-02T07:00:00Z", "2025-11-02T07:15:00Z"));

    /* Past the zone file's table (footer rule): 2100-03-14 is skipped. */
    expect("cron(30 2 * * ? *)", ny, no_bounds(), "2100-03-13T00:00:00Z", 0,
           FIRES("2100-03-13T07:30:00Z", "2100-03-15T06:30:00Z"));
}

TEST(dst_london)
{
    const char *lon = "Europe/London";

    expect("cron(30 1 * * ? *)", lon, no_bounds(), "2025-03-29T00:00:00Z", 0,
           FIRES("2025-03-29T01:30:00Z", "2025-03-31T00:30:00Z"));
    expect("cron(0 1 * * ? *)", lon, no_bounds(), "2025-03-29T12:00:00Z", 0,
           FIRES("2025-03-31T00:00:00Z"));
    expect("cron(30 1 * * ? *)", lon, no_bounds(), "2025-10-25T00:00:00Z", 0,
           FIRES("2025-10-25T00:30:00Z", "2025-10-26T00:30:00Z",
                 "2025-10-27T01:30:00Z"));
    expect("cron(0 1 * * ? *)", lon, no_bounds(), "2025-10-25T12:00:00Z", 0,
           FIRES("2025-10-26T00:00:00Z", "2025-10-27T01:00:00Z"));
}

TEST(dst_lord_howe_half_hour)
{
    const char *lh = "Australia/Lord_Howe";

    /* Fall back 2025-04-06 02:00 +11 -> 01:30 +1030. */
    expect("cron(45 1 * * ? *)", lh, no_bounds(), "2025-04-04T00:00:00Z", 0,
           FIRES("2025-04-04T14:45:00Z", "2025-04-05T14:45:00Z",
                 "2025-04-06T15:15:00Z"));
    expect("cron(15 1 * * ? *)", lh, no_bounds(), "2025-04-05T00:00:00Z", 0,
           FIRES("2025-04-05T14:15:00Z", "2025-04-06T14:45:00Z"));
    expect("cron(0/15 * * * ? *)", lh, no_bounds(), "2025-04-05T14:00:01Z", 0,
           FIRES("2025-04-05T14:15:00Z", "2025-04-05T14:30:00Z",
                 "2025-04-05T14:45:00Z", "2025-04-05T15:30:00Z",
                 "2025-04-05T15:45:00Z"));
    /* Spring forward 2025-10-05 02:00 +1030 -> 02:30 +11. */
    expect("cron(15 2 * * ? *)", lh, no_bounds(), "2025-10-03T00:00:00Z", 0,
           FIRES("2025-10-03T15:45:00Z", "2025-10-05T15:15:00Z"));
    expect("cron(45 2 * * ? *)", lh, no_bounds(), "2025-10-04T00:00:00Z", 0,
           FIRES("2025-10-04T15:45:00Z", "2025-10-05T15:45:00Z"));
    expect("cron(0/15 * * * ? *)", lh, no_bounds(), "2025-10-04T15:00:00Z", 0,
           FIRES("2025-10-04T15:00:00Z", "2025-10-04T15:15:00Z",
                 "2025-10-04T15:30:00Z", "2025-10-04T15:45:00Z"));
}

TEST(start_and_end_dates)
{
    sched_bounds b = no_bounds();

    b.start_s = T("2025-01-10T12:00:00Z");
    expect("cron(0 12 * * ? *)", NULL, b, "2025-01-01T00:00:00Z", 0,
           FIRES("2025-01-10T12:00:00Z", "2025-01-11T12:00:00Z"));
    b.start_s = T("2025-01-10T12:00:01Z");
    expect("cron(0 12 * * ? *)", NULL, b, "2025-01-01T00:00:00Z", 0,
           FIRES("2025-01-11T12:00:00Z"));

    b = no_bounds();
    b.end_s = T("2025-01-12T12:00:00Z");
    expect("cron(0 12 * * ? *)", NULL, b, "2025-01-11T00:00:00Z", 1,
           FIRES("2025-01-11T12:00:00Z", "2025-01-12T12:00:00Z"));

    /* Both, across a DST change: 09:00 EST then 09:00 EDT. */
    b.start_s = T("2025-03-08T00:00:00Z");
    b.end_s = T("2025-03-10T13:00:00Z");
    expect("cron(0 9 * * ? *)", "America/New_York", b, "2025-01-01T00:00:00Z",
           1, FIRES("2025-03-08T14:00:00Z", "2025-03-09T13:00:00Z",
                    "2025-03-10T13:00:00Z"));
    b.end_s = T("2025-03-08T13:59:59Z");
    expect("cron(0 9 * * ? *)", "America/New_York", b, "2025-01-01T00:00:00Z",
           1, NOTHING);
}

TEST(null_zone_and_bounds_mean_utc_and_none)
{
    sched_expr e;
    int64_t t;

    CHECK_INT(sched_expr_parse("cron(30 2 * * ? *)", 18,
                               SCHED_DIALECT_RULE, &e),
              SCHED_EXPR_OK);
    CHECK_INT(sched_next_fire(&e, NULL, NULL, T("2025-03-09T00:00:00Z"), &t),
              1);
    CHECK_INT(t, T("2025-03-09T02:30:00Z"));
}

int main(void)
{
    RUN(leap_years);
    RUN(last_day_forms);
    RUN(nearest_weekday);
    RUN(nth_weekday);
    RUN(last_weekday_of_month_and_lists);
    RUN(years_field);
    RUN(steps_ranges_and_bounds_of_from);
    RUN(never_fires);
    RUN(rates);
    RUN(at_times);
    RUN(dst_new_york);
    RUN(dst_london);
    RUN(dst_lord_howe_half_hour);
    RUN(start_and_end_dates);
    RUN(null_zone_and_bounds_mean_utc_and_none);
    sched_tz_cache_clear();
    return check_report();
}
