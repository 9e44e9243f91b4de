import { coerceError } from "@quiesce/sdk";
import { sqsLimits } from "./options.js";
import type { SqsDelivery } from "./sqs-delivery.js";

/** What the poller needs from its source. */
export interface PollerContext {
  /** One ReceiveMessage for up to `max` messages; `signal` aborts its long poll. */
  poll(max: number, signal: AbortSignal): Promise<SqsDelivery[]>;
  /** Make a held message visible again at once. */
  giveBack(delivery: SqsDelivery): Promise<void>;
  /** Renew a held message's visibility for `seconds`; false when its hold is gone. */
  renew(delivery: SqsDelivery, seconds: number): Promise<boolean>;
  /** Fixed ReceiveMessage size (prefetch), or null: ask for what the caller has room for. */
  readonly batchSize: number | null;
  readonly leaseMs: number;
}

/**
 * The receive side: long polls kept in flight to cover the free slots the runtime asks for, and
 * the messages they brought that no receive() has taken yet.
 *
 * A receive() whose signal aborts returns [] but leaves its poll running: whatever that poll
 * brings lands here and goes to the next receive(). Only `close()` (the drain) aborts polls,
 * which opens the orphan window: SQS cannot see a client leave, so an aborted poll can still take
 * a message server-side, which then stays hidden for the visibility asked on receive.
 *
 * FIFO: SQS may return several messages of one group in one answer. Only the first goes out; the
 * rest wait here, in order, until it is settled, and are renewed whenever it is (so they stay
 * hidden from other workers while their group is busy).
 */
export class Poller {
  readonly #ctx: PollerContext;
  #buffer: SqsDelivery[] = [];
  readonly #polls = new Map<Promise<void>, number>();
  #abort = new AbortController();
  #closed = false;
  #error: Error | null = null;
  /** FIFO group → the delivery of it that is out with the runtime. */
  readonly #busyGroups = new Map<string, SqsDelivery>();
  #waiters: (() => void)[] = [];
  /** The worker's concurrency, once start() told the source; null: size polls by what receive() asks. */
  #capacity: number | null = null;
  /** Handed out and not yet being settled: the jobs that still occupy a slot for a while. */
  readonly #running = new Set<SqsDelivery>();
  /** Messages the polls in flight ask for. */
  #covered = 0;
  #aheadScheduled = false;

  constructor(ctx: PollerContext) {
    this.#ctx = ctx;
  }

  /** The worker runs up to `concurrency` jobs at once. */
  setCapacity(concurrency: number): void {
    this.#capacity = concurrency;
  }

