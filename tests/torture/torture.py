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
  raw delivery, one with the JSON envelope) with its body intact, and the
  third (a filter policy on the "kind" attribute) exactly when it matches;
- EventBridge: every acknowledged PutEvents entry reaches the queue of the
  rule that takes every event of the bus, and the queue of the rule that
  takes only kind "x" exactly when it is of that kind.

The workers also check, as they go, that no acknowledged delete comes back.
A delete counts as acknowledged only if its success arrived before the
visibility timeout of the receive that produced the receipt handle could
have run out; a later one is in doubt (the handle may have been stale).

Clients are boto3 (Query protocol on Debian's boto3 1.26) with retries off,
so that every outcome is seen as it happened. Only 127.0.0.1 is used; every
loop is bounded in count and time.

Two more modes use the same load and ledger:
- --sync-order: one server under strace during a short load, then the
  trace is checked: every successful answer to a writing call follows a
  WAL fsync issued after its request was read (tests/torture/syncorder.py);
- --disk-full: the data directory on a small tmpfs that a filler file and a
  bulk sender fill up under load, round after round: while full every write
  is refused with the service's error and nothing else, then the filler is
  removed and writes must resume without a restart; some rounds SIGKILL the
  server while full or just after; every round ends with the ledger check.
"""

import argparse
import collections
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import smalldisk  # noqa: E402  (tests/e2e/smalldisk.py)
import syncorder  # noqa: E402

REGION = "us-east-1"
WORK_VT = 2            # visibility timeout the workers receive with
DELETE_MARGIN = 0.5    # a delete acked later than WORK_VT - this is in doubt
VERIFY_TIMEOUT = 25.0  # how long a verifier waits without progress
FIFO_GROUPS = 3
STD_KEEP = 150         # standard messages carried from round to round
RESEND_WINDOW = 60.0   # only re-send FIFO messages acked this recently
# What a full disk answers (the services' errors for a server-side failure).
REFUSALS = {"ServiceUnavailable", "InternalError", "InternalException"}


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

    def __init__(self, binary, data_dir, port, log_path, prefix=()):
        self.binary, self.data_dir, self.port = binary, data_dir, port
        self.log_path = log_path
        self.prefix = list(prefix)   # strace or nsenter: runs the server
        self.proc = None
        self.endpoint = "http://127.0.0.1:%d" % port

    def log_count(self, text):
        """Lines of the server log (every run) that contain text."""
        try:
            with open(self.log_path, "rb") as f:
                return sum(1 for ln in f if text.encode() in ln)
        except OSError:
            return 0

    def server_pid(self):
        """The server's own pid: under strace, the tracer's child."""
        if not self.prefix or self.prefix[0] != "strace":
            return self.proc.pid
        path = "/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)
        try:
            with open(path) as f:
                kids = f.read().split()
        except OSError:
            kids = []
        return int(kids[0]) if kids else self.proc.pid

    def start(self, timeout=30.0):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.prefix +
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
            os.kill(self.server_pid(), signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.server_pid(), signal.SIGTERM)
            try:
                return self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.server_pid(), signal.SIGKILL)
                self.proc.wait(timeout=10)
                return None
        return self.proc.returncode if self.proc else None


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


def kind_of(key):
    """"x" or "y", from the key: what the filter policy and the second
    EventBridge rule select on."""
    return "x" if hashlib.sha256(key.encode()).digest()[0] % 2 else "y"


def bulk_body(key):
    """60-150 KB derived from the key: the disk-full mode's filler load."""
    h = hashlib.sha256(key.encode()).hexdigest()
    n = 60000 + int(h[:8], 16) % 90000
    return key + "|" + (h * (n // 64 + 1))[:n]


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
        self.sns_seen = {"raw": set(), "env": set(), "filt": set()}
        # EventBridge: body key -> detail text
        self.ev_acked = {}
        self.ev_doubt = {}
        self.ev_seen = {"all": set(), "x": set()}
        # disk-full mode's bulk queue: MessageId -> body key; in doubt: keys
        self.bulk_acked = {}
        self.bulk_doubt = set()
        self.bulk_deleted = set()
        # counters
        self.checked = 0
        self.calls = {"acked": 0, "doubt": 0}
        self.errors = collections.Counter()   # ClientError codes seen

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
    def __init__(self, ledger, clients, urls, topic, rng_seed, run_id,
                 bulk=False, max_seconds=60, strict_errors=False):
        """clients: one (sqs, sns, events) triple per worker thread, made
        once (a boto3 client takes a while to build) and reused across
        restarts.  bulk adds the disk-full mode's large sends;
        strict_errors makes any error answer but a refusal a violation."""
        self.L, self.clients, self.urls, self.topic = (ledger, clients, urls,
                                                       topic)
        self.stop = threading.Event()
        self.seed = rng_seed
        self.run_id = run_id
        self.bulk = bulk
        self.max_seconds = max_seconds
        self.strict_errors = strict_errors
        self.threads = []

    def start(self):
        specs = [self.std_sender, self.std_sender, self.std_receiver,
                 self.std_receiver, self.fifo_sender, self.fifo_receiver,
                 self.sns_publisher, self.events_publisher]
        if self.bulk:
            specs.append(self.bulk_sender)
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
        sqs, sns, ev = self.clients[seed % len(self.clients)]
        deadline = now() + self.max_seconds  # a round never lasts this long
        while not self.stop.is_set() and now() < deadline:
            try:
                fn(rng, sqs, sns, ev)
            except botocore.exceptions.ClientError as e:
                code = e.response.get("Error", {}).get("Code")
                with self.L.lock:
                    self.L.errors[code] += 1
                if self.strict_errors and code not in REFUSALS:
                    self.L.violate("worker %s: unexpected error %s: %s"
                                   % (fn.__name__, code, e))
                time.sleep(0.02)
            except (botocore.exceptions.BotoCoreError,
                    botocore.parsers.ResponseParserError, OSError):
                # the server is down, or was killed while it was writing
                # the answer (a truncated body): keep trying
                time.sleep(0.02)
            except Exception as e:     # e.g. a body that does not parse
                self.L.violate("worker %s: %r" % (fn.__name__, e))
                time.sleep(0.02)

    def _refused(self, e):
        """Whether an error answer says the call changed nothing: a full
        disk's refusal (disk-full mode, where the data dir is a tmpfs, so a
        commit that failed left nothing behind)."""
        return (self.strict_errors and
                isinstance(e, botocore.exceptions.ClientError) and
                e.response.get("Error", {}).get("Code") in REFUSALS)

    def _attempt(self, doubt, keys, call):
        """Makes call() and returns its answer.  If it raises: a definite
        refusal takes keys out of doubt (they must not appear); anything
        else leaves them in doubt and counts an in-doubt call."""
        L = self.L
        try:
            return call()
        except Exception as e:
            with L.lock:
                if self._refused(e):
                    for k in keys:
                        doubt.pop(k, None)
                else:
                    L.calls["doubt"] += 1
            raise

    # -- standard queue
    def std_sender(self, rng, sqs, sns, ev):
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
            r = self._attempt(L.std_doubt, keys, lambda: sqs.send_message_batch(
                QueueUrl=self.urls["std"], Entries=entries))
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

    def std_receiver(self, rng, sqs, sns, ev):
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
    def fifo_sender(self, rng, sqs, sns, ev):
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

    def fifo_receiver(self, rng, sqs, sns, ev):
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
    def sns_publisher(self, rng, sqs, sns, ev):
        L = self.L
        k = "sns:%s" % uuid.uuid4().hex
        body = payload(rng, k)[:2000]
        with L.lock:
            L.sns_doubt[k] = body
        self._attempt(L.sns_doubt, [k], lambda: sns.publish(
            TopicArn=self.topic, Message=body, MessageAttributes={
                "k": {"DataType": "String", "StringValue": k},
                "kind": {"DataType": "String", "StringValue": kind_of(k)}}))
        with L.lock:
            L.calls["acked"] += 1
            L.sns_acked[k] = body
            L.sns_doubt.pop(k, None)
        time.sleep(0.01)

    # -- EventBridge
    def events_publisher(self, rng, sqs, sns, ev):
        L = self.L
        keys = ["ev:%s" % uuid.uuid4().hex for _ in range(rng.randint(1, 3))]
        texts = {k: payload(rng, k)[:1500] for k in keys}
        with L.lock:
            L.ev_doubt.update(texts)
        r = self._attempt(L.ev_doubt, keys, lambda: ev.put_events(Entries=[{
            "EventBusName": "torture-bus", "Source": "torture", "DetailType": "t",
            "Detail": json.dumps({"k": k, "kind": kind_of(k), "text": texts[k]})}
            for k in keys]))
        with L.lock:
            L.calls["acked"] += 1
            for k, e in zip(keys, r.get("Entries", [])):
                if e.get("EventId"):
                    L.ev_acked[k] = texts[k]
                    L.ev_doubt.pop(k, None)
                else:                 # refused entry: must never arrive
                    L.ev_doubt.pop(k, None)
        time.sleep(0.01)

    # -- disk-full mode: large sends that fill the disk quickly
    def bulk_sender(self, rng, sqs, sns, ev):
        L = self.L
        k = "bulk:%s" % uuid.uuid4().hex
        with L.lock:
            L.bulk_doubt.add(k)
        try:
            r = sqs.send_message(QueueUrl=self.urls["bulk"],
                                 MessageBody=bulk_body(k))
        except botocore.exceptions.ClientError:
            with L.lock:          # refused: not stored
                L.bulk_doubt.discard(k)
            raise
        except Exception:
            with L.lock:
                L.calls["doubt"] += 1
            raise
        with L.lock:
            L.calls["acked"] += 1
            L.bulk_acked[r["MessageId"]] = k
            L.bulk_doubt.discard(k)
        time.sleep(0.02)


# ---- verifier -----------------------------------------------------------

class Verifier:
    """Runs with every worker stopped, right after a restart."""

    def __init__(self, ledger, endpoint, urls):
        self.L, self.urls = ledger, urls
        self.sqs = client("sqs", endpoint, read_timeout=10)
        self.errs = []

    def bad(self, msg):
        self.errs.append(msg)

    def run(self, rng, bulk=False):
        self.std(rng)
        self.fifo()
        self.sns()
        self.events()
        if bulk:
            self.bulk()
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
            if msgs:            # still coming: wait as long again
                deadline = now() + VERIFY_TIMEOUT
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
            if msgs:            # still coming: wait as long again
                deadline = now() + VERIFY_TIMEOUT
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

    def _fanout(self, what, url, seen, expected, parse, known, allowed):
        """Drains url, where copies of published items arrive: parse(body)
        gives (key, text), or None for a body of the wrong shape; known(key)
        the text sent (acknowledged or in doubt) or None; allowed(key)
        whether this queue may get it at all.  Every key in expected() must
        arrive; seen collects the keys that did, across rounds."""
        deadline = now() + VERIFY_TIMEOUT
        empties = 0
        while now() < deadline:
            if not (expected() - seen) and empties >= 1:
                break
            r = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                VisibilityTimeout=120, MessageAttributeNames=["All"])
            msgs = r.get("Messages", [])
            if msgs:            # still coming: wait as long again
                deadline = now() + VERIFY_TIMEOUT
            empties = empties + 1 if not msgs else 0
            for m in msgs:
                self.L.checked += 1
                got = parse(m["Body"])
                if got is None:
                    self.bad("%s: a message of the wrong shape" % what)
                    continue
                k, text = got
                want = known(k)
                if want is None:
                    self.bad("%s: unknown item %s" % (what, k[:40]))
                elif text != want:
                    self.bad("%s: %s altered" % (what, k))
                elif not allowed(k):
                    self.bad("%s: %s delivered against the filter" % (what, k))
                seen.add(k)
            self._batch(url, msgs, "delete", None)
        for k in sorted(expected() - seen):
            self.bad("%s: acknowledged %s never arrived" % (what, k))
            seen.add(k)   # report once

    def sns(self):
        L = self.L

        def envelope(body):
            try:
                text = json.loads(body)["Message"]
            except (ValueError, KeyError, TypeError):
                return None
            return body_key(text), text

        def raw(body):
            return body_key(body), body

        def known(k):
            return L.sns_acked.get(k) or L.sns_doubt.get(k)

        def all_acked():
            return set(L.sns_acked)

        def x_acked():
            return {k for k in L.sns_acked if kind_of(k) == "x"}

        for kind, parse, expected, allowed in (
                ("raw", raw, all_acked, lambda k: True),
                ("env", envelope, all_acked, lambda k: True),
                ("filt", raw, x_acked, lambda k: kind_of(k) == "x")):
            self._fanout("sns %s queue" % kind, self.urls["sns_" + kind],
                         L.sns_seen[kind], expected, parse, known, allowed)

    def events(self):
        L = self.L

        def detail(body):
            try:
                d = json.loads(body)["detail"]
                return d["k"], d["text"]
            except (ValueError, KeyError, TypeError):
                return None

        def known(k):
            return L.ev_acked.get(k) or L.ev_doubt.get(k)

        for which, expected, allowed in (
                ("all", lambda: set(L.ev_acked), lambda k: True),
                ("x", lambda: {k for k in L.ev_acked if kind_of(k) == "x"},
                 lambda k: kind_of(k) == "x")):
            self._fanout("events %s queue" % which, self.urls["ev_" + which],
                         L.ev_seen[which], expected, detail, known, allowed)

    def bulk(self):
        """The disk-full mode's bulk queue: everything acknowledged and not
        yet deleted is there, intact; then all of it is deleted."""
        L, url = self.L, self.urls["bulk"]
        expect = set(L.bulk_acked) - L.bulk_deleted
        by_key = {k: mid for mid, k in L.bulk_acked.items()}
        got = {}
        deadline = now() + VERIFY_TIMEOUT
        empties = 0
        while now() < deadline and (not expect <= set(got) or empties < 1):
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=1, VisibilityTimeout=120)
            msgs = r.get("Messages", [])
            if msgs:            # still coming: wait as long again
                deadline = now() + VERIFY_TIMEOUT
            empties = empties + 1 if not msgs else 0
            for m in msgs:
                L.checked += 1
                k = body_key(m["Body"])
                if m["MessageId"] in L.bulk_deleted:
                    self.bad("bulk: acknowledged delete of %s came back" % k)
                elif by_key.get(k) not in (None, m["MessageId"]):
                    self.bad("bulk: %s stored twice" % k)
                elif k not in by_key and k not in L.bulk_doubt:
                    self.bad("bulk: unknown message %s" % k[:40])
                elif m["Body"] != bulk_body(k):
                    self.bad("bulk: %s altered" % k)
                got[m["MessageId"]] = m
        for mid in sorted(expect - set(got)):
            self.bad("bulk: acknowledged message %s lost" % L.bulk_acked[mid])
        L.bulk_doubt.clear()
        self._batch(url, list(got.values()), "delete",
                    lambda m: L.bulk_deleted.add(m["MessageId"]))


# ---- main ---------------------------------------------------------------

def setup(endpoint):
    """The queues, the topic and its three subscriptions, the bus and its
    two rules (and the bulk queue the disk-full mode fills)."""
    sqs = client("sqs", endpoint)
    sns = client("sns", endpoint)
    ev = client("events", endpoint)
    names = {"std": "torture-std", "sns_raw": "torture-sns-raw",
             "sns_env": "torture-sns-env", "sns_filt": "torture-sns-filt",
             "ev_all": "torture-ev-all", "ev_x": "torture-ev-x",
             "bulk": "torture-bulk"}
    urls = {k: sqs.create_queue(QueueName=n)["QueueUrl"] for k, n in names.items()}
    urls["fifo"] = sqs.create_queue(QueueName="torture-fifo.fifo",
                                    Attributes={"FifoQueue": "true"})["QueueUrl"]

    def arn(key):
        return sqs.get_queue_attributes(
            QueueUrl=urls[key], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="torture-topic")["TopicArn"]
    raw = {"RawMessageDelivery": "true"}
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn("sns_raw"),
                  Attributes=raw)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn("sns_env"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn("sns_filt"),
                  Attributes=dict(raw, FilterPolicy=json.dumps({"kind": ["x"]})))
    ev.create_event_bus(Name="torture-bus")
    for rule, pattern, key in (
            ("torture-all", {"source": ["torture"]}, "ev_all"),
            ("torture-x", {"source": ["torture"], "detail": {"kind": ["x"]}},
             "ev_x")):
        ev.put_rule(Name=rule, EventBusName="torture-bus",
                    EventPattern=json.dumps(pattern))
        ev.put_targets(Rule=rule, EventBusName="torture-bus",
                       Targets=[{"Id": "q", "Arn": arn(key)}])
    return urls, topic


