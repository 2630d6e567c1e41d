/*
 * actions.c - the Scheduler's API actions: schedules, schedule groups and
 * their tags.
 *
 * Every change is answered only after its commit (scheduler_commit_and_
 * finish).  In-memory state changes at once, before the commit, like the
 * other services: the event loop serialises requests, and the store
 * commits batches in submission order.  ClientToken makes a repeated
 * create, update or delete return the first one's answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "scheduler/scheduler.h"

#define LIST_MAX 100
#define TOKEN_MAX 600

/* --- shared helpers -------------------------------------------------------- */

/* Reads an optional ClientToken; false (error set) if it is malformed. */
static bool client_token(api_call *call, const char **out)
{
    int r = param_str(call, call->input, "ClientToken", out, NULL);

    if (r < 0)
        return false;
    if (r == 0) {
        *out = NULL;
        return true;
    }
    size_t n = strlen(*out);
    bool ok = n >= 1 && n <= 64;
    for (const char *p = *out; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '-' || *p == '_';
    if (!ok)
        api_fail(call, AWS_ERR_VALIDATION,
                 "1 validation error detected: Value '%s' at 'clientToken' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_]+$",
                 *out);
    return ok;
}

/* The Name member (required) and the GroupName member (default group). */
static bool name_and_group(api_call *call, const char **name, const char **group)
{
    int r = param_str(call, call->input, "Name", name, NULL);

    if (r < 0)
        return false;
    if (r == 0) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "1 validation error detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null");
        return false;
    }
    if (!scheduler_check_name(call, *name, "name"))
        return false;
    if (!group)
        return true;
    r = param_str(call, call->input, "GroupName", group, NULL);
    if (r < 0)
        return false;
    if (r == 0) {
        *group = SCHEDULER_DEFAULT_GROUP;
        return true;
    }
    return scheduler_check_name(call, *group, "groupName");
}

static api_status schedule_missing(api_call *call, const char *name)
{
    return api_fail(call, AWS_ERR_SCHEDULER_NOT_FOUND, "Schedule %s does not exist.", name);
}

static api_status group_missing(api_call *call, const char *name)
{
    return api_fail(call, AWS_ERR_SCHEDULER_NOT_FOUND, "Schedule group %s does not exist.",
                    name);
}

/* MaxResults (1-100, default 100) and NextToken (decoded into key). */
static bool page_params(api_call *call, long long *max, char *key, size_t keylen)
{
    const char *token;
    int r;

    *max = LIST_MAX;
    key[0] = '\0';
    r = param_int(call, call->input, "MaxResults", max);
    if (r < 0)
        return false;
    if (r && (*max < 1 || *max > LIST_MAX)) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "1 validation error detected: Value '%lld' at 'maxResults' failed to satisfy "
                 "constraint: Member must have value %s",
                 *max, *max < 1 ? "greater than or equal to 1" : "less than or equal to 100");
        return false;
    }
    r = param_str(call, call->input, "NextToken", &token, NULL);
    if (r < 0)
        return false;
    if (r) {
        size_t n = strlen(token);
        uint8_t raw[TOKEN_MAX];
        long len = n < TOKEN_MAX ? base64url_decode(token, n, raw) : -1;
        if (len <= 0 || (size_t)len >= keylen || memchr(raw, 0, (size_t)len)) {
            api_fail(call, AWS_ERR_VALIDATION, "Invalid NextToken.");
            return false;
        }
        memcpy(key, raw, (size_t)len);
        key[len] = '\0';
    }
    return true;
}

static void next_token(json_t *out, const char *key)
{
    char enc[TOKEN_MAX * 2];
    size_t n = strlen(key);

    if (n >= TOKEN_MAX)
        return;
    base64url_encode((const uint8_t *)key, n, enc);
    json_object_set_new(out, "NextToken", json_string(enc));
}

/* A NamePrefix member: 1-64 of [0-9a-zA-Z-_.]; *out NULL when absent. */
static bool name_prefix(api_call *call, const char **out)
{
    int r = param_str(call, call->input, "NamePrefix", out, NULL);

    if (r < 0)
        return false;
    if (r == 0)
        *out = NULL;
    return r == 0 || scheduler_check_name(call, *out, "namePrefix");
}

