"""EventBridge through Debian's aws-cli (/usr/bin/aws): a rule, an SQS
target, PutEvents, TestEventPattern and an invalid pattern's error."""
import json
import subprocess
import uuid

import e2e_util


def aws(endpoint, *args, check=True):
    env = {"AWS_ACCESS_KEY_ID": e2e_util.DUMMY_KEY,
           "AWS_SECRET_ACCESS_KEY": e2e_util.DUMMY_SECRET,
           "AWS_DEFAULT_REGION": e2e_util.REGION, "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "--output", "json",
                        "events", *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_rule_target_and_delivery_through_the_cli(endpoint, sqs):
    uid = uuid.uuid4().hex[:8]
    url = sqs.create_queue(QueueName="cli-ev-" + uid)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    pattern = json.dumps({"source": ["cli." + uid], "detail": {"amount": [{"numeric": [">", 10]}]}})
    out = json.loads(aws(endpoint, "put-rule", "--name", "cli-" + uid,
                         "--event-pattern", pattern).stdout)
    assert out["RuleArn"].endswith(":rule/cli-" + uid)
    aws(endpoint, "put-targets", "--rule", "cli-" + uid,
        "--targets", json.dumps([{"Id": "q", "Arn": arn}]))
    entries = [{"Source": "cli." + uid, "DetailType": "t", "Detail": json.dumps({"amount": a})}
               for a in (5, 50)]
    res = json.loads(aws(endpoint, "put-events", "--entries", json.dumps(entries)).stdout)
    assert res["FailedEntryCount"] == 0
    got = e2e_util.drain(sqs, url, expect=1, timeout=10)
    assert [json.loads(m["Body"])["detail"]["amount"] for m in got.values()] == [50]
    event = json.dumps({"id": "1", "source": "cli." + uid, "detail-type": "t",
                        "account": e2e_util.ACCOUNT, "time": "2026-01-01T00:00:00Z",
                        "region": e2e_util.REGION, "resources": [], "detail": {"amount": 11}})
    tested = json.loads(aws(endpoint, "test-event-pattern", "--event-pattern", pattern,
                            "--event", event).stdout)
    assert tested["Result"] is True
    bad = aws(endpoint, "put-rule", "--name", "bad-" + uid, "--event-pattern",
              json.dumps({"source": [{"prefix": 5}]}), check=False)
    assert bad.returncode != 0 and "InvalidEventPatternException" in bad.stderr
