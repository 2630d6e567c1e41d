/*
 * test_match_eventbridge.c - EventBridge event patterns: every operator,
 * matching and not matching, and the edge cases of the semantics
 * reference (types, numbers by value, null vs missing, arrays, dotted
 * keys, duplicate keys, array consistency, $or).
 */
#include "check.h"
#include "match_helpers.h"

TEST(exact_strings)
{
    CHECK(matches("{\"source\":[\"aws.ec2\"]}", "{\"source\":\"aws.ec2\"}"));
    CHECK(!matches("{\"source\":[\"aws.ec2\"]}", "{\"source\":\"aws.s3\"}"));
    CHECK(!matches("{\"source\":[\"aws.ec2\"]}", "{\"source\":\"AWS.EC2\"}"));
    CHECK(!matches("{\"source\":[\"aws.ec2\"]}", "{\"source\":\" aws.ec2\"}"));
    CHECK(matches("{\"source\":[\"a\",\"b\"]}", "{\"source\":\"b\"}"));
    CHECK(!matches("{\"source\":[\"a\"]}", "{\"other\":\"a\"}"));
    /* keys are case-sensitive */
    CHECK(!matches("{\"Source\":[\"a\"]}", "{\"source\":\"a\"}"));
    /* unescaped contents compare */
    CHECK(matches("{\"a\":[\"\\u0041\"]}", "{\"a\":\"A\"}"));
    CHECK(matches("{\"a\":[\"\"]}", "{\"a\":\"\"}"));
    CHECK(!matches("{\"a\":[\"\"]}", "{\"a\":null}"));
    /* fields are ANDed */
    CHECK(matches("{\"a\":[\"1\"],\"b\":[\"2\"]}", "{\"a\":\"1\",\"b\":\"2\"}"));
    CHECK(!matches("{\"a\":[\"1\"],\"b\":[\"2\"]}", "{\"a\":\"1\",\"b\":\"3\"}"));
    /* extra event fields are ignored */
    CHECK(matches("{\"a\":[\"1\"]}", "{\"a\":\"1\",\"z\":{\"y\":[1,2]}}"));
}

TEST(types_never_cross)
{
    CHECK(!matches("{\"a\":[42]}", "{\"a\":\"42\"}"));
    CHECK(!matches("{\"a\":[\"42\"]}", "{\"a\":42}"));
    CHECK(!matches("{\"a\":[true]}", "{\"a\":\"true\"}"));
    CHECK(!matches("{\"a\":[\"true\"]}", "{\"a\":true}"));
    CHECK(matches("{\"a\":[true]}", "{\"a\":true}"));
    CHECK(!matches("{\"a\":[true]}", "{\"a\":false}"));
    CHECK(matches("{\"a\":[false]}", "{\"a\":false}"));
    CHECK(!matches("{\"a\":[null]}", "{\"a\":\"null\"}"));
    CHECK(!matches("{\"a\":[\"null\"]}", "{\"a\":null}"));
}

TEST(numbers_by_value)
{
    CHECK(matches("{\"a\":[42]}", "{\"a\":42}"));
    CHECK(matches("{\"a\":[42]}", "{\"a\":42.0}"));
    CHECK(matches("{\"a\":[42]}", "{\"a\":4.2e1}"));
    CHECK(matches("{\"a\":[42]}", "{\"a\":42E0}"));
    CHECK(matches("{\"a\":[42.0]}", "{\"a\":42}"));
    CHECK(matches("{\"a\":[4.2e1]}", "{\"a\":42}"));
    CHECK(!matches("{\"a\":[42]}", "{\"a\":42.000001}"));
    CHECK(matches("{\"a\":[0]}", "{\"a\":-0}"));
    CHECK(matches("{\"a\":[-1.5]}", "{\"a\":-1.50}"));
    CHECK(matches("{\"a\":[123456789012]}", "{\"a\":123456789012}"));
    /* a big integer does not break parsing of the event */
    CHECK(matches("{\"a\":[\"x\"]}",
                  "{\"a\":\"x\",\"b\":123456789012345678901234567890}"));
    /* nor does a number beyond the double range; it still orders right */
    CHECK(matches("{\"a\":[\"x\"]}", "{\"a\":\"x\",\"b\":1e400}"));
    CHECK(matches("{\"b\":[{\"numeric\":[\">\",1e300]}]}",
                  "{\"b\":[1e400,2]}"));
    CHECK(matches("{\"b\":[{\"numeric\":[\"<\",-1e300]}]}",
                  "{\"c\":-1e999,\"b\":-1E+400}"));
    CHECK(!matches("{\"b\":[{\"numeric\":[\"<\",0]}]}", "{\"b\":1e400}"));
    CHECK(matches("{\"b\":[0]}", "{\"b\":1e-400}"));
}

