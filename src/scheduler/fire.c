/*
 * fire.c - invoking targets: the timer over the heap of due schedules and
 * retries, the delivery of one invocation, retries and dead letters.
 *
 * One invocation, start to end:
 *   1. The timer pops a schedule whose scheduled time T has come (plus its
 *      flexible-window offset).  Its record last_fired_s = T, the target's
 *      SQS message (sqs_stage), and, if the attempt failed, either a retry
 *      row or the dead letter all go into one store batch.  The schedule's
 *      next invocation goes into the heap at once.
 *   2. When the batch is durable the staged messages become visible and a
 *      new retry enters the heap.  A crash before the commit leaves
 *      last_fired_s < T, so the restart invokes T (once, if it is not older
 *      than MaximumEventAgeInSeconds); a crash after it does not repeat T.
 *   3. A retry popped from the heap tries again; success deletes its row in
 *      the commit that stages the message, failure either updates the row
 *      (next attempt after an exponential back-off) or, when the policy is
 *      spent, deletes it and stages the dead letter with AWS's attributes.
 *
 * Targets: SQS queues (standard and FIFO) and EventBridge buses (the
 * event is matched on the bus within the same batch, through
 * events_dispatch_event).  Other target types (SNS, Lambda, ...) fail with
 * the error code "UnsupportedTarget", are not retried, and go to the
 * dead-letter queue if the schedule has one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/policy.h"
#include "events/events.h"
#include "scheduler/retry.h"
#include "scheduler/scheduler.h"
#include "sns/sns.h"

#define SENDER_ID "AROAEXAMPLESCHEDULER:scheduler"
#define DEFAULT_PAYLOAD "{}"

/* --- the timer ----------------------------------------------------------------- */

void scheduler_rearm(scheduler_service *svc)
{
    sched_heap_node *top = sched_heap_peek(&svc->heap);

    if (!top) {
        if (svc->timer_at_ms >= 0)
            evtimer_del(svc->timer);
        svc->timer_at_ms = -1;
        return;
    }
    if (svc->timer_at_ms == top->at_ms && evtimer_pending(svc->timer, NULL))
        return;
    int64_t delay = top->at_ms - clock_now_ms();
    if (delay < 0)
        delay = 0;
    struct timeval tv = {.tv_sec = (time_t)(delay / 1000),
                         .tv_usec = (suseconds_t)((delay % 1000) * 1000)};
    evtimer_add(svc->timer, &tv);
    svc->timer_at_ms = top->at_ms;
}

static uint64_t rnd64(void)
{
    uint64_t r;
    random_bytes(&r, sizeof r);
    return r;
}

void scheduler_schedule_disarm(scheduler_service *svc, scheduler_schedule *s)
{
    sched_heap_remove(&svc->heap, &s->due.node);
    s->due_s = SCHED_NO_TIME;
    scheduler_rearm(svc);
}

/* Puts s's first invocation at or after from_s in the heap; false if it has
 * none (or is disabled). */
static bool arm(scheduler_service *svc, scheduler_schedule *s, int64_t from_s)
{
    int64_t next;

    s->bounds.anchor_s = s->anchor_s;
    if (s->deleted || !s->enabled || !s->expr.kind ||
        !sched_next_fire(&s->expr, s->tz, &s->bounds, from_s, &next)) {
        sched_heap_remove(&svc->heap, &s->due.node);
        s->due_s = SCHED_NO_TIME;
        return false;
    }
    s->due_s = next;
    sched_heap_set(&svc->heap, &s->due.node,
                   next * 1000 + sched_flex_offset_ms(s->flex_min, rnd64()));
    return true;
}

void scheduler_schedule_arm(scheduler_service *svc, scheduler_schedule *s, int64_t from_s)
{
    arm(svc, s, from_s);
    scheduler_rearm(svc);
}

/* One invocation's commit: what becomes live once it is durable. */
typedef struct fire_ctx {
    scheduler_service *svc;
    sqs_staged *staged;
    events_dispatch *events;    /* EventBridge target's dispatch, or NULL */
    scheduler_schedule *sched;  /* holds a ref, or NULL */
    scheduler_retry *new_retry; /* enters the heap once durable */
    scheduler_retry *retry;     /* the retry attempted, or NULL */
    bool retry_done;            /* ...and it is finished */
    sns_pending *sns;           /* an SNS target's publish, or NULL */
} fire_ctx;

