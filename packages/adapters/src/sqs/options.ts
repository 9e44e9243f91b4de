import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import { ConfigError, type Logger } from "@quiesce/sdk";
import { check, invalid, optional } from "@quiesce/sdk/source-kit";

/**
 * How `release()` hands a message back (a drain, a deadline):
 * - `"visibility"`: `ChangeMessageVisibility` to 0 (or the delay). One call, same message id,
 *   FIFO order kept; the next receive counts up `ApproximateReceiveCount`, which the redrive
 *   policy's `maxReceiveCount` also counts.
 * - `"resend"`: `SendMessage` of a copy (body and attributes), then `DeleteMessage` of the
 *   original: the interruption costs no receive, but the copy has a new SQS MessageId (the delivery id stays the first one's: it rides in a `quiesce.id` attribute), and a crash
 *   between the two calls leaves both (at least once). Standard queues only.
 */
export type SqsReleaseMode = "visibility" | "resend";

/** Options of {@link createSqsSource}. Durations in seconds where SQS counts seconds. */
export interface SqsSourceOptions {
  /** The queue's URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`; FIFO names end in `.fifo`). */
  readonly queueUrl: string;
  /** An `SQSClient` to use; the source never destroys it. Give this or `clientConfig`. */
  readonly client?: SQSClient;
  /**
   * Passed to `new SQSClient({ cacheMiddleware: true, ...clientConfig })`; the source destroys
   * that client on stop. Give this or `client`.
   */
  readonly clientConfig?: SQSClientConfig;
  /** Long poll length of each `ReceiveMessage`, 0-20 s. @defaultValue 20 */
  readonly waitTimeSeconds?: number;
  /**
   * Messages asked for per `ReceiveMessage`, 1-10. Left out, each poll asks for what the worker
   * has free slots for (up to 10), so nothing waits unstarted while its visibility runs.
   */
  readonly batchSize?: number;
  /**
   * Visibility asked for on receive: the lease, renewed at about half of it while the job runs.
   * Also the orphan window: a long poll that a drain aborts can still take a message on the
   * server, which then stays hidden this long. 1-43200 s. @defaultValue 30
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Body → payload. A throw fails the delivery (never the loop). @defaultValue JSON.parse */
  readonly decode?: (body: string) => unknown;
  /** See {@link SqsReleaseMode}. @defaultValue "visibility" */
  readonly releaseMode?: SqsReleaseMode;
  /** Visibility after the first failure, doubled per receive up to `failureBackoffMaxSeconds`. @defaultValue 1 */
  readonly failureBackoffSeconds?: number;
  /** @defaultValue 900 */
  readonly failureBackoffMaxSeconds?: number;
  /** In `"visibility"` mode, warn at start when the redrive policy's `maxReceiveCount` is below this. @defaultValue 5 */
  readonly warnBelowMaxReceiveCount?: number;
  /** Where the start-up warning goes. Left out: `process.emitWarning`. */
  readonly logger?: Logger;
}

export interface ResolvedSqsOptions {
  readonly queueUrl: string;
  /** Queue name from the URL: the metric label. */
  readonly queueName: string;
  readonly fifo: boolean;
  /** Set when the caller gave a client: used, never destroyed. */
  readonly client: SQSClient | null;
  readonly clientConfig: SQSClientConfig | null;
  readonly waitTimeSeconds: number;
  readonly batchSize: number | null;
  readonly visibilityTimeoutSeconds: number;
  readonly decode: (body: string) => unknown;
  readonly releaseMode: SqsReleaseMode;
  readonly failureBackoffSeconds: number;
  readonly failureBackoffMaxSeconds: number;
  readonly warnBelowMaxReceiveCount: number;
  readonly logger: Logger | null;
}

/** SQS's own limits. */
export const sqsLimits = {
  maxBatch: 10,
  maxWaitSeconds: 20,
  maxVisibilitySeconds: 43_200,
  maxDelaySeconds: 900,
} as const;

const defaults = {
  waitTimeSeconds: 20,
  visibilityTimeoutSeconds: 30,
  releaseMode: "visibility",
  failureBackoffSeconds: 1,
  failureBackoffMaxSeconds: 900,
  warnBelowMaxReceiveCount: 5,
} as const;

const where = "createSqsSource";

/** An integer from `min` to `max`, as SQS bounds it. */
const between = (min: number, max: number) =>
  check(`an integer from ${min} to ${max}`, (value) => (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined));
