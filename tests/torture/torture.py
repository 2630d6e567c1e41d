"""Durability torture test: SIGKILL the server under load, K times.

Design (docs/durability.md has the long form). One sluice process runs on a
temporary data directory. Each round starts worker threads that send,
receive and delete on a standard queue and a FIFO queue and publish to an
SNS topic fanned out to two queues; after a random delay the server is
killed with SIGKILL, the workers are stopped, the server is restarted on
the same data directory and a verifier compares what the queues hold with a
ledger of acknowledged calls:

- a call that returned success is *acknowledged*: its effect must survive;
- a call that failed without a definite answer (connection refused or
  reset, timeout) is *in doubt*: its effect may or may not be there;
- nothing that was never attempted may ever appear.

Checks after every restart (each restart is one check; any violation fails
it):
- standard queue: every acknowledged, not-deleted message is received with
  its body and message attributes intact; no message whose delete was
  acknowledged comes back; no unknown message appears;
- FIFO queue: the same, plus order within each message group and no second
  copy of a deduplicated message (the senders re-send some acknowledged
  messages with the same deduplication id, and retry in-doubt sends with
  the same id, both inside the five-minute window);
- SNS: every acknowledged Publish reaches both subscribed queues (one with
  raw delivery, one with the JSON envelope) with its body intact.

The workers also check, as they go, that no acknowledged delete comes back.
A delete counts as acknowledged only if its success arrived before the
visibility timeout of the receive that produced the receipt handle could
have run out; a later one is in doubt (the handle may have been stale).

Clients are boto3 (Query protocol on Debian's boto3 1.26) with retries off,
so that every outcome is seen as it happened. Only 127.0.0.1 is used; every
loop is bounded in count and time.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

import boto3
import botocore.config
import botocore.exceptions
import botocore.parsers

REGION = "us-east-1"
WORK_VT = 2            # visibility timeout the workers receive with
DELETE_MARGIN = 0.5    # a delete acked later than WORK_VT - this is in doubt
VERIFY_TIMEOUT = 25.0  # how long a verifier waits for expected messages
FIFO_GROUPS = 3
STD_KEEP = 150         # standard messages carried from round to round
RESEND_WINDOW = 60.0   # only re-send FIFO messages acked this recently


def now():
    return time.monotonic()


# ---- server -------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One sluice process on 127.0.0.1; owned by the main thread."""

    def __init__(self, binary, data_dir, port, log_path):
        self.binary, self.data_dir, self.port = binary, data_dir, port
        self.log_path = log_path
        self.proc = None
        self.endpoint = "http://127.0.0.1:%d" % port

    def start(self, timeout=30.0):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--data-dir", self.data_dir,
             "--log-level", "warn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = now() + timeout
        while now() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s on start"
                                   % self.proc.returncode)
            try:
                with urllib.request.urlopen(self.endpoint + "/_sluice/health",
                                            timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server not healthy within %ss" % timeout)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def client(service, endpoint, read_timeout=10):
    cfg = botocore.config.Config(
        region_name=REGION, connect_timeout=2, read_timeout=read_timeout,
        retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, aws_access_key_id="AKIDTORTURE",
        aws_secret_access_key="torture-secret", config=cfg)


# ---- message contents ---------------------------------------------------

def payload(rng, key):
    """A body of random length with its key first; the rest is derived from
    the key, so the verifier can recompute it."""
    n = rng.randint(1, 3000)
    h = hashlib.sha256(key.encode()).hexdigest()
    return key + "|" + (h * (n // 64 + 1))[:n]


def body_key(body):
    return body.split("|", 1)[0]


def attrs_for(key):
    h = hashlib.sha256(key.encode()).digest()
    return {"k": {"DataType": "String", "StringValue": key},
            "n": {"DataType": "Number",
                  "StringValue": str(int.from_bytes(h[:4], "big"))},
            "b": {"DataType": "Binary", "BinaryValue": h[:12] + b"\x00\xff"}}


def attrs_equal(sent, got):
    got = got or {}
    if set(sent) != set(got):
        return False
    for name, v in sent.items():
        g = got[name]
        if g.get("DataType") != v["DataType"]:
            return False
        field = "BinaryValue" if v["DataType"] == "Binary" else "StringValue"
        if g.get(field) != v[field]:
            return False
    return True


# ---- ledger -------------------------------------------------------------

class Ledger:
    """What was acknowledged. Every field is guarded by self.lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.violations = []
        # standard queue
        self.std_acked = {}       # MessageId -> body
        self.std_doubt = {}       # body key -> body (send outcome unknown)
        self.std_deleted = {}     # MessageId -> monotonic time of the ack
        self.std_del_doubt = set()
        # FIFO queue; keys are "g<group>:<seq>"
        self.fifo_acked = {}      # key -> (body, ack time)
        self.fifo_doubt = {}      # key -> body
        self.fifo_deleted = {}    # key -> ack time
        self.fifo_del_doubt = set()
        self.fifo_next = {g: 0 for g in range(FIFO_GROUPS)}
        self.fifo_pending = {}    # group -> (seq, body) to retry first
        self.fifo_max_deleted = {g: -1 for g in range(FIFO_GROUPS)}
        # SNS
        self.sns_acked = {}       # body key -> body
        self.sns_doubt = {}
        self.sns_seen = {"raw": set(), "env": set()}
        # counters
        self.checked = 0
        self.calls = {"acked": 0, "doubt": 0}

    def violate(self, msg):
        with self.lock:
            if len(self.violations) < 1000:
                self.violations.append(msg)


def fifo_key(g, seq):
    return "g%d:%d" % (g, seq)


def parse_fifo(body):
    k = body_key(body)            # fifo:<g>:<seq>
    _, g, seq = k.split(":")
    return int(g), int(seq)


# ---- workers ------------------------------------------------------------

class Workers:
    def __init__(self, ledger, clients, urls, topic, rng_seed, run_id):
        """clients: one (sqs, sns) pair per worker thread, made once (a
        boto3 client takes a while to build) and reused across restarts."""
        self.L, self.clients, self.urls, self.topic = (ledger, clients, urls,
                                                       topic)
        self.stop = threading.Event()
        self.seed = rng_seed
        self.run_id = run_id
        self.threads = []

    def start(self):
        specs = [self.std_sender, self.std_sender, self.std_receiver,
                 self.std_receiver, self.fifo_sender, self.fifo_receiver,
                 self.sns_publisher]
        for i, fn in enumerate(specs):
            t = threading.Thread(target=self._guard,
                                 args=(fn, self.seed * len(specs) + i),
                                 daemon=True)
            t.start()
            self.threads.append(t)

    def join(self, timeout=20.0):
        self.stop.set()
        deadline = now() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - now()))
        return all(not t.is_alive() for t in self.threads)

    def _guard(self, fn, seed):
        rng = random.Random(seed)
        sqs, sns = self.clients[seed % len(self.clients)]
        deadline = now() + 60          # a round never lasts this long
        while not self.stop.is_set() and now() < deadline:
            try:
                fn(rng, sqs, sns)
            except (botocore.exceptions.BotoCoreError,
                    botocore.exceptions.ClientError,
                    botocore.parsers.ResponseParserError, OSError):
                # the server is down, or was killed while it was writing
                # the answer (a truncated body): keep trying
                time.sleep(0.02)
            except Exception as e:     # e.g. a body that does not parse
                self.L.violate("worker %s: %r" % (fn.__name__, e))
                time.sleep(0.02)

    # -- standard queue
    def std_sender(self, rng, sqs, sns):
        L = self.L
        if rng.random() < 0.3:
            keys = ["std:%s" % uuid.uuid4().hex for _ in range(5)]
            bodies = {k: payload(rng, k) for k in keys}
            entries = [{"Id": "e%d" % i, "MessageBody": bodies[k],
                        "MessageAttributes": attrs_for(k)}
                       for i, k in enumerate(keys)]
            with L.lock:
                for k in keys:
                    L.std_doubt[k] = bodies[k]
            try:
                r = sqs.send_message_batch(QueueUrl=self.urls["std"],
                                           Entries=entries)
            except Exception:
                with L.lock:
                    L.calls["doubt"] += 1
                raise
            with L.lock:
                L.calls["acked"] += 1
                for ok in r.get("Successful", []):
                    k = keys[int(ok["Id"][1:])]
                    L.std_acked[ok["MessageId"]] = bodies[k]
                    L.std_doubt.pop(k, None)
                for bad in r.get("Failed", []):
                    # a definite refusal: the message must not appear
                    k = keys[int(bad["Id"][1:])]
                    L.std_doubt.pop(k, None)
            return
        k = "std:%s" % uuid.uuid4().hex
        body = payload(rng, k)
        with L.lock:
            L.std_doubt[k] = body
        try:
            r = sqs.send_message(QueueUrl=self.urls["std"], MessageBody=body,
                                 MessageAttributes=attrs_for(k))
        except botocore.exceptions.ClientError:
            with L.lock:          # a definite error answer: not stored
                L.std_doubt.pop(k, None)
            raise
        except Exception:
            with L.lock:
                L.calls["doubt"] += 1
            raise
        with L.lock:
            L.calls["acked"] += 1
            L.std_acked[r["MessageId"]] = body
            L.std_doubt.pop(k, None)

    def std_receiver(self, rng, sqs, sns):
        L = self.L
        t0 = now()
        r = sqs.receive_message(QueueUrl=self.urls["std"],
                                MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                VisibilityTimeout=WORK_VT,
                                MessageAttributeNames=["All"])
        msgs = r.get("Messages", [])
        with L.lock:
            for m in msgs:
                at = L.std_deleted.get(m["MessageId"])
                if at is not None and at < t0:
                    L.violations.append(
                        "std: deleted message %s received again (worker)"
                        % m["MessageId"])
                want = L.std_acked.get(m["MessageId"])
                if want is not None and (
                        m["Body"] != want or
                        not attrs_equal(attrs_for(body_key(want)),
                                        m.get("MessageAttributes"))):
                    L.violations.append("std: %s altered (worker)"
                                        % m["MessageId"])
        todel = [m for m in msgs if rng.random() < 0.75]
        if not todel:
            return
        entries = [{"Id": "d%d" % i, "ReceiptHandle": m["ReceiptHandle"]}
                   for i, m in enumerate(todel)]
        with L.lock:
            for m in todel:
                L.std_del_doubt.add(m["MessageId"])
        res = sqs.delete_message_batch(QueueUrl=self.urls["std"],
                                       Entries=entries)
        t1 = now()
        with L.lock:
            if t1 - t0 < WORK_VT - DELETE_MARGIN:
                for ok in res.get("Successful", []):
                    mid = todel[int(ok["Id"][1:])]["MessageId"]
                    L.std_deleted[mid] = t1
                    L.std_del_doubt.discard(mid)

    # -- FIFO queue
    def fifo_sender(self, rng, sqs, sns):
        L = self.L
        g = rng.randrange(FIFO_GROUPS)
        resend = False
        with L.lock:
            if g in L.fifo_pending:
                seq, body = L.fifo_pending[g]
            else:
                recent = [k for k, (b, t) in L.fifo_acked.items()
                          if k.startswith("g%d:" % g)
                          and now() - t < RESEND_WINDOW]
                if recent and rng.random() < 0.1:
                    k = rng.choice(recent)
                    body = L.fifo_acked[k][0]
                    seq = int(k.split(":")[1])
                    resend = True
                else:
                    seq = L.fifo_next[g]
                    L.fifo_next[g] += 1
                    body = payload(rng, "fifo:%d:%d" % (g, seq))
                    L.fifo_pending[g] = (seq, body)
                    L.fifo_doubt[fifo_key(g, seq)] = body
        key = fifo_key(g, seq)
        try:
            sqs.send_message(QueueUrl=self.urls["fifo"], MessageBody=body,
                             MessageGroupId="g%d" % g,
                             MessageDeduplicationId="%s-%s" % (self.run_id,
                                                               key),
                             MessageAttributes=attrs_for(body_key(body)))
        except Exception:
            with L.lock:
                L.calls["doubt"] += 1
            raise
        with L.lock:
            L.calls["acked"] += 1
            if not resend:
                L.fifo_acked[key] = (body, now())
                L.fifo_doubt.pop(key, None)
                L.fifo_pending.pop(g, None)

    def fifo_receiver(self, rng, sqs, sns):
        L = self.L
        t0 = now()
        r = sqs.receive_message(QueueUrl=self.urls["fifo"],
                                MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                VisibilityTimeout=WORK_VT,
                                AttributeNames=["MessageGroupId"],
                                MessageAttributeNames=["All"])
        msgs = r.get("Messages", [])
        with L.lock:
            for m in msgs:
                g, seq = parse_fifo(m["Body"])
                at = L.fifo_deleted.get(fifo_key(g, seq))
                if at is not None and at < t0:
                    L.violations.append(
                        "fifo: deleted/deduplicated %s received again "
                        "(worker)" % fifo_key(g, seq))
                elif seq < L.fifo_max_deleted[g] and \
                        fifo_key(g, seq) not in L.fifo_del_doubt:
                    L.violations.append(
                        "fifo: %s delivered after a later message of its "
                        "group was deleted (worker)" % fifo_key(g, seq))
        # All or nothing: leaving an earlier message of a group undeleted
        # while deleting a later one would make its redelivery look out of
        # order.
        todel = msgs if rng.random() < 0.9 else []
        if not todel:
            return
        entries = [{"Id": "d%d" % i, "ReceiptHandle": m["ReceiptHandle"]}
                   for i, m in enumerate(todel)]
        with L.lock:
            for m in todel:
                L.fifo_del_doubt.add(fifo_key(*parse_fifo(m["Body"])))
        res = sqs.delete_message_batch(QueueUrl=self.urls["fifo"],
                                       Entries=entries)
        t1 = now()
        with L.lock:
            if t1 - t0 < WORK_VT - DELETE_MARGIN:
                all_ok = not res.get("Failed")
                for ok in res.get("Successful", []):
                    g, seq = parse_fifo(todel[int(ok["Id"][1:])]["Body"])
                    k = fifo_key(g, seq)
                    L.fifo_deleted[k] = t1
                    L.fifo_del_doubt.discard(k)
                    if all_ok:
                        L.fifo_max_deleted[g] = max(L.fifo_max_deleted[g],
                                                    seq)

    # -- SNS
    def sns_publisher(self, rng, sqs, sns):
        L = self.L
        k = "sns:%s" % uuid.uuid4().hex
        body = payload(rng, k)[:2000]
        with L.lock:
            L.sns_doubt[k] = body
        try:
            sns.publish(TopicArn=self.topic, Message=body,
                        MessageAttributes={"k": {"DataType": "String",
                                                 "StringValue": k}})
        except Exception:
            with L.lock:
                L.calls["doubt"] += 1
            raise
        with L.lock:
            L.calls["acked"] += 1
            L.sns_acked[k] = body
            L.sns_doubt.pop(k, None)
        time.sleep(0.01)


# ---- verifier -----------------------------------------------------------

class Verifier:
    """Runs with every worker stopped, right after a restart."""

    def __init__(self, ledger, endpoint, urls):
        self.L, self.urls = ledger, urls
        self.sqs = client("sqs", endpoint, read_timeout=10)
        self.errs = []

    def bad(self, msg):
        self.errs.append(msg)

    def run(self, rng):
        self.std(rng)
        self.fifo()
        self.sns()
        return self.errs

    def std(self, rng):
        L, url = self.L, self.urls["std"]
        expect = {mid for mid in L.std_acked
                  if mid not in L.std_deleted and mid not in L.std_del_doubt}
        got = {}
        deadline = now() + VERIFY_TIMEOUT
        empties = 0
        while now() < deadline and (not expect <= set(got) or empties < 2):
            r = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                VisibilityTimeout=120, MessageAttributeNames=["All"])
            msgs = r.get("Messages", [])
            empties = empties + 1 if not msgs else 0
            for m in msgs:
                got[m["MessageId"]] = m
        for mid, m in got.items():
            L.checked += 1
            if mid in L.std_deleted:
                self.bad("std: acknowledged delete of %s came back" % mid)
                continue
            want = L.std_acked.get(mid)
            if want is None:
                k = body_key(m["Body"])
                want = L.std_doubt.pop(k, None)
                if want is None:
                    self.bad("std: unknown message %s (%s)" % (mid, k[:40]))
                    continue
                L.std_acked[mid] = want      # an in-doubt send that stuck
            if m["Body"] != want:
                self.bad("std: body of %s altered" % mid)
            elif not attrs_equal(attrs_for(body_key(want)),
                                 m.get("MessageAttributes")):
                self.bad("std: attributes of %s altered" % mid)
        for mid in expect - set(got):
            self.bad("std: acknowledged message %s lost" % mid)
        # In-doubt deletes are settled now: present means not deleted.
        for mid in list(L.std_del_doubt):
            if mid not in got:
                L.std_deleted[mid] = now()
        L.std_del_doubt.clear()
        # In-doubt sends that did not show up never will: forget them, and
        # from now on treat them as never attempted.
        L.std_doubt.clear()
        # Keep a few for the next rounds, delete the rest (acknowledged).
        keep = list(got.values())
        rng.shuffle(keep)
        extra, keep = keep[STD_KEEP:], keep[:STD_KEEP]
        self._batch(url, extra, "delete",
                    lambda m: L.std_deleted.__setitem__(m["MessageId"],
                                                        now()))
        self._batch(url, keep, "visible", None)

    def _batch(self, url, msgs, what, on_ok):
        for i in range(0, len(msgs), 10):
            part = msgs[i:i + 10]
            entries = [{"Id": "x%d" % j, "ReceiptHandle": m["ReceiptHandle"]}
                       for j, m in enumerate(part)]
            if what == "delete":
                r = self.sqs.delete_message_batch(QueueUrl=url,
                                                  Entries=entries)
            else:
                for e in entries:
                    e["VisibilityTimeout"] = 0
                r = self.sqs.change_message_visibility_batch(QueueUrl=url,
                                                             Entries=entries)
            for f in r.get("Failed", []):
                self.bad("verifier %s failed: %s" % (what, f))
            if on_ok:
                for ok in r.get("Successful", []):
                    on_ok(part[int(ok["Id"][1:])])

    def fifo(self):
        L, url = self.L, self.urls["fifo"]
        expect = {k for k in L.fifo_acked
                  if k not in L.fifo_deleted and k not in L.fifo_del_doubt}
        seen = set()
        last = {g: L.fifo_max_deleted[g] for g in range(FIFO_GROUPS)}
        deadline = now() + VERIFY_TIMEOUT
        empties = 0
        while now() < deadline and (not expect <= seen or empties < 2):
            r = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                VisibilityTimeout=120, MessageAttributeNames=["All"])
            msgs = r.get("Messages", [])
            empties = empties + 1 if not msgs else 0
            for m in msgs:
                L.checked += 1
                g, seq = parse_fifo(m["Body"])
                k = fifo_key(g, seq)
                if k in seen or k in L.fifo_deleted:
                    self.bad("fifo: %s delivered again after deletion or "
                             "deduplication" % k)
                elif seq <= last[g]:
                    self.bad("fifo: %s out of order (after seq %d)"
                             % (k, last[g]))
                want = L.fifo_acked.get(k, (None,))[0] or \
                    L.fifo_doubt.get(k)
                if want is None:
                    self.bad("fifo: unknown message %s" % k)
                elif m["Body"] != want or not attrs_equal(
                        attrs_for(body_key(want)),
                        m.get("MessageAttributes")):
                    self.bad("fifo: %s altered" % k)
                seen.add(k)
                last[g] = max(last[g], seq)
            self._batch(url, msgs, "delete", None)
            for m in msgs:
                g, seq = parse_fifo(m["Body"])
                L.fifo_deleted[fifo_key(g, seq)] = now()
                L.fifo_max_deleted[g] = max(L.fifo_max_deleted[g], seq)
        for k in sorted(expect - seen):
            self.bad("fifo: acknowledged message %s lost" % k)
        for k in L.fifo_del_doubt:
            L.fifo_deleted.setdefault(k, now())
        L.fifo_del_doubt.clear()
        # In-doubt sends stay pending: the senders retry them with the same
        # deduplication id, so at most one copy may ever appear.

    def sns(self):
        L = self.L
        for kind in ("raw", "env"):
            url = self.urls["sns_" + kind]
            deadline = now() + VERIFY_TIMEOUT
            empties = 0
            while now() < deadline:
                missing = set(L.sns_acked) - L.sns_seen[kind]
                if not missing and empties >= 1:
                    break
                r = self.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                    VisibilityTimeout=120, MessageAttributeNames=["All"])
                msgs = r.get("Messages", [])
                empties = empties + 1 if not msgs else 0
                for m in msgs:
                    L.checked += 1
                    text = m["Body"]
                    if kind == "env":
                        try:
                            text = json.loads(text)["Message"]
                        except (ValueError, KeyError, TypeError):
                            self.bad("sns: envelope not JSON on %s" % kind)
                            continue
                    k = body_key(text)
                    want = L.sns_acked.get(k) or L.sns_doubt.get(k)
                    if want is None:
                        self.bad("sns: unknown publish %s on %s"
                                 % (k[:40], kind))
                    elif text != want:
                        self.bad("sns: publish %s altered on %s" % (k, kind))
                    L.sns_seen[kind].add(k)
                self._batch(url, msgs, "delete", None)
            for k in sorted(set(L.sns_acked) - L.sns_seen[kind]):
                self.bad("sns: acknowledged publish %s never reached the %s "
                         "queue" % (k, kind))
                L.sns_seen[kind].add(k)   # report once


# ---- main ---------------------------------------------------------------

def setup(endpoint):
    sqs = client("sqs", endpoint)
    sns = client("sns", endpoint)
    urls = {
        "std": sqs.create_queue(QueueName="torture-std")["QueueUrl"],
        "fifo": sqs.create_queue(
            QueueName="torture-fifo.fifo",
            Attributes={"FifoQueue": "true"})["QueueUrl"],
        "sns_raw": sqs.create_queue(QueueName="torture-sns-raw")["QueueUrl"],
        "sns_env": sqs.create_queue(QueueName="torture-sns-env")["QueueUrl"],
    }
    topic = sns.create_topic(Name="torture-topic")["TopicArn"]
    for kind in ("raw", "env"):
        arn = sqs.get_queue_attributes(
            QueueUrl=urls["sns_" + kind],
            AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs = {"RawMessageDelivery": "true"} if kind == "raw" else {}
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                      Attributes=attrs)
    return urls, topic


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", default="build/sluice")
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--min-run", type=float, default=0.3,
                    help="shortest load before a kill, seconds")
    ap.add_argument("--max-run", type=float, default=2.5)
    ap.add_argument("--max-seconds", type=float, default=1200,
                    help="stop starting rounds after this long")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--inject", type=int, default=0,
                    help="self-test: in this round, add 3 acknowledgements "
                    "the server never gave and require them to be caught")
    ap.add_argument("--keep", action="store_true",
                    help="keep the data directory and server log")
    args = ap.parse_args()

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="sluice-torture.")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    srv = Server(os.path.abspath(args.sluice), data, free_port(),
                 os.path.join(tmp, "server.log"))
    L = Ledger()
    passed = failed = kills = 0
    t_start = now()
    run_id = uuid.uuid4().hex[:8]
    print("torture: seed %d, %d kills, data in %s" % (seed, args.kills, tmp),
          flush=True)
    try:
        srv.start()
        urls, topic = setup(srv.endpoint)
        clients = [(client("sqs", srv.endpoint, read_timeout=5),
                    client("sns", srv.endpoint, read_timeout=5))
                   for _ in range(7)]
        for rnd in range(1, args.kills + 1):
            if now() - t_start > args.max_seconds:
                print("torture: time limit reached after %d rounds"
                      % (rnd - 1))
                break
            w = Workers(L, clients, urls, topic, rng.randrange(1 << 20),
                        run_id)
            w.start()
            time.sleep(rng.uniform(args.min_run, args.max_run))
            srv.kill()
            kills += 1
            if not w.join():
                L.violate("round %d: workers did not stop" % rnd)
            t_restart = now()
            srv.start()
            t_up = now()
            time.sleep(WORK_VT + 0.3)   # in-flight messages turn visible
            if rnd == args.inject:
                # Self-test of the checker: claim acknowledgements the
                # server never gave; each must be reported as lost (the
                # publish once for each of its two queues).
                L.std_acked["00000000-0000-0000-0000-injected"] = "std:x|y"
                L.fifo_acked[fifo_key(0, 10 ** 9)] = ("fifo:0:%d|y" % 10 ** 9,
                                                      now())
                L.sns_acked["sns:injected"] = "sns:injected|y"
            errs = Verifier(L, srv.endpoint, urls).run(rng)
            if rnd == args.inject:
                inj = [e for e in errs
                       if "injected" in e or str(10 ** 9) in e]
                errs = [e for e in errs if e not in inj]
                print("round %d: injected 3 false acknowledgements (4 "
                      "violations), the checker caught %d: %s"
                      % (rnd, len(inj), inj))
                if len(inj) != 4:
                    errs.append("checker missed injected violations")
                L.std_acked.pop("00000000-0000-0000-0000-injected", None)
                L.fifo_acked.pop(fifo_key(0, 10 ** 9), None)
                L.sns_acked.pop("sns:injected", None)
            with L.lock:
                errs += L.violations
                L.violations = []
            if errs:
                failed += 1
                print("round %d: FAIL (%d violations)" % (rnd, len(errs)))
                for e in errs[:20]:
                    print("  " + e)
            else:
                passed += 1
                print("round %d: ok (acked calls %d, in doubt %d, "
                      "messages checked %d; restart %.1f s, check %.1f s)"
                      % (rnd, L.calls["acked"], L.calls["doubt"], L.checked,
                         t_up - t_restart, now() - t_up), flush=True)
    except Exception as e:  # a harness or server failure is a failed check
        failed += 1
        print("torture: aborted: %r" % (e,))
        try:
            with open(srv.log_path, "rb") as f:
                print(f.read()[-3000:].decode(errors="replace"))
        except OSError:
            pass
    finally:
        srv.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("torture: %d kills, %d acknowledged calls, %d in doubt, "
          "%d message deliveries checked, %.0f s"
          % (kills, L.calls["acked"], L.calls["doubt"], L.checked,
             now() - t_start))
    print("torture: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
