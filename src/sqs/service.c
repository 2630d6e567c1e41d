/*
 * service.c - the SQS service: its registry of queues, loading from the
 * store at start, the action table, and helpers the handlers share (queue
 * lookup by URL, commit-then-answer, the retention sweeper).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/policy.h"
#include "sqs/sqs.h"
#include "wire/query.h"

#define QUEUE_KIND "sqs.queue"
#define SWEEP_INTERVAL_MS 1000
#define SWEEP_BUDGET 10000

static const query_in_rule sqs_in_rules[] = {
    {"Attribute", "Attributes", QUERY_MAP, "Name", "Value"},
    {"AttributeName", "AttributeNames", QUERY_LIST, NULL, NULL},
    {"MessageAttributeName", "MessageAttributeNames", QUERY_LIST, NULL, NULL},
    {"MessageSystemAttributeName", "MessageSystemAttributeNames", QUERY_LIST, NULL, NULL},
    {"MessageAttribute", "MessageAttributes", QUERY_MAP, "Name", "Value"},
    {"MessageSystemAttribute", "MessageSystemAttributes", QUERY_MAP, "Name", "Value"},
    {"Tag", "Tags", QUERY_MAP, "Key", "Value"},
    {"TagKey", "TagKeys", QUERY_LIST, NULL, NULL},
    {"AWSAccountId", "AWSAccountIds", QUERY_LIST, NULL, NULL},
    {"ActionName", "Actions", QUERY_LIST, NULL, NULL},
    {"SendMessageBatchRequestEntry", "Entries", QUERY_LIST, NULL, NULL},
    {"DeleteMessageBatchRequestEntry", "Entries", QUERY_LIST, NULL, NULL},
    {"ChangeMessageVisibilityBatchRequestEntry", "Entries", QUERY_LIST, NULL, NULL},
    {"StringListValue", "StringListValues", QUERY_LIST, NULL, NULL},
    {"BinaryListValue", "BinaryListValues", QUERY_LIST, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL},
};

static const query_out_rule sqs_out_rules[] = {
    {"QueueUrls", NULL, "QueueUrl", QUERY_LIST, NULL, NULL},
    {"queueUrls", NULL, "QueueUrl", QUERY_LIST, NULL, NULL},
    {"Messages", NULL, "Message", QUERY_LIST, NULL, NULL},
    {"Attributes", NULL, "Attribute", QUERY_MAP, "Name", "Value"},
    {"MessageAttributes", NULL, "MessageAttribute", QUERY_MAP, "Name", "Value"},
    {"Tags", NULL, "Tag", QUERY_MAP, "Key", "Value"},
    {"Successful", "SendMessageBatch", "SendMessageBatchResultEntry", QUERY_LIST, NULL, NULL},
    {"Successful", "DeleteMessageBatch", "DeleteMessageBatchResultEntry", QUERY_LIST, NULL,
     NULL},
    {"Successful", "ChangeMessageVisibilityBatch", "ChangeMessageVisibilityBatchResultEntry",
     QUERY_LIST, NULL, NULL},
    {"Failed", NULL, "BatchResultErrorEntry", QUERY_LIST, NULL, NULL},
    {"StringListValues", NULL, "StringListValue", QUERY_LIST, NULL, NULL},
    {"BinaryListValues", NULL, "BinaryListValue", QUERY_LIST, NULL, NULL},
    {"Results", NULL, "ListMessageMoveTasksResultEntry", QUERY_LIST, NULL, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL},
};

static const query_rules sqs_query_rules = {sqs_in_rules, sqs_out_rules, true};

static const api_action sqs_actions[] = {
    {"CreateQueue", sqs_create_queue},
    {"DeleteQueue", sqs_delete_queue},
    {"GetQueueUrl", sqs_get_queue_url},
    {"ListQueues", sqs_list_queues},
    {"GetQueueAttributes", sqs_get_queue_attributes},
    {"SetQueueAttributes", sqs_set_queue_attributes},
    {"TagQueue", sqs_tag_queue},
    {"UntagQueue", sqs_untag_queue},
    {"ListQueueTags", sqs_list_queue_tags},
    {"AddPermission", sqs_add_permission},
    {"RemovePermission", sqs_remove_permission},
    {"PurgeQueue", sqs_purge_queue},
    {"ListDeadLetterSourceQueues", sqs_list_dead_letter_source_queues},
    {"SendMessage", sqs_send_message},
    {"SendMessageBatch", sqs_send_message_batch},
    {"ReceiveMessage", sqs_receive_message},
    {"DeleteMessage", sqs_delete_message},
    {"DeleteMessageBatch", sqs_delete_message_batch},
    {"ChangeMessageVisibility", sqs_change_message_visibility},
    {"ChangeMessageVisibilityBatch", sqs_change_message_visibility_batch},
    {"StartMessageMoveTask", sqs_start_message_move_task},
    {"CancelMessageMoveTask", sqs_cancel_message_move_task},
    {"ListMessageMoveTasks", sqs_list_message_move_tasks},
    {NULL, NULL},
};

static void sweep(evutil_socket_t fd, short what, void *arg);

sqs_service *sqs_service_new(struct event_base *base, store *st, const char *region,
                             const char *default_account)
{
    sqs_service *svc = xcalloc(1, sizeof *svc);
    struct timeval tv = {.tv_sec = SWEEP_INTERVAL_MS / 1000,
                         .tv_usec = (SWEEP_INTERVAL_MS % 1000) * 1000};

    svc->base = base;
    svc->store = st;
    svc->region = region;
    svc->default_account = default_account;
    map_str_init(&svc->queues);
    map_u64_init(&svc->queues_by_id);
    svc->limits = limits_default();
    account_counts_init(&svc->queue_counts);
    svc->sweeper = event_new(base, -1, EV_PERSIST, sweep, svc);
    event_add(svc->sweeper, &tv);
    return svc;
}

void sqs_service_set_limits(sqs_service *svc, const limits *lim)
{
    svc->limits = lim;
}

api_service *sqs_api_service(sqs_service *svc)
{
    api_service *a = xcalloc(1, sizeof *a);
    a->name = "sqs";
    a->json_target = "AmazonSQS";
    a->json_type_ns = "com.amazonaws.sqs";
    a->query_compatible = true;
    a->xml_namespace = "http://queue.amazonaws.com/doc/2012-11-05/";
    a->query_rules = &sqs_query_rules;
    a->actions = sqs_actions;
    a->ctx = svc;
    a->commit_error = AWS_ERR_SERVICE_UNAVAILABLE;
    a->commit_message = "The request has failed due to a temporary failure of the server.";
    a->store = svc ? svc->store : NULL; /* NULL: a description only (fuzz targets) */
    return a;
}

