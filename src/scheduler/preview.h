/*
 * preview.h - "sluice schedule preview": lists a schedule's next fire times.
 */
#ifndef SLUICE_SCHEDULER_PREVIEW_H
#define SLUICE_SCHEDULER_PREVIEW_H

/*
 * Runs the command line
 *
 *   preview EXPRESSION [--timezone TZ] [--after TIME] [--count N]
 *           [--start-date TIME] [--end-date TIME]
 *
 * (argv[0] is "preview").  EXPRESSION is validated as EventBridge Scheduler
 * does; TZ is an IANA zone name (default UTC); TIME is ISO-8601, e.g.
 * 2025-03-08T00:00:00Z or 2025-03-08T00:00:00-05:00 (no offset: UTC).
 * Prints the next N (default 10) fire times strictly after --after
 * (default: now), one "YYYY-MM-DDTHH:MM:SSZ" per line on stdout; fewer if
 * the schedule ends.  A rate() without --start-date counts from --after, as
 * if created then.
 *
 * Returns the exit status: 0 on success; 2 for a refused expression (with
 * Scheduler's "Invalid Schedule Expression <expr>." on stderr), an unknown
 * zone, a malformed time or a usage error (a message on stderr); 1 if
 * output fails.
 */
int schedule_preview_main(int argc, char **argv);

#endif
