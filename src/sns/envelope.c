/*
 * envelope.c - the texts SNS hands to subscribers: the JSON envelope of a
 * notification or confirmation, the string its signature covers, the
 * signature itself, and AWS's timestamp format.
 *
 * Pure functions (no service state), so the exact bytes are unit-tested.
 * AWS writes the envelope in a fixed key order with a two-space indent and
 * " : " between key and value; receivers that compare digests or parse with
 * strict tools see the same bytes from us.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/codec.h"
#include "sns/sns.h"

void sns_timestamp(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000) % 1000u);
}

static void sign_field(buf *out, const char *key, const char *value)
{
    if (!value)
        return;
    buf_puts(out, key);
    buf_putc(out, '\n');
    buf_puts(out, value);
    buf_putc(out, '\n');
}

void sns_string_to_sign(const sns_envelope *e, buf *out)
{
    bool notification = e->type && strcmp(e->type, "Notification") == 0;

    sign_field(out, "Message", e->message);
    sign_field(out, "MessageId", e->message_id);
    if (notification) {
        sign_field(out, "Subject", e->subject);
    } else {
        sign_field(out, "SubscribeURL", e->subscribe_url);
    }
    sign_field(out, "Timestamp", e->timestamp);
    if (!notification)
        sign_field(out, "Token", e->token);
    sign_field(out, "TopicArn", e->topic_arn);
    sign_field(out, "Type", e->type);
}

/* A JSON string literal (jansson's escaping: UTF-8 kept, '/' not escaped). */
static void put_json_string(buf *out, const char *s)
{
    json_t *j = json_string(s);
    char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

    if (!text) {
        /* not UTF-8: the caller validated it; write an empty string */
        buf_puts(out, "\"\"");
    } else {
        buf_puts(out, text);
    }
    free(text);
    json_decref(j);
}

static void field(buf *out, bool *first, const char *key, const char *value)
{
    if (!value)
        return;
    buf_puts(out, *first ? "{\n  \"" : ",\n  \"");
    *first = false;
    buf_puts(out, key);
    buf_puts(out, "\" : ");
    put_json_string(out, value);
}

static void attributes_field(buf *out, bool *first, json_t *attrs)
{
    const char *name;
    json_t *a;
    bool any = false;

    if (!attrs || json_object_size(attrs) == 0)
        return;
    buf_puts(out, *first ? "{\n  \"MessageAttributes\" : {" : ",\n  \"MessageAttributes\" : {");
    *first = false;
    json_object_foreach(attrs, name, a) {
        const char *type = json_string_value(json_object_get(a, "DataType"));
        const char *sv = json_string_value(json_object_get(a, "StringValue"));
        const char *bv = json_string_value(json_object_get(a, "BinaryValue"));
        const char *v = type && strncmp(type, "Binary", 6) == 0 ? bv : sv;
        buf_puts(out, any ? ",\n    " : "\n    ");
        any = true;
        put_json_string(out, name);
        buf_puts(out, " : {\"Type\":");
        put_json_string(out, type ? type : "String");
        buf_puts(out, ",\"Value\":");
        put_json_string(out, v ? v : "");
        buf_putc(out, '}');
    }
    buf_puts(out, "\n  }");
}

void sns_envelope_write(const sns_envelope *e, buf *out)
{
    bool first = true;

    field(out, &first, "Type", e->type);
    field(out, &first, "MessageId", e->message_id);
    field(out, &first, "SequenceNumber", e->sequence_number);
    field(out, &first, "Token", e->token);
    field(out, &first, "TopicArn", e->topic_arn);
    field(out, &first, "Subject", e->subject);
    field(out, &first, "Message", e->message);
    field(out, &first, "SubscribeURL", e->subscribe_url);
    field(out, &first, "Timestamp", e->timestamp);
    field(out, &first, "SignatureVersion", e->signature_version);
    field(out, &first, "Signature", e->signature);
    field(out, &first, "SigningCertURL", e->signing_cert_url);
    field(out, &first, "UnsubscribeURL", e->unsubscribe_url);
    attributes_field(out, &first, e->attributes);
    buf_puts(out, first ? "{}" : "\n}");
}

int sns_sign(void *key, int version, const char *text, size_t n, char **out)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t siglen = sizeof sig;
    int rc = -1;

    *out = NULL;
    if (!md || !key)
        goto done;
    if (EVP_DigestSignInit(md, NULL, version == 2 ? EVP_sha256() : EVP_sha1(), NULL,
                           (EVP_PKEY *)key) != 1)
        goto done;
    if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)text, n) != 1)
        goto done;
    *out = xmalloc(base64_encoded_len(siglen) + 1);
    base64_encode(sig, siglen, *out);
    rc = 0;
done:
    EVP_MD_CTX_free(md);
    return rc;
}
