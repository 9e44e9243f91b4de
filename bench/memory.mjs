#!/usr/bin/env node
/**
 * Memory-source no-op throughput: quiesce vs the bare minimum, in the same process and run.
 *
 * For each concurrency (1, 10, 100), alternating runs of:
 *   - quiesce: `createWorker({ source, handler, concurrency, http: false, handleSignals: false })`
 *     on a fresh memory source pre-filled with N messages; `start()`, count `job:completed` until
 *     all N are done (timed from just before `start()`), then `drain()` (not timed);
 *   - bare: the least any runtime must do, on the same kind of source with the same N messages:
 *     receive up to `concurrency` deliveries, run the same no-op handler for each, ack, repeat.
 *     The bare loop is 10-20x faster, so a bare run is several passes, each over a fresh source of
 *     N messages, until >= 1 s of processing has been timed (filling is never timed). Both modes
 *     thus see identical queues and heap sizes.
 * N is sized per concurrency after a warm-up so that a quiesce run lasts >= 1 s (a shorter one is
 * redone with a larger N). Reported: median jobs/s of each mode, the ratio quiesce/bare, and the
 * runtime's cost per job in µs (1e6/quiesce − 1e6/bare). Heap: heapUsed after a forced GC following
 * each of two identical measurement rounds; a leak shows as growth from the first to the second.
 *
 *   node --expose-gc bench/memory.mjs                       (after `pnpm run build`)
 *   BENCH_REPS=2 BENCH_TARGET_S=0.5 node bench/memory.mjs   (quicker, noisier)
 *   QUIESCE_BENCH_SDK=/tmp/other/dist/index.js node bench/memory.mjs   (another SDK build)
 *
 * Markdown goes to stdout; progress to stderr.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { exposeGc, fmt, median } from "./lib/stats.mjs";

// QUIESCE_BENCH_SDK=/path/to/sdk/dist/index.js compares another build (before/after a change).
const sdkUrl = process.env.QUIESCE_BENCH_SDK
  ? new URL(process.env.QUIESCE_BENCH_SDK, `file://${process.cwd()}/`)
  : new URL("../packages/sdk/dist/index.js", import.meta.url);
let sdk;
try {
  sdk = await import(sdkUrl.href);
} catch (error) {
  process.stderr.write(`memory bench: cannot load ${sdkUrl.pathname} (run \`pnpm run build\` first): ${error.message}\n`);
  process.exit(1);
}
const { createWorker, createMemorySource } = sdk;

const CONCURRENCIES = [1, 10, 100];
/** Timed runs per mode and concurrency, split evenly over two rounds. */
const REPS = Math.max(2, Number(process.env.BENCH_REPS ?? 6));
/** Aimed length of one timed run, in seconds; no run counts unless it lasted MIN_S. */
const TARGET_S = Number(process.env.BENCH_TARGET_S ?? 1.3);
const MIN_S = Math.min(1, TARGET_S);
const MIN_JOBS = 5_000;
const MAX_JOBS = 2_000_000;
/** Long lease: no lease expires or needs renewing during a run. Short poll: an idle receive ends soon. */
const SOURCE_OPTIONS = { leaseMs: 600_000, pollMs: 50 };

const gc = exposeGc();
const log = (line) => process.stderr.write(`[memory] ${line}\n`);

/** The job under test: does nothing, asynchronously (a handler is awaited either way). */
const noop = async () => {};

/** The payloads of a run: a number per job, like a small id. Generated, so nothing outlives a run. */
function* payloads(n) {
  for (let i = 0; i < n; i++) yield i;
}

function filledSource(n) {
  const source = createMemorySource(SOURCE_OPTIONS);
  source.addMany(payloads(n));
  return source;
}

/** One quiesce run over `n` messages: start() to the n-th job:completed. */
async function runQuiesce(concurrency, n) {
  const source = filledSource(n);
  const worker = createWorker({
    source,
    handler: noop,
    concurrency,
    http: false,
    handleSignals: false,
    exitWhenEmpty: false,
    kubernetes: false,
  });
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  worker.on("job:completed", () => {
    if (++done === n) finish(performance.now());
  });
  const t0 = performance.now();
  await worker.start();
  const t1 = await finished;
  const report = await worker.drain("bench");
  const left = source.snapshot();
  if (report.completed !== n || left.completed !== n || left.waiting !== 0 || left.inFlight !== 0) {
    throw new Error(`quiesce run inconsistent: completed ${report.completed}/${left.completed} of ${n}, left ${JSON.stringify(left)}`);
  }
  return { jobs: n, seconds: (t1 - t0) / 1000, passes: 1 };
}

/** One bare pass over `n` messages: receive up to `concurrency`, run the handler for each, ack, repeat. */
async function barePass(concurrency, n) {
  const source = filledSource(n);
  await source.start();
  const signal = new AbortController().signal;
  const runOne = async (delivery) => {
    const result = await noop(delivery.payload, undefined);
    await delivery.ack(result);
  };
  const t0 = performance.now();
  let done = 0;
  while (done < n) {
    const batch = await source.receive(concurrency, signal);
    if (batch.length === 1) await runOne(batch[0]);
    else await Promise.all(batch.map(runOne));
    done += batch.length;
  }
  const t1 = performance.now();
  await source.stop();
  const left = source.snapshot();
  if (left.completed !== n || left.waiting !== 0) throw new Error(`bare pass inconsistent: ${JSON.stringify(left)} for ${n}`);
  return (t1 - t0) / 1000;
}

