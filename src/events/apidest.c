/*
 * apidest.c - connections and API destinations (HTTP targets).
 *
 * Both are kept as JSON documents shaped like their Describe answers plus
 * the private fields delivery needs ("id", and the connection's full
 * AuthParameters including secrets, which Describe never shows).  They are
 * store resources of kinds "events.connection" and "events.apidest".
 *
 * Connection states: BASIC and API_KEY connections are AUTHORIZED once
 * created or updated (UpdateConnection answers UPDATING); OAuth ones are
 * AUTHORIZING while the client-credentials token is fetched (libcurl multi
 * on the loop, http_client.c), then AUTHORIZED, or DEAUTHORIZED when the
 * fetch fails.  DeauthorizeConnection (answering DEAUTHORIZING) removes the
 * secrets and leaves DEAUTHORIZED until an UpdateConnection gives them
 * again.  An API destination is ACTIVE while its connection is AUTHORIZED,
 * INACTIVE otherwise (deliver.c then sends nothing).  Private fields of a
 * connection, never shown and never stored: "account", "token" (the OAuth
 * access token), "token_expires_ms", "auth_gen" (which fetch is current).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "events/events.h"
#include "events/invoke.h"

#define CONN_KIND "events.connection"
#define DEST_KIND "events.apidest"

static void key_of(const char *account, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", account, name);
}

static bool is_oauth(json_t *conn);

void events_apidest_load(events_service *svc, const char *kind, uint64_t id,
                         const char *account, const char *name, const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    char key[512];

    if (!json_is_object(doc)) {
        json_decref(doc);
        return;
    }
    json_object_set_new(doc, "id", json_integer((json_int_t)id));
    key_of(account, name, key, sizeof key);
    if (strcmp(kind, CONN_KIND) != 0) {
        map_str_put(&svc->apidests, key, doc);
        return;
    }
    json_object_set_new(doc, "account", json_string(account));
    map_str_put(&svc->connections, key, doc);
    /* the OAuth token is not stored: fetched again at start */
    const char *state = json_string_value(json_object_get(doc, "ConnectionState"));
    if (is_oauth(doc) && (!state || strcmp(state, "DEAUTHORIZED") != 0))
        events_connection_authorize(svc, doc);
}

static json_t *find_by_arn(map_str *m, const char *field, const char *arn)
{
    if (!arn)
        return NULL;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        const char *a = json_string_value(json_object_get(m->vals[i], field));
        if (a && strcmp(a, arn) == 0)
            return m->vals[i];
    }
    return NULL;
}

json_t *events_apidest_by_arn(events_service *svc, const char *arn)
{
    return find_by_arn(&svc->apidests, "ApiDestinationArn", arn);
}

json_t *events_connection_by_arn(events_service *svc, const char *arn)
{
    return find_by_arn(&svc->connections, "ConnectionArn", arn);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return false;
    return true;
}

/* Adds the document's row (without its private fields) to b. */
static void put_row(store_batch *b, const char *kind, json_t *doc, const char *account)
{
    static const char *const private_fields[] = {"id", "account", "token", "token_expires_ms",
                                                 "auth_gen", "next_slot_ms", NULL};
    json_t *copy = json_deep_copy(doc);
    for (int i = 0; private_fields[i]; i++)
        json_object_del(copy, private_fields[i]);
    char *text = json_dumps(copy, JSON_COMPACT);
    store_put_resource(b, (uint64_t)json_integer_value(json_object_get(doc, "id")), kind,
                       account, json_string_value(json_object_get(doc, "Name")), text);
    free(text);
    json_decref(copy);
}

static api_status save(api_call *call, const char *kind, json_t *doc, const char *name)
{
    events_service *svc = events_of(call);
    store_batch *b = store_batch_new();
    put_row(b, kind, doc, call->account);
    return events_commit_and_finish(svc, call, b);
}

static bool is_oauth(json_t *conn)
{
    const char *type = json_string_value(json_object_get(conn, "AuthorizationType"));
    return type && strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0;
}

static double now_s(void)
{
    return (double)clock_now_ms() / 1000.0;
}

/* --- OAuth client credentials ------------------------------------------------ */

/* One token fetch in flight, or (timer set) a scheduled renewal, listed in
 * svc->oauth_timers until it fires. */
struct events_oauth_fetch {
    events_service *svc;
    char key[512];          /* the connection's "account/name" */
    json_int_t id;          /* its resource id (a connection made again has another) */
    json_int_t gen;         /* its auth_gen when the fetch started */
    struct event *timer;
    struct events_oauth_fetch *prev, *next;
};
typedef struct events_oauth_fetch oauth_fetch;

