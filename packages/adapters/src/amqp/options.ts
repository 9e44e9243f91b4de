import type { ChannelModel, Options } from "amqplib";
import { ConfigError } from "@quiesce/sdk";

/** Declare the queue on start (classic or quorum, dead-letter exchange, ...). */
export interface AmqpQueueAssertion {
  /** @defaultValue true */
  readonly durable?: boolean;
  /**
   * Queue arguments, exactly as RabbitMQ takes them: `{ "x-queue-type": "quorum",
   * "x-dead-letter-exchange": "dlx", "x-delivery-limit": 20 }`.
   */
  readonly arguments?: Readonly<Record<string, unknown>>;
}

/** What `decode` sees of a message besides its body. */
export interface AmqpMessageInfo {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly headers: Readonly<Record<string, unknown>>;
}

/** Options of {@link createAmqpSource}. Durations are in ms. */
export interface AmqpSourceOptions {
  /** The queue to consume. Also the `queue` label of the worker's metrics. */
  readonly queue: string;
  /**
   * Where the broker is: an AMQP URL (`amqp://user:pass@host:5672/vhost`) or amqplib's connect
   * options. The source opens that connection, reopens it after a loss, and closes it on stop.
   * Give either `url` or `connection`.
   */
  readonly url?: string | Options.Connect;
  /**
   * An amqplib connection (`await amqplib.connect(...)`): the source opens its own channel on it
   * and never closes the connection; when the connection dies the source cannot reopen it.
   */
  readonly connection?: ChannelModel;
  /**
   * Unacknowledged messages the broker may push to this worker (basic.qos), running ones
   * included: the source never holds more unstarted messages than this.
   * @defaultValue the worker's concurrency
   */
  readonly prefetch?: number;
  /**
   * Absent: the queue must exist (`checkQueue` only), so an existing queue's arguments are never
   * contradicted. Given: the queue is declared with these settings on every (re)connect.
   */
  readonly assert?: AmqpQueueAssertion;
  /**
   * Handler runs a message gets before it is dead-lettered. A failure under the limit republishes
   * the message with its attempt raised (confirmed before the original is acked). 1: no retries.
   * @defaultValue 1
   */
  readonly maxAttempts?: number;
  /**
   * Body → payload. Throwing dead-letters the message at once, without running the handler.
   * @defaultValue JSON of the UTF-8 body
   */
  readonly decode?: (content: Buffer, message: AmqpMessageInfo) => unknown;
  /**
   * The broker's `consumer_timeout`: a delivery unacknowledged this long makes RabbitMQ close the
   * channel (and with it every job on it). A job nearing it loses its lease instead: its handler
   * is aborted and the message requeued while the channel is still healthy. Keep it equal to the
   * broker's setting. @defaultValue 1800000 (RabbitMQ's default, 30 min)
   */
  readonly consumerTimeoutMs?: number;
  /** How often each running job's channel is checked; a closed channel aborts its jobs within about this. @defaultValue 1000 */
  readonly checkIntervalMs?: number;
  /** Longest one `receive()` waits on an empty queue before resolving `[]`. @defaultValue 5000 */
  readonly pollTimeoutMs?: number;
  /** How long one connect (TCP, AMQP handshake, channel, queue check) may take. @defaultValue 10000 */
  readonly connectTimeoutMs?: number;
}

