"""Robustness under real-world client behaviour: concurrent clients on the
same queues, clients that vanish during a long poll, HTTP/1.1 features
(chunked bodies, Expect: 100-continue, keep-alive), and a server with more
queues than one ListQueues page. Under the ASan build these also serve as
race and lifetime checks: a sanitizer report fails the test run.

All traffic goes to the loopback server; every loop is bounded.
"""

import http.client
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from e2e_util import (
    ACCOUNT, json_post, md5_hex, query_post, sigv4_header, sqs_client)


def _form(params):
    return urllib.parse.urlencode(params).encode()


# ------------------------------------------------------------ concurrency

@pytest.mark.slow
@pytest.mark.timeout(90)
def test_concurrent_producers_and_consumers(endpoint, qname):
    """Six producers and four consumers share three queues; every message
    sent is received and deleted, nothing unknown shows up, no call fails."""
    admin = sqs_client(endpoint)
    urls = [admin.create_queue(QueueName=qname("-%d" % i),
                               Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
            for i in range(3)]
    per_producer = 60
    sent, deleted, errors = set(), set(), []
    lock = threading.Lock()
    done_producing = threading.Event()

    def producer(n):
        c = sqs_client(endpoint)
        try:
            for i in range(per_producer):
                url = urls[(n + i) % 3]
                body = "p%d-%d" % (n, i)
                if i % 10 == 0:
                    r = c.send_message_batch(QueueUrl=url, Entries=[
                        {"Id": "b%d" % k, "MessageBody": "%s-b%d" % (body, k)}
                        for k in range(5)])
                    assert not r.get("Failed"), r
                    with lock:
                        sent.update(e["MessageId"] for e in r["Successful"])
                else:
                    r = c.send_message(QueueUrl=url, MessageBody=body)
                    assert r["MD5OfMessageBody"] == md5_hex(body)
                    with lock:
                        sent.add(r["MessageId"])
        except Exception as e:
            errors.append(e)

    def consumer(n):
        c = sqs_client(endpoint)
        idle = 0
        try:
            while idle < 2:
                got_any = False
                for k, url in enumerate(urls):
                    wait = 1 if (n % 2 and k == n % 3) else 0
                    r = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                          WaitTimeSeconds=wait)
                    msgs = r.get("Messages", [])
                    if not msgs:
                        continue
                    got_any = True
                    if n == 0:
                        for m in msgs:
                            c.delete_message(QueueUrl=url,
                                             ReceiptHandle=m["ReceiptHandle"])
                    else:
                        d = c.delete_message_batch(QueueUrl=url, Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(msgs)])
                        assert not d.get("Failed"), d
                    with lock:
                        deleted.update(m["MessageId"] for m in msgs)
                if not got_any and done_producing.is_set():
                    idle += 1
        except Exception as e:
            errors.append(e)

    producers = [threading.Thread(target=producer, args=(n,)) for n in range(6)]
    consumers = [threading.Thread(target=consumer, args=(n,)) for n in range(4)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join(60)
    done_producing.set()
    for t in consumers:
        t.join(60)
    assert not errors, errors[:3]
    assert len(sent) == 6 * (per_producer - per_producer // 10) + \
        6 * (per_producer // 10) * 5
    assert deleted == sent
    for url in urls:
        a = admin.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible"]).get("Attributes", {})
        assert set(a.values()) <= {"0"}, a


# ------------------------------------------------------------ vanishing clients

def test_client_disconnecting_during_long_poll(endpoint, sqs, qname):
    """A long poll whose client hangs up must not take a message with it
    for good, nor upset the server."""
    url = sqs.create_queue(QueueName=qname(),
                           Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    host, port = "127.0.0.1", int(endpoint.rsplit(":", 1)[1])
    socks = []
    for _ in range(3):
        body = _form({"Action": "ReceiveMessage", "QueueUrl": url,
                      "WaitTimeSeconds": "10"})
        s = socket.create_connection((host, port))
        s.sendall(b"POST / HTTP/1.1\r\nHost: %s:%d\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: %d\r\n\r\n%s"
                  % (host.encode(), port, len(body), body))
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        s.close()
    time.sleep(0.3)
    sqs.send_message(QueueUrl=url, MessageBody="not lost")
    deadline = time.time() + 8
    got = []
    while not got and time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get(
            "Messages", [])
    assert [m["Body"] for m in got] == ["not lost"]


def test_half_sent_request(endpoint, sqs):
    """A client that sends part of a request and goes away."""
    host, port = "127.0.0.1", int(endpoint.rsplit(":", 1)[1])
    for partial in (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAct",
                    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"):
        s = socket.create_connection((host, port))
        s.sendall(partial)
        s.close()
    assert "ResponseMetadata" in sqs.list_queues(MaxResults=1)


# ------------------------------------------------------------ HTTP/1.1

def test_chunked_request_body(endpoint, qname):
    host, port = "127.0.0.1", int(endpoint.rsplit(":", 1)[1])
    name = qname()
    body = _form({"Action": "CreateQueue", "QueueName": name})
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.putrequest("POST", "/")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("Authorization", sigv4_header())
    conn.endheaders()
    half = len(body) // 2
    for chunk in (body[:half], body[half:]):
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    conn.send(b"0\r\n\r\n")
    r = conn.getresponse()
    data = r.read()
    conn.close()
    assert r.status == 200, data
    assert ("/%s/%s" % (ACCOUNT, name)).encode() in data


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_expect_100_continue_with_curl(endpoint, sqs, qname, tmp_path):
    """curl sends Expect: 100-continue for large bodies (so do several SDKs)."""
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    body = "c" * 200000
    form = tmp_path / "form"
    form.write_bytes(_form({"Action": "SendMessage", "QueueUrl": url,
                            "MessageBody": body}))
    p = subprocess.run(["curl", "-sS", "-v", "-o", "/dev/null",
                        "-w", "%{http_code}", "-H", "Expect: 100-continue",
                        "--data-binary", "@" + str(form), endpoint + "/"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "200", p.stdout
    assert "< HTTP/1.1 100 Continue" in p.stderr, \
        "no 100 Continue before the body:\n" + p.stderr[-2000:]
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert m["Body"] == body


def test_keep_alive_many_requests_one_connection(endpoint, qname, sqs):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    host, port = "127.0.0.1", int(endpoint.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection(host, port, timeout=10)
    for i in range(50):
        conn.request("POST", "/", _form({"Action": "SendMessage",
                                         "QueueUrl": url,
                                         "MessageBody": "ka-%d" % i}),
                     {"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200
    conn.close()
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]
    assert a["ApproximateNumberOfMessages"] == "50"


def test_request_id_header(endpoint):
    for status, headers, _ in (
            query_post(endpoint, {"Action": "ListQueues"}),
            query_post(endpoint, {"Action": "NoSuchAction"}),
            json_post(endpoint, "ListQueues", {}),
            json_post(endpoint, "GetQueueUrl", {"QueueName": "nope-rid"})):
        assert headers.get("x-amzn-requestid"), (status, headers)


def test_batch_where_every_entry_fails(sqs_novalidate, sqs, qname):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    r = sqs_novalidate.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "x", "DelaySeconds": 901},
        {"Id": "b", "MessageBody": "y", "DelaySeconds": 1000}])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("Successful", []) == []
    assert sorted(f["Id"] for f in r["Failed"]) == ["a", "b"]


# ------------------------------------------------------------ many queues

@pytest.mark.slow
@pytest.mark.timeout(120)
def test_list_queues_caps_at_1000(fresh_server):
    c = sqs_client(fresh_server.endpoint)
    n = 1003

    def make(start):
        cc = sqs_client(fresh_server.endpoint)
        for i in range(start, n, 4):
            cc.create_queue(QueueName="many-%04d" % i)
    threads = [threading.Thread(target=make, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    first = c.list_queues()
    assert len(first["QueueUrls"]) == 1000
    assert "NextToken" not in first
    seen, token = [], None
    while True:
        args = {"MaxResults": 1000}
        if token:
            args["NextToken"] = token
        page = c.list_queues(**args)
        seen += page["QueueUrls"]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == n and len(set(seen)) == n
    # many-1000, many-1001, many-1002
    assert len(c.list_queues(QueueNamePrefix="many-100")["QueueUrls"]) == 3


@pytest.mark.timeout(60)
def test_many_parked_long_polls_share_messages(endpoint, qname):
    """Thirty parked long polls on three queues; thirty messages arrive;
    each message goes to exactly one poller, promptly."""
    admin = sqs_client(endpoint)
    urls = [admin.create_queue(QueueName=qname("-%d" % i))["QueueUrl"]
            for i in range(3)]
    results, errors = [], []
    lock = threading.Lock()

    def poll(i):
        try:
            r = sqs_client(endpoint).receive_message(
                QueueUrl=urls[i % 3], WaitTimeSeconds=10,
                MaxNumberOfMessages=1, VisibilityTimeout=60)
            with lock:
                results.extend(m["MessageId"] for m in r.get("Messages", []))
        except Exception as e:
            errors.append(e)
    pollers = [threading.Thread(target=poll, args=(i,)) for i in range(30)]
    for t in pollers:
        t.start()
    time.sleep(1)
    t0 = time.time()
    sent = set()
    for i in range(30):
        sent.add(admin.send_message(QueueUrl=urls[i % 3],
                                    MessageBody="m%d" % i)["MessageId"])
    for t in pollers:
        t.join(20)
    assert not errors, errors[:3]
    assert sorted(results) == sorted(sent)
    assert time.time() - t0 < 6
