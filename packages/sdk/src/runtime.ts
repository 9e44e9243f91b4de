import type { ResolvedConfig, WorkerOptions } from "./config/options.js";
import { drainCleanupSteps } from "./drain/cleanup.js";
import { DrainController, type DrainTrigger } from "./drain/drain-controller.js";
import { EmptyWatcher } from "./drain/exit-when-empty.js";
import { setMaxListeners } from "node:events";
import { coerceError } from "./errors.js";
import type { WorkerEvents } from "./events.js";
import { AdminServer } from "./http/server.js";
import { withBound } from "./internal/bound.js";
import { deferred } from "./internal/timers.js";
import { connectWithRetry } from "./source/connect.js";
import type { TypedEmitter } from "./internal/typed-emitter.js";
import type { PodIntegration } from "./kubernetes/index.js";
import { LeaseKeeper } from "./lease/lease-keeper.js";
import { Lifecycle } from "./lifecycle/lifecycle.js";
import type { DrainReport, WorkerSnapshot, WorkerStatus } from "./lifecycle/status.js";
import { publicStatus, takeSnapshot } from "./status.js";
import type { Logger } from "./logger.js";
import { createCounters } from "./lifecycle/counters.js";
import { InFlight } from "./loop/in-flight.js";
import type { Job } from "./loop/job.js";
import { JobRunner } from "./loop/job-runner.js";
import { runReceiveLoop } from "./loop/receive-loop.js";
import { createMetrics, type WorkerMetrics } from "./metrics/metrics.js";
import { handlesFor, listResources, startResources, type NamedResource } from "./resources/resources.js";
import { createMemorySource } from "./source/memory-source.js";
import type { Source } from "./source/source.js";

/** Settles still pending after a forced release get this long before the drain moves on. */
const forcedSettleBoundMs = 2000;

/** Wires config, lifecycle, loop, leases, drain, HTTP, metrics and the pod reporter together. */
export class WorkerRuntime {
  readonly config: ResolvedConfig;
  readonly #events: TypedEmitter<WorkerEvents>;
  readonly #logger: () => Logger;
  readonly #source: Source;
  readonly #resources: readonly NamedResource[];
  readonly #lifecycle: Lifecycle;
  readonly #inFlight = new InFlight();
  readonly #counters = createCounters();
  /**
   * Aborted when the drain begins: the receive loop stops and every job's ctx.draining fires.
   * Whether the worker is draining is read from the lifecycle state or the drain controller;
   * this is only the signal.
   */
  readonly #drainSignal = new AbortController();
  readonly #runner: JobRunner;
  readonly #leases: LeaseKeeper<Job>;
  readonly #drain: DrainController;
  readonly #metrics: WorkerMetrics;
  readonly #createdAt = Date.now();
  readonly #stopped = deferred<DrainReport>();
  /** The drain followed by the final steps (state stopped, HTTP closed): what drain() callers await. */
  #stopping: Promise<DrainReport> | null = null;
  #starting: Promise<void> | null = null;
  #idleCheckPending = false;
  #loop: Promise<void> | null = null;
  #http: AdminServer | null = null;
  #httpAddress: { port: number; host: string } | null = null;
  #pod: PodIntegration | null = null;
  #lifetimeTimer: NodeJS.Timeout | null = null;
  #queueSeenEmpty = false;

