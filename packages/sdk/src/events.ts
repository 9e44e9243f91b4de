import type { StateChange } from "./lifecycle/lifecycle.js";
import type { DrainReport } from "./lifecycle/status.js";

/** Why a delivery went back to the queue. */
/** "checkpoint": released while draining, right after the job stored a checkpoint. */
export type ReleaseReason = "drain" | "deadline" | "handler" | "checkpoint";

/** Every event the worker emits: one payload object each, past-tense names. */
export interface WorkerEvents {
  "state:changed": StateChange;
  "job:started": { readonly id: string; readonly attempt: number };
  "job:completed": { readonly id: string; readonly durationMs: number };
  "job:failed": { readonly id: string; readonly durationMs: number; readonly error: Error };
  /** `started` is false for deliveries released before their handler ran. */
  "job:released": { readonly id: string; readonly reason: ReleaseReason; readonly started: boolean; readonly durationMs: number };
  "lease:extended": { readonly count: number };
  "lease:lost": { readonly id: string; readonly error: Error };
  "drain:started": { readonly reason: string; readonly deadline: number };
  "drain:finished": DrainReport;
  /** Something went wrong outside a handler (receive, settle, cleanup) and was handled. */
  "worker:error": { readonly error: Error; readonly during: string };
}
