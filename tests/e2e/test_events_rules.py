"""EventBridge buses, rules, targets and tags through boto3 (AWS JSON 1.1)."""

import json

import botocore.exceptions
import pytest

from e2e_util import expect_error
from test_events_helpers import (events, events_client, events_novalidate,  # noqa: F401
                                 evname, evqueue, make_event)

PATTERN = json.dumps({"source": ["test.app"]})


def test_default_bus_always_exists(events):
    r = events.describe_event_bus()
    assert r["Name"] == "default"
    assert r["Arn"] == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names
    assert events.describe_event_bus(Name="default")["Name"] == "default"


def test_create_describe_list_delete_bus(events, evname):
    name = evname()
    arn = events.create_event_bus(Name=name)["EventBusArn"]
    assert arn == "arn:aws:events:us-east-1:000000000000:event-bus/" + name
    assert events.describe_event_bus(Name=name)["Arn"] == arn
    assert events.describe_event_bus(Name=arn)["Name"] == name
    listed = events.list_event_buses(NamePrefix=name)["EventBuses"]
    assert [b["Name"] for b in listed] == [name]
    expect_error("ResourceAlreadyExistsException", events.create_event_bus, Name=name)
    expect_error("ResourceAlreadyExistsException", events.create_event_bus, Name="default")
    events.delete_event_bus(Name=name)
    msg = expect_error("ResourceNotFoundException", events.describe_event_bus, Name=name)
    assert msg == "Event bus %s does not exist." % name
    # Deleting what is gone is not an error; the default bus cannot go.
    events.delete_event_bus(Name=name)
    expect_error("ValidationException", events.delete_event_bus, Name="default")


def test_list_buses_pages(events, evname):
    base = evname()
    for i in range(3):
        events.create_event_bus(Name="%s-%d" % (base, i))
    r = events.list_event_buses(NamePrefix=base, Limit=2)
    assert [b["Name"] for b in r["EventBuses"]] == [base + "-0", base + "-1"]
    r2 = events.list_event_buses(NamePrefix=base, Limit=2, NextToken=r["NextToken"])
    assert [b["Name"] for b in r2["EventBuses"]] == [base + "-2"]
    assert "NextToken" not in r2


def test_invalid_bus_name(events_novalidate):
    expect_error("ValidationException", events_novalidate.create_event_bus, Name="bad name")


def test_put_describe_rule(events, evname):
    name = evname()
    arn = events.put_rule(Name=name, EventPattern=PATTERN, Description="d1")["RuleArn"]
    assert arn == "arn:aws:events:us-east-1:000000000000:rule/" + name
    r = events.describe_rule(Name=name)
    assert r["Name"] == name and r["Arn"] == arn
    assert r["EventPattern"] == PATTERN
    assert r["State"] == "ENABLED"
    assert r["Description"] == "d1"
    assert r["EventBusName"] == "default"
    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    events.enable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "ENABLED"
    # Update replaces the pattern and keeps the ARN.
    p2 = json.dumps({"source": ["other"]})
    assert events.put_rule(Name=name, EventPattern=p2, State="DISABLED")["RuleArn"] == arn
    r = events.describe_rule(Name=name)
    assert r["EventPattern"] == p2 and r["State"] == "DISABLED"
    events.delete_rule(Name=name)
    msg = expect_error("ResourceNotFoundException", events.describe_rule, Name=name)
    assert msg == "Rule %s does not exist on EventBus default." % name


def test_rule_on_custom_bus(events, evname):
    bus = evname("-bus")
    events.create_event_bus(Name=bus)
    name = evname()
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)["RuleArn"]
    assert arn == "arn:aws:events:us-east-1:000000000000:rule/%s/%s" % (bus, name)
    assert events.describe_rule(Name=name, EventBusName=bus)["EventBusName"] == bus
    expect_error("ResourceNotFoundException", events.describe_rule, Name=name)
    msg = expect_error("ResourceNotFoundException", events.put_rule, Name=name,
                       EventBusName=bus + "-missing", EventPattern=PATTERN)
    assert msg == "Event bus %s-missing does not exist." % bus
    msg = expect_error("ValidationException", events.put_rule, Name=name, EventBusName=bus,
                       ScheduleExpression="rate(5 minutes)")
    assert msg == "ScheduleExpression is supported only on the default event bus."


