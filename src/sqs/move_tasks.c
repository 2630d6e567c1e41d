/*
 * move_tasks.c - message move tasks: moving messages out of a dead-letter
 * queue, back to the queues they came from or to a given queue, the way the
 * SQS console's "redrive" does (StartMessageMoveTask, ListMessageMoveTasks,
 * CancelMessageMoveTask).
 *
 * A task moves the messages that were in its source when it started, at most
 * MaxNumberOfMessagesPerSecond of them (in ticks of 100 ms), each move a
 * single row update in the store (so a message is never lost or duplicated)
 * committed together with the task's progress.  Tasks are resources of kind
 * "sqs.movetask"; a running task resumes after a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "sqs/sqs.h"

#define TASK_KIND "sqs.movetask"
#define TICK_MS 100
#define UNPACED_PER_TICK 1000
#define MAX_LIST_RESULTS 10

enum task_status { TASK_RUNNING, TASK_COMPLETED, TASK_CANCELLING, TASK_CANCELLED, TASK_FAILED };

static const char *const status_names[] = {"RUNNING", "COMPLETED", "CANCELLING", "CANCELLED",
                                           "FAILED"};

struct sqs_move_task {
    sqs_service *svc;
    uint64_t id;
    char *handle;            /* base64 of {"taskId":..,"sourceArn":..}, as AWS's */
    char *source_arn;
    char *dest_arn;          /* NULL: each message's original source */
    int rate;                /* messages a second; 0 = as fast as allowed */
    uint64_t max_seq;        /* messages stored after the start stay */
    long moved, to_move;
    enum task_status status;
    char *failure;
    int64_t started_ms;
    struct event *timer;
    sqs_move_task *next;     /* the service's list, newest first */
};

static char *task_doc(const sqs_move_task *t)
{
    json_t *doc = json_pack("{s:s,s:s?,s:i,s:I,s:I,s:I,s:s,s:s?,s:I}", "source", t->source_arn,
                            "destination", t->dest_arn, "rate", t->rate, "max_seq",
                            (json_int_t)t->max_seq, "moved", (json_int_t)t->moved, "to_move",
                            (json_int_t)t->to_move, "status", status_names[t->status],
                            "failure", t->failure, "started_ms", (json_int_t)t->started_ms);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static void put_task(store_batch *b, const sqs_move_task *t)
{
    sqs_queue *src = sqs_queue_find_arn(t->svc, t->source_arn);
    char *doc = task_doc(t);
    store_put_resource(b, t->id, TASK_KIND, src ? src->account : "", t->handle, doc);
    free(doc);
}

static void task_free(sqs_move_task *t)
{
    if (t->timer)
        event_free(t->timer);
    free(t->handle);
    free(t->source_arn);
    free(t->dest_arn);
    free(t->failure);
    free(t);
}

static void finish_task(sqs_move_task *t, enum task_status status, const char *failure,
                        store_batch *b)
{
    t->status = status;
    if (failure) {
        free(t->failure);
        t->failure = xstrdup(failure);
    }
    evtimer_del(t->timer);
    put_task(b, t);
    log_info("sqs", "message move task %s task=%s source=%s moved=%ld", status_names[status],
             t->handle, t->source_arn, t->moved);
}

static void schedule_tick(sqs_move_task *t)
{
    struct timeval tv = {0, TICK_MS * 1000};
    evtimer_add(t->timer, &tv);
}

/* Moves the next slice of messages. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
    sqs_move_task *t = arg;
    sqs_service *svc = t->svc;
    int64_t now = clock_now_ms();
    store_batch *b = store_batch_new();
    sqs_queue *src = sqs_queue_find_arn(svc, t->source_arn);
    size_t budget = t->rate ? (size_t)(t->rate * TICK_MS + 999) / 1000 : UNPACED_PER_TICK;
    sqs_message **picked = xcalloc(budget, sizeof *picked);
    size_t n = 0, moved_now = 0, eligible = 0;

    if (t->status == TASK_CANCELLING) {
        finish_task(t, TASK_CANCELLED, NULL, b);
        goto commit;
    }
    if (!src) {
        finish_task(t, TASK_FAILED, "AWS.SimpleQueueService.NonExistentQueue", b);
        goto commit;
    }
    sqs_index_mature(svc, src, now);
    n = sqs_index_pick(src, budget, picked);
    for (size_t i = 0; i < n; i++) {
        sqs_message *m = picked[i];
        if (m->seq > t->max_seq)
            continue;
        eligible++;
        sqs_queue *dest = NULL;
        if (t->dest_arn) {
            dest = sqs_queue_find_arn(svc, t->dest_arn);
        } else {
            json_t *meta = m->meta ? json_loads(m->meta, 0, NULL) : NULL;
            const char *origin = json_string_value(json_object_get(meta, "dlq_source"));
            dest = origin ? sqs_queue_find_arn(svc, origin) : NULL;
            json_decref(meta);
            /* A message sent straight to the dead-letter queue (or put there
             * by SNS, EventBridge...) has no source queue to go back to. */
            if (!origin) {
                finish_task(t, TASK_FAILED, "CouldNotDetermineMessageSource", b);
                goto commit;
            }
        }
        if (!dest || dest == src) {
            finish_task(t, TASK_FAILED, "AWS.SimpleQueueService.NonExistentQueue", b);
            goto commit;
        }
        sqs_message_move(svc, m, dest, NULL, b, now);
        sqs_wake_waiters(svc, dest);
        t->moved++;
        moved_now++;
    }
    /* Done when everything counted at the start has moved, or when nothing
     * movable is left (what remains arrived after the start). */
    bool drained = eligible == 0 && !src->inflight_count && !src->delayed_count;
    if (t->moved >= t->to_move || drained)
        finish_task(t, TASK_COMPLETED, NULL, b);
    else {
        put_task(b, t);
        schedule_tick(t);
    }
