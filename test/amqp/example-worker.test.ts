// @servers rabbitmq
// The example in packages/examples/amqp-worker, as shipped (built dist/), on the shared broker.
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { spawnWorker } from "../harness/worker-process.js";
import { AmqpScenario } from "./fixture.js";

const example = fileURLToPath(new URL("../../packages/examples/dist/amqp-worker/worker.js", import.meta.url));
let scenario: AmqpScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe("amqp: the example worker", () => {
  it("resizes what is queued, dead-letters a bad message after its retries, and exits 0 on SIGTERM", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("example"), "quorum"));
    await s.publish([{ url: "https://example.test/a.png", ms: 50 }, { nope: true }, { url: "https://example.test/b.png", ms: 50 }]);
    const worker = spawnWorker(example, {
      env: { AMQP_URL: s.url, QUEUE: s.name, QUIESCE_CONCURRENCY: "2", QUIESCE_HTTP_PORT: "0", QUIESCE_HTTP_HOST: "127.0.0.1", QUIESCE_LOG_LEVEL: "info" },
    });
    await pollUntil(() => (worker.stderr.match(/"msg":"resized"/g) ?? []).length === 2, { timeoutMs: 20_000, message: "two images resized" });
    await pollUntil(async () => (await s.counts()).dead === 1, { timeoutMs: 20_000, message: "the bad message dead-lettered" });
    // Three attempts (the example's maxAttempts) before it was dead-lettered.
    expect((worker.stderr.match(/"msg":"job failed"/g) ?? []).length).toBe(3);
    worker.signal("SIGTERM");
    const exit = await worker.waitForExit(10_000);
    expect(exit.code).toBe(0);
    expect(await s.counts()).toEqual({ ready: 0, dead: 1 });
  });
});
