/*
 * fuzz_query.c - form decoding and Query-to-JSON conversion, the path every
 * SQS and SNS Query request takes (server/http.c decode_query).
 *
 * Input: byte 0 picks the service whose rule table applies (even: SQS's,
 * flattened lists; odd: SNS's, member/entry wrappers), the rest is a form
 * body.  The rule tables are the real ones, reached through
 * sqs_api_service(NULL) / sns_api_service(NULL), which only describe the
 * service and never touch the (absent) service state.
 *
 * Properties checked:
 *  - form_parse agrees with an independent decoder written here from the
 *    form-urlencoded rules (split on '&', empty fields skipped, first '='
 *    splits, '+' is a space, strict %XX), pair for pair, byte for byte;
 *  - every decoded key and value is NUL-terminated at its stated length;
 *  - query_to_json returns an object; api_sanitize_nul then leaves no NUL
 *    in any string outside MessageBody/Message/StringValue;
 *  - the result renders as XML (query_render_result) and, when its strings
 *    are UTF-8, encodes as JSON that jansson parses back to the same value.
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
#include "wire/form.h"
#include "wire/json_decode.h"
#include "wire/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Made once, kept for the life of the process (owned by this file). */
static api_service *svc_sqs, *svc_sns;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    svc_sqs = sqs_api_service(NULL);
    svc_sns = sns_api_service(NULL);
    return 0;
}

static int ref_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reference decode of s[0..n) into out (n bytes suffice); -1 if bad. */
static long ref_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            if (n - i < 3 || ref_hex(s[i + 1]) < 0 || ref_hex(s[i + 2]) < 0)
                return -1;
            out[o++] = (char)(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return (long)o;
}

/* Compares f (form_parse's result, rc its return) with the reference. */
static void check_form(const char *text, size_t len, const form *f, int rc)
{
    char *tmp = malloc(len + 1);
    size_t idx = 0, i = 0;
    bool ok = true;

    if (!tmp)
        abort();
    while (i <= len && ok) {
        const char *seg = text + i;
        size_t slen = 0;
        while (i + slen < len && seg[slen] != '&')
            slen++;
        i += slen + 1;
        if (slen == 0)
            continue;
        const char *eq = memchr(seg, '=', slen);
        size_t klen = eq ? (size_t)(eq - seg) : slen;
        long k = ref_decode(seg, klen, tmp);
        if (k < 0) {
            ok = false;
            break;
        }
        if (rc == 0) {
            FUZZ_CHECK(idx < f->n, "form_parse returned fewer pairs than the reference");
            FUZZ_CHECK(f->pairs[idx].key_len == (size_t)k &&
                           memcmp(f->pairs[idx].key, tmp, (size_t)k) == 0,
                       "key %zu differs from the reference decoding", idx);
        }
        long v = eq ? ref_decode(eq + 1, slen - klen - 1, tmp) : 0;
        if (v < 0) {
            ok = false;
            break;
        }
        if (rc == 0) {
            FUZZ_CHECK(f->pairs[idx].value_len == (size_t)v &&
                           memcmp(f->pairs[idx].value, tmp, (size_t)v) == 0,
                       "value %zu differs from the reference decoding", idx);
        }
        idx++;
    }
    free(tmp);
    FUZZ_CHECK((rc == 0) == ok, "form_parse returned %d, the reference %s", rc,
               ok ? "accepts" : "rejects");
    if (rc == 0) {
        FUZZ_CHECK(idx == f->n, "form_parse returned %zu pairs, the reference %zu", f->n, idx);
        for (size_t p = 0; p < f->n; p++) {
            FUZZ_CHECK(f->pairs[p].key[f->pairs[p].key_len] == '\0', "key not terminated");
            FUZZ_CHECK(f->pairs[p].value[f->pairs[p].value_len] == '\0',
                       "value not terminated");
        }
    }
}

static bool is_content_member(const char *k)
{
    return k && (strcmp(k, "MessageBody") == 0 || strcmp(k, "Message") == 0 ||
                 strcmp(k, "StringValue") == 0);
}

/* After api_sanitize_nul: NUL only in content members (up to its depth). */
static void check_sanitized(const json_t *v, const char *member, int depth, bool *all_utf8)
{
    const char *k;
    json_t *e;
    size_t i;

    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (depth <= 64)
            FUZZ_CHECK(strlen(s) == n || is_content_member(member),
                       "NUL left in member %s after api_sanitize_nul",
                       member ? member : "(top)");
        if (!fuzz_utf8_ok(s, n))
            *all_utf8 = false;
        return;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            check_sanitized(e, member, depth + 1, all_utf8);
        return;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, e) {
            if (!fuzz_utf8_ok(k, strlen(k)))
                *all_utf8 = false;
            check_sanitized(e, k, depth + 1, all_utf8);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const api_service *svc = (data[0] & 1) ? svc_sns : svc_sqs;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    form f;

    form_init(&f);
    int rc = form_parse(&f, text, len);
    check_form(text, len, &f, rc);
    if (rc < 0) {
        form_free(&f);
        return 0;
    }
    (void)form_get(&f, "Action");

    json_t *in = query_to_json(&f, svc->query_rules);
    FUZZ_CHECK(json_is_object(in), "query_to_json did not return an object");
    api_sanitize_nul(in);
    bool all_utf8 = true;
    check_sanitized(in, NULL, 0, &all_utf8);

    /* Render it back: Query XML (as a handler's output) and JSON. */
    buf out;
    buf_init(&out);
    query_render_result(&out, svc, (data[0] & 2) ? "SendMessageBatch" : "GetQueueAttributes",
                        in, "00000000-0000-0000-0000-000000000000");
    buf_free(&out);
    if (all_utf8) {
        char *enc = json_encode(in);
        FUZZ_CHECK(enc != NULL, "json_encode failed on a UTF-8 tree");
        json_error_t err;
        json_t *back = json_loads(enc, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        FUZZ_CHECK(back != NULL, "json_encode wrote invalid JSON: %s", err.text);
        FUZZ_CHECK(fuzz_json_equiv(in, back, 0), "json_encode changed the value");
        json_decref(back);
        free(enc);
    }
    json_decref(in);
    form_free(&f);
    return 0;
}
