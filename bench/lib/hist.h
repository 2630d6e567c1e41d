/*
 * hist.h - log-bucketed latency histograms for the bench load generators
 * (bench/loadgen.c, bench/fanout/fanout.c).
 *
 * Values (nanoseconds) below 32 get a bucket each; above that every power of
 * two is split into 32 linear sub-buckets, about 3 % precision, up to 2^42 ns
 * (~73 minutes), where values clamp.  A histogram is a plain value (no heap):
 * zero it to start, add to it from one thread, merge per-thread copies at the
 * end.  The caller owns every histogram and its locking.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 42 /* values clamp below 2^42 ns (~73 minutes) */
#define HIST_BUCKETS ((HIST_MAX_EXP - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t n;
    uint64_t max;
    uint64_t sum;
    uint64_t b[HIST_BUCKETS];
};

/* Counts value v (ns) in h. */
void hist_add(struct hist *h, uint64_t v);

/* Adds every count of src to dst (src is unchanged). */
void hist_merge(struct hist *dst, const struct hist *src);

/* Value at quantile q (0..1) in ns: the midpoint of the bucket holding that
 * rank, never above the largest value seen; 0 when h is empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
