/*
 * http_client.c - outbound HTTP for API destinations: libcurl's multi
 * interface driven by the server's libevent loop, so a slow endpoint never
 * blocks it.
 *
 * curl tells us which sockets to watch (socket callback) and when to wake
 * it (timer callback); libevent events feed readiness back through
 * curl_multi_socket_action, after which finished transfers are collected
 * and their completions run.  Everything runs on the event-loop thread;
 * events_http is owned by the EventBridge service.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "events/events.h"

struct events_http {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    int running;
    struct http_req *inflight; /* list of transfers not yet completed */
    char *ca_file;             /* CA bundle trusted for HTTPS, or NULL: the system's */
};

typedef struct http_req {
    struct http_req *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    events_http_done_fn done;
    void *arg;
    bool keep_body;
    buf answer;              /* the body kept (keep_body) */
    char *retry_after;       /* the Retry-After header's value, or NULL */
    char error[CURL_ERROR_SIZE];
} http_req;

typedef struct sock_watch {
    struct event *ev;
    events_http *h;
} sock_watch;

static void unlink_req(events_http *h, http_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        h->inflight = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

static void req_free(http_req *r)
{
    curl_slist_free_all(r->headers);
    free(r->body);
    buf_free(&r->answer);
    free(r->retry_after);
    free(r);
}

static void req_done(http_req *r, long status, const char *error)
{
    events_http_reply reply = {status, error, r->retry_after, r->answer.data ? r->answer.data
                                                                             : ""};
    if (r->done)
        r->done(r->arg, &reply);
}

static void collect(events_http *h)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        http_req *r = NULL;
        long status = 0;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        if (rc == CURLE_OK)
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(h->multi, easy);
        curl_easy_cleanup(easy);
        unlink_req(h, r);
        const char *err = rc == CURLE_OK ? NULL : (r->error[0] ? r->error : curl_easy_strerror(rc));
        req_done(r, rc == CURLE_OK ? status : 0, err);
        req_free(r);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    events_http *h = arg;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
    collect(h);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    events_http *h = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(h->multi, fd, flags, &h->running);
    collect(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    events_http *h = userp;
    sock_watch *w = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (w) {
            event_free(w->ev);
            free(w);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
                 (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!w) {
        w = xcalloc(1, sizeof *w);
        w->h = h;
        curl_multi_assign(h->multi, s, w);
    } else {
        event_free(w->ev);
    }
    w->ev = event_new(h->base, s, kind, on_socket, h);
    event_add(w->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    events_http *h = userp;

    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
    return 0;
}

events_http *events_http_new(struct event_base *base)
{
    events_http *h = xcalloc(1, sizeof *h);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    h->base = base;
    h->multi = curl_multi_init();
    h->timer = evtimer_new(base, on_timer, h);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void events_http_set_ca_file(events_http *h, const char *path)
{
    free(h->ca_file);
    h->ca_file = path ? xstrdup(path) : NULL;
}

void events_http_free(events_http *h)
{
    if (!h)
        return;
    /* Transfers still running end now, reported as failed. */
    while (h->inflight) {
        http_req *r = h->inflight;
        unlink_req(h, r);
        curl_multi_remove_handle(h->multi, r->easy);
        curl_easy_cleanup(r->easy);
        req_done(r, 0, "The server is shutting down.");
        req_free(r);
    }
    curl_multi_cleanup(h->multi);
    event_free(h->timer);
    free(h->ca_file);
    free(h);
    curl_global_cleanup();
}

/* Keeps the first EVENTS_HTTP_BODY_MAX bytes of the answer when asked. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    http_req *r = userdata;
    size_t n = size * nmemb;
    if (r->keep_body && r->answer.len < EVENTS_HTTP_BODY_MAX) {
        size_t room = EVENTS_HTTP_BODY_MAX - r->answer.len;
        buf_append(&r->answer, ptr, n < room ? n : room);
    }
    return n;
}

/* Notes the Retry-After header of the final answer. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    http_req *r = userdata;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) { /* a new answer (after a 100) */
        free(r->retry_after);
        r->retry_after = NULL;
    } else if (n > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
        size_t start = sizeof name - 1, end = n;
        while (start < end && (ptr[start] == ' ' || ptr[start] == '\t'))
            start++;
        while (end > start && (ptr[end - 1] == '\r' || ptr[end - 1] == '\n' ||
                               ptr[end - 1] == ' '))
            end--;
        free(r->retry_after);
        r->retry_after = xmalloc(end - start + 1);
        memcpy(r->retry_after, ptr + start, end - start);
        r->retry_after[end - start] = '\0';
    }
    return n;
}

void events_http_request(events_http *h, const char *method, const char *url, json_t *headers,
                         const char *body, long timeout_s, bool keep_body,
                         events_http_done_fn done, void *arg)
{
    http_req *r = xcalloc(1, sizeof *r);
    const char *k;
    json_t *v;

    r->done = done;
    r->arg = arg;
    r->keep_body = keep_body;
    buf_init(&r->answer);
    r->body = xstrdup(body ? body : "");
    r->easy = curl_easy_init();
    json_object_foreach(headers, k, v) {
        buf line;
        buf_init(&line);
        buf_printf(&line, "%s: %s", k, json_string_value(v) ? json_string_value(v) : "");
        r->headers = curl_slist_append(r->headers, line.data);
        buf_free(&line);
    }
    curl_easy_setopt(r->easy, CURLOPT_URL, url ? url : "");
    curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
    }
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "Amazon/EventBridge/ApiDestinations");
    /* certificates and host names are verified (libcurl's default); with a
     * CA file, against it alone */
    if (h->ca_file) {
        curl_easy_setopt(r->easy, CURLOPT_CAINFO, h->ca_file);
        curl_easy_setopt(r->easy, CURLOPT_CAPATH, NULL);
    }
    r->next = h->inflight;
    if (h->inflight)
        h->inflight->prev = r;
    h->inflight = r;
    if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        unlink_req(h, r);
        curl_easy_cleanup(r->easy);
        req_done(r, 0, "The request could not be started.");
        req_free(r);
    }
}
