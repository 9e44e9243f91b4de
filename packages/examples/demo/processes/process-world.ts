import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Ledger, type JobSpec, type JobTotals } from "../sim/ledger.js";
import { seeded } from "../sim/random.js";
import { ReplicaSet } from "../sim/replicaset.js";
import { plan, type Plan, type Scenario } from "../sim/scenario.js";
import { worldResult, type WorkerKind, type WorldResult, type WorldSnapshot } from "../sim/world.js";
import { KubeApi } from "./kube-api.js";
import { ProcessPod } from "./process-pod.js";
import { redisConnection, type JobData, type PodConfig } from "./protocol.js";

export interface ProcessWorldOptions {
  readonly scenario: Scenario;
  readonly kind: WorkerKind;
  readonly redisUrl: string;
  /** Where the kubeconfig goes (a temp dir the caller removes). */
  readonly dir: string;
  /** How far the ReplicaSet's view of the pods trails the API server, in ms. @defaultValue 0 */
  readonly informerLagMs?: number;
  /** After the last scale step, how long to wait at most for BullMQ to settle every job, in ms. @defaultValue 30000 */
  readonly settleMs?: number;
  /** How long the first replicas may take to become ready, in ms. @defaultValue 60000 */
  readonly bootMs?: number;
  readonly onStderr?: (pod: string, line: string) => void;
}

const SCRIPTS: Record<WorkerKind, URL> = {
  plain: new URL("./plain-worker.js", import.meta.url),
  quiesce: new URL("./quiesce-worker.js", import.meta.url),
};

/**
 * One run of the story with real processes: a BullMQ queue of its own on the given Redis, an API
 * server of its own, the seeded producer and scaler on the real clock, and the simulated
 * ReplicaSet (the same controller code as the in-memory show) forking, ranking and signalling pod
 * processes. The result comes from what happened: the pods' own reports of their job runs, and
 * BullMQ's final state of every job.
 */
export class ProcessWorld {
  readonly options: ProcessWorldOptions;
  readonly plan: Plan;
  readonly startedAt = Date.now();
  readonly #ledger = new Ledger();
  readonly #specs = new Map<number, JobSpec>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #queueName: string;
  #queue: Queue<JobData> | undefined;
  #api: KubeApi | undefined;
  #rs: ReplicaSet | undefined;
  #queued = 0;
  #result: WorldResult | undefined;

  constructor(options: ProcessWorldOptions) {
    this.options = options;
    this.plan = plan(options.scenario, seeded(options.scenario.seed));
    this.#queueName = `quiesce-demo-${process.pid}-${Date.now().toString(36)}-${options.kind}`;
  }

  get done(): boolean {
    return this.#result !== undefined;
  }

  /** Every pod process this world started (running or not). */
  pods(): readonly ProcessPod[] {
    return (this.#rs?.pods ?? []) as ProcessPod[];
  }

  snapshot(): WorldSnapshot {
    const active = this.#rs?.active() ?? [];
    return {
      replicas: active.length,
      busy: active.filter((p) => p.inFlight() > 0).length,
      draining: this.#rs?.terminating().length ?? 0,
      queued: this.#queued,
      interrupted: this.#ledger.totals().interrupted,
    };
  }

  /** Boot the first replicas, play the story, wait for BullMQ to settle every job; then stop every pod. */
  async run(): Promise<WorldResult> {
    const { scenario, kind } = this.options;
    const connection = redisConnection(this.options.redisUrl);
    this.#queue = new Queue<JobData>(this.#queueName, { connection: { ...connection, maxRetriesPerRequest: null } });
    this.#queue.on("error", () => undefined); // a failed call rejects where it is made
    await this.#queue.waitUntilReady();
    const api = (this.#api = await KubeApi.start(`demo-${kind}`));
    const kubeconfig = join(this.options.dir, `kubeconfig-${kind}.json`);
    writeFileSync(kubeconfig, api.kubeconfig());
    const config: PodConfig = {
      redisUrl: this.options.redisUrl,
      queue: this.#queueName,
      lockDurationMs: scenario.leaseMs,
      stalledIntervalMs: Math.round(scenario.leaseMs / 2),
    };
    const env = podEnv(process.env, {
      POD_NAMESPACE: api.namespace,
      KUBECONFIG: kubeconfig,
      QUIESCE_LOG_LEVEL: "warn",
      // The grace period comes from the pod (spec, then deletionTimestamp); the same figure as the
      // fallback, as the example Deployment sets it, for a SIGTERM that lands before the pod was read.
      QUIESCE_GRACE_SECONDS: String(scenario.graceSeconds),
      // The SDK's 10 % of the grace, without the 1 s floor that would take half of the show's 2 s.
      QUIESCE_SAFETY_MARGIN_MS: String(Math.max(200, scenario.graceSeconds * 100)),
    });
    const rs = (this.#rs = new ReplicaSet({
      store: api,
      informerLagMs: this.options.informerLagMs ?? 0,
      graceSeconds: scenario.graceSeconds,
      makePod: (name) =>
        new ProcessPod(name, {
          script: SCRIPTS[kind],
          config,
          env: { ...env, POD_NAME: name },
          ledger: this.#ledger,
          job: (id) => this.#spec(id),
          readinessProbe: kind === "quiesce",
          onStderr: (line) => this.options.onStderr?.(name, line),
        }),
    }));
    try {
      rs.scale(scenario.replicas);
      const bootMs = this.options.bootMs ?? 60_000;
      if (!(await until(() => rs.active().every((p) => p.ready()), bootMs))) {
        throw new Error(`${kind} run: the first ${scenario.replicas} pods were not ready after ${bootMs} ms`);
      }
      // The story starts once the first replicas are up: both runs line up in the picture however
      // long their processes took to boot.
      const storyStartedAt = Date.now();
      const totals = await this.#play(rs, this.#queue);
      const endedAt = Date.now();
      this.#result = worldResult({ kind, startedAt: storyStartedAt, endedAt, totals, replicaSet: rs, ledger: this.#ledger, writes: (name) => api.writes(name) });
      return this.#result;
    } finally {
      await this.close();
    }
  }

