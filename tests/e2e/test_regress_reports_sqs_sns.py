"""Regressions found by checking sluice against AWS behaviours that were
reported as bugs in other SQS/SNS implementations (LocalStack, ElasticMQ,
moto, floci...) and that AWS's documentation or the botocore model settle.
Each test names the report and the AWS source of its expectation."""
import json
import time
import uuid

import boto3
import botocore.exceptions
import pytest

import e2e_util
from e2e_util import expect_error


def sns_client(endpoint):
    return boto3.session.Session().client(
        "sns", endpoint_url=endpoint, region_name=e2e_util.REGION,
        aws_access_key_id="x", aws_secret_access_key="y")


def queue_arn(sqs, url):
    return e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]


def receive_all(sqs, url, wait=1):
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                               AttributeNames=["All"],
                               MessageAttributeNames=["All"]).get("Messages", [])


def topic_with_raw_and_envelope_queues(endpoint, sqs, queue):
    """A topic with one RawMessageDelivery SQS subscription and one
    enveloped one; returns (sns client, topic arn, raw url, envelope url)."""
    sns = sns_client(endpoint)
    topic = sns.create_topic(Name="reports-" + uuid.uuid4().hex[:8])["TopicArn"]
    raw_url = queue(suffix="-raw")
    env_url = queue(suffix="-env")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, raw_url),
                  Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, env_url))
    return sns, topic, raw_url, env_url


def test_fifo_queue_delay_change_applies_to_waiting_messages(sqs, queue):
    """SQS Developer Guide, delay queues: "For FIFO queues, the per-queue
    delay setting is retroactive - changing the setting affects the delay of
    messages already in the queue."
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-delay-queues.html
    (the LocalStack rework in localstack/localstack#6591 follows it)."""
    url = queue({"FifoQueue": "true", "ContentBasedDeduplication": "true",
                 "DelaySeconds": 60}, suffix=".fifo")
    sqs.send_message(QueueUrl=url, MessageBody="waiting out the queue delay",
                     MessageGroupId="g")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0"})
    got = e2e_util.wait_until(lambda: receive_all(sqs, url), timeout=10,
                              what="the message once the FIFO queue delay is 0")
    assert [m["Body"] for m in got] == ["waiting out the queue delay"]


def test_sns_raw_delivery_discards_more_than_ten_attributes(endpoint, sqs, queue):
    """SNS Developer Guide, message attributes: "Messages with more than 10
    message attributes directed towards Raw Message Delivery enabled Amazon
    SQS subscriptions will be discarded as client side errors."
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
    (reports: localstack/localstack#655, moto#2331 on raw attributes)."""
    sns, topic, raw_url, env_url = topic_with_raw_and_envelope_queues(endpoint, sqs, queue)
    eleven = {"a%d" % i: {"DataType": "String", "StringValue": "v"} for i in range(11)}
    sns.publish(TopicArn=topic, Message="eleven attributes", MessageAttributes=eleven)
    env = e2e_util.wait_until(lambda: receive_all(sqs, env_url), timeout=10,
                              what="the enveloped copy")
    assert len(json.loads(env[0]["Body"])["MessageAttributes"]) == 11
    assert receive_all(sqs, raw_url, wait=2) == []
    # Ten are fine for the same subscription.
    ten = dict(list(eleven.items())[:10])
    sns.publish(TopicArn=topic, Message="ten attributes", MessageAttributes=ten)
    raw = e2e_util.wait_until(lambda: receive_all(sqs, raw_url), timeout=10,
                              what="the raw copy with ten attributes")
    assert raw[0]["Body"] == "ten attributes"
    assert len(raw[0]["MessageAttributes"]) == 10


def test_sns_json_message_structure_delivers_no_attributes(endpoint, sqs, queue):
    """SNS Developer Guide, message attributes: "Message attributes are sent
    only when the message structure is String, not JSON."
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
    Seen on AWS in boto/boto3#1513 (MessageAttributes empty with
    MessageStructure=json); serverless-offline-sns#19 copies it."""
    sns, topic, raw_url, env_url = topic_with_raw_and_envelope_queues(endpoint, sqs, queue)
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "per-protocol text"}),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}})
    raw = e2e_util.wait_until(lambda: receive_all(sqs, raw_url), timeout=10,
                              what="the raw copy")
    assert raw[0]["Body"] == "per-protocol text"
    assert "MessageAttributes" not in raw[0]
    env = e2e_util.wait_until(lambda: receive_all(sqs, env_url), timeout=10,
                              what="the enveloped copy")
    body = json.loads(env[0]["Body"])
    assert body["Message"] == "per-protocol text"
    assert "MessageAttributes" not in body


def test_change_visibility_after_the_timeout_ran_out_leaves_the_message_visible(sqs, queue):
    """A message whose visibility timeout has run out is no longer in flight:
    ChangeMessageVisibility with its old handle answers OK and does nothing
    (LocalStack's AWS-validated test in localstack/localstack#9632); it must
    not hide the message again.  Report: floci-io/floci#902."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="expired receipt")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0][
        "ReceiptHandle"]
    time.sleep(2)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=600)
    got = receive_all(sqs, url)
    assert [m["Body"] for m in got] == ["expired receipt"]


@pytest.mark.parametrize("attempt_id", ["has space", "caf\u00e9"])
def test_receive_request_attempt_id_charset(sqs, queue, attempt_id):
    """ReceiveRequestAttemptId "can contain alphanumeric characters (a-z,
    A-Z, 0-9) and punctuation" (botocore model, API_ReceiveMessage); sluice
    checks the length and says so in its error text, but lets other
    characters through."""
    url = queue({"FifoQueue": "true"}, suffix=".fifo")
    expect_error("InvalidParameterValue", sqs.receive_message, QueueUrl=url,
                 ReceiveRequestAttemptId=attempt_id)


def test_redrive_policy_error_names_the_bad_count(sqs, queue, qname):
    """AWS's text: "... Reason: Invalid value for maxReceiveCount: 0, valid
    values are from 1 to 1000 both inclusive." (AWS-recorded texts copied by
    other emulators' tests); sluice prints "?" for a JSON number."""
    dlq = queue_arn(sqs, queue(suffix="-dlq"))
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        sqs.create_queue(QueueName=qname(), Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq, "maxReceiveCount": 0})})
    _, status, msg = e2e_util.error_of(ei)
    assert status == 400
    assert "Invalid value for maxReceiveCount: 0," in msg, msg
