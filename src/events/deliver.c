/*
 * deliver.c - deliveries that leave the PutEvents commit: log targets and
 * API destinations, with retries and dead letters.
 *
 * A delivery is a store resource ("events.delivery") written in the same
 * batch as the event's acceptance, so it survives a crash; it is deleted in
 * the batch that records its end (success, or its dead-letter message).
 * Between attempts the resource carries the attempt count and the next
 * attempt's time, so a restart resumes the schedule.
 *
 * Retries follow the target's RetryPolicy (default 185 attempts within 24
 * hours): exponential backoff from one second, doubling to a five-minute
 * cap, each wait drawn at random between half and all of its nominal
 * length; a Retry-After on a 429/5xx answer overrides the wait, or stops
 * the retries when negative (invoke.c).  Failures AWS does not retry (a
 * missing log group directory that cannot be made, a 4xx other than
 * 401/407/409/429) go to the dead-letter queue at once.  Document fields:
 * rule_arn, target, payload, event, attempts, first_ms, next_ms.
 *
 * An API destination's InvocationRateLimitPerSecond (default 300) spaces its
 * invocations: up to a second's worth go at once, later ones wait for their
 * turn (a reserved slot, so waiting deliveries go out evenly spread).  The
 * wait is not an attempt.  The destination's next free slot is kept in
 * memory only (next_slot_ms, a private field of its document).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/policy.h"
#include "events/events.h"
#include "events/invoke.h"

#define DELIVERY_KIND "events.delivery"

static void attempt(evutil_socket_t fd, short what, void *arg);

static void put_doc(store_batch *b, const events_delivery *dl)
{
    char name[32];
    char *text = json_dumps(dl->doc, JSON_COMPACT);
    snprintf(name, sizeof name, "%llu", (unsigned long long)dl->id);
    store_put_resource(b, dl->id, DELIVERY_KIND, dl->account, name, text);
    free(text);
}

static events_delivery *delivery_new(events_service *svc, uint64_t id, const char *account,
                                     json_t *doc)
{
    events_delivery *dl = xcalloc(1, sizeof *dl);
    dl->id = id;
    dl->account = xstrdup(account);
    dl->doc = doc;
    dl->svc = svc;
    dl->timer = evtimer_new(svc->base, attempt, dl);
    map_u64_put(&svc->deliveries, id, dl);
    return dl;
}

events_delivery *events_delivery_create(events_dispatch *d, events_rule *r, json_t *target,
                                        const char *payload, const char *event_text)
{
    events_service *svc = d->svc;
    int64_t now = clock_now_ms();
    json_t *doc = json_pack("{s:s,s:O,s:s,s:s,s:i,s:I,s:I}", "rule_arn", r->arn, "target", target,
                            "payload", payload, "event", event_text, "attempts", 0, "first_ms",
                            (json_int_t)now, "next_ms", (json_int_t)now);
    events_delivery *dl = delivery_new(svc, store_next_resource_id(svc->store), r->bus->account,
                                       doc);
    put_doc(d->batch, dl);
    json_array_append_new(d->new_deliveries, json_integer((json_int_t)dl->id));
    return dl;
}

void events_delivery_load(events_service *svc, uint64_t id, const char *account,
                          const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return;
    }
    events_delivery_start(svc, delivery_new(svc, id, account, doc));
}

void events_delivery_start(events_service *svc, events_delivery *dl)
{
    int64_t wait = json_integer_value(json_object_get(dl->doc, "next_ms")) - clock_now_ms();
    if (wait < 0)
        wait = 0;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(dl->timer, &tv);
}

void events_delivery_drop(events_service *svc, events_delivery *dl)
{
    map_u64_del(&svc->deliveries, dl->id);
    if (dl->running) {
        /* An HTTP request still refers to it: it is freed when that ends. */
        dl->dropped = true;
        return;
    }
    event_free(dl->timer);
    json_decref(dl->doc);
    free(dl->account);
    free(dl);
}