/* --- schedules --------------------------------------------------------------- */

api_status scheduler_create_schedule(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    int64_t now = clock_now_ms();
    const char *name, *group, *token;

    if (!name_and_group(call, &name, &group) || !client_token(call, &token))
        return API_DONE;
    json_t *def = scheduler_definition(call, now, NULL);
    if (!def)
        return API_DONE;
    if (!scheduler_group_get(svc, call->account, group)) {
        json_decref(def);
        return group_missing(call, group);
    }
    scheduler_schedule *s = scheduler_schedule_find(svc, call->account, group, name);
    if (s) {
        json_decref(def);
        if (token && s->client_token && strcmp(token, s->client_token) == 0) {
            json_object_set_new(api_out(call), "ScheduleArn", json_string(s->arn));
            return API_DONE;
        }
        return api_fail(call, AWS_ERR_SCHEDULER_CONFLICT, "Schedule %s already exists.", name);
    }
    if (account_counts_get(&svc->schedule_counts, call->account) >= svc->limits->max_schedules) {
        json_decref(def);
        return api_fail(call, AWS_ERR_SCHEDULER_QUOTA,
                        "You have reached the maximum number of schedules (%zu) for this "
                        "account.", svc->limits->max_schedules);
    }
    s = scheduler_schedule_new(svc, store_next_resource_id(svc->store), call->account, group,
                               name);
    scheduler_schedule_apply(s, def);
    json_decref(def);
    s->created_ms = s->modified_ms = now;
    s->base_s = s->anchor_s = now / 1000;
    s->client_token = token ? xstrdup(token) : NULL;

    store_batch *b = store_batch_new();
    scheduler_schedule_store(svc, b, s);
    scheduler_schedule_arm(svc, s, s->base_s);
    log_info("scheduler", "schedule created account=%s group=%s schedule=%s", s->account,
             s->group, s->name);
    json_object_set_new(api_out(call), "ScheduleArn", json_string(s->arn));
    return scheduler_commit_and_finish(svc, call, b);
}

api_status scheduler_get_schedule(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *name, *group;

    if (!name_and_group(call, &name, &group))
        return API_DONE;
    scheduler_schedule *s = scheduler_schedule_find(svc, call->account, group, name);
    if (!s)
        return schedule_missing(call, name);
    json_decref(call->output);
    call->output = scheduler_schedule_output(s);
    return API_DONE;
}

api_status scheduler_update_schedule(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    int64_t now = clock_now_ms();
    const char *name, *group, *token;

    if (!name_and_group(call, &name, &group) || !client_token(call, &token))
        return API_DONE;
    scheduler_schedule *s = scheduler_schedule_find(svc, call->account, group, name);
    json_t *def = scheduler_definition(call, now, s ? s->def : NULL);
    if (!def)
        return API_DONE;
    if (!s) {
        json_decref(def);
        return schedule_missing(call, name);
    }
    json_object_set_new(api_out(call), "ScheduleArn", json_string(s->arn));
    if (token && s->client_token && strcmp(token, s->client_token) == 0) {
        json_decref(def);
        return API_DONE;
    }
    /* A rate keeps its rhythm through an update that leaves the expression
     * alone; a new expression starts counting now.  Nothing already
     * invoked is invoked again. */
    if (!json_equal(json_object_get(def, "ScheduleExpression"),
                    json_object_get(s->def, "ScheduleExpression")) ||
        !json_equal(json_object_get(def, "StartDate"), json_object_get(s->def, "StartDate")))
        s->anchor_s = now / 1000;
    scheduler_schedule_apply(s, def);
    json_decref(def);
    s->modified_ms = now;
    s->base_s = now / 1000;
    if (s->last_fired_s != SCHED_NO_TIME && s->last_fired_s >= s->base_s)
        s->base_s = s->last_fired_s + 1;
    free(s->client_token);
    s->client_token = token ? xstrdup(token) : NULL;

    store_batch *b = store_batch_new();
    scheduler_schedule_store(svc, b, s);
    scheduler_schedule_arm(svc, s, s->base_s);
    return scheduler_commit_and_finish(svc, call, b);
}

