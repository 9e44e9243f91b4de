import { describe, expect, it } from "vitest";
import {
  annotationDiff,
  applyAnnotationPatch,
  COST_STEP_MS,
  DELETION_COST,
  deletionCost,
  desiredAnnotations,
  DO_NOT_DISRUPT,
  MAX_COST_EXPONENT,
  nextCostChangeAfter,
  SAFE_TO_EVICT,
  STATE,
} from "../../src/kubernetes/annotations.js";

const both = { safeToEvict: true, doNotDisrupt: true };
const step = COST_STEP_MS;

describe("deletionCost", () => {
  it("is 1 in the first step, then doubles as the spell doubles", () => {
    expect(deletionCost(0)).toBe(1);
    expect(deletionCost(step - 1)).toBe(1);
    expect(deletionCost(step)).toBe(2);
    expect(deletionCost(2 * step - 1)).toBe(2);
    expect(deletionCost(2 * step)).toBe(4);
    expect(deletionCost(3 * step)).toBe(4);
    expect(deletionCost(4 * step)).toBe(8);
    expect(deletionCost(7 * step)).toBe(8);
    expect(deletionCost(8 * step)).toBe(16);
  });

  it("is capped far below int32", () => {
    const cap = 2 ** MAX_COST_EXPONENT;
    expect(deletionCost(10 * 365 * 24 * 3600_000)).toBe(cap);
    expect(cap).toBeLessThan(2 ** 31 - 1);
    expect(nextCostChangeAfter(10 * 365 * 24 * 3600_000)).toBeUndefined();
  });

  it("changes O(log T) times over a spell of length T", () => {
    let changes = 0;
    let last = deletionCost(0);
    const hours = 24;
    for (let t = 0; t <= hours * 3600_000; t += 1000) {
      const cost = deletionCost(t);
      if (cost !== last) changes++;
      last = cost;
    }
    // 1 day = 1440 steps: 1→2→4→…→2048 is 11 changes.
    expect(changes).toBe(Math.ceil(Math.log2((hours * 3600_000) / step)) );
  });

  it("nextCostChangeAfter lands exactly on the next change", () => {
    for (const spell of [0, step / 2, step, 1.5 * step, 5 * step, 100 * step]) {
      const next = nextCostChangeAfter(spell);
      expect(next).toBeGreaterThan(spell);
      expect(deletionCost(next! - 1)).toBe(deletionCost(spell));
      expect(deletionCost(next!)).toBe(2 * deletionCost(spell));
    }
  });
});

describe("desiredAnnotations", () => {
  it("busy: state, a positive string cost, both eviction guards", () => {
    expect(desiredAnnotations("busy", 4, both)).toEqual({
      [STATE]: "busy",
      [DELETION_COST]: "4",
      [SAFE_TO_EVICT]: "false",
      [DO_NOT_DISRUPT]: "true",
    });
  });

  it("idle: removes cost and guards (null), says idle", () => {
    expect(desiredAnnotations("idle", 0, both)).toEqual({
      [STATE]: "idle",
      [DELETION_COST]: null,
      [SAFE_TO_EVICT]: null,
      [DO_NOT_DISRUPT]: null,
    });
  });

  it("switched-off guards are never touched, busy or idle", () => {
    const none = { safeToEvict: false, doNotDisrupt: false };
    expect(Object.keys(desiredAnnotations("busy", 1, none)).sort()).toEqual([DELETION_COST, STATE].sort());
    expect(Object.keys(desiredAnnotations("idle", 0, none)).sort()).toEqual([DELETION_COST, STATE].sort());
    expect(desiredAnnotations("busy", 1, { safeToEvict: false, doNotDisrupt: true })).not.toHaveProperty(SAFE_TO_EVICT);
  });

  it("draining only says so", () => {
    expect(desiredAnnotations("draining", 0, both)).toEqual({ [STATE]: "draining" });
  });
});

describe("annotationDiff / applyAnnotationPatch", () => {
  it("nothing to write when the pod already says it", () => {
    const current = { [STATE]: "idle", other: "x" };
    expect(annotationDiff(current, desiredAnnotations("idle", 0, both))).toEqual({});
  });

  it("only the keys that differ; removals only for keys present", () => {
    const current = { [STATE]: "busy", [DELETION_COST]: "2", [SAFE_TO_EVICT]: "false", keep: "me" };
    expect(annotationDiff(current, desiredAnnotations("idle", 0, both))).toEqual({
      [STATE]: "idle",
      [DELETION_COST]: null,
      [SAFE_TO_EVICT]: null,
    });
    expect(annotationDiff(current, desiredAnnotations("busy", 4, both))).toEqual({ [DELETION_COST]: "4", [DO_NOT_DISRUPT]: "true" });
  });

  it("writes everything when the pod's annotations are unknown", () => {
    const desired = desiredAnnotations("idle", 0, both);
    expect(annotationDiff(undefined, desired)).toEqual(desired);
  });

  it("apply follows merge-patch semantics", () => {
    expect(applyAnnotationPatch({ a: "1", b: "2" }, { a: null, c: "3" })).toEqual({ b: "2", c: "3" });
    expect(applyAnnotationPatch(undefined, { a: "1", b: null })).toEqual({ a: "1" });
  });
});
