/*
 * fuzz_http.c - the HTTP request handling as sluice uses it: raw client
 * bytes arriving over a real TCP connection at the real HTTP front
 * (server/http.c): libevent's evhttp parsing (request line, headers,
 * Content-Length and chunked bodies, pipelining), on_request's routing by
 * X-Amz-Target, Action, SigV4 credential scope and the Scheduler's REST
 * paths, decoding of JSON, Query form and REST-JSON input, SigV4
 * authentication against a credentials store, the typed parameter reads a
 * handler makes, and the rendering of results and errors.
 *
 * The services are the real descriptions (sqs/sns/events/scheduler
 * *_api_service(NULL): names, targets, namespaces, Query rules, action
 * names), but every action runs an echo handler instead of the real one
 * (the real ones need their service state): it reads a few parameters with
 * the param_* accessors, copies the decoded input to the output, and parks
 * SQS's ReceiveMessage like a long poll (answered from a timer, or
 * cancelled when the client goes away).
 *
 * Input: byte 0 is a set of flags, the rest is what the client sends.
 *   bit 0     the server that verifies signatures (a credentials store
 *             with two keys), else the one that accepts any
 *   bit 1     every "20000101" in the bytes becomes today's date and every
 *             "T000000Z" the time now (UTC, same lengths), so a signed
 *             request's date passes the clock check and verification goes
 *             on to the canonical request and the signature
 *   bits 2-7  k: 0 sends the bytes in one write; else in two, cut at
 *             k/64 of their length, with the loop run in between
 * The client runs the loop until no more answers come, then shuts down its
 * write side and reads until the server closes the connection.
 *
 * Properties checked:
 *  - no sanitizer report, leak or crash;
 *  - every response starts "HTTP/1.<digits> NNN", a three-digit status
 *    (only evhttp's own error pages may carry a mangled version, see
 *    check_response); its header block ends; its body is as long as its
 *    Content-Length; only an HTTP/1.0 or "Connection: close" response has
 *    a body without a Content-Length (it ends with the connection), and
 *    one without either (to HEAD) is followed by the next response or by
 *    nothing;
 *  - a JSON-typed body parses with jansson's strict parser; a text/xml
 *    error body (status 400 and up) is well-formed XML;
 *  - the server closes the connection within a second of the client's
 *    shutdown, after which http_server_outstanding and
 *    http_server_connections are both zero.
 *
 * FUZZ_HTTP_SHOW=1 in the environment prints every response (to see what
 * an input does: build/fuzz/bin/fuzz_http FILE).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "events/events.h"
#include "fuzz_util.h"
#include "scheduler/scheduler.h"
#include "server/credentials.h"
#include "server/http.h"
#include "sns/sns.h"
#include "sqs/sqs.h"
#include "wire/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define BOUND_MS 1000             /* the server must close within this */
#define MAX_RESPONSE (4u << 20)   /* response bytes kept for checking */
#define MAX_BODY 1024             /* the servers' max_body_bytes */

/* Two keys: one that may do anything in its account, one whose allow
 * list permits a single action. */
static const char CREDENTIALS[] =
    "[{\"accessKeyId\": \"AKIDFUZZEXAMPLE\", \"secretAccessKey\": \"fuzz/secret+key=0001\","
    "  \"accountId\": \"111122223333\"},"
    " {\"accessKeyId\": \"AKIDFUZZLIMITED\", \"secretAccessKey\": \"fuzz/secret+key=0002\","
    "  \"accountId\": \"444455556666\","
    "  \"allow\": [{\"actions\": [\"sqs:SendMessage\"], \"resources\": [\"*\"]}]}]";

/* Everything below is made once in LLVMFuzzerInitialize and kept for the
 * life of the process; owner: this file (libFuzzer's single thread). */
static struct event_base *base;
static limits lim;
static cred_store *creds;
static http_server *servers[2];   /* [0] accepts any signature, [1] verifies */
static int ports[2];
static api_service *services[4];
static struct event *bound_timer; /* ends a stuck input's loop */
static bool show;                 /* FUZZ_HTTP_SHOW is set: print the responses */

/* The current input's client side; owner: LLVMFuzzerTestOneInput. */
typedef struct client {
    int fd;
    buf response;
    size_t dropped;   /* bytes read beyond MAX_RESPONSE */
    bool eof;
    struct event *readable; /* reads the responses as they come */
} client;

/* --- the echo services ------------------------------------------------------------ */

static void park_done(evutil_socket_t fd, short what, void *arg)
{
    api_call *call = arg;

    event_free(call->handler_data);
    call->handler_data = NULL;
    call->cancel = NULL;
    api_out(call);
    api_finish(call);
}

static void park_cancel(api_call *call)
{
    event_free(call->handler_data);
    call->handler_data = NULL;
}

