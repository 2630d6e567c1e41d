/*
 * attributes.c - queue attributes: the table of what exists, validation of
 * what a client sets, the typed view the index uses, and the values
 * GetQueueAttributes reports (configured, default, or computed live).
 *
 * A queue stores exactly the attributes that were set, in normalised text,
 * so that a refresh reads back what was written and tools see no drift.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "sqs/sqs.h"

enum attr_kind { A_INT, A_BOOL, A_POLICY, A_REDRIVE, A_REDRIVE_ALLOW, A_TEXT, A_ENUM, A_LIVE };

typedef struct attr_def {
    const char *name;
    enum attr_kind kind;
    long min, max;
    const char *std_default;   /* shown for standard queues when unset, or NULL */
    const char *fifo_default;  /* shown for FIFO queues when unset, or NULL */
    bool fifo_only;
    bool create_only;
    const char *choices;       /* A_ENUM: "a|b" */
} attr_def;

static const attr_def attr_defs[] = {
    {"DelaySeconds", A_INT, 0, SQS_MAX_DELAY, "0", "0", false, false, NULL},
    {"MaximumMessageSize", A_INT, SQS_MIN_MESSAGE_SIZE, SQS_MAX_MESSAGE_SIZE, "1048576",
     "1048576", false, false, NULL},
    {"MessageRetentionPeriod", A_INT, 60, 1209600, "345600", "345600", false, false, NULL},
    {"ReceiveMessageWaitTimeSeconds", A_INT, 0, SQS_MAX_WAIT, "0", "0", false, false, NULL},
    {"VisibilityTimeout", A_INT, 0, SQS_MAX_VISIBILITY, "30", "30", false, false, NULL},
    {"Policy", A_POLICY, 0, 0, NULL, NULL, false, false, NULL},
    {"RedrivePolicy", A_REDRIVE, 0, 0, NULL, NULL, false, false, NULL},
    {"RedriveAllowPolicy", A_REDRIVE_ALLOW, 0, 0, NULL, NULL, false, false, NULL},
    {"KmsMasterKeyId", A_TEXT, 0, 0, NULL, NULL, false, false, NULL},
    {"KmsDataKeyReusePeriodSeconds", A_INT, 60, 86400, NULL, NULL, false, false, NULL},
    {"SqsManagedSseEnabled", A_BOOL, 0, 0, "true", "true", false, false, NULL},
    {"FifoQueue", A_BOOL, 0, 0, NULL, "true", false, true, NULL},
    {"ContentBasedDeduplication", A_BOOL, 0, 0, NULL, "false", true, false, NULL},
    {"DeduplicationScope", A_ENUM, 0, 0, NULL, "queue", true, false, "messageGroup|queue"},
    {"FifoThroughputLimit", A_ENUM, 0, 0, NULL, "perQueue", true, false,
     "perMessageGroupId|perQueue"},
    /* read-only, computed */
    {"ApproximateNumberOfMessages", A_LIVE, 0, 0, NULL, NULL, false, false, NULL},
    {"ApproximateNumberOfMessagesNotVisible", A_LIVE, 0, 0, NULL, NULL, false, false, NULL},
    {"ApproximateNumberOfMessagesDelayed", A_LIVE, 0, 0, NULL, NULL, false, false, NULL},
    {"CreatedTimestamp", A_LIVE, 0, 0, NULL, NULL, false, false, NULL},
    {"LastModifiedTimestamp", A_LIVE, 0, 0, NULL, NULL, false, false, NULL},
    {"QueueArn", A_LIVE, 0, 0, NULL, NULL, false, false, NULL},
    {NULL, 0, 0, 0, NULL, NULL, false, false, NULL},
};

static const attr_def *find_def(const char *name)
{
    for (const attr_def *d = attr_defs; d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static bool parse_long(const char *s, long *out)
{
    char *end;

    if (!*s)
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int invalid_value(api_call *call, const char *name, const char *reason)
{
    if (reason)
        api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_VALUE,
                 "Invalid value for the parameter %s. Reason: %s", name, reason);
    else
        api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_VALUE, "Invalid value for the parameter %s.",
                 name);
    return -1;
}

/* Normalises a RedrivePolicy into {"deadLetterTargetArn":..,"maxReceiveCount":n}. */
static char *normalise_redrive(api_call *call, const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    json_t *arn = json_object_get(doc, "deadLetterTargetArn");
    json_t *count = json_object_get(doc, "maxReceiveCount");
    long n = 0;
    char *out = NULL;

    if (!json_is_object(doc)) {
        api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_VALUE,
                 "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is "
                 "not a valid JSON map.");
        goto done;
    }
    if (!json_is_string(arn) || !count) {
        api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_VALUE,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy does "
                 "not contain mandatory attribute: %s.", text,
                 !json_is_string(arn) ? "deadLetterTargetArn" : "maxReceiveCount");
        goto done;
    }
    if (json_is_integer(count))
        n = (long)json_integer_value(count);
    else if (!json_is_string(count) || !parse_long(json_string_value(count), &n))
        n = -1;
    if (n < 1 || n > 1000) {
        char *shown = json_is_string(count) ? NULL
                                            : json_dumps(count, JSON_COMPACT | JSON_ENCODE_ANY);
        api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_VALUE,
                 "Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for "
                 "maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.",
                 text, shown ? shown : json_string_value(count));
        free(shown);
        goto done;
    }
    json_t *norm = json_pack("{s:O,s:I}", "deadLetterTargetArn", arn, "maxReceiveCount",
                             (json_int_t)n);
    out = json_dumps(norm, JSON_COMPACT);
    json_decref(norm);
