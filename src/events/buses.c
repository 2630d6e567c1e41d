/*
 * buses.c - the event bus actions and tagging of buses and rules.
 *
 * The default bus of an account exists without being created; it is only
 * written to the store once something about it (tags) must be remembered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/policy.h"
#include "events/events.h"

static bool name_ok(const char *s, size_t max, bool slash)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || (slash && c == '/')))
            return false;
    }
    return true;
}

/* Reads a Tags list ([{Key, Value}]) into obj; -1 with the error set. */
static int read_tags(api_call *call, json_t *list, json_t *obj)
{
    size_t i;
    json_t *t;

    json_array_foreach(list, i, t) {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !v || !*k || strlen(k) > 128 || strlen(v) > 256) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Tags are not valid.");
            return -1;
        }
        json_object_set_new(obj, k, json_string(v));
    }
    return 0;
}

static json_t *tag_list(json_t *tags)
{
    json_t *out = json_array();
    const char *k;
    json_t *v;

    json_object_foreach(tags, k, v)
        json_array_append_new(out, json_pack("{s:s,s:O}", "Key", k, "Value", v));
    return out;
}

api_status events_create_event_bus(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL, *desc = NULL;
    json_t *tags = NULL;

    if (param_str(call, call->input, "Name", &name, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_list(call, call->input, "Tags", &tags) < 0)
        return API_DONE;
    if (!name)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value null at 'name' failed to satisfy "
                        "constraint: Member must not be null");
    if (!name_ok(name, 256, true))
        return events_fail_pattern(call, name, "name", "[/\\.\\-_A-Za-z0-9]+");
    if (strchr(name, '/'))
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Event bus name must not contain '/' unless it is a partner event "
                        "bus.");
    if (events_bus_find(svc, call->account, name) || strcmp(name, "default") == 0)
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_EXISTS, "Event bus %s already exists.",
                        name);
    if (account_counts_get(&svc->bus_counts, call->account) >= svc->limits->max_event_buses)
        return api_fail(call, AWS_ERR_EVENTS_LIMIT_EXCEEDED,
                        "The requested resource exceeds the maximum number allowed: the account "
                        "already has %zu event buses besides default.",
                        svc->limits->max_event_buses);
    json_t *tagobj = json_object();
    if (tags && read_tags(call, tags, tagobj) < 0) {
        json_decref(tagobj);
        return API_DONE;
    }
    events_bus *b = events_bus_new(svc, store_next_resource_id(svc->store), call->account, name);
    json_object_update(b->tags, tagobj);
    json_decref(tagobj);
    b->description = desc ? xstrdup(desc) : NULL;
    store_batch *batch = store_batch_new();
    events_bus_store(batch, b);
    json_object_set_new(api_out(call), "EventBusArn", json_string(b->arn));
    if (desc)
        json_object_set_new(api_out(call), "Description", json_string(desc));
    return events_commit_and_finish(svc, call, batch);
}

api_status events_delete_event_bus(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL;
    char key[512];

    if (param_str(call, call->input, "Name", &name, NULL) < 0)
        return API_DONE;
    if (!name)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value null at 'name' failed to satisfy "
                        "constraint: Member must not be null");
    if (strcmp(name, "default") == 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Cannot delete event bus default.");
    events_bus *b = events_bus_for_call(svc, call, name);
    api_out(call);
    if (!b)
        return API_DONE;
    /* AWS refuses while rules remain ("All rules associated with this event
     * bus need to be deleted."), and deletes nothing. */
    if (b->rules.count > 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "EventBus can't be deleted since it has rules.");
    store_batch *batch = store_batch_new();
    store_delete_resource(batch, b->id);
    snprintf(key, sizeof key, "%s/%s", b->account, b->name);
    map_str_del(&svc->buses, key);
    account_counts_add(&svc->bus_counts, b->account, -1);
    events_bus_free(b);
    return events_commit_and_finish(svc, call, batch);
}

static json_t *bus_json(const events_bus *b)
{
    json_t *o = json_pack("{s:s,s:s}", "Name", b->name, "Arn", b->arn);
    if (b->description)
        json_object_set_new(o, "Description", json_string(b->description));
    if (b->policy)
        json_object_set_new(o, "Policy", json_string(b->policy));
    json_object_set_new(o, "CreationTime", json_real((double)b->created_ms / 1000.0));
    json_object_set_new(o, "LastModifiedTime", json_real((double)b->created_ms / 1000.0));
    return o;
}

