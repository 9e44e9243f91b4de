import { coerceError, SourceError } from "../errors.js";
import { sleep } from "../internal/timers.js";
import type { Logger } from "../logger.js";
import type { Delivery, Source } from "../source/source.js";
import type { Counters } from "../lifecycle/counters.js";
import type { InFlight } from "./in-flight.js";
import type { JobRunner } from "./job-runner.js";

/** The exit-when-empty policy as the loop sees it (the drain's EmptyWatcher implements it). */
export interface EmptyCheck {
  /** How long the next receive may wait before the empty window is due, or null when not counting. */
  remainingMs(now: number): number | null;
  /** Called after every receive; true once the queue has stayed empty long enough. */
  observe(received: number, held: number): Promise<boolean>;
}

export interface ReceiveLoopContext {
  readonly source: Source;
  readonly concurrency: number;
  readonly maxJobs: number | null;
  readonly inFlight: InFlight;
  readonly counters: Counters;
  readonly runner: JobRunner;
  /** Aborted when the drain starts: no receive is issued after it, and a pending one returns. */
  readonly stop: AbortSignal;
  readonly logger: Logger;
  readonly sourceFailureMs: number;
  readonly emptyWatcher: EmptyCheck | null;
  quotaReached(): void;
  queueEmpty(): void;
  fatal(error: Error): void;
  receiveFailed(error: Error): void;
}

const backoffBaseMs = 100;
const backoffMaxMs = 5000;
/**
 * A source that answers from memory and a synchronous handler make the whole loop microtasks:
 * without a macrotask turn now and then, timers (lease renewals, deadlines), probes and signal
 * handlers would starve for as long as the queue has work.
 */
const yieldEveryMs = 10;
/** The clock is read once per this many turns of the loop (a turn is at least one job's receive). */
const clockEvery = 32;
const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Receive → dispatch. Asks only for as many deliveries as there are free slots (so nothing waits
 * unstarted while we hold its lease), and issues no receive once the drain began; deliveries that
 * arrive after it are released at once, unstarted.
 */
export async function runReceiveLoop(ctx: ReceiveLoopContext): Promise<void> {
  const { source, inFlight, counters, stop } = ctx;
  let failingSince: number | null = null;
  let failures = 0;
  // Racing each slot wait against one long-lived "stopped" promise would pile a reaction onto it
  // per job for the life of the worker; the drain wakes the wait instead.
  const wake = (): void => inFlight.wake();
  stop.addEventListener("abort", wake, { once: true });
  let lastYield = performance.now();
  let turns = 0;
  while (!stop.aborted) {
    if (++turns === clockEvery) {
      turns = 0;
      const now = performance.now();
      if (now - lastYield >= yieldEveryMs) {
        await macrotask();
        lastYield = performance.now();
      }
    }
    while (inFlight.held >= ctx.concurrency && !stop.aborted) await inFlight.nextRemoval();
    if (stop.aborted) break;
    const quota = ctx.maxJobs === null ? Infinity : ctx.maxJobs - counters.received;
    const want = Math.min(ctx.concurrency - inFlight.held, quota);
    let deliveries: Delivery[];
    try {
      deliveries = await source.receive(want, receiveSignal(ctx));
      failingSince = null;
      failures = 0;
    } catch (thrown) {
      if (stop.aborted) break;
      const error = new SourceError(`${source.name}: receive failed: ${coerceError(thrown).message}`, { cause: thrown });
      const now = Date.now();
      failingSince ??= now;
      if (now - failingSince >= ctx.sourceFailureMs) {
        ctx.fatal(new SourceError(`${source.name}: receive kept failing for ${now - failingSince} ms: ${coerceError(thrown).message}`, { cause: thrown }));
        break;
      }
      ctx.receiveFailed(error);
      await sleep(Math.min(backoffMaxMs, backoffBaseMs * 2 ** failures++) * (0.5 + Math.random() / 2), stop);
      continue;
    }
    if (deliveries.length > want) {
      ctx.logger.error({ got: deliveries.length, max: want }, "source returned more deliveries than asked; releasing the excess");
    }
    const accepted = stop.aborted ? 0 : Math.min(deliveries.length, want);
    for (let i = 0; i < deliveries.length; i++) {
      const delivery = deliveries[i] as Delivery;
      if (i < accepted) {
        counters.received++;
        ctx.runner.start(delivery);
      } else {
        void ctx.runner.releaseUnstarted(delivery);
      }
    }
    if (ctx.maxJobs !== null && counters.received >= ctx.maxJobs) {
      ctx.quotaReached();
      break;
    }
    if (ctx.emptyWatcher && !stop.aborted && (await ctx.emptyWatcher.observe(accepted, inFlight.held))) {
      ctx.queueEmpty();
      break;
    }
  }
  stop.removeEventListener("abort", wake);
}

/** In exit-when-empty mode a counting window bounds the poll, so the window is checked on time. */
function receiveSignal(ctx: ReceiveLoopContext): AbortSignal {
  const remaining = ctx.emptyWatcher?.remainingMs(Date.now());
  if (remaining === undefined || remaining === null) return ctx.stop;
  return AbortSignal.any([ctx.stop, AbortSignal.timeout(Math.max(50, remaining))]);
}
