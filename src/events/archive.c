/*
 * archive.c - archives and replays.
 *
 * An archive is a resource ("events.archive"); its events are store
 * messages whose container is the archive's id, written in the PutEvents
 * batch of the event they copy, so an acknowledged event is archived.  In
 * memory an archive keeps only each event's storage sequence and event time;
 * a replay reads the bodies back with store_read_payload.
 *
 * A replay is a resource ("events.replay") holding its Describe document.
 * StartReplay answers STARTING; a zero timer then runs every STARTING
 * replay: the archived events whose time falls in [EventStartTime,
 * EventEndTime) are matched again on the archive's bus, with a
 * "replay-name" field added and only against the rules named in FilterArns
 * (all rules when it is absent), and delivered in one batch that also
 * records the replay as COMPLETED.  A replay cut short by a crash is still
 * STARTING on disk and runs again at start.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "events/events.h"

#define ARCHIVE_KIND "events.archive"
#define REPLAY_KIND "events.replay"

static void key_of(const char *account, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", account, name);
}

static void archive_free(events_archive *a)
{
    if (!a)
        return;
    match_free(a->compiled);
    free(a->account);
    free(a->name);
    free(a->arn);
    free(a->bus_arn);
    free(a->pattern);
    free(a->description);
    free(a->seqs);
    free(a->times);
    free(a);
}

static void archive_add(events_archive *a, uint64_t seq, int64_t time_ms, size_t size)
{
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->seqs = xrealloc(a->seqs, a->cap * sizeof *a->seqs);
        a->times = xrealloc(a->times, a->cap * sizeof *a->times);
    }
    a->seqs[a->count] = seq;
    a->times[a->count] = time_ms;
    a->count++;
    a->size_bytes += size;
}

static char *archive_doc(const events_archive *a)
{
    json_t *doc = json_pack("{s:s,s:I,s:I}", "bus_arn", a->bus_arn, "retention_days",
                            (json_int_t)a->retention_days, "created_ms",
                            (json_int_t)a->created_ms);
    if (a->pattern)
        json_object_set_new(doc, "pattern", json_string(a->pattern));
    if (a->description)
        json_object_set_new(doc, "description", json_string(a->description));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static void archive_store(store_batch *b, const events_archive *a)
{
    char *doc = archive_doc(a);
    store_put_resource(b, a->id, ARCHIVE_KIND, a->account, a->name, doc);
    free(doc);
}

/* Compiles text into *out (NULL text: no pattern); -1 with the error set. */
static int compile_pattern(api_call *call, const char *text, match_pattern **out)
{
    char err[MATCH_ERR_MAX];

    *out = NULL;
    if (!text)
        return 0;
    *out = match_compile(text, strlen(text), MATCH_EVENTBRIDGE, err, sizeof err);
    if (!*out) {
        api_fail(call, AWS_ERR_EVENTS_INVALID_PATTERN, "Event pattern is not valid. Reason: %s",
                 err);
        return -1;
    }
    return 0;
}

void events_archive_event(events_dispatch *d, events_bus *bus, json_t *event,
                          const char *event_text)
{
    events_service *svc = d->svc;
    size_t len = strlen(event_text);

    if (d->replay || svc->archives.count == 0)
        return;
    for (size_t i = 0; i < svc->archives.cap; i++) {
        events_archive *a = svc->archives.keys[i] ? svc->archives.vals[i] : NULL;
        if (!a || strcmp(a->bus_arn, bus->arn) != 0)
            continue;
        if (a->compiled && !match_event(a->compiled, event_text, len))
            continue;
        const char *id = json_string_value(json_object_get(event, "id"));
        int64_t when = clock_now_ms();
        const char *t = json_string_value(json_object_get(event, "time"));
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (t && strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm))
            when = (int64_t)timegm(&tm) * 1000;
        store_message m = {.seq = store_next_message_seq(svc->store), .container = a->id,
                           .message_id = id ? id : "", .sent_ms = when,
                           .visible_at_ms = INT64_MAX, .body = event_text, .body_len = len};
        store_put_message(d->batch, &m);
        archive_add(a, m.seq, when, len);
    }
}

