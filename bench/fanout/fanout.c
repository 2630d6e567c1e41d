/*
 * fanout.c - load generator for sluice's SNS fan-out and EventBridge
 * routing.
 *
 * Build (bench/fanout/run.sh does this):
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Ibench/lib \
 *      bench/fanout/fanout.c bench/lib/hist.c bench/lib/httpload.c \
 *      bench/lib/procstat.c $(pkg-config --cflags --libs jansson) \
 *      -lpthread -o build/fanout
 *
 * Scenarios (first argument):
 *   sns     a topic with --subs N subscriptions (SQS queues, or with --http
 *           HTTP endpoints served by a sink inside this program); --conns
 *           connections Publish a --body-size message in a loop (Query
 *           protocol).  Afterwards every queue's ApproximateNumberOfMessages
 *           must equal the acknowledged publishes (HTTP: the sink must have
 *           received publishes x subscriptions notifications).
 *   events  a custom bus with --rules R rules (distinct patterns in four
 *           families: exact, prefix, numeric range, anything-but,
 *           equals-ignore-case, exists), each with one SQS target (rule i
 *           -> queue i % Q); --conns connections PutEvents 10 entries a
 *           call, each entry made to match exactly one rule, going round
 *           all the rules.  Afterwards every queue must hold exactly the
 *           events routed to it.
 *   wait    poll GET /_sluice/health until it answers 200.
 *   freeport  print a free TCP port on 127.0.0.1.
 * Each scenario ends with one "RESULT key=value ..." line for run.sh.
 *
 * Design: the same shape as bench/loadgen.c.  One event loop (the main
 * thread) drives every connection with non-blocking sockets, level-triggered
 * epoll and keep-alive HTTP/1.1, one call in flight per connection.  It runs
 * in phases: "jobs" phases send a list of prebuilt setup or check requests
 * through the connections (10,000 PutRule calls take a few seconds this way
 * rather than one commit after another), and a "load" phase repeats the
 * publish or PutEvents request until the window ends, then lets the calls
 * in flight finish so that the count of acknowledged calls is exact before
 * the queues are checked.  Latencies go into log-bucketed histograms (32
 * sub-buckets per power of two, about 3 % precision); only calls that end
 * inside the window count towards rates and latencies.  The HTTP sink is a
 * second thread with its own epoll loop; it confirms nothing itself but
 * hands every SubscribeURL it receives to the main thread, which visits it.
 * Every loop is bounded by a deadline or a count, buffers have size caps,
 * and only 127.x.x.x addresses are ever connected to.  The HTTP client
 * machinery, the histograms and the /proc sampling live in bench/lib/,
 * shared with bench/loadgen.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "httpload.h"
#include "procstat.h"

#define FO_MAX_CONNS 1024
#define FO_MAX_SUBS 1000
#define FO_MAX_RULES 100000
#define FO_MAX_QUEUES 1000
#define FO_ENTRIES 10            /* PutEvents entries per call */
#define FO_POOL 1000             /* distinct PutEvents requests */
#define FO_IN_MAX (4u << 20)     /* largest response accepted */
#define FO_SINK_MAX (1u << 20)   /* largest request the sink accepts */
#define FO_RETRY_NS (50 * 1000000ull)
#define FO_CONNECT_NS (5 * 1000000000ull)
#define FO_CALL_NS (15 * 1000000000ull)
#define FO_TAG "fo1 "            /* first bytes of every published message */

/* ---- time ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    return hl_now_ns();
}

static void sleep_ms(unsigned ms)
{
    hl_sleep_ns((uint64_t)ms * 1000000ull);
}

/* ---- figures ------------------------------------------------------------- */

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static double per(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* ---- configuration and shared state -------------------------------------- */

enum scenario { SC_SNS, SC_EVENTS, SC_WAIT, SC_FREEPORT };

struct cfg {
    enum scenario scenario;
    char host[64];
    int port;
    int conns;
    double duration;
    double warmup;
    int body_size;
    int subs;
    bool http;
    bool raw;        /* sns: RawMessageDelivery on the SQS subscriptions */
    int rules;
    int queues;      /* events: target queues (0: rules, at most 100) */
    long backlog;    /* sns --http: notifications not yet at the sink */
    int server_pid;
    char tag[24];    /* names of the scenario's resources start with it */
    char families[8];/* events: the pattern families rules cycle through */
};

/* Written by main before any thread starts; read-only afterwards. */
static struct cfg g_cfg;

/* The measurement window (monotonic ns), written by the main thread before
 * a load phase and read by the sink thread, hence atomic. */
static _Atomic uint64_t g_win_start = UINT64_MAX;
static _Atomic uint64_t g_win_end = UINT64_MAX;

static bool in_window(uint64_t t)
{
    return t >= atomic_load(&g_win_start) && t < atomic_load(&g_win_end);
}

/* ---- HTTP ---------------------------------------------------------------- */

enum proto { P_SQS, P_SNS, P_EVENTS };

/* A POST / request for protocol p (op names the operation for the JSON
 * protocols; a Query body carries its own Action).  Returns a new buffer
 * the caller frees and its length in *len, or NULL. */
static char *req_build(enum proto p, const char *op, const char *body,
                       size_t blen, size_t *len)
{
    static const char *const scope[] = {"sqs", "sns", "events"};
    size_t cap = blen + 1024;
    char *dst = malloc(cap), target[128] = "";
    const char *ctype = "application/x-www-form-urlencoded; charset=utf-8";
    int n;

    if (!dst)
        return NULL;
    if (p == P_SQS) {
        ctype = "application/x-amz-json-1.0";
        snprintf(target, sizeof target, "X-Amz-Target: AmazonSQS.%s\r\n", op);
    } else if (p == P_EVENTS) {
        ctype = "application/x-amz-json-1.1";
        snprintf(target, sizeof target, "X-Amz-Target: AWSEvents.%s\r\n", op);
    }
    n = snprintf(dst, cap,
                 "POST / HTTP/1.1\r\n"
                 "Host: %s:%d\r\n"
                 "Content-Type: %s\r\n"
                 "%s"
                 "X-Amz-Date: 20260101T000000Z\r\n"
                 "Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/"
                 "us-east-1/%s/aws4_request, SignedHeaders=host;x-amz-date, "
                 "Signature=00\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 g_cfg.host, g_cfg.port, ctype, target, scope[p], blen);
    if (n < 0 || (size_t)n + blen > cap) {
        free(dst);
        return NULL;
    }
    memcpy(dst + n, body, blen);
    *len = (size_t)n + blen;
    return dst;
}

/* Appends s to a form value with percent-encoding of everything but
 * unreserved characters.  Returns the new length, or cap when it does not
 * fit. */
static size_t form_put(char *dst, size_t len, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (len + 4 > cap)
            return cap;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            dst[len++] = (char)c;
        } else {
            dst[len++] = '%';
            dst[len++] = hex[c >> 4];
            dst[len++] = hex[c & 15];
        }
    }
    dst[len] = '\0';
    return len;
}

/* Blocking one-shot request to the server.  Returns the HTTP status or -1;
 * *out gets the body as a new NUL-terminated string the caller frees. */
static int http_once(const char *req, size_t req_len, char **out)
{
    return hl_once(g_cfg.host, g_cfg.port, req, req_len, 10, 1u << 20, out);
}

/* One blocking call: protocol p, operation op, body.  Returns the status
 * (-1 on failure); *out as for http_once. */
static int call_once(enum proto p, const char *op, const char *body,
                     char **out)
{
    size_t len;
    char *req = req_build(p, op, body, strlen(body), &len);
    int status;

    *out = NULL;
    if (!req)
        return -1;
    status = http_once(req, len, out);
    free(req);
    return status;
}

/* The text between <tag> and </tag> in xml, copied into out (n bytes).
 * Returns false when absent or too long. */
static bool xml_text(const char *xml, const char *tag, char *out, size_t n)
{
    char open[64], close_[64];
    const char *a, *b;

    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close_, sizeof close_, "</%s>", tag);
    a = xml ? strstr(xml, open) : NULL;
    if (!a)
        return false;
    a += strlen(open);
    b = strstr(a, close_);
    if (!b || (size_t)(b - a) >= n)
        return false;
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
    return true;
}

