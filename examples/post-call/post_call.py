#!/usr/bin/python3
"""The call-ended flow of a contact-centre platform on SQS FIFO queues.

When a call ends, the platform records it once on three queues:

  - calls-transcription.fifo: one message group per practice (calls of one
    practice are transcribed in the order they ended), the contact id as
    the deduplication id (a retried "call ended" webhook is not transcribed
    twice);
  - calls-crm and calls-billing: standard queues for the CRM update and the
    per-minute billing.

The transcription worker chokes on one malformed call (no audio reference):
it never deletes it, so after maxReceiveCount receives SQS moves it to
calls-transcription-dlq.fifo.  Once the worker is "fixed", a message move
task redrives the dead-letter queue back to its source and the call is
transcribed after all.

Runs with Debian's python3 and boto3 against any SQS endpoint (the redrive
uses StartMessageMoveTask over the JSON protocol, which boto3 1.26 predates):

    ./post_call.py --endpoint http://127.0.0.1:4566

Exit status 0 when every call was transcribed once, in order within each
practice, billed and sent to the CRM; 1 otherwise.
"""

import argparse
import json
import os
import sys
import time
import urllib.request
import uuid

import boto3
import botocore.config

PRACTICES = ("north-clinic", "harbour-dental", "elm-street-gp")
MAX_RECEIVE_COUNT = 2


def client(endpoint):
    return boto3.session.Session().client(
        "sqs", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="example", aws_secret_access_key="example",
        config=botocore.config.Config(retries={"max_attempts": 0}))


def json_call(endpoint, action, payload):
    """An SQS action over AWS JSON 1.0, for operations boto3 1.26 lacks."""
    req = urllib.request.Request(
        endpoint.rstrip("/") + "/", data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "AmazonSQS." + action,
                 "Authorization": "AWS4-HMAC-SHA256 Credential=example/20260101/"
                                  "us-east-1/sqs/aws4_request, SignedHeaders=host, "
                                  "Signature=0"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def setup(sqs, run):
    dlq = sqs.create_queue(QueueName="calls-transcription-dlq-%s.fifo" % run,
                           Attributes={"FifoQueue": "true"})["QueueUrl"]
    transcription = sqs.create_queue(
        QueueName="calls-transcription-%s.fifo" % run,
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "1",
                    "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn(sqs, dlq),
                                                 "maxReceiveCount": MAX_RECEIVE_COUNT})}
    )["QueueUrl"]
    crm = sqs.create_queue(QueueName="calls-crm-%s" % run)["QueueUrl"]
    billing = sqs.create_queue(QueueName="calls-billing-%s" % run)["QueueUrl"]
    return transcription, dlq, crm, billing


def call_ended_events(count):
    calls = []
    for i in range(count):
        practice = PRACTICES[i % len(PRACTICES)]
        calls.append({"contactId": "contact-%04d" % i, "practice": practice,
                      "seconds": 30 + 7 * i,
                      "audio": None if i == 4 else "s3://recordings/%04d.wav" % i})
    return calls


def publish(sqs, queues, call):
    transcription, _, crm, billing = queues
    body = json.dumps(call)
    sqs.send_message(QueueUrl=transcription, MessageBody=body,
                     MessageGroupId=call["practice"],
                     MessageDeduplicationId=call["contactId"])
    sqs.send_message(QueueUrl=crm, MessageBody=body)
    sqs.send_message(QueueUrl=billing, MessageBody=body)


def drain(sqs, url, handle, until, deadline):
    """Receives and handles messages until until() holds or time runs out."""
    while not until() and time.time() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            if handle(json.loads(m["Body"])):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get("SLUICE_ENDPOINT",
                                                         "http://127.0.0.1:4566"))
    ap.add_argument("--calls", type=int, default=12)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    deadline = time.time() + args.timeout
    sqs = client(args.endpoint)
    run = uuid.uuid4().hex[:8]
    queues = setup(sqs, run)
    transcription, dlq, crm, billing = queues

    calls = call_ended_events(args.calls)
    for call in calls:
        publish(sqs, queues, call)
    # The platform retries a webhook: the duplicate is dropped by the FIFO queue.
    sqs.send_message(QueueUrl=transcription, MessageBody=json.dumps(calls[0]),
                     MessageGroupId=calls[0]["practice"],
                     MessageDeduplicationId=calls[0]["contactId"])

    transcribed, crm_done, billed = [], set(), {}
    fixed = {"worker": False}

    def transcribe(call):
        if call["audio"] is None and not fixed["worker"]:
            return False  # the bug: the worker gives up and never deletes
        transcribed.append(call["contactId"])
        return True

    good = [c for c in calls if c["audio"] is not None]
    drain(sqs, crm, lambda c: crm_done.add(c["contactId"]) or True,
          lambda: len(crm_done) == len(calls), deadline)
    drain(sqs, billing, lambda c: billed.setdefault(c["contactId"], c["seconds"]) or True,
          lambda: len(billed) == len(calls), deadline)
    # Transcribe until the broken call has landed in the dead-letter queue.
    def in_dlq():
        a = sqs.get_queue_attributes(QueueUrl=dlq,
                                     AttributeNames=["ApproximateNumberOfMessages"])
        return int(a["Attributes"]["ApproximateNumberOfMessages"]) == 1
    drain(sqs, transcription, transcribe,
          lambda: len(transcribed) == len(good) and in_dlq(), deadline)
    print("transcribed %d of %d calls; malformed call in the DLQ: %s"
          % (len(transcribed), len(calls), in_dlq()))

    # The worker is fixed: redrive the dead-letter queue to its source.
    fixed["worker"] = True
    task = json_call(args.endpoint, "StartMessageMoveTask", {"SourceArn": arn(sqs, dlq)})
    drain(sqs, transcription, transcribe, lambda: len(transcribed) == len(calls), deadline)
    status = json_call(args.endpoint, "ListMessageMoveTasks",
                       {"SourceArn": arn(sqs, dlq)})["Results"][0]
    print("redrive task %s: %s, %d moved" % (task["TaskHandle"][:8], status["Status"],
                                             status["ApproximateNumberOfMessagesMoved"]))

    ok = True
    for practice in PRACTICES:
        order = [c for c in transcribed if calls[int(c.split("-")[1])]["practice"] == practice
                 and calls[int(c.split("-")[1])]["audio"] is not None]
        expected = [c["contactId"] for c in good if c["practice"] == practice]
        line = "%-16s transcribed in order: %s" % (practice, order == expected)
        print(line)
        ok = ok and order == expected
    dupes = len(transcribed) != len(set(transcribed))
    print("calls: %d, transcribed: %d (duplicates: %s), CRM: %d, billed: %d, "
          "billed minutes: %.1f" % (len(calls), len(set(transcribed)), dupes, len(crm_done),
                                    len(billed), sum(billed.values()) / 60))
    ok = ok and not dupes and len(set(transcribed)) == len(calls) and \
        len(crm_done) == len(calls) and len(billed) == len(calls) and \
        status["ApproximateNumberOfMessagesMoved"] == 1
    print("post-call flow: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
