/**
 * The BullMQ example worker with its pod around it: `createWorker` over `createBullmqSource`, HTTP
 * on a loopback port of its own, and the pod reporter writing `pod-deletion-cost` to the demo's API
 * server through @kubernetes/client-node (POD_NAME, POD_NAMESPACE and KUBECONFIG come from the
 * demo, as the Downward API and a service account would give them). SIGTERM drains it.
 */
import { createBullmqSource } from "@quiesce/adapters/bullmq";
import { createWorker } from "@quiesce/sdk";
import { dieWithParent, podConfig, redisConnection, report, work, type JobData } from "./protocol.js";

dieWithParent();
const config = podConfig();
const worker = createWorker<JobData>({
  source: createBullmqSource({
    queue: config.queue,
    connection: redisConnection(config.redisUrl),
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
  }),
  http: { port: 0, host: "127.0.0.1" },
  // The reporter's timings, five times faster like everything else in the show.
  kubernetes: { tuning: { quietMs: 40, minIntervalMs: 200, jitterMs: 50 } },
  async handler(job, ctx) {
    report({ op: "start", id: job.id, at: Date.now() });
    const done = await work(job.ms, ctx.signal);
    report({ op: "end", id: job.id, at: Date.now(), outcome: done ? "done" : "released" });
    if (!done) throw ctx.signal.reason;
  },
});
const off = worker.on("state:changed", ({ to }) => {
  if (to !== "idle") return;
  off();
  report({ op: "ready", at: Date.now(), port: worker.httpAddress()?.port ?? 0 });
});
await worker.run();