/* ---- /proc sampling ------------------------------------------------------ */

/* CPU figures over a window. */
struct cpu_mark {
    uint64_t t;
    long long server, loop, machine; /* loop: the server's main thread */
    double self;
};

static void cpu_mark(struct cpu_mark *m)
{
    m->t = now_ns();
    m->server = procstat_cpu_ticks(g_cfg.server_pid, 0);
    m->loop = procstat_cpu_ticks(g_cfg.server_pid, g_cfg.server_pid);
    if (procstat_machine_ticks(&m->machine, NULL) < 0)
        m->machine = -1;
    m->self = procstat_self_cpu_s();
}

struct cpu_use {
    double secs;
    double server_s;     /* server CPU seconds, -1 unknown */
    double server_pct, self_pct, machine_pct;
    double loop_pct;     /* the server's event-loop thread, -1 unknown */
};

static struct cpu_use cpu_between(const struct cpu_mark *a,
                                  const struct cpu_mark *b)
{
    struct cpu_use u = {0};
    double hz = (double)sysconf(_SC_CLK_TCK);

    u.secs = (double)(b->t - a->t) / 1e9;
    u.server_s = a->server >= 0 && b->server >= 0
                     ? (double)(b->server - a->server) / hz : -1;
    u.server_pct = u.server_s >= 0 ? per(u.server_s, u.secs) * 100 : -1;
    u.loop_pct = a->loop >= 0 && b->loop >= 0
                     ? per((double)(b->loop - a->loop) / hz, u.secs) * 100
                     : -1;
    u.self_pct = per(b->self - a->self, u.secs) * 100;
    u.machine_pct = a->machine >= 0 && b->machine >= 0
                        ? per((double)(b->machine - a->machine) / hz,
                              u.secs) * 100 : -1;
    return u;
}

/* ---- the HTTP sink (its own thread) -------------------------------------- */

/* Shared between the sink thread and the main thread; atomics, plus the
 * SubscribeURL list under g_sink_mu. */
static atomic_bool g_sink_stop;
static atomic_ullong g_sink_total;     /* notifications received, all time */
static atomic_ullong g_sink_window;    /* of which inside the window */
static atomic_ullong g_sink_bad;       /* malformed or unexpected requests */
static atomic_ullong g_sink_expect;    /* requests that sent Expect: */
static atomic_ullong g_sink_conns;     /* connections accepted */
static _Atomic uint64_t g_sink_last_ns; /* when the last notification came */
static pthread_mutex_t g_sink_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_sink_urls[FO_MAX_SUBS]; /* SubscribeURLs received */
static int g_sink_nurls;

struct sink_conn {
    int fd;
    bool continued;  /* 100 Continue sent for the request being read */
    char *buf;
    size_t len, cap;
};

struct sink {
    int lfd, ep, port;
    pthread_t th;
};

static void sink_close(int ep, struct sink_conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->buf);
    free(c);
}

static bool sink_reply(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;

    for (int i = 0; i < 100 && off < n; i++) {
        ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && (errno == EAGAIN || errno == EINTR))
            sleep_ms(1);
        else
            return false;
    }
    return off == n;
}

/* One complete request: headers h (hlen bytes, end included) and body. */
static void sink_request(const char *h, size_t hlen, const char *body,
                         size_t blen)
{
    const char *type = NULL, *line = memmem(h, hlen, "\r\n", 2);
    size_t tlen = 0;

    for (int g = 0; line && g < 200; g++) {
        const char *eol;
        line += 2;
        eol = memmem(line, hlen - (size_t)(line - h), "\r\n", 2);
        if (!eol || eol == line)
            break;
        if (hl_header_is(line, (size_t)(eol - line),
                         "x-amz-sns-message-type")) {
            type = line + 23;
            while (type < eol && *type == ' ')
                type++;
            tlen = (size_t)(eol - type);
        }
        line = eol;
    }
    if (type && tlen == 12 && memcmp(type, "Notification", 12) == 0) {
        uint64_t t = now_ns();
        if (!memmem(body, blen, FO_TAG, strlen(FO_TAG)))
            atomic_fetch_add(&g_sink_bad, 1);
        atomic_fetch_add(&g_sink_total, 1);
        if (in_window(t))
            atomic_fetch_add(&g_sink_window, 1);
        atomic_store(&g_sink_last_ns, t);
    } else if (type && tlen == 24 &&
               memcmp(type, "SubscriptionConfirmation", 24) == 0) {
        json_t *doc = json_loadb(body, blen, 0, NULL);
        const char *url = json_string_value(json_object_get(doc,
                                                            "SubscribeURL"));
        pthread_mutex_lock(&g_sink_mu);
        if (url && g_sink_nurls < FO_MAX_SUBS)
            g_sink_urls[g_sink_nurls++] = strdup(url);
        else
            atomic_fetch_add(&g_sink_bad, 1);
        pthread_mutex_unlock(&g_sink_mu);
        json_decref(doc);
    } else {
        atomic_fetch_add(&g_sink_bad, 1);
    }
}

/* Reads what c has and answers every complete request in it.  Returns
 * false when the connection is to be closed. */
static bool sink_readable(struct sink_conn *c)
{
    for (int round = 0; round < 64; round++) {
        ssize_t n;
        if (c->cap - c->len < 8192) {
            size_t ncap = c->cap ? c->cap * 2 : 16384;
            char *p = ncap <= FO_SINK_MAX ? realloc(c->buf, ncap) : NULL;
            if (!p)
                return false;
            c->buf = p;
            c->cap = ncap;
        }
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0)
            return false;
        c->len += (size_t)n;
        for (int req = 0; req < 1000; req++) {
            char *hend = memmem(c->buf, c->len, "\r\n\r\n", 4), *line;
            size_t hlen, clen = 0;
            bool expect = false;
            if (!hend)
                break;
            hlen = (size_t)(hend - c->buf) + 4;
            line = memmem(c->buf, hlen, "\r\n", 2);
            for (int g = 0; line && g < 200; g++) {
                char *eol;
                line += 2;
                eol = memmem(line, hlen - (size_t)(line - c->buf), "\r\n", 2);
                if (!eol || eol == line)
                    break;
                if (hl_header_is(line, (size_t)(eol - line), "content-length"))
                    clen = strtoul(line + 15, NULL, 10);
                else if (hl_header_is(line, (size_t)(eol - line), "expect"))
                    expect = true;
                line = eol;
            }
            if (clen > FO_SINK_MAX / 2)
                return false;
            if (c->len < hlen + clen) {
                if (expect && !c->continued) {
                    atomic_fetch_add(&g_sink_expect, 1);
                    c->continued = true;
                    if (!sink_reply(c->fd, "HTTP/1.1 100 Continue\r\n\r\n"))
                        return false;
                }
                break;
            }
            sink_request(c->buf, hlen, c->buf + hlen, clen);
            c->continued = false;
            if (!sink_reply(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                   "\r\n"))
                return false;
            memmove(c->buf, c->buf + hlen + clen, c->len - hlen - clen);
            c->len -= hlen + clen;
        }
    }
    return true;
}

static void *sink_main(void *arg)
{
    struct sink *s = arg;
    struct epoll_event evs[64];

    while (!atomic_load(&g_sink_stop)) {
        int n = epoll_wait(s->ep, evs, 64, 50);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                for (int k = 0; k < 64; k++) {
                    int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK);
                    struct sink_conn *c;
                    struct epoll_event ev = {.events = EPOLLIN};
                    if (fd < 0)
                        break;
                    c = calloc(1, sizeof *c);
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    ev.data.ptr = c;
                    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        close(fd);
                        free(c);
                        continue;
                    }
                    atomic_fetch_add(&g_sink_conns, 1);
                }
            } else if (!sink_readable(evs[i].data.ptr)) {
                sink_close(s->ep, evs[i].data.ptr);
            }
        }
    }
    /* connections still open are closed with the process */
    return NULL;
}

