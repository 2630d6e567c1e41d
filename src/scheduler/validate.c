/*
 * validate.c - CreateSchedule/UpdateSchedule input checked into a schedule
 * definition, and the definition rendered back as GetSchedule output.
 *
 * Modelled constraints (lengths, patterns, enums, ranges) are refused with
 * the wording of AWS's generated validation ("1 validation error detected:
 * Value '...' at '...' failed to satisfy constraint: ..."); the rules the
 * model cannot express (expressions, zones, dates, the flexible window)
 * have messages of their own.  A definition is a JSON object holding the
 * schedule's settings with every default filled in, dates as integer
 * milliseconds; it is what the store keeps and what GetSchedule shows.
 */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "scheduler/civil.h"
#include "scheduler/retry.h"
#include "scheduler/scheduler.h"

#define RE_NAME "^[0-9a-zA-Z_.-]+$"
#define RE_ROLE "^arn:aws(-[a-z]+)?:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$"
#define RE_SQS "^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]+$"
#define RE_KMS "^arn:aws(-[a-z]+)?:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[0-9a-zA-Z_-]*$"
#define START_GRACE_MS (5 * 60 * 1000)

/* 1 if s matches the extended regular expression re (0 if not or if re
 * does not compile). */
static int regex_ok(const char *re, const char *s)
{
    regex_t r;
    int ok;

    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

/* "1 validation error detected: Value 'v' at 'field' failed to satisfy
 * constraint: <what>"; v NULL prints null. */
static bool constraint(api_call *call, const char *v, const char *field, const char *what)
{
    if (v)
        api_fail(call, AWS_ERR_VALIDATION,
                 "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                 "constraint: %s",
                 v, field, what);
    else
        api_fail(call, AWS_ERR_VALIDATION,
                 "1 validation error detected: Value null at '%s' failed to satisfy "
                 "constraint: %s",
                 field, what);
    return false;
}

static bool check_len(api_call *call, const char *v, const char *field, size_t min, size_t max)
{
    size_t n = strlen(v);
    char what[96];

    if (n >= min && n <= max)
        return true;
    snprintf(what, sizeof what, "Member must have length %s %zu",
             n < min ? "greater than or equal to" : "less than or equal to", n < min ? min : max);
    return constraint(call, v, field, what);
}

static bool check_re(api_call *call, const char *v, const char *field, const char *re,
                     const char *shown)
{
    char what[256];

    if (regex_ok(re, v))
        return true;
    snprintf(what, sizeof what, "Member must satisfy regular expression pattern: %s", shown);
    return constraint(call, v, field, what);
}

bool scheduler_check_name(api_call *call, const char *value, const char *field)
{
    return check_len(call, value, field, 1, 64) &&
           check_re(call, value, field, RE_NAME, "^[0-9a-zA-Z-_.]+$");
}

/* A required or optional string member; returns 1/0/-1 like param_str and
 * checks its length. */
static int str_member(api_call *call, json_t *obj, const char *name, const char *field,
                      bool required, size_t min, size_t max, const char **out)
{
    int r = param_str(call, obj, name, out, NULL);

    if (r < 0)
        return -1;
    if (r == 0) {
        if (required) {
            constraint(call, NULL, field, "Member must not be null");
            return -1;
        }
        return 0;
    }
    return check_len(call, *out, field, min, max) ? 1 : -1;
}

static int int_member(api_call *call, json_t *obj, const char *name, const char *field,
                      long long min, long long max, long long *out)
{
    int r = param_int(call, obj, name, out);
    char what[96], v[32];

    if (r <= 0)
        return r;
    if (*out < min || *out > max) {
        snprintf(v, sizeof v, "%lld", *out);
        snprintf(what, sizeof what, "Member must have value %s %lld",
                 *out < min ? "greater than or equal to" : "less than or equal to",
                 *out < min ? min : max);
        constraint(call, v, field, what);
        return -1;
    }
    return 1;
}

static bool check_enum(api_call *call, const char *v, const char *field, const char *a,
                       const char *b)
{
    char what[96];

    if (strcmp(v, a) == 0 || strcmp(v, b) == 0)
        return true;
    snprintf(what, sizeof what, "Member must satisfy enum value set: [%s, %s]", a, b);
    return constraint(call, v, field, what);
}

/* A timestamp member: epoch seconds (number) or ISO-8601 text.  Returns
 * 1 with *ms set, 0 if absent, -1 on error. */
static int time_member(api_call *call, json_t *obj, const char *name, int64_t *ms)
{
    json_t *v = json_object_get(obj, name);

    if (!v || json_is_null(v))
        return 0;
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if (!isfinite(d) || d < 0 || d > 253402300799.0) {
            api_fail(call, AWS_ERR_VALIDATION, "Invalid %s.", name);
            return -1;
        }
        *ms = (int64_t)floor(d * 1000.0 + 0.5);
        return 1;
    }
    if (json_is_string(v)) {
        int64_t s;
        int32_t ns;
        if (civil_parse_iso8601(json_string_value(v), &s, &ns) == 0) {
            *ms = s * 1000 + ns / 1000000;
            return 1;
        }
    }
    api_fail(call, AWS_ERR_SERIALIZATION, "Value for %s must be of type timestamp", name);
    return -1;
}

