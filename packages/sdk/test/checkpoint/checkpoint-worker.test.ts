import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createWorker, type Worker } from "../../src/worker.js";
import { createMemorySource, type MemorySource } from "../../src/source/memory-source.js";
import type { WorkerOptions } from "../../src/config/options.js";
import type { JobContext } from "../../src/handler.js";
import { describeCheckpointConformance } from "../../src/testing/index.js";
import { pollUntil } from "../../src/testing/poll-until.js";

describeCheckpointConformance("memory", async () => {
  const source = createMemorySource({ pollMs: 5_000 });
  return {
    source,
    publish: async (payload, options) => void source.add(payload, options),
    cleanup: async () => undefined,
    capabilities: { retries: { maxAttempts: 3 } },
  };
});

/** In-process workers: no HTTP, no signals, never exits the test process. */
function embedded<P>(options: WorkerOptions<P>): Worker<P> {
  return createWorker<P>({ http: false, handleSignals: false, exit: false, ...options });
}

/** A job of `steps` steps of `stepMs` each, checkpointing after every step; logs each step it starts. */
function stepper(steps: number, stepMs: number, started: number[], checkpointed: number[]) {
  return async (_payload: unknown, ctx: JobContext): Promise<string> => {
    const from = (ctx.lastCheckpoint as { step: number } | undefined)?.step ?? 0;
    for (let step = from + 1; step <= steps; step++) {
      started.push(step);
      try {
        await sleep(stepMs, undefined, { signal: ctx.signal });
      } catch {
        return "interrupted";
      }
      if (ctx.signal.aborted) return "interrupted";
      await ctx.checkpoint({ step });
      checkpointed.push(step);
      if (ctx.signal.aborted) return "interrupted";
    }
    return "done";
  };
}

async function runUntilDone(source: MemorySource, options: Omit<WorkerOptions<unknown>, "handler">, handler: WorkerOptions<unknown>["handler"]) {
  const worker = embedded({ source, handler, ...options });
  await worker.start();
  // The worker's count, not the source's: the ack lands in the source before the worker counts it.
  await pollUntil(() => worker.status().completed === 1, { timeoutMs: 20_000 });
  const status = worker.status();
  const report = await worker.drain("done");
  return { worker, status, report };
}

describe("checkpoint and resume in process (memory source)", () => {
  it("a 10-step job drained at a short deadline resumes on the next receive at the step after its last checkpoint", async () => {
    const source = createMemorySource();
    source.add({ job: "ten" });
    const started: number[] = [];
    const checkpointed: number[] = [];
    const handler = stepper(10, 100, started, checkpointed);
    // "deadline": the job runs on until the deadline (1.5 s grace - 1 s margin) releases it mid-step.
    const first = embedded({ source, handler, graceSeconds: 1.5, safetyMarginMs: 1_000, checkpoints: { drain: "deadline" } });
    await first.start();
    await pollUntil(() => checkpointed.length >= 2, { timeoutMs: 10_000 });
    const report = await first.drain("scale-down");
    expect(report).toMatchObject({ path: "forced", released: 1, interrupted: 1, completed: 0 });
    const last = checkpointed.at(-1)!;
    expect(last).toBeLessThan(10);
    const before = started.length;

    const resumed: number[] = [];
    const { status } = await runUntilDone(source, {}, stepper(10, 100, resumed, checkpointed));
    expect(resumed[0]).toBe(last + 1);
    expect(resumed.at(-1)).toBe(10);
    // At most the one step in progress at the deadline ran twice.
    expect(before + resumed.length).toBeLessThanOrEqual(11);
    expect(source.completed()[0]?.result).toBe("done");
    expect(status).toMatchObject({ resumed: 1, completed: 1 });
    expect(status.resumeSavedSeconds).toBeGreaterThan(0.1);
  });

  it('with drain "release" a checkpointing job is handed back at its next checkpoint, long before the deadline, losing nothing', async () => {
    const source = createMemorySource();
    source.add({ job: "ten" });
    const started: number[] = [];
    const checkpointed: number[] = [];
    const first = embedded({ source, handler: stepper(10, 100, started, checkpointed), graceSeconds: 60 });
    await first.start();
    await pollUntil(() => checkpointed.length >= 2, { timeoutMs: 10_000 });
    const t0 = performance.now();
    const report = await first.drain("scale-down");
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(report).toMatchObject({ released: 1, completed: 0 });
    const resumed: number[] = [];
    await runUntilDone(source, {}, stepper(10, 100, resumed, checkpointed));
    expect([...started, ...resumed]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("a max-jobs drain lets a checkpointing job finish instead of releasing it at its next checkpoint", async () => {
    const source = createMemorySource();
    source.add({ job: "one-message Job" });
    const started: number[] = [];
    const checkpointed: number[] = [];
    const worker = embedded({ source, maxJobs: 1, handler: stepper(5, 20, started, checkpointed) });
    await worker.start();
    await pollUntil(() => source.snapshot().completed === 1, { timeoutMs: 10_000 });
    expect((await worker.drain()).released).toBe(0);
    expect(started).toEqual([1, 2, 3, 4, 5]);
  });

  for (const drain of ["deadline", "release"] as const) {
    it(`600 x 1 s steps (compressed to 5 ms) through three forced scale-downs (drain "${drain}") total ${drain === "release" ? "exactly 600" : "at most 603"} steps`, { timeout: 60_000 }, async () => {
      const source = createMemorySource();
      source.add({ job: "ten-minutes" });
      const started: number[] = [];
      const checkpointed: number[] = [];
      const handler = stepper(600, 5, started, checkpointed);
      for (let scaleDown = 1; scaleDown <= 3; scaleDown++) {
        const worker = embedded({ source, handler, graceSeconds: 1.1, safetyMarginMs: 1_000, checkpoints: { drain } });
        await worker.start();
        const at = checkpointed.length + 40;
        await pollUntil(() => checkpointed.length >= at, { timeoutMs: 20_000 });
        const report = await worker.drain(`scale-down ${scaleDown}`);
        expect(report.released).toBe(1);
      }
      const { status } = await runUntilDone(source, {}, handler);
      expect(source.completed()[0]?.result).toBe("done");
      expect(status.resumed).toBe(1);
      expect(new Set(started).size).toBe(600);
      if (drain === "release") expect(started.length).toBe(600);
      else expect(started.length).toBeLessThanOrEqual(603);
    });
  }
});