/* Starts the sink on a free loopback port.  Returns 0, or -1. */
static int sink_start(struct sink *s)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int one = 1;

    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->lfd < 0)
        return -1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(s->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(s->lfd, 512) < 0 ||
        getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0)
        return -1;
    s->port = ntohs(sa.sin_port);
    s->ep = epoll_create1(0);
    if (s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) < 0)
        return -1;
    return pthread_create(&s->th, NULL, sink_main, s) == 0 ? 0 : -1;
}

static void sink_stop(struct sink *s)
{
    atomic_store(&g_sink_stop, true);
    pthread_join(s->th, NULL);
    close(s->ep);
    close(s->lfd);
}

/* ---- the engine ---------------------------------------------------------- */

/* One prebuilt request of a jobs phase and what came back. */
struct job {
    char *req;
    size_t len;
    int status;      /* 0: not done; -1: failed without an answer */
    char *resp;      /* the body, NUL-terminated (owned) */
};

enum cstate { CS_DOWN, CS_CONNECTING, CS_READY, CS_BUSY, CS_PAUSED };
enum mode { M_JOBS, M_SNS, M_EVENTS };

struct conn {
    struct hl_io io; /* socket, request, response buffer, deadline */
    enum cstate st;
    uint64_t retry_at;
    long job;        /* jobs: the job in flight; events: the pool index */
};

/* Figures of a load phase. */
struct load_stats {
    struct hist lat;
    uint64_t calls_win;     /* successful calls ending inside the window */
    uint64_t calls_ok;      /* successful calls, warm-up and tail included */
    uint64_t http_err, timeouts, conn_err, bad_resp, entries_failed;
    uint64_t unknown;       /* calls whose outcome is unknown (dropped) */
    char first_err[200];
};

/* The engine: owned by the main thread, which alone runs it. */
static struct {
    int ep;
    struct conn *c;
    int n, cap;              /* connections in use, allocated */
    enum mode mode;
    struct job *jobs;
    long njobs, next_job, jobs_done;
    bool stopping;           /* load: the window is over, issue nothing */
    uint64_t deadline;       /* the phase ends at the latest here */
    /* load */
    const char *sns_req;
    size_t sns_len;
    char **pool;             /* events: FO_POOL requests */
    size_t *pool_len;
    int (*pool_q)[FO_ENTRIES]; /* events: the target queue of each entry */
    uint64_t *q_expected;    /* events: messages each queue should hold */
    struct load_stats st;
    bool marked_start, marked_end;
    struct cpu_mark m0, m1;
} E;

static void note_error(const char *what, const char *p, size_t n)
{
    if (E.st.first_err[0])
        return;
    if (n > 120)
        n = 120;
    snprintf(E.st.first_err, sizeof E.st.first_err, "%s: %.*s", what,
             (int)n, p ? p : "");
}

static void conn_close(struct conn *c)
{
    hl_io_close(&c->io, E.ep);
}

/* Drops c after an error; a call in flight ends with an unknown outcome. */
static void conn_fail(struct conn *c, uint64_t now, uint64_t *counter)
{
    if (c->st == CS_BUSY) {
        if (E.mode == M_JOBS && c->job >= 0) {
            E.jobs[c->job].status = -1;
            E.jobs_done++;
            c->job = -1;
        } else if (E.mode != M_JOBS) {
            E.st.unknown++;
        }
    }
    if (counter)
        (*counter)++;
    conn_close(c);
    c->st = CS_DOWN;
    c->retry_at = now + FO_RETRY_NS;
}

static const struct hl_handler fo_io; /* defined after on_response */

static void conn_open(struct conn *c, uint64_t now)
{
    if (hl_io_open(&c->io, E.ep, c, g_cfg.host, g_cfg.port,
                   now + FO_CONNECT_NS) < 0)
        conn_fail(c, now, &E.st.conn_err);
    else
        c->st = CS_CONNECTING;
}

static void conn_issue(struct conn *c, const char *buf, size_t len,
                       uint64_t now)
{
    c->st = CS_BUSY;
    hl_io_send(&c->io, E.ep, c, &fo_io, buf, len, now, now + FO_CALL_NS);
}

/* Notifications published (or in flight) but not yet at the sink. */
static long sns_http_backlog(long in_flight)
{
    long owed = (long)(E.st.calls_ok + (uint64_t)in_flight) * g_cfg.subs;

    return owed - (long)atomic_load(&g_sink_total);
}

static long calls_in_flight(void)
{
    long k = 0;

    for (int i = 0; i < E.n; i++)
        k += E.c[i].st == CS_BUSY;
    return k;
}

static void conn_next(struct conn *c, uint64_t now)
{
    static uint64_t pool_next;

    c->st = CS_READY;
    switch (E.mode) {
    case M_JOBS:
        if (E.next_job < E.njobs) {
            c->job = E.next_job++;
            conn_issue(c, E.jobs[c->job].req, E.jobs[c->job].len, now);
        }
        break;
    case M_SNS:
        if (E.stopping)
            break;
        if (g_cfg.http && g_cfg.backlog > 0 &&
            sns_http_backlog(calls_in_flight() + 1) > g_cfg.backlog) {
            c->st = CS_PAUSED;
            break;
        }
        conn_issue(c, E.sns_req, E.sns_len, now);
        break;
    case M_EVENTS:
        if (E.stopping)
            break;
        c->job = (long)(pool_next++ % FO_POOL);
        conn_issue(c, E.pool[c->job], E.pool_len[c->job], now);
        break;
    }
}

/* The number after "key": in a JSON text, or -1. */
static long json_num_after(const char *p, size_t n, const char *key)
{
    const char *k = memmem(p, n, key, strlen(key));
    const char *end = p + n;

    if (!k)
        return -1;
    k += strlen(key);
    while (k < end && (*k == ' ' || *k == ':' || *k == '"'))
        k++;
    if (k >= end || *k < '0' || *k > '9')
        return -1;
    return strtol(k, NULL, 10);
}

static void on_response(struct conn *c, const struct hl_resp *r,
                        uint64_t now)
{
    bool win = in_window(now), ok = r->status == 200;

    if (E.mode == M_JOBS) {
        struct job *j = &E.jobs[c->job];
        j->status = r->status;
        j->resp = malloc(r->body_len + 1);
        if (j->resp) {
            memcpy(j->resp, r->body, r->body_len);
            j->resp[r->body_len] = '\0';
        }
        E.jobs_done++;
        c->job = -1;
    } else if (!ok) {
        E.st.http_err++;
        note_error("HTTP error", r->body, r->body_len);
    } else if (E.mode == M_SNS) {
        if (!memmem(r->body, r->body_len, "<MessageId>", 11)) {
            E.st.bad_resp++;
            ok = false;
            note_error("Publish reply", r->body, r->body_len);
        }
    } else {
        long failed = json_num_after(r->body, r->body_len,
                                     "\"FailedEntryCount\"");
        if (failed != 0) {
            E.st.entries_failed += failed > 0 ? (uint64_t)failed : 1;
            ok = false;
            note_error("PutEvents reply", r->body, r->body_len);
        } else {
            for (int e = 0; e < FO_ENTRIES; e++)
                E.q_expected[E.pool_q[c->job][e]]++;
        }
    }
    if (E.mode != M_JOBS && ok) {
        E.st.calls_ok++;
        if (win) {
            E.st.calls_win++;
            hist_add(&E.st.lat, now - c->io.t_issue);
        }
    }
    if (r->close) {
        conn_close(c);
        c->st = CS_DOWN;
        c->retry_at = now;
        return;
    }
    conn_next(c, now);
}

/* The callbacks of bench/lib/httpload.c (owner: the connection).  A failed
 * connection is reopened by engine_scan; conn_next marks a connected one
 * ready. */
static void io_connected(void *owner, uint64_t now)
{
    conn_next(owner, now);
}

static void io_answer(void *owner, const struct hl_resp *r, uint64_t now)
{
    on_response(owner, r, now);
}

static void io_failed(void *owner, uint64_t now, enum hl_fail why)
{
    bool bad = why != HL_FAIL_SOCKET && why != HL_FAIL_UNASKED;

    if (why == HL_FAIL_MALFORMED || why == HL_FAIL_EXTRA)
        note_error("malformed HTTP response", NULL, 0);
    conn_fail(owner, now, bad ? &E.st.bad_resp : &E.st.conn_err);
}

