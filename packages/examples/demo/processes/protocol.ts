/**
 * What a pod process and the demo say to each other over the IPC channel. The pods report their
 * own job runs (when a job began, when and how it ended), so the accounting does not trust the
 * runtime it is judging; a run never reported ended was cut by the process dying.
 */

/** A job as the producer adds it to BullMQ. */
export interface JobData {
  readonly id: number;
  readonly ms: number;
}

export type PodMessage =
  | { readonly op: "ready"; readonly at: number; /** The quiesce worker's HTTP port (probes). */ readonly port?: number }
  | { readonly op: "start"; readonly id: number; readonly at: number }
  | { readonly op: "end"; readonly id: number; readonly at: number; readonly outcome: "done" | "released" };

/** Handed to a pod process as its one argument (JSON). */
export interface PodConfig {
  readonly redisUrl: string;
  readonly queue: string;
  /** BullMQ's lock: what a dead worker's job waits before the stalled check hands it out again. */
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
}

export function podConfig(argv: readonly string[] = process.argv): PodConfig {
  const raw = argv[2];
  if (raw === undefined) throw new Error("a pod process takes its configuration as one JSON argument");
  return JSON.parse(raw) as PodConfig;
}

export function report(message: PodMessage): void {
  process.send?.(message);
}

/** ioredis options from a `redis://[user:password@]host:port[/db]` URL. */
export function redisConnection(url: string): { host: string; port: number; username?: string; password?: string; db?: number } {
  const u = new URL(url);
  const db = Number(u.pathname.slice(1) || 0);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db > 0 ? { db } : {}),
  };
}

/** The work of one job: wait its length unless `stop` aborts first. True when the work was done. */
export function work(ms: number, stop?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop?.removeEventListener("abort", cut);
      resolve(true);
    }, ms);
    const cut = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    if (stop?.aborted) cut();
    else stop?.addEventListener("abort", cut, { once: true });
  });
}

/** A pod whose demo went away (finished, crashed, killed) goes too, as its node would take it. */
export function dieWithParent(): void {
  process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));
}
