// @servers redis
// BullMQ's own recovery paths with real worker processes: a SIGKILLed worker's job, a job
// longer than the lock, and data the handler does not expect.
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

const started = (log: Array<Record<string, unknown>>): Array<Record<string, unknown>> => log.filter((e) => e.event === "job-started");

describe("bullmq: recovery", () => {
  it("a worker SIGKILLed mid-job: BullMQ's stalled check recovers the job and another worker completes it", async () => {
    const s = (scenario = new BullmqScenario(servers().redis.port, uniqueName("sigkill")));
    // A 1 s lock and a 0.5 s stalled check: the dead worker's lock lapses quickly.
    const fast = { lockMs: 1_000, stalledMs: 500 };
    const doomed = s.spawn(fast);
    await doomed.waitForLine(/"event":"ready"/);
    const job = await s.queue.add("job", { n: 1, ms: 3_000 });
    await doomed.waitForLine(/"event":"job-started"/);
    const survivor = s.spawn(fast);
    await survivor.waitForLine(/"event":"ready"/);

    const killed = await doomed.kill();
    expect(killed.signal).toBe("SIGKILL");
    await pollUntil(async () => (await s.counts()).completed === 1, { timeoutMs: 20_000, message: "job completed by the survivor" });

    expect(started(events(survivor)).map((e) => e.id)).toEqual([job.id]);
    const done = await s.queue.getJob(job.id as string);
    // Recovered through the stalled path (not failed), and a stall uses no attempt either.
    expect(done?.stalledCounter).toBe(1);
    expect(done?.attemptsMade).toBe(1);
    expect(done?.returnvalue).toEqual({ n: 1, by: survivor.pid });
    expect(s.effects().get(job.id as string)).toBe(1);
    survivor.signal("SIGTERM");
    expect((await survivor.waitForExit(10_000)).code).toBe(0);
  });

  it("a job 5x longer than the lock completes once: the lock is extended, the stalled check never fires", async () => {
    const s = (scenario = new BullmqScenario(servers().redis.port, uniqueName("long")));
    // Two workers with a 1 s lock and a stalled check every 0.3 s: a lapse of the lock would hand
    // the job to the other worker (or back to this one) and show up as a second side effect.
    const env = { concurrency: 2, lockMs: 1_000, stalledMs: 300 };
    const workers = [s.spawn(env), s.spawn(env)];
    await Promise.all(workers.map((w) => w.waitForLine(/"event":"ready"/)));
    const job = await s.queue.add("job", { n: 7, ms: 5_000 });
    await pollUntil(async () => (await s.counts()).completed === 1, { timeoutMs: 20_000, message: "long job completed" });

    const done = await s.queue.getJob(job.id as string);
    expect(done?.stalledCounter).toBe(0);
    expect(done?.attemptsStarted).toBe(1);
    expect(done?.attemptsMade).toBe(1);
    expect(s.effects().get(job.id as string)).toBe(1);
    const runner = workers.find((w) => started(events(w)).length > 0);
    const extensions = events(runner!).filter((e) => e.event === "lease-extended");
    // Renewed at about half the lock: some 10 times over 5 s.
    expect(extensions.length).toBeGreaterThanOrEqual(5);
    expect(workers.flatMap((w) => events(w)).filter((e) => e.event === "lease-lost")).toEqual([]);
    for (const w of workers) w.signal("SIGTERM");
    for (const w of workers) expect((await w.waitForExit(10_000)).code).toBe(0);
  });

  it("data the handler does not expect fails through BullMQ's failed path, and the worker keeps running", async () => {
    const s = (scenario = new BullmqScenario(servers().redis.port, uniqueName("malformed")));
    const good1 = await s.queue.add("job", { n: 1, ms: 10 });
    const wrongShape = await s.queue.add("job", { n: 2 }, { attempts: 2 });
    const notAnObject = await s.queue.add("job", "just a string", { attempts: 2 });
    // Data that is not even JSON (written by something other than BullMQ): no retries can help.
    const corrupt = await s.queue.add("job", { n: 3, ms: 10 }, { attempts: 3 });
    await s.admin.hset(`bull:${s.name}:${corrupt.id}`, "data", "{not json");
    const good2 = await s.queue.add("job", { n: 4, ms: 10 });

    const worker = s.spawn();
    await pollUntil(async () => {
      const counts = await s.counts();
      return counts.completed === 2 && counts.failed === 3;
    }, { timeoutMs: 15_000, message: "2 completed, 3 failed" });

    // Handler errors follow the job's attempts (2 here): retried once, then failed.
    for (const { id } of [wrongShape, notAnObject]) {
      const job = await s.queue.getJob(id as string);
      expect(await job?.getState()).toBe("failed");
      expect(job?.attemptsMade).toBe(2);
      expect(job?.failedReason).toMatch(/^expected \{ n, ms \}/);
    }
    // Undecodable data is failed at once, without running the handler, whatever its attempts.
    // (Read raw: BullMQ's own getters throw on it too.)
    const raw = await s.admin.hgetall(`bull:${s.name}:${corrupt.id}`);
    expect(await s.admin.zscore(`bull:${s.name}:failed`, corrupt.id as string)).not.toBeNull();
    expect(raw.atm).toBe("1");
    expect(raw.failedReason).toMatch(/not valid JSON/);
    expect(started(events(worker)).map((e) => e.id)).not.toContain(corrupt.id);
    expect([...s.effects().keys()].sort()).toEqual([good1.id, good2.id].sort());

    // Still running: it takes the next job.
    const after = await s.queue.add("job", { n: 5, ms: 10 });
    await pollUntil(() => s.effects().has(after.id as string), { timeoutMs: 10_000, message: "a job after the bad ones" });
    expect(worker.exit).toBeUndefined();
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(10_000)).code).toBe(0);
  });
});