bool events_dead_letter(events_dispatch *d, const char *rule_arn, json_t *target,
                        const char *payload, const char *code, const char *message,
                        const char *exhausted, int attempts)
{
    const char *arn = json_string_value(
        json_object_get(json_object_get(target, "DeadLetterConfig"), "Arn"));
    sqs_queue *q = arn ? sqs_queue_find_arn(d->svc->sqs, arn) : NULL;
    char count[16], rule_account[32];

    if (!q) {
        log_info("events", "event not delivered and no dead-letter queue code=%s rule=%s",
                 code, rule_arn);
        return false;
    }
    /* EventBridge writes to the dead-letter queue as itself, for the rule */
    policy_arn_account(rule_arn, rule_account, sizeof rule_account);
    if (!sqs_queue_accepts(q, "events.amazonaws.com", rule_arn, rule_account)) {
        log_warn("events", "event not delivered and the dead-letter queue's Policy refuses it "
                 "code=%s rule=%s queue=%s", code, rule_arn, q->arn);
        return false;
    }
    snprintf(count, sizeof count, "%d", attempts);
    json_t *attrs = json_object();
#define STR_ATTR(k, v)                                                                          \
    json_object_set_new(attrs, k, json_pack("{s:s,s:s}", "DataType", "String", "StringValue", v))
    STR_ATTR("RULE_ARN", rule_arn);
    STR_ATTR("TARGET_ARN", json_string_value(json_object_get(target, "Arn")));
    STR_ATTR("ERROR_CODE", code);
    STR_ATTR("ERROR_MESSAGE", message);
    if (exhausted)
        STR_ATTR("EXHAUSTED_RETRY_CONDITION", exhausted);
    STR_ATTR("RETRY_ATTEMPTS", count);
#undef STR_ATTR
    char *attrs_text = json_dumps(attrs, JSON_COMPACT);
    json_decref(attrs);
    /* The event may hold characters SQS refuses (the reason it failed): the
     * dead letter carries them as U+FFFD. */
    size_t safe_len;
    char *safe = sqs_text_sanitize(payload, strlen(payload), &safe_len);
    sqs_outgoing o = {.body = safe, .body_len = safe_len, .attrs = attrs_text,
                      .sender = "AIDAIT2UOQQY3AUEKVGXU", .delay_seconds = -1};
    if (q->fifo) {
        o.group_id = "dead-letter";
        o.dedup_id = NULL;
    }
    sqs_stage(d->staged, q, &o, d->batch);
    free(attrs_text);
    free(safe);
    return true;
}

/* --- ending a delivery ---------------------------------------------------------- */

static void end_done(void *arg, int status)
{
    events_dispatch *d = arg;
    d->batch = NULL;
    events_dispatch_finish(d, status);
    free(d);
}

/* Removes the delivery, with a dead letter when code is set, durably. */
static void finish_delivery(events_delivery *dl, const char *code, const char *message,
                            const char *exhausted)
{
    events_service *svc = dl->svc;
    events_dispatch *d = xcalloc(1, sizeof *d);
    int attempts = (int)json_integer_value(json_object_get(dl->doc, "attempts"));

    d->svc = svc;
    d->batch = store_batch_new();
    d->staged = sqs_staged_new(svc->sqs);
    d->new_deliveries = json_array();
    if (code)
        events_dead_letter(d, json_string_value(json_object_get(dl->doc, "rule_arn")),
                           json_object_get(dl->doc, "target"),
                           json_string_value(json_object_get(dl->doc, "event")), code, message,
                           exhausted, attempts > 0 ? attempts - 1 : 0);
    store_delete_resource(d->batch, dl->id);
    store_batch *b = d->batch;
    store_submit(svc->store, b, end_done, d);
    events_delivery_drop(svc, dl);
}

/* The outcome of one attempt; retry_after is the answer's Retry-After
 * (429 and 5xx only) or NULL. */