class Run:
    """What every mode shares: the server, the ledger, the clients and the
    tally of checks (one per restart, round or trace)."""

    def __init__(self, args, srv, rng, run_id):
        self.args, self.srv, self.rng, self.run_id = args, srv, rng, run_id
        self.L = Ledger()
        self.passed = self.failed = self.kills = 0
        self.t_start = now()
        self.urls = self.topic = self.clients = None

    def setup(self):
        self.urls, self.topic = setup(self.srv.endpoint)
        self.clients = [(client("sqs", self.srv.endpoint, read_timeout=5),
                         client("sns", self.srv.endpoint, read_timeout=5),
                         client("events", self.srv.endpoint, read_timeout=5))
                        for _ in range(9)]

    def workers(self, **kw):
        return Workers(self.L, self.clients, self.urls, self.topic,
                       self.rng.randrange(1 << 20), self.run_id, **kw)

    def verify(self, bulk=False):
        return Verifier(self.L, self.srv.endpoint, self.urls).run(self.rng, bulk)

    def out_of_time(self, rounds):
        if now() - self.args.t0 <= self.args.max_seconds:
            return False
        print("torture: time limit reached after %d rounds" % rounds)
        return True

    def tally(self, label, errs, note=""):
        with self.L.lock:
            errs = errs + self.L.violations
            self.L.violations = []
        if errs:
            self.failed += 1
            print("%s: FAIL (%d violations)" % (label, len(errs)))
            for e in errs[:20]:
                print("  " + e)
        else:
            self.passed += 1
            print("%s: ok (acked calls %d, in doubt %d, messages checked %d%s)"
                  % (label, self.L.calls["acked"], self.L.calls["doubt"],
                     self.L.checked, note), flush=True)


