/*
 * publish.c - Publish and PublishBatch: validation as AWS does it, filter
 * policies, and fan-out.
 *
 * A publish builds one store batch: a staged SQS message (sqs_stage) for
 * every matching SQS subscription and an outbox row for every matching
 * HTTP/HTTPS subscription.  The call is answered from the batch's
 * completion, so an acknowledged publish is on disk in every queue it
 * reaches; HTTP deliveries start only then.  Subscription confirmations
 * take the same path (sns_confirmation_commit).
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "sns/sns.h"

/* What a commit must finish: the call, staged SQS messages, HTTP sends. */
typedef struct fanout {
    sns_service *svc;
    api_call *call;
    sqs_staged *st;
    void **http;
    size_t nhttp, cap;
    /* FIFO: the deduplication entries this call made, [dedup id, message
     * id] under topic_arn, taken back if its commit fails so that a retry
     * is delivered instead of answered as a duplicate of nothing. */
    char *topic_arn;
    json_t *dedup_made;
} fanout;

static fanout *fanout_new(sns_service *svc, api_call *call)
{
    fanout *f = xcalloc(1, sizeof *f);
    f->svc = svc;
    f->call = call;
    f->st = sqs_staged_new(svc->sqs);
    return f;
}

static void fanout_free(fanout *f)
{
    free(f->http);
    free(f->topic_arn);
    json_decref(f->dedup_made);
    free(f);
}

static void fanout_note_dedup(fanout *f, const sns_topic *t, const char *dedup_id,
                              const char *message_id)
{
    if (!f->dedup_made) {
        f->dedup_made = json_array();
        f->topic_arn = xstrdup(t->arn);
    }
    json_array_append_new(f->dedup_made, json_pack("[s,s]", dedup_id, message_id));
}

/* A failed commit: forgets the deduplication entries the call made. */
static void fanout_forget_dedup(fanout *f)
{
    sns_topic *t = f->topic_arn ? sns_topic_find(f->svc, f->topic_arn) : NULL;
    size_t i;
    json_t *e;

    if (!t || !t->dedup)
        return;
    json_array_foreach(f->dedup_made, i, e) {
        const char *id = json_string_value(json_array_get(e, 0));
        json_t *hit = json_object_get(t->dedup, id);
        if (hit && strcmp(json_string_value(json_array_get(hit, 0)),
                          json_string_value(json_array_get(e, 1))) == 0)
            json_object_del(t->dedup, id);
    }
}

static void fanout_add_http(fanout *f, void *h)
{
    if (f->nhttp == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 4;
        f->http = xrealloc(f->http, f->cap * sizeof *f->http);
    }
    f->http[f->nhttp++] = h;
}

static void fanout_done(void *arg, int status)
{
    fanout *f = arg;

    sqs_staged_finish(f->st, status);
    for (size_t i = 0; i < f->nhttp; i++)
        sns_http_started(f->svc->http, f->http[i], status);
    if (status != 0) {
        fanout_forget_dedup(f);
        json_decref(f->call->output);
        f->call->output = NULL;
        api_fail(f->call, AWS_ERR_SNS_INTERNAL, "Internal Error");
    }
    api_finish(f->call);
    fanout_free(f);
}

/* Commits b, answering from its completion; nothing to write: at once. */
static api_status fanout_commit(fanout *f, store_batch *b)
{
    if (store_batch_empty(b) && f->nhttp == 0) {
        store_batch_free(b);
        sqs_staged_finish(f->st, 0);
        fanout_free(f);
        return API_DONE;
    }
    store_submit(f->svc->store, b, fanout_done, f);
    return API_PENDING;
}

static void url_encode(buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            buf_putc(out, (char)c);
        else
            buf_printf(out, "%%%02X", c);
    }
}

static int topic_signature_version(const sns_topic *t)
{
    const char *v = sns_topic_attr(t, "SignatureVersion");
    return v && strcmp(v, "2") == 0 ? 2 : 1;
}

/* --- confirmations ------------------------------------------------------------ */

