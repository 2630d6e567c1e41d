/*
 * message_attrs.c - message attributes: validation, size and the MD5 digest
 * that SDKs check (MD5OfMessageAttributes / MD5OfMessageSystemAttributes),
 * and the XML character rule for bodies.
 *
 * Digest: attributes sorted by name; for each, the 4-byte big-endian length
 * and bytes of the name, the same for the data type, then a transport byte
 * (1 for String/Number, 2 for Binary) and the length-prefixed value (UTF-8
 * text, or the decoded binary bytes).  MD5 over the concatenation.
 */
#include <openssl/evp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/codec.h"
#include "sqs/sqs.h"

void sqs_md5_hex(const void *data, size_t n, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    EVP_Digest(data, n, md, &len, EVP_md5(), NULL);
    hex_encode(md, len, out);
}

static void put_u32(buf *b, size_t v)
{
    unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v};
    buf_append(b, be, 4);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void sqs_message_attrs_md5(json_t *attrs, char out[33])
{
    size_t n = json_object_size(attrs), i = 0;
    const char **names = xcalloc(n, sizeof *names);
    const char *k;
    json_t *v;
    buf b;

    json_object_foreach(attrs, k, v)
        names[i++] = k;
    qsort(names, n, sizeof *names, cmp_str);
    buf_init(&b);
    for (i = 0; i < n; i++) {
        json_t *a = json_object_get(attrs, names[i]);
        const char *type = json_string_value(json_object_get(a, "DataType"));
        json_t *sv = json_object_get(a, "StringValue");
        json_t *bv = json_object_get(a, "BinaryValue");

        if (!type)
            type = "";
        put_u32(&b, strlen(names[i]));
        buf_puts(&b, names[i]);
        put_u32(&b, strlen(type));
        buf_puts(&b, type);
        if (json_is_string(bv) && strncmp(type, "Binary", 6) == 0) {
            size_t len = json_string_length(bv);
            uint8_t *raw = xmalloc(len * 3 / 4 + 3);
            long got = base64_decode(json_string_value(bv), len, raw);
            buf_putc(&b, 2);
            put_u32(&b, got > 0 ? (size_t)got : 0);
            if (got > 0)
                buf_append(&b, raw, (size_t)got);
            free(raw);
        } else {
            buf_putc(&b, 1);
            put_u32(&b, json_string_length(sv));
            buf_append(&b, json_string_value(sv) ? json_string_value(sv) : "",
                       json_string_length(sv));
        }
    }
    sqs_md5_hex(b.data ? b.data : "", b.len, out);
    buf_free(&b);
    free(names);
}

/* True if each of the 8 bytes at p is in 0x20..0x7f: allowed as it is. */
static bool plain_ascii8(const unsigned char *p)
{
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t v;

    memcpy(&v, p, 8);
    /* With no high bit set, adding 0x60 to a byte sets its high bit exactly
     * when the byte is at least 0x20, and never carries into the next. */
    return !(v & high) && ((v + 0x6060606060606060ULL) & high) == high;
}

long sqs_body_invalid_char(const char *body, size_t n)
{
    const unsigned char *s = (const unsigned char *)body;
    size_t i = 0;

    while (i < n) {
        if (i + 8 <= n && plain_ascii8(s + i)) {
            i += 8;
            continue;
        }
        uint32_t cp;
        size_t len;
        unsigned c = s[i];

        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1f;
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0f;
            len = 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07;
            len = 4;
        } else {
            return SQS_BODY_NOT_UTF8;
        }
        if (i + len > n)
            return SQS_BODY_NOT_UTF8;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return SQS_BODY_NOT_UTF8;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return SQS_BODY_NOT_UTF8;
        if (!(cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
              (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)))
            return (long)cp;
        i += len;
    }
    return -1;
}

char *sqs_text_sanitize(const char *text, size_t n, size_t *out_len)
{
    buf out;
    size_t i = 0;

    buf_init(&out);
    buf_reserve(&out, n);
    while (i < n) {
        /* Find the next character SQS refuses, copy what comes before it. */
        long bad = sqs_body_invalid_char(text + i, n - i);
        if (bad == -1) {
            buf_append(&out, text + i, n - i);
            break;
        }
        size_t j = i;
        while (j < n) {
            unsigned c = (unsigned char)text[j];
            size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (j + len > n || sqs_body_invalid_char(text + j, len) != -1) {
                buf_append(&out, text + i, j - i);
                buf_puts(&out, "\xef\xbf\xbd");
                i = j + (j + len > n || len == 1 ? 1 : len);
                break;
            }
            j += len;
        }
        if (j >= n) {
            buf_append(&out, text + i, n - i);
            break;
        }
    }
    *out_len = out.len;
    return buf_steal(&out);
}

static bool valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

