/*
 * queues.c - the queue actions: create, delete, look up, list, attributes,
 * tags, permissions, purge, dead-letter sources.
 *
 * Each change is made in memory, written to the store in the same batch, and
 * answered once the batch is durable (sqs_commit_and_finish).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/policy.h"
#include "sqs/sqs.h"

#define MAX_LIST_RESULTS 1000
#define MAX_TAGS 50

static bool valid_queue_name(const char *name, bool *fifo)
{
    size_t n = strlen(name), base = n;

    *fifo = n > 5 && strcmp(name + n - 5, ".fifo") == 0;
    if (*fifo)
        base = n - 5;
    if (n == 0 || n > 80 || base == 0)
        return false;
    for (size_t i = 0; i < base; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void put_queue_resource(store_batch *b, const sqs_queue *q)
{
    char *doc = sqs_queue_doc(q);
    store_put_resource(b, q->id, "sqs.queue", q->account, q->name, doc);
    free(doc);
}

/* Checks that a RedrivePolicy names an existing queue of the same type
 * that allows this queue as a source. */
static int check_dead_letter_target(api_call *call, sqs_service *svc, const char *arn,
                                    bool fifo, const char *policy_text)
{
    sqs_queue *dlq;

    if (!policy_text || !*policy_text)
        return 0;
    json_t *doc = json_loads(policy_text, 0, NULL);
    const char *target = json_string_value(json_object_get(doc, "deadLetterTargetArn"));
    dlq = sqs_queue_find_arn(svc, target);
    json_decref(doc);
    if (!dlq) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target "
                 "does not exist.", policy_text);
        return -1;
    }
    if (dlq->fifo != fifo) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target "
                 "must be the same type of queue as the source.", policy_text);
        return -1;
    }
    const char *allow = json_string_value(json_object_get(dlq->attributes, "RedriveAllowPolicy"));
    if (allow && *allow) {
        json_t *a = json_loads(allow, 0, NULL);
        const char *perm = json_string_value(json_object_get(a, "redrivePermission"));
        bool ok = !perm || strcmp(perm, "allowAll") == 0;
        if (perm && strcmp(perm, "byQueue") == 0) {
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(a, "sourceQueueArns"), i, e)
                if (json_is_string(e) && strcmp(json_string_value(e), arn) == 0)
                    ok = true;
        }
        json_decref(a);
        if (!ok) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "Value %s for parameter RedrivePolicy is invalid. Reason: Queue %s does "
                     "not allow this queue as a dead-letter source.", policy_text, dlq->arn);
            return -1;
        }
    }
    return 0;
}

static int validate_tags(api_call *call, json_t *tags)
{
    const char *k;
    json_t *v;

    if (json_object_size(tags) > MAX_TAGS) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE, "Too many tags added for queue.");
        return -1;
    }
    json_object_foreach(tags, k, v) {
        if (strlen(k) == 0 || strlen(k) > 128 || json_string_length(v) > 256) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "Tag keys must be 1 to 128 characters and values at most 256.");
            return -1;
        }
    }
    return 0;
}

static void set_queue_url(api_call *call, const sqs_queue *q)
{
    char url[512];

    sqs_queue_url(call, q, url, sizeof url);
    json_object_set_new(api_out(call), "QueueUrl", json_string(url));
}

/* The identity's allow list (and, for a queue of another account, the
 * queue's Policy) must permit the call's action on q (core/policy.h). */
static bool queue_permits(const api_call *call, const sqs_queue *q)
{
    char action[96];
    snprintf(action, sizeof action, "sqs:%s", call->action);
    return policy_permits(call->account, call->allow, action, q->arn, q->account,
                          json_string_value(json_object_get(q->attributes, "Policy")));
}

bool sqs_queue_accepts(const sqs_queue *q, const char *service, const char *source_arn,
                       const char *source_account)
{
    return policy_service_permits(service, "sqs:SendMessage", q->arn, q->account,
                                  json_string_value(json_object_get(q->attributes, "Policy")),
                                  source_arn, source_account);
}

