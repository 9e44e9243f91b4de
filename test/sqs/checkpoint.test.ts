// @servers fauxqs postgres
// Checkpoint and resume with real worker processes on the SQS emulator: a long job interrupted by
// a SIGTERM with a deadline shorter than the job is re-sent carrying its checkpoint (and its first
// id and attempt), and a second worker resumes after it; with a PostgreSQL store a SIGKILL mid-job
// resumes after the last checkpoint once the visibility runs out, and the store is emptied; on a
// FIFO queue (no re-send) the store alone carries it across a drain.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { lastCheckpointed, stepsRun } from "../harness/checkpoint-steps.js";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import type { WorkerProcess } from "../harness/worker-process.js";
import { SqsScenario, events } from "./fixture.js";

let scenario: SqsScenario | undefined;
let pool: pg.Pool | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
  await pool?.end();
  pool = undefined;
});


async function finishOn(s: SqsScenario, worker: WorkerProcess): Promise<void> {
  await worker.waitForLine(/"event":"job-finished"/, { timeoutMs: 30_000 });
  await pollUntil(async () => {
    const counts = await s.queue.counts();
    return counts.visible + counts.inFlight + counts.delayed + (await s.queue.counts(s.queue.dlqUrl)).visible === 0;
  }, { message: "queues empty after the job completed" });
  worker.signal("SIGTERM");
  expect((await worker.waitForExit(10_000)).code).toBe(0);
}

describe("sqs: checkpoint and resume across processes", () => {
  for (const drain of ["release", "deadline"] as const) {
    it(`SIGTERM with a deadline shorter than the job (drain "${drain}"): exit 143, the re-sent copy carries the checkpoint, id and attempt; the next worker resumes after it`, async () => {
      const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "ckpt-term", maxReceiveCount: 3 }));
      const env = { waitSeconds: 1, extra: { QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "1000", FIXTURE_CHECKPOINT_DRAIN: drain } };
      const first = s.spawn(env);
      await first.waitForLine(/"event":"ready"/);
      const id = await s.queue.send({ steps: 12, stepMs: 300 });
      await first.waitForLine(/"event":"checkpointed".*"step":3/);
      first.signal("SIGTERM");
      expect((await first.waitForExit(10_000)).code).toBe(143);
      const last = lastCheckpointed(first);
      expect(last).toBeGreaterThanOrEqual(3);
      expect(last).toBeLessThan(12);
      expect(events(first, "job-released")).toMatchObject([{ id, reason: drain === "release" ? "checkpoint" : "deadline", started: true }]);
      // The original was deleted after the copy was sent: one message, visible now.
      await pollUntil(async () => {
        const counts = await s.queue.counts();
        return counts.visible === 1 && counts.inFlight === 0;
      }, { message: "one visible copy" });

      const second = s.spawn({ waitSeconds: 1 });
      await finishOn(s, second);
      // The copy's own receive count is 1 again; the carried attempt keeps the release free.
      expect(events(second, "job-started")).toMatchObject([{ id, from: last, attempt: 1 }]);
      const steps = stepsRun(first, second);
      expect(new Set(steps).size).toBe(12);
      expect(steps.length).toBeLessThanOrEqual(13);
      if (drain === "release") expect(steps.length).toBe(12);
    });
  }

  it("SIGKILL mid-job with a PostgreSQL checkpoint store: after the visibility runs out another worker resumes after the last checkpoint, the store is emptied", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "ckpt-kill" }));
    const table = uniqueName("ckpt").replace(/-/g, "_");
    pool = new pg.Pool({ connectionString: servers().postgres.url, max: 1 });
    // 3 s: renewed every ~1.5 s, so the survivor keeps its lease on a loaded machine (with 2 s a
    // late renewal once lost it there: its run was interrupted, and the drain's exit said 143).
    const env = { waitSeconds: 1, visibilitySeconds: 3, extra: { FIXTURE_CHECKPOINT_STORE: servers().postgres.url, FIXTURE_CHECKPOINT_KEYSPACE: table } };
    const doomed = s.spawn(env);
    await doomed.waitForLine(/"event":"ready"/);
    const id = await s.queue.send({ steps: 12, stepMs: 800 });
    await doomed.waitForLine(/"event":"checkpointed".*"step":2/);
    const survivor = s.spawn(env);
    await survivor.waitForLine(/"event":"ready"/);
    expect((await doomed.kill()).signal).toBe("SIGKILL");
    const last = lastCheckpointed(doomed);
    expect(last).toBeGreaterThanOrEqual(2);
    expect(last).toBeLessThan(12);
    const stored = async () => (await pool!.query(`SELECT data FROM ${table} WHERE key = $1`, [`${s.queue.name}:${id}`])).rows.length;

    await survivor.waitForLine(/"event":"job-started"/, { timeoutMs: 15_000 });
    expect(await stored()).toBe(1);
    await finishOn(s, survivor);
    // The original came back after its visibility: its receive count says the crash cost one.
    expect(events(survivor, "job-started")).toMatchObject([{ id, from: last, attempt: 2 }]);
    const steps = stepsRun(doomed, survivor);
    expect(new Set(steps).size).toBe(12);
    expect(steps.length).toBeLessThanOrEqual(13);
    expect(await stored()).toBe(0);
    await pool.query(`DROP TABLE ${table}`);
  });

  it("FIFO with a PostgreSQL store: no re-send (the group keeps its order), the store alone carries the checkpoint across a SIGTERM at the deadline", async () => {
    const s = (scenario = await SqsScenario.create(servers().fauxqs, { prefix: "ckpt-fifo", fifo: true }));
    const table = uniqueName("ckpt").replace(/-/g, "_");
    pool = new pg.Pool({ connectionString: servers().postgres.url, max: 1 });
    const store = { FIXTURE_CHECKPOINT_STORE: servers().postgres.url, FIXTURE_CHECKPOINT_KEYSPACE: table };
    const first = s.spawn({ waitSeconds: 1, extra: { ...store, QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "1000" } });
    await first.waitForLine(/"event":"ready"/);
    const id = await s.queue.send({ steps: 12, stepMs: 300 }, { group: "g" });
    const behind = await s.queue.send({ n: 2, ms: 0 }, { group: "g" });
    await first.waitForLine(/"event":"checkpointed".*"step":3/);
    first.signal("SIGTERM");
    expect((await first.waitForExit(10_000)).code).toBe(143);
    const last = lastCheckpointed(first);
    expect(last).toBeLessThan(12);

    const second = s.spawn({ waitSeconds: 1, extra: store });
    await pollUntil(() => events(second, "job-completed").length === 2, { timeoutMs: 30_000, message: "both messages of the group completed" });
    // Same message (no copy): the visibility release counted a receive. Its group order held.
    expect(events(second, "job-started")).toMatchObject([{ id, from: last, attempt: 2 }, { id: behind }]);
    expect(new Set(stepsRun(first, second)).size).toBe(12);
    expect((await pool.query(`SELECT 1 FROM ${table}`)).rows.length).toBe(0);
    second.signal("SIGTERM");
    expect((await second.waitForExit(10_000)).code).toBe(0);
    await pool.query(`DROP TABLE ${table}`);
  });
});
