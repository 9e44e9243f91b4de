import { rmSync } from "node:fs";
import { afterAll } from "vitest";
import { ManagedProcess, type ManagedProcessOptions } from "./managed-process.js";
import { waitReady, type WaitReadyOptions } from "./probe.js";
import type { ServerHandle } from "./server-handle.js";

/** Spawn a server and wait until it is ready; if it never gets there, kill it and rethrow. */
export async function spawnReady(spawnOpts: ManagedProcessOptions, ready: Omit<WaitReadyOptions, "process">): Promise<ManagedProcess> {
  const proc = await ManagedProcess.spawn(spawnOpts);
  try {
    await waitReady({ ...ready, process: proc });
    return proc;
  } catch (err) {
    await proc.stop({ signal: "SIGKILL", timeoutMs: 1_000 }).catch(() => undefined);
    throw err;
  }
}

const live = new Set<ServerBase>();

/** Stop every server this process started and has not stopped yet. */
export async function stopAllServers(): Promise<void> {
  const results = await Promise.allSettled([...live].map((s) => s.stop()));
  const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (errors.length > 0) throw new AggregateError(errors, `stopping servers failed: ${errors.map(String).join("; ")}`);
}

try {
  // Module scope runs while vitest collects the importing test file (modules are re-evaluated per
  // file with the default `isolate: true`): a private server a file forgot to stop is stopped
  // after its tests. Outside a test file (globalSetup) this throws, and teardown stops them.
  afterAll(stopAllServers);
} catch {
  // not collecting a test file
}

/**
 * The lifecycle every server shares: one main process (a process group) in a temp dir.
 * Subclasses say how to launch it (spawn + wait until ready, on the ports they hold) and how it
 * stops gracefully; companions (RabbitMQ's epmd) are closed in `closeCompanions()`.
 */
export abstract class ServerBase implements ServerHandle {
  readonly dir: string;
  #proc: ManagedProcess | undefined;
  #stopping: Promise<void> | undefined;

  protected constructor(dir: string) {
    this.dir = dir;
    live.add(this);
  }

  /** Spawn the main process and resolve once it answers its protocol. */
  protected abstract launch(): Promise<ManagedProcess>;

  /** The signal that shuts the server down cleanly and promptly. */
  protected get stopSignal(): NodeJS.Signals {
    return "SIGTERM";
  }

  /** Stop helpers that live beside the main process and survive restarts. */
  protected async closeCompanions(): Promise<void> {}

  protected get proc(): ManagedProcess {
    if (!this.#proc) throw new Error(`${this.constructor.name}: not started`);
    return this.#proc;
  }

  /** First start; on failure everything started so far is cleaned up. */
  protected async boot(): Promise<this> {
    try {
      this.#proc = await this.launch();
      return this;
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  get pid(): number {
    return this.proc.pid;
  }

  pause(): void {
    this.proc.signalAll("SIGSTOP");
  }

  resume(): void {
    this.proc.signalAll("SIGCONT");
  }

  async restart(): Promise<void> {
    if (this.#stopping) throw new Error(`${this.constructor.name}: restart() after stop()`);
    await this.proc.stop({ signal: this.stopSignal });
    this.#proc = await this.launch();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => live.delete(this));
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const errors: unknown[] = [];
    try {
      await this.#proc?.stop({ signal: this.stopSignal });
    } catch (err) {
      errors.push(err);
    }
    try {
      await this.closeCompanions();
    } catch (err) {
      errors.push(err);
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${this.constructor.name}: stop failed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