api_status events_describe_event_bus(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL;

    if (param_str(call, call->input, "Name", &name, NULL) < 0)
        return API_DONE;
    events_bus *b;
    switch (events_bus_access(svc, call, name, &b)) {
    case EVENTS_BUS_MISSING:
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.",
                        name);
    case EVENTS_BUS_DENIED:
        return events_fail_denied(call, b ? b->arn : name);
    case EVENTS_BUS_OK:
        break;
    }
    json_decref(call->output);
    call->output = bus_json(b);
    return API_DONE;
}

api_status events_list_event_buses(api_call *call)
{
    events_service *svc = events_of(call);
    const char *prefix = NULL, *token = NULL;
    long long limit = 100;
    char after[300] = "";
    size_t n, prefix_len, acct_len = strlen(call->account);

    if (param_str(call, call->input, "NamePrefix", &prefix, NULL) < 0 ||
        param_str(call, call->input, "NextToken", &token, NULL) < 0 ||
        param_int(call, call->input, "Limit", &limit) < 0)
        return API_DONE;
    if (limit < 1 || limit > 100)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter Limit is not valid.");
    if (token && !events_token_decode(token, after, sizeof after))
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "The NextToken is not valid.");
    events_bus_find(svc, call->account, "default");
    prefix_len = prefix ? strlen(prefix) : 0;
    const char **keys = events_sorted_keys(&svc->buses, &n);
    json_t *list = json_array();
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(keys[i], call->account, acct_len) != 0 || keys[i][acct_len] != '/')
            continue;
        const char *name = keys[i] + acct_len + 1;
        if (prefix && strncmp(name, prefix, prefix_len) != 0)
            continue;
        if (*after && strcmp(name, after) <= 0)
            continue;
        if ((long long)json_array_size(list) == limit) {
            more = true;
            break;
        }
        json_array_append_new(list, bus_json(map_str_get(&svc->buses, keys[i])));
        last = name;
    }
    json_object_set_new(api_out(call), "EventBuses", list);
    if (more && last) {
        char tok[700];
        events_token_encode(last, tok, sizeof tok);
        json_object_set_new(api_out(call), "NextToken", json_string(tok));
    }
    free(keys);
    return API_DONE;
}

/* The tags object of the resource an ARN names, and how to store it. */
typedef struct tag_target {
    json_t *tags;
    events_rule *rule;
    events_bus *bus;
} tag_target;

static int find_tag_target(api_call *call, tag_target *t)
{
    events_service *svc = events_of(call);
    const char *arn = NULL;

    memset(t, 0, sizeof *t);
    if (param_str(call, call->input, "ResourceARN", &arn, NULL) < 0)
        return -1;
    if (!arn) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "1 validation error detected: Value null at 'resourceARN' failed to satisfy "
                 "constraint: Member must not be null");
        return -1;
    }
    if (strstr(arn, ":rule/")) {
        char acct[32];
        /* another account's rules are not tagged from here */
        if (policy_arn_account(arn, acct, sizeof acct) && strcmp(acct, call->account) != 0) {
            events_fail_denied(call, arn);
            return -1;
        }
        t->rule = events_rule_by_arn(svc, arn);
        if (!t->rule) {
            const char *p = strstr(arn, ":rule/") + 6;
            const char *slash = strrchr(p, '/');
            api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND,
                     "Rule %s does not exist on EventBus %.*s.", slash ? slash + 1 : p,
                     slash ? (int)(slash - p) : 7, slash ? p : "default");
            return -1;
        }
        t->tags = t->rule->tags;
        return 0;
    }
    if (strstr(arn, ":event-bus/")) {
        switch (events_bus_access(svc, call, arn, &t->bus)) {
        case EVENTS_BUS_MISSING:
            api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.",
                     strstr(arn, ":event-bus/") + 11);
            return -1;
        case EVENTS_BUS_DENIED:
            events_fail_denied(call, arn);
            return -1;
        case EVENTS_BUS_OK:
            break;
        }
        t->tags = t->bus->tags;
        return 0;
    }
    api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter ResourceARN is not valid.");
    return -1;
}

static api_status store_tag_target(api_call *call, tag_target *t)
{
    store_batch *batch = store_batch_new();

    if (t->rule)
        events_rule_store(batch, t->rule);
    else
        events_bus_store(batch, t->bus);
    api_out(call);
    return events_commit_and_finish(events_of(call), call, batch);
}

