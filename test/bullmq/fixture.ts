// Shared by the BullMQ process-level tests: the fixture worker, a queue admin, the side-effect log.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, type Job } from "bullmq";
import { Redis } from "ioredis";
import { countLines, jsonLines } from "../harness/fixture-log.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";

const script = fileURLToPath(new URL("../fixtures/bullmq/worker.mjs", import.meta.url));

export interface FixtureEnv {
  readonly concurrency?: number;
  readonly lockMs?: number;
  readonly stalledMs?: number;
  readonly extra?: Readonly<Record<string, string>>;
}

/** One queue on one Redis, the workers draining it, and the file their handlers append to. */
export class BullmqScenario {
  readonly admin: Redis;
  readonly queue: Queue;
  readonly #dir = mkdtempSync(join(tmpdir(), "quiesce-bullmq-"));
  readonly effectsFile = join(this.#dir, "effects.log");

  constructor(
    readonly port: number,
    readonly name: string,
  ) {
    this.admin = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: null });
    // Some tests stop or restart Redis under it: it reconnects; its errors are not the test's.
    this.admin.on("error", () => undefined);
    this.queue = new Queue(name, { connection: this.admin });
    this.queue.on("error", () => undefined);
  }

  spawn(env: FixtureEnv = {}): WorkerProcess {
    return spawnWorker(script, {
      env: {
        FIXTURE_REDIS_PORT: String(this.port),
        FIXTURE_QUEUE: this.name,
        FIXTURE_EFFECTS_FILE: this.effectsFile,
        QUIESCE_CONCURRENCY: String(env.concurrency ?? 1),
        QUIESCE_LOG_LEVEL: "warn",
        ...(env.lockMs ? { FIXTURE_LOCK_MS: String(env.lockMs) } : {}),
        ...(env.stalledMs ? { FIXTURE_STALLED_MS: String(env.stalledMs) } : {}),
        ...env.extra,
      },
    });
  }

  /** Job id → how many handlers did the job's work (the side effect). */
  effects(): Map<string, number> {
    return countLines(this.effectsFile);
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts("wait", "prioritized", "active", "delayed", "completed", "failed");
  }

  async completedJobs(): Promise<Job[]> {
    return this.queue.getCompleted(0, -1);
  }

  async close(): Promise<void> {
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
    await this.admin.quit().catch(() => this.admin.disconnect());
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The fixture's JSON lines, parsed. */
export function events(worker: WorkerProcess): Array<Record<string, unknown>> {
  return jsonLines(worker.stdout);
}
