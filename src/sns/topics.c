/*
 * topics.c - the topic actions: create (idempotent), delete, list,
 * attributes, tags and permissions.
 *
 * Each change is made in memory, written to the store in one batch and
 * answered once durable (sns_commit_and_finish).  Attributes are kept as
 * the strings the caller gave; defaults and live values (subscription
 * counts, EffectiveDeliveryPolicy) are computed when read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/policy.h"
#include "sns/sns.h"

static bool valid_topic_name(const char *name, bool fifo)
{
    size_t n = strlen(name), base = n;

    if (fifo) {
        if (n <= 5 || strcmp(name + n - 5, ".fifo") != 0)
            return false;
        base = n - 5;
    }
    if (n == 0 || n > 256)
        return false;
    for (size_t i = 0; i < base; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static const char *const feedback_attrs[] = {
    "ApplicationSuccessFeedbackRoleArn", "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn", "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate", "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn", "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate", "FirehoseFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn", "SQSSuccessFeedbackSampleRate", "SQSFailureFeedbackRoleArn",
    "DataProtectionPolicy", NULL,
};

/* AWS's DataProtectionPolicy limit (botocore: max 30720). */
#define DATA_PROTECTION_MAX 30720

/* A DataProtectionPolicy must be a JSON object; its statements are kept,
 * not enforced.  -1 with the error set. */
static int check_data_protection(api_call *call, const char *text)
{
    if (strlen(text) > DATA_PROTECTION_MAX) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: DataProtectionPolicy Reason: must be at most %d "
                 "characters", DATA_PROTECTION_MAX);
        return -1;
    }
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    bool ok = json_is_object(doc);
    json_decref(doc);
    if (!ok) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: DataProtectionPolicy Reason: failed to parse JSON: the "
                 "policy must be a JSON object");
        return -1;
    }
    return 0;
}

static bool is_bool_text(const char *v)
{
    return strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
}

/* Validates one topic attribute; creating allows FifoTopic. */
static int check_topic_attr(api_call *call, const char *name, const char *value, bool fifo,
                            bool creating)
{
    char err[512];

    if (strcmp(name, "DisplayName") == 0 || strcmp(name, "KmsMasterKeyId") == 0)
        return 0;
    if (strcmp(name, "Policy") == 0) {
        json_t *doc = json_loads(value, 0, NULL);
        bool ok = json_is_object(doc);
        json_decref(doc);
        if (!ok) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: Policy Error: null");
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "DeliveryPolicy") == 0) {
        sns_retry_policy p;
        sns_policy_default(&p);
        if (*value && sns_policy_parse(value, false, &p, err, sizeof err) < 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: %s", err);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "FifoTopic") == 0) {
        if (!creating) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: AttributeName");
            return -1;
        }
        if (!is_bool_text(value)) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: FifoTopic Reason: Invalid value [%s]", value);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "ContentBasedDeduplication") == 0) {
        if (!fifo) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: ContentBasedDeduplication Reason: Content based "
                     "deduplication can only be set for FIFO topics");
            return -1;
        }
        if (!is_bool_text(value)) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: ContentBasedDeduplication Reason: Invalid value "
                     "[%s]", value);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "SignatureVersion") == 0) {
        if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: SignatureVersion");
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "TracingConfig") == 0) {
        if (strcmp(value, "PassThrough") != 0 && strcmp(value, "Active") != 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: TracingConfig");
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "ArchivePolicy") == 0 || strcmp(name, "FifoThroughputScope") == 0) {
        if (!fifo) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: %s Reason: The %s attribute can only be set for "
                     "FIFO topics", name, name);
            return -1;
        }
        if (strcmp(name, "FifoThroughputScope") == 0 && strcmp(value, "Topic") != 0 &&
            strcmp(value, "MessageGroup") != 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: FifoThroughputScope Reason: Invalid value [%s]. "
                     "Valid values are Topic and MessageGroup", value);
            return -1;
        }
        if (strcmp(name, "ArchivePolicy") == 0 && *value) {
            json_t *doc = json_loads(value, 0, NULL);
            json_t *days = json_object_get(doc, "MessageRetentionPeriod");
            long long d = json_is_integer(days) ? json_integer_value(days)
                          : json_is_string(days) ? atoll(json_string_value(days)) : -1;
            json_decref(doc);
            if (d < 1 || d > 365) {
                api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                         "Invalid parameter: ArchivePolicy Reason: MessageRetentionPeriod "
                         "must be between 1 and 365 days");
                return -1;
            }
        }
        return 0;
    }
    for (int i = 0; feedback_attrs[i]; i++)
        if (strcmp(name, feedback_attrs[i]) == 0)
            return 0;
    api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: AttributeName");
    return -1;
}

