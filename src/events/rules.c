/*
 * rules.c - rules, their targets, and TestEventPattern.
 *
 * A rule's targets are kept as the Target objects the caller gave (after
 * validation), so ListTargetsByRule returns exactly what was put and the
 * delivery code reads the same shape.  Lists are ordered by name and paged
 * with an opaque token naming the last item returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "events/events.h"
#include "events/transform.h"

/* --- shared helpers ----------------------------------------------------------- */

void events_token_encode(const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    char *tmp = xmalloc(base64_encoded_len(n) + 1);

    base64url_encode((const uint8_t *)name, n, tmp);
    snprintf(out, outlen, "%s", tmp);
    free(tmp);
}

bool events_token_decode(const char *token, char *out, size_t outlen)
{
    size_t n = strlen(token);
    uint8_t *tmp = xmalloc(n * 3 / 4 + 4);
    long len = base64url_decode(token, n, tmp);
    bool ok = len > 0 && (size_t)len < outlen;

    if (ok) {
        memcpy(out, tmp, (size_t)len);
        out[len] = '\0';
    }
    free(tmp);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **events_sorted_keys(const map_str *m, size_t *n)
{
    const char **keys = xcalloc(m->count + 1, sizeof *keys);
    size_t k = 0;

    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            keys[k++] = m->keys[i];
    qsort(keys, k, sizeof *keys, cmp_str);
    *n = k;
    return keys;
}

static api_status fail_null(api_call *call, const char *field)
{
    return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                    "1 validation error detected: Value null at '%s' failed to satisfy "
                    "constraint: Member must not be null",
                    field);
}

/* The bus named by EventBusName (or the default); NULL with the error set. */
static events_bus *call_bus(api_call *call)
{
    const char *name = NULL;

    if (param_str(call, call->input, "EventBusName", &name, NULL) < 0)
        return NULL;
    events_bus *b;
    switch (events_bus_access(events_of(call), call, name, &b)) {
    case EVENTS_BUS_OK:
        return b;
    case EVENTS_BUS_DENIED:
        events_fail_denied(call, b ? b->arn : name);
        return NULL;
    case EVENTS_BUS_MISSING:
        break;
    }
    const char *shown = name;
    if (shown && strstr(shown, ":event-bus/"))
        shown = strstr(shown, ":event-bus/") + 11;
    api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.", shown);
    return NULL;
}

/* The rule named by `field` on the call's bus; NULL with the error set. */
static events_rule *call_rule(api_call *call, const char *field, events_bus **bus_out)
{
    const char *name = NULL;
    events_bus *b = call_bus(call);

    if (!b)
        return NULL;
    if (param_str(call, call->input, field, &name, NULL) < 0)
        return NULL;
    if (!name) {
        fail_null(call, field[0] == 'N' ? "name" : "rule");
        return NULL;
    }
    if (bus_out)
        *bus_out = b;
    events_rule *r = map_str_get(&b->rules, name);
    if (!r)
        api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Rule %s does not exist on EventBus %s.",
                 name, b->name);
    return r;
}

static json_t *rule_json(const events_rule *r, bool describe)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "Name", r->name, "Arn", r->arn, "State",
                          r->enabled ? "ENABLED" : "DISABLED", "EventBusName", r->bus->name);
    if (r->pattern)
        json_object_set_new(o, "EventPattern", json_string(r->pattern));
    if (r->schedule)
        json_object_set_new(o, "ScheduleExpression", json_string(r->schedule));
    if (r->description)
        json_object_set_new(o, "Description", json_string(r->description));
    if (r->role_arn)
        json_object_set_new(o, "RoleArn", json_string(r->role_arn));
    if (describe)
        json_object_set_new(o, "CreatedBy", json_string(r->bus->account));
    return o;
}

/* --- PutRule ---------------------------------------------------------------------- */

