/*
 * messages.c - the message actions: send, receive (with long polling),
 * delete, change visibility, and their batch forms.
 *
 * A send is validated, written to the store, and only after the commit
 * added to the queue's index and answered, so a received message is always
 * durable.  A receive reserves messages in memory at once (so concurrent
 * receives never share one), writes their new delivery state, and answers
 * after the commit.  A receive that finds nothing and may wait parks as a
 * waiter on the queue and is run again when a message becomes visible.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "sqs/sqs.h"

/* ------------------------------------------------------------------ sending */

typedef struct send_ctx {
    api_call *call;
    sqs_staged *staged;
} send_ctx;

/* A scratch call that collects one batch entry's error. */
static void scratch_init(api_call *scratch, const api_call *call)
{
    memset(scratch, 0, sizeof *scratch);
    scratch->protocol = call->protocol;
    scratch->service = call->service;
    scratch->account = call->account;
    scratch->access_key = call->access_key;
    scratch->trace_header = call->trace_header;
}

static void add_failure(api_call *call, const char *id, const api_call *scratch)
{
    json_t *failed = json_object_get(api_out(call), "Failed");
    const aws_error *e = aws_error_get(scratch->error);

    if (!failed) {
        failed = json_array();
        json_object_set_new(api_out(call), "Failed", failed);
    }
    json_array_append_new(failed, json_pack("{s:s,s:b,s:s,s:s}", "Id", id, "SenderFault",
                                            e->sender_fault, "Code", e->query_code, "Message",
                                            scratch->error_message ? scratch->error_message : ""));
}

static void add_success(api_call *call, json_t *entry)
{
    json_t *ok = json_object_get(api_out(call), "Successful");

    if (!ok) {
        ok = json_array();
        json_object_set_new(api_out(call), "Successful", ok);
    }
    json_array_append_new(ok, entry);
}

enum send_outcome { SEND_FAILED, SEND_STAGED, SEND_DUPLICATE };

static void put_send_md5s(json_t *result, const sqs_message *m, const char *body,
                          size_t body_len, json_t *attrs, json_t *sys)
{
    char md5[33];

    if (m && m->has_md5)
        hex_encode(m->body_md5, sizeof m->body_md5, md5);
    else
        sqs_md5_hex(body, body_len, md5);
    json_object_set_new(result, "MD5OfMessageBody", json_string(md5));
    if (attrs && json_object_size(attrs)) {
        sqs_message_attrs_md5(attrs, md5);
        json_object_set_new(result, "MD5OfMessageAttributes", json_string(md5));
    }
    if (sys && json_object_size(sys)) {
        sqs_message_attrs_md5(sys, md5);
        json_object_set_new(result, "MD5OfMessageSystemAttributes", json_string(md5));
    }
}

/* Validates one message to send and stages it (not yet visible).  The
 * result object gets MessageId, SequenceNumber and the MD5s.  On failure
 * the call's error is set. */
