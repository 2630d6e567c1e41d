/*
 * test_transform.c - the EventBridge envelope, JSONPath, entry sizes and
 * target input rendering (Input, InputPath, InputTransformer).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "events/transform.h"

static json_t *sample_event(void)
{
    json_t *detail = json_loads("{\"s\":\"text\",\"n\":12,\"b\":true,\"nul\":null,"
                                "\"o\":{\"acc_id\":\"0a7\",\"sf_id\":\"baz\"},"
                                "\"arr\":[\"ACTIVE\",\"INACTIVE\"],\"q\":\"say \\\"hi\\\"\"}",
                                0, NULL);
    json_t *res = json_pack("[s]", "arn:aws:s3:::b");
    events_entry e = {"11111111-2222-3333-4444-555555555555", "app", "Kind", detail, res,
                      1767225600, "000000000000", "us-east-1"};
    json_t *ev = events_envelope(&e);
    json_decref(detail);
    json_decref(res);
    return ev;
}

/* Renders target (JSON text) against the sample event; returns the output
 * (caller frees) or NULL when not delivered. */
static char *render(const char *target_json)
{
    json_t *ev = sample_event();
    char *text = json_dumps(ev, JSON_COMPACT);
    json_t *t = json_loads(target_json, 0, NULL);
    events_context ctx = {"arn:aws:events:us-east-1:000000000000:rule/r", "r",
                          "2026-01-01T00:00:01Z"};
    char *out = NULL;
    int rc = events_render_input(t, ev, text, &ctx, &out);
    json_decref(t);
    json_decref(ev);
    free(text);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static void check_render(const char *target, const char *want, int line)
{
    char *got = render(target);
    bool same = (!got && !want) || (got && want && strcmp(got, want) == 0);
    if (!same) {
        fprintf(stderr, "  line %d: got %s, want %s\n", line, got ? got : "(not delivered)",
                want ? want : "(not delivered)");
        check_failures_in_test++;
    }
    free(got);
}
#define RENDER(t, w) check_render(t, w, __LINE__)

#define TR(paths, tmpl)                                                                     \
    "{\"InputTransformer\":{\"InputPathsMap\":" paths ",\"InputTemplate\":" tmpl "}}"
#define PATHS                                                                               \
    "{\"s\":\"$.detail.s\",\"n\":\"$.detail.n\",\"b\":\"$.detail.b\",\"nul\":\"$.detail.nul\"," \
    "\"o\":\"$.detail.o\",\"arr\":\"$.detail.arr\",\"m\":\"$.detail.missing\","             \
    "\"r0\":\"$.resources[0]\",\"dt\":\"$.detail-type\",\"q\":\"$.detail.q\"}"

TEST(envelope_order_and_time)
{
    json_t *ev = sample_event();
    char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR(text, "{\"version\":\"0\",\"id\":\"11111111-2222-3333-4444-555555555555\","
                    "\"detail-type\":\"Kind\",\"source\":\"app\",\"account\":\"000000000000\","
                    "\"time\":\"2026-01-01T00:00:00Z\",\"region\":\"us-east-1\","
                    "\"resources\":[\"arn:aws:s3:::b\"],\"detail\":{\"s\":\"text\",\"n\":12,"
                    "\"b\":true,\"nul\":null,\"o\":{\"acc_id\":\"0a7\",\"sf_id\":\"baz\"},"
                    "\"arr\":[\"ACTIVE\",\"INACTIVE\"],\"q\":\"say \\\"hi\\\"\"}}");
    free(text);
    json_decref(ev);
}

TEST(jsonpath_lookups)
{
    json_t *ev = sample_event();
    CHECK(events_jsonpath(ev, "$") == ev);
    CHECK_STR(json_string_value(events_jsonpath(ev, "$.detail.s")), "text");
    CHECK_STR(json_string_value(events_jsonpath(ev, "$.detail-type")), "Kind");
    CHECK_STR(json_string_value(events_jsonpath(ev, "$.resources[0]")), "arn:aws:s3:::b");
    CHECK_STR(json_string_value(events_jsonpath(ev, "$.detail.arr[1]")), "INACTIVE");
    CHECK_STR(json_string_value(events_jsonpath(ev, "$['detail']['o'].sf_id")), "baz");
    CHECK(events_jsonpath(ev, "$.detail.arr[2]") == NULL);
    CHECK(events_jsonpath(ev, "$.nope.x") == NULL);
    CHECK(events_jsonpath_valid("$.a.b"));
    CHECK(!events_jsonpath_valid("a.b"));
    CHECK(!events_jsonpath_valid("$..a"));
    CHECK(!events_jsonpath_valid("$.a["));
    json_decref(ev);
}

TEST(entry_size_as_aws_counts)
{
    json_t *e = json_loads("{\"Source\":\"ab\",\"DetailType\":\"cde\",\"Detail\":\"{}\","
                           "\"Resources\":[\"r1\",\"r22\"]}",
                           0, NULL);
    CHECK_INT(events_entry_size(e), 2 + 3 + 2 + 2 + 3);
    json_object_set_new(e, "Time", json_integer(1));
    CHECK_INT(events_entry_size(e), 14 + 2 + 3 + 2 + 2 + 3);
    json_decref(e);
}

TEST(input_and_input_path)
{
    RENDER("{\"Input\":\"{\\\"a\\\": 1}\"}", "{\"a\": 1}");
    RENDER("{\"InputPath\":\"$.detail.o\"}", "{\"acc_id\":\"0a7\",\"sf_id\":\"baz\"}");
    RENDER("{\"InputPath\":\"$.detail.s\"}", "\"text\"");
    RENDER("{\"InputPath\":\"$.detail.none\"}", NULL);
}

TEST(transformer_value_positions)
{
    RENDER(TR(PATHS, "\"{\\\"s\\\": <s>, \\\"n\\\": <n>, \\\"b\\\": <b>, \\\"z\\\": <nul>}\""),
           "{\"s\": \"text\", \"n\": 12, \"b\": true, \"z\": null}");
    RENDER(TR(PATHS, "\"{\\\"o\\\": <o>, \\\"a\\\": <arr>}\""),
           "{\"o\": {\"acc_id\":\"0a7\",\"sf_id\":\"baz\"}, \"a\": [\"ACTIVE\",\"INACTIVE\"]}");
    /* quoted whole string: no double quoting */
    RENDER(TR(PATHS, "\"{\\\"s\\\": \\\"<s>\\\", \\\"n\\\": \\\"<n>\\\"}\""),
           "{\"s\": \"text\", \"n\": \"12\"}");
    /* inside a longer string: raw text, containers unquoted */
    RENDER(TR(PATHS, "\"{\\\"m\\\": \\\"o=<o> a=<arr> b=<b>\\\"}\""),
           "{\"m\": \"o={acc_id:0a7,sf_id:baz} a=[ACTIVE,INACTIVE] b=true\"}");
    /* missing: empty string */
    RENDER(TR(PATHS, "\"{\\\"c\\\": <m>, \\\"t\\\": \\\"x<m>y\\\"}\""),
           "{\"c\": \"\", \"t\": \"xy\"}");
    /* quoted container makes invalid JSON: not delivered */
    RENDER(TR(PATHS, "\"{\\\"o\\\": \\\"<o>\\\"}\""), NULL);
    /* whole-template string literal */
    RENDER(TR(PATHS, "\"\\\"Event <dt> on <r0>\\\"\""), "\"Event Kind on arn:aws:s3:::b\"");
    /* a string with quotes inside a string is not escaped: invalid, dropped */
    RENDER(TR(PATHS, "\"{\\\"q\\\": \\\"<q>\\\"}\""), NULL);
    /* plain text template */
    RENDER(TR(PATHS, "\"state <s> now\""), "state text now");
}

TEST(transformer_reserved)
{
    RENDER(TR("{}", "\"{\\\"a\\\": <aws.events.rule-arn>, \\\"n\\\": <aws.events.rule-name>, "
                    "\\\"t\\\": <aws.events.event.ingestion-time>}\""),
           "{\"a\": \"arn:aws:events:us-east-1:000000000000:rule/r\", \"n\": \"r\", "
           "\"t\": \"2026-01-01T00:00:01Z\"}");
    char *out = render(TR("{}", "\"{\\\"e\\\": <aws.events.event.json>}\""));
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "e"), "source")), "app");
    json_decref(j);
    free(out);
    out = render(TR("{}", "\"{\\\"e\\\": <aws.events.event>}\""));
    j = out ? json_loads(out, 0, NULL) : NULL;
    CHECK(j != NULL);
    CHECK(json_object_get(json_object_get(j, "e"), "detail") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "e"), "detailType")), "Kind");
    json_decref(j);
    free(out);
}

