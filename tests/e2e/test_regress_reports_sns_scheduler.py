"""Regressions found by checking sluice's SNS HTTP/HTTPS subscriptions, SNS
topics and EventBridge Scheduler against AWS behaviours that were reported
as bugs in other implementations (LocalStack, moto, fakecloud, ACK...) or
that AWS's documentation and the botocore models settle.  Each test names
the report and the AWS source of its expectation."""
import http.server
import json
import threading
import time
import urllib.request
import uuid

import boto3
import botocore.config
import pytest

import e2e_util
from e2e_util import expect_error

pytestmark = pytest.mark.timeout(120)

FAST_RETRY = {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 2,
              "numNoDelayRetries": 0, "numMinDelayRetries": 0, "numMaxDelayRetries": 0,
              "backoffFunction": "linear"}


def sns_client(endpoint):
    cfg = botocore.config.Config(region_name=e2e_util.REGION,
                                 retries={"total_max_attempts": 1})
    return boto3.session.Session().client(
        "sns", endpoint_url=endpoint, aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


def scheduler_client(endpoint, validate=True):
    cfg = botocore.config.Config(region_name=e2e_util.REGION,
                                 retries={"total_max_attempts": 1},
                                 parameter_validation=validate)
    return boto3.session.Session().client(
        "scheduler", endpoint_url=endpoint, aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


class Hook:
    """An HTTP subscriber on 127.0.0.1: records each POST; answers with the
    statuses queued in self.status (one per request), then 200."""

    def __init__(self):
        self.requests = []
        self.status = []
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.cond:
                    code = outer.status.pop(0) if outer.status else 200
                    outer.requests.append({
                        "type": self.headers.get("x-amz-sns-message-type"),
                        "body": body.decode("utf-8")})
                    outer.cond.notify_all()
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def of_type(self, what):
        with self.cond:
            return [r for r in self.requests if r["type"] == what]

    def wait(self, n, what, timeout=15):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if r["type"] == what]
                if len(got) >= n:
                    return got
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("expected %d %s requests, got %d"
                                         % (n, what, len(got)))
                self.cond.wait(left)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


@pytest.fixture(scope="module")
def sns(endpoint):
    return sns_client(endpoint)


def new_topic(sns, **attrs):
    name = "regress-" + uuid.uuid4().hex[:10]
    return sns.create_topic(Name=name, Attributes={k: str(v) for k, v in attrs.items()}
                            )["TopicArn"]


def subscribe_http(sns, hook, topic, attributes=None):
    """Subscribes hook.url; returns (subscription ARN, confirmation message)."""
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url,
                        Attributes=attributes or {}, ReturnSubscriptionArn=True
                        )["SubscriptionArn"]
    conf = json.loads(hook.wait(1, "SubscriptionConfirmation")[-1]["body"])
    return sub, conf


# ---------------------------------------------------------------- SNS HTTP


def test_subscribe_again_while_pending_answers_pending_confirmation(sns, hook):
    """botocore SNS model, SubscribeResponse.SubscriptionArn: "The ARN of the
    subscription if it is confirmed, or the string "pending confirmation" if
    the subscription requires confirmation" (the ARN only with
    ReturnSubscriptionArn).  Subscribing the same endpoint again while it is
    unconfirmed keeps answering "pending confirmation" on AWS
    (triggermesh/aws-event-sources#339: "Subscription is pending
    confirmation, will retry" x5); sluice returns the real ARN instead."""
    topic = new_topic(sns)
    first = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    assert first["SubscriptionArn"] == "pending confirmation"
    hook.wait(1, "SubscriptionConfirmation")
    again = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    assert again["SubscriptionArn"] == "pending confirmation"


