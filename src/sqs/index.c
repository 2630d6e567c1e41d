/*
 * index.c - a queue's delivery index: which messages are visible now and
 * when the others become visible.
 *
 * Ready messages sit in a doubly linked list in the order they became
 * visible; a receive takes from its head.  Delayed and in-flight messages
 * sit in a binary min-heap on visible_at_ms; one libevent timer per queue is
 * armed for the heap's minimum, and when it fires the due messages move to
 * the ready list and parked long polls are woken.  Every operation is
 * O(log n) or better; nothing scans the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "sqs/sqs.h"

sqs_message *sqs_message_new(sqs_queue *q, uint64_t seq)
{
    sqs_message *m = xcalloc(1, sizeof *m);
    m->seq = seq;
    m->queue = q;
    m->state = MSG_PENDING;
    return m;
}

static void uncache(sqs_service *svc, sqs_message *m)
{
    if (m->cached)
        svc->cache_bytes -= m->body_len + m->attrs_len;
    free(m->body);
    free(m->attrs);
    m->body = m->attrs = NULL;
    m->cached = false;
}

void sqs_message_free(sqs_service *svc, sqs_message *m)
{
    uncache(svc, m);
    free(m->meta);
    free(m);
}

void sqs_message_cache(sqs_service *svc, sqs_message *m, const char *body, size_t body_len,
                       const char *attrs, size_t attrs_len)
{
    m->body_len = body_len;
    if (svc->cache_bytes + body_len + attrs_len > SQS_BODY_CACHE_BYTES)
        return;
    m->body = xstrndup(body, body_len);
    m->attrs = attrs ? xstrndup(attrs, attrs_len) : NULL;
    m->attrs_len = attrs ? attrs_len : 0;
    m->cached = true;
    svc->cache_bytes += body_len + m->attrs_len;
}

/* --- heap ------------------------------------------------------------------ */

static bool earlier(const sqs_message *a, const sqs_message *b)
{
    return a->visible_at_ms < b->visible_at_ms ||
           (a->visible_at_ms == b->visible_at_ms && a->seq < b->seq);
}

static void heap_set(sqs_queue *q, size_t i, sqs_message *m)
{
    q->heap[i] = m;
    m->heap_pos = i;
}

static void heap_up(sqs_queue *q, size_t i)
{
    sqs_message *m = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(m, q->heap[parent]))
            break;
        heap_set(q, i, q->heap[parent]);
        i = parent;
    }
    heap_set(q, i, m);
}

static void heap_down(sqs_queue *q, size_t i)
{
    sqs_message *m = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        sqs_message *bm = m;
        if (l < q->heap_len && earlier(q->heap[l], bm)) {
            best = l;
            bm = q->heap[l];
        }
        if (r < q->heap_len && earlier(q->heap[r], bm)) {
            best = r;
            bm = q->heap[r];
        }
        if (best == i)
            break;
        heap_set(q, i, bm);
        i = best;
    }
    heap_set(q, i, m);
}

static void heap_push(sqs_queue *q, sqs_message *m)
{
    if (q->heap_len == q->heap_cap) {
        q->heap_cap = q->heap_cap ? q->heap_cap * 2 : 64;
        q->heap = xrealloc(q->heap, q->heap_cap * sizeof *q->heap);
    }
    q->heap[q->heap_len] = m;
    m->heap_pos = q->heap_len++;
    heap_up(q, m->heap_pos);
}

static void heap_remove(sqs_queue *q, sqs_message *m)
{
    size_t i = m->heap_pos;
    sqs_message *last = q->heap[--q->heap_len];
    if (i == q->heap_len)
        return;
    heap_set(q, i, last);
    heap_up(q, i);
    heap_down(q, last->heap_pos);
}

/* --- ready list ------------------------------------------------------------ */

