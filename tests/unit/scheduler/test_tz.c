/*
 * test_tz.c - TZif reading, POSIX TZ rules and wall-time resolution.
 *
 * Expected offsets and transition instants come from the published rules
 * (US: second Sunday of March / first Sunday of November at 02:00; EU: last
 * Sundays of March / October at 01:00 UTC; Lord Howe: first Sunday of
 * October / April at 02:00 local, 30-minute shift) and were cross-checked
 * with zdump and Python's zoneinfo, not with this code.
 */
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/civil.h"
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

/* Wall time "YYYY-MM-DDThh:mm:ss" as local seconds. */
static int64_t W(const char *iso)
{
    return T(iso);
}

static sched_tz *load(const char *name)
{
    sched_tz *tz = NULL;
    int rc = sched_tz_load(name, &tz);

    if (rc != SCHED_TZ_OK) {
        fprintf(stderr, "  cannot load %s: %s\n", name,
                sched_tz_status_text(rc));
        abort();
    }
    return tz;
}

TEST(new_york_offsets)
{
    sched_tz *ny = load("America/New_York");

    CHECK_STR(sched_tz_name(ny), "America/New_York");
    CHECK_INT(sched_tz_offset_at(ny, T("2025-01-15T12:00:00Z")), -18000);
    CHECK_INT(sched_tz_offset_at(ny, T("2025-03-09T06:59:59Z")), -18000);
    CHECK_INT(sched_tz_offset_at(ny, T("2025-03-09T07:00:00Z")), -14400);
    CHECK_INT(sched_tz_offset_at(ny, T("2025-11-02T05:59:59Z")), -14400);
    CHECK_INT(sched_tz_offset_at(ny, T("2025-11-02T06:00:00Z")), -18000);
    /* Past the file's table: the footer rule. 2100-03-01 is a Monday,
     * so DST starts Sunday 2100-03-14 and ends Sunday 2100-11-07. */
    CHECK_INT(sched_tz_offset_at(ny, T("2100-03-14T06:59:59Z")), -18000);
    CHECK_INT(sched_tz_offset_at(ny, T("2100-03-14T07:00:00Z")), -14400);
    CHECK_INT(sched_tz_offset_at(ny, T("2100-11-07T05:59:59Z")), -14400);
    CHECK_INT(sched_tz_offset_at(ny, T("2100-11-07T06:00:00Z")), -18000);
    CHECK_INT(sched_tz_offset_at(ny, T("2150-07-01T00:00:00Z")), -14400);
    CHECK_INT(sched_tz_to_local(ny, T("2025-07-04T16:00:00Z")),
              W("2025-07-04T12:00:00"));
    sched_tz_free(ny);
}

TEST(london_offsets)
{
    sched_tz *lon = load("Europe/London");

    CHECK_INT(sched_tz_offset_at(lon, T("2025-03-30T00:59:59Z")), 0);
    CHECK_INT(sched_tz_offset_at(lon, T("2025-03-30T01:00:00Z")), 3600);
    CHECK_INT(sched_tz_offset_at(lon, T("2025-10-26T00:59:59Z")), 3600);
    CHECK_INT(sched_tz_offset_at(lon, T("2025-10-26T01:00:00Z")), 0);
    sched_tz_free(lon);
}

TEST(lord_howe_offsets)
{
    sched_tz *lh = load("Australia/Lord_Howe");

    /* 2025-04-06 02:00 +11 -> 01:30 +1030; 2025-10-05 02:00 +1030 ->
     * 02:30 +11. */
    CHECK_INT(sched_tz_offset_at(lh, T("2025-04-05T14:59:59Z")), 39600);
    CHECK_INT(sched_tz_offset_at(lh, T("2025-04-05T15:00:00Z")), 37800);
    CHECK_INT(sched_tz_offset_at(lh, T("2025-10-04T15:29:59Z")), 37800);
    CHECK_INT(sched_tz_offset_at(lh, T("2025-10-04T15:30:00Z")), 39600);
    /* Footer rule: 2060-04-04 and 2060-10-03 are the first Sundays. */
    CHECK_INT(sched_tz_offset_at(lh, T("2060-04-03T14:59:59Z")), 39600);
    CHECK_INT(sched_tz_offset_at(lh, T("2060-04-03T15:00:00Z")), 37800);
    CHECK_INT(sched_tz_offset_at(lh, T("2060-10-02T15:29:59Z")), 37800);
    CHECK_INT(sched_tz_offset_at(lh, T("2060-10-02T15:30:00Z")), 39600);
    sched_tz_free(lh);
}

