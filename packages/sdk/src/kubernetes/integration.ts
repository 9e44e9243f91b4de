import type { ResolvedKubernetes } from "../config/options.js";
import { coerceError } from "../errors.js";
import type { WorkerEvents } from "../events.js";
import { withBound } from "../internal/bound.js";
import type { TypedEmitter } from "../internal/typed-emitter.js";
import type { StateChange } from "../lifecycle/lifecycle.js";
import type { WorkerSnapshot, WorkerStatus } from "../lifecycle/status.js";
import type { Logger } from "../logger.js";
import { desiredAnnotations, STATE, type ReportedPhase } from "./annotations.js";
import { classifyApiError } from "./api-errors.js";
import { GraceAdvisor } from "./grace-period.js";
import { BusyHysteresis, DEFAULT_QUIET_MS } from "./hysteresis.js";
import { type ClientNode, loadClientNode, loadKubeConfig } from "./load-client.js";
import { createPodApi, type PodApi } from "./pod-api.js";
import { isInPod } from "./pod-env.js";
import { PodReporter, type ReporterTuning } from "./pod-reporter.js";

export interface PodIntegrationContext {
  /** The worker's snapshot: its state, and the p99 of recent jobs (absent until enough ran). */
  status(): WorkerStatus & Pick<WorkerSnapshot, "recentJobP99Ms">;
  on: TypedEmitter<WorkerEvents>["on"];
  logger: Logger;
  readonly safetyMarginMs: number;
}

export interface PodIntegration {
  /**
   * Load client-node, read the own pod (grace period, current annotations), start reporting.
   * Never throws; a hung API server delays it by at most the read timeout (1.5 s).
   */
  start(): Promise<void>;
  /** terminationGracePeriodSeconds*1000 read at start (or by a later read), if read. */
  readonly specGraceMs: number | undefined;
  /**
   * GET own pod now; epoch ms of metadata.deletionTimestamp or undefined. The whole lookup (a
   * start() still under way included) is bounded by one timeout (1 s), and prompt on abort.
   */
  deletionDeadline(signal: AbortSignal): Promise<number | undefined>;
  podWrites(): { ok: number; failed: number };
  /** Stop timers; no further writes (a write in flight gets a moment to land). */
  stop(): Promise<void>;
}

/** Knobs for tests; production uses the defaults. */
export interface PodIntegrationTuning {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly loadClient: () => Promise<ClientNode>;
  readonly quietMs: number;
  readonly costStepMs: number | undefined;
  /** Bound on the pod read in start(): start-up never waits longer on the API server. */
  readonly startReadTimeoutMs: number;
  /** Bound on the whole of deletionDeadline(), waiting for start() included. */
  readonly deletionLookupMs: number;
  /** How often, at most, a return to idle re-checks the grace period against the p99. */
  readonly graceCheckEveryMs: number;
  readonly reporter: Partial<ReporterTuning>;
  readonly now: () => number;
}

export function createPodIntegration(
  config: ResolvedKubernetes,
  ctx: PodIntegrationContext,
  tuning: Partial<PodIntegrationTuning> = {},
): PodIntegration {
  return new KubernetesPodIntegration(config, ctx, {
    env: process.env,
    loadClient: () => loadClientNode(),
    quietMs: DEFAULT_QUIET_MS,
    costStepMs: undefined,
    startReadTimeoutMs: 1500,
    deletionLookupMs: 1000,
    graceCheckEveryMs: 10_000,
    reporter: {},
    now: () => Date.now(),
    ...tuning,
  });
}

type Phase = "new" | "starting" | "on" | "off" | "stopped";

class KubernetesPodIntegration implements PodIntegration {
  readonly #config: ResolvedKubernetes;
  readonly #ctx: PodIntegrationContext;
  readonly #tuning: PodIntegrationTuning;
  readonly #log: Logger;
  readonly #hysteresis: BusyHysteresis;
  readonly #advisor: GraceAdvisor;
  readonly #idleCost: number;
  readonly #idleSkipsInterval: boolean;
  readonly #reporterTuning: Partial<ReporterTuning>;
  #phase: Phase = "new";
  #starting: Promise<void> | undefined;
  #api: PodApi | undefined;
  #reporter: PodReporter | undefined;
  #unsubscribe: (() => void) | undefined;
  #specGraceMs: number | undefined;
  #last: { phase: ReportedPhase; cost: number } | undefined;
  #wake: NodeJS.Timeout | undefined;
  #wakeAt = Infinity;
  #nextGraceCheck = -Infinity;

