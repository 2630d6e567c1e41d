/*
 * test_match_sns.c - SNS subscription filter policies: the
 * MessageAttributes scope (attribute types, exists semantics), the
 * MessageBody scope, and the SNS-only validation rules and limits.
 */
#include "check.h"
#include "match_helpers.h"

#define ATTR(n, t, v) { n, sizeof(n) - 1, t, sizeof(t) - 1, v, sizeof(v) - 1 }

static const match_attr ATTRS[] = {
    ATTR("store", "String", "example_corp"),
    ATTR("event", "String", "order_placed"),
    ATTR("price_usd", "Number", "210.75"),
    ATTR("interests", "String.Array", "[\"soccer\", \"rugby\", 7, null]"),
    ATTR("blob", "Binary", "AAEC"),
    ATTR("custom", "String.mytype", "hello"),
    ATTR("ip", "String", "10.0.0.7"),
};
#define NATTRS (sizeof ATTRS / sizeof ATTRS[0])

static bool attr_match_n(const char *policy, const match_attr *a, size_t n)
{
    match_pattern *p = match_compile(policy, strlen(policy),
                                     MATCH_SNS_ATTRIBUTES, helper_err,
                                     sizeof helper_err);
    if (!p) {
        fprintf(stderr, "  policy %s did not compile: %s\n", policy,
                helper_err);
        return false;
    }
    bool hit = match_attributes(p, a, n);
    match_free(p);
    return hit;
}

static bool attr_match(const char *policy)
{
    return attr_match_n(policy, ATTRS, NATTRS);
}

static bool body_match(const char *policy, const char *body)
{
    return matches_d(MATCH_SNS_BODY, policy, body);
}

static const char *sns_error(const char *policy)
{
    return error_d(MATCH_SNS_ATTRIBUTES, policy);
}

TEST(attribute_strings)
{
    CHECK(attr_match("{\"store\":[\"example_corp\"]}"));
    CHECK(!attr_match("{\"store\":[\"other\"]}"));
    CHECK(attr_match("{\"store\":[\"x\",\"example_corp\"]}"));
    CHECK(attr_match("{\"store\":[{\"prefix\":\"example\"}]}"));
    CHECK(attr_match("{\"store\":[{\"suffix\":\"_corp\"}]}"));
    CHECK(attr_match("{\"store\":[{\"equals-ignore-case\":\"EXAMPLE_CORP\"}]}"));
    CHECK(attr_match("{\"store\":[\"example_corp\"],\"event\":[\"order_placed\"]}"));
    CHECK(!attr_match("{\"store\":[\"example_corp\"],\"event\":[\"x\"]}"));
    CHECK(attr_match("{\"custom\":[\"hello\"]}"));
    CHECK(attr_match("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}"));
    CHECK(!attr_match("{\"ip\":[{\"cidr\":\"10.0.1.0/24\"}]}"));
    /* a String attribute is never a number */
    CHECK(!attr_match("{\"store\":[{\"numeric\":[\">\",0]}]}"));
}

TEST(attribute_numbers)
{
    CHECK(attr_match("{\"price_usd\":[{\"numeric\":[\">\",100]}]}"));
    CHECK(attr_match("{\"price_usd\":[{\"numeric\":[\">=\",210.75,\"<\",300]}]}"));
    CHECK(!attr_match("{\"price_usd\":[{\"numeric\":[\"<\",100]}]}"));
    CHECK(attr_match("{\"price_usd\":[210.75]}"));
    CHECK(!attr_match("{\"price_usd\":[\"210.75\"]}"));
    CHECK(attr_match("{\"price_usd\":[{\"anything-but\":[100,200]}]}"));
    CHECK(!attr_match("{\"price_usd\":[{\"anything-but\":210.75}]}"));
    match_attr n2[] = { ATTR("n", "Number", "1.0e2") };
    CHECK(attr_match_n("{\"n\":[100]}", n2, 1));
    CHECK(attr_match_n("{\"n\":[{\"numeric\":[\"=\",100]}]}", n2, 1));
}

