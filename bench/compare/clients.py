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

Modes (--mode):
  flow   (default) the workload above. Prints one line "RESULT key=value
         ..." with send and receive rates (msgs/s from the common start to
         the last acknowledged send / receive), p50/p99 send -> receive
         latency in ms, counts and errors. Bounded by --max-secs; "capped=1"
         means the bound stopped it before N.
  drain  a backlog: the producers alone publish N messages (--window per
         call, pipeline or unconfirmed publishes; SQS at most 10), then the
         consumers alone receive and ack/delete them all. Each phase is
         bounded by --max-secs; a capped preload drains what it sent.
  idle   --conns consumers wait on an empty queue (pika: basic_consume,
         one channel each, on 4 connections; redis-py: XREADGROUP BLOCK,
         one connection each; boto3: ReceiveMessage WaitTimeSeconds=20,
         one HTTP connection each), spread over 4 processes; once they are
         all waiting, the broker's CPU (utime + stime of --server-pid and
         its descendants) and RSS are sampled for --secs seconds.
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
        self.sent, self.recv, self.errors, self.claimed, self.goal = shared
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
        return (self.recv.value >= self.goal.value
                or time.monotonic() > self.deadline)


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
    """Publisher confirms with up to --window (10) publishes awaiting their
    confirm (pika's asynchronous connection; the blocking channel would wait
    for each confirm in turn)."""
    import collections
    import pika
    props = pika.BasicProperties(delivery_mode=2)
    st = {"ch": None, "next_tag": 1, "done": False}
    outstanding = collections.deque()

    def publish_more():
        ch = st["ch"]
        while len(outstanding) < ctx.a.window and not st["done"]:
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
        k = ctx.claim(ctx.a.window)
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
        k = ctx.claim(min(10, ctx.a.window))
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


# ---- idle waiters -------------------------------------------------------
# Each runs `count` consumers waiting on the empty queue until stop_at
# (time.monotonic()), counting each in `ready` once it is set up.

def rabbit_idle(a, count, ready, errors, stop_at, tag):
    import pika
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        host="127.0.0.1", port=a.port))
    chans = []
    for _ in range(count):
        ch = conn.channel()
        ch.basic_qos(prefetch_count=10)
        ch.basic_consume(a.queue, lambda *x: None, auto_ack=False)
        chans.append(ch)
        with ready.get_lock():
            ready.value += 1
    while time.monotonic() < stop_at:
        conn.process_data_events(time_limit=1)
    conn.close()


