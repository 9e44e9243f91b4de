// @servers fauxqs
// FIFO queues: one worker never runs two messages of one group at once, and a release keeps the
// group's order. (Real SQS may return several messages of a group in one receive, the emulator
// one: the assertions hold for both.)
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { events, SqsScenario, type FixtureEvent } from "./fixture.js";

let scenario: SqsScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

/** [start, end] per message number, from one worker's log. */
function spans(log: FixtureEvent[]): Map<number, [number, number]> {
  const result = new Map<number, [number, number]>();
  for (const e of log) {
    const n = Number(e.n);
    if (e.event === "job-started") result.set(n, [e.t, Infinity]);
    if (e.event === "job-finished") result.set(n, [result.get(n)?.[0] ?? -Infinity, e.t]);
  }
  return result;
}

describe("sqs: FIFO", () => {
  it("one group at concurrency 5: its messages run one at a time, in order, while another group runs alongside", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "fifo", fifo: true }));
    await s.queue.sendMany([0, 1, 2, 3, 4, 5].map((n) => ({ n, ms: 300 })), "a");
    await s.queue.sendMany([10, 11].map((n) => ({ n, ms: 900 })), "b");
    const worker = s.spawn({ concurrency: 5, batchSize: 10, waitSeconds: 1 });
    await pollUntil(() => s.effects().size === 8, { timeoutMs: 30_000, message: "8 messages done" });

    const log = events(worker);
    const order = log.filter((e) => e.event === "job-started").map((e) => Number(e.n));
    expect(order.filter((n) => n < 10)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(order.filter((n) => n >= 10)).toEqual([10, 11]);
    const byN = spans(log);
    for (const group of [[0, 1, 2, 3, 4, 5], [10, 11]]) {
      for (let i = 1; i < group.length; i++) {
        const previous = byN.get(group[i - 1]!)!;
        const next = byN.get(group[i]!)!;
        expect(next[0], `message ${group[i]} started before ${group[i - 1]} finished`).toBeGreaterThanOrEqual(previous[1]);
      }
    }
    // The two groups did overlap: the gate is per group, not per queue.
    expect(byN.get(10)![0]).toBeLessThan(byN.get(5)![1]);
    worker.signal("SIGTERM");
    expect((await worker.waitForExit(10_000)).code).toBe(0);
  });

  it("a drain deadline releases a group's running message: the next worker runs the group from it, in order", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "fifo-release", fifo: true }));
    await s.queue.sendMany([{ n: 0, ms: 4_000 }, { n: 1, ms: 50 }, { n: 2, ms: 50 }], "a");
    // A 3 s visibility: the polls the drain aborts may still take the released message
    // server-side (the orphan window), which then holds the group that long.
    const first = s.spawn({ concurrency: 3, batchSize: 10, waitSeconds: 1, visibilitySeconds: 3, extra: { QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "1500" } });
    await first.waitForLine(/"event":"job-started"/);
    first.signal("SIGTERM");
    expect((await first.waitForExit(10_000)).code).toBe(143);
    expect(events(first, "job-started").map((e) => e.n)).toEqual([0]);

    const second = s.spawn({ concurrency: 3, batchSize: 10, waitSeconds: 1, visibilitySeconds: 3 });
    await pollUntil(() => s.effects().size === 3, { timeoutMs: 20_000, message: "the group done" });
    expect(events(second, "job-started").map((e) => e.n)).toEqual([0, 1, 2]);
    second.signal("SIGTERM");
    expect((await second.waitForExit(10_000)).code).toBe(0);
  });
});
