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
 * Where the current spell stands; the one field the machine keeps.
 * - `idle`: no spell.
 * - `young`: a job runs, the spell is younger than `busyAfterMs` (not reported yet).
 * - `pause`: a young spell with no job running; a job within `quietMs` resumes it.
 * - `busy`: a job runs and the spell is reported busy since `since`.
 * - `tail`: a reported spell with no job running; busy until `quietMs` after `idleSince`.
 * - `draining`: for good.
 */
type Spell =
  | { readonly kind: "idle" }
  | { readonly kind: "young"; readonly since: number }
  | { readonly kind: "pause"; readonly since: number; readonly idleSince: number }
  | { readonly kind: "busy"; readonly since: number }
  | { readonly kind: "tail"; readonly since: number; readonly idleSince: number }
  | { readonly kind: "draining" };

const IDLE: Spell = { kind: "idle" };
const DRAINING: Spell = { kind: "draining" };

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
  #spell: Spell = IDLE;

  constructor(options: HysteresisOptions) {
    this.#busyAfterMs = options.busyAfterMs;
    this.#quietMs = options.quietMs;
    this.#costStepMs = options.costStepMs ?? COST_STEP_MS;
    this.#withdrawUnshown = options.withdrawUnshown ?? false;
  }

  /**
   * Feed a worker state (from `state:changed` or a status snapshot) seen at `now`. `shown` tells
   * whether the pod carries (or is being sent) the busy mark; it matters only when a job ends.
   */
  observe(state: WorkerState, now: number, shown = true): void {
    // Settle what happened up to now under the old state first: a late event must not rewrite history.
    this.#advance(now);
    const spell = this.#spell;
    if (spell.kind === "draining") return;
    if (state === "draining" || state === "stopped") {
      this.#spell = DRAINING;
      return;
    }
    if (state === "busy") {
      if (spell.kind === "idle") this.#spell = { kind: "young", since: now };
      else if (spell.kind === "pause") this.#spell = { kind: "young", since: spell.since };
      else if (spell.kind === "tail") this.#spell = { kind: "busy", since: spell.since };
      this.#advance(now);
      return;
    }
    if (spell.kind === "young") this.#spell = { kind: "pause", since: spell.since, idleSince: now };
    else if (spell.kind === "busy") {
      this.#spell = this.#withdrawUnshown && !shown ? IDLE : { kind: "tail", since: spell.since, idleSince: now };
    }
  }

  /** What the pod should say at `now`. */
  read(now: number): Reading {
    this.#advance(now);
    const spell = this.#spell;
    switch (spell.kind) {
      case "draining":
        return { phase: "draining", cost: 0 };
      case "busy":
      case "tail":
        return { phase: "busy", cost: deletionCost(now - spell.since, this.#costStepMs) };
      default:
        return { phase: "idle", cost: 0 };
    }
  }

  /** The next time {@link read} can change without a new observation, or undefined. */
  nextChangeAt(now: number): number | undefined {
    this.#advance(now);
    const spell = this.#spell;
    switch (spell.kind) {
      case "young":
        return spell.since + this.#busyAfterMs;
      case "tail":
        return spell.idleSince + this.#quietMs;
      case "busy": {
        const next = nextCostChangeAfter(now - spell.since, this.#costStepMs);
        return next === undefined ? undefined : spell.since + next;
      }
      default:
        // idle and draining stay; in a pause only the next observe() decides.
        return undefined;
    }
  }

  #advance(now: number): void {
    const spell = this.#spell;
    if ((spell.kind === "pause" || spell.kind === "tail") && now - spell.idleSince >= this.#quietMs) this.#spell = IDLE;
    else if (spell.kind === "young" && now - spell.since >= this.#busyAfterMs) this.#spell = { kind: "busy", since: spell.since };
  }
}
