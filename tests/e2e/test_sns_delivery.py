"""SNS to SQS delivery, end to end with boto3: the notification envelope
(key order, signature, MD5 of what SQS hands out), raw delivery with
attributes mapped to SQS message attributes, filter policies of every
operator in both scopes with SNS's validation messages, MessageStructure,
FIFO topics, PublishBatch fan-out, and a crash right after acknowledged
publishes (every matching queue must have every message).
"""

import base64
import json
import time
import urllib.request
import uuid

import boto3
import botocore.config
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

import e2e_util


def sns_client(endpoint):
    cfg = botocore.config.Config(region_name=e2e_util.REGION,
                                 retries={"total_max_attempts": 1})
    return boto3.session.Session().client(
        "sns", endpoint_url=endpoint, aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


@pytest.fixture(scope="module")
def sns(endpoint):
    return sns_client(endpoint)


def new_topic(sns, fifo=False, **attrs):
    name = "dl-" + uuid.uuid4().hex[:10] + (".fifo" if fifo else "")
    a = {k: str(v) for k, v in attrs.items()}
    if fifo:
        a["FifoTopic"] = "true"
    return sns.create_topic(Name=name, Attributes=a)["TopicArn"]


def arn_of(sqs, url):
    return e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]


def receive_all(sqs, url, expect=None, timeout=5):
    return list(e2e_util.drain(sqs, url, expect=expect, timeout=timeout).values())


def verify_signature(msg):
    keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    text = "".join("%s\n%s\n" % (k, msg[k]) for k in keys if k in msg)
    with urllib.request.urlopen(msg["SigningCertURL"], timeout=5) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    algo = hashes.SHA256() if msg["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(msg["Signature"]), text.encode("utf-8"),
                             padding.PKCS1v15(), algo)


# ------------------------------------------------------------ envelope

def test_envelope_to_sqs(sns, sqs, queue):
    t = new_topic(sns)
    q = queue()
    sub = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q),
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    text = "caf\u00e9 <b>&amp;</b> / \"quoted\"\n\u2603"
    mid = sns.publish(TopicArn=t, Message=text, Subject="Hi there",
                      MessageAttributes={
                          "s": {"DataType": "String", "StringValue": "v"},
                          "n": {"DataType": "Number", "StringValue": "1.5"},
                          "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
                          "arr": {"DataType": "String.Array", "StringValue": '["a", 1]'},
                      })["MessageId"]
    m, = receive_all(sqs, q, expect=1)
    assert m["MD5OfBody"] == e2e_util.md5_hex(m["Body"])
    assert "MessageAttributes" not in m
    env = json.loads(m["Body"])
    assert list(env) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                         "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL",
                         "MessageAttributes"]
    assert env["Type"] == "Notification" and env["MessageId"] == mid
    assert env["TopicArn"] == t and env["Message"] == text and env["Subject"] == "Hi there"
    assert env["SignatureVersion"] == "1"
    assert env["MessageAttributes"] == {
        "s": {"Type": "String", "Value": "v"}, "n": {"Type": "Number", "Value": "1.5"},
        "b": {"Type": "Binary", "Value": base64.b64encode(b"\x00\xff").decode()},
        "arr": {"Type": "String.Array", "Value": '["a", 1]'}}
    assert sub.split(":")[-1] in env["UnsubscribeURL"]
    ts = env["Timestamp"]
    assert len(ts) == 24 and ts.endswith("Z") and ts[19] == "."
    verify_signature(env)
    # the envelope is written as AWS writes it
    assert m["Body"].startswith('{\n  "Type" : "Notification",\n  "MessageId" : "')


def test_unsubscribe_url_works(sns, sqs, queue):
    t = new_topic(sns)
    q = queue()
    sub = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q),
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.publish(TopicArn=t, Message="first")
    m, = receive_all(sqs, q, expect=1)
    with urllib.request.urlopen(json.loads(m["Body"])["UnsubscribeURL"], timeout=5) as r:
        assert r.status == 200
    assert sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"] == []
    e2e_util.expect_error("NotFound", sns.get_subscription_attributes, SubscriptionArn=sub,
                          status=404)