api_status sns_confirmation_commit(api_call *call, sns_sub *s, bool unsubscribe,
                                   store_batch *b)
{
    sns_service *svc = sns_of(call);
    char base[300], mid[37], ts[32], cert_url[400], message[900], version[4];
    buf sub_url, text, body;
    char *sig = NULL;

    sns_base_url(call, base, sizeof base);
    uuid_v4(mid);
    sns_timestamp(clock_now_ms(), ts);
    snprintf(cert_url, sizeof cert_url, "%s%s", base, SNS_CERT_PATH);
    if (unsubscribe)
        snprintf(message, sizeof message,
                 "You have chosen to deactivate subscription %s.\nTo cancel this operation "
                 "and restore the subscription, visit the SubscribeURL included in this "
                 "message.", s->arn);
    else
        snprintf(message, sizeof message,
                 "You have chosen to subscribe to the topic %s.\nTo confirm the "
                 "subscription, visit the SubscribeURL included in this message.",
                 s->topic_arn);
    buf_init(&sub_url);
    buf_printf(&sub_url, "%s/?Action=ConfirmSubscription&TopicArn=", base);
    url_encode(&sub_url, s->topic_arn);
    buf_puts(&sub_url, "&Token=");
    buf_puts(&sub_url, s->token ? s->token : "");
    int sv = topic_signature_version(s->topic);
    snprintf(version, sizeof version, "%d", sv);
    const char *type = unsubscribe ? "UnsubscribeConfirmation" : "SubscriptionConfirmation";
    sns_envelope e = {
        .type = type, .message_id = mid, .token = s->token ? s->token : "",
        .topic_arn = s->topic_arn, .message = message, .subscribe_url = sub_url.data,
        .timestamp = ts, .signature_version = version, .signing_cert_url = cert_url,
    };
    buf_init(&text);
    sns_string_to_sign(&e, &text);
    sns_sign(svc->signer, sv, text.data, text.len, &sig);
    e.signature = sig ? sig : "";
    buf_init(&body);
    sns_envelope_write(&e, &body);
    sns_http_msg m = {
        .sub_arn = unsubscribe ? s->arn : NULL, .topic_arn = s->topic_arn, .url = s->endpoint,
        .type = type, .message_id = mid, .body = body.data, .raw = false,
    };
    fanout *f = fanout_new(svc, call);
    fanout_add_http(f, sns_http_stage(svc->http, &m, b));
    free(sig);
    buf_free(&sub_url);
    buf_free(&text);
    buf_free(&body);
    return fanout_commit(f, b);
}

api_status sns_get_signing_cert(api_call *call)
{
    sns_service *svc = sns_of(call);
    buf b;

    /* The leading newline puts the PEM block on lines of its own inside
     * the XML response, where PEM readers find it. */
    buf_init(&b);
    buf_putc(&b, '\n');
    buf_puts(&b, svc->cert_pem);
    json_object_set_new(api_out(call), "Certificate", json_string(b.data));
    buf_free(&b);
    return API_DONE;
}

void sns_serve_cert(void *ctx, buf *out, const char **content_type)
{
    sns_service *svc = ctx;

    buf_puts(out, svc->cert_pem);
    *content_type = "application/x-pem-file";
}

/* --- validation ---------------------------------------------------------------- */

/* Checks a message attribute name as SNS does; -1 with its message. */
static int check_attr_name(api_call *call, const char *n)
{
    size_t len = strlen(n);

    if (len > 256) {
        api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                 "Length of message attribute name must be less than 256 bytes.");
        return -1;
    }
    if (len == 0 || n[0] == '.') {
        api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                 "Invalid message attribute name starting with character '.' was found.");
        return -1;
    }
    if (n[len - 1] == '.') {
        api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                 "Invalid message attribute name ending with character '.' was found.");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "Invalid non-alphanumeric character '#x%X' was found in the message "
                     "attribute name. Can only include alphanumeric characters, hyphens, "
                     "underscores, or dots.", c);
            return -1;
        }
        if (c == '.' && n[i + 1] == '.') {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "Message attribute name can not have successive '.' character.");
            return -1;
        }
    }
    return 0;
}

static bool valid_number(const char *s)
{
    char *end;
    if (!*s)
        return false;
    strtod(s, &end);
    return *end == 0;
}

