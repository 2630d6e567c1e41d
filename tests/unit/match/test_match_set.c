/*
 * test_match_set.c - rule sets: the indexed run must report exactly the
 * patterns that match one by one (checked differentially over a mix of
 * operators and events), each once, and follow adds and removals.
 */
#include "check.h"
#include "match_helpers.h"

static const char *const PATTERNS[] = {
    "{\"source\":[\"a\"]}",
    "{\"source\":[\"a\",\"b\"],\"n\":[1]}",
    "{\"n\":[1.0]}",
    "{\"n\":[{\"numeric\":[\">\",0]}]}",
    "{\"source\":[{\"prefix\":\"a\"}]}",
    "{\"x\":[{\"exists\":false}]}",
    "{\"x\":[{\"exists\":false}],\"source\":[\"b\"]}",
    "{\"$or\":[{\"source\":[\"c\"]},{\"n\":[2]}]}",
    "{\"d\":{\"k\":[null]}}",
    "{\"d\":{\"k\":[true]},\"source\":[{\"anything-but\":\"a\"}]}",
    "{\"arr\":{\"p\":[1],\"q\":[2]}}",
    "{\"ip\":[\"10.0.0.1\"]}",
    "{\"source\":[{\"wildcard\":\"*b*\"}]}",
    "{\"n\":[-0]}",
    "{\"tags\":[\"t1\"],\"$or\":[{\"n\":[1]},{\"source\":[\"a\"]}]}",
    "{\"f\":[{\"suffix\":\".png\"}]}",
    "{\"f\":[{\"suffix\":{\"equals-ignore-case\":\".JPG\"}}]}",
    "{\"f\":[{\"prefix\":{\"equals-ignore-case\":\"IMG\"}}]}",
    "{\"f\":[{\"equals-ignore-case\":\"readme\"}]}",
    "{\"f\":[\"x.gif\",{\"prefix\":\"doc\"}],\"n\":[{\"numeric\":[\"<\",5]}]}",
    "{\"f\":[{\"prefix\":\"\"}]}",
    "{\"f\":[{\"suffix\":\"\"}],\"source\":[{\"prefix\":\"a\"}]}",
};
#define NPAT (sizeof PATTERNS / sizeof PATTERNS[0])

static const char *const EVENTS[] = {
    "{\"source\":\"a\"}",
    "{\"source\":\"b\",\"n\":1}",
    "{\"source\":\"ab\",\"n\":0}",
    "{\"source\":\"c\",\"x\":1}",
    "{\"n\":2,\"d\":{\"k\":null}}",
    "{\"source\":\"z\",\"d\":{\"k\":true}}",
    "{\"arr\":[{\"p\":1,\"q\":3},{\"p\":4,\"q\":2}]}",
    "{\"arr\":[{\"p\":1,\"q\":2}]}",
    "{\"ip\":\"010.0.0.1\"}",
    "{\"tags\":[\"t0\",\"t1\"],\"source\":\"a\"}",
    "{}",
    "{\"n\":[1,2,3]}",
    "{\"f\":\"img_01.png\"}",
    "{\"f\":\"Img_01.jpg\",\"source\":\"ab\"}",
    "{\"f\":\"README\"}",
    "{\"f\":[\"x.gif\",\"docs\"],\"n\":3}",
    "{\"f\":\"document\",\"n\":9}",
    "{\"f\":7}",
    "{\"f\":\"\"}",
};
#define NEV (sizeof EVENTS / sizeof EVENTS[0])

typedef struct {
    int hits[64];
    int total;
} seen;

static void on_match(void *ctx, uint64_t id)
{
    seen *s = ctx;
    if (id < 64)
        s->hits[id]++;
    s->total++;
}

static void count_into(void *ctx, uint64_t id)
{
    ((int *)ctx)[id]++;
}