static enum send_outcome prepare_message(api_call *call, sqs_staged *staged, store_batch *b,
                                         sqs_queue *q, json_t *in, json_t *result,
                                         long *size_out, bool in_batch)
{
    const char *body = NULL;
    size_t body_len = 0;
    long long delay = 0;
    int has_delay;
    json_t *attrs = NULL, *sys = NULL;
    long attrs_size = 0;
    int rc;

    if ((rc = param_str(call, in, "MessageBody", &body, &body_len)) < 0)
        return SEND_FAILED;
    if (!rc || body_len == 0) {
        api_fail(call, AWS_ERR_MISSING_PARAMETER,
                 "The request must contain the parameter MessageBody.");
        return SEND_FAILED;
    }
    long bad = sqs_body_invalid_char(body, body_len);
    if (bad == SQS_BODY_NOT_UTF8) {
        api_fail(call, AWS_ERR_SQS_INVALID_MESSAGE_CONTENTS,
                 "Invalid characters found in the message body: it is not valid UTF-8.");
        return SEND_FAILED;
    }
    if (bad >= 0) {
        api_fail(call, AWS_ERR_SQS_INVALID_MESSAGE_CONTENTS,
                 "Invalid binary character '#x%lX' was found in the message body, the set of "
                 "allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | "
                 "#x10000 to #x10FFFF", bad);
        return SEND_FAILED;
    }
    if ((has_delay = param_int(call, in, "DelaySeconds", &delay)) < 0)
        return SEND_FAILED;
    if (has_delay && (delay < 0 || delay > SQS_MAX_DELAY)) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %lld for parameter DelaySeconds is invalid. Reason: DelaySeconds must be "
                 ">= 0 and <= 900.", delay);
        return SEND_FAILED;
    }
    if (q->fifo && delay > 0) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %lld for parameter DelaySeconds is invalid. Reason: The request include "
                 "parameter that is not valid for this queue type.", delay);
        return SEND_FAILED;
    }
    if (param_object(call, in, "MessageAttributes", &attrs) < 0 ||
        param_object(call, in, "MessageSystemAttributes", &sys) < 0)
        return SEND_FAILED;
    if (attrs && (attrs_size = sqs_message_attrs_validate(call, attrs, false)) < 0)
        return SEND_FAILED;
    if (sys && sqs_message_attrs_validate(call, sys, true) < 0)
        return SEND_FAILED;
    long total = (long)body_len + attrs_size;
    if (total > q->max_message_size) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "One or more parameters are invalid. Reason: Message must be shorter than %d "
                 "bytes.", q->max_message_size);
        return SEND_FAILED;
    }
    const char *group = NULL, *dedup = NULL, *trace = NULL;
    char content_id[65];
    if (param_str(call, in, "MessageGroupId", &group, NULL) < 0 ||
        param_str(call, in, "MessageDeduplicationId", &dedup, NULL) < 0)
        return SEND_FAILED;
    if (q->fifo && !group) {
        api_fail(call, in_batch ? AWS_ERR_INVALID_PARAMETER_VALUE : AWS_ERR_MISSING_PARAMETER,
                 "The request must contain the parameter MessageGroupId.");
        return SEND_FAILED;
    }
    if (group && !sqs_fifo_valid_id(group)) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can "
                 "only include alphanumeric and punctuation characters. 1 to 128 in length.",
                 group);
        return SEND_FAILED;
    }
    if (dedup && !q->fifo) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter MessageDeduplicationId is invalid. Reason: The request "
                 "includes a parameter that is not valid for this queue type.", dedup);
        return SEND_FAILED;
    }
    if (dedup && !sqs_fifo_valid_id(dedup)) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter MessageDeduplicationId is invalid. Reason: "
                 "MessageDeduplicationId can only include alphanumeric and punctuation "
                 "characters. 1 to 128 in length.", dedup);
        return SEND_FAILED;
    }
    if (q->fifo && !dedup) {
        const char *cbd =
            json_string_value(json_object_get(q->attributes, "ContentBasedDeduplication"));
        if (!cbd || strcmp(cbd, "true") != 0) {
            api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                     "The queue should either have ContentBasedDeduplication enabled or "
                     "MessageDeduplicationId provided explicitly");
            return SEND_FAILED;
        }
        sqs_fifo_content_dedup_id(body, body_len, content_id);
        dedup = content_id;
    }
    *size_out = total;

    /* A duplicate inside the window succeeds with the first message's ids. */
    if (q->fifo) {
        sqs_dedup *d = sqs_fifo_dedup_find(q, group, dedup, clock_now_ms());
        if (d) {
            sqs_staged_note_duplicate(staged, q, d);
            json_object_set_new(result, "MessageId", json_string(d->message_id));
            json_object_set_new(result, "SequenceNumber", json_string(d->sequence_number));
            put_send_md5s(result, NULL, body, body_len, attrs, sys);
            return SEND_DUPLICATE;
        }
    }

    /* the AWSTraceHeader system attribute, else the request's X-Ray header */
    if (sys)
        trace = json_string_value(
            json_object_get(json_object_get(sys, "AWSTraceHeader"), "StringValue"));
    if (!trace)
        trace = call->trace_header;
    char *attrs_text = attrs && json_object_size(attrs) ? json_dumps(attrs, JSON_COMPACT) : NULL;
    sqs_outgoing o = {
        .body = body,
        .body_len = body_len,
        .attrs = attrs_text,
        .trace = trace,
        .group_id = group,
        .dedup_id = q->fifo ? dedup : NULL,
        .sender = call->access_key && *call->access_key ? call->access_key : call->account,
        .delay_seconds = q->fifo || !has_delay ? -1 : (int)delay,
    };
    sqs_message *m = sqs_stage(staged, q, &o, b);
    free(attrs_text);

    json_object_set_new(result, "MessageId", json_string(m->message_id));
    if (q->fifo) {
        char seqnum[24];
        sqs_fifo_sequence_number(m, seqnum);
        json_object_set_new(result, "SequenceNumber", json_string(seqnum));
        sqs_fifo_dedup_record(sqs_of(call), q, group, dedup, m, seqnum, b);
    }
    put_send_md5s(result, m, body, body_len, attrs, sys);
    return SEND_STAGED;
}

static void send_done(void *arg, int status)
{
    send_ctx *ctx = arg;

    /* A failed commit, or a duplicate whose original's commit failed. */
    if (sqs_staged_finish(ctx->staged, status) != 0 || status != 0) {
        json_decref(ctx->call->output);
        ctx->call->output = NULL;
        api_fail(ctx->call, AWS_ERR_SERVICE_UNAVAILABLE,
                 "The request has failed due to a temporary failure of the server.");
    }
    api_finish(ctx->call);
    free(ctx);
}

static api_status submit_sends(sqs_service *svc, api_call *call, sqs_staged *staged,
                               store_batch *b)
{
    if (sqs_staged_count(staged) == 0 && store_batch_empty(b) && !call->has_error &&
        !json_object_get(call->output, "SequenceNumber") &&
        json_array_size(json_object_get(call->output, "Successful")) == 0) {
        sqs_staged_finish(staged, 0);
        store_batch_free(b);
        return API_DONE;
    }
    /* Even with nothing new to write (only duplicates) the answer waits for
     * the commits before it, so it never names a message not yet durable. */
    send_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->call = call;
    ctx->staged = staged;
    store_submit(svc->store, b, send_done, ctx);
    return API_PENDING;
}

