import type { JobSpec } from "./ledger.js";
import type { Random } from "./random.js";

/** A share of the job mix: `share` of all jobs take between `minMs` and `maxMs` (uniform). */
export interface JobClass {
  readonly share: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface Scenario {
  readonly seed: number;
  /** Replicas at the start, then each level of the scaler's schedule in turn. */
  readonly replicas: number;
  readonly schedule: readonly number[];
  /** How long each level holds, drawn per level, in ms. */
  readonly holdMs: readonly [min: number, max: number];
  readonly mix: readonly JobClass[];
  /** Offered load as a share of what the replicas can do (jobs arrive as a Poisson stream). */
  readonly utilization: number;
  /**
   * How long the scaler takes to follow the load, in ms: the load moves to each level this long
   * before the replica count does, as an HPA or KEDA scales on what it measured (a queue length,
   * jobs in flight) after its sync period and stabilization window.
   */
  readonly reactionMs: number;
  readonly graceSeconds: number;
  /** Container start to worker start, in ms. */
  readonly startDelayMs: number;
  /** The queue's lease: what a killed worker's jobs wait before they run again. */
  readonly leaseMs: number;
}

/** The scenario of the scale-down issue: 8 pods, churn 8→2→8→6→8→5→8→4→8 (15 deletions), grace 10 s. */
export const defaultScenario: Scenario = {
  seed: 1,
  replicas: 8,
  schedule: [2, 8, 6, 8, 5, 8, 4, 8],
  holdMs: [20_000, 40_000],
  mix: [
    { share: 0.85, minMs: 200, maxMs: 2000 },
    { share: 0.15, minMs: 5000, maxMs: 20_000 },
  ],
  utilization: 0.5,
  reactionMs: 15_000,
  graceSeconds: 10,
  startDelayMs: 1000,
  leaseMs: 30_000,
};

/**
 * The same story for real processes on a real clock (`--redis`), five times faster: jobs of
 * 40–400 ms and some of 1–4 s, a 2 s grace period, so the show takes about a minute. Containers
 * start in their own time (a Node process each: one to a few seconds, not compressed), so levels
 * are held 4–8 s rather than a fifth of 20–40 s, and no start delay is added.
 */
export const realTimeScenario: Scenario = {
  ...defaultScenario,
  holdMs: [4000, 8000],
  mix: [
    { share: 0.85, minMs: 40, maxMs: 400 },
    { share: 0.15, minMs: 1000, maxMs: 4000 },
  ],
  reactionMs: 2000,
  graceSeconds: 2,
  startDelayMs: 0,
  leaseMs: 6000,
};

/** When the replica count changes, relative to the start. */
export interface ScaleStep {
  readonly atMs: number;
  readonly replicas: number;
}

/** The whole run decided up front from the seed, so both kinds of worker face the same story. */
export interface Plan {
  readonly steps: readonly ScaleStep[];
  /** Jobs with `enqueuedAt` relative to the start. */
  readonly jobs: readonly JobSpec[];
  readonly endMs: number;
}

export function plan(scenario: Scenario, random: Random): Plan {
  const churn = random.fork("churn");
  const arrivals = random.fork("arrivals");
  const lengths = random.fork("lengths");
  const steps: ScaleStep[] = [{ atMs: 0, replicas: scenario.replicas }];
  let at = 0;
  for (const replicas of scenario.schedule) {
    at += churn.between(scenario.holdMs[0], scenario.holdMs[1]);
    steps.push({ atMs: Math.round(at), replicas });
  }
  const endMs = Math.round(at + churn.between(scenario.holdMs[0], scenario.holdMs[1]));
  const meanMs = scenario.mix.reduce((sum, c) => sum + c.share * (c.minMs + c.maxMs) / 2, 0);
  const jobs: JobSpec[] = [];
  let t = 0;
  for (;;) {
    const level = [...steps].reverse().find((s) => s.atMs <= t + scenario.reactionMs)!.replicas;
    t += arrivals.exponential(meanMs / (scenario.utilization * level));
    if (t >= endMs) break;
    jobs.push({ id: jobs.length + 1, ms: Math.round(jobLength(scenario.mix, lengths)), enqueuedAt: Math.round(t) });
  }
  return { steps, jobs, endMs };
}

function jobLength(mix: readonly JobClass[], random: Random): number {
  let pick = random.next();
  for (const c of mix) {
    if (pick < c.share) return random.between(c.minMs, c.maxMs);
    pick -= c.share;
  }
  const last = mix.at(-1)!;
  return random.between(last.minMs, last.maxMs);
}
