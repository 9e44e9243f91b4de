#!/usr/bin/env node
/**
 * Soak: 1,000,000 no-op jobs through one quiesce worker over BullMQ at concurrency 10, in one
 * process, watching for growth: heap (after a forced GC) and RSS sampled every few seconds, the
 * slope after warm-up fitted by least squares, and the Redis key count before and after.
 *
 * A producer in this process keeps 20,000-40,000 jobs waiting (addBulk in chunks of 1,000) until
 * the total is reached, so Redis never holds the whole million. Jobs are added with
 * `removeOnComplete: true`, so BullMQ keeps no finished job either: after the run the key count
 * must be back to what the queue had before the first job (its meta keys), and any key left over
 * is a leak by the worker or the adapter (a lock, a token, a marker).
 *
 *   node --expose-gc bench/soak.mjs                  (after `pnpm run build`; some minutes)
 *   BENCH_SOAK_JOBS=200000 node --expose-gc bench/soak.mjs --hog
 *
 * Markdown goes to stdout; progress to stderr.
 */
import { execSync } from "node:child_process";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { hogsRequested, startHogs } from "./lib/hog.mjs";
import { startRedis } from "./lib/redis.mjs";
import { exposeGc, fmt } from "./lib/stats.mjs";

const require = createRequire(new URL("../packages/adapters/package.json", import.meta.url));
const { Queue } = require("bullmq");
const { Redis } = require("ioredis");
const sdk = await import(new URL("../packages/sdk/dist/index.js", import.meta.url).href);
const adapter = await import(new URL("../packages/adapters/dist/bullmq/index.js", import.meta.url).href);

const TOTAL = Number(process.env.BENCH_SOAK_JOBS ?? 1_000_000);
const CONCURRENCY = Number(process.env.BENCH_SOAK_CONCURRENCY ?? 10);
const SAMPLE_MS = 5_000;
/** The first part of the run is warm-up (JIT, pools, Redis memory): not in the slope. */
const WARMUP_SHARE = 0.2;
const LOW_WATER = 20_000;
const CHUNK = 1_000;
const log = (line) => process.stderr.write(`[soak] ${line}\n`);
const gc = exposeGc();