/* Reads a few members the way real handlers do (a wrong type is the
 * call's error), then answers with a copy of the input. */
static api_status echo(api_call *call)
{
    static const char *const strs[] = {"QueueUrl", "TopicArn", "Name", "MessageBody"};
    static const char *const ints[] = {"MaxNumberOfMessages", "MaxResults", "DelaySeconds"};
    const char *s;
    size_t n;
    long long i;
    bool b;
    json_t *j;

    for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
        if (param_str(call, call->input, strs[k], &s, &n) < 0)
            return API_DONE;
    for (size_t k = 0; k < sizeof ints / sizeof *ints; k++)
        if (param_int(call, call->input, ints[k], &i) < 0)
            return API_DONE;
    if (param_bool(call, call->input, "FifoQueue", &b) < 0 ||
        param_str_list(call, call->input, "AttributeNames", &j) < 0 ||
        param_str_map(call, call->input, "Attributes", &j) < 0 ||
        param_list(call, call->input, "Entries", &j) < 0 ||
        param_object(call, call->input, "MessageAttributes", &j) < 0)
        return API_DONE;
    json_decref(call->output);
    call->output = json_deep_copy(call->input);
    if (strcmp(call->action, "ReceiveMessage") == 0) {
        struct timeval tv = {0, 1000};
        call->handler_data = evtimer_new(base, park_done, call);
        call->cancel = park_cancel;
        evtimer_add(call->handler_data, &tv);
        return API_PENDING;
    }
    return API_DONE;
}

/* Replaces the description's actions by echoes of the same names. */
static api_service *echo_service(api_service *svc)
{
    size_t n = 0;

    while (svc->actions[n].name)
        n++;
    api_action *a = xcalloc(n + 1, sizeof *a);
    for (size_t k = 0; k < n; k++)
        a[k] = (api_action){svc->actions[k].name, echo};
    svc->actions = a;
    return svc;
}

static void raw_cert(void *ctx, buf *out, const char **content_type)
{
    buf_puts(out, "-----BEGIN CERTIFICATE-----\nZnV6eg==\n-----END CERTIFICATE-----\n");
    *content_type = "application/x-pem-file";
}

/* --- set-up -------------------------------------------------------------------------- */

static void quiet_libevent(int severity, const char *msg)
{
}

/* Only wakes the loop: LLVMFuzzerTestOneInput looks at the clock. */
static void on_bound(evutil_socket_t fd, short what, void *arg)
{
}

/* The port the kernel gave the listening socket that is not yet in
 * known[0..nknown): http.h does not say which descriptor it is, so the
 * descriptors are searched for a listening 127.0.0.1 socket. */
static int find_new_port(const int *known, size_t nknown)
{
    for (int fd = 3; fd < 4096; fd++) {
        int on = 0;
        socklen_t len = sizeof on;
        struct sockaddr_in a;
        socklen_t alen = sizeof a;

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 || !on)
            continue;
        if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0 || a.sin_family != AF_INET ||
            a.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
            continue;
        int port = ntohs(a.sin_port);
        bool seen = false;
        for (size_t k = 0; k < nknown; k++)
            seen |= known[k] == port;
        if (!seen)
            return port;
    }
    return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];

    signal(SIGPIPE, SIG_IGN);
    show = getenv("FUZZ_HTTP_SHOW") != NULL;
    log_threshold = LOG_ERROR;
    event_set_log_callback(quiet_libevent);
    base = event_base_new();
    bound_timer = evtimer_new(base, on_bound, NULL);
    limits_init(&lim);
    lim.max_connections = 1; /* each connection pauses the listener until it closes */
    lim.request_timeout = 1;
    creds = cred_store_parse(CREDENTIALS, strlen(CREDENTIALS), err, sizeof err);
    if (!base || !bound_timer || !creds) {
        fprintf(stderr, "fuzz_http: set-up failed: %s\n", creds ? "libevent" : err);
        abort();
    }
    services[0] = echo_service(sqs_api_service(NULL));
    services[1] = echo_service(sns_api_service(NULL));
    services[2] = echo_service(events_api_service(NULL));
    services[3] = echo_service(scheduler_api_service(NULL));
    for (int s = 0; s < 2; s++) {
        http_config cfg = {"127.0.0.1", 0, "us-east-1", "000000000000", MAX_BODY,
                           s ? creds : NULL, &lim};
        servers[s] = http_server_start(base, &cfg);
        ports[s] = servers[s] ? find_new_port(ports, (size_t)s) : -1;
        if (ports[s] < 0) {
            fprintf(stderr, "fuzz_http: cannot start a server on 127.0.0.1\n");
            abort();
        }
        for (int k = 0; k < 4; k++)
            http_server_add_service(servers[s], services[k]);
        http_server_add_raw(servers[s], SNS_CERT_PATH, raw_cert, NULL);
    }
    return 0;
}

