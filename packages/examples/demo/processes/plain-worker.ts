/**
 * A plain BullMQ worker, as most are written: a `Worker` with a processor and nothing else. No
 * signal handler, so SIGTERM ends the process on the spot; what it held waits for its lock to
 * expire and BullMQ's stalled check to hand it out again (or fail it, once it stalled too often).
 */
import { Worker } from "bullmq";
import { dieWithParent, podConfig, redisConnection, report, work, type JobData } from "./protocol.js";

dieWithParent();
const config = podConfig();
const worker = new Worker<JobData>(
  config.queue,
  async (job) => {
    report({ op: "start", id: job.data.id, at: Date.now() });
    await work(job.data.ms);
    report({ op: "end", id: job.data.id, at: Date.now(), outcome: "done" });
  },
  {
    connection: { ...redisConnection(config.redisUrl), maxRetriesPerRequest: null },
    concurrency: 1,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
  },
);
worker.on("error", (error) => process.stderr.write(`plain worker: ${error.message}\n`));
await worker.waitUntilReady();
report({ op: "ready", at: Date.now() });
