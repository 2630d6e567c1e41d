"""Limits on what clients control (docs/security.md, "Limits"): open
connections per listener, the time a request may take to arrive, oversized
headers and bodies, parked long polls, in-flight messages, and per-account
counts of queues, topics, subscriptions, event buses, rules and schedules,
each refused with the error AWS gives for it.  The servers start with tiny
limits so that reaching them is cheap.
"""

import json
import os
import socket
import subprocess
import threading
import time
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
import pytest

import e2e_util
from conftest import Server, free_port

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JS_DIR = os.path.join(REPO, "tests", "e2e", "js")
AWS = "/usr/bin/aws"
ROLE = "arn:aws:iam::%s:role/limits-e2e" % e2e_util.ACCOUNT


def client(service, endpoint, key=e2e_util.DUMMY_KEY, secret=e2e_util.DUMMY_SECRET,
           verify=None):
    cfg = botocore.config.Config(
        region_name=e2e_util.REGION,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=20, read_timeout=40)
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, aws_access_key_id=key,
        aws_secret_access_key=secret, config=cfg, verify=verify)


def health(endpoint):
    with urllib.request.urlopen(endpoint + "/_sluice/health", timeout=10) as r:
        return json.load(r)


def refused(fn, *args, **kwargs):
    """(error code, HTTP status) of a call that must fail."""
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    code, status, _ = e2e_util.error_of(ei)
    return code, status


def cpu_seconds(pid):
    """User + system CPU time the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def closed_by_peer(sock, timeout):
    """Seconds until the server closed sock (EOF or reset), or None."""
    sock.settimeout(timeout)
    t0 = time.time()
    try:
        while sock.recv(4096):
            pass
    except socket.timeout:
        return None
    except OSError:
        pass
    return time.time() - t0


def in_thread(fn):
    """Runs fn in a thread; returns (thread, result dict with "value" or "error")."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except Exception as e:  # reported through out
            out["error"] = e
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, out


