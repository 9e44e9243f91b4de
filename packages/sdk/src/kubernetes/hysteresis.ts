import type { WorkerState } from "../lifecycle/states.js";
import { COST_STEP_MS, deletionCost, nextCostChangeAfter, type ReportedPhase } from "./annotations.js";

export interface HysteresisOptions {
  /** A busy spell is reported once it has lasted this long (`QUIESCE_BUSY_AFTER_MS`). */
  readonly busyAfterMs: number;
  /** Idle must persist this long to end a busy spell; shorter gaps between jobs don't. */
  readonly quietMs: number;
  /** Unit of the deletion-cost doubling; see {@link deletionCost}. */
  readonly costStepMs?: number;
}

export interface Reading {
  readonly phase: ReportedPhase;
  /** The deletion cost while busy, 0 otherwise. */
  readonly cost: number;
}

/** A quiet spell well under a second: a stale busy mark makes an idle pod look busy (DESIGN). */
export const DEFAULT_QUIET_MS = 400;

/**
 * Turns the worker's idle⇄busy flips into what the pod should say, asymmetrically:
 * - busy only once a busy spell has lasted `busyAfterMs` while a job is running. Short jobs are
 *   covered by the drain and cost no pod writes; a job that ends before the mark is never
 *   reported, even if the mark falls inside the quiet tail after it.
 * - idle once the worker has been idle for `quietMs`, so back-to-back jobs keep one spell.
 * - draining at once, and for good.
 *
 * Pure: the caller passes the clock, so the tests drive it without timers.
 */
export class BusyHysteresis {
  readonly #busyAfterMs: number;
  readonly #quietMs: number;
  readonly #costStepMs: number;
  #workerBusy = false;
  #draining = false;
  /** Start of the current busy spell, or null between spells. */
  #spellStart: number | null = null;
  /** When the worker went idle inside the current spell, or null while a job runs. */
  #idleSince: number | null = null;
  /** The current spell has been promoted to "busy". */
  #promoted = false;

  constructor(options: HysteresisOptions) {
    this.#busyAfterMs = options.busyAfterMs;
    this.#quietMs = options.quietMs;
    this.#costStepMs = options.costStepMs ?? COST_STEP_MS;
  }

  /** Feed a worker state (from `state:changed` or a status snapshot) seen at `now`. */
  observe(state: WorkerState, now: number): void {
    // Settle what happened up to now under the old state first: a late event must not rewrite history.
    this.#advance(now);
    if (state === "draining" || state === "stopped") {
      this.#draining = true;
      this.#workerBusy = false;
      return;
    }
    if (state === "busy") {
      this.#workerBusy = true;
      this.#spellStart ??= now;
      this.#idleSince = null;
    } else {
      this.#workerBusy = false;
      if (this.#spellStart !== null) this.#idleSince ??= now;
    }
    this.#advance(now);
  }

  /** What the pod should say at `now`. */
  read(now: number): Reading {
    this.#advance(now);
    if (this.#draining) return { phase: "draining", cost: 0 };
    if (this.#promoted && this.#spellStart !== null) {
      return { phase: "busy", cost: deletionCost(now - this.#spellStart, this.#costStepMs) };
    }
    return { phase: "idle", cost: 0 };
  }

  /** The next time {@link read} can change without a new observation, or undefined. */
  nextChangeAt(now: number): number | undefined {
    this.#advance(now);
    if (this.#draining || this.#spellStart === null) return undefined;
    if (!this.#promoted) {
      // Only a running job can be promoted; in a gap the next observe() decides.
      return this.#workerBusy ? this.#spellStart + this.#busyAfterMs : undefined;
    }
    if (this.#idleSince !== null) return this.#idleSince + this.#quietMs;
    const next = nextCostChangeAfter(now - this.#spellStart, this.#costStepMs);
    return next === undefined ? undefined : this.#spellStart + next;
  }

  #advance(now: number): void {
    if (this.#idleSince !== null && now - this.#idleSince >= this.#quietMs) {
      this.#spellStart = null;
      this.#idleSince = null;
      this.#promoted = false;
    }
    if (!this.#promoted && this.#workerBusy && this.#spellStart !== null && now - this.#spellStart >= this.#busyAfterMs) {
      this.#promoted = true;
    }
  }
}