def injected_keys():
    return {"std": "00000000-0000-0000-0000-injected", "fifo": fifo_key(0, 10 ** 9),
            "sns": "sns:injected", "ev": "ev:injected"}


def inject(L):
    """Self-test of the checker: acknowledgements the server never gave.
    Returns how many violations they must cause (a publish and an event
    once for each queue that would have received them)."""
    k = injected_keys()
    L.std_acked[k["std"]] = "std:x|y"
    L.fifo_acked[k["fifo"]] = ("fifo:0:%d|y" % 10 ** 9, now())
    L.sns_acked[k["sns"]] = "sns:injected|y"
    L.ev_acked[k["ev"]] = "ev:injected|y"
    x = kind_of(k["sns"]) == "x", kind_of(k["ev"]) == "x"
    return 2 + (2 + x[0]) + (1 + x[1])


def uninject(L, errs, want, rnd):
    inj = [e for e in errs if "injected" in e or str(10 ** 9) in e]
    rest = [e for e in errs if e not in inj]
    print("round %d: injected 4 false acknowledgements (%d violations), the "
          "checker caught %d: %s" % (rnd, want, len(inj), inj))
    if len(inj) != want:
        rest.append("checker missed injected violations")
    k = injected_keys()
    L.std_acked.pop(k["std"], None)
    L.fifo_acked.pop(k["fifo"], None)
    L.sns_acked.pop(k["sns"], None)
    L.ev_acked.pop(k["ev"], None)
    return rest


