/*
 * test_match_errors.c - pattern validation: every reason text the engine
 * reports, for EventBridge patterns (the SNS-only texts are in
 * test_match_sns.c).
 */
#include "check.h"
#include "match_helpers.h"

TEST(structure_errors)
{
    CHECK_STR(error_of("[1]"), "Filter is not an object");
    CHECK_STR(error_of("\"x\""), "Filter is not an object");
    CHECK_STR(error_of("{}"), "Empty objects are not allowed");
    CHECK_STR(error_of("{\"a\":{}}"), "Empty objects are not allowed");
    CHECK_STR(error_of("{\"a\":\"x\"}"), "\"a\" must be an object or an array");
    CHECK_STR(error_of("{\"a\":{\"b\":1}}"),
              "\"b\" must be an object or an array");
    CHECK_STR(error_of("{\"a\":null}"), "\"a\" must be an object or an array");
    CHECK_STR(error_of("{\"a\":[]}"), "Empty arrays are not allowed");
    CHECK_STR(error_of("{\"a\":[[1]]}"),
              "Match value must be String, number, true, false, or null");
    CHECK_STR(error_of("{\"a\":[{}]}"), "Match expression name not found");
    CHECK(strcmp(error_of("{\"a\":"), "(valid)") != 0);
    CHECK(strcmp(error_of(""), "(valid)") != 0);
    /* invalid JSON: the parser's (Jackson's) wording and location */
    CHECK_STR(error_of("this is valid json but not a dict"),
              "Unrecognized token 'this': was expecting (JSON String, "
              "Number, Array, Object or token 'null', 'true' or 'false')\n"
              " at [Source: (String)\"this is valid json but not a dict\"; "
              "line: 1, column: 5]");
    CHECK_STR(error_of("{'bad': 'quotation'}"),
              "Unexpected character (''' (code 39)): was expecting "
              "double-quote to start field name\n at [Source: (String)"
              "\"{'bad': 'quotation'}\"; line: 1, column: 2]");
    CHECK_STR(error_of("{\"not\": closed mark\""),
              "Unrecognized token 'closed': was expecting (JSON String, "
              "Number, Array, Object or token 'null', 'true' or 'false')\n"
              " at [Source: (String)\"{\"not\": closed mark\"\"; line: 1, "
              "column: 15]");
    CHECK_STR(error_of("{\"a\":[1,\"x\",null,true,false]}"), "(valid)");
}

TEST(operator_errors)
{
    CHECK_STR(error_of("{\"a\":[{\"NUMERIC\":[\">\",1]}]}"),
              "Unrecognized match type NUMERIC");
    CHECK_STR(error_of("{\"a\":[{\"EXISTS\":true}]}"),
              "Unrecognized match type EXISTS");
    CHECK_STR(error_of("{\"a\":[{\"regex\":\"x\"}]}"),
              "Unrecognized match type regex");
    CHECK_STR(error_of("{\"a\":[{\"prefix\":\"x\",\"suffix\":\"y\"}]}"),
              "Only one key allowed in match expression");
    CHECK_STR(error_of("{\"a\":[{\"prefix\":1}]}"),
              "prefix match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"suffix\":null}]}"),
              "suffix match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"equals-ignore-case\":5}]}"),
              "equals-ignore-case match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":[\"x\"]}]}"),
              "wildcard match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"exists\":\"true\"}]}"),
              "exists match pattern must be either true or false.");
    CHECK_STR(error_of("{\"a\":[{\"exists\":true,\"prefix\":\"x\"}]}"),
              "Only one key allowed in match expression");
    CHECK_STR(error_of("{\"a\":[{\"prefix\":{\"equals-ignore-case\":1}}]}"),
              "equals-ignore-case match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"prefix\":{\"exists\":true}}]}"),
              "Unsupported prefix pattern: exists");
    CHECK_STR(error_of("{\"a\":[{\"suffix\":{\"foo\":\"x\"}}]}"),
              "Unsupported suffix pattern: foo");
    CHECK_STR(error_of("{\"a\":[{\"prefix\":{}}]}"),
              "Prefix expression name not found");
    CHECK_STR(error_of("{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"a\","
                       "\"x\":1}}]}"),
              "Only one key allowed in match expression");
}

