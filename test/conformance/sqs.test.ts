// @servers fauxqs
// The source contract on the SQS emulator, on a standard queue and on a FIFO queue (each message
// in a group of its own there: the suite's cases hold several messages at once; one group's
// ordering is tested in test/sqs/fifo.test.ts).
import { createSqsSource } from "@quiesce/adapters/sqs";
import { describeSourceConformance } from "@quiesce/sdk/testing";
import { sqsClientConfig } from "../harness/fauxqs.js";
import { servers } from "../harness/servers.js";
import { TestQueue } from "../sqs/queues.js";

const maxReceiveCount = 3;

for (const fifo of [false, true]) {
  describeSourceConformance(fifo ? "sqs (FIFO)" : "sqs", async () => {
    const info = servers().fauxqs;
    const queue = await TestQueue.create(info, { fifo, maxReceiveCount, prefix: "conformance" });
    return {
      // A 30 s visibility (the suite shortens it through extend) and a 5 s long poll, as the suite asks.
      source: createSqsSource({ queueUrl: queue.url, clientConfig: sqsClientConfig(info), waitTimeSeconds: 5, visibilityTimeoutSeconds: 30, warnBelowMaxReceiveCount: 0 }),
      async publish(payload, options) {
        await queue.send(payload, options?.delayMs ? { delaySeconds: Math.ceil(options.delayMs / 1000) } : {});
      },
      capabilities: {
        // The attempt is the receive count: a release counts one.
        releaseKeepsAttempt: false,
        // Visibility counts whole seconds.
        minLeaseMs: 1_000,
        retries: { maxAttempts: maxReceiveCount },
        deadLetters: () => queue.deadLetters(),
      },
      cleanup: () => queue.close(),
    };
  });
}