/* --- archive actions ------------------------------------------------------------ */

static json_t *archive_view(const events_archive *a, bool full)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:f}", "ArchiveName", a->name,
                          "EventSourceArn", a->bus_arn, "State", "ENABLED", "RetentionDays",
                          (json_int_t)a->retention_days, "SizeBytes",
                          (json_int_t)a->size_bytes, "EventCount", (json_int_t)a->count,
                          "CreationTime", (double)a->created_ms / 1000.0);
    if (full) {
        json_object_set_new(o, "ArchiveArn", json_string(a->arn));
        if (a->pattern)
            json_object_set_new(o, "EventPattern", json_string(a->pattern));
        if (a->description)
            json_object_set_new(o, "Description", json_string(a->description));
    }
    return o;
}

static events_archive *archive_from_call(api_call *call)
{
    const char *name = NULL;
    char key[512];

    if (param_str(call, call->input, "ArchiveName", &name, NULL) < 0)
        return NULL;
    if (!name) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "1 validation error detected: Value null at 'archiveName' failed to satisfy "
                 "constraint: Member must not be null");
        return NULL;
    }
    key_of(call->account, name, key, sizeof key);
    events_archive *a = map_str_get(&events_of(call)->archives, key);
    if (!a)
        api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Archive %s does not exist.", name);
    return a;
}

api_status events_create_archive(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL, *source = NULL, *desc = NULL, *pattern = NULL;
    long long days = 0;
    char key[512];
    match_pattern *compiled;

    if (param_str(call, call->input, "ArchiveName", &name, NULL) < 0 ||
        param_str(call, call->input, "EventSourceArn", &source, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_str(call, call->input, "EventPattern", &pattern, NULL) < 0 ||
        param_int(call, call->input, "RetentionDays", &days) < 0)
        return API_DONE;
    if (!name || !source)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameters ArchiveName and EventSourceArn are required.");
    if (events_name_invalid(call, name, "archiveName", 48))
        return API_DONE;
    if (days < 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter RetentionDays is not valid.");
    events_bus *bus = strstr(source, ":event-bus/") ? events_bus_find(svc, call->account, source)
                                                    : NULL;
    if (bus && strcmp(bus->account, call->account) != 0)
        return events_fail_denied(call, bus->arn); /* archives are of the caller's own buses */
    if (!bus)
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.",
                        strstr(source, ":event-bus/") ? strstr(source, ":event-bus/") + 11
                                                      : source);
    key_of(call->account, name, key, sizeof key);
    if (map_str_get(&svc->archives, key))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_EXISTS, "Archive %s already exists.", name);
    if (compile_pattern(call, pattern, &compiled) < 0)
        return API_DONE;
    events_archive *a = xcalloc(1, sizeof *a);
    buf arn;
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:events:%s:%s:archive/%s", svc->region, call->account, name);
    a->id = store_next_resource_id(svc->store);
    a->account = xstrdup(call->account);
    a->name = xstrdup(name);
    a->arn = buf_steal(&arn);
    a->bus_arn = xstrdup(bus->arn);
    a->pattern = pattern ? xstrdup(pattern) : NULL;
    a->compiled = compiled;
    a->description = desc ? xstrdup(desc) : NULL;
    a->retention_days = days;
    a->created_ms = clock_now_ms();
    map_str_put(&svc->archives, key, a);
    store_batch *b = store_batch_new();
    archive_store(b, a);
    json_t *out = api_out(call);
    json_object_set_new(out, "ArchiveArn", json_string(a->arn));
    json_object_set_new(out, "State", json_string("ENABLED"));
    json_object_set_new(out, "CreationTime", json_real((double)a->created_ms / 1000.0));
    return events_commit_and_finish(svc, call, b);
}

