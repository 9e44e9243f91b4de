import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import { IllegalStateError, LeaseLostError, coerceError } from "@quiesce/sdk";
import type { Delivery, ReleaseOptions } from "@quiesce/sdk";
import type { EntryOutcome } from "./batcher.js";
import { copyAttributes, readCarried } from "./carried.js";
import { entryError, isLostLease, sqsError } from "./errors.js";
import type { LeaseClock} from "./lease-clock.js";
import { failureBackoffSeconds, toSeconds } from "./lease-clock.js";
import { sqsLimits, type SqsReleaseMode } from "./options.js";

export type SettledBy = "ack" | "release" | "fail";

/** What a delivery needs from its source: the batched calls and the queue's settings. */
export interface DeliveryHost {
  readonly releaseMode: SqsReleaseMode;
  /** FIFO queues never re-send (a copy would go behind the rest of its group): no checkpoint travels. */
  readonly fifo: boolean;
  /** The redrive policy's maxReceiveCount, when the queue has one. */
  readonly maxReceiveCount: number | null;
  readonly backoff: { readonly baseSeconds: number; readonly maxSeconds: number };
  changeVisibility(receiptHandle: string, seconds: number): Promise<EntryOutcome>;
  remove(receiptHandle: string): Promise<EntryOutcome>;
  /** SendMessage of a copy of `message`'s body with `attributes`, visible after `delaySeconds`. */
  resend(message: Message, attributes: Record<string, MessageAttributeValue>, delaySeconds: number): Promise<void>;
  /** A lease was renewed (FIFO: the messages held behind it in its group are renewed with it). */
  extended(delivery: SqsDelivery, seconds: number): void;
  /** The job is done and its settle is under way: its slot frees once that call answers. */
  finishing(delivery: SqsDelivery): void;
  /** The delivery was settled, or given up as lost (FIFO: its group may move on). */
  settled(delivery: SqsDelivery, how: SettledBy | "lost"): void;
}

/**
 * One received message under its receipt handle. The lease is the message's visibility; every
 * operation checks the local lease clock first, because SQS does not reliably refuse an old
 * handle: once the visibility ran out another worker may hold the message, and a delete with our
 * stale handle could take it from under that worker.
 */
export class SqsDelivery implements Delivery {
  readonly id: string;
  readonly payload: unknown;
  readonly attempt: number;
  readonly decodeError?: Error;
  /** SQS's ApproximateReceiveCount of this copy: what the redrive policy counts. */
  readonly receiveCount: number;
  /** The checkpoint the copy was re-sent with (standard queues). */
  readonly lastCheckpoint: string | undefined;
  readonly checkpointMaxBytes?: number;
  /** Standard queues only: see the constructor. */
  readonly checkpoint?: (data: string) => Promise<void>;
  /** FIFO message group, or undefined on a standard queue. */
  readonly groupId: string | undefined;
  readonly clock: LeaseClock;
  readonly #message: Message;
  readonly #handle: string;
  readonly #host: DeliveryHost;
  #settledBy: SettledBy | undefined;
  #notified = false;
  /** The producer's attributes: what a copy keeps. */
  readonly #own: Record<string, MessageAttributeValue>;
  /** The latest checkpoint of this run, carried by the copy a release re-sends. */
  #checkpoint: string | undefined;
  /** The extension in flight: a settle waits for it, so an extend can never land after a release. */
  #extending: Promise<unknown> | null = null;

  constructor(message: Message, clock: LeaseClock, host: DeliveryHost, decode: (body: string) => unknown) {
    const carried = readCarried(message);
    // A re-sent copy keeps the first one's id: the id a checkpoint store is keyed by.
    this.id = carried.id ?? message.MessageId ?? "";
    this.#message = message;
    this.#handle = message.ReceiptHandle ?? "";
    this.#host = host;
    this.clock = clock;
    this.#own = carried.own;
    // The receive count, which the redrive policy counts too: a release adds one, see releaseMode.
    // A copy starts counting again from the attempt it carries.
    this.receiveCount = Math.max(1, Number(message.Attributes?.ApproximateReceiveCount ?? 1) || 1);
    this.attempt = (carried.attempt ?? 1) + this.receiveCount - 1;
    this.lastCheckpoint = host.fifo ? undefined : carried.checkpoint;
    if (!host.fifo) {
      this.checkpointMaxBytes = carried.checkpointMaxBytes;
      // Kept in memory: the message cannot change in place, so the checkpoint travels with the
      // copy a release re-sends. A crash or a lapsed visibility loses it (the message comes back
      // as it was); a checkpoint store covers that. FIFO has no such method: there only a
      // store keeps checkpoints.
      this.checkpoint = (data) => this.#keep(data);
    }
    this.groupId = message.Attributes?.MessageGroupId;
    let payload: unknown;
    try {
      payload = decode(message.Body ?? "");
    } catch (thrown) {
      this.decodeError = new Error(`SQS message ${this.id}: the body does not decode: ${coerceError(thrown).message}`, { cause: thrown });
    }
    this.payload = payload;
  }