static void fetch_token(events_service *svc, json_t *conn, bool renew);

/* The connection f is about, if nothing changed its authorization since. */
static json_t *fetch_conn(oauth_fetch *f)
{
    events_service *svc = f->svc;
    json_t *doc = svc->closing ? NULL : map_str_get(&svc->connections, f->key);
    if (!doc || json_integer_value(json_object_get(doc, "id")) != f->id ||
        json_integer_value(json_object_get(doc, "auth_gen")) != f->gen)
        return NULL; /* deleted, deauthorized, updated or fetched again since */
    return doc;
}

static void renew_due(evutil_socket_t fd, short what, void *arg)
{
    oauth_fetch *f = arg;
    events_service *svc = f->svc;
    json_t *doc = fetch_conn(f);

    if (f->prev)
        f->prev->next = f->next;
    else
        svc->oauth_timers = f->next;
    if (f->next)
        f->next->prev = f->prev;
    event_free(f->timer);
    free(f);
    if (doc)
        fetch_token(svc, doc, true);
}

void events_apidest_free_all(events_service *svc)
{
    while (svc->oauth_timers) {
        oauth_fetch *f = svc->oauth_timers;
        svc->oauth_timers = f->next;
        event_free(f->timer);
        free(f);
    }
}

/* Renews the token a little before it expires (5 s, or half its life if
 * that is shorter), reusing f. */
