/*
 * civil.h - proleptic Gregorian calendar arithmetic on plain integers.
 *
 * Instants are int64_t seconds since 1970-01-01T00:00:00 with no leap
 * seconds (POSIX time).  The same functions serve "local seconds": a wall
 * clock reading in some zone counted as if that zone were UTC, which is how
 * the schedule code walks local calendars without touching the C library's
 * global time zone state.  Everything here is pure and thread-safe.
 */
#ifndef SLUICE_SCHEDULER_CIVIL_H
#define SLUICE_SCHEDULER_CIVIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct civil_time {
    int year;   /* e.g. 2025 */
    int month;  /* 1-12 */
    int day;    /* 1-31 */
    int hour;   /* 0-23 */
    int minute; /* 0-59 */
    int second; /* 0-59 */
} civil_time;

/* 1 if year is a Gregorian leap year, else 0. */
int civil_is_leap(int year);

/* Days in the month (28-31); month must be 1-12. */
int civil_days_in_month(int year, int month);

/* Days since 1970-01-01 of the given date (negative before it).  The date
 * is not validated; callers pass month 1-12 and day 1-31. */
int64_t civil_days_from_date(int year, int month, int day);

/* The date of a day count from civil_days_from_date(). */
void civil_date_from_days(int64_t days, int *year, int *month, int *day);

/* Day of the week of a day count: 0 = Sunday ... 6 = Saturday. */
int civil_weekday(int64_t days);

/* Splits seconds into calendar fields (floor semantics for negatives). */
void civil_from_seconds(int64_t s, civil_time *out);

/* Seconds of the calendar fields; fields are not range-checked. */
int64_t civil_to_seconds(const civil_time *t);

/* 1 if the fields name a real date and time of day (seconds 0-59). */
int civil_valid(const civil_time *t);

/* Writes s as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes for years
 * 0-9999).  Returns the length snprintf would have written. */
int civil_format_utc(int64_t s, char *buf, size_t len);

/*
 * Parses an ISO-8601 instant: "YYYY-MM-DD", or "YYYY-MM-DDThh:mm[:ss[.f+]]"
 * followed by "Z", "+hh:mm", "+hhmm", "+hh" (or '-'), or nothing (taken as
 * UTC).  A space may stand for 'T'.  On success stores the instant's whole
 * seconds (floor) in *out_s and, if out_ns is not NULL, the fraction in
 * nanoseconds in *out_ns, and returns 0; returns -1 if the text is not such
 * an instant.
 */
int civil_parse_iso8601(const char *text, int64_t *out_s, int32_t *out_ns);

#endif
