// SNS over the Query protocol through @aws-sdk/client-sns v3 (XML answers
// parsed by the SDK), with SQS queues as subscribers read back through
// @aws-sdk/client-sqs: topics and their attributes and tags, SQS
// subscriptions, the notification envelope and its signature, message
// attributes, MessageStructure, FIFO topics to FIFO queues, filter
// policies in both scopes, raw delivery (the MD5s SQS
// hands out are checked: the body one by the SQS client itself, the
// attribute one here), PublishBatch with per-entry failures, and the
// exception classes and codes the SDK makes of SNS's errors.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, verify } from "node:crypto";
import {
    BatchEntryIdsNotDistinctException, CreateTopicCommand, DeleteTopicCommand,
    EmptyBatchRequestException, GetSubscriptionAttributesCommand,
    GetTopicAttributesCommand, InvalidParameterException,
    InvalidParameterValueException, ListSubscriptionsByTopicCommand,
    ListTagsForResourceCommand, NotFoundException, PublishBatchCommand,
    PublishCommand, ResourceNotFoundException, SetSubscriptionAttributesCommand,
    SetTopicAttributesCommand, SubscribeCommand, TagResourceCommand,
    TooManyEntriesInBatchRequestException, UnsubscribeCommand,
    UntagResourceCommand, paginateListTopics,
} from "@aws-sdk/client-sns";
import {
    ACCOUNT, REGION, client, drain, md5Hex, md5OfAttributes, newQueue, rejects,
    snsClient, uniqueName, useServer,
} from "../lib/harness.js";

const endpoint = useServer();

async function newTopic(sns, extra = {}) {
    const Name = uniqueName("js-topic");
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name, ...extra }));
    return { Name, TopicArn };
}

async function topicAttrs(sns, TopicArn) {
    return (await sns.send(new GetTopicAttributesCommand({ TopicArn }))).Attributes;
}

function tagMap(tags) {
    return Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));
}

// A topic with one SQS subscriber; returns the topic, queue and subscription.
async function topicWithQueue(sns, sqs, Attributes) {
    const topic = await newTopic(sns);
    const queue = await newQueue(sqs, "js-sns-q");
    const { SubscriptionArn } = await sns.send(new SubscribeCommand({
        TopicArn: topic.TopicArn, Protocol: "sqs", Endpoint: queue.QueueArn,
        Attributes, ReturnSubscriptionArn: true }));
    return { ...topic, ...queue, SubscriptionArn };
}

// Verifies an SNS signature (version 1: SHA1, 2: SHA256) over the fields
// AWS signs for a Notification, with the certificate at SigningCertURL.
async function verifySignature(env) {
    const keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
    const text = keys.filter((k) => k in env).map((k) => `${k}\n${env[k]}\n`).join("");
    const r = await fetch(env.SigningCertURL, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200, "certificate fetch");
    const cert = new X509Certificate(await r.text());
    const algo = env.SignatureVersion === "2" ? "sha256" : "sha1";
    assert.ok(verify(algo, Buffer.from(text, "utf8"), cert.publicKey,
                     Buffer.from(env.Signature, "base64")), "signature does not verify");
}

