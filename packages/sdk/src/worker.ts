import type { WorkerOptions } from "./config/options.js";
import { resolveConfig, type EnvironmentHints } from "./config/resolve.js";
import { ConfigError, coerceError } from "./errors.js";
import type { WorkerEvents } from "./events.js";
import { TypedEmitter } from "./internal/typed-emitter.js";
import type { DrainReport, WorkerStatus } from "./lifecycle/status.js";
import { createJsonLogger, noopLogger, type Logger } from "./logger.js";
import { WorkerRuntime } from "./runtime.js";
import { installSignalHandlers } from "./drain/signals.js";
import { isInPod, readServiceAccountNamespace } from "./kubernetes/pod-env.js";

export type { WorkerOptions } from "./config/options.js";

/**
 * The public worker: a thin façade over {@link WorkerRuntime}. Construction only validates and
 * stores; I/O starts in `start()`/`run()`. A bad setting does not throw here: it stops start-up,
 * so a process-owning `run()` can print it as one line and exit 1.
 */
export class Worker<Payload = unknown> {
  readonly #options: WorkerOptions<Payload>;
  readonly #events: TypedEmitter<WorkerEvents>;
  readonly #runtime: WorkerRuntime | null;
  readonly #configError: Error | null;
  #logger: Logger;

  constructor(options: WorkerOptions<Payload>) {
    const env = process.env;
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    this.#events = new TypedEmitter<WorkerEvents>(() => this.#logger);
    let runtime: WorkerRuntime | null = null;
    let configError: Error | null = null;
    try {
      const config = resolveConfig(options as WorkerOptions<never>, env, readHints(env));
      runtime = new WorkerRuntime(options as WorkerOptions<never>, config, this.#events, () => this.#logger);
    } catch (thrown) {
      configError = coerceError(thrown);
    }
    this.#runtime = runtime;
    this.#configError = configError;
  }

  /** Connect the source, serve HTTP, start taking jobs. Resolves once the worker is idle (accepting work). */
  async start(): Promise<void> {
    await this.#require().start();
  }

  /**
   * Start, handle SIGTERM/SIGINT, and end with the drain. By default (`exit: true`) the process
   * exits with the report's code once the drain is over (0 clean, 143 work handed back on a
   * signal, 1 fatal with one line on stderr saying why), so code after `await worker.run()` never
   * runs. With `exit: false` it resolves with the report instead; with a function, that function
   * gets the code first, then it resolves.
   */
  async run(): Promise<DrainReport> {
    const { exit } = this.#options;
    const exitProcess = exit === false ? null : typeof exit === "function" ? exit : (code: number) => process.exit(code);
    if (!this.#options.logger && this.#runtime) this.#logger = createJsonLogger(this.#runtime.config.logLevel);
    const runtime = this.#runtime;
    if (!runtime) return this.#fatalBeforeStart(this.#configError, exitProcess);

    const handleSignals = this.#options.handleSignals ?? true;
    const uninstall = handleSignals
      ? installSignalHandlers((signal, action) => {
          this.#logger.info({ signal, action }, `received ${signal}`);
          if (action === "drain") void runtime.drain({ reason: signal, signal: true });
          else if (action === "force") void runtime.force({ reason: signal, signal: true });
          else exitProcess?.(143);
        })
      : () => undefined;
    // A handler's stray promise must not kill a worker that is holding other jobs' leases.
    const onRejection = (reason: unknown): void => {
      this.#logger.error({ err: coerceError(reason) }, "unhandled promise rejection (ignored)");
      this.#events.emit("worker:error", { error: coerceError(reason), during: "unhandledRejection" });
    };
    // A throw that escapes a handler's own callbacks (a timer, an emitter) leaves the process in an
    // unknown state: release held deliveries now (the forceful path) rather than at lease expiry.
    const onException = (error: Error): void => {
      this.#logger.error({ err: error }, "uncaught exception: releasing held work and exiting");
      void runtime.force({ reason: "uncaughtException", fatal: error });
    };
    if (exitProcess) {
      process.on("unhandledRejection", onRejection);
      process.on("uncaughtException", onException);
    }
    // The worker is the program: stay alive while it waits for work, even on a source whose
    // sockets are unref'd.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      try {
        await runtime.start();
      } catch (thrown) {
        // drain() joins a drain already under way (one that interrupted the start, say).
        void runtime.drain({ reason: "start-failed", fatal: coerceError(thrown) });
      }
      const report = await runtime.stopped();
      if (report.exitCode === 1) process.stderr.write(`quiesce: fatal: ${report.error ?? report.reason}\n`);
      if (exitProcess) exitProcess(report.exitCode);
      return report;
    } finally {
      clearInterval(keepAlive);
      uninstall();
      if (exitProcess) {
        process.off("unhandledRejection", onRejection);
        process.off("uncaughtException", onException);
      }
    }
  }

  /** Start (or join) the drain; every caller gets the same promise, resolved after everything closed. */
  drain(reason = "api"): Promise<DrainReport> {
    return this.#require().drain({ reason });
  }

  status(): WorkerStatus {
    return this.#require().status();
  }

  /** Where the HTTP server listens, once started (port 0 resolves to the real port). */
  httpAddress(): { port: number; host: string } | null {
    return this.#runtime?.httpAddress() ?? null;
  }

  on<K extends keyof WorkerEvents>(name: K, listener: (payload: WorkerEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  off<K extends keyof WorkerEvents>(name: K, listener: (payload: WorkerEvents[K]) => void): void {
    this.#events.off(name, listener);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#runtime) await this.#runtime.drain({ reason: "dispose" });
  }

  #require(): WorkerRuntime {
    if (!this.#runtime) throw this.#configError ?? new ConfigError("worker configuration invalid");
    return this.#runtime;
  }

  #fatalBeforeStart(error: Error | null, exitProcess: ((code: number) => void) | null): DrainReport {
    const message = error?.message ?? "worker configuration invalid";
    process.stderr.write(`quiesce: fatal: ${message}\n`);
    if (exitProcess) exitProcess(1);
    if (!exitProcess) throw error ?? new ConfigError(message);
    return { reason: "config", exitCode: 1, path: "graceful", completed: 0, failed: 0, released: 0, interrupted: 0, durationMs: 0, queueSeenEmpty: false, error: message, cleanupErrors: [] };
  }
}

/** Create a worker; see {@link WorkerOptions}. */
export function createWorker<Payload = unknown>(options: WorkerOptions<Payload>): Worker<Payload> {
  return new Worker(options);
}

function readHints(env: NodeJS.ProcessEnv): EnvironmentHints {
  // Only in a pod that did not get POD_NAMESPACE from the Downward API.
  if (!isInPod(env) || env.POD_NAMESPACE) return {};
  const namespace = readServiceAccountNamespace();
  return namespace === undefined ? {} : { serviceAccountNamespace: namespace };
}