/* Validates MessageAttributes; returns their size in bytes or -1. */
static long check_message_attrs(api_call *call, json_t *attrs, int entry)
{
    char batch_pos[300] = "";
    const char *name;
    json_t *a;
    long total = 0;

    json_object_foreach(attrs, name, a) {
        if (entry > 0)
            snprintf(batch_pos, sizeof batch_pos,
                     "publishBatchRequestEntries.%d.member.messageAttributes.%.200s", entry,
                     name);
        const char *type = NULL, *sv = NULL, *bv = NULL;
        if (check_attr_name(call, name) < 0)
            return -1;
        if (!json_is_object(a) || param_str(call, a, "DataType", &type, NULL) < 0 ||
            param_str(call, a, "StringValue", &sv, NULL) < 0 ||
            param_str(call, a, "BinaryValue", &bv, NULL) < 0) {
            if (!call->has_error)
                api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                         "The message attribute '%s' must contain non-empty message "
                         "attribute type.", name);
            return -1;
        }
        if (!type) {
            api_fail(call, AWS_ERR_VALIDATION,
                     "1 validation error detected: Value null at '%s%s.member.dataType' "
                     "failed to satisfy constraint: Member must not be null",
                     *batch_pos ? "" : "messageAttributes.", *batch_pos ? batch_pos : name);
            return -1;
        }
        bool is_string = strncmp(type, "String", 6) == 0 && (!type[6] || type[6] == '.');
        bool is_number = strncmp(type, "Number", 6) == 0 && (!type[6] || type[6] == '.');
        bool is_binary = strncmp(type, "Binary", 6) == 0 && (!type[6] || type[6] == '.');
        if (!is_string && !is_number && !is_binary) {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "The message attribute '%s' has an invalid message attribute type, the "
                     "set of supported type prefixes is Binary, Number, and String.", name);
            return -1;
        }
        const char *value = is_binary ? bv : sv;
        if (!sv && !bv) {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "The message attribute '%s' must contain non-empty message attribute "
                     "value for message attribute type '%s'.", name, type);
            return -1;
        }
        if (!value) {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "The message attribute '%s' with type '%s' must use field '%s'.", name,
                     type, is_binary ? "Binary" : "String");
            return -1;
        }
        if (!is_binary && sqs_body_invalid_char(value, strlen(value)) != -1) {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "The message attribute '%s' contains invalid characters.", name);
            return -1;
        }
        if (!*value) {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "The message attribute '%s' must contain non-empty message attribute "
                     "value for message attribute type '%s'.", name, type);
            return -1;
        }
        if (is_number && !valid_number(value)) {
            api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                     "Could not cast message attribute '%s' value to number.", name);
            return -1;
        }
        if (strcmp(type, "String.Array") == 0) {
            json_t *arr = json_loads(value, JSON_DECODE_ANY, NULL);
            bool ok = json_is_array(arr);
            size_t i;
            json_t *e;
            json_array_foreach(arr, i, e)
                ok = ok && !json_is_object(e) && !json_is_array(e);
            json_decref(arr);
            if (!ok) {
                api_fail(call, AWS_ERR_SNS_PARAMETER_VALUE_INVALID,
                         "The message attribute '%s' with type 'String.Array' has an invalid "
                         "value. The value must be a JSON array of strings, numbers, booleans "
                         "or null.", name);
                return -1;
            }
        }
        total += (long)(strlen(name) + strlen(type) + strlen(value));
    }
    return total;
}

static bool valid_subject(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 99)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

/* One message to publish, parsed and validated. */
typedef struct pub {
    const char *message;
    size_t message_len;
    const char *subject;
    json_t *attrs;           /* borrowed, may be NULL */
    json_t *structure;       /* MessageStructure=json: the parsed object */
    const char *group_id;
    const char *dedup_id;
    char dedup_buf[65];
    char message_id[37];
    char sequence[24];
    bool duplicate;          /* FIFO dedup hit: answer, deliver nothing */
} pub;

/* A FIFO MessageGroupId or MessageDeduplicationId: 1 to 128 ASCII
 * alphanumerics and punctuation (botocore's model); -1 with AWS's error. */
static int check_fifo_id(api_call *call, const char *name, const char *v)
{
    size_t n = strlen(v);
    bool ok = n >= 1 && n <= 128;

    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= '!' && v[i] <= '~';
    if (ok)
        return 0;
    api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
             "Invalid parameter: %s Reason: %s can only include alphanumeric and punctuation "
             "characters. 1 to 128 in length.", name, name);
    return -1;
}