api_status sqs_send_message(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    long size;

    if (!q)
        return API_DONE;
    sqs_staged *staged = sqs_staged_new(svc);
    store_batch *b = store_batch_new();
    enum send_outcome r = prepare_message(call, staged, b, q, call->input, api_out(call), &size,
                                          false);
    if (r == SEND_FAILED) {
        sqs_staged_finish(staged, -1);
        store_batch_free(b);
        return API_DONE;
    }
    return submit_sends(svc, call, staged, b);
}

static bool valid_entry_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 80)
        return false;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
              (*id >= '0' && *id <= '9') || *id == '-' || *id == '_'))
            return false;
    return true;
}

/* The checks every batch action makes on the whole request. */
static json_t *batch_entries(api_call *call, const char *entry_name)
{
    json_t *entries = NULL;
    size_t i, j;
    json_t *e;

    if (param_list(call, call->input, "Entries", &entries) < 0)
        return NULL;
    if (!entries || json_array_size(entries) == 0) {
        api_fail(call, AWS_ERR_SQS_EMPTY_BATCH,
                 "There should be at least one %s in the request.", entry_name);
        return NULL;
    }
    if (json_array_size(entries) > SQS_MAX_BATCH) {
        api_fail(call, AWS_ERR_SQS_TOO_MANY_ENTRIES,
                 "Maximum number of entries per request are %d. You have sent %zu.",
                 SQS_MAX_BATCH, json_array_size(entries));
        return NULL;
    }
    json_array_foreach(entries, i, e) {
        const char *id = NULL;
        if (!json_is_object(e)) {
            api_fail(call, AWS_ERR_SERIALIZATION, "Each entry must be a structure.");
            return NULL;
        }
        if (param_str(call, e, "Id", &id, NULL) < 0)
            return NULL;
        if (!id) {
            api_fail(call, AWS_ERR_MISSING_PARAMETER,
                     "The request must contain the parameter %s.%zu.Id.", entry_name, i + 1);
            return NULL;
        }
        if (!valid_entry_id(id)) {
            api_fail(call, AWS_ERR_SQS_INVALID_BATCH_ENTRY_ID,
                     "A batch entry id can only contain alphanumeric characters, hyphens and "
                     "underscores. It can be at most 80 letters long.");
            return NULL;
        }
        for (j = 0; j < i; j++) {
            const char *other = json_string_value(json_object_get(json_array_get(entries, j),
                                                                  "Id"));
            if (other && strcmp(other, id) == 0) {
                api_fail(call, AWS_ERR_SQS_BATCH_IDS_NOT_DISTINCT, "Id %s repeated.", id);
                return NULL;
            }
        }
    }
    return entries;
}

/* An entry's length as SQS counts it against the batch's total: the body
 * and every part of each message attribute (name, type and value, binary
 * values decoded).  Entries are not validated yet: odd members count 0. */
static long entry_length(json_t *e)
{
    json_t *body = json_object_get(e, "MessageBody");
    json_t *attrs = json_object_get(e, "MessageAttributes");
    long n = json_is_string(body) ? (long)json_string_length(body) : 0;
    const char *name;
    json_t *a;

    if (!json_is_object(attrs))
        return n;
    json_object_foreach(attrs, name, a) {
        json_t *type = json_object_get(a, "DataType");
        json_t *sv = json_object_get(a, "StringValue");
        json_t *bv = json_object_get(a, "BinaryValue");
        n += (long)strlen(name);
        if (json_is_string(type))
            n += (long)json_string_length(type);
        if (json_is_string(type) && strncmp(json_string_value(type), "Binary", 6) == 0) {
            if (json_is_string(bv)) {
                size_t len = json_string_length(bv);
                uint8_t *raw = xmalloc(len * 3 / 4 + 3);
                long got = base64_decode(json_string_value(bv), len, raw);
                free(raw);
                n += got > 0 ? got : 0;
            }
        } else if (json_is_string(sv)) {
            n += (long)json_string_length(sv);
        }
    }
    return n;
}

api_status sqs_send_message_batch(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    json_t *entries, *e;
    size_t i;
    long total = 0;

    if (!q || !(entries = batch_entries(call, "SendMessageBatchRequestEntry")))
        return API_DONE;
    /* The whole batch counts against a fixed 1 MiB (each message against
     * the queue's MaximumMessageSize, checked per entry); a message's
     * attributes count toward its length. */
    json_array_foreach(entries, i, e)
        total += entry_length(e);
    if (total > SQS_MAX_MESSAGE_SIZE)
        return api_fail(call, AWS_ERR_SQS_BATCH_TOO_LONG,
                        "Batch requests cannot be longer than %d bytes. You have sent %ld "
                        "bytes.", SQS_MAX_MESSAGE_SIZE, total);

    sqs_staged *staged = sqs_staged_new(svc);
    store_batch *b = store_batch_new();
    api_out(call);
    json_array_foreach(entries, i, e) {
        const char *id = json_string_value(json_object_get(e, "Id"));
        json_t *result = json_pack("{s:s}", "Id", id);
        api_call scratch;
        long size;
        scratch_init(&scratch, call);
        if (prepare_message(&scratch, staged, b, q, e, result, &size, true) != SEND_FAILED) {
            add_success(call, result);
        } else {
            add_failure(call, id, &scratch);
            json_decref(result);
        }
        free(scratch.error_message);
    }
    if (!json_object_get(call->output, "Successful"))
        json_object_set_new(call->output, "Successful", json_array());
    if (!json_object_get(call->output, "Failed"))
        json_object_set_new(call->output, "Failed", json_array());
    return submit_sends(svc, call, staged, b);
}

