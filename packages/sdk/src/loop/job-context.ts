import type { JobContext } from "../handler.js";
import type { Logger } from "../logger.js";
import type { ResourceJob } from "../resources/resources.js";

/**
 * The context object itself: one per job on the hot path, so the data fields are own properties
 * (spreading or logging ctx shows them) and everything derived sits on the prototype, made only
 * when a handler reads it (an AbortSignal costs microseconds to create in Node 20).
 */
export class HandlerContext<J extends ContextJob> implements JobContext {
  readonly id: string;
  readonly payload: unknown;
  readonly attempt: number;
  readonly #job: J;
  readonly #host: ContextHost<J>;
  #log: Logger | undefined;
  #resources: Readonly<Record<string, unknown>> | undefined;

  constructor(job: J, host: ContextHost<J>) {
    this.#job = job;
    this.#host = host;
    this.id = job.delivery.id;
    this.payload = job.delivery.payload;
    this.attempt = job.delivery.attempt;
  }

  get signal(): AbortSignal {
    return this.#job.signal;
  }

  get draining(): AbortSignal {
    return this.#job.drainingSignal(this.#host.draining);
  }

  get log(): Logger {
    return (this.#log ??= this.#host.logger().child({ jobId: this.id }));
  }

  get resources(): Readonly<Record<string, unknown>> {
    return (this.#resources ??= this.#host.resources(this));
  }

  /** For resources: told when `signal` aborts, without making the signal. */
  onAbort(listener: (reason: Error) => void): () => void {
    return this.#job.onStop(listener);
  }

  extendLease(ms: number): Promise<void> {
    return this.#host.extend(this.#job, ms);
  }

  checkpoint(value: unknown): Promise<void> {
    return this.#host.checkpoint(this.#job, value);
  }

  get lastCheckpoint(): unknown {
    return this.#job.resume?.value;
  }
}

/** What a context reads from its job: kept narrow so this file depends on nothing in loop/. */
export interface ContextJob {
  readonly delivery: { readonly id: string; readonly payload: unknown; readonly attempt: number };
  readonly signal: AbortSignal;
  readonly resume: { readonly value: unknown } | undefined;
  drainingSignal(worker: AbortSignal): AbortSignal;
  onStop(listener: (reason: Error) => void): () => void;
}

/** One per worker, shared by every context: no per-job closures. */
export interface ContextHost<J> {
  readonly draining: AbortSignal;
  logger(): Logger;
  extend(job: J, ms: number): Promise<void>;
  /** `ctx.resources` for one job, made when its handler first reads it. */
  resources(ctx: JobContext & ResourceJob): Readonly<Record<string, unknown>>;
  checkpoint(job: J, value: unknown): Promise<void>;
}
