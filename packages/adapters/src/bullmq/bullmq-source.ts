import { setImmediate as yieldToEventLoop, setTimeout as sleep } from "node:timers/promises";
import type { Job, Queue } from "bullmq";
import { IllegalStateError, SourceError, coerceError } from "@quiesce/sdk";
import type { Delivery, QueueDepth, Source } from "@quiesce/sdk";
import { BullmqDelivery, type DeliveryHost } from "./bullmq-delivery.js";
import { address, openMainConnection, type MainConnection } from "../redis/connection.js";
import { Fetcher } from "./fetcher.js";
import { dropCheckpoint, saveCheckpoint } from "./checkpoints.js";
import { loadBullmq, loadRedis, type BullmqModule } from "./load.js";
import { expired, withBound } from "@quiesce/sdk/source-kit";
import { createManualWorker, type ManualWorker } from "./manual-worker.js";
import type { ResolvedBullmqOptions } from "./options.js";

/** The connected parts, created together by start() and closed in reverse by stop(). */
interface Parts {
  readonly bullmq: BullmqModule;
  readonly connection: MainConnection;
  readonly worker: ManualWorker;
  readonly queue: Queue;
  readonly fetcher: Fetcher;
}

/** created → running ⇄ paused → stopped. Only receive() in running hands out jobs. */
type State = "created" | "running" | "paused" | "stopped";

const settleBoundMs = 2_000;
/** Longest one fetch sleeps for a rate limit before answering [] (the runtime asks again). */
const maxRateLimitWaitMs = 1_000;

/**
 * A {@link Source} over BullMQ's manual processing: a processor-less `Worker`, `getNextJob` with a
 * token per job, and the job's own lock scripts to extend, complete, fail and release.
 *
 * Why not an owned `Worker` with a processor: its main loop decides when to fetch and keeps
 * fetching until `close()`/`pause()` take effect, it renews locks with its own timer next to the
 * runtime's lease keeper, and it offers no way to hand an unstarted job back (its close waits for
 * jobs to finish). The manual API gives each guarantee a direct handle: nothing is fetched unless
 * `receive()` asks (no receive after pause); held jobs go back with `moveToWait` at once and
 * without an attempt; `extendLock` reports a lost lock; every finishing script checks our token
 * in Redis (no ack by a holder whose lock was taken, no double completion). What the owned worker
 * gives for free is kept: one script call per job (an ack fetches the next job), its blocking
 * fetch, and its stalled-job check, started here so that jobs of a SIGKILLed worker come back.
 */
export class BullmqSource implements Source {
  readonly name: string;
  readonly leaseMs: number;
  readonly #options: ResolvedBullmqOptions;
  #state: State = "created";
  #parts: Parts | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #lastError: Error | null = null;
  #tokens = 0;
  readonly #host: DeliveryHost;

  constructor(options: ResolvedBullmqOptions) {
    this.#options = options;
    this.name = options.queue;
    this.leaseMs = options.lockDurationMs;
    const running = (): boolean => this.#state === "running";
    this.#host = {
      get fetchNext() {
        return running();
      },
      adopt: (next, token) => this.#adopt(next, token),
      unrecoverable: (message) => new (this.#require().bullmq.UnrecoverableError)(message),
      saveCheckpoint: (jobId, token, data) => {
        const { connection, worker } = this.#require();
        return saveCheckpoint(connection.client, worker.toKey(jobId), token, data);
      },
      dropCheckpoint: (jobId) => {
        const { connection, worker } = this.#require();
        return dropCheckpoint(connection.client, worker.toKey(jobId));
      },
    };
  }

