import { describe, expect, it } from "vitest";
import { DurationWindow } from "../../src/metrics/duration-window.js";

describe("DurationWindow", () => {
  it("has no quantile while empty", () => {
    const w = new DurationWindow(4);
    expect(w.count).toBe(0);
    expect(w.quantile(0.99)).toBeUndefined();
  });

  it("answers nearest-rank quantiles of what it holds", () => {
    const w = new DurationWindow(1000);
    for (let ms = 100; ms >= 1; ms--) w.record(ms); // 1..100, recorded out of order
    expect(w.count).toBe(100);
    expect(w.quantile(0)).toBe(1);
    expect(w.quantile(0.5)).toBe(50);
    expect(w.quantile(0.99)).toBe(99);
    expect(w.quantile(1)).toBe(100);
  });

  it("p99 of fewer than 100 samples is the maximum (conservative for a grace period)", () => {
    const w = new DurationWindow();
    for (const ms of [5, 7000, 10, 12]) w.record(ms);
    expect(w.quantile(0.99)).toBe(7000);
  });

  it("keeps only the most recent `capacity` durations", () => {
    const w = new DurationWindow(3);
    for (const ms of [1000, 2000, 3000, 1, 2]) w.record(ms);
    expect(w.count).toBe(3);
    // 1000 and 2000 fell out; 3000, 1, 2 remain.
    expect(w.quantile(1)).toBe(3000);
    expect(w.quantile(0)).toBe(1);
    w.record(3);
    expect(w.quantile(1)).toBe(3); // 3000 fell out too, and the cached sort was invalidated
  });

  it("drops values that would poison a quantile", () => {
    const w = new DurationWindow(8);
    for (const ms of [Number.NaN, -1, Number.POSITIVE_INFINITY, 5]) w.record(ms);
    expect(w.count).toBe(1);
    expect(w.quantile(0.5)).toBe(5);
    w.record(0);
    expect(w.quantile(0)).toBe(0);
  });

  it("rejects a bad capacity or quantile with a message naming it", () => {
    expect(() => new DurationWindow(0)).toThrow("DurationWindow capacity must be a positive integer, got 0");
    expect(() => new DurationWindow(1.5)).toThrow(RangeError);
    const w = new DurationWindow(2);
    expect(() => w.quantile(1.5)).toThrow("quantile q must be within [0, 1], got 1.5");
    expect(() => w.quantile(Number.NaN)).toThrow(RangeError);
  });
});