TEST(null_missing_empty)
{
    CHECK(matches("{\"a\":[null]}", "{\"a\":null}"));
    CHECK(!matches("{\"a\":[null]}", "{}"));
    CHECK(!matches("{\"a\":[null]}", "{\"a\":\"\"}"));
    CHECK(!matches("{\"a\":[\"\"]}", "{}"));
    CHECK(matches("{\"a\":[null,\"x\"]}", "{\"a\":\"x\"}"));
    CHECK(matches("{\"a\":{\"b\":[null]}}", "{\"a\":{\"b\":null}}"));
    CHECK(!matches("{\"a\":{\"b\":[null]}}", "{\"a\":{}}"));
}

TEST(arrays_in_events)
{
    CHECK(matches("{\"r\":[\"x\"]}", "{\"r\":[\"w\",\"x\",\"y\"]}"));
    CHECK(!matches("{\"r\":[\"x\"]}", "{\"r\":[\"w\",\"y\"]}"));
    CHECK(matches("{\"r\":[\"a\",\"x\"]}", "{\"r\":[\"w\",\"x\"]}"));
    CHECK(!matches("{\"r\":[\"x\"]}", "{\"r\":[]}"));
    /* nested arrays are flattened */
    CHECK(matches("{\"r\":[3]}", "{\"r\":[[1,2],[3]]}"));
    CHECK(matches("{\"r\":{\"k\":[2]}}", "{\"r\":[{\"k\":1},{\"k\":2}]}"));
    CHECK(!matches("{\"r\":{\"k\":[3]}}", "{\"r\":[{\"k\":1},{\"k\":2}]}"));
    /* a JSON string that holds JSON is not parsed */
    CHECK(!matches("{\"d\":{\"k\":[1]}}", "{\"d\":\"{\\\"k\\\":1}\"}"));
}

TEST(nested_and_dotted)
{
    CHECK(matches("{\"detail\":{\"state\":[\"on\"]}}",
                  "{\"detail\":{\"state\":\"on\"}}"));
    CHECK(!matches("{\"detail\":{\"state\":[\"on\"]}}",
                   "{\"state\":\"on\"}"));
    CHECK(!matches("{\"detail\":{\"state\":[\"on\"]}}",
                   "{\"detail\":{\"x\":{\"state\":\"on\"}}}"));
    /* pattern key "a.b" and nested a/b are the same path, both ways */
    CHECK(matches("{\"a.b\":[1]}", "{\"a\":{\"b\":1}}"));
    CHECK(matches("{\"a\":{\"b\":[1]}}", "{\"a.b\":1}"));
    CHECK(matches("{\"a.b\":[1]}", "{\"a.b\":1}"));
    CHECK(!matches("{\"a.b\":[1]}", "{\"a\":{\"c\":1}}"));
}

