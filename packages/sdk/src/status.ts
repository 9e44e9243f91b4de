import type { DrainController } from "./drain/drain-controller.js";
import type { Lifecycle } from "./lifecycle/lifecycle.js";
import type { WorkerSnapshot, WorkerStatus } from "./lifecycle/status.js";
import type { Counters } from "./lifecycle/counters.js";
import type { InFlight } from "./loop/in-flight.js";
import type { DurationWindow } from "./metrics/duration-window.js";
import type { SourceStatus } from "./source/source.js";

/** Where each part of the snapshot is read from; nothing here keeps a count of its own. */
export interface SnapshotParts {
  readonly queue: string;
  readonly concurrency: number;
  readonly createdAt: number;
  readonly lifecycle: Lifecycle;
  readonly inFlight: InFlight;
  readonly counters: Readonly<Counters>;
  readonly drain: DrainController;
  /** Recent job durations (the metrics' window). */
  durations(): DurationWindow | undefined;
  podWrites(): { readonly ok: number; readonly failed: number } | undefined;
  /** The source's own report of its link (`Source.status()`), when it has one. */
  sourceStatus(): SourceStatus | undefined;
}

/** A p99 of fewer jobs than this says little about the next long one. */
const minJobsForP99 = 20;

/** The one snapshot every observer reads: `/status`, `/readyz`, the metrics and the pod reporter. */
export function takeSnapshot(parts: SnapshotParts): WorkerSnapshot {
  const c = parts.counters;
  const durations = parts.durations();
  const podWrites = parts.podWrites();
  const source = parts.sourceStatus();
  const p99 = durations && durations.count >= minJobsForP99 ? durations.quantile(0.99) : undefined;
  return {
    ...c,
    state: parts.lifecycle.state,
    queue: parts.queue,
    concurrency: parts.concurrency,
    inFlight: parts.inFlight.running,
    held: parts.inFlight.held,
    since: new Date(parts.lifecycle.since).toISOString(),
    startedAt: new Date(parts.createdAt).toISOString(),
    oldestJobStartedAt: isoOrNull(parts.inFlight.oldestStart()),
    drainReason: parts.drain.reason,
    drainDeadline: isoOrNull(parts.drain.deadline),
    ...(source ? { source } : {}),
    ...(podWrites ? { podWrites } : {}),
    ...(p99 === undefined ? {} : { recentJobP99Ms: p99 }),
  };
}

/** The public part of a snapshot: exactly the fields `/status` has always shown, in their order (then the source's link, for a source that reports it). */
export function publicStatus(s: WorkerSnapshot): WorkerStatus {
  return {
    state: s.state,
    queue: s.queue,
    concurrency: s.concurrency,
    inFlight: s.inFlight,
    held: s.held,
    completed: s.completed,
    failed: s.failed,
    released: s.released,
    interrupted: s.interrupted,
    leaseExtensions: s.leaseExtensions,
    leaseLost: s.leaseLost,
    checkpoints: s.checkpoints,
    resumed: s.resumed,
    resumeSavedSeconds: s.resumeSavedSeconds,
    since: s.since,
    startedAt: s.startedAt,
    oldestJobStartedAt: s.oldestJobStartedAt,
    drainReason: s.drainReason,
    drainDeadline: s.drainDeadline,
    ...(s.source ? { source: s.source } : {}),
  };
}

const isoOrNull = (epochMs: number | null): string | null => (epochMs === null ? null : new Date(epochMs).toISOString());
