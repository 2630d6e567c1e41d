"""Durability: what the server acknowledged survives SIGKILL and SIGTERM.

The crash test kills the server with SIGKILL while several client threads
send, remembering only the MessageIds whose SendMessage(Batch) call
returned. After a restart on the same data directory every acknowledged
message must be there with its body and attributes, every acknowledged
delete must have stuck, and messages that were in flight come back once
their visibility timeout has passed. A message whose send was never
acknowledged may or may not be there, but nothing unknown may appear.
"""

import json
import threading
import time

import pytest

from e2e_util import (
    drain, md5_hex, md5_of_attributes, queue_attrs, sqs_client)

IN_FLIGHT_VT = 4


def _attrs_for(tag, seq):
    return {"tag": {"DataType": "String", "StringValue": tag},
            "seq": {"DataType": "Number", "StringValue": str(seq)},
            "blob": {"DataType": "Binary",
                     "BinaryValue": ("%s:%d" % (tag, seq)).encode() + b"\x00\xff"}}


def _receive_everything(client, url, want_ids, timeout):
    """Receives (VisibilityTimeout 120) until every id in want_ids has been
    seen or timeout passes; returns {MessageId: message}."""
    got = {}
    deadline = time.time() + timeout
    while time.time() < deadline and not want_ids <= set(got):
        r = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
            VisibilityTimeout=120, MessageAttributeNames=["All"],
            AttributeNames=["All"])
        for m in r.get("Messages", []):
            got[m["MessageId"]] = m
    # One more short sweep for stragglers that should not exist.
    for _ in range(2):
        r = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   VisibilityTimeout=120,
                                   MessageAttributeNames=["All"])
        for m in r.get("Messages", []):
            got[m["MessageId"]] = m
    return got


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_acknowledged_messages_survive_sigkill(fresh_server):
    srv = fresh_server
    client = sqs_client(srv.endpoint)
    url = client.create_queue(QueueName="crash-durability")["QueueUrl"]

    acked = {}            # MessageId -> (body, attributes)
    attempted = set()     # every body ever sent
    lock = threading.Lock()

    def remember(mid, body, attrs):
        with lock:
            acked[mid] = (body, attrs)

    # Phase 1: a known state — some messages deleted, some in flight.
    for i in range(30):
        body, attrs = "pre-%d" % i, _attrs_for("pre", i)
        attempted.add(body)
        remember(client.send_message(QueueUrl=url, MessageBody=body,
                                     MessageAttributes=attrs)["MessageId"],
                 body, attrs)
    deleted, in_flight = set(), set()
    while len(deleted) < 10:
        for m in client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10,
                VisibilityTimeout=60).get("Messages", []):
            if len(deleted) < 10:
                client.delete_message(QueueUrl=url,
                                      ReceiptHandle=m["ReceiptHandle"])
                deleted.add(m["MessageId"])
            else:
                # Back to visible right away: only the deletes matter here.
                client.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                    VisibilityTimeout=0)
    for m in client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=5,
            VisibilityTimeout=IN_FLIGHT_VT).get("Messages", []):
        in_flight.add(m["MessageId"])
    assert in_flight and not (in_flight & deleted)
    in_flight_at = time.time()

    # Phase 2: concurrent senders, killed mid-stream.
    stop = threading.Event()

    def sender(tag, batch):
        c = sqs_client(srv.endpoint, read_timeout=5)
        seq = 0
        while not stop.is_set():
            try:
                if batch:
                    entries = []
                    for k in range(5):
                        body = "%s-%d" % (tag, seq + k)
                        with lock:
                            attempted.add(body)
                        entries.append({"Id": "e%d" % k, "MessageBody": body,
                                        "MessageAttributes":
                                            _attrs_for(tag, seq + k)})
                    r = c.send_message_batch(QueueUrl=url, Entries=entries)
                    by_id = {e["Id"]: e for e in entries}
                    for ok in r.get("Successful", []):
                        e = by_id[ok["Id"]]
                        remember(ok["MessageId"], e["MessageBody"],
                                 e["MessageAttributes"])
                    seq += 5
                else:
                    body, attrs = "%s-%d" % (tag, seq), _attrs_for(tag, seq)
                    with lock:
                        attempted.add(body)
                    r = c.send_message(QueueUrl=url, MessageBody=body,
                                       MessageAttributes=attrs)
                    remember(r["MessageId"], body, attrs)
                    seq += 1
            except Exception:
                return  # the server is gone

    threads = [threading.Thread(target=sender, args=("t%d" % i, i == 0))
               for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 10
    while time.time() < deadline:
        with lock:
            if len(acked) >= 30 + 150:
                break
        time.sleep(0.05)
    time.sleep(0.3)
    srv.kill()
    with lock:
        snapshot = dict(acked)
    stop.set()
    for t in threads:
        t.join(10)
    # Replies that raced the kill may have arrived after the snapshot; they
    # were acknowledged too.
    snapshot.update(acked)
    assert len(snapshot) > 30, "no concurrent send was acknowledged"

    srv.start()
    client = sqs_client(srv.endpoint)
    want = set(snapshot) - deleted
    wait_for = max(0.0, in_flight_at + IN_FLIGHT_VT - time.time()) + 10
    got = _receive_everything(client, url, want, timeout=wait_for)

    missing = want - set(got)
    assert not missing, "%d acknowledged messages lost, e.g. %s" % (
        len(missing), sorted(missing)[:5])
    assert not (deleted & set(got)), "deleted messages came back"
    assert in_flight <= set(got)
    for mid in want:
        body, attrs = snapshot[mid]
        m = got[mid]
        assert m["Body"] == body
        assert m["MD5OfBody"] == md5_hex(body)
        assert m["MessageAttributes"] == attrs
        assert m["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    for mid, m in got.items():
        if mid not in snapshot:
            assert m["Body"] in attempted, "unknown message %r" % m["Body"]


@pytest.mark.timeout(60)
def test_in_flight_messages_return_after_crash(fresh_server):
    srv = fresh_server
    client = sqs_client(srv.endpoint)
    url = client.create_queue(QueueName="crash-inflight")["QueueUrl"]
    ids = {client.send_message(QueueUrl=url, MessageBody="f%d" % i)["MessageId"]
           for i in range(5)}
    got = set()
    while len(got) < 5:
        for m in client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10,
                VisibilityTimeout=3).get("Messages", []):
            got.add(m["MessageId"])
    delayed = client.send_message(QueueUrl=url, MessageBody="delayed",
                                  DelaySeconds=5)["MessageId"]
    sent_delayed = time.time()
    srv.restart(crash=True)
    client = sqs_client(srv.endpoint)
    early = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   VisibilityTimeout=60).get("Messages", [])
    if time.time() - sent_delayed < 4.5:
        assert delayed not in {m["MessageId"] for m in early}, \
            "a delayed message became visible early after the restart"
    back = _receive_everything(client, url, ids | {delayed}, timeout=15)
    back.update({m["MessageId"]: m for m in early})
    assert set(back) == ids | {delayed}


