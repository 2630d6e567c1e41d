"""Message semantics of standard queues over the Query protocol (boto3):
send and receive, message and system attributes, MD5 digests, visibility
timeouts and receipt handles, delays, long polling, size and content
limits, purge, and the dead-letter hand-off.

Timings are kept to a few seconds; a check that waits for something to
become visible polls with a deadline instead of sleeping a fixed time.
"""

import json
import re
import threading
import time

import pytest

from e2e_util import (
    drain, expect_error, json_post, load_md5_vectors, md5_hex,
    md5_of_attributes, queue_attrs, sqs_client, wait_until)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}$")


def recv(sqs, url, **kw):
    kw.setdefault("MaxNumberOfMessages", 10)
    return sqs.receive_message(QueueUrl=url, **kw).get("Messages", [])


def recv_one(sqs, url, **kw):
    msgs = recv(sqs, url, MaxNumberOfMessages=1, **kw)
    assert len(msgs) == 1, msgs
    return msgs[0]


def s_attr(v, t="String"):
    return {"DataType": t, "StringValue": v}


# ------------------------------------------------------------ send/receive

def test_send_receive_delete(sqs, queue):
    url = queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert UUID_RE.match(sent["MessageId"]), sent["MessageId"]
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert "MD5OfMessageAttributes" not in sent
    m = recv_one(sqs, url)
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "hello"
    assert m["MD5OfBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert m["ReceiptHandle"]
    assert "MessageAttributes" not in m and "MD5OfMessageAttributes" not in m
    assert "Attributes" not in m
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert recv(sqs, url, VisibilityTimeout=0) == []
    a = queue_attrs(sqs, url, "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible")
    assert a == {"ApproximateNumberOfMessages": "0",
                 "ApproximateNumberOfMessagesNotVisible": "0"}


def test_md5_of_body_vectors(sqs, queue):
    url = queue()
    for v in load_md5_vectors()["md5_of_body"]:
        sent = sqs.send_message(QueueUrl=url, MessageBody=v["body"])
        assert sent["MD5OfMessageBody"] == v["md5_of_body"], v
    bodies = {m["Body"]: m["MD5OfBody"] for m in drain(sqs, url).values()}
    for v in load_md5_vectors()["md5_of_body"]:
        assert bodies[v["body"]] == v["md5_of_body"]


def _boto_attrs(vector_attrs):
    """Reference vectors carry BinaryValue as base64 text; boto3 wants bytes."""
    import base64
    out = {}
    for k, a in vector_attrs.items():
        a = dict(a)
        if "BinaryValue" in a:
            a["BinaryValue"] = base64.b64decode(a["BinaryValue"])
        out[k] = a
    return out


@pytest.mark.parametrize("vec", [v for v in load_md5_vectors()["vectors"]
                                 if v["field"] == "MD5OfMessageAttributes"],
                         ids=lambda v: v["id"])
def test_md5_of_message_attributes_vectors(sqs, queue, vec):
    url = queue()
    attrs = _boto_attrs(vec["attributes"])
    sent = sqs.send_message(QueueUrl=url, MessageBody="vector",
                            MessageAttributes=attrs)
    assert sent["MD5OfMessageAttributes"] == vec["md5"]
    m = recv_one(sqs, url, MessageAttributeNames=["All"])
    assert m["MD5OfMessageAttributes"] == vec["md5"]
    assert m["MessageAttributes"] == attrs


def test_md5_aws_recorded_digests(sqs, queue):
    """Digests AWS itself returned (aws-semantics.md section 3)."""
    url = queue()
    three = {"General": s_attr("Kenobi"), "Hello": s_attr("There"),
             "Help.Me": s_attr("Me")}
    sent = sqs.send_message(QueueUrl=url, MessageBody="message-1",
                            MessageAttributes=three)
    assert sent["MD5OfMessageBody"] == "3d6b824fd8c1520e9a047d21fee6fb1f"
    assert sent["MD5OfMessageAttributes"] == "4c360f3fdafd970e05fae2f149d997f5"
    # Receiving a subset digests only what is returned.
    m = recv_one(sqs, url, MessageAttributeNames=["General", "Hello"],
                 VisibilityTimeout=0)
    assert set(m["MessageAttributes"]) == {"General", "Hello"}
    assert m["MD5OfMessageAttributes"] == "fca026605781cb4126a1e9044df24232"
    sent = sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
        "MyAttribute": s_attr("foobar")})
    assert sent["MD5OfMessageAttributes"] == "adb59cd4678ea5a855436b949cd07ab6"


