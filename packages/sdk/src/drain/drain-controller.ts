import { coerceError } from "../errors.js";
import type { DrainReport } from "../lifecycle/status.js";
import type { Logger } from "../logger.js";
import { runCleanup, type CleanupStep } from "./cleanup.js";
import { Deadline } from "./deadline.js";
import { drainDeadline, drainExitCode, type DeadlineInputs } from "./policy.js";

/** What the drain needs from the worker, and nothing more. */
export interface DrainContext {
  readonly logger: Logger;
  readonly exitWhenEmpty: boolean;
  readonly safetyMarginMs: number;
  /** The grace period in force now, in ms: the pod spec's when it was read, else the configured one. */
  graceMs(): number;
  /** The pod's deletion time (epoch ms) when it can be read; the lookup bounds itself and stops on `signal`. */
  podDeletionAt?(signal: AbortSignal): Promise<number | undefined>;
  /** Synchronously: enter draining, stop receiving, fire ctx.draining. */
  begin(reason: string, deadline: number): void;
  /** Stop fetching and release what the source prefetched. */
  pauseSource(): Promise<void>;
  /** Resolves when the receive loop has exited and every held delivery is settled. */
  idle(): Promise<void>;
  /** Abort every running handler's signal and release its delivery; resolves when released. */
  forceRelease(): Promise<void>;
  /** What to close once everything is settled, in order (each step isolated). */
  cleanupSteps(): readonly CleanupStep[];
  totals(): { completed: number; failed: number; released: number; interrupted: number };
  queueSeenEmpty(): boolean;
}

export interface DrainTrigger {
  readonly reason: string;
  /** The drain comes from a fatal error: exit 1 with this message. */
  readonly fatal?: Error;
  /** The drain comes from a signal (SIGTERM/SIGINT). */
  readonly signal?: boolean;
}

/**
 * Every trigger ends in one memoized drain: callers who arrive later join the first one.
 * Graceful path: wait for in-flight jobs with their leases renewed. Forceful path (the deadline,
 * or a second signal): abort and release what still runs, so it is back on the queue before
 * SIGKILL can land.
 */
export class DrainController {
  readonly #ctx: DrainContext;
  #promise: Promise<DrainReport> | null = null;
  #deadline: Deadline | null = null;
  #forceRequested = false;
  #reason: string | null = null;

  constructor(ctx: DrainContext) {
    this.#ctx = ctx;
  }

  get started(): boolean {
    return this.#promise !== null;
  }

  /** Why the drain started, once it has (the first trigger's reason). */
  get reason(): string | null {
    return this.#reason;
  }

  get deadline(): number | null {
    return this.#deadline?.at ?? null;
  }

  drain(trigger: DrainTrigger): Promise<DrainReport> {
    this.#promise ??= this.#run(trigger);
    return this.#promise;
  }

  /** Skip the rest of the graceful wait: release now (a second signal). */
  force(trigger: DrainTrigger): Promise<DrainReport> {
    this.#forceRequested = true;
    const promise = this.drain(trigger);
    this.#deadline?.fireNow();
    return promise;
  }

  async #run(trigger: DrainTrigger): Promise<DrainReport> {
    const ctx = this.#ctx;
    const startedAt = Date.now();
    // The deadline timer starts before anything is awaited, user code included.
    const policy = { graceMs: ctx.graceMs(), safetyMarginMs: ctx.safetyMarginMs, startedAt };
    const deadline = new Deadline(drainDeadline(policy), () => undefined);
    this.#deadline = deadline;
    this.#reason = trigger.reason;
    if (this.#forceRequested) deadline.fireNow();
    ctx.begin(trigger.reason, deadline.at);
    ctx.logger.info({ reason: trigger.reason, deadline: new Date(deadline.at).toISOString() }, "drain started");

    const refining = new AbortController();
    if (ctx.podDeletionAt) void this.#refine(deadline, policy, refining.signal);
    const paused = ctx.pauseSource().catch((thrown: unknown) => {
      ctx.logger.warn({ err: coerceError(thrown) }, "pausing the source failed");
    });

    const idle = ctx.idle();
    await Promise.race([idle, deadline.fired]);
    const forced = deadline.hasFired;
    deadline.cancel();
    refining.abort();
    if (forced) {
      ctx.logger.warn({ reason: trigger.reason }, "drain deadline reached: releasing in-flight work (forceful path)");
      await ctx.forceRelease();
    }
    await paused;
    await idle;

    const cleanupErrors = await runCleanup(ctx.cleanupSteps(), ctx.logger);
    const totals = ctx.totals();
    const queueSeenEmpty = ctx.queueSeenEmpty();
    const exitCode = drainExitCode({
      fatal: trigger.fatal !== undefined,
      interrupted: totals.interrupted,
      signal: trigger.signal === true,
      exitWhenEmpty: ctx.exitWhenEmpty,
      queueSeenEmpty,
    });
    return {
      reason: trigger.reason,
      exitCode,
      path: forced ? "forced" : "graceful",
      ...totals,
      durationMs: Date.now() - startedAt,
      queueSeenEmpty,
      ...(trigger.fatal ? { error: trigger.fatal.message } : {}),
      cleanupErrors,
    };
  }

  async #refine(deadline: Deadline, policy: DeadlineInputs, signal: AbortSignal): Promise<void> {
    const ctx = this.#ctx;
    try {
      const podDeletionAt = await ctx.podDeletionAt?.(signal);
      if (podDeletionAt === undefined) return;
      const at = drainDeadline({ ...policy, podDeletionAt });
      if (deadline.shortenTo(at)) {
        ctx.logger.info({ deadline: new Date(at).toISOString() }, "drain deadline moved earlier (pod deletion)");
      }
    } catch (thrown) {
      ctx.logger.warn({ err: coerceError(thrown) }, "could not read the pod's deletion deadline; keeping the grace period");
    }
  }
}