api_status events_describe_archive(api_call *call)
{
    events_archive *a = archive_from_call(call);

    if (!a)
        return API_DONE;
    json_decref(call->output);
    call->output = archive_view(a, true);
    return API_DONE;
}

api_status events_update_archive(api_call *call)
{
    const char *desc = NULL, *pattern = NULL;
    long long days = -1;
    match_pattern *compiled;
    events_archive *a = archive_from_call(call);

    if (!a || param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_str(call, call->input, "EventPattern", &pattern, NULL) < 0 ||
        param_int(call, call->input, "RetentionDays", &days) < 0)
        return API_DONE;
    if (pattern) {
        if (compile_pattern(call, pattern, &compiled) < 0)
            return API_DONE;
        match_free(a->compiled);
        free(a->pattern);
        a->compiled = compiled;
        a->pattern = xstrdup(pattern);
    }
    if (desc) {
        free(a->description);
        a->description = xstrdup(desc);
    }
    if (days >= 0)
        a->retention_days = days;
    store_batch *b = store_batch_new();
    archive_store(b, a);
    json_t *out = api_out(call);
    json_object_set_new(out, "ArchiveArn", json_string(a->arn));
    json_object_set_new(out, "State", json_string("ENABLED"));
    json_object_set_new(out, "CreationTime", json_real((double)a->created_ms / 1000.0));
    return events_commit_and_finish(events_of(call), call, b);
}

api_status events_delete_archive(api_call *call)
{
    events_service *svc = events_of(call);
    char key[512];
    events_archive *a = archive_from_call(call);

    if (!a)
        return API_DONE;
    store_batch *b = store_batch_new();
    store_delete_container(b, a->id);
    key_of(a->account, a->name, key, sizeof key);
    map_str_del(&svc->archives, key);
    archive_free(a);
    api_out(call);
    return events_commit_and_finish(svc, call, b);
}

static json_t *archive_list_view(api_call *call, void *item)
{
    events_archive *a = item;
    const char *source = json_string_value(json_object_get(call->input, "EventSourceArn"));
    const char *state = json_string_value(json_object_get(call->input, "State"));

    if ((source && strcmp(source, a->bus_arn) != 0) || (state && strcmp(state, "ENABLED") != 0))
        return NULL;
    return archive_view(a, false);
}

/* The name an event-bus ARN (or a bare name) shows in "Event bus X does not exist." */
static const char *bus_name_shown(const char *name_or_arn)
{
    const char *slash = strstr(name_or_arn, ":event-bus/");
    return slash ? slash + strlen(":event-bus/") : name_or_arn;
}

/* The caller's own bus an ARN names, or NULL. */
static events_bus *own_bus(api_call *call, const char *arn)
{
    events_bus *bus = strstr(arn, ":event-bus/") ? events_bus_find(events_of(call),
                                                                   call->account, arn)
                                                 : NULL;
    return bus && strcmp(bus->account, call->account) == 0 ? bus : NULL;
}

api_status events_list_archives(api_call *call)
{
    const char *source = NULL;

    if (param_str(call, call->input, "EventSourceArn", &source, NULL) < 0)
        return API_DONE;
    /* A bus that is not there is an error, not an empty list (AWS recording in
     * localstack's test_archive_and_replay snapshot, list-archives-unknown-event-bus). */
    if (source && !own_bus(call, source))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.",
                        bus_name_shown(source));
    return events_list_named(call, &events_of(call)->archives, "Archives", archive_list_view);
}

/* --- replays ------------------------------------------------------------------- */

static void replay_store(store_batch *b, const char *account, json_t *doc)
{
    json_t *copy = json_deep_copy(doc);
    json_object_del(copy, "id");
    char *text = json_dumps(copy, JSON_COMPACT);
    store_put_resource(b, (uint64_t)json_integer_value(json_object_get(doc, "id")), REPLAY_KIND,
                       account, json_string_value(json_object_get(doc, "ReplayName")), text);
    free(text);
    json_decref(copy);
}