def test_md5_of_message_system_attributes(sqs, queue):
    vec = [v for v in load_md5_vectors()["vectors"]
           if v["field"] == "MD5OfMessageSystemAttributes"][0]
    url = queue()
    trace = vec["attributes"]["AWSTraceHeader"]["StringValue"]
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="traced",
        MessageSystemAttributes={"AWSTraceHeader": s_attr(trace)})
    assert sent["MD5OfMessageSystemAttributes"] == vec["md5"]
    m = recv_one(sqs, url, AttributeNames=["AWSTraceHeader"])
    assert m["Attributes"] == {"AWSTraceHeader": trace}
    # System attributes are not message attributes.
    assert "MessageAttributes" not in m


def test_message_attribute_types_round_trip(sqs, queue):
    url = queue()
    attrs = {
        "s": s_attr("text with spaces & <xml> chars"),
        "n": s_attr("-12.5e3", "Number"),
        "ni": s_attr("7", "Number.int"),
        "b": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
        "bc": {"DataType": "Binary.png", "BinaryValue": b"\x89PNG"},
        "u": s_attr("h\u00e9llo \u2713 \U0001F600"),
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="typed",
                            MessageAttributes=attrs)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    m = recv_one(sqs, url, MessageAttributeNames=["All"])
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(attrs)


@pytest.mark.parametrize("names,expected", [
    (["All"], {"app.id", "app.region", "trace", "other"}),
    ([".*"], {"app.id", "app.region", "trace", "other"}),
    (["*"], {"app.id", "app.region", "trace", "other"}),
    (["app.*"], {"app.id", "app.region"}),
    (["app.*", "trace"], {"app.id", "app.region", "trace"}),
    (["trace", "missing"], {"trace"}),
    (["missing"], set()),
    ([], set()),
])
def test_receive_message_attribute_name_filter(sqs, queue, names, expected):
    url = queue()
    attrs = {"app.id": s_attr("1"), "app.region": s_attr("eu"),
             "trace": s_attr("t"), "other": s_attr("5", "Number")}
    sqs.send_message(QueueUrl=url, MessageBody="filtered",
                     MessageAttributes=attrs)
    m = recv_one(sqs, url, MessageAttributeNames=names)
    got = m.get("MessageAttributes", {})
    assert set(got) == expected
    if expected:
        assert m["MD5OfMessageAttributes"] == md5_of_attributes(
            {k: attrs[k] for k in expected})
    else:
        assert "MD5OfMessageAttributes" not in m


def test_system_attributes_on_receive(sqs, queue):
    url = queue()
    t0 = int(time.time() * 1000)
    sqs.send_message(QueueUrl=url, MessageBody="sys")
    m = recv_one(sqs, url, AttributeNames=["All"], VisibilityTimeout=0)
    a = m["Attributes"]
    assert {"SenderId", "SentTimestamp", "ApproximateReceiveCount",
            "ApproximateFirstReceiveTimestamp"} <= set(a)
    for fifo_only in ("MessageGroupId", "SequenceNumber",
                      "MessageDeduplicationId"):
        assert fifo_only not in a
    assert a["SenderId"]
    sent_ts = int(a["SentTimestamp"])
    assert t0 - 5000 <= sent_ts <= time.time() * 1000 + 5000
    first = int(a["ApproximateFirstReceiveTimestamp"])
    assert sent_ts <= first <= time.time() * 1000 + 5000
    assert a["ApproximateReceiveCount"] == "1"

    m2 = recv_one(sqs, url, AttributeNames=["ApproximateReceiveCount",
                                            "ApproximateFirstReceiveTimestamp"])
    assert m2["Attributes"] == {"ApproximateReceiveCount": "2",
                                "ApproximateFirstReceiveTimestamp": str(first)}


def test_system_attributes_selected_subset(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="sys")
    m = recv_one(sqs, url, AttributeNames=["SentTimestamp"])
    assert list(m["Attributes"]) == ["SentTimestamp"]


