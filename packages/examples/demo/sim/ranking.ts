import { DELETION_COST } from "./annotation-keys.js";

/** What the ReplicaSet controller knows of a pod when it scales down (from its informer cache). */
export interface RankedPod {
  readonly name: string;
  readonly ready: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

/**
 * The scale-down order of the ReplicaSet controller, first to go first: not ready before ready,
 * then lower `controller.kubernetes.io/pod-deletion-cost` (absent or unparsable is 0), then newer
 * before older. The real controller also looks at node placement and buckets ages
 * logarithmically; every pod here is alike in those.
 */
export function deletionOrder<P extends RankedPod>(pods: readonly P[]): P[] {
  return [...pods].sort((a, b) => {
    if (a.ready !== b.ready) return a.ready ? 1 : -1;
    const cost = deletionCost(a) - deletionCost(b);
    if (cost !== 0) return cost;
    if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
    return a.name < b.name ? 1 : -1;
  });
}

export function deletionCost(pod: RankedPod): number {
  const raw = pod.annotations[DELETION_COST];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 ? n : 0;
}