/* Validates one message (Publish or one batch entry); -1 with the error. */
static int parse_pub(api_call *call, json_t *in, sns_topic *t, int entry, pub *p)
{
    const char *structure = NULL;

    memset(p, 0, sizeof *p);
    if (param_str(call, in, "Message", &p->message, &p->message_len) < 0 ||
        param_str(call, in, "Subject", &p->subject, NULL) < 0 ||
        param_str(call, in, "MessageStructure", &structure, NULL) < 0 ||
        param_object(call, in, "MessageAttributes", &p->attrs) < 0 ||
        param_str(call, in, "MessageGroupId", &p->group_id, NULL) < 0 ||
        param_str(call, in, "MessageDeduplicationId", &p->dedup_id, NULL) < 0)
        return -1;
    if (!p->message) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Message");
        return -1;
    }
    if (p->message_len == 0) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Empty message");
        return -1;
    }
    /* Only text every subscriber can take: SQS refuses characters outside
     * XML's set, and a publish is never acknowledged for copies that cannot
     * be delivered. */
    if (sqs_body_invalid_char(p->message, p->message_len) != -1) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: Message Reason: Message contains invalid characters");
        return -1;
    }
    if (p->subject && !valid_subject(p->subject)) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Subject");
        return -1;
    }
    long attrs_size = 0;
    if (p->attrs && (attrs_size = check_message_attrs(call, p->attrs, entry)) < 0)
        return -1;
    if (p->message_len + (size_t)attrs_size > SNS_MAX_MESSAGE) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Message too long");
        return -1;
    }
    if (structure) {
        if (strcmp(structure, "json") != 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: MessageStructure");
            return -1;
        }
        p->structure = json_loadb(p->message, p->message_len, 0, NULL);
        if (!json_is_object(p->structure)) {
            json_decref(p->structure);
            p->structure = NULL;
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: Message Structure - JSON message body failed to "
                     "parse");
            return -1;
        }
        if (!json_is_string(json_object_get(p->structure, "default"))) {
            json_decref(p->structure);
            p->structure = NULL;
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: Message Structure - No default entry in JSON message "
                     "body");
            return -1;
        }
    }
    if (t && t->fifo) {
        if (!p->group_id) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: The MessageGroupId parameter is required for FIFO "
                     "topics");
            goto fail;
        }
        if (check_fifo_id(call, "MessageGroupId", p->group_id) < 0 ||
            (p->dedup_id && check_fifo_id(call, "MessageDeduplicationId", p->dedup_id) < 0))
            goto fail;
        if (!p->dedup_id) {
            const char *cbd = sns_topic_attr(t, "ContentBasedDeduplication");
            if (!cbd || strcmp(cbd, "true") != 0) {
                api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                         "Invalid parameter: The topic should either have "
                         "ContentBasedDeduplication enabled or MessageDeduplicationId "
                         "provided explicitly");
                goto fail;
            }
            unsigned char md[SHA256_DIGEST_LENGTH];
            SHA256((const unsigned char *)p->message, p->message_len, md);
            hex_encode(md, sizeof md, p->dedup_buf);
            p->dedup_id = p->dedup_buf;
        }
    } else if (t) {
        if (p->dedup_id) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                     "MessageDeduplicationId parameter that is not valid for this topic type");
            goto fail;
        }
        if (p->group_id) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: MessageGroupId Reason: The request includes "
                     "MessageGroupId parameter that is not valid for this topic type");
            goto fail;
        }
    }
    return 0;
fail:
    json_decref(p->structure);
    p->structure = NULL;
    return -1;
}

/* FIFO: assigns the sequence number, or finds the earlier copy. */
static void fifo_assign(sns_topic *t, pub *p, int64_t now)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(t->dedup, tmp, k, v)
        if (now - json_integer_value(json_array_get(v, 1)) > SNS_DEDUP_WINDOW_MS)
            json_object_del(t->dedup, k);
    json_t *hit = json_object_get(t->dedup, p->dedup_id);
    if (hit) {
        p->duplicate = true;
        snprintf(p->message_id, sizeof p->message_id, "%s",
                 json_string_value(json_array_get(hit, 0)));
        snprintf(p->sequence, sizeof p->sequence, "%s",
                 json_string_value(json_array_get(hit, 2)));
        return;
    }
    t->fifo_seq++;
    snprintf(p->sequence, sizeof p->sequence, "%llu",
             10000000000000000000ULL + (unsigned long long)t->fifo_seq);
    json_object_set_new(t->dedup, p->dedup_id,
                        json_pack("[s,I,s]", p->message_id, (json_int_t)now, p->sequence));
}

/* --- fan-out ------------------------------------------------------------------- */

