"""Resource policies across accounts, end to end.

A server of this module's own runs with a credentials file of two
accounts, A and B.  boto3 clients sign as either.  Covered:

- an SNS topic answers another account only where its Policy allows it
  (AuthorizationError, 403, otherwise), AddPermission / RemovePermission;
- an EventBridge bus takes PutEvents from another account only where its
  policy allows it (PutPermission / RemovePermission / DescribeEventBus
  Policy); the refused entry is AccessDeniedException; a rule whose target
  is another account's bus needs that bus's policy too (else the target's
  dead-letter queue gets the event with ERROR_CODE NO_PERMISSIONS);
- deliveries into SQS queues consult the queue's Policy as AWS does, with
  the service as principal and aws:SourceArn = the topic or rule: across
  accounts only an Allow lets them in; in the same account a queue without
  a Policy takes them, and a Policy that denies the topic blocks them.
A refused delivery is a failed one: SNS moves it to the subscription's
dead-letter queue, EventBridge to the target's.
"""

import json
import os
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

import e2e_util
from conftest import Server

REGION = e2e_util.REGION
A = "333333333333"
B = "444444444444"
KEYS = {
    "a": ("AKIDPOLICYA", "policy-secret-a", A),
    "b": ("AKIDPOLICYB", "policy-secret-b", B),
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    work = tmp_path_factory.mktemp("policies")
    creds = os.path.join(str(work), "credentials.json")
    with open(creds, "w") as f:
        json.dump([{"accessKeyId": k, "secretAccessKey": s, "accountId": a}
                   for k, s, a in KEYS.values()], f)
    server = Server(str(work))
    server.extra_args = ["--credentials", creds]
    server.start()
    yield server
    server.stop()
    server.assert_clean()


def client(srv, service, who):
    key, secret, _ = KEYS[who]
    cfg = botocore.config.Config(region_name=REGION,
                                 retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client(
        service, endpoint_url=srv.endpoint, aws_access_key_id=key,
        aws_secret_access_key=secret, config=cfg)


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def error(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    return e2e_util.error_of(ei)


def make_queue(sqs, prefix):
    url = sqs.create_queue(QueueName=unique(prefix))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def bodies(sqs, url):
    """Every message on the queue now (deliveries commit with the publish,
    so what is not there after the call returned was not delivered)."""
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        out.extend(got)
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def service_policy(queue_arn, service, source_arn, effect="Allow"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "svc", "Effect": effect, "Principal": {"Service": service},
        "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}}}]})


# ------------------------------------------------------------------ SNS topics

def test_topic_policy_decides_for_another_account(srv):
    sns_a, sns_b = client(srv, "sns", "a"), client(srv, "sns", "b")
    sqs_b = client(srv, "sqs", "b")
    topic = sns_a.create_topic(Name=unique("t"))["TopicArn"]

    for call, kw in [(sns_b.publish, {"Message": "x"}),
                     (sns_b.publish_batch,
                      {"PublishBatchRequestEntries": [{"Id": "1", "Message": "x"}]}),
                     (sns_b.subscribe, {"Protocol": "sqs",
                                        "Endpoint": "arn:aws:sqs:%s:%s:q" % (REGION, B)}),
                     (sns_b.get_topic_attributes, {}),
                     (sns_b.set_topic_attributes, {"AttributeName": "DisplayName",
                                                   "AttributeValue": "mine"}),
                     (sns_b.list_subscriptions_by_topic, {}),
                     (sns_b.add_permission, {"Label": "x", "AWSAccountId": [B],
                                             "ActionName": ["Publish"]}),
                     (sns_b.delete_topic, {})]:
        code, status, msg = error(call, TopicArn=topic, **kw)
        assert (code, status) == ("AuthorizationError", 403), call
        assert "not authorized" in msg
    code, status, _ = error(sns_b.tag_resource, ResourceArn=topic,
                            Tags=[{"Key": "k", "Value": "v"}])
    assert (code, status) == ("AuthorizationError", 403)
    assert sns_a.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic

    sns_a.add_permission(TopicArn=topic, Label="b-publishes", AWSAccountId=[B],
                         ActionName=["Publish", "Subscribe"])
    sns_b.publish(TopicArn=topic, Message="from b")
    r = sns_b.publish_batch(TopicArn=topic,
                            PublishBatchRequestEntries=[{"Id": "1", "Message": "batch"}])
    assert len(r["Successful"]) == 1
    # B subscribes its own queue (its queue takes A's topic by its Policy).
    url, qarn = make_queue(sqs_b, "b-sub")
    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={
        "Policy": service_policy(qarn, "sns.amazonaws.com", topic)})
    sub = sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                          ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns_b.publish(TopicArn=topic, Message="to b's queue")
    assert [json.loads(m["Body"])["Message"] for m in bodies(sqs_b, url)] == ["to b's queue"]
    # What was not granted stays refused.
    code, _, _ = error(sns_b.get_topic_attributes, TopicArn=topic)
    assert code == "AuthorizationError"
    # The subscription answers its owner (B) and the topic's owner (A) only.
    assert sns_b.get_subscription_attributes(SubscriptionArn=sub)["Attributes"][
        "Owner"] == B
    assert sns_a.get_subscription_attributes(SubscriptionArn=sub)["Attributes"][
        "Endpoint"] == qarn

    sns_a.remove_permission(TopicArn=topic, Label="b-publishes")
    code, _, _ = error(sns_b.publish, TopicArn=topic, Message="again")
    assert code == "AuthorizationError"
    # A Deny in the topic's Policy applies to the owner too.
    sns_a.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(
        {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                        "Resource": topic}]}))
    code, _, _ = error(sns_a.publish, TopicArn=topic, Message="denied")
    assert code == "AuthorizationError"


