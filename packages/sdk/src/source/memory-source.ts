import { IllegalStateError } from "../errors.js";
import { check, nonNegativeMs, optional, positiveInt, positiveMs } from "../internal/validate.js";
import { DeadlineHeap } from "./deadline-heap.js";
import { Item, MemoryDelivery, type LeaseLedger } from "./memory-delivery.js";
import type { Delivery, QueueDepth, Source } from "./source.js";

export interface MemorySourceOptions {
  /** Queue name (the `queue` metric label). @defaultValue "memory" */
  readonly name?: string;
  /** How long a lease lasts unrenewed, in ms; then the message is handed out again. @defaultValue 30000 */
  readonly leaseMs?: number;
  /**
   * Deliveries per message that may end in `fail()` before it goes to the dead letters. A release
   * or a lease that ran out is an interruption, not a failure: it does not count. @defaultValue 3
   */
  readonly maxAttempts?: number;
  /** How long an empty `receive()` waits for work before resolving `[]`, in ms. @defaultValue 1000 */
  readonly pollMs?: number;
  /** How long a failed message waits before it is ready again, in ms. @defaultValue 0 */
  readonly retryDelayMs?: number;
  /** How many acked jobs `completed()` remembers, newest kept (bounds memory in benchmarks). @defaultValue 10000 */
  readonly keepCompleted?: number;
}

export interface AddOptions {
  /** Make the message ready only after this many ms. @defaultValue 0 */
  readonly delayMs?: number;
}
export interface DeadLetter {
  readonly id: string;
  readonly payload: unknown;
  readonly attempts: number;
  /** Message of the error passed to the last `fail()`. */
  readonly error: string;
}
export interface CompletedJob {
  readonly id: string;
  /** What the handler returned (the value passed to `ack`). */
  readonly result: unknown;
}
export interface MemorySnapshot extends Required<QueueDepth> {
  /** Acked since creation (all of them, not only those `completed()` remembers). */
  readonly completed: number;
  readonly deadLettered: number;
}

/** The embedded queue: a {@link Source} you fill with `add()`, and the reference implementation of the contract. */
export interface MemorySource extends Source {
  /** Enqueue a message; returns its id. Works in any state: the queue outlives start/stop. */
  add(payload: unknown, options?: AddOptions): string;
  addMany(payloads: Iterable<unknown>, options?: AddOptions): string[];
  /** Messages that exhausted `maxAttempts`, oldest first. */
  deadLetters(): DeadLetter[];
  /** The most recent acked jobs, oldest first. */
  completed(): CompletedJob[];
  snapshot(): MemorySnapshot;
  /** Stop handing out work and wake pending receives with `[]`; `start()` resumes. */
  pause(): Promise<void>;
  depth(): Promise<Required<QueueDepth>>;
}

export function createMemorySource(options: MemorySourceOptions = {}): MemorySource {
  return new MemoryQueue(options);
}

const keepCount = check("an integer >= 0 or Infinity", (value) =>
  value === Infinity || (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) ? value : undefined,
);

// Node clamps longer timeouts to 1 ms, which would turn a long lease into a busy loop.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Receive is O(max), add/ack/release O(1) plus O(log n) in the deadline heap, where n is what is
 * leased or delayed (small next to the queue). One timer, armed for the earliest deadline, serves
 * every lease expiry and delay, and is re-armed only when an earlier deadline appears.
 */
class MemoryQueue implements MemorySource, LeaseLedger {
  readonly name: string;
  readonly leaseMs: number;
  readonly #maxAttempts: number;
  readonly #pollMs: number;
  readonly #retryDelayMs: number;
  readonly #keepCompleted: number;
  #state: "created" | "running" | "paused" | "stopped" = "created";
  #seq = 0;
  // FIFO ready list, linked through Item.next: no array shifting, no per-item node objects.
  #head: Item | undefined;
  #tail: Item | undefined;
  #waiting = 0;
  #leased = 0;
  readonly #heap = new DeadlineHeap<Item>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  readonly #receivers = new Set<Receiver>();
  #wakeQueued = false;
  readonly #completed: CompletedJob[] = [];
  #completedCount = 0;
  readonly #deadLetters: DeadLetter[] = [];

