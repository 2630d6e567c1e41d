/* Unit tests: the Query input forms of non-flattened services (SNS):
 * `X.entry.N.key/value` maps, `X.member.N` lists, and nesting of both. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire/form.h"
#include "wire/query.h"

static const query_in_rule in_rules[] = {
    {"Attributes", "Attributes", QUERY_MAP, "key", "value"},
    {"MessageAttributes", "MessageAttributes", QUERY_MAP, "Name", "Value"},
    {"Tags", "Tags", QUERY_LIST, NULL, NULL},
    {"TagKeys", "TagKeys", QUERY_LIST, NULL, NULL},
    {"Entries", "Entries", QUERY_LIST, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL},
};
static const query_rules rules = {in_rules, NULL, false};

static json_t *decode(const char *text)
{
    form f;
    form_init(&f);
    CHECK_INT(form_parse(&f, text, strlen(text)), 0);
    json_t *j = query_to_json(&f, &rules);
    form_free(&f);
    return j;
}

TEST(entry_maps)
{
    json_t *j = decode("Action=CreateTopic&Name=t&Attributes.entry.2.key=B"
                       "&Attributes.entry.2.value=2&Attributes.entry.1.key=A"
                       "&Attributes.entry.1.value=1");
    json_t *a = json_object_get(j, "Attributes");
    CHECK(json_is_object(a));
    CHECK_STR(json_string_value(json_object_get(a, "A")), "1");
    CHECK_STR(json_string_value(json_object_get(a, "B")), "2");
    CHECK_STR(json_string_value(json_object_get(j, "Name")), "t");
    json_decref(j);
}

TEST(member_lists)
{
    json_t *j = decode("Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2"
                       "&Tags.member.2.Value=&TagKeys.member.2=b&TagKeys.member.1=a");
    json_t *tags = json_object_get(j, "Tags");
    CHECK(json_is_array(tags));
    CHECK_INT(json_array_size(tags), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "k1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(tags, 1), "Value")), "");
    json_t *keys = json_object_get(j, "TagKeys");
    CHECK_INT(json_array_size(keys), 2);
    CHECK_STR(json_string_value(json_array_get(keys, 0)), "a");
    json_decref(j);
}

TEST(nested_entries)
{
    json_t *j = decode("Entries.member.1.Id=e1&Entries.member.1.MessageAttributes.entry.1.Name=m"
                       "&Entries.member.1.MessageAttributes.entry.1.Value.DataType=Number"
                       "&Entries.member.1.MessageAttributes.entry.1.Value.StringValue=5");
    json_t *e = json_array_get(json_object_get(j, "Entries"), 0);
    CHECK_STR(json_string_value(json_object_get(e, "Id")), "e1");
    json_t *m = json_object_get(json_object_get(e, "MessageAttributes"), "m");
    CHECK_STR(json_string_value(json_object_get(m, "DataType")), "Number");
    CHECK_STR(json_string_value(json_object_get(m, "StringValue")), "5");
    json_decref(j);
}

TEST(not_a_wrapper)
{
    /* a parameter that merely shares a rule's name is left as it is */
    json_t *j = decode("Attributes.other=1");
    json_t *a = json_object_get(j, "Attributes");
    CHECK(json_is_object(a));
    CHECK_STR(json_string_value(json_object_get(a, "other")), "1");
    json_decref(j);
}

int main(void)
{
    RUN(entry_maps);
    RUN(member_lists);
    RUN(nested_entries);
    RUN(not_a_wrapper);
    return check_report();
}