TEST(set_agrees_with_single_matching)
{
    match_set *set = match_set_new();
    match_pattern *single[NPAT];
    CHECK(set != NULL);
    for (size_t i = 0; i < NPAT; i++) {
        single[i] = match_compile(PATTERNS[i], strlen(PATTERNS[i]),
                                  MATCH_EVENTBRIDGE, NULL, 0);
        match_pattern *copy = match_compile(PATTERNS[i], strlen(PATTERNS[i]),
                                            MATCH_EVENTBRIDGE, NULL, 0);
        CHECK(single[i] && copy);
        CHECK_INT(match_set_add(set, i, copy), 0);
    }
    CHECK_INT(match_set_count(set), NPAT);

    for (size_t e = 0; e < NEV; e++) {
        seen s = { { 0 }, 0 };
        int n = match_set_run(set, EVENTS[e], strlen(EVENTS[e]), on_match,
                              &s);
        int expect = 0;
        for (size_t i = 0; i < NPAT; i++) {
            bool want = match_event(single[i], EVENTS[e], strlen(EVENTS[e]));
            expect += want;
            if (s.hits[i] != (want ? 1 : 0))
                fprintf(stderr, "  event %zu pattern %zu: set %d single %d\n",
                        e, i, s.hits[i], want);
            CHECK_INT(s.hits[i], want ? 1 : 0);
        }
        CHECK_INT(n, expect);
        CHECK_INT(s.total, expect);
    }
    for (size_t i = 0; i < NPAT; i++)
        match_free(single[i]);
    match_set_free(set);
}

TEST(set_expected_ids)
{
    match_set *set = match_set_new();
    const char *ev = "{\"source\":\"a\",\"n\":1}";
    seen s = { { 0 }, 0 };

    for (size_t i = 0; i < 3; i++)
        match_set_add(set, 10 + i,
                      match_compile(PATTERNS[i], strlen(PATTERNS[i]),
                                    MATCH_EVENTBRIDGE, NULL, 0));
    CHECK_INT(match_set_run(set, ev, strlen(ev), on_match, &s), 3);
    CHECK(s.hits[10] == 1 && s.hits[11] == 1 && s.hits[12] == 1);

    /* removal */
    CHECK_INT(match_set_remove(set, 11), 1);
    CHECK_INT(match_set_remove(set, 99), 0);
    memset(&s, 0, sizeof s);
    CHECK_INT(match_set_run(set, ev, strlen(ev), on_match, &s), 2);
    CHECK(s.hits[11] == 0);

    /* the same id twice reports twice (two patterns) */
    match_set_add(set, 10, match_compile("{\"n\":[1]}", 9, MATCH_EVENTBRIDGE,
                                         NULL, 0));
    memset(&s, 0, sizeof s);
    CHECK_INT(match_set_run(set, ev, strlen(ev), on_match, &s), 3);
    CHECK_INT(s.hits[10], 2);
    CHECK_INT(match_set_remove(set, 10), 2);
    CHECK_INT(match_set_count(set), 1);

    /* invalid events */
    CHECK_INT(match_set_run(set, "[1]", 3, on_match, &s), -1);
    CHECK_INT(match_set_run(set, "{", 1, on_match, &s), -1);
    CHECK_INT(match_set_add(set, 1, NULL), -1);
    match_set_free(set);
    match_set_free(NULL);
}

static match_pattern *compile_d(match_dialect d, const char *pat)
{
    return match_compile(pat, strlen(pat), d, NULL, 0);
}

