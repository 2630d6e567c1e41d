/*
 * sigv4.h - AWS Signature Version 4: parsing the credential scope, and
 * verifying a request's signature.
 *
 * Every SDK signs its requests.  The credential scope names the access key,
 * the date, the region and the service; the router uses the service to
 * route Query requests.  Verification rebuilds what the client signed from
 * the request as received: the canonical request (method, path, query,
 * the signed headers, the payload hash), the string to sign, and the HMAC
 * key chain derived from the secret, then compares signatures in constant
 * time.  Both forms are handled: the Authorization header, and a presigned
 * URL (X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
 * -Signature in the query string).
 *
 * The canonical request follows the rules for every service but S3: the
 * path is normalised (dot segments and empty segments removed) and encoded
 * again; query parameters are decoded, re-encoded with the strict RFC 3986
 * set and sorted; header values are trimmed with inner runs of spaces
 * folded.  Nothing here keeps state or knows secrets beyond one call.
 */
#ifndef SLUICE_SIGV4_H
#define SLUICE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_MAX_SKEW_S (15 * 60)
#define SIGV4_MAX_EXPIRES_S 604800

typedef struct sigv4_scope {
    char access_key[129];
    char date[9];
    char region[33];
    char service[33];
} sigv4_scope;

/* Parses an Authorization header ("AWS4-HMAC-SHA256 Credential=AK/date/
 * region/service/aws4_request, SignedHeaders=..., Signature=...") or the
 * value of a presigned X-Amz-Credential parameter ("AK/date/region/service/
 * aws4_request").  Returns true and fills scope if it is well-formed. */
bool sigv4_parse_authorization(const char *header, sigv4_scope *scope);
bool sigv4_parse_credential(const char *credential, sigv4_scope *scope);

/* One request header as received (name in any case; repeated headers are
 * separate entries, in the order received). */
typedef struct sigv4_header {
    const char *name;
    const char *value;
} sigv4_header;

/* A request as received, borrowed for the duration of a call. */
typedef struct sigv4_request {
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* as on the request line, still encoded */
    const char *query;           /* raw query string without '?', or NULL */
    const sigv4_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
} sigv4_request;

typedef enum sigv4_status {
    SIGV4_OK,
    SIGV4_MISSING,      /* neither an Authorization header nor X-Amz-Algorithm */
    SIGV4_INCOMPLETE,   /* present but malformed or lacking a part */
    SIGV4_MISMATCH,     /* the signature (or payload hash) does not match */
    SIGV4_EXPIRED,      /* outside the clock-skew window or past X-Amz-Expires */
} sigv4_status;

/* What a request claims: filled by sigv4_parse_request. */
typedef struct sigv4_auth {
    sigv4_scope scope;
    bool presigned;
    char amz_date[17];           /* yyyymmddThhmmssZ */
    int64_t when;                /* amz_date in seconds since the epoch */
    long expires;                /* X-Amz-Expires of a presigned URL, else 0 */
    char signed_headers[1024];   /* "host;x-amz-date" */
    char signature[65];          /* lowercase hex */
} sigv4_auth;

/* Reads the signature parts of req into auth.  Returns SIGV4_OK,
 * SIGV4_MISSING when the request carries no signature at all, or
 * SIGV4_INCOMPLETE with a reason in msg (AWS's wording where known).
 * auth->scope.access_key is filled whenever a credential could be read,
 * even if another part is missing. */
sigv4_status sigv4_parse_request(const sigv4_request *req, sigv4_auth *auth, char *msg,
                                 size_t msglen);

/* Appends the canonical request of req (as signed per auth) to out.
 * Returns 0, or -1 if a signed header is absent from the request or the
 * path or query cannot be decoded. */
int sigv4_canonical_request(const sigv4_request *req, const sigv4_auth *auth, buf *out);

/* Appends the string to sign for a canonical request to out. */
void sigv4_string_to_sign(const sigv4_auth *auth, const char *canonical, size_t len,
                          buf *out);

/* The signature (64 lowercase hex digits and NUL) of string_to_sign with
 * the key derived from secret and auth's scope. */
void sigv4_sign(const char *secret, const sigv4_scope *scope, const char *string_to_sign,
                size_t len, char out[65]);

/* Verifies a parsed request against secret at time now_s (seconds since
 * the epoch): the date window (15 minutes either way; a presigned URL also
 * expires X-Amz-Expires seconds after its date), the credential's date
 * against X-Amz-Date, a declared x-amz-content-sha256 against the body,
 * and the signature (compared in constant time).  Returns SIGV4_OK or the
 * failure with AWS's message in msg. */
sigv4_status sigv4_verify(const sigv4_request *req, const sigv4_auth *auth, const char *secret,
                          int64_t now_s, char *msg, size_t msglen);

/* Parses "yyyymmddThhmmssZ" (or an RFC 1123 date when rfc1123 is true)
 * into seconds since the epoch.  Returns false if malformed. */
bool sigv4_parse_date(const char *text, bool rfc1123, int64_t *out);

#endif
