import type { Handler } from "../handler.js";
import type { PodApi } from "./pod-api.js";
import type { Logger, LogLevel } from "../logger.js";
import type { ResourceHandles, ResourcesInput } from "../resources/resources.js";
import type { CheckpointStore } from "../source/checkpoint.js";
import type { Source } from "../source/source.js";

export interface HttpOptions {
  /** @defaultValue `QUIESCE_HTTP_PORT` or 9464; 0 picks a free port (read it from `worker.httpAddress()`). */
  readonly port?: number;
  /** @defaultValue `QUIESCE_HTTP_HOST` or "0.0.0.0" */
  readonly host?: string;
}

export interface KubernetesOptions {
  /** @defaultValue `POD_NAME` (Downward API), else `HOSTNAME` inside a pod */
  readonly podName?: string;
  /** @defaultValue `POD_NAMESPACE`, else the service account's namespace file */
  readonly namespace?: string;
  /** Write pod annotations (deletion cost, state, eviction guards). @defaultValue true in a pod */
  readonly annotations?: boolean;
  /** Write `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` while busy. @defaultValue true */
  readonly safeToEvict?: boolean;
  /** Write `karpenter.sh/do-not-disrupt: "true"` while busy. @defaultValue true */
  readonly doNotDisrupt?: boolean;
  /** Report busy once the worker has been busy this long, in ms (0: with the first job). @defaultValue `QUIESCE_BUSY_AFTER_MS` or 0 */
  readonly busyAfterMs?: number;
  /** Path of a kubeconfig to use instead of the in-cluster config. @defaultValue `KUBECONFIG` outside a pod */
  readonly kubeconfig?: string;
  /**
   * The two calls on the own pod (read it, merge-patch its annotations) in place of
   * `@kubernetes/client-node`: for a proxy, a simulated cluster (the demo's ReplicaSet) or tests.
   * @defaultValue client-node with the kubeconfig or the service account
   */
  readonly podApi?: PodApi;
  /** The reporter's timings, for benchmarks and simulations; the defaults are the measured ones (bench/README.md). */
  readonly tuning?: PodReportTuning;
}

export interface PodReportTuning {
  /** Idle this long ends a busy spell, in ms. @defaultValue 200 */
  readonly quietMs?: number;
  /** No two writes start closer than this, in ms. @defaultValue 1000 */
  readonly minIntervalMs?: number;
  /** Up to this much is added to each interval, in ms. @defaultValue 250 */
  readonly jitterMs?: number;
  /** The deletion cost an idle pod carries (0: the annotation is removed). @defaultValue 0 */
  readonly idleCost?: number;
  /** A busy mark not yet written is dropped when the job ends, with no quiet spell. @defaultValue false */
  readonly withdrawUnshown?: boolean;
  /** The idle mark goes out without waiting for the write spacing, and starts none (still one write per transition). @defaultValue true */
  readonly idleSkipsInterval?: boolean;
}

export interface CheckpointOptions {
  /**
   * Also keep checkpoints here, keyed by `<queue>:<message id>`: for backends that cannot keep
   * one with the message, or only carry it on a re-publish (a crash would lose it). @defaultValue none
   */
  readonly store?: CheckpointStore;
  /**
   * What a drain does with a job that checkpoints. "release": hand it back as soon as it has stored
   * a checkpoint after ctx.draining fired (nothing left to lose, the pod leaves sooner). "deadline":
   * let it run on, like any job, until it finishes or the deadline releases it. @defaultValue "release"
   */
  readonly drain?: "release" | "deadline";
}

