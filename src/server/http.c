/*
 * http.c - the HTTP front; see http.h.
 *
 * Threads: everything here runs on the event-loop thread.  A request's way:
 * evhttp parses it, on_request() decodes it into an api_call (routing.c
 * logic inline below), the service handler runs, and when it is done (at
 * once, or after a commit or a long poll) finish_call() renders the result
 * and sends it.  A client that disconnects while its call is parked has the
 * call cancelled; one that disconnects while a commit is pending gets its
 * request freed by evhttp when the reply is attempted.
 *
 * Connections: evhttp asks us for each accepted connection's bufferevent
 * (evhttp_set_bevcb), which is where a listener counts it; right after the
 * accept callback the connection is adopted (its evhttp_connection found
 * and given a close callback, which uncounts it).  At max_connections the
 * listener stops accepting until a connection closes.  Accepting a
 * connection, or bytes arriving on an idle one, starts its request deadline
 * (request_timeout); the request reaching on_request stops it; a deadline
 * that runs out closes the connection.
 */
#include "server/http.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/map.h"
#include "core/policy.h"
#include "server/credentials.h"
#include "wire/form.h"
#include "wire/json_decode.h"
#include "wire/query.h"
#include "wire/sigv4.h"

#define MAX_SERVICES 8
#define MAX_RAW_ROUTES 8

typedef struct raw_route {
    char *path;
    http_raw_fn fn;
    void *ctx;
} raw_route;
#define EVHTTP_BODY_LIMIT (32u << 20)

/* Accept errors such as running out of file descriptors pause a listener
 * this long; the limit warning is repeated at most this often. */
#define ACCEPT_RETRY_MS 1000
#define LIMIT_WARN_EVERY_MS 60000

/* One listening socket: what it tells on_request (the server, whether it
 * is TLS) and its connections' accounting. */
typedef struct listener {
    struct http_server *srv;
    bool tls;
    const char *name;               /* "plain" or "tls", for logs */
    struct evconnlistener *lev;     /* while listening, else NULL */
    size_t open;                    /* connections accepted and not yet closed */
    bool paused;                    /* accepting is off */
    struct event *retry;            /* resumes after an accept error */
    int64_t warned_ms;              /* when the limit was last logged */
    int64_t error_warned_ms;        /* when an accept error was last logged */
} listener;

/* One accepted connection, from the creation of its bufferevent until
 * evhttp closes it (on_conn_closed frees it). */
typedef struct conn {
    listener *from;
    struct bufferevent *bev;
    struct evhttp_connection *evcon;  /* set when adopted */
    struct evbuffer_cb_entry *arrivals; /* watches the input for a request's bytes */
    struct event *deadline;           /* armed while a request is arriving */
    bool busy;                        /* one of its requests is being handled */
    bool early;                       /* bytes arrived while busy */
    struct conn *next_new;            /* in the server's list awaiting adoption */
} conn;

struct http_server {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *socket;
    listener plain;
    struct evhttp *https;            /* the TLS listener, or NULL */
    struct evhttp_bound_socket *tls_socket;
    SSL_CTX *tls_ctx;
    listener secure;
    http_config cfg;
    api_service *services[MAX_SERVICES];
    size_t nservices;
    raw_route raw[MAX_RAW_ROUTES];
    size_t nraw;
    size_t outstanding;
    limits lim;
    map_u64 conns;                   /* evhttp_connection -> conn */
    conn *new_conns;                 /* accepted, awaiting adoption */
    struct event *adopt;             /* runs adopt_new_conns */
};

typedef struct call_ctx {
    http_server *srv;
    struct evhttp_request *req;
    char *host;
    char *path;
    char *trace_header;        /* X-Amzn-Trace-Id, or NULL */
    struct event *peer_closed; /* watches a parked call's connection */
} call_ctx;

/* --- connections ------------------------------------------------------------------ */

/* Listeners by their evconnlistener, for the accept error callback, whose
 * argument is evhttp's, not ours.  Owner: the event-loop thread (entries
 * are added when a listener starts and removed when it stops). */
#define MAX_LISTENERS 8
static listener *listening[MAX_LISTENERS];

static void listener_register(listener *l, bool on)
{
    for (size_t i = 0; i < MAX_LISTENERS; i++) {
        if (on && !listening[i]) {
            listening[i] = l;
            return;
        }
        if (!on && listening[i] == l)
            listening[i] = NULL;
    }
}

static void listener_pause(listener *l)
{
    if (l->lev && !l->paused) {
        evconnlistener_disable(l->lev);
        l->paused = true;
    }
}

static void listener_resume(listener *l)
{
    if (l->lev && l->paused && l->open < l->srv->lim.max_connections &&
        !evtimer_pending(l->retry, NULL)) {
        evconnlistener_enable(l->lev);
        l->paused = false;
    }
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    listener_resume(arg);
}

