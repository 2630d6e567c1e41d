"""The SNS API over the Query protocol with boto3 (and aws-cli): topics,
subscriptions, attributes, tags, permissions, publish validation, the
error codes and messages AWS uses, paging, and state across a restart.
"""

import json
import subprocess
import uuid
import xml.etree.ElementTree as ET

import boto3
import botocore.config
import pytest

import e2e_util

SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


def sns_client(endpoint, validate=True):
    cfg = botocore.config.Config(region_name=e2e_util.REGION,
                                 retries={"total_max_attempts": 1},
                                 parameter_validation=validate)
    return boto3.session.Session().client(
        "sns", endpoint_url=endpoint, aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


@pytest.fixture(scope="module")
def sns(endpoint):
    return sns_client(endpoint)


@pytest.fixture(scope="module")
def sns_nv(endpoint):
    return sns_client(endpoint, validate=False)


def uname(prefix="api"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def arn_of(sqs, url):
    return e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]


# ------------------------------------------------------------ topics

def test_create_topic_idempotent(sns):
    name = uname()
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "d"},
                           Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
    assert arn == "arn:aws:sns:%s:%s:%s" % (e2e_util.REGION, e2e_util.ACCOUNT, name)
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "d"})["TopicArn"] == arn
    msg = e2e_util.expect_error("InvalidParameter", sns.create_topic, Name=name,
                                Attributes={"DisplayName": "other"})
    assert msg == "Invalid parameter: Attributes Reason: Topic already exists with " \
                  "different attributes"
    msg = e2e_util.expect_error("InvalidParameter", sns.create_topic, Name=name,
                                Tags=[{"Key": "k", "Value": "w"}])
    assert "Topic already exists with different tags" in msg


@pytest.mark.parametrize("name", ["bad name", "a" * 257, "x/y", "plain.fifo", ""])
def test_invalid_topic_names(sns_nv, name):
    msg = e2e_util.expect_error("InvalidParameter", sns_nv.create_topic, Name=name)
    assert msg == "Invalid parameter: Topic Name"


def test_fifo_topic_names(sns):
    name = uname() + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["FifoTopic"] == "true" and a["ContentBasedDeduplication"] == "false"
    msg = e2e_util.expect_error("InvalidParameter", sns.create_topic, Name=uname(),
                                Attributes={"FifoTopic": "true"})
    assert "Fifo Topic names must end with .fifo" in msg
    e2e_util.expect_error("InvalidParameter", sns.create_topic, Name=uname(),
                          Attributes={"ContentBasedDeduplication": "true"})


def test_topic_attributes(sns):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["TopicArn"] == arn and a["Owner"] == e2e_util.ACCOUNT
    assert a["DisplayName"] == ""
    assert (a["SubscriptionsConfirmed"], a["SubscriptionsPending"],
            a["SubscriptionsDeleted"]) == ("0", "0", "0")
    policy = json.loads(a["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    eff = json.loads(a["EffectiveDeliveryPolicy"])
    assert eff["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert "FifoTopic" not in a

    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Shown")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Active")
    dp = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2,
                                                 "maxDelayTarget": 30,
                                                 "backoffFunction": "exponential"}}}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy",
                             AttributeValue=json.dumps(dp))
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["DisplayName"] == "Shown" and a["SignatureVersion"] == "2"
    assert a["TracingConfig"] == "Active"
    assert json.loads(a["DeliveryPolicy"]) == dp
    eff = json.loads(a["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert eff["numRetries"] == 5 and eff["backoffFunction"] == "exponential"

    for name, value in [("SignatureVersion", "3"), ("TracingConfig", "On"),
                        ("NoSuchAttribute", "x"), ("DeliveryPolicy", "{not json"),
                        ("FifoTopic", "true")]:
        e2e_util.expect_error("InvalidParameter", sns.set_topic_attributes, TopicArn=arn,
                              AttributeName=name, AttributeValue=value)


def test_missing_topic(sns):
    arn = "arn:aws:sns:%s:%s:%s" % (e2e_util.REGION, e2e_util.ACCOUNT, uname())
    msg = e2e_util.expect_error("NotFound", sns.get_topic_attributes, TopicArn=arn, status=404)
    assert msg == "Topic does not exist"
    e2e_util.expect_error("NotFound", sns.publish, TopicArn=arn, Message="x", status=404)
    e2e_util.expect_error("NotFound", sns.subscribe, TopicArn=arn, Protocol="sqs",
                          Endpoint="arn:aws:sqs:us-east-1:000000000000:q", status=404)
    e2e_util.expect_error("NotFound", sns.list_subscriptions_by_topic, TopicArn=arn, status=404)
    e2e_util.expect_error("InvalidParameter", sns.get_topic_attributes, TopicArn="nope")
    sns.delete_topic(TopicArn=arn)  # deleting what is not there succeeds


def test_list_topics_pages(sns):
    arns = {sns.create_topic(Name=uname("page"))["TopicArn"] for _ in range(105)}
    seen, token, pages = [], None, 0
    while True:
        r = sns.list_topics(**({"NextToken": token} if token else {}))
        pages += 1
        assert len(r["Topics"]) <= 100
        seen += [t["TopicArn"] for t in r["Topics"]]
        token = r.get("NextToken")
        if not token:
            break
    assert pages >= 2
    assert arns <= set(seen) and len(seen) == len(set(seen))
    for a in arns:
        sns.delete_topic(TopicArn=a)


def test_delete_topic_removes_subscriptions(sns, sqs, queue):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=arn_of(sqs, queue()),
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.delete_topic(TopicArn=arn)
    e2e_util.expect_error("NotFound", sns.get_subscription_attributes, SubscriptionArn=sub,
                          status=404)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


# ------------------------------------------------------------ subscriptions

def test_subscribe_idempotent_and_conflict(sns, sqs, queue):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    qa = arn_of(sqs, queue())
    s1 = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qa,
                       Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    assert s1.startswith(arn + ":")  # SQS subscriptions need no confirmation
    s2 = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qa,
                       Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    assert s1 == s2
    msg = e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=arn, Protocol="sqs",
                                Endpoint=qa, Attributes={"RawMessageDelivery": "false"})
    assert msg == "Invalid parameter: Attributes Reason: Subscription already exists with " \
                  "different attributes"
    # attributes not given again are not compared
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qa)["SubscriptionArn"] == s1
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qa,
                         Attributes={"RawMessageDelivery": "True"})["SubscriptionArn"] == s1
    assert len(sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]) == 1
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["SubscriptionsConfirmed"] == "1"