/* --- one delivery ---------------------------------------------------------------- */

typedef struct invocation {
    const char *schedule_arn;
    uint64_t schedule_id;
    json_t *target;
    int64_t scheduled_s;
    int attempt;            /* 1 = the first */
    char execution_id[37];
} invocation;

typedef struct failure {
    char code[64];
    char message[256];
    bool retryable;
} failure;

/* Replaces Scheduler's context attributes in Input. */
static char *render_payload(const invocation *inv)
{
    const char *in = json_string_value(json_object_get(inv->target, "Input"));
    char when[32], attempt[16];
    buf out;

    if (!in)
        return xstrdup(DEFAULT_PAYLOAD);
    scheduler_format_time(inv->scheduled_s, when);
    snprintf(attempt, sizeof attempt, "%d", inv->attempt);
    const struct {
        const char *name, *value;
    } attrs[] = {
        {"<aws.scheduler.schedule-arn>", inv->schedule_arn},
        {"<aws.scheduler.scheduled-time>", when},
        {"<aws.scheduler.execution-id>", inv->execution_id},
        {"<aws.scheduler.attempt-number>", attempt},
    };
    buf_init(&out);
    for (const char *p = in; *p;) {
        size_t i;
        for (i = 0; i < sizeof attrs / sizeof *attrs; i++) {
            size_t n = strlen(attrs[i].name);
            if (strncmp(p, attrs[i].name, n) == 0) {
                buf_puts(&out, attrs[i].value);
                p += n;
                break;
            }
        }
        if (i == sizeof attrs / sizeof *attrs)
            buf_putc(&out, *p++);
    }
    if (!out.data)
        buf_puts(&out, "");
    return buf_steal(&out);
}

/* The service part of an ARN ("sqs"), into out; "" if it is no ARN. */
static void arn_service(const char *arn, char *out, size_t n)
{
    const char *p = arn && strncmp(arn, "arn:", 4) == 0 ? strchr(arn + 4, ':') : NULL;
    const char *e = p ? strchr(p + 1, ':') : NULL;

    if (!e || (size_t)(e - p - 1) >= n) {
        out[0] = '\0';
        return;
    }
    memcpy(out, p + 1, (size_t)(e - p - 1));
    out[e - p - 1] = '\0';
}

static int fail(failure *f, bool retryable, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(failure *f, bool retryable, const char *code, const char *fmt, ...)
{
    va_list ap;

    snprintf(f->code, sizeof f->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    f->retryable = retryable;
    return -1;
}

/* Puts the invocation on an EventBridge bus: Input is the event's detail,
 * EventBridgeParameters give its source and detail-type. */
static int to_bus(scheduler_service *svc, fire_ctx *c, store_batch *b, const invocation *inv,
                  const char *payload, failure *f)
{
    const char *arn = json_string_value(json_object_get(inv->target, "Arn"));
    json_t *params = json_object_get(inv->target, "EventBridgeParameters");
    const char *account = c->sched ? c->sched->account : svc->default_account;
    events_bus *bus = svc->events ? events_bus_find(svc->events, account, arn) : NULL;
    char when[32], id[37];

    if (!svc->events)
        return fail(f, false, "UnsupportedTarget",
                    "sluice does not invoke %s targets from schedules here.", "events");
    if (!bus)
        return fail(f, true, "ResourceNotFoundException", "Event bus %s does not exist.", arn);
    if (!events_bus_accepts(bus, account, inv->schedule_arn))
        return fail(f, false, "AccessDeniedException",
                    "The event bus's policy does not allow account %s to put events on it.",
                    account);
    json_t *detail = json_loads(payload, JSON_DECODE_ANY, NULL);
    if (!json_is_object(detail)) {
        json_decref(detail);
        return fail(f, false, "ValidationException",
                    "The Input of an EventBridge target must be a JSON object.");
    }
    scheduler_format_time(inv->scheduled_s, when);
    uuid_v4(id);
    json_t *event = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:o}", "version", "0", "id", id, "detail-type",
        params ? json_string_value(json_object_get(params, "DetailType")) : "Scheduled Event",
        "source", params ? json_string_value(json_object_get(params, "Source")) : "scheduler",
        "account", bus->account, "time", when, "region", svc->region, "resources",
        inv->schedule_arn, "detail", detail);
    if (!event)
        return fail(f, false, "ValidationException", "The event could not be built.");
    char *text = json_dumps(event, JSON_COMPACT);
    if (!c->events) {
        c->events = xcalloc(1, sizeof *c->events);
        c->events->svc = svc->events;
        c->events->batch = b;
        c->events->staged = c->staged;
        c->events->new_deliveries = json_array();
    }
    events_dispatch_event(c->events, bus, event, text);
    free(text);
    json_decref(event);
    return 0;
}