/* accept() failed for a reason other than "try again" (no file descriptors
 * left, say): pause the listener for a while instead of spinning on its
 * ready socket. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval tv = {ACCEPT_RETRY_MS / 1000, (ACCEPT_RETRY_MS % 1000) * 1000};
    listener *l = NULL;

    for (size_t i = 0; i < MAX_LISTENERS && !l; i++)
        if (listening[i] && listening[i]->lev == lev)
            l = listening[i];
    if (!l) {
        evconnlistener_disable(lev);
        return;
    }
    int64_t now = clock_now_ms();
    if (now - l->error_warned_ms >= LIMIT_WARN_EVERY_MS) {
        l->error_warned_ms = now;
        log_warn("http", "accept failed, pausing listener=%s open=%zu error=%s retry_ms=%d",
                 l->name, l->open, evutil_socket_error_to_string(err), ACCEPT_RETRY_MS);
    }
    listener_pause(l);
    evtimer_add(l->retry, &tv);
}

static void conn_arm(conn *c)
{
    struct timeval tv = {(time_t)c->from->srv->lim.request_timeout, 0};
    evtimer_add(c->deadline, &tv);
}

/* Bytes moved through the connection's input: new ones start the request
 * deadline, unless a request is being handled (they wait for its end). */
static void on_arrival(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    conn *c = arg;

    if (info->n_added == 0)
        return;
    if (c->busy)
        c->early = true;
    else if (!evtimer_pending(c->deadline, NULL))
        conn_arm(c);
}

/* The request has not arrived whole in time: close the connection (a
 * client dribbling bytes holds it no longer).  Never while one of its
 * requests is being handled. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;

    if (c->busy || !c->evcon)
        return;
    log_info("http", "no whole request within %zu s, connection closed listener=%s",
             c->from->srv->lim.request_timeout, c->from->name);
    evhttp_connection_free(c->evcon); /* on_conn_closed frees c */
}

static void conn_free(conn *c)
{
    if (c->arrivals)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->arrivals);
    event_free(c->deadline);
    free(c);
}

/* evhttp is closing the connection (whatever the reason): uncount it. */
static void on_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    conn *c = arg;
    listener *l = c->from;

    map_u64_del(&l->srv->conns, (uint64_t)(uintptr_t)evcon);
    conn_free(c);
    l->open--;
    listener_resume(l);
}

/* Runs right after the accept callback that made the connections: by now
 * evhttp has created each one's evhttp_connection, which libevent 2.1
 * registers as the argument of the bufferevent's callbacks (checked with
 * evhttp_connection_get_bufferevent before it is trusted). */
static void adopt_new_conns(evutil_socket_t fd, short what, void *arg)
{
    http_server *srv = arg;

    while (srv->new_conns) {
        conn *c = srv->new_conns;
        void *cbarg = NULL;

        srv->new_conns = c->next_new;
        bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
        if (!cbarg || evhttp_connection_get_bufferevent(cbarg) != c->bev) {
            log_error("http", "cannot track a new connection listener=%s", c->from->name);
            c->from->open--;
            conn_free(c);
            continue;
        }
        c->evcon = cbarg;
        map_u64_put(&srv->conns, (uint64_t)(uintptr_t)c->evcon, c);
        evhttp_connection_set_closecb(c->evcon, on_conn_closed, c);
        c->arrivals = evbuffer_add_cb(bufferevent_get_input(c->bev), on_arrival, c);
        /* A new connection's first request (and TLS handshake) must come in
         * time too; later, idle keep-alive connections are evhttp's to time
         * out (evhttp_set_timeout). */
        conn_arm(c);
    }
}

/* Counts a connection the listener has just accepted (its bufferevent is
 * bev); at the limit, the listener stops accepting. */
static struct bufferevent *conn_accepted(listener *l, struct bufferevent *bev)
{
    http_server *srv = l->srv;

    if (!bev)
        return NULL;
    conn *c = xcalloc(1, sizeof *c);
    c->from = l;
    c->bev = bev;
    c->deadline = evtimer_new(srv->base, on_deadline, c);
    c->next_new = srv->new_conns;
    srv->new_conns = c;
    event_active(srv->adopt, EV_TIMEOUT, 0);
    if (++l->open >= srv->lim.max_connections) {
        listener_pause(l);
        int64_t now = clock_now_ms();
        if (now - l->warned_ms >= LIMIT_WARN_EVERY_MS) {
            l->warned_ms = now;
            log_warn("http", "connection limit reached listener=%s open=%zu: new connections "
                     "wait until one closes (--max-connections)", l->name, l->open);
        }
    }
    return bev;
}

/* evhttp asks for each accepted plain connection's bufferevent here. */
static struct bufferevent *plain_bufferevent(struct event_base *base, void *arg)
{
    return conn_accepted(arg, bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE));
}

static conn *conn_of(http_server *srv, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);

    return evcon ? map_u64_get(&srv->conns, (uint64_t)(uintptr_t)evcon) : NULL;
}

/* A request of c reached on_request: its deadline is over. */
static void conn_begin(conn *c)
{
    if (c) {
        c->busy = true;
        c->early = false;
        evtimer_del(c->deadline);
    }
}

/* Its answer goes out: bytes of a next request that came meanwhile start
 * that request's deadline. */
static void conn_end(conn *c)
{
    if (c) {
        c->busy = false;
        if (c->early) {
            c->early = false;
            conn_arm(c);
        }
    }
}