static void attempt_result(events_delivery *dl, bool ok, bool retryable, const char *code,
                           const char *message, const char *retry_after)
{
    events_service *svc = dl->svc;

    dl->running = false;
    if (dl->dropped) {
        events_delivery_drop(svc, dl);
        return;
    }
    if (ok) {
        finish_delivery(dl, NULL, NULL, NULL);
        return;
    }
    if (!retryable) {
        finish_delivery(dl, code, message, NULL);
        return;
    }
    json_t *target = json_object_get(dl->doc, "target");
    json_t *retry = json_object_get(target, "RetryPolicy");
    json_t *max_a = json_object_get(retry, "MaximumRetryAttempts");
    json_t *max_age = json_object_get(retry, "MaximumEventAgeInSeconds");
    events_retry_in in = {
        .attempts = (int)json_integer_value(json_object_get(dl->doc, "attempts")),
        .retries_allowed = max_a ? json_integer_value(max_a) : EVENTS_DEFAULT_RETRIES,
        .age_allowed_ms = (max_age ? json_integer_value(max_age) : EVENTS_DEFAULT_MAX_AGE) *
                          1000,
        .first_ms = json_integer_value(json_object_get(dl->doc, "first_ms")),
        .now_ms = clock_now_ms(),
    };
    in.has_retry_after = events_retry_after_parse(retry_after, &in.retry_after_s);
    random_bytes(&in.random, sizeof in.random);
    int64_t wait = 0;
    const char *exhausted = events_retry_next(&in, &wait);
    if (exhausted) {
        finish_delivery(dl, code, message, exhausted);
        return;
    }
    json_object_set_new(dl->doc, "next_ms", json_integer((json_int_t)(in.now_ms + wait)));
    store_batch *b = store_batch_new();
    put_doc(b, dl);
    store_submit(svc->store, b, NULL, NULL);
    events_delivery_start(svc, dl);
    log_debug("events", "delivery retry scheduled id=%llu attempts=%d wait_ms=%lld",
              (unsigned long long)dl->id, in.attempts, (long long)wait);
}

/* --- attempts ------------------------------------------------------------------ */

/* Appends the payload as one line to <data>/event-logs/<group>.log. */
static int append_log(events_service *svc, const char *arn, const char *payload, char *err,
                      size_t errlen)
{
    const char *group = strstr(arn, ":log-group:");
    char dir[1024], path[1400], name[300];
    size_t n = 0;

    if (!group) {
        snprintf(err, errlen, "The log group ARN is not valid.");
        return -1;
    }
    group += strlen(":log-group:");
    for (const char *p = group; *p && *p != ':' && n + 1 < sizeof name; p++)
        name[n++] = (*p == '/' || *p == '.') ? '_' : *p;
    name[n] = '\0';
    if (n == 0) {
        snprintf(err, errlen, "The log group name is empty.");
        return -1;
    }
    snprintf(dir, sizeof dir, "%s/event-logs", svc->data_dir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "Cannot create the log directory.");
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Cannot open the log file.");
        return -1;
    }
    buf line;
    buf_init(&line);
    buf_puts(&line, payload);
    buf_putc(&line, '\n');
    ssize_t w = write(fd, line.data, line.len);
    bool ok = w == (ssize_t)line.len && fdatasync(fd) == 0;
    buf_free(&line);
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "Writing the log file failed.");
        return -1;
    }
    return 0;
}

static bool is_oauth(json_t *conn)
{
    const char *type = json_string_value(json_object_get(conn, "AuthorizationType"));
    return type && strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0;
}

/* The connection of the API destination a delivery targets, or NULL. */
static json_t *delivery_connection(events_delivery *dl)
{
    json_t *target = json_object_get(dl->doc, "target");
    json_t *dest = events_apidest_by_arn(
        dl->svc, json_string_value(json_object_get(target, "Arn")));
    return events_connection_by_arn(dl->svc,
                                    json_string_value(json_object_get(dest, "ConnectionArn")));
}

