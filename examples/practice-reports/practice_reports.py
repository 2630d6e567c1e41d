#!/usr/bin/python3
"""Scheduled reporting for a medical practice, on EventBridge Scheduler.

A practice's back office runs three recurring jobs, each fed by a schedule
that drops a job message on an SQS queue for a worker to pick up:

  weekly-report     cron(0 7 ? * MON *) in the practice's time zone: the
                    weekly activity report, every Monday 07:00 local time
                    (DST handled by the schedule, not by the worker).
  claims-retry      cron(30 2 * * ? *) with a 60-minute flexible window:
                    the daily resubmission of rejected insurance claims,
                    spread over 02:30-03:30 so that many practices do not
                    hit the insurer at the same second.
  dashboard-refresh rate(1 hour): the waiting-room dashboard's refresh;
                    a rate schedule invokes its target once at creation,
                    then every hour.

All three live in one schedule group (tagged with the practice), retry a
failed delivery a few times and then dead-letter it to a shared DLQ.  The
script creates everything, shows the schedules, then proves the path end to
end: it waits for the dashboard refresh's first invocation and for a one-off
"preview" run of the weekly report (an at() schedule a few seconds ahead,
deleted by the server after it ran: ActionAfterCompletion=DELETE).

    ./practice_reports.py --endpoint http://127.0.0.1:4566
    SLUICE_ENDPOINT=http://127.0.0.1:4566 ./practice_reports.py --keep

Needs Debian's python3 and python3-boto3.  Exit status 0 when both
invocations arrived as expected, 1 otherwise.
"""

import argparse
import json
import os
import sys
import time
import uuid

import boto3
import botocore.config

ACCOUNT_ROLE = "arn:aws:iam::%s:role/practice-reports-scheduler"


def clients(endpoint, region):
    kw = dict(endpoint_url=endpoint, region_name=region,
              aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
              aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
              config=botocore.config.Config(retries={"max_attempts": 2}))
    session = boto3.session.Session()
    return session.client("scheduler", **kw), session.client("sqs", **kw)


def make_queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def job(kind, practice):
    """The job message; Scheduler fills in the <aws.scheduler.*> attributes."""
    return json.dumps({
        "job": kind, "practice": practice,
        "scheduledTime": "<aws.scheduler.scheduled-time>",
        "schedule": "<aws.scheduler.schedule-arn>",
        "attempt": "<aws.scheduler.attempt-number>",
    })


def raw_create(sched, group, name, body):
    """CreateSchedule with members newer than boto3 1.26's model knows
    (ActionAfterCompletion): a SigV4-signed REST-JSON request of our own."""
    import urllib.request
    import botocore.auth
    import botocore.awsrequest
    url = sched.meta.endpoint_url.rstrip("/") + "/schedules/" + name
    data = json.dumps(dict(body, GroupName=group)).encode("utf-8")
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=url, data=data, headers={"Content-Type": "application/json"})
    botocore.auth.SigV4Auth(sched._request_signer._credentials, "scheduler",
                            sched.meta.region_name).add_auth(req)
    r = urllib.request.Request(url, data=data, method="POST", headers=dict(req.headers))
    with urllib.request.urlopen(r, timeout=10) as resp:
        return json.loads(resp.read())