def test_no_subject_no_attributes(sns, sqs, queue):
    t = new_topic(sns)
    q = queue()
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q))
    sns.publish(TopicArn=t, Message="plain")
    m, = receive_all(sqs, q, expect=1)
    env = json.loads(m["Body"])
    assert "Subject" not in env and "MessageAttributes" not in env
    verify_signature(env)


def test_raw_delivery_maps_attributes(sns, sqs, queue):
    t = new_topic(sns)
    q = queue()
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q),
                  Attributes={"RawMessageDelivery": "true"})
    attrs = {"s": {"DataType": "String", "StringValue": "v\u00e9"},
             "n": {"DataType": "Number", "StringValue": "42"},
             "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02\x03"}}
    sns.publish(TopicArn=t, Message='{"raw": true}', MessageAttributes=attrs)
    m, = receive_all(sqs, q, expect=1)
    assert m["Body"] == '{"raw": true}'
    assert m["MD5OfBody"] == e2e_util.md5_hex('{"raw": true}')
    got = m["MessageAttributes"]
    assert got["s"] == {"DataType": "String", "StringValue": "v\u00e9"}
    assert got["n"] == {"DataType": "Number", "StringValue": "42"}
    assert got["b"] == {"DataType": "Binary", "BinaryValue": b"\x01\x02\x03"}
    assert m["MD5OfMessageAttributes"] == e2e_util.md5_of_attributes(attrs)


def test_fan_out_and_message_structure(sns, sqs, queue):
    t = new_topic(sns)
    qs = [queue() for _ in range(3)]
    for q in qs:
        sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q))
    sns.publish(TopicArn=t, MessageStructure="json",
                Message=json.dumps({"default": "dflt", "sqs": "for sqs", "http": "x"}))
    sns.publish(TopicArn=t, MessageStructure="json", Message=json.dumps({"default": "only"}))
    for q in qs:
        got = sorted(json.loads(m["Body"])["Message"] for m in receive_all(sqs, q, expect=2))
        assert got == ["for sqs", "only"]


def test_publish_batch_fan_out(sns, sqs, queue):
    t = new_topic(sns)
    q = queue()
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q),
                  Attributes={"RawMessageDelivery": "true"})
    r = sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"}, {"Id": "b", "Message": "two"},
        {"Id": "c", "Message": "bad", "MessageAttributes": {
            "x": {"DataType": "Number", "StringValue": "NaNa"}}}])
    assert sorted(e["Id"] for e in r["Successful"]) == ["a", "b"]
    assert r["Failed"][0]["Id"] == "c" and r["Failed"][0]["SenderFault"] is True
    got = sorted(m["Body"] for m in receive_all(sqs, q, expect=2))
    assert got == ["one", "two"]


def test_unsubscribed_and_deleted_queue(sns, sqs, queue):
    t = new_topic(sns)
    q1, q2 = queue(), queue()
    s1 = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q1),
                       ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q2))
    sns.unsubscribe(SubscriptionArn=s1)
    sqs.delete_queue(QueueUrl=q2)
    sns.publish(TopicArn=t, Message="nobody")  # still succeeds
    assert receive_all(sqs, q1) == []


# ------------------------------------------------------------ FIFO