static const struct hl_handler fo_io = {
    .ready = io_connected, .response = io_answer, .fail = io_failed,
};

static void conn_event(struct conn *c, uint32_t ev, uint64_t now)
{
    hl_io_event(&c->io, E.ep, c, ev, c->st == CS_CONNECTING,
                c->st == CS_BUSY, FO_IN_MAX, &fo_io, now);
}

/* Deadlines, reconnects, paused publishers, window marks.  Returns whether
 * the phase is over. */
static bool engine_scan(uint64_t now)
{
    bool busy = false;

    if (E.mode != M_JOBS) {
        if (!E.marked_start && now >= atomic_load(&g_win_start)) {
            cpu_mark(&E.m0);
            E.marked_start = true;
        }
        if (!E.marked_end && now >= atomic_load(&g_win_end)) {
            cpu_mark(&E.m1);
            E.marked_end = true;
            E.stopping = true;
        }
    }
    for (int i = 0; i < E.n; i++) {
        struct conn *c = &E.c[i];
        switch (c->st) {
        case CS_DOWN:
            if (E.mode == M_JOBS ? E.next_job < E.njobs : !E.stopping) {
                busy = true;
                if (now >= c->retry_at)
                    conn_open(c, now);
            }
            break;
        case CS_CONNECTING:
        case CS_BUSY:
            busy = true;
            if (now > c->io.deadline)
                conn_fail(c, now, &E.st.timeouts);
            break;
        case CS_PAUSED:
            busy = true;
            conn_next(c, now);
            break;
        case CS_READY:
            if (E.mode != M_JOBS && !E.stopping)
                conn_next(c, now);
            if (c->st != CS_READY)
                busy = true;
            break;
        }
    }
    if (E.mode == M_JOBS)
        return E.jobs_done >= E.njobs || now > E.deadline;
    return (E.stopping && !busy) || now > E.deadline;
}

/* Runs the current phase until it is over. */
static void engine_run(void)
{
    struct epoll_event evs[256];
    uint64_t now = now_ns(), last_scan = 0;

    for (int i = 0; i < E.n; i++) {
        E.c[i].st = CS_DOWN;
        E.c[i].retry_at = 0;
        E.c[i].job = -1;
    }
    for (;;) {
        int n;
        if (now - last_scan >= 1000000ull) {
            if (engine_scan(now))
                break;
            last_scan = now;
        }
        n = epoll_wait(E.ep, evs, 256, 1);
        now = now_ns();
        for (int i = 0; i < n; i++)
            conn_event(evs[i].data.ptr, evs[i].events, now);
    }
    for (int i = 0; i < E.n; i++) {
        if (E.c[i].st == CS_BUSY && E.mode != M_JOBS)
            E.st.unknown++;
        if (E.c[i].st == CS_BUSY && E.mode == M_JOBS && E.c[i].job >= 0)
            E.jobs[E.c[i].job].status = -1;
        conn_close(&E.c[i]);
        E.c[i].st = CS_DOWN;
    }
}

static int engine_init(int n)
{
    E.ep = epoll_create1(0);
    E.n = E.cap = n;
    E.c = calloc((size_t)n, sizeof *E.c);
    if (E.ep < 0 || !E.c)
        return -1;
    for (int i = 0; i < n; i++)
        E.c[i].io.fd = -1;
    return 0;
}

/* Runs jobs (njobs prebuilt requests) over up to conns connections, with a
 * limit of secs.  Returns how many answered 200. */
static long run_jobs(struct job *jobs, long njobs, int conns, double secs)
{
    int saved = E.n;
    long ok = 0;

    if (njobs == 0)
        return 0;
    E.mode = M_JOBS;
    E.jobs = jobs;
    E.njobs = njobs;
    E.next_job = E.jobs_done = 0;
    E.n = conns < E.cap ? conns : E.cap;
    E.deadline = now_ns() + (uint64_t)(secs * 1e9);
    engine_run();
    E.n = saved;
    for (long i = 0; i < njobs; i++)
        ok += jobs[i].status == 200;
    return ok;
}

static void jobs_free(struct job *jobs, long n)
{
    for (long i = 0; jobs && i < n; i++) {
        free(jobs[i].req);
        free(jobs[i].resp);
    }
    free(jobs);
}

/* Makes job i a call of protocol p, operation op, body (a JSON or form
 * text).  Returns 0 or -1. */
static int job_set(struct job *j, enum proto p, const char *op,
                   const char *body)
{
    j->req = req_build(p, op, body, strlen(body), &j->len);
    return j->req ? 0 : -1;
}

/* Runs a load phase: warm-up, window, then the calls in flight finish. */
static void run_load(enum mode mode)
{
    uint64_t t0 = now_ns();

    memset(&E.st, 0, sizeof E.st);
    E.mode = mode;
    E.n = g_cfg.conns;
    E.stopping = false;
    E.marked_start = E.marked_end = false;
    atomic_store(&g_win_start, t0 + (uint64_t)(g_cfg.warmup * 1e9));
    atomic_store(&g_win_end, atomic_load(&g_win_start) +
                                 (uint64_t)(g_cfg.duration * 1e9));
    E.deadline = atomic_load(&g_win_end) + FO_CALL_NS + 1000000000ull;
    engine_run();
    if (!E.marked_end)
        cpu_mark(&E.m1);
}

/* ---- queues -------------------------------------------------------------- */

struct queues {
    int n;
    char (*name)[96];
    char (*url)[512];
    char (*arn)[256];
};

/* Creates n queues named <prefix>-<i> and learns their URLs and ARNs. */
static int queues_create(struct queues *q, int n, const char *prefix)
{
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    char body[1024];
    int rc = -1;

    q->n = n;
    q->name = calloc((size_t)n, sizeof *q->name);
    q->url = calloc((size_t)n, sizeof *q->url);
    q->arn = calloc((size_t)n, sizeof *q->arn);
    if (!jobs || !q->name || !q->url || !q->arn)
        goto out;
    for (int i = 0; i < n; i++) {
        snprintf(q->name[i], sizeof q->name[i], "%s-%d", prefix, i);
        snprintf(body, sizeof body, "{\"QueueName\":\"%s\"}", q->name[i]);
        if (job_set(&jobs[i], P_SQS, "CreateQueue", body) < 0)
            goto out;
    }
    if (run_jobs(jobs, n, 16, 60) != n) {
        fprintf(stderr, "fanout: CreateQueue failed\n");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        json_t *doc = json_loads(jobs[i].resp, 0, NULL);
        const char *u = json_string_value(json_object_get(doc, "QueueUrl"));
        if (!u || strlen(u) >= sizeof q->url[i]) {
            json_decref(doc);
            goto out;
        }
        snprintf(q->url[i], sizeof q->url[i], "%s", u);
        json_decref(doc);
        free(jobs[i].req);
        free(jobs[i].resp);
        jobs[i].resp = NULL;
        jobs[i].status = 0;
        snprintf(body, sizeof body, "{\"QueueUrl\":\"%s\",\"AttributeNames\":"
                                    "[\"QueueArn\"]}", q->url[i]);
        if (job_set(&jobs[i], P_SQS, "GetQueueAttributes", body) < 0)
            goto out;
    }
    if (run_jobs(jobs, n, 16, 60) != n) {
        fprintf(stderr, "fanout: GetQueueAttributes failed\n");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        json_t *doc = json_loads(jobs[i].resp, 0, NULL);
        const char *a = json_string_value(json_object_get(
            json_object_get(doc, "Attributes"), "QueueArn"));
        if (!a || strlen(a) >= sizeof q->arn[i]) {
            json_decref(doc);
            goto out;
        }
        snprintf(q->arn[i], sizeof q->arn[i], "%s", a);
        json_decref(doc);
    }
    rc = 0;
out:
    jobs_free(jobs, n);
    return rc;
}

/* Reads ApproximateNumberOfMessages (+ NotVisible) of every queue into
 * counts.  Returns 0, or -1 when a queue did not answer. */
