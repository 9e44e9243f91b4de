/**
 * @quiesce/adapters/checkpoint-redis: a checkpoint store in Redis, one string key per message.
 * For sources that cannot keep a checkpoint with the message (or only carry it on a re-publish,
 * which a crash never reaches). Give it to the worker as `checkpoints: { store }`.
 */
import type { CheckpointStore } from "@quiesce/sdk";
import { check, optional, positiveInt } from "@quiesce/sdk/source-kit";
import type { Redis } from "ioredis";

export interface RedisCheckpointStoreOptions {
  /**
   * An ioredis client (or cluster) the caller owns and closes, e.g. as one of the worker's
   * `resources`. The store only runs GET, SET and DEL on it.
   */
  readonly client: Pick<Redis, "get" | "set" | "del">;
  /** Prepended to every key. @defaultValue "quiesce:checkpoint:" */
  readonly prefix?: string;
  /**
   * How long a checkpoint outlives its last write, in seconds: a safety net for messages that
   * leave the queue without this worker settling them (purged, expired, moved by hand).
   * @defaultValue 1209600 (14 days, the longest an SQS message lives)
   */
  readonly ttlSeconds?: number;
}

const where = "createRedisCheckpointStore";
const text = check("a string", (value) => (typeof value === "string" ? value : undefined));

export function createRedisCheckpointStore(options: RedisCheckpointStoreOptions): CheckpointStore {
  const client = options?.client;
  if (typeof client?.get !== "function" || typeof client.set !== "function" || typeof client.del !== "function") {
    throw new TypeError(`${where}: client must be an ioredis client (with get, set and del)`);
  }
  const prefix = optional(text, `${where}: prefix`, options.prefix, "quiesce:checkpoint:");
  const ttlSeconds = optional(positiveInt, `${where}: ttlSeconds`, options.ttlSeconds, 14 * 24 * 3600);
  return {
    async load(key) {
      return (await client.get(prefix + key)) ?? undefined;
    },
    async save(key, data) {
      await client.set(prefix + key, data, "EX", ttlSeconds);
    },
    async delete(key) {
      await client.del(prefix + key);
    },
  };
}
