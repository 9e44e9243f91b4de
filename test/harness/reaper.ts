import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { Socket } from "node:net";

/**
 * Makes sure a child we started dies with us, however we die.
 *
 * Two layers:
 * - a `process.on("exit")` hook kills every registered target synchronously (normal exit,
 *   `process.exit()`, vitest tearing a fork down);
 * - a reaper per target for the deaths that run no hook (SIGKILL, an unhandled SIGTERM): a tiny
 *   detached `sh` blocked on `read` from a pipe whose only writer is this process. When we die the
 *   kernel closes the pipe, `read` returns, and the reaper kills the target (a whole process group
 *   for servers) and removes its temp dir. No polling. libuv opens the pipe with O_CLOEXEC, so no
 *   other child inherits the writer and keeps the reaper waiting.
 */

const REAPER_SCRIPT = 'read -r _ || true; kill -s KILL -- "$1" 2>/dev/null; [ -z "$2" ] || rm -rf -- "$2"';

export interface ReapTarget {
  /** The pid to kill. */
  readonly pid: number;
  /** Kill the whole process group led by `pid` (the child was spawned `detached`). */
  readonly group: boolean;
  /** A directory to delete when the target is reaped after our death. */
  readonly dir?: string;
}

export interface Reaper {
  /** The target ended normally: forget it, end the reaper and wait until it is gone. Idempotent. */
  dismiss(): Promise<void>;
}

const live = new Map<ReapTarget, ChildProcess>();
let exitHookInstalled = false;

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function onExit(): void {
  for (const [target, reaper] of live) {
    killQuietly(target.group ? -target.pid : target.pid, "SIGKILL");
    if (reaper.pid !== undefined) killQuietly(reaper.pid, "SIGKILL");
    if (target.dir) rmSync(target.dir, { recursive: true, force: true });
  }
  live.clear();
}

/** Register `target` to be killed if this process ends while it still runs. */
export function guard(target: ReapTarget): Reaper {
  if (!exitHookInstalled) {
    process.on("exit", onExit);
    exitHookInstalled = true;
  }
  const reaper = spawn("sh", ["-c", REAPER_SCRIPT, "quiesce-reaper", target.group ? `-${target.pid}` : String(target.pid), target.dir ?? ""], {
    stdio: ["pipe", "ignore", "ignore"],
    // Its own session: a terminal's Ctrl-C must not kill the reaper before it has done its job.
    detached: true,
  });
  reaper.on("error", () => undefined); // sh missing: the exit hook still covers normal exits
  const gone = new Promise<void>((resolve) => {
    reaper.once("exit", () => resolve());
    reaper.once("error", () => resolve());
  });
  reaper.unref();
  if (reaper.stdin instanceof Socket) reaper.stdin.unref();
  reaper.stdin?.on("error", () => undefined);
  live.set(target, reaper);
  return {
    async dismiss() {
      if (live.delete(target) && reaper.pid !== undefined) {
        reaper.ref(); // wait for it even when nothing else keeps the event loop alive
        killQuietly(reaper.pid, "SIGKILL");
      }
      await gone;
    },
  };
}