static char *default_policy(const sns_topic *t)
{
    json_t *doc = json_pack(
        "{s:s,s:s,s:[{s:s,s:s,s:{s:s},s:[s,s,s,s,s,s,s,s],s:s,s:{s:{s:s}}}]}", "Version",
        "2008-10-17", "Id", "__default_policy_ID", "Statement", "Sid",
        "__default_statement_ID", "Effect", "Allow", "Principal", "AWS", "*", "Action",
        "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
        "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic", "SNS:Publish", "Resource", t->arn, "Condition",
        "StringEquals", "AWS:SourceOwner", t->account);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

const char *sns_topic_attr(const sns_topic *t, const char *name)
{
    return json_string_value(json_object_get(t->attrs, name));
}

int sns_check_arn(api_call *call, const char *param, const char *arn)
{
    int parts = 1;
    char region[64] = "";

    for (const char *p = arn; *p; p++)
        parts += *p == ':';
    if (parts < 6 || strncmp(arn, "arn:", 4) != 0) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: %s Reason: An ARN must have at least 6 elements, not %d",
                 param, parts);
        return -1;
    }
    /* arn:partition:service:region:... */
    const char *r = strchr(strchr(arn + 4, ':') + 1, ':') + 1;
    const char *end = strchr(r, ':');
    snprintf(region, sizeof region, "%.*s", (int)(end - r), r);
    if (strcmp(region, call->region) != 0) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: %s", param);
        return -1;
    }
    return 0;
}

sns_topic *sns_topic_from_param(api_call *call, const char *param)
{
    const char *arn = NULL;
    int rc = param_str(call, call->input, param, &arn, NULL);

    if (rc < 0)
        return NULL;
    if (rc == 0) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: %s Reason: no value for required parameter", param);
        return NULL;
    }
    if (sns_check_arn(call, param, arn) < 0)
        return NULL;
    sns_topic *t = sns_topic_find(sns_of(call), arn);
    if (!t) {
        sns_topic_missing(call, arn, "Topic does not exist");
        return NULL;
    }
    if (!sns_topic_permits(call, t))
        return NULL;
    return t;
}

/* The action's name as IAM knows it: PublishBatch is authorised as Publish. */
static const char *iam_action(const api_call *call)
{
    return strcmp(call->action, "PublishBatch") == 0 ? "Publish" : call->action;
}

static void not_authorized(api_call *call, const char *arn)
{
    api_fail(call, AWS_ERR_SNS_AUTHORIZATION,
             "User: %s is not authorized to perform: SNS:%s on resource: %s",
             call->access_key && *call->access_key ? call->access_key : call->account,
             iam_action(call), arn);
}

void sns_topic_missing(api_call *call, const char *arn, const char *message)
{
    /* arn:aws:sns:region:account:name; another account's topic that does
     * not exist is refused as one that exists would be, so that its
     * existence cannot be probed. */
    const char *p = arn;
    for (int colons = 0; p && colons < 4; colons++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    size_t n = p ? strcspn(p, ":") : 0;
    if (p && (strlen(call->account) != n || strncmp(p, call->account, n) != 0))
        not_authorized(call, arn);
    else
        api_fail(call, AWS_ERR_SNS_NOT_FOUND, "%s", message);
}

bool sns_topic_permits(api_call *call, const sns_topic *t)
{
    char action[96];
    const char *name = iam_action(call);
    bool ok;

    snprintf(action, sizeof action, "sns:%s", name);
    if (strcmp(name, "ConfirmSubscription") == 0) /* the token is the proof */
        ok = policy_allow_list_permits(call->allow, action, t->arn);
    else /* the key's allow list; the topic's Policy (Deny; another account) */
        ok = policy_permits(call->account, call->allow, action, t->arn, t->account,
                            sns_topic_attr(t, "Policy"));
    if (ok)
        return true;
    not_authorized(call, t->arn);
    return false;
}

bool sns_topic_accepts(sns_service *svc, const char *topic_arn, const char *service,
                       const char *source_arn, const char *source_account)
{
    sns_topic *t = sns_topic_find(svc, topic_arn);

    return !t || policy_service_permits(service, "sns:Publish", t->arn, t->account,
                                        sns_topic_attr(t, "Policy"), source_arn,
                                        source_account);
}

/* Validates a Tags list [{Key, Value}] into a map; -1 with the error set. */
static int tags_to_map(api_call *call, json_t *list, json_t *map)
{
    size_t i;
    json_t *e;

    json_array_foreach(list, i, e) {
        const char *k = NULL, *v = NULL;
        if (param_str(call, e, "Key", &k, NULL) < 0 || param_str(call, e, "Value", &v, NULL) < 0)
            return -1;
        if (!k || !*k || strlen(k) > 128) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: Tags Reason: Tag keys must be between 1 and 128 "
                     "characters in length.");
            return -1;
        }
        if (!v)
            v = "";
        if (json_object_get(map, k)) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: Duplicated keys are not allowed.");
            return -1;
        }
        if (strlen(v) > 256) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: Tags Reason: Tag values must be between 0 and 256 "
                     "characters in length.");
            return -1;
        }
        json_object_set_new(map, k, json_string(v));
    }
    return 0;
}

