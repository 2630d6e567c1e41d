/*
 * httpload.h - the HTTP/1.1 client machinery shared by the bench load
 * generators (bench/loadgen.c, bench/fanout/fanout.c): a monotonic clock,
 * a response parser, loopback-only TCP connects, a blocking one-shot call,
 * and the byte-moving half of a non-blocking keep-alive connection driven by
 * a level-triggered epoll loop.
 *
 * What stays in each program is what differs between them: how requests are
 * built (SQS JSON vs Query/EventBridge), what a connection does next, and
 * which error counter a failure goes to.  So the connection functions here
 * only move bytes and parse, and hand each outcome (connected, request sent,
 * response, failure and why) to the owner's struct hl_handler callbacks.
 *
 * A struct hl_io belongs to one connection and is used by one thread at a
 * time (its owner's event loop).  Nothing here keeps global state.  Only
 * 127.x.x.x addresses are meant to be used: hl_is_loopback checks a host,
 * and the programs refuse any other before connecting.
 */
#ifndef BENCH_HTTPLOAD_H
#define BENCH_HTTPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time ---- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hl_now_ns(void);

/* Sleeps ns nanoseconds (an interrupted sleep ends early). */
void hl_sleep_ns(uint64_t ns);

/* ---- responses ---- */

struct hl_resp {
    int status;
    char *body;      /* inside the parsed buffer */
    size_t body_len;
    size_t consumed; /* bytes of the input this response used */
    bool close;      /* the server will close the connection */
};

/* Whether the header line at line (n bytes, no CRLF) is named name (lower
 * case), compared without regard to case. */
bool hl_header_is(const char *line, size_t n, const char *name);

/* Parses one response from buf (len bytes).  Returns 1 when complete (r
 * filled), 0 when more bytes are needed, -1 when malformed or of a kind not
 * supported (read-until-close bodies, headers over 64 KiB).  A chunked body
 * is decoded in place, so buf must stay unchanged between calls until 1 is
 * returned. */
int hl_parse(char *buf, size_t len, struct hl_resp *r);

/* ---- addresses and blocking calls ---- */

/* Whether host is a dotted IPv4 address in 127.0.0.0/8. */
bool hl_is_loopback(const char *host);

/* A TCP socket (TCP_NODELAY) connecting to host:port, host a dotted IPv4
 * address.  With nonblock the connect may still be in progress.  Returns
 * the descriptor (the caller closes it), or -1. */
int hl_connect(const char *host, int port, bool nonblock);

/* Sends the complete request req (req_len bytes) over a new blocking
 * connection with timeout_s send and receive timeouts, and reads one
 * response of at most max bytes.  Returns the HTTP status, or -1; *out gets
 * the body as a new NUL-terminated string the caller frees (NULL on
 * failure). */
int hl_once(const char *host, int port, const char *req, size_t req_len,
            int timeout_s, size_t max, char **out);

/* Polls GET /_sluice/health on host:port every 100 ms until it answers 200
 * (true) or secs have passed (false). */
bool hl_wait_healthy(const char *host, int port, double secs);

/* A TCP port on 127.0.0.1 that is free at the time of the call, or -1
 * (errno set). */
int hl_free_port(void);

/* ---- non-blocking connections ---- */

/* The I/O state of one keep-alive connection with one call in flight.  The
 * owner zeroes it and sets fd to -1 before first use; in (the receive
 * buffer, grown up to the owner's cap) is the owner's to free. */
struct hl_io {
    int fd;
    bool want_out;     /* EPOLLOUT registered */
    const char *out;   /* the request being sent (owned by the caller) */
    size_t out_len;
    size_t out_off;
    char *in;
    size_t in_len;
    size_t in_cap;
    uint64_t t_issue;  /* when the call in flight was issued */
    uint64_t deadline; /* when the connect or the call times out */
};

/* Why a connection failed; the owner picks the error counter. */
enum hl_fail {
    HL_FAIL_SOCKET,    /* connect, send or receive error, or EOF */
    HL_FAIL_UNASKED,   /* bytes arrived while no call was in flight */
    HL_FAIL_TOO_BIG,   /* the response would exceed the buffer cap */
    HL_FAIL_MALFORMED, /* hl_parse refused the response */
    HL_FAIL_EXTRA      /* bytes beyond the one response asked for */
};

/* What the owner does when its connection moves on.  Each gets the owner
 * pointer given with the event.  fail must close the connection (by
 * hl_io_close); sent may be NULL. */
struct hl_handler {
    void (*ready)(void *owner, uint64_t now);     /* connected */
    void (*sent)(void *owner, uint64_t now);      /* request all written */
    void (*response)(void *owner, const struct hl_resp *r, uint64_t now);
    void (*fail)(void *owner, uint64_t now, enum hl_fail why);
};

/* Starts a non-blocking connect to host:port and registers it with epoll ep
 * for EPOLLIN|EPOLLOUT with data.ptr = owner; io->deadline = deadline.
 * Returns 0, or -1 (io->fd may then hold a descriptor: the owner closes it
 * with hl_io_close). */
int hl_io_open(struct hl_io *io, int ep, void *owner, const char *host,
               int port, uint64_t deadline);

/* Unregisters and closes the socket (if any); forgets buffered input. */
void hl_io_close(struct hl_io *io, int ep);

/* Issues a call: buf (len bytes, kept alive by the caller until the call
 * ends) becomes the request, io->t_issue = now, io->deadline = deadline,
 * and what the socket takes is sent.  h->sent runs when all of it is out,
 * h->fail on a socket error. */
void hl_io_send(struct hl_io *io, int ep, void *owner,
                const struct hl_handler *h, const char *buf, size_t len,
                uint64_t now, uint64_t deadline);

/* Handles epoll events ev on the connection.  connecting: a connect is in
 * progress (h->ready or h->fail follows); busy: a call is in flight.  Sends
 * more of the request when the socket takes it, and reads what it has (into
 * io->in, grown by doubling from 16 KiB up to in_max bytes, a bounded number
 * of reads); a complete response goes to h->response (r->body points into
 * io->in until the next read), a failure to h->fail. */
void hl_io_event(struct hl_io *io, int ep, void *owner, uint32_t ev,
                 bool connecting, bool busy, size_t in_max,
                 const struct hl_handler *h, uint64_t now);

#endif