TEST(attribute_arrays)
{
    CHECK(attr_match("{\"interests\":[\"rugby\"]}"));
    CHECK(attr_match("{\"interests\":[\"tennis\",\"soccer\"]}"));
    CHECK(!attr_match("{\"interests\":[\"tennis\"]}"));
    CHECK(attr_match("{\"interests\":[7]}"));
    CHECK(attr_match("{\"interests\":[{\"numeric\":[\">\",5]}]}"));
    CHECK(attr_match("{\"interests\":[null]}"));
    CHECK(attr_match("{\"interests\":[{\"prefix\":\"rug\"}]}"));
    /* an element that is not excluded is enough */
    CHECK(attr_match("{\"interests\":[{\"anything-but\":\"soccer\"}]}"));
    /* the array's text is not itself a value */
    CHECK(!attr_match("{\"interests\":[\"[\\\"soccer\\\", \\\"rugby\\\", 7, null]\"]}"));
    match_attr empty[] = { ATTR("tags", "String.Array", "[]") };
    CHECK(!attr_match_n("{\"tags\":[{\"exists\":true}]}", empty, 1));
    match_attr bad[] = { ATTR("tags", "String.Array", "not json") };
    CHECK(attr_match_n("{\"tags\":[\"not json\"]}", bad, 1));
}

TEST(attribute_binary_and_exists)
{
    /* Binary attributes never match a value */
    CHECK(!attr_match("{\"blob\":[\"AAEC\"]}"));
    CHECK(!attr_match("{\"blob\":[{\"exists\":true}]}"));
    CHECK(attr_match("{\"blob\":[{\"exists\":false}]}"));
    CHECK(attr_match("{\"store\":[{\"exists\":true}]}"));
    CHECK(!attr_match("{\"missing\":[{\"exists\":true}]}"));
    CHECK(attr_match("{\"missing\":[{\"exists\":false}]}"));
    CHECK(!attr_match("{\"store\":[{\"exists\":false}]}"));
    /* exists:false needs at least one attribute */
    CHECK(!attr_match_n("{\"missing\":[{\"exists\":false}]}", NULL, 0));
    CHECK(!attr_match_n("{\"store\":[\"example_corp\"]}", NULL, 0));
    /* a missing attribute matches neither null nor anything-but */
    CHECK(!attr_match("{\"missing\":[null]}"));
    CHECK(!attr_match("{\"missing\":[{\"anything-but\":\"x\"}]}"));
    CHECK(attr_match("{\"store\":[{\"anything-but\":{\"prefix\":\"other\"}}]}"));
    CHECK(!attr_match("{\"store\":[{\"anything-but\":{\"prefix\":\"exa\"}}]}"));
    /* $or across attributes */
    CHECK(attr_match("{\"$or\":[{\"store\":[\"no\"]},{\"event\":[\"order_placed\"]}]}"));
    CHECK(!attr_match("{\"$or\":[{\"store\":[\"no\"]},{\"event\":[\"no\"]}]}"));
}

TEST(body_scope)
{
    const char *body = "{\"store\":\"example_corp\",\"price\":210.75,"
                       "\"tags\":[\"a\",\"b\"],\"o\":{\"k\":null},"
                       "\"lines\":[{\"sku\":\"x\",\"qty\":1},"
                       "{\"sku\":\"y\",\"qty\":2}]}";
    CHECK(body_match("{\"store\":[\"example_corp\"]}", body));
    CHECK(body_match("{\"price\":[{\"numeric\":[\">\",200]}]}", body));
    CHECK(body_match("{\"tags\":[\"b\"]}", body));
    CHECK(body_match("{\"o\":{\"k\":[null]}}", body));
    CHECK(body_match("{\"o.k\":[null]}", body));
    CHECK(body_match("{\"lines\":{\"sku\":[\"y\"],\"qty\":[2]}}", body));
    CHECK(!body_match("{\"lines\":{\"sku\":[\"y\"],\"qty\":[1]}}", body));
    CHECK(!body_match("{\"store\":[\"other\"]}", body));
    /* SNS: exists:true wants a non-null, non-empty value */
    CHECK(!body_match("{\"o\":{\"k\":[{\"exists\":true}]}}", body));
    CHECK(!body_match("{\"e\":[{\"exists\":true}]}", "{\"e\":\"\"}"));
    CHECK(body_match("{\"e\":[{\"exists\":true}]}", "{\"e\":0}"));
    CHECK(body_match("{\"e\":[{\"exists\":true}]}", "{\"e\":[null,\"x\"]}"));
    /* EventBridge: any leaf, null and "" included */
    CHECK(matches("{\"e\":[{\"exists\":true}]}", "{\"e\":\"\"}"));
    CHECK(body_match("{\"store\":[{\"exists\":true}]}", body));
    CHECK(body_match("{\"nope\":[{\"exists\":false}]}", body));
    /* the message must be a JSON object */
    CHECK(!body_match("{\"a\":[{\"exists\":false}]}", "plain text"));
    CHECK(!body_match("{\"a\":[\"x\"]}", "\"x\""));
    CHECK(!body_match("{\"a\":[\"x\"]}", "[{\"a\":\"x\"}]"));
    /* attribute documents and body documents do not mix */
    match_pattern *p = match_compile("{\"a\":[\"x\"]}", 11,
                                     MATCH_SNS_ATTRIBUTES, NULL, 0);
    CHECK(p != NULL);
    CHECK(!match_event(p, "{\"a\":\"x\"}", 9));
    match_free(p);
    p = match_compile("{\"a\":[\"x\"]}", 11, MATCH_SNS_BODY, NULL, 0);
    match_attr a[] = { ATTR("a", "String", "x") };
    CHECK(!match_attributes(p, a, 1));
    match_free(p);
}

