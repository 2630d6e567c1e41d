/*
 * put.c - PutEvents.
 *
 * Request-level errors are the ones AWS gives for the request as a whole
 * (too many entries, too many bytes); everything about one entry is
 * reported inside a 200 answer, in the entry's position.  The accepted
 * entries are matched and delivered into one store batch; the answer is
 * sent from that batch's completion, so an acknowledged event is on its SQS
 * targets (and its pending deliveries are on disk) even after a crash.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "events/events.h"
#include "events/transform.h"

typedef struct put_ctx {
    api_call *call;
    events_dispatch d;
} put_ctx;

static void put_done(void *arg, int status)
{
    put_ctx *pc = arg;
    api_call *call = pc->call;

    pc->d.batch = NULL; /* the store owned and freed it */
    events_dispatch_finish(&pc->d, status);
    if (status != 0) {
        json_decref(call->output);
        call->output = NULL;
        api_fail(call, AWS_ERR_EVENTS_INTERNAL, "An internal error occurred.");
    }
    free(pc);
    api_finish(call);
}

static json_t *entry_error(const char *code, const char *msg)
{
    return json_pack("{s:s,s:s}", "ErrorCode", code, "ErrorMessage", msg);
}

/* Checks one entry and, if it is good, fills e; returns the error object
 * for the entry's result, or NULL. */
static json_t *check_entry(api_call *call, json_t *entry, events_entry *e, json_t **detail,
                           events_bus **bus)
{
    events_service *svc = events_of(call);
    json_t *v;

    if (!json_is_object(entry))
        return entry_error("InvalidArgument", "Parameter Entry is not valid.");
    e->source = json_string_value(json_object_get(entry, "Source"));
    e->detail_type = json_string_value(json_object_get(entry, "DetailType"));
    const char *detail_text = json_string_value(json_object_get(entry, "Detail"));
    if (!e->source || !*e->source)
        return entry_error("InvalidArgument",
                           "Parameter Source is not valid. Reason: Source is a required argument.");
    if (!e->detail_type || !*e->detail_type)
        return entry_error("InvalidArgument", "Parameter DetailType is not valid. Reason: "
                                              "DetailType is a required argument.");
    if (!detail_text || !*detail_text)
        return entry_error("InvalidArgument",
                           "Parameter Detail is not valid. Reason: Detail is a required argument.");
    if (strncmp(e->source, "aws.", 4) == 0)
        return entry_error("NotAuthorizedForSourceException", "Not authorized for the source.");
    *detail = json_loads(detail_text, 0, NULL);
    if (!json_is_object(*detail)) {
        json_decref(*detail);
        *detail = NULL;
        return entry_error("MalformedDetail", "Detail is malformed.");
    }
    v = json_object_get(entry, "Resources");
    if (v && !json_is_null(v)) {
        size_t i;
        json_t *r;
        bool ok = json_is_array(v);
        json_array_foreach(v, i, r) if (!json_is_string(r)) ok = false;
        if (!ok)
            return entry_error("InvalidArgument", "Parameter Resources is not valid.");
        e->resources = v;
    }
    v = json_object_get(entry, "Time");
    e->time_s = clock_now_ms() / 1000;
    if (json_is_number(v)) {
        double t = json_number_value(v);
        /* Seconds since the epoch up to year 9999; anything else is no time. */
        if (!(t >= 0 && t <= 253402300799.0))
            return entry_error("InvalidArgument", "Parameter Time is not valid.");
        e->time_s = (int64_t)floor(t);
    }
    const char *busname = json_string_value(json_object_get(entry, "EventBusName"));
    switch (events_bus_access(svc, call, busname, bus)) {
    case EVENTS_BUS_OK:
        break;
    case EVENTS_BUS_DENIED: {
        char msg[900];
        snprintf(msg, sizeof msg, "User: arn:aws:iam::%s:root is not authorized to perform: "
                 "events:PutEvents on resource: %s because no resource-based policy allows "
                 "the events:PutEvents action", call->account,
                 *bus ? (*bus)->arn : busname ? busname : "default");
        *bus = NULL;
        return entry_error("AccessDeniedException", msg);
    }
    case EVENTS_BUS_MISSING:
        /* AWS accepts an entry for a bus that does not exist (an EventId,
         * not a failed entry) and delivers it nowhere. */
        *bus = NULL;
        break;
    }
    e->account = call->account; /* the sender's, also on another account's bus */
    e->region = svc->region;
    return NULL;
}

api_status events_put_events(api_call *call)
{
    events_service *svc = events_of(call);
    json_t *entries = NULL;
    size_t i, total = 0, failed = 0;
    json_t *entry;

    if (param_list(call, call->input, "Entries", &entries) < 0)
        return API_DONE;
    if (!entries)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value null at 'entries' failed to satisfy "
                        "constraint: Member must not be null");
    if (json_array_size(entries) < 1 || json_array_size(entries) > EVENTS_MAX_ENTRIES)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value at 'entries' failed to satisfy "
                        "constraint: Member must have length %s",
                        json_array_size(entries) < 1 ? "greater than or equal to 1"
                                                     : "less than or equal to 10");
    json_array_foreach(entries, i, entry) {
        /* Time is a JSON 1.1 timestamp (seconds since the epoch); AWS refuses a
         * string there for the whole request, as quoted in async-aws/aws#1395. */
        if (json_is_string(json_object_get(entry, "Time")))
            return api_fail(call, AWS_ERR_SERIALIZATION,
                            "STRING_VALUE cannot be converted to Date");
        total += events_entry_size(entry);
    }
    if (total > EVENTS_MAX_REQUEST_BYTES)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Total size of the entries in the request is over the limit.");

    put_ctx *pc = xcalloc(1, sizeof *pc);
    pc->call = call;
    pc->d.svc = svc;
    pc->d.batch = store_batch_new();
    pc->d.staged = sqs_staged_new(svc->sqs);
    pc->d.new_deliveries = json_array();
    json_t *results = json_array();
    json_array_foreach(entries, i, entry) {
        events_entry e = {0};
        json_t *detail = NULL;
        events_bus *bus = NULL;
        char id[37];
        json_t *err = check_entry(call, entry, &e, &detail, &bus);
        if (err) {
            json_decref(detail);
            json_array_append_new(results, err);
            failed++;
            continue;
        }
        uuid_v4(id);
        e.id = id;
        e.detail = detail;
        json_t *event = events_envelope(&e);
        char *text = json_dumps(event, JSON_COMPACT);
        if (bus)
            events_dispatch_event(&pc->d, bus, event, text);
        free(text);
        json_decref(event);
        json_decref(detail);
        json_array_append_new(results, json_pack("{s:s}", "EventId", id));
    }
    json_object_set_new(api_out(call), "FailedEntryCount", json_integer((json_int_t)failed));
    json_object_set_new(api_out(call), "Entries", results);
    if (store_batch_empty(pc->d.batch)) {
        events_dispatch_finish(&pc->d, 0);
        free(pc);
        return API_DONE;
    }
    store_batch *b = pc->d.batch;
    store_submit(svc->store, b, put_done, pc);
    return API_PENDING;
}
