"""Batch actions over the Query protocol (boto3): SendMessageBatch,
DeleteMessageBatch and ChangeMessageVisibilityBatch — whole-request
validation (AWS.SimpleQueueService.* codes from the botocore model) and
per-entry failures reported in the Failed list while the other entries
succeed.
"""

import pytest

from e2e_util import expect_error, md5_hex, md5_of_attributes, queue_attrs

EMPTY = "AWS.SimpleQueueService.EmptyBatchRequest"
TOO_MANY = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
NOT_DISTINCT = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
BAD_ID = "AWS.SimpleQueueService.InvalidBatchEntryId"
TOO_LONG = "AWS.SimpleQueueService.BatchRequestTooLong"


def s_attr(v, t="String"):
    return {"DataType": t, "StringValue": v}


def receive_all(sqs, url, n, **kw):
    got = {}
    for _ in range(20):
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                WaitTimeSeconds=1, **kw)
        for m in r.get("Messages", []):
            got[m["MessageId"]] = m
        if len(got) >= n:
            break
    return got


def handles(sqs, url, n):
    for i in range(n):
        sqs.send_message(QueueUrl=url, MessageBody="h%d" % i)
    got = receive_all(sqs, url, n, VisibilityTimeout=60)
    assert len(got) == n
    return [m["ReceiptHandle"] for m in got.values()]


# ------------------------------------------------------------ SendMessageBatch

def test_send_message_batch(sqs, queue):
    url = queue()
    attrs = {"k": s_attr("v"), "n": s_attr("1", "Number")}
    entries = [{"Id": "e%d" % i, "MessageBody": "body-%d" % i}
               for i in range(9)]
    entries.append({"Id": "with_attrs-1", "MessageBody": "attrs",
                    "MessageAttributes": attrs})
    r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert r.get("Failed", []) == []
    ok = {e["Id"]: e for e in r["Successful"]}
    assert set(ok) == {e["Id"] for e in entries}
    for e in entries:
        assert ok[e["Id"]]["MD5OfMessageBody"] == md5_hex(e["MessageBody"])
    assert ok["with_attrs-1"]["MD5OfMessageAttributes"] == \
        md5_of_attributes(attrs)
    assert "MD5OfMessageAttributes" not in ok["e0"]
    assert len({e["MessageId"] for e in ok.values()}) == 10
    got = receive_all(sqs, url, 10, MessageAttributeNames=["All"])
    assert {m["Body"] for m in got.values()} == {e["MessageBody"]
                                                 for e in entries}
    by_id = {e["MessageId"]: e["Id"] for e in ok.values()}
    for mid, m in got.items():
        if by_id[mid] == "with_attrs-1":
            assert m["MessageAttributes"] == attrs


def test_send_message_batch_per_entry_delay(sqs, queue):
    url = queue()
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "now", "MessageBody": "now"},
        {"Id": "later", "MessageBody": "later", "DelaySeconds": 60}])
    assert len(r["Successful"]) == 2
    a = queue_attrs(sqs, url, "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesDelayed")
    assert a == {"ApproximateNumberOfMessages": "1",
                 "ApproximateNumberOfMessagesDelayed": "1"}


def test_send_message_batch_system_attributes(sqs, queue):
    url = queue()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    r = sqs.send_message_batch(QueueUrl=url, Entries=[{
        "Id": "t", "MessageBody": "traced",
        "MessageSystemAttributes": {"AWSTraceHeader": s_attr(trace)}}])
    e = r["Successful"][0]
    assert e["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": s_attr(trace)})


