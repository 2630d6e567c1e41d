/*
 * sigv4.c - SigV4 credential scopes and signature verification; see
 * sigv4.h.
 *
 * Everything works on the request as it arrived: the path and query are
 * still percent-encoded, so the canonical forms are rebuilt from them
 * (decode, then encode again with the strict set) rather than from any
 * decoded copy the router made.  The crypto is OpenSSL's one-shot SHA256
 * and HMAC; the final comparison is CRYPTO_memcmp.
 */
#include "wire/sigv4.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/codec.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MISMATCH_TEXT                                                                      \
    "The request signature we calculated does not match the signature you provided. "      \
    "Check your AWS Secret Access Key and signing method. Consult the service "            \
    "documentation for details."

/* --- credential scope ------------------------------------------------------ */

static bool copy_field(const char **p, const char *end, char *out, size_t cap, char stop)
{
    const char *s = *p;
    const char *e = memchr(s, stop, (size_t)(end - s));
    if (!e)
        e = end;
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = e < end ? e + 1 : e;
    return true;
}

bool sigv4_parse_credential(const char *cred, sigv4_scope *scope)
{
    const char *end = cred + strcspn(cred, ", ");
    const char *p = cred;
    char terminal[16];

    memset(scope, 0, sizeof *scope);
    if (!copy_field(&p, end, scope->access_key, sizeof scope->access_key, '/') ||
        !copy_field(&p, end, scope->date, sizeof scope->date, '/') ||
        !copy_field(&p, end, scope->region, sizeof scope->region, '/') ||
        !copy_field(&p, end, scope->service, sizeof scope->service, '/') ||
        !copy_field(&p, end, terminal, sizeof terminal, '/'))
        return false;
    return strcmp(terminal, "aws4_request") == 0 && p == end;
}

bool sigv4_parse_authorization(const char *header, sigv4_scope *scope)
{
    const char *algo = SIGV4_ALGORITHM;
    const char *cred;

    if (!header || strncmp(header, algo, strlen(algo)) != 0)
        return false;
    cred = strstr(header, "Credential=");
    if (!cred)
        return false;
    return sigv4_parse_credential(cred + strlen("Credential="), scope);
}

/* --- small helpers ------------------------------------------------------------ */

static const char *find_header(const sigv4_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into out ('+' stays a plus).  Returns -1 on a
 * malformed escape. */
static int pct_decode(const char *s, size_t n, buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            buf_putc(out, s[i]);
            continue;
        }
        if (i + 2 >= n)
            return -1;
        int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        buf_putc(out, (char)(hi * 16 + lo));
        i += 2;
    }
    return 0;
}

/* Appends s[0..n) encoded with the strict set: unreserved characters as
 * they are, '/' too when keep_slash, everything else %XX (uppercase). */
static void pct_encode(const char *s, size_t n, bool keep_slash, buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (keep_slash && c == '/')) {
            buf_putc(out, (char)c);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[c >> 4]);
            buf_putc(out, hex[c & 15]);
        }
    }
}

static void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, n, md);
    hex_encode(md, sizeof md, out);
}

static void format_amz_date(int64_t t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

bool sigv4_parse_date(const char *text, bool rfc1123, int64_t *out)
{
    struct tm tm;
    const char *end;

    if (!text)
        return false;
    memset(&tm, 0, sizeof tm);
    if (rfc1123) {
        end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    } else {
        if (strlen(text) != 16)
            return false;
        for (int i = 0; i < 16; i++) {
            bool digit = isdigit((unsigned char)text[i]) != 0;
            if ((i == 8 && text[i] != 'T') || (i == 15 && text[i] != 'Z') ||
                (i != 8 && i != 15 && !digit))
                return false;
        }
        end = strptime(text, "%Y%m%dT%H%M%SZ", &tm);
    }
    if (!end || *end)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

/* --- parsing what the request claims ------------------------------------------ */

/* Copies the value of "Name=" inside an Authorization header (up to the next
 * comma) into out; false if absent or too long. */
static bool auth_part(const char *header, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = header + strlen(SIGV4_ALGORITHM);

    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t len = strcspn(p, ",");
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen == 0 || vlen >= cap)
                return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        p += len;
    }
    return false;
}

