// EventBridge Scheduler over REST-JSON through @aws-sdk/client-scheduler
// v3 (which sends an idempotency ClientToken of its own on every create):
// schedules and schedule groups from creation to deletion, listing with
// the SDK's paginators, validation errors, conflicts and missing
// resources as the SDK's exception classes, and one-time at() schedules a
// few seconds ahead delivering their Input to SQS queues (one of them
// deleting itself after it ran).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    ConflictException, CreateScheduleCommand, CreateScheduleGroupCommand,
    DeleteScheduleCommand, DeleteScheduleGroupCommand, GetScheduleCommand,
    GetScheduleGroupCommand, ListTagsForResourceCommand, ResourceNotFoundException,
    TagResourceCommand, UntagResourceCommand, UpdateScheduleCommand,
    ValidationException, paginateListScheduleGroups, paginateListSchedules,
} from "@aws-sdk/client-scheduler";
import {
    ACCOUNT, REGION, client, drain, newQueue, rejects, schedulerClient, sleep,
    uniqueName, useServer,
} from "../lib/harness.js";

const endpoint = useServer();

const ROLE = `arn:aws:iam::${ACCOUNT}:role/scheduler-js`;
const SCHEDULE_ARN = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/`;
const GROUP_ARN = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/`;
// Any queue ARN will do for schedules that never fire.
const IDLE_TARGET = { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:idle`, RoleArn: ROLE };

// at(...) for `secondsAhead` from now, as wall-clock time in `timeZone`.
function atExpression(secondsAhead, timeZone = "UTC") {
    const when = new Date(Date.now() + secondsAhead * 1000);
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
        timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(when).map((p) => [p.type, p.value]));
    return `at(${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:` +
           `${parts.second})`;
}

function schedule(Name, extra = {}) {
    return { Name, ScheduleExpression: "rate(1 day)", FlexibleTimeWindow: { Mode: "OFF" },
             Target: IDLE_TARGET, ...extra };
}

describe("schedules", () => {
    it("creates, gets, updates and deletes a schedule", async () => {
        const sch = schedulerClient(endpoint());
        const Name = uniqueName("js-sched");
        const { ScheduleArn } = await sch.send(new CreateScheduleCommand(schedule(Name, {
            ScheduleExpression: "cron(0 9 ? * MON-FRI *)",
            ScheduleExpressionTimezone: "Europe/Paris", Description: "weekday mornings",
            Target: { ...IDLE_TARGET, Input: "{\"key\": \"value\"}" } })));
        assert.equal(ScheduleArn, `${SCHEDULE_ARN}default/${Name}`);
        const got = await sch.send(new GetScheduleCommand({ Name }));
        assert.equal(got.Arn, ScheduleArn);
        assert.equal(got.Name, Name);
        assert.equal(got.GroupName, "default");
        assert.equal(got.State, "ENABLED");
        assert.equal(got.ScheduleExpression, "cron(0 9 ? * MON-FRI *)");
        assert.equal(got.ScheduleExpressionTimezone, "Europe/Paris");
        assert.equal(got.Description, "weekday mornings");
        assert.deepEqual(got.FlexibleTimeWindow, { Mode: "OFF" });
        assert.deepEqual(got.Target, {
            ...IDLE_TARGET, Input: "{\"key\": \"value\"}",
            RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 } });
        assert.ok(got.CreationDate instanceof Date);
        assert.ok(Math.abs(got.CreationDate.getTime() - Date.now()) < 60000);
        assert.equal(got.LastModificationDate.getTime(), got.CreationDate.getTime());
        assert.equal(got.ActionAfterCompletion, "NONE");

        const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3600000);
        const end = new Date(start.getTime() + 86400000);
        await sch.send(new UpdateScheduleCommand({
            Name, ScheduleExpression: "rate(2 hours)", State: "DISABLED",
            StartDate: start, EndDate: end,
            FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 15 },
            Target: { ...IDLE_TARGET, Input: "other",
                      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 120 } },
        }));
        const upd = await sch.send(new GetScheduleCommand({ Name }));
        assert.equal(upd.Arn, ScheduleArn);
        assert.equal(upd.ScheduleExpression, "rate(2 hours)");
        assert.equal(upd.State, "DISABLED");
        assert.equal(upd.StartDate.getTime(), start.getTime());
        assert.equal(upd.EndDate.getTime(), end.getTime());
        assert.deepEqual(upd.FlexibleTimeWindow, { Mode: "FLEXIBLE",
                                                   MaximumWindowInMinutes: 15 });
        assert.equal(upd.Target.Input, "other");
        assert.deepEqual(upd.Target.RetryPolicy, { MaximumRetryAttempts: 3,
                                                   MaximumEventAgeInSeconds: 120 });
        // An update replaces the whole schedule: what it leaves out is gone.
        assert.equal(upd.Description, undefined);
        assert.equal(upd.ScheduleExpressionTimezone, "UTC");
        assert.equal(upd.CreationDate.getTime(), got.CreationDate.getTime());
        assert.ok(upd.LastModificationDate.getTime() >= got.LastModificationDate.getTime());

        await sch.send(new DeleteScheduleCommand({ Name }));
        const err = await rejects(sch.send(new GetScheduleCommand({ Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
    });

    it("lists schedules by group, state and prefix across pages", async () => {
        const sch = schedulerClient(endpoint());
        const GroupName = uniqueName("js-grp");
        await sch.send(new CreateScheduleGroupCommand({ Name: GroupName }));
        const base = uniqueName("js-list");
        const names = [];
        for (let i = 0; i < 5; i++) {
            names.push(`${base}-${i}`);
            await sch.send(new CreateScheduleCommand(schedule(names[i], {
                GroupName, State: i % 2 ? "DISABLED" : "ENABLED" })));
        }
        const list = async (input) => {
            const seen = [];
            for await (const page of paginateListSchedules({ client: sch, pageSize: 2 },
                                                           input)) {
                assert.ok(page.Schedules.length <= 2);
                seen.push(...page.Schedules);
            }
            return seen;
        };
        const all = await list({ GroupName });
        assert.deepEqual(all.map((s) => s.Name), names);
        assert.deepEqual(all[0].Target, { Arn: IDLE_TARGET.Arn });
        assert.equal(all[0].GroupName, GroupName);
        assert.equal(all[0].Arn, `${SCHEDULE_ARN}${GroupName}/${names[0]}`);
        assert.equal(all[0].State, "ENABLED");
        assert.ok(all[0].CreationDate instanceof Date);
        const disabled = await list({ GroupName, State: "DISABLED" });
        assert.deepEqual(disabled.map((s) => s.Name), [names[1], names[3]]);
        const byPrefix = await list({ NamePrefix: base });
        assert.deepEqual(byPrefix.map((s) => s.Name).sort(), names);
        assert.deepEqual(await list({ NamePrefix: "zz" + base }), []);
    });

    it("rejects invalid schedules with ValidationException", async () => {
        const sch = schedulerClient(endpoint());
        const Name = uniqueName("js-bad");
        for (const expr of ["cron(0 1 * * * *)", "rate(10 seconds)", "rate(-1 minutes)",
                            "at(2030-01-01T00:00:00Z)", "every day", "rate(5 minutess)"]) {
            const err = await rejects(sch.send(new CreateScheduleCommand(schedule(Name, {
                ScheduleExpression: expr }))));
            assert.ok(err instanceof ValidationException, `${expr}: ${err.name}`);
            assert.equal(err.name, "ValidationException");
            assert.equal(err.$metadata.httpStatusCode, 400);
            assert.equal(err.message, `Invalid Schedule Expression ${expr}.`);
        }
        const invalid = [
            { FlexibleTimeWindow: { Mode: "FLEXIBLE" } },
            { FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 1441 } },
            { FlexibleTimeWindow: { Mode: "SOMETIMES" } },
            { ScheduleExpressionTimezone: "Mars/Olympus_Mons" },
            { State: "PAUSED" },
            { Target: { ...IDLE_TARGET, RetryPolicy: { MaximumRetryAttempts: 186 } } },
            { StartDate: new Date(Date.now() + 7200000), EndDate: new Date(Date.now() + 3600000) },
            { Name: "bad name!" },
        ];
        for (const extra of invalid) {
            const err = await rejects(sch.send(new CreateScheduleCommand(schedule(Name,
                                                                                  extra))));
            assert.ok(err instanceof ValidationException,
                      `${JSON.stringify(extra)}: ${err.name} ${err.message}`);
            assert.equal(err.$metadata.httpStatusCode, 400);
        }
        // None of them was created.
        const err = await rejects(sch.send(new GetScheduleCommand({ Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
    });

    it("answers a duplicate with ConflictException", async () => {
        const sch = schedulerClient(endpoint());
        const Name = uniqueName("js-dup");
        await sch.send(new CreateScheduleCommand(schedule(Name)));
        const err = await rejects(sch.send(new CreateScheduleCommand(schedule(Name))));
        assert.ok(err instanceof ConflictException, err.name);
        assert.equal(err.name, "ConflictException");
        assert.equal(err.$metadata.httpStatusCode, 409);
        assert.ok(err.message.includes(Name), err.message);
        // The same name in another group is another schedule.
        const GroupName = uniqueName("js-grp");
        await sch.send(new CreateScheduleGroupCommand({ Name: GroupName }));
        const other = await sch.send(new CreateScheduleCommand(schedule(Name, { GroupName })));
        assert.equal(other.ScheduleArn, `${SCHEDULE_ARN}${GroupName}/${Name}`);
        await sch.send(new DeleteScheduleCommand({ Name }));
        assert.equal((await sch.send(new GetScheduleCommand({ Name, GroupName }))).Name, Name);
    });

    it("answers missing schedules and groups with ResourceNotFoundException", async () => {
        const sch = schedulerClient(endpoint());
        const Name = uniqueName("js-none");
        for (const call of [
            () => sch.send(new GetScheduleCommand({ Name })),
            () => sch.send(new DeleteScheduleCommand({ Name })),
            () => sch.send(new UpdateScheduleCommand(schedule(Name))),
        ]) {
            const err = await rejects(call());
            assert.ok(err instanceof ResourceNotFoundException, err.name);
            assert.equal(err.name, "ResourceNotFoundException");
            assert.equal(err.$fault, "client");
            assert.equal(err.$metadata.httpStatusCode, 404);
            assert.equal(err.message, `Schedule ${Name} does not exist.`);
        }
        for (const call of [
            () => sch.send(new GetScheduleGroupCommand({ Name })),
            () => sch.send(new DeleteScheduleGroupCommand({ Name })),
            () => sch.send(new CreateScheduleCommand(schedule(Name, { GroupName: Name }))),
            () => sch.send(new GetScheduleCommand({ Name, GroupName: Name })),
            () => sch.send(new ListTagsForResourceCommand({ ResourceArn: GROUP_ARN + Name })),
        ]) {
            const err = await rejects(call());
            assert.ok(err instanceof ResourceNotFoundException, err.name);
            assert.equal(err.$metadata.httpStatusCode, 404);
        }
    });
});

describe("schedule groups", () => {
    it("creates, gets, lists, tags and deletes a group with its schedules", async () => {
        const sch = schedulerClient(endpoint());
        const Name = uniqueName("js-grp");
        const { ScheduleGroupArn } = await sch.send(new CreateScheduleGroupCommand({
            Name, Tags: [{ Key: "team", Value: "reports" }] }));
        assert.equal(ScheduleGroupArn, GROUP_ARN + Name);
        const got = await sch.send(new GetScheduleGroupCommand({ Name }));
        assert.equal(got.Arn, ScheduleGroupArn);
        assert.equal(got.Name, Name);
        assert.equal(got.State, "ACTIVE");
        assert.ok(got.CreationDate instanceof Date);

        let err = await rejects(sch.send(new CreateScheduleGroupCommand({ Name })));
        assert.ok(err instanceof ConflictException, err.name);
        assert.equal(err.$metadata.httpStatusCode, 409);

        const groups = [];
        for await (const page of paginateListScheduleGroups({ client: sch, pageSize: 1 }, {})) {
            groups.push(...page.ScheduleGroups.map((g) => g.Name));
        }
        assert.ok(groups.includes("default") && groups.includes(Name), groups.join(","));
        assert.equal(new Set(groups).size, groups.length);
        const mine = [];
        for await (const page of paginateListScheduleGroups({ client: sch },
                                                            { NamePrefix: Name })) {
            mine.push(...page.ScheduleGroups);
        }
        assert.deepEqual(mine.map((g) => [g.Name, g.Arn, g.State]),
                         [[Name, ScheduleGroupArn, "ACTIVE"]]);

        await sch.send(new TagResourceCommand({ ResourceArn: ScheduleGroupArn, Tags: [
            { Key: "env", Value: "dev" }, { Key: "team", Value: "ops" }] }));
        let tags = await sch.send(new ListTagsForResourceCommand({
            ResourceArn: ScheduleGroupArn }));
        assert.deepEqual(Object.fromEntries(tags.Tags.map((t) => [t.Key, t.Value])),
                         { team: "ops", env: "dev" });
        await sch.send(new UntagResourceCommand({ ResourceArn: ScheduleGroupArn,
                                                  TagKeys: ["team"] }));
        tags = await sch.send(new ListTagsForResourceCommand({ ResourceArn: ScheduleGroupArn }));
        assert.deepEqual(tags.Tags, [{ Key: "env", Value: "dev" }]);

        const inGroup = uniqueName("js-member");
        await sch.send(new CreateScheduleCommand(schedule(inGroup, { GroupName: Name })));
        await sch.send(new DeleteScheduleGroupCommand({ Name }));
        err = await rejects(sch.send(new GetScheduleGroupCommand({ Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
        err = await rejects(sch.send(new GetScheduleCommand({ Name: inGroup, GroupName: Name })));
        assert.ok(err instanceof ResourceNotFoundException, err.name);
    });

    it("keeps the default group", async () => {
        const sch = schedulerClient(endpoint());
        const got = await sch.send(new GetScheduleGroupCommand({ Name: "default" }));
        assert.equal(got.Arn, GROUP_ARN + "default");
        assert.equal(got.State, "ACTIVE");
        const err = await rejects(sch.send(new DeleteScheduleGroupCommand({
            Name: "default" })));
        assert.ok(err instanceof ValidationException, err.name);
        const err2 = await rejects(sch.send(new CreateScheduleGroupCommand({
            Name: "default" })));
        assert.ok(err2 instanceof ConflictException, err2.name);
    });
});

describe("one-time schedules", () => {
    it("delivers the Input of an at() schedule to a queue", async () => {
        const sch = schedulerClient(endpoint());
        const sqs = client(endpoint());
        const utc = await newQueue(sqs, "js-at");
        const zoned = await newQueue(sqs, "js-at-tz");
        const Name = uniqueName("js-at");
        const payload = JSON.stringify({ report: "daily", n: 1, note: "caf\u00e9" });
        await sch.send(new CreateScheduleCommand({
            Name, ScheduleExpression: atExpression(3), FlexibleTimeWindow: { Mode: "OFF" },
            Target: { Arn: utc.QueueArn, RoleArn: ROLE, Input: payload } }));
        // The same moment written in another time zone (India has no DST).
        await sch.send(new CreateScheduleCommand({
            Name: Name + "-tz", ScheduleExpression: atExpression(3, "Asia/Kolkata"),
            ScheduleExpressionTimezone: "Asia/Kolkata", FlexibleTimeWindow: { Mode: "OFF" },
            Target: { Arn: zoned.QueueArn, RoleArn: ROLE,
                      Input: "{\"arn\": \"<aws.scheduler.schedule-arn>\"}" } }));
        // One that deletes itself once it has run (boto3 1.26 cannot send this field).
        const gone = await newQueue(sqs, "js-at-del");
        await sch.send(new CreateScheduleCommand({
            Name: Name + "-del", ScheduleExpression: atExpression(3),
            FlexibleTimeWindow: { Mode: "OFF" }, ActionAfterCompletion: "DELETE",
            Target: { Arn: gone.QueueArn, RoleArn: ROLE, Input: "last" } }));
        assert.equal((await sch.send(new GetScheduleCommand({
            Name: Name + "-del" }))).ActionAfterCompletion, "DELETE");
        const created = Date.now();

        const [m] = await drain(sqs, utc.QueueUrl, { expect: 1, timeoutMs: 15000 });
        assert.ok(m, "nothing delivered");
        assert.equal(m.Body, payload);
        assert.ok(Date.now() - created < 12000, `took ${Date.now() - created} ms`);
        const [z] = await drain(sqs, zoned.QueueUrl, { expect: 1, timeoutMs: 8000 });
        assert.ok(z, "nothing delivered for the zoned schedule");
        assert.deepEqual(JSON.parse(z.Body), { arn: `${SCHEDULE_ARN}default/${Name}-tz` });

        const [d] = await drain(sqs, gone.QueueUrl, { expect: 1, timeoutMs: 8000 });
        assert.equal(d?.Body, "last");
        let deleted = null;
        for (let i = 0; i < 50 && !deleted; i++) {
            try {
                await sch.send(new GetScheduleCommand({ Name: Name + "-del" }));
                await sleep(100);
            } catch (err) {
                deleted = err;
            }
        }
        assert.ok(deleted instanceof ResourceNotFoundException, "not deleted after running");

        // It fires once; the schedule itself stays until deleted.
        const more = await drain(sqs, utc.QueueUrl, { timeoutMs: 2000 });
        assert.equal(more.length, 0);
        const got = await sch.send(new GetScheduleCommand({ Name }));
        assert.equal(got.State, "ENABLED");
        await sch.send(new DeleteScheduleCommand({ Name }));
        await sch.send(new DeleteScheduleCommand({ Name: Name + "-tz" }));
    });
});