def aws_cli(endpoint, tmp_path, *args):
    """Runs /usr/bin/aws against endpoint; returns the CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": e2e_util.DUMMY_KEY,
                "AWS_SECRET_ACCESS_KEY": e2e_util.DUMMY_SECRET,
                "AWS_DEFAULT_REGION": e2e_util.REGION, "AWS_PAGER": "",
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
                "AWS_MAX_ATTEMPTS": "1", "HOME": str(tmp_path)})
    return subprocess.run([AWS, "--endpoint-url", endpoint, "--output", "json"] + list(args),
                          env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """One server with tiny limits on long polls, in-flight messages,
    topics, subscriptions, buses, rules and schedules."""
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    srv = Server(str(tmp_path_factory.mktemp("limits")))
    srv.extra_args = ["--max-long-polls", "2", "--max-inflight", "3",
                      "--max-inflight-fifo", "2", "--max-topics", "2",
                      "--max-subscriptions-per-topic", "2", "--max-event-buses", "1",
                      "--max-rules-per-bus", "2", "--max-schedules", "2"]
    srv.start()
    yield srv
    srv.stop()
    srv.assert_clean()


# ---------------------------------------------------------------- connections

@pytest.mark.timeout(60)
def test_connection_limit_makes_new_clients_wait(server_with_args):
    srv = server_with_args(["--max-connections", "3", "--request-timeout", "30"])
    idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
    sqs = client("sqs", srv.endpoint)

    # A fourth client waits in the backlog, and the server does not spin.
    before = cpu_seconds(srv.proc.pid)
    th, out = in_thread(sqs.list_queues)
    th.join(1.5)
    assert th.is_alive(), "a fourth connection was served past --max-connections 3"
    assert cpu_seconds(srv.proc.pid) - before < 0.5

    # One connection closing lets it in.
    idle.pop().close()
    th.join(15)
    assert not th.is_alive() and "error" not in out, out

    # Its keep-alive connection reaches the limit again: no second warning.
    for s in idle:
        s.close()
    e2e_util.wait_until(lambda: health(srv.endpoint)["connections"] <= 2,
                        what="connections closed")
    assert srv.stderr_text().count("connection limit reached") == 1


@pytest.mark.timeout(60)
def test_slow_client_does_not_hold_up_others_and_is_cut_off(server_with_args):
    srv = server_with_args(["--request-timeout", "3"])
    sqs = client("sqs", srv.endpoint)
    url = sqs.create_queue(QueueName="slow-client")["QueueUrl"]

    # One client sends a request a byte a second; another connects and
    # sends nothing.
    body = b"Action=ListQueues"
    request = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    slow = socket.create_connection(("127.0.0.1", srv.port))
    silent = socket.create_connection(("127.0.0.1", srv.port))
    connected = time.time()

    def dribble():
        for b in request:
            slow.sendall(bytes([b]))
            time.sleep(1)
    dribbler, dribbled = in_thread(dribble)

    # Everyone else is served at once meanwhile.
    for i in range(5):
        t0 = time.time()
        sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)
        got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
        assert got["Messages"]
        assert time.time() - t0 < 2.5, "a call took %.1f s" % (time.time() - t0)

    # Both connections are closed once the request deadline runs out.
    assert closed_by_peer(slow, 15) is not None
    assert closed_by_peer(silent, 15) is not None
    elapsed = time.time() - connected
    assert 2.5 <= elapsed < 12, elapsed
    dribbler.join(5)
    assert isinstance(dribbled.get("error"), OSError), dribbled
    assert "no whole request within 3 s" in srv.stderr_text()
    e2e_util.wait_until(lambda: health(srv.endpoint)["connections"] <= 2,
                        what="connections uncounted")
    assert sqs.list_queues()["QueueUrls"] == [url]


@pytest.mark.timeout(60)
def test_tls_listener_limits_its_own_connections(tmp_path, server_with_args):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    tls_port = free_port()
    srv = server_with_args(["--max-connections", "2", "--request-timeout", "6",
                            "--tls-port", str(tls_port), "--tls-cert", str(cert),
                            "--tls-key", str(key)])
    # Two connections that never start the TLS handshake fill the TLS
    # listener; the plain one still answers.
    idle = [socket.create_connection(("127.0.0.1", tls_port)) for _ in range(2)]
    e2e_util.wait_until(lambda: health(srv.endpoint)["connections"] == 3,
                        what="two TLS connections counted")

    sqs = client("sqs", "https://127.0.0.1:%d" % tls_port, verify=str(cert))
    th, out = in_thread(sqs.list_queues)
    th.join(1.5)
    assert th.is_alive(), "a third TLS connection was served past --max-connections 2"

    # The request deadline closes the silent ones, and the client gets in.
    th.join(20)
    assert not th.is_alive() and "error" not in out, out
    for s in idle:
        assert closed_by_peer(s, 5) is not None


@pytest.mark.timeout(60)
def test_running_out_of_descriptors_pauses_accepting(tmp_path):
    """With an open-file limit below the connection limit, accept() fails
    with EMFILE: the server pauses accepting instead of spinning, and serves
    again once descriptors are free."""
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    import resource
    from conftest import server_binary
    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    log = tmp_path / "stderr.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [server_binary(), "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            stdout=err, stderr=err, stdin=subprocess.DEVNULL,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
    try:
        e2e_util.wait_until(lambda: _healthy(endpoint), timeout=30, what="server up")
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(90)]
        before = cpu_seconds(proc.pid)
        time.sleep(2)
        assert cpu_seconds(proc.pid) - before < 0.5
        for s in socks:
            s.close()
        e2e_util.wait_until(lambda: _healthy(endpoint), timeout=15, what="serving again")
        text = log.read_text()
        assert "near the open-file limit=64" in text
        assert "accept failed, pausing" in text and "Too many open files" in text
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert mark not in log.read_text()


def _healthy(endpoint):
    try:
        return health(endpoint)["status"] == "ok"
    except OSError:
        return False


def test_oversized_headers_and_bodies_are_refused(server):
    def exchange(data):
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
            try:
                s.sendall(data)
            except OSError:
                pass  # the server may answer and close before reading it all
            reply = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
            except OSError:
                pass
            return reply

    # Headers over 64 KiB.
    reply = exchange(b"POST / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (70 << 10) +
                     b"\r\nContent-Length: 0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400"), reply[:100]
    # A body announced far over the limit is refused before it is sent.
    reply = exchange(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    # A body over 10 MiB that is sent: AWS's error, in the Query protocol.
    body = b"Action=ListQueues&Filler=" + b"a" * (11 << 20)
    reply = exchange(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/x-www-form-urlencoded\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    assert b"<Code>RequestEntityTooLarge</Code>" in reply

    # The server is unharmed.
    assert health(server.endpoint)["status"] == "ok"
    sqs = client("sqs", server.endpoint)
    assert "QueueUrl" in sqs.create_queue(QueueName="after-oversized")


# ---------------------------------------------------------------- SQS

@pytest.mark.timeout(60)
def test_long_polls_over_the_limit_are_throttled(limited):
    sqs = client("sqs", limited.endpoint)
    url = sqs.create_queue(QueueName="long-polls")["QueueUrl"]
    parked = [in_thread(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10))
              for _ in range(2)]
    e2e_util.wait_until(lambda: health(limited.endpoint)["outstanding"] >= 2,
                        what="two long polls parked")

    # A third wait: RequestThrottled in the Query protocol ...
    assert refused(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=5) == \
        ("RequestThrottled", 403)
    # ... in AWS JSON 1.0 ...
    status, headers, body = e2e_util.json_post(
        limited.endpoint, "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 5})
    assert status == 403
    assert json.loads(body)["__type"] == "com.amazonaws.sqs#RequestThrottled"
    assert headers["x-amzn-query-error"] == "RequestThrottled;Sender"
    # ... and as the JavaScript SDK sees it: an error its retry strategy
    # treats as throttling (it backs off before trying again).
    p = subprocess.run(["node", os.path.join(JS_DIR, "tools", "sqs-receive.mjs"),
                        limited.endpoint, url, "5"], cwd=JS_DIR, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    seen = json.loads(p.stdout)
    assert seen["error"] == "RequestThrottled" and seen["status"] == 403, seen
    assert seen["throttling"] in (True, None), seen

    # A short poll does not wait, so it is answered.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)

    # A message ends one wait; then a new long poll is accepted again.
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    sqs.send_message(QueueUrl=url, MessageBody="wake too")
    for th, out in parked:
        th.join(15)
        assert not th.is_alive() and "error" not in out, out
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["ResponseMetadata"]


def test_inflight_limit(limited):
    sqs = client("sqs", limited.endpoint)
    url = sqs.create_queue(QueueName="inflight")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": "m%d" % i} for i in range(5)])

    # --max-inflight 3: a receive takes what fits.
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
    assert len(got["Messages"]) == 3
    # At the limit a short poll is OverLimit; a long poll waits and answers empty.
    assert refused(sqs.receive_message, QueueUrl=url) == ("OverLimit", 403)
    t0 = time.time()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert time.time() - t0 >= 0.9
    # A delete makes room for one more.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
    more = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
    assert len(more["Messages"]) == 1
    attrs = e2e_util.queue_attrs(sqs, url, "ApproximateNumberOfMessagesNotVisible",
                                 "ApproximateNumberOfMessages")
    assert attrs == {"ApproximateNumberOfMessagesNotVisible": "3",
                     "ApproximateNumberOfMessages": "1"}

    # --max-inflight-fifo 2: a FIFO queue answers empty at its limit.
    furl = sqs.create_queue(QueueName="inflight.fifo",
                            Attributes={"FifoQueue": "true"})["QueueUrl"]
    for i in range(4):
        sqs.send_message(QueueUrl=furl, MessageBody="f%d" % i, MessageGroupId="g%d" % i,
                         MessageDeduplicationId="d%d" % i)
    got = sqs.receive_message(QueueUrl=furl, MaxNumberOfMessages=10, VisibilityTimeout=60)
    assert len(got["Messages"]) == 2
    assert "Messages" not in sqs.receive_message(QueueUrl=furl, MaxNumberOfMessages=10)


@pytest.mark.timeout(90)
def test_queue_limit_is_per_account_and_survives_restart(tmp_path, server_with_args):
    keys = {"a": ("AKIALIMITSACCOUNTA01", "secret-a", "111111111111"),
            "b": ("AKIALIMITSACCOUNTB01", "secret-b", "222222222222")}
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps([{"accessKeyId": k, "secretAccessKey": s, "accountId": a}
                                 for k, s, a in keys.values()]))
    srv = server_with_args(["--max-queues", "2", "--credentials", str(creds)])
    a = client("sqs", srv.endpoint, *keys["a"][:2])
    b = client("sqs", srv.endpoint, *keys["b"][:2])

    q1 = a.create_queue(QueueName="q1")["QueueUrl"]
    a.create_queue(QueueName="q2")
    assert a.create_queue(QueueName="q1")["QueueUrl"] == q1  # existing: not a new one
    assert refused(a.create_queue, QueueName="q3") == ("OverLimit", 403)
    b.create_queue(QueueName="q1")  # another account counts its own

    # The counts are rebuilt from storage at start.
    srv.restart()
    assert refused(a.create_queue, QueueName="q3") == ("OverLimit", 403)
    a.delete_queue(QueueUrl=q1)
    assert a.create_queue(QueueName="q3")["QueueUrl"].endswith("/111111111111/q3")


# ---------------------------------------------------------------- SNS

def test_topic_and_subscription_limits(limited, tmp_path):
    sns = client("sns", limited.endpoint)
    sqs = client("sqs", limited.endpoint)
    t1 = sns.create_topic(Name="limit-t1")["TopicArn"]
    t2 = sns.create_topic(Name="limit-t2")["TopicArn"]
    assert sns.create_topic(Name="limit-t1")["TopicArn"] == t1
    assert refused(sns.create_topic, Name="limit-t3") == ("TopicLimitExceeded", 403)
    p = aws_cli(limited.endpoint, tmp_path, "sns", "create-topic", "--name", "limit-cli")
    assert p.returncode != 0 and "TopicLimitExceeded" in p.stderr, p.stderr

    arns = []
    for i in range(3):
        url = sqs.create_queue(QueueName="limit-sub-%d" % i)["QueueUrl"]
        arns.append(sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    s0 = sns.subscribe(TopicArn=t1, Protocol="sqs", Endpoint=arns[0],
                       ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.subscribe(TopicArn=t1, Protocol="sqs", Endpoint=arns[1])
    assert refused(sns.subscribe, TopicArn=t1, Protocol="sqs", Endpoint=arns[2]) == \
        ("SubscriptionLimitExceeded", 403)
    # The same endpoint again is the existing subscription, not a new one.
    assert sns.subscribe(TopicArn=t1, Protocol="sqs", Endpoint=arns[0],
                         ReturnSubscriptionArn=True)["SubscriptionArn"] == s0
    sns.unsubscribe(SubscriptionArn=s0)
    sns.subscribe(TopicArn=t1, Protocol="sqs", Endpoint=arns[2])

    sns.delete_topic(TopicArn=t2)
    t3 = sns.create_topic(Name="limit-t3")["TopicArn"]
    for arn in (t1, t3):
        sns.delete_topic(TopicArn=arn)


# ---------------------------------------------------------------- EventBridge, Scheduler

def test_event_bus_and_rule_limits(limited, tmp_path):
    events = client("events", limited.endpoint)
    events.create_event_bus(Name="limit-bus")
    assert refused(events.create_event_bus, Name="limit-bus-2") == \
        ("LimitExceededException", 400)

    pattern = json.dumps({"source": ["limits.test"]})
    for bus in ("default", "limit-bus"):  # each bus counts its own rules
        events.put_rule(Name="r1", EventBusName=bus, EventPattern=pattern)
        events.put_rule(Name="r2", EventBusName=bus, EventPattern=pattern)
        assert refused(events.put_rule, Name="r3", EventBusName=bus,
                       EventPattern=pattern) == ("LimitExceededException", 400)
        # Changing an existing rule is not a new one.
        events.put_rule(Name="r1", EventBusName=bus, EventPattern=pattern, State="DISABLED")
    p = aws_cli(limited.endpoint, tmp_path, "events", "put-rule", "--name", "r-cli",
                "--schedule-expression", "rate(5 minutes)")
    assert p.returncode != 0 and "LimitExceededException" in p.stderr, p.stderr

    events.delete_rule(Name="r2")
    events.put_rule(Name="r3", EventPattern=pattern)
    for name in ("r1", "r2"):
        events.delete_rule(Name=name, EventBusName="limit-bus")
    events.delete_event_bus(Name="limit-bus")
    events.create_event_bus(Name="limit-bus-2")


def test_schedule_limit(limited, tmp_path):
    sched = client("scheduler", limited.endpoint)
    sqs = client("sqs", limited.endpoint)
    url = sqs.create_queue(QueueName="limit-schedules")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    kw = {"ScheduleExpression": "rate(1 day)", "FlexibleTimeWindow": {"Mode": "OFF"},
          "Target": {"Arn": arn, "RoleArn": ROLE}}
    sched.create_schedule(Name="s1", **kw)
    sched.create_schedule(Name="s2", **kw)
    assert refused(sched.create_schedule, Name="s3", **kw) == \
        ("ServiceQuotaExceededException", 402)
    p = aws_cli(limited.endpoint, tmp_path, "scheduler", "create-schedule", "--name", "s-cli",
                "--schedule-expression", "rate(1 day)", "--flexible-time-window",
                "Mode=OFF", "--target", json.dumps({"Arn": arn, "RoleArn": ROLE}))
    assert p.returncode != 0 and "ServiceQuotaExceededException" in p.stderr, p.stderr
    sched.delete_schedule(Name="s1")
    sched.create_schedule(Name="s3", **kw)
