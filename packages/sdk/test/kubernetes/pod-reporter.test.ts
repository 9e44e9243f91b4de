import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AnnotationPatch } from "../../src/kubernetes/annotations.js";
import { desiredAnnotations, STATE } from "../../src/kubernetes/annotations.js";
import { PodReporter, type AnnotationWriter } from "../../src/kubernetes/pod-reporter.js";
import type { PodSnapshot } from "../../src/kubernetes/pod-api.js";
import { apiException, recordingLogger } from "./helpers.js";

const switches = { safeToEvict: true, doNotDisrupt: true };
const idle = desiredAnnotations("idle", 0, switches);
const busy = (cost = 1) => desiredAnnotations("busy", cost, switches);
const draining = desiredAnnotations("draining", 0, switches);

interface Call {
  patch: AnnotationPatch;
  at: number;
  settle(outcome?: Error): void;
}

/** A writer whose calls stay pending until the test settles them, so overlap is observable. */
function scriptedWriter(autoSettle = true) {
  const calls: Call[] = [];
  let pod: Record<string, string> = {};
  let inFlight = 0;
  let maxInFlight = 0;
  const writer: AnnotationWriter = {
    patchAnnotations(patch) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<PodSnapshot>((resolve, reject) => {
        const call: Call = {
          patch,
          at: Date.now(),
          settle(outcome) {
            inFlight--;
            if (outcome) return reject(outcome);
            for (const [k, v] of Object.entries(patch)) {
              if (v === null) delete pod[k];
              else pod[k] = v;
            }
            pod = { ...pod };
            resolve({ annotations: pod, terminationGracePeriodSeconds: 30, deletionTimestamp: undefined, resourceVersion: "1" });
          },
        };
        calls.push(call);
        if (autoSettle) queueMicrotask(() => call.settle());
      });
    },
  };
  return { writer, calls, pod: () => pod, maxInFlight: () => maxInFlight };
}

const tuning = { minIntervalMs: 1000, jitterMs: 0, backoffInitialMs: 1000, backoffMaxMs: 8000, random: () => 0.5 };

