#!/usr/bin/python3
"""Order fan-out over SQS standard queues, with a dead-letter queue.

A shop publishes one "OrderPlaced" event per order to five queues, one per
downstream service: inventory, payment, fulfilment, notification and
analytics. Each service has a worker thread that long-polls its queue,
handles the events and deletes them. One worker is broken on purpose (by
default notification, whose e-mail provider is "down"): it never deletes
what it receives, so every event comes back after the visibility timeout
and, after maxReceiveCount receives, SQS moves it to that service's
dead-letter queue. At the end the script checks that every healthy service
handled every order and that the broken one's events all sit in its DLQ.

Runs with Debian's python3 and boto3 against any SQS endpoint:

    ./order_fanout.py --endpoint http://127.0.0.1:4566
    SLUICE_ENDPOINT=http://127.0.0.1:4566 ./order_fanout.py --orders 50

Exit status 0 when the outcome is the expected one, 1 otherwise.
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

SERVICES = ("inventory", "payment", "fulfilment", "notification", "analytics")
MAX_RECEIVE_COUNT = 3
VISIBILITY_TIMEOUT = 1


def make_client(endpoint):
    # Dummy credentials: a self-hosted endpoint accepts any signature.
    return boto3.session.Session().client(
        "sqs", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=botocore.config.Config(retries={"max_attempts": 2},
                                      read_timeout=30))


def create_queues(sqs, prefix):
    """One work queue per service, each with its own dead-letter queue."""
    queues = {}
    for svc in SERVICES:
        dlq_url = sqs.create_queue(QueueName="%s-%s-dlq" % (prefix, svc))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName="%s-%s" % (prefix, svc), Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": MAX_RECEIVE_COUNT}),
        })["QueueUrl"]
        queues[svc] = {"url": url, "dlq": dlq_url}
    return queues


def publish_orders(sqs, queues, count):
    """Sends each order event to every service's queue; returns order ids."""
    order_ids = []
    for n in range(count):
        order = {
            "type": "OrderPlaced",
            "orderId": "ord-%05d" % n,
            "customer": "customer-%d" % (n % 7),
            "items": [{"sku": "SKU-%d" % (n % 5), "qty": 1 + n % 3}],
            "total": round(9.99 * (1 + n % 4), 2),
            "placedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        body = json.dumps(order)
        attrs = {"event-type": {"DataType": "String", "StringValue": "OrderPlaced"},
                 "order-id": {"DataType": "String", "StringValue": order["orderId"]}}
        for svc in SERVICES:
            sqs.send_message(QueueUrl=queues[svc]["url"], MessageBody=body,
                             MessageAttributes=attrs)
        order_ids.append(order["orderId"])
    return order_ids


class Worker(threading.Thread):
    """Drains one service's queue; a failing worker never deletes."""

    def __init__(self, endpoint, svc, url, failing, deadline):
        super().__init__(name="worker-" + svc, daemon=True)
        self.sqs = make_client(endpoint)
        self.svc, self.url, self.failing = svc, url, failing
        self.deadline = deadline
        self.handled = set()
        self.attempts = 0
        self.error = None

    def queue_is_empty(self):
        a = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        return all(v == "0" for v in a.values())

    def handle(self, order):
        if self.failing:
            raise RuntimeError("%s: downstream unavailable" % self.svc)
        self.handled.add(order["orderId"])

    def run(self):
        try:
            idle = 0
            while time.time() < self.deadline:
                msgs = self.sqs.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                    MessageAttributeNames=["All"]).get("Messages", [])
                if not msgs:
                    idle = idle + 1 if self.queue_is_empty() else 0
                    if idle >= 2:
                        return
                    continue
                idle = 0
                done = []
                for m in msgs:
                    self.attempts += 1
                    try:
                        self.handle(json.loads(m["Body"]))
                    except RuntimeError:
                        continue  # left in flight: it comes back later
                    done.append({"Id": str(len(done)),
                                 "ReceiptHandle": m["ReceiptHandle"]})
                if done:
                    r = self.sqs.delete_message_batch(QueueUrl=self.url, Entries=done)
                    if r.get("Failed"):
                        raise RuntimeError("delete failed: %s" % r["Failed"])
        except Exception as e:  # reported in the summary
            self.error = e


def count_dlq(sqs, url, timeout):
    """Receives everything in a dead-letter queue; returns the order ids."""
    ids = set()
    deadline = time.time() + timeout
    while time.time() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1,
                                   VisibilityTimeout=60).get("Messages", [])
        if not msgs:
            break
        ids.update(json.loads(m["Body"])["orderId"] for m in msgs)
    return ids


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get(
        "SLUICE_ENDPOINT", os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")))
    ap.add_argument("--orders", type=int, default=20)
    ap.add_argument("--fail-worker", default="notification",
                    choices=SERVICES + ("none",))
    ap.add_argument("--prefix", default="orders-" + uuid.uuid4().hex[:6])
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds the workers may take in all")
    ap.add_argument("--keep", action="store_true",
                    help="keep the queues afterwards")
    args = ap.parse_args(argv)

    sqs = make_client(args.endpoint)
    queues = create_queues(sqs, args.prefix)
    t0 = time.time()
    order_ids = set(publish_orders(sqs, queues, args.orders))
    print("published %d orders to %d queues in %.2fs"
          % (len(order_ids), len(SERVICES), time.time() - t0))

    deadline = time.time() + args.timeout
    workers = [Worker(args.endpoint, svc, queues[svc]["url"],
                      svc == args.fail_worker, deadline) for svc in SERVICES]
    for w in workers:
        w.start()
    for w in workers:
        w.join(args.timeout + 10)

    ok = True
    print("%-13s %8s %9s %5s  %s" % ("service", "handled", "attempts", "dlq", "result"))
    for w in workers:
        dlq = count_dlq(sqs, queues[w.svc]["dlq"], timeout=10)
        if w.failing:
            good = dlq == order_ids and not w.handled
            want = "all in DLQ"
        else:
            good = w.handled == order_ids and not dlq
            want = "all handled"
        if w.error is not None:
            good = False
            want = "error: %s" % w.error
        ok = ok and good
        print("%-13s %8d %9d %5d  %s %s" % (w.svc, len(w.handled), w.attempts,
                                            len(dlq), "ok" if good else "FAIL", want))
    print("finished in %.1fs: %s" % (time.time() - t0, "OK" if ok else "FAILED"))

    if not args.keep:
        for q in queues.values():
            sqs.delete_queue(QueueUrl=q["url"])
            sqs.delete_queue(QueueUrl=q["dlq"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