api_status sns_create_topic(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *name = NULL, *dpp = NULL, *k;
    json_t *attrs = NULL, *tags_list = NULL, *v;
    char arn[512];

    if (param_str(call, call->input, "Name", &name, NULL) < 0 ||
        param_str(call, call->input, "DataProtectionPolicy", &dpp, NULL) < 0 ||
        param_str_map(call, call->input, "Attributes", &attrs) < 0 ||
        param_list(call, call->input, "Tags", &tags_list) < 0)
        return API_DONE;
    if (!name)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Topic Name");
    const char *fifo_text = attrs ? json_string_value(json_object_get(attrs, "FifoTopic")) : NULL;
    bool fifo = fifo_text && strcmp(fifo_text, "true") == 0;
    if (!valid_topic_name(name, fifo)) {
        if (fifo)
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: Fifo Topic names must end with .fifo and must "
                            "be made up of only uppercase and lowercase ASCII letters, "
                            "numbers, underscores, and hyphens, and must be between 1 and 256 "
                            "characters long.");
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Topic Name");
    }
    json_object_foreach(attrs, k, v)
        if (check_topic_attr(call, k, json_string_value(v), fifo, true) < 0)
            return API_DONE;
    if (dpp && *dpp && check_data_protection(call, dpp) < 0)
        return API_DONE;
    json_t *tags = json_object();
    if (tags_list && tags_to_map(call, tags_list, tags) < 0) {
        json_decref(tags);
        return API_DONE;
    }
    if (json_object_size(tags) > SNS_MAX_TAGS) {
        json_decref(tags);
        return api_fail(call, AWS_ERR_SNS_TAG_LIMIT,
                        "Could not complete request: tag quota of per resource exceeded");
    }
    snprintf(arn, sizeof arn, "arn:aws:sns:%s:%s:%s", call->region, call->account, name);
    sns_topic *t = sns_topic_find(svc, arn);
    if (t) {
        json_object_foreach(attrs, k, v) {
            const char *have = sns_topic_attr(t, k);
            bool same = have ? strcmp(have, json_string_value(v)) == 0
                             : (strcmp(k, "FifoTopic") == 0 &&
                                strcmp(json_string_value(v), t->fifo ? "true" : "false") == 0);
            if (!same) {
                json_decref(tags);
                return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                                "Invalid parameter: Attributes Reason: Topic already exists "
                                "with different attributes");
            }
        }
        bool tags_differ = false;
        json_object_foreach(tags, k, v) {
            json_t *have = json_object_get(t->tags, k);
            tags_differ |= !have || !json_equal(have, v);
        }
        if (tags_differ) {
            json_decref(tags);
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: Tags Reason: Topic already exists with "
                            "different tags");
        }
        json_decref(tags);
        json_object_set_new(api_out(call), "TopicArn", json_string(t->arn));
        return API_DONE;
    }
    size_t max_fifo = svc->limits->max_topics < LIMITS_FIFO_TOPICS ? svc->limits->max_topics
                                                                    : LIMITS_FIFO_TOPICS;
    bool fifo_full =
        fifo && account_counts_get(&svc->fifo_topic_counts, call->account) >= max_fifo;
    if (fifo_full ||
        account_counts_get(&svc->topic_counts, call->account) >= svc->limits->max_topics) {
        json_decref(tags);
        return api_fail(call, AWS_ERR_SNS_TOPIC_LIMIT,
                        "Topic limit exceeded: the account already has %zu %stopics.",
                        fifo_full ? max_fifo : svc->limits->max_topics, fifo_full ? "FIFO " : "");
    }
    t = xcalloc(1, sizeof *t);
    t->id = store_next_resource_id(svc->store);
    t->account = xstrdup(call->account);
    t->name = xstrdup(name);
    t->arn = xstrdup(arn);
    t->fifo = fifo;
    t->created_ms = clock_now_ms();
    t->attrs = json_object();
    json_object_foreach(attrs, k, v)
        if (strcmp(k, "FifoTopic") != 0)
            json_object_set(t->attrs, k, v);
    t->tags = tags;
    t->data_protection = dpp && *dpp ? xstrdup(dpp) : NULL;
    t->dedup = json_object();
    map_str_put(&svc->topics, t->arn, t);
    account_counts_add(&svc->topic_counts, t->account, 1);
    if (t->fifo)
        account_counts_add(&svc->fifo_topic_counts, t->account, 1);
    store_batch *b = store_batch_new();
    sns_topic_put(b, t);
    json_object_set_new(api_out(call), "TopicArn", json_string(t->arn));
    return sns_commit_and_finish(svc, call, b);
}

