/*
 * transform.c - envelope, JSONPath and target input rendering; see
 * transform.h.
 *
 * The InputTransformer renderer walks the template once, tracking whether
 * it is inside a JSON string literal, because AWS substitutes a value
 * differently in three places: as a bare JSON value (strings get quotes),
 * as a whole quoted string "<v>" (the raw text between the template's
 * quotes), and inside a longer string (raw text; objects and arrays in an
 * unquoted {k:v} / [a,b] form).  A JSON-looking template whose result does
 * not parse is not delivered at all, as AWS does.
 */
#include "events/transform.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

#define RESERVED_PREFIX "aws.events."

json_t *events_envelope(const events_entry *e)
{
    char when[32];
    json_t *env = json_object();

    events_format_time(e->time_s, when, sizeof when);
    json_object_set_new(env, "version", json_string("0"));
    json_object_set_new(env, "id", json_string(e->id));
    json_object_set_new(env, "detail-type", json_string(e->detail_type));
    json_object_set_new(env, "source", json_string(e->source));
    json_object_set_new(env, "account", json_string(e->account));
    json_object_set_new(env, "time", json_string(when));
    json_object_set_new(env, "region", json_string(e->region));
    json_object_set_new(env, "resources",
                        e->resources ? json_deep_copy(e->resources) : json_array());
    json_object_set_new(env, "detail", e->detail ? json_deep_copy(e->detail) : json_object());
    return env;
}

void events_format_time(int64_t time_s, char *out, size_t outlen)
{
    time_t t = (time_t)time_s;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- JSONPath ---------------------------------------------------------------- */

/* Walks path over doc; with doc NULL only checks the syntax.  Returns the
 * value, or NULL; *ok tells a syntax error from a missing value. */
static json_t *walk_path(json_t *doc, const char *path, bool *ok)
{
    const char *p = path;
    json_t *cur = doc;
    char key[512];

    *ok = false;
    if (!path || p[0] != '$')
        return NULL;
    p++;
    while (*p) {
        size_t n = 0;
        if (*p == '.') {
            p++;
            while (*p && *p != '.' && *p != '[' && n + 1 < sizeof key)
                key[n++] = *p++;
            if (n == 0 || (*p && *p != '.' && *p != '['))
                return NULL;
            key[n] = '\0';
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        } else if (*p == '[') {
            p++;
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                while (*p && *p != q && n + 1 < sizeof key)
                    key[n++] = *p++;
                if (*p != q || p[1] != ']')
                    return NULL;
                key[n] = '\0';
                p += 2;
                cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            } else {
                char *end;
                long idx = strtol(p, &end, 10);
                if (end == p || *end != ']' || idx < 0)
                    return NULL;
                p = end + 1;
                cur = json_is_array(cur) ? json_array_get(cur, (size_t)idx) : NULL;
            }
        } else {
            return NULL;
        }
    }
    *ok = true;
    return cur;
}

json_t *events_jsonpath(json_t *doc, const char *path)
{
    bool ok;
    return walk_path(doc, path, &ok);
}

int events_jsonpath_valid(const char *path)
{
    bool ok;
    walk_path(NULL, path, &ok);
    return ok;
}

/* --- transformer ------------------------------------------------------------- */

static const char *const reserved_vars[] = {
    "aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time",
    "aws.events.event", "aws.events.event.json", NULL,
};

static bool is_reserved(const char *name, size_t n)
{
    for (int i = 0; reserved_vars[i]; i++)
        if (strlen(reserved_vars[i]) == n && memcmp(reserved_vars[i], name, n) == 0)
            return true;
    return false;
}

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* If s starts a placeholder "<name>", returns the name's length (name at
 * s+1), else 0. */
static size_t placeholder_at(const char *s)
{
    size_t n = 0;

    if (*s != '<')
        return 0;
    while (name_char(s[1 + n]))
        n++;
    return n > 0 && s[1 + n] == '>' ? n : 0;
}

