/*
 * delivery.c - outbound HTTP/HTTPS deliveries: libcurl's multi interface
 * driven by the libevent loop, retries per delivery policy, the
 * subscription dead-letter queue, and durability through the outbox.
 *
 * Every delivery is a row in the outbox container (body = the payload,
 * meta = where and how to send it, receive_count = attempts made,
 * visible_at_ms = when the next attempt is due).  The row is written in the
 * publish's batch and deleted in the batch that records the outcome, so a
 * crash at any point resends rather than loses (at-least-once, as AWS).
 *
 * Nothing here blocks: curl does the I/O on non-blocking sockets that
 * libevent watches (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), each request
 * has a 15 s limit, and waiting retries are evtimers.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/policy.h"
#include "sns/sns.h"

#define REQUEST_TIMEOUT_MS 15000L
#define CONNECT_TIMEOUT_MS 5000L

typedef struct delivery delivery;

typedef struct sock_watch {
    struct event *ev;
    struct sock_watch *prev, *next;
} sock_watch;

struct sns_http {
    sns_service *svc;
    CURLM *multi;
    struct event *timer;
    map_u64 live;            /* seq -> delivery (committed, not yet done) */
    sock_watch *socks;
    bool closing;
};

struct delivery {
    sns_http *h;
    uint64_t seq;
    char message_id[37];
    char *sub_arn;           /* NULL for confirmations */
    char *topic_arn;
    char *url;
    char *type;
    bool raw;
    char *body;
    size_t body_len;
    uint32_t attempts;
    struct event *retry;
    CURL *easy;
    struct curl_slist *headers;
};

static void delivery_free(delivery *d)
{
    if (d->easy) {
        curl_multi_remove_handle(d->h->multi, d->easy);
        curl_easy_cleanup(d->easy);
    }
    curl_slist_free_all(d->headers);
    if (d->retry)
        event_free(d->retry);
    free(d->sub_arn);
    free(d->topic_arn);
    free(d->url);
    free(d->type);
    free(d->body);
    free(d);
}

static char *meta_text(const delivery *d)
{
    json_t *m = json_pack("{s:s,s:s,s:s,s:b}", "topic", d->topic_arn, "url", d->url, "type",
                          d->type, "raw", d->raw);
    if (d->sub_arn)
        json_object_set_new(m, "sub", json_string(d->sub_arn));
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return text;
}

void *sns_http_stage(sns_http *h, const sns_http_msg *m, store_batch *b)
{
    delivery *d = xcalloc(1, sizeof *d);

    d->h = h;
    d->seq = store_next_message_seq(h->svc->store);
    snprintf(d->message_id, sizeof d->message_id, "%s", m->message_id);
    d->sub_arn = m->sub_arn ? xstrdup(m->sub_arn) : NULL;
    d->topic_arn = xstrdup(m->topic_arn);
    d->url = xstrdup(m->url);
    d->type = xstrdup(m->type);
    d->raw = m->raw;
    d->body = xstrdup(m->body);
    d->body_len = strlen(m->body);
    char *meta = meta_text(d);
    int64_t now = clock_now_ms();
    store_message row = {
        .seq = d->seq, .container = h->svc->outbox_id, .message_id = d->message_id,
        .sent_ms = now, .visible_at_ms = now, .meta = meta, .body = d->body,
        .body_len = d->body_len,
    };
    store_put_message(b, &row);
    free(meta);
    return d;
}

/* --- the retry policy of a delivery ----------------------------------------------- */

static void policy_of(sns_http *h, const delivery *d, sns_retry_policy *p)
{
    sns_topic *t = sns_topic_find(h->svc, d->topic_arn);
    sns_sub *s = d->sub_arn ? sns_sub_find(h->svc, d->sub_arn) : NULL;
    const char *tdp = t ? sns_topic_attr(t, "DeliveryPolicy") : NULL;
    const char *sdp = s ? json_string_value(json_object_get(s->attrs, "DeliveryPolicy")) : NULL;

    sns_policy_for_sub(tdp, sdp, p);
}

