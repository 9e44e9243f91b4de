import { createWorker, type MemorySource, type PodApi, type PodReportTuning, type Worker } from "@quiesce/sdk";
import type { JobSpec, Ledger } from "./ledger.js";
import { doWork, never, type PodMarks, type SimPod } from "./pod.js";
import { podSource, type PodSource } from "./pod-source.js";
import type { PodStore } from "./pod-store.js";

/** How the quiesce workers report on their pods; unset fields keep the SDK's defaults. */
export interface Reporting {
  readonly busyAfterMs?: number;
  readonly tuning?: PodReportTuning;
}

export interface QuiescePodDeps {
  readonly queue: MemorySource;
  readonly ledger: Ledger;
  readonly store: PodStore;
  readonly graceSeconds: number;
  readonly startDelayMs: number;
  readonly reporting: Reporting;
}

/**
 * A real `createWorker` on the shared queue, its pod reporter writing through the simulated API
 * server. SIGTERM is its drain (it reads the pod's deletion deadline like in a cluster); SIGKILL
 * cuts it off from the queue and the API server like a dead process.
 */
export class QuiescePod implements SimPod {
  readonly name: string;
  readonly createdAt = Date.now();
  readonly marks: PodMarks = {};
  readonly exited: Promise<void>;
  readonly #source: PodSource;
  readonly #worker: Worker<JobSpec>;
  #exit!: () => void;

  constructor(name: string, deps: QuiescePodDeps) {
    this.name = name;
    this.#source = podSource(deps.queue);
    const killed = this.#source.killed;
    this.#worker = createWorker<JobSpec>({
      source: this.#source,
      concurrency: 1,
      http: false,
      handleSignals: false,
      graceSeconds: deps.graceSeconds,
      kubernetes: {
        podName: name,
        namespace: "demo",
        podApi: cutOff(deps.store.api(name), killed),
        ...(deps.reporting.busyAfterMs === undefined ? {} : { busyAfterMs: deps.reporting.busyAfterMs }),
        ...(deps.reporting.tuning === undefined ? {} : { tuning: deps.reporting.tuning }),
      },
      handler: async (job, ctx) => {
        const done = await doWork(deps.ledger, name, job, AbortSignal.any([ctx.signal, killed]), killed);
        if (killed.aborted) return never;
        if (!done) throw new Error("stopped at the drain deadline");
        return undefined;
      },
    });
    this.exited = new Promise((resolve) => (this.#exit = resolve));
    setTimeout(() => {
      if (killed.aborted) return;
      void this.#worker.start().then(() => {
        if (!killed.aborted && this.marks.termAt === undefined) this.marks.readyAt = Date.now();
      });
    }, deps.startDelayMs);
  }

  ready(): boolean {
    if (this.marks.readyAt === undefined || this.marks.termAt !== undefined) return false;
    const { state } = this.#worker.status();
    return state === "idle" || state === "busy";
  }

  inFlight(): number {
    return this.marks.readyAt === undefined ? 0 : this.#worker.status().inFlight;
  }

  terminate(): void {
    if (this.marks.termAt !== undefined) return;
    this.marks.termAt = Date.now();
    if (this.marks.readyAt === undefined) {
      // Not started yet: there is nothing to drain.
      this.#source.kill();
      return this.#gone();
    }
    void this.#worker.drain("SIGTERM").then(() => this.#gone());
  }

  kill(): void {
    if (this.marks.exitAt !== undefined) return;
    this.marks.killAt = Date.now();
    this.#source.kill();
    this.#gone();
  }

  #gone(): void {
    if (this.marks.exitAt !== undefined) return;
    this.marks.exitAt = Date.now();
    this.#exit();
  }
}

/** The pod API as a killed process sees it: nothing goes out any more. */
function cutOff(api: PodApi, killed: AbortSignal): PodApi {
  const dead = (): Promise<never> => Promise.reject(Object.assign(new Error("process killed"), { name: "AbortError" }));
  return {
    read: (timeoutMs, signal) => (killed.aborted ? dead() : api.read(timeoutMs, signal)),
    patchAnnotations: (patch, timeoutMs, signal) => (killed.aborted ? dead() : api.patchAnnotations(patch, timeoutMs, signal)),
  };
}
