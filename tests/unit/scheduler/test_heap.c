/*
 * test_heap.c - the Scheduler's 4-ary min-heap of due nodes: ordering, ties in
 * insertion order, moves, removal from any position, and a randomised
 * comparison against a sorted reference.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "scheduler/heap.h"

typedef struct item {
    sched_heap_node node;
    int id;
} item;

/* Checks the heap property and that every node knows its index. */
static int heap_valid(const sched_heap *h)
{
    for (size_t i = 0; i < h->len; i++) {
        const sched_heap_entry *c = &h->v[i];
        if (c->node->pos != i || c->node->at_ms != c->at_ms || c->node->order != c->order)
            return 0;
        if (i > 0) {
            const sched_heap_entry *p = &h->v[(i - 1) / 4];
            if (p->at_ms > c->at_ms || (p->at_ms == c->at_ms && p->order > c->order))
                return 0;
        }
    }
    return 1;
}

TEST(empty_heap)
{
    sched_heap h;
    sched_heap_init(&h);
    CHECK(sched_heap_peek(&h) == NULL);
    CHECK(sched_heap_pop_due(&h, INT64_MAX) == NULL);
    CHECK_INT(sched_heap_len(&h), 0);
    sched_heap_free(&h);
}

TEST(pops_in_time_order_and_only_when_due)
{
    sched_heap h;
    item it[5];
    int64_t at[5] = {500, 100, 300, 200, 400};

    sched_heap_init(&h);
    for (int i = 0; i < 5; i++) {
        sched_heap_node_init(&it[i].node);
        it[i].id = i;
        sched_heap_set(&h, &it[i].node, at[i]);
    }
    CHECK(heap_valid(&h));
    CHECK(sched_heap_pop_due(&h, 99) == NULL);
    int64_t last = 0;
    for (int i = 0; i < 5; i++) {
        sched_heap_node *n = sched_heap_pop_due(&h, 1000);
        CHECK(n != NULL);
        if (!n)
            break;
        CHECK(n->at_ms >= last);
        CHECK(!sched_heap_contains(n));
        last = n->at_ms;
    }
    CHECK_INT(last, 500);
    CHECK_INT(sched_heap_len(&h), 0);
    sched_heap_free(&h);
}

TEST(ties_come_out_in_insertion_order)
{
    sched_heap h;
    item it[8];

    sched_heap_init(&h);
    for (int i = 0; i < 8; i++) {
        sched_heap_node_init(&it[i].node);
        it[i].id = i;
        sched_heap_set(&h, &it[i].node, 1000);
    }
    for (int i = 0; i < 8; i++) {
        item *x = (item *)sched_heap_pop_due(&h, 1000);
        CHECK(x != NULL);
        if (x)
            CHECK_INT(x->id, i);
    }
    sched_heap_free(&h);
}

TEST(move_and_remove_anywhere)
{
    sched_heap h;
    item it[100];

    sched_heap_init(&h);
    for (int i = 0; i < 100; i++) {
        sched_heap_node_init(&it[i].node);
        it[i].id = i;
        sched_heap_set(&h, &it[i].node, 1000 + i);
    }
    sched_heap_set(&h, &it[99].node, 1); /* earlier: to the root */
    CHECK(heap_valid(&h));
    CHECK(sched_heap_peek(&h) == &it[99].node);
    sched_heap_set(&h, &it[99].node, 5000); /* later: to the bottom */
    CHECK(heap_valid(&h));
    CHECK(sched_heap_peek(&h) == &it[0].node);
    for (int i = 0; i < 100; i += 3)
        sched_heap_remove(&h, &it[i].node);
    CHECK(heap_valid(&h));
    CHECK_INT(sched_heap_len(&h), 100 - 34);
    sched_heap_remove(&h, &it[0].node); /* not in it: no-op */
    CHECK_INT(sched_heap_len(&h), 66);
    CHECK(sched_heap_peek(&h) == &it[1].node);
    sched_heap_free(&h);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(random_operations_match_a_sorted_reference)
{
    enum { N = 5000 };
    sched_heap h;
    item *it = calloc(N, sizeof *it);
    int64_t *want = calloc(N, sizeof *want);
    size_t nwant = 0;
    uint64_t x = 88172645463325252ull;

    sched_heap_init(&h);
    for (int i = 0; i < N; i++) {
        sched_heap_node_init(&it[i].node);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sched_heap_set(&h, &it[i].node, (int64_t)(x % 100000));
    }
    /* move a third, remove a tenth */
    for (int i = 0; i < N; i += 3) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sched_heap_set(&h, &it[i].node, (int64_t)(x % 100000));
    }
    for (int i = 0; i < N; i += 10)
        sched_heap_remove(&h, &it[i].node);
    CHECK(heap_valid(&h));
    for (int i = 0; i < N; i++)
        if (sched_heap_contains(&it[i].node))
            want[nwant++] = it[i].node.at_ms;
    qsort(want, nwant, sizeof *want, cmp64);
    CHECK_INT(sched_heap_len(&h), nwant);
    for (size_t i = 0; i < nwant; i++) {
        sched_heap_node *n = sched_heap_pop_due(&h, INT64_MAX);
        CHECK(n && n->at_ms == want[i]);
        if (!n || n->at_ms != want[i])
            break;
    }
    sched_heap_free(&h);
    free(it);
    free(want);
}

int main(void)
{
    RUN(empty_heap);
    RUN(pops_in_time_order_and_only_when_due);
    RUN(ties_come_out_in_insertion_order);
    RUN(move_and_remove_anywhere);
    RUN(random_operations_match_a_sorted_reference);
    return check_report();
}
