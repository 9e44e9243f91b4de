// Queues on the emulator for the SQS tests: a queue of its own per test, with a dead-letter queue.
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { sqsClientConfig, type FauxqsInfo } from "../harness/fauxqs.js";
import { uniqueName } from "../harness/unique.js";

export interface QueueSpec {
  readonly fifo?: boolean;
  /** Redrive to a dead-letter queue after this many receives. */
  readonly maxReceiveCount?: number;
  readonly prefix?: string;
}

/** A queue (and its DLQ) on one emulator, with a producer's client. */
export class TestQueue {
  readonly client: SQSClient;
  url = "";
  dlqUrl = "";
  readonly fifo: boolean;
  #groupSeq = 0;
  readonly #base: string;

  private constructor(
    readonly info: FauxqsInfo,
    readonly spec: QueueSpec,
  ) {
    this.client = new SQSClient(sqsClientConfig(info));
    this.fifo = spec.fifo ?? false;
    this.#base = uniqueName(spec.prefix ?? "sqs").slice(0, 60);
  }

  static async create(info: FauxqsInfo, spec: QueueSpec = {}): Promise<TestQueue> {
    const queue = new TestQueue(info, spec);
    await queue.#create();
    return queue;
  }

  get name(): string {
    return this.url.split("/").at(-1) ?? "";
  }

  /** (Re)create the queues: after an emulator restart they are gone. */
  async #create(): Promise<void> {
    const suffix = this.fifo ? ".fifo" : "";
    const base = this.#base;
    const fifoAttributes: Record<string, string> = this.fifo ? { FifoQueue: "true", ContentBasedDeduplication: "true" } : {};
    const dlq = await this.client.send(new CreateQueueCommand({ QueueName: `${base}-dlq${suffix}`, Attributes: fifoAttributes }));
    this.dlqUrl = dlq.QueueUrl ?? "";
    const { Attributes } = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.dlqUrl, AttributeNames: ["QueueArn"] }));
    const redrive = this.spec.maxReceiveCount
      ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: this.spec.maxReceiveCount }) }
      : {};
    const main = await this.client.send(new CreateQueueCommand({ QueueName: `${base}${suffix}`, Attributes: { ...fifoAttributes, ...redrive } }));
    this.url = main.QueueUrl ?? "";
  }

  /** Send one message; on FIFO each gets a group of its own unless `group` is given. */
  async send(body: unknown, options: { delaySeconds?: number; group?: string } = {}): Promise<string> {
    const { MessageId } = await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.url,
        MessageBody: encode(body),
        ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}),
        ...(this.fifo ? { MessageGroupId: options.group ?? `g${++this.#groupSeq}`, MessageDeduplicationId: `${Date.now()}-${this.#groupSeq}-${Math.random()}` } : {}),
      }),
    );
    return MessageId ?? "";
  }

  /** Send many, 10 a call. Returns the message ids in order. */
  async sendMany(bodies: readonly unknown[], group?: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < bodies.length; i += 10) {
      const chunk = bodies.slice(i, i + 10);
      const answer = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.url,
          Entries: chunk.map((body, j) => ({
            Id: String(j),
            MessageBody: encode(body),
            ...(this.fifo ? { MessageGroupId: group ?? `g${++this.#groupSeq}`, MessageDeduplicationId: `${i + j}-${Math.random()}` } : {}),
          })),
        }),
      );
      if (answer.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(answer.Failed)}`);
      const byId = new Map((answer.Successful ?? []).map((s) => [s.Id, s.MessageId ?? ""]));
      ids.push(...chunk.map((_, j) => byId.get(String(j)) ?? ""));
    }
    return ids;
  }

  async counts(url = this.url): Promise<{ visible: number; inFlight: number; delayed: number }> {
    const { Attributes } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
      }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  /** Peek at what the dead-letter queue holds (received with visibility 0: it stays there). */
  async deadLetters(): Promise<Message[]> {
    const { Messages } = await this.client.send(
      new ReceiveMessageCommand({ QueueUrl: this.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
    );
    return Messages ?? [];
  }

  /** After an emulator restart: the same names again, empty. */
  async recreate(): Promise<void> {
    await this.#create();
  }

  async close(): Promise<void> {
    for (const url of [this.url, this.dlqUrl]) await this.client.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    this.client.destroy();
  }
}

/**
 * JSON with characters outside the Basic Multilingual Plane written as \u escapes of their
 * UTF-16 halves (still JSON, and what JSON.parse reads back). SQS accepts them raw; the emulator
 * rejects them (InvalidMessageContents), so the tests' producer escapes them.
 */
export function encode(body: unknown): string {
  const escape = (char: string): string => char.split("").map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
  return JSON.stringify(body).replace(/[\u{10000}-\u{10FFFF}]/gu, escape);
}
