/*
 * service.c - the Scheduler service: registries of groups and schedules,
 * their store documents, loading at start, the action table, and the
 * commit-then-answer helper.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "scheduler/civil.h"
#include "scheduler/retry.h"
#include "scheduler/scheduler.h"

static const api_action scheduler_actions[] = {
    {"CreateSchedule", scheduler_create_schedule},
    {"GetSchedule", scheduler_get_schedule},
    {"UpdateSchedule", scheduler_update_schedule},
    {"DeleteSchedule", scheduler_delete_schedule},
    {"ListSchedules", scheduler_list_schedules},
    {"CreateScheduleGroup", scheduler_create_schedule_group},
    {"GetScheduleGroup", scheduler_get_schedule_group},
    {"DeleteScheduleGroup", scheduler_delete_schedule_group},
    {"ListScheduleGroups", scheduler_list_schedule_groups},
    {"TagResource", scheduler_tag_resource},
    {"UntagResource", scheduler_untag_resource},
    {"ListTagsForResource", scheduler_list_tags_for_resource},
    {NULL, NULL},
};

scheduler_service *scheduler_service_new(struct event_base *base, store *st,
                                         sqs_service *sqs, const char *region,
                                         const char *default_account)
{
    scheduler_service *svc = xcalloc(1, sizeof *svc);

    svc->base = base;
    svc->store = st;
    svc->sqs = sqs;
    svc->region = region;
    svc->default_account = default_account;
    map_str_init(&svc->groups);
    map_str_init(&svc->schedules);
    svc->limits = limits_default();
    account_counts_init(&svc->schedule_counts);
    map_u64_init(&svc->retries);
    map_str_init(&svc->delete_tokens);
    sched_heap_init(&svc->heap);
    svc->timer = evtimer_new(base, scheduler_timer_fired, svc);
    svc->timer_at_ms = -1;
    return svc;
}

void scheduler_service_set_limits(scheduler_service *svc, const limits *lim)
{
    svc->limits = lim;
}

void scheduler_service_set_sns(scheduler_service *svc, struct sns_service *sns)
{
    svc->sns = sns;
}

void scheduler_service_set_events(scheduler_service *svc, struct events_service *events)
{
    svc->events = events;
}

api_service *scheduler_api_service(scheduler_service *svc)
{
    api_service *a = xcalloc(1, sizeof *a);

    a->name = "scheduler";
    a->json_target = NULL;
    a->json_type_ns = "com.amazonaws.scheduler";
    a->xml_namespace = NULL;
    a->query_rules = NULL;
    a->actions = scheduler_actions;
    a->ctx = svc;
    a->commit_error = AWS_ERR_SCHEDULER_INTERNAL;
    a->commit_message = "The request could not be stored; try again.";
    a->store = svc ? svc->store : NULL; /* NULL: a description only (fuzz targets) */
    return a;
}

void scheduler_format_time(int64_t s, char out[32])
{
    civil_format_utc(s, out, 32);
}

/* --- groups ----------------------------------------------------------------- */

/* "account/name"; false if it does not fit (no such group can exist). */
static bool group_key(const char *account, const char *name, char *out, size_t n)
{
    int len = snprintf(out, n, "%s/%s", account, name);
    return len >= 0 && (size_t)len < n;
}

scheduler_group *scheduler_group_new(scheduler_service *svc, uint64_t id, const char *account,
                                     const char *name)
{
    scheduler_group *g = xcalloc(1, sizeof *g);
    char key[256];
    buf arn;

    g->id = id;
    g->account = xstrdup(account);
    g->name = xstrdup(name);
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:scheduler:%s:%s:schedule-group/%s", svc->region, account, name);
    g->arn = buf_steal(&arn);
    g->tags = json_object();
    g->created_ms = g->modified_ms = clock_now_ms();
    group_key(account, name, key, sizeof key);
    map_str_put(&svc->groups, key, g);
    return g;
}