def kill_mode(run):
    """SIGKILL under load, restart, ledger check; args.kills times."""
    args, srv, L = run.args, run.srv, run.L
    for rnd in range(1, args.kills + 1):
        if run.out_of_time(rnd - 1):
            break
        w = run.workers()
        w.start()
        time.sleep(run.rng.uniform(args.min_run, args.max_run))
        srv.kill()
        run.kills += 1
        if not w.join():
            L.violate("round %d: workers did not stop" % rnd)
        t_restart = now()
        srv.start()
        t_up = now()
        time.sleep(WORK_VT + 0.3)   # in-flight messages turn visible
        want = inject(L) if rnd == args.inject else 0
        errs = run.verify()
        if rnd == args.inject:
            errs = uninject(L, errs, want, rnd)
        run.tally("round %d" % rnd, errs, "; restart %.1f s, check %.1f s"
                  % (t_up - t_restart, now() - t_up))


def sync_order_mode(run, trace_path):
    """One load under strace, then the trace's ordering check."""
    args, srv, L = run.args, run.srv, run.L
    w = run.workers()
    w.start()
    time.sleep(args.load_seconds)
    if not w.join():
        L.violate("workers did not stop")
    time.sleep(WORK_VT + 0.3)
    errs = run.verify()
    rc = srv.stop()
    if rc != 0:
        errs.append("server exited %s on SIGTERM under strace" % rc)
    with open(trace_path, errors="replace") as f:
        lines = f.read().splitlines()
    checked, bad, syncs = syncorder.check(lines)
    # Self-test: without the syncs every one of those answers is early.
    blind, blind_bad, _ = syncorder.check(lines, drop_syncs=True)
    print("sync-order: %d trace lines, %d WAL syncs, %d answers to writes "
          "checked, %d early; with the syncs removed the checker flags %d of %d"
          % (len(lines), syncs, checked, len(bad), len(blind_bad), blind))
    errs += bad[:50]
    if checked < args.min_checked:
        errs.append("only %d answers to writes in the trace (want %d)"
                    % (checked, args.min_checked))
    if len(blind_bad) != blind:
        errs.append("self-test: the checker missed answers with no sync")
    errs += ["self-test: " + e for e in syncorder.selftest()]
    run.tally("sync-order", errs, "; %d answers checked against %d syncs"
              % (checked, syncs))


