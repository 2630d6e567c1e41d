"""More regressions found by checking sluice's SQS against behaviours that
were reported as bugs in other SQS implementations (LocalStack, floci,
moto, AWS SDK trackers...) and that AWS's documentation settles.  Each test
names the report and the AWS source of its expectation; both protocols are
exercised where the request shapes differ."""
import json
import time

import pytest

import e2e_util
from e2e_util import expect_error


def queue_arn(sqs, url):
    return e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]


def receive_all(sqs, url, wait=1, **kw):
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                               AttributeNames=["All"], **kw).get("Messages", [])


def test_standard_queue_rejects_fifoqueue_false(endpoint, sqs, qname):
    """FifoQueue can only be "true" or absent: AWS answers "Unknown Attribute
    FifoQueue." (InvalidAttributeName) to FifoQueue=false on a standard
    queue.  Reports: aws/aws-sdk-php#1331 (AWS's reply quoted), aws/aws-cdk
    #31922 (CloudFormation fails with the same AWS error)."""
    msg = expect_error("InvalidAttributeName", sqs.create_queue, QueueName=qname(),
                       Attributes={"FifoQueue": "false"})
    assert "FifoQueue" in msg
    status, _, body = e2e_util.json_post(endpoint, "CreateQueue", {
        "QueueName": qname(), "Attributes": {"FifoQueue": "false"}})
    assert status == 400, body
    assert json.loads(body)["__type"].endswith("#InvalidAttributeName"), body


def test_batch_total_limit_is_fixed_not_the_queue_maximum_message_size(endpoint, sqs, queue):
    """API_SendMessageBatch: "The maximum allowed individual message size and
    the maximum total payload size (the sum of the individual lengths of all
    of the batched messages) are both 1 MiB (1,048,576 bytes)."  The queue's
    MaximumMessageSize limits each message, not the batch: two 1000-byte
    messages fit a queue whose limit is 1024 (AWS's error text, e.g. in
    awslabs/amazon-sqs-python-extended-client-lib#25, names the fixed
    limit; moto#6550 fixed the same check)."""
    url = queue({"MaximumMessageSize": 1024})
    entries = [{"Id": "a", "MessageBody": "x" * 1000}, {"Id": "b", "MessageBody": "y" * 1000}]
    out = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(e["Id"] for e in out.get("Successful", [])) == ["a", "b"], out
    status, _, body = e2e_util.json_post(endpoint, "SendMessageBatch",
                                         {"QueueUrl": url, "Entries": entries})
    assert status == 200, body
    assert len(json.loads(body)["Successful"]) == 2, body


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "0x10"])
def test_number_attribute_must_be_a_decimal_number(sqs, queue, value):
    """Number attributes are parsed as decimal numbers (SQS Developer Guide,
    message attribute data types; aws/aws-sdk-go#427: "The service will
    parse the number as a decimal").  NaN, infinities and hex literals are
    not decimal numbers; sluice takes whatever strtod() takes."""
    url = queue()
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url, MessageBody="n",
                 MessageAttributes={"n": {"DataType": "Number", "StringValue": value}})


def test_number_attribute_outside_the_documented_range(sqs, queue):
    """SQS Developer Guide, message attribute data types: "A number can have
    up to 38 digits of precision, and it can be between 10^-128 and
    10^+126."  1e200 is outside that range."""
    url = queue()
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url, MessageBody="n",
                 MessageAttributes={"n": {"DataType": "Number", "StringValue": "1e200"}})


def test_trace_header_from_http_header_becomes_aws_trace_header(endpoint, sqs, queue):
    """X-Ray Developer Guide, Amazon SQS: "The default trace header is
    carried by X-Amzn-Trace-Id and corresponds to all messages included in a
    SendMessage or SendMessageBatch request"; it comes back as the
    AWSTraceHeader system attribute.  LocalStack added this after checking
    AWS (localstack/localstack#12810)."""
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    client = e2e_util.sqs_client(endpoint)
    client.meta.events.register(
        "before-send.sqs.*",
        lambda request, **kw: request.headers.__setitem__("X-Amzn-Trace-Id", trace))
    url = queue()
    client.send_message(QueueUrl=url, MessageBody="single")
    client.send_message_batch(QueueUrl=url, Entries=[{"Id": "b", "MessageBody": "batch"}])
    got = e2e_util.drain(sqs, url, expect=2)
    assert sorted(m["Body"] for m in got.values()) == ["batch", "single"]
    assert [m["Attributes"].get("AWSTraceHeader") for m in got.values()] == [trace, trace]


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_fifo_dead_letter_retention_restarts_when_the_message_moves(sqs, queue):
    """SQS Developer Guide, dead-letter queue retention: "For standard
    queues, the expiration of a message is always based on its original
    enqueue timestamp ... For FIFO queues, the enqueue timestamp resets when
    the message is moved to a dead-letter queue."  A FIFO message moved ~35 s
    after it was sent to a DLQ that keeps messages 60 s is still there 65 s
    after the send; the standard copy is gone (the control)."""
    urls = {}
    for kind in ("fifo", "std"):
        base = ({"FifoQueue": "true", "ContentBasedDeduplication": "true"}
                if kind == "fifo" else {})
        sfx = ".fifo" if kind == "fifo" else ""
        dlq = queue(dict(base, MessageRetentionPeriod=60), suffix="-dlq" + sfx)
        src = queue(dict(base, VisibilityTimeout=1, RedrivePolicy=json.dumps(
            {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": 1})),
            suffix="-src" + sfx)
        kw = {"MessageGroupId": "g"} if kind == "fifo" else {}
        sqs.send_message(QueueUrl=src, MessageBody="old " + kind, **kw)
        urls[kind] = (src, dlq)
    sent = time.time()
    time.sleep(35)
    for src, dlq in urls.values():
        assert len(receive_all(sqs, src, wait=0)) == 1
        time.sleep(1.5)
        assert receive_all(sqs, src, wait=0) == []  # this receive moves it
        assert e2e_util.queue_attrs(sqs, dlq, "ApproximateNumberOfMessages") == {
            "ApproximateNumberOfMessages": "1"}
    time.sleep(max(0.0, sent + 65 - time.time()))
    assert receive_all(sqs, urls["std"][1], wait=0) == []
    assert [m["Body"] for m in receive_all(sqs, urls["fifo"][1], wait=0)] == ["old fifo"]