static void group_free(scheduler_group *g)
{
    json_decref(g->tags);
    free(g->client_token);
    free(g->account);
    free(g->name);
    free(g->arn);
    free(g);
}

void scheduler_group_drop(scheduler_service *svc, scheduler_group *g)
{
    char key[256];

    group_key(g->account, g->name, key, sizeof key);
    map_str_del(&svc->groups, key);
    group_free(g);
}

scheduler_group *scheduler_group_get(scheduler_service *svc, const char *account,
                                     const char *name)
{
    char key[256];
    scheduler_group *g;

    if (!group_key(account, name, key, sizeof key))
        return NULL;
    g = map_str_get(&svc->groups, key);
    if (!g && strcmp(name, SCHEDULER_DEFAULT_GROUP) == 0)
        g = scheduler_group_new(svc, 0, account, name);
    return g;
}

void scheduler_group_store(scheduler_service *svc, store_batch *b, scheduler_group *g)
{
    if (!g->id)
        g->id = store_next_resource_id(svc->store);
    json_t *doc = json_pack("{s:I,s:I,s:O}", "created_ms", (json_int_t)g->created_ms,
                            "modified_ms", (json_int_t)g->modified_ms, "tags", g->tags);
    if (g->client_token)
        json_object_set_new(doc, "client_token", json_string(g->client_token));
    char *text = json_dumps(doc, JSON_COMPACT);
    store_put_resource(b, g->id, SCHEDULER_KIND_GROUP, g->account, g->name, text);
    free(text);
    json_decref(doc);
}

/* --- schedules -------------------------------------------------------------- */

static bool schedule_key(const char *account, const char *group, const char *name, char *out,
                         size_t n)
{
    int len = snprintf(out, n, "%s/%s/%s", account, group, name);
    return len >= 0 && (size_t)len < n;
}

scheduler_schedule *scheduler_schedule_find(scheduler_service *svc, const char *account,
                                            const char *group, const char *name)
{
    char key[512];

    if (!schedule_key(account, group, name, key, sizeof key))
        return NULL;
    return map_str_get(&svc->schedules, key);
}

scheduler_schedule *scheduler_schedule_new(scheduler_service *svc, uint64_t id,
                                           const char *account, const char *group,
                                           const char *name)
{
    scheduler_schedule *s = xcalloc(1, sizeof *s);
    char key[512];
    buf arn;

    sched_heap_node_init(&s->due.node);
    s->due.kind = SCHEDULER_DUE_SCHEDULE;
    s->svc = svc;
    s->id = id;
    s->account = xstrdup(account);
    s->group = xstrdup(group);
    s->name = xstrdup(name);
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:scheduler:%s:%s:schedule/%s/%s", svc->region, account, group,
               name);
    s->arn = buf_steal(&arn);
    s->last_fired_s = SCHED_NO_TIME;
    s->due_s = SCHED_NO_TIME;
    sched_bounds_init(&s->bounds);
    s->refs = 1;
    schedule_key(account, group, name, key, sizeof key);
    map_str_put(&svc->schedules, key, s);
    account_counts_add(&svc->schedule_counts, account, 1);
    return s;
}

void scheduler_schedule_unref(scheduler_schedule *s)
{
    if (--s->refs > 0)
        return;
    json_decref(s->def);
    free(s->client_token);
    free(s->account);
    free(s->group);
    free(s->name);
    free(s->arn);
    free(s);
}

void scheduler_schedule_drop(scheduler_service *svc, scheduler_schedule *s)
{
    char key[512];

    if (s->deleted)
        return;
    schedule_key(s->account, s->group, s->name, key, sizeof key);
    map_str_del(&svc->schedules, key);
    account_counts_add(&svc->schedule_counts, s->account, -1);
    s->deleted = true;
    scheduler_schedule_disarm(svc, s);
    scheduler_schedule_unref(s);
}

