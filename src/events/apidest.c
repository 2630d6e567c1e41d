/*
 * apidest.c - connections and API destinations (HTTP targets).
 *
 * Both are kept as JSON documents shaped like their Describe answers plus
 * the private fields delivery needs ("id", and the connection's full
 * AuthParameters including secrets, which Describe never shows).  They are
 * store resources of kinds "events.connection" and "events.apidest".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "events/events.h"

#define CONN_KIND "events.connection"
#define DEST_KIND "events.apidest"

static void key_of(const char *account, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", account, name);
}

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
    map_str_put(strcmp(kind, CONN_KIND) == 0 ? &svc->connections : &svc->apidests, key, doc);
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

static api_status save(api_call *call, const char *kind, json_t *doc, const char *name)
{
    events_service *svc = events_of(call);
    store_batch *b = store_batch_new();
    json_t *copy = json_deep_copy(doc);
    json_object_del(copy, "id");
    char *text = json_dumps(copy, JSON_COMPACT);
    store_put_resource(b, (uint64_t)json_integer_value(json_object_get(doc, "id")), kind,
                       call->account, name, text);
    free(text);
    json_decref(copy);
    return events_commit_and_finish(svc, call, b);
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
        json_object_set_new(o, "AuthParameters", view);
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
    map_str_put(&svc->connections, key, doc);
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

static json_t *dest_view(json_t *doc, bool full)
{
    json_t *o = json_deep_copy(doc);
    json_object_del(o, "id");
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
    put_summary(call, doc, "ApiDestination", NULL);
    return save(call, DEST_KIND, doc, name);
}

api_status events_describe_api_destination(api_call *call)
{
    const char *name;
    json_t *doc = dest_find(call, &name);

    if (!doc)
        return API_DONE;
    json_decref(call->output);
    call->output = dest_view(doc, true);
    return API_DONE;
}

static json_t *dest_list_view(api_call *call, void *doc)
{
    return dest_view(doc, false);
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