/* --- sending ---------------------------------------------------------------------- */

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    return size * nmemb;
}

static void send_now(delivery *d)
{
    sns_http *h = d->h;
    sns_retry_policy p;
    char line[700];

    if (h->closing)
        return;
    policy_of(h, d, &p);
    d->easy = curl_easy_init();
    if (!d->easy)
        return;
    curl_slist_free_all(d->headers);
    d->headers = NULL;
    snprintf(line, sizeof line, "Content-Type: %s", p.content_type);
    d->headers = curl_slist_append(d->headers, line);
    snprintf(line, sizeof line, "x-amz-sns-message-type: %s", d->type);
    d->headers = curl_slist_append(d->headers, line);
    snprintf(line, sizeof line, "x-amz-sns-message-id: %s", d->message_id);
    d->headers = curl_slist_append(d->headers, line);
    snprintf(line, sizeof line, "x-amz-sns-topic-arn: %s", d->topic_arn);
    d->headers = curl_slist_append(d->headers, line);
    if (d->sub_arn) {
        snprintf(line, sizeof line, "x-amz-sns-subscription-arn: %s", d->sub_arn);
        d->headers = curl_slist_append(d->headers, line);
    }
    if (d->raw)
        d->headers = curl_slist_append(d->headers, "x-amz-sns-rawdelivery: true");
    d->headers = curl_slist_append(d->headers, "Expect:");
    curl_easy_setopt(d->easy, CURLOPT_URL, d->url);
    curl_easy_setopt(d->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE, (long)d->body_len);
    curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
    curl_easy_setopt(d->easy, CURLOPT_USERAGENT, "Amazon Simple Notification Service Agent");
    curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d);
    /* certificates and host names are verified (libcurl's default); with a
     * CA file, against it alone */
    if (h->svc->ca_file) {
        curl_easy_setopt(d->easy, CURLOPT_CAINFO, h->svc->ca_file);
        curl_easy_setopt(d->easy, CURLOPT_CAPATH, NULL);
    }
    if (curl_multi_add_handle(h->multi, d->easy) != CURLM_OK) {
        curl_easy_cleanup(d->easy);
        d->easy = NULL;
    }
}

static void retry_fired(evutil_socket_t fd, short what, void *arg)
{
    send_now(arg);
}

static void schedule(delivery *d, int64_t at_ms)
{
    int64_t wait = at_ms - clock_now_ms();
    struct timeval tv;

    if (wait < 0)
        wait = 0;
    tv.tv_sec = (time_t)(wait / 1000);
    tv.tv_usec = (suseconds_t)((wait % 1000) * 1000);
    if (!d->retry)
        d->retry = evtimer_new(d->h->svc->base, retry_fired, d);
    evtimer_add(d->retry, &tv);
}

void sns_http_started(sns_http *h, void *staged, int status)
{
    delivery *d = staged;

    if (status != 0) {
        delivery_free(d);
        return;
    }
    map_u64_put(&h->live, d->seq, d);
    send_now(d);
}

static void ignore_done(void *arg, int status)
{
}

typedef struct dlq_commit {
    sqs_staged *st;
} dlq_commit;

static void dlq_done(void *arg, int status)
{
    dlq_commit *c = arg;
    sqs_staged_finish(c->st, status);
    free(c);
}

/* After the last retry, or a permanent failure (refused: the endpoint's
 * 4xx status, else 0): the subscription's dead-letter queue, if any. */