api_status events_put_rule(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL, *pattern = NULL, *schedule = NULL, *state = NULL, *desc = NULL,
               *role = NULL;
    json_t *tags = NULL;
    sched_expr sched;
    char err[MATCH_ERR_MAX];

    if (param_str(call, call->input, "Name", &name, NULL) < 0 ||
        param_str(call, call->input, "EventPattern", &pattern, NULL) < 0 ||
        param_str(call, call->input, "ScheduleExpression", &schedule, NULL) < 0 ||
        param_str(call, call->input, "State", &state, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_str(call, call->input, "RoleArn", &role, NULL) < 0 ||
        param_list(call, call->input, "Tags", &tags) < 0)
        return API_DONE;
    if (!name)
        return fail_null(call, "name");
    if (events_name_invalid(call, name, "name", 64))
        return API_DONE;
    if (state && strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0 &&
        strcmp(state, "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") != 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value '%s' at 'state' failed to satisfy "
                        "constraint: Member must satisfy enum value set: [ENABLED, DISABLED, "
                        "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
                        state);
    if (desc && strlen(desc) > 512)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value at 'description' failed to "
                        "satisfy constraint: Member must have length less than or equal to "
                        "512");
    if (pattern && strlen(pattern) > 4096)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value at 'eventPattern' failed to "
                        "satisfy constraint: Member must have length less than or equal to "
                        "4096");
    if (schedule && strlen(schedule) > 256)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value at 'scheduleExpression' failed to "
                        "satisfy constraint: Member must have length less than or equal to 256");
    events_bus *b = call_bus(call);
    if (!b)
        return API_DONE;
    if (pattern && !*pattern)
        pattern = NULL;
    if (schedule && !*schedule)
        schedule = NULL;
    if (!pattern && !schedule)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameter(s) EventPattern or ScheduleExpression must be specified.");
    if (pattern) {
        match_pattern *p = match_compile(pattern, strlen(pattern), MATCH_EVENTBRIDGE, err,
                                         sizeof err);
        if (!p)
            return api_fail(call, AWS_ERR_EVENTS_INVALID_PATTERN,
                            "Event pattern is not valid. Reason: %s", err);
        match_free(p);
    }
    if (schedule) {
        if (strcmp(b->name, "default") != 0)
            return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                            "ScheduleExpression is supported only on the default event bus.");
        if (sched_expr_parse(schedule, strlen(schedule), SCHED_DIALECT_RULE, &sched) !=
            SCHED_EXPR_OK) {
            sched_expr_message(SCHED_DIALECT_RULE, schedule, strlen(schedule), err, sizeof err);
            return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "%s", err);
        }
    }
    json_t *tagobj = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !v) {
            json_decref(tagobj);
            return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Tags are not valid.");
        }
        json_object_set_new(tagobj, k, json_string(v));
    }

    events_rule *r = map_str_get(&b->rules, name);
    if (!r && b->rules.count >= svc->limits->max_rules_per_bus) {
        json_decref(tagobj);
        return api_fail(call, AWS_ERR_EVENTS_LIMIT_EXCEEDED,
                        "The requested resource exceeds the maximum number allowed: event bus "
                        "%s already has %zu rules.", b->name, svc->limits->max_rules_per_bus);
    }
    /* "If you are updating an existing rule, any tags you specify in the
     * PutRule operation are ignored." (PutRule) */
    if (!r) {
        r = events_rule_new(svc, b, store_next_resource_id(svc->store), name);
        json_object_update(r->tags, tagobj);
    }
    json_decref(tagobj);
    free(r->pattern);
    free(r->schedule);
    free(r->description);
    free(r->role_arn);
    r->pattern = pattern ? xstrdup(pattern) : NULL;
    r->schedule = schedule ? xstrdup(schedule) : NULL;
    if (schedule)
        r->sched = sched;
    r->description = desc ? xstrdup(desc) : NULL;
    r->role_arn = role ? xstrdup(role) : NULL;
    r->enabled = !state || strcmp(state, "DISABLED") != 0;
    events_rule_index(r);
    events_rule_arm(svc, r);

    store_batch *batch = store_batch_new();
    events_rule_store(batch, r);
    json_object_set_new(api_out(call), "RuleArn", json_string(r->arn));
    return events_commit_and_finish(svc, call, batch);
}

