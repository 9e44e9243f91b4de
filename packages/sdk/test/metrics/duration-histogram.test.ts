import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createDurationHistogram } from "../../src/metrics/duration-histogram.js";
import { jobDurationBuckets, jobOutcomes, metricDefs } from "../../src/metrics/names.js";

/** A prom-client Histogram set up as the worker's used to be, fed the same values. */
function reference(queue: string) {
  const registry = new Registry();
  const histogram = new Histogram({
    ...metricDefs.jobDuration,
    labelNames: [...metricDefs.jobDuration.labelNames],
    buckets: [...jobDurationBuckets],
    registers: [registry],
  });
  for (const outcome of jobOutcomes) histogram.zero({ queue, outcome });
  return { registry, observe: (outcome: string, seconds: number) => histogram.labels(queue, outcome).observe(seconds) };
}

function ours(queue: string) {
  const registry = new Registry();
  const histogram = createDurationHistogram(queue);
  registry.registerMetric(histogram as unknown as Parameters<Registry["registerMetric"]>[0]);
  return { registry, histogram };
}

describe("the duration histogram (CountedHistogram)", () => {
  it("writes the same exposition and JSON as prom-client's own Histogram for the same observations", async () => {
    // A queue name that needs escaping, values on, between, below and above the bounds.
    const queue = 'we"ird\\queue\nname';
    const ref = reference(queue);
    const mine = ours(queue);
    const values: [(typeof jobOutcomes)[number], number][] = [
      ["completed", 0],
      ["completed", 0.01],
      ["completed", 0.0100001],
      ["completed", 0.3],
      ["failed", 1],
      ["failed", 2.5],
      ["completed", 1799.9],
      ["completed", 1800],
      ["released", 5000],
      ["completed", 0.000123],
    ];
    for (let i = 0; i < 200; i++) values.push(["completed", (i * 7.3) % 45]);
    for (const [outcome, seconds] of values) {
      ref.observe(outcome, seconds);
      mine.histogram.observe(outcome, seconds);
    }
    expect(await mine.registry.metrics()).toBe(await ref.registry.metrics());
    expect(await mine.registry.getMetricsAsJSON()).toEqual(await ref.registry.getMetricsAsJSON());
    expect(mine.histogram.count("completed")).toBe(values.filter(([o]) => o === "completed").length);
  });

  it("exports every outcome at 0 before any job, as prom-client's zero() did", async () => {
    const ref = reference("q");
    const mine = ours("q");
    expect(await mine.registry.metrics()).toBe(await ref.registry.metrics());
    expect(await mine.registry.metrics()).toContain('quiesce_job_duration_seconds_count{queue="q",outcome="released"} 0');
  });

  it("ignores values that are not finite, as prom-client would refuse them", async () => {
    const mine = ours("q");
    mine.histogram.observe("completed", Number.NaN);
    mine.histogram.observe("completed", Infinity);
    expect(mine.histogram.count("completed")).toBe(0);
  });
});
