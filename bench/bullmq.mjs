#!/usr/bin/env node
/**
 * BullMQ no-op throughput: a raw `bullmq` Worker vs quiesce (`createWorker` + `createBullmqSource`)
 * draining the same kind of queue on the same Redis, in the same run.
 *
 * For each concurrency (1, 10, 50) and each repetition, in alternating order:
 *   - raw: `new Worker(queue, async () => {}, { connection, concurrency })`, timed from the
 *     constructor (it connects and starts at once) to the N-th 'completed' event, then closed;
 *   - quiesce: `createWorker({ source: createBullmqSource({ queue, connection }), concurrency,
 *     handler: async () => {} })`, timed from `start()` to the N-th `job:completed`, then drained;
 *   - source only: the same `createBullmqSource` driven by the least loop any runtime needs
 *     (receive up to the free slots, run the handler, ack), timed from `start()`. It splits the
 *     gap: source only vs raw is the adapter's cost, quiesce vs source only is the runtime's.
 * Each run gets a fresh queue pre-filled with N = 20,000 jobs (filling is not timed) and removed
 * afterwards. Both keep BullMQ's defaults (completed jobs kept, 30 s lock). The bench starts its
 * own redis-server on a free loopback port (no persistence) and stops it at the end.
 * Reported: median jobs/s per mode, the ratios to raw (target for quiesce >= 0.97), and the CPU this
 * process spent per job during the timed part (user + system, µs): with no-op jobs on one machine
 * the bench is CPU-bound, and the CPU column shows what each layer costs even when neighbours
 * make the wall-clock rates noisy.
 *
 *   node bench/bullmq.mjs                         (after `pnpm run build`)
 *   BENCH_REPS=5 BENCH_JOBS=20000 node bench/bullmq.mjs
 *   REDIS_SERVER_BIN=/path/to/redis-server node bench/bullmq.mjs
 *   BENCH_CONCURRENCY=1 node bench/bullmq.mjs --hog    (one concurrency; a busy-loop process beside it)
 *   QUIESCE_BENCH_SDK=/tmp/b/packages/sdk/dist/index.js QUIESCE_BENCH_ADAPTERS=/tmp/b/packages/adapters/dist/bullmq/index.js \
 *     node bench/bullmq.mjs                       (another build of both packages)
 *
 * Markdown goes to stdout; progress to stderr.
 */
import { execSync } from "node:child_process";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { adapterRequire, loadBuilt } from "./lib/built.mjs";
import { hogsRequested, startHogs } from "./lib/hog.mjs";
import { startRedis } from "./lib/redis.mjs";
import { fmt, median } from "./lib/stats.mjs";
import { counter, driveSource, log } from "./lib/throughput.mjs";

// The same bullmq and ioredis copies the adapter resolves.
const { Queue, Worker } = adapterRequire("bullmq");
const { Redis } = adapterRequire("ioredis");
const { sdk, adapter } = await loadBuilt("bullmq", "bullmq");

const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? "1,10,50").split(",").map(Number);
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
/** Timed runs per mode and concurrency (the first run of each pair is also preceded by a warm-up). */
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const WARMUP_JOBS = 5_000;
const noop = async () => {};

// ---- one run per mode ---------------------------------------------------------------------------

let runSeq = 0;

async function filledQueue(connection, n) {
  const name = `bench-${process.pid}-${++runSeq}`;
  const admin = new Redis({ ...connection, maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: admin });
  const chunk = 1_000;
  for (let i = 0; i < n; i += chunk) {
    await queue.addBulk(Array.from({ length: Math.min(chunk, n - i) }, (_, k) => ({ name: "noop", data: { n: i + k } })));
  }
  return {
    name,
    counts: () => queue.getJobCounts("wait", "active", "completed", "failed"),
    async remove() {
      await queue.obliterate({ force: true });
      await queue.close();
      await admin.quit();
    },
  };
}

async function runRaw(connection, concurrency, n) {
  const queue = await filledQueue(connection, n);
  const { finished, begin, tick } = counter(n);
  begin();
  const worker = new Worker(queue.name, noop, { connection, concurrency });
  worker.on("completed", tick);
  worker.on("error", (error) => log(`raw worker error: ${error.message}`));
  const run = await finished;
  await worker.close();
  await check("raw", queue, n);
  return run;
}

async function runQuiesce(connection, concurrency, n) {
  const queue = await filledQueue(connection, n);
  const { finished, begin, tick } = counter(n);
  const worker = sdk.createWorker({
    source: adapter.createBullmqSource({ queue: queue.name, connection }),
    handler: noop,
    concurrency,
    http: false,
    handleSignals: false,
    exitWhenEmpty: false,
    kubernetes: false,
  });
  worker.on("job:completed", tick);
  begin();
  await worker.start();
  const run = await finished;
  const report = await worker.drain("bench");
  if (report.completed !== n) throw new Error(`quiesce run completed ${report.completed} of ${n}`);
  await check("quiesce", queue, n);
  return run;
}

async function check(mode, queue, n) {
  const counts = await queue.counts();
  await queue.remove();
  if (counts.completed !== n || counts.wait !== 0 || counts.active !== 0 || counts.failed !== 0) {
    throw new Error(`${mode} run inconsistent: ${JSON.stringify(counts)} for ${n} jobs`);
  }
}