static void ready_append(sqs_queue *q, sqs_message *m)
{
    m->state = MSG_READY;
    m->next = NULL;
    m->prev = q->ready_tail;
    if (q->ready_tail)
        q->ready_tail->next = m;
    else
        q->ready_head = m;
    q->ready_tail = m;
    q->ready_count++;
}

static void ready_unlink(sqs_queue *q, sqs_message *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        q->ready_head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        q->ready_tail = m->prev;
    m->prev = m->next = NULL;
    q->ready_count--;
}

/* --- timer ----------------------------------------------------------------- */

static void arm_timer(sqs_service *svc, sqs_queue *q)
{
    if (q->heap_len == 0)
        return;
    int64_t due = q->heap[0]->visible_at_ms;
    if (q->timer_at && q->timer_at <= due && evtimer_pending(q->timer, NULL))
        return;
    int64_t wait = due - clock_now_ms();
    if (wait < 0)
        wait = 0;
    struct timeval tv = {.tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000};
    q->timer_at = due;
    evtimer_add(q->timer, &tv);
}

void sqs_index_timer_fired(evutil_socket_t fd, short what, void *arg)
{
    sqs_queue *q = arg;

    q->timer_at = 0;
    sqs_index_mature(q->svc, q, clock_now_ms());
}

void sqs_index_mature(sqs_service *svc, sqs_queue *q, int64_t now)
{
    bool moved = false;

    while (q->heap_len > 0 && q->heap[0]->visible_at_ms <= now) {
        sqs_message *m = q->heap[0];
        heap_remove(q, m);
        if (m->state == MSG_DELAYED)
            q->delayed_count--;
        else
            q->inflight_count--;
        ready_append(q, m);
        moved = true;
    }
    arm_timer(svc, q);
    if (moved)
        sqs_wake_waiters(svc, q);
}

void sqs_index_add(sqs_service *svc, sqs_message *m, int64_t now)
{
    sqs_queue *q = m->queue;

    map_u64_put(&q->by_seq, m->seq, m);
    if (m->visible_at_ms > now) {
        m->state = m->receive_count > 0 ? MSG_INFLIGHT : MSG_DELAYED;
        if (m->state == MSG_DELAYED)
            q->delayed_count++;
        else
            q->inflight_count++;
        heap_push(q, m);
        arm_timer(svc, q);
    } else {
        ready_append(q, m);
    }
}

static void detach(sqs_queue *q, sqs_message *m)
{
    switch (m->state) {
    case MSG_READY:
        ready_unlink(q, m);
        break;
    case MSG_DELAYED:
        heap_remove(q, m);
        q->delayed_count--;
        break;
    case MSG_INFLIGHT:
        heap_remove(q, m);
        q->inflight_count--;
        break;
    case MSG_PENDING:
        break;
    }
    m->state = MSG_PENDING;
}

void sqs_index_remove(sqs_service *svc, sqs_message *m)
{
    sqs_queue *q = m->queue;

    detach(q, m);
    map_u64_del(&q->by_seq, m->seq);
}

void sqs_index_make_visible_at(sqs_service *svc, sqs_message *m, int64_t at, int64_t now)
{
    sqs_queue *q = m->queue;

    detach(q, m);
    m->visible_at_ms = at;
    if (at > now) {
        m->state = MSG_INFLIGHT;
        q->inflight_count++;
        heap_push(q, m);
        arm_timer(svc, q);
    } else {
        ready_append(q, m);
    }
}

void sqs_index_clear(sqs_service *svc, sqs_queue *q)
{
    for (size_t i = 0; i < q->by_seq.cap; i++) {
        sqs_message *m = q->by_seq.keys[i] ? q->by_seq.vals[i] : NULL;
        if (m)
            sqs_message_free(svc, m);
    }
    map_u64_free(&q->by_seq);
    free(q->heap);
    q->heap = NULL;
    q->heap_len = q->heap_cap = 0;
    q->ready_head = q->ready_tail = NULL;
    q->ready_count = q->delayed_count = q->inflight_count = 0;
}
