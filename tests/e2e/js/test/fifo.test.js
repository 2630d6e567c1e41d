// SQS FIFO queues and dead-letter redrive through @aws-sdk/client-sqs v3
// (AWS JSON 1.0; the SDK checks the MD5 of every body it sends and gets).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    CancelMessageMoveTaskCommand, CreateQueueCommand, DeleteMessageCommand,
    GetQueueAttributesCommand, ListMessageMoveTasksCommand, ReceiveMessageCommand,
    SendMessageBatchCommand, SendMessageCommand, StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { client, sleep, uniqueName, useServer } from "../lib/harness.js";

const endpoint = useServer();

async function fifoQueue(sqs, Attributes = {}) {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({
        QueueName: uniqueName("jsfifo") + ".fifo",
        Attributes: { FifoQueue: "true", ...Attributes } }));
    return QueueUrl;
}

async function arnOf(sqs, QueueUrl) {
    const r = await sqs.send(new GetQueueAttributesCommand({
        QueueUrl, AttributeNames: ["QueueArn"] }));
    return r.Attributes.QueueArn;
}

describe("FIFO queues over JSON", () => {
    it("deduplicates and returns the original ids", async () => {
        const sqs = client(endpoint());
        const QueueUrl = await fifoQueue(sqs);
        const a = await sqs.send(new SendMessageCommand({
            QueueUrl, MessageBody: "one", MessageGroupId: "g", MessageDeduplicationId: "d" }));
        const b = await sqs.send(new SendMessageCommand({
            QueueUrl, MessageBody: "two", MessageGroupId: "g", MessageDeduplicationId: "d" }));
        assert.equal(a.MessageId, b.MessageId);
        assert.equal(a.SequenceNumber, b.SequenceNumber);
        assert.match(a.SequenceNumber, /^\d+$/);
        const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        assert.deepEqual(r.Messages.map((m) => m.Body), ["one"]);
    });

    it("rejects a missing group id with MissingParameter", async () => {
        const sqs = client(endpoint());
        const QueueUrl = await fifoQueue(sqs);
        await assert.rejects(
            sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "x",
                                              MessageDeduplicationId: "x" })),
            (e) => e.name === "MissingParameter" || e.Code === "MissingParameter");
    });

    it("keeps group order and locks a group while in flight", async () => {
        const sqs = client(endpoint());
        const QueueUrl = await fifoQueue(sqs, { ContentBasedDeduplication: "true" });
        const Entries = [];
        for (let i = 0; i < 6; i++)
            Entries.push({ Id: `e${i}`, MessageBody: `m${i}`,
                           MessageGroupId: i % 2 ? "odd" : "even" });
        const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
        assert.equal(sent.Successful.length, 6);
        const first = await sqs.send(new ReceiveMessageCommand({
            QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"] }));
        const bodies = first.Messages.map((m) => m.Body);
        assert.deepEqual(bodies.filter((b) => +b.slice(1) % 2 === 0), ["m0", "m2", "m4"]);
        assert.deepEqual(bodies.filter((b) => +b.slice(1) % 2 === 1), ["m1", "m3", "m5"]);
        const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        assert.equal(again.Messages, undefined);
        for (const m of first.Messages)
            await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    });

    it("replays a receive with the same ReceiveRequestAttemptId", async () => {
        const sqs = client(endpoint());
        const QueueUrl = await fifoQueue(sqs);
        await sqs.send(new SendMessageCommand({
            QueueUrl, MessageBody: "r", MessageGroupId: "g", MessageDeduplicationId: "r" }));
        const a = await sqs.send(new ReceiveMessageCommand({
            QueueUrl, ReceiveRequestAttemptId: "attempt-1" }));
        const b = await sqs.send(new ReceiveMessageCommand({
            QueueUrl, ReceiveRequestAttemptId: "attempt-1" }));
        assert.equal(a.Messages[0].ReceiptHandle, b.Messages[0].ReceiptHandle);
    });
});

describe("dead-letter redrive over JSON", () => {
    it("moves messages back to their source and reports the task", async () => {
        const sqs = client(endpoint());
        const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("jsdlq") })))
            .QueueUrl;
        const dlqArn = await arnOf(sqs, dlq);
        const src = (await sqs.send(new CreateQueueCommand({
            QueueName: uniqueName("jssrc"),
            Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn,
                                                          maxReceiveCount: 1 }) } }))).QueueUrl;
        await sqs.send(new SendMessageCommand({ QueueUrl: src, MessageBody: "back" }));
        await sqs.send(new ReceiveMessageCommand({ QueueUrl: src, VisibilityTimeout: 1 }));
        await sleep(1200);
        await sqs.send(new ReceiveMessageCommand({ QueueUrl: src }));  // moves it to the DLQ
        const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({
            SourceArn: dlqArn }));
        assert.ok(TaskHandle);
        let results;
        for (let i = 0; i < 50; i++) {
            ({ Results: results } = await sqs.send(new ListMessageMoveTasksCommand({
                SourceArn: dlqArn })));
            if (results[0].Status === "COMPLETED") break;
            await sleep(100);
        }
        assert.equal(results[0].Status, "COMPLETED");
        assert.equal(results[0].ApproximateNumberOfMessagesMoved, 1);
        const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: src }));
        assert.equal(r.Messages[0].Body, "back");
        await assert.rejects(
            sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle })),
            (e) => /UnsupportedOperation/.test(e.name + (e.Code ?? "")));
    });
});