api_status sqs_create_queue(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    const char *name = NULL;
    json_t *attrs = NULL, *tags = NULL;
    bool fifo;
    int rc;

    if ((rc = param_str(call, call->input, "QueueName", &name, NULL)) <= 0)
        return rc < 0 ? API_DONE
                      : api_fail(call, AWS_ERR_MISSING_PARAMETER,
                                 "The request must contain the parameter QueueName.");
    if (!valid_queue_name(name, &fifo))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Can only include alphanumeric characters, hyphens, or underscores. 1 to "
                        "80 in length");
    if (param_str_map(call, call->input, "Attributes", &attrs) < 0 ||
        param_str_map(call, call->input, "tags", &tags) < 0 ||
        (!tags && param_str_map(call, call->input, "Tags", &tags) < 0))
        return API_DONE;
    attrs = attrs ? json_deep_copy(attrs) : json_object();

    const char *fifo_attr = json_string_value(json_object_get(attrs, "FifoQueue"));
    bool want_fifo = fifo_attr && strcmp(fifo_attr, "true") == 0;
    if (want_fifo != fifo) {
        json_decref(attrs);
        if (want_fifo)
            return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                            "The name of a FIFO queue can only include alphanumeric characters, "
                            "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 "
                            "in length.");
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Can only include alphanumeric characters, hyphens, or underscores. 1 to "
                        "80 in length");
    }
    if (sqs_attributes_validate(call, attrs, true, fifo) < 0 ||
        (tags && validate_tags(call, tags) < 0)) {
        json_decref(attrs);
        return API_DONE;
    }

    char new_arn[512];
    snprintf(new_arn, sizeof new_arn, "arn:aws:sqs:%s:%s:%s", svc->region, call->account, name);
    if (!policy_allow_list_permits(call->allow, "sqs:CreateQueue", new_arn)) {
        json_decref(attrs);
        return api_fail(call, AWS_ERR_ACCESS_DENIED, "Access to the resource %s is denied.",
                        new_arn);
    }
    sqs_queue *q = sqs_queue_find(svc, call->account, name);
    if (q) {
        bool same = sqs_attributes_match(q, attrs);
        json_decref(attrs);
        if (!same)
            return api_fail(call, AWS_ERR_SQS_QUEUE_NAME_EXISTS,
                            "A queue already exists with the same name and a different value "
                            "for attribute(s)");
        set_queue_url(call, q);
        return API_DONE;
    }

    if (account_counts_get(&svc->queue_counts, call->account) >= svc->limits->max_queues) {
        json_decref(attrs);
        return api_fail(call, AWS_ERR_SQS_OVER_LIMIT,
                        "Cannot create queue %s: the account already has the maximum number "
                        "of queues (%zu).", name, svc->limits->max_queues);
    }
    char arn[512];
    snprintf(arn, sizeof arn, "arn:aws:sqs:%s:%s:%s", svc->region, call->account, name);
    if (check_dead_letter_target(call, svc, arn, fifo,
                                 json_string_value(json_object_get(attrs, "RedrivePolicy"))) < 0) {
        json_decref(attrs);
        return API_DONE;
    }
    q = sqs_queue_new(svc, store_next_resource_id(svc->store), call->account, name);
    q->fifo = fifo;
    q->created_ms = q->modified_ms = clock_now_ms();
    json_object_del(attrs, "FifoQueue");
    sqs_queue_set_attributes(q, attrs);
    json_decref(attrs);
    if (tags)
        json_object_update(q->tags, tags);

    store_batch *b = store_batch_new();
    put_queue_resource(b, q);
    set_queue_url(call, q);
    log_info("sqs", "queue created account=%s queue=%s fifo=%d", q->account, q->name, q->fifo);
    return sqs_commit_and_finish(svc, call, b);
}

api_status sqs_delete_queue(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);

    if (!q)
        return API_DONE;
    store_batch *b = store_batch_new();
    store_delete_container(b, q->id);
    sqs_fifo_dedup_expire(q, 0, b, true);
    log_info("sqs", "queue deleted account=%s queue=%s", q->account, q->name);
    sqs_queue_drop(svc, q);
    return sqs_commit_and_finish(svc, call, b);
}

api_status sqs_get_queue_url(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    const char *name = NULL, *owner = NULL;
    int rc;

    if ((rc = param_str(call, call->input, "QueueName", &name, NULL)) <= 0)
        return rc < 0 ? API_DONE
                      : api_fail(call, AWS_ERR_MISSING_PARAMETER,
                                 "The request must contain the parameter QueueName.");
    if (param_str(call, call->input, "QueueOwnerAWSAccountId", &owner, NULL) < 0)
        return API_DONE;
    sqs_queue *q = sqs_queue_find(svc, owner && *owner ? owner : call->account, name);
    /* Another account's queue that the caller may not use is not found. */
    if (!q || (!queue_permits(call, q) && strcmp(q->account, call->account) != 0))
        return api_fail(call, AWS_ERR_SQS_QUEUE_DOES_NOT_EXIST,
                        "The specified queue does not exist.");
    if (!queue_permits(call, q))
        return api_fail(call, AWS_ERR_ACCESS_DENIED, "Access to the resource %s is denied.",
                        q->arn);
    set_queue_url(call, q);
    return API_DONE;
}