/* The message text a protocol receives (MessageStructure=json picks). */
static const char *message_for(const pub *p, const char *protocol, size_t *len)
{
    if (p->structure) {
        json_t *v = json_object_get(p->structure, protocol);
        if (!json_is_string(v))
            v = json_object_get(p->structure, "default");
        *len = json_string_length(v);
        return json_string_value(v);
    }
    *len = p->message_len;
    return p->message;
}

static bool filter_passes(const sns_sub *s, const pub *p, const char *msg, size_t len)
{
    if (!s->filter)
        return true;
    if (match_pattern_dialect(s->filter) == MATCH_SNS_BODY)
        return match_event(s->filter, msg, len);
    size_t n = p->attrs ? json_object_size(p->attrs) : 0, i = 0;
    match_attr *attrs = xcalloc(n + 1, sizeof *attrs);
    const char *name;
    json_t *a;
    if (p->attrs) {
        json_object_foreach(p->attrs, name, a) {
            json_t *type = json_object_get(a, "DataType");
            json_t *sv = json_object_get(a, "StringValue");
            attrs[i].name = name;
            attrs[i].name_len = strlen(name);
            attrs[i].type = json_string_value(type);
            attrs[i].type_len = json_string_length(type);
            attrs[i].value = sv ? json_string_value(sv) : "";
            attrs[i].value_len = sv ? json_string_length(sv) : 0;
            i++;
        }
    }
    bool hit = match_attributes(s->filter, attrs, n);
    free(attrs);
    return hit;
}

/* SNS attributes as SQS MessageAttributes JSON text (raw delivery). */
static char *sqs_attrs_text(json_t *attrs)
{
    const char *name;
    json_t *a;

    if (!attrs || json_object_size(attrs) == 0)
        return NULL;
    json_t *out = json_object();
    json_object_foreach(attrs, name, a) {
        const char *type = json_string_value(json_object_get(a, "DataType"));
        bool bin = type && strncmp(type, "Binary", 6) == 0;
        json_t *v = json_object_get(a, bin ? "BinaryValue" : "StringValue");
        json_object_set_new(out, name, json_pack("{s:s,s:O}", "DataType", type,
                                                 bin ? "BinaryValue" : "StringValue", v));
    }
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return text;
}

/* Per publish: the envelope fields shared by every subscriber. */
typedef struct shared {
    char base[300];
    char timestamp[32];
    char cert_url[400];
    char version[4];
    int sv;
    const char *signed_msg;  /* the text the cached signature covers */
    char *signature;
} shared;

/* The message attributes a delivery carries: none when MessageStructure
 * is json (AWS sends attributes only with a String structure; they still
 * count for filter policies). */
static json_t *delivered_attrs(const pub *p)
{
    return p->structure ? NULL : p->attrs;
}

static void build_envelope(sns_service *svc, shared *sh, sns_topic *t, const sns_sub *s,
                           const pub *p, const char *msg, buf *out)
{
    buf unsub;

    buf_init(&unsub);
    buf_printf(&unsub, "%s/?Action=Unsubscribe&SubscriptionArn=", sh->base);
    url_encode(&unsub, s->arn);
    sns_envelope e = {
        .type = "Notification", .message_id = p->message_id,
        .sequence_number = t->fifo ? p->sequence : NULL, .topic_arn = t->arn,
        .subject = p->subject, .message = msg, .timestamp = sh->timestamp,
        .unsubscribe_url = unsub.data, .attributes = delivered_attrs(p),
    };
    if (!t->fifo) {
        if (sh->signed_msg != msg) {
            buf text;
            buf_init(&text);
            sns_string_to_sign(&e, &text);
            free(sh->signature);
            sh->signature = NULL;
            sns_sign(svc->signer, sh->sv, text.data, text.len, &sh->signature);
            sh->signed_msg = msg;
            buf_free(&text);
        }
        e.signature_version = sh->version;
        e.signature = sh->signature ? sh->signature : "";
        e.signing_cert_url = sh->cert_url;
    }
    sns_envelope_write(&e, out);
    buf_free(&unsub);
}

/* Why a copy for an SQS queue was not staged. */
typedef enum stage_result { STAGED, NO_QUEUE, REFUSED, NOT_VALID } stage_result;

static const char *const stage_reasons[] = {
    [STAGED] = "staged", [NO_QUEUE] = "no such queue",
    [REFUSED] = "refused by the queue's Policy", [NOT_VALID] = "not valid for the queue",
};