  /** Stop everything this world started: pods (SIGKILL: the story is over), queue, API server. Idempotent. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#rs?.shutdown();
    await Promise.all(this.pods().map((p) => p.exited));
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close().catch(() => undefined);
    }
    const api = this.#api;
    this.#api = undefined;
    await api?.close();
  }

  async #play(rs: ReplicaSet, queue: Queue<JobData>): Promise<JobTotals> {
    const t0 = Date.now();
    const later = (ms: number, fn: () => void): void => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        fn();
      }, ms);
      this.#timers.add(timer);
    };
    for (const step of this.plan.steps.slice(1)) later(step.atMs, () => rs.scale(step.replicas));
    const adds: Promise<unknown>[] = [];
    for (const job of this.plan.jobs) {
      later(job.enqueuedAt, () => {
        const spec = { ...job, enqueuedAt: Date.now() };
        this.#specs.set(spec.id, spec);
        this.#ledger.add(spec);
        const added = queue.add("job", { id: spec.id, ms: spec.ms }, { jobId: `job-${spec.id}`, removeOnComplete: false, removeOnFail: false });
        added.catch(() => undefined); // awaited below, with every other add
        adds.push(added);
      });
    }
    const counts = async (): Promise<Record<string, number>> => queue.getJobCounts("completed", "failed", "active", "wait", "prioritized", "delayed", "waiting-children");
    const tick = setInterval(() => void counts().then((c) => (this.#queued = (c.wait ?? 0) + (c.prioritized ?? 0)), () => undefined), 1000);
    try {
      // Settled: every job added and in BullMQ's completed or failed set, no pod still terminating.
      await until(async () => {
        if (Date.now() - t0 < this.plan.endMs || adds.length < this.plan.jobs.length || rs.terminating().length > 0) return false;
        await Promise.all(adds);
        const c = await counts();
        return (c.completed ?? 0) + (c.failed ?? 0) === this.plan.jobs.length;
      }, this.plan.endMs + (this.options.settleMs ?? 30_000), 250);
      await Promise.all(adds);
      const completed = (await counts()).completed ?? 0;
      // Lost is BullMQ's word, not ours: a job not completed when the story is over (failed after
      // stalling too often, or still waiting for a lock to expire).
      return { ...this.#ledger.totals(), lost: this.plan.jobs.length - completed };
    } finally {
      clearInterval(tick);
    }
  }

  #spec(id: number): JobSpec {
    const spec = this.#specs.get(id);
    if (!spec) throw new Error(`a pod reported job ${id}, which was never added`);
    return spec;
  }
}

/** Poll `cond` until it holds (true) or `timeoutMs` has passed (false). */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

/** The environment of a pod process: ours without anything that would point it at a real cluster or change the show. */
function podEnv(env: NodeJS.ProcessEnv, extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (!/^(QUIESCE_|KUBERNETES_|POD_)|^TERM_ON_EMPTY$/.test(key)) out[key] = value;
  }
  return { ...out, ...extra };
}
