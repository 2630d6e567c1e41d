// sqs-consumer, a widely used polling library, draining a queue to the end
// through the JavaScript SDK: every message handled once it succeeds, a
// failing message retried after its visibility timeout, nothing left.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand,
} from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import { client, sleep, uniqueName, useServer } from "../lib/harness.js";

const endpoint = useServer();

describe("sqs-consumer", () => {
    it("consumes a queue to the end", async () => {
        const sqs = client(endpoint());
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({
            QueueName: uniqueName("js-consumer"), Attributes: { VisibilityTimeout: "1" } }));
        const total = 25;
        for (let start = 0; start < total; start += 10) {
            const Entries = [];
            for (let i = start; i < Math.min(total, start + 10); i++) {
                const kind = i === 7 ? "flaky" : "ok";
                Entries.push({
                    Id: `m${i}`, MessageBody: JSON.stringify({ n: i }),
                    MessageAttributes: { kind: { DataType: "String", StringValue: kind } },
                });
            }
            await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
        }

        const handled = new Set();
        let failures = 0;
        const errors = [];
        const consumer = Consumer.create({
            queueUrl: QueueUrl, sqs, batchSize: 10, waitTimeSeconds: 1,
            pollingWaitTimeMs: 0, messageAttributeNames: ["All"],
            handleMessage: async (message) => {
                const { n } = JSON.parse(message.Body);
                if (message.MessageAttributes?.kind?.StringValue === "flaky" && failures === 0) {
                    failures++;
                    throw new Error("transient failure");
                }
                handled.add(n);
                return message;
            },
        });
        consumer.on("error", (err) => errors.push(err));
        consumer.on("processing_error", () => {});
        consumer.start();
        const deadline = Date.now() + 20000;
        while (handled.size < total && Date.now() < deadline) await sleep(100);
        consumer.stop();
        await sleep(1200);

        assert.deepEqual(errors.map((e) => e.message), []);
        assert.equal(failures, 1);
        assert.equal(handled.size, total);
        const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl,
            AttributeNames: ["ApproximateNumberOfMessages",
                             "ApproximateNumberOfMessagesNotVisible"] }));
        assert.deepEqual(r.Attributes, { ApproximateNumberOfMessages: "0",
                                         ApproximateNumberOfMessagesNotVisible: "0" });
    });

    it("keeps slow batches invisible with heartbeats", async () => {
        const sqs = client(endpoint());
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({
            QueueName: uniqueName("js-heartbeat") }));
        const Entries = Array.from({ length: 6 }, (_, i) => ({
            Id: `h${i}`, MessageBody: `slow ${i}` }));
        await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));

        const seen = new Map();
        const errors = [];
        const consumer = Consumer.create({
            queueUrl: QueueUrl, sqs, batchSize: 10, waitTimeSeconds: 1,
            visibilityTimeout: 2, heartbeatInterval: 1, pollingWaitTimeMs: 0,
            handleMessageBatch: async (messages) => {
                for (const m of messages) {
                    seen.set(m.MessageId, (seen.get(m.MessageId) ?? 0) + 1);
                }
                await sleep(3500);  // longer than the visibility timeout
                return messages;
            },
        });
        consumer.on("error", (err) => errors.push(err));
        consumer.start();
        const deadline = Date.now() + 20000;
        while (seen.size < 6 && Date.now() < deadline) await sleep(100);
        await sleep(4500);
        consumer.stop();
        await sleep(500);

        assert.deepEqual(errors.map((e) => e.message), []);
        assert.equal(seen.size, 6);
        assert.deepEqual([...seen.values()], [1, 1, 1, 1, 1, 1],
                         "a message was redelivered while its batch was still being handled");
        const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl,
            AttributeNames: ["ApproximateNumberOfMessages",
                             "ApproximateNumberOfMessagesNotVisible"] }));
        assert.deepEqual(r.Attributes, { ApproximateNumberOfMessages: "0",
                                         ApproximateNumberOfMessagesNotVisible: "0" });
    });
});
