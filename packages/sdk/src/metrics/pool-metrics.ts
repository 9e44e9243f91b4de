import type * as PromClient from "prom-client";
import type { Metric, Registry } from "prom-client";
import type { PoolConnections } from "../resources/resources.js";
import { metricDefs, poolConnectionStates, poolWaitBuckets } from "./names.js";

/** A pool the metrics read: its `pool` label and, when it has them, its connection counts. */
export interface ObservedPool {
  readonly name: string;
  connections?(): PoolConnections;
}

/** Each pool's wait counts, kept from the start (without prom-client) and exposed at scrape. */
export interface PoolWaits {
  readonly counts: ReadonlyMap<string, WaitCounts>;
  recorder(pool: string): (seconds: number) => void;
}

export function createPoolWaits(pools: readonly ObservedPool[]): PoolWaits {
  const counts = new Map(pools.filter(counted).map((pool) => [pool.name, new WaitCounts()]));
  return {
    counts,
    recorder(pool) {
      const own = counts.get(pool) ?? new WaitCounts();
      return (seconds) => own.observe(seconds);
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
  registry.registerMetric(waitHistogram(waits.counts) as unknown as Metric);
}

/**
 * One pool's wait histogram, counted in place: a checkout happens once per query, and
 * prom-client's `Histogram.observe` (label validation and hashing on each call) costs a few
 * microseconds, a visible share of a one-INSERT job. The counts become the exposition at scrape.
 */
class WaitCounts {
  /** Per bucket of {@link poolWaitBuckets}, not cumulative; the last slot is +Inf. */
  readonly buckets = new Float64Array(poolWaitBuckets.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    let i = 0;
    while (i < poolWaitBuckets.length && seconds > (poolWaitBuckets[i] as number)) i++;
    this.buckets[i] = (this.buckets[i] as number) + 1;
    this.sum += seconds;
    this.count++;
  }
}

/** A registry entry in the shape prom-client's own histograms give it (`_bucket` cumulative with `le`, `_sum`, `_count`). */
function waitHistogram(waits: ReadonlyMap<string, WaitCounts>) {
  const { name, help } = metricDefs.poolWait;
  const bounds = [...poolWaitBuckets.map(String), "+Inf"];
  return {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get() {
      const values: Array<{ labels: Record<string, string>; value: number; metricName: string }> = [];
      for (const [pool, counts] of waits) {
        let cumulative = 0;
        bounds.forEach((le, i) => {
          cumulative += counts.buckets[i] as number;
          values.push({ labels: { le, pool }, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels: { pool }, value: counts.sum, metricName: `${name}_sum` });
        values.push({ labels: { pool }, value: counts.count, metricName: `${name}_count` });
      }
      return { name, help, type: "histogram", values, aggregator: "sum" };
    },
    reset() {
      for (const counts of waits.values()) {
        counts.buckets.fill(0);
        counts.sum = 0;
        counts.count = 0;
      }
    },
  };
}