/* ---------------------------------------------------------------- receiving */

typedef struct receive_params {
    int max;
    int visibility;
    int wait;
    const char *attempt_id;           /* FIFO ReceiveRequestAttemptId, or NULL */
    json_t *attribute_names;          /* AttributeNames + MessageSystemAttributeNames */
    json_t *message_attribute_names;
} receive_params;

static bool name_listed(json_t *names, const char *name)
{
    size_t i;
    json_t *n;

    json_array_foreach(names, i, n) {
        const char *s = json_string_value(n);
        if (strcmp(s, "All") == 0 || strcmp(s, name) == 0)
            return true;
    }
    return false;
}

static bool attribute_wanted(json_t *names, const char *name)
{
    size_t i;
    json_t *n;

    json_array_foreach(names, i, n) {
        const char *s = json_string_value(n);
        size_t len = strlen(s);
        if (strcmp(s, "All") == 0 || strcmp(s, ".*") == 0 || strcmp(s, "*") == 0 ||
            strcmp(s, name) == 0)
            return true;
        if (len > 2 && strcmp(s + len - 2, ".*") == 0 && strncmp(s, name, len - 1) == 0)
            return true;
    }
    return false;
}

static void put_system_attributes(sqs_message *m, json_t *names, json_t *out)
{
    char tmp[32];

    if (json_array_size(names) == 0)
        return; /* the common case: nothing asked, nothing to parse */
    json_t *meta = m->meta ? json_loads(m->meta, 0, NULL) : NULL;
    const char *sender = json_string_value(json_object_get(meta, "sender"));
    const char *trace = json_string_value(json_object_get(meta, "trace"));
    const char *group = json_string_value(json_object_get(meta, "group"));

    if (name_listed(names, "SenderId"))
        json_object_set_new(out, "SenderId", json_string(sender ? sender : ""));
    if (name_listed(names, "SentTimestamp")) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)m->sent_ms);
        json_object_set_new(out, "SentTimestamp", json_string(tmp));
    }
    if (name_listed(names, "ApproximateReceiveCount")) {
        snprintf(tmp, sizeof tmp, "%u", m->receive_count);
        json_object_set_new(out, "ApproximateReceiveCount", json_string(tmp));
    }
    if (name_listed(names, "ApproximateFirstReceiveTimestamp")) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)m->first_receive_ms);
        json_object_set_new(out, "ApproximateFirstReceiveTimestamp", json_string(tmp));
    }
    const char *dlq_source = json_string_value(json_object_get(meta, "dlq_source"));
    if (dlq_source && name_listed(names, "DeadLetterQueueSourceArn"))
        json_object_set_new(out, "DeadLetterQueueSourceArn", json_string(dlq_source));
    if (trace && name_listed(names, "AWSTraceHeader"))
        json_object_set_new(out, "AWSTraceHeader", json_string(trace));
    if (group && name_listed(names, "MessageGroupId"))
        json_object_set_new(out, "MessageGroupId", json_string(group));
    const char *dedup = json_string_value(json_object_get(meta, "dedup"));
    if (dedup && name_listed(names, "MessageDeduplicationId"))
        json_object_set_new(out, "MessageDeduplicationId", json_string(dedup));
    if (m->queue->fifo && name_listed(names, "SequenceNumber")) {
        char seqnum[24];
        sqs_fifo_sequence_number(m, seqnum);
        json_object_set_new(out, "SequenceNumber", json_string(seqnum));
    }
    json_decref(meta);
}

/* Renders one received message; false if its payload is gone. */
static bool render_message(sqs_service *svc, sqs_message *m, const receive_params *p,
                           json_t *list)
{
    char *body = m->body, *attrs_text = m->attrs;
    size_t body_len = m->body_len, attrs_len = m->attrs_len;
    char md5[33], handle[128];

    if (!m->cached &&
        store_read_payload(svc->store, m->seq, &body, &body_len, &attrs_text, &attrs_len) < 0)
        return false;

    json_t *msg = json_object();
    json_object_set_new(msg, "MessageId", json_string(m->message_id));
    sqs_receipt_encode(m, handle, sizeof handle);
    json_object_set_new(msg, "ReceiptHandle", json_string(handle));
    if (!m->has_md5) {
        unsigned int md_len = 0;
        EVP_Digest(body, body_len, m->body_md5, &md_len, EVP_md5(), NULL);
        m->has_md5 = md_len == sizeof m->body_md5;
    }
    hex_encode(m->body_md5, sizeof m->body_md5, md5);
    json_object_set_new(msg, "MD5OfBody", json_string(md5));
    json_object_set_new(msg, "Body", json_stringn_nocheck(body, body_len));

    json_t *sys = json_object();
    put_system_attributes(m, p->attribute_names, sys);
    if (json_object_size(sys))
        json_object_set_new(msg, "Attributes", sys);
    else
        json_decref(sys);

    json_t *all = attrs_text ? json_loadb(attrs_text, attrs_len, 0, NULL) : NULL;
    if (json_object_size(all) && p->message_attribute_names) {
        json_t *picked = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(all, k, v)
            if (attribute_wanted(p->message_attribute_names, k))
                json_object_set(picked, k, v);
        if (json_object_size(picked)) {
            sqs_message_attrs_md5(picked, md5);
            json_object_set_new(msg, "MD5OfMessageAttributes", json_string(md5));
            json_object_set_new(msg, "MessageAttributes", picked);
        } else {
            json_decref(picked);
        }
    }
    json_decref(all);
    if (!m->cached) {
        free(body);
        free(attrs_text);
    }
    json_array_append_new(list, msg);
    return true;
}

