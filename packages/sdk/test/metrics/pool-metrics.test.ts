import { Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createPoolWaits, registerPoolMetrics, type ObservedPool } from "../../src/metrics/pool-metrics.js";
import { find, samples, value } from "./exposition.js";

describe("pool metrics", () => {
  it("quiesce_pool_connections{pool,state} is read from each pool at scrape time", async () => {
    const registry = new Registry();
    let now = { idle: 1, busy: 2, waiting: 0 };
    const pools: ObservedPool[] = [{ name: "orders", connections: () => now }, { name: "no-counts" }];
    registerPoolMetrics(Gauge, registry, pools, createPoolWaits(pools));
    let all = samples(await registry.metrics());
    expect(find(all, "quiesce_pool_connections").map((s) => [s.labels["pool"], s.labels["state"], s.value])).toEqual([
      ["orders", "idle", 1],
      ["orders", "busy", 2],
      ["orders", "waiting", 0],
    ]);
    now = { idle: 0, busy: 5, waiting: 3 };
    all = samples(await registry.metrics());
    expect(value(all, "quiesce_pool_connections", { pool: "orders", state: "waiting" })).toBe(3);
  });

  it("quiesce_pool_wait_seconds{pool} is a histogram, at 0 from the start, fed by the pool's recorder", async () => {
    const registry = new Registry();
    const pools: ObservedPool[] = [{ name: "orders", connections: () => ({ idle: 0, busy: 0, waiting: 0 }) }];
    const waits = createPoolWaits(pools);
    registerPoolMetrics(Gauge, registry, pools, waits);
    const recorder = (pool: string) => waits.recorder(pool);
    let all = samples(await registry.metrics());
    expect(value(all, "quiesce_pool_wait_seconds_count", { pool: "orders" })).toBe(0);
    const observe = recorder("orders");
    observe(0.0004);
    observe(0.3);
    all = samples(await registry.metrics());
    expect(value(all, "quiesce_pool_wait_seconds_count", { pool: "orders" })).toBe(2);
    expect(value(all, "quiesce_pool_wait_seconds_bucket", { pool: "orders", le: "0.001" })).toBe(1);
    expect(value(all, "quiesce_pool_wait_seconds_bucket", { pool: "orders", le: "0.5" })).toBe(2);
    expect(value(all, "quiesce_pool_wait_seconds_sum", { pool: "orders" })).toBeCloseTo(0.3004, 6);
  });
});
