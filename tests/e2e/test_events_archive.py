"""Archives and replays: events archived in the PutEvents commit, replayed
to the archive's bus with a replay-name, optionally to some rules only."""

import json
import time
import uuid

import pytest

import e2e_util
from e2e_util import expect_error
from test_events_helpers import (events, events_client, evname, evqueue,  # noqa: F401
                                 receive_all)


def wait_replay(events, name, timeout=10):
    return e2e_util.wait_until(
        lambda: (lambda r: r if r["State"] in ("COMPLETED", "FAILED") else None)(
            events.describe_replay(ReplayName=name)), timeout=timeout, what="replay end")


def test_archive_crud(events, evname):
    bus = evname("-bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    name = evname()[:40]
    r = events.create_archive(ArchiveName=name, EventSourceArn=bus_arn,
                              EventPattern=json.dumps({"source": ["a"]}), RetentionDays=3)
    assert r["ArchiveArn"] == "arn:aws:events:us-east-1:000000000000:archive/" + name
    assert r["State"] == "ENABLED"
    d = events.describe_archive(ArchiveName=name)
    assert d["EventSourceArn"] == bus_arn and d["RetentionDays"] == 3
    assert d["EventCount"] == 0
    expect_error("ResourceAlreadyExistsException", events.create_archive, ArchiveName=name,
                 EventSourceArn=bus_arn)
    expect_error("InvalidEventPatternException", events.update_archive, ArchiveName=name,
                 EventPattern='{"a": []}')
    events.update_archive(ArchiveName=name, Description="d")
    assert events.describe_archive(ArchiveName=name)["Description"] == "d"
    assert [a["ArchiveName"] for a in events.list_archives(NamePrefix=name)["Archives"]] == [name]
    events.delete_archive(ArchiveName=name)
    expect_error("ResourceNotFoundException", events.describe_archive, ArchiveName=name)
    expect_error("ResourceNotFoundException", events.create_archive, ArchiveName=name,
                 EventSourceArn=bus_arn + "-gone")


def test_replay_to_rules(events, sqs, evname, evqueue):
    bus = evname("-bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    src = "arc." + uuid.uuid4().hex[:8]
    archive = evname()[:40]
    arc_arn = events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn,
                                    EventPattern=json.dumps({"source": [src]}))["ArchiveArn"]
    url1, arn1 = evqueue("-1")
    url2, arn2 = evqueue("-2")
    r1 = events.put_rule(Name="one", EventBusName=bus,
                         EventPattern=json.dumps({"source": [src]}))["RuleArn"]
    events.put_targets(Rule="one", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn1}])
    events.put_rule(Name="two", EventBusName=bus, EventPattern=json.dumps({"source": [src]}))
    events.put_targets(Rule="two", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn2}])
    start = time.time() - 5
    ids = [e["EventId"] for e in events.put_events(Entries=[
        {"Source": src, "DetailType": "t", "Detail": json.dumps({"i": i}),
         "EventBusName": bus} for i in range(3)])["Entries"]]
    events.put_events(Entries=[{"Source": "other", "DetailType": "t", "Detail": "{}",
                                "EventBusName": bus}])
    assert len(receive_all(sqs, url1, expect=3)) == 3
    assert len(receive_all(sqs, url2, expect=3)) == 3
    assert events.describe_archive(ArchiveName=archive)["EventCount"] == 3
    end = time.time() + 1

    rp = evname("-rp")
    r = events.start_replay(ReplayName=rp, EventSourceArn=arc_arn, EventStartTime=start,
                            EventEndTime=end, Destination={"Arn": bus_arn, "FilterArns": [r1]})
    assert r["State"] == "STARTING"
    assert wait_replay(events, rp)["State"] == "COMPLETED"
    got = [json.loads(m["Body"]) for m in receive_all(sqs, url1, expect=3)]
    assert sorted(g["id"] for g in got) == sorted(ids)
    assert all(g["replay-name"] == rp for g in got)
    assert receive_all(sqs, url2, timeout=2) == []
    # Replayed events are not archived again.
    assert events.describe_archive(ArchiveName=archive)["EventCount"] == 3
    expect_error("ResourceAlreadyExistsException", events.start_replay, ReplayName=rp,
                 EventSourceArn=arc_arn, EventStartTime=start, EventEndTime=end,
                 Destination={"Arn": bus_arn})
    expect_error("IllegalStatusException", events.cancel_replay, ReplayName=rp)
    assert rp in [x["ReplayName"] for x in events.list_replays(NamePrefix=rp)["Replays"]]
    expect_error("ValidationException", events.start_replay, ReplayName=rp + "x",
                 EventSourceArn=arc_arn, EventStartTime=end, EventEndTime=start,
                 Destination={"Arn": bus_arn})


@pytest.mark.timeout(60)
def test_archive_survives_restart(fresh_server):
    ev = events_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    bus_arn = ev.describe_event_bus()["Arn"]
    arc = ev.create_archive(ArchiveName="keep", EventSourceArn=bus_arn)["ArchiveArn"]
    start = time.time() - 5
    ev.put_events(Entries=[{"Source": "keep.app", "DetailType": "t", "Detail": '{"n": 1}'}])
    fresh_server.restart(crash=True)
    ev = events_client(fresh_server.endpoint)
    assert ev.describe_archive(ArchiveName="keep")["EventCount"] == 1
    url = sqs.create_queue(QueueName="after-restart")["QueueUrl"]
    arn = e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]
    ev.put_rule(Name="r", EventPattern=json.dumps({"source": ["keep.app"]}))
    ev.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    ev.start_replay(ReplayName="again", EventSourceArn=arc, EventStartTime=start,
                    EventEndTime=time.time() + 1, Destination={"Arn": bus_arn})
    [m] = e2e_util.drain(sqs, url, expect=1, timeout=10).values()
    body = json.loads(m["Body"])
    assert body["detail"] == {"n": 1} and body["replay-name"] == "again"