static void schedule_renewal(oauth_fetch *f, long long expires_s)
{
    events_service *svc = f->svc;
    long long wait_ms = expires_s * 1000 - (expires_s * 500 < 5000 ? expires_s * 500 : 5000);
    struct timeval tv = {(time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000};

    f->timer = evtimer_new(svc->base, renew_due, f);
    f->prev = NULL;
    f->next = svc->oauth_timers;
    if (f->next)
        f->next->prev = f;
    svc->oauth_timers = f;
    evtimer_add(f->timer, &tv);
}

static void oauth_done(void *arg, const events_http_reply *reply)
{
    oauth_fetch *f = arg;
    events_service *svc = f->svc;
    json_t *doc = fetch_conn(f);

    if (!doc) {
        free(f);
        return;
    }
    long long expires = 0;
    char *token = reply->status >= 200 && reply->status < 300
                      ? events_oauth_token(reply->body, &expires)
                      : NULL;
    double now = now_s();
    if (token) {
        json_object_set_new(doc, "token", json_string(token));
        json_object_set_new(doc, "token_expires_ms",
                            json_integer(expires > 0 ? clock_now_ms() + expires * 1000 : 0));
        json_object_set_new(doc, "ConnectionState", json_string("AUTHORIZED"));
        json_object_set_new(doc, "LastAuthorizedTime", json_real(now));
        json_object_del(doc, "StateReason");
        log_info("events", "connection authorized connection=%s",
                 json_string_value(json_object_get(doc, "ConnectionArn")));
        memset(token, 0, strlen(token));
        free(token);
    } else {
        json_object_del(doc, "token");
        json_object_del(doc, "token_expires_ms");
        json_object_set_new(doc, "ConnectionState", json_string("DEAUTHORIZED"));
        json_object_set_new(doc, "StateReason",
                            json_string(reply->status ? "The authorization endpoint did not "
                                                        "return an access token."
                                                      : "The authorization endpoint could not "
                                                        "be reached."));
        log_warn("events", "connection authorization failed connection=%s status=%ld",
                 json_string_value(json_object_get(doc, "ConnectionArn")), reply->status);
    }
    json_object_set_new(doc, "LastModifiedTime", json_real(now));
    store_batch *b = store_batch_new();
    put_row(b, CONN_KIND, doc, json_string_value(json_object_get(doc, "account")));
    store_submit(svc->store, b, NULL, NULL);
    if (token && expires > 0)
        schedule_renewal(f, expires);
    else
        free(f);
}

/* Starts a token fetch.  A renewal keeps the connection AUTHORIZED with
 * its current token until the new one comes. */
static void fetch_token(events_service *svc, json_t *conn, bool renew)
{
    json_t *oauth = json_object_get(json_object_get(conn, "AuthParameters"), "OAuthParameters");
    json_int_t gen = json_integer_value(json_object_get(conn, "auth_gen")) + 1;
    char *url = NULL, *body = NULL;
    json_t *headers = NULL;

    json_object_set_new(conn, "auth_gen", json_integer(gen));
    if (!renew) {
        json_object_del(conn, "token");
        json_object_del(conn, "token_expires_ms");
        json_object_set_new(conn, "ConnectionState", json_string("AUTHORIZING"));
    }
    if (!events_oauth_request(oauth, &url, &headers, &body)) {
        json_object_del(conn, "token");
        json_object_set_new(conn, "ConnectionState", json_string("DEAUTHORIZED"));
        return;
    }
    oauth_fetch *f = xcalloc(1, sizeof *f);
    f->svc = svc;
    f->gen = gen;
    f->id = json_integer_value(json_object_get(conn, "id"));
    key_of(json_string_value(json_object_get(conn, "account")),
           json_string_value(json_object_get(conn, "Name")), f->key, sizeof f->key);
    const char *method = json_string_value(json_object_get(oauth, "HttpMethod"));
    events_http_request(svc->http, method ? method : "POST", url, headers, body, 10, true,
                        oauth_done, f);
    free(url);
    free(body);
    json_decref(headers);
}

void events_connection_authorize(events_service *svc, json_t *conn)
{
    fetch_token(svc, conn, false);
}

/* Whether the connection has the credentials its AuthorizationType needs. */
static bool has_credentials(json_t *conn)
{
    json_t *auth = json_object_get(conn, "AuthParameters");
    const char *type = json_string_value(json_object_get(conn, "AuthorizationType"));
    if (!type)
        return false;
    if (strcmp(type, "BASIC") == 0) {
        json_t *p = json_object_get(auth, "BasicAuthParameters");
        return json_is_string(json_object_get(p, "Username")) &&
               json_is_string(json_object_get(p, "Password"));
    }
    if (strcmp(type, "API_KEY") == 0) {
        json_t *p = json_object_get(auth, "ApiKeyAuthParameters");
        return json_is_string(json_object_get(p, "ApiKeyName")) &&
               json_is_string(json_object_get(p, "ApiKeyValue"));
    }
    json_t *p = json_object_get(auth, "OAuthParameters");
    json_t *c = json_object_get(p, "ClientParameters");
    return json_is_string(json_object_get(p, "AuthorizationEndpoint")) &&
           json_is_string(json_object_get(c, "ClientID")) &&
           json_is_string(json_object_get(c, "ClientSecret"));
}

/* Authorizes a connection after Create or Update: AUTHORIZED at once for
 * BASIC and API_KEY, a token fetch for OAuth; DEAUTHORIZED without the
 * credentials. */
static void authorize(events_service *svc, json_t *conn)
{
    if (!has_credentials(conn)) {
        json_object_set_new(conn, "auth_gen",
                            json_integer(json_integer_value(json_object_get(conn, "auth_gen")) +
                                         1));
        json_object_set_new(conn, "ConnectionState", json_string("DEAUTHORIZED"));
        return;
    }
    if (is_oauth(conn)) {
        events_connection_authorize(svc, conn);
        return;
    }
    json_object_set_new(conn, "ConnectionState", json_string("AUTHORIZED"));
    json_object_set_new(conn, "LastAuthorizedTime", json_real(now_s()));
}

/* Checks the AuthParameters of a Create or Update: the HTTP parameter
 * lists; for Create (create) also the members the model requires. */
static bool auth_params_valid(api_call *call, json_t *auth, bool create)
{
    char err[256];
    json_t *inv = json_object_get(auth, "InvocationHttpParameters");
    json_t *oauth = json_object_get(auth, "OAuthParameters");
    json_t *ohp = json_object_get(oauth, "OAuthHttpParameters");

    if ((inv && !events_http_params_valid(inv, err, sizeof err)) ||
        (ohp && !events_http_params_valid(ohp, err, sizeof err))) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION, "%s", err);
        return false;
    }
    static const char *const blocks[] = {"BasicAuthParameters", "ApiKeyAuthParameters",
                                         "OAuthParameters", NULL};
    for (int i = 0; blocks[i]; i++) {
        json_t *b = json_object_get(auth, blocks[i]);
        if (b && !json_is_object(b)) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION, "%s must be an object.", blocks[i]);
            return false;
        }
        /* credentials and OAuth settings are strings of 1 to 512 characters
         * (the endpoint up to 2048) */
        const char *k;
        json_t *v;
        json_t *client = json_object_get(b, "ClientParameters");
        json_object_foreach(b, k, v) {
            if (strcmp(k, "OAuthHttpParameters") == 0 || strcmp(k, "ClientParameters") == 0)
                continue;
            size_t max = strcmp(k, "AuthorizationEndpoint") == 0 ? 2048 : 512;
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > max) {
                api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                         "%s.%s must be a string of 1 to %zu characters.", blocks[i], k, max);
                return false;
            }
        }
        if (client && !json_is_object(client)) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION, "ClientParameters must be an object.");
            return false;
        }
        json_object_foreach(client, k, v) {
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > 512) {
                api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                         "ClientParameters.%s must be a string of 1 to 512 characters.", k);
                return false;
            }
        }
    }
    const char *method = json_string_value(json_object_get(oauth, "HttpMethod"));
    if (method && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
        strcmp(method, "PUT") != 0) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "1 validation error detected: Value '%s' at 'httpMethod' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [GET, POST, PUT]", method);
        return false;
    }
    const char *endpoint = json_string_value(json_object_get(oauth, "AuthorizationEndpoint"));
    if (endpoint && strncmp(endpoint, "https://", 8) != 0 &&
        strncmp(endpoint, "http://", 7) != 0) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "Parameter AuthorizationEndpoint is not valid.");
        return false;
    }
    if (!create)
        return true;
    static const char *const required[][3] = {
        {"BasicAuthParameters", "Username", "Password"},
        {"ApiKeyAuthParameters", "ApiKeyName", "ApiKeyValue"},
        {"OAuthParameters", "AuthorizationEndpoint", "HttpMethod"},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        json_t *b = json_object_get(auth, required[i][0]);
        if (b && (!json_is_string(json_object_get(b, required[i][1])) ||
                  !json_is_string(json_object_get(b, required[i][2])))) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION, "%s needs %s and %s.", required[i][0],
                     required[i][1], required[i][2]);
            return false;
        }
    }
    json_t *client = json_object_get(oauth, "ClientParameters");
    if (oauth && (!json_is_string(json_object_get(client, "ClientID")) ||
                  !json_is_string(json_object_get(client, "ClientSecret")))) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "OAuthParameters.ClientParameters needs ClientID and ClientSecret.");
        return false;
    }
    return true;
}

