import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/worker.js";
import { createMemorySource } from "../../src/source/memory-source.js";
import type { Source } from "../../src/source/source.js";
import type { CheckpointStore } from "../../src/source/checkpoint.js";
import type { JobContext } from "../../src/handler.js";
import { CheckpointError } from "../../src/errors.js";
import { pollUntil } from "../../src/testing/poll-until.js";
import { withoutCheckpoints } from "../../src/testing/without-checkpoints.js";

/** Run one job on a memory source and hand back what its handler returned. */
async function runOne(handler: (payload: unknown, ctx: JobContext) => unknown, source: Source & { add(p: unknown): string; completed(): { result: unknown }[] } = createMemorySource(), store?: CheckpointStore) {
  source.add({ n: 1 });
  const worker = createWorker({ source, handler, http: false, handleSignals: false, exit: false, ...(store ? { checkpoints: { store } } : {}) });
  await worker.start();
  await pollUntil(() => worker.status().completed + worker.status().failed === 1, { timeoutMs: 5_000 });
  const status = worker.status();
  await worker.drain();
  return { result: source.completed()[0]?.result, status };
}

/** What a rejected checkpoint says: its class and message, returned as the job's result. */
const attempt = (value: unknown) => async (_payload: unknown, ctx: JobContext) => {
  try {
    await ctx.checkpoint(value);
    return "stored";
  } catch (error) {
    return { error: error instanceof CheckpointError, message: (error as Error).message };
  }
};

describe("ctx.checkpoint errors reach the handler, never lose the job", () => {
  it("a value that is not JSON (BigInt, a cycle, a function, undefined) is a CheckpointError", async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [10n, cycle, () => 1, undefined]) {
      const { result, status } = await runOne(attempt(value));
      expect(result).toMatchObject({ error: true, message: expect.stringContaining("not JSON-serialisable") });
      expect(status).toMatchObject({ completed: 1, checkpoints: 0 });
    }
  });

  it("a value larger than the backend keeps is a CheckpointError naming both sizes", async () => {
    const { result } = await runOne(attempt({ blob: "x".repeat(1024 * 1024) }));
    expect(result).toMatchObject({ error: true, message: expect.stringMatching(/\d+ bytes as JSON, more than the 1048576/) });
  });

  it("a source that keeps no checkpoints, and no store: a CheckpointError saying so", async () => {
    const plain = withoutCheckpoints(createMemorySource({ name: "plain" }));
    const { result } = await runOne(attempt({ step: 1 }), plain);
    expect(result).toMatchObject({ error: true, message: expect.stringContaining('source "plain" keeps no checkpoints') });
  });

  it("with a store, such a source checkpoints into it, and the entry is deleted once the job is acked", async () => {
    const entries = new Map<string, string>();
    const saved: string[] = [];
    const store: CheckpointStore = {
      load: async (key) => entries.get(key),
      save: async (key, data) => void (entries.set(key, data), saved.push(key)),
      delete: async (key) => void entries.delete(key),
    };
    const { result, status } = await runOne(attempt({ step: 1 }), undefined, store);
    expect(result).toBe("stored");
    expect(saved).toEqual(["memory:1"]);
    expect(entries.size).toBe(0);
    expect(status.checkpoints).toBe(1);
  });

  it("a store that fails on save is a CheckpointError; one that fails on load only costs the resume", async () => {
    const store: CheckpointStore = {
      load: async () => Promise.reject(new Error("store down")),
      save: async () => Promise.reject(new Error("store down")),
      delete: async () => undefined,
    };
    const { result, status } = await runOne(attempt({ step: 1 }), undefined, store);
    expect(result).toMatchObject({ error: true, message: expect.stringContaining("store down") });
    expect(status).toMatchObject({ completed: 1, resumed: 0 });
  });

  it('checkpoints.drain other than "release" or "deadline" rejects start() with a ConfigError naming it', async () => {
    const worker = createWorker({ handler: () => 1, http: false, handleSignals: false, exit: false, checkpoints: { drain: "later" as never } });
    await expect(worker.start()).rejects.toThrow('checkpoints.drain must be one of release, deadline, got "later"');
  });
});
