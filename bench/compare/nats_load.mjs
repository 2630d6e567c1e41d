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
// usage: node nats_load.mjs PORT N SIZE PRODUCERS CONSUMERS BACKLOG MAXSECS
// (run from a directory whose node_modules has "nats"). 127.0.0.1 only.

import { connect, AckPolicy, StorageType } from "nats";

const [port, n, size, np, nc, backlog, maxSecs] =
    process.argv.slice(2).map(Number);
const subject = "bench.compare";
const stream = "BENCH";
const server = { servers: `127.0.0.1:${port}` };

let claimed = 0, sent = 0, recv = 0, errors = 0;
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
        const k = Math.min(10, n - claimed);
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
    while (recv < n && Date.now() < deadline) {
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

async function main() {
    const admin = await connect(server);
    const jsm = await admin.jetstreamManager();
    try { await jsm.streams.delete(stream); } catch (e) { /* none yet */ }
    await jsm.streams.add({ name: stream, subjects: [subject],
                            storage: StorageType.File });
    await jsm.consumers.add(stream, { durable_name: "bench",
                                      ack_policy: AckPolicy.Explicit,
                                      max_ack_pending: 20000 });
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
