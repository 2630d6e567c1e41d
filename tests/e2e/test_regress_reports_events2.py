"""More regressions found by comparing sluice with AWS recordings quoted in
public reports against other EventBridge implementations (LocalStack's
AWS-validated snapshot files) and with AWS's documents. Each test names the
recording or document that says what AWS does."""

import json
import time

from e2e_util import expect_error
import e2e_util
from test_events_helpers import (events, events_novalidate, evname, evqueue,  # noqa: F401
                                 receive_all)

SQS_ARN = "arn:aws:sqs:us-east-1:000000000000:nowhere"


def test_target_id_errors_name_its_position_and_length(events, evname):
    """localstack tests/aws/services/events/test_events.snapshot.json
    (test_put_target_id_validation, recorded on AWS): a bad id is reported at
    'targets.1.member.id', one over 64 characters by its length."""
    rule = evname()
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["x"]}))
    msg = expect_error("ValidationException", events.put_targets, Rule=rule,
                       Targets=[{"Id": "!@#$@!#$", "Arn": SQS_ARN}])
    assert msg == ("1 validation error detected: Value '!@#$@!#$' at 'targets.1.member.id' "
                   "failed to satisfy constraint: Member must satisfy regular expression "
                   "pattern: [\\.\\-_A-Za-z0-9]+")
    long_id = "a" * 65
    msg = expect_error("ValidationException", events.put_targets, Rule=rule,
                       Targets=[{"Id": "ok", "Arn": SQS_ARN}, {"Id": long_id, "Arn": SQS_ARN}])
    assert msg == ("1 validation error detected: Value '%s' at 'targets.2.member.id' failed "
                   "to satisfy constraint: Member must have length less than or equal to 64"
                   % long_id)
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []


def test_rule_name_over_64_is_reported_by_length(events_novalidate):
    """aws-cdk#21808 and awslabs/aws-service-catalog-factory#53 quote AWS:
    "Value '...' at 'name' failed to satisfy constraint: Member must have
    length less than or equal to 64"."""
    name = "r" * 65
    msg = expect_error("ValidationException", events_novalidate.put_rule, Name=name,
                       EventPattern=json.dumps({"source": ["x"]}))
    assert msg == ("1 validation error detected: Value '%s' at 'name' failed to satisfy "
                   "constraint: Member must have length less than or equal to 64" % name)
    # Too long and a bad character: both, length first (AWS's CreateConnection name
    # recording in localstack's test_events snapshot, test_create_connection_validations).
    name = "r r" * 22
    msg = expect_error("ValidationException", events_novalidate.put_rule, Name=name,
                       EventPattern=json.dumps({"source": ["x"]}))
    assert msg == ("2 validation errors detected: Value '{0}' at 'name' failed to satisfy "
                   "constraint: Member must have length less than or equal to 64; Value '{0}' "
                   "at 'name' failed to satisfy constraint: Member must satisfy regular "
                   "expression pattern: [\\.\\-_A-Za-z0-9]+".format(name))


def test_archive_name_over_48_is_reported_by_length(events_novalidate):
    """The same modelled-constraint answer for ArchiveName (1 to 48 characters in
    the API reference): a name over 48 is reported by its length."""
    name = "a" * 49
    msg = expect_error("ValidationException", events_novalidate.create_archive,
                       ArchiveName=name,
                       EventSourceArn="arn:aws:events:us-east-1:000000000000:event-bus/default")
    assert msg == ("1 validation error detected: Value '%s' at 'archiveName' failed to satisfy "
                   "constraint: Member must have length less than or equal to 48" % name)


def test_list_archives_of_unknown_bus_is_not_found(events, evname):
    """localstack test_archive_and_replay.snapshot.json
    (test_list_archive_error_unknown_source_arn, recorded on AWS):
    ResourceNotFoundException "Event bus <name> does not exist."."""
    bus = evname("-nobus")
    msg = expect_error("ResourceNotFoundException", events.list_archives,
                       EventSourceArn="arn:aws:events:us-east-1:000000000000:event-bus/" + bus)
    assert msg == "Event bus %s does not exist." % bus


