// @servers fauxqs
// The SQS example worker as shipped (packages/examples/dist/sqs-worker), pointed at the emulator.
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { spawnWorker } from "../harness/worker-process.js";
import { TestQueue } from "./queues.js";

const script = fileURLToPath(new URL("../../packages/examples/dist/sqs-worker/worker.js", import.meta.url));
let queue: TestQueue | undefined;
afterEach(async () => {
  await queue?.close();
  queue = undefined;
});

describe("sqs example worker", () => {
  it("sends its emails from the queue, fails a malformed one, and drains on SIGTERM", async () => {
    const info = servers().fauxqs;
    queue = await TestQueue.create(info, { prefix: "example" });
    const aws = { AWS_REGION: info.region, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", SQS_ENDPOINT: info.endpoint };
    const worker = spawnWorker(script, { env: { ...aws, QUEUE_URL: queue.url, QUIESCE_HTTP_PORT: "0", QUIESCE_LOG_LEVEL: "info" } });
    await queue.send({ to: "a@b.c", ms: 10 });
    await queue.send({ nope: true });
    await worker.waitForLine(/"msg":"sent"/, { stream: "stderr", timeoutMs: 15_000 });
    await worker.waitForLine(/"msg":"job failed"/, { stream: "stderr", timeoutMs: 15_000 });
    expect(worker.stderr).toMatch(/must be a string/);
    await pollUntil(async () => (await queue!.counts()).visible === 0, { timeoutMs: 5_000, message: "nothing left waiting" });
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(10_000)).code).toBe(0);
  });

  it("a bad QUEUE_URL: one fatal line naming queueUrl, exit 1", async () => {
    const worker = spawnWorker(script, { env: { QUEUE_URL: "emails", QUIESCE_HTTP_PORT: "0" } });
    const exit = await worker.waitForExit(10_000);
    expect(exit.code).toBe(1);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: createSqsSource: queueUrl must be an SQS queue URL .* got "emails"$/);
  });
});
