/**
 * A BullMQ worker under quiesce: safe to scale down (SIGTERM finishes or releases jobs in flight,
 * never loses one), visible to Kubernetes (probes, metrics, pod-deletion-cost).
 *
 *   REDIS_URL=redis://127.0.0.1:6379 QUEUE=emails QUIESCE_CONCURRENCY=5 node dist/bullmq-worker/worker.js
 *
 * Enqueue with plain BullMQ: `new Queue("emails", { connection }).add("send", { to: "a@b.c", ms: 2000 })`.
 */
import { createBullmqSource } from "@quiesce/adapters/bullmq";
import { createWorker } from "@quiesce/sdk";

interface EmailJob {
  readonly to: string;
  /** How long the pretend send takes. */
  readonly ms?: number;
}

const redis = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");

const worker = createWorker<EmailJob>({
  source: createBullmqSource({
    queue: process.env.QUEUE ?? "emails",
    connection: {
      host: redis.hostname,
      port: Number(redis.port || 6379),
      ...(redis.password ? { password: decodeURIComponent(redis.password) } : {}),
    },
  }),
  async handler(job, ctx) {
    // A payload that is not what we expect fails through BullMQ's attempts/backoff, and the
    // worker carries on with the next job.
    if (typeof job?.to !== "string") throw new TypeError(`job ${ctx.id}: "to" must be a string`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, job.ms ?? 1000);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(ctx.signal.reason as Error);
      });
    });
    ctx.log.info({ to: job.to, attempt: ctx.attempt }, "sent");
    return { sentAt: new Date().toISOString() };
  },
});

await worker.run();
