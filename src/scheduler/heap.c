/*
 * heap.c - 4-ary min-heap of embedded nodes; see heap.h.
 */
#include "scheduler/heap.h"

#include <stdlib.h>

#include "core/buf.h"

void sched_heap_init(sched_heap *h)
{
    h->v = NULL;
    h->len = h->cap = 0;
    h->next_order = 0;
}

void sched_heap_free(sched_heap *h)
{
    free(h->v);
    sched_heap_init(h);
}

void sched_heap_node_init(sched_heap_node *n)
{
    n->at_ms = 0;
    n->order = 0;
    n->pos = SCHED_HEAP_NOWHERE;
}

bool sched_heap_contains(const sched_heap_node *n)
{
    return n->pos != SCHED_HEAP_NOWHERE;
}

size_t sched_heap_len(const sched_heap *h)
{
    return h->len;
}

#define ARITY 4

static bool before(const sched_heap_entry *a, const sched_heap_entry *b)
{
    return a->at_ms < b->at_ms || (a->at_ms == b->at_ms && a->order < b->order);
}

static void place(sched_heap *h, size_t i, sched_heap_entry e)
{
    h->v[i] = e;
    e.node->pos = i;
}

static void sift_up(sched_heap *h, size_t i)
{
    sched_heap_entry e = h->v[i];

    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!before(&e, &h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(sched_heap *h, size_t i)
{
    sched_heap_entry e = h->v[i];

    for (;;) {
        size_t first = ARITY * i + 1, best = i;
        const sched_heap_entry *be = &e;
        for (size_t c = first; c < first + ARITY && c < h->len; c++) {
            if (before(&h->v[c], be)) {
                best = c;
                be = &h->v[c];
            }
        }
        if (best == i)
            break;
        place(h, i, h->v[best]);
        i = best;
    }
    place(h, i, e);
}

void sched_heap_set(sched_heap *h, sched_heap_node *n, int64_t at_ms)
{
    /* A moved node counts as newly inserted among nodes due at at_ms. */
    sched_heap_remove(h, n);
    if (h->len == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = xrealloc(h->v, h->cap * sizeof *h->v);
    }
    n->at_ms = at_ms;
    n->order = h->next_order++;
    h->v[h->len] = (sched_heap_entry){at_ms, n->order, n};
    n->pos = h->len++;
    sift_up(h, n->pos);
}

void sched_heap_remove(sched_heap *h, sched_heap_node *n)
{
    size_t i = n->pos;

    if (i == SCHED_HEAP_NOWHERE || i >= h->len || h->v[i].node != n)
        return;
    n->pos = SCHED_HEAP_NOWHERE;
    h->len--;
    if (i == h->len)
        return;
    sched_heap_entry last = h->v[h->len];
    place(h, i, last);
    if (i > 0 && before(&last, &h->v[(i - 1) / ARITY]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

sched_heap_node *sched_heap_peek(const sched_heap *h)
{
    return h->len ? h->v[0].node : NULL;
}

sched_heap_node *sched_heap_pop_due(sched_heap *h, int64_t now_ms)
{
    sched_heap_node *n = sched_heap_peek(h);

    if (!n || n->at_ms > now_ms)
        return NULL;
    sched_heap_remove(h, n);
    return n;
}
