import { setTimeout as delay } from "node:timers/promises";
import { inspect } from "node:util";
import { coerceError } from "../errors.js";

export interface PollUntilOptions {
  /** Give up after this many ms. @defaultValue 5000 */
  readonly timeoutMs?: number;
  /** Wait between checks, in ms. @defaultValue 20 */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout error: "the job to be acked". @defaultValue "condition" */
  readonly message?: string;
  /** Stop polling (rejects with the abort reason). */
  readonly signal?: AbortSignal;
}

export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

/**
 * Check `condition` until it returns something truthy, and return that. The condition may also
 * throw (an `expect` that does not hold yet): it is retried, and the last error becomes the
 * timeout error's cause. Tests synchronise with this instead of sleeping a guessed time.
 */
export async function pollUntil<T>(condition: () => T | PromiseLike<T>, options: PollUntilOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 5_000, intervalMs = 20, message = "condition", signal } = options;
  if (!(timeoutMs >= 0) || !(intervalMs > 0)) {
    throw new RangeError(`pollUntil: timeoutMs must be >= 0 and intervalMs > 0, got ${timeoutMs} and ${intervalMs}`);
  }
  const deadline = performance.now() + timeoutMs;
  // Both the last value and the last error go into the timeout message: a condition that
  // alternates between "not yet" and a throw is easiest to diagnose with both.
  let last: { value: T } | undefined;
  let lastError: Error | undefined;
  for (let attempts = 1; ; attempts++) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
      last = { value };
    } catch (error) {
      lastError = coerceError(error);
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      const parts = [`pollUntil: timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${message}`];
      if (last) parts.push(`last value: ${inspect(last.value, { depth: 4, breakLength: Infinity })}`);
      if (lastError) parts.push(`last error: ${lastError.message}`);
      throw new Error(parts.join("; "), { cause: lastError });
    }
    // A referenced timer on purpose: this wait is the caller's work, it must keep the process alive.
    await delay(Math.min(intervalMs, left), undefined, signal ? { signal } : {});
  }
}
