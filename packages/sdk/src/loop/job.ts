import type { Delivery } from "../source/source.js";
import type { CheckpointRecord } from "./checkpoints.js";

const noop = (): void => undefined;

/** How a delivery ended: exactly one per delivery, never two (no double ack, no ack after a release). */
export type Settlement = "completed" | "failed" | "released" | "lost";

/**
 * One received delivery while this worker holds it. The first caller of {@link claim} decides
 * how it ends; every later claim is refused, so a handler finishing as the deadline fires (or as
 * its lease is lost) can never ack a delivery that was already released.
 */
export class Job {
  readonly delivery: Delivery;
  startedAt = 0;
  /** The checkpoint this run resumed from. */
  resume: CheckpointRecord | undefined = undefined;
  /** The last checkpoint this run stored. */
  written: CheckpointRecord | undefined = undefined;
  /** Epoch ms of the last successful lease renewal (or receipt). */
  leaseRenewedAt: number;
  /** Lease length asked for at the last renewal. */
  leaseMs: number;
  /** This job's index in the InFlight array while held, -1 otherwise; only InFlight writes it. */
  heldAt = -1;
  #settlement: Settlement | null = null;
  /** ctx.signal, made only when a handler reads it (most never do) or when the job is stopped. */
  #abort: AbortController | null = null;
  #renewing = false;
  #draining: AbortController | null = null;
  #detachDraining: (() => void) | null = null;
  #stopReason: Error | null = null;
  #onStop: Array<(reason: Error) => void> | null = null;

  constructor(delivery: Delivery, leaseMs: number, now: number) {
    this.delivery = delivery;
    this.leaseRenewedAt = now;
    this.leaseMs = leaseMs;
  }

  /** ctx.signal: aborted at the deadline or on lease loss. */
  get signal(): AbortSignal {
    return (this.#abort ??= new AbortController()).signal;
  }

  get started(): boolean {
    return this.startedAt !== 0;
  }

  get settlement(): Settlement | null {
    return this.#settlement;
  }

  get claimed(): boolean {
    return this.#settlement !== null;
  }

  /**
   * Stop the handler: abort ctx.signal and tell every {@link onStop} listener. Listeners exist so
   * that code watching many jobs (a pool cancelling their queries) need not read `abort.signal`,
   * which Node creates on first read at a few microseconds each, on every job.
   */
  stop(reason: Error): void {
    if (this.#stopReason) return;
    this.#stopReason = reason;
    // A handler that reads ctx.signal later finds it already aborted.
    (this.#abort ??= new AbortController()).abort(reason);
    const listeners = this.#onStop;
    this.#onStop = null;
    for (const listener of listeners ?? []) listener(reason);
  }

  /** Call `listener` once when the job is stopped (at once if it was); returns the unsubscribe. */
  onStop(listener: (reason: Error) => void): () => void {
    if (this.#stopReason) {
      listener(this.#stopReason);
      return noop;
    }
    // An array: a job has one or two listeners at a time, and this runs on every query.
    (this.#onStop ??= []).push(listener);
    return () => {
      const i = this.#onStop?.indexOf(listener) ?? -1;
      if (i >= 0) this.#onStop?.splice(i, 1);
    };
  }

  /** Take the right to settle this delivery as `how`. False if someone already did. */
  claim(how: Settlement): boolean {
    if (this.#settlement !== null) return false;
    this.#settlement = how;
    return true;
  }

  /** Guards against overlapping renewals of the same delivery. */
  beginRenewal(): boolean {
    if (this.#renewing || this.claimed) return false;
    this.#renewing = true;
    return true;
  }

  endRenewal(): void {
    this.#renewing = false;
  }

  /**
   * ctx.draining: a per-job signal following the worker's, made only when a handler reads it, and
   * detached when the job ends, so listeners a handler adds die with the job instead of piling up
   * on one worker-wide signal.
   */
  drainingSignal(worker: AbortSignal): AbortSignal {
    if (!this.#draining) {
      const own = new AbortController();
      this.#draining = own;
      if (worker.aborted) own.abort(worker.reason);
      else {
        const follow = (): void => own.abort(worker.reason);
        worker.addEventListener("abort", follow, { once: true });
        this.#detachDraining = () => worker.removeEventListener("abort", follow);
      }
    }
    return this.#draining.signal;
  }

  /** The job left this worker: stop following the worker's drain signal. */
  detach(): void {
    this.#detachDraining?.();
    this.#detachDraining = null;
  }
}