def test_fifo_topic_to_fifo_queue(sns, sqs, queue):
    t = new_topic(sns, fifo=True, ContentBasedDeduplication="true")
    q = queue(attributes={"FifoQueue": "true"}, suffix=".fifo")
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q))
    r1 = sns.publish(TopicArn=t, Message="first", MessageGroupId="g1")
    r2 = sns.publish(TopicArn=t, Message="first", MessageGroupId="g1")  # duplicate
    assert r1["MessageId"] == r2["MessageId"]
    assert r1["SequenceNumber"] == r2["SequenceNumber"]
    r3 = sns.publish(TopicArn=t, Message="second", MessageGroupId="g1",
                     MessageDeduplicationId="d2")
    assert int(r3["SequenceNumber"]) > int(r1["SequenceNumber"])
    got = []
    for _ in range(10):
        r = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                AttributeNames=["All"])
        for m in r.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= 2:
            break
    envs = [json.loads(m["Body"]) for m in got]
    assert [e["Message"] for e in envs] == ["first", "second"]
    assert envs[0]["SequenceNumber"] == r1["SequenceNumber"]
    assert "Signature" not in envs[0]
    assert got[0]["Attributes"].get("MessageGroupId") == "g1"


def test_fifo_queue_needs_fifo_topic(sns, sqs, queue):
    t = new_topic(sns)
    q = queue(attributes={"FifoQueue": "true"}, suffix=".fifo")
    msg = e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=t, Protocol="sqs",
                                Endpoint=arn_of(sqs, q))
    assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in msg


def test_fifo_publish_rules(sns):
    t = new_topic(sns, fifo=True)
    msg = e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=t, Message="x")
    assert "MessageGroupId" in msg
    msg = e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=t, Message="x",
                                MessageGroupId="g")
    assert "ContentBasedDeduplication" in msg
    std = new_topic(sns)
    e2e_util.expect_error("InvalidParameter", sns.publish, TopicArn=std, Message="x",
                          MessageDeduplicationId="d")


# ------------------------------------------------------------ filter policies

S = "String"
N = "Number"
A = "String.Array"

# (policy, [(attributes, should match), ...]); attributes: name -> (type, value)
ATTRIBUTE_CASES = [
    ({"color": ["red"]}, [({"color": (S, "red")}, True), ({"color": (S, "Red")}, False),
                          ({}, False), ({"other": (S, "red")}, False)]),
    ({"color": ["red", "blue"]}, [({"color": (S, "blue")}, True),
                                  ({"color": (S, "green")}, False)]),
    ({"n": [5]}, [({"n": (N, "5")}, True), ({"n": (N, "5.0")}, True),
                  ({"n": (N, "6")}, False), ({"n": (S, "5")}, False)]),
    ({"c": [{"prefix": "ab"}]}, [({"c": (S, "abc")}, True), ({"c": (S, "xab")}, False)]),
    ({"c": [{"suffix": ".png"}]}, [({"c": (S, "a.png")}, True), ({"c": (S, "a.jpg")}, False)]),
    ({"c": [{"equals-ignore-case": "ReD"}]}, [({"c": (S, "rEd")}, True),
                                               ({"c": (S, "redd")}, False)]),
    ({"c": [{"anything-but": ["a", "b"]}]}, [({"c": (S, "c")}, True), ({"c": (S, "a")}, False),
                                              ({}, False)]),
    ({"c": [{"anything-but": {"prefix": "tmp"}}]}, [({"c": (S, "file")}, True),
                                                     ({"c": (S, "tmp1")}, False)]),
    ({"n": [{"anything-but": [1, 2]}]}, [({"n": (N, "3")}, True), ({"n": (N, "2")}, False)]),
    ({"n": [{"numeric": [">", 0, "<=", 10]}]}, [({"n": (N, "10")}, True),
                                                ({"n": (N, "0")}, False),
                                                ({"n": (N, "10.5")}, False),
                                                ({"n": (S, "5")}, False)]),
    ({"n": [{"numeric": ["=", 3.5]}]}, [({"n": (N, "3.5")}, True), ({"n": (N, "3.4")}, False)]),
    ({"c": [{"exists": True}]}, [({"c": (S, "x")}, True), ({"d": (S, "x")}, False)]),
    ({"c": [{"exists": False}]}, [({"d": (S, "x")}, True), ({"c": (S, "x")}, False),
                                  ({}, False)]),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, [({"ip": (S, "10.0.0.7")}, True),
                                         ({"ip": (S, "10.0.1.7")}, False)]),
    ({"tags": ["b"]}, [({"tags": (A, '["a", "b"]')}, True), ({"tags": (A, '["c"]')}, False)]),
    ({"a": ["1"], "b": ["2"]}, [({"a": (S, "1"), "b": (S, "2")}, True),
                                ({"a": (S, "1")}, False)]),
    ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, [({"b": (S, "2")}, True), ({"a": (S, "2")}, False)]),
    ({"bin": ["x"]}, [({"bin": ("Binary", b"x")}, False)]),
]


