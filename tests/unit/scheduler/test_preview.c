/*
 * test_preview.c - the "schedule preview" command: output, options, exit
 * statuses.  Runs schedule_preview_main() with stdout and stderr redirected
 * to temporary files.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler/preview.h"

static char out[8192], err[8192];

static void slurp(FILE *f, char *buf, size_t len)
{
    size_t n;

    rewind(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs "preview <args...>" (NULL-terminated); returns the exit status. */
static int run(const char *const *args)
{
    char *argv[32];
    int argc = 0, rc, saved_out, saved_err;
    FILE *fo = tmpfile(), *fe = tmpfile();

    if (!fo || !fe)
        abort();
    argv[argc++] = (char *)"preview";
    while (*args && argc < 31)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;

    fflush(stdout);
    fflush(stderr);
    saved_out = dup(1);
    saved_err = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    rc = schedule_preview_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    slurp(fo, out, sizeof out);
    slurp(fe, err, sizeof err);
    return rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

TEST(dst_listing)
{
    CHECK_INT(run(ARGS("cron(30 2 * * ? *)", "--timezone", "America/New_York",
                       "--after", "2025-03-07T00:00:00Z", "--count", "4")),
              0);
    CHECK_STR(out, "2025-03-07T07:30:00Z\n"
                   "2025-03-08T07:30:00Z\n"
                   "2025-03-10T06:30:00Z\n"
                   "2025-03-11T06:30:00Z\n");
    CHECK_STR(err, "");

    CHECK_INT(run(ARGS("cron(0/15 * * * ? *)", "--timezone=Australia/Lord_Howe",
                       "--after=2025-04-05T14:00:00Z", "--count=5")),
              0);
    CHECK_STR(out, "2025-04-05T14:15:00Z\n"
                   "2025-04-05T14:30:00Z\n"
                   "2025-04-05T14:45:00Z\n"
                   "2025-04-05T15:30:00Z\n"
                   "2025-04-05T15:45:00Z\n");
}

TEST(default_count_and_rate_from_after)
{
    /* Created at --after: the first invocation is --after itself, which is
     * not strictly after it, so the list starts one period later. */
    CHECK_INT(run(ARGS("rate(1 hour)", "--after", "2025-01-01T00:00:00Z")), 0);
    CHECK_STR(out, "2025-01-01T01:00:00Z\n2025-01-01T02:00:00Z\n"
                   "2025-01-01T03:00:00Z\n2025-01-01T04:00:00Z\n"
                   "2025-01-01T05:00:00Z\n2025-01-01T06:00:00Z\n"
                   "2025-01-01T07:00:00Z\n2025-01-01T08:00:00Z\n"
                   "2025-01-01T09:00:00Z\n2025-01-01T10:00:00Z\n");

    CHECK_INT(run(ARGS("rate(1 day)", "--start-date", "2025-03-08T12:00:00Z",
                       "--after", "2025-03-01T00:00:00Z", "--count", "2",
                       "--timezone", "America/New_York")),
              0);
    CHECK_STR(out, "2025-03-08T12:00:00Z\n2025-03-09T12:00:00Z\n");
}

TEST(times_with_offsets_and_bounds)
{
    /* 07:00-05:00 is 12:00Z; "after" is strict. */
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--after",
                       "2025-01-01T07:00:00-05:00", "--count", "2")),
              0);
    CHECK_STR(out, "2025-01-02T12:00:00Z\n2025-01-03T12:00:00Z\n");

    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--after", "2025-01-01T00:00:00Z",
                       "--start-date", "2025-01-05T00:00:00+00:00",
                       "--end-date", "2025-01-06T12:00:00Z")),
              0);
    CHECK_STR(out, "2025-01-05T12:00:00Z\n2025-01-06T12:00:00Z\n");

    /* A fractional StartDate rounds up: 12:00:00.5 excludes 12:00:00. */
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--after", "2025-01-01T00:00:00Z",
                       "--start-date", "2025-01-05T12:00:00.5Z", "--count",
                       "1")),
              0);
    CHECK_STR(out, "2025-01-06T12:00:00Z\n");

    /* at() ignores the bounds. */
    CHECK_INT(run(ARGS("at(2025-06-01T09:00:00)", "--timezone",
                       "America/New_York", "--after", "2025-01-01T00:00:00Z",
                       "--end-date", "2025-01-02T00:00:00Z")),
              0);
    CHECK_STR(out, "2025-06-01T13:00:00Z\n");

    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--count", "0")), 0);
    CHECK_STR(out, "");
}

TEST(invalid_expression)
{
    CHECK_INT(run(ARGS("cron(0 1 * * * *)")), 2);
    CHECK_STR(out, "");
    CHECK_STR(err, "Invalid Schedule Expression cron(0 1 * * * *).\n");

    CHECK_INT(run(ARGS("at(2021-12-31T23:59:59Z)", "--timezone", "UTC")), 2);
    CHECK_STR(err, "Invalid Schedule Expression at(2021-12-31T23:59:59Z).\n");

    CHECK_INT(run(ARGS(" rate(10 minutes)")), 2);
    CHECK_STR(err, "Invalid Schedule Expression  rate(10 minutes).\n");

    /* Scheduler does not insist on singular/plural. */
    CHECK_INT(run(ARGS("rate(1 minutes)", "--after", "2025-01-01T00:00:00Z",
                       "--count", "1")),
              0);
    CHECK_STR(out, "2025-01-01T00:01:00Z\n");
}

TEST(usage_errors)
{
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--timezone", "Mars/Base")), 2);
    CHECK(strstr(err, "unknown time zone") != NULL);
    CHECK_STR(out, "");
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--timezone", "../etc")), 2);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--after", "yesterday")), 2);
    CHECK(strstr(err, "--after") != NULL);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--end-date", "2025-02-30")), 2);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--count", "-1")), 2);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--count", "ten")), 2);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--count", "2000000")), 2);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--count")), 2);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "--bogus", "1")), 2);
    CHECK_INT(run(ARGS("cron(0 12 * * ? *)", "rate(1 hour)")), 2);
    CHECK_INT(run(ARGS("--count", "3")), 2);
    CHECK(strstr(err, "usage:") != NULL);
}

TEST(help)
{
    CHECK_INT(run(ARGS("--help")), 0);
    CHECK(strstr(out, "usage: sluice schedule preview EXPRESSION") != NULL);
}

int main(void)
{
    RUN(dst_listing);
    RUN(default_count_and_rate_from_after);
    RUN(times_with_offsets_and_bounds);
    RUN(invalid_expression);
    RUN(usage_errors);
    RUN(help);
    return check_report();
}
