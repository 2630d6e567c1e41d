/*
 * credentials.c - the credentials file and request signature checks; see
 * credentials.h.
 *
 * Keys are looked up by a linear scan: a credentials file holds a handful
 * of identities, and the scan compares public access key ids only.  Every
 * secret is wiped before it is freed.
 */
#include "server/credentials.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/policy.h"
#include "wire/sigv4.h"

#define MAX_CREDENTIALS_FILE (1u << 20)
#define MAX_SIGNED_REQUEST_HEADERS 128

struct cred_store {
    cred_identity *ids;
    size_t n;
};

static bool valid_account(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isdigit((unsigned char)s[n]))
            return false;
    return n == 12;
}

static bool valid_key_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '-')
            return false;
    return n >= 1 && n <= 128;
}

/* A non-empty string member of obj, or NULL. */
static const char *member(json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s && *s && strlen(s) == json_string_length(json_object_get(obj, name)) ? s : NULL;
}

cred_store *cred_store_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    cred_store *s;
    size_t i;
    json_t *e;

    if (!doc) {
        snprintf(err, errlen, "not valid JSON (line %d: %s)", jerr.line, jerr.text);
        return NULL;
    }
    if (!json_is_array(doc) || json_array_size(doc) == 0) {
        snprintf(err, errlen, "must be a non-empty JSON array of {\"accessKeyId\", "
                 "\"secretAccessKey\", \"accountId\", \"allow\"} objects");
        json_decref(doc);
        return NULL;
    }
    s = xcalloc(1, sizeof *s);
    s->ids = xcalloc(json_array_size(doc), sizeof *s->ids);
    json_array_foreach(doc, i, e) {
        const char *key = member(e, "accessKeyId");
        const char *secret = member(e, "secretAccessKey");
        const char *account = member(e, "accountId");
        json_t *allow = json_object_get(e, "allow");
        const char *name;
        json_t *v;
        char why[256];

        if (!json_is_object(e)) {
            snprintf(err, errlen, "entry %zu is not an object", i);
            goto fail;
        }
        if (!key || !valid_key_id(key)) {
            snprintf(err, errlen, "entry %zu needs \"accessKeyId\": 1 to 128 letters, digits, "
                     "'_' or '-'", i);
            goto fail;
        }
        if (!secret) {
            snprintf(err, errlen, "entry %zu (%s) needs a non-empty \"secretAccessKey\"", i,
                     key);
            goto fail;
        }
        if (!account || !valid_account(account)) {
            snprintf(err, errlen, "entry %zu (%s) needs \"accountId\": 12 digits", i, key);
            goto fail;
        }
        if (allow && policy_allow_list_check(allow, why, sizeof why) < 0) {
            snprintf(err, errlen, "entry %zu (%s): %s", i, key, why);
            goto fail;
        }
        json_object_foreach(e, name, v) {
            if (strcmp(name, "accessKeyId") && strcmp(name, "secretAccessKey") &&
                strcmp(name, "accountId") && strcmp(name, "allow")) {
                snprintf(err, errlen, "entry %zu (%s) has an unknown member \"%s\"", i, key,
                         name);
                goto fail;
            }
        }
        if (cred_store_find(s, key)) {
            snprintf(err, errlen, "access key %s appears twice", key);
            goto fail;
        }
        cred_identity *id = &s->ids[s->n++];
        id->access_key = xstrdup(key);
        id->secret = xstrdup(secret);
        id->account = xstrdup(account);
        id->allow = allow ? json_deep_copy(allow) : NULL;
    }
    json_decref(doc);
    return s;
fail:
    json_decref(doc);
    cred_store_free(s);
    return NULL;
}

