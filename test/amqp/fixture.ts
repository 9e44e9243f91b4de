// Shared by the RabbitMQ process-level tests: the fixture worker, a queue admin, the side-effect log.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type ChannelModel, type ConfirmChannel } from "amqplib";
import { jsonLines } from "../harness/fixture-log.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";

const script = fileURLToPath(new URL("../fixtures/amqp/worker.mjs", import.meta.url));

export interface FixtureEnv {
  readonly concurrency?: number;
  readonly prefetch?: number;
  readonly maxAttempts?: number;
  readonly checkMs?: number;
  readonly consumerTimeoutMs?: number;
  readonly extra?: Readonly<Record<string, string>>;
}

export interface QueueCounts {
  readonly ready: number;
  readonly dead: number;
}

/** One durable queue (with a dead-letter queue) on one broker, the workers on it, and their side effects. */
export class AmqpScenario {
  readonly dead: string;
  readonly #dir = mkdtempSync(join(tmpdir(), "quiesce-amqp-"));
  readonly effectsFile = join(this.#dir, "effects.log");
  #admin: ChannelModel | null = null;
  #channel: ConfirmChannel | null = null;

  private constructor(
    readonly url: string,
    readonly name: string,
    readonly type: "classic" | "quorum",
  ) {
    this.dead = `${name}.dead`;
  }

  static async create(url: string, name: string, type: "classic" | "quorum" = "classic"): Promise<AmqpScenario> {
    const scenario = new AmqpScenario(url, name, type);
    const channel = await scenario.channel();
    await channel.assertQueue(scenario.dead, { durable: true });
    await channel.assertQueue(name, { durable: true, arguments: { "x-queue-type": type, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": scenario.dead } });
    return scenario;
  }

  /** A scenario whose broker is not there: only spawn() works. */
  static unconnected(url: string, name: string): AmqpScenario {
    return new AmqpScenario(url, name, "classic");
  }

  /** The admin channel, reopened after a broker-side fault closed it. */
  async channel(): Promise<ConfirmChannel> {
    if (this.#channel) return this.#channel;
    const admin = await connect(this.url);
    admin.on("error", () => undefined);
    admin.on("close", () => {
      this.#admin = null;
      this.#channel = null;
    });
    const channel = await admin.createConfirmChannel();
    channel.on("error", () => undefined);
    this.#admin = admin;
    this.#channel = channel;
    return channel;
  }

  /** Persistent JSON messages with a message id each, confirmed. Returns the ids. */
  async publish(bodies: readonly unknown[]): Promise<string[]> {
    const channel = await this.channel();
    const ids = bodies.map(() => randomUUID());
    bodies.forEach((body, i) => channel.sendToQueue(this.name, Buffer.from(JSON.stringify(body)), { persistent: true, messageId: ids[i]!, contentType: "application/json" }));
    await channel.waitForConfirms();
    return ids;
  }

  async publishRaw(content: Buffer): Promise<string> {
    const channel = await this.channel();
    const id = randomUUID();
    channel.sendToQueue(this.name, content, { persistent: true, messageId: id });
    await channel.waitForConfirms();
    return id;
  }

  async counts(): Promise<QueueCounts> {
    const channel = await this.channel();
    return { ready: (await channel.checkQueue(this.name)).messageCount, dead: (await channel.checkQueue(this.dead)).messageCount };
  }

  /** Take every dead-lettered message off the dead-letter queue. */
  async deadLetters(): Promise<Array<{ body: string; headers: Record<string, unknown> }>> {
    const channel = await this.channel();
    const got: Array<{ body: string; headers: Record<string, unknown> }> = [];
    for (;;) {
      const message = await channel.get(this.dead, { noAck: true });
      if (!message) return got;
      got.push({ body: message.content.toString(), headers: (message.properties.headers ?? {}) as Record<string, unknown> });
    }
  }

  spawn(env: FixtureEnv = {}): WorkerProcess {
    const optional = (name: string, value: number | undefined) => (value === undefined ? {} : { [name]: String(value) });
    return spawnWorker(script, {
      env: {
        FIXTURE_AMQP_URL: this.url,
        FIXTURE_QUEUE: this.name,
        FIXTURE_EFFECTS_FILE: this.effectsFile,
        QUIESCE_CONCURRENCY: String(env.concurrency ?? 1),
        QUIESCE_LOG_LEVEL: "warn",
        ...optional("FIXTURE_PREFETCH", env.prefetch),
        ...optional("FIXTURE_MAX_ATTEMPTS", env.maxAttempts),
        ...optional("FIXTURE_CHECK_MS", env.checkMs),
        ...optional("FIXTURE_CONSUMER_TIMEOUT_MS", env.consumerTimeoutMs),
        ...env.extra,
      },
    });
  }

  /** Message n → how many handlers did its work (the side effect). */
  effects(): Map<number, number> {
    const counts = new Map<number, number>();
    let text = "";
    try {
      text = readFileSync(this.effectsFile, "utf8");
    } catch {
      return counts;
    }
    for (const n of text.split("\n").filter(Boolean).map(Number)) counts.set(n, (counts.get(n) ?? 0) + 1);
    return counts;
  }

  async close(): Promise<void> {
    try {
      const channel = await this.channel();
      await channel.deleteQueue(this.name);
      await channel.deleteQueue(this.dead);
    } catch {
      // The broker may be gone (a test stopped it): nothing to delete then.
    }
    await this.#admin?.close().catch(() => undefined);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export type WorkerEvent = Record<string, unknown> & { event: string; pid: number; at: number };

/** The fixture's JSON lines, parsed. */
export function events(worker: WorkerProcess): WorkerEvent[] {
  return jsonLines<WorkerEvent>(worker.stdout);
}

export const ofKind = (log: readonly WorkerEvent[], kind: string): WorkerEvent[] => log.filter((e) => e.event === kind);