describe("PodReporter", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes only what differs, nothing when the pod already says it", async () => {
    const w = scriptedWriter();
    const r = new PodReporter(w.writer, recordingLogger(), { [STATE]: "idle", other: "x" }, tuning);
    r.set(idle);
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.calls).toHaveLength(0);
    r.set(busy());
    await vi.advanceTimersByTimeAsync(0);
    expect(w.calls.map((c) => c.patch)).toEqual([busy()]);
    expect(r.writes()).toEqual({ ok: 1, failed: 0 });
  });

  it("one write in flight at a time; the newest desired state is written next, intermediate ones skipped", async () => {
    const w = scriptedWriter(false);
    const r = new PodReporter(w.writer, recordingLogger(), {}, tuning);
    r.set(busy(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.calls).toHaveLength(1);
    r.set(busy(2));
    r.set(idle);
    r.set(busy(4));
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.calls).toHaveLength(1); // still in flight: nothing else starts
    w.calls[0]!.settle();
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.calls).toHaveLength(2);
    expect(w.calls[1]!.patch).toEqual({ "controller.kubernetes.io/pod-deletion-cost": "4" });
    expect(w.maxInFlight()).toBe(1);
  });

  it("never writes closer than the minimum interval (plus jitter), however fast the flips", async () => {
    const w = scriptedWriter();
    const r = new PodReporter(w.writer, recordingLogger(), {}, { ...tuning, jitterMs: 400, random: Math.random });
    for (let i = 0; i < 200; i++) {
      r.set(i % 2 ? idle : busy());
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(3000);
    const gaps = w.calls.slice(1).map((c, i) => c.at - w.calls[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    expect(w.calls.length).toBeLessThanOrEqual(Math.ceil((200 * 50) / 1000) + 1);
  });

  it("an urgent write neither waits for the interval nor starts one; ordinary writes keep theirs", async () => {
    const w = scriptedWriter();
    const r = new PodReporter(w.writer, recordingLogger(), {}, tuning);
    r.set(busy());
    await vi.advanceTimersByTimeAsync(100);
    r.set(idle, true); // 100 ms after the busy write: out at once
    await vi.advanceTimersByTimeAsync(0);
    expect(w.calls.map((c) => c.at - w.calls[0]!.at)).toEqual([0, 100]);
    r.set(busy()); // waits for the interval of the last ordinary write, not of the urgent one
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.calls.map((c) => c.at - w.calls[0]!.at)).toEqual([0, 100, 1000]);
    // Flapping with urgent idle marks: busy writes still ≥ 1 s apart, at most 2 writes a second.
    for (let i = 0; i < 100; i++) {
      r.set(i % 2 ? idle : busy(), i % 2 === 1);
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(3000);
    const busyAt = w.calls.filter((c) => c.patch[STATE] === "busy").map((c) => c.at);
    expect(Math.min(...busyAt.slice(1).map((t, i) => t - busyAt[i]!))).toBeGreaterThanOrEqual(1000);
    expect(w.calls.length - 3).toBeLessThanOrEqual(2 * Math.ceil((100 * 50) / 1000) + 2);
  });

  it("draining skips the interval", async () => {
    const w = scriptedWriter();
    const r = new PodReporter(w.writer, recordingLogger(), {}, tuning);
    r.set(busy());
    await vi.advanceTimersByTimeAsync(10);
    r.set(draining, true);
    await vi.advanceTimersByTimeAsync(10);
    expect(w.calls.map((c) => c.patch[STATE])).toEqual(["busy", "draining"]);
  });

  it("403: one warning, off for good; the caller never sees an error", async () => {
    const w = scriptedWriter(false);
    const log = recordingLogger();
    const r = new PodReporter(w.writer, log, {}, tuning);
    r.set(busy());
    await vi.advanceTimersByTimeAsync(0);
    w.calls[0]!.settle(apiException(403, { kind: "Status", reason: "Forbidden", message: "forbidden", code: 403 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(r.state).toBe("off");
    for (let i = 0; i < 10; i++) {
      r.set(i % 2 ? idle : busy());
      await vi.advanceTimersByTimeAsync(2000);
    }
    expect(w.calls).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(r.writes()).toEqual({ ok: 0, failed: 1 });
  });

  it("429: waits the Retry-After before the next write", async () => {
    const w = scriptedWriter(false);
    const r = new PodReporter(w.writer, recordingLogger(), {}, tuning);
    r.set(busy());
    await vi.advanceTimersByTimeAsync(0);
    w.calls[0]!.settle(apiException(429, "", { "retry-after": "5" }));
    await vi.advanceTimersByTimeAsync(4900);
    expect(w.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(w.calls).toHaveLength(2);
    expect(w.calls[1]!.at - w.calls[0]!.at).toBeGreaterThanOrEqual(5000);
  });

  it("5xx/network: exponential backoff, one warning per outage, an info when it recovers", async () => {
    const w = scriptedWriter(false);
    const log = recordingLogger();
    const r = new PodReporter(w.writer, log, {}, tuning);
    r.set(busy());
    const waits: number[] = [];
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 4; i++) {
      // The call hangs a while before failing, so the wait is measured from the failure.
      await vi.advanceTimersByTimeAsync(1500);
      const failedAt = Date.now();
      w.calls.at(-1)!.settle(apiException(503, ""));
      const before = w.calls.length;
      while (w.calls.length === before) await vi.advanceTimersByTimeAsync(10);
      waits.push(w.calls.at(-1)!.at - failedAt);
    }
    // random() = 0.5 → 75% of 1, 2, 4, 8 s.
    expect(waits).toEqual([750, 1500, 3000, 6000]);
    w.calls.at(-1)!.settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(log.lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === "info")).toHaveLength(1);
    expect(r.writes()).toEqual({ ok: 1, failed: 4 });
    expect(r.state).toBe("on");
  });

  it("stop(): a draining mark queued behind a write in flight still goes out, within the grace", async () => {
    const w = scriptedWriter(false);
    const r = new PodReporter(w.writer, recordingLogger(), {}, tuning);
    r.set(idle);
    await vi.advanceTimersByTimeAsync(0);
    r.set(draining, true); // queued: the idle write is in flight
    const stopped = r.stop(500);
    await vi.advanceTimersByTimeAsync(50);
    w.calls[0]!.settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(w.calls.map((c) => c.patch[STATE])).toEqual(["idle", "draining"]);
    w.calls[1]!.settle();
    await stopped;
    expect(w.pod()[STATE]).toBe("draining");
    r.set(busy());
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.calls).toHaveLength(2);
  });

  it("stop(): no further writes; a hung write is abandoned promptly", async () => {
    const calls: AbortSignal[] = [];
    const writer: AnnotationWriter = {
      patchAnnotations: (_p, _t, signal) =>
        new Promise((_resolve, reject) => {
          calls.push(signal!);
          signal!.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })));
        }),
    };
    const r = new PodReporter(writer, recordingLogger(), {}, tuning);
    r.set(busy());
    await vi.advanceTimersByTimeAsync(0);
    const stopped = r.stop(250);
    await vi.advanceTimersByTimeAsync(250);
    await stopped;
    expect(calls[0]!.aborted).toBe(true);
    r.set(idle);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(1);
  });
});