  constructor(options: MemorySourceOptions) {
    this.name = options.name ?? "memory";
    const where = "memory source";
    this.leaseMs = optional(positiveMs, `${where} leaseMs`, options.leaseMs, 30_000);
    this.#maxAttempts = optional(positiveInt, `${where} maxAttempts`, options.maxAttempts, 3);
    this.#pollMs = optional(nonNegativeMs, `${where} pollMs`, options.pollMs, 1_000);
    this.#retryDelayMs = optional(nonNegativeMs, `${where} retryDelayMs`, options.retryDelayMs, 0);
    this.#keepCompleted = optional(keepCount, `${where} keepCompleted`, options.keepCompleted, 10_000);
  }

  async start(): Promise<void> {
    this.#state = "running";
    this.#arm();
    this.#wakeSoon();
  }

  receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    if (!Number.isInteger(max) || max < 1) {
      return Promise.reject(new RangeError(`memory source receive(max): max must be a positive integer, got ${max}`));
    }
    if (this.#state === "created" || this.#state === "stopped") {
      const hint = this.#state === "created" ? "call start() first" : "it was stopped";
      return Promise.reject(new IllegalStateError(`memory source "${this.name}": receive() while ${this.#state}: ${hint}`));
    }
    if (this.#state === "paused" || signal.aborted) return Promise.resolve([]);
    if (this.#waiting > 0) return Promise.resolve(this.#lease(max));
    return new Promise((resolve) => this.#receivers.add(new Receiver(this.#receivers, max, signal, resolve, this.#pollMs)));
  }

  async pause(): Promise<void> {
    if (this.#state === "running") this.#state = "paused";
    this.#flushReceivers();
  }

  async stop(): Promise<void> {
    this.#state = "stopped";
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#flushReceivers();
  }

  async depth(): Promise<Required<QueueDepth>> {
    return { waiting: this.#waiting, inFlight: this.#leased, delayed: this.#heap.size - this.#leased };
  }

  snapshot(): MemorySnapshot {
    const delayed = this.#heap.size - this.#leased;
    return { waiting: this.#waiting, inFlight: this.#leased, delayed, completed: this.#completedCount, deadLettered: this.#deadLetters.length };
  }

  add(payload: unknown, options?: AddOptions): string {
    const delayMs = options?.delayMs ?? 0;
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) {
      throw new RangeError(`memory source add(): delayMs must be a finite number of ms >= 0, got ${delayMs}`);
    }
    const item = new Item(String(++this.#seq), payload);
    if (delayMs > 0) this.#delay(item, delayMs);
    else this.#ready(item, false);
    return item.id;
  }

  addMany(payloads: Iterable<unknown>, options?: AddOptions): string[] {
    const ids: string[] = [];
    for (const payload of payloads) ids.push(this.add(payload, options));
    return ids;
  }

  deadLetters(): DeadLetter[] {
    return this.#deadLetters.slice();
  }

  completed(): CompletedJob[] {
    return this.#keepCompleted === 0 ? [] : this.#completed.slice(-this.#keepCompleted);
  }

  // ---- LeaseLedger: used by MemoryDelivery; the class is not exported, so these stay off the public type ----

  holds(item: Item, token: number): boolean {
    if (item.token !== token || item.state !== "leased") return false;
    if (item.deadline > performance.now()) return true;
    this.#unlease(item);
    this.#ready(item, true);
    return false;
  }

  renew(item: Item, ms: number): void {
    this.#heap.update(item, performance.now() + ms);
    this.#arm();
  }

  settleAck(item: Item, result: unknown): void {
    this.#unlease(item);
    item.checkpoint = undefined;
    item.state = "done";
    this.#completedCount++;
    if (this.#keepCompleted === 0) return;
    this.#completed.push({ id: item.id, result });
    // Trim in halves so remembering stays O(1) amortised.
    if (this.#completed.length >= 2 * this.#keepCompleted) this.#completed.splice(0, this.#keepCompleted);
  }

  settleRelease(item: Item, delayMs: number): void {
    this.#unlease(item);
    if (delayMs > 0) this.#delay(item, delayMs);
    else this.#ready(item, true);
  }

  settleFail(item: Item, error: Error): void {
    this.#unlease(item);
    // A retry starts from zero: the state a failed attempt checkpointed may be what made it fail.
    item.checkpoint = undefined;
    if (item.attempt >= this.#maxAttempts) {
      item.state = "done";
      this.#deadLetters.push({ id: item.id, payload: item.payload, attempts: item.attempt, error: error.message });
      return;
    }
    item.attempt++;
    if (this.#retryDelayMs > 0) this.#delay(item, this.#retryDelayMs);
    else this.#ready(item, false);
  }

  // ---- internals ----

  #lease(max: number): Delivery[] {
    const deadline = performance.now() + this.leaseMs;
    const out: Delivery[] = [];
    for (let item = this.#head; item !== undefined && out.length < max; item = this.#head) {
      this.#head = item.next;
      item.next = undefined;
      this.#waiting--;
      item.state = "leased";
      item.token++;
      this.#heap.push(item, deadline);
      this.#leased++;
      out.push(new MemoryDelivery(this, item));
    }
    if (this.#head === undefined) this.#tail = undefined;
    this.#arm();
    return out;
  }

  #unlease(item: Item): void {
    this.#heap.remove(item);
    this.#leased--;
  }

  /**
   * Make an item ready. Work handed back (release, lease expiry) goes to the front: it was first in
   * line already and may have been interrupted mid-way; retries and new work go to the back.
   */
  #ready(item: Item, front: boolean): void {
    item.state = "waiting";
    if (front) {
      item.next = this.#head;
      this.#head = item;
      this.#tail ??= item;
    } else {
      item.next = undefined;
      if (this.#tail) this.#tail.next = item;
      else this.#head = item;
      this.#tail = item;
    }
    this.#waiting++;
    this.#wakeSoon();
  }

  #delay(item: Item, ms: number): void {
    item.state = "delayed";
    this.#heap.push(item, performance.now() + ms);
    this.#arm();
  }

  /** Hand ready work to pending receives in a microtask, so a burst of adds fills whole batches. */
  #wakeSoon(): void {
    if (this.#wakeQueued || this.#receivers.size === 0) return;
    this.#wakeQueued = true;
    queueMicrotask(this.#wake);
  }

  readonly #wake = (): void => {
    this.#wakeQueued = false;
    if (this.#state !== "running") return;
    for (const receiver of this.#receivers) {
      if (this.#waiting === 0) break;
      receiver.finish(this.#lease(receiver.max));
    }
  };

  #flushReceivers(): void {
    for (const receiver of this.#receivers) receiver.finish([]);
  }

  /** Arm the one timer for the earliest deadline, unless it is already set to fire no later. */
  #arm(): void {
    if (this.#state !== "running" && this.#state !== "paused") return;
    const top = this.#heap.peek();
    if (top === undefined || top.deadline >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = top.deadline;
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(top.deadline - performance.now())));
    this.#timer = setTimeout(this.#onTimer, ms).unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    for (let top = this.#heap.peek(); top !== undefined && top.deadline <= now; top = this.#heap.peek()) {
      if (top.state === "leased") {
        this.#unlease(top);
        this.#ready(top, true);
      } else {
        this.#heap.remove(top);
        this.#ready(top, false);
      }
    }
    this.#arm();
  };
}

/** A pending receive: resolves with work when some arrives, or `[]` at the end of the poll window or on abort. */
class Receiver {
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly owner: Set<Receiver>,
    readonly max: number,
    readonly signal: AbortSignal,
    readonly resolve: (deliveries: Delivery[]) => void,
    pollMs: number,
  ) {
    this.#timer = setTimeout(this.cancel, pollMs).unref();
    signal.addEventListener("abort", this.cancel, { once: true });
  }

  readonly cancel = (): void => this.finish([]);

  finish(deliveries: Delivery[]): void {
    if (!this.owner.delete(this)) return;
    clearTimeout(this.#timer);
    this.signal.removeEventListener("abort", this.cancel);
    this.resolve(deliveries);
  }
}
