/*
 * events.h - the EventBridge service's model, shared by the files of src/events/.
 *
 * Ownership: one events_service per server; it and every bus, rule and
 * pending delivery in it belong to the event-loop thread.  Durable state is
 * in the store as resources:
 *   "events.bus"        one per custom bus (and the default bus once it has
 *                       tags or a description); name = bus name
 *   "events.rule"       name = "<bus>/<rule>"; the document holds the rule
 *                       and its targets
 *   "events.delivery"   a delivery that is not done inside the PutEvents
 *                       commit (log files, API destinations, retries);
 *                       deleted when it succeeds or gives up
 *   "events.connection", "events.apidest"   API destination resources
 *
 * Matching: each bus keeps a match_set of its enabled pattern rules, keyed
 * by the rule's resource id, so a PutEvents entry costs one match_set_run.
 * SQS targets are staged into the same store batch as the PutEvents
 * acknowledgement, so an acknowledged event is on its queues after a crash.
 */
#ifndef SLUICE_EVENTS_H
#define SLUICE_EVENTS_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/map.h"
#include "match/match.h"
#include "scheduler/expr.h"
#include "sqs/sqs.h"
#include "store/store.h"
#include "wire/api.h"

#define EVENTS_MAX_TARGETS 5
#define EVENTS_MAX_ENTRIES 10
#define EVENTS_MAX_REQUEST_BYTES 262144
/* Bus-to-bus hops of one event: an event a rule forwarded from another bus
 * is not sent on to a third bus (AWS eb-cross-account). */
#define EVENTS_FORWARD_DEPTH 1
#define EVENTS_DEFAULT_RETRIES 185
#define EVENTS_DEFAULT_MAX_AGE 86400

typedef struct events_service events_service;
typedef struct events_bus events_bus;
typedef struct events_rule events_rule;
typedef struct events_delivery events_delivery;
typedef struct events_http events_http;
typedef struct events_archive events_archive;

/* An archive: the events of one bus (matching its pattern, if any) kept as
 * store messages whose container is the archive's id. */
struct events_archive {
    uint64_t id;
    char *account;
    char *name;
    char *arn;
    char *bus_arn;          /* EventSourceArn */
    char *pattern;          /* EventPattern text, or NULL for every event */
    match_pattern *compiled;
    char *description;
    long long retention_days; /* 0 = forever */
    int64_t created_ms;
    /* the archived events in storage order: seq, ingestion time, size */
    uint64_t *seqs;
    int64_t *times;
    size_t count, cap;
    uint64_t size_bytes;
};

struct events_bus {
    events_service *svc;
    uint64_t id;
    char *account;
    char *name;
    char *arn;
    char *description;      /* or NULL */
    char *policy;           /* resource policy JSON text (PutPermission), or NULL */
    json_t *tags;           /* object key -> value */
    bool stored;            /* has a resource row */
    int64_t created_ms;
    map_str rules;          /* name -> events_rule */
    map_u64 rules_by_id;    /* rule id -> events_rule (the set's ids) */
    match_set *set;         /* enabled rules with a pattern */
};

struct events_rule {
    uint64_t id;
    events_bus *bus;
    char *name;
    char *arn;
    char *pattern;          /* EventPattern text as given, or NULL */
    char *schedule;         /* ScheduleExpression, or NULL */
    sched_expr sched;
    bool enabled;
    char *description;
    char *role_arn;
    json_t *targets;        /* array of Target objects as given (validated) */
    json_t *tags;
    int64_t created_ms;
    struct event *timer;    /* scheduled rules */
};

struct events_delivery {
    events_service *svc;
    uint64_t id;            /* resource id */
    char *account;
    json_t *doc;            /* see deliver.c */
    struct event *timer;
    bool running;           /* an attempt is in progress */
    bool dropped;           /* dropped while running: freed when it ends */
    bool slot_taken;        /* waits for its turn under the rate limit */
};

