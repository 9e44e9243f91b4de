import { IllegalStateError } from "../errors.js";
import { allowedFrom, type WorkerState } from "./states.js";

export interface StateChange {
  readonly from: WorkerState;
  readonly to: WorkerState;
  readonly reason: string;
  /** Epoch ms of the change. */
  readonly at: number;
}

/** Holds the one `state` field; every change goes through {@link transition}. */
export class Lifecycle {
  #state: WorkerState = "starting";
  #since = Date.now();
  readonly #onChange: (change: StateChange) => void;

  constructor(onChange: (change: StateChange) => void) {
    this.#onChange = onChange;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Epoch ms of the last change. */
  get since(): number {
    return this.#since;
  }

  /**
   * Move to `to`, or throw {@link IllegalStateError} naming both states. `at` (epoch ms) is for a
   * caller that has just read the clock: a job start flips to busy, and a clock read costs.
   */
  transition(to: WorkerState, reason: string, at = Date.now()): void {
    const from = this.#state;
    if (!allowedFrom[to].includes(from)) {
      throw new IllegalStateError(`illegal worker state transition ${from} -> ${to} (${reason})`);
    }
    this.#state = to;
    this.#since = at;
    this.#onChange({ from, to, reason, at });
  }

  /** Like transition, but a no-op when already in `to` or when the move is not allowed from here. */
  tryTransition(to: WorkerState, reason: string, at?: number): boolean {
    if (this.#state === to || !allowedFrom[to].includes(this.#state)) return false;
    this.transition(to, reason, at);
    return true;
  }
}
