/*
 * index.c - a queue's delivery index: which messages a receive may take now,
 * in what order, and when the others become visible.
 *
 * Visible messages sit in their group's list (see sqs_group in sqs.h); the
 * groups a receive may serve sit in the queue's active list.  Delayed and
 * in-flight messages sit in a binary min-heap on visible_at_ms; one libevent
 * timer per queue is armed for the heap's minimum, and when it fires the due
 * messages become visible and parked long polls are woken.  On a FIFO queue an
 * in-flight message stays in its group's list (holding its place in the
 * order) and locks the group.  Every operation is O(log n) or better;
 * nothing scans the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "sqs/sqs.h"
#include "store/store.h"

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
    free(m->group_id);
    free(m);
}

void sqs_message_set_group(sqs_message *m, const char *group_id)
{
    free(m->group_id);
    m->group_id = group_id && *group_id ? xstrdup(group_id) : NULL;
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

/* --- groups ---------------------------------------------------------------- */

static sqs_group *group_get(sqs_queue *q, const char *id)
{
    sqs_group *g = map_str_get(&q->groups, id ? id : "");
    if (!g) {
        g = xcalloc(1, sizeof *g);
        g->id = xstrdup(id ? id : "");
        map_str_put(&q->groups, g->id, g);
    }
    return g;
}

static void active_unlink(sqs_queue *q, sqs_group *g)
{
    if (!g->active)
        return;
    if (g->prev)
        g->prev->next = g->next;
    else
        q->active_head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        q->active_tail = g->prev;
    g->prev = g->next = NULL;
    g->active = false;
}

static void active_append(sqs_queue *q, sqs_group *g)
{
    g->next = NULL;
    g->prev = q->active_tail;
    if (q->active_tail)
        q->active_tail->next = g;
    else
        q->active_head = g;
    q->active_tail = g;
    g->active = true;
}

/* Puts the group in or out of the active list as its state requires, and
 * frees it when it holds nothing. */
static void group_refresh(sqs_queue *q, sqs_group *g)
{
    bool servable = g->head && (!q->fifo || g->inflight == 0);

    if (servable && !g->active)
        active_append(q, g);
    else if (!servable)
        active_unlink(q, g);
    if (!g->head && g->inflight == 0) {
        map_str_del(&q->groups, g->id);
        free(g->id);
        free(g);
    }
}

/* Inserts m into its group's list: at the tail, or on a FIFO queue at its
 * place in send order (a message coming back from flight or delay). */
static void group_insert(sqs_queue *q, sqs_message *m)
{
    sqs_group *g = group_get(q, m->group_id);
    sqs_message *after = g->tail;

    if (q->fifo)
        while (after && after->seq > m->seq)
            after = after->prev;
    m->group = g;
    m->prev = after;
    m->next = after ? after->next : g->head;
    if (m->next)
        m->next->prev = m;
    else
        g->tail = m;
    if (after)
        after->next = m;
    else
        g->head = m;
    g->count++;
}

static void group_remove(sqs_queue *q, sqs_message *m)
{
    sqs_group *g = m->group;

    if (m->prev)
        m->prev->next = m->next;
    else
        g->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        g->tail = m->prev;
    m->prev = m->next = NULL;
    m->group = NULL;
    g->count--;
}

static void make_ready(sqs_queue *q, sqs_message *m)
{
    m->state = MSG_READY;
    if (!m->group)
        group_insert(q, m);
    q->ready_count++;
    group_refresh(q, m->group);
}

bool sqs_index_has_ready(const sqs_queue *q)
{
    return q->active_head != NULL;
}

