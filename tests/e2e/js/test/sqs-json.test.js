// Every SQS standard-queue action through @aws-sdk/client-sqs v3, which
// speaks AWS JSON 1.0 and checks the body MD5 of what it sends and
// receives; attribute MD5s are checked here against an independent
// computation.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    AddPermissionCommand, ChangeMessageVisibilityBatchCommand,
    ChangeMessageVisibilityCommand, CreateQueueCommand,
    DeleteMessageBatchCommand, DeleteMessageCommand, DeleteQueueCommand,
    GetQueueAttributesCommand, GetQueueUrlCommand,
    ListDeadLetterSourceQueuesCommand, ListQueueTagsCommand,
    ListQueuesCommand, PurgeQueueCommand, ReceiveMessageCommand,
    RemovePermissionCommand, SendMessageBatchCommand, SendMessageCommand,
    SetQueueAttributesCommand, TagQueueCommand, UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import {
    ACCOUNT, REGION, client, md5Hex, md5OfAttributes, sleep, uniqueName,
    useServer,
} from "../lib/harness.js";

const endpoint = useServer();

async function newQueue(sqs, prefix, Attributes) {
    const QueueName = uniqueName(prefix);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName, Attributes }));
    return { QueueName, QueueUrl };
}

async function attrs(sqs, QueueUrl, names = ["All"]) {
    const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: names }));
    return r.Attributes ?? {};
}

async function receiveAll(sqs, QueueUrl, n, extra = {}) {
    const got = new Map();
    for (let i = 0; i < 20 && got.size < n; i++) {
        const r = await sqs.send(new ReceiveMessageCommand({
            QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, ...extra }));
        for (const m of r.Messages ?? []) got.set(m.MessageId, m);
    }
    return got;
}

