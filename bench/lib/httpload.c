/*
 * httpload.c - HTTP/1.1 client machinery for the bench load generators (see
 * httpload.h).
 *
 * The parser handles what sluice and the other servers compared send:
 * Content-Length or chunked bodies (no trailers), keep-alive unless
 * "Connection: close" or HTTP/1.0.  Every loop is bounded (header lines,
 * chunks, reads and writes per call) and buffers have caps, so a broken
 * server cannot hang or exhaust a generator.
 */
#include "httpload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HL_IN_FIRST 16384 /* first receive buffer of a connection */

/* ---- time ---------------------------------------------------------------- */

uint64_t hl_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void hl_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull),
                          (long)(ns % 1000000000ull)};

    nanosleep(&ts, NULL);
}

/* ---- parsing ------------------------------------------------------------- */

bool hl_header_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);

    return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

/* Chunked body at p (n bytes available): returns the encoded length when
 * complete, 0 when more is needed, -1 when malformed. Decodes in place into
 * p when decode is set (*out_len gets the decoded length). */
static long http_chunked(char *p, size_t n, bool decode, size_t *out_len)
{
    size_t pos = 0, out = 0;

    for (int guard = 0; guard < 1000000; guard++) {
        char *end = memmem(p + pos, n - pos, "\r\n", 2), *q;
        unsigned long sz;

        if (!end)
            return 0;
        sz = strtoul(p + pos, &q, 16);
        if (q == p + pos)
            return -1;
        pos = (size_t)(end - p) + 2;
        if (sz == 0) {
            /* no trailers supported: expect the final CRLF */
            if (n - pos < 2)
                return 0;
            if (memcmp(p + pos, "\r\n", 2) != 0)
                return -1;
            if (out_len)
                *out_len = out;
            return (long)(pos + 2);
        }
        if (n - pos < sz + 2)
            return 0;
        if (decode)
            memmove(p + out, p + pos, sz);
        out += sz;
        pos += sz + 2;
    }
    return -1;
}

int hl_parse(char *buf, size_t len, struct hl_resp *r)
{
    char *hend = memmem(buf, len, "\r\n\r\n", 4), *line;
    long clen = -1;
    bool chunked = false;
    size_t hlen;

    if (!hend)
        return len > 65536 ? -1 : 0;
    hlen = (size_t)(hend - buf) + 4;
    memset(r, 0, sizeof *r);
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0)
        return -1;
    r->status = atoi(buf + 9);
    r->close = memcmp(buf, "HTTP/1.0", 8) == 0;
    line = (char *)memmem(buf, hlen, "\r\n", 2) + 2;
    for (int guard = 0; guard < 1000 && line < hend + 2; guard++) {
        char *eol = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
        size_t n;
        if (!eol)
            break;
        n = (size_t)(eol - line);
        if (hl_header_is(line, n, "content-length"))
            clen = strtol(line + 15, NULL, 10);
        else if (hl_header_is(line, n, "transfer-encoding") &&
                 memmem(line, n, "chunked", 7))
            chunked = true;
        else if (hl_header_is(line, n, "connection") &&
                 memmem(line, n, "close", 5))
            r->close = true;
        line = eol + 2;
    }
    r->body = buf + hlen;
    if (chunked) {
        long used = http_chunked(r->body, len - hlen, false, NULL);
        if (used <= 0)
            return (int)used;
        http_chunked(r->body, len - hlen, true, &r->body_len);
        r->consumed = hlen + (size_t)used;
        return 1;
    }
    if (clen < 0) {
        if (r->status == 204 || r->status == 304 || r->status < 200)
            clen = 0;
        else
            return -1; /* read-until-close bodies are not supported */
    }
    if (len - hlen < (size_t)clen)
        return 0;
    r->body_len = (size_t)clen;
    r->consumed = hlen + (size_t)clen;
    return 1;
}

/* ---- addresses and blocking calls ---------------------------------------- */

bool hl_is_loopback(const char *host)
{
    struct in_addr a;

    return inet_pton(AF_INET, host, &a) == 1 &&
           (ntohl(a.s_addr) >> 24) == 127;
}