/* Starts counting the connections of a listener bound as bound. */
static void listener_start(http_server *srv, listener *l, struct evhttp_bound_socket *bound)
{
    l->lev = evhttp_bound_socket_get_listener(bound);
    l->retry = evtimer_new(srv->base, on_accept_retry, l);
    evconnlistener_set_error_cb(l->lev, on_accept_error);
    listener_register(l, true);

    /* Every connection is a file descriptor: warn if the limit cannot be
     * reached before the process runs out of them. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)srv->lim.max_connections * 2 + 256 > rl.rlim_cur)
        log_warn("http", "max_connections=%zu per listener is near the open-file limit=%llu; "
                 "accepting pauses when descriptors run out listener=%s",
                 srv->lim.max_connections, (unsigned long long)rl.rlim_cur, l->name);
}

static void listener_stop(listener *l)
{
    listener_register(l, false);
    l->lev = NULL;
    if (l->retry) {
        event_free(l->retry);
        l->retry = NULL;
    }
}

/* --- responses ------------------------------------------------------------------ */

static void send_body(struct evhttp_request *req, int status, const char *content_type,
                      const char *request_id, const char *query_error, const char *body,
                      size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *out = evbuffer_new();

    evhttp_add_header(h, "Content-Type", content_type);
    if (request_id) {
        evhttp_add_header(h, "x-amzn-RequestId", request_id);
        evhttp_add_header(h, "x-amz-request-id", request_id);
    }
    if (query_error)
        evhttp_add_header(h, "x-amzn-query-error", query_error);
    /* A response to HEAD has no body; evhttp would send one anyway (with no
     * Content-Length), and a keep-alive client would read it as the start
     * of its next response. */
    if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
        evbuffer_add(out, body, len);
    evhttp_send_reply(req, status, NULL, out);
    evbuffer_free(out);
}

static const char *json_content_type(const api_call *call)
{
    return call->protocol == WIRE_JSON11 ? "application/x-amz-json-1.1"
           : call->protocol == WIRE_REST_JSON ? "application/json"
                                              : "application/x-amz-json-1.0";
}

/* Appends s with each byte that does not begin a well-formed UTF-8
 * sequence replaced by U+FFFD. */
static void utf8_scrub(buf *out, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (len <= n - i && utf8_valid(s + i, len)) {
            buf_append(out, s + i, len);
            i += len;
        } else {
            buf_puts(out, "\xef\xbf\xbd");
            i++;
        }
    }
}

static void render_error(api_call *call, buf *out, int *status, char *query_error,
                         size_t qlen)
{
    const aws_error *e = aws_error_get(call->error);

    /* Messages quote the client's bytes (a path, a target), and json_pack
     * refuses a string that is not UTF-8 (no body, and a NULL to print). */
    if (call->error_message && !utf8_valid(call->error_message, strlen(call->error_message))) {
        buf clean;
        buf_init(&clean);
        utf8_scrub(&clean, call->error_message);
        free(call->error_message);
        call->error_message = buf_steal(&clean);
    }
    const char *msg = call->error_message ? call->error_message : "";

    *status = e->http_status;
    if (call->protocol == WIRE_QUERY) {
        query_render_error(out, call->service ? call->service->xml_namespace
                                              : "http://queue.amazonaws.com/doc/2012-11-05/",
                           e, msg, call->request_id);
        return;
    }
    if (call->protocol == WIRE_REST_JSON) {
        /* REST-JSON: the error's name travels in x-amzn-ErrorType (added by
         * finish_call), the body carries only the message. */
        json_t *body = json_pack("{s:s}", "Message", msg);
        char *text = json_dumps(body, JSON_COMPACT);
        buf_puts(out, text);
        free(text);
        json_decref(body);
        return;
    }
    const char *ns = call->service ? call->service->json_type_ns : "com.amazonaws";
    if (call->error == AWS_ERR_SERIALIZATION || call->error == AWS_ERR_UNKNOWN_OPERATION)
        ns = "com.amazon.coral.service";
    char type[256];
    snprintf(type, sizeof type, "%s#%s", ns, e->json_name);
    json_t *body = json_pack("{s:s,s:s}", "__type", type, "message", msg);
    char *text = json_dumps(body, JSON_COMPACT);
    buf_puts(out, text);
    free(text);
    json_decref(body);
    if (call->service && call->service->query_compatible)
        snprintf(query_error, qlen, "%s;%s", e->query_code,
                 e->sender_fault ? "Sender" : "Receiver");
}

static void free_call(api_call *call)
{
    call_ctx *ctx = call->server_data;

    json_decref(call->input);
    json_decref(call->output);
    free(call->error_message);
    if (ctx) {
        if (ctx->peer_closed)
            event_free(ctx->peer_closed);
        free(ctx->host);
        free(ctx->trace_header);
        free(ctx->path);
        free(ctx);
    }
    free(call);
}

static void finish_call(api_call *call)
{
    call_ctx *ctx = call->server_data;
    struct evhttp_request *req = ctx->req;
    char query_error[256] = "";
    int status = 200;
    buf out;

    buf_init(&out);
    if (call->has_error) {
        render_error(call, &out, &status, query_error, sizeof query_error);
        log_debug("http", "error action=%s code=%s request_id=%s", call->action,
                  aws_error_get(call->error)->query_code, call->request_id);
        if (call->protocol == WIRE_REST_JSON)
            evhttp_add_header(evhttp_request_get_output_headers(req), "x-amzn-ErrorType",
                              aws_error_get(call->error)->json_name);
    } else if (call->protocol == WIRE_QUERY) {
        query_render_result(&out, call->service, call->action, call->output, call->request_id);
    } else {
        char *text = call->output ? json_encode(call->output) : NULL;
        buf_puts(&out, text ? text : "{}");
        free(text);
    }
    conn_end(conn_of(ctx->srv, req));
    send_body(req, status, call->protocol == WIRE_QUERY ? "text/xml" : json_content_type(call),
              call->request_id, *query_error ? query_error : NULL, out.data ? out.data : "",
              out.len);
    buf_free(&out);
    ctx->srv->outstanding--;
    free_call(call);
}

