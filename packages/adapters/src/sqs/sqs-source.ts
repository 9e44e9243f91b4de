import type { Message, MessageAttributeValue, SQSClient } from "@aws-sdk/client-sqs";
import { IllegalStateError, SourceError, coerceError } from "@quiesce/sdk";
import { expired, withBound } from "@quiesce/sdk/source-kit";
import type { Delivery, QueueDepth, Source, SourceStartContext } from "@quiesce/sdk";
import { Batcher, type EntryOutcome } from "./batcher.js";
import { sqsError } from "./errors.js";
import { LeaseClock } from "./lease-clock.js";
import { loadSqs, type SqsModule } from "./load.js";
import { sqsLimits, type ResolvedSqsOptions } from "./options.js";
import { Poller } from "./poller.js";
import { Receives } from "./receives.js";
import { maxReceiveCountWarning, queueFacts } from "./queue-check.js";
import { SqsDelivery, type DeliveryHost } from "./sqs-delivery.js";

interface VisibilityEntry {
  readonly handle: string;
  readonly seconds: number;
}

/** The connected parts, made by start(). */
interface Parts {
  readonly sqs: SqsModule;
  readonly client: SQSClient;
  readonly deletes: Batcher<string>;
  readonly visibility: Batcher<VisibilityEntry>;
  readonly poller: Poller;
  readonly receives: Receives;
}

/** created → running ⇄ paused → stopped. Only receive() in running hands out messages. */
type State = "created" | "running" | "paused" | "stopped";

/** Longest stop() waits for batched deletes and visibility changes still in flight. */
const settleBoundMs = 5_000;

/**
 * The system attributes each receive asks for: the receive count is `attempt`, the group gates
 * FIFO (a standard queue has none, and each attribute asked for is parsed on every message).
 */
const standardAttributes = ["ApproximateReceiveCount"] as const;
const fifoAttributes = ["ApproximateReceiveCount", "MessageGroupId"] as const;

/**
 * A {@link Source} over one SQS queue: ReceiveMessage long polls (cut short by the drain),
 * visibility as the lease, deletes and visibility changes coalesced into *Batch calls.
 */
export class SqsSource implements Source {
  readonly name: string;
  readonly leaseMs: number;
  readonly #options: ResolvedSqsOptions;
  #state: State = "created";
  #parts: Parts | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #ownedClient: SQSClient | null = null;
  /** The worker's concurrency (from start()): how many messages it can start soon. */
  #concurrency: number | null = null;
  readonly #host: DeliveryHost & { maxReceiveCount: number | null };

