import { coerceError, DrainDeadlineError, LeaseLostError } from "../errors.js";
import type { ReleaseReason, WorkerEvents } from "../events.js";
import type { Handler, JobContext } from "../handler.js";
import type { LeaseKeeper } from "../lease/lease-keeper.js";
import type { Logger } from "../logger.js";
import type { ResourceJob } from "../resources/resources.js";
import type { CheckpointStore } from "../source/checkpoint.js";
import type { Delivery } from "../source/source.js";
import { Checkpointer } from "./checkpoints.js";
import type { Counters } from "../lifecycle/counters.js";
import type { InFlight } from "./in-flight.js";
import { Job, type Settlement } from "./job.js";
import { HandlerContext, type ContextHost } from "./job-context.js";

export interface JobRunnerContext {
  readonly handler: Handler<never>;
  readonly logger: Logger;
  readonly leaseMs: number;
  /** The source's name: the checkpoint store's keys start with it. */
  readonly queue: string;
  readonly checkpointStore: CheckpointStore | undefined;
  /** Whether a job that has just stored a checkpoint is released now (asked only while draining). */
  releaseAfterCheckpoint(): boolean;
  /** ctx.draining for every job. */
  readonly draining: AbortSignal;
  readonly inFlight: InFlight;
  readonly counters: Counters;
  readonly leases: () => LeaseKeeper<Job>;
  emit<K extends keyof WorkerEvents>(name: K, payload: WorkerEvents[K]): void;
  /** Whether an event has a listener (no payload is built per job for one nobody hears). */
  listens(name: keyof WorkerEvents): boolean;
  /** `ctx.resources` for one job. */
  resources?(ctx: JobContext & ResourceJob): Readonly<Record<string, unknown>>;
  /** A job started at `now` (epoch ms; the worker becomes busy). */
  started(now: number): void;
  /** A job left the in-flight set (the worker may become idle, a slot is free). */
  finished(): void;
}

/**
 * Runs handlers and settles each delivery exactly once: ack after success, fail after a throw,
 * release on drain or deadline, nothing (lease lost: the backend owns it again).
 */
export class JobRunner {
  readonly #ctx: JobRunnerContext;
  readonly #host: ContextHost<Job>;
  readonly #checkpoints: Checkpointer;