commit:
    free(picked);
    store_submit(svc->store, b, NULL, NULL);
}

static sqs_move_task *task_new(sqs_service *svc, uint64_t id, const char *handle)
{
    sqs_move_task *t = xcalloc(1, sizeof *t);
    t->svc = svc;
    t->id = id;
    t->handle = xstrdup(handle);
    t->timer = evtimer_new(svc->base, tick, t);
    t->next = svc->move_tasks;
    svc->move_tasks = t;
    return t;
}

static sqs_move_task *running_task_for(sqs_service *svc, const char *source_arn)
{
    for (sqs_move_task *t = svc->move_tasks; t; t = t->next)
        if ((t->status == TASK_RUNNING || t->status == TASK_CANCELLING) &&
            strcmp(t->source_arn, source_arn) == 0)
            return t;
    return NULL;
}

static bool is_dead_letter_queue(sqs_service *svc, const sqs_queue *q)
{
    for (size_t i = 0; i < svc->queues.cap; i++) {
        sqs_queue *other = svc->queues.keys[i] ? svc->queues.vals[i] : NULL;
        if (other && other->dead_letter_arn && strcmp(other->dead_letter_arn, q->arn) == 0)
            return true;
    }
    return false;
}

/* AWS's task handles are base64 of {"taskId":"<uuid>","sourceArn":"<arn>"}. */
static char *task_handle_encode(const char *task_id, const char *source_arn)
{
    json_t *doc = json_pack("{s:s,s:s}", "taskId", task_id, "sourceArn", source_arn);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t n = strlen(text);
    char *out = xmalloc(base64_encoded_len(n) + 1);

    base64_encode((const uint8_t *)text, n, out);
    free(text);
    json_decref(doc);
    return out;
}

/* The source ARN a well-formed task handle names (a new string), or NULL. */
static char *task_handle_source(const char *handle)
{
    size_t n = strlen(handle);
    uint8_t *raw = xmalloc(n * 3 / 4 + 3);
    long len = base64_decode(handle, n, raw);
    json_t *doc = len > 0 ? json_loadb((const char *)raw, (size_t)len, 0, NULL) : NULL;
    const char *source = json_string_value(json_object_get(doc, "sourceArn"));
    char *out = source && json_is_string(json_object_get(doc, "taskId")) ? xstrdup(source)
                                                                          : NULL;
    json_decref(doc);
    free(raw);
    return out;
}

