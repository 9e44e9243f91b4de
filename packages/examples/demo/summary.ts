import type { WorldResult } from "./sim/world.js";

/** What the show compares, per kind of worker: the fields of the table and of `--json`. */
export interface Summary {
  readonly jobs: number;
  readonly interrupted: number;
  readonly runAgainLate: number;
  readonly lost: number;
  readonly runTwice: number;
  readonly busyPodsDeleted: number;
  readonly busyPodsDeletedWithIdlePeer: number;
  readonly deletions: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** From the replica count going down until the last deleted pod was gone, per scale-down. */
  readonly scaleDownMs: { readonly mean: number; readonly max: number };
  /** Lengths of the jobs that were interrupted, longest first. */
  readonly interruptedJobMs: readonly number[];
  readonly podWrites: number;
}

export function summarize(r: WorldResult): Summary {
  const cut = new Map<number, number>();
  for (const run of r.runs) if (run.outcome === "released" || run.outcome === "killed") cut.set(run.job.id, run.job.ms);
  return {
    jobs: r.totals.jobs,
    interrupted: r.totals.interrupted,
    runAgainLate: r.totals.runAgainLate,
    lost: r.totals.lost,
    runTwice: r.totals.runTwice,
    busyPodsDeleted: r.busyDeleted,
    busyPodsDeletedWithIdlePeer: r.busyDeletedWithIdlePeer,
    deletions: r.deletions,
    latencyP50Ms: r.totals.latencyP50Ms,
    latencyP99Ms: r.totals.latencyP99Ms,
    scaleDownMs: { mean: Math.round(r.scaleDownMs.mean), max: Math.round(r.scaleDownMs.max) },
    interruptedJobMs: [...cut.values()].sort((a, b) => b - a),
    podWrites: r.podWrites,
  };
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The side-by-side table. */
export function table(plain: Summary, quiesce: Summary): string {
  const rows: Array<[string, string, string]> = [
    ["jobs", String(plain.jobs), String(quiesce.jobs)],
    ["interrupted", String(plain.interrupted), String(quiesce.interrupted)],
    ["run again late (lease expiry)", String(plain.runAgainLate), String(quiesce.runAgainLate)],
    ["lost", String(plain.lost), String(quiesce.lost)],
    ["run twice", String(plain.runTwice), String(quiesce.runTwice)],
    [`busy pods deleted (of ${plain.deletions})`, String(plain.busyPodsDeleted), String(quiesce.busyPodsDeleted)],
    ["  ... while an idle pod stayed", String(plain.busyPodsDeletedWithIdlePeer), String(quiesce.busyPodsDeletedWithIdlePeer)],
    ["latency p50", s(plain.latencyP50Ms), s(quiesce.latencyP50Ms)],
    ["latency p99", s(plain.latencyP99Ms), s(quiesce.latencyP99Ms)],
    ["scale-down duration, mean / max", `${s(plain.scaleDownMs.mean)} / ${s(plain.scaleDownMs.max)}`, `${s(quiesce.scaleDownMs.mean)} / ${s(quiesce.scaleDownMs.max)}`],
    ["pod annotation writes", String(plain.podWrites), String(quiesce.podWrites)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length), 6);
  const w1 = Math.max(...rows.map((r) => r[1].length), "plain".length);
  const w2 = Math.max(...rows.map((r) => r[2].length), "quiesce".length);
  const line = (a: string, b: string, c: string): string => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c.padStart(w2)}`;
  return [line("", "plain", "quiesce"), line("-".repeat(w0), "-".repeat(w1), "-".repeat(w2)), ...rows.map((r) => line(...r))].join("\n");
}
