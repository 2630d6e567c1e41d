/*
 * tls_ca.h - the CA bundle trusted for outbound HTTPS (serve --ca-file).
 *
 * Outbound HTTPS (SNS HTTP/S subscriptions, EventBridge API destinations)
 * verifies the endpoint's certificate and host name, against the system's
 * CA store by default; with --ca-file against the certificates of that PEM
 * file only.  This checks the file once at start.  Pure function; no state.
 */
#ifndef SLUICE_TLS_CA_H
#define SLUICE_TLS_CA_H

#include <stddef.h>

/* Reads path as a PEM bundle: returns the number of certificates in it
 * (at least 1), or -1 with a reason in err (unreadable, no certificate,
 * a damaged one). */
int tls_ca_file_check(const char *path, char *err, size_t errlen);

#endif