static void http_done(void *arg, const events_http_reply *reply)
{
    events_delivery *dl = arg;
    long status = reply->status;
    char msg[300];

    /* an OAuth token the endpoint refuses is fetched again (the attempt
     * is retried as any 401/407) */
    if ((status == 401 || status == 407) && !dl->dropped && !dl->svc->closing) {
        json_t *conn = delivery_connection(dl);
        const char *state = json_string_value(json_object_get(conn, "ConnectionState"));
        if (is_oauth(conn) && state && strcmp(state, "AUTHORIZED") == 0)
            events_connection_authorize(dl->svc, conn);
    }

    if (status >= 200 && status < 300) {
        attempt_result(dl, true, false, NULL, NULL, NULL);
        return;
    }
    if (status == 0) {
        snprintf(msg, sizeof msg, "%s", reply->error ? reply->error : "The connection failed.");
        attempt_result(dl, false, true, "SDK_CLIENT_ERROR", msg, NULL);
        return;
    }
    bool retryable = status >= 500 || status == 401 || status == 407 || status == 409 ||
                     status == 429;
    /* Retry-After counts on 429 and 5xx answers (eb-api-destinations) */
    bool honour = status == 429 || status >= 500;
    snprintf(msg, sizeof msg, "Received a failure response from the endpoint: %ld", status);
    char code[32];
    snprintf(code, sizeof code, "%ld", status);
    attempt_result(dl, false, retryable, code, msg, honour ? reply->retry_after : NULL);
}

/* Sets the connection's authorization header; false if the connection
 * has no usable credentials (an OAuth token not yet fetched). */
static bool put_auth(json_t *conn, json_t *headers)
{
    json_t *auth = json_object_get(conn, "AuthParameters");
    const char *type = json_string_value(json_object_get(conn, "AuthorizationType"));
    json_t *basic = json_object_get(auth, "BasicAuthParameters");
    json_t *apikey = json_object_get(auth, "ApiKeyAuthParameters");
    buf hv;

    buf_init(&hv);
    if (is_oauth(conn)) {
        const char *token = json_string_value(json_object_get(conn, "token"));
        if (!token)
            return false;
        buf_printf(&hv, "Bearer %s", token);
        events_header_set(headers, "Authorization", hv.data);
    } else if (type && strcmp(type, "BASIC") == 0) {
        const char *u = json_string_value(json_object_get(basic, "Username"));
        const char *p = json_string_value(json_object_get(basic, "Password"));
        if (!u || !p)
            return false;
        buf cred;
        buf_init(&cred);
        buf_printf(&cred, "%s:%s", u, p);
        char *b64 = xmalloc(base64_encoded_len(cred.len) + 1);
        base64_encode((const uint8_t *)cred.data, cred.len, b64);
        buf_printf(&hv, "Basic %s", b64);
        events_header_set(headers, "Authorization", hv.data);
        free(b64);
        buf_free(&cred);
    } else {
        const char *k = json_string_value(json_object_get(apikey, "ApiKeyName"));
        const char *v = json_string_value(json_object_get(apikey, "ApiKeyValue"));
        if (!k || !v)
            return false;
        events_header_set(headers, k, v);
    }
    buf_free(&hv);
    return true;
}

#define DEFAULT_RATE_PER_SECOND 300

/* Reserves the destination's next invocation slot; returns how long to wait
 * for it in ms (0: at once).  Generic cell rate: one slot per 1000/rate ms,
 * with a second's worth of slots allowed ahead. */
