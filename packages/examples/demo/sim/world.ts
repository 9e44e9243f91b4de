import { createMemorySource, type MemorySource } from "@quiesce/sdk";
import { Ledger, type JobTotals, type Run } from "./ledger.js";
import type { PodMarks, SimPod } from "./pod.js";
import { PlainPod } from "./plain-pod.js";
import { PodStore, type PodWrite } from "./pod-store.js";
import { QuiescePod, type Reporting } from "./quiesce-pod.js";
import { seeded } from "./random.js";
import { ReplicaSet, type ScaleDown } from "./replicaset.js";
import { plan, type Plan, type Scenario } from "./scenario.js";

export type WorkerKind = "plain" | "quiesce";

export interface WorldOptions {
  readonly scenario: Scenario;
  readonly kind: WorkerKind;
  /** How far the ReplicaSet's view of the pods trails the API server, in ms. @defaultValue 0 */
  readonly informerLagMs?: number;
  /** How long a pod PATCH takes, in ms. @defaultValue 20 */
  readonly writeLatencyMs?: number;
  readonly reporting?: Reporting;
  /** After the last scale step, how long to wait at most for the queue to empty, in ms. @defaultValue 120000 */
  readonly settleMs?: number;
}

export interface PodTimeline {
  readonly name: string;
  readonly createdAt: number;
  readonly marks: PodMarks;
  /** Every PATCH of its annotations, as the API server applied it. */
  readonly writes: readonly PodWrite[];
}

export interface WorldResult {
  readonly kind: WorkerKind;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly totals: JobTotals;
  readonly scaleDowns: readonly ScaleDown[];
  readonly deletions: number;
  readonly busyDeleted: number;
  readonly busyDeletedWithIdlePeer: number;
  /** Of those, the ones a controller without informer lag would have avoided. */
  readonly hiddenByLag: number;
  /** From each scale-down's decision until its last victim was gone, in ms. */
  readonly scaleDownMs: { readonly mean: number; readonly max: number };
  readonly podWrites: number;
  readonly podHours: number;
  readonly writesPerPodHour: number;
  readonly pods: readonly PodTimeline[];
  readonly runs: readonly Run[];
}

/** What the live line shows. */
export interface WorldSnapshot {
  readonly replicas: number;
  readonly busy: number;
  readonly draining: number;
  readonly queued: number;
  readonly interrupted: number;
}

/**
 * One run of the story for one kind of worker: its own queue, API server, ledger and ReplicaSet,
 * on the shared virtual clock. Several worlds can run on one clock side by side without touching
 * each other: each sees only its own timers' order.
 */
export class World {
  readonly options: WorldOptions;
  readonly plan: Plan;
  readonly #queue: MemorySource;
  readonly #store: PodStore;
  readonly #ledger = new Ledger();
  readonly #rs: ReplicaSet;
  readonly #startedAt = Date.now();
  #result: WorldResult | undefined;

