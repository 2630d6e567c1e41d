/*
 * invoke.c - the pure parts of an API destination invocation (invoke.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/codec.h"
#include "events/invoke.h"

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 300000
#define RETRY_AFTER_MAX_S 100000000LL

void events_header_set(json_t *headers, const char *name, const char *value)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(headers, tmp, k, v)
        if (strcasecmp(k, name) == 0)
            json_object_del(headers, k);
    json_object_set_new(headers, name, json_string(value));
}

static void query_set(json_t *query, const char *key, const char *value)
{
    size_t i;
    json_t *pair;

    json_array_foreach(query, i, pair) {
        if (strcmp(json_string_value(json_array_get(pair, 0)), key) == 0) {
            json_array_set_new(pair, 1, json_string(value));
            return;
        }
    }
    json_array_append_new(query, json_pack("[ss]", key, value));
}

/* Applies a list of {Key, Value} entries through set. */
static void apply_list(json_t *list, json_t *into, void (*set)(json_t *, const char *,
                                                                 const char *))
{
    size_t i;
    json_t *p;

    json_array_foreach(list, i, p) {
        const char *k = json_string_value(json_object_get(p, "Key"));
        const char *v = json_string_value(json_object_get(p, "Value"));
        if (k && v)
            set(into, k, v);
    }
}

static void apply_map(json_t *map, json_t *into, void (*set)(json_t *, const char *,
                                                               const char *))
{
    const char *k;
    json_t *v;

    json_object_foreach(map, k, v)
        if (json_is_string(v))
            set(into, k, json_string_value(v));
}

static void body_set(json_t *body, const char *key, const char *value)
{
    json_object_set_new(body, key, json_string(value));
}

void events_invocation_build(json_t *conn_params, json_t *target_params, const char *payload,
                             events_invocation *out)
{
    out->headers = json_object();
    out->query = json_array();
    events_header_set(out->headers, "Content-Type", "application/json; charset=utf-8");
    apply_map(json_object_get(target_params, "HeaderParameters"), out->headers,
              events_header_set);
    apply_map(json_object_get(target_params, "QueryStringParameters"), out->query, query_set);
    apply_list(json_object_get(conn_params, "HeaderParameters"), out->headers,
               events_header_set);
    apply_list(json_object_get(conn_params, "QueryStringParameters"), out->query, query_set);

    json_t *body_params = json_object_get(conn_params, "BodyParameters");
    json_t *obj = json_array_size(body_params) > 0 ? json_loads(payload, 0, NULL) : NULL;
    if (json_is_object(obj)) {
        apply_list(body_params, obj, body_set);
        out->body = json_dumps(obj, JSON_COMPACT);
    } else {
        out->body = xstrdup(payload ? payload : "");
    }
    json_decref(obj);
}

void events_invocation_free(events_invocation *inv)
{
    json_decref(inv->headers);
    json_decref(inv->query);
    free(inv->body);
    memset(inv, 0, sizeof *inv);
}

