import type { ConsumeMessage, Options } from "amqplib";
import { IllegalStateError, SourceError, coerceError } from "@quiesce/sdk";
import type { Delivery, QueueDepth, Source, SourceStartContext, SourceStatus } from "@quiesce/sdk";
import { AmqpDelivery, type DeliveryHost } from "./amqp-delivery.js";
import { PrefetchBuffer } from "./buffer.js";
import { Link, bounded, describeUrl, unlessAborted } from "./connection.js";
import { loadAmqplib, type AmqplibModule } from "./load.js";
import { checkpointBound, readMessage } from "./message.js";
import type { ResolvedAmqpOptions } from "./options.js";
import { Retained } from "./retained.js";

/** Longest a release waits for the confirm of its checkpoint copy before it requeues the original. */
const releaseConfirmBoundMs = 2_000;

/** created → running ⇄ paused → stopped. Only receive() in running hands out messages. */
type State = "created" | "running" | "paused" | "stopped";

/**
 * A {@link Source} over one RabbitMQ queue: `basic.consume` with a prefetch into a bounded
 * buffer, acks and nacks on the channel each message came on, retries as confirmed republishes.
 *
 * The source never reconnects on its own: a lost connection fails the next receive(), and the
 * runtime's receive loop, which backs off and gives up after QUIESCE_SOURCE_FAILURE_MS, calls
 * receive() again, which reconnects. So there is one backoff schedule and no timer loop here.
 */
export class AmqpSource implements Source {
  readonly name: string;
  readonly leaseMs: number;
  readonly #options: ResolvedAmqpOptions;
  readonly #buffer: PrefetchBuffer;
  readonly #retained = new Retained();
  readonly #host: DeliveryHost;
  readonly #leaseSpanMs: number;
  #state: State = "created";
  #amqplib: AmqplibModule | null = null;
  #link: Link | null = null;
  #consumerTag: string | null = null;
  #connecting: Promise<void> | null = null;
  #subscribing: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  /** Why the link failed while running; the next receive() reports it once. */
  #failure: SourceError | null = null;
  #blocked: string | null = null;
  #unblocked: Array<() => void> = [];
  #prefetch = 1;

