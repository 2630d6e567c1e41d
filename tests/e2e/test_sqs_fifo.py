"""SQS FIFO queues and fair groups on standard queues, through boto3 (Query)
and raw AWS JSON requests."""
import hashlib
import json
import threading
import time

import pytest

from e2e_util import expect_error, json_post, sqs_client


@pytest.fixture
def fifo(sqs, qname):
    def make(attributes=None, suffix=""):
        attrs = {"FifoQueue": "true"}
        attrs.update(attributes or {})
        return sqs.create_queue(QueueName=qname(suffix) + ".fifo",
                                Attributes=attrs)["QueueUrl"]
    return make


def bodies(msgs):
    return [m["Body"] for m in msgs]


def test_fifo_name_and_attribute_must_agree(sqs, qname):
    expect_error("InvalidParameterValue", sqs.create_queue,
                 QueueName=qname() + ".fifo")
    expect_error("InvalidParameterValue", sqs.create_queue, QueueName=qname(),
                 Attributes={"FifoQueue": "true"})


def test_fifo_attributes_reported(sqs, fifo):
    url = fifo({"ContentBasedDeduplication": "true"})
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert a["FifoQueue"] == "true"
    assert a["ContentBasedDeduplication"] == "true"
    assert a["DeduplicationScope"] == "queue"
    assert a["FifoThroughputLimit"] == "perQueue"


def test_fifo_send_requires_group_and_dedup(sqs, fifo):
    url = fifo()
    expect_error("MissingParameter", sqs.send_message, QueueUrl=url, MessageBody="x",
                 MessageDeduplicationId="d")
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url, MessageBody="x",
                 MessageGroupId="g")
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url, MessageBody="x",
                 MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=5)
    # DelaySeconds=0 is accepted
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                     MessageDeduplicationId="d0", DelaySeconds=0)


def test_dedup_id_on_standard_queue_is_rejected(sqs, queue):
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=queue(),
                 MessageBody="x", MessageDeduplicationId="d")


def test_duplicate_returns_original_ids_and_is_not_delivered(sqs, fifo):
    url = fifo()
    a = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g",
                         MessageDeduplicationId="same")
    b = sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="h",
                         MessageDeduplicationId="same")
    assert a["MessageId"] == b["MessageId"]
    assert a["SequenceNumber"] == b["SequenceNumber"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert bodies(got) == ["one"]
    # still deduplicated after the original is deleted
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    c = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g",
                         MessageDeduplicationId="same")
    assert c["MessageId"] == a["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)


def test_message_group_dedup_scope(sqs, fifo):
    url = fifo({"DeduplicationScope": "messageGroup",
                "FifoThroughputLimit": "perMessageGroupId"})
    a = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g1",
                         MessageDeduplicationId="d")
    b = sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g2",
                         MessageDeduplicationId="d")
    assert a["MessageId"] != b["MessageId"]


def test_content_based_dedup_uses_sha256_of_body(sqs, fifo):
    url = fifo({"ContentBasedDeduplication": "true"})
    a = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageGroupId="g",
                         MessageAttributes={"k": {"DataType": "String",
                                                  "StringValue": "v"}})
    assert a["MessageId"] == b["MessageId"]
    m = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert m["Attributes"]["MessageDeduplicationId"] == \
        hashlib.sha256(b"hello").hexdigest()


def test_purge_clears_dedup_window(sqs, fifo):
    url = fifo()
    a = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g",
                         MessageDeduplicationId="d")
    sqs.purge_queue(QueueUrl=url)
    b = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g",
                         MessageDeduplicationId="d")
    assert a["MessageId"] != b["MessageId"]


def test_sequence_numbers_increase(sqs, fifo):
    url = fifo()
    seqs = [int(sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g",
                                 MessageDeduplicationId=str(i))["SequenceNumber"])
            for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    m = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert int(m["Attributes"]["SequenceNumber"]) == seqs[0]
    assert m["Attributes"]["MessageGroupId"] == "g"


def test_group_order_and_locking(sqs, fifo):
    url = fifo()
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody="a%d" % i, MessageGroupId="A",
                         MessageDeduplicationId="a%d" % i)
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="b%d" % i, MessageGroupId="B",
                         MessageDeduplicationId="b%d" % i)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert bodies(first) == ["a0", "a1"]
    # group A is locked while a0/a1 are in flight; B flows
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert bodies(second) == ["b0", "b1"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # a partial delete keeps the group locked
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    third = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert bodies(third) == ["a2", "a3"]


def test_visibility_timeout_return_keeps_order(sqs, fifo):
    url = fifo()
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g",
                         MessageDeduplicationId=str(i))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                              VisibilityTimeout=1)["Messages"]
    assert bodies(got) == ["0"]
    time.sleep(1.3)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert bodies(again) == ["0", "1", "2"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_zero_visibility_releases_group(sqs, fifo):
    url = fifo()
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                     MessageDeduplicationId="x")
    a = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    b = sqs.receive_message(QueueUrl=url)["Messages"]
    assert a[0]["MessageId"] == b[0]["MessageId"]


def test_expired_fifo_receipt_handle_rejected(sqs, fifo):
    url = fifo()
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                     MessageDeduplicationId="x")
    m = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
    time.sleep(1.3)
    expect_error("InvalidParameterValue", sqs.delete_message, QueueUrl=url,
                 ReceiptHandle=m["ReceiptHandle"])


