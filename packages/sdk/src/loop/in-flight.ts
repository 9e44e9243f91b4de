import type { Job } from "./job.js";

/**
 * Every delivery this worker holds, from receipt until it is settled and its handler returned.
 *
 * An array with each job's index on the job, removed by moving the last entry into the gap: every
 * job goes in and out once, and at concurrency 1 a Set grows and shrinks its table on each pair
 * (about 120 bytes a job for the young-generation GC), where push and pop allocate nothing. The
 * order is therefore not receipt order; nothing depends on it ({@link oldestStart} scans).
 */
export class InFlight {
  readonly #jobs: Job[] = [];
  #running = 0;
  /** Resolves the pending {@link nextRemoval}, or null when nobody waits. */
  #resolve: (() => void) | null = null;
  #changed: Promise<void> | null = null;
  /** One executor for every wait: no closure per wait, only the promise itself. */
  readonly #capture = (resolve: () => void): void => {
    this.#resolve = resolve;
  };

  /** Deliveries held: received and not yet settled (running, or waiting for a slot). */
  get held(): number {
    return this.#jobs.length;
  }

  /** Jobs whose handler has started and not returned (a subset of {@link held}). */
  get running(): number {
    return this.#running;
  }

  add(job: Job): void {
    if (job.heldAt !== -1) return;
    job.heldAt = this.#jobs.length;
    this.#jobs.push(job);
  }

  markStarted(): void {
    this.#running++;
  }

  /** False when the job was already removed (a forced release or lease loss got there first). */
  delete(job: Job): boolean {
    const at = job.heldAt;
    if (at === -1) return false;
    const last = this.#jobs.pop() as Job;
    if (last !== job) {
      this.#jobs[at] = last;
      last.heldAt = at;
    }
    job.heldAt = -1;
    if (job.started) this.#running--;
    this.wake();
    return true;
  }

  /**
   * The jobs held now, as a copy: a caller may settle (and so remove) jobs while it walks them,
   * and a removal moves another entry. Asked per lease-keeper tick and per drain, never per job.
   */
  values(): Job[] {
    return this.#jobs.slice();
  }

  /** Start time of the oldest running job, or null. */
  oldestStart(): number | null {
    let oldest: number | null = null;
    for (const job of this.#jobs) {
      if (job.started && (oldest === null || job.startedAt < oldest)) oldest = job.startedAt;
    }
    return oldest;
  }

  /** Wake whoever waits in {@link nextRemoval} without a removal (the drain began). */
  wake(): void {
    const resolve = this.#resolve;
    if (resolve) {
      this.#resolve = null;
      this.#changed = null;
      resolve();
    }
  }

  /** Resolves on the next removal (a slot freed, or one step closer to empty) or {@link wake}. */
  nextRemoval(): Promise<void> {
    this.#changed ??= new Promise<void>(this.#capture);
    return this.#changed;
  }

  async waitForEmpty(): Promise<void> {
    while (this.#jobs.length > 0) await this.nextRemoval();
  }
}