TEST(set_empty_and_sns)
{
    match_set *set = match_set_new();
    CHECK_INT(match_set_run(set, "{\"a\":1}", 7, NULL, NULL), 0);

    /* SNS attribute policies in a set, run against attribute docs */
    match_attr attrs[] = {
        { "color", 5, "String", 6, "red", 3 },
        { "size", 4, "Number", 6, "12", 2 },
    };
    match_set_add(set, 1, compile_d(MATCH_SNS_ATTRIBUTES,
                                    "{\"color\":[\"red\"]}"));
    match_set_add(set, 2, compile_d(MATCH_SNS_ATTRIBUTES,
                                    "{\"size\":[{\"numeric\":[\">\",20]}]}"));
    match_set_add(set, 3, compile_d(MATCH_SNS_ATTRIBUTES,
                                    "{\"shape\":[{\"exists\":false}]}"));
    match_set_add(set, 4, compile_d(MATCH_EVENTBRIDGE,
                                    "{\"color\":[\"red\"]}"));
    CHECK_INT(match_set_count(set), 4);
    match_doc *doc = match_doc_from_attributes(attrs, 2);
    seen s = { { 0 }, 0 };
    CHECK_INT(match_set_run_doc(set, doc, on_match, &s), 2);
    CHECK(s.hits[1] == 1 && s.hits[2] == 0 && s.hits[3] == 1 &&
          s.hits[4] == 0);
    match_doc_free(doc);

    /* the EventBridge pattern matches the JSON event only */
    memset(&s, 0, sizeof s);
    CHECK_INT(match_set_run(set, "{\"color\":\"red\"}", 15, on_match, &s), 1);
    CHECK(s.hits[4] == 1);
    match_set_free(set);
}

TEST(set_many_rules)
{
    match_set *set = match_set_new();
    char pat[128], ev[128];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(pat, sizeof pat,
                         "{\"source\":[\"svc.%d\"],\"detail\":{\"n\":"
                         "[{\"numeric\":[\">\",%d]}]}}", i, i % 10);
        match_set_add(set, (uint64_t)i,
                      match_compile(pat, (size_t)n, MATCH_EVENTBRIDGE, NULL,
                                    0));
    }
    seen s = { { 0 }, 0 };
    int n = snprintf(ev, sizeof ev,
                     "{\"source\":\"svc.42\",\"detail\":{\"n\":1}}");
    CHECK_INT(match_set_run(set, ev, (size_t)n, on_match, &s), 0);
    n = snprintf(ev, sizeof ev,
                 "{\"source\":\"svc.40\",\"detail\":{\"n\":1}}");
    CHECK_INT(match_set_run(set, ev, (size_t)n, on_match, &s), 1);
    CHECK(s.hits[40] == 1);
    match_set_free(set);
}


/* A deterministic generator (xorshift) for the randomized comparison. */
static uint32_t rng_state = 2463534242u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state % n;
}