TEST(duplicate_keys_last_wins)
{
    CHECK(matches("{\"a\":[\"1\"],\"a\":[\"2\"]}", "{\"a\":\"2\"}"));
    CHECK(!matches("{\"a\":[\"1\"],\"a\":[\"2\"]}", "{\"a\":\"1\"}"));
    /* the same path reached twice: the later value array wins */
    CHECK(matches("{\"a\":{\"b\":[1]},\"a.b\":[2]}", "{\"a\":{\"b\":2}}"));
    CHECK(!matches("{\"a\":{\"b\":[1]},\"a.b\":[2]}", "{\"a\":{\"b\":1}}"));
    /* duplicate keys in the event: last one too */
    CHECK(matches("{\"a\":[2]}", "{\"a\":1,\"a\":2}"));
    CHECK(!matches("{\"a\":[1]}", "{\"a\":1,\"a\":2}"));
}

TEST(prefix_suffix)
{
    CHECK(matches("{\"t\":[{\"prefix\":\"2017-10\"}]}",
                  "{\"t\":\"2017-10-02T18:43:48Z\"}"));
    CHECK(!matches("{\"t\":[{\"prefix\":\"2017-10\"}]}",
                   "{\"t\":\"2018-10-02\"}"));
    CHECK(!matches("{\"t\":[{\"prefix\":\"Abc\"}]}", "{\"t\":\"abcd\"}"));
    CHECK(matches("{\"t\":[{\"prefix\":\"\"}]}", "{\"t\":\"anything\"}"));
    CHECK(matches("{\"t\":[{\"prefix\":\"\"}]}", "{\"t\":\"\"}"));
    CHECK(!matches("{\"t\":[{\"prefix\":\"\"}]}", "{\"t\":9}"));
    CHECK(!matches("{\"t\":[{\"prefix\":\"nu\"}]}", "{\"t\":null}"));
    CHECK(!matches("{\"t\":[{\"prefix\":\"tr\"}]}", "{\"t\":true}"));
    CHECK(!matches("{\"t\":[{\"prefix\":\"1\"}]}", "{\"t\":12}"));
    CHECK(matches("{\"f\":[{\"suffix\":\".png\"}]}", "{\"f\":\"a.png\"}"));
    CHECK(!matches("{\"f\":[{\"suffix\":\".png\"}]}", "{\"f\":\"a.PNG\"}"));
    CHECK(!matches("{\"f\":[{\"suffix\":\".png\"}]}", "{\"f\":\"png\"}"));
    CHECK(matches("{\"f\":[{\"suffix\":\"\"}]}", "{\"f\":\"x\"}"));
    CHECK(!matches("{\"f\":[{\"suffix\":\"2\"}]}", "{\"f\":12}"));
    CHECK(matches("{\"s\":[{\"prefix\":{\"equals-ignore-case\":\"EventB\"}}]}",
                  "{\"s\":\"eventbridge\"}"));
    CHECK(!matches("{\"s\":[{\"prefix\":{\"equals-ignore-case\":\"EventB\"}}]}",
                   "{\"s\":\"event\"}"));
    CHECK(matches("{\"f\":[{\"suffix\":{\"equals-ignore-case\":\".png\"}}]}",
                  "{\"f\":\"A.PnG\"}"));
    CHECK(!matches("{\"f\":[{\"suffix\":{\"equals-ignore-case\":\".png\"}}]}",
                   "{\"f\":\"a.jpg\"}"));
}

TEST(equals_ignore_case)
{
    CHECK(matches("{\"n\":[{\"equals-ignore-case\":\"alice\"}]}",
                  "{\"n\":\"ALICE\"}"));
    CHECK(matches("{\"n\":[{\"equals-ignore-case\":\"AlIcE\"}]}",
                  "{\"n\":\"alice\"}"));
    CHECK(!matches("{\"n\":[{\"equals-ignore-case\":\"alice\"}]}",
                   "{\"n\":\"alicex\"}"));
    CHECK(matches("{\"n\":[{\"equals-ignore-case\":\"\"}]}", "{\"n\":\"\"}"));
    CHECK(!matches("{\"n\":[{\"equals-ignore-case\":\"\"}]}", "{\"n\":\"a\"}"));
    CHECK(!matches("{\"n\":[{\"equals-ignore-case\":\"true\"}]}",
                   "{\"n\":true}"));
    CHECK(matches("{\"n\":[{\"equals-ignore-case\":\"\xc3\xa9t\xc3\xa9\"}]}",
                  "{\"n\":\"\xc3\x89T\xc3\x89\"}"));
}