/* The client closed its connection while its call was parked: the call is
 * cancelled (a long poll gives back nothing it took) and answered empty, so
 * evhttp notices the dead connection and frees the request. */
static void on_peer_closed(evutil_socket_t fd, short what, void *arg)
{
    api_call *call = arg;

    if (!call->cancel)
        return;
    call->cancel(call);
    log_debug("http", "client left a parked call action=%s request_id=%s", call->action,
              call->request_id);
    api_out(call);
    finish_call(call);
}

/* Watches the connection of a parked call for the peer closing it. */
static void watch_peer(http_server *srv, api_call *call)
{
    call_ctx *ctx = call->server_data;
    struct evhttp_connection *evcon = evhttp_request_get_connection(ctx->req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;

    if (fd < 0)
        return;
    ctx->peer_closed = event_new(srv->base, fd, EV_CLOSED, on_peer_closed, call);
    event_add(ctx->peer_closed, NULL);
}

/* --- routing ---------------------------------------------------------------------- */

static api_service *service_by_target(http_server *srv, const char *prefix, size_t n)
{
    for (size_t i = 0; i < srv->nservices; i++) {
        const char *t = srv->services[i]->json_target;
        if (t && strlen(t) == n && strncmp(t, prefix, n) == 0)
            return srv->services[i];
    }
    return NULL;
}

static api_service *service_by_name(http_server *srv, const char *name)
{
    for (size_t i = 0; i < srv->nservices; i++)
        if (strcmp(srv->services[i]->name, name) == 0)
            return srv->services[i];
    return NULL;
}

static api_service *service_by_action(http_server *srv, const char *action)
{
    for (size_t i = 0; i < srv->nservices; i++)
        if (api_find_action(srv->services[i], action))
            return srv->services[i];
    return NULL;
}

static void reply_health(struct evhttp_request *req, http_server *srv)
{
    char body[128];
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"ok\",\"outstanding\":%zu,\"connections\":%zu}",
                     srv->outstanding, http_server_connections(srv));
    send_body(req, 200, "application/json", NULL, NULL, body, (size_t)n);
}

/* Decodes an AWS JSON request.  Sets the call's service, action and input,
 * or its error. */
static void decode_json(http_server *srv, api_call *call, const char *target, const char *body,
                        size_t len, const char *content_type)
{
    const char *dot = strrchr(target, '.');

    call->protocol = content_type && strstr(content_type, "1.1") ? WIRE_JSON11 : WIRE_JSON10;
    call->service = dot ? service_by_target(srv, target, (size_t)(dot - target)) : NULL;
    snprintf(call->action, sizeof call->action, "%s", dot ? dot + 1 : target);
    if (!call->service || !api_find_action(call->service, call->action)) {
        call->input = json_object();
        api_fail(call, AWS_ERR_UNKNOWN_OPERATION, "Unknown operation %s", target);
        return;
    }
    if (len == 0) {
        call->input = json_object();
        return;
    }
    call->input = json_decode(body, len);
    if (!json_is_object(call->input)) {
        json_decref(call->input);
        call->input = json_object();
        api_fail(call, AWS_ERR_SERIALIZATION, "Start of structure or map found where not "
                 "expected, or the request body is not valid JSON.");
    }
}

/* Decodes a Query request from the URI's query string and a form body. */
static void decode_query(http_server *srv, api_call *call, const char *uri_query,
                         const char *body, size_t len, const char *content_type,
                         const sigv4_scope *scope, bool scoped)
{
    form f;
    const char *action;

    call->protocol = WIRE_QUERY;
    call->input = json_object();
    form_init(&f);
    if ((uri_query && form_parse(&f, uri_query, strlen(uri_query)) < 0) ||
        (len && form_parse(&f, body, len) < 0)) {
        form_free(&f);
        api_fail(call, AWS_ERR_MALFORMED_QUERY_STRING,
                 "The request's form encoding is malformed.");
        return;
    }
    sigv4_scope presigned;
    const char *cred = form_get(&f, "X-Amz-Credential");
    if (!scoped && cred && sigv4_parse_credential(cred, &presigned)) {
        scope = &presigned;
        scoped = true;
    }
    action = form_get(&f, "Action");
    if (!action || !*action) {
        form_free(&f);
        api_fail(call, AWS_ERR_MISSING_ACTION, "The request must contain the parameter Action.");
        return;
    }
    snprintf(call->action, sizeof call->action, "%s", action);
    if (!call->service && scoped)
        call->service = service_by_name(srv, scope->service);
    if (!call->service || !api_find_action(call->service, action))
        call->service = service_by_action(srv, action);
    /* EventBridge and the Scheduler do not speak Query (no rules to decode
     * or render it with). */
    if (!call->service || !call->service->query_rules) {
        call->service = NULL;
        form_free(&f);
        api_fail(call, AWS_ERR_INVALID_ACTION, "The action %s is not valid for this endpoint.",
                 call->action);
        return;
    }
    /* Every value must be UTF-8: the stores and writers downstream rely on
     * it.  Message content is checked by its own handler, which answers
     * with the content error AWS gives. */
    for (size_t i = 0; i < f.n; i++) {
        const form_pair *p = &f.pairs[i];
        size_t klen = strlen(p->key);
        bool content = (klen >= 11 && strcmp(p->key + klen - 11, "MessageBody") == 0) ||
                       strcmp(p->key, "Message") == 0 ||
                       (klen >= 11 && strcmp(p->key + klen - 11, "StringValue") == 0);
        if (!utf8_valid(p->key, p->key_len) || (!content && !utf8_valid(p->value, p->value_len))) {
            bool sns = strcmp(call->service->name, "sns") == 0;
            api_fail(call, sns ? AWS_ERR_SNS_INVALID_PARAMETER : AWS_ERR_INVALID_PARAMETER_VALUE,
                     "%sThe value of parameter %s is not valid UTF-8.",
                     sns ? "Invalid parameter: " : "", utf8_valid(p->key, p->key_len)
                                                        ? p->key : "(a name)");
            form_free(&f);
            return;
        }
    }
    json_decref(call->input);
    call->input = query_to_json(&f, call->service->query_rules);
    form_free(&f);
}

