// @servers fauxqs
// SQS's own recovery paths with real worker processes: a job longer than the visibility timeout,
// a SIGKILLed worker's message, a poison message, and the orphan window of an aborted long poll.
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { events, SqsScenario } from "./fixture.js";

let scenario: SqsScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe("sqs: recovery", () => {
  it("a job 5x longer than the visibility timeout completes once: heartbeats keep it hidden from a second worker", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "long" }));
    // 3 s visibility, renewed at about 1.5 s (2 s leaves too little slack on a loaded machine);
    // a lapse would hand the message to the other worker.
    const env = { concurrency: 2, visibilitySeconds: 3, waitSeconds: 1 };
    const workers = [s.spawn(env), s.spawn(env)];
    await Promise.all(workers.map((w) => w.waitForLine(/"event":"ready"/)));
    const id = await s.queue.send({ n: 7, ms: 15_000 });
    await pollUntil(() => s.effects().get(id) === 1, { timeoutMs: 30_000, message: "long job done" });
    await pollUntil(async () => (await s.queue.counts()).inFlight === 0, { timeoutMs: 5_000, message: "message deleted" });

    const started = workers.flatMap((w) => events(w, "job-started"));
    expect(started.map((e) => e.id)).toEqual([id]);
    expect(started[0]?.attempt).toBe(1);
    const runner = workers.find((w) => events(w, "job-started").length > 0);
    expect(events(runner!, "lease-extended").length).toBeGreaterThanOrEqual(5);
    expect(workers.flatMap((w) => events(w, "lease-lost"))).toEqual([]);
    for (const w of workers) w.signal("SIGTERM");
    for (const w of workers) expect((await w.waitForExit(10_000)).code).toBe(0);
  });

  it("a worker SIGKILLed mid-job: the message comes back after its visibility timeout and another worker completes it", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "sigkill" }));
    // 3 s: renewed every ~1.5 s, so a survivor slowed by a loaded machine keeps its lease.
    const env = { visibilitySeconds: 3, waitSeconds: 1 };
    const doomed = s.spawn(env);
    await doomed.waitForLine(/"event":"ready"/);
    const id = await s.queue.send({ n: 1, ms: 5_000 });
    await doomed.waitForLine(/"event":"job-started"/);
    const survivor = s.spawn(env);
    await survivor.waitForLine(/"event":"ready"/);
    const killedAt = Date.now();
    expect((await doomed.kill()).signal).toBe("SIGKILL");

    await pollUntil(() => s.effects().get(id) === 1, { timeoutMs: 20_000, message: "job completed by the survivor" }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the survivor reported ${JSON.stringify(events(survivor))}`);
    });
    const [again] = events(survivor, "job-started");
    expect(again?.id).toBe(id);
    expect(again?.attempt).toBe(2);
    // Not before the dead worker's visibility ran out (3 s from its last renewal, at most 3 s before the kill).
    expect((again?.t ?? 0) - killedAt).toBeGreaterThanOrEqual(0);
    expect(events(doomed, "job-finished")).toEqual([]);
    survivor.signal("SIGTERM");
    expect((await survivor.waitForExit(10_000)).code).toBe(0);
  });

  it("a poison message goes to the dead-letter queue after maxReceiveCount receives; the worker keeps running", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "poison", maxReceiveCount: 3 }));
    const worker = s.spawn({ visibilitySeconds: 5, waitSeconds: 1, extra: { QUIESCE_LOG_LEVEL: "error" } });
    await worker.waitForLine(/"event":"ready"/);
    const poison = await s.queue.send({ n: 1, wrong: "shape" });
    const notAnObject = await s.queue.send("plain text");
    await s.queue.client.send(new SendMessageCommand({ QueueUrl: s.queue.url, MessageBody: "{not json" }));
    await pollUntil(async () => (await s.queue.counts(s.queue.dlqUrl)).visible === 3, { timeoutMs: 30_000, message: "3 messages dead-lettered" });

    // The handler saw the wrong shapes three times each (1 s, 2 s backoff between, straight to
    // the DLQ after the last); the undecodable body never reached it.
    const started = events(worker, "job-started");
    expect(started.filter((e) => e.id === poison).map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(started.filter((e) => e.id === notAnObject).map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(started).toHaveLength(6);
    // The last failure's event follows its ChangeMessageVisibility answer, and the next poll (which
    // dead-letters the message) may go out beside that call: the event can come a moment later.
    await pollUntil(() => events(worker, "job-failed").length >= 9, { message: "nine failures reported" });
    expect(events(worker, "job-failed").length).toBe(9);
    expect((await s.queue.counts()).visible + (await s.queue.counts()).inFlight).toBe(0);

    const after = await s.queue.send({ n: 2, ms: 10 });
    await pollUntil(() => s.effects().get(after) === 1, { timeoutMs: 10_000, message: "a message after the bad ones" });
    expect(worker.exit).toBeUndefined();
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(10_000)).code).toBe(0);
  });

  it("orphan window: a message sent just as a drain aborts an idle worker's long poll is processed by another worker within the visibility timeout", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "orphan" }));
    const visibilitySeconds = 3;
    const idle = s.spawn({ visibilitySeconds, waitSeconds: 20 });
    await idle.waitForLine(/"event":"ready"/);
    const termAt = Date.now();
    idle.signal("SIGTERM");
    await idle.waitForLine(/"event":"draining"/);
    const id = await s.queue.send({ n: 1, ms: 10 });
    const sentAt = Date.now();
    const exit = await idle.waitForExit(10_000);
    expect(exit.code).toBe(0);
    // Well under the 20 s poll.
    expect((events(idle, "exit")[0]?.t ?? Infinity) - termAt).toBeLessThan(3_000);

    const other = s.spawn({ visibilitySeconds, waitSeconds: 1 });
    await pollUntil(() => s.effects().get(id) === 1, { timeoutMs: 20_000, message: "the message processed by the other worker" });
    const [started] = events(other, "job-started");
    const delayMs = (started?.t ?? 0) - sentAt;
    // SQS cannot see a client leave a long poll: the aborted poll may still take the message,
    // which then stays hidden for that receive's visibility (attempt 2 shows it happened). Either
    // way it is processed within the visibility timeout and some slack for the new worker's start.
    expect(delayMs).toBeLessThan(visibilitySeconds * 1000 + 4_000);
    console.log(`sqs orphan window: processed ${delayMs} ms after the send (attempt ${String(started?.attempt)}; visibility ${visibilitySeconds} s)`);
    other.signal("SIGTERM");
    expect((await other.waitForExit(10_000)).code).toBe(0);
  });
});