TEST(sns_validation)
{
    CHECK_STR(sns_error("{\"a\":{\"b\":[\"x\"]}}"),
              "Filter policy scope MessageAttributes does not support "
              "nested filter policy");
    CHECK_STR(error_d(MATCH_SNS_BODY, "{\"a\":{\"b\":[\"x\"]}}"), "(valid)");
    CHECK_STR(sns_error("{\"a\":[{\"anything-but\":{\"suffix\":\"x\"}}]}"),
              "Unsupported anything-but pattern: suffix");
    CHECK_STR(error_d(MATCH_SNS_BODY,
                      "{\"a\":[{\"anything-but\":{\"suffix\":\"x\"}}]}"),
              "Unsupported anything-but pattern: suffix");
    CHECK_STR(sns_error("{\"a\":[{\"anything-but\":{\"prefix\":\"x\"}}]}"),
              "(valid)");
    CHECK_STR(sns_error("{\"a\":[{\"wildcard\":\"x*\"}]}"),
              "Unrecognized match type wildcard");
    CHECK_STR(sns_error("{\"a\":[{\"anything-but\":{\"wildcard\":\"x*\"}}]}"),
              "Unsupported anything-but pattern: wildcard");
    CHECK_STR(sns_error("{\"a\":\"x\"}"), "\"a\" must be an object or an array");
    CHECK_STR(sns_error("{\"a\":[]}"), "Empty arrays are not allowed");
    CHECK_STR(sns_error("{\"a\":[{\"numeric\":[\">\",\"x\"]}]}"),
              "Value of > must be numeric");

    /* at most 5 keys */
    CHECK_STR(sns_error("{\"a\":[1],\"b\":[1],\"c\":[1],\"d\":[1],\"e\":[1]}"),
              "(valid)");
    CHECK_STR(sns_error("{\"a\":[1],\"b\":[1],\"c\":[1],\"d\":[1],\"e\":[1],"
                        "\"f\":[1]}"),
              "Filter policy can not have more than 5 keys");
    /* nested policies: only parent (top-level) keys count */
    CHECK_STR(error_d(MATCH_SNS_BODY,
                      "{\"a\":{\"b\":[1],\"c\":[1],\"d\":[1]},\"e\":[1],"
                      "\"f\":[1],\"g\":[1]}"),
              "(valid)");
    CHECK_STR(error_d(MATCH_SNS_BODY,
                      "{\"a\":{\"b\":[1]},\"c\":[1],\"d\":[1],\"e\":[1],"
                      "\"f\":[1],\"g\":{\"h\":[1]}}"),
              "Filter policy can not have more than 5 keys");
    /* keys inside $or branches count too */
    CHECK_STR(sns_error("{\"a\":[1],\"$or\":[{\"b\":[1],\"c\":[1]},"
                        "{\"d\":[1],\"e\":[1]}]}"), "(valid)");
    CHECK_STR(sns_error("{\"a\":[1],\"$or\":[{\"b\":[1],\"c\":[1]},"
                        "{\"d\":[1],\"f\":[1],\"g\":[1]}]}"),
              "Filter policy can not have more than 5 keys");
    /* the common syntax errors come before the nesting error */
    CHECK_STR(sns_error("{\"key\":{\"suffix\":\"value\"}}"),
              "\"suffix\" must be an object or an array");
    CHECK_STR(sns_error("{\"key\":{\"a\":[]}}"),
              "Empty arrays are not allowed");
    CHECK_STR(sns_error("{\"$or\":[{\"a\":[1]},{\"b\":{\"c\":[1]}}]}"),
              "Filter policy scope MessageAttributes does not support "
              "nested filter policy");
    /* more texts shared with EventBridge */
    CHECK_STR(sns_error("{\"key\":[[\"value\"]]}"),
              "Match value must be String, number, true, false, or null");
    CHECK_STR(sns_error("{\"key\":[{\"numeric\":[1,\"<=\"]}]}"),
              "Invalid member in numeric match: 1");
    CHECK_STR(sns_error("{\"key\":[{\"numeric\":[\"<\",100,\">\",10]}]}"),
              "Too many elements in numeric expression");
    CHECK_STR(sns_error("{\"key\":[{\"anything-but\":{\"wrong\":null}}]}"),
              "Unsupported anything-but pattern: wrong");
    CHECK_STR(sns_error("{\"key\":[{\"anything-but\":{\"exists\":false}}]}"),
              "Unsupported anything-but pattern: exists");
    /* EventBridge has no such limit */
    CHECK_STR(error_of("{\"a\":[1],\"b\":[1],\"c\":[1],\"d\":[1],\"e\":[1],"
                       "\"f\":[1]}"),
              "(valid)");
}