static void give_up(sns_http *h, delivery *d, long refused)
{
    sns_sub *s = d->sub_arn ? sns_sub_find(h->svc, d->sub_arn) : NULL;
    const char *rp = s ? json_string_value(json_object_get(s->attrs, "RedrivePolicy")) : NULL;
    json_t *doc = rp ? json_loads(rp, 0, NULL) : NULL;
    const char *dlq = json_string_value(json_object_get(doc, "deadLetterTargetArn"));
    sqs_queue *q = dlq ? sqs_queue_find_arn(h->svc->sqs, dlq) : NULL;
    store_batch *b = store_batch_new();
    char topic_account[32];

    /* SNS sends to the dead-letter queue as itself, for the topic */
    policy_arn_account(d->topic_arn, topic_account, sizeof topic_account);
    if (q && !sqs_queue_accepts(q, "sns.amazonaws.com", d->topic_arn, topic_account)) {
        log_warn("sns", "dead-letter queue refused the delivery by its Policy topic=%s "
                 "subscription=%s", d->topic_arn, d->sub_arn ? d->sub_arn : "-");
        q = NULL;
    }
    store_delete_message(b, d->seq);
    if (q && !q->deleted && !q->fifo) {
        dlq_commit *c = xcalloc(1, sizeof *c);
        c->st = sqs_staged_new(h->svc->sqs);
        sqs_outgoing o = {
            .body = d->body, .body_len = d->body_len, .sender = "AIDAIT2UOQQY3AUEKVGXU",
            .delay_seconds = -1,
        };
        sqs_stage(c->st, q, &o, b);
        store_submit(h->svc->store, b, dlq_done, c);
        log_info("sns", "delivery moved to the dead-letter queue after attempts=%u "
                 "refused_status=%ld", d->attempts, refused);
    } else {
        store_submit(h->svc->store, b, ignore_done, NULL);
        log_info("sns", "delivery discarded after attempts=%u refused_status=%ld",
                 d->attempts, refused);
    }
    json_decref(doc);
}

/* One attempt ended: success deletes the row, failure schedules a retry. */
static void attempt_done(sns_http *h, delivery *d, CURLcode rc)
{
    long status = 0;

    curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(h->multi, d->easy);
    curl_easy_cleanup(d->easy);
    d->easy = NULL;
    d->attempts++;
    bool ok = rc == CURLE_OK && status >= 200 && status < 300;
    bool sub_gone = d->sub_arn && strcmp(d->type, "Notification") == 0 &&
                    !sns_sub_find(h->svc, d->sub_arn);
    /* AWS: 400-499 is a permanent failure, not retried; 100-101, 500-599
     * and network errors are retried */
    bool permanent = rc == CURLE_OK && status >= 400 && status < 500;
    if (permanent && !sub_gone) {
        map_u64_del(&h->live, d->seq);
        give_up(h, d, status);
        delivery_free(d);
        return;
    }
    if (ok || sub_gone) {
        store_batch *b = store_batch_new();
        store_delete_message(b, d->seq);
        store_submit(h->svc->store, b, ignore_done, NULL);
        map_u64_del(&h->live, d->seq);
        delivery_free(d);
        return;
    }
    sns_retry_policy p;
    policy_of(h, d, &p);
    double delay = sns_policy_delay(&p, (int)d->attempts);
    log_info("sns", "delivery attempt failed status=%ld curl=%d (%s) attempts=%u type=%s "
             "topic=%s message_id=%s", status, (int)rc, curl_easy_strerror(rc), d->attempts,
             d->type, d->topic_arn, d->message_id);
    if (delay < 0) {
        map_u64_del(&h->live, d->seq);
        give_up(h, d, 0);
        delivery_free(d);
        return;
    }
    /* jitter: up to 10% either way */
    uint32_t r;
    random_bytes(&r, sizeof r);
    double jitter = delay * 0.1 * (((double)r / 4294967295.0) * 2.0 - 1.0);
    int64_t at = clock_now_ms() + (int64_t)((delay + jitter) * 1000.0);
    store_batch *b = store_batch_new();
    store_update_message(b, d->seq, at, d->attempts, 0);
    store_submit(h->svc->store, b, ignore_done, NULL);
    schedule(d, at);
}

static void check_done(sns_http *h)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        delivery *d = NULL;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
        if (d)
            attempt_done(h, d, rc);
    }
}