/* Remembers a delete's ClientToken so that its retry succeeds. */
static void remember_delete(scheduler_service *svc, const char *account, const char *token,
                            const char *arn)
{
    char key[160];

    snprintf(key, sizeof key, "%s/%s", account, token);
    free(map_str_del(&svc->delete_tokens, key));
    map_str_put(&svc->delete_tokens, key, xstrdup(arn));
}

static bool deleted_before(scheduler_service *svc, const char *account, const char *token,
                           const char *arn)
{
    char key[160];
    const char *prev;

    if (!token)
        return false;
    snprintf(key, sizeof key, "%s/%s", account, token);
    prev = map_str_get(&svc->delete_tokens, key);
    return prev && strcmp(prev, arn) == 0;
}

api_status scheduler_delete_schedule(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *name, *group, *token;

    if (!name_and_group(call, &name, &group) || !client_token(call, &token))
        return API_DONE;
    scheduler_schedule *s = scheduler_schedule_find(svc, call->account, group, name);
    if (!s) {
        buf arn;
        buf_init(&arn);
        buf_printf(&arn, "arn:aws:scheduler:%s:%s:schedule/%s/%s", svc->region, call->account,
                   group, name);
        bool again = deleted_before(svc, call->account, token, arn.data);
        buf_free(&arn);
        if (again) {
            api_out(call);
            return API_DONE;
        }
        return schedule_missing(call, name);
    }
    store_batch *b = store_batch_new();
    store_delete_resource(b, s->id);
    if (token)
        remember_delete(svc, call->account, token, s->arn);
    log_info("scheduler", "schedule deleted account=%s group=%s schedule=%s", s->account,
             s->group, s->name);
    scheduler_schedule_drop(svc, s);
    api_out(call);
    return scheduler_commit_and_finish(svc, call, b);
}

static int cmp_schedules(const void *a, const void *b)
{
    const scheduler_schedule *x = *(scheduler_schedule *const *)a;
    const scheduler_schedule *y = *(scheduler_schedule *const *)b;
    int c = strcmp(x->group, y->group);
    return c ? c : strcmp(x->name, y->name);
}

api_status scheduler_list_schedules(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *group = NULL, *prefix, *state = NULL;
    char after[TOKEN_MAX];
    long long max;
    int r;

    if ((r = param_str(call, call->input, "GroupName", &group, NULL)) < 0 ||
        (r && !scheduler_check_name(call, group, "groupName")) || !name_prefix(call, &prefix))
        return API_DONE;
    if (r == 0)
        group = NULL;
    if ((r = param_str(call, call->input, "State", &state, NULL)) < 0)
        return API_DONE;
    if (r && strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0)
        return api_fail(call, AWS_ERR_VALIDATION,
                        "1 validation error detected: Value '%s' at 'state' failed to satisfy "
                        "constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
                        state);
    if (r == 0)
        state = NULL;
    if (!page_params(call, &max, after, sizeof after))
        return API_DONE;
    if (group && !scheduler_group_get(svc, call->account, group))
        return group_missing(call, group);

    scheduler_schedule **all = xmalloc((svc->schedules.count + 1) * sizeof *all);
    size_t n = 0;
    size_t plen = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < svc->schedules.cap; i++) {
        scheduler_schedule *s = svc->schedules.keys[i] ? svc->schedules.vals[i] : NULL;
        if (!s || strcmp(s->account, call->account) != 0 ||
            (group && strcmp(s->group, group) != 0) ||
            (prefix && strncmp(s->name, prefix, plen) != 0) ||
            (state && strcmp(state, s->enabled ? "ENABLED" : "DISABLED") != 0))
            continue;
        all[n++] = s;
    }
    qsort(all, n, sizeof *all, cmp_schedules);

    json_t *list = json_array();
    json_object_set_new(api_out(call), "Schedules", list);
    char key[TOKEN_MAX];
    for (size_t i = 0; i < n; i++) {
        scheduler_schedule *s = all[i];
        snprintf(key, sizeof key, "%s/%s", s->group, s->name);
        if (after[0] && strcmp(key, after) <= 0)
            continue;
        if ((long long)json_array_size(list) == max) {
            snprintf(key, sizeof key, "%s/%s", all[i - 1]->group, all[i - 1]->name);
            next_token(call->output, key);
            break;
        }
        json_array_append_new(
            list, json_pack("{s:s,s:o,s:s,s:o,s:s,s:s,s:{s:O}}", "Arn", s->arn, "CreationDate",
                            scheduler_timestamp(s->created_ms), "GroupName", s->group,
                            "LastModificationDate", scheduler_timestamp(s->modified_ms), "Name",
                            s->name, "State", s->enabled ? "ENABLED" : "DISABLED", "Target",
                            "Arn", json_object_get(json_object_get(s->def, "Target"), "Arn")));
    }
    free(all);
    return API_DONE;
}

