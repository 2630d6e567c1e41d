"""SNS HTTP/HTTPS subscribers, end to end: an HTTP endpoint in the test
process receives SubscriptionConfirmation and Notification requests,
checks the x-amz-sns-* headers and verifies every signature against the
certificate served at SigningCertURL (SignatureVersion 1 and 2).  Also:
confirming by token and by GET on the SubscribeURL, raw delivery, retries
per DeliveryPolicy, the subscription dead-letter queue, a slow endpoint
not holding up publishes, and pending deliveries surviving a crash.
"""

import base64
import http.server
import json
import threading
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

pytestmark = pytest.mark.timeout(120)


def sns_client(endpoint):
    cfg = botocore.config.Config(region_name=e2e_util.REGION,
                                 retries={"total_max_attempts": 1})
    return boto3.session.Session().client(
        "sns", endpoint_url=endpoint, aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


SIGNED_KEYS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp",
                                 "Token", "TopicArn", "Type"],
}
SIGNED_KEYS["UnsubscribeConfirmation"] = SIGNED_KEYS["SubscriptionConfirmation"]


def verify_signature(msg):
    """Checks msg's Signature the way AWS's validators do (bar the host)."""
    keys = SIGNED_KEYS[msg["Type"]]
    text = "".join("%s\n%s\n" % (k, msg[k]) for k in keys if k in msg)
    with urllib.request.urlopen(msg["SigningCertURL"], timeout=5) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    algo = hashes.SHA256() if msg["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(msg["Signature"]), text.encode("utf-8"),
                             padding.PKCS1v15(), algo)


