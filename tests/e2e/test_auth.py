"""Authentication and per-account isolation, end to end.

A server of this module's own runs with a credentials file the test writes:
two accounts (ALPHA, BETA) and a key of ALPHA's account restricted by an
allow list.  Clients are boto3 (SQS and SNS in the Query protocol,
EventBridge in JSON) signing with the right key, a wrong secret or an
unknown key; raw HTTP requests cover an unsigned request, an expired
X-Amz-Date and a presigned URL made by botocore's SigV4QueryAuth.  Startup
policy: without keys sluice refuses a non-loopback address.

Expectations follow AWS: InvalidClientTokenId / SignatureDoesNotMatch (403)
in the Query protocol, UnrecognizedClientException in JSON, "Signature
expired" for a stale date, AccessDenied for another account's queue.
"""

import datetime
import http.client
import json
import os
import subprocess
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from unittest import mock

import boto3
import botocore.auth
import botocore.config
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import e2e_util
from conftest import Server, free_port, server_binary

REGION = e2e_util.REGION
ALPHA = "111111111111"
BETA = "222222222222"
KEYS = {
    "alpha": ("AKIDALPHAE2E", "alpha/secret+E2E=1", ALPHA),
    "beta": ("AKIDBETAE2E", "beta-secret-e2e-2", BETA),
    "narrow": ("AKIDNARROWE2E", "narrow-secret-e2e-3", ALPHA),
}
NARROW_ALLOW = [
    {"actions": ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:ListQueues"],
     "resources": ["arn:aws:sqs:*:%s:allowed-*" % ALPHA]},
]
Q = "{%s}" % e2e_util.SQS_XMLNS


def write_credentials(path):
    entries = []
    for name, (key, secret, account) in KEYS.items():
        e = {"accessKeyId": key, "secretAccessKey": secret, "accountId": account}
        if name == "narrow":
            e["allow"] = NARROW_ALLOW
        entries.append(e)
    with open(path, "w") as f:
        json.dump(entries, f)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """A server that verifies signatures against the keys above."""
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    work = tmp_path_factory.mktemp("auth")
    creds = os.path.join(str(work), "credentials.json")
    write_credentials(creds)
    srv = Server(str(work))
    srv.extra_args = ["--credentials", creds]
    srv.start()
    yield srv
    srv.stop()
    srv.assert_clean()


def client(endpoint, service, key, secret):
    cfg = botocore.config.Config(
        region_name=REGION, retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5, read_timeout=30)
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, aws_access_key_id=key,
        aws_secret_access_key=secret, config=cfg)


def sqs_as(srv, who):
    key, secret, _ = KEYS[who]
    return client(srv.endpoint, "sqs", key, secret)


