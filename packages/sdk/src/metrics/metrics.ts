import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { coerceError } from "../errors.js";
import type { WorkerEvents } from "../events.js";
import type { TypedEmitter } from "../internal/typed-emitter.js";
import type { WorkerStatus } from "../lifecycle/status.js";
import { noopLogger, type Logger } from "../logger.js";
import type { QueueDepth } from "../source/source.js";
import { DurationWindow } from "./duration-window.js";
import {
  jobDurationBuckets,
  jobOutcomes,
  metricDefs,
  podWriteOutcomes,
  queueDepthKinds,
  workerStateLabels,
  type QueueDepthKind,
} from "./names.js";

export interface MetricsOptions {
  /** Subscribe to worker events; pass it bound (`emitter.on.bind(emitter)`). Each call returns its unsubscribe. */
  readonly on: TypedEmitter<WorkerEvents>["on"];
  /** The worker's one status snapshot (habit 14): in-flight and state gauges read it at scrape time. */
  readonly status: () => WorkerStatus;
  /** The `queue` label value: the source's name. */
  readonly queue: string;
  /** Added to the p99 job duration for `quiesce_recommended_grace_seconds`, in ms. */
  readonly safetyMarginMs: number;
  /** The source's `depth()`, read at scrape time for `quiesce_queue_depth`; omitted when the source has none. */
  readonly depth?: () => Promise<QueueDepth>;
  /** How long a scrape waits for `depth()`, in ms. @defaultValue 1000 */
  readonly depthTimeoutMs?: number;
  /** Cumulative counts of the Kubernetes reporter's annotation patches. */
  readonly podWrites?: () => { readonly ok: number; readonly failed: number };
  /** Recent durations kept for the grace recommendation. @defaultValue 1024 */
  readonly durationWindowSize?: number;
  /** Register prom-client's default process metrics. @defaultValue true */
  readonly defaultMetrics?: boolean;
  readonly logger?: Logger;
}

export interface WorkerMetrics {
  /** This worker's own registry: never prom-client's global one, so two workers never collide. */
  readonly registry: Registry;
  /** Recent job durations (completed and failed), shared with the Kubernetes reporter. */
  readonly durations: DurationWindow;
  /** The Prometheus text exposition and its content type, for `GET /metrics`. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Unsubscribe from the worker's events and clear the registry. Idempotent. */
  dispose(): void;
}

const defaultDepthTimeoutMs = 1000;

/**
 * The worker's Prometheus metric set. Counters and gauges are read from `status()` at scrape time,
 * so they cannot drift from `/status`; only the duration histogram (and the window behind the
 * grace recommendation) is fed per job, through label children bound once here.
 */