/* --- queues ----------------------------------------------------------------- */

/* "account/name"; false if it does not fit (no such queue can exist). */
static bool registry_key(const char *account, const char *name, char *out, size_t n)
{
    int len = snprintf(out, n, "%s/%s", account, name);
    return len >= 0 && (size_t)len < n;
}

sqs_queue *sqs_queue_new(sqs_service *svc, uint64_t id, const char *account, const char *name)
{
    sqs_queue *q = xcalloc(1, sizeof *q);
    char key[256];
    buf arn;

    q->svc = svc;
    q->id = id;
    q->account = xstrdup(account);
    q->name = xstrdup(name);
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:sqs:%s:%s:%s", svc->region, account, name);
    q->arn = buf_steal(&arn);
    q->attributes = json_object();
    q->tags = json_object();
    q->refs = 1;
    map_u64_init(&q->by_seq);
    q->timer = evtimer_new(svc->base, sqs_index_timer_fired, q);
    sqs_queue_apply_attributes(q);
    registry_key(account, name, key, sizeof key);
    map_str_put(&svc->queues, key, q);
    map_u64_put(&svc->queues_by_id, id, q);
    account_counts_add(&svc->queue_counts, account, 1);
    return q;
}

static void queue_free(sqs_service *svc, sqs_queue *q)
{
    sqs_index_clear(svc, q);
    sqs_fifo_dedup_expire(q, 0, NULL, true);
    sqs_fifo_attempts_clear(q, 0, true);
    map_str_free(&q->dedup);
    map_str_free(&q->attempts);
    event_free(q->timer);
    json_decref(q->attributes);
    json_decref(q->tags);
    free(q->dead_letter_arn);
    free(q->account);
    free(q->name);
    free(q->arn);
    free(q);
}