/* The decoded value of query parameter name (first occurrence) into out. */
static bool query_param(const char *query, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = query;

    while (p && *p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        if (klen == nlen && strncmp(p, name, nlen) == 0) {
            buf v;
            buf_init(&v);
            bool ok = eq && pct_decode(eq + 1, len - klen - 1, &v) == 0 && v.len < cap &&
                      !memchr(v.data ? v.data : "", '\0', v.len);
            if (ok) {
                memcpy(out, v.data ? v.data : "", v.len);
                out[v.len] = '\0';
            }
            buf_free(&v);
            return ok;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return false;
}

static bool valid_signed_headers(const char *list)
{
    for (const char *p = list; *p; p++)
        if (isupper((unsigned char)*p) || *p == ' ')
            return false;
    return *list && list[strlen(list) - 1] != ';';
}

static bool signs_host(const char *list)
{
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ";");
        if (len == 4 && strncmp(p, "host", 4) == 0)
            return true;
        p += len;
        if (*p == ';')
            p++;
    }
    return false;
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
            return false;
    return true;
}

static sigv4_status parse_header_form(const sigv4_request *req, const char *header,
                                      sigv4_auth *auth, char *msg, size_t msglen)
{
    char cred[512];
    size_t alen = strlen(SIGV4_ALGORITHM);

    if (strncmp(header, SIGV4_ALGORITHM, alen) != 0 || (header[alen] != ' ' && header[alen])) {
        snprintf(msg, msglen, "Unsupported AWS 'algorithm': '%.*s'. Use %s.",
                 (int)strcspn(header, " "), header, SIGV4_ALGORITHM);
        return SIGV4_INCOMPLETE;
    }
    static const char *const parts[] = {"Credential", "SignedHeaders", "Signature"};
    char *outs[] = {cred, auth->signed_headers, auth->signature};
    size_t caps[] = {sizeof cred, sizeof auth->signed_headers, sizeof auth->signature};
    for (int i = 0; i < 3; i++) {
        if (!auth_part(header, parts[i], outs[i], caps[i])) {
            snprintf(msg, msglen, "Authorization header requires '%s' parameter.", parts[i]);
            return SIGV4_INCOMPLETE;
        }
    }
    if (!sigv4_parse_credential(cred, &auth->scope)) {
        snprintf(msg, msglen, "Credential should be scoped to a valid region, service and "
                 "date: the credential must have the form "
                 "<key>/<yyyymmdd>/<region>/<service>/aws4_request.");
        return SIGV4_INCOMPLETE;
    }
    const char *amz = find_header(req, "X-Amz-Date");
    const char *date = find_header(req, "Date");
    if (amz) {
        if (!sigv4_parse_date(amz, false, &auth->when)) {
            snprintf(msg, msglen, "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                     "http://en.wikipedia.org/wiki/ISO_8601", amz);
            return SIGV4_INCOMPLETE;
        }
    } else if (date) {
        if (!sigv4_parse_date(date, true, &auth->when)) {
            snprintf(msg, msglen, "Date must be in RFC 1123 format. Got '%s'.", date);
            return SIGV4_INCOMPLETE;
        }
    } else {
        snprintf(msg, msglen, "Authorization header requires existence of either a "
                 "'X-Amz-Date' or a 'Date' header.");
        return SIGV4_INCOMPLETE;
    }
    format_amz_date(auth->when, auth->amz_date);
    return SIGV4_OK;
}

static sigv4_status parse_query_form(const sigv4_request *req, sigv4_auth *auth, char *msg,
                                     size_t msglen)
{
    char algo[64], cred[512], expires[32];
    static const char *const names[] = {"X-Amz-Algorithm", "X-Amz-Credential",
                                        "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders",
                                        "X-Amz-Expires"};
    char *outs[] = {algo, cred, auth->signature, auth->amz_date, auth->signed_headers,
                    expires};
    size_t caps[] = {sizeof algo,          sizeof cred,
                     sizeof auth->signature, sizeof auth->amz_date,
                     sizeof auth->signed_headers, sizeof expires};

    auth->presigned = true;
    for (int i = 0; i < 6; i++) {
        if (!query_param(req->query, names[i], outs[i], caps[i]) || !*outs[i]) {
            snprintf(msg, msglen, "AWS query-string parameters must include '%s'. "
                     "Re-examine the query-string parameters.", names[i]);
            if (i > 1)
                sigv4_parse_credential(cred, &auth->scope);
            return SIGV4_INCOMPLETE;
        }
    }
    if (strcmp(algo, SIGV4_ALGORITHM) != 0) {
        snprintf(msg, msglen, "X-Amz-Algorithm only supports \"%s\"", SIGV4_ALGORITHM);
        return SIGV4_INCOMPLETE;
    }
    if (!sigv4_parse_credential(cred, &auth->scope)) {
        snprintf(msg, msglen, "Credential should be scoped to a valid region, service and "
                 "date: the credential must have the form "
                 "<key>/<yyyymmdd>/<region>/<service>/aws4_request.");
        return SIGV4_INCOMPLETE;
    }
    if (!sigv4_parse_date(auth->amz_date, false, &auth->when)) {
        snprintf(msg, msglen, "X-Amz-Date must be in the ISO8601 Long Format "
                 "\"yyyyMMdd'T'HHmmss'Z'\"");
        return SIGV4_INCOMPLETE;
    }
    char *end;
    long e = strtol(expires, &end, 10);
    if (*end || !isdigit((unsigned char)expires[0])) {
        snprintf(msg, msglen, "X-Amz-Expires should be a number");
        return SIGV4_INCOMPLETE;
    }
    if (e < 1 || e > SIGV4_MAX_EXPIRES_S) {
        snprintf(msg, msglen, "X-Amz-Expires must be between 1 and %d seconds (one week)",
                 SIGV4_MAX_EXPIRES_S);
        return SIGV4_INCOMPLETE;
    }
    auth->expires = e;
    return SIGV4_OK;
}

sigv4_status sigv4_parse_request(const sigv4_request *req, sigv4_auth *auth, char *msg,
                                 size_t msglen)
{
    const char *header = find_header(req, "Authorization");
    char probe[8];
    sigv4_status st;

    memset(auth, 0, sizeof *auth);
    snprintf(msg, msglen, "%s", "");
    if (header && *header)
        st = parse_header_form(req, header, auth, msg, msglen);
    else if (req->query && (query_param(req->query, "X-Amz-Algorithm", probe, sizeof probe) ||
                            query_param(req->query, "X-Amz-Signature", probe, sizeof probe) ||
                            query_param(req->query, "X-Amz-Credential", probe, sizeof probe) ||
                            strstr(req->query, "X-Amz-Algorithm=") ||
                            strstr(req->query, "X-Amz-Credential=")))
        st = parse_query_form(req, auth, msg, msglen);
    else
        return SIGV4_MISSING;
    if (st != SIGV4_OK)
        return st;
    if (!valid_signed_headers(auth->signed_headers)) {
        snprintf(msg, msglen, "SignedHeaders must be lowercase header names separated by ';'.");
        return SIGV4_INCOMPLETE;
    }
    if (!signs_host(auth->signed_headers)) {
        snprintf(msg, msglen, "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                 "Authorization.");
        return SIGV4_INCOMPLETE;
    }
    if (!is_hex64(auth->signature)) {
        snprintf(msg, msglen, "%s", MISMATCH_TEXT);
        return SIGV4_INCOMPLETE;
    }
    return SIGV4_OK;
}

/* --- the canonical request ------------------------------------------------------ */

/* The path with "." and ".." segments and empty segments removed. */
static void normalize_path(const char *path, buf *out)
{
    size_t *starts = xcalloc(strlen(path) + 2, sizeof *starts);
    size_t depth = 0;
    const char *p = path;

    buf_putc(out, '/');
    while (*p) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (depth) {
                out->len = starts[--depth];
                out->data[out->len] = '\0';
            }
        } else {
            starts[depth++] = out->len;
            if (out->len > 1)
                buf_putc(out, '/');
            buf_append(out, p, len);
        }
        p += len;
    }
    /* A trailing slash survives when something is left before it. */
    size_t n = strlen(path);
    if (n > 1 && path[n - 1] == '/' && out->len > 1)
        buf_putc(out, '/');
    free(starts);
}