api_status events_delete_rule(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL;
    events_bus *b = call_bus(call);

    if (!b || param_str(call, call->input, "Name", &name, NULL) < 0)
        return API_DONE;
    if (!name)
        return fail_null(call, "name");
    events_rule *r = map_str_get(&b->rules, name);
    api_out(call);
    if (!r)
        return API_DONE;
    if (json_array_size(r->targets) > 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Rule can't be deleted since it has targets.");
    store_batch *batch = store_batch_new();
    store_delete_resource(batch, r->id);
    match_set_remove(b->set, r->id);
    map_str_del(&b->rules, name);
    map_u64_del(&b->rules_by_id, r->id);
    events_rule_free(r);
    return events_commit_and_finish(svc, call, batch);
}

api_status events_describe_rule(api_call *call)
{
    events_rule *r = call_rule(call, "Name", NULL);

    if (!r)
        return API_DONE;
    json_decref(call->output);
    call->output = rule_json(r, true);
    return API_DONE;
}

/* Reads Limit and NextToken; -1 with the error set. */
static int paging(api_call *call, long long *limit, char *after, size_t afterlen)
{
    const char *token = NULL;

    *limit = 100;
    *after = '\0';
    if (param_int(call, call->input, "Limit", limit) < 0 ||
        param_str(call, call->input, "NextToken", &token, NULL) < 0)
        return -1;
    if (*limit < 1 || *limit > 100) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "1 validation error detected: Value '%lld' at 'limit' failed to satisfy "
                 "constraint: Member must have value between 1 and 100",
                 *limit);
        return -1;
    }
    if (token && !events_token_decode(token, after, afterlen)) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION, "The NextToken provided is not valid.");
        return -1;
    }
    return 0;
}

static void set_next_token(api_call *call, bool more, const char *last)
{
    if (more && last) {
        char tok[700];
        events_token_encode(last, tok, sizeof tok);
        json_object_set_new(api_out(call), "NextToken", json_string(tok));
    }
}

api_status events_list_rules(api_call *call)
{
    const char *prefix = NULL;
    long long limit;
    char after[300];
    events_bus *b = call_bus(call);

    if (!b || param_str(call, call->input, "NamePrefix", &prefix, NULL) < 0 ||
        paging(call, &limit, after, sizeof after) < 0)
        return API_DONE;
    size_t n, plen = prefix ? strlen(prefix) : 0;
    const char **keys = events_sorted_keys(&b->rules, &n);
    json_t *list = json_array();
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        if (prefix && strncmp(keys[i], prefix, plen) != 0)
            continue;
        if (*after && strcmp(keys[i], after) <= 0)
            continue;
        if ((long long)json_array_size(list) == limit) {
            more = true;
            break;
        }
        json_array_append_new(list, rule_json(map_str_get(&b->rules, keys[i]), false));
        last = keys[i];
    }
    json_object_set_new(api_out(call), "Rules", list);
    set_next_token(call, more, last);
    free(keys);
    return API_DONE;
}

static api_status set_enabled(api_call *call, bool enabled)
{
    events_service *svc = events_of(call);
    events_rule *r = call_rule(call, "Name", NULL);

    if (!r)
        return API_DONE;
    r->enabled = enabled;
    events_rule_index(r);
    events_rule_arm(svc, r);
    store_batch *batch = store_batch_new();
    events_rule_store(batch, r);
    api_out(call);
    return events_commit_and_finish(svc, call, batch);
}

api_status events_enable_rule(api_call *call)
{
    return set_enabled(call, true);
}

api_status events_disable_rule(api_call *call)
{
    return set_enabled(call, false);
}