def test_subscribe_validation(sns, sqs, queue):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    msg = e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=arn,
                                Protocol="carrier-pigeon", Endpoint="x")
    assert msg == "Invalid parameter: Amazon SNS does not support this protocol string: " \
                  "carrier-pigeon"
    e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=arn, Protocol="sqs",
                          Endpoint="http://not-an-arn")
    e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=arn, Protocol="http",
                          Endpoint="https://example.com")
    qa = arn_of(sqs, queue())
    msg = e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=arn, Protocol="sqs",
                                Endpoint=qa, Attributes={"RawMessageDelivery": "yes"})
    assert "RawMessageDelivery" in msg
    e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=arn, Protocol="sqs",
                          Endpoint=qa, Attributes={"Bogus": "1"})
    e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=arn, Protocol="sqs",
                          Endpoint=qa, Attributes={"RedrivePolicy": "{}"})


def test_subscription_attributes_and_unsubscribe(sns, sqs, queue):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    qa = arn_of(sqs, queue())
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qa)["SubscriptionArn"]
    a = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert a["SubscriptionArn"] == sub and a["TopicArn"] == arn and a["Endpoint"] == qa
    assert a["Protocol"] == "sqs" and a["Owner"] == e2e_util.ACCOUNT
    assert a["PendingConfirmation"] == "false" and a["RawMessageDelivery"] == "false"
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue='{"a": ["b"]}')
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps({"deadLetterTargetArn": qa}))
    a = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(a["FilterPolicy"]) == {"a": ["b"]}
    assert a["FilterPolicyScope"] == "MessageAttributes"
    assert json.loads(a["RedrivePolicy"]) == {"deadLetterTargetArn": qa}
    e2e_util.expect_error("InvalidParameter", sns.set_subscription_attributes,
                          SubscriptionArn=sub, AttributeName="Nope", AttributeValue="x")
    sns.unsubscribe(SubscriptionArn=sub)
    msg = e2e_util.expect_error("NotFound", sns.get_subscription_attributes,
                                SubscriptionArn=sub, status=404)
    assert msg == "Subscription does not exist"
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (a["SubscriptionsConfirmed"], a["SubscriptionsDeleted"]) == ("0", "1")
    sns.unsubscribe(SubscriptionArn=sub)  # a second time: still fine
    msg = e2e_util.expect_error("InvalidParameter", sns.unsubscribe, SubscriptionArn="garbage")
    assert msg == "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 " \
                  "elements, not 1"
    msg = e2e_util.expect_error("InvalidParameter", sns.unsubscribe, SubscriptionArn=arn)
    assert msg == "Invalid parameter: SubscriptionId"


