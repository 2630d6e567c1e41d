/*
 * test_policy.c - action and ARN wildcards, identity allow lists, and
 * resource-policy evaluation (core/policy.h).
 */
#include <jansson.h>

#include "check.h"
#include "core/policy.h"

#define QARN "arn:aws:sqs:us-east-1:111111111111:orders"

static json_t *js(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    if (!v)
        fprintf(stderr, "bad test JSON: %s\n", text);
    return v;
}

static policy_decision eval(const char *policy, const policy_request *r)
{
    return policy_evaluate_text(policy, r);
}

TEST(action_wildcards)
{
    CHECK(policy_action_match("sqs:SendMessage", "sqs:SendMessage"));
    CHECK(policy_action_match("SQS:sendmessage", "sqs:SendMessage"));
    CHECK(policy_action_match("sqs:Send*", "sqs:SendMessageBatch"));
    CHECK(policy_action_match("*", "events:PutEvents"));
    CHECK(policy_action_match("sqs:*Message", "sqs:ReceiveMessage"));
    CHECK(policy_action_match("sqs:?eceiveMessage", "sqs:ReceiveMessage"));
    CHECK(!policy_action_match("sqs:Send*", "sns:SendMessage"));
    CHECK(!policy_action_match("sqs:SendMessage", "sqs:SendMessageBatch"));
    CHECK(!policy_action_match("sqs:*Message", "sqs:ReceiveMessages"));
}

TEST(arn_wildcards)
{
    CHECK(policy_arn_match("*", QARN));
    CHECK(policy_arn_match("arn:aws:sqs:*:111111111111:*", QARN));
    CHECK(policy_arn_match("arn:aws:sqs:us-east-1:111111111111:ord*", QARN));
    CHECK(policy_arn_match("arn:aws:sqs:us-east-1:111111111111:order?", QARN));
    CHECK(!policy_arn_match("arn:aws:sqs:us-east-1:111111111111:Orders", QARN));
    CHECK(!policy_arn_match("arn:aws:sqs:*:222222222222:*", QARN));
    CHECK(!policy_arn_match("arn:aws:sqs:us-east-1:111111111111:order", QARN));
}

TEST(allow_lists)
{
    json_t *allow = js("[{\"actions\": [\"sqs:SendMessage\", \"sqs:Get*\"],"
                       "  \"resources\": \"arn:aws:sqs:*:111111111111:ord*\"},"
                       " {\"actions\": \"sqs:ListQueues\"}]");
    CHECK(policy_allow_list_permits(NULL, "sqs:DeleteQueue", QARN));
    CHECK(policy_allow_list_permits(allow, "sqs:SendMessage", QARN));
    CHECK(policy_allow_list_permits(allow, "sqs:getqueueurl", QARN));
    CHECK(!policy_allow_list_permits(allow, "sqs:ReceiveMessage", QARN));
    CHECK(!policy_allow_list_permits(allow, "sqs:SendMessage",
                                     "arn:aws:sqs:us-east-1:111111111111:audit"));
    CHECK(policy_allow_list_permits(allow, "sqs:ListQueues", "anything"));
    /* Action only: some resource. */
    CHECK(policy_allow_list_permits(allow, "sqs:SendMessage", NULL));
    CHECK(!policy_allow_list_permits(allow, "sqs:PurgeQueue", NULL));
    CHECK(!policy_allow_list_permits(allow, "sns:Publish", NULL));
    json_t *empty = js("[]");
    CHECK(!policy_allow_list_permits(empty, "sqs:SendMessage", NULL));

    char err[256];
    CHECK_INT(policy_allow_list_check(allow, err, sizeof err), 0);
    CHECK_INT(policy_allow_list_check(empty, err, sizeof err), 0);
    json_t *bad[] = {js("{}"), js("[{\"resources\": \"*\"}]"), js("[{\"actions\": 3}]"),
                     js("[{\"actions\": [], \"resources\": \"*\"}]"),
                     js("[{\"actions\": \"*\", \"resource\": \"*\"}]"), js("[\"sqs:*\"]")};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_INT(policy_allow_list_check(bad[i], err, sizeof err), -1);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        json_decref(bad[i]);
    json_decref(allow);
    json_decref(empty);
}

TEST(principals)
{
    policy_request r = {"sqs:SendMessage", QARN, "222222222222", NULL, NULL, NULL};
    CHECK_INT(eval("{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", "
                   "\"Action\": \"sqs:SendMessage\", \"Resource\": \"" QARN "\"}}", &r),
              POLICY_ALLOW);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"*\"},"
                   " \"Action\": \"sqs:*\", \"Resource\": \"*\"}]}", &r),
              POLICY_ALLOW);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
                   "\"222222222222\"}, \"Action\": \"sqs:SendMessage\"}]}", &r),
              POLICY_ALLOW);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
                   "[\"333333333333\", \"arn:aws:iam::222222222222:root\"]}, "
                   "\"Action\": [\"sqs:ReceiveMessage\", \"sqs:SendMessage\"]}]}", &r),
              POLICY_ALLOW);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
                   "\"arn:aws:iam::333333333333:root\"}, \"Action\": \"*\"}]}", &r),
              POLICY_NO_MATCH);
    /* A service principal matches only that service. */
    const char *svc = "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
                      "\"sns.amazonaws.com\"}, \"Action\": \"sqs:SendMessage\", "
                      "\"Resource\": \"" QARN "\"}]}";
    CHECK_INT(eval(svc, &r), POLICY_NO_MATCH);
    policy_request s = {"sqs:SendMessage", QARN, NULL, "sns.amazonaws.com", NULL, NULL};
    CHECK_INT(eval(svc, &s), POLICY_ALLOW);
    s.principal_service = "events.amazonaws.com";
    CHECK_INT(eval(svc, &s), POLICY_NO_MATCH);
    /* No principal at all never matches. */
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\"}]}", &r),
              POLICY_NO_MATCH);
}

