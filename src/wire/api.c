/*
 * api.c - errors, output and typed parameter access for api_call.
 *
 * The two families of protocols type parameters differently: the Query
 * protocol carries every value as text, the JSON protocols carry JSON types
 * and reject a mismatch (a number sent as a string) as a
 * SerializationException.  The accessors hide that from the handlers.
 */
#include "wire/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "store/store.h"

const api_action *api_find_action(const api_service *svc, const char *name)
{
    for (const api_action *a = svc->actions; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

bool api_action_reads(const char *name)
{
    static const char *const prefixes[] = {"Get", "List", "Describe", "Test"};

    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t n = strlen(prefixes[i]);
        /* "Get" then an upper-case letter: not a word that merely starts so */
        if (strncmp(name, prefixes[i], n) == 0 && name[n] >= 'A' && name[n] <= 'Z')
            return true;
    }
    return strcmp(name, "ReceiveMessage") == 0;
}

static const char *commit_message(const api_service *svc)
{
    return svc->commit_message ? svc->commit_message : "The request could not be stored.";
}

bool api_refuse_write(api_call *call)
{
    const api_service *svc = call->service;

    if (!svc || !svc->store || !store_is_full(svc->store) || api_action_reads(call->action))
        return false;
    api_fail(call, svc->commit_error, "%s", commit_message(svc));
    return true;
}

static void commit_done(void *arg, int status)
{
    api_call *call = arg;

    if (status != 0) {
        json_decref(call->output);
        call->output = NULL;
        api_fail(call, call->service->commit_error, "%s", commit_message(call->service));
    }
    api_finish(call);
}

api_status api_commit_and_finish(api_call *call, store *st, store_batch *b)
{
    if (store_batch_empty(b)) {
        store_batch_free(b);
        return API_DONE;
    }
    store_submit(st, b, commit_done, call);
    return API_PENDING;
}

api_status api_fail(api_call *call, aws_error_id err, const char *fmt, ...)
{
    va_list ap;
    buf b;

    buf_init(&b);
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    buf_reserve(&b, (size_t)(n > 0 ? n : 0));
    va_start(ap, fmt);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b.len = (size_t)n;
    free(call->error_message);
    call->error_message = buf_steal(&b);
    call->error = err;
    call->has_error = true;
    return API_DONE;
}

void api_finish(api_call *call)
{
    call->finish(call);
}

json_t *api_out(api_call *call)
{
    if (!call->output)
        call->output = json_object();
    return call->output;
}

static bool is_json(const api_call *call)
{
    return call->protocol != WIRE_QUERY;
}

static int type_error(api_call *call, const char *name, const char *want)
{
    if (is_json(call))
        api_fail(call, AWS_ERR_SERIALIZATION, "Value for %s must be of type %s", name, want);
    else
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value for parameter %s is invalid. Reason: must be of type %s.", name, want);
    return -1;
}

int param_str(api_call *call, json_t *obj, const char *name, const char **out, size_t *len)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return type_error(call, name, "string");
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return 1;
}

/* Parses a whole decimal integer; false if text is anything else. */
static bool parse_ll(const char *s, long long *out)
{
    char *end;

    if (!*s)
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

int param_int(api_call *call, json_t *obj, const char *name, long long *out)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;

    if (!v || json_is_null(v))
        return 0;
    if (is_json(call)) {
        if (!json_is_integer(v))
            return type_error(call, name, "integer");
        *out = json_integer_value(v);
        return 1;
    }
    if (!json_is_string(v) || !parse_ll(json_string_value(v), out)) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter %s is invalid. Reason: must be an integer.",
                 json_is_string(v) ? json_string_value(v) : "?", name);
        return -1;
    }
    return 1;
}

int param_bool(api_call *call, json_t *obj, const char *name, bool *out)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;

    if (!v || json_is_null(v))
        return 0;
    if (is_json(call)) {
        if (!json_is_boolean(v))
            return type_error(call, name, "boolean");
        *out = json_is_true(v);
        return 1;
    }
    if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0)
        *out = true;
    else if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
        *out = false;
    else
        return type_error(call, name, "boolean");
    return 1;
}

int param_str_list(api_call *call, json_t *obj, const char *name, json_t **out)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;
    size_t i;
    json_t *e;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return type_error(call, name, "list");
    json_array_foreach(v, i, e)
        if (!json_is_string(e))
            return type_error(call, name, "list of strings");
    *out = v;
    return 1;
}

int param_str_map(api_call *call, json_t *obj, const char *name, json_t **out)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;
    const char *k;
    json_t *e;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return type_error(call, name, "map");
    json_object_foreach(v, k, e)
        if (!json_is_string(e))
            return type_error(call, name, "map of strings");
    *out = v;
    return 1;
}

int param_list(api_call *call, json_t *obj, const char *name, json_t **out)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return type_error(call, name, "list");
    *out = v;
    return 1;
}

int param_object(api_call *call, json_t *obj, const char *name, json_t **out)
{
    json_t *v = obj ? json_object_get(obj, name) : NULL;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return type_error(call, name, "structure");
    *out = v;
    return 1;
}

static bool carries_content(const char *member)
{
    return member && (strcmp(member, "MessageBody") == 0 || strcmp(member, "Message") == 0 ||
                      strcmp(member, "StringValue") == 0);
}

static json_t *without_nul(json_t *v)
{
    size_t n = json_string_length(v);
    char *copy = xstrndup(json_string_value(v), n);
    for (size_t i = 0; i < n; i++)
        if (copy[i] == '\0')
            copy[i] = '\x01';
    json_t *r = json_stringn_nocheck(copy, n);
    free(copy);
    return r;
}

static void sanitize(json_t *v, const char *member, int depth)
{
    const char *k;
    json_t *e;
    size_t i;
    void *tmp;

    if (depth > 64)
        return;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (json_is_string(e) && strlen(json_string_value(e)) != json_string_length(e))
                json_array_set_new(v, i, without_nul(e));
            else
                sanitize(e, member, depth + 1);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    json_object_foreach_safe(v, tmp, k, e) {
        if (json_is_string(e) && !carries_content(k) &&
            strlen(json_string_value(e)) != json_string_length(e))
            json_object_set_new(v, k, without_nul(e));
        else
            sanitize(e, k, depth + 1);
    }
}

void api_sanitize_nul(json_t *input)
{
    sanitize(input, NULL, 0);
}
