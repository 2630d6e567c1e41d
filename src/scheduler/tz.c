/*
 * tz.c - a small reader of the system's TZif files (RFC 8536), the POSIX TZ
 * rules of their footers, and wall-time resolution.
 *
 * Why not the alternatives: glibc converts local time only through the
 * process-wide TZ variable, which threads cannot share; ICU would add a
 * library and brings its own copy of the zone data, which can disagree with
 * the tzdata package the machine keeps up to date.  A TZif file is a sorted
 * table of transitions plus a rule string, so reading it is short and the
 * result, once built, is immutable and shareable.
 *
 * Files are read in the 64-bit (version 2+) form when present.  Instants
 * after the table's last transition follow the footer's rule, computed per
 * year on demand (tzdata files built "fat" stop their tables in 2037; "slim"
 * ones much earlier).  Files with leap-second records ("right/" zones) are
 * refused: AWS schedules run on POSIX time.
 */
#include "scheduler/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scheduler/civil.h"

#define DAY 86400
#define TZ_FILE_MAX (1 << 20)   /* real TZif files are a few kilobytes */
#define TZ_OFFSET_MAX (26 * 3600)
#define TZ_PIECES_MAX 8

/* One end of a daylight-saving period in a POSIX TZ rule. */
struct tz_rule_date {
    char kind;       /* 'J': day 1-365 skipping Feb 29; 'D': day 0-365;
                        'M': month.week.weekday */
    int16_t a, b, c; /* J/D: the day in a; M: month, week (5 = last), wday */
    int32_t time;    /* seconds after local midnight, may exceed a day */
};

struct tz_rule {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    int has_dst;
    struct tz_rule_date start, end; /* daylight time starts, ends */
};

struct sched_tz {
    char name[SCHED_TZ_NAME_MAX + 1];
    int32_t initial_off;  /* before the first transition */
    int has_rule;         /* footer rule applies after the last transition */
    struct tz_rule rule;
    size_t ntrans;
    int64_t *trans;       /* ascending UTC instants */
    int32_t *trans_off;   /* offset in force from trans[i] on */
};

/* The built-in UTC zone: read-only, shared, never freed. */
static const struct sched_tz utc_zone = {"UTC", 0, 0, {0, 0, 0, {0}, {0}},
                                         0, NULL, NULL};

const sched_tz *sched_tz_utc(void)
{
    return &utc_zone;
}

const char *sched_tz_name(const sched_tz *tz)
{
    return tz->name;
}

const char *sched_tz_status_text(int status)
{
    switch (status) {
    case SCHED_TZ_OK: return "ok";
    case SCHED_TZ_BAD_NAME: return "not a time zone name";
    case SCHED_TZ_NOT_FOUND: return "unknown time zone";
    case SCHED_TZ_BAD_DATA: return "unreadable time zone data";
    case SCHED_TZ_NO_MEMORY: return "out of memory";
    }
    return "unknown status";
}

/* ---- POSIX TZ rule strings ("EST5EDT,M3.2.0,M11.1.0") ---------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Skips a zone abbreviation: three or more letters, or "<...>". */
static const char *skip_abbr(const char *p)
{
    const char *s = p;

    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        return *p == '>' && p - s > 1 ? p + 1 : NULL;
    }
    while (is_alpha(*p))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* Reads a number of at most `width` digits; NULL if there is none. */
static const char *read_num(const char *p, int width, int *out)
{
    int v = 0, n = 0;

    while (n < width && is_digit(p[n])) {
        v = v * 10 + (p[n] - '0');
        n++;
    }
    if (n == 0)
        return NULL;
    *out = v;
    return p + n;
}