typedef struct qpair {
    char *key;
    char *value;
} qpair;

static int cmp_qpair(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Decodes then strictly re-encodes one key or value into a new string. */
static char *reencode(const char *s, size_t n)
{
    buf raw, enc;
    buf_init(&raw);
    buf_init(&enc);
    if (pct_decode(s, n, &raw) < 0) {
        buf_free(&raw);
        return NULL;
    }
    pct_encode(raw.data ? raw.data : "", raw.len, false, &enc);
    buf_free(&raw);
    buf_putc(&enc, '\0');
    return buf_steal(&enc);
}

static int canonical_query(const char *query, bool presigned, buf *out)
{
    size_t cap = 8, n = 0;
    qpair *pairs = xcalloc(cap, sizeof *pairs);
    const char *p = query ? query : "";
    int rc = 0;

    while (*p) {
        size_t len = strcspn(p, "&");
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            bool skip = presigned && klen == 15 && strncmp(p, "X-Amz-Signature", 15) == 0;
            if (!skip) {
                if (n == cap) {
                    cap *= 2;
                    pairs = xrealloc(pairs, cap * sizeof *pairs);
                }
                pairs[n].key = reencode(p, klen);
                pairs[n].value = eq ? reencode(eq + 1, len - klen - 1) : xstrdup("");
                n++;
                if (!pairs[n - 1].key || !pairs[n - 1].value)
                    rc = -1;
            }
        }
        p += len;
        if (*p == '&')
            p++;
    }
    if (rc == 0) {
        qsort(pairs, n, sizeof *pairs, cmp_qpair);
        for (size_t i = 0; i < n; i++)
            buf_printf(out, "%s%s=%s", i ? "&" : "", pairs[i].key, pairs[i].value);
    }
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
    return rc;
}