describe("SNS topics", () => {
    it("creates topics idempotently and refuses different attributes", async () => {
        const sns = snsClient(endpoint());
        const Name = uniqueName("js-idem");
        const a = await sns.send(new CreateTopicCommand({
            Name, Attributes: { DisplayName: "d" }, Tags: [{ Key: "k", Value: "v" }] }));
        assert.equal(a.TopicArn, `arn:aws:sns:${REGION}:${ACCOUNT}:${Name}`);
        const b = await sns.send(new CreateTopicCommand({ Name }));
        assert.equal(b.TopicArn, a.TopicArn);
        const c = await sns.send(new CreateTopicCommand({
            Name, Attributes: { DisplayName: "d" } }));
        assert.equal(c.TopicArn, a.TopicArn);
        const err = await rejects(sns.send(new CreateTopicCommand({
            Name, Attributes: { DisplayName: "other" } })));
        assert.ok(err instanceof InvalidParameterException, err.name);
        assert.equal(err.message, "Invalid parameter: Attributes Reason: Topic already " +
                     "exists with different attributes");
    });

    it("gets and sets topic attributes", async () => {
        const sns = snsClient(endpoint());
        const { TopicArn } = await newTopic(sns);
        let a = await topicAttrs(sns, TopicArn);
        assert.equal(a.TopicArn, TopicArn);
        assert.equal(a.Owner, ACCOUNT);
        assert.equal(a.DisplayName, "");
        assert.equal(a.SubscriptionsConfirmed, "0");
        assert.equal(a.SubscriptionsPending, "0");
        assert.equal(a.SubscriptionsDeleted, "0");
        assert.equal(JSON.parse(a.Policy).Statement[0].Resource, TopicArn);
        assert.equal(a.FifoTopic, undefined);

        await sns.send(new SetTopicAttributesCommand({
            TopicArn, AttributeName: "DisplayName", AttributeValue: "Shown" }));
        await sns.send(new SetTopicAttributesCommand({
            TopicArn, AttributeName: "SignatureVersion", AttributeValue: "2" }));
        a = await topicAttrs(sns, TopicArn);
        assert.equal(a.DisplayName, "Shown");
        assert.equal(a.SignatureVersion, "2");
        const err = await rejects(sns.send(new SetTopicAttributesCommand({
            TopicArn, AttributeName: "NoSuchAttribute", AttributeValue: "x" })));
        assert.ok(err instanceof InvalidParameterException, err.name);
    });

    it("lists topics across pages and deletes them", async () => {
        const sns = snsClient(endpoint());
        const made = [];
        for (let i = 0; i < 3; i++) made.push((await newTopic(sns)).TopicArn);
        const listed = async () => {
            const seen = [];
            for await (const page of paginateListTopics({ client: sns }, {})) {
                seen.push(...page.Topics.map((t) => t.TopicArn));
            }
            return seen;
        };
        let seen = await listed();
        assert.equal(new Set(seen).size, seen.length, "a topic listed twice");
        for (const arn of made) assert.ok(seen.includes(arn), arn);

        await sns.send(new DeleteTopicCommand({ TopicArn: made[0] }));
        seen = await listed();
        assert.ok(!seen.includes(made[0]));
        assert.ok(seen.includes(made[1]));
        const err = await rejects(topicAttrs(sns, made[0]));
        assert.ok(err instanceof NotFoundException, err.name);
        // Deleting a topic that is gone is not an error.
        await sns.send(new DeleteTopicCommand({ TopicArn: made[0] }));
    });

    it("tags topics", async () => {
        const sns = snsClient(endpoint());
        const { TopicArn } = await newTopic(sns, { Tags: [{ Key: "team", Value: "a" }] });
        await sns.send(new TagResourceCommand({ ResourceArn: TopicArn, Tags: [
            { Key: "env", Value: "dev" }, { Key: "team", Value: "b" }] }));
        let r = await sns.send(new ListTagsForResourceCommand({ ResourceArn: TopicArn }));
        assert.deepEqual(tagMap(r.Tags), { team: "b", env: "dev" });
        await sns.send(new UntagResourceCommand({ ResourceArn: TopicArn, TagKeys: ["team"] }));
        r = await sns.send(new ListTagsForResourceCommand({ ResourceArn: TopicArn }));
        assert.deepEqual(r.Tags, [{ Key: "env", Value: "dev" }]);
        const err = await rejects(sns.send(new TagResourceCommand({
            ResourceArn: TopicArn,
            Tags: [{ Key: "d", Value: "1" }, { Key: "d", Value: "2" }] })));
        assert.ok(err instanceof InvalidParameterException, err.name);
        assert.equal(err.message, "Invalid parameter: Duplicated keys are not allowed.");
    });
});

