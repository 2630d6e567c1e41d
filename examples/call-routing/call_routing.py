#!/usr/bin/python3
"""Event routing with EventBridge rules: a contact centre and a CI pipeline.

Contact centre.  The telephony platform publishes one "Call Disconnected"
event per finished call on a custom bus.  Three rules route them:

  voice-transcription  voice calls that left a recording  -> FIFO queue
                       (MessageGroupId "recordings"), reshaped by an
                       InputTransformer into a small transcription job
  missed-calls         calls nobody answered (MISSED / ABANDONED, or a
                       queue wait over 5 minutes without an agent)
                       -> workflow queue, as a call-back task
  audit                every event of the contact centre -> the audit log
                       (a CloudWatch Logs target, which sluice appends to
                       <data-dir>/event-logs/<group>.log) and an audit queue

CI pipeline.  The git server publishes one "Push" event per push on the
default bus:

  infra-deploy  pushes to main touching a file under infrastructure/
  release       tags named v*

The script sends a random mix of calls and pushes, computes locally where
each one should land, reads every queue and compares.

    ./call_routing.py --endpoint http://127.0.0.1:4566 [--calls 40]
    ./call_routing.py --data-dir ./data     # also checks the audit log file

Exit status 0 when every event is exactly where it belongs, 1 otherwise.
"""

import argparse
import json
import os
import random
import sys
import time
import uuid

import boto3
import botocore.config

SOURCE = "contact-center"
WAIT_LIMIT = 300


def clients(endpoint):
    cfg = botocore.config.Config(region_name="us-east-1", retries={"max_attempts": 2},
                                 read_timeout=30)
    kw = dict(endpoint_url=endpoint,
              aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
              aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
              config=cfg)
    s = boto3.session.Session()
    return s.client("events", **kw), s.client("sqs", **kw)


def make_queue(sqs, name, fifo=False):
    attrs = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(sqs, url, expect, timeout=20.0):
    """Receives and deletes until `expect` messages arrived (then one more
    short look for extras) or the time is up; returns the bodies."""
    got = []
    deadline = time.time() + timeout
    quiet = 0
    while time.time() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                AttributeNames=["All"])
        msgs = r.get("Messages", [])
        for m in msgs:
            got.append(m)
        if msgs:
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(msgs)])
            quiet = 0
        elif len(got) >= expect:
            quiet += 1
            if quiet >= 1:
                break
    return got


# ------------------------------------------------------------ contact centre

VOICE_PATTERN = {
    "source": [SOURCE], "detail-type": ["Call Disconnected"],
    "detail": {"channel": ["VOICE"], "recording": {"uri": [{"prefix": "s3://"}]}},
}
MISSED_PATTERN = {
    "source": [SOURCE], "detail-type": ["Call Disconnected"],
    "$or": [
        {"detail": {"disposition": ["MISSED", "ABANDONED"]}},
        # "exists" looks at leaves only: {"agent": [{"exists": false}]} would
        # also match an agent object, so test the leaf agent.id.
        {"detail": {"queueWaitSec": [{"numeric": [">", WAIT_LIMIT]}],
                    "agent": {"id": [{"exists": False}]}}},
    ],
}
AUDIT_PATTERN = {"source": [SOURCE]}


def random_call(rng):
    channel = rng.choice(["VOICE", "VOICE", "CHAT"])
    disposition = rng.choice(["COMPLETED", "COMPLETED", "MISSED", "ABANDONED", "TRANSFERRED"])
    call = {"callId": str(uuid.uuid4()), "channel": channel, "disposition": disposition,
            "queueWaitSec": rng.choice([5, 40, 200, 301, 900]),
            "durationSec": rng.randint(0, 1800), "customer": {"phone": "+1555%07d" %
                                                                        rng.randint(0, 9999999)}}
    if disposition in ("COMPLETED", "TRANSFERRED") or rng.random() < 0.2:
        call["agent"] = {"id": "agent-%d" % rng.randint(1, 9)}
    if channel == "VOICE" and disposition in ("COMPLETED", "TRANSFERRED") and rng.random() < 0.8:
        call["recording"] = {"uri": "s3://recordings/%s.wav" % call["callId"]}
    return call


