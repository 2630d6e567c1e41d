/*
 * procstat.h - CPU and memory figures from /proc and getrusage for the bench
 * load generators, which report how much CPU the server, the generator and
 * the rest of the machine used during a measurement window.
 *
 * Every function reads the kernel's files afresh and keeps no state, so any
 * thread may call them.  Ticks are clock ticks (sysconf(_SC_CLK_TCK)); the
 * caller takes differences between two samples.
 */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H

/* utime+stime in clock ticks of process pid (tid 0) or of its thread tid;
 * -1 when pid <= 0 or the file cannot be read or parsed. */
long long procstat_cpu_ticks(int pid, int tid);

/* Resident set size of pid in KiB (VmRSS), or -1. */
long procstat_rss_kb(int pid);

/* Machine-wide CPU ticks from /proc/stat: *busy (user, nice, system, irq,
 * softirq) and, when steal is not NULL, *steal (taken by the hypervisor).
 * Returns 0, or -1 (outputs untouched). */
int procstat_machine_ticks(long long *busy, long long *steal);

/* CPU seconds (user + system) this process has used so far. */
double procstat_self_cpu_s(void);

#endif
