"""A full disk: writes are refused in each protocol's words, reads go on,
nothing acknowledged is lost, and writes work again once space returns.

The server's data directory sits on a 16 MiB tmpfs (tests/e2e/smalldisk.py:
mount(8), or a private namespace through unshare when mount is not allowed;
the test is skipped only when neither works). A filler file takes most of
the space; sends fill the rest until the store reports the disk full. Then:

- every write fails with the service's error for a server-side failure:
  SQS ServiceUnavailable (503) over the Query protocol and AWS JSON 1.0,
  SNS InternalError (500), EventBridge InternalException (500), Scheduler
  InternalServerException (500);
- reads answer: ListQueues, GetQueueAttributes (the count of what was
  acknowledged), ReceiveMessage returns every acknowledged message with its
  body, the SNS, EventBridge and Scheduler listings;
- the server log says "disk full" once, not once a request.

Deleting the filler file "returns" the space: within a few seconds sends
succeed again without a restart (the log says so once), a FIFO send refused
while full is accepted with the same deduplication id (the refused call left
nothing behind in memory), SNS and EventBridge deliver again, and after a
restart every acknowledged message is still there, intact.
"""

import json
import os
import time
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

import e2e_util
import smalldisk
from conftest import Server

DISK_MB = 16
BODY = 8000          # bytes a message: a few SQLite pages each


