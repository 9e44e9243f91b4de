import type { Ledger, JobSpec } from "./ledger.js";

/** A pod as the ReplicaSet and the show see it; the two kinds of worker implement it. */
export interface SimPod {
  readonly name: string;
  readonly createdAt: number;
  /** Passing its readiness probe: started, not terminating. */
  ready(): boolean;
  /** Jobs running on it now. */
  inFlight(): number;
  /** SIGTERM (the pod was chosen for deletion). */
  terminate(): void;
  /** SIGKILL at the end of the grace period, if it is still running. */
  kill(): void;
  /** Resolves when the process is gone. */
  readonly exited: Promise<void>;
  readonly marks: PodMarks;
}

/** When things happened to the pod (virtual epoch ms), for the timeline. */
export interface PodMarks {
  readyAt?: number;
  termAt?: number;
  killAt?: number;
  exitAt?: number;
}

/**
 * The work of one job, shared by both kinds of worker: wait the job's length unless `stop` fires
 * first. Records the run in the ledger; true when the work was done.
 */
export function doWork(ledger: Ledger, pod: string, job: JobSpec, stop: AbortSignal, killed: AbortSignal): Promise<boolean> {
  const run = ledger.start(job, pod);
  return new Promise((resolve) => {
    const finish = (): void => {
      stop.removeEventListener("abort", cut);
      ledger.end(run, "done");
      resolve(true);
    };
    const cut = (): void => {
      clearTimeout(timer);
      ledger.end(run, killed.aborted ? "killed" : "released");
      resolve(false);
    };
    const timer = setTimeout(finish, job.ms);
    if (stop.aborted) cut();
    else stop.addEventListener("abort", cut, { once: true });
  });
}

/** A promise that never settles: what a killed process's code waits on. */
export const never = new Promise<never>(() => undefined);
