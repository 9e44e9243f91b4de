#!/usr/bin/env node
/**
 * One INSERT per job: `pgResource` (ctx.resources.db.query) vs a raw `pg.Pool` of the same size
 * (pool.query), both inside the same quiesce worker over the in-memory source, so the difference
 * is what the resource adds per query: the timed checkout, the abort listener for server-side
 * cancellation, the release rule.
 *
 * For each concurrency (1, 5, 20) and each repetition, in alternating order (raw first in odd
 * repetitions, pgResource first in even ones):
 *   - raw: `new pg.Pool({ max: concurrency })`, handler `pool.query(INSERT)`, pool ended after the drain;
 *   - pgResource: `pgResource({ connection })` (max = the concurrency, its default), handler
 *     `ctx.resources.db.query(INSERT)`, ended by the worker after the drain.
 * Each run: a fresh worker, a memory source pre-filled with N jobs (not timed), timed from `start()`
 * (connections open lazily on both sides, so both pay for them) to the N-th `job:completed`.
 * The bench starts its own PostgreSQL (scripts/postgres.mjs: loopback, fsync off) and stops it.
 * Reported: median jobs/s per mode (best in brackets); the ratio pgResource / raw (target >= 0.97)
 * as the median of the per-repetition ratios (each repetition runs both modes back to back, so a
 * neighbour's load drifting over the bench hits both alike), with the ratio of the medians and of
 * the best runs beside it; CPU µs per job of this process.
 *
 *   node bench/pg.mjs                       (after `pnpm run build`)
 *   BENCH_REPS=5 BENCH_JOBS=4000 node bench/pg.mjs
 *
 * Markdown goes to stdout; progress to stderr.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { startPostgres } from "../scripts/postgres.mjs";
import { adapterRequire, loadBuilt } from "./lib/built.mjs";
import { fmt, median } from "./lib/stats.mjs";

// The same pg copy the adapter resolves.
const pg = adapterRequire("pg");
const { sdk, adapter } = await loadBuilt("pg", "pg");

const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? "1,5,20").split(",").map(Number);
const JOBS = Number(process.env.BENCH_JOBS ?? 3000);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 9));
const WARMUP_JOBS = 1000;
const INSERT = "insert into bench_rows (job, payload) values ($1, $2)";
const log = (line) => process.stderr.write(`${line}\n`);

function filled(n) {
  const source = sdk.createMemorySource({ pollMs: 50 });
  for (let i = 0; i < n; i++) source.add({ n: i });
  return source;
}

async function timed(worker, n) {
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  worker.on("job:completed", () => {
    if (++done !== n) return;
    const cpu = process.cpuUsage(cpu0);
    finish({ seconds: (performance.now() - t0) / 1000, cpuUsPerJob: (cpu.user + cpu.system) / n });
  });
  worker.on("job:failed", ({ error }) => log(`job failed: ${error.message}`));
  await worker.start();
  const run = await finished;
  const report = await worker.drain("bench");
  if (report.completed !== n || report.failed !== 0) throw new Error(`run inconsistent: ${JSON.stringify(report)}`);
  return run;
}

const common = (concurrency, n) => ({ source: filled(n), concurrency, http: false, handleSignals: false, exitWhenEmpty: false, kubernetes: false });

async function runRaw(url, concurrency, n) {
  const pool = new pg.Pool({ connectionString: url, max: concurrency, idleTimeoutMillis: 10_000 });
  pool.on("error", (error) => log(`raw pool: idle client error: ${error.message}`));
  try {
    return await timed(sdk.createWorker({ ...common(concurrency, n), handler: ({ n: job }) => pool.query(INSERT, [job, "raw"]) }), n);
  } finally {
    await pool.end();
  }
}

async function runResource(url, concurrency, n) {
  const db = adapter.pgResource({ name: "bench", connection: { connectionString: url } });
  return timed(sdk.createWorker({ ...common(concurrency, n), resources: { db }, handler: ({ n: job }, ctx) => ctx.resources.db.query(INSERT, [job, "res"]) }), n);
}

const modes = { raw: runRaw, pgResource: runResource };

const started = performance.now();
const server = await startPostgres();
process.once("exit", () => void server.stop());
try {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table bench_rows (id bigserial primary key, job int not null, payload text not null, at timestamptz not null default now())");
  const count = async () => Number((await admin.query("select count(*) as n from bench_rows")).rows[0].n);

  const results = {};
  for (const c of CONCURRENCIES) {
    results[c] = { raw: [], pgResource: [] };
    log(`concurrency ${c}: warm-up`);
    await runRaw(server.url, c, WARMUP_JOBS);
    await runResource(server.url, c, WARMUP_JOBS);
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? ["raw", "pgResource"] : ["pgResource", "raw"];
      for (const mode of order) {
        const before = await count();
        const run = await modes[mode](server.url, c, JOBS);
        const inserted = (await count()) - before;
        if (inserted !== JOBS) throw new Error(`${mode} inserted ${inserted} rows for ${JOBS} jobs`);
        results[c][mode].push(run);
        log(`  c=${c} ${mode}: ${fmt(JOBS / run.seconds)} jobs/s, ${fmt(run.cpuUsPerJob, 1)} µs CPU/job`);
      }
    }
    await admin.query("truncate bench_rows");
  }
  await admin.end();

  const rate = (runs) => runs.map((r) => JOBS / r.seconds);
  const lines = [
    "#### PostgreSQL: one INSERT per job, pgResource vs a raw pg.Pool of the same size",
    "",
    `${fmt(JOBS)} jobs per run, ${REPS} runs per mode and concurrency (order alternated, after a warm-up of each), one PostgreSQL 15 on loopback (fsync off), inside the same quiesce worker over the memory source.`,
    `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "CPU"}.`,
    "",
    "| concurrency (= pool max) | raw pg.Pool, jobs/s | pgResource, jobs/s | **pgResource / raw**, median of pairs | of medians; of best runs | CPU µs/job raw / pgResource |",
    "|---:|---:|---:|---:|---:|---:|",
  ];
  const runsLine = [];
  for (const c of CONCURRENCIES) {
    const raw = rate(results[c].raw);
    const res = rate(results[c].pgResource);
    const pairs = median(res.map((r, i) => r / raw[i]));
    const ofMedians = median(res) / median(raw);
    const best = Math.max(...res) / Math.max(...raw);
    const cpu = (runs) => median(runs.map((r) => r.cpuUsPerJob));
    lines.push(
      `| ${c} | ${fmt(median(raw))} (${fmt(Math.max(...raw))}) | ${fmt(median(res))} (${fmt(Math.max(...res))}) | **${pairs.toFixed(3)}** | ${ofMedians.toFixed(3)}; ${best.toFixed(3)} | ${fmt(cpu(results[c].raw), 1)} / ${fmt(cpu(results[c].pgResource), 1)} |`,
    );
    runsLine.push(`c=${c} raw [${raw.map((x) => fmt(x)).join(", ")}], pgResource [${res.map((x) => fmt(x)).join(", ")}]`);
  }
  lines.push("", "jobs/s: median of the runs (best run in brackets). CPU: this process's user + system time per job during the timed part, median.", "");
  lines.push(`Runs (jobs/s): ${runsLine.join("; ")}.`);
  lines.push(`Load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; total bench time ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await server.stop();
}
