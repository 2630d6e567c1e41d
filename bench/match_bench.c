/*
 * match_bench.c - how the cost of matching one event grows with the number
 * of rules in a match_set (1, 100, 10,000 rules).
 *
 * Build and run from the repository root:
 *
 *   mkdir -p build && cc -std=c17 -D_GNU_SOURCE -O2 -Isrc \
 *       bench/match_bench.c $(ls src/match/[a-z]*.c) \
 *       $(pkg-config --cflags --libs jansson) -o build/match_bench
 *   build/match_bench
 *
 * (the $(ls ...) spelling only keeps a C comment free of slash-star.)
 *
 * Rules look like typical EventBridge rules: an exact source, an exact
 * detail-type and a numeric or prefix condition on the detail.  Two more
 * families have no exact field at all: "prefix-only" (filed under prefix
 * keys) and "numeric-only" (narrow ranges, filed in a path's numeric
 * index).  Events are a ~1 KB
 * AWS-style envelope.  Prints ns/event for the parse+run ("text") and for
 * a run over an already parsed document ("doc").
 */
#include "match/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void count_hit(void *ctx, uint64_t id)
{
    (void)id;
    ++*(long *)ctx;
}

enum family { MIXED, PREFIX_ONLY, NUMERIC_ONLY };
static const char *const FAMILY[] = { "mixed", "prefix-only",
                                      "numeric-only" };

static int make_rule(char *buf, size_t n, int i, enum family fam)
{
    if (fam == PREFIX_ONLY)
        return snprintf(buf, n,
                        "{\"detail\":{\"bucket\":[{\"prefix\":\"b%d-\"}]}}",
                        i);
    if (fam == NUMERIC_ONLY)
        return snprintf(buf, n,
                        "{\"detail\":{\"amount\":[{\"numeric\":"
                        "[\">=\",%d,\"<\",%d]}]}}", i, i + 3);
    if (i % 2)
        return snprintf(buf, n,
                        "{\"source\":[\"app.svc%d\"],\"detail-type\":"
                        "[\"Order Placed\"],\"detail\":{\"amount\":"
                        "[{\"numeric\":[\">\",%d]}]}}", i, i % 100);
    return snprintf(buf, n,
                    "{\"source\":[\"app.svc%d\",\"app.other%d\"],"
                    "\"detail\":{\"bucket\":[{\"prefix\":\"b\"}],"
                    "\"state\":[{\"anything-but\":\"deleted\"}]}}", i, i);
}

static int make_event(char *buf, size_t n, int i)
{
    return snprintf(buf, n,
        "{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\","
        "\"detail-type\":\"Order Placed\",\"source\":\"app.svc%d\","
        "\"account\":\"111122223333\",\"time\":\"2017-12-22T18:43:48Z\","
        "\"region\":\"us-west-1\",\"resources\":["
        "\"arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0\"],"
        "\"detail\":{\"amount\":%d,\"bucket\":\"b%d-logs\",\"state\":\"new\","
        "\"items\":[{\"sku\":\"A-1\",\"qty\":2},{\"sku\":\"B-2\",\"qty\":1}],"
        "\"customer\":{\"id\":\"c-42\",\"tier\":\"gold\",\"tags\":"
        "[\"x\",\"y\",\"z\"]},\"note\":\"lorem ipsum dolor sit amet, "
        "consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
        "labore et dolore magna aliqua. Ut enim ad minim veniam, quis "
        "nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo "
        "consequat.\"}}", i, i % 200, i);
}

static void bench(int nrules, enum family fam)
{
    char buf[2048];
    match_set *set = match_set_new();
    for (int i = 0; i < nrules; i++) {
        int n = make_rule(buf, sizeof buf, i, fam);
        match_pattern *p = match_compile(buf, (size_t)n, MATCH_EVENTBRIDGE,
                                         NULL, 0);
        if (!p || match_set_add(set, (uint64_t)i, p) < 0) {
            fprintf(stderr, "rule %d failed\n", i);
            exit(1);
        }
    }

    enum { NEV = 64 };
    static char events[NEV][2048];
    static size_t lens[NEV];
    match_doc *docs[NEV];
    for (int e = 0; e < NEV; e++) {
        lens[e] = (size_t)make_event(events[e], sizeof events[e],
                                     (e * 7919) % (nrules ? nrules : 1));
        docs[e] = match_doc_parse(events[e], lens[e]);
    }
    long hits = 0;
    match_set_run_doc(set, docs[0], count_hit, &hits);   /* build index */

    int rounds = 20000;
    double t0 = now_ns();
    for (int r = 0; r < rounds; r++)
        match_set_run(set, events[r % NEV], lens[r % NEV], count_hit, &hits);
    double t1 = now_ns();
    for (int r = 0; r < rounds; r++)
        match_set_run_doc(set, docs[r % NEV], count_hit, &hits);
    double t2 = now_ns();

    printf("%-12s %6d rules: %8.0f ns/event (text)  %8.0f ns/event (doc)"
           "  [%ld matches]\n", FAMILY[fam],
           nrules, (t1 - t0) / rounds, (t2 - t1) / rounds, hits);
    for (int e = 0; e < NEV; e++)
        match_doc_free(docs[e]);
    match_set_free(set);
}

int main(void)
{
    const int sizes[] = { 1, 100, 10000 };
    for (int fam = MIXED; fam <= NUMERIC_ONLY; fam++)
        for (size_t i = 0; i < 3; i++)
            bench(sizes[i], (enum family)fam);
    return 0;
}
