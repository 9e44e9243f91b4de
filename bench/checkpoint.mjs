#!/usr/bin/env node
/**
 * Checkpoint cost per backend: how many `ctx.checkpoint()` calls a handler can make per second
 * (back to back, one job), what checkpointing does to a stepping job's throughput, and (RabbitMQ,
 * SQS) what a release that carries a checkpoint costs against a plain one.
 *
 * Backends: memory (in the source), bullmq (in the job's hash, own redis-server), the Redis store
 * and the PostgreSQL store (both behind a source that keeps none; PostgreSQL started through
 * scripts/postgres.mjs, or BENCH_PG_URL), RabbitMQ (own node through test/harness/rabbitmq.ts) and
 * SQS (own fauxqs) each without a store (the checkpoint is held with the delivery in memory) and
 * with the Redis store. Each measurement is one job on a fresh queue in an embedded worker; modes
 * and backends are interleaved within each repetition, medians reported, best too.
 *   - writes/s: STEPS checkpoints back to back, nothing else;
 *   - job: STEPS steps of STEP_US of CPU work, checkpointing every step, every 10th, or never;
 *     reported as steps/s and as a ratio to "never".
 *   - release (RabbitMQ, SQS): a source holding RELEASE_N deliveries releases them all at once,
 *     as a worker does at the drain deadline, each after a checkpoint (RabbitMQ: confirmed
 *     re-publish + ack; SQS: SendMessage + batched DeleteMessage) or without one (RabbitMQ:
 *     nack-requeue; SQS: batched ChangeMessageVisibility 0); timed from the first release() to
 *     the last one resolved, then the queue is checked to hold RELEASE_N messages again.
 *
 *   node bench/checkpoint.mjs                     (after `pnpm run build`)
 *   BENCH_REPS=1 BENCH_BACKENDS=rabbitmq,sqs node bench/checkpoint.mjs   (only the backends whose name has one of these)
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/checkpoint.mjs
 */
import { createRequire } from "node:module";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { startPostgres } from "../scripts/postgres.mjs";
import { fauxqsClientConfig, startFauxqs } from "./lib/fauxqs.mjs";
import { startRabbitmq } from "./lib/rabbitmq.mjs";
import { startRedis } from "./lib/redis.mjs";
import { fmt, median } from "./lib/stats.mjs";

const require = createRequire(new URL("../packages/adapters/package.json", import.meta.url));
const { Queue } = require("bullmq");
const { Redis } = require("ioredis");
// The same amqplib and client-sqs copies the adapters resolve.
const amqplib = require("amqplib");
const sqsSdk = require("@aws-sdk/client-sqs");
const { createWorker, createMemorySource } = await import("../packages/sdk/dist/index.js");
const { createBullmqSource } = await import("../packages/adapters/dist/bullmq/index.js");
const { createAmqpSource } = await import("../packages/adapters/dist/amqp/index.js");
const { createSqsSource } = await import("../packages/adapters/dist/sqs/index.js");
const { createRedisCheckpointStore } = await import("../packages/adapters/dist/checkpoint-redis/index.js");
const { createPgCheckpointStore } = await import("../packages/adapters/dist/checkpoint-pg/index.js");
// Its own module, not the testing entry point (which loads vitest).
const { withoutCheckpoints } = await import("../packages/sdk/dist/testing/without-checkpoints.js");

const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const STEPS = Number(process.env.BENCH_STEPS ?? 2_000);
const STEP_US = Number(process.env.BENCH_STEP_US ?? 1_000);
const RELEASE_N = Number(process.env.BENCH_RELEASE_N ?? 100);
const ONLY = process.env.BENCH_BACKENDS?.toLowerCase().split(",").filter(Boolean);
const wanted = (name) => !ONLY || ONLY.some((part) => name.toLowerCase().includes(part));
const NAMES = {
  memory: "memory",
  bullmq: "BullMQ (job hash)",
  redisStore: "Redis store",
  pgStore: "PostgreSQL store",
  amqp: "RabbitMQ, no store (held with the delivery)",
  amqpStore: "RabbitMQ + Redis store",
  sqs: "SQS, no store (held with the delivery)",
  sqsStore: "SQS + Redis store",
};
const log = (line) => process.stderr.write(`[checkpoint] ${line}\n`);
// What the runtime hands a source per checkpoint: the handler's value and the counts a resume needs.
const RECORD = JSON.stringify({ value: { step: 1, cursor: "item-1" }, workMs: 1000, seq: 1 });

