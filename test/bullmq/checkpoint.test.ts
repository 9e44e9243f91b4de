// @servers redis
// Checkpoint and resume with real worker processes on a real Redis: a long job interrupted by a
// SIGTERM with a deadline shorter than the job, and by a SIGKILL, resumes on another worker after
// its last checkpoint, and leaves no checkpoint behind once completed.
import { afterEach, describe, expect, it } from "vitest";
import { lastCheckpointed, stepsRun } from "../harness/checkpoint-steps.js";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { BullmqScenario, events } from "./fixture.js";
import type { WorkerProcess } from "../harness/worker-process.js";

let scenario: BullmqScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

const twelveSteps = { steps: 12, stepMs: 300 };
const of = (worker: WorkerProcess, event: string) => events(worker).filter((e) => e.event === event);

/** The job's own hash still holds a checkpoint in its progress field. */
async function checkpointLeft(s: BullmqScenario, id: string): Promise<boolean> {
  const progress = await s.admin.hget(`bull:${s.name}:${id}`, "progress");
  return progress !== null && progress.includes("quiesceCheckpoint");
}

async function finishOn(s: BullmqScenario, worker: WorkerProcess, id: string) {
  await pollUntil(async () => (await s.counts()).completed === 1, { timeoutMs: 30_000, message: "job completed by the second worker" });
  const job = await s.queue.getJob(id);
  worker.signal("SIGTERM");
  expect((await worker.waitForExit(10_000)).code).toBe(0);
  return job!;
}

describe("bullmq: checkpoint and resume across processes", () => {
  for (const drain of ["release", "deadline"] as const) {
    it(`SIGTERM with a deadline shorter than the job (drain "${drain}"): exit 143, the next worker resumes after the last checkpoint, no attempt used`, async () => {
      const s = (scenario = new BullmqScenario(servers().redis.port, uniqueName("ckpt-term")));
      // Grace 2 s minus a 1 s margin: released 1 s after SIGTERM, the job needs 3.6 s.
      const env = { extra: { QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "1000", FIXTURE_CHECKPOINT_DRAIN: drain } };
      const first = s.spawn(env);
      await first.waitForLine(/"event":"ready"/);
      const added = await s.queue.add("long", twelveSteps, { attempts: 3 });
      const id = added.id as string;
      await first.waitForLine(/"event":"checkpointed".*"step":3/);
      first.signal("SIGTERM");
      expect((await first.waitForExit(10_000)).code).toBe(143);
      const last = lastCheckpointed(first);
      expect(last).toBeGreaterThanOrEqual(3);
      expect(last).toBeLessThan(12);
      expect(of(first, "job-released")).toMatchObject([{ id, reason: drain === "release" ? "checkpoint" : "deadline", started: true }]);
      // Waiting again with the checkpoint in its hash, the producer's data as it was.
      const waiting = await s.queue.getJob(id);
      expect(waiting?.data).toEqual(twelveSteps);
      expect(await checkpointLeft(s, id)).toBe(true);
      expect(waiting?.attemptsMade).toBe(0);

      const second = s.spawn();
      const job = await finishOn(s, second, id);
      expect(of(second, "job-started")).toMatchObject([{ id, from: last, attempt: 1 }]);
      const steps = stepsRun(first, second);
      // Every step ran, and at most the one in progress at the interruption ran twice.
      expect(new Set(steps).size).toBe(12);
      expect(steps.length).toBeLessThanOrEqual(13);
      if (drain === "release") expect(steps.length).toBe(12);
      expect(job.attemptsMade).toBe(1);
      expect(job.returnvalue).toEqual({ steps: 12, by: second.pid });
      expect(await checkpointLeft(s, id)).toBe(false);
    });
  }

  it("SIGKILL mid-job: after the lock expires another worker resumes after the last checkpoint", async () => {
    const s = (scenario = new BullmqScenario(servers().redis.port, uniqueName("ckpt-kill")));
    const fast = { lockMs: 1_000, stalledMs: 500 };
    const doomed = s.spawn(fast);
    await doomed.waitForLine(/"event":"ready"/);
    // Slower steps than above: the job must outlast the survivor's start-up on a loaded machine.
    const added = await s.queue.add("long", { steps: 12, stepMs: 800 });
    const id = added.id as string;
    await doomed.waitForLine(/"event":"checkpointed".*"step":2/);
    const survivor = s.spawn(fast);
    await survivor.waitForLine(/"event":"ready"/);
    expect((await doomed.kill()).signal).toBe("SIGKILL");
    const last = lastCheckpointed(doomed);
    expect(last).toBeLessThan(12);

    const job = await finishOn(s, survivor, id);
    expect(of(survivor, "job-started")).toMatchObject([{ id, from: last }]);
    const steps = stepsRun(doomed, survivor);
    expect(new Set(steps).size).toBe(12);
    expect(steps.length).toBeLessThanOrEqual(13);
    expect(job.stalledCounter).toBe(1);
    expect(job.attemptsMade).toBe(1);
    expect(await checkpointLeft(s, id)).toBe(false);
  });
});