/** Every option present and checked: what the source runs on. */
export interface ResolvedAmqpOptions {
  readonly queue: string;
  /** Set when the caller gave a URL: the source owns the connections made from it. */
  readonly url: string | Options.Connect | null;
  /** Set when the caller gave a connection: used, never closed. */
  readonly connection: ChannelModel | null;
  /** null: the worker's concurrency, known at start. */
  readonly prefetch: number | null;
  readonly assert: { readonly durable: boolean; readonly arguments: Readonly<Record<string, unknown>> } | null;
  readonly maxAttempts: number;
  readonly decode: (content: Buffer, message: AmqpMessageInfo) => unknown;
  readonly consumerTimeoutMs: number;
  readonly checkIntervalMs: number;
  readonly pollTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

const defaults = {
  maxAttempts: 1,
  consumerTimeoutMs: 1_800_000,
  checkIntervalMs: 1_000,
  pollTimeoutMs: 5_000,
  connectTimeoutMs: 10_000,
} as const;

/** RabbitMQ's own limit for basic.qos prefetch-count (a short). */
const maxPrefetch = 65_535;

const where = "createAmqpSource";

export const decodeJson = (content: Buffer): unknown => JSON.parse(content.toString("utf8"));

/** Validate and fill in defaults. Pure: no connection is made. Each message names the option. */
export function resolveAmqpOptions(input: AmqpSourceOptions): ResolvedAmqpOptions {
  if (typeof input !== "object" || input === null) {
    throw new ConfigError(`${where}: options must be an object with at least queue and url (or connection), got ${describe(input)}`);
  }
  const queue = input.queue;
  // AMQP shortstr: at most 255 bytes. An empty name would be a server-named queue, never ours.
  if (typeof queue !== "string" || queue.length === 0 || Buffer.byteLength(queue) > 255) {
    throw new ConfigError(`${where}: queue must be a non-empty string of at most 255 bytes, got ${describe(queue)}`);
  }
  const { url, connection } = resolveConnection(input.url, input.connection);
  const consumerTimeoutMs = integer("consumerTimeoutMs", input.consumerTimeoutMs, defaults.consumerTimeoutMs, 1);
  const checkIntervalMs = integer("checkIntervalMs", input.checkIntervalMs, defaults.checkIntervalMs, 1);
  if (checkIntervalMs * 4 > consumerTimeoutMs) {
    throw new ConfigError(`${where}: checkIntervalMs must be at most a quarter of consumerTimeoutMs (${consumerTimeoutMs}), got ${checkIntervalMs}`);
  }
  if (input.decode !== undefined && typeof input.decode !== "function") {
    throw new ConfigError(`${where}: decode must be a function (content: Buffer, message) => payload, got ${describe(input.decode)}`);
  }
  return {
    queue,
    url,
    connection,
    prefetch: input.prefetch === undefined ? null : prefetch(input.prefetch),
    assert: resolveAssert(input.assert),
    maxAttempts: integer("maxAttempts", input.maxAttempts, defaults.maxAttempts, 1),
    decode: input.decode ?? decodeJson,
    consumerTimeoutMs,
    checkIntervalMs,
    pollTimeoutMs: integer("pollTimeoutMs", input.pollTimeoutMs, defaults.pollTimeoutMs, 1),
    connectTimeoutMs: integer("connectTimeoutMs", input.connectTimeoutMs, defaults.connectTimeoutMs, 1),
  };
}

function resolveConnection(url: unknown, connection: unknown): Pick<ResolvedAmqpOptions, "url" | "connection"> {
  if (url !== undefined && connection !== undefined) {
    throw new ConfigError(`${where}: give url or connection, not both, got both`);
  }
  if (connection !== undefined) {
    if (!isAmqpConnection(connection)) {
      throw new ConfigError(`${where}: connection must be an amqplib connection (the result of amqplib.connect()), got ${describe(connection)}`);
    }
    return { url: null, connection };
  }
  if (typeof url === "string") {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new ConfigError(`${where}: url must be an amqp:// or amqps:// URL, got ${describe(redact(url))}`);
    }
    if (protocol !== "amqp:" && protocol !== "amqps:") {
      throw new ConfigError(`${where}: url must be an amqp:// or amqps:// URL, got ${describe(redact(url))}`);
    }
    return { url, connection: null };
  }
  if (typeof url === "object" && url !== null && !Array.isArray(url)) return { url: { ...(url as Options.Connect) }, connection: null };
  throw new ConfigError(`${where}: url must be an amqp:// URL or amqplib connect options (or give connection instead), got ${describe(url)}`);
}

function resolveAssert(assert: AmqpQueueAssertion | undefined): ResolvedAmqpOptions["assert"] {
  if (assert === undefined) return null;
  if (typeof assert !== "object" || assert === null || Array.isArray(assert)) {
    throw new ConfigError(`${where}: assert must be an object { durable?, arguments? } or left out, got ${describe(assert)}`);
  }
  const durable = assert.durable ?? true;
  if (typeof durable !== "boolean") throw new ConfigError(`${where}: assert.durable must be a boolean, got ${describe(durable)}`);
  const args = assert.arguments ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    throw new ConfigError(`${where}: assert.arguments must be an object of queue arguments (e.g. { "x-queue-type": "quorum" }), got ${describe(args)}`);
  }
  return { durable, arguments: { ...args } };
}

function prefetch(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > maxPrefetch) {
    throw new ConfigError(`${where}: prefetch must be an integer from 1 to ${maxPrefetch}, got ${describe(value)}`);
  }
  return value;
}

/** Structural check: amqplib's promise-API connection has createConfirmChannel() and close(). */
export function isAmqpConnection(value: unknown): value is ChannelModel {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { createConfirmChannel?: unknown; close?: unknown; on?: unknown };
  return typeof candidate.createConfirmChannel === "function" && typeof candidate.close === "function" && typeof candidate.on === "function";
}

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    const form = min === 0 ? "an integer >= 0" : "a positive integer";
    throw new ConfigError(`${where}: ${name} must be ${form}, got ${describe(value)}`);
  }
  return value;
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}