def client(service, endpoint):
    cfg = botocore.config.Config(
        region_name=e2e_util.REGION, connect_timeout=5, read_timeout=30,
        retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


def body_for(key):
    return (key + "|" + uuid.uuid5(uuid.NAMESPACE_OID, key).hex * (BODY // 32))[:BODY]


def error(fn, *args, **kwargs):
    """(code, HTTP status) of the ClientError fn raises; fails if it works."""
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["Error"].get("Code"), r["ResponseMetadata"].get("HTTPStatusCode")


def receive_all(sqs, url, want, timeout=20, visibility=3):
    """{MessageId: body} of everything received until want (a set of ids)
    is covered and a receive comes back empty."""
    got = {}
    deadline = time.time() + timeout
    while time.time() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1,
                                   VisibilityTimeout=visibility).get("Messages", [])
        for m in msgs:
            got[m["MessageId"]] = m["Body"]
        if not msgs and want <= set(got):
            break
    return got


def log_lines(srv, text):
    return [ln for ln in srv.stderr_text().splitlines() if text in ln]


@pytest.fixture
def disk(tmp_path):
    d = smalldisk.SmallDisk(str(tmp_path / "disk"), DISK_MB)
    try:
        d.mount()
    except smalldisk.Unavailable as e:
        pytest.skip("no small file system to fill: %s" % e)
    yield d
    d.unmount()


@pytest.mark.timeout(240)
def test_disk_full_refuses_writes_keeps_data_and_recovers(tmp_path, disk):
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    srv = Server(str(tmp_path / "srv"))
    srv.data_dir = os.path.join(disk.path, "data")
    srv.command_prefix = disk.prefix
    srv.start()
    try:
        _scenario(srv, disk)
    finally:
        srv.stop()
    srv.assert_clean()


def _scenario(srv, disk):
    ep = srv.endpoint
    sqs, sns = client("sqs", ep), client("sns", ep)
    events, sched = client("events", ep), client("scheduler", ep)

    # Everything configured while there is room.
    url = sqs.create_queue(QueueName="df-std")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="df.fifo",
                            Attributes={"FifoQueue": "true"})["QueueUrl"]
    fan_url = sqs.create_queue(QueueName="df-fanout")["QueueUrl"]
    fan_arn = sqs.get_queue_attributes(
        QueueUrl=fan_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="df-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=fan_arn,
                  Attributes={"RawMessageDelivery": "true"})
    events.create_event_bus(Name="df-bus")
    events.put_rule(Name="df-rule", EventBusName="df-bus",
                    EventPattern=json.dumps({"source": ["df.test"]}))
    events.put_targets(Rule="df-rule", EventBusName="df-bus",
                       Targets=[{"Id": "q", "Arn": fan_arn}])
    fan_acked = set()     # bodies that must reach the fan-out queue

    def publish(text):
        sns.publish(TopicArn=topic, Message=text)
        fan_acked.add(text)

    def put_event(text):
        r = events.put_events(Entries=[{
            "EventBusName": "df-bus", "Source": "df.test", "DetailType": "t",
            "Detail": json.dumps({"text": text})}])
        assert r["FailedEntryCount"] == 0, r
        fan_acked.add(text)

    publish("sns-before")
    put_event("event-before")

    # Fill the disk: a filler file, then sends until the store is full.
    disk.fill_to("filler", 2 << 20)
    acked = {}
    refused = 0
    for i in range(5000):
        key = "m%d" % i
        try:
            mid = sqs.send_message(QueueUrl=url, MessageBody=body_for(key))["MessageId"]
        except botocore.exceptions.ClientError as e:
            r = e.response
            assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == \
                ("ServiceUnavailable", 503), r
            refused += 1
            if refused >= 3:
                break
            continue
        assert refused == 0, "a send succeeded after the disk was reported full"
        acked[mid] = body_for(key)
    assert refused >= 3, "the disk never filled (%d sends acknowledged)" % len(acked)
    assert len(acked) > 20
    assert len(log_lines(srv, "disk full")) == 1, srv.stderr_tail()

    # Every write is refused, in each protocol's own words.
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x") == \
        ("ServiceUnavailable", 503)
    assert error(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "y"}]) == \
        ("ServiceUnavailable", 503)
    assert error(sqs.send_message, QueueUrl=fifo, MessageBody="fifo-while-full",
                 MessageGroupId="g", MessageDeduplicationId="d-full") == \
        ("ServiceUnavailable", 503)
    assert error(sqs.create_queue, QueueName="df-new") == ("ServiceUnavailable", 503)
    assert error(sqs.set_queue_attributes, QueueUrl=url,
                 Attributes={"DelaySeconds": "1"}) == ("ServiceUnavailable", 503)
    status, headers, raw = e2e_util.json_post(
        ep, "SendMessage", {"QueueUrl": url, "MessageBody": "json"})
    assert status == 503, raw
    assert json.loads(raw)["__type"] == "com.amazonaws.sqs#ServiceUnavailable"
    assert headers.get("x-amzn-query-error") == "ServiceUnavailable;Receiver"
    assert error(sns.publish, TopicArn=topic, Message="x") == ("InternalError", 500)
    assert error(sns.create_topic, Name="df-other") == ("InternalError", 500)
    assert error(events.put_events, Entries=[{
        "EventBusName": "df-bus", "Source": "df.test", "DetailType": "t",
        "Detail": "{}"}]) == ("InternalException", 500)
    assert error(events.put_rule, Name="df-rule2", EventBusName="df-bus",
                 EventPattern=json.dumps({"source": ["x"]})) == ("InternalException", 500)
    assert error(sched.create_schedule, Name="df-s", ScheduleExpression="rate(1 hours)",
                 FlexibleTimeWindow={"Mode": "OFF"},
                 Target={"Arn": fan_arn, "RoleArn": "arn:aws:iam::%s:role/r"
                         % e2e_util.ACCOUNT}) == ("InternalServerException", 500)

    # Reads work, and every acknowledged message is there, intact.
    assert url in sqs.list_queues(QueueNamePrefix="df-").get("QueueUrls", [])
    n = int(e2e_util.queue_attrs(sqs, url, "ApproximateNumberOfMessages")
            ["ApproximateNumberOfMessages"])
    assert n == len(acked)
    assert topic in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert [r["Name"] for r in events.list_rules(EventBusName="df-bus")["Rules"]] == \
        ["df-rule"]
    sched.list_schedules()
    got = receive_all(sqs, url, set(acked))
    assert set(got) == set(acked)
    assert all(got[mid] == body for mid, body in acked.items())
    # A delete is a write too: refused, and the message stays.
    msg = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5,
                              VisibilityTimeout=1)["Messages"][0]
    assert error(sqs.delete_message, QueueUrl=url,
                 ReceiptHandle=msg["ReceiptHandle"]) == ("ServiceUnavailable", 503)
    assert len(log_lines(srv, "disk full")) == 1, srv.stderr_tail()

    # Space returns: writes work again without a restart.
    disk.remove("filler")
    deadline = time.time() + 15
    while True:
        try:
            mid = sqs.send_message(QueueUrl=url, MessageBody=body_for("after"))["MessageId"]
            acked[mid] = body_for("after")
            break
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ServiceUnavailable"
            assert time.time() < deadline, "writes still refused after space returned"
            time.sleep(0.2)
    assert len(log_lines(srv, "disk space available again")) == 1, srv.stderr_tail()
    for i in range(20):
        mid = sqs.send_message(QueueUrl=url, MessageBody=body_for("after%d" % i))["MessageId"]
        acked[mid] = body_for("after%d" % i)
    # The FIFO send refused while full left no deduplication entry behind.
    r = sqs.send_message(QueueUrl=fifo, MessageBody="fifo-while-full",
                         MessageGroupId="g", MessageDeduplicationId="d-full")
    fifo_msgs = sqs.receive_message(QueueUrl=fifo, WaitTimeSeconds=5,
                                    MaxNumberOfMessages=10).get("Messages", [])
    assert [(m["MessageId"], m["Body"]) for m in fifo_msgs] == \
        [(r["MessageId"], "fifo-while-full")]
    publish("sns-after")
    put_event("event-after")
    sqs.create_queue(QueueName="df-new")

    # After a restart everything acknowledged is still there.
    srv.stop()
    srv.start()
    got = receive_all(sqs, url, set(acked), timeout=30, visibility=60)
    assert set(got) == set(acked)
    assert all(got[mid] == body for mid, body in acked.items())
    texts = set()
    for b in receive_all(sqs, fan_url, set(), timeout=10, visibility=60).values():
        try:
            texts.add(json.loads(b)["detail"]["text"])
        except (ValueError, KeyError, TypeError):
            texts.add(b)
    assert texts == fan_acked
    assert len(log_lines(srv, "disk full")) == 0


