"""Load clients for the comparison bench (bench/compare/run.sh).

One workload, several brokers: P producer processes publish N messages of
SIZE bytes in total, each counted only when the broker has acknowledged it
as stored; C consumer processes receive them concurrently and count each
only after acknowledging (deleting) it. Producers pause while more than
BACKLOG messages are published but not yet consumed, as bench/loadgen.c
does, so that send -> receive latency measures the system rather than an
ever-growing queue. Every body starts with the CLOCK_MONOTONIC time it was
sent (all processes share that clock), so consumers measure send -> receive
latency.

Systems (the client a user of each would reach for):
  rabbit-quorum, rabbit-classic  pika (Debian python3-pika), durable queue,
                                 persistent messages, publisher confirms
                                 (10 unconfirmed publishes at most per
                                 producer), manual acks (prefetch 100,
                                 acked in groups of up to 10)
  redis                          redis-py (Debian python3-redis): XADD in
                                 pipelines of 10, XREADGROUP COUNT 10, XACK
  sqs-query                      boto3 (Debian, Query protocol):
                                 SendMessageBatch / ReceiveMessage /
                                 DeleteMessageBatch, 10 at a time
                                 (--single-delete: DeleteMessage per
                                 distinct receipt handle)

It prints one line "RESULT key=value ..." with send and receive rates
(msgs/s from the common start to the last acknowledged send / receive),
p50/p99 send -> receive latency in ms, counts and errors. Runs are bounded
by --max-secs; "capped=1" means the bound stopped it before N.
Only 127.0.0.1 is used.
"""

import argparse
import multiprocessing as mp
import os
import struct
import sys
import time

CLOCK = time.CLOCK_MONOTONIC


def now_ns():
    return time.clock_gettime_ns(CLOCK)


def make_body(size):
    stamp = struct.pack(">Q", now_ns()).hex()      # 16 hex chars
    return (stamp + "x" * max(0, size - len(stamp))).encode()


def stamp_of(body):
    if isinstance(body, str):
        body = body.encode()
    return int(body[:16], 16)


# ---- per-system adapters ------------------------------------------------
# Each adapter has producer(ctx) and consumer(ctx) functions; ctx carries
# the options, the shared counters and a stop deadline.

class Ctx:
    def __init__(self, args, shared):
        self.a = args
        self.sent, self.recv, self.errors, self.claimed = shared
        self.deadline = 0.0

    def claim(self, k):
        """Claims up to k of the N messages to send; returns how many."""
        with self.claimed.get_lock():
            left = self.a.n - self.claimed.value
            got = max(0, min(k, left))
            self.claimed.value += got
            return got

    def wait_backlog(self):
        while (self.sent.value - self.recv.value > self.a.backlog
               and time.monotonic() < self.deadline):
            time.sleep(0.0005)

    def add(self, counter, k):
        with counter.get_lock():
            counter.value += k

    def done_receiving(self):
        return self.recv.value >= self.a.n or time.monotonic() > self.deadline


def rabbit_connect(a):
    import pika
    params = pika.ConnectionParameters(host="127.0.0.1", port=a.port,
                                       heartbeat=0, blocked_connection_timeout=60)
    return pika.BlockingConnection(params)


def rabbit_setup(a):
    conn = rabbit_connect(a)
    ch = conn.channel()
    args = {"x-queue-type": "quorum" if a.system == "rabbit-quorum"
            else "classic"}
    ch.queue_declare(queue=a.queue, durable=True, arguments=args)
    conn.close()


def rabbit_producer(ctx):
    """Publisher confirms with up to 10 publishes awaiting their confirm
    (pika's asynchronous connection; the blocking channel would wait for
    each confirm in turn)."""
    import collections
    import pika
    props = pika.BasicProperties(delivery_mode=2)
    st = {"ch": None, "next_tag": 1, "done": False}
    outstanding = collections.deque()

    def publish_more():
        ch = st["ch"]
        while len(outstanding) < 10 and not st["done"]:
            if time.monotonic() > ctx.deadline or not ctx.claim(1):
                st["done"] = True
                break
            ctx.wait_backlog()
            ch.basic_publish("", ctx.a.queue, make_body(ctx.a.size),
                             properties=props)
            outstanding.append(st["next_tag"])
            st["next_tag"] += 1
        if st["done"] and not outstanding:
            conn.close()

    def on_confirm(frame):
        m = frame.method
        k = 0
        while outstanding and (outstanding[0] <= m.delivery_tag
                               if m.multiple else
                               outstanding[0] == m.delivery_tag):
            outstanding.popleft()
            k += 1
        if not m.multiple and k == 0 and m.delivery_tag in outstanding:
            outstanding.remove(m.delivery_tag)
            k = 1
        if isinstance(m, pika.spec.Basic.Ack):
            ctx.add(ctx.sent, k)
        else:
            ctx.add(ctx.errors, k)
        publish_more()

    def on_channel(ch):
        st["ch"] = ch
        ch.confirm_delivery(on_confirm, callback=lambda _f: publish_more())

    conn = pika.SelectConnection(
        pika.ConnectionParameters(host="127.0.0.1", port=ctx.a.port,
                                  heartbeat=0),
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda c, e: c.ioloop.stop(),
        on_close_callback=lambda c, r: c.ioloop.stop())
    conn.ioloop.start()


