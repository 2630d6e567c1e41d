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
 * length.  Failures AWS does not retry (a missing log group directory that
 * cannot be made, a 4xx other than 401/407/409/429) go to the dead-letter
 * queue at once.  Document fields: rule_arn, target, payload, event,
 * attempts, first_ms, next_ms.
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

#define DELIVERY_KIND "events.delivery"
#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 300000

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

/* The outcome of one attempt. */
static void attempt_result(events_delivery *dl, bool ok, bool retryable, const char *code,
                           const char *message)
{
    events_service *svc = dl->svc;
    int64_t now = clock_now_ms();

    dl->running = false;
    if (dl->dropped) {
        dl->running = false;
        events_delivery_drop(svc, dl);
        return;
    }
    if (ok) {
        finish_delivery(dl, NULL, NULL, NULL);
        return;
    }
    json_t *target = json_object_get(dl->doc, "target");
    json_t *retry = json_object_get(target, "RetryPolicy");
    json_t *max_a = json_object_get(retry, "MaximumRetryAttempts");
    json_t *max_age = json_object_get(retry, "MaximumEventAgeInSeconds");
    int64_t retries_allowed = max_a ? json_integer_value(max_a) : EVENTS_DEFAULT_RETRIES;
    int64_t age_allowed_ms = (max_age ? json_integer_value(max_age) : EVENTS_DEFAULT_MAX_AGE) *
                             1000;
    int attempts = (int)json_integer_value(json_object_get(dl->doc, "attempts"));
    int64_t first = json_integer_value(json_object_get(dl->doc, "first_ms"));

    if (!retryable) {
        finish_delivery(dl, code, message, NULL);
        return;
    }
    if (attempts - 1 >= retries_allowed) {
        finish_delivery(dl, code, message, "MaximumRetryAttempts");
        return;
    }
    int shift = attempts - 1 < 20 ? attempts - 1 : 20;
    int64_t wait = (int64_t)BACKOFF_BASE_MS << shift;
    if (wait > BACKOFF_CAP_MS)
        wait = BACKOFF_CAP_MS;
    uint32_t r;
    random_bytes(&r, sizeof r);
    wait = wait / 2 + (int64_t)(r % (uint32_t)(wait / 2 + 1));
    if (now + wait - first > age_allowed_ms) {
        finish_delivery(dl, code, message, "MaximumEventAgeInSeconds");
        return;
    }
    json_object_set_new(dl->doc, "next_ms", json_integer((json_int_t)(now + wait)));
    store_batch *b = store_batch_new();
    put_doc(b, dl);
    store_submit(svc->store, b, NULL, NULL);
    events_delivery_start(svc, dl);
    log_debug("events", "delivery retry scheduled id=%llu attempts=%d wait_ms=%lld",
              (unsigned long long)dl->id, attempts, (long long)wait);
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

static void http_done(void *arg, long status, const char *error)
{
    events_delivery *dl = arg;
    char msg[300];

    if (status >= 200 && status < 300) {
        attempt_result(dl, true, false, NULL, NULL);
        return;
    }
    if (status == 0) {
        snprintf(msg, sizeof msg, "%s", error ? error : "The connection failed.");
        attempt_result(dl, false, true, "SDK_CLIENT_ERROR", msg);
        return;
    }
    bool retryable = status >= 500 || status == 401 || status == 407 || status == 409 ||
                     status == 429;
    snprintf(msg, sizeof msg, "Received a failure response from the endpoint: %ld", status);
    char code[32];
    snprintf(code, sizeof code, "%ld", status);
    attempt_result(dl, false, retryable, code, msg);
}

static void put_escaped(buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

/* The request URL: each '*' of the endpoint replaced by the next of the
 * target's PathParameterValues, then its QueryStringParameters appended. */
static char *request_url(const char *endpoint, json_t *http_params)
{
    json_t *path_values = json_object_get(http_params, "PathParameterValues");
    json_t *query = json_object_get(http_params, "QueryStringParameters");
    size_t next = 0;
    buf url;

    buf_init(&url);
    for (const char *p = endpoint; *p; p++) {
        json_t *v = *p == '*' ? json_array_get(path_values, next) : NULL;
        if (json_is_string(v)) {
            put_escaped(&url, json_string_value(v));
            next++;
        } else {
            buf_putc(&url, *p);
        }
    }
    const char *k;
    json_t *v;
    bool first = !strchr(endpoint, '?');
    json_object_foreach(query, k, v) {
        if (!json_is_string(v))
            continue;
        buf_putc(&url, first ? '?' : '&');
        first = false;
        put_escaped(&url, k);
        buf_putc(&url, '=');
        put_escaped(&url, json_string_value(v));
    }
    if (!url.data)
        buf_puts(&url, "");
    return buf_steal(&url);
}

static void attempt(evutil_socket_t fd, short what, void *arg)
{
    events_delivery *dl = arg;
    events_service *svc = dl->svc;
    json_t *target = json_object_get(dl->doc, "target");
    const char *arn = json_string_value(json_object_get(target, "Arn"));
    const char *payload = json_string_value(json_object_get(dl->doc, "payload"));
    char err[300];

    json_object_set_new(dl->doc, "attempts",
                        json_integer(json_integer_value(json_object_get(dl->doc, "attempts")) + 1));
    dl->running = true;
    if (!arn || !payload) {
        attempt_result(dl, false, false, "InvalidTarget", "The delivery record is not valid.");
        return;
    }
    if (strncmp(arn, "arn:aws:logs:", 13) == 0) {
        if (append_log(svc, arn, payload, err, sizeof err) == 0)
            attempt_result(dl, true, false, NULL, NULL);
        else
            attempt_result(dl, false, true, "LogWriteFailed", err);
        return;
    }
    json_t *dest = events_apidest_by_arn(svc, arn);
    if (!dest) {
        attempt_result(dl, false, false, "ResourceNotFoundException",
                       "The API destination does not exist.");
        return;
    }
    json_t *conn = events_connection_by_arn(
        svc, json_string_value(json_object_get(dest, "ConnectionArn")));
    json_t *headers = json_object();
    json_object_set_new(headers, "Content-Type", json_string("application/json; charset=utf-8"));
    json_t *auth = conn ? json_object_get(conn, "AuthParameters") : NULL;
    json_t *basic = json_object_get(auth, "BasicAuthParameters");
    json_t *apikey = json_object_get(auth, "ApiKeyAuthParameters");
    if (basic) {
        const char *u = json_string_value(json_object_get(basic, "Username"));
        const char *p = json_string_value(json_object_get(basic, "Password"));
        buf cred;
        buf_init(&cred);
        buf_printf(&cred, "%s:%s", u ? u : "", p ? p : "");
        char *b64 = xmalloc(base64_encoded_len(cred.len) + 1);
        base64_encode((const uint8_t *)cred.data, cred.len, b64);
        buf hv;
        buf_init(&hv);
        buf_printf(&hv, "Basic %s", b64);
        json_object_set_new(headers, "Authorization", json_string(hv.data));
        buf_free(&hv);
        free(b64);
        buf_free(&cred);
    } else if (apikey) {
        const char *k = json_string_value(json_object_get(apikey, "ApiKeyName"));
        const char *v = json_string_value(json_object_get(apikey, "ApiKeyValue"));
        if (k && v)
            json_object_set_new(headers, k, json_string(v));
    }
    json_t *http_params = json_object_get(target, "HttpParameters");
    json_t *hp = json_object_get(http_params, "HeaderParameters");
    const char *k;
    json_t *v;
    json_object_foreach(hp, k, v)
        if (json_is_string(v))
            json_object_set(headers, k, v);
    const char *method = json_string_value(json_object_get(dest, "HttpMethod"));
    const char *endpoint = json_string_value(json_object_get(dest, "InvocationEndpoint"));
    char *url = request_url(endpoint ? endpoint : "", http_params);
    events_http_request(svc->http, method ? method : "POST", url, headers, payload, 5, http_done,
                        dl);
    free(url);
    json_decref(headers);
}