api_status events_list_rule_names_by_target(api_call *call)
{
    const char *arn = NULL;
    long long limit;
    char after[300];
    events_bus *b = call_bus(call);

    if (!b || param_str(call, call->input, "TargetArn", &arn, NULL) < 0 ||
        paging(call, &limit, after, sizeof after) < 0)
        return API_DONE;
    if (!arn)
        return fail_null(call, "targetArn");
    size_t n;
    const char **keys = events_sorted_keys(&b->rules, &n);
    json_t *list = json_array();
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        events_rule *r = map_str_get(&b->rules, keys[i]);
        bool hit = false;
        size_t j;
        json_t *t;
        if (*after && strcmp(keys[i], after) <= 0)
            continue;
        json_array_foreach(r->targets, j, t) {
            const char *ta = json_string_value(json_object_get(t, "Arn"));
            if (ta && strcmp(ta, arn) == 0)
                hit = true;
        }
        if (!hit)
            continue;
        if ((long long)json_array_size(list) == limit) {
            more = true;
            break;
        }
        json_array_append_new(list, json_string(keys[i]));
        last = keys[i];
    }
    json_object_set_new(api_out(call), "RuleNames", list);
    set_next_token(call, more, last);
    free(keys);
    return API_DONE;
}

/* --- targets --------------------------------------------------------------------- */

/* True if arn has the six ARN parts with a service and a resource. */
static bool arn_shaped(const char *arn)
{
    int colons = 0;
    const char *p;

    if (strncmp(arn, "arn:", 4) != 0)
        return false;
    for (p = arn; *p && colons < 5; p++)
        if (*p == ':')
            colons++;
    return colons == 5 && *p && strncmp(arn, "arn::", 5) != 0 && strncmp(arn + 4, "aws", 3) == 0 &&
           strchr(arn + 4, ':')[1] != ':';
}

/* Validates one target; returns 0, or -1 with the call's error set. */
static int validate_target(api_call *call, json_t *t, size_t pos)
{
    events_service *svc = events_of(call);
    const char *id = json_string_value(json_object_get(t, "Id"));
    const char *arn = json_string_value(json_object_get(t, "Arn"));
    json_t *input = json_object_get(t, "Input");
    json_t *input_path = json_object_get(t, "InputPath");
    json_t *tr = json_object_get(t, "InputTransformer");
    json_t *retry = json_object_get(t, "RetryPolicy");
    json_t *dlc = json_object_get(t, "DeadLetterConfig");
    char err[600], field[64];

    if (!json_is_object(t)) {
        api_fail(call, AWS_ERR_SERIALIZATION, "Value for Targets must be of type structure");
        return -1;
    }
    /* AWS names the member by its 1-based position: 'targets.1.member.id'. */
    snprintf(field, sizeof field, "targets.%zu.member.id", pos);
    if (!id) {
        fail_null(call, field);
        return -1;
    }
    if (events_name_invalid(call, id, field, 64))
        return -1;
    if (!arn) {
        snprintf(field, sizeof field, "targets.%zu.member.arn", pos);
        fail_null(call, field);
        return -1;
    }
    if ((input != NULL) + (input_path != NULL) + (tr != NULL) > 1) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "Only one of Input, InputPath, or InputTransformer must be provided for "
                 "target %s.",
                 id);
        return -1;
    }
    if (strlen(arn) > 1600 || (json_is_string(input) && json_string_length(input) > 8192)) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "1 validation error detected: Value at 'targets.%zu.member.%s' failed to "
                 "satisfy constraint: Member must have length less than or equal to %d",
                 pos, strlen(arn) > 1600 ? "arn" : "input", strlen(arn) > 1600 ? 1600 : 8192);
        return -1;
    }
    if (input) {
        json_t *parsed = json_is_string(input)
                             ? json_loads(json_string_value(input), JSON_DECODE_ANY, NULL)
                             : NULL;
        if (!parsed) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                     "Input for target %s must be a valid JSON text.", id);
            return -1;
        }
        json_decref(parsed);
    }
    if (input_path && (!json_is_string(input_path) ||
                       !events_jsonpath_valid(json_string_value(input_path)))) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION, "InputPath for target %s is not valid.", id);
        return -1;
    }
    if (tr && events_transformer_validate(tr, id, err, sizeof err) < 0) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION, "%s", err);
        return -1;
    }
    if (retry) {
        json_t *a = json_object_get(retry, "MaximumRetryAttempts");
        json_t *age = json_object_get(retry, "MaximumEventAgeInSeconds");
        if ((a && (!json_is_integer(a) || json_integer_value(a) < 0 ||
                   json_integer_value(a) > 185)) ||
            (age && (!json_is_integer(age) || json_integer_value(age) < 60 ||
                     json_integer_value(age) > 86400))) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                     "RetryPolicy for target %s is not valid.", id);
            return -1;
        }
    }
    if (dlc) {
        const char *d = json_string_value(json_object_get(dlc, "Arn"));
        if (!d || strncmp(d, "arn:aws:sqs:", 12) != 0) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                     "DeadLetterConfig for target %s must be the ARN of an SQS queue.", id);
            return -1;
        }
    }
    if (strncmp(arn, "arn:aws:sqs:", 12) == 0) {
        sqs_queue *q = sqs_queue_find_arn(svc->sqs, arn);
        const char *group = json_string_value(
            json_object_get(json_object_get(t, "SqsParameters"), "MessageGroupId"));
        bool fifo = strlen(arn) > 5 && strcmp(arn + strlen(arn) - 5, ".fifo") == 0;
        if ((fifo || (q && q->fifo)) && !group) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                     "Parameter(s) SqsParameters must be specified for target: %s.", id);
            return -1;
        }
    }
    return 0;
}