/* --- REST-JSON (EventBridge Scheduler) ------------------------------------------
 *
 * The REST-JSON protocol names the operation by method and path and spreads
 * the input over the path, the query string and a JSON body.  Only the
 * Scheduler speaks it here, so its routes are a fixed table taken from its
 * model; the decoder rebuilds the JSON shape of the operation's input
 * members so that the handlers read it like any other call. */

typedef struct rest_param {
    const char *location; /* query string name */
    const char *member;   /* input member */
    char type;            /* 's' string, 'i' integer, 'l' list of strings */
} rest_param;

typedef struct rest_route {
    enum evhttp_cmd_type method;
    const char *prefix;   /* the path, or the part before the label */
    const char *label;    /* member filled by the last segment, or NULL */
    const char *action;
    const rest_param *query;
} rest_route;

static const rest_param rq_group[] = {{"groupName", "GroupName", 's'}, {NULL, NULL, 0}};
static const rest_param rq_delete_schedule[] = {
    {"groupName", "GroupName", 's'}, {"clientToken", "ClientToken", 's'}, {NULL, NULL, 0}};
static const rest_param rq_client[] = {{"clientToken", "ClientToken", 's'}, {NULL, NULL, 0}};
static const rest_param rq_list_schedules[] = {
    {"ScheduleGroup", "GroupName", 's'}, {"NamePrefix", "NamePrefix", 's'},
    {"State", "State", 's'},             {"MaxResults", "MaxResults", 'i'},
    {"NextToken", "NextToken", 's'},     {NULL, NULL, 0}};
static const rest_param rq_list_groups[] = {{"NamePrefix", "NamePrefix", 's'},
                                            {"MaxResults", "MaxResults", 'i'},
                                            {"NextToken", "NextToken", 's'},
                                            {NULL, NULL, 0}};
static const rest_param rq_untag[] = {{"TagKeys", "TagKeys", 'l'}, {NULL, NULL, 0}};

static const rest_route scheduler_routes[] = {
    {EVHTTP_REQ_POST, "/schedules", "Name", "CreateSchedule", NULL},
    {EVHTTP_REQ_GET, "/schedules", "Name", "GetSchedule", rq_group},
    {EVHTTP_REQ_PUT, "/schedules", "Name", "UpdateSchedule", NULL},
    {EVHTTP_REQ_DELETE, "/schedules", "Name", "DeleteSchedule", rq_delete_schedule},
    {EVHTTP_REQ_GET, "/schedules", NULL, "ListSchedules", rq_list_schedules},
    {EVHTTP_REQ_POST, "/schedule-groups", "Name", "CreateScheduleGroup", NULL},
    {EVHTTP_REQ_GET, "/schedule-groups", "Name", "GetScheduleGroup", NULL},
    {EVHTTP_REQ_DELETE, "/schedule-groups", "Name", "DeleteScheduleGroup", rq_client},
    {EVHTTP_REQ_GET, "/schedule-groups", NULL, "ListScheduleGroups", rq_list_groups},
    {EVHTTP_REQ_GET, "/tags", "ResourceArn", "ListTagsForResource", NULL},
    {EVHTTP_REQ_POST, "/tags", "ResourceArn", "TagResource", NULL},
    {EVHTTP_REQ_DELETE, "/tags", "ResourceArn", "UntagResource", rq_untag},
};

/* True if path starts with prefix followed by the end or a '/'. */
static bool path_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Whether a request without X-Amz-Target is a Scheduler REST-JSON call. */
static bool is_scheduler_rest(const char *path, const sigv4_scope *scope, bool scoped)
{
    if (path_under(path, "/schedules") || path_under(path, "/schedule-groups"))
        return !scoped || strcmp(scope->service, "scheduler") == 0;
    return scoped && strcmp(scope->service, "scheduler") == 0 &&
           strncmp(path, "/tags/", 6) == 0;
}

/* Finds the route of method+path; *label points into path at the label's
 * (still encoded) text, or is NULL. */
static const rest_route *rest_find(enum evhttp_cmd_type method, const char *path,
                                   const char **label, bool *known_path)
{
    *known_path = false;
    for (size_t i = 0; i < sizeof scheduler_routes / sizeof *scheduler_routes; i++) {
        const rest_route *r = &scheduler_routes[i];
        size_t n = strlen(r->prefix);
        if (strncmp(path, r->prefix, n) != 0)
            continue;
        const char *rest = path + n;
        bool match = r->label ? (rest[0] == '/' && rest[1] != '\0' &&
                                 (strcmp(r->prefix, "/tags") == 0 || !strchr(rest + 1, '/')))
                              : (rest[0] == '\0' || strcmp(rest, "/") == 0);
        if (!match)
            continue;
        *known_path = true;
        if (r->method != method)
            continue;
        *label = r->label ? rest + 1 : NULL;
        return r;
    }
    return NULL;
}

