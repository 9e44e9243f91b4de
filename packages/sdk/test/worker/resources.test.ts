import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { createMemorySource } from "../../src/source/memory-source.js";
import type { Resource, ResourceContext } from "../../src/resources/resources.js";
import { createWorker } from "../../src/worker.js";

const quiet = { http: false, handleSignals: false, exit: false, kubernetes: false } as const;

describe("resources in a worker", () => {
  it("start before the source connects, knowing the concurrency; handlers get each one's per-job handle; closed after the drain", async () => {
    const order: string[] = [];
    let seen: ResourceContext | undefined;
    const db: Resource<{ jobId: string }> = {
      name: "db",
      start(context) {
        seen = context;
        order.push("db started");
      },
      forJob: (job) => ({ jobId: job.id }),
      async close() {
        order.push("db closed");
      },
    };
    const source = createMemorySource();
    const id = source.add({ n: 1 });
    const handles: unknown[] = [];
    const worker = createWorker({
      ...quiet,
      source,
      concurrency: 3,
      resources: { db },
      handler: (_payload, ctx) => {
        handles.push(ctx.resources.db, ctx.resources.db.jobId === ctx.id);
      },
    });
    await worker.start();
    expect(seen?.concurrency).toBe(3);
    expect(seen?.connectionBudget).toBeNull();
    await worker.drain();
    expect(handles).toEqual([{ jobId: id }, true]);
    expect(order).toEqual(["db started", "db closed"]);
  });

  it("a resource whose start throws a ConfigError stops start-up with it", async () => {
    const broken: Resource = {
      name: "db",
      start: () => {
        throw new ConfigError('pgResource("db"): the pool passed in allows max 10 connections, above this worker\'s share');
      },
      close: async () => undefined,
    };
    const worker = createWorker({ ...quiet, resources: [broken], handler: () => undefined });
    await expect(worker.start()).rejects.toThrow(/allows max 10 connections, above this worker's share/);
    await worker.drain();
  });

  it("the fleet budget reaches the resources that draw on it", async () => {
    let budget: ResourceContext["connectionBudget"] | undefined;
    const db: Resource = { name: "db", usesConnectionBudget: true, start: (c) => void (budget = c.connectionBudget), close: async () => undefined };
    const worker = createWorker({ ...quiet, resources: [db], connectionBudget: { maxConnections: 30, maxReplicas: 4 }, handler: () => undefined });
    await worker.start();
    expect(budget).toEqual({ maxConnections: 30, maxReplicas: 4, perWorker: 7, pools: 1, perPool: 7 });
    await worker.drain();
  });
});
