/** One job of the producer: how long its work takes, when it was enqueued. */
export interface JobSpec {
  readonly id: number;
  readonly ms: number;
  readonly enqueuedAt: number;
}

/** How a run of a job ended: its work done, handed back mid-run (released), or cut by SIGKILL. */
export type RunOutcome = "done" | "released" | "killed";

export interface Run {
  readonly job: JobSpec;
  readonly pod: string;
  readonly start: number;
  end?: number;
  outcome?: RunOutcome;
}

export interface JobTotals {
  readonly jobs: number;
  readonly completed: number;
  /** Jobs with at least one run cut short (released at a deadline or killed). */
  readonly interrupted: number;
  /** Jobs that ran again only after a lease ran out (their pod was killed holding them). */
  readonly runAgainLate: number;
  /** Jobs never completed by the end. */
  readonly lost: number;
  /** Jobs whose work was done more than once, or that ran on two pods at once. */
  readonly runTwice: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

/**
 * What happened to every job, kept by the handler itself (start, end, how it ended), so the
 * accounting does not trust the runtime it is judging.
 */
export class Ledger {
  readonly #jobs = new Map<number, { spec: JobSpec; runs: Run[] }>();

  add(spec: JobSpec): void {
    this.#jobs.set(spec.id, { spec, runs: [] });
  }

  /** `at`: when the run began, if not now (a worker process reports it after the fact). */
  start(job: JobSpec, pod: string, at = Date.now()): Run {
    const run: Run = { job, pod, start: at };
    this.#entry(job.id).runs.push(run);
    return run;
  }

  end(run: Run, outcome: RunOutcome, at = Date.now()): void {
    if (run.outcome !== undefined) return;
    run.end = at;
    run.outcome = outcome;
  }

  runs(): Run[] {
    return [...this.#jobs.values()].flatMap((j) => j.runs);
  }

  /** Jobs enqueued but not done yet. */
  pending(): number {
    let n = 0;
    for (const { runs } of this.#jobs.values()) if (!runs.some((r) => r.outcome === "done")) n++;
    return n;
  }

  totals(): JobTotals {
    let completed = 0;
    let interrupted = 0;
    let late = 0;
    let twice = 0;
    const latencies: number[] = [];
    for (const { spec, runs } of this.#jobs.values()) {
      const done = runs.filter((r) => r.outcome === "done");
      if (done.length > 0) {
        completed++;
        latencies.push(Math.min(...done.map((r) => r.end!)) - spec.enqueuedAt);
      }
      if (runs.some((r) => r.outcome === "released" || r.outcome === "killed")) interrupted++;
      if (runs.some((r, i) => r.outcome === "killed" && i < runs.length - 1)) late++;
      if (done.length > 1 || overlaps(runs)) twice++;
    }
    latencies.sort((a, b) => a - b);
    return {
      jobs: this.#jobs.size,
      completed,
      interrupted,
      runAgainLate: late,
      lost: this.#jobs.size - completed,
      runTwice: twice,
      latencyP50Ms: quantile(latencies, 0.5),
      latencyP99Ms: quantile(latencies, 0.99),
    };
  }

  #entry(id: number): { spec: JobSpec; runs: Run[] } {
    const entry = this.#jobs.get(id);
    if (!entry) throw new Error(`job ${id} was never enqueued`);
    return entry;
  }
}

function overlaps(runs: readonly Run[]): boolean {
  // Reports from several processes can arrive out of order: compare runs in the order they began.
  const ordered = [...runs].sort((a, b) => a.start - b.start);
  for (let i = 1; i < ordered.length; i++) {
    const previousEnd = ordered[i - 1]!.end;
    if (previousEnd === undefined || previousEnd > ordered[i]!.start) return true;
  }
  return false;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
