/* Unit tests: form decoding, Query-to-JSON conversion, XML rendering,
 * SigV4 credential scopes. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/codec.h"
#include "wire/form.h"
#include "wire/query.h"
#include "wire/sigv4.h"

static const query_in_rule in_rules[] = {
    {"Attribute", "Attributes", QUERY_MAP, "Name", "Value"},
    {"AttributeName", "AttributeNames", QUERY_LIST, NULL, NULL},
    {"MessageAttribute", "MessageAttributes", QUERY_MAP, "Name", "Value"},
    {"Entry", "Entries", QUERY_LIST, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL},
};
static const query_out_rule out_rules[] = {
    {"Attributes", NULL, "Attribute", QUERY_MAP, "Name", "Value"},
    {"Urls", NULL, "Url", QUERY_LIST, NULL, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL},
};
static const query_rules rules = {in_rules, out_rules, true};

TEST(form_decoding)
{
    form f;
    form_init(&f);
    const char *t = "a=1&b=x+y%26z&c=&d&e=%00end";
    CHECK_INT(form_parse(&f, t, strlen(t)), 0);
    CHECK_STR(form_get(&f, "a"), "1");
    CHECK_STR(form_get(&f, "b"), "x y&z");
    CHECK_STR(form_get(&f, "c"), "");
    CHECK_STR(form_get(&f, "d"), "");
    CHECK_INT(f.pairs[4].value_len, 4); /* NUL kept, length explicit */
    form_free(&f);

    form_init(&f);
    CHECK_INT(form_parse(&f, "a=%zz", 5), -1);
    form_free(&f);
    form_init(&f);
    CHECK_INT(form_parse(&f, "a=%4", 4), -1);
    form_free(&f);
}

TEST(query_to_json_shapes)
{
    const char *text = "Action=X&Version=1&QueueName=q&Attribute.2.Name=B&Attribute.2.Value=2"
                       "&Attribute.1.Name=A&Attribute.1.Value=1&AttributeName.10=z"
                       "&AttributeName.2=y&AttributeName.1=x"
                       "&Entry.1.Id=e1&Entry.1.MessageAttribute.1.Name=m"
                       "&Entry.1.MessageAttribute.1.Value.DataType=String"
                       "&Entry.1.MessageAttribute.1.Value.StringValue=v";
    form f;
    form_init(&f);
    CHECK_INT(form_parse(&f, text, strlen(text)), 0);
    json_t *j = query_to_json(&f, &rules);
    CHECK(json_object_get(j, "Action") == NULL);
    CHECK_STR(json_string_value(json_object_get(j, "QueueName")), "q");
    json_t *attrs = json_object_get(j, "Attributes");
    CHECK_STR(json_string_value(json_object_get(attrs, "A")), "1");
    CHECK_STR(json_string_value(json_object_get(attrs, "B")), "2");
    json_t *names = json_object_get(j, "AttributeNames");
    CHECK_INT(json_array_size(names), 3);
    CHECK_STR(json_string_value(json_array_get(names, 0)), "x");
    CHECK_STR(json_string_value(json_array_get(names, 2)), "z"); /* 10 sorts after 2 */
    json_t *e = json_array_get(json_object_get(j, "Entries"), 0);
    CHECK_STR(json_string_value(json_object_get(e, "Id")), "e1");
    json_t *m = json_object_get(json_object_get(e, "MessageAttributes"), "m");
    CHECK_STR(json_string_value(json_object_get(m, "DataType")), "String");
    CHECK_STR(json_string_value(json_object_get(m, "StringValue")), "v");
    json_decref(j);
    form_free(&f);
}

TEST(xml_rendering)
{
    api_service svc = {.xml_namespace = "urn:x", .query_rules = &rules};
    json_t *out = json_pack("{s:{s:s},s:[s,s],s:s,s:b}", "Attributes", "K", "v<&>\r",
                            "Urls", "u1", "u2", "Body", "it's \"q\"", "Flag", 1);
    buf b;
    buf_init(&b);
    query_render_result(&b, &svc, "Act", out, "rid");
    CHECK(strstr(b.data, "<ActResponse xmlns=\"urn:x\"><ActResult>") != NULL);
    CHECK(strstr(b.data, "<Attribute><Name>K</Name><Value>v&lt;&amp;&gt;&#xD;</Value>"
                         "</Attribute>") != NULL);
    CHECK(strstr(b.data, "<Url>u1</Url><Url>u2</Url>") != NULL);
    CHECK(strstr(b.data, "<Body>it&apos;s &quot;q&quot;</Body>") != NULL);
    CHECK(strstr(b.data, "<Flag>true</Flag>") != NULL);
    CHECK(strstr(b.data, "<RequestId>rid</RequestId>") != NULL);
    buf_free(&b);
    json_decref(out);

    buf_init(&b);
    query_render_error(&b, "urn:x", aws_error_get(AWS_ERR_SQS_QUEUE_DOES_NOT_EXIST), "gone <",
                       "rid");
    CHECK(strstr(b.data, "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue"
                         "</Code><Message>gone &lt;</Message>") != NULL);
    buf_free(&b);
}

TEST(sigv4_credential_scope)
{
    sigv4_scope s;
    CHECK(sigv4_parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/sqs/"
                                    "aws4_request, SignedHeaders=host, Signature=abc",
                                    &s));
    CHECK_STR(s.access_key, "AKID");
    CHECK_STR(s.region, "eu-west-1");
    CHECK_STR(s.service, "sqs");
    CHECK(!sigv4_parse_authorization("Basic abc", &s));
    CHECK(!sigv4_parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/x/y", &s));
    CHECK(!sigv4_parse_authorization(NULL, &s));
    CHECK(sigv4_parse_credential("AK/20240101/us-east-1/sns/aws4_request", &s));
    CHECK_STR(s.service, "sns");
}

TEST(codecs)
{
    char out[64];
    uint8_t raw[64];
    base64_encode((const uint8_t *)"\x00\x01\x02", 3, out);
    CHECK_STR(out, "AAEC");
    CHECK_INT(base64_decode("AAEC", 4, raw), 3);
    CHECK_INT(base64_decode("AAE=", 4, raw), 2);
    CHECK_INT(base64_decode("AAE", 3, raw), -1);
    CHECK_INT(base64_decode("A@EC", 4, raw), -1);
    CHECK(utf8_valid("h\xc3\xa9llo", 6));
    CHECK(!utf8_valid("\xc3", 1));
    CHECK(!utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    CHECK(!utf8_valid("\xc0\xaf", 2));     /* overlong */
    char id[37];
    uuid_v4(id);
    CHECK_INT(strlen(id), 36);
    CHECK(id[14] == '4');
}

int main(void)
{
    RUN(form_decoding);
    RUN(query_to_json_shapes);
    RUN(xml_rendering);
    RUN(sigv4_credential_scope);
    RUN(codecs);
    return check_report();
}
