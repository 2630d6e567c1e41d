#!/usr/bin/python3
"""Patient admissions: one SNS topic, three departments, filter policies.

A hospital's admission system publishes one event per thing that happens
to a patient (admitted, transferred, lab-ordered, discharged) to a single
SNS topic, with the event type, the ward and the priority as message
attributes. Three departments each subscribe their own SQS queue, asking
only for what they need:

  billing  event-type admitted or discharged          (raw delivery)
  lab      event-type lab-ordered, priority not "routine", or any stat order
  ward     admitted/transferred/discharged on wards whose name starts "north-"

The script creates the topic, queues and subscriptions, publishes a day of
synthetic events (no real patient data: ids are random), drains every
queue and checks that each department got exactly the events its filter
asks for -- no more, no fewer -- and that the envelope / raw bodies are
what SNS delivers. It prints a table and exits 0 when all is as expected.

    ./patient_admissions.py --endpoint http://127.0.0.1:4566
    SLUICE_ENDPOINT=http://127.0.0.1:4566 ./patient_admissions.py --patients 40
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

WARDS = ("north-1", "north-2", "south-1", "east-icu")
PRIORITIES = ("routine", "urgent", "stat")

# Each department's filter policy (MessageAttributes scope) and, for the
# check at the end, the same rule written as a Python predicate.
DEPARTMENTS = {
    "billing": {
        "policy": {"event-type": ["admitted", "discharged"]},
        "wants": lambda e: e["type"] in ("admitted", "discharged"),
        "raw": True,
    },
    "lab": {
        "policy": {"$or": [
            {"event-type": ["lab-ordered"], "priority": [{"anything-but": ["routine"]}]},
            {"priority": ["stat"], "event-type": [{"prefix": "lab-"}]},
        ]},
        "wants": lambda e: e["type"] == "lab-ordered" and e["priority"] != "routine",
        "raw": False,
    },
    "ward": {
        "policy": {"event-type": ["admitted", "transferred", "discharged"],
                   "ward": [{"prefix": "north-"}]},
        "wants": lambda e: (e["type"] in ("admitted", "transferred", "discharged")
                            and e["ward"].startswith("north-")),
        "raw": False,
    },
}


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
              aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
              config=botocore.config.Config(retries={"max_attempts": 2}, read_timeout=30))
    session = boto3.session.Session()
    return session.client("sns", **kw), session.client("sqs", **kw)


def patient_day(n, rng):
    """A plausible sequence of events for n synthetic patients."""
    events = []
    for _ in range(n):
        pid = "P-" + uuid.UUID(int=rng.getrandbits(128)).hex[:8]
        ward = rng.choice(WARDS)
        events.append({"type": "admitted", "patient": pid, "ward": ward,
                       "priority": "routine"})
        for _ in range(rng.randint(0, 2)):
            events.append({"type": "lab-ordered", "patient": pid, "ward": ward,
                           "priority": rng.choice(PRIORITIES),
                           "test": rng.choice(("CBC", "BMP", "troponin", "lactate"))})
        if rng.random() < 0.4:
            ward = rng.choice([w for w in WARDS if w != ward])
            events.append({"type": "transferred", "patient": pid, "ward": ward,
                           "priority": "routine"})
        events.append({"type": "discharged", "patient": pid, "ward": ward,
                       "priority": "routine"})
    return events


def setup(sns, sqs, prefix):
    topic = sns.create_topic(Name=prefix + "-patient-events",
                             Attributes={"DisplayName": "Patient events"})["TopicArn"]
    queues = {}
    for name, dept in DEPARTMENTS.items():
        url = sqs.create_queue(QueueName="%s-%s" % (prefix, name))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs = {"FilterPolicy": json.dumps(dept["policy"])}
        if dept["raw"]:
            attrs["RawMessageDelivery"] = "true"
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attrs,
                      ReturnSubscriptionArn=True)
        queues[name] = url
    return topic, queues


def publish(sns, topic, events):
    """Publishes in batches of ten; returns MessageId -> event."""
    by_id = {}
    for i in range(0, len(events), 10):
        chunk = events[i:i + 10]
        entries = []
        for j, e in enumerate(chunk):
            entries.append({
                "Id": "e%d" % j,
                "Message": json.dumps(e),
                "Subject": "patient %s" % e["type"],
                "MessageAttributes": {
                    "event-type": {"DataType": "String", "StringValue": e["type"]},
                    "ward": {"DataType": "String", "StringValue": e["ward"]},
                    "priority": {"DataType": "String", "StringValue": e["priority"]},
                },
            })
        r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        if r.get("Failed"):
            raise SystemExit("publish failed: %s" % r["Failed"])
        for ok in r["Successful"]:
            by_id[ok["MessageId"]] = chunk[int(ok["Id"][1:])]
    return by_id


def drain(sqs, url, deadline):
    """Receives and deletes until the queue stays empty; returns messages."""
    got, idle = [], 0
    while time.time() < deadline and idle < 2:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                MessageAttributeNames=["All"])
        msgs = r.get("Messages", [])
        idle = 0 if msgs else idle + 1
        got += msgs
        if msgs:
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(msgs)])
    return got


def check(name, msgs, by_id, events):
    """(expected, got, problems) for one department."""
    dept = DEPARTMENTS[name]
    expected = [e for e in events if dept["wants"](e)]
    problems = []
    seen = []
    for m in msgs:
        if dept["raw"]:
            # raw delivery: the body is the message, attributes are SQS ones
            event = json.loads(m["Body"])
            if m.get("MessageAttributes", {}).get("event-type", {}).get(
                    "StringValue") != event["type"]:
                problems.append("raw message without its event-type attribute")
        else:
            env = json.loads(m["Body"])
            event = json.loads(env["Message"])
            if env.get("Type") != "Notification" or env["MessageId"] not in by_id:
                problems.append("unexpected envelope")
        seen.append(event)
    key = lambda e: json.dumps(e, sort_keys=True)
    if sorted(map(key, seen)) != sorted(map(key, expected)):
        problems.append("received events differ from the filter's selection")
    return len(expected), len(seen), problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get(
        "SLUICE_ENDPOINT", os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")))
    ap.add_argument("--patients", type=int, default=25)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--prefix", default="adm-" + uuid.uuid4().hex[:6])
    ap.add_argument("--keep", action="store_true", help="leave topic and queues in place")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    sns, sqs = clients(args.endpoint)
    t0 = time.time()
    topic, queues = setup(sns, sqs, args.prefix)
    events = patient_day(args.patients, rng)
    by_id = publish(sns, topic, events)
    print("published %d events for %d patients in %.2fs"
          % (len(events), args.patients, time.time() - t0))

    deadline = time.time() + args.timeout
    ok = True
    print("%-9s %8s %8s  %s" % ("queue", "expected", "received", "result"))
    for name, url in queues.items():
        want, got, problems = check(name, drain(sqs, url, deadline), by_id, events)
        ok = ok and not problems
        print("%-9s %8d %8d  %s" % (name, want, got, "ok" if not problems
                                     else "FAIL: " + "; ".join(sorted(set(problems)))))
    if not args.keep:
        for url in queues.values():
            sqs.delete_queue(QueueUrl=url)
        sns.delete_topic(TopicArn=topic)
    print("finished in %.1fs: %s" % (time.time() - t0, "OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