@pytest.fixture
def tiny_disk(tmp_path):
    d = smalldisk.SmallDisk(str(tmp_path / "tiny"), 8)
    try:
        d.mount()
    except smalldisk.Unavailable as e:
        pytest.skip("no small file system to fill: %s" % e)
    yield d
    d.unmount()


@pytest.mark.timeout(120)
def test_fifo_send_whose_commit_fails_leaves_no_deduplication_entry(tmp_path, tiny_disk):
    """A send bigger than all the room left, reserve included: its commit
    fails (ServiceUnavailable), and the deduplication id it carried must not
    stay behind in memory, or the retry would be answered as a duplicate of
    a message that was never stored."""
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    srv = Server(str(tmp_path / "srv"))
    srv.data_dir = os.path.join(tiny_disk.path, "data")
    srv.command_prefix = tiny_disk.prefix
    srv.start()
    try:
        sqs = client("sqs", srv.endpoint)
        url = sqs.create_queue(QueueName="df-big.fifo",
                               Attributes={"FifoQueue": "true"})["QueueUrl"]
        big = "b" * 1000000          # twice the 512 KiB reserve of an 8 MiB disk
        tiny_disk.fill_to("filler", 100 << 10)
        assert error(sqs.send_message, QueueUrl=url, MessageBody=big,
                     MessageGroupId="g", MessageDeduplicationId="big-1") == \
            ("ServiceUnavailable", 503)
        assert len(log_lines(srv, "disk full")) == 1, srv.stderr_tail()
        tiny_disk.remove("filler")
        deadline = time.time() + 15
        while True:
            try:
                r = sqs.send_message(QueueUrl=url, MessageBody=big, MessageGroupId="g",
                                     MessageDeduplicationId="big-1")
                break
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "ServiceUnavailable"
                assert time.time() < deadline, "writes still refused after space returned"
                time.sleep(0.3)
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
        assert [(m["MessageId"], len(m["Body"])) for m in got] == [(r["MessageId"], len(big))]
    finally:
        srv.stop()
    srv.assert_clean()


@pytest.mark.timeout(120)
def test_sns_fifo_publish_whose_commit_fails_leaves_no_deduplication_entry(tmp_path, tiny_disk):
    """The same for a FIFO topic: a publish whose fan-out does not fit gets
    InternalError, and its retry with the same deduplication id, once space
    is back, is delivered to every subscribed queue."""
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    srv = Server(str(tmp_path / "srv"))
    srv.data_dir = os.path.join(tiny_disk.path, "data")
    srv.command_prefix = tiny_disk.prefix
    srv.start()
    try:
        sqs, sns = client("sqs", srv.endpoint), client("sns", srv.endpoint)
        topic = sns.create_topic(Name="df-topic.fifo", Attributes={
            "FifoTopic": "true"})["TopicArn"]
        urls = []
        for i in range(4):   # four copies of 250 KB: more than the room and the reserve
            url = sqs.create_queue(QueueName="df-sub%d.fifo" % i,
                                   Attributes={"FifoQueue": "true"})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                          Attributes={"RawMessageDelivery": "true"})
            urls.append(url)
        big = "p" * 250000
        tiny_disk.fill_to("filler", 100 << 10)
        assert error(sns.publish, TopicArn=topic, Message=big, MessageGroupId="g",
                     MessageDeduplicationId="pub-1")[0] == "InternalError"
        tiny_disk.remove("filler")
        deadline = time.time() + 15
        while True:
            try:
                r = sns.publish(TopicArn=topic, Message=big, MessageGroupId="g",
                                MessageDeduplicationId="pub-1")
                break
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "InternalError"
                assert time.time() < deadline, "publishes still refused after space returned"
                time.sleep(0.3)
        assert r["MessageId"]
        for url in urls:
            got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
            assert [len(m["Body"]) for m in got] == [len(big)], url
    finally:
        srv.stop()
    srv.assert_clean()
