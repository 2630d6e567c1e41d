/*
 * preview.c - the "schedule preview" command (preview.h).
 *
 * A thin shell over expr.h, tz.h and nextfire.h: it parses the options,
 * validates in the Scheduler dialect, loads the zone (privately, not via
 * the shared cache: the command runs once) and prints the fire times.
 */
#include "scheduler/preview.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/civil.h"
#include "scheduler/expr.h"
#include "scheduler/nextfire.h"
#include "scheduler/tz.h"

#define PREVIEW_COUNT_MAX 1000000

struct preview_args {
    const char *expr;
    const char *timezone;
    const char *after;
    const char *count;
    const char *start;
    const char *end;
};

static void usage(FILE *out)
{
    fputs("usage: sluice schedule preview EXPRESSION [--timezone TZ] "
          "[--after TIME]\n"
          "                               [--count N] [--start-date TIME] "
          "[--end-date TIME]\n",
          out);
}

/* If argv[*i] is option `name` ("--name VALUE" or "--name=VALUE"), stores
 * the value, advances *i past it and returns 1; -1 if the value is
 * missing; 0 if argv[*i] is another word. */
static int take_option(int argc, char **argv, int *i, const char *name,
                       const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static int parse_args(int argc, char **argv, struct preview_args *pa)
{
    static const struct {
        const char *name;
        size_t field;
    } options[] = {
        {"--timezone", offsetof(struct preview_args, timezone)},
        {"--after", offsetof(struct preview_args, after)},
        {"--count", offsetof(struct preview_args, count)},
        {"--start-date", offsetof(struct preview_args, start)},
        {"--end-date", offsetof(struct preview_args, end)},
    };

    memset(pa, 0, sizeof *pa);
    for (int i = 1; i < argc; i++) {
        int taken = 0;

        for (size_t k = 0; k < sizeof options / sizeof options[0]; k++) {
            const char **slot =
                (const char **)((char *)pa + options[k].field);
            taken = take_option(argc, argv, &i, options[k].name, slot);
            if (taken < 0) {
                fprintf(stderr, "sluice schedule preview: %s needs a value\n",
                        options[k].name);
                return -1;
            }
            if (taken)
                break;
        }
        if (taken)
            continue;
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
            fprintf(stderr, "sluice schedule preview: unknown option %s\n",
                    argv[i]);
            return -1;
        }
        if (pa->expr) {
            fprintf(stderr, "sluice schedule preview: one EXPRESSION only\n");
            return -1;
        }
        pa->expr = argv[i];
    }
    if (!pa->expr) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Parses an option's ISO-8601 value; round_up takes a fractional second
 * to the next whole one. */
static int parse_time(const char *option, const char *text, int round_up,
                      int64_t *out)
{
    int32_t ns;

    if (civil_parse_iso8601(text, out, &ns) != 0) {
        fprintf(stderr,
                "sluice schedule preview: %s: not an ISO-8601 time: %s\n",
                option, text);
        return -1;
    }
    if (round_up && ns > 0)
        (*out)++;
    return 0;
}

static int parse_count(const char *text, size_t *out)
{
    char *end;
    long v;

    if (!text) {
        *out = 10;
        return 0;
    }
    v = strtol(text, &end, 10);
    if (*text < '0' || *text > '9' || *end != '\0' || v < 0 ||
        v > PREVIEW_COUNT_MAX) {
        fprintf(stderr,
                "sluice schedule preview: --count must be 0-%d: %s\n",
                PREVIEW_COUNT_MAX, text);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Prints the fire times; returns the exit status. */
static int print_fires(const sched_expr *e, const sched_tz *tz,
                       const sched_bounds *b, int64_t after, size_t count)
{
    int64_t from = after + 1, t;
    char line[32];

    for (size_t i = 0; i < count; i++) {
        if (!sched_next_fire(e, tz, b, from, &t))
            break;
        civil_format_utc(t, line, sizeof line);
        if (printf("%s\n", line) < 0)
            return 1;
        from = t + 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int schedule_preview_main(int argc, char **argv)
{
    struct preview_args pa;
    sched_expr expr;
    sched_bounds bounds;
    sched_tz *tz = NULL;
    int64_t after;
    size_t count;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (parse_args(argc, argv, &pa) != 0)
        return 2;

    /* The expression, checked as EventBridge Scheduler checks it. */
    if (sched_expr_parse(pa.expr, strlen(pa.expr), SCHED_DIALECT_SCHEDULER,
                         &expr) != SCHED_EXPR_OK) {
        char msg[512];
        sched_expr_message(SCHED_DIALECT_SCHEDULER, pa.expr, strlen(pa.expr),
                           msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return 2;
    }

    /* Times and count. */
    sched_bounds_init(&bounds);
    after = (int64_t)time(NULL);
    if ((pa.after && parse_time("--after", pa.after, 0, &after) != 0) ||
        (pa.start &&
         parse_time("--start-date", pa.start, 1, &bounds.start_s) != 0) ||
        (pa.end && parse_time("--end-date", pa.end, 0, &bounds.end_s) != 0) ||
        parse_count(pa.count, &count) != 0)
        return 2;
    bounds.anchor_s = after; /* rate() "created" at --after */

    /* The zone. */
    if ((rc = sched_tz_load(pa.timezone, &tz)) != SCHED_TZ_OK) {
        fprintf(stderr, "sluice schedule preview: --timezone %s: %s\n",
                pa.timezone, sched_tz_status_text(rc));
        return 2;
    }

    rc = print_fires(&expr, tz, &bounds, after, count);
    sched_tz_free(tz);
    return rc;
}
