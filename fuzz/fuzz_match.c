/*
 * fuzz_match.c - event patterns and SNS filter policies (match/match.h):
 * compile a client's pattern in the dialect chosen, then run it against a
 * client's event (or message attributes) by every route the engine offers.
 *
 * Input: byte 0 picks the dialect (mod 3: EventBridge, SNS attributes, SNS
 * body); the rest is "pattern NUL event".  For the attributes dialect the
 * event part is lines of "name TAB type TAB value".  Without a NUL the
 * event is a fixed sample.
 *
 * Properties checked (a differential test of the engine against itself):
 *  - match_compile returns a pattern or an error text, never both, with the
 *    error NUL-terminated and non-empty;
 *  - the verdict of match_event / match_attributes equals that of
 *    match_doc_test on a parsed doc, and equals whether match_set_run
 *    reports the pattern when it sits in an indexed set together with a few
 *    fixed patterns (whose own set verdicts must also equal their direct
 *    ones), before and after removing an id;
 *  - match_doc_leaves visits as many leaves as it returns (for UTF-8
 *    input; it skips, yet counts, a leaf string that is not UTF-8).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "match/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_ATTRS 16
#define FUZZ_ID 1000

static const char SAMPLE_EVENT[] =
    "{\"version\":\"0\",\"id\":\"6a7e8feb\",\"detail-type\":\"Order Placed\","
    "\"source\":\"com.example.orders\",\"account\":\"000000000000\","
    "\"time\":\"2026-12-03T14:00:00Z\",\"region\":\"us-east-1\",\"resources\":[],"
    "\"detail\":{\"state\":\"PLACED\",\"amount\":42.5,\"items\":[{\"sku\":\"a-1\"},"
    "{\"sku\":\"b-2\"}],\"ip\":\"10.0.0.7\",\"flag\":true,\"none\":null}}";

/* Fixed companions for the set, per dialect (compiled once at start; the
 * array is owned by this file and only read afterwards). */
static const char *const COMPANIONS[3][5] = {
    {"{\"source\":[\"com.example.orders\"]}",
     "{\"detail\":{\"state\":[{\"prefix\":\"PL\"}],\"amount\":[{\"numeric\":[\">\",10]}]}}",
     "{\"detail\":{\"items\":{\"sku\":[{\"wildcard\":\"*-2\"}]}}}",
     "{\"$or\":[{\"detail\":{\"flag\":[true]}},{\"detail\":{\"none\":[{\"exists\":false}]}}]}",
     "{\"detail\":{\"ip\":[{\"cidr\":\"10.0.0.0/8\"}],\"state\":[{\"anything-but\":"
     "[\"X\"]}]}}"},
    {"{\"store\":[\"example_corp\"]}", "{\"price\":[{\"numeric\":[\">=\",0]}]}",
     "{\"event\":[{\"anything-but\":{\"prefix\":\"x\"}}]}", "{\"a\":[{\"exists\":true}]}",
     "{\"b\":[{\"exists\":false}]}"},
    {"{\"detail\":{\"state\":[\"PLACED\"]}}", "{\"source\":[{\"suffix\":\"orders\"}]}",
     "{\"detail\":{\"amount\":[{\"numeric\":[\"<\",100]}]}}",
     "{\"detail\":{\"items\":{\"sku\":[{\"equals-ignore-case\":\"A-1\"}]}}}",
     "{\"detail\":{\"missing\":[{\"exists\":false}]}}"},
};
static match_pattern *companions[3][5];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[MATCH_ERR_MAX];
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < 5; i++) {
            const char *t = COMPANIONS[d][i];
            companions[d][i] = match_compile(t, strlen(t), (match_dialect)d, err, sizeof err);
            if (!companions[d][i]) {
                fprintf(stderr, "companion %d/%d does not compile: %s\n", d, i, err);
                abort();
            }
        }
    return 0;
}

typedef struct hits {
    bool fuzz;
    bool comp[5];
} hits;

static void on_hit(void *ctx, uint64_t id)
{
    hits *h = ctx;
    if (id == FUZZ_ID) {
        FUZZ_CHECK(!h->fuzz, "set reported the pattern twice");
        h->fuzz = true;
    } else {
        FUZZ_CHECK(id < 5 && !h->comp[id], "set reported id %llu badly",
                   (unsigned long long)id);
        h->comp[id] = true;
    }
}

static void count_leaf(void *ctx, const char *path, const char *value_json)
{
    FUZZ_CHECK(path && value_json, "leaf without path or value");
    (*(size_t *)ctx)++;
}

