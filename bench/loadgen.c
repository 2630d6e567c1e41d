/*
 * loadgen.c - load generator for sluice's SQS API (AWS JSON 1.0 protocol).
 *
 * Build (bench/run.sh does this):
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Ibench/lib \
 *      bench/loadgen.c bench/lib/hist.c bench/lib/httpload.c \
 *      bench/lib/procstat.c \
 *      $(pkg-config --cflags --libs jansson) -lpthread -o build/loadgen
 *
 * Scenarios (first argument):
 *   send   N connections, each doing SendMessage in a loop (1 KB bodies).
 *   batch  M producers doing SendMessageBatch of 10 and M consumers doing
 *          ReceiveMessage(10, WaitTimeSeconds=1) + DeleteMessageBatch; the
 *          send time is embedded in every body, giving send-to-receive time.
 *   idle   1,000 connections long-polling ReceiveMessage(WaitTimeSeconds=20)
 *          on an empty queue while the server's CPU (utime+stime from
 *          /proc/<pid>/stat) and RSS are sampled.
 *   fifo   batch on a .fifo queue: every entry carries a MessageGroupId
 *          (spread over --groups N) and an explicit MessageDeduplicationId;
 *          each body carries its group and its sequence number within the
 *          group, and the consumers check that every group's numbers arrive
 *          in order (one higher each time).  A group is owned by exactly one
 *          producer, which sends one batch at a time, so the order the
 *          server accepts is the order the numbers were written in.
 *   fair   fair queues: on a standard queue, preload a flood of --flood
 *          messages in group 0, then --groups (9) small groups of
 *          --per-group (100) each; consumers drain and the time until the
 *          small groups are gone is compared with draining the same small
 *          groups from a queue holding nothing else.  Repeated --rounds
 *          times (the flood stays; only the small groups are re-sent),
 *          alternating the two queues, and the medians are reported.
 *   drain  a backlog drained: M producers preload --messages N (SendMessageBatch
 *          of 10, nobody receiving), then M consumers receive + delete
 *          (DeleteMessageBatch) until all N are gone; reports the preload
 *          and the drain rates.  Each phase stops at --duration seconds
 *          ("capped"), and a capped preload drains what it did send.
 *   wait   poll GET /_sluice/health until it answers 200 (or time runs out).
 *   freeport  print a free TCP port on 127.0.0.1.
 * Every scenario ends with one "RESULT key=value ..." line for scripts.
 *
 * Design: plain non-blocking sockets and level-triggered epoll, one event
 * loop per worker thread (default one; the bench host is small and the
 * server needs the other core). Each connection runs one request at a time
 * over keep-alive HTTP/1.1; requests whose bytes never change are built once
 * per connection and only the embedded timestamps are patched in place.
 * Latencies go into log-bucketed histograms (32 linear sub-buckets per power
 * of two, about 3 % precision) kept per worker and merged at the end. Only
 * calls that complete inside the measurement window (after the warm-up)
 * count. ReceiveMessage answers, the big ones, are read by a small one-pass
 * scanner rather than jansson (which cost more CPU than the kernel here);
 * the small setup and DeleteMessageBatch answers use jansson. Every loop is
 * bounded: by the window's end, by per-call deadlines, and by size caps on
 * buffers. Only loopback addresses are accepted. The HTTP client machinery,
 * the histograms and the /proc sampling live in bench/lib/, shared with
 * bench/fanout/fanout.c.
 *
 * fair runs in phases (preload, then drain rounds) on the same engine: a
 * phase ends when its work is done (g_stop, set by whichever thread sees it)
 * or at its deadline, and every phase has one.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "httpload.h"
#include "procstat.h"

#define LG_BATCH 10              /* entries per SendMessageBatch */
#define LG_MAX_CONNS 20000
#define LG_MAX_THREADS 64
#define LG_IN_MAX (16u << 20)    /* largest response accepted */
#define LG_SCRATCH (256u << 10)  /* DeleteMessageBatch body */
#define LG_RETRY_NS (50 * 1000000ull)
#define LG_CONNECT_NS (5 * 1000000000ull)
#define LG_CALL_NS (10 * 1000000000ull)
#define LG_OPENS_PER_SCAN 250
#define LG_TS_DIGITS 20
#define LG_GRP_DIGITS 6          /* group number in bodies and group ids */
#define LG_SEQ_DIGITS 10         /* sequence number within the group */
#define LG_MAX_GROUPS 100000
#define LG_BODY_TAG "lg1 "
/* Body layout: tag, timestamp, ' ', group, ' ', sequence, ' ', padding. */
#define LG_BODY_GRP (sizeof LG_BODY_TAG - 1 + LG_TS_DIGITS + 1)
#define LG_BODY_SEQ (LG_BODY_GRP + LG_GRP_DIGITS + 1)
#define LG_BODY_MIN (LG_BODY_SEQ + LG_SEQ_DIGITS + 1)

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* ---- configuration and shared state -------------------------------------- */

enum lg_scenario {
    SC_SEND, SC_BATCH, SC_IDLE, SC_WAIT, SC_FREEPORT, SC_FIFO, SC_FAIR,
    SC_DRAIN, SC_N
};

enum lg_call {
    CALL_SEND, CALL_SEND_BATCH, CALL_RECEIVE, CALL_DELETE_BATCH, CALL_POLL,
    CALL_N
};

static const char *const lg_call_name[CALL_N] = {
    "SendMessage", "SendMessageBatch", "ReceiveMessage",
    "DeleteMessageBatch", "ReceiveMessage(long poll)",
};

enum lg_role { ROLE_SENDER, ROLE_PRODUCER, ROLE_CONSUMER, ROLE_POLLER };

struct lg_cfg {
    enum lg_scenario scenario;
    char host[64];
    int port;
    char queue[81];
    char queue_url[512];
    int conns;
    int producers;
    int consumers;
    int threads;
    double duration;
    double warmup;
    int body_size;
    long backlog;
    int wait_s;
    int server_pid;
    bool delete_queue;
    int groups;      /* fifo: groups to spread over; fair: small groups */
    long flood;      /* fair: messages in the flooding group */
    int per_group;   /* fair: messages in each small group */
    int rounds;      /* fair: drains of each kind */
    long messages;   /* drain: messages to preload */
};

/* Written by main before the workers start; read-only afterwards. */
static struct lg_cfg g_cfg;
static uint64_t g_run_start;  /* messages stamped earlier are stale */
static uint64_t g_win_start;  /* measurement window, monotonic ns */
static uint64_t g_win_end;

/* Shared between workers; atomics, no other owner. */
static atomic_long g_outstanding; /* batch: sent (or in flight), not deleted */
static atomic_int g_polls_open;   /* idle: long polls written, not answered */
static atomic_bool g_stop;        /* the current phase is over */

/* fifo: the last sequence number received per group (-1: none yet). The
 * array is allocated by main before the workers start and freed after they
 * are joined; the workers only exchange its elements. */
static atomic_llong *g_last_seq;
static char g_nonce[9];           /* per run, in deduplication ids */

/* fair: what the producers of the current phase send.  Message idx of the
 * plan (0 .. g_plan_total-1) goes to group g_plan_gbase + idx % ngroups with
 * sequence idx / ngroups.  Set by main between phases. */
static long g_plan_total;
static int g_plan_ngroups;
static int g_plan_gbase;
static atomic_long g_plan_next;   /* next message of the plan to claim */
static atomic_long g_plan_acked;  /* claimed messages whose call ended */
/* fair: messages of groups other than 0 deleted in this phase, and the
 * number that ends it (0: none); g_done_ns is when it was reached. */
static atomic_long g_small_deleted;
static long g_small_target;
static _Atomic uint64_t g_done_ns;

/* ---- per-worker statistics ----------------------------------------------- */

struct lg_stats {
    struct hist lat[CALL_N];
    struct hist e2e;
    uint64_t calls[CALL_N];
    uint64_t msgs_sent;
    uint64_t msgs_recv;
    uint64_t msgs_deleted;
    uint64_t empty_recv;
    uint64_t stale_recv;
    uint64_t http_err;
    uint64_t timeouts;
    uint64_t conn_err;
    uint64_t bad_resp;
    uint64_t send_failed;
    uint64_t delete_failed;
    uint64_t order_checked;  /* fifo: bodies checked, whole run */
    uint64_t order_bad;      /* fifo: number not above the group's last */
    uint64_t order_gaps;     /* fifo: number skipped ahead */
    uint64_t small_recv;     /* fair: messages of the small groups */
    uint64_t flood_recv;     /* fair: messages of group 0 */
    uint64_t mixed_recv;     /* fair: receives holding small-group messages */
    uint64_t mixed_small;    /* fair: small-group messages in those */
    uint64_t mixed_flood;    /* fair: group 0 messages in those */
    char first_err[200];
    char first_order[160];   /* fifo: the first violation, described */
};

static bool in_window(uint64_t t)
{
    return t >= g_win_start && t < g_win_end;
}

static void note_error(struct lg_stats *st, const char *what, const char *p,
                       size_t n)
{
    if (st->first_err[0])
        return;
    if (n > 120)
        n = 120;
    snprintf(st->first_err, sizeof st->first_err, "%s: %.*s", what, (int)n,
             p ? p : "");
}

/* ---- HTTP ---------------------------------------------------------------- */

/* Writes a POST / request with an AWS JSON 1.0 target into dst. Returns the
 * length, or 0 when dst is too small. */