api_status sqs_start_message_move_task(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    const char *source = NULL, *dest = NULL;
    long long rate = 0;
    int has_rate;

    if (param_str(call, call->input, "SourceArn", &source, NULL) < 0 ||
        param_str(call, call->input, "DestinationArn", &dest, NULL) < 0 ||
        (has_rate = param_int(call, call->input, "MaxNumberOfMessagesPerSecond", &rate)) < 0)
        return API_DONE;
    if (!source)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter SourceArn.");
    sqs_queue *src = sqs_queue_find_arn(svc, source);
    if (!src || strcmp(src->account, call->account) != 0)
        return api_fail(call, AWS_ERR_SQS_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the SourceArn parameter doesn't "
                        "exist.");
    if (!is_dead_letter_queue(svc, src))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Source queue must be configured as a Dead Letter Queue.");
    sqs_queue *dq = dest ? sqs_queue_find_arn(svc, dest) : NULL;
    if (dest && (!dq || strcmp(dest, source) == 0))
        return api_fail(call, AWS_ERR_SQS_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the DestinationArn parameter "
                        "doesn't exist.");
    /* "any other queue as the redrive destination if both queues are the
     * same type" (SQS Developer Guide, dead-letter queue redrive) */
    if (dq && dq->fifo != src->fifo)
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "The source queue and destination queue must be of the same queue "
                        "type.");
    if (has_rate && (rate < 1 || rate > 500))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %lld for parameter MaxNumberOfMessagesPerSecond is invalid. "
                        "Reason: Must be between 1 and 500.", rate);
    if (running_task_for(svc, source))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "There is already a task running. Only one active task is allowed for "
                        "a source queue arn at a given time.");

    char task_id[37];
    uuid_v4(task_id);
    char *handle = task_handle_encode(task_id, source);
    sqs_move_task *t = task_new(svc, store_next_resource_id(svc->store), handle);
    free(handle);
    t->source_arn = xstrdup(source);
    t->dest_arn = dest ? xstrdup(dest) : NULL;
    t->rate = has_rate ? (int)rate : 0;
    t->max_seq = store_next_message_seq(svc->store);
    t->to_move = (long)(src->ready_count + src->inflight_count + src->delayed_count);
    t->started_ms = clock_now_ms();
    t->status = TASK_RUNNING;

    store_batch *b = store_batch_new();
    put_task(b, t);
    schedule_tick(t);
    json_object_set_new(api_out(call), "TaskHandle", json_string(t->handle));
    log_info("sqs", "message move task started task=%s source=%s to_move=%ld", t->handle,
             source, t->to_move);
    return sqs_commit_and_finish(svc, call, b);
}

api_status sqs_cancel_message_move_task(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    const char *handle = NULL;

    if (param_str(call, call->input, "TaskHandle", &handle, NULL) < 0)
        return API_DONE;
    if (!handle)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter TaskHandle.");
    sqs_move_task *t = svc->move_tasks;
    while (t && strcmp(t->handle, handle) != 0)
        t = t->next;
    if (!t) {
        /* AWS reads the handle: not one of its shape, its source queue
         * gone, or no such task on that queue (three different answers). */
        char *source = task_handle_source(handle);
        sqs_queue *src = source ? sqs_queue_find_arn(svc, source) : NULL;
        bool well_formed = source != NULL;
        free(source);
        if (!well_formed)
            return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                            "Value for parameter TaskHandle is invalid.");
        if (!src || strcmp(src->account, call->account) != 0)
            return api_fail(call, AWS_ERR_SQS_RESOURCE_NOT_FOUND,
                            "The resource that you specified for the SourceArn parameter "
                            "doesn't exist.");
        return api_fail(call, AWS_ERR_SQS_RESOURCE_NOT_FOUND, "Task does not exist.");
    }
    if (t->status != TASK_RUNNING)
        return api_fail(call, AWS_ERR_SQS_UNSUPPORTED_OPERATION,
                        "Only active tasks can be cancelled.");
    store_batch *b = store_batch_new();
    finish_task(t, TASK_CANCELLED, NULL, b);
    json_object_set_new(api_out(call), "ApproximateNumberOfMessagesMoved",
                        json_integer(t->moved));
    return sqs_commit_and_finish(svc, call, b);
}

