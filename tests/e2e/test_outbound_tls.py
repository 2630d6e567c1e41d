"""Outbound HTTPS: deliveries verify the endpoint's certificate.

The test starts an HTTPS endpoint of its own with a self-signed
certificate made by openssl.  A server without --ca-file does not trust it:
the SNS subscription confirmation never arrives (each attempt is logged as
failed) and an API destination's event goes to its dead-letter queue.  A
server started with `--ca-file` naming that certificate delivers both, and
then the notifications published after the confirmation.  A --ca-file that
holds no certificate stops the start with status 2.
"""
import http.server
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.request
import uuid

import boto3
import pytest

import e2e_util
from conftest import free_port, server_binary


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append((self.path, dict(self.headers), body.decode()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class HttpsEndpoint:
    """An HTTPS server on 127.0.0.1 recording the POSTs it gets."""

    def __init__(self, cert, key):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        self.httpd.received = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def received(self):
        return self.httpd.received

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def endpoint(tmp_path):
    cert, key = tmp_path / "endpoint-cert.pem", tmp_path / "endpoint-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    ep = HttpsEndpoint(str(cert), str(key))
    ep.cert = str(cert)
    yield ep
    ep.close()


def client(srv, service):
    return boto3.session.Session().client(
        service, endpoint_url=srv.endpoint, region_name=e2e_util.REGION,
        aws_access_key_id="x", aws_secret_access_key="y")


def api_destination_rule(srv, url):
    """A rule on the default bus whose target is an API destination at url,
    not retried, with a dead-letter queue; returns (source, dlq url)."""
    ev, sqs = client(srv, "events"), client(srv, "sqs")
    tag = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName="tls-dlq-" + tag)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    conn = ev.create_connection(Name="c-" + tag, AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k"}})
    dest = ev.create_api_destination(Name="d-" + tag, ConnectionArn=conn["ConnectionArn"],
                                     InvocationEndpoint=url + "/events", HttpMethod="POST")
    source = "tls." + tag
    ev.put_rule(Name="r-" + tag, EventPattern=json.dumps({"source": [source]}))
    ev.put_targets(Rule="r-" + tag, Targets=[{
        "Id": "api", "Arn": dest["ApiDestinationArn"],
        "RetryPolicy": {"MaximumRetryAttempts": 0}, "DeadLetterConfig": {"Arn": dlq_arn}}])
    return source, dlq


def put_event(srv, source):
    r = client(srv, "events").put_events(Entries=[
        {"Source": source, "DetailType": "t", "Detail": json.dumps({"tls": True})}])
    assert r["FailedEntryCount"] == 0
    return r["Entries"][0]["EventId"]


def test_untrusted_certificate_fails_delivery(server_with_args, endpoint):
    srv = server_with_args([], "no-ca")
    sns = client(srv, "sns")
    topic = sns.create_topic(Name="tls-untrusted")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=endpoint.url + "/hook")
    source, dlq = api_destination_rule(srv, endpoint.url)
    event_id = put_event(srv, source)

    # The API destination's one attempt fails: its event is a dead letter.
    sqs = client(srv, "sqs")
    [m] = e2e_util.drain(sqs, dlq, expect=1, timeout=15).values()
    assert json.loads(m["Body"])["id"] == event_id
    assert m["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "SDK_CLIENT_ERROR"
    assert "certificate" in m["MessageAttributes"]["ERROR_MESSAGE"]["StringValue"].lower()
    # The confirmation's attempt failed on the certificate and nothing arrived.
    e2e_util.wait_until(lambda: "delivery attempt failed" in srv.stderr_text(), timeout=10,
                        what="a failed attempt in the log")
    line = [ln for ln in srv.stderr_text().splitlines() if "delivery attempt failed" in ln][0]
    assert "curl=60" in line and "type=SubscriptionConfirmation" in line
    time.sleep(0.5)
    assert endpoint.received == []
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subs[0]["SubscriptionArn"] == "PendingConfirmation"


def test_ca_file_makes_the_endpoint_trusted(server_with_args, endpoint):
    srv = server_with_args(["--ca-file", endpoint.cert], "with-ca")
    sns = client(srv, "sns")
    topic = sns.create_topic(Name="tls-trusted")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=endpoint.url + "/hook")
    [(path, headers, body)] = e2e_util.wait_until(
        lambda: [r for r in endpoint.received if r[0] == "/hook"], timeout=15,
        what="the subscription confirmation")
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    confirmation = json.loads(body)
    urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10).read()
    sns.publish(TopicArn=topic, Message="over verified TLS")
    notes = e2e_util.wait_until(
        lambda: [json.loads(b) for p, h, b in endpoint.received
                 if h.get("x-amz-sns-message-type") == "Notification"],
        timeout=15, what="the notification")
    assert notes[0]["Message"] == "over verified TLS"

    source, dlq = api_destination_rule(srv, endpoint.url)
    event_id = put_event(srv, source)
    got = e2e_util.wait_until(
        lambda: [json.loads(b) for p, h, b in endpoint.received if p == "/events"],
        timeout=15, what="the API destination's request")
    assert got[0]["id"] == event_id
    assert client(srv, "sqs").receive_message(QueueUrl=dlq).get("Messages", []) == []
    assert "delivery attempt failed" not in srv.stderr_text()


def test_ca_file_must_hold_certificates(tmp_path):
    if not os.access(server_binary(), os.X_OK):
        pytest.skip("server binary is not built")
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    for path, says in [(str(empty), "no PEM certificate"),
                       (str(tmp_path / "missing.pem"), "cannot read")]:
        p = subprocess.run([server_binary(), "serve", "--port", str(free_port()),
                            "--data-dir", str(tmp_path / "d"), "--ca-file", path],
                           capture_output=True, text=True, timeout=20)
        assert p.returncode == 2 and "--ca-file" in p.stderr and says in p.stderr, p.stderr
