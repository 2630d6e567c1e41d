/*
 * credentials.h - the access keys sluice accepts, and checking a request's
 * signature against them.
 *
 * `sluice serve --credentials FILE` reads a JSON array of identities:
 *   [{"accessKeyId": "AKIA...", "secretAccessKey": "...",
 *     "accountId": "111122223333",
 *     "allow": [{"actions": ["sqs:*"], "resources": ["arn:aws:sqs:*:111122223333:*"]}]}]
 * "allow" is optional: without it the key may do everything in its own
 * account (core/policy.h says how lists match).  The store is read once at
 * start and is immutable afterwards, so the event-loop thread may read it
 * without locks; it owns its strings and JSON.
 *
 * cred_check_request() is the HTTP front's hook: it reads the request's
 * SigV4 signature (header or presigned URL), finds the key and verifies
 * the signature, and names the AWS error of a failure.
 */
#ifndef SLUICE_CREDENTIALS_H
#define SLUICE_CREDENTIALS_H

#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/errors.h"

typedef struct cred_identity {
    char *access_key;
    char *secret;
    char *account;
    json_t *allow;   /* a validated allow list, or NULL: everything in its account */
} cred_identity;

typedef struct cred_store cred_store;

/* Parses the JSON text of a credentials file.  Returns a new store (owned
 * by the caller, freed with cred_store_free), or NULL with a reason in err
 * (never quoting a secret). */
cred_store *cred_store_parse(const char *text, size_t len, char *err, size_t errlen);
/* Reads and parses the file at path; NULL with a reason in err. */
cred_store *cred_store_load(const char *path, char *err, size_t errlen);
/* The identity of an access key (borrowed from the store), or NULL. */
const cred_identity *cred_store_find(const cred_store *s, const char *access_key);
size_t cred_store_count(const cred_store *s);
void cred_store_free(cred_store *s);

/* The outcome of checking one request. */
typedef struct cred_result {
    const cred_identity *identity;  /* set on success (borrowed from the store) */
    aws_error_id error;             /* set on failure */
    char message[512];              /* the error's message */
} cred_result;

/* Verifies the signature of req (whose body is body[0..len)) at now_s
 * seconds since the epoch against the keys of s.  json_protocol picks the
 * wording AWS's JSON services use for a missing signature.  Returns 0 with
 * out->identity set, or -1 with out->error and out->message set:
 * missing signature, malformed signature, unknown key, wrong signature,
 * or a date outside the allowed window. */
int cred_check_request(const cred_store *s, struct evhttp_request *req, const void *body,
                       size_t len, int64_t now_s, bool json_protocol, cred_result *out);

#endif
