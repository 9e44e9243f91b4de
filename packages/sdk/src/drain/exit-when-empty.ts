import { coerceError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { QueueDepth } from "../source/source.js";

/**
 * Decides "the queue is empty" for job mode without racing in-flight work: nothing received,
 * nothing held by this worker, and (where the source can tell) nothing waiting, continuously for
 * the grace window. Any delivery, held job or waiting message restarts the window.
 */
export class EmptyWatcher {
  readonly #graceMs: number;
  readonly #depth: (() => Promise<QueueDepth>) | undefined;
  readonly #logger: Logger;
  #emptySince: number | null = null;

  constructor(graceMs: number, depth: (() => Promise<QueueDepth>) | undefined, logger: Logger) {
    this.#graceMs = graceMs;
    this.#depth = depth;
    this.#logger = logger;
  }

  /** How long the next receive may wait before the window is due, or null when not counting. */
  remainingMs(now: number): number | null {
    return this.#emptySince === null ? null : Math.max(0, this.#graceMs - (now - this.#emptySince));
  }

  /** Called after every receive; true once the queue has stayed empty for the grace window. */
  async observe(received: number, held: number): Promise<boolean> {
    if (received > 0 || held > 0 || !(await this.#nothingWaiting())) {
      this.#emptySince = null;
      return false;
    }
    const now = Date.now();
    this.#emptySince ??= now;
    return now - this.#emptySince >= this.#graceMs;
  }

  async #nothingWaiting(): Promise<boolean> {
    if (!this.#depth) return true;
    try {
      return (await this.#depth()).waiting === 0;
    } catch (thrown) {
      // Unknown is not empty: exiting on a broken depth call could strand work.
      this.#logger.warn({ err: coerceError(thrown) }, "queue depth unavailable; not treating the queue as empty");
      return false;
    }
  }
}
