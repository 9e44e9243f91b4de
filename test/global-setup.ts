import type { TestProject } from "vitest/node";
import { startFauxqs } from "./harness/fauxqs.js";
import { startPostgres } from "./harness/postgres.js";
import { startRabbitmq } from "./harness/rabbitmq.js";
import { startRedis } from "./harness/redis.js";
import { serversNeededBy, type ServerName } from "./harness/server-needs.js";
import type { ServerHandle } from "./harness/server-handle.js";
import type { SharedServerInfo } from "./harness/servers.js";

/**
 * Starts, once per run and in parallel, the servers that the selected test files declare in
 * their header (`// @servers redis rabbitmq`), publishes their addresses (`servers()` in a test,
 * or `inject("quiesceServers")`) and stops them all at the end.
 */

type Started = { readonly handle: ServerHandle; readonly info: SharedServerInfo; readonly ms: number };

const starters: Record<ServerName, () => Promise<Started>> = {
  rabbitmq: timed(async () => {
    const s = await startRabbitmq();
    return { handle: s, info: { rabbitmq: s.info() } };
  }),
  postgres: timed(async () => {
    const s = await startPostgres();
    return { handle: s, info: { postgres: s.info() } };
  }),
  fauxqs: timed(async () => {
    const s = await startFauxqs();
    return { handle: s, info: { fauxqs: s.info() } };
  }),
  redis: timed(async () => {
    const s = await startRedis();
    return { handle: s, info: { redis: s.info() } };
  }),
};

function timed(start: () => Promise<Omit<Started, "ms">>): () => Promise<Started> {
  return async () => {
    const t0 = performance.now();
    return { ...(await start()), ms: performance.now() - t0 };
  };
}

/**
 * The test files of this project that this run will execute. vitest hands globalSetup the
 * project, not the run's file list: apply the CLI filters again the way `vitest run` does.
 * `filenamePattern` (the CLI filters) is marked internal in vitest 4; if it ever disappears we
 * fall back to every file of the project (more servers than needed, never fewer). In watch mode
 * the filter can change without a new globalSetup, so every file counts too.
 */
async function selectedTestFiles(project: TestProject): Promise<string[]> {
  const vitest = project.vitest;
  if (vitest.config.watch) return (await project.globTestFiles()).testFiles;
  const pattern = (vitest as unknown as { filenamePattern?: unknown }).filenamePattern;
  const filters = Array.isArray(pattern) ? pattern.filter((f): f is string => typeof f === "string") : [];
  const specs = await vitest.getRelevantTestSpecifications(filters);
  return [...new Set(specs.filter((s) => s.project.name === project.name).map((s) => s.moduleId))];
}

async function stopAll(handles: readonly ServerHandle[]): Promise<void> {
  const results = await Promise.allSettled(handles.map((h) => h.stop()));
  const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (errors.length > 0) throw new AggregateError(errors, `stopping the shared test servers failed: ${errors.map(String).join("; ")}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const needed = await serversNeededBy(await selectedTestFiles(project));
  const t0 = performance.now();
  // Kicked off in SERVER_NAMES order: RabbitMQ, the slowest, first.
  const results = await Promise.allSettled(needed.map((name) => starters[name]()));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  if (failures.length > 0) {
    await stopAll(started.map((s) => s.handle)).catch(() => undefined);
    // One line per failure (a missing package names the apt-get command); the suite fails, never skips.
    throw new Error(`test servers failed to start:\n${failures.join("\n")}`);
  }
  const info: SharedServerInfo = Object.assign({}, ...started.map((s) => s.info));
  project.provide("quiesceServers", info);
  if (needed.length > 0) {
    const each = needed.map((name, i) => `${name} ${((started[i]?.ms ?? 0) / 1000).toFixed(2)}s`).join(", ");
    process.stderr.write(`[test servers] ${each} (in parallel: ${((performance.now() - t0) / 1000).toFixed(2)}s)\n`);
  }
  return () => stopAll(started.map((s) => s.handle));
}