/* --- connections ------------------------------------------------------------ */

/* The connection's public view (no secrets). */
static json_t *conn_view(json_t *doc, bool full)
{
    json_t *o = json_object();
    static const char *const fields[] = {"ConnectionArn", "Name", "ConnectionState",
                                         "AuthorizationType", "CreationTime",
                                         "LastModifiedTime", "LastAuthorizedTime", NULL};
    for (int i = 0; fields[i]; i++)
        if (json_object_get(doc, fields[i]))
            json_object_set(o, fields[i], json_object_get(doc, fields[i]));
    if (full) {
        if (json_object_get(doc, "Description"))
            json_object_set(o, "Description", json_object_get(doc, "Description"));
        json_t *auth = json_object_get(doc, "AuthParameters");
        json_t *view = json_object();
        json_t *basic = json_object_get(auth, "BasicAuthParameters");
        json_t *key = json_object_get(auth, "ApiKeyAuthParameters");
        if (basic)
            json_object_set_new(view, "BasicAuthParameters",
                                json_pack("{s:O}", "Username", json_object_get(basic, "Username")));
        if (key)
            json_object_set_new(view, "ApiKeyAuthParameters",
                                json_pack("{s:O}", "ApiKeyName",
                                          json_object_get(key, "ApiKeyName")));
        json_t *oauth = json_object_get(auth, "OAuthParameters");
        if (oauth) {
            json_t *ov = json_object();
            static const char *const plain[] = {"AuthorizationEndpoint", "HttpMethod", NULL};
            for (int i = 0; plain[i]; i++)
                if (json_object_get(oauth, plain[i]))
                    json_object_set(ov, plain[i], json_object_get(oauth, plain[i]));
            json_t *client = json_object_get(oauth, "ClientParameters");
            if (json_object_get(client, "ClientID"))
                json_object_set_new(ov, "ClientParameters",
                                    json_pack("{s:O}", "ClientID",
                                              json_object_get(client, "ClientID")));
            if (json_object_get(oauth, "OAuthHttpParameters"))
                json_object_set_new(ov, "OAuthHttpParameters",
                                    events_http_params_view(
                                        json_object_get(oauth, "OAuthHttpParameters")));
            json_object_set_new(view, "OAuthParameters", ov);
        }
        if (json_object_get(auth, "InvocationHttpParameters"))
            json_object_set_new(view, "InvocationHttpParameters",
                                events_http_params_view(
                                    json_object_get(auth, "InvocationHttpParameters")));
        json_object_set_new(o, "AuthParameters", view);
        if (json_object_get(doc, "StateReason"))
            json_object_set(o, "StateReason", json_object_get(doc, "StateReason"));
        json_object_set(o, "SecretArn", json_object_get(doc, "SecretArn"));
    }
    return o;
}