static json_t *find_target(json_t *targets, const char *id, size_t *index)
{
    size_t i;
    json_t *t;

    json_array_foreach(targets, i, t) {
        const char *tid = json_string_value(json_object_get(t, "Id"));
        if (tid && strcmp(tid, id) == 0) {
            if (index)
                *index = i;
            return t;
        }
    }
    return NULL;
}

api_status events_put_targets(api_call *call)
{
    events_service *svc = events_of(call);
    json_t *targets = NULL;
    size_t i;
    json_t *t;

    if (param_list(call, call->input, "Targets", &targets) < 0)
        return API_DONE;
    events_rule *r = call_rule(call, "Rule", NULL);
    if (!r)
        return API_DONE;
    if (!targets)
        return fail_null(call, "targets");
    if (json_array_size(targets) < 1 || json_array_size(targets) > 10)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value at 'targets' failed to satisfy "
                        "constraint: Member must have length %s",
                        json_array_size(targets) < 1 ? "greater than or equal to 1"
                                                     : "less than or equal to 10");
    json_array_foreach(targets, i, t)
        if (validate_target(call, t, i + 1) < 0)
            return API_DONE;

    json_t *failed = json_array();
    /* Count distinct new ids: a repeated id in one call is one target. */
    json_t *seen = json_object();
    size_t added = 0;
    json_array_foreach(targets, i, t) {
        const char *id = json_string_value(json_object_get(t, "Id"));
        if (!find_target(r->targets, id, NULL) && !json_object_get(seen, id))
            added++;
        json_object_set_new(seen, id, json_true());
    }
    json_decref(seen);
    if (json_array_size(r->targets) + added > EVENTS_MAX_TARGETS) {
        json_decref(failed);
        return api_fail(call, AWS_ERR_EVENTS_LIMIT_EXCEEDED,
                        "The requested resource exceeds the maximum number allowed.");
    }
    json_array_foreach(targets, i, t) {
        const char *id = json_string_value(json_object_get(t, "Id"));
        const char *arn = json_string_value(json_object_get(t, "Arn"));
        size_t at;
        if (!arn_shaped(arn)) {
            json_array_append_new(failed, json_pack("{s:s,s:s,s:s}", "TargetId", id,
                                                    "ErrorCode", "ValidationException",
                                                    "ErrorMessage",
                                                    "Provided Arn is not in correct format."));
            continue;
        }
        if (find_target(r->targets, id, &at))
            json_array_set(r->targets, at, t);
        else
            json_array_append(r->targets, t);
    }
    store_batch *batch = store_batch_new();
    events_rule_store(batch, r);
    json_object_set_new(api_out(call), "FailedEntryCount",
                        json_integer((json_int_t)json_array_size(failed)));
    json_object_set_new(api_out(call), "FailedEntries", failed);
    return events_commit_and_finish(svc, call, batch);
}

