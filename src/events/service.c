/*
 * service.c - the EventBridge service: registry of buses and rules, their
 * store documents, loading at start, the action table, scheduled rules, and
 * the commit-then-answer helper.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/policy.h"
#include "events/events.h"
#include "events/transform.h"
#include "scheduler/nextfire.h"

#define BUS_KIND "events.bus"
#define RULE_KIND "events.rule"
#define DELIVERY_KIND "events.delivery"

static const api_action events_actions[] = {
    {"CreateEventBus", events_create_event_bus},
    {"DeleteEventBus", events_delete_event_bus},
    {"DescribeEventBus", events_describe_event_bus},
    {"ListEventBuses", events_list_event_buses},
    {"PutRule", events_put_rule},
    {"DeleteRule", events_delete_rule},
    {"DescribeRule", events_describe_rule},
    {"ListRules", events_list_rules},
    {"EnableRule", events_enable_rule},
    {"DisableRule", events_disable_rule},
    {"ListRuleNamesByTarget", events_list_rule_names_by_target},
    {"PutTargets", events_put_targets},
    {"RemoveTargets", events_remove_targets},
    {"ListTargetsByRule", events_list_targets_by_rule},
    {"TestEventPattern", events_test_event_pattern},
    {"TagResource", events_tag_resource},
    {"UntagResource", events_untag_resource},
    {"ListTagsForResource", events_list_tags_for_resource},
    {"PutPermission", events_put_permission},
    {"RemovePermission", events_remove_permission},
    {"PutEvents", events_put_events},
    {"CreateConnection", events_create_connection},
    {"DescribeConnection", events_describe_connection},
    {"ListConnections", events_list_connections},
    {"DeleteConnection", events_delete_connection},
    {"CreateApiDestination", events_create_api_destination},
    {"DescribeApiDestination", events_describe_api_destination},
    {"ListApiDestinations", events_list_api_destinations},
    {"DeleteApiDestination", events_delete_api_destination},
    {"UpdateApiDestination", events_update_api_destination},
    {"UpdateConnection", events_update_connection},
    {"DeauthorizeConnection", events_deauthorize_connection},
    {"CreateArchive", events_create_archive},
    {"DescribeArchive", events_describe_archive},
    {"ListArchives", events_list_archives},
    {"UpdateArchive", events_update_archive},
    {"DeleteArchive", events_delete_archive},
    {"StartReplay", events_start_replay},
    {"DescribeReplay", events_describe_replay},
    {"ListReplays", events_list_replays},
    {"CancelReplay", events_cancel_replay},
    {NULL, NULL},
};

events_service *events_service_new(struct event_base *base, store *st, sqs_service *sqs,
                                   const char *region, const char *default_account,
                                   const char *data_dir)
{
    events_service *svc = xcalloc(1, sizeof *svc);

    svc->base = base;
    svc->store = st;
    svc->sqs = sqs;
    svc->region = region;
    svc->default_account = default_account;
    svc->data_dir = xstrdup(data_dir ? data_dir : ".");
    map_str_init(&svc->buses);
    svc->limits = limits_default();
    account_counts_init(&svc->bus_counts);
    map_u64_init(&svc->deliveries);
    map_str_init(&svc->connections);
    map_str_init(&svc->apidests);
    events_archive_init(svc);
    svc->http = events_http_new(base);
    return svc;
}

api_service *events_api_service(events_service *svc)
{
    api_service *a = xcalloc(1, sizeof *a);
    a->name = "events";
    a->json_target = "AWSEvents";
    a->json_type_ns = "com.amazonaws.events";
    a->xml_namespace = "http://events.amazonaws.com/doc/2015-10-07/";
    a->query_rules = NULL;
    a->actions = events_actions;
    a->ctx = svc;
    a->commit_error = AWS_ERR_EVENTS_INTERNAL;
    a->commit_message = "An internal error occurred.";
    a->store = svc ? svc->store : NULL; /* NULL: a description only (fuzz targets) */
    return a;
}

