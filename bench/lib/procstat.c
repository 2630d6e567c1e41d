/*
 * procstat.c - /proc and getrusage sampling (see procstat.h).
 *
 * /proc/<pid>/stat is parsed after the last ')' so that a command name with
 * spaces or parentheses cannot shift the fields; utime and stime are fields
 * 14 and 15 of the file.
 */
#include "procstat.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

long long procstat_cpu_ticks(int pid, int tid)
{
    char path[64], buf[2048], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;

    if (pid <= 0)
        return -1;
    if (tid > 0)
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    else
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* after ")": state(3) ... utime is field 14, stime 15 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

long procstat_rss_kb(int pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

int procstat_machine_ticks(long long *busy, long long *steal)
{
    long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n;

    if (!f)
        return -1;
    n = fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 8)
        return -1;
    *busy = v[0] + v[1] + v[2] + v[5] + v[6];
    if (steal)
        *steal = v[7];
    return 0;
}

double procstat_self_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
