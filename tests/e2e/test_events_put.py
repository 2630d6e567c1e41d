"""PutEvents: entry validation, the envelope, matching every operator both
through TestEventPattern and through real delivery to an SQS queue, and
durability of acknowledged events across a crash."""

import json
import time
import uuid

import pytest

import e2e_util
from e2e_util import expect_error
from test_events_helpers import (bodies, events, events_client, evname,  # noqa: F401
                                 events_novalidate, evqueue, make_event, receive_all)

# (case, detail pattern, a detail that matches, a detail that does not)
OPERATOR_CASES = [
    ("exact-string", {"s": ["on"]}, {"s": "on"}, {"s": "On"}),
    ("exact-number", {"n": [42]}, {"n": 42.0}, {"n": "42"}),
    ("exact-bool", {"b": [True]}, {"b": True}, {"b": "true"}),
    ("exact-null", {"z": [None]}, {"z": None}, {"z": ""}),
    ("array-any", {"tags": ["red"]}, {"tags": ["blue", "red"]}, {"tags": ["blue"]}),
    ("prefix", {"s": [{"prefix": "us-"}]}, {"s": "us-east"}, {"s": "eu-us-"}),
    ("prefix-ic", {"s": [{"prefix": {"equals-ignore-case": "US-"}}]}, {"s": "us-west"},
     {"s": "eu-west"}),
    ("suffix", {"s": [{"suffix": ".png"}]}, {"s": "a.png"}, {"s": "a.png.gz"}),
    ("suffix-ic", {"s": [{"suffix": {"equals-ignore-case": ".PNG"}}]}, {"s": "a.png"},
     {"s": "a.jpg"}),
    ("equals-ignore-case", {"s": [{"equals-ignore-case": "AbC"}]}, {"s": "aBc"},
     {"s": "abcd"}),
    ("wildcard", {"s": [{"wildcard": "dir/*/file.txt"}]}, {"s": "dir/a/b/file.txt"},
     {"s": "dir/file.txt"}),
    ("anything-but", {"s": [{"anything-but": "bad"}]}, {"s": "good"}, {"s": "bad"}),
    ("anything-but-list", {"n": [{"anything-but": [1, 2]}]}, {"n": 3}, {"n": 2.0}),
    ("anything-but-prefix", {"s": [{"anything-but": {"prefix": "tmp"}}]}, {"s": "data"},
     {"s": "tmpfile"}),
    ("anything-but-suffix", {"s": [{"anything-but": {"suffix": ".tmp"}}]}, {"s": "a.txt"},
     {"s": "a.tmp"}),
    ("anything-but-missing", {"s": [{"anything-but": "x"}]}, {"s": None}, {"other": 1}),
    ("numeric-range", {"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5}, {"n": 0}),
    ("numeric-eq", {"n": [{"numeric": ["=", 3.0e0]}]}, {"n": 3}, {"n": "3"}),
    ("exists-true", {"k": [{"exists": True}]}, {"k": None}, {"j": 1}),
    ("exists-false", {"k": [{"exists": False}]}, {"j": 1}, {"k": "x"}),
    ("exists-false-object", {"k": [{"exists": False}]}, {"k": {"x": 1}}, {"k": 0}),
    ("cidr", {"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.255"}, {"ip": "10.0.1.0"}),
    ("nested", {"a": {"b": ["x"]}}, {"a": {"b": "x"}}, {"a": {"c": "x"}}),
    ("multi-field-and", {"a": ["1"], "b": ["2"]}, {"a": "1", "b": "2"}, {"a": "1", "b": "3"}),
    ("or-values", {"s": ["a", {"prefix": "zz"}]}, {"s": "zzz"}, {"s": "b"}),
    ("anything-but-wildcard", {"s": [{"anything-but": {"wildcard": "*.tmp"}}]},
     {"s": "a.txt"}, {"s": "a.tmp"}),
    ("anything-but-ic", {"s": [{"anything-but": {"equals-ignore-case": "NO"}}]},
     {"s": "yes"}, {"s": "no"}),
    ("anything-but-kind", {"n": [{"anything-but": "8"}]}, {"n": 8}, {"n": "8"}),
    ("cidr-v6", {"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:DB8:0:0:0:0:0:1"},
     {"ip": "2001:db9::1"}),
    ("numeric-half-open", {"n": [{"numeric": [">=", 1.5, "<", 2]}]}, {"n": 1.5}, {"n": 2}),
    ("prefix-strings-only", {"s": [{"prefix": ""}]}, {"s": "x"}, {"s": 9}),
    ("wildcard-strings-only", {"s": [{"wildcard": "*"}]}, {"s": ""}, {"s": 12}),
]


def _full_pattern(case, detail_pattern):
    return {"detail-type": [case], "detail": detail_pattern}


@pytest.mark.parametrize("case,pattern,good,bad", OPERATOR_CASES,
                         ids=[c[0] for c in OPERATOR_CASES])
def test_operator_via_test_event_pattern(events, case, pattern, good, bad):
    p = json.dumps(_full_pattern(case, pattern))
    assert events.test_event_pattern(
        EventPattern=p, Event=json.dumps(make_event(detail=good, **{"detail-type": case})))[
            "Result"] is True
    assert events.test_event_pattern(
        EventPattern=p, Event=json.dumps(make_event(detail=bad, **{"detail-type": case})))[
            "Result"] is False


def test_or_operator_and_top_level_fields(events):
    p = json.dumps({"source": ["a"], "$or": [{"detail": {"x": [1]}},
                                              {"detail": {"y": [{"exists": True}]}}]})
    ev = lambda d, src="a": json.dumps(make_event(detail=d, source=src))  # noqa: E731
    assert events.test_event_pattern(EventPattern=p, Event=ev({"x": 1}))["Result"]
    assert events.test_event_pattern(EventPattern=p, Event=ev({"y": "q"}))["Result"]
    assert not events.test_event_pattern(EventPattern=p, Event=ev({"x": 2}))["Result"]
    assert not events.test_event_pattern(EventPattern=p, Event=ev({"x": 1}, "b"))["Result"]


def test_every_operator_through_delivery(events, sqs, evname, evqueue):
    """Each case gets its own rule on one bus; the matching and the
    non-matching event of every case are sent, and only the matching ones
    may arrive."""
    bus = evname("-bus")
    events.create_event_bus(Name=bus)
    url, arn = evqueue()
    for i, (case, pattern, _, _) in enumerate(OPERATOR_CASES):
        name = "op-%d" % i
        events.put_rule(Name=name, EventBusName=bus,
                        EventPattern=json.dumps(_full_pattern(case, pattern)))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    entries = []
    for case, _, good, bad in OPERATOR_CASES:
        for verdict, detail in (("match", good), ("nomatch", bad)):
            d = dict(detail)
            d["_verdict"] = verdict
            entries.append({"Source": "test.app", "DetailType": case, "EventBusName": bus,
                            "Detail": json.dumps(d)})
    for i in range(0, len(entries), 10):
        r = events.put_events(Entries=entries[i:i + 10])
        assert r["FailedEntryCount"] == 0
    msgs = receive_all(sqs, url, expect=len(OPERATOR_CASES), timeout=10)
    got = sorted((json.loads(b)["detail-type"], json.loads(b)["detail"]["_verdict"])
                 for b in bodies(msgs))
    # Give a wrong delivery a moment to show up too.
    extra = receive_all(sqs, url, timeout=2)
    got += sorted((json.loads(b)["detail-type"], json.loads(b)["detail"]["_verdict"])
                  for b in bodies(extra))
    assert sorted(got) == sorted((c[0], "match") for c in OPERATOR_CASES)


def test_envelope(events, sqs, evname, evqueue):
    name = evname()
    url, arn = evqueue()
    src = "env." + uuid.uuid4().hex[:8]
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [src]}))
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    r = events.put_events(Entries=[{
        "Source": src, "DetailType": "Order Placed", "Detail": '{"id": 7, "x": [1, "a"]}',
        "Resources": ["arn:aws:s3:::b"], "Time": 1767225600}])
    eid = r["Entries"][0]["EventId"]
    [m] = receive_all(sqs, url, expect=1)
    body = json.loads(m["Body"])
    assert list(body) == ["version", "id", "detail-type", "source", "account", "time",
                          "region", "resources", "detail"]
    assert body == {"version": "0", "id": eid, "detail-type": "Order Placed", "source": src,
                    "account": "000000000000", "time": "2026-01-01T00:00:00Z",
                    "region": "us-east-1", "resources": ["arn:aws:s3:::b"],
                    "detail": {"id": 7, "x": [1, "a"]}}


