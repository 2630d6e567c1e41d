/*
 * expr.h - AWS schedule expressions: at(), rate() and six-field cron().
 *
 * One parser serves two dialects that differ only in what they accept and
 * how they word the refusal:
 *   - EventBridge rules (PutRule): rate() and cron() only; rate units must
 *     agree in number with the value ("1 minute", "5 minutes").
 *     Refusal: ValidationException "Parameter ScheduleExpression is not
 *     valid."
 *   - EventBridge Scheduler (CreateSchedule/UpdateSchedule): also at();
 *     singular and plural units are both accepted.  Refusal:
 *     ValidationException "Invalid Schedule Expression <expression>."
 *
 * A parsed expression is a small fixed-size value (no heap), so a server
 * can keep one per schedule and copy it freely.  Cron fields are bit sets;
 * the day-of-month and day-of-week fields also carry a mode for the
 * special forms L, L-n, LW, nW, nL and d#n.  Fire times are computed by
 * nextfire.h.
 */
#ifndef SLUICE_SCHEDULER_EXPR_H
#define SLUICE_SCHEDULER_EXPR_H

#include <stddef.h>
#include <stdint.h>

enum sched_dialect {
    SCHED_DIALECT_RULE,      /* EventBridge PutRule */
    SCHED_DIALECT_SCHEDULER  /* EventBridge Scheduler */
};

enum sched_kind { SCHED_AT = 1, SCHED_RATE, SCHED_CRON };

enum sched_rate_unit { SCHED_MINUTES, SCHED_HOURS, SCHED_DAYS };

/* Years a cron expression may name. */
#define SCHED_CRON_YEAR_MIN 1970
#define SCHED_CRON_YEAR_MAX 2199

enum sched_dom_mode {
    SCHED_DOM_ANY = 0,         /* "?" */
    SCHED_DOM_SET,             /* days in `days` */
    SCHED_DOM_LAST,            /* "L" (dom_arg 0) or "L-n" (dom_arg n) */
    SCHED_DOM_LAST_WEEKDAY,    /* "LW": last Monday-Friday of the month */
    SCHED_DOM_NEAREST_WEEKDAY  /* "nW": weekday nearest day dom_arg */
};

enum sched_dow_mode {
    SCHED_DOW_ANY = 0, /* "?" */
    SCHED_DOW_SET,     /* weekdays in `weekdays` (1 = Sunday) */
    SCHED_DOW_LAST,    /* "nL": last weekday dow_arg of the month */
    SCHED_DOW_NTH      /* "d#n": dow_nth-th weekday dow_arg of the month */
};

typedef struct sched_cron {
    uint64_t minutes;  /* bit m: minute m (0-59) */
    uint32_t hours;    /* bit h: hour h (0-23) */
    uint32_t days;     /* bit d: day of month d (1-31), SCHED_DOM_SET */
    uint16_t months;   /* bit m: month m (1-12) */
    uint8_t weekdays;  /* bit d: weekday d (1-7, 1 = Sunday), SCHED_DOW_SET */
    uint8_t dom_mode;  /* enum sched_dom_mode */
    uint8_t dom_arg;
    uint8_t dow_mode;  /* enum sched_dow_mode */
    uint8_t dow_arg;   /* 1-7 */
    uint8_t dow_nth;   /* 1-5 */
    uint64_t years[4]; /* bit y - 1970 */
} sched_cron;

typedef struct sched_expr {
    int kind; /* enum sched_kind */
    union {
        struct {
            int year, month, day, hour, minute, second; /* wall time */
        } at;
        struct {
            uint32_t value;
            int unit;         /* enum sched_rate_unit */
            int64_t period_s; /* value * unit, in elapsed seconds */
        } rate;
        sched_cron cron;
    } u;
} sched_expr;

/* Why an expression was refused (for tests and logs; the wire message is
 * the same for all of them, see sched_expr_message). */
#define SCHED_EXPR_ERRORS(X)                                                 \
    X(SCHED_EXPR_OK, "valid")                                                \
    X(SCHED_EXPR_E_KIND, "not at(...), rate(...) or cron(...)")              \
    X(SCHED_EXPR_E_AT_DIALECT, "at() is not accepted here")                  \
    X(SCHED_EXPR_E_AT_FORMAT, "at() is not yyyy-mm-ddThh:mm:ss")             \
    X(SCHED_EXPR_E_AT_DATE, "at() names no such date or time")               \
    X(SCHED_EXPR_E_RATE_FORMAT, "rate() is not 'value unit'")                \
    X(SCHED_EXPR_E_RATE_VALUE, "rate() value is not a positive integer")     \
    X(SCHED_EXPR_E_RATE_UNIT, "rate() unit is not minute, hour or day")      \
    X(SCHED_EXPR_E_RATE_NUMBER, "rate() unit must be singular for 1 only")   \
    X(SCHED_EXPR_E_CRON_FIELDS, "cron() needs six single-space fields")      \
    X(SCHED_EXPR_E_CRON_MINUTE, "cron() minutes field is not valid")         \
    X(SCHED_EXPR_E_CRON_HOUR, "cron() hours field is not valid")             \
    X(SCHED_EXPR_E_CRON_DOM, "cron() day-of-month field is not valid")       \
    X(SCHED_EXPR_E_CRON_MONTH, "cron() month field is not valid")            \
    X(SCHED_EXPR_E_CRON_DOW, "cron() day-of-week field is not valid")        \
    X(SCHED_EXPR_E_CRON_YEAR, "cron() year field is not valid")              \
    X(SCHED_EXPR_E_CRON_DAYS, "cron() needs '?' in exactly one day field")

#define SCHED_EXPR_ENUM_(name, text) name,
enum sched_expr_error {
    SCHED_EXPR_ERRORS(SCHED_EXPR_ENUM_) SCHED_EXPR_NERRORS
};
#undef SCHED_EXPR_ENUM_

/*
 * Parses the len bytes at text as a schedule expression of `dialect`.
 * Returns SCHED_EXPR_OK and fills *out, or an error code (and *out is
 * unspecified).  The text need not be NUL-terminated; embedded NULs make it
 * invalid.  Pure and thread-safe.
 */
int sched_expr_parse(const char *text, size_t len, int dialect,
                     sched_expr *out);

/* The identifier of an error code ("SCHED_EXPR_E_CRON_DOW"). */
const char *sched_expr_error_name(int err);

/* A short English reason for an error code. */
const char *sched_expr_error_text(int err);

/*
 * Writes AWS's ValidationException message for refusing expression
 * text/len in `dialect` into buf (NUL-terminated, truncated to len_buf).
 * Returns the length of the full message, like snprintf.
 */
int sched_expr_message(int dialect, const char *text, size_t len, char *buf,
                       size_t buf_len);

#endif