def test_receive_request_attempt_id_retry(sqs, fifo):
    url = fifo()
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g%d" % i,
                         MessageDeduplicationId=str(i))
    a = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                            ReceiveRequestAttemptId="try-1")["Messages"]
    b = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                            ReceiveRequestAttemptId="try-1")["Messages"]
    assert [m["ReceiptHandle"] for m in a] == [m["ReceiptHandle"] for m in b]
    # once one of them is deleted, the retry no longer replays
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a[0]["ReceiptHandle"])
    c = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                            ReceiveRequestAttemptId="try-1")
    assert "Messages" not in c


def test_batch_keeps_order_within_group(sqs, fifo):
    url = fifo()
    entries = [{"Id": "e%d" % i, "MessageBody": "m%d" % i, "MessageGroupId": "g",
                "MessageDeduplicationId": "m%d" % i} for i in range(10)]
    r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(r["Successful"]) == 10
    seqs = [int(e["SequenceNumber"]) for e in r["Successful"]]
    assert seqs == sorted(seqs)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert bodies(got) == ["m%d" % i for i in range(10)]


def test_batch_entry_without_group_fails_alone(sqs, fifo):
    url = fifo()
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "x", "MessageGroupId": "g",
         "MessageDeduplicationId": "x"},
        {"Id": "bad", "MessageBody": "y", "MessageDeduplicationId": "y"}])
    assert [e["Id"] for e in r["Successful"]] == ["ok"]
    assert r["Failed"][0]["Id"] == "bad" and r["Failed"][0]["SenderFault"]


def test_fifo_dead_letter_queue_must_be_fifo(sqs, fifo, queue):
    std = queue()
    std_arn = sqs.get_queue_attributes(QueueUrl=std, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = fifo()
    expect_error("InvalidParameterValue", sqs.set_queue_attributes, QueueUrl=url,
                 Attributes={"RedrivePolicy": json.dumps(
                     {"deadLetterTargetArn": std_arn, "maxReceiveCount": 1})})


def test_fifo_dead_letter_keeps_group_order(sqs, fifo):
    dlq = fifo(suffix="dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = fifo({"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                             "maxReceiveCount": 1})})
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g",
                         MessageDeduplicationId=str(i))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                              VisibilityTimeout=1)["Messages"]
    assert bodies(got) == ["0", "1", "2"]
    time.sleep(1.3)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    moved = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                AttributeNames=["All"])["Messages"]
    assert bodies(moved) == ["0", "1", "2"]
    assert moved[0]["Attributes"]["MessageGroupId"] == "g"


def test_two_consumers_one_group(endpoint, fifo):
    """Concurrent receivers never hold two messages of one group at once."""
    c = sqs_client(endpoint)
    url = fifo()
    for i in range(20):
        c.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g",
                       MessageDeduplicationId=str(i))
    seen, lock, errors = [], threading.Lock(), []

    def consume():
        cl = sqs_client(endpoint)
        deadline = time.time() + 20
        while time.time() < deadline:
            with lock:
                if len(seen) >= 20:
                    return
            r = cl.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                with lock:
                    seen.append(int(m["Body"]))
                cl.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    threads = [threading.Thread(target=consume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == list(range(20)), errors


def test_fair_groups_on_standard_queue(sqs, queue):
    url = queue()
    entries = [{"Id": str(i), "MessageBody": "flood", "MessageGroupId": "big"}
               for i in range(10)]
    for _ in range(10):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    sqs.send_message(QueueUrl=url, MessageBody="small", MessageGroupId="tiny")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                              AttributeNames=["MessageGroupId"])["Messages"]
    # the small group is served in the first receive despite 100 ahead of it
    assert "small" in bodies(got)
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"big", "tiny"}


def test_fifo_over_json_protocol(endpoint, fifo):
    url = fifo()
    st, _, body = json_post(endpoint, "SendMessage", {
        "QueueUrl": url, "MessageBody": "j", "MessageGroupId": "g",
        "MessageDeduplicationId": "j"})
    assert st == 200
    sent = json.loads(body)
    assert sent["SequenceNumber"].isdigit()
    st, _, body = json_post(endpoint, "ReceiveMessage", {
        "QueueUrl": url, "MessageSystemAttributeNames": ["All"]})
    msg = json.loads(body)["Messages"][0]
    assert msg["MessageId"] == sent["MessageId"]
    assert msg["Attributes"]["SequenceNumber"] == sent["SequenceNumber"]


def test_fifo_state_survives_restart(fresh_server):
    c = sqs_client(fresh_server.endpoint)
    url = c.create_queue(QueueName="restart.fifo",
                         Attributes={"FifoQueue": "true"})["QueueUrl"]
    for i in range(3):
        c.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g",
                       MessageDeduplicationId=str(i))
    inflight = c.receive_message(QueueUrl=url, VisibilityTimeout=2)["Messages"]
    assert bodies(inflight) == ["0"]
    fresh_server.restart(crash=True)
    c = sqs_client(fresh_server.endpoint)
    # the in-flight message still locks its group, then comes back first
    assert "Messages" not in c.receive_message(QueueUrl=url)
    dup = c.send_message(QueueUrl=url, MessageBody="0", MessageGroupId="g",
                         MessageDeduplicationId="0")
    assert dup["MessageId"] == inflight[0]["MessageId"]
    time.sleep(2.2)
    got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert bodies(got) == ["0", "1", "2"]


def test_long_poll_wakes_when_a_delete_unlocks_the_group(sqs, fifo):
    url = fifo()
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g",
                         MessageDeduplicationId=str(i))
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    result = {}

    def poll():
        t0 = time.time()
        r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
        result["bodies"] = bodies(r.get("Messages", []))
        result["secs"] = time.time() - t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    t.join()
    assert result["bodies"] == ["1"]
    assert result["secs"] < 3