/* --- buses --------------------------------------------------------------------- */

events_bus *events_bus_new(events_service *svc, uint64_t id, const char *account,
                           const char *name)
{
    events_bus *b = xcalloc(1, sizeof *b);
    char key[512];
    buf arn;

    b->svc = svc;
    b->id = id;
    b->account = xstrdup(account);
    b->name = xstrdup(name);
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:events:%s:%s:event-bus/%s", svc->region, account, name);
    b->arn = buf_steal(&arn);
    b->tags = json_object();
    b->created_ms = clock_now_ms();
    map_str_init(&b->rules);
    map_u64_init(&b->rules_by_id);
    b->set = match_set_new();
    snprintf(key, sizeof key, "%s/%s", account, name);
    map_str_put(&svc->buses, key, b);
    if (strcmp(name, "default") != 0)
        account_counts_add(&svc->bus_counts, account, 1);
    return b;
}

void events_bus_free(events_bus *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->rules.cap; i++)
        if (b->rules.keys[i])
            events_rule_free(b->rules.vals[i]);
    map_str_free(&b->rules);
    map_u64_free(&b->rules_by_id);
    match_set_free(b->set);
    json_decref(b->tags);
    free(b->description);
    free(b->policy);
    free(b->account);
    free(b->name);
    free(b->arn);
    free(b);
}

void events_service_set_ca_file(events_service *svc, const char *path)
{
    events_http_set_ca_file(svc->http, path);
}

void events_service_set_sns(events_service *svc, struct sns_service *sns)
{
    svc->sns = sns;
}

void events_service_set_limits(events_service *svc, const limits *lim)
{
    svc->limits = lim;
}

events_bus_status events_bus_access(events_service *svc, const api_call *call,
                                    const char *name_or_arn, events_bus **out)
{
    char action[96], acct[32];
    bool arn = name_or_arn && strncmp(name_or_arn, "arn:", 4) == 0;
    bool foreign = arn && policy_arn_account(name_or_arn, acct, sizeof acct) &&
                   strcmp(acct, call->account) != 0;
    events_bus *b = events_bus_find(svc, call->account, name_or_arn);

    *out = b;
    snprintf(action, sizeof action, "events:%s", call->action);
    if (!b) {
        /* another account's bus that is not there: as refused as one that is */
        return foreign ? EVENTS_BUS_DENIED : EVENTS_BUS_MISSING;
    }
    if (!policy_permits(call->account, call->allow, action, b->arn, b->account, b->policy))
        return EVENTS_BUS_DENIED;
    return EVENTS_BUS_OK;
}

events_bus *events_bus_for_call(events_service *svc, const api_call *call,
                                const char *name_or_arn)
{
    events_bus *b;

    return events_bus_access(svc, call, name_or_arn, &b) == EVENTS_BUS_OK ? b : NULL;
}

api_status events_fail_denied(api_call *call, const char *arn)
{
    return api_fail(call, AWS_ERR_EVENTS_ACCESS_DENIED,
                    "User: arn:aws:iam::%s:root is not authorized to perform: events:%s on "
                    "resource: %s because no resource-based policy allows the events:%s action",
                    call->account, call->action, arn, call->action);
}

bool events_bus_accepts(const events_bus *bus, const char *account, const char *source_arn)
{
    policy_request r = {"events:PutEvents", bus->arn, account, NULL, source_arn, account};
    policy_decision d = policy_evaluate_text(bus->policy, &r);

    return d == POLICY_ALLOW || (d == POLICY_NO_MATCH && strcmp(account, bus->account) == 0);
}

