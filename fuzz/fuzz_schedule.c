/*
 * fuzz_schedule.c - schedule expressions (scheduler/expr.h) and their fire
 * times (scheduler/nextfire.h), for PutRule and CreateSchedule input.
 *
 * Input: a 13-byte header, then the expression text.
 *   byte 0     bit 0: dialect (0 EventBridge rule, 1 Scheduler);
 *              bits 1-3: the zone (UTC and seven zones with odd rules);
 *              bit 4: apply StartDate/EndDate bounds;
 *              bit 5: the text's first line is a zone name to load
 *   bytes 1-4  from = value * 2 seconds (1970 to 2242)
 *   bytes 5-8  StartDate = from + (signed) value seconds
 *   bytes 9-12 EndDate = from + value seconds
 *
 * Properties checked:
 *  - a parsed expression's fields stay inside their ranges (no stray bits);
 *  - the refusal message is NUL-terminated at any buffer size and its
 *    length is what the function returns;
 *  - fire times are strictly increasing, at or after from (and StartDate,
 *    for cron/rate), at or before EndDate;
 *  - cron: every fire is a whole minute whose wall time in the zone
 *    satisfies all six fields (checked by an independent reading of the
 *    fields, including L, L-n, LW, nW, dL and d#n) and is the first
 *    occurrence of that wall time; and, for zones with whole-minute
 *    offsets, a minute-by-minute scan of the first two days finds exactly
 *    the reported fires (no fire missed, none extra);
 *  - rate: fires are base + k * period, the first one the least such;
 *  - at: at most one fire, at the wall time's first occurrence;
 *  - a zone loaded by name never comes from outside the zoneinfo tree.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "scheduler/civil.h"
#include "scheduler/expr.h"
#include "scheduler/nextfire.h"
#include "scheduler/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 13
#define NFIRES 4
#define SCAN_MINUTES (2 * 1440)

static const char *const ZONES[8] = {
    NULL,                 /* UTC */
    "America/New_York",   /* DST at 02:00 */
    "Europe/London",      /* DST at 01:00 UTC */
    "Australia/Lord_Howe",/* 30-minute DST */
    "Asia/Kathmandu",     /* +05:45 */
    "Pacific/Chatham",    /* +12:45/+13:45 */
    "America/Santiago",   /* DST changes at midnight */
    "Africa/Casablanca",  /* DST suspended each Ramadan */
};

static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bit(uint64_t bits, int i)
{
    return (int)(bits >> i & 1);
}

static void check_fields(const sched_expr *e)
{
    const sched_cron *c = &e->u.cron;

    if (e->kind == SCHED_RATE) {
        FUZZ_CHECK(e->u.rate.value > 0 && e->u.rate.period_s > 0, "rate not positive");
        static const int64_t unit[] = {60, 3600, 86400};
        FUZZ_CHECK(e->u.rate.unit >= 0 && e->u.rate.unit <= 2, "rate unit");
        FUZZ_CHECK(e->u.rate.period_s == (int64_t)e->u.rate.value * unit[e->u.rate.unit],
                   "rate period");
        return;
    }
    if (e->kind == SCHED_AT) {
        civil_time t = {e->u.at.year,  e->u.at.month,  e->u.at.day,
                        e->u.at.hour, e->u.at.minute, e->u.at.second};
        FUZZ_CHECK(civil_valid(&t), "at() holds an impossible time");
        return;
    }
    FUZZ_CHECK(e->kind == SCHED_CRON, "kind %d", e->kind);
    FUZZ_CHECK(c->minutes && c->minutes >> 60 == 0, "minute bits");
    FUZZ_CHECK(c->hours && c->hours >> 24 == 0, "hour bits");
    FUZZ_CHECK(c->months && (c->months & 1) == 0 && c->months >> 13 == 0, "month bits");
    FUZZ_CHECK(c->years[0] | c->years[1] | c->years[2] | c->years[3], "no year");
    FUZZ_CHECK(c->years[3] >> (SCHED_CRON_YEAR_MAX - SCHED_CRON_YEAR_MIN + 1 - 192) == 0,
               "year bits past 2199");
    FUZZ_CHECK((c->dom_mode == SCHED_DOM_ANY) != (c->dow_mode == SCHED_DOW_ANY),
               "exactly one day field must be '?'");
    switch (c->dom_mode) {
    case SCHED_DOM_SET:
        FUZZ_CHECK(c->days && (c->days & 1) == 0, "day bits");
        break;
    case SCHED_DOM_LAST:
        FUZZ_CHECK(c->dom_arg <= 30, "L-n out of range");
        break;
    case SCHED_DOM_NEAREST_WEEKDAY:
        FUZZ_CHECK(c->dom_arg >= 1 && c->dom_arg <= 31, "nW out of range");
        break;
    default:
        break;
    }
    switch (c->dow_mode) {
    case SCHED_DOW_SET:
        FUZZ_CHECK(c->weekdays && (c->weekdays & 1) == 0, "weekday bits");
        break;
    case SCHED_DOW_LAST:
        FUZZ_CHECK(c->dow_arg >= 1 && c->dow_arg <= 7, "dL out of range");
        break;
    case SCHED_DOW_NTH:
        FUZZ_CHECK(c->dow_arg >= 1 && c->dow_arg <= 7 && c->dow_nth >= 1 && c->dow_nth <= 5,
                   "d#n out of range");
        break;
    default:
        break;
    }
}