static json_t *conn_find(api_call *call, const char **name_out)
{
    const char *name = NULL;
    char key[512];

    if (param_str(call, call->input, "Name", &name, NULL) < 0)
        return NULL;
    if (!name) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter Name is required.");
        return NULL;
    }
    key_of(call->account, name, key, sizeof key);
    json_t *doc = map_str_get(&events_of(call)->connections, key);
    if (!doc)
        api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND,
                 "Failed to describe the connection(s). Connection '%s' does not exist.", name);
    *name_out = name;
    return doc;
}

/* What Create and Delete of a connection or an API destination answer: its
 * ARN, its state (or the given one) and its times; kind is "Connection" or
 * "ApiDestination", the prefix of the document's member names. */
static void put_summary(api_call *call, json_t *doc, const char *kind, const char *state)
{
    json_t *out = api_out(call);
    char arn_key[32], state_key[32];

    snprintf(arn_key, sizeof arn_key, "%sArn", kind);
    snprintf(state_key, sizeof state_key, "%sState", kind);
    json_object_set(out, arn_key, json_object_get(doc, arn_key));
    if (state)
        json_object_set_new(out, state_key, json_string(state));
    else
        json_object_set(out, state_key, json_object_get(doc, state_key));
    json_object_set(out, "CreationTime", json_object_get(doc, "CreationTime"));
    json_object_set(out, "LastModifiedTime", json_object_get(doc, "LastModifiedTime"));
}

api_status events_create_connection(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL, *type = NULL, *desc = NULL;
    json_t *auth = NULL;
    char key[512], id[37];

    if (param_str(call, call->input, "Name", &name, NULL) < 0 ||
        param_str(call, call->input, "AuthorizationType", &type, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_object(call, call->input, "AuthParameters", &auth) < 0)
        return API_DONE;
    if (!name || !type || !auth)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameters Name, AuthorizationType and AuthParameters are required.");
    if (!name_ok(name))
        return events_fail_pattern(call, name, "name", "[\\.\\-_A-Za-z0-9]+");
    const char *needed = strcmp(type, "BASIC") == 0       ? "BasicAuthParameters"
                         : strcmp(type, "API_KEY") == 0   ? "ApiKeyAuthParameters"
                         : strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0 ? "OAuthParameters"
                                                                         : NULL;
    if (!needed)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value '%s' at 'authorizationType' failed "
                        "to satisfy constraint: Member must satisfy enum value set: "
                        "[BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]",
                        type);
    if (!json_object_get(auth, needed))
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "%s must be provided for AuthorizationType %s.", needed, type);
    if (!auth_params_valid(call, auth, true))
        return API_DONE;
    key_of(call->account, name, key, sizeof key);
    if (map_str_get(&svc->connections, key))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_EXISTS, "Connection %s already exists.",
                        name);
    uuid_v4(id);
    buf arn, secret;
    buf_init(&arn);
    buf_init(&secret);
    buf_printf(&arn, "arn:aws:events:%s:%s:connection/%s/%s", svc->region, call->account, name,
               id);
    buf_printf(&secret, "arn:aws:secretsmanager:%s:%s:secret:events!connection/%s/%s",
               svc->region, call->account, name, id);
    double now = (double)clock_now_ms() / 1000.0;
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:O,s:s,s:f,s:f,s:f,s:I}", "ConnectionArn", arn.data,
                            "Name", name, "ConnectionState", "AUTHORIZED", "AuthorizationType",
                            type, "AuthParameters", auth, "SecretArn", secret.data,
                            "CreationTime", now, "LastModifiedTime", now, "LastAuthorizedTime",
                            now, "id", (json_int_t)store_next_resource_id(svc->store));
    buf_free(&arn);
    buf_free(&secret);
    if (desc)
        json_object_set_new(doc, "Description", json_string(desc));
    json_object_set_new(doc, "account", json_string(call->account));
    if (strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0)
        json_object_del(doc, "LastAuthorizedTime");
    map_str_put(&svc->connections, key, doc);
    authorize(svc, doc);
    put_summary(call, doc, "Connection", NULL);
    return save(call, CONN_KIND, doc, name);
}

api_status events_describe_connection(api_call *call)
{
    const char *name;
    json_t *doc = conn_find(call, &name);

    if (!doc)
        return API_DONE;
    json_decref(call->output);
    call->output = conn_view(doc, true);
    return API_DONE;
}

static json_t *conn_list_view(api_call *call, void *doc)
{
    return conn_view(doc, false);
}

api_status events_list_connections(api_call *call)
{
    return events_list_named(call, &events_of(call)->connections, "Connections",
                             conn_list_view);
}