/** Everything is optional; `resolveConfig` fills defaults from the environment and one table. */
export interface WorkerOptions<Payload = unknown, R extends ResourcesInput = ResourcesInput> {
  /** Where jobs come from. @defaultValue a new in-memory source */
  readonly source?: Source;
  readonly handler: Handler<Payload, ResourceHandles<R>>;
  /** Jobs run at once. @defaultValue `QUIESCE_CONCURRENCY` or 1 */
  readonly concurrency?: number;
  /** Probe/admin/metrics server; `false` disables it. @defaultValue enabled on 0.0.0.0:9464 */
  readonly http?: HttpOptions | false;
  /** Drain and exit 0 once the queue stays empty. @defaultValue `QUIESCE_EXIT_WHEN_EMPTY` (or `TERM_ON_EMPTY`) or false */
  readonly exitWhenEmpty?: boolean;
  /** How long the queue must stay empty before exit-when-empty drains, in ms. @defaultValue `QUIESCE_EMPTY_GRACE_MS` or 1000 */
  readonly emptyGraceMs?: number;
  /** Grace period when the pod spec cannot be read, in seconds. @defaultValue `QUIESCE_GRACE_SECONDS` or 30 */
  readonly graceSeconds?: number;
  /** Released before the grace period ends by this much, in ms. @defaultValue `QUIESCE_SAFETY_MARGIN_MS` or 10% of the grace clamped to 1000..5000 */
  readonly safetyMarginMs?: number;
  /** Take this many jobs, then drain. @defaultValue `QUIESCE_MAX_JOBS` or unlimited */
  readonly maxJobs?: number;
  /** Drain after running this long, in seconds. @defaultValue `QUIESCE_MAX_LIFETIME_SECONDS` or unlimited */
  readonly maxLifetimeSeconds?: number;
  /** Bearer token that `/drain` from non-loopback callers must present. @defaultValue `QUIESCE_DRAIN_TOKEN` */
  readonly drainToken?: string;
  /** A source failing for this long without a success is fatal (exit 1), in ms. @defaultValue `QUIESCE_SOURCE_FAILURE_MS` or 30000 */
  readonly sourceFailureMs?: number;
  /** Handle SIGTERM/SIGINT. @defaultValue true for `run()`, false for `start()` */
  readonly handleSignals?: boolean;
  /**
   * How `run()` ends the process: `true` calls `process.exit(code)`, a function is called instead,
   * `false` never exits (embedded use). `start()` never exits. @defaultValue true
   */
  readonly exit?: boolean | ((code: number) => void);
  /** Checkpoint store and drain policy for handlers that call ctx.checkpoint(). */
  readonly checkpoints?: CheckpointOptions;
  /**
   * Database pools and clients: started before the source connects, closed after it in reverse
   * order. As an object, each is `ctx.resources.<key>` in handlers (typed); as an array, keyed by name.
   */
  readonly resources?: R;
  /**
   * The fleet's connection budget: each worker's pools together open at most
   * ⌊maxConnections ÷ maxReplicas⌋ connections, so a fleet scaled to `maxReplicas` (the scaler's
   * `maxReplicaCount`) stays within the server's `max_connections`; `false` turns it off.
   * @defaultValue `QUIESCE_DB_MAX_CONNECTIONS` and `QUIESCE_MAX_REPLICAS`, else none
   */
  readonly connectionBudget?: { readonly maxConnections: number; readonly maxReplicas: number } | false;
  /** Pod reporter and deadline discovery; `false` disables. @defaultValue on when `POD_NAME`/`POD_NAMESPACE` or a pod is detected */
  readonly kubernetes?: KubernetesOptions | false;
  /** @defaultValue a JSON-lines stderr logger at `QUIESCE_LOG_LEVEL` (info) for `run()`; silent for `start()` */
  readonly logger?: Logger;
}

/** Every field present, durations in ms: what the runtime actually uses. */
export interface ResolvedConfig {
  readonly concurrency: number;
  readonly http: { readonly port: number; readonly host: string } | false;
  readonly exitWhenEmpty: boolean;
  readonly emptyGraceMs: number;
  readonly graceMs: number;
  readonly safetyMarginMs: number;
  readonly maxJobs: number | null;
  readonly maxLifetimeMs: number | null;
  readonly drainToken: string | null;
  readonly sourceFailureMs: number;
  readonly logLevel: LogLevel;
  readonly kubernetes: ResolvedKubernetes | false;
  /** Connections one worker may hold in all, from the fleet budget; null when no budget is set. */
  readonly connectionBudget: { readonly maxConnections: number; readonly maxReplicas: number; readonly perWorker: number } | null;
  readonly checkpointDrain: "release" | "deadline";
}

export interface ResolvedKubernetes {
  readonly podName: string;
  readonly namespace: string;
  readonly annotations: boolean;
  readonly safeToEvict: boolean;
  readonly doNotDisrupt: boolean;
  readonly busyAfterMs: number;
  readonly kubeconfig: string | null;
  readonly podApi?: PodApi;
  readonly tuning?: PodReportTuning;
}