async function runSourceOnly(connection, concurrency, n) {
  const queue = await filledQueue(connection, n);
  const { finished, begin, tick } = counter(n);
  const source = adapter.createBullmqSource({ queue: queue.name, connection });
  begin();
  await source.start();
  await driveSource(source, concurrency, n, noop, tick);
  const run = await finished;
  await source.stop();
  await check("source only", queue, n);
  return run;
}

const allModes = { raw: runRaw, quiesce: runQuiesce, source: runSourceOnly };
/** BENCH_MODES=quiesce runs one mode alone (for a CPU profile of that path only). */
const modes = Object.fromEntries(
  (process.env.BENCH_MODES ?? "raw,quiesce,source").split(",").map((mode) => {
    if (!allModes[mode]) throw new Error(`BENCH_MODES: unknown mode "${mode}"; accepted: raw, quiesce, source`);
    return [mode, allModes[mode]];
  }),
);
const ORDERS = [
  ["raw", "quiesce", "source"],
  ["source", "quiesce", "raw"],
  ["quiesce", "raw", "source"],
].map((order) => order.filter((mode) => mode in modes));

const best = (row, mode) => Math.max(...row.rates[mode]);
const rate = (row, mode) => `${fmt(row[mode])} (${fmt(best(row, mode))})`;

async function main() {
  const started = performance.now();
  const redis = await startRedis(Redis);
  const hogs = startHogs(hogsRequested());
  const loadAtStart = uptime();
  const connection = { host: "127.0.0.1", port: redis.port };
  log(`bullmq bench: redis-server on 127.0.0.1:${redis.port}, ${fmt(JOBS)} jobs per run, ${REPS} runs per mode`);
  const rows = [];
  try {
    for (const c of CONCURRENCIES) {
      // Warm-up: JIT every path at this concurrency; not reported.
      for (const mode of Object.keys(modes)) await modes[mode](connection, c, WARMUP_JOBS);
      const rates = { raw: [], quiesce: [], source: [] };
      const cpu = { raw: [], quiesce: [], source: [] };
      for (let rep = 0; rep < REPS; rep++) {
        // Rotate the order, so drift (Redis memory, GC, a neighbour) hits every mode alike.
        for (const mode of ORDERS[rep % ORDERS.length]) {
          const run = await modes[mode](connection, c, JOBS);
          rates[mode].push(JOBS / run.seconds);
          cpu[mode].push(run.cpuUsPerJob);
        }
      }
      const med = Object.fromEntries(Object.keys(modes).map((mode) => [mode, median(rates[mode])]));
      const cpuMed = Object.fromEntries(Object.keys(modes).map((mode) => [mode, median(cpu[mode])]));
      rows.push({ c, ...med, cpu: cpuMed, rates });
      log(`c=${c}: ${Object.keys(modes).map((mode) => `${mode} ${rates[mode].map((r) => fmt(r)).join(", ")}`).join(" | ")} jobs/s`);
    }
  } finally {
    hogs.stop();
    await redis.stop();
  }

  const cpus = os.cpus();
  const lines = [
    "## BullMQ: raw Worker vs quiesce (no-op jobs)",
    "",
    `${fmt(JOBS)} jobs per run, median of ${REPS} runs per mode (order rotated between runs, after a warm-up), one Redis on loopback.`,
    `Node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${os.platform()} ${os.release()}; ${hogs.count ? `${hogs.count} CPU hog process(es) spinning beside the bench` : "no CPU hog"}.`,
    `Load at the start: ${loadAtStart}.`,
    ...(process.env.QUIESCE_BENCH_SDK || process.env.QUIESCE_BENCH_ADAPTERS
      ? [`Builds: SDK ${process.env.QUIESCE_BENCH_SDK ?? "this tree"}, adapters ${process.env.QUIESCE_BENCH_ADAPTERS ?? "this tree"}.`]
      : []),
    "",
    "| concurrency | raw bullmq Worker, jobs/s | quiesce + createBullmqSource, jobs/s | **quiesce / raw** (median, best) | source only, jobs/s | CPU µs/job raw / source only / quiesce |",
    "|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.c} | ${rate(r, "raw")} | ${rate(r, "quiesce")} | **${fmt(r.quiesce / r.raw, 3)}**, ${fmt(best(r, "quiesce") / best(r, "raw"), 3)} | ${rate(r, "source")} | ${fmt(r.cpu.raw, 1)} / ${fmt(r.cpu.source, 1)} / ${fmt(r.cpu.quiesce, 1)} |`,
    ),
    "",
    "jobs/s: median of the runs (best run in brackets: the one least slowed by neighbours). CPU: this process's user + system time per job during the timed part, median.",
    "",
    `Runs (jobs/s): ${rows.map((r) => `c=${r.c} ${Object.keys(modes).map((mode) => `${mode} [${r.rates[mode].map((x) => fmt(x)).join(", ")}]`).join(", ")}`).join("; ")}.`,
    `Load at the end: ${uptime()}; total bench time ${fmt((performance.now() - started) / 1000, 1)} s.`,
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** `uptime` as the shell prints it (load averages), for the figures' context. */
function uptime() {
  try {
    return execSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return `load average ${os.loadavg().map((x) => x.toFixed(2)).join(", ")}`;
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`bullmq bench failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
