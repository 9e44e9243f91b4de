// @servers rabbitmq
// The source contract, on the real broker: each test gets its own queue (and dead-letter queue)
// on the shared node, once as a classic queue and once as a quorum queue.
import { createAmqpSource } from "@quiesce/adapters/amqp";
import { describeCheckpointConformance, describeSourceConformance, type CheckpointHarness } from "@quiesce/sdk/testing";
import { connect } from "amqplib";
import { randomUUID } from "node:crypto";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";

const attempts = 3;

for (const type of ["classic", "quorum"] as const) {
  const harness = async (): Promise<CheckpointHarness> => {
    const { url } = servers().rabbitmq;
    const name = uniqueName(`conformance-${type}`);
    const dead = `${name}.dead`;
    const admin = await connect(url);
    const channel = await admin.createConfirmChannel();
    await channel.assertQueue(dead, { durable: true });
    const args = { "x-queue-type": type, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead };
    await channel.assertQueue(name, { durable: true, arguments: args });
    return {
      // No assert: the source only checks the queue declared above. A prefetch of 10 (the suite
      // holds up to 5 at once); the default 5 s poll.
      source: createAmqpSource({ queue: name, url, prefetch: 10, maxAttempts: attempts }),
      async publish(payload) {
        channel.sendToQueue(name, Buffer.from(JSON.stringify(payload)), { persistent: true, messageId: randomUUID(), contentType: "application/json" });
        await channel.waitForConfirms();
      },
      capabilities: {
        leaseExpiry: false,
        retries: { maxAttempts: attempts },
        deadLetters: async () => {
          const { messageCount } = await channel.checkQueue(dead);
          return Array.from({ length: messageCount });
        },
      },
      async cleanup() {
        await channel.deleteQueue(name);
        await channel.deleteQueue(dead);
        await admin.close();
      },
      // A release re-publishes the message with its checkpoint; there is no lease to lose.
      carriedOnRelease: true,
    };
  };
  describeSourceConformance(`amqp (${type} queue)`, harness);
  describeCheckpointConformance(`amqp (${type} queue)`, harness);
}
