#!/usr/bin/env node
/**
 * The Kubernetes pod reporter under load: job throughput with the reporter on vs off, and how
 * often it writes the pod (issue 5: "at 1,000 no-op jobs/s (memory source): throughput ratio
 * >= 0.99, writes only on transitions").
 *
 * The API server is the tests' fake (test/harness/k8s-fake.ts: GET and PATCH
 * /api/v1/namespaces/{ns}/pods/{name}, patch kinds by content type, bearer token checked, every
 * request recorded with its arrival time and body), run in a child process on 127.0.0.1 by
 * bench/lib/kube-api-fake.mjs so that its CPU is not charged to the worker under test, as a real
 * API server's would not be. The worker gets a kubeconfig for it (plain HTTP:
 * `insecure-skip-tls-verify: true`, a token user) through the `kubernetes` option; the real
 * @kubernetes/client-node (the SDK's copy) talks to it.
 *
 * Every worker: memory source, `async () => {}` handler, concurrency 1, HTTP off, its own fresh
 * pod (reporter on) or `kubernetes: false` (off). Scenarios, all in one process and run:
 *   1. paced: jobs added at 1,000/s on a drift-free schedule (a timer every ms adds whatever is
 *      due by the clock), PACED_S seconds per run, modes interleaved off, on, on, off (ROUNDS
 *      rounds). Per run: completed jobs/s (from the first job's due time to the last completion),
 *      latency from due time to completion, CPU µs per job (process.cpuUsage over the window),
 *      and every pod write with what it said.
 *   2. unpaced: more jobs pre-filled than the worker can do, as fast as it goes, counted for
 *      UNPACED_S (2.6) s from the first completion, long enough that the busy mark (busyAfterMs
 *      2000) is written while it runs; modes alternated, UNPACED_REPS each. Jobs/s and CPU µs
 *      per job: the reporter's own per-job cost, with nothing else in the way.
 *   3. flapping: 500 ms bursts at 1,000 jobs/s separated by 1 s idle gaps, reporter on, with
 *      busyAfterMs 100 (every burst is a busy spell, every gap an idle one: 2 transitions per
 *      1.5 s) for FLAP_S seconds, and with the default busyAfterMs 2000 (bursts too short to
 *      count as busy) for a shorter spell.
 *
 *   node --expose-gc bench/kubernetes-reporter.mjs          (after `pnpm run build`; about 3.5 min)
 *   BENCH_PACED_S=5 BENCH_FLAP_S=6 BENCH_UNPACED_REPS=1 node bench/kubernetes-reporter.mjs   (quick look)
 *   (also BENCH_ROUNDS, default 2; BENCH_UNPACED_S, default 2.6; BENCH_FLAP_DEFAULT_S, default 12)
 *   QUIESCE_BENCH_SDK=/path/to/sdk/dist/index.js node bench/kubernetes-reporter.mjs       (another build)
 *
 * Markdown goes to stdout; progress to stderr.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startKubeApiFake, writeKubeconfig } from "./lib/kube-api-fake.mjs";
import { exposeGc, fmt, median, quantile } from "./lib/stats.mjs";

const TOKEN = "bench-token";
const NAMESPACE = "bench";

await main();

async function main() {
  const log = (line) => process.stderr.write(`[kubernetes-reporter] ${line}\n`);
  const num = (name, fallback) => {
    const value = Number(process.env[name] ?? fallback);
    if (!(value > 0 && Number.isFinite(value))) throw new Error(`${name} must be a positive number`);
    return value;
  };
  const RATE = 1000; // jobs/s, the issue's figure
  const PACED_S = num("BENCH_PACED_S", 30);
  const ROUNDS = Math.round(num("BENCH_ROUNDS", 2));
  const UNPACED_REPS = Math.round(num("BENCH_UNPACED_REPS", 4));
  const UNPACED_S = num("BENCH_UNPACED_S", 2.6);
  const FLAP_S = num("BENCH_FLAP_S", 30);
  const FLAP_DEFAULT_S = Math.min(FLAP_S, num("BENCH_FLAP_DEFAULT_S", 12));
  const BURST_MS = 500;
  const GAP_MS = 1000;
  /** busyAfterMs of the paced and unpaced runs (the SDK's default is 0), and the reporter's minimum interval and jitter, for the bound. */
  const DEFAULT_BUSY_AFTER_MS = 2000;
  const FLAP_BUSY_AFTER_MS = 100;
  const MIN_INTERVAL_MS = 1000;
  const JITTER_MS = 250;
  /** Before the load starts (the start-up write lands) and after it ends (quiet spell 200 ms, then the idle write). */
  const SETTLE_MS = 300;
  const TAIL_MS = 1200;
  /** The whole bench is killed past this, whatever the settings (run.mjs has its own, longer, limit). */
  const WATCHDOG_MS = Number(process.env.BENCH_WATCHDOG_MS ?? 6 * 60_000);

  const sdkUrl = process.env.QUIESCE_BENCH_SDK
    ? new URL(process.env.QUIESCE_BENCH_SDK, `file://${process.cwd()}/`)
    : new URL("../packages/sdk/dist/index.js", import.meta.url);
  let sdk;
  try {
    sdk = await import(sdkUrl.href);
  } catch (error) {
    process.stderr.write(`kubernetes-reporter bench: cannot load ${sdkUrl.pathname} (run \`pnpm run build\` first): ${error.message}\n`);
    process.exit(1);
  }
  const { createWorker, createMemorySource, createJsonLogger } = sdk;

  const started = performance.now();
  const gc = exposeGc();
  const noop = async () => {};
  const warnings = [];
  // Only warnings and errors, on stderr and counted: a reporter that turned itself off must not pass unseen.
  const logger = createJsonLogger("warn", (line) => {
    warnings.push(line);
    process.stderr.write(`[kubernetes-reporter] worker log: ${line}`);
  });

  // --- fake API server and kubeconfig --------------------------------------------------------------
  const dir = mkdtempSync(join(os.tmpdir(), "quiesce-bench-k8s-"));
  const api = await startKubeApiFake({ token: TOKEN });
  const cleanup = () => {
    api.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS / 1000} s, giving up`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const kubeconfig = writeKubeconfig(dir, { port: api.port, token: TOKEN, namespace: NAMESPACE });
  log(`fake API server on 127.0.0.1:${api.port} (pid ${api.pid}); kubeconfig ${kubeconfig}`);

  let podSeq = 0;
  async function newPod() {
    const name = `bench-worker-${++podSeq}`;
    await api.call({ op: "addPod", namespace: NAMESPACE, name });
    return name;
  }

  function makeWorker(mode, source, podName, busyAfterMs) {
    return createWorker({
      source,
      handler: noop,
      concurrency: 1,
      http: false,
      handleSignals: false,
      exitWhenEmpty: false,
      logger,
      kubernetes: mode === "on" ? { podName, namespace: NAMESPACE, kubeconfig, busyAfterMs } : false,
    });
  }

  /**
   * One worker over a schedule of due times (ms from the load start): start it, wait SETTLE_MS,
   * add each job when it is due, wait for the last completion, wait TAIL_MS, drain. Returns the
   * measurements and the fake's record of the pod.
   */
  async function scheduledRun(mode, due, { busyAfterMs = DEFAULT_BUSY_AFTER_MS, label } = {}) {
    const n = due.length;
    const podName = mode === "on" ? await newPod() : null;
    const source = createMemorySource({ leaseMs: 600_000 });
    const worker = makeWorker(mode, source, podName, busyAfterMs);
    const latency = new Float64Array(n);
    let t0 = 0;
    let done = 0;
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    worker.on("job:completed", ({ id }) => {
      const now = performance.now();
      const i = Number(id) - 1; // memory source ids are 1, 2, 3… in order of add()
      latency[i] = now - t0 - due[i];
      if (++done === n) finish(now);
    });
    gc();
    const marks = { start: Date.now() };
    await worker.start();
    await sleep(SETTLE_MS);
    marks.load = Date.now();
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    const produced = produce(source, due, t0);
    const t1 = await finished;
    const cpu = process.cpuUsage(cpu0);
    marks.loadEnd = Date.now();
    await produced;
    await sleep(TAIL_MS);
    marks.drain = Date.now();
    const report = await worker.drain("bench");
    marks.end = Date.now();
    const left = source.snapshot();
    if (report.completed !== n || left.completed !== n || left.waiting !== 0) {
      throw new Error(`${label ?? mode} run inconsistent: completed ${report.completed}/${left.completed} of ${n}, left ${JSON.stringify(left)}`);
    }
    const pod = podName ? await api.call({ op: "requests", namespace: NAMESPACE, name: podName }) : undefined;
    const sorted = [...latency].sort((a, b) => a - b);
    return {
      mode,
      jobs: n,
      seconds: (t1 - t0) / 1000,
      rate: n / ((t1 - t0) / 1000),
      cpuUsPerJob: (cpu.user + cpu.system) / n,
      userUsPerJob: cpu.user / n,
      systemUsPerJob: cpu.system / n,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted[n - 1],
      marks,
      podName,
      requests: pod?.requests ?? [],
      finalAnnotations: pod?.pod?.metadata?.annotations ?? {},
    };
  }

  /**
   * One unpaced run: `fill` pre-filled jobs, as fast as the worker goes; counted from the first
   * completion for `seconds` (or to the last completion, if the queue runs dry first). The jobs left
   * over are dropped with the source.
   */
  async function unpacedRun(mode, fill, seconds) {
    const podName = mode === "on" ? await newPod() : null;
    const source = createMemorySource({ leaseMs: 600_000 });
    for (let i = 0; i < fill; i++) source.add(i);
    const worker = makeWorker(mode, source, podName, DEFAULT_BUSY_AFTER_MS);
    let done = 0;
    let first = 0;
    let firstWall = 0;
    let cpu0;
    let finish;
    let timer;
    const finished = new Promise((resolve) => (finish = resolve));
    const stop = () => {
      clearTimeout(timer);
      finish({ t: performance.now(), cpu: process.cpuUsage(cpu0), wall: Date.now(), jobs: done - 1 });
    };
    worker.on("job:completed", () => {
      if (++done === 1) {
        first = performance.now();
        firstWall = Date.now();
        cpu0 = process.cpuUsage();
        // The loop yields a macrotask every 10 ms, so this fires within about that of its time.
        timer = setTimeout(stop, seconds * 1000);
      } else if (done === fill) {
        stop();
      }
    });
    gc();
    await worker.start();
    const end = await finished;
    const report = await worker.drain("bench");
    if (report.completed < end.jobs + 1) throw new Error(`unpaced ${mode} run: drain report says ${report.completed} completed, counted ${end.jobs + 1}`);
    const pod = podName ? await api.call({ op: "requests", namespace: NAMESPACE, name: podName }) : undefined;
    const patchesTimed = (pod?.requests ?? []).filter((r) => r.method === "PATCH" && r.at >= firstWall && r.at <= end.wall);
    return {
      mode,
      jobs: end.jobs,
      ranDry: done >= fill,
      seconds: (end.t - first) / 1000,
      rate: end.jobs / ((end.t - first) / 1000),
      cpuUsPerJob: (end.cpu.user + end.cpu.system) / end.jobs,
      patchesTimed,
    };
  }

  // --- warm-up: JIT both paths, load client-node once, size the unpaced runs -------------------------
  log("warm-up");
  await scheduledRun("off", pacedDue(RATE, 2), { label: "warm-up" });
  await scheduledRun("on", pacedDue(RATE, 2), { label: "warm-up" });
  const warmOff = await unpacedRun("off", 50_000, 0.5);
  const warmOn = await unpacedRun("on", 50_000, 0.5);
  // Enough that the queue never runs dry even if the machine speeds up by half again.
  const warmRate = Math.max(warmOff.rate, warmOn.rate);
  const unpacedFill = Math.min(1_000_000, Math.ceil((warmRate * UNPACED_S * 2.5) / 10_000) * 10_000);
  log(`warm-up: unpaced ~${fmt(warmOff.rate)} (off) / ~${fmt(warmOn.rate)} (on) jobs/s -> ${fmt(unpacedFill)} jobs pre-filled per run`);

  // --- 1. paced 1,000 jobs/s, off / on interleaved -----------------------------------------------------
  const paced = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // off, on, then on, off: a drift over the bench (JIT, neighbours) cannot favour one side.
    for (const mode of round % 2 === 1 ? ["off", "on"] : ["on", "off"]) {
      const run = await scheduledRun(mode, pacedDue(RATE, PACED_S));
      run.round = round;
      paced.push(run);
      const patches = run.requests.filter((r) => r.method === "PATCH");
      log(`paced round ${round} ${mode}: ${fmt(run.rate, 1)} jobs/s, p99 ${run.p99.toFixed(2)} ms, ${run.cpuUsPerJob.toFixed(1)} µs CPU/job${mode === "on" ? `, ${patches.length} PATCHes` : ""}`);
    }
  }

  // --- 2. unpaced, off / on alternated -----------------------------------------------------------------
  const unpaced = [];
  for (let rep = 0; rep < UNPACED_REPS; rep++) {
    for (const mode of rep % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
      const run = await unpacedRun(mode, unpacedFill, UNPACED_S);
      unpaced.push(run);
      log(`unpaced ${mode}: ${fmt(run.rate)} jobs/s over ${run.seconds.toFixed(2)} s${run.ranDry ? " (queue ran dry)" : ""}, ${run.cpuUsPerJob.toFixed(2)} µs CPU/job, PATCHes in the window: ${run.patchesTimed.length}`);
    }
  }

  // --- 3. flapping ----------------------------------------------------------------------------------------
  const flapFast = await scheduledRun("on", flappingDue(RATE, BURST_MS, GAP_MS, FLAP_S), { busyAfterMs: FLAP_BUSY_AFTER_MS, label: "flapping" });
  log(`flapping (busyAfterMs ${FLAP_BUSY_AFTER_MS}): ${flapFast.requests.filter((r) => r.method === "PATCH").length} PATCHes`);
  const flapDefault = await scheduledRun("on", flappingDue(RATE, BURST_MS, GAP_MS, FLAP_DEFAULT_S), { label: "flapping" });
  log(`flapping (busyAfterMs ${DEFAULT_BUSY_AFTER_MS}): ${flapDefault.requests.filter((r) => r.method === "PATCH").length} PATCHes`);

  await api.close();

  // --- report ---------------------------------------------------------------------------------------------
  const lines = [];
  const out = (...more) => lines.push(...more);
  const pacedBy = (mode) => paced.filter((r) => r.mode === mode);
  const unpacedBy = (mode) => unpaced.filter((r) => r.mode === mode);
  const medianOf = (runs, key) => median(runs.map((r) => r[key]));
  const range = (runs, key, digits = 0) => `${fmt(Math.min(...runs.map((r) => r[key])), digits)}–${fmt(Math.max(...runs.map((r) => r[key])), digits)}`;

  const pacedRatio = medianOf(pacedBy("on"), "rate") / medianOf(pacedBy("off"), "rate");
  const unpacedRatio = medianOf(unpacedBy("on"), "rate") / medianOf(unpacedBy("off"), "rate");
  const unpacedCpuRatio = medianOf(unpacedBy("on"), "cpuUsPerJob") / medianOf(unpacedBy("off"), "cpuUsPerJob");
  const allPatches = [...paced, flapFast, flapDefault].flatMap((r) => r.requests.filter((q) => q.method === "PATCH"));
  const failedRequests = [...paced, flapFast, flapDefault].flatMap((r) => r.requests.filter((q) => q.status !== 200));

  out(
    "### Throughput at 1,000 no-op jobs/s, reporter off vs on",
    "",
    `Memory source, \`async () => {}\`, concurrency 1; jobs added on a fixed schedule of ${fmt(RATE)}/s for ${PACED_S} s per run ` +
      `(${fmt(RATE * PACED_S)} jobs), runs interleaved off, on${ROUNDS > 1 ? ", on, off, … " : " "}(${ROUNDS} round${ROUNDS > 1 ? "s" : ""}). jobs/s = jobs / (first due time → last completion); ` +
      "latency = due time → completion; CPU = the whole bench process (user + system) over the same window, per job. " +
      `Reporter on: a fresh pod per run, busy after ${DEFAULT_BUSY_AFTER_MS} ms (the SDK's default is 0; 2000 here so the busy mark lands mid-run), idle after the 200 ms quiet spell.`,
    "",
    "| round | reporter | completed jobs/s | latency p50 / p99 / max ms | CPU µs/job (user + sys) | PATCHes during the load |",
    "|---:|---|---:|---:|---:|---:|",
  );
  for (const run of paced) {
    const during = run.mode === "on" ? String(patchesBetween(run, run.marks.load, run.marks.loadEnd).length) : "—";
    out(`| ${run.round} | ${run.mode} | ${fmt(run.rate, 1)} | ${run.p50.toFixed(2)} / ${run.p99.toFixed(2)} / ${run.max.toFixed(1)} | ${run.cpuUsPerJob.toFixed(1)} (${run.userUsPerJob.toFixed(1)} + ${run.systemUsPerJob.toFixed(1)}) | ${during} |`);
  }
  out(
    "",
    "| reporter | median jobs/s | median CPU µs/job | median p99 latency ms |",
    "|---|---:|---:|---:|",
    ...["off", "on"].map((mode) => `| ${mode} | ${fmt(medianOf(pacedBy(mode), "rate"), 1)} | ${medianOf(pacedBy(mode), "cpuUsPerJob").toFixed(1)} | ${medianOf(pacedBy(mode), "p99").toFixed(2)} |`),
    "",
    `Throughput ratio on / off (medians): **${pacedRatio.toFixed(4)}** (target ≥ 0.99: ${pacedRatio >= 0.99 ? "met" : "NOT met"}).`,
    "",
  );

  out(
    "### Unpaced: as fast as the worker goes, reporter off vs on",
    "",
    `${fmt(unpacedFill)} jobs pre-filled per run (more than it can do), counted for ${UNPACED_S} s from the first completion, ` +
      `long enough for the busy mark (after ${DEFAULT_BUSY_AFTER_MS} ms) to be written mid-run; ${UNPACED_REPS} runs per mode, alternated. ` +
      "CPU µs/job: the bench process's user + system time over the same window, per job. " +
      "On a shared machine the wall-clock rate moves with the neighbours (a process waiting for a CPU does no work and uses no CPU time); CPU per job is the steadier figure.",
    "",
    "| reporter | median jobs/s [min–max] | median CPU µs/job [min–max] | PATCHes inside each counted window |",
    "|---|---:|---:|---|",
    ...["off", "on"].map((mode) => {
      const runs = unpacedBy(mode);
      const patches = mode === "on" ? runs.map((r) => r.patchesTimed.map((p) => stateOf(p.body) ?? "?").join(" + ") || "none").join("; ") : "—";
      return `| ${mode} | ${fmt(medianOf(runs, "rate"))} [${range(runs, "rate")}] | ${medianOf(runs, "cpuUsPerJob").toFixed(2)} [${range(runs, "cpuUsPerJob", 2)}] | ${patches} |`;
    }),
    "",
    `Ratio on / off (medians): jobs/s **${unpacedRatio.toFixed(3)}**; CPU per job ${unpacedCpuRatio.toFixed(3)} ` +
      `(on − off: ${(medianOf(unpacedBy("on"), "cpuUsPerJob") - medianOf(unpacedBy("off"), "cpuUsPerJob")).toFixed(2)} µs).` +
      (unpaced.some((r) => r.ranDry) ? " Some runs ran the queue dry and were counted to their last completion." : ""),
    "",
  );

  out(
    "### Pod writes with the reporter on (paced runs)",
    "",
    "Every PATCH the fake API server received, in order. t = seconds since the worker's `start()`; " +
      "\"when\": before the load, during it (first due time → last completion), after it (quiet spell), or in the drain. " +
      "A write is a transition when the state it writes differs from the pod's previous one.",
    "",
    "| run | t s | when | state written | other keys in the patch | transition? |",
    "|---|---:|---|---|---|---|",
  );
  let nonTransitions = 0;
  for (const run of pacedBy("on")) {
    for (const row of describeWrites(run)) {
      if (!row.transition) nonTransitions++;
      out(`| round ${run.round} (${run.podName}) | ${row.t} | ${row.when} | ${row.state} | ${row.others} | ${row.transition ? "yes" : "**no**"} |`);
    }
  }
  const onRuns = pacedBy("on");
  const loadWrites = onRuns.map((r) => patchesBetween(r, r.marks.load, r.marks.loadEnd).length);
  const loadMinutes = onRuns.map((r) => (r.marks.loadEnd - r.marks.load) / 60_000);
  const lifeWrites = onRuns.map((r) => r.requests.filter((q) => q.method === "PATCH").length);
  const lifeMinutes = onRuns.map((r) => (r.marks.end - r.marks.start) / 60_000);
  const perMinute = (writes, minutes) => writes.reduce((a, b) => a + b, 0) / minutes.reduce((a, b) => a + b, 0);
  out(
    "",
    "| | PATCHes | per minute |",
    "|---|---:|---:|",
    `| during the load (${fmt(RATE)} jobs/s, ${onRuns.length} × ${PACED_S} s) | ${loadWrites.reduce((a, b) => a + b, 0)} | ${perMinute(loadWrites, loadMinutes).toFixed(1)} |`,
    `| worker lifetime (start → drained, ${onRuns.length} workers) | ${lifeWrites.reduce((a, b) => a + b, 0)} | ${perMinute(lifeWrites, lifeMinutes).toFixed(1)} |`,
    "",
  );

  const flapRows = [
    { run: flapFast, busyAfterMs: FLAP_BUSY_AFTER_MS, seconds: FLAP_S },
    { run: flapDefault, busyAfterMs: DEFAULT_BUSY_AFTER_MS, seconds: FLAP_DEFAULT_S },
  ];
  out(
    "### Flapping: bursts separated by idle gaps",
    "",
    `${BURST_MS} ms bursts at ${fmt(RATE)} jobs/s, then ${GAP_MS} ms without jobs, repeated; reporter on. With busyAfterMs ${FLAP_BUSY_AFTER_MS} ` +
      `every burst is a busy spell and every gap (> the 200 ms quiet spell) an idle one: 2 transitions per ${(BURST_MS + GAP_MS) / 1000} s, ` +
      `${fmt((2 * 60_000) / (BURST_MS + GAP_MS))} a minute asked for. The reporter's minimum interval (${MIN_INTERVAL_MS} ms + up to ${JITTER_MS} ms jitter, latest ` +
      `value wins) spaces the busy marks; the idle mark goes at once (it ends a spell the scaler should see ended), so at most one ` +
      `busy and one idle write per interval: ${fmt((2 * 60_000) / MIN_INTERVAL_MS)} a minute. Counted from the first due time to ${TAIL_MS / 1000} s after the last completion.`,
    "",
    "| busyAfterMs | schedule s | bursts | transitions asked for | PATCHes | per minute | bound /min | min gap between writes ms | states written | all transitions? |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
  );
  for (const { run, busyAfterMs, seconds } of flapRows) {
    const bursts = Math.ceil((seconds * 1000) / (BURST_MS + GAP_MS));
    const asked = busyAfterMs < BURST_MS ? 2 * bursts : 0;
    const windowWrites = patchesBetween(run, run.marks.load, run.marks.drain);
    const minutes = (run.marks.drain - run.marks.load) / 60_000;
    const gaps = windowWrites.slice(1).map((p, i) => p.at - windowWrites[i].at);
    const rows = describeWrites(run).filter((row) => row.when === "load" || row.when === "after load");
    const allTransitions = describeWrites(run).every((row) => row.transition);
    if (!allTransitions) nonTransitions++;
    const tally = new Map();
    for (const row of rows) tally.set(row.state, (tally.get(row.state) ?? 0) + 1);
    const counts = [...tally].map(([state, count]) => `${count} ${state}`).join(", ");
    const alternating = rows.every((r, i) => i === 0 || r.state !== rows[i - 1].state);
    const states = rows.length === 0 ? "none" : `${counts}${alternating && rows.length > 1 ? `, alternating (${rows[0].state} first)` : ""}`;
    out(
      `| ${busyAfterMs} | ${fmt((bursts * (BURST_MS + GAP_MS)) / 1000, 1)} | ${bursts} | ${asked} | ${windowWrites.length} | ${(windowWrites.length / minutes).toFixed(1)} | ${fmt((2 * 60_000) / MIN_INTERVAL_MS)} | ${gaps.length ? fmt(Math.min(...gaps)) : "—"} | ${states} | ${allTransitions ? "yes" : "**no**"} |`,
    );
  }
  out(
    "",
    `Throughout: ${allPatches.length} PATCHes, all \`${[...new Set(allPatches.map((p) => (p.contentType ?? "").split(";")[0]))].join("`, `")}\`; ` +
      `${failedRequests.length} requests answered other than 200; ${nonTransitions === 0 ? "every write was a transition" : `**${nonTransitions} write(s) or scenario(s) not transitions**`}; ` +
      `${warnings.length} worker warnings.`,
    "",
    `SDK ${sdkUrl.pathname}. Node ${process.version}, ${os.availableParallelism?.() ?? os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? "?"}), ` +
      `load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} at the end; bench took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  clearTimeout(watchdog);
  cleanup();
  process.off("exit", cleanup);
  if (process.env.BENCH_JSON) {
    process.stderr.write(`${JSON.stringify({ pacedRatio, unpacedRatio, paced: paced.map(({ requests, latency, ...r }) => r), unpaced: unpaced.map(({ patchesTimed, ...r }) => r) })}\n`);
  }

  // --- helpers that need the run context --------------------------------------------------------------

  function patchesBetween(run, from, to) {
    return run.requests.filter((r) => r.method === "PATCH" && r.at >= from && r.at <= to);
  }

  function describeWrites(run) {
    let previous; // the pod starts with no annotations
    let previousCost;
    return run.requests
      .filter((r) => r.method === "PATCH")
      .map((r) => {
        const annotations = r.body?.metadata?.annotations ?? {};
        const state = stateOf(r.body);
        const cost = annotations["controller.kubernetes.io/pod-deletion-cost"];
        const transition = (state !== undefined && state !== previous) || (cost !== undefined && cost !== previousCost && state === previous);
        if (state !== undefined) previous = state;
        if (cost !== undefined) previousCost = cost;
        const when = r.at < run.marks.load ? "start" : r.at <= run.marks.loadEnd ? "load" : r.at < run.marks.drain ? "after load" : "drain";
        const others = Object.entries(annotations)
          .filter(([key]) => key !== "quiesce.dev/state")
          .map(([key, value]) => `${shortKey(key)}${value === null ? " removed" : ` "${value}"`}`)
          .join(", ");
        return { t: ((r.at - run.marks.start) / 1000).toFixed(2), when, state: state ?? "(none)", others: others || "—", transition };
      });
  }
}

function stateOf(body) {
  return body?.metadata?.annotations?.["quiesce.dev/state"] ?? undefined;
}

function shortKey(key) {
  return (
    {
      "controller.kubernetes.io/pod-deletion-cost": "deletion-cost",
      "cluster-autoscaler.kubernetes.io/safe-to-evict": "safe-to-evict",
      "karpenter.sh/do-not-disrupt": "do-not-disrupt",
    }[key] ?? key
  );
}

/** Due times (ms from the start) of `seconds` of jobs at `rate` per second. */
function pacedDue(rate, seconds) {
  const n = Math.round(rate * seconds);
  const due = new Float64Array(n);
  for (let i = 0; i < n; i++) due[i] = (i * 1000) / rate;
  return due;
}

/** Bursts of `burstMs` at `rate` per second, each followed by `gapMs` without jobs, for `seconds`. */
function flappingDue(rate, burstMs, gapMs, seconds) {
  const perBurst = Math.round((rate * burstMs) / 1000);
  const bursts = Math.ceil((seconds * 1000) / (burstMs + gapMs));
  const due = new Float64Array(perBurst * bursts);
  for (let b = 0; b < bursts; b++) {
    for (let j = 0; j < perBurst; j++) due[b * perBurst + j] = b * (burstMs + gapMs) + (j * 1000) / rate;
  }
  return due;
}

/**
 * Add each job when it is due by the clock: a timer every millisecond while jobs are due soon (a
 * late tick adds everything that fell due meanwhile, so lateness never accumulates), a longer one
 * across a gap. Payload: the job's index.
 */
function produce(source, due, t0) {
  const n = due.length;
  let next = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      while (next < n && due[next] <= elapsed) source.add(next++);
      if (next >= n) return resolve();
      setTimeout(tick, Math.max(1, Math.floor(due[next] - (performance.now() - t0))));
    };
    tick();
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