def test_subscription_of_another_account_is_not_reachable(srv):
    sns_a, sns_b = client(srv, "sns", "a"), client(srv, "sns", "b")
    sqs_a = client(srv, "sqs", "a")
    topic = sns_a.create_topic(Name=unique("t"))["TopicArn"]
    _, qarn = make_queue(sqs_a, "a-sub")
    sub = sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                          ReturnSubscriptionArn=True)["SubscriptionArn"]
    for call, kw in [(sns_b.get_subscription_attributes, {}),
                     (sns_b.set_subscription_attributes,
                      {"AttributeName": "RawMessageDelivery", "AttributeValue": "true"}),
                     (sns_b.unsubscribe, {})]:
        code, status, _ = error(call, SubscriptionArn=sub, **kw)
        assert (code, status) == ("AuthorizationError", 403), call
    assert sns_a.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0][
        "SubscriptionArn"] == sub
    assert sub not in [s["SubscriptionArn"] for s in sns_b.list_subscriptions()["Subscriptions"]]


# ------------------------------------------------------------- SNS into SQS

def test_sns_into_another_accounts_queue_needs_its_policy(srv):
    sns_a, sqs_a, sqs_b = client(srv, "sns", "a"), client(srv, "sqs", "a"), client(srv, "sqs", "b")
    topic = sns_a.create_topic(Name=unique("t"))["TopicArn"]
    url, qarn = make_queue(sqs_b, "b-target")
    dlq_url, dlq_arn = make_queue(sqs_a, "a-dlq")
    sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={
        "RawMessageDelivery": "true",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})

    # No Policy on B's queue: refused; the refused copy goes to A's DLQ.
    sns_a.publish(TopicArn=topic, Message="first")
    assert bodies(sqs_b, url) == []
    assert [m["Body"] for m in bodies(sqs_a, dlq_url)] == ["first"]

    # A Policy for another topic does not let this one in.
    other = sns_a.create_topic(Name=unique("other"))["TopicArn"]
    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={
        "Policy": service_policy(qarn, "sns.amazonaws.com", other)})
    sns_a.publish(TopicArn=topic, Message="second")
    assert bodies(sqs_b, url) == []
    # The right aws:SourceArn does.
    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={
        "Policy": service_policy(qarn, "sns.amazonaws.com", topic)})
    sns_a.publish(TopicArn=topic, Message="third")
    assert [m["Body"] for m in bodies(sqs_b, url)] == ["third"]
    # So does aws:SourceAccount.
    sqs_b.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": qarn,
                       "Condition": {"StringEquals": {"aws:SourceAccount": A}}}]})})
    sns_a.publish(TopicArn=topic, Message="fourth")
    assert [m["Body"] for m in bodies(sqs_b, url)] == ["fourth"]
    assert [m["Body"] for m in bodies(sqs_a, dlq_url)] == ["second"]
    assert "refused by the queue's Policy" in srv.stderr_text()


