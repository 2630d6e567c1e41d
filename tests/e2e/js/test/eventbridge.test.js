// EventBridge over AWS JSON 1.1 (X-Amz-Target AWSEvents.*) through
// @aws-sdk/client-eventbridge v3, with SQS queues as targets read back
// through @aws-sdk/client-sqs: event buses, rules with patterns, targets,
// PutEvents with per-entry errors, delivery of matching events only,
// TestEventPattern, an InputTransformer target, the listing calls, and the
// exception classes the SDK makes of EventBridge's errors.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    CreateEventBusCommand, DeleteEventBusCommand, DeleteRuleCommand,
    DescribeEventBusCommand, DescribeRuleCommand, DisableRuleCommand,
    EnableRuleCommand, EventBridgeServiceException, InvalidEventPatternException,
    ListEventBusesCommand, ListRuleNamesByTargetCommand, ListRulesCommand,
    ListTagsForResourceCommand, ListTargetsByRuleCommand, PutEventsCommand,
    PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand,
    ResourceAlreadyExistsException, ResourceNotFoundException, TagResourceCommand,
    TestEventPatternCommand,
} from "@aws-sdk/client-eventbridge";
import {
    ACCOUNT, REGION, client, drain, eventsClient, newQueue, rejects, uniqueName,
    useServer,
} from "../lib/harness.js";

const endpoint = useServer();

const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/`;
const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/`;

// A complete event envelope, as TestEventPattern wants it.
function makeEvent(detail = {}, top = {}) {
    return {
        id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "t",
        source: "test.app", account: ACCOUNT, time: "2026-01-01T00:00:00Z",
        region: REGION, resources: [], detail, ...top,
    };
}

// A rule on `bus` matching `pattern`, targeting a new queue (with `extra`
// target fields); returns the rule name and the queue.
async function ruleToQueue(ev, sqs, pattern, { bus, extra = {} } = {}) {
    const Name = uniqueName("js-rule");
    const queue = await newQueue(sqs, "js-ev-q");
    const { RuleArn } = await ev.send(new PutRuleCommand({
        Name, EventBusName: bus, EventPattern: JSON.stringify(pattern) }));
    const r = await ev.send(new PutTargetsCommand({ Rule: Name, EventBusName: bus,
        Targets: [{ Id: "q", Arn: queue.QueueArn, ...extra }] }));
    assert.equal(r.FailedEntryCount, 0);
    return { Name, RuleArn, ...queue };
}

async function putOne(ev, entry) {
    const r = await ev.send(new PutEventsCommand({ Entries: [{
        DetailType: "t", Detail: "{}", ...entry }] }));
    assert.equal(r.FailedEntryCount, 0, JSON.stringify(r.Entries));
    return r.Entries[0].EventId;
}

