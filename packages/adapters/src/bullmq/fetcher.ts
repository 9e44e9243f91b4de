import type { Job } from "bullmq";

/** What the fetcher needs from the source: one fetch, one interrupt, one hand-back. */
export interface FetcherContext {
  /**
   * Move one job to active under a fresh token. BullMQ's worker decides whether to block: it
   * long-polls (BZPOPMIN on the queue's marker, up to the poll timeout) only after a fetch found
   * the queue empty, so a busy queue costs one script call per job.
   */
  fetch(): Promise<Job | undefined>;
  /** Abort a blocking fetch in flight (BullMQ drops its blocking connection; no job is taken). */
  interrupt(): void;
  /** Hand a job that was never started back to the queue at once, without using an attempt. */
  release(job: Job): Promise<void>;
  /** Report an error that has no caller to reject (a background release that failed). */
  report(error: unknown): void;
  readonly leaseMs: number;
}

interface Held {
  readonly job: Job;
  readonly at: number;
}

/**
 * Jobs this worker has locked but not yet handed to the runtime, and the one fetch in flight.
 *
 * Jobs arrive two ways: from a fetch, and from an ack, whose finishing script already moved the
 * next job to active (BullMQ's one-round-trip-per-job path, the same one its own `Worker` runs).
 * `take()` returns held jobs at once; otherwise it starts (or joins) the single fetch and waits for
 * it, for an ack's arrival, or for the abort. A fetch that outlives an aborted `take()` keeps
 * running, and its job is held for the next one, so an aborted poll loses nothing and does not
 * cost BullMQ's blocking connection. Once closed (drain or stop), held jobs and late arrivals go
 * back to the queue at once: another worker gets them now, not after the lock expires.
 */
export class Fetcher {
  readonly #ctx: FetcherContext;
  /** Held jobs are handed back once this old: the runtime then still has most of the lock to renew it. */
  readonly #staleMs: number;
  #held: Held[] = [];
  #pending: Promise<void> | null = null;
  #failure: unknown = null;
  #closed = false;
  readonly #waiters = new Set<() => void>();
  #sweep: NodeJS.Timeout | null = null;

  constructor(ctx: FetcherContext) {
    this.#ctx = ctx;
    this.#staleMs = Math.max(1, Math.floor(ctx.leaseMs / 4));
  }

  /** Held jobs at once (no promise: the common case, an ack fetched the job); else waits for them. */
  take(max: number, signal: AbortSignal): Job[] | Promise<Job[]> {
    if (this.#held.length > 0 && !this.#closed && !signal.aborted) return this.#splice(max);
    return this.#wait(max, signal);
  }

  /** Up to `max` jobs: held ones, or the next fetch's; [] once closed, aborted or the poll ended empty. */
  async #wait(max: number, signal: AbortSignal): Promise<Job[]> {
    for (;;) {
      if (this.#closed || signal.aborted) return [];
      if (this.#held.length > 0) return this.#splice(max);
      if (this.#failure !== null) {
        const failure = this.#failure;
        this.#failure = null;
        throw failure;
      }
      this.#pending ??= this.#fetchOne();
      const fetchEnded = await this.#waitForChange(this.#pending, signal);
      // The poll window ended with nothing: resolve [] so the runtime can look at its state.
      if (fetchEnded && this.#held.length === 0 && this.#failure === null) return [];
    }
  }

  /**
   * Hold a locked job for the next take(); once closed, hand it straight back, and return that
   * hand-back (which never rejects). Synchronous when held: this runs once per job.
   */
  hold(job: Job): Promise<void> | undefined {
    if (this.#closed) return this.#releaseAll([{ job, at: 0 }]);
    this.#held.push({ job, at: Date.now() });
    this.#armSweep();
    for (const wake of this.#waiters) wake();
    return undefined;
  }

  /** Stop holding: release everything held, interrupt a blocking fetch, send later arrivals back. */
  async close(interrupt: boolean): Promise<void> {
    this.#closed = true;
    if (interrupt && this.#pending) this.#ctx.interrupt();
    for (const wake of this.#waiters) wake();
    this.#clearSweep();
    await this.#releaseAll(this.#held.splice(0));
  }

  /**
   * Make the receives waiting now reject with `error` (the connection dropped: the runtime should
   * back off, and give up if it stays down). The fetch in flight keeps waiting for the reconnect.
   */
  interruptWaiters(error: Error): void {
    if (this.#waiters.size === 0) return;
    this.#failure = error;
    for (const wake of this.#waiters) wake();
  }

  /** Take jobs again after a close (a paused source started again). */
  reopen(): void {
    this.#closed = false;
  }

  /** Resolves when no fetch is in flight (its job, if any, held or released). */
  async settled(): Promise<void> {
    while (this.#pending) await this.#pending;
  }

  async #fetchOne(): Promise<void> {
    try {
      const job = await this.#ctx.fetch();
      if (job) await this.hold(job);
    } catch (thrown) {
      if (!this.#closed) this.#failure = thrown;
    } finally {
      // Waiters learn of the end through the promise itself (waitForChange resolves true).
      this.#pending = null;
    }
  }

  /** Resolves true when `fetch` settled, false on an arrival, a close or the abort. */
  #waitForChange(fetch: Promise<void>, signal: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (fetchEnded: boolean): void => {
        if (done) return;
        done = true;
        this.#waiters.delete(onChange);
        signal.removeEventListener("abort", onChange);
        resolve(fetchEnded);
      };
      const onChange = (): void => finish(false);
      this.#waiters.add(onChange);
      signal.addEventListener("abort", onChange, { once: true });
      void fetch.then(() => finish(true));
    });
  }

  #splice(max: number): Job[] {
    const taken = this.#held.splice(0, max);
    const jobs: Job[] = new Array<Job>(taken.length);
    for (let i = 0; i < taken.length; i++) jobs[i] = (taken[i] as Held).job;
    return jobs;
  }

  async #releaseAll(held: Held[]): Promise<void> {
    await Promise.all(held.map((entry) => this.#ctx.release(entry.job).catch((thrown: unknown) => this.#ctx.report(thrown))));
  }

  // Normally a held job is taken within the same tick (its ack freed the slot it fills). If the
  // runtime stops asking for a while, the job goes back rather than sit locked and unrenewed.
  #armSweep(): void {
    if (this.#sweep || this.#held.length === 0) return;
    const oldest = this.#held[0] as Held;
    this.#sweep = setTimeout(() => this.#sweepStale(), Math.max(1, oldest.at + this.#staleMs - Date.now()));
    this.#sweep.unref();
  }

  #sweepStale(): void {
    this.#sweep = null;
    const cutoff = Date.now() - this.#staleMs;
    const firstFresh = this.#held.findIndex((held) => held.at > cutoff);
    const stale = this.#held.splice(0, firstFresh === -1 ? this.#held.length : firstFresh);
    void this.#releaseAll(stale);
    this.#armSweep();
  }

  #clearSweep(): void {
    if (this.#sweep) clearTimeout(this.#sweep);
    this.#sweep = null;
  }
}