static int64_t take_slot(json_t *dest, int64_t now)
{
    json_int_t rate = json_integer_value(json_object_get(dest, "InvocationRateLimitPerSecond"));
    double interval = 1000.0 / (double)(rate > 0 ? rate : DEFAULT_RATE_PER_SECOND);
    double next = json_real_value(json_object_get(dest, "next_slot_ms"));

    if (next < (double)now)
        next = (double)now;
    double wait = next - (double)now - (1000.0 - interval);
    json_object_set_new(dest, "next_slot_ms", json_real(next + interval));
    return wait > 0 ? (int64_t)(wait + 0.999) : 0;
}

static void attempt(evutil_socket_t fd, short what, void *arg)
{
    events_delivery *dl = arg;
    events_service *svc = dl->svc;
    json_t *target = json_object_get(dl->doc, "target");
    const char *arn = json_string_value(json_object_get(target, "Arn"));
    const char *payload = json_string_value(json_object_get(dl->doc, "payload"));
    char err[300];

    if (!dl->slot_taken && arn && strncmp(arn, "arn:aws:logs:", 13) != 0) {
        json_t *limited = events_apidest_by_arn(svc, arn);
        int64_t wait = limited ? take_slot(limited, clock_now_ms()) : 0;
        if (wait > 0) {
            struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
            dl->slot_taken = true;
            evtimer_add(dl->timer, &tv);
            return;
        }
    }
    dl->slot_taken = false;

    json_object_set_new(dl->doc, "attempts",
                        json_integer(json_integer_value(json_object_get(dl->doc, "attempts")) + 1));
    dl->running = true;
    if (!arn || !payload) {
        attempt_result(dl, false, false, "InvalidTarget", "The delivery record is not valid.",
                       NULL);
        return;
    }
    if (strncmp(arn, "arn:aws:logs:", 13) == 0) {
        if (append_log(svc, arn, payload, err, sizeof err) == 0)
            attempt_result(dl, true, false, NULL, NULL, NULL);
        else
            attempt_result(dl, false, true, "LogWriteFailed", err, NULL);
        return;
    }
    json_t *dest = events_apidest_by_arn(svc, arn);
    if (!dest) {
        attempt_result(dl, false, false, "ResourceNotFoundException",
                       "The API destination does not exist.", NULL);
        return;
    }
    json_t *conn = events_connection_by_arn(
        svc, json_string_value(json_object_get(dest, "ConnectionArn")));
    if (!conn) {
        attempt_result(dl, false, false, "ResourceNotFoundException",
                       "The connection does not exist.", NULL);
        return;
    }
    json_t *http_params = json_object_get(target, "HttpParameters");
    events_invocation inv;
    events_invocation_build(json_object_get(json_object_get(conn, "AuthParameters"),
                                            "InvocationHttpParameters"),
                            http_params, payload, &inv);
    /* An API destination whose connection is not authorized is INACTIVE:
     * nothing is sent, the attempt fails and is retried. */
    const char *state = json_string_value(json_object_get(conn, "ConnectionState"));
    int64_t expires = json_integer_value(json_object_get(conn, "token_expires_ms"));
    if (is_oauth(conn) && state && strcmp(state, "AUTHORIZED") == 0 && expires > 0 &&
        clock_now_ms() >= expires) {
        events_connection_authorize(svc, conn); /* the token expires: a new one */
        state = NULL;
    }
    if (!state || strcmp(state, "AUTHORIZED") != 0 || !put_auth(conn, inv.headers)) {
        events_invocation_free(&inv);
        attempt_result(dl, false, true, "ApiDestinationInactive",
                       "The API destination's connection is not authorized.", NULL);
        return;
    }
    const char *method = json_string_value(json_object_get(dest, "HttpMethod"));
    const char *endpoint = json_string_value(json_object_get(dest, "InvocationEndpoint"));
    char *url = events_invocation_url(endpoint ? endpoint : "",
                                      json_object_get(http_params, "PathParameterValues"),
                                      inv.query);
    events_http_request(svc->http, method ? method : "POST", url, inv.headers, inv.body, 5,
                        false, http_done, dl);
    free(url);
    events_invocation_free(&inv);
}