@pytest.mark.timeout(90)
def test_state_survives_graceful_restart(fresh_server):
    srv = fresh_server
    c = sqs_client(srv.endpoint)
    dlq = c.create_queue(QueueName="restart-dlq")["QueueUrl"]
    dlq_arn = queue_attrs(c, dlq, "QueueArn")["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 4}
    main = c.create_queue(QueueName="restart-main", Attributes={
        "VisibilityTimeout": "77", "DelaySeconds": "0",
        "MessageRetentionPeriod": "3600", "MaximumMessageSize": "4096",
        "ReceiveMessageWaitTimeSeconds": "1",
        "RedrivePolicy": json.dumps(redrive)},
        tags={"team": "orders"})["QueueUrl"]
    c.add_permission(QueueUrl=main, Label="partner",
                     AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    gone = c.create_queue(QueueName="restart-gone")["QueueUrl"]
    c.delete_queue(QueueUrl=gone)
    attrs_before = queue_attrs(c, main)

    visible = c.send_message(QueueUrl=main, MessageBody="visible",
                             MessageAttributes=_attrs_for("v", 1))
    delayed = c.send_message(QueueUrl=main, MessageBody="delayed",
                             DelaySeconds=4)
    c.send_message(QueueUrl=main, MessageBody="to-delete")
    msgs = c.receive_message(QueueUrl=main, MaxNumberOfMessages=10,
                             VisibilityTimeout=1)["Messages"]
    for m in msgs:
        if m["Body"] == "to-delete":
            c.delete_message(QueueUrl=main, ReceiptHandle=m["ReceiptHandle"])

    srv.restart()
    c = sqs_client(srv.endpoint)
    assert c.get_queue_url(QueueName="restart-main")["QueueUrl"] == main
    with pytest.raises(Exception):
        c.get_queue_url(QueueName="restart-gone")
    after = queue_attrs(c, main)
    for k in ("VisibilityTimeout", "MessageRetentionPeriod",
              "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds",
              "QueueArn", "CreatedTimestamp", "LastModifiedTimestamp"):
        assert after[k] == attrs_before[k], k
    assert json.loads(after["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn
    stmts = json.loads(after["Policy"])["Statement"]
    assert [s["Sid"] for s in stmts] == ["partner"]
    assert c.list_queue_tags(QueueUrl=main)["Tags"] == {"team": "orders"}
    assert c.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [main]

    got = _receive_everything(c, main, {visible["MessageId"],
                                        delayed["MessageId"]}, timeout=10)
    bodies = sorted(m["Body"] for m in got.values())
    assert bodies == ["delayed", "visible"]
    v = got[visible["MessageId"]]
    assert v["MessageAttributes"] == _attrs_for("v", 1)
    assert int(v["Attributes"]["ApproximateReceiveCount"]) >= 2


@pytest.mark.timeout(60)
def test_sigterm_during_long_poll(fresh_server):
    """A parked long poll does not hold up a graceful shutdown."""
    srv = fresh_server
    c = sqs_client(srv.endpoint)
    url = c.create_queue(QueueName="shutdown-longpoll")["QueueUrl"]
    outcome = []

    def poll():
        try:
            outcome.append(sqs_client(srv.endpoint).receive_message(
                QueueUrl=url, WaitTimeSeconds=20))
        except Exception as e:
            outcome.append(e)
    th = threading.Thread(target=poll, daemon=True)
    th.start()
    time.sleep(1)
    t = time.time()
    srv.stop()
    took = time.time() - t
    srv.assert_clean()
    th.join(25)
    assert took < 10, "SIGTERM took %.1fs with a long poll parked" % took
    assert outcome, "the long poll never returned"
    srv.start()  # for the fixture's own stop


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_crash_during_receive_delete_and_redrive(fresh_server):
    """SIGKILL while consumers receive, delete and let messages wander to
    the dead-letter queue. Afterwards a message whose delete was
    acknowledged is in neither queue; every other acknowledged message is in
    the source queue or the DLQ, not both (one whose delete was sent but not
    answered before the kill may be gone)."""
    srv = fresh_server
    c = sqs_client(srv.endpoint)
    dlq = c.create_queue(QueueName="mixed-dlq")["QueueUrl"]
    dlq_arn = queue_attrs(c, dlq, "QueueArn")["QueueArn"]
    src = c.create_queue(QueueName="mixed-src", Attributes={
        "VisibilityTimeout": "1", "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})["QueueUrl"]

    acked, deleted, attempted = set(), set(), set()
    delete_tried = set()  # deletes sent; a reply lost to the kill is a maybe
    lock = threading.Lock()
    for b in range(20):
        entries = [{"Id": "e%d" % k, "MessageBody": "pre-%d-%d" % (b, k)}
                   for k in range(10)]
        attempted.update(e["MessageBody"] for e in entries)
        r = c.send_message_batch(QueueUrl=src, Entries=entries)
        acked.update(e["MessageId"] for e in r["Successful"])
    stop = threading.Event()

    def consumer():
        cc = sqs_client(srv.endpoint, read_timeout=5)
        while not stop.is_set():
            try:
                msgs = cc.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                          VisibilityTimeout=1).get("Messages", [])
                # Delete about half; the rest come back and, after two
                # receives, move to the DLQ.
                keep = [m for m in msgs if int(m["MD5OfBody"][:2], 16) % 2]
                if keep:
                    with lock:
                        delete_tried.update(m["MessageId"] for m in keep)
                    r = cc.delete_message_batch(QueueUrl=src, Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(keep)])
                    by_id = {str(i): m for i, m in enumerate(keep)}
                    with lock:
                        deleted.update(by_id[e["Id"]]["MessageId"]
                                       for e in r.get("Successful", []))
            except Exception:
                return

    def producer():
        cc = sqs_client(srv.endpoint, read_timeout=5)
        n = 0
        while not stop.is_set():
            body = "live-%d" % n
            n += 1
            with lock:
                attempted.add(body)
            try:
                mid = cc.send_message(QueueUrl=src, MessageBody=body)["MessageId"]
            except Exception:
                return
            with lock:
                acked.add(mid)

    threads = [threading.Thread(target=consumer) for _ in range(2)]
    threads.append(threading.Thread(target=producer))
    for t in threads:
        t.start()
    time.sleep(2.5)
    srv.kill()
    stop.set()
    for t in threads:
        t.join(10)
    with lock:
        acked_now, deleted_now = set(acked), set(deleted)
        tried_now = set(delete_tried)
    assert deleted_now, "no delete was acknowledged before the kill"

    srv.start()
    c = sqs_client(srv.endpoint)
    time.sleep(1.2)  # let the last visibility timeouts run out
    # Receiving from the source may itself move over-received messages to
    # the DLQ, so the DLQ is drained after the source.
    in_src = drain(c, src, visibility=120, timeout=30)
    in_dlq = drain(c, dlq, visibility=120, timeout=30)
    both = set(in_src) & set(in_dlq)
    assert not both, "in both queues: %s" % sorted(both)[:5]
    present = set(in_src) | set(in_dlq)
    resurrected = deleted_now & present
    assert not resurrected, "%d deleted messages came back" % len(resurrected)
    lost = acked_now - tried_now - present
    assert not lost, "%d acknowledged messages lost, e.g. %s" % (
        len(lost), sorted(lost)[:5])
    for m in list(in_src.values()) + list(in_dlq.values()):
        assert m["Body"] in attempted


def _fill(client, url, prefix, n):
    for start in range(0, n, 10):
        entries = [{"Id": str(i), "MessageBody": "%s-%d" % (prefix, start + i)}
                   for i in range(min(10, n - start))]
        r = client.send_message_batch(QueueUrl=url, Entries=entries)
        assert not r.get("Failed"), r


@pytest.mark.timeout(120)
def test_purged_and_deleted_messages_stay_gone_after_sigkill(fresh_server):
    """PurgeQueue and DeleteQueue are acknowledged before their rows are
    swept from disk; a crash right after must not bring any of them back,
    into the purged queue or into a new queue of the deleted one's name.
    (Whether the kill lands before the sweep ends is up to timing; the
    window itself is covered by tests/unit/store/test_store_sweep.c.)"""
    srv = fresh_server
    client = sqs_client(srv.endpoint)
    purged = client.create_queue(QueueName="crash-purged")["QueueUrl"]
    doomed = client.create_queue(QueueName="crash-deleted")["QueueUrl"]
    _fill(client, purged, "old", 3000)
    _fill(client, doomed, "gone", 3000)

    client.purge_queue(QueueUrl=purged)
    client.delete_queue(QueueUrl=doomed)
    after = client.send_message(QueueUrl=purged, MessageBody="after-purge")["MessageId"]
    srv.restart(crash=True)

    client = sqs_client(srv.endpoint)
    assert queue_attrs(client, purged)["ApproximateNumberOfMessages"] == "1"
    assert list(drain(client, purged)) == [after]
    again = client.create_queue(QueueName="crash-deleted")["QueueUrl"]
    assert queue_attrs(client, again)["ApproximateNumberOfMessages"] == "0"
    _fill(client, again, "new", 20)
    bodies = sorted(m["Body"] for m in drain(client, again).values())
    assert bodies == sorted("new-%d" % i for i in range(20))
    # And after another restart, once the sweep has had its time.
    srv.restart()
    client = sqs_client(srv.endpoint)
    for url, held in ((purged, 1), (again, 20)):
        a = queue_attrs(client, url)
        assert a["ApproximateNumberOfMessages"] == "0"
        assert a["ApproximateNumberOfMessagesNotVisible"] == str(held)
