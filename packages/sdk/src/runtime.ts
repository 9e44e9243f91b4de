import type { ResolvedConfig, WorkerOptions } from "./config/options.js";
import { DrainController, type DrainTrigger } from "./drain/drain-controller.js";
import { EmptyWatcher } from "./drain/exit-when-empty.js";
import { setMaxListeners } from "node:events";
import { coerceError } from "./errors.js";
import type { WorkerEvents } from "./events.js";
import { AdminServer } from "./http/server.js";
import { deferred, sleep } from "./internal/timers.js";
import { connectWithRetry } from "./source/connect.js";
import type { TypedEmitter } from "./internal/typed-emitter.js";
import type { PodIntegration } from "./kubernetes/index.js";
import { LeaseKeeper } from "./lease/lease-keeper.js";
import { Lifecycle } from "./lifecycle/lifecycle.js";
import type { DrainReport, WorkerStatus } from "./lifecycle/status.js";
import type { Logger } from "./logger.js";
import { createCounters } from "./loop/counters.js";
import { InFlight } from "./loop/in-flight.js";
import { JobRunner } from "./loop/job-runner.js";
import { runReceiveLoop } from "./loop/receive-loop.js";
import { createMetrics, type WorkerMetrics } from "./metrics/metrics.js";
import { closeInReverse } from "./resources/resources.js";
import { createMemorySource } from "./source/memory-source.js";
import type { Source } from "./source/source.js";

/** Settles still pending after a forced release get this long before the drain moves on. */
const forcedSettleBoundMs = 2000;
/** A pod deletion-timestamp lookup on SIGTERM may take this long; the drain never waits for it. */
const deletionLookupMs = 3000;
/** Closing a source whose broker went away can hang; the exit must still happen (guarantee 7). */
const sourceStopBoundMs = 5000;

/** Wires config, lifecycle, loop, leases, drain, HTTP, metrics and the pod reporter together. */
export class WorkerRuntime {
  readonly config: ResolvedConfig;
  readonly #options: WorkerOptions<never>;
  readonly #events: TypedEmitter<WorkerEvents>;
  readonly #logger: () => Logger;
  readonly #source: Source;
  readonly #lifecycle: Lifecycle;
  readonly #inFlight = new InFlight();
  readonly #counters = createCounters();
  /** Aborted when the drain starts: stops receiving and is every job's ctx.draining. */
  readonly #draining = new AbortController();
  readonly #runner: JobRunner;
  readonly #leases: LeaseKeeper;
  readonly #drain: DrainController;
  readonly #metrics: WorkerMetrics;
  readonly #createdAt = Date.now();
  readonly #stopped = deferred<DrainReport>();
  #full: Promise<DrainReport> | null = null;
  #starting: Promise<void> | null = null;
  #loop: Promise<void> | null = null;
  #http: AdminServer | null = null;
  #httpAddress: { port: number; host: string } | null = null;
  #pod: PodIntegration | null = null;
  #lifetimeTimer: NodeJS.Timeout | null = null;
  #queueSeenEmpty = false;
  #drainReason: string | null = null;

