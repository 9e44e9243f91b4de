import { coerceError } from "../errors.js";
import type { DrainReport } from "../lifecycle/status.js";
import type { Logger } from "../logger.js";
import { Deadline } from "./deadline.js";

/** What the drain needs from the worker, and nothing more. */
export interface DrainContext {
  readonly logger: Logger;
  readonly exitWhenEmpty: boolean;
  /** now + grace period − safety margin, from what is known without I/O. */
  initialDeadline(): number;
  /** A better deadline from outside (the pod's deletionTimestamp − margin); bounded by `signal`. */
  refineDeadline?(signal: AbortSignal): Promise<number | undefined>;
  /** Synchronously: enter draining, stop receiving, fire ctx.draining. */
  begin(reason: string, deadline: number): void;
  /** Stop fetching and release what the source prefetched. */
  pauseSource(): Promise<void>;
  /** Resolves when the receive loop has exited and every held delivery is settled. */
  idle(): Promise<void>;
  /** Abort every running handler's signal and release its delivery; resolves when released. */
  forceRelease(): Promise<void>;
  /** Close the lease keeper, source and resources (LIFO); returns one line per failure. */
  cleanup(): Promise<string[]>;
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

  constructor(ctx: DrainContext) {
    this.#ctx = ctx;
  }

  get started(): boolean {
    return this.#promise !== null;
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
    const deadline = new Deadline(ctx.initialDeadline(), () => undefined);
    this.#deadline = deadline;
    if (this.#forceRequested) deadline.fireNow();
    ctx.begin(trigger.reason, deadline.at);
    ctx.logger.info({ reason: trigger.reason, deadline: new Date(deadline.at).toISOString() }, "drain started");

    const refining = new AbortController();
    if (ctx.refineDeadline) void this.#refine(deadline, refining.signal);
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

    const cleanupErrors = await ctx.cleanup();
    const totals = ctx.totals();
    const queueSeenEmpty = ctx.queueSeenEmpty();
    const exitCode = trigger.fatal
      ? 1
      : totals.interrupted > 0 || (ctx.exitWhenEmpty && trigger.signal === true && !queueSeenEmpty)
        ? 143
        : 0;
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

  async #refine(deadline: Deadline, signal: AbortSignal): Promise<void> {
    try {
      const at = await this.#ctx.refineDeadline?.(signal);
      if (at !== undefined && deadline.shortenTo(at)) {
        this.#ctx.logger.info({ deadline: new Date(at).toISOString() }, "drain deadline moved earlier (pod deletion)");
      }
    } catch (thrown) {
      this.#ctx.logger.warn({ err: coerceError(thrown) }, "could not read the pod's deletion deadline; keeping the grace period");
    }
  }
}
