import { describe, expect, it } from "vitest";
import type { CleanupStep } from "../../src/drain/cleanup.js";
import { DrainController, type DrainContext } from "../../src/drain/drain-controller.js";
import { deferred } from "../../src/internal/timers.js";
import { noopLogger, type Logger } from "../../src/logger.js";

interface Probe {
  readonly ctx: DrainContext;
  readonly calls: string[];
  readonly warnings: string[];
  /** Resolve to let the graceful wait end (every job settled). */
  settle(): void;
}

function probe(overrides: Partial<DrainContext> = {}, totals = { completed: 2, failed: 1, released: 0, interrupted: 0 }): Probe {
  const calls: string[] = [];
  const warnings: string[] = [];
  const idle = deferred<void>();
  const logger: Logger = { ...noopLogger, warn: (_f: unknown, msg?: string) => void warnings.push(msg ?? ""), child: () => logger };
  const steps: CleanupStep[] = [
    { name: "first", run: () => void calls.push("cleanup:first") },
    { name: "second", run: () => void calls.push("cleanup:second") },
  ];
  const ctx: DrainContext = {
    logger,
    exitWhenEmpty: false,
    safetyMarginMs: 1000,
    graceMs: () => 60_000,
    begin: (reason) => void calls.push(`begin:${reason}`),
    pauseSource: async () => void calls.push("pause"),
    idle: () => idle.promise.then(() => void calls.push("idle")),
    forceRelease: async () => {
      calls.push("forceRelease");
      idle.resolve();
    },
    cleanupSteps: () => steps,
    totals: () => totals,
    queueSeenEmpty: () => false,
    ...overrides,
  };
  return { ctx, calls, warnings, settle: () => idle.resolve() };
}