  constructor(config: ResolvedKubernetes, ctx: PodIntegrationContext, tuning: PodIntegrationTuning) {
    this.#config = config;
    this.#ctx = ctx;
    this.#tuning = tuning;
    this.#log = ctx.logger.child({ pod: `${config.namespace}/${config.podName}` });
    const levers = config.tuning ?? {};
    this.#idleCost = levers.idleCost ?? 0;
    // The idle mark is the one a scale-down needs most: a pod that still says busy is kept while a
    // busy one that does not say so yet is deleted. Busy marks alone keep the spacing.
    this.#idleSkipsInterval = levers.idleSkipsInterval ?? true;
    this.#reporterTuning = {
      ...(levers.minIntervalMs === undefined ? {} : { minIntervalMs: levers.minIntervalMs }),
      ...(levers.jitterMs === undefined ? {} : { jitterMs: levers.jitterMs }),
      ...tuning.reporter,
    };
    this.#hysteresis = new BusyHysteresis({
      busyAfterMs: config.busyAfterMs,
      quietMs: levers.quietMs ?? tuning.quietMs,
      ...(levers.withdrawUnshown === undefined ? {} : { withdrawUnshown: levers.withdrawUnshown }),
      ...(tuning.costStepMs === undefined ? {} : { costStepMs: tuning.costStepMs }),
    });
    this.#advisor = new GraceAdvisor(this.#log, () => ctx.status().recentJobP99Ms, ctx.safetyMarginMs);
  }

  get specGraceMs(): number | undefined {
    return this.#specGraceMs;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start().catch((thrown: unknown) => this.#turnOff(coerceError(thrown)));
    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.#phase !== "new") return;
    this.#phase = "starting";
    // Subscribe before any await so no flip between now and the pod read is missed.
    this.#unsubscribe = this.#ctx.on("state:changed", (change) => this.#onStateChanged(change));
    this.#hysteresis.observe(this.#ctx.status().state, this.#tuning.now());

    const api = this.#config.podApi ?? (await this.#clientApi());
    if (this.#phase !== "starting" || api === undefined) return;
    this.#api = api;

    let known: Readonly<Record<string, string>> | undefined;
    try {
      const pod = await api.read(this.#tuning.startReadTimeoutMs);
      known = pod.annotations;
      this.#noteGrace(pod.terminationGracePeriodSeconds);
    } catch (thrown) {
      const error = classifyApiError("Kubernetes GET pod", thrown);
      // Without get on our own pod, patch is almost surely denied too: one warning, all off.
      if (error.kind === "denied" || error.kind === "not-found" || error.kind === "invalid") throw error;
      this.#log.warn(
        { err: error },
        "could not read own pod: the grace period falls back to QUIESCE_GRACE_SECONDS until a later read succeeds",
      );
    }
    if (this.#phase !== "starting") return;
    this.#phase = "on";
    this.#advisor.check(this.#specGraceMs);
    if (this.#config.annotations) {
      this.#reporter = new PodReporter(api, this.#log, known, this.#reporterTuning);
      this.#reconcile(this.#tuning.now());
    }
  }

  async #clientApi(): Promise<PodApi | undefined> {
    const mod = await this.#tuning.loadClient();
    if (this.#phase !== "starting") return undefined;
    try {
      const kc = loadKubeConfig(mod, { kubeconfig: this.#config.kubeconfig, inCluster: isInPod(this.#tuning.env) });
      return createPodApi(mod, kc, this.#config);
    } catch (thrown) {
      throw new Error(`Kubernetes client configuration failed: ${coerceError(thrown).message}`, { cause: thrown });
    }
  }

  async deletionDeadline(signal: AbortSignal): Promise<number | undefined> {
    const until = this.#tuning.now() + this.#tuning.deletionLookupMs;
    if (this.#phase === "starting" && this.#starting) await withBound(this.#starting, this.#tuning.deletionLookupMs, { signal });
    const api = this.#api;
    const left = until - this.#tuning.now();
    if (!api || (this.#phase !== "on" && this.#phase !== "stopped") || signal.aborted || left <= 0) return undefined;
    try {
      const pod = await api.read(left, signal);
      this.#noteGrace(pod.terminationGracePeriodSeconds);
      return pod.deletionTimestamp;
    } catch (thrown) {
      this.#log.debug({ err: coerceError(thrown) }, "deletion deadline unknown: own pod could not be read");
      return undefined;
    }
  }

  podWrites(): { ok: number; failed: number } {
    return this.#reporter?.writes() ?? { ok: 0, failed: 0 };
  }

  async stop(): Promise<void> {
    if (this.#phase === "stopped") return;
    this.#phase = "stopped";
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#clearWake();
    await this.#reporter?.stop();
  }

  #onStateChanged(change: StateChange): void {
    if (this.#phase === "off" || this.#phase === "stopped") return;
    // The lifecycle's own clock read: at full speed this runs twice per job, so no second one.
    const now = change.at;
    // The p99 is not free to compute; at 1,000 jobs/s a return to idle happens 1,000 times a second.
    const graceCheckDue = change.to === "idle" && now >= this.#nextGraceCheck && this.#phase === "on" && !this.#advisor.warned;
    // A flip inside a spell leaves what the pod should say as it was: at most a wake-up to move.
    if (!graceCheckDue && this.#hysteresis.flip(change.to, now)) {
      this.#armWake(now);
      return;
    }
    // Asked only when a job ends, and only if it matters: does the pod show the busy mark (or is it on its way)?
    const shown = change.to !== "idle" || !this.#hysteresis.readsShown || this.#reporter?.shows(STATE, "busy") !== false;
    this.#hysteresis.observe(change.to, now, shown);
    if (graceCheckDue) {
      this.#nextGraceCheck = now + this.#tuning.graceCheckEveryMs;
      this.#advisor.check(this.#specGraceMs);
    }
    this.#reconcile(now);
  }

  /** Hand the reporter a new desired set only when phase or cost changed; arm the next wake-up. */
  #reconcile(now: number): void {
    const reporter = this.#reporter;
    if (!reporter || this.#phase !== "on") return;
    const reading = this.#hysteresis.read(now);
    const last = this.#last;
    if (!last || last.phase !== reading.phase || last.cost !== reading.cost) {
      this.#last = reading;
      const cost = reading.phase === "idle" ? this.#idleCost : reading.cost;
      const urgent = reading.phase === "draining" || (reading.phase === "idle" && this.#idleSkipsInterval);
      reporter.set(desiredAnnotations(reading.phase, cost, this.#config), urgent);
    }
    this.#armWake(now);
  }

  /** Make sure a wake-up is due by the next time the reading can change by itself. */
  #armWake(now: number): void {
    if (!this.#reporter || this.#phase !== "on") return;
    const at = this.#hysteresis.nextChangeAt(now);
    if (at === undefined || (this.#wake !== undefined && this.#wakeAt <= at)) return;
    this.#clearWake();
    this.#wakeAt = at;
    this.#wake = setTimeout(() => {
      this.#wake = undefined;
      this.#wakeAt = Infinity;
      this.#reconcile(this.#tuning.now());
    }, Math.max(0, at - now));
    this.#wake.unref();
  }

  #noteGrace(seconds: number | undefined): void {
    if (seconds !== undefined) this.#specGraceMs = seconds * 1000;
  }

  #turnOff(error: Error): void {
    if (this.#phase === "stopped") return;
    this.#phase = "off";
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#clearWake();
    this.#log.warn(
      { err: error },
      `Kubernetes integration off: ${error.message}; the worker carries on without pod annotations, ` +
        "and the drain deadline comes from QUIESCE_GRACE_SECONDS",
    );
  }

  #clearWake(): void {
    if (this.#wake !== undefined) clearTimeout(this.#wake);
    this.#wake = undefined;
    this.#wakeAt = Infinity;
  }
}