/* Reads [+-]hh[:mm[:ss]] with hours up to max_hours, in seconds. */
static const char *read_hms(const char *p, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!(p = read_num(p, 3, &h)) || h > max_hours)
        return NULL;
    if (*p == ':') {
        if (!(p = read_num(p + 1, 2, &m)) || m > 59)
            return NULL;
        if (*p == ':' && (!(p = read_num(p + 1, 2, &s)) || s > 59))
            return NULL;
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

/* Reads one rule date with its optional "/time". */
static const char *read_rule_date(const char *p, struct tz_rule_date *d)
{
    int a, b, c;

    if (*p == 'J') {
        if (!(p = read_num(p + 1, 3, &a)) || a < 1 || a > 365)
            return NULL;
        d->kind = 'J';
        d->a = (int16_t)a;
    } else if (*p == 'M') {
        if (!(p = read_num(p + 1, 2, &a)) || a < 1 || a > 12 || *p != '.' ||
            !(p = read_num(p + 1, 1, &b)) || b < 1 || b > 5 || *p != '.' ||
            !(p = read_num(p + 1, 1, &c)) || c > 6)
            return NULL;
        d->kind = 'M';
        d->a = (int16_t)a;
        d->b = (int16_t)b;
        d->c = (int16_t)c;
    } else {
        if (!(p = read_num(p, 3, &a)) || a > 365)
            return NULL;
        d->kind = 'D';
        d->a = (int16_t)a;
    }
    d->time = 2 * 3600;
    if (*p == '/')
        p = read_hms(p + 1, 167, &d->time);
    return p;
}

/* Parses a whole TZ string into *r; 0 on success, -1 if malformed. */
static int parse_tz_rule(const char *p, struct tz_rule *r)
{
    int32_t v;

    memset(r, 0, sizeof *r);
    if (!(p = skip_abbr(p)) || !(p = read_hms(p, 24, &v)))
        return -1;
    r->std_off = -v; /* POSIX counts hours west of Greenwich */
    if (*p == '\0')
        return 0;

    if (!(p = skip_abbr(p)))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p == '+' || *p == '-' || is_digit(*p)) {
        if (!(p = read_hms(p, 24, &v)))
            return -1;
        r->dst_off = -v;
    }
    if (*p == '\0') {
        /* POSIX's default rule, the United States' current one. */
        r->start = (struct tz_rule_date){'M', 3, 2, 0, 7200};
        r->end = (struct tz_rule_date){'M', 11, 1, 0, 7200};
        return 0;
    }
    if (*p != ',' || !(p = read_rule_date(p + 1, &r->start)) || *p != ',' ||
        !(p = read_rule_date(p + 1, &r->end)))
        return -1;
    return *p == '\0' ? 0 : -1;
}

/* Local seconds at which rule date d falls in `year`. */
static int64_t rule_date_local(const struct tz_rule_date *d, int year)
{
    int64_t jan1 = civil_days_from_date(year, 1, 1), days;

    if (d->kind == 'J') {
        days = jan1 + d->a - 1 + (civil_is_leap(year) && d->a >= 60);
    } else if (d->kind == 'D') {
        days = jan1 + d->a;
    } else {
        int64_t first = civil_days_from_date(year, d->a, 1);
        int ldom = civil_days_in_month(year, d->a);
        int day = 1 + (d->c - civil_weekday(first) + 7) % 7 + 7 * (d->b - 1);

        while (day > ldom)
            day -= 7;
        days = first + day - 1;
    }
    return days * DAY + d->time;
}

static int year_of(int64_t utc_s)
{
    civil_time t;

    civil_from_seconds(utc_s, &t);
    return t.year;
}

/* UTC instants at which daylight time starts and ends in `year`. */
static void rule_year(const struct tz_rule *r, int year, int64_t *start,
                      int64_t *end)
{
    *start = rule_date_local(&r->start, year) - r->std_off;
    *end = rule_date_local(&r->end, year) - r->dst_off;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t u)
{
    int64_t s, e;

    if (!r->has_dst)
        return r->std_off;
    rule_year(r, year_of(u), &s, &e);
    if (s < e) /* daylight time inside the calendar year (north) */
        return u >= s && u < e ? r->dst_off : r->std_off;
    return u >= e && u < s ? r->std_off : r->dst_off; /* south */
}

/* The rule's first transition after u; 0 if the rule has none. */
static int rule_next(const struct tz_rule *r, int64_t u, int64_t *out)
{
    int64_t best = INT64_MAX, s, e;
    int y = year_of(u);

    if (!r->has_dst)
        return 0;
    for (int yy = y - 1; yy <= y + 1; yy++) {
        rule_year(r, yy, &s, &e);
        if (s > u && s < best)
            best = s;
        if (e > u && e < best)
            best = e;
    }
    *out = best;
    return 1;
}

/* ---- offsets and transitions ----------------------------------------- */

