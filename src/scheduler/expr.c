/*
 * expr.c - parsing and validating AWS schedule expressions (see expr.h).
 *
 * AWS's cron dialect descends from Quartz's, with AWS's own limits: six
 * fields (no seconds, year required), exactly one '?' among the two day
 * fields, years 1970-2199.  What this parser accepts, field by field:
 *
 *   minutes 0-59, hours 0-23, months 1-12/JAN-DEC, years 1970-2199:
 *       lists of  *  v  a-b  with an optional /step
 *   day-of-month 1-31: the same, or one of  ?  L  L-n (n 1-30)  LW  nW
 *   day-of-week 1-7/SUN-SAT (1 = Sunday): the same, or one of
 *       ?  L (= Saturday)  dL (last d of the month)  d#n (n 1-5)
 *
 * "a/b" runs from a to the field's maximum in steps of b; a range whose
 * end is below its start wraps past the maximum (22-2 = 22,23,0,1,2), as in
 * Quartz, except for years.  The special day forms stand alone: Quartz, and
 * so AWS, does not combine L, W or # with lists.  Names and the letters
 * L, W are case-insensitive; the at/rate/cron keywords and rate units are
 * not.  Spacing is strict: one space between fields, none inside the
 * parentheses' edges.
 */
#include "scheduler/expr.h"

#include <stdio.h>
#include <string.h>

#include "scheduler/civil.h"

static const char *const month_names[12] = {"JAN", "FEB", "MAR", "APR",
                                            "MAY", "JUN", "JUL", "AUG",
                                            "SEP", "OCT", "NOV", "DEC"};
static const char *const weekday_names[7] = {"SUN", "MON", "TUE", "WED",
                                             "THU", "FRI", "SAT"};

/* What one cron field accepts. */
struct field_spec {
    int min, max;
    int base;                  /* value of bit 0 in the field's bit set */
    int max_step;
    const char *const *names;  /* three-letter names of min, min+1, ... */
    int wraps;                 /* may a range run past max to min? */
    int err;                   /* the error this field reports */
};

static const struct field_spec minute_spec = {
    0, 59, 0, 59, NULL, 1, SCHED_EXPR_E_CRON_MINUTE};
static const struct field_spec hour_spec = {
    0, 23, 0, 23, NULL, 1, SCHED_EXPR_E_CRON_HOUR};
static const struct field_spec dom_spec = {
    1, 31, 0, 31, NULL, 1, SCHED_EXPR_E_CRON_DOM};
static const struct field_spec month_spec = {
    1, 12, 0, 12, month_names, 1, SCHED_EXPR_E_CRON_MONTH};
static const struct field_spec dow_spec = {
    1, 7, 0, 7, weekday_names, 1, SCHED_EXPR_E_CRON_DOW};
static const struct field_spec year_spec = {
    SCHED_CRON_YEAR_MIN, SCHED_CRON_YEAR_MAX, SCHED_CRON_YEAR_MIN, 229,
    NULL, 0, SCHED_EXPR_E_CRON_YEAR};