def test_send_message_batch_partial_failure(sqs_novalidate, queue):
    sqs = sqs_novalidate
    url = queue()
    entries = [
        {"Id": "good1", "MessageBody": "fine"},
        {"Id": "baddelay", "MessageBody": "x", "DelaySeconds": 901},
        {"Id": "badattr", "MessageBody": "x",
         "MessageAttributes": {"e": s_attr("")}},
        {"Id": "empty", "MessageBody": ""},
        {"Id": "good2", "MessageBody": "also fine"},
    ]
    r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(e["Id"] for e in r["Successful"]) == ["good1", "good2"]
    failed = {e["Id"]: e for e in r["Failed"]}
    assert set(failed) == {"baddelay", "badattr", "empty"}
    for f in failed.values():
        assert f["SenderFault"] is True
        assert f["Code"]
    assert failed["baddelay"]["Code"] == "InvalidParameterValue"
    assert failed["badattr"]["Code"] == "InvalidParameterValue"
    assert failed["empty"]["Code"] in ("MissingParameter",
                                       "InvalidParameterValue")
    got = receive_all(sqs, url, 2)
    assert sorted(m["Body"] for m in got.values()) == ["also fine", "fine"]


def test_send_message_batch_invalid_characters_entry(sqs, queue):
    url = queue()
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "ok"},
        {"Id": "bad", "MessageBody": "nul\x00char"}])
    assert [e["Id"] for e in r["Successful"]][0] == "ok"
    if r.get("Failed"):
        assert [(f["Id"], f["Code"]) for f in r["Failed"]] == [
            ("bad", "InvalidMessageContents")]
    else:
        bodies = {m["Body"] for m in receive_all(sqs, url, 2).values()}
        assert bodies == {"ok", "nul\ufffdchar"}


def test_send_message_batch_empty(sqs_novalidate, queue):
    url = queue()
    expect_error(EMPTY, sqs_novalidate.send_message_batch, QueueUrl=url,
                 Entries=[])


def test_send_message_batch_too_many(sqs_novalidate, queue):
    url = queue()
    entries = [{"Id": "e%d" % i, "MessageBody": "b"} for i in range(11)]
    expect_error(TOO_MANY, sqs_novalidate.send_message_batch, QueueUrl=url,
                 Entries=entries)
    assert queue_attrs(sqs_novalidate, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "0"}


def test_send_message_batch_duplicate_ids(sqs, queue):
    url = queue()
    expect_error(NOT_DISTINCT, sqs.send_message_batch, QueueUrl=url,
                 Entries=[{"Id": "same", "MessageBody": "1"},
                          {"Id": "same", "MessageBody": "2"}])
    assert queue_attrs(sqs, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "0"}


@pytest.mark.parametrize("bad_id", ["has space", "dot.id", "x" * 81, "ü"])
def test_send_message_batch_malformed_id(sqs_novalidate, queue, bad_id):
    url = queue()
    expect_error(BAD_ID, sqs_novalidate.send_message_batch, QueueUrl=url,
                 Entries=[{"Id": "fine", "MessageBody": "1"},
                          {"Id": bad_id, "MessageBody": "2"}])


def test_send_message_batch_id_limits_accepted(sqs, queue):
    url = queue()
    long_id = ("A-z_09" * 14)[:80]
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": long_id, "MessageBody": "1"}])
    assert r["Successful"][0]["Id"] == long_id


def test_send_message_batch_too_long(sqs, queue):
    url = queue()
    # Over the limit whether it is 256 KiB (the API model boto3 1.26
    # ships) or 1 MiB (AWS since 2025), with every entry below 256 KiB.
    entries = [{"Id": "e%d" % i, "MessageBody": "z" * 110000}
               for i in range(10)]
    expect_error(TOO_LONG, sqs.send_message_batch, QueueUrl=url,
                 Entries=entries)
    # Exactly the limit in total is fine.
    entries = [{"Id": "e%d" % i, "MessageBody": "z" * 26214}
               for i in range(9)]
    entries.append({"Id": "last", "MessageBody": "z" * (262144 - 9 * 26214)})
    r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(r["Successful"]) == 10


def test_send_message_batch_unknown_queue(sqs, endpoint):
    expect_error("AWS.SimpleQueueService.NonExistentQueue",
                 sqs.send_message_batch,
                 QueueUrl=endpoint + "/000000000000/no-such-queue-batch",
                 Entries=[{"Id": "a", "MessageBody": "b"}])


# ------------------------------------------------------------ DeleteMessageBatch