/** Busy work of `us` microseconds: a step that uses the CPU, as a chunk of real work would. */
function work(us) {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

let seq = 0;
const queueName = () => `bench-ckpt-${process.pid}-${++seq}`;

/** One job through one embedded worker; resolves with the handler's own elapsed ms. */
async function runJob(backend, { stepUs, every }) {
  const made = await backend.make();
  let elapsed = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const worker = createWorker({
    source: made.source,
    http: false, handleSignals: false, exit: false, kubernetes: false,
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

// ---- RabbitMQ and SQS queues ----------------------------------------------------------------------

/** Fresh durable queues on the node, filled with confirmed persistent messages, each with a messageId. */
async function rabbitmqQueues(url) {
  const admin = await amqplib.connect(url);
  const channel = await admin.createConfirmChannel();
  return {
    async create(n = 0) {
      const name = queueName();
      await channel.assertQueue(name, { durable: true });
      for (let i = 0; i < n; i++) channel.sendToQueue(name, Buffer.from("{}"), { persistent: true, contentType: "application/json", messageId: `${name}-${i}` });
      await channel.waitForConfirms();
      return {
        name,
        publish: async () => {
          channel.sendToQueue(name, Buffer.from("{}"), { persistent: true, contentType: "application/json", messageId: `${name}-job` });
          await channel.waitForConfirms();
        },
        count: async () => (await channel.checkQueue(name)).messageCount,
        /** Whether the first message carries a checkpoint header (taken off the queue). */
        async carried() {
          const first = await channel.get(name, { noAck: true });
          return first ? first.properties.headers?.["x-quiesce-checkpoint"] !== undefined : false;
        },
        remove: () => channel.deleteQueue(name),
      };
    },
    close: () => admin.close(),
  };
}

/** Fresh queues on the emulator, filled with SendMessageBatch. */
function sqsQueues(endpoint) {
  const admin = new sqsSdk.SQSClient(fauxqsClientConfig(endpoint));
  return {
    async create(n = 0) {
      const { QueueUrl } = await admin.send(new sqsSdk.CreateQueueCommand({ QueueName: queueName() }));
      for (let i = 0; i < n; i += 10) {
        const Entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({ Id: String(k), MessageBody: "{}" }));
        await admin.send(new sqsSdk.SendMessageBatchCommand({ QueueUrl, Entries }));
      }
      return {
        url: QueueUrl,
        publish: () => admin.send(new sqsSdk.SendMessageCommand({ QueueUrl, MessageBody: "{}" })),
        async count() {
          const { Attributes } = await admin.send(new sqsSdk.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
          return Number(Attributes.ApproximateNumberOfMessages);
        },
        /** Whether a message carries a checkpoint attribute (hidden for a minute). */
        async carried() {
          const { Messages } = await admin.send(new sqsSdk.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, MessageAttributeNames: ["All"], VisibilityTimeout: 60 }));
          return Messages?.[0]?.MessageAttributes?.["quiesce.checkpoint"] !== undefined;
        },
        remove: () => admin.send(new sqsSdk.DeleteQueueCommand({ QueueUrl })),
      };
    },
    close: () => admin.destroy(),
  };
}

// ---- the backends of the writes/s and job table ---------------------------------------------------------

function backends({ redis, pool, amqp, sqs }) {
  const memoryWithStore = (store) => async () => {
    const source = withoutCheckpoints(createMemorySource({ pollMs: 50 }));
    return { source, store: store(), publish: async () => source.add({}), cleanup: async () => undefined };
  };
  const redisStore = () => createRedisCheckpointStore({ client: redis, prefix: `bench:${++seq}:` });
  const onRabbitmq = (store) => async () => {
    const queue = await amqp.queues.create();
    return { source: createAmqpSource({ queue: queue.name, url: amqp.url }), store: store?.(), publish: queue.publish, cleanup: queue.remove };
  };
  const onSqs = (store) => async () => {
    const queue = await sqs.queues.create();
    const source = createSqsSource({ queueUrl: queue.url, clientConfig: fauxqsClientConfig(sqs.endpoint), waitTimeSeconds: 1 });
    return { source, store: store?.(), publish: queue.publish, cleanup: queue.remove };
  };
  const list = [
    { name: NAMES.memory, make: async () => { const source = createMemorySource({ pollMs: 50 }); return { source, publish: async () => source.add({}), cleanup: async () => undefined }; } },
    {
      name: NAMES.bullmq,
      make: async () => {
        const name = queueName();
        const queue = new Queue(name, { connection: redis });
        const source = createBullmqSource({ queue: name, connection: { host: "127.0.0.1", port: redis.options.port }, pollTimeoutMs: 200 });
        return { source, publish: () => queue.add("job", {}), cleanup: async () => { await queue.obliterate({ force: true }); await queue.close(); } };
      },
    },
    { name: NAMES.redisStore, make: memoryWithStore(redisStore) },
    ...(pool ? [{ name: NAMES.pgStore, make: memoryWithStore(() => createPgCheckpointStore({ pool, table: "bench_checkpoints" })) }] : []),
    { name: NAMES.amqp, make: onRabbitmq() },
    { name: NAMES.amqpStore, make: onRabbitmq(redisStore) },
    { name: NAMES.sqs, make: onSqs() },
    { name: NAMES.sqsStore, make: onSqs(redisStore) },
  ];
  return list.filter((backend) => wanted(backend.name));
}

// ---- the release at the deadline ------------------------------------------------------------------------

/** Receives until `n` deliveries are held. */
async function hold(source, n) {
  const signal = new AbortController().signal;
  const held = [];
  while (held.length < n) held.push(...(await source.receive(n - held.length, signal)));
  return held;
}

/** Polls until the queue holds exactly `n` ready again (a requeue is not instant); 10 s at most. */
async function backOnQueue(queue, n) {
  for (let i = 0; ; i++) {
    const count = await queue.count();
    if (count === n) return;
    if (i >= 200) throw new Error(`queue holds ${count} of ${n} after the release`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `n` held deliveries released at once, each after a checkpoint or not; ms and CPU µs per message. */
async function runRelease(kind, env, checkpointed) {
  const queue = await env[kind].queues.create(RELEASE_N);
  const source = kind === "amqp"
    ? createAmqpSource({ queue: queue.name, url: env.amqp.url, prefetch: RELEASE_N })
    : createSqsSource({ queueUrl: queue.url, clientConfig: fauxqsClientConfig(env.sqs.endpoint), waitTimeSeconds: 1, visibilityTimeoutSeconds: 120 });
  await source.start();
  const held = await hold(source, RELEASE_N);
  if (checkpointed) await Promise.all(held.map((delivery) => delivery.checkpoint(RECORD)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(held.map((delivery) => delivery.release()));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await source.stop();
  await backOnQueue(queue, RELEASE_N);
  if ((await queue.carried()) !== checkpointed) throw new Error(`${kind} release: a message ${checkpointed ? "lacks" : "has"} a checkpoint after the release`);
  await queue.remove();
  return { ms, cpuUs: (cpu.user + cpu.system) / RELEASE_N };
}

// ---- main -------------------------------------------------------------------------------------------------

async function startPostgresIfAny() {
  if (process.env.BENCH_PG_URL) return { url: process.env.BENCH_PG_URL, stop: async () => undefined };
  try {
    return await startPostgres();
  } catch (error) {
    log(`no PostgreSQL store row: ${error.message}`);
    return undefined;
  }
}

async function main() {
  const started = performance.now();
  const stops = [];
  const env = {};
  try {
    const redisServer = await startRedis(Redis);
    stops.push(redisServer.stop);
    env.redis = new Redis({ host: "127.0.0.1", port: redisServer.port, maxRetriesPerRequest: null });
    stops.push(() => env.redis.quit());
    if (wanted(NAMES.pgStore)) {
      const postgres = await startPostgresIfAny();
      if (postgres) {
        stops.push(postgres.stop);
        // pg is a dev dependency of the tests, not of the adapters (the store only needs query()).
        const pg = createRequire(new URL("../test/package.json", import.meta.url))("pg");
        env.pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
        stops.push(() => env.pool.end());
      }
    }
    if (wanted(NAMES.amqp) || wanted(NAMES.amqpStore)) {
      const broker = await startRabbitmq();
      stops.push(() => broker.stop());
      env.amqp = { url: broker.url, queues: await rabbitmqQueues(broker.url) };
      stops.push(() => env.amqp.queues.close());
    }
    if (wanted(NAMES.sqs) || wanted(NAMES.sqsStore)) {
      const emulator = await startFauxqs();
      stops.push(emulator.stop);
      env.sqs = { endpoint: emulator.endpoint, queues: sqsQueues(emulator.endpoint) };
      stops.push(async () => env.sqs.queues.close());
    }
    process.stdout.write(`${(await measure(env)).join("\n")}\n`);
    process.stdout.write(`\nLoad average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; ${fmt((performance.now() - started) / 1000, 1)} s.\n`);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

async function measure(env) {
  const list = backends(env);
  const modes = [
    { key: "writes", stepUs: 0, every: 1 },
    { key: "never", stepUs: STEP_US, every: 0 },
    { key: "every10", stepUs: STEP_US, every: 10 },
    { key: "every1", stepUs: STEP_US, every: 1 },
  ];
  const releases = [
    ...(env.amqp ? [{ name: "RabbitMQ", kind: "amqp", plain: "nack, requeue", carrying: "re-publish, confirm, ack" }] : []),
    ...(env.sqs ? [{ name: "SQS", kind: "sqs", plain: "ChangeMessageVisibilityBatch 0", carrying: "SendMessage, DeleteMessageBatch" }] : []),
  ];
  const results = new Map(list.map((b) => [b.name, Object.fromEntries(modes.map((m) => [m.key, []]))]));
  const released = new Map(releases.map((r) => [r.name, { plain: [], carrying: [] }]));
  for (let rep = 1; rep <= REPS; rep++) {
    for (const backend of list) {
      for (const mode of modes) results.get(backend.name)[mode.key].push(await runJob(backend, mode));
    }
    for (const release of releases) {
      // Alternate which goes first, so a neighbour's load drifting over the rep hits both alike.
      const order = rep % 2 ? ["plain", "carrying"] : ["carrying", "plain"];
      for (const which of order) released.get(release.name)[which].push(await runRelease(release.kind, env, which === "carrying"));
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
  lines.push("", 'Ratios in brackets are to "never" on the same backend. RabbitMQ and SQS without a store hold the checkpoint with the delivery: the write is in memory, and its cost is paid on the release (below).');
  if (releases.length) {
    lines.push(
      "",
      `Release of ${RELEASE_N} held deliveries at once (a drain deadline), median of ${REPS} (best): wall ms for all ${RELEASE_N}, and per message (wall / CPU µs of this process).`,
      "",
      "| backend | plain release | ms, per message | carrying a checkpoint | ms, per message | extra per message |",
      "|---|---|---|---|---|---|",
    );
    for (const release of releases) {
      const r = released.get(release.name);
      const ms = (key) => median(r[key].map((x) => x.ms));
      const best = (key) => Math.min(...r[key].map((x) => x.ms));
      const cpu = (key) => median(r[key].map((x) => x.cpuUs));
      const cell = (key) => `${fmt(ms(key), 1)} (${fmt(best(key), 1)}); ${fmt((ms(key) * 1000) / RELEASE_N)} / ${fmt(cpu(key))} µs`;
      lines.push(`| ${release.name} | ${release.plain} | ${cell("plain")} | ${release.carrying} | ${cell("carrying")} | ${fmt(((ms("carrying") - ms("plain")) * 1000) / RELEASE_N)} µs |`);
    }
    lines.push("", "A RabbitMQ nack is sent without a reply to wait for; the re-publish waits for the broker's confirm of each copy (persistent, durable queue) before the ack. SQS: every call is an HTTP round trip to the emulator, which shares the cores.");
  }
  return lines;
}

await main();