static int cmp_queue_name(const void *a, const void *b)
{
    const sqs_queue *x = *(const sqs_queue *const *)a, *y = *(const sqs_queue *const *)b;
    return strcmp(x->name, y->name);
}

/* Queues of the caller's account accepted by keep(), sorted by name. */
static sqs_queue **sorted_queues(sqs_service *svc, const char *account,
                                 bool (*keep)(const sqs_queue *, const void *), const void *arg,
                                 size_t *count)
{
    sqs_queue **list = xcalloc(svc->queues.count + 1, sizeof *list);
    size_t n = 0;

    for (size_t i = 0; i < svc->queues.cap; i++) {
        sqs_queue *q = svc->queues.keys[i] ? svc->queues.vals[i] : NULL;
        if (q && strcmp(q->account, account) == 0 && keep(q, arg))
            list[n++] = q;
    }
    qsort(list, n, sizeof *list, cmp_queue_name);
    *count = n;
    return list;
}

/* Pages a sorted list by MaxResults/NextToken into out[member]. */
static api_status page_queues(api_call *call, sqs_queue **list, size_t n, const char *member)
{
    long long max = 0;
    const char *token = NULL;
    size_t start = 0, limit = MAX_LIST_RESULTS;
    int has_max;

    if ((has_max = param_int(call, call->input, "MaxResults", &max)) < 0 ||
        param_str(call, call->input, "NextToken", &token, NULL) < 0)
        return API_DONE;
    if (has_max && (max < 1 || max > MAX_LIST_RESULTS))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %lld for parameter MaxResults is invalid. Reason: MaxResults must "
                        "be an integer between 1 and 1000.", max);
    if (has_max)
        limit = (size_t)max;
    if (token && *token) {
        uint8_t raw[256];
        long len = base64url_decode(token, strlen(token), raw);
        if (len <= 0 || len >= (long)sizeof raw)
            return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE, "Invalid NextToken value.");
        raw[len] = '\0';
        while (start < n && strcmp(list[start]->name, (char *)raw) <= 0)
            start++;
    }
    json_t *urls = json_array();
    size_t i;
    for (i = start; i < n && i - start < limit; i++) {
        char url[512];
        sqs_queue_url(call, list[i], url, sizeof url);
        json_array_append_new(urls, json_string(url));
    }
    if (json_array_size(urls) > 0 || strcmp(member, "queueUrls") == 0)
        json_object_set_new(api_out(call), member, urls);
    else
        json_decref(urls);
    if (has_max && i < n) {
        char tok[400];
        const char *last = list[i - 1]->name;
        base64url_encode((const uint8_t *)last, strlen(last), tok);
        json_object_set_new(api_out(call), "NextToken", json_string(tok));
    }
    api_out(call);
    return API_DONE;
}

static bool has_prefix(const sqs_queue *q, const void *arg)
{
    const char *prefix = arg;
    return strncmp(q->name, prefix, strlen(prefix)) == 0;
}

api_status sqs_list_queues(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    const char *prefix = NULL;
    size_t n;

    if (param_str(call, call->input, "QueueNamePrefix", &prefix, NULL) < 0)
        return API_DONE;
    sqs_queue **list = sorted_queues(svc, call->account, has_prefix, prefix ? prefix : "", &n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) /* only those the key's allow list covers */
        if (policy_allow_list_permits(call->allow, "sqs:ListQueues", list[i]->arn))
            list[kept++] = list[i];
    api_status st = page_queues(call, list, kept, "QueueUrls");
    free(list);
    return st;
}

static bool sends_to(const sqs_queue *q, const void *arg)
{
    const char *arn = arg;
    return q->dead_letter_arn && strcmp(q->dead_letter_arn, arn) == 0;
}

api_status sqs_list_dead_letter_source_queues(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    size_t n;

    if (!q)
        return API_DONE;
    sqs_queue **list = sorted_queues(svc, q->account, sends_to, q->arn, &n);
    api_status st = page_queues(call, list, n, "queueUrls");
    free(list);
    return st;
}

api_status sqs_get_queue_attributes(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    json_t *names = NULL;

    if (!q || param_str_list(call, call->input, "AttributeNames", &names) < 0)
        return API_DONE;
    if (!names)
        return API_DONE;
    json_t *out = json_object();
    if (sqs_attributes_get(call, svc, q, names, out) < 0) {
        json_decref(out);
        return API_DONE;
    }
    if (json_object_size(out))
        json_object_set_new(api_out(call), "Attributes", out);
    else
        json_decref(out);
    return API_DONE;
}

