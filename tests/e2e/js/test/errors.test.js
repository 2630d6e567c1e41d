// Errors over the JSON protocol: the SDK's exception names (from __type)
// and the query-compatible codes (from the x-amzn-query-error header), and
// raw requests the SDK would never send — wrong member types, bad JSON,
// unknown operations — which must get a JSON error with __type and a 400.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand,
    GetQueueUrlCommand, QueueDoesNotExist, QueueNameExists,
    ReceiptHandleIsInvalid, ReceiveMessageCommand, SendMessageBatchCommand,
    SendMessageCommand, SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import { ACCOUNT, client, jsonPost, uniqueName, useServer } from "../lib/harness.js";

const endpoint = useServer();

async function rejects(promise) {
    try {
        await promise;
    } catch (err) {
        return err;
    }
    assert.fail("the call succeeded");
}

describe("SDK error types", () => {
    it("QueueDoesNotExist carries the query-compatible code", async () => {
        const sqs = client(endpoint());
        const err = await rejects(sqs.send(new GetQueueUrlCommand({
            QueueName: uniqueName("nope") })));
        assert.ok(err instanceof QueueDoesNotExist, err.name);
        assert.equal(err.name, "QueueDoesNotExist");
        assert.equal(err.Code, "AWS.SimpleQueueService.NonExistentQueue");
        assert.equal(err.$metadata.httpStatusCode, 400);
        assert.match(err.message, /does not exist/);
        const err2 = await rejects(sqs.send(new SendMessageCommand({
            QueueUrl: `${endpoint()}/${ACCOUNT}/${uniqueName("nope")}`, MessageBody: "x" })));
        assert.equal(err2.name, "QueueDoesNotExist");
    });

    it("QueueNameExists / QueueAlreadyExists", async () => {
        const sqs = client(endpoint());
        const QueueName = uniqueName("js-exists");
        await sqs.send(new CreateQueueCommand({ QueueName, Attributes: { DelaySeconds: "1" } }));
        const err = await rejects(sqs.send(new CreateQueueCommand({
            QueueName, Attributes: { DelaySeconds: "2" } })));
        assert.ok(err instanceof QueueNameExists, err.name);
        assert.equal(err.Code, "QueueAlreadyExists");
    });

    it("ReceiptHandleIsInvalid, batch and parameter errors", async () => {
        const sqs = client(endpoint());
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({
            QueueName: uniqueName("js-err") }));
        let err = await rejects(sqs.send(new DeleteMessageCommand({
            QueueUrl, ReceiptHandle: "junk" })));
        assert.ok(err instanceof ReceiptHandleIsInvalid, err.name);
        err = await rejects(sqs.send(new ChangeMessageVisibilityCommand({
            QueueUrl, ReceiptHandle: "junk", VisibilityTimeout: 1 })));
        assert.equal(err.name, "ReceiptHandleIsInvalid");
        err = await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [] })));
        assert.equal(err.name, "EmptyBatchRequest");
        assert.equal(err.Code, "AWS.SimpleQueueService.EmptyBatchRequest");
        err = await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries:
            Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" })) })));
        assert.equal(err.name, "TooManyEntriesInBatchRequest");
        err = await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [
            { Id: "x", MessageBody: "1" }, { Id: "x", MessageBody: "2" }] })));
        assert.equal(err.name, "BatchEntryIdsNotDistinct");
        err = await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [
            { Id: "bad id!", MessageBody: "1" }] })));
        assert.equal(err.name, "InvalidBatchEntryId");
        err = await rejects(sqs.send(new ReceiveMessageCommand({
            QueueUrl, MaxNumberOfMessages: 11 })));
        assert.equal(err.Code, "InvalidParameterValue");
        assert.equal(err.$metadata.httpStatusCode, 400);
        err = await rejects(sqs.send(new SetQueueAttributesCommand({
            QueueUrl, Attributes: { VisibilityTimeout: "99999" } })));
        assert.equal(err.Code, "InvalidAttributeValue");
        err = await rejects(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "" })));
        assert.equal(err.Code, "MissingParameter");
    });
});

describe("raw JSON protocol errors", () => {
    async function queueUrl() {
        const r = await jsonPost(endpoint(), "CreateQueue", { QueueName: uniqueName("js-raw") });
        assert.equal(r.status, 200, r.text);
        return r.json.QueueUrl;
    }

    function assertJsonError(r, typePattern) {
        assert.equal(r.status, 400, r.text);
        assert.match(r.headers.get("content-type") ?? "", /json/);
        assert.ok(r.json && typeof r.json.__type === "string", r.text);
        if (typePattern) assert.match(r.json.__type, typePattern);
    }

    it("rejects a number sent as a string", async () => {
        const QueueUrl = await queueUrl();
        const r = await jsonPost(endpoint(), "ReceiveMessage",
                                 { QueueUrl, MaxNumberOfMessages: "5" });
        assertJsonError(r, /SerializationException/);
    });

    it("rejects a string sent as a number and a list sent as a string", async () => {
        const QueueUrl = await queueUrl();
        let r = await jsonPost(endpoint(), "SendMessage", { QueueUrl, MessageBody: 7 });
        assertJsonError(r, /SerializationException/);
        r = await jsonPost(endpoint(), "ReceiveMessage", { QueueUrl, AttributeNames: "All" });
        assertJsonError(r, /SerializationException/);
    });

    it("rejects malformed JSON", async () => {
        const r = await jsonPost(endpoint(), "ListQueues", "{\"QueueNamePrefix\":");
        assertJsonError(r, /SerializationException/);
    });

    it("rejects an unknown operation", async () => {
        const r = await jsonPost(endpoint(), "BrewTea", {});
        assertJsonError(r, /UnknownOperationException/);
    });

    it("answers unknown queues with the modeled type and header", async () => {
        const r = await jsonPost(endpoint(), "GetQueueUrl", { QueueName: uniqueName("none") });
        assertJsonError(r, /^com\.amazonaws\.sqs#QueueDoesNotExist$/);
        assert.equal(r.headers.get("x-amzn-query-error"),
                     "AWS.SimpleQueueService.NonExistentQueue;Sender");
    });
});
