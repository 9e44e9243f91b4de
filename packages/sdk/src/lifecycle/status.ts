import type { Counters } from "./counters.js";
import type { WorkerState } from "./states.js";

/**
 * The one snapshot every observer reads: `/status`, `/readyz`, the metrics' collect() and the pod
 * reporter. Nobody else keeps counters of their own.
 */
export interface WorkerStatus {
  readonly state: WorkerState;
  /** Queue (source) name. */
  readonly queue: string;
  readonly concurrency: number;
  /** Jobs whose handler is running. */
  readonly inFlight: number;
  /** Deliveries received and not yet settled (in flight plus those waiting for a slot). */
  readonly held: number;
  readonly completed: number;
  readonly failed: number;
  /** Deliveries handed back to the queue: unstarted on drain, at the deadline, or on request. */
  readonly released: number;
  /** Started jobs that did not finish: released at the deadline or lost their lease. */
  readonly interrupted: number;
  readonly leaseExtensions: number;
  readonly leaseLost: number;
  /** Checkpoints stored by handlers. */
  readonly checkpoints: number;
  /** Jobs that started from an earlier attempt's checkpoint. */
  readonly resumed: number;
  /** Seconds of earlier attempts' work that resumes did not redo. */
  readonly resumeSavedSeconds: number;
  // Every time is an ISO 8601 UTC string (`2026-01-01T12:00:00.000Z`), as in Kubernetes objects.
  /** When the state last changed. */
  readonly since: string;
  /** When the worker was created. */
  readonly startedAt: string;
  /** When the oldest running job started, or null when none runs. */
  readonly oldestJobStartedAt: string | null;
  /** Why the drain started, once it has. */
  readonly drainReason: string | null;
  /** When in-flight work is released, once draining. */
  readonly drainDeadline: string | null;
  /**
   * The source's view of its broker link, for sources that report one (`Source.status()`; the
   * same shape as `SourceStatus`, spelled out here because lifecycle/ sits beside source/).
   */
  readonly source?: { readonly connected: boolean; readonly blocked: string | null };
}

/**
 * The same snapshot as the worker's observers read it: the public status, every running total
 * (a counter added to {@link Counters} appears here by itself), and what only observers need.
 * `/status` and `worker.status()` show the {@link WorkerStatus} part alone.
 */
export interface WorkerSnapshot extends WorkerStatus, Readonly<Counters> {
  /** Cumulative pod annotation patches of the Kubernetes reporter; absent without one. */
  readonly podWrites?: { readonly ok: number; readonly failed: number };
  /** p99 of recent job durations in ms, once enough jobs finished (20) for it to mean something. */
  readonly recentJobP99Ms?: number;
}

/** What a finished drain hands back to `drain()`, `run()` and `/drain` callers. */
export interface DrainReport {
  readonly reason: string;
  /** 0 clean, 143 unfinished work handed back on a signal, 1 fatal. */
  readonly exitCode: 0 | 1 | 143;
  /** "graceful": every job finished; "forced": the deadline (or a second signal) released work. */
  readonly path: "graceful" | "forced";
  readonly completed: number;
  readonly failed: number;
  readonly released: number;
  readonly interrupted: number;
  readonly durationMs: number;
  /** For exit-when-empty: the queue was seen empty before the drain. */
  readonly queueSeenEmpty: boolean;
  /** Present when the drain came from a fatal error: the one-line reason. */
  readonly error?: string;
  /** Errors raised while closing the source, resources and servers. */
  readonly cleanupErrors: readonly string[];
}
