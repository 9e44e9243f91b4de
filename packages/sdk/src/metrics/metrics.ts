import type * as PromClient from "prom-client";
import type { Registry } from "prom-client";
import { coerceError } from "../errors.js";
import { expired, withBound } from "../internal/bound.js";
import type { WorkerEvents } from "../events.js";
import type { TypedEmitter } from "../internal/typed-emitter.js";
import { recommendedGraceSeconds } from "../drain/policy.js";
import type { WorkerSnapshot, WorkerStatus } from "../lifecycle/status.js";
import { noopLogger, type Logger } from "../logger.js";
import type { QueueDepth } from "../source/source.js";
import type { CountedHistogram } from "./counted-histogram.js";
import { createDurationHistogram, type JobOutcome } from "./duration-histogram.js";
import { DurationWindow } from "./duration-window.js";
import { createPoolWaits, registerPoolMetrics, type ObservedPool, type PoolWaits } from "./pool-metrics.js";
import {
  jobOutcomes,
  metricDefs,
  podWriteOutcomes,
  queueDepthKinds,
  workerStateLabels,
  type QueueDepthKind,
} from "./names.js";

/**
 * What the metrics read from the snapshot: the public status, and whatever else the snapshot has
 * (every running total, the pod reporter's writes when there is one). A new counter metric reads
 * its total here, through {@link follow}.
 */
export type MetricsStatus = WorkerStatus & Partial<Omit<WorkerSnapshot, keyof WorkerStatus>>;

export interface MetricsOptions {
  /** Subscribe to worker events; pass it bound (`emitter.on.bind(emitter)`). Each call returns its unsubscribe. */
  readonly on: TypedEmitter<WorkerEvents>["on"];
  /** The worker's one status snapshot: counters, in-flight and state gauges read it at scrape time. */
  readonly status: () => MetricsStatus;
  /** The `queue` label value: the source's name. */
  readonly queue: string;
  /** Added to the p99 job duration for `quiesce_recommended_grace_seconds`, in ms. */
  readonly safetyMarginMs: number;
  /** The source's `depth()`, read at scrape time for `quiesce_queue_depth`; omitted when the source has none. */
  readonly depth?: () => Promise<QueueDepth>;
  /** How long a scrape waits for `depth()`, in ms. @defaultValue 1000 */
  readonly depthTimeoutMs?: number;
  /** Recent durations kept for the grace recommendation. @defaultValue 1024 */
  readonly durationWindowSize?: number;
  /** Register prom-client's default process metrics. @defaultValue true */
  readonly defaultMetrics?: boolean;
  readonly logger?: Logger;
  /** The worker's resources: pools among them get `quiesce_pool_connections` and `quiesce_pool_wait_seconds`. */
  readonly pools?: readonly ObservedPool[];
}

export interface WorkerMetrics {
  /**
   * This worker's own registry: never prom-client's global one, so two workers never collide.
   * prom-client is loaded, and the registry built, on the first call (the first scrape).
   */
  registry(): Promise<Registry>;
  /** Recent job durations (completed and failed), shared with the Kubernetes reporter. */
  readonly durations: DurationWindow;
  /** The recorder a pool calls with each checkout's wait, in seconds. */
  poolWait(pool: string): (seconds: number) => void;
  /** The Prometheus text exposition and its content type, for `GET /metrics`. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Unsubscribe from the worker's events and clear the registry. Idempotent. */
  dispose(): void;
}

const defaultDepthTimeoutMs = 1000;

/**
 * The worker's Prometheus metric set. Counters and gauges are read from `status()` at scrape time,
 * so they cannot drift from `/status`; only the duration histogram (and the window behind the
 * grace recommendation) is fed per job, without prom-client: a worker that is never scraped never
 * loads it (its import is most of the runtime's start-up time and memory).
 */
export function createMetrics(options: MetricsOptions): WorkerMetrics {
  const durations = new DurationWindow(options.durationWindowSize);
  const histogram = createDurationHistogram(options.queue);
  const pools = options.pools ?? [];
  const poolWaits = createPoolWaits(pools);
  // The drain's start (monotonic) while it runs, its length once finished.
  let drainStartedAt: number | null = null;
  let drainSeconds: number | undefined;

  const unsubscribers = [
    options.on("job:completed", ({ durationMs }) => {
      histogram.observe("completed", durationMs / 1000);
      durations.record(durationMs);
    }),
    options.on("job:failed", ({ durationMs }) => {
      histogram.observe("failed", durationMs / 1000);
      durations.record(durationMs);
    }),
    options.on("job:released", ({ started, durationMs }) => {
      // An unstarted delivery has no run time. A started one was cut short, so it is kept out of
      // the grace recommendation, which must describe jobs that run to the end.
      if (started) histogram.observe("released", durationMs / 1000);
    }),
    options.on("drain:started", () => {
      drainStartedAt ??= performance.now();
    }),
    options.on("drain:finished", ({ durationMs }) => {
      drainSeconds = durationMs / 1000;
    }),
  ];

  let registry: Promise<ScrapeRegistry> | null = null;
  let disposed = false;
  const load = (): Promise<ScrapeRegistry> => {
    registry ??= import("prom-client").then((prom) => {
      const built = buildRegistry(prom, options, {
        durations,
        histogram,
        poolWaits,
        drainSeconds: () => drainSeconds ?? (drainStartedAt === null ? undefined : (performance.now() - drainStartedAt) / 1000),
      });
      if (disposed) built.registry.clear();
      return built;
    });
    return registry;
  };
  return {
    durations,
    poolWait: (pool) => poolWaits.recorder(pool),
    async registry() {
      return (await load()).registry;
    },
    async metrics() {
      const { registry, syncCounters } = await load();
      if (!disposed) syncCounters();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const off of unsubscribers) off();
      void registry?.then(({ registry }) => registry.clear());
    },
  };
}

