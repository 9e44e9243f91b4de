/**
 * A bounded sliding window of the most recent job durations, in ms.
 *
 * `record` is on the per-job hot path, so it is one typed-array store and two integer updates: no
 * allocation, no sorting. Quantiles are asked for rarely (a scrape, a pod-reporter tick), so they
 * sort a copy on demand and keep it until the next `record`.
 */
export class DurationWindow {
  readonly capacity: number;
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;
  #sorted: Float64Array | null = null;

  /** @param capacity how many recent durations to keep; older ones fall out. @defaultValue 1024 */
  constructor(capacity = 1024) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`DurationWindow capacity must be a positive integer, got ${String(capacity)}`);
    }
    this.capacity = capacity;
    this.#samples = new Float64Array(capacity);
  }

  /** Durations currently held (at most `capacity`). */
  get count(): number {
    return this.#count;
  }

  /** Add one duration. Non-finite or negative values are dropped so a quantile is never NaN. */
  record(ms: number): void {
    if (!(ms >= 0) || ms === Infinity) return;
    this.#samples[this.#next] = ms;
    this.#next = this.#next + 1 === this.capacity ? 0 : this.#next + 1;
    if (this.#count < this.capacity) this.#count++;
    this.#sorted = null;
  }

  /**
   * The nearest-rank quantile (`q` in [0, 1]) of the held durations, or undefined when empty.
   * Nearest-rank never interpolates below a real sample, so p99 of fewer than 100 jobs is the
   * maximum: the conservative answer for a grace period.
   */
  quantile(q: number): number | undefined {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be within [0, 1], got ${String(q)}`);
    if (this.#count === 0) return undefined;
    if (this.#sorted === null) this.#sorted = this.#samples.slice(0, this.#count).sort();
    const rank = Math.max(1, Math.ceil(q * this.#count));
    return this.#sorted[rank - 1];
  }
}