api_status events_remove_targets(api_call *call)
{
    events_service *svc = events_of(call);
    json_t *ids = NULL;
    size_t i, at;
    json_t *id;

    if (param_str_list(call, call->input, "Ids", &ids) < 0)
        return API_DONE;
    events_rule *r = call_rule(call, "Rule", NULL);
    if (!r)
        return API_DONE;
    if (!ids)
        return fail_null(call, "ids");
    if (json_array_size(ids) < 1 || json_array_size(ids) > 100)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value at 'ids' failed to satisfy "
                        "constraint: Member must have length between 1 and 100");
    json_array_foreach(ids, i, id)
        if (find_target(r->targets, json_string_value(id), &at))
            json_array_remove(r->targets, at);
    store_batch *batch = store_batch_new();
    events_rule_store(batch, r);
    json_object_set_new(api_out(call), "FailedEntryCount", json_integer(0));
    json_object_set_new(api_out(call), "FailedEntries", json_array());
    return events_commit_and_finish(svc, call, batch);
}

api_status events_list_targets_by_rule(api_call *call)
{
    long long limit;
    char after[300];
    events_rule *r = call_rule(call, "Rule", NULL);

    if (!r || paging(call, &limit, after, sizeof after) < 0)
        return API_DONE;
    json_t *list = json_array();
    size_t i, start = 0;
    json_t *t;
    if (*after) {
        size_t at;
        if (find_target(r->targets, after, &at))
            start = at + 1;
    }
    const char *last = NULL;
    bool more = false;
    json_array_foreach(r->targets, i, t) {
        if (i < start)
            continue;
        if ((long long)json_array_size(list) == limit) {
            more = true;
            break;
        }
        json_array_append(list, t);
        last = json_string_value(json_object_get(t, "Id"));
    }
    json_object_set_new(api_out(call), "Targets", list);
    set_next_token(call, more, last);
    return API_DONE;
}

/* --- TestEventPattern ---------------------------------------------------------------- */

api_status events_test_event_pattern(api_call *call)
{
    const char *pattern = NULL, *event = NULL;
    size_t plen = 0, elen = 0;
    char err[MATCH_ERR_MAX];
    static const char *const required[] = {"id", "account", "source", "time", "region",
                                           "detail-type", NULL};

    if (param_str(call, call->input, "EventPattern", &pattern, &plen) < 0 ||
        param_str(call, call->input, "Event", &event, &elen) < 0)
        return API_DONE;
    if (!pattern)
        return fail_null(call, "eventPattern");
    if (!event)
        return fail_null(call, "event");
    match_pattern *p = match_compile(pattern, plen, MATCH_EVENTBRIDGE, err, sizeof err);
    if (!p)
        return api_fail(call, AWS_ERR_EVENTS_INVALID_PATTERN,
                        "Event pattern is not valid. Reason: %s", err);
    json_t *ev = json_loadb(event, elen, 0, NULL);
    bool ok = json_is_object(ev);
    for (int i = 0; ok && required[i]; i++)
        if (!json_object_get(ev, required[i]))
            ok = false;
    json_decref(ev);
    if (!ok) {
        match_free(p);
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter Event is not valid.");
    }
    bool hit = match_event(p, event, elen);
    match_free(p);
    json_object_set_new(api_out(call), "Result", json_boolean(hit));
    return API_DONE;
}