TEST(actions_resources_and_deny)
{
    policy_request r = {"sqs:SendMessage", QARN, "222222222222", NULL, NULL, NULL};
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", "
                   "\"Action\": \"sqs:ReceiveMessage\"}]}", &r),
              POLICY_NO_MATCH);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", "
                   "\"Action\": \"sqs:SendMessage\", \"Resource\": "
                   "\"arn:aws:sqs:us-east-1:111111111111:other\"}]}", &r),
              POLICY_NO_MATCH);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", "
                   "\"NotAction\": \"sqs:Delete*\"}]}", &r),
              POLICY_ALLOW);
    /* Deny wins whatever the order. */
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Deny\", \"Principal\": \"*\", "
                   "\"Action\": \"sqs:Send*\"}, {\"Effect\": \"Allow\", \"Principal\": \"*\","
                   " \"Action\": \"*\"}]}", &r),
              POLICY_DENY);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", "
                   "\"Action\": \"*\"}, {\"Effect\": \"Deny\", \"Principal\": {\"AWS\": "
                   "\"222222222222\"}, \"Action\": \"sqs:SendMessage\"}]}", &r),
              POLICY_DENY);
    CHECK_INT(eval("{\"Statement\": [{\"Effect\": \"Maybe\", \"Principal\": \"*\", "
                   "\"Action\": \"*\"}]}", &r),
              POLICY_NO_MATCH);
    CHECK_INT(eval("not json", &r), POLICY_NO_MATCH);
    CHECK_INT(eval(NULL, &r), POLICY_NO_MATCH);
}

TEST(conditions)
{
    const char *p =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
        "\"sns.amazonaws.com\"}, \"Action\": \"sqs:SendMessage\", \"Resource\": \"" QARN "\","
        " \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": "
        "\"arn:aws:sns:us-east-1:111111111111:orders-topic\"}}}]}";
    policy_request r = {"sqs:SendMessage", QARN, NULL, "sns.amazonaws.com",
                        "arn:aws:sns:us-east-1:111111111111:orders-topic", "111111111111"};
    CHECK_INT(eval(p, &r), POLICY_ALLOW);
    r.source_arn = "arn:aws:sns:us-east-1:111111111111:other-topic";
    CHECK_INT(eval(p, &r), POLICY_NO_MATCH);
    r.source_arn = NULL;
    CHECK_INT(eval(p, &r), POLICY_NO_MATCH);

    const char *like =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
        "\"sqs:SendMessage\", \"Condition\": {\"ArnLike\": {\"aws:SourceArn\": "
        "[\"arn:aws:sns:*:111111111111:orders-*\"]}, \"StringEquals\": "
        "{\"aws:SourceAccount\": \"111111111111\"}}}]}";
    r.source_arn = "arn:aws:sns:eu-west-1:111111111111:orders-eu";
    CHECK_INT(eval(like, &r), POLICY_ALLOW);
    r.source_account = "999999999999";
    CHECK_INT(eval(like, &r), POLICY_NO_MATCH);
    r.source_account = "111111111111";
    r.source_arn = "arn:aws:sns:eu-west-1:222222222222:orders-eu";
    CHECK_INT(eval(like, &r), POLICY_NO_MATCH);

    /* Negated operators and IfExists hold when the key is absent. */
    const char *notlike =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", "
        "\"Condition\": {\"ArnNotLike\": {\"aws:SourceArn\": \"arn:aws:sns:*:*:blocked\"}, "
        "\"StringEqualsIfExists\": {\"aws:SourceAccount\": \"111111111111\"}}}]}";
    policy_request plain = {"sqs:SendMessage", QARN, "222222222222", NULL, NULL, NULL};
    CHECK_INT(eval(notlike, &plain), POLICY_ALLOW);
    plain.source_arn = "arn:aws:sns:us-east-1:1:blocked";
    CHECK_INT(eval(notlike, &plain), POLICY_NO_MATCH);

    /* What cannot be evaluated never grants, and a Deny still applies. */
    const char *unknown_allow =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", "
        "\"Condition\": {\"IpAddress\": {\"aws:SourceIp\": \"10.0.0.0/8\"}}}]}";
    CHECK_INT(eval(unknown_allow, &r), POLICY_NO_MATCH);
    const char *unknown_deny =
        "{\"Statement\": [{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"*\", "
        "\"Condition\": {\"StringEquals\": {\"aws:UserAgent\": \"x\"}}}]}";
    CHECK_INT(eval(unknown_deny, &r), POLICY_DENY);
}