/* --- the client ---------------------------------------------------------------------- */

static void client_drain(client *c)
{
    char chunk[16384];

    for (;;) {
        ssize_t r = recv(c->fd, chunk, sizeof chunk, 0);
        if (r > 0) {
            size_t keep = c->response.len < MAX_RESPONSE ? MAX_RESPONSE - c->response.len : 0;
            keep = keep < (size_t)r ? keep : (size_t)r;
            buf_append(&c->response, chunk, keep);
            c->dropped += (size_t)r - keep;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            c->eof = true; /* closed, or reset after its last bytes */
            event_del(c->readable);
        }
        if (r == 0 || errno != EINTR)
            return;
    }
}

static void on_client_readable(evutil_socket_t fd, short what, void *arg)
{
    client_drain(arg);
}

/* Runs what is ready without waiting, a few times. */
static void pump(client *c, int times)
{
    for (int k = 0; k < times; k++) {
        event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
        client_drain(c);
    }
}

/* Runs the loop until nothing more comes back for a few rounds, so that
 * pipelined requests are answered before the client's shutdown (evhttp
 * drops a connection's queued requests when it reads the end of input). */
static void pump_quiet(client *c)
{
    for (int k = 0, idle = 0; k < 16 && idle < 3 && !c->eof; k++) {
        size_t before = c->response.len + c->dropped;
        pump(c, 1);
        idle = c->response.len + c->dropped == before ? idle + 1 : 0;
    }
}

static void client_send(client *c, const char *p, size_t n)
{
    while (n && !c->eof) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            pump(c, 1);
        } else {
            return; /* the server closed already */
        }
    }
}

/* A non-blocking socket connected to 127.0.0.1:port.  The kernel completes
 * a loopback connection at once (the listener's backlog holds it until
 * accepted), unless a signal (libFuzzer's timer) interrupts connect(). */
static int client_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
    socklen_t len = sizeof err;
    struct pollfd p = {.fd = fd, .events = POLLOUT};

    FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        FUZZ_CHECK(errno == EINPROGRESS || errno == EINTR, "connect: %s", strerror(errno));
        while (poll(&p, 1, BOUND_MS) < 0 && errno == EINTR)
            ;
        FUZZ_CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 &&
                       (p.revents & POLLOUT),
                   "connect: %s", err ? strerror(err) : "no connection in time");
    }
    return fd;
}

/* Today's date and the time now for the placeholders (see bit 1). */
static void stamp_dates(char *p, size_t n)
{
    char date[16], hms[16];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y%m%d", &tm);
    strftime(hms, sizeof hms, "T%H%M%SZ", &tm);
    for (size_t i = 0; i + 8 <= n; i++) {
        if (memcmp(p + i, "20000101", 8) == 0)
            memcpy(p + i, date, 8);
        else if (memcmp(p + i, "T000000Z", 8) == 0)
            memcpy(p + i, hms, 8);
    }
}

/* --- checking what came back ------------------------------------------------------------ */

static bool header_is(const char *line, size_t n, const char *name, const char **value,
                      size_t *vlen)
{
    size_t k = strlen(name);

    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return false;
    size_t i = k + 1;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    *value = line + i;
    *vlen = n - i;
    return true;
}