  constructor(ctx: JobRunnerContext) {
    this.#ctx = ctx;
    this.#checkpoints = new Checkpointer({ queue: ctx.queue, store: ctx.checkpointStore, counters: ctx.counters, logger: () => ctx.logger });
    this.#host = {
      draining: ctx.draining,
      logger: () => ctx.logger,
      extend: (job, ms) => ctx.leases().extend(job, ms),
      resources: (jobCtx) => ctx.resources?.(jobCtx) ?? {},
      checkpoint: (job, value) => this.#checkpoint(job, value),
    };
  }

  /** Take ownership of a received delivery and run its handler (not awaited by the loop). */
  start(delivery: Delivery): void {
    // One clock read: the lease was taken at receipt, and the handler starts in this same tick.
    const now = Date.now();
    const job = new Job(delivery, this.#ctx.leaseMs, now);
    this.#ctx.inFlight.add(job);
    void this.#run(job, now);
  }

  /** Hand back a delivery whose handler never ran (received as the drain began). */
  async releaseUnstarted(delivery: Delivery): Promise<void> {
    const job = new Job(delivery, this.#ctx.leaseMs, Date.now());
    this.#ctx.inFlight.add(job);
    job.claim("released");
    await this.#settle(job, "released", () => delivery.release(), "drain");
    this.#remove(job);
  }

  /** The deadline path: abort the handler's signal, then release. Idempotent per job. */
  async forceRelease(job: Job, reason: "deadline" | "checkpoint" = "deadline"): Promise<void> {
    if (!job.claim("released")) return;
    const why = reason === "deadline" ? "drain deadline reached" : "draining, and the job has just stored a checkpoint";
    job.stop(new DrainDeadlineError(`${why}: delivery ${job.delivery.id} released`));
    await this.#settle(job, "released", () => job.delivery.release(), reason);
    // The handler may still be running; the delivery is no longer ours either way.
    this.#remove(job);
  }

  /** The lease is gone: stop the handler and never ack (another worker may hold the message now). */
  leaseLost(job: Job, error: LeaseLostError): void {
    if (!job.claim("lost")) return;
    job.stop(error);
    this.#ctx.counters.leaseLost++;
    if (job.started) this.#ctx.counters.interrupted++;
    this.#ctx.logger.warn({ jobId: job.delivery.id, err: error }, "lease lost: job aborted");
    this.#ctx.emit("lease:lost", { id: job.delivery.id, error });
    // Free the slot now: the handler was told to stop, and the delivery is not ours any more.
    this.#remove(job);
  }

  async #run(job: Job, now: number): Promise<void> {
    const { delivery } = job;
    const ctx = this.#ctx;
    job.startedAt = now;
    ctx.inFlight.markStarted();
    ctx.started(now);
    if (ctx.listens("job:started")) ctx.emit("job:started", { id: delivery.id, attempt: delivery.attempt });
    // No outcome object per job: the value, or the error (coerceError always gives an Error).
    let value: unknown;
    let error: Error | undefined = delivery.decodeError;
    if (error === undefined) {
      try {
        if (ctx.checkpointStore || delivery.lastCheckpoint !== undefined) await this.#checkpoints.prepare(job);
        value = await ctx.handler(delivery.payload as never, new HandlerContext(job, this.#host));
      } catch (thrown) {
        error = coerceError(thrown);
      }
    }
    if (error === undefined) {
      if (job.claim("completed")) {
        // The common end, inline: no closure and no extra async step per job. The same as
        // #settle(job, "completed", () => delivery.ack(value)).
        const durationMs = Date.now() - job.startedAt;
        let acked = true;
        try {
          await delivery.ack(value);
        } catch (thrown) {
          acked = false;
          this.#refused(job, "completed", thrown);
        }
        if (acked) {
          if (job.resume || job.written) await this.#checkpoints.forget(job);
          ctx.counters.completed++;
          ctx.emit("job:completed", { id: delivery.id, durationMs });
        }
      }
    } else if (job.claim("failed")) {
      const cause = error;
      await this.#settle(job, "failed", () => delivery.fail(cause), undefined, cause);
    }
    this.#remove(job);
  }

  /** The rarer ends (a failure, a release); a completion is settled inline in #run. */
  async #settle(job: Job, how: "failed" | "released", op: () => Promise<void>, reason?: ReleaseReason, cause?: Error): Promise<void> {
    const { counters, emit } = this.#ctx;
    const id = job.delivery.id;
    const durationMs = job.started ? Date.now() - job.startedAt : 0;
    try {
      await op();
    } catch (thrown) {
      this.#refused(job, how, thrown);
      return;
    }
    if (how === "failed") {
      if (job.resume || job.written) await this.#checkpoints.forget(job);
      counters.failed++;
      this.#ctx.logger.warn({ jobId: id, err: cause, attempt: job.delivery.attempt }, "job failed");
      emit("job:failed", { id, durationMs, error: cause ?? new Error("unknown failure") });
    } else {
      counters.released++;
      if (job.started) counters.interrupted++;
      emit("job:released", { id, reason: reason ?? "drain", started: job.started, durationMs });
    }
  }

  /**
   * The backend refused the settle: it will redeliver after the lease, so nothing is lost, but
   * this worker must not count the job as done.
   */
  #refused(job: Job, how: Settlement, thrown: unknown): void {
    const { counters, emit } = this.#ctx;
    const id = job.delivery.id;
    const error = coerceError(thrown);
    if (error instanceof LeaseLostError) {
      counters.leaseLost++;
      emit("lease:lost", { id, error });
    }
    if (job.started) counters.interrupted++;
    this.#ctx.logger.error({ jobId: id, err: error, settle: how }, `settle (${how}) failed`);
    emit("worker:error", { error, during: `settle:${how}` });
  }

  #remove(job: Job): void {
    job.detach();
    if (this.#ctx.inFlight.delete(job)) this.#ctx.finished();
  }

  async #checkpoint(job: Job, value: unknown): Promise<void> {
    await this.#checkpoints.write(job, value);
    // Nothing is left to lose once the checkpoint is stored: hand the job over now rather than
    // hold the drain (and risk a step cut at the deadline).
    if (this.#ctx.draining.aborted && this.#ctx.releaseAfterCheckpoint()) await this.forceRelease(job, "checkpoint");
  }

}
