/*
 * stage.c - putting new messages on queues, durably.
 *
 * Every way a message arrives (SendMessage, SNS fan-out, EventBridge and
 * Scheduler targets, dead-letter moves of other services) goes through
 * here: the message is built, its row is added to the caller's store batch,
 * and only when that batch has committed (sqs_staged_finish with status 0)
 * does it enter its queue's index and wake parked receives.  So a message is
 * never received before it is durable, and a publish that fans out to many
 * queues commits all of its copies in one transaction.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "sqs/sqs.h"

/* A duplicate answered with an earlier send's ids (FIFO). */
typedef struct staged_dup {
    sqs_queue *queue;
    char *key;
    char message_id[37];
} staged_dup;

struct sqs_staged {
    sqs_service *svc;
    sqs_message **msgs;
    size_t n, cap;
    staged_dup *dups;
    size_t ndups, dups_cap;
};

sqs_staged *sqs_staged_new(sqs_service *svc)
{
    sqs_staged *st = xcalloc(1, sizeof *st);
    st->svc = svc;
    return st;
}

size_t sqs_staged_count(const sqs_staged *st)
{
    return st->n;
}

static void put_row(store_batch *b, const sqs_message *m)
{
    store_message row = {
        .seq = m->seq,
        .container = m->queue->id,
        .message_id = m->message_id,
        .sent_ms = m->sent_ms,
        .visible_at_ms = m->visible_at_ms,
        .meta = m->meta,
        .attributes = m->attrs,
        .attributes_len = m->attrs_len,
        .body = m->body,
        .body_len = m->body_len,
    };
    store_put_message(b, &row);
}

sqs_message *sqs_stage(sqs_staged *st, sqs_queue *q, const sqs_outgoing *o, store_batch *b)
{
    sqs_service *svc = st->svc;
    int64_t now = clock_now_ms();
    sqs_message *m = sqs_message_new(q, store_next_message_seq(svc->store));
    int delay = o->delay_seconds >= 0 ? o->delay_seconds : q->delay_seconds;

    uuid_v4(m->message_id);
    m->sent_ms = now;
    m->visible_at_ms = now + (int64_t)delay * 1000;

    json_t *meta = json_pack("{s:s}", "sender", o->sender ? o->sender : "");
    if (o->trace)
        json_object_set_new(meta, "trace", json_string(o->trace));
    if (o->group_id)
        json_object_set_new(meta, "group", json_string(o->group_id));
    if (o->dedup_id)
        json_object_set_new(meta, "dedup", json_string(o->dedup_id));
    m->meta = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    sqs_message_set_group(m, o->group_id);

    unsigned int md_len = 0;
    EVP_Digest(o->body, o->body_len, m->body_md5, &md_len, EVP_md5(), NULL);
    m->has_md5 = md_len == sizeof m->body_md5;

    size_t attrs_len = o->attrs ? strlen(o->attrs) : 0;
    sqs_message_cache(svc, m, o->body, o->body_len, o->attrs, attrs_len);
    if (!m->cached) {
        /* Over the cache budget: the row carries the payload to disk and the
         * index keeps only its length. */
        m->body = xstrndup(o->body, o->body_len);
        m->attrs = o->attrs ? xstrdup(o->attrs) : NULL;
        m->attrs_len = attrs_len;
    }
    put_row(b, m);
    if (!m->cached) {
        free(m->body);
        free(m->attrs);
        m->body = m->attrs = NULL;
        m->attrs_len = 0;
    }

    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 4;
        st->msgs = xrealloc(st->msgs, st->cap * sizeof *st->msgs);
    }
    st->msgs[st->n++] = m;
    q->refs++;
    return m;
}

void sqs_staged_note_duplicate(sqs_staged *st, sqs_queue *q, const sqs_dedup *d)
{
    if (st->ndups == st->dups_cap) {
        st->dups_cap = st->dups_cap ? st->dups_cap * 2 : 4;
        st->dups = xrealloc(st->dups, st->dups_cap * sizeof *st->dups);
    }
    staged_dup *u = &st->dups[st->ndups++];
    u->queue = q;
    u->key = xstrdup(d->key);
    snprintf(u->message_id, sizeof u->message_id, "%s", d->message_id);
    q->refs++;
}

int sqs_staged_finish(sqs_staged *st, int status)
{
    sqs_service *svc = st->svc;
    int64_t now = clock_now_ms();
    int rc = 0;
    /* The queues, kept apart: a message may be freed below (a failed
     * commit, a deleted queue) or by a receive the wake-up runs. */
    sqs_queue **queues = xmalloc(st->n * sizeof *queues);

    for (size_t i = 0; i < st->n; i++) {
        sqs_message *m = st->msgs[i];
        sqs_queue *q = queues[i] = m->queue;
        if (status != 0 && q->fifo)
            sqs_fifo_dedup_forget(q, m);
        if (status != 0 || q->deleted)
            sqs_message_free(svc, m);
        else
            sqs_index_add(svc, m, now);
    }
    /* Completions run in commit order, so an original's has run by now. */
    for (size_t i = 0; i < st->ndups; i++) {
        staged_dup *u = &st->dups[i];
        if (status == 0 && !u->queue->deleted &&
            !sqs_fifo_dedup_holds(u->queue, u->key, u->message_id))
            rc = -1;
        free(u->key);
        sqs_queue_unref(svc, u->queue);
    }
    free(st->dups);
    /* Wake after every message is indexed, then let the queues go. */
    for (size_t i = 0; i < st->n; i++) {
        sqs_queue *q = queues[i];
        if (status == 0 && !q->deleted && q->waiters)
            sqs_wake_waiters(svc, q);
    }
    for (size_t i = 0; i < st->n; i++)
        sqs_queue_unref(svc, queues[i]);
    free(queues);
    free(st->msgs);
    free(st);
    return rc;
}

void sqs_message_move(sqs_service *svc, sqs_message *m, sqs_queue *to, const char *source_arn,
                      store_batch *b, int64_t now)
{
    json_t *meta = m->meta ? json_loads(m->meta, 0, NULL) : NULL;

    if (!json_is_object(meta)) {
        json_decref(meta);
        meta = json_object();
    }
    /* Remember where a dead-lettered message came from, for a redrive. */
    if (source_arn)
        json_object_set_new(meta, "dlq_source", json_string(source_arn));
    else
        json_object_del(meta, "dlq_source");
    /* A FIFO dead-letter queue takes the message's id as its deduplication
     * id, so two messages that shared one are both kept (AWS documents it). */
    if (source_arn && to->fifo && json_object_get(meta, "dedup"))
        json_object_set_new(meta, "dedup", json_string(m->message_id));
    if (!source_arn) {
        uuid_v4(m->message_id);
        json_object_set_new(meta, "id", json_string(m->message_id));
    }
    free(m->meta);
    m->meta = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);

    sqs_index_remove(svc, m);
    uint64_t seq = store_next_message_seq(svc->store);
    /* a FIFO queue restarts the message's retention at the move (AWS: its
     * enqueue timestamp resets); a standard one keeps the original send; a
     * redrive always restarts it */
    if (to->fifo || !source_arn)
        m->sent_ms = now;
    store_move_message(b, m->seq, seq, to->id, m->sent_ms, now, 0, m->meta);
    m->seq = seq;
    m->queue = to;
    m->receive_count = 0;
    m->first_receive_ms = 0;
    m->visible_at_ms = now;
    sqs_index_add(svc, m, now);
}
