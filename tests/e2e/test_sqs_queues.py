"""Queue management over the Query protocol (boto3): CreateQueue,
GetQueueUrl, ListQueues, DeleteQueue, Get/SetQueueAttributes, tags and
permissions, ListDeadLetterSourceQueues.

Expected values are AWS's documented defaults and limits (API reference,
botocore model); queue URLs follow the server's documented form
http://<Host header>/<account>/<name>.
"""

import json
import time

import pytest

from e2e_util import ACCOUNT, REGION, expect_error, queue_attrs

NONEXISTENT = "AWS.SimpleQueueService.NonExistentQueue"

DEFAULTS = {
    "VisibilityTimeout": "30",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "ApproximateNumberOfMessages": "0",
    "ApproximateNumberOfMessagesNotVisible": "0",
    "ApproximateNumberOfMessagesDelayed": "0",
}


def arn_of(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)


# ------------------------------------------------------------ CreateQueue

def test_create_queue_returns_url_from_host_header(sqs, endpoint, qname):
    name = qname()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == "%s/%s/%s" % (endpoint, ACCOUNT, name)


def test_create_queue_default_attributes(sqs, qname):
    name = qname()
    before = int(time.time())
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attrs = queue_attrs(sqs, url)
    for k, v in DEFAULTS.items():
        assert attrs.get(k) == v, (k, attrs)
    # 256 KiB in the API model boto3 1.26 ships; AWS raised it to 1 MiB in
    # 2025. Either is a documented default.
    assert attrs["MaximumMessageSize"] in ("262144", "1048576")
    assert attrs["QueueArn"] == arn_of(name)
    created = int(attrs["CreatedTimestamp"])
    assert before - 2 <= created <= time.time() + 2
    assert abs(int(attrs["LastModifiedTimestamp"]) - created) <= 2
    # Attributes that exist only once set must not be reported.
    for absent in ("Policy", "RedrivePolicy", "RedriveAllowPolicy",
                   "KmsMasterKeyId", "FifoQueue", "ContentBasedDeduplication"):
        assert absent not in attrs, absent
    # New queues get SSE-SQS by default on AWS; both spellings are strings.
    assert attrs.get("SqsManagedSseEnabled") in ("true", "false")


def test_create_queue_is_idempotent_with_same_attributes(sqs, qname):
    name = qname()
    attrs = {"VisibilityTimeout": "45", "DelaySeconds": "3"}
    url1 = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    url2 = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    assert url1 == url2


def test_create_queue_without_attributes_matches_existing(sqs, qname):
    # Only attributes given in the request are compared.
    name = qname()
    url1 = sqs.create_queue(QueueName=name,
                            Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    url2 = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url1 == url2
    # A subset of the attributes is fine as well.
    url3 = sqs.create_queue(QueueName=name,
                            Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    assert url3 == url1


def test_create_queue_with_default_value_matches_implicit_default(sqs, qname):
    name = qname()
    url1 = sqs.create_queue(QueueName=name)["QueueUrl"]
    url2 = sqs.create_queue(QueueName=name,
                            Attributes={"DelaySeconds": "0",
                                        "VisibilityTimeout": "30"})["QueueUrl"]
    assert url1 == url2


def test_create_queue_different_attribute_is_queue_already_exists(sqs, qname):
    name = qname()
    sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})
    expect_error("QueueAlreadyExists", sqs.create_queue, QueueName=name,
                 Attributes={"VisibilityTimeout": "46"})
    # The failed call changed nothing.
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    assert queue_attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "45"


def test_create_queue_after_set_attributes_compares_current_values(sqs, qname):
    name = qname()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "5"})
    expect_error("QueueAlreadyExists", sqs.create_queue, QueueName=name,
                 Attributes={"DelaySeconds": "0"})
    assert sqs.create_queue(QueueName=name,
                            Attributes={"DelaySeconds": "5"})["QueueUrl"] == url


@pytest.mark.parametrize("bad", ["has space", "dot.name", "slash/name",
                                 "x" * 81, "ümlaut", "name.fifo"])
def test_create_queue_invalid_name(sqs_novalidate, bad):
    expect_error("InvalidParameterValue", sqs_novalidate.create_queue,
                 QueueName=bad)


def test_create_queue_name_limits(sqs, qname):
    name = ("q80-" + qname())[:76] + "_-Az"
    name = name.ljust(80, "x")[:80]
    assert len(name) == 80
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url.endswith("/" + name)
    sqs.delete_queue(QueueUrl=url)


