import type { ChannelModel, ConfirmChannel, Options } from "amqplib";
import { coerceError } from "@quiesce/sdk";
import { expired, withBound } from "@quiesce/sdk/source-kit";
import type { AmqplibModule } from "./load.js";
import { redact } from "./options.js";
import { Settlements } from "./settlements.js";

/** Closing on a dead or stuck broker must not hold the drain: each close is bounded. */
const closeBoundMs = 2_000;

/** What the link reports to its source. */
export interface LinkEvents {
  /** The connection or the channel closed: every delivery on this link is no longer ours. */
  closed(link: Link, reason: Error): void;
  /** The broker blocked (reason) or unblocked (null) the connection: a memory or disk alarm. */
  blocked(reason: string | null): void;
}

let links = 0;

/** amqplib's and RabbitMQ's default frame_max. */
const defaultFrameMax = 131_072;

/**
 * One connection (owned, or the caller's) and the one confirm channel this source consumes,
 * acks and republishes on. Delivery tags belong to a channel: a delivery can only be settled on
 * the link it came from, and once the link closes the broker has taken it back.
 */
export class Link {
  readonly id = ++links;
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;
  readonly owned: boolean;
  /** The channel's delivery tags and its coalesced acks. */
  readonly settlements: Settlements;
  #closeReason: Error | null = null;
  #detach: () => void = () => undefined;

  private constructor(connection: ChannelModel, channel: ConfirmChannel, owned: boolean) {
    this.connection = connection;
    this.channel = channel;
    this.owned = owned;
    this.settlements = new Settlements(channel);
  }

  /** The frame_max the connection negotiated, in bytes: one frame holds all of a message's properties. */
  get frameMax(): number {
    const negotiated = (this.connection as unknown as { connection?: { frameMax?: unknown } }).connection?.frameMax;
    return typeof negotiated === "number" && negotiated > 0 && negotiated < 0xffffffff ? negotiated : defaultFrameMax;
  }

  get alive(): boolean {
    return this.#closeReason === null;
  }

  /** Why the link closed, once it has. */
  get closeReason(): Error | null {
    return this.#closeReason;
  }

  /**
   * Connect (or adopt `given`) and open the confirm channel. Rejects within `timeoutMs`; a
   * connection this made is closed again when the channel cannot be opened.
   */
  static async open(amqplib: AmqplibModule, target: { url: string | Options.Connect | null; connection: ChannelModel | null }, timeoutMs: number, events: LinkEvents): Promise<Link> {
    const owned = target.connection === null;
    let connection: ChannelModel;
    if (target.connection) connection = target.connection;
    else {
      const url = target.url ?? "amqp://localhost";
      const pending = amqplib.connect(url, { timeout: timeoutMs });
      connection = await bounded(pending, timeoutMs, () => `no connection to ${describeUrl(url)} within ${timeoutMs} ms`, (late) => void late.close().catch(() => undefined));
    }
    let channel: ConfirmChannel;
    try {
      channel = await bounded(connection.createConfirmChannel(), timeoutMs, () => `no channel within ${timeoutMs} ms`, (late) => void late.close().catch(() => undefined));
    } catch (thrown) {
      if (owned) await bounded(connection.close(), closeBoundMs, () => "close timed out").catch(() => undefined);
      throw thrown;
    }
    const link = new Link(connection, channel, owned);
    link.#attach(events);
    return link;
  }

  #attach(events: LinkEvents): void {
    const { connection, channel } = this;
    const lose = (reason: Error): void => {
      if (this.#closeReason) return;
      this.#closeReason = reason;
      this.settlements.close(reason);
      events.closed(this, reason);
    };
    // An 'error' comes before its 'close' and says why; without a listener amqplib's emitters
    // would throw it.
    let channelError: Error | null = null;
    let connectionError: Error | null = null;
    const onChannelError = (error: Error): void => void (channelError = error);
    const onChannelClose = (): void => lose(channelError ?? connectionError ?? new Error("the channel closed"));
    const onConnectionError = (error: Error): void => void (connectionError = error);
    const onConnectionClose = (error?: Error): void => lose(error ?? connectionError ?? new Error("the connection closed"));
    const onBlocked = (reason: string): void => events.blocked(String(reason || "blocked"));
    const onUnblocked = (): void => events.blocked(null);
    channel.on("error", onChannelError);
    channel.on("close", onChannelClose);
    connection.on("error", onConnectionError);
    connection.on("close", onConnectionClose);
    connection.on("blocked", onBlocked);
    connection.on("unblocked", onUnblocked);
    this.#detach = () => {
      connection.off("close", onConnectionClose);
      connection.off("blocked", onBlocked);
      connection.off("unblocked", onUnblocked);
      channel.off("close", onChannelClose);
      // On our own connection the error listeners stay: a late error from a closing socket must
      // not throw. A connection passed in keeps only its owner's, or each reopened channel would
      // leave one more behind on it.
      if (!this.owned) connection.off("error", onConnectionError);
    };
  }

  /** Channel first, then the connection if it is ours. Bounded; never throws for a dead broker. */
  async close(): Promise<Error[]> {
    const errors: Error[] = [];
    const wasAlive = this.alive;
    // Acks asked for before the close go out ahead of it.
    if (wasAlive) this.settlements.flush();
    this.#closeReason ??= new Error("the source closed the link");
    this.settlements.close(this.#closeReason);
    this.#detach();
    if (wasAlive) {
      await bounded(this.channel.close(), closeBoundMs, () => `channel close did not finish within ${closeBoundMs} ms`).catch((thrown: unknown) => {
        const error = coerceError(thrown);
        // Already closed by the broker or with the connection: nothing left to close.
        if (!/closed|closing/i.test(error.message)) errors.push(error);
      });
    }
    if (this.owned) {
      await bounded(this.connection.close(), closeBoundMs, () => `connection close did not finish within ${closeBoundMs} ms`).catch((thrown: unknown) => {
        const error = coerceError(thrown);
        if (!/closed|closing/i.test(error.message)) errors.push(error);
      });
    }
    return errors;
  }
}

/** The broker's address for messages, without credentials. */
export function describeUrl(url: string | Options.Connect): string {
  if (typeof url === "string") {
    try {
      const parsed = new URL(url);
      return `${parsed.hostname}:${parsed.port || (parsed.protocol === "amqps:" ? 5671 : 5672)}${parsed.pathname.length > 1 ? parsed.pathname : ""}`;
    } catch {
      return redact(url);
    }
  }
  return `${url.hostname ?? "localhost"}:${url.port ?? 5672}${url.vhost ? `/${url.vhost}` : ""}`;
}

/**
 * Await `promise` for at most `ms` (the SDK's bound), rejecting with `message` when the bound came
 * first; a value that still arrives after that (a connection, a channel) is handed to `late`.
 */
export async function bounded<T>(promise: Promise<T>, ms: number, message: () => string, late?: (value: T) => void): Promise<T> {
  const result = await withBound(promise, ms);
  if (result !== expired) return result;
  if (late) promise.then(late, () => undefined);
  throw new Error(message());
}

/** Settle with `promise`, or resolve as soon as `signal` aborts (the promise carries on alone). */
export function unlessAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
