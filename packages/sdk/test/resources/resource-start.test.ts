import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { noopLogger } from "../../src/logger.js";
import {
  handlesFor,
  listResources,
  startResources,
  type Resource,
  type ResourceContext,
  type ResourceJob,
} from "../../src/resources/resources.js";

const plain = (name: string): Resource => ({ name, close: async () => undefined });

function starting(name: string, seen: Array<{ name: string; context: ResourceContext }>, budgeted = true): Resource<string> {
  return {
    name,
    usesConnectionBudget: budgeted,
    start: (context) => void seen.push({ name, context }),
    forJob: (job) => `${name} for ${job.id}`,
    close: async () => undefined,
  };
}

const job: ResourceJob = { id: "j1", signal: new AbortController().signal, draining: new AbortController().signal, onAbort: () => () => undefined };
const noWait = () => () => undefined;

describe("resources by key", () => {
  it("an object keys them by property, a list by name; in registration order", () => {
    expect(listResources({ db: plain("orders"), cache: plain("c") }).map((r) => [r.key, r.resource.name])).toEqual([
      ["db", "orders"],
      ["cache", "c"],
    ]);
    expect(listResources([plain("a"), plain("b")]).map((r) => r.key)).toEqual(["a", "b"]);
    expect(listResources(undefined)).toEqual([]);
  });

  it("refuses two with one name (they would share metric series) and things that are not resources", () => {
    expect(() => listResources([plain("pg"), plain("pg")])).toThrow(new ConfigError('resources: two resources are named "pg"; give each its own name'));
    expect(() => listResources({ a: plain("pg"), b: plain("pg") })).toThrow(/two resources have the name "pg" \(it labels their metrics\)/);
    expect(() => listResources({ db: { name: "x" } as never })).toThrow("resources.db: must be a resource ({ name, close() }, e.g. from poolResource), got object");
  });

  it("ctx.resources holds each resource's handle for the job, or the resource itself", () => {
    const seen: Array<{ name: string; context: ResourceContext }> = [];
    const cache = plain("cache");
    expect(handlesFor(listResources({ db: starting("pg", seen), cache }), job)).toEqual({ db: "pg for j1", cache });
  });
});

describe("starting resources", () => {
  it("tells each the concurrency and, when it draws on the budget, its share", async () => {
    const seen: Array<{ name: string; context: ResourceContext }> = [];
    const list = listResources({ a: starting("a", seen), b: starting("b", seen), other: starting("other", seen, false), plain: plain("plain") });
    await startResources(list, { concurrency: 4, budget: { maxConnections: 50, maxReplicas: 10, perWorker: 5 }, logger: noopLogger, observeWait: noWait });
    expect(seen.map((s) => [s.name, s.context.concurrency, s.context.connectionBudget])).toEqual([
      ["a", 4, { maxConnections: 50, maxReplicas: 10, perWorker: 5, pools: 2, perPool: 2 }],
      ["b", 4, { maxConnections: 50, maxReplicas: 10, perWorker: 5, pools: 2, perPool: 2 }],
      ["other", 4, null],
    ]);
  });

  it("no budget: every resource gets null", async () => {
    const seen: Array<{ name: string; context: ResourceContext }> = [];
    await startResources(listResources([starting("a", seen)]), { concurrency: 1, budget: null, logger: noopLogger, observeWait: noWait });
    expect(seen[0]?.context.connectionBudget).toBeNull();
  });

  it("a share too small for one connection per pool stops start-up, naming both numbers", async () => {
    const seen: Array<{ name: string; context: ResourceContext }> = [];
    const list = listResources([starting("a", seen), starting("b", seen)]);
    await expect(startResources(list, { concurrency: 1, budget: { maxConnections: 10, maxReplicas: 10, perWorker: 1 }, logger: noopLogger, observeWait: noWait })).rejects.toThrow(
      "QUIESCE_DB_MAX_CONNECTIONS 10 ÷ QUIESCE_MAX_REPLICAS 10 gives each worker 1 connection(s), fewer than its 2 pools need (one each)",
    );
    expect(seen).toEqual([]);
  });

  it("hands each resource the wait recorder of its own name", async () => {
    const recorded: Array<[string, number]> = [];
    const resource: Resource = { name: "orders", start: (c) => c.observeWait(0.25), close: async () => undefined };
    await startResources(listResources([resource]), { concurrency: 1, budget: null, logger: noopLogger, observeWait: (name) => (s) => void recorded.push([name, s]) });
    expect(recorded).toEqual([["orders", 0.25]]);
  });
});