def wait_for(sqs, url, pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            body = json.loads(m["Body"])
            if pred(body):
                return body
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get(
        "SLUICE_ENDPOINT", os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")))
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--account", default="000000000000")
    ap.add_argument("--practice", default="riverside-family-practice")
    ap.add_argument("--timezone", default="Europe/London")
    ap.add_argument("--prefix", default="reports-" + uuid.uuid4().hex[:6])
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--keep", action="store_true", help="leave everything in place")
    args = ap.parse_args()

    sched, sqs = clients(args.endpoint, args.region)
    role = ACCOUNT_ROLE % args.account
    group = args.prefix
    queues = {k: make_queue(sqs, "%s-%s" % (args.prefix, k))
              for k in ("reports", "claims", "dashboard", "dlq")}
    dlq_arn = queues["dlq"][1]
    retry = {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}

    sched.create_schedule_group(Name=group, Tags=[
        {"Key": "practice", "Value": args.practice},
        {"Key": "owner", "Value": "back-office"}])
    specs = [
        ("weekly-report", "cron(0 7 ? * MON *)", {"Mode": "OFF"},
         "reports", "Weekly activity report, Mondays 07:00 local time"),
        ("claims-retry", "cron(30 2 * * ? *)",
         {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 60},
         "claims", "Resubmit rejected claims, daily within 02:30-03:30"),
        ("dashboard-refresh", "rate(1 hour)", {"Mode": "OFF"},
         "dashboard", "Waiting-room dashboard refresh, hourly"),
    ]
    for name, expr, window, queue, description in specs:
        sched.create_schedule(
            Name=name, GroupName=group, ScheduleExpression=expr,
            ScheduleExpressionTimezone=args.timezone, Description=description,
            FlexibleTimeWindow=window, ClientToken="%s-%s" % (group, name),
            Target={"Arn": queues[queue][1], "RoleArn": role,
                    "Input": job(name, args.practice), "RetryPolicy": retry,
                    "DeadLetterConfig": {"Arn": dlq_arn}})

    # A one-off preview of the weekly report, a few seconds from now, in
    # the practice's zone; the server deletes it once it has run.
    from datetime import datetime, timedelta
    try:
        from zoneinfo import ZoneInfo
        local = datetime.now(ZoneInfo(args.timezone)) + timedelta(seconds=4)
    except Exception:
        args.timezone = "UTC"
        local = datetime.utcnow() + timedelta(seconds=4)
    raw_create(sched, group, "weekly-report-preview", {
        "ScheduleExpression": local.strftime("at(%Y-%m-%dT%H:%M:%S)"),
        "ScheduleExpressionTimezone": args.timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"}, "ActionAfterCompletion": "DELETE",
        "Target": {"Arn": queues["reports"][1], "RoleArn": role,
                   "Input": job("weekly-report-preview", args.practice),
                   "DeadLetterConfig": {"Arn": dlq_arn}}})

    print("schedule group %s (tags: %s)" % (group, ", ".join(
        "%s=%s" % (t["Key"], t["Value"]) for t in sched.list_tags_for_resource(
            ResourceArn=sched.get_schedule_group(Name=group)["Arn"])["Tags"])))
    print("%-22s %-24s %-16s %s" % ("schedule", "expression", "window", "target queue"))
    for s in sched.list_schedules(GroupName=group)["Schedules"]:
        d = sched.get_schedule(Name=s["Name"], GroupName=group)
        w = d["FlexibleTimeWindow"]
        print("%-22s %-24s %-16s %s" % (
            s["Name"], d["ScheduleExpression"],
            w["Mode"] + (" %dmin" % w["MaximumWindowInMinutes"]
                         if w["Mode"] == "FLEXIBLE" else ""),
            s["Target"]["Arn"].rsplit(":", 1)[1]))

    ok = True
    t0 = time.time()
    refresh = wait_for(sqs, queues["dashboard"][0],
                       lambda b: b["job"] == "dashboard-refresh", args.timeout)
    print("dashboard-refresh first invocation: %s" % (
        "received after %.1fs (scheduled %s)" % (time.time() - t0, refresh["scheduledTime"])
        if refresh else "MISSING"))
    ok = ok and refresh is not None
    preview = wait_for(sqs, queues["reports"][0],
                       lambda b: b["job"] == "weekly-report-preview", args.timeout)
    print("weekly-report preview run:          %s" % (
        "received (scheduled %s, attempt %s)" % (preview["scheduledTime"], preview["attempt"])
        if preview else "MISSING"))
    ok = ok and preview is not None
    if preview:
        deadline = time.time() + 5
        remaining = None
        while time.time() < deadline:
            remaining = [s["Name"] for s in sched.list_schedules(
                GroupName=group)["Schedules"]]
            if "weekly-report-preview" not in remaining:
                break
            time.sleep(0.2)
        gone = "weekly-report-preview" not in remaining
        print("preview schedule deleted after completion: %s" % ("yes" if gone else "NO"))
        ok = ok and gone

    if not args.keep:
        sched.delete_schedule_group(Name=group)  # takes its schedules with it
        for url, _ in queues.values():
            sqs.delete_queue(QueueUrl=url)
    print("finished: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