@pytest.mark.parametrize("attr,bad", [
    ("VisibilityTimeout", "43201"), ("VisibilityTimeout", "-1"),
    ("DelaySeconds", "901"), ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"), ("MaximumMessageSize", "1023"),
    ("ReceiveMessageWaitTimeSeconds", "21"), ("VisibilityTimeout", "abc"),
])
def test_create_queue_invalid_attribute_value(sqs, qname, attr, bad):
    expect_error("InvalidAttributeValue", sqs.create_queue,
                 QueueName=qname(), Attributes={attr: bad})


def test_create_queue_unknown_attribute_name(sqs, qname):
    expect_error("InvalidAttributeName", sqs.create_queue,
                 QueueName=qname(), Attributes={"NoSuchAttribute": "1"})


@pytest.mark.parametrize("attr,value", [
    ("VisibilityTimeout", "0"), ("VisibilityTimeout", "43200"),
    ("DelaySeconds", "900"), ("MessageRetentionPeriod", "60"),
    ("MessageRetentionPeriod", "1209600"), ("MaximumMessageSize", "1024"),
    ("MaximumMessageSize", "262144"), ("ReceiveMessageWaitTimeSeconds", "20"),
])
def test_create_queue_attribute_bounds_accepted(sqs, qname, attr, value):
    url = sqs.create_queue(QueueName=qname(),
                           Attributes={attr: value})["QueueUrl"]
    assert queue_attrs(sqs, url, attr)[attr] == value


def test_create_queue_with_tags(sqs, qname):
    url = sqs.create_queue(QueueName=qname(),
                           tags={"team": "orders", "env": "test"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {
        "team": "orders", "env": "test"}


# ------------------------------------------------------------ GetQueueUrl

def test_get_queue_url(sqs, endpoint, qname):
    name = qname()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=name,
                             QueueOwnerAWSAccountId=ACCOUNT)["QueueUrl"] == url


def test_get_queue_url_unknown_queue(sqs, qname):
    msg = expect_error(NONEXISTENT, sqs.get_queue_url, QueueName=qname())
    assert "does not exist" in msg


def test_queue_names_are_case_sensitive(sqs, qname):
    name = qname() + "-Case"
    sqs.create_queue(QueueName=name)
    expect_error(NONEXISTENT, sqs.get_queue_url, QueueName=name.lower())


# ------------------------------------------------------------ ListQueues

def test_list_queues_prefix(sqs, qname):
    prefix = qname()[:50] + "-lp"
    urls = sorted(sqs.create_queue(QueueName="%s-%d" % (prefix, i))["QueueUrl"]
                  for i in range(3))
    other = sqs.create_queue(QueueName=qname() + "-other")["QueueUrl"]
    got = sqs.list_queues(QueueNamePrefix=prefix)
    assert sorted(got["QueueUrls"]) == urls
    assert "NextToken" not in got
    assert other in sqs.list_queues()["QueueUrls"]


def test_list_queues_prefix_without_match_has_no_urls(sqs, qname):
    got = sqs.list_queues(QueueNamePrefix=qname() + "-none")
    assert got.get("QueueUrls", []) == []
    assert "NextToken" not in got


def test_list_queues_max_results_and_next_token(sqs, qname):
    prefix = qname()[:50] + "-pg"
    urls = sorted(sqs.create_queue(QueueName="%s-%d" % (prefix, i))["QueueUrl"]
                  for i in range(5))
    seen, token, pages = [], None, 0
    while True:
        args = {"QueueNamePrefix": prefix, "MaxResults": 2}
        if token:
            args["NextToken"] = token
        page = sqs.list_queues(**args)
        pages += 1
        assert 1 <= len(page["QueueUrls"]) <= 2
        seen += page["QueueUrls"]
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert sorted(seen) == urls
    assert len(seen) == len(set(seen))
    assert pages == 3


def test_list_queues_exact_fit_has_no_next_token(sqs, qname):
    prefix = qname()[:50] + "-ef"
    for i in range(2):
        sqs.create_queue(QueueName="%s-%d" % (prefix, i))
    page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert len(page["QueueUrls"]) == 2
    assert "NextToken" not in page


@pytest.mark.parametrize("bad", [0, 1001])
def test_list_queues_max_results_out_of_range(sqs_novalidate, bad):
    expect_error("InvalidParameterValue", sqs_novalidate.list_queues,
                 MaxResults=bad)


# ------------------------------------------------------------ DeleteQueue

def test_delete_queue(sqs, qname):
    name = qname()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="gone with the queue")
    sqs.delete_queue(QueueUrl=url)
    expect_error(NONEXISTENT, sqs.get_queue_url, QueueName=name)
    expect_error(NONEXISTENT, sqs.send_message, QueueUrl=url, MessageBody="x")
    assert url not in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])


