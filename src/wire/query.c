/* query.c - Query protocol decoding and XML rendering; see query.h. */
#include "wire/query.h"

#include "core/codec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Sets root[seg1][seg2]...[segN] = value, creating objects on the way. */
static void tree_set(json_t *root, const char *key, json_t *value)
{
    char *copy = xstrdup(key);
    char *save = NULL;
    json_t *node = root;
    char *seg = strtok_r(copy, ".", &save);

    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            json_object_set_new(node, seg, value);
            value = NULL;
            break;
        }
        json_t *child = json_object_get(node, seg);
        if (!json_is_object(child)) {
            child = json_object();
            json_object_set_new(node, seg, child);
        }
        node = child;
        seg = next;
    }
    json_decref(value); /* an empty key: nothing was set */
    free(copy);
}

static const query_in_rule *find_in_rule(const query_rules *rules, const char *name)
{
    for (const query_in_rule *r = rules->in; r && r->query_name; r++)
        if (strcmp(r->query_name, name) == 0)
            return r;
    return NULL;
}

static const query_in_rule *find_in_rule_by_json_name(const query_rules *rules,
                                                      const char *name)
{
    for (const query_in_rule *r = rules->in; r && r->query_name; r++)
        if (strcmp(r->json_name, name) == 0)
            return r;
    return NULL;
}

static int cmp_index(const void *a, const void *b)
{
    long x = strtol(*(const char *const *)a, NULL, 10);
    long y = strtol(*(const char *const *)b, NULL, 10);
    return (x > y) - (x < y);
}

static json_t *convert(json_t *node, const query_rules *rules);

/* An object keyed "1", "2", ... becomes an array in index order. */
static json_t *indexed_to_array(json_t *obj, const query_rules *rules)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = xcalloc(n, sizeof *keys);
    const char *k;
    json_t *v;
    json_t *arr = json_array();

    json_object_foreach(obj, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_index);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, convert(json_object_get(obj, keys[i]), rules));
    free(keys);
    return arr;
}

static bool is_indexed(json_t *obj)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj) || json_object_size(obj) == 0)
        return false;
    json_object_foreach(obj, k, v)
        if (!all_digits(k))
            return false;
    return true;
}

/* Non-flattened services (SNS) wrap a list's items in "member" and a map's
 * entries in "entry": `Tags.member.1.Key`, `Attributes.entry.1.key`.
 * Returns the indexed object inside such a wrapper, else obj itself. */
static json_t *unwrap_members(json_t *obj, const query_in_rule *r)
{
    json_t *inner;

    if (!json_is_object(obj) || json_object_size(obj) != 1)
        return obj;
    inner = json_object_get(obj, r->shape == QUERY_MAP ? "entry" : "member");
    return is_indexed(inner) ? inner : obj;
}

/* Returns a new reference: node with the rules applied below it. */
static json_t *convert(json_t *node, const query_rules *rules)
{
    const char *k;
    json_t *v;

    if (!json_is_object(node))
        return json_incref(node);
    json_t *out = json_object();
    json_object_foreach(node, k, v) {
        const query_in_rule *r = find_in_rule(rules, k);
        if (!r)
            r = find_in_rule_by_json_name(rules, k);
        /* An empty list or map is sent as the bare name with no value. */
        if (r && json_is_string(v) && json_string_length(v) == 0) {
            json_object_set_new(out, r->json_name,
                                r->shape == QUERY_MAP ? json_object() : json_array());
            continue;
        }
        if (r && !rules->flattened)
            v = unwrap_members(v, r);
        if (r && is_indexed(v)) {
            json_t *arr = indexed_to_array(v, rules);
            if (r->shape == QUERY_MAP) {
                json_t *map = json_object();
                size_t i;
                json_t *e;
                json_array_foreach(arr, i, e) {
                    json_t *key = json_object_get(e, r->key_name);
                    json_t *val = json_object_get(e, r->value_name);
                    if (!json_is_string(key))
                        continue;
                    /* A NUL in a map key must not shorten it (see
                     * api_sanitize_nul): it becomes 0x01, an invalid byte. */
                    char *name = xstrndup(json_string_value(key), json_string_length(key));
                    for (size_t c = 0; c < json_string_length(key); c++)
                        if (name[c] == '\0')
                            name[c] = '\x01';
                    json_object_set_new(map, name, val ? json_incref(val) : json_string(""));
                    free(name);
                }
                json_object_set_new(out, r->json_name, map);
                json_decref(arr);
            } else {
                json_object_set_new(out, r->json_name, arr);
            }
        } else {
            json_object_set_new(out, k, convert(v, rules));
        }
    }
    return out;
}

json_t *query_to_json(const form *f, const query_rules *rules)
{
    json_t *tree = json_object();

    for (size_t i = 0; i < f->n; i++) {
        const form_pair *p = &f->pairs[i];
        if (strcmp(p->key, "Action") == 0 || strcmp(p->key, "Version") == 0)
            continue;
        if (strlen(p->key) != p->key_len || p->key_len > 512)
            continue; /* a NUL inside a key, or a key longer than any AWS parameter
                       * name (each '.' nests a level that convert() recurses into:
                       * "a.a.a...=1" in a 200 KB body overflowed the stack) */
        tree_set(tree, p->key, json_stringn_nocheck(p->value, p->value_len));
    }
    json_t *out = convert(tree, rules);
    json_decref(tree);
    return out;
}