  constructor(options: ResolvedAmqpOptions) {
    this.#options = options;
    this.name = options.queue;
    // extend() is a health check, not I/O: the lease keeper calls it about every checkIntervalMs.
    this.leaseMs = 2 * options.checkIntervalMs;
    // The broker times from when it sent the message; leave room for that and for one check.
    this.#leaseSpanMs = options.consumerTimeoutMs - Math.min(5_000, Math.floor(options.consumerTimeoutMs / 10));
    this.#buffer = new PrefetchBuffer(this.leaseMs);
    this.#host = {
      queue: options.queue,
      maxAttempts: options.maxAttempts,
      settled: (delivery) => this.#retained.settled(delivery),
      republish: (delivery, properties, purpose) => this.#republish(delivery, properties, purpose),
      releaseLater: (delivery, ms) => this.#retained.releaseLater(delivery, Math.min(ms, Math.max(0, delivery.leaseEnd - Date.now()))),
    };
  }

  start(context?: SourceStartContext): Promise<void> {
    if (this.#state === "stopped") return Promise.reject(new IllegalStateError(`RabbitMQ source "${this.name}": start() after stop()`));
    this.#prefetch = this.#options.prefetch ?? context?.concurrency ?? this.#prefetch;
    // Started again after a pause: take work again.
    if (this.#state === "paused") this.#state = "running";
    return this.#ensureLink();
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`RabbitMQ source receive(max): max must be a positive integer, got ${max}`);
    if (this.#state === "created" || this.#state === "stopped") {
      throw new IllegalStateError(`RabbitMQ source "${this.name}": receive() while ${this.#state}: ${this.#state === "stopped" ? "it was stopped" : "call start() first"}`);
    }
    const deadline = performance.now() + this.#options.pollTimeoutMs;
    for (;;) {
      if (this.#state !== "running" || signal.aborted) return [];
      const failure = this.#failure;
      if (failure) {
        this.#failure = null;
        throw failure;
      }
      if (!this.#link?.alive || this.#consumerTag === null) {
        // A reconnect can take up to connectTimeoutMs; an abort (the drain) must not wait for it.
        await unlessAborted(this.#ensureLink(), signal);
        continue;
      }
      // A memory or disk alarm: hand out nothing new until the broker unblocks us.
      if (this.#blocked === null && this.#buffer.size > 0) {
        const taken = this.#buffer.take(max);
        if (taken.length > 0) {
          for (const delivery of taken) this.#retained.handedOut(delivery);
          return taken;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0 || (await this.#buffer.wait(signal, left)) === "timeout") return [];
    }
  }

  async pause(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "paused";
    this.#buffer.wake();
    await this.#unsubscribe();
  }

  async depth(): Promise<QueueDepth> {
    const link = this.#link;
    if (!link?.alive) throw new SourceError(`RabbitMQ checkQueue failed for queue "${this.name}": not connected${this.#reason()}`);
    let messageCount: number;
    try {
      ({ messageCount } = await bounded(link.channel.checkQueue(this.name), this.#options.connectTimeoutMs, () => `no answer within ${this.#options.connectTimeoutMs} ms`));
    } catch (thrown) {
      throw new SourceError(`RabbitMQ checkQueue failed for queue "${this.name}": ${coerceError(thrown).message}`, { cause: thrown });
    }
    // What this worker holds unstarted is as good as waiting: it goes to whoever asks first.
    return { waiting: messageCount + this.#buffer.size, inFlight: this.#retained.outstanding };
  }

  status(): SourceStatus {
    return { connected: this.#link?.alive === true, blocked: this.#blocked };
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  /** Connected and, while running, consuming: reconnect or resubscribe as needed. */
  #ensureLink(): Promise<void> {
    const link = this.#link;
    if (link?.alive && !this.#connecting) return this.#state === "running" ? this.#subscribe(link) : Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const options = this.#options;
    this.#amqplib ??= await loadAmqplib();
    if (this.#link) await this.#dropLink(this.#link);
    const where = options.connection ? "the connection passed in" : describeUrl(options.url ?? "amqp://localhost");
    let link: Link;
    try {
      link = await Link.open(this.#amqplib, options, options.connectTimeoutMs, {
        closed: (closed, reason) => this.#onLinkClosed(closed, reason),
        blocked: (reason) => this.#onBlocked(reason),
      });
    } catch (thrown) {
      throw new SourceError(`RabbitMQ connect failed for queue "${this.name}" at ${where}: ${coerceError(thrown).message}`, { cause: thrown });
    }
    try {
      const bound = (): string => `no answer within ${options.connectTimeoutMs} ms`;
      const { channel } = link;
      if (options.assert) await bounded(channel.assertQueue(this.name, { durable: options.assert.durable, arguments: options.assert.arguments }), options.connectTimeoutMs, bound);
      else await bounded(channel.checkQueue(this.name), options.connectTimeoutMs, bound);
      await bounded(channel.prefetch(this.#prefetch), options.connectTimeoutMs, bound);
    } catch (thrown) {
      await link.close();
      const hint = options.assert ? "" : " (it must exist: declare it, or give the assert option)";
      throw new SourceError(`RabbitMQ ${options.assert ? "assertQueue" : "checkQueue"} failed for queue "${this.name}"${hint}: ${coerceError(thrown).message}`, { cause: thrown });
    }
    this.#link = link;
    this.#blocked = null;
    this.#failure = null;
    if (this.#state === "created") this.#state = "running";
    if (this.#state === "running") await this.#subscribe(link);
    else if (this.#state === "stopped") await this.#dropLink(link);
  }

  #subscribe(link: Link): Promise<void> {
    if (this.#consumerTag !== null) return Promise.resolve();
    // One basic.consume at a time: two would make two consumers on the channel.
    this.#subscribing ??= this.#consume(link).finally(() => {
      this.#subscribing = null;
    });
    return this.#subscribing;
  }

  async #consume(link: Link): Promise<void> {
    try {
      const { consumerTag } = await bounded(
        link.channel.consume(this.name, (message) => this.#onMessage(link, message), { noAck: false }),
        this.#options.connectTimeoutMs,
        () => `no answer within ${this.#options.connectTimeoutMs} ms`,
      );
      if (link === this.#link && link.alive) this.#consumerTag = consumerTag;
    } catch (thrown) {
      await this.#dropLink(link);
      throw new SourceError(`RabbitMQ consume failed on queue "${this.name}": ${coerceError(thrown).message}`, { cause: thrown });
    }
  }

  /** Cancel the consumer (nothing new arrives), then requeue at once what was held unstarted. */
  async #unsubscribe(): Promise<void> {
    const link = this.#link;
    const tag = this.#consumerTag;
    this.#consumerTag = null;
    // basic.cancel goes out before the nacks below, so the broker does not hand them back to us.
    const cancelled = link?.alive && tag !== null ? bounded(link.channel.cancel(tag), this.#options.connectTimeoutMs, () => "cancel timed out").catch(() => undefined) : undefined;
    for (const delivery of this.#buffer.drop()) delivery.releaseNow();
    await cancelled;
  }

  #onMessage(link: Link, message: ConsumeMessage | null): void {
    // Every tag is recorded, even one left unsettled here: a multiple ack must never sweep it up.
    if (message) link.settlements.delivered(message);
    if (link !== this.#link || !link.alive) return;
    if (message === null) {
      // basic.cancel from the broker: the queue was deleted (or this consumer removed) under us.
      this.#consumerTag = null;
      this.#fail(new SourceError(`RabbitMQ cancelled the consumer on queue "${this.name}": the queue was deleted or the consumer was removed by the broker`));
      void this.#dropLink(link);
      return;
    }
    const facts = readMessage(message, this.name, () => `${this.name}#${link.id}.${message.fields.deliveryTag}`, this.#options.decode);
    const delivery = new AmqpDelivery(message, facts, link, Date.now() + this.#leaseSpanMs, this.#host, checkpointBound(link.frameMax));
    // Paused or stopping: whatever still arrives goes straight back.
    if (this.#state !== "running") delivery.releaseNow();
    else this.#buffer.push(delivery);
  }

  #onLinkClosed(link: Link, reason: Error): void {
    if (link !== this.#link) return;
    this.#consumerTag = null;
    this.#onBlocked(null);
    // The broker takes back everything that came on this channel; none of it can be settled here.
    this.#buffer.drop((d) => d.link === link);
    this.#retained.forget(link);
    if (this.#state === "running") this.#fail(new SourceError(`RabbitMQ: the link to the broker for queue "${this.name}" closed: ${reason.message}`, { cause: reason }));
  }

  #onBlocked(reason: string | null): void {
    this.#blocked = reason;
    if (reason !== null) return;
    for (const resolve of this.#unblocked.splice(0)) resolve();
    this.#buffer.wake();
  }

  #fail(error: SourceError): void {
    this.#failure = error;
    this.#buffer.wake();
  }

  async #republish(delivery: AmqpDelivery, properties: Options.Publish, purpose: "retry" | "release"): Promise<void> {
    // A publish on a blocked connection stops the broker reading from it, acks included: a retry
    // waits; a release is on the drain's clock, so it requeues the original instead.
    if (this.#blocked !== null) {
      if (purpose === "release") throw new Error(`the broker blocks publishing (${this.#blocked})`);
      await new Promise<void>((resolve) => this.#unblocked.push(resolve));
    }
    const { link, message } = delivery;
    if (!link.alive) throw new Error(`the channel closed (${link.closeReason?.message ?? "closed"})`);
    const confirmed = new Promise<void>((resolve, reject) => {
      // The default exchange routes by queue name: the copy goes to this queue only, not to
      // whatever else the original exchange was bound to.
      link.channel.publish("", this.name, message.content, properties, (error: unknown) => (error ? reject(coerceError(error)) : resolve()));
    });
    // A release must leave time before the deadline's SIGKILL to requeue the original instead.
    const boundMs = purpose === "release" ? Math.min(this.#options.connectTimeoutMs, releaseConfirmBoundMs) : this.#options.connectTimeoutMs;
    await bounded(confirmed, boundMs, () => `the broker did not confirm within ${boundMs} ms`);
  }

  async #dropLink(link: Link): Promise<void> {
    if (this.#link === link) {
      this.#link = null;
      this.#consumerTag = null;
      this.#buffer.drop((d) => d.link === link);
      this.#retained.forget(link);
    }
    await link.close();
  }

  async #close(): Promise<void> {
    this.#state = "stopped";
    this.#buffer.wake();
    await this.#connecting?.catch(() => undefined);
    this.#retained.releaseAll();
    await this.#unsubscribe();
    this.#buffer.close();
    const link = this.#link;
    this.#link = null;
    const errors = link ? await link.close() : [];
    // A retry waiting for an alarm to clear gives up: its channel is gone.
    for (const resolve of this.#unblocked.splice(0)) resolve();
    if (errors.length === 1) throw new SourceError(`RabbitMQ stop failed for queue "${this.name}": ${errors[0]?.message}`, { cause: errors[0] });
    if (errors.length > 1) throw new AggregateError(errors, `RabbitMQ stop failed for queue "${this.name}": ${errors.map((e) => e.message).join("; ")}`);
  }

  #reason(): string {
    return this.#link?.closeReason ? ` (${this.#link.closeReason.message})` : "";
  }
}
