"""SNS topics as targets of EventBridge rules and EventBridge Scheduler
schedules: the copy for each subscribed queue is committed with the event
or the firing."""
import json
import uuid

import boto3

import e2e_util
from test_events_helpers import events_client
from test_scheduler_api import scheduler_client, target
from test_scheduler_firing import at_expr, make_queue


def topic_with_queue(endpoint, sqs, uid, raw=True):
    sns = boto3.session.Session().client(
        "sns", endpoint_url=endpoint, region_name=e2e_util.REGION,
        aws_access_key_id="x", aws_secret_access_key="y")
    topic = sns.create_topic(Name="t-" + uid)["TopicArn"]
    url, arn = make_queue(sqs, "q-" + uid)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    if raw:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                        AttributeValue="true")
    return topic, url


def test_eventbridge_rule_to_sns_topic(endpoint, sqs):
    uid = uuid.uuid4().hex[:8]
    topic, url = topic_with_queue(endpoint, sqs, uid)
    ev = events_client(endpoint)
    ev.put_rule(Name="r-" + uid, EventPattern=json.dumps({"source": ["orders." + uid]}))
    ev.put_targets(Rule="r-" + uid, Targets=[{"Id": "t", "Arn": topic}])
    r = ev.put_events(Entries=[{"Source": "orders." + uid, "DetailType": "placed",
                                "Detail": json.dumps({"n": 1})}])
    assert r["FailedEntryCount"] == 0
    got = e2e_util.drain(sqs, url, expect=1, timeout=10)
    assert len(got) == 1
    event = json.loads(next(iter(got.values()))["Body"])
    assert event["source"] == "orders." + uid and event["detail"] == {"n": 1}
    # a non-matching event reaches nobody
    ev.put_events(Entries=[{"Source": "other", "DetailType": "x", "Detail": "{}"}])
    assert e2e_util.drain(sqs, url, timeout=2) == {}


def test_schedule_to_sns_topic(endpoint, sqs):
    uid = uuid.uuid4().hex[:8]
    topic, url = topic_with_queue(endpoint, sqs, uid, raw=False)
    sched = scheduler_client(endpoint)
    sched.create_schedule(Name="s-" + uid, ScheduleExpression=at_expr(2),
                          FlexibleTimeWindow={"Mode": "OFF"},
                          Target=target(topic, Input='{"report":"weekly"}'))
    got = e2e_util.drain(sqs, url, expect=1, timeout=15)
    assert len(got) == 1
    envelope = json.loads(next(iter(got.values()))["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert json.loads(envelope["Message"]) == {"report": "weekly"}
    sched.delete_schedule(Name="s-" + uid)
