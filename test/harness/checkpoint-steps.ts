// What a fixture worker running the stepping job (test/fixtures/checkpoint-steps.mjs) reported:
// the same JSON lines whichever backend it ran on.
import { jsonLines } from "./fixture-log.js";
import type { WorkerProcess } from "./worker-process.js";

const stepsOf = (worker: WorkerProcess, event: "checkpointed" | "step-started"): number[] =>
  jsonLines<{ event?: unknown; step?: unknown }>(worker.stdout)
    .filter((e) => e.event === event)
    .map((e) => Number(e.step));

/** The last step the worker stored a checkpoint after; 0 when none. */
export const lastCheckpointed = (worker: WorkerProcess): number => Math.max(0, ...stepsOf(worker, "checkpointed"));

/** Every step the workers began, in order (a step begun twice appears twice). */
export const stepsRun = (...workers: WorkerProcess[]): number[] => workers.flatMap((worker) => stepsOf(worker, "step-started"));
