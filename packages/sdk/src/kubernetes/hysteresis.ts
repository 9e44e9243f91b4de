import type { WorkerState } from "../lifecycle/states.js";
import { COST_STEP_MS, deletionCost, nextCostChangeAfter, type ReportedPhase } from "./annotations.js";

export interface HysteresisOptions {
  /** A busy spell is reported once it has lasted this long (`QUIESCE_BUSY_AFTER_MS`); 0 marks it on the first job. */
  readonly busyAfterMs: number;
  /** Idle must persist this long to end a busy spell; shorter gaps between jobs don't. */
  readonly quietMs: number;
  /** Unit of the deletion-cost doubling; see {@link deletionCost}. */
  readonly costStepMs?: number;
  /**
   * A spell whose busy mark never reached the pod ends the moment the worker is idle, without the
   * quiet spell: there is nothing on the pod to take back, and waiting would only let the pending
   * busy write go out after the job it describes has ended. Measured, it did not pay (bench/README.md).
   * @defaultValue false
   */
  readonly withdrawUnshown?: boolean;
}

export interface Reading {
  readonly phase: ReportedPhase;
  /** The deletion cost while busy, 0 otherwise. */
  readonly cost: number;
}

/**
 * A quiet spell well under a second: a stale busy mark makes an idle pod look busy, and the
 * ReplicaSet then deletes a busy pod instead. It only has to outlast the gap between two jobs of a
 * steady stream (about a millisecond at 1,000 jobs/s; over 200 ms once in 10^9 gaps even at 100
 * jobs/s), so back-to-back jobs stay one spell. 50, 100 and 200 ms chose the same victims in the
 * scale-down bench; 200 writes the least.
 */
export const DEFAULT_QUIET_MS = 200;

/**
 * Where the current spell stands (with `since` and `idleSince`, the machine's only state).
 * - `idle`: no spell.
 * - `young`: a job runs, the spell (since `since`) is younger than `busyAfterMs` (not reported yet).
 * - `pause`: a young spell with no job running; a job within `quietMs` of `idleSince` resumes it.
 * - `busy`: a job runs and the spell is reported busy since `since`.
 * - `tail`: a reported spell with no job running; busy until `quietMs` after `idleSince`.
 * - `draining`: for good.
 */
type Spell = "idle" | "young" | "pause" | "busy" | "tail" | "draining";

/**
 * Turns the worker's idle⇄busy flips into what the pod should say, asymmetrically:
 * - busy once a busy spell has lasted `busyAfterMs` while a job is running. A job that ends before
 *   the mark is never reported, even if the mark falls inside the quiet tail after it.
 * - idle once the worker has been idle for `quietMs`, so back-to-back jobs keep one spell; at once
 *   when the busy mark was never shown (see {@link HysteresisOptions.withdrawUnshown}).
 * - draining at once, and for good.
 *
 * Pure: the caller passes the clock, so the tests drive it without timers.
 */
export class BusyHysteresis {
  readonly #busyAfterMs: number;
  readonly #quietMs: number;
  readonly #costStepMs: number;
  readonly #withdrawUnshown: boolean;
  // Plain fields, not an object per spell: a steady stream flips idle ⇄ busy twice per job.
  #spell: Spell = "idle";
  #since = 0;
  #idleSince = 0;
  /** While reported busy: when the deletion cost next changes (Infinity once capped). */
  #costChangeAt = Infinity;

  constructor(options: HysteresisOptions) {
    this.#busyAfterMs = options.busyAfterMs;
    this.#quietMs = options.quietMs;
    this.#costStepMs = options.costStepMs ?? COST_STEP_MS;
    this.#withdrawUnshown = options.withdrawUnshown ?? false;
  }

  /** Whether {@link observe} reads its `shown` argument (so a caller can skip working it out). */
  get readsShown(): boolean {
    return this.#withdrawUnshown;
  }

