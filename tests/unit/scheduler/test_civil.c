/*
 * test_civil.c - calendar arithmetic and ISO-8601 parsing (scheduler/civil).
 * Epoch values were taken from GNU date (date -u -d ... +%s).
 */
#include "check.h"

#include "scheduler/civil.h"

static int64_t secs(int y, int mo, int d, int h, int mi, int s)
{
    civil_time t = {y, mo, d, h, mi, s};
    return civil_to_seconds(&t);
}

TEST(known_epochs)
{
    CHECK_INT(secs(1970, 1, 1, 0, 0, 0), 0);
    CHECK_INT(secs(2000, 3, 1, 0, 0, 0), 951868800);
    CHECK_INT(secs(2024, 2, 29, 12, 34, 56), 1709210096);
    CHECK_INT(secs(2025, 3, 9, 7, 0, 0), 1741503600);
    CHECK_INT(secs(2199, 12, 31, 23, 59, 0), 7258118340LL);
    CHECK_INT(secs(1969, 12, 31, 23, 59, 59), -1);
    CHECK_INT(secs(1900, 1, 1, 0, 0, 0), -2208988800LL);
}

TEST(round_trip)
{
    civil_time t;

    civil_from_seconds(7258118340LL, &t);
    CHECK_INT(t.year, 2199);
    CHECK_INT(t.month, 12);
    CHECK_INT(t.day, 31);
    CHECK_INT(t.hour, 23);
    CHECK_INT(t.minute, 59);
    civil_from_seconds(-1, &t);
    CHECK_INT(t.year, 1969);
    CHECK_INT(t.second, 59);
    civil_from_seconds(1709210096, &t);
    CHECK_INT(t.month, 2);
    CHECK_INT(t.day, 29);
}

TEST(leap_years_and_month_lengths)
{
    CHECK(civil_is_leap(2024));
    CHECK(civil_is_leap(2000));
    CHECK(!civil_is_leap(2100));
    CHECK(!civil_is_leap(2025));
    CHECK_INT(civil_days_in_month(2024, 2), 29);
    CHECK_INT(civil_days_in_month(2100, 2), 28);
    CHECK_INT(civil_days_in_month(2025, 4), 30);
    CHECK_INT(civil_days_in_month(2025, 12), 31);
}

TEST(weekdays)
{
    /* 1970-01-01 Thursday, 2025-01-01 Wednesday, 2000-02-29 Tuesday. */
    CHECK_INT(civil_weekday(civil_days_from_date(1970, 1, 1)), 4);
    CHECK_INT(civil_weekday(civil_days_from_date(2025, 1, 1)), 3);
    CHECK_INT(civil_weekday(civil_days_from_date(2000, 2, 29)), 2);
    CHECK_INT(civil_weekday(civil_days_from_date(1969, 12, 28)), 0);
}

TEST(validity)
{
    civil_time ok = {2024, 2, 29, 23, 59, 59};
    civil_time feb29 = {2023, 2, 29, 0, 0, 0};
    civil_time hour24 = {2024, 1, 1, 24, 0, 0};
    civil_time month13 = {2024, 13, 1, 0, 0, 0};

    CHECK(civil_valid(&ok));
    CHECK(!civil_valid(&feb29));
    CHECK(!civil_valid(&hour24));
    CHECK(!civil_valid(&month13));
}

TEST(format)
{
    char buf[32];

    civil_format_utc(1741503600, buf, sizeof buf);
    CHECK_STR(buf, "2025-03-09T07:00:00Z");
    civil_format_utc(0, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
}

TEST(parse_iso8601)
{
    int64_t s;
    int32_t ns;

    CHECK_INT(civil_parse_iso8601("2025-03-09T07:00:00Z", &s, &ns), 0);
    CHECK_INT(s, 1741503600);
    CHECK_INT(ns, 0);
    CHECK_INT(civil_parse_iso8601("2025-03-09T02:00:00-05:00", &s, NULL), 0);
    CHECK_INT(s, 1741503600);
    CHECK_INT(civil_parse_iso8601("2025-03-09T12:30:00+0530", &s, NULL), 0);
    CHECK_INT(s, 1741503600);
    CHECK_INT(civil_parse_iso8601("2025-03-09T08:00:00+01", &s, NULL), 0);
    CHECK_INT(s, 1741503600);
    CHECK_INT(civil_parse_iso8601("2025-03-09 07:00:00", &s, NULL), 0);
    CHECK_INT(s, 1741503600);
    CHECK_INT(civil_parse_iso8601("2025-03-09T07:00Z", &s, NULL), 0);
    CHECK_INT(s, 1741503600);
    CHECK_INT(civil_parse_iso8601("2025-03-09", &s, NULL), 0);
    CHECK_INT(s, 1741478400);
    CHECK_INT(civil_parse_iso8601("2025-03-09T07:00:00.250Z", &s, &ns), 0);
    CHECK_INT(s, 1741503600);
    CHECK_INT(ns, 250000000);
}

TEST(parse_iso8601_rejects)
{
    int64_t s;

    CHECK_INT(civil_parse_iso8601("", &s, NULL), -1);
    CHECK_INT(civil_parse_iso8601("2025-02-29T00:00:00Z", &s, NULL), -1);
    CHECK_INT(civil_parse_iso8601("2025-03-09T25:00:00Z", &s, NULL), -1);
    CHECK_INT(civil_parse_iso8601("2025-03-09T07:00:00X", &s, NULL), -1);
    CHECK_INT(civil_parse_iso8601("2025-03-09T07:00:00Zjunk", &s, NULL), -1);
    CHECK_INT(civil_parse_iso8601("2025-3-9T07:00:00Z", &s, NULL), -1);
    CHECK_INT(civil_parse_iso8601("1741503600", &s, NULL), -1);
    CHECK_INT(civil_parse_iso8601("2025-03-09T07:00:00.Z", &s, NULL), -1);
}

int main(void)
{
    RUN(known_epochs);
    RUN(round_trip);
    RUN(leap_years_and_month_lengths);
    RUN(weekdays);
    RUN(validity);
    RUN(format);
    RUN(parse_iso8601);
    RUN(parse_iso8601_rejects);
    return check_report();
}