/* 0 = Sunday. */
static int weekday_of(int y, int m, int d)
{
    return civil_weekday(civil_days_from_date(y, m, d));
}

static bool is_weekday(int y, int m, int d)
{
    int w = weekday_of(y, m, d);
    return w >= 1 && w <= 5;
}

/* Independent reading of the day fields for date y-m-d. */
static bool ref_day(const sched_cron *c, int y, int m, int d)
{
    int ldom = civil_days_in_month(y, m), w = weekday_of(y, m, d), n, t;

    switch (c->dom_mode) {
    case SCHED_DOM_SET:
        return bit(c->days, d);
    case SCHED_DOM_LAST:
        return d == ldom - c->dom_arg;
    case SCHED_DOM_LAST_WEEKDAY:
        for (t = ldom; !is_weekday(y, m, t); t--)
            ;
        return d == t;
    case SCHED_DOM_NEAREST_WEEKDAY:
        n = c->dom_arg;
        if (n > ldom)
            return false;
        if (is_weekday(y, m, n))
            t = n;
        else if (weekday_of(y, m, n) == 6)
            t = n > 1 ? n - 1 : n + 2;
        else
            t = n < ldom ? n + 1 : n - 2;
        return d == t;
    default:
        break;
    }
    switch (c->dow_mode) {
    case SCHED_DOW_SET:
        return bit(c->weekdays, w + 1);
    case SCHED_DOW_LAST:
        return w == c->dow_arg - 1 && d + 7 > ldom;
    case SCHED_DOW_NTH:
        return w == c->dow_arg - 1 && (d - 1) / 7 + 1 == c->dow_nth;
    default:
        return false;
    }
}

static bool ref_cron(const sched_cron *c, int64_t local)
{
    civil_time t;

    civil_from_seconds(local, &t);
    if (t.second != 0 || t.year < SCHED_CRON_YEAR_MIN || t.year > SCHED_CRON_YEAR_MAX)
        return false;
    int yi = t.year - SCHED_CRON_YEAR_MIN;
    return bit(c->minutes, t.minute) && bit(c->hours, t.hour) && bit(c->months, t.month) &&
           bit(c->years[yi / 64], yi % 64) && ref_day(c, t.year, t.month, t.day);
}

/* Does instant t fire: its wall time matches and is a first occurrence. */
static bool ref_fires(const sched_cron *c, const sched_tz *tz, int64_t t)
{
    int64_t local = sched_tz_to_local(tz, t);
    sched_tz_local r;

    if (!ref_cron(c, local))
        return false;
    sched_tz_resolve_local(tz, local, &r);
    return r.kind != SCHED_TZ_LOCAL_GAP && r.utc_s == t;
}