static int queues_count(const struct queues *q, uint64_t *counts)
{
    struct job *jobs = calloc((size_t)q->n, sizeof *jobs);
    char body[1024];
    int rc = -1;

    if (!jobs)
        return -1;
    for (int i = 0; i < q->n; i++) {
        snprintf(body, sizeof body,
                 "{\"QueueUrl\":\"%s\",\"AttributeNames\":["
                 "\"ApproximateNumberOfMessages\","
                 "\"ApproximateNumberOfMessagesNotVisible\"]}", q->url[i]);
        if (job_set(&jobs[i], P_SQS, "GetQueueAttributes", body) < 0)
            goto out;
    }
    if (run_jobs(jobs, q->n, 16, 60) != q->n)
        goto out;
    for (int i = 0; i < q->n; i++) {
        json_t *doc = json_loads(jobs[i].resp, 0, NULL);
        json_t *a = json_object_get(doc, "Attributes");
        const char *v = json_string_value(
            json_object_get(a, "ApproximateNumberOfMessages"));
        const char *nv = json_string_value(
            json_object_get(a, "ApproximateNumberOfMessagesNotVisible"));
        counts[i] = (v ? strtoull(v, NULL, 10) : 0) +
                    (nv ? strtoull(nv, NULL, 10) : 0);
        json_decref(doc);
        if (!v)
            goto out;
    }
    rc = 0;
out:
    jobs_free(jobs, q->n);
    return rc;
}

/* Receives one message from queue i (it stays, invisible) and returns its
 * body (caller frees), or NULL. */
static char *queue_peek(const struct queues *q, int i)
{
    char body[1024], *resp = NULL, *out = NULL;
    json_t *doc;
    const char *b;

    snprintf(body, sizeof body, "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\""
                                ":1,\"WaitTimeSeconds\":1}", q->url[i]);
    if (call_once(P_SQS, "ReceiveMessage", body, &resp) != 200) {
        free(resp);
        return NULL;
    }
    doc = json_loads(resp, 0, NULL);
    b = json_string_value(json_object_get(
        json_array_get(json_object_get(doc, "Messages"), 0), "Body"));
    if (b)
        out = strdup(b);
    json_decref(doc);
    free(resp);
    return out;
}

static void queues_delete(struct queues *q)
{
    struct job *jobs = calloc((size_t)q->n, sizeof *jobs);
    char body[1024];

    for (int i = 0; jobs && i < q->n; i++) {
        snprintf(body, sizeof body, "{\"QueueUrl\":\"%s\"}", q->url[i]);
        job_set(&jobs[i], P_SQS, "DeleteQueue", body);
    }
    if (jobs && q->n && q->url[0][0])
        run_jobs(jobs, q->n, 16, 60);
    jobs_free(jobs, q->n);
    free(q->name);
    free(q->url);
    free(q->arn);
    memset(q, 0, sizeof *q);
}

/* ---- reporting ----------------------------------------------------------- */

static uint64_t load_errors(void)
{
    return E.st.http_err + E.st.timeouts + E.st.conn_err + E.st.bad_resp +
           E.st.entries_failed;
}

static void print_errors(void)
{
    printf("  errors: http=%llu timeouts=%llu conn=%llu bad_reply=%llu "
           "entries_failed=%llu unknown_outcome=%llu\n",
           (unsigned long long)E.st.http_err,
           (unsigned long long)E.st.timeouts,
           (unsigned long long)E.st.conn_err,
           (unsigned long long)E.st.bad_resp,
           (unsigned long long)E.st.entries_failed,
           (unsigned long long)E.st.unknown);
    if (E.st.first_err[0])
        printf("  first error: %s\n", E.st.first_err);
}

static void print_lat(const char *name)
{
    const struct hist *h = &E.st.lat;

    printf("  %-26s n=%-9llu p50=%.3f p90=%.3f p99=%.3f p99.9=%.3f max=%.3f "
           "mean=%.3f ms\n", name, (unsigned long long)h->n,
           ms(hist_quantile(h, 0.5)), ms(hist_quantile(h, 0.9)),
           ms(hist_quantile(h, 0.99)), ms(hist_quantile(h, 0.999)),
           ms(h->max), h->n ? ms(h->sum / h->n) : 0.0);
}

/* ---- sns ----------------------------------------------------------------- */

/* A Query call to SNS with the form body; returns the status, *out the
 * answer (caller frees). */
static int sns_call(const char *form, char **out)
{
    return call_once(P_SNS, "", form, out);
}

/* Visits every SubscribeURL the sink received (waiting up to 15 s for n of
 * them).  Returns how many confirmed. */
static int sns_confirm_all(int n)
{
    int have = 0, confirmed = 0;

    for (int i = 0; i < 1500; i++) {
        pthread_mutex_lock(&g_sink_mu);
        have = g_sink_nurls;
        pthread_mutex_unlock(&g_sink_mu);
        if (have >= n)
            break;
        sleep_ms(10);
    }
    pthread_mutex_lock(&g_sink_mu);
    have = g_sink_nurls;
    pthread_mutex_unlock(&g_sink_mu);
    for (int i = 0; i < have; i++) {
        char *url = g_sink_urls[i], *p, req[4096], *resp = NULL;
        /* http://HOST:PORT/PATH?QUERY, HOST must be this server on loopback */
        if (strncmp(url, "http://127.", 11) != 0) {
            fprintf(stderr, "fanout: SubscribeURL not on loopback: %.80s\n",
                    url);
            continue;
        }
        p = strchr(url + 7, '/');
        if (!p || atoi(strchr(url + 7, ':') ? strchr(url + 7, ':') + 1
                                             : "0") != g_cfg.port)
            continue;
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", p,
                 g_cfg.host, g_cfg.port);
        if (http_once(req, strlen(req), &resp) == 200 && resp &&
            strstr(resp, "SubscriptionArn"))
            confirmed++;
        free(resp);
    }
    return confirmed;
}

