import { jobDurationBuckets, jobOutcomes, metricDefs } from "./names.js";

type Outcome = (typeof jobOutcomes)[number];

/** One sample as prom-client's registry formats it (its own histograms hand it the same shape). */
interface Sample {
  readonly metricName: string;
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  /** prom-client's buckets carry `exemplar: null` when exemplars are off; kept for identical JSON. */
  readonly exemplar?: null;
}

interface Series {
  /** Per bucket, not cumulative: index i counts values in (bounds[i-1], bounds[i]]. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * `quiesce_job_duration_seconds`, recorded without prom-client: a job's observation is a bucket
 * search and three number updates, and prom-client need not be loaded until the first scrape.
 * At scrape time it is registered in the worker's registry as a metric object the registry
 * formats exactly as it formats a prom-client Histogram (same samples, labels and order).
 */
export class DurationHistogram {
  readonly name = metricDefs.jobDuration.name;
  readonly help = metricDefs.jobDuration.help;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #queue: string;
  readonly #bounds = jobDurationBuckets;
  readonly #series = new Map<Outcome, Series>();

  constructor(queue: string) {
    this.#queue = queue;
    // Every outcome from the start, at 0, so rate() works from the first scrape.
    for (const outcome of jobOutcomes) this.#series.set(outcome, { counts: new Float64Array(this.#bounds.length), sum: 0, count: 0 });
  }

  observe(outcome: Outcome, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const series = this.#series.get(outcome) as Series;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    if (i < bounds.length) series.counts[i] = (series.counts[i] as number) + 1;
    series.sum += seconds;
    series.count++;
  }

  /** Observations so far of one outcome. */
  count(outcome: Outcome): number {
    return (this.#series.get(outcome) as Series).count;
  }

  /** What the registry calls to write the text exposition. */
  getForPromString(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const [outcome, series] of this.#series) {
      const shared = { queue: this.#queue, outcome };
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += series.counts[i] as number;
        values.push({ metricName: bucketName, value: cumulative, labels: { le }, sharedLabels: shared, exemplar: null });
      });
      values.push({ metricName: bucketName, value: series.count, labels: { le: "+Inf" }, sharedLabels: shared, exemplar: null });
      values.push({ metricName: `${this.name}_sum`, value: series.sum, labels: {}, sharedLabels: shared });
      values.push({ metricName: `${this.name}_count`, value: series.count, labels: {}, sharedLabels: shared });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The JSON form (registry.getMetricsAsJSON): shared labels merged into each sample's own. */
  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, ...sample }) => ({ ...sample, labels: { ...sample.labels, ...sharedLabels } })) };
  }

  reset(): void {
    for (const series of this.#series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
