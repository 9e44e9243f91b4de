// @servers rabbitmq
// Scale-down on RabbitMQ with real worker processes: a SIGTERMed worker hands its prefetched
// messages back at once, finishes what it started and exits 0; nothing is lost or done twice.
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { AmqpScenario, events, ofKind } from "./fixture.js";

let scenario: AmqpScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe("amqp: scale-down with real worker processes", () => {
  it("500 messages of 100 ms on 3 workers (prefetch 10): SIGTERM one mid-run; its buffered messages reach the others within a second, each message is done once", async () => {
    const s = (scenario = await AmqpScenario.create(servers().rabbitmq.url, uniqueName("scale")));
    const total = 500;
    await s.publish(Array.from({ length: total }, (_, n) => ({ n, ms: 100 })));
    // Concurrency 4 under a prefetch of 10: each worker holds messages it has not started.
    const workers = Array.from({ length: 3 }, () => s.spawn({ concurrency: 4, prefetch: 10 }));
    await Promise.all(workers.map((w) => w.waitForLine(/"event":"ready"/)));
    const [doomed, ...others] = workers as [(typeof workers)[0], ...typeof workers];

    await pollUntil(() => s.effects().size >= total / 5, { timeoutMs: 30_000, message: "100 messages done" });
    doomed.signal("SIGTERM");
    // Its jobs (100 ms) finish well inside the grace period: everything it started is done, so it
    // exits 0 (143 would mean it handed started work back).
    expect((await doomed.waitForExit(15_000)).code).toBe(0);
    const drainAt = ofKind(events(doomed), "drain-started")[0]!.at;

    await pollUntil(() => s.effects().size === total, { timeoutMs: 60_000, message: `${total} messages done` });
    for (const w of others) w.signal("SIGTERM");
    for (const w of others) expect((await w.waitForExit(15_000)).code).toBe(0);

    // Exactly once: each message's side effect happened one time, in one handler, and the
    // queue holds nothing (every ack landed; nothing was dead-lettered).
    const effects = s.effects();
    expect(effects.size).toBe(total);
    expect([...effects.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect(await s.counts()).toEqual({ ready: 0, dead: 0 });

    const doomedLog = events(doomed);
    // In flight ones finished: every job it started finished there, none was released.
    expect(ofKind(doomedLog, "job-finished").length).toBe(ofKind(doomedLog, "job-started").length);
    expect(ofKind(doomedLog, "job-released")).toEqual([]);
    // Nothing else redelivered in this run: the redelivered receipts on the others are exactly
    // the messages the drained worker had buffered and requeued on SIGTERM.
    const handedBack = others.flatMap((w) => ofKind(events(w), "received").filter((e) => e.redelivered === true));
    expect(handedBack.length).toBeGreaterThan(0);
    // At most its prefetch: what it held unstarted, including what arrived for the slots its last
    // jobs freed before the consumer was cancelled.
    expect(handedBack.length).toBeLessThanOrEqual(10);
    const doomedIds = new Set(ofKind(doomedLog, "received").map((e) => e.id));
    for (const receipt of handedBack) {
      expect(doomedIds.has(receipt.id), "a handed-back message was never started by the drained worker").toBe(false);
      expect(receipt.at - drainAt, `message ${String(receipt.id)} reached another worker ${receipt.at - drainAt} ms after the drain began`).toBeLessThan(1_000);
    }
    // No attempt was used by the drain.
    for (const w of workers) expect(ofKind(events(w), "job-started").every((e) => e.attempt === 1)).toBe(true);
  });
});