struct events_service {
    struct event_base *base;
    store *store;
    sqs_service *sqs;
    struct sns_service *sns;     /* SNS topics as targets; NULL until set */
    const char *region;
    const char *default_account;
    char *data_dir;
    map_str buses;          /* "account/name" -> events_bus */
    map_u64 deliveries;     /* id -> events_delivery */
    map_str connections;    /* "account/name" -> json_t doc (with "id") */
    map_str apidests;       /* "account/name" -> json_t doc */
    map_str archives;       /* "account/name" -> events_archive */
    map_str replays;        /* "account/name" -> json_t doc (with "id") */
    struct event *replay_timer; /* runs STARTING replays */
    events_http *http;
    const limits *limits;   /* not owned */
    account_counts bus_counts; /* buses per account, default not counted */
    bool closing;           /* events_service_free has begun */
    struct events_oauth_fetch *oauth_timers; /* scheduled OAuth token renewals */
};

/* service.c */
/* Creates the service.  sqs is the SQS service targets are delivered to;
 * data_dir is where log targets write.  Never returns NULL. */
events_service *events_service_new(struct event_base *base, store *st, sqs_service *sqs,
                                   const char *region, const char *default_account,
                                   const char *data_dir);
/* Answers a List* call: the entries of m (keyed "account/name") of the
 * caller's account, by name, with NamePrefix, Limit and NextToken, each
 * rendered by view (NULL skips an entry) into the output member field. */
api_status events_list_named(api_call *call, map_str *m, const char *field,
                             json_t *(*view)(api_call *call, void *item));

/* Lets rules and schedules target SNS topics (sns is not owned). */
void events_service_set_sns(events_service *svc, struct sns_service *sns);
/* Uses lim (not owned; outlives the service) instead of the defaults. */
void events_service_set_limits(events_service *svc, const limits *lim);
/* Trusts only the PEM CA bundle at path (NULL: the system's store) for
 * API destinations over HTTPS; call before the event loop runs. */
void events_service_set_ca_file(events_service *svc, const char *path);
/* Loads buses, rules, connections and pending deliveries; 0 or -1. */
int events_service_load(events_service *svc);
void events_service_free(events_service *svc);
/* The api_service to register with the HTTP server; the caller frees it. */
api_service *events_api_service(events_service *svc);

/* Finds a bus by name or ARN (NULL/"" = default); the default bus of an
 * account always exists.  Returns NULL if there is none. */
events_bus *events_bus_find(events_service *svc, const char *account, const char *name_or_arn);
/* The bus a caller names, if it may act on it (events_bus_access gives
 * EVENTS_BUS_OK); NULL otherwise. */
events_bus *events_bus_for_call(events_service *svc, const api_call *call,
                                const char *name_or_arn);
typedef enum events_bus_status {
    EVENTS_BUS_OK,
    EVENTS_BUS_MISSING,  /* no such bus in the caller's account */
    EVENTS_BUS_DENIED,   /* the key's allow list or the bus's policy refuses, or a bus
                          * of another account that does not exist */
} events_bus_status;
/* Finds the bus a caller names (*out, or NULL) and decides whether the
 * call's action ("events:<Action>") is permitted on it: the key's allow
 * list; an applying Deny of the bus's policy; for a bus of another account
 * an Allow of its policy for the caller's account (core/policy.h). */
events_bus_status events_bus_access(events_service *svc, const api_call *call,
                                    const char *name_or_arn, events_bus **out);
/* Sets AccessDeniedException for the call's action on the resource arn. */
api_status events_fail_denied(api_call *call, const char *arn);
/* Whether a rule of another bus may put events on bus (a bus target):
 * the bus's policy asked for events:PutEvents with the rule's account as
 * principal and aws:SourceArn = the rule; a Deny refuses, the bus's own
 * account is otherwise permitted, another one only by an Allow. */
bool events_bus_accepts(const events_bus *bus, const char *account, const char *source_arn);
events_bus *events_bus_new(events_service *svc, uint64_t id, const char *account,
                           const char *name);