def test_same_account_queue_policy_deny_blocks_sns(srv):
    sns_a, sqs_a = client(srv, "sns", "a"), client(srv, "sqs", "a")
    topic = sns_a.create_topic(Name=unique("t"))["TopicArn"]
    url, qarn = make_queue(sqs_a, "own")
    sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                    Attributes={"RawMessageDelivery": "true"})
    # Same account, no Policy: delivered (sluice's convenience).
    sns_a.publish(TopicArn=topic, Message="open")
    assert [m["Body"] for m in bodies(sqs_a, url)] == ["open"]
    # A Deny for this topic blocks it, in the same account too.
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={
        "Policy": service_policy(qarn, "sns.amazonaws.com", topic, effect="Deny")})
    sns_a.publish(TopicArn=topic, Message="blocked")
    assert bodies(sqs_a, url) == []
    # A Policy that does not mention the topic decides too: not delivered.
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": B},
                       "Action": "sqs:SendMessage", "Resource": qarn}]})})
    sns_a.publish(TopicArn=topic, Message="unmentioned")
    assert bodies(sqs_a, url) == []
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    sns_a.publish(TopicArn=topic, Message="open again")
    assert [m["Body"] for m in bodies(sqs_a, url)] == ["open again"]


# ------------------------------------------------------------ EventBridge buses