api_status events_delete_connection(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name;
    char key[512];
    json_t *doc = conn_find(call, &name);

    if (!doc)
        return API_DONE;
    put_summary(call, doc, "Connection", "DELETING");
    store_batch *b = store_batch_new();
    store_delete_resource(b, (uint64_t)json_integer_value(json_object_get(doc, "id")));
    key_of(call->account, name, key, sizeof key);
    map_str_del(&svc->connections, key);
    json_decref(doc);
    return events_commit_and_finish(svc, call, b);
}

/* --- API destinations ------------------------------------------------------------ */

/* ACTIVE while the destination's connection is AUTHORIZED. */
static const char *dest_state(events_service *svc, json_t *doc)
{
    json_t *conn = events_connection_by_arn(
        svc, json_string_value(json_object_get(doc, "ConnectionArn")));
    const char *state = json_string_value(json_object_get(conn, "ConnectionState"));
    return state && strcmp(state, "AUTHORIZED") == 0 ? "ACTIVE" : "INACTIVE";
}

static json_t *dest_view(events_service *svc, json_t *doc, bool full)
{
    json_t *o = json_deep_copy(doc);
    json_object_del(o, "id");
    json_object_del(o, "next_slot_ms");
    json_object_set_new(o, "ApiDestinationState", json_string(dest_state(svc, doc)));
    if (!full)
        json_object_del(o, "Description");
    return o;
}

static json_t *dest_find(api_call *call, const char **name_out)
{
    const char *name = NULL;
    char key[512];

    if (param_str(call, call->input, "Name", &name, NULL) < 0)
        return NULL;
    if (!name) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter Name is required.");
        return NULL;
    }
    key_of(call->account, name, key, sizeof key);
    json_t *doc = map_str_get(&events_of(call)->apidests, key);
    if (!doc)
        api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND,
                 "Failed to describe the api-destination(s). An api-destination '%s' does not "
                 "exist.",
                 name);
    *name_out = name;
    return doc;
}

api_status events_create_api_destination(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name = NULL, *conn = NULL, *endpoint = NULL, *method = NULL, *desc = NULL;
    long long rate = 300;
    char key[512], id[37];
    static const char *const methods[] = {"POST", "GET",   "HEAD",   "OPTIONS",
                                          "PUT",  "PATCH", "DELETE", NULL};

    if (param_str(call, call->input, "Name", &name, NULL) < 0 ||
        param_str(call, call->input, "ConnectionArn", &conn, NULL) < 0 ||
        param_str(call, call->input, "InvocationEndpoint", &endpoint, NULL) < 0 ||
        param_str(call, call->input, "HttpMethod", &method, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_int(call, call->input, "InvocationRateLimitPerSecond", &rate) < 0)
        return API_DONE;
    if (!name || !conn || !endpoint || !method)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameters Name, ConnectionArn, InvocationEndpoint and HttpMethod are "
                        "required.");
    if (!name_ok(name))
        return events_fail_pattern(call, name, "name", "[\\.\\-_A-Za-z0-9]+");
    bool method_ok = false;
    for (int i = 0; methods[i]; i++)
        if (strcmp(methods[i], method) == 0)
            method_ok = true;
    if (!method_ok)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value '%s' at 'httpMethod' failed to "
                        "satisfy constraint: Member must satisfy enum value set: [POST, GET, "
                        "HEAD, OPTIONS, PUT, PATCH, DELETE]",
                        method);
    if (strncmp(endpoint, "https://", 8) != 0 && strncmp(endpoint, "http://", 7) != 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameter InvocationEndpoint is not valid.");
    if (rate < 1)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "Parameter InvocationRateLimitPerSecond is not valid.");
    if (!events_connection_by_arn(svc, conn))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Connection '%s' does not exist.",
                        conn);
    key_of(call->account, name, key, sizeof key);
    if (map_str_get(&svc->apidests, key))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_EXISTS, "An api-destination '%s' already "
                        "exists.", name);
    uuid_v4(id);
    buf arn;
    buf_init(&arn);
    buf_printf(&arn, "arn:aws:events:%s:%s:api-destination/%s/%s", svc->region, call->account,
               name, id);
    double now = (double)clock_now_ms() / 1000.0;
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:f,s:f,s:I}", "ApiDestinationArn",
                            arn.data, "Name", name, "ApiDestinationState", "ACTIVE",
                            "ConnectionArn", conn, "InvocationEndpoint", endpoint, "HttpMethod",
                            method, "InvocationRateLimitPerSecond", (json_int_t)rate,
                            "CreationTime", now, "LastModifiedTime", now, "id",
                            (json_int_t)store_next_resource_id(svc->store));
    buf_free(&arn);
    if (desc)
        json_object_set_new(doc, "Description", json_string(desc));
    map_str_put(&svc->apidests, key, doc);
    put_summary(call, doc, "ApiDestination", dest_state(svc, doc));
    return save(call, DEST_KIND, doc, name);
}