/* Moves a message that has been received too often to the dead-letter queue.
 * True if it was moved. */
static bool dead_letter(sqs_service *svc, sqs_queue *q, sqs_message *m, store_batch *b,
                        int64_t now)
{
    if (!q->dead_letter_arn || q->max_receive_count <= 0 ||
        m->receive_count < (uint32_t)q->max_receive_count)
        return false;
    sqs_queue *dlq = sqs_queue_find_arn(svc, q->dead_letter_arn);
    if (!dlq || dlq == q)
        return false;
    sqs_message_move(svc, m, dlq, q->arn, b, now);
    log_debug("sqs", "message moved to dead-letter queue queue=%s dlq=%s message_id=%s",
              q->name, dlq->name, m->message_id);
    sqs_wake_waiters(svc, dlq);
    return true;
}

/* How many more messages may go in flight on q (--max-inflight and
 * --max-inflight-fifo). */
static size_t inflight_room(const sqs_queue *q)
{
    const limits *lim = q->svc->limits;
    size_t max = q->fifo ? lim->max_inflight_fifo : lim->max_inflight;

    return q->inflight_count < max ? max - q->inflight_count : 0;
}

/* Takes up to p->max ready messages (fewer if the queue's in-flight limit
 * would be passed), fills out["Messages"] and the batch.  Returns how many
 * were taken. */
static size_t take_messages(sqs_service *svc, sqs_queue *q, const receive_params *p,
                            json_t *out, store_batch *b)
{
    int64_t now = clock_now_ms();
    int64_t retention = (int64_t)q->retention_seconds * 1000;
    json_t *list = json_array();
    size_t taken = 0;

    sqs_message *picked[SQS_MAX_BATCH], *got[SQS_MAX_BATCH];
    size_t n;

    sqs_index_mature(svc, q, now);
    if (q->fifo && p->attempt_id) {
        /* A retried receive gets the same messages and receipt handles. */
        n = sqs_fifo_attempt_replay(q, p->attempt_id, now, picked);
        for (size_t i = 0; i < n; i++) {
            sqs_message *m = picked[i];
            if (!render_message(svc, m, p, list))
                continue;
            sqs_index_make_visible_at(svc, m, now + (int64_t)p->visibility * 1000, now);
            store_update_message(b, m->seq, m->visible_at_ms, m->receive_count,
                                 m->first_receive_ms);
            taken++;
        }
        if (n) {
            json_object_set_new(out, "Messages", list);
            return taken;
        }
    }
    /* Messages that expired or went to the dead-letter queue leave room:
     * pick again (a bounded number of rounds) so a receive does not come
     * back empty while the queue still holds visible messages.  With a
     * visibility of 0 what was taken stays visible, so one round only. */
    for (int round = 0; round < 8 && taken < (size_t)p->max; round++) {
        size_t removed = 0, want = (size_t)p->max - taken;
        if (p->visibility > 0 && inflight_room(q) < want)
            want = inflight_room(q);
        if (want == 0)
            break;
        n = sqs_index_pick(q, want, picked);
        for (size_t i = 0; i < n; i++) {
            sqs_message *m = picked[i];
            if (now - m->sent_ms >= retention) {
                store_delete_message(b, m->seq);
                sqs_index_remove(svc, m);
                sqs_message_free(svc, m);
                removed++;
                continue;
            }
            if (dead_letter(svc, q, m, b, now)) {
                removed++;
                continue;
            }
            m->receive_count++;
            if (!m->first_receive_ms)
                m->first_receive_ms = now;
            m->received_ms = now;
            random_bytes(&m->receipt_nonce, sizeof m->receipt_nonce);
            if (!render_message(svc, m, p, list)) {
                log_warn("sqs", "message payload missing, dropped queue=%s message_id=%s",
                         q->name, m->message_id);
                sqs_index_remove(svc, m);
                sqs_message_free(svc, m);
                removed++;
                continue;
            }
            /* Visibility 0 leaves it visible: it moves to the back of the line. */
            sqs_index_make_visible_at(svc, m, now + (int64_t)p->visibility * 1000, now);
            store_update_message(b, m->seq, m->visible_at_ms, m->receive_count,
                                 m->first_receive_ms);
            got[taken++] = m;
        }
        if (removed == 0 || n == 0 || p->visibility == 0)
            break;
    }
    if (q->fifo && p->attempt_id && taken)
        sqs_fifo_attempt_record(q, p->attempt_id, got, taken, now);
    if (taken)
        json_object_set_new(out, "Messages", list);
    else
        json_decref(list);
    return taken;
}

/* A receive is answered without waiting for its batch (the new visibility
 * and receive count, expired messages dropped, moves to the dead-letter
 * queue) to reach the disk: the batch is queued behind every write before
 * it, so a later delete of the same message still commits after it, and a
 * crash that loses it only makes the messages visible again early, which
 * at-least-once delivery allows (docs/durability.md).  Nothing a client was
 * told is stored depends on it. */