/* A byte range [p, end) of the expression. */
struct span {
    const char *p, *end;
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static size_t span_len(struct span s)
{
    return (size_t)(s.end - s.p);
}

/* 1 if s is exactly `word`, ignoring case. */
static int span_is(struct span s, const char *word)
{
    size_t n = strlen(word);

    if (span_len(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (upper(s.p[i]) != word[i])
            return 0;
    return 1;
}

/* Reads 1..max_digits digits at *p (below end); -1 if there are none or
 * too many. */
static int read_number(const char **p, const char *end, int max_digits)
{
    int v = 0, n = 0;

    while (*p < end && is_digit(**p)) {
        if (++n > max_digits)
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return n == 0 ? -1 : v;
}

/* Reads one value of the field (a number or a name) at *p. */
static int read_value(const char **p, const char *end,
                      const struct field_spec *fs)
{
    int v;

    if (*p < end && is_digit(**p)) {
        v = read_number(p, end, 4);
    } else {
        v = -1;
        if (fs->names && end - *p >= 3) {
            for (int i = 0; i <= fs->max - fs->min; i++) {
                struct span s = {*p, *p + 3};
                if (span_is(s, fs->names[i])) {
                    v = fs->min + i;
                    *p += 3;
                    break;
                }
            }
        }
    }
    return v < fs->min || v > fs->max ? -1 : v;
}

static void set_bit(uint64_t *bits, int i)
{
    bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Adds lo..hi (wrapping if hi < lo) in steps of step; -1 if not allowed. */
static int add_range(uint64_t *bits, const struct field_spec *fs, int lo,
                     int hi, int step)
{
    int range = fs->max - fs->min + 1;
    int span = hi - lo;

    if (span < 0) {
        if (!fs->wraps)
            return -1;
        span += range;
    }
    for (int k = 0; k <= span; k += step) {
        int v = lo + k;
        if (v > fs->max)
            v -= range;
        set_bit(bits, v - fs->base);
    }
    return 0;
}

/* Parses one list item: "*", "v" or "a-b", each with an optional "/n". */
static int parse_item(struct span it, const struct field_spec *fs,
                      uint64_t *bits)
{
    const char *p = it.p;
    int lo, hi, step = 1, single = 0;

    if (p < it.end && *p == '*') {
        lo = fs->min;
        hi = fs->max;
        p++;
    } else {
        if ((lo = read_value(&p, it.end, fs)) < 0)
            return -1;
        hi = lo;
        single = 1;
        if (p < it.end && *p == '-') {
            p++;
            if ((hi = read_value(&p, it.end, fs)) < 0)
                return -1;
            single = 0;
        }
    }
    if (p < it.end && *p == '/') {
        p++;
        if ((step = read_number(&p, it.end, 4)) < 1 || step > fs->max_step)
            return -1;
        if (single)
            hi = fs->max;
    }
    if (p != it.end)
        return -1;
    return add_range(bits, fs, lo, hi, step);
}

/* Parses a comma-separated list of items into bits (zeroed first). */
static int parse_list(struct span f, const struct field_spec *fs,
                      uint64_t bits[4])
{
    const char *p = f.p;

    memset(bits, 0, 4 * sizeof bits[0]);
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(f.end - p));
        struct span it = {p, comma ? comma : f.end};

        if (it.p == it.end || parse_item(it, fs, bits) != 0)
            return fs->err;
        if (!comma)
            return SCHED_EXPR_OK;
        p = comma + 1;
    }
}

/* 1 if any byte of s is one of the (upper-case) letters in set. */
static int span_has(struct span s, const char *set)
{
    for (const char *p = s.p; p < s.end; p++)
        if (strchr(set, upper(*p)))
            return 1;
    return 0;
}

static int parse_dom(struct span f, sched_cron *c)
{
    const char *p = f.p;
    uint64_t bits[4];
    int n;

    if (span_is(f, "?")) {
        c->dom_mode = SCHED_DOM_ANY;
        return SCHED_EXPR_OK;
    }
    if (span_is(f, "L") || span_is(f, "LW")) {
        c->dom_mode = span_len(f) == 1 ? SCHED_DOM_LAST
                                       : SCHED_DOM_LAST_WEEKDAY;
        c->dom_arg = 0;
        return SCHED_EXPR_OK;
    }
    if (span_len(f) >= 3 && upper(p[0]) == 'L' && p[1] == '-') {
        p += 2;
        n = read_number(&p, f.end, 2);
        if (p != f.end || n < 1 || n > 30)
            return SCHED_EXPR_E_CRON_DOM;
        c->dom_mode = SCHED_DOM_LAST;
        c->dom_arg = (uint8_t)n;
        return SCHED_EXPR_OK;
    }
    if (span_len(f) >= 2 && upper(f.end[-1]) == 'W') {
        n = read_number(&p, f.end - 1, 2);
        if (p != f.end - 1 || n < 1 || n > 31)
            return SCHED_EXPR_E_CRON_DOM;
        c->dom_mode = SCHED_DOM_NEAREST_WEEKDAY;
        c->dom_arg = (uint8_t)n;
        return SCHED_EXPR_OK;
    }
    if (span_has(f, "?LW#") || parse_list(f, &dom_spec, bits) != 0)
        return SCHED_EXPR_E_CRON_DOM;
    c->dom_mode = SCHED_DOM_SET;
    c->days = (uint32_t)bits[0];
    return SCHED_EXPR_OK;
}

static int parse_dow(struct span f, sched_cron *c)
{
    const char *p = f.p;
    const char *hash = memchr(f.p, '#', span_len(f));
    uint64_t bits[4];
    int d, n;

    if (span_is(f, "?")) {
        c->dow_mode = SCHED_DOW_ANY;
        return SCHED_EXPR_OK;
    }
    if (span_is(f, "L")) { /* alone, L is the week's last day */
        c->dow_mode = SCHED_DOW_SET;
        c->weekdays = 1u << 7;
        return SCHED_EXPR_OK;
    }
    if (hash) {
        d = read_value(&p, hash, &dow_spec);
        if (d < 0 || p != hash)
            return SCHED_EXPR_E_CRON_DOW;
        p = hash + 1;
        n = read_number(&p, f.end, 1);
        if (p != f.end || n < 1 || n > 5)
            return SCHED_EXPR_E_CRON_DOW;
        c->dow_mode = SCHED_DOW_NTH;
        c->dow_arg = (uint8_t)d;
        c->dow_nth = (uint8_t)n;
        return SCHED_EXPR_OK;
    }
    if (span_len(f) >= 2 && upper(f.end[-1]) == 'L') {
        d = read_value(&p, f.end - 1, &dow_spec);
        if (d < 0 || p != f.end - 1)
            return SCHED_EXPR_E_CRON_DOW;
        c->dow_mode = SCHED_DOW_LAST;
        c->dow_arg = (uint8_t)d;
        return SCHED_EXPR_OK;
    }
    if (span_has(f, "?") || parse_list(f, &dow_spec, bits) != 0)
        return SCHED_EXPR_E_CRON_DOW;
    c->dow_mode = SCHED_DOW_SET;
    c->weekdays = (uint8_t)bits[0];
    return SCHED_EXPR_OK;
}

static int parse_cron(struct span in, sched_cron *c)
{
    struct span f[6];
    uint64_t bits[4];
    const char *p = in.p;
    int n = 0, rc;

    /* Six fields, separated by exactly one space. */
    for (;;) {
        const char *sp = memchr(p, ' ', (size_t)(in.end - p));
        const char *e = sp ? sp : in.end;

        if (n == 6 || e == p)
            return SCHED_EXPR_E_CRON_FIELDS;
        f[n++] = (struct span){p, e};
        if (!sp)
            break;
        p = sp + 1;
    }
    if (n != 6)
        return SCHED_EXPR_E_CRON_FIELDS;

    memset(c, 0, sizeof *c);
    if ((rc = parse_list(f[0], &minute_spec, bits)) != 0)
        return rc;
    c->minutes = bits[0];
    if ((rc = parse_list(f[1], &hour_spec, bits)) != 0)
        return rc;
    c->hours = (uint32_t)bits[0];
    if ((rc = parse_dom(f[2], c)) != 0)
        return rc;
    if ((rc = parse_list(f[3], &month_spec, bits)) != 0)
        return rc;
    c->months = (uint16_t)bits[0];
    if ((rc = parse_dow(f[4], c)) != 0)
        return rc;
    if ((rc = parse_list(f[5], &year_spec, bits)) != 0)
        return rc;
    memcpy(c->years, bits, sizeof c->years);

    /* Exactly one of the day fields is "?". */
    if ((c->dom_mode == SCHED_DOM_ANY) == (c->dow_mode == SCHED_DOW_ANY))
        return SCHED_EXPR_E_CRON_DAYS;
    return SCHED_EXPR_OK;
}

static int parse_rate(struct span in, int dialect, sched_expr *out)
{
    static const struct {
        const char *word;
        int unit;
        int plural;
        int64_t seconds;
    } units[] = {
        {"minute", SCHED_MINUTES, 0, 60},  {"minutes", SCHED_MINUTES, 1, 60},
        {"hour", SCHED_HOURS, 0, 3600},    {"hours", SCHED_HOURS, 1, 3600},
        {"day", SCHED_DAYS, 0, 86400},     {"days", SCHED_DAYS, 1, 86400},
    };
    const char *sp = memchr(in.p, ' ', span_len(in));
    struct span unit;
    uint64_t value = 0;

    /* "value unit": one space between two non-empty words. */
    if (!sp || sp == in.p || sp + 1 == in.end ||
        memchr(sp + 1, ' ', (size_t)(in.end - sp - 1)))
        return SCHED_EXPR_E_RATE_FORMAT;
    for (const char *p = in.p; p < sp; p++) {
        if (!is_digit(*p))
            return SCHED_EXPR_E_RATE_VALUE;
        value = value * 10 + (uint64_t)(*p - '0');
        if (value > INT32_MAX)
            return SCHED_EXPR_E_RATE_VALUE;
    }
    if (value == 0)
        return SCHED_EXPR_E_RATE_VALUE;

    unit = (struct span){sp + 1, in.end};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (span_len(unit) != strlen(units[i].word) ||
            memcmp(unit.p, units[i].word, span_len(unit)) != 0)
            continue;
        if (dialect == SCHED_DIALECT_RULE &&
            units[i].plural != (value != 1))
            return SCHED_EXPR_E_RATE_NUMBER;
        out->kind = SCHED_RATE;
        out->u.rate.value = (uint32_t)value;
        out->u.rate.unit = units[i].unit;
        out->u.rate.period_s = (int64_t)value * units[i].seconds;
        return SCHED_EXPR_OK;
    }
    return SCHED_EXPR_E_RATE_UNIT;
}

static int parse_at(struct span in, sched_expr *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    int v[6] = {0}, k = 0;
    civil_time t;

    if (span_len(in) != sizeof shape - 1)
        return SCHED_EXPR_E_AT_FORMAT;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        char c = in.p[i];
        if (shape[i] == 'd') {
            if (!is_digit(c))
                return SCHED_EXPR_E_AT_FORMAT;
            v[k] = v[k] * 10 + (c - '0');
        } else if (c != shape[i]) {
            return SCHED_EXPR_E_AT_FORMAT;
        } else {
            k++;
        }
    }
    t = (civil_time){v[0], v[1], v[2], v[3], v[4], v[5]};
    if (!civil_valid(&t) || t.year < 1970)
        return SCHED_EXPR_E_AT_DATE;
    out->kind = SCHED_AT;
    out->u.at.year = t.year;
    out->u.at.month = t.month;
    out->u.at.day = t.day;
    out->u.at.hour = t.hour;
    out->u.at.minute = t.minute;
    out->u.at.second = t.second;
    return SCHED_EXPR_OK;
}

/* If text is "<word>(...)", stores the inside in *in and returns 1. */
static int unwrap(const char *text, size_t len, const char *word,
                  struct span *in)
{
    size_t n = strlen(word);

