/*
 * nextfire.c - fire-time search for at(), rate() and cron() (nextfire.h).
 *
 * cron() is searched in two layers.  The inner one walks the zone's wall
 * calendar: starting from a wall time, it takes the next allowed year, then
 * month, then day (the day set of a month is computed once from the
 * day-of-month or day-of-week rule), then hour, then minute, carrying into
 * the next unit when one runs out.  The outer one turns the wall time into
 * an instant: a skipped wall time restarts the search after the gap, and a
 * wall time whose first occurrence lies before the lower bound (the search
 * began inside a repeated hour) restarts it after the repeat.  Both
 * restarts move strictly forward, so the loop ends.
 */
#include "scheduler/nextfire.h"

#include "scheduler/civil.h"

/* Instants bracketing every cron fire time, zone offsets included:
 * 1969-12-30T00:00:00Z and 2200-01-02T00:00:00Z. */
#define CRON_SEARCH_START (-2 * 86400LL)
#define CRON_SEARCH_END 7258204800LL

/* Smallest set bit of bits in [from, max], or -1. */
static int next_bit(uint64_t bits, int from, int max)
{
    uint64_t m;
    int i;

    if (from > max || from > 63)
        return -1;
    m = bits & (~(uint64_t)0 << from);
    if (m == 0)
        return -1;
    i = __builtin_ctzll(m);
    return i <= max ? i : -1;
}

/* Smallest allowed year >= y, or -1. */
static int next_year(const sched_cron *c, int y)
{
    int i = y - SCHED_CRON_YEAR_MIN;
    int last = SCHED_CRON_YEAR_MAX - SCHED_CRON_YEAR_MIN;

    if (i < 0)
        i = 0;
    while (i <= last) {
        int b = next_bit(c->years[i / 64], i % 64, 63);
        if (b >= 0) {
            i = i / 64 * 64 + b;
            return i <= last ? SCHED_CRON_YEAR_MIN + i : -1;
        }
        i = (i / 64 + 1) * 64;
    }
    return -1;
}

/* The days (bit d = day d) of month y-m that the day fields allow. */
static uint32_t day_mask(const sched_cron *c, int y, int m)
{
    int ldom = civil_days_in_month(y, m);
    int wd1 = civil_weekday(civil_days_from_date(y, m, 1)); /* 0 = Sun */
    uint32_t all = (uint32_t)((((uint64_t)1) << (ldom + 1)) - 2);
    uint32_t mask = 0;
    int d, w, want;

#define WEEKDAY_OF(day) ((wd1 + (day) - 1) % 7)
    switch (c->dom_mode) {
    case SCHED_DOM_SET:
        return c->days & all;
    case SCHED_DOM_LAST:
        d = ldom - c->dom_arg;
        return d >= 1 ? (uint32_t)1 << d : 0;
    case SCHED_DOM_LAST_WEEKDAY:
        d = ldom;
        w = WEEKDAY_OF(d);
        d -= w == 6 ? 1 : w == 0 ? 2 : 0;
        return (uint32_t)1 << d;
    case SCHED_DOM_NEAREST_WEEKDAY:
        /* The weekday nearest day n without leaving the month; months
         * too short to have day n have no such day. */
        d = c->dom_arg;
        if (d > ldom)
            return 0;
        w = WEEKDAY_OF(d);
        if (w == 6)
            d = d == 1 ? 3 : d - 1;
        else if (w == 0)
            d = d == ldom ? d - 2 : d + 1;
        return (uint32_t)1 << d;
    default:
        break;
    }

    switch (c->dow_mode) {
    case SCHED_DOW_SET:
        for (d = 1; d <= ldom; d++)
            if (c->weekdays >> (WEEKDAY_OF(d) + 1) & 1)
                mask |= (uint32_t)1 << d;
        return mask;
    case SCHED_DOW_LAST:
        want = c->dow_arg - 1;
        d = ldom - (WEEKDAY_OF(ldom) - want + 7) % 7;
        return (uint32_t)1 << d;
    case SCHED_DOW_NTH:
        want = c->dow_arg - 1;
        d = 1 + (want - wd1 + 7) % 7 + 7 * (c->dow_nth - 1);
        return d <= ldom ? (uint32_t)1 << d : 0;
    default:
        return 0;
    }
#undef WEEKDAY_OF
}

/* The first wall time (minute-aligned local seconds) >= from_local that c
 * allows, in *out; 0 if there is none before the end of year 2199. */