static events_archive *archive_by_arn(events_service *svc, const char *arn)
{
    for (size_t i = 0; arn && i < svc->archives.cap; i++) {
        events_archive *a = svc->archives.keys[i] ? svc->archives.vals[i] : NULL;
        if (a && strcmp(a->arn, arn) == 0)
            return a;
    }
    return NULL;
}

static json_t *replay_from_call(api_call *call, const char **name_out)
{
    const char *name = NULL;
    char key[512];

    if (param_str(call, call->input, "ReplayName", &name, NULL) < 0)
        return NULL;
    if (!name) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "1 validation error detected: Value null at 'replayName' failed to satisfy "
                 "constraint: Member must not be null");
        return NULL;
    }
    key_of(call->account, name, key, sizeof key);
    json_t *doc = map_str_get(&events_of(call)->replays, key);
    if (!doc)
        api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Replay %s does not exist.", name);
    if (name_out)
        *name_out = name;
    return doc;
}

static double param_time(json_t *in, const char *name, bool *ok)
{
    json_t *v = json_object_get(in, name);
    if (json_is_number(v))
        return json_number_value(v);
    *ok = false;
    return 0;
}

api_status events_start_replay(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL, *source = NULL, *desc = NULL;
    json_t *dest = NULL;
    bool ok = true;
    char key[512];

    if (param_str(call, call->input, "ReplayName", &name, NULL) < 0 ||
        param_str(call, call->input, "EventSourceArn", &source, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_object(call, call->input, "Destination", &dest) < 0)
        return API_DONE;
    double start = param_time(call->input, "EventStartTime", &ok);
    double end = param_time(call->input, "EventEndTime", &ok);
    const char *dest_arn = json_string_value(json_object_get(dest, "Arn"));
    if (!name || !source || !dest_arn || !ok)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameters ReplayName, EventSourceArn, EventStartTime, EventEndTime "
                        "and Destination are required.");
    if (events_name_invalid(call, name, "replayName", 64))
        return API_DONE;
    key_of(call->account, name, key, sizeof key);
    if (map_str_get(&svc->replays, key))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_EXISTS, "Replay %s already exists.", name);
    /* AWS (localstack's test_archive_and_replay snapshot): an unknown archive is a
     * ValidationException on EventSourceArn, an unknown destination bus a
     * ResourceNotFoundException, another existing bus a cross-bus ValidationException. */
    events_archive *a = archive_by_arn(svc, source);
    if (!a || strcmp(a->account, call->account) != 0) { /* another account's is not there */
        const char *shown = strstr(source, ":archive/") ? strstr(source, ":archive/") + 9 : source;
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameter EventSourceArn is not valid. Reason: Archive %s does not "
                        "exist.",
                        shown);
    }
    if (start >= end)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameter EventEndTime is not valid. Reason: EventStartTime must be "
                        "before EventEndTime.");
    if (strcmp(dest_arn, a->bus_arn) != 0 && !own_bus(call, dest_arn))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.",
                        bus_name_shown(dest_arn));
    if (strcmp(dest_arn, a->bus_arn) != 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay "
                        "is not permitted.");
    json_t *filters = json_object_get(dest, "FilterArns");
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f) {
        events_rule *r = events_rule_by_arn(svc, json_string_value(f));
        if (!r || strcmp(r->bus->arn, a->bus_arn) != 0)
            return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                            "Parameter Destination.FilterArns is not valid. Reason: %s is not "
                            "a rule of the destination event bus.",
                            json_string_value(f) ? json_string_value(f) : "null");
    }
    buf arn;
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:events:%s:%s:replay/%s", svc->region, call->account, name);
    double now = (double)clock_now_ms() / 1000.0;
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:O,s:f,s:f,s:f,s:I}", "ReplayName", name,
                            "ReplayArn", arn.data, "State", "STARTING", "EventSourceArn", source,
                            "Destination", dest, "EventStartTime", start, "EventEndTime", end,
                            "ReplayStartTime", now, "id",
                            (json_int_t)store_next_resource_id(svc->store));
    buf_free(&arn);
    if (desc)
        json_object_set_new(doc, "Description", json_string(desc));
    map_str_put(&svc->replays, key, doc);
    store_batch *b = store_batch_new();
    replay_store(b, call->account, doc);
    json_t *out = api_out(call);
    json_object_set(out, "ReplayArn", json_object_get(doc, "ReplayArn"));
    json_object_set_new(out, "State", json_string("STARTING"));
    json_object_set(out, "ReplayStartTime", json_object_get(doc, "ReplayStartTime"));
    struct timeval zero = {0, 0};
    evtimer_add(svc->replay_timer, &zero);
    return events_commit_and_finish(svc, call, b);
}