/* Puts the query string's parameters of route r into input. */
static int rest_query(api_call *call, const rest_route *r, const char *uri_query)
{
    struct evkeyvalq q;
    struct evkeyval *kv;

    if (!uri_query || !*uri_query)
        return 0;
    if (evhttp_parse_query_str(uri_query, &q) < 0) {
        evhttp_clear_headers(&q);
        api_fail(call, AWS_ERR_SERIALIZATION, "The request's query string is malformed.");
        return -1;
    }
    for (kv = q.tqh_first; kv; kv = kv->next.tqe_next) {
        for (const rest_param *p = r->query; p && p->location; p++) {
            if (strcmp(p->location, kv->key) != 0)
                continue;
            if (p->type == 'l') {
                json_t *list = json_object_get(call->input, p->member);
                if (!json_is_array(list)) {
                    list = json_array();
                    json_object_set_new(call->input, p->member, list);
                }
                json_array_append_new(list, json_string(kv->value));
            } else if (p->type == 'i') {
                char *end;
                long long v = strtoll(kv->value, &end, 10);
                if (*kv->value && !*end)
                    json_object_set_new(call->input, p->member, json_integer(v));
                else
                    json_object_set_new(call->input, p->member, json_string(kv->value));
            } else {
                json_object_set_new(call->input, p->member, json_string(kv->value));
            }
        }
    }
    evhttp_clear_headers(&q);
    return 0;
}

/* Decodes a Scheduler REST-JSON request into the call. */
static void decode_rest_json(http_server *srv, api_call *call, struct evhttp_request *req,
                             const char *path, const char *uri_query, const char *body,
                             size_t len)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    const char *label = NULL;
    bool known_path;
    const rest_route *r = rest_find(method, path, &label, &known_path);

    call->protocol = WIRE_REST_JSON;
    call->service = service_by_name(srv, "scheduler");
    call->input = NULL;
    if (!call->service || !r) {
        call->input = json_object();
        snprintf(call->action, sizeof call->action, "%s", "Unknown");
        api_fail(call, AWS_ERR_UNKNOWN_OPERATION, "Unknown operation %s %s",
                 known_path ? "for method on" : "at", path);
        return;
    }
    snprintf(call->action, sizeof call->action, "%s", r->action);
    if (len && (method == EVHTTP_REQ_POST || method == EVHTTP_REQ_PUT)) {
        call->input = json_decode(body, len);
        if (!json_is_object(call->input)) {
            json_decref(call->input);
            call->input = json_object();
            api_fail(call, AWS_ERR_SERIALIZATION, "Start of structure or map found where "
                     "not expected, or the request body is not valid JSON.");
            return;
        }
    } else {
        call->input = json_object();
    }
    if (label) {
        size_t n = 0;
        char *decoded = evhttp_uridecode(label, 0, &n);
        if (!decoded || strlen(decoded) != n) {
            free(decoded);
            api_fail(call, AWS_ERR_VALIDATION, "The request path is malformed.");
            return;
        }
        json_object_set_new(call->input, r->label, json_string(decoded));
        free(decoded);
        if (!json_is_string(json_object_get(call->input, r->label))) {
            api_fail(call, AWS_ERR_VALIDATION, "The request path is not valid UTF-8.");
            return;
        }
    }
    rest_query(call, r, uri_query);
}

/* The SubscribeURL and UnsubscribeURL SNS puts in its messages are plain
 * GETs an endpoint's owner follows without any AWS key, as on AWS. */