interface ScrapeRegistry {
  readonly registry: Registry;
  /** Bring the counters up to the snapshot's totals (before each scrape). */
  syncCounters(): void;
}

interface Recorded {
  readonly durations: DurationWindow;
  readonly histogram: CountedHistogram<JobOutcome>;
  readonly poolWaits: PoolWaits;
  /** The running drain's age, then the finished drain's length; undefined before any drain. */
  drainSeconds(): number | undefined;
}

/** Every metric, in the order the exposition lists them; built once, at the first scrape. */
function buildRegistry(prom: typeof PromClient, options: MetricsOptions, recorded: Recorded): ScrapeRegistry {
  const { Counter, Gauge, Registry } = prom;
  const { queue } = options;
  const logger = options.logger ?? noopLogger;
  const registry = new Registry();
  const registers = [registry];
  const { durations } = recorded;

  if (options.defaultMetrics !== false) prom.collectDefaultMetrics({ register: registry });

  // --- job counters and the duration histogram -------------------------------------------------
  const jobsTotal = new Counter({ ...metricDefs.jobsTotal, labelNames: [...metricDefs.jobsTotal.labelNames], registers });
  // Every known series is exported from the start (at 0), so rate() works from the first scrape.
  for (const outcome of jobOutcomes) jobsTotal.labels(queue, outcome).inc(0);
  // The registry formats any metric object that answers get()/getForPromString() as it does its own.
  registry.registerMetric(recorded.histogram as unknown as Parameters<Registry["registerMetric"]>[0]);

  // Counts come from the status snapshot at scrape time (one source of truth, and no per-job
  // label lookups on the hot path).
  const leaseExtensions = new Counter({ ...metricDefs.leaseExtensions, labelNames: [], registers });
  const leaseLost = new Counter({ ...metricDefs.leaseLost, labelNames: [], registers });
  const checkpoints = new Counter({ ...metricDefs.checkpoints, labelNames: [], registers });
  const resumedJobs = new Counter({ ...metricDefs.resumedJobs, labelNames: [], registers });
  const resumeSaved = new Counter({ ...metricDefs.resumeSaved, labelNames: [], registers });
  // Without a pod reporter (no podWrites in the snapshot) this one is declared but has no series.
  const podWrites = new Counter({ ...metricDefs.podWrites, labelNames: [...metricDefs.podWrites.labelNames], registers });
  const followers = [
    ...jobOutcomes.map((outcome) => follow(jobsTotal.labels(queue, outcome), (status) => status[outcome])),
    follow(leaseExtensions, (status) => status.leaseExtensions),
    follow(leaseLost, (status) => status.leaseLost),
    follow(checkpoints, (status) => status.checkpoints),
    follow(resumedJobs, (status) => status.resumed),
    follow(resumeSaved, (status) => status.resumeSavedSeconds),
    ...podWriteOutcomes.map((outcome) => follow(podWrites.labels(outcome), (status) => status.podWrites?.[outcome])),
  ];
  const syncCounters = (): void => {
    const status = options.status();
    for (const sync of followers) sync(status);
  };
  new Gauge({
    ...metricDefs.drainDuration,
    labelNames: [],
    registers,
    collect() {
      // Absent until a drain starts: a 0 would read as "drained instantly".
      const seconds = recorded.drainSeconds();
      if (seconds === undefined) this.remove();
      else this.set(seconds);
    },
  }).remove();

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

  new Gauge({
    ...metricDefs.recommendedGrace,
    labelNames: [],
    registers,
    collect() {
      const p99 = durations.quantile(0.99);
      // Absent, never 0 or NaN, until a job has finished: no data must not recommend a grace period.
      if (p99 === undefined) this.remove();
      else this.set(recommendedGraceSeconds(p99, options.safetyMarginMs));
    },
  }).remove();

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

  registerPoolMetrics(prom.Gauge, registry, options.pools ?? [], recorded.poolWaits);

  return { registry, syncCounters };
}

/**
 * Follow a cumulative total with a counter: a counter only moves forward, so each sync adds what
 * the total grew by since the last one. A series whose total is unknown (undefined) is left alone.
 */
function follow(counter: { inc(delta: number): void }, total: (status: MetricsStatus) => number | undefined): (status: MetricsStatus) => void {
  let seen = 0;
  return (status) => {
    const now = total(status);
    if (now === undefined || !Number.isFinite(now)) return;
    // inc(0) too: a known total shows its series from the first sync, at 0.
    counter.inc(now > seen ? now - seen : 0);
    seen = Math.max(seen, now);
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
    try {
      const result = await withBound(pending, timeoutMs);
      if (result === expired) throw new Error(`queue depth did not answer within ${timeoutMs} ms`);
      if (failing) logger.info("metrics: queue depth available again");
      failing = false;
      return result;
    } catch (error) {
      return report(coerceError(error));
    }
  };
}
