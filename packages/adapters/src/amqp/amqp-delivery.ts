import type { ConsumeMessage, Options } from "amqplib";
import { IllegalStateError, LeaseLostError, SourceError, coerceError } from "@quiesce/sdk";
import type { Delivery, ReleaseOptions } from "@quiesce/sdk";
import type { Link } from "./connection.js";
import { releaseProperties, retryProperties, tableBytes, type MessageFacts } from "./message.js";

/** What a delivery needs from its source. */
export interface DeliveryHost {
  readonly queue: string;
  readonly maxAttempts: number;
  /** The delivery left the source's hands (settled, or its lease given up). */
  settled(delivery: AmqpDelivery): void;
  /**
   * Put a copy of the message on the queue with `properties`, resolved once the broker confirmed
   * it. `purpose` "release" is on the clock (a drain deadline): it waits for no alarm to clear.
   */
  republish(delivery: AmqpDelivery, properties: Options.Publish, purpose: "retry" | "release"): Promise<void>;
  /** Nack with requeue after `ms` (the message stays unacked, and counts against the prefetch, until then). */
  releaseLater(delivery: AmqpDelivery, ms: number): void;
}

type SettledBy = "ack" | "release" | "fail" | "expired";

/** Room for a copy's properties besides the headers (short strings: ids, types) and the frame's own header. */
const otherPropertiesBytes = 2_048;

/**
 * One consumed message. AMQP has no per-message lease: the delivery is ours while the channel it
 * came on is open, up to the broker's consumer_timeout. `extend` checks both, and gives the
 * message back itself shortly before the timeout, while the channel is still healthy, rather than
 * let the broker close the channel under every other job on it.
 */
export class AmqpDelivery implements Delivery {
  readonly id: string;
  readonly payload: unknown;
  readonly attempt: number;
  readonly decodeError?: Error;
  /** The broker's redelivered flag: this message was handed out before (to anyone). */
  readonly redelivered: boolean;
  /** Quorum queues' x-delivery-count (previous deliveries), when present. */
  readonly deliveryCount: number | undefined;
  readonly message: ConsumeMessage;
  readonly link: Link;
  /** The checkpoint the previous delivery's release carried (a header), if any. */
  readonly lastCheckpoint: string | undefined;
  readonly checkpointMaxBytes: number;
  /** Epoch ms after which the lease cannot be held: receipt + consumer_timeout - margin. */
  readonly leaseEnd: number;
  readonly #host: DeliveryHost;
  #settledBy: SettledBy | undefined;
  /** The latest checkpoint of this run: carried by the copy a release re-publishes. */
  #checkpoint: string | undefined;

  constructor(message: ConsumeMessage, facts: MessageFacts, link: Link, leaseEnd: number, host: DeliveryHost, checkpointMaxBytes: number) {
    this.id = facts.id;
    this.payload = facts.payload;
    this.attempt = facts.attempt;
    if (facts.decodeError) this.decodeError = facts.decodeError;
    this.redelivered = message.fields.redelivered;
    this.deliveryCount = facts.deliveryCount;
    this.message = message;
    this.link = link;
    this.leaseEnd = leaseEnd;
    this.#host = host;
    this.lastCheckpoint = facts.checkpoint;
    this.checkpointMaxBytes = checkpointMaxBytes;
  }

  get settled(): boolean {
    return this.#settledBy !== undefined;
  }