def test_disabled_rule_does_not_deliver(events, sqs, evname, evqueue):
    name = evname()
    url, arn = evqueue()
    src = "dis." + uuid.uuid4().hex[:8]
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [src]}), State="DISABLED")
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    events.put_events(Entries=[{"Source": src, "DetailType": "t", "Detail": "{}"}])
    assert receive_all(sqs, url, timeout=2) == []
    events.enable_rule(Name=name)
    events.put_events(Entries=[{"Source": src, "DetailType": "t", "Detail": "{}"}])
    assert len(receive_all(sqs, url, expect=1)) == 1


def test_per_entry_errors(events_novalidate, evname):
    ev = events_novalidate
    r = ev.put_events(Entries=[
        {"Source": "a", "DetailType": "t", "Detail": "{}"},
        {"DetailType": "t", "Detail": "{}"},
        {"Source": "a", "Detail": "{}"},
        {"Source": "a", "DetailType": "t"},
        {"Source": "a", "DetailType": "t", "Detail": "[1]"},
        {"Source": "a", "DetailType": "t", "Detail": "{bad json"},
        {"Source": "a", "DetailType": "t", "Detail": "{}", "EventBusName": evname()},
        {"Source": "aws.ec2", "DetailType": "t", "Detail": "{}"},
    ])
    assert r["FailedEntryCount"] == 6
    e = r["Entries"]
    assert "EventId" in e[0] and "ErrorCode" not in e[0]
    assert (e[1]["ErrorCode"], e[1]["ErrorMessage"]) == (
        "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
    assert (e[2]["ErrorCode"], e[2]["ErrorMessage"]) == (
        "InvalidArgument",
        "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
    assert (e[3]["ErrorCode"], e[3]["ErrorMessage"]) == (
        "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
    assert (e[4]["ErrorCode"], e[4]["ErrorMessage"]) == ("MalformedDetail", "Detail is malformed.")
    assert e[5]["ErrorCode"] == "MalformedDetail"
    # a bus that does not exist: AWS answers an EventId and delivers nowhere
    # (LocalStack's AWS recording test_put_events_nonexistent_event_bus,
    # aws/aws-cli#9186)
    assert "EventId" in e[6] and "ErrorCode" not in e[6]
    assert (e[7]["ErrorCode"], e[7]["ErrorMessage"]) == (
        "NotAuthorizedForSourceException", "Not authorized for the source.")


def test_request_level_errors(events_novalidate):
    ev = events_novalidate
    entry = {"Source": "a", "DetailType": "t", "Detail": "{}"}
    expect_error("ValidationException", ev.put_events, Entries=[entry] * 11)
    big = {"Source": "a", "DetailType": "t", "Detail": json.dumps({"x": "y" * 262144})}
    msg = expect_error("ValidationException", ev.put_events, Entries=[big])
    assert msg == "Total size of the entries in the request is over the limit."
    # Just under the limit as AWS counts (Source + DetailType + Detail bytes).
    pad = 262144 - len("a") - len("t") - len('{"x":""}')
    ok = {"Source": "a", "DetailType": "t", "Detail": '{"x":"%s"}' % ("y" * pad)}
    assert ev.put_events(Entries=[ok])["FailedEntryCount"] == 0
    over = dict(ok, Time=1767225600)  # Time counts 14 bytes
    expect_error("ValidationException", ev.put_events, Entries=[over])


def test_fan_out_to_several_rules_and_buses(events, sqs, evname, evqueue):
    src = "fan." + uuid.uuid4().hex[:8]
    url1, arn1 = evqueue("-1")
    url2, arn2 = evqueue("-2")
    r1, r2 = evname("-a"), evname("-b")
    events.put_rule(Name=r1, EventPattern=json.dumps({"source": [src]}))
    events.put_rule(Name=r2, EventPattern=json.dumps({"detail": {"k": ["v"]}}))
    events.put_targets(Rule=r1, Targets=[{"Id": "1", "Arn": arn1}, {"Id": "2", "Arn": arn2}])
    events.put_targets(Rule=r2, Targets=[{"Id": "2", "Arn": arn2}])
    events.put_events(Entries=[{"Source": src, "DetailType": "t", "Detail": '{"k": "v"}'}])
    assert len(receive_all(sqs, url1, expect=1)) == 1
    assert len(receive_all(sqs, url2, expect=2)) == 2


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_acknowledged_events_survive_crash(fresh_server):
    ev = events_client(fresh_server.endpoint)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    url = sqs.create_queue(QueueName="ev-crash")["QueueUrl"]
    arn = e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]
    ev.put_rule(Name="crash", EventPattern=json.dumps({"source": ["crash.app"]}))
    ev.put_targets(Rule="crash", Targets=[{"Id": "q", "Arn": arn}])
    acked = set()
    for i in range(30):
        r = ev.put_events(Entries=[{"Source": "crash.app", "DetailType": "t",
                                    "Detail": json.dumps({"i": i, "j": k})} for k in range(3)])
        assert r["FailedEntryCount"] == 0
        acked |= {e["EventId"] for e in r["Entries"]}
    fresh_server.restart(crash=True)
    sqs = e2e_util.sqs_client(fresh_server.endpoint)
    got = e2e_util.drain(sqs, url, expect=len(acked), timeout=20)
    ids = {json.loads(m["Body"])["id"] for m in got.values()}
    assert ids == acked