def rabbit_consumer(ctx, lat):
    conn = rabbit_connect(ctx.a)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=100)
    pending = [0, None]          # unacked count, last delivery tag

    def flush():
        if pending[0]:
            ch.basic_ack(delivery_tag=pending[1], multiple=True)
            ctx.add(ctx.recv, pending[0])
            pending[0] = 0

    def on_msg(chan, method, props, body):
        lat.append(now_ns() - stamp_of(body))
        pending[0] += 1
        pending[1] = method.delivery_tag
        if pending[0] >= 10:
            flush()

    ch.basic_consume(ctx.a.queue, on_msg, auto_ack=False)
    while not ctx.done_receiving():
        conn.process_data_events(time_limit=0.05)
        flush()
    flush()
    conn.close()


def redis_conn(a):
    import redis
    return redis.Redis(host="127.0.0.1", port=a.port)


def redis_setup(a):
    r = redis_conn(a)
    r.delete(a.queue)
    r.xgroup_create(a.queue, "g", id="0", mkstream=True)


def redis_producer(ctx):
    r = redis_conn(ctx.a)
    while time.monotonic() < ctx.deadline:
        k = ctx.claim(10)
        if not k:
            break
        ctx.wait_backlog()
        try:
            p = r.pipeline(transaction=False)
            for _ in range(k):
                p.xadd(ctx.a.queue, {"b": make_body(ctx.a.size)})
            p.execute()
            ctx.add(ctx.sent, k)
        except Exception:
            ctx.add(ctx.errors, 1)


def redis_consumer(ctx, lat, name):
    r = redis_conn(ctx.a)
    while not ctx.done_receiving():
        try:
            res = r.xreadgroup("g", name, {ctx.a.queue: ">"}, count=10,
                               block=200)
        except Exception:
            ctx.add(ctx.errors, 1)
            continue
        if not res:
            continue
        entries = res[0][1]
        t = now_ns()
        ids = []
        for mid, fields in entries:
            lat.append(t - stamp_of(fields[b"b"]))
            ids.append(mid)
        r.xack(ctx.a.queue, "g", *ids)
        ctx.add(ctx.recv, len(ids))


def sqs_client(a):
    import boto3
    import botocore.config
    cfg = botocore.config.Config(region_name="us-east-1",
                                 retries={"total_max_attempts": 1},
                                 max_pool_connections=2)
    return boto3.session.Session().client(
        "sqs", endpoint_url="http://127.0.0.1:%d" % a.port,
        aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench",
        config=cfg)


def sqs_setup(a):
    c = sqs_client(a)
    url = c.create_queue(QueueName=a.queue)["QueueUrl"]
    # sqslite only recognises queue URLs whose host is "localhost"; the
    # requests themselves still go to 127.0.0.1 (endpoint_url).
    url = url.replace("://127.0.0.1:", "://localhost:")
    with open(a.state, "w") as f:
        f.write(url)


def sqs_url(a):
    with open(a.state) as f:
        return f.read().strip()


def sqs_producer(ctx):
    c, url = sqs_client(ctx.a), sqs_url(ctx.a)
    while time.monotonic() < ctx.deadline:
        k = ctx.claim(10)
        if not k:
            break
        ctx.wait_backlog()
        entries = [{"Id": str(i), "MessageBody":
                    make_body(ctx.a.size).decode()} for i in range(k)]
        try:
            r = c.send_message_batch(QueueUrl=url, Entries=entries)
            ctx.add(ctx.sent, len(r.get("Successful", [])))
            if r.get("Failed"):
                ctx.add(ctx.errors, len(r["Failed"]))
        except Exception:
            ctx.add(ctx.errors, 1)