done:
    json_decref(doc);
    return out;
}

static int check_redrive_allow(api_call *call, const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    json_t *perm = json_object_get(doc, "redrivePermission");
    json_t *arns = json_object_get(doc, "sourceQueueArns");
    const char *p = json_string_value(perm);
    int rc = -1;

    if (!json_is_object(doc) || !p) {
        invalid_value(call, "RedriveAllowPolicy", "Invalid redrive allow policy.");
    } else if (strcmp(p, "byQueue") == 0) {
        if (!json_is_array(arns) || json_array_size(arns) == 0 || json_array_size(arns) > 10)
            invalid_value(call, "RedriveAllowPolicy",
                          "Amount of source queue ARNs must be between 1 and 10.");
        else
            rc = 0;
    } else if (strcmp(p, "allowAll") == 0 || strcmp(p, "denyAll") == 0) {
        if (arns)
            invalid_value(call, "RedriveAllowPolicy",
                          "Only byQueue may be used with sourceQueueArns.");
        else
            rc = 0;
    } else {
        invalid_value(call, "RedriveAllowPolicy", "Invalid redrivePermission.");
    }
    json_decref(doc);
    return rc;
}

int sqs_attributes_validate(api_call *call, json_t *attrs, bool creating, bool fifo)
{
    const char *name;
    json_t *v;

    json_object_foreach(attrs, name, v) {
        const attr_def *d = find_def(name);
        const char *text = json_string_value(v);
        long n;

        if (!d || d->kind == A_LIVE || (d->create_only && !creating) ||
            (d->fifo_only && !fifo)) {
            api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %s.", name);
            return -1;
        }
        if (!text)
            return invalid_value(call, name, NULL);
        switch (d->kind) {
        case A_INT:
            if (!parse_long(text, &n) || n < d->min || n > d->max)
                return invalid_value(call, name, NULL);
            json_object_set_new(attrs, name, json_sprintf("%ld", n));
            break;
        case A_BOOL:
            if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
                return invalid_value(call, name, NULL);
            /* a standard queue takes no FifoQueue at all, not even "false" */
            if (strcmp(name, "FifoQueue") == 0 && !fifo) {
                api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %s.",
                         name);
                return -1;
            }
            break;
        case A_ENUM: {
            size_t len = strlen(text);
            const char *c = strstr(d->choices, text);
            if (!len || !c || (c != d->choices && c[-1] != '|') || (c[len] && c[len] != '|'))
                return invalid_value(call, name, NULL);
            break;
        }
        case A_POLICY:
            if (*text) {
                json_t *doc = json_loads(text, 0, NULL);
                bool ok = json_is_object(doc);
                json_decref(doc);
                if (!ok)
                    return invalid_value(call, name, NULL);
            }
            break;
        case A_REDRIVE:
            if (*text) {
                char *norm = normalise_redrive(call, text);
                if (!norm)
                    return -1;
                json_object_set_new(attrs, name, json_string(norm));
                free(norm);
            }
            break;
        case A_REDRIVE_ALLOW:
            if (*text && check_redrive_allow(call, text) < 0)
                return -1;
            break;
        case A_TEXT:
        case A_LIVE:
            break;
        }
    }
    return 0;
}

void sqs_queue_apply_attributes(sqs_queue *q)
{
    const char *v;
    long n;

#define INT_ATTR(field, name, dflt)                                                     \
    q->field = (v = json_string_value(json_object_get(q->attributes, name))) &&        \
                       parse_long(v, &n) ? (int)n : (dflt)
    INT_ATTR(visibility_timeout, "VisibilityTimeout", SQS_DEFAULT_VISIBILITY);
    INT_ATTR(delay_seconds, "DelaySeconds", 0);
    INT_ATTR(max_message_size, "MaximumMessageSize", SQS_DEFAULT_MESSAGE_SIZE);
    INT_ATTR(retention_seconds, "MessageRetentionPeriod", SQS_DEFAULT_RETENTION);
    INT_ATTR(receive_wait_seconds, "ReceiveMessageWaitTimeSeconds", 0);
#undef INT_ATTR

    free(q->dead_letter_arn);
    q->dead_letter_arn = NULL;
    q->max_receive_count = 0;
    v = json_string_value(json_object_get(q->attributes, "RedrivePolicy"));
    if (v && *v) {
        json_t *doc = json_loads(v, 0, NULL);
        const char *arn = json_string_value(json_object_get(doc, "deadLetterTargetArn"));
        json_t *count = json_object_get(doc, "maxReceiveCount");
        if (arn && json_is_integer(count)) {
            q->dead_letter_arn = xstrdup(arn);
            q->max_receive_count = (int)json_integer_value(count);
        }
        json_decref(doc);
    }
}

