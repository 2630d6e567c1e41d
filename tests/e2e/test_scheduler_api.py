"""EventBridge Scheduler API over REST-JSON: schedules, groups, tags,
validation errors, idempotency, pagination; boto3's `scheduler` client,
raw HTTP for what boto3 1.26 cannot send, and `/usr/bin/aws scheduler`.

Expectations come from the botocore model (URIs, shapes, error codes and
HTTP statuses) and AWS's recorded answers (messages such as
"Schedule <name> does not exist.", defaults shown by GetSchedule).
"""

import json
import os
import subprocess
import time
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

import e2e_util

ROLE = "arn:aws:iam::%s:role/scheduler-e2e" % e2e_util.ACCOUNT


def scheduler_client(endpoint, validate=True):
    cfg = botocore.config.Config(
        region_name=e2e_util.REGION,
        retries={"total_max_attempts": 1, "mode": "standard"},
        parameter_validation=validate)
    return boto3.session.Session().client(
        "scheduler", endpoint_url=endpoint,
        aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


@pytest.fixture(scope="module")
def sched(endpoint):
    return scheduler_client(endpoint)


@pytest.fixture(scope="module")
def sched_raw(endpoint):
    return scheduler_client(endpoint, validate=False)


@pytest.fixture
def name():
    return "e2e-" + uuid.uuid4().hex[:12]


@pytest.fixture
def queue_arn(sqs, qname):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    return sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def target(arn, **kw):
    t = {"Arn": arn, "RoleArn": ROLE}
    t.update(kw)
    return t


def rest(endpoint, method, path, body=None):
    """A signed-looking REST-JSON request; returns (status, headers, json)."""
    data = json.dumps(body) if body is not None else b""
    status, headers, raw = e2e_util.raw_request(endpoint, method, path, data, {
        "Content-Type": "application/json",
        "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "Authorization": e2e_util.sigv4_header("scheduler")})
    return status, headers, (json.loads(raw) if raw else None)


# ------------------------------------------------------------ schedules

def test_create_get_defaults(sched, name, queue_arn):
    arn = sched.create_schedule(
        Name=name, ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(queue_arn, Input='{"key": "value"}'))["ScheduleArn"]
    assert arn == "arn:aws:scheduler:%s:%s:schedule/default/%s" % (
        e2e_util.REGION, e2e_util.ACCOUNT, name)
    got = sched.get_schedule(Name=name)
    assert got["Arn"] == arn
    assert got["Name"] == name
    assert got["GroupName"] == "default"
    assert got["State"] == "ENABLED"
    assert got["ScheduleExpression"] == "rate(5 minutes)"
    assert got["ScheduleExpressionTimezone"] == "UTC"
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert got["Target"]["Input"] == '{"key": "value"}'
    assert "Description" not in got
    assert got["CreationDate"] == got["LastModificationDate"]
    assert abs(got["CreationDate"].timestamp() - time.time()) < 60
    sched.delete_schedule(Name=name)


def test_get_unknown_and_delete_unknown(sched):
    msg = e2e_util.expect_error("ResourceNotFoundException", sched.get_schedule,
                                Name="not-existing-schedule-name", status=404)
    assert msg == "Schedule not-existing-schedule-name does not exist."
    msg = e2e_util.expect_error("ResourceNotFoundException", sched.delete_schedule,
                                Name="not-existing-schedule-name", status=404)
    assert msg == "Schedule not-existing-schedule-name does not exist."


def test_duplicate_is_conflict(sched, name, queue_arn):
    args = dict(Name=name, ScheduleExpression="rate(1 day)",
                FlexibleTimeWindow={"Mode": "OFF"}, Target=target(queue_arn))
    sched.create_schedule(**args)
    msg = e2e_util.expect_error("ConflictException", sched.create_schedule,
                                status=409, **args)
    assert name in msg
    sched.delete_schedule(Name=name)


def test_client_token_makes_create_idempotent(sched, name, queue_arn):
    args = dict(Name=name, ScheduleExpression="rate(1 day)",
                FlexibleTimeWindow={"Mode": "OFF"}, Target=target(queue_arn),
                ClientToken="tok-" + name)
    a = sched.create_schedule(**args)["ScheduleArn"]
    b = sched.create_schedule(**args)["ScheduleArn"]
    assert a == b
    args["ClientToken"] = "other-" + name
    e2e_util.expect_error("ConflictException", sched.create_schedule, status=409,
                          **args)
    sched.delete_schedule(Name=name, ClientToken="del-" + name)
    # the same delete again succeeds; a different token does not
    sched.delete_schedule(Name=name, ClientToken="del-" + name)
    e2e_util.expect_error("ResourceNotFoundException", sched.delete_schedule,
                          Name=name, ClientToken="again-" + name, status=404)


def test_update_is_full_replacement(sched, name, queue_arn):
    sched.create_schedule(
        Name=name, ScheduleExpression="rate(1 minute)", Description="before",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(queue_arn, Input='{"key":"value"}'))
    created = sched.get_schedule(Name=name)
    time.sleep(0.01)
    sched.update_schedule(
        Name=name, ScheduleExpression="rate(2 minute)", State="DISABLED",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 60},
        Target=target(queue_arn, Input='{"otherkey":"othervalue"}'))
    got = sched.get_schedule(Name=name)
    assert got["ScheduleExpression"] == "rate(2 minute)"
    assert got["State"] == "DISABLED"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE",
                                         "MaximumWindowInMinutes": 60}
    assert got["Target"]["Input"] == '{"otherkey":"othervalue"}'
    assert "Description" not in got  # not carried over
    assert got["CreationDate"] == created["CreationDate"]
    assert got["LastModificationDate"] >= created["LastModificationDate"]
    e2e_util.expect_error("ResourceNotFoundException", sched.update_schedule,
                          Name=name + "-x", ScheduleExpression="rate(1 day)",
                          FlexibleTimeWindow={"Mode": "OFF"},
                          Target=target(queue_arn), status=404)
    sched.delete_schedule(Name=name)


def test_all_fields_round_trip(sched, name, queue_arn):
    start = int(time.time()) + 3600
    end = start + 86400
    sched.create_schedule(
        Name=name, ScheduleExpression="cron(0 9 ? * MON-FRI *)",
        ScheduleExpressionTimezone="America/New_York",
        StartDate=start, EndDate=end, Description="weekday mornings",
        State="ENABLED",
        KmsKeyArn="arn:aws:kms:us-east-1:%s:key/abc-123" % e2e_util.ACCOUNT,
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target=target(queue_arn, Input="x",
                      RetryPolicy={"MaximumRetryAttempts": 3,
                                   "MaximumEventAgeInSeconds": 120},
                      DeadLetterConfig={"Arn": queue_arn},
                      SqsParameters={"MessageGroupId": "g1"}))
    got = sched.get_schedule(Name=name)
    assert got["ScheduleExpressionTimezone"] == "America/New_York"
    assert int(got["StartDate"].timestamp()) == start
    assert int(got["EndDate"].timestamp()) == end
    assert got["Description"] == "weekday mornings"
    assert got["KmsKeyArn"].endswith(":key/abc-123")
    t = got["Target"]
    assert t["RetryPolicy"] == {"MaximumRetryAttempts": 3,
                                "MaximumEventAgeInSeconds": 120}
    assert t["DeadLetterConfig"] == {"Arn": queue_arn}
    assert t["SqsParameters"] == {"MessageGroupId": "g1"}
    sched.delete_schedule(Name=name)


def test_action_after_completion_over_raw_rest(endpoint, name, queue_arn):
    # boto3 1.26's model predates ActionAfterCompletion: send it raw.
    status, headers, body = rest(endpoint, "POST", "/schedules/" + name, {
        "ScheduleExpression": "at(2099-01-01T00:00:00)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {"Arn": queue_arn, "RoleArn": ROLE}})
    assert status == 200, body
    assert body["ScheduleArn"].endswith("/default/" + name)
    status, _, body = rest(endpoint, "GET", "/schedules/" + name)
    assert status == 200
    assert body["ActionAfterCompletion"] == "DELETE"
    assert isinstance(body["CreationDate"], (int, float))
    status, headers, body = rest(endpoint, "POST", "/schedules/" + name + "x", {
        "ScheduleExpression": "at(2099-01-01T00:00:00)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "LATER",
        "Target": {"Arn": queue_arn, "RoleArn": ROLE}})
    assert status == 400
    assert headers["x-amzn-errortype"] == "ValidationException"
    assert "actionAfterCompletion" in body["Message"]
    status, _, _ = rest(endpoint, "DELETE", "/schedules/" + name)
    assert status == 200


def test_rest_errors_carry_type_header_and_message(endpoint):
    status, headers, body = rest(endpoint, "GET", "/schedules/nope-" + uuid.uuid4().hex)
    assert status == 404
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert body["Message"].startswith("Schedule nope-")
    status, headers, body = rest(endpoint, "PATCH", "/schedules/x")
    assert status == 400
    status, headers, raw = e2e_util.raw_request(
        endpoint, "POST", "/schedules/bad-json", b"{not json", {
            "Content-Type": "application/json",
            "Authorization": e2e_util.sigv4_header("scheduler")})
    assert status == 400
    assert headers["x-amzn-errortype"] == "SerializationException"


# ------------------------------------------------------------ validation

@pytest.mark.parametrize("expr", [
    "cron(0 1 * * * *)", "cron(7 20 * * NOT *)", "cron(INVALID)",
    "cron(71 8 1 * ? *)", "cron()", "rate(10 seconds)", "rate(10 years)",
    "rate()", "rate(10)", "rate(10 minutess)", "rate(foo minutes)",
    "rate(-10 minutes)", "rate( 10 minutes )", " rate(10 minutes)",
    "at(2021-12-31T23:59:59Z)", "at(2021-12-31)",
])
def test_invalid_expressions(sched, name, queue_arn, expr):
    msg = e2e_util.expect_error(
        "ValidationException", sched.create_schedule, Name=name,
        ScheduleExpression=expr, FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(queue_arn))
    assert msg == "Invalid Schedule Expression %s." % expr


@pytest.mark.parametrize("expr", [
    "rate(1 minute)", "rate(1 minutes)", "rate(5 minute)", "rate(2 hours)",
    "cron(0/15 * * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 10 L * ? *)",
    "cron(0 8 ? * 6L *)", "cron(0 8 ? * SAT#3 *)", "at(2099-12-31T23:59:59)",
])
def test_valid_expressions(sched, name, queue_arn, expr):
    sched.create_schedule(Name=name, ScheduleExpression=expr, State="DISABLED",
                          FlexibleTimeWindow={"Mode": "OFF"},
                          Target=target(queue_arn))
    sched.delete_schedule(Name=name)


def test_modelled_constraints(sched_raw, name, queue_arn):
    def create(**kw):
        args = dict(Name=name, ScheduleExpression="rate(1 day)",
                    FlexibleTimeWindow={"Mode": "OFF"}, Target=target(queue_arn))
        args.update(kw)
        return sched_raw.create_schedule(**args)

    msg = e2e_util.expect_error("ValidationException", create, Name="bad name!")
    assert "failed to satisfy constraint" in msg and "'name'" in msg
    msg = e2e_util.expect_error(
        "ValidationException", create,
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441})
    assert "maximumWindowInMinutes" in msg
    e2e_util.expect_error("ValidationException", create,
                          FlexibleTimeWindow={"Mode": "FLEXIBLE"})
    e2e_util.expect_error("ValidationException", create,
                          FlexibleTimeWindow={"Mode": "SOMETIMES"})
    e2e_util.expect_error("ValidationException", create, State="PAUSED")
    e2e_util.expect_error("ValidationException", create,
                          Target=target(queue_arn, RetryPolicy={
                              "MaximumRetryAttempts": 186}))
    e2e_util.expect_error("ValidationException", create,
                          Target=target(queue_arn, RetryPolicy={
                              "MaximumEventAgeInSeconds": 59}))
    e2e_util.expect_error("ValidationException", create,
                          Target={"Arn": queue_arn, "RoleArn": "not-a-role"})
    e2e_util.expect_error("ValidationException", create,
                          Target=target(queue_arn, DeadLetterConfig={
                              "Arn": "arn:aws:sns:us-east-1:000000000000:t"}))
    e2e_util.expect_error("ValidationException", create, Description="x" * 513)
    e2e_util.expect_error("ValidationException", create,
                          ScheduleExpressionTimezone="Mars/Olympus_Mons")
    e2e_util.expect_error("ValidationException", create,
                          StartDate=time.time() + 7200, EndDate=time.time() + 3600)
    e2e_util.expect_error("ValidationException", create,
                          EndDate=time.time() - 3600)
    e2e_util.expect_error("ResourceNotFoundException", create,
                          GroupName="no-such-group-" + name, status=404)
    e2e_util.expect_error("ResourceNotFoundException", sched_raw.get_schedule,
                          Name=name, status=404)


# ------------------------------------------------------------ listing

def test_list_filters_and_pages(sched, name, queue_arn):
    group = "grp-" + name
    sched.create_schedule_group(Name=group)
    names = ["%s-%02d" % (name, i) for i in range(7)]
    for i, n in enumerate(names):
        sched.create_schedule(Name=n, GroupName=group,
                              ScheduleExpression="rate(1 day)",
                              State="DISABLED" if i % 2 else "ENABLED",
                              FlexibleTimeWindow={"Mode": "OFF"},
                              Target=target(queue_arn))
    seen, token = [], None
    while True:
        kw = {"GroupName": group, "MaxResults": 3}
        if token:
            kw["NextToken"] = token
        page = sched.list_schedules(**kw)
        assert len(page["Schedules"]) <= 3
        seen += [s["Name"] for s in page["Schedules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    s0 = sched.list_schedules(GroupName=group, MaxResults=1)["Schedules"][0]
    assert s0["Target"] == {"Arn": queue_arn}
    assert s0["GroupName"] == group and s0["State"] == "ENABLED"
    disabled = sched.list_schedules(GroupName=group, State="DISABLED")["Schedules"]
    assert [s["Name"] for s in disabled] == names[1::2]
    pref = sched.list_schedules(NamePrefix=name + "-0")["Schedules"]
    assert sorted(s["Name"] for s in pref) == names
    assert sched.list_schedules(NamePrefix="zzz" + name)["Schedules"] == []
    e2e_util.expect_error("ResourceNotFoundException", sched.list_schedules,
                          GroupName="missing-" + name, status=404)
    # deleting the group deletes its schedules
    sched.delete_schedule_group(Name=group)
    e2e_util.expect_error("ResourceNotFoundException", sched.get_schedule,
                          Name=names[0], GroupName=group, status=404)
    e2e_util.expect_error("ResourceNotFoundException", sched.get_schedule_group,
                          Name=group, status=404)


# ------------------------------------------------------------ groups, tags

def test_groups_and_tags(sched, name):
    group = "grp-" + name
    arn = sched.create_schedule_group(
        Name=group, Tags=[{"Key": "team", "Value": "reports"}])["ScheduleGroupArn"]
    assert arn == "arn:aws:scheduler:%s:%s:schedule-group/%s" % (
        e2e_util.REGION, e2e_util.ACCOUNT, group)
    got = sched.get_schedule_group(Name=group)
    assert got["Arn"] == arn and got["State"] == "ACTIVE" and got["Name"] == group
    e2e_util.expect_error("ConflictException", sched.create_schedule_group,
                          Name=group, status=409)
    names = [g["Name"] for g in sched.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in names and group in names
    assert [g["Name"] for g in sched.list_schedule_groups(
        NamePrefix=group)["ScheduleGroups"]] == [group]

    assert sched.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "reports"}]
    sched.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"},
                                              {"Key": "team", "Value": "ops"}])
    tags = {t["Key"]: t["Value"]
            for t in sched.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "ops", "env": "dev"}
    sched.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert sched.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"}]

    default = sched.get_schedule_group(Name="default")
    assert default["Arn"].endswith(":schedule-group/default")
    e2e_util.expect_error("ValidationException", sched.delete_schedule_group,
                          Name="default")
    sched.delete_schedule_group(Name=group)
    e2e_util.expect_error("ResourceNotFoundException", sched.list_tags_for_resource,
                          ResourceArn=arn, status=404)
    e2e_util.expect_error("ResourceNotFoundException", sched.delete_schedule_group,
                          Name=group, status=404)


def test_schedules_survive_a_restart(fresh_server):
    client = scheduler_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    url = sqs.create_queue(QueueName="restart-api")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    client.create_schedule_group(Name="kept", Tags=[{"Key": "k", "Value": "v"}])
    client.create_schedule(Name="kept-one", GroupName="kept",
                           ScheduleExpression="cron(0 12 * * ? *)",
                           ScheduleExpressionTimezone="Europe/Paris",
                           FlexibleTimeWindow={"Mode": "OFF"},
                           Target=target(qarn, Input="payload"))
    before = client.get_schedule(Name="kept-one", GroupName="kept")
    fresh_server.restart(crash=True)
    after = client.get_schedule(Name="kept-one", GroupName="kept")
    for k in ("Arn", "ScheduleExpression", "ScheduleExpressionTimezone", "Target",
              "CreationDate", "FlexibleTimeWindow", "State"):
        assert after[k] == before[k]
    arn = client.get_schedule_group(Name="kept")["Arn"]
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "k", "Value": "v"}]


