/*
 * scheduler.h - the EventBridge Scheduler service's model, shared by
 * service.c, validate.c, actions.c and fire.c.
 *
 * Ownership: one scheduler_service per server; it, its groups, schedules
 * and pending retries belong to the event-loop thread, the only thread that
 * touches them.  Durable state is in the store as resources:
 *   "scheduler.group"     name = group name; the default group of an
 *                         account exists without a row until it is tagged
 *   "scheduler.schedule"  name = "<group>/<name>"; the document holds the
 *                         definition and the firing record (last_fired_s)
 *   "scheduler.retry"     one failed invocation waiting for its next
 *                         attempt (a snapshot of the target, the scheduled
 *                         time and the attempts made)
 *
 * Firing: every enabled schedule and every retry is a node of one min-heap
 * (heap.h) keyed by when it is due, and one libevent timer is set for the
 * root.  An invocation is recorded in the same commit that stages its SQS
 * message (or its retry row, or its dead letter), and retries are started
 * only once that commit is durable; so a restart neither repeats an
 * invocation nor loses one that was due while the server was down (within
 * the target's MaximumEventAgeInSeconds).
 */
#ifndef SLUICE_SCHEDULER_H
#define SLUICE_SCHEDULER_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/map.h"
#include "scheduler/expr.h"
#include "scheduler/heap.h"
#include "scheduler/nextfire.h"
#include "scheduler/tz.h"
#include "sqs/sqs.h"
#include "store/store.h"
#include "wire/api.h"

#define SCHEDULER_KIND_GROUP "scheduler.group"
#define SCHEDULER_KIND_SCHEDULE "scheduler.schedule"
#define SCHEDULER_KIND_RETRY "scheduler.retry"
#define SCHEDULER_DEFAULT_GROUP "default"
#define SCHEDULER_MAX_TAGS 200
#define SCHEDULER_FIRE_BUDGET 1000  /* invocations per timer callback */

typedef struct scheduler_service scheduler_service;
typedef struct scheduler_group scheduler_group;
typedef struct scheduler_schedule scheduler_schedule;
typedef struct scheduler_retry scheduler_retry;

enum scheduler_due_kind { SCHEDULER_DUE_SCHEDULE = 1, SCHEDULER_DUE_RETRY };

/* A heap node with the kind of its owner; first member of both owners. */
typedef struct scheduler_due {
    sched_heap_node node;
    int kind;
} scheduler_due;

struct scheduler_group {
    uint64_t id;            /* 0 while the (default) group has no row */
    char *account;
    char *name;
    char *arn;
    int64_t created_ms, modified_ms;
    json_t *tags;           /* object key -> value, in insertion order */
    char *client_token;     /* of the create, or NULL */
};

struct scheduler_schedule {
    scheduler_due due;      /* first: the heap node */
    scheduler_service *svc;
    uint64_t id;
    char *account;
    char *group;
    char *name;
    char *arn;
    json_t *def;            /* the validated definition (see validate.c) */
    sched_expr expr;
    const sched_tz *tz;     /* shared, cached zone */
    sched_bounds bounds;
    bool enabled;
    bool delete_after;      /* ActionAfterCompletion DELETE */
    int flex_min;           /* FLEXIBLE window in minutes, 0 when OFF */
    int max_retries, max_age_s;
    int64_t created_ms, modified_ms;
    int64_t base_s;         /* invocations count from here (create/update) */
    int64_t anchor_s;       /* rate() without StartDate: its first
                               invocation (creation, or the update that
                               changed the expression) */
    int64_t last_fired_s;   /* scheduled time of the last recorded
                               invocation, or SCHED_NO_TIME */
    int64_t due_s;          /* scheduled time of the node in the heap */
    char *client_token;     /* of the last create/update, or NULL */
    bool deleted;
    int refs;               /* the registry plus commits in flight */
};

struct scheduler_retry {
    scheduler_due due;      /* first: the heap node */
    uint64_t id;
    char *account;
    json_t *doc;            /* schedule_arn, group, name, schedule_id,
                               scheduled_ms, attempts, target, error */
    int attempts;           /* attempts made so far */
};

struct events_service;

struct scheduler_service {
    struct event_base *base;
    store *store;
    sqs_service *sqs;
    struct events_service *events; /* EventBridge bus targets, or NULL */
    struct sns_service *sns;       /* SNS topic targets, or NULL */
    const char *region;
    const char *default_account;
    map_str groups;         /* "account/group" -> scheduler_group */
    map_str schedules;      /* "account/group/name" -> scheduler_schedule */
    map_u64 retries;        /* id -> scheduler_retry */
    map_str delete_tokens;  /* "account/token" -> strdup'd ARN (idempotent deletes) */
    sched_heap heap;
    struct event *timer;
    int64_t timer_at_ms;    /* root due time the timer is set for, or -1 */
    uint64_t fired, delivered, dead_lettered, retried;  /* counters */
    size_t inflight;        /* invocation commits not yet completed */
    bool closing;           /* freed while commits were in flight */
    const limits *limits;   /* not owned */
    account_counts schedule_counts; /* schedules per account */
};

/* --- service.c -------------------------------------------------------- */

/* Creates the service; sqs is where SQS targets and dead letters go.
 * Never returns NULL. */
scheduler_service *scheduler_service_new(struct event_base *base, store *st,
                                         sqs_service *sqs, const char *region,
                                         const char *default_account);