int events_transformer_validate(json_t *tr, const char *target_id, char *err, size_t errlen)
{
    json_t *paths = json_object_get(tr, "InputPathsMap");
    json_t *tmpl = json_object_get(tr, "InputTemplate");
    const char *k;
    json_t *v;

    if (!json_is_string(tmpl)) {
        snprintf(err, errlen, "InputTemplate is required for target %s.", target_id);
        return -1;
    }
    if (json_string_length(tmpl) > 8192) {
        snprintf(err, errlen, "InputTemplate for target %s is too long.", target_id);
        return -1;
    }
    if (paths && !json_is_object(paths)) {
        snprintf(err, errlen, "InputPathsMap for target %s is not valid.", target_id);
        return -1;
    }
    if (paths && json_object_size(paths) > 100) {
        snprintf(err, errlen, "InputPathsMap for target %s has more than 100 entries.",
                 target_id);
        return -1;
    }
    json_object_foreach(paths, k, v) {
        if (strncmp(k, "AWS.", 4) == 0 || strncmp(k, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0
            || is_reserved(k, strlen(k))) {
            snprintf(err, errlen,
                     "InputPathsMap for target %s contains a reserved key %s.", target_id, k);
            return -1;
        }
        for (const char *c = k; *c; c++)
            if (!name_char(*c) || *c == '.') {
                snprintf(err, errlen, "InputPathsMap for target %s contains an invalid key %s.",
                         target_id, k);
                return -1;
            }
        if (!json_is_string(v) || !events_jsonpath_valid(json_string_value(v))) {
            snprintf(err, errlen, "Target %s has an invalid JSON path in InputPathsMap: %s.",
                     target_id, k);
            return -1;
        }
    }
    const char *t = json_string_value(tmpl);
    const char *first = t + strspn(t, " \t\r\n");
    bool object = *first == '{', in_string = false;
    for (const char *s = t; *s; s++) {
        if (object && in_string && *s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (object && *s == '"')
            in_string = !in_string;
        size_t n = placeholder_at(s);
        if (!n)
            continue;
        /* In a JSON object template a placeholder may not be a key: bare,
         * or as the whole of a quoted key. */
        const char *after = s + n + 2;
        bool whole = in_string && s > t && s[-1] == '"' && *after == '"';
        if (object && (!in_string || whole)) {
            const char *q = after + (whole ? 1 : 0);
            q += strspn(q, " \t\r\n");
            if (*q == ':') {
                snprintf(err, errlen,
                         "InputTemplate for target %s contains a placeholder used as an "
                         "object key: %.*s.",
                         target_id, (int)n, s + 1);
                return -1;
            }
        }
        char name[300];
        snprintf(name, sizeof name, "%.*s", (int)n, s + 1);
        if (!is_reserved(name, n) && !(paths && json_object_get(paths, name))) {
            snprintf(err, errlen, "InputTemplate for target %s contains invalid placeholder %s.",
                     target_id, name);
            return -1;
        }
        s += n + 1;
    }
    return 0;
}

/* Raw text of a value inside a string: strings as they are, containers in
 * the unquoted {k:v,...} / [a,b] form. */
static void put_unquoted(buf *out, json_t *v)
{
    if (json_is_string(v)) {
        buf_append(out, json_string_value(v), json_string_length(v));
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        bool first = true;
        buf_putc(out, '{');
        json_object_foreach(v, k, e) {
            if (!first)
                buf_putc(out, ',');
            first = false;
            buf_puts(out, k);
            buf_putc(out, ':');
            put_unquoted(out, e);
        }
        buf_putc(out, '}');
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        buf_putc(out, '[');
        json_array_foreach(v, i, e) {
            if (i)
                buf_putc(out, ',');
            put_unquoted(out, e);
        }
        buf_putc(out, ']');
    } else if (v) {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        buf_puts(out, text ? text : "");
        free(text);
    }
}

static void put_json(buf *out, json_t *v)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    buf_puts(out, text ? text : "null");
    free(text);
}

/* The event as <aws.events.event> shows it: everything but the detail,
 * with the detail type under "detailType". */
static json_t *event_without_detail(json_t *event)
{
    json_t *copy = json_object();
    const char *k;
    json_t *v;

    json_object_foreach(event, k, v) {
        if (strcmp(k, "detail") == 0)
            continue;
        json_object_set(copy, strcmp(k, "detail-type") == 0 ? "detailType" : k, v);
    }
    return copy;
}

typedef enum { AT_VALUE, AT_WHOLE_STRING, AT_IN_STRING } place;

static void substitute(buf *out, const char *name, json_t *paths, json_t *event,
                       const char *event_text, const events_context *ctx, place where)
{
    json_t *v = NULL;
    json_t *owned = NULL;

    if (strcmp(name, "aws.events.event.json") == 0) {
        if (where == AT_VALUE) {
            buf_puts(out, event_text);
            return;
        }
        v = event;
    } else if (strcmp(name, "aws.events.event") == 0) {
        v = owned = event_without_detail(event);
    } else if (strcmp(name, "aws.events.rule-arn") == 0) {
        v = owned = json_string(ctx && ctx->rule_arn ? ctx->rule_arn : "");
    } else if (strcmp(name, "aws.events.rule-name") == 0) {
        v = owned = json_string(ctx && ctx->rule_name ? ctx->rule_name : "");
    } else if (strcmp(name, "aws.events.event.ingestion-time") == 0) {
        v = owned = json_string(ctx && ctx->ingestion_time ? ctx->ingestion_time : "");
    } else {
        json_t *p = paths ? json_object_get(paths, name) : NULL;
        v = p ? events_jsonpath(event, json_string_value(p)) : NULL;
    }

    switch (where) {
    case AT_VALUE:
        if (!v)
            buf_puts(out, "\"\"");
        else if (json_is_string(v)) {
            buf_putc(out, '"');
            buf_append(out, json_string_value(v), json_string_length(v));
            buf_putc(out, '"');
        } else
            put_json(out, v);
        break;
    case AT_WHOLE_STRING:
        if (json_is_object(v) || json_is_array(v))
            put_json(out, v);
        else
            put_unquoted(out, v);
        break;
    case AT_IN_STRING:
        put_unquoted(out, v);
        break;
    }
    json_decref(owned);
}

/* Renders the template; *jsonish tells whether it reads as JSON. */
static char *render_template(json_t *tr, json_t *event, const char *event_text,
                             const events_context *ctx, bool *jsonish)
{
    json_t *paths = json_object_get(tr, "InputPathsMap");
    const char *t = json_string_value(json_object_get(tr, "InputTemplate"));
    bool in_string = false;
    const char *string_start = NULL;
    buf out;

    if (!t)
        t = "";
    const char *first = t + strspn(t, " \t\r\n");
    *jsonish = *first == '{' || *first == '[' || *first == '"';
    buf_init(&out);
    for (const char *s = t; *s; s++) {
        if (*jsonish && in_string && *s == '\\' && s[1]) {
            buf_append(&out, s, 2);
            s++;
            continue;
        }
        if (*jsonish && *s == '"') {
            in_string = !in_string;
            string_start = s + 1;
            buf_putc(&out, '"');
            continue;
        }
        size_t n = placeholder_at(s);
        char name[300];
        if (!n || n >= sizeof name || !(is_reserved(s + 1, n) ||
                                        (paths && json_object_getn(paths, s + 1, n)))) {
            buf_putc(&out, *s);
            continue;
        }
        memcpy(name, s + 1, n);
        name[n] = '\0';
        place where = AT_VALUE;
        if (!*jsonish)
            where = AT_IN_STRING;
        else if (in_string)
            where = (s == string_start && s[n + 2] == '"') ? AT_WHOLE_STRING : AT_IN_STRING;
        substitute(&out, name, paths, event, event_text, ctx, where);
        s += n + 1;
    }
    if (!out.data)
        buf_puts(&out, "");
    return buf_steal(&out);
}

int events_render_input(json_t *target, json_t *event, const char *event_text,
                        const events_context *ctx, char **out)
{
    json_t *input = json_object_get(target, "Input");
    json_t *input_path = json_object_get(target, "InputPath");
    json_t *tr = json_object_get(target, "InputTransformer");

    *out = NULL;
    if (json_is_string(input)) {
        *out = xstrdup(json_string_value(input));
        return 0;
    }
    if (json_is_string(input_path)) {
        json_t *v = events_jsonpath(event, json_string_value(input_path));
        if (!v)
            return 1;
        *out = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        return *out ? 0 : 1;
    }
    if (json_is_object(tr)) {
        bool jsonish;
        char *text = render_template(tr, event, event_text, ctx, &jsonish);
        if (jsonish) {
            json_t *check = json_loads(text, JSON_DECODE_ANY, NULL);
            if (!check) {
                free(text);
                return 1;
            }
            json_decref(check);
        }
        *out = text;
        return 0;
    }
    *out = xstrdup(event_text);
    return 0;
}

size_t events_entry_size(json_t *entry)
{
    size_t n = 0;
    json_t *v;
    size_t i;
    json_t *e;

    if (json_object_get(entry, "Time") && !json_is_null(json_object_get(entry, "Time")))
        n += 14;
    if (json_is_string(v = json_object_get(entry, "Source")))
        n += json_string_length(v);
    if (json_is_string(v = json_object_get(entry, "DetailType")))
        n += json_string_length(v);
    if (json_is_string(v = json_object_get(entry, "Detail")))
        n += json_string_length(v);
    json_array_foreach(json_object_get(entry, "Resources"), i, e)
        if (json_is_string(e))
            n += json_string_length(e);
    return n;
}
