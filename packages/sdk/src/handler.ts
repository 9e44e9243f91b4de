/**
 * What user code provides and receives: the handler and its per-job context. A module of its own
 * so that options (which take a handler) and the job loop (which calls it) both depend on it and
 * not on each other.
 */
import type { Logger } from "./logger.js";

/** The handler: its return value is handed to `ack`; a throw or rejection fails the delivery. */
export type Handler<Payload = unknown, Resources = Readonly<Record<string, unknown>>> = (payload: Payload, ctx: JobContext<Resources>) => unknown;

/** What a handler receives next to its payload. */
export interface JobContext<Resources = Readonly<Record<string, unknown>>> {
  /** Backend message id. */
  readonly id: string;
  readonly payload: unknown;
  /** 1 on the first delivery; drains and deadlines do not consume attempts where the backend allows. */
  readonly attempt: number;
  /**
   * Aborts when the job must stop now: the drain deadline came (the delivery is being released) or
   * the lease was lost (another worker may hold it). Pass it to every call that accepts a signal.
   */
  readonly signal: AbortSignal;
  /** Aborts when the worker starts draining: finish up, but the job may still complete. */
  readonly draining: AbortSignal;
  /** Renew the lease for `ms` from now (the lease keeper also renews on its own). */
  extendLease(ms: number): Promise<void>;
  /**
   * Store a JSON-serialisable value durably with the job, replacing the previous one; resolves once
   * stored. A later delivery of the same message (after a release, a lost lease, a crash) reads it
   * as `lastCheckpoint`. Rejects with a CheckpointError (the job goes on) when the value is not
   * JSON, too large for the backend, or the job is no longer this worker's. Once the worker is
   * draining, a stored checkpoint releases the job at once (ctx.signal aborts): stop at the next
   * step, the next worker resumes from here. A checkpoint is gone once the job is acked or failed.
   */
  checkpoint(value: unknown): Promise<void>;
  /** What the latest earlier attempt stored with `checkpoint()`, or undefined on a first run. */
  readonly lastCheckpoint: unknown;
  /** Logger bound to this job's id. */
  readonly log: Logger;
  /** The worker's resources, each bound to this job (a pg resource cancels its queries with `signal`). */
  readonly resources: Resources;
}