void events_bus_free(events_bus *b);
/* The bus's and rule's documents for the store (caller frees). */
char *events_bus_doc(const events_bus *b);
char *events_rule_doc(const events_rule *r);
/* Adds the bus's / rule's row (insert or replace) to batch b. */
void events_bus_store(store_batch *b, events_bus *bus);
void events_rule_store(store_batch *b, const events_rule *r);
/* Finds a rule or bus by ARN for the tagging actions; NULL if none. */
events_rule *events_rule_by_arn(events_service *svc, const char *arn);
/* Sets AWS's modelled-constraint ValidationException on the call. */
api_status events_fail_pattern(api_call *call, const char *value, const char *field,
                               const char *regex);
bool events_name_invalid(api_call *call, const char *value, const char *field, size_t max);
events_rule *events_rule_new(events_service *svc, events_bus *b, uint64_t id, const char *name);
void events_rule_free(events_rule *r);
/* Recompiles the rule's pattern into its bus's set (or removes it there). */
int events_rule_index(events_rule *r);
/* Schedules the next firing of a scheduled, enabled rule (or stops it). */
void events_rule_arm(events_service *svc, events_rule *r);
/* Commits b and finishes the call when durable; returns API_PENDING. */
api_status events_commit_and_finish(events_service *svc, api_call *call, store_batch *b);

static inline events_service *events_of(api_call *call)
{
    return (events_service *)call->service->ctx;
}

/* buses.c */
api_status events_create_event_bus(api_call *call);
api_status events_delete_event_bus(api_call *call);
api_status events_describe_event_bus(api_call *call);
api_status events_list_event_buses(api_call *call);
api_status events_tag_resource(api_call *call);
api_status events_untag_resource(api_call *call);
api_status events_list_tags_for_resource(api_call *call);
api_status events_put_permission(api_call *call);
api_status events_remove_permission(api_call *call);

/* rules.c */
api_status events_put_rule(api_call *call);
api_status events_delete_rule(api_call *call);
api_status events_describe_rule(api_call *call);
api_status events_list_rules(api_call *call);
api_status events_enable_rule(api_call *call);
api_status events_disable_rule(api_call *call);
api_status events_list_rule_names_by_target(api_call *call);
api_status events_put_targets(api_call *call);
api_status events_remove_targets(api_call *call);
api_status events_list_targets_by_rule(api_call *call);
api_status events_test_event_pattern(api_call *call);
/* Pagination helpers shared by the List actions. */
void events_token_encode(const char *name, char *out, size_t outlen);
bool events_token_decode(const char *token, char *out, size_t outlen);
/* Sorted (by name) array of the keys of m; caller frees the array only. */
const char **events_sorted_keys(const map_str *m, size_t *n);

/* put.c */
api_status events_put_events(api_call *call);

/* dispatch.c: matching one event on a bus and delivering it */
typedef struct events_dispatch {
    events_service *svc;
    store_batch *batch;
    sqs_staged *staged;
    json_t *new_deliveries;  /* array of delivery ids created in this batch */
    void **sns_pending;      /* sns_pending of topic targets, finished with the batch */
    size_t nsns, sns_cap;
    int depth;               /* bus-to-bus hops so far (EVENTS_FORWARD_DEPTH) */
    json_t *only_rules;      /* replays: ARNs of the rules to deliver to, or NULL */
    bool replay;             /* replayed events are not archived again */
} events_dispatch;

/* Matches the event (envelope object and its JSON text) against the bus's
 * rules and delivers it to their targets into d's batch.  Returns the
 * number of rules matched. */
int events_dispatch_event(events_dispatch *d, events_bus *bus, json_t *event,
                          const char *event_text);
/* Delivers an event to every target of one rule (scheduled rules). */
void events_dispatch_rule(events_dispatch *d, events_rule *r, json_t *event,
                          const char *event_text);
/* After the batch's commit: starts the new deliveries (status 0) or drops
 * them.  Frees what d holds, not d itself. */
void events_dispatch_finish(events_dispatch *d, int status);

