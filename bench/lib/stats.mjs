/**
 * Small helpers every bench uses: medians and quantiles of interleaved runs, number formatting,
 * and a gc() for heap readings.
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Median of the values (mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank quantile of values already sorted ascending; NaN for none. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values, p) {
  return quantile([...values].sort((a, b) => a - b), p / 100);
}

export function fmt(x, digits = 0) {
  return (x ?? NaN).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** gc(), whether or not node ran with --expose-gc. */
export function exposeGc() {
  if (typeof globalThis.gc === "function") return globalThis.gc;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc");
}