  constructor(options: ResolvedSqsOptions) {
    this.#options = options;
    this.name = options.queueName;
    this.leaseMs = options.visibilityTimeoutSeconds * 1000;
    const parts = (): Parts => this.#require();
    this.#host = {
      releaseMode: options.releaseMode,
      fifo: options.fifo,
      maxReceiveCount: null,
      backoff: { baseSeconds: options.failureBackoffSeconds, maxSeconds: options.failureBackoffMaxSeconds },
      changeVisibility: (handle, seconds) => parts().visibility.add({ handle, seconds }),
      remove: (handle) => parts().deletes.add(handle),
      resend: (message, attributes, delaySeconds) => this.#resend(message, attributes, delaySeconds),
      extended: (delivery, seconds) => parts().poller.renewGroup(delivery.groupId, seconds),
      finishing: (delivery) => parts().poller.finishing(delivery),
      settled: (delivery, how) => parts().poller.settled(delivery, how === "ack"),
    };
  }

  start(context?: SourceStartContext): Promise<void> {
    if (this.#state === "stopped") return Promise.reject(new IllegalStateError(`SQS source "${this.name}": start() after stop()`));
    this.#concurrency = context?.concurrency ?? this.#concurrency;
    if (this.#parts) {
      if (this.#concurrency !== null) this.#parts.poller.setCapacity(this.#concurrency);
      if (this.#state === "paused") {
        this.#state = "running";
        this.#parts.poller.reopen();
      }
      return Promise.resolve();
    }
    this.#starting ??= this.#connect().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`SQS source receive(max): max must be a positive integer, got ${max}`);
    if (this.#state === "created" || this.#state === "stopped" || !this.#parts) {
      throw new IllegalStateError(`SQS source "${this.name}": receive() while ${this.#state}: ${this.#state === "stopped" ? "it was stopped" : "call start() first"}`);
    }
    if (this.#state !== "running" || signal.aborted) return [];
    return this.#parts.poller.take(max, signal);
  }

  async pause(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "paused";
    // Abort the long polls and hand back at once whatever they brought that no receive took.
    await this.#parts?.poller.close();
  }

  async depth(): Promise<QueueDepth> {
    const { sqs, client } = this.#require();
    let attributes: Record<string, string> | undefined;
    try {
      ({ Attributes: attributes } = await client.send(
        new sqs.GetQueueAttributesCommand({
          QueueUrl: this.#options.queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
        }),
      ));
    } catch (thrown) {
      throw sqsError("GetQueueAttributes", `queue ${this.name}`, thrown);
    }
    const count = (name: string): number => Number(attributes?.[name] ?? 0) || 0;
    return {
      waiting: count("ApproximateNumberOfMessages"),
      inFlight: count("ApproximateNumberOfMessagesNotVisible"),
      delayed: count("ApproximateNumberOfMessagesDelayed"),
    };
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #connect(): Promise<void> {
    const options = this.#options;
    const sqs = await loadSqs();
    // One client for every start attempt: the runtime retries start() while SQS is unreachable.
    // Our own client caches its resolved middleware stack per command (nobody else can change
    // that stack): the SDK's per-request work is the larger part of this source's CPU per message.
    const client = options.client ?? (this.#ownedClient ??= new sqs.SQSClient({ cacheMiddleware: true, ...options.clientConfig }));
    let attributes: Record<string, string> | undefined;
    try {
      // Proves the queue exists and the credentials may use it (a ConfigError if not: no retry
      // can fix either), and reads the redrive policy.
      ({ Attributes: attributes } = await client.send(new sqs.GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ["RedrivePolicy"] })));
    } catch (thrown) {
      throw sqsError("GetQueueAttributes", `queue ${this.name} (${options.queueUrl})`, thrown);
    }
    const facts = queueFacts(attributes);
    this.#host.maxReceiveCount = facts.maxReceiveCount;
    const warning = maxReceiveCountWarning(options, facts);
    if (warning) {
      if (options.logger) options.logger.warn({ queue: this.name, maxReceiveCount: facts.maxReceiveCount }, warning);
      else process.emitWarning(warning, { code: "QUIESCE_SQS_MAX_RECEIVE_COUNT" });
    }
    const deletes = new Batcher<string>((handles) => this.#deleteBatch(sqs, client, handles), sqsLimits.maxBatch);
    const visibility = new Batcher<VisibilityEntry>((entries) => this.#visibilityBatch(sqs, client, entries), sqsLimits.maxBatch);
    const poller = new Poller({
      poll: (max, signal) => this.#poll(max, signal),
      giveBack: async (delivery) => void (await visibility.add({ handle: delivery.receiptHandle, seconds: 0 })),
      renew: async (delivery, seconds) => (await visibility.add({ handle: delivery.receiptHandle, seconds }).catch(() => ({ ok: false }))).ok,
      batchSize: options.batchSize,
      leaseMs: this.leaseMs,
    });
    if (this.#concurrency !== null) poller.setCapacity(this.#concurrency);
    this.#parts = { sqs, client, deletes, visibility, poller, receives: new Receives(client) };
    if (this.#state === "created") this.#state = "running";
    else if (this.#state === "paused") await poller.close();
  }

  async #poll(max: number, signal: AbortSignal): Promise<SqsDelivery[]> {
    const { sqs, receives } = this.#require();
    const options = this.#options;
    const sentAt = Date.now();
    let messages: Message[] | undefined;
    try {
      ({ Messages: messages } = await receives.send(
        new sqs.ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: options.waitTimeSeconds,
          // Asked for on every receive, whatever the queue's default: the lease the runtime
          // renews, and the bound on the orphan window of an aborted poll.
          VisibilityTimeout: options.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: [...(options.fifo ? fifoAttributes : standardAttributes)],
          // A re-send (a release with a checkpoint, or releaseMode "resend") copies them, and
          // reads the quiesce.* ones; FIFO queues never re-send.
          ...(options.fifo ? {} : { MessageAttributeNames: ["All"] }),
        }),
        signal,
      ));
    } catch (thrown) {
      throw sqsError("ReceiveMessage", `queue ${this.name}`, thrown);
    }
    return (messages ?? []).map((message) => new SqsDelivery(message, new LeaseClock(sentAt, options.visibilityTimeoutSeconds), this.#host, options.decode));
  }

  async #deleteBatch(sqs: SqsModule, client: SQSClient, handles: readonly string[]): Promise<EntryOutcome[]> {
    const Entries = handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle }));
    const answer = await client.send(new sqs.DeleteMessageBatchCommand({ QueueUrl: this.#options.queueUrl, Entries }));
    return outcomes(handles.length, answer.Successful, answer.Failed);
  }

  async #visibilityBatch(sqs: SqsModule, client: SQSClient, entries: readonly VisibilityEntry[]): Promise<EntryOutcome[]> {
    const Entries = entries.map(({ handle, seconds }, i) => ({ Id: String(i), ReceiptHandle: handle, VisibilityTimeout: seconds }));
    const answer = await client.send(new sqs.ChangeMessageVisibilityBatchCommand({ QueueUrl: this.#options.queueUrl, Entries }));
    return outcomes(entries.length, answer.Successful, answer.Failed);
  }

  async #resend(message: Message, attributes: Record<string, MessageAttributeValue>, delaySeconds: number): Promise<void> {
    const { sqs, client } = this.#require();
    await client.send(
      new sqs.SendMessageCommand({
        QueueUrl: this.#options.queueUrl,
        MessageBody: message.Body ?? "",
        MessageAttributes: attributes,
        ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
      }),
    );
  }

  async #close(): Promise<void> {
    this.#state = "stopped";
    await this.#starting?.catch(() => undefined);
    const parts = this.#parts;
    const errors: Error[] = [];
    if (parts) {
      for (const step of [() => parts.poller.close(), () => settledWithin(Promise.all([parts.deletes.settled(), parts.visibility.settled()]), settleBoundMs)]) {
        try {
          await step();
        } catch (thrown) {
          errors.push(coerceError(thrown));
        }
      }
    }
    this.#ownedClient?.destroy();
    if (errors.length > 0) throw new SourceError(`SQS stop failed for queue "${this.name}": ${errors.map((e) => e.message).join("; ")}`, { cause: errors[0] });
  }

  #require(): Parts {
    if (!this.#parts) throw new IllegalStateError(`SQS source "${this.name}": not started`);
    return this.#parts;
  }
}

const done: EntryOutcome = Object.freeze({ ok: true });
const missingEntry: EntryOutcome = Object.freeze({ ok: false, code: "MissingEntry", message: "the batch answer left this entry out" });

/** One outcome per entry, from a *Batch answer's Successful / Failed lists (Ids are the entry indexes). */
function outcomes(count: number, successful: readonly { Id?: string | undefined }[] | undefined, failed: readonly { Id?: string | undefined; Code?: string | undefined; Message?: string | undefined }[] | undefined): EntryOutcome[] {
  const result: EntryOutcome[] = new Array<EntryOutcome>(count).fill(missingEntry);
  for (const entry of successful ?? []) result[Number(entry.Id)] = done;
  for (const entry of failed ?? []) result[Number(entry.Id)] = { ok: false, code: entry.Code ?? "", message: entry.Message ?? "" };
  return result;
}

async function settledWithin(calls: Promise<unknown>, ms: number): Promise<void> {
  if ((await withBound(calls, ms)) === expired) throw new Error(`batched calls still in flight after ${ms} ms`);
}