/* Index of the last transition at or before u, or -1. */
static ptrdiff_t trans_index(const sched_tz *tz, int64_t u)
{
    size_t lo = 0, hi = tz->ntrans;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

int32_t sched_tz_offset_at(const sched_tz *tz, int64_t utc_s)
{
    ptrdiff_t i = trans_index(tz, utc_s);

    if (i < 0)
        return tz->ntrans == 0 && tz->has_rule ? rule_offset(&tz->rule, utc_s)
                                               : tz->initial_off;
    if ((size_t)i == tz->ntrans - 1 && tz->has_rule)
        return rule_offset(&tz->rule, utc_s);
    return tz->trans_off[i];
}

int64_t sched_tz_to_local(const sched_tz *tz, int64_t utc_s)
{
    return utc_s + sched_tz_offset_at(tz, utc_s);
}

/* The first transition strictly after u; 0 if there is none. */
static int next_transition(const sched_tz *tz, int64_t u, int64_t *out)
{
    ptrdiff_t i = trans_index(tz, u);

    if ((size_t)(i + 1) < tz->ntrans) {
        *out = tz->trans[i + 1];
        return 1;
    }
    return tz->has_rule && rule_next(&tz->rule, u, out);
}

/* A stretch of constant offset: [start, next piece's start). */
struct tz_piece {
    int64_t start;
    int32_t off;
};

/* The pieces covering [lo, hi]; returns how many (at least one). */
static int pieces_in(const sched_tz *tz, int64_t lo, int64_t hi,
                     struct tz_piece *pc)
{
    int n = 1;
    int64_t t = lo;

    pc[0].start = INT64_MIN;
    pc[0].off = sched_tz_offset_at(tz, lo);
    while (n < TZ_PIECES_MAX && next_transition(tz, t, &t) && t <= hi) {
        pc[n].start = t;
        pc[n].off = sched_tz_offset_at(tz, t);
        n++;
    }
    return n;
}

void sched_tz_resolve_local(const sched_tz *tz, int64_t local_s,
                            sched_tz_local *out)
{
    struct tz_piece pc[TZ_PIECES_MAX];
    int n = pieces_in(tz, local_s - 2 * DAY, local_s + 2 * DAY, pc);
    int valid = 0, first = -1;

    /* A wall time maps to instant local - off for each piece whose span
     * holds that instant; keep the earliest. */
    for (int i = 0; i < n; i++) {
        int64_t u = local_s - pc[i].off;
        int64_t end = i + 1 < n ? pc[i + 1].start : INT64_MAX;

        if (u >= pc[i].start && u < end) {
            if (valid++ == 0)
                first = i;
        }
    }
    if (valid == 0) {
        /* Skipped wall time: find the forward jump that skipped it. */
        out->kind = SCHED_TZ_LOCAL_GAP;
        out->utc_s = 0;
        out->next_local_s = local_s + 60;
        for (int i = 0; i + 1 < n; i++) {
            int64_t t = pc[i + 1].start;
            if (t + pc[i].off <= local_s && local_s < t + pc[i + 1].off) {
                out->next_local_s = t + pc[i + 1].off;
                break;
            }
        }
        return;
    }
    out->utc_s = local_s - pc[first].off;
    if (valid == 1) {
        out->kind = SCHED_TZ_LOCAL_UNIQUE;
        out->next_local_s = local_s;
        return;
    }
    /* Repeated wall time: the repeat ends where the earlier offset's
     * clock reached when it was turned back. */
    out->kind = SCHED_TZ_LOCAL_AMBIGUOUS;
    out->next_local_s = pc[first + 1].start + pc[first].off;
}

/* ---- TZif files ------------------------------------------------------ */

struct tzif_header {
    int version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(const unsigned char *p, size_t len,
                       struct tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = p[4] == 0 ? 1 : p[4] - '0';
    if (h->version < 1 || h->version > 9)
        return -1;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > 100000 ||
        h->charcnt > 100000 || h->leapcnt > 100000 || h->isutcnt > 256 ||
        h->isstdcnt > 256)
        return -1;
    return 0;
}

/* Bytes of the data block after a header, for times of `tsize` bytes. */
static size_t block_len(const struct tzif_header *h, size_t tsize)
{
    return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Builds the zone from one data block; the zone's arrays are allocated. */
static int read_block(sched_tz *tz, const struct tzif_header *h,
                      const unsigned char *p, size_t tsize)
{
    const unsigned char *idx = p + h->timecnt * tsize;
    const unsigned char *types = idx + h->timecnt;

    if (h->leapcnt != 0)
        return SCHED_TZ_BAD_DATA;
    for (uint32_t k = 0; k < h->typecnt; k++) {
        int32_t off = (int32_t)be32(types + 6 * k);
        if (off < -TZ_OFFSET_MAX || off > TZ_OFFSET_MAX)
            return SCHED_TZ_BAD_DATA;
    }
    tz->initial_off = (int32_t)be32(types);
    tz->ntrans = h->timecnt;
    if (h->timecnt == 0)
        return SCHED_TZ_OK;
    tz->trans = malloc(h->timecnt * sizeof *tz->trans);
    tz->trans_off = malloc(h->timecnt * sizeof *tz->trans_off);
    if (!tz->trans || !tz->trans_off)
        return SCHED_TZ_NO_MEMORY;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t t = tsize == 8 ? be64(p + 8 * i)
                               : (int64_t)(int32_t)be32(p + 4 * i);
        if (idx[i] >= h->typecnt || (i > 0 && t <= tz->trans[i - 1]))
            return SCHED_TZ_BAD_DATA;
        tz->trans[i] = t;
        tz->trans_off[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    return SCHED_TZ_OK;
}

/* Reads the version 2+ footer "\n<rule>\n" at p. */
static int read_footer(sched_tz *tz, const unsigned char *p, size_t len)
{
    const unsigned char *nl;
    char rule[128];
    size_t n;

    if (len < 2 || p[0] != '\n' || !(nl = memchr(p + 1, '\n', len - 1)))
        return SCHED_TZ_BAD_DATA;
    n = (size_t)(nl - (p + 1));
    if (n == 0)
        return SCHED_TZ_OK; /* no rule: the last offset lasts forever */
    if (n >= sizeof rule)
        return SCHED_TZ_BAD_DATA;
    memcpy(rule, p + 1, n);
    rule[n] = '\0';
    if (parse_tz_rule(rule, &tz->rule) != 0)
        return SCHED_TZ_BAD_DATA;
    tz->has_rule = 1;
    return SCHED_TZ_OK;
}

static int parse_tzif(sched_tz *tz, const unsigned char *data, size_t len)
{
    struct tzif_header h;
    size_t v1_len;

    if (read_header(data, len, &h) != 0)
        return SCHED_TZ_BAD_DATA;
    v1_len = block_len(&h, 4);
    if (len - 44 < v1_len)
        return SCHED_TZ_BAD_DATA;
    if (h.version == 1)
        return read_block(tz, &h, data + 44, 4);

    /* Version 2+: skip the 32-bit block, read the 64-bit one. */
    data += 44 + v1_len;
    len -= 44 + v1_len;
    if (read_header(data, len, &h) != 0 || len - 44 < block_len(&h, 8))
        return SCHED_TZ_BAD_DATA;
    int rc = read_block(tz, &h, data + 44, 8);
    if (rc != SCHED_TZ_OK)
        return rc;
    data += 44 + block_len(&h, 8);
    len -= 44 + block_len(&h, 8);
    return read_footer(tz, data, len);
}

void sched_tz_free(sched_tz *tz)
{
    if (!tz || tz == &utc_zone)
        return;
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
}

int sched_tz_parse(const char *name, const unsigned char *data, size_t len,
                   sched_tz **out)
{
    sched_tz *tz = calloc(1, sizeof *tz);
    int rc;

    *out = NULL;
    if (!tz)
        return SCHED_TZ_NO_MEMORY;
    snprintf(tz->name, sizeof tz->name, "%s", name ? name : "");
    rc = parse_tzif(tz, data, len);
    if (rc != SCHED_TZ_OK) {
        sched_tz_free(tz);
        return rc;
    }
    *out = tz;
    return SCHED_TZ_OK;
}

/* Letters, digits, '_', '+', '-' in '/'-separated non-empty parts: enough
 * for every IANA name and no way out of the zoneinfo folder. */
static int name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > SCHED_TZ_NAME_MAX || name[0] == '/' ||
        name[n - 1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c == '/' && name[i + 1] == '/')
            return 0;
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '+' &&
            c != '-' && c != '/')
            return 0;
    }
    return 1;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    struct stat st;
    unsigned char *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOMEM ? SCHED_TZ_NO_MEMORY : SCHED_TZ_NOT_FOUND;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SCHED_TZ_NOT_FOUND;
    }
    if (st.st_size <= 0 || st.st_size > TZ_FILE_MAX) {
        close(fd);
        return SCHED_TZ_BAD_DATA;
    }
    if (!(buf = malloc((size_t)st.st_size))) {
        close(fd);
        return SCHED_TZ_NO_MEMORY;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = got;
    return SCHED_TZ_OK;
}