def wait_for(pred, timeout, step=0.1):
    deadline = now() + timeout
    while now() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def writes_accepted(run):
    """A harmless write (a queue tag): True if it works, False if refused."""
    try:
        run.clients[0][0].tag_queue(QueueUrl=run.urls["std"],
                                    Tags={"probe": str(time.time())})
        return True
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ServiceUnavailable":
            raise
        return False
    except (botocore.exceptions.BotoCoreError, OSError):
        return False


def disk_full_mode(run, disk, first, count):
    """Rounds first..first+count-1 of: fill the disk under load, stay full a
    while, return the space (sometimes crashing first), ledger check."""
    srv, L = run.srv, run.L
    full_line, back_line = "store: disk full", "disk space available again"
    for rnd in range(first, first + count):
        if run.out_of_time(rnd - 1):
            break
        errs = []
        # Start from a server that accepts writes, then leave little room.
        disk.remove("filler")
        if not wait_for(lambda: writes_accepted(run), 15, 0.3):
            errs.append("writes not accepted before the round")
        disk.fill_to("filler", int(run.rng.uniform(0.3, 2.0) * (1 << 20)))
        fulls, backs = srv.log_count(full_line), srv.log_count(back_line)
        refused0 = sum(L.errors[c] for c in REFUSALS)
        w = run.workers(bulk=True, max_seconds=120, strict_errors=True)
        w.start()
        filled = wait_for(lambda: srv.log_count(full_line) > fulls, 60)
        if not filled:
            errs.append("the disk did not fill within 60 s")
        time.sleep(run.rng.uniform(0.5, 2.0))       # full, under load
        refused = sum(L.errors[c] for c in REFUSALS) - refused0
        if filled and refused == 0:
            errs.append("nothing was refused while the disk was full")
        how = run.rng.random()
        if how < 0.3:
            # Crash while full, restart on the full disk, then free it.
            srv.kill()
            run.kills += 1
            w.join()
            srv.start()
            what = "killed while full"
        disk.remove("filler")
        if not wait_for(lambda: writes_accepted(run), 15, 0.3):
            errs.append("writes not accepted within 15 s of space returning")
        if how >= 0.3:
            time.sleep(run.rng.uniform(0.5, 1.5))   # load after recovery
            what = "no restart"
            if how < 0.65:
                srv.kill()
                run.kills += 1
                w.join()
                srv.start()
                what = "killed after recovery"
        if not w.join():
            errs.append("workers did not stop")
        # One log line for each change of state, not one per request.
        new_full = srv.log_count(full_line) - fulls
        new_back = srv.log_count(back_line) - backs
        if not (1 <= new_full <= 2 and new_back <= 2):
            errs.append("log: %d disk-full and %d recovered lines in one round"
                        % (new_full, new_back))
        time.sleep(WORK_VT + 0.3)
        errs += run.verify(bulk=True)
        run.tally("round %d" % rnd, errs, "; %s, %d refused while full; %s"
                  % (what, refused, disk_usage(disk, srv.data_dir)))