def unique(prefix="auth"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def error(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    return e2e_util.error_of(ei)


def signed_raw(srv, who, method, path, body=b"", headers=None, when=None,
               service="sqs"):
    """Signs a request with botocore's SigV4Auth at time `when` (default
    now) and sends it as is; returns (status, body text)."""
    key, secret, _ = KEYS[who]
    url = srv.endpoint + path
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    signer = botocore.auth.SigV4Auth(Credentials(key, secret), service, REGION)
    if when is None:
        signer.add_auth(req)
    else:
        with mock.patch("botocore.auth.datetime") as dt:
            dt.datetime.utcnow.return_value = when
            signer.add_auth(req)
    return send(req.prepare())


def send(prepared):
    parts = urllib.parse.urlsplit(prepared.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    target = parts.path + ("?" + parts.query if parts.query else "")
    conn.request(prepared.method, target, body=prepared.body,
                 headers=dict(prepared.headers))
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, text


def xml_error(text):
    root = ET.fromstring(text)
    err = root.find(Q + "Error")
    return err.find(Q + "Code").text, err.find(Q + "Message").text


# ------------------------------------------------------------ signatures

def test_right_key_works(keyed):
    sqs = sqs_as(keyed, "alpha")
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url.endswith("/%s/%s" % (ALPHA, name))
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                              AttributeNames=["SenderId"])
    assert got["Messages"][0]["Body"] == "hello"
    assert url in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    assert attrs["Attributes"]["QueueArn"] == "arn:aws:sqs:%s:%s:%s" % (
        REGION, ALPHA, name)


def test_wrong_secret(keyed):
    key, _, _ = KEYS["alpha"]
    sqs = client(keyed.endpoint, "sqs", key, "not-the-secret")
    code, status, msg = error(sqs.list_queues)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert "signature we calculated does not match" in msg
    sns = client(keyed.endpoint, "sns", key, "not-the-secret")
    code, status, _ = error(sns.list_topics)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    # EventBridge and Scheduler speak JSON without awsQueryCompatible: the
    # SDKs read __type, and no x-amzn-query-error may override it.
    events = client(keyed.endpoint, "events", key, "not-the-secret")
    code, status, _ = error(events.list_rules)
    assert (code, status) == ("InvalidSignatureException", 403)
    scheduler = client(keyed.endpoint, "scheduler", key, "not-the-secret")
    code, status, _ = error(scheduler.list_schedules)
    assert (code, status) == ("InvalidSignatureException", 403)


def test_unknown_key(keyed):
    sqs = client(keyed.endpoint, "sqs", "AKIDNOSUCHKEY", "whatever")
    code, status, msg = error(sqs.list_queues)
    assert (code, status) == ("InvalidClientTokenId", 403)
    assert msg == "The security token included in the request is invalid."
    # The JSON protocols name the same error UnrecognizedClientException
    # (SQS's JSON also sends the Query code in x-amzn-query-error, which
    # botocore prefers; EventBridge must not).
    events = client(keyed.endpoint, "events", "AKIDNOSUCHKEY", "whatever")
    code, status, msg = error(events.list_event_buses)
    assert code == "UnrecognizedClientException"
    assert status == 403
    assert msg == "The security token included in the request is invalid."
    conn = http.client.HTTPConnection("127.0.0.1", keyed.port, timeout=10)
    conn.request("POST", "/", body="{}", headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSEvents.ListEventBuses",
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDNOSUCHKEY/20260101/"
                         "us-east-1/events/aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=" + "0" * 64})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 403
    assert body["__type"].endswith("#UnrecognizedClientException")
    assert resp.getheader("x-amzn-query-error") is None


def test_events_json_with_right_key(keyed):
    key, secret, _ = KEYS["beta"]
    events = client(keyed.endpoint, "events", key, secret)
    buses = events.list_event_buses()["EventBuses"]
    assert any(b["Name"] == "default" for b in buses)


def test_unsigned_request(keyed):
    req = urllib.request.Request(keyed.endpoint + "/?Action=ListQueues")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(req, timeout=10)
    assert ei.value.code == 403
    code, msg = xml_error(ei.value.read().decode())
    assert code == "MissingAuthenticationToken"
    assert "missing Authentication Token" in msg
    # Unsigned POST with a form body, too.
    conn = http.client.HTTPConnection("127.0.0.1", keyed.port, timeout=10)
    conn.request("POST", "/", body="Action=CreateQueue&QueueName=" + unique(),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    assert resp.status == 403
    assert xml_error(resp.read().decode())[0] == "MissingAuthenticationToken"
    conn.close()


def test_expired_date(keyed):
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    body = b"Action=ListQueues&Version=2012-11-05"
    hdrs = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, text = signed_raw(keyed, "alpha", "POST", "/", body, hdrs, when=old)
    assert status == 403
    code, msg = xml_error(text)
    assert code == "SignatureDoesNotMatch"
    assert msg.startswith("Signature expired: ")
    assert "is now earlier than" in msg and "- 15 min.)" in msg
    # Ten minutes old is within the window.
    recent = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
    status, text = signed_raw(keyed, "alpha", "POST", "/", body, hdrs, when=recent)
    assert status == 200, text
    # Twenty minutes ahead is not.
    ahead = datetime.datetime.utcnow() + datetime.timedelta(minutes=20)
    status, text = signed_raw(keyed, "alpha", "POST", "/", body, hdrs, when=ahead)
    assert status == 403
    assert xml_error(text)[1].startswith("Signature not yet current")


def test_tampered_body(keyed):
    """A body changed after signing fails."""
    key, secret, _ = KEYS["alpha"]
    url = keyed.endpoint + "/"
    body = b"Action=ListQueues&QueueNamePrefix=a&Version=2012-11-05"
    req = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(Credentials(key, secret), "sqs", REGION).add_auth(req)
    prepared = req.prepare()
    prepared.body = b"Action=ListQueues&QueueNamePrefix=b&Version=2012-11-05"
    status, text = send(prepared)
    assert status == 403
    assert xml_error(text)[0] == "SignatureDoesNotMatch"


def test_presigned_get(keyed):
    sqs = sqs_as(keyed, "alpha")
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "7"})["QueueUrl"]
    key, secret, _ = KEYS["alpha"]

    def presign(secret_, expires=300, params="Action=GetQueueAttributes"
                "&AttributeName.1=DelaySeconds&Version=2012-11-05"):
        req = AWSRequest(method="GET", url="%s/%s/%s?%s" % (
            keyed.endpoint, ALPHA, name, params))
        botocore.auth.SigV4QueryAuth(Credentials(key, secret_), "sqs", REGION,
                                     expires=expires).add_auth(req)
        return req.prepare().url

    with urllib.request.urlopen(presign(secret), timeout=10) as r:
        root = ET.fromstring(r.read().decode())
    values = {a.find(Q + "Name").text: a.find(Q + "Value").text
              for a in root.iter(Q + "Attribute")}
    assert values == {"DelaySeconds": "7"}

    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(presign("wrong"), timeout=10)
    assert ei.value.code == 403
    assert xml_error(ei.value.read().decode())[0] == "SignatureDoesNotMatch"

    # A presigned URL whose expiry has passed.
    old = datetime.datetime.utcnow() - datetime.timedelta(seconds=120)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = old
        stale = presign(secret, expires=60)
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(stale, timeout=10)
    assert ei.value.code == 403
    code, msg = xml_error(ei.value.read().decode())
    assert code == "SignatureDoesNotMatch" and msg.startswith("Signature expired")

    # Changing a signed parameter breaks the URL.
    good = presign(secret)
    forged = good.replace("DelaySeconds", "Policy")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(forged, timeout=10)
    assert ei.value.code == 403


