/* Unit tests: SNS envelope bytes, the string to sign, signatures, the
 * timestamp format and delivery-policy arithmetic. */
#include <math.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/codec.h"
#include "sns/sns.h"

TEST(timestamp_format)
{
    char ts[32];
    sns_timestamp(1336006446655LL, ts);
    CHECK_STR(ts, "2012-05-03T00:54:06.655Z");
    sns_timestamp(0, ts);
    CHECK_STR(ts, "1970-01-01T00:00:00.000Z");
}

TEST(notification_string_to_sign)
{
    sns_envelope e = {
        .type = "Notification", .message_id = "id-1", .topic_arn = "arn:t",
        .subject = "S", .message = "hi\nthere", .timestamp = "T",
        .unsubscribe_url = "http://u", .signature_version = "1",
    };
    buf b;
    buf_init(&b);
    sns_string_to_sign(&e, &b);
    buf_putc(&b, 0);
    CHECK_STR(b.data, "Message\nhi\nthere\nMessageId\nid-1\nSubject\nS\nTimestamp\nT\n"
                      "TopicArn\narn:t\nType\nNotification\n");
    buf_free(&b);
    /* no Subject: the key is left out */
    e.subject = NULL;
    buf_init(&b);
    sns_string_to_sign(&e, &b);
    buf_putc(&b, 0);
    CHECK(strstr(b.data, "Subject") == NULL);
    buf_free(&b);
}

TEST(confirmation_string_to_sign)
{
    sns_envelope e = {
        .type = "SubscriptionConfirmation", .message_id = "m", .token = "tok",
        .topic_arn = "arn:t", .message = "M", .subscribe_url = "http://s",
        .timestamp = "T",
    };
    buf b;
    buf_init(&b);
    sns_string_to_sign(&e, &b);
    buf_putc(&b, 0);
    CHECK_STR(b.data, "Message\nM\nMessageId\nm\nSubscribeURL\nhttp://s\nTimestamp\nT\n"
                      "Token\ntok\nTopicArn\narn:t\nType\nSubscriptionConfirmation\n");
    buf_free(&b);
}

TEST(envelope_bytes)
{
    json_t *attrs = json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "a", "DataType", "String",
                              "StringValue", "x\"y", "b", "DataType", "Binary", "BinaryValue",
                              "AAE=");
    sns_envelope e = {
        .type = "Notification", .message_id = "m1", .topic_arn = "arn:t",
        .message = "caf\xc3\xa9 / \"q\"", .timestamp = "2020-01-01T00:00:00.000Z",
        .signature_version = "1", .signature = "c2ln", .signing_cert_url = "http://c",
        .unsubscribe_url = "http://u", .attributes = attrs,
    };
    buf b;
    buf_init(&b);
    sns_envelope_write(&e, &b);
    buf_putc(&b, 0);
    CHECK_STR(b.data,
              "{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : \"m1\",\n"
              "  \"TopicArn\" : \"arn:t\",\n  \"Message\" : \"caf\xc3\xa9 / \\\"q\\\"\",\n"
              "  \"Timestamp\" : \"2020-01-01T00:00:00.000Z\",\n"
              "  \"SignatureVersion\" : \"1\",\n  \"Signature\" : \"c2ln\",\n"
              "  \"SigningCertURL\" : \"http://c\",\n  \"UnsubscribeURL\" : \"http://u\",\n"
              "  \"MessageAttributes\" : {\n"
              "    \"a\" : {\"Type\":\"String\",\"Value\":\"x\\\"y\"},\n"
              "    \"b\" : {\"Type\":\"Binary\",\"Value\":\"AAE=\"}\n  }\n}");
    /* and it is JSON */
    json_t *parsed = json_loads(b.data, 0, NULL);
    CHECK(json_is_object(parsed));
    CHECK_STR(json_string_value(json_object_get(parsed, "Message")), "caf\xc3\xa9 / \"q\"");
    json_decref(parsed);
    buf_free(&b);
    json_decref(attrs);
}