static int cron_next_local(const sched_cron *c, int64_t from_local,
                           int64_t *out)
{
    civil_time t;
    int y, mo, d, h, mi, v;

    civil_from_seconds(from_local, &t);
    y = t.year, mo = t.month, d = t.day, h = t.hour, mi = t.minute;
    if (y < SCHED_CRON_YEAR_MIN)
        y = SCHED_CRON_YEAR_MIN, mo = 1, d = 1, h = 0, mi = 0;

    while (y <= SCHED_CRON_YEAR_MAX) {
        if ((v = next_year(c, y)) < 0)
            return 0;
        if (v != y)
            y = v, mo = 1, d = 1, h = 0, mi = 0;

        if ((v = next_bit(c->months, mo, 12)) < 0) {
            y++, mo = 1, d = 1, h = 0, mi = 0;
            continue;
        }
        if (v != mo)
            mo = v, d = 1, h = 0, mi = 0;

        if ((v = next_bit(day_mask(c, y, mo), d, 31)) < 0) {
            mo++, d = 1, h = 0, mi = 0;
            if (mo > 12)
                y++, mo = 1;
            continue;
        }
        if (v != d)
            d = v, h = 0, mi = 0;

        if ((v = next_bit(c->hours, h, 23)) < 0) {
            d++, h = 0, mi = 0;
            continue;
        }
        if (v != h)
            h = v, mi = 0;

        if ((v = next_bit(c->minutes, mi, 59)) < 0) {
            h++, mi = 0;
            if (h > 23)
                d++, h = 0;
            continue;
        }
        t = (civil_time){y, mo, d, h, v, 0};
        *out = civil_to_seconds(&t);
        return 1;
    }
    return 0;
}

static int64_t ceil_minute(int64_t s)
{
    int64_t r = s % 60;

    if (r < 0)
        r += 60;
    return r ? s + 60 - r : s;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int next_cron(const sched_cron *c, const sched_tz *tz, int64_t lower,
                     int64_t end, int64_t *out)
{
    int64_t local = ceil_minute(sched_tz_to_local(tz, lower)), wall;
    sched_tz_local r;

    /* Each pass moves `local` forward; the bound only guards against a
     * corrupt zone. */
    for (int pass = 0; pass < 100000; pass++) {
        if (!cron_next_local(c, local, &wall))
            return 0;
        sched_tz_resolve_local(tz, wall, &r);
        if (r.kind == SCHED_TZ_LOCAL_GAP || r.utc_s < lower) {
            local = max64(ceil_minute(r.next_local_s), wall + 60);
            continue;
        }
        if (end != SCHED_NO_TIME && r.utc_s > end)
            return 0;
        *out = r.utc_s;
        return 1;
    }
    return 0;
}

static int next_rate(const sched_expr *e, const sched_bounds *b,
                     int64_t from, int64_t *out)
{
    int64_t period = e->u.rate.period_s;
    int64_t base = b->start_s != SCHED_NO_TIME    ? b->start_s
                   : b->anchor_s != SCHED_NO_TIME ? b->anchor_s
                                                  : from;
    int64_t u = base, gap, k;

    if (from > base) {
        /* base + ceil((from - base) / period) * period, unless absurd
         * instants overflow. */
        if (__builtin_sub_overflow(from, base, &gap))
            return 0;
        k = gap / period + (gap % period != 0);
        if (__builtin_mul_overflow(k, period, &k) ||
            __builtin_add_overflow(base, k, &u))
            return 0;
    }
    if (b->end_s != SCHED_NO_TIME && u > b->end_s)
        return 0;
    *out = u;
    return 1;
}

static int next_at(const sched_expr *e, const sched_tz *tz, int64_t from,
                   int64_t *out)
{
    civil_time t = {e->u.at.year, e->u.at.month,  e->u.at.day,
                    e->u.at.hour, e->u.at.minute, e->u.at.second};
    sched_tz_local r;

    sched_tz_resolve_local(tz, civil_to_seconds(&t), &r);
    if (r.kind == SCHED_TZ_LOCAL_GAP || r.utc_s < from)
        return 0;
    *out = r.utc_s;
    return 1;
}

void sched_bounds_init(sched_bounds *b)
{
    b->start_s = SCHED_NO_TIME;
    b->end_s = SCHED_NO_TIME;
    b->anchor_s = SCHED_NO_TIME;
}

int sched_next_fire(const sched_expr *e, const sched_tz *tz,
                    const sched_bounds *b, int64_t from_s, int64_t *out_s)
{
    sched_bounds none;

    if (!tz)
        tz = sched_tz_utc();
    if (!b) {
        sched_bounds_init(&none);
        b = &none;
    }
    switch (e->kind) {
    case SCHED_AT:
        return next_at(e, tz, from_s, out_s);
    case SCHED_RATE:
        return next_rate(e, b, from_s, out_s);
    case SCHED_CRON:
        if (b->start_s != SCHED_NO_TIME)
            from_s = max64(from_s, b->start_s);
        /* Cron years are 1970-2199 in any zone; stay clear of instants
         * whose calendar arithmetic would overflow. */
        if (from_s > CRON_SEARCH_END)
            return 0;
        from_s = max64(from_s, CRON_SEARCH_START);
        return next_cron(&e->u.cron, tz, from_s, b->end_s, out_s);
    default:
        return 0;
    }
}

size_t sched_next_fires(const sched_expr *e, const sched_tz *tz,
                        const sched_bounds *b, int64_t from_s, int64_t *out,
                        size_t n)
{
    sched_bounds fixed;
    size_t got = 0;

    /* A rate() with nothing to count from counts from the first call's
     * from_s, not from each later one. */
    if (b)
        fixed = *b;
    else
        sched_bounds_init(&fixed);
    if (fixed.start_s == SCHED_NO_TIME && fixed.anchor_s == SCHED_NO_TIME)
        fixed.anchor_s = from_s;
    b = &fixed;

    while (got < n && sched_next_fire(e, tz, b, from_s, &out[got])) {
        from_s = out[got] + 1;
        got++;
    }
    return got;
}
