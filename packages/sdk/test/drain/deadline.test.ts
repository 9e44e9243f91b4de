import { describe, expect, it } from "vitest";
import { Deadline } from "../../src/drain/deadline.js";
import { EmptyWatcher } from "../../src/drain/exit-when-empty.js";
import { installSignalHandlers, type SignalAction } from "../../src/drain/signals.js";
import { noopLogger } from "../../src/logger.js";

describe("Deadline", () => {
  it("fires once at its time, and only moves earlier", async () => {
    let fired = 0;
    const start = Date.now();
    const deadline = new Deadline(start + 10_000, () => fired++);
    expect(deadline.shortenTo(start + 20_000)).toBe(false);
    expect(deadline.at).toBe(start + 10_000);
    expect(deadline.shortenTo(start + 100)).toBe(true);
    await deadline.fired;
    expect(Date.now() - start).toBeGreaterThanOrEqual(95);
    expect(Date.now() - start).toBeLessThan(2000);
    deadline.fireNow();
    expect(fired).toBe(1);
    expect(deadline.shortenTo(start)).toBe(false);
  });

  it("fireNow escalates immediately and cancel stops the timer", async () => {
    const late = new Deadline(Date.now() + 60_000, () => undefined);
    late.fireNow();
    await late.fired;
    expect(late.hasFired).toBe(true);
    const cancelled = new Deadline(Date.now() + 10, () => {
      throw new Error("must not fire");
    });
    cancelled.cancel();
    await new Promise((r) => setTimeout(r, 50));
    expect(cancelled.hasFired).toBe(false);
  });
});

describe("EmptyWatcher", () => {
  it("declares empty only after the grace window with nothing received, held or waiting", async () => {
    let waiting = 0;
    const watcher = new EmptyWatcher(100, async () => ({ waiting }), noopLogger);
    expect(await watcher.observe(0, 0)).toBe(false);
    expect(watcher.remainingMs(Date.now())).toBeGreaterThan(0);
    // Work seen in the middle restarts the window.
    expect(await watcher.observe(1, 0)).toBe(false);
    expect(watcher.remainingMs(Date.now())).toBeNull();
    expect(await watcher.observe(0, 1)).toBe(false);
    waiting = 3;
    expect(await watcher.observe(0, 0)).toBe(false);
    expect(watcher.remainingMs(Date.now())).toBeNull();
    waiting = 0;
    expect(await watcher.observe(0, 0)).toBe(false);
    await new Promise((r) => setTimeout(r, 120));
    expect(await watcher.observe(0, 0)).toBe(true);
  });

  it("never calls a queue empty when its depth cannot be read", async () => {
    const watcher = new EmptyWatcher(0, () => Promise.reject(new Error("NOAUTH")), noopLogger);
    expect(await watcher.observe(0, 0)).toBe(false);
    expect(await watcher.observe(0, 0)).toBe(false);
  });
});

describe("installSignalHandlers", () => {
  it("maps the first, second and third signal to drain, force and exit, and uninstalls", () => {
    const actions: SignalAction[] = [];
    const before = process.listenerCount("SIGTERM");
    const beforeInt = process.listenerCount("SIGINT");
    const uninstall = installSignalHandlers((_signal, action) => actions.push(action));
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    process.emit("SIGTERM", "SIGTERM");
    process.emit("SIGINT", "SIGINT");
    process.emit("SIGTERM", "SIGTERM");
    expect(actions).toEqual(["drain", "force", "exit"]);
    uninstall();
    expect(process.listenerCount("SIGTERM")).toBe(before);
    expect(process.listenerCount("SIGINT")).toBe(beforeInt);
  });
});
