import { describe, expect, it } from "vitest";
import { noopLogger, type Logger } from "../../src/logger.js";
import { closeInReverse, drainCleanupSteps, runCleanup } from "../../src/drain/cleanup.js";
import { createMemorySource } from "../../src/source/memory-source.js";
import type { Resource } from "../../src/resources/resources.js";

function recorder(order: string[], name: string, fail?: unknown): Resource {
  return {
    name,
    async close() {
      order.push(name);
      if (fail !== undefined) throw fail;
    },
  };
}

/** Keeps what was logged at error level: closeInReverse reports each failure there too. */
function recordingLogger(): { logger: Logger; errors: object[] } {
  const errors: object[] = [];
  const logger: Logger = { ...noopLogger, error: (fields) => void errors.push(typeof fields === "string" ? { msg: fields } : fields), child: () => logger };
  return { logger, errors };
}

describe("closeInReverse", () => {
  it("closes in reverse order of registration (LIFO), each one once", async () => {
    const order: string[] = [];
    const errors = await closeInReverse([recorder(order, "a"), recorder(order, "b"), recorder(order, "c")], noopLogger);
    expect(order).toEqual(["c", "b", "a"]);
    expect(errors).toEqual([]);
  });

  it("waits for each close before the next: a later-registered pool is gone before the one it uses", async () => {
    const order: string[] = [];
    const slow: Resource = {
      name: "slow",
      close: () => new Promise<void>((resolve) => setImmediate(() => (order.push("slow done"), resolve()))),
    };
    await closeInReverse([recorder(order, "first"), slow], noopLogger);
    expect(order).toEqual(["slow done", "first"]);
  });

  it("one failing close skips nothing; each failure comes back as one line naming the resource", async () => {
    const order: string[] = [];
    const { logger, errors: logged } = recordingLogger();
    const errors = await closeInReverse(
      [recorder(order, "a"), recorder(order, "b", new Error("connection reset")), recorder(order, "c"), recorder(order, "d", "plain string")],
      logger,
    );
    expect(order).toEqual(["d", "c", "b", "a"]);
    expect(errors).toEqual(["d: non-error thrown: plain string", "b: connection reset"]);
    expect(logged.map((f) => (f as { resource?: string }).resource)).toEqual(["d", "b"]);
  });

  it("does not mutate the caller's list", async () => {
    const list = [recorder([], "a"), recorder([], "b")];
    await closeInReverse(list, noopLogger);
    expect(list.map((r) => r.name)).toEqual(["a", "b"]);
  });
});

describe("runCleanup and the drain's steps", () => {
  it("runs every step in order, isolated, and reports each failure as one line", async () => {
    const order: string[] = [];
    const errors = await runCleanup(
      [
        { name: "one", run: () => void order.push("one") },
        { name: "two", run: () => {
          order.push("two");
          throw new Error("boom");
        } },
        { name: "three", run: async () => void order.push("three") },
      ],
      noopLogger,
    );
    expect(order).toEqual(["one", "two", "three"]);
    expect(errors).toEqual(["two: boom"]);
  });

  it("closes leases, then the source, then the pod integration, then resources LIFO", async () => {
    const order: string[] = [];
    const source = createMemorySource({ name: "jobs" });
    const stop = source.stop.bind(source);
    source.stop = async () => {
      order.push("source");
      await stop();
    };
    const steps = drainCleanupSteps({
      leases: { stop: () => void order.push("leases") },
      source,
      pod: { stop: async () => void order.push("pod") },
      resources: [recorder(order, "db"), recorder(order, "cache")],
    });
    expect(steps.map((s) => s.name)).toEqual(["lease keeper", "source jobs", "kubernetes integration", "cache", "db"]);
    expect(await runCleanup(steps, noopLogger)).toEqual([]);
    expect(order).toEqual(["leases", "source", "pod", "cache", "db"]);
  });

  it("leaves the pod step out without an integration", () => {
    const steps = drainCleanupSteps({ leases: { stop: () => undefined }, source: createMemorySource(), pod: null, resources: [] });
    expect(steps.map((s) => s.name)).toEqual(["lease keeper", "source memory"]);
  });

  it("moves on from a source whose stop hangs, naming the bound", async () => {
    const order: string[] = [];
    const source = createMemorySource({ name: "stuck" });
    source.stop = () => new Promise<void>(() => undefined);
    const steps = drainCleanupSteps({ leases: { stop: () => undefined }, source, pod: null, resources: [recorder(order, "db")], sourceStopBoundMs: 30 });
    const errors = await runCleanup(steps, noopLogger);
    expect(errors).toEqual(["source stuck: stop did not finish within 30 ms; moving on"]);
    expect(order).toEqual(["db"]);
  });
});
