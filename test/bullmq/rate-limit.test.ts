// @servers redis
// A queue-wide rate limit: BullMQ answers "no job" without I/O until the limit lifts. The source
// must wait it out, not spin receive → [] and starve the event loop (timers, sockets, HTTP).
import { createBullmqSource } from "@quiesce/adapters/bullmq";
import { createWorker } from "@quiesce/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { BullmqScenario } from "./fixture.js";

let scenario: BullmqScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe("bullmq: rate limit", () => {
  it("honours a global rate limit and keeps the event loop turning", async () => {
    const { port } = servers().redis;
    const s = (scenario = new BullmqScenario(port, uniqueName("ratelimit")));
    const jobs = 4;
    const windowMs = 400;
    await s.queue.setGlobalRateLimit(1, windowMs);
    await s.queue.addBulk(Array.from({ length: jobs }, (_, n) => ({ name: "job", data: { n } })));

    const completedAt: number[] = [];
    const worker = createWorker({
      source: createBullmqSource({ queue: s.name, connection: { host: "127.0.0.1", port } }),
      handler: async () => undefined,
      concurrency: 2,
      http: false,
      handleSignals: false,
      kubernetes: false,
    });
    worker.on("job:completed", () => completedAt.push(performance.now()));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const start = performance.now();
    try {
      await worker.start();
      await pollUntil(() => completedAt.length === jobs, { timeoutMs: 10_000, message: `${jobs} jobs completed` });
      const elapsed = performance.now() - start;
      // One job per window: the last one cannot start before (jobs - 1) windows have passed.
      expect((completedAt.at(-1) ?? 0) - start).toBeGreaterThanOrEqual((jobs - 1) * windowMs - 50);
      // A starved loop runs no timers: a healthy one ticks about every 10 ms.
      expect(ticks).toBeGreaterThan(elapsed / 10 / 3);
    } finally {
      clearInterval(ticker);
      await worker.drain("test");
    }
    expect(await s.counts()).toMatchObject({ completed: jobs, active: 0, wait: 0 });
  });
});
