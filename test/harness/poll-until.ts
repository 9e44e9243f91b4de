import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";

export interface PollOptions {
  /** Give up after this long. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 20 ms. */
  readonly intervalMs?: number;
  /** What we wait for, for the timeout error: "queue is empty". */
  readonly message?: string;
}

type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

/**
 * Re-evaluate `cond` until it returns (or resolves to) a truthy value, and return that value.
 * A throw counts as "not yet" (the server may still be coming up). On timeout it fails with
 * `message`, the last value and the last error. The way to wait for an outcome in tests: never
 * a bare sleep.
 */
export async function pollUntil<T>(cond: () => T | Promise<T>, opts: PollOptions = {}): Promise<Truthy<T>> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  let last: { value: T } | undefined;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const value = await cond();
      if (value) return value as Truthy<T>;
      last = { value };
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - performance.now())));
  }
  const parts = [`pollUntil: timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${opts.message ?? "the condition"}`];
  if (last) parts.push(`last value: ${inspect(last.value, { depth: 4, breakLength: Infinity })}`);
  if (lastError !== undefined) parts.push(`last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)}`);
  throw new Error(parts.join("; "), lastError === undefined ? undefined : { cause: lastError });
}
