// @servers none
// The broker's consumer_timeout as the lease: a private node with a 4 s timeout (checked every
// 200 ms instead of every minute). A job longer than that is aborted and its message requeued
// before the broker would close the channel under every other job on it.
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { rabbitmqctl, startRabbitmq, type RabbitmqServer } from "../harness/rabbitmq.js";
import { uniqueName } from "../harness/unique.js";
import { AmqpScenario, events, ofKind } from "./fixture.js";

const timeoutMs = 4_000;
let node: RabbitmqServer;
let s: AmqpScenario | undefined;
beforeAll(async () => {
  node = await startRabbitmq({ config: { consumer_timeout: timeoutMs } });
  // RabbitMQ checks consumer timeouts on each channel tick, once a minute by default; channels
  // read this when they open, so it is set before any of ours does.
  await rabbitmqctl(node.info(), "eval", "application:set_env(rabbit, channel_tick_interval, 200).");
});
afterAll(async () => {
  await s?.close();
  await node?.stop();
});

describe("amqp: consumer_timeout", () => {
  it("the node really enforces it: a consumer that holds a message past it loses its channel (PRECONDITION_FAILED)", async () => {
    const queue = uniqueName("raw-timeout");
    const conn = await connect(node.url);
    try {
      const channel = await conn.createChannel();
      await channel.assertQueue(queue, { durable: false });
      channel.sendToQueue(queue, Buffer.from("held"));
      const closed = new Promise<{ error: Error | undefined; at: number }>((resolve) => {
        let error: Error | undefined;
        channel.on("error", (e: Error) => (error = e));
        channel.on("close", () => resolve({ error, at: performance.now() }));
      });
      let receivedAt = 0;
      await channel.consume(queue, () => (receivedAt = performance.now()), { noAck: false });
      const { error, at } = await closed;
      expect(error?.message).toMatch(/PRECONDITION_FAILED.*(consumer ack timed out|delivery acknowledgement)/i);
      expect(at - receivedAt).toBeGreaterThanOrEqual(timeoutMs - 100);
      // Within a few ticks of it, not at the default minute: the tick setting applied too.
      expect(at - receivedAt).toBeLessThan(timeoutMs + 5_000);
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it("a job longer than consumer_timeout is aborted and requeued before the broker closes the channel; its neighbour completes; nothing is acked twice", async () => {
    s = await AmqpScenario.create(node.url, uniqueName("timeout"));
    // Long (20 s) on its first delivery, quick once redelivered; the neighbour takes 2 s.
    const [long, short] = await s.publish([{ n: 1, firstMs: 20_000, ms: 10 }, { n: 2, ms: 2_000 }]);
    const worker = s.spawn({ concurrency: 2, prefetch: 2, consumerTimeoutMs: timeoutMs, checkMs: 250 });
    await pollUntil(() => s!.effects().get(1) === 1 && s!.effects().get(2) === 1, { timeoutMs: 20_000, message: "both messages done" });
    // An ack is reported after the side effect: wait for both reports.
    await pollUntil(() => ofKind(events(worker), "job-completed").length >= 2, { timeoutMs: 10_000, message: "both acks reported" });

    const log = events(worker);
    const [first, again] = ofKind(log, "received").filter((e) => e.id === long);
    expect(again).toMatchObject({ redelivered: true, attempt: 1 });
    const aborted = ofKind(log, "job-aborted").filter((e) => e.id === long);
    expect(aborted).toHaveLength(1);
    expect(aborted[0]!.reason).toMatch(/consumer_timeout/);
    // Aborted before the broker's timeout, not after it.
    expect(aborted[0]!.at - first!.at).toBeLessThan(timeoutMs);
    // The channel was never closed under the worker: no failed receive, nothing else lost.
    expect(ofKind(log, "worker-error")).toEqual([]);
    expect(ofKind(log, "lease-lost").map((e) => e.id)).toEqual([long]);
    const completed = ofKind(log, "job-completed").map((e) => e.id);
    expect(completed.sort()).toEqual([long, short].sort());
    await pollUntil(async () => (await s!.counts()).ready === 0, { message: "queue empty" });
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(10_000)).code).toBe(143);
  });
});