  /**
   * Feed a worker state (from `state:changed` or a status snapshot) seen at `now`. `shown` tells
   * whether the pod carries (or is being sent) the busy mark; it matters only when a job ends.
   */
  observe(state: WorkerState, now: number, shown = true): void {
    // Settle what happened up to now under the old state first: a late event must not rewrite history.
    this.#advance(now);
    const spell = this.#spell;
    if (spell === "draining") return;
    if (state === "draining" || state === "stopped") {
      this.#spell = "draining";
      return;
    }
    if (state === "busy") {
      if (spell === "idle") {
        this.#spell = "young";
        this.#since = now;
      } else if (spell === "pause") this.#spell = "young";
      else if (spell === "tail") this.#spell = "busy";
      this.#advance(now);
      return;
    }
    if (spell === "young") {
      this.#spell = "pause";
      this.#idleSince = now;
    } else if (spell === "busy") {
      if (this.#withdrawUnshown && !shown) this.#spell = "idle";
      else {
        this.#spell = "tail";
        this.#idleSince = now;
      }
    }
  }

  /**
   * The flip of a steady stream, cheaply: an idle ⇄ busy switch at `now` that neither starts nor
   * ends a spell, nor crosses the busy mark or a cost step, so that {@link read} says what it said
   * before. Applied (as {@link observe} would) and true; false, with nothing changed, for every
   * other case, which the caller then feeds to observe().
   */
  flip(to: WorkerState, now: number): boolean {
    switch (this.#spell) {
      case "young":
        if (to !== "idle" || now - this.#since >= this.#busyAfterMs) return false;
        this.#spell = "pause";
        this.#idleSince = now;
        return true;
      case "pause":
        if (to !== "busy" || now - this.#idleSince >= this.#quietMs || now - this.#since >= this.#busyAfterMs) return false;
        this.#spell = "young";
        return true;
      case "busy":
        // With withdrawUnshown the end of a job needs to know what the pod shows: observe() it.
        if (to !== "idle" || this.#withdrawUnshown || now >= this.#costChangeAt) return false;
        this.#spell = "tail";
        this.#idleSince = now;
        return true;
      case "tail":
        if (to !== "busy" || now - this.#idleSince >= this.#quietMs || now >= this.#costChangeAt) return false;
        this.#spell = "busy";
        return true;
      default:
        return false;
    }
  }

  /** What the pod should say at `now`. */
  read(now: number): Reading {
    this.#advance(now);
    switch (this.#spell) {
      case "draining":
        return { phase: "draining", cost: 0 };
      case "busy":
      case "tail": {
        this.#costChangeAt = this.#costChangeAfter(now);
        return { phase: "busy", cost: deletionCost(now - this.#since, this.#costStepMs) };
      }
      default:
        return { phase: "idle", cost: 0 };
    }
  }

  /** The next time {@link read} can change without a new observation, or undefined. */
  nextChangeAt(now: number): number | undefined {
    this.#advance(now);
    switch (this.#spell) {
      case "young":
        return this.#since + this.#busyAfterMs;
      case "tail":
        return this.#idleSince + this.#quietMs;
      case "busy": {
        // Known since the last read, as long as it has not passed: no log2 on every flip.
        if (now >= this.#costChangeAt) this.#costChangeAt = this.#costChangeAfter(now);
        return this.#costChangeAt === Infinity ? undefined : this.#costChangeAt;
      }
      default:
        // idle and draining stay; in a pause only the next observe() decides.
        return undefined;
    }
  }

  /** Epoch ms of the next deletion-cost change after `now` in the current spell, Infinity once capped. */
  #costChangeAfter(now: number): number {
    const next = nextCostChangeAfter(now - this.#since, this.#costStepMs);
    return next === undefined ? Infinity : this.#since + next;
  }

  #advance(now: number): void {
    const spell = this.#spell;
    if ((spell === "pause" || spell === "tail") && now - this.#idleSince >= this.#quietMs) this.#spell = "idle";
    else if (spell === "young" && now - this.#since >= this.#busyAfterMs) {
      this.#spell = "busy";
      // Unknown until the next read(): no flip may pass for a cheap one before that.
      this.#costChangeAt = -Infinity;
    }
  }
}