static void check_body(int status, const char *type, size_t tlen, const char *body, size_t n)
{
    if (tlen && memmem(type, tlen, "json", 4)) {
        json_error_t e;
        json_t *v = json_loadb(body, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        FUZZ_CHECK(v, "status %d: JSON body does not parse (%s): %.200s", status, e.text,
                   body);
        json_decref(v);
    } else if (status >= 400 && tlen >= 8 && strncasecmp(type, "text/xml", 8) == 0) {
        const char *why = fuzz_xml_check(body, n);
        FUZZ_CHECK(!why, "status %d: XML error body is not well-formed (%s): %.200s", status,
                   why, body);
    }
}

/* Checks one response at r[0..n); returns its length. */
static size_t check_response(const char *r, size_t n, size_t index)
{
    size_t i = 5;

    FUZZ_CHECK(n > 5 && memcmp(r, "HTTP/", 5) == 0, "response %zu starts %.20s", index, r);
    while (i < n && r[i] != ' ' && r[i] != '\n')
        i++;
    /* evhttp keeps the request's version in two chars, and repeats them in
     * the error pages it sends itself before sluice sees the request:
     * "HTTP/1.248" gets "HTTP/1.-8 400", "HTTP/111...1.1" "HTTP/-1.1 400".
     * Any other response must say HTTP/1.<digits>. */
    bool strict = i > 7 && memcmp(r + 5, "1.", 2) == 0;
    for (size_t k = 7; k < i; k++)
        strict &= r[k] >= '0' && r[k] <= '9';
    bool minor_zero = strict && i == 8 && r[7] == '0';
    FUZZ_CHECK(n - i >= 4 && r[i] == ' ' && r[i + 1] >= '1' && r[i + 1] <= '5' &&
                   r[i + 2] >= '0' && r[i + 2] <= '9' && r[i + 3] >= '0' && r[i + 3] <= '9' &&
                   (n - i == 4 || r[i + 4] == ' ' || r[i + 4] == '\r'),
               "response %zu has no three-digit status: %.40s", index, r);
    int status = (r[i + 1] - '0') * 100 + (r[i + 2] - '0') * 10 + (r[i + 3] - '0');
    const char *end = memmem(r, n, "\r\n\r\n", 4);
    FUZZ_CHECK(end, "response %zu: the header block does not end: %.60s", index, r);

    const char *type = "", *v;
    size_t tlen = 0, vlen, cl = 0;
    bool has_cl = false, closes = false;
    for (const char *line = (const char *)memchr(r, '\n', n) + 1; line < end + 2;) {
        const char *nl = memchr(line, '\n', (size_t)(end + 2 - line));
        size_t len = (size_t)(nl - line) - (nl > line && nl[-1] == '\r');
        if (header_is(line, len, "Content-Type", &v, &vlen)) {
            type = v;
            tlen = vlen;
        } else if (header_is(line, len, "Connection", &v, &vlen)) {
            closes = vlen == 5 && strncasecmp(v, "close", 5) == 0;
        } else if (header_is(line, len, "Content-Length", &v, &vlen)) {
            has_cl = true;
            cl = (size_t)strtoull(v, NULL, 10);
        }
        line = nl + 1;
    }
    FUZZ_CHECK(strict || (tlen >= 9 && strncasecmp(type, "text/html", 9) == 0 && closes),
               "response %zu: not HTTP/1.x from sluice: %.40s", index, r);
    size_t head = (size_t)(end + 4 - r), rest = n - head;
    if (!has_cl) {
        /* No body (HEAD, 204, 304), so the next response or nothing
         * follows; or a body that ends with the connection (HTTP/1.0). */
        if (rest == 0 || (rest >= 5 && memcmp(r + head, "HTTP/", 5) == 0))
            return head;
        FUZZ_CHECK(minor_zero || closes, "response %zu: a body without Content-Length on a "
                   "connection kept open (the response to HEAD?): %.60s", index, r + head);
        check_body(status, type, tlen, r + head, rest);
        return n;
    }
    FUZZ_CHECK(rest >= cl, "response %zu: body of %zu bytes, Content-Length %zu", index, rest,
               cl);
    check_body(status, type, tlen, r + head, cl);
    return head + cl;
}

/* --- one input ------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    size_t n = size - 1;
    char *bytes = fuzz_strndup((const char *)data + 1, n);
    http_server *srv = servers[flags & 1];
    size_t cut = (flags >> 2) ? n * (flags >> 2) / 64 : n;
    client c = {.fd = -1};

    if (flags & 2)
        stamp_dates(bytes, n);
    buf_init(&c.response);
    c.fd = client_connect(ports[flags & 1]);
    c.readable = event_new(base, c.fd, EV_READ | EV_PERSIST, on_client_readable, &c);
    event_add(c.readable, NULL);

    client_send(&c, bytes, cut);
    if (cut < n) {
        pump(&c, 3);
        client_send(&c, bytes + cut, n - cut);
    }
    pump_quiet(&c);
    shutdown(c.fd, SHUT_WR);

    struct timeval tv = {BOUND_MS / 1000, (BOUND_MS % 1000) * 1000};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    evtimer_add(bound_timer, &tv);
    while (!(c.eof && http_server_outstanding(srv) == 0 && http_server_connections(srv) == 0)) {
        event_base_loop(base, EVLOOP_ONCE);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= BOUND_MS)
            break;
    }
    evtimer_del(bound_timer);
    FUZZ_CHECK(c.eof, "the server did not close the connection within %d ms", BOUND_MS);
    FUZZ_CHECK(http_server_outstanding(srv) == 0, "%zu calls outstanding",
               http_server_outstanding(srv));
    FUZZ_CHECK(http_server_connections(srv) == 0, "%zu connections still open",
               http_server_connections(srv));
    event_free(c.readable);
    close(c.fd);

    if (show)
        fprintf(stderr, "--- %zu response bytes:\n%.*s\n---\n", c.response.len,
                (int)c.response.len, c.response.data ? c.response.data : "");
    if (!c.dropped) {
        size_t off = 0;
        for (size_t k = 0; off < c.response.len; k++)
            off += check_response(c.response.data + off, c.response.len - off, k);
    }
    buf_free(&c.response);
    free(bytes);
    return 0;
}