def expected_voice(c):
    return c["channel"] == "VOICE" and c.get("recording", {}).get("uri", "").startswith("s3://")


def expected_missed(c):
    return c["disposition"] in ("MISSED", "ABANDONED") or (
        c["queueWaitSec"] > WAIT_LIMIT and "agent" not in c)


def contact_centre(events, sqs, tag, n_calls, rng, data_dir):
    bus = "calls-" + tag
    events.create_event_bus(Name=bus)
    tq_url, tq_arn = make_queue(sqs, "transcription-%s.fifo" % tag, fifo=True)
    wq_url, wq_arn = make_queue(sqs, "call-workflow-" + tag)
    aq_url, aq_arn = make_queue(sqs, "call-audit-" + tag)
    log_group = "/contact-center/audit-" + tag
    log_arn = "arn:aws:logs:us-east-1:000000000000:log-group:" + log_group

    events.put_rule(Name="voice-transcription", EventBusName=bus,
                    EventPattern=json.dumps(VOICE_PATTERN))
    events.put_targets(Rule="voice-transcription", EventBusName=bus, Targets=[{
        "Id": "transcribe", "Arn": tq_arn,
        "SqsParameters": {"MessageGroupId": "recordings"},
        "InputTransformer": {
            "InputPathsMap": {"call": "$.detail.callId", "uri": "$.detail.recording.uri",
                              "agent": "$.detail.agent.id", "secs": "$.detail.durationSec"},
            "InputTemplate": '{"job": "transcribe", "callId": <call>, "media": <uri>, '
                             '"agent": <agent>, "durationSec": <secs>}'}}])
    events.put_rule(Name="missed-calls", EventBusName=bus,
                    EventPattern=json.dumps(MISSED_PATTERN))
    events.put_targets(Rule="missed-calls", EventBusName=bus, Targets=[{
        "Id": "callback", "Arn": wq_arn,
        "InputTransformer": {
            "InputPathsMap": {"call": "$.detail.callId", "phone": "$.detail.customer.phone",
                              "why": "$.detail.disposition"},
            "InputTemplate": '{"task": "call back <phone> (<why>)", "callId": <call>, '
                             '"rule": <aws.events.rule-name>}'}}])
    events.put_rule(Name="audit", EventBusName=bus, EventPattern=json.dumps(AUDIT_PATTERN))
    events.put_targets(Rule="audit", EventBusName=bus, Targets=[
        {"Id": "log", "Arn": log_arn}, {"Id": "queue", "Arn": aq_arn}])

    calls = [random_call(rng) for _ in range(n_calls)]
    for i in range(0, len(calls), 10):
        r = events.put_events(Entries=[{
            "Source": SOURCE, "DetailType": "Call Disconnected", "EventBusName": bus,
            "Detail": json.dumps(c)} for c in calls[i:i + 10]])
        if r["FailedEntryCount"]:
            print("PutEvents failures:", r)
            return False

    want_voice = [c["callId"] for c in calls if expected_voice(c)]
    want_missed = sorted(c["callId"] for c in calls if expected_missed(c))
    want_all = sorted(c["callId"] for c in calls)

    voice = drain(sqs, tq_url, len(want_voice))
    missed = drain(sqs, wq_url, len(want_missed))
    audit = drain(sqs, aq_url, len(want_all))
    got_voice = [json.loads(m["Body"])["callId"] for m in voice]
    got_missed = sorted(json.loads(m["Body"])["callId"] for m in missed)
    got_audit = sorted(json.loads(m["Body"])["detail"]["callId"] for m in audit)

    ok = True
    # FIFO: one message group, so the jobs come out in publishing order.
    ok &= report("voice -> transcription.fifo", want_voice, got_voice)
    ok &= report("missed/abandoned -> workflow", want_missed, got_missed)
    ok &= report("everything -> audit queue", want_all, got_audit)
    if voice:
        job = json.loads(voice[0]["Body"])
        groups = {m["Attributes"].get("MessageGroupId") for m in voice}
        ok &= check("transcription job shape", set(job) == {
            "job", "callId", "media", "agent", "durationSec"} and groups == {"recordings"})
    if missed:
        task = json.loads(missed[0]["Body"])
        ok &= check("call-back task text", task["task"].startswith("call back +1555")
                    and task["rule"] == "missed-calls")
    if data_dir:
        path = os.path.join(data_dir, "event-logs", log_group.replace("/", "_") + ".log")
        deadline = time.time() + 10
        lines = []
        while time.time() < deadline:
            if os.path.exists(path):
                lines = open(path).read().splitlines()
                if len(lines) >= len(want_all):
                    break
            time.sleep(0.2)
        got_log = sorted(json.loads(x)["detail"]["callId"] for x in lines)
        ok &= report("everything -> audit log file", want_all, got_log)
    else:
        print("  (audit log file: <data-dir>/event-logs/%s.log; pass --data-dir to check)"
              % log_group.replace("/", "_"))
    return ok