static int run_sns(void)
{
    struct queues q = {0};
    struct sink sink;
    bool sink_on = false, verified = false;
    char form[8192], topic[512] = "", *resp = NULL, *msg = NULL;
    char name[96], *pub_body = NULL;
    uint64_t *counts = NULL, expected_total = 0, got_total = 0;
    int subs = g_cfg.subs, rc = 1, confirmed = 0;
    size_t mlen = (size_t)g_cfg.body_size, blen;
    struct cpu_use u;
    double drain_s = 0;

    snprintf(name, sizeof name, "%s-%d%s", g_cfg.tag, subs,
             g_cfg.http ? "-http" : g_cfg.raw ? "-raw" : "");
    snprintf(form, sizeof form, "Action=CreateTopic&Version=2010-03-31&"
                                "Name=%s", name);
    if (sns_call(form, &resp) != 200 ||
        !xml_text(resp, "TopicArn", topic, sizeof topic)) {
        fprintf(stderr, "fanout: CreateTopic failed: %.200s\n",
                resp ? resp : "");
        goto out;
    }
    free(resp);
    resp = NULL;

    /* subscriptions */
    if (g_cfg.http) {
        struct job *jobs = calloc((size_t)subs, sizeof *jobs);
        if (!jobs || sink_start(&sink) < 0) {
            free(jobs);
            fprintf(stderr, "fanout: cannot start the HTTP sink\n");
            goto out;
        }
        sink_on = true;
        for (int i = 0; i < subs; i++) {
            char ep[128];
            snprintf(ep, sizeof ep, "http://127.0.0.1:%d/sub/%d", sink.port,
                     i);
            blen = (size_t)snprintf(form, sizeof form,
                                    "Action=Subscribe&Version=2010-03-31&"
                                    "Protocol=http&TopicArn=");
            blen = form_put(form, blen, sizeof form, topic);
            snprintf(form + blen, sizeof form - blen, "&Endpoint=");
            form_put(form, strlen(form), sizeof form, ep);
            job_set(&jobs[i], P_SNS, "", form);
        }
        if (run_jobs(jobs, subs, 16, 60) != subs) {
            fprintf(stderr, "fanout: Subscribe failed: %.200s\n",
                    jobs[0].resp ? jobs[0].resp : "");
            jobs_free(jobs, subs);
            goto out;
        }
        jobs_free(jobs, subs);
        confirmed = sns_confirm_all(subs);
        if (confirmed != subs) {
            fprintf(stderr, "fanout: %d of %d subscriptions confirmed\n",
                    confirmed, subs);
            goto out;
        }
    } else {
        struct job *jobs;
        if (queues_create(&q, subs, name) < 0)
            goto out;
        jobs = calloc((size_t)subs, sizeof *jobs);
        if (!jobs)
            goto out;
        for (int i = 0; i < subs; i++) {
            blen = (size_t)snprintf(form, sizeof form,
                                    "Action=Subscribe&Version=2010-03-31&"
                                    "Protocol=sqs&TopicArn=");
            blen = form_put(form, blen, sizeof form, topic);
            snprintf(form + blen, sizeof form - blen, "&Endpoint=");
            blen = form_put(form, strlen(form), sizeof form, q.arn[i]);
            if (g_cfg.raw)
                snprintf(form + blen, sizeof form - blen,
                         "&Attributes.entry.1.key=RawMessageDelivery"
                         "&Attributes.entry.1.value=true");
            job_set(&jobs[i], P_SNS, "", form);
        }
        if (run_jobs(jobs, subs, 16, 60) != subs) {
            fprintf(stderr, "fanout: Subscribe failed: %.200s\n",
                    jobs[0].resp ? jobs[0].resp : "");
            jobs_free(jobs, subs);
            goto out;
        }
        jobs_free(jobs, subs);
    }

    /* the publish request, the same for every call */
    msg = malloc(mlen + 1);
    pub_body = malloc(mlen + 2048);
    if (!msg || !pub_body)
        goto out;
    memcpy(msg, FO_TAG, strlen(FO_TAG));
    for (size_t i = strlen(FO_TAG); i < mlen; i++)
        msg[i] = (char)('a' + i % 26);
    msg[mlen] = '\0';
    blen = (size_t)snprintf(pub_body, mlen + 2048,
                            "Action=Publish&Version=2010-03-31&TopicArn=");
    blen = form_put(pub_body, blen, mlen + 2048, topic);
    blen += (size_t)snprintf(pub_body + blen, mlen + 2048 - blen,
                             "&Message=");
    blen = form_put(pub_body, blen, mlen + 2048, msg);
    E.sns_req = req_build(P_SNS, "", pub_body, blen, &E.sns_len);
    if (!E.sns_req)
        goto out;

    printf("sns: topic with %d %s subscription(s), %d connections "
           "publishing %d-byte messages%s\n", subs,
           g_cfg.http ? "HTTP" : g_cfg.raw ? "SQS (raw delivery)" : "SQS",
           g_cfg.conns, g_cfg.body_size,
           g_cfg.http ? " (paused while the sink is owed more than the "
                        "backlog cap)" : "");
    run_load(M_SNS);
    u = cpu_between(&E.m0, &E.m1);

    /* verification */
    expected_total = E.st.calls_ok * (uint64_t)subs;
    if (g_cfg.http) {
        uint64_t t0 = now_ns(), last = atomic_load(&g_sink_last_ns);
        for (int i = 0; i < 3000; i++) {   /* at most 30 s */
            if (atomic_load(&g_sink_total) >= expected_total)
                break;
            sleep_ms(10);
        }
        got_total = atomic_load(&g_sink_total);
        last = atomic_load(&g_sink_last_ns);
        drain_s = last > t0 ? (double)(last - t0) / 1e9 : 0;
        verified = got_total == expected_total &&
                   atomic_load(&g_sink_bad) == 0;
    } else {
        char *peek;
        counts = calloc((size_t)subs, sizeof *counts);
        if (counts && queues_count(&q, counts) == 0) {
            verified = true;
            for (int i = 0; i < subs; i++) {
                got_total += counts[i];
                if (counts[i] != E.st.calls_ok)
                    verified = false;
            }
        }
        peek = queue_peek(&q, 0);
        if (!peek || (g_cfg.raw ? strncmp(peek, FO_TAG, strlen(FO_TAG)) != 0
                                : !strstr(peek, "Notification") ||
                                      !strstr(peek, FO_TAG))) {
            printf("  a message from the first queue is not the expected "
                   "envelope: %.120s\n", peek ? peek : "(none)");
            verified = false;
        }
        free(peek);
    }

    {
        double pubs = per((double)E.st.calls_win, u.secs);
        double dels = g_cfg.http
            ? per((double)atomic_load(&g_sink_window), u.secs)
            : pubs * subs;
        double dcount = g_cfg.http ? (double)atomic_load(&g_sink_window)
                                   : (double)E.st.calls_win * subs;
        printf("  %.0f publishes/s, %.0f deliveries/s%s\n", pubs, dels,
               g_cfg.http ? " (notifications received by the sink)" : "");
        print_lat("Publish");
        printf("  window %.2f s, server CPU %.1f %% of a core (%.1f us per "
               "publish, %.2f us per delivery; its event-loop thread %.1f "
               "%%), fanout CPU %.1f %%, machine %.1f %% of a core busy in "
               "all processes\n", u.secs, u.server_pct,
               per(u.server_s * 1e6, (double)E.st.calls_win),
               per(u.server_s * 1e6, dcount), u.loop_pct, u.self_pct,
               u.machine_pct);
        printf("  check: %llu publishes acknowledged (whole run) x %d = "
               "%llu deliveries expected, %llu %s: %s\n",
               (unsigned long long)E.st.calls_ok, subs,
               (unsigned long long)expected_total,
               (unsigned long long)got_total,
               g_cfg.http ? "received by the sink" : "in the queues",
               verified ? "all arrived" : "MISMATCH");
        if (g_cfg.http)
            printf("  sink: %llu connections from the server, %llu requests "
                   "with Expect:, %llu unexpected requests; deliveries went "
                   "on %.2f s after the last publish was answered\n",
                   (unsigned long long)atomic_load(&g_sink_conns),
                   (unsigned long long)atomic_load(&g_sink_expect),
                   (unsigned long long)atomic_load(&g_sink_bad), drain_s);
        print_errors();
        printf("RESULT scenario=sns mode=%s%s subs=%d conns=%d secs=%.2f "
               "publishes_per_s=%.0f deliveries_per_s=%.0f p50_ms=%.3f "
               "p99_ms=%.3f server_cpu_pct=%.1f us_per_publish=%.1f "
               "us_per_delivery=%.2f loop_cpu_pct=%.1f loadgen_cpu_pct=%.1f "
               "machine_cpu_pct=%.1f acked=%llu expected=%llu got=%llu "
               "verified=%d errors=%llu unknown=%llu drain_s=%.2f\n",
               g_cfg.http ? "http" : "sqs", g_cfg.raw ? "-raw" : "", subs,
               g_cfg.conns, u.secs, pubs,
               dels, ms(hist_quantile(&E.st.lat, 0.5)),
               ms(hist_quantile(&E.st.lat, 0.99)), u.server_pct,
               per(u.server_s * 1e6, (double)E.st.calls_win),
               per(u.server_s * 1e6, dcount), u.loop_pct, u.self_pct,
               u.machine_pct, (unsigned long long)E.st.calls_ok,
               (unsigned long long)expected_total,
               (unsigned long long)got_total, verified,
               (unsigned long long)load_errors(),
               (unsigned long long)E.st.unknown, drain_s);
    }
    rc = verified && load_errors() == 0 ? 0 : 1;

    /* cleanup: queues (their messages) and the topic */
    if (!g_cfg.http)
        queues_delete(&q);
    blen = (size_t)snprintf(form, sizeof form,
                            "Action=DeleteTopic&Version=2010-03-31&"
                            "TopicArn=");
    form_put(form, blen, sizeof form, topic);
    sns_call(form, &resp);
out:
    free(resp);
    free(counts);
    free(msg);
    free(pub_body);
    if (sink_on)
        sink_stop(&sink);
    if (q.n)
        queues_delete(&q);
    return rc;
}

/* ---- events -------------------------------------------------------------- */

/* The pattern of rule i: four families (0-3; rule i is of family
 * --families[i % strlen], by default i % 4), each keyed on something
 * only the events made for rule i carry (customer "c<i>" or source prefix
 * "fo.svc<i>."), so an event matches exactly one rule. */