  constructor(options: WorldOptions) {
    this.options = options;
    const { scenario } = options;
    this.plan = plan(scenario, seeded(scenario.seed));
    this.#queue = createMemorySource({ name: "jobs", leaseMs: scenario.leaseMs });
    this.#store = new PodStore({ writeLatencyMs: options.writeLatencyMs ?? 20 });
    const makePod = (name: string): SimPod =>
      options.kind === "plain"
        ? new PlainPod(name, { queue: this.#queue, ledger: this.#ledger, startDelayMs: scenario.startDelayMs })
        : new QuiescePod(name, {
            queue: this.#queue,
            ledger: this.#ledger,
            store: this.#store,
            graceSeconds: scenario.graceSeconds,
            startDelayMs: scenario.startDelayMs,
            reporting: options.reporting ?? {},
          });
    this.#rs = new ReplicaSet({ makePod, store: this.#store, informerLagMs: options.informerLagMs ?? 0, graceSeconds: scenario.graceSeconds });
  }

  /** Schedule the producer, the scaler and the end check; the clock's run does the rest. */
  async start(): Promise<void> {
    await this.#queue.start();
    const t0 = this.#startedAt;
    for (const step of this.plan.steps) setTimeout(() => this.#rs.scale(step.replicas), step.atMs);
    for (const job of this.plan.jobs) {
      setTimeout(() => {
        const spec = { ...job, enqueuedAt: t0 + job.enqueuedAt };
        this.#ledger.add(spec);
        this.#queue.add(spec);
      }, job.enqueuedAt);
    }
    const last = this.plan.endMs;
    const cap = last + (this.options.settleMs ?? 120_000);
    const check = (): void => {
      const elapsed = Date.now() - t0;
      const settled = this.#ledger.pending() === 0 && this.#rs.terminating().length === 0;
      if (elapsed >= cap || (elapsed >= last && settled)) return this.#finish();
      setTimeout(check, 500);
    };
    setTimeout(check, last);
  }

  /** Virtual epoch ms the run began. */
  get startedAt(): number {
    return this.#startedAt;
  }

  get done(): boolean {
    return this.#result !== undefined;
  }

  snapshot(): WorldSnapshot {
    const active = this.#rs.active();
    return {
      replicas: active.length,
      busy: active.filter((p) => p.inFlight() > 0).length,
      draining: this.#rs.terminating().length,
      queued: this.#queue.snapshot().waiting,
      interrupted: this.#ledger.totals().interrupted,
    };
  }

  result(): WorldResult {
    if (!this.#result) throw new Error("the run has not finished");
    return this.#result;
  }

  #finish(): void {
    this.#result = worldResult({
      kind: this.options.kind,
      startedAt: this.#startedAt,
      endedAt: Date.now(),
      totals: this.#ledger.totals(),
      replicaSet: this.#rs,
      ledger: this.#ledger,
      writes: (name) => this.#store.writes(name),
    });
    this.#rs.shutdown();
  }
}

export interface WorldRecord {
  readonly kind: WorkerKind;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly totals: JobTotals;
  readonly replicaSet: ReplicaSet;
  readonly ledger: Ledger;
  readonly writes: (pod: string) => readonly PodWrite[];
}

/** What a run left, in the form the table and the picture read: the same for simulated and real pods. */
export function worldResult({ kind, startedAt, endedAt, totals, replicaSet, ledger, writes }: WorldRecord): WorldResult {
  const scaleDowns = replicaSet.scaleDowns;
  const victims = scaleDowns.flatMap((s) => s.victims);
  const durations = scaleDowns.map((s) => (s.doneAt ?? endedAt) - s.at);
  const pods = replicaSet.pods.map((p) => ({ name: p.name, createdAt: p.createdAt, marks: { ...p.marks }, writes: [...writes(p.name)] }));
  const podWrites = pods.reduce((sum, p) => sum + p.writes.length, 0);
  const podHours = pods.reduce((sum, p) => sum + ((p.marks.exitAt ?? endedAt) - p.createdAt), 0) / 3_600_000;
  return {
    kind,
    startedAt,
    endedAt,
    totals,
    scaleDowns: scaleDowns.map((s) => ({ ...s })),
    deletions: victims.length,
    busyDeleted: victims.filter((v) => v.busy).length,
    busyDeletedWithIdlePeer: victims.filter((v) => v.idlePeer).length,
    hiddenByLag: victims.filter((v) => v.hiddenByLag).length,
    scaleDownMs: {
      mean: durations.length === 0 ? 0 : durations.reduce((a, b) => a + b, 0) / durations.length,
      max: Math.max(0, ...durations),
    },
    podWrites,
    podHours,
    writesPerPodHour: podHours === 0 ? 0 : podWrites / podHours,
    pods,
    runs: ledger.runs().map((r) => ({ ...r })),
  };
}
