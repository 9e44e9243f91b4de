/** The worker's lifecycle. Only {@link Lifecycle.transition} changes it. */
export const WorkerState = {
  /** Connecting the source and resources; `/readyz` answers 503. */
  starting: "starting",
  /** Connected and accepting work, nothing in flight. */
  idle: "idle",
  /** Connected and accepting work, at least one job in flight. */
  busy: "busy",
  /** A drain trigger arrived: no new receive; in-flight jobs finish or are released. */
  draining: "draining",
  /** Source, resources and servers closed. */
  stopped: "stopped",
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];

export const workerStates: readonly WorkerState[] = Object.values(WorkerState);

/** Allowed moves: `to` → the states it may be entered from. */
export const allowedFrom: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: [],
  idle: ["starting", "busy"],
  busy: ["idle"],
  // A drain can start at any point before it has stopped, even while still connecting.
  draining: ["starting", "idle", "busy"],
  stopped: ["draining"],
};

/** Accepting work: the meaning of `/readyz` (never "idle": a busy pod is ready). */
export function isAccepting(state: WorkerState): boolean {
  return state === "idle" || state === "busy";
}
