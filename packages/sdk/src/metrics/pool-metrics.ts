import type * as PromClient from "prom-client";
import type { Metric, Registry } from "prom-client";
import type { PoolConnections } from "../resources/resources.js";
import { CountedHistogram } from "./counted-histogram.js";
import { metricDefs, poolConnectionStates, poolWaitBuckets } from "./names.js";

/** A pool the metrics read: its `pool` label and, when it has them, its connection counts. */
export interface ObservedPool {
  readonly name: string;
  connections?(): PoolConnections;
}

/** Each pool's wait histogram, counted from the start (without prom-client) and exposed at scrape. */
export interface PoolWaits {
  readonly histogram: CountedHistogram<string>;
  recorder(pool: string): (seconds: number) => void;
}

export function createPoolWaits(pools: readonly ObservedPool[]): PoolWaits {
  // A checkout happens once per query: the recorder holds its series rather than look it up.
  const histogram = new CountedHistogram(metricDefs.poolWait, poolWaitBuckets, pools.filter(counted).map((pool) => [pool.name, { pool: pool.name }] as const));
  return {
    histogram,
    recorder(pool) {
      const series = histogram.series(pool);
      return series ? (seconds) => series.observe(seconds) : () => undefined;
    },
  };
}

const counted = (pool: ObservedPool): boolean => typeof pool.connections === "function";

/**
 * `quiesce_pool_connections{pool,state}` read from each pool at scrape time, and
 * `quiesce_pool_wait_seconds{pool}` counted by the pools as they hand out connections. Pools are
 * known at construction, so every series exists (at 0) from the first scrape. Called when the
 * registry is built (the first scrape), with the Gauge of the prom-client loaded then.
 */
export function registerPoolMetrics(Gauge: typeof PromClient.Gauge, registry: Registry, pools: readonly ObservedPool[], waits: PoolWaits): void {
  const observed = pools.filter(counted);
  new Gauge({
    ...metricDefs.poolConnections,
    labelNames: [...metricDefs.poolConnections.labelNames],
    registers: [registry],
    collect() {
      for (const pool of observed) {
        const now = pool.connections?.();
        if (!now) continue;
        for (const state of poolConnectionStates) this.labels(pool.name, state).set(now[state]);
      }
    },
  });
  registry.registerMetric(waits.histogram as unknown as Metric);
}
