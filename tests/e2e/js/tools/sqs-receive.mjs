// One ReceiveMessage through the JavaScript SDK v3 (AWS JSON 1.0), without
// retries, for tests driven from Python: node sqs-receive.mjs ENDPOINT
// QUEUE_URL WAIT_SECONDS.  Prints one JSON line: {"messages": n} or
// {"error": name, "status": http status, "fault": "client"|"server",
// "throttling": whether the SDK's retry strategy backs off for it as for
// throttling (null if its classifier cannot be loaded)}.
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

let isThrottlingError = null;
try {
    ({ isThrottlingError } = await import("@smithy/core/retry"));
} catch {
    // an SDK layout without that module: the classification is not reported
}

const [endpoint, QueueUrl, wait] = process.argv.slice(2);
const sqs = new SQSClient({
    endpoint, region: "us-east-1", maxAttempts: 1,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
try {
    const out = await sqs.send(new ReceiveMessageCommand({
        QueueUrl, WaitTimeSeconds: Number(wait), MaxNumberOfMessages: 1 }));
    console.log(JSON.stringify({ messages: (out.Messages || []).length }));
} catch (e) {
    console.log(JSON.stringify({
        error: e.name, status: e.$metadata?.httpStatusCode, fault: e.$fault,
        throttling: isThrottlingError ? isThrottlingError(e) : null,
    }));
}