void scheduler_schedule_apply(scheduler_schedule *s, json_t *def)
{
    const char *expr = json_string_value(json_object_get(def, "ScheduleExpression"));
    const char *tz = json_string_value(json_object_get(def, "ScheduleExpressionTimezone"));
    json_t *flex = json_object_get(def, "FlexibleTimeWindow");
    json_t *target = json_object_get(def, "Target");
    json_t *retry = json_object_get(target, "RetryPolicy");
    json_t *v;

    json_incref(def);
    json_decref(s->def);
    s->def = def;
    if (sched_expr_parse(expr, strlen(expr), SCHED_DIALECT_SCHEDULER, &s->expr) !=
        SCHED_EXPR_OK)
        memset(&s->expr, 0, sizeof s->expr);
    s->tz = sched_tz_get(tz, NULL);
    if (!s->tz)
        s->tz = sched_tz_utc();
    sched_bounds_init(&s->bounds);
    if ((v = json_object_get(def, "StartDate")))
        s->bounds.start_s = json_integer_value(v) / 1000;
    if ((v = json_object_get(def, "EndDate")))
        s->bounds.end_s = json_integer_value(v) / 1000;
    s->enabled = strcmp(json_string_value(json_object_get(def, "State")), "ENABLED") == 0;
    s->delete_after = strcmp(json_string_value(json_object_get(def, "ActionAfterCompletion")),
                             "DELETE") == 0;
    s->flex_min = strcmp(json_string_value(json_object_get(flex, "Mode")), "FLEXIBLE") == 0
                      ? (int)json_integer_value(json_object_get(flex, "MaximumWindowInMinutes"))
                      : 0;
    s->max_retries = (int)json_integer_value(json_object_get(retry, "MaximumRetryAttempts"));
    s->max_age_s = (int)json_integer_value(json_object_get(retry, "MaximumEventAgeInSeconds"));
}

void scheduler_schedule_store(scheduler_service *svc, store_batch *b,
                              const scheduler_schedule *s)
{
    json_t *doc = json_pack("{s:O,s:I,s:I,s:I}", "def", s->def, "created_ms",
                            (json_int_t)s->created_ms, "modified_ms",
                            (json_int_t)s->modified_ms, "base_s", (json_int_t)s->base_s);
    json_object_set_new(doc, "anchor_s", json_integer(s->anchor_s));
    char name[256];

    if (s->last_fired_s != SCHED_NO_TIME)
        json_object_set_new(doc, "last_fired_s", json_integer(s->last_fired_s));
    if (s->client_token)
        json_object_set_new(doc, "client_token", json_string(s->client_token));
    snprintf(name, sizeof name, "%s/%s", s->group, s->name);
    char *text = json_dumps(doc, JSON_COMPACT);
    store_put_resource(b, s->id, SCHEDULER_KIND_SCHEDULE, s->account, name, text);
    free(text);
    json_decref(doc);
}

/* --- commits ---------------------------------------------------------------- */

api_status scheduler_commit_and_finish(scheduler_service *svc, api_call *call,
                                       store_batch *b)
{
    return api_commit_and_finish(call, svc->store, b);
}

/* --- loading ---------------------------------------------------------------- */

static void load_group(void *arg, uint64_t id, const char *kind, const char *account,
                       const char *name, const char *text)
{
    scheduler_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);

    if (!doc) {
        log_error("scheduler", "unreadable group document, skipped id=%llu",
                  (unsigned long long)id);
        return;
    }
    scheduler_group *g = scheduler_group_new(svc, id, account, name);
    g->created_ms = json_integer_value(json_object_get(doc, "created_ms"));
    g->modified_ms = json_integer_value(json_object_get(doc, "modified_ms"));
    if (json_is_object(json_object_get(doc, "tags")))
        json_object_update(g->tags, json_object_get(doc, "tags"));
    if (json_is_string(json_object_get(doc, "client_token")))
        g->client_token = xstrdup(json_string_value(json_object_get(doc, "client_token")));
    json_decref(doc);
}