/* Appends value with surrounding whitespace dropped and inner runs folded. */
static void trimall(const char *v, buf *out)
{
    bool pending_space = false, started = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            pending_space = started;
            continue;
        }
        if (pending_space)
            buf_putc(out, ' ');
        pending_space = false;
        started = true;
        buf_putc(out, *v);
    }
}

static int canonical_headers(const sigv4_request *req, const char *list, buf *out)
{
    const char *p = list;

    while (*p) {
        size_t len = strcspn(p, ";");
        bool found = false;
        buf_append(out, p, len);
        buf_putc(out, ':');
        for (size_t i = 0; i < req->nheaders; i++) {
            const char *name = req->headers[i].name;
            if (strlen(name) != len || strncasecmp(name, p, len) != 0)
                continue;
            if (found)
                buf_putc(out, ',');
            trimall(req->headers[i].value ? req->headers[i].value : "", out);
            found = true;
        }
        if (!found)
            return -1;
        buf_putc(out, '\n');
        p += len;
        if (*p == ';')
            p++;
    }
    return 0;
}

int sigv4_canonical_request(const sigv4_request *req, const sigv4_auth *auth, buf *out)
{
    buf path;
    const char *payload = find_header(req, "X-Amz-Content-SHA256");
    char hash[65];

    buf_puts(out, req->method);
    buf_putc(out, '\n');
    buf_init(&path);
    normalize_path(req->path && *req->path ? req->path : "/", &path);
    pct_encode(path.data, path.len, true, out);
    buf_free(&path);
    buf_putc(out, '\n');
    if (canonical_query(req->query, auth->presigned, out) < 0)
        return -1;
    buf_putc(out, '\n');
    if (canonical_headers(req, auth->signed_headers, out) < 0)
        return -1;
    buf_putc(out, '\n');
    buf_puts(out, auth->signed_headers);
    buf_putc(out, '\n');
    if (!payload) {
        if (req->body_len)
            sha256_hex(req->body, req->body_len, hash);
        else
            snprintf(hash, sizeof hash, "%s", EMPTY_SHA256);
        payload = hash;
    }
    buf_puts(out, payload);
    return 0;
}

void sigv4_string_to_sign(const sigv4_auth *auth, const char *canonical, size_t len, buf *out)
{
    char hash[65];

    sha256_hex(canonical, len, hash);
    buf_printf(out, "%s\n%s\n%s/%s/%s/aws4_request\n%s", SIGV4_ALGORITHM, auth->amz_date,
               auth->scope.date, auth->scope.region, auth->scope.service, hash);
}

