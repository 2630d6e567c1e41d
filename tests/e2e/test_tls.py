"""TLS: every API over the TLS listener (boto3 verifying a certificate the
test makes), and SNS HTTP messages whose SigningCertURL is sluice's own
HTTPS URL, validated by the npm sns-validator package as a subscriber
would."""
import http.server
import json
import os
import shutil
import subprocess
import threading
import urllib.request

import boto3
import pytest

import e2e_util
from conftest import free_port

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VALIDATE = os.path.join(REPO, "tests", "e2e", "js", "tools", "validate-sns.mjs")


@pytest.fixture
def tls_server(tmp_path, server_with_args):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    port = free_port()
    srv = server_with_args(["--tls-port", str(port), "--tls-cert", str(cert),
                            "--tls-key", str(key)])
    return srv, "https://127.0.0.1:%d" % port, str(cert)


def client(service, endpoint, cert):
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=e2e_util.REGION,
        aws_access_key_id="x", aws_secret_access_key="y", verify=cert)


def test_apis_over_tls(tls_server):
    _, endpoint, cert = tls_server
    sqs = client("sqs", endpoint, cert)
    url = sqs.create_queue(QueueName="tls-q")["QueueUrl"]
    assert url.startswith("https://")
    sqs.send_message(QueueUrl=url, MessageBody="over tls")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "over tls"
    events = client("events", endpoint, cert)
    assert events.list_event_buses()["EventBuses"][0]["Name"] == "default"


def test_tls_needs_all_three_flags(tmp_path):
    p = subprocess.run([os.environ.get("SLUICE_BIN", os.path.join(REPO, "build/asan/sluice")),
                        "serve", "--port", str(free_port()), "--tls-port", "1",
                        "--data-dir", str(tmp_path / "d")], capture_output=True, text=True,
                       timeout=20)
    assert p.returncode == 2 and "--tls-cert" in p.stderr


def test_unreadable_tls_files_refused_before_anything_starts(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("not read before the key is found missing")
    data = tmp_path / "d"
    p = subprocess.run([os.environ.get("SLUICE_BIN", os.path.join(REPO, "build/asan/sluice")),
                        "serve", "--port", str(free_port()), "--tls-port", str(free_port()),
                        "--tls-cert", str(cert), "--tls-key", str(tmp_path / "nonexistent.pem"),
                        "--data-dir", str(data)], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "nonexistent.pem" in p.stderr
    assert not data.exists()   # refused before the data directory was made


class _Sink(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Sink.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_sns_validator_accepts_signed_messages(tls_server, tmp_path):
    if not os.path.isdir(os.path.join(REPO, "tests/e2e/js/node_modules/sns-validator")):
        pytest.skip("npm packages of tests/e2e/js are not installed")
    _, endpoint, cert = tls_server
    _Sink.received = []
    sink = http.server.HTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        sns = client("sns", endpoint, cert)
        for version in ("1", "2"):
            topic = sns.create_topic(Name="tls-topic-v" + version,
                                     Attributes={"SignatureVersion": version})["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="http",
                          Endpoint="http://127.0.0.1:%d/hook" % sink.server_port)
            e2e_util.wait_until(lambda: any(m.get("TopicArn") == topic
                                            for m in _Sink.received), what="confirmation")
            confirm = [m for m in _Sink.received if m.get("TopicArn") == topic][0]
            assert confirm["SigningCertURL"].startswith(endpoint)
            ctx = __import__("ssl").create_default_context(cafile=cert)
            urllib.request.urlopen(confirm["SubscribeURL"], context=ctx, timeout=10).read()
            sns.publish(TopicArn=topic, Message="hello v" + version, Subject="greeting")
            e2e_util.wait_until(lambda: sum(m.get("TopicArn") == topic
                                            for m in _Sink.received) >= 2,
                                what="notification")
    finally:
        sink.shutdown()
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(json.dumps(m) for m in _Sink.received))
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=cert, SNS_CERT_HOST=r"^127\.0\.0\.1:\d+$")
    p = subprocess.run(["node", VALIDATE, str(path)], capture_output=True, text=True,
                       env=env, timeout=60, cwd=os.path.join(REPO, "tests/e2e/js"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("valid ") == 4, p.stdout