def test_confirmation_by_unsigned_subscribe_url_is_not_authenticated(sns, hook):
    """botocore SNS model, GetSubscriptionAttributes: "ConfirmationWasAuthenticated
    - true if the subscription confirmation request was authenticated."  A
    plain GET on the SubscribeURL carries no signature, so the attribute
    stays "false" (fakecloud#1829 fixed the same kind of hard-wired value for
    PendingConfirmation).  sluice reports "true" for every confirmed
    subscription."""
    topic = new_topic(sns)
    sub, conf = subscribe_http(sns, hook, topic)
    with urllib.request.urlopen(conf["SubscribeURL"], timeout=5) as r:
        assert r.status == 200
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "false"


def test_unsubscribe_confirmation_subscribe_url_restores_the_subscription(sns, hook):
    """SNS Developer Guide, HTTP/HTTPS unsubscribe confirmation JSON format:
    SubscribeURL is "The URL that you must visit in order to re-confirm the
    subscription.  Alternatively, you can instead use the Token with the
    ConfirmSubscription action"; the Message says "To cancel this operation
    and restore the subscription, visit the SubscribeURL".
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
    (localstack/localstack#5846 / #5874 added the message).  sluice answers
    "Invalid parameter: Token"."""
    topic = new_topic(sns)
    sub, conf = subscribe_http(sns, hook, topic)
    sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
    sns.unsubscribe(SubscriptionArn=sub)
    unsub = json.loads(hook.wait(1, "UnsubscribeConfirmation")[0]["body"])
    with urllib.request.urlopen(unsub["SubscribeURL"], timeout=5) as r:
        assert r.status == 200
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["Endpoint"] for s in subs if s["SubscriptionArn"].startswith(topic + ":")] \
        == [hook.url]
    sns.publish(TopicArn=topic, Message="restored")
    hook.wait(1, "Notification")


def test_http_4xx_answer_is_not_retried(sns, hook):
    """SNS Developer Guide, HTTP/S delivery policies: failed attempts are
    "HTTP status codes 100 to 101 and 500 to 599"; "Amazon SNS considers HTTP
    status codes 400 to 499 to indicate permanent delivery failure"
    (DeliveryPolicies.md; SendMessageToHttp.prepare: a status "outside the
    range of 200-4xx" is a failed attempt).  sluice retries a 404."""
    topic = new_topic(sns)
    sub, conf = subscribe_http(sns, hook, topic,
                               {"DeliveryPolicy": json.dumps({"healthyRetryPolicy": FAST_RETRY})})
    sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
    hook.status = [404]
    sns.publish(TopicArn=topic, Message="gone")
    hook.wait(1, "Notification")
    time.sleep(3.5)  # two retries 1 s apart would have come by now
    assert len(hook.of_type("Notification")) == 1


def test_topic_policy_disable_subscription_overrides(sns, hook):
    """SNS Developer Guide, "Applying Delivery Policies to Topics and
    Subscriptions": with "Ignore subscription override"
    (http.disableSubscriptionOverrides) "your topic's delivery policy applies
    to all subscriptions even if a subscription has set its own delivery
    policy" (DeliveryPolicies.md).  sluice accepts the flag and ignores it."""
    policy = {"http": {"defaultHealthyRetryPolicy": FAST_RETRY,
                       "disableSubscriptionOverrides": True}}
    topic = new_topic(sns, DeliveryPolicy=json.dumps(policy))
    no_retries = dict(FAST_RETRY, numRetries=0)
    sub, conf = subscribe_http(sns, hook, topic,
                               {"DeliveryPolicy": json.dumps({"healthyRetryPolicy": no_retries})})
    sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
    hook.status = [500]
    sns.publish(TopicArn=topic, Message="topic policy wins")
    got = hook.wait(2, "Notification", timeout=10)
    assert [json.loads(r["body"])["Message"] for r in got] == ["topic policy wins"] * 2


def test_delivery_policy_min_delay_target_at_least_one(sns, hook):
    """SNS Developer Guide, message delivery retries: minDelayTarget's
    constraint is "1 to maximum delay" (sns-message-delivery-retries.md).
    sluice accepts 0."""
    topic = new_topic(sns)
    sub, conf = subscribe_http(sns, hook, topic)
    sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
    bad = dict(FAST_RETRY, minDelayTarget=0)
    expect_error("InvalidParameter", sns.set_subscription_attributes, SubscriptionArn=sub,
                 AttributeName="DeliveryPolicy",
                 AttributeValue=json.dumps({"healthyRetryPolicy": bad}))