TEST(sns_complexity)
{
    /* 5 x 5 x 6 = 150 combinations: accepted; 5 x 5 x 7 = 175: rejected */
    const char *ok = "{\"a\":[1,2,3,4,5],\"b\":[1,2,3,4,5],"
                     "\"c\":[1,2,3,4,5,6]}";
    const char *big = "{\"a\":[1,2,3,4,5],\"b\":[1,2,3,4,5],"
                      "\"c\":[1,2,3,4,5,6,7]}";
    CHECK_STR(sns_error(ok), "(valid)");
    CHECK_STR(sns_error(big), "Filter policy is too complex");
    /* $or alternatives are expanded and summed: 100 + 50 = 150 */
    const char *or_ok =
        "{\"k\":[1,2,3,4,5,6,7,8,9,10],\"$or\":["
        "{\"a\":[1,2,3,4,5,6,7,8,9,10]},{\"b\":[1,2,3,4,5]}]}";
    const char *or_big =
        "{\"k\":[1,2,3,4,5,6,7,8,9,10],\"$or\":["
        "{\"a\":[1,2,3,4,5,6,7,8,9,10]},{\"b\":[1,2,3,4,5,6]}]}";
    CHECK_STR(sns_error(or_ok), "(valid)");
    CHECK_STR(sns_error(or_big), "Filter policy is too complex");
    CHECK_STR(error_of(big), "(valid)");

    /* nested $or: 3x6 + 3x4x4 + 3x4x7 = 150 accepted, 4x6 + 4x4x4 x 2 =
     * 152 rejected */
    const char *deep_ok =
        "{\"s\":[1,2,3],\"$or\":[{\"m\":[1,2,3,4,5,6]},"
        "{\"t\":[1,2,3,4],\"$or\":[{\"i\":[1,2,3,4]},"
        "{\"j\":[1,2,3,4,5,6,7]}]}]}";
    const char *deep_big =
        "{\"s\":[1,2,3,4],\"$or\":[{\"m\":[1,2,3,4,5,6]},"
        "{\"t\":[1,2,3,4],\"$or\":[{\"i\":[1,2,3,4]},"
        "{\"j\":[1,2,3,4]}]}]}";
    CHECK_STR(sns_error(deep_ok), "(valid)");
    CHECK_STR(sns_error(deep_big), "Filter policy is too complex");

    /* MessageBody: each field weighs (nesting depth x values):
     * (3x4) x (2x3) x (1x3) = 216 */
    CHECK_STR(error_d(MATCH_SNS_BODY,
                      "{\"a\":{\"b\":{\"c\":[1,2,3,4]}},\"d\":{\"e\":[1,2,3]},"
                      "\"f\":[1,2,3]}"),
              "Filter policy is too complex");
    /* (3x4) x (2x3) = 72 */
    CHECK_STR(error_d(MATCH_SNS_BODY,
                      "{\"a\":{\"b\":{\"c\":[1,2,3,4]}},\"d\":{\"e\":[1,2,3]}}"),
              "(valid)");
    /* 3x(2x2)x(2x1) + 3x4x(2x3) + 2x4x2 + 2x4x6 = 160 */
    CHECK_STR(error_d(MATCH_SNS_BODY,
                      "{\"$or\":[{\"m\":[1,2,3]},{\"n\":[1,2]}],"
                      "\"d\":{\"s\":[1,2],\"$or\":[{\"o\":[1]},"
                      "{\"t\":[1,2,3]}]}}"),
              "Filter policy is too complex");
}

int main(void)
{
    RUN(attribute_strings);
    RUN(attribute_numbers);
    RUN(attribute_arrays);
    RUN(attribute_binary_and_exists);
    RUN(body_scope);
    RUN(sns_validation);
    RUN(sns_complexity);
    return check_report();
}
