import { describe, expect, it } from "vitest";
import { sizePool } from "../../src/pg/sizing.js";

const budget = (maxConnections: number, maxReplicas: number, pools = 1) => {
  const perWorker = Math.floor(maxConnections / maxReplicas);
  return { maxConnections, maxReplicas, perWorker, pools, perPool: Math.floor(perWorker / pools) };
};

describe("sizing a pool", () => {
  it("defaults to the worker's concurrency, with nothing to warn about", () => {
    expect(sizePool({ name: "db", concurrency: 5, budget: null, configuredMax: null, passedIn: false })).toEqual({
      max: 5,
      line: `pg pool "db": max 5 connections (the worker's concurrency 5; no fleet budget set)`,
    });
  });

  it("caps at this worker's share of the fleet budget and says so, warning when that is below the concurrency", () => {
    const sized = sizePool({ name: "db", concurrency: 5, budget: budget(20, 10), configuredMax: null, passedIn: false });
    expect(sized.max).toBe(2);
    expect(sized.line).toBe(
      `pg pool "db": max 2 connections (QUIESCE_DB_MAX_CONNECTIONS 20 ÷ QUIESCE_MAX_REPLICAS 10 = 2 per worker; the worker's concurrency asks for 5)`,
    );
    expect(sized.warning).toBe(
      `pgResource("db"): the fleet budget limits the pool to 2 connections, below the worker's concurrency 5: up to 3 running jobs at a time wait for a connection`,
    );
  });

  it("a budget above what the worker wants changes nothing but the line", () => {
    const sized = sizePool({ name: "db", concurrency: 4, budget: budget(100, 10), configuredMax: null, passedIn: false });
    expect(sized).toEqual({
      max: 4,
      line: `pg pool "db": max 4 connections (the worker's concurrency 4, within QUIESCE_DB_MAX_CONNECTIONS 100 ÷ QUIESCE_MAX_REPLICAS 10 = 10 per worker)`,
    });
  });

  it("splits the worker's share between its budgeted pools", () => {
    const sized = sizePool({ name: "db", concurrency: 8, budget: budget(60, 10, 2), configuredMax: null, passedIn: false });
    expect(sized.max).toBe(3);
    expect(sized.line).toContain("= 6 per worker ÷ 2 pools = 3 for this one");
  });

  it("a configured max below the concurrency is kept, with a warning naming both numbers", () => {
    const sized = sizePool({ name: "db", concurrency: 5, budget: null, configuredMax: 3, passedIn: false });
    expect(sized.max).toBe(3);
    expect(sized.warning).toBe(
      `pgResource("db"): the max option limits the pool to 3 connections, below the worker's concurrency 5: up to 2 running jobs at a time wait for a connection`,
    );
  });

  it("a passed-in pool is observed as it is, and refused when larger than the budget allows", () => {
    expect(sizePool({ name: "db", concurrency: 2, budget: null, configuredMax: 10, passedIn: true })).toEqual({
      max: 10,
      line: `pg pool "db" (passed in, observed): max 10 connections`,
    });
    expect(sizePool({ name: "db", concurrency: 2, budget: budget(20, 10), configuredMax: 10, passedIn: true }).error).toBe(
      `pgResource("db"): the pool passed in allows max 10 connections, above this worker's share of the fleet budget, 2 ` +
        `(QUIESCE_DB_MAX_CONNECTIONS 20 ÷ QUIESCE_MAX_REPLICAS 10 = 2 per worker); create it with max: 2, or pass budget: false for a pool to another server`,
    );
    expect(sizePool({ name: "db", concurrency: 4, budget: null, configuredMax: 1, passedIn: true }).warning).toMatch(/its max limits the pool to 1 connections, below the worker's concurrency 4/);
  });
});