/* Stages the invocation's message into b; 0, or -1 with f filled. */
static int deliver(scheduler_service *svc, fire_ctx *c, store_batch *b, const invocation *inv,
                   const char *payload, failure *f)
{
    const char *arn = json_string_value(json_object_get(inv->target, "Arn"));
    char service[32];

    arn_service(arn, service, sizeof service);
    if (strcmp(service, "events") == 0)
        return to_bus(svc, c, b, inv, payload, f);
    /* The schedule acts as its account (AWS: its execution role): a target
     * of another account must allow that account in its policy; a Deny
     * there refuses the schedule's own account too. */
    char account[32];
    policy_arn_account(inv->schedule_arn, account, sizeof account);
    if (strcmp(service, "sns") == 0 && svc->sns) {
        sns_topic *t = sns_topic_find(svc->sns, arn);
        if (t && !policy_permits(account, NULL, "sns:Publish", t->arn, t->account,
                                 sns_topic_attr(t, "Policy")))
            return fail(f, false, "AuthorizationError",
                        "The topic's policy does not allow account %s to publish to it.",
                        account);

        char err[256], dedup_id[64];
        const char *group = json_string_value(
            json_object_get(json_object_get(inv->target, "SqsParameters"), "MessageGroupId"));
        snprintf(dedup_id, sizeof dedup_id, "%llu-%lld", (unsigned long long)inv->schedule_id,
                 (long long)inv->scheduled_s);
        sns_pending *p = sns_publish_internal(svc->sns, arn, payload, strlen(payload), NULL,
                                              group, dedup_id, b, c->staged, err, sizeof err);
        if (!p)
            return fail(f, true, "SNS.NotFound", "%s", err);
        sns_pending_finish(c->sns, 0); /* one target a schedule: never set before */
        c->sns = p;
        return 0;
    }
    if (strcmp(service, "sqs") != 0)
        return fail(f, false, "UnsupportedTarget",
                    "sluice does not invoke %s targets from schedules; only SQS queues, "
                    "SNS topics and EventBridge buses.",
                    *service ? service : "non-ARN");
    sqs_queue *q = sqs_queue_find_arn(svc->sqs, arn);
    if (!q)
        return fail(f, true, "AWS.SimpleQueueService.NonExistentQueue",
                    "The specified queue does not exist for this wsdl version.");
    if (!policy_permits(account, NULL, "sqs:SendMessage", q->arn, q->account,
                        json_string_value(json_object_get(q->attributes, "Policy"))))
        return fail(f, false, "AccessDenied",
                    "The queue's policy does not allow account %s to send messages to it.",
                    account);
    size_t len = strlen(payload);
    if (len == 0 || sqs_body_invalid_char(payload, len) != -1)
        return fail(f, false, "InvalidMessageContents",
                    "The message contains characters outside the allowed set.");
    if ((long)len > q->max_message_size)
        return fail(f, false, "InvalidParameterValue",
                    "The message is longer than the queue's MaximumMessageSize.");
    sqs_outgoing o = {.body = payload, .body_len = len, .sender = SENDER_ID,
                      .delay_seconds = -1};
    char dedup[64];
    if (q->fifo) {
        o.group_id = json_string_value(
            json_object_get(json_object_get(inv->target, "SqsParameters"), "MessageGroupId"));
        if (!o.group_id)
            return fail(f, false, "MissingParameter",
                        "The request must contain the parameter MessageGroupId.");
        /* One id per scheduled time: a retry after a lost answer is a duplicate. */
        snprintf(dedup, sizeof dedup, "%llu-%lld", (unsigned long long)inv->schedule_id,
                 (long long)inv->scheduled_s);
        o.dedup_id = dedup;
    }
    sqs_stage(c->staged, q, &o, b);
    return 0;
}