static json_t *replay_view(json_t *doc)
{
    json_t *o = json_deep_copy(doc);
    json_object_del(o, "id");
    json_object_del(o, "account");
    return o;
}

api_status events_describe_replay(api_call *call)
{
    json_t *doc = replay_from_call(call, NULL);

    if (!doc)
        return API_DONE;
    json_decref(call->output);
    call->output = replay_view(doc);
    return API_DONE;
}

static json_t *replay_list_view(api_call *call, void *item)
{
    json_t *doc = item;
    const char *source = json_string_value(json_object_get(call->input, "EventSourceArn"));
    const char *state = json_string_value(json_object_get(call->input, "State"));
    static const char *const fields[] = {"ReplayName", "EventSourceArn", "State",
                                         "StateReason", "EventStartTime", "EventEndTime",
                                         "EventLastReplayedTime", "ReplayStartTime",
                                         "ReplayEndTime", NULL};

    if ((source && strcmp(source, json_string_value(json_object_get(doc, "EventSourceArn")))) ||
        (state && strcmp(state, json_string_value(json_object_get(doc, "State")))))
        return NULL;
    json_t *o = json_object();
    for (int i = 0; fields[i]; i++)
        if (json_object_get(doc, fields[i]))
            json_object_set(o, fields[i], json_object_get(doc, fields[i]));
    return o;
}

api_status events_list_replays(api_call *call)
{
    return events_list_named(call, &events_of(call)->replays, "Replays", replay_list_view);
}

api_status events_cancel_replay(api_call *call)
{
    const char *name;
    json_t *doc = replay_from_call(call, &name);

    if (!doc)
        return API_DONE;
    const char *state = json_string_value(json_object_get(doc, "State"));
    if (strcmp(state, "STARTING") != 0 && strcmp(state, "RUNNING") != 0)
        return api_fail(call, AWS_ERR_EVENTS_ILLEGAL_STATUS,
                        "Replay %s is not in a valid state for this operation.", name);
    json_object_set_new(doc, "State", json_string("CANCELLED"));
    json_object_set_new(doc, "StateReason", json_string("Cancelled by the user."));
    json_object_set_new(doc, "ReplayEndTime", json_real((double)clock_now_ms() / 1000.0));
    store_batch *b = store_batch_new();
    replay_store(b, call->account, doc);
    json_t *out = api_out(call);
    json_object_set(out, "ReplayArn", json_object_get(doc, "ReplayArn"));
    json_object_set_new(out, "State", json_string("CANCELLING"));
    return events_commit_and_finish(events_of(call), call, b);
}

/* --- running replays ----------------------------------------------------------------- */

static void replay_done(void *arg, int status)
{
    events_dispatch *d = arg;
    d->batch = NULL;
    json_decref(d->only_rules);
    d->only_rules = NULL;
    events_dispatch_finish(d, status);
    free(d);
}

