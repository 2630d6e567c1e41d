"""EventBridge Scheduler invocations end to end: one-time at() schedules
delivering to SQS, rate() starting at once, context attributes in Input,
retries until the target exists, dead letters with their error attributes,
ActionAfterCompletion=DELETE, and restarts while an invocation is due
(durable before attempted: due while down fires once, never twice).
"""

import json
import time
import uuid

import pytest

import e2e_util
from test_scheduler_api import ROLE, rest, scheduler_client, target


def at_expr(seconds_ahead):
    t = time.gmtime(time.time() + seconds_ahead)
    return time.strftime("at(%Y-%m-%dT%H:%M:%S)", t)


def make_queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


@pytest.fixture(scope="module")
def sched(endpoint):
    return scheduler_client(endpoint)


@pytest.fixture
def uid():
    return uuid.uuid4().hex[:10]


def test_one_time_schedule_delivers_to_queue(sched, sqs, uid):
    url, arn = make_queue(sqs, "at-" + uid)
    sched.create_schedule(
        Name="at-" + uid, ScheduleExpression=at_expr(3),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(arn, Input='{"when":"<aws.scheduler.scheduled-time>",'
                                 '"arn":"<aws.scheduler.schedule-arn>",'
                                 '"attempt":"<aws.scheduler.attempt-number>"}'))
    created = time.time()
    got = e2e_util.drain(sqs, url, expect=1, timeout=15)
    assert len(got) == 1
    latency = time.time() - created
    body = json.loads(next(iter(got.values()))["Body"])
    assert body["arn"].endswith(":schedule/default/at-" + uid)
    assert body["attempt"] == "1"
    assert body["when"].endswith("Z")
    assert latency < 10
    # one-time: nothing more arrives, and the schedule stays (NONE)
    assert e2e_util.drain(sqs, url, timeout=3) == {}
    assert sched.get_schedule(Name="at-" + uid)["State"] == "ENABLED"
    sched.delete_schedule(Name="at-" + uid)


def test_rate_fires_first_at_creation(sched, sqs, uid):
    url, arn = make_queue(sqs, "rate-" + uid)
    sched.create_schedule(Name="rate-" + uid, ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow={"Mode": "OFF"},
                          Target=target(arn, Input="tick"))
    got = e2e_util.drain(sqs, url, expect=1, timeout=10)
    assert [m["Body"] for m in got.values()] == ["tick"]
    sched.delete_schedule(Name="rate-" + uid)


def test_disabled_schedule_does_not_fire(sched, sqs, uid):
    url, arn = make_queue(sqs, "off-" + uid)
    sched.create_schedule(Name="off-" + uid, ScheduleExpression=at_expr(1),
                          State="DISABLED", FlexibleTimeWindow={"Mode": "OFF"},
                          Target=target(arn, Input="never"))
    assert e2e_util.drain(sqs, url, timeout=4) == {}
    sched.delete_schedule(Name="off-" + uid)