TEST(wildcard)
{
    CHECK(matches("{\"k\":[{\"wildcard\":\"dir/*.png\"}]}",
                  "{\"k\":\"dir/a/b.png\"}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"dir/*.png\"}]}",
                   "{\"k\":\"dir/a/b.jpg\"}"));
    CHECK(matches("{\"k\":[{\"wildcard\":\"a*\"}]}", "{\"k\":\"a\"}"));
    CHECK(matches("{\"k\":[{\"wildcard\":\"*\"}]}", "{\"k\":\"\"}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"*\"}]}", "{\"k\":12}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"*\"}]}", "{\"k\":null}"));
    CHECK(matches("{\"k\":[{\"wildcard\":\"a*b*c\"}]}", "{\"k\":\"abbbc\"}"));
    CHECK(matches("{\"k\":[{\"wildcard\":\"a*b*c\"}]}", "{\"k\":\"abc\"}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"a*b*c\"}]}", "{\"k\":\"acb\"}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"ab*ba\"}]}", "{\"k\":\"aba\"}"));
    CHECK(matches("{\"k\":[{\"wildcard\":\"abc\"}]}", "{\"k\":\"abc\"}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"abc\"}]}", "{\"k\":\"abcd\"}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"Abc*\"}]}", "{\"k\":\"abcd\"}"));
    /* escapes: \* is a star, \\ a backslash */
    CHECK(matches("{\"k\":[{\"wildcard\":\"a\\\\*b\"}]}", "{\"k\":\"a*b\"}"));
    CHECK(!matches("{\"k\":[{\"wildcard\":\"a\\\\*b\"}]}", "{\"k\":\"axb\"}"));
    CHECK(matches("{\"k\":[{\"wildcard\":\"a\\\\\\\\*\"}]}",
                  "{\"k\":\"a\\\\bc\"}"));
    CHECK(matches("{\"a\":[{\"wildcard\":\"arn:aws:events:*:*:event-bus/*\"}]}",
                  "{\"a\":\"arn:aws:events:us-east-1:1234:event-bus/x\"}"));
}

TEST(anything_but_values)
{
    CHECK(matches("{\"s\":[{\"anything-but\":\"init\"}]}", "{\"s\":\"run\"}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":\"init\"}]}",
                   "{\"s\":\"init\"}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":\"init\"}]}", "{}"));
    CHECK(matches("{\"s\":[{\"anything-but\":\"init\"}]}", "{\"s\":null}"));
    CHECK(matches("{\"s\":[{\"anything-but\":\"init\"}]}", "{\"s\":true}"));
    CHECK(matches("{\"s\":[{\"anything-but\":[\"a\",\"b\"]}]}",
                  "{\"s\":\"c\"}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":[\"a\",\"b\"]}]}",
                   "{\"s\":\"b\"}"));
    /* an exclusion only fires on the same kind */
    CHECK(matches("{\"s\":[{\"anything-but\":\"8\"}]}", "{\"s\":8}"));
    CHECK(matches("{\"s\":[{\"anything-but\":[8]}]}", "{\"s\":\"8\"}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":[8]}]}", "{\"s\":8}"));
    /* numbers by value */
    CHECK(!matches("{\"s\":[{\"anything-but\":7}]}", "{\"s\":7.0}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":[10,20]}]}", "{\"s\":2e1}"));
    CHECK(matches("{\"s\":[{\"anything-but\":[10,20]}]}", "{\"s\":15}"));
    CHECK(matches("{\"s\":[{\"anything-but\":123}]}", "{\"s\":null}"));
    /* event arrays: one element not excluded is enough */
    CHECK(matches("{\"s\":[{\"anything-but\":[100]}]}", "{\"s\":[100,50]}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":[100]}]}", "{\"s\":[100,100]}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":[100]}]}", "{\"s\":[]}"));
    /* an object is not a leaf */
    CHECK(!matches("{\"s\":[{\"anything-but\":\"x\"}]}",
                   "{\"s\":{\"t\":\"y\"}}"));
}