def test_delete_message_batch(sqs, queue):
    url = queue()
    hs = handles(sqs, url, 4)
    r = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "d%d" % i, "ReceiptHandle": h} for i, h in enumerate(hs)])
    assert sorted(e["Id"] for e in r["Successful"]) == ["d0", "d1", "d2", "d3"]
    assert r.get("Failed", []) == []
    a = queue_attrs(sqs, url, "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible")
    assert set(a.values()) == {"0"}


def test_delete_message_batch_partial_failure(sqs, queue):
    url = queue()
    hs = handles(sqs, url, 2)
    r = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok0", "ReceiptHandle": hs[0]},
        {"Id": "bad", "ReceiptHandle": "not-a-receipt-handle"},
        {"Id": "ok1", "ReceiptHandle": hs[1]}])
    assert sorted(e["Id"] for e in r["Successful"]) == ["ok0", "ok1"]
    assert len(r["Failed"]) == 1
    f = r["Failed"][0]
    assert (f["Id"], f["Code"], f["SenderFault"]) == (
        "bad", "ReceiptHandleIsInvalid", True)


def test_delete_message_batch_validation(sqs_novalidate, queue):
    sqs = sqs_novalidate
    url = queue()
    expect_error(EMPTY, sqs.delete_message_batch, QueueUrl=url, Entries=[])
    expect_error(TOO_MANY, sqs.delete_message_batch, QueueUrl=url, Entries=[
        {"Id": "e%d" % i, "ReceiptHandle": "h"} for i in range(11)])
    expect_error(NOT_DISTINCT, sqs.delete_message_batch, QueueUrl=url,
                 Entries=[{"Id": "a", "ReceiptHandle": "h1"},
                          {"Id": "a", "ReceiptHandle": "h2"}])
    expect_error(BAD_ID, sqs.delete_message_batch, QueueUrl=url,
                 Entries=[{"Id": "a b", "ReceiptHandle": "h1"}])


# ---------------------------------------------- ChangeMessageVisibilityBatch

def test_change_message_visibility_batch(sqs, queue):
    url = queue()
    hs = handles(sqs, url, 3)
    r = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "c%d" % i, "ReceiptHandle": h, "VisibilityTimeout": 0}
        for i, h in enumerate(hs)])
    assert sorted(e["Id"] for e in r["Successful"]) == ["c0", "c1", "c2"]
    assert len(receive_all(sqs, url, 3)) == 3


def test_change_message_visibility_batch_partial_failure(sqs_novalidate,
                                                          queue):
    sqs = sqs_novalidate
    url = queue()
    hs = handles(sqs, url, 2)
    r = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "ReceiptHandle": hs[0], "VisibilityTimeout": 0},
        {"Id": "badhandle", "ReceiptHandle": "nope", "VisibilityTimeout": 0},
        {"Id": "badtimeout", "ReceiptHandle": hs[1],
         "VisibilityTimeout": 43201}])
    assert [e["Id"] for e in r["Successful"]] == ["ok"]
    failed = {f["Id"]: f for f in r["Failed"]}
    assert failed["badhandle"]["Code"] == "ReceiptHandleIsInvalid"
    assert failed["badtimeout"]["Code"] == "InvalidParameterValue"
    assert all(f["SenderFault"] is True for f in failed.values())


def test_change_message_visibility_batch_validation(sqs_novalidate, queue):
    sqs = sqs_novalidate
    url = queue()
    expect_error(EMPTY, sqs.change_message_visibility_batch, QueueUrl=url,
                 Entries=[])
    expect_error(TOO_MANY, sqs.change_message_visibility_batch, QueueUrl=url,
                 Entries=[{"Id": "e%d" % i, "ReceiptHandle": "h",
                           "VisibilityTimeout": 1} for i in range(11)])
    expect_error(NOT_DISTINCT, sqs.change_message_visibility_batch,
                 QueueUrl=url,
                 Entries=[{"Id": "a", "ReceiptHandle": "h1"},
                          {"Id": "a", "ReceiptHandle": "h2"}])
    expect_error(BAD_ID, sqs.change_message_visibility_batch, QueueUrl=url,
                 Entries=[{"Id": "a!", "ReceiptHandle": "h1"}])
