// @servers none
// Real worker processes, real signals: the drain as an orchestrator sees it.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";
import { named, parseEvents, type FixtureEvent } from "./events.js";

const fixture = fileURLToPath(new URL("../fixtures/memory-worker.mjs", import.meta.url));

async function startFixture(env: Record<string, string>): Promise<{ proc: WorkerProcess; port: number }> {
  const proc = spawnWorker(fixture, { env: { QUIESCE_LOG_LEVEL: "warn", ...env } });
  const ready = await proc.waitForLine(/"event":"ready","port":(\d+)/, { stream: "stdout", timeoutMs: 15_000 });
  return { proc, port: Number(ready[1]) };
}

async function exitOf(proc: WorkerProcess, timeoutMs = 20_000) {
  const exit = await proc.waitForExit(timeoutMs);
  return { ...exit, events: parseEvents(exit.stdout) };
}

const snapshotOf = (events: readonly FixtureEvent[]) =>
  named(events, "exit")[0]?.snapshot as { waiting: number; inFlight: number; delayed: number; completed: number };

describe("SIGTERM", () => {
  it("exits 0 at once when idle", async () => {
    const { proc } = await startFixture({});
    const sentAt = Date.now();
    proc.signal("SIGTERM");
    const exit = await exitOf(proc);
    const took = Date.now() - sentAt;
    expect(exit.code).toBe(0);
    expect(took).toBeLessThan(1000);
    expect(named(exit.events, "drained")[0]?.report).toMatchObject({ reason: "SIGTERM", exitCode: 0, path: "graceful" });
  });

  it("with 3 jobs in flight: not ready at once, no new job, the 3 finish, exit 0, nothing lost", async () => {
    const { proc, port } = await startFixture({ FIXTURE_JOBS: "10", FIXTURE_JOB_MS: "1500", QUIESCE_CONCURRENCY: "3" });
    await proc.waitForLine(/"event":"job-started".*"n":2/, { stream: "stdout", timeoutMs: 10_000 });
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    proc.signal("SIGTERM");
    await proc.waitForLine(/"event":"drain-started"/, { stream: "stdout", timeoutMs: 5000 });
    // "At once": the first probe after the drain began already says not ready.
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    const exit = await exitOf(proc);
    expect(exit.code).toBe(0);
    expect(named(exit.events, "job-started")).toHaveLength(3);
    expect(named(exit.events, "job-finished")).toHaveLength(3);
    expect(named(exit.events, "job-saw-draining")).toHaveLength(3);
    expect(named(exit.events, "job-saw-signal")).toHaveLength(0);
    // Nothing lost: 3 completed, the other 7 are still queued, none held.
    expect(snapshotOf(exit.events)).toMatchObject({ completed: 3, waiting: 7, inFlight: 0 });
  });

  it("a job longer than the grace period sees draining, then its signal, and is released before the deadline: exit 143", async () => {
    const { proc } = await startFixture({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "20000", QUIESCE_GRACE_SECONDS: "2" });
    await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 10_000 });
    const sentAt = Date.now();
    proc.signal("SIGTERM");
    const exit = await exitOf(proc);
    const took = Date.now() - sentAt;
    expect(exit.code).toBe(143);
    // Released before the 2 s grace period would end in SIGKILL (deadline = grace − 1 s margin).
    expect(took).toBeLessThan(2000);
    expect(took).toBeGreaterThanOrEqual(900);
    const order = exit.events.map((e) => e.event).filter((e) => e.startsWith("job-"));
    expect(order).toEqual(["job-started", "job-saw-draining", "job-saw-signal", "job-released"]);
    expect(named(exit.events, "job-released")[0]).toMatchObject({ reason: "deadline", started: true });
    expect(named(exit.events, "drained")[0]?.report).toMatchObject({ path: "forced", exitCode: 143, interrupted: 1 });
    expect(snapshotOf(exit.events)).toMatchObject({ waiting: 1, inFlight: 0, completed: 0 });
  });

  it("a second SIGINT escalates: release now, exit 143", async () => {
    const { proc } = await startFixture({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "30000", QUIESCE_GRACE_SECONDS: "60" });
    await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 10_000 });
    proc.signal("SIGINT");
    await proc.waitForLine(/"event":"drain-started"/, { stream: "stdout", timeoutMs: 5000 });
    const secondAt = Date.now();
    proc.signal("SIGINT");
    const exit = await exitOf(proc);
    expect(exit.code).toBe(143);
    expect(Date.now() - secondAt).toBeLessThan(2000);
    expect(named(exit.events, "job-released")[0]).toMatchObject({ reason: "deadline", started: true });
    expect(snapshotOf(exit.events)).toMatchObject({ waiting: 1, inFlight: 0 });
  });
});

