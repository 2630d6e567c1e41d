/*
 * fifo.c - what FIFO queues add to sending and receiving: group and
 * deduplication id rules, the five-minute deduplication window, sequence
 * numbers, and ReceiveRequestAttemptId retries.
 *
 * Deduplication entries live in memory (a map per queue) and in the store's
 * dedup table (one small keyed row), written in the same commit as the message,
 * so a duplicate is recognised after a restart and after the original was
 * deleted, until the window closes.  Expired entries are dropped by the
 * service's sweeper.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "sqs/sqs.h"


bool sqs_fifo_valid_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 128)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        /* alphanumerics and punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~) */
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

void sqs_fifo_content_dedup_id(const char *body, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(body, len, md, &n, EVP_sha256(), NULL);
    hex_encode(md, n, out);
}

void sqs_fifo_sequence_number(const sqs_message *m, char out[24])
{
    /* Increases within a queue: send time in ms, then the global seq. */
    unsigned long long v = (unsigned long long)m->sent_ms * 1000000ULL + m->seq % 1000000ULL;
    snprintf(out, 24, "%llu", v);
}

static void dedup_key(const sqs_queue *q, const char *group, const char *dedup, buf *out)
{
    const char *scope = json_string_value(json_object_get(q->attributes, "DeduplicationScope"));

    buf_printf(out, "%llu:", (unsigned long long)q->id);
    if (scope && strcmp(scope, "messageGroup") == 0)
        buf_printf(out, "%s\x1f", group ? group : "");
    buf_puts(out, dedup);
}

sqs_dedup *sqs_fifo_dedup_find(sqs_queue *q, const char *group, const char *dedup, int64_t now)
{
    buf key;
    buf_init(&key);
    dedup_key(q, group, dedup, &key);
    sqs_dedup *d = map_str_get(&q->dedup, key.data);
    buf_free(&key);
    return d && d->expires_ms > now ? d : NULL;
}