static void check_fires(const sched_expr *e, const sched_tz *tz, const sched_bounds *b,
                        int64_t from, const int64_t *f, size_t n)
{
    int64_t lower = from;

    if (e->kind != SCHED_AT && b->start_s != SCHED_NO_TIME && b->start_s > lower)
        lower = b->start_s;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(f[i] >= lower, "fire %zu at %lld before the lower bound %lld", i,
                   (long long)f[i], (long long)lower);
        FUZZ_CHECK(i == 0 || f[i] > f[i - 1], "fires not increasing");
        if (e->kind != SCHED_AT && b->end_s != SCHED_NO_TIME)
            FUZZ_CHECK(f[i] <= b->end_s, "fire after EndDate");
    }
    if (e->kind == SCHED_AT) {
        civil_time t = {e->u.at.year,  e->u.at.month,  e->u.at.day,
                        e->u.at.hour, e->u.at.minute, e->u.at.second};
        sched_tz_local r;
        sched_tz_resolve_local(tz, civil_to_seconds(&t), &r);
        bool fires = r.kind != SCHED_TZ_LOCAL_GAP && r.utc_s >= from;
        FUZZ_CHECK(n == (fires ? 1u : 0u), "at() fired %zu times", n);
        if (n)
            FUZZ_CHECK(f[0] == r.utc_s, "at() fired at the wrong instant");
        return;
    }
    if (e->kind == SCHED_RATE) {
        int64_t p = e->u.rate.period_s;
        int64_t base = b->start_s != SCHED_NO_TIME ? b->start_s : from;
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK((f[i] - base) % p == 0, "rate fire off the grid");
        if (n) {
            FUZZ_CHECK(f[0] - p < from || f[0] == base, "rate skipped a fire");
            for (size_t i = 1; i < n; i++)
                FUZZ_CHECK(f[i] - f[i - 1] == p, "rate fires not one period apart");
        }
        return;
    }
    const sched_cron *c = &e->u.cron;
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(f[i] % 60 == 0 || sched_tz_offset_at(tz, f[i]) % 60 != 0,
                   "cron fire not on a minute");
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(ref_fires(c, tz, f[i]), "cron fire %zu (%lld) does not satisfy the fields",
                   i, (long long)f[i]);
    /* The scan: every whole minute from the lower bound for two days. */
    int64_t t = lower % 60 ? lower + 60 - lower % 60 : lower; /* lower >= 0 */
    size_t next = 0;
    for (int k = 0; k < SCAN_MINUTES && next < n + 1; k++, t += 60) {
        if (sched_tz_offset_at(tz, t) % 60 != 0)
            return; /* not a whole-minute zone here: the scan does not apply */
        if ((b->end_s != SCHED_NO_TIME && t > b->end_s) || t > 7258204800LL)
            break; /* past EndDate or 2200-01-02 */
        if (!ref_fires(c, tz, t))
            continue;
        FUZZ_CHECK(next < n, "cron missed a fire at %lld (after %zu reported)", (long long)t,
                   n);
        FUZZ_CHECK(f[next] == t, "cron fire %zu is %lld, the scan says %lld", next,
                   (long long)f[next], (long long)t);
        next++;
        if (next == n)
            break;
    }
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER)
        return 0;
    int dialect = data[0] & 1 ? SCHED_DIALECT_SCHEDULER : SCHED_DIALECT_RULE;
    const char *text = (const char *)data + HEADER;
    size_t len = size - HEADER;
    int64_t from = (int64_t)u32(data + 1) * 2;
    sched_bounds b;
    sched_tz *loaded = NULL;
    const sched_tz *tz;

    sched_bounds_init(&b);
    if (data[0] & 16) {
        b.start_s = from + (int32_t)u32(data + 5);
        b.end_s = from + (int64_t)u32(data + 9);
    }
    if (data[0] & 32) {
        fuzz_part name, rest;
        fuzz_split(text, len, '\n', &name, &rest);
        char *zn = fuzz_strndup(name.p, name.n);
        int st = sched_tz_load(zn, &loaded);
        if (st == SCHED_TZ_OK) {
            FUZZ_CHECK(zn[0] != '/' && !strstr(zn, ".."), "zone %s loaded from outside",
                       zn);
            FUZZ_CHECK(strlen(zn) <= SCHED_TZ_NAME_MAX, "overlong zone name accepted");
        } else {
            FUZZ_CHECK(loaded == NULL, "failed load left a zone");
        }
        free(zn);
        text = rest.p;
        len = rest.n;
    }
    if (loaded) {
        tz = loaded;
    } else {
        int st;
        tz = sched_tz_get(ZONES[(data[0] >> 1) & 7], &st);
        FUZZ_CHECK(tz != NULL, "zone %s missing: %s", ZONES[(data[0] >> 1) & 7],
                   sched_tz_status_text(st));
    }

    /* The message, at a generous and a tight size. */
    char msg[600], small[8];
    int mlen = sched_expr_message(dialect, text, len, msg, sizeof msg);
    FUZZ_CHECK(mlen >= 0 && memchr(msg, '\0', sizeof msg), "message");
    if ((size_t)mlen < sizeof msg)
        FUZZ_CHECK(strlen(msg) == (size_t)mlen, "message length");
    FUZZ_CHECK(sched_expr_message(dialect, text, len, small, sizeof small) == mlen &&
                   memchr(small, '\0', sizeof small),
               "truncated message");

    sched_expr e;
    int err = sched_expr_parse(text, len, dialect, &e);
    FUZZ_CHECK(err >= 0 && err < SCHED_EXPR_NERRORS, "error code %d", err);
    FUZZ_CHECK(sched_expr_error_name(err) && sched_expr_error_text(err), "error texts");
    if (err == SCHED_EXPR_OK) {
        check_fields(&e);
        int64_t f[NFIRES];
        size_t n = sched_next_fires(&e, tz, &b, from, f, NFIRES);
        FUZZ_CHECK(n <= NFIRES, "too many fires");
        check_fires(&e, tz, &b, from, f, n);
    }
    sched_tz_free(loaded);
    return 0;
}
