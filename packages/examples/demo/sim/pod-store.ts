import type { PodApi, PodSnapshot } from "@quiesce/sdk";

/** One write as the API server applied it. */
export interface PodWrite {
  readonly at: number;
  readonly patch: Readonly<Record<string, string | null>>;
}

interface StoredPod {
  readonly graceSeconds: number;
  /** Every version of the annotations with the time it was stored, oldest first. */
  readonly versions: Array<{ readonly at: number; readonly annotations: Readonly<Record<string, string>> }>;
  readonly writes: PodWrite[];
  deletionTimestamp: number | undefined;
}

export interface PodStoreOptions {
  /** How long a PATCH takes to be applied and answered, in ms. */
  readonly writeLatencyMs: number;
}

/**
 * The API server's pods, in process: each worker's reporter writes through {@link api} (the same
 * merge-patch semantics as the real one: `null` removes a key), and a controller reads them through
 * {@link seen}, which can lag behind like an informer's cache.
 */
export class PodStore {
  readonly #pods = new Map<string, StoredPod>();
  readonly #latencyMs: number;

  constructor(options: PodStoreOptions) {
    this.#latencyMs = options.writeLatencyMs;
  }

  create(name: string, graceSeconds: number): void {
    this.#pods.set(name, { graceSeconds, versions: [{ at: Date.now(), annotations: {} }], writes: [], deletionTimestamp: undefined });
  }

  /** What `kubectl delete` does first: the pod gets its deletion deadline. */
  markDeleted(name: string): number {
    const pod = this.#get(name);
    pod.deletionTimestamp ??= Date.now() + pod.graceSeconds * 1000;
    return pod.deletionTimestamp;
  }

  /** The annotations as a watcher `lagMs` behind the API server sees them now. */
  seen(name: string, lagMs: number): Readonly<Record<string, string>> {
    const pod = this.#pods.get(name);
    if (!pod) return {};
    const { versions } = pod;
    const cutoff = Date.now() - lagMs;
    for (let i = versions.length - 1; i > 0; i--) if (versions[i]!.at <= cutoff) return versions[i]!.annotations;
    return versions[0]!.annotations;
  }

  writes(name: string): readonly PodWrite[] {
    return this.#pods.get(name)?.writes ?? [];
  }

  /** The two calls a worker makes on its own pod. */
  api(name: string): PodApi {
    return {
      read: async () => this.#snapshot(name),
      patchAnnotations: (patch, _timeoutMs, signal) =>
        new Promise<PodSnapshot>((resolve, reject) => {
          const onAbort = (): void => {
            clearTimeout(timer);
            reject(Object.assign(new Error("PATCH aborted"), { name: "AbortError" }));
          };
          const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            const pod = this.#get(name);
            const next: Record<string, string> = { ...pod.versions.at(-1)!.annotations };
            for (const [key, value] of Object.entries(patch)) {
              if (value === null) delete next[key];
              else next[key] = value;
            }
            pod.versions.push({ at: Date.now(), annotations: next });
            pod.writes.push({ at: Date.now(), patch: { ...patch } });
            resolve(this.#snapshot(name));
          }, this.#latencyMs);
          if (signal?.aborted) onAbort();
          else signal?.addEventListener("abort", onAbort, { once: true });
        }),
    };
  }

  #snapshot(name: string): PodSnapshot {
    const pod = this.#get(name);
    return {
      annotations: pod.versions.at(-1)!.annotations,
      terminationGracePeriodSeconds: pod.graceSeconds,
      deletionTimestamp: pod.deletionTimestamp,
      resourceVersion: String(pod.versions.length),
    };
  }

  #get(name: string): StoredPod {
    const pod = this.#pods.get(name);
    if (!pod) throw new Error(`no pod ${name}`);
    return pod;
  }
}