# ------------------------------------------------------------ accounts

def test_other_account_cannot_see_or_use_queue(keyed):
    alpha, beta = sqs_as(keyed, "alpha"), sqs_as(keyed, "beta")
    name = unique("private")
    url = alpha.create_queue(QueueName=name)["QueueUrl"]
    alpha.send_message(QueueUrl=url, MessageBody="secret")

    assert url not in beta.list_queues().get("QueueUrls", [])
    assert beta.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
    code, _, _ = error(beta.get_queue_url, QueueName=name)
    assert code == "AWS.SimpleQueueService.NonExistentQueue"
    code, _, _ = error(beta.get_queue_url, QueueName=name,
                       QueueOwnerAWSAccountId=ALPHA)
    assert code == "AWS.SimpleQueueService.NonExistentQueue"
    for call, kw in [(beta.receive_message, {}),
                     (beta.send_message, {"MessageBody": "x"}),
                     (beta.purge_queue, {}),
                     (beta.delete_queue, {}),
                     (beta.get_queue_attributes, {"AttributeNames": ["All"]}),
                     (beta.set_queue_attributes,
                      {"Attributes": {"Policy": json.dumps({"Statement": []})}})]:
        code, status, msg = error(call, QueueUrl=url, **kw)
        assert (code, status) == ("AccessDenied", 403), call
        assert "is denied" in msg
    # Same name in BETA's own account is a different queue.
    burl = beta.create_queue(QueueName=name)["QueueUrl"]
    assert burl != url and "/%s/" % BETA in burl
    assert alpha.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0][
        "Body"] == "secret"