  async #keep(data: string): Promise<void> {
    if (this.#settledBy) throw new IllegalStateError(`SQS source: checkpoint() on message ${this.id}, which was already settled by ${this.#settledBy}()`);
    const now = Date.now();
    if (this.clock.lapsed(now)) throw this.#lost(`its visibility ran out ${now - this.clock.visibleAt} ms ago`);
    this.#checkpoint = data;
  }

  get receiptHandle(): string {
    return this.#handle;
  }

  extend(ms: number): Promise<void> {
    if (!(ms > 0 && Number.isFinite(ms))) return Promise.reject(new RangeError(`SQS source extend(ms): ms must be a positive finite number, got ${ms}`));
    if (this.#settledBy) return Promise.reject(new IllegalStateError(`SQS source: extend() on message ${this.id}, which was already settled by ${this.#settledBy}()`));
    const run = this.#extend(toSeconds(ms)).catch((thrown: unknown) => {
      // The runtime settles nothing after a lost lease: tell the source here.
      if (thrown instanceof LeaseLostError) this.#notify("lost");
      throw thrown;
    });
    this.#extending = run.catch(() => undefined);
    return run;
  }

  async #extend(seconds: number): Promise<void> {
    const sentAt = Date.now();
    if (this.clock.lapsed(sentAt)) throw this.#lost(`its visibility ran out ${sentAt - this.clock.visibleAt} ms ago`);
    if (this.clock.passesCap(sentAt, seconds)) {
      // Aborting now, while the message is still hidden, stops the job before SQS can hand the
      // message to anyone else at the cap.
      throw this.#lost(`SQS allows at most 12 h of visibility from the receive (received ${Math.round((sentAt - this.clock.receivedAt) / 60_000)} min ago)`);
    }
    let outcome: EntryOutcome;
    try {
      outcome = await this.#host.changeVisibility(this.#handle, seconds);
    } catch (thrown) {
      throw sqsError("ChangeMessageVisibility", `message ${this.id}`, thrown);
    }
    if (!outcome.ok) throw entryError("ChangeMessageVisibility", `message ${this.id}`, outcome.code, outcome.message);
    this.clock.extended(sentAt, seconds);
    this.#host.extended(this, seconds);
  }

  async ack(): Promise<void> {
    this.#claim("ack");
    if (this.#extending) await this.#extending;
    try {
      if (this.clock.lapsed(Date.now())) throw this.#lost("its visibility ran out before the delete; the message is not deleted by this worker");
      let outcome: EntryOutcome;
      try {
        const removing = this.#host.remove(this.#handle);
        // Queued first: the delete, which frees the slot, goes out ahead of the next poll.
        this.#host.finishing(this);
        outcome = await removing;
      } catch (thrown) {
        throw sqsError("DeleteMessage", `message ${this.id}`, thrown);
      }
      if (!outcome.ok) throw entryError("DeleteMessage", `message ${this.id}`, outcome.code, outcome.message);
    } finally {
      this.#notify("ack");
    }
  }

  async release(options?: ReleaseOptions): Promise<void> {
    const delayMs = options?.delayMs ?? 0;
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) throw new RangeError(`SQS source release(): delayMs must be a finite number of ms >= 0, got ${delayMs}`);
    this.#claim("release");
    if (this.#extending) await this.#extending;
    this.#host.finishing(this);
    try {
      // After a lapse the message is back on the queue already, or with its next holder.
      if (this.clock.lapsed(Date.now())) return;
      const seconds = Math.ceil(delayMs / 1000);
      // A release uses no attempt: the copy's first receive is on this one.
      const checkpoint = this.#checkpoint ?? this.lastCheckpoint;
      if (this.#host.releaseMode === "resend" || this.#checkpoint !== undefined) await this.#resend(seconds, this.attempt, checkpoint, () => this.#setVisibility("release", seconds));
      else await this.#setVisibility("release", Math.min(seconds, sqsLimits.maxVisibilitySeconds));
    } finally {
      this.#notify("release");
    }
  }

  async fail(_error: Error): Promise<void> {
    this.#claim("fail");
    if (this.#extending) await this.#extending;
    this.#host.finishing(this);
    try {
      if (this.clock.lapsed(Date.now())) return;
      const { maxReceiveCount, backoff } = this.#host;
      // The redrive policy counts receives; the backoff only spaces them. A message on its last
      // receive, or one whose body never decodes, gains nothing from waiting: back at once, and
      // the next receive moves it to the dead-letter queue.
      const last = this.decodeError !== undefined || (maxReceiveCount !== null && this.receiveCount >= maxReceiveCount);
      const seconds = last ? 0 : failureBackoffSeconds(this.attempt, backoff.baseSeconds, backoff.maxSeconds);
      const back = (): Promise<void> => this.#setVisibility("fail", seconds);
      // A retry starts from zero, but this copy carries a checkpoint a release put on it: re-send
      // it without. Not on the last receive: the redrive policy must see this copy's count.
      if (this.lastCheckpoint !== undefined && !last) await this.#resend(Math.min(seconds, sqsLimits.maxDelaySeconds), this.attempt + 1, undefined, back);
      else await back();
    } finally {
      this.#notify("fail");
    }
  }

  /**
   * Send the copy first, then delete: a crash between the two leaves a duplicate, never a loss.
   * The copy's first receive is on `attempt`; `fallback` hands the original back when no copy was
   * made (it counts a receive, and a checkpoint of this run is then only in a store, if any).
   */
  async #resend(delaySeconds: number, attempt: number, checkpoint: string | undefined, fallback: () => Promise<void>): Promise<void> {
    const attributes = copyAttributes(this.#own, { id: this.id, attempt, checkpoint });
    if (!attributes) {
      await fallback();
      return;
    }
    try {
      await this.#host.resend(this.#message, attributes, Math.min(delaySeconds, sqsLimits.maxDelaySeconds));
    } catch {
      await fallback();
      return;
    }
    let outcome: EntryOutcome;
    try {
      outcome = await this.#host.remove(this.#handle);
    } catch (thrown) {
      throw sqsError("DeleteMessage (after resend)", `message ${this.id}`, thrown);
    }
    // A lost hold here: the original came back already and now exists twice (at least once).
    if (!outcome.ok && !isLostLease(outcome.code, outcome.message)) {
      throw entryError("DeleteMessage (after resend)", `message ${this.id}`, outcome.code, outcome.message);
    }
  }

  async #setVisibility(op: "release" | "fail", seconds: number): Promise<void> {
    let outcome: EntryOutcome;
    try {
      outcome = await this.#host.changeVisibility(this.#handle, Math.min(seconds, sqsLimits.maxVisibilitySeconds));
    } catch (thrown) {
      throw sqsError(`ChangeMessageVisibility (${op})`, `message ${this.id}`, thrown);
    }
    if (outcome.ok) return;
    const error = entryError(`ChangeMessageVisibility (${op})`, `message ${this.id}`, outcome.code, outcome.message);
    // A lost hold means the message is already back on the queue: nothing to hand back.
    if (!(error instanceof LeaseLostError)) throw error;
  }

  #notify(how: SettledBy | "lost"): void {
    if (this.#notified) return;
    this.#notified = true;
    this.#host.settled(this, how);
  }

  #lost(why: string): LeaseLostError {
    return new LeaseLostError(`SQS message ${this.id}: lease lost: ${why}`);
  }

  #claim(op: SettledBy): void {
    // The runtime settles each delivery once; a second settle is a bug, and is made loud.
    if (this.#settledBy) throw new IllegalStateError(`SQS source: ${op}() on message ${this.id}, which was already settled by ${this.#settledBy}()`);
    this.#settledBy = op;
  }
}