static void hmac(const void *key, size_t klen, const char *msg, size_t mlen,
                 unsigned char out[32])
{
    unsigned int olen = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &olen);
}

void sigv4_sign(const char *secret, const sigv4_scope *scope, const char *string_to_sign,
                size_t len, char out[65])
{
    buf k;
    unsigned char a[32], b[32];

    buf_init(&k);
    buf_printf(&k, "AWS4%s", secret);
    hmac(k.data, k.len, scope->date, strlen(scope->date), a);
    OPENSSL_cleanse(k.data, k.len);
    buf_free(&k);
    hmac(a, 32, scope->region, strlen(scope->region), b);
    hmac(b, 32, scope->service, strlen(scope->service), a);
    hmac(a, 32, "aws4_request", 12, b);
    hmac(b, 32, string_to_sign, len, a);
    hex_encode(a, 32, out);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
}

/* --- verification ------------------------------------------------------------------ */

static sigv4_status check_time(const sigv4_auth *auth, int64_t now, char *msg, size_t msglen)
{
    char a[17], b[17], c[17];

    format_amz_date(now, c);
    if (auth->when > now + SIGV4_MAX_SKEW_S) {
        format_amz_date(now + SIGV4_MAX_SKEW_S, b);
        snprintf(msg, msglen, "Signature not yet current: %s is still later than %s (%s + 15 "
                 "min.)", auth->amz_date, b, c);
        return SIGV4_EXPIRED;
    }
    if (auth->presigned) {
        if (auth->when + auth->expires < now) {
            format_amz_date(auth->when + auth->expires, a);
            snprintf(msg, msglen, "Signature expired: %s is now earlier than %s (%s + %ld "
                     "sec.)", a, c, auth->amz_date, auth->expires);
            return SIGV4_EXPIRED;
        }
        return SIGV4_OK;
    }
    if (auth->when < now - SIGV4_MAX_SKEW_S) {
        format_amz_date(now - SIGV4_MAX_SKEW_S, b);
        snprintf(msg, msglen, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
                 auth->amz_date, b, c);
        return SIGV4_EXPIRED;
    }
    return SIGV4_OK;
}

sigv4_status sigv4_verify(const sigv4_request *req, const sigv4_auth *auth, const char *secret,
                          int64_t now_s, char *msg, size_t msglen)
{
    sigv4_status st = check_time(auth, now_s, msg, msglen);
    const char *declared = find_header(req, "X-Amz-Content-SHA256");
    buf canon, sts;
    char sig[65];

    if (st != SIGV4_OK)
        return st;
    if (strncmp(auth->scope.date, auth->amz_date, 8) != 0) {
        snprintf(msg, msglen, "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                 "version of date from HTTP: '%s' != '%.8s', from '%s'.", auth->scope.date,
                 auth->amz_date, auth->amz_date);
        return SIGV4_MISMATCH;
    }
    if (declared && strcmp(declared, "UNSIGNED-PAYLOAD") != 0) {
        char actual[65];
        if (req->body_len)
            sha256_hex(req->body, req->body_len, actual);
        else
            snprintf(actual, sizeof actual, "%s", EMPTY_SHA256);
        if (strcasecmp(declared, actual) != 0) {
            snprintf(msg, msglen, "The provided 'x-amz-content-sha256' header does not match "
                     "what was computed.");
            return SIGV4_MISMATCH;
        }
    }
    buf_init(&canon);
    buf_init(&sts);
    if (sigv4_canonical_request(req, auth, &canon) < 0) {
        buf_free(&canon);
        snprintf(msg, msglen, "%s", MISMATCH_TEXT);
        return SIGV4_MISMATCH;
    }
    sigv4_string_to_sign(auth, canon.data, canon.len, &sts);
    sigv4_sign(secret, &auth->scope, sts.data, sts.len, sig);
    buf_free(&canon);
    buf_free(&sts);
    if (CRYPTO_memcmp(sig, auth->signature, 64) != 0) {
        snprintf(msg, msglen, "%s", MISMATCH_TEXT);
        return SIGV4_MISMATCH;
    }
    return SIGV4_OK;
}
