import { describe, expect, it } from "vitest";
import { IllegalStateError, QuiesceError } from "../../src/errors.js";
import { Lifecycle, type StateChange } from "../../src/lifecycle/lifecycle.js";
import { allowedFrom, isAccepting, workerStates, type WorkerState } from "../../src/lifecycle/states.js";

describe("Lifecycle", () => {
  it("walks the legal path and reports each change", () => {
    const changes: StateChange[] = [];
    const lifecycle = new Lifecycle((c) => changes.push(c));
    expect(lifecycle.state).toBe("starting");
    for (const to of ["idle", "busy", "idle", "draining", "stopped"] as const) lifecycle.transition(to, `to ${to}`);
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
      "starting->idle",
      "idle->busy",
      "busy->idle",
      "idle->draining",
      "draining->stopped",
    ]);
    expect(changes[3]?.reason).toBe("to draining");
  });

  const legal = new Set(workerStates.flatMap((to) => allowedFrom[to].map((from) => `${from}->${to}`)));
  const all = workerStates.flatMap((from) => workerStates.map((to) => [from, to] as [WorkerState, WorkerState]));

  it.each(all)("%s -> %s is legal only if the table says so", (from, to) => {
    const lifecycle = new Lifecycle(() => undefined);
    const path: Record<WorkerState, WorkerState[]> = {
      starting: [],
      idle: ["idle"],
      busy: ["idle", "busy"],
      draining: ["draining"],
      stopped: ["draining", "stopped"],
    };
    for (const step of path[from]) lifecycle.transition(step, "setup");
    expect(lifecycle.state).toBe(from);
    if (legal.has(`${from}->${to}`)) {
      lifecycle.transition(to, "test");
      expect(lifecycle.state).toBe(to);
    } else {
      let thrown: unknown;
      try {
        lifecycle.transition(to, "test");
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(IllegalStateError);
      expect(thrown).toBeInstanceOf(QuiesceError);
      expect((thrown as Error).message).toBe(`illegal worker state transition ${from} -> ${to} (test)`);
      expect(lifecycle.state).toBe(from);
    }
  });

  it("tryTransition is a no-op for illegal moves", () => {
    const lifecycle = new Lifecycle(() => undefined);
    expect(lifecycle.tryTransition("busy", "x")).toBe(false);
    expect(lifecycle.tryTransition("idle", "x")).toBe(true);
    expect(lifecycle.tryTransition("idle", "x")).toBe(false);
  });

  it("readiness means accepting work, busy included", () => {
    expect(workerStates.filter(isAccepting)).toEqual(["idle", "busy"]);
  });
});