def test_recreated_queue_starts_empty(sqs, qname):
    """A queue created again under a deleted queue's name keeps nothing of
    the old one (AWS may instead refuse for 60 s: QueueDeletedRecently)."""
    name = qname()
    url = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"},
                           tags={"old": "yes"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old", DelaySeconds=0)
    sqs.delete_queue(QueueUrl=url)
    try:
        url2 = sqs.create_queue(QueueName=name)["QueueUrl"]
    except Exception as e:
        assert e.response["Error"]["Code"] == \
            "AWS.SimpleQueueService.QueueDeletedRecently"
        return
    assert url2 == url
    assert sqs.receive_message(QueueUrl=url2).get("Messages", []) == []
    assert queue_attrs(sqs, url2, "DelaySeconds") == {"DelaySeconds": "0"}
    assert sqs.list_queue_tags(QueueUrl=url2).get("Tags", {}) == {}


def test_delete_unknown_queue(sqs, endpoint, qname):
    expect_error(NONEXISTENT, sqs.delete_queue,
                 QueueUrl="%s/%s/%s" % (endpoint, ACCOUNT, qname()))


# ------------------------------------------------------ Get/SetQueueAttributes

def test_get_queue_attributes_selected_names(sqs, queue):
    url = queue()
    attrs = queue_attrs(sqs, url, "VisibilityTimeout", "DelaySeconds")
    assert attrs == {"VisibilityTimeout": "30", "DelaySeconds": "0"}


def test_get_queue_attributes_without_names_returns_none(sqs, queue):
    url = queue()
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}


def test_get_queue_attributes_unknown_name(sqs_novalidate, queue):
    url = queue()
    expect_error("InvalidAttributeName", sqs_novalidate.get_queue_attributes,
                 QueueUrl=url, AttributeNames=["NoSuchAttribute"])


def test_get_queue_attributes_unknown_queue(sqs, endpoint, qname):
    expect_error(NONEXISTENT, sqs.get_queue_attributes,
                 QueueUrl="%s/%s/%s" % (endpoint, ACCOUNT, qname()),
                 AttributeNames=["All"])


def test_set_queue_attributes_round_trip(sqs, queue):
    url = queue()
    before = int(queue_attrs(sqs, url, "LastModifiedTimestamp")
                 ["LastModifiedTimestamp"])
    new = {"VisibilityTimeout": "120", "DelaySeconds": "7",
           "MessageRetentionPeriod": "86400", "MaximumMessageSize": "2048",
           "ReceiveMessageWaitTimeSeconds": "4"}
    time.sleep(1.1)
    sqs.set_queue_attributes(QueueUrl=url, Attributes=new)
    attrs = queue_attrs(sqs, url)
    for k, v in new.items():
        assert attrs[k] == v, k
    assert int(attrs["LastModifiedTimestamp"]) > before


@pytest.mark.parametrize("attr,bad", [
    ("VisibilityTimeout", "43201"), ("DelaySeconds", "-1"),
    ("MessageRetentionPeriod", "30"), ("MaximumMessageSize", "1048577"),
    ("ReceiveMessageWaitTimeSeconds", "25"), ("DelaySeconds", "1.5"),
])
def test_set_queue_attributes_invalid_value(sqs, queue, attr, bad):
    url = queue()
    expect_error("InvalidAttributeValue", sqs.set_queue_attributes,
                 QueueUrl=url, Attributes={attr: bad})
    if attr in DEFAULTS:
        assert queue_attrs(sqs, url, attr)[attr] == DEFAULTS[attr]


def test_set_queue_attributes_unknown_name(sqs, queue):
    url = queue()
    expect_error("InvalidAttributeName", sqs.set_queue_attributes,
                 QueueUrl=url, Attributes={"Colour": "blue"})


