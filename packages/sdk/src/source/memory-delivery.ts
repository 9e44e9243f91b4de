import { IllegalStateError, LeaseLostError } from "../errors.js";
import type { HeapEntry } from "./deadline-heap.js";
import type { Delivery, ReleaseOptions } from "./source.js";

export type ItemState = "waiting" | "leased" | "delayed" | "done";

/** One message of the memory source. It sits in one place: the ready list (waiting) or the deadline heap (leased, delayed). */
export class Item implements HeapEntry {
  /** Next in the ready list. */
  next: Item | undefined = undefined;
  state: ItemState = "waiting";
  attempt = 1;
  /** The last checkpoint stored for this message; dropped on ack and fail. */
  checkpoint: string | undefined = undefined;
  /** Bumped on every lease; a delivery keeps the token it was leased with, so a stale one is detected. */
  token = 0;
  /** Lease expiry (leased) or ready time (delayed), on the performance.now() clock. */
  deadline = 0;
  heapIndex = -1;
  constructor(
    readonly id: string,
    readonly payload: unknown,
  ) {}
}

/** What a delivery may ask of its queue: the narrow side of the memory source. */
export interface LeaseLedger {
  /** True while `token` holds the item's lease; a lease found past its deadline is expired on the spot. */
  holds(item: Item, token: number): boolean;
  renew(item: Item, ms: number): void;
  settleAck(item: Item, result: unknown): void;
  settleRelease(item: Item, delayMs: number): void;
  settleFail(item: Item, error: Error): void;
}

/** One lease of one item. A class rather than closures: deliveries are made at benchmark rates. */
export class MemoryDelivery implements Delivery {
  readonly id: string;
  readonly payload: unknown;
  readonly attempt: number;
  readonly lastCheckpoint: string | undefined;
  readonly #ledger: LeaseLedger;
  readonly #item: Item;
  readonly #token: number;
  #settledBy: "ack" | "release" | "fail" | undefined;

  constructor(ledger: LeaseLedger, item: Item) {
    this.id = item.id;
    this.payload = item.payload;
    this.attempt = item.attempt;
    this.lastCheckpoint = item.checkpoint;
    this.#ledger = ledger;
    this.#item = item;
    this.#token = item.token;
  }

  async extend(ms: number): Promise<void> {
    if (!(ms > 0 && Number.isFinite(ms))) {
      throw new RangeError(`memory source extend(ms): ms must be a positive finite number, got ${ms}`);
    }
    this.#assertHeld("extend");
    this.#ledger.renew(this.#item, ms);
  }

  async checkpoint(data: string): Promise<void> {
    this.#assertHeld("checkpoint");
    this.#item.checkpoint = data;
  }

  async ack(result?: unknown): Promise<void> {
    this.#assertHeld("ack");
    this.#ledger.settleAck(this.#item, result);
    this.#settledBy = "ack";
  }

  async release(options?: ReleaseOptions): Promise<void> {
    const delayMs = options?.delayMs ?? 0;
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) {
      throw new RangeError(`memory source release(): delayMs must be a finite number of ms >= 0, got ${delayMs}`);
    }
    this.#assertUnsettled("release");
    // After a lost lease the message is already back in the queue (or with its next holder):
    // nothing is left to hand back, and touching it would take it from that holder.
    if (this.#ledger.holds(this.#item, this.#token)) this.#ledger.settleRelease(this.#item, delayMs);
    this.#settledBy = "release";
  }

  async fail(error: Error): Promise<void> {
    this.#assertHeld("fail");
    this.#ledger.settleFail(this.#item, error);
    this.#settledBy = "fail";
  }

  #assertUnsettled(op: string): void {
    // The runtime settles each delivery once; the reference source makes a second settle loud.
    if (this.#settledBy !== undefined) {
      throw new IllegalStateError(`memory source: ${op}() on delivery ${this.id}, already settled by ${this.#settledBy}()`);
    }
  }

  #assertHeld(op: string): void {
    this.#assertUnsettled(op);
    if (!this.#ledger.holds(this.#item, this.#token)) {
      throw new LeaseLostError(`memory source: ${op}() on delivery ${this.id}: its lease expired and the message went back to the queue`);
    }
  }
}
