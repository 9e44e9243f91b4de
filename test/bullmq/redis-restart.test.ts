// @servers none
// Redis restarted under a running worker process: ioredis reconnects, BullMQ's scripts are
// reloaded, and no job is lost or run twice; Redis gone for good: the worker gives up with exit 1.
// Private servers: a restart or a stop disturbs every client.
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { freePort } from "../harness/ports.js";
import { startRedis, type RedisServer } from "../harness/redis.js";
import { uniqueName } from "../harness/unique.js";
import { BullmqScenario, events } from "./fixture.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("bullmq: Redis restart", () => {
  it("a worker mid-run reconnects after Redis restarts and loses nothing", async () => {
    // Persistence on (the shared servers run without it), as in production: a restart that
    // forgets the queue loses jobs whatever the worker does.
    const redis: RedisServer = await startRedis({ extraArgs: ["--appendonly", "yes", "--appendfsync", "always"] });
    cleanups.push(() => redis.stop());
    const s = new BullmqScenario(redis.port, uniqueName("restart"));
    cleanups.push(() => s.close());
    const total = 100;
    await s.queue.addBulk(Array.from({ length: total }, (_, n) => ({ name: "job", data: { n, ms: 100 } })));
    // A short lock and stalled check: a job moved to active whose reply was lost in the restart
    // comes back in seconds instead of 30.
    const worker = s.spawn({ concurrency: 5, lockMs: 2_000, stalledMs: 500 });
    await worker.waitForLine(/"event":"ready"/);

    await pollUntil(() => s.effects().size >= 20, { timeoutMs: 15_000, message: "20 jobs done" });
    const pidBefore = redis.pid;
    await redis.restart();
    expect(redis.pid).not.toBe(pidBefore);
    const doneAtRestart = s.effects().size;
    expect(doneAtRestart).toBeLessThan(total);

    await pollUntil(async () => (await s.counts()).completed === total, { timeoutMs: 30_000, message: `${total} jobs completed after the restart` });
    expect(await s.counts()).toEqual({ wait: 0, prioritized: 0, active: 0, delayed: 0, completed: total, failed: 0 });
    const effects = s.effects();
    expect(effects.size).toBe(total);
    expect([...effects.values()].every((count) => count === 1)).toBe(true);
    expect(worker.exit).toBeUndefined();

    worker.signal("SIGTERM");
    const exit = await worker.waitForExit(10_000);
    // 0, unless an ack's reply was lost in the restart: ioredis resends the command, BullMQ
    // answers "not active" (it was completed the first time), and the worker reports the job as
    // handed back (143). The job itself was completed once either way (checked above).
    const lost = events(worker).filter((e) => e.event === "lease-lost");
    expect(exit.code).toBe(lost.length === 0 ? 0 : 143);
  });
});

describe("bullmq: Redis unreachable", () => {
  // Exit 1 with a one-line reason when the broker stays unreachable after retries.
  const giveUpAfter = { QUIESCE_SOURCE_FAILURE_MS: "1500" };

  it("Redis never reachable: start-up retries, then exit 1 naming Redis", async () => {
    const s = new BullmqScenario(await freePort(), uniqueName("unreachable"));
    cleanups.push(async () => {
      s.admin.disconnect();
      await s.queue.close().catch(() => undefined);
    });
    const worker = s.spawn({ extra: giveUpAfter });
    const exit = await worker.waitForExit(15_000);
    expect(exit.code).toBe(1);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: .*Redis at 127\.0\.0\.1:\d+/);
  });

  it("Redis gone while the worker runs: receives fail, the runtime gives up with exit 1", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const s = new BullmqScenario(redis.port, uniqueName("gone"));
    cleanups.push(async () => {
      s.admin.disconnect();
      await s.queue.close().catch(() => undefined);
    });
    const worker = s.spawn({ extra: giveUpAfter });
    await worker.waitForLine(/"event":"ready"/);
    await redis.stop();
    const exit = await worker.waitForExit(20_000);
    expect(exit.code).toBe(1);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: .*not connected/);
  });
});
