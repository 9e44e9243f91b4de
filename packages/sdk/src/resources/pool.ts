import { expired, withBound } from "../internal/bound.js";
import { check, optional } from "../internal/validate.js";
import type { Resource } from "./resources.js";

/**
 * The one thing the worker needs from a connection pool: a way to end it. `pg.Pool`,
 * `mysql2/promise` pools and most others fit as they are; for a callback-only `end(cb)`, pass
 * `{ end: () => new Promise((resolve) => pool.end(resolve)) }`. Typed structurally so the SDK
 * never depends on a database driver.
 */
export interface EndablePool {
  end(): Promise<void> | void;
}

export interface PoolResourceOptions {
  /**
   * How long `end()` may take before `close()` gives up on it, in ms. A pool waits for its
   * checked-out connections; one stuck in a query (or leaked) must not hold the exit forever.
   * @defaultValue 5000
   */
  readonly closeTimeoutMs?: number;
}

const defaultCloseTimeoutMs = 5000;

/**
 * Wrap a database pool as a {@link Resource}: the runtime ends it after the drain, once the last
 * delivery settled, so no handler sees its pool closed under it.
 *
 * Idling down while the worker waits for work is the pool's own setting (pg: `idleTimeoutMillis`,
 * mysql2: `idleTimeout` with `maxIdle: 0`): an idle worker then holds no connections at all.
 *
 * `close()` calls `end()` once and returns the same promise to every caller (a second `end()`
 * rejects on pg). It rejects with a message naming the pool when `end()` fails or takes longer
 * than `closeTimeoutMs`; the runtime records that in the drain report's `cleanupErrors` and
 * still exits.
 */
export function poolResource(name: string, pool: EndablePool, options: PoolResourceOptions = {}): Resource {
  const closeTimeoutMs = optional(positiveTimeout, `poolResource("${name}"): closeTimeoutMs`, options.closeTimeoutMs, defaultCloseTimeoutMs);
  let closing: Promise<void> | null = null;
  return {
    name,
    close() {
      closing ??= endWithin(name, pool, closeTimeoutMs);
      return closing;
    },
  };
}

const positiveTimeout = check("a positive number of ms", (value) =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined,
);

async function endWithin(name: string, pool: EndablePool, ms: number): Promise<void> {
  // The executor turns a synchronous throw from end() into a rejection, and calls end() now.
  const ending = new Promise<void>((resolve) => resolve(pool.end()));
  // keepAlive: were the timer unref'd, a loop left with nothing else would exit with this close
  // still pending. It is cleared as soon as end() settles, so it never delays an exit.
  if ((await withBound(ending, ms, { keepAlive: true })) === expired) {
    throw new Error(`pool "${name}" did not end within ${ms} ms (a connection is still checked out or stuck); moving on without it`);
  }
}