describe("queues over JSON", () => {
    it("creates, finds, lists and deletes queues", async () => {
        const sqs = client(endpoint());
        const prefix = uniqueName("js-list");
        const urls = [];
        for (let i = 0; i < 3; i++) {
            const { QueueUrl } = await sqs.send(new CreateQueueCommand({
                QueueName: `${prefix}-${i}` }));
            assert.equal(QueueUrl, `${endpoint()}/${ACCOUNT}/${prefix}-${i}`);
            urls.push(QueueUrl);
        }
        const again = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-0` }));
        assert.equal(again.QueueUrl, urls[0]);
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${prefix}-1` }));
        assert.equal(QueueUrl, urls[1]);

        const all = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
        assert.deepEqual([...all.QueueUrls].sort(), [...urls].sort());
        assert.equal(all.NextToken, undefined);
        const seen = [];
        let NextToken;
        do {
            const page = await sqs.send(new ListQueuesCommand({
                QueueNamePrefix: prefix, MaxResults: 2, NextToken }));
            seen.push(...page.QueueUrls);
            NextToken = page.NextToken;
        } while (NextToken);
        assert.deepEqual(seen.sort(), [...urls].sort());

        await sqs.send(new DeleteQueueCommand({ QueueUrl: urls[2] }));
        const after = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
        assert.deepEqual([...after.QueueUrls].sort(), urls.slice(0, 2).sort());
    });

    it("gets and sets every attribute", async () => {
        const sqs = client(endpoint());
        const dlq = await newQueue(sqs, "js-dlq");
        const dlqArn = (await attrs(sqs, dlq.QueueUrl, ["QueueArn"])).QueueArn;
        assert.equal(dlqArn, `arn:aws:sqs:${REGION}:${ACCOUNT}:${dlq.QueueName}`);
        const q = await newQueue(sqs, "js-attrs", { VisibilityTimeout: "45" });
        const a = await attrs(sqs, q.QueueUrl);
        assert.equal(a.VisibilityTimeout, "45");
        assert.equal(a.DelaySeconds, "0");
        assert.equal(a.MessageRetentionPeriod, "345600");
        assert.equal(a.ApproximateNumberOfMessages, "0");

        const policy = { Version: "2012-10-17", Statement: [{
            Sid: "s1", Effect: "Allow", Principal: "*", Action: "sqs:SendMessage",
            Resource: a.QueueArn }] };
        const redrive = { deadLetterTargetArn: dlqArn, maxReceiveCount: 3 };
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl: q.QueueUrl, Attributes: {
            DelaySeconds: "2", MaximumMessageSize: "4096", MessageRetentionPeriod: "600",
            ReceiveMessageWaitTimeSeconds: "1", Policy: JSON.stringify(policy),
            RedrivePolicy: JSON.stringify(redrive), KmsMasterKeyId: "alias/aws/sqs",
            KmsDataKeyReusePeriodSeconds: "120" } }));
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, Attributes: {
            RedriveAllowPolicy: JSON.stringify({ redrivePermission: "byQueue",
                                                 sourceQueueArns: [a.QueueArn] }),
            SqsManagedSseEnabled: "false" } }));
        const b = await attrs(sqs, q.QueueUrl);
        assert.equal(b.DelaySeconds, "2");
        assert.equal(b.MaximumMessageSize, "4096");
        assert.equal(b.MessageRetentionPeriod, "600");
        assert.equal(b.ReceiveMessageWaitTimeSeconds, "1");
        assert.deepEqual(JSON.parse(b.Policy), policy);
        const rp = JSON.parse(b.RedrivePolicy);
        assert.equal(rp.deadLetterTargetArn, dlqArn);
        assert.equal(Number(rp.maxReceiveCount), 3);
        assert.equal(b.KmsMasterKeyId, "alias/aws/sqs");
        assert.equal(b.KmsDataKeyReusePeriodSeconds, "120");
        const d = await attrs(sqs, dlq.QueueUrl, ["RedriveAllowPolicy", "SqsManagedSseEnabled"]);
        assert.equal(JSON.parse(d.RedriveAllowPolicy).redrivePermission, "byQueue");
        assert.equal(d.SqsManagedSseEnabled, "false");

        const src = await sqs.send(new ListDeadLetterSourceQueuesCommand({
            QueueUrl: dlq.QueueUrl }));
        assert.deepEqual(src.queueUrls, [q.QueueUrl]);
    });

    it("tags, untags and lists tags", async () => {
        const sqs = client(endpoint());
        const q = await newQueue(sqs, "js-tags");
        await sqs.send(new TagQueueCommand({ QueueUrl: q.QueueUrl, Tags: { a: "1", b: "2" } }));
        let t = await sqs.send(new ListQueueTagsCommand({ QueueUrl: q.QueueUrl }));
        assert.deepEqual(t.Tags, { a: "1", b: "2" });
        await sqs.send(new UntagQueueCommand({ QueueUrl: q.QueueUrl, TagKeys: ["a"] }));
        t = await sqs.send(new ListQueueTagsCommand({ QueueUrl: q.QueueUrl }));
        assert.deepEqual(t.Tags, { b: "2" });
    });

    it("adds and removes permissions", async () => {
        const sqs = client(endpoint());
        const q = await newQueue(sqs, "js-perm");
        await sqs.send(new AddPermissionCommand({ QueueUrl: q.QueueUrl, Label: "p1",
            AWSAccountIds: ["111122223333"], Actions: ["SendMessage", "ReceiveMessage"] }));
        let a = await attrs(sqs, q.QueueUrl, ["Policy"]);
        const st = JSON.parse(a.Policy).Statement;
        assert.equal(st.length, 1);
        assert.equal(st[0].Sid, "p1");
        await sqs.send(new RemovePermissionCommand({ QueueUrl: q.QueueUrl, Label: "p1" }));
        a = await attrs(sqs, q.QueueUrl, ["Policy"]);
        assert.ok(!a.Policy || JSON.parse(a.Policy).Statement.length === 0);
    });
});

