#!/usr/bin/env node
/**
 * RabbitMQ no-op throughput: raw amqplib (consume + ack) vs quiesce (`createWorker` +
 * `createAmqpSource`) draining the same kind of queue on the same broker, in the same run.
 *
 * For each prefetch (10, 100) and each repetition, in rotated order:
 *   - raw: `connect()`, a channel, `prefetch(P)`, `consume(queue, async (msg) => { await
 *     noop(JSON.parse(msg.content)); channel.ack(msg); })`, timed from `connect()` to the N-th ack,
 *     then closed (channel first);
 *   - quiesce: `createWorker({ source: createAmqpSource({ queue, url }), concurrency: P, handler:
 *     noop })` (the source's prefetch defaults to the concurrency), timed from `start()` (which
 *     connects) to the N-th `job:completed`, then drained;
 *   - source only: the same `createAmqpSource({ prefetch: P })` driven by the least loop any
 *     runtime needs (receive up to the free slots, run the handler, ack). It splits the gap:
 *     source only vs raw is the adapter's cost, quiesce vs source only the runtime's.
 * Each run gets a fresh durable classic queue pre-filled with N = 50,000 persistent messages
 * (publisher confirms; filling is not timed) and deleted afterwards, after checking it is empty.
 * The bench starts its own RabbitMQ node through the test harness (test/harness/rabbitmq.ts,
 * compiled to bench/results/harness/ with the workspace's tsc) and stops it at the end.
 * Reported: median messages/s per mode (best run alongside), the ratios to raw (target for quiesce
 * >= 0.97), and the CPU this process spent per message during the timed part (user + system, µs).
 *
 *   node bench/amqp.mjs                            (after `pnpm run build`; about 6 minutes)
 *   BENCH_REPS=5 BENCH_JOBS=50000 node bench/amqp.mjs
 *
 * Markdown goes to stdout; progress to stderr.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { adapterRequire, loadBuilt } from "./lib/built.mjs";
import { startRabbitmq } from "./lib/rabbitmq.mjs";
import { fmt } from "./lib/stats.mjs";
import { best, counter, driveSource, interleaved, log, rate } from "./lib/throughput.mjs";

// The same amqplib copy the adapter resolves.
const amqplib = adapterRequire("amqplib");
const { sdk, adapter } = await loadBuilt("amqp", "amqp");

const PREFETCHES = (process.env.BENCH_PREFETCHES ?? "10,100").split(",").map(Number);
const JOBS = Number(process.env.BENCH_JOBS ?? 50_000);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const WARMUP_JOBS = 10_000;
const noop = async () => {};

// ---- one run per mode -----------------------------------------------------------------------------

let runSeq = 0;

async function filledQueue(url, n) {
  const name = `bench-${process.pid}-${++runSeq}`;
  const admin = await amqplib.connect(url);
  const channel = await admin.createConfirmChannel();
  await channel.assertQueue(name, { durable: true });
  const body = Buffer.from(JSON.stringify({ n: 0 }));
  const chunk = 5_000;
  for (let i = 0; i < n; i += chunk) {
    for (let k = i; k < Math.min(n, i + chunk); k++) channel.sendToQueue(name, body, { persistent: true, contentType: "application/json" });
    await channel.waitForConfirms();
  }
  return {
    name,
    async check(mode) {
      const { messageCount, consumerCount } = await channel.checkQueue(name);
      await channel.deleteQueue(name);
      await admin.close();
      if (messageCount !== 0 || consumerCount !== 0) throw new Error(`${mode} run inconsistent: ${messageCount} ready, ${consumerCount} consumers left of ${n}`);
    },
  };
}

async function runRaw(url, prefetch, n) {
  const queue = await filledQueue(url, n);
  const { finished, begin, tick } = counter(n);
  begin();
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch);
  await channel.consume(queue.name, async (message) => {
    // The payload decoded as the source does (JSON), so both sides do the same work per message.
    await noop(JSON.parse(message.content.toString("utf8")));
    channel.ack(message);
    tick();
  });
  const run = await finished;
  // Channel first: its close-ok comes after the broker applied every ack sent before it.
  await channel.close();
  await connection.close();
  await queue.check("raw");
  return run;
}

async function runQuiesce(url, prefetch, n) {
  const queue = await filledQueue(url, n);
  const { finished, begin, tick } = counter(n);
  const worker = sdk.createWorker({
    source: adapter.createAmqpSource({ queue: queue.name, url }),
    handler: noop,
    concurrency: prefetch,
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
  await queue.check("quiesce");
  return run;
}

async function runSourceOnly(url, prefetch, n) {
  const queue = await filledQueue(url, n);
  const { finished, begin, tick } = counter(n);
  const source = adapter.createAmqpSource({ queue: queue.name, url, prefetch });
  begin();
  await source.start();
  await driveSource(source, prefetch, n, noop, tick);
  const run = await finished;
  await source.stop();
  await queue.check("source only");
  return run;
}

const allModes = { raw: runRaw, quiesce: runQuiesce, source: runSourceOnly };
// BENCH_MODES=source (for a profile of one path); the table needs all three.
const modes = Object.fromEntries((process.env.BENCH_MODES ?? "raw,quiesce,source").split(",").map((m) => [m, allModes[m]]));
async function main() {
  const started = performance.now();
  const broker = await startRabbitmq();
  const { url } = broker;
  log(`amqp bench: RabbitMQ on ${url.replace(/:[^:@/]*@/, ":***@")}, ${fmt(JOBS)} messages per run, ${REPS} runs per mode`);
  let rows;
  try {
    rows = await interleaved({
      settings: PREFETCHES,
      modes: Object.keys(modes),
      reps: REPS,
      jobs: JOBS,
      warmupJobs: WARMUP_JOBS,
      run: (mode, prefetch, n) => modes[mode](url, prefetch, n),
      label: "prefetch",
    });
  } finally {
    await broker.stop();
  }

  const cpus = os.cpus();
  const lines = [
    "## RabbitMQ: raw amqplib consume + ack vs quiesce (no-op jobs)",
    "",
    `${fmt(JOBS)} persistent messages per run on a durable classic queue, median of ${REPS} runs per mode (order rotated between runs, after a warm-up), one RabbitMQ node on loopback.`,
    `Node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${os.platform()} ${os.release()}.`,
    "",
    "| prefetch (= concurrency) | raw amqplib, msg/s | quiesce + createAmqpSource, msg/s | **quiesce / raw** (median, best) | source only, msg/s | CPU µs/msg raw / source only / quiesce |",
    "|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.setting} | ${rate(r, "raw")} | ${rate(r, "quiesce")} | **${fmt(r.quiesce / r.raw, 3)}**, ${fmt(best(r, "quiesce") / best(r, "raw"), 3)} | ${rate(r, "source")} | ${fmt(r.cpu.raw, 1)} / ${fmt(r.cpu.source, 1)} / ${fmt(r.cpu.quiesce, 1)} |`,
    ),
    "",
    "msg/s: median of the runs (best run in brackets: the one least slowed by neighbours). CPU: this process's user + system time per message during the timed part, median (the broker's CPU is not in it).",
    "",
    `Runs (msg/s): ${rows.map((r) => `prefetch=${r.setting} ${Object.keys(modes).map((mode) => `${mode} [${r.rates[mode].map((x) => fmt(x)).join(", ")}]`).join(", ")}`).join("; ")}.`,
    `Load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; total bench time ${fmt((performance.now() - started) / 1000, 1)} s.`,
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`amqp bench failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