static void check_local(const sched_tz *tz, const char *wall, int kind,
                        const char *utc, const char *next_wall)
{
    sched_tz_local r;

    sched_tz_resolve_local(tz, W(wall), &r);
    if (r.kind != kind)
        fprintf(stderr, "  %s %s: kind %d\n", sched_tz_name(tz), wall,
                r.kind);
    CHECK_INT(r.kind, kind);
    if (utc)
        CHECK_INT(r.utc_s, T(utc));
    if (next_wall)
        CHECK_INT(r.next_local_s, W(next_wall));
}

TEST(resolve_new_york)
{
    sched_tz *ny = load("America/New_York");

    /* Spring forward: 02:00-02:59 do not exist on 2025-03-09. */
    check_local(ny, "2025-03-09T01:59:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-03-09T06:59:00Z", NULL);
    check_local(ny, "2025-03-09T02:00:00", SCHED_TZ_LOCAL_GAP, NULL,
                "2025-03-09T03:00:00");
    check_local(ny, "2025-03-09T02:30:00", SCHED_TZ_LOCAL_GAP, NULL,
                "2025-03-09T03:00:00");
    check_local(ny, "2025-03-09T03:00:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-03-09T07:00:00Z", NULL);
    /* Fall back: 01:00-01:59 happen twice on 2025-11-02; first wins. */
    check_local(ny, "2025-11-02T00:59:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-11-02T04:59:00Z", NULL);
    check_local(ny, "2025-11-02T01:00:00", SCHED_TZ_LOCAL_AMBIGUOUS,
                "2025-11-02T05:00:00Z", "2025-11-02T02:00:00");
    check_local(ny, "2025-11-02T01:30:00", SCHED_TZ_LOCAL_AMBIGUOUS,
                "2025-11-02T05:30:00Z", "2025-11-02T02:00:00");
    check_local(ny, "2025-11-02T02:00:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-11-02T07:00:00Z", NULL);
    check_local(ny, "2025-11-02T02:30:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-11-02T07:30:00Z", NULL);
    /* Beyond the table, from the rule. */
    check_local(ny, "2100-03-14T02:30:00", SCHED_TZ_LOCAL_GAP, NULL,
                "2100-03-14T03:00:00");
    check_local(ny, "2100-11-07T01:30:00", SCHED_TZ_LOCAL_AMBIGUOUS,
                "2100-11-07T05:30:00Z", "2100-11-07T02:00:00");
    sched_tz_free(ny);
}

TEST(resolve_london)
{
    sched_tz *lon = load("Europe/London");

    check_local(lon, "2025-03-30T00:59:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-03-30T00:59:00Z", NULL);
    check_local(lon, "2025-03-30T01:00:00", SCHED_TZ_LOCAL_GAP, NULL,
                "2025-03-30T02:00:00");
    check_local(lon, "2025-03-30T02:00:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-03-30T01:00:00Z", NULL);
    check_local(lon, "2025-10-26T01:00:00", SCHED_TZ_LOCAL_AMBIGUOUS,
                "2025-10-26T00:00:00Z", "2025-10-26T02:00:00");
    check_local(lon, "2025-10-26T01:59:00", SCHED_TZ_LOCAL_AMBIGUOUS,
                "2025-10-26T00:59:00Z", "2025-10-26T02:00:00");
    check_local(lon, "2025-10-26T02:00:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-10-26T02:00:00Z", NULL);
    sched_tz_free(lon);
}

