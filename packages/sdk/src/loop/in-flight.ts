import { deferred } from "../internal/timers.js";
import type { Job } from "./job.js";

/**
 * Every delivery this worker holds, from receipt until it is settled and its handler returned.
 * Insertion order is receipt order, so the first entry is the oldest.
 */
export class InFlight {
  readonly #jobs = new Set<Job>();
  #running = 0;
  #changed: { promise: Promise<void>; resolve: (v: void) => void } | null = null;

  /** Deliveries held: received and not yet settled (running, or waiting for a slot). */
  get held(): number {
    return this.#jobs.size;
  }

  /** Jobs whose handler has started and not returned (a subset of {@link held}). */
  get running(): number {
    return this.#running;
  }

  add(job: Job): void {
    this.#jobs.add(job);
  }

  markStarted(): void {
    this.#running++;
  }

  /** False when the job was already removed (a forced release or lease loss got there first). */
  delete(job: Job): boolean {
    if (!this.#jobs.delete(job)) return false;
    if (job.started) this.#running--;
    this.wake();
    return true;
  }

  values(): IterableIterator<Job> {
    return this.#jobs.values();
  }

  /** Start time of the oldest running job, or null. */
  oldestStart(): number | null {
    for (const job of this.#jobs) if (job.started) return job.startedAt;
    return null;
  }

  /** Wake whoever waits in {@link nextRemoval} without a removal (the drain began). */
  wake(): void {
    const waiter = this.#changed;
    if (waiter) {
      this.#changed = null;
      waiter.resolve();
    }
  }

  /** Resolves on the next removal (a slot freed, or one step closer to empty) or {@link wake}. */
  nextRemoval(): Promise<void> {
    this.#changed ??= deferred<void>();
    return this.#changed.promise;
  }

  async waitForEmpty(): Promise<void> {
    while (this.#jobs.size > 0) await this.nextRemoval();
  }
}
