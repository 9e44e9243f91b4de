import { coerceError, DrainDeadlineError, LeaseLostError } from "../errors.js";
import type { ReleaseReason, WorkerEvents } from "../events.js";
import type { Handler, JobContext } from "../handler.js";
import type { LeaseKeeper } from "../lease/lease-keeper.js";
import type { Logger } from "../logger.js";
import type { ResourceJob } from "../resources/resources.js";
import type { Delivery } from "../source/source.js";
import type { Counters } from "../lifecycle/counters.js";
import type { InFlight } from "./in-flight.js";
import { Job, type Settlement } from "./job.js";
import { HandlerContext, type ContextHost } from "./job-context.js";

export interface JobRunnerContext {
  readonly handler: Handler<never>;
  readonly logger: Logger;
  readonly leaseMs: number;
  /** ctx.draining for every job. */
  readonly draining: AbortSignal;
  readonly inFlight: InFlight;
  readonly counters: Counters;
  readonly leases: () => LeaseKeeper<Job>;
  emit<K extends keyof WorkerEvents>(name: K, payload: WorkerEvents[K]): void;
  /** `ctx.resources` for one job. */
  resources?(ctx: JobContext & ResourceJob): Readonly<Record<string, unknown>>;
  /** A job started (the worker becomes busy). */
  started(): void;
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

  constructor(ctx: JobRunnerContext) {
    this.#ctx = ctx;
    this.#host = {
      draining: ctx.draining,
      logger: () => ctx.logger,
      extend: (job, ms) => ctx.leases().extend(job, ms),
      resources: (jobCtx) => ctx.resources?.(jobCtx) ?? {},
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
  async forceRelease(job: Job): Promise<void> {
    if (!job.claim("released")) return;
    job.stop(new DrainDeadlineError(`drain deadline reached: delivery ${job.delivery.id} released`));
    await this.#settle(job, "released", () => job.delivery.release(), "deadline");
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
    ctx.started();
    ctx.emit("job:started", { id: delivery.id, attempt: delivery.attempt });
    // No outcome object per job: the value, or the error (coerceError always gives an Error).
    let value: unknown;
    let error: Error | undefined = delivery.decodeError;
    if (error === undefined) {
      try {
        value = await ctx.handler(delivery.payload as never, new HandlerContext(job, this.#host));
      } catch (thrown) {
        error = coerceError(thrown);
      }
    }
    if (error === undefined) {
      if (job.claim("completed")) await this.#settle(job, "completed", () => delivery.ack(value));
    } else if (job.claim("failed")) {
      const cause = error;
      await this.#settle(job, "failed", () => delivery.fail(cause), undefined, cause);
    }
    this.#remove(job);
  }

  async #settle(job: Job, how: Settlement, op: () => Promise<void>, reason?: ReleaseReason, cause?: Error): Promise<void> {
    const { counters, emit, logger } = this.#ctx;
    const id = job.delivery.id;
    const durationMs = job.started ? Date.now() - job.startedAt : 0;
    try {
      await op();
    } catch (thrown) {
      const error = coerceError(thrown);
      // The backend refused the settle: it will redeliver after the lease, so nothing is lost,
      // but this worker must not count the job as done.
      if (error instanceof LeaseLostError) {
        counters.leaseLost++;
        emit("lease:lost", { id, error });
      }
      if (job.started) counters.interrupted++;
      logger.error({ jobId: id, err: error, settle: how }, `settle (${how}) failed`);
      emit("worker:error", { error, during: `settle:${how}` });
      return;
    }
    switch (how) {
      case "completed":
        counters.completed++;
        emit("job:completed", { id, durationMs });
        break;
      case "failed":
        counters.failed++;
        logger.warn({ jobId: id, err: cause, attempt: job.delivery.attempt }, "job failed");
        emit("job:failed", { id, durationMs, error: cause ?? new Error("unknown failure") });
        break;
      case "released":
        counters.released++;
        if (job.started) counters.interrupted++;
        emit("job:released", { id, reason: reason ?? "drain", started: job.started, durationMs });
        break;
      case "lost":
        break;
    }
  }

  #remove(job: Job): void {
    job.detach();
    if (this.#ctx.inFlight.delete(job)) this.#ctx.finished();
  }
}