describe("EventBridge buses", () => {
    it("has the default bus", async () => {
        const ev = eventsClient(endpoint());
        const r = await ev.send(new DescribeEventBusCommand({}));
        assert.equal(r.Name, "default");
        assert.equal(r.Arn, BUS_ARN + "default");
        const list = await ev.send(new ListEventBusesCommand({}));
        assert.ok(list.EventBuses.some((b) => b.Name === "default"));
    });

    it("creates, describes, lists, tags and deletes a bus", async () => {
        const ev = eventsClient(endpoint());
        const Name = uniqueName("js-bus");
        const { EventBusArn } = await ev.send(new CreateEventBusCommand({
            Name, Tags: [{ Key: "k", Value: "v" }] }));
        assert.equal(EventBusArn, BUS_ARN + Name);
        assert.equal((await ev.send(new DescribeEventBusCommand({ Name }))).Arn, EventBusArn);
        assert.equal((await ev.send(new DescribeEventBusCommand({
            Name: EventBusArn }))).Name, Name);
        const list = await ev.send(new ListEventBusesCommand({ NamePrefix: Name }));
        assert.deepEqual(list.EventBuses.map((b) => [b.Name, b.Arn]), [[Name, EventBusArn]]);
        await ev.send(new TagResourceCommand({ ResourceARN: EventBusArn,
                                               Tags: [{ Key: "env", Value: "dev" }] }));
        const tags = await ev.send(new ListTagsForResourceCommand({ ResourceARN: EventBusArn }));
        assert.deepEqual(tags.Tags.map((t) => `${t.Key}=${t.Value}`).sort(), ["env=dev", "k=v"]);

        let err = await rejects(ev.send(new CreateEventBusCommand({ Name })));
        assert.ok(err instanceof ResourceAlreadyExistsException, err.name);
        await ev.send(new DeleteEventBusCommand({ Name }));
        err = await rejects(ev.send(new DescribeEventBusCommand({ Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
        assert.equal(err.message, `Event bus ${Name} does not exist.`);
        // Deleting a bus that is gone is fine; the default bus cannot go.
        await ev.send(new DeleteEventBusCommand({ Name }));
        err = await rejects(ev.send(new DeleteEventBusCommand({ Name: "default" })));
        assert.equal(err.name, "ValidationException");
    });
});

describe("EventBridge rules and targets", () => {
    it("puts, describes, disables and updates a rule on a custom bus", async () => {
        const ev = eventsClient(endpoint());
        const bus = uniqueName("js-bus");
        await ev.send(new CreateEventBusCommand({ Name: bus }));
        const Name = uniqueName("js-rule");
        const pattern = JSON.stringify({ source: ["orders"], detail: { amount: [{
            numeric: [">", 100] }] } });
        const { RuleArn } = await ev.send(new PutRuleCommand({
            Name, EventBusName: bus, EventPattern: pattern, Description: "big orders" }));
        assert.equal(RuleArn, `${RULE_ARN}${bus}/${Name}`);
        let r = await ev.send(new DescribeRuleCommand({ Name, EventBusName: bus }));
        assert.equal(r.Arn, RuleArn);
        assert.equal(r.EventPattern, pattern);
        assert.equal(r.State, "ENABLED");
        assert.equal(r.Description, "big orders");
        assert.equal(r.EventBusName, bus);

        await ev.send(new DisableRuleCommand({ Name, EventBusName: bus }));
        r = await ev.send(new DescribeRuleCommand({ Name, EventBusName: bus }));
        assert.equal(r.State, "DISABLED");
        await ev.send(new EnableRuleCommand({ Name, EventBusName: bus }));
        const p2 = JSON.stringify({ source: ["refunds"] });
        const again = await ev.send(new PutRuleCommand({
            Name, EventBusName: bus, EventPattern: p2 }));
        assert.equal(again.RuleArn, RuleArn);
        r = await ev.send(new DescribeRuleCommand({ Name, EventBusName: bus }));
        assert.equal(r.EventPattern, p2);

        // The rule lives on its bus only.
        const err = await rejects(ev.send(new DescribeRuleCommand({ Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
        assert.equal(err.message, `Rule ${Name} does not exist on EventBus default.`);
    });

    it("lists rules by prefix across pages", async () => {
        const ev = eventsClient(endpoint());
        const bus = uniqueName("js-bus");
        await ev.send(new CreateEventBusCommand({ Name: bus }));
        const base = uniqueName("js-list");
        const names = [];
        for (let i = 0; i < 5; i++) {
            names.push(`${base}-${i}`);
            await ev.send(new PutRuleCommand({ Name: names[i], EventBusName: bus,
                EventPattern: JSON.stringify({ source: ["x"] }) }));
        }
        await ev.send(new PutRuleCommand({ Name: "zz" + base, EventBusName: bus,
                                           EventPattern: JSON.stringify({ source: ["x"] }) }));
        const seen = [];
        let NextToken;
        do {
            const page = await ev.send(new ListRulesCommand({
                EventBusName: bus, NamePrefix: base, Limit: 2, NextToken }));
            assert.ok(page.Rules.length <= 2);
            for (const rule of page.Rules) {
                assert.equal(rule.EventBusName, bus);
                assert.equal(rule.Arn, `${RULE_ARN}${bus}/${rule.Name}`);
                assert.equal(rule.State, "ENABLED");
            }
            seen.push(...page.Rules.map((rule) => rule.Name));
            NextToken = page.NextToken;
        } while (NextToken);
        assert.deepEqual(seen, names);
        const all = await ev.send(new ListRulesCommand({ EventBusName: bus }));
        assert.equal(all.Rules.length, 6);
    });

    it("puts, lists, replaces and removes targets", async () => {
        const ev = eventsClient(endpoint());
        const sqs = client(endpoint());
        const q = await newQueue(sqs, "js-tgt");
        const Rule = uniqueName("js-rule");
        await ev.send(new PutRuleCommand({ Name: Rule,
                                           EventPattern: JSON.stringify({ source: ["x"] }) }));
        const r = await ev.send(new PutTargetsCommand({ Rule, Targets: [
            { Id: "a", Arn: q.QueueArn },
            { Id: "b", Arn: q.QueueArn, Input: "{\"k\": 1}" }] }));
        assert.equal(r.FailedEntryCount, 0);
        assert.deepEqual(r.FailedEntries, []);
        let t = (await ev.send(new ListTargetsByRuleCommand({ Rule }))).Targets;
        assert.deepEqual(t, [{ Id: "a", Arn: q.QueueArn },
                             { Id: "b", Arn: q.QueueArn, Input: "{\"k\": 1}" }]);
        const names = await ev.send(new ListRuleNamesByTargetCommand({
            TargetArn: q.QueueArn }));
        assert.deepEqual(names.RuleNames, [Rule]);

        let err = await rejects(ev.send(new DeleteRuleCommand({ Name: Rule })));
        assert.equal(err.name, "ValidationException");
        assert.ok(err instanceof EventBridgeServiceException);
        assert.equal(err.message, "Rule can't be deleted since it has targets.");
        assert.equal(err.$metadata.httpStatusCode, 400);

        await ev.send(new PutTargetsCommand({ Rule, Targets: [
            { Id: "a", Arn: q.QueueArn, InputPath: "$.detail" }] }));
        t = (await ev.send(new ListTargetsByRuleCommand({ Rule }))).Targets;
        assert.equal(t.length, 2);
        assert.equal(t.find((x) => x.Id === "a").InputPath, "$.detail");
        const rm = await ev.send(new RemoveTargetsCommand({ Rule, Ids: ["a", "b"] }));
        assert.equal(rm.FailedEntryCount, 0);
        assert.deepEqual((await ev.send(new ListTargetsByRuleCommand({ Rule }))).Targets, []);
        await ev.send(new DeleteRuleCommand({ Name: Rule }));
        err = await rejects(ev.send(new PutTargetsCommand({ Rule, Targets: [
            { Id: "a", Arn: q.QueueArn }] })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
    });
});

describe("EventBridge events", () => {
    it("reports per-entry errors from PutEvents", async () => {
        const ev = eventsClient(endpoint());
        const r = await ev.send(new PutEventsCommand({ Entries: [
            { Source: "a", DetailType: "t", Detail: "{}" },
            { DetailType: "t", Detail: "{}" },
            { Source: "a", Detail: "{}" },
            { Source: "a", DetailType: "t" },
            { Source: "a", DetailType: "t", Detail: "[1]" },
            { Source: "a", DetailType: "t", Detail: "{bad json" },
            { Source: "a", DetailType: "t", Detail: "{}", EventBusName: uniqueName("js-none") },
            { Source: "a", DetailType: "t", Detail: "{}", Time: new Date(1767225600000) },
        ] }));
        assert.equal(r.FailedEntryCount, 5);
        const e = r.Entries;
        assert.equal(e.length, 8);
        // a bus that does not exist (entry 6): an EventId, as on AWS
        for (const i of [0, 6, 7]) {
            assert.match(e[i].EventId, /^[0-9a-f-]{36}$/);
            assert.equal(e[i].ErrorCode, undefined);
        }
        assert.notEqual(e[0].EventId, e[7].EventId);
        assert.deepEqual(e[1], { ErrorCode: "InvalidArgument", ErrorMessage:
            "Parameter Source is not valid. Reason: Source is a required argument." });
        assert.deepEqual(e[2], { ErrorCode: "InvalidArgument", ErrorMessage:
            "Parameter DetailType is not valid. Reason: DetailType is a required argument." });
        assert.deepEqual(e[3], { ErrorCode: "InvalidArgument", ErrorMessage:
            "Parameter Detail is not valid. Reason: Detail is a required argument." });
        assert.deepEqual(e[4], { ErrorCode: "MalformedDetail",
                                 ErrorMessage: "Detail is malformed." });
        assert.equal(e[5].ErrorCode, "MalformedDetail");
    });

    it("delivers a matching event and not a non-matching one", async () => {
        const ev = eventsClient(endpoint());
        const sqs = client(endpoint());
        const bus = uniqueName("js-bus");
        await ev.send(new CreateEventBusCommand({ Name: bus }));
        const src = uniqueName("orders");
        const rule = await ruleToQueue(ev, sqs, {
            source: [src], "detail-type": ["Order Placed"],
            detail: { amount: [{ numeric: [">", 100] }], region: [{ prefix: "eu-" }] },
        }, { bus });
        // The SDK sends fractional epoch seconds; the envelope has whole seconds.
        const at = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 789));
        const good = { amount: 250, region: "eu-west-1", items: [1, "a", null] };
        const id = await putOne(ev, { EventBusName: bus, Source: src, DetailType: "Order Placed",
                                      Detail: JSON.stringify(good), Time: at,
                                      Resources: ["arn:aws:s3:::bkt"] });
        for (const [DetailType, detail] of [
            ["Order Placed", { amount: 50, region: "eu-west-1" }],
            ["Order Placed", { amount: 250, region: "us-east-1" }],
            ["Order Shipped", good]]) {
            await putOne(ev, { EventBusName: bus, Source: src, DetailType,
                               Detail: JSON.stringify(detail) });
        }
        // The same event on the default bus does not reach a rule on another bus.
        await putOne(ev, { Source: src, DetailType: "Order Placed",
                           Detail: JSON.stringify(good) });
        const got = await drain(sqs, rule.QueueUrl, { expect: 1 });
        got.push(...await drain(sqs, rule.QueueUrl, { timeoutMs: 1500 }));
        assert.equal(got.length, 1, got.map((m) => m.Body).join("\n"));
        const body = JSON.parse(got[0].Body);
        assert.deepEqual(Object.keys(body), ["version", "id", "detail-type", "source",
                                             "account", "time", "region", "resources",
                                             "detail"]);
        assert.deepEqual(body, {
            version: "0", id, "detail-type": "Order Placed", source: src, account: ACCOUNT,
            time: "2026-01-01T00:00:00Z", region: REGION, resources: ["arn:aws:s3:::bkt"],
            detail: good });
    });

    it("delivers nothing through a disabled rule", async () => {
        const ev = eventsClient(endpoint());
        const sqs = client(endpoint());
        const src = uniqueName("dis");
        const rule = await ruleToQueue(ev, sqs, { source: [src] });
        await ev.send(new DisableRuleCommand({ Name: rule.Name }));
        await putOne(ev, { Source: src, Detail: "{\"n\": 1}" });
        await ev.send(new EnableRuleCommand({ Name: rule.Name }));
        await putOne(ev, { Source: src, Detail: "{\"n\": 2}" });
        const got = await drain(sqs, rule.QueueUrl, { expect: 1 });
        got.push(...await drain(sqs, rule.QueueUrl, { timeoutMs: 1000 }));
        assert.deepEqual(got.map((m) => JSON.parse(m.Body).detail), [{ n: 2 }]);
    });

    it("shapes the input with an InputTransformer", async () => {
        const ev = eventsClient(endpoint());
        const sqs = client(endpoint());
        const src = uniqueName("tr");
        const rule = await ruleToQueue(ev, sqs, { source: [src] }, { extra: {
            InputTransformer: {
                InputPathsMap: { id: "$.detail.id", amount: "$.detail.amount",
                                 customer: "$.detail.customer", first: "$.resources[0]",
                                 missing: "$.detail.nope", dt: "$.detail-type" },
                InputTemplate: "{\"order\": <id>, \"amount\": <amount>, " +
                    "\"customer\": <customer>, \"res\": <first>, \"none\": <missing>, " +
                    "\"text\": \"<dt> of <amount> for <id>\", \"rule\": <aws.events.rule-name>}",
            } } });
        const t = (await ev.send(new ListTargetsByRuleCommand({ Rule: rule.Name }))).Targets;
        assert.equal(t[0].InputTransformer.InputPathsMap.id, "$.detail.id");
        await putOne(ev, { Source: src, DetailType: "Order Placed",
                           Resources: ["arn:aws:s3:::bkt"],
                           Detail: JSON.stringify({ id: "o-17", amount: 12.5,
                                                    customer: { name: "Ada", vip: true } }) });
        const [m] = await drain(sqs, rule.QueueUrl, { expect: 1 });
        assert.ok(m, "nothing delivered");
        assert.deepEqual(JSON.parse(m.Body), {
            order: "o-17", amount: 12.5, customer: { name: "Ada", vip: true },
            res: "arn:aws:s3:::bkt", none: "", text: "Order Placed of 12.5 for o-17",
            rule: rule.Name });

        // A whole-template string arrives as that JSON string.
        const src2 = uniqueName("tr2");
        const rule2 = await ruleToQueue(ev, sqs, { source: [src2] }, { extra: {
            InputTransformer: { InputPathsMap: { id: "$.detail.id" },
                                InputTemplate: "\"Order <id> arrived\"" } } });
        await putOne(ev, { Source: src2, Detail: JSON.stringify({ id: "o-18" }) });
        const [m2] = await drain(sqs, rule2.QueueUrl, { expect: 1 });
        assert.equal(m2?.Body, "\"Order o-18 arrived\"");

        const err = await rejects(ev.send(new PutTargetsCommand({ Rule: rule.Name, Targets: [{
            Id: "x", Arn: rule.QueueArn, InputTransformer: {
                InputPathsMap: { a: "$.detail.a" },
                InputTemplate: "{\"a\": <a>, \"b\": <missing>}" } }] })));
        assert.equal(err.name, "ValidationException");
        assert.equal(err.message, "InputTemplate for target x contains invalid placeholder " +
                     "missing.");
    });
});

describe("TestEventPattern and pattern errors", () => {
    it("answers true and false", async () => {
        const ev = eventsClient(endpoint());
        const Event = JSON.stringify(makeEvent({ state: "running", n: 5, ip: "10.0.0.7" }));
        const check = async (pattern) => (await ev.send(new TestEventPatternCommand({
            EventPattern: JSON.stringify(pattern), Event }))).Result;
        assert.equal(await check({ detail: { state: ["running"] } }), true);
        assert.equal(await check({ detail: { state: ["stopped"] } }), false);
        assert.equal(await check({ source: ["test.app"], detail: {
            n: [{ numeric: [">=", 5, "<", 6] }], ip: [{ cidr: "10.0.0.0/24" }] } }), true);
        assert.equal(await check({ detail: { n: [{ "anything-but": [5] }] } }), false);
        assert.equal(await check({ detail: { missing: [{ exists: false }] } }), true);
        assert.equal(await check({ $or: [{ source: ["nope"] },
                                         { detail: { state: [{ prefix: "run" }] } }] }), true);
        assert.equal(await check({ detail: { state: [{ "equals-ignore-case": "RUNNING" }] } }),
                     true);
        assert.equal(await check({ detail: { state: [{ wildcard: "r*g" }] } }), true);
    });

    it("rejects invalid patterns with InvalidEventPatternException", async () => {
        const ev = eventsClient(endpoint());
        const Event = JSON.stringify(makeEvent());
        for (const EventPattern of ["{\"source\": \"x\"}", "{\"source\": []}",
                                    "{\"a\": [{\"NUMERIC\": [\">\", 1]}]}", "{not json",
                                    "[1, 2]"]) {
            const err = await rejects(ev.send(new TestEventPatternCommand({
                EventPattern, Event })));
            assert.ok(err instanceof InvalidEventPatternException,
                      `${EventPattern}: ${err.name}`);
            assert.equal(err.name, "InvalidEventPatternException");
            assert.equal(err.$metadata.httpStatusCode, 400);
            assert.match(err.message, /^Event pattern is not valid\. Reason: /, EventPattern);
        }
        const err = await rejects(ev.send(new PutRuleCommand({
            Name: uniqueName("js-bad"), EventPattern: "{\"source\": []}" })));
        assert.ok(err instanceof InvalidEventPatternException, err.name);
        assert.match(err.message,
                     /^Event pattern is not valid\. Reason: Empty arrays are not allowed/);
    });

    it("rejects an event that is not a full envelope", async () => {
        const ev = eventsClient(endpoint());
        const EventPattern = JSON.stringify({ source: ["a"] });
        for (const Event of ["\"just a string\"", "{\"source\": \"a\"}"]) {
            const err = await rejects(ev.send(new TestEventPatternCommand({
                EventPattern, Event })));
            assert.equal(err.name, "ValidationException", Event);
            assert.equal(err.$metadata.httpStatusCode, 400);
        }
    });
});

describe("EventBridge errors through the SDK", () => {
    it("names missing resources and validation failures", async () => {
        const ev = eventsClient(endpoint());
        const Name = uniqueName("js-none");
        let err = await rejects(ev.send(new DescribeRuleCommand({ Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
        assert.equal(err.name, "ResourceNotFoundException");
        assert.equal(err.$fault, "client");
        assert.equal(err.$metadata.httpStatusCode, 400);
        assert.equal(err.message, `Rule ${Name} does not exist on EventBus default.`);

        err = await rejects(ev.send(new PutRuleCommand({ Name,
            EventBusName: Name + "-bus", EventPattern: JSON.stringify({ source: ["a"] }) })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
        assert.equal(err.message, `Event bus ${Name}-bus does not exist.`);

        err = await rejects(ev.send(new ListTagsForResourceCommand({
            ResourceARN: RULE_ARN + Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);

        err = await rejects(ev.send(new PutRuleCommand({ Name })));
        assert.equal(err.name, "ValidationException");
        assert.equal(err.message,
                     "Parameter(s) EventPattern or ScheduleExpression must be specified.");
        err = await rejects(ev.send(new PutRuleCommand({ Name,
                                                         ScheduleExpression: "rate(5 minute)" })));
        assert.equal(err.name, "ValidationException");
        assert.equal(err.message, "Parameter ScheduleExpression is not valid.");
        err = await rejects(ev.send(new CreateEventBusCommand({ Name: "bad name" })));
        assert.equal(err.name, "ValidationException");
        const entry = { Source: "a", DetailType: "t", Detail: "{}" };
        err = await rejects(ev.send(new PutEventsCommand({
            Entries: Array.from({ length: 11 }, () => entry) })));
        assert.equal(err.name, "ValidationException");
    });
});