TEST(anything_but_operators)
{
    const char *pre = "{\"s\":[{\"anything-but\":{\"prefix\":\"init\"}}]}";
    CHECK(matches(pre, "{\"s\":\"running\"}"));
    CHECK(!matches(pre, "{\"s\":\"initializing\"}"));
    CHECK(matches(pre, "{\"s\":5}"));
    CHECK(matches(pre, "{\"s\":null}"));
    CHECK(!matches(pre, "{}"));
    CHECK(matches("{\"s\":[{\"anything-but\":{\"prefix\":[\"a\",\"b\"]}}]}",
                  "{\"s\":\"cat\"}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":{\"prefix\":[\"a\",\"b\"]}}]}",
                   "{\"s\":\"bat\"}"));
    const char *suf = "{\"f\":[{\"anything-but\":{\"suffix\":\".txt\"}}]}";
    CHECK(matches(suf, "{\"f\":\"a.png\"}"));
    CHECK(!matches(suf, "{\"f\":\"a.txt\"}"));
    const char *eic =
        "{\"s\":[{\"anything-but\":{\"equals-ignore-case\":[\"Ab\",\"cD\"]}}]}";
    CHECK(!matches(eic, "{\"s\":\"AB\"}"));
    CHECK(!matches(eic, "{\"s\":\"cd\"}"));
    CHECK(matches(eic, "{\"s\":\"abc\"}"));
    CHECK(matches(eic, "{\"s\":1}"));
    CHECK(matches("{\"s\":[{\"anything-but\":{\"equals-ignore-case\":\"x\"}}]}",
                  "{\"s\":\"y\"}"));
    const char *wc = "{\"s\":[{\"anything-but\":{\"wildcard\":\"*init*\"}}]}";
    CHECK(matches(wc, "{\"s\":\"running\"}"));
    CHECK(!matches(wc, "{\"s\":\"reinitialize\"}"));
    CHECK(matches(wc, "{\"s\":12}"));
    CHECK(matches(wc, "{\"s\":null}"));
    CHECK(matches("{\"s\":[{\"anything-but\":{\"wildcard\":\"\"}}]}",
                  "{\"s\":\"a\"}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":{\"wildcard\":\"\"}}]}",
                   "{\"s\":\"\"}"));
    CHECK(!matches("{\"s\":[{\"anything-but\":{\"wildcard\":[\"a*\",\"*z\"]}}]}",
                   "{\"s\":\"xyz\"}"));
}

TEST(numeric)
{
    CHECK(matches("{\"n\":[{\"numeric\":[\">\",0]}]}", "{\"n\":1}"));
    CHECK(!matches("{\"n\":[{\"numeric\":[\">\",0]}]}", "{\"n\":0}"));
    CHECK(matches("{\"n\":[{\"numeric\":[\">=\",0]}]}", "{\"n\":0}"));
    CHECK(matches("{\"n\":[{\"numeric\":[\"<\",10]}]}", "{\"n\":9.99}"));
    CHECK(!matches("{\"n\":[{\"numeric\":[\"<\",10]}]}", "{\"n\":10}"));
    CHECK(matches("{\"n\":[{\"numeric\":[\"<=\",10]}]}", "{\"n\":1e1}"));
    CHECK(matches("{\"n\":[{\"numeric\":[\"=\",3.018e2]}]}", "{\"n\":301.8}"));
    CHECK(!matches("{\"n\":[{\"numeric\":[\"=\",5]}]}", "{\"n\":5.0000001}"));
    const char *range = "{\"n\":[{\"numeric\":[\">\",0,\"<=\",5]}]}";
    CHECK(matches(range, "{\"n\":5}"));
    CHECK(matches(range, "{\"n\":0.000001}"));
    CHECK(!matches(range, "{\"n\":0}"));
    CHECK(!matches(range, "{\"n\":5.000001}"));
    CHECK(matches("{\"n\":[{\"numeric\":[\">=\",-5e9,\"<\",-1]}]}",
                  "{\"n\":-4999999999}"));
    /* only JSON numbers */
    CHECK(!matches("{\"n\":[{\"numeric\":[\">\",0]}]}", "{\"n\":\"11\"}"));
    CHECK(!matches("{\"n\":[{\"numeric\":[\">\",0]}]}", "{\"n\":null}"));
    CHECK(!matches("{\"n\":[{\"numeric\":[\">\",0]}]}", "{\"n\":true}"));
    CHECK(!matches("{\"n\":[{\"numeric\":[\">\",0]}]}", "{}"));
    CHECK(matches("{\"n\":[{\"numeric\":[\">\",10]}]}", "{\"n\":[1,20]}"));
}

TEST(exists)
{
    const char *yes = "{\"a\":[{\"exists\":true}]}";
    const char *no = "{\"a\":[{\"exists\":false}]}";
    CHECK(matches(yes, "{\"a\":\"x\"}"));
    CHECK(matches(yes, "{\"a\":null}"));
    CHECK(matches(yes, "{\"a\":\"\"}"));
    CHECK(matches(yes, "{\"a\":0}"));
    CHECK(matches(yes, "{\"a\":[1]}"));
    CHECK(!matches(yes, "{}"));
    CHECK(!matches(yes, "{\"a\":{}}"));
    CHECK(!matches(yes, "{\"a\":[]}"));
    CHECK(!matches(yes, "{\"a\":{\"b\":1}}"));
    CHECK(matches(no, "{}"));
    CHECK(matches(no, "{\"a\":{}}"));
    CHECK(matches(no, "{\"a\":[]}"));
    CHECK(matches(no, "{\"a\":{\"b\":1}}"));
    CHECK(!matches(no, "{\"a\":null}"));
    CHECK(!matches(no, "{\"a\":\"x\"}"));
    /* parent missing */
    CHECK(matches("{\"p\":{\"c\":[{\"exists\":false}]}}", "{\"x\":1}"));
    CHECK(!matches("{\"p\":{\"c\":[{\"exists\":true}]}}", "{\"x\":1}"));
    /* exists ORed with other matchers */
    const char *mix = "{\"a\":[{\"exists\":false},{\"prefix\":\"x\"}]}";
    CHECK(matches(mix, "{}"));
    CHECK(matches(mix, "{\"a\":\"xy\"}"));
    CHECK(!matches(mix, "{\"a\":\"yy\"}"));
    CHECK(matches("{\"a\":[{\"exists\":true},\"q\"]}", "{\"a\":1}"));
}

TEST(cidr_and_ip)
{
    const char *v4 = "{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}";
    CHECK(matches(v4, "{\"ip\":\"10.0.0.255\"}"));
    CHECK(matches(v4, "{\"ip\":\"10.0.0.0\"}"));
    CHECK(!matches(v4, "{\"ip\":\"10.0.1.0\"}"));
    CHECK(!matches(v4, "{\"ip\":\"10.0.0.256\"}"));
    CHECK(!matches(v4, "{\"ip\":\"not-an-ip\"}"));
    CHECK(!matches(v4, "{\"ip\":167772161}"));
    /* host bits in the base are ignored */
    CHECK(matches("{\"ip\":[{\"cidr\":\"10.0.0.5/24\"}]}",
                  "{\"ip\":\"10.0.0.3\"}"));
    CHECK(matches("{\"ip\":[{\"cidr\":\"0.0.0.0/0\"}]}",
                  "{\"ip\":\"192.168.1.1\"}"));
    CHECK(!matches("{\"ip\":[{\"cidr\":\"0.0.0.0/0\"}]}",
                   "{\"ip\":\"::1\"}"));
    CHECK(matches("{\"ip\":[{\"cidr\":\"10.1.2.3/32\"}]}",
                  "{\"ip\":\"10.1.2.3\"}"));
    const char *v6 = "{\"ip\":[{\"cidr\":\"2001:db8::/32\"}]}";
    CHECK(matches(v6, "{\"ip\":\"2001:DB8:0:0:0:0:0:1\"}"));
    CHECK(matches(v6, "{\"ip\":\"2001:0db8:ffff::\"}"));
    CHECK(!matches(v6, "{\"ip\":\"2001:db9::\"}"));
    /* an IP literal in exact position matches canonically */
    CHECK(matches("{\"ip\":[\"fe80::a\"]}",
                  "{\"ip\":\"FE80:0:0:0:0:0:0:000A\"}"));
    CHECK(!matches("{\"ip\":[\"fe80::a\"]}", "{\"ip\":\"fe80::b\"}"));
    CHECK(matches("{\"ip\":[\"10.0.0.1\"]}", "{\"ip\":\"10.0.0.1\"}"));
    CHECK(matches("{\"ip\":[\"10.0.0.1\"]}", "{\"ip\":\"010.000.0.01\"}"));
}

TEST(or_operator)
{
    const char *p = "{\"source\":[\"s\"],\"$or\":[{\"a\":[1]},{\"b\":[2]}]}";
    CHECK(matches(p, "{\"source\":\"s\",\"a\":1}"));
    CHECK(matches(p, "{\"source\":\"s\",\"b\":2}"));
    CHECK(!matches(p, "{\"source\":\"s\",\"a\":2}"));
    CHECK(!matches(p, "{\"source\":\"t\",\"a\":1}"));
    /* fields after $or are ANDed with every alternative */
    const char *after = "{\"$or\":[{\"a\":[1]},{\"b\":[2]}],\"c\":[3]}";
    CHECK(matches(after, "{\"a\":1,\"c\":3}"));
    CHECK(!matches(after, "{\"a\":1}"));
    /* nested levels and nested $or */
    const char *nested =
        "{\"detail\":{\"$or\":[{\"c\":[{\"numeric\":[\">\",0,\"<=\",5]}]},"
        "{\"d\":[{\"numeric\":[\"<\",10]}]},"
        "{\"$or\":[{\"e\":[\"x\"]},{\"f\":[\"y\"]}]}]}}";
    CHECK(matches(nested, "{\"detail\":{\"c\":3}}"));
    CHECK(matches(nested, "{\"detail\":{\"d\":3}}"));
    CHECK(matches(nested, "{\"detail\":{\"f\":\"y\"}}"));
    CHECK(!matches(nested, "{\"detail\":{\"c\":30}}"));
    CHECK(!matches(nested, "{\"c\":3}"));
    /* the exists variant from the docs */
    const char *ex = "{\"$or\":[{\"a\":[{\"exists\":false}]},{\"b\":[\"x\"]}]}";
    CHECK(matches(ex, "{\"c\":1}"));
    CHECK(matches(ex, "{\"a\":1,\"b\":\"x\"}"));
    CHECK(!matches(ex, "{\"a\":1,\"b\":\"y\"}"));
    /* $or of identical alternatives: matching once is enough */
    CHECK(matches("{\"$or\":[{\"a\":[1]},{\"a\":[1]}]}", "{\"a\":1}"));
    char err[MATCH_ERR_MAX];
    const char *two = "{\"$or\":[{\"a\":[1]},{\"$or\":[{\"b\":[1]},"
                      "{\"c\":[1]}]}],\"$or\":[{\"d\":[1]},{\"e\":[1]}]}";
    match_pattern *pp = match_compile(two, strlen(two), MATCH_EVENTBRIDGE,
                                      err, sizeof err);
    CHECK(pp != NULL);
    if (pp)
        CHECK_INT(match_pattern_branches(pp), 2);   /* last $or key wins */
    match_free(pp);
}

TEST(array_consistency)
{
    const char *p = "{\"r\":{\"a\":[1],\"b\":[2]}}";
    CHECK(matches(p, "{\"r\":[{\"a\":1,\"b\":2},{\"a\":3,\"b\":4}]}"));
    CHECK(!matches(p, "{\"r\":[{\"a\":1,\"b\":4},{\"a\":3,\"b\":2}]}"));
    CHECK(matches(p, "{\"r\":[{\"a\":3,\"b\":4},{\"a\":1,\"b\":2}]}"));
    /* different arrays are independent */
    CHECK(matches("{\"x\":{\"a\":[1]},\"y\":{\"b\":[2]}}",
                  "{\"x\":[{\"a\":0},{\"a\":1}],\"y\":[{\"b\":2}]}"));
    /* deeper: same outer element, inner arrays free */
    CHECK(matches("{\"r\":{\"a\":[1],\"c\":{\"d\":[5]}}}",
                  "{\"r\":[{\"a\":1,\"c\":[{\"d\":4},{\"d\":5}]}]}"));
    CHECK(!matches("{\"r\":{\"a\":[1],\"c\":{\"d\":[5]}}}",
                   "{\"r\":[{\"a\":1,\"c\":[{\"d\":4}]},{\"a\":2,\"c\":[{\"d\":5}]}]}"));
    /* a field outside the array goes with any element */
    CHECK(matches("{\"s\":[\"x\"],\"r\":{\"a\":[1],\"b\":[2]}}",
                  "{\"s\":\"x\",\"r\":[{\"a\":1,\"b\":2}]}"));
    /* three fields, the consistent element is the last */
    CHECK(matches("{\"r\":{\"a\":[1],\"b\":[2],\"c\":[3]}}",
                  "{\"r\":[{\"a\":1,\"b\":2,\"c\":0},{\"a\":1,\"b\":0,\"c\":3},"
                  "{\"a\":1,\"b\":2,\"c\":3}]}"));
    CHECK(!matches("{\"r\":{\"a\":[1],\"b\":[2],\"c\":[3]}}",
                   "{\"r\":[{\"a\":1,\"b\":2,\"c\":0},{\"a\":1,\"b\":0,\"c\":3}]}"));
}

TEST(non_object_events)
{
    CHECK(!matches("{\"a\":[1]}", "[{\"a\":1}]"));
    CHECK(!matches("{\"a\":[1]}", "\"a\""));
    CHECK(!matches("{\"a\":[1]}", "not json"));
    CHECK(!matches("{\"a\":[{\"exists\":false}]}", "42"));
    CHECK(!matches("{\"a\":[1]}", ""));
}

static void collect(void *ctx, const char *path, const char *value)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s=%s;", path, value);
}

TEST(doc_leaves)
{
    const char *ev = "{\"a\":{\"b\":[1,\"x\"]},\"c\":null,\"d\":{},\"e\":[],"
                     "\"f\":true,\"g.h\":2.5}";
    match_doc *d = match_doc_parse(ev, strlen(ev));
    char out[512] = "";
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_INT(match_doc_leaves(d, collect, out), 5);
    CHECK_STR(out, "a.b=1;a.b=\"x\";c=null;f=true;g.h=2.5;");
    match_doc_free(d);
    CHECK(match_doc_parse("[1]", 3) == NULL);
}

int main(void)
{
    RUN(exact_strings);
    RUN(types_never_cross);
    RUN(numbers_by_value);
    RUN(null_missing_empty);
    RUN(arrays_in_events);
    RUN(nested_and_dotted);
    RUN(duplicate_keys_last_wins);
    RUN(prefix_suffix);
    RUN(equals_ignore_case);
    RUN(wildcard);
    RUN(anything_but_values);
    RUN(anything_but_operators);
    RUN(numeric);
    RUN(exists);
    RUN(cidr_and_ip);
    RUN(or_operator);
    RUN(array_consistency);
    RUN(non_object_events);
    RUN(doc_leaves);
    return check_report();
}