def _archive(events, evname):
    bus = evname("-bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    arc = evname()[:40]
    arc_arn = events.create_archive(ArchiveName=arc, EventSourceArn=bus_arn)["ArchiveArn"]
    return bus, bus_arn, arc, arc_arn


def test_start_replay_errors(events, evname):
    """localstack test_archive_and_replay.snapshot.json (recorded on AWS):
    an unknown archive is a ValidationException "Parameter EventSourceArn is
    not valid. Reason: Archive <name> does not exist.", an unknown destination
    bus a ResourceNotFoundException "Event bus <name> does not exist.", another
    existing bus "Cross event bus replay is not permitted."."""
    _, bus_arn, arc, arc_arn = _archive(events, evname)
    now = time.time()
    times = {"EventStartTime": now - 60, "EventEndTime": now}
    msg = expect_error("ValidationException", events.start_replay, ReplayName=evname("-a"),
                       EventSourceArn=arc_arn + "x", Destination={"Arn": bus_arn}, **times)
    assert msg == ("Parameter EventSourceArn is not valid. Reason: Archive %sx does not exist."
                   % arc)
    missing = evname("-nobus")
    msg = expect_error("ResourceNotFoundException", events.start_replay,
                       ReplayName=evname("-b"), EventSourceArn=arc_arn,
                       Destination={"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/"
                                    + missing}, **times)
    assert msg == "Event bus %s does not exist." % missing
    msg = expect_error("ValidationException", events.start_replay, ReplayName=evname("-c"),
                       EventSourceArn=arc_arn, Destination={
                           "Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default"},
                       **times)
    assert msg == ("Parameter Destination.Arn is not valid. Reason: Cross event bus replay is "
                   "not permitted.")


def test_replay_name_follows_region_in_replayed_events(events, sqs, evname, evqueue):
    """localstack test_archive_and_replay.snapshot.json (replay-messages,
    recorded on AWS): a replayed event carries "replay-name" right after
    "region", before "resources" and "detail"."""
    bus, bus_arn, _, arc_arn = _archive(events, evname)
    url, qarn = evqueue()
    rule = evname("-r")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["rp.app"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": qarn}])
    start = time.time() - 5
    events.put_events(Entries=[{"Source": "rp.app", "DetailType": "t", "Detail": '{"n": 1}',
                                "EventBusName": bus}])
    assert len(receive_all(sqs, url, expect=1)) == 1
    time.sleep(1.1)
    replay = evname("-rp")
    events.start_replay(ReplayName=replay, EventSourceArn=arc_arn, EventStartTime=start,
                        EventEndTime=time.time(), Destination={"Arn": bus_arn})
    e2e_util.wait_until(
        lambda: events.describe_replay(ReplayName=replay)["State"] == "COMPLETED",
        timeout=10, what="replay end")
    [m] = receive_all(sqs, url, expect=1)
    keys = list(json.loads(m["Body"]))
    assert keys == ["version", "id", "detail-type", "source", "account", "time", "region",
                    "replay-name", "resources", "detail"]


def test_put_events_time_as_string_is_a_serialization_error(endpoint):
    """async-aws/aws#1395 quotes AWS's answer to an entry whose Time is an ISO
    string instead of epoch seconds: HTTP 400 SerializationException
    "STRING_VALUE cannot be converted to Date"."""
    st, _, body = e2e_util.raw_request(endpoint, "POST", "/", json.dumps({"Entries": [
        {"Source": "a.b", "DetailType": "t", "Detail": "{}",
         "Time": "2023-04-27T10:00:00+00:00"}]}), {
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents",
        "Authorization": e2e_util.sigv4_header("events")})
    assert st == 400
    doc = json.loads(body)
    assert doc["__type"].endswith("SerializationException")
    assert doc["message"] == "STRING_VALUE cannot be converted to Date"


def test_remove_permission_without_policy_names_the_statement(events, evname):
    """localstack test_events.snapshot.json
    (test_remove_permission_non_existing_sid[False-custom], recorded on AWS):
    on a bus without a policy the answer is ResourceNotFoundException
    "Statement with the provided id does not exist."."""
    bus = evname("-bus")
    events.create_event_bus(Name=bus)
    msg = expect_error("ResourceNotFoundException", events.remove_permission,
                       EventBusName=bus, StatementId="non-existing-sid")
    assert msg == "Statement with the provided id does not exist."
