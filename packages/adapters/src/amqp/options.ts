import type { ChannelModel, Options } from "amqplib";
import { check, invalid, optional, positiveInt } from "@quiesce/sdk/source-kit";

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

// AMQP shortstr: at most 255 bytes. An empty name would be a server-named queue, never ours.
const queueName = check("a non-empty string of at most 255 bytes", (value) =>
  typeof value === "string" && value.length > 0 && Buffer.byteLength(value) <= 255 ? value : undefined,
);
const prefetchCount = check(`an integer from 1 to ${maxPrefetch}`, (value) =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= maxPrefetch ? value : undefined,
);
const decoder = check("a function (content: Buffer, message) => payload", (value) =>
  typeof value === "function" ? (value as ResolvedAmqpOptions["decode"]) : undefined,
);
const flag = check("a boolean", (value) => (typeof value === "boolean" ? value : undefined));
const plainObject = (form: string) =>
  check(form, (value) => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined));
const assertion = plainObject("an object { durable?, arguments? } or left out");
const queueArguments = plainObject('an object of queue arguments (e.g. { "x-queue-type": "quorum" })');

/** Validate and fill in defaults. Pure: no connection is made. Each message names the option. */
export function resolveAmqpOptions(input: AmqpSourceOptions): ResolvedAmqpOptions {
  if (typeof input !== "object" || input === null) {
    throw invalid(`${where}: options`, "an object with at least queue and url (or connection)", input);
  }
  const queue = queueName(`${where}: queue`, input.queue);
  const { url, connection } = resolveConnection(input.url, input.connection);
  const consumerTimeoutMs = optional(positiveInt, `${where}: consumerTimeoutMs`, input.consumerTimeoutMs, defaults.consumerTimeoutMs);
  const checkIntervalMs = optional(positiveInt, `${where}: checkIntervalMs`, input.checkIntervalMs, defaults.checkIntervalMs);
  if (checkIntervalMs * 4 > consumerTimeoutMs) {
    throw invalid(`${where}: checkIntervalMs`, `at most a quarter of consumerTimeoutMs (${consumerTimeoutMs})`, checkIntervalMs);
  }
  return {
    queue,
    url,
    connection,
    prefetch: input.prefetch === undefined ? null : prefetchCount(`${where}: prefetch`, input.prefetch),
    assert: resolveAssert(input.assert),
    maxAttempts: optional(positiveInt, `${where}: maxAttempts`, input.maxAttempts, defaults.maxAttempts),
    decode: optional(decoder, `${where}: decode`, input.decode, decodeJson),
    consumerTimeoutMs,
    checkIntervalMs,
    pollTimeoutMs: optional(positiveInt, `${where}: pollTimeoutMs`, input.pollTimeoutMs, defaults.pollTimeoutMs),
    connectTimeoutMs: optional(positiveInt, `${where}: connectTimeoutMs`, input.connectTimeoutMs, defaults.connectTimeoutMs),
  };
}

function resolveConnection(url: unknown, connection: unknown): Pick<ResolvedAmqpOptions, "url" | "connection"> {
  if (url !== undefined && connection !== undefined) throw invalid(`${where}: url or connection`, "given, not both", "both");
  if (connection !== undefined) {
    if (!isAmqpConnection(connection)) throw invalid(`${where}: connection`, "an amqplib connection (the result of amqplib.connect())", connection);
    return { url: null, connection };
  }
  if (typeof url === "string") {
    let protocol = "";
    try {
      protocol = new URL(url).protocol;
    } catch {
      // reported below, without the password
    }
    if (protocol !== "amqp:" && protocol !== "amqps:") throw invalid(`${where}: url`, "an amqp:// or amqps:// URL", redact(url));
    return { url, connection: null };
  }
  if (typeof url === "object" && url !== null && !Array.isArray(url)) return { url: { ...(url as Options.Connect) }, connection: null };
  throw invalid(`${where}: url`, "an amqp:// URL or amqplib connect options (or give connection instead)", url);
}

function resolveAssert(input: unknown): ResolvedAmqpOptions["assert"] {
  if (input === undefined) return null;
  const given = assertion(`${where}: assert`, input);
  return {
    durable: optional(flag, `${where}: assert.durable`, given["durable"], true),
    arguments: { ...optional(queueArguments, `${where}: assert.arguments`, given["arguments"], {}) },
  };
}

/** Structural check: amqplib's promise-API connection has createConfirmChannel() and close(). */
export function isAmqpConnection(value: unknown): value is ChannelModel {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { createConfirmChannel?: unknown; close?: unknown; on?: unknown };
  return typeof candidate.createConfirmChannel === "function" && typeof candidate.close === "function" && typeof candidate.on === "function";
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}