describe("SNS subscriptions and delivery to SQS", () => {
    it("subscribes a queue without confirmation and unsubscribes it", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const t = await topicWithQueue(sns, sqs);
        assert.ok(t.SubscriptionArn.startsWith(t.TopicArn + ":"), t.SubscriptionArn);
        const again = await sns.send(new SubscribeCommand({
            TopicArn: t.TopicArn, Protocol: "sqs", Endpoint: t.QueueArn }));
        assert.equal(again.SubscriptionArn, t.SubscriptionArn);
        const subs = await sns.send(new ListSubscriptionsByTopicCommand({
            TopicArn: t.TopicArn }));
        assert.deepEqual(subs.Subscriptions, [{
            SubscriptionArn: t.SubscriptionArn, Owner: ACCOUNT, Protocol: "sqs",
            Endpoint: t.QueueArn, TopicArn: t.TopicArn }]);
        const a = (await sns.send(new GetSubscriptionAttributesCommand({
            SubscriptionArn: t.SubscriptionArn }))).Attributes;
        assert.equal(a.Protocol, "sqs");
        assert.equal(a.Endpoint, t.QueueArn);
        assert.equal(a.PendingConfirmation, "false");
        assert.equal(a.RawMessageDelivery, "false");
        assert.equal((await topicAttrs(sns, t.TopicArn)).SubscriptionsConfirmed, "1");

        await sns.send(new UnsubscribeCommand({ SubscriptionArn: t.SubscriptionArn }));
        const err = await rejects(sns.send(new GetSubscriptionAttributesCommand({
            SubscriptionArn: t.SubscriptionArn })));
        assert.ok(err instanceof NotFoundException, err.name);
        assert.equal(err.message, "Subscription does not exist");
    });

    it("delivers a signed envelope with the message attributes", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const t = await topicWithQueue(sns, sqs);
        const text = "caf\u00e9 <b>&amp;</b> \"quoted\"\n\u2603";
        const { MessageId } = await sns.send(new PublishCommand({
            TopicArn: t.TopicArn, Message: text, Subject: "Hello",
            MessageAttributes: {
                s: { DataType: "String", StringValue: "v\u00e9" },
                n: { DataType: "Number", StringValue: "1.5" },
                b: { DataType: "Binary", BinaryValue: Uint8Array.from([0, 255]) },
                arr: { DataType: "String.Array", StringValue: "[\"a\", 1]" },
            } }));
        assert.match(MessageId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        const [m, ...more] = await drain(sqs, t.QueueUrl, { expect: 1 });
        assert.equal(more.length, 0);
        assert.equal(m.MD5OfBody, md5Hex(m.Body));
        assert.equal(m.MessageAttributes, undefined);
        const env = JSON.parse(m.Body);
        assert.deepEqual(Object.keys(env), [
            "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
            "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL",
            "MessageAttributes"]);
        assert.equal(env.Type, "Notification");
        assert.equal(env.MessageId, MessageId);
        assert.equal(env.TopicArn, t.TopicArn);
        assert.equal(env.Subject, "Hello");
        assert.equal(env.Message, text);
        assert.match(env.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.deepEqual(env.MessageAttributes, {
            s: { Type: "String", Value: "v\u00e9" },
            n: { Type: "Number", Value: "1.5" },
            b: { Type: "Binary", Value: Buffer.from([0, 255]).toString("base64") },
            arr: { Type: "String.Array", Value: "[\"a\", 1]" },
        });
        const unsub = new URL(env.UnsubscribeURL);
        assert.equal(unsub.searchParams.get("Action"), "Unsubscribe");
        assert.equal(unsub.searchParams.get("SubscriptionArn"), t.SubscriptionArn);
        await verifySignature(env);
    });

    it("filters on message attributes", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const policy = { color: ["red", { prefix: "bl" }],
                         size: [{ numeric: [">", 10, "<=", 20] }] };
        const t = await topicWithQueue(sns, sqs, {
            FilterPolicy: JSON.stringify(policy), RawMessageDelivery: "true" });
        const a = (await sns.send(new GetSubscriptionAttributesCommand({
            SubscriptionArn: t.SubscriptionArn }))).Attributes;
        assert.deepEqual(JSON.parse(a.FilterPolicy), policy);
        assert.equal(a.FilterPolicyScope, "MessageAttributes");

        const str = (v) => ({ DataType: "String", StringValue: v });
        const num = (v) => ({ DataType: "Number", StringValue: v });
        const cases = [
            ["match-red", { color: str("red"), size: num("12") }, true],
            ["match-blue", { color: str("blue"), size: num("20") }, true],
            ["wrong-color", { color: str("green"), size: num("12") }, false],
            ["case-differs", { color: str("Red"), size: num("12") }, false],
            ["too-big", { color: str("red"), size: num("20.5") }, false],
            ["size-as-string", { color: str("red"), size: str("12") }, false],
            ["no-size", { color: str("red") }, false],
            ["no-attributes", undefined, false],
        ];
        for (const [Message, MessageAttributes] of cases) {
            await sns.send(new PublishCommand({ TopicArn: t.TopicArn, Message,
                                                MessageAttributes }));
        }
        const want = cases.filter((c) => c[2]).map((c) => c[0]).sort();
        const got = await drain(sqs, t.QueueUrl, { expect: want.length });
        got.push(...await drain(sqs, t.QueueUrl, { timeoutMs: 1500 }));
        assert.deepEqual(got.map((m) => m.Body).sort(), want);
    });

    it("filters on the message body", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const t = await topicWithQueue(sns, sqs, {
            FilterPolicy: JSON.stringify({ order: { kind: ["book"] } }),
            FilterPolicyScope: "MessageBody", RawMessageDelivery: "true" });
        const bodies = {
            [JSON.stringify({ order: { kind: "book", n: 1 } })]: true,
            [JSON.stringify({ order: { kind: "pen" } })]: false,
            [JSON.stringify({ kind: "book" })]: false,
            "not json at all": false,
        };
        for (const Message of Object.keys(bodies)) {
            // The attribute would match an attribute-scoped policy; it must not count here.
            await sns.send(new PublishCommand({ TopicArn: t.TopicArn, Message,
                MessageAttributes: { order: { DataType: "String", StringValue: "book" } } }));
        }
        const want = Object.keys(bodies).filter((b) => bodies[b]);
        const got = await drain(sqs, t.QueueUrl, { expect: want.length });
        got.push(...await drain(sqs, t.QueueUrl, { timeoutMs: 1500 }));
        assert.deepEqual(got.map((m) => m.Body), want);
    });

    it("raw delivery carries attributes whose MD5s check out", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const t = await topicWithQueue(sns, sqs, { RawMessageDelivery: "true" });
        const attrs = {
            s: { DataType: "String", StringValue: "v\u00e9 \u2603" },
            n: { DataType: "Number", StringValue: "42" },
            b: { DataType: "Binary", BinaryValue: Uint8Array.from([1, 2, 3, 0, 255]) },
        };
        const body = "{\"raw\": true, \"text\": \"caf\u00e9\"}";
        await sns.send(new PublishCommand({ TopicArn: t.TopicArn, Message: body,
                                            MessageAttributes: attrs }));
        // The SQS client itself rejects a receive whose MD5OfBody is wrong.
        const [m] = await drain(sqs, t.QueueUrl, { expect: 1 });
        assert.equal(m.Body, body);
        assert.equal(m.MD5OfBody, md5Hex(body));
        assert.deepEqual(Object.keys(m.MessageAttributes).sort(), ["b", "n", "s"]);
        assert.deepEqual(m.MessageAttributes.s, attrs.s);
        assert.deepEqual(m.MessageAttributes.n, attrs.n);
        assert.equal(m.MessageAttributes.b.DataType, "Binary");
        assert.deepEqual(Buffer.from(m.MessageAttributes.b.BinaryValue),
                         Buffer.from(attrs.b.BinaryValue));
        assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(attrs));
    });

    it("publishes a batch with a per-entry failure", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const t = await topicWithQueue(sns, sqs, { RawMessageDelivery: "true" });
        const r = await sns.send(new PublishBatchCommand({ TopicArn: t.TopicArn,
            PublishBatchRequestEntries: [
                { Id: "a", Message: "one" },
                { Id: "empty", Message: "" },
                { Id: "b", Message: "two", MessageAttributes: {
                    k: { DataType: "String", StringValue: "v" } } },
                { Id: "nan", Message: "bad", MessageAttributes: {
                    x: { DataType: "Number", StringValue: "NaNa" } } },
            ] }));
        assert.deepEqual(r.Successful.map((e) => e.Id).sort(), ["a", "b"]);
        for (const e of r.Successful) assert.match(e.MessageId, /^[0-9a-f-]{36}$/);
        const failed = Object.fromEntries(r.Failed.map((f) => [f.Id, f]));
        assert.deepEqual(Object.keys(failed).sort(), ["empty", "nan"]);
        assert.deepEqual(failed.empty, { Id: "empty", Code: "InvalidParameter",
                                         Message: "Invalid parameter: Empty message",
                                         SenderFault: true });
        assert.equal(failed.nan.SenderFault, true);
        assert.ok(failed.nan.Code, "a failed entry has a code");
        const got = await drain(sqs, t.QueueUrl, { expect: 2 });
        assert.deepEqual(got.map((m) => m.Body).sort(), ["one", "two"]);
        const two = got.find((m) => m.Body === "two");
        assert.equal(two.MessageAttributes.k.StringValue, "v");
        assert.deepEqual(new Set(got.map((m) => m.MessageId)).size, 2);
    });

    it("sends each protocol its own text with MessageStructure json", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const t = await topicWithQueue(sns, sqs);
        await sns.send(new PublishCommand({ TopicArn: t.TopicArn, MessageStructure: "json",
            Message: JSON.stringify({ default: "dflt", sqs: "for sqs", http: "x" }) }));
        await sns.send(new PublishCommand({ TopicArn: t.TopicArn, MessageStructure: "json",
            Message: JSON.stringify({ default: "only default" }) }));
        const got = await drain(sqs, t.QueueUrl, { expect: 2 });
        assert.deepEqual(got.map((m) => JSON.parse(m.Body).Message).sort(),
                         ["for sqs", "only default"]);
        const err = await rejects(sns.send(new PublishCommand({ TopicArn: t.TopicArn,
            MessageStructure: "json", Message: JSON.stringify({ sqs: "no default" }) })));
        assert.equal(err.name, "InvalidParameterException");
        assert.match(err.message, /No default entry in JSON message body/);
    });

    it("carries batch attributes, Binary included, to a raw subscriber", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const t = await topicWithQueue(sns, sqs, { RawMessageDelivery: "true" });
        const attrs = (i) => ({
            idx: { DataType: "Number", StringValue: String(i) },
            blob: { DataType: "Binary", BinaryValue: Uint8Array.from([i, 0, 254, 10]) },
            "x.note": { DataType: "String.custom", StringValue: `né ${i}` },
        });
        const r = await sns.send(new PublishBatchCommand({ TopicArn: t.TopicArn,
            PublishBatchRequestEntries: [1, 2, 3].map((i) => ({
                Id: `e${i}`, Message: `batch ${i}`, MessageAttributes: attrs(i) })) }));
        assert.equal(r.Successful.length, 3);
        assert.deepEqual(r.Failed ?? [], []);
        const got = await drain(sqs, t.QueueUrl, { expect: 3 });
        assert.deepEqual(got.map((m) => m.Body).sort(), ["batch 1", "batch 2", "batch 3"]);
        for (const m of got) {
            const i = Number(m.Body.split(" ")[1]);
            assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(attrs(i)), m.Body);
            assert.deepEqual(Buffer.from(m.MessageAttributes.blob.BinaryValue),
                             Buffer.from([i, 0, 254, 10]));
            assert.equal(m.MessageAttributes["x.note"].DataType, "String.custom");
        }
    });

    it("keeps FIFO order and deduplicates from a FIFO topic to a FIFO queue", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        const Name = uniqueName("js-fifo") + ".fifo";
        const { TopicArn } = await sns.send(new CreateTopicCommand({ Name,
            Attributes: { FifoTopic: "true", ContentBasedDeduplication: "true" } }));
        const a = await topicAttrs(sns, TopicArn);
        assert.equal(a.FifoTopic, "true");
        assert.equal(a.ContentBasedDeduplication, "true");
        const q = await newQueue(sqs, "js-fifo-q", { FifoQueue: "true" }, ".fifo");
        await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs",
                                              Endpoint: q.QueueArn }));
        const first = await sns.send(new PublishCommand({ TopicArn, Message: "first",
                                                          MessageGroupId: "g1" }));
        const dup = await sns.send(new PublishCommand({ TopicArn, Message: "first",
                                                        MessageGroupId: "g1" }));
        assert.equal(dup.MessageId, first.MessageId);
        assert.equal(dup.SequenceNumber, first.SequenceNumber);
        const batch = await sns.send(new PublishBatchCommand({ TopicArn,
            PublishBatchRequestEntries: ["second", "third"].map((Message) => ({
                Id: Message, Message, MessageGroupId: "g1" })) }));
        const byId = (id) => batch.Successful.find((e) => e.Id === id);
        const seqs = [first, byId("second"), byId("third")].map((e) =>
            BigInt(e.SequenceNumber));
        assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], seqs.join(" "));
        const got = [];
        for (let i = 0; i < 10 && got.length < 3; i++) {
            got.push(...await drain(sqs, q.QueueUrl, { expect: 1, timeoutMs: 1500 }));
        }
        const envs = got.map((m) => JSON.parse(m.Body));
        assert.deepEqual(envs.map((e) => e.Message), ["first", "second", "third"]);
        assert.equal(envs[0].SequenceNumber, first.SequenceNumber);
        assert.equal(got[0].Attributes.MessageGroupId, "g1");
        const err = await rejects(sns.send(new PublishCommand({ TopicArn, Message: "x" })));
        assert.equal(err.name, "InvalidParameterException");
        assert.match(err.message, /MessageGroupId/);
    });
});