  constructor(options: WorkerOptions<never>, config: ResolvedConfig, events: TypedEmitter<WorkerEvents>, logger: () => Logger) {
    this.config = config;
    this.#events = events;
    this.#logger = logger;
    this.#source = options.source ?? createMemorySource();
    this.#resources = listResources(options.resources);
    // One listener per running job that reads ctx.draining: bounded by concurrency, not a leak.
    setMaxListeners(0, this.#drainSignal.signal);
    const emit = events.emit.bind(events);
    this.#lifecycle = new Lifecycle((change) => emit("state:changed", change));
    this.#runner = new JobRunner({
      handler: options.handler,
      get logger() {
        return logger();
      },
      leaseMs: this.#source.leaseMs,
      queue: this.#source.name,
      checkpointStore: options.checkpoints?.store,
      // Not on a max-jobs drain: that worker took its jobs to finish them (one-message Jobs), and a
      // release would only hand the job to the next pod one step further.
      releaseAfterCheckpoint: () => config.checkpointDrain === "release" && this.#drain.reason !== "max-jobs",
      draining: this.#drainSignal.signal,
      inFlight: this.#inFlight,
      counters: this.#counters,
      leases: () => this.#leases,
      emit,
      listens: events.listens.bind(events),
      resources: (ctx) => handlesFor(this.#resources, ctx),
      started: (now) => void this.#lifecycle.tryTransition("busy", "job started", now),
      finished: () => {
        if (this.#inFlight.held === 0) this.#settleIdle();
      },
    });
    this.#leases = new LeaseKeeper(this.#source.leaseMs, {
      jobs: () => this.#inFlight.values(),
      extended: (count) => {
        this.#counters.leaseExtensions += count;
        emit("lease:extended", { count });
      },
      lost: (job, error) => this.#runner.leaseLost(job, error),
    });
    this.#drain = new DrainController(this.#drainContext());
    const depth = this.#source.depth?.bind(this.#source);
    this.#metrics = createMetrics({
      on: events.on.bind(events),
      status: () => this.#snapshot(),
      queue: this.#source.name,
      safetyMarginMs: config.safetyMarginMs,
      ...(depth ? { depth } : {}),
      pools: this.#resources.map(({ resource }) => resource),
      get logger() {
        return logger();
      },
    });
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  drain(trigger: DrainTrigger): Promise<DrainReport> {
    const drained = this.#drain.drain(trigger);
    this.#stopping ??= drained.then((report) => this.#finish(report));
    return this.#stopping;
  }

  /** Second signal: release now instead of waiting for the deadline. */
  force(trigger: DrainTrigger): Promise<DrainReport> {
    void this.#drain.force(trigger);
    return this.drain(trigger);
  }

  /** Resolves with the report once the worker has stopped, however the drain was triggered. */
  stopped(): Promise<DrainReport> {
    return this.#stopped.promise;
  }

  httpAddress(): { port: number; host: string } | null {
    return this.#httpAddress;
  }

  status(): WorkerStatus {
    return publicStatus(this.#snapshot());
  }

  /** The snapshot observers read: the status and what only they need. */
  #snapshot(): WorkerSnapshot {
    return takeSnapshot({
      queue: this.#source.name,
      concurrency: this.config.concurrency,
      createdAt: this.#createdAt,
      lifecycle: this.#lifecycle,
      inFlight: this.#inFlight,
      counters: this.#counters,
      drain: this.#drain,
      durations: () => this.#metrics.durations,
      podWrites: () => this.#pod?.podWrites(),
      sourceStatus: () => this.#source.status?.(),
    });
  }

  async #start(): Promise<void> {
    const logger = this.#logger();
    if (this.config.http) {
      this.#http = new AdminServer(
        {
          status: () => this.status(),
          drain: (reason) => {
            void this.drain({ reason });
            return this.#drain.drain({ reason });
          },
          metrics: () => this.#metrics.metrics(),
          drainToken: this.config.drainToken,
        },
        this.config.http,
        logger,
      );
      this.#httpAddress = await this.#http.listen();
      logger.info({ ...this.#httpAddress }, "http server listening");
    }
    await startResources(this.#resources, {
      concurrency: this.config.concurrency,
      budget: this.config.connectionBudget,
      logger,
      observeWait: (name) => this.#metrics.poolWait(name),
    });
    const podStarted = this.#startPod();
    if (!(await connectWithRetry(this.#source, { concurrency: this.config.concurrency }, this.config.sourceFailureMs, this.#drainSignal.signal, logger))) return;
    await podStarted;
    if (this.#drain.started) return;
    this.#leases.start();
    this.#lifecycle.transition("idle", "source connected");
    logger.info({ queue: this.#source.name, concurrency: this.config.concurrency }, "worker started");
    this.#loop = runReceiveLoop({
      source: this.#source,
      concurrency: this.config.concurrency,
      maxJobs: this.config.maxJobs,
      inFlight: this.#inFlight,
      counters: this.#counters,
      runner: this.#runner,
      stop: this.#drainSignal.signal,
      logger,
      sourceFailureMs: this.config.sourceFailureMs,
      emptyWatcher: this.config.exitWhenEmpty
        ? new EmptyWatcher(this.config.emptyGraceMs, this.#source.depth?.bind(this.#source), logger)
        : null,
      quotaReached: () => void this.drain({ reason: "max-jobs" }),
      queueEmpty: () => {
        this.#queueSeenEmpty = true;
        void this.drain({ reason: "empty" });
      },
      fatal: (error) => void this.drain({ reason: "source-failure", fatal: error }),
      receiveFailed: (error) => {
        logger.warn({ err: error }, "receive failed; backing off");
        this.#events.emit("worker:error", { error, during: "receive" });
      },
    }).catch((thrown: unknown) => {
      void this.drain({ reason: "loop-crashed", fatal: coerceError(thrown) });
    });
    if (this.config.maxLifetimeMs !== null) {
      this.#lifetimeTimer = setTimeout(() => void this.drain({ reason: "max-lifetime" }), this.config.maxLifetimeMs);
      this.#lifetimeTimer.unref();
    }
  }

  /**
   * The worker is idle once the last job settled and no other started in the same turn. At
   * concurrency 1 the next job mostly starts right after the ack (its receive follows it, or the
   * ack's reply carries it), so flipping at once would be an idle ⇄ busy pair per job that nobody
   * could observe, each a state:changed event for the pod reporter to weigh.
   */
  #settleIdle(): void {
    if (this.#idleCheckPending) return;
    this.#idleCheckPending = true;
    setImmediate(this.#idleCheck);
  }

  /** Made once: at concurrency 1 the check is scheduled after every job. */
  readonly #idleCheck = (): void => {
    this.#idleCheckPending = false;
    if (this.#inFlight.held === 0) this.#lifecycle.tryTransition("idle", "last job settled");
  };

  async #startPod(): Promise<void> {
    const k8s = this.config.kubernetes;
    if (!k8s) return;
    const { createPodIntegration } = await import("./kubernetes/index.js");
    this.#pod = createPodIntegration(k8s, {
      status: () => this.#snapshot(),
      on: this.#events.on.bind(this.#events),
      logger: this.#logger().child({ component: "kubernetes" }),
      safetyMarginMs: this.config.safetyMarginMs,
    });
    await this.#pod.start();
  }

  #drainContext(): ConstructorParameters<typeof DrainController>[0] {
    const logger = this.#logger;
    return {
      get logger() {
        return logger();
      },
      exitWhenEmpty: this.config.exitWhenEmpty,
      safetyMarginMs: this.config.safetyMarginMs,
      graceMs: () => this.#pod?.specGraceMs ?? this.config.graceMs,
      podDeletionAt: async (signal) => this.#pod?.deletionDeadline(signal),
      begin: (reason, deadline) => {
        if (this.#lifetimeTimer) clearTimeout(this.#lifetimeTimer);
        this.#lifecycle.transition("draining", reason);
        this.#drainSignal.abort();
        this.#events.emit("drain:started", { reason, deadline });
      },
      pauseSource: async () => {
        await this.#source.pause?.();
      },
      idle: async () => {
        await this.#starting?.catch(() => undefined);
        await this.#loop;
        await this.#inFlight.waitForEmpty();
      },
      forceRelease: async () => {
        const releases = [...this.#inFlight.values()].map((job) => this.#runner.forceRelease(job));
        await withBound(Promise.all(releases).then(() => this.#inFlight.waitForEmpty()), forcedSettleBoundMs);
      },
      cleanupSteps: () =>
        drainCleanupSteps({ leases: this.#leases, source: this.#source, pod: this.#pod, resources: this.#resources.map(({ resource }) => resource) }),
      totals: () => {
        const { completed, failed, released, interrupted } = this.#counters;
        return { completed, failed, released, interrupted };
      },
      queueSeenEmpty: () => this.#queueSeenEmpty,
    };
  }

  async #finish(report: DrainReport): Promise<DrainReport> {
    this.#lifecycle.transition("stopped", report.reason);
    // The summary a scrape cannot see: the process exits right after this line.
    const counts = `${report.completed} completed, ${report.failed} failed, ${report.released} released, ${report.interrupted} interrupted`;
    this.#logger().info({ ...report }, `drain finished (${report.path}, reason ${report.reason}, exit ${report.exitCode}) in ${(report.durationMs / 1000).toFixed(1)} s: ${counts}`);
    this.#events.emit("drain:finished", report);
    // Last: a held /drain response is written before the server closes under it.
    await this.#http?.close();
    this.#metrics.dispose();
    this.#stopped.resolve(report);
    return report;
  }
}