describe("DrainController", () => {
  it("begins synchronously with the deadline armed, before anything is awaited", () => {
    const p = probe();
    const controller = new DrainController(p.ctx);
    expect(controller.started).toBe(false);
    expect(controller.deadline).toBeNull();
    const before = Date.now();
    void controller.drain({ reason: "SIGTERM", signal: true });
    expect(controller.started).toBe(true);
    // Entering draining and pausing the source both happen before the first await.
    expect(p.calls).toEqual(["begin:SIGTERM", "pause"]);
    // grace 60 s − margin 1 s from the drain's start
    expect(controller.deadline).toBeGreaterThanOrEqual(before + 59_000);
    expect(controller.deadline).toBeLessThanOrEqual(Date.now() + 59_000);
    p.settle();
  });

  it("is memoized: every trigger joins the first drain, which begins once", async () => {
    const p = probe();
    const controller = new DrainController(p.ctx);
    const first = controller.drain({ reason: "api" });
    const second = controller.drain({ reason: "SIGTERM", signal: true });
    expect(second).toBe(first);
    p.settle();
    const report = await first;
    expect(report.reason).toBe("api");
    expect(p.calls.filter((c) => c.startsWith("begin"))).toEqual(["begin:api"]);
  });

  it("graceful path: waits for idle, then runs the cleanup steps in order, and reports totals", async () => {
    const p = probe();
    const controller = new DrainController(p.ctx);
    const drained = controller.drain({ reason: "api" });
    await Promise.resolve();
    expect(p.calls).not.toContain("cleanup:first");
    p.settle();
    const report = await drained;
    expect(p.calls).toEqual(["begin:api", "pause", "idle", "cleanup:first", "cleanup:second"]);
    expect(report).toMatchObject({ reason: "api", exitCode: 0, path: "graceful", completed: 2, failed: 1, released: 0, interrupted: 0, cleanupErrors: [] });
    expect(report.error).toBeUndefined();
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("forceful path: at the deadline it releases what still runs, and says so", async () => {
    const p = probe({ graceMs: () => 1100, safetyMarginMs: 1000 }, { completed: 0, failed: 0, released: 1, interrupted: 1 });
    const controller = new DrainController(p.ctx);
    const report = await controller.drain({ reason: "SIGTERM", signal: true });
    expect(p.calls).toEqual(["begin:SIGTERM", "pause", "forceRelease", "idle", "cleanup:first", "cleanup:second"]);
    expect(report).toMatchObject({ path: "forced", exitCode: 143, interrupted: 1 });
    expect(p.warnings.some((w) => w.includes("forceful path"))).toBe(true);
  });

  it("force() (a second signal) releases at once instead of waiting for the deadline", async () => {
    const p = probe();
    const controller = new DrainController(p.ctx);
    const drained = controller.drain({ reason: "SIGTERM", signal: true });
    const forced = controller.force({ reason: "SIGTERM", signal: true });
    expect(forced).toBe(drained);
    const report = await drained;
    expect(report.path).toBe("forced");
    expect(p.calls).toContain("forceRelease");
  });

  it("force() before any drain starts a drain that is forced from the start", async () => {
    const p = probe();
    const report = await new DrainController(p.ctx).force({ reason: "uncaughtException", fatal: new Error("kaboom") });
    expect(report).toMatchObject({ path: "forced", exitCode: 1, error: "kaboom", reason: "uncaughtException" });
  });

  it("moves the deadline earlier to the pod's deletion time less the margin, never later", async () => {
    const deletion = Date.now() + 5000;
    const p = probe({ podDeletionAt: async () => deletion });
    const controller = new DrainController(p.ctx);
    const drained = controller.drain({ reason: "SIGTERM", signal: true });
    const initial = controller.deadline;
    await expect.poll(() => controller.deadline).toBe(deletion - 1000);
    expect(controller.deadline).toBeLessThan(initial ?? 0);
    p.settle();
    await drained;

    const late = probe({ podDeletionAt: async () => Date.now() + 3_600_000 });
    const unmoved = new DrainController(late.ctx);
    const lateDrain = unmoved.drain({ reason: "SIGTERM" });
    const lateInitial = unmoved.deadline;
    await Promise.resolve();
    await Promise.resolve();
    expect(unmoved.deadline).toBe(lateInitial);
    late.settle();
    await lateDrain;
  });

  it("keeps the grace period when the deletion lookup fails, and stops the lookup once drained", async () => {
    let lookupSignal: AbortSignal | undefined;
    const p = probe({
      podDeletionAt: (signal) => {
        lookupSignal = signal;
        return Promise.reject(new Error("API down"));
      },
    });
    const controller = new DrainController(p.ctx);
    const drained = controller.drain({ reason: "SIGTERM" });
    const initial = controller.deadline;
    await expect.poll(() => p.warnings.length).toBeGreaterThan(0);
    expect(p.warnings[0]).toMatch(/deletion deadline/);
    expect(controller.deadline).toBe(initial);
    p.settle();
    await drained;
    expect(lookupSignal?.aborted).toBe(true);
  });

  it("a failing pause is logged and the drain goes on", async () => {
    const p = probe({ pauseSource: () => Promise.reject(new Error("broker gone")) });
    const controller = new DrainController(p.ctx);
    const drained = controller.drain({ reason: "api" });
    p.settle();
    const report = await drained;
    expect(report.exitCode).toBe(0);
    expect(p.warnings).toContain("pausing the source failed");
  });

  it("reports failing cleanup steps and still runs the others", async () => {
    const ran: string[] = [];
    const p = probe({
      cleanupSteps: () => [
        { name: "source q", run: () => Promise.reject(new Error("socket closed")) },
        { name: "db", run: () => void ran.push("db") },
      ],
    });
    const controller = new DrainController(p.ctx);
    const drained = controller.drain({ reason: "api" });
    p.settle();
    const report = await drained;
    expect(report.cleanupErrors).toEqual(["source q: socket closed"]);
    expect(ran).toEqual(["db"]);
  });

  it("exit-when-empty: a signal before the queue was seen empty exits 143, after it 0", async () => {
    const early = probe({ exitWhenEmpty: true, queueSeenEmpty: () => false });
    const earlyDrain = new DrainController(early.ctx).drain({ reason: "SIGTERM", signal: true });
    early.settle();
    expect((await earlyDrain).exitCode).toBe(143);

    const late = probe({ exitWhenEmpty: true, queueSeenEmpty: () => true });
    const lateDrain = new DrainController(late.ctx).drain({ reason: "SIGTERM", signal: true });
    late.settle();
    const report = await lateDrain;
    expect(report).toMatchObject({ exitCode: 0, queueSeenEmpty: true });
  });
});
