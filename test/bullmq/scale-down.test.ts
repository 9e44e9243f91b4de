// @servers redis
// Scale-down on BullMQ with real worker processes: guarantees 1-4 and the exit codes.
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { BullmqScenario, events } from "./fixture.js";

let scenario: BullmqScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe("bullmq: scale-down with real worker processes", () => {
  it("SIGTERM to 2 of 4 workers mid-run: every job completes exactly once, none left active, no attempt used", async () => {
    const s = (scenario = new BullmqScenario(servers().redis.port, uniqueName("scale")));
    const total = 200;
    await s.queue.addBulk(Array.from({ length: total }, (_, n) => ({ name: "job", data: { n, ms: 200 }, opts: { attempts: 3 } })));
    const workers = Array.from({ length: 4 }, () => s.spawn({ concurrency: 5 }));
    await Promise.all(workers.map((w) => w.waitForLine(/"event":"ready"/)));

    // Mid-run: a fifth of the jobs done, every worker busy.
    await pollUntil(() => s.effects().size >= total / 5, { timeoutMs: 20_000, message: "40 jobs done" });
    const [a, b, c, d] = workers as [(typeof workers)[0], (typeof workers)[0], (typeof workers)[0], (typeof workers)[0]];
    a.signal("SIGTERM");
    b.signal("SIGTERM");
    // Their jobs (200 ms) finish well inside the grace period: everything they started is done,
    // so they exit 0 (143 would mean they handed started work back).
    expect((await a.waitForExit(15_000)).code).toBe(0);
    expect((await b.waitForExit(15_000)).code).toBe(0);

    await pollUntil(async () => (await s.counts()).completed === total, { timeoutMs: 30_000, message: `${total} jobs completed` });
    c.signal("SIGTERM");
    d.signal("SIGTERM");
    expect((await c.waitForExit(15_000)).code).toBe(0);
    expect((await d.waitForExit(15_000)).code).toBe(0);

    // Exactly once: each job's side effect happened one time, in one handler.
    const effects = s.effects();
    expect(effects.size).toBe(total);
    expect([...effects.values()].every((count) => count === 1)).toBe(true);
    expect(await s.counts()).toEqual({ wait: 0, prioritized: 0, active: 0, delayed: 0, completed: total, failed: 0 });
    // A drain costs no retry: it consumed no attempt, and nothing waited for BullMQ's stalled check.
    const jobs = await s.completedJobs();
    expect(jobs).toHaveLength(total);
    for (const job of jobs) {
      expect(job.attemptsMade, `job ${job.id} attemptsMade`).toBe(1);
      expect(job.stalledCounter, `job ${job.id} stalledCounter`).toBe(0);
      expect(job.returnvalue).toEqual({ n: job.data.n, by: expect.any(Number) });
    }
    // The drained workers handed back only jobs they had not started (held by an ack's fetch).
    for (const w of [a, b]) {
      const log = events(w);
      expect(log.some((e) => e.event === "drained")).toBe(true);
      expect(log.filter((e) => e.event === "job-released" && e.started === true)).toEqual([]);
    }
  });

  it("a drain deadline releases running jobs without using an attempt (exit 143), and another worker completes them", async () => {
    const s = (scenario = new BullmqScenario(servers().redis.port, uniqueName("deadline")));
    await s.queue.addBulk([0, 1].map((n) => ({ name: "job", data: { n, ms: 4_000 }, opts: { attempts: 1 } })));
    // Grace 2 s minus a 1.5 s margin: the deadline comes 0.5 s after SIGTERM, long before the jobs end.
    const first = s.spawn({ concurrency: 2, extra: { QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "1500" } });
    await pollUntil(() => events(first).filter((e) => e.event === "job-started").length === 2, { timeoutMs: 10_000, message: "both jobs started" });
    first.signal("SIGTERM");
    const exit = await first.waitForExit(10_000);
    expect(exit.code).toBe(143);
    expect(events(first).filter((e) => e.event === "job-released" && e.reason === "deadline")).toHaveLength(2);
    // Released at once, with attempts: 1: a consumed attempt would have failed them for good.
    expect(await s.counts()).toMatchObject({ wait: 2, active: 0, failed: 0 });

    const second = s.spawn({ concurrency: 2 });
    await pollUntil(async () => (await s.counts()).completed === 2, { timeoutMs: 15_000, message: "both jobs completed" });
    expect(events(second).filter((e) => e.event === "job-started").map((e) => e.attempt)).toEqual([1, 1]);
    for (const job of await s.completedJobs()) {
      expect(job.attemptsMade).toBe(1);
      expect(job.stalledCounter).toBe(0);
    }
    expect([...s.effects().values()]).toEqual([1, 1]);
    second.signal("SIGTERM");
    expect((await second.waitForExit(10_000)).code).toBe(0);
  });
});
