import { fork, type ChildProcess } from "node:child_process";
import type { JobSpec, Ledger, Run } from "../sim/ledger.js";
import type { PodMarks, SimPod } from "../sim/pod.js";
import type { PodConfig, PodMessage } from "./protocol.js";

export interface ProcessPodDeps {
  /** The worker's entry (built JavaScript). */
  readonly script: URL;
  readonly config: PodConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly ledger: Ledger;
  /** The producer's job by id, for the runs the process reports. */
  readonly job: (id: number) => JobSpec;
  /** Probe GET /readyz on the port the worker reports, as a kubelet's readiness probe does. */
  readonly readinessProbe: boolean;
  /** Lines the process writes on stderr. */
  readonly onStderr: (line: string) => void;
}

/** How often the readiness probe runs (a kubelet's periodSeconds, in the show's time). */
const PROBE_EVERY_MS = 200;

/**
 * A pod as one Node process: the ReplicaSet's SIGTERM and SIGKILL are real signals, busy is what
 * the process reported (runs begun and not ended), and a run still open when the process is gone
 * was cut by its death.
 */
export class ProcessPod implements SimPod {
  readonly name: string;
  readonly createdAt = Date.now();
  readonly marks: PodMarks = {};
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  readonly #deps: ProcessPodDeps;
  readonly #open = new Map<number, Run>();
  #probed = false;
  #exitCode: number | null = null;
  #exitSignal: NodeJS.Signals | null = null;

  constructor(name: string, deps: ProcessPodDeps) {
    this.name = name;
    this.#deps = deps;
    this.#child = fork(deps.script, [JSON.stringify(deps.config)], { env: deps.env, stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: [], serialization: "json" });
    this.#child.on("message", (message) => this.#onMessage(message as PodMessage));
    let rest = "";
    this.#child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "") deps.onStderr(line);
    });
    this.exited = new Promise((resolve) => {
      let exitedAt: number | undefined;
      // Reports still in the channel arrive before it closes: account for the death after both.
      const settle = (): void => {
        if (exitedAt === undefined || this.#child.connected) return;
        this.marks.exitAt ??= exitedAt;
        for (const run of this.#open.values()) deps.ledger.end(run, "killed", exitedAt);
        this.#open.clear();
        resolve();
      };
      this.#child.once("exit", (code, signal) => {
        exitedAt = Date.now();
        this.#exitCode = code;
        this.#exitSignal = signal;
        settle();
      });
      this.#child.once("disconnect", settle);
      this.#child.once("error", (error) => deps.onStderr(`could not start: ${error.message}`));
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** How the process ended: its exit code, or the signal that ended it. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } {
    return { code: this.#exitCode, signal: this.#exitSignal };
  }

  ready(): boolean {
    if (this.marks.readyAt === undefined || this.marks.termAt !== undefined || this.marks.exitAt !== undefined) return false;
    return !this.#deps.readinessProbe || this.#probed;
  }

  inFlight(): number {
    return this.#open.size;
  }

  terminate(): void {
    if (this.marks.termAt !== undefined) return;
    this.marks.termAt = Date.now();
    this.#signal("SIGTERM");
  }

  kill(): void {
    if (this.marks.exitAt !== undefined || this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.marks.killAt = Date.now();
    this.#signal("SIGKILL");
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  #onMessage(message: PodMessage): void {
    if (message.op === "ready") {
      this.marks.readyAt ??= message.at;
      if (this.#deps.readinessProbe && message.port) void this.#probe(message.port);
    } else if (message.op === "start") {
      this.#open.set(message.id, this.#deps.ledger.start(this.#deps.job(message.id), this.name, message.at));
    } else {
      const run = this.#open.get(message.id);
      if (!run) return;
      this.#open.delete(message.id);
      this.#deps.ledger.end(run, message.outcome, message.at);
    }
  }

  async #probe(port: number): Promise<void> {
    while (this.marks.exitAt === undefined && this.#child.exitCode === null && this.#child.signalCode === null) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(PROBE_EVERY_MS) });
        await res.body?.cancel();
        this.#probed = res.ok;
      } catch {
        this.#probed = false;
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  }
}
