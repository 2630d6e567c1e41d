/*
 * fuzz_writers.c - the XML and JSON writers fed hostile strings: what a
 * client can make the server echo (queue URLs, message bodies, attribute
 * names and values, error messages quoting its input).
 *
 * Input: a sequence of length-prefixed strings (one length byte, then that
 * many bytes; the last one takes what is left).  They fill a handler-style
 * output object (SQS ReceiveMessage / GetQueueAttributes shapes, map keys
 * included), an error message, and one raw xml_escape call.
 *
 * Properties checked:
 *  - query_render_result (SQS rules, flattened; SNS rules, member/entry)
 *    and query_render_error write well-formed XML (fuzz_util.h's checker):
 *    balanced tags, no raw '<' or stray '&' in text, only legal characters;
 *  - the XML is UTF-8 whatever the strings hold;
 *  - a string comes back from its element unchanged, except that each byte
 *    XML cannot carry becomes U+FFFD: C0 controls but tab, LF and CR (CR
 *    survives as &#xD;), bytes outside well-formed UTF-8, U+FFFE, U+FFFF;
 *  - json_encode of the same object, when every string is UTF-8, is JSON
 *    that jansson reads back to an equal value.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "fuzz_util.h"
#include "sns/sns.h"
#include "sqs/sqs.h"
#include "wire/api.h"
#include "wire/errors.h"
#include "wire/json_decode.h"
#include "wire/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NSTR 12

/* Made once, kept for the life of the process (owned by this file). */
static api_service *svc_sqs, *svc_sns;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    svc_sqs = sqs_api_service(NULL);
    svc_sns = sns_api_service(NULL);
    return 0;
}

/* The length of the sequence a UTF-8 lead byte announces, or 0. */
static size_t lead_length(unsigned char c)
{
    return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
}

/* What xml_escape's output must decode to: the text itself, except that
 * each byte XML cannot carry (a C0 control other than tab, LF and CR; a
 * byte not part of well-formed UTF-8; a byte of U+FFFE or U+FFFF) becomes
 * U+FFFD.  out must hold 3 * n bytes. */
static size_t expected_text(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : lead_length(c);
        bool ok = len > 0 && len <= n - i && fuzz_utf8_ok(s + i, len);
        if (ok && c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            ok = false;
        if (ok && len == 3 && c == 0xef && (unsigned char)s[i + 1] == 0xbf &&
            (unsigned char)s[i + 2] >= 0xbe)
            ok = false;
        if (!ok) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, s + i, len);
        o += len;
        i += len;
    }
    return o;
}

/* The text of the first <tag>...</tag> in xml must decode to s[0..n). */
static void check_element(const char *xml, size_t xlen, const char *tag, const char *s,
                          size_t n)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = memmem(xml, xlen, open, strlen(open));
    FUZZ_CHECK(a != NULL, "element %s missing", tag);
    a += strlen(open);
    const char *b = memmem(a, xlen - (size_t)(a - xml), close, strlen(close));
    FUZZ_CHECK(b != NULL, "element %s not closed", tag);
    size_t tlen = (size_t)(b - a);
    char *got = malloc(tlen + 1), *want = malloc(3 * n + 1);
    if (!got || !want)
        abort();
    size_t glen = fuzz_xml_unescape(a, tlen, got);
    size_t wlen = expected_text(s, n, want);
    FUZZ_CHECK(glen == wlen && memcmp(got, want, glen) == 0,
               "element %s does not carry its string back", tag);
    free(got);
    free(want);
}

