import type { Channel, Message } from "amqplib";

/**
 * Where a delivery tag stands on its channel. open: with us (buffered, running, waiting on a
 * delayed release or a retry's confirm); due: ack() asked for, not written yet; done: acked,
 * nacked or rejected on the wire.
 */
type TagState = "open" | "due" | "done";

interface Tag {
  readonly message: Message;
  state: TagState;
}

/**
 * Every delivery tag of one channel from delivery to settlement, and the acks, coalesced: acks
 * asked for in one turn of the event loop go out at its end (setImmediate), as one `basic.ack`
 * with `multiple` for the longest run of tags from the oldest unsettled one that are all acked or
 * settled already, and one plain ack each for the rest.
 *
 * A multiple ack settles every tag up to it that the broker still counts as unacknowledged, so it
 * is only ever sent over tags this channel has settled itself: a tag still open (a running job, a
 * delayed release, a retry awaiting its confirm) ends the run, and a nack or reject was written
 * before (the channel keeps the order), so the broker no longer counts it. The broker numbers
 * tags 1, 2, 3… per channel; should a tag ever be skipped (one never seen here, which could not be
 * told from a settled one), coalescing stops on that channel and every ack goes out alone.
 */
export class Settlements {
  readonly #channel: Channel;
  /** Tags in delivery order (#tags[i] is tag #base + i); those before #head are done. */
  #tags: Tag[] = [];
  #head = 0;
  #base = 1;
  /** The tag the next delivery should carry. */
  #next = 1;
  /** A tag was skipped: no more multiple acks on this channel. */
  #untracked = false;
  #due: Tag[] = [];
  #flushing: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | null = null;
  #closed: Error | null = null;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  /** A message came on this channel. */
  delivered(message: Message): void {
    if (this.#untracked) return;
    if (message.fields.deliveryTag !== this.#next) {
      this.#untracked = true;
      return;
    }
    this.#tags.push({ message, state: "open" });
    this.#next++;
  }

  /**
   * Ack `message` at the end of this turn. Resolves once the ack (alone or in a multiple ack) was
   * written to the channel, as `channel.ack` is: a write, not the broker's word. Rejects when the
   * channel closed first or the write threw.
   */
  ack(message: Message): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    const entry = this.#untracked ? undefined : this.#entry(message);
    if (!entry) {
      // Not tracked: acked alone, at once, never swept up.
      this.#channel.ack(message, false);
      return Promise.resolve();
    }
    entry.state = "due";
    this.#due.push(entry);
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
    const entry = this.#entry(message);
    // Marked first: even when the write throws (the channel closed) the broker has it back.
    if (entry) entry.state = "done";
    this.#channel.nack(message, false, requeue);
  }

  /** Write every due ack now (also before the channel closes). */
  flush(): void {
    const flushing = this.#flushing;
    this.#flushing = null;
    if (this.#due.length === 0) {
      flushing?.resolve();
      return;
    }
    const due = this.#due;
    this.#due = [];
    try {
      // The run from the oldest unsettled tag over tags that are all due or done.
      let last: Tag | null = null;
      let i = this.#head;
      while (i < this.#tags.length) {
        const entry = this.#tags[i] as Tag;
        if (entry.state === "open") break;
        if (entry.state === "due") last = entry;
        i++;
      }
      if (last && !this.#untracked) {
        for (let k = this.#head; k < i; k++) (this.#tags[k] as Tag).state = "done";
        this.#channel.ack(last.message, true);
      }
      for (const entry of due) {
        if (entry.state !== "due") continue;
        entry.state = "done";
        this.#channel.ack(entry.message, false);
      }
      this.#compact();
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
    flushing?.reject(reason);
  }

  #entry(message: Message): Tag | undefined {
    const entry = this.#tags[message.fields.deliveryTag - this.#base];
    return entry?.message === message ? entry : undefined;
  }

  /** Drop the settled tags at the front (the floor of the next multiple ack). */
  #compact(): void {
    let head = this.#head;
    while (head < this.#tags.length && (this.#tags[head] as Tag).state === "done") head++;
    this.#head = head;
    // Shift the array only now and then, so dropping the front costs O(1) a tag.
    if (head > 1024 && head * 2 > this.#tags.length) {
      this.#tags = this.#tags.slice(head);
      this.#base += head;
      this.#head = 0;
    }
  }
}