cred_store *cred_store_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    buf b;
    char chunk[4096];
    size_t n;

    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= MAX_CREDENTIALS_FILE)
        buf_append(&b, chunk, n);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || b.len > MAX_CREDENTIALS_FILE) {
        snprintf(err, errlen, "cannot read %s%s", path, failed ? "" : ": larger than 1 MiB");
        if (b.data)
            OPENSSL_cleanse(b.data, b.len);
        buf_free(&b);
        return NULL;
    }
    char why[400];
    cred_store *s = cred_store_parse(b.data ? b.data : "", b.len, why, sizeof why);
    if (!s)
        snprintf(err, errlen, "%s: %s", path, why);
    if (b.data)
        OPENSSL_cleanse(b.data, b.len);
    buf_free(&b);
    return s;
}

const cred_identity *cred_store_find(const cred_store *s, const char *access_key)
{
    for (size_t i = 0; s && access_key && i < s->n; i++)
        if (strcmp(s->ids[i].access_key, access_key) == 0)
            return &s->ids[i];
    return NULL;
}

size_t cred_store_count(const cred_store *s)
{
    return s ? s->n : 0;
}

void cred_store_free(cred_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        OPENSSL_cleanse(s->ids[i].secret, strlen(s->ids[i].secret));
        free(s->ids[i].secret);
        free(s->ids[i].access_key);
        free(s->ids[i].account);
        json_decref(s->ids[i].allow);
    }
    free(s->ids);
    free(s);
}

/* --- checking a request -------------------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "GET";
    }
}

static int fail(cred_result *out, aws_error_id err, const char *msg)
{
    out->identity = NULL;
    out->error = err;
    snprintf(out->message, sizeof out->message, "%s", msg);
    return -1;
}

int cred_check_request(const cred_store *s, struct evhttp_request *req, const void *body,
                       size_t len, int64_t now_s, bool json_protocol, cred_result *out)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *uri = evhttp_request_get_uri(req);
    sigv4_header headers[MAX_SIGNED_REQUEST_HEADERS];
    size_t nh = 0;
    char msg[512];
    sigv4_auth auth;

    memset(out, 0, sizeof *out);
    for (struct evkeyval *kv = in->tqh_first; kv && nh < MAX_SIGNED_REQUEST_HEADERS;
         kv = kv->next.tqe_next)
        headers[nh++] = (sigv4_header){kv->key, kv->value};

    /* The request target as sent: origin form "/path?query" (an absolute
     * form's scheme and authority are skipped). */
    const char *target = uri ? uri : "/";
    const char *scheme = strstr(target, "://");
    if (scheme && scheme < target + strcspn(target, "/?"))
        target = scheme + 3 + strcspn(scheme + 3, "/?");
    size_t plen = strcspn(target, "?#");
    char *path = xstrndup(target, plen);
    char *query = target[plen] == '?' ? xstrndup(target + plen + 1,
                                                 strcspn(target + plen + 1, "#"))
                                      : NULL;
    sigv4_request r = {method_name(evhttp_request_get_command(req)),
                       *path ? path : "/", query, headers, nh, body, len};
    int rc = 0;

    switch (sigv4_parse_request(&r, &auth, msg, sizeof msg)) {
    case SIGV4_OK:
        break;
    case SIGV4_MISSING:
        rc = fail(out, AWS_ERR_AUTH_MISSING_TOKEN,
                  json_protocol ? "Missing Authentication Token"
                                : "Request is missing Authentication Token");
        goto done;
    default:
        rc = fail(out, AWS_ERR_AUTH_INCOMPLETE_SIGNATURE, msg);
        goto done;
    }
    out->identity = cred_store_find(s, auth.scope.access_key);
    if (!out->identity) {
        rc = fail(out, AWS_ERR_AUTH_INVALID_CLIENT_TOKEN_ID,
                  "The security token included in the request is invalid.");
        goto done;
    }
    if (sigv4_verify(&r, &auth, out->identity->secret, now_s, msg, sizeof msg) != SIGV4_OK)
        rc = fail(out, AWS_ERR_AUTH_SIGNATURE_MISMATCH, msg);
done:
    free(path);
    free(query);
    return rc;
}