api_status sns_delete_topic(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *arn = NULL;

    if (param_str(call, call->input, "TopicArn", &arn, NULL) < 0 ||
        sns_check_arn(call, "TopicArn", arn ? arn : "") < 0)
        return API_DONE;
    sns_topic *t = sns_topic_find(svc, arn);
    if (!t)
        return API_DONE; /* deleting a topic that does not exist succeeds */
    if (!sns_topic_permits(call, t))
        return API_DONE;
    store_batch *b = store_batch_new();
    for (size_t i = 0; i < t->nsubs; i++)
        store_delete_resource(b, t->subs[i]->id);
    store_delete_resource(b, t->id);
    sns_topic_unlink(svc, t);
    return sns_commit_and_finish(svc, call, b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

api_status sns_list_topics(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *token = NULL;
    size_t n = 0;

    if (param_str(call, call->input, "NextToken", &token, NULL) < 0)
        return API_DONE;
    const char **arns = xcalloc(svc->topics.count + 1, sizeof *arns);
    for (size_t i = 0; i < svc->topics.cap; i++) {
        sns_topic *t = svc->topics.keys[i] ? svc->topics.vals[i] : NULL;
        if (t && strcmp(t->account, call->account) == 0)
            arns[n++] = t->arn;
    }
    qsort(arns, n, sizeof *arns, cmp_str);
    size_t start = 0;
    if (token) {
        /* the token is the next page's first ARN; if that topic has gone
         * meanwhile the page starts at the one after it */
        if (strncmp(token, "arn:", 4) != 0) {
            free(arns);
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: NextToken");
        }
        while (start < n && strcmp(arns[start], token) < 0)
            start++;
    }
    json_t *list = json_array();
    size_t i;
    for (i = start; i < n && i < start + SNS_LIST_PAGE; i++)
        json_array_append_new(list, json_pack("{s:s}", "TopicArn", arns[i]));
    json_object_set_new(api_out(call), "Topics", list);
    if (i < n)
        json_object_set_new(api_out(call), "NextToken", json_string(arns[i]));
    free(arns);
    return API_DONE;
}

api_status sns_get_topic_attributes(api_call *call)
{
    sns_topic *t = sns_topic_from_param(call, "TopicArn");
    const char *k;
    json_t *v;
    long confirmed = 0, pending = 0;
    char num[32];

    if (!t)
        return API_DONE;
    json_t *out = json_object();
    json_object_foreach(t->attrs, k, v)
        json_object_set(out, k, v);
    if (!json_object_get(out, "Policy")) {
        char *p = default_policy(t);
        json_object_set_new(out, "Policy", json_string(p));
        free(p);
    }
    json_object_set_new(out, "Owner", json_string(t->account));
    json_object_set_new(out, "TopicArn", json_string(t->arn));
    if (!json_object_get(out, "DisplayName"))
        json_object_set_new(out, "DisplayName", json_string(""));
    for (size_t i = 0; i < t->nsubs; i++) {
        if (t->subs[i]->confirmed)
            confirmed++;
        else
            pending++;
    }
    snprintf(num, sizeof num, "%ld", confirmed);
    json_object_set_new(out, "SubscriptionsConfirmed", json_string(num));
    snprintf(num, sizeof num, "%ld", pending);
    json_object_set_new(out, "SubscriptionsPending", json_string(num));
    snprintf(num, sizeof num, "%ld", t->subs_deleted);
    json_object_set_new(out, "SubscriptionsDeleted", json_string(num));
    sns_retry_policy p;
    char err[256];
    sns_policy_default(&p);
    const char *dp = sns_topic_attr(t, "DeliveryPolicy");
    if (dp && *dp)
        sns_policy_parse(dp, false, &p, err, sizeof err);
    char *eff = sns_policy_effective_topic(&p);
    json_object_set_new(out, "EffectiveDeliveryPolicy", json_string(eff));
    free(eff);
    if (t->fifo) {
        json_object_set_new(out, "FifoTopic", json_string("true"));
        if (!json_object_get(out, "ContentBasedDeduplication"))
            json_object_set_new(out, "ContentBasedDeduplication", json_string("false"));
    }
    json_object_set_new(api_out(call), "Attributes", out);
    return API_DONE;
}

api_status sns_set_topic_attributes(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *name = NULL, *value = NULL;
    sns_topic *t = sns_topic_from_param(call, "TopicArn");

    if (!t)
        return API_DONE;
    if (param_str(call, call->input, "AttributeName", &name, NULL) < 0 ||
        param_str(call, call->input, "AttributeValue", &value, NULL) < 0)
        return API_DONE;
    if (!name)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: AttributeName");
    if (!value)
        value = "";
    if (check_topic_attr(call, name, value, t->fifo, false) < 0)
        return API_DONE;
    if (!*value && (strcmp(name, "Policy") == 0 || strcmp(name, "DeliveryPolicy") == 0))
        json_object_del(t->attrs, name);
    else
        json_object_set_new(t->attrs, name, json_string(value));
    store_batch *b = store_batch_new();
    sns_topic_put(b, t);
    return sns_commit_and_finish(svc, call, b);
}

/* Tag actions name topics only: a missing one is ResourceNotFound. */
static sns_topic *tag_target(api_call *call)
{
    const char *arn = NULL;

    if (param_str(call, call->input, "ResourceArn", &arn, NULL) < 0)
        return NULL;
    if (!arn) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: ResourceArn");
        return NULL;
    }
    sns_topic *t = sns_topic_find(sns_of(call), arn);
    if (!t) {
        api_fail(call, AWS_ERR_SNS_RESOURCE_NOT_FOUND, "Resource does not exist");
        return NULL;
    }
    return sns_topic_permits(call, t) ? t : NULL;
}

api_status sns_tag_resource(api_call *call)
{
    json_t *list = NULL;
    sns_topic *t = tag_target(call);

    if (!t || param_list(call, call->input, "Tags", &list) < 0)
        return API_DONE;
    json_t *add = json_object();
    if (list && tags_to_map(call, list, add) < 0) {
        json_decref(add);
        return API_DONE;
    }
    json_t *merged = json_deep_copy(t->tags);
    json_object_update(merged, add);
    json_decref(add);
    if (json_object_size(merged) > SNS_MAX_TAGS) {
        json_decref(merged);
        return api_fail(call, AWS_ERR_SNS_TAG_LIMIT,
                        "Could not complete request: tag quota of per resource exceeded");
    }
    json_decref(t->tags);
    t->tags = merged;
    store_batch *b = store_batch_new();
    sns_topic_put(b, t);
    return sns_commit_and_finish(sns_of(call), call, b);
}

api_status sns_untag_resource(api_call *call)
{
    json_t *keys = NULL;
    size_t i;
    json_t *k;
    sns_topic *t = tag_target(call);

    if (!t || param_str_list(call, call->input, "TagKeys", &keys) < 0)
        return API_DONE;
    json_array_foreach(keys, i, k)
        json_object_del(t->tags, json_string_value(k));
    store_batch *b = store_batch_new();
    sns_topic_put(b, t);
    return sns_commit_and_finish(sns_of(call), call, b);
}

api_status sns_list_tags_for_resource(api_call *call)
{
    const char *k;
    json_t *v;
    sns_topic *t = tag_target(call);

    if (!t)
        return API_DONE;
    json_t *list = json_array();
    json_object_foreach(t->tags, k, v)
        json_array_append_new(list, json_pack("{s:s,s:O}", "Key", k, "Value", v));
    json_object_set_new(api_out(call), "Tags", list);
    return API_DONE;
}

/* The topic's policy document (its own or the default), a new reference. */
static json_t *policy_doc(const sns_topic *t)
{
    const char *text = sns_topic_attr(t, "Policy");
    char *def = text ? NULL : default_policy(t);
    json_t *doc = json_loads(text ? text : def, 0, NULL);

    free(def);
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = json_object();
    }
    if (!json_is_array(json_object_get(doc, "Statement")))
        json_object_set_new(doc, "Statement", json_array());
    return doc;
}