api_status sqs_list_message_move_tasks(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    const char *source = NULL;
    long long max = 1;

    if (param_str(call, call->input, "SourceArn", &source, NULL) < 0 ||
        param_int(call, call->input, "MaxResults", &max) < 0)
        return API_DONE;
    if (!source)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter SourceArn.");
    if (max < 1 || max > MAX_LIST_RESULTS)
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %lld for parameter MaxResults is invalid. Reason: Must be between "
                        "1 and 10.", max);
    sqs_queue *src = sqs_queue_find_arn(svc, source);
    if (!src || strcmp(src->account, call->account) != 0)
        return api_fail(call, AWS_ERR_SQS_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the SourceArn parameter doesn't "
                        "exist.");
    json_t *results = json_array();
    for (sqs_move_task *t = svc->move_tasks; t && json_array_size(results) < (size_t)max;
         t = t->next) {
        if (strcmp(t->source_arn, source) != 0)
            continue;
        json_t *r = json_object();
        if (t->status == TASK_RUNNING)
            json_object_set_new(r, "TaskHandle", json_string(t->handle));
        json_object_set_new(r, "Status", json_string(status_names[t->status]));
        json_object_set_new(r, "SourceArn", json_string(t->source_arn));
        if (t->dest_arn)
            json_object_set_new(r, "DestinationArn", json_string(t->dest_arn));
        if (t->rate)
            json_object_set_new(r, "MaxNumberOfMessagesPerSecond", json_integer(t->rate));
        json_object_set_new(r, "ApproximateNumberOfMessagesMoved", json_integer(t->moved));
        json_object_set_new(r, "ApproximateNumberOfMessagesToMove", json_integer(t->to_move));
        if (t->failure)
            json_object_set_new(r, "FailureReason", json_string(t->failure));
        json_object_set_new(r, "StartedTimestamp", json_integer(t->started_ms));
        json_array_append_new(results, r);
    }
    json_object_set_new(api_out(call), "Results", results);
    return API_DONE;
}

void sqs_move_task_load(sqs_service *svc, uint64_t id, const char *handle, const char *doc_text)
{
    json_t *doc = json_loads(doc_text, 0, NULL);
    const char *status = json_string_value(json_object_get(doc, "status"));
    const char *source = json_string_value(json_object_get(doc, "source"));

    if (!doc || !status || !source) {
        json_decref(doc);
        return;
    }
    sqs_move_task *t = task_new(svc, id, handle);
    t->source_arn = xstrdup(source);
    const char *dest = json_string_value(json_object_get(doc, "destination"));
    t->dest_arn = dest ? xstrdup(dest) : NULL;
    t->rate = (int)json_integer_value(json_object_get(doc, "rate"));
    t->max_seq = (uint64_t)json_integer_value(json_object_get(doc, "max_seq"));
    t->moved = (long)json_integer_value(json_object_get(doc, "moved"));
    t->to_move = (long)json_integer_value(json_object_get(doc, "to_move"));
    t->started_ms = json_integer_value(json_object_get(doc, "started_ms"));
    const char *failure = json_string_value(json_object_get(doc, "failure"));
    t->failure = failure ? xstrdup(failure) : NULL;
    for (int i = 0; i <= TASK_FAILED; i++)
        if (strcmp(status, status_names[i]) == 0)
            t->status = (enum task_status)i;
    if (t->status == TASK_RUNNING || t->status == TASK_CANCELLING)
        schedule_tick(t); /* a task interrupted by a restart goes on */
    json_decref(doc);
}

void sqs_move_tasks_free(sqs_service *svc)
{
    while (svc->move_tasks) {
        sqs_move_task *t = svc->move_tasks;
        svc->move_tasks = t->next;
        task_free(t);
    }
}
