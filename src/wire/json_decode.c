/* json_decode.c - cJSON parse, jansson tree; see json_decode.h. */
#include "wire/json_decode.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/codec.h"

void json_count_allocations(void)
{
    cJSON_Hooks hooks = {mem_malloc, mem_free};

    json_set_alloc_funcs(mem_malloc, mem_free);
    cJSON_InitHooks(&hooks);
}

/* True if the text holds a \u0000 escape (any hex case). */
static bool has_escaped_nul(const char *s, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++) {
        if (s[i] == '\\' && (s[i + 1] == 'u' || s[i + 1] == 'U') && s[i + 2] == '0' &&
            s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
            return true;
        if (s[i] == '\\')
            i++; /* skip the escaped character, so "\\u0000" is not a match */
    }
    return false;
}

static json_t *convert(const cJSON *c, int depth)
{
    if (depth > 128)
        return NULL;
    if (cJSON_IsString(c))
        return json_stringn_nocheck(c->valuestring, strlen(c->valuestring));
    if (cJSON_IsNumber(c)) {
        double v = c->valuedouble;
        if (v == floor(v) && fabs(v) < 9007199254740992.0)
            return json_integer((json_int_t)v);
        return json_real(v);
    }
    if (cJSON_IsTrue(c))
        return json_true();
    if (cJSON_IsFalse(c))
        return json_false();
    if (cJSON_IsNull(c))
        return json_null();
    if (cJSON_IsArray(c)) {
        json_t *arr = json_array();
        for (const cJSON *e = c->child; e; e = e->next) {
            json_t *v = convert(e, depth + 1);
            if (!v) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        return arr;
    }
    if (cJSON_IsObject(c)) {
        json_t *obj = json_object();
        for (const cJSON *e = c->child; e; e = e->next) {
            json_t *v = convert(e, depth + 1);
            if (!v || !e->string) {
                json_decref(v);
                json_decref(obj);
                return NULL;
            }
            /* Repeated keys: the last one wins, as in AWS's parsers. */
            json_object_set_new_nocheck(obj, e->string, v);
        }
        return obj;
    }
    return NULL;
}

json_t *json_decode(const char *text, size_t len)
{
    const char *end = NULL;

    if (!utf8_valid(text, len))
        return NULL;
    if (has_escaped_nul(text, len))
        return json_loadb(text, len, JSON_ALLOW_NUL, NULL);
    cJSON *c = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!c)
        return NULL;
    /* Only whitespace may follow the value. */
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            cJSON_Delete(c);
            return NULL;
        }
    }
    json_t *j = convert(c, 0);
    cJSON_Delete(c);
    return j;
}

/* Copies a jansson value into cJSON; NULL if it holds something cJSON cannot
 * print faithfully (a string with a NUL byte). */
static cJSON *to_cjson(const json_t *v, int depth)
{
    if (depth > 128)
        return NULL;
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v))
            return NULL;
        return cJSON_CreateString(s);
    }
    case JSON_INTEGER: {
        char num[32];
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return cJSON_CreateRaw(num);
    }
    case JSON_REAL: {
        char num[40];
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        return cJSON_CreateRaw(num);
    }
    case JSON_TRUE:
        return cJSON_CreateTrue();
    case JSON_FALSE:
        return cJSON_CreateFalse();
    case JSON_NULL:
        return cJSON_CreateNull();
    case JSON_ARRAY: {
        cJSON *arr = cJSON_CreateArray();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            cJSON *c = to_cjson(e, depth + 1);
            if (!c) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, c);
        }
        return arr;
    }
    case JSON_OBJECT: {
        cJSON *obj = cJSON_CreateObject();
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            cJSON *c = to_cjson(e, depth + 1);
            if (!c) {
                cJSON_Delete(obj);
                return NULL;
            }
            cJSON_AddItemToObject(obj, k, c);
        }
        return obj;
    }
    }
    return NULL;
}

char *json_encode(const json_t *v)
{
    cJSON *c = to_cjson(v, 0);
    char *text;

    if (!c)
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    return text;
}