static void put_escaped(buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

/* Appends key=value pairs, percent-encoded, joined by '&'; the first one
 * after first_sep ("" for none). */
static void put_pairs(buf *b, json_t *pairs, const char *first_sep)
{
    size_t i;
    json_t *pair;
    bool first = true;

    json_array_foreach(pairs, i, pair) {
        buf_puts(b, first ? first_sep : "&");
        first = false;
        put_escaped(b, json_string_value(json_array_get(pair, 0)));
        buf_putc(b, '=');
        put_escaped(b, json_string_value(json_array_get(pair, 1)));
    }
}

char *events_invocation_url(const char *endpoint, json_t *path_values, json_t *query)
{
    size_t next = 0;
    buf url;

    buf_init(&url);
    for (const char *p = endpoint; *p; p++) {
        json_t *v = *p == '*' ? json_array_get(path_values, next) : NULL;
        if (json_is_string(v)) {
            put_escaped(&url, json_string_value(v));
            next++;
        } else {
            buf_putc(&url, *p);
        }
    }
    put_pairs(&url, query, strchr(endpoint, '?') ? "&" : "?");
    if (!url.data)
        buf_puts(&url, "");
    return buf_steal(&url);
}

bool events_retry_after_parse(const char *value, long long *secs)
{
    if (!value)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    const char *p = value;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    errno = 0;
    char *end;
    long long n = strtoll(value, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end)
        return false;
    if (errno == ERANGE || n > RETRY_AFTER_MAX_S)
        n = n < 0 ? -1 : RETRY_AFTER_MAX_S;
    *secs = n;
    return true;
}

const char *events_retry_next(const events_retry_in *in, int64_t *wait_ms)
{
    if (in->has_retry_after && in->retry_after_s < 0)
        return "MaximumRetryAttempts";
    if (in->attempts - 1 >= in->retries_allowed)
        return "MaximumRetryAttempts";
    int64_t wait;
    if (in->has_retry_after && in->retry_after_s > 0) {
        wait = (int64_t)in->retry_after_s * 1000;
    } else {
        int shift = in->attempts - 1 < 20 ? in->attempts - 1 : 20;
        if (shift < 0)
            shift = 0;
        wait = (int64_t)BACKOFF_BASE_MS << shift;
        if (wait > BACKOFF_CAP_MS)
            wait = BACKOFF_CAP_MS;
        wait = wait / 2 + (int64_t)(in->random % (uint32_t)(wait / 2 + 1));
    }
    if (in->now_ms + wait - in->first_ms > in->age_allowed_ms)
        return "MaximumEventAgeInSeconds";
    *wait_ms = wait;
    return NULL;
}

bool events_oauth_request(json_t *oauth, char **url, json_t **headers, char **body)
{
    const char *endpoint = json_string_value(json_object_get(oauth, "AuthorizationEndpoint"));
    const char *method = json_string_value(json_object_get(oauth, "HttpMethod"));
    json_t *client = json_object_get(oauth, "ClientParameters");
    const char *id = json_string_value(json_object_get(client, "ClientID"));
    const char *secret = json_string_value(json_object_get(client, "ClientSecret"));
    json_t *params = json_object_get(oauth, "OAuthHttpParameters");

    if (!endpoint || !id || !secret)
        return false;
    bool get = method && strcmp(method, "GET") == 0;
    json_t *query = json_array();
    json_t *form = json_array();
    apply_list(json_object_get(params, "QueryStringParameters"), query, query_set);
    query_set(form, "grant_type", "client_credentials");
    apply_list(json_object_get(params, "BodyParameters"), form, query_set);
    if (get) {
        size_t i;
        json_t *pair;
        json_array_foreach(form, i, pair)
            query_set(query, json_string_value(json_array_get(pair, 0)),
                      json_string_value(json_array_get(pair, 1)));
    }
    *url = events_invocation_url(endpoint, NULL, query);

    buf cred, b;
    buf_init(&cred);
    buf_printf(&cred, "%s:%s", id, secret);
    char *b64 = xmalloc(base64_encoded_len(cred.len) + 1);
    base64_encode((const uint8_t *)cred.data, cred.len, b64);
    memset(cred.data, 0, cred.len);
    buf_free(&cred);
    buf_init(&b);
    buf_printf(&b, "Basic %s", b64);
    free(b64);
    *headers = json_object();
    events_header_set(*headers, "Authorization", b.data);
    buf_free(&b);
    events_header_set(*headers, "Accept", "application/json");
    if (!get)
        events_header_set(*headers, "Content-Type", "application/x-www-form-urlencoded");
    apply_list(json_object_get(params, "HeaderParameters"), *headers, events_header_set);

    buf_init(&b);
    if (!get)
        put_pairs(&b, form, "");
    if (!b.data)
        buf_puts(&b, "");
    *body = buf_steal(&b);
    json_decref(query);
    json_decref(form);
    return true;
}

char *events_oauth_token(const char *body, long long *expires_in)
{
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(doc, "access_token"));
    json_t *exp = json_object_get(doc, "expires_in");
    char *out = tok && *tok ? xstrdup(tok) : NULL;

    *expires_in = json_is_integer(exp) ? (long long)json_integer_value(exp)
                  : json_is_string(exp) ? strtoll(json_string_value(exp), NULL, 10)
                                        : 0;
    if (*expires_in < 0)
        *expires_in = 0;
    json_decref(doc);
    return out;
}

json_t *events_http_params_view(json_t *params)
{
    static const char *const lists[] = {"HeaderParameters", "QueryStringParameters",
                                        "BodyParameters", NULL};
    json_t *o = json_object();

    for (int i = 0; lists[i]; i++) {
        json_t *list = json_object_get(params, lists[i]);
        if (!json_is_array(list))
            continue;
        json_t *view = json_array();
        size_t j;
        json_t *p;
        json_array_foreach(list, j, p) {
            json_t *e = json_deep_copy(p);
            if (json_is_true(json_object_get(p, "IsValueSecret")))
                json_object_del(e, "Value");
            json_array_append_new(view, e);
        }
        json_object_set_new(o, lists[i], view);
    }
    return o;
}

bool events_http_params_valid(json_t *params, char *err, size_t errlen)
{
    static const char *const lists[] = {"HeaderParameters", "QueryStringParameters",
                                        "BodyParameters", NULL};
    if (!json_is_object(params)) {
        snprintf(err, errlen, "HTTP parameters must be an object.");
        return false;
    }
    for (int i = 0; lists[i]; i++) {
        json_t *list = json_object_get(params, lists[i]);
        if (!list)
            continue;
        if (!json_is_array(list) || json_array_size(list) > 100) {
            snprintf(err, errlen, "%s must be a list of at most 100 parameters.", lists[i]);
            return false;
        }
        size_t j;
        json_t *p;
        json_array_foreach(list, j, p) {
            json_t *k = json_object_get(p, "Key"), *v = json_object_get(p, "Value");
            json_t *s = json_object_get(p, "IsValueSecret");
            if (!json_is_object(p) || !json_is_string(k) || json_string_length(k) == 0 ||
                json_string_length(k) > 512 || (v && !json_is_string(v)) ||
                (v && json_string_length(v) > 512) || (s && !json_is_boolean(s))) {
                snprintf(err, errlen, "%s entries need a Key (1 to 512 characters), a string "
                         "Value of at most 512 characters and a boolean IsValueSecret.",
                         lists[i]);
                return false;
            }
            if (i == 0) {
                const char *key = json_string_value(k);
                for (const char *c = key; *c; c++)
                    if (!isalnum((unsigned char)*c) && !strchr("!#$%&'*+-.^_`|~", *c)) {
                        snprintf(err, errlen, "Header name '%s' is not valid.", key);
                        return false;
                    }
                const char *val = v ? json_string_value(v) : "";
                for (const char *c = val; *c; c++)
                    if ((unsigned char)*c < 0x20 && *c != '\t') {
                        snprintf(err, errlen, "Header '%s' has a value that is not valid.", key);
                        return false;
                    }
            }
        }
    }
    return true;
}
