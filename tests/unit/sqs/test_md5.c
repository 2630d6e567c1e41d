/* Unit tests: SQS MD5 digests, message attribute validation, receipt
 * handles, the XML character rule. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/codec.h"
#include "sqs/sqs.h"

static json_t *vectors;

TEST(md5_vectors_from_reference)
{
    size_t i;
    json_t *v;

    CHECK(json_array_size(json_object_get(vectors, "vectors")) >= 7);
    json_array_foreach(json_object_get(vectors, "vectors"), i, v) {
        char md5[33];
        sqs_message_attrs_md5(json_object_get(v, "attributes"), md5);
        CHECK_STR(md5, json_string_value(json_object_get(v, "md5")));
    }
}

TEST(md5_aws_recorded_digests)
{
    char md5[33];
    json_t *a = json_pack("{s:{s:s,s:s}}", "MyAttribute", "DataType", "String", "StringValue",
                          "foobar");
    sqs_message_attrs_md5(a, md5);
    CHECK_STR(md5, "adb59cd4678ea5a855436b949cd07ab6");
    json_decref(a);

    a = json_pack("{s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:s}}", "General", "DataType", "String",
                  "StringValue", "Kenobi", "Hello", "DataType", "String", "StringValue", "There",
                  "Help.Me", "DataType", "String", "StringValue", "Me");
    sqs_message_attrs_md5(a, md5);
    CHECK_STR(md5, "4c360f3fdafd970e05fae2f149d997f5");
    json_object_del(a, "Help.Me");
    sqs_message_attrs_md5(a, md5);
    CHECK_STR(md5, "fca026605781cb4126a1e9044df24232");
    json_decref(a);

    sqs_md5_hex("message-1", 9, md5);
    CHECK_STR(md5, "3d6b824fd8c1520e9a047d21fee6fb1f");
}

static api_call *new_call(wire_protocol p)
{
    api_call *c = calloc(1, sizeof *c);
    c->protocol = p;
    return c;
}

static void free_call(api_call *c)
{
    free(c->error_message);
    free(c);
}

TEST(attribute_validation)
{
    api_call *c = new_call(WIRE_JSON10);
    json_t *a = json_pack("{s:{s:s,s:s}}", "ok", "DataType", "String", "StringValue", "v");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), 2 + 6 + 1);
    json_decref(a);

    /* empty value */
    a = json_pack("{s:{s:s,s:s}}", "x", "DataType", "String", "StringValue", "");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    CHECK(c->error == AWS_ERR_INVALID_PARAMETER_VALUE);
    CHECK(strstr(c->error_message, "must contain a non-empty value of type 'String'") != NULL);
    json_decref(a);

    /* reserved prefixes, any case */
    a = json_pack("{s:{s:s,s:s}}", "aws.x", "DataType", "String", "StringValue", "v");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    json_decref(a);
    a = json_pack("{s:{s:s,s:s}}", "Amazon.x", "DataType", "String", "StringValue", "v");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    json_decref(a);

    /* periods */
    a = json_pack("{s:{s:s,s:s}}", "a..b", "DataType", "String", "StringValue", "v");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    json_decref(a);
    a = json_pack("{s:{s:s,s:s}}", ".a", "DataType", "String", "StringValue", "v");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    json_decref(a);

    /* bad type, custom type suffix, bad number */
    a = json_pack("{s:{s:s,s:s}}", "a", "DataType", "Str", "StringValue", "v");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    json_decref(a);
    a = json_pack("{s:{s:s,s:s}}", "a", "DataType", "Number.int", "StringValue", "12");
    CHECK(sqs_message_attrs_validate(c, a, false) > 0);
    json_decref(a);
    a = json_pack("{s:{s:s,s:s}}", "a", "DataType", "Number", "StringValue", "twelve");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    json_decref(a);

    /* eleven attributes */
    a = json_object();
    for (int i = 0; i < 11; i++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", i);
        json_object_set_new(a, name, json_pack("{s:s,s:s}", "DataType", "String",
                                               "StringValue", "v"));
    }
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    CHECK(strstr(c->error_message, "exceeds the allowed maximum [10]") != NULL);
    json_decref(a);

    /* binary: size counts decoded bytes */
    a = json_pack("{s:{s:s,s:s}}", "b", "DataType", "Binary", "BinaryValue", "AAEC");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), 1 + 6 + 3);
    json_decref(a);
    a = json_pack("{s:{s:s,s:s}}", "b", "DataType", "Binary", "BinaryValue", "@@@");
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    json_decref(a);

    /* system attributes: only AWSTraceHeader */
    a = json_pack("{s:{s:s,s:s}}", "AWSTraceHeader", "DataType", "String", "StringValue",
                  "Root=1-5759e988-bd862e3fe1be46a994272793");
    CHECK(sqs_message_attrs_validate(c, a, true) > 0);
    json_decref(a);
    a = json_pack("{s:{s:s,s:s}}", "Other", "DataType", "String", "StringValue", "v");
    CHECK_INT(sqs_message_attrs_validate(c, a, true), -1);
    json_decref(a);
    free_call(c);
}