TEST(resolve_lord_howe_half_hour)
{
    sched_tz *lh = load("Australia/Lord_Howe");

    /* Spring forward 2025-10-05: 02:00-02:29 do not exist. */
    check_local(lh, "2025-10-05T01:59:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-10-04T15:29:00Z", NULL);
    check_local(lh, "2025-10-05T02:00:00", SCHED_TZ_LOCAL_GAP, NULL,
                "2025-10-05T02:30:00");
    check_local(lh, "2025-10-05T02:15:00", SCHED_TZ_LOCAL_GAP, NULL,
                "2025-10-05T02:30:00");
    check_local(lh, "2025-10-05T02:30:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-10-04T15:30:00Z", NULL);
    /* Fall back 2025-04-06: 01:30-01:59 happen twice. */
    check_local(lh, "2025-04-06T01:29:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-04-05T14:29:00Z", NULL);
    check_local(lh, "2025-04-06T01:30:00", SCHED_TZ_LOCAL_AMBIGUOUS,
                "2025-04-05T14:30:00Z", "2025-04-06T02:00:00");
    check_local(lh, "2025-04-06T01:45:00", SCHED_TZ_LOCAL_AMBIGUOUS,
                "2025-04-05T14:45:00Z", "2025-04-06T02:00:00");
    check_local(lh, "2025-04-06T02:00:00", SCHED_TZ_LOCAL_UNIQUE,
                "2025-04-05T15:30:00Z", NULL);
    sched_tz_free(lh);
}

TEST(utc_and_fixed_zones)
{
    sched_tz *utc = load("UTC"), *gmt5 = load("Etc/GMT+5");
    sched_tz_local r;

    CHECK(utc == sched_tz_utc());
    CHECK_STR(sched_tz_name(utc), "UTC");
    CHECK_INT(sched_tz_offset_at(utc, T("2025-07-01T00:00:00Z")), 0);
    sched_tz_resolve_local(utc, W("2025-03-09T02:30:00"), &r);
    CHECK_INT(r.kind, SCHED_TZ_LOCAL_UNIQUE);
    CHECK_INT(r.utc_s, T("2025-03-09T02:30:00Z"));
    /* POSIX-style names count west as positive: Etc/GMT+5 is UTC-5. */
    CHECK_INT(sched_tz_offset_at(gmt5, T("2025-07-01T00:00:00Z")), -18000);
    sched_tz_free(utc); /* a no-op on the built-in zone */
    sched_tz_free(gmt5);
    CHECK_INT(sched_tz_load(NULL, &utc), SCHED_TZ_OK);
    CHECK(utc == sched_tz_utc());
}

TEST(bad_names)
{
    static const char *const names[] = {
        "", "/etc/passwd", "../../etc/passwd", "America/../../etc/passwd",
        "America//New_York", "America/New_York/", "zone.tab",
        "America/New York", "x\x01y",
        "Aaaaaaaaaa/Bbbbbbbbbb/Cccccccccc/Dddddddddd/Eeeeeeeeee1",
    };
    sched_tz *tz = (sched_tz *)1;

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK_INT(sched_tz_load(names[i], &tz), SCHED_TZ_BAD_NAME);
        CHECK(tz == NULL);
    }
    CHECK_INT(sched_tz_load("Mars/Olympus_Mons", &tz), SCHED_TZ_NOT_FOUND);
    CHECK_INT(sched_tz_load("America", &tz), SCHED_TZ_NOT_FOUND); /* dir */
    CHECK_INT(sched_tz_load("america/new_york", &tz), SCHED_TZ_NOT_FOUND);
    CHECK_INT(sched_tz_load("leapseconds", &tz), SCHED_TZ_BAD_DATA);
    CHECK_INT(sched_tz_load("right/UTC", &tz), SCHED_TZ_BAD_DATA);
    CHECK_STR(sched_tz_status_text(SCHED_TZ_NOT_FOUND), "unknown time zone");
}

/* ---- synthetic TZif files for the rule and format corner cases ------ */

static size_t put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

static size_t put_header(unsigned char *p, char version, uint32_t timecnt,
                         uint32_t typecnt, uint32_t leapcnt)
{
    memset(p, 0, 44);
    memcpy(p, "TZif", 4);
    p[4] = (unsigned char)version;
    put32(p + 28, leapcnt);
    put32(p + 32, timecnt);
    put32(p + 36, typecnt);
    put32(p + 40, 4); /* charcnt: "ABC\0" */
    return 44;
}