def attrs_of(spec):
    out = {}
    for k, (typ, v) in spec.items():
        if typ == "Binary":
            out[k] = {"DataType": typ, "BinaryValue": v}
        else:
            out[k] = {"DataType": typ, "StringValue": v}
    return out


def run_filter_case(sns, sqs, queue, policy, cases, scope=None):
    t = new_topic(sns)
    q = queue()
    attrs = {"FilterPolicy": json.dumps(policy), "RawMessageDelivery": "true"}
    if scope:
        attrs["FilterPolicyScope"] = scope
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q), Attributes=attrs)
    want = set()
    for i, (spec, hit) in enumerate(cases):
        if scope == "MessageBody":
            sns.publish(TopicArn=t, Message=spec if isinstance(spec, str) else json.dumps(spec))
            body = spec if isinstance(spec, str) else json.dumps(spec)
        else:
            kw = {"MessageAttributes": attrs_of(spec)} if spec else {}
            body = "case-%d" % i
            sns.publish(TopicArn=t, Message=body, **kw)
        if hit:
            want.add(body)
    got = {m["Body"] for m in receive_all(sqs, q, expect=len(want) if want else None,
                                          timeout=4)}
    assert got == want, "policy %s" % json.dumps(policy)


@pytest.mark.parametrize("policy,cases", ATTRIBUTE_CASES,
                         ids=[json.dumps(c[0])[:40] for c in ATTRIBUTE_CASES])
def test_filter_attributes(sns, sqs, queue, policy, cases):
    run_filter_case(sns, sqs, queue, policy, cases)


BODY_CASES = [
    ({"order": {"kind": ["book"]}}, [({"order": {"kind": "book"}}, True),
                                     ({"order": {"kind": "pen"}}, False),
                                     ("not json", False), ('"a string"', False)]),
    ({"items": {"sku": [{"prefix": "B-"}]}}, [({"items": [{"sku": "A-1"}, {"sku": "B-2"}]}, True),
                                              ({"items": [{"sku": "A-1"}]}, False)]),
    ({"price": [{"numeric": [">=", 100]}]}, [({"price": 100}, True), ({"price": 99.9}, False)]),
    ({"flag": [True]}, [({"flag": True}, True), ({"flag": "true"}, False)]),
    ({"v": [None]}, [({"v": None}, True), ({"w": 1}, False)]),
]


@pytest.mark.parametrize("policy,cases", BODY_CASES,
                         ids=[json.dumps(c[0])[:40] for c in BODY_CASES])
def test_filter_body(sns, sqs, queue, policy, cases):
    run_filter_case(sns, sqs, queue, policy, cases, scope="MessageBody")


