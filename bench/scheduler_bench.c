/*
 * scheduler_bench.c - the Scheduler's firing structure at scale, in memory.
 *
 * Creates N schedules (default 1,000,000) the way the service does - parse
 * the expression (sched_expr_parse, Scheduler dialect), compute the first
 * invocation (sched_next_fire, with the schedule's zone), put the schedule's
 * node in the min-heap (heap.h) - and reports the creation rate and the
 * memory it took.  Then it fires them: a `--due` share of the schedules are
 * one-time at() schedules spread over the next `--spread` seconds (the rest
 * are cron/rate schedules further out, as ballast in the heap), and one
 * libevent timer set for the heap's root pops whatever is due, up to 1,000
 * per callback, re-arming each recurring schedule, exactly as
 * src/scheduler/fire.c does (minus the store and the delivery).  Lateness
 * (pop time minus due time) is reported as p50/p99/max.
 *
 * Build and run (from the repository root, after `make`):
 *
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc \
 *      bench/scheduler_bench.c build/libsluice.a \
 *      $(pkg-config --cflags --libs libevent libevent_pthreads jansson libcjson sqlite3 \
 *        libcrypto libcurl) -lpthread -lm -o build/scheduler_bench
 *   build/scheduler_bench [--schedules N] [--due N] [--spread SECONDS]
 */
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/civil.h"
#include "scheduler/expr.h"
#include "scheduler/heap.h"
#include "scheduler/nextfire.h"
#include "scheduler/tz.h"

#define FIRE_BUDGET 1000
#define LATE_BUCKETS 100000 /* 0.1 ms buckets up to 10 s */

typedef struct bench_schedule {
    sched_heap_node node; /* first: heap nodes map back to schedules */
    sched_expr expr;
    const sched_tz *tz;
    sched_bounds bounds;
    int64_t due_s;
} bench_schedule;

typedef struct bench {
    struct event_base *base;
    struct event *timer;
    sched_heap heap;
    size_t to_fire, fired;
    uint32_t *late;       /* histogram, 0.1 ms buckets */
    double late_max_ms;
} bench;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static void rearm(bench *b)
{
    sched_heap_node *top = sched_heap_peek(&b->heap);
    if (!top)
        return;
    int64_t delay = top->at_ms - now_ms();
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000};
    evtimer_add(b->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    bench *b = arg;

    (void)fd;
    (void)what;
    int64_t now = now_ms();
    sched_heap_node *n;

    for (int budget = FIRE_BUDGET; budget > 0 && (n = sched_heap_pop_due(&b->heap, now));
         budget--) {
        bench_schedule *s = (bench_schedule *)n;
        double late = now_us() / 1000.0 - (double)n->at_ms;
        if (late < 0)
            late = 0;
        if (late > b->late_max_ms)
            b->late_max_ms = late;
        size_t bucket = (size_t)(late * 10);
        b->late[bucket < LATE_BUCKETS ? bucket : LATE_BUCKETS - 1]++;
        b->fired++;
        int64_t next;
        if (sched_next_fire(&s->expr, s->tz, &s->bounds, s->due_s + 1, &next)) {
            s->due_s = next;
            sched_heap_set(&b->heap, &s->node, next * 1000);
        }
    }
    if (b->fired >= b->to_fire)
        event_base_loopbreak(b->base);
    else
        rearm(b);
}

static double percentile(const bench *b, double p)
{
    size_t want = (size_t)((double)b->fired * p), seen = 0;
    for (size_t i = 0; i < LATE_BUCKETS; i++) {
        seen += b->late[i];
        if (seen > want)
            return (double)i / 10.0;
    }
    return (double)LATE_BUCKETS / 10.0;
}