static size_t http_build(char *dst, size_t cap, const char *op,
                         const char *body, size_t blen)
{
    int n = snprintf(dst, cap,
                     "POST / HTTP/1.1\r\n"
                     "Host: %s:%d\r\n"
                     "Content-Type: application/x-amz-json-1.0\r\n"
                     "X-Amz-Target: AmazonSQS.%s\r\n"
                     "X-Amz-Date: 20260101T000000Z\r\n"
                     "Authorization: AWS4-HMAC-SHA256 Credential=bench/"
                     "20260101/us-east-1/sqs/aws4_request, SignedHeaders="
                     "host;x-amz-date;x-amz-target, Signature=00\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     g_cfg.host, g_cfg.port, op, blen);

    if (n < 0 || (size_t)n + blen > cap)
        return 0;
    memcpy(dst + n, body, blen);
    return (size_t)n + blen;
}

/* One SQS JSON call with a blocking socket; returns the parsed response body
 * (caller owns it; NULL on failure) and the status in *status. */
static json_t *sqs_call(const char *op, json_t *req_body, int *status)
{
    char *body = json_dumps(req_body, JSON_COMPACT);
    size_t cap, len;
    char *req, *resp = NULL;
    json_t *out = NULL;

    *status = -1;
    if (!body)
        return NULL;
    cap = strlen(body) + 1024;
    req = malloc(cap);
    len = req ? http_build(req, cap, op, body, strlen(body)) : 0;
    if (len) {
        *status = hl_once(g_cfg.host, g_cfg.port, req, len, 5, 1u << 16,
                          &resp);
        if (resp)
            out = json_loads(resp, 0, NULL);
    }
    free(resp);
    free(req);
    free(body);
    return out;
}

/* ---- connections --------------------------------------------------------- */

enum lg_cstate { CS_DOWN, CS_CONNECTING, CS_READY, CS_BUSY, CS_PAUSED };

/* Where one message of a repeated request is patched: offsets into the
 * request of its timestamp, of the group and sequence numbers in its body,
 * and of the group number in its MessageGroupId and in its
 * MessageDeduplicationId, and of the sequence number in the latter (0: the
 * request has no such field; offset 0 is always inside the headers). */
struct lg_slot {
    size_t ts, bgrp, bseq, ggrp, dgrp, dseq;
};

struct lg_worker;

struct lg_conn {
    struct lg_worker *w;
    enum lg_role role;
    enum lg_cstate st;
    enum lg_call call;
    bool poll_open;     /* counted in g_polls_open */
    int reserved;       /* messages counted in g_outstanding by this call */
    uint64_t retry_at;
    char *req;          /* the request this role repeats */
    size_t req_len;
    struct lg_slot slot[LG_BATCH];
    int n_slots;
    int prod_idx;       /* producers: index among the phase's producers */
    int prod_count;     /* producers: how many the phase has */
    uint64_t prod_sent; /* fifo producers: messages numbered so far */
    int claimed;        /* fair producers: plan messages in this call */
    long small_pending; /* fair consumers: small-group messages to delete */
    char *dyn;          /* DeleteMessageBatch request */
    size_t dyn_cap;
    struct hl_io io;    /* socket, request, response buffer, deadline */
};

struct lg_worker {
    int id;
    int ep;
    struct lg_conn *conns;
    size_t nconns;
    size_t next_open;   /* connections not yet opened start here */
    char *scratch;
    struct lg_stats *st;
    pthread_t th;
};

static void conn_next(struct lg_conn *c, uint64_t now);

static void conn_close(struct lg_conn *c)
{
    hl_io_close(&c->io, c->w->ep);
    if (c->poll_open) {
        atomic_fetch_sub(&g_polls_open, 1);
        c->poll_open = false;
    }
    if (c->reserved) {
        atomic_fetch_sub(&g_outstanding, c->reserved);
        c->reserved = 0;
    }
    if (c->claimed) {
        atomic_fetch_add(&g_plan_acked, c->claimed);
        c->claimed = 0;
    }
    c->small_pending = 0;
}

/* Drops the connection after an error; it is reopened after a short pause. */
static void conn_fail(struct lg_conn *c, uint64_t now, uint64_t *counter)
{
    if (counter && in_window(now))
        (*counter)++;
    conn_close(c);
    c->st = CS_DOWN;
    c->retry_at = now + LG_RETRY_NS;
}

static const struct hl_handler lg_io; /* defined after on_response */

static void conn_open(struct lg_conn *c, uint64_t now)
{
    if (hl_io_open(&c->io, c->w->ep, c, g_cfg.host, g_cfg.port,
                   now + LG_CONNECT_NS) < 0)
        conn_fail(c, now, &c->w->st->conn_err);
    else
        c->st = CS_CONNECTING;
}

static void conn_issue(struct lg_conn *c, enum lg_call call, const char *buf,
                       size_t len, uint64_t now, uint64_t timeout)
{
    c->call = call;
    c->st = CS_BUSY;
    hl_io_send(&c->io, c->w->ep, c, &lg_io, buf, len, now, now + timeout);
}

/* Writes v as width zero-padded decimal digits at p (the low digits when
 * v has more). */
static void put_digits(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Writes group and sequence numbers into slot s of c's request. */
static void stamp_group(struct lg_conn *c, const struct lg_slot *s,
                        uint64_t grp, uint64_t seq)
{
    put_digits(c->req + s->bgrp, grp, LG_GRP_DIGITS);
    put_digits(c->req + s->bseq, seq, LG_SEQ_DIGITS);
    if (s->ggrp)
        put_digits(c->req + s->ggrp, grp, LG_GRP_DIGITS);
    if (s->dgrp) {
        put_digits(c->req + s->dgrp, grp, LG_GRP_DIGITS);
        put_digits(c->req + s->dseq, seq, LG_SEQ_DIGITS);
    }
}

/* Prepares c's request for its next call: the time t in every body and, in
 * fifo and fair, the next group and sequence numbers.  A fifo producer
 * numbers the groups it owns (prod_idx, prod_idx + prod_count, ...) in turn;
 * a fair producer claims the next LG_BATCH messages of the plan.  Returns
 * false when a fair plan has nothing left to claim. */
static bool stamp(struct lg_conn *c, uint64_t t)
{
    char d[LG_TS_DIGITS];

    put_digits(d, t, LG_TS_DIGITS);
    for (int i = 0; i < c->n_slots; i++)
        memcpy(c->req + c->slot[i].ts, d, LG_TS_DIGITS);
    if (c->role != ROLE_PRODUCER)
        return true;
    if (g_cfg.scenario == SC_FIFO) {
        uint64_t own = (uint64_t)(g_cfg.groups - c->prod_idx +
                                  c->prod_count - 1) / (uint64_t)c->prod_count;
        for (int i = 0; i < c->n_slots; i++, c->prod_sent++) {
            uint64_t k = c->prod_sent % own;
            stamp_group(c, &c->slot[i],
                        (uint64_t)c->prod_idx + k * (uint64_t)c->prod_count,
                        c->prod_sent / own);
        }
    } else if (g_cfg.scenario == SC_FAIR || g_cfg.scenario == SC_DRAIN) {
        long base = atomic_fetch_add(&g_plan_next, LG_BATCH);
        if (base >= g_plan_total)
            return false;
        c->claimed = LG_BATCH;
        for (int i = 0; i < c->n_slots; i++) {
            uint64_t idx = (uint64_t)base + (uint64_t)i;
            stamp_group(c, &c->slot[i],
                        (uint64_t)g_plan_gbase + idx % (uint64_t)g_plan_ngroups,
                        idx / (uint64_t)g_plan_ngroups);
        }
    }
    return true;
}

static void conn_next(struct lg_conn *c, uint64_t now)
{
    long have;

    if (now >= g_win_end || atomic_load(&g_stop)) {
        c->st = CS_READY;
        return;
    }
    switch (c->role) {
    case ROLE_SENDER:
        stamp(c, now);
        conn_issue(c, CALL_SEND, c->req, c->req_len, now, LG_CALL_NS);
        break;
    case ROLE_PRODUCER:
        have = atomic_load(&g_outstanding);
        if (g_cfg.backlog > 0 && have + LG_BATCH > g_cfg.backlog) {
            c->st = CS_PAUSED;
            return;
        }
        if (!stamp(c, now)) {
            c->st = CS_READY; /* the plan is done */
            return;
        }
        atomic_fetch_add(&g_outstanding, LG_BATCH);
        c->reserved = LG_BATCH;
        conn_issue(c, CALL_SEND_BATCH, c->req, c->req_len, now, LG_CALL_NS);
        break;
    case ROLE_CONSUMER:
        c->small_pending = 0;
        conn_issue(c, CALL_RECEIVE, c->req, c->req_len, now,
                   LG_CALL_NS + (uint64_t)g_cfg.wait_s * 1000000000ull);
        break;
    case ROLE_POLLER:
        conn_issue(c, CALL_POLL, c->req, c->req_len, now,
                   LG_CALL_NS + (uint64_t)g_cfg.wait_s * 1000000000ull);
        break;
    }
}

/* ---- request templates --------------------------------------------------- */

/* A message body: tag, timestamp, group and sequence placeholders, padding
 * to body_size. */
static void fill_body(char *dst)
{
    size_t n = (size_t)g_cfg.body_size, head = strlen(LG_BODY_TAG);

    memcpy(dst, LG_BODY_TAG, head);
    memset(dst + head, '0', LG_BODY_MIN - head);
    dst[LG_BODY_GRP - 1] = ' ';
    dst[LG_BODY_SEQ - 1] = ' ';
    dst[LG_BODY_MIN - 1] = ' ';
    for (size_t i = LG_BODY_MIN; i < n; i++)
        dst[i] = (char)('a' + i % 26);
    dst[n] = '\0';
}

/* Appends one message (its body msg, and in fifo and fair its group and
 * deduplication ids) to the request body being built in body, recording
 * where its numbers sit relative to the body's start in *s. */
static size_t add_message(char *body, size_t blen, size_t bcap,
                          const char *msg, struct lg_slot *s)
{
    size_t b = blen;

    b += (size_t)snprintf(body + b, bcap - b, "%s", msg);
    s->ts = blen + strlen(LG_BODY_TAG);
    s->bgrp = blen + LG_BODY_GRP;
    s->bseq = blen + LG_BODY_SEQ;
    b += (size_t)snprintf(body + b, bcap - b, "\"");
    if (g_cfg.scenario == SC_FIFO || g_cfg.scenario == SC_FAIR) {
        b += (size_t)snprintf(body + b, bcap - b, ",\"MessageGroupId\":\"g");
        s->ggrp = b;
        b += (size_t)snprintf(body + b, bcap - b, "%0*d\"", LG_GRP_DIGITS, 0);
    }
    if (g_cfg.scenario == SC_FIFO) {
        b += (size_t)snprintf(body + b, bcap - b,
                              ",\"MessageDeduplicationId\":\"%s-", g_nonce);
        s->dgrp = b;
        b += (size_t)snprintf(body + b, bcap - b, "%0*d-", LG_GRP_DIGITS, 0);
        s->dseq = b;
        b += (size_t)snprintf(body + b, bcap - b, "%0*d\"", LG_SEQ_DIGITS, 0);
    }
    return b;
}

/* Moves the offsets of c's slots from the request body to the request. */
static void slots_rebase(struct lg_conn *c, size_t hdr)
{
    for (int i = 0; i < c->n_slots; i++) {
        struct lg_slot *s = &c->slot[i];
        s->ts += hdr;
        s->bgrp += hdr;
        s->bseq += hdr;
        if (s->ggrp)
            s->ggrp += hdr;
        if (s->dgrp) {
            s->dgrp += hdr;
            s->dseq += hdr;
        }
    }
}

/* Builds the request a role repeats and records where its stamps sit.
 * Returns 0, or -1 on allocation failure. */
static int conn_template(struct lg_conn *c)
{
    size_t bcap = (size_t)(g_cfg.body_size + 256) * LG_BATCH + 1024;
    char *body = malloc(bcap), *msg = malloc((size_t)g_cfg.body_size + 1);
    size_t blen = 0;
    const char *op;

    c->n_slots = 0;
    memset(c->slot, 0, sizeof c->slot);
    if (!body || !msg)
        goto fail;
    fill_body(msg);
    if (c->role == ROLE_SENDER) {
        op = "SendMessage";
        blen = (size_t)snprintf(body, bcap,
                                "{\"QueueUrl\":\"%s\",\"MessageBody\":\"",
                                g_cfg.queue_url);
        blen = add_message(body, blen, bcap, msg, &c->slot[c->n_slots++]);
        blen += (size_t)snprintf(body + blen, bcap - blen, "}");
    } else if (c->role == ROLE_PRODUCER) {
        op = "SendMessageBatch";
        blen = (size_t)snprintf(body, bcap, "{\"QueueUrl\":\"%s\",\"Entries\":[",
                                g_cfg.queue_url);
        for (int i = 0; i < LG_BATCH; i++) {
            blen += (size_t)snprintf(body + blen, bcap - blen,
                                     "%s{\"Id\":\"m%d\",\"MessageBody\":\"",
                                     i ? "," : "", i);
            blen = add_message(body, blen, bcap, msg, &c->slot[c->n_slots++]);
            blen += (size_t)snprintf(body + blen, bcap - blen, "}");
        }
        blen += (size_t)snprintf(body + blen, bcap - blen, "]}");
    } else {
        op = "ReceiveMessage";
        blen = (size_t)snprintf(body, bcap,
                                "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\":%d,"
                                "\"WaitTimeSeconds\":%d}",
                                g_cfg.queue_url,
                                c->role == ROLE_CONSUMER ? LG_BATCH : 1,
                                g_cfg.wait_s);
    }
    if (blen >= bcap)
        goto fail;
    c->req = malloc(blen + 2048);
    if (!c->req)
        goto fail;
    c->req_len = http_build(c->req, blen + 2048, op, body, blen);
    slots_rebase(c, c->req_len - blen);
    free(body);
    free(msg);
    return c->req_len ? 0 : -1;
fail:
    free(body);
    free(msg);
    return -1;
}

/* ---- response handling --------------------------------------------------- */

static size_t count_str(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle), cnt = 0;
    const char *end = p + n;

    while (p < end) {
        const char *q = memmem(p, (size_t)(end - p), needle, k);
        if (!q)
            break;
        cnt++;
        p = q + k;
    }
    return cnt;
}

/* The width-digit decimal number at p, or -1 when it is not one. */
static long long get_digits(const char *p, int width)
{
    long long v = 0;

    for (int i = 0; i < width; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* fifo: checks that seq follows the last number seen in group grp. Every
 * body is checked, warm-up included. */
static void check_order(struct lg_stats *st, long long grp, long long seq)
{
    long long prev;

    st->order_checked++;
    prev = atomic_exchange(&g_last_seq[grp], seq);
    if (seq <= prev) {
        st->order_bad++;
        if (!st->first_order[0])
            snprintf(st->first_order, sizeof st->first_order,
                     "group %lld: %lld arrived after %lld", grp, seq, prev);
    } else if (seq != prev + 1) {
        st->order_gaps++;
    }
}

/* Checks one received body and records its send-to-receive time; in fifo
 * checks its group's order, in fair counts whose it is. */
static void on_message_body(struct lg_conn *c, const char *b, size_t n,
                            uint64_t now, bool win)
{
    struct lg_stats *st = c->w->st;
    size_t head = strlen(LG_BODY_TAG);
    long long grp, seq;
    uint64_t t = 0;

    if (n != (size_t)g_cfg.body_size || memcmp(b, LG_BODY_TAG, head) != 0) {
        if (win)
            st->bad_resp++;
        note_error(st, "unexpected message body", NULL, 0);
        return;
    }
    grp = get_digits(b + LG_BODY_GRP, LG_GRP_DIGITS);
    seq = get_digits(b + LG_BODY_SEQ, LG_SEQ_DIGITS);
    if (grp < 0 || seq < 0 ||
        (g_cfg.scenario == SC_FIFO && grp >= g_cfg.groups)) {
        st->bad_resp++;
        note_error(st, "bad group or sequence in a body", NULL, 0);
        return;
    }
    if (g_cfg.scenario == SC_FIFO) {
        check_order(st, grp, seq);
    } else if (g_cfg.scenario == SC_FAIR) {
        if (grp != 0) {
            c->small_pending++;
            st->small_recv++;
        } else {
            st->flood_recv++;
        }
    } else if (g_cfg.scenario == SC_DRAIN) {
        c->small_pending++; /* every preloaded message ends the drain */
    }
    for (size_t i = 0; i < LG_TS_DIGITS; i++)
        t = t * 10 + (uint64_t)(b[head + i] - '0');
    if (t < g_run_start || t > now) {
        if (win)
            st->stale_recv++;
        return;
    }
    if (win)
        hist_add(&st->e2e, now - t);
}

/* p[0] is the opening quote of a JSON string of at most n bytes; returns
 * the offset just past its closing quote, or 0 when it is unterminated. */
static size_t json_str_end(const char *p, size_t n)
{
    size_t i = 1;

    while (i < n) {
        const char *q = memchr(p + i, '"', n - i);
        size_t k, bs = 0;
        if (!q)
            return 0;
        k = (size_t)(q - p);
        while (bs < k - 1 && p[k - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return k + 1;
        i = k + 1;
    }
    return 0;
}

static size_t skip_ws(const char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                     p[i] == '\r'))
        i++;
    return i;
}

/* Appends one DeleteMessageBatch entry; rh is still JSON-escaped as the
 * server sent it, which is exactly what the request needs. */
static int add_entry(char *s, size_t *pos, int idx, const char *rh,
                     size_t len)
{
    if (*pos + len + 64 > LG_SCRATCH)
        return -1;
    *pos += (size_t)snprintf(s + *pos, LG_SCRATCH - *pos,
                             "%s{\"Id\":\"%d\",\"ReceiptHandle\":\"",
                             idx ? "," : "", idx);
    memcpy(s + *pos, rh, len);
    *pos += len;
    memcpy(s + *pos, "\"}", 2);
    *pos += 2;
    return 0;
}

/* Turns a ReceiveMessage answer into a DeleteMessageBatch request in c->dyn,
 * checking each Body on the way. A one-pass scan instead of a JSON library:
 * every string is skipped whole, and only strings followed by ':' (keys)
 * named ReceiptHandle or Body are looked at, so no value can be mistaken
 * for a key. Returns the number of entries (0: nothing to delete), -1 on
 * bad input. */
static int build_delete(struct lg_conn *c, const char *body, size_t blen,
                        uint64_t now, bool win)
{
    char *s = c->w->scratch;
    size_t pos, i, need;
    int n = 0;

    i = skip_ws(body, 0, blen);
    if (i >= blen || body[i] != '{')
        return -1;
    pos = (size_t)snprintf(s, LG_SCRATCH, "{\"QueueUrl\":\"%s\",\"Entries\":[",
                           g_cfg.queue_url);
    while (i < blen) {
        const char *q = memchr(body + i, '"', blen - i);
        size_t k, e, ve, v;
        if (!q)
            break;
        k = (size_t)(q - body);
        e = json_str_end(q, blen - k);
        if (!e)
            return -1;
        i = skip_ws(body, k + e, blen);
        if (i >= blen || body[i] != ':')
            continue;
        v = skip_ws(body, i + 1, blen);
        if (v >= blen || body[v] != '"')
            continue;
        ve = json_str_end(body + v, blen - v);
        if (!ve)
            return -1;
        if (e == 15 && memcmp(q, "\"ReceiptHandle\"", 15) == 0) {
            if (add_entry(s, &pos, n++, body + v + 1, ve - 2) < 0)
                return -1;
        } else if (e == 6 && memcmp(q, "\"Body\"", 6) == 0) {
            on_message_body(c, body + v + 1, ve - 2, now, win);
        }
        i = v + ve;
    }
    if (n == 0)
        return 0;
    memcpy(s + pos, "]}", 2);
    pos += 2;
    need = pos + 1024;
    if (need > c->dyn_cap) {
        char *d = realloc(c->dyn, need);
        if (!d)
            return -1;
        c->dyn = d;
        c->dyn_cap = need;
    }
    c->io.out_len = http_build(c->dyn, c->dyn_cap, "DeleteMessageBatch", s,
                               pos);
    return c->io.out_len ? n : -1;
}

static void on_delete_reply(struct lg_conn *c, const char *body, size_t blen,
                            bool win)
{
    struct lg_stats *st = c->w->st;
    json_t *root = json_loadb(body, blen, 0, NULL);
    size_t ok = json_array_size(json_object_get(root, "Successful"));
    size_t bad = json_array_size(json_object_get(root, "Failed"));

    if (!root && win)
        st->bad_resp++;
    atomic_fetch_sub(&g_outstanding, (long)ok);
    if (win) {
        st->msgs_deleted += ok;
        st->delete_failed += bad;
    }
    json_decref(root);
    /* fair: the phase ends when the small groups' last message is deleted;
     * drain: when the last preloaded one is */
    if (c->small_pending && root && bad == 0 && g_small_target > 0) {
        long done = atomic_fetch_add(&g_small_deleted, c->small_pending) +
                    c->small_pending;
        uint64_t zero = 0;
        if (done >= g_small_target &&
            atomic_compare_exchange_strong(&g_done_ns, &zero, hl_now_ns()))
            atomic_store(&g_stop, true);
    }
    c->small_pending = 0;
}

/* Handles a complete 200 answer; returns false when the connection should
 * be dropped instead of continuing. */
static bool on_ok(struct lg_conn *c, const struct hl_resp *r, uint64_t now,
                  bool win)
{
    struct lg_stats *st = c->w->st;
    size_t ok;
    int n;

    switch (c->call) {
    case CALL_SEND:
        if (!memmem(r->body, r->body_len, "\"MessageId\"", 11)) {
            if (win)
                st->bad_resp++;
            note_error(st, "SendMessage reply", r->body, r->body_len);
        } else if (win) {
            st->msgs_sent++;
        }
        break;
    case CALL_SEND_BATCH:
        ok = count_str(r->body, r->body_len, "\"MessageId\"");
        if (ok > LG_BATCH)
            ok = LG_BATCH;
        atomic_fetch_sub(&g_outstanding, (long)(LG_BATCH - ok));
        c->reserved = 0;
        if (c->claimed) {
            atomic_fetch_add(&g_plan_acked, c->claimed);
            c->claimed = 0;
        }
        if (win) {
            st->msgs_sent += ok;
            st->send_failed += LG_BATCH - ok;
        }
        if (ok < LG_BATCH)
            note_error(st, "SendMessageBatch reply", r->body, r->body_len);
        break;
    case CALL_RECEIVE:
        n = build_delete(c, r->body, r->body_len, now, win);
        if (n < 0) {
            if (win)
                st->bad_resp++;
            note_error(st, "ReceiveMessage reply", r->body, r->body_len);
            return true;
        }
        if (n == 0) {
            if (win)
                st->empty_recv++;
            return true;
        }
        if (win)
            st->msgs_recv += (uint64_t)n;
        if (c->small_pending) {
            st->mixed_recv++;
            st->mixed_small += (uint64_t)c->small_pending;
            st->mixed_flood += (uint64_t)(n - c->small_pending);
        }
        if (!r->close)
            conn_issue(c, CALL_DELETE_BATCH, c->dyn, c->io.out_len, now,
                       LG_CALL_NS);
        return false;
    case CALL_DELETE_BATCH:
        on_delete_reply(c, r->body, r->body_len, win);
        break;
    case CALL_POLL:
    case CALL_N:
        break;
    }
    return true;
}

/* A complete response arrived for the call in flight. */
static void on_response(struct lg_conn *c, const struct hl_resp *r,
                        uint64_t now)
{
    struct lg_stats *st = c->w->st;
    bool win = in_window(now);
    bool next = true;

    if (c->poll_open) {
        atomic_fetch_sub(&g_polls_open, 1);
        c->poll_open = false;
    }
    if (r->status == 200) {
        if (win) {
            st->calls[c->call]++;
            if (!(c->call == CALL_RECEIVE && c->role == ROLE_CONSUMER &&
                  memmem(r->body, r->body_len, "\"Messages\"", 10) == NULL))
                hist_add(&st->lat[c->call], now - c->io.t_issue);
        }
        next = on_ok(c, r, now, win);
    } else {
        if (win)
            st->http_err++;
        note_error(st, lg_call_name[c->call], r->body, r->body_len);
        if (c->reserved) {
            atomic_fetch_sub(&g_outstanding, c->reserved);
            c->reserved = 0;
        }
        if (c->claimed) {
            atomic_fetch_add(&g_plan_acked, c->claimed);
            c->claimed = 0;
        }
    }
    if (r->close) {
        conn_fail(c, now, NULL);
        c->retry_at = now; /* a polite close, not an error: reopen at once */
        return;
    }
    if (next)
        conn_next(c, now);
}

/* The callbacks of bench/lib/httpload.c; the owner is the connection. */
static void io_ready(void *owner, uint64_t now)
{
    struct lg_conn *c = owner;

    c->st = CS_READY;
    conn_next(c, now);
}

/* A long poll counts as open once all of its request is out. */
static void io_sent(void *owner, uint64_t now)
{
    struct lg_conn *c = owner;

    (void)now;
    if (c->call == CALL_POLL && !c->poll_open) {
        c->poll_open = true;
        atomic_fetch_add(&g_polls_open, 1);
    }
}

static void io_response(void *owner, const struct hl_resp *r, uint64_t now)
{
    on_response(owner, r, now);
}

/* Socket trouble (EOF, errors, bytes nobody asked for) counts as a
 * connection error, anything wrong with a response as a bad reply. */
static void io_fail(void *owner, uint64_t now, enum hl_fail why)
{
    struct lg_conn *c = owner;
    struct lg_stats *st = c->w->st;
    bool sock = why == HL_FAIL_SOCKET || why == HL_FAIL_UNASKED;

    if (why == HL_FAIL_MALFORMED)
        note_error(st, "malformed HTTP response", NULL, 0);
    conn_fail(c, now, sock ? &st->conn_err : &st->bad_resp);
}

static const struct hl_handler lg_io = {io_ready, io_sent, io_response,
                                        io_fail};

static void conn_event(struct lg_conn *c, uint32_t ev, uint64_t now)
{
    hl_io_event(&c->io, c->w->ep, c, ev, c->st == CS_CONNECTING,
                c->st == CS_BUSY, LG_IN_MAX, &lg_io, now);
}

/* ---- worker loop --------------------------------------------------------- */

/* Periodic pass: opens connections (a few hundred at a time), reopens dropped
 * ones, enforces deadlines and resumes paused producers. Returns true when
 * something waits on time rather than on a socket. */
static bool worker_scan(struct lg_worker *w, uint64_t now)
{
    bool timed = false;
    int opened = 0;

    while (w->next_open < w->nconns && opened < LG_OPENS_PER_SCAN) {
        conn_open(&w->conns[w->next_open++], now);
        opened++;
    }
    if (w->next_open < w->nconns)
        timed = true;
    for (size_t i = 0; i < w->next_open; i++) {
        struct lg_conn *c = &w->conns[i];
        switch (c->st) {
        case CS_DOWN:
            if (now >= c->retry_at)
                conn_open(c, now);
            timed = true;
            break;
        case CS_CONNECTING:
        case CS_BUSY:
            if (now > c->io.deadline)
                conn_fail(c, now, &w->st->timeouts);
            break;
        case CS_PAUSED:
            conn_next(c, now);
            timed = true;
            break;
        case CS_READY:
            break;
        }
    }
    return timed;
}

static void *worker_main(void *arg)
{
    struct lg_worker *w = arg;
    struct epoll_event evs[256];
    uint64_t now = hl_now_ns(), last_scan = 0;
    bool timed = true;

    while (now < g_win_end && !atomic_load(&g_stop)) {
        int n, tmo = timed ? 1 : 20;

        if (now - last_scan >= 1000000ull) {
            timed = worker_scan(w, now);
            last_scan = now;
        }
        n = epoll_wait(w->ep, evs, 256, tmo);
        now = hl_now_ns();
        for (int i = 0; i < n; i++)
            conn_event(evs[i].data.ptr, evs[i].events, now);
    }
    for (size_t i = 0; i < w->nconns; i++)
        conn_close(&w->conns[i]);
    return NULL;
}

/* ---- setup calls --------------------------------------------------------- */

/* Creates g_cfg.queue (a FIFO queue in the fifo scenario) and puts its URL
 * in g_cfg.queue_url. Returns 0, or -1 (reported on stderr). */
static int queue_create(void)
{
    json_t *req = g_cfg.scenario == SC_FIFO
        ? json_pack("{s:s,s:{s:s}}", "QueueName", g_cfg.queue, "Attributes",
                    "FifoQueue", "true")
        : json_pack("{s:s}", "QueueName", g_cfg.queue);
    int status;
    json_t *resp = sqs_call("CreateQueue", req, &status);
    const char *url = json_string_value(json_object_get(resp, "QueueUrl"));
    int rc = -1;

    if (status == 200 && url && strlen(url) < sizeof g_cfg.queue_url) {
        snprintf(g_cfg.queue_url, sizeof g_cfg.queue_url, "%s", url);
        rc = 0;
    } else {
        fprintf(stderr, "loadgen: CreateQueue %s failed (HTTP %d)\n",
                g_cfg.queue, status);
    }
    json_decref(req);
    json_decref(resp);
    return rc;
}

static void queue_delete(void)
{
    json_t *req = json_pack("{s:s}", "QueueUrl", g_cfg.queue_url);
    int status;
    json_t *resp = sqs_call("DeleteQueue", req, &status);

    if (status != 200)
        fprintf(stderr, "loadgen: DeleteQueue failed (HTTP %d)\n", status);
    json_decref(req);
    json_decref(resp);
}

static int wait_healthy(void)
{
    bool ok = hl_wait_healthy(g_cfg.host, g_cfg.port, g_cfg.duration);

    printf("RESULT scenario=wait healthy=%d\n", ok ? 1 : 0);
    return ok ? 0 : 1;
}

static int free_port(void)
{
    int port = hl_free_port();

    if (port < 0) {
        perror("loadgen: freeport");
        return 1;
    }
    printf("%d\n", port);
    return 0;
}

/* ---- run ----------------------------------------------------------------- */

struct lg_run {
    struct lg_worker w[LG_MAX_THREADS];
    int nworkers;
    struct lg_stats total;
    double secs;
    double server_cpu_pct;  /* -1 when no pid was given */
    double self_cpu_pct;
    double machine_pct;     /* all processes, % of one core; -1 unknown */
    double steal_pct;
    long rss_before_kb;     /* before any connection was opened */
    long rss_kb;
    long rss_max_kb;
    int polls_min;
    int polls_max;
};

/* Creates run's workers and their connections: nprod producers, ncons
 * consumers and nother connections of role other, dealt over the threads.
 * Returns 0, or -1 (teardown_workers frees what was made). */
static int setup_workers(struct lg_run *run, int nprod, int ncons, int nother,
                         enum lg_role other)
{
    int nconn = 0, k = 0;
    const enum lg_role roles[3] = {ROLE_PRODUCER, ROLE_CONSUMER, other};
    const int counts[3] = {nprod, ncons, nother};
    const int nroles = 3;

    for (int i = 0; i < nroles; i++)
        nconn += counts[i];
    run->nworkers = g_cfg.threads;
    for (int t = 0; t < run->nworkers; t++)
        run->w[t].ep = -1;
    for (int t = 0; t < run->nworkers; t++) {
        struct lg_worker *w = &run->w[t];
        w->id = t;
        w->ep = epoll_create1(0);
        w->conns = calloc((size_t)(nconn ? nconn : 1), sizeof *w->conns);
        w->scratch = malloc(LG_SCRATCH);
        w->st = calloc(1, sizeof *w->st);
        if (w->ep < 0 || !w->conns || !w->scratch || !w->st)
            return -1;
    }
    /* deal connections round-robin so each worker gets a mix of roles */
    for (int i = 0; i < nroles; i++) {
        for (int j = 0; j < counts[i]; j++, k++) {
            struct lg_worker *w = &run->w[k % run->nworkers];
            struct lg_conn *c = &w->conns[w->nconns++];
            c->w = w;
            c->io.fd = -1;
            c->role = roles[i];
            c->prod_idx = j;
            c->prod_count = nprod;
            c->st = CS_DOWN;
            c->io.in_cap = 16384;
            c->io.in = malloc(c->io.in_cap);
            if (!c->io.in || conn_template(c) < 0)
                return -1;
        }
    }
    return 0;
}

static void teardown_workers(struct lg_run *run)
{
    for (int t = 0; t < run->nworkers; t++) {
        struct lg_worker *w = &run->w[t];
        for (size_t i = 0; i < w->nconns; i++) {
            free(w->conns[i].req);
            free(w->conns[i].dyn);
            free(w->conns[i].io.in);
        }
        free(w->conns);
        free(w->scratch);
        free(w->st);
        if (w->ep >= 0)
            close(w->ep);
    }
}

/* Main thread during the run: samples the server through the window. */
static void monitor(struct lg_run *run)
{
    long long cpu0 = -1, cpu1 = -1, busy0 = 0, busy1 = 0, st0 = 0, st1 = 0;
    int mach0, mach1;
    double self0, self1;
    uint64_t t0, t1;
    long hz = sysconf(_SC_CLK_TCK);

    while (hl_now_ns() < g_win_start)
        hl_sleep_ns(10000000ull);
    t0 = hl_now_ns();
    self0 = procstat_self_cpu_s();
    mach0 = procstat_machine_ticks(&busy0, &st0);
    if (g_cfg.server_pid > 0)
        cpu0 = procstat_cpu_ticks(g_cfg.server_pid, 0);
    run->polls_min = atomic_load(&g_polls_open);
    run->polls_max = run->polls_min;
    for (int i = 0; i < 100000 && hl_now_ns() < g_win_end; i++) {
        int polls = atomic_load(&g_polls_open);
        long rss = g_cfg.server_pid > 0 ? procstat_rss_kb(g_cfg.server_pid)
                                        : -1;
        if (polls < run->polls_min)
            run->polls_min = polls;
        if (polls > run->polls_max)
            run->polls_max = polls;
        if (rss > run->rss_max_kb)
            run->rss_max_kb = rss;
        hl_sleep_ns(100000000ull);
    }
    while (hl_now_ns() < g_win_end)
        hl_sleep_ns(1000000ull);
    t1 = hl_now_ns();
    self1 = procstat_self_cpu_s();
    mach1 = procstat_machine_ticks(&busy1, &st1);
    if (g_cfg.server_pid > 0) {
        cpu1 = procstat_cpu_ticks(g_cfg.server_pid, 0);
        run->rss_kb = procstat_rss_kb(g_cfg.server_pid);
    }
    run->secs = (double)(t1 - t0) / 1e9;
    run->server_cpu_pct = -1;
    if (cpu0 >= 0 && cpu1 >= 0 && hz > 0)
        run->server_cpu_pct = (double)(cpu1 - cpu0) / (double)hz /
                              run->secs * 100.0;
    run->self_cpu_pct = (self1 - self0) / run->secs * 100.0;
    run->machine_pct = run->steal_pct = -1;
    if (mach0 == 0 && mach1 == 0 && hz > 0) {
        run->machine_pct = (double)(busy1 - busy0) / (double)hz /
                           run->secs * 100.0;
        run->steal_pct = (double)(st1 - st0) / (double)hz / run->secs *
                         100.0;
    }
}

/* Adds the statistics s to t. */
static void stats_add(struct lg_stats *t, const struct lg_stats *s)
{
    for (int c = 0; c < CALL_N; c++) {
        hist_merge(&t->lat[c], &s->lat[c]);
        t->calls[c] += s->calls[c];
    }
    hist_merge(&t->e2e, &s->e2e);
    t->msgs_sent += s->msgs_sent;
    t->msgs_recv += s->msgs_recv;
    t->msgs_deleted += s->msgs_deleted;
    t->empty_recv += s->empty_recv;
    t->stale_recv += s->stale_recv;
    t->http_err += s->http_err;
    t->timeouts += s->timeouts;
    t->conn_err += s->conn_err;
    t->bad_resp += s->bad_resp;
    t->send_failed += s->send_failed;
    t->delete_failed += s->delete_failed;
    t->order_checked += s->order_checked;
    t->order_bad += s->order_bad;
    t->order_gaps += s->order_gaps;
    t->small_recv += s->small_recv;
    t->flood_recv += s->flood_recv;
    t->mixed_recv += s->mixed_recv;
    t->mixed_small += s->mixed_small;
    t->mixed_flood += s->mixed_flood;
    if (!t->first_err[0] && s->first_err[0])
        memcpy(t->first_err, s->first_err, sizeof t->first_err);
    if (!t->first_order[0] && s->first_order[0])
        memcpy(t->first_order, s->first_order, sizeof t->first_order);
}

static void merge_stats(struct lg_run *run)
{
    for (int i = 0; i < run->nworkers; i++)
        stats_add(&run->total, run->w[i].st);
}

/* ---- reports ------------------------------------------------------------- */

static void print_hist(const char *name, const struct hist *h)
{
    if (h->n == 0) {
        printf("  %-26s (no samples)\n", name);
        return;
    }
    printf("  %-26s n=%-9llu p50=%.3f p90=%.3f p99=%.3f p99.9=%.3f "
           "max=%.3f mean=%.3f ms\n", name, (unsigned long long)h->n,
           ms(hist_quantile(h, 0.5)), ms(hist_quantile(h, 0.9)),
           ms(hist_quantile(h, 0.99)), ms(hist_quantile(h, 0.999)),
           ms(h->max), ms(h->sum / h->n));
}

static unsigned long long errors_of(const struct lg_stats *t)
{
    return (unsigned long long)(t->http_err + t->timeouts + t->conn_err +
                                t->bad_resp + t->send_failed +
                                t->delete_failed);
}

static void print_common(const struct lg_run *run)
{
    const struct lg_stats *t = &run->total;

    printf("  window %.2f s, server CPU %.1f %% of a core, loadgen CPU %.1f %%"
           ", server RSS %ld KiB (max %ld)\n", run->secs, run->server_cpu_pct,
           run->self_cpu_pct, run->rss_kb, run->rss_max_kb);
    printf("  machine: %ld CPUs, %.1f %% of a core busy in all processes "
           "(%.1f %% outside server and loadgen), %.1f %% stolen\n",
           sysconf(_SC_NPROCESSORS_ONLN), run->machine_pct,
           run->machine_pct - run->self_cpu_pct -
               (run->server_cpu_pct > 0 ? run->server_cpu_pct : 0),
           run->steal_pct);
    printf("  errors: http=%llu timeouts=%llu conn=%llu bad_reply=%llu "
           "send_failed=%llu delete_failed=%llu\n",
           (unsigned long long)t->http_err, (unsigned long long)t->timeouts,
           (unsigned long long)t->conn_err, (unsigned long long)t->bad_resp,
           (unsigned long long)t->send_failed,
           (unsigned long long)t->delete_failed);
    if (t->first_err[0])
        printf("  first error: %s\n", t->first_err);
}

static void report_send(const struct lg_run *run)
{
    const struct lg_stats *t = &run->total;
    const struct hist *h = &t->lat[CALL_SEND];

    printf("send: %d connections, %d-byte bodies, %d thread(s)\n",
           g_cfg.conns, g_cfg.body_size, g_cfg.threads);
    printf("  %.0f msgs/s\n", (double)t->msgs_sent / run->secs);
    print_hist("SendMessage", h);
    print_common(run);
    printf("RESULT scenario=send conns=%d secs=%.2f msgs_per_s=%.0f "
           "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%llu "
           "server_cpu_pct=%.1f loadgen_cpu_pct=%.1f machine_cpu_pct=%.1f "
           "rss_kb=%ld\n",
           g_cfg.conns, run->secs, (double)t->msgs_sent / run->secs,
           ms(hist_quantile(h, 0.5)), ms(hist_quantile(h, 0.99)),
           ms(hist_quantile(h, 0.999)), ms(h->max), errors_of(t),
           run->server_cpu_pct, run->self_cpu_pct, run->machine_pct,
           run->rss_kb);
}

/* The producers a fifo run uses: each group has one, so no more than the
 * groups. */
static int fifo_producers(void)
{
    return g_cfg.producers < g_cfg.groups ? g_cfg.producers : g_cfg.groups;
}

/* fifo: how many groups had at least one message received. */
static long fifo_groups_seen(void)
{
    long seen = 0;

    for (int g = 0; g < g_cfg.groups; g++)
        seen += atomic_load(&g_last_seq[g]) >= 0;
    return seen;
}

/* batch and fifo (which adds its groups and the order check). */
static void report_batch(const struct lg_run *run)
{
    const struct lg_stats *t = &run->total;
    const struct hist *l = t->lat;
    double s = run->secs;
    bool fifo = g_cfg.scenario == SC_FIFO;

    if (fifo)
        printf("fifo: %d groups, %d producers x SendMessageBatch(%d) (each "
               "group sent by one producer), %d consumers x ReceiveMessage"
               "(%d, wait %ds) + DeleteMessageBatch, backlog cap %ld\n",
               g_cfg.groups, fifo_producers(), LG_BATCH, g_cfg.consumers,
               LG_BATCH, g_cfg.wait_s, g_cfg.backlog);
    else
        printf("batch: %d producers x SendMessageBatch(%d), %d consumers x "
               "ReceiveMessage(%d, wait %ds) + DeleteMessageBatch, backlog "
               "cap %ld\n", g_cfg.producers, LG_BATCH, g_cfg.consumers,
               LG_BATCH, g_cfg.wait_s, g_cfg.backlog);
    printf("  end to end (deleted) %.0f msgs/s; sent %.0f msgs/s; received "
           "%.0f msgs/s; empty receives %llu; stale %llu\n",
           (double)t->msgs_deleted / s, (double)t->msgs_sent / s,
           (double)t->msgs_recv / s, (unsigned long long)t->empty_recv,
           (unsigned long long)t->stale_recv);
    print_hist("SendMessageBatch", &l[CALL_SEND_BATCH]);
    print_hist("ReceiveMessage (non-empty)", &l[CALL_RECEIVE]);
    print_hist("DeleteMessageBatch", &l[CALL_DELETE_BATCH]);
    print_hist("send -> receive", &t->e2e);
    if (fifo) {
        printf("  order (whole run, warm-up included): %llu messages checked "
               "in %ld of %d groups; %llu out of order, %llu gaps\n",
               (unsigned long long)t->order_checked, fifo_groups_seen(),
               g_cfg.groups,
               (unsigned long long)t->order_bad,
               (unsigned long long)t->order_gaps);
        if (t->first_order[0])
            printf("  first out-of-order message: %s\n", t->first_order);
    }
    print_common(run);
    if (fifo) {
        printf("RESULT scenario=fifo groups=%d groups_seen=%ld "
               "order_checked=%llu order_violations=%llu order_gaps=%llu ",
               g_cfg.groups, fifo_groups_seen(), (unsigned long long)t->order_checked,
               (unsigned long long)t->order_bad,
               (unsigned long long)t->order_gaps);
    } else {
        printf("RESULT scenario=batch ");
    }
    printf("producers=%d consumers=%d secs=%.2f "
           "e2e_msgs_per_s=%.0f send_msgs_per_s=%.0f recv_msgs_per_s=%.0f "
           "send_p50_ms=%.3f send_p99_ms=%.3f recv_p50_ms=%.3f "
           "recv_p99_ms=%.3f del_p50_ms=%.3f del_p99_ms=%.3f "
           "e2e_p50_ms=%.3f e2e_p99_ms=%.3f errors=%llu "
           "server_cpu_pct=%.1f loadgen_cpu_pct=%.1f machine_cpu_pct=%.1f "
           "rss_kb=%ld\n",
           fifo ? fifo_producers() : g_cfg.producers, g_cfg.consumers, s,
           (double)t->msgs_deleted / s,
           (double)t->msgs_sent / s, (double)t->msgs_recv / s,
           ms(hist_quantile(&l[CALL_SEND_BATCH], 0.5)),
           ms(hist_quantile(&l[CALL_SEND_BATCH], 0.99)),
           ms(hist_quantile(&l[CALL_RECEIVE], 0.5)),
           ms(hist_quantile(&l[CALL_RECEIVE], 0.99)),
           ms(hist_quantile(&l[CALL_DELETE_BATCH], 0.5)),
           ms(hist_quantile(&l[CALL_DELETE_BATCH], 0.99)),
           ms(hist_quantile(&t->e2e, 0.5)), ms(hist_quantile(&t->e2e, 0.99)),
           errors_of(t), run->server_cpu_pct, run->self_cpu_pct,
           run->machine_pct, run->rss_kb);
}

static void report_idle(const struct lg_run *run)
{
    const struct lg_stats *t = &run->total;

    printf("idle: %d connections long-polling (wait %ds) an empty queue\n",
           g_cfg.conns, g_cfg.wait_s);
    printf("  long polls open during the window: min %d max %d; answered "
           "%llu (each should be empty after %d s)\n", run->polls_min,
           run->polls_max, (unsigned long long)t->calls[CALL_POLL],
           g_cfg.wait_s);
    print_hist("ReceiveMessage(long poll)", &t->lat[CALL_POLL]);
    print_common(run);
    printf("  server RSS before the connections opened: %ld KiB\n",
           run->rss_before_kb);
    printf("RESULT scenario=idle conns=%d secs=%.2f cpu_pct=%.2f rss_kb=%ld "
           "rss_max_kb=%ld rss_before_kb=%ld polls_open_min=%d polls_open_max=%d "
           "polls_answered=%llu poll_p50_ms=%.1f errors=%llu "
           "loadgen_cpu_pct=%.1f machine_cpu_pct=%.1f\n", g_cfg.conns,
           run->secs,
           run->server_cpu_pct, run->rss_kb, run->rss_max_kb,
           run->rss_before_kb, run->polls_min,
           run->polls_max, (unsigned long long)t->calls[CALL_POLL],
           ms(hist_quantile(&t->lat[CALL_POLL], 0.5)), errors_of(t),
           run->self_cpu_pct, run->machine_pct);
}

static int run_scenario(void)
{
    struct lg_run *run = calloc(1, sizeof *run);
    int rc = 1, started = 0;

    if (!run)
        return 1;
    run->rss_kb = run->rss_max_kb = -1;
    if (queue_create() < 0)
        goto out;
    if (g_cfg.scenario == SC_FIFO) {
        g_last_seq = calloc((size_t)g_cfg.groups, sizeof *g_last_seq);
        if (!g_last_seq)
            goto out;
        for (int g = 0; g < g_cfg.groups; g++)
            atomic_init(&g_last_seq[g], -1);
    }
    if (g_cfg.scenario == SC_SEND || g_cfg.scenario == SC_IDLE)
        rc = setup_workers(run, 0, 0, g_cfg.conns,
                           g_cfg.scenario == SC_SEND ? ROLE_SENDER
                                                     : ROLE_POLLER);
    else
        rc = setup_workers(run, g_cfg.scenario == SC_FIFO ? fifo_producers()
                                                          : g_cfg.producers,
                           g_cfg.consumers, 0, ROLE_SENDER);
    if (rc < 0) {
        rc = 1;
        fprintf(stderr, "loadgen: out of memory\n");
        goto out;
    }
    run->rss_before_kb =
        g_cfg.server_pid > 0 ? procstat_rss_kb(g_cfg.server_pid) : -1;
    g_run_start = hl_now_ns();
    g_win_start = g_run_start + (uint64_t)(g_cfg.warmup * 1e9);
    g_win_end = g_win_start + (uint64_t)(g_cfg.duration * 1e9);
    for (; started < run->nworkers; started++)
        if (pthread_create(&run->w[started].th, NULL, worker_main,
                           &run->w[started]) != 0)
            break;
    if (started < run->nworkers)
        fprintf(stderr, "loadgen: could not start all threads\n");
    monitor(run);
    for (int i = 0; i < started; i++)
        pthread_join(run->w[i].th, NULL);
    merge_stats(run);
    if (g_cfg.scenario == SC_SEND)
        report_send(run);
    else if (g_cfg.scenario == SC_BATCH || g_cfg.scenario == SC_FIFO)
        report_batch(run);
    else
        report_idle(run);
    if (g_cfg.delete_queue)
        queue_delete();
    rc = started == run->nworkers ? 0 : 1;
out:
    teardown_workers(run);
    free(run);
    free(g_last_seq);
    g_last_seq = NULL;
    return rc;
}

/* ---- fair ---------------------------------------------------------------- */

/* What one phase of the fair scenario did. */
struct lg_phase {
    double secs;        /* until its work was done, or its deadline */
    bool done;          /* the work was done before the deadline */
    double server_s;    /* server CPU seconds in the phase (-1: unknown) */
    struct lg_stats st; /* the workers' statistics, merged */
};

/* Runs one phase against g_cfg.queue_url: nprod producers sending the plan
 * (g_plan_*), done when every claimed call has ended, or ncons consumers
 * draining, done when g_small_target small-group messages are deleted; at
 * most max_s seconds. Fills *out; returns 0, or -1 when the workers could
 * not be set up. */
static int run_phase(int nprod, int ncons, double max_s, struct lg_phase *out)
{
    struct lg_run *run = calloc(1, sizeof *run);
    long hz = sysconf(_SC_CLK_TCK);
    long long cpu0 = -1, cpu1 = -1;
    uint64_t t0, end;
    int started = 0, rc = -1;

    memset(out, 0, sizeof *out);
    out->server_s = -1;
    if (!run)
        return -1;
    atomic_store(&g_stop, false);
    atomic_store(&g_done_ns, 0);
    atomic_store(&g_plan_next, 0);
    atomic_store(&g_plan_acked, 0);
    atomic_store(&g_small_deleted, 0);
    atomic_store(&g_outstanding, 0);
    if (setup_workers(run, nprod, ncons, 0, ROLE_SENDER) < 0)
        goto done;
    if (g_cfg.server_pid > 0)
        cpu0 = procstat_cpu_ticks(g_cfg.server_pid, 0);
    t0 = hl_now_ns();
    g_win_start = t0;
    g_win_end = t0 + (uint64_t)(max_s * 1e9);
    for (; started < run->nworkers; started++)
        if (pthread_create(&run->w[started].th, NULL, worker_main,
                           &run->w[started]) != 0)
            break;
    /* 1 ms steps, bounded by the deadline (and the count, as a backstop) */
    for (long i = 0; i < 10000000L && !atomic_load(&g_stop); i++) {
        uint64_t zero = 0, now = hl_now_ns();
        if (now >= g_win_end)
            break;
        if (nprod > 0 && atomic_load(&g_plan_acked) >= g_plan_total) {
            atomic_compare_exchange_strong(&g_done_ns, &zero, now);
            break;
        }
        hl_sleep_ns(1000000ull);
    }
    end = atomic_load(&g_done_ns);
    out->done = end != 0;
    if (!end)
        end = hl_now_ns();
    atomic_store(&g_stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(run->w[i].th, NULL);
    if (g_cfg.server_pid > 0)
        cpu1 = procstat_cpu_ticks(g_cfg.server_pid, 0);
    if (cpu0 >= 0 && cpu1 >= 0 && hz > 0)
        out->server_s = (double)(cpu1 - cpu0) / (double)hz;
    merge_stats(run);
    out->st = run->total;
    out->secs = (double)(end - t0) / 1e9;
    rc = started == run->nworkers ? 0 : -1;
done:
    teardown_workers(run);
    free(run);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median of the n values at v (sorts them); 0 when n is 0. */
static double median(double *v, int n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Creates the queue named name; its URL goes to url (512 bytes). */
static int fair_queue(const char *name, char *url)
{
    snprintf(g_cfg.queue, sizeof g_cfg.queue, "%s", name);
    if (queue_create() < 0)
        return -1;
    memcpy(url, g_cfg.queue_url, sizeof g_cfg.queue_url);
    return 0;
}

/* Sends the small groups (1 .. groups, per_group each) to url. */
static int fair_send_small(const char *url, struct lg_phase *ph)
{
    memcpy(g_cfg.queue_url, url, sizeof g_cfg.queue_url);
    g_plan_total = (long)g_cfg.groups * g_cfg.per_group;
    g_plan_ngroups = g_cfg.groups;
    g_plan_gbase = 1;
    g_small_target = 0;
    return run_phase(g_cfg.producers, 0, 30, ph);
}

/* Drains url until the small groups are gone (or 20 s passed). */
static int fair_drain(const char *url, struct lg_phase *ph)
{
    memcpy(g_cfg.queue_url, url, sizeof g_cfg.queue_url);
    g_small_target = (long)g_cfg.groups * g_cfg.per_group;
    return run_phase(0, g_cfg.consumers, 20, ph);
}

static void queue_delete_url(const char *url)
{
    memcpy(g_cfg.queue_url, url, sizeof g_cfg.queue_url);
    queue_delete();
}

#define LG_MAX_ROUNDS 50

/* Everything the fair scenario measured. */
struct lg_fair {
    struct lg_phase pre;           /* the flood's preload */
    double alone[LG_MAX_ROUNDS];   /* drain times alone, ms */
    double behind[LG_MAX_ROUNDS];  /* drain times behind the flood, ms */
    int n_alone, n_behind;
    struct lg_stats drain_a, drain_b; /* the drains of each kind, merged */
    double cpu_a, cpu_b;           /* server CPU s in those drains */
    struct lg_stats all;           /* every phase */
    double secs;                   /* the whole scenario */
    double server_pct, self_pct, machine_pct; /* over it; -1 unknown */
    bool ok;                       /* every phase finished its work */
};

/* Non-empty receives in s. */
static double full_receives(const struct lg_stats *s)
{
    uint64_t n = s->calls[CALL_RECEIVE];

    return n > s->empty_recv ? (double)(n - s->empty_recv) : 0;
}

static double per(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static void report_fair(struct lg_fair *f)
{
    const struct lg_stats *a = &f->drain_a, *b = &f->drain_b;
    double med_a = median(f->alone, f->n_alone);
    double med_b = median(f->behind, f->n_behind);
    double sent = (double)f->pre.st.msgs_sent;
    double drained = (double)(a->msgs_recv + b->msgs_recv);
    double t_b = 0, ratio = per(med_b, med_a), unfair_ms;
    long small = (long)g_cfg.groups * g_cfg.per_group;

    for (int i = 0; i < f->n_behind; i++)
        t_b += f->behind[i];
    /* without fair queues the small groups would wait behind the flood:
     * the flood at the drain rate measured behind it */
    unfair_ms = per((double)g_cfg.flood * t_b, (double)b->msgs_recv);
    printf("fair: a flood of %ld messages in 1 group, then %d groups x %d; "
           "%d producers x SendMessageBatch(%d), %d consumers x "
           "ReceiveMessage(%d, wait %ds) + DeleteMessageBatch; %d rounds\n",
           g_cfg.flood, g_cfg.groups, g_cfg.per_group, g_cfg.producers,
           LG_BATCH, g_cfg.consumers, LG_BATCH, g_cfg.wait_s, g_cfg.rounds);
    printf("  preload of the flood: %.0f messages in %.2f s (%.0f msgs/s), "
           "server CPU %.1f us per message\n", sent, f->pre.secs,
           per(sent, f->pre.secs), per(f->pre.server_s * 1e6, sent));
    printf("  %ld small-group messages drained alone, ms:", small);
    for (int i = 0; i < f->n_alone; i++)
        printf(" %.1f", f->alone[i]);
    printf("\n    median %.1f; %.2f messages per non-empty receive\n", med_a,
           per((double)a->small_recv, full_receives(a)));
    printf("  the same behind the flood, ms:");
    for (int i = 0; i < f->n_behind; i++)
        printf(" %.1f", f->behind[i]);
    printf("\n    median %.1f; a receive holding small-group messages held "
           "%.2f of them + %.2f flood;\n    %.1f flood-only receives per "
           "drain (other consumers' receives while the last were deleted)\n",
           med_b, per((double)b->mixed_small, (double)b->mixed_recv),
           per((double)b->mixed_flood, (double)b->mixed_recv),
           per(full_receives(b) - (double)b->mixed_recv, f->n_behind));
    printf("  behind the flood / alone (medians): %.2f; without fair queues "
           "they would wait for the flood, about %.0f ms at this drain "
           "rate\n", ratio, unfair_ms);
    printf("  server CPU while draining: %.1f us per message received\n",
           per((f->cpu_a + f->cpu_b) * 1e6, drained));
    if (!f->ok)
        printf("  INCOMPLETE: a phase did not finish before its deadline\n");
    printf("  errors: http=%llu timeouts=%llu conn=%llu bad_reply=%llu "
           "send_failed=%llu delete_failed=%llu\n",
           (unsigned long long)f->all.http_err,
           (unsigned long long)f->all.timeouts,
           (unsigned long long)f->all.conn_err,
           (unsigned long long)f->all.bad_resp,
           (unsigned long long)f->all.send_failed,
           (unsigned long long)f->all.delete_failed);
    if (f->all.first_err[0])
        printf("  first error: %s\n", f->all.first_err);
    printf("  whole scenario %.1f s: server CPU %.1f %% of a core, loadgen "
           "%.1f %%, machine %.1f %% of a core busy in all processes\n",
           f->secs, f->server_pct, f->self_pct, f->machine_pct);
    printf("RESULT scenario=fair flood=%ld groups=%d per_group=%d rounds=%d "
           "completed=%d alone_ms=%.1f flooded_ms=%.1f ratio=%.2f "
           "alone_min_ms=%.1f alone_max_ms=%.1f flooded_min_ms=%.1f "
           "flooded_max_ms=%.1f small_per_recv_alone=%.2f "
           "small_per_recv_flooded=%.2f flood_per_recv=%.2f "
           "flood_only_recvs_per_drain=%.1f "
           "unfair_est_ms=%.0f preload_secs=%.2f preload_msgs_per_s=%.0f "
           "preload_us_per_msg=%.1f drain_us_per_msg=%.1f errors=%llu "
           "secs=%.1f server_cpu_pct=%.1f loadgen_cpu_pct=%.1f "
           "machine_cpu_pct=%.1f\n",
           g_cfg.flood, g_cfg.groups, g_cfg.per_group, g_cfg.rounds, f->ok,
           med_a, med_b, ratio, f->n_alone ? f->alone[0] : 0,
           f->n_alone ? f->alone[f->n_alone - 1] : 0,
           f->n_behind ? f->behind[0] : 0,
           f->n_behind ? f->behind[f->n_behind - 1] : 0,
           per((double)a->small_recv, full_receives(a)),
           per((double)b->mixed_small, (double)b->mixed_recv),
           per((double)b->mixed_flood, (double)b->mixed_recv),
           per(full_receives(b) - (double)b->mixed_recv, f->n_behind),
           unfair_ms,
           f->pre.secs, per(sent, f->pre.secs),
           per(f->pre.server_s * 1e6, sent),
           per((f->cpu_a + f->cpu_b) * 1e6, drained), errors_of(&f->all),
           f->secs, f->server_pct, f->self_pct, f->machine_pct);
}

/* One drain into the figures of its kind (alone or behind the flood). */
static void fair_account(struct lg_fair *f, const struct lg_phase *ph,
                         bool behind)
{
    stats_add(&f->all, &ph->st);
    stats_add(behind ? &f->drain_b : &f->drain_a, &ph->st);
    if (behind)
        f->cpu_b += ph->server_s;
    else
        f->cpu_a += ph->server_s;
    if (!ph->done)
        f->ok = false;
    else if (behind)
        f->behind[f->n_behind++] = ph->secs * 1e3;
    else
        f->alone[f->n_alone++] = ph->secs * 1e3;
}

/* The fair scenario: preload, then rounds of (small groups alone, small
 * groups behind the flood), then the report. */
static int run_fair(void)
{
    static char flood_url[512], alone_url[512];
    static struct lg_fair f;
    char base[81], name[96];
    struct lg_phase ph;
    double self0;
    long long busy0 = 0, busy1 = 0, steal0 = 0, steal1 = 0;
    long long scpu0 = -1, scpu1 = -1;
    long hz = sysconf(_SC_CLK_TCK);
    int rc = 1, mach0;
    uint64_t t0;

    memset(&f, 0, sizeof f);
    f.ok = true;
    f.server_pct = f.machine_pct = -1;
    snprintf(base, sizeof base, "%s", g_cfg.queue);
    snprintf(name, sizeof name, "%s-alone", base);
    if (fair_queue(base, flood_url) < 0)
        return 1;
    if (fair_queue(name, alone_url) < 0)
        goto out;
    g_cfg.backlog = 0;
    g_run_start = t0 = hl_now_ns();
    self0 = procstat_self_cpu_s();
    mach0 = procstat_machine_ticks(&busy0, &steal0);
    if (g_cfg.server_pid > 0)
        scpu0 = procstat_cpu_ticks(g_cfg.server_pid, 0);

    /* the flood: group 0, all of it before any small group */
    memcpy(g_cfg.queue_url, flood_url, sizeof g_cfg.queue_url);
    g_plan_total = g_cfg.flood;
    g_plan_ngroups = 1;
    g_plan_gbase = 0;
    g_small_target = 0;
    if (run_phase(g_cfg.producers, 0, 45, &f.pre) < 0 || !f.pre.done)
        f.ok = false;
    stats_add(&f.all, &f.pre.st);

    /* each round: alone (the small groups in a queue holding nothing
     * else), then behind the flood (the same, sent after it) */
    for (int r = 0; f.ok && r < 2 * g_cfg.rounds; r++) {
        const char *url = r % 2 ? flood_url : alone_url;
        if (fair_send_small(url, &ph) < 0 || !ph.done)
            f.ok = false;
        stats_add(&f.all, &ph.st);
        if (!f.ok)
            break;
        if (fair_drain(url, &ph) < 0) {
            f.ok = false;
            break;
        }
        fair_account(&f, &ph, r % 2 == 1);
    }
    f.secs = (double)(hl_now_ns() - t0) / 1e9;
    f.self_pct = (procstat_self_cpu_s() - self0) / f.secs * 100.0;
    if (mach0 == 0 && procstat_machine_ticks(&busy1, &steal1) == 0 && hz > 0)
        f.machine_pct = (double)(busy1 - busy0) / (double)hz / f.secs * 100;
    if (g_cfg.server_pid > 0)
        scpu1 = procstat_cpu_ticks(g_cfg.server_pid, 0);
    if (scpu0 >= 0 && scpu1 >= 0 && hz > 0)
        f.server_pct = (double)(scpu1 - scpu0) / (double)hz / f.secs * 100;
    report_fair(&f);
    rc = f.ok ? 0 : 1;
    if (g_cfg.delete_queue)
        queue_delete_url(alone_url);
out:
    if (g_cfg.delete_queue)
        queue_delete_url(flood_url);
    return rc;
}

/* ---- drain --------------------------------------------------------------- */

/* The drain scenario: preload g_cfg.messages with the producers alone, then
 * drain them with the consumers alone; each phase has --duration seconds. */
static int run_drain(void)
{
    struct lg_phase *pre = calloc(1, sizeof *pre), *dr = calloc(1, sizeof *dr);
    long rss_full = -1, preloaded;
    double drained;
    unsigned long long errors;
    bool capped;
    int rc = 1;

    if (!pre || !dr || queue_create() < 0)
        goto out;
    g_cfg.backlog = 0;
    g_run_start = hl_now_ns();
    g_plan_total = g_cfg.messages;
    g_plan_ngroups = 1;
    g_plan_gbase = 1;
    g_small_target = 0;
    if (run_phase(g_cfg.producers, 0, g_cfg.duration, pre) < 0)
        goto out;
    preloaded = (long)pre->st.msgs_sent;
    if (g_cfg.server_pid > 0)
        rss_full = procstat_rss_kb(g_cfg.server_pid);
    g_small_target = preloaded > 0 ? preloaded : 1;
    if (run_phase(0, g_cfg.consumers, g_cfg.duration, dr) < 0)
        goto out;
    drained = (double)dr->st.msgs_deleted;
    capped = !pre->done || !dr->done;
    errors = errors_of(&pre->st) + errors_of(&dr->st);
    printf("drain: preload %ld messages of %d bytes with %d producers x "
           "SendMessageBatch(%d), then %d consumers x ReceiveMessage(%d, "
           "wait %ds) + DeleteMessageBatch; each phase capped at %.0f s\n",
           g_cfg.messages, g_cfg.body_size, g_cfg.producers, LG_BATCH,
           g_cfg.consumers, LG_BATCH, g_cfg.wait_s, g_cfg.duration);
    printf("  preload: %ld messages in %.2f s (%.0f msgs/s)%s, server CPU "
           "%.1f us per message, server RSS then %ld KiB\n", preloaded,
           pre->secs, per((double)preloaded, pre->secs),
           pre->done ? "" : " (capped)", per(pre->server_s * 1e6,
                                             (double)preloaded), rss_full);
    printf("  drain: %.0f messages in %.2f s (%.0f msgs/s)%s, server CPU "
           "%.1f us per message; %.2f messages per non-empty receive\n",
           drained, dr->secs, per(drained, dr->secs),
           dr->done ? "" : " (capped)", per(dr->server_s * 1e6, drained),
           per((double)dr->st.msgs_recv, full_receives(&dr->st)));
    print_hist("SendMessageBatch", &pre->st.lat[CALL_SEND_BATCH]);
    print_hist("ReceiveMessage (non-empty)", &dr->st.lat[CALL_RECEIVE]);
    print_hist("DeleteMessageBatch", &dr->st.lat[CALL_DELETE_BATCH]);
    printf("  errors: preload %llu, drain %llu\n", errors_of(&pre->st),
           errors_of(&dr->st));
    if (pre->st.first_err[0] || dr->st.first_err[0])
        printf("  first error: %s\n", pre->st.first_err[0]
                                          ? pre->st.first_err
                                          : dr->st.first_err);
    printf("RESULT scenario=drain messages=%ld body=%d producers=%d "
           "consumers=%d preloaded=%ld preload_secs=%.2f "
           "preload_msgs_per_s=%.0f drained=%.0f drain_secs=%.2f "
           "drain_msgs_per_s=%.0f capped=%d preload_us_per_msg=%.1f "
           "drain_us_per_msg=%.1f rss_full_kb=%ld errors=%llu\n",
           g_cfg.messages, g_cfg.body_size, g_cfg.producers, g_cfg.consumers,
           preloaded, pre->secs, per((double)preloaded, pre->secs), drained,
           dr->secs, per(drained, dr->secs), capped ? 1 : 0,
           per(pre->server_s * 1e6, (double)preloaded),
           per(dr->server_s * 1e6, drained), rss_full, errors);
    rc = capped || errors ? 1 : 0;
    if (g_cfg.delete_queue)
        queue_delete();
out:
    free(pre);
    free(dr);
    return rc;
}

/* ---- command line -------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
        "usage: loadgen send|batch|idle|fifo|fair|drain|wait|freeport "
        "[options]\n"
        "  --host H          server address, loopback only (127.0.0.1)\n"
        "  --port P          server port (required except for freeport)\n"
        "  --queue NAME      queue to create/use (default bench-<scenario>;\n"
        "                    fifo: bench-fifo-<groups>.fifo; fair also uses\n"
        "                    NAME-alone)\n"
        "  --conns N         send: connections (64); idle: connections (1000)\n"
        "  --producers M     batch, fifo, fair: producer connections (16;\n"
        "                    fifo uses at most one per group)\n"
        "  --consumers M     batch, fifo, fair: consumer connections (16)\n"
        "  --groups N        fifo: message groups (10); fair: small groups (9)\n"
        "  --flood N         fair: messages in the flooding group (100000;\n"
        "                    rounded up to a multiple of 10)\n"
        "  --per-group N     fair: messages per small group (100)\n"
        "  --rounds N        fair: drains of each kind (5, at most 50)\n"
        "  --messages N      drain: messages to preload (1000000, rounded up\n"
        "                    to a multiple of 10)\n"
        "  --threads T       event-loop threads (1)\n"
        "  --duration S      measured seconds (send 10, batch and fifo 15,\n"
        "                    idle 20; not used by fair; drain: the cap\n"
        "                    on each phase, 300;\n"
        "                    wait: how long to keep trying, 15)\n"
        "  --warmup S        seconds before measuring (2)\n"
        "  --body-size B     message body bytes (1024, min 64)\n"
        "  --backlog N       batch: cap on sent-but-undeleted messages\n"
        "                    (2000; 0 = no cap)\n"
        "  --wait S          WaitTimeSeconds (batch, fifo, fair 1; idle 20)\n"
        "  --server-pid PID  sample this process's CPU and RSS\n"
        "  --delete-queue    delete the queue afterwards\n");
}

static int parse_scenario(const char *s)
{
    static const char *const names[SC_N] = {"send", "batch", "idle", "wait",
                                            "freeport", "fifo", "fair",
                                            "drain"};

    for (int i = 0; i < SC_N; i++)
        if (strcmp(s, names[i]) == 0) {
            g_cfg.scenario = (enum lg_scenario)i;
            snprintf(g_cfg.queue, sizeof g_cfg.queue, "bench-%s", names[i]);
            return 0;
        }
    return -1;
}

static bool valid_cfg(void)
{
    size_t qn = strlen(g_cfg.queue);

    if (!hl_is_loopback(g_cfg.host)) {
        fprintf(stderr, "loadgen: --host must be a 127.x.x.x address\n");
        return false;
    }
    if (g_cfg.scenario == SC_FIFO && qn > 5 &&
        strcmp(g_cfg.queue + qn - 5, ".fifo") == 0)
        qn -= 5; /* the rest of the name is checked like any other */
    if (qn == 0 || qn > (g_cfg.scenario == SC_FAIR ? 74 : 80) ||
        strspn(g_cfg.queue, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                            "WXYZ0123456789-_") != qn) {
        fprintf(stderr, "loadgen: bad --queue name\n");
        return false;
    }
    if (g_cfg.port <= 0 || g_cfg.port > 65535 || g_cfg.threads < 1 ||
        g_cfg.threads > LG_MAX_THREADS || g_cfg.body_size < 64 ||
        g_cfg.body_size > 262144 || g_cfg.duration <= 0 ||
        g_cfg.duration > 3600 || g_cfg.warmup < 0 || g_cfg.warmup > 600 ||
        g_cfg.wait_s < 0 || g_cfg.wait_s > 20 || g_cfg.conns < 1 ||
        g_cfg.producers < 0 || g_cfg.consumers < 0 ||
        g_cfg.groups < 1 || g_cfg.groups > LG_MAX_GROUPS ||
        (g_cfg.scenario == SC_FAIR &&
         (g_cfg.groups > 999 || g_cfg.flood < LG_BATCH ||
          g_cfg.flood > 10000000 || g_cfg.per_group < 1 ||
          g_cfg.per_group > 100000 ||
          (long)g_cfg.groups * g_cfg.per_group % LG_BATCH != 0 ||
          g_cfg.rounds < 1 || g_cfg.rounds > LG_MAX_ROUNDS ||
          g_cfg.producers < 1 || g_cfg.consumers < 1)) ||
        (g_cfg.scenario == SC_FIFO &&
         (g_cfg.producers < 1 || g_cfg.consumers < 1)) ||
        (g_cfg.scenario == SC_DRAIN &&
         (g_cfg.messages < LG_BATCH || g_cfg.messages > 100000000 ||
          g_cfg.producers < 1 || g_cfg.consumers < 1)) ||
        g_cfg.conns + g_cfg.producers + g_cfg.consumers > LG_MAX_CONNS) {
        fprintf(stderr, "loadgen: option out of range\n");
        return false;
    }
    return true;
}

static int parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"queue", 1, 0, 'q'},
        {"conns", 1, 0, 'c'}, {"producers", 1, 0, 'P'},
        {"consumers", 1, 0, 'C'}, {"threads", 1, 0, 't'},
        {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'w'},
        {"body-size", 1, 0, 'b'}, {"backlog", 1, 0, 'B'},
        {"wait", 1, 0, 'W'}, {"server-pid", 1, 0, 'S'},
        {"delete-queue", 0, 0, 'D'}, {"groups", 1, 0, 'g'},
        {"flood", 1, 0, 'F'}, {"per-group", 1, 0, 'G'},
        {"rounds", 1, 0, 'R'}, {"messages", 1, 0, 'M'}, {0, 0, 0, 0},
    };
    int o;

    if (argc < 2 || parse_scenario(argv[1]) < 0)
        return -1;
    snprintf(g_cfg.host, sizeof g_cfg.host, "127.0.0.1");
    g_cfg.threads = 1;
    g_cfg.warmup = 2;
    g_cfg.body_size = 1024;
    g_cfg.backlog = 2000;
    g_cfg.producers = g_cfg.consumers = 16;
    g_cfg.conns = g_cfg.scenario == SC_IDLE ? 1000 : 64;
    g_cfg.wait_s = g_cfg.scenario == SC_IDLE ? 20 : 1;
    g_cfg.groups = g_cfg.scenario == SC_FAIR ? 9 : 10;
    g_cfg.flood = 100000;
    g_cfg.per_group = 100;
    g_cfg.rounds = 5;
    g_cfg.messages = 1000000;
    g_cfg.duration = g_cfg.scenario == SC_SEND ? 10
                   : g_cfg.scenario == SC_IDLE ? 20
                   : g_cfg.scenario == SC_DRAIN ? 300 : 15;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h': snprintf(g_cfg.host, sizeof g_cfg.host, "%s", optarg); break;
        case 'p': g_cfg.port = atoi(optarg); break;
        case 'q': snprintf(g_cfg.queue, sizeof g_cfg.queue, "%s", optarg); break;
        case 'c': g_cfg.conns = atoi(optarg); break;
        case 'P': g_cfg.producers = atoi(optarg); break;
        case 'C': g_cfg.consumers = atoi(optarg); break;
        case 't': g_cfg.threads = atoi(optarg); break;
        case 'd': g_cfg.duration = atof(optarg); break;
        case 'w': g_cfg.warmup = atof(optarg); break;
        case 'b': g_cfg.body_size = atoi(optarg); break;
        case 'B': g_cfg.backlog = atol(optarg); break;
        case 'W': g_cfg.wait_s = atoi(optarg); break;
        case 'S': g_cfg.server_pid = atoi(optarg); break;
        case 'D': g_cfg.delete_queue = true; break;
        case 'g': g_cfg.groups = atoi(optarg); break;
        case 'F': g_cfg.flood = atol(optarg); break;
        case 'G': g_cfg.per_group = atoi(optarg); break;
        case 'R': g_cfg.rounds = atoi(optarg); break;
        case 'M': g_cfg.messages = atol(optarg); break;
        default: return -1;
        }
    }
    if (strcmp(g_cfg.host, "localhost") == 0)
        snprintf(g_cfg.host, sizeof g_cfg.host, "127.0.0.1");
    if (g_cfg.scenario == SC_FIFO) {
        size_t qn = strlen(g_cfg.queue);
        if (strcmp(g_cfg.queue, "bench-fifo") == 0)
            snprintf(g_cfg.queue, sizeof g_cfg.queue, "bench-fifo-%d.fifo",
                     g_cfg.groups);
        else if (qn < 5 || strcmp(g_cfg.queue + qn - 5, ".fifo") != 0)
            strncat(g_cfg.queue, ".fifo", sizeof g_cfg.queue - qn - 1);
    }
    if (g_cfg.flood % LG_BATCH)
        g_cfg.flood += LG_BATCH - g_cfg.flood % LG_BATCH;
    if (g_cfg.messages % LG_BATCH)
        g_cfg.messages += LG_BATCH - g_cfg.messages % LG_BATCH;
    return valid_cfg() || g_cfg.scenario == SC_FREEPORT ? 0 : -1;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
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
    raise_fd_limit();
    if (g_cfg.scenario == SC_WAIT)
        return wait_healthy();
    /* the run's deduplication ids differ from any earlier run's */
    snprintf(g_nonce, sizeof g_nonce, "%08x",
             (unsigned)(time(NULL) ^ ((unsigned)getpid() << 16)));
    if (g_cfg.scenario == SC_FAIR)
        return run_fair();
    if (g_cfg.scenario == SC_DRAIN)
        return run_drain();
    return run_scenario();
}
