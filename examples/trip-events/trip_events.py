#!/usr/bin/python3
"""Trip-completed fan-out over SNS and SQS.

A ride-hailing backend publishes one "TripCompleted" event per finished
trip to an SNS topic.  Each downstream team has its own SQS queue
subscribed to the topic and its own worker:

    billing, driver-payouts, receipts, analytics, loyalty   (from the start)
    fraud-checks                                             (added later)

The publisher never changes: the sixth queue is subscribed while trips are
flowing and receives every trip published after that.  The receipts
worker crashes half-way (an exception kills its thread); the other workers
are not affected, the receipts queue keeps its backlog, and a restarted
receipts worker drains it.

Runs with Debian's python3 and boto3 against any SNS/SQS endpoint:

    ./trip_events.py --endpoint http://127.0.0.1:4566 --trips 30

Exit status 0 when every worker handled exactly the trips it should have.
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid

import boto3
import botocore.config

FIRST = ("billing", "driver-payouts", "receipts", "analytics", "loyalty")
LATER = "fraud-checks"


def clients(endpoint):
    cfg = botocore.config.Config(retries={"max_attempts": 0})
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="example",
              aws_secret_access_key="example", config=cfg)
    session = boto3.session.Session()
    return session.client("sns", **kw), session.client("sqs", **kw)


def subscribe_queue(sns, sqs, topic, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    return url


def publish_trip(sns, topic, n):
    """The publisher: it knows the topic, not who listens."""
    trip = {"tripId": "trip-%04d" % n, "riderId": "r%d" % (n % 7),
            "driverId": "d%d" % (n % 5), "fare": round(7.5 + n * 1.25, 2)}
    sns.publish(TopicArn=topic, Message=json.dumps(trip), MessageAttributes={
        "event-type": {"DataType": "String", "StringValue": "TripCompleted"}})
    return trip["tripId"]


class Worker(threading.Thread):
    def __init__(self, endpoint, name, url, seen, crash_after=None, stop=None):
        super().__init__(daemon=True)
        self.sqs = clients(endpoint)[1]
        self.name_, self.url, self.seen = name, url, seen
        self.crash_after, self.stop = crash_after, stop
        self.crashed = False

    def run(self):
        try:
            while not self.stop.is_set():
                r = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=1)
                for m in r.get("Messages", []):
                    if self.crash_after is not None and len(self.seen) >= self.crash_after:
                        raise RuntimeError("receipts worker: PDF renderer out of memory")
                    self.seen.add(json.loads(m["Body"])["tripId"])
                    self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        except RuntimeError as e:
            self.crashed = True
            print("  %s crashed: %s" % (self.name_, e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get("SLUICE_ENDPOINT",
                                                         "http://127.0.0.1:4566"))
    ap.add_argument("--trips", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    sns, sqs = clients(args.endpoint)
    run = uuid.uuid4().hex[:6]
    topic = sns.create_topic(Name="trip-completed-" + run)["TopicArn"]
    urls = {n: subscribe_queue(sns, sqs, topic, "%s-%s" % (n, run)) for n in FIRST}
    seen = {n: set() for n in FIRST + (LATER,)}
    stop = threading.Event()
    workers = {n: Worker(args.endpoint, n, urls[n], seen[n],
                         crash_after=args.trips // 3 if n == "receipts" else None, stop=stop)
               for n in FIRST}
    for w in workers.values():
        w.start()

    half = args.trips // 2
    published = [publish_trip(sns, topic, i) for i in range(half)]
    # A new team subscribes while trips flow; the publisher is unchanged.
    urls[LATER] = subscribe_queue(sns, sqs, topic, "%s-%s" % (LATER, run))
    workers[LATER] = Worker(args.endpoint, LATER, urls[LATER], seen[LATER], stop=stop)
    workers[LATER].start()
    later = [publish_trip(sns, topic, i) for i in range(half, args.trips)]
    published += later

    deadline = time.time() + args.timeout
    healthy = [n for n in FIRST if n != "receipts"]
    while time.time() < deadline and not (
            all(len(seen[n]) == args.trips for n in healthy) and
            len(seen[LATER]) == len(later) and workers["receipts"].crashed):
        time.sleep(0.2)
    # The receipts team restarts its worker: the queue kept the backlog.
    backlog = sqs.get_queue_attributes(QueueUrl=urls["receipts"], AttributeNames=["All"])[
        "Attributes"]
    print("receipts backlog after the crash: %s visible, %s in flight" % (
        backlog["ApproximateNumberOfMessages"], backlog["ApproximateNumberOfMessagesNotVisible"]))
    workers["receipts"] = Worker(args.endpoint, "receipts", urls["receipts"], seen["receipts"],
                                 stop=stop)
    workers["receipts"].start()
    while time.time() < deadline and len(seen["receipts"]) < args.trips:
        time.sleep(0.2)
    stop.set()
    for w in workers.values():
        w.join(5)

    ok = True
    for n in FIRST + (LATER,):
        want = set(later) if n == LATER else set(published)
        good = seen[n] == want
        ok = ok and good
        print("%-15s %3d trips  %s" % (n, len(seen[n]), "OK" if good else "WRONG"))
    print("trip fan-out: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