def test_message_system_attribute_names_json(sqs, queue, endpoint):
    """MessageSystemAttributeNames (newer name of AttributeNames), JSON."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="sys-json")
    status, headers, body = json_post(endpoint, "ReceiveMessage", {
        "QueueUrl": url, "MessageSystemAttributeNames": ["SentTimestamp",
                                                         "SenderId"]})
    assert status == 200, body
    msgs = json.loads(body)["Messages"]
    assert set(msgs[0]["Attributes"]) == {"SentTimestamp", "SenderId"}


def test_message_ids_are_unique(sqs, queue):
    url = queue()
    ids = {sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)["MessageId"]
           for i in range(20)}
    assert len(ids) == 20


def test_body_characters_round_trip(sqs, queue):
    url = queue()
    body = ("tab\there\nnewline\r\ncr <xml attr=\"v\">&amp;</xml> "
            "\u00e9\u4e2d\ud7ff\ue000\ufffd\U0001F600\U0010FFFF")
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    m = recv_one(sqs, url)
    assert m["Body"] == body
    assert m["MD5OfBody"] == md5_hex(body)


@pytest.mark.parametrize("bad", ["\x00", "\x08", "\x0b", "\x1f", "\ufffe",
                                 "\uffff"])
def test_invalid_xml_character_in_body(sqs, queue, bad):
    """AWS rejects characters outside the XML 1.0 set (InvalidMessageContents);
    its newer documentation instead replaces them with U+FFFD. Either is
    accepted; storing the raw character is not."""
    url = queue()
    body = "before" + bad + "after"
    try:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    except Exception as e:  # botocore ClientError
        assert e.response["Error"]["Code"] == "InvalidMessageContents"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert recv(sqs, url) == []
        return
    m = recv_one(sqs, url)
    assert m["Body"] == "before\ufffdafter"


def test_invalid_xml_character_in_attribute_value(sqs, queue):
    url = queue()
    try:
        sqs.send_message(QueueUrl=url, MessageBody="ok", MessageAttributes={
            "a": s_attr("bad\x01value")})
    except Exception as e:
        assert e.response["Error"]["Code"] in ("InvalidMessageContents",
                                               "InvalidParameterValue")
        return
    m = recv_one(sqs, url, MessageAttributeNames=["All"])
    assert m["MessageAttributes"]["a"]["StringValue"] == "bad\ufffdvalue"


def test_fifo_only_parameter_on_standard_queue(sqs, queue):
    url = queue()
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url,
                 MessageBody="x", MessageDeduplicationId="dedup-1")


def test_empty_body_is_missing_parameter(sqs, queue):
    url = queue()
    expect_error("MissingParameter", sqs.send_message, QueueUrl=url,
                 MessageBody="")


# ------------------------------------------------------------ size limits

def test_maximum_message_size_counts_attributes(sqs, queue):
    url = queue(attributes={"MaximumMessageSize": "262144"})
    attrs = {"attr-name": s_attr("value-12345")}
    overhead = len("attr-name") + len("String") + len("value-12345")
    body = "x" * (262144 - overhead)
    sent = sqs.send_message(QueueUrl=url, MessageBody=body,
                            MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    m = recv_one(sqs, url, MessageAttributeNames=["All"])
    assert m["Body"] == body
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url,
                 MessageBody=body + "x", MessageAttributes=attrs)


def test_maximum_message_size_body_only(sqs, queue):
    url = queue(attributes={"MaximumMessageSize": "262144"})
    sqs.send_message(QueueUrl=url, MessageBody="y" * 262144)
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url,
                 MessageBody="y" * 262145)


def test_one_mebibyte_message_when_queue_allows_it(sqs, qname):
    """Since 2025 AWS accepts MaximumMessageSize up to 1 MiB; a server that
    still caps it at 256 KiB (the older documented limit) skips this."""
    try:
        url = sqs.create_queue(QueueName=qname(), Attributes={
            "MaximumMessageSize": "1048576"})["QueueUrl"]
    except Exception as e:
        assert e.response["Error"]["Code"] == "InvalidAttributeValue"
        pytest.skip("server caps MaximumMessageSize at 256 KiB")
    body = "".join(chr(0x41 + i % 26) for i in range(1048576))
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    m = recv_one(sqs, url)
    assert m["Body"] == body
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url,
                 MessageBody=body + "!")


def test_maximum_message_size_counts_utf8_bytes(sqs, queue):
    url = queue(attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=url, MessageBody="\u00e9" * 512)  # 1024 bytes
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url,
                 MessageBody="\u00e9" * 512 + "z")


def test_queue_maximum_message_size_attribute(sqs, queue):
    url = queue(attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url,
                 MessageBody="a" * 1025)


def test_more_than_ten_message_attributes(sqs, queue):
    url = queue()
    ten = {"a%d" % i: s_attr("v") for i in range(10)}
    sqs.send_message(QueueUrl=url, MessageBody="ten", MessageAttributes=ten)
    eleven = dict(ten, a10=s_attr("v"))
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=url,
                 MessageBody="eleven", MessageAttributes=eleven)


@pytest.mark.parametrize("name,attr", [
    ("empty-value", s_attr("")),
    ("AWS.reserved", s_attr("v")),
    ("amazon.reserved", s_attr("v")),
    (".leading", s_attr("v")),
    ("trailing.", s_attr("v")),
    ("double..dot", s_attr("v")),
    ("bad name", s_attr("v")),
    ("x" * 257, s_attr("v")),
    ("badtype", s_attr("v", "Strin")),
    ("notnumber", s_attr("twelve", "Number")),
    ("nobinary", {"DataType": "Binary", "StringValue": "v"}),
    ("emptybinary", {"DataType": "Binary", "BinaryValue": b""}),
    ("nostring", {"DataType": "String", "BinaryValue": b"v"}),
])
def test_invalid_message_attribute(sqs_novalidate, queue, name, attr):
    url = queue()
    expect_error("InvalidParameterValue", sqs_novalidate.send_message,
                 QueueUrl=url, MessageBody="x",
                 MessageAttributes={name: attr})
    assert recv(sqs_novalidate, url) == []


# ------------------------------------------------------------ visibility

def test_visibility_timeout_hides_then_returns(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "2"})
    sqs.send_message(QueueUrl=url, MessageBody="vt")
    m1 = recv_one(sqs, url)
    t = time.time()
    assert recv(sqs, url) == []
    m2 = wait_until(lambda: recv(sqs, url), timeout=6, what="redelivery")[0]
    assert time.time() - t >= 1.5
    assert m2["MessageId"] == m1["MessageId"]
    assert m2["ReceiptHandle"] != m1["ReceiptHandle"]


def test_receive_visibility_timeout_overrides_queue(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "600"})
    sqs.send_message(QueueUrl=url, MessageBody="vt")
    recv_one(sqs, url, VisibilityTimeout=1)
    wait_until(lambda: recv(sqs, url), timeout=5, what="redelivery")


def test_receive_visibility_timeout_zero(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="vt0")
    m1 = recv_one(sqs, url, VisibilityTimeout=0)
    m2 = recv_one(sqs, url, VisibilityTimeout=0)
    assert m1["MessageId"] == m2["MessageId"]


def test_receive_visibility_zero_returns_each_message_once(sqs, queue):
    """A message made visible again by VisibilityTimeout=0 is not picked a
    second time by the same ReceiveMessage call."""
    url = queue()
    ids = {sqs.send_message(QueueUrl=url, MessageBody="once-%d" % i)[
        "MessageId"] for i in range(2)}
    got = recv(sqs, url, VisibilityTimeout=0,
               AttributeNames=["ApproximateReceiveCount"])
    assert sorted(m["MessageId"] for m in got) == sorted(ids)
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in got)


def test_change_message_visibility(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="cmv")
    m = recv_one(sqs, url, VisibilityTimeout=1)
    sqs.change_message_visibility(QueueUrl=url,
                                  ReceiptHandle=m["ReceiptHandle"],
                                  VisibilityTimeout=60)
    time.sleep(1.5)
    assert recv(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url,
                                  ReceiptHandle=m["ReceiptHandle"],
                                  VisibilityTimeout=0)
    m2 = recv_one(sqs, url)
    assert m2["MessageId"] == m["MessageId"]


def test_change_message_visibility_total_limit(sqs, queue):
    """A message's visibility cannot be extended past 12 hours from the
    receive that made it invisible."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="long job")
    m = recv_one(sqs, url, VisibilityTimeout=43000)
    time.sleep(1)
    sqs.change_message_visibility(QueueUrl=url,
                                  ReceiptHandle=m["ReceiptHandle"],
                                  VisibilityTimeout=43000)
    expect_error("InvalidParameterValue", sqs.change_message_visibility,
                 QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                 VisibilityTimeout=43200)


