// Shared by the SQS process-level tests: the fixture worker, the side-effect log, the event log.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FauxqsInfo } from "../harness/fauxqs.js";
import { countLines, jsonLines } from "../harness/fixture-log.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";
import { TestQueue, type QueueSpec } from "./queues.js";

const script = fileURLToPath(new URL("../fixtures/sqs/worker.mjs", import.meta.url));

export interface FixtureEnv {
  readonly concurrency?: number;
  readonly visibilitySeconds?: number;
  readonly waitSeconds?: number;
  readonly batchSize?: number;
  readonly releaseMode?: "visibility" | "resend";
  readonly requestTimeoutMs?: number;
  readonly extra?: Readonly<Record<string, string>>;
}

export interface FixtureEvent {
  readonly pid: number;
  readonly t: number;
  readonly event: string;
  readonly [key: string]: unknown;
}

/** One queue on one emulator, the workers draining it, and the file their handlers append to. */
export class SqsScenario {
  readonly #dir = mkdtempSync(join(tmpdir(), "quiesce-sqs-"));
  readonly effectsFile = join(this.#dir, "effects.log");

  private constructor(
    readonly info: FauxqsInfo,
    readonly queue: TestQueue,
  ) {}

  static async create(info: FauxqsInfo, spec: QueueSpec = {}): Promise<SqsScenario> {
    return new SqsScenario(info, await TestQueue.create(info, spec));
  }

  spawn(env: FixtureEnv = {}, queueUrl = this.queue.url): WorkerProcess {
    return spawnSqsWorker(this.info.endpoint, queueUrl, env, this.effectsFile);
  }

  /** Message id → how many handlers did the message's work (the side effect). */
  effects(): Map<string, number> {
    return countLines(this.effectsFile);
  }

  async close(): Promise<void> {
    await this.queue.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The fixture's JSON lines, parsed; `name` keeps one kind. */
export function events(worker: WorkerProcess, name?: string): FixtureEvent[] {
  return jsonLines<FixtureEvent>(worker.stdout).filter((e) => name === undefined || e.event === name);
}

/** The fixture worker on any endpoint and queue URL (also ones where nothing answers). */
export function spawnSqsWorker(endpoint: string, queueUrl: string, env: FixtureEnv = {}, effectsFile?: string): WorkerProcess {
  const optional = (name: string, value: number | string | undefined): Record<string, string> => (value === undefined ? {} : { [name]: String(value) });
  return spawnWorker(script, {
    env: {
      FIXTURE_SQS_ENDPOINT: endpoint,
      FIXTURE_QUEUE_URL: queueUrl,
      ...optional("FIXTURE_EFFECTS_FILE", effectsFile),
      QUIESCE_CONCURRENCY: String(env.concurrency ?? 1),
      QUIESCE_LOG_LEVEL: "warn",
      ...optional("FIXTURE_VISIBILITY_S", env.visibilitySeconds),
      ...optional("FIXTURE_WAIT_S", env.waitSeconds),
      ...optional("FIXTURE_BATCH_SIZE", env.batchSize),
      ...optional("FIXTURE_RELEASE_MODE", env.releaseMode),
      ...optional("FIXTURE_REQUEST_TIMEOUT_MS", env.requestTimeoutMs),
      ...env.extra,
    },
  });
}