describe("job mode", () => {
  it("exit-when-empty exits 0 after the last job", async () => {
    const { proc } = await startFixture({
      FIXTURE_JOBS: "5",
      FIXTURE_JOB_MS: "50",
      QUIESCE_CONCURRENCY: "2",
      QUIESCE_EXIT_WHEN_EMPTY: "true",
      QUIESCE_EMPTY_GRACE_MS: "300",
    });
    const exit = await exitOf(proc);
    expect(exit.code).toBe(0);
    expect(named(exit.events, "job-finished")).toHaveLength(5);
    const lastFinish = exit.events.findLastIndex((e) => e.event === "job-finished");
    const drainStart = exit.events.findIndex((e) => e.event === "drain-started");
    expect(drainStart).toBeGreaterThan(lastFinish);
    expect(named(exit.events, "drained")[0]?.report).toMatchObject({ reason: "empty", queueSeenEmpty: true, exitCode: 0 });
  });

  it("TERM_ON_EMPTY=1 works as in Resque", async () => {
    const { proc } = await startFixture({ FIXTURE_JOBS: "2", FIXTURE_JOB_MS: "10", TERM_ON_EMPTY: "1", QUIESCE_EMPTY_GRACE_MS: "100" });
    const exit = await exitOf(proc);
    expect(exit.code).toBe(0);
    expect(named(exit.events, "job-finished")).toHaveLength(2);
  });

  it("exit-when-empty does not exit while jobs keep coming", async () => {
    const { proc } = await startFixture({
      FIXTURE_JOB_MS: "20",
      FIXTURE_ADD_EVERY_MS: "100",
      QUIESCE_EXIT_WHEN_EMPTY: "1",
      QUIESCE_EMPTY_GRACE_MS: "400",
    });
    // A job arrives every 100 ms, so the 400 ms empty window never completes.
    await pollUntil(() => proc.stdout.split('"job-finished"').length > 15, { timeoutMs: 10_000, message: "15 jobs finished" });
    expect(proc.exit).toBeUndefined();
    proc.signal("SIGTERM");
    const exit = await exitOf(proc);
    // A signal ended a job-mode worker before the queue was seen empty: not a success.
    expect(exit.code).toBe(143);
  });

  it("QUIESCE_MAX_JOBS=1 takes exactly one job", async () => {
    const { proc } = await startFixture({ FIXTURE_JOBS: "5", FIXTURE_JOB_MS: "100", QUIESCE_MAX_JOBS: "1", QUIESCE_CONCURRENCY: "3" });
    const exit = await exitOf(proc);
    expect(exit.code).toBe(0);
    expect(named(exit.events, "job-started")).toHaveLength(1);
    expect(named(exit.events, "job-finished")).toHaveLength(1);
    expect(snapshotOf(exit.events)).toMatchObject({ completed: 1, waiting: 4, inFlight: 0 });
  });
});

describe("bad configuration", () => {
  it.each([
    ["QUIESCE_CONCURRENCY", "abc", 'QUIESCE_CONCURRENCY must be a positive integer, got "abc"'],
    ["QUIESCE_GRACE_SECONDS", "-1", 'QUIESCE_GRACE_SECONDS must be a positive number of seconds, got "-1"'],
    ["QUIESCE_EXIT_WHEN_EMPTY", "perhaps", "QUIESCE_EXIT_WHEN_EMPTY must be a boolean"],
  ])("%s=%s exits 1 with one line naming the variable", async (name, value, message) => {
    const proc = spawnWorker(fixture, { env: { [name]: value } });
    const exit = await proc.waitForExit(15_000);
    expect(exit.code).toBe(1);
    const lines = exit.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(lines[0]).toMatch(/^quiesce: fatal: /);
  });
});

describe("errors that escape a handler", () => {
  it("a stray promise rejection is logged and the worker keeps working", async () => {
    const { proc } = await startFixture({ FIXTURE_JOBS: "3", FIXTURE_JOB_MS: "100", FIXTURE_STRAY: "reject", QUIESCE_LOG_LEVEL: "error" });
    await proc.waitForLine(/"event":"job-finished".*"n":2/, { stream: "stdout", timeoutMs: 10_000 });
    expect(proc.exit).toBeUndefined();
    expect(proc.stderr).toContain("unhandled promise rejection (ignored)");
    proc.signal("SIGTERM");
    expect((await exitOf(proc)).code).toBe(0);
  });

  it("an uncaught exception drains at once: other jobs in flight are released, exit 1 with one line why", async () => {
    const { proc } = await startFixture({ FIXTURE_JOBS: "2", FIXTURE_JOB_MS: "20000", FIXTURE_STRAY: "throw", QUIESCE_CONCURRENCY: "2" });
    const exit = await exitOf(proc);
    expect(exit.code).toBe(1);
    expect(exit.lastStderrLine).toBe("quiesce: fatal: stray throw");
    expect(named(exit.events, "drained")[0]?.report).toMatchObject({ reason: "uncaughtException", exitCode: 1 });
    // Both jobs went back to the queue at once instead of waiting for their leases to expire.
    expect(snapshotOf(exit.events)).toMatchObject({ waiting: 2, inFlight: 0, completed: 0 });
  });
});