describe("messages over JSON", () => {
    it("sends and receives with attributes and matching MD5s", async () => {
        const sqs = client(endpoint());
        const q = await newQueue(sqs, "js-msg");
        const MessageAttributes = {
            "app.name": { DataType: "String", StringValue: "shop ✓" },
            "app.count": { DataType: "Number", StringValue: "12" },
            raw: { DataType: "Binary", BinaryValue: Uint8Array.from([0, 255, 16, 128]) },
            other: { DataType: "String.custom", StringValue: "x" },
        };
        const body = "héllo wörld \u{1F600}";
        const trace = "Root=1-65f0a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
        const sent = await sqs.send(new SendMessageCommand({
            QueueUrl: q.QueueUrl, MessageBody: body, MessageAttributes,
            MessageSystemAttributes: {
                AWSTraceHeader: { DataType: "String", StringValue: trace } },
        }));
        assert.equal(sent.MD5OfMessageBody, md5Hex(body));
        assert.equal(sent.MD5OfMessageAttributes, md5OfAttributes(MessageAttributes));
        assert.equal(sent.MD5OfMessageSystemAttributes, "a0bcd0c8b7327993034c6201422f2a85");

        const r = await sqs.send(new ReceiveMessageCommand({
            QueueUrl: q.QueueUrl, MessageAttributeNames: ["app.*"],
            MessageSystemAttributeNames: ["SentTimestamp", "AWSTraceHeader",
                                          "ApproximateReceiveCount"],
            VisibilityTimeout: 0 }));
        const m = r.Messages[0];
        assert.equal(m.Body, body);
        assert.equal(m.MessageId, sent.MessageId);
        assert.deepEqual(Object.keys(m.MessageAttributes).sort(), ["app.count", "app.name"]);
        assert.equal(m.MD5OfMessageAttributes, md5OfAttributes({
            "app.name": MessageAttributes["app.name"],
            "app.count": MessageAttributes["app.count"] }));
        assert.deepEqual(Object.keys(m.Attributes).sort(),
                         ["AWSTraceHeader", "ApproximateReceiveCount", "SentTimestamp"]);
        assert.equal(m.Attributes.AWSTraceHeader, trace);

        const r2 = await sqs.send(new ReceiveMessageCommand({
            QueueUrl: q.QueueUrl, MessageAttributeNames: ["All"], AttributeNames: ["All"] }));
        const m2 = r2.Messages[0];
        assert.deepEqual(Buffer.from(m2.MessageAttributes.raw.BinaryValue),
                         Buffer.from([0, 255, 16, 128]));
        assert.equal(m2.MD5OfMessageAttributes, md5OfAttributes(MessageAttributes));
        assert.equal(m2.Attributes.ApproximateReceiveCount, "2");
        await sqs.send(new DeleteMessageCommand({ QueueUrl: q.QueueUrl,
                                                  ReceiptHandle: m2.ReceiptHandle }));
        const a = await attrs(sqs, q.QueueUrl, ["ApproximateNumberOfMessages",
                                                "ApproximateNumberOfMessagesNotVisible"]);
        assert.deepEqual(a, { ApproximateNumberOfMessages: "0",
                              ApproximateNumberOfMessagesNotVisible: "0" });
    });

    it("accepts empty attribute-name lists as sqs-consumer sends them", async () => {
        const sqs = client(endpoint());
        const q = await newQueue(sqs, "js-empty-lists");
        await sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: "x",
            MessageAttributes: { a: { DataType: "String", StringValue: "b" } } }));
        const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl,
            AttributeNames: [], MessageAttributeNames: [], MessageSystemAttributeNames: [] }));
        assert.equal(r.Messages.length, 1);
        assert.equal(r.Messages[0].MessageAttributes, undefined);
        assert.equal(r.Messages[0].MD5OfMessageAttributes, undefined);
    });

    it("handles batches, visibility changes and purge", async () => {
        const sqs = client(endpoint());
        const q = await newQueue(sqs, "js-batch");
        const Entries = Array.from({ length: 10 }, (_, i) => ({
            Id: `m${i}`, MessageBody: `body ${i}`,
            MessageAttributes: { i: { DataType: "Number", StringValue: String(i) } } }));
        const sent = await sqs.send(new SendMessageBatchCommand({
            QueueUrl: q.QueueUrl, Entries }));
        assert.equal(sent.Successful.length, 10);
        assert.equal((sent.Failed ?? []).length, 0);
        for (const e of sent.Successful) {
            const i = Number(e.Id.slice(1));
            assert.equal(e.MD5OfMessageBody, md5Hex(`body ${i}`));
            assert.equal(e.MD5OfMessageAttributes, md5OfAttributes(Entries[i].MessageAttributes));
        }
        const got = await receiveAll(sqs, q.QueueUrl, 10, { VisibilityTimeout: 60 });
        assert.equal(got.size, 10);
        const msgs = [...got.values()];

        const cv = await sqs.send(new ChangeMessageVisibilityBatchCommand({
            QueueUrl: q.QueueUrl, Entries: [
                { Id: "a", ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0 },
                { Id: "b", ReceiptHandle: "bogus", VisibilityTimeout: 0 }] }));
        assert.deepEqual(cv.Successful.map((e) => e.Id), ["a"]);
        assert.equal(cv.Failed[0].Id, "b");
        assert.equal(cv.Failed[0].Code, "ReceiptHandleIsInvalid");
        assert.equal(cv.Failed[0].SenderFault, true);
        await sqs.send(new ChangeMessageVisibilityCommand({
            QueueUrl: q.QueueUrl, ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 0 }));
        const back = await receiveAll(sqs, q.QueueUrl, 2, { VisibilityTimeout: 60 });
        assert.deepEqual([...back.keys()].sort(), [msgs[0].MessageId, msgs[1].MessageId].sort());

        const del = await sqs.send(new DeleteMessageBatchCommand({
            QueueUrl: q.QueueUrl,
            Entries: msgs.slice(2, 6).map((m, i) => ({
                Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }));
        assert.equal(del.Successful.length, 4);
        let a = await attrs(sqs, q.QueueUrl, ["ApproximateNumberOfMessagesNotVisible"]);
        assert.equal(a.ApproximateNumberOfMessagesNotVisible, "6");

        await sqs.send(new PurgeQueueCommand({ QueueUrl: q.QueueUrl }));
        a = await attrs(sqs, q.QueueUrl, ["ApproximateNumberOfMessages",
                                          "ApproximateNumberOfMessagesNotVisible"]);
        assert.deepEqual(a, { ApproximateNumberOfMessages: "0",
                              ApproximateNumberOfMessagesNotVisible: "0" });
    });

    it("long-polls until a message arrives", async () => {
        const sqs = client(endpoint());
        const q = await newQueue(sqs, "js-longpoll");
        const t0 = Date.now();
        const poll = sqs.send(new ReceiveMessageCommand({
            QueueUrl: q.QueueUrl, WaitTimeSeconds: 10 }));
        await sleep(800);
        await client(endpoint()).send(new SendMessageCommand({ QueueUrl: q.QueueUrl,
                                                               MessageBody: "wake up" }));
        const r = await poll;
        const took = Date.now() - t0;
        assert.equal(r.Messages[0].Body, "wake up");
        assert.ok(took < 4000, `long poll took ${took} ms`);
    });

    it("moves a message to the dead-letter queue", async () => {
        const sqs = client(endpoint());
        const dlq = await newQueue(sqs, "js-dlq2");
        const dlqArn = (await attrs(sqs, dlq.QueueUrl, ["QueueArn"])).QueueArn;
        const q = await newQueue(sqs, "js-src", { RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) });
        const sent = await sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl,
                                                             MessageBody: "poison" }));
        const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl,
                                                                 VisibilityTimeout: 0 }));
        assert.equal(first.Messages.length, 1);
        const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl }));
        assert.equal((second.Messages ?? []).length, 0);
        const moved = await receiveAll(sqs, dlq.QueueUrl, 1);
        assert.equal(moved.get(sent.MessageId)?.Body, "poison");
    });
});