void sqs_queue_unref(sqs_service *svc, sqs_queue *q)
{
    if (--q->refs == 0)
        queue_free(svc, q);
}

void sqs_queue_drop(sqs_service *svc, sqs_queue *q)
{
    char key[256];

    registry_key(q->account, q->name, key, sizeof key);
    map_str_del(&svc->queues, key);
    map_u64_del(&svc->queues_by_id, q->id);
    account_counts_add(&svc->queue_counts, q->account, -1);
    q->deleted = true;
    sqs_waiters_cancel_all(svc, q);
    evtimer_del(q->timer);
    sqs_index_clear(svc, q);
    sqs_queue_unref(svc, q);
}

sqs_queue *sqs_queue_find(sqs_service *svc, const char *account, const char *name)
{
    char key[256];

    if (!registry_key(account, name, key, sizeof key))
        return NULL;
    return map_str_get(&svc->queues, key);
}

sqs_queue *sqs_queue_find_arn(sqs_service *svc, const char *arn)
{
    /* arn:aws:sqs:<region>:<account>:<name> */
    char copy[512];
    char *parts[6] = {0};
    char *save = NULL, *p;
    int n = 0;

    if (!arn || strlen(arn) >= sizeof copy || strncmp(arn, "arn:", 4) != 0)
        return NULL;
    strcpy(copy, arn);
    for (p = strtok_r(copy, ":", &save); p && n < 6; p = strtok_r(NULL, ":", &save))
        parts[n++] = p;
    if (n != 6 || strcmp(parts[2], "sqs") != 0)
        return NULL;
    return sqs_queue_find(svc, parts[4], parts[5]);
}

void sqs_queue_url(const api_call *call, const sqs_queue *q, char *out, size_t outlen)
{
    const char *host = call->host && *call->host ? call->host : "localhost:4566";
    snprintf(out, outlen, "%s://%s/%s/%s", call->tls ? "https" : "http", host, q->account,
             q->name);
}

/* Whether the caller may act on q: its key's allow list, and the queue's
 * Policy for a caller of another account (core/policy.h). */
static bool queue_permits(const api_call *call, const sqs_queue *q)
{
    char action[96];
    snprintf(action, sizeof action, "sqs:%s", call->action);
    return policy_permits(call->account, call->allow, action, q->arn, q->account,
                          json_string_value(json_object_get(q->attributes, "Policy")));
}

