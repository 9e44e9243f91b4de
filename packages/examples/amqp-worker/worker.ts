/**
 * A RabbitMQ worker under quiesce: safe to scale down (SIGTERM requeues what it prefetched, finishes
 * or releases jobs in flight, never loses one), visible to Kubernetes (probes, metrics,
 * pod-deletion-cost).
 *
 *   AMQP_URL=amqp://guest:guest@127.0.0.1:5672 QUEUE=images QUIESCE_CONCURRENCY=4 node dist/amqp-worker/worker.js
 *
 * The queue must exist (the worker only checks it); declare it with its dead-letter settings, e.g.
 * a quorum queue: `{ "x-queue-type": "quorum", "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "images.dead" }`.
 * Enqueue JSON: `channel.sendToQueue("images", Buffer.from(JSON.stringify({ url: "https://…/a.png", ms: 2000 })), { persistent: true, messageId })`.
 */
import { createAmqpSource } from "@quiesce/adapters/amqp";
import { createWorker } from "@quiesce/sdk";

interface ResizeJob {
  readonly url: string;
  /** How long the pretend resize takes. */
  readonly ms?: number;
}

const optionalInt = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
const prefetch = optionalInt("PREFETCH");
const consumerTimeoutMs = optionalInt("CONSUMER_TIMEOUT_MS");

const worker = createWorker<ResizeJob>({
  source: createAmqpSource({
    queue: process.env.QUEUE ?? "images",
    url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    // Default: the worker's concurrency, so nothing waits unstarted in a pod that may be scaled away.
    ...(prefetch !== undefined ? { prefetch } : {}),
    // A failed job is retried twice (republished with its attempt raised), then dead-lettered.
    maxAttempts: optionalInt("MAX_ATTEMPTS") ?? 3,
    // Keep equal to the broker's consumer_timeout (RabbitMQ's default is 30 minutes).
    ...(consumerTimeoutMs !== undefined ? { consumerTimeoutMs } : {}),
  }),
  async handler(job, ctx) {
    // A payload that is not what we expect fails through the retries, then the dead-letter queue;
    // the worker carries on with the next message.
    if (typeof job?.url !== "string") throw new TypeError(`message ${ctx.id}: "url" must be a string`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, job.ms ?? 1000);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(ctx.signal.reason as Error);
      });
    });
    ctx.log.info({ url: job.url, attempt: ctx.attempt }, "resized");
  },
});

await worker.run();
