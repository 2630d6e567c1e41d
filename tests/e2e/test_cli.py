"""The core SQS flow through Debian's aws-cli v2 (/usr/bin/aws, Query
protocol), as a user would type it: dummy credentials and region in the
environment, --endpoint-url pointing at the server, JSON output.
"""

import json
import os
import subprocess

import pytest

from e2e_util import ACCOUNT, DUMMY_KEY, DUMMY_SECRET, REGION, md5_hex

AWS = "/usr/bin/aws"

pytestmark = pytest.mark.skipif(not os.access(AWS, os.X_OK),
                                reason="aws-cli is not installed")


@pytest.fixture
def aws(endpoint, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": DUMMY_KEY, "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
        "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "HOME": str(tmp_path)})

    def run(*args, ok=True):
        p = subprocess.run([AWS, "--endpoint-url", endpoint, "--output",
                            "json", "sqs"] + list(args),
                           env=env, capture_output=True, text=True,
                           timeout=60)
        if ok:
            assert p.returncode == 0, (args, p.stderr)
            return json.loads(p.stdout) if p.stdout.strip() else {}
        return p
    return run


@pytest.mark.timeout(180)
def test_cli_core_flow(aws, endpoint, qname):
    name = qname()
    url = aws("create-queue", "--queue-name", name, "--attributes",
              "VisibilityTimeout=40,DelaySeconds=0")["QueueUrl"]
    assert url == "%s/%s/%s" % (endpoint, ACCOUNT, name)
    assert aws("get-queue-url", "--queue-name", name)["QueueUrl"] == url
    assert url in aws("list-queues", "--queue-name-prefix", name)["QueueUrls"]

    sent = aws("send-message", "--queue-url", url, "--message-body",
               "hello from the cli", "--message-attributes",
               json.dumps({"origin": {"DataType": "String",
                                      "StringValue": "cli"}}))
    assert sent["MD5OfMessageBody"] == md5_hex("hello from the cli")
    assert len(sent["MD5OfMessageAttributes"]) == 32

    got = aws("receive-message", "--queue-url", url, "--attribute-names",
              "All", "--message-attribute-names", "All",
              "--wait-time-seconds", "2")["Messages"]
    assert len(got) == 1
    m = got[0]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "hello from the cli"
    assert m["MessageAttributes"]["origin"]["StringValue"] == "cli"
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    aws("delete-message", "--queue-url", url, "--receipt-handle",
        m["ReceiptHandle"])

    aws("set-queue-attributes", "--queue-url", url, "--attributes",
        "DelaySeconds=3")
    attrs = aws("get-queue-attributes", "--queue-url", url,
                "--attribute-names", "All")["Attributes"]
    assert attrs["VisibilityTimeout"] == "40"
    assert attrs["DelaySeconds"] == "3"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["QueueArn"] == "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT,
                                                          name)

    batch = aws("send-message-batch", "--queue-url", url, "--entries",
                json.dumps([{"Id": "a", "MessageBody": "one"},
                            {"Id": "b", "MessageBody": "two"}]))
    assert sorted(e["Id"] for e in batch["Successful"]) == ["a", "b"]
    aws("tag-queue", "--queue-url", url, "--tags", "env=test")
    assert aws("list-queue-tags", "--queue-url", url)["Tags"] == {
        "env": "test"}
    aws("purge-queue", "--queue-url", url)
    aws("delete-queue", "--queue-url", url)
    p = aws("get-queue-url", "--queue-name", name, ok=False)
    assert p.returncode != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in p.stderr


def test_cli_error_case(aws, qname):
    name = qname()
    url = aws("create-queue", "--queue-name", name, "--attributes",
              "DelaySeconds=1")["QueueUrl"]
    p = aws("create-queue", "--queue-name", name, "--attributes",
            "DelaySeconds=2", ok=False)
    assert p.returncode == 254, p.stderr
    assert "QueueAlreadyExists" in p.stderr
    p = aws("receive-message", "--queue-url", url,
            "--max-number-of-messages", "11", ok=False)
    assert p.returncode == 254, p.stderr
    assert "InvalidParameterValue" in p.stderr
    p = aws("delete-message", "--queue-url", url, "--receipt-handle",
            "not-a-handle", ok=False)
    assert p.returncode == 254, p.stderr
    assert "ReceiptHandleIsInvalid" in p.stderr