TEST(fifo_envelope_has_sequence_number)
{
    sns_envelope e = {
        .type = "Notification", .message_id = "m", .sequence_number = "10000000000000000001",
        .topic_arn = "arn:t.fifo", .message = "x", .timestamp = "T",
        .unsubscribe_url = "http://u",
    };
    buf b;
    buf_init(&b);
    sns_envelope_write(&e, &b);
    buf_putc(&b, 0);
    CHECK(strstr(b.data, "\"MessageId\" : \"m\",\n  \"SequenceNumber\" : \"1000") != NULL);
    CHECK(strstr(b.data, "Signature") == NULL);
    buf_free(&b);
}

static int verify(EVP_PKEY *key, int version, const char *text, const char *sig_b64)
{
    uint8_t sig[1024];
    long n = base64_decode(sig_b64, strlen(sig_b64), sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(md, NULL, version == 2 ? EVP_sha256() : EVP_sha1(), NULL,
                                  key) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)n, (const unsigned char *)text,
                              strlen(text)) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

TEST(signatures_verify)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    char *sig = NULL;
    const char *text = "Message\nx\nType\nNotification\n";
    CHECK_INT(sns_sign(key, 1, text, strlen(text), &sig), 0);
    CHECK(verify(key, 1, text, sig));
    CHECK(!verify(key, 2, text, sig));
    free(sig);
    CHECK_INT(sns_sign(key, 2, text, strlen(text), &sig), 0);
    CHECK(verify(key, 2, text, sig));
    CHECK(!verify(key, 2, "other", sig));
    free(sig);
    EVP_PKEY_free(key);
}

TEST(default_policy)
{
    sns_retry_policy p;
    sns_policy_default(&p);
    CHECK_INT(p.num_retries, 3);
    CHECK(sns_policy_delay(&p, 1) == 20);
    CHECK(sns_policy_delay(&p, 3) == 20);
    CHECK(sns_policy_delay(&p, 4) == -1);
    CHECK_STR(p.content_type, "text/plain; charset=UTF-8");
    char *eff = sns_policy_effective_topic(&p);
    CHECK(strstr(eff, "\"numRetries\":3") != NULL);
    CHECK(strstr(eff, "\"backoffFunction\":\"linear\"") != NULL);
    free(eff);
}

TEST(policy_phases)
{
    sns_retry_policy p;
    char err[256];
    sns_policy_default(&p);
    const char *doc = "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":1,"
                      "\"maxDelayTarget\":60,\"numRetries\":10,\"numNoDelayRetries\":2,"
                      "\"numMinDelayRetries\":2,\"numMaxDelayRetries\":2,"
                      "\"backoffFunction\":\"linear\"}}}";
    CHECK_INT(sns_policy_parse(doc, false, &p, err, sizeof err), 0);
    CHECK(sns_policy_delay(&p, 1) == 0);
    CHECK(sns_policy_delay(&p, 2) == 0);
    CHECK(sns_policy_delay(&p, 3) == 1);
    CHECK(sns_policy_delay(&p, 4) == 1);
    /* four backoff retries from 1 to 60, linear */
    CHECK(fabs(sns_policy_delay(&p, 5) - 1) < 1e-9);
    CHECK(fabs(sns_policy_delay(&p, 6) - (1 + 59.0 / 3)) < 1e-9);
    CHECK(fabs(sns_policy_delay(&p, 8) - 60) < 1e-9);
    CHECK(sns_policy_delay(&p, 9) == 60);
    CHECK(sns_policy_delay(&p, 10) == 60);
    CHECK(sns_policy_delay(&p, 11) == -1);
}