int sched_tz_load(const char *name, sched_tz **out)
{
    const char *dir = getenv("TZDIR");
    char path[4096];
    unsigned char *data = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (!name || strcmp(name, "UTC") == 0) {
        *out = (sched_tz *)&utc_zone; /* read-only; sched_tz_free skips it */
        return SCHED_TZ_OK;
    }
    if (!name_ok(name))
        return SCHED_TZ_BAD_NAME;
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return SCHED_TZ_BAD_NAME;
    if ((rc = read_file(path, &data, &len)) != SCHED_TZ_OK)
        return rc;
    rc = sched_tz_parse(name, data, len, out);
    free(data);
    return rc;
}

/* ---- the shared cache ------------------------------------------------ */

#define TZ_CACHE_BUCKETS 64

struct tz_cache_entry {
    struct tz_cache_entry *next;
    sched_tz *tz;
};

/* Owner: this module.  Guarded by tz_cache_lock; entries are immutable
 * once linked and live until sched_tz_cache_clear(). */
static pthread_mutex_t tz_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_cache_entry *tz_cache[TZ_CACHE_BUCKETS];

static unsigned cache_bucket(const char *name)
{
    uint32_t h = 2166136261u;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h % TZ_CACHE_BUCKETS;
}

static const sched_tz *cache_find(unsigned b, const char *name)
{
    for (struct tz_cache_entry *e = tz_cache[b]; e; e = e->next)
        if (strcmp(e->tz->name, name) == 0)
            return e->tz;
    return NULL;
}