static const char *const FIELDS[] = { "a", "b", "c.d", "c.e" };
static const char *const MATCHERS[] = {
    "\"x\"", "\"xy\"", "1", "2.0", "null", "true",
    "{\"prefix\":\"x\"}", "{\"suffix\":\"y\"}", "{\"prefix\":\"\"}",
    "{\"equals-ignore-case\":\"XY\"}", "{\"prefix\":{\"equals-ignore-case\":\"X\"}}",
    "{\"suffix\":{\"equals-ignore-case\":\"Y\"}}", "{\"exists\":true}",
    "{\"exists\":false}", "{\"anything-but\":\"x\"}", "{\"anything-but\":[1,2]}",
    "{\"numeric\":[\">\",1]}", "{\"wildcard\":\"x*\"}", "\"10.0.0.1\"",
    "{\"numeric\":[\"<\",2]}", "{\"numeric\":[\"<=\",1]}",
    "{\"numeric\":[\">=\",1,\"<\",3.5]}", "{\"numeric\":[\"=\",3.5]}",
    "{\"numeric\":[\">=\",2]}", "{\"numeric\":[\">\",1,\"<=\",2]}",
    "{\"cidr\":\"10.0.0.0/8\"}",
};
static const char *const VALUES[] = {
    "\"x\"", "\"xy\"", "\"XY\"", "\"y\"", "\"\"", "1", "2", "3.5", "null",
    "true", "false", "[\"x\",1]", "[]", "{}", "\"10.0.0.1\"", "\"010.0.0.1\"",
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static size_t gen_fields(char *buf, size_t at, size_t cap)
{
    size_t nf = 1 + rnd(3);
    for (size_t i = 0; i < nf; i++) {
        at += (size_t)snprintf(buf + at, cap - at, "%s\"%s\":[",
                               i ? "," : "", FIELDS[rnd(N(FIELDS))]);
        size_t nm = 1 + rnd(2);
        for (size_t m = 0; m < nm; m++)
            at += (size_t)snprintf(buf + at, cap - at, "%s%s", m ? "," : "",
                                   MATCHERS[rnd(N(MATCHERS))]);
        at += (size_t)snprintf(buf + at, cap - at, "]");
    }
    return at;
}

static void gen_pattern(char *buf, size_t cap)
{
    size_t at = (size_t)snprintf(buf, cap, "{");
    at = gen_fields(buf, at, cap);
    if (rnd(3) == 0) {
        at += (size_t)snprintf(buf + at, cap - at, ",\"$or\":[{");
        at = gen_fields(buf, at, cap);
        at += (size_t)snprintf(buf + at, cap - at, "},{");
        at = gen_fields(buf, at, cap);
        at += (size_t)snprintf(buf + at, cap - at, "}]");
    }
    snprintf(buf + at, cap - at, "}");
}

static void gen_event(char *buf, size_t cap)
{
    size_t at = (size_t)snprintf(buf, cap, "{\"a\":%s,\"c\":{\"d\":%s",
                                 VALUES[rnd(N(VALUES))],
                                 VALUES[rnd(N(VALUES))]);
    if (rnd(2))
        at += (size_t)snprintf(buf + at, cap - at, ",\"e\":%s",
                               VALUES[rnd(N(VALUES))]);
    at += (size_t)snprintf(buf + at, cap - at, "}");
    if (rnd(2))
        at += (size_t)snprintf(buf + at, cap - at, ",\"b\":%s",
                               VALUES[rnd(N(VALUES))]);
    snprintf(buf + at, cap - at, "}");
}

TEST(set_randomized_against_single)
{
    enum { NP = 400, NE = 300 };
    static match_pattern *single[NP];
    match_set *set = match_set_new();
    char buf[1024];
    size_t compiled = 0, total_hits = 0;

    for (size_t i = 0; i < NP; i++) {
        gen_pattern(buf, sizeof buf);
        single[i] = match_compile(buf, strlen(buf), MATCH_EVENTBRIDGE, NULL,
                                  0);
        if (!single[i])
            continue;       /* e.g. a duplicate-free $or with reserved keys */
        compiled++;
        match_set_add(set, i, match_compile(buf, strlen(buf),
                                            MATCH_EVENTBRIDGE, NULL, 0));
    }
    CHECK(compiled > NP / 2);

    static int hits[NP];
    for (size_t e = 0; e < NE; e++) {
        gen_event(buf, sizeof buf);
        memset(hits, 0, sizeof hits);
        match_doc *doc = match_doc_parse(buf, strlen(buf));
        CHECK(doc != NULL);
        int n = match_set_run_doc(set, doc, count_into, hits);
        int expect = 0;
        for (size_t i = 0; i < NP; i++) {
            if (!single[i])
                continue;
            bool want = match_doc_test(single[i], doc);
            expect += want;
            if (hits[i] != (int)want)
                fprintf(stderr, "  event %s: pattern %zu set %d single %d\n",
                        buf, i, hits[i], want);
            CHECK_INT(hits[i], want);
        }
        CHECK_INT(n, expect);
        total_hits += (size_t)expect;
        match_doc_free(doc);
    }
    CHECK(total_hits > 1000);          /* the comparison is not vacuous */
    for (size_t i = 0; i < NP; i++)
        match_free(single[i]);
    match_set_free(set);
}

/* Numeric anchors: random ranges against random values, set vs single. */
TEST(set_numeric_index_against_single)
{
    static const char *const B[] = { "-1", "0", "1", "1.5", "2", "3" };
    static const char *const OPS[] = { ">", ">=", "<", "<=", "=" };
    static const char *const X[] = { "-2", "-1", "0", "0.5", "1", "1.5",
                                      "2", "2.5", "3", "4", "[1,3]" };
    enum { NP = 300 };
    static match_pattern *single[NP];
    match_set *set = match_set_new();
    char buf[256];
    size_t total = 0;

    for (size_t i = 0; i < NP; i++) {
        const char *op = OPS[rnd(N(OPS))];
        size_t at = (size_t)snprintf(buf, sizeof buf, "{\"n\":[");
        if (rnd(4) == 0)
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s,",
                                   B[rnd(N(B))]);
        if (op[0] == '>' && rnd(2))
            at += (size_t)snprintf(buf + at, sizeof buf - at,
                                   "{\"numeric\":[\"%s\",-5,\"%s\",%s]}",
                                   op, rnd(2) ? "<" : "<=", B[rnd(N(B))]);
        else
            at += (size_t)snprintf(buf + at, sizeof buf - at,
                                   "{\"numeric\":[\"%s\",%s]}", op,
                                   B[rnd(N(B))]);
        snprintf(buf + at, sizeof buf - at, "]}");
        single[i] = match_compile(buf, strlen(buf), MATCH_EVENTBRIDGE, NULL,
                                  0);
        CHECK(single[i] != NULL);
        match_set_add(set, i, match_compile(buf, strlen(buf),
                                            MATCH_EVENTBRIDGE, NULL, 0));
    }
    static int hits[NP];
    for (size_t e = 0; e < N(X); e++) {
        snprintf(buf, sizeof buf, "{\"n\":%s}", X[e]);
        memset(hits, 0, sizeof hits);
        match_doc *doc = match_doc_parse(buf, strlen(buf));
        int n = match_set_run_doc(set, doc, count_into, hits);
        int expect = 0;
        for (size_t i = 0; i < NP; i++) {
            bool want = single[i] && match_doc_test(single[i], doc);
            expect += want;
            CHECK_INT(hits[i], want);
        }
        CHECK_INT(n, expect);
        total += (size_t)expect;
        match_doc_free(doc);
    }
    CHECK(total > 300);
    for (size_t i = 0; i < NP; i++)
        match_free(single[i]);
    match_set_free(set);
}