static void store_policy(sns_topic *t, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_object_set_new(t->attrs, "Policy", json_string(text));
    free(text);
}

api_status sns_add_permission(api_call *call)
{
    const char *label = NULL;
    json_t *accounts = NULL, *actions = NULL, *e;
    size_t i;
    sns_topic *t = sns_topic_from_param(call, "TopicArn");

    if (!t || param_str(call, call->input, "Label", &label, NULL) < 0 ||
        param_str_list(call, call->input, "AWSAccountId", &accounts) < 0 ||
        param_str_list(call, call->input, "ActionName", &actions) < 0)
        return API_DONE;
    if (!label || !*label)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Label");
    if (!accounts || !json_array_size(accounts))
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: AWSAccountId");
    if (!actions || !json_array_size(actions))
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: ActionName");
    json_t *doc = policy_doc(t);
    json_t *stmts = json_object_get(doc, "Statement");
    json_array_foreach(stmts, i, e) {
        const char *sid = json_string_value(json_object_get(e, "Sid"));
        if (sid && strcmp(sid, label) == 0) {
            json_decref(doc);
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: Statement already exists");
        }
    }
    json_t *principals = json_array(), *acts = json_array();
    json_array_foreach(accounts, i, e) {
        char p[128];
        snprintf(p, sizeof p, "arn:aws:iam::%s:root", json_string_value(e));
        json_array_append_new(principals, json_string(p));
    }
    json_array_foreach(actions, i, e) {
        char a[128];
        snprintf(a, sizeof a, "SNS:%s", json_string_value(e));
        json_array_append_new(acts, json_string(a));
    }
    json_array_append_new(stmts, json_pack("{s:s,s:s,s:{s:o},s:o,s:s}", "Sid", label, "Effect",
                                           "Allow", "Principal", "AWS", principals, "Action",
                                           acts, "Resource", t->arn));
    store_policy(t, doc);
    json_decref(doc);
    store_batch *b = store_batch_new();
    sns_topic_put(b, t);
    return sns_commit_and_finish(sns_of(call), call, b);
}

