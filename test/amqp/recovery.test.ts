// @servers rabbitmq
// RabbitMQ's recovery paths with real worker processes: a SIGKILLed worker's job, a poison
// message under maxAttempts, and a body that is not JSON.
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { AmqpScenario, events, ofKind } from "./fixture.js";

let scenario: AmqpScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe("amqp: recovery", () => {
  it("a worker SIGKILLed mid-job: the broker redelivers the message (redelivered flag) and another worker completes it", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("sigkill")));
    const doomed = s.spawn();
    await doomed.waitForLine(/"event":"ready"/);
    // Long on its first delivery (so the doomed worker is surely still in it, however slowly the
    // survivor starts), quick once redelivered.
    const [id] = await s.publish([{ n: 1, firstMs: 60_000, ms: 100 }]);
    await doomed.waitForLine(/"event":"job-started"/);
    const survivor = s.spawn();
    await survivor.waitForLine(/"event":"ready"/);

    const killed = await doomed.kill();
    expect(killed.signal).toBe("SIGKILL");
    // The survivor's ack is reported after its side effect: wait for the report.
    await pollUntil(() => ofKind(events(survivor), "job-completed").length === 1, { timeoutMs: 20_000, message: "message completed by the survivor" });
    expect(s.effects().get(1)).toBe(1);
    const received = ofKind(events(survivor), "received");
    expect(received).toEqual([expect.objectContaining({ id, redelivered: true, attempt: 1 })]);
    expect(ofKind(events(survivor), "job-completed").map((e) => e.id)).toEqual([id]);
    await pollUntil(async () => (await s.counts()).ready === 0, { message: "queue empty" });
    survivor.signal("SIGTERM");
    expect((await survivor.waitForExit(10_000)).code).toBe(0);
    expect(await s.counts()).toEqual({ ready: 0, dead: 0 });
  });

  it("the queue deleted under a running worker: the broker cancels the consumer, a clear source error, then exit 1 once the queue stays missing", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("deleted")));
    const worker = s.spawn({ extra: { QUIESCE_SOURCE_FAILURE_MS: "2000" } });
    await worker.waitForLine(/"event":"ready"/);
    await (await s.channel()).deleteQueue(s.name);
    const exit = await worker.waitForExit(20_000);
    expect(exit.code).toBe(1);
    const errors = ofKind(events(worker), "worker-error").map((e) => String(e.error));
    expect(errors[0]).toMatch(/RabbitMQ cancelled the consumer on queue "[^"]+": the queue was deleted or the consumer was removed by the broker/);
    // Then it cannot subscribe again: the queue is gone (no assert option, so it is not re-made).
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: .*checkQueue failed for queue .*NOT_FOUND/);
  });

  it("a poison message with maxAttempts 3 runs three times, then is dead-lettered; a body that is not JSON is dead-lettered at once; the worker keeps going", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("poison")));
    const worker = s.spawn({ maxAttempts: 3 });
    await worker.waitForLine(/"event":"ready"/);
    const [poison] = await s.publish([{ n: 1, fail: true }]);
    const corrupt = await s.publishRaw(Buffer.from("{not json"));
    const [good] = await s.publish([{ n: 2, ms: 10 }]);

    await pollUntil(
      async () => (await s.counts()).dead === 2 && ofKind(events(worker), "job-completed").length === 1 && ofKind(events(worker), "job-failed").length === 4,
      { timeoutMs: 20_000, message: "2 dead letters, 4 failures reported, the good message acked" },
    );
    const log = events(worker);
    // Three runs of the poison message, attempts 1, 2, 3 (each retry a confirmed republish).
    expect(ofKind(log, "job-started").filter((e) => e.id === poison).map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(ofKind(log, "job-failed").filter((e) => e.id === poison)).toHaveLength(3);
    // The corrupt body failed once, without the handler running.
    const corruptFailures = ofKind(log, "job-failed").filter((e) => e.id === corrupt);
    expect(corruptFailures).toHaveLength(1);
    expect(corruptFailures[0]!.error).toMatch(/cannot be decoded: its body is not valid JSON/);
    expect(ofKind(log, "received").filter((e) => e.id === corrupt)).toHaveLength(1);
    expect(ofKind(log, "job-started").filter((e) => e.id === corrupt)).toEqual([]);
    expect(ofKind(log, "job-completed").map((e) => e.id)).toEqual([good]);

    const dead = await s.deadLetters();
    expect(dead.map((d) => d.body).sort()).toEqual([JSON.stringify({ n: 1, fail: true }), "{not json"].sort());
    // The poison message reached the dead-letter queue on its third attempt's copy.
    expect(dead.find((d) => d.body.includes("fail"))?.headers["x-quiesce-attempt"]).toBe(3);

    // Still running: it takes the next message.
    await s.publish([{ n: 3, ms: 10 }]);
    await pollUntil(() => s.effects().get(3) === 1, { timeoutMs: 10_000, message: "a message after the bad ones" });
    expect(worker.exit).toBeUndefined();
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(10_000)).code).toBe(0);
    expect(await s.counts()).toEqual({ ready: 0, dead: 0 });
  });
});
