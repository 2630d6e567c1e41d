// Harness for the JavaScript end-to-end tests.
//
// A test file calls useServer() once at top level. If SLUICE_ENDPOINT is
// set, the tests use that running server; otherwise a server of the file's
// own is started from SLUICE_BIN (default build/asan/sluice) on a free
// port with a temporary data directory, and stopped with SIGTERM after the
// file's tests, which must exit 0 with no sanitizer report on stderr.
// It also offers SQS, SNS, EventBridge and Scheduler clients with dummy
// credentials, unique names, queue creation and draining helpers, the SQS
// attribute MD5 computed independently of the server, and a raw AWS JSON
// 1.0 POST for requests the SDK refuses to send.

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants, mkdtempSync, openSync, readFileSync, rmSync }
    from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SNSClient } from "@aws-sdk/client-sns";
import {
    CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand,
    ReceiveMessageCommand, SQSClient,
} from "@aws-sdk/client-sqs";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";
const SANITIZER_MARKS = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                         "runtime error:"];

function freePort() {
    return new Promise((res, rej) => {
        const s = createServer();
        s.on("error", rej);
        s.listen(0, "127.0.0.1", () => {
            const { port } = s.address();
            s.close(() => res(port));
        });
    });
}

async function healthy(endpoint) {
    try {
        const r = await fetch(endpoint + "/_sluice/health",
                              { signal: AbortSignal.timeout(1000) });
        return r.status === 200;
    } catch {
        return false;
    }
}

const state = { endpoint: null, proc: null, dir: null, stderrPath: null };

async function startServer(extraArgs = []) {
    let bin = process.env.SLUICE_BIN || "build/asan/sluice";
    if (!isAbsolute(bin)) bin = join(REPO, bin);
    try {
        accessSync(bin, constants.X_OK);
    } catch {
        throw new Error(`server binary ${bin} is not built (set SLUICE_BIN or SLUICE_ENDPOINT)`);
    }
    state.dir = mkdtempSync(join(tmpdir(), "sluice-js-"));
    state.stderrPath = join(state.dir, "stderr.log");
    const port = await freePort();
    const err = openSync(state.stderrPath, "w");
    const env = { ASAN_OPTIONS: "detect_leaks=1", ...process.env };
    state.proc = spawn(bin, ["serve", "--host", "127.0.0.1", "--port",
                             String(port), "--data-dir", join(state.dir, "data"),
                             "--region", REGION, "--account-id", ACCOUNT, ...extraArgs],
                       { stdio: ["ignore", err, err], env });
    state.exit = new Promise((res) => {
        state.proc.on("exit", (code, sig) => res({ code, sig }));
        state.proc.on("error", (e) => res({ code: -1, sig: null, error: e }));
    });
    state.endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
        if (state.proc.exitCode !== null) break;
        if (await healthy(state.endpoint)) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    state.proc.kill("SIGKILL");
    throw new Error("server did not become healthy:\n" + stderrText());
}

function stderrText() {
    try {
        return readFileSync(state.stderrPath, "utf8");
    } catch {
        return "";
    }
}

async function stopServer() {
    const timer = setTimeout(() => state.proc.kill("SIGKILL"), 30000);
    state.proc.kill("SIGTERM");
    const { code, sig } = await state.exit;
    clearTimeout(timer);
    const text = stderrText();
    rmSync(state.dir, { recursive: true, force: true });
    assert.equal(sig, null, "server killed by " + sig + "\n" + text.slice(-4000));
    assert.equal(code, 0, "server exit status\n" + text.slice(-4000));
    for (const mark of SANITIZER_MARKS) {
        assert.ok(!text.includes(mark), "sanitizer report:\n" + text.slice(-6000));
    }
}

// Registers the start/stop hooks; returns a getter for the endpoint.
// options.args: extra serve flags (such a server cannot be SLUICE_ENDPOINT's).
export function useServer(options = {}) {
    const args = options.args || [];
    before(async () => {
        if (state.endpoint) return;
        if (process.env.SLUICE_ENDPOINT && args.length === 0) {
            state.endpoint = process.env.SLUICE_ENDPOINT.replace(/\/$/, "");
            return;
        }
        await startServer(args);
    });
    after(async () => {
        if (state.proc) {
            await stopServer();
            state.proc = null;
        }
    });
    return () => state.endpoint;
}