def test_policy_attribute_round_trip_and_removal(sqs, queue):
    url = queue()
    arn = queue_attrs(sqs, url, "QueueArn")["QueueArn"]
    policy = {"Version": "2012-10-17", "Id": "p1", "Statement": [{
        "Sid": "AllowSend", "Effect": "Allow", "Principal": "*",
        "Action": "sqs:SendMessage", "Resource": arn}]}
    sqs.set_queue_attributes(QueueUrl=url,
                             Attributes={"Policy": json.dumps(policy)})
    got = json.loads(queue_attrs(sqs, url, "Policy")["Policy"])
    assert got == policy
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in queue_attrs(sqs, url, "All")


def test_policy_attribute_must_be_json(sqs, queue):
    url = queue()
    expect_error("InvalidAttributeValue", sqs.set_queue_attributes,
                 QueueUrl=url, Attributes={"Policy": "{not json"})


def test_redrive_policy_round_trip(sqs, queue):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    src = queue()
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})})
    rp = json.loads(queue_attrs(sqs, src, "RedrivePolicy")["RedrivePolicy"])
    assert rp["deadLetterTargetArn"] == dlq_arn
    assert int(rp["maxReceiveCount"]) == 5
    # An empty value removes the policy.
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in queue_attrs(sqs, src, "All")


def test_redrive_policy_in_create_queue(sqs, queue):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    src = queue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})})
    rp = json.loads(queue_attrs(sqs, src, "RedrivePolicy")["RedrivePolicy"])
    assert rp["deadLetterTargetArn"] == dlq_arn
    assert int(rp["maxReceiveCount"]) == 3


@pytest.mark.parametrize("policy", [
    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:no-such-dlq-q",
     "maxReceiveCount": 3},
    {"maxReceiveCount": 3},
    "dlq-arn-with-count-0",
    "dlq-arn-with-count-1001",
    "not json",
])
def test_redrive_policy_invalid(sqs, queue, policy):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    if policy == "dlq-arn-with-count-0":
        policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 0}
    elif policy == "dlq-arn-with-count-1001":
        policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1001}
    value = policy if isinstance(policy, str) else json.dumps(policy)
    src = queue()
    with pytest.raises(Exception) as ei:
        sqs.set_queue_attributes(QueueUrl=src,
                                 Attributes={"RedrivePolicy": value})
    err = ei.value.response["Error"]["Code"]
    assert err in ("InvalidParameterValue", "InvalidAttributeValue"), err
    assert "RedrivePolicy" not in queue_attrs(sqs, src, "All")


def test_redrive_allow_policy_round_trip(sqs, queue):
    src = queue()
    src_arn = queue_attrs(sqs, src, "QueueArn")["QueueArn"]
    dlq = queue(suffix="-dlq")
    for policy in ({"redrivePermission": "denyAll"},
                   {"redrivePermission": "allowAll"},
                   {"redrivePermission": "byQueue",
                    "sourceQueueArns": [src_arn]}):
        sqs.set_queue_attributes(QueueUrl=dlq, Attributes={
            "RedriveAllowPolicy": json.dumps(policy)})
        got = json.loads(queue_attrs(sqs, dlq, "RedriveAllowPolicy")
                         ["RedriveAllowPolicy"])
        assert got == policy


def test_redrive_allow_policy_is_enforced(sqs, queue, qname):
    dlq = queue(suffix="-dlq", attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "denyAll"})})
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    src = queue(suffix="-src")
    src_arn = queue_attrs(sqs, src, "QueueArn")["QueueArn"]
    expect_error("InvalidParameterValue", sqs.set_queue_attributes,
                 QueueUrl=src, Attributes={"RedrivePolicy": policy})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={
        "RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue",
                                          "sourceQueueArns": [src_arn]})})
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy})
    other = queue(suffix="-other")
    expect_error("InvalidParameterValue", sqs.set_queue_attributes,
                 QueueUrl=other, Attributes={"RedrivePolicy": policy})


def test_redrive_allow_policy_invalid_permission(sqs, queue):
    dlq = queue()
    with pytest.raises(Exception) as ei:
        sqs.set_queue_attributes(QueueUrl=dlq, Attributes={
            "RedriveAllowPolicy": json.dumps({"redrivePermission": "sometimes"})})
    assert ei.value.response["Error"]["Code"] in (
        "InvalidParameterValue", "InvalidAttributeValue")