def test_list_subscriptions_pages(sns):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    made = set()
    for i in range(102):
        made.add(sns.subscribe(TopicArn=arn, Protocol="sqs",
                               Endpoint="arn:aws:sqs:us-east-1:000000000000:none-%d" % i
                               )["SubscriptionArn"])
    seen, token = [], None
    while True:
        r = sns.list_subscriptions_by_topic(TopicArn=arn, **({"NextToken": token}
                                                           if token else {}))
        assert len(r["Subscriptions"]) <= 100
        seen += [s["SubscriptionArn"] for s in r["Subscriptions"]]
        token = r.get("NextToken")
        if not token:
            break
    assert set(seen) == made and len(seen) == 102
    everything = []
    paginator = sns.get_paginator("list_subscriptions")
    for page in paginator.paginate():
        everything += [s["SubscriptionArn"] for s in page["Subscriptions"]]
    assert made <= set(everything)
    sns.delete_topic(TopicArn=arn)


# ------------------------------------------------------------ tags and permissions

def test_tags(sns):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"},
                                            {"Key": "b", "Value": "2"}])
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"a": "1", "b": "2"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"b": "2"}
    missing = arn + "-missing"
    e2e_util.expect_error("ResourceNotFound", sns.list_tags_for_resource, ResourceArn=missing,
                          status=404)
    msg = e2e_util.expect_error("InvalidParameter", sns.tag_resource, ResourceArn=arn,
                                Tags=[{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}])
    assert msg == "Invalid parameter: Duplicated keys are not allowed."
    e2e_util.expect_error("TagLimitExceeded", sns.tag_resource, ResourceArn=arn,
                          Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])


def test_permissions(sns):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="lbl", AWSAccountId=["111122223333"],
                       ActionName=["Publish", "Subscribe"])
    pol = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    st = [s for s in pol["Statement"] if s.get("Sid") == "lbl"][0]
    assert st["Principal"]["AWS"] == ["arn:aws:iam::111122223333:root"]
    assert st["Action"] == ["SNS:Publish", "SNS:Subscribe"]
    e2e_util.expect_error("InvalidParameter", sns.add_permission, TopicArn=arn, Label="lbl",
                          AWSAccountId=["111122223333"], ActionName=["Publish"])
    sns.remove_permission(TopicArn=arn, Label="lbl")
    pol = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert not [s for s in pol["Statement"] if s.get("Sid") == "lbl"]


# ------------------------------------------------------------ publish validation

def test_publish_validation(sns, sns_nv):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    assert len(sns.publish(TargetArn=arn, Message="via target")["MessageId"]) == 36
    msg = e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=arn, Message="")
    assert msg == "Invalid parameter: Empty message"
    e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=arn, Message="x",
                          Subject="line\nbreak")
    e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=arn, Message="x" * 262145)
    msg = e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=arn,
                                Message='{"sqs": "x"}', MessageStructure="json")
    assert "No default entry in JSON message body" in msg
    e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=arn, Message="{bad",
                          MessageStructure="json")
    msg = e2e_util.expect_error("ParameterValueInvalid", sns.publish, TopicArn=arn, Message="x",
                                MessageAttributes={"n": {"DataType": "Number",
                                                         "StringValue": "one"}})
    assert msg == "Could not cast message attribute 'n' value to number."
    msg = e2e_util.expect_error("ParameterValueInvalid", sns.publish, TopicArn=arn, Message="x",
                                MessageAttributes={"n": {"DataType": "Blob",
                                                         "StringValue": "1"}})
    assert "supported type prefixes is Binary, Number, and String" in msg
    e2e_util.expect_error("ParameterValueInvalid", sns_nv.publish, TopicArn=arn, Message="x",
                          MessageAttributes={"s": {"DataType": "String", "StringValue": ""}})
    e2e_util.expect_error("ParameterValueInvalid", sns.publish, TopicArn=arn, Message="x",
                          MessageAttributes={"a": {"DataType": "String.Array",
                                                   "StringValue": "not an array"}})
    for name, text in [(".a", "Invalid message attribute name starting with character '.' "
                               "was found."),
                       ("a.", "Invalid message attribute name ending with character '.' "
                              "was found."),
                       ("a..b", "Message attribute name can not have successive '.' "
                                "character."),
                       ("a b", "Invalid non-alphanumeric character '#x20' was found in the "
                               "message attribute name. Can only include alphanumeric "
                               "characters, hyphens, underscores, or dots.")]:
        msg = e2e_util.expect_error("ParameterValueInvalid", sns.publish, TopicArn=arn,
                                    Message="x", MessageAttributes={
                                        name: {"DataType": "String", "StringValue": "v"}})
        assert msg == text
    msg = e2e_util.expect_error("ParameterValueInvalid", sns.publish, TopicArn=arn, Message="x",
                                MessageAttributes={"b": {"DataType": "Binary",
                                                         "StringValue": "v"}})
    assert msg == "The message attribute 'b' with type 'Binary' must use field 'Binary'."
    msg = e2e_util.expect_error("InvalidParameter", sns.publish, PhoneNumber="not-a-phone",
                                Message="x")
    assert "is not valid to publish to" in msg
    msg = e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn="arn:aws:sns:x",
                                Message="x")
    assert msg == "Invalid parameter: TopicArn Reason: An ARN must have at least 6 " \
                  "elements, not 4"
    other_region = arn.replace(e2e_util.REGION, "eu-west-3")
    msg = e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=other_region,
                                Message="x")
    assert msg == "Invalid parameter: TopicArn"