def disk_usage(disk, data_dir):
    """The sizes of the database files, for the round's line."""
    sizes = {}
    for name in ("sluice.db", "sluice.db-wal"):
        out = disk.run(["stat", "-c", "%s", os.path.join(data_dir, name)], check=False)
        sizes[name] = int(out) / (1 << 20) if out.strip().isdigit() else 0
    return "db %.1f MB, wal %.1f MB, free %.1f MB" % (
        sizes["sluice.db"], sizes["sluice.db-wal"], disk.free_bytes() / (1 << 20))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", default="build/sluice")
    ap.add_argument("--mode", choices=("kill", "sync-order", "disk-full"),
                    default="kill")
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--min-run", type=float, default=0.3,
                    help="shortest load before a kill, seconds")
    ap.add_argument("--max-run", type=float, default=2.5)
    ap.add_argument("--load-seconds", type=float, default=10,
                    help="sync-order: how long the load runs under strace")
    ap.add_argument("--min-checked", type=int, default=100,
                    help="sync-order: fewest answers to writes to check")
    ap.add_argument("--rounds", type=int, default=3,
                    help="disk-full: rounds of filling up and freeing")
    ap.add_argument("--disk-mb", type=int, default=48,
                    help="disk-full: size of the tmpfs")
    ap.add_argument("--rounds-per-disk", type=int, default=3,
                    help="disk-full: rounds before starting over on a fresh disk")
    ap.add_argument("--max-seconds", type=float, default=1200,
                    help="stop starting rounds after this long")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--inject", type=int, default=0,
                    help="self-test: in this round, add 4 acknowledgements "
                    "the server never gave and require them to be caught")
    ap.add_argument("--keep", action="store_true",
                    help="keep the data directory and server log")
    args = ap.parse_args()

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    args.t0 = now()
    tmp = tempfile.mkdtemp(prefix="sluice-torture.")
    print("torture: mode %s, seed %d, data in %s" % (args.mode, seed, tmp),
          flush=True)
    try:
        runs = run_mode(args, tmp, rng)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if runs is None:
        print("torture: 0 passed, 0 failed")
        return 0
    calls, errors = collections.Counter(), collections.Counter()
    for r in runs:
        calls.update(r.L.calls)
        errors.update(r.L.errors)
    passed = sum(r.passed for r in runs)
    failed = sum(r.failed for r in runs)
    print("torture: %s: %d kills, %d acknowledged calls, %d in doubt, "
          "%d message deliveries checked, error answers %s, %.0f s"
          % (args.mode, sum(r.kills for r in runs), calls["acked"], calls["doubt"],
             sum(r.L.checked for r in runs), dict(errors) or "none", now() - args.t0))
    print("torture: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def serve_and_run(args, rng, data, log_path, prefix, fn):
    """One server (with its own ledger) through fn(run); a harness or
    server failure counts as a failed check."""
    srv = Server(os.path.abspath(args.sluice), data, free_port(), log_path, prefix)
    run = Run(args, srv, rng, uuid.uuid4().hex[:8])
    try:
        srv.start(timeout=60)
        run.setup()
        fn(run)
    except Exception as e:
        run.failed += 1
        print("torture: aborted: %r" % (e,))
        try:
            with open(srv.log_path, "rb") as f:
                print(f.read()[-3000:].decode(errors="replace"))
        except OSError:
            pass
    finally:
        srv.stop()
    return run


def run_mode(args, tmp, rng):
    """The runs of the mode, or None when it cannot run here (skipped)."""
    log = os.path.join(tmp, "server.log")
    if args.mode == "kill":
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        return [serve_and_run(args, rng, data, log, [], kill_mode)]
    if args.mode == "sync-order":
        if not shutil.which("strace"):
            print("torture: sync-order skipped: strace is not installed "
                  "(apt-get install strace)")
            return None
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        trace = os.path.join(tmp, "strace.txt")
        return [serve_and_run(args, rng, data, log,
                              syncorder.STRACE_ARGS + ["-o", trace],
                              lambda run: sync_order_mode(run, trace))]
    # disk-full: a fresh small disk every few rounds, since the database
    # keeps the room each filling made it grow into (docs/durability.md).
    runs, done = [], 0
    while done < args.rounds and now() - args.t0 <= args.max_seconds:
        disk = smalldisk.SmallDisk(os.path.join(tmp, "disk%d" % len(runs)),
                                   args.disk_mb)
        try:
            disk.mount()
        except smalldisk.Unavailable as e:
            print("torture: disk-full skipped: %s" % e)
            return None
        n = min(args.rounds_per_disk, args.rounds - done)
        first = done + 1
        try:
            runs.append(serve_and_run(
                args, rng, os.path.join(disk.path, "data"),
                os.path.join(tmp, "server%d.log" % len(runs)), disk.prefix,
                lambda run: disk_full_mode(run, disk, first, n)))
        finally:
            disk.unmount()
        done += n
    return runs


if __name__ == "__main__":
    sys.exit(main())