static void load_schedule(void *arg, uint64_t id, const char *kind, const char *account,
                          const char *name, const char *text)
{
    scheduler_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);
    const char *slash = strchr(name, '/');
    json_t *def = json_object_get(doc, "def");

    if (!doc || !slash || !json_is_object(def) ||
        !json_is_string(json_object_get(def, "ScheduleExpression"))) {
        log_error("scheduler", "unreadable schedule document, skipped id=%llu",
                  (unsigned long long)id);
        json_decref(doc);
        return;
    }
    char group[128];
    snprintf(group, sizeof group, "%.*s", (int)(slash - name), name);
    scheduler_group_get(svc, account, group); /* the default group on demand */
    scheduler_schedule *s = scheduler_schedule_new(svc, id, account, group, slash + 1);
    scheduler_schedule_apply(s, def);
    s->created_ms = json_integer_value(json_object_get(doc, "created_ms"));
    s->modified_ms = json_integer_value(json_object_get(doc, "modified_ms"));
    s->base_s = json_integer_value(json_object_get(doc, "base_s"));
    s->anchor_s = json_is_integer(json_object_get(doc, "anchor_s"))
                      ? json_integer_value(json_object_get(doc, "anchor_s"))
                      : s->base_s;
    if (json_is_integer(json_object_get(doc, "last_fired_s")))
        s->last_fired_s = json_integer_value(json_object_get(doc, "last_fired_s"));
    if (json_is_string(json_object_get(doc, "client_token")))
        s->client_token = xstrdup(json_string_value(json_object_get(doc, "client_token")));
    json_decref(doc);
    /* Resume after the last recorded invocation: one that was due while the
     * server was down fires now (if still fresh enough), none fires twice. */
    int64_t from = s->base_s;
    if (s->last_fired_s != SCHED_NO_TIME && s->last_fired_s + 1 > from)
        from = s->last_fired_s + 1;
    scheduler_schedule_arm(svc, s, from);
}

static void load_retry(void *arg, uint64_t id, const char *kind, const char *account,
                       const char *name, const char *text)
{
    scheduler_retry_load(arg, id, account, text);
}

int scheduler_service_load(scheduler_service *svc)
{
    if (store_load_resources(svc->store, SCHEDULER_KIND_GROUP, load_group, svc) < 0 ||
        store_load_resources(svc->store, SCHEDULER_KIND_SCHEDULE, load_schedule, svc) < 0 ||
        store_load_resources(svc->store, SCHEDULER_KIND_RETRY, load_retry, svc) < 0)
        return -1;
    log_info("scheduler", "loaded groups=%zu schedules=%zu retries=%zu", svc->groups.count,
             svc->schedules.count, svc->retries.count);
    scheduler_rearm(svc);
    return 0;
}

void scheduler_service_free(scheduler_service *svc)
{
    if (!svc)
        return;
    if (svc->inflight > 0) {
        svc->closing = true;
        evtimer_del(svc->timer);
        return;
    }
    scheduler_service_destroy(svc);
}

void scheduler_service_destroy(scheduler_service *svc)
{
    event_free(svc->timer);
    for (size_t i = 0; i < svc->schedules.cap; i++) {
        scheduler_schedule *s = svc->schedules.keys[i] ? svc->schedules.vals[i] : NULL;
        if (s) {
            s->deleted = true;
            scheduler_schedule_unref(s);
        }
    }
    for (size_t i = 0; i < svc->groups.cap; i++)
        if (svc->groups.keys[i])
            group_free(svc->groups.vals[i]);
    for (size_t i = 0; i < svc->retries.cap; i++)
        if (svc->retries.keys[i])
            scheduler_retry_free(svc->retries.vals[i]);
    for (size_t i = 0; i < svc->delete_tokens.cap; i++)
        if (svc->delete_tokens.keys[i])
            free(svc->delete_tokens.vals[i]);
    map_str_free(&svc->groups);
    map_str_free(&svc->schedules);
    account_counts_free(&svc->schedule_counts);
    map_u64_free(&svc->retries);
    map_str_free(&svc->delete_tokens);
    sched_heap_free(&svc->heap);
    free(svc);
}
