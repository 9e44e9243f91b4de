// @servers fauxqs
// Scale-down on SQS with real worker processes: a SIGTERM mid-run cuts the long polls short,
// hands back what was received but not started, lets in-flight jobs finish, and loses nothing.
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { events, SqsScenario } from "./fixture.js";

let scenario: SqsScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe("sqs: scale-down with real worker processes", () => {
  it("300 messages, 3 workers at concurrency 5, SIGTERM one mid-run: it exits 0 at once, hands back what it had not started, and every message is done once", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "scale" }));
    const total = 300;
    const ids = await s.queue.sendMany(Array.from({ length: total }, (_, n) => ({ n, ms: 200 })));
    // batchSize 10 with 5 slots: each worker holds up to 5 messages it has not started, which a
    // drain must hand back at once. The full 20 s long poll, which the drain must not wait out.
    // A 5 s visibility bounds the orphan window of the polls the drain aborts.
    const env = { concurrency: 5, batchSize: 10, visibilitySeconds: 5 };
    const workers = [s.spawn(env), s.spawn(env), s.spawn(env)];
    await Promise.all(workers.map((w) => w.waitForLine(/"event":"ready"/)));
    const [a, b, c] = workers as [(typeof workers)[0], (typeof workers)[0], (typeof workers)[0]];

    await pollUntil(() => s.effects().size >= total / 5, { timeoutMs: 30_000, message: "60 messages done" });
    const termAt = Date.now();
    a.signal("SIGTERM");
    expect((await a.waitForExit(15_000)).code).toBe(0);
    const exitMs = (events(a, "exit")[0]?.t ?? Infinity) - termAt;
    // In-flight jobs are 200 ms; the long poll is 20 s.
    expect(exitMs).toBeLessThan(5_000);
    // What it had started, it finished: nothing started was handed back.
    expect(events(a, "job-released").filter((e) => e.started === true)).toEqual([]);
    const startedByA = new Set(events(a, "job-started").map((e) => e.id));
    const finishedByA = new Set(events(a, "job-finished").map((e) => e.id));
    expect(finishedByA).toEqual(startedByA);

    await pollUntil(() => s.effects().size === total, { timeoutMs: 45_000, message: `${total} messages done` });
    await pollUntil(async () => {
      const counts = await s.queue.counts();
      return counts.visible === 0 && counts.inFlight === 0 && counts;
    }, { timeoutMs: 10_000, message: "queue empty" });
    for (const w of [b, c]) w.signal("SIGTERM");
    for (const w of [b, c]) expect((await w.waitForExit(15_000)).code).toBe(0);

    // Each message done once (one side effect, one delete), none lost.
    const effects = s.effects();
    expect(new Set(effects.keys())).toEqual(new Set(ids));
    expect([...effects.values()].every((count) => count === 1)).toBe(true);
    const completed = workers.flatMap((w) => events(w, "job-completed").map((e) => e.id));
    expect(completed).toHaveLength(total);
    // A received but never started: the messages it held back unstarted (handed back at once) and
    // those its aborted polls took server-side (the orphan window: hidden for the 5 s visibility).
    // Both come to B or C at a second receive, none later than the visibility and some slack.
    const again = [b, c].flatMap((w) => events(w, "job-started").filter((e) => Number(e.attempt) >= 2));
    for (const e of again) {
      expect(startedByA.has(e.id)).toBe(false);
      expect(e.t - termAt).toBeLessThan(5_000 + 5_000);
    }
    console.log(`sqs scale-down: exit ${exitMs} ms after SIGTERM; ${again.length} messages A held unstarted or orphaned came to B/C, the last ${Math.max(0, ...again.map((e) => e.t - termAt))} ms after SIGTERM`);
  });

  it("a drain hands back prefetched messages at once (visible within a second) while the running job finishes", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "prefetch" }));
    await s.queue.sendMany([0, 1, 2].map((n) => ({ n, ms: n === 0 ? 3_000 : 100 })));
    // One slot, ten messages a poll: one runs, two wait in the source, hidden from everyone.
    const worker = s.spawn({ concurrency: 1, batchSize: 10, visibilitySeconds: 30 });
    await worker.waitForLine(/"event":"job-started"/);
    expect((await s.queue.counts()).inFlight).toBe(3);
    const termAt = performance.now();
    worker.signal("SIGTERM");
    // A 1 s long poll of our own: the two come back at once, not after their 30 s visibility.
    const got: string[] = [];
    while (got.length < 2 && performance.now() - termAt < 1_000) {
      const { Messages } = await s.queue.client.send(new ReceiveMessageCommand({ QueueUrl: s.queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
      got.push(...(Messages ?? []).map((m) => m.Body ?? ""));
    }
    const elapsed = performance.now() - termAt;
    expect(got.map((body) => (JSON.parse(body) as { n: number }).n).sort()).toEqual([1, 2]);
    expect(elapsed).toBeLessThan(1_000);
    // The running job finished, so the exit is 0.
    expect((await worker.waitForExit(10_000)).code).toBe(0);
    expect(events(worker, "job-finished").map((e) => e.n)).toEqual([0]);
  });
});