/* Puts a copy on the SQS queue named by queue_arn, as SNS delivering for
 * topic t: the queue's Policy must let sns.amazonaws.com send with
 * aws:SourceArn = the topic (sqs_queue_accepts). */
static stage_result stage_sqs(fanout *f, const sns_topic *t, const char *queue_arn,
                              const char *body, size_t len, const char *attrs, const pub *p,
                              store_batch *b)
{
    sqs_queue *q = sqs_queue_find_arn(f->svc->sqs, queue_arn);

    if (!q || q->deleted)
        return NO_QUEUE;
    if (!sqs_queue_accepts(q, "sns.amazonaws.com", t->arn, t->account))
        return REFUSED;
    /* raw delivery: SQS takes at most 10 message attributes, and AWS
     * discards such a copy as the client's error */
    if (sqs_body_invalid_char(body, len) != -1 ||
        (attrs && json_object_size(delivered_attrs(p)) > SQS_MAX_MESSAGE_ATTRIBUTES))
        return NOT_VALID;
    sqs_outgoing o = {
        .body = body, .body_len = len, .attrs = attrs,
        .group_id = q->fifo && t->fifo ? p->group_id : NULL,
        .dedup_id = q->fifo && t->fifo ? p->dedup_id : NULL,
        .sender = "AIDAIT2UOQQY3AUEKVGXU", .delay_seconds = -1,
    };
    if (q->fifo && !o.group_id)
        return NOT_VALID;
    sqs_stage(f->st, q, &o, b);
    return STAGED;
}

static const char *redrive_target(const sns_sub *s, json_t **doc)
{
    const char *rp = json_string_value(json_object_get(s->attrs, "RedrivePolicy"));

    *doc = rp ? json_loads(rp, 0, NULL) : NULL;
    return json_string_value(json_object_get(*doc, "deadLetterTargetArn"));
}

/* Delivers p to every matching subscription of t, into b. */
static void fan_out(fanout *f, sns_topic *t, pub *p, store_batch *b)
{
    sns_service *svc = f->svc;
    shared sh;

    memset(&sh, 0, sizeof sh);
    sns_base_url(f->call, sh.base, sizeof sh.base);
    sns_timestamp(clock_now_ms(), sh.timestamp);
    snprintf(sh.cert_url, sizeof sh.cert_url, "%s%s", sh.base, SNS_CERT_PATH);
    sh.sv = topic_signature_version(t);
    snprintf(sh.version, sizeof sh.version, "%d", sh.sv);
    for (size_t i = 0; i < t->nsubs; i++) {
        sns_sub *s = t->subs[i];
        bool is_sqs = strcmp(s->protocol, "sqs") == 0;
        bool is_http = strcmp(s->protocol, "http") == 0 || strcmp(s->protocol, "https") == 0;
        size_t len;
        if (!s->confirmed || (!is_sqs && !is_http))
            continue;
        const char *msg = message_for(p, s->protocol, &len);
        if (!filter_passes(s, p, msg, len))
            continue;
        bool raw = sns_sub_raw(s);
        buf body;
        buf_init(&body);
        if (raw)
            buf_append(&body, msg, len);
        else
            build_envelope(svc, &sh, t, s, p, msg, &body);
        if (is_sqs) {
            char *attrs = raw ? sqs_attrs_text(delivered_attrs(p)) : NULL;
            const char *text = body.data ? body.data : "";
            stage_result r = stage_sqs(f, t, s->endpoint, text, body.len, attrs, p, b);
            if (r != STAGED) {
                /* A failure of the client's side: not retried; the
                 * subscription's dead-letter queue, if it takes it. */
                json_t *doc;
                const char *dlq = redrive_target(s, &doc);
                stage_result dr = dlq ? stage_sqs(f, t, dlq, text, body.len, attrs, p, b)
                                      : NO_QUEUE;
                log_warn("sns", "delivery to SQS failed (%s) topic=%s subscription=%s "
                         "message_id=%s dead_letter=%s", stage_reasons[r], t->arn, s->arn,
                         p->message_id, !dlq ? "none" : stage_reasons[dr]);
                json_decref(doc);
            }
            free(attrs);
        } else {
            buf_putc(&body, 0);
            body.len--;
            sns_http_msg m = {
                .sub_arn = s->arn, .topic_arn = t->arn, .url = s->endpoint,
                .type = "Notification", .message_id = p->message_id, .body = body.data,
                .raw = raw,
            };
            fanout_add_http(f, sns_http_stage(svc->http, &m, b));
        }
        buf_free(&body);
    }
    free(sh.signature);
}