/* One data block with times of tsize bytes. */
static size_t put_block(unsigned char *p, size_t tsize, size_t n,
                        const int64_t *times, const uint8_t *idx,
                        size_t ntypes, const int32_t *offs, uint32_t leapcnt)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (tsize == 8)
            k += put32(p + k, (uint32_t)((uint64_t)times[i] >> 32));
        k += put32(p + k, (uint32_t)times[i]);
    }
    for (size_t i = 0; i < n; i++)
        p[k++] = idx[i];
    for (size_t i = 0; i < ntypes; i++) {
        k += put32(p + k, (uint32_t)offs[i]);
        p[k++] = 0;
        p[k++] = 0;
    }
    memcpy(p + k, "ABC", 4);
    k += 4;
    memset(p + k, 0, leapcnt * (tsize + 4));
    return k + leapcnt * (tsize + 4);
}

/* A TZif file; version '\0' has no 64-bit part and no footer. */
static size_t build(unsigned char *buf, char version, size_t n,
                    const int64_t *times, const uint8_t *idx, size_t ntypes,
                    const int32_t *offs, const char *footer)
{
    size_t k = put_header(buf, version, (uint32_t)n, (uint32_t)ntypes, 0);

    k += put_block(buf + k, 4, n, times, idx, ntypes, offs, 0);
    if (version == 0)
        return k;
    k += put_header(buf + k, version, (uint32_t)n, (uint32_t)ntypes, 0);
    k += put_block(buf + k, 8, n, times, idx, ntypes, offs, 0);
    buf[k++] = '\n';
    memcpy(buf + k, footer, strlen(footer));
    k += strlen(footer);
    buf[k++] = '\n';
    return k;
}

static sched_tz *rule_zone(const char *footer)
{
    static unsigned char buf[512];
    int32_t off = 0;
    sched_tz *tz = NULL;
    size_t len = build(buf, '2', 0, NULL, NULL, 1, &off, footer);

    if (sched_tz_parse(footer, buf, len, &tz) != SCHED_TZ_OK) {
        fprintf(stderr, "  rule refused: %s\n", footer);
        abort();
    }
    return tz;
}

TEST(posix_rule_northern)
{
    sched_tz *tz = rule_zone("EST5EDT,M3.2.0,M11.1.0");

    CHECK_INT(sched_tz_offset_at(tz, T("2025-03-09T06:59:59Z")), -18000);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-03-09T07:00:00Z")), -14400);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-11-02T05:59:59Z")), -14400);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-11-02T06:00:00Z")), -18000);
    sched_tz_free(tz);

    /* Without a rule POSIX assumes the US one. */
    tz = rule_zone("CST6CDT");
    CHECK_INT(sched_tz_offset_at(tz, T("2025-03-09T07:59:59Z")), -21600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-03-09T08:00:00Z")), -18000);
    sched_tz_free(tz);
}

TEST(posix_rule_southern)
{
    /* Sydney: DST ends 2025-04-06 03:00 AEDT, starts 2025-10-05 02:00. */
    sched_tz *tz = rule_zone("AEST-10AEDT,M10.1.0,M4.1.0/3");

    CHECK_INT(sched_tz_offset_at(tz, T("2025-01-01T00:00:00Z")), 39600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-04-05T15:59:59Z")), 39600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-04-05T16:00:00Z")), 36000);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-07-01T00:00:00Z")), 36000);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-10-04T15:59:59Z")), 36000);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-10-04T16:00:00Z")), 39600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-12-31T23:00:00Z")), 39600);
    sched_tz_free(tz);
}

