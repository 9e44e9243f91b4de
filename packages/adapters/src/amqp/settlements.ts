import type { Channel, Message } from "amqplib";

/**
 * The delivery tags of one channel that are still open, and its acks, coalesced: acks asked for
 * in one turn of the event loop go out at its end (setImmediate), as one `basic.ack` with
 * `multiple` for the highest due tag below the oldest tag still open, and one plain ack each for
 * the due tags above that one.
 *
 * A multiple ack settles every tag up to it that the broker still counts as unacknowledged, so it
 * is only ever sent below the oldest open tag (a job running, a message held unstarted, a delayed
 * release, a retry awaiting its confirm): every tag there is due now or was acked, nacked or
 * rejected earlier, and those were written before (the channel keeps the order), so the broker no
 * longer counts them. Only open tags are kept, so a long job costs no memory. The broker numbers
 * tags 1, 2, 3… per channel; should a tag ever be skipped (one never seen here, which could not be
 * told from a settled one), coalescing stops on that channel and every ack goes out alone.
 */
export class Settlements {
  readonly #channel: Channel;
  /** Tags delivered and not yet settled nor due, in tag order (a Map keeps insertion order). */
  readonly #open = new Map<number, Message>();
  /** The tag the next delivery should carry. */
  #next = 1;
  /** A tag was skipped: no more multiple acks on this channel. */
  #untracked = false;
  /** Acks asked for this turn, not written yet. */
  #due: Message[] = [];
  #flushing: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | null = null;
  #closed: Error | null = null;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  /** A message came on this channel. */
  delivered(message: Message): void {
    if (this.#untracked) return;
    const tag = message.fields.deliveryTag;
    if (tag !== this.#next) {
      this.#untracked = true;
      return;
    }
    this.#next++;
    this.#open.set(tag, message);
  }

  /**
   * Ack `message` at the end of this turn. Resolves once the ack (alone or in a multiple ack) was
   * written to the channel, as `channel.ack` is: a write, not the broker's word. Rejects when the
   * channel closed first or the write threw.
   */
  ack(message: Message): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#untracked || this.#open.get(message.fields.deliveryTag) !== message) {
      // Not tracked: acked alone, at once, never swept up.
      this.#channel.ack(message, false);
      return Promise.resolve();
    }
    this.#open.delete(message.fields.deliveryTag);
    this.#due.push(message);
    if (!this.#flushing) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#flushing = { promise, resolve, reject };
      setImmediate(() => this.flush());
    }
    return this.#flushing.promise;
  }

  /** Nack (requeue or dead-letter) at once: written before any later multiple ack. */
  nack(message: Message, requeue: boolean): void {
    // Dropped first: even when the write throws (the channel closed) the broker has it back.
    if (this.#open.get(message.fields.deliveryTag) === message) this.#open.delete(message.fields.deliveryTag);
    this.#channel.nack(message, false, requeue);
  }

  /** Write every due ack now (also before the channel closes). */
  flush(): void {
    const flushing = this.#flushing;
    this.#flushing = null;
    const due = this.#due;
    this.#due = [];
    try {
      // Every tag below the oldest open one is settled here: one multiple ack for the highest due
      // tag below it; the due tags above it go one by one.
      const oldestOpen = this.#untracked ? 0 : (this.#open.keys().next().value ?? Infinity);
      let sweep: Message | null = null;
      for (const message of due) {
        const tag = message.fields.deliveryTag;
        if (tag < oldestOpen) {
          if (!sweep || tag > sweep.fields.deliveryTag) sweep = message;
        } else this.#channel.ack(message, false);
      }
      if (sweep) this.#channel.ack(sweep, true);
      flushing?.resolve();
    } catch (thrown) {
      flushing?.reject(thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
  }

  /** The channel closed: nothing more can be settled on it; acks not yet written fail. */
  close(reason: Error): void {
    this.#closed ??= reason;
    const flushing = this.#flushing;
    this.#flushing = null;
    this.#due = [];
    this.#open.clear();
    flushing?.reject(reason);
  }
}