api_status events_describe_api_destination(api_call *call)
{
    const char *name;
    json_t *doc = dest_find(call, &name);

    if (!doc)
        return API_DONE;
    json_decref(call->output);
    call->output = dest_view(events_of(call), doc, true);
    return API_DONE;
}

static json_t *dest_list_view(api_call *call, void *doc)
{
    return dest_view(events_of(call), doc, false);
}

api_status events_list_api_destinations(api_call *call)
{
    return events_list_named(call, &events_of(call)->apidests, "ApiDestinations",
                             dest_list_view);
}

api_status events_delete_api_destination(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name;
    char key[512];
    json_t *doc = dest_find(call, &name);

    if (!doc)
        return API_DONE;
    store_batch *b = store_batch_new();
    store_delete_resource(b, (uint64_t)json_integer_value(json_object_get(doc, "id")));
    key_of(call->account, name, key, sizeof key);
    map_str_del(&svc->apidests, key);
    json_decref(doc);
    api_out(call);
    return events_commit_and_finish(svc, call, b);
}

/* --- updates ------------------------------------------------------------------- */

/* Checks the optional members of Create/UpdateApiDestination that are
 * present in the call's input. */
static bool dest_params_valid(api_call *call, const char *method, const char *endpoint,
                              bool has_rate, long long rate)
{
    static const char *const methods[] = {"POST", "GET",   "HEAD",   "OPTIONS",
                                          "PUT",  "PATCH", "DELETE", NULL};
    if (method) {
        bool ok = false;
        for (int i = 0; methods[i]; i++)
            if (strcmp(methods[i], method) == 0)
                ok = true;
        if (!ok) {
            api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                     "1 validation error detected: Value '%s' at 'httpMethod' failed to "
                     "satisfy constraint: Member must satisfy enum value set: [POST, GET, "
                     "HEAD, OPTIONS, PUT, PATCH, DELETE]",
                     method);
            return false;
        }
    }
    if (endpoint && strncmp(endpoint, "https://", 8) != 0 &&
        strncmp(endpoint, "http://", 7) != 0) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION, "Parameter InvocationEndpoint is not valid.");
        return false;
    }
    if (has_rate && rate < 1) {
        api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                 "Parameter InvocationRateLimitPerSecond is not valid.");
        return false;
    }
    return true;
}