int hl_connect(const char *host, int port, bool nonblock)
{
    struct sockaddr_in sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

int hl_once(const char *host, int port, const char *req, size_t req_len,
            int timeout_s, size_t max, char **out)
{
    struct timeval tv = {timeout_s, 0};
    size_t len = 0, off = 0;
    char *buf = NULL;
    int fd, status = -1;
    struct hl_resp r;

    *out = NULL;
    fd = hl_connect(host, port, false);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (off < req_len) {
        ssize_t w = write(fd, req + off, req_len - off);
        if (w <= 0)
            goto done;
        off += (size_t)w;
    }
    buf = malloc(max + 1);
    while (buf && len < max) {
        ssize_t n = read(fd, buf + len, max - len);
        int rc;
        if (n <= 0)
            break;
        len += (size_t)n;
        rc = hl_parse(buf, len, &r);
        if (rc < 0)
            break;
        if (rc == 1) {
            memmove(buf, r.body, r.body_len);
            buf[r.body_len] = '\0';
            *out = buf;
            buf = NULL;
            status = r.status;
            break;
        }
    }
done:
    free(buf);
    close(fd);
    return status;
}

bool hl_wait_healthy(const char *host, int port, double secs)
{
    char req[256];
    uint64_t end = hl_now_ns() + (uint64_t)(secs * 1e9);
    int n = snprintf(req, sizeof req,
                     "GET /_sluice/health HTTP/1.1\r\nHost: %s:%d\r\n"
                     "Connection: close\r\n\r\n", host, port);

    if (n < 0 || (size_t)n >= sizeof req)
        return false;
    for (int i = 0; i < 100000 && hl_now_ns() < end; i++) {
        char *body = NULL;
        int status = hl_once(host, port, req, (size_t)n, 5, 1u << 16, &body);
        free(body);
        if (status == 200)
            return true;
        hl_sleep_ns(100000000ull);
    }
    return false;
}

int hl_free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int port, fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* ---- non-blocking connections -------------------------------------------- */

int hl_io_open(struct hl_io *io, int ep, void *owner, const char *host,
               int port, uint64_t deadline)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = owner};

    io->fd = hl_connect(host, port, true);
    if (io->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, io->fd, &ev) < 0)
        return -1;
    io->want_out = true;
    io->deadline = deadline;
    return 0;
}

void hl_io_close(struct hl_io *io, int ep)
{
    if (io->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, io->fd, NULL);
        close(io->fd);
    }
    io->fd = -1;
    io->want_out = false;
    io->in_len = 0;
}

static void io_interest(struct hl_io *io, int ep, void *owner, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u),
                             .data.ptr = owner};

    if (io->want_out == out)
        return;
    epoll_ctl(ep, EPOLL_CTL_MOD, io->fd, &ev);
    io->want_out = out;
}

/* Sends more of the current request; EPOLLOUT is wanted while some is
 * left. */
static void io_write(struct hl_io *io, int ep, void *owner,
                     const struct hl_handler *h, uint64_t now)
{
    for (int i = 0; i < 1000 && io->out_off < io->out_len; i++) {
        ssize_t n = send(io->fd, io->out + io->out_off,
                         io->out_len - io->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            h->fail(owner, now, HL_FAIL_SOCKET);
            return;
        }
        io->out_off += (size_t)n;
    }
    io_interest(io, ep, owner, io->out_off < io->out_len);
    if (io->out_off == io->out_len && h->sent)
        h->sent(owner, now);
}

void hl_io_send(struct hl_io *io, int ep, void *owner,
                const struct hl_handler *h, const char *buf, size_t len,
                uint64_t now, uint64_t deadline)
{
    io->out = buf;
    io->out_len = len;
    io->out_off = 0;
    io->t_issue = now;
    io->deadline = deadline;
    io_write(io, ep, owner, h, now);
}

/* Reads and parses what the socket has: 1 with *r filled, 0 to wait for
 * more, -1 with *why set. */
static int io_read(struct hl_io *io, size_t in_max, bool busy,
                   struct hl_resp *r, enum hl_fail *why)
{
    for (int i = 0; i < 64; i++) {
        ssize_t n;
        int rc;
        if (io->in_cap - io->in_len < 4096) {
            size_t ncap = io->in_cap ? io->in_cap * 2 : HL_IN_FIRST;
            char *p = ncap <= in_max ? realloc(io->in, ncap) : NULL;
            if (!p) {
                *why = HL_FAIL_TOO_BIG;
                return -1;
            }
            io->in = p;
            io->in_cap = ncap;
        }
        n = recv(io->fd, io->in + io->in_len, io->in_cap - io->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        *why = n <= 0 ? HL_FAIL_SOCKET : HL_FAIL_UNASKED;
        if (n <= 0 || !busy)
            return -1;
        io->in_len += (size_t)n;
        rc = hl_parse(io->in, io->in_len, r);
        *why = HL_FAIL_MALFORMED;
        if (rc < 0)
            return -1;
        if (rc == 1) {
            *why = HL_FAIL_EXTRA;
            if (r->consumed != io->in_len)
                return -1;
            io->in_len = 0;
            return 1;
        }
    }
    return 0;
}

void hl_io_event(struct hl_io *io, int ep, void *owner, uint32_t ev,
                 bool connecting, bool busy, size_t in_max,
                 const struct hl_handler *h, uint64_t now)
{
    struct hl_resp r;
    enum hl_fail why = HL_FAIL_SOCKET;
    int rc;

    if (connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (ev & (EPOLLERR | EPOLLHUP))) {
            h->fail(owner, now, HL_FAIL_SOCKET);
            return;
        }
        io_interest(io, ep, owner, false);
        h->ready(owner, now);
        return;
    }
    if ((ev & EPOLLOUT) && busy && io->out_off < io->out_len)
        io_write(io, ep, owner, h, now);
    if (io->fd < 0 || !(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    rc = io_read(io, in_max, busy, &r, &why);
    if (rc > 0)
        h->response(owner, &r, now);
    else if (rc < 0)
        h->fail(owner, now, why);
}