/* The archived event with "replay-name" where AWS puts it, right after "region"
 * (localstack's test_archive_and_replay snapshot of replayed events); takes `ev`. */
static json_t *with_replay_name(json_t *ev, const char *name)
{
    const char *k;
    json_t *v;
    bool placed = false;

    if (!json_is_object(ev))
        return ev;
    json_t *out = json_object();
    json_object_foreach(ev, k, v) {
        if (strcmp(k, "replay-name") == 0)
            continue;
        json_object_set(out, k, v);
        if (!placed && strcmp(k, "region") == 0) {
            json_object_set_new(out, "replay-name", json_string(name));
            placed = true;
        }
    }
    if (!placed)
        json_object_set_new(out, "replay-name", json_string(name));
    json_decref(ev);
    return out;
}

/* Runs one STARTING replay to its end in one batch. */
static void run_replay(events_service *svc, const char *account, json_t *doc)
{
    events_archive *a = archive_by_arn(svc, json_string_value(json_object_get(doc,
                                                                              "EventSourceArn")));
    json_t *dest = json_object_get(doc, "Destination");
    events_bus *bus = events_bus_find(svc, account, json_string_value(json_object_get(dest,
                                                                                      "Arn")));
    const char *name = json_string_value(json_object_get(doc, "ReplayName"));
    double now = (double)clock_now_ms() / 1000.0;

    events_dispatch *d = xcalloc(1, sizeof *d);
    d->svc = svc;
    d->batch = store_batch_new();
    d->staged = sqs_staged_new(svc->sqs);
    d->new_deliveries = json_array();
    d->replay = true;
    json_t *filters = json_object_get(dest, "FilterArns");
    if (json_array_size(filters) > 0)
        d->only_rules = json_incref(filters);
    if (!a || !bus) {
        json_object_set_new(doc, "State", json_string("FAILED"));
        json_object_set_new(doc, "StateReason",
                            json_string(a ? "The event bus no longer exists."
                                          : "The archive no longer exists."));
    } else {
        int64_t from = (int64_t)llround(json_number_value(json_object_get(doc, "EventStartTime")) *
                                        1000.0);
        int64_t to = (int64_t)llround(json_number_value(json_object_get(doc, "EventEndTime")) *
                                      1000.0);
        int64_t last = -1;
        for (size_t i = 0; i < a->count; i++) {
            char *body = NULL, *attrs = NULL;
            size_t blen = 0, alen = 0;
            if (a->times[i] < from || a->times[i] >= to)
                continue;
            if (store_read_payload(svc->store, a->seqs[i], &body, &blen, &attrs, &alen) < 0)
                continue;
            json_t *ev = with_replay_name(json_loadb(body, blen, 0, NULL), name);
            if (json_is_object(ev)) {
                char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
                events_dispatch_event(d, bus, ev, text);
                free(text);
                if (a->times[i] > last)
                    last = a->times[i];
            }
            json_decref(ev);
            free(body);
            free(attrs);
        }
        json_object_set_new(doc, "State", json_string("COMPLETED"));
        if (last >= 0)
            json_object_set_new(doc, "EventLastReplayedTime", json_real((double)last / 1000.0));
    }
    json_object_set_new(doc, "ReplayEndTime", json_real(now));
    replay_store(d->batch, account, doc);
    store_submit(svc->store, d->batch, replay_done, d);
    log_info("events", "replay finished replay=%s state=%s", name,
             json_string_value(json_object_get(doc, "State")));
}

static void run_starting(evutil_socket_t fd, short what, void *arg)
{
    events_service *svc = arg;

    for (size_t i = 0; i < svc->replays.cap; i++) {
        if (!svc->replays.keys[i])
            continue;
        json_t *doc = svc->replays.vals[i];
        if (strcmp(json_string_value(json_object_get(doc, "State")), "STARTING") != 0)
            continue;
        char account[64];
        const char *k = svc->replays.keys[i];
        const char *slash = strchr(k, '/');
        snprintf(account, sizeof account, "%.*s", slash ? (int)(slash - k) : 0, k);
        run_replay(svc, account, doc);
    }
}