def test_bus_policy_lets_another_account_put_events(srv):
    ev_a, ev_b, sqs_a = client(srv, "events", "a"), client(srv, "events", "b"), \
        client(srv, "sqs", "a")
    name = unique("bus")
    bus_arn = ev_a.create_event_bus(Name=name)["EventBusArn"]
    url, qarn = make_queue(sqs_a, "bus-out")
    ev_a.put_rule(Name="all", EventBusName=name, EventPattern=json.dumps({"source": ["b.app"]}))
    ev_a.put_targets(Rule="all", EventBusName=name, Targets=[{"Id": "q", "Arn": qarn}])
    entry = {"Source": "b.app", "DetailType": "t", "Detail": "{\"n\": 1}",
             "EventBusName": bus_arn}

    r = ev_b.put_events(Entries=[entry])
    assert r["FailedEntryCount"] == 1
    assert r["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert bus_arn in r["Entries"][0]["ErrorMessage"]
    assert bodies(sqs_a, url) == []
    code, _, _ = error(ev_b.put_permission, EventBusName=name, Action="events:PutEvents",
                       Principal=B, StatementId="self")
    assert code == "ResourceNotFoundException"  # B has no bus of that name
    assert "Policy" not in ev_a.describe_event_bus(Name=name)

    ev_a.put_permission(EventBusName=name, Action="events:PutEvents", Principal=B,
                        StatementId="b-sends")
    policy = json.loads(ev_a.describe_event_bus(Name=name)["Policy"])
    assert policy["Statement"] == [{
        "Sid": "b-sends", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::%s:root" % B},
        "Action": "events:PutEvents", "Resource": bus_arn}]
    listed = [b for b in ev_a.list_event_buses(NamePrefix=name)["EventBuses"]]
    assert json.loads(listed[0]["Policy"]) == policy
    r = ev_b.put_events(Entries=[entry])
    assert r["FailedEntryCount"] == 0
    got = bodies(sqs_a, url)
    assert len(got) == 1
    event = json.loads(got[0]["Body"])
    assert event["detail"] == {"n": 1} and event["account"] == B
    # Other actions are not granted by that statement.
    code, _, _ = error(ev_b.describe_event_bus, Name=bus_arn)
    assert code == "AccessDeniedException"

    # The same id replaces its statement; RemovePermission takes it away.
    ev_a.put_permission(EventBusName=name, Action="events:PutEvents", Principal="*",
                        StatementId="b-sends")
    assert json.loads(ev_a.describe_event_bus(Name=name)["Policy"])["Statement"][0][
        "Principal"] == "*"
    code, _, msg = error(ev_a.remove_permission, EventBusName=name, StatementId="nope")
    assert code == "ResourceNotFoundException"
    ev_a.remove_permission(EventBusName=name, StatementId="b-sends")
    assert "Policy" not in ev_a.describe_event_bus(Name=name)
    assert ev_b.put_events(Entries=[entry])["FailedEntryCount"] == 1
    code, _, msg = error(ev_a.remove_permission, EventBusName=name, StatementId="b-sends")
    # AWS's text is the same with no policy left (its recorded answer)
    assert (code, msg) == ("ResourceNotFoundException",
                           "Statement with the provided id does not exist.")

    # A whole Policy, with a Deny that wins over the Allow for B.
    whole = {"Version": "2012-10-17", "Statement": [
        {"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
         "Resource": bus_arn},
        {"Sid": "not-b", "Effect": "Deny", "Principal": {"AWS": B},
         "Action": "events:PutEvents", "Resource": bus_arn}]}
    ev_a.put_permission(EventBusName=name, Policy=json.dumps(whole))
    assert json.loads(ev_a.describe_event_bus(Name=name)["Policy"]) == whole
    assert ev_b.put_events(Entries=[entry])["Entries"][0]["ErrorCode"] == \
        "AccessDeniedException"
    ev_a.remove_permission(EventBusName=name, RemoveAllPermissions=True)
    assert "Policy" not in ev_a.describe_event_bus(Name=name)
    code, _, _ = error(ev_a.put_permission, EventBusName=name, Action="events:PutRule",
                       Principal=B, StatementId="x")
    assert code == "ValidationException"
    code, _, _ = error(ev_a.put_permission, EventBusName=name, Action="events:PutEvents",
                       Principal="12", StatementId="x")
    assert code == "ValidationException"
    # Another account's bus cannot be tagged, nor its rules changed.
    code, _, _ = error(ev_b.tag_resource, ResourceARN=bus_arn, Tags=[{"Key": "k", "Value": "v"}])
    assert code == "AccessDeniedException"
    code, _, _ = error(ev_b.put_rule, Name="mine", EventBusName=bus_arn,
                       EventPattern=json.dumps({"source": ["x"]}))
    assert code == "AccessDeniedException"
    # Nor archived or replayed from another account.
    code, _, _ = error(ev_b.create_archive, ArchiveName=unique("arch"), EventSourceArn=bus_arn)
    assert code == "AccessDeniedException"
    archive = ev_a.create_archive(ArchiveName=unique("arch"), EventSourceArn=bus_arn)[
        "ArchiveArn"]
    code, _, _ = error(ev_b.start_replay, ReplayName=unique("rp"), EventSourceArn=archive,
                       EventStartTime=0, EventEndTime=4102444800,
                       Destination={"Arn": bus_arn})
    # another account's archive is one B does not have: AWS's recorded
    # answer for an unknown archive is a ValidationException
    assert code == "ValidationException"


def test_bus_policy_survives_a_restart(tmp_path):
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps([{"accessKeyId": k, "secretAccessKey": s, "accountId": a}
                                 for k, s, a in KEYS.values()]))
    server = Server(str(tmp_path))
    server.extra_args = ["--credentials", str(creds)]
    server.start()
    try:
        ev_a = client(server, "events", "a")
        ev_a.put_permission(Action="events:PutEvents", Principal=B, StatementId="b")
        before = ev_a.describe_event_bus()["Policy"]
        server.restart()
        assert client(server, "events", "a").describe_event_bus()["Policy"] == before
        r = client(server, "events", "b").put_events(Entries=[{
            "Source": "b.app", "DetailType": "t", "Detail": "{}",
            "EventBusName": "arn:aws:events:%s:%s:event-bus/default" % (REGION, A)}])
        assert r["FailedEntryCount"] == 0
    finally:
        server.stop()
    server.assert_clean()