def test_missing_target_goes_to_dead_letter_queue(sched, sqs, uid):
    dlq_url, dlq_arn = make_queue(sqs, "dlq-" + uid)
    missing = "arn:aws:sqs:%s:%s:missing-%s" % (e2e_util.REGION, e2e_util.ACCOUNT, uid)
    sched.create_schedule(
        Name="dl-" + uid, ScheduleExpression=at_expr(1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(missing, Input="lost",
                      RetryPolicy={"MaximumRetryAttempts": 0,
                                   "MaximumEventAgeInSeconds": 60},
                      DeadLetterConfig={"Arn": dlq_arn}))
    got = e2e_util.drain(sqs, dlq_url, expect=1, timeout=15)
    assert len(got) == 1
    m = next(iter(got.values()))
    assert m["Body"] == "lost"
    attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
    assert attrs["ERROR_CODE"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert attrs["ERROR_MESSAGE"]
    assert attrs["RETRY_ATTEMPTS"] == "0"
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attrs["TARGET_ARN"] == missing
    assert attrs["SCHEDULE_ARN"].endswith(":schedule/default/dl-" + uid)
    sched.delete_schedule(Name="dl-" + uid)


def test_retries_then_dead_letter(sched, sqs, uid):
    dlq_url, dlq_arn = make_queue(sqs, "dlq2-" + uid)
    missing = "arn:aws:sqs:%s:%s:missing2-%s" % (e2e_util.REGION, e2e_util.ACCOUNT, uid)
    sched.create_schedule(
        Name="dl2-" + uid, ScheduleExpression=at_expr(1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(missing, Input="lost twice",
                      RetryPolicy={"MaximumRetryAttempts": 2},
                      DeadLetterConfig={"Arn": dlq_arn}))
    got = e2e_util.drain(sqs, dlq_url, expect=1, timeout=20)
    assert len(got) == 1
    attrs = {k: v["StringValue"]
             for k, v in next(iter(got.values()))["MessageAttributes"].items()}
    assert attrs["RETRY_ATTEMPTS"] == "2"
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    sched.delete_schedule(Name="dl2-" + uid)


def test_retry_succeeds_once_the_queue_exists(sched, sqs, uid):
    qname = "late-" + uid
    arn = "arn:aws:sqs:%s:%s:%s" % (e2e_util.REGION, e2e_util.ACCOUNT, qname)
    sched.create_schedule(
        Name="late-" + uid, ScheduleExpression=at_expr(1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(arn, Input="attempt <aws.scheduler.attempt-number>",
                      RetryPolicy={"MaximumRetryAttempts": 10}))
    time.sleep(2.5)
    url, _ = make_queue(sqs, qname)
    got = e2e_util.drain(sqs, url, expect=1, timeout=20)
    bodies = [m["Body"] for m in got.values()]
    assert len(bodies) == 1 and bodies[0].startswith("attempt ")
    assert int(bodies[0].split()[1]) >= 2
    assert e2e_util.drain(sqs, url, timeout=3) == {}
    sched.delete_schedule(Name="late-" + uid)


def test_unsupported_target_fails_clearly(sched, sqs, uid):
    dlq_url, dlq_arn = make_queue(sqs, "dlq3-" + uid)
    sched.create_schedule(
        Name="lambda-" + uid, ScheduleExpression=at_expr(1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target("arn:aws:lambda:us-east-1:%s:function:f" % e2e_util.ACCOUNT,
                      Input="{}", DeadLetterConfig={"Arn": dlq_arn}))
    got = e2e_util.drain(sqs, dlq_url, expect=1, timeout=15)
    attrs = {k: v["StringValue"]
             for k, v in next(iter(got.values()))["MessageAttributes"].items()}
    assert attrs["ERROR_CODE"] == "UnsupportedTarget"
    assert "lambda" in attrs["ERROR_MESSAGE"]
    sched.delete_schedule(Name="lambda-" + uid)


def test_action_after_completion_delete(endpoint, sched, sqs, uid):
    url, arn = make_queue(sqs, "aac-" + uid)
    status, _, body = rest(endpoint, "POST", "/schedules/aac-" + uid, {
        "ScheduleExpression": at_expr(2), "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {"Arn": arn, "RoleArn": ROLE, "Input": "last"}})
    assert status == 200, body
    got = e2e_util.drain(sqs, url, expect=1, timeout=15)
    assert [m["Body"] for m in got.values()] == ["last"]

    def gone():
        try:
            sched.get_schedule(Name="aac-" + uid)
            return False
        except sched.exceptions.ResourceNotFoundException:
            return True
    e2e_util.wait_until(gone, timeout=5, what="completed schedule deleted")


def test_fifo_target_needs_group_and_gets_it(sched, sqs, uid):
    url = sqs.create_queue(QueueName="fifo-%s.fifo" % uid,
                           Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sched.create_schedule(
        Name="fifo-" + uid, ScheduleExpression=at_expr(1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(arn, Input="ordered", SqsParameters={"MessageGroupId": "g"}))
    got = e2e_util.drain(sqs, url, expect=1, timeout=15)
    m = next(iter(got.values()))
    assert m["Body"] == "ordered"
    assert m["Attributes"]["MessageGroupId"] == "g"
    sched.delete_schedule(Name="fifo-" + uid)


@pytest.mark.timeout(60)
def test_due_while_down_fires_once_after_restart(fresh_server):
    client = scheduler_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    url, arn = make_queue(sqs, "down")
    client.create_schedule(Name="down", ScheduleExpression=at_expr(3),
                           FlexibleTimeWindow={"Mode": "OFF"},
                           Target=target(arn, Input="while-down"))
    fresh_server.kill()
    time.sleep(4.5)  # the invocation falls due while nothing runs
    fresh_server.start()
    got = e2e_util.drain(sqs, url, expect=1, timeout=10)
    assert [m["Body"] for m in got.values()] == ["while-down"]
    # and it is not repeated by another crash and restart
    for m in got.values():
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    fresh_server.restart(crash=True)
    assert e2e_util.drain(sqs, url, timeout=3) == {}


@pytest.mark.timeout(60)
def test_fired_before_crash_is_not_repeated(fresh_server):
    client = scheduler_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    url, arn = make_queue(sqs, "once")
    client.create_schedule(Name="once", ScheduleExpression="rate(1 hour)",
                           FlexibleTimeWindow={"Mode": "OFF"},
                           Target=target(arn, Input="hourly"))
    got = e2e_util.drain(sqs, url, expect=1, timeout=10, visibility=0)
    assert len(got) == 1
    fresh_server.restart(crash=True)
    time.sleep(1.5)
    attrs = e2e_util.queue_attrs(sqs, url, "ApproximateNumberOfMessages",
                                 "ApproximateNumberOfMessagesNotVisible")
    assert int(attrs["ApproximateNumberOfMessages"]) + \
        int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1


@pytest.mark.timeout(60)
def test_pending_retry_survives_restart(fresh_server):
    client = scheduler_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    arn = "arn:aws:sqs:%s:%s:appears-later" % (e2e_util.REGION, e2e_util.ACCOUNT)
    client.create_schedule(Name="retry-restart", ScheduleExpression=at_expr(1),
                           FlexibleTimeWindow={"Mode": "OFF"},
                           Target=target(arn, Input="eventually",
                                         RetryPolicy={"MaximumRetryAttempts": 20}))
    time.sleep(2.5)  # first attempt failed; a retry row is stored
    fresh_server.restart(crash=True)
    url, _ = make_queue(sqs, "appears-later")
    got = e2e_util.drain(sqs, url, expect=1, timeout=25)
    assert [m["Body"] for m in got.values()] == ["eventually"]


def test_eventbridge_bus_target(endpoint, sched, sqs, uid):
    import boto3
    import botocore.config
    events = boto3.session.Session().client(
        "events", endpoint_url=endpoint, aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET,
        config=botocore.config.Config(region_name=e2e_util.REGION))
    url, qarn = make_queue(sqs, "bus-" + uid)
    source = "sched.e2e." + uid
    events.put_rule(Name="from-scheduler-" + uid,
                    EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule="from-scheduler-" + uid,
                       Targets=[{"Id": "q", "Arn": qarn}])
    bus = "arn:aws:events:%s:%s:event-bus/default" % (e2e_util.REGION, e2e_util.ACCOUNT)
    sched.create_schedule(
        Name="bus-" + uid, ScheduleExpression=at_expr(1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(bus, Input='{"report": "weekly"}',
                      EventBridgeParameters={"DetailType": "Report Due",
                                             "Source": source}))
    got = e2e_util.drain(sqs, url, expect=1, timeout=15)
    assert len(got) == 1
    event = json.loads(next(iter(got.values()))["Body"])
    assert event["source"] == source
    assert event["detail-type"] == "Report Due"
    assert event["detail"] == {"report": "weekly"}
    assert event["resources"] == [sched.get_schedule(Name="bus-" + uid)["Arn"]]
    sched.delete_schedule(Name="bus-" + uid)
    events.remove_targets(Rule="from-scheduler-" + uid, Ids=["q"])
    events.delete_rule(Name="from-scheduler-" + uid)


def test_update_keeps_a_rate_rhythm_unless_the_expression_changes(sched, sqs, uid):
    url, arn = make_queue(sqs, "rhythm-" + uid)
    args = dict(Name="rhythm-" + uid, FlexibleTimeWindow={"Mode": "OFF"},
                Target=target(arn, Input="beat"))
    sched.create_schedule(ScheduleExpression="rate(1 hour)", **args)
    assert len(e2e_util.drain(sqs, url, expect=1, timeout=10)) == 1
    # same expression, new description: no extra invocation
    sched.update_schedule(ScheduleExpression="rate(1 hour)", Description="x", **args)
    assert e2e_util.drain(sqs, url, timeout=3) == {}
    # a new expression counts from the update: invoked at once
    sched.update_schedule(ScheduleExpression="rate(2 hours)", **args)
    assert len(e2e_util.drain(sqs, url, expect=1, timeout=10)) == 1
    sched.delete_schedule(Name="rhythm-" + uid)