/* Stages the dead letter of a failed invocation on the target's DLQ. */
static bool dead_letter(scheduler_service *svc, sqs_staged *st, store_batch *b,
                        const invocation *inv, const char *payload, const failure *f,
                        const char *exhausted, int retries)
{
    const char *arn = json_string_value(
        json_object_get(json_object_get(inv->target, "DeadLetterConfig"), "Arn"));
    sqs_queue *q = arn ? sqs_queue_find_arn(svc->sqs, arn) : NULL;
    char count[16], account[32];

    policy_arn_account(inv->schedule_arn, account, sizeof account);
    if (q && !policy_permits(account, NULL, "sqs:SendMessage", q->arn, q->account,
                             json_string_value(json_object_get(q->attributes, "Policy")))) {
        log_warn("scheduler", "the dead-letter queue's Policy refuses the schedule's account "
                 "schedule=%s queue=%s", inv->schedule_arn, q->arn);
        q = NULL;
    }
    if (!q) {
        log_warn("scheduler", "invocation dropped, no dead-letter queue schedule=%s code=%s",
                 inv->schedule_arn, f->code);
        return false;
    }
    snprintf(count, sizeof count, "%d", retries);
    json_t *attrs = json_object();
#define STR_ATTR(k, v)                                                                    \
    json_object_set_new(attrs, k,                                                         \
                        json_pack("{s:s,s:s}", "DataType", "String", "StringValue", v))
    STR_ATTR("ERROR_CODE", f->code);
    STR_ATTR("ERROR_MESSAGE", f->message);
    if (exhausted)
        STR_ATTR("EXHAUSTED_RETRY_CONDITION", exhausted);
    STR_ATTR("RETRY_ATTEMPTS", count);
    STR_ATTR("SCHEDULE_ARN", inv->schedule_arn);
    STR_ATTR("TARGET_ARN", json_string_value(json_object_get(inv->target, "Arn")));
#undef STR_ATTR
    char *text = json_dumps(attrs, JSON_COMPACT);
    json_decref(attrs);
    size_t len = strlen(payload);
    if (len == 0 || sqs_body_invalid_char(payload, len) != -1) {
        payload = DEFAULT_PAYLOAD;
        len = strlen(payload);
    }
    sqs_outgoing o = {.body = payload, .body_len = len, .attrs = text, .sender = SENDER_ID,
                      .delay_seconds = -1};
    if (q->fifo)
        o.group_id = "dead-letter";
    sqs_stage(st, q, &o, b);
    free(text);
    svc->dead_lettered++;
    return true;
}

/* --- retries ---------------------------------------------------------------------- */

void scheduler_retry_free(scheduler_retry *r)
{
    json_decref(r->doc);
    free(r->account);
    free(r);
}

static scheduler_retry *retry_new(uint64_t id, const char *account, json_t *doc)
{
    scheduler_retry *r = xcalloc(1, sizeof *r);

    sched_heap_node_init(&r->due.node);
    r->due.kind = SCHEDULER_DUE_RETRY;
    r->id = id;
    r->account = xstrdup(account);
    r->doc = doc;
    r->attempts = (int)json_integer_value(json_object_get(doc, "attempts"));
    return r;
}

static void retry_store(store_batch *b, const scheduler_retry *r)
{
    char name[32];
    char *text = json_dumps(r->doc, JSON_COMPACT);

    snprintf(name, sizeof name, "%llu", (unsigned long long)r->id);
    store_put_resource(b, r->id, SCHEDULER_KIND_RETRY, r->account, name, text);
    free(text);
}