api_status events_tag_resource(api_call *call)
{
    tag_target t;
    json_t *tags = NULL;

    if (find_tag_target(call, &t) < 0 || param_list(call, call->input, "Tags", &tags) < 0)
        return API_DONE;
    if (!tags)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value null at 'tags' failed to satisfy "
                        "constraint: Member must not be null");
    json_t *add = json_object();
    if (read_tags(call, tags, add) < 0) {
        json_decref(add);
        return API_DONE;
    }
    json_object_update(t.tags, add);
    json_decref(add);
    return store_tag_target(call, &t);
}

api_status events_untag_resource(api_call *call)
{
    tag_target t;
    json_t *keys = NULL;
    size_t i;
    json_t *k;

    if (find_tag_target(call, &t) < 0 || param_str_list(call, call->input, "TagKeys", &keys) < 0)
        return API_DONE;
    json_array_foreach(keys, i, k)
        json_object_del(t.tags, json_string_value(k));
    return store_tag_target(call, &t);
}

api_status events_list_tags_for_resource(api_call *call)
{
    tag_target t;

    if (find_tag_target(call, &t) < 0)
        return API_DONE;
    json_object_set_new(api_out(call), "Tags", tag_list(t.tags));
    return API_DONE;
}

/* --- bus policies ----------------------------------------------------------------- */

#define BUS_POLICY_MAX 10240

/* The bus named by EventBusName (the caller's own, or the default); NULL
 * with the error set. */
static events_bus *permission_bus(api_call *call)
{
    const char *name = NULL;
    events_bus *b;

    if (param_str(call, call->input, "EventBusName", &name, NULL) < 0)
        return NULL;
    switch (events_bus_access(events_of(call), call, name, &b)) {
    case EVENTS_BUS_MISSING:
        api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.", name);
        return NULL;
    case EVENTS_BUS_DENIED:
        events_fail_denied(call, b ? b->arn : name);
        return NULL;
    case EVENTS_BUS_OK:
        break;
    }
    return b;
}

/* Replaces the bus's policy with doc's text (NULL doc: no policy), durably. */
static api_status store_policy(api_call *call, events_bus *b, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

    if (text && strlen(text) > BUS_POLICY_MAX) {
        free(text);
        return api_fail(call, AWS_ERR_EVENTS_POLICY_LENGTH_EXCEEDED,
                        "The policy of the event bus would exceed %d bytes.", BUS_POLICY_MAX);
    }
    free(b->policy);
    b->policy = text;
    store_batch *batch = store_batch_new();
    events_bus_store(batch, b);
    api_out(call);
    return events_commit_and_finish(events_of(call), call, batch);
}

static bool statement_id_ok(const char *sid)
{
    return name_ok(sid, 64, false) && !strchr(sid, '.');
}

/* The statement a PutPermission without Policy describes; NULL with the
 * error set. */
static json_t *permission_statement(api_call *call, const events_bus *b)
{
    const char *action = NULL, *principal = NULL, *sid = NULL;
    json_t *cond = NULL;

    if (param_str(call, call->input, "Action", &action, NULL) < 0 ||
        param_str(call, call->input, "Principal", &principal, NULL) < 0 ||
        param_str(call, call->input, "StatementId", &sid, NULL) < 0)
        return NULL;
    cond = json_object_get(call->input, "Condition");
    if (!action || !principal || !sid) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "Parameters Action, Principal and StatementId are required unless Policy is "
                 "given.");
        return NULL;
    }
    if (strcmp(action, "events:PutEvents") != 0) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "Provided value in parameter 'action' is not supported.");
        return NULL;
    }
    size_t n = strlen(principal);
    bool digits = n == 12;
    for (size_t i = 0; digits && i < n; i++)
        digits = principal[i] >= '0' && principal[i] <= '9';
    if (!digits && strcmp(principal, "*") != 0) {
        events_fail_pattern(call, principal, "principal", "(\\d{12}|\\*)");
        return NULL;
    }
    if (!statement_id_ok(sid)) {
        events_fail_pattern(call, sid, "statementId", "[a-zA-Z0-9-_]+");
        return NULL;
    }
    json_t *st = json_pack("{s:s,s:s}", "Sid", sid, "Effect", "Allow");
    if (digits) {
        char root[64];
        snprintf(root, sizeof root, "arn:aws:iam::%s:root", principal);
        json_object_set_new(st, "Principal", json_pack("{s:s}", "AWS", root));
    } else {
        json_object_set_new(st, "Principal", json_string("*"));
    }
    json_object_set_new(st, "Action", json_string(action));
    json_object_set_new(st, "Resource", json_string(b->arn));
    if (cond && !json_is_null(cond)) {
        const char *type = json_string_value(json_object_get(cond, "Type"));
        const char *key = json_string_value(json_object_get(cond, "Key"));
        const char *value = json_string_value(json_object_get(cond, "Value"));
        if (!json_is_object(cond) || !type || !key || !value) {
            json_decref(st);
            api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                     "Parameter Condition is not valid: it needs Type, Key and Value.");
            return NULL;
        }
        json_object_set_new(st, "Condition", json_pack("{s:{s:s}}", type, key, value));
    }
    return st;
}