api_status events_update_api_destination(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name, *conn = NULL, *endpoint = NULL, *method = NULL, *desc = NULL;
    long long rate = -1;
    json_t *doc = dest_find(call, &name);

    if (!doc)
        return API_DONE;
    if (param_str(call, call->input, "ConnectionArn", &conn, NULL) < 0 ||
        param_str(call, call->input, "InvocationEndpoint", &endpoint, NULL) < 0 ||
        param_str(call, call->input, "HttpMethod", &method, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_int(call, call->input, "InvocationRateLimitPerSecond", &rate) < 0)
        return API_DONE;
    bool has_rate = json_object_get(call->input, "InvocationRateLimitPerSecond") != NULL;
    if (!dest_params_valid(call, method, endpoint, has_rate, rate))
        return API_DONE;
    if (conn && !events_connection_by_arn(svc, conn))
        return api_fail(call, AWS_ERR_EVENTS_RESOURCE_NOT_FOUND, "Connection '%s' does not exist.",
                        conn);
    if (conn)
        json_object_set_new(doc, "ConnectionArn", json_string(conn));
    if (endpoint)
        json_object_set_new(doc, "InvocationEndpoint", json_string(endpoint));
    if (method)
        json_object_set_new(doc, "HttpMethod", json_string(method));
    if (desc)
        json_object_set_new(doc, "Description", json_string(desc));
    if (has_rate)
        json_object_set_new(doc, "InvocationRateLimitPerSecond", json_integer(rate));
    json_object_set_new(doc, "LastModifiedTime", json_real(now_s()));
    put_summary(call, doc, "ApiDestination", dest_state(svc, doc));
    return save(call, DEST_KIND, doc, name);
}

/* Connection answers also carry LastAuthorizedTime. */
static void put_conn_summary(api_call *call, json_t *doc, const char *state)
{
    put_summary(call, doc, "Connection", state);
    if (json_object_get(doc, "LastAuthorizedTime"))
        json_object_set(api_out(call), "LastAuthorizedTime",
                        json_object_get(doc, "LastAuthorizedTime"));
}

api_status events_update_connection(api_call *call)
{
    events_service *svc = events_of(call);
    const char *name, *type = NULL, *desc = NULL;
    json_t *auth = NULL;
    json_t *doc = conn_find(call, &name);

    if (!doc)
        return API_DONE;
    if (param_str(call, call->input, "AuthorizationType", &type, NULL) < 0 ||
        param_str(call, call->input, "Description", &desc, NULL) < 0 ||
        param_object(call, call->input, "AuthParameters", &auth) < 0)
        return API_DONE;
    if (type && strcmp(type, "BASIC") != 0 && strcmp(type, "API_KEY") != 0 &&
        strcmp(type, "OAUTH_CLIENT_CREDENTIALS") != 0)
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "1 validation error detected: Value '%s' at 'authorizationType' failed "
                        "to satisfy constraint: Member must satisfy enum value set: "
                        "[BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]",
                        type);
    if (auth && !auth_params_valid(call, auth, false))
        return API_DONE;
    /* the new parameters over the old ones, member by member; a new
     * InvocationHttpParameters replaces the old one */
    json_t *merged = json_deep_copy(json_object_get(doc, "AuthParameters"));
    if (!json_is_object(merged)) {
        json_decref(merged);
        merged = json_object();
    }
    if (json_object_get(auth, "InvocationHttpParameters"))
        json_object_del(merged, "InvocationHttpParameters");
    if (auth)
        json_object_update_recursive(merged, auth);
    const char *old_type = json_string_value(json_object_get(doc, "AuthorizationType"));
    const char *new_type = type ? type : old_type ? old_type : "API_KEY";
    /* only the parameters of the (new) type are given and kept */
    static const char *const blocks[][2] = {{"BASIC", "BasicAuthParameters"},
                                            {"API_KEY", "ApiKeyAuthParameters"},
                                            {"OAUTH_CLIENT_CREDENTIALS", "OAuthParameters"}};
    json_t *want = NULL;
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        if (strcmp(blocks[i][0], new_type) == 0) {
            want = json_object_get(merged, blocks[i][1]);
            continue;
        }
        if (json_object_get(auth, blocks[i][1])) {
            json_decref(merged);
            return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                            "%s does not apply to AuthorizationType %s.", blocks[i][1],
                            new_type);
        }
        json_object_del(merged, blocks[i][1]);
    }
    if (!want) {
        json_decref(merged);
        return api_fail(call, AWS_ERR_EVENTS_VALIDATION,
                        "The parameters of AuthorizationType %s must be provided.", new_type);
    }
    json_object_set_new(doc, "AuthorizationType", json_string(new_type));
    json_object_set_new(doc, "AuthParameters", merged);
    if (desc)
        json_object_set_new(doc, "Description", json_string(desc));
    json_object_set_new(doc, "LastModifiedTime", json_real(now_s()));
    json_object_del(doc, "StateReason");
    authorize(svc, doc);
    put_conn_summary(call, doc, "UPDATING");
    log_info("events", "connection updated connection=%s",
             json_string_value(json_object_get(doc, "ConnectionArn")));
    return save(call, CONN_KIND, doc, name);
}

api_status events_deauthorize_connection(api_call *call)
{
    const char *name;
    json_t *doc = conn_find(call, &name);

    if (!doc)
        return API_DONE;
    /* "Removes all authorization parameters from the connection": the
     * secrets go (names and endpoints stay, for a later UpdateConnection) */
    json_t *auth = json_object_get(doc, "AuthParameters");
    json_object_del(json_object_get(auth, "BasicAuthParameters"), "Password");
    json_object_del(json_object_get(auth, "ApiKeyAuthParameters"), "ApiKeyValue");
    json_object_del(json_object_get(json_object_get(auth, "OAuthParameters"), "ClientParameters"),
                    "ClientSecret");
    json_object_del(doc, "token");
    json_object_set_new(doc, "auth_gen",
                        json_integer(json_integer_value(json_object_get(doc, "auth_gen")) + 1));
    json_object_set_new(doc, "ConnectionState", json_string("DEAUTHORIZED"));
    json_object_set_new(doc, "LastModifiedTime", json_real(now_s()));
    put_conn_summary(call, doc, "DEAUTHORIZING");
    log_info("events", "connection deauthorized connection=%s",
             json_string_value(json_object_get(doc, "ConnectionArn")));
    return save(call, CONN_KIND, doc, name);
}
