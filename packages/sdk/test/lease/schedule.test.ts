import { describe, expect, it } from "vitest";
import { isDue, renewAfterMs, tickIntervalMs } from "../../src/lease/schedule.js";

describe("lease schedule", () => {
  it("renews at half the lease", () => {
    expect(renewAfterMs(30_000)).toBe(15_000);
    expect(isDue(1000 + 14_999, 1000, 30_000)).toBe(false);
    expect(isDue(1000 + 15_000, 1000, 30_000)).toBe(true);
  });

  it("ticks often enough that a renewal is never later than three quarters of the lease", () => {
    for (const lease of [100, 1000, 5000, 30_000, 600_000]) {
      const worst = renewAfterMs(lease) + tickIntervalMs(lease);
      if (lease <= 20_000) expect(worst).toBeLessThanOrEqual(lease * 0.75 + 20);
      expect(tickIntervalMs(lease)).toBeGreaterThanOrEqual(20);
      expect(tickIntervalMs(lease)).toBeLessThanOrEqual(5000);
    }
  });
});