def sqs_consumer(ctx, lat):
    c, url = sqs_client(ctx.a), sqs_url(ctx.a)
    while not ctx.done_receiving():
        try:
            r = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  WaitTimeSeconds=1)
        except Exception:
            ctx.add(ctx.errors, 1)
            continue
        msgs = r.get("Messages", [])
        if not msgs:
            continue
        t = now_ns()
        for m in msgs:
            lat.append(t - stamp_of(m["Body"]))
        try:
            if ctx.a.single_delete:
                # One DeleteMessage per distinct receipt handle (sqslite
                # 2.1.1 gives every message of one receive the same handle,
                # and its DeleteMessageBatch keeps the listed messages and
                # drops the rest of the queue).
                for h in dict.fromkeys(m["ReceiptHandle"] for m in msgs):
                    c.delete_message(QueueUrl=url, ReceiptHandle=h)
                ctx.add(ctx.recv, len(msgs))
            else:
                d = c.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(msgs)])
                ctx.add(ctx.recv, len(d.get("Successful", [])))
                if d.get("Failed"):
                    ctx.add(ctx.errors, len(d["Failed"]))
        except Exception:
            ctx.add(ctx.errors, 1)


ADAPTERS = {
    "rabbit-quorum": (rabbit_setup, rabbit_producer, rabbit_consumer),
    "rabbit-classic": (rabbit_setup, rabbit_producer, rabbit_consumer),
    "redis": (redis_setup, redis_producer, redis_consumer),
    "sqs-query": (sqs_setup, sqs_producer, sqs_consumer),
}


# ---- driver -------------------------------------------------------------

def run_producer(args, shared, start_at, last_send):
    ctx = Ctx(args, shared)
    ctx.deadline = start_at + args.max_secs
    while time.monotonic() < start_at:
        time.sleep(0.001)
    ADAPTERS[args.system][1](ctx)
    with last_send.get_lock():
        last_send.value = max(last_send.value, time.monotonic())


def run_consumer(args, shared, start_at, last_recv, out, idx):
    ctx = Ctx(args, shared)
    ctx.deadline = start_at + args.max_secs
    lat = []
    fn = ADAPTERS[args.system][2]
    while time.monotonic() < start_at:
        time.sleep(0.001)
    if args.system == "redis":
        fn(ctx, lat, "c%d" % idx)
    else:
        fn(ctx, lat)
    with last_recv.get_lock():
        last_recv.value = max(last_recv.value, time.monotonic())
    out.put(lat)


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, int(p / 100.0 * len(sorted_vals)))
    return sorted_vals[i]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("system", choices=sorted(ADAPTERS))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--producers", type=int, default=16)
    ap.add_argument("--consumers", type=int, default=16)
    ap.add_argument("--backlog", type=int, default=2000)
    ap.add_argument("--max-secs", type=float, default=60)
    ap.add_argument("--queue", default="bench-compare")
    ap.add_argument("--state", default="/tmp/bench-compare-url")
    ap.add_argument("--single-delete", action="store_true",
                    help="sqs-query: DeleteMessage per distinct receipt "
                    "handle instead of DeleteMessageBatch")
    a = ap.parse_args()
    a.size = max(a.size, 32)

    ADAPTERS[a.system][0](a)
    shared = (mp.Value("q", 0), mp.Value("q", 0), mp.Value("q", 0),
              mp.Value("q", 0))
    last_send, last_recv = mp.Value("d", 0.0), mp.Value("d", 0.0)
    out = mp.Queue()
    start_at = time.monotonic() + 1.5          # let every process start
    procs = [mp.Process(target=run_producer,
                        args=(a, shared, start_at, last_send))
             for _ in range(a.producers)]
    procs += [mp.Process(target=run_consumer,
                         args=(a, shared, start_at, last_recv, out, i))
              for i in range(a.consumers)]
    for p in procs:
        p.start()
    lats = []
    for _ in range(a.consumers):
        try:
            lats += out.get(timeout=a.max_secs + 60)
        except Exception:
            break
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    sent, recv, errors = (shared[0].value, shared[1].value,
                          shared[2].value)
    lats.sort()
    ts = max(1e-9, last_send.value - start_at)
    tr = max(1e-9, last_recv.value - start_at)
    print("RESULT system=%s size=%d n=%d sent=%d received=%d errors=%d "
          "capped=%d send_msgs_per_s=%.0f recv_msgs_per_s=%.0f "
          "p50_ms=%.2f p99_ms=%.2f secs=%.1f"
          % (a.system, a.size, a.n, sent, recv, errors,
             1 if recv < a.n else 0, sent / ts, recv / tr,
             pct(lats, 50) / 1e6, pct(lats, 99) / 1e6, tr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