sqs_queue *sqs_queue_from_call(sqs_service *svc, api_call *call)
{
    const char *url = NULL;
    char account[64], name[128];
    const char *path, *slash;
    sqs_queue *q;

    if (param_str(call, call->input, "QueueUrl", &url, NULL) < 0)
        return NULL;
    if (!url && call->protocol == WIRE_QUERY && call->path && strlen(call->path) > 1)
        url = call->path;
    if (!url || !*url) {
        api_fail(call, AWS_ERR_MISSING_PARAMETER,
                 "The request must contain the parameter QueueUrl.");
        return NULL;
    }
    /* Strip scheme and host: keep "/<account>/<name>". */
    path = url;
    if (strstr(url, "://"))
        path = strchr(strstr(url, "://") + 3, '/');
    if (!path)
        path = "";
    while (*path == '/')
        path++;
    slash = strchr(path, '/');
    if (slash && (size_t)(slash - path) < sizeof account && strlen(slash + 1) < sizeof name &&
        !strchr(slash + 1, '/')) {
        memcpy(account, path, (size_t)(slash - path));
        account[slash - path] = '\0';
        strcpy(name, slash + 1);
    } else if (!slash && strlen(path) < sizeof name && *path) {
        snprintf(account, sizeof account, "%s", call->account);
        strcpy(name, path);
    } else {
        api_fail(call, AWS_ERR_SQS_QUEUE_DOES_NOT_EXIST, "The specified queue does not exist.");
        return NULL;
    }
    q = sqs_queue_find(svc, account, name);
    if (!q)
        api_fail(call, AWS_ERR_SQS_QUEUE_DOES_NOT_EXIST, "The specified queue does not exist.");
    if (q && !queue_permits(call, q)) {
        char qurl[512];
        sqs_queue_url(call, q, qurl, sizeof qurl);
        api_fail(call, AWS_ERR_ACCESS_DENIED, "Access to the resource %s is denied.", qurl);
        return NULL;
    }
    return q;
}

