import type { SimPod } from "./pod.js";
import type { PodStore } from "./pod-store.js";
import { STATE } from "./annotation-keys.js";
import { deletionCost, deletionOrder } from "./ranking.js";

/** One pod the ReplicaSet chose to delete, and what was true of the fleet at that moment. */
export interface Victim {
  readonly pod: string;
  /** The deletion cost the controller saw (through its informer's lag). */
  readonly seenCost: number;
  /** A job was running on it. */
  readonly busy: boolean;
  /** It was busy while a ready pod that survived the scale-down had nothing to do. */
  readonly idlePeer: boolean;
  /**
   * That mistake came from the informer's lag alone: the API server already said this pod was
   * busy, or an idle survivor was idle, when the controller's cache still said otherwise.
   */
  readonly hiddenByLag: boolean;
}

export interface ScaleDown {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly victims: readonly Victim[];
  /** The pods that stayed, as the controller saw them (idlePeer is always false here). */
  readonly survivors: readonly Victim[];
  /** When the last victim's process was gone. */
  doneAt?: number;
}

/** The API server as the controller uses it: the in-process store, or the demo's HTTP one. */
export type PodDirectory = Pick<PodStore, "create" | "markDeleted" | "seen">;

export interface ReplicaSetDeps {
  readonly makePod: (name: string) => SimPod;
  readonly store: PodDirectory;
  /** How far the controller's view of pod annotations trails the API server, in ms. */
  readonly informerLagMs: number;
  readonly graceSeconds: number;
}

/**
 * The ReplicaSet controller's part of a scale: create pods to reach the count, or pick victims in
 * the controller's order, mark them deleted (deletion deadline = now + grace), SIGTERM them, and
 * SIGKILL whatever still runs when the grace period ends. Terminating pods no longer count.
 */
export class ReplicaSet {
  readonly pods: SimPod[] = [];
  readonly scaleDowns: ScaleDown[] = [];
  readonly #deps: ReplicaSetDeps;
  #seq = 0;

  constructor(deps: ReplicaSetDeps) {
    this.#deps = deps;
  }

  /** Pods that count towards the replicas: not terminating. */
  active(): SimPod[] {
    return this.pods.filter((p) => p.marks.termAt === undefined);
  }

  terminating(): SimPod[] {
    return this.pods.filter((p) => p.marks.termAt !== undefined && p.marks.exitAt === undefined);
  }

  scale(to: number): void {
    const active = this.active();
    for (let i = active.length; i < to; i++) {
      const name = `pod-${String(++this.#seq).padStart(2, "0")}`;
      this.#deps.store.create(name, this.#deps.graceSeconds);
      this.pods.push(this.#deps.makePod(name));
    }
    if (active.length <= to) return;
    const { store, informerLagMs } = this.#deps;
    const order = deletionOrder(active.map((pod) => ({ pod, name: pod.name, ready: pod.ready(), createdAt: pod.createdAt, annotations: store.seen(pod.name, informerLagMs) })));
    const chosen = order.slice(0, active.length - to);
    const survivors = order.slice(active.length - to);
    const idleSurvivors = survivors.filter((s) => s.pod.ready() && s.pod.inFlight() === 0);
    const said = (name: string, lag: number): string | undefined => store.seen(name, lag)[STATE];
    const staleIdle = idleSurvivors.some((s) => said(s.name, informerLagMs) === "busy" && said(s.name, 0) !== "busy");
    const victims = chosen.map((c) => {
      const busy = c.pod.inFlight() > 0;
      const idlePeer = busy && idleSurvivors.length > 0;
      const staleBusy = said(c.name, informerLagMs) !== "busy" && said(c.name, 0) === "busy";
      return { pod: c.name, seenCost: deletionCost(c), busy, idlePeer, hiddenByLag: idlePeer && (staleBusy || staleIdle) };
    });
    const kept = survivors.map((c) => ({ pod: c.name, seenCost: deletionCost(c), busy: c.pod.inFlight() > 0, idlePeer: false, hiddenByLag: false }));
    const event: ScaleDown = { at: Date.now(), from: active.length, to, victims, survivors: kept };
    this.scaleDowns.push(event);
    for (const c of chosen) this.#delete(c.pod);
    void Promise.all(chosen.map((c) => c.pod.exited)).then(() => (event.doneAt = Date.now()));
  }

  /** Stop everything at the end of a run (no accounting: the story is over). */
  shutdown(): void {
    for (const pod of this.pods) pod.kill();
  }

  #delete(pod: SimPod): void {
    this.#deps.store.markDeleted(pod.name);
    pod.terminate();
    const kill = setTimeout(() => pod.kill(), this.#deps.graceSeconds * 1000);
    void pod.exited.then(() => clearTimeout(kill));
  }
}
