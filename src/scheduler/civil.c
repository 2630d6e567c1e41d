/*
 * civil.c - the calendar arithmetic of civil.h.
 *
 * Dates convert to day counts through the usual "March-based year" trick:
 * counting the year from March puts the leap day at the end, so the day of
 * the year follows from the month by a linear formula, and 400-year eras
 * make the result exact for every year, negative ones included.
 */
#include "scheduler/civil.h"

#include <stdio.h>

#define SECONDS_PER_DAY 86400

/* Floor division and modulo for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

int civil_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int civil_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    if (month == 2)
        return civil_is_leap(year) ? 29 : 28;
    return days[(month - 1) % 12];
}

int64_t civil_days_from_date(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = floor_div(y, 400);
    int64_t year_of_era = y - era * 400;                 /* 0..399 */
    int64_t march_month = month > 2 ? month - 3 : month + 9; /* Mar = 0 */
    int64_t day_of_year = (153 * march_month + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 -
                         year_of_era / 100 + day_of_year;

    /* 719468 days lie between 0000-03-01 and 1970-01-01. */
    return era * 146097 + day_of_era - 719468;
}

void civil_date_from_days(int64_t days, int *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 +
                           day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 -
                                        year_of_era / 100);
    int64_t march_month = (5 * day_of_year + 2) / 153;
    int64_t m = march_month < 10 ? march_month + 3 : march_month - 9;

    *day = (int)(day_of_year - (153 * march_month + 2) / 5 + 1);
    *month = (int)m;
    *year = (int)(year_of_era + era * 400 + (m <= 2));
}

int civil_weekday(int64_t days)
{
    return (int)floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

void civil_from_seconds(int64_t s, civil_time *out)
{
    int64_t days = floor_div(s, SECONDS_PER_DAY);
    int64_t sod = s - days * SECONDS_PER_DAY;

    civil_date_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod / 60 % 60);
    out->second = (int)(sod % 60);
}

int64_t civil_to_seconds(const civil_time *t)
{
    return civil_days_from_date(t->year, t->month, t->day) * SECONDS_PER_DAY +
           (int64_t)t->hour * 3600 + (int64_t)t->minute * 60 + t->second;
}

int civil_valid(const civil_time *t)
{
    if (t->month < 1 || t->month > 12 || t->day < 1)
        return 0;
    if (t->day > civil_days_in_month(t->year, t->month))
        return 0;
    return t->hour >= 0 && t->hour <= 23 && t->minute >= 0 &&
           t->minute <= 59 && t->second >= 0 && t->second <= 59;
}

int civil_format_utc(int64_t s, char *buf, size_t len)
{
    civil_time t;

    civil_from_seconds(s, &t);
    return snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year,
                    t.month, t.day, t.hour, t.minute, t.second);
}

/* Reads exactly n decimal digits at *p; returns -1 if they are not there. */
static int read_digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

/* Parses the zone designator at p into seconds east of UTC. */
static int parse_zone(const char *p, int32_t *offset)
{
    int sign, hh, mm = 0;

    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *offset = 0;
        return 0;
    }
    if (*p == '\0') {
        *offset = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    sign = *p++ == '-' ? -1 : 1;
    if ((hh = read_digits(&p, 2)) < 0 || hh > 23)
        return -1;
    if (*p == ':')
        p++;
    if (*p != '\0' && ((mm = read_digits(&p, 2)) < 0 || mm > 59))
        return -1;
    if (*p != '\0')
        return -1;
    *offset = sign * (hh * 3600 + mm * 60);
    return 0;
}

int civil_parse_iso8601(const char *text, int64_t *out_s, int32_t *out_ns)
{
    const char *p = text;
    civil_time t = {0, 0, 0, 0, 0, 0};
    int32_t ns = 0, offset = 0;

    /* Date. */
    if ((t.year = read_digits(&p, 4)) < 0 || *p++ != '-' ||
        (t.month = read_digits(&p, 2)) < 0 || *p++ != '-' ||
        (t.day = read_digits(&p, 2)) < 0)
        return -1;

    /* Time of day, optional seconds and fraction. */
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if ((t.hour = read_digits(&p, 2)) < 0 || *p++ != ':' ||
            (t.minute = read_digits(&p, 2)) < 0)
            return -1;
        if (*p == ':') {
            p++;
            if ((t.second = read_digits(&p, 2)) < 0)
                return -1;
            if (*p == '.' || *p == ',') {
                int32_t scale = 100000000;
                p++;
                if (*p < '0' || *p > '9')
                    return -1;
                for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
                    ns += (*p - '0') * scale;
            }
        }
    }

    /* Zone. */
    if (parse_zone(p, &offset) != 0 || !civil_valid(&t))
        return -1;
    *out_s = civil_to_seconds(&t) - offset;
    if (out_ns)
        *out_ns = ns;
    return 0;
}