events_bus *events_bus_find(events_service *svc, const char *account, const char *name_or_arn)
{
    char key[512], acct[64];
    const char *name = name_or_arn && *name_or_arn ? name_or_arn : "default";

    snprintf(acct, sizeof acct, "%s", account);
    if (strncmp(name, "arn:", 4) == 0) {
        /* arn:aws:events:<region>:<account>:event-bus/<name> */
        const char *slash = strstr(name, ":event-bus/");
        const char *p = name;
        int colons = 0;
        if (!slash)
            return NULL;
        while (*p && colons < 4)
            if (*p++ == ':')
                colons++;
        const char *end = strchr(p, ':');
        if (end && (size_t)(end - p) < sizeof acct) {
            memcpy(acct, p, (size_t)(end - p));
            acct[end - p] = '\0';
        }
        name = slash + strlen(":event-bus/");
    }
    snprintf(key, sizeof key, "%s/%s", acct, name);
    events_bus *b = map_str_get(&svc->buses, key);
    if (!b && strcmp(name, "default") == 0)
        b = events_bus_new(svc, store_next_resource_id(svc->store), acct, "default");
    return b;
}

char *events_bus_doc(const events_bus *b)
{
    json_t *doc = json_pack("{s:I,s:O}", "created_ms", (json_int_t)b->created_ms, "tags",
                            b->tags);
    if (b->description)
        json_object_set_new(doc, "description", json_string(b->description));
    if (b->policy)
        json_object_set_new(doc, "policy", json_string(b->policy));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

void events_bus_store(store_batch *b, events_bus *bus)
{
    char *doc = events_bus_doc(bus);
    store_put_resource(b, bus->id, BUS_KIND, bus->account, bus->name, doc);
    bus->stored = true;
    free(doc);
}

void events_rule_store(store_batch *b, const events_rule *r)
{
    char name[512];
    char *doc = events_rule_doc(r);
    snprintf(name, sizeof name, "%s/%s", r->bus->name, r->name);
    store_put_resource(b, r->id, RULE_KIND, r->bus->account, name, doc);
    free(doc);
}

events_rule *events_rule_by_arn(events_service *svc, const char *arn)
{
    /* arn:aws:events:<region>:<account>:rule/[<bus>/]<name> */
    const char *p = arn ? strstr(arn, ":rule/") : NULL;
    char acct[64] = "", busname[300];
    const char *q = arn;
    int colons = 0;

    if (!p || strncmp(arn, "arn:", 4) != 0)
        return NULL;
    while (*q && colons < 4)
        if (*q++ == ':')
            colons++;
    const char *end = strchr(q, ':');
    if (!end || (size_t)(end - q) >= sizeof acct)
        return NULL;
    memcpy(acct, q, (size_t)(end - q));
    acct[end - q] = '\0';
    p += strlen(":rule/");
    const char *slash = strrchr(p, '/');
    if (slash) {
        snprintf(busname, sizeof busname, "%.*s", (int)(slash - p), p);
        p = slash + 1;
    } else {
        strcpy(busname, "default");
    }
    events_bus *b = events_bus_find(svc, acct, busname);
    return b ? map_str_get(&b->rules, p) : NULL;
}

api_status events_fail_pattern(api_call *call, const char *value, const char *field,
                               const char *regex)
{
    return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                    "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                    "constraint: Member must satisfy regular expression pattern: %s",
                    value, field, regex);
}

/* A name of 1 to max of [.-_A-Za-z0-9] (rules, target ids, archives, replays). AWS
 * reports a value over max by its length (aws-cdk#21808), with the pattern as a second
 * error when that fails too (localstack's test_create_connection_validations
 * recording); true, with the error set, if it is not such a name. */
bool events_name_invalid(api_call *call, const char *value, const char *field, size_t max)
{
    static const char re[] = "[\\.\\-_A-Za-z0-9]+";
    size_t n = strlen(value);
    bool chars_ok = n > 0 && strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789.-_") == n;

    if (n > max && chars_ok)
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                 "constraint: Member must have length less than or equal to %zu",
                 value, field, max);
    else if (n > max)
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "2 validation errors detected: Value '%s' at '%s' failed to satisfy "
                 "constraint: Member must have length less than or equal to %zu; Value '%s' at "
                 "'%s' failed to satisfy constraint: Member must satisfy regular expression "
                 "pattern: %s",
                 value, field, max, value, field, re);
    else if (!chars_ok)
        events_fail_pattern(call, value, field, re);
    else
        return false;
    return true;
}

