/** One entry's answer in a *Batch call: done, or the code and message SQS gave for it. */
export type EntryOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/** Sends up to `max` entries in one call; answers one outcome per entry, in order. Rejects when the whole call failed. */
export type BatchSend<E> = (entries: readonly E[]) => Promise<EntryOutcome[]>;

interface Pending<E> {
  readonly entry: E;
  resolve(outcome: EntryOutcome): void;
  reject(error: unknown): void;
}

/**
 * Coalesces single operations into *Batch calls. Entries added in the same turn of the event loop
 * (the lease keeper renews every due lease in one tick; a batch of no-op jobs acks together) go
 * out together, 10 a call; a full batch goes at once. Each caller gets its own entry's outcome:
 * a per-entry failure is that caller's, never hidden in a batch that "succeeded".
 */
export class Batcher<E> {
  readonly #send: BatchSend<E>;
  readonly #max: number;
  #queue: Pending<E>[] = [];
  #scheduled = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(send: BatchSend<E>, max: number) {
    this.#send = send;
    this.#max = max;
  }

  add(entry: E): Promise<EntryOutcome> {
    return new Promise<EntryOutcome>((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject });
      if (this.#queue.length >= this.#max) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Resolves once every call sent so far has answered. */
  async settled(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      this.#flush();
      await Promise.all(this.#inFlight);
    }
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#max);
      const call = this.#dispatch(batch);
      this.#inFlight.add(call);
      void call.finally(() => this.#inFlight.delete(call));
    }
  }

  async #dispatch(batch: Pending<E>[]): Promise<void> {
    let outcomes: EntryOutcome[];
    try {
      outcomes = await this.#send(batch.map((p) => p.entry));
    } catch (thrown) {
      for (const pending of batch) pending.reject(thrown);
      return;
    }
    batch.forEach((pending, i) => pending.resolve(outcomes[i] ?? { ok: false, code: "MissingEntry", message: "the batch answer left this entry out" }));
  }
}