void scheduler_retry_load(scheduler_service *svc, uint64_t id, const char *account,
                          const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);

    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "target"))) {
        log_error("scheduler", "unreadable retry document, skipped id=%llu",
                  (unsigned long long)id);
        json_decref(doc);
        return;
    }
    scheduler_retry *r = retry_new(id, account, doc);
    map_u64_put(&svc->retries, id, r);
    sched_heap_set(&svc->heap, &r->due.node,
                   json_integer_value(json_object_get(doc, "next_ms")));
}

/* --- firing ------------------------------------------------------------------------- */

static void fire_done(void *arg, int status)
{
    fire_ctx *c = arg;
    scheduler_service *svc = c->svc;

    sqs_staged_finish(c->staged, status);
    sns_pending_finish(c->sns, status);
    c->sns = NULL;
    if (c->events) {
        /* The staged messages are finished above and the store owns the
         * batch: the dispatch only starts (or drops) its deliveries. */
        c->events->staged = NULL;
        c->events->batch = NULL;
        events_dispatch_finish(c->events, status);
        free(c->events);
    }
    if (status != 0)
        log_error("scheduler", "an invocation could not be recorded status=%d", status);
    if (c->new_retry) {
        if (status == 0) {
            map_u64_put(&svc->retries, c->new_retry->id, c->new_retry);
            sched_heap_set(&svc->heap, &c->new_retry->due.node, c->new_retry->due.node.at_ms);
        } else {
            scheduler_retry_free(c->new_retry);
        }
    }
    if (c->retry) {
        if (c->retry_done && status == 0) {
            map_u64_del(&svc->retries, c->retry->id);
            scheduler_retry_free(c->retry);
        } else {
            /* Not finished, or its end was not recorded: it runs again. */
            int64_t at = json_integer_value(json_object_get(c->retry->doc, "next_ms"));
            sched_heap_set(&svc->heap, &c->retry->due.node, at);
        }
    }
    if (c->sched)
        scheduler_schedule_unref(c->sched);
    free(c);
    svc->inflight--;
    if (svc->closing) {
        if (svc->inflight == 0)
            scheduler_service_destroy(svc);
        return;
    }
    scheduler_rearm(svc);
}

/* After a failed attempt number `attempts` (1-based) at now: adds the retry
 * row to b (returned, not yet in the heap) or stages the dead letter. */
static scheduler_retry *after_failure(scheduler_service *svc, fire_ctx *c, store_batch *b,
                                      const invocation *inv, const char *payload,
                                      const failure *f, int attempts, int64_t now,
                                      scheduler_retry *existing)
{
    json_t *policy = json_object_get(inv->target, "RetryPolicy");
    int max_retries = (int)json_integer_value(json_object_get(policy, "MaximumRetryAttempts"));
    int max_age = (int)json_integer_value(json_object_get(policy, "MaximumEventAgeInSeconds"));
    int64_t scheduled_ms = inv->scheduled_s * 1000;
    int64_t at = now + sched_retry_delay_ms(attempts, rnd64());

    if (f->retryable &&
        sched_retry_allowed(attempts, at, scheduled_ms, max_retries, max_age)) {
        scheduler_retry *r = existing;
        if (!r) {
            json_t *doc = json_pack("{s:s,s:I,s:O,s:I}", "schedule_arn", inv->schedule_arn,
                                    "schedule_id", (json_int_t)inv->schedule_id, "target",
                                    inv->target, "scheduled_s", (json_int_t)inv->scheduled_s);
            r = retry_new(store_next_resource_id(svc->store), "", doc);
            free(r->account);
            r->account = xstrdup(c->sched ? c->sched->account : "");
        }
        r->attempts = attempts;
        json_object_set_new(r->doc, "attempts", json_integer(attempts));
        json_object_set_new(r->doc, "next_ms", json_integer(at));
        json_object_set_new(r->doc, "error_code", json_string(f->code));
        json_object_set_new(r->doc, "error_message", json_string(f->message));
        r->due.node.at_ms = at;
        retry_store(b, r);
        svc->retried++;
        log_info("scheduler", "invocation failed, retrying schedule=%s code=%s attempt=%d",
                 inv->schedule_arn, f->code, attempts);
        return r;
    }
    const char *exhausted = NULL;
    if (f->retryable)
        exhausted = attempts > max_retries ? "MaximumRetryAttempts" : "MaximumEventAgeInSeconds";
    log_info("scheduler", "invocation failed schedule=%s code=%s attempts=%d", inv->schedule_arn,
             f->code, attempts);
    dead_letter(svc, c->staged, b, inv, payload, f, exhausted, attempts - 1);
    if (existing)
        store_delete_resource(b, existing->id);
    return NULL;
}