/* --- schedule groups ------------------------------------------------------------ */

/* Validates a Tags list [{Key, Value}] into obj (key -> value). */
static bool tags_param(api_call *call, json_t *obj)
{
    json_t *list, *e;
    size_t i;
    int r = param_list(call, call->input, "Tags", &list);

    if (r <= 0)
        return r == 0;
    if (json_array_size(list) > SCHEDULER_MAX_TAGS) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                 "Member must have length less than or equal to %d",
                 SCHEDULER_MAX_TAGS);
        return false;
    }
    json_array_foreach(list, i, e) {
        const char *k, *v;
        if (!json_is_object(e)) {
            api_fail(call, AWS_ERR_SERIALIZATION, "Value for Tags must be of type list of Tag");
            return false;
        }
        if ((r = param_str(call, e, "Key", &k, NULL)) <= 0 ||
            param_str(call, e, "Value", &v, NULL) <= 0) {
            if (!call->has_error)
                api_fail(call, AWS_ERR_VALIDATION,
                         "1 validation error detected: Value null at 'tags.%zu.member.%s' "
                         "failed to satisfy constraint: Member must not be null",
                         i + 1, r <= 0 ? "key" : "value");
            return false;
        }
        /* the model: TagKey 1-128, TagValue 1-256 */
        size_t kl = strlen(k), vl = strlen(v);
        bool bad_key = kl < 1 || kl > 128;
        if (bad_key || vl < 1 || vl > 256) {
            size_t len = bad_key ? kl : vl;
            api_fail(call, AWS_ERR_VALIDATION,
                     "1 validation error detected: Value '%s' at 'tags.%zu.member.%s' failed to "
                     "satisfy constraint: Member must have length %s",
                     bad_key ? k : v, i + 1, bad_key ? "key" : "value",
                     len < 1 ? "greater than or equal to 1"
                     : bad_key ? "less than or equal to 128"
                               : "less than or equal to 256");
            return false;
        }
        json_object_set_new(obj, k, json_string(v));
    }
    if (json_object_size(obj) > SCHEDULER_MAX_TAGS) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "A resource cannot have more than %d tags.", SCHEDULER_MAX_TAGS);
        return false;
    }
    return true;
}

static json_t *tag_list(json_t *tags)
{
    json_t *list = json_array(), *v;
    const char *k;

    json_object_foreach(tags, k, v)
        json_array_append_new(list, json_pack("{s:s,s:O}", "Key", k, "Value", v));
    return list;
}

static json_t *group_summary(const scheduler_group *g)
{
    return json_pack("{s:s,s:o,s:o,s:s,s:s}", "Arn", g->arn, "CreationDate",
                     scheduler_timestamp(g->created_ms), "LastModificationDate",
                     scheduler_timestamp(g->modified_ms), "Name", g->name, "State", "ACTIVE");
}