TEST(posix_rule_negative_dst_and_half_hours)
{
    /* Dublin's footer: "standard" IST +1 in summer, GMT in winter. */
    sched_tz *tz = rule_zone("IST-1GMT0,M10.5.0,M3.5.0/1");

    CHECK_INT(sched_tz_offset_at(tz, T("2025-03-30T00:59:59Z")), 0);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-03-30T01:00:00Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-10-26T00:59:59Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-10-26T01:00:00Z")), 0);
    sched_tz_free(tz);

    tz = rule_zone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    CHECK_INT(sched_tz_offset_at(tz, T("2025-04-05T14:59:59Z")), 39600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-04-05T15:00:00Z")), 37800);
    sched_tz_free(tz);

    tz = rule_zone("<+0530>-5:30");
    CHECK_INT(sched_tz_offset_at(tz, T("2025-04-05T15:00:00Z")), 19800);
    sched_tz_free(tz);
}

TEST(posix_rule_julian_days)
{
    /* J60 is 1 March in every year; day 300 counted from 0 includes
     * 29 February (2024: 27 October; 2025: 28 October). */
    sched_tz *tz = rule_zone("AAA0BBB,J60/0,300/0");

    CHECK_INT(sched_tz_offset_at(tz, T("2024-02-29T23:59:59Z")), 0);
    CHECK_INT(sched_tz_offset_at(tz, T("2024-03-01T00:00:00Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2024-10-26T22:59:59Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2024-10-26T23:00:00Z")), 0);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-02-28T23:59:59Z")), 0);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-03-01T00:00:00Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-10-27T22:59:59Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-10-27T23:00:00Z")), 0);
    sched_tz_free(tz);

    tz = rule_zone("AAA0BBB,59/0,J300/0"); /* day 59: 29 Feb in 2024 */
    CHECK_INT(sched_tz_offset_at(tz, T("2024-02-28T23:59:59Z")), 0);
    CHECK_INT(sched_tz_offset_at(tz, T("2024-02-29T00:00:00Z")), 3600);
    sched_tz_free(tz);
}

TEST(tzif_table_then_rule_and_v1)
{
    unsigned char buf[512];
    int64_t times[2] = {T("2000-01-01T00:00:00Z"), T("2010-01-01T00:00:00Z")};
    uint8_t idx[2] = {1, 0};
    int32_t offs[2] = {3600, 7200};
    sched_tz *tz;
    size_t len;

    /* Version 1: no footer, the last offset lasts forever. */
    len = build(buf, 0, 2, times, idx, 2, offs, "");
    CHECK_INT(sched_tz_parse("v1", buf, len, &tz), SCHED_TZ_OK);
    CHECK_INT(sched_tz_offset_at(tz, T("1999-12-31T23:59:59Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2000-01-01T00:00:00Z")), 7200);
    CHECK_INT(sched_tz_offset_at(tz, T("2010-01-01T00:00:00Z")), 3600);
    CHECK_INT(sched_tz_offset_at(tz, T("2150-01-01T00:00:00Z")), 3600);
    sched_tz_free(tz);

    /* Version 2 with an empty footer: the same. */
    len = build(buf, '2', 2, times, idx, 2, offs, "");
    CHECK_INT(sched_tz_parse("v2", buf, len, &tz), SCHED_TZ_OK);
    CHECK_INT(sched_tz_offset_at(tz, T("2150-01-01T00:00:00Z")), 3600);
    sched_tz_free(tz);

    /* Version 2 with a rule: the table first, then the rule. */
    len = build(buf, '3', 2, times, idx, 2, offs, "EST5EDT,M3.2.0,M11.1.0");
    CHECK_INT(sched_tz_parse("v3", buf, len, &tz), SCHED_TZ_OK);
    CHECK_INT(sched_tz_offset_at(tz, T("2005-07-01T00:00:00Z")), 7200);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-07-01T00:00:00Z")), -14400);
    CHECK_INT(sched_tz_offset_at(tz, T("2025-12-01T00:00:00Z")), -18000);
    sched_tz_free(tz);
}