static json_t *target_definition(api_call *call, json_t *in)
{
    json_t *t = json_object(), *obj;
    const char *s;
    long long n;
    int r;

    if (str_member(call, in, "Arn", "target.arn", true, 1, 1600, &s) < 0)
        goto fail;
    json_object_set_new(t, "Arn", json_string(s));
    if (str_member(call, in, "RoleArn", "target.roleArn", true, 1, 1600, &s) < 0 ||
        !check_re(call, s, "target.roleArn", RE_ROLE,
                  "^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$"))
        goto fail;
    json_object_set_new(t, "RoleArn", json_string(s));
    if ((r = str_member(call, in, "Input", "target.input", false, 1, 262144, &s)) < 0)
        goto fail;
    if (r)
        json_object_set_new(t, "Input", json_string(s));

    json_t *retry = json_pack("{s:i,s:i}", "MaximumEventAgeInSeconds",
                              SCHED_RETRY_DEFAULT_AGE_S, "MaximumRetryAttempts",
                              SCHED_RETRY_DEFAULT_ATTEMPTS);
    json_object_set_new(t, "RetryPolicy", retry);
    if ((r = param_object(call, in, "RetryPolicy", &obj)) < 0)
        goto fail;
    if (r) {
        if ((r = int_member(call, obj, "MaximumEventAgeInSeconds",
                            "target.retryPolicy.maximumEventAgeInSeconds", 60, 86400, &n)) < 0)
            goto fail;
        if (r)
            json_object_set_new(retry, "MaximumEventAgeInSeconds", json_integer(n));
        if ((r = int_member(call, obj, "MaximumRetryAttempts",
                            "target.retryPolicy.maximumRetryAttempts", 0, 185, &n)) < 0)
            goto fail;
        if (r)
            json_object_set_new(retry, "MaximumRetryAttempts", json_integer(n));
    }
    if ((r = param_object(call, in, "DeadLetterConfig", &obj)) < 0)
        goto fail;
    if (r) {
        json_t *dl = json_object();
        json_object_set_new(t, "DeadLetterConfig", dl);
        if ((r = str_member(call, obj, "Arn", "target.deadLetterConfig.arn", false, 1, 1600,
                            &s)) < 0)
            goto fail;
        if (r && !check_re(call, s, "target.deadLetterConfig.arn", RE_SQS,
                           "^arn:aws(-[a-z]+)?:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$"))
            goto fail;
        if (r)
            json_object_set_new(dl, "Arn", json_string(s));
    }
    if ((r = param_object(call, in, "SqsParameters", &obj)) < 0)
        goto fail;
    if (r) {
        json_t *sp = json_object();
        json_object_set_new(t, "SqsParameters", sp);
        if ((r = str_member(call, obj, "MessageGroupId", "target.sqsParameters.messageGroupId",
                            false, 1, 128, &s)) < 0)
            goto fail;
        if (r)
            json_object_set_new(sp, "MessageGroupId", json_string(s));
    }
    if ((r = param_object(call, in, "EventBridgeParameters", &obj)) < 0)
        goto fail;
    if (r) {
        const char *dt, *src;
        if (str_member(call, obj, "DetailType", "target.eventBridgeParameters.detailType", true,
                       1, 128, &dt) < 0 ||
            str_member(call, obj, "Source", "target.eventBridgeParameters.source", true, 1, 256,
                       &src) < 0)
            goto fail;
        if (strncmp(src, "aws.", 4) == 0) {
            constraint(call, src, "target.eventBridgeParameters.source",
                       "Member must satisfy regular expression pattern: "
                       "^(?=[/\\.\\-_A-Za-z0-9]+)((?!aws\\.).*)|(\\$(\\.[\\w_-]+"
                       "(\\[(\\d+|\\*)\\])*)*)$");
            goto fail;
        }
        json_object_set_new(t, "EventBridgeParameters",
                            json_pack("{s:s,s:s}", "DetailType", dt, "Source", src));
    }
    static const char *const passthrough[] = {"EcsParameters", "KinesisParameters",
                                              "SageMakerPipelineParameters"};
    for (size_t i = 0; i < sizeof passthrough / sizeof *passthrough; i++) {
        if ((r = param_object(call, in, passthrough[i], &obj)) < 0)
            goto fail;
        if (r)
            json_object_set(t, passthrough[i], obj);
    }
    return t;
fail:
    json_decref(t);
    return NULL;
}