api_status scheduler_create_schedule_group(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *name, *token;
    json_t *tags = json_object();

    if (!name_and_group(call, &name, NULL) || !client_token(call, &token) ||
        !tags_param(call, tags)) {
        json_decref(tags);
        return API_DONE;
    }
    scheduler_group *g = scheduler_group_get(svc, call->account, name);
    if (g) {
        json_decref(tags);
        if (token && g->client_token && strcmp(token, g->client_token) == 0) {
            json_object_set_new(api_out(call), "ScheduleGroupArn", json_string(g->arn));
            return API_DONE;
        }
        return api_fail(call, AWS_ERR_SCHEDULER_CONFLICT, "Schedule group %s already exists.",
                        name);
    }
    g = scheduler_group_new(svc, 0, call->account, name);
    json_object_update(g->tags, tags);
    json_decref(tags);
    g->client_token = token ? xstrdup(token) : NULL;
    store_batch *b = store_batch_new();
    scheduler_group_store(svc, b, g);
    json_object_set_new(api_out(call), "ScheduleGroupArn", json_string(g->arn));
    return scheduler_commit_and_finish(svc, call, b);
}

api_status scheduler_get_schedule_group(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *name;

    if (!name_and_group(call, &name, NULL))
        return API_DONE;
    scheduler_group *g = scheduler_group_get(svc, call->account, name);
    if (!g)
        return group_missing(call, name);
    json_decref(call->output);
    call->output = group_summary(g);
    return API_DONE;
}

api_status scheduler_delete_schedule_group(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *name, *token;

    if (!name_and_group(call, &name, NULL) || !client_token(call, &token))
        return API_DONE;
    if (strcmp(name, SCHEDULER_DEFAULT_GROUP) == 0)
        return api_fail(call, AWS_ERR_VALIDATION, "The default schedule group cannot be "
                        "deleted.");
    scheduler_group *g = scheduler_group_get(svc, call->account, name);
    if (!g) {
        buf arn;
        buf_init(&arn);
        buf_printf(&arn, "arn:aws:scheduler:%s:%s:schedule-group/%s", svc->region,
                   call->account, name);
        bool again = deleted_before(svc, call->account, token, arn.data);
        buf_free(&arn);
        if (again) {
            api_out(call);
            return API_DONE;
        }
        return group_missing(call, name);
    }
    store_batch *b = store_batch_new();
    /* Its schedules go with it, in the same commit. */
    scheduler_schedule **doomed = xmalloc((svc->schedules.count + 1) * sizeof *doomed);
    size_t n = 0;
    for (size_t i = 0; i < svc->schedules.cap; i++) {
        scheduler_schedule *s = svc->schedules.keys[i] ? svc->schedules.vals[i] : NULL;
        if (s && strcmp(s->account, g->account) == 0 && strcmp(s->group, g->name) == 0)
            doomed[n++] = s;
    }
    for (size_t i = 0; i < n; i++) {
        store_delete_resource(b, doomed[i]->id);
        scheduler_schedule_drop(svc, doomed[i]);
    }
    free(doomed);
    if (g->id)
        store_delete_resource(b, g->id);
    if (token)
        remember_delete(svc, call->account, token, g->arn);
    log_info("scheduler", "schedule group deleted account=%s group=%s schedules=%zu",
             g->account, g->name, n);
    scheduler_group_drop(svc, g);
    api_out(call);
    return scheduler_commit_and_finish(svc, call, b);
}

static int cmp_groups(const void *a, const void *b)
{
    const scheduler_group *x = *(scheduler_group *const *)a;
    const scheduler_group *y = *(scheduler_group *const *)b;
    return strcmp(x->name, y->name);
}

api_status scheduler_list_schedule_groups(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *prefix;
    char after[TOKEN_MAX];
    long long max;

    if (!name_prefix(call, &prefix) || !page_params(call, &max, after, sizeof after))
        return API_DONE;
    scheduler_group_get(svc, call->account, SCHEDULER_DEFAULT_GROUP);
    scheduler_group **all = xmalloc((svc->groups.count + 1) * sizeof *all);
    size_t n = 0, plen = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < svc->groups.cap; i++) {
        scheduler_group *g = svc->groups.keys[i] ? svc->groups.vals[i] : NULL;
        if (g && strcmp(g->account, call->account) == 0 &&
            (!prefix || strncmp(g->name, prefix, plen) == 0))
            all[n++] = g;
    }
    qsort(all, n, sizeof *all, cmp_groups);
    json_t *list = json_array();
    json_object_set_new(api_out(call), "ScheduleGroups", list);
    for (size_t i = 0; i < n; i++) {
        if (after[0] && strcmp(all[i]->name, after) <= 0)
            continue;
        if ((long long)json_array_size(list) == max) {
            next_token(call->output, all[i - 1]->name);
            break;
        }
        json_array_append_new(list, group_summary(all[i]));
    }
    free(all);
    return API_DONE;
}