TEST(tzif_corrupt)
{
    unsigned char buf[512];
    int64_t times[2] = {T("2010-01-01T00:00:00Z"), T("2000-01-01T00:00:00Z")};
    uint8_t idx[2] = {0, 0};
    uint8_t bad_idx[2] = {0, 5};
    int32_t off = 3600;
    sched_tz *tz = NULL;
    size_t len;

    len = build(buf, '2', 0, NULL, NULL, 1, &off, "EST5EDT,M3.2.0,M11.1.0");
    CHECK_INT(sched_tz_parse("ok", buf, len, &tz), SCHED_TZ_OK);
    sched_tz_free(tz);
    /* Truncated anywhere. */
    for (size_t cut = 0; cut < len; cut += 7)
        CHECK_INT(sched_tz_parse("cut", buf, cut, &tz), SCHED_TZ_BAD_DATA);
    /* Wrong magic. */
    buf[3] = 'g';
    CHECK_INT(sched_tz_parse("magic", buf, len, &tz), SCHED_TZ_BAD_DATA);
    /* Malformed footers. */
    len = build(buf, '2', 0, NULL, NULL, 1, &off, "EST5EDT,M13.2.0,M11.1.0");
    CHECK_INT(sched_tz_parse("f", buf, len, &tz), SCHED_TZ_BAD_DATA);
    len = build(buf, '2', 0, NULL, NULL, 1, &off, "E5");
    CHECK_INT(sched_tz_parse("f", buf, len, &tz), SCHED_TZ_BAD_DATA);
    len = build(buf, '2', 0, NULL, NULL, 1, &off, "EST5EDT,M3.2.0");
    CHECK_INT(sched_tz_parse("f", buf, len, &tz), SCHED_TZ_BAD_DATA);
    /* Unsorted transitions; type index out of range. */
    len = build(buf, 0, 2, times, idx, 1, &off, "");
    CHECK_INT(sched_tz_parse("sort", buf, len, &tz), SCHED_TZ_BAD_DATA);
    times[0] = T("1990-01-01T00:00:00Z");
    len = build(buf, 0, 2, times, bad_idx, 1, &off, "");
    CHECK_INT(sched_tz_parse("idx", buf, len, &tz), SCHED_TZ_BAD_DATA);
    /* Leap-second records. */
    len = put_header(buf, 0, 0, 1, 1);
    len += put_block(buf + len, 4, 0, NULL, NULL, 1, &off, 1);
    CHECK_INT(sched_tz_parse("leap", buf, len, &tz), SCHED_TZ_BAD_DATA);
    CHECK(tz == NULL);
}

TEST(cache_shares_zones)
{
    int status = -1;
    const sched_tz *a = sched_tz_get("Europe/London", &status);
    const sched_tz *b = sched_tz_get("Europe/London", NULL);

    CHECK(a != NULL);
    CHECK_INT(status, SCHED_TZ_OK);
    CHECK(a == b);
    CHECK(sched_tz_get("UTC", NULL) == sched_tz_utc());
    CHECK(sched_tz_get(NULL, NULL) == sched_tz_utc());
    CHECK(sched_tz_get("No/Such_Zone", &status) == NULL);
    CHECK_INT(status, SCHED_TZ_NOT_FOUND);
    CHECK(sched_tz_get("../x", &status) == NULL);
    CHECK_INT(status, SCHED_TZ_BAD_NAME);
    sched_tz_cache_clear();
}

static void *cache_worker(void *arg)
{
    static const char *const zones[] = {"America/New_York", "Europe/London",
                                        "Australia/Lord_Howe", "Asia/Tokyo"};
    const sched_tz **seen = arg;

    for (int round = 0; round < 50; round++)
        for (int z = 0; z < 4; z++) {
            const sched_tz *tz = sched_tz_get(zones[z], NULL);
            if (!seen[z])
                seen[z] = tz;
            if (tz != seen[z] || !tz)
                seen[4] = (const sched_tz *)1; /* a mismatch */
        }
    return NULL;
}

TEST(cache_is_thread_safe)
{
    pthread_t th[8];
    const sched_tz *seen[8][5];

    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 8; i++)
        CHECK_INT(pthread_create(&th[i], NULL, cache_worker, seen[i]), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++) {
        CHECK(seen[i][4] == NULL);
        for (int z = 0; z < 4; z++)
            CHECK(seen[i][z] == seen[0][z]);
    }
    CHECK_INT(sched_tz_offset_at(seen[0][3], T("2025-07-01T00:00:00Z")),
              32400);
    sched_tz_cache_clear();
}

int main(void)
{
    RUN(new_york_offsets);
    RUN(london_offsets);
    RUN(lord_howe_offsets);
    RUN(resolve_new_york);
    RUN(resolve_london);
    RUN(resolve_lord_howe_half_hour);
    RUN(utc_and_fixed_zones);
    RUN(bad_names);
    RUN(posix_rule_northern);
    RUN(posix_rule_southern);
    RUN(posix_rule_negative_dst_and_half_hours);
    RUN(posix_rule_julian_days);
    RUN(tzif_table_then_rule_and_v1);
    RUN(tzif_corrupt);
    RUN(cache_shares_zones);
    RUN(cache_is_thread_safe);
    return check_report();
}