api_status sqs_set_queue_attributes(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    json_t *attrs = NULL;
    int rc;

    if (!q || (rc = param_str_map(call, call->input, "Attributes", &attrs)) < 0)
        return API_DONE;
    if (!rc)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter Attributes.");
    attrs = json_deep_copy(attrs);
    if (sqs_attributes_validate(call, attrs, false, q->fifo) < 0 ||
        check_dead_letter_target(call, svc, q->arn, q->fifo,
                                 json_string_value(json_object_get(attrs, "RedrivePolicy"))) <
            0) {
        json_decref(attrs);
        return API_DONE;
    }
    int old_delay = q->delay_seconds;
    sqs_queue_set_attributes(q, attrs);
    json_decref(attrs);
    q->modified_ms = clock_now_ms();
    store_batch *b = store_batch_new();
    put_queue_resource(b, q);
    if (q->fifo && q->delay_seconds != old_delay)
        sqs_index_redelay(svc, q, (int64_t)q->delay_seconds * 1000, q->modified_ms, b);
    /* A shorter retention or a new dead-letter target applies from now on;
     * ready messages may now be visible to parked receives. */
    sqs_wake_waiters(svc, q);
    return sqs_commit_and_finish(svc, call, b);
}

api_status sqs_tag_queue(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    json_t *tags = NULL;
    int rc;

    if (!q || (rc = param_str_map(call, call->input, "Tags", &tags)) < 0)
        return API_DONE;
    if (!rc || json_object_size(tags) == 0)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter Tags.");
    json_t *merged = json_deep_copy(q->tags);
    json_object_update(merged, tags);
    if (validate_tags(call, merged) < 0) {
        json_decref(merged);
        return API_DONE;
    }
    json_decref(q->tags);
    q->tags = merged;
    store_batch *b = store_batch_new();
    put_queue_resource(b, q);
    return sqs_commit_and_finish(svc, call, b);
}

api_status sqs_untag_queue(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    json_t *keys = NULL;
    size_t i;
    json_t *k;
    int rc;

    if (!q || (rc = param_str_list(call, call->input, "TagKeys", &keys)) < 0)
        return API_DONE;
    if (!rc || json_array_size(keys) == 0)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter TagKeys.");
    json_array_foreach(keys, i, k)
        json_object_del(q->tags, json_string_value(k));
    store_batch *b = store_batch_new();
    put_queue_resource(b, q);
    return sqs_commit_and_finish(svc, call, b);
}

api_status sqs_list_queue_tags(api_call *call)
{
    sqs_queue *q = sqs_queue_from_call(sqs_of(call), call);

    if (!q)
        return API_DONE;
    if (json_object_size(q->tags))
        json_object_set(api_out(call), "Tags", q->tags);
    return API_DONE;
}

static bool valid_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 80)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

static const char *const permission_actions[] = {
    "*", "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
    "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",
    "ListQueueTags", NULL,
};

static bool valid_permission_action(const char *a)
{
    for (int i = 0; permission_actions[i]; i++)
        if (strcmp(a, permission_actions[i]) == 0)
            return true;
    return false;
}

static json_t *load_policy(const sqs_queue *q)
{
    const char *text = json_string_value(json_object_get(q->attributes, "Policy"));
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;

    if (!json_is_object(doc)) {
        json_decref(doc);
        char id[600];
        snprintf(id, sizeof id, "%s/SQSDefaultPolicy", q->arn);
        doc = json_pack("{s:s,s:s}", "Version", "2012-10-17", "Id", id);
    }
    if (!json_is_array(json_object_get(doc, "Statement")))
        json_object_set_new(doc, "Statement", json_array());
    return doc;
}

static json_t *find_statement(json_t *policy, const char *sid, size_t *index)
{
    size_t i;
    json_t *st;

    json_array_foreach(json_object_get(policy, "Statement"), i, st) {
        const char *s = json_string_value(json_object_get(st, "Sid"));
        if (s && strcmp(s, sid) == 0) {
            *index = i;
            return st;
        }
    }
    return NULL;
}

static api_status store_policy(api_call *call, sqs_queue *q, json_t *policy)
{
    if (json_array_size(json_object_get(policy, "Statement")) == 0) {
        json_object_del(q->attributes, "Policy");
    } else {
        char *text = json_dumps(policy, JSON_COMPACT);
        json_object_set_new(q->attributes, "Policy", json_string(text));
        free(text);
    }
    json_decref(policy);
    q->modified_ms = clock_now_ms();
    store_batch *b = store_batch_new();
    put_queue_resource(b, q);
    return sqs_commit_and_finish(sqs_of(call), call, b);
}

