// @servers none
// Broker-side faults under a running worker process, on a private node (they would disturb
// every other file on the shared one): all connections closed, a restart, a memory alarm, the
// broker gone for good, and a broker that was never there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { freePort } from "../harness/ports.js";
import { rabbitmqctl, startRabbitmq, type RabbitmqServer } from "../harness/rabbitmq.js";
import { uniqueName } from "../harness/unique.js";
import { AmqpScenario, events, ofKind } from "./fixture.js";

let node: RabbitmqServer;
const scenarios: AmqpScenario[] = [];
beforeAll(async () => {
  node = await startRabbitmq();
});
afterAll(async () => {
  for (const s of scenarios.splice(0)) await s.close();
  await node?.stop();
});

async function scenario(prefix: string): Promise<AmqpScenario> {
  const s = await AmqpScenario.create(node.url, uniqueName(prefix));
  scenarios.push(s);
  return s;
}

async function status(port: number): Promise<{ state: string; source?: { connected: boolean; blocked: string | null } }> {
  const response = await fetch(`http://127.0.0.1:${port}/status`);
  return (await response.json()) as { state: string; source?: { connected: boolean; blocked: string | null } };
}

describe("amqp: broker faults", () => {
  it("close_all_connections, then a broker restart, mid-run: in-flight handlers are aborted, nothing is acked twice, the worker reconnects and finishes the queue", { timeout: 150_000 }, async () => {
    const s = await scenario("faults");
    const total = 150;
    const ids = await s.publish(Array.from({ length: total }, (_, n) => ({ n, ms: 300 })));
    // 300 ms jobs, a channel check every 100 ms: a dead channel aborts its running jobs.
    const worker = s.spawn({ concurrency: 5, prefetch: 5, checkMs: 100 });
    await worker.waitForLine(/"event":"ready"/);

    await pollUntil(() => s.effects().size >= 30, { timeoutMs: 40_000, message: "30 messages done" });
    await node.closeConnections("fault injection");
    const afterClose = s.effects().size;
    await pollUntil(() => s.effects().size >= afterClose + 30, { timeoutMs: 40_000, message: "30 more done after close_all_connections" });
    await node.restart();
    await pollUntil(() => s.effects().size === total, { timeoutMs: 60_000, message: `all ${total} messages done after the restart` });
    // An ack is reported after the side effect: wait for every report.
    await pollUntil(() => new Set(ofKind(events(worker), "job-completed").map((e) => e.id)).size === total, { timeoutMs: 10_000, message: `${total} acks reported` });
    await pollUntil(async () => (await s.counts()).ready === 0, { timeoutMs: 10_000, message: "queue empty" });

    const log = events(worker);
    // Both faults were seen (each fails a receive), and handlers running then were stopped.
    expect(ofKind(log, "worker-error").filter((e) => e.during === "receive").length).toBeGreaterThanOrEqual(2);
    expect(ofKind(log, "job-aborted").length).toBeGreaterThanOrEqual(1);
    expect(ofKind(log, "lease-lost").length).toBeGreaterThanOrEqual(ofKind(log, "job-aborted").length);
    // Every message acked exactly once (an ack is reported only when it went out on the channel
    // the message came on), and none left on the broker.
    const completed = ofKind(log, "job-completed").map((e) => e.id as string);
    expect(new Set(completed).size).toBe(completed.length);
    expect(new Set(completed)).toEqual(new Set(ids));
    expect(await s.counts()).toEqual({ ready: 0, dead: 0 });
    expect(worker.exit).toBeUndefined();

    worker.signal("SIGTERM");
    const exit = await worker.waitForExit(10_000);
    // 143: the aborted jobs count as work this worker handed back.
    expect(exit.code).toBe(143);
  });

  it("a memory alarm blocks the connection: receiving pauses and /status shows it, until the alarm clears", async () => {
    const s = await scenario("blocked");
    // A fails after 1 s and is retried: a publish, which a connection under an alarm cannot make
    // (RabbitMQ blocks a connection, and says so, once it publishes), so its slot stays taken. B
    // keeps the other slot busy for 3 s; C waits in the prefetch buffer.
    const [a, , c] = await s.publish([{ n: 1, ms: 1_000, fail: true }, { n: 2, ms: 3_000 }, { n: 3, ms: 10 }]);
    // The alarm first, the worker after: rabbitmqctl is slow on a loaded machine, and the order
    // must not depend on it. Deliveries to consumers go on under an alarm.
    await rabbitmqctl(node.info(), "set_vm_memory_high_watermark", "0.0000001");
    const worker = s.spawn({ concurrency: 2, prefetch: 10, maxAttempts: 2 });
    let port = 0;
    try {
      port = (JSON.parse((await worker.waitForLine(/"event":"ready"/)).input) as { port: number }).port;
      const blocked = await pollUntil(async () => (await status(port)).source?.blocked, { timeoutMs: 20_000, message: "/status shows the block" });
      expect(blocked).toMatch(/memory/i);
      // While blocked nothing new starts: once B is done its slot is free, yet C stays in the
      // buffer for a quiet second.
      await pollUntil(() => ofKind(events(worker), "job-finished").some((e) => e.n === 2), { timeoutMs: 10_000, message: "B done" });
      const quietUntil = performance.now() + 1_000;
      await pollUntil(
        async () => {
          expect((await status(port)).source?.blocked).toBe(blocked);
          expect(ofKind(events(worker), "job-started").map((e) => e.id)).not.toContain(c);
          return performance.now() >= quietUntil;
        },
        { timeoutMs: 10_000, intervalMs: 100, message: "a quiet second while blocked" },
      );
    } finally {
      await rabbitmqctl(node.info(), "set_vm_memory_high_watermark", "0.8");
    }
    await pollUntil(async () => (await status(port)).source?.blocked === null, { timeoutMs: 20_000, message: "/status shows the block cleared" });
    await pollUntil(async () => s.effects().get(3) === 1 && (await s.counts()).dead === 1, { timeoutMs: 20_000, message: "C done, A dead-lettered after its retry" });
    expect(ofKind(events(worker), "job-started").filter((e) => e.id === a).map((e) => e.attempt)).toEqual([1, 2]);
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(10_000)).code).toBe(0);
  });

  it("the broker gone for good: receives fail, the runtime gives up after QUIESCE_SOURCE_FAILURE_MS with exit 1", async () => {
    const s = await scenario("gone");
    const worker = s.spawn({ extra: { QUIESCE_SOURCE_FAILURE_MS: "2000" } });
    await worker.waitForLine(/"event":"ready"/);
    await node.stop();
    const exit = await worker.waitForExit(20_000);
    expect(exit.code).toBe(1);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: .*receive kept failing .*RabbitMQ connect failed for queue/);
    // Backed off, not a hot loop: a handful of attempts in 2 s.
    expect(ofKind(events(worker), "worker-error").length).toBeLessThan(20);
  });

  it("a broker that was never there: start-up retries, then exit 1 naming the broker's address", async () => {
    const port = await freePort();
    const s = AmqpScenario.unconnected(`amqp://guest:guest@127.0.0.1:${port}`, uniqueName("never"));
    const worker = s.spawn({ extra: { QUIESCE_SOURCE_FAILURE_MS: "1500" } });
    const exit = await worker.waitForExit(15_000);
    expect(exit.code).toBe(1);
    expect(exit.lastStderrLine).toMatch(new RegExp(`^quiesce: fatal: .*RabbitMQ connect failed for queue "[^"]+" at 127\\.0\\.0\\.1:${port}`));
  });
});