api_status sns_remove_permission(api_call *call)
{
    const char *label = NULL;
    size_t i;
    json_t *e;
    sns_topic *t = sns_topic_from_param(call, "TopicArn");

    if (!t || param_str(call, call->input, "Label", &label, NULL) < 0)
        return API_DONE;
    if (!label || !*label)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Label");
    json_t *doc = policy_doc(t);
    json_t *stmts = json_object_get(doc, "Statement");
    bool found = false;
    json_array_foreach(stmts, i, e) {
        const char *sid = json_string_value(json_object_get(e, "Sid"));
        if (sid && strcmp(sid, label) == 0) {
            json_array_remove(stmts, i);
            found = true;
            break;
        }
    }
    if (!found) {
        json_decref(doc);
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                        "Invalid parameter: Statement does not exist");
    }
    store_policy(t, doc);
    json_decref(doc);
    store_batch *b = store_batch_new();
    sns_topic_put(b, t);
    return sns_commit_and_finish(sns_of(call), call, b);
}

api_status sns_put_data_protection_policy(api_call *call)
{
    const char *text = NULL;
    sns_topic *t = sns_topic_from_param(call, "ResourceArn");

    if (!t || param_str(call, call->input, "DataProtectionPolicy", &text, NULL) < 0)
        return API_DONE;
    if (!text)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                        "Invalid parameter: DataProtectionPolicy Reason: no value for required "
                        "parameter");
    /* an empty document removes the policy */
    if (*text && check_data_protection(call, text) < 0)
        return API_DONE;
    free(t->data_protection);
    t->data_protection = *text ? xstrdup(text) : NULL;
    store_batch *b = store_batch_new();
    sns_topic_put(b, t);
    return sns_commit_and_finish(sns_of(call), call, b);
}

api_status sns_get_data_protection_policy(api_call *call)
{
    sns_topic *t = sns_topic_from_param(call, "ResourceArn");

    if (!t)
        return API_DONE;
    json_object_set_new(api_out(call), "DataProtectionPolicy",
                        json_string(t->data_protection ? t->data_protection : ""));
    return API_DONE;
}