static void submit_receive(sqs_service *svc, store_batch *b)
{
    if (store_batch_empty(b))
        store_batch_free(b);
    else
        store_submit(svc->store, b, NULL, NULL);
}

static void waiter_unlink(sqs_queue *q, sqs_waiter *w)
{
    q->svc->parked--;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->waiters_tail = w->prev;
    w->prev = w->next = NULL;
}

static void waiter_free(sqs_waiter *w)
{
    event_free(w->timer);
    json_decref(w->attribute_names);
    json_decref(w->message_attribute_names);
    free(w);
}

static void waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
    sqs_waiter *w = arg;
    api_call *call = w->call;
    sqs_queue *q = w->queue;

    waiter_unlink(q, w);
    call->cancel = NULL;
    call->handler_data = NULL;
    /* One last look before answering empty (nothing should be missed, but
     * a wake-up that raced the timer costs nothing to catch here). */
    receive_params p = {w->max, w->visibility, 0, NULL, w->attribute_names,
                        w->message_attribute_names};
    store_batch *b = store_batch_new();
    bool draining = !(what & EV_TIMEOUT); /* sqs_waiters_answer_all: stopping */
    if (!q->deleted && !draining && take_messages(q->svc, q, &p, api_out(call), b) > 0) {
        waiter_free(w);
        submit_receive(q->svc, b);
        api_finish(call);
        sqs_queue_unref(q->svc, q);
        return;
    }
    submit_receive(q->svc, b);
    waiter_free(w);
    api_out(call);
    api_finish(call);
    sqs_queue_unref(q->svc, q);
}

static void waiter_cancel(api_call *call)
{
    sqs_waiter *w = call->handler_data;
    sqs_queue *q = w->queue;

    waiter_unlink(q, w);
    waiter_free(w);
    call->handler_data = NULL;
    call->cancel = NULL;
    sqs_queue_unref(q->svc, q);
}

static api_status park(sqs_queue *q, api_call *call, const receive_params *p)
{
    sqs_waiter *w = xcalloc(1, sizeof *w);
    struct timeval tv = {.tv_sec = p->wait, .tv_usec = 0};

    w->call = call;
    w->queue = q;
    w->max = p->max;
    w->visibility = p->visibility;
    w->attribute_names = json_incref(p->attribute_names);
    w->message_attribute_names = json_incref(p->message_attribute_names);
    w->timer = evtimer_new(q->svc->base, waiter_timeout, w);
    evtimer_add(w->timer, &tv);
    w->prev = q->waiters_tail;
    if (q->waiters_tail)
        q->waiters_tail->next = w;
    else
        q->waiters = w;
    q->waiters_tail = w;
    q->refs++;
    q->svc->parked++;
    call->handler_data = w;
    call->cancel = waiter_cancel;
    return API_PENDING;
}

void sqs_wake_waiters(sqs_service *svc, sqs_queue *q)
{
    while (q->waiters && sqs_index_has_ready(q) && !q->deleted) {
        sqs_waiter *w = q->waiters;
        api_call *call = w->call;
        receive_params p = {w->max, w->visibility, 0, NULL, w->attribute_names,
                            w->message_attribute_names};
        store_batch *b = store_batch_new();

        if (take_messages(svc, q, &p, api_out(call), b) == 0) {
            /* Everything ready had expired or moved: keep waiting. */
            submit_receive(svc, b);
            break;
        }
        waiter_unlink(q, w);
        call->cancel = NULL;
        call->handler_data = NULL;
        w->attribute_names = w->message_attribute_names = NULL;
        json_decref(p.attribute_names);
        json_decref(p.message_attribute_names);
        waiter_free(w);
        submit_receive(svc, b);
        api_finish(call);
        sqs_queue_unref(svc, q);
    }
}

void sqs_waiters_cancel_all(sqs_service *svc, sqs_queue *q)
{
    while (q->waiters) {
        sqs_waiter *w = q->waiters;
        api_call *call = w->call;
        waiter_unlink(q, w);
        call->cancel = NULL;
        call->handler_data = NULL;
        waiter_free(w);
        api_fail(call, AWS_ERR_SQS_QUEUE_DOES_NOT_EXIST, "The specified queue does not exist.");
        api_finish(call);
        sqs_queue_unref(svc, q);
    }
}

static json_t *merged_names(api_call *call)
{
    json_t *a = NULL, *b = NULL;
    json_t *all = json_array();

    if (param_str_list(call, call->input, "AttributeNames", &a) < 0 ||
        param_str_list(call, call->input, "MessageSystemAttributeNames", &b) < 0) {
        json_decref(all);
        return NULL;
    }
    if (a)
        json_array_extend(all, a);
    if (b)
        json_array_extend(all, b);
    return all;
}