static int rule_family(int i)
{
    size_t nf = strlen(g_cfg.families);

    return g_cfg.families[(size_t)i % nf] - '0';
}

static int rule_pattern(char *buf, size_t n, int i)
{
    switch (rule_family(i)) {
    case 0:
        return snprintf(buf, n, "{\"source\":[\"fo.app\"],\"detail\":"
                                "{\"customer\":[\"c%d\"]}}", i);
    case 1:
        return snprintf(buf, n, "{\"source\":[{\"prefix\":\"fo.svc%d.\"}],"
                                "\"detail-type\":[\"Order Placed\"]}", i);
    case 2:
        return snprintf(buf, n, "{\"detail-type\":[{\"prefix\":\"Order\"}],"
                                "\"detail\":{\"customer\":[\"c%d\"],"
                                "\"amount\":[{\"numeric\":[\">\",0,\"<=\","
                                "%d]}]}}", i, 1000 + i);
    default:
        return snprintf(buf, n, "{\"source\":[{\"prefix\":\"fo.\"}],"
                                "\"detail\":{\"customer\":[{\"equals-ignore-"
                                "case\":\"C%d\"}],\"state\":[{\"anything-but\""
                                ":[\"deleted\",\"archived\"]}],\"note\":"
                                "[{\"exists\":true}]}}", i);
    }
}

/* One PutEvents entry made for rule k, appended to buf at len (escaped as
 * a JSON string inside the request).  Returns the new length. */
static size_t event_entry(char *buf, size_t len, size_t cap, int k,
                          const char *bus, bool first)
{
    char source[64];

    if (rule_family(k) == 1)
        snprintf(source, sizeof source, "fo.svc%d.orders", k);
    else
        snprintf(source, sizeof source, "fo.app");
    len += (size_t)snprintf(
        buf + len, cap - len,
        "%s{\"Source\":\"%s\",\"DetailType\":\"Order Placed\","
        "\"EventBusName\":\"%s\",\"Detail\":\"{\\\"customer\\\":\\\"c%d\\\","
        "\\\"amount\\\":%d,\\\"state\\\":\\\"new\\\",\\\"items\\\":["
        "{\\\"sku\\\":\\\"A-1\\\",\\\"qty\\\":2},{\\\"sku\\\":\\\"B-2\\\","
        "\\\"qty\\\":1}],\\\"note\\\":\\\"" FO_TAG "lorem ipsum dolor sit "
        "amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt"
        " ut labore et dolore magna aliqua\\\"}\"}",
        first ? "" : ",", source, bus, k, 1 + k % 1000);
    return len < cap ? len : cap;
}

static int run_events(void)
{
    struct queues q = {0};
    char bus[96], body[4096], *resp = NULL;
    int R = g_cfg.rules, Q, rc = 1;
    struct job *jobs = NULL;
    uint64_t *counts = NULL, exp_total = 0, got_total = 0;
    bool verified = false;
    struct cpu_use u;
    char *peek;

    Q = g_cfg.queues > 0 ? g_cfg.queues : (R < 100 ? R : 100);
    if (Q > R)
        Q = R;
    snprintf(bus, sizeof bus, "%s-bus-%d", g_cfg.tag, R);
    snprintf(body, sizeof body, "{\"Name\":\"%s\"}", bus);
    if (call_once(P_EVENTS, "CreateEventBus", body, &resp) != 200) {
        fprintf(stderr, "fanout: CreateEventBus failed: %.200s\n",
                resp ? resp : "");
        goto out;
    }
    free(resp);
    resp = NULL;
    snprintf(body, sizeof body, "%s-r%d", g_cfg.tag, R);
    if (queues_create(&q, Q, body) < 0)
        goto out;

    /* rules, then their targets */
    jobs = calloc((size_t)R, sizeof *jobs);
    if (!jobs)
        goto out;
    {
        uint64_t t0 = now_ns();
        for (int i = 0; i < R; i++) {
            char pat[1024];
            json_t *o;
            char *txt;
            rule_pattern(pat, sizeof pat, i);
            o = json_pack("{s:s,s:s,s:s}", "Name", "", "EventBusName", bus,
                          "EventPattern", pat);
            snprintf(body, sizeof body, "rule-%d", i);
            json_object_set_new(o, "Name", json_string(body));
            txt = json_dumps(o, JSON_COMPACT);
            json_decref(o);
            if (!txt || job_set(&jobs[i], P_EVENTS, "PutRule", txt) < 0) {
                free(txt);
                goto out;
            }
            free(txt);
        }
        if (run_jobs(jobs, R, 32, 120) != R) {
            long bad = 0;
            while (bad < R && jobs[bad].status == 200)
                bad++;
            fprintf(stderr, "fanout: PutRule failed: %.300s\n",
                    bad < R && jobs[bad].resp ? jobs[bad].resp : "");
            goto out;
        }
        for (int i = 0; i < R; i++) {
            free(jobs[i].req);
            free(jobs[i].resp);
            jobs[i].resp = NULL;
            jobs[i].status = 0;
            snprintf(body, sizeof body,
                     "{\"Rule\":\"rule-%d\",\"EventBusName\":\"%s\","
                     "\"Targets\":[{\"Id\":\"q\",\"Arn\":\"%s\"}]}", i, bus,
                     q.arn[i % Q]);
            if (job_set(&jobs[i], P_EVENTS, "PutTargets", body) < 0)
                goto out;
        }
        if (run_jobs(jobs, R, 32, 120) != R) {
            fprintf(stderr, "fanout: PutTargets failed\n");
            goto out;
        }
        printf("events: bus with %d rules (%d SQS target queues; rule i -> "
               "queue i %% %d; pattern families %s) set up in %.2f s; %d "
               "connections calling "
               "PutEvents with %d entries, each matching exactly one rule\n",
               R, Q, Q, g_cfg.families, (double)(now_ns() - t0) / 1e9,
               g_cfg.conns,
               FO_ENTRIES);
    }

    /* the request pool: request p holds events for rules p*10 .. p*10+9
     * (mod R), so the pool goes round every rule when R <= 10,000 */
    E.pool = calloc(FO_POOL, sizeof *E.pool);
    E.pool_len = calloc(FO_POOL, sizeof *E.pool_len);
    E.pool_q = calloc(FO_POOL, sizeof *E.pool_q);
    E.q_expected = calloc((size_t)Q, sizeof *E.q_expected);
    if (!E.pool || !E.pool_len || !E.pool_q || !E.q_expected)
        goto out;
    for (int p = 0; p < FO_POOL; p++) {
        size_t cap = 16384, len;
        char *b = malloc(cap);
        if (!b)
            goto out;
        len = (size_t)snprintf(b, cap, "{\"Entries\":[");
        for (int e = 0; e < FO_ENTRIES; e++) {
            int k = (int)(((long)p * FO_ENTRIES + e) % R);
            len = event_entry(b, len, cap, k, bus, e == 0);
            E.pool_q[p][e] = k % Q;
        }
        len += (size_t)snprintf(b + len, cap - len, "]}");
        E.pool[p] = req_build(P_EVENTS, "PutEvents", b, len, &E.pool_len[p]);
        free(b);
        if (!E.pool[p])
            goto out;
    }

    run_load(M_EVENTS);
    u = cpu_between(&E.m0, &E.m1);

    counts = calloc((size_t)Q, sizeof *counts);
    if (counts && queues_count(&q, counts) == 0) {
        verified = true;
        for (int i = 0; i < Q; i++) {
            exp_total += E.q_expected[i];
            got_total += counts[i];
            if (counts[i] != E.q_expected[i])
                verified = false;
        }
    }
    peek = queue_peek(&q, 0);
    if (!peek || !strstr(peek, "\"detail-type\"") || !strstr(peek, FO_TAG)) {
        printf("  a message from the first queue is not the expected event: "
               "%.120s\n", peek ? peek : "(none)");
        verified = false;
    }
    free(peek);

    {
        double evs = per((double)E.st.calls_win * FO_ENTRIES, u.secs);
        double n_ev = (double)E.st.calls_win * FO_ENTRIES;
        printf("  %.0f events/s routed to SQS targets (%.0f PutEvents "
               "calls/s)\n", evs, per((double)E.st.calls_win, u.secs));
        print_lat("PutEvents (10 entries)");
        printf("  window %.2f s, server CPU %.1f %% of a core (%.2f us per "
               "event; its event-loop thread %.1f %%), fanout CPU %.1f %%, "
               "machine %.1f %% of a core busy in all processes\n", u.secs,
               u.server_pct, per(u.server_s * 1e6, n_ev), u.loop_pct,
               u.self_pct, u.machine_pct);
        printf("  check: %llu events acknowledged (whole run), %llu expected "
               "in %d queues, %llu there: %s\n",
               (unsigned long long)E.st.calls_ok * FO_ENTRIES,
               (unsigned long long)exp_total, Q,
               (unsigned long long)got_total,
               verified ? "every queue holds exactly its events"
                        : "MISMATCH");
        print_errors();
        printf("RESULT scenario=events rules=%d queues=%d conns=%d secs=%.2f "
               "events_per_s=%.0f calls_per_s=%.0f p50_ms=%.3f p99_ms=%.3f "
               "server_cpu_pct=%.1f us_per_event=%.2f loop_cpu_pct=%.1f "
               "loadgen_cpu_pct=%.1f "
               "machine_cpu_pct=%.1f expected=%llu got=%llu verified=%d "
               "errors=%llu unknown=%llu\n",
               R, Q, g_cfg.conns, u.secs, evs,
               per((double)E.st.calls_win, u.secs),
               ms(hist_quantile(&E.st.lat, 0.5)),
               ms(hist_quantile(&E.st.lat, 0.99)), u.server_pct,
               per(u.server_s * 1e6, n_ev), u.loop_pct, u.self_pct,
               u.machine_pct, (unsigned long long)exp_total, (unsigned long long)got_total,
               verified, (unsigned long long)load_errors(),
               (unsigned long long)E.st.unknown);
    }
    rc = verified && load_errors() == 0 ? 0 : 1;
out:
    free(resp);
    free(counts);
    jobs_free(jobs, R);
    if (E.pool)
        for (int p = 0; p < FO_POOL; p++)
            free(E.pool[p]);
    free(E.pool);
    free(E.pool_len);
    free(E.pool_q);
    free(E.q_expected);
    E.pool = NULL;
    if (q.n)
        queues_delete(&q);
    return rc;
}

