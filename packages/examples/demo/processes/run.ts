import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { WorldResult } from "../sim/world.js";
import { ProcessWorld, type ProcessWorldOptions } from "./process-world.js";

export interface RunProcessWorldsOptions {
  /** Called once a second with the worlds. */
  readonly tick?: (worlds: readonly ProcessWorld[]) => void;
}

/**
 * Run several worlds of real processes side by side and return their results in order. Every pod
 * process is gone when this returns or throws; on SIGINT or SIGTERM the pods are killed first and
 * the demo exits 130 / 143.
 */
export async function runProcessWorlds(options: readonly Omit<ProcessWorldOptions, "dir">[], run: RunProcessWorldsOptions = {}): Promise<WorldResult[]> {
  for (const url of new Set(options.map((o) => o.redisUrl))) await reachRedis(url);
  const dir = mkdtempSync(join(tmpdir(), "quiesce-demo-"));
  const worlds = options.map((o) => new ProcessWorld({ ...o, dir }));
  const stop = (signal: NodeJS.Signals): void => {
    for (const world of worlds) for (const pod of world.pods()) pod.kill();
    void Promise.all(worlds.map((w) => w.close())).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const tick = run.tick ? setInterval(() => run.tick?.(worlds), 1000) : undefined;
  try {
    return await Promise.all(worlds.map((w) => w.run()));
  } finally {
    clearInterval(tick);
    await Promise.all(worlds.map((w) => w.close()));
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Redis of `--redis` did not answer: said in one line, before any pod is started. */
export class RedisUnreachableError extends Error {}

/** BullMQ would retry an unreachable Redis for ever; the demo says so at once instead. */
async function reachRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() rejects with "Connection is closed"; the socket's own error says why.
  let cause: Error | undefined;
  client.on("error", (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new RedisUnreachableError(`--redis ${url}: no Redis answered (${(cause ?? (error as Error)).message})`);
  } finally {
    client.disconnect();
  }
}