json_t *scheduler_definition(api_call *call, int64_t now_ms, const json_t *prev)
{
    json_t *in = call->input, *def = json_object(), *obj;
    const char *s;
    long long n;
    int r;
    int64_t start = 0, end = 0;
    int has_start, has_end;

    /* ScheduleExpression */
    if (str_member(call, in, "ScheduleExpression", "scheduleExpression", true, 1, 256, &s) < 0)
        goto fail;
    sched_expr e;
    if (sched_expr_parse(s, strlen(s), SCHED_DIALECT_SCHEDULER, &e) != SCHED_EXPR_OK) {
        char msg[400];
        sched_expr_message(SCHED_DIALECT_SCHEDULER, s, strlen(s), msg, sizeof msg);
        api_fail(call, AWS_ERR_VALIDATION, "%s", msg);
        goto fail;
    }
    json_object_set_new(def, "ScheduleExpression", json_string(s));

    /* ScheduleExpressionTimezone */
    if ((r = str_member(call, in, "ScheduleExpressionTimezone", "scheduleExpressionTimezone",
                        false, 1, 50, &s)) < 0)
        goto fail;
    if (r && !sched_tz_get(s, NULL)) {
        api_fail(call, AWS_ERR_VALIDATION, "Invalid Timezone %s.", s);
        goto fail;
    }
    json_object_set_new(def, "ScheduleExpressionTimezone", json_string(r ? s : "UTC"));

    /* StartDate, EndDate */
    if ((has_start = time_member(call, in, "StartDate", &start)) < 0 ||
        (has_end = time_member(call, in, "EndDate", &end)) < 0)
        goto fail;
    json_t *prev_start = prev ? json_object_get(prev, "StartDate") : NULL;
    json_t *prev_end = prev ? json_object_get(prev, "EndDate") : NULL;
    if (prev_start && json_integer_value(prev_start) == start)
        has_start = has_start ? 2 : 0; /* kept as it was: not checked again */
    if (prev_end && json_integer_value(prev_end) == end)
        has_end = has_end ? 2 : 0;
    if (has_start == 1 && start < now_ms - START_GRACE_MS) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "The StartDate you specify cannot be earlier than 5 minutes prior to the "
                 "current time.");
        goto fail;
    }
    if (has_end == 1 && end <= now_ms) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "The EndDate you specify cannot be earlier than the current time.");
        goto fail;
    }
    if (has_start && has_end && start >= end) {
        api_fail(call, AWS_ERR_VALIDATION, "The StartDate must come before the EndDate.");
        goto fail;
    }
    if (has_start)
        json_object_set_new(def, "StartDate", json_integer(start));
    if (has_end)
        json_object_set_new(def, "EndDate", json_integer(end));

    /* FlexibleTimeWindow */
    if ((r = param_object(call, in, "FlexibleTimeWindow", &obj)) < 0)
        goto fail;
    if (r == 0) {
        constraint(call, NULL, "flexibleTimeWindow", "Member must not be null");
        goto fail;
    }
    if (str_member(call, obj, "Mode", "flexibleTimeWindow.mode", true, 1, 64, &s) < 0 ||
        !check_enum(call, s, "flexibleTimeWindow.mode", "OFF", "FLEXIBLE"))
        goto fail;
    bool flexible = strcmp(s, "FLEXIBLE") == 0;
    if ((r = int_member(call, obj, "MaximumWindowInMinutes",
                        "flexibleTimeWindow.maximumWindowInMinutes", 1, 1440, &n)) < 0)
        goto fail;
    if (flexible && r == 0) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.");
        goto fail;
    }
    if (!flexible && r == 1) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "MaximumWindowInMinutes must not be provided when Mode is OFF.");
        goto fail;
    }
    json_t *flex = json_pack("{s:s}", "Mode", flexible ? "FLEXIBLE" : "OFF");
    if (flexible)
        json_object_set_new(flex, "MaximumWindowInMinutes", json_integer(n));
    json_object_set_new(def, "FlexibleTimeWindow", flex);

    /* State, Description, ActionAfterCompletion, KmsKeyArn */
    if ((r = str_member(call, in, "State", "state", false, 0, 64, &s)) < 0 ||
        (r && !check_enum(call, s, "state", "ENABLED", "DISABLED")))
        goto fail;
    json_object_set_new(def, "State", json_string(r ? s : "ENABLED"));
    if ((r = str_member(call, in, "Description", "description", false, 0, 512, &s)) < 0)
        goto fail;
    if (r)
        json_object_set_new(def, "Description", json_string(s));
    if ((r = str_member(call, in, "ActionAfterCompletion", "actionAfterCompletion", false, 0,
                        64, &s)) < 0 ||
        (r && !check_enum(call, s, "actionAfterCompletion", "NONE", "DELETE")))
        goto fail;
    json_object_set_new(def, "ActionAfterCompletion", json_string(r ? s : "NONE"));
    if ((r = str_member(call, in, "KmsKeyArn", "kmsKeyArn", false, 1, 2048, &s)) < 0 ||
        (r && !check_re(call, s, "kmsKeyArn", RE_KMS,
                        "^arn:aws(-[a-z]+)?:kms:[a-z0-9\\-]+:\\d{12}:(key|alias)\\/"
                        "[0-9a-zA-Z-_]*$")))
        goto fail;
    if (r)
        json_object_set_new(def, "KmsKeyArn", json_string(s));

    /* Target */
    if ((r = param_object(call, in, "Target", &obj)) < 0)
        goto fail;
    if (r == 0) {
        constraint(call, NULL, "target", "Member must not be null");
        goto fail;
    }
    json_t *target = target_definition(call, obj);
    if (!target)
        goto fail;
    json_object_set_new(def, "Target", target);
    return def;
fail:
    json_decref(def);
    return NULL;
}

json_t *scheduler_timestamp(int64_t ms)
{
    if (ms % 1000 == 0)
        return json_integer(ms / 1000);
    return json_real((double)ms / 1000.0);
}

json_t *scheduler_schedule_output(const scheduler_schedule *s)
{
    json_t *out = json_deep_copy(s->def);
    json_t *v;

    if ((v = json_object_get(out, "StartDate")))
        json_object_set_new(out, "StartDate", scheduler_timestamp(json_integer_value(v)));
    if ((v = json_object_get(out, "EndDate")))
        json_object_set_new(out, "EndDate", scheduler_timestamp(json_integer_value(v)));
    json_object_set_new(out, "Arn", json_string(s->arn));
    json_object_set_new(out, "Name", json_string(s->name));
    json_object_set_new(out, "GroupName", json_string(s->group));
    json_object_set_new(out, "CreationDate", scheduler_timestamp(s->created_ms));
    json_object_set_new(out, "LastModificationDate", scheduler_timestamp(s->modified_ms));
    return out;
}