const waitSeconds = between(0, sqsLimits.maxWaitSeconds);
const batchSize = between(1, sqsLimits.maxBatch);
const visibilitySeconds = between(1, sqsLimits.maxVisibilitySeconds);
const backoffSeconds = between(0, sqsLimits.maxVisibilitySeconds);
const receiveCount = between(0, 1000);
const releaseModeCheck = check<SqsReleaseMode>('"visibility" or "resend"', (value) => (value === "visibility" || value === "resend" ? value : undefined));
const decoder = check("a function (body: string) => payload", (value) => (typeof value === "function" ? (value as (body: string) => unknown) : undefined));
const loggerCheck = check("a Logger (an object with warn())", (value) =>
  typeof value === "object" && value !== null && typeof (value as Partial<Logger>).warn === "function" ? (value as Logger) : undefined,
);
const queueUrlCheck = check('an SQS queue URL such as "https://sqs.us-east-1.amazonaws.com/123456789012/emails"', (value) =>
  typeof value === "string" && nameOf(value) !== null ? value : undefined,
);

/** Validate and fill in defaults. Pure: no request is made. Each message names the option. */
export function resolveSqsOptions(input: SqsSourceOptions): ResolvedSqsOptions {
  if (typeof input !== "object" || input === null) {
    throw invalid(`${where}: options`, "an object with at least queueUrl and client or clientConfig", input);
  }
  const queueUrl = queueUrlCheck(`${where}: queueUrl`, input.queueUrl);
  const queueName = nameOf(queueUrl) as string;
  const fifo = queueName.endsWith(".fifo");
  const { client, clientConfig } = resolveClient(input.client, input.clientConfig);
  const releaseMode = optional(releaseModeCheck, `${where}: releaseMode`, input.releaseMode, defaults.releaseMode);
  if (fifo && releaseMode === "resend") {
    throw new ConfigError(`${where}: releaseMode "resend" would put a released message behind the rest of its FIFO message group; use "visibility" for ${queueName}`);
  }
  const failureBackoffSeconds = optional(backoffSeconds, `${where}: failureBackoffSeconds`, input.failureBackoffSeconds, defaults.failureBackoffSeconds);
  const failureBackoffMaxSeconds = optional(backoffSeconds, `${where}: failureBackoffMaxSeconds`, input.failureBackoffMaxSeconds, defaults.failureBackoffMaxSeconds);
  if (failureBackoffMaxSeconds < failureBackoffSeconds) {
    throw invalid(`${where}: failureBackoffMaxSeconds`, `>= failureBackoffSeconds (${failureBackoffSeconds})`, failureBackoffMaxSeconds);
  }
  return {
    queueUrl,
    queueName,
    fifo,
    client,
    clientConfig,
    waitTimeSeconds: optional(waitSeconds, `${where}: waitTimeSeconds`, input.waitTimeSeconds, defaults.waitTimeSeconds),
    batchSize: input.batchSize === undefined ? null : batchSize(`${where}: batchSize`, input.batchSize),
    visibilityTimeoutSeconds: optional(visibilitySeconds, `${where}: visibilityTimeoutSeconds`, input.visibilityTimeoutSeconds, defaults.visibilityTimeoutSeconds),
    decode: optional(decoder, `${where}: decode`, input.decode, JSON.parse),
    releaseMode,
    failureBackoffSeconds,
    failureBackoffMaxSeconds,
    warnBelowMaxReceiveCount: optional(receiveCount, `${where}: warnBelowMaxReceiveCount`, input.warnBelowMaxReceiveCount, defaults.warnBelowMaxReceiveCount),
    logger: input.logger === undefined ? null : loggerCheck(`${where}: logger`, input.logger),
  };
}

function resolveClient(client: unknown, clientConfig: unknown): { client: SQSClient | null; clientConfig: SQSClientConfig | null } {
  if (client !== undefined && clientConfig !== undefined) {
    throw new ConfigError(`${where}: give client or clientConfig, not both (got both)`);
  }
  if (client !== undefined) {
    const candidate = client as { send?: unknown } | null;
    if (typeof candidate !== "object" || candidate === null || typeof candidate.send !== "function") {
      throw invalid(`${where}: client`, "an SQSClient from @aws-sdk/client-sqs", client);
    }
    return { client: client as SQSClient, clientConfig: null };
  }
  if (clientConfig === undefined) {
    throw new ConfigError(`${where}: client (an SQSClient) or clientConfig (e.g. { region: "us-east-1" }) is required, got neither`);
  }
  if (typeof clientConfig !== "object" || clientConfig === null || Array.isArray(clientConfig)) {
    throw invalid(`${where}: clientConfig`, 'SQSClientConfig (e.g. { region: "us-east-1" })', clientConfig);
  }
  return { client: null, clientConfig: { ...(clientConfig as SQSClientConfig) } };
}

/** The last path segment of an http(s) URL, when it is a valid SQS queue name (80 chars of [A-Za-z0-9_-], .fifo). */
function nameOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  const name = parsed.pathname.split("/").filter(Boolean).at(-1) ?? "";
  return /^[A-Za-z0-9_-]{1,80}$/.test(name) || /^[A-Za-z0-9_-]{1,75}\.fifo$/.test(name) ? name : null;
}