def test_kms_attributes_round_trip(sqs, queue):
    url = queue()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "KmsMasterKeyId": "alias/aws/sqs",
        "KmsDataKeyReusePeriodSeconds": "600"})
    attrs = queue_attrs(sqs, url)
    assert attrs["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attrs["KmsDataKeyReusePeriodSeconds"] == "600"


@pytest.mark.parametrize("bad", ["59", "86401"])
def test_kms_data_key_reuse_period_bounds(sqs, queue, bad):
    url = queue()
    expect_error("InvalidAttributeValue", sqs.set_queue_attributes,
                 QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": bad})


def test_sqs_managed_sse_round_trip(sqs, queue):
    url = queue(attributes={"SqsManagedSseEnabled": "false"})
    assert queue_attrs(sqs, url, "SqsManagedSseEnabled") == {
        "SqsManagedSseEnabled": "false"}
    sqs.set_queue_attributes(QueueUrl=url,
                             Attributes={"SqsManagedSseEnabled": "true"})
    assert queue_attrs(sqs, url, "SqsManagedSseEnabled") == {
        "SqsManagedSseEnabled": "true"}


def test_approximate_counters_are_live(sqs, queue):
    url = queue()
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody="visible-%d" % i)
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=60)

    def counts():
        a = queue_attrs(sqs, url, "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                        "ApproximateNumberOfMessagesDelayed")
        return (int(a["ApproximateNumberOfMessages"]),
                int(a["ApproximateNumberOfMessagesNotVisible"]),
                int(a["ApproximateNumberOfMessagesDelayed"]))
    assert counts() == (3, 0, 1)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2,
                              VisibilityTimeout=60)["Messages"]
    assert len(got) == 2
    assert counts() == (1, 2, 1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert counts() == (1, 1, 1)
    sqs.change_message_visibility(QueueUrl=url,
                                  ReceiptHandle=got[1]["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert counts() == (2, 0, 1)


# ------------------------------------------------------------ tags

def test_tag_untag_list(sqs, queue):
    url = queue()
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}
    sqs.tag_queue(QueueUrl=url, Tags={"a": "1", "b": "2"})
    sqs.tag_queue(QueueUrl=url, Tags={"b": "3", "c": "x"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {
        "a": "1", "b": "3", "c": "x"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["a", "not-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "3", "c": "x"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["b", "c"])
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_tags_on_unknown_queue(sqs, endpoint, qname):
    url = "%s/%s/%s" % (endpoint, ACCOUNT, qname())
    expect_error(NONEXISTENT, sqs.list_queue_tags, QueueUrl=url)
    expect_error(NONEXISTENT, sqs.tag_queue, QueueUrl=url, Tags={"a": "1"})
    expect_error(NONEXISTENT, sqs.untag_queue, QueueUrl=url, TagKeys=["a"])


# ------------------------------------------------------------ permissions

def _statements(sqs, url):
    attrs = queue_attrs(sqs, url, "Policy")
    if "Policy" not in attrs:
        return []
    return json.loads(attrs["Policy"]).get("Statement", [])


def test_add_remove_permission_reflected_in_policy(sqs, queue):
    url = queue()
    arn = queue_attrs(sqs, url, "QueueArn")["QueueArn"]
    sqs.add_permission(QueueUrl=url, Label="send-from-partner",
                       AWSAccountIds=["111122223333"],
                       Actions=["SendMessage"])
    sqs.add_permission(QueueUrl=url, Label="consume",
                       AWSAccountIds=["111122223333", "444455556666"],
                       Actions=["ReceiveMessage", "DeleteMessage"])
    stmts = {s["Sid"]: s for s in _statements(sqs, url)}
    assert set(stmts) == {"send-from-partner", "consume"}
    s = stmts["send-from-partner"]
    assert s["Effect"] == "Allow"
    assert s["Resource"] == arn
    actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
    assert [a.lower() for a in actions] == ["sqs:sendmessage"]
    assert "111122223333" in json.dumps(s["Principal"])
    c = stmts["consume"]
    actions = c["Action"] if isinstance(c["Action"], list) else [c["Action"]]
    assert sorted(a.lower() for a in actions) == [
        "sqs:deletemessage", "sqs:receivemessage"]
    assert "444455556666" in json.dumps(c["Principal"])

    sqs.remove_permission(QueueUrl=url, Label="send-from-partner")
    assert [s["Sid"] for s in _statements(sqs, url)] == ["consume"]
    sqs.remove_permission(QueueUrl=url, Label="consume")
    assert _statements(sqs, url) == []


def test_add_permission_duplicate_label(sqs, queue):
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["111122223333"],
                       Actions=["SendMessage"])
    expect_error("InvalidParameterValue", sqs.add_permission, QueueUrl=url,
                 Label="dup", AWSAccountIds=["111122223333"],
                 Actions=["ReceiveMessage"])


def test_remove_permission_unknown_label(sqs, queue):
    url = queue()
    expect_error("InvalidParameterValue", sqs.remove_permission,
                 QueueUrl=url, Label="never-added")


# ------------------------------------------------------ dead-letter sources

def test_list_dead_letter_source_queues(sqs, queue):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    a = queue(attributes={"RedrivePolicy": policy}, suffix="-a")
    b = queue(suffix="-b")
    sqs.set_queue_attributes(QueueUrl=b, Attributes={"RedrivePolicy": policy})
    queue(suffix="-unrelated")
    got = sqs.list_dead_letter_source_queues(QueueUrl=dlq)
    assert sorted(got["queueUrls"]) == sorted([a, b])
    page = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1)
    assert len(page["queueUrls"]) == 1 and page.get("NextToken")
    rest = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1,
                                              NextToken=page["NextToken"])
    assert sorted(page["queueUrls"] + rest["queueUrls"]) == sorted([a, b])
    assert "NextToken" not in rest


def test_dead_letter_sources_forget_deleted_queues(sqs, queue):
    dlq = queue(suffix="-dlq")
    dlq_arn = queue_attrs(sqs, dlq, "QueueArn")["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    a = queue(attributes={"RedrivePolicy": policy}, suffix="-a")
    b = queue(attributes={"RedrivePolicy": policy}, suffix="-b")
    sqs.delete_queue(QueueUrl=a)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [b]
    sqs.set_queue_attributes(QueueUrl=b, Attributes={"RedrivePolicy": ""})
    got = sqs.list_dead_letter_source_queues(QueueUrl=dlq)
    assert got.get("queueUrls", []) == []


def test_list_dead_letter_source_queues_none(sqs, queue):
    url = queue()
    got = sqs.list_dead_letter_source_queues(QueueUrl=url)
    assert got.get("queueUrls", []) == []


def test_list_dead_letter_source_queues_unknown_queue(sqs, endpoint, qname):
    expect_error(NONEXISTENT, sqs.list_dead_letter_source_queues,
                 QueueUrl="%s/%s/%s" % (endpoint, ACCOUNT, qname()))


# ------------------------------------------------- unknown queue everywhere

@pytest.mark.parametrize("action,args", [
    ("send_message", {"MessageBody": "x"}),
    ("send_message_batch", {"Entries": [{"Id": "a", "MessageBody": "x"}]}),
    ("receive_message", {}),
    ("receive_message", {"WaitTimeSeconds": 1}),
    ("delete_message", {"ReceiptHandle": "HANDLE"}),
    ("delete_message_batch", {"Entries": [{"Id": "a",
                                           "ReceiptHandle": "HANDLE"}]}),
    ("change_message_visibility", {"ReceiptHandle": "HANDLE",
                                   "VisibilityTimeout": 1}),
    ("change_message_visibility_batch", {"Entries": [{
        "Id": "a", "ReceiptHandle": "HANDLE", "VisibilityTimeout": 1}]}),
    ("purge_queue", {}),
    ("get_queue_attributes", {"AttributeNames": ["All"]}),
    ("set_queue_attributes", {"Attributes": {"DelaySeconds": "1"}}),
    ("add_permission", {"Label": "l", "AWSAccountIds": ["111122223333"],
                        "Actions": ["SendMessage"]}),
    ("remove_permission", {"Label": "l"}),
    ("delete_queue", {}),
])
def test_unknown_queue_for_every_action(sqs, endpoint, queue, qname,
                                        action, args):
    if "HANDLE" in repr(args):
        # A real receipt handle, from another queue.
        other = queue(suffix="-other")
        sqs.send_message(QueueUrl=other, MessageBody="h")
        handle = sqs.receive_message(QueueUrl=other)["Messages"][0][
            "ReceiptHandle"]
        args = json.loads(json.dumps(args).replace("HANDLE", handle))
    url = "%s/%s/%s" % (endpoint, ACCOUNT, qname("-missing"))
    expect_error(NONEXISTENT, getattr(sqs, action), QueueUrl=url, **args)