api_status sqs_receive_message(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    long long max = 1, vis = 0, wait = 0;
    int has_vis, has_wait;
    json_t *msg_names = NULL;
    receive_params p;

    if (!q)
        return API_DONE;
    if (param_int(call, call->input, "MaxNumberOfMessages", &max) < 0 ||
        (has_vis = param_int(call, call->input, "VisibilityTimeout", &vis)) < 0 ||
        (has_wait = param_int(call, call->input, "WaitTimeSeconds", &wait)) < 0 ||
        param_str_list(call, call->input, "MessageAttributeNames", &msg_names) < 0)
        return API_DONE;
    if (max < 1 || max > SQS_MAX_BATCH)
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %lld for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                        "between 1 and 10, if provided.", max);
    if (has_vis && (vis < 0 || vis > SQS_MAX_VISIBILITY))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %lld for parameter VisibilityTimeout is invalid. Reason: Must be >= "
                        "0 and <= 43200, if provided.", vis);
    if (has_wait && (wait < 0 || wait > SQS_MAX_WAIT))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %lld for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 "
                        "and <= 20, if provided.", wait);
    p.attempt_id = NULL;
    if (param_str(call, call->input, "ReceiveRequestAttemptId", &p.attempt_id, NULL) < 0)
        return API_DONE;
    if (p.attempt_id && !sqs_fifo_valid_id(p.attempt_id))
        return api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                        "Value %s for parameter ReceiveRequestAttemptId is invalid. Reason: "
                        "ReceiveRequestAttemptId can only include alphanumeric and punctuation "
                        "characters. 1 to 128 in length.", p.attempt_id);
    p.max = (int)max;
    p.visibility = has_vis ? (int)vis : q->visibility_timeout;
    p.wait = has_wait ? (int)wait : q->receive_wait_seconds;
    p.attribute_names = merged_names(call);
    if (!p.attribute_names)
        return API_DONE;
    p.message_attribute_names = msg_names;

    /* A short poll of a standard queue at its in-flight limit is refused
     * (a long poll waits, and a FIFO queue answers empty, as AWS's do). */
    if (!q->fifo && p.wait == 0 && inflight_room(q) == 0) {
        json_decref(p.attribute_names);
        return api_fail(call, AWS_ERR_SQS_OVER_LIMIT,
                        "The maximum number of in-flight messages (%zu) is reached for this "
                        "queue.", svc->limits->max_inflight);
    }
    store_batch *b = store_batch_new();
    api_status st;
    if (take_messages(svc, q, &p, api_out(call), b) > 0 || p.wait == 0) {
        submit_receive(svc, b);
        st = API_DONE;
    } else if (svc->parked >= svc->limits->max_long_polls) {
        submit_receive(svc, b);
        json_decref(call->output);
        call->output = NULL;
        api_fail(call, AWS_ERR_SQS_REQUEST_THROTTLED,
                 "Request is throttled: %zu receives are already waiting (the server's "
                 "--max-long-polls).", svc->parked);
        st = API_DONE;
    } else {
        submit_receive(svc, b);
        st = park(q, call, &p);
    }
    json_decref(p.attribute_names);
    return st;
}

/* ----------------------------------------------------------------- deleting */

/* Resolves a receipt handle.  Returns 1 with *out set when it names the
 * current receive of a message, 0 when it is well-formed but stale or the
 * message is gone, -1 (error set) when it is malformed. */
static int resolve_handle(api_call *call, sqs_queue *q, const char *handle, sqs_message **out)
{
    uint64_t qid, seq;
    uint32_t nonce;

    *out = NULL;
    if (sqs_receipt_decode(handle, &qid, &seq, &nonce) < 0 || qid != q->id) {
        api_fail(call, AWS_ERR_SQS_RECEIPT_HANDLE_INVALID,
                 "The input receipt handle \"%s\" is not a valid receipt handle.", handle);
        return -1;
    }
    sqs_message *m = map_u64_get(&q->by_seq, seq);
    if (!m || m->receipt_nonce != nonce || m->receive_count == 0)
        return 0;
    if (q->fifo && m->state != MSG_INFLIGHT) {
        /* A FIFO receipt handle lives only as long as its visibility. */
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle "
                 "has expired.", handle);
        return -1;
    }
    *out = m;
    return 1;
}

static const char *receipt_param(api_call *call, json_t *obj)
{
    const char *handle = NULL;
    int rc = param_str(call, obj, "ReceiptHandle", &handle, NULL);

    if (rc == 0)
        api_fail(call, AWS_ERR_MISSING_PARAMETER,
                 "The request must contain the parameter ReceiptHandle.");
    return rc > 0 ? handle : NULL;
}

static int delete_one(api_call *call, sqs_service *svc, sqs_queue *q, json_t *in,
                      store_batch *b)
{
    const char *handle = receipt_param(call, in);
    sqs_message *m;

    if (!handle)
        return -1;
    int rc = resolve_handle(call, q, handle, &m);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        store_delete_message(b, m->seq);
        sqs_index_remove(svc, m);
        sqs_message_free(svc, m);
    }
    return 0;
}

api_status sqs_delete_message(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);

    if (!q)
        return API_DONE;
    store_batch *b = store_batch_new();
    if (delete_one(call, svc, q, call->input, b) < 0) {
        store_batch_free(b);
        return API_DONE;
    }
    api_status st = sqs_commit_and_finish(svc, call, b);
    /* On a FIFO queue a delete may unlock a group for parked receives; on
     * any queue it may make room under the in-flight limit. */
    if (q->waiters && (q->fifo || inflight_room(q) <= SQS_MAX_BATCH))
        sqs_wake_waiters(svc, q);
    return st;
}