static int check_name(api_call *call, const char *name, bool system)
{
    size_t n = strlen(name);
    const char *kind = system ? "system" : "user";

    if (n == 0 || n > 256) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Message (%s) attribute name must be between 1 and 256 characters long.",
                 kind);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!valid_name_char(name[i])) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "Message (%s) attribute name '%s' contains an invalid character.", kind,
                     name);
            return -1;
        }
    }
    if (!system && (strncasecmp(name, "AWS.", 4) == 0 || strncasecmp(name, "Amazon.", 7) == 0)) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Message (user) attribute name '%s' is reserved for use by Amazon.", name);
        return -1;
    }
    if (name[0] == '.' || name[n - 1] == '.' || strstr(name, "..")) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Message (%s) attribute name '%s' must not start or end with a period or "
                 "contain two periods in a row.", kind, name);
        return -1;
    }
    return 0;
}

/* True if s is a number as SQS accepts it for the Number type: a decimal
 * (optional sign, digits with an optional fraction, optional exponent; no
 * NaN, infinity or hex) whose magnitude is 0 or between 10^-128 and
 * 10^+126, the range AWS documents. */
static bool is_number(const char *s)
{
    const char *p = s;
    bool digits = false, nonzero = false;

    if (*p == '+' || *p == '-')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits = true, nonzero |= *p != '0';
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits = true, nonzero |= *p != '0';
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    double v = fabs(strtod(s, NULL));
    return !nonzero || (v >= 1e-128 && v <= 1e126);
}

long sqs_message_attrs_validate(api_call *call, json_t *attrs, bool system)
{
    const char *kind = system ? "system" : "user";
    const char *name;
    json_t *a;
    long total = 0;

    if (!json_is_object(attrs)) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE, "Message attributes must be a map.");
        return -1;
    }
    if (!system && json_object_size(attrs) > SQS_MAX_MESSAGE_ATTRIBUTES) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Number of message attributes [%zu] exceeds the allowed maximum [%d].",
                 json_object_size(attrs), SQS_MAX_MESSAGE_ATTRIBUTES);
        return -1;
    }
    json_object_foreach(attrs, name, a) {
        const char *type, *sv, *bv;
        size_t type_len = 0, sv_len = 0, bv_len = 0;
        int has_sv, has_bv;

        if (check_name(call, name, system) < 0)
            return -1;
        if (system && strcmp(name, "AWSTraceHeader") != 0) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "Message system attribute name '%s' is invalid.", name);
            return -1;
        }
        if (!json_is_object(a)) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "The message (%s) attribute '%s' must be a structure.", kind, name);
            return -1;
        }
        if (param_str(call, a, "DataType", &type, &type_len) <= 0) {
            if (!call->has_error)
                api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                         "The message (%s) attribute '%s' must contain a non-empty message "
                         "attribute type.", kind, name);
            return -1;
        }
        bool is_string = strncmp(type, "String", 6) == 0 && (!type[6] || type[6] == '.');
        bool is_num = strncmp(type, "Number", 6) == 0 && (!type[6] || type[6] == '.');
        bool is_bin = strncmp(type, "Binary", 6) == 0 && (!type[6] || type[6] == '.');
        if ((!is_string && !is_num && !is_bin) || type_len > 256 ||
            (type[6] == '.' && !type[7])) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "The type of message (%s) attribute '%s' is invalid. You must use only the "
                     "following supported type prefixes: Binary, Number, String.", kind, name);
            return -1;
        }
        if (system && !is_string) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "The message system attribute '%s' must be of type String.", name);
            return -1;
        }
        has_sv = param_str(call, a, "StringValue", &sv, &sv_len);
        has_bv = param_str(call, a, "BinaryValue", &bv, &bv_len);
        if (has_sv < 0 || has_bv < 0)
            return -1;
        if (is_bin) {
            if (has_bv <= 0 || bv_len == 0) {
                api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                         "Message (%s) attribute '%s' must contain a non-empty value of type "
                         "'Binary'.", kind, name);
                return -1;
            }
            uint8_t *raw = xmalloc(bv_len * 3 / 4 + 3);
            long got = base64_decode(bv, bv_len, raw);
            free(raw);
            if (got < 0) {
                api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                         "The message (%s) attribute '%s' has an invalid binary value.", kind,
                         name);
                return -1;
            }
            total += got;
            json_object_del(a, "StringValue");
        } else {
            if (has_sv <= 0 || sv_len == 0) {
                api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                         "Message (%s) attribute '%s' must contain a non-empty value of type "
                         "'%s'.", kind, name, is_num ? "Number" : "String");
                return -1;
            }
            if (sqs_body_invalid_char(sv, sv_len) != -1) {
                api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                         "Message (%s) attribute '%s' contains invalid characters.", kind,
                         name);
                return -1;
            }
            if (is_num && !is_number(sv)) {
                api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                         "Can't cast the value of message (%s) attribute '%s' to a number.",
                         kind, name);
                return -1;
            }
            total += (long)sv_len;
            json_object_del(a, "BinaryValue");
        }
        /* Only the members a receive hands back are kept. */
        json_object_del(a, "StringListValues");
        json_object_del(a, "BinaryListValues");
        total += (long)strlen(name) + (long)type_len;
    }
    return total;
}