api_status events_put_permission(api_call *call)
{
    const char *policy = NULL;
    events_bus *b = permission_bus(call);

    if (!b || param_str(call, call->input, "Policy", &policy, NULL) < 0)
        return API_DONE;
    if (policy) {
        /* a whole policy replaces the one there */
        json_t *doc = json_loads(policy, 0, NULL);
        json_t *stmts = json_object_get(doc, "Statement");
        if (!json_is_object(doc) || !(json_is_array(stmts) || json_is_object(stmts))) {
            json_decref(doc);
            return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter Policy is not valid.");
        }
        api_status rc = store_policy(call, b, doc);
        json_decref(doc);
        return rc;
    }
    json_t *st = permission_statement(call, b);
    if (!st)
        return API_DONE;
    json_t *doc = b->policy ? json_loads(b->policy, 0, NULL) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = json_pack("{s:s,s:[]}", "Version", "2012-10-17", "Statement");
    }
    json_t *stmts = json_object_get(doc, "Statement");
    if (json_is_object(stmts)) {
        stmts = json_pack("[O]", stmts);
        json_object_set_new(doc, "Statement", stmts);
    } else if (!json_is_array(stmts)) {
        stmts = json_array();
        json_object_set_new(doc, "Statement", stmts);
    }
    /* a statement of the same id is replaced */
    const char *sid = json_string_value(json_object_get(st, "Sid"));
    size_t i;
    json_t *e;
    bool replaced = false;
    json_array_foreach(stmts, i, e) {
        const char *have = json_string_value(json_object_get(e, "Sid"));
        if (have && strcmp(have, sid) == 0) {
            json_array_set(stmts, i, st);
            replaced = true;
            break;
        }
    }
    if (!replaced)
        json_array_append(stmts, st);
    json_decref(st);
    api_status rc = store_policy(call, b, doc);
    json_decref(doc);
    return rc;
}

api_status events_remove_permission(api_call *call)
{
    const char *sid = NULL;
    bool all = false;
    events_bus *b = permission_bus(call);

    if (!b || param_str(call, call->input, "StatementId", &sid, NULL) < 0 ||
        param_bool(call, call->input, "RemoveAllPermissions", &all) < 0)
        return API_DONE;
    if (all)
        return store_policy(call, b, NULL);
    if (!sid)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameter StatementId is required unless RemoveAllPermissions is "
                        "true.");
    /* A bus without a policy has no such statement either: AWS answers the same
     * (localstack's test_events snapshot, test_remove_permission_non_existing_sid). */
    json_t *doc = b->policy ? json_loads(b->policy, 0, NULL) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND,
                        "Statement with the provided id does not exist.");
    }
    json_t *stmts = json_object_get(doc, "Statement");
    if (json_is_object(stmts)) {
        stmts = json_pack("[O]", stmts);
        json_object_set_new(doc, "Statement", stmts);
    }
    size_t i;
    json_t *e;
    bool found = false;
    json_array_foreach(stmts, i, e) {
        const char *have = json_string_value(json_object_get(e, "Sid"));
        if (have && strcmp(have, sid) == 0) {
            json_array_remove(stmts, i);
            found = true;
            break;
        }
    }
    if (!found) {
        json_decref(doc);
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND,
                        "Statement with the provided id does not exist.");
    }
    api_status rc = store_policy(call, b, json_array_size(stmts) ? doc : NULL);
    json_decref(doc);
    return rc;
}
