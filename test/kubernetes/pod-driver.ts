import { setTimeout as sleep } from "node:timers/promises";
import type { ResolvedKubernetes } from "../../packages/sdk/src/config/options.js";
import type { WorkerEvents } from "../../packages/sdk/src/events.js";
import { TypedEmitter } from "../../packages/sdk/src/internal/typed-emitter.js";
import { createPodIntegration, type PodIntegration } from "../../packages/sdk/src/kubernetes/index.js";
import type { PodIntegrationTuning } from "../../packages/sdk/src/kubernetes/integration.js";
import type { WorkerState } from "../../packages/sdk/src/lifecycle/states.js";
import type { WorkerStatus } from "../../packages/sdk/src/lifecycle/status.js";
import type { Logger } from "../../packages/sdk/src/logger.js";

/**
 * A worker-like driver for the pod integration: a real TypedEmitter and status function, with
 * "jobs" that are timers. It measures what the integration costs the code that emits (the job
 * path): the time spent inside `state:changed` listeners.
 */

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly fields: object;
  readonly message: string;
}

export function recordingLogger(lines: LogLine[] = []): Logger & { readonly lines: LogLine[] } {
  const at = (level: LogLine["level"]) => (fields: object | string, message?: string): void => {
    lines.push(typeof fields === "string" ? { level, fields: {}, message: fields } : { level, fields, message: message ?? "" });
  };
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => logger, lines };
  return logger;
}

export interface DriverOptions {
  readonly podName: string;
  readonly namespace: string;
  readonly kubeconfig: string;
  readonly busyAfterMs?: number;
  /** Use these calls instead of client-node (the integration then loads no client). */
  readonly podApi?: ResolvedKubernetes["podApi"];
  readonly annotations?: boolean;
  readonly tuning?: Partial<PodIntegrationTuning>;
  readonly p99Ms?: () => number | undefined;
  readonly safetyMarginMs?: number;
}

export class PodDriver {
  readonly logger = recordingLogger();
  readonly events = new TypedEmitter<WorkerEvents>(() => this.logger);
  readonly integration: PodIntegration;
  state: WorkerState = "starting";
  /** Time spent inside state:changed listeners, i.e. what the job path paid. */
  listenerMs = 0;
  maxListenerMs = 0;
  jobs = 0;

  constructor(options: DriverOptions) {
    const config: ResolvedKubernetes = {
      podName: options.podName,
      namespace: options.namespace,
      annotations: options.annotations ?? true,
      safeToEvict: true,
      doNotDisrupt: true,
      busyAfterMs: options.busyAfterMs ?? 2000,
      kubeconfig: options.kubeconfig,
      ...(options.podApi === undefined ? {} : { podApi: options.podApi }),
    };
    this.integration = createPodIntegration(
      config,
      {
        status: () => {
          const p99 = options.p99Ms?.();
          return p99 === undefined ? this.status() : { ...this.status(), recentJobP99Ms: p99 };
        },
        on: this.events.on.bind(this.events),
        logger: this.logger,
        safetyMarginMs: options.safetyMarginMs ?? 1000,
      },
      { env: {}, ...options.tuning },
    );
  }

  set(to: WorkerState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    const t0 = performance.now();
    this.events.emit("state:changed", { from, to, reason: "driver", at: Date.now() });
    const took = performance.now() - t0;
    this.listenerMs += took;
    this.maxListenerMs = Math.max(this.maxListenerMs, took);
  }

  /** Back-to-back jobs of `jobMs` for `totalMs`, with `gapMs` idle between them; returns the worst overrun of a job. */
  async runJobs(totalMs: number, jobMs: number, gapMs = 0): Promise<{ jobs: number; worstOverrunMs: number }> {
    const end = Date.now() + totalMs;
    let worst = 0;
    let jobs = 0;
    while (Date.now() < end) {
      const t0 = performance.now();
      this.set("busy");
      await sleep(jobMs);
      this.set("idle");
      worst = Math.max(worst, performance.now() - t0 - jobMs);
      jobs++;
      this.jobs++;
      if (gapMs > 0) await sleep(gapMs);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    return { jobs, worstOverrunMs: worst };
  }

  warnings(): LogLine[] {
    return this.logger.lines.filter((l) => l.level === "warn");
  }

  status(): WorkerStatus {
    const now = new Date().toISOString();
    return {
      state: this.state,
      queue: "driver",
      concurrency: 1,
      inFlight: this.state === "busy" ? 1 : 0,
      held: this.state === "busy" ? 1 : 0,
      completed: this.jobs,
      failed: 0,
      released: 0,
      interrupted: 0,
      leaseExtensions: 0,
      leaseLost: 0,
      checkpoints: 0,
      resumed: 0,
      resumeSavedSeconds: 0,
      since: now,
      startedAt: now,
      oldestJobStartedAt: null,
      drainReason: null,
      drainDeadline: null,
    };
  }
}
