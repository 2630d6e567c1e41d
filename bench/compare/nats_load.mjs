// bench/compare/nats_load.mjs - the comparison workload against NATS
// JetStream, with the nats.js client from npm (what a Node user would use).
//
// A file-storage stream on one subject; P producer connections publish N
// messages in total, 10 in flight each, counting a message when its PubAck
// arrives (JetStream has stored it; with file storage it is written but not
// fsynced per message: nats-server syncs on an interval, 2 min by default).
// C consumer connections share one durable pull consumer with explicit
// acks and count a message when the server has confirmed its ack
// (ackAck). Producers pause while more than BACKLOG messages are published
// but not consumed, as bench/loadgen.c does. Bodies start with the send
// time (process.hrtime, monotonic), so consumers measure send -> receive
// latency. Prints one "RESULT key=value ..." line like clients.py.
//
// MODE (default flow) is one of
//   flow   the workload above;
//   drain  the producers alone publish N messages (WINDOW in flight each),
//          then the consumers alone fetch and ack them all; each phase is
//          bounded by MAXSECS ("capped"), and a capped preload drains what
//          it sent;
//   idle   N pull requests (fetch of 10 with a 20 s expiry, renewed when
//          one expires) wait on the empty stream, spread over CONSUMERS
//          connections; once they are all open, the server's CPU
//          (utime + stime from /proc/SERVER_PID/stat) and RSS are sampled
//          for MAXSECS seconds.
//
// usage: node nats_load.mjs PORT N SIZE PRODUCERS CONSUMERS BACKLOG MAXSECS
//            [MODE [SERVER_PID [WINDOW]]]
// (run from a directory whose node_modules has "nats"). 127.0.0.1 only.

import { readFileSync } from "node:fs";
import { connect, AckPolicy, StorageType } from "nats";

const [port, n, size, np, nc, backlog0, maxSecs] =
    process.argv.slice(2, 9).map(Number);
const mode = process.argv[9] || "flow";
const serverPid = Number(process.argv[10] || 0);
const window = Number(process.argv[11] || 10);
const backlog = mode === "drain" ? Infinity : backlog0;
const subject = "bench.compare";
const stream = "BENCH";
const server = { servers: `127.0.0.1:${port}` };

let claimed = 0, sent = 0, recv = 0, errors = 0, goal = n;
let lastSend = 0, lastRecv = 0;
const lats = [];
const nowNs = () => process.hrtime.bigint();
const enc = new TextEncoder();
const dec = new TextDecoder();