/* ---- small commands ------------------------------------------------------ */

static int wait_healthy(void)
{
    return hl_wait_healthy(g_cfg.host, g_cfg.port, g_cfg.duration) ? 0 : 1;
}

static int free_port(void)
{
    int port = hl_free_port();

    if (port < 0)
        return 1;
    printf("%d\n", port);
    return 0;
}

/* ---- command line -------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
        "usage: fanout sns|events|wait|freeport [options]\n"
        "  --host H          server address, 127.x.x.x only (127.0.0.1)\n"
        "  --port P          server port\n"
        "  --conns N         load connections (32)\n"
        "  --duration S      measured seconds (8; wait: how long to try, 15)\n"
        "  --warmup S        seconds before measuring (1)\n"
        "  --body-size B     sns: message bytes (1024)\n"
        "  --subs N          sns: subscriptions (10, at most 1000)\n"
        "  --http            sns: HTTP subscriptions to a sink in this\n"
        "                    program instead of SQS queues\n"
        "  --raw             sns: SQS subscriptions with RawMessageDelivery\n"
        "                    (no envelope, so no signature)\n"
        "  --backlog N       sns --http: pause publishing while the sink is\n"
        "                    owed more than N notifications (20000)\n"
        "  --rules R         events: rules on the bus (100)\n"
        "  --queues Q        events: target queues (default min(R, 100))\n"
        "  --families F      events: pattern families rules cycle through,\n"
        "                    digits 0-3 (0123; see README.md)\n"
        "  --tag NAME        prefix of the resources' names (fanout)\n"
        "  --server-pid PID  read this process's CPU time from /proc\n");
}

static int parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"conns", 1, 0, 'c'},
        {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'w'},
        {"body-size", 1, 0, 'b'}, {"subs", 1, 0, 's'}, {"http", 0, 0, 'H'},
        {"backlog", 1, 0, 'B'}, {"rules", 1, 0, 'r'}, {"queues", 1, 0, 'q'},
        {"tag", 1, 0, 't'}, {"server-pid", 1, 0, 'S'},
        {"families", 1, 0, 'f'}, {"raw", 0, 0, 'R'}, {0, 0, 0, 0},
    };
    static const char *const names[] = {"sns", "events", "wait", "freeport"};
    int o, found = 0;

    if (argc < 2)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(argv[1], names[i]) == 0) {
            g_cfg.scenario = (enum scenario)i;
            found = 1;
        }
    if (!found)
        return -1;
    snprintf(g_cfg.host, sizeof g_cfg.host, "127.0.0.1");
    snprintf(g_cfg.tag, sizeof g_cfg.tag, "fanout");
    snprintf(g_cfg.families, sizeof g_cfg.families, "0123");
    g_cfg.conns = 32;
    g_cfg.duration = g_cfg.scenario == SC_WAIT ? 15 : 8;
    g_cfg.warmup = 1;
    g_cfg.body_size = 1024;
    g_cfg.subs = 10;
    g_cfg.rules = 100;
    g_cfg.backlog = 20000;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h': snprintf(g_cfg.host, sizeof g_cfg.host, "%s", optarg); break;
        case 'p': g_cfg.port = atoi(optarg); break;
        case 'c': g_cfg.conns = atoi(optarg); break;
        case 'd': g_cfg.duration = atof(optarg); break;
        case 'w': g_cfg.warmup = atof(optarg); break;
        case 'b': g_cfg.body_size = atoi(optarg); break;
        case 's': g_cfg.subs = atoi(optarg); break;
        case 'H': g_cfg.http = true; break;
        case 'R': g_cfg.raw = true; break;
        case 'B': g_cfg.backlog = atol(optarg); break;
        case 'r': g_cfg.rules = atoi(optarg); break;
        case 'q': g_cfg.queues = atoi(optarg); break;
        case 't': snprintf(g_cfg.tag, sizeof g_cfg.tag, "%s", optarg); break;
        case 'S': g_cfg.server_pid = atoi(optarg); break;
        case 'f':
            snprintf(g_cfg.families, sizeof g_cfg.families, "%s", optarg);
            break;
        default: return -1;
        }
    }
    if (strcmp(g_cfg.host, "localhost") == 0)
        snprintf(g_cfg.host, sizeof g_cfg.host, "127.0.0.1");
    if (!hl_is_loopback(g_cfg.host)) {
        fprintf(stderr, "fanout: --host must be a 127.x.x.x address\n");
        return -1;
    }
    if (g_cfg.port <= 0 || g_cfg.port > 65535 || g_cfg.conns < 1 ||
        g_cfg.conns > FO_MAX_CONNS || g_cfg.duration <= 0 ||
        g_cfg.duration > 600 || g_cfg.warmup < 0 || g_cfg.warmup > 60 ||
        g_cfg.body_size < 16 || g_cfg.body_size > 200000 || g_cfg.subs < 1 ||
        g_cfg.subs > FO_MAX_SUBS || g_cfg.rules < 1 ||
        g_cfg.rules > FO_MAX_RULES || g_cfg.queues < 0 ||
        g_cfg.queues > FO_MAX_QUEUES || g_cfg.backlog < 0 ||
        strspn(g_cfg.tag, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
            strlen(g_cfg.tag) || !g_cfg.tag[0] || !g_cfg.families[0] ||
        strspn(g_cfg.families, "0123") != strlen(g_cfg.families)) {
        fprintf(stderr, "fanout: option out of range\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "freeport") == 0)
        return free_port();
    if (parse_args(argc, argv) < 0) {
        usage();
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (g_cfg.scenario == SC_WAIT)
        return wait_healthy();
    if (engine_init(g_cfg.conns < 32 ? 32 : g_cfg.conns) < 0)
        return 1;
    return g_cfg.scenario == SC_SNS ? run_sns() : run_events();
}