/* --- XML ------------------------------------------------------------------ */

/* The length of the well-formed UTF-8 sequence at s (XML-allowed code
 * points only), or 0. */
static size_t utf8_sequence_length(const char *s, size_t n)
{
    unsigned c = (unsigned char)s[0];
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;

    if (len == 0 || len > n || !utf8_valid(s, len))
        return 0;
    /* U+FFFE and U+FFFF are not XML characters either. */
    if (len == 3 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbf &&
        (unsigned char)s[2] >= 0xbe)
        return 0;
    return len;
}

void xml_escape(buf *out, const char *s, size_t n)
{
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\r': rep = "&#xD;"; break;
        case '\t': case '\n': break;
        default:
            /* Control characters cannot appear in XML 1.0, not even as
             * references, and neither can bytes that are not UTF-8: both
             * are echoed as U+FFFD. */
            if ((unsigned char)s[i] < 0x20) {
                rep = "\xef\xbf\xbd";
            } else if ((unsigned char)s[i] >= 0x80) {
                size_t len = utf8_sequence_length(s + i, n - i);
                if (len == 0) {
                    rep = "\xef\xbf\xbd";
                } else {
                    i += len - 1;
                    continue;
                }
            }
            break;
        }
        if (rep) {
            buf_append(out, s + run, i - run);
            buf_puts(out, rep);
            run = i + 1;
        }
    }
    buf_append(out, s + run, n - run);
}

static const query_out_rule *find_out_rule(const query_rules *rules, const char *name,
                                           const char *action)
{
    for (const query_out_rule *r = rules->out; r && r->json_name; r++)
        if (strcmp(r->json_name, name) == 0 && (!r->action || strcmp(r->action, action) == 0))
            return r;
    return NULL;
}

static void render_members(buf *out, const query_rules *rules, const char *action, json_t *obj);

static void render_scalar(buf *out, json_t *v)
{
    if (json_is_string(v))
        xml_escape(out, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v))
        buf_printf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        buf_printf(out, "%.17g", json_real_value(v));
    else if (json_is_true(v))
        buf_puts(out, "true");
    else if (json_is_false(v))
        buf_puts(out, "false");
}

static void render_inner(buf *out, const query_rules *rules, const char *action, json_t *v)
{
    if (json_is_object(v))
        render_members(out, rules, action, v);
    else
        render_scalar(out, v);
}

static void open_tag(buf *out, const char *name)
{
    buf_printf(out, "<%s>", name);
}

static void close_tag(buf *out, const char *name)
{
    buf_printf(out, "</%s>", name);
}

static void render_member(buf *out, const query_rules *rules, const char *action,
                          const char *name, json_t *v)
{
    const query_out_rule *r = find_out_rule(rules, name, action);
    const char *elem = r ? r->element : name;
    size_t i;
    json_t *e;

    if (json_is_null(v))
        return;
    if (r && r->shape == QUERY_MAP && json_is_object(v)) {
        const char *k;
        if (!rules->flattened)
            open_tag(out, name);
        json_object_foreach(v, k, e) {
            open_tag(out, rules->flattened ? elem : "entry");
            open_tag(out, r->key_name);
            xml_escape(out, k, strlen(k));
            close_tag(out, r->key_name);
            open_tag(out, r->value_name);
            render_inner(out, rules, action, e);
            close_tag(out, r->value_name);
            close_tag(out, rules->flattened ? elem : "entry");
        }
        if (!rules->flattened)
            close_tag(out, name);
        return;
    }
    if (json_is_array(v)) {
        if (!rules->flattened) {
            open_tag(out, name);
            elem = "member";
        }
        json_array_foreach(v, i, e) {
            open_tag(out, elem);
            render_inner(out, rules, action, e);
            close_tag(out, elem);
        }
        if (!rules->flattened)
            close_tag(out, name);
        return;
    }
    open_tag(out, elem);
    render_inner(out, rules, action, v);
    close_tag(out, elem);
}

static void render_members(buf *out, const query_rules *rules, const char *action, json_t *obj)
{
    const char *k;
    json_t *v;

    json_object_foreach(obj, k, v)
        render_member(out, rules, action, k, v);
}

void query_render_result(buf *out, const api_service *svc, const char *action, json_t *output,
                         const char *request_id)
{
    buf_printf(out, "<?xml version=\"1.0\"?><%sResponse xmlns=\"%s\">", action,
               svc->xml_namespace);
    /* SDKs look for the Result element even when it has nothing in it. */
    if (output && json_object_size(output) > 0) {
        buf_printf(out, "<%sResult>", action);
        render_members(out, svc->query_rules, action, output);
        buf_printf(out, "</%sResult>", action);
    } else {
        buf_printf(out, "<%sResult/>", action);
    }
    buf_printf(out, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
               request_id, action);
}

void query_render_error(buf *out, const char *xml_namespace, const aws_error *e,
                        const char *message, const char *request_id)
{
    buf_printf(out, "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"%s\"><Error><Type>%s</Type>"
               "<Code>%s</Code><Message>",
               xml_namespace, e->sender_fault ? "Sender" : "Receiver", e->query_code);
    xml_escape(out, message, strlen(message));
    buf_printf(out, "</Message><Detail/></Error><RequestId>%s</RequestId></ErrorResponse>",
               request_id);
}
