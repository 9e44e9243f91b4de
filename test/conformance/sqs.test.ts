// @servers fauxqs
// The source contract on the SQS emulator, on a standard queue and on a FIFO queue (each message
// in a group of its own there: the suite's cases hold several messages at once; one group's
// ordering is tested in test/sqs/fifo.test.ts).
import { createSqsSource } from "@quiesce/adapters/sqs";
import { describeCheckpointConformance, describeSourceConformance, type CheckpointHarness } from "@quiesce/sdk/testing";
import { sqsClientConfig } from "../harness/fauxqs.js";
import { servers } from "../harness/servers.js";
import { TestQueue } from "../sqs/queues.js";

const maxReceiveCount = 3;

for (const fifo of [false, true]) {
  const harness = async (): Promise<CheckpointHarness> => {
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
      // A release re-sends the message with its checkpoint; a lapsed visibility brings back what it carried.
      carriedOnRelease: true,
    };
  };
  describeSourceConformance(fifo ? "sqs (FIFO)" : "sqs", harness);
  // FIFO queues never re-send (the copy would go behind its group): only a store keeps checkpoints there.
  if (!fifo) describeCheckpointConformance("sqs", harness);
}