/* --- rules --------------------------------------------------------------------- */

static void rule_fire(evutil_socket_t fd, short what, void *arg);

events_rule *events_rule_new(events_service *svc, events_bus *b, uint64_t id, const char *name)
{
    events_rule *r = xcalloc(1, sizeof *r);
    buf arn;

    r->id = id;
    r->bus = b;
    r->name = xstrdup(name);
    buf_init(&arn);
    if (strcmp(b->name, "default") == 0)
        buf_printf(&arn, "arn:aws:events:%s:%s:rule/%s", svc->region, b->account, name);
    else
        buf_printf(&arn, "arn:aws:events:%s:%s:rule/%s/%s", svc->region, b->account, b->name,
                   name);
    r->arn = buf_steal(&arn);
    r->enabled = true;
    r->targets = json_array();
    r->tags = json_object();
    r->created_ms = clock_now_ms();
    r->timer = evtimer_new(svc->base, rule_fire, r);
    map_str_put(&b->rules, name, r);
    map_u64_put(&b->rules_by_id, id, r);
    return r;
}

void events_rule_free(events_rule *r)
{
    if (!r)
        return;
    if (r->timer)
        event_free(r->timer);
    free(r->name);
    free(r->arn);
    free(r->pattern);
    free(r->schedule);
    free(r->description);
    free(r->role_arn);
    json_decref(r->targets);
    json_decref(r->tags);
    free(r);
}