def test_change_message_visibility_out_of_range(sqs_novalidate, queue):
    url = queue()
    sqs_novalidate.send_message(QueueUrl=url, MessageBody="cmv")
    m = recv_one(sqs_novalidate, url)
    expect_error("InvalidParameterValue",
                 sqs_novalidate.change_message_visibility, QueueUrl=url,
                 ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=43201)


def test_change_message_visibility_malformed_handle(sqs, queue):
    url = queue()
    expect_error("ReceiptHandleIsInvalid", sqs.change_message_visibility,
                 QueueUrl=url, ReceiptHandle="garbage", VisibilityTimeout=5)


def test_change_message_visibility_of_deleted_message(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="gone")
    m = recv_one(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    expect_error("InvalidParameterValue", sqs.change_message_visibility,
                 QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                 VisibilityTimeout=5)


def test_change_message_visibility_after_timeout_expired(sqs, queue):
    """An expired (but well-formed) handle of a message still in the queue:
    AWS answers OK."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="late")
    m = recv_one(sqs, url, VisibilityTimeout=1)
    time.sleep(1.3)
    sqs.change_message_visibility(QueueUrl=url,
                                  ReceiptHandle=m["ReceiptHandle"],
                                  VisibilityTimeout=10)


# ------------------------------------------------------------ delete

def test_delete_message_twice_succeeds(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="d")
    m = recv_one(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_delete_with_stale_receipt_handle_deletes_nothing(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="stale")
    old = recv_one(sqs, url, VisibilityTimeout=1)
    new = wait_until(lambda: recv(sqs, url, VisibilityTimeout=1), timeout=5,
                     what="redelivery")[0]
    assert new["ReceiptHandle"] != old["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    again = wait_until(lambda: recv(sqs, url), timeout=5,
                       what="message to survive the stale delete")[0]
    assert again["MessageId"] == old["MessageId"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    assert recv(sqs, url, VisibilityTimeout=0) == []


@pytest.mark.parametrize("handle", ["garbage", "x" * 1000, "AQEB"])
def test_delete_message_malformed_handle(sqs, queue, handle):
    url = queue()
    expect_error("ReceiptHandleIsInvalid", sqs.delete_message, QueueUrl=url,
                 ReceiptHandle=handle)


def test_receipt_handle_of_other_queue(sqs, queue):
    a, b = queue(suffix="-a"), queue(suffix="-b")
    sqs.send_message(QueueUrl=a, MessageBody="mine")
    m = recv_one(sqs, a, VisibilityTimeout=1)
    try:
        sqs.delete_message(QueueUrl=b, ReceiptHandle=m["ReceiptHandle"])
    except Exception as e:
        assert e.response["Error"]["Code"] in ("ReceiptHandleIsInvalid",
                                               "InvalidParameterValue")
    # Whatever the answer, the message in queue a was not deleted.
    wait_until(lambda: recv(sqs, a), timeout=5, what="message in queue a")


# ------------------------------------------------------------ delays

def test_queue_delay_seconds(sqs, queue):
    url = queue(attributes={"DelaySeconds": "2"})
    t = time.time()
    sqs.send_message(QueueUrl=url, MessageBody="later")
    assert recv(sqs, url) == []
    a = queue_attrs(sqs, url, "ApproximateNumberOfMessagesDelayed")
    assert a["ApproximateNumberOfMessagesDelayed"] == "1"
    wait_until(lambda: recv(sqs, url), timeout=6, what="delayed message")
    assert time.time() - t >= 1.5


def test_message_delay_seconds_overrides_queue(sqs, queue):
    url = queue(attributes={"DelaySeconds": "60"})
    sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
    assert recv_one(sqs, url)["Body"] == "now"
    url2 = queue(suffix="-2")
    sqs.send_message(QueueUrl=url2, MessageBody="later", DelaySeconds=2)
    assert recv(sqs, url2) == []
    wait_until(lambda: recv(sqs, url2), timeout=6, what="delayed message")


def test_message_delay_seconds_out_of_range(sqs_novalidate, queue):
    url = queue()
    expect_error("InvalidParameterValue", sqs_novalidate.send_message,
                 QueueUrl=url, MessageBody="x", DelaySeconds=901)


# ------------------------------------------------------------ receive params

def test_max_number_of_messages(sqs, queue):
    url = queue()
    for i in range(15):
        sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)
    got = recv(sqs, url, MaxNumberOfMessages=3, VisibilityTimeout=30)
    assert 1 <= len(got) <= 3
    default = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)
    assert len(default.get("Messages", [])) <= 1
    held = len(got) + len(default.get("Messages", []))
    seen = drain(sqs, url, expect=15 - held)
    assert len(seen) + held == 15


@pytest.mark.parametrize("param,value", [
    ("MaxNumberOfMessages", 0), ("MaxNumberOfMessages", 11),
    ("WaitTimeSeconds", 21), ("WaitTimeSeconds", -1),
    ("VisibilityTimeout", 43201),
])
def test_receive_parameter_out_of_range(sqs_novalidate, queue, param, value):
    url = queue()
    expect_error("InvalidParameterValue", sqs_novalidate.receive_message,
                 QueueUrl=url, **{param: value})


# ------------------------------------------------------------ long polling

def _send_later(client, url, body, delay, **kw):
    def run():
        time.sleep(delay)
        client.send_message(QueueUrl=url, MessageBody=body, **kw)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_long_poll_returns_when_message_arrives(sqs, queue, endpoint):
    url = queue()
    sender = _send_later(sqs_client(endpoint), url, "arrived", 1.0)
    t = time.time()
    msgs = recv(sqs, url, WaitTimeSeconds=10)
    took = time.time() - t
    sender.join()
    assert [m["Body"] for m in msgs] == ["arrived"]
    assert 0.8 <= took < 4, took


def test_long_poll_empty_queue_waits_full_time(sqs, queue):
    url = queue()
    t = time.time()
    assert recv(sqs, url, WaitTimeSeconds=2) == []
    assert 1.8 <= time.time() - t < 5


def test_long_poll_uses_queue_receive_wait_time(sqs, queue):
    url = queue(attributes={"ReceiveMessageWaitTimeSeconds": "2"})
    t = time.time()
    assert recv(sqs, url) == []
    assert 1.8 <= time.time() - t < 5
    # WaitTimeSeconds=0 in the request means a short poll.
    t = time.time()
    assert recv(sqs, url, WaitTimeSeconds=0) == []
    assert time.time() - t < 1.5


def test_long_poll_wakes_when_delayed_message_becomes_visible(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=2)
    t = time.time()
    msgs = recv(sqs, url, WaitTimeSeconds=10)
    took = time.time() - t
    assert [m["Body"] for m in msgs] == ["delayed"]
    assert 1.5 <= took < 5, took


def test_long_poll_wakes_when_visibility_timeout_expires(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="comes back")
    recv_one(sqs, url, VisibilityTimeout=2)
    t = time.time()
    msgs = recv(sqs, url, WaitTimeSeconds=10)
    took = time.time() - t
    assert [m["Body"] for m in msgs] == ["comes back"]
    assert 1.5 <= took < 5, took


def test_long_poll_wakes_on_change_visibility_zero(sqs, queue, endpoint):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="released")
    m = recv_one(sqs, url, VisibilityTimeout=60)
    other = sqs_client(endpoint)

    def release():
        time.sleep(1)
        other.change_message_visibility(QueueUrl=url,
                                        ReceiptHandle=m["ReceiptHandle"],
                                        VisibilityTimeout=0)
    th = threading.Thread(target=release, daemon=True)
    th.start()
    t = time.time()
    msgs = recv(sqs, url, WaitTimeSeconds=10)
    th.join()
    assert [x["Body"] for x in msgs] == ["released"]
    assert time.time() - t < 4


def test_concurrent_long_polls_each_get_a_message(queue, endpoint):
    sqs = sqs_client(endpoint)
    url = queue()
    results = []

    def poll():
        c = sqs_client(endpoint)
        results.append(recv(c, url, WaitTimeSeconds=8, MaxNumberOfMessages=1))
    threads = [threading.Thread(target=poll) for _ in range(3)]
    for th in threads:
        th.start()
    time.sleep(0.5)
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody="w%d" % i)
    for th in threads:
        th.join(15)
    bodies = sorted(m["Body"] for r in results for m in r)
    assert bodies == ["w0", "w1", "w2"]


def test_long_poll_on_dlq_wakes_when_message_moves(sqs, queue, endpoint):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    src = queue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})
    sqs.send_message(QueueUrl=src, MessageBody="to the dlq")
    recv_one(sqs, src, VisibilityTimeout=0)
    other = sqs_client(endpoint)
    mover = threading.Thread(target=lambda: (
        time.sleep(1), recv(other, src)), daemon=True)
    mover.start()
    t = time.time()
    msgs = recv(sqs, dlq, WaitTimeSeconds=10)
    mover.join()
    assert [m["Body"] for m in msgs] == ["to the dlq"]
    assert time.time() - t < 5


def test_long_poll_wakes_on_batch_send(sqs, queue, endpoint):
    url = queue()
    other = sqs_client(endpoint)
    th = threading.Thread(target=lambda: (time.sleep(1), other.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "batched"}])),
        daemon=True)
    th.start()
    t = time.time()
    msgs = recv(sqs, url, WaitTimeSeconds=10)
    th.join()
    assert [m["Body"] for m in msgs] == ["batched"]
    assert time.time() - t < 4


def test_long_poll_on_deleted_queue_ends(sqs, queue, endpoint):
    url = queue()
    other = sqs_client(endpoint)
    th = threading.Thread(target=lambda: (time.sleep(1),
                                          other.delete_queue(QueueUrl=url)))
    th.start()
    t = time.time()
    try:
        recv(sqs, url, WaitTimeSeconds=5)
    except Exception as e:
        assert e.response["Error"]["Code"] == \
            "AWS.SimpleQueueService.NonExistentQueue"
    th.join()
    assert time.time() - t < 8


# ------------------------------------------------------------ purge

def test_purge_queue(sqs, queue):
    url = queue()
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody="p%d" % i)
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=30)
    recv(sqs, url, MaxNumberOfMessages=2, VisibilityTimeout=1)
    sqs.purge_queue(QueueUrl=url)
    a = queue_attrs(sqs, url, "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed")
    assert set(a.values()) == {"0"}
    time.sleep(1.2)
    assert recv(sqs, url) == []
    # The queue itself is untouched and usable.
    sqs.send_message(QueueUrl=url, MessageBody="after purge")


def test_purge_queue_twice_within_a_minute(sqs, queue):
    url = queue()
    sqs.purge_queue(QueueUrl=url)
    expect_error("AWS.SimpleQueueService.PurgeQueueInProgress",
                 sqs.purge_queue, QueueUrl=url, status=403)


# ------------------------------------------------------------ dead letters

def test_dead_letter_queue_after_max_receive_count(sqs, queue):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    src = queue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})
    attrs = {"kind": s_attr("poison")}
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison pill",
                            MessageAttributes=attrs)
    keep = sqs.send_message(QueueUrl=src, MessageBody="fine")
    counts = {}
    for _ in range(2):
        for m in recv(sqs, src, VisibilityTimeout=0,
                      AttributeNames=["ApproximateReceiveCount"]):
            counts[m["Body"]] = m["Attributes"]["ApproximateReceiveCount"]
            if m["Body"] == "fine":
                sqs.delete_message(QueueUrl=src,
                                   ReceiptHandle=m["ReceiptHandle"])
    assert counts["poison pill"] == "2"
    # The third receive moves it instead of returning it.
    assert recv(sqs, src, VisibilityTimeout=0) == []
    moved = wait_until(lambda: recv(sqs, dlq, AttributeNames=["All"],
                                    MessageAttributeNames=["All"]),
                       timeout=5, what="message in the DLQ")
    assert len(moved) == 1
    m = moved[0]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "poison pill"
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert keep["MessageId"] != m["MessageId"]


def test_dead_letter_queue_with_visibility_expiry(sqs, queue):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    src = queue(attributes={"VisibilityTimeout": "1", "RedrivePolicy":
                            json.dumps({"deadLetterTargetArn": dlq_arn,
                                        "maxReceiveCount": 1})})
    sqs.send_message(QueueUrl=src, MessageBody="once")
    assert recv_one(sqs, src)["Body"] == "once"
    time.sleep(1.3)
    assert recv(sqs, src, WaitTimeSeconds=1) == []
    m = wait_until(lambda: recv(sqs, dlq), timeout=5, what="DLQ message")[0]
    assert m["Body"] == "once"
    a = queue_attrs(sqs, src, "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible")
    assert set(a.values()) == {"0"}


def test_receive_is_not_empty_when_a_batch_goes_to_the_dlq(sqs, queue):
    """Messages moved to the dead-letter queue by a receive make room for
    others in the same receive instead of an empty answer."""
    dlq = queue(suffix="dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = queue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": "old-%d" % i} for i in range(10)])
    got = 0
    while got < 10:
        got += len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=1).get("Messages", []))
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": "new-%d" % i} for i in range(3)])
    time.sleep(1.3)
    r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert sorted(m["Body"] for m in r.get("Messages", [])) == ["new-0", "new-1", "new-2"]
