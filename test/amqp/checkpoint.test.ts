// @servers rabbitmq redis
// Checkpoint and resume with real worker processes on the real broker: a long job interrupted by a
// SIGTERM with a deadline shorter than the job is re-published carrying its checkpoint, and a
// second worker resumes after it at the same attempt; with a Redis store a SIGKILL mid-job resumes
// after the last checkpoint too, and the completed job leaves nothing in the store.
import { createAmqpSource } from "@quiesce/adapters/amqp";
import type { Delivery } from "@quiesce/sdk";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { lastCheckpointed, stepsRun } from "../harness/checkpoint-steps.js";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import type { WorkerProcess } from "../harness/worker-process.js";
import { AmqpScenario, events, ofKind } from "./fixture.js";

let scenario: AmqpScenario | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
  await redis?.quit();
  redis = undefined;
});

const of = (worker: WorkerProcess, kind: string) => ofKind(events(worker), kind);

/** Wait for the job to finish and the queue to empty, then stop the worker: exit 0, or 143 when it lost a lease on the way. */
async function finishOn(s: AmqpScenario, worker: WorkerProcess, code: 0 | 143 = 0): Promise<void> {
  await worker.waitForLine(/"event":"job-finished"/, { timeoutMs: 30_000 });
  await pollUntil(async () => {
    const counts = await s.counts();
    return counts.ready === 0 && counts.dead === 0;
  }, { message: "queue empty after the job completed" });
  worker.signal("SIGTERM");
  expect((await worker.waitForExit(10_000)).code).toBe(code);
}

