"""Tables of the comparison bench (bench/compare/run.sh writes the input).

usage: table.py RESULTS DESC [options]

RESULTS has one line per run: "SCENARIO|SYSTEM|SIZE RESULT key=value ...";
DESC one line per system: "SYSTEM|what|client|syncs before ack|how idle
consumers wait". Prints Markdown: a headline block with the issue's goals,
then one table per scenario, every row saying how durable the system is
and how sluice's figure for the same scenario and body size compares.
"""

import argparse
import re
import sys

LOADGEN = ("sluice", "fauxqs")          # driven by loadgen / fanout (C)
EMULATORS = ("fauxqs", "sqslite", "moto")


def load(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        label, rest = line.split(" ", 1)
        scen, system, size = label.split("|")
        kv = dict(re.findall(r"(\w+)=(\S+)", rest))
        rows.append((scen, system, size, kv))
    return rows


def num(kv, *keys):
    for k in keys:
        if k in kv:
            try:
                return float(kv[k])
            except ValueError:
                pass
    return None


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    return "{:,.{}f}".format(v, digits)


def ratio(a, b):
    if a == 0 and b:
        return "0×"
    if not a or not b:
        return "n/a"
    r = a / b
    return ("%.2f×" if r < 0.995 else "%.1f×") % r


def failed(kv):
    return kv.get("failed") == "1"


class Results:
    def __init__(self, rows):
        self.rows = rows

    def get(self, scen, system, size=None):
        for s, sy, sz, kv in self.rows:
            if s == scen and sy == system and (size is None or sz == size):
                return kv
        return None

    def of(self, scen):
        return [r for r in self.rows if r[0] == scen]


def recv_rate(system, kv):
    """Messages acknowledged (deleted) per second in a flow run."""
    if kv is None or failed(kv):
        return None
    if system in LOADGEN:
        return num(kv, "e2e_msgs_per_s", "recv_msgs_per_s")
    return num(kv, "recv_msgs_per_s")


def headline(res, a):
    out = ["## Headline", ""]
    out.append("| goal | sluice | compared with | sluice ÷ it | target | |")
    out.append("|---|---:|---|---:|---:|---|")

    def line(goal, mine, other_name, other, target):
        if mine is None or other is None:
            verdict = "n/a (not run)"
            r = "n/a"
        else:
            r = ratio(mine, other)
            verdict = "met" if mine / other >= target else "NOT met"
        out.append("| %s | %s msg/s | %s: %s msg/s | %s | ≥ %g× | **%s** |"
                   % (goal, fmt(mine), other_name, fmt(other), r, target,
                      verdict))

    sl = recv_rate("sluice", res.get("flow", "sluice", "1024"))
    rq = recv_rate("rabbitmq-quorum",
                   res.get("flow", "rabbitmq-quorum", "1024"))
    line("durable SQS batch path (SendMessageBatch + ReceiveMessage + "
         "DeleteMessageBatch, 1 KiB), end to end, vs RabbitMQ quorum queue",
         sl, "RabbitMQ quorum (synced)", rq, 2)
    best, best_name = None, "fastest SQS emulator"
    for e in EMULATORS:
        v = recv_rate(e, res.get("flow", e, "1024"))
        if v is not None and (best is None or v > best):
            best, best_name = v, e + " (in memory)"
    line("the same vs the fastest SQS emulator, end to end", sl, best_name,
         best, 5)
    ss = res.get("send", "sluice", "1024")
    fs = res.get("send", "fauxqs", "1024")
    line("synced SendMessageBatch alone (1 KiB, no consumers) vs fauxqs",
         None if not ss or failed(ss) else num(ss, "send_msgs_per_s"),
         "fauxqs (in memory)",
         None if not fs or failed(fs) else num(fs, "send_msgs_per_s"), 1)
    out.append("")
    return out


def flow_table(res, desc, a):
    rows = res.of("flow")
    if not rows:
        return []
    sizes = sorted({r[2] for r in rows}, key=lambda s: -int(s))
    out = ["## Publish and consume at once (%d producers, %d consumers)"
           % (a.producers, a.consumers), ""]
    out.append("A message counts as sent once the broker acknowledged it as "
               "stored and as received once its ack/delete was acknowledged; "
               "producers pause while more than %s messages are in the "
               "system. Client-driven rows move N = %s messages (stopping "
               "after %g s: \"capped\"); the loadgen rows (sluice, fauxqs) "
               "run %g s after a 2 s warm-up and \"messages\" is what they "
               "moved. Latency is send → receive (the send time is in the "
               "body). Ratio: sluice's rate for the same body size over the "
               "row's (above 1: sluice is faster)."
               % (fmt(a.backlog), fmt(a.n), a.max_secs, a.sluice_secs))
    out.append("")
    out.append("| system | client | syncs before ack? | body | send msg/s "
               "| receive msg/s | p50 ms | p99 ms | messages "
               "| sluice ÷ row (send / receive) |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for size in sizes:
        skv = res.get("flow", "sluice", size)
        s_send = num(skv, "send_msgs_per_s") if skv else None
        s_recv = recv_rate("sluice", skv)
        for scen, system, sz, kv in rows:
            if sz != size:
                continue
            what, client, durable = desc.get(system, (system, "?", "?"))[:3]
            send = None if failed(kv) else num(kv, "send_msgs_per_s")
            recv = recv_rate(system, kv)
            p50 = num(kv, "e2e_p50_ms", "p50_ms")
            p99 = num(kv, "e2e_p99_ms", "p99_ms")
            if failed(kv):
                msgs, note = "failed", ""
            elif "received" in kv:
                msgs = fmt(num(kv, "received"))
                note = " (capped)" if kv.get("capped") == "1" else ""
            elif "secs" in kv and recv:
                msgs = fmt(recv * float(kv["secs"]))
                note = " (%g s)" % a.sluice_secs
            else:
                msgs, note = "n/a", ""
            errs = kv.get("errors", "0")
            if errs not in ("0", ""):
                note += ", %s errors" % errs
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s%s "
                       "| %s / %s |" % (
                           what, client, durable, size, fmt(send), fmt(recv),
                           fmt(p50, 1), fmt(p99, 1), msgs, note,
                           ratio(s_send, send), ratio(s_recv, recv)))
    out.append("")
    return out


def drain_table(res, desc, a):
    rows = res.of("drain")
    if not rows:
        return []
    out = ["## A backlog drained (%s messages of %s bytes)"
           % (fmt(a.drain_n), a.drain_size), ""]
    out.append("First the producers alone preload the backlog (%d of them; "
               "SQS clients with batches of 10, the others with up to %d "
               "publishes in flight or pipelined each): that rate is also "
               "each system's publish-only figure. Then %d consumers alone "
               "receive and ack/delete until the backlog is gone. Each phase "
               "stops after %g s: \"capped\" then gives the rate measured "
               "over that time, and a capped preload drains what it sent. "
               "%sRatio: sluice's rate over the row's."
               % (a.producers, a.drain_window, a.consumers, a.drain_secs,
                  "" if a.drain_all == "1" else
                  "RabbitMQ and Redis are drained in their synced "
                  "configurations only (DRAIN_ALL=1 adds the classic queue "
                  "and appendfsync everysec). "))
    out.append("")
    out.append("| system | client | syncs before ack? | preloaded "
               "| preload (publish-only) msg/s | drained | drain msg/s "
               "| drain s | sluice ÷ row (preload / drain) |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---|")
    skv = res.get("drain", "sluice")
    s_pre = num(skv, "preload_msgs_per_s") if skv else None
    s_dr = num(skv, "drain_msgs_per_s") if skv else None
    for scen, system, size, kv in rows:
        what, client, durable = desc.get(system, (system, "?", "?"))[:3]
        if failed(kv):
            out.append("| %s | %s | %s | failed | | | | | |"
                       % (what, client, durable))
            continue
        pre, dr = num(kv, "preload_msgs_per_s"), num(kv, "drain_msgs_per_s")
        pl, dd = num(kv, "preloaded"), num(kv, "drained")
        pcap = " (capped)" if pl is not None and pl < a.drain_n else ""
        dcap = " (capped)" if (pl is not None and dd is not None
                               and dd < pl) else ""
        note = ""
        if kv.get("errors", "0") not in ("0", ""):
            note = ", %s errors" % kv["errors"]
        out.append("| %s | %s | %s | %s%s | %s | %s%s | %s | %s | %s "
                   "/ %s |" % (
                       what, client, durable, fmt(pl), pcap, fmt(pre),
                       fmt(dd), dcap, fmt(dr), fmt(num(kv, "drain_secs"), 1)
                       + note, ratio(s_pre, pre), ratio(s_dr, dr)))
    out.append("")
    return out


def idle_table(res, desc, a):
    rows = res.of("idle")
    if not rows:
        return []
    out = ["## Idle cost: %s consumers waiting on an empty queue"
           % fmt(a.idle_conns), ""]
    out.append("Once every consumer waits, the broker's CPU (utime + stime "
               "of its process and, for RabbitMQ, its child processes) is "
               "read over %g s, and its RSS at the end; \"before\" is its "
               "RSS before the consumers connected (each broker is fresh). "
               "Ratio: sluice's figure over the row's (below 1: sluice uses "
               "less)." % a.idle_secs)
    out.append("")
    out.append("| system | how the consumers wait | waiting | broker CPU, % "
               "of a core | broker RSS, MiB (before) | syncs before ack? "
               "| sluice ÷ row (CPU / RSS) |")
    out.append("|---|---|---:|---:|---:|---|---|")
    skv = res.get("idle", "sluice")
    s_cpu = num(skv, "cpu_pct") if skv else None
    s_rss = num(skv, "rss_kb") if skv else None
    for scen, system, size, kv in rows:
        what, client, durable, how = desc.get(system,
                                              (system, "?", "?", "?"))
        if failed(kv):
            out.append("| %s | %s | failed | | | %s | |"
                       % (what, how, durable))
            continue
        waiting = num(kv, "ready", "polls_open_min")
        cpu, rss = num(kv, "cpu_pct"), num(kv, "rss_kb")
        before = num(kv, "rss_before_kb")
        note = ""
        if kv.get("errors", "0") not in ("0", ""):
            note = " (%s errors)" % kv["errors"]
        out.append("| %s | %s; client: %s | %s%s | %s | %s (%s) | %s "
                   "| %s / %s |" % (
                       what, how, client, fmt(waiting), note, fmt(cpu, 2),
                       fmt(rss / 1024 if rss else None, 1),
                       fmt(before / 1024 if before else None, 1), durable,
                       ratio(s_cpu, cpu), ratio(s_rss, rss)))
    out.append("")
    return out


def fanout_table(res, desc, a):
    order = ("sns-10", "raw-10", "events-100")
    rows = sorted((r for r in res.rows if r[0] in order),
                  key=lambda r: order.index(r[0]))
    if not rows:
        return []
    out = ["## Fan-out and routing (bench/fanout/fanout.c, 32 connections, "
           "%g s after a 1 s warm-up)" % a.fanout_secs, ""]
    out.append("SNS: a standard topic with 10 SQS subscriptions, Publish "
               "(Query protocol) of 1 KiB; a delivery is one copy in one "
               "queue, and sluice commits every copy with the publish before "
               "answering. sluice signs every envelope (RSA-2048); "
               "RawMessageDelivery has no envelope and so no signature; "
               "fauxqs's envelope carries no signature. EventBridge: a custom "
               "bus with 100 rules, each with one SQS target, PutEvents of 10 "
               "entries, each matching one rule. After each run every queue "
               "is checked to hold exactly what the acknowledged calls put "
               "there. Ratio: sluice's figure for the same scenario over the "
               "row's.")
    out.append("")
    out.append("| scenario | system | syncs before ack? | rate | p50 ms "
               "| p99 ms | checked | sluice ÷ row |")
    out.append("|---|---|---|---:|---:|---:|---|---|")
    names = {"sns-10": "SNS topic → 10 SQS queues",
             "raw-10": "SNS topic → 10 SQS queues, RawMessageDelivery",
             "events-100": "EventBridge bus, 100 rules → SQS"}
    for scen, system, size, kv in rows:
        durable = desc.get(system, (system, "?", "?"))[2]
        what = {"sluice": "sluice",
                "fauxqs": "fauxqs 1.9.2"}.get(system, system)
        client = "fanout (C)"
        if system == "sluice":
            durable = ("yes: the copies are committed (fsynced) before the "
                       "answer")
        if failed(kv):
            out.append("| %s | %s | %s | failed | | | | |"
                       % (names[scen], what, durable))
            continue
        if scen == "events-100":
            rate = "%s events/s" % fmt(num(kv, "events_per_s"))
            key = "events_per_s"
        else:
            rate = "%s publishes/s = %s deliveries/s" % (
                fmt(num(kv, "publishes_per_s")),
                fmt(num(kv, "deliveries_per_s")))
            key = "deliveries_per_s"
        if kv.get("verified") == "1" and kv.get("errors", "0") == "0":
            checked = "all %s arrived" % fmt(num(kv, "got"))
        else:
            checked = "MISMATCH: %s of %s, %s errors" % (
                kv.get("got", "?"), kv.get("expected", "?"),
                kv.get("errors", "?"))
        skv = res.get(scen, "sluice")
        r = ratio(num(skv, key) if skv else None, num(kv, key))
        if scen == "sns-10" and system != "sluice":
            rkv = res.get("raw-10", "sluice")
            if rkv:
                r += " (raw: %s)" % ratio(num(rkv, key), num(kv, key))
        out.append("| %s | %s (%s) | %s | %s | %s | %s | %s | %s |" % (
            names[scen], what, client, durable, rate,
            fmt(num(kv, "p50_ms"), 1), fmt(num(kv, "p99_ms"), 1), checked,
            r))
    out.append("")
    return out


def send_table(res, desc, a):
    rows = res.of("send")
    if not rows:
        return []
    out = ["## Batch sends alone (no consumers)", ""]
    out.append("%d producers call SendMessageBatch with 10 entries for %g s "
               "after a 2 s warm-up; nobody receives, so the queue grows. "
               "The other brokers' publish-only rates are the preload column "
               "of the backlog table. Ratio: sluice's rate for the same body "
               "size over the row's." % (a.producers, a.sluice_secs))
    out.append("")
    out.append("| system | client | syncs before ack? | body | send msg/s "
               "| SendMessageBatch p50 ms | p99 ms | sluice ÷ row |")
    out.append("|---|---|---|---:|---:|---:|---:|---|")
    for scen, system, size, kv in sorted(rows, key=lambda r: -int(r[2])):
        what, client, durable = desc.get(system, (system, "?", "?"))[:3]
        skv = res.get("send", "sluice", size)
        send = None if failed(kv) else num(kv, "send_msgs_per_s")
        note = ""
        if kv.get("errors", "0") not in ("0", ""):
            note = " (%s errors)" % kv["errors"]
        out.append("| %s | %s | %s | %s | %s%s | %s | %s | %s |" % (
            what, client, durable, size, fmt(send), note,
            fmt(num(kv, "send_p50_ms"), 1), fmt(num(kv, "send_p99_ms"), 1),
            ratio(num(skv, "send_msgs_per_s") if skv else None, send)))
    out.append("")
    return out


def notes(a):
    out = ["## Notes", ""]
    out.append(
        "- Clients differ, and that matters: loadgen and fanout are epoll C "
        "programs with 10 messages per call; the RabbitMQ rows use pika "
        "(its asynchronous connection for publishing), with up to 10 "
        "publishes awaiting their confirms per producer and acks sent 10 at "
        "a time (multiple); Redis uses pipelines of 10 XADDs and XREADGROUP "
        "COUNT 10; NATS publishes 10 at a time per producer and confirms "
        "every ack (ackAck); sqslite and moto are driven by boto3 (Query "
        "protocol) with SendMessageBatch of 10. The Python clients run as "
        "one process per producer and consumer on the same cores as the "
        "broker, so those rows are partly client-bound.")
    out.append(
        "- sqslite 2.1.1 gives every message of a receive the same receipt "
        "handle and its DeleteMessageBatch drops every message it was not "
        "given, so its consumers delete with one DeleteMessage per receive; "
        "it also ignores WaitTimeSeconds.")
    out.append(
        "- \"Syncs before ack\" says whether an acknowledged message survives "
        "power loss, not only a process crash.")
    if a.moto_note:
        out.append("- " + a.moto_note + ".")
        if not a.moto_note.startswith("moto: not installed"):
            out.append(
                "- moto's runs stop after %g s (MOTO_SECS) instead of the "
                "caps above: one boto3 client alone sends a few hundred "
                "messages a second to it, but its total rate falls as "
                "clients are added (16 concurrent producers: a few dozen "
                "a second in total)."
                % a.moto_secs)
    out.append("")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("desc")
    ap.add_argument("--sluice-secs", type=float, default=10)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--max-secs", type=float, default=90)
    ap.add_argument("--backlog", type=int, default=2000)
    ap.add_argument("--producers", type=int, default=16)
    ap.add_argument("--consumers", type=int, default=16)
    ap.add_argument("--drain-n", type=int, default=1000000)
    ap.add_argument("--drain-size", type=int, default=64)
    ap.add_argument("--drain-secs", type=float, default=60)
    ap.add_argument("--drain-window", type=int, default=100)
    ap.add_argument("--idle-conns", type=int, default=1000)
    ap.add_argument("--idle-secs", type=float, default=20)
    ap.add_argument("--fanout-secs", type=float, default=8)
    ap.add_argument("--moto-note", default="")
    ap.add_argument("--moto-secs", type=float, default=30)
    ap.add_argument("--drain-all", default="0")
    a = ap.parse_args()
    desc = {}
    for line in open(a.desc):
        parts = line.rstrip("\n").split("|")
        if len(parts) >= 5:
            desc[parts[0]] = tuple(parts[1:5])
    res = Results(load(a.results))
    out = headline(res, a)
    out += flow_table(res, desc, a)
    out += drain_table(res, desc, a)
    out += idle_table(res, desc, a)
    out += send_table(res, desc, a)
    out += fanout_table(res, desc, a)
    out += notes(a)
    print("\n".join(out).rstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