  async extend(ms: number): Promise<void> {
    if (!(ms > 0 && Number.isFinite(ms))) throw new RangeError(`RabbitMQ source extend(ms): ms must be a positive finite number, got ${ms}`);
    if (this.#settledBy === "expired") throw this.#expiredError();
    if (this.#settledBy) throw new IllegalStateError(`RabbitMQ source: extend() on delivery ${this.id}, which was already settled by ${this.#settledBy}()`);
    if (!this.link.alive) throw this.#lostError();
    if (Date.now() + ms <= this.leaseEnd) return;
    // Held any longer, the broker's consumer_timeout would close the channel (PRECONDITION_FAILED)
    // and take every other job on it along. Give this one back now instead.
    this.#settledBy = "expired";
    this.#host.settled(this);
    void this.#handBack();
    throw this.#expiredError();
  }

  /**
   * Kept in memory only: the message cannot change in place, so the checkpoint travels with the
   * copy a release re-publishes. A crash loses it (the original comes back as it was); a
   * checkpoint store covers that.
   */
  async checkpoint(data: string): Promise<void> {
    if (this.#settledBy === "expired") throw this.#expiredError();
    if (this.#settledBy) throw new IllegalStateError(`RabbitMQ source: checkpoint() on delivery ${this.id}, which was already settled by ${this.#settledBy}()`);
    if (!this.link.alive) throw this.#lostError();
    this.#checkpoint = data;
  }

  async ack(): Promise<void> {
    this.#claim("ack");
    this.#host.settled(this);
    // An ack on another channel (or a reopened one) would name a delivery tag it never issued.
    if (!this.link.alive) throw this.#lostError();
    try {
      // Written at the end of this turn, perhaps as part of one multiple ack; resolved then.
      await this.link.settlements.ack(this.message);
    } catch (thrown) {
      throw new LeaseLostError(`RabbitMQ ack of message ${this.id} failed: ${coerceError(thrown).message} (the broker redelivers it)`, { cause: thrown });
    }
  }

  async release(options?: ReleaseOptions): Promise<void> {
    const delayMs = options?.delayMs ?? 0;
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) throw new RangeError(`RabbitMQ source release(): delayMs must be a finite number of ms >= 0, got ${delayMs}`);
    this.#claim("release");
    // After the channel closed the broker has the message back already: nothing to hand back.
    if (!this.link.alive) {
      this.#host.settled(this);
      return;
    }
    this.#host.settled(this);
    // A delayed release (never the runtime's) holds the message unacked and carries no checkpoint.
    if (delayMs > 0) this.#host.releaseLater(this, Math.ceil(delayMs));
    else await this.#handBack();
  }

  async fail(_error: Error): Promise<void> {
    this.#claim("fail");
    try {
      if (!this.link.alive) throw this.#lostError();
      // Undecodable bodies fail the same way on every attempt: straight to the dead-letter path.
      if (this.decodeError || this.attempt >= this.#host.maxAttempts) {
        this.#nack(false);
        return;
      }
      try {
        await this.#host.republish(this, retryProperties(this.message, this.id, this.attempt + 1), "retry");
      } catch (thrown) {
        // Not confirmed: the retry copy may not exist. The original goes back as it was (this
        // attempt is not counted) rather than be acked and perhaps lost.
        if (this.link.alive) this.#nack(true);
        throw new SourceError(`RabbitMQ republish of message ${this.id} for attempt ${this.attempt + 1} failed: ${coerceError(thrown).message}; requeued it unchanged`, { cause: thrown });
      }
      if (!this.link.alive) throw this.#lostError(" after its retry copy was confirmed; the broker redelivers the original too");
      await this.link.settlements.ack(this.message);
    } catch (thrown) {
      if (thrown instanceof LeaseLostError || thrown instanceof SourceError) throw thrown;
      throw new LeaseLostError(`RabbitMQ fail of message ${this.id}: ${coerceError(thrown).message}`, { cause: thrown });
    } finally {
      this.#host.settled(this);
    }
  }

  /**
   * Give the message back, with this run's checkpoint when it stored one: the copy first, confirmed,
   * then the ack of the original, so a crash in between leaves two copies, never none. An
   * unconfirmed copy falls back to the plain requeue (the checkpoint is then only in a store, if
   * any). Never rejects: the message is back on the queue either way.
   */
  async #handBack(): Promise<void> {
    const data = this.#checkpoint;
    // Without a new checkpoint the message goes back as it came, carrying the one it had.
    if (data === undefined) {
      this.#nack(true);
      return;
    }
    const properties = releaseProperties(this.message, this.id, data);
    // The producer's headers plus the checkpoint must fit in one frame with the other properties
    // (each a short string); a frame over frame_max would close the connection under every job.
    if (tableBytes(properties.headers as Record<string, unknown>) + otherPropertiesBytes > this.link.frameMax) {
      this.#nack(true);
      return;
    }
    try {
      await this.#host.republish(this, properties, "release");
    } catch {
      if (this.link.alive) this.#nack(true);
      return;
    }
    // A closed channel here: the broker redelivers the original as well (at least once).
    if (!this.link.alive) return;
    try {
      this.link.channel.ack(this.message);
    } catch {
      // Same: the channel closed meanwhile.
    }
  }

  /** Requeue now (a delayed release that is due, or the source stopping). */
  releaseNow(): void {
    if (this.link.alive) this.#nack(true);
  }

  #nack(requeue: boolean): void {
    try {
      this.link.settlements.nack(this.message, requeue);
    } catch {
      // The channel closed meanwhile: the broker has the message back either way.
    }
  }

  #claim(op: SettledBy): void {
    if (this.#settledBy === "expired") throw this.#expiredError();
    // The runtime settles each delivery once; a second settle is a bug, and is made loud.
    if (this.#settledBy) throw new IllegalStateError(`RabbitMQ source: ${op}() on delivery ${this.id}, which was already settled by ${this.#settledBy}()`);
    this.#settledBy = op;
  }

  #lostError(suffix = ""): LeaseLostError {
    const reason = this.link.closeReason?.message ?? "closed";
    return new LeaseLostError(`RabbitMQ: the channel that delivered message ${this.id} closed (${reason})${suffix}; the broker redelivers it`, { cause: this.link.closeReason });
  }

  #expiredError(): LeaseLostError {
    return new LeaseLostError(`RabbitMQ: message ${this.id} on queue "${this.#host.queue}" was held nearly as long as the broker's consumer_timeout allows; requeued before the broker closes the channel`);
  }
}
