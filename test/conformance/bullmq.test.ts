// @servers redis
// The source contract, on a real Redis: each test gets a queue of its own on the shared server.
import { createBullmqSource } from "@quiesce/adapters/bullmq";
import { describeCheckpointConformance, describeSourceConformance, type ConformanceHarness } from "@quiesce/sdk/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";

const attempts = 3;

async function harness(): Promise<ConformanceHarness & { checkpointLeft(id: string): Promise<boolean> }> {
  const { host, port } = servers().redis;
  const name = uniqueName("conformance");
  const admin = new Redis({ host, port, maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: admin });
  return {
    // Default lease (30 s) and a 5 s long poll, as the suite asks; a fast stalled-job check, so
    // an expired lock is noticed within the suite's slack.
    source: createBullmqSource({ queue: name, connection: { host, port }, stalledIntervalMs: 500 }),
    async publish(payload, options) {
      await queue.add("job", payload, { attempts, ...(options?.delayMs ? { delay: options.delayMs } : {}) });
    },
    capabilities: { retries: { maxAttempts: attempts }, deadLetters: () => queue.getFailed() },
    async cleanup() {
      await queue.obliterate({ force: true });
      await queue.close();
      await admin.quit();
    },
    // Completed jobs are kept (no removeOnComplete), so a checkpoint left behind would show here.
    async checkpointLeft(id) {
      const progress = await admin.hget(`bull:${name}:${id}`, "progress");
      return progress !== null && progress.includes("quiesceCheckpoint");
    },
  };
}

describeSourceConformance("bullmq", harness);
describeCheckpointConformance("bullmq", harness);