TEST(numeric_errors)
{
    CHECK_STR(error_of("{\"a\":[{\"numeric\":5}]}"),
              "Value of numeric must be an array.");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[]}]}"),
              "Invalid member in numeric match: ]");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[5]}]}"),
              "Invalid member in numeric match: 5");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\"!=\",5]}]}"),
              "Unrecognized numeric range operator: !=");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\"=\",\"5\"]}]}"),
              "Value of equals must be numeric");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">\",\"5\"]}]}"),
              "Value of > must be numeric");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\"<=\"]}]}"),
              "Value of <= must be numeric");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\"=\",5,6]}]}"),
              "Too many elements in numeric expression");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\"<\",5,\">\",1]}]}"),
              "Too many elements in numeric expression");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">\",0,\">\",5]}]}"),
              "Bad numeric range operator: >");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">\",0,5]}]}"),
              "Bad value in numeric range: 5");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">\",0,\"<\",\"x\"]}]}"),
              "Value of < must be numeric");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">\",0,\"<\",5,6]}]}"),
              "Too many terms in numeric range expression");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">=\",5,\"<=\",5]}]}"),
              "Bottom must be less than top");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">\",6,\"<\",5]}]}"),
              "Bottom must be less than top");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">\",1],\"x\":2}]}"),
              "Too many elements in numeric expression");
    CHECK_STR(error_of("{\"a\":[{\"numeric\":[\">=\",1,\"<\",2]}]}"),
              "(valid)");
}

TEST(anything_but_errors)
{
    const char *mixed = "Inside anything but list, either all values are "
                        "number or string, mixed type is not supported";
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":[\"x\",1]}]}"), mixed);
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":[]}]}"), mixed);
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":[null]}]}"),
              "Inside anything but list, start|null|boolean is not "
              "supported.");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":[true]}]}"),
              "Inside anything but list, start|null|boolean is not "
              "supported.");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":null}]}"),
              "Value of anything-but must be an array or single "
              "string/number value.");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":true}]}"),
              "Value of anything-but must be an array or single "
              "string/number value.");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"prefix\":\"\"}}]}"),
              "Null prefix/suffix not allowed");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"suffix\":\"\"}}]}"),
              "Null prefix/suffix not allowed");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"prefix\":[\"a\",\"\"]}}]}"),
              "Null prefix/suffix not allowed");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"prefix\":5}}]}"),
              "prefix/suffix match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"prefix\":"
                       "{\"equals-ignore-case\":\"x\"}}}]}"),
              "Value of anything-but must be an array or single "
              "string/number value.");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"exists\":true}}]}"),
              "Unsupported anything-but pattern: exists");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"numeric\":[\">\",1]}}]}"),
              "Unsupported anything-but pattern: numeric");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{}}]}"),
              "Anything-But expression name not found");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"equals-ignore-case\":"
                       "[1]}}]}"),
              "Inside anything-but/equals-ignore-case list, "
              "number|start|null|boolean is not supported.");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"wildcard\":5}}]}"),
              "wildcard match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"wildcard\":\"a**\"}}]}"),
              "Consecutive wildcard characters at pos 2");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":\"x\",\"prefix\":\"y\"}]}"),
              "Too many elements in numeric expression");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"prefix\":\"a\","
                       "\"suffix\":\"b\"}}]}"),
              "Too many elements in numeric expression");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"wildcard\":\"\"}}]}"),
              "(valid)");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"suffix\":\"x\"}}]}"),
              "(valid)");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":[1,2.5]}]}"), "(valid)");
}

TEST(wildcard_errors)
{
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":\"a**b\"}]}"),
              "Consecutive wildcard characters at pos 2");
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":\"**\"}]}"),
              "Consecutive wildcard characters at pos 1");
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":\"a\\\\b\"}]}"),
              "Invalid escape character at pos 2");
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":\"ab\\\\\"}]}"),
              "Invalid escape character at pos 3");
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":\"a\\\\**\"}]}"), "(valid)");
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":\"*:*:*:*:*:event-bus/*\"}]}"),
              "Rule is too complex - try using fewer wildcard characters or "
              "fewer repeating character sequences after a wildcard "
              "character");
    CHECK_STR(error_of("{\"a\":[{\"anything-but\":{\"wildcard\":"
                       "\"*:*:*:*:*:event-bus/*\"}}]}"),
              "Rule is too complex - try using fewer wildcard characters or "
              "fewer repeating character sequences after a wildcard "
              "character");
    CHECK_STR(error_of("{\"a\":[{\"wildcard\":\"arn:aws:ec2:*:*:instance/*\"}]}"),
              "(valid)");
}