def test_queue_policy_lets_other_account_send(keyed):
    alpha, beta = sqs_as(keyed, "alpha"), sqs_as(keyed, "beta")
    name = unique("shared")
    url = alpha.create_queue(QueueName=name)["QueueUrl"]
    arn = alpha.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "beta-sends", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::%s:root" % BETA},
        "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": arn}]}
    alpha.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})

    assert beta.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=ALPHA)[
        "QueueUrl"] == url
    beta.send_message(QueueUrl=url, MessageBody="from beta")
    code, status, _ = error(beta.receive_message, QueueUrl=url)
    assert (code, status) == ("AccessDenied", 403)
    msgs = alpha.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert [m["Body"] for m in msgs] == ["from beta"]

    # A Deny for BETA wins over the Allow.
    policy["Statement"].append({
        "Effect": "Deny", "Principal": {"AWS": BETA}, "Action": "sqs:SendMessage",
        "Resource": arn})
    alpha.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    code, _, _ = error(beta.send_message, QueueUrl=url, MessageBody="again")
    assert code == "AccessDenied"


def test_add_permission_grants_other_account(keyed):
    alpha, beta = sqs_as(keyed, "alpha"), sqs_as(keyed, "beta")
    url = alpha.create_queue(QueueName=unique("perm"))["QueueUrl"]
    error(beta.send_message, QueueUrl=url, MessageBody="no")
    alpha.add_permission(QueueUrl=url, Label="beta", AWSAccountIds=[BETA],
                         Actions=["SendMessage"])
    beta.send_message(QueueUrl=url, MessageBody="yes")
    alpha.remove_permission(QueueUrl=url, Label="beta")
    code, _, _ = error(beta.send_message, QueueUrl=url, MessageBody="no")
    assert code == "AccessDenied"


def test_allow_list_restricts_actions_and_resources(keyed):
    alpha, narrow = sqs_as(keyed, "alpha"), sqs_as(keyed, "narrow")
    allowed = alpha.create_queue(QueueName=unique("allowed"))["QueueUrl"]
    other = alpha.create_queue(QueueName=unique("other"))["QueueUrl"]

    narrow.send_message(QueueUrl=allowed, MessageBody="ok")
    code, status, _ = error(narrow.send_message, QueueUrl=other, MessageBody="no")
    assert (code, status) == ("AccessDenied", 403)
    # An action no entry names is refused before it reaches the queue.
    code, status, _ = error(narrow.receive_message, QueueUrl=allowed)
    assert (code, status) == ("AccessDenied", 403)
    code, _, _ = error(narrow.create_queue, QueueName="allowed-" + uuid.uuid4().hex[:6])
    assert code == "AccessDenied"
    listed = narrow.list_queues().get("QueueUrls", [])
    assert allowed in listed and other not in listed
    assert all("/allowed-" in u for u in listed)
    # The same account's unrestricted key sees both.
    listed = alpha.list_queues().get("QueueUrls", [])
    assert allowed in listed and other in listed


# ------------------------------------------------------------ startup policy