char *events_rule_doc(const events_rule *r)
{
    json_t *doc = json_pack("{s:s,s:s,s:b,s:O,s:O,s:I}", "bus", r->bus->name, "name", r->name,
                            "enabled", r->enabled, "targets", r->targets, "tags", r->tags,
                            "created_ms", (json_int_t)r->created_ms);
    if (r->pattern)
        json_object_set_new(doc, "pattern", json_string(r->pattern));
    if (r->schedule)
        json_object_set_new(doc, "schedule", json_string(r->schedule));
    if (r->description)
        json_object_set_new(doc, "description", json_string(r->description));
    if (r->role_arn)
        json_object_set_new(doc, "role_arn", json_string(r->role_arn));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

int events_rule_index(events_rule *r)
{
    match_set_remove(r->bus->set, r->id);
    if (!r->enabled || !r->pattern)
        return 0;
    char err[MATCH_ERR_MAX];
    match_pattern *p = match_compile(r->pattern, strlen(r->pattern), MATCH_EVENTBRIDGE, err,
                                     sizeof err);
    if (!p)
        return -1;
    if (match_set_add(r->bus->set, r->id, p) < 0) {
        match_free(p);
        return -1;
    }
    return 0;
}

/* --- scheduled rules --------------------------------------------------------------- */

void events_rule_arm(events_service *svc, events_rule *r)
{
    int64_t now_s = clock_now_ms() / 1000, next;
    sched_bounds bounds;

    evtimer_del(r->timer);
    if (!r->schedule || !r->enabled)
        return;
    sched_bounds_init(&bounds);
    bounds.anchor_s = r->created_ms / 1000;
    if (!sched_next_fire(&r->sched, NULL, &bounds, now_s + 1, &next))
        return;
    struct timeval tv = {(time_t)(next - now_s), 0};
    evtimer_add(r->timer, &tv);
}

static void sched_done(void *arg, int status)
{
    events_dispatch *d = arg;
    events_dispatch_finish(d, status);
    free(d);
}

static void rule_fire(evutil_socket_t fd, short what, void *arg)
{
    events_rule *r = arg;
    events_service *svc = r->bus->svc;
    char id[37];

    uuid_v4(id);
    json_t *resources = json_pack("[s]", r->arn);
    json_t *detail = json_object();
    events_entry e = {id, "aws.events", "Scheduled Event", detail, resources,
                      clock_now_ms() / 1000, r->bus->account, svc->region};
    json_t *event = events_envelope(&e);
    char *text = json_dumps(event, JSON_COMPACT);
    events_dispatch *d = xcalloc(1, sizeof *d);
    d->svc = svc;
    d->batch = store_batch_new();
    d->staged = sqs_staged_new(svc->sqs);
    d->new_deliveries = json_array();
    events_dispatch_rule(d, r, event, text);
    store_submit(svc->store, d->batch, sched_done, d);
    d->batch = NULL;
    free(text);
    json_decref(event);
    json_decref(detail);
    json_decref(resources);
    events_rule_arm(svc, r);
}

/* --- commits --------------------------------------------------------------------- */

api_status events_commit_and_finish(events_service *svc, api_call *call, store_batch *b)
{
    return api_commit_and_finish(call, svc->store, b);
}

/* --- loading --------------------------------------------------------------------- */

static const char *doc_str(json_t *doc, const char *k)
{
    return json_string_value(json_object_get(doc, k));
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void load_bus(void *arg, uint64_t id, const char *kind, const char *account,
                     const char *name, const char *text)
{
    events_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);
    char key[512];

    if (!doc)
        return;
    snprintf(key, sizeof key, "%s/%s", account, name);
    events_bus *old = map_str_del(&svc->buses, key);
    if (old && strcmp(old->name, "default") != 0)
        account_counts_add(&svc->bus_counts, old->account, -1);
    events_bus_free(old);
    events_bus *b = events_bus_new(svc, id, account, name);
    b->stored = true;
    b->created_ms = json_integer_value(json_object_get(doc, "created_ms"));
    b->description = dup_or_null(doc_str(doc, "description"));
    b->policy = dup_or_null(doc_str(doc, "policy"));
    if (json_is_object(json_object_get(doc, "tags")))
        json_object_update(b->tags, json_object_get(doc, "tags"));
    json_decref(doc);
}

static void load_rule(void *arg, uint64_t id, const char *kind, const char *account,
                      const char *name, const char *text)
{
    events_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);

    if (!doc)
        return;
    events_bus *b = events_bus_find(svc, account, doc_str(doc, "bus"));
    if (!b || !doc_str(doc, "name")) {
        log_warn("events", "rule without its bus skipped rule_id=%llu", (unsigned long long)id);
        json_decref(doc);
        return;
    }
    events_rule *r = events_rule_new(svc, b, id, doc_str(doc, "name"));
    r->enabled = json_is_true(json_object_get(doc, "enabled"));
    r->pattern = dup_or_null(doc_str(doc, "pattern"));
    r->schedule = dup_or_null(doc_str(doc, "schedule"));
    r->description = dup_or_null(doc_str(doc, "description"));
    r->role_arn = dup_or_null(doc_str(doc, "role_arn"));
    r->created_ms = json_integer_value(json_object_get(doc, "created_ms"));
    if (json_is_array(json_object_get(doc, "targets")))
        json_array_extend(r->targets, json_object_get(doc, "targets"));
    if (json_is_object(json_object_get(doc, "tags")))
        json_object_update(r->tags, json_object_get(doc, "tags"));
    if (r->schedule &&
        sched_expr_parse(r->schedule, strlen(r->schedule), SCHED_DIALECT_RULE, &r->sched) !=
            SCHED_EXPR_OK) {
        free(r->schedule);
        r->schedule = NULL;
    }
    if (events_rule_index(r) < 0)
        log_warn("events", "stored pattern no longer compiles rule=%s", r->name);
    events_rule_arm(svc, r);
    json_decref(doc);
}