def test_publish_batch_validation(sns):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    e2e_util.expect_error("EmptyBatchRequest", sns.publish_batch, TopicArn=arn,
                          PublishBatchRequestEntries=[])
    e2e_util.expect_error("TooManyEntriesInBatchRequest", sns.publish_batch, TopicArn=arn,
                          PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"}
                                                      for i in range(11)])
    e2e_util.expect_error("BatchEntryIdsNotDistinct", sns.publish_batch, TopicArn=arn,
                          PublishBatchRequestEntries=[{"Id": "a", "Message": "m"},
                                                      {"Id": "a", "Message": "n"}])
    msg = e2e_util.expect_error("InvalidBatchEntryId", sns.publish_batch, TopicArn=arn,
                                PublishBatchRequestEntries=[{"Id": "bad id!", "Message": "m"}])
    assert msg == "The Id of a batch entry in the batch request contains an impermissible " \
                  "character: bad id!"
    msg = e2e_util.expect_error("InvalidBatchEntryId", sns.publish_batch, TopicArn=arn,
                                PublishBatchRequestEntries=[{"Id": "x" * 81, "Message": "m"}])
    assert msg.startswith("The Id of a batch entry in the batch request is too long: ")
    r = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "ok", "Message": "m"}, {"Id": "empty", "Message": ""}])
    assert [e["Id"] for e in r["Successful"]] == ["ok"]
    assert r["Failed"] == [{"Id": "empty", "Code": "InvalidParameter",
                            "Message": "Invalid parameter: Empty message", "SenderFault": True}]


# ------------------------------------------------------------ wire and clients

def test_xml_shapes(endpoint, sns):
    arn = sns.create_topic(Name=uname())["TopicArn"]
    status, _, body = e2e_util.query_post(endpoint, {
        "Action": "GetTopicAttributes", "Version": "2010-03-31", "TopicArn": arn})
    assert status == 200
    root = ET.fromstring(body)
    assert root.tag == "{%s}GetTopicAttributesResponse" % SNS_XMLNS
    entries = root.findall("./{%s}GetTopicAttributesResult/{%s}Attributes/{%s}entry"
                           % (SNS_XMLNS, SNS_XMLNS, SNS_XMLNS))
    assert any(e.find("{%s}key" % SNS_XMLNS).text == "TopicArn" for e in entries)
    status, _, body = e2e_util.query_post(endpoint, {
        "Action": "GetTopicAttributes", "Version": "2010-03-31", "TopicArn": arn + "x"})
    assert status == 404
    typ, code, msg, rid = e2e_util.parse_xml_error(body)
    assert (typ, code, msg) == ("Sender", "NotFound", "Topic does not exist") and rid


def test_aws_cli(endpoint):
    name = uname("cli")
    env = {"AWS_ACCESS_KEY_ID": e2e_util.DUMMY_KEY, "AWS_SECRET_ACCESS_KEY":
           e2e_util.DUMMY_SECRET, "AWS_DEFAULT_REGION": e2e_util.REGION, "PATH": "/usr/bin:/bin",
           "HOME": "/tmp"}
    out = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "sns", "create-topic",
                          "--name", name, "--attributes", "DisplayName=cli"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    arn = json.loads(out.stdout)["TopicArn"]
    out = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "sns", "publish",
                          "--topic-arn", arn, "--message", "from the cli"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["MessageId"]) == 36


def test_state_survives_restart(fresh_server):
    sns = sns_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    arn = sns.create_topic(Name=uname(), Attributes={"DisplayName": "kept"},
                           Tags=[{"Key": "t", "Value": "1"}])["TopicArn"]
    fifo = sns.create_topic(Name=uname() + ".fifo", Attributes={"FifoTopic": "true"}
                            )["TopicArn"]
    qa = arn_of(sqs, sqs.create_queue(QueueName=uname())["QueueUrl"])
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qa,
                        Attributes={"FilterPolicy": '{"x": ["y"]}'})["SubscriptionArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/none")
    fresh_server.restart()
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["DisplayName"] == "kept"
    assert (a["SubscriptionsConfirmed"], a["SubscriptionsPending"]) == ("1", "1")
    assert sns.get_topic_attributes(TopicArn=fifo)["Attributes"]["FifoTopic"] == "true"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "t", "Value": "1"}]
    s = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(s["FilterPolicy"]) == {"x": ["y"]}
