/**
 * The drain's policy as pure functions: when in-flight work must be released, and which exit code
 * a finished drain reports. Changing either rule is a change to this file alone.
 */

export interface DeadlineInputs {
  /** The grace period in force: the pod spec's terminationGracePeriodSeconds when read, else the configured one, in ms. */
  readonly graceMs: number;
  /** Work is released this long before the kill can land, so the release reaches the broker in time, in ms. */
  readonly safetyMarginMs: number;
  /** When the drain started (epoch ms): the grace period counts from the signal. */
  readonly startedAt: number;
  /** The pod's metadata.deletionTimestamp (epoch ms), when it could be read: the kill is due then. */
  readonly podDeletionAt?: number | undefined;
}

/**
 * The drain deadline (epoch ms): the earliest moment the kill can land, minus the safety margin.
 * A pod deleted earlier than the grace period suggests only ever moves it earlier.
 */
export function drainDeadline({ graceMs, safetyMarginMs, startedAt, podDeletionAt }: DeadlineInputs): number {
  const killAt = podDeletionAt === undefined ? startedAt + graceMs : Math.min(startedAt + graceMs, podDeletionAt);
  return killAt - safetyMarginMs;
}

export interface ExitInputs {
  /** The drain came from a fatal error (a source that stayed down, a crash). */
  readonly fatal: boolean;
  /** Started jobs that did not finish (released at the deadline, or their lease was lost). */
  readonly interrupted: number;
  /** The drain came from SIGTERM/SIGINT. */
  readonly signal: boolean;
  readonly exitWhenEmpty: boolean;
  readonly queueSeenEmpty: boolean;
}

/**
 * 0 clean; 1 fatal; 143 (128 + SIGTERM) when work was handed back, or when a job-mode worker
 * (exit-when-empty) is stopped by a signal before it saw its queue empty: a Job controller must
 * not count that pod as a success.
 */
export function drainExitCode({ fatal, interrupted, signal, exitWhenEmpty, queueSeenEmpty }: ExitInputs): 0 | 1 | 143 {
  if (fatal) return 1;
  if (interrupted > 0) return 143;
  if (exitWhenEmpty && signal && !queueSeenEmpty) return 143;
  return 0;
}

/**
 * The grace period a pod needs so its long jobs finish on SIGTERM instead of being released:
 * p99 of recent job durations plus the safety margin, rounded up to whole seconds (the unit of
 * `terminationGracePeriodSeconds`). A preStop hook spends from the same budget.
 */
export function recommendedGraceSeconds(p99Ms: number, safetyMarginMs: number): number {
  return Math.ceil((p99Ms + safetyMarginMs) / 1000);
}