/* --- tags ------------------------------------------------------------------------- */

/* The group named by ResourceArn, or NULL with the call's error set. */
static scheduler_group *group_by_arn(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    const char *arn;
    int r = param_str(call, call->input, "ResourceArn", &arn, NULL);
    char account[16], name[80];
    int off = 0;

    if (r < 0)
        return NULL;
    if (r == 0) {
        api_fail(call, AWS_ERR_VALIDATION,
                 "1 validation error detected: Value null at 'resourceArn' failed to satisfy "
                 "constraint: Member must not be null");
        return NULL;
    }
    /* arn:aws:scheduler:<region>:<12 digits>:schedule-group/<name> */
    const char *p = strncmp(arn, "arn:aws", 7) == 0 ? strchr(arn + 4, ':') : NULL;
    if (p && strncmp(p, ":scheduler:", 11) == 0 && (p = strchr(p + 11, ':')) &&
        sscanf(p, ":%12[0-9]:schedule-group/%n", account, &off) == 1 && off > 0 &&
        strlen(account) == 12 && strlen(p + off) < sizeof name) {
        snprintf(name, sizeof name, "%s", p + off);
        if (*name && strspn(name, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                                  "XYZ-_.") == strlen(name)) {
            scheduler_group *g = scheduler_group_get(svc, account, name);
            if (!g)
                group_missing(call, name);
            return g;
        }
    }
    api_fail(call, AWS_ERR_VALIDATION,
             "1 validation error detected: Value '%s' at 'resourceArn' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: "
             "^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\\-]+:\\d{12}:schedule-group\\/"
             "[0-9a-zA-Z-_.]+$",
             arn);
    return NULL;
}

api_status scheduler_tag_resource(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    json_t *tags = json_object();
    json_t *list;

    scheduler_group *g = group_by_arn(call);
    if (!g) {
        json_decref(tags);
        return API_DONE;
    }
    if (param_list(call, call->input, "Tags", &list) == 0) {
        json_decref(tags);
        return api_fail(call, AWS_ERR_VALIDATION,
                        "1 validation error detected: Value null at 'tags' failed to satisfy "
                        "constraint: Member must not be null");
    }
    if (!tags_param(call, tags)) {
        json_decref(tags);
        return API_DONE;
    }
    json_t *merged = json_copy(g->tags);
    json_object_update(merged, tags);
    json_decref(tags);
    if (json_object_size(merged) > SCHEDULER_MAX_TAGS) {
        json_decref(merged);
        return api_fail(call, AWS_ERR_VALIDATION, "A resource cannot have more than %d tags.",
                        SCHEDULER_MAX_TAGS);
    }
    json_decref(g->tags);
    g->tags = merged;
    store_batch *b = store_batch_new();
    scheduler_group_store(svc, b, g);
    api_out(call);
    return scheduler_commit_and_finish(svc, call, b);
}

api_status scheduler_untag_resource(api_call *call)
{
    scheduler_service *svc = scheduler_of(call);
    json_t *keys, *k;
    size_t i;

    scheduler_group *g = group_by_arn(call);
    if (!g)
        return API_DONE;
    int r = param_str_list(call, call->input, "TagKeys", &keys);
    if (r < 0)
        return API_DONE;
    if (r == 0)
        return api_fail(call, AWS_ERR_VALIDATION,
                        "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                        "constraint: Member must not be null");
    json_array_foreach(keys, i, k)
        json_object_del(g->tags, json_string_value(k));
    store_batch *b = store_batch_new();
    scheduler_group_store(svc, b, g);
    api_out(call);
    return scheduler_commit_and_finish(svc, call, b);
}

api_status scheduler_list_tags_for_resource(api_call *call)
{
    scheduler_group *g = group_by_arn(call);

    if (!g)
        return API_DONE;
    json_object_set_new(api_out(call), "Tags", tag_list(g->tags));
    return API_DONE;
}