const sched_tz *sched_tz_get(const char *name, int *status)
{
    const sched_tz *found;
    struct tz_cache_entry *entry;
    sched_tz *tz;
    unsigned b;
    int rc;

    if (status)
        *status = SCHED_TZ_OK;
    if (!name || strcmp(name, "UTC") == 0)
        return &utc_zone;
    if (!name_ok(name)) {
        if (status)
            *status = SCHED_TZ_BAD_NAME;
        return NULL;
    }
    b = cache_bucket(name);
    pthread_mutex_lock(&tz_cache_lock);
    found = cache_find(b, name);
    pthread_mutex_unlock(&tz_cache_lock);
    if (found)
        return found;

    /* Load outside the lock; if another thread won the race, use its. */
    if ((rc = sched_tz_load(name, &tz)) != SCHED_TZ_OK) {
        if (status)
            *status = rc;
        return NULL;
    }
    if (!(entry = malloc(sizeof *entry))) {
        sched_tz_free(tz);
        if (status)
            *status = SCHED_TZ_NO_MEMORY;
        return NULL;
    }
    pthread_mutex_lock(&tz_cache_lock);
    if ((found = cache_find(b, name)) != NULL) {
        pthread_mutex_unlock(&tz_cache_lock);
        sched_tz_free(tz);
        free(entry);
        return found;
    }
    entry->tz = tz;
    entry->next = tz_cache[b];
    tz_cache[b] = entry;
    pthread_mutex_unlock(&tz_cache_lock);
    return tz;
}

void sched_tz_cache_clear(void)
{
    pthread_mutex_lock(&tz_cache_lock);
    for (unsigned b = 0; b < TZ_CACHE_BUCKETS; b++) {
        struct tz_cache_entry *e = tz_cache[b];
        while (e) {
            struct tz_cache_entry *next = e->next;
            sched_tz_free(e->tz);
            free(e);
            e = next;
        }
        tz_cache[b] = NULL;
    }
    pthread_mutex_unlock(&tz_cache_lock);
}
