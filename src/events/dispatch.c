/*
 * dispatch.c - one event on one bus: which rules match, and what each of
 * their targets gets.
 *
 * Everything lands in the caller's store batch: SQS targets are staged
 * messages (visible once the batch commits), event bus targets are matched
 * again on their bus at once (one hop only, as AWS: an event that came from
 * another bus is not forwarded to a further bus), and
 * targets outside the process (log files, API destinations) become durable
 * delivery records that deliver.c works off after the commit.  A target the
 * event cannot reach for good (no such queue or bus) goes to the target's
 * dead-letter queue in the same batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "events/events.h"
#include "sns/sns.h"
#include "events/transform.h"

typedef struct hits {
    uint64_t *ids;
    size_t n, cap;
} hits;

static void on_hit(void *ctx, uint64_t id)
{
    hits *h = ctx;
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->ids = xrealloc(h->ids, h->cap * sizeof *h->ids);
    }
    h->ids[h->n++] = id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int events_dispatch_event(events_dispatch *d, events_bus *bus, json_t *event,
                          const char *event_text)
{
    hits h = {0};

    events_archive_event(d, bus, event, event_text);
    if (match_set_count(bus->set) == 0)
        return 0;
    if (match_set_run(bus->set, event_text, strlen(event_text), on_hit, &h) < 0) {
        free(h.ids);
        return 0;
    }
    if (h.n > 1)
        qsort(h.ids, h.n, sizeof *h.ids, cmp_u64);
    for (size_t i = 0; i < h.n; i++) {
        if (i > 0 && h.ids[i] == h.ids[i - 1])
            continue; /* a rule is delivered once per event, however it matched */
        events_rule *r = map_u64_get(&bus->rules_by_id, h.ids[i]);
        if (r && d->only_rules) {
            bool listed = false;
            size_t j;
            json_t *a;
            json_array_foreach(d->only_rules, j, a)
                if (json_is_string(a) && strcmp(json_string_value(a), r->arn) == 0)
                    listed = true;
            if (!listed)
                continue;
        }
        if (r && r->enabled)
            events_dispatch_rule(d, r, event, event_text);
    }
    free(h.ids);
    return (int)h.n;
}

static const char *target_str(json_t *t, const char *k)
{
    return json_string_value(json_object_get(t, k));
}

static void to_queue(events_dispatch *d, events_rule *r, json_t *t, json_t *event,
                     const char *event_text, const char *payload)
{
    events_service *svc = d->svc;
    const char *arn = target_str(t, "Arn");
    sqs_queue *q = sqs_queue_find_arn(svc->sqs, arn);
    size_t len = strlen(payload);
    char dedup[129];

    if (!q) {
        events_dead_letter(d, r->arn, t, event_text, "SQS.AWS.SimpleQueueService.NonExistentQueue",
                           "The specified queue does not exist.", NULL, 0);
        return;
    }
    if (!sqs_queue_accepts(q, "events.amazonaws.com", r->arn, r->bus->account)) {
        log_warn("events", "delivery refused by the queue's Policy rule=%s queue=%s", r->arn,
                 q->arn);
        events_dead_letter(d, r->arn, t, event_text, "NO_PERMISSIONS",
                           "The queue's policy does not allow events.amazonaws.com to send "
                           "messages for this rule.", NULL, 0);
        return;
    }
    if (len > (size_t)q->max_message_size || sqs_body_invalid_char(payload, len) != -1) {
        events_dead_letter(d, r->arn, t, event_text, "SQS.InvalidMessageContents",
                           "The message is not valid for the queue.", NULL, 0);
        return;
    }
    sqs_outgoing o = {.body = payload, .body_len = len, .sender = "AIDAIT2UOQQY3AUEKVGXU",
                      .delay_seconds = -1};
    if (q->fifo) {
        o.group_id = json_string_value(
            json_object_get(json_object_get(t, "SqsParameters"), "MessageGroupId"));
        /* The event id deduplicates; a replayed copy of an event is a new
         * message, so its replay's name is part of its id. */
        const char *replay = json_string_value(json_object_get(event, "replay-name"));
        snprintf(dedup, sizeof dedup, "%s%s%s", json_string_value(json_object_get(event, "id")),
                 replay ? "-" : "", replay ? replay : "");
        o.dedup_id = dedup;
        if (!o.group_id) {
            events_dead_letter(d, r->arn, t, event_text, "SQS.MissingParameter",
                               "The request must contain the parameter MessageGroupId.", NULL, 0);
            return;
        }
    }
    sqs_stage(d->staged, q, &o, d->batch);
}