  /**
   * A handed-out job finished and its settle (a delete, mostly) began: its slot frees as soon as
   * that call answers. Once a full poll's worth of slots is about to free and no poll is out, the
   * next poll goes out now, alongside the settles, instead of one round trip after them.
   */
  finishing(delivery: SqsDelivery): void {
    if (!this.#running.delete(delivery) || this.#aheadScheduled || this.#closed || this.#capacity === null) return;
    // Once a turn, after the settles of this turn went out (the batcher sends them on setImmediate too).
    this.#aheadScheduled = true;
    setImmediate(() => {
      this.#aheadScheduled = false;
      // Only into an empty pipeline: with polls already out (several pollers' worth of
      // concurrency) their answers keep the slots fed, and more requests at once only cost CPU
      // (measured: 4 pollers' worth went from 155 to 179 µs a message with polls ahead on top).
      if (this.#closed || this.#capacity === null || this.#polls.size > 0) return;
      const room = this.#room(0);
      if (room - this.#covered >= Math.min(sqsLimits.maxBatch, this.#capacity)) this.#topUp(room);
    });
  }

  async take(max: number, signal: AbortSignal): Promise<SqsDelivery[]> {
    for (;;) {
      if (this.#closed || signal.aborted) return [];
      const picked = this.#pick(max);
      if (picked.length > 0) {
        const usable = await this.#freshen(picked);
        for (const delivery of usable) this.#running.add(delivery);
        if (usable.length > 0) return usable;
        continue;
      }
      const error = this.#error;
      if (error) {
        this.#error = null;
        throw error;
      }
      this.#topUp(this.#room(max));
      await this.#changed(signal);
    }
  }

  /** FIFO: renew what waits behind `delivery` in its group along with it. */
  renewGroup(groupId: string | undefined, seconds: number): void {
    if (groupId === undefined) return;
    for (const held of this.#buffer.filter((d) => d.groupId === groupId)) {
      const sentAt = Date.now();
      void this.#ctx.renew(held, seconds).then((ok) => {
        if (ok) held.clock.extended(sentAt, seconds);
        else this.#drop([held]);
      });
    }
  }

  /** A handed-out message was settled or lost: its group may move on (or, FIFO, must hand back what waits behind it). */
  settled(delivery: SqsDelivery, keepsGroupOrder: boolean): void {
    this.#running.delete(delivery);
    const group = delivery.groupId;
    if (group !== undefined) {
      if (this.#busyGroups.get(group) === delivery) this.#busyGroups.delete(group);
      // Released or failed: the message goes back ahead of the rest of its group, and those
      // must not run before it does.
      if (!keepsGroupOrder) this.#drop(this.#buffer.filter((d) => d.groupId === group));
    }
    this.#notify();
  }

  /** Abort every poll, hand back every held message, wake pending takes. Safe to call again. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    this.#notify();
    await Promise.all(this.#polls.keys());
    const held = this.#buffer.splice(0);
    await Promise.all(held.map((d) => this.#ctx.giveBack(d).catch(() => undefined)));
  }

  /** Take work again after close() (a start() after a pause). */
  reopen(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#abort = new AbortController();
  }

  /** Eligible held messages, in order: FIFO groups not busy, one per group. */
  #pick(max: number): SqsDelivery[] {
    const now = Date.now();
    // A holder whose visibility ran out no longer holds its group: SQS hands the message out
    // again, so what waited behind it (received with it or before) goes back too, and whatever
    // came after the lapse may go out.
    for (const [group, holder] of this.#busyGroups) {
      if (!holder.clock.lapsed(now)) continue;
      this.#busyGroups.delete(group);
      this.#drop(this.#buffer.filter((d) => d.groupId === group && d.clock.receivedAt <= holder.clock.receivedAt));
    }
    const picked: SqsDelivery[] = [];
    for (const delivery of this.#buffer) {
      if (picked.length >= max) break;
      const group = delivery.groupId;
      if (group !== undefined) {
        if (this.#busyGroups.has(group)) continue;
        this.#busyGroups.set(group, delivery);
      }
      picked.push(delivery);
    }
    const taken = new Set(picked);
    this.#buffer = this.#buffer.filter((d) => !taken.has(d));
    return picked;
  }

  /**
   * A message that waited here has less visibility left than the runtime assumes for a fresh
   * lease: renew it before handing it out, and never hand out one whose visibility ran out.
   */
  async #freshen(picked: SqsDelivery[]): Promise<SqsDelivery[]> {
    const now = Date.now();
    // Mostly all fresh (just received): no promise per message then.
    if (picked.every((d) => d.clock.remainingMs(now) >= this.#ctx.leaseMs / 2)) return picked;
    const seconds = Math.ceil(this.#ctx.leaseMs / 1000);
    const checked = await Promise.all(
      picked.map(async (delivery) => {
        if (delivery.clock.lapsed(now)) return false;
        if (delivery.clock.remainingMs(now) >= this.#ctx.leaseMs / 2) return true;
        const ok = await this.#ctx.renew(delivery, seconds);
        if (ok) delivery.clock.extended(now, seconds);
        return ok;
      }),
    );
    const usable = picked.filter((_, i) => checked[i]);
    const dropped = picked.filter((_, i) => !checked[i]);
    for (const delivery of dropped) this.settled(delivery, false);
    return usable;
  }

  /**
   * How many messages the worker can start soon: its free slots, counting those of jobs whose
   * settle is under way (the runtime lets go of them when it answers), less what is held here.
   * Never less than `asked`, the slots the runtime has free now.
   */
  #room(asked: number): number {
    if (this.#capacity === null) return asked;
    return Math.max(asked, this.#capacity - this.#running.size - this.#buffer.length);
  }

  /** Keep polls in flight for `want` messages, at most 10 a poll. */
  #topUp(want: number): void {
    while (this.#covered < want) {
      const size = this.#ctx.batchSize ?? Math.min(sqsLimits.maxBatch, want - this.#covered);
      this.#startPoll(size);
    }
  }

  #startPoll(size: number): void {
    this.#covered += size;
    const signal = this.#abort.signal;
    const poll = this.#ctx.poll(size, signal).then(
      (deliveries) => {
        this.#buffer.push(...deliveries);
      },
      (thrown: unknown) => {
        if (!signal.aborted) this.#error = coerceError(thrown);
      },
    );
    const tracked = poll.finally(() => {
      this.#polls.delete(tracked);
      this.#covered -= size;
      this.#notify();
    });
    this.#polls.set(tracked, size);
  }

  /** Hand messages back that can no longer go out (their hold is gone or their group moved on). */
  #drop(deliveries: SqsDelivery[]): void {
    if (deliveries.length === 0) return;
    const gone = new Set(deliveries);
    this.#buffer = this.#buffer.filter((d) => !gone.has(d));
    for (const delivery of deliveries) void this.#ctx.giveBack(delivery).catch(() => undefined);
  }

  #changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