TEST(cidr_errors)
{
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.0\"}]}"),
              "Malformed CIDR, one '/' required");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.0/8/8\"}]}"),
              "Malformed CIDR, one '/' required");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.0/\"}]}"),
              "Malformed CIDR, one '/' required");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.0/x\"}]}"),
              "Malformed CIDR, mask bits must be an integer");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.0/-1\"}]}"),
              "Malformed CIDR, mask bits must not be negative");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.256/24\"}]}"),
              "Nonstandard IP address: 10.0.0.256");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"host/24\"}]}"),
              "Nonstandard IP address: host");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.0/33\"}]}"),
              "IPv4 mask bits must be < 32");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"::/129\"}]}"),
              "IPv6 mask bits must be < 128");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":24}]}"),
              "prefix match pattern must be a string");
    CHECK_STR(error_of("{\"a\":[{\"cidr\":\"10.0.0.0/8\",\"x\":1}]}"),
              "Only one key allowed in match expression");
}

TEST(or_errors)
{
    CHECK_STR(error_of("{\"$or\":{\"a\":[1]}}"),
              "It must be an Array followed with $or.");
    CHECK_STR(error_of("{\"$or\":[{\"a\":[1]}]}"),
              "There must have at least 2 Objects in $or relationship.");
    CHECK_STR(error_of("{\"$or\":[]}"),
              "There must have at least 2 Objects in $or relationship.");
    CHECK_STR(error_of("{\"$or\":[{\"a\":[1]},[1]]}"),
              "Only JSON object is allowed in array of $or relationship.");
    CHECK_STR(error_of("{\"$or\":[{\"a\":[1]},{\"numeric\":[1]}]}"),
              "numeric is Ruler reserved fieldName which cannot be used "
              "inside $or.");
    CHECK_STR(error_of("{\"$or\":[{\"a\":[1]},{\"b\":{\"prefix\":[\"x\"]}}]}"),
              "prefix is Ruler reserved fieldName which cannot be used "
              "inside $or.");
    CHECK_STR(error_of("{\"$or\":[{\"a\":[1]},{\"date-after\":[1]}]}"),
              "date-after is Ruler reserved fieldName which cannot be used "
              "inside $or.");
    CHECK_STR(error_of("{\"$or\":[{\"a\":[1]},{}]}"),
              "Empty objects are not allowed");
    /* outside $or a field may be named like an operator */
    CHECK_STR(error_of("{\"prefix\":[\"x\"]}"), "(valid)");

    /* 10 x 10 x 10 = 1000 combinations are fine, 1001+ are not */
    char buf[4096];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{");
    for (int k = 0; k < 3; k++) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"l%d\":{\"$or\":[",
                              k ? "," : "", k);
        for (int i = 0; i < 10; i++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"f%d\":[%d]}",
                                  i ? "," : "", i, i);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "]}");
    }
    snprintf(buf + n, sizeof buf - n, "}");
    CHECK_STR(error_of(buf), "(valid)");
    snprintf(buf + n - 1, sizeof buf - n + 1,
             "},\"z\":{\"$or\":[{\"a\":[1]},{\"b\":[1]}]}}");
    CHECK(strstr(error_of(buf), "too complex") != NULL);
}

TEST(out_parameter)
{
    char small[8];
    match_pattern *p = match_compile("{}", 2, MATCH_EVENTBRIDGE, small,
                                     sizeof small);
    CHECK(p == NULL);
    CHECK_STR(small, "Empty o");            /* truncated, NUL-terminated */
    p = match_compile("{}", 2, MATCH_EVENTBRIDGE, NULL, 0);
    CHECK(p == NULL);
    p = match_compile("{\"a\":[1]}x", 9, MATCH_EVENTBRIDGE, NULL, 0);
    CHECK(p != NULL);                        /* only len bytes are read */
    match_free(p);
    match_free(NULL);
}

int main(void)
{
    RUN(structure_errors);
    RUN(operator_errors);
    RUN(numeric_errors);
    RUN(anything_but_errors);
    RUN(wildcard_errors);
    RUN(cidr_errors);
    RUN(or_errors);
    RUN(out_parameter);
    return check_report();
}
