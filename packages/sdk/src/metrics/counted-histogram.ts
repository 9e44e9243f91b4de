/** One sample as prom-client's registry formats it (its own histograms hand it the same shape). */
interface Sample {
  readonly metricName: string;
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  /** prom-client's buckets carry `exemplar: null` when exemplars are off; kept for identical JSON. */
  readonly exemplar?: null;
}

/** One labelled series: per-bucket counts (not cumulative; the last slot is +Inf), sum, count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // A negative duration or wait is a clock step, not an observation.
    if (!Number.isFinite(value) || value < 0) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A histogram counted in place, without prom-client: an observation is a bucket search and three
 * number updates, where prom-client's `Histogram.observe` validates and hashes labels on every call
 * (a few microseconds, a visible share of a no-op job or a one-query checkout), and prom-client
 * need not be loaded until the first scrape. Its series are fixed at construction, so each exists
 * (at 0) from the first scrape and `rate()` works at once. Registered in the worker's registry at
 * scrape time as a metric object the registry formats exactly as a prom-client Histogram.
 */
export class CountedHistogram<Key> {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  readonly #bounds: readonly number[];
  readonly #series = new Map<Key, { readonly series: HistogramSeries; readonly labels: Record<string, string> }>();

  constructor(def: { readonly name: string; readonly help: string }, bounds: readonly number[], series: Iterable<readonly [Key, Record<string, string>]>) {
    this.name = def.name;
    this.help = def.help;
    this.#bounds = bounds;
    for (const [key, labels] of series) this.#series.set(key, { series: new HistogramSeries(bounds), labels });
  }

  /** The series of `key`, for a caller that observes it often; undefined for an unknown key. */
  series(key: Key): HistogramSeries | undefined {
    return this.#series.get(key)?.series;
  }

  /** Observe into `key`'s series; an unknown key is ignored. */
  observe(key: Key, value: number): void {
    this.#series.get(key)?.series.observe(value);
  }

  /** Observations so far in `key`'s series. */
  count(key: Key): number {
    return this.#series.get(key)?.series.count ?? 0;
  }

  /** What the registry calls to write the text exposition. */
  getForPromString(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { series, labels: shared } of this.#series.values()) {
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
    for (const { series } of this.#series.values()) series.reset();
  }
}
