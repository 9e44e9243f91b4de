import type { AmqpDelivery } from "./amqp-delivery.js";

export type WaitOutcome = "work" | "timeout" | "abort";

interface Waiter {
  readonly resolve: (outcome: WaitOutcome) => void;
  readonly signal: AbortSignal;
  /** performance.now() by which it resolves "timeout". */
  readonly deadline: number;
}

/**
 * Messages the broker pushed (up to the prefetch) that no receive() has taken yet, and the
 * receive() calls waiting for one. Also gives back what is held too close to the broker's
 * consumer_timeout: a message can sit here behind long jobs when the prefetch exceeds the
 * concurrency, and the broker's clock runs from the moment it sent it.
 */
export class PrefetchBuffer {
  readonly #items: AmqpDelivery[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #listening = new WeakSet<AbortSignal>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  /** How long before its lease end a held message is given back. */
  readonly #marginMs: number;
  #sweep: NodeJS.Timeout | null = null;

  constructor(marginMs: number) {
    this.#marginMs = marginMs;
  }

  get size(): number {
    return this.#items.length;
  }

  push(delivery: AmqpDelivery): void {
    this.#items.push(delivery);
    // One timer at most, re-armed only while something is held: not one per message.
    if (this.#sweep === null) this.#arm(delivery.leaseEnd);
    this.wake();
  }

  /** Up to `max` of the oldest messages, skipping (and requeueing) any held too long. */
  take(max: number): AmqpDelivery[] {
    const now = Date.now();
    const out: AmqpDelivery[] = [];
    while (out.length < max && this.#items.length > 0) {
      const next = this.#items.shift() as AmqpDelivery;
      if (next.leaseEnd - this.#marginMs <= now) next.releaseNow();
      else out.push(next);
    }
    return out;
  }

  /** Remove every message matching `which` (all by default) and return them. */
  drop(which: (delivery: AmqpDelivery) => boolean = () => true): AmqpDelivery[] {
    const dropped: AmqpDelivery[] = [];
    for (let i = this.#items.length - 1; i >= 0; i--) {
      const item = this.#items[i] as AmqpDelivery;
      if (which(item)) {
        dropped.unshift(item);
        this.#items.splice(i, 1);
      }
    }
    return dropped;
  }

  /**
   * Resolve when a message arrives or `wake()` is called, `ms` passed, or `signal` aborted. Called
   * once per message at a low prefetch, so it is kept cheap: one abort listener per signal (not per
   * wait) and one timer for the earliest deadline (re-armed only when it fires), instead of a timer
   * and an EventTarget listener made and torn down every time.
   */
  wait(signal: AbortSignal, ms: number): Promise<WaitOutcome> {
    if (signal.aborted) return Promise.resolve("abort");
    return new Promise((resolve) => {
      const deadline = performance.now() + ms;
      this.#waiters.add({ resolve, signal, deadline });
      if (!this.#listening.has(signal)) {
        this.#listening.add(signal);
        signal.addEventListener("abort", () => this.#settle((w) => w.signal === signal, "abort"), { once: true });
      }
      if (deadline < this.#timerAt) this.#armTimer(deadline);
    });
  }

  /** Wake every waiting receive (a message came, or the source's state changed). */
  wake(): void {
    if (this.#waiters.size === 0) return;
    // resolve() only queues the continuations: clearing after the loop is safe.
    for (const waiter of this.#waiters) waiter.resolve("work");
    this.#waiters.clear();
  }

  #settle(which: (waiter: Waiter) => boolean, outcome: WaitOutcome): void {
    for (const waiter of this.#waiters) {
      if (!which(waiter)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(outcome);
    }
  }

  #armTimer(at: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, at - performance.now()));
    this.#timer.unref();
  }

  #onTimer(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = performance.now();
    this.#settle((w) => w.deadline <= now, "timeout");
    let next = Infinity;
    for (const waiter of this.#waiters) next = Math.min(next, waiter.deadline);
    if (next !== Infinity) this.#armTimer(next);
  }

  close(): void {
    if (this.#sweep) clearTimeout(this.#sweep);
    if (this.#timer) clearTimeout(this.#timer);
    this.#sweep = null;
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  #arm(leaseEnd: number): void {
    this.#sweep = setTimeout(() => this.#sweepNow(), Math.max(0, leaseEnd - this.#marginMs - Date.now()));
    this.#sweep.unref();
  }

  #sweepNow(): void {
    this.#sweep = null;
    const now = Date.now();
    for (const stale of this.drop((d) => d.leaseEnd - this.#marginMs <= now)) stale.releaseNow();
    const oldest = this.#items[0];
    if (oldest) this.#arm(oldest.leaseEnd);
  }
}
