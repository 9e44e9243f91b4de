#!/usr/bin/env node
/**
 * Checkpoint cost per backend: how many `ctx.checkpoint()` calls a handler can make per second
 * (back to back, one job), and what checkpointing does to a stepping job's throughput.
 *
 * Backends: memory (in the source), bullmq (in the job's hash, own redis-server), the Redis store
 * and, when BENCH_PG_URL is set, the PostgreSQL store (both behind a source that keeps none).
 * Each measurement is one job on a fresh queue in an embedded worker; modes and backends are
 * interleaved within each repetition, medians reported, best too.
 *   - writes/s: STEPS checkpoints back to back, nothing else;
 *   - job: STEPS steps of STEP_US of CPU work, checkpointing every step, every 10th, or never;
 *     reported as steps/s and as a ratio to "never".
 *
 *   node bench/checkpoint.mjs                     (after `pnpm run build`)
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/checkpoint.mjs
 */
import { createRequire } from "node:module";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { startRedis } from "./lib/redis.mjs";
import { fmt, median } from "./lib/stats.mjs";

const require = createRequire(new URL("../packages/adapters/package.json", import.meta.url));
const { Queue } = require("bullmq");
const { Redis } = require("ioredis");
const { createWorker, createMemorySource } = await import("../packages/sdk/dist/index.js");
const { createBullmqSource } = await import("../packages/adapters/dist/bullmq/index.js");
const { createRedisCheckpointStore } = await import("../packages/adapters/dist/checkpoint-redis/index.js");
const { createPgCheckpointStore } = await import("../packages/adapters/dist/checkpoint-pg/index.js");
// Its own module, not the testing entry point (which loads vitest).
const { withoutCheckpoints } = await import("../packages/sdk/dist/testing/without-checkpoints.js");

const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const STEPS = Number(process.env.BENCH_STEPS ?? 2_000);
const STEP_US = Number(process.env.BENCH_STEP_US ?? 1_000);
const log = (line) => process.stderr.write(`[checkpoint] ${line}\n`);

/** Busy work of `us` microseconds: a step that uses the CPU, as a chunk of real work would. */
function work(us) {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

let seq = 0;
/** One job through one embedded worker; resolves with the handler's own elapsed ms. */
async function runJob(backend, { stepUs, every }) {
  const made = await backend.make();
  let elapsed = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const worker = createWorker({
    source: made.source,
    http: false, handleSignals: false, exit: false,
    ...(made.store ? { checkpoints: { store: made.store } } : {}),
    async handler(_payload, ctx) {
      const t0 = performance.now();
      for (let step = 1; step <= STEPS; step++) {
        if (stepUs > 0) work(stepUs);
        if (every > 0 && step % every === 0) await ctx.checkpoint({ step, cursor: `item-${step}` });
      }
      elapsed = performance.now() - t0;
      done();
    },
  });
  await worker.start();
  await made.publish();
  await finished;
  await worker.drain();
  await made.cleanup();
  return elapsed;
}

function backends(redisPort, pool) {
  const redis = new Redis({ host: "127.0.0.1", port: redisPort, maxRetriesPerRequest: null });
  const list = [
    { name: "memory", make: async () => { const source = createMemorySource({ pollMs: 50 }); return { source, publish: async () => source.add({}), cleanup: async () => undefined }; } },
    {
      name: "bullmq (job hash)",
      make: async () => {
        const name = `bench-ckpt-${process.pid}-${++seq}`;
        const queue = new Queue(name, { connection: redis });
        const source = createBullmqSource({ queue: name, connection: { host: "127.0.0.1", port: redisPort }, pollTimeoutMs: 200 });
        return { source, publish: () => queue.add("job", {}), cleanup: async () => { await queue.obliterate({ force: true }); await queue.close(); } };
      },
    },
    {
      name: "Redis store",
      make: async () => { const source = withoutCheckpoints(createMemorySource({ pollMs: 50 })); return { source, store: createRedisCheckpointStore({ client: redis, prefix: `bench:${++seq}:` }), publish: async () => source.add({}), cleanup: async () => undefined }; },
    },
  ];
  if (pool) {
    list.push({
      name: "PostgreSQL store",
      make: async () => { const source = withoutCheckpoints(createMemorySource({ pollMs: 50 })); return { source, store: createPgCheckpointStore({ pool, table: "bench_checkpoints" }), publish: async () => source.add({}), cleanup: async () => undefined }; },
    });
  }
  return { list, close: () => redis.quit() };
}

async function main() {
  const started = performance.now();
  const server = await startRedis(Redis);
  let pool;
  if (process.env.BENCH_PG_URL) {
    // pg is a dev dependency of the tests, not of the adapters (the store only needs query()).
    const pg = createRequire(new URL("../test/package.json", import.meta.url))("pg");
    pool = new pg.Pool({ connectionString: process.env.BENCH_PG_URL, max: 2 });
  }
  const { list, close } = backends(server.port, pool);
  const modes = [
    { key: "writes", stepUs: 0, every: 1 },
    { key: "never", stepUs: STEP_US, every: 0 },
    { key: "every10", stepUs: STEP_US, every: 10 },
    { key: "every1", stepUs: STEP_US, every: 1 },
  ];
  const results = new Map(list.map((b) => [b.name, Object.fromEntries(modes.map((m) => [m.key, []]))]));
  for (let rep = 1; rep <= REPS; rep++) {
    for (const backend of list) {
      for (const mode of modes) {
        const ms = await runJob(backend, mode);
        results.get(backend.name)[mode.key].push(ms);
      }
    }
    log(`rep ${rep}/${REPS} done`);
  }
  const perSecond = (ms, n) => (n * 1000) / ms;
  const lines = [
    `Checkpoint bench: ${STEPS} checkpoints per job for writes/s; job of ${STEPS} steps of ${STEP_US} us CPU work each; ${REPS} interleaved reps, median (best).`,
    "",
    "| backend | checkpoint writes/s | steps/s, never | every 10th step | every step |",
    "|---|---|---|---|---|",
  ];
  for (const [name, r] of results) {
    const writes = r.writes.map((ms) => perSecond(ms, STEPS));
    const steps = (key) => r[key].map((ms) => perSecond(ms, STEPS));
    const base = median(steps("never"));
    const cell = (key) => `${fmt(median(steps(key)))} (${(median(steps(key)) / base).toFixed(2)})`;
    lines.push(`| ${name} | ${fmt(median(writes))} (best ${fmt(Math.max(...writes))}) | ${fmt(base)} | ${cell("every10")} | ${cell("every1")} |`);
  }
  lines.push("", `Ratios in brackets are to "never" on the same backend. Load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; ${fmt((performance.now() - started) / 1000, 1)} s.`);
  process.stdout.write(`${lines.join("\n")}\n`);
  await close();
  await pool?.end();
  await server.stop();
}

await main();