# ------------------------------------------------------------ CI routing

def ci_routing(events, sqs, tag):
    src = "ci.git." + tag
    dq_url, dq_arn = make_queue(sqs, "infra-deploy-" + tag)
    rq_url, rq_arn = make_queue(sqs, "release-" + tag)
    events.put_rule(Name="infra-deploy-" + tag, EventPattern=json.dumps({
        "source": [src], "detail-type": ["Push"],
        "detail": {"ref": ["refs/heads/main"], "files": [{"prefix": "infrastructure/"}]}}))
    events.put_targets(Rule="infra-deploy-" + tag, Targets=[{"Id": "deploy", "Arn": dq_arn}])
    events.put_rule(Name="release-" + tag, EventPattern=json.dumps({
        "source": [src], "detail-type": ["Push"],
        "detail": {"ref": [{"wildcard": "refs/tags/v*"}]}}))
    events.put_targets(Rule="release-" + tag, Targets=[{"Id": "release", "Arn": rq_arn}])

    pushes = [
        ("p1", "refs/heads/main", ["infrastructure/vpc.tf", "README.md"], True, False),
        ("p2", "refs/heads/main", ["src/app.py"], False, False),
        ("p3", "refs/heads/feature-x", ["infrastructure/db.tf"], False, False),
        ("p4", "refs/tags/v1.2.0", ["infrastructure/db.tf"], False, True),
        ("p5", "refs/tags/release-1", [], False, False),
        ("p6", "refs/heads/main", ["docs/infrastructure/x.md"], False, False),
        ("p7", "refs/heads/mainline", ["infrastructure/a.tf"], False, False),
        ("p8", "refs/tags/v2", ["src/x.py"], False, True),
    ]
    events.put_events(Entries=[{
        "Source": src, "DetailType": "Push",
        "Detail": json.dumps({"push": p, "ref": ref, "files": files})}
        for p, ref, files, _, _ in pushes])
    want_deploy = sorted(p for p, _, _, d, _ in pushes if d)
    want_release = sorted(p for p, _, _, _, r in pushes if r)
    got_deploy = sorted(json.loads(m["Body"])["detail"]["push"]
                        for m in drain(sqs, dq_url, len(want_deploy)))
    got_release = sorted(json.loads(m["Body"])["detail"]["push"]
                         for m in drain(sqs, rq_url, len(want_release)))
    ok = report("main + infrastructure/ -> deploy", want_deploy, got_deploy)
    ok &= report("tags v* -> release", want_release, got_release)
    return ok


def report(label, want, got):
    good = want == got
    print("  %-34s expected %3d  got %3d  %s" % (label, len(want), len(got),
                                                 "OK" if good else "MISMATCH"))
    if not good:
        print("    missing:", sorted(set(want) - set(got))[:5],
              " unexpected:", sorted(set(got) - set(want))[:5])
    return good


def check(label, cond):
    print("  %-34s %s" % (label, "OK" if cond else "WRONG"))
    return cond


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get(
        "SLUICE_ENDPOINT", os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")))
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--data-dir", default=None,
                    help="the server's data directory, to check the audit log file")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:8]
    events, sqs = clients(args.endpoint)
    started = time.time()
    print("contact centre (%d calls):" % args.calls)
    ok = contact_centre(events, sqs, tag, args.calls, rng, args.data_dir)
    print("CI routing:")
    ok &= ci_routing(events, sqs, tag)
    print("finished in %.1fs: %s" % (time.time() - started, "OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