class Endpoint:
    """An HTTP subscriber: records requests; answers with self.status
    (a list pops one status per request, then 200) after self.delay."""

    def __init__(self):
        self.requests = []
        self.status = []
        self.delay = 0
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.delay:
                    time.sleep(outer.delay)
                with outer.cond:
                    code = outer.status.pop(0) if outer.status else 200
                    outer.requests.append({"headers": {k.lower(): v for k, v in
                                                       self.headers.items()},
                                           "body": body.decode("utf-8"), "code": code,
                                           "at": time.time(), "path": self.path})
                    outer.cond.notify_all()
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n, timeout=15, what=None):
        """Waits for n requests (of type `what` if given); returns them."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests
                       if what is None or r["headers"].get("x-amz-sns-message-type") == what]
                if len(got) >= n:
                    return got
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("expected %d %s requests, got %d" % (n, what, len(got)))
                self.cond.wait(left)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook():
    ep = Endpoint()
    yield ep
    ep.close()


@pytest.fixture(scope="module")
def sns(endpoint):
    return sns_client(endpoint)


def topic(sns, fifo=False, **attrs):
    name = "http-" + uuid.uuid4().hex[:10]
    return sns.create_topic(Name=name, Attributes={k: str(v) for k, v in attrs.items()}
                            )["TopicArn"]


def subscribe_confirmed(sns, hook, arn, attributes=None):
    r = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=hook.url,
                      Attributes=attributes or {})
    assert r["SubscriptionArn"] == "pending confirmation"
    conf = json.loads(hook.wait(1, what="SubscriptionConfirmation")[-1]["body"])
    sub = sns.confirm_subscription(TopicArn=arn, Token=conf["Token"])["SubscriptionArn"]
    return sub, conf


def test_confirmation_message_and_token(sns, hook):
    arn = topic(sns)
    r = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=hook.url,
                      ReturnSubscriptionArn=True)
    sub_arn = r["SubscriptionArn"]
    assert sub_arn.startswith(arn + ":")
    req = hook.wait(1)[0]
    h = req["headers"]
    assert h["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert h["x-amz-sns-topic-arn"] == arn
    assert "x-amz-sns-subscription-arn" not in h
    assert h["user-agent"] == "Amazon Simple Notification Service Agent"
    assert h["content-type"].startswith("text/plain")
    msg = json.loads(req["body"])
    assert list(msg) == ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL",
                         "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"]
    assert msg["MessageId"] == h["x-amz-sns-message-id"]
    assert msg["Message"].startswith("You have chosen to subscribe to the topic %s." % arn)
    verify_signature(msg)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "true"
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert subs[0]["SubscriptionArn"] == "PendingConfirmation"
    ta = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (ta["SubscriptionsPending"], ta["SubscriptionsConfirmed"]) == ("1", "0")

    err = e2e_util.expect_error("InvalidParameter", sns.confirm_subscription, TopicArn=arn,
                                Token="nope" * 8)
    assert err == "Invalid parameter: Token"
    got = sns.confirm_subscription(TopicArn=arn, Token=msg["Token"])["SubscriptionArn"]
    assert got == sub_arn
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert "EffectiveDeliveryPolicy" in attrs
    ta = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (ta["SubscriptionsPending"], ta["SubscriptionsConfirmed"]) == ("0", "1")


def test_subscribe_url_get_confirms(sns, hook):
    arn = topic(sns)
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=hook.url)
    msg = json.loads(hook.wait(1)[0]["body"])
    with urllib.request.urlopen(msg["SubscribeURL"], timeout=5) as r:
        assert r.status == 200
        assert b"SubscriptionArn" in r.read()
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert subs[0]["SubscriptionArn"].startswith(arn + ":")


@pytest.mark.parametrize("version", ["1", "2"])
def test_notification_signed(sns, hook, version):
    arn = topic(sns, SignatureVersion=version)
    sub, _ = subscribe_confirmed(sns, hook, arn)
    mid = sns.publish(TopicArn=arn, Message="héllo \"world\"\nline", Subject="Greeting",
                      MessageAttributes={"kind": {"DataType": "String",
                                                  "StringValue": "greet"},
                                         "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
                      )["MessageId"]
    req = hook.wait(1, what="Notification")[0]
    h = req["headers"]
    assert h["x-amz-sns-message-id"] == mid
    assert h["x-amz-sns-subscription-arn"] == sub
    assert h["x-amz-sns-topic-arn"] == arn
    msg = json.loads(req["body"])
    assert msg["Type"] == "Notification"
    assert msg["Message"] == "héllo \"world\"\nline"
    assert msg["Subject"] == "Greeting"
    assert msg["SignatureVersion"] == version
    assert msg["MessageAttributes"]["kind"] == {"Type": "String", "Value": "greet"}
    assert msg["MessageAttributes"]["b"] == {"Type": "Binary", "Value": "AAE="}
    assert msg["UnsubscribeURL"].endswith(urllib.parse.quote(sub, safe=""))
    verify_signature(msg)
    # a tampered message fails verification
    msg["Message"] = "other"
    with pytest.raises(Exception):
        verify_signature(msg)


def test_unsubscribe_confirmation(sns, hook):
    arn = topic(sns)
    sub, _ = subscribe_confirmed(sns, hook, arn)
    sns.unsubscribe(SubscriptionArn=sub)
    req = hook.wait(1, what="UnsubscribeConfirmation")[0]
    assert req["headers"]["x-amz-sns-subscription-arn"] == sub
    msg = json.loads(req["body"])
    assert msg["Type"] == "UnsubscribeConfirmation"
    assert msg["Message"].startswith("You have chosen to deactivate subscription %s." % sub)
    verify_signature(msg)
    sns.publish(TopicArn=arn, Message="after")
    time.sleep(0.5)
    assert not [r for r in hook.requests
                if r["headers"]["x-amz-sns-message-type"] == "Notification"]


def test_raw_delivery_headers(sns, hook):
    arn = topic(sns)
    sub, _ = subscribe_confirmed(sns, hook, arn)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    sns.publish(TopicArn=arn, Message="raw body", MessageAttributes={
        "a": {"DataType": "String", "StringValue": "x"}})
    req = hook.wait(1, what="Notification")[0]
    assert req["body"] == "raw body"
    assert req["headers"]["x-amz-sns-rawdelivery"] == "true"


def test_retries_then_dead_letter_queue(sns, sqs, hook, queue):
    dlq = queue()
    dlq_arn = e2e_util.queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    arn = topic(sns)
    sub, _ = subscribe_confirmed(sns, hook, arn)
    policy = {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1,
                                     "maxDelayTarget": 1, "numNoDelayRetries": 1,
                                     "backoffFunction": "linear"}}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy",
                                    AttributeValue=json.dumps(policy))
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps(
                                        {"deadLetterTargetArn": dlq_arn}))
    hook.status = [500, 503, 500]
    mid = sns.publish(TopicArn=arn, Message="will fail")["MessageId"]
    got = hook.wait(3, what="Notification")
    assert all(r["headers"]["x-amz-sns-message-id"] == mid for r in got)
    # first retry immediate (numNoDelayRetries 1), the second about a second later
    assert got[2]["at"] - got[1]["at"] >= 0.8
    msgs = e2e_util.wait_until(
        lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages"),
        timeout=10, what="the dead-lettered message")
    body = json.loads(msgs[0]["Body"])
    assert body["MessageId"] == mid and body["Message"] == "will fail"
    time.sleep(1.5)
    assert len(hook.wait(3, what="Notification")) == 3  # no more attempts


def test_retry_succeeds(sns, hook):
    arn = topic(sns, DeliveryPolicy=json.dumps({"http": {"defaultHealthyRetryPolicy": {
        "numRetries": 3, "minDelayTarget": 1, "maxDelayTarget": 1}}}))
    subscribe_confirmed(sns, hook, arn)
    hook.status = [500]
    sns.publish(TopicArn=arn, Message="second time lucky")
    got = hook.wait(2, what="Notification")
    assert [r["code"] for r in got] == [500, 200]
    time.sleep(1.5)
    assert len(hook.wait(2, what="Notification")) == 2


def test_slow_endpoint_does_not_block_publish(sns, hook):
    arn = topic(sns)
    subscribe_confirmed(sns, hook, arn)
    hook.delay = 3
    t0 = time.time()
    for i in range(5):
        sns.publish(TopicArn=arn, Message="m%d" % i)
    assert time.time() - t0 < 2.5
    hook.wait(5, what="Notification", timeout=30)


def test_pending_delivery_survives_crash(fresh_server, hook):
    sns = sns_client(fresh_server.endpoint)
    arn = topic(sns, DeliveryPolicy=json.dumps({"http": {"defaultHealthyRetryPolicy": {
        "numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 2}}}))
    subscribe_confirmed(sns, hook, arn)
    hook.status = [500]
    mid = sns.publish(TopicArn=arn, Message="durable")["MessageId"]
    hook.wait(1, what="Notification")
    fresh_server.kill()
    fresh_server.start()
    got = hook.wait(2, what="Notification", timeout=20)
    assert got[-1]["headers"]["x-amz-sns-message-id"] == mid
    assert json.loads(got[-1]["body"])["Message"] == "durable"