static bool unsigned_sns_link(const api_call *call, struct evhttp_request *req)
{
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

    if (!call->service || strcmp(call->service->name, "sns") != 0 ||
        evhttp_request_get_command(req) != EVHTTP_REQ_GET)
        return false;
    if (strcmp(call->action, "ConfirmSubscription") != 0 &&
        strcmp(call->action, "Unsubscribe") != 0)
        return false;
    if (evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"))
        return false;
    return !q || (!strcasestr(q, "X-Amz-Signature") && !strcasestr(q, "X-Amz-Credential"));
}

/* With keys configured, the call's identity comes from its verified
 * signature, and the identity's allow list must permit the action on some
 * resource.  An authentication failure replaces any decoding error: an
 * unauthenticated caller learns nothing about the request's validity. */
static void authenticate(http_server *srv, api_call *call, struct evhttp_request *req,
                         const char *body, size_t len)
{
    cred_result res;
    char action[160];

    if (call->unsigned_link) {
        call->anonymous = true;
        call->access_key = "anonymous";
        return;
    }
    if (cred_check_request(srv->cfg.credentials, req, body, len, clock_now_ms() / 1000,
                           call->protocol != WIRE_QUERY, &res) < 0) {
        log_debug("http", "authentication failed code=%s request_id=%s",
                  aws_error_get(res.error)->query_code, call->request_id);
        api_fail(call, res.error, "%s", res.message);
        return;
    }
    call->account = res.identity->account;
    call->access_key = res.identity->access_key;
    call->allow = res.identity->allow;
    snprintf(action, sizeof action, "%s:%s", call->service ? call->service->name : "",
             call->action);
    if (!call->has_error && !policy_allow_list_permits(call->allow, action, NULL))
        api_fail(call, AWS_ERR_ACCESS_DENIED, "The access key %s is not authorized to perform: "
                 "%s because no allow entry of the key permits it", call->access_key, action);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const listener *from = arg;
    http_server *srv = from->srv;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evbuffer *body_buf = evhttp_request_get_input_buffer(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *target = evhttp_find_header(in, "X-Amz-Target");
    const char *content_type = evhttp_find_header(in, "Content-Type");
    const char *host = evhttp_find_header(in, "Host");
    size_t len = evbuffer_get_length(body_buf);
    conn *c = conn_of(srv, req);
    sigv4_scope scope;
    bool scoped;

    conn_begin(c);
    /* evhttp takes any "HTTP/<m>.<n>" with m <= 1 ("HTTP/0.9", "HTTP/1.-7")
     * and repeats it in the status line.  HTTP/1.x is answered as 1.1 at
     * most (RFC 9110 section 2.5); other versions are refused. */
    if (req->major != 1) {
        req->major = 1;
        req->minor = 1;
        conn_end(c);
        evhttp_send_error(req, 505, "HTTP Version Not Supported"); /* and closes */
        return;
    }
    req->minor = req->minor < 0 ? 0 : req->minor > 1 ? 1 : req->minor;
    if (!path || !*path)
        path = "/";
    if (strcmp(path, "/_sluice/health") == 0) {
        conn_end(c);
        reply_health(req, srv);
        return;
    }
    for (size_t i = 0; i < srv->nraw; i++) {
        if (evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
            strcmp(path, srv->raw[i].path) == 0) {
            const char *ct = "application/octet-stream";
            buf out;
            buf_init(&out);
            srv->raw[i].fn(srv->raw[i].ctx, &out, &ct);
            conn_end(c);
            send_body(req, 200, ct, NULL, NULL, out.data ? out.data : "", out.len);
            buf_free(&out);
            return;
        }
    }

    api_call *call = xcalloc(1, sizeof *call);
    call_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->srv = srv;
    ctx->req = req;
    if (host && *host) {
        ctx->host = xstrdup(host);
    } else {
        /* No Host header (HTTP/1.0): URLs name the address we listen on. */
        char self[300];
        snprintf(self, sizeof self, "%s:%d", srv->cfg.host, srv->cfg.port);
        ctx->host = xstrdup(self);
    }
    ctx->path = xstrdup(path);
    const char *trace = evhttp_find_header(in, "X-Amzn-Trace-Id");
    ctx->trace_header = trace && *trace ? xstrdup(trace) : NULL;
    call->trace_header = ctx->trace_header;
    call->server_data = ctx;
    call->finish = finish_call;
    call->host = ctx->host;
    call->path = ctx->path;
    call->region = srv->cfg.region;
    call->account = srv->cfg.account;
    call->access_key = "";
    call->tls = from->tls;
    uuid_v4(call->request_id);
    srv->outstanding++;

    scoped = sigv4_parse_authorization(evhttp_find_header(in, "Authorization"), &scope);
    const char *body = len ? (const char *)evbuffer_pullup(body_buf, -1) : "";
    /* Out of memory for the body in one piece, or while decoding it: an
     * internal error, not a crash or a misleading validation error. */
    unsigned long oom_before = mem_failures();
    bool body_lost = !body;
    if (body_lost) {
        body = "";
        len = 0;
    }

    if (len > srv->cfg.max_body_bytes) {
        call->protocol = target ? WIRE_JSON10 : WIRE_QUERY;
        call->input = json_object();
        api_fail(call, AWS_ERR_REQUEST_TOO_LARGE, "Request body is larger than %zu bytes.",
                 srv->cfg.max_body_bytes);
    } else if (!target && is_scheduler_rest(path, &scope, scoped)) {
        decode_rest_json(srv, call, req, path, uri ? evhttp_uri_get_query(uri) : NULL, body,
                         len);
    } else if (target) {
        if (scoped)
            call->service = service_by_name(srv, scope.service);
        decode_json(srv, call, target, body, len, content_type);
    } else {
        bool form_body = evhttp_request_get_command(req) != EVHTTP_REQ_GET;
        decode_query(srv, call, uri ? evhttp_uri_get_query(uri) : NULL, body,
                     form_body ? len : 0, content_type, &scope, scoped);
    }

    call->unsigned_link = !call->has_error && unsigned_sns_link(call, req);
    if (srv->cfg.credentials)
        authenticate(srv, call, req, body, len);
    if (body_lost || mem_failures() != oom_before) {
        log_error("http", "out of memory reading a request bytes=%zu request_id=%s",
                  evbuffer_get_length(body_buf), call->request_id);
        api_fail(call, AWS_ERR_INTERNAL, "The request processing has failed because of an "
                                         "unknown error, exception or failure.");
    }
    if (!call->has_error) {
        api_sanitize_nul(call->input);
        const api_action *a = api_find_action(call->service, call->action);
        if (!a) {
            if (call->protocol == WIRE_QUERY)
                api_fail(call, AWS_ERR_INVALID_ACTION,
                         "The action %s is not valid for this endpoint.", call->action);
            else
                api_fail(call, AWS_ERR_UNKNOWN_OPERATION, "Unknown operation %s",
                         call->action);
        } else if (!api_refuse_write(call) && a->handler(call) == API_PENDING) {
            if (call->cancel)
                watch_peer(srv, call);
            return;
        }
    }
    finish_call(call);
}

/* --- lifecycle ---------------------------------------------------------------------- */

http_server *http_server_start(struct event_base *base, const http_config *cfg)
{
    http_server *srv = xcalloc(1, sizeof *srv);

    json_count_allocations();
    srv->base = base;
    srv->cfg = *cfg;
    srv->lim = cfg->limits ? *cfg->limits : *limits_default();
    srv->cfg.limits = &srv->lim;
    map_u64_init(&srv->conns);
    srv->adopt = event_new(base, -1, 0, adopt_new_conns, srv);
    srv->http = evhttp_new(base);
    evhttp_set_max_body_size(srv->http, EVHTTP_BODY_LIMIT);
    evhttp_set_max_headers_size(srv->http, 64 * 1024);
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PATCH);
    /* Long polls hold a request for up to 20 s; idle keep-alive is cut later. */
    evhttp_set_timeout(srv->http, 120);
    evhttp_set_default_content_type(srv->http, "application/json");
    srv->plain.srv = srv;
    srv->plain.name = "plain";
    evhttp_set_gencb(srv->http, on_request, &srv->plain);
    evhttp_set_bevcb(srv->http, plain_bufferevent, &srv->plain);
    srv->socket = evhttp_bind_socket_with_handle(srv->http, cfg->host, (ev_uint16_t)cfg->port);
    if (!srv->socket) {
        log_error("http", "cannot listen host=%s port=%d", cfg->host, cfg->port);
        evhttp_free(srv->http);
        event_free(srv->adopt);
        map_u64_free(&srv->conns);
        free(srv);
        return NULL;
    }
    listener_start(srv, &srv->plain, srv->socket);
    return srv;
}

void http_server_add_raw(http_server *srv, const char *path, http_raw_fn fn, void *ctx)
{
    if (srv->nraw < MAX_RAW_ROUTES) {
        srv->raw[srv->nraw].path = xstrdup(path);
        srv->raw[srv->nraw].fn = fn;
        srv->raw[srv->nraw].ctx = ctx;
        srv->nraw++;
    }
}

void http_server_add_service(http_server *srv, api_service *svc)
{
    if (srv->nservices < MAX_SERVICES)
        srv->services[srv->nservices++] = svc;
}

/* evhttp asks for each accepted TLS connection's bufferevent here. */
static struct bufferevent *tls_bufferevent(struct event_base *base, void *arg)
{
    listener *l = arg;
    SSL *ssl = SSL_new(l->srv->tls_ctx);

    return ssl ? conn_accepted(l, bufferevent_openssl_socket_new(base, -1, ssl,
                                                                 BUFFEREVENT_SSL_ACCEPTING,
                                                                 BEV_OPT_CLOSE_ON_FREE))
               : NULL;
}

int http_server_listen_tls(http_server *srv, const char *host, int port, const char *cert,
                           const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_error("http", "cannot load the TLS certificate or key cert=%s key=%s", cert, key);
        SSL_CTX_free(ctx);
        return -1;
    }
    srv->tls_ctx = ctx;
    srv->https = evhttp_new(srv->base);
    evhttp_set_max_body_size(srv->https, EVHTTP_BODY_LIMIT);
    evhttp_set_max_headers_size(srv->https, 64 * 1024);
    evhttp_set_allowed_methods(srv->https, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                               EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                               EVHTTP_REQ_PATCH);
    evhttp_set_timeout(srv->https, 120);
    srv->secure.srv = srv;
    srv->secure.tls = true;
    srv->secure.name = "tls";
    evhttp_set_bevcb(srv->https, tls_bufferevent, &srv->secure);
    evhttp_set_gencb(srv->https, on_request, &srv->secure);
    srv->tls_socket = evhttp_bind_socket_with_handle(srv->https, host, (ev_uint16_t)port);
    if (!srv->tls_socket) {
        log_error("http", "cannot listen for TLS host=%s port=%d", host, port);
        return -1;
    }
    listener_start(srv, &srv->secure, srv->tls_socket);
    log_info("http", "TLS listening host=%s port=%d", host, port);
    return 0;
}

void http_server_stop_accepting(http_server *srv)
{
    if (srv->socket) {
        listener_stop(&srv->plain);
        evhttp_del_accept_socket(srv->http, srv->socket);
        srv->socket = NULL;
    }
    if (srv->tls_socket) {
        listener_stop(&srv->secure);
        evhttp_del_accept_socket(srv->https, srv->tls_socket);
        srv->tls_socket = NULL;
    }
}

size_t http_server_outstanding(const http_server *srv)
{
    return srv->outstanding;
}

size_t http_server_connections(const http_server *srv)
{
    return srv->plain.open + srv->secure.open;
}

void http_server_free(http_server *srv)
{
    if (!srv)
        return;
    http_server_stop_accepting(srv);
    /* Freeing evhttp closes every connection (on_conn_closed runs). */
    adopt_new_conns(-1, 0, srv);
    evhttp_free(srv->http);
    if (srv->https)
        evhttp_free(srv->https);
    event_free(srv->adopt);
    map_u64_free(&srv->conns);
    SSL_CTX_free(srv->tls_ctx);
    for (size_t i = 0; i < srv->nraw; i++)
        free(srv->raw[i].path);
    free(srv);
}