/* --- libevent glue ---------------------------------------------------------------- */

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    sns_http *h = arg;
    int running;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

    curl_multi_socket_action(h->multi, fd, flags, &running);
    check_done(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    sns_http *h = arg;
    int running;

    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    sns_http *h = userp;
    sock_watch *w = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (w) {
            event_free(w->ev);
            if (w->prev)
                w->prev->next = w->next;
            else
                h->socks = w->next;
            if (w->next)
                w->next->prev = w->prev;
            free(w);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    short kind = (short)(EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
                         (what & CURL_POLL_OUT ? EV_WRITE : 0));
    if (!w) {
        w = xcalloc(1, sizeof *w);
        w->next = h->socks;
        if (h->socks)
            h->socks->prev = w;
        h->socks = w;
        curl_multi_assign(h->multi, s, w);
    } else {
        event_free(w->ev);
    }
    w->ev = event_new(h->svc->base, s, kind, on_socket_event, h);
    event_add(w->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    sns_http *h = userp;

    if (timeout_ms < 0) {
        evtimer_del(h->timer);
    } else {
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        evtimer_add(h->timer, &tv);
    }
    return 0;
}

sns_http *sns_http_new(sns_service *svc)
{
    sns_http *h = xcalloc(1, sizeof *h);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    h->svc = svc;
    h->multi = curl_multi_init();
    h->timer = evtimer_new(svc->base, on_timer, h);
    map_u64_init(&h->live);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void sns_http_free(sns_http *h)
{
    if (!h)
        return;
    h->closing = true;
    for (size_t i = 0; i < h->live.cap; i++)
        if (h->live.keys[i])
            delivery_free(h->live.vals[i]);
    map_u64_free(&h->live);
    curl_multi_cleanup(h->multi);
    while (h->socks) {
        sock_watch *w = h->socks;
        h->socks = w->next;
        event_free(w->ev);
        free(w);
    }
    event_free(h->timer);
    free(h);
    curl_global_cleanup();
}

/* --- restart ---------------------------------------------------------------------- */

typedef struct load_ctx {
    sns_http *h;
    size_t n;
} load_ctx;

static void load_row(void *arg, const store_message *m)
{
    load_ctx *c = arg;
    sns_http *h = c->h;

    if (m->container != h->svc->outbox_id)
        return;
    json_t *meta = m->meta ? json_loads(m->meta, 0, NULL) : NULL;
    const char *topic = json_string_value(json_object_get(meta, "topic"));
    const char *url = json_string_value(json_object_get(meta, "url"));
    const char *type = json_string_value(json_object_get(meta, "type"));
    const char *sub = json_string_value(json_object_get(meta, "sub"));
    char *body = NULL, *attrs = NULL;
    size_t body_len = 0, attrs_len = 0;

    if (!topic || !url || !type ||
        store_read_payload(h->svc->store, m->seq, &body, &body_len, &attrs, &attrs_len) < 0) {
        json_decref(meta);
        return;
    }
    free(attrs);
    delivery *d = xcalloc(1, sizeof *d);
    d->h = h;
    d->seq = m->seq;
    snprintf(d->message_id, sizeof d->message_id, "%s", m->message_id);
    d->sub_arn = sub ? xstrdup(sub) : NULL;
    d->topic_arn = xstrdup(topic);
    d->url = xstrdup(url);
    d->type = xstrdup(type);
    d->raw = json_is_true(json_object_get(meta, "raw"));
    d->body = xstrndup(body ? body : "", body_len);
    d->body_len = body_len;
    d->attempts = m->receive_count;
    free(body);
    json_decref(meta);
    map_u64_put(&h->live, d->seq, d);
    schedule(d, m->visible_at_ms);
    c->n++;
}

int sns_http_load(sns_http *h)
{
    load_ctx c = {h, 0};

    if (store_load_messages(h->svc->store, load_row, &c) < 0)
        return -1;
    if (c.n)
        log_info("sns", "resuming pending HTTP deliveries count=%zu", c.n);
    return 0;
}
