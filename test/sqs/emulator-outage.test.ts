// @servers none
// The emulator stopped under a running worker process, and never there at all. Private emulators:
// a pause or a restart disturbs every client. fauxqs keeps its state in memory only, so "stopped
// and started again with the messages kept" is SIGSTOP/SIGCONT (connections stay, nothing
// answers); a restart (the connection cut, then an empty emulator) is tested apart.
import { afterEach, describe, expect, it } from "vitest";
import { startFauxqs } from "../harness/fauxqs.js";
import { pollUntil } from "../harness/poll-until.js";
import { freePort } from "../harness/ports.js";
import { events, spawnSqsWorker, SqsScenario } from "./fixture.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const receiveFailed = /receive failed; backing off/;

describe("sqs: emulator outage", () => {
  it("stopped mid-run (SIGSTOP) and started again: requests time out, the worker backs off, recovers, and loses nothing", async () => {
    const server = await startFauxqs();
    cleanups.push(() => server.stop());
    const s = await SqsScenario.create(server.info(), { prefix: "pause" });
    cleanups.push(() => s.close());
    const total = 100;
    const ids = await s.queue.sendMany(Array.from({ length: total }, (_, n) => ({ n, ms: 100 })));
    // A request timeout makes a hung emulator show as failures (the SDK's default has none).
    const worker = s.spawn({ concurrency: 5, visibilitySeconds: 5, waitSeconds: 1, requestTimeoutMs: 2_000 });
    await pollUntil(() => s.effects().size >= 20, { timeoutMs: 20_000, message: "20 messages done" });

    server.pause();
    try {
      await worker.waitForLine(receiveFailed, { stream: "stderr", timeoutMs: 20_000 });
    } finally {
      server.resume();
    }
    const doneAtPause = s.effects().size;
    expect(doneAtPause).toBeLessThan(total);

    await pollUntil(() => ids.every((id) => s.effects().has(id)), { timeoutMs: 40_000, message: `${total} messages done after the pause` });
    await pollUntil(async () => {
      const counts = await s.queue.counts();
      return counts.visible + counts.inFlight === 0;
    }, { timeoutMs: 20_000, message: "queue empty" });
    expect(worker.exit).toBeUndefined();
    // At least once: a delete lost to the pause lets its message run again after its visibility.
    const twice = [...s.effects().values()].filter((count) => count > 1).length;
    console.log(`sqs pause: ${doneAtPause} done at the pause, ${twice} run twice`);
    worker.signal("SIGTERM");
    expect([0, 143]).toContain((await worker.waitForExit(15_000)).code);
  });

  it("restarted on the same port (the poll in flight cut, then an empty emulator): the worker keeps going and takes the recreated queue's messages", async () => {
    const server = await startFauxqs();
    cleanups.push(() => server.stop());
    const s = await SqsScenario.create(server.info(), { prefix: "restart" });
    cleanups.push(() => s.close());
    const worker = s.spawn({ concurrency: 2, visibilitySeconds: 5, waitSeconds: 1 });
    const before = await s.queue.send({ n: 1, ms: 10 });
    await pollUntil(() => s.effects().has(before), { timeoutMs: 10_000, message: "a message before the restart" });
    // Its delete answered too: the restart is to cut the poll in flight, not that settle (a cut
    // delete is a failed settle, and the drain would then report interrupted work).
    await pollUntil(() => events(worker, "job-completed").some((e) => e.id === before), { timeoutMs: 10_000, message: "the message before the restart deleted" });

    // Same port; the long poll in flight is cut, and the queue is gone until it is recreated:
    // receives fail either way.
    await server.restart();
    await worker.waitForLine(receiveFailed, { stream: "stderr", timeoutMs: 15_000 });
    await s.queue.recreate();
    const after = await s.queue.send({ n: 2, ms: 10 });
    await pollUntil(() => s.effects().has(after), { timeoutMs: 20_000, message: "a message after the restart" });
    expect(worker.exit).toBeUndefined();
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(15_000)).code).toBe(0);
  });

  // Exit 1 with a one-line reason: never a hot loop, never a silent hang.
  it("never reachable: start-up retries, then exit 1 after QUIESCE_SOURCE_FAILURE_MS", async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const worker = spawnSqsWorker(endpoint, `${endpoint}/000000000000/nowhere`, { extra: { QUIESCE_SOURCE_FAILURE_MS: "1500" } });
    const startedAt = Date.now();
    const exit = await worker.waitForExit(20_000);
    expect(exit.code).toBe(1);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_500);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: nowhere: broker unreachable for \d+ ms: SQS GetQueueAttributes failed/);
    // Retried with backoff, not in a loop: a handful of attempts in 1.5 s.
    const retries = exit.stderr.split("\n").filter((line) => line.includes("source start failed; retrying")).length;
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(retries).toBeLessThan(15);
  });

  it("gone while the worker runs: receives fail, then exit 1 after QUIESCE_SOURCE_FAILURE_MS", async () => {
    const server = await startFauxqs();
    cleanups.push(() => server.stop());
    const s = await SqsScenario.create(server.info(), { prefix: "gone" });
    cleanups.push(() => s.close());
    const worker = s.spawn({ waitSeconds: 1, extra: { QUIESCE_SOURCE_FAILURE_MS: "1500" } });
    await worker.waitForLine(/"event":"ready"/);
    await server.stop();
    const exit = await worker.waitForExit(20_000);
    expect(exit.code).toBe(1);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: .*receive kept failing for \d+ ms: SQS ReceiveMessage failed/);
  });

  it("a queue that does not exist: one fatal line and exit 1 at once, no retries", async () => {
    const server = await startFauxqs();
    cleanups.push(() => server.stop());
    const s = await SqsScenario.create(server.info(), { prefix: "missing" });
    cleanups.push(() => s.close());
    // Retrying would last the whole 60 s QUIESCE_SOURCE_FAILURE_MS; the exit comes long before it
    // (the bound leaves room for a slow start on a loaded machine), and no attempt is repeated.
    const worker = s.spawn({ extra: { QUIESCE_SOURCE_FAILURE_MS: "60000" } }, `${server.endpoint}/000000000000/no-such-queue`);
    const startedAt = Date.now();
    const exit = await worker.waitForExit(40_000);
    expect(exit.code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(40_000);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: SQS GetQueueAttributes failed for queue no-such-queue .*(QueueDoesNotExist|NonExistentQueue).*queueUrl names no queue/);
    expect(exit.stderr).not.toMatch(/retrying/);
    expect(events(worker, "ready")).toEqual([]);
  });
});
