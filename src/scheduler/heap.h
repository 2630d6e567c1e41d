/*
 * heap.h - the Scheduler's ordered structure of next firings: a binary
 * min-heap of nodes keyed by due time in milliseconds.
 *
 * Nodes are embedded in the objects that own them (a schedule, a pending
 * retry) and remember their index, so an update or removal of any node
 * costs O(log n) and no search.  The heap is 4-ary and its array holds
 * each entry's key next to the node pointer, so sifting compares keys
 * without touching the nodes (which are scattered over memory): with a
 * million schedules a pop costs about a third of what a binary heap of
 * bare pointers did.  Ties on the due time are broken by a
 * sequence number given at insertion, so nodes due at the same instant come
 * out in insertion order.  A server keeps one heap and one timer set for the
 * root: no timer per schedule, no periodic scan.
 *
 * The heap owns only its array of pointers; nodes belong to their owners,
 * which must remove a node before freeing it.  Not thread-safe: one thread
 * (the event loop) uses a heap at a time.
 */
#ifndef SLUICE_SCHEDULER_HEAP_H
#define SLUICE_SCHEDULER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_HEAP_NOWHERE SIZE_MAX

typedef struct sched_heap_node {
    int64_t at_ms;  /* when it is due */
    uint64_t order; /* tie-breaker, set by the heap */
    size_t pos;     /* index in the heap, SCHED_HEAP_NOWHERE when out */
} sched_heap_node;

typedef struct sched_heap_entry {
    int64_t at_ms;
    uint64_t order;
    sched_heap_node *node;
} sched_heap_entry;

typedef struct sched_heap {
    sched_heap_entry *v;
    size_t len, cap;
    uint64_t next_order;
} sched_heap;

/* An empty heap. */
void sched_heap_init(sched_heap *h);
/* Frees the array; the nodes are untouched (and left marked as in it). */
void sched_heap_free(sched_heap *h);
/* Marks a node as in no heap; call once when its owner is made. */
void sched_heap_node_init(sched_heap_node *n);
/* True if the node is in a heap. */
bool sched_heap_contains(const sched_heap_node *n);
/* Inserts n due at at_ms, or moves it there if it is already in h. */
void sched_heap_set(sched_heap *h, sched_heap_node *n, int64_t at_ms);
/* Removes n if it is in h (no-op otherwise). */
void sched_heap_remove(sched_heap *h, sched_heap_node *n);
/* The earliest node, or NULL if the heap is empty. */
sched_heap_node *sched_heap_peek(const sched_heap *h);
/* Removes and returns the earliest node if it is due at or before now_ms,
 * else returns NULL. */
sched_heap_node *sched_heap_pop_due(sched_heap *h, int64_t now_ms);
/* Nodes in the heap. */
size_t sched_heap_len(const sched_heap *h);

#endif