def run_serve(args, tmp_path, timeout=20):
    return subprocess.run(
        [server_binary(), "serve", "--data-dir", str(tmp_path / "data"),
         "--port", str(free_port())] + args,
        stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


def test_refuses_non_loopback_without_keys(tmp_path):
    if not os.access(server_binary(), os.X_OK):
        pytest.skip("server binary is not built")
    res = run_serve(["--host", "0.0.0.0"], tmp_path)
    assert res.returncode == 2
    err = res.stderr.decode()
    assert "--credentials" in err and "--insecure-accept-any-signature" in err
    res = run_serve(["--host", "0.0.0.0", "--credentials", str(tmp_path / "none.json")],
                    tmp_path)
    assert res.returncode == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"accessKeyId": "AK", "secretAccessKey": "s",
                                "accountId": "12"}]))
    res = run_serve(["--credentials", str(bad)], tmp_path)
    assert res.returncode == 2 and b"accountId" in res.stderr
    creds = tmp_path / "creds.json"
    write_credentials(str(creds))
    res = run_serve(["--credentials", str(creds), "--insecure-accept-any-signature"],
                    tmp_path)
    assert res.returncode == 2


def test_help_names_the_flags():
    if not os.access(server_binary(), os.X_OK):
        pytest.skip("server binary is not built")
    res = subprocess.run([server_binary(), "serve", "--help"], capture_output=True,
                         timeout=10)
    assert res.returncode == 0
    assert b"--credentials FILE" in res.stdout
    assert b"--insecure-accept-any-signature" in res.stdout


def test_loopback_without_keys_warns(server_with_args):
    srv = server_with_args([], "plain")
    assert "signatures are NOT verified" in srv.stderr_text()
    # Any signature is accepted there.
    sqs = client(srv.endpoint, "sqs", "anything", "at-all")
    assert "QueueUrl" in sqs.create_queue(QueueName=unique())


def test_all_interfaces_with_keys(server_with_args, tmp_path):
    creds = tmp_path / "creds.json"
    write_credentials(str(creds))
    srv = server_with_args(["--host", "0.0.0.0", "--credentials", str(creds)], "wide")
    # Connect through loopback only.
    assert srv.endpoint.startswith("http://127.0.0.1:")
    sqs = sqs_as(srv, "beta")
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    assert "/%s/" % BETA in url
    code, _, _ = error(client(srv.endpoint, "sqs", "AKIDNOSUCHKEY", "x").list_queues)
    assert code == "InvalidClientTokenId"


def test_other_account_cannot_publish_to_topic(keyed):
    """An SNS topic answers only its own account unless its Policy allows
    another one."""
    srv = keyed
    sns_a = client(srv.endpoint, "sns", *KEYS["alpha"][:2])
    sns_b = client(srv.endpoint, "sns", *KEYS["beta"][:2])
    arn = sns_a.create_topic(Name=unique("topic"))["TopicArn"]
    sns_a.publish(TopicArn=arn, Message="own account")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        sns_b.publish(TopicArn=arn, Message="other account")
    assert ei.value.response["Error"]["Code"] == "AuthorizationError"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        sns_b.get_topic_attributes(TopicArn=arn)
    assert ei.value.response["Error"]["Code"] == "AuthorizationError"
    # a topic of the other account that does not exist answers the same, so
    # that names cannot be probed; in one's own account it is NotFound
    for op in (sns_b.publish, sns_b.get_topic_attributes):
        kw = {"Message": "probe"} if op == sns_b.publish else {}
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            op(TopicArn=arn + "-missing", **kw)
        assert ei.value.response["Error"]["Code"] == "AuthorizationError"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        sns_a.publish(TopicArn=arn + "-missing", Message="probe")
    assert ei.value.response["Error"]["Code"] == "NotFound"
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": BETA}, "Action": "sns:Publish",
        "Resource": arn}]}
    sns_a.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                               AttributeValue=json.dumps(policy))
    sns_b.publish(TopicArn=arn, Message="allowed now")


