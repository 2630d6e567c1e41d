/*
 * limits.h - the limits on what clients control: open connections, the time
 * a request may take to arrive, parked long polls, in-flight messages, and
 * per-account counts of resources.  Each limit has AWS's default where AWS
 * has one and a `serve` flag to change it; one X-macro list makes the
 * struct, the defaults, the flags and their help text (docs/security.md).
 *
 * Ownership: main() fills one `limits` before the services start and keeps
 * it for the life of the server; the services and the HTTP front read it
 * through a const pointer.  account_counts belongs to the service that
 * counts with it, on the event-loop thread.
 */
#ifndef SLUICE_LIMITS_H
#define SLUICE_LIMITS_H

#include <stdio.h>
#include <stddef.h>

#include "core/map.h"

/* field, flag (without "--"), default, help text */
#define SLUICE_LIMITS(X)                                                                    \
    X(max_connections, "max-connections", 4096,                                            \
      "open client connections per listener; more wait in the backlog")                    \
    X(request_timeout, "request-timeout", 30,                                              \
      "seconds a request may take to arrive from its first byte")                          \
    X(max_long_polls, "max-long-polls", 10000, "parked ReceiveMessage waits in all")       \
    X(max_queues, "max-queues", 1000000, "SQS queues per account")                          \
    X(max_inflight, "max-inflight", 120000, "in-flight messages per standard queue")       \
    X(max_inflight_fifo, "max-inflight-fifo", 20000, "in-flight messages per FIFO queue")  \
    X(max_topics, "max-topics", 100000, "SNS topics per account (FIFO: 1000 at most)")      \
    X(max_subscriptions_per_topic, "max-subscriptions-per-topic", 12500000,               \
      "SNS subscriptions per topic (FIFO topics: 100 at most)")                            \
    X(max_event_buses, "max-event-buses", 100, "EventBridge custom buses per account")     \
    X(max_rules_per_bus, "max-rules-per-bus", 300, "EventBridge rules per bus")            \
    X(max_schedules, "max-schedules", 1000000, "Scheduler schedules per account")

/* AWS's caps for FIFO topics, below the flags' values: FIFO topics per
 * account, subscriptions of a FIFO topic. */
#define LIMITS_FIFO_TOPICS 1000
#define LIMITS_FIFO_TOPIC_SUBSCRIPTIONS 100

typedef struct limits {
#define LIMITS_FIELD(field, flag, def, help) size_t field;
    SLUICE_LIMITS(LIMITS_FIELD)
#undef LIMITS_FIELD
} limits;

/* The value getopt_long returns for every limit flag (see LIMITS_LONGOPT). */
#define LIMITS_OPT 'L'
/* One `struct option` entry per limit: SLUICE_LIMITS(LIMITS_LONGOPT) inside
 * a getopt_long table. */
#define LIMITS_LONGOPT(field, flag, def, help) {flag, required_argument, NULL, LIMITS_OPT},

/* The defaults, for services that were given no limits. */
const limits *limits_default(void);
void limits_init(limits *l);
/* Sets the limit whose flag is name (without "--") from text, a whole
 * number from 1 up.  0, or -1 with a message in err. */
int limits_set(limits *l, const char *name, const char *text, char *err, size_t errlen);
/* Writes the flags' help lines, in the style of `sluice serve --help`. */
void limits_usage(FILE *out);

/* How many resources of one kind each account has. */
typedef struct account_counts {
    map_str by_account;   /* account -> size_t (owned) */
} account_counts;

void account_counts_init(account_counts *c);
void account_counts_free(account_counts *c);
size_t account_counts_get(const account_counts *c, const char *account);
/* Adds delta (+1 or -1) to account's count; a count never goes below 0. */
void account_counts_add(account_counts *c, const char *account, int delta);

#endif
