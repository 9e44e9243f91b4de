#!/usr/bin/env node
/**
 * SQS no-op throughput on the emulator fauxqs: a raw SDK loop vs the `sqs-consumer` package vs
 * quiesce (`createWorker` + `createSqsSource`), draining the same kind of queue in the same run.
 *
 * For 1 and 4 pollers' worth of concurrency (10 and 40 jobs at once) and each repetition, in
 * rotated order:
 *   - raw: P loops of `ReceiveMessage` (10 messages, 1 s long poll) → run the no-op handler for
 *     each → `DeleteMessageBatch`, until N messages are deleted;
 *   - sqs-consumer 14 (15 needs Node 22): P `Consumer`s (batchSize 10, `handleMessage` no-op with
 *     `alwaysAcknowledge`: it deletes each message on its own, its documented per-message path),
 *     counting `message_processed` (emitted after the delete) to N;
 *   - quiesce: `createWorker({ source: createSqsSource(...), concurrency: 10 × P })`, counting
 *     `job:completed` (after the delete) to N.
 * Each run gets a fresh queue pre-filled with N = 10,000 messages (filling is not timed) and
 * deleted afterwards; every run checks the queue is empty at its end. The bench starts its own
 * emulator (test/harness/fauxqs-server.mjs) on a free loopback port and stops it at the end; the
 * emulator runs in its own process on the same 2 cores, so its CPU is part of every figure.
 *
 *   node bench/sqs.mjs                         (after `pnpm run build`)
 *   BENCH_REPS=5 BENCH_JOBS=10000 node bench/sqs.mjs
 *
 * Markdown goes to stdout; progress to stderr.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { adapterRequire, loadBuilt } from "./lib/built.mjs";
import { fauxqsClientConfig, startFauxqs } from "./lib/fauxqs.mjs";
import { fmt } from "./lib/stats.mjs";
import { best, counter, interleaved, log, rate } from "./lib/throughput.mjs";

// The same client-sqs copy the adapter resolves.
const sqsSdk = adapterRequire("@aws-sdk/client-sqs");
const { Consumer } = await import("sqs-consumer");
const { sdk, adapter } = await loadBuilt("sqs", "sqs");

const POLLERS = [1, 4];
const BATCH = 10;
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const WARMUP_JOBS = 1_000;
const noop = async () => {};

// ---- one run per mode ---------------------------------------------------------------------------

let runSeq = 0;

async function filledQueue(admin, n) {
  const { QueueUrl } = await admin.send(new sqsSdk.CreateQueueCommand({ QueueName: `bench-${process.pid}-${++runSeq}` }));
  const body = JSON.stringify({ noop: true });
  const sends = [];
  for (let i = 0; i < n; i += BATCH) {
    const entries = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => ({ Id: String(k), MessageBody: body }));
    sends.push(admin.send(new sqsSdk.SendMessageBatchCommand({ QueueUrl, Entries: entries })));
    if (sends.length >= 20) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  return {
    url: QueueUrl,
    async check(mode) {
      const { Attributes } = await admin.send(
        new sqsSdk.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }),
      );
      await admin.send(new sqsSdk.DeleteQueueCommand({ QueueUrl }));
      const left = Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
      if (left !== 0) throw new Error(`${mode} run left ${left} messages`);
    },
  };
}

async function runRaw(env, pollers, n) {
  const queue = await filledQueue(env.admin, n);
  const count = counter(n);
  const client = new sqsSdk.SQSClient(fauxqsClientConfig(env.endpoint));
  count.begin();
  const loop = async () => {
    while (count.done < n) {
      const { Messages } = await client.send(
        new sqsSdk.ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: BATCH, WaitTimeSeconds: 1, VisibilityTimeout: 30 }),
      );
      if (!Messages?.length) continue;
      for (const message of Messages) await noop(message);
      const Entries = Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
      await client.send(new sqsSdk.DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries }));
      count.add(Messages.length);
    }
  };
  await Promise.all(Array.from({ length: pollers }, loop));
  const run = await count.finished;
  client.destroy();
  await queue.check("raw");
  return run;
}

async function runConsumer(env, pollers, n) {
  const queue = await filledQueue(env.admin, n);
  const count = counter(n);
  const client = new sqsSdk.SQSClient(fauxqsClientConfig(env.endpoint));
  const consumers = Array.from({ length: pollers }, () => {
    // alwaysAcknowledge: sqs-consumer 14 deletes only messages the handler returns; a no-op returns none.
    const consumer = Consumer.create({ queueUrl: queue.url, sqs: client, batchSize: BATCH, waitTimeSeconds: 1, visibilityTimeout: 30, handleMessage: noop, alwaysAcknowledge: true });
    consumer.on("message_processed", () => count.tick());
    consumer.on("error", (error) => log(`sqs-consumer error: ${error.message}`));
    return consumer;
  });
  count.begin();
  for (const consumer of consumers) consumer.start();
  const run = await count.finished;
  await Promise.all(consumers.map((consumer) => new Promise((resolve) => {
    consumer.once("stopped", resolve);
    consumer.stop({ abort: true });
  })));
  client.destroy();
  await queue.check("sqs-consumer");
  return run;
}

async function runQuiesce(env, pollers, n) {
  const queue = await filledQueue(env.admin, n);
  const count = counter(n);
  const worker = sdk.createWorker({
    source: adapter.createSqsSource({ queueUrl: queue.url, clientConfig: fauxqsClientConfig(env.endpoint), waitTimeSeconds: 1, visibilityTimeoutSeconds: 30 }),
    handler: noop,
    concurrency: BATCH * pollers,
    http: false,
    handleSignals: false,
    exitWhenEmpty: false,
    kubernetes: false,
  });
  worker.on("job:completed", () => count.tick());
  count.begin();
  await worker.start();
  const run = await count.finished;
  const report = await worker.drain("bench");
  if (report.completed !== n) throw new Error(`quiesce run completed ${report.completed} of ${n}`);
  await queue.check("quiesce");
  return run;
}

const modes = { raw: runRaw, consumer: runConsumer, quiesce: runQuiesce };
const ORDERS = [
  ["raw", "consumer", "quiesce"],
  ["quiesce", "raw", "consumer"],
  ["consumer", "quiesce", "raw"],
];

async function main() {
  const started = performance.now();
  const emulator = await startFauxqs();
  const env = { endpoint: emulator.endpoint, admin: new sqsSdk.SQSClient(fauxqsClientConfig(emulator.endpoint)) };
  log(`sqs bench: fauxqs on ${emulator.endpoint}, ${fmt(JOBS)} messages per run, ${REPS} runs per mode`);
  let rows;
  try {
    rows = await interleaved({
      settings: POLLERS,
      modes: Object.keys(modes),
      reps: REPS,
      jobs: JOBS,
      warmupJobs: WARMUP_JOBS,
      run: (mode, pollers, n) => modes[mode](env, pollers, n),
      label: "pollers",
      orders: ORDERS,
    });
  } finally {
    env.admin.destroy();
    await emulator.stop();
  }

  const cpus = os.cpus();
  const lines = [
    "## SQS (emulator fauxqs): raw ReceiveMessage + DeleteMessageBatch loop vs sqs-consumer vs quiesce (no-op messages)",
    "",
    `${fmt(JOBS)} messages per run, batch ${BATCH}, median of ${REPS} runs per mode (order rotated between runs, after a warm-up), fauxqs 1.9 on loopback in its own process.`,
    `Node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${os.platform()} ${os.release()}.`,
    "",
    "| pollers (concurrency) | raw loop, msg/s | sqs-consumer, msg/s | quiesce + createSqsSource, msg/s | **quiesce / raw** (median, best) | quiesce / sqs-consumer | CPU µs/msg raw / sqs-consumer / quiesce |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.setting} (${r.setting * BATCH}) | ${rate(r, "raw")} | ${rate(r, "consumer")} | ${rate(r, "quiesce")} | **${fmt(r.quiesce / r.raw, 3)}**, ${fmt(best(r, "quiesce") / best(r, "raw"), 3)} | ${fmt(r.quiesce / r.consumer, 2)} | ${fmt(r.cpu.raw, 1)} / ${fmt(r.cpu.consumer, 1)} / ${fmt(r.cpu.quiesce, 1)} |`,
    ),
    "",
    "msg/s: median of the runs (best run in brackets). CPU: this process's user + system time per message during the timed part, median (the emulator's CPU is not in it, but it shares the cores).",
    "",
    `Runs (msg/s): ${rows.map((r) => `pollers=${r.setting} ${Object.keys(modes).map((mode) => `${mode} [${r.rates[mode].map((x) => fmt(x)).join(", ")}]`).join(", ")}`).join("; ")}.`,
    `Load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; total bench time ${fmt((performance.now() - started) / 1000, 1)} s.`,
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`sqs bench failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