api_status sqs_add_permission(api_call *call)
{
    sqs_queue *q = sqs_queue_from_call(sqs_of(call), call);
    const char *label = NULL;
    json_t *accounts = NULL, *actions = NULL;
    size_t i, idx;
    json_t *e;

    if (!q || param_str(call, call->input, "Label", &label, NULL) < 0 ||
        param_str_list(call, call->input, "AWSAccountIds", &accounts) < 0 ||
        param_str_list(call, call->input, "Actions", &actions) < 0)
        return API_DONE;
    if (!label)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter Label.");
    if (!accounts || json_array_size(accounts) == 0)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter AWSAccountIds.");
    if (!actions || json_array_size(actions) == 0)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter Actions.");
    if (!valid_label(label))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %s for parameter Label is invalid. Reason: Can only include "
                        "alphanumeric characters, hyphens, or underscores. 1 to 80 in length.",
                        label);
    json_array_foreach(actions, i, e)
        if (!valid_permission_action(json_string_value(e)))
            return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                            "Value SQS:%s for parameter ActionName is invalid. Reason: Please "
                            "refer to the appropriate WSDL for a list of valid actions.",
                            json_string_value(e));
    json_t *policy = load_policy(q);
    if (find_statement(policy, label, &idx)) {
        json_decref(policy);
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %s for parameter Label is invalid. Reason: Already exists.",
                        label);
    }
    json_t *principals = json_array(), *acts = json_array();
    json_array_foreach(accounts, i, e) {
        char arn[128];
        snprintf(arn, sizeof arn, "arn:aws:iam::%.40s:root", json_string_value(e));
        json_array_append_new(principals, json_string(arn));
    }
    json_array_foreach(actions, i, e) {
        char act[128];
        snprintf(act, sizeof act, "SQS:%.100s", json_string_value(e));
        json_array_append_new(acts, json_string(act));
    }
    json_t *st = json_pack("{s:s,s:s,s:{s:o},s:o,s:s}", "Sid", label, "Effect", "Allow",
                           "Principal", "AWS",
                           json_array_size(principals) == 1
                               ? json_incref(json_array_get(principals, 0))
                               : json_incref(principals),
                           "Action",
                           json_array_size(acts) == 1 ? json_incref(json_array_get(acts, 0))
                                                      : json_incref(acts),
                           "Resource", q->arn);
    json_decref(principals);
    json_decref(acts);
    json_array_append_new(json_object_get(policy, "Statement"), st);
    return store_policy(call, q, policy);
}

api_status sqs_remove_permission(api_call *call)
{
    sqs_queue *q = sqs_queue_from_call(sqs_of(call), call);
    const char *label = NULL;
    size_t idx;

    if (!q || param_str(call, call->input, "Label", &label, NULL) < 0)
        return API_DONE;
    if (!label)
        return api_fail(call, AWS_ERR_MISSING_PARAMETER,
                        "The request must contain the parameter Label.");
    json_t *policy = load_policy(q);
    if (!find_statement(policy, label, &idx)) {
        json_decref(policy);
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %s for parameter Label is invalid. Reason: can't find label on "
                        "existing policy.", label);
    }
    json_array_remove(json_object_get(policy, "Statement"), idx);
    return store_policy(call, q, policy);
}

api_status sqs_purge_queue(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    int64_t now = clock_now_ms();

    if (!q)
        return API_DONE;
    if (q->last_purge_ms && now - q->last_purge_ms < SQS_PURGE_INTERVAL_MS)
        return api_fail(call, AWS_ERR_SQS_PURGE_IN_PROGRESS,
                        "Only one PurgeQueue operation on %s is allowed every 60 seconds.",
                        q->name);
    q->last_purge_ms = now;
    uint64_t max_seq = store_next_message_seq(svc->store);
    size_t n = q->by_seq.count;
    sqs_index_clear(svc, q);
    store_batch *b = store_batch_new();
    store_purge_messages(b, q->id, max_seq);
    /* A purge also forgets the deduplication window. */
    sqs_fifo_dedup_expire(q, now, b, true);
    sqs_fifo_attempts_clear(q, now, true);
    put_queue_resource(b, q);
    log_info("sqs", "queue purged account=%s queue=%s messages=%zu", q->account, q->name, n);
    return sqs_commit_and_finish(svc, call, b);
}
