import { describe, expect, it } from "vitest";
import { DrainDeadlineError, LeaseLostError } from "../../src/errors.js";
import type { WorkerEvents } from "../../src/events.js";
import { deferred } from "../../src/internal/timers.js";
import { TypedEmitter } from "../../src/internal/typed-emitter.js";
import { LeaseKeeper } from "../../src/lease/lease-keeper.js";
import { noopLogger } from "../../src/logger.js";
import { createCounters } from "../../src/lifecycle/counters.js";
import { InFlight } from "../../src/loop/in-flight.js";
import type { Job } from "../../src/loop/job.js";
import type { JobContext } from "../../src/handler.js";
import { JobRunner } from "../../src/loop/job-runner.js";
import { pollUntil } from "../../src/testing/poll-until.js";
import { scriptedDelivery } from "./scripted-delivery.js";

function setup(handler: (payload: unknown, ctx: JobContext) => unknown) {
  const events = new TypedEmitter<WorkerEvents>(() => noopLogger);
  const seen: string[] = [];
  for (const name of ["job:completed", "job:failed", "job:released", "lease:lost"] as const) {
    events.on(name, (p) => seen.push(`${name}:${p.id}`));
  }
  const inFlight = new InFlight();
  const counters = createCounters();
  const draining = new AbortController();
  const holder: { leases?: LeaseKeeper<Job> } = {};
  const runner = new JobRunner({
    handler: handler as never,
    logger: noopLogger,
    leaseMs: 1000,
    queue: "test",
    checkpointStore: undefined,
    releaseAfterCheckpoint: () => true,
    draining: draining.signal,
    inFlight,
    counters,
    leases: () => holder.leases as LeaseKeeper<Job>,
    emit: (name, payload) => events.emit(name, payload),
    listens: (name) => events.listens(name),
    started: () => undefined,
    finished: () => undefined,
  });
  const leases = new LeaseKeeper(1000, {
    jobs: () => inFlight.values(),
    extended: (n) => (counters.leaseExtensions += n),
    lost: (job, error) => runner.leaseLost(job, error),
  });
  holder.leases = leases;
  return { runner, inFlight, counters, seen, draining, leases };
}

describe("JobRunner settles every delivery exactly once", () => {
  it("acks after success with the handler's return value", async () => {
    const { runner, inFlight, counters, seen } = setup(() => "result");
    const { delivery, calls } = scriptedDelivery("a");
    runner.start(delivery);
    await inFlight.waitForEmpty();
    expect(calls).toEqual(["ack"]);
    expect(counters).toMatchObject({ completed: 1, failed: 0, released: 0 });
    expect(seen).toEqual(["job:completed:a"]);
  });

  it("fails on a throw, a rejection and a synchronous throw alike", async () => {
    const { runner, inFlight, counters } = setup((payload) => {
      const id = (payload as { id: string }).id;
      if (id === "sync") throw new Error("sync");
      if (id === "str") throw "a string";
      return Promise.reject(new Error("async"));
    });
    const deliveries = ["sync", "str", "async"].map((id) => scriptedDelivery(id));
    for (const d of deliveries) runner.start(d.delivery);
    await inFlight.waitForEmpty();
    expect(deliveries.map((d) => d.calls)).toEqual([["fail"], ["fail"], ["fail"]]);
    expect(counters.failed).toBe(3);
  });

  it("fails a delivery that could not be decoded without calling the handler", async () => {
    let called = false;
    const { runner, inFlight } = setup(() => (called = true));
    const { delivery, calls } = scriptedDelivery("bad");
    runner.start({ ...delivery, decodeError: new SyntaxError("Unexpected token") });
    await inFlight.waitForEmpty();
    expect(called).toBe(false);
    expect(calls).toEqual(["fail"]);
  });

  it("a handler finishing as the deadline fires: release wins, the late ack never happens", async () => {
    const finish = deferred<void>();
    let signal: AbortSignal | undefined;
    const { runner, inFlight, counters, seen } = setup(async (_p, ctx) => {
      signal = ctx.signal;
      await finish.promise;
      return "done";
    });
    const { delivery, calls } = scriptedDelivery("race");
    runner.start(delivery);
    const job = [...inFlight.values()][0];
    if (!job) throw new Error("job not registered");
    const released = runner.forceRelease(job);
    finish.resolve();
    await released;
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(["release"]);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(DrainDeadlineError);
    expect(counters).toMatchObject({ completed: 0, released: 1, interrupted: 1 });
    expect(seen).toEqual(["job:released:race"]);
    expect(inFlight.held).toBe(0);
  });

  it("the deadline arriving while the ack is in flight does not release it", async () => {
    const ackGate = deferred<void>();
    const { runner, inFlight, counters } = setup(() => "ok");
    const { delivery, calls } = scriptedDelivery("acking", { ack: () => ackGate.promise });
    runner.start(delivery);
    await new Promise((r) => setImmediate(r));
    const job = [...inFlight.values()][0];
    if (!job) throw new Error("job not registered");
    await runner.forceRelease(job);
    expect(calls).toEqual(["ack"]);
    ackGate.resolve();
    await inFlight.waitForEmpty();
    expect(counters).toMatchObject({ completed: 1, released: 0 });
  });

  it("lease lost during the ack: the job is counted lost, not completed", async () => {
    const { runner, inFlight, counters, seen } = setup(() => "ok");
    const { delivery } = scriptedDelivery("lost", {
      ack: () => Promise.reject(new LeaseLostError("moveToCompleted: lock mismatch")),
    });
    runner.start(delivery);
    await inFlight.waitForEmpty();
    expect(counters).toMatchObject({ completed: 0, leaseLost: 1, interrupted: 1 });
    expect(seen).toEqual(["lease:lost:lost"]);
  });

  it("a failed renewal aborts the handler and blocks its ack", async () => {
    const finish = deferred<void>();
    let signal: AbortSignal | undefined;
    const { runner, inFlight, counters, leases } = setup(async (_p, ctx) => {
      signal = ctx.signal;
      await finish.promise;
    });
    const { delivery, calls } = scriptedDelivery("renew", { extend: () => Promise.reject(new Error("lock is gone")) });
    runner.start(delivery);
    const job = [...inFlight.values()][0];
    if (!job) throw new Error("job not registered");
    await expect(leases.extend(job, 5000)).rejects.toBeInstanceOf(LeaseLostError);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(LeaseLostError);
    finish.resolve();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(["extend"]);
    expect(counters).toMatchObject({ completed: 0, leaseLost: 1 });
    expect(inFlight.held).toBe(0);
  });

  it("the keeper renews due leases in one batch and never overlaps renewals", async () => {
    const gate = deferred<void>();
    let extendCalls = 0;
    const { runner, inFlight, leases, counters } = setup(() => gate.promise);
    const d = scriptedDelivery("slow", {
      extend: async () => {
        extendCalls++;
        await gate.promise;
      },
    });
    runner.start(d.delivery);
    const job = [...inFlight.values()][0];
    if (!job) throw new Error("job not registered");
    job.leaseRenewedAt -= 10_000;
    leases.start();
    const start = Date.now();
    // Several ticks (250 ms each) pass while the first renewal hangs: still one call.
    while (Date.now() - start < 800) await new Promise((r) => setTimeout(r, 50));
    expect(extendCalls).toBe(1);
    gate.resolve();
    await inFlight.waitForEmpty();
    // The renewal and the job end on the same gate; either may land first.
    await pollUntil(() => counters.leaseExtensions > 0, { timeoutMs: 2000 });
    leases.stop();
    expect(counters.leaseExtensions).toBe(1);
    expect(extendCalls).toBe(1);
  });
});