TEST(json_type_errors)
{
    api_call *c = new_call(WIRE_JSON10);
    json_t *a = json_pack("{s:{s:s,s:i}}", "n", "DataType", "Number", "StringValue", 5);
    CHECK_INT(sqs_message_attrs_validate(c, a, false), -1);
    CHECK(c->error == AWS_ERR_SERIALIZATION);
    json_decref(a);
    free_call(c);
}

TEST(xml_character_rule)
{
    CHECK_INT(sqs_body_invalid_char("plain text\t\r\n", 13), -1);
    CHECK_INT(sqs_body_invalid_char("a\x01" "b", 3), 1);
    CHECK_INT(sqs_body_invalid_char("\xef\xbf\xbe", 3), 0xfffe);
    CHECK_INT(sqs_body_invalid_char("\xf0\x9f\x98\x80", 4), -1); /* emoji is fine */
    CHECK_INT(sqs_body_invalid_char("\x00", 1), 0);
}

TEST(text_sanitize)
{
    size_t n;
    char *s = sqs_text_sanitize("ok\x01x\xef\xbf\xbey\xffz", 10, &n);
    CHECK_STR(s, "ok\xef\xbf\xbdx\xef\xbf\xbdy\xef\xbf\xbdz");
    CHECK_INT(sqs_body_invalid_char(s, n), -1);
    free(s);
    s = sqs_text_sanitize("plain", 5, &n);
    CHECK_STR(s, "plain");
    free(s);
}

TEST(receipt_handles)
{
    sqs_queue q = {.id = 42};
    sqs_message m = {.seq = 123456789, .queue = &q, .receipt_nonce = 0xdeadbeef};
    char text[128];
    uint64_t qid, seq;
    uint32_t nonce;

    sqs_receipt_encode(&m, text, sizeof text);
    CHECK_INT(sqs_receipt_decode(text, &qid, &seq, &nonce), 0);
    CHECK_INT(qid, 42);
    CHECK_INT(seq, 123456789);
    CHECK_INT(nonce, 0xdeadbeef);
    CHECK_INT(sqs_receipt_decode("garbage", &qid, &seq, &nonce), -1);
    CHECK_INT(sqs_receipt_decode("", &qid, &seq, &nonce), -1);
    text[5] = text[5] == 'A' ? 'B' : 'A'; /* still decodes, but to other ids */
    text[25] = text[25] == 'A' ? 'B' : 'A'; /* breaks the tag */
    CHECK_INT(sqs_receipt_decode(text, &qid, &seq, &nonce), -1);
}

int main(void)
{
    json_error_t err;
    vectors = json_load_file("tests/unit/sqs/md5-vectors.json", 0, &err);
    if (!vectors) {
        fprintf(stderr, "cannot read md5-vectors.json: %s\n", err.text);
        return 1;
    }
    RUN(md5_vectors_from_reference);
    RUN(md5_aws_recorded_digests);
    RUN(attribute_validation);
    RUN(json_type_errors);
    RUN(xml_character_rule);
    RUN(receipt_handles);
    RUN(text_sanitize);
    json_decref(vectors);
    return check_report();
}