char *sqs_queue_doc(const sqs_queue *q)
{
    json_t *doc = json_pack("{s:I,s:I,s:I,s:b,s:O,s:O}", "created_ms", (json_int_t)q->created_ms,
                            "modified_ms", (json_int_t)q->modified_ms, "last_purge_ms",
                            (json_int_t)q->last_purge_ms, "fifo", q->fifo, "attributes",
                            q->attributes, "tags", q->tags);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* --- commits ------------------------------------------------------------------ */

api_status sqs_commit_and_finish(sqs_service *svc, api_call *call, store_batch *batch)
{
    return api_commit_and_finish(call, svc->store, batch);
}

/* --- loading -------------------------------------------------------------------- */

static void load_queue(void *arg, uint64_t id, const char *kind, const char *account,
                       const char *name, const char *doc_text)
{
    sqs_service *svc = arg;
    json_t *doc = json_loads(doc_text, 0, NULL);
    sqs_queue *q;

    if (!doc) {
        log_error("sqs", "unreadable queue document, skipped queue_id=%llu",
                  (unsigned long long)id);
        return;
    }
    q = sqs_queue_new(svc, id, account, name);
    q->created_ms = json_integer_value(json_object_get(doc, "created_ms"));
    q->modified_ms = json_integer_value(json_object_get(doc, "modified_ms"));
    q->last_purge_ms = json_integer_value(json_object_get(doc, "last_purge_ms"));
    q->fifo = json_is_true(json_object_get(doc, "fifo"));
    if (json_is_object(json_object_get(doc, "attributes")))
        json_object_update(q->attributes, json_object_get(doc, "attributes"));
    if (json_is_object(json_object_get(doc, "tags")))
        json_object_update(q->tags, json_object_get(doc, "tags"));
    sqs_queue_apply_attributes(q);
    json_decref(doc);
}

static void load_dedup(void *arg, uint64_t container, const char *key, const char *doc,
                       int64_t expires_ms)
{
    sqs_fifo_dedup_load(arg, key, doc);
}

static void load_move_task(void *arg, uint64_t id, const char *kind, const char *account,
                           const char *name, const char *doc)
{
    sqs_move_task_load(arg, id, name, doc);
}

typedef struct load_ctx {
    sqs_service *svc;
    int64_t now;
    size_t loaded, orphans;
} load_ctx;

static void load_message(void *arg, const store_message *sm)
{
    load_ctx *ctx = arg;
    sqs_queue *q = map_u64_get(&ctx->svc->queues_by_id, sm->container);

    if (!q) {
        ctx->orphans++;
        return;
    }
    sqs_message *m = sqs_message_new(q, sm->seq);
    snprintf(m->message_id, sizeof m->message_id, "%s", sm->message_id);
    m->sent_ms = sm->sent_ms;
    m->visible_at_ms = sm->visible_at_ms;
    m->first_receive_ms = sm->first_receive_ms;
    m->receive_count = sm->receive_count;
    m->body_len = sm->body_len;
    m->meta = sm->meta ? xstrdup(sm->meta) : NULL;
    if (m->meta) {
        json_t *meta = json_loads(m->meta, 0, NULL);
        sqs_message_set_group(m, json_string_value(json_object_get(meta, "group")));
        /* a redriven message's new id (the stored row keeps the first) */
        const char *id = json_string_value(json_object_get(meta, "id"));
        if (id && strlen(id) < sizeof m->message_id)
            snprintf(m->message_id, sizeof m->message_id, "%s", id);
        json_decref(meta);
    }
    sqs_index_add(ctx->svc, m, ctx->now);
    ctx->loaded++;
}

int sqs_service_load(sqs_service *svc)
{
    load_ctx ctx = {svc, clock_now_ms(), 0, 0};

    if (store_load_resources(svc->store, QUEUE_KIND, load_queue, svc) < 0)
        return -1;
    if (store_load_dedup(svc->store, load_dedup, svc) < 0)
        return -1;
    if (store_load_resources(svc->store, "sqs.movetask", load_move_task, svc) < 0)
        return -1;
    if (store_load_messages(svc->store, load_message, &ctx) < 0)
        return -1;
    log_info("sqs", "loaded queues=%zu messages=%zu orphans=%zu", svc->queues.count, ctx.loaded,
             ctx.orphans);
    return 0;
}

void sqs_service_free(sqs_service *svc)
{
    if (!svc)
        return;
    event_free(svc->sweeper);
    sqs_move_tasks_free(svc);
    for (size_t i = 0; i < svc->queues.cap; i++) {
        sqs_queue *q = svc->queues.keys[i] ? svc->queues.vals[i] : NULL;
        if (q) {
            sqs_waiters_cancel_all(svc, q);
            sqs_queue_unref(svc, q);
        }
    }
    map_str_free(&svc->queues);
    map_u64_free(&svc->queues_by_id);
    account_counts_free(&svc->queue_counts);
    free(svc);
}

/* --- retention -------------------------------------------------------------------- */

/* Deletes expired messages from the head of each ready list.  Expired
 * messages elsewhere are dropped when a receive meets them. */
static void sweep(evutil_socket_t fd, short what, void *arg)
{
    sqs_service *svc = arg;
    int64_t now = clock_now_ms();
    size_t budget = SWEEP_BUDGET;
    store_batch *batch = store_batch_new();

    for (size_t i = 0; i < svc->queues.cap && budget; i++) {
        sqs_queue *q = svc->queues.keys[i] ? svc->queues.vals[i] : NULL;
        if (!q)
            continue;
        if (q->fifo) {
            sqs_fifo_dedup_expire(q, now, batch, false);
            sqs_fifo_attempts_clear(q, now, false);
        }
        int64_t limit = (int64_t)q->retention_seconds * 1000;
        sqs_message *heads[64];
        size_t n = 0;
        /* The oldest messages are at the heads of the groups. */
        for (sqs_group *g = q->active_head; g && n < 64; g = g->next)
            if (g->head && g->head->state == MSG_READY)
                heads[n++] = g->head;
        for (size_t k = 0; k < n && budget; k++) {
            sqs_message *m = heads[k];
            while (m && budget && m->state == MSG_READY && now - m->sent_ms >= limit) {
                sqs_message *next = m->next;
                store_delete_message(batch, m->seq);
                sqs_index_remove(svc, m);
                sqs_message_free(svc, m);
                budget--;
                m = next;
            }
        }
    }
    if (store_batch_empty(batch))
        store_batch_free(batch);
    else
        store_submit(svc->store, batch, NULL, NULL);
}