/** One bare run: passes of `n` messages until at least `minSeconds` of processing was timed. */
async function runBare(concurrency, n, minSeconds = MIN_S) {
  let seconds = 0;
  let passes = 0;
  do {
    seconds += await barePass(concurrency, n);
    passes++;
  } while (seconds < minSeconds);
  return { jobs: n * passes, seconds, passes };
}

const modes = { quiesce: runQuiesce, bare: runBare };

function roundJobs(x) {
  const clamped = Math.min(MAX_JOBS, Math.max(MIN_JOBS, x));
  const step = 10 ** Math.max(3, Math.floor(Math.log10(clamped)) - 1);
  return Math.ceil(clamped / step) * step;
}

function heapMb() {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}


async function main() {
  const started = performance.now();
  // --- warm-up (JIT both paths at every concurrency) and sizing of N -----------------------------
  const jobs = {};
  for (const c of CONCURRENCIES) {
    // The best of three: a warm-up run slowed by a GC or a neighbour must not make N too small.
    let rate = 0;
    for (const n of [20_000, 50_000, 50_000]) {
      const run = await runQuiesce(c, n);
      rate = Math.max(rate, run.jobs / run.seconds);
      await runBare(c, n, 0);
    }
    jobs[c] = roundJobs(rate * TARGET_S);
    log(`warm-up c=${c}: quiesce up to ~${fmt(rate)} jobs/s -> N=${fmt(jobs[c])}`);
  }
  const heapWarm = heapMb();

  // --- two identical measurement rounds, modes interleaved so drift hits both alike --------------
  const runs = {};
  for (const c of CONCURRENCIES) runs[c] = { quiesce: [], bare: [] };
  const heapAfterRound = [];
  const perRound = Math.ceil(REPS / 2);
  for (let round = 1; round <= 2; round++) {
    for (const c of CONCURRENCIES) {
      for (let rep = 0; rep < perRound; rep++) {
        const order = rep % 2 === 0 ? ["quiesce", "bare"] : ["bare", "quiesce"];
        for (const mode of order) {
          let run = await modes[mode](c, jobs[c]);
          // Too short to say much: size N up from what this run saw, and run again.
          for (let retry = 0; run.seconds < MIN_S && retry < 3 && jobs[c] < MAX_JOBS; retry++) {
            jobs[c] = roundJobs((run.jobs / run.seconds) * TARGET_S);
            log(`c=${c} ${mode}: run took ${run.seconds.toFixed(2)} s < ${MIN_S} s; again with N=${fmt(jobs[c])}`);
            run = await modes[mode](c, jobs[c]);
          }
          runs[c][mode].push(run);
        }
      }
      const show = (mode) => runs[c][mode].map((r) => fmt(r.jobs / r.seconds)).join(", ");
      log(`round ${round} c=${c}: quiesce ${show("quiesce")} | bare ${show("bare")}`);
    }
    heapAfterRound.push(heapMb());
    log(`round ${round}: heapUsed ${heapAfterRound.at(-1).toFixed(2)} MB after GC`);
  }

  // --- report ------------------------------------------------------------------------------------
  const lines = [
    "### Memory source, no-op handler: throughput",
    "",
    `Median of ${perRound * 2} runs per cell (two rounds of ${perRound}, modes interleaved), min–max in brackets; every run >= ${MIN_S} s timed. ` +
      `N = messages per source. quiesce: one worker over N messages. bare: receive up to \`concurrency\`, run the handler, ack, repeat, ` +
      `in passes over fresh N-message sources until >= ${MIN_S} s.`,
    "",
    "| concurrency | quiesce jobs/s | bare jobs/s | quiesce / bare | overhead µs/job | N | bare passes/run |",
    "|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const summary = [];
  for (const c of CONCURRENCIES) {
    const rates = (mode) => runs[c][mode].map((r) => r.jobs / r.seconds);
    const q = median(rates("quiesce"));
    const b = median(rates("bare"));
    const range = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
    const overhead = 1e6 / q - 1e6 / b;
    summary.push({ concurrency: c, quiesce: q, bare: b, ratio: q / b, overheadUs: overhead });
    lines.push(
      `| ${c} | ${fmt(q)} [${range(rates("quiesce"))}] | ${fmt(b)} [${range(rates("bare"))}] | ${(q / b).toFixed(3)} | ${overhead.toFixed(2)} | ${fmt(jobs[c])} | ${median(runs[c].bare.map((r) => r.passes))} |`,
    );
  }
  const growth = heapAfterRound[1] - heapAfterRound[0];
  const sign = (x) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(2);
  lines.push(
    "",
    "### Memory source bench: heap after GC",
    "",
    "| after warm-up | after round 1 | after round 2 | round 1 → 2 | workers created per round |",
    "|---:|---:|---:|---:|---:|",
    `| ${heapWarm.toFixed(2)} MB | ${heapAfterRound[0].toFixed(2)} MB | ${heapAfterRound[1].toFixed(2)} MB | ${sign(growth)} MB | ${CONCURRENCIES.length * perRound} |`,
    "",
    `SDK ${sdkUrl.pathname}. Node ${process.version}, ${os.availableParallelism?.() ?? os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? "?"}), load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")} at the end; bench took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  if (process.env.BENCH_JSON) process.stderr.write(`${JSON.stringify({ summary, heapWarm, heapAfterRound })}\n`);
}

await main();