/* Lets bus targets reach EventBridge (not owned; may stay unset). */
void scheduler_service_set_events(scheduler_service *svc, struct events_service *events);
/* Lets schedules target SNS topics (sns is not owned). */
void scheduler_service_set_sns(scheduler_service *svc, struct sns_service *sns);
/* Uses lim (not owned; outlives the service) instead of the defaults. */
void scheduler_service_set_limits(scheduler_service *svc, const limits *lim);
/* Loads groups, schedules and pending retries and arms the timer; 0 or -1. */
int scheduler_service_load(scheduler_service *svc);
/* Frees everything; if invocation commits are still in flight, the last
 * one's completion does it. */
void scheduler_service_free(scheduler_service *svc);
/* The free itself (fire.c calls it when the last commit completes). */
void scheduler_service_destroy(scheduler_service *svc);
/* The api_service to register with the HTTP server; the caller frees it. */
api_service *scheduler_api_service(scheduler_service *svc);

/* The group, or NULL.  The default group always exists (made on demand). */
scheduler_group *scheduler_group_get(scheduler_service *svc, const char *account,
                                     const char *name);
scheduler_group *scheduler_group_new(scheduler_service *svc, uint64_t id, const char *account,
                                     const char *name);
void scheduler_group_drop(scheduler_service *svc, scheduler_group *g);
/* The group's row (giving it an id if it has none) added to b. */
void scheduler_group_store(scheduler_service *svc, store_batch *b, scheduler_group *g);

scheduler_schedule *scheduler_schedule_find(scheduler_service *svc, const char *account,
                                            const char *group, const char *name);
/* A new, registered schedule (no definition yet; refs = 1). */
scheduler_schedule *scheduler_schedule_new(scheduler_service *svc, uint64_t id,
                                           const char *account, const char *group,
                                           const char *name);
/* Unregisters and unschedules s; it is freed when the last ref goes. */
void scheduler_schedule_drop(scheduler_service *svc, scheduler_schedule *s);
void scheduler_schedule_unref(scheduler_schedule *s);
/* The schedule's row added to b. */
void scheduler_schedule_store(scheduler_service *svc, store_batch *b,
                              const scheduler_schedule *s);
/* Applies a validated definition (takes a reference to def) to s. */
void scheduler_schedule_apply(scheduler_schedule *s, json_t *def);

/* Commits b, then finishes the call (a failed commit turns into an
 * InternalServerException).  Returns API_PENDING (API_DONE if b is empty). */
api_status scheduler_commit_and_finish(scheduler_service *svc, api_call *call,
                                       store_batch *b);

/* ISO-8601 seconds helper for Input context attributes: "...Z". */
void scheduler_format_time(int64_t s, char out[32]);

static inline scheduler_service *scheduler_of(api_call *call)
{
    return (scheduler_service *)call->service->ctx;
}

/* --- validate.c ------------------------------------------------------- */

/* Checks a name against AWS's [0-9a-zA-Z-_.]{1,64}; on failure sets the
 * ValidationException for member `field` and returns false. */
bool scheduler_check_name(api_call *call, const char *value, const char *field);
/* Validates CreateSchedule/UpdateSchedule input into a new definition
 * object (caller owns it), or sets the call's error and returns NULL.
 * now_ms is the request's time: a StartDate more than 5 minutes before it
 * or an EndDate not after it is refused, unless it is the one prev (the
 * definition an update replaces, or NULL) already had. */
json_t *scheduler_definition(api_call *call, int64_t now_ms, const json_t *prev);
/* The GetSchedule output of s (new object). */
json_t *scheduler_schedule_output(const scheduler_schedule *s);
/* Seconds since the epoch as the JSON number REST-JSON timestamps use. */
json_t *scheduler_timestamp(int64_t ms);

/* --- actions.c -------------------------------------------------------- */

api_status scheduler_create_schedule(api_call *call);
api_status scheduler_get_schedule(api_call *call);
api_status scheduler_update_schedule(api_call *call);
api_status scheduler_delete_schedule(api_call *call);
api_status scheduler_list_schedules(api_call *call);
api_status scheduler_create_schedule_group(api_call *call);
api_status scheduler_get_schedule_group(api_call *call);
api_status scheduler_delete_schedule_group(api_call *call);
api_status scheduler_list_schedule_groups(api_call *call);
api_status scheduler_tag_resource(api_call *call);
api_status scheduler_untag_resource(api_call *call);
api_status scheduler_list_tags_for_resource(api_call *call);

/* --- fire.c ----------------------------------------------------------- */

/* Computes s's next invocation at or after from_s and puts it in the heap
 * (or takes it out if it is disabled or has no more); re-arms the timer. */
void scheduler_schedule_arm(scheduler_service *svc, scheduler_schedule *s, int64_t from_s);
/* Takes s out of the heap; re-arms the timer. */
void scheduler_schedule_disarm(scheduler_service *svc, scheduler_schedule *s);
/* Sets the timer for the heap's root (or clears it). */
void scheduler_rearm(scheduler_service *svc);
/* Loads a stored retry and puts it in the heap. */
void scheduler_retry_load(scheduler_service *svc, uint64_t id, const char *account,
                          const char *doc);
void scheduler_retry_free(scheduler_retry *r);
/* The timer's callback. */
void scheduler_timer_fired(evutil_socket_t fd, short what, void *arg);

#endif