TEST(permits)
{
    const char *owner = "111111111111";
    const char *grant = "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
                        "\"arn:aws:iam::222222222222:root\"}, \"Action\": \"sqs:SendMessage\","
                        " \"Resource\": \"" QARN "\"}]}";
    /* Own account: no policy needed. */
    CHECK(policy_permits(owner, NULL, "sqs:SendMessage", QARN, owner, NULL));
    /* Another account: only what the policy grants. */
    CHECK(!policy_permits("222222222222", NULL, "sqs:SendMessage", QARN, owner, NULL));
    CHECK(policy_permits("222222222222", NULL, "sqs:SendMessage", QARN, owner, grant));
    CHECK(!policy_permits("222222222222", NULL, "sqs:ReceiveMessage", QARN, owner, grant));
    CHECK(!policy_permits("333333333333", NULL, "sqs:SendMessage", QARN, owner, grant));
    /* The identity's allow list limits both. */
    json_t *allow = js("[{\"actions\": \"sqs:Receive*\"}]");
    CHECK(!policy_permits("222222222222", allow, "sqs:SendMessage", QARN, owner, grant));
    CHECK(!policy_permits(owner, allow, "sqs:SendMessage", QARN, owner, NULL));
    CHECK(policy_permits(owner, allow, "sqs:ReceiveMessage", QARN, owner, NULL));
    json_decref(allow);
    /* An explicit Deny applies to the owner too. */
    const char *deny = "{\"Statement\": [{\"Effect\": \"Deny\", \"Principal\": \"*\", "
                       "\"Action\": \"sqs:PurgeQueue\"}]}";
    CHECK(!policy_permits(owner, NULL, "sqs:PurgeQueue", QARN, owner, deny));
    CHECK(policy_permits(owner, NULL, "sqs:SendMessage", QARN, owner, deny));
}

#define TOPIC "arn:aws:sns:us-east-1:111111111111:orders-topic"

TEST(service_deliveries)
{
    const char *own = "111111111111", *other = "222222222222";
    const char *grant =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
        "\"sns.amazonaws.com\"}, \"Action\": \"sqs:SendMessage\", \"Resource\": \"" QARN "\","
        " \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": \"" TOPIC "\"}}}]}";
    const char *deny =
        "{\"Statement\": [{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": "
        "\"sqs:SendMessage\", \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": \"" TOPIC
        "\"}}}]}";
    const char *unrelated =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"333333333333\"}, "
        "\"Action\": \"sqs:SendMessage\"}]}";

    /* No policy: the same account delivers, another does not. */
    CHECK(policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, NULL, TOPIC,
                                 own));
    CHECK(policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, "", TOPIC,
                                 own));
    CHECK(!policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, NULL,
                                  "arn:aws:sns:us-east-1:222222222222:t", other));
    /* A policy decides: its Allow lets another account's topic in ... */
    CHECK(policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, grant, TOPIC,
                                 other));
    CHECK(!policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, grant,
                                  "arn:aws:sns:us-east-1:111111111111:other", own));
    CHECK(!policy_service_permits("events.amazonaws.com", "sqs:SendMessage", QARN, own, grant,
                                  TOPIC, own));
    /* ... a Deny blocks the same account, and a policy that does not
     * mention the source leaves the same account out too. */
    CHECK(!policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, deny, TOPIC,
                                  own));
    CHECK(!policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, unrelated,
                                  TOPIC, own));
    /* aws:SourceOwner is read as aws:SourceAccount. */
    const char *owner_cond =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", "
        "\"Condition\": {\"StringEquals\": {\"AWS:SourceOwner\": \"222222222222\"}}}]}";
    CHECK(policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, owner_cond,
                                 "arn:aws:sns:us-east-1:222222222222:t", other));
    CHECK(!policy_service_permits("sns.amazonaws.com", "sqs:SendMessage", QARN, own, owner_cond,
                                  TOPIC, own));
}

TEST(arn_accounts)
{
    char acct[16];
    CHECK(policy_arn_account(TOPIC, acct, sizeof acct));
    CHECK_STR(acct, "111111111111");
    CHECK(policy_arn_account("arn:aws:events:us-east-1:222222222222:rule/bus/r", acct,
                             sizeof acct));
    CHECK_STR(acct, "222222222222");
    CHECK(!policy_arn_account("arn:aws:iam::", acct, sizeof acct));
    CHECK_STR(acct, "");
    CHECK(!policy_arn_account("orders", acct, sizeof acct));
    CHECK(!policy_arn_account("arn:aws:sns:r:1234567890123456789:t", acct, sizeof acct));
}

int main(void)
{
    RUN(action_wildcards);
    RUN(arn_wildcards);
    RUN(allow_lists);
    RUN(principals);
    RUN(actions_resources_and_deny);
    RUN(conditions);
    RUN(permits);
    RUN(service_deliveries);
    RUN(arn_accounts);
    return check_report();
}
