import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { descendants, groupMembers, isAlive } from "./proc.js";
import { guard, type Reaper } from "./reaper.js";

export interface ManagedProcessOptions {
  /** For messages: "redis", "rabbitmq", ... */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the child (nothing is inherited implicitly). */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** stdout and stderr are appended to this file. */
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Removed by the reaper if the process outlives the test process. */
  readonly cleanupDir?: string;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StopOptions {
  /** The graceful signal: SIGTERM for most servers, SIGINT is PostgreSQL's fast shutdown. */
  readonly signal?: NodeJS.Signals;
  /** After this, the group and every descendant get SIGKILL. Default 15 000 ms. */
  readonly timeoutMs?: number;
}

/**
 * A server process we own: spawned `detached` (its own session and process group, so Ctrl-C in
 * a terminal does not reach it and one signal reaches its helpers, e.g. beam's port programs;
 * descendants that leave the group, like postgres backends, are tracked through /proc), its
 * output in a log file, guarded by a reaper (see reaper.ts).
 */
export class ManagedProcess {
  readonly pid: number;
  readonly name: string;
  /** Resolves when the group leader exits (never rejects). */
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  readonly #child: ChildProcess;
  readonly #reaper: Reaper;
  #stopping: Promise<ExitInfo> | undefined;

  private constructor(name: string, child: ChildProcess, pid: number, exited: Promise<ExitInfo>, reaper: Reaper) {
    this.name = name;
    this.pid = pid;
    this.#child = child;
    this.#reaper = reaper;
    this.exited = exited.then((info) => (this.#exit = info));
  }

  static async spawn(opts: ManagedProcessOptions): Promise<ManagedProcess> {
    const log = openSync(opts.logFile, "a");
    try {
      const child = spawn(opts.command, opts.args, {
        cwd: opts.cwd,
        env: opts.env,
        stdio: ["ignore", log, log],
        detached: true,
        ...(opts.uid === undefined ? {} : { uid: opts.uid }),
        ...(opts.gid === undefined ? {} : { gid: opts.gid }),
      });
      const exited = new Promise<ExitInfo>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
      const spawned = await new Promise<number>((resolve, reject) => {
        child.once("spawn", () => resolve(child.pid as number));
        child.once("error", (err) => reject(new Error(`${opts.name}: cannot run ${opts.command}: ${err.message}`, { cause: err })));
      });
      // A running server must not keep a test process alive; stop() refs it again (see #stop).
      child.unref();
      const reaper = guard({ pid: spawned, group: true, ...(opts.cleanupDir === undefined ? {} : { dir: opts.cleanupDir }) });
      return new ManagedProcess(opts.name, child, spawned, exited, reaper);
    } finally {
      closeSync(log);
    }
  }

  /** True until the group leader has exited. */
  get running(): boolean {
    return this.#exit === undefined;
  }

  /**
   * Signal the leader, every process of its group and every descendant (PostgreSQL backends leave
   * the group with setsid()), the leader first so it cannot fork while the rest is signalled.
   * Processes already gone are not an error.
   */
  signalAll(signal: NodeJS.Signals): void {
    kill(-this.pid, signal);
    for (const p of descendants(this.pid)) kill(p.pid, signal);
  }

  /**
   * Graceful signal to the leader, then SIGKILL to all after `timeoutMs`; resolves once neither
   * the group nor a descendant is left (postgres backends can outlive the postmaster by a few
   * ms). Idempotent.
   */
  stop(opts: StopOptions = {}): Promise<ExitInfo> {
    this.#stopping ??= this.#stop(opts.signal ?? "SIGTERM", opts.timeoutMs ?? 15_000);
    return this.#stopping;
  }

  async #stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo> {
    // Keep the event loop alive until the exit is seen: in vitest's main process the teardown runs
    // when nothing else keeps the loop alive, and the process would exit mid-stop, leaving the
    // server to the exit hook's SIGKILL (and its processes as zombies until PID 1 reaps them).
    this.#child.ref();
    // Remembered now: once the leader is gone, orphans are re-parented and no longer findable.
    const helpers = descendants(this.pid).map((p) => p.pid);
    const left = (): number[] => [...new Set([...groupMembers(this.pid).map((p) => p.pid), ...helpers.filter(isAlive)])];
    kill(this.pid, signal); // the leader decides how to shut its helpers down
    this.signalAll("SIGCONT"); // a paused (SIGSTOPped) server would never see the signal
    const timer = sleep(timeoutMs, "timeout" as const, { ref: false });
    if ((await Promise.race([this.exited, timer])) === "timeout") this.signalAll("SIGKILL");
    const info = await this.exited;
    // Helpers exit right after the leader (postgres backends on postmaster death, beam's port programs).
    for (let i = 0; left().length > 0; i++) {
      if (i === 100) for (const pid of left()) kill(pid, "SIGKILL");
      if (i > 300) throw new Error(`${this.name}: processes survive SIGKILL: ${JSON.stringify(left())}`);
      await sleep(20);
    }
    await this.#reaper.dismiss();
    return info;
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone
  }
}
