/*
 * tz.h - IANA time zones read from the system's TZif files, thread-safe.
 *
 * A sched_tz is an immutable table of UTC offsets loaded from
 * /usr/share/zoneinfo/<name> (Debian's tzdata; $TZDIR overrides the
 * folder) plus the POSIX TZ rule of the file's footer for instants past the
 * table.  Once loaded it is only read, so any number of threads may use it
 * at once.  Nothing here touches the C library's global zone (no TZ, no
 * tzset, no localtime), which a multi-threaded server cannot share safely.
 *
 * Instants and wall times passed in should lie within years 1-9999 (far
 * wider than any schedule needs); arithmetic outside that is not checked.
 *
 * Local times are "local seconds" (see civil.h).  Resolving one to UTC
 * follows EventBridge Scheduler's daylight-saving rules: a wall time that
 * does not exist (spring forward) has no instant, and one that occurs twice
 * (fall back) is its first occurrence.
 */
#ifndef SLUICE_SCHEDULER_TZ_H
#define SLUICE_SCHEDULER_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct sched_tz sched_tz;

enum sched_tz_status {
    SCHED_TZ_OK = 0,
    SCHED_TZ_BAD_NAME,  /* not a syntactically possible zone name */
    SCHED_TZ_NOT_FOUND, /* no such file under the zoneinfo folder */
    SCHED_TZ_BAD_DATA,  /* the file is not a usable TZif file */
    SCHED_TZ_NO_MEMORY
};

/* The longest zone name accepted (AWS's ScheduleExpressionTimezone max). */
#define SCHED_TZ_NAME_MAX 50

/*
 * Loads zone `name` (e.g. "America/New_York") from the zoneinfo folder.
 * "UTC" and NULL give a built-in UTC zone without reading a file.  On
 * success stores a new zone in *out (the caller owns it; free it with
 * sched_tz_free) and returns SCHED_TZ_OK; otherwise returns the status and
 * leaves *out NULL.
 */
int sched_tz_load(const char *name, sched_tz **out);

/*
 * Builds a zone from TZif bytes already in memory (what sched_tz_load
 * reads), naming it `name`.  Ownership as for sched_tz_load.
 */
int sched_tz_parse(const char *name, const unsigned char *data, size_t len,
                   sched_tz **out);

/* Frees a zone from sched_tz_load/sched_tz_parse; NULL and the built-in
 * UTC zone are ignored. */
void sched_tz_free(sched_tz *tz);

/*
 * Returns the shared, cached zone for `name` (loading it on first use), or
 * NULL with *status set (status may be NULL).  The cache is process-wide,
 * owned by this module and guarded by its own mutex; cached zones stay
 * valid until sched_tz_cache_clear().  Failed look-ups are not cached.
 */
const sched_tz *sched_tz_get(const char *name, int *status);

/* Frees every cached zone.  Call only when no thread holds one (at exit). */
void sched_tz_cache_clear(void);

/* The built-in UTC zone (static, never freed). */
const sched_tz *sched_tz_utc(void);

/* The zone's name as given when it was loaded. */
const char *sched_tz_name(const sched_tz *tz);

/* A short English text for a status, for logs and the command line. */
const char *sched_tz_status_text(int status);

/* Seconds east of UTC in force at instant utc_s. */
int32_t sched_tz_offset_at(const sched_tz *tz, int64_t utc_s);

/* The wall clock (local seconds) at instant utc_s. */
int64_t sched_tz_to_local(const sched_tz *tz, int64_t utc_s);

enum sched_tz_local_kind {
    SCHED_TZ_LOCAL_GAP = 0,   /* the wall time is skipped (spring forward) */
    SCHED_TZ_LOCAL_UNIQUE,    /* the wall time occurs once */
    SCHED_TZ_LOCAL_AMBIGUOUS  /* the wall time occurs twice (fall back) */
};

typedef struct sched_tz_local {
    int kind;             /* enum sched_tz_local_kind */
    int64_t utc_s;        /* UNIQUE/AMBIGUOUS: the (first) instant */
    int64_t next_local_s; /* GAP: first wall time after the gap;
                             AMBIGUOUS: first wall time after the repeated
                             stretch; UNIQUE: unused */
} sched_tz_local;

/* Resolves wall time local_s in tz into *out (see sched_tz_local). */
void sched_tz_resolve_local(const sched_tz *tz, int64_t local_s,
                            sched_tz_local *out);

#endif