/* Publishes the payload to an SNS topic target in the dispatch's commit. */
static void to_topic(events_dispatch *d, events_rule *r, json_t *t, json_t *event,
                     const char *event_text, const char *payload)
{
    events_service *svc = d->svc;
    char err[256];
    const char *arn = target_str(t, "Arn");
    if (svc->sns && !sns_topic_accepts(svc->sns, arn, "events.amazonaws.com", r->arn,
                                       r->bus->account)) {
        log_warn("events", "delivery refused by the topic's Policy rule=%s topic=%s", r->arn,
                 arn);
        events_dead_letter(d, r->arn, t, event_text, "NO_PERMISSIONS",
                           "The topic's policy does not allow events.amazonaws.com to publish "
                           "for this rule.", NULL, 0);
        return;
    }
    const char *group = json_string_value(
        json_object_get(json_object_get(t, "SqsParameters"), "MessageGroupId"));
    sns_pending *p = svc->sns ? sns_publish_internal(svc->sns, target_str(t, "Arn"), payload,
                                                     strlen(payload), NULL, group,
                                                     json_string_value(json_object_get(event,
                                                                                       "id")),
                                                     d->batch, d->staged, err, sizeof err)
                              : NULL;
    if (!p) {
        events_dead_letter(d, r->arn, t, event_text, "SNS.NotFound",
                           svc->sns ? err : "Topic does not exist", NULL, 0);
        return;
    }
    if (d->nsns == d->sns_cap) {
        d->sns_cap = d->sns_cap ? d->sns_cap * 2 : 4;
        d->sns_pending = xrealloc(d->sns_pending, d->sns_cap * sizeof *d->sns_pending);
    }
    d->sns_pending[d->nsns++] = p;
}

void events_dispatch_rule(events_dispatch *d, events_rule *r, json_t *event,
                          const char *event_text)
{
    events_service *svc = d->svc;
    char ingested[32];
    size_t i;
    json_t *t;

    events_format_time(clock_now_ms() / 1000, ingested, sizeof ingested);
    events_context ctx = {r->arn, r->name, ingested};
    json_array_foreach(r->targets, i, t) {
        const char *arn = target_str(t, "Arn");
        char *payload = NULL;
        if (!arn)
            continue;
        if (strstr(arn, ":event-bus/") && strncmp(arn, "arn:aws:events:", 15) == 0) {
            events_bus *target = events_bus_find(svc, r->bus->account, arn);
            if (!target) {
                events_dead_letter(d, r->arn, t, event_text, "ResourceNotFoundException",
                                   "Event bus does not exist.", NULL, 0);
            } else if (!events_bus_accepts(target, r->bus->account, r->arn)) {
                log_warn("events", "delivery refused by the bus's policy rule=%s bus=%s", r->arn,
                         target->arn);
                events_dead_letter(d, r->arn, t, event_text, "NO_PERMISSIONS",
                                   "The event bus's policy does not allow this account to put "
                                   "events on it.", NULL, 0);
            } else if (d->depth < EVENTS_FORWARD_DEPTH) {
                d->depth++;
                events_dispatch_event(d, target, event, event_text);
                d->depth--;
            } else {
                log_debug("events", "event from another bus not forwarded again rule=%s",
                          r->arn);
            }
            continue;
        }
        if (events_render_input(t, event, event_text, &ctx, &payload) != 0)
            continue; /* AWS silently skips a target whose input is invalid */
        if (strncmp(arn, "arn:aws:sqs:", 12) == 0)
            to_queue(d, r, t, event, event_text, payload);
        else if (strncmp(arn, "arn:aws:sns:", 12) == 0)
            to_topic(d, r, t, event, event_text, payload);
        else if (strncmp(arn, "arn:aws:logs:", 13) == 0 ||
                 (strncmp(arn, "arn:aws:events:", 15) == 0 && strstr(arn, ":api-destination/")))
            events_delivery_create(d, r, t, payload, event_text);
        else
            log_debug("events", "target kind not supported, skipped rule=%s", r->name);
        free(payload);
    }
}

void events_dispatch_finish(events_dispatch *d, int status)
{
    size_t i;
    json_t *id;

    if (d->staged)
        sqs_staged_finish(d->staged, status);
    d->staged = NULL;
    for (size_t k = 0; k < d->nsns; k++)
        sns_pending_finish(d->sns_pending[k], status);
    free(d->sns_pending);
    d->sns_pending = NULL;
    d->nsns = d->sns_cap = 0;
    json_array_foreach(d->new_deliveries, i, id) {
        events_delivery *dl = map_u64_get(&d->svc->deliveries, (uint64_t)json_integer_value(id));
        if (!dl)
            continue;
        if (status == 0)
            events_delivery_start(d->svc, dl);
        else
            events_delivery_drop(d->svc, dl);
    }
    json_decref(d->new_deliveries);
    d->new_deliveries = NULL;
    if (d->batch)
        store_batch_free(d->batch);
    d->batch = NULL;
}