TEST(backoff_shapes)
{
    sns_retry_policy p;
    sns_policy_default(&p);
    p.min_delay = 2;
    p.max_delay = 200;
    p.num_retries = 5;
    const int kinds[] = {SNS_BACKOFF_LINEAR, SNS_BACKOFF_ARITHMETIC, SNS_BACKOFF_GEOMETRIC,
                         SNS_BACKOFF_EXPONENTIAL};
    for (int k = 0; k < 4; k++) {
        p.backoff = kinds[k];
        CHECK(fabs(sns_policy_delay(&p, 1) - 2) < 1e-9);
        CHECK(fabs(sns_policy_delay(&p, 5) - 200) < 1e-9);
        for (int i = 1; i < 5; i++)
            CHECK(sns_policy_delay(&p, i) <= sns_policy_delay(&p, i + 1));
    }
    /* geometric: constant ratio */
    p.backoff = SNS_BACKOFF_GEOMETRIC;
    double r1 = sns_policy_delay(&p, 2) / sns_policy_delay(&p, 1);
    double r2 = sns_policy_delay(&p, 5) / sns_policy_delay(&p, 4);
    CHECK(fabs(r1 - r2) < 1e-9);
    /* arithmetic grows slower than linear at first */
    p.backoff = SNS_BACKOFF_ARITHMETIC;
    double a2 = sns_policy_delay(&p, 2);
    p.backoff = SNS_BACKOFF_LINEAR;
    CHECK(a2 < sns_policy_delay(&p, 2));
}

TEST(policy_validation)
{
    sns_retry_policy p;
    char err[256];
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("not json", false, &p, err, sizeof err), -1);
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":101,"
                               "\"minDelayTarget\":1,\"maxDelayTarget\":1}}}",
                               false, &p, err, sizeof err), -1);
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":5,"
                               "\"maxDelayTarget\":4}}}", false, &p, err, sizeof err), -1);
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("{\"http\":{\"defaultHealthyRetryPolicy\":{"
                               "\"backoffFunction\":\"cubic\"}}}", false, &p, err,
                               sizeof err), -1);
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("{\"healthyRetryPolicy\":{\"numRetries\":1,\"minDelayTarget\":1,"
                               "\"maxDelayTarget\":1},\"requestPolicy\":{"
                               "\"headerContentType\":\"application/json\"}}",
                               true, &p, err, sizeof err), 0);
    CHECK_INT(p.num_retries, 1);
    CHECK_STR(p.content_type, "application/json");
    /* total time over an hour */
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":100,"
                               "\"minDelayTarget\":3600,\"maxDelayTarget\":3600}}}",
                               false, &p, err, sizeof err), -1);
    /* minDelayTarget is 1 to maxDelayTarget */
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("{\"healthyRetryPolicy\":{\"minDelayTarget\":0,"
                               "\"maxDelayTarget\":1}}", true, &p, err, sizeof err), -1);
    sns_policy_default(&p);
    CHECK_INT(sns_policy_parse("{\"http\":{\"disableSubscriptionOverrides\":\"yes\"}}",
                               false, &p, err, sizeof err), -1);
}

TEST(subscription_overrides)
{
#define TOPIC_DP(extra) "{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":2," \
                        "\"minDelayTarget\":1,\"maxDelayTarget\":1}" extra "}}"
    const char *sub = "{\"healthyRetryPolicy\":{\"numRetries\":0,\"minDelayTarget\":1,"
                      "\"maxDelayTarget\":1}}";
    sns_retry_policy p;

    sns_policy_for_sub(TOPIC_DP(""), sub, &p);
    CHECK_INT(p.num_retries, 0);
    CHECK(!p.disable_overrides);
    sns_policy_for_sub(TOPIC_DP(",\"disableSubscriptionOverrides\":true"), sub, &p);
    CHECK_INT(p.num_retries, 2);
    CHECK(p.disable_overrides);
#undef TOPIC_DP
    /* an unreadable policy is skipped, not half applied */
    sns_policy_for_sub(NULL, "{\"healthyRetryPolicy\":{\"numRetries\":7,"
                       "\"minDelayTarget\":0}}", &p);
    CHECK_INT(p.num_retries, 3);
}

int main(void)
{
    RUN(timestamp_format);
    RUN(notification_string_to_sign);
    RUN(confirmation_string_to_sign);
    RUN(envelope_bytes);
    RUN(fifo_envelope_has_sequence_number);
    RUN(signatures_verify);
    RUN(default_policy);
    RUN(policy_phases);
    RUN(backoff_shapes);
    RUN(policy_validation);
    RUN(subscription_overrides);
    return check_report();
}