/* Parses "name\ttype\tvalue" lines into attrs; returns how many. */
static size_t parse_attrs(const char *s, size_t n, match_attr *attrs)
{
    size_t count = 0;
    fuzz_part rest = {s, n}, line, f1, f2, f3, tmp;

    while (rest.n && count < MAX_ATTRS) {
        fuzz_split(rest.p, rest.n, '\n', &line, &tmp);
        rest = tmp;
        fuzz_split(line.p, line.n, '\t', &f1, &tmp);
        fuzz_split(tmp.p, tmp.n, '\t', &f2, &f3);
        attrs[count++] = (match_attr){f1.p, f1.n, f2.p, f2.n, f3.p, f3.n};
    }
    return count;
}

/* Copies a fresh pattern so the set can own it (the set frees what it
 * holds); recompiling from the same text is the only copy the API has. */
static match_pattern *recompile(const char *t, size_t n, match_dialect d)
{
    match_pattern *p = match_compile(t, n, d, NULL, 0);
    FUZZ_CHECK(p != NULL, "a pattern that compiled once does not compile again");
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    match_dialect d = (match_dialect)(data[0] % 3);
    fuzz_part pat, ev;
    if (!fuzz_split((const char *)data + 1, size - 1, '\0', &pat, &ev))
        ev = (fuzz_part){SAMPLE_EVENT, sizeof SAMPLE_EVENT - 1};

    char err[MATCH_ERR_MAX];
    memset(err, 'x', sizeof err);
    match_pattern *p = match_compile(pat.p, pat.n, d, err, sizeof err);
    if (!p) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) && err[0], "no error text for a refusal");
        return 0;
    }
    FUZZ_CHECK(match_pattern_dialect(p) == d, "dialect changed");
    FUZZ_CHECK(match_pattern_branches(p) >= 1, "no branches");

    /* Direct verdicts. */
    bool direct;
    match_doc *doc;
    match_attr attrs[MAX_ATTRS];
    size_t nattrs = 0;
    if (d == MATCH_SNS_ATTRIBUTES) {
        nattrs = parse_attrs(ev.p, ev.n, attrs);
        direct = match_attributes(p, attrs, nattrs);
        doc = match_doc_from_attributes(attrs, nattrs);
        FUZZ_CHECK(doc != NULL, "attributes doc failed");
        FUZZ_CHECK(!match_event(p, ev.p, ev.n), "attributes pattern matched an event");
    } else {
        direct = match_event(p, ev.p, ev.n);
        doc = match_doc_parse(ev.p, ev.n);
        FUZZ_CHECK(doc || !direct, "event matched but does not parse as a doc");
        FUZZ_CHECK(!match_attributes(p, NULL, 0), "event pattern matched attributes");
    }
    if (doc) {
        FUZZ_CHECK(match_doc_test(p, doc) == direct, "match_doc_test says %d, direct says %d",
                   !direct, direct);
        size_t seen = 0;
        size_t leaves = match_doc_leaves(doc, count_leaf, &seen);
        /* A leaf string that is not UTF-8 (SNS attributes can carry one from
         * the Query protocol) is skipped by match_doc_leaves but still
         * counted: only UTF-8 input must visit every leaf. */
        FUZZ_CHECK(seen == leaves || (seen < leaves && !fuzz_utf8_ok(ev.p, ev.n)),
                   "leaves visited %zu, returned %zu", seen, leaves);
    }

    /* The indexed set, with the fixed companions of this dialect. */
    match_set *set = match_set_new();
    FUZZ_CHECK(set != NULL, "set");
    FUZZ_CHECK(match_set_add(set, FUZZ_ID, recompile(pat.p, pat.n, d)) == 0, "add");
    for (uint64_t i = 0; i < 5; i++) {
        const char *t = COMPANIONS[d][i];
        FUZZ_CHECK(match_set_add(set, i, recompile(t, strlen(t), d)) == 0, "add companion");
    }
    if (doc) {
        for (int round = 0; round < 2; round++) {
            hits h;
            memset(&h, 0, sizeof h);
            int n = match_set_run_doc(set, doc, on_hit, &h);
            FUZZ_CHECK(n >= 0, "set run failed");
            FUZZ_CHECK(h.fuzz == (direct && round == 0),
                       "set says %d for the pattern, direct evaluation %d (round %d)", h.fuzz,
                       direct, round);
            int want = h.fuzz;
            for (int i = 0; i < 5; i++) {
                bool one = match_doc_test(companions[d][i], doc);
                FUZZ_CHECK(h.comp[i] == one, "set says %d for companion %d, direct %d",
                           h.comp[i], i, one);
                want += one;
            }
            FUZZ_CHECK(n == want, "set run returned %d, reported %d", n, want);
            FUZZ_CHECK(match_set_remove(set, FUZZ_ID) == (round == 0 ? 1u : 0u), "remove");
        }
        if (d != MATCH_SNS_ATTRIBUTES) {
            hits h;
            memset(&h, 0, sizeof h);
            FUZZ_CHECK(match_set_run(set, ev.p, ev.n, on_hit, &h) >= 0, "run on text");
        }
    }
    match_set_free(set);
    match_doc_free(doc);
    match_free(p);
    return 0;
}
