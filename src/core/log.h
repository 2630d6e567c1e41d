/*
 * log.h - one line per event: time, level, component, then key=value ids.
 *
 *   2026-12-03T13:42:43.123Z INFO  sqs: queue created account=0000 queue=orders
 *
 * Lines go to stderr through one write() each, so threads never interleave
 * within a line.  A disabled level costs one comparison.  Never pass message
 * bodies or secrets.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* The process-wide threshold.  Owner: main(), set once before threads start. */
extern enum log_level log_threshold;

/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int log_level_parse(const char *name);

void log_write(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, comp, ...)                                                \
    do {                                                                      \
        if ((lvl) >= log_threshold)                                           \
            log_write((lvl), (comp), __VA_ARGS__);                            \
    } while (0)

#define log_debug(comp, ...) LOG_AT(LOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...)  LOG_AT(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  LOG_AT(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) LOG_AT(LOG_ERROR, comp, __VA_ARGS__)

#endif