static void load_delivery(void *arg, uint64_t id, const char *kind, const char *account,
                          const char *name, const char *text)
{
    events_delivery_load(arg, id, account, text);
}

static void load_apidest(void *arg, uint64_t id, const char *kind, const char *account,
                         const char *name, const char *text)
{
    events_apidest_load(arg, kind, id, account, name, text);
}

int events_service_load(events_service *svc)
{
    if (store_load_resources(svc->store, BUS_KIND, load_bus, svc) < 0 ||
        store_load_resources(svc->store, RULE_KIND, load_rule, svc) < 0 ||
        store_load_resources(svc->store, "events.connection", load_apidest, svc) < 0 ||
        store_load_resources(svc->store, "events.apidest", load_apidest, svc) < 0 ||
        store_load_resources(svc->store, DELIVERY_KIND, load_delivery, svc) < 0 ||
        events_archive_load(svc) < 0)
        return -1;
    events_bus_find(svc, svc->default_account, "default");
    log_info("events", "loaded buses=%zu pending_deliveries=%zu", svc->buses.count,
             svc->deliveries.count);
    return 0;
}

void events_service_free(events_service *svc)
{
    if (!svc)
        return;
    svc->closing = true;
    events_apidest_free_all(svc);
    while (svc->deliveries.count) {
        for (size_t i = 0; i < svc->deliveries.cap; i++)
            if (svc->deliveries.keys[i]) {
                events_delivery_drop(svc, svc->deliveries.vals[i]);
                break;
            }
    }
    map_u64_free(&svc->deliveries);
    events_http_free(svc->http);
    events_archive_free_all(svc);
    for (size_t i = 0; i < svc->buses.cap; i++)
        if (svc->buses.keys[i])
            events_bus_free(svc->buses.vals[i]);
    map_str_free(&svc->buses);
    account_counts_free(&svc->bus_counts);
    for (size_t i = 0; i < svc->connections.cap; i++)
        if (svc->connections.keys[i])
            json_decref(svc->connections.vals[i]);
    map_str_free(&svc->connections);
    for (size_t i = 0; i < svc->apidests.cap; i++)
        if (svc->apidests.keys[i])
            json_decref(svc->apidests.vals[i]);
    map_str_free(&svc->apidests);
    free(svc->data_dir);
    free(svc);
}

api_status events_list_named(api_call *call, map_str *m, const char *field,
                             json_t *(*view)(api_call *call, void *item))
{
    const char *prefix = NULL, *token = NULL;
    long long limit = 100;
    char after[300] = "";
    size_t n, alen = strlen(call->account);

    if (param_str(call, call->input, "NamePrefix", &prefix, NULL) < 0 ||
        param_str(call, call->input, "NextToken", &token, NULL) < 0 ||
        param_int(call, call->input, "Limit", &limit) < 0)
        return API_DONE;
    if (limit < 1 || limit > 100)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter Limit is not valid.");
    if (token && !events_token_decode(token, after, sizeof after))
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "The NextToken provided is not valid.");
    const char **keys = events_sorted_keys(m, &n);
    json_t *list = json_array();
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(keys[i], call->account, alen) != 0 || keys[i][alen] != '/')
            continue;
        const char *name = keys[i] + alen + 1;
        if ((prefix && strncmp(name, prefix, strlen(prefix)) != 0) ||
            (*after && strcmp(name, after) <= 0))
            continue;
        json_t *v = view(call, map_str_get(m, keys[i]));
        if (!v)
            continue;
        if ((long long)json_array_size(list) == limit) {
            json_decref(v);
            more = true;
            break;
        }
        json_array_append_new(list, v);
        last = name;
    }
    json_object_set_new(api_out(call), field, list);
    if (more && last) {
        char tok[700];
        events_token_encode(last, tok, sizeof tok);
        json_object_set_new(api_out(call), "NextToken", json_string(tok));
    }
    free(keys);
    return API_DONE;
}