// The configuration every client shares: the endpoint, the region, dummy
// credentials and no retries (a retry would hide a server error).
function clientConfig(endpoint, extra) {
    return {
        endpoint, region: REGION, maxAttempts: 1,
        credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                       secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
        ...extra,
    };
}

// An SQS client (AWS JSON 1.0).
export function client(endpoint, extra = {}) {
    return new SQSClient(clientConfig(endpoint, extra));
}

// An SNS client (Query protocol, XML answers).
export function snsClient(endpoint, extra = {}) {
    return new SNSClient(clientConfig(endpoint, extra));
}

// An EventBridge client (AWS JSON 1.1, X-Amz-Target AWSEvents.*).
export function eventsClient(endpoint, extra = {}) {
    return new EventBridgeClient(clientConfig(endpoint, extra));
}

// An EventBridge Scheduler client (REST-JSON).
export function schedulerClient(endpoint, extra = {}) {
    return new SchedulerClient(clientConfig(endpoint, extra));
}

export function uniqueName(prefix) {
    return `${prefix}-${randomBytes(4).toString("hex")}`.slice(0, 80);
}

export function md5Hex(data) {
    return createHash("md5").update(data).digest("hex");
}

// MD5OfMessageAttributes: names sorted by UTF-8 bytes, each as length-
// prefixed name and type, then 1 + length-prefixed UTF-8 value for String
// and Number types or 2 + length-prefixed bytes for Binary types.
export function md5OfAttributes(attrs) {
    const parts = [];
    const lp = (buf) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(buf.length);
        parts.push(len, buf);
    };
    const names = Object.keys(attrs).sort((a, b) =>
        Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
        const a = attrs[name];
        lp(Buffer.from(name, "utf8"));
        lp(Buffer.from(a.DataType, "utf8"));
        if (a.DataType.startsWith("Binary")) {
            parts.push(Buffer.from([2]));
            lp(Buffer.from(a.BinaryValue));
        } else {
            parts.push(Buffer.from([1]));
            lp(Buffer.from(a.StringValue, "utf8"));
        }
    }
    return md5Hex(Buffer.concat(parts));
}

// A raw AWS JSON 1.0 request; body is an object or a raw string/Buffer.
export async function jsonPost(endpoint, target, body, headers = {}) {
    const date = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
    const h = {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-date": date,
        authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/" +
            date.slice(0, 8) + "/us-east-1/sqs/aws4_request, " +
            "SignedHeaders=host;x-amz-date, Signature=" + "0".repeat(64),
        ...headers,
    };
    if (target !== null) h["x-amz-target"] = "AmazonSQS." + target;
    const payload = (typeof body === "string" || Buffer.isBuffer(body))
        ? body : JSON.stringify(body);
    const r = await fetch(endpoint + "/", { method: "POST", headers: h, body: payload });
    const text = await r.text();
    let json = null;
    try {
        json = JSON.parse(text);
    } catch {
        json = null;
    }
    return { status: r.status, headers: r.headers, text, json };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Awaits a promise that must reject; returns the error.
export async function rejects(promise) {
    try {
        await promise;
    } catch (err) {
        return err;
    }
    assert.fail("the call succeeded");
}

// Creates a queue (a FIFO one with suffix ".fifo" and FifoQueue in
// Attributes); returns { QueueName, QueueUrl, QueueArn }.
export async function newQueue(sqs, prefix, Attributes, suffix = "") {
    const QueueName = uniqueName(prefix) + suffix;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName, Attributes }));
    const r = await sqs.send(new GetQueueAttributesCommand({
        QueueUrl, AttributeNames: ["QueueArn"] }));
    return { QueueName, QueueUrl, QueueArn: r.Attributes.QueueArn };
}

// Receives (and deletes) messages from a queue until `expect` of them have
// arrived or `timeoutMs` has passed (with no `expect`, for the whole
// timeout, to see that nothing more arrives). Returns the messages in
// arrival order, with all message and system attributes asked for.
export async function drain(sqs, QueueUrl, { expect, timeoutMs = 8000 } = {}) {
    const got = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (expect === undefined || got.length < expect)) {
        const r = await sqs.send(new ReceiveMessageCommand({
            QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
            MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }));
        for (const m of r.Messages ?? []) {
            got.push(m);
            await sqs.send(new DeleteMessageCommand({ QueueUrl,
                                                      ReceiptHandle: m.ReceiptHandle }));
        }
    }
    return got;
}