size_t sqs_index_pick(sqs_queue *q, size_t max, sqs_message **out)
{
    size_t n = 0;

    if (q->fifo) {
        /* Fill from one group, in order, before moving to the next. */
        for (sqs_group *g = q->active_head; g && n < max; g = g->next)
            for (sqs_message *m = g->head; m && n < max && m->state == MSG_READY; m = m->next)
                out[n++] = m;
        return n;
    }
    /* Standard: one message from each group in turn, so a flooding group
     * cannot hold the others back; served groups go to the back. */
    sqs_message *cursor[64];
    sqs_group *served[64];
    size_t groups = 0;
    for (sqs_group *g = q->active_head; g && groups < max && groups < 64; g = g->next) {
        cursor[groups] = g->head;
        served[groups++] = g;
    }
    while (n < max) {
        size_t before = n;
        for (size_t i = 0; i < groups && n < max; i++) {
            if (cursor[i]) {
                out[n++] = cursor[i];
                cursor[i] = cursor[i]->next;
            }
        }
        if (n == before)
            break;
    }
    for (size_t i = 0; i < groups; i++) {
        if (served[i]->active && served[i] != q->active_tail) {
            active_unlink(q, served[i]);
            active_append(q, served[i]);
        }
    }
    return n;
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
        if (m->state == MSG_DELAYED) {
            q->delayed_count--;
        } else {
            q->inflight_count--;
            if (m->group)
                m->group->inflight--;
        }
        make_ready(q, m);
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
        if (m->state == MSG_DELAYED) {
            q->delayed_count++;
        } else {
            q->inflight_count++;
            /* On a FIFO queue an in-flight message keeps its place and
             * locks its group. */
            if (q->fifo) {
                group_insert(q, m);
                m->group->inflight++;
                group_refresh(q, m->group);
            }
        }
        heap_push(q, m);
        arm_timer(svc, q);
    } else {
        make_ready(q, m);
    }
}

static void detach(sqs_queue *q, sqs_message *m)
{
    sqs_group *g = m->group;

    switch (m->state) {
    case MSG_READY:
        q->ready_count--;
        break;
    case MSG_DELAYED:
        heap_remove(q, m);
        q->delayed_count--;
        break;
    case MSG_INFLIGHT:
        heap_remove(q, m);
        q->inflight_count--;
        if (g)
            g->inflight--;
        break;
    case MSG_PENDING:
        break;
    }
    if (g) {
        group_remove(q, m);
        group_refresh(q, g);
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
        if (q->fifo) {
            group_insert(q, m);
            m->group->inflight++;
            group_refresh(q, m->group);
        }
        heap_push(q, m);
        arm_timer(svc, q);
    } else {
        make_ready(q, m);
    }
}

void sqs_index_redelay(sqs_service *svc, sqs_queue *q, int64_t delay_ms, int64_t now,
                       struct store_batch *b)
{
    size_t n = 0;
    sqs_message **delayed = xcalloc(q->delayed_count + 1, sizeof *delayed);

    for (size_t i = 0; i < q->heap_len && n < q->delayed_count; i++)
        if (q->heap[i]->state == MSG_DELAYED)
            delayed[n++] = q->heap[i];
    bool woke = false;
    for (size_t i = 0; i < n; i++) {
        sqs_message *m = delayed[i];
        detach(q, m);
        m->visible_at_ms = m->sent_ms + delay_ms;
        if (m->visible_at_ms > now) {
            m->state = MSG_DELAYED;
            q->delayed_count++;
            heap_push(q, m);
        } else {
            m->visible_at_ms = now;
            make_ready(q, m);
            woke = true;
        }
        store_update_message(b, m->seq, m->visible_at_ms, m->receive_count,
                             m->first_receive_ms);
    }
    free(delayed);
    arm_timer(svc, q);
    if (woke)
        sqs_wake_waiters(svc, q);
}

void sqs_index_clear(sqs_service *svc, sqs_queue *q)
{
    for (size_t i = 0; i < q->by_seq.cap; i++) {
        sqs_message *m = q->by_seq.keys[i] ? q->by_seq.vals[i] : NULL;
        if (m)
            sqs_message_free(svc, m);
    }
    map_u64_free(&q->by_seq);
    for (size_t i = 0; i < q->groups.cap; i++) {
        sqs_group *g = q->groups.keys[i] ? q->groups.vals[i] : NULL;
        if (g) {
            free(g->id);
            free(g);
        }
    }
    map_str_free(&q->groups);
    free(q->heap);
    q->heap = NULL;
    q->heap_len = q->heap_cap = 0;
    q->active_head = q->active_tail = NULL;
    q->ready_count = q->delayed_count = q->inflight_count = 0;
}
