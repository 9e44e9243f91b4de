// @servers fauxqs
// The two release modes against a redrive policy with maxReceiveCount 2: a message interrupted
// twice by a drain deadline. "visibility" counts each interruption as a receive (the message
// reaches the dead-letter queue without failing once, and the worker warned about it at start);
// "resend" puts a copy back and costs no receive.
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import type { WorkerProcess } from "../harness/worker-process.js";
import { events, SqsScenario, type FixtureEnv } from "./fixture.js";

let scenario: SqsScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

// Grace 2 s minus a 1.5 s margin: the deadline comes 0.5 s after SIGTERM, long before the 4 s job ends.
const deadline = { QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "1500" };

/** Start a worker, let it start the job, SIGTERM it: the deadline releases the job (exit 143). */
async function interrupt(s: SqsScenario, env: FixtureEnv): Promise<WorkerProcess> {
  const worker = s.spawn({ ...env, extra: deadline });
  await worker.waitForLine(/"event":"job-started"/, { timeoutMs: 15_000 });
  worker.signal("SIGTERM");
  const exit = await worker.waitForExit(10_000);
  expect(exit.code).toBe(143);
  expect(events(worker, "job-released").map((e) => e.reason)).toEqual(["deadline"]);
  return worker;
}

const warning = /maxReceiveCount is 2; every release by a drain counts a receive/;

describe("sqs: release modes", () => {
  it('"visibility" (the default): two interruptions use up maxReceiveCount 2 and the message is dead-lettered; the start-up warning said so', async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "visibility", maxReceiveCount: 2 }));
    const id = await s.queue.send({ n: 1, ms: 4_000 });
    const env = { visibilitySeconds: 10, waitSeconds: 1 };
    const first = await interrupt(s, env);
    expect(first.stderr).toMatch(warning);
    const second = await interrupt(s, env);
    expect(events(first, "job-started").map((e) => [e.id, e.attempt])).toEqual([[id, 1]]);
    expect(events(second, "job-started").map((e) => [e.id, e.attempt])).toEqual([[id, 2]]);

    // The next receive moves it to the dead-letter queue: a healthy job lost to two scale-downs.
    const third = s.spawn(env);
    await pollUntil(async () => (await s.queue.counts(s.queue.dlqUrl)).visible === 1, { timeoutMs: 15_000, message: "dead-lettered" });
    expect(events(third, "job-started")).toEqual([]);
    expect(s.effects().size).toBe(0);
    third.signal("SIGTERM");
    expect((await third.waitForExit(10_000)).code).toBe(0);
  });

  it('"resend": two interruptions cost no receive; a third worker completes the copy at attempt 1, and no warning', async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "resend", maxReceiveCount: 2 }));
    const id = await s.queue.send({ n: 1, ms: 4_000 });
    const env = { visibilitySeconds: 10, waitSeconds: 1, releaseMode: "resend" as const };
    const first = await interrupt(s, env);
    expect(first.stderr).not.toMatch(warning);
    const second = await interrupt(s, env);
    const third = s.spawn(env);
    await pollUntil(() => s.effects().size === 1, { timeoutMs: 20_000, message: "the copy completed" });

    const starts = [first, second, third].map((w) => events(w, "job-started"));
    // Every receive is a first receive of a fresh copy, same body; each copy carries the first
    // one's id (quiesce.id), so the delivery id stays the producer's.
    expect(starts.map((list) => list.map((e) => [e.n, e.attempt]))).toEqual([[[1, 1]], [[1, 1]], [[1, 1]]]);
    const ids = starts.map((list) => list[0]?.id);
    expect(ids).toEqual([id, id, id]);
    // The original and the intermediate copy were deleted: nothing left anywhere.
    await pollUntil(async () => {
      const [main, dlq] = [await s.queue.counts(), await s.queue.counts(s.queue.dlqUrl)];
      return main.visible + main.inFlight + main.delayed + dlq.visible === 0;
    }, { timeoutMs: 5_000, message: "queues empty" });
    third.signal("SIGTERM");
    expect((await third.waitForExit(10_000)).code).toBe(0);
  });
});