/* deliver.c: durable deliveries with retries */
/* Makes a delivery resource for target of rule carrying payload (the text
 * the target receives) and adds its row to b; not started until committed. */
events_delivery *events_delivery_create(events_dispatch *d, events_rule *r, json_t *target,
                                        const char *payload, const char *event_text);
void events_delivery_start(events_service *svc, events_delivery *dl);
void events_delivery_drop(events_service *svc, events_delivery *dl);
/* Loads a delivery from its stored document (at start). */
void events_delivery_load(events_service *svc, uint64_t id, const char *account,
                          const char *doc);
/* Stages a dead-letter copy of a failed event on the target's DLQ, if it has
 * one; returns true if staged. */
bool events_dead_letter(events_dispatch *d, const char *rule_arn, json_t *target,
                        const char *payload, const char *code, const char *message,
                        const char *exhausted, int attempts);

/* apidest.c: connections and API destinations */
api_status events_create_connection(api_call *call);
api_status events_describe_connection(api_call *call);
api_status events_list_connections(api_call *call);
api_status events_delete_connection(api_call *call);
api_status events_create_api_destination(api_call *call);
api_status events_describe_api_destination(api_call *call);
api_status events_list_api_destinations(api_call *call);
api_status events_delete_api_destination(api_call *call);
api_status events_update_api_destination(api_call *call);
api_status events_update_connection(api_call *call);
api_status events_deauthorize_connection(api_call *call);
/* Starts fetching an OAuth connection's token (state AUTHORIZING, then
 * AUTHORIZED or DEAUTHORIZED when the answer comes). */
void events_connection_authorize(events_service *svc, json_t *conn);
/* Stops the scheduled token renewals (at shutdown). */
void events_apidest_free_all(events_service *svc);
void events_apidest_load(events_service *svc, const char *kind, uint64_t id,
                         const char *account, const char *name, const char *doc);
/* The API destination document for an ARN, or NULL. */
json_t *events_apidest_by_arn(events_service *svc, const char *arn);
json_t *events_connection_by_arn(events_service *svc, const char *arn);

/* archive.c: archives and replays */
api_status events_create_archive(api_call *call);
api_status events_describe_archive(api_call *call);
api_status events_list_archives(api_call *call);
api_status events_update_archive(api_call *call);
api_status events_delete_archive(api_call *call);
api_status events_start_replay(api_call *call);
api_status events_describe_replay(api_call *call);
api_status events_list_replays(api_call *call);
api_status events_cancel_replay(api_call *call);
/* Adds the event to every archive of bus that wants it, into d's batch. */
void events_archive_event(events_dispatch *d, events_bus *bus, json_t *event,
                          const char *event_text);
/* Loading at start: archives and replays (resources), archived events
 * (messages); unfinished replays are run again. */
void events_archive_init(events_service *svc);
int events_archive_load(events_service *svc);
void events_archive_free_all(events_service *svc);

/* http_client.c: outbound HTTP on the event loop (libcurl multi) */
/* What a request ended with; valid during the done call only. */
typedef struct events_http_reply {
    long status;             /* HTTP status, or 0 when there was no answer */
    const char *error;       /* curl's error text when status is 0 */
    const char *retry_after; /* the Retry-After header's value, or NULL */
    const char *body;        /* the answer's first EVENTS_HTTP_BODY_MAX bytes when
                              * asked for (keep_body), else "" */
} events_http_reply;
#define EVENTS_HTTP_BODY_MAX 65536
typedef void (*events_http_done_fn)(void *arg, const events_http_reply *reply);
events_http *events_http_new(struct event_base *base);
/* See events_service_set_ca_file. */
void events_http_set_ca_file(events_http *h, const char *path);
void events_http_free(events_http *h);
/* Starts a request; done(arg, reply) runs later on the loop thread.
 * headers: object name -> value; keep_body: collect the answer's body. */
void events_http_request(events_http *h, const char *method, const char *url, json_t *headers,
                         const char *body, long timeout_s, bool keep_body,
                         events_http_done_fn done, void *arg);

#endif