static void check_xml(const buf *out)
{
    const char *why = fuzz_xml_check(out->data, out->len);
    FUZZ_CHECK(why == NULL, "XML not well-formed: %s", why);
    FUZZ_CHECK(strlen(out->data) == out->len, "NUL byte in the XML");
    FUZZ_CHECK(fuzz_utf8_ok(out->data, out->len), "XML is not UTF-8");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_part s[NSTR];
    size_t i = 0, at = 0;
    bool utf8 = true;

    for (; i < NSTR; i++) {
        size_t n = at < size ? data[at++] : 0;
        if (i == NSTR - 1 || n > size - at)
            n = size - at;
        s[i] = (fuzz_part){(const char *)data + at, n};
        at += n;
        if (!fuzz_utf8_ok(s[i].p, s[i].n))
            utf8 = false;
    }
    /* Map keys are C strings: they end at a NUL. */
    char *k3 = fuzz_strndup(s[3].p, s[3].n), *k5 = fuzz_strndup(s[5].p, s[5].n);
    char *k9 = fuzz_strndup(s[9].p, s[9].n);
    char *msg = fuzz_strndup(s[10].p, s[10].n);

    json_t *msgobj = json_object();
    json_object_set_new(msgobj, "MessageId", json_stringn_nocheck(s[1].p, s[1].n));
    json_object_set_new(msgobj, "Body", json_stringn_nocheck(s[2].p, s[2].n));
    json_t *attrs = json_object();
    json_object_set_new_nocheck(attrs, k3, json_stringn_nocheck(s[4].p, s[4].n));
    json_object_set_new(msgobj, "Attributes", attrs);
    json_t *mattrs = json_object(), *mv = json_object();
    json_object_set_new(mv, "StringValue", json_stringn_nocheck(s[6].p, s[6].n));
    json_object_set_new(mv, "DataType", json_string("String"));
    json_object_set_new(mv, "StringListValues", json_pack("[s#]", s[7].p, (int)s[7].n));
    json_object_set_new_nocheck(mattrs, k5, mv);
    json_object_set_new(msgobj, "MessageAttributes", mattrs);

    json_t *out = json_object();
    json_object_set_new(out, "QueueUrl", json_stringn_nocheck(s[0].p, s[0].n));
    json_object_set_new(out, "Messages", json_pack("[o]", msgobj));
    json_t *qattrs = json_object();
    json_object_set_new_nocheck(qattrs, k9, json_stringn_nocheck(s[8].p, s[8].n));
    json_object_set_new(out, "Attributes", qattrs);
    json_object_set_new(out, "Count", json_integer((json_int_t)size));
    json_object_set_new(out, "Ratio", json_real((double)size / 7.0));
    json_object_set_new(out, "Flag", json_boolean(size & 1));
    json_object_set_new(out, "Nothing", json_null());
    /* json_pack refused a string that is not UTF-8: that is fine. */
    if (!json_object_get(mv, "StringListValues"))
        json_object_set_new(mv, "StringListValues", json_array());

    /* SNS's rules declare only "Attributes" as a map: an SNS handler never
     * answers with another object keyed by client text, so its output here
     * has the client keys in that map only. */
    json_t *sns_out = json_object();
    json_object_set_new(sns_out, "QueueUrl", json_stringn_nocheck(s[0].p, s[0].n));
    json_object_set_new(sns_out, "Body", json_stringn_nocheck(s[2].p, s[2].n));
    json_object_set_new(sns_out, "StringValue", json_stringn_nocheck(s[6].p, s[6].n));
    json_object_set_new(sns_out, "Attributes", json_incref(qattrs));
    json_object_set_new(sns_out, "List", json_pack("[s,i]", "x", 1));

    const api_service *svcs[2] = {svc_sqs, svc_sns};
    json_t *outs[2] = {out, sns_out};
    for (int k = 0; k < 2; k++) {
        buf x;
        buf_init(&x);
        query_render_result(&x, svcs[k], "ReceiveMessage", outs[k],
                            "11111111-2222-3333-4444-555555555555");
        check_xml(&x);
        check_element(x.data, x.len, "QueueUrl", s[0].p, s[0].n);
        check_element(x.data, x.len, "Body", s[2].p, s[2].n);
        check_element(x.data, x.len, "StringValue", s[6].p, s[6].n);
        buf_free(&x);
    }
    json_decref(sns_out);

    buf e;
    buf_init(&e);
    query_render_error(&e, svc_sqs->xml_namespace, aws_error_get(AWS_ERR_INVALID_PARAMETER_VALUE),
                       msg, "11111111-2222-3333-4444-555555555555");
    check_xml(&e);
    check_element(e.data, e.len, "Message", msg, strlen(msg));
    buf_free(&e);

    buf raw;
    buf_init(&raw);
    buf_puts(&raw, "<r>");
    xml_escape(&raw, s[11].p, s[11].n);
    buf_puts(&raw, "</r>");
    check_xml(&raw);
    check_element(raw.data, raw.len, "r", s[11].p, s[11].n);
    buf_free(&raw);

    if (utf8) {
        char *enc = json_encode(out);
        FUZZ_CHECK(enc != NULL, "json_encode failed on UTF-8 strings");
        FUZZ_CHECK(fuzz_utf8_ok(enc, strlen(enc)), "json_encode output not UTF-8");
        json_error_t err;
        json_t *back = json_loads(enc, JSON_ALLOW_NUL, &err);
        FUZZ_CHECK(back != NULL, "json_encode wrote invalid JSON: %s", err.text);
        FUZZ_CHECK(fuzz_json_equiv(out, back, 0), "json_encode changed a value");
        json_decref(back);
        free(enc);
    }

    json_decref(out);
    free(k3);
    free(k5);
    free(k9);
    free(msg);
    return 0;
}