# ------------------------------------------------------------ aws-cli

def test_aws_cli_round_trip(endpoint, name, queue_arn):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=e2e_util.DUMMY_KEY,
               AWS_SECRET_ACCESS_KEY=e2e_util.DUMMY_SECRET,
               AWS_DEFAULT_REGION=e2e_util.REGION, AWS_PAGER="")

    def cli(*args, check=True):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint,
                            "--output", "json", "scheduler"] + list(args),
                           env=env, capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    out = cli("create-schedule", "--name", name,
              "--schedule-expression", "rate(5 minutes)",
              "--flexible-time-window", "Mode=OFF",
              "--target", json.dumps({"Arn": queue_arn, "RoleArn": ROLE}))
    assert json.loads(out.stdout)["ScheduleArn"].endswith("/default/" + name)
    got = json.loads(cli("get-schedule", "--name", name).stdout)
    assert got["ScheduleExpression"] == "rate(5 minutes)"
    listed = json.loads(cli("list-schedules", "--name-prefix", name).stdout)
    assert [s["Name"] for s in listed["Schedules"]] == [name]
    cli("delete-schedule", "--name", name)
    p = cli("get-schedule", "--name", name, check=False)
    assert p.returncode != 0
    assert "ResourceNotFoundException" in p.stderr


def test_same_name_in_two_groups_and_update_in_a_group(sched, name, queue_arn):
    group = "grp2-" + name
    sched.create_schedule_group(Name=group)
    base = dict(Name=name, FlexibleTimeWindow={"Mode": "OFF"}, Target=target(queue_arn))
    a = sched.create_schedule(ScheduleExpression="rate(1 day)", **base)["ScheduleArn"]
    b = sched.create_schedule(ScheduleExpression="rate(2 days)", GroupName=group,
                              **base)["ScheduleArn"]
    assert a != b and b.endswith("/%s/%s" % (group, name))
    # GroupName travels in the body of UpdateSchedule
    sched.update_schedule(ScheduleExpression="rate(3 days)", GroupName=group, **base)
    assert sched.get_schedule(Name=name, GroupName=group)[
        "ScheduleExpression"] == "rate(3 days)"
    assert sched.get_schedule(Name=name)["ScheduleExpression"] == "rate(1 day)"
    sched.delete_schedule(Name=name, GroupName=group)
    assert sched.get_schedule(Name=name)["Name"] == name
    sched.delete_schedule(Name=name)
    sched.delete_schedule_group(Name=group)
