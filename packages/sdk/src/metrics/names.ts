/**
 * Every metric name, help text and bounded label set: part of the black-box contract (the
 * README's metrics table). Dashboards, alerts and scalers (KEDA's Prometheus scaler) read these names, so a
 * rename here is a breaking change. Label values come only from the constant lists below, never
 * from job data, so the series count stays bounded whatever the queue carries.
 */
import { workerStates } from "../lifecycle/states.js";

export const metricPrefix = "quiesce_";

/** How a job ended, as counted in `quiesce_jobs_total` and `quiesce_job_duration_seconds`. */
export const jobOutcomes = ["completed", "failed", "released"] as const;

/** The `kind` label of `quiesce_queue_depth`; snake_case because it is a Prometheus label value. */
export const queueDepthKinds = ["waiting", "in_flight", "delayed"] as const;
export type QueueDepthKind = (typeof queueDepthKinds)[number];

/** The `outcome` label of `quiesce_pod_writes_total`. */
export const podWriteOutcomes = ["ok", "failed"] as const;

/** All five lifecycle states: `quiesce_worker_state` always exports every one (0 or 1). */
export const workerStateLabels = workerStates;

/**
 * Job duration buckets in seconds, for jobs of 10 ms up to 30 min: roughly 1-2.5-5 steps, then
 * minute steps in the range where grace periods are chosen (30 s default, up to 30 min).
 */
export const jobDurationBuckets: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800,
];

/** The `state` label of `quiesce_pool_connections`. */
export const poolConnectionStates = ["idle", "busy", "waiting"] as const;
export type PoolConnectionState = (typeof poolConnectionStates)[number];

/** Time to get a connection from a pool, in seconds: 1 ms (a free one) up to 30 s (a starved pool). */
export const poolWaitBuckets: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface MetricDef<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
}

function def<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): MetricDef<L> {
  return { name: metricPrefix + name, help, labelNames };
}

export const metricDefs = {
  jobsTotal: def("jobs_total", "Jobs settled by this worker, by outcome (completed, failed, released).", [
    "queue",
    "outcome",
  ]),
  jobsInFlight: def("jobs_in_flight", "Jobs whose handler is running now.", ["queue"]),
  jobDuration: def(
    "job_duration_seconds",
    "Handler run time of settled jobs, by outcome; released jobs only when their handler had started.",
    ["queue", "outcome"],
  ),
  workerState: def("worker_state", "1 for the worker's current lifecycle state, 0 for the others.", ["state"]),
  leaseExtensions: def("lease_extensions_total", "Lease renewals that succeeded."),
  leaseLost: def("lease_lost_total", "Leases that could not be renewed; the job was stopped and never acked here."),
  // The worker exits right after its drain, so a finished drain is seldom scraped: while one
  // runs this is its age (a long drain is visible as it happens); the final figure is in the
  // "drain finished" log line.
  drainDuration: def("drain_duration_seconds", "Seconds since the drain started while it runs, then how long the finished drain took."),
  queueDepth: def("queue_depth", "Jobs in the queue as the backend reports them, read at scrape time.", [
    "queue",
    "kind",
  ]),
  recommendedGrace: def(
    "recommended_grace_seconds",
    "Suggested terminationGracePeriodSeconds: p99 of recent job durations plus the safety margin, whole seconds.",
  ),
  checkpoints: def("checkpoints_total", "Checkpoints stored by handlers (ctx.checkpoint) with the job or in the checkpoint store."),
  resumedJobs: def("resumed_jobs_total", "Jobs that started from a checkpoint an earlier attempt stored."),
  resumeSaved: def(
    "resume_saved_seconds_total",
    "Seconds of earlier attempts' work that resumed jobs did not redo (run time up to the checkpoint they resumed from).",
  ),
  podWrites: def("pod_writes_total", "Pod annotation patches by the Kubernetes reporter, by outcome.", ["outcome"]),
  poolConnections: def(
    "pool_connections",
    "Connections of each resource pool: idle and busy are open, waiting counts callers queued for one; read at scrape time.",
    ["pool", "state"],
  ),
  poolWait: def("pool_wait_seconds", "Time a job waited to get a connection from the pool.", ["pool"]),
} as const;