  start(): Promise<void> {
    if (this.#state === "stopped") return Promise.reject(new IllegalStateError(`BullMQ source "${this.name}": start() after stop()`));
    if (this.#parts) {
      // Started again after a pause: take work again.
      if (this.#state === "paused") {
        this.#state = "running";
        this.#parts.fetcher.reopen();
      }
      return Promise.resolve();
    }
    this.#starting ??= this.#connect().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`BullMQ source receive(max): max must be a positive integer, got ${max}`);
    if (this.#state === "created" || this.#state === "stopped" || !this.#parts) {
      throw new IllegalStateError(`BullMQ source "${this.name}": receive() while ${this.#state}: ${this.#state === "stopped" ? "it was stopped" : "call start() first"}`);
    }
    if (this.#state !== "running" || signal.aborted) return [];
    const { fetcher, worker, connection } = this.#parts;
    // Commands wait for the reconnect (maxRetriesPerRequest: null), so nothing else would tell
    // the runtime that Redis is gone: fail the receive, and the runtime backs off, then gives up
    // (exit 1) if Redis stays away. Jobs in flight keep their place: their acks wait and land.
    if (connection.client.status !== "ready") throw this.#disconnected(connection);
    let jobs: Job[];
    try {
      const taken = fetcher.take(max, signal);
      jobs = Array.isArray(taken) ? taken : await taken;
    } catch (thrown) {
      if (thrown instanceof SourceError) throw thrown;
      throw new SourceError(`BullMQ getNextJob failed on queue "${this.name}": ${coerceError(thrown).message}`, { cause: thrown });
    }
    const deliveries: Delivery[] = new Array<Delivery>(jobs.length);
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job;
      deliveries[i] = new BullmqDelivery(job, job.token ?? "", this.#host, worker.decodeErrorOf(job));
    }
    return deliveries;
  }

  #disconnected(connection: MainConnection): SourceError {
    const last = connection.lastError() ?? this.#lastError;
    const cause = last ? `: ${last.message}` : "";
    return new SourceError(`BullMQ: Redis at ${address(connection.client)} is not connected (${connection.client.status})${cause}`, { cause: last });
  }

  async pause(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "paused";
    // Interrupt a long poll (BullMQ drops its blocking connection; the poll takes no job), and
    // hand back every job held but not yet received, so other workers get them now.
    await this.#parts?.fetcher.close(true);
  }

  async depth(): Promise<QueueDepth> {
    const { queue } = this.#require();
    let counts: Record<string, number>;
    try {
      counts = await queue.getJobCounts("wait", "prioritized", "active", "delayed");
    } catch (thrown) {
      throw new SourceError(`BullMQ getJobCounts failed on queue "${this.name}": ${coerceError(thrown).message}`, { cause: thrown });
    }
    return { waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0), inFlight: counts.active ?? 0, delayed: counts.delayed ?? 0 };
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #connect(): Promise<void> {
    const options = this.#options;
    const [bullmq, Redis] = await Promise.all([loadBullmq(), loadRedis()]);
    let connection: MainConnection;
    try {
      connection = await openMainConnection(Redis, options, options.connectTimeoutMs);
    } catch (thrown) {
      throw new SourceError(`BullMQ connect failed for queue "${this.name}": ${coerceError(thrown).message}`, { cause: thrown });
    }
    const cleanups: (() => Promise<unknown>)[] = [() => connection.close()];
    try {
      const worker = createManualWorker(bullmq, options.queue, {
        connection: connection.client,
        prefix: options.prefix,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        maxStalledCount: options.maxStalledCount,
        drainDelay: options.pollTimeoutMs / 1000,
        autorun: false,
      });
      // Without a listener an 'error' event would throw; connection errors are retried by
      // ioredis and BullMQ, and the last one is kept for the messages we do raise.
      worker.on("error", (error) => this.#remember(error));
      cleanups.push(() => worker.close(true));
      const queue = new bullmq.Queue(options.queue, { connection: connection.client, prefix: options.prefix });
      queue.on("error", (error) => this.#remember(error));
      cleanups.push(() => queue.close());
      // BullMQ duplicates the client for its blocking fetch; wait for that one too.
      await withTimeout(worker.waitUntilReady(), options.connectTimeoutMs, () => `BullMQ's blocking connection was not ready within ${options.connectTimeoutMs} ms`);
      // A processor-less worker does not run the stalled-job check by itself. It is what brings
      // back the jobs of a worker that died without releasing them (SIGKILL, OOM, node loss).
      await worker.startStalledCheckTimer();
      const fetcher = new Fetcher({
        fetch: () => this.#fetch(worker),
        interrupt: () => this.#interruptPoll(worker),
        release: (job) => job.moveToWait(job.token ?? "").then(() => undefined),
        report: (error) => this.#remember(error),
        leaseMs: this.leaseMs,
      });
      if (this.#state === "paused") await fetcher.close(false);
      connection.onClose(() => fetcher.interruptWaiters(this.#disconnected(connection)));
      this.#parts = { bullmq, connection, worker, queue, fetcher };
      if (this.#state === "created") this.#state = "running";
    } catch (thrown) {
      await runCleanups(cleanups.reverse());
      const last = this.#lastError ? ` (last Redis error: ${this.#lastError.message})` : "";
      throw new SourceError(`BullMQ start failed for queue "${this.name}": ${coerceError(thrown).message}${last}`, { cause: thrown });
    }
  }

  async #fetch(worker: ManualWorker): Promise<Job | undefined> {
    const token = `${worker.id}:${++this.#tokens}`;
    const job = await worker.getNextJob(token, { block: true });
    if (job) return this.#screen(job, token);
    // An empty answer can come without any I/O (a rate limit, a delayed job not yet due): wait
    // out a rate limit as BullMQ's own loop does (bounded, so a stop is never held up long), and
    // always give timers and sockets a turn, or receive → [] → receive would starve the process.
    const limitedMs = Math.min(worker.rateLimitedForMs(), this.#options.pollTimeoutMs, maxRateLimitWaitMs);
    if (limitedMs > 0) await sleep(limitedMs, undefined, { ref: false });
    else await yieldToEventLoop(undefined, { ref: false });
    return undefined;
  }

  /**
   * Cut a long poll short the way BullMQ's own close() does: drop the blocking connection (BullMQ
   * reconnects it, and the interrupted poll takes no job). Without `getBackend` (bullmq 5) the poll
   * ends by itself within pollTimeoutMs; a job it takes then goes straight back.
   */
  #interruptPoll(worker: ManualWorker): void {
    const backend = typeof worker.getBackend === "function" ? worker.getBackend() : undefined;
    if (typeof backend?.disconnectBlocking !== "function") return;
    backend.disconnectBlocking(true).catch((error: unknown) => this.#remember(error));
  }

  async #adopt(next: readonly unknown[], token: string): Promise<void> {
    const { worker, fetcher } = this.#require();
    try {
      const job = await worker.adopt(next, token);
      // No further await on the common path (a job to run): this runs once per job.
      const usable = job?.deferredFailure ? await this.#screen(job, token) : job;
      if (usable) {
        const released = fetcher.hold(usable);
        if (released) await released;
      }
    } catch (thrown) {
      // The ack itself succeeded. The next job stays locked and unrenewed; BullMQ's stalled-job
      // check hands it out again after the lock expires.
      this.#remember(thrown);
    }
  }

  /**
   * A job that stalled more than maxStalledCount times comes back marked for failure; BullMQ's own
   * worker fails it without running it, and so does this source.
   */
  async #screen(job: Job, token: string): Promise<Job | undefined> {
    if (!job.deferredFailure) return job;
    const { bullmq } = this.#require();
    await job.moveToFailed(new bullmq.UnrecoverableError(job.deferredFailure), token, false);
    return undefined;
  }

  async #close(): Promise<void> {
    this.#state = "stopped";
    await this.#starting?.catch(() => undefined);
    const parts = this.#parts;
    if (!parts) return;
    const errors = await runCleanups([
      () => parts.fetcher.close(false),
      // force: drop the blocking connection (no wait for a long poll); the main connection is
      // ours, not the worker's, so a late fetch can still hand its job back below.
      () => parts.worker.close(true),
      () => withTimeout(parts.fetcher.settled(), settleBoundMs, () => `a fetch in flight did not settle within ${settleBoundMs} ms`),
      () => parts.queue.close(),
      () => parts.connection.close(),
    ]);
    if (errors.length === 1) throw new SourceError(`BullMQ stop failed for queue "${this.name}": ${errors[0]?.message}`, { cause: errors[0] });
    if (errors.length > 1) throw new AggregateError(errors, `BullMQ stop failed for queue "${this.name}": ${errors.map((e) => e.message).join("; ")}`);
  }

  #require(): Parts {
    if (!this.#parts) throw new IllegalStateError(`BullMQ source "${this.name}": not started`);
    return this.#parts;
  }

  #remember(error: unknown): void {
    this.#lastError = coerceError(error);
  }
}

/** Run every step even when one fails; return what failed. */
async function runCleanups(steps: readonly (() => Promise<unknown>)[]): Promise<Error[]> {
  const errors: Error[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (thrown) {
      errors.push(coerceError(thrown));
    }
  }
  return errors;
}

/** Await at most `ms`; past it, reject with `message()`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  const result = await withBound(promise, ms);
  if (result === expired) throw new Error(message());
  return result;
}