export function createMetrics(options: MetricsOptions): WorkerMetrics {
  const { queue, on } = options;
  const logger = options.logger ?? noopLogger;
  const registry = new Registry();
  const registers = [registry];
  const durations = new DurationWindow(options.durationWindowSize);

  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  // --- declared here: job counters and the duration histogram --------------------------------
  const jobsTotal = new Counter({ ...metricDefs.jobsTotal, labelNames: [...metricDefs.jobsTotal.labelNames], registers });
  const jobDuration = new Histogram({
    ...metricDefs.jobDuration,
    labelNames: [...metricDefs.jobDuration.labelNames],
    buckets: [...jobDurationBuckets],
    registers,
  });
  // Every known series is exported from the start (at 0), so rate() works from the first scrape.
  for (const outcome of jobOutcomes) {
    jobsTotal.labels(queue, outcome).inc(0);
    jobDuration.zero({ queue, outcome });
  }
  const completedSeconds = jobDuration.labels(queue, "completed");
  const failedSeconds = jobDuration.labels(queue, "failed");
  const releasedSeconds = jobDuration.labels(queue, "released");

  // Counts come from the status snapshot at scrape time (habit 14: one source of truth, and no
  // per-job label lookups on the hot path); a counter only moves forward, so add the difference.
  const reported = { completed: 0, failed: 0, released: 0, leaseExtensions: 0, leaseLost: 0 };
  const advance = (key: keyof typeof reported, now: number, inc: (delta: number) => void): void => {
    const delta = now - reported[key];
    if (delta > 0) {
      inc(delta);
      reported[key] = now;
    }
  };
  const jobCounters = { completed: jobsTotal.labels(queue, "completed"), failed: jobsTotal.labels(queue, "failed"), released: jobsTotal.labels(queue, "released") };
  const leaseExtensions = new Counter({ ...metricDefs.leaseExtensions, labelNames: [], registers });
  const leaseLost = new Counter({ ...metricDefs.leaseLost, labelNames: [], registers });
  const syncCounters = (): void => {
    const status = options.status();
    for (const outcome of jobOutcomes) advance(outcome, status[outcome], (d) => jobCounters[outcome].inc(d));
    advance("leaseExtensions", status.leaseExtensions, (d) => leaseExtensions.inc(d));
    advance("leaseLost", status.leaseLost, (d) => leaseLost.inc(d));
  };
  let drainStartedAt: number | null = null;
  let drainFinished = false;
  const drainDuration = new Gauge({
    ...metricDefs.drainDuration,
    labelNames: [],
    registers,
    collect() {
      if (drainStartedAt !== null && !drainFinished) this.set((performance.now() - drainStartedAt) / 1000);
    },
  });
  // Absent until a drain starts: a 0 would read as "drained instantly".
  drainDuration.remove();

  const unsubscribers = [
    on("job:completed", ({ durationMs }) => {
      completedSeconds.observe(durationMs / 1000);
      durations.record(durationMs);
    }),
    on("job:failed", ({ durationMs }) => {
      failedSeconds.observe(durationMs / 1000);
      durations.record(durationMs);
    }),
    on("job:released", ({ started, durationMs }) => {
      // An unstarted delivery has no run time. A started one was cut short, so it is kept out of
      // the grace recommendation, which must describe jobs that run to the end.
      if (started) releasedSeconds.observe(durationMs / 1000);
    }),
    on("drain:started", () => {
      drainStartedAt ??= performance.now();
    }),
    on("drain:finished", ({ durationMs }) => {
      drainFinished = true;
      drainDuration.set(durationMs / 1000);
    }),
  ];

  // --- scrape-time gauges ----------------------------------------------------------------------
  new Gauge({
    ...metricDefs.jobsInFlight,
    labelNames: [...metricDefs.jobsInFlight.labelNames],
    registers,
    collect() {
      this.labels(queue).set(options.status().inFlight);
    },
  });

  new Gauge({
    ...metricDefs.workerState,
    labelNames: [...metricDefs.workerState.labelNames],
    registers,
    collect() {
      // All five series on every scrape, so `quiesce_worker_state{state="draining"} == 1` never
      // needs absent() and exactly one series is 1.
      const current = options.status().state;
      for (const state of workerStateLabels) this.labels(state).set(state === current ? 1 : 0);
    },
  });

  const recommendedGrace = new Gauge({
    ...metricDefs.recommendedGrace,
    labelNames: [],
    registers,
    collect() {
      const p99 = durations.quantile(0.99);
      // Absent, never 0 or NaN, until a job has finished: no data must not recommend a grace period.
      if (p99 === undefined) this.remove();
      else this.set(Math.ceil((p99 + options.safetyMarginMs) / 1000));
    },
  });
  recommendedGrace.remove();

  const readDepth =
    options.depth === undefined ? undefined : depthReader(options.depth, options.depthTimeoutMs ?? defaultDepthTimeoutMs, logger);
  new Gauge({
    ...metricDefs.queueDepth,
    labelNames: [...metricDefs.queueDepth.labelNames],
    registers,
    async collect() {
      if (readDepth === undefined) return;
      const depth = await readDepth();
      // On failure the series go away rather than repeat a stale number as if it were current.
      this.reset();
      if (depth === undefined) return;
      const values: Record<QueueDepthKind, number | undefined> = {
        waiting: depth.waiting,
        in_flight: depth.inFlight,
        delayed: depth.delayed,
      };
      for (const kind of queueDepthKinds) {
        const value = values[kind];
        if (value !== undefined && Number.isFinite(value)) this.labels(queue, kind).set(value);
      }
    },
  });

  const readPodWrites = options.podWrites;
  const reportedPodWrites = { ok: 0, failed: 0 };
  const podWrites = new Counter({
    ...metricDefs.podWrites,
    labelNames: [...metricDefs.podWrites.labelNames],
    registers,
    collect() {
      if (readPodWrites === undefined) return;
      let counts: { readonly ok: number; readonly failed: number };
      try {
        counts = readPodWrites();
      } catch (error) {
        logger.warn({ err: coerceError(error) }, "metrics: reading pod write counts failed");
        return;
      }
      // The reporter keeps cumulative totals; a counter only moves forward, so add the difference.
      for (const outcome of podWriteOutcomes) {
        const delta = counts[outcome] - reportedPodWrites[outcome];
        if (delta > 0 && Number.isFinite(delta)) {
          this.labels(outcome).inc(delta);
          reportedPodWrites[outcome] = counts[outcome];
        }
      }
    },
  });
  // Without a reporter there is nothing to count: the metric is declared but has no series.
  if (readPodWrites !== undefined) for (const outcome of podWriteOutcomes) podWrites.labels(outcome).inc(0);

  let disposed = false;
  return {
    registry,
    durations,
    async metrics() {
      syncCounters();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const off of unsubscribers) off();
      registry.clear();
    },
  };
}

/**
 * Wrap the source's depth() for scrapes: a bounded wait, one call at a time (a hung backend must
 * not pile up a promise per scrape), and errors logged once per outage, not once per scrape.
 */
function depthReader(depth: () => Promise<QueueDepth>, timeoutMs: number, logger: Logger): () => Promise<QueueDepth | undefined> {
  let pending: Promise<QueueDepth> | null = null;
  let failing = false;

  const report = (error: Error): undefined => {
    if (!failing) logger.warn({ err: error }, "metrics: queue depth unavailable; quiesce_queue_depth omitted until it recovers");
    else logger.debug({ err: error }, "metrics: queue depth still unavailable");
    failing = true;
    return undefined;
  };

  return async () => {
    if (pending === null) {
      // Promise.resolve().then() also turns a synchronous throw from depth() into a rejection.
      const call = Promise.resolve().then(depth);
      pending = call;
      const clear = (): void => {
        if (pending === call) pending = null;
      };
      call.then(clear, clear);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`queue depth did not answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([pending, timeout]);
      if (failing) logger.info("metrics: queue depth available again");
      failing = false;
      return result;
    } catch (error) {
      return report(coerceError(error));
    } finally {
      clearTimeout(timer);
    }
  };
}
