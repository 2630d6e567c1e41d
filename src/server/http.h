/*
 * http.h - the HTTP front: one libevent evhttp listener on one port for
 * every service.  It routes each request to a service and action by its
 * X-Amz-Target header, its Action parameter or its SigV4 credential scope
 * (and the Scheduler's REST-JSON requests by method and path),
 * decodes it into an api_call, and renders the handler's result in the
 * protocol the request came in.
 *
 * Each listener keeps at most limits->max_connections connections open: at
 * the limit it stops accepting (new clients wait in the kernel's backlog)
 * until one closes.  A request must arrive whole within
 * limits->request_timeout seconds of its first byte (a new connection's
 * first request: of the connection's accept), or its connection is closed,
 * so a client that dribbles bytes holds a connection only that long.
 */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "wire/api.h"

typedef struct http_server http_server;

typedef struct http_config {
    const char *host;
    int port;
    const char *region;
    const char *account;
    size_t max_body_bytes;
    /* Keys whose signatures are verified (not owned; outlives the
     * server), or NULL: any signature is accepted. */
    const struct cred_store *credentials;
    /* max_connections (per listener) and request_timeout (not owned;
     * outlives the server), or NULL: the defaults. */
    const struct limits *limits;
} http_config;

/* Binds and starts serving on base.  NULL (with a logged reason) on failure. */
http_server *http_server_start(struct event_base *base, const http_config *cfg);
/* A plain GET resource the server serves beside the APIs (a certificate,
 * say): fills out with the body and sets *content_type. */
typedef void (*http_raw_fn)(void *ctx, buf *out, const char **content_type);
/* Serves GET path with fn (the path is copied; ctx is not owned). */
void http_server_add_raw(http_server *srv, const char *path, http_raw_fn fn, void *ctx);

/* Registers a service (not owned). */
void http_server_add_service(http_server *srv, api_service *svc);
/* Also serves every API over TLS (1.2 or later) on host:port, with the PEM
 * certificate chain and key in the given files.  0, or -1 (logged). */
int http_server_listen_tls(http_server *srv, const char *host, int port, const char *cert,
                           const char *key);
/* Stops accepting connections; calls in progress still finish. */
void http_server_stop_accepting(http_server *srv);
/* Calls started and not yet answered. */
size_t http_server_outstanding(const http_server *srv);
/* Client connections open now, over both listeners. */
size_t http_server_connections(const http_server *srv);
void http_server_free(http_server *srv);

#endif