def redis_idle(a, count, ready, errors, stop_at, tag):
    import threading

    def waiter(name):
        r = redis_conn(a)
        try:
            r.ping()
        except Exception:
            with errors.get_lock():
                errors.value += 1
            return
        with ready.get_lock():
            ready.value += 1
        while time.monotonic() < stop_at:
            try:
                left = int((stop_at - time.monotonic()) * 1000)
                r.xreadgroup("g", name, {a.queue: ">"}, count=10,
                             block=max(1, min(20000, left)))
            except Exception:
                with errors.get_lock():
                    errors.value += 1
                time.sleep(0.1)

    ths = [threading.Thread(target=waiter, args=("i%s-%d" % (tag, i),),
                            daemon=True) for i in range(count)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(timeout=max(0.0, stop_at - time.monotonic()) + 25)


def sqs_idle(a, count, ready, errors, stop_at, tag):
    import threading
    import boto3
    import botocore.config
    cfg = botocore.config.Config(region_name="us-east-1",
                                 retries={"total_max_attempts": 1},
                                 max_pool_connections=count,
                                 read_timeout=40)
    c = boto3.session.Session().client(
        "sqs", endpoint_url="http://127.0.0.1:%d" % a.port,
        aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench",
        config=cfg)
    url = sqs_url(a)

    def waiter():
        with ready.get_lock():
            ready.value += 1
        while time.monotonic() < stop_at:
            try:
                c.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  WaitTimeSeconds=20)
            except Exception:
                with errors.get_lock():
                    errors.value += 1
                time.sleep(0.1)

    ths = [threading.Thread(target=waiter, daemon=True)
           for _ in range(count)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(timeout=max(0.0, stop_at - time.monotonic()) + 25)


ADAPTERS = {
    "rabbit-quorum": (rabbit_setup, rabbit_producer, rabbit_consumer,
                      rabbit_idle),
    "rabbit-classic": (rabbit_setup, rabbit_producer, rabbit_consumer,
                       rabbit_idle),
    "redis": (redis_setup, redis_producer, redis_consumer, redis_idle),
    "sqs-query": (sqs_setup, sqs_producer, sqs_consumer, sqs_idle),
}


# ---- the broker's CPU and memory ----------------------------------------

def _stat_fields(pid):
    """Fields 3.. of /proc/PID/stat (after the command name)."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return s[s.rfind(")") + 2:].split()


def proc_tree(pid):
    """pid and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(d))[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, i = [pid], 0
    while i < len(out):
        out += kids.get(out[i], [])
        i += 1
    return out


def tree_usage(pids):
    """(CPU ticks, RSS KiB) summed over pids."""
    ticks = rss = 0
    for p in pids:
        try:
            f = _stat_fields(p)
            ticks += int(f[11]) + int(f[12])
            with open("/proc/%d/status" % p) as st:
                for line in st:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return ticks, rss


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


def new_shared(a):
    """sent, received, errors, claimed, goal (messages to receive)."""
    return (mp.Value("q", 0), mp.Value("q", 0), mp.Value("q", 0),
            mp.Value("q", 0), mp.Value("q", a.n))


def run_procs(a, shared, nprod, ncons):
    """Runs nprod producers and ncons consumers from a common start;
    returns (start, last send, last receive, latencies)."""
    last_send, last_recv = mp.Value("d", 0.0), mp.Value("d", 0.0)
    out = mp.Queue()
    start_at = time.monotonic() + 1.5          # let every process start
    procs = [mp.Process(target=run_producer,
                        args=(a, shared, start_at, last_send))
             for _ in range(nprod)]
    procs += [mp.Process(target=run_consumer,
                         args=(a, shared, start_at, last_recv, out, i))
              for i in range(ncons)]
    for p in procs:
        p.start()
    lats = []
    for _ in range(ncons):
        try:
            lats += out.get(timeout=a.max_secs + 60)
        except Exception:
            break
    for p in procs:
        p.join(timeout=a.max_secs + 60 if ncons == 0 else 30)
        if p.is_alive():
            p.kill()
    return start_at, last_send.value, last_recv.value, lats


def run_flow(a):
    shared = new_shared(a)
    start, t_send, t_recv, lats = run_procs(a, shared, a.producers,
                                            a.consumers)
    sent, recv, errors = (shared[0].value, shared[1].value,
                          shared[2].value)
    lats.sort()
    ts = max(1e-9, t_send - start)
    tr = max(1e-9, t_recv - start)
    print("RESULT system=%s size=%d n=%d sent=%d received=%d errors=%d "
          "capped=%d send_msgs_per_s=%.0f recv_msgs_per_s=%.0f "
          "p50_ms=%.2f p99_ms=%.2f secs=%.1f"
          % (a.system, a.size, a.n, sent, recv, errors,
             1 if recv < a.n else 0, sent / ts, recv / tr,
             pct(lats, 50) / 1e6, pct(lats, 99) / 1e6, tr))
    return 0


def run_drain(a):
    a.backlog = 1 << 62                         # nobody receives yet
    shared = new_shared(a)
    start, t_send, _, _ = run_procs(a, shared, a.producers, 0)
    sent = shared[0].value
    rss_full = (tree_usage(proc_tree(a.server_pid))[1]
                if a.server_pid else -1)
    shared[4].value = sent
    start2, _, t_recv, _ = run_procs(a, shared, 0, a.consumers)
    recv, errors = shared[1].value, shared[2].value
    tp = max(1e-9, t_send - start)
    td = max(1e-9, t_recv - start2)
    print("RESULT scenario=drain system=%s messages=%d body=%d window=%d "
          "preloaded=%d preload_secs=%.2f preload_msgs_per_s=%.0f "
          "drained=%d drain_secs=%.2f drain_msgs_per_s=%.0f capped=%d "
          "rss_full_kb=%d errors=%d"
          % (a.system, a.n, a.size, a.window, sent, tp, sent / tp, recv, td,
             recv / td, 1 if sent < a.n or recv < sent else 0, rss_full,
             errors))
    return 0


def idle_proc(a, count, ready, errors, stop_at, tag):
    ADAPTERS[a.system][3](a, count, ready, errors, stop_at, tag)
    os._exit(0)     # waiter threads may still be blocked in a call


def run_idle(a):
    if not a.server_pid:
        sys.exit("clients.py: --mode idle needs --server-pid")
    hz = os.sysconf("SC_CLK_TCK")
    _, rss_before = tree_usage(proc_tree(a.server_pid))
    ready, errors = mp.Value("q", 0), mp.Value("q", 0)
    nproc = 4
    setup_limit = 60.0
    stop_at = time.monotonic() + setup_limit + 2 + a.secs
    procs = [mp.Process(target=idle_proc,
                        args=(a, a.conns // nproc + (i < a.conns % nproc),
                              ready, errors, stop_at, str(i)))
             for i in range(nproc)]
    for p in procs:
        p.start()
    t0 = time.monotonic()
    while ready.value < a.conns and time.monotonic() - t0 < setup_limit:
        time.sleep(0.1)
    time.sleep(2)                     # the last waits reach the broker
    pids = proc_tree(a.server_pid)
    c0, _ = tree_usage(pids)
    w0 = time.monotonic()
    rss_max = 0
    while time.monotonic() - w0 < a.secs:
        time.sleep(0.5)
        rss_max = max(rss_max, tree_usage(pids)[1])
    c1, rss = tree_usage(pids)
    secs = time.monotonic() - w0
    waiting = ready.value
    for p in procs:
        p.kill()
        p.join(timeout=10)
    print("RESULT scenario=idle system=%s conns=%d ready=%d secs=%.2f "
          "cpu_pct=%.2f rss_kb=%d rss_max_kb=%d rss_before_kb=%d errors=%d"
          % (a.system, a.conns, waiting, secs,
             (c1 - c0) / hz / secs * 100.0, rss, rss_max, rss_before,
             errors.value))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("system", choices=sorted(ADAPTERS))
    ap.add_argument("--mode", choices=("flow", "drain", "idle"),
                    default="flow")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--producers", type=int, default=16)
    ap.add_argument("--consumers", type=int, default=16)
    ap.add_argument("--backlog", type=int, default=2000)
    ap.add_argument("--window", type=int, default=10,
                    help="publishes per pipeline / unconfirmed publishes "
                    "per producer (SQS: entries per batch, at most 10)")
    ap.add_argument("--max-secs", type=float, default=60)
    ap.add_argument("--queue", default="bench-compare")
    ap.add_argument("--state", default="/tmp/bench-compare-url")
    ap.add_argument("--conns", type=int, default=1000,
                    help="idle: waiting consumers")
    ap.add_argument("--secs", type=float, default=20,
                    help="idle: seconds the broker is sampled")
    ap.add_argument("--server-pid", type=int, default=0,
                    help="drain, idle: the broker's process")
    ap.add_argument("--single-delete", action="store_true",
                    help="sqs-query: DeleteMessage per distinct receipt "
                    "handle instead of DeleteMessageBatch")
    a = ap.parse_args()
    a.size = max(a.size, 32)
    a.window = max(1, a.window)

    ADAPTERS[a.system][0](a)
    if a.mode == "drain":
        return run_drain(a)
    if a.mode == "idle":
        return run_idle(a)
    return run_flow(a)


if __name__ == "__main__":
    sys.exit(main())
