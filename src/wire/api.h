/*
 * api.h - one API call, independent of the protocol it came in.
 *
 * The router decodes a request (Query form or AWS JSON) into `input`, a
 * jansson object shaped like the JSON protocol's request (Query parameters
 * are converted by wire/query.c).  The service's handler reads it through
 * the param_* accessors, which apply each protocol's typing rules, and
 * either sets `output` (an object shaped like the JSON response) or an
 * error.  The wire layer renders the result in the caller's protocol.
 *
 * A handler that must wait (for a commit, or a long poll) returns
 * API_PENDING and later calls api_finish() exactly once.
 */
#ifndef SLUICE_API_H
#define SLUICE_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/errors.h"

typedef enum wire_protocol {
    WIRE_QUERY,     /* form-encoded in, XML out */
    WIRE_JSON10,    /* AWS JSON 1.0 */
    WIRE_JSON11,    /* AWS JSON 1.1 */
    WIRE_REST_JSON, /* REST-JSON */
} wire_protocol;

typedef enum api_status { API_DONE, API_PENDING } api_status;

typedef struct api_call api_call;
typedef void (*api_finish_fn)(api_call *call);

struct api_call {
    wire_protocol protocol;
    const struct api_service *service;
    char action[64];
    char request_id[37];
    json_t *input;           /* owned; never NULL once decoded */
    json_t *output;          /* owned; NULL until the handler sets it */
    aws_error_id error;
    char *error_message;     /* owned; set together with has_error */
    bool has_error;

    const char *host;        /* Host header, for URLs we hand out */
    const char *path;        /* request path (queue URL path in the Query protocol) */
    const char *account;     /* the caller's account */
    const char *region;
    const char *access_key;  /* from the SigV4 credential scope, or "" */
    bool tls;                /* it came over the TLS listener */
    const char *trace_header; /* the X-Amzn-Trace-Id header, or NULL */
    /* Unsigned although keys are configured: let through only for the
     * links SNS hands endpoints (ConfirmSubscription, Unsubscribe). */
    bool anonymous;
    /* An unsigned GET of one of those links, whether or not keys are
     * configured (SNS: ConfirmationWasAuthenticated stays false). */
    bool unsigned_link;
    /* The verified identity's allow list (borrowed from the server's
     * credentials, see core/policy.h), or NULL: no restriction beyond the
     * caller's own account. */
    const json_t *allow;

    api_finish_fn finish;    /* set by the server: renders and sends */
    /* Set by a handler while the call is parked (a long poll): the server
     * calls it if the client goes away, then frees the call unanswered. */
    void (*cancel)(api_call *call);
    void *server_data;
    void *handler_data;      /* free for the handler while pending */
};

typedef api_status (*api_handler_fn)(api_call *call);

typedef struct api_action {
    const char *name;
    api_handler_fn handler;
} api_action;

/* A service: its actions and how its protocols name things. */
typedef struct api_service {
    const char *name;            /* "sqs" */
    const char *json_target;     /* X-Amz-Target prefix, e.g. "AmazonSQS" */
    const char *json_type_ns;    /* __type namespace, e.g. "com.amazonaws.sqs" */
    const char *xml_namespace;   /* Query responses */
    /* awsQueryCompatible (SQS): JSON errors also carry the Query error
     * code in x-amzn-query-error, which the SDKs prefer to __type. */
    bool query_compatible;
    const struct query_rules *query_rules;
    const api_action *actions;   /* NULL-terminated */
    void *ctx;                   /* the service's state, owned by it */
    /* The error a call gets when its commit fails (a full disk, say). */
    aws_error_id commit_error;
    const char *commit_message;
    /* Where the service commits, or NULL: while it is full, calls that
     * would write are refused (api_refuse_write). */
    struct store *store;
} api_service;

const api_action *api_find_action(const api_service *svc, const char *name);

/* Whether an action only reads: Get*, List*, Describe*, Test*, and SQS's
 * ReceiveMessage (a read in IAM's terms; its delivery-state change is kept
 * in memory and reaches the disk when it can, docs/durability.md). */
bool api_action_reads(const char *name);
/* Before a handler runs: if the service's store is full and the action
 * writes, sets the service's commit_error (SQS ServiceUnavailable 503, the
 * others' internal error) and returns true; the handler must not run, so
 * nothing in memory changes that could not be stored. */
bool api_refuse_write(api_call *call);

struct store;
struct store_batch;
/* Commits b and answers the call from the commit's completion, so the
 * answer never leaves before the change is durable; a failed commit
 * answers with the service's commit_error.  An empty batch answers at once.
 * Takes ownership of b; returns what the handler returns. */
api_status api_commit_and_finish(api_call *call, struct store *st, struct store_batch *b);

/* Sets the call's error; returns API_DONE so handlers can `return api_fail(...)`. */
api_status api_fail(api_call *call, aws_error_id err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Completes a pending call (renders and sends the response). */
void api_finish(api_call *call);
/* The output object, created on first use. */
json_t *api_out(api_call *call);

/* Replaces NUL bytes in every string of the input (values, and map keys the
 * Query decoder built) by 0x01, except in the members that carry message
 * content (MessageBody, Message, StringValue), whose own validation reports
 * the character.  A C string can then never be silently cut short: a name,
 * id or handle with a NUL in it fails its own validation like any other bad
 * character. */
void api_sanitize_nul(json_t *input);

/* --- typed access to input parameters ---------------------------------
 * Each returns 1 if present and valid (value stored), 0 if absent, and -1 if
 * present but of the wrong type (the call's error is then set: in the JSON
 * protocols a SerializationException, in Query an InvalidParameterValue). */
int param_str(api_call *call, json_t *obj, const char *name, const char **out, size_t *len);
int param_int(api_call *call, json_t *obj, const char *name, long long *out);
int param_bool(api_call *call, json_t *obj, const char *name, bool *out);
/* A list of strings: returns the array (borrowed) or NULL if absent. */
int param_str_list(api_call *call, json_t *obj, const char *name, json_t **out);
/* A map of string to string (Attributes, Tags). */
int param_str_map(api_call *call, json_t *obj, const char *name, json_t **out);
/* A list or map of objects (Entries, MessageAttributes): type-checked only. */
int param_list(api_call *call, json_t *obj, const char *name, json_t **out);
int param_object(api_call *call, json_t *obj, const char *name, json_t **out);

#endif