/* --- loading ------------------------------------------------------------------- */

static void load_archive(void *arg, uint64_t id, const char *kind, const char *account,
                         const char *name, const char *text)
{
    events_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);
    char key[512];

    if (!doc)
        return;
    events_archive *a = xcalloc(1, sizeof *a);
    buf arn;
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:events:%s:%s:archive/%s", svc->region, account, name);
    a->id = id;
    a->account = xstrdup(account);
    a->name = xstrdup(name);
    a->arn = buf_steal(&arn);
    a->bus_arn = xstrdup(json_string_value(json_object_get(doc, "bus_arn")) ?
                         json_string_value(json_object_get(doc, "bus_arn")) : "");
    const char *p = json_string_value(json_object_get(doc, "pattern"));
    if (p) {
        a->pattern = xstrdup(p);
        a->compiled = match_compile(p, strlen(p), MATCH_EVENTBRIDGE, NULL, 0);
    }
    const char *desc = json_string_value(json_object_get(doc, "description"));
    a->description = desc ? xstrdup(desc) : NULL;
    a->retention_days = json_integer_value(json_object_get(doc, "retention_days"));
    a->created_ms = json_integer_value(json_object_get(doc, "created_ms"));
    key_of(account, name, key, sizeof key);
    map_str_put(&svc->archives, key, a);
    json_decref(doc);
}

static void load_replay(void *arg, uint64_t id, const char *kind, const char *account,
                        const char *name, const char *text)
{
    events_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);
    char key[512];

    if (!json_is_object(doc)) {
        json_decref(doc);
        return;
    }
    json_object_set_new(doc, "id", json_integer((json_int_t)id));
    key_of(account, name, key, sizeof key);
    map_str_put(&svc->replays, key, doc);
}

static void load_archived(void *arg, const store_message *m)
{
    map_u64 *by_id = arg;
    events_archive *a = map_u64_get(by_id, m->container);
    if (a)
        archive_add(a, m->seq, m->sent_ms, m->body_len);
}

void events_archive_init(events_service *svc)
{
    map_str_init(&svc->archives);
    map_str_init(&svc->replays);
    svc->replay_timer = evtimer_new(svc->base, run_starting, svc);
}

int events_archive_load(events_service *svc)
{
    if (store_load_resources(svc->store, ARCHIVE_KIND, load_archive, svc) < 0 ||
        store_load_resources(svc->store, REPLAY_KIND, load_replay, svc) < 0)
        return -1;
    if (svc->archives.count) {
        map_u64 by_id;
        map_u64_init(&by_id);
        for (size_t i = 0; i < svc->archives.cap; i++)
            if (svc->archives.keys[i])
                map_u64_put(&by_id, ((events_archive *)svc->archives.vals[i])->id,
                            svc->archives.vals[i]);
        int rc = store_load_messages(svc->store, load_archived, &by_id);
        map_u64_free(&by_id);
        if (rc < 0)
            return -1;
    }
    struct timeval zero = {0, 0};
    evtimer_add(svc->replay_timer, &zero);
    return 0;
}

void events_archive_free_all(events_service *svc)
{
    for (size_t i = 0; i < svc->archives.cap; i++)
        if (svc->archives.keys[i])
            archive_free(svc->archives.vals[i]);
    map_str_free(&svc->archives);
    for (size_t i = 0; i < svc->replays.cap; i++)
        if (svc->replays.keys[i])
            json_decref(svc->replays.vals[i]);
    map_str_free(&svc->replays);
    if (svc->replay_timer)
        event_free(svc->replay_timer);
    svc->replay_timer = NULL;
}
