/**
 * @quiesce/adapters/bullmq: a quiesce source over a BullMQ queue. bullmq and ioredis are optional
 * peer dependencies of @quiesce/adapters, loaded only when this source starts.
 */
import type { Source } from "@quiesce/sdk";
import { BullmqSource } from "./bullmq-source.js";
import { resolveBullmqOptions, type BullmqSourceOptions } from "./options.js";

export type { BullmqSourceOptions } from "./options.js";

/**
 * Create a source that takes jobs from a BullMQ queue. Options are checked here (a bad one throws
 * a ConfigError naming it); Redis is contacted only by `start()`.
 *
 * ```ts
 * const source = createBullmqSource({ queue: "emails", connection: { host: "127.0.0.1", port: 6379 } });
 * ```
 */
export function createBullmqSource(options: BullmqSourceOptions): Source {
  return new BullmqSource(resolveBullmqOptions(options));
}
