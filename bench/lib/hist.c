/*
 * hist.c - log-bucketed latency histograms (see hist.h).
 *
 * Bucket index: the exponent of the value's top bit picks a group of
 * HIST_SUB buckets and the next HIST_SUB_BITS bits pick the bucket in it,
 * so the index is computed with one count-leading-zeros and no loop; a
 * quantile walks the buckets once.
 */
#include "hist.h"

static unsigned hist_index(uint64_t v)
{
    unsigned e;

    if (v < HIST_SUB)
        return (unsigned)v;
    if (v >> HIST_MAX_EXP)
        v = (1ull << HIST_MAX_EXP) - 1;
    e = 63u - (unsigned)__builtin_clzll(v);
    return (e - HIST_SUB_BITS + 1) * HIST_SUB +
           (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Midpoint of bucket idx, the value reported for anything in it. */
static uint64_t hist_value(unsigned idx)
{
    unsigned e, sub;

    if (idx < HIST_SUB)
        return idx;
    e = idx / HIST_SUB + HIST_SUB_BITS - 1;
    sub = idx % HIST_SUB;
    return ((uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS)) +
           ((1ull << (e - HIST_SUB_BITS)) >> 1);
}

void hist_add(struct hist *h, uint64_t v)
{
    h->n++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
    h->b[hist_index(v)]++;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    uint64_t rank, seen = 0;

    if (h->n == 0)
        return 0;
    rank = (uint64_t)(q * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}