static void fire_schedule(scheduler_service *svc, scheduler_schedule *s, int64_t now)
{
    int64_t t = s->due_s;

    if (!sched_event_fresh(t * 1000, now, s->max_age_s)) {
        /* Due while the server was down, longer ago than the target's
         * MaximumEventAgeInSeconds: skip to the first invocation still fresh. */
        int64_t from = now / 1000 - s->max_age_s;
        log_warn("scheduler", "missed invocations skipped schedule=%s", s->arn);
        scheduler_schedule_arm(svc, s, from > t ? from : t + 1);
        return;
    }
    fire_ctx *c = xcalloc(1, sizeof *c);
    c->svc = svc;
    c->staged = sqs_staged_new(svc->sqs);
    c->sched = s;
    s->refs++;
    store_batch *b = store_batch_new();
    invocation inv = {.schedule_arn = s->arn, .schedule_id = s->id,
                      .target = json_object_get(s->def, "Target"), .scheduled_s = t,
                      .attempt = 1};
    uuid_v4(inv.execution_id);
    json_incref(inv.target); /* s->def may be replaced below (DELETE drops s) */
    char *payload = render_payload(&inv);
    failure f;

    svc->fired++;
    s->last_fired_s = t;
    if (deliver(svc, c, b, &inv, payload, &f) == 0)
        svc->delivered++;
    else
        c->new_retry = after_failure(svc, c, b, &inv, payload, &f, 1, now, NULL);
    free(payload);

    if (arm(svc, s, t + 1) || !s->delete_after) {
        scheduler_schedule_store(svc, b, s);
    } else {
        log_info("scheduler", "schedule completed and deleted schedule=%s", s->arn);
        store_delete_resource(b, s->id);
        scheduler_schedule_drop(svc, s);
    }
    json_decref(inv.target);
    svc->inflight++;
    store_submit(svc->store, b, fire_done, c);
}

static void fire_retry(scheduler_service *svc, scheduler_retry *r, int64_t now)
{
    fire_ctx *c = xcalloc(1, sizeof *c);
    store_batch *b = store_batch_new();
    invocation inv = {
        .schedule_arn = json_string_value(json_object_get(r->doc, "schedule_arn")),
        .schedule_id = (uint64_t)json_integer_value(json_object_get(r->doc, "schedule_id")),
        .target = json_object_get(r->doc, "target"),
        .scheduled_s = json_integer_value(json_object_get(r->doc, "scheduled_s")),
        .attempt = r->attempts + 1};
    failure f;

    if (!inv.schedule_arn)
        inv.schedule_arn = "";
    uuid_v4(inv.execution_id);
    c->svc = svc;
    c->staged = sqs_staged_new(svc->sqs);
    c->retry = r;
    char *payload = render_payload(&inv);
    if (deliver(svc, c, b, &inv, payload, &f) == 0) {
        svc->delivered++;
        store_delete_resource(b, r->id);
        c->retry_done = true;
    } else {
        c->retry_done = !after_failure(svc, c, b, &inv, payload, &f, inv.attempt, now, r);
    }
    free(payload);
    svc->inflight++;
    store_submit(svc->store, b, fire_done, c);
}

void scheduler_timer_fired(evutil_socket_t fd, short what, void *arg)
{
    scheduler_service *svc = arg;
    int64_t now = clock_now_ms();
    sched_heap_node *n;

    svc->timer_at_ms = -1;
    for (int budget = SCHEDULER_FIRE_BUDGET;
         budget > 0 && (n = sched_heap_pop_due(&svc->heap, now)); budget--) {
        scheduler_due *d = (scheduler_due *)n;
        if (d->kind == SCHEDULER_DUE_SCHEDULE)
            fire_schedule(svc, (scheduler_schedule *)d, now);
        else
            fire_retry(svc, (scheduler_retry *)d, now);
    }
    scheduler_rearm(svc);
}