/* Finds the topic of a Publish: TopicArn, TargetArn or PhoneNumber. */
static int publish_target(api_call *call, sns_topic **t)
{
    const char *topic = NULL, *target = NULL, *phone = NULL;

    *t = NULL;
    if (param_str(call, call->input, "TopicArn", &topic, NULL) < 0 ||
        param_str(call, call->input, "TargetArn", &target, NULL) < 0 ||
        param_str(call, call->input, "PhoneNumber", &phone, NULL) < 0)
        return -1;
    if (!topic && !target && !phone) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: TopicArn or TargetArn Reason: no value for required "
                 "parameter");
        return -1;
    }
    if ((topic != NULL) + (target != NULL) + (phone != NULL) > 1) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: Only one of TopicArn, TargetArn or PhoneNumber may be "
                 "specified");
        return -1;
    }
    if (phone) {
        /* E.164: an optional '+', then up to 15 digits not starting with 0 */
        const char *d = phone[0] == '+' ? phone + 1 : phone;
        size_t n = strlen(d);
        bool ok = n >= 2 && n <= 15 && d[0] >= '1' && d[0] <= '9';
        for (size_t i = 0; ok && i < n; i++)
            ok = d[i] >= '0' && d[i] <= '9';
        if (!ok) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: PhoneNumber Reason: %s is not valid to publish to",
                     phone);
            return -1;
        }
        return 0;
    }
    const char *arn = topic ? topic : target;
    if (sns_check_arn(call, topic ? "TopicArn" : "TargetArn", arn) < 0)
        return -1;
    *t = sns_topic_find(sns_of(call), arn);
    if (!*t) {
        sns_topic_missing(call, arn, topic ? "Topic does not exist" : "Endpoint does not exist");
        return -1;
    }
    return sns_topic_permits(call, *t) ? 0 : -1;
}

api_status sns_publish(api_call *call)
{
    sns_service *svc = sns_of(call);
    sns_topic *t;
    pub p;

    if (publish_target(call, &t) < 0 || parse_pub(call, call->input, t, 0, &p) < 0)
        return API_DONE;
    uuid_v4(p.message_id);
    if (t && t->fifo)
        fifo_assign(t, &p, clock_now_ms());
    json_object_set_new(api_out(call), "MessageId", json_string(p.message_id));
    if (t && t->fifo)
        json_object_set_new(api_out(call), "SequenceNumber", json_string(p.sequence));
    if (!t || p.duplicate) {
        json_decref(p.structure);
        return API_DONE;
    }
    fanout *f = fanout_new(svc, call);
    store_batch *b = store_batch_new();
    if (t->fifo)
        fanout_note_dedup(f, t, p.dedup_id, p.message_id);
    fan_out(f, t, &p, b);
    json_decref(p.structure);
    return fanout_commit(f, b);
}

static bool valid_entry_id(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > 80)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