function body() {
    const s = nowNs().toString(16).padStart(16, "0");
    return enc.encode(s + "x".repeat(Math.max(0, size - 16)));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function producer(deadline) {
    const c = await connect(server);
    const js = c.jetstream();
    while (Date.now() < deadline) {
        const k = Math.min(window, n - claimed);
        if (k <= 0) break;
        claimed += k;
        while (sent - recv > backlog && Date.now() < deadline) await sleep(1);
        const ps = [];
        for (let i = 0; i < k; i++) ps.push(js.publish(subject, body()));
        const rs = await Promise.allSettled(ps);
        for (const r of rs) {
            if (r.status === "fulfilled") sent++;
            else errors++;
        }
        lastSend = Date.now();
    }
    await c.close();
}

async function consumer(deadline) {
    const c = await connect(server);
    const js = c.jetstream();
    const cons = await js.consumers.get(stream, "bench");
    while (recv < goal && Date.now() < deadline) {
        let batch;
        try {
            batch = await cons.fetch({ max_messages: 10, expires: 1000 });
        } catch (e) {
            errors++;
            continue;
        }
        const acks = [];
        for await (const m of batch) {
            const t = nowNs();
            lats.push(Number(t - BigInt("0x" + dec.decode(m.data.subarray(0, 16)))));
            acks.push(m.ackAck());
        }
        const rs = await Promise.allSettled(acks);
        for (const r of rs) {
            if (r.status === "fulfilled" && r.value) recv++;
            else errors++;
        }
        if (acks.length) lastRecv = Date.now();
    }
    await c.close();
}

// utime + stime (ticks) and RSS (KiB) of the server process
function usage() {
    const st = readFileSync(`/proc/${serverPid}/stat`, "utf8");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    const m = /VmRSS:\s+(\d+)/.exec(
        readFileSync(`/proc/${serverPid}/status`, "utf8"));
    return [Number(f[11]) + Number(f[12]), m ? Number(m[1]) : -1];
}

// One connection holding `count` pull requests open until stopAt.
async function idleWaiters(count, stopAt, ready) {
    const c = await connect(server);
    const js = c.jetstream();
    const cons = await js.consumers.get(stream, "bench");
    const loop = async () => {
        ready.n++;
        while (Date.now() < stopAt) {
            try {
                const it = await cons.fetch({ max_messages: 10,
                                              expires: 20000 });
                for await (const m of it) m.ack();
            } catch (e) {
                errors++;
                await sleep(100);
            }
        }
    };
    const loops = [];
    for (let i = 0; i < count; i++) loops.push(loop());
    await Promise.race([Promise.allSettled(loops), sleep(stopAt - Date.now())]);
    await c.close().catch(() => {});
}

async function idle(secs) {
    const hz = 100; // USER_HZ on Linux
    const [, rssBefore] = usage();
    const ready = { n: 0 };
    const stopAt = Date.now() + 60000 + 3000 + secs * 1000;
    const conns = Math.max(1, nc);
    const tasks = [];
    for (let i = 0; i < conns; i++) {
        const k = Math.floor(n / conns) + (i < n % conns ? 1 : 0);
        tasks.push(idleWaiters(k, stopAt, ready));
    }
    const t0 = Date.now();
    while (ready.n < n && Date.now() - t0 < 60000) await sleep(100);
    await sleep(2000); // the last pull requests reach the server
    const [c0] = usage();
    const w0 = Date.now();
    let rssMax = 0;
    while (Date.now() - w0 < secs * 1000) {
        await sleep(500);
        rssMax = Math.max(rssMax, usage()[1]);
    }
    const [c1, rss] = usage();
    const s = (Date.now() - w0) / 1000;
    console.log(`RESULT scenario=idle system=nats conns=${n} ` +
        `ready=${ready.n} secs=${s.toFixed(2)} ` +
        `cpu_pct=${((c1 - c0) / hz / s * 100).toFixed(2)} rss_kb=${rss} ` +
        `rss_max_kb=${rssMax} rss_before_kb=${rssBefore} errors=${errors}`);
    process.exit(0); // the pull requests still open are dropped
}

async function drain() {
    let t0 = Date.now();
    let deadline = t0 + maxSecs * 1000;
    let ps = [];
    for (let i = 0; i < np; i++) ps.push(producer(deadline));
    await Promise.allSettled(ps);
    const preloadSecs = Math.max(1, lastSend - t0) / 1000;
    const [, rssFull] = serverPid ? usage() : [0, -1];
    goal = sent;
    t0 = Date.now();
    deadline = t0 + maxSecs * 1000;
    ps = [];
    for (let i = 0; i < nc; i++) ps.push(consumer(deadline));
    await Promise.allSettled(ps);
    const drainSecs = Math.max(1, lastRecv - t0) / 1000;
    console.log(`RESULT scenario=drain system=nats messages=${n} ` +
        `body=${size} window=${window} preloaded=${sent} ` +
        `preload_secs=${preloadSecs.toFixed(2)} ` +
        `preload_msgs_per_s=${(sent / preloadSecs).toFixed(0)} ` +
        `drained=${recv} drain_secs=${drainSecs.toFixed(2)} ` +
        `drain_msgs_per_s=${(recv / drainSecs).toFixed(0)} ` +
        `capped=${sent < n || recv < sent ? 1 : 0} rss_full_kb=${rssFull} ` +
        `errors=${errors}`);
}

async function main() {
    const admin = await connect(server);
    const jsm = await admin.jetstreamManager();
    try { await jsm.streams.delete(stream); } catch (e) { /* none yet */ }
    await jsm.streams.add({ name: stream, subjects: [subject],
                            storage: StorageType.File });
    await jsm.consumers.add(stream, { durable_name: "bench",
                                      ack_policy: AckPolicy.Explicit,
                                      max_ack_pending: 20000,
                                      // room for every idle pull request
                                      max_waiting: mode === "idle"
                                          ? Math.max(512, 2 * n) : 512 });
    if (mode === "idle") return idle(maxSecs);
    if (mode === "drain") {
        await drain();
        await admin.close();
        return;
    }
    const start = Date.now();
    const deadline = start + maxSecs * 1000;
    const tasks = [];
    for (let i = 0; i < np; i++) tasks.push(producer(deadline));
    for (let i = 0; i < nc; i++) tasks.push(consumer(deadline));
    await Promise.allSettled(tasks);
    await admin.close();
    lats.sort((a, b) => a - b);
    const pct = (p) => lats.length
        ? lats[Math.min(lats.length - 1, Math.floor(p / 100 * lats.length))] / 1e6
        : NaN;
    const ts = Math.max(1, lastSend - start) / 1000;
    const tr = Math.max(1, lastRecv - start) / 1000;
    console.log(`RESULT system=nats size=${size} n=${n} sent=${sent} ` +
        `received=${recv} errors=${errors} capped=${recv < n ? 1 : 0} ` +
        `send_msgs_per_s=${(sent / ts).toFixed(0)} ` +
        `recv_msgs_per_s=${(recv / tr).toFixed(0)} ` +
        `p50_ms=${pct(50).toFixed(2)} p99_ms=${pct(99).toFixed(2)} ` +
        `secs=${tr.toFixed(1)}`);
}

main().then(() => process.exit(0), (e) => {
    console.error("nats_load:", e.message);
    process.exit(1);
});