describe("amqp: checkpoint and resume across processes", () => {
  for (const drain of ["release", "deadline"] as const) {
    it(`SIGTERM with a deadline shorter than the job (drain "${drain}"): exit 143, the copy carries the checkpoint, the next worker resumes after it at the same attempt`, async () => {
      const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("ckpt-term")));
      // Grace 2 s minus a 1 s margin: released 1 s after SIGTERM; the job needs 3.6 s.
      const first = s.spawn({ maxAttempts: 3, extra: { QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "1000", FIXTURE_CHECKPOINT_DRAIN: drain } });
      await first.waitForLine(/"event":"ready"/);
      const [id] = await s.publish([{ steps: 12, stepMs: 300 }]);
      await first.waitForLine(/"event":"checkpointed".*"step":3/);
      first.signal("SIGTERM");
      expect((await first.waitForExit(10_000)).code).toBe(143);
      const last = lastCheckpointed(first);
      expect(last).toBeGreaterThanOrEqual(3);
      expect(last).toBeLessThan(12);
      expect(of(first, "job-released")).toMatchObject([{ id, reason: drain === "release" ? "checkpoint" : "deadline", started: true }]);

      // One message on the queue: the copy, same id, the checkpoint in its header, no attempt used.
      const channel = await s.channel();
      const copy = await channel.get(s.name, { noAck: false });
      expect(copy).not.toBe(false);
      if (copy === false) return;
      expect(copy.properties.messageId).toBe(id);
      expect(copy.properties.contentType).toBe("application/json");
      expect(copy.properties.headers?.["x-quiesce-attempt"]).toBeUndefined();
      expect(JSON.parse(String(copy.properties.headers?.["x-quiesce-checkpoint"]))).toMatchObject({ value: { step: last }, seq: last });
      expect(JSON.parse(copy.content.toString())).toEqual({ steps: 12, stepMs: 300 });
      channel.nack(copy, false, true);
      expect((await s.counts()).ready).toBe(1);

      const second = s.spawn({ maxAttempts: 3 });
      await finishOn(s, second);
      expect(of(second, "job-started")).toMatchObject([{ id, from: last, attempt: 1 }]);
      const steps = stepsRun(first, second);
      // Every step ran, and at most the one in progress at the interruption ran twice.
      expect(new Set(steps).size).toBe(12);
      expect(steps.length).toBeLessThanOrEqual(13);
      if (drain === "release") expect(steps.length).toBe(12);
    });
  }

  it("SIGKILL mid-job with a Redis checkpoint store: the broker requeues the original, another worker resumes after the last checkpoint, the store is emptied", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("ckpt-kill")));
    const prefix = `${uniqueName("ckpt")}:`;
    redis = new Redis(servers().redis.url);
    const store = { FIXTURE_CHECKPOINT_STORE: servers().redis.url, FIXTURE_CHECKPOINT_KEYSPACE: prefix };
    const doomed = s.spawn({ extra: store });
    await doomed.waitForLine(/"event":"ready"/);
    // Slow steps: the job must outlast the survivor's start-up on a loaded machine.
    const [id] = await s.publish([{ steps: 12, stepMs: 800 }]);
    await doomed.waitForLine(/"event":"checkpointed".*"step":2/);
    const survivor = s.spawn({ extra: store });
    await survivor.waitForLine(/"event":"ready"/);
    expect((await doomed.kill()).signal).toBe("SIGKILL");
    const last = lastCheckpointed(doomed);
    expect(last).toBeGreaterThanOrEqual(2);
    expect(last).toBeLessThan(12);

    await survivor.waitForLine(/"event":"job-started"/, { timeoutMs: 15_000 });
    expect(await redis.exists(`${prefix}${s.name}:${id}`)).toBe(1);
    await finishOn(s, survivor);
    expect(of(survivor, "job-started")).toMatchObject([{ id, from: last, attempt: 1 }]);
    const steps = stepsRun(doomed, survivor);
    expect(new Set(steps).size).toBe(12);
    expect(steps.length).toBeLessThanOrEqual(13);
    expect(await redis.exists(`${prefix}${s.name}:${id}`)).toBe(0);
  });

  it("a job held nearly as long as consumer_timeout is given up with its checkpoint: the copy resumes after it, on the same worker", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("ckpt-timeout")));
    // The source gives a message up 10% before consumerTimeoutMs (the broker's own is 30 min
    // here, so no channel closes): ~2.7 s of a 4.8 s job, then the rest.
    const worker = s.spawn({ consumerTimeoutMs: 3_000, checkMs: 200 });
    await worker.waitForLine(/"event":"ready"/);
    const [id] = await s.publish([{ steps: 12, stepMs: 400 }]);
    // A lost lease is work this worker started and handed back: 143.
    await finishOn(s, worker, 143);
    const starts = of(worker, "job-started");
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts[0]).toMatchObject({ id, from: 0, attempt: 1 });
    // Each later run starts where the run before it last checkpointed, at the same attempt.
    for (const start of starts.slice(1)) {
      expect(start).toMatchObject({ id, attempt: 1 });
      expect(Number(start.from)).toBeGreaterThan(0);
    }
    expect(of(worker, "lease-lost").length).toBe(starts.length - 1);
    const steps = stepsRun(worker);
    expect(new Set(steps).size).toBe(12);
    // At most the step in progress at each hand-back runs twice.
    expect(steps.length).toBeLessThanOrEqual(12 + starts.length - 1);
  });

  it("a copy whose headers would not fit in one frame is never sent: the release requeues the original, and the connection stays up", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("ckpt-frame")));
    // frame_max 8 KiB: the bound is 4 KiB, and the producer's own 5 KB header leaves less than that.
    const source = createAmqpSource({ queue: s.name, url: `${servers().rabbitmq.url}?frameMax=8192`, prefetch: 1 });
    await source.start({ concurrency: 1 });
    const one = async (): Promise<Delivery> => {
      const [delivery] = await source.receive(1, AbortSignal.timeout(5_000));
      if (!delivery) throw new Error("no delivery within 5 s");
      return delivery;
    };
    try {
      const channel = await s.channel();
      channel.sendToQueue(s.name, Buffer.from("{}"), { messageId: "m-frame", headers: { big: "b".repeat(5_000) } });
      await channel.waitForConfirms();
      const first = await one();
      expect(first.checkpointMaxBytes).toBe(4_096);
      await first.checkpoint!("c".repeat(4_000));
      await first.release();
      const second = await one();
      expect(second.lastCheckpoint).toBeUndefined();
      expect(source.status?.().connected).toBe(true);
      // A checkpoint that fits still travels, on the same connection.
      await second.checkpoint!('{"step":1}');
      await second.release();
      const third = await one();
      expect([third.id, third.lastCheckpoint]).toEqual(["m-frame", '{"step":1}']);
      expect(source.status?.().connected).toBe(true);
      await third.ack();
    } finally {
      await source.stop();
    }
  });
});
