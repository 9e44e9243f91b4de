/**
 * @quiesce/adapters/sqs: a quiesce source over an Amazon SQS queue. @aws-sdk/client-sqs is an
 * optional peer dependency of @quiesce/adapters, loaded only when this source starts.
 */
import type { Source } from "@quiesce/sdk";
import { resolveSqsOptions, type SqsSourceOptions } from "./options.js";
import { SqsSource } from "./sqs-source.js";

export type { SqsReleaseMode, SqsSourceOptions } from "./options.js";

/**
 * Create a source that takes messages from an SQS queue. Options are checked here (a bad one
 * throws a ConfigError naming it); SQS is contacted only by `start()`.
 *
 * ```ts
 * const source = createSqsSource({ queueUrl: process.env.QUEUE_URL, clientConfig: { region: "eu-west-1" } });
 * ```
 */
export function createSqsSource(options: SqsSourceOptions): Source {
  return new SqsSource(resolveSqsOptions(options));
}
