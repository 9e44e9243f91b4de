/**
 * What user code provides and receives: the handler and its per-job context. A module of its own
 * so that options (which take a handler) and the job loop (which calls it) both depend on it and
 * not on each other.
 */
import type { Logger } from "./logger.js";

/** The handler: its return value is handed to `ack`; a throw or rejection fails the delivery. */
export type Handler<Payload = unknown> = (payload: Payload, ctx: JobContext) => unknown;

/** What a handler receives next to its payload. */
export interface JobContext {
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
  /** Logger bound to this job's id. */
  readonly log: Logger;
}