static void count_hits(void *ctx, uint64_t id)
{
    (void)id;
    (*(int *)ctx)++;
}

/* Rules that share their source and differ deeper in the event: each event
 * reaches exactly its own rule (the index files them under the field that
 * tells them apart). */
TEST(set_shared_field_rules)
{
    match_set *set = match_set_new();
    char pat[256], err[MATCH_ERR_MAX];

    for (int i = 0; i < 2000; i++) {
        snprintf(pat, sizeof pat, "{\"source\":[\"fo.app\"],\"detail\":{\"customer\":"
                 "[\"c%d\"],\"tier\":[\"gold\",\"silver\"]}}", i);
        match_pattern *p = match_compile(pat, strlen(pat), MATCH_EVENTBRIDGE, err, sizeof err);
        CHECK(p != NULL);
        CHECK_INT(match_set_add(set, (uint64_t)i + 1, p), 0);
    }
    for (int i = 0; i < 2000; i += 397) {
        char ev[256];
        int hits = 0;
        snprintf(ev, sizeof ev, "{\"source\":\"fo.app\",\"detail\":{\"customer\":\"c%d\","
                 "\"tier\":\"gold\"}}", i);
        CHECK_INT(match_set_run(set, ev, strlen(ev), count_hits, &hits), 1);
        CHECK_INT(hits, 1);
    }
    const char *other = "{\"source\":\"fo.app\",\"detail\":{\"customer\":\"c7\","
                        "\"tier\":\"bronze\"}}";
    int hits = 0;
    match_set_run(set, other, strlen(other), count_hits, &hits);
    CHECK_INT(hits, 0);
    match_set_free(set);
}

int main(void)
{
    RUN(set_agrees_with_single_matching);
    RUN(set_expected_ids);
    RUN(set_empty_and_sns);
    RUN(set_many_rules);
    RUN(set_randomized_against_single);
    RUN(set_numeric_index_against_single);
    RUN(set_shared_field_rules);
    return check_report();
}