def test_rule_target_on_another_accounts_bus_needs_its_policy(srv):
    ev_a, ev_b = client(srv, "events", "a"), client(srv, "events", "b")
    sqs_a, sqs_b = client(srv, "sqs", "a"), client(srv, "sqs", "b")
    name = unique("inbox")
    a_bus = ev_a.create_event_bus(Name=name)["EventBusArn"]
    a_url, a_qarn = make_queue(sqs_a, "a-inbox")
    ev_a.put_rule(Name="in", EventBusName=name, EventPattern=json.dumps({"source": ["b.fwd"]}))
    ev_a.put_targets(Rule="in", EventBusName=name, Targets=[{"Id": "q", "Arn": a_qarn}])
    dlq_url, dlq_arn = make_queue(sqs_b, "b-dlq")
    rule = unique("fwd")
    rule_arn = ev_b.put_rule(Name=rule, EventPattern=json.dumps({"source": ["b.fwd"]}))[
        "RuleArn"]
    ev_b.put_targets(Rule=rule, Targets=[{"Id": "a-bus", "Arn": a_bus,
                                          "DeadLetterConfig": {"Arn": dlq_arn}}])
    entry = {"Source": "b.fwd", "DetailType": "t", "Detail": "{\"k\": \"v\"}"}

    assert ev_b.put_events(Entries=[entry])["FailedEntryCount"] == 0
    assert bodies(sqs_a, a_url) == []
    dead = bodies(sqs_b, dlq_url)
    assert len(dead) == 1
    attrs = dead[0]["MessageAttributes"]
    assert attrs["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"
    assert attrs["RULE_ARN"]["StringValue"] == rule_arn
    assert attrs["TARGET_ARN"]["StringValue"] == a_bus

    ev_a.put_permission(EventBusName=name, Action="events:PutEvents", Principal=B,
                        StatementId="from-b")
    assert ev_b.put_events(Entries=[entry])["FailedEntryCount"] == 0
    got = bodies(sqs_a, a_url)
    assert [json.loads(m["Body"])["detail"] for m in got] == [{"k": "v"}]
    assert json.loads(got[0]["Body"])["account"] == B
    assert bodies(sqs_b, dlq_url) == []


# ------------------------------------------------------------ EventBridge into SQS

def test_events_into_queues_follow_their_policy(srv):
    ev_a, sqs_a, sqs_b = client(srv, "events", "a"), client(srv, "sqs", "a"), \
        client(srv, "sqs", "b")
    own_url, own_arn = make_queue(sqs_a, "ev-own")
    b_url, b_arn = make_queue(sqs_b, "ev-b")
    dlq_url, dlq_arn = make_queue(sqs_a, "ev-dlq")
    rule = unique("r")
    rule_arn = ev_a.put_rule(Name=rule, EventPattern=json.dumps({"source": ["a.app"]}))[
        "RuleArn"]
    ev_a.put_targets(Rule=rule, Targets=[
        {"Id": "own", "Arn": own_arn, "DeadLetterConfig": {"Arn": dlq_arn}},
        {"Id": "b", "Arn": b_arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    entry = {"Source": "a.app", "DetailType": "t", "Detail": "{}"}

    # Same account without a Policy: delivered; B's queue without one: refused.
    ev_a.put_events(Entries=[entry])
    assert len(bodies(sqs_a, own_url)) == 1
    assert bodies(sqs_b, b_url) == []
    dead = bodies(sqs_a, dlq_url)
    assert [m["MessageAttributes"]["TARGET_ARN"]["StringValue"] for m in dead] == [b_arn]
    assert dead[0]["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"

    # B allows the rule; A's own queue denies it.
    sqs_b.set_queue_attributes(QueueUrl=b_url, Attributes={
        "Policy": service_policy(b_arn, "events.amazonaws.com", rule_arn)})
    sqs_a.set_queue_attributes(QueueUrl=own_url, Attributes={
        "Policy": service_policy(own_arn, "events.amazonaws.com", rule_arn, effect="Deny")})
    ev_a.put_events(Entries=[entry])
    assert len(bodies(sqs_b, b_url)) == 1
    assert bodies(sqs_a, own_url) == []
    dead = bodies(sqs_a, dlq_url)
    assert [m["MessageAttributes"]["TARGET_ARN"]["StringValue"] for m in dead] == [own_arn]

    # A dead-letter queue with a Policy that does not let the rule in takes nothing.
    sqs_a.set_queue_attributes(QueueUrl=dlq_url, Attributes={
        "Policy": service_policy(dlq_arn, "events.amazonaws.com", "arn:aws:events:x:1:rule/y")})
    ev_a.put_events(Entries=[entry])
    assert bodies(sqs_a, dlq_url) == []


def test_events_into_another_accounts_topic_needs_its_policy(srv):
    ev_a, sns_b, sqs_b = client(srv, "events", "a"), client(srv, "sns", "b"), \
        client(srv, "sqs", "b")
    topic = sns_b.create_topic(Name=unique("bt"))["TopicArn"]
    url, qarn = make_queue(sqs_b, "bt-sub")
    sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                    Attributes={"RawMessageDelivery": "true"})
    rule = unique("r")
    rule_arn = ev_a.put_rule(Name=rule, EventPattern=json.dumps({"source": ["a.t"]}))["RuleArn"]
    ev_a.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": topic, "Input": "\"hi\""}])
    entry = {"Source": "a.t", "DetailType": "t", "Detail": "{}"}

    ev_a.put_events(Entries=[entry])
    assert bodies(sqs_b, url) == []
    sns_b.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sns:Publish", "Resource": topic,
                        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}))
    ev_a.put_events(Entries=[entry])
    assert [m["Body"] for m in bodies(sqs_b, url)] == ["\"hi\""]