api_status sqs_delete_message_batch(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    json_t *entries, *e;
    size_t i;

    if (!q || !(entries = batch_entries(call, "DeleteMessageBatchRequestEntry")))
        return API_DONE;
    store_batch *b = store_batch_new();
    api_out(call);
    json_array_foreach(entries, i, e) {
        const char *id = json_string_value(json_object_get(e, "Id"));
        api_call scratch;
        scratch_init(&scratch, call);
        if (delete_one(&scratch, svc, q, e, b) < 0)
            add_failure(call, id, &scratch);
        else
            add_success(call, json_pack("{s:s}", "Id", id));
        free(scratch.error_message);
    }
    if (!json_object_get(call->output, "Successful"))
        json_object_set_new(call->output, "Successful", json_array());
    if (!json_object_get(call->output, "Failed"))
        json_object_set_new(call->output, "Failed", json_array());
    api_status st = sqs_commit_and_finish(svc, call, b);
    if (q->waiters && (q->fifo || inflight_room(q) <= SQS_MAX_BATCH))
        sqs_wake_waiters(svc, q);
    return st;
}

/* ------------------------------------------------------ changing visibility */

static int change_one(api_call *call, sqs_service *svc, sqs_queue *q, json_t *in,
                      store_batch *b, bool *woke)
{
    const char *handle = receipt_param(call, in);
    long long vis;
    sqs_message *m;
    int rc;

    if (!handle)
        return -1;
    if ((rc = param_int(call, in, "VisibilityTimeout", &vis)) < 0)
        return -1;
    if (!rc) {
        api_fail(call, AWS_ERR_MISSING_PARAMETER,
                 "The request must contain the parameter VisibilityTimeout.");
        return -1;
    }
    if (vis < 0 || vis > SQS_MAX_VISIBILITY) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %lld for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 "
                 "and <= 43200, if provided.", vis);
        return -1;
    }
    rc = resolve_handle(call, q, handle, &m);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %s for parameter ReceiptHandle is invalid. Reason: Message does not "
                 "exist or is not available for visibility timeout change.", handle);
        return -1;
    }
    /* A handle whose timeout ran out, while nobody received the message
     * again (resolve_handle checked that): AWS answers OK and leaves the
     * message visible (its receive session is over). */
    if (m->state == MSG_READY)
        return 0;
    if (m->state != MSG_INFLIGHT) {
        api_fail(call, AWS_ERR_SQS_MESSAGE_NOT_INFLIGHT,
                 "Message does not exist or is not available for visibility timeout change.");
        return -1;
    }
    int64_t now = clock_now_ms();
    /* A message stays invisible at most 12 hours from the receive. */
    if (m->received_ms && now + vis * 1000 - m->received_ms > SQS_MAX_VISIBILITY * 1000LL) {
        api_fail(call, AWS_ERR_INVALID_PARAMETER_VALUE,
                 "Value %lld for parameter VisibilityTimeout is invalid. Reason: Total "
                 "VisibilityTimeout for the message is beyond the limit [43200 seconds]", vis);
        return -1;
    }
    sqs_index_make_visible_at(svc, m, now + vis * 1000, now);
    store_update_message(b, m->seq, m->visible_at_ms, m->receive_count, m->first_receive_ms);
    if (vis == 0)
        *woke = true;
    return 0;
}

api_status sqs_change_message_visibility(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    bool woke = false;

    if (!q)
        return API_DONE;
    store_batch *b = store_batch_new();
    if (change_one(call, svc, q, call->input, b, &woke) < 0) {
        store_batch_free(b);
        return API_DONE;
    }
    api_status st = sqs_commit_and_finish(svc, call, b);
    if (woke)
        sqs_wake_waiters(svc, q);
    return st;
}

api_status sqs_change_message_visibility_batch(api_call *call)
{
    sqs_service *svc = sqs_of(call);
    sqs_queue *q = sqs_queue_from_call(svc, call);
    json_t *entries, *e;
    size_t i;
    bool woke = false;

    if (!q || !(entries = batch_entries(call, "ChangeMessageVisibilityBatchRequestEntry")))
        return API_DONE;
    store_batch *b = store_batch_new();
    api_out(call);
    json_array_foreach(entries, i, e) {
        const char *id = json_string_value(json_object_get(e, "Id"));
        api_call scratch;
        scratch_init(&scratch, call);
        if (change_one(&scratch, svc, q, e, b, &woke) < 0)
            add_failure(call, id, &scratch);
        else
            add_success(call, json_pack("{s:s}", "Id", id));
        free(scratch.error_message);
    }
    if (!json_object_get(call->output, "Successful"))
        json_object_set_new(call->output, "Successful", json_array());
    if (!json_object_get(call->output, "Failed"))
        json_object_set_new(call->output, "Failed", json_array());
    api_status st = sqs_commit_and_finish(svc, call, b);
    if (woke)
        sqs_wake_waiters(svc, q);
    return st;
}

void sqs_waiters_answer_all(sqs_service *svc)
{
    for (size_t i = 0; i < svc->queues.cap; i++) {
        sqs_queue *q = svc->queues.keys[i] ? svc->queues.vals[i] : NULL;
        while (q && q->waiters)
            waiter_timeout(-1, 0, q->waiters);
    }
}