def test_put_rule_validation(events, evname):
    name = evname()
    msg = expect_error("ValidationException", events.put_rule, Name=name)
    assert msg == "Parameter(s) EventPattern or ScheduleExpression must be specified."
    msg = expect_error("InvalidEventPatternException", events.put_rule, Name=name,
                       EventPattern=json.dumps({"source": []}))
    assert msg.startswith("Event pattern is not valid. Reason: Empty arrays are not allowed")
    msg = expect_error("InvalidEventPatternException", events.put_rule, Name=name,
                       EventPattern=json.dumps({"a": [{"NUMERIC": [">", 1]}]}))
    assert msg.startswith("Event pattern is not valid. Reason: Unrecognized match type NUMERIC")
    msg = expect_error("ValidationException", events.put_rule, Name=name,
                       ScheduleExpression="rate(5 minute)")
    assert msg == "Parameter ScheduleExpression is not valid."
    events.put_rule(Name=name, ScheduleExpression="cron(0 12 * * ? *)")
    assert events.describe_rule(Name=name)["ScheduleExpression"] == "cron(0 12 * * ? *)"


def test_list_rules_prefix_and_pages(events, evname):
    bus = evname("-bus")
    events.create_event_bus(Name=bus)
    base = evname()
    for i in range(5):
        events.put_rule(Name="%s-%d" % (base, i), EventBusName=bus, EventPattern=PATTERN)
    events.put_rule(Name="zz" + base, EventBusName=bus, EventPattern=PATTERN)
    got, token = [], None
    while True:
        kw = {"EventBusName": bus, "NamePrefix": base, "Limit": 2}
        if token:
            kw["NextToken"] = token
        r = events.list_rules(**kw)
        got += [x["Name"] for x in r["Rules"]]
        token = r.get("NextToken")
        if not token:
            break
    assert got == ["%s-%d" % (base, i) for i in range(5)]
    all_rules = events.list_rules(EventBusName=bus)["Rules"]
    assert len(all_rules) == 6
    assert all(x["EventBusName"] == bus for x in all_rules)


def test_targets_lifecycle(events, evname, evqueue):
    name = evname()
    _, arn = evqueue()
    events.put_rule(Name=name, EventPattern=PATTERN)
    r = events.put_targets(Rule=name, Targets=[
        {"Id": "a", "Arn": arn},
        {"Id": "b", "Arn": arn, "Input": '{"k": 1}'}])
    assert r["FailedEntryCount"] == 0 and r["FailedEntries"] == []
    t = events.list_targets_by_rule(Rule=name)["Targets"]
    assert [x["Id"] for x in t] == ["a", "b"]
    assert t[1]["Input"] == '{"k": 1}'
    assert name in events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]
    # A rule with targets cannot be deleted.
    msg = expect_error("ValidationException", events.delete_rule, Name=name)
    assert msg == "Rule can't be deleted since it has targets."
    # Replacing by id does not add.
    events.put_targets(Rule=name, Targets=[{"Id": "a", "Arn": arn, "InputPath": "$.detail"}])
    t = events.list_targets_by_rule(Rule=name)["Targets"]
    assert len(t) == 2 and t[0]["InputPath"] == "$.detail"
    events.remove_targets(Rule=name, Ids=["a", "b"])
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []
    events.delete_rule(Name=name)


def test_at_most_five_targets(events, evname, evqueue):
    name = evname()
    _, arn = evqueue()
    events.put_rule(Name=name, EventPattern=PATTERN)
    events.put_targets(Rule=name, Targets=[{"Id": "t%d" % i, "Arn": arn} for i in range(5)])
    expect_error("LimitExceededException", events.put_targets, Rule=name,
                 Targets=[{"Id": "t9", "Arn": arn}])
    # Replacing an existing one is still fine.
    events.put_targets(Rule=name, Targets=[{"Id": "t0", "Arn": arn, "Input": "{}"}])
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) == 5


def test_put_targets_errors(events, evname, evqueue):
    name = evname()
    _, arn = evqueue()
    expect_error("ResourceNotFoundException", events.put_targets, Rule=name,
                 Targets=[{"Id": "a", "Arn": arn}])
    events.put_rule(Name=name, EventPattern=PATTERN)
    r = events.put_targets(Rule=name, Targets=[{"Id": "ok", "Arn": arn},
                                               {"Id": "bad", "Arn": "not-an-arn"}])
    assert r["FailedEntryCount"] == 1
    assert r["FailedEntries"][0]["TargetId"] == "bad"
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["ok"]
    expect_error("ValidationException", events.put_targets, Rule=name,
                 Targets=[{"Id": "x", "Arn": arn, "Input": "{}", "InputPath": "$.detail"}])
    msg = expect_error("ValidationException", events.put_targets, Rule=name, Targets=[{
        "Id": "x", "Arn": arn,
        "InputTransformer": {"InputPathsMap": {"a": "$.detail.a"},
                             "InputTemplate": '{"a": <a>, "b": <missing>}'}}])
    assert msg == "InputTemplate for target x contains invalid placeholder missing."