# ------------------------------------------------------------ Scheduler targets

def test_schedule_into_another_accounts_queue_needs_its_policy(srv):
    sched_b, sqs_a, sqs_b = client(srv, "scheduler", "b"), client(srv, "sqs", "a"), \
        client(srv, "sqs", "b")
    a_url, a_arn = make_queue(sqs_a, "sched-a")
    dlq_url, dlq_arn = make_queue(sqs_b, "sched-dlq")
    role = "arn:aws:iam::%s:role/scheduler" % B

    def schedule(name):
        sched_b.create_schedule(
            Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": a_arn, "RoleArn": role, "Input": name,
                    "RetryPolicy": {"MaximumRetryAttempts": 0},
                    "DeadLetterConfig": {"Arn": dlq_arn}})

    # A rate() schedule fires once at creation: refused, a dead letter in B.
    schedule(unique("refused"))
    got = e2e_util.wait_until(lambda: bodies(sqs_b, dlq_url), timeout=15, what="dead letter")
    assert got[0]["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "AccessDenied"
    assert bodies(sqs_a, a_url) == []

    sqs_a.set_queue_attributes(QueueUrl=a_url, Attributes={"Policy": json.dumps({
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": B},
                       "Action": "sqs:SendMessage", "Resource": a_arn}]})})
    name = unique("allowed")
    schedule(name)
    got = e2e_util.wait_until(lambda: bodies(sqs_a, a_url), timeout=15, what="delivery")
    assert [m["Body"] for m in got] == [name]