TEST(transformer_validation)
{
    char err[300];
    json_t *tr = json_loads("{\"InputPathsMap\":{\"a\":\"$.detail\"},"
                            "\"InputTemplate\":\"{\\\"x\\\": <a>, \\\"y\\\": <b>}\"}",
                            0, NULL);
    CHECK_INT(events_transformer_validate(tr, "t1", err, sizeof err), -1);
    CHECK_STR(err, "InputTemplate for target t1 contains invalid placeholder b.");
    json_decref(tr);
    tr = json_loads("{\"InputPathsMap\":{\"detail-type\":\"$.detail-type\"},"
                    "\"InputTemplate\":\"<detail-type> <aws.events.rule-name>\"}",
                    0, NULL);
    CHECK_INT(events_transformer_validate(tr, "t1", err, sizeof err), 0);
    json_decref(tr);
    tr = json_loads("{\"InputPathsMap\":{\"aws.events.rule-arn\":\"$.x\"},"
                    "\"InputTemplate\":\"x\"}",
                    0, NULL);
    CHECK_INT(events_transformer_validate(tr, "t1", err, sizeof err), -1);
    json_decref(tr);
    tr = json_loads("{\"InputPathsMap\":{\"a\":\"detail\"},\"InputTemplate\":\"<a>\"}", 0, NULL);
    CHECK_INT(events_transformer_validate(tr, "t1", err, sizeof err), -1);
    json_decref(tr);
    /* placeholders as object keys, bare or quoted, are refused in objects */
    tr = json_loads("{\"InputPathsMap\":{\"a\":\"$.x\"},\"InputTemplate\":\"{<a>: 1}\"}", 0,
                    NULL);
    CHECK_INT(events_transformer_validate(tr, "t1", err, sizeof err), -1);
    json_decref(tr);
    tr = json_loads("{\"InputPathsMap\":{\"a\":\"$.x\"},"
                    "\"InputTemplate\":\"{\\\"<a>\\\" : 1}\"}",
                    0, NULL);
    CHECK_INT(events_transformer_validate(tr, "t1", err, sizeof err), -1);
    json_decref(tr);
    tr = json_loads("{\"InputPathsMap\":{\"a\":\"$.x\"},"
                    "\"InputTemplate\":\"{\\\"k\\\": \\\"<a>: x\\\", \\\"j\\\": <a>}\"}",
                    0, NULL);
    CHECK_INT(events_transformer_validate(tr, "t1", err, sizeof err), 0);
    json_decref(tr);
}

int main(void)
{
    RUN(envelope_order_and_time);
    RUN(jsonpath_lookups);
    RUN(entry_size_as_aws_counts);
    RUN(input_and_input_path);
    RUN(transformer_value_positions);
    RUN(transformer_reserved);
    RUN(transformer_validation);
    return check_report();
}
