import { spawn } from "node:child_process";
import { afterAll } from "vitest";
import { guard } from "./reaper.js";

export interface SpawnWorkerOptions {
  /** Merged over this process's environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Arguments after the script path. */
  readonly args?: readonly string[];
  /** Node flags before the script path, e.g. `["--enable-source-maps"]`. */
  readonly nodeArgs?: readonly string[];
  readonly cwd?: string;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The last non-empty stderr line: where a fatal exit states its one-line reason. */
  readonly lastStderrLine: string;
}

export type StreamName = "stdout" | "stderr" | "both";

export interface WaitForLineOptions {
  /** Default "both". */
  readonly stream?: StreamName;
  /** Default 30 000 ms. */
  readonly timeoutMs?: number;
}

export interface WorkerProcess {
  readonly pid: number;
  /** stdout so far. */
  readonly stdout: string;
  /** stderr so far. */
  readonly stderr: string;
  /** The exit, once the process has exited and its output is complete; undefined before. */
  readonly exit: WorkerExit | undefined;
  /** Send a signal ("SIGTERM", "SIGINT", ...); a process that already exited is not an error. */
  signal(name: NodeJS.Signals): void;
  /** Resolves when the process has exited and its output is complete; rejects after `timeoutMs` (default 30 000). */
  waitForExit(timeoutMs?: number): Promise<WorkerExit>;
  /**
   * Resolves with the match in the first line (already printed or still to come) matching
   * `pattern`; `.input` is the whole line. Event-driven; rejects on timeout, or at once when the
   * process exits without such a line.
   */
  waitForLine(pattern: RegExp, opts?: WaitForLineOptions): Promise<RegExpExecArray>;
  /** SIGKILL (if still running) and wait for the exit. */
  kill(): Promise<WorkerExit>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Line {
  readonly stream: "stdout" | "stderr";
  readonly text: string;
}

const running = new Set<WorkerProcess>();

/** Kill every worker still running. Registered as an afterAll of each test file that imports this module. */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...running].map((w) => w.kill()));
}

try {
  // Module scope runs while vitest collects the importing test file (modules are re-evaluated per
  // file with the default `isolate: true`), so this hook belongs to that file.
  afterAll(killAllWorkers);
} catch {
  // imported outside a test file's collection: the exit hook and reaper still apply
}

function tail(lines: readonly Line[], n = 10): string {
  return lines.slice(-n).map((l) => `  [${l.stream}] ${l.text}`).join("\n");
}

/** Run `node scriptPath` (.mjs/.js; the packages are built to dist before tests run). */
export function spawnWorker(scriptPath: string, opts: SpawnWorkerOptions = {}): WorkerProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), scriptPath, ...(opts.args ?? [])], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  });
  if (child.pid === undefined) throw new Error(`spawnWorker: could not start ${process.execPath} ${scriptPath}`);
  const pid = child.pid;
  const reaper = guard({ pid, group: false });
  const out = { stdout: "", stderr: "" };
  const partial = { stdout: "", stderr: "" };
  const lines: Line[] = [];
  const lineListeners = new Set<(line: Line) => void>();
  const exitListeners = new Set<(exit: WorkerExit) => void>();
  let exit: WorkerExit | undefined;

  const emitLine = (line: Line): void => {
    lines.push(line);
    for (const l of lineListeners) l(line);
  };
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream].setEncoding("utf8");
    child[stream].on("data", (chunk: string) => {
      out[stream] += chunk;
      const parts = (partial[stream] + chunk).split("\n");
      partial[stream] = parts.pop() ?? "";
      for (const text of parts) emitLine({ stream, text: text.replace(/\r$/, "") });
    });
  }
  // "close", not "exit": the output is complete only once both pipes are closed.
  child.once("close", (code, signal) => {
    for (const stream of ["stdout", "stderr"] as const) if (partial[stream]) emitLine({ stream, text: partial[stream] });
    const lastStderrLine = out.stderr.trimEnd().split("\n").filter((l) => l.trim() !== "").pop() ?? "";
    const result: WorkerExit = { code, signal, stdout: out.stdout, stderr: out.stderr, lastStderrLine };
    running.delete(handle);
    // Report the exit once the reaper is gone too: afterwards nothing of this worker is left.
    void reaper.dismiss().then(() => {
      exit = result;
      for (const l of exitListeners) l(result);
    });
  });

  const whenExited = (): Promise<WorkerExit> =>
    new Promise((resolve) => {
      if (exit) resolve(exit);
      else exitListeners.add(resolve);
    });

  const handle: WorkerProcess = {
    pid,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    get exit() {
      return exit;
    },
    signal(name) {
      if (exit) return;
      try {
        process.kill(pid, name);
      } catch {
        // exited in the meantime
      }
    },
    waitForExit(timeoutMs = 30_000) {
      if (exit) return Promise.resolve(exit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          exitListeners.delete(onExit);
          reject(new Error(`worker ${pid} (${scriptPath}) did not exit within ${timeoutMs} ms; last output:\n${tail(lines)}`));
        }, timeoutMs);
        const onExit = (e: WorkerExit): void => {
          clearTimeout(timer);
          resolve(e);
        };
        exitListeners.add(onExit);
      });
    },
    waitForLine(pattern, { stream = "both", timeoutMs = 30_000 } = {}) {
      // A fresh RegExp: a /g or /y pattern's lastIndex must not carry over between lines.
      const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
      const matches = (line: Line): RegExpExecArray | null => (stream === "both" || line.stream === stream ? re.exec(line.text) : null);
      for (const line of lines) {
        const m = matches(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          lineListeners.delete(onLine);
          exitListeners.delete(onExit);
        };
        const onLine = (line: Line): void => {
          const m = matches(line);
          if (m) {
            done();
            resolve(m);
          }
        };
        const onExit = (e: WorkerExit): void => {
          done();
          reject(new Error(`worker ${pid} exited (code ${e.code}, signal ${e.signal}) without a ${stream} line matching ${pattern}; last output:\n${tail(lines)}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${stream} line matching ${pattern} from worker ${pid} within ${timeoutMs} ms; last output:\n${tail(lines)}`));
        }, timeoutMs);
        lineListeners.add(onLine);
        if (exit) onExit(exit);
        else exitListeners.add(onExit);
      });
    },
    async kill() {
      handle.signal("SIGKILL");
      return whenExited();
    },
    async [Symbol.asyncDispose]() {
      await handle.kill();
    },
  };
  running.add(handle);
  return handle;
}