    if (len < n + 1 || memcmp(text, word, n) != 0 || text[n] != '(')
        return 0;
    in->p = text + n + 1;
    in->end = text + len;
    return 1;
}

int sched_expr_parse(const char *text, size_t len, int dialect,
                     sched_expr *out)
{
    struct span in;
    int closed = len > 0 && text[len - 1] == ')';

    memset(out, 0, sizeof *out);
    if (len == 0 || memchr(text, '\0', len))
        return SCHED_EXPR_E_KIND;
    if (closed)
        len--; /* the inside of the parentheses, see unwrap */

    if (unwrap(text, len, "at", &in)) {
        if (dialect != SCHED_DIALECT_SCHEDULER)
            return SCHED_EXPR_E_AT_DIALECT;
        return closed ? parse_at(in, out) : SCHED_EXPR_E_AT_FORMAT;
    }
    if (unwrap(text, len, "rate", &in))
        return closed ? parse_rate(in, dialect, out)
                      : SCHED_EXPR_E_RATE_FORMAT;
    if (unwrap(text, len, "cron", &in)) {
        if (!closed)
            return SCHED_EXPR_E_CRON_FIELDS;
        out->kind = SCHED_CRON;
        return parse_cron(in, &out->u.cron);
    }
    return SCHED_EXPR_E_KIND;
}

#define SCHED_EXPR_NAME_(name, text) #name,
#define SCHED_EXPR_TEXT_(name, text) text,
static const char *const error_names[] = {
    SCHED_EXPR_ERRORS(SCHED_EXPR_NAME_)};
static const char *const error_texts[] = {
    SCHED_EXPR_ERRORS(SCHED_EXPR_TEXT_)};

const char *sched_expr_error_name(int err)
{
    return err >= 0 && err < SCHED_EXPR_NERRORS ? error_names[err] : "?";
}

const char *sched_expr_error_text(int err)
{
    return err >= 0 && err < SCHED_EXPR_NERRORS ? error_texts[err]
                                                : "unknown error";
}

int sched_expr_message(int dialect, const char *text, size_t len, char *buf,
                       size_t buf_len)
{
    if (dialect == SCHED_DIALECT_RULE)
        return snprintf(buf, buf_len,
                        "Parameter ScheduleExpression is not valid.");
    return snprintf(buf, buf_len, "Invalid Schedule Expression %.*s.",
                    (int)(len > 0x7fffffff ? 0x7fffffff : len), text);
}
