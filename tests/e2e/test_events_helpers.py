"""Helpers for the EventBridge end-to-end tests (no tests of its own).

Fixtures here are imported by the test_events_*.py files:
  events    a boto3 EventBridge client (AWS JSON 1.1) for the session server
  evname    a factory of unique, valid resource names
  evqueue   a factory: creates an SQS queue, returns (url, arn)
"""

import json
import time
import uuid

import boto3
import botocore.config
import pytest

import e2e_util


def events_client(endpoint, validate=True):
    cfg = botocore.config.Config(
        region_name=e2e_util.REGION,
        retries={"total_max_attempts": 1, "mode": "standard"},
        read_timeout=30, connect_timeout=5, parameter_validation=validate)
    return boto3.session.Session().client(
        "events", endpoint_url=endpoint,
        aws_access_key_id=e2e_util.DUMMY_KEY,
        aws_secret_access_key=e2e_util.DUMMY_SECRET, config=cfg)


@pytest.fixture(scope="session")
def events(endpoint):
    return events_client(endpoint)


@pytest.fixture(scope="session")
def events_novalidate(endpoint):
    return events_client(endpoint, validate=False)


@pytest.fixture
def evname(request):
    base = "".join(c if c.isalnum() else "-"
                   for c in request.node.name)[:30].strip("-")

    def make(suffix=""):
        return ("%s-%s%s" % (base, uuid.uuid4().hex[:8], suffix))[:60]
    return make


def queue_arn(sqs, url):
    return e2e_util.queue_attrs(sqs, url, "QueueArn")["QueueArn"]


@pytest.fixture
def evqueue(sqs, evname):
    def make(suffix="", attributes=None):
        args = {"QueueName": evname(suffix)}
        if attributes:
            args["Attributes"] = attributes
        url = sqs.create_queue(**args)["QueueUrl"]
        return url, queue_arn(sqs, url)
    return make


def receive_all(sqs, url, expect=None, timeout=8.0):
    """Bodies (and messages) received from url; waits for `expect` of them
    or for the queue to stay empty for a short while."""
    got = e2e_util.drain(sqs, url, expect=expect, timeout=timeout)
    return list(got.values())


def bodies(msgs):
    return [m["Body"] for m in msgs]


def put_one(events, source="test.app", detail_type="t", detail=None, **kw):
    entry = {"Source": source, "DetailType": detail_type,
             "Detail": json.dumps(detail if detail is not None else {})}
    entry.update(kw)
    r = events.put_events(Entries=[entry])
    assert r["FailedEntryCount"] == 0, r
    return r["Entries"][0]["EventId"]


def make_event(detail=None, **top):
    """A complete event envelope for TestEventPattern."""
    ev = {"id": str(uuid.uuid4()), "detail-type": "t", "source": "test.app",
          "account": e2e_util.ACCOUNT, "time": "2026-01-01T00:00:00Z",
          "region": e2e_util.REGION, "resources": [],
          "detail": detail if detail is not None else {}}
    ev.update(top)
    return ev


def wait_for(pred, timeout=10.0, what="condition"):
    return e2e_util.wait_until(pred, timeout=timeout, what=what)


def sleep_briefly():
    time.sleep(0.3)
