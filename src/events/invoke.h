/*
 * invoke.h - the pure parts of an API destination invocation: which
 * headers, query string and body a request carries (the target's
 * HttpParameters merged with the connection's InvocationHttpParameters),
 * how a Retry-After answer changes the retry schedule, and the OAuth
 * client-credentials token request and answer.
 *
 * No I/O and no service state, so tests/unit/events/test_invoke.c drives
 * them directly; deliver.c and apidest.c do the sending.
 */
#ifndef SLUICE_EVENTS_INVOKE_H
#define SLUICE_EVENTS_INVOKE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The parts of one request. */
typedef struct events_invocation {
    json_t *headers;    /* object: header name -> value (names unique ignoring case) */
    json_t *query;      /* array of [key, value] pairs, in order */
    char *body;         /* malloc'd */
} events_invocation;

/*
 * Builds the request for payload: Content-Type application/json, then the
 * target's HttpParameters (HeaderParameters and QueryStringParameters,
 * objects), then the connection's InvocationHttpParameters (lists of
 * {Key, Value, IsValueSecret}), whose values win over the target's
 * ("In case of any conflicting keys, values from the Connection take
 * precedence."; header names compare ignoring case).  The connection's
 * BodyParameters are set as members of a payload that is a JSON object
 * (other payloads are sent as they are).  conn and target may be NULL.
 */
void events_invocation_build(json_t *conn_params, json_t *target_params, const char *payload,
                             events_invocation *out);
/* Sets header name to value in headers, replacing any of the same name in
 * another case. */
void events_header_set(json_t *headers, const char *name, const char *value);
/* The URL: each '*' of endpoint replaced by the next of path_values
 * (percent-encoded), then the query pairs appended.  Caller frees. */
char *events_invocation_url(const char *endpoint, json_t *path_values, json_t *query);
void events_invocation_free(events_invocation *inv);

/* Parses a Retry-After value given in seconds (an optionally signed
 * integer, surrounding blanks allowed) into *secs; false if it is not one
 * (an HTTP date, say, which sluice does not honour). */
bool events_retry_after_parse(const char *value, long long *secs);

/* The schedule after a failed, retryable attempt. */
typedef struct events_retry_in {
    int attempts;              /* attempts made, the failed one included */
    int64_t retries_allowed;   /* RetryPolicy.MaximumRetryAttempts */
    int64_t age_allowed_ms;    /* RetryPolicy.MaximumEventAgeInSeconds, in ms */
    int64_t first_ms, now_ms;  /* when the event was accepted; now */
    bool has_retry_after;      /* the answer (429 or 5xx) had Retry-After seconds */
    long long retry_after_s;
    uint32_t random;           /* jitter */
} events_retry_in;

/*
 * Returns NULL and the wait before the next attempt in *wait_ms, or the
 * EXHAUSTED_RETRY_CONDITION that ends the delivery: "MaximumRetryAttempts"
 * when the attempts are spent or Retry-After is negative (AWS stops
 * retrying), "MaximumEventAgeInSeconds" when the next attempt would come
 * after the event's age limit.  Without a positive Retry-After the wait is
 * the exponential backoff: 1 s doubling per attempt to a 5 minute cap,
 * drawn between half and all of it.
 */
const char *events_retry_next(const events_retry_in *in, int64_t *wait_ms);

/*
 * The OAuth client-credentials token request for a connection's
 * OAuthParameters: the endpoint's URL with the OAuthHttpParameters query
 * (and, for GET, the body parameters), headers (Basic client credentials,
 * form Content-Type, OAuthHttpParameters headers) and a form body with
 * grant_type=client_credentials unless a body parameter sets it.
 * Returns false if OAuthParameters lack the endpoint or client.
 */
bool events_oauth_request(json_t *oauth, char **url, json_t **headers, char **body);
/* The access_token (and expires_in seconds, 0 if absent) of a token
 * answer's JSON body; NULL if there is none.  Caller frees. */
char *events_oauth_token(const char *body, long long *expires_in);

/* A copy of an InvocationHttpParameters / OAuthHttpParameters object as
 * Describe shows it: Value left out where IsValueSecret is true. */
json_t *events_http_params_view(json_t *params);
/* Whether params is a valid ConnectionHttpParameters object; on false,
 * err holds the ValidationException message. */
bool events_http_params_valid(json_t *params, char *err, size_t errlen);

#endif