api_status sns_publish_batch(api_call *call)
{
    sns_service *svc = sns_of(call);
    json_t *entries = NULL, *e;
    size_t i, j;
    sns_topic *t = sns_topic_from_param(call, "TopicArn");

    if (!t || param_list(call, call->input, "PublishBatchRequestEntries", &entries) < 0)
        return API_DONE;
    size_t n = entries ? json_array_size(entries) : 0;
    if (n == 0)
        return api_fail(call, AWS_ERR_SNS_EMPTY_BATCH,
                        "The batch request doesn't contain any entries");
    if (n > SNS_MAX_BATCH)
        return api_fail(call, AWS_ERR_SNS_TOO_MANY_ENTRIES,
                        "The batch request contains more entries than permissible.");
    size_t total = 0;
    json_array_foreach(entries, i, e) {
        const char *id = json_string_value(json_object_get(e, "Id"));
        if (!id)
            return api_fail(call, AWS_ERR_VALIDATION,
                            "1 validation error detected: Value null at "
                            "'publishBatchRequestEntries.%zu.member.id' failed to satisfy "
                            "constraint: Member must not be null", i + 1);
        if (strlen(id) > 80)
            return api_fail(call, AWS_ERR_SNS_INVALID_BATCH_ENTRY_ID,
                            "The Id of a batch entry in the batch request is too long: %s", id);
        if (!valid_entry_id(id))
            return api_fail(call, AWS_ERR_SNS_INVALID_BATCH_ENTRY_ID,
                            "The Id of a batch entry in the batch request contains an "
                            "impermissible character: %s", id);
        for (j = 0; j < i; j++)
            if (strcmp(id, json_string_value(json_object_get(json_array_get(entries, j),
                                                             "Id"))) == 0)
                return api_fail(call, AWS_ERR_SNS_BATCH_IDS_NOT_DISTINCT,
                                "Two or more batch entries in the request have the same Id.");
        total += json_string_length(json_object_get(e, "Message"));
        if (t->fifo && !json_object_get(e, "MessageGroupId"))
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: The MessageGroupId parameter is required for "
                            "FIFO topics");
        const char *cbd = sns_topic_attr(t, "ContentBasedDeduplication");
        if (t->fifo && !json_object_get(e, "MessageDeduplicationId") &&
            !(cbd && strcmp(cbd, "true") == 0))
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: The topic should either have "
                            "ContentBasedDeduplication enabled or MessageDeduplicationId "
                            "provided explicitly");
    }
    if (total > SNS_MAX_MESSAGE)
        return api_fail(call, AWS_ERR_SNS_BATCH_TOO_LONG,
                        "The length of all the messages put together is more than the limit.");
    json_t *ok = json_array(), *failed = json_array();
    fanout *f = fanout_new(svc, call);
    store_batch *b = store_batch_new();
    int64_t now = clock_now_ms();
    json_array_foreach(entries, i, e) {
        const char *id = json_string_value(json_object_get(e, "Id"));
        pub p;
        if (parse_pub(call, e, t, (int)i + 1, &p) < 0) {
            const aws_error *err = aws_error_get(call->error);
            json_array_append_new(failed, json_pack("{s:s,s:s,s:s,s:b}", "Id", id, "Code",
                                                    err->query_code, "Message",
                                                    call->error_message, "SenderFault",
                                                    err->sender_fault));
            call->has_error = false;
            free(call->error_message);
            call->error_message = NULL;
            continue;
        }
        uuid_v4(p.message_id);
        if (t->fifo)
            fifo_assign(t, &p, now);
        json_t *r = json_pack("{s:s,s:s}", "Id", id, "MessageId", p.message_id);
        if (t->fifo)
            json_object_set_new(r, "SequenceNumber", json_string(p.sequence));
        json_array_append_new(ok, r);
        if (t->fifo && !p.duplicate)
            fanout_note_dedup(f, t, p.dedup_id, p.message_id);
        if (!p.duplicate)
            fan_out(f, t, &p, b);
        json_decref(p.structure);
    }
    json_object_set_new(api_out(call), "Successful", ok);
    json_object_set_new(api_out(call), "Failed", failed);
    return fanout_commit(f, b);
}

/* --- publishing from other services ------------------------------------------ */

struct sns_pending {
    fanout f;
};

sns_pending *sns_publish_internal(sns_service *svc, const char *topic_arn, const char *message,
                                  size_t len, const char *subject, const char *group_id,
                                  const char *dedup_id, store_batch *b, sqs_staged *st,
                                  char *err, size_t errlen)
{
    sns_topic *t = sns_topic_find(svc, topic_arn);
    char content_id[65];
    pub p;

    if (!t) {
        snprintf(err, errlen, "Topic does not exist");
        return NULL;
    }
    memset(&p, 0, sizeof p);
    p.message = message;
    p.message_len = len;
    p.subject = subject;
    p.group_id = group_id;
    p.dedup_id = dedup_id;
    if (t->fifo) {
        if (!group_id) {
            snprintf(err, errlen, "Invalid parameter: The MessageGroupId parameter is "
                                  "required for FIFO topics");
            return NULL;
        }
        if (!dedup_id) {
            sqs_fifo_content_dedup_id(message, len, content_id);
            p.dedup_id = content_id;
        }
    }
    uuid_v4(p.message_id);
    sns_pending *pending = xcalloc(1, sizeof *pending);
    pending->f.svc = svc;
    pending->f.st = st;
    if (t->fifo)
        fifo_assign(t, &p, clock_now_ms());
    if (!p.duplicate)
        fan_out(&pending->f, t, &p, b);
    return pending;
}

void sns_pending_finish(sns_pending *pending, int status)
{
    if (!pending)
        return;
    for (size_t i = 0; i < pending->f.nhttp; i++)
        sns_http_started(pending->f.svc->http, pending->f.http[i], status);
    free(pending->f.http);
    free(pending);
}