@pytest.mark.parametrize("protocol,target", [("email", "someone@example.com"),
                                                ("lambda", "arn:aws:lambda:us-east-1:"
                                                 "000000000000:function:f")])
def test_raw_message_delivery_refused_for_protocols_without_it(sns, protocol, target):
    """AWS answers "InvalidParameter: Invalid parameter: Delivery protocol
    [lambda] does not support raw message delivery." (aws-controllers-k8s/
    community#2192); raw delivery exists only for Firehose, SQS and HTTP/S
    (aws-cloudformation/cloudformation-coverage-roadmap#399, AWS's reply).
    sluice stores RawMessageDelivery=true on email and Lambda subscriptions."""
    topic = new_topic(sns)
    sub = sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=target,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    msg = expect_error("InvalidParameter", sns.set_subscription_attributes,
                       SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                       AttributeValue="true")
    assert "does not support raw message delivery" in msg


# -------------------------------------------------------------- SNS topics


def test_data_protection_policy_actions(sns):
    """botocore SNS model (2010-03-31) has PutDataProtectionPolicy and
    GetDataProtectionPolicy, and CreateTopic's DataProtectionPolicy member
    ("The body of the policy document you want to use for this topic").
    sluice answers InvalidAction for both actions and drops the CreateTopic
    member."""
    policy = json.dumps({
        "Name": "p", "Description": "", "Version": "2021-06-01",
        "Statement": [{"Sid": "s", "DataDirection": "Inbound", "Principal": ["*"],
                       "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/"
                                          "CreditCardNumber"],
                       "Operation": {"Deny": {}}}]})
    topic = sns.create_topic(Name="regress-dpp-" + uuid.uuid4().hex[:8],
                             DataProtectionPolicy=policy)["TopicArn"]
    got = sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"]
    assert json.loads(got) == json.loads(policy)
    other = new_topic(sns)
    sns.put_data_protection_policy(ResourceArn=other, DataProtectionPolicy=policy)
    got = sns.get_data_protection_policy(ResourceArn=other)["DataProtectionPolicy"]
    assert json.loads(got) == json.loads(policy)


@pytest.mark.parametrize("member", ["MessageDeduplicationId", "MessageGroupId"])
def test_fifo_ids_longer_than_128_refused(sns, member):
    """botocore SNS model, Publish: MessageDeduplicationId and MessageGroupId
    each "can contain up to 128 alphanumeric characters (a-z, A-Z, 0-9) and
    punctuation".  sluice publishes with 129."""
    topic = sns.create_topic(Name="regress-" + uuid.uuid4().hex[:8] + ".fifo",
                             Attributes={"FifoTopic": "true"})["TopicArn"]
    ids = {"MessageDeduplicationId": uuid.uuid4().hex, "MessageGroupId": "g"}
    ids[member] = "x" * 129
    expect_error("InvalidParameter", sns.publish, TopicArn=topic, Message="long id", **ids)


# --------------------------------------------------------------- Scheduler


def test_schedule_group_tag_value_may_not_be_empty(endpoint):
    """botocore Scheduler model: TagValue has "min": 1 (and "max": 256), for
    CreateScheduleGroup's Tags and TagResource.  sluice stores an empty
    value (docs/scheduler.md says 0-256)."""
    raw = scheduler_client(endpoint, validate=False)
    name = "regress-" + uuid.uuid4().hex[:10]
    expect_error("ValidationException", raw.create_schedule_group, Name=name,
                 Tags=[{"Key": "k", "Value": ""}])
    arn = raw.create_schedule_group(Name=name)["ScheduleGroupArn"]
    expect_error("ValidationException", raw.tag_resource, ResourceArn=arn,
                 Tags=[{"Key": "k", "Value": ""}])