function uptime() {
  try {
    return execSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return "uptime unavailable";
  }
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main() {
  const redis = await startRedis(Redis);
  const hogs = startHogs(hogsRequested());
  const loadAtStart = uptime();
  const connection = { host: "127.0.0.1", port: redis.port };
  const admin = new Redis({ ...connection, maxRetriesPerRequest: null });
  const name = `soak-${process.pid}`;
  const queue = new Queue(name, { connection: admin });
  await queue.waitUntilReady();
  let added = 0;
  const produce = async () => {
    const jobs = Array.from({ length: Math.min(CHUNK, TOTAL - added) }, (_, k) => ({
      name: "noop",
      data: { n: added + k },
      opts: { removeOnComplete: true },
    }));
    added += jobs.length;
    await queue.addBulk(jobs);
  };
  // The queue's own keys (meta, events stream…) exist once it has seen a job; count from there.
  await queue.add("probe", {}, { removeOnComplete: true });
  const probeWorker = sdk.createWorker({
    source: adapter.createBullmqSource({ queue: name, connection }),
    handler: async () => {},
    concurrency: 1,
    http: false,
    handleSignals: false,
    exitWhenEmpty: true,
    kubernetes: false,
  });
  await probeWorker.start();
  while (probeWorker.status().completed < 1) await new Promise((r) => setTimeout(r, 20));
  await probeWorker.drain("probe done");
  const keysBefore = await admin.dbsize();
  const memBefore = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1] ?? NaN);

  while (added < Math.min(TOTAL, 2 * LOW_WATER)) await produce();
  const worker = sdk.createWorker({
    source: adapter.createBullmqSource({ queue: name, connection }),
    handler: async () => {},
    concurrency: CONCURRENCY,
    http: false,
    handleSignals: false,
    exitWhenEmpty: false,
    kubernetes: false,
  });
  const samples = [];
  const t0 = performance.now();
  const sample = () => {
    gc();
    const mem = process.memoryUsage();
    const s = { t: (performance.now() - t0) / 1000, done: worker.status().completed, heap: mem.heapUsed / 1048576, rss: mem.rss / 1048576 };
    samples.push(s);
    log(`${s.t.toFixed(0)} s: ${fmt(s.done)} done, heap ${s.heap.toFixed(2)} MB, rss ${s.rss.toFixed(1)} MB`);
  };
  await worker.start();
  sample();
  let nextSample = performance.now() + SAMPLE_MS;
  while (worker.status().completed < TOTAL) {
    if (added < TOTAL && added - worker.status().completed < LOW_WATER) await produce();
    else await new Promise((r) => setTimeout(r, 50));
    if (performance.now() >= nextSample) {
      sample();
      nextSample = performance.now() + SAMPLE_MS;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  sample();
  const report = await worker.drain("soak done");
  const keysAfter = await admin.dbsize();
  const counts = await queue.getJobCounts("wait", "active", "completed", "failed", "delayed");
  const memAfter = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1] ?? NaN);
  const leftover = keysAfter > keysBefore ? (await admin.keys("*")).slice(0, 20) : [];
  await queue.close();
  await admin.quit();
  hogs.stop();
  await redis.stop();

  const warm = samples.filter((s) => s.done >= TOTAL * WARMUP_SHARE);
  const perJobs = (field) => slope(warm.map((s) => ({ x: s.done / 1e5, y: s[field] })));
  const perMin = (field) => slope(warm.map((s) => ({ x: s.t / 60, y: s[field] })));
  const first = warm[0];
  const last = warm[warm.length - 1];
  const lines = [
    "### Soak: 1,000,000 jobs through one BullMQ worker",
    "",
    `${fmt(TOTAL)} no-op jobs at concurrency ${CONCURRENCY}, one quiesce worker + createBullmqSource, one Redis on loopback; jobs added as the queue drains (${fmt(LOW_WATER)}-${fmt(2 * LOW_WATER)} waiting), \`removeOnComplete: true\`. ${fmt(seconds, 0)} s, ${fmt(TOTAL / seconds)} jobs/s; ${hogs.count ? `${hogs.count} CPU hog(s) beside it` : "no CPU hog"}.`,
    `Load at the start: ${loadAtStart}. At the end: ${uptime()}.`,
    "",
    `| after warm-up (from ${fmt(first.done)} jobs, ${warm.length} samples every ${SAMPLE_MS / 1000} s) | at ${fmt(first.done)} jobs | at ${fmt(last.done)} jobs | slope per 100k jobs | slope per minute |`,
    "|---|---:|---:|---:|---:|",
    `| heap used after GC, MB | ${first.heap.toFixed(2)} | ${last.heap.toFixed(2)} | ${perJobs("heap").toFixed(3)} | ${perMin("heap").toFixed(3)} |`,
    `| RSS, MB | ${first.rss.toFixed(1)} | ${last.rss.toFixed(1)} | ${perJobs("rss").toFixed(3)} | ${perMin("rss").toFixed(3)} |`,
    "",
    `| Redis | before the first soak job | after the drain |`,
    "|---|---:|---:|",
    `| keys (DBSIZE) | ${keysBefore} | ${keysAfter} |`,
    `| used_memory, MB | ${(memBefore / 1048576).toFixed(2)} | ${(memAfter / 1048576).toFixed(2)} |`,
    "",
    `Drain report: ${report.completed} completed, ${report.failed} failed, ${report.released} released. Queue counts after: ${JSON.stringify(counts)}.${leftover.length ? ` Keys now: ${leftover.join(", ")}.` : ""}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (report.completed !== TOTAL || counts.wait + counts.active + counts.failed + counts.delayed !== 0) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    log(`soak failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