int main(int argc, char **argv)
{
    size_t n = 1000000, due = 100000;
    int spread = 10;
    static const struct option opts[] = {{"schedules", required_argument, NULL, 'n'},
                                         {"due", required_argument, NULL, 'd'},
                                         {"spread", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (c == 'd')
            due = strtoul(optarg, NULL, 10);
        else if (c == 's')
            spread = atoi(optarg);
        else {
            fprintf(stderr, "usage: %s [--schedules N] [--due N] [--spread SECONDS]\n",
                    argv[0]);
            return 2;
        }
    }
    if (due > n)
        due = n;
    if (spread < 1)
        spread = 1;

    static const char *const recurring[] = {
        "cron(0 7 ? * MON *)",   "cron(30 2 * * ? *)", "rate(1 hour)",
        "cron(0/15 * * * ? *)",  "rate(5 minutes)",    "cron(0 9 L * ? *)",
        "cron(0 8 ? * SAT#3 *)", "rate(1 day)",
    };
    static const char *const zones[] = {"UTC", "Europe/London", "America/New_York",
                                        "Asia/Tokyo"};
    bench b = {0};
    b.base = event_base_new();
    b.timer = evtimer_new(b.base, on_timer, &b);
    b.late = calloc(LATE_BUCKETS, sizeof *b.late);
    sched_heap_init(&b.heap);

    long rss0 = rss_kb();
    bench_schedule *all = calloc(n, sizeof *all);
    if (!all || !b.late) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    int64_t start_ms = now_ms() + 1000; /* due ones start in a second */
    double t0 = mono_s();
    char text[64];
    for (size_t i = 0; i < n; i++) {
        bench_schedule *s = &all[i];
        const char *expr;
        int64_t at_ms = 0;
        sched_heap_node_init(&s->node);
        sched_bounds_init(&s->bounds);
        if (i < due) {
            /* spread the one-time schedules evenly over the window */
            at_ms = start_ms + (int64_t)((double)i / (double)due * spread * 1000.0);
            civil_time ct;
            civil_from_seconds(at_ms / 1000, &ct);
            snprintf(text, sizeof text, "at(%04d-%02d-%02dT%02d:%02d:%02d)", ct.year,
                     ct.month, ct.day, ct.hour, ct.minute, ct.second);
            expr = text;
            s->tz = sched_tz_utc();
        } else {
            expr = recurring[i % (sizeof recurring / sizeof *recurring)];
            s->tz = sched_tz_get(zones[i % (sizeof zones / sizeof *zones)], NULL);
            s->bounds.anchor_s = start_ms / 1000 + 3600; /* rate: starts in an hour */
        }
        if (sched_expr_parse(expr, strlen(expr), SCHED_DIALECT_SCHEDULER, &s->expr) != 0) {
            fprintf(stderr, "refused: %s\n", expr);
            return 1;
        }
        int64_t from = i < due ? at_ms / 1000 : start_ms / 1000 + 3600;
        if (!sched_next_fire(&s->expr, s->tz, &s->bounds, from, &s->due_s))
            continue;
        sched_heap_set(&b.heap, &s->node, s->due_s * 1000);
    }
    double created_s = mono_s() - t0;
    long rss1 = rss_kb();
    printf("created %zu schedules in %.2f s: %.0f schedules/s\n", n, created_s,
           (double)n / created_s);
    printf("memory: %.1f MiB resident for them (%.0f bytes per schedule: %zu in the record, "
           "%zu in the heap's array)\n",
           (double)(rss1 - rss0) / 1024.0, (double)(rss1 - rss0) * 1024.0 / (double)n,
           sizeof(bench_schedule), sizeof(sched_heap_entry));

    b.to_fire = due;
    if (due) {
        double f0 = mono_s();
        rearm(&b);
        event_base_dispatch(b.base);
        double fired_s = mono_s() - f0;
        printf("fired %zu one-time schedules due over %d s in %.2f s (heap still holds %zu)\n",
               b.fired, spread, fired_s, sched_heap_len(&b.heap));
        printf("lateness: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", percentile(&b, 0.50),
               percentile(&b, 0.99), b.late_max_ms);
    }
    sched_heap_free(&b.heap);
    free(all);
    free(b.late);
    event_free(b.timer);
    event_base_free(b.base);
    sched_tz_cache_clear();
    return 0;
}