def test_other_account_cannot_reach_event_bus(keyed):
    srv = keyed
    ev_a = client(srv.endpoint, "events", *KEYS["alpha"][:2])
    ev_b = client(srv.endpoint, "events", *KEYS["beta"][:2])
    name = unique("bus")
    bus_arn = ev_a.create_event_bus(Name=name)["EventBusArn"]
    r = ev_b.put_events(Entries=[{"Source": "x.y", "DetailType": "t", "Detail": "{}",
                                  "EventBusName": bus_arn}])
    assert r["FailedEntryCount"] == 1
    assert r["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        ev_b.describe_event_bus(Name=bus_arn)
    assert ei.value.response["Error"]["Code"] == "AccessDeniedException"
    # A bus of another account that does not exist is refused the same way.
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        ev_b.describe_event_bus(Name=bus_arn + "-none")
    assert ei.value.response["Error"]["Code"] == "AccessDeniedException"


# ------------------------------------------- SNS links followed without a key

def _sns_as(srv, who):
    key, secret, _ = KEYS[who]
    return client(srv.endpoint, "sns", key, secret)


def _subscribe_http(srv, sns, hook_url, hook_requests, cond):
    arn = sns.create_topic(Name=unique("links"))["TopicArn"]
    assert sns.subscribe(TopicArn=arn, Protocol="http",
                         Endpoint=hook_url)["SubscriptionArn"] == "pending confirmation"
    with cond:
        assert cond.wait_for(lambda: hook_requests, timeout=15), "no confirmation request"
        conf = json.loads(hook_requests.pop(0))
    return arn, conf


@pytest.fixture
def http_hook():
    """An HTTP endpoint that keeps the bodies SNS posts to it."""
    import http.server
    import threading
    bodies, cond = [], threading.Condition()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with cond:
                bodies.append(body.decode("utf-8"))
                cond.notify_all()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/hook" % httpd.server_address[1], bodies, cond
    httpd.shutdown()
    httpd.server_close()


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_subscribe_and_unsubscribe_urls_work_without_a_key(keyed, http_hook):
    """As on AWS, the endpoint's owner follows SubscribeURL and UnsubscribeURL
    with a plain GET; the rest of the API still needs a signature."""
    url, bodies, cond = http_hook
    sns = _sns_as(keyed, "alpha")
    arn, conf = _subscribe_http(keyed, sns, url, bodies, cond)
    status, text = _get(conf["SubscribeURL"])
    assert status == 200, text
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert len(subs) == 1 and subs[0]["SubscriptionArn"].startswith(arn + ":")
    sub_arn = subs[0]["SubscriptionArn"]

    sns.publish(TopicArn=arn, Message="hello")
    with cond:
        assert cond.wait_for(lambda: bodies, timeout=15)
        note = json.loads(bodies.pop(0))
    assert note["Type"] == "Notification"
    status, text = _get(note["UnsubscribeURL"])
    assert status == 200, text
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    assert sub_arn not in [s["SubscriptionArn"] for s in
                           sns.list_subscriptions()["Subscriptions"]]

    # Any other unsigned call is still refused.
    q = urllib.parse.urlencode({"Action": "ListTopics", "Version": "2010-03-31"})
    status, text = _get("%s/?%s" % (keyed.endpoint, q))
    assert status == 403 and "MissingAuthenticationToken" in text


def test_authenticate_on_unsubscribe_refuses_the_unsigned_link(keyed, http_hook):
    url, bodies, cond = http_hook
    sns = _sns_as(keyed, "alpha")
    arn, conf = _subscribe_http(keyed, sns, url, bodies, cond)
    sub_arn = sns.confirm_subscription(TopicArn=arn, Token=conf["Token"],
                                       AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
    q = urllib.parse.urlencode({"Action": "Unsubscribe", "SubscriptionArn": sub_arn})
    status, text = _get("%s/?%s" % (keyed.endpoint, q))
    assert status == 403 and "AuthorizationError" in text, text
    assert len(sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]) == 1
    # Signed by another account it is refused; signed by the owner it goes.
    assert error(_sns_as(keyed, "beta").unsubscribe,
                 SubscriptionArn=sub_arn)[0] == "AuthorizationError"
    sns.unsubscribe(SubscriptionArn=sub_arn)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
