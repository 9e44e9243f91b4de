import type { Redis, RedisOptions } from "ioredis";
import { ConfigError } from "@quiesce/sdk";
import { check, invalid, nonNegativeInt, optional, positiveInt, show as describe } from "@quiesce/sdk/source-kit";

/** Options of {@link createBullmqSource}. Durations are in ms. */
export interface BullmqSourceOptions {
  /** BullMQ queue name (no `:`). Also the `queue` label of the worker's metrics. */
  readonly queue: string;
  /**
   * ioredis options (the source opens its connections and closes them on stop), or an ioredis
   * instance (the source uses it and never closes it; BullMQ duplicates it once for its blocking
   * fetch). An instance must be created with `maxRetriesPerRequest: null` and no `keyPrefix`, as
   * BullMQ requires for workers.
   */
  readonly connection: RedisOptions | Redis;
  /** BullMQ key prefix. @defaultValue "bull" */
  readonly prefix?: string;
  /** Lock duration: the lease the runtime renews at about half of it, in ms. @defaultValue 30000 */
  readonly lockDurationMs?: number;
  /** How often BullMQ's stalled-job check runs from this worker, in ms. @defaultValue 30000 */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) and be recovered before BullMQ fails it. @defaultValue 1 */
  readonly maxStalledCount?: number;
  /** Longest one `receive()` long-polls an empty queue before resolving `[]`, in ms. @defaultValue 5000 */
  readonly pollTimeoutMs?: number;
  /** How long `start()` waits for Redis before it rejects (the runtime retries it), in ms. @defaultValue 10000 */
  readonly connectTimeoutMs?: number;
}

/** Every option present and checked: what the source runs on. */
export interface ResolvedBullmqOptions {
  readonly queue: string;
  /** Set when the caller gave options: the source owns the connections made from them. */
  readonly redisOptions: RedisOptions | null;
  /** Set when the caller gave a client: used, never closed. */
  readonly client: Redis | null;
  readonly prefix: string;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly pollTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

const defaults = {
  prefix: "bull",
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 1,
  pollTimeoutMs: 5_000,
  connectTimeoutMs: 10_000,
} as const;

const where = "createBullmqSource";

const queueName = check('a non-empty string without ":" (BullMQ builds keys with it)', (value) =>
  typeof value === "string" && value.length > 0 && !value.includes(":") ? value : undefined,
);
const nonEmpty = check("a non-empty string", (value) => (typeof value === "string" && value.length > 0 ? value : undefined));

/** Validate and fill in defaults. Pure: no connection is made. Each message names the option. */
export function resolveBullmqOptions(input: BullmqSourceOptions): ResolvedBullmqOptions {
  if (typeof input !== "object" || input === null) {
    throw invalid(`${where}: options`, "an object with at least queue and connection", input);
  }
  const queue = queueName(`${where}: queue`, input.queue);
  const prefix = optional(nonEmpty, `${where}: prefix`, input.prefix, defaults.prefix);
  const { redisOptions, client } = resolveConnection(input.connection);
  return {
    queue,
    redisOptions,
    client,
    prefix,
    lockDurationMs: optional(positiveInt, `${where}: lockDurationMs`, input.lockDurationMs, defaults.lockDurationMs),
    stalledIntervalMs: optional(positiveInt, `${where}: stalledIntervalMs`, input.stalledIntervalMs, defaults.stalledIntervalMs),
    maxStalledCount: optional(nonNegativeInt, `${where}: maxStalledCount`, input.maxStalledCount, defaults.maxStalledCount),
    pollTimeoutMs: optional(positiveInt, `${where}: pollTimeoutMs`, input.pollTimeoutMs, defaults.pollTimeoutMs),
    connectTimeoutMs: optional(positiveInt, `${where}: connectTimeoutMs`, input.connectTimeoutMs, defaults.connectTimeoutMs),
  };
}

function resolveConnection(connection: unknown): { redisOptions: RedisOptions | null; client: Redis | null } {
  if (typeof connection !== "object" || connection === null || Array.isArray(connection)) {
    throw invalid(`${where}: connection`, 'ioredis options (e.g. { host: "127.0.0.1", port: 6379 }) or an ioredis instance', connection);
  }
  if (isRedisClient(connection)) {
    const options = connection.options as Partial<RedisOptions>;
    // BullMQ duplicates the client for its blocking fetch and throws deep inside its constructor
    // when this is set; say it here, naming our option.
    if (options.maxRetriesPerRequest !== null) {
      throw new ConfigError(
        `${where}: connection (an ioredis instance) must be created with maxRetriesPerRequest: null, as BullMQ requires for workers, got ${describe(options.maxRetriesPerRequest)}`,
      );
    }
    if (options.keyPrefix) {
      throw new ConfigError(`${where}: connection (an ioredis instance) must not set keyPrefix (BullMQ does not support it); use the prefix option, got ${describe(options.keyPrefix)}`);
    }
    return { redisOptions: null, client: connection };
  }
  const options = connection as RedisOptions;
  // null is what we set anyway; any other value would make commands fail during a reconnect,
  // which BullMQ's worker does not survive.
  if (options.maxRetriesPerRequest !== undefined && options.maxRetriesPerRequest !== null) {
    throw invalid(`${where}: connection.maxRetriesPerRequest`, "null or left out (BullMQ workers require it)", options.maxRetriesPerRequest);
  }
  if (options.keyPrefix) {
    throw new ConfigError(`${where}: connection.keyPrefix is not supported by BullMQ; use the prefix option, got ${describe(options.keyPrefix)}`);
  }
  return { redisOptions: { ...options }, client: null };
}

/** Structural check: an ioredis client (Redis or Cluster) has `duplicate()` and an `options` object. */
export function isRedisClient(value: unknown): value is Redis {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { duplicate?: unknown; options?: unknown };
  return typeof candidate.duplicate === "function" && typeof candidate.options === "object" && candidate.options !== null;
}