describe("SNS errors through the SDK", () => {
    it("names missing topics and subscriptions NotFound", async () => {
        const sns = snsClient(endpoint());
        const TopicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${uniqueName("js-none")}`;
        for (const call of [
            () => topicAttrs(sns, TopicArn),
            () => sns.send(new PublishCommand({ TopicArn, Message: "x" })),
            () => sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs",
                Endpoint: `arn:aws:sqs:${REGION}:${ACCOUNT}:q` })),
            () => sns.send(new ListSubscriptionsByTopicCommand({ TopicArn })),
        ]) {
            const err = await rejects(call());
            assert.ok(err instanceof NotFoundException, err.name);
            assert.equal(err.name, "NotFoundException");
            assert.equal(err.Code, "NotFound");
            assert.equal(err.Type, "Sender");
            assert.equal(err.$fault, "client");
            assert.equal(err.$metadata.httpStatusCode, 404);
        }
        const err = await rejects(topicAttrs(sns, TopicArn));
        assert.equal(err.message, "Topic does not exist");
        assert.ok(err.$metadata.requestId, "a request id");
        const tags = await rejects(sns.send(new ListTagsForResourceCommand({
            ResourceArn: TopicArn })));
        assert.ok(tags instanceof ResourceNotFoundException, tags.name);
        assert.equal(tags.Code, "ResourceNotFound");
        assert.equal(tags.$metadata.httpStatusCode, 404);
    });

    it("names bad parameters InvalidParameter and ParameterValueInvalid", async () => {
        const sns = snsClient(endpoint());
        const sqs = client(endpoint());
        let err = await rejects(sns.send(new CreateTopicCommand({ Name: "bad name" })));
        assert.ok(err instanceof InvalidParameterException, err.name);
        assert.equal(err.name, "InvalidParameterException");
        assert.equal(err.Code, "InvalidParameter");
        assert.equal(err.$metadata.httpStatusCode, 400);
        assert.equal(err.message, "Invalid parameter: Topic Name");

        err = await rejects(topicAttrs(sns, "nope"));
        assert.equal(err.name, "InvalidParameterException");
        assert.equal(err.message, "Invalid parameter: TopicArn Reason: An ARN must have " +
                     "at least 6 elements, not 1");

        const { TopicArn } = await newTopic(sns);
        err = await rejects(sns.send(new PublishCommand({ TopicArn, Message: "" })));
        assert.equal(err.name, "InvalidParameterException");
        assert.equal(err.message, "Invalid parameter: Empty message");

        err = await rejects(sns.send(new SubscribeCommand({
            TopicArn, Protocol: "carrier-pigeon", Endpoint: "x" })));
        assert.equal(err.name, "InvalidParameterException");
        assert.equal(err.message, "Invalid parameter: Amazon SNS does not support this " +
                     "protocol string: carrier-pigeon");

        const q = await newQueue(sqs, "js-sns-bad");
        err = await rejects(sns.send(new SubscribeCommand({
            TopicArn, Protocol: "sqs", Endpoint: q.QueueArn,
            Attributes: { FilterPolicy: "{\"a\": {\"b\": [\"c\"]}}" } })));
        assert.equal(err.name, "InvalidParameterException");
        assert.match(err.message, /does not support nested filter policy/);

        const { SubscriptionArn } = await sns.send(new SubscribeCommand({
            TopicArn, Protocol: "sqs", Endpoint: q.QueueArn }));
        err = await rejects(sns.send(new SetSubscriptionAttributesCommand({
            SubscriptionArn, AttributeName: "FilterPolicy",
            AttributeValue: "{\"a\": [{\"anything-but\": {\"suffix\": \"x\"}}]}" })));
        assert.equal(err.name, "InvalidParameterException");
        assert.match(err.message, /^Invalid parameter: FilterPolicy: /);

        err = await rejects(sns.send(new PublishCommand({ TopicArn, Message: "x",
            MessageAttributes: { n: { DataType: "Number", StringValue: "one" } } })));
        assert.ok(err instanceof InvalidParameterValueException, err.name);
        assert.equal(err.Code, "ParameterValueInvalid");
        assert.equal(err.message, "Could not cast message attribute 'n' value to number.");
    });

    it("names batch request errors", async () => {
        const sns = snsClient(endpoint());
        const { TopicArn } = await newTopic(sns);
        let err = await rejects(sns.send(new PublishBatchCommand({
            TopicArn, PublishBatchRequestEntries: [] })));
        assert.ok(err instanceof EmptyBatchRequestException, err.name);
        assert.equal(err.Code, "EmptyBatchRequest");
        err = await rejects(sns.send(new PublishBatchCommand({
            TopicArn, PublishBatchRequestEntries: Array.from({ length: 11 }, (_, i) => ({
                Id: `e${i}`, Message: "m" })) })));
        assert.ok(err instanceof TooManyEntriesInBatchRequestException, err.name);
        err = await rejects(sns.send(new PublishBatchCommand({
            TopicArn, PublishBatchRequestEntries: [{ Id: "a", Message: "m" },
                                                   { Id: "a", Message: "n" }] })));
        assert.ok(err instanceof BatchEntryIdsNotDistinctException, err.name);
        assert.equal(err.Code, "BatchEntryIdsNotDistinct");
    });
});