static char *dedup_doc(const sqs_dedup *d)
{
    json_t *doc = json_pack("{s:s,s:s,s:I}", "message_id", d->message_id, "sequence_number",
                            d->sequence_number, "expires_ms", (json_int_t)d->expires_ms);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static void dedup_unlink(sqs_queue *q, sqs_dedup *d)
{
    if (d->older)
        d->older->newer = d->newer;
    else
        q->dedup_oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        q->dedup_newest = d->older;
    d->older = d->newer = NULL;
}

static void dedup_append(sqs_queue *q, sqs_dedup *d)
{
    d->newer = NULL;
    d->older = q->dedup_newest;
    if (q->dedup_newest)
        q->dedup_newest->newer = d;
    else
        q->dedup_oldest = d;
    q->dedup_newest = d;
}

void sqs_fifo_dedup_record(sqs_service *svc, sqs_queue *q, const char *group, const char *dedup,
                           const sqs_message *m, const char *sequence_number, store_batch *b)
{
    buf key;
    buf_init(&key);
    dedup_key(q, group, dedup, &key);

    sqs_dedup *d = map_str_get(&q->dedup, key.data);
    if (!d) {
        d = xcalloc(1, sizeof *d);
        d->key = xstrdup(key.data);
        map_str_put(&q->dedup, key.data, d);
    } else {
        dedup_unlink(q, d);
    }
    dedup_append(q, d);
    snprintf(d->message_id, sizeof d->message_id, "%s", m->message_id);
    snprintf(d->sequence_number, sizeof d->sequence_number, "%s", sequence_number);
    d->expires_ms = m->sent_ms + SQS_DEDUP_WINDOW_MS;
    char *doc = dedup_doc(d);
    store_put_dedup(b, q->id, key.data, doc, d->expires_ms);
    free(doc);
    buf_free(&key);
}

void sqs_fifo_dedup_forget(sqs_queue *q, const sqs_message *m)
{
    json_t *meta = m->meta ? json_loads(m->meta, 0, NULL) : NULL;
    const char *dedup = json_string_value(json_object_get(meta, "dedup"));

    if (dedup) {
        buf key;
        buf_init(&key);
        dedup_key(q, m->group_id, dedup, &key);
        sqs_dedup *d = map_str_get(&q->dedup, key.data);
        /* Only the entry this message made: a later send may own it now. */
        if (d && strcmp(d->message_id, m->message_id) == 0) {
            dedup_unlink(q, d);
            map_str_del(&q->dedup, d->key);
            free(d->key);
            free(d);
        }
        buf_free(&key);
    }
    json_decref(meta);
}

bool sqs_fifo_dedup_holds(sqs_queue *q, const char *key, const char *message_id)
{
    sqs_dedup *d = map_str_get(&q->dedup, key);
    return d && strcmp(d->message_id, message_id) == 0;
}

void sqs_fifo_dedup_load(sqs_service *svc, const char *name, const char *doc_text)
{
    unsigned long long qid = strtoull(name, NULL, 10);
    sqs_queue *q = map_u64_get(&svc->queues_by_id, qid);
    json_t *doc = json_loads(doc_text, 0, NULL);

    if (q && doc) {
        sqs_dedup *d = xcalloc(1, sizeof *d);
        snprintf(d->message_id, sizeof d->message_id, "%s",
                 json_string_value(json_object_get(doc, "message_id")));
        snprintf(d->sequence_number, sizeof d->sequence_number, "%s",
                 json_string_value(json_object_get(doc, "sequence_number")));
        d->expires_ms = json_integer_value(json_object_get(doc, "expires_ms"));
        d->key = xstrdup(name);
        map_str_put(&q->dedup, name, d);
        /* Loaded in id order, which is the order they were written. */
        dedup_append(q, d);
    }
    json_decref(doc);
}

size_t sqs_fifo_dedup_expire(sqs_queue *q, int64_t now, store_batch *b, bool all)
{
    size_t dropped = 0;

    while (q->dedup_oldest && (all || q->dedup_oldest->expires_ms <= now)) {
        sqs_dedup *d = q->dedup_oldest;
        dedup_unlink(q, d);
        if (b)
            store_delete_dedup(b, d->key);
        map_str_del(&q->dedup, d->key);
        free(d->key);
        free(d);
        dropped++;
    }
    return dropped;
}

/* --- ReceiveRequestAttemptId --------------------------------------------------- */

void sqs_fifo_attempt_record(sqs_queue *q, const char *attempt_id, sqs_message **msgs, size_t n,
                             int64_t now)
{
    sqs_attempt *a = map_str_get(&q->attempts, attempt_id);

    if (!a) {
        a = xcalloc(1, sizeof *a);
        map_str_put(&q->attempts, attempt_id, a);
    }
    a->expires_ms = now + SQS_DEDUP_WINDOW_MS;
    a->n = n;
    for (size_t i = 0; i < n && i < SQS_MAX_BATCH; i++) {
        a->seq[i] = msgs[i]->seq;
        a->nonce[i] = msgs[i]->receipt_nonce;
    }
}

size_t sqs_fifo_attempt_replay(sqs_queue *q, const char *attempt_id, int64_t now,
                               sqs_message **out)
{
    sqs_attempt *a = map_str_get(&q->attempts, attempt_id);

    if (!a || a->expires_ms <= now || a->n == 0)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        sqs_message *m = map_u64_get(&q->by_seq, a->seq[i]);
        /* Valid only while nothing else changed these messages. */
        if (!m || m->state != MSG_INFLIGHT || m->receipt_nonce != a->nonce[i])
            return 0;
        out[i] = m;
    }
    return a->n;
}

void sqs_fifo_attempts_clear(sqs_queue *q, int64_t now, bool all)
{
    for (size_t i = 0; i < q->attempts.cap; i++) {
        sqs_attempt *a = q->attempts.keys[i] ? q->attempts.vals[i] : NULL;
        if (a && (all || a->expires_ms <= now)) {
            char *key = xstrdup(q->attempts.keys[i]);
            map_str_del(&q->attempts, key);
            free(key);
            free(a);
            i--;
        }
    }
}