def test_tags(events, evname):
    name = evname()
    arn = events.put_rule(Name=name, EventPattern=PATTERN,
                          Tags=[{"Key": "team", "Value": "a"}])["RuleArn"]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"team": "a", "env": "dev"}
    events.untag_resource(ResourceARN=arn, TagKeys=["team"])
    tags = events.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "dev"}]
    bus = evname("-bus")
    bus_arn = events.create_event_bus(Name=bus, Tags=[{"Key": "k", "Value": "v"}])["EventBusArn"]
    assert events.list_tags_for_resource(ResourceARN=bus_arn)["Tags"] == [
        {"Key": "k", "Value": "v"}]
    expect_error("ResourceNotFoundException", events.list_tags_for_resource,
                 ResourceARN=arn + "-missing")


def test_test_event_pattern_basics(events):
    ev = json.dumps(make_event(detail={"state": "running"}))
    assert events.test_event_pattern(
        EventPattern=json.dumps({"detail": {"state": ["running"]}}), Event=ev)["Result"]
    assert not events.test_event_pattern(
        EventPattern=json.dumps({"detail": {"state": ["stopped"]}}), Event=ev)["Result"]
    msg = expect_error("InvalidEventPatternException", events.test_event_pattern,
                       EventPattern='{"a": "x"}', Event=ev)
    assert msg.startswith("Event pattern is not valid. Reason: ")
    expect_error("ValidationException", events.test_event_pattern,
                 EventPattern=json.dumps({"source": ["a"]}), Event='"just a string"')
    expect_error("ValidationException", events.test_event_pattern,
                 EventPattern=json.dumps({"source": ["a"]}), Event='{"source": "a"}')


def test_unknown_action_and_bad_json(endpoint):
    import e2e_util
    st, h, body = e2e_util.raw_request(endpoint, "POST", "/", b"{not json", {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSEvents.ListRules",
        "Authorization": e2e_util.sigv4_header("events")})
    assert st == 400
    assert json.loads(body)["__type"].endswith("SerializationException")
    st, h, body = e2e_util.raw_request(endpoint, "POST", "/", b"{}", {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSEvents.NoSuchThing",
        "Authorization": e2e_util.sigv4_header("events")})
    assert st == 400
    assert json.loads(body)["__type"].endswith("UnknownOperationException")


@pytest.mark.timeout(60)
def test_rules_survive_restart(fresh_server):
    import e2e_util
    ev = events_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    url = sqs.create_queue(QueueName="ev-restart")["QueueUrl"]
    arn = e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]
    ev.create_event_bus(Name="restart-bus", Tags=[{"Key": "k", "Value": "v"}])
    ev.put_rule(Name="r1", EventBusName="restart-bus", EventPattern=PATTERN,
                Description="kept")
    ev.put_targets(Rule="r1", EventBusName="restart-bus", Targets=[{"Id": "q", "Arn": arn}])
    ev.put_rule(Name="r2", EventPattern=PATTERN, State="DISABLED")
    fresh_server.restart()
    ev = events_client(fresh_server.endpoint)
    r = ev.describe_rule(Name="r1", EventBusName="restart-bus")
    assert r["Description"] == "kept" and r["EventPattern"] == PATTERN
    assert ev.describe_rule(Name="r2")["State"] == "DISABLED"
    assert ev.list_targets_by_rule(Rule="r1", EventBusName="restart-bus")["Targets"] == [
        {"Id": "q", "Arn": arn}]
    bus_arn = ev.describe_event_bus(Name="restart-bus")["Arn"]
    assert ev.list_tags_for_resource(ResourceARN=bus_arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    # Matching works after the reload.
    ev.put_events(Entries=[{"Source": "test.app", "DetailType": "t", "Detail": "{}",
                            "EventBusName": "restart-bus"}])
    got = e2e_util.drain(sqs, url, expect=1, timeout=5)
    assert len(got) == 1