void sqs_queue_set_attributes(sqs_queue *q, json_t *attrs)
{
    const char *name;
    json_t *v;

    json_object_foreach(attrs, name, v) {
        const char *text = json_string_value(v);
        /* An empty policy removes it, as AWS does. */
        if ((strcmp(name, "Policy") == 0 || strcmp(name, "RedrivePolicy") == 0 ||
             strcmp(name, "RedriveAllowPolicy") == 0 || strcmp(name, "KmsMasterKeyId") == 0) &&
            text && !*text)
            json_object_del(q->attributes, name);
        else
            json_object_set(q->attributes, name, v);
    }
    sqs_queue_apply_attributes(q);
}

bool sqs_attributes_match(const sqs_queue *q, json_t *attrs)
{
    const char *name;
    json_t *v;

    json_object_foreach(attrs, name, v) {
        const attr_def *d = find_def(name);
        const char *have = json_string_value(json_object_get(q->attributes, name));
        const char *want = json_string_value(v);
        if (!have && d)
            have = q->fifo ? d->fifo_default : d->std_default;
        if (!have)
            have = "";
        if (!want || strcmp(have, want) != 0)
            return false;
    }
    return true;
}

static void put_live(sqs_queue *q, const char *name, json_t *out)
{
    char tmp[64];

    if (strcmp(name, "ApproximateNumberOfMessages") == 0)
        snprintf(tmp, sizeof tmp, "%zu", q->ready_count);
    else if (strcmp(name, "ApproximateNumberOfMessagesNotVisible") == 0)
        snprintf(tmp, sizeof tmp, "%zu", q->inflight_count);
    else if (strcmp(name, "ApproximateNumberOfMessagesDelayed") == 0)
        snprintf(tmp, sizeof tmp, "%zu", q->delayed_count);
    else if (strcmp(name, "CreatedTimestamp") == 0)
        snprintf(tmp, sizeof tmp, "%lld", (long long)(q->created_ms / 1000));
    else if (strcmp(name, "LastModifiedTimestamp") == 0)
        snprintf(tmp, sizeof tmp, "%lld", (long long)(q->modified_ms / 1000));
    else if (strcmp(name, "QueueArn") == 0) {
        json_object_set_new(out, name, json_string(q->arn));
        return;
    } else
        return;
    json_object_set_new(out, name, json_string(tmp));
}

static void put_attr(sqs_queue *q, const attr_def *d, json_t *out)
{
    json_t *set = json_object_get(q->attributes, d->name);
    const char *dflt = q->fifo ? d->fifo_default : d->std_default;

    if (d->kind == A_LIVE) {
        put_live(q, d->name, out);
    } else if (set) {
        json_object_set(out, d->name, set);
    } else if (strcmp(d->name, "KmsDataKeyReusePeriodSeconds") == 0 &&
               json_object_get(q->attributes, "KmsMasterKeyId")) {
        json_object_set_new(out, d->name, json_string("300"));
    } else if (strcmp(d->name, "SqsManagedSseEnabled") == 0 &&
               json_object_get(q->attributes, "KmsMasterKeyId")) {
        json_object_set_new(out, d->name, json_string("false"));
    } else if (dflt && (!d->fifo_only || q->fifo)) {
        json_object_set_new(out, d->name, json_string(dflt));
    }
}

int sqs_attributes_get(api_call *call, sqs_service *svc, sqs_queue *q, json_t *names,
                       json_t *out)
{
    size_t i;
    json_t *n;
    bool all = false;

    json_array_foreach(names, i, n) {
        const char *name = json_string_value(n);
        if (strcmp(name, "All") == 0) {
            all = true;
            continue;
        }
        const attr_def *d = find_def(name);
        if (!d || (d->fifo_only && !q->fifo) ||
            (strcmp(name, "FifoQueue") == 0 && !q->fifo)) {
            api_fail(call, AWS_ERR_SQS_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %s.", name);
            return -1;
        }
    }
    for (const attr_def *d = attr_defs; d->name; d++) {
        bool wanted = all;
        json_array_foreach(names, i, n)
            if (strcmp(json_string_value(n), d->name) == 0)
                wanted = true;
        if (wanted)
            put_attr(q, d, out);
    }
    return 0;
}