  constructor(options: WorkerOptions<never>, config: ResolvedConfig, events: TypedEmitter<WorkerEvents>, logger: () => Logger) {
    this.config = config;
    this.#options = options;
    this.#events = events;
    this.#logger = logger;
    this.#source = options.source ?? createMemorySource();
    // One listener per running job that reads ctx.draining: bounded by concurrency, not a leak.
    setMaxListeners(0, this.#draining.signal);
    const emit = events.emit.bind(events);
    this.#lifecycle = new Lifecycle((change) => emit("state:changed", change));
    this.#runner = new JobRunner({
      handler: options.handler,
      get logger() {
        return logger();
      },
      leaseMs: this.#source.leaseMs,
      draining: this.#draining.signal,
      inFlight: this.#inFlight,
      counters: this.#counters,
      leases: () => this.#leases,
      emit,
      started: () => void this.#lifecycle.tryTransition("busy", "job started"),
      finished: () => {
        if (this.#inFlight.size === 0) this.#lifecycle.tryTransition("idle", "last job settled");
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
      status: () => this.status(),
      queue: this.#source.name,
      safetyMarginMs: config.safetyMarginMs,
      ...(depth ? { depth } : {}),
      podWrites: () => this.#pod?.podWrites() ?? { ok: 0, failed: 0 },
      get logger() {
        return logger();
      },
    });
  }

  get draining(): boolean {
    return this.#drain.started;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  drain(trigger: DrainTrigger): Promise<DrainReport> {
    const drained = this.#drain.drain(trigger);
    this.#full ??= drained.then((report) => this.#finish(report));
    return this.#full;
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
    const c = this.#counters;
    return {
      state: this.#lifecycle.state,
      queue: this.#source.name,
      concurrency: this.config.concurrency,
      inFlight: this.#inFlight.running,
      held: this.#inFlight.size,
      completed: c.completed,
      failed: c.failed,
      released: c.released,
      interrupted: c.interrupted,
      leaseExtensions: c.leaseExtensions,
      leaseLost: c.leaseLost,
      since: new Date(this.#lifecycle.since).toISOString(),
      startedAt: new Date(this.#createdAt).toISOString(),
      oldestJobStartedAt: isoOrNull(this.#inFlight.oldestStart()),
      drainReason: this.#drainReason,
      drainDeadline: isoOrNull(this.#drain.deadline),
    };
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
    const podStarted = this.#startPod();
    if (!(await connectWithRetry(this.#source, this.config.sourceFailureMs, this.#draining.signal, logger))) return;
    await podStarted;
    if (this.draining) return;
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
      stop: this.#draining.signal,
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

  async #startPod(): Promise<void> {
    const k8s = this.config.kubernetes;
    if (!k8s) return;
    const { createPodIntegration } = await import("./kubernetes/index.js");
    const durations = this.#metrics.durations;
    this.#pod = createPodIntegration(k8s, {
      status: () => this.status(),
      on: this.#events.on.bind(this.#events),
      logger: this.#logger().child({ component: "kubernetes" }),
      recentJobP99Ms: () => (durations.count >= 20 ? durations.quantile(0.99) : undefined),
      safetyMarginMs: this.config.safetyMarginMs,
    });
    await this.#pod.start();
  }

  #drainContext(): ConstructorParameters<typeof DrainController>[0] {
    const logger = this.#logger;
    const margin = this.config.safetyMarginMs;
    return {
      get logger() {
        return logger();
      },
      exitWhenEmpty: this.config.exitWhenEmpty,
      initialDeadline: () => Date.now() + (this.#pod?.specGraceMs ?? this.config.graceMs) - margin,
      refineDeadline: async (signal) => {
        if (!this.#pod) return undefined;
        const at = await this.#pod.deletionDeadline(AbortSignal.any([signal, AbortSignal.timeout(deletionLookupMs)]));
        return at === undefined ? undefined : at - margin;
      },
      begin: (reason, deadline) => {
        this.#drainReason = reason;
        if (this.#lifetimeTimer) clearTimeout(this.#lifetimeTimer);
        this.#lifecycle.transition("draining", reason);
        this.#draining.abort();
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
      cleanup: async () => {
        this.#leases.stop();
        const errors: string[] = [];
        try {
          const stopped = await withBound(this.#source.stop().then(() => true), sourceStopBoundMs);
          if (!stopped) errors.push(`source ${this.#source.name}: stop did not finish within ${sourceStopBoundMs} ms; moving on`);
        } catch (thrown) {
          errors.push(`source ${this.#source.name}: ${coerceError(thrown).message}`);
        }
        await this.#pod?.stop();
        errors.push(...(await closeInReverse(this.#options.resources ?? [], this.#logger())));
        return errors;
      },
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

function withBound<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, sleep(ms).then(() => undefined)]);
}

const isoOrNull = (epochMs: number | null): string | null => (epochMs === null ? null : new Date(epochMs).toISOString());
