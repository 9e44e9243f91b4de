/**
 * @quiesce/adapters/amqp: a quiesce source over a RabbitMQ queue (AMQP 0-9-1). amqplib is an
 * optional peer dependency of @quiesce/adapters, loaded only when this source starts.
 */
import type { Source } from "@quiesce/sdk";
import { AmqpSource } from "./amqp-source.js";
import { resolveAmqpOptions, type AmqpSourceOptions } from "./options.js";

export type { AmqpSourceOptions, AmqpQueueAssertion, AmqpMessageInfo } from "./options.js";
export { attemptHeader } from "./message.js";

/**
 * Create a source that consumes a RabbitMQ queue. Options are checked here (a bad one throws a
 * ConfigError naming it); the broker is contacted only by `start()`.
 *
 * ```ts
 * const source = createAmqpSource({ queue: "images", url: "amqp://guest:guest@127.0.0.1:5672" });
 * ```
 */
export function createAmqpSource(options: AmqpSourceOptions): Source {
  return new AmqpSource(resolveAmqpOptions(options));
}
