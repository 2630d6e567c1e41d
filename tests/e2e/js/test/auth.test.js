// Signed requests from the JavaScript SDK v3 against a server started with
// --credentials: the right key works, a wrong secret and an unknown key get
// AWS's JSON-protocol errors, a second account sees nothing of the first
// one's queues, and a queue Policy naming the second account lets it send.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand,
    ReceiveMessageCommand, SendMessageCommand, SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import { ListTopicsCommand } from "@aws-sdk/client-sns";
import { ListRulesCommand } from "@aws-sdk/client-eventbridge";
import { ListSchedulesCommand } from "@aws-sdk/client-scheduler";
import {
    client, eventsClient, schedulerClient, snsClient, uniqueName, useServer,
} from "../lib/harness.js";

const OWNER = { accessKeyId: "AKIDJSOWNER01", secretAccessKey: "owner/secret+js=1",
                accountId: "333333333333" };
const OTHER = { accessKeyId: "AKIDJSOTHER02", secretAccessKey: "other-secret-js-2",
                accountId: "444444444444" };

const dir = mkdtempSync(join(tmpdir(), "sluice-js-auth-"));
const credentialsFile = join(dir, "credentials.json");
writeFileSync(credentialsFile, JSON.stringify([OWNER, OTHER]), { mode: 0o600 });

const endpoint = useServer({ args: ["--credentials", credentialsFile] });

function as(who, extra = {}) {
    return client(endpoint(), {
        credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
        ...extra });
}

async function rejects(promise) {
    try {
        await promise;
    } catch (err) {
        return err;
    }
    assert.fail("the call succeeded");
}

describe("SigV4 with configured keys (JSON protocol)", () => {
    it("the right key creates, sends and receives, in its own account", async () => {
        const sqs = as(OWNER);
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({
            QueueName: uniqueName("js-auth") }));
        assert.match(QueueUrl, new RegExp(`/${OWNER.accountId}/js-auth`));
        const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "signed" }));
        assert.ok(sent.MessageId);
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
        assert.equal(got.Messages?.[0]?.Body, "signed");
        const attrs = await sqs.send(new GetQueueAttributesCommand({
            QueueUrl, AttributeNames: ["QueueArn"] }));
        assert.equal(attrs.Attributes.QueueArn.split(":")[4], OWNER.accountId);
    });

    // Over SQS's JSON protocol the SDK names the error by the query-compatible
    // code (x-amzn-query-error) when there is one, else by __type.
    it("a wrong secret is refused with SignatureDoesNotMatch (403)", async () => {
        const sqs = as({ ...OWNER, secretAccessKey: "not-the-secret" });
        const err = await rejects(sqs.send(new ListQueuesCommand({})));
        assert.ok(["SignatureDoesNotMatch", "InvalidSignatureException"].includes(err.name),
                  err.name);
        assert.equal(err.$metadata.httpStatusCode, 403);
        const sns = snsClient(endpoint(), { credentials: {
            accessKeyId: OWNER.accessKeyId, secretAccessKey: "not-the-secret" } });
        const err2 = await rejects(sns.send(new ListTopicsCommand({})));
        assert.equal(err2.name, "SignatureDoesNotMatch");
        // EventBridge and Scheduler are not Query-compatible: their JSON names
        const wrong = { credentials: {
            accessKeyId: OWNER.accessKeyId, secretAccessKey: "not-the-secret" } };
        const err3 = await rejects(eventsClient(endpoint(), wrong).send(
            new ListRulesCommand({})));
        assert.equal(err3.name, "InvalidSignatureException");
        assert.equal(err3.$metadata.httpStatusCode, 403);
        const err4 = await rejects(schedulerClient(endpoint(), wrong).send(
            new ListSchedulesCommand({})));
        assert.equal(err4.name, "InvalidSignatureException");
    });

    it("an unknown key is refused with InvalidClientTokenId (403)", async () => {
        const sqs = as({ accessKeyId: "AKIDNOBODY", secretAccessKey: "whatever" });
        const err = await rejects(sqs.send(new ListQueuesCommand({})));
        assert.ok(["InvalidClientTokenId", "UnrecognizedClientException"].includes(err.name),
                  err.name);
        assert.equal(err.$metadata.httpStatusCode, 403);
    });

    it("another account cannot see or use the queue until its Policy allows it", async () => {
        const owner = as(OWNER);
        const other = as(OTHER);
        const QueueName = uniqueName("js-private");
        const { QueueUrl } = await owner.send(new CreateQueueCommand({ QueueName }));

        const listed = await other.send(new ListQueuesCommand({ QueueNamePrefix: QueueName }));
        assert.deepEqual(listed.QueueUrls ?? [], []);
        let err = await rejects(other.send(new GetQueueUrlCommand({ QueueName })));
        assert.equal(err.name, "QueueDoesNotExist");
        err = await rejects(other.send(new SendMessageCommand({ QueueUrl, MessageBody: "x" })));
        assert.equal(err.$metadata.httpStatusCode, 403);
        assert.match(err.name, /AccessDenied/);

        const { Attributes } = await owner.send(new GetQueueAttributesCommand({
            QueueUrl, AttributeNames: ["QueueArn"] }));
        const Policy = JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { AWS: OTHER.accountId },
                          Action: "sqs:SendMessage", Resource: Attributes.QueueArn }],
        });
        await owner.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy } }));

        const sent = await other.send(new SendMessageCommand({
            QueueUrl, MessageBody: "from the other account" }));
        assert.ok(sent.MessageId);
        // Sending is all the policy grants.
        err = await rejects(other.send(new ReceiveMessageCommand({ QueueUrl })));
        assert.equal(err.$metadata.httpStatusCode, 403);
        const got = await owner.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
        assert.equal(got.Messages?.[0]?.Body, "from the other account");
    });
});
