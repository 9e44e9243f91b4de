/**
 * An SQS worker under quiesce: safe to scale down (SIGTERM cuts the long poll short, hands back
 * what was received but not started, finishes or releases jobs in flight, never loses one),
 * visible to Kubernetes (probes, metrics, pod-deletion-cost).
 *
 *   QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/emails AWS_REGION=eu-west-1 \
 *     QUIESCE_CONCURRENCY=4 node dist/sqs-worker/worker.js
 *
 * Credentials come from the AWS SDK's default chain (IRSA / EKS Pod Identity on Kubernetes).
 * SQS_ENDPOINT points the client elsewhere (an emulator). SQS_RELEASE_MODE=resend makes an
 * interruption cost no receive (standard queues; see the README's SQS section).
 * Enqueue with plain SQS: `aws sqs send-message --queue-url $QUEUE_URL --message-body '{"to":"a@b.c","ms":2000}'`.
 */
import { createSqsSource, type SqsReleaseMode } from "@quiesce/adapters/sqs";
import { ConfigError, createWorker, type Source } from "@quiesce/sdk";

interface EmailJob {
  readonly to: string;
  /** How long the pretend send takes. */
  readonly ms?: number;
}

const queueUrl = process.env.QUEUE_URL ?? "";
const endpoint = process.env.SQS_ENDPOINT;

/** A bad QUEUE_URL (or none) stops start-up with one line naming queueUrl, as the runtime does for its own settings. */
function source(): Source {
  try {
    return createSqsSource({
      queueUrl,
      clientConfig: {
        ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
        // An emulator's queue URLs name hosts that may not resolve: send everything to the endpoint.
        ...(endpoint ? { endpoint, useQueueUrlAsEndpoint: false } : {}),
      },
      // The lease, renewed at about half while a job runs, and the orphan window of a poll that a
      // drain aborts: keep it short.
      visibilityTimeoutSeconds: Number(process.env.SQS_VISIBILITY_SECONDS ?? 30),
      ...(process.env.SQS_RELEASE_MODE ? { releaseMode: process.env.SQS_RELEASE_MODE as SqsReleaseMode } : {}),
    });
  } catch (thrown) {
    if (!(thrown instanceof ConfigError)) throw thrown;
    process.stderr.write(`quiesce: fatal: ${thrown.message}\n`);
    process.exit(1);
  }
}

const worker = createWorker<EmailJob>({
  source: source(),
  async handler(job, ctx) {
    // A payload that is not what we expect fails: SQS shows it again after a backoff, and the
    // redrive policy moves it to the dead-letter queue after maxReceiveCount receives.
    if (typeof job?.to !== "string") throw new TypeError(`message ${ctx.id}: "to" must be a string`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, job.ms ?? 1000);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(ctx.signal.reason as Error);
      });
    });
    ctx.log.info({ to: job.to, attempt: ctx.attempt }, "sent");
  },
});

await worker.run();