def test_filter_policy_validation(sns, sqs, queue):
    t = new_topic(sns)
    qa = arn_of(sqs, queue())
    msg = e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=t, Protocol="sqs",
                                Endpoint=qa, Attributes={"FilterPolicy": '{"a": []}'})
    assert msg.startswith("Invalid parameter: Attributes Reason: FilterPolicy: ")
    msg = e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=t, Protocol="sqs",
                                Endpoint=qa, Attributes={"FilterPolicy": '{"a": {"b": ["c"]}}'})
    assert "does not support nested filter policy" in msg
    msg = e2e_util.expect_error("InvalidParameter", sns.subscribe, TopicArn=t, Protocol="sqs",
                                Endpoint=qa, Attributes={"FilterPolicyScope": "Body"})
    assert "FilterPolicyScope: Invalid value [Body]. Please use either MessageBody or " \
           "MessageAttributes" in msg
    sub = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=qa,
                        Attributes={"FilterPolicy": '{"a": ["b"]}'},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    msg = e2e_util.expect_error("InvalidParameter", sns.set_subscription_attributes,
                                SubscriptionArn=sub, AttributeName="FilterPolicy",
                                AttributeValue='{"a": [{"anything-but": {"suffix": "x"}}]}')
    assert msg.startswith("Invalid parameter: FilterPolicy: ")
    too_many = json.dumps({k: ["v"] for k in "abcdef"})
    msg = e2e_util.expect_error("InvalidParameter", sns.set_subscription_attributes,
                                SubscriptionArn=sub, AttributeName="FilterPolicy",
                                AttributeValue=too_many)
    assert "Filter policy can not have more than 5 keys" in msg
    # removing the policy: everything passes again
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue="")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "FilterPolicy" not in attrs


def test_empty_object_filter_policy_removes_the_filter(sns, sqs, queue):
    # AWS's CLI example removes a filter policy with --attribute-value "{}".
    t = new_topic(sns)
    q = queue()
    sub = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q),
                        Attributes={"FilterPolicy": '{"k": ["v"]}',
                                    "RawMessageDelivery": "true"},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.publish(TopicArn=t, Message="filtered out")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue="{ }")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "FilterPolicy" not in attrs
    sns.publish(TopicArn=t, Message="passes")
    assert [m["Body"] for m in receive_all(sqs, q, expect=1, timeout=3)] == ["passes"]
    # and at Subscribe: {} is no filter at all
    q2 = queue()
    sub2 = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q2),
                         Attributes={"FilterPolicy": "{}", "RawMessageDelivery": "true"},
                         ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert "FilterPolicy" not in sns.get_subscription_attributes(
        SubscriptionArn=sub2)["Attributes"]
    sns.publish(TopicArn=t, Message="to both")
    assert [m["Body"] for m in receive_all(sqs, q2, expect=1, timeout=3)] == ["to both"]


def test_filter_scope_switch(sns, sqs, queue):
    t = new_topic(sns)
    q = queue()
    sub = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, q),
                        Attributes={"FilterPolicy": '{"k": ["v"]}',
                                    "RawMessageDelivery": "true"},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    sns.publish(TopicArn=t, Message='{"k": "v"}')
    sns.publish(TopicArn=t, Message='{"k": "w"}', MessageAttributes={
        "k": {"DataType": "String", "StringValue": "v"}})
    got = [m["Body"] for m in receive_all(sqs, q, expect=1, timeout=3)]
    assert got == ['{"k": "v"}']


# ------------------------------------------------------------ durability

@pytest.mark.timeout(120)
def test_crash_after_acknowledged_publish(fresh_server):
    sns = sns_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    t = sns.create_topic(Name="crash-" + uuid.uuid4().hex[:8])["TopicArn"]
    urls = []
    for i in range(3):
        u = sqs.create_queue(QueueName="crash-q%d-%s" % (i, uuid.uuid4().hex[:6]))["QueueUrl"]
        urls.append(u)
        pol = {"FilterPolicy": json.dumps({"n": [{"numeric": [">=", 0]}]})} if i == 2 else {}
        sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn_of(sqs, u), Attributes=pol)
    mids = set()
    for i in range(30):
        mids.add(sns.publish(TopicArn=t, Message="m%d" % i, MessageAttributes={
            "n": {"DataType": "Number", "StringValue": str(i)}})["MessageId"])
    r = sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
        {"Id": "e%d" % i, "Message": "b%d" % i,
         "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "1"}}}
        for i in range(10)])
    mids |= {e["MessageId"] for e in r["Successful"]}
    fresh_server.kill()
    fresh_server.start()
    for u in urls:
        got = receive_all(sqs, u, expect=len(mids), timeout=20)
        assert {json.loads(m["Body"])["MessageId"] for m in got} == mids
    # topics and subscriptions came back too
    assert len(sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"]) == 3
